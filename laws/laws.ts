/**
 * The derivative laws, each written once: which tolerance bounds it, how to measure one case,
 * what the measured quantities are, and which two Jacobians explain a failure. Both APIs are
 * views of this one table: {@link holds} turns a law into a boolean predicate of one case (the
 * functions of `predicates`), {@link check} into a fast-check runner over generated cases
 * (`checkGradient`, `checkJvp`, …, and the per-primitive and custom-rule suites).
 *
 * @module
 */
import type fc from 'fast-check'
import * as M from './measure.js'
import type { Differentiable, Measure, MeasureOptions } from './measure.js'
import type { Comparison } from './report.js'
import { jacobians, runLaw } from './run.js'
import type { LawReport, RunOptions } from './run.js'
import { tolerances } from './tolerance.js'
import type { Tolerances } from './tolerance.js'

/** One derivative law of a function of a tree of tensors. */
export interface Law {
  /** Its name in reports and failures. */
  readonly name: string
  /** Which tolerance of {@link tolerances} bounds its error. */
  readonly tolerance: keyof Tolerances
  /** Its error at one case (an input and a seed for the random directions). */
  readonly measure: <T>(f: Differentiable<T>, input: T, seed: number, options?: MeasureOptions) => Measure
  /** What `measure`'s `analytic` and `numeric` are, named once for both sides. */
  readonly quantity?: { readonly what: string; readonly names: readonly [string, string] }
  /** The two Jacobians a failure report prints. */
  readonly compare?: <T>(f: Differentiable<T>, input: T, options?: MeasureOptions) => Comparison
}

const directional = 'directional derivative ⟨c, J·v⟩ (random unit cotangent c, direction v)'

/**
 * Reverse mode against Ridders' finite differences along a random direction.
 *
 * @example
 * ```ts
 * import { tensor, tanh } from 'lamina-nn'
 * import { gradientLaw } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * assert.ok(gradientLaw.measure(tanh, tensor([0.5, -1]), 3).error <= 1e-7)
 * ```
 */
export const gradientLaw: Law = {
  name: 'gradient',
  tolerance: 'gradient',
  measure: (f, x, seed, options) => M.gradientMeasure(f, x, seed, options),
  quantity: { what: directional, names: ['reverse mode', 'finite differences'] },
  compare: (f, x, options) => jacobians(f, x, 'reverse', 'finite differences', options)
}

/**
 * Forward mode against Ridders' finite differences along a random direction.
 *
 * @example
 * ```ts
 * import { tensor, sin } from 'lamina-nn'
 * import { jvpLaw } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * assert.ok(jvpLaw.measure(sin, tensor([0.5, -1]), 3).error <= 1e-7)
 * ```
 */
export const jvpLaw: Law = {
  name: 'jvp',
  tolerance: 'gradient',
  measure: (f, x, seed, options) => M.jvpMeasure(f, x, seed, options),
  quantity: { what: 'worst element of the tangent J·v (random unit direction v)', names: ['forward mode', 'finite differences'] },
  compare: (f, x, options) => jacobians(f, x, 'forward', 'finite differences', options)
}

/**
 * The VJP is the transpose of the JVP: ⟨vjp(c), t⟩ = ⟨c, jvp(t)⟩ for random unit c, t.
 *
 * @example
 * ```ts
 * import { tensor, exp } from 'lamina-nn'
 * import { innerProductLaw } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * assert.ok(innerProductLaw.measure(exp, tensor([0.5, -1]), 3).error <= 1e-12)
 * ```
 */
export const innerProductLaw: Law = {
  name: 'inner product',
  tolerance: 'innerProduct',
  measure: (f, x, seed) => M.innerProductMeasure(f, x, seed),
  quantity: { what: 'inner products ⟨vjp(c), t⟩ and ⟨c, jvp(t)⟩ (random unit c, t)', names: ['reverse mode', 'forward mode'] },
  compare: (f, x) => jacobians(f, x, 'reverse', 'forward')
}

/**
 * Forward and reverse mode build the same Jacobian, entry by entry.
 *
 * @example
 * ```ts
 * import { tensor, sigmoid } from 'lamina-nn'
 * import { forwardReverseLaw } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * assert.ok(forwardReverseLaw.measure(sigmoid, tensor([0.5, -1]), 0).error <= 1e-10)
 * ```
 */
export const forwardReverseLaw: Law = {
  name: 'forward/reverse agreement',
  tolerance: 'value',
  measure: (f, x) => M.forwardReverseMeasure(f, x),
  compare: (f, x) => jacobians(f, x, 'forward', 'reverse')
}

/**
 * The Hessian of ⟨c, f⟩ is symmetric: ⟨u, H·v⟩ = ⟨v, H·u⟩ for random unit u, v.
 *
 * @example
 * ```ts
 * import { tensor, tanh } from 'lamina-nn'
 * import { hessianSymmetryLaw } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * assert.ok(hessianSymmetryLaw.measure(tanh, tensor([0.5, -1]), 3).error <= 1e-10)
 * ```
 */
export const hessianSymmetryLaw: Law = {
  name: 'Hessian symmetry',
  tolerance: 'value',
  measure: (f, x, seed) => M.hessianSymmetryMeasure(f, x, seed),
  quantity: { what: 'the Hessian both ways round (random unit u, v)', names: ['⟨u, H·v⟩ =', '⟨v, H·u⟩ ='] }
}

/**
 * The Hessian–vector product (forward over reverse) against finite differences of gradients.
 *
 * @example
 * ```ts
 * import { tensor, tanh } from 'lamina-nn'
 * import { hvpLaw } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * assert.ok(hvpLaw.measure(tanh, tensor([0.5, -1]), 3).error <= 1e-6)
 * ```
 */
export const hvpLaw: Law = {
  name: 'Hessian-vector product',
  tolerance: 'secondOrder',
  measure: (f, x, seed, options) => M.hvpMeasure(f, x, seed, options),
  quantity: { what: 'worst element of H·v (random unit v)', names: ['forward-over-reverse', 'finite differences of gradients'] }
}

/**
 * A law as a predicate of one case: `true` when its error is within `tolerance` (by default
 * the float64 tolerance of the law's kind).
 *
 * @example
 * ```ts
 * import { tensor, tanh } from 'lamina-nn'
 * import { holds, gradientLaw } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * assert.ok(holds(gradientLaw, tanh, tensor([0.5, -1]), 3))
 * ```
 */
export const holds = <T>(law: Law, f: Differentiable<T>, input: T, seed: number, tolerance = tolerances('f64')[law.tolerance], options?: MeasureOptions): boolean =>
  law.measure(f, input, seed, options).error <= tolerance

/**
 * A law as a fast-check runner: its error over generated inputs, a {@link LawReport} when it
 * holds for all of them, a `LawFailure` with a shrunk counterexample when not. `title`
 * replaces the law's name in reports.
 *
 * @example
 * ```ts
 * import { tanh } from 'lamina-nn'
 * import { check, jvpLaw, tensors } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * assert.ok(check(jvpLaw, tanh, tensors(), { numRuns: 20 }).maxError <= 1e-7)
 * ```
 */
export const check = <T>(law: Law, f: Differentiable<T>, inputs: fc.Arbitrary<T>, options?: RunOptions, title?: string): LawReport =>
  runLaw(
    {
      law: title ?? law.name,
      tolerance: law.tolerance,
      measure: (x, seed) => law.measure(f, x, seed, options),
      ...(law.quantity === undefined ? {} : { quantity: law.quantity }),
      ...(law.compare === undefined ? {} : { compare: (x: T) => law.compare!(f, x, options) })
    },
    inputs,
    options
  )

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
export const checkGradient = <T>(f: Differentiable<T>, inputs: fc.Arbitrary<T>, options?: RunOptions): LawReport => check(gradientLaw, f, inputs, options)

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
export const checkJvp = <T>(f: Differentiable<T>, inputs: fc.Arbitrary<T>, options?: RunOptions): LawReport => check(jvpLaw, f, inputs, options)

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
export const checkVjp = <T>(f: Differentiable<T>, inputs: fc.Arbitrary<T>, options?: RunOptions): LawReport => check(innerProductLaw, f, inputs, options)

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
export const checkForwardReverseAgree = <T>(f: Differentiable<T>, inputs: fc.Arbitrary<T>, options?: RunOptions): LawReport =>
  check(forwardReverseLaw, f, inputs, options)

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
  check(hessianSymmetryLaw, f, inputs, options)
  return check(hvpLaw, f, inputs, options)
}
