/**
 * The derivative laws as pure predicates: one case in, `true` or `false` out. Each is
 * {@link holds} applied to one law of the table in `laws.ts`, whose runners (`checkGradient`, …)
 * apply fast-check to the same law.
 *
 * @module
 */
import { gradientError } from './gradient-of.js'
import type { GradientFunction, ValueFunction } from './gradient-of.js'
import { forwardReverseLaw, gradientLaw, hessianSymmetryLaw, holds, hvpLaw, innerProductLaw, jvpLaw } from './laws.js'
import type { Differentiable, MeasureOptions } from './measure.js'
import { tolerances } from './tolerance.js'

/**
 * Reverse mode agrees with finite differences along a random direction (see {@link gradientLaw}).
 *
 * @example
 * ```ts
 * import { tensor, exp } from 'lamina-nn'
 * import { gradientMatchesFiniteDifferences } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * assert.ok(gradientMatchesFiniteDifferences((x: ReturnType<typeof tensor<number[]>>) => exp(x), tensor([0.5, 1]), 1))
 * ```
 */
export const gradientMatchesFiniteDifferences = <T>(
  f: Differentiable<T>,
  input: T,
  seed: number,
  tolerance = tolerances('f64').gradient,
  options?: MeasureOptions
): boolean => holds(gradientLaw, f, input, seed, tolerance, options)

/**
 * Forward mode agrees with finite differences along a random direction (see {@link jvpLaw}).
 *
 * @example
 * ```ts
 * import { tensor, cos } from 'lamina-nn'
 * import { jvpMatchesFiniteDifferences } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * assert.ok(jvpMatchesFiniteDifferences((x: ReturnType<typeof tensor<number[]>>) => cos(x), tensor([0.5, 1]), 1))
 * ```
 */
export const jvpMatchesFiniteDifferences = <T>(
  f: Differentiable<T>,
  input: T,
  seed: number,
  tolerance = tolerances('f64').gradient,
  options?: MeasureOptions
): boolean => holds(jvpLaw, f, input, seed, tolerance, options)

/**
 * ⟨vjp(c), t⟩ = ⟨c, jvp(t)⟩: the VJP is the transpose of the JVP (see {@link innerProductLaw}).
 *
 * @example
 * ```ts
 * import { tensor, sigmoid } from 'lamina-nn'
 * import { innerProductIdentity } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * assert.ok(innerProductIdentity((x: ReturnType<typeof tensor<number[]>>) => sigmoid(x), tensor([0.5, 1]), 1))
 * ```
 */
export const innerProductIdentity = <T>(
  f: Differentiable<T>,
  input: T,
  seed: number,
  tolerance = tolerances('f64').innerProduct
): boolean => holds(innerProductLaw, f, input, seed, tolerance)

/**
 * Forward and reverse mode produce the same Jacobian (see {@link forwardReverseLaw}).
 *
 * @example
 * ```ts
 * import { tensor, softplus } from 'lamina-nn'
 * import { forwardReverseAgree } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * assert.ok(forwardReverseAgree((x: ReturnType<typeof tensor<number[]>>) => softplus(x), tensor([0.5, 1])))
 * ```
 */
export const forwardReverseAgree = <T>(f: Differentiable<T>, input: T, tolerance = tolerances('f64').value): boolean =>
  holds(forwardReverseLaw, f, input, 0, tolerance)

/**
 * The Hessian–vector product agrees with finite differences of gradients (see {@link hvpLaw}).
 *
 * @example
 * ```ts
 * import { tensor, tanh } from 'lamina-nn'
 * import { hvpMatchesFiniteDifferences } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * assert.ok(hvpMatchesFiniteDifferences((x: ReturnType<typeof tensor<number[]>>) => tanh(x), tensor([0.5, 1]), 1))
 * ```
 */
export const hvpMatchesFiniteDifferences = <T>(
  f: Differentiable<T>,
  input: T,
  seed: number,
  tolerance = tolerances('f64').secondOrder,
  options?: MeasureOptions
): boolean => holds(hvpLaw, f, input, seed, tolerance, options)

/**
 * The Hessian is symmetric: ⟨u, Hv⟩ = ⟨v, Hu⟩ (see {@link hessianSymmetryLaw}).
 *
 * @example
 * ```ts
 * import { tensor, mul, sum } from 'lamina-nn'
 * import { hessianSymmetric } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * assert.ok(hessianSymmetric((x: ReturnType<typeof tensor<number[]>>) => sum(mul(mul(x, x), x)), tensor([0.5, 1]), 1))
 * ```
 */
export const hessianSymmetric = <T>(
  f: Differentiable<T>,
  input: T,
  seed: number,
  tolerance = tolerances('f64').value
): boolean => holds(hessianSymmetryLaw, f, input, seed, tolerance)

/**
 * A gradient written by hand agrees with finite differences of its function at `x`, entry
 * by entry (see {@link gradientError}).
 *
 * @example
 * ```ts
 * import { handWrittenGradientMatches } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * const f = (x: number) => x * x * x
 * assert.ok(handWrittenGradientMatches(f, (x: number) => 3 * x * x, 1.5))
 * assert.ok(!handWrittenGradientMatches(f, (x: number) => 2 * x * x, 1.5))
 * ```
 */
export const handWrittenGradientMatches = <X>(
  f: ValueFunction<X>,
  gradF: GradientFunction<X>,
  x: X,
  tolerance = tolerances('f64').gradient,
  options?: MeasureOptions
): boolean => gradientError(f, gradF, x, options).maxError <= tolerance
