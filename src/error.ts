/**
 * Typed errors. Every error lamina throws is a `LaminaError`, and its subclass says which
 * rule was broken, so callers can branch on `instanceof` instead of parsing messages.
 *
 * @module
 */
import { left, right } from 'fp-ts/lib/Either.js'
import type { Either } from 'fp-ts/lib/Either.js'

/**
 * Base class of every error lamina throws.
 *
 * @example
 * ```ts
 * import { tensor, matmul, LaminaError } from 'lamina-nn'
 * import assert from 'node:assert'
 * // @ts-expect-error: matmul: inner dimensions differ, [1,2] x [1,2] (2 vs 1)
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
 * import { tensor, add, ShapeError } from 'lamina-nn'
 * import assert from 'node:assert'
 * // @ts-expect-error: broadcast: shapes [3] and [2] are incompatible (3 vs 2)
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
 * import { tensor, add, DTypeError } from 'lamina-nn'
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
 * import { tensor, grad, exp, DifferentiationError } from 'lamina-nn'
 * import type { Tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * // exp(x) has shape [2], not [], so there is no single gradient to return
 * assert.throws(() => grad((x: Tensor<[2]>) => exp(x))(tensor([1, 2])), DifferentiationError)
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
 * import { tensor, ArgumentError } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.throws(() => tensor([[1, 2], [3]]), ArgumentError)
 * ```
 */
export class ArgumentError extends LaminaError {
  override name = 'ArgumentError'
}

/**
 * Runs `f` and returns its result as a `Right`, or the `LaminaError` it throws as a `Left`
 * (the boundary between code that throws typed errors and an API that returns `Either`). Any
 * other exception is a bug, and propagates.
 *
 * @example
 * ```ts
 * import { catchLaminaError, ArgumentError } from 'lamina-nn'
 * import * as E from 'fp-ts/lib/Either.js'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(catchLaminaError(() => 1 + 1), E.right(2))
 * const refused = catchLaminaError(() => { throw new ArgumentError('no') })
 * assert.ok(E.isLeft(refused) && refused.left instanceof ArgumentError)
 * ```
 */
export const catchLaminaError = <A>(f: () => A): Either<LaminaError, A> => {
  try {
    return right(f())
  } catch (e) {
    if (e instanceof LaminaError) return left(e)
    throw e
  }
}
