/**
 * Every tolerance of the law harness, in one place, separate for values and gradients and
 * per dtype, and the error measures they bound.
 *
 * @module
 */
import type { DType } from '../src/tensor.js'

/** The bounds the laws check against. */
export interface Tolerances {
  /** Two computations of the same value (e.g. forward- vs reverse-mode Jacobian entries). */
  readonly value: number
  /** Analytic derivative against finite differences. */
  readonly gradient: number
  /** The inner-product identity ⟨vjp(c), t⟩ = ⟨c, jvp(t)⟩ (normalized by the norms). */
  readonly innerProduct: number
  /** Second derivatives: Hessian symmetry and hvp against differences of gradients. */
  readonly secondOrder: number
}

/**
 * The default tolerances of a dtype. Finite differences with Richardson extrapolation reach
 * about 1e-10 in float64, so 1e-7 leaves room without hiding a wrong rule (a wrong rule is
 * off by O(1)).
 *
 * @example
 * ```ts
 * import { tolerances } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * assert.strictEqual(tolerances('f64').gradient, 1e-7)
 * ```
 */
export const tolerances = (dtype: DType): Tolerances =>
  dtype === 'f64'
    ? { value: 1e-10, gradient: 1e-7, innerProduct: 1e-12, secondOrder: 1e-6 }
    : { value: 1e-4, gradient: 1e-2, innerProduct: 1e-5, secondOrder: 5e-2 }

/**
 * Magnitudes below this are compared absolutely. The laws use unit directions and
 * cotangents and inputs of order 1, so a derivative quantity smaller than this is at the
 * level where both sides are dominated by rounding, and a relative comparison of two
 * rounding residues (say 1e-18 against 2e-18) would report noise as failure.
 *
 * @example
 * ```ts
 * import { relativeError, scaleFloor } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * // 1e-20 against 2e-20 is a relative error of 0.5, but only 1e-17 once floored
 * assert.strictEqual(relativeError(1e-20, 2e-20), 1e-20 / scaleFloor)
 * ```
 */
export const scaleFloor = 1e-3

/**
 * `|a − b|` relative to `max(scale, scaleFloor)` (usually the larger magnitude, or a norm of the quantity
 * compared); when the scale is zero the error is absolute.
 *
 * @example
 * ```ts
 * import { relativeError } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * assert.strictEqual(relativeError(1, 1.5, 2), 0.25)
 * assert.strictEqual(relativeError(0, 0, 0), 0)
 * assert.strictEqual(relativeError(1e-20, 2e-20), 1e-20 / 1e-3)
 * ```
 */
export const relativeError = (a: number, b: number, scale = Math.max(Math.abs(a), Math.abs(b))): number => {
  const diff = Math.abs(a - b)
  if (Number.isNaN(diff)) return a === b ? 0 : Infinity
  return diff / Math.max(scale, scaleFloor)
}
