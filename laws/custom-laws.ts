/**
 * The laws of a function with a user's derivative rule (`customVjp`, `customJvp`): the rule
 * against finite differences, against the function's own derivative (lamina differentiating
 * the undecorated function, where it can), and the inner-product identity, which fails when
 * the rule is not linear in its cotangent or tangent (the other mode is its transpose).
 *
 * @module
 */
import fc from 'fast-check'
import type { CustomFacts, TensorFunction } from '../src/ad/custom.js'
import { fresh } from '../src/ad/level.js'
import { ReverseTrace } from '../src/ad/tape.js'
import { ArgumentError } from '../src/error.js'
import type { Tensor } from '../src/tensor.js'
import * as M from './measure.js'
import { relativeError } from './tolerance.js'
import { maxAbs } from './vector.js'
import type { Comparison } from './report.js'
import { gradientLaw, innerProductLaw, jvpLaw } from './laws.js'
import { jacobians, runLaw } from './run.js'
import type { LawReport, RunOptions } from './run.js'

/** How many cases each law of {@link checkCustomVjp} and {@link checkCustomJvp} gets. */
export interface CustomRuleRuns {
  /** The rule against finite differences (default 50). */
  readonly finiteDifferences?: number
  /** The rule against the function's own derivative (default 20; Jacobians are built whole). */
  readonly ownDerivative?: number
  /** The inner-product identity ⟨vjp(c), t⟩ = ⟨c, jvp(t)⟩ (default 50). */
  readonly innerProduct?: number
}

/** Options of the custom-rule checks. */
export interface CustomRuleOptions extends Omit<RunOptions, 'numRuns'> {
  readonly runs?: CustomRuleRuns
}

type Args = readonly Tensor[]

/** Worst entry of two Jacobians, relative to the larger max-norm. */
const jacobianDistance = (a: readonly Float64Array[], b: readonly Float64Array[]): M.Measure => {
  const flatA = a.flatMap((r) => [...r])
  const flatB = b.flatMap((r) => [...r])
  if (flatA.length !== flatB.length) return { error: Infinity, analytic: flatA.length, numeric: flatB.length }
  const scale = Math.max(maxAbs(flatA), maxAbs(flatB))
  let worst: M.Measure = { error: 0, analytic: flatA[0] ?? 0, numeric: flatB[0] ?? 0 }
  flatA.forEach((x, i) => {
    const e = relativeError(x, flatB[i]!, scale)
    if (!(e <= worst.error)) worst = { error: e, analytic: x, numeric: flatB[i]! }
  })
  return worst
}

const checkDecorated = (f: unknown, op: string, kind: 'vjp' | 'jvp'): CustomFacts<TensorFunction> => {
  const facts = f as Partial<CustomFacts<TensorFunction>> | null
  if (typeof f !== 'function' || facts === null || typeof facts.primal !== 'function' || facts.custom === undefined) {
    throw new ArgumentError(`${op}: expected a function made by ${kind === 'vjp' ? 'customVjp' : 'customJvp'}, got ${typeof f === 'function' ? 'a plain function' : typeof f}`)
  }
  if (facts.custom !== kind) throw new ArgumentError(`${op}: '${facts.primitive}' was made by ${facts.custom === 'vjp' ? 'customVjp' : 'customJvp'}; check it with ${facts.custom === 'vjp' ? 'checkCustomVjp' : 'checkCustomJvp'}`)
  return facts as CustomFacts<TensorFunction>
}

/**
 * Why the undecorated function has no derivative of its own at `args`, or `undefined` when it
 * has one: it throws when traced, or its output does not depend on its arguments through
 * lamina's operations (it computed on the host from `.data`, which a tape cannot see).
 */
const ownDerivativeMissing = (primal: (args: Args) => Tensor, args: Args): string | undefined => {
  try {
    const trace = new ReverseTrace(fresh())
    const y = primal(args.map((a) => trace.variable(a)))
    return trace.idOf(y) === undefined ? "its output does not depend on its arguments through lamina's operations (it computes on the host, e.g. from .data)" : undefined
  } catch (e) {
    return e instanceof Error ? e.message : String(e)
  }
}

const customLaws = (kind: 'vjp' | 'jvp', f: unknown, inputs: fc.Arbitrary<Args>, options?: CustomRuleOptions): LawReport[] => {
  const op = kind === 'vjp' ? 'checkCustomVjp' : 'checkCustomJvp'
  const facts = checkDecorated(f, op, kind)
  const rule = (args: Args): Tensor => (f as (...a: Args) => Tensor)(...args)
  const primal = (args: Args): Tensor => (facts.primal as unknown as (...a: Args) => Tensor)(...args)
  const mode = kind === 'vjp' ? 'reverse' : 'forward'
  const ruleName = `${mode} mode (your rule)`
  const runs = options?.runs ?? {}
  const name = facts.primitive
  const reports: LawReport[] = []
  reports.push(
    runLaw(
      {
        law: `${name}: ${ruleName} vs finite differences`,
        tolerance: 'gradient',
        measure: (args, seed) => (kind === 'vjp' ? gradientLaw : jvpLaw).measure(rule, args, seed, options),
        compare: (args) => jacobians(rule, args, mode, 'finite differences', options)
      },
      inputs,
      { ...options, numRuns: runs.finiteDifferences ?? 50 }
    )
  )
  const ownLaw = `${name}: ${ruleName} vs lamina's ${mode} mode of the function without the rule`
  // the undecorated function may read values on the host, and then has no derivative of its own
  const [probe] = fc.sample(inputs, { numRuns: 1, ...(options?.seed === undefined ? {} : { seed: options.seed }) })
  const missing = probe === undefined ? undefined : ownDerivativeMissing(primal, probe)
  if (missing !== undefined) {
    reports.push({ law: ownLaw, cases: 0, maxError: 0, tolerance: 0, skipped: `the function without the rule has no derivative of its own: ${missing}` })
  } else {
    const compare = (args: Args): Comparison => ({
      names: [ruleName, `lamina's ${mode} mode without the rule`],
      a: M.jacobianMatrix(rule, args, mode),
      b: M.jacobianMatrix(primal, args, mode)
    })
    reports.push(
      runLaw(
        {
          law: ownLaw,
          tolerance: 'value',
          measure: (args) => jacobianDistance(M.jacobianMatrix(rule, args, mode), M.jacobianMatrix(primal, args, mode)),
          compare
        },
        inputs,
        { ...options, numRuns: runs.ownDerivative ?? 20 }
      )
    )
  }
  reports.push(
    runLaw(
      {
        law: `${name}: inner-product identity (your rule is linear${kind === 'vjp' ? ' in the cotangent' : ' in the tangents'})`,
        tolerance: 'innerProduct',
        measure: (args, seed) => innerProductLaw.measure(rule, args, seed),
        compare: (args) => jacobians(rule, args, 'reverse', 'forward')
      },
      inputs,
      { ...options, numRuns: runs.innerProduct ?? 50 }
    )
  )
  return reports
}

/**
 * Checks a function made by `customVjp`: your reverse-mode rule against finite differences
 * and against lamina's reverse mode of the function without the rule (skipped, with the
 * reason, when that function has no derivative of its own), and the inner-product identity
 * (your `bwd` must be linear in the cotangent, since forward mode transposes it). `inputs`
 * draws the argument list. Returns one report per law; throws a `LawFailure` for the first that fails.
 *
 * @example
 * ```ts
 * import fc from 'fast-check'
 * import { customVjp, mul, sigmoid, sub, add, tensor } from 'lamina-nn'
 * import type { Tensor } from 'lamina-nn'
 * import { checkCustomVjp, sameShape, LawFailure } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * const swish = (x: Tensor) => mul(x, sigmoid(x))
 * const good = customVjp(swish, {
 *   fwd: (x) => { const s = sigmoid(x); return [mul(x, s), [x, s]] as const },
 *   bwd: ([x, s], ct) => [mul(ct, mul(s, add(tensor(1), mul(x, sub(tensor(1), s)))))]
 * })
 * const reports = checkCustomVjp(good, sameShape(1), { runs: { finiteDifferences: 20, ownDerivative: 5, innerProduct: 20 } })
 * assert.ok(reports.every((r) => r.maxError <= r.tolerance))
 * // forgetting the x·σ'(x) term: caught, with a shrunk counterexample
 * const bad = customVjp(swish, { fwd: (x) => [mul(x, sigmoid(x)), sigmoid(x)] as const, bwd: (s, ct) => [mul(ct, s)] })
 * assert.throws(() => checkCustomVjp(bad, sameShape(1), { runs: { finiteDifferences: 20 } }), LawFailure)
 * ```
 */
export const checkCustomVjp = <F extends TensorFunction>(f: F & CustomFacts<F>, inputs: fc.Arbitrary<readonly Tensor[]>, options?: CustomRuleOptions): LawReport[] =>
  customLaws('vjp', f, inputs, options)

/**
 * Checks a function made by `customJvp`: your forward-mode rule against finite differences
 * and against lamina's forward mode of the function without the rule (skipped, with the reason,
 * when it has none), and the inner-product identity (your rule must be linear in the tangents,
 * since reverse mode transposes it).
 *
 * @example
 * ```ts
 * import { customJvp, sqrt, div, mul, tensor } from 'lamina-nn'
 * import type { Tensor } from 'lamina-nn'
 * import { checkCustomJvp, sameShape } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * const root = customJvp((x: Tensor) => sqrt(x), { jvp: ([x], [t]) => { const y = sqrt(x); return [y, div(t, mul(tensor(2), y))] as const } })
 * const reports = checkCustomJvp(root, sameShape(1, { min: 0.5, max: 4 }), { runs: { finiteDifferences: 20, ownDerivative: 5, innerProduct: 20 } })
 * assert.ok(reports.every((r) => r.maxError <= r.tolerance))
 * ```
 */
export const checkCustomJvp = <F extends TensorFunction>(f: F & CustomFacts<F>, inputs: fc.Arbitrary<readonly Tensor[]>, options?: CustomRuleOptions): LawReport[] =>
  customLaws('jvp', f, inputs, options)
