/**
 * fast-check runners for the derivative laws. Each draws cases (an input and a seed for the
 * random direction and cotangent) and measures the law's error. On failure it shrinks from
 * the worst case, keeping the error at least half as large, and throws a {@link LawFailure}
 * whose report ({@link ./report}) gives the first and the worst failing input, the shrunk
 * one, each error as a multiple of the tolerance, the Jacobian entry where the two
 * computations disagree most, and both Jacobians side by side. On success it returns a
 * {@link LawReport} with the largest error seen.
 *
 * @module
 */
import fc from 'fast-check'
import { Tensor } from '../src/tensor.js'
import type { DType } from '../src/tensor.js'
import * as M from './measure.js'
import type { Differentiable, Measure, MeasureOptions } from './measure.js'
import { flattenPoint } from './point.js'
import { formatFailure, formatNumber, worstEntryLine } from './report.js'
import type { Comparison, FailedCase, FailureDetails } from './report.js'
import { tolerances } from './tolerance.js'
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
  /** Set when the law could not apply (no case ran), saying why. */
  readonly skipped?: string
}

/**
 * A law that failed: `counterexample` is the shrunk input, and `details` holds everything
 * the message says (the first failing case before shrinking, the shrunk one, their errors
 * and tolerances, the compared quantities).
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
    readonly counterexample: unknown,
    readonly details?: FailureDetails
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
export const worstEntry = (a: Float64Array[], b: Float64Array[], nameA: string, nameB: string): string =>
  worstEntryLine({ names: [nameA, nameB], a, b, entryName: (i, j) => `Jacobian entry J[${i}][${j}] (output element ${i}, input element ${j})` })

/**
 * The Jacobians of a function by two methods, ready for a failure report: the worst entry
 * and, for up to 64 entries, both matrices side by side.
 *
 * @example
 * ```ts
 * import { tensor, mul } from 'lamina-nn'
 * import { jacobians, sideBySide } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * const x = tensor([2, 3])
 * const c = jacobians((v: typeof x) => mul(v, v), x, 'reverse', 'finite differences')
 * assert.match(sideBySide(c)![0], /^reverse mode +\[\[4, 0\], \[0, 6\]\]$/)
 * ```
 */
export const jacobians = <T>(
  f: Differentiable<T>,
  input: T,
  a: 'forward' | 'reverse' | 'finite differences',
  b: 'forward' | 'reverse' | 'finite differences',
  options?: MeasureOptions
): Comparison => {
  const by = (m: typeof a) => (m === 'finite differences' ? M.numericJacobian(f, input, options) : M.jacobianMatrix(f, input, m))
  const label = (m: typeof a) => (m === 'finite differences' ? m : `${m} mode`)
  const leaves = tensorsIn(input)
  const outShape = (() => {
    try {
      return f(input).shape
    } catch {
      return []
    }
  })()
  const inName = (() => {
    if (leaves.length === 1 && leaves[0] === input) return undefined
    try {
      return flattenPoint(input, 'x', 'jacobians').names
    } catch {
      return undefined
    }
  })()
  const multi = (shape: readonly number[], k: number): string => {
    const idx: number[] = []
    for (let a = shape.length - 1; a >= 0; a--) {
      idx.unshift(k % shape[a]!)
      k = Math.floor(k / shape[a]!)
    }
    return `[${idx.join(',')}]`
  }
  return {
    names: [label(a), label(b)],
    a: by(a),
    b: by(b),
    entryName: (i, j) =>
      `Jacobian entry J[${i}][${j}] (output element ${i}${outShape.length > 1 ? ` ${multi(outShape, i)}` : ''}, ` +
      `input element ${j}${inName === undefined ? '' : ` = ${inName[j]}`})`
  }
}

/** A law for the runner: which tolerance bounds it, how to measure a case, how to explain a failure. */
export interface LawSpec<T> {
  readonly law: string
  readonly tolerance: keyof Tolerances
  readonly measure: (input: T, seed: number) => Measure
  /** Extra lines of explanation for the shrunk case (may be empty). */
  readonly explain?: (input: T, seed: number) => string
  /** What `measure`'s `analytic` and `numeric` are, named once for both sides. */
  readonly quantity?: { readonly what: string; readonly names: readonly [string, string] }
  /** The two matrices behind the measure at the shrunk case (Jacobians, gradients). */
  readonly compare?: (input: T, seed: number) => Comparison
}

interface Evaluation {
  readonly error: number
  readonly measure?: Measure
  readonly threw?: string
}

const evaluate = <T>(spec: LawSpec<T>, input: T, seed: number): Evaluation => {
  try {
    const m = spec.measure(input, seed)
    return { error: Number.isNaN(m.error) ? Infinity : m.error, measure: m }
  } catch (e) {
    return { error: Infinity, threw: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }
  }
}

/**
 * Runs any law over generated cases: the engine behind every `check*` function, exposed for
 * laws over families of functions (e.g. one primitive with random parameters).
 *
 * All `numRuns` cases run, so the report can say how many failed and which failed worst.
 * Shrinking then starts from the worst case and keeps only cases that fail as clearly: an
 * error of at least half the worst one's (so a bug whose error grows with |x| keeps a large
 * |x|, instead of being driven to where it only just crosses the tolerance, like a rounding
 * flake), a non-finite error if that one was non-finite, a throw if it threw. The
 * {@link LawFailure} reports the first failing case, the worst, and the shrunk one.
 *
 * @example
 * ```ts
 * import fc from 'fast-check'
 * import { runLaw } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * const spec = { law: 'square is non-negative', tolerance: 'value' as const, measure: (x: number) => ({ error: x * x >= 0 ? 0 : 1, analytic: x * x, numeric: 0 }) }
 * assert.strictEqual(runLaw(spec, fc.double({ noNaN: true }), { numRuns: 20 }).cases, 20)
 * ```
 */
export const runLaw = <T>(spec: LawSpec<T>, inputs: fc.Arbitrary<T>, options?: RunOptions): LawReport => {
  type Failed = FailedCase & { readonly input: T; readonly index: number }
  let cases = 0
  let failures = 0
  let maxError = 0
  let bound = 0
  let first: Failed | undefined
  let worst: Failed | undefined
  const tol = (input: T): number => options?.tolerance?.[spec.tolerance] ?? tolerances(dtypeOf(input))[spec.tolerance]
  const numbered = ({ index, ...c }: Failed): FailedCase & { readonly case: number } => ({ ...c, case: index + 1 })
  const failedCase = (input: T, seed: number, e: Evaluation, t: number, index: number): Failed => ({
    input,
    seed,
    error: e.error,
    tolerance: t,
    index,
    ...(e.threw === undefined ? {} : { threw: e.threw })
  })
  // 1. every case, recording the first and the worst failure
  const seeds = fc.integer({ min: 0, max: 2 ** 31 - 1 })
  const survey = fc.property(inputs, seeds, (input, seed) => {
    const index = cases++
    const t = tol(input)
    const e = evaluate(spec, input, seed)
    if (e.error > maxError) maxError = e.error
    bound = Math.max(bound, t)
    if (e.threw === undefined && e.error <= t) return true
    failures++
    const c = failedCase(input, seed, e, t, index)
    first ??= c
    if (worst === undefined || c.error / c.tolerance > worst.error / worst.tolerance) worst = c
    return true
  })
  const numRuns = options?.numRuns ?? envRuns() ?? 100
  const surveyed = fc.check(survey, { numRuns, ...(options?.seed === undefined ? {} : { seed: options.seed }) })
  if (surveyed.failed) {
    throw new LawFailure(`${spec.law} law failed: ${String(surveyed.errorInstance ?? 'unknown error')}`, spec.law, undefined)
  }
  if (first === undefined || worst === undefined) return { law: spec.law, cases, maxError, tolerance: bound }
  // 2. shrink from the worst case, through cases that fail as clearly
  const from: Failed = worst
  const keptRatio = Math.max(1, from.error / from.tolerance / 2)
  const failsClearly = (e: Evaluation, t: number): boolean => {
    if (from.threw !== undefined) return e.threw !== undefined
    if (e.threw !== undefined) return false
    if (from.error === Infinity) return e.error === Infinity
    return e.error > t && e.error / t >= keptRatio
  }
  const shrinking = fc.property(inputs, seeds, (input, seed) => !failsClearly(evaluate(spec, input, seed), tol(input)))
  const shrunkRun = fc.check(shrinking, { numRuns, seed: surveyed.seed, path: String(from.index) })
  const [input, seed] = shrunkRun.failed && shrunkRun.counterexample !== null ? shrunkRun.counterexample : [from.input, from.seed]
  const t = tol(input)
  const e = evaluate(spec, input, seed)
  const { index: _, ...shrunk } = failedCase(input, seed, e, t, from.index)
  const lines: string[] = []
  let comparison: Comparison | undefined
  let note: string | undefined
  const m = e.measure
  if (m !== undefined) {
    const kinked = m.kink !== undefined && m.kink > 1e-3
    const unconverged = m.numericError !== undefined && m.numericError > t
    if (kinked || unconverged) {
      const why = kinked
        ? `the one-sided differences disagree by ${formatNumber(m.kink!, 3)} (relative)`
        : `the finite differences did not converge (their own error estimate is ${formatNumber(m.numericError!, 3)})`
      note =
        `${why}: f is not differentiable at this input along this direction — a kink (relu or abs at 0, a tie in max/min) or a domain edge. ` +
        `There lamina uses the documented subgradient, which finite differences cannot confirm; keep inputs away with the arbitraries' awayFrom option.`
    }
    try {
      comparison = spec.compare?.(input, seed)
      const extra = spec.explain?.(input, seed)
      if (extra !== undefined) lines.push(...extra.split('\n'))
    } catch (err) {
      lines.push(`(explaining the failure threw: ${err instanceof Error ? err.message : String(err)})`)
    }
  }
  const details: FailureDetails = {
    law: spec.law,
    cases,
    failures,
    seed: surveyed.seed,
    shrinks: shrunkRun.failed ? shrunkRun.numShrinks : 0,
    first: numbered(first),
    worst: numbered(from),
    shrunk,
    keptRatio,
    ...(m === undefined || spec.quantity === undefined ? {} : { quantity: { ...spec.quantity, analytic: m.analytic, numeric: m.numeric } }),
    ...(comparison === undefined ? {} : { comparison }),
    lines,
    ...(note === undefined ? {} : { note })
  }
  throw new LawFailure(formatFailure(details), spec.law, input, details)
}
