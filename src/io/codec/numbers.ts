/**
 * Branded number codecs (positive integers, probabilities, …), each failing with its name in
 * words. Re-exported by `Codec`.
 *
 * @module
 */
import * as t from 'io-ts'

/** Brand of {@link PositiveInt}. */
export interface PositiveIntBrand {
  readonly PositiveInt: unique symbol
}
/** Brand of {@link NonNegativeInt}. */
export interface NonNegativeIntBrand {
  readonly NonNegativeInt: unique symbol
}
/** Brand of {@link SafeInt}. */
export interface SafeIntBrand {
  readonly SafeInt: unique symbol
}
/** Brand of {@link Finite}. */
export interface FiniteBrand {
  readonly Finite: unique symbol
}
/** Brand of {@link Positive}. */
export interface PositiveBrand {
  readonly Positive: unique symbol
}
/** Brand of {@link NonNegative}. */
export interface NonNegativeBrand {
  readonly NonNegative: unique symbol
}
/** Brand of {@link Probability}. */
export interface ProbabilityBrand {
  readonly Probability: unique symbol
}
/** Brand of {@link Fraction}. */
export interface FractionBrand {
  readonly Fraction: unique symbol
}

/** A safe integer ≥ 1 (a width, a kernel size, a number of epochs). */
export type PositiveInt = t.Branded<number, PositiveIntBrand>
/** A safe integer ≥ 0 (a padding). */
export type NonNegativeInt = t.Branded<number, NonNegativeIntBrand>
/** A safe integer (a seed). */
export type SafeInt = t.Branded<number, SafeIntBrand>
/** A finite number (not `NaN`, not ±∞). */
export type Finite = t.Branded<number, FiniteBrand>
/** A finite number > 0 (a learning rate, an ε). */
export type Positive = t.Branded<number, PositiveBrand>
/** A finite number ≥ 0 (a weight decay). */
export type NonNegative = t.Branded<number, NonNegativeBrand>
/** A probability: a number in [0, 1]. */
export type Probability = t.Branded<number, ProbabilityBrand>
/** A number in [0, 1) (a dropout rate, a decay β). */
export type Fraction = t.Branded<number, FractionBrand>

const numberCodec = <A extends number>(name: string, ok: (n: number) => boolean): t.Type<A, number, unknown> =>
  new t.Type<A, number, unknown>(
    name,
    (u): u is A => typeof u === 'number' && ok(u),
    (u, c) => (typeof u === 'number' && ok(u) ? t.success(u as A) : t.failure(u, c)),
    (a) => a
  )

/**
 * Safe integers ≥ 1.
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.ok(Codec.PositiveInt.is(128))
 * assert.ok(![0, -1, 1.5, NaN, 2 ** 53, '3'].some((u) => Codec.PositiveInt.is(u)))
 * ```
 */
export const PositiveInt = numberCodec<PositiveInt>('positive integer', (n) => Number.isSafeInteger(n) && n >= 1)

/**
 * Safe integers ≥ 0.
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.ok(Codec.NonNegativeInt.is(0))
 * assert.ok(!Codec.NonNegativeInt.is(-1))
 * ```
 */
export const NonNegativeInt = numberCodec<NonNegativeInt>('non-negative integer', (n) => Number.isSafeInteger(n) && n >= 0)

/**
 * Safe integers, of either sign.
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.ok(Codec.SafeInt.is(-7))
 * assert.ok(!Codec.SafeInt.is(0.5) && !Codec.SafeInt.is(2 ** 60))
 * ```
 */
export const SafeInt = numberCodec<SafeInt>('integer', (n) => Number.isSafeInteger(n))

/**
 * Finite numbers (JSON cannot hold `NaN` or `Infinity`, but JavaScript callers can pass them).
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.ok(Codec.Finite.is(-0.5))
 * assert.ok(!Codec.Finite.is(NaN) && !Codec.Finite.is(Infinity))
 * ```
 */
export const Finite = numberCodec<Finite>('finite number', (n) => Number.isFinite(n))

/**
 * Finite numbers > 0.
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.ok(Codec.Positive.is(1e-3))
 * assert.ok(!Codec.Positive.is(0) && !Codec.Positive.is(Infinity))
 * ```
 */
export const Positive = numberCodec<Positive>('positive number', (n) => Number.isFinite(n) && n > 0)

/**
 * Finite numbers ≥ 0.
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.ok(Codec.NonNegative.is(0) && Codec.NonNegative.is(0.01))
 * assert.ok(!Codec.NonNegative.is(-1e-9) && !Codec.NonNegative.is(Infinity))
 * ```
 */
export const NonNegative = numberCodec<NonNegative>('non-negative number', (n) => Number.isFinite(n) && n >= 0)

/**
 * Probabilities: numbers in [0, 1].
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.ok(Codec.Probability.is(0) && Codec.Probability.is(1))
 * const bad = Codec.decodeWith(Codec.Probability, 1.5, 'p')
 * assert.ok(bad._tag === 'Left' && bad.left.message === 'p: expected probability in [0, 1], got 1.5')
 * ```
 */
export const Probability = numberCodec<Probability>('probability in [0, 1]', (n) => n >= 0 && n <= 1)

/**
 * Numbers in [0, 1): a dropout rate (1 would drop everything), a decay coefficient.
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.ok(Codec.Fraction.is(0) && Codec.Fraction.is(0.999))
 * assert.ok(!Codec.Fraction.is(1))
 * ```
 */
export const Fraction = numberCodec<Fraction>('number in [0, 1)', (n) => n >= 0 && n < 1)
