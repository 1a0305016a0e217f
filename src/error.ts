/**
 * Typed errors. Every error lamina throws is a `LaminaError`, and its subclass says which
 * rule was broken, so callers can branch on `instanceof` instead of parsing messages.
 *
 * @module
 */

/**
 * Base class of every error lamina throws.
 *
 * @example
 * ```ts
 * import { tensor, matmul, LaminaError } from 'lamina'
 * import assert from 'node:assert'
 * assert.throws(() => matmul(tensor([[1, 2]]), tensor([[1, 2]])), LaminaError)
 * ```
 */
export class LaminaError extends Error {
  override name = 'LaminaError'
}

/**
 * A shape rule was broken. The message is word for word the one the type checker shows
 * for the same mistake, so JavaScript callers and decoded files get the same help.
 *
 * @example
 * ```ts
 * import { tensor, add, ShapeError } from 'lamina'
 * import assert from 'node:assert'
 * assert.throws(() => add(tensor([1, 2, 3]), tensor([1, 2])), ShapeError)
 * ```
 */
export class ShapeError extends LaminaError {
  override name = 'ShapeError'
}

/**
 * A value had the wrong element type (mixing `f32` with `f64`, or a non-float input).
 *
 * @example
 * ```ts
 * import { tensor, add, DTypeError } from 'lamina'
 * import assert from 'node:assert'
 * const a = tensor([1, 2], { dtype: 'f32' })
 * const b = tensor([1, 2], { dtype: 'f64' })
 * assert.throws(() => add(a, b as never), DTypeError)
 * ```
 */
export class DTypeError extends LaminaError {
  override name = 'DTypeError'
}

/**
 * A differentiation request that cannot be honoured, e.g. `grad` of a function that
 * does not return a scalar.
 *
 * @example
 * ```ts
 * import { tensor, grad, exp, DifferentiationError } from 'lamina'
 * import assert from 'node:assert'
 * assert.throws(() => grad((x: ReturnType<typeof tensor>) => exp(x))(tensor([1, 2])), DifferentiationError)
 * ```
 */
export class DifferentiationError extends LaminaError {
  override name = 'DifferentiationError'
}

/**
 * An argument that is not a shape or dtype problem: a non-finite size, an unknown option,
 * a malformed nested array.
 *
 * @example
 * ```ts
 * import { tensor, ArgumentError } from 'lamina'
 * import assert from 'node:assert'
 * assert.throws(() => tensor([[1, 2], [3]]), ArgumentError)
 * ```
 */
export class ArgumentError extends LaminaError {
  override name = 'ArgumentError'
}
