/**
 * Gradients written by hand: the classic gradient check of a backprop course (a student's
 * manual backward pass of an MLP), or another library's gradients, compared entry by entry
 * with Ridders' finite differences of the value function. Works over numbers, (nested)
 * arrays of numbers, tensors, and arrays or records of them.
 *
 * @module
 */
import fc from 'fast-check'
import { ArgumentError } from '../src/error.js'
import * as Sh from '../src/shape.js'
import { Tensor, concreteBuffer } from '../src/tensor.js'
import { values } from './arbitrary.js'
import type { ValueOptions } from './arbitrary.js'
import { oneSidedGap, ridders } from './finite-difference.js'
import type { Measure, MeasureOptions } from './measure.js'
import { flattenPoint } from './point.js'
import type { Point } from './point.js'
import { runLaw } from './run.js'
import type { LawReport, RunOptions } from './run.js'
import { relativeError } from './tolerance.js'
import { maxAbs } from './vector.js'

/** A scalar function of a point: returns a number or a one-element tensor. */
export type ValueFunction<X> = (x: X) => number | Tensor

/** A gradient written by hand: the same structure as its argument (or any point with as many entries). */
export type GradientFunction<X> = (x: X) => X | Point

/** One entry of a gradient, both ways. */
export interface GradientEntry {
  /** Its path in the input, e.g. `x[1]`, `w1[0][2]`, `b[0,1]`. */
  readonly name: string
  /** What the hand-written gradient says. */
  readonly analytic: number
  /** Ridders' finite difference of f along this entry. */
  readonly numeric: number
  /** |analytic − numeric| relative to the largest entry of either gradient (see {@link relativeError}). */
  readonly error: number
}

/** A hand-written gradient against finite differences at one point, entry by entry. */
export interface GradientError {
  readonly entries: readonly GradientEntry[]
  /** The largest entry error (0 for an input without entries). */
  readonly maxError: number
  /** The entry with the largest error (`undefined` for an input without entries). */
  readonly worst: GradientEntry | undefined
  /** Ridders' own error estimate of the numeric side, relative like the entries' errors. */
  readonly numericError: number
}

const scalarOf = (y: number | Tensor, op: string): number => {
  if (typeof y === 'number') return y
  if (y instanceof Tensor) {
    if (y.size !== 1) throw new ArgumentError(`${op}: f must return a number or a one-element tensor, got a tensor of shape ${Sh.show(y.shape)}`)
    return concreteBuffer(y)[0]!
  }
  throw new ArgumentError(`${op}: f must return a number or a one-element tensor, got ${y === null ? 'null' : typeof y}`)
}

/**
 * Compares `gradF(x)` with Ridders' central differences of `f` along each entry of `x`:
 * the per-entry numbers of a gradient check, for one point (no fast-check). Each entry's
 * error is relative to the largest entry of either gradient, the scale the tolerance
 * `tolerances(dtype).gradient` (1e-7 in float64) is meant for.
 *
 * @example
 * ```ts
 * import { gradientError } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * // seed 004: y = ln(x1) + x1·x2 − sin(x2), and its gradient by hand
 * const f = ([x1, x2]: number[]) => Math.log(x1!) + x1! * x2! - Math.sin(x2!)
 * const gradF = ([x1, x2]: number[]) => [1 / x1! + x2!, x1! - Math.cos(x2!)]
 * const check = gradientError(f, gradF, [2, 5])
 * assert.ok(check.maxError < 1e-9)
 * assert.deepStrictEqual(check.entries.map((e) => e.name), ['x[0]', 'x[1]'])
 * // a slip in ∂y/∂x2 (+ cos instead of − cos) is named
 * const wrong = gradientError(f, ([x1, x2]: number[]) => [1 / x1! + x2!, x1! + Math.cos(x2!)], [2, 5])
 * assert.strictEqual(wrong.worst?.name, 'x[1]')
 * ```
 */
export const gradientError = <X>(f: ValueFunction<X>, gradF: GradientFunction<X>, x: X, options?: MeasureOptions): GradientError =>
  compareAt(f, gradF, x, options, 'gradientError')

const compareAt = <X>(f: ValueFunction<X>, gradF: GradientFunction<X>, x: X, options: MeasureOptions | undefined, op: string): GradientError => {
  const flat = flattenPoint(x, 'x', op)
  const given = flattenPoint(gradF(x), 'gradF(x)', op)
  if (given.values.length !== flat.values.length) {
    const at = flat.names[given.values.length] ?? given.names[flat.values.length]
    throw new ArgumentError(
      `${op}: gradF(x) has ${given.values.length} entries but x has ${flat.values.length}; the first unmatched entry is ${at}`
    )
  }
  const analytic = given.values
  const n = flat.values.length
  const numeric = new Float64Array(n)
  let estimate = 0
  const along = (j: number) => (t: number) => {
    const moved = Float64Array.from(flat.values)
    moved[j]! += t
    return [scalarOf(f(flat.rebuild(moved)), op)]
  }
  for (let j = 0; j < n; j++) {
    const r = ridders(along(j), options?.step)
    numeric[j] = r.value[0]!
    estimate = Math.max(estimate, r.error)
  }
  const scale = Math.max(maxAbs(analytic), maxAbs(numeric))
  const entries = flat.names.map((name, j): GradientEntry => ({
    name,
    analytic: analytic[j]!,
    numeric: numeric[j]!,
    error: relativeError(analytic[j]!, numeric[j]!, scale)
  }))
  const worst = entries.reduce<GradientEntry | undefined>((w, e) => (w === undefined || !(e.error <= w.error) ? e : w), undefined)
  return { entries, maxError: worst?.error ?? 0, worst, numericError: relativeError(estimate, 0, scale) }
}

/** The law's measure: the worst entry, and a kink probe along it when it fails. */
const gradientOfMeasure = <X>(f: ValueFunction<X>, gradF: GradientFunction<X>, x: X, options?: MeasureOptions): Measure => {
  const g = compareAt(f, gradF, x, options, 'checkGradientOf')
  const w = g.worst
  if (w === undefined) return { error: 0, analytic: 0, numeric: 0 }
  const base: Measure = { error: Number.isNaN(g.maxError) ? Infinity : g.maxError, analytic: w.analytic, numeric: w.numeric, numericError: g.numericError }
  if (!(base.error > 1e-9)) return base
  const flat = flattenPoint(x, 'x', 'checkGradientOf')
  const j = g.entries.indexOf(w)
  const probe = (t: number) => {
    const moved = Float64Array.from(flat.values)
    moved[j]! += t
    return [scalarOf(f(flat.rebuild(moved)), 'checkGradientOf')]
  }
  const scale = Math.max(...g.entries.map((e) => Math.max(Math.abs(e.analytic), Math.abs(e.numeric))))
  return { ...base, kink: relativeError(oneSidedGap(probe), 0, scale) }
}

/**
 * A hand-written gradient `gradF` of a scalar function `f` agrees with Ridders' finite
 * differences of `f`, entry by entry, within `tolerances(dtype).gradient` (1e-7 in
 * float64), over inputs drawn from `inputs` (see {@link numbers} and {@link arrays}, or any
 * fast-check arbitrary of numbers, nested arrays, tensors, or records of them). A wrong
 * gradient throws a {@link LawFailure} naming the worst entry, with both gradients side by side.
 *
 * @example
 * ```ts
 * import { checkGradientOf, arrays, LawFailure } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * // seed 004: y = ln(x1) + x1·x2 − sin(x2); x1 > 0 for the logarithm
 * const f = ([x1, x2]: number[]) => Math.log(x1!) + x1! * x2! - Math.sin(x2!)
 * const gradF = ([x1, x2]: number[]) => [1 / x1! + x2!, x1! - Math.cos(x2!)]
 * assert.ok(checkGradientOf(f, gradF, arrays(2, { min: 0.5, max: 3 }), { numRuns: 50 }).maxError <= 1e-7)
 * // the same gradient with ∂y/∂x1 = 1/x1 (the x1·x2 term forgotten) fails, naming x[0]
 * const forgot = ([x1, x2]: number[]) => [1 / x1!, x1! - Math.cos(x2!)]
 * assert.throws(() => checkGradientOf(f, forgot, arrays(2, { min: 0.5, max: 3 }), { numRuns: 50 }),
 *   (e: unknown) => e instanceof LawFailure && /worst gradient entry x\[0\]/.test(e.message))
 * ```
 */
export const checkGradientOf = <X>(
  f: ValueFunction<X>,
  gradF: GradientFunction<X>,
  inputs: fc.Arbitrary<X>,
  options?: RunOptions
): LawReport =>
  runLaw(
    {
      law: 'hand-written gradient',
      tolerance: 'gradient',
      measure: (x) => gradientOfMeasure(f, gradF, x, options),
      compare: (x) => {
        const g = compareAt(f, gradF, x, options, 'checkGradientOf')
        return {
          names: ['hand-written', 'finite differences'],
          a: [g.entries.map((e) => e.analytic)],
          b: [g.entries.map((e) => e.numeric)],
          entryName: (_, j) => `gradient entry ${g.entries[j]?.name ?? j}`,
          vector: true,
          title: `gradients at the shrunk input (${g.entries.length <= 8 ? g.entries.map((e) => e.name).join(', ') : `entries in the order of x: ${g.entries[0]!.name} … ${g.entries.at(-1)!.name}`})`
        }
      }
    },
    inputs,
    options
  )

/**
 * Numbers for {@link checkGradientOf}: mostly uniform over −3 … 3 (`min`, `max`), some of
 * fast-check's edge cases (the bounds, 0, tiny magnitudes); `awayFrom` keeps them off kinks
 * and domain edges.
 *
 * @example
 * ```ts
 * import fc from 'fast-check'
 * import { numbers } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * assert.ok(fc.sample(numbers({ min: 0.5, max: 2 }), 20).every((x) => x >= 0.5 && x <= 2))
 * ```
 */
export const numbers = (options?: Omit<ValueOptions, 'dtype'>): fc.Arbitrary<number> => values({ uniform: true, ...options })

/** The nested array type of a shape: `NestedArray<[2, 3]>` is `number[][]`. */
export type NestedArray<S extends readonly number[]> = number[] extends S
  ? unknown[]
  : S extends readonly []
    ? number
    : S extends readonly [number, ...infer R extends readonly number[]]
      ? NestedArray<R>[]
      : unknown[]

/**
 * Arrays of numbers for {@link checkGradientOf}: `arrays(3)` gives `number[]` of length 3,
 * `arrays([2, 3])` gives `number[][]` of 2 rows of 3; the entries are drawn like {@link numbers}.
 *
 * @example
 * ```ts
 * import fc from 'fast-check'
 * import { arrays } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * const [v] = fc.sample(arrays(3), 1)
 * assert.strictEqual(v!.length, 3)
 * const [m] = fc.sample(arrays([2, 3], { min: 0, max: 1 }), 1)
 * assert.ok(m!.length === 2 && m!.every((row) => row.length === 3))
 * ```
 */
export const arrays = <const S extends number | readonly number[]>(
  shape: S,
  options?: Omit<ValueOptions, 'dtype'>
): fc.Arbitrary<S extends number ? number[] : S extends readonly number[] ? NestedArray<S> : never> => {
  const dims: readonly number[] = typeof shape === 'number' ? [shape] : (shape as readonly number[])
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0) throw new ArgumentError(`arrays: dimensions must be integers ≥ 0, got ${JSON.stringify(shape)}`)
  }
  const n = dims.reduce((a, b) => a * b, 1)
  const nest = (flat: readonly number[], at: number, rest: readonly number[]): unknown => {
    if (rest.length === 0) return flat[at]!
    const [d, ...tail] = rest
    const stride = tail.reduce((a, b) => a * b, 1)
    return Array.from({ length: d! }, (_, i) => nest(flat, at + i * stride, tail))
  }
  return fc.array(values({ uniform: true, ...options }), { minLength: n, maxLength: n }).map((flat) => nest(flat, 0, dims) as never)
}
