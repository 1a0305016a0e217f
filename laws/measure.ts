/**
 * The measures behind each derivative law: pure functions from one case (an input and a
 * seed for the random direction and cotangent) to an error. A law holds for the case when
 * its error is within tolerance ({@link ./predicates}); the runners apply fast-check.
 *
 * Functions under test take one argument, a tree of tensors, and return one tensor. A
 * non-scalar output y is reduced with a random cotangent c to the scalar ⟨c, y⟩, so every
 * output element takes part in every check.
 *
 * @module
 */
import { jvp, vjp } from '../src/ad/api.js'
import { fromBuffer } from '../src/tensor.js'
import type { Tensor } from '../src/tensor.js'
import { oneSidedGap, ridders } from './finite-difference.js'
import { relativeError } from './tolerance.js'
import { dot, fromVector, maxAbs, norm, toVector, unitVector } from './vector.js'

/** A function the laws can check. */
export type Differentiable<T> = (x: T) => Tensor

/** An analytic and a numerical quantity, and the error between them. */
export interface Measure {
  readonly error: number
  readonly analytic: number
  readonly numeric: number
  /** Ridders' own error estimate of the numerical side, relative like `error` (finite-difference measures only). */
  readonly numericError?: number
  /** How far the one-sided differences (f(x+hv) − f(x))/h and (f(x) − f(x−hv))/h disagree, relative like `error`: large at a kink. */
  readonly kink?: number
}

/** Step of the one-sided kink probe: small enough to resolve a kink, large enough to stay above rounding. */
const kinkStep = 1e-6

/** Relative disagreement of the one-sided difference quotients of g at 0. */
const kinkOf = (g: (t: number) => ArrayLike<number>, scale: number): number => relativeError(oneSidedGap(g, kinkStep), 0, scale)

/** Options shared by the measures. */
export interface MeasureOptions {
  /** First finite-difference step (default 0.01; Ridders shrinks it); x ± h·v must stay inside f's domain and clear of kinks. */
  readonly step?: number
}

const cotangentFor = (y: Tensor, seed: number): Tensor =>
  fromBuffer(unitVector(y.size, seed ^ 0x5bd1e995), y.shape, { dtype: y.dtype })

const along = <T>(input: T, x: Float64Array, v: Float64Array, t: number): T =>
  fromVector(input, x.map((xi, i) => xi + t * v[i]!))

/** Worst element of a vector comparison, relative to the larger max-norm. */
const vectorMeasure = (analytic: ArrayLike<number>, numeric: ArrayLike<number>): Measure => {
  const scale = Math.max(maxAbs(analytic), maxAbs(numeric))
  let worst: Measure = { error: 0, analytic: analytic[0] ?? 0, numeric: numeric[0] ?? 0 }
  for (let i = 0; i < analytic.length; i++) {
    const e = relativeError(analytic[i]!, numeric[i]!, scale)
    if (!(e <= worst.error)) worst = { error: e, analytic: analytic[i]!, numeric: numeric[i]! }
  }
  return worst
}

const withEstimate = (m: Measure, error: number, analytic: ArrayLike<number>, numeric: ArrayLike<number>): Measure => ({
  ...m,
  numericError: relativeError(error, 0, Math.max(maxAbs(analytic), maxAbs(numeric)))
})

/**
 * Reverse mode against finite differences: ⟨∇φ(x), v⟩ from `vjp` versus Ridders'
 * derivative of t ↦ φ(x + t·v), for φ = ⟨c, f⟩ and a random unit direction v. The error is
 * relative to max(|analytic|, |numeric|, ‖∇φ‖).
 *
 * @example
 * ```ts
 * import { tensor, sin } from 'lamina-nn'
 * import { gradientMeasure } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * assert.ok(gradientMeasure((x: ReturnType<typeof tensor<number[]>>) => sin(x), tensor([0.3, 1.2]), 7).error < 1e-9)
 * ```
 */
export const gradientMeasure = <T>(f: Differentiable<T>, input: T, seed: number, options?: MeasureOptions): Measure => {
  const [y, pullback] = vjp(f, input)
  const c = cotangentFor(y, seed)
  const g = toVector(pullback(c)[0])
  const x = toVector(input)
  const v = unitVector(x.length, seed)
  const analytic = dot(g, v)
  const cv = toVector(c)
  const phi = (t: number) => [dot(cv, toVector(f(along(input, x, v, t))))]
  const estimate = ridders(phi, options?.step)
  const numeric = estimate.value[0]!
  const scale = Math.max(Math.abs(analytic), Math.abs(numeric), norm(g))
  const error = relativeError(analytic, numeric, scale)
  // the kink probe costs three evaluations: only spent on a case that is about to fail
  const kink = error > 1e-9 ? kinkOf(phi, scale) : 0
  return { error, analytic, numeric, numericError: relativeError(estimate.error, 0, scale), kink }
}

/**
 * Forward mode against finite differences: the tangent `jvp(f, x, v)` versus Ridders'
 * derivative of t ↦ f(x + t·v), element by element, relative to the larger max-norm.
 *
 * @example
 * ```ts
 * import { tensor, exp } from 'lamina-nn'
 * import { jvpMeasure } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * assert.ok(jvpMeasure((x: ReturnType<typeof tensor<number[]>>) => exp(x), tensor([0.3, -1]), 3).error < 1e-9)
 * ```
 */
export const jvpMeasure = <T>(f: Differentiable<T>, input: T, seed: number, options?: MeasureOptions): Measure => {
  const x = toVector(input)
  const v = unitVector(x.length, seed)
  const [, dy] = jvp((p: T) => f(p), [input] as const, [fromVector(input, v)] as const)
  const g = (t: number) => toVector(f(along(input, x, v, t)))
  const estimate = ridders(g, options?.step)
  const m = withEstimate(vectorMeasure(toVector(dy), estimate.value), estimate.error, toVector(dy), estimate.value)
  return m.error > 1e-9 ? { ...m, kink: kinkOf(g, Math.max(maxAbs(toVector(dy)), maxAbs(estimate.value))) } : m
}

/**
 * The inner-product identity ⟨vjp(c), t⟩ = ⟨c, jvp(t)⟩ for random unit c and t, which
 * holds exactly in exact arithmetic when the VJP is the transpose of the JVP. The error is
 * normalized by max(‖vjp(c)‖·‖t‖, ‖c‖·‖jvp(t)‖), the Cauchy–Schwarz bound of both sides.
 *
 * @example
 * ```ts
 * import { tensor, matmul } from 'lamina-nn'
 * import { innerProductMeasure } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * const a = tensor([[1, 2]])
 * const b = tensor([[3], [4]])
 * const f = ([x, y]: readonly [typeof a, typeof b]) => matmul(x, y)
 * assert.ok(innerProductMeasure(f, [a, b] as const, 1).error < 1e-14)
 * ```
 */
export const innerProductMeasure = <T>(f: Differentiable<T>, input: T, seed: number): Measure => {
  const [y, pullback] = vjp(f, input)
  const c = cotangentFor(y, seed)
  const xbar = toVector(pullback(c)[0])
  const x = toVector(input)
  const t = unitVector(x.length, seed)
  const [, dy] = jvp((p: T) => f(p), [input] as const, [fromVector(input, t)] as const)
  const ydot = toVector(dy)
  const cv = toVector(c)
  const analytic = dot(xbar, t)
  const numeric = dot(cv, ydot)
  const scale = Math.max(norm(xbar) * norm(t), norm(cv) * norm(ydot))
  return { error: relativeError(analytic, numeric, scale), analytic, numeric }
}

/**
 * The full Jacobian of `f` at `input` (rows: output elements; columns: input elements), by one mode.
 *
 * @example
 * ```ts
 * import { tensor, mul } from 'lamina-nn'
 * import { jacobianMatrix } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * const x = tensor([2, 3])
 * const J = jacobianMatrix((v: typeof x) => mul(v, v), x, 'reverse')
 * assert.deepStrictEqual(J.map((row) => Array.from(row)), [[4, 0], [0, 6]])
 * ```
 */
export const jacobianMatrix = <T>(f: Differentiable<T>, input: T, mode: 'forward' | 'reverse'): Float64Array[] => {
  const x = toVector(input)
  const basis = (n: number, i: number) => {
    const e = new Float64Array(n)
    e[i] = 1
    return e
  }
  if (mode === 'forward') {
    const columns = Array.from({ length: x.length }, (_, j) =>
      toVector(jvp((p: T) => f(p), [input] as const, [fromVector(input, basis(x.length, j))] as const)[1])
    )
    const m = columns[0]?.length ?? f(input).size
    return Array.from({ length: m }, (_, i) => Float64Array.from(columns, (col) => col[i]!))
  }
  const [y, pullback] = vjp(f, input)
  return Array.from({ length: y.size }, (_, i) => toVector(pullback(fromBuffer(basis(y.size, i), y.shape, { dtype: y.dtype }))[0]))
}

/**
 * The Jacobian by central differences with Ridders' extrapolation, column by column.
 *
 * @example
 * ```ts
 * import { tensor, mul } from 'lamina-nn'
 * import { numericJacobian } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * const x = tensor([2, 3])
 * const J = numericJacobian((v: typeof x) => mul(v, v), x) // ≈ [[4, 0], [0, 6]], not exactly
 * const exact = [[4, 0], [0, 6]]
 * assert.ok(J.every((row, i) => row.every((v, j) => Math.abs(v - exact[i]![j]!) < 1e-9)))
 * ```
 */
export const numericJacobian = <T>(f: Differentiable<T>, input: T, options?: MeasureOptions): Float64Array[] => {
  const x = toVector(input)
  const columns = Array.from({ length: x.length }, (_, j) => {
    const e = new Float64Array(x.length)
    e[j] = 1
    return ridders((t) => toVector(f(along(input, x, e, t))), options?.step).value
  })
  const m = columns[0]?.length ?? f(input).size
  return Array.from({ length: m }, (_, i) => Float64Array.from(columns, (col) => col[i]!))
}

/**
 * Forward and reverse mode build the same Jacobian: the worst entry, relative to max|J|.
 *
 * @example
 * ```ts
 * import { tensor, tanh } from 'lamina-nn'
 * import { forwardReverseMeasure } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * assert.ok(forwardReverseMeasure((x: ReturnType<typeof tensor<number[]>>) => tanh(x), tensor([0.1, 2])).error < 1e-15)
 * ```
 */
export const forwardReverseMeasure = <T>(f: Differentiable<T>, input: T): Measure => {
  const fwd = jacobianMatrix(f, input, 'forward')
  const rev = jacobianMatrix(f, input, 'reverse')
  const flatF = fwd.flatMap((r) => [...r])
  const flatR = rev.flatMap((r) => [...r])
  if (flatF.length !== flatR.length) return { error: Infinity, analytic: flatF.length, numeric: flatR.length }
  return vectorMeasure(flatF, flatR)
}

/** ∇φ for φ = ⟨c, f⟩ with a random unit cotangent c: the gradient function the second-order laws differentiate. */
const scalarized = <T>(f: Differentiable<T>, input: T, seed: number) => {
  const c = cotangentFor(f(input), seed)
  return (p: T): T => vjp(f, p)[1](c)[0]
}

/**
 * Forward over reverse against finite differences of gradients: the Hessian–vector
 * product H·v = jvp(∇φ, x, v) versus Ridders' derivative of t ↦ ∇φ(x + t·v).
 *
 * @example
 * ```ts
 * import { tensor, sin } from 'lamina-nn'
 * import { hvpMeasure } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * assert.ok(hvpMeasure((x: ReturnType<typeof tensor<number[]>>) => sin(x), tensor([0.3, 1.2]), 5).error < 1e-8)
 * ```
 */
export const hvpMeasure = <T>(f: Differentiable<T>, input: T, seed: number, options?: MeasureOptions): Measure => {
  const gradient = scalarized(f, input, seed)
  const x = toVector(input)
  const v = unitVector(x.length, seed + 1)
  const [, hv] = jvp((p: T) => gradient(p), [input] as const, [fromVector(input, v)] as const)
  const estimate = ridders((t) => toVector(gradient(along(input, x, v, t))), options?.step)
  return withEstimate(vectorMeasure(toVector(hv), estimate.value), estimate.error, toVector(hv), estimate.value)
}

/**
 * Hessian symmetry without forming H: ⟨u, H·v⟩ = ⟨v, H·u⟩ for random unit u, v, normalized
 * by max(‖H·v‖, ‖H·u‖).
 *
 * @example
 * ```ts
 * import { tensor, mul, sum, sin } from 'lamina-nn'
 * import { hessianSymmetryMeasure } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * const f = (x: ReturnType<typeof tensor<number[]>>) => sum(mul(sin(x), sum(x)))
 * assert.ok(hessianSymmetryMeasure(f, tensor([0.3, 1.2, -0.7]), 5).error < 1e-14)
 * ```
 */
export const hessianSymmetryMeasure = <T>(f: Differentiable<T>, input: T, seed: number): Measure => {
  const gradient = scalarized(f, input, seed)
  const x = toVector(input)
  const u = unitVector(x.length, seed + 2)
  const v = unitVector(x.length, seed + 3)
  const hvp = (w: Float64Array) => toVector(jvp((p: T) => gradient(p), [input] as const, [fromVector(input, w)] as const)[1])
  const hv = hvp(v)
  const hu = hvp(u)
  const analytic = dot(u, hv)
  const numeric = dot(v, hu)
  return { error: relativeError(analytic, numeric, Math.max(norm(hv), norm(hu))), analytic, numeric }
}
