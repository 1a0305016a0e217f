/**
 * fast-check runners for the derivative laws. Each draws cases (an input and a seed for the
 * random direction and cotangent), measures the law's error, and on failure shrinks to a
 * small counterexample and throws a {@link LawFailure} that reports the input, the Jacobian
 * entry where the two computations disagree most, both values and their difference. On
 * success it returns a {@link LawReport} with the largest error seen.
 *
 * @module
 */
import fc from 'fast-check'
import { Tensor } from '../src/tensor.js'
import type { DType } from '../src/tensor.js'
import * as M from './measure.js'
import type { Differentiable, Measure, MeasureOptions } from './measure.js'
import { relativeError, tolerances } from './tolerance.js'
import type { Tolerances } from './tolerance.js'

/** Options of a law run. */
export interface RunOptions extends MeasureOptions {
  /** Number of generated cases (default 100, or `LAMINA_LAW_RUNS` from the environment). */
  readonly numRuns?: number
  /** fast-check seed, to replay a run. */
  readonly seed?: number
  /** Overrides of the default tolerances (chosen by the inputs' dtype). */
  readonly tolerance?: Partial<Tolerances>
}

/** What a successful run measured. */
export interface LawReport {
  readonly law: string
  readonly cases: number
  readonly maxError: number
  readonly tolerance: number
}

/**
 * A law that failed, with its shrunk counterexample.
 *
 * @example
 * ```ts
 * import { tensor, mul } from 'lamina-nn'
 * import type { Tensor } from 'lamina-nn'
 * import { checkGradient, tensors, LawFailure } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * // a deliberately wrong "derivative": the function reads its input's value as a constant
 * const wrong = (x: Tensor) => mul(x, tensor(x.data[0] ?? 0))
 * assert.throws(() => checkGradient(wrong, tensors({ minRank: 1, maxRank: 1 }), { numRuns: 50 }), LawFailure)
 * ```
 */
export class LawFailure extends Error {
  override name = 'LawFailure'
  constructor(
    message: string,
    readonly law: string,
    readonly counterexample: unknown
  ) {
    super(message)
  }
}

const envRuns = (): number | undefined => {
  const raw = typeof process !== 'undefined' ? process.env['LAMINA_LAW_RUNS'] : undefined
  const n = raw === undefined ? NaN : Number(raw)
  return Number.isInteger(n) && n > 0 ? n : undefined
}

/** Tensors anywhere inside a case (cases may also hold parameters: numbers, flags, masks). */
const tensorsIn = (x: unknown, out: Tensor[] = []): Tensor[] => {
  if (x instanceof Tensor) out.push(x)
  else if (Array.isArray(x)) x.forEach((y) => tensorsIn(y, out))
  else if (x !== null && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) Object.values(x).forEach((y) => tensorsIn(y, out))
  return out
}

const dtypeOf = (input: unknown): DType => (tensorsIn(input).some((l) => l.dtype === 'f32') ? 'f32' : 'f64')

const show = (input: unknown): string => {
  const text = JSON.stringify(input, (_, v) =>
    v instanceof Tensor ? { shape: v.shape, dtype: v.dtype, values: v.toArray() } : ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v
  )
  return text.length > 2000 ? `${text.slice(0, 2000)}…` : text
}

/**
 * Names the entry where two Jacobians (rows = outputs, columns = inputs) differ most, with
 * both values and their difference: how every failing law explains itself.
 *
 * @example
 * ```ts
 * import { worstEntry } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * const text = worstEntry([Float64Array.of(1, 2)], [Float64Array.of(1, 2.5)], 'reverse mode', 'finite differences')
 * assert.ok(text.startsWith('worst Jacobian entry J[0][1]'))
 * assert.ok(text.endsWith('reverse mode 2, finite differences 2.5, difference -0.5'))
 * ```
 */
export const worstEntry = (a: Float64Array[], b: Float64Array[], nameA: string, nameB: string): string => {
  let best = { i: 0, j: 0, x: NaN, y: NaN, d: -1 }
  a.forEach((row, i) =>
    row.forEach((x, j) => {
      const y = b[i]?.[j] ?? NaN
      const d = Math.abs(x - y)
      if (d > best.d || Number.isNaN(d)) best = { i, j, x, y, d: Number.isNaN(d) ? Infinity : d }
    })
  )
  return (
    `worst Jacobian entry J[${best.i}][${best.j}] (output element ${best.i}, input element ${best.j}): ` +
    `${nameA} ${best.x}, ${nameB} ${best.y}, difference ${best.x - best.y}`
  )
}

/** A law for the runner: which tolerance bounds it, how to measure a case, how to explain a failure. */
export interface LawSpec<T> {
  readonly law: string
  readonly tolerance: keyof Tolerances
  readonly measure: (input: T, seed: number) => Measure
  readonly explain: (input: T, seed: number) => string
}

/**
 * Runs any law over generated cases: the engine behind every `check*` function, exposed for
 * laws over families of functions (e.g. one primitive with random parameters).
 *
 * @example
 * ```ts
 * import fc from 'fast-check'
 * import { runLaw } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * const spec = { law: 'square is non-negative', tolerance: 'value' as const, measure: (x: number) => ({ error: x * x >= 0 ? 0 : 1, analytic: x * x, numeric: 0 }), explain: () => '' }
 * assert.strictEqual(runLaw(spec, fc.double({ noNaN: true }), { numRuns: 20 }).cases, 20)
 * ```
 */
export const runLaw = <T>(spec: LawSpec<T>, inputs: fc.Arbitrary<T>, options?: RunOptions): LawReport => {
  let cases = 0
  let maxError = 0
  let bound = 0
  const tol = (input: T): number => options?.tolerance?.[spec.tolerance] ?? tolerances(dtypeOf(input))[spec.tolerance]
  const property = fc.property(inputs, fc.integer({ min: 0, max: 2 ** 31 - 1 }), (input, seed) => {
    const m = spec.measure(input, seed)
    const t = tol(input)
    cases++
    if (m.error > maxError || Number.isNaN(m.error)) maxError = Number.isNaN(m.error) ? Infinity : m.error
    bound = Math.max(bound, t)
    return m.error <= t
  })
  const numRuns = options?.numRuns ?? envRuns() ?? 100
  const result = fc.check(property, { numRuns, ...(options?.seed === undefined ? {} : { seed: options.seed }) })
  if (result.failed) {
    const example = result.counterexample
    if (example === null) {
      throw new LawFailure(`${spec.law} law failed: ${String(result.errorInstance ?? 'unknown error')}`, spec.law, undefined)
    }
    const [input, seed] = example
    let detail: string
    let measured: string
    try {
      const m = spec.measure(input, seed)
      measured = `analytic ${m.analytic}, numeric ${m.numeric}, error ${m.error} > tolerance ${tol(input)}`
      const kinked = m.kink !== undefined && m.kink > 1e-3
      const unconverged = m.numericError !== undefined && m.numericError > tol(input)
      if (kinked || unconverged) {
        const why = kinked
          ? `the one-sided differences disagree by ${m.kink} (relative)`
          : `the finite differences did not converge (their own error estimate is ${m.numericError})`
        measured +=
          `\n  note: ${why}: f is not differentiable at this input along this direction — a kink (relu or abs at 0, a tie in max/min) or a domain edge. ` +
          `There lamina uses the documented subgradient, which finite differences cannot confirm; keep inputs away with the arbitraries' awayFrom option.`
      }
      detail = spec.explain(input, seed)
    } catch (e) {
      measured = 'the check threw'
      detail = String(e instanceof Error ? e.message : e)
    }
    throw new LawFailure(
      [
        `${spec.law} law failed after ${result.numRuns} cases (fast-check seed ${result.seed}, path "${result.counterexamplePath}"):`,
        `  input: ${show(input)}`,
        `  case seed: ${seed}`,
        `  ${measured}`,
        `  ${detail}`
      ].join('\n'),
      spec.law,
      input
    )
  }
  return { law: spec.law, cases, maxError, tolerance: bound }
}

/**
 * Reverse-mode gradients of `f` agree with central finite differences (Richardson
 * extrapolated) along random directions, for inputs drawn from `inputs`.
 *
 * @example
 * ```ts
 * import { tanh } from 'lamina-nn'
 * import { checkGradient, tensors } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * const report = checkGradient(tanh, tensors(), { numRuns: 50 })
 * assert.ok(report.maxError <= 1e-7)
 * ```
 */
export const checkGradient = <T>(f: Differentiable<T>, inputs: fc.Arbitrary<T>, options?: RunOptions): LawReport =>
  runLaw(
    {
      law: 'gradient',
      tolerance: 'gradient',
      measure: (x, seed) => M.gradientMeasure(f, x, seed, options),
      explain: (x) => worstEntry(M.jacobianMatrix(f, x, 'reverse'), M.numericJacobian(f, x, options), 'reverse mode', 'finite differences')
    },
    inputs,
    options
  )

/**
 * Forward-mode tangents of `f` agree with finite differences along random directions.
 *
 * @example
 * ```ts
 * import { sin } from 'lamina-nn'
 * import { checkJvp, tensors } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * assert.ok(checkJvp(sin, tensors(), { numRuns: 50 }).maxError <= 1e-7)
 * ```
 */
export const checkJvp = <T>(f: Differentiable<T>, inputs: fc.Arbitrary<T>, options?: RunOptions): LawReport =>
  runLaw(
    {
      law: 'jvp',
      tolerance: 'gradient',
      measure: (x, seed) => M.jvpMeasure(f, x, seed, options),
      explain: (x) => worstEntry(M.jacobianMatrix(f, x, 'forward'), M.numericJacobian(f, x, options), 'forward mode', 'finite differences')
    },
    inputs,
    options
  )

/**
 * The VJP of `f` is the transpose of its JVP: ⟨vjp(c), t⟩ = ⟨c, jvp(t)⟩ for random c, t.
 *
 * @example
 * ```ts
 * import { exp } from 'lamina-nn'
 * import { checkVjp, tensors } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * assert.ok(checkVjp(exp, tensors(), { numRuns: 50 }).maxError <= 1e-12)
 * ```
 */
export const checkVjp = <T>(f: Differentiable<T>, inputs: fc.Arbitrary<T>, options?: RunOptions): LawReport =>
  runLaw(
    {
      law: 'inner product',
      tolerance: 'innerProduct',
      measure: (x, seed) => M.innerProductMeasure(f, x, seed),
      explain: (x) => worstEntry(M.jacobianMatrix(f, x, 'reverse'), M.jacobianMatrix(f, x, 'forward'), 'reverse mode', 'forward mode')
    },
    inputs,
    options
  )

/**
 * Forward and reverse mode build the same Jacobian of `f`, entry by entry.
 *
 * @example
 * ```ts
 * import { sigmoid } from 'lamina-nn'
 * import { checkForwardReverseAgree, tensors } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * assert.ok(checkForwardReverseAgree(sigmoid, tensors(), { numRuns: 30 }).maxError <= 1e-10)
 * ```
 */
export const checkForwardReverseAgree = <T>(
  f: Differentiable<T>,
  inputs: fc.Arbitrary<T>,
  options?: RunOptions
): LawReport =>
  runLaw(
    {
      law: 'forward/reverse agreement',
      tolerance: 'value',
      measure: (x) => M.forwardReverseMeasure(f, x),
      explain: (x) => worstEntry(M.jacobianMatrix(f, x, 'forward'), M.jacobianMatrix(f, x, 'reverse'), 'forward mode', 'reverse mode')
    },
    inputs,
    options
  )

/**
 * Second derivatives of `f` (reduced to a scalar with a random cotangent): the Hessian is
 * symmetric, and the Hessian–vector product agrees with finite differences of gradients.
 * Returns the report of the hvp check (the symmetry check must pass too).
 *
 * @example
 * ```ts
 * import { tanh } from 'lamina-nn'
 * import { checkSecondOrder, tensors } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * assert.ok(checkSecondOrder(tanh, tensors(), { numRuns: 30 }).maxError <= 1e-6)
 * ```
 */
export const checkSecondOrder = <T>(f: Differentiable<T>, inputs: fc.Arbitrary<T>, options?: RunOptions): LawReport => {
  runLaw(
    {
      law: 'Hessian symmetry',
      tolerance: 'value',
      measure: (x, seed) => M.hessianSymmetryMeasure(f, x, seed),
      explain: (x, seed) => {
        const m = M.hessianSymmetryMeasure(f, x, seed)
        return `⟨u, Hv⟩ = ${m.analytic} but ⟨v, Hu⟩ = ${m.numeric}`
      }
    },
    inputs,
    options
  )
  return runLaw(
    {
      law: 'Hessian-vector product',
      tolerance: 'secondOrder',
      measure: (x, seed) => M.hvpMeasure(f, x, seed, options),
      explain: (x, seed) => {
        const m = M.hvpMeasure(f, x, seed, options)
        return `worst element of H·v: forward-over-reverse ${m.analytic}, finite differences of gradients ${m.numeric}, relative error ${relativeError(m.analytic, m.numeric)}`
      }
    },
    inputs,
    options
  )
}
