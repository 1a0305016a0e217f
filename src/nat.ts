/**
 * Type-level arithmetic on non-negative integer literal types, so tensor shapes
 * can be computed at compile time.
 *
 * Numbers go through their decimal strings (template literal types) into short
 * digit lists, not tuple lengths, so recursion depth grows with the number of
 * digits rather than the value: anything up to 2^53 is fine.
 *
 * Conventions shared by every operation:
 * - `number` (or any type that is not a non-negative integer literal, e.g. `-1`
 *   or `1.5`) as an operand gives `number` (`boolean` for comparisons), so
 *   dynamically shaped code still type-checks.
 * - Unions distribute: `Add<1 | 2, 10>` is `11 | 12`.
 * - Results are never wrong, only widened: a result that is not exactly a JS
 *   number (most values above 2^53, all from 10^21) becomes `number`. Literal
 *   operands above 2^53 are already rounded by TypeScript itself.
 *
 * @module
 */

// ---- internals ---------------------------------------------------------

type Digit = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
/** Little-endian digits: 123 is `[3, 2, 1]`, so carries walk forwards. */
type Digits = Digit[];

/** Tuple of length N; only used for single-digit work (N < 100). */
type Tup<N extends number, Acc extends 0[] = []> = Acc['length'] extends N ? Acc : Tup<N, [...Acc, 0]>;
/** X < Y for small X, Y (digits, digit counts). */
type LtN<X extends number, Y extends number> = Tup<Y> extends [...Tup<X>, 0, ...0[]] ? true : false;
/** Split 0..99 into `[low digit, high digit]`. */
type Split<N> = `${N & number}` extends `${infer H extends Digit}${infer L extends Digit}`
  ? [L, H]
  : [N & Digit, 0];
/** X * Y for single digits, as a tuple length. */
type Times<X extends number, Y extends number, Acc extends unknown[] = [], I extends 0[] = []> = I['length'] extends Y
  ? Acc
  : Times<X, Y, [...Acc, ...Tup<X>], [...I, 0]>;

type Head<D extends Digits> = D extends [infer H extends Digit, ...Digits] ? H : 0;
type Tail<D extends Digits> = D extends [Digit, ...infer R extends Digits] ? R : [];

type IsDigitString<S extends string> = S extends `${Digit}${infer R}`
  ? R extends '' ? true : IsDigitString<R>
  : false;
/** Non-negative integer literal (not `number`, negative or fractional). */
type IsNat<N extends number> = number extends N ? false : IsDigitString<`${N}`>;
type Both<A extends number, B extends number> = [IsNat<A>, IsNat<B>] extends [true, true] ? true : false;
type IsUnion<T, U = T> = T extends unknown ? ([U] extends [T] ? false : true) : never;

/** `"123"` -> `[3, 2, 1]`. */
type Parse<S extends string, Acc extends Digits = []> = S extends `${infer D extends Digit}${infer R}`
  ? Parse<R, [D, ...Acc]>
  : Acc;
type P<N extends number> = Parse<`${N}`>;
/** Drop leading zeros (trailing here), keeping at least one digit. */
type Trim<D extends Digits> = D extends [...infer R extends Digits, 0] ? (R extends [] ? [0] : Trim<R>) : D;
type Show<D extends Digits, Acc extends string = ''> = D extends [infer H extends Digit, ...infer R extends Digits]
  ? Show<R, `${H}${Acc}`>
  : Acc;
/** Back to a number literal; `number` when TS won't round-trip it (inexact, or >= 1e21). */
type ToNum<D extends Digits> = Show<Trim<D>> extends `${infer N extends number}` ? N : number;

type AddD<A extends Digits, B extends Digits, C extends number = 0, Acc extends Digits = []> = [A, B, C] extends [
  [],
  [],
  0,
]
  ? Acc
  : Split<[...Tup<Head<A>>, ...Tup<Head<B>>, ...Tup<C>]['length']> extends [infer L extends Digit, infer H extends Digit]
    ? AddD<Tail<A>, Tail<B>, H, [...Acc, L]>
    : never;

/** A - B, assuming A >= B; W is the borrow. */
type SubD<A extends Digits, B extends Digits, W extends number = 0, Acc extends Digits = []> = A extends [
  infer X extends Digit,
  ...infer AR extends Digits,
]
  ? Tup<X> extends [...Tup<Head<B>>, ...Tup<W>, ...infer R extends 0[]]
    ? SubD<AR, Tail<B>, 0, [...Acc, R['length'] & Digit]>
    : [...Tup<X>, ...Tup<10>] extends [...Tup<Head<B>>, ...Tup<W>, ...infer R extends 0[]]
      ? SubD<AR, Tail<B>, 1, [...Acc, R['length'] & Digit]>
      : never
  : Trim<Acc>;

/** A * d for a single digit d; C is the carry. */
type MulDigit<A extends Digits, D extends Digit, C extends number = 0, Acc extends Digits = []> = A extends [
  infer X extends Digit,
  ...infer R extends Digits,
]
  ? Split<[...Times<X, D>, ...Tup<C>]['length']> extends [infer L extends Digit, infer H extends Digit]
    ? MulDigit<R, D, H, [...Acc, L]>
    : never
  : [...Acc, C & Digit];

/** Schoolbook multiplication: one shifted partial product per digit of B. */
type MulD<A extends Digits, B extends Digits, Shift extends 0[] = [], Acc extends Digits = [0]> = B extends [
  infer D extends Digit,
  ...infer R extends Digits,
]
  ? MulD<A, R, [...Shift, 0], AddD<Acc, [...Shift, ...MulDigit<A, D>]>>
  : Acc;

/** Trimmed inputs only. */
type Cmp<A extends Digits, B extends Digits> = A['length'] extends B['length']
  ? CmpMsd<A, B>
  : LtN<A['length'], B['length']> extends true ? 'lt' : 'gt';
type CmpMsd<A extends Digits, B extends Digits> = [A, B] extends [
  [...infer AR extends Digits, infer X extends Digit],
  [...infer BR extends Digits, infer Y extends Digit],
]
  ? X extends Y ? CmpMsd<AR, BR> : LtN<X, Y> extends true ? 'lt' : 'gt'
  : 'eq';

/** Long division, most significant digit first: `[quotient, remainder]`. */
type DivMod<A extends Digits, B extends Digits, Q extends Digits = [], R extends Digits = [0]> = A extends [
  ...infer AR extends Digits,
  infer X extends Digit,
]
  ? Reduce<Trim<[X, ...R]>, B> extends [infer D extends Digit, infer R2 extends Digits]
    ? DivMod<AR, B, [D, ...Q], R2>
    : never
  : [Trim<Q>, R];
/** Subtract B from R while R >= B (at most 9 times): `[count, rest]`. */
type Reduce<R extends Digits, B extends Digits, Q extends 0[] = []> = Cmp<R, B> extends 'lt'
  ? [Q['length'] & Digit, R]
  : Reduce<SubD<R, B>, B, [...Q, 0]>;

// ---- public API ----------------------------------------------------------
// Each operation starts with `A extends unknown ? B extends unknown ?` to
// distribute over unions before checking that both sides are literals.

/**
 * `true` if N is one specific non-negative integer literal; `false` for
 * `number`, unions, `never`, and negative or fractional literals.
 *
 * @example
 * ```ts
 * import type { Nat } from 'lamina-nn'
 * const a: Nat.IsLiteral<784> = true
 * const b: Nat.IsLiteral<number> = false
 * const c: Nat.IsLiteral<1 | 2> = false
 * // @ts-expect-error: a union is not one literal
 * const d: Nat.IsLiteral<1 | 2> = true
 * ```
 */
export type IsLiteral<N extends number> = [N] extends [never]
  ? false
  : true extends IsUnion<N> ? false : IsNat<N>;

/**
 * A + B.
 *
 * @example
 * ```ts
 * import type { Nat } from 'lamina-nn'
 * const n: Nat.Add<999, 1> = 1000
 * // @ts-expect-error: the sum is exactly 1000, not just some number
 * const m: Nat.Add<999, 1> = 1001
 * ```
 */
export type Add<A extends number, B extends number> = A extends unknown
  ? B extends unknown
    ? Both<A, B> extends true ? ToNum<AddD<P<A>, P<B>>> : number
    : never
  : never;

/**
 * A - B; `never` when B > A (naturals have no negatives).
 *
 * @example
 * ```ts
 * import type { Nat } from 'lamina-nn'
 * const n: Nat.Sub<1000, 1> = 999
 * // @ts-expect-error: 1 - 2 is never, so no value fits
 * const x: Nat.Sub<1, 2> = 0
 * ```
 */
export type Sub<A extends number, B extends number> = A extends unknown
  ? B extends unknown
    ? Both<A, B> extends true ? (Cmp<P<A>, P<B>> extends 'lt' ? never : ToNum<SubD<P<A>, P<B>>>) : number
    : never
  : never;

/**
 * A * B.
 *
 * @example
 * ```ts
 * import type { Nat } from 'lamina-nn'
 * const n: Nat.Mul<784, 128> = 100352
 * ```
 */
export type Mul<A extends number, B extends number> = A extends unknown
  ? B extends unknown
    ? Both<A, B> extends true ? ToNum<MulD<P<A>, P<B>>> : number
    : never
  : never;

/**
 * Floor division A / B; `never` when B is 0.
 *
 * @example
 * ```ts
 * import type { Nat } from 'lamina-nn'
 * // a 3x3 conv then a 2x2 pool on a 32-wide image leaves 15
 * const pooled: Nat.Div<Nat.Add<Nat.Sub<32, 3>, 1>, 2> = 15
 * const n: Nat.Div<7, 2> = 3
 * ```
 */
export type Div<A extends number, B extends number> = A extends unknown
  ? B extends unknown
    ? Both<A, B> extends true ? (B extends 0 ? never : ToNum<DivMod<P<A>, P<B>>[0]>) : number
    : never
  : never;

/**
 * A mod B (remainder of {@link Div}); `never` when B is 0.
 *
 * @example
 * ```ts
 * import type { Nat } from 'lamina-nn'
 * const n: Nat.Mod<7, 2> = 1
 * ```
 */
export type Mod<A extends number, B extends number> = A extends unknown
  ? B extends unknown
    ? Both<A, B> extends true ? (B extends 0 ? never : ToNum<DivMod<P<A>, P<B>>[1]>) : number
    : never
  : never;

/**
 * A < B as a boolean literal (`boolean` if either side is `number`).
 *
 * @example
 * ```ts
 * import type { Nat } from 'lamina-nn'
 * const t: Nat.Lt<9, 10> = true
 * // @ts-expect-error: 9 < 10 is decided at compile time
 * const f: Nat.Lt<9, 10> = false
 * ```
 */
export type Lt<A extends number, B extends number> = A extends unknown
  ? B extends unknown
    ? Both<A, B> extends true ? (Cmp<P<A>, P<B>> extends 'lt' ? true : false) : boolean
    : never
  : never;

/**
 * A <= B as a boolean literal (`boolean` if either side is `number`).
 *
 * @example
 * ```ts
 * import type { Nat } from 'lamina-nn'
 * const t: Nat.Lte<10, 10> = true
 * // @ts-expect-error: 10 <= 10 is decided at compile time
 * const f: Nat.Lte<10, 10> = false
 * ```
 */
export type Lte<A extends number, B extends number> = A extends unknown
  ? B extends unknown
    ? Both<A, B> extends true ? (Cmp<P<A>, P<B>> extends 'gt' ? false : true) : boolean
    : never
  : never;

/**
 * A = B as a boolean literal (`boolean` if either side is `number`).
 *
 * @example
 * ```ts
 * import type { Nat } from 'lamina-nn'
 * const t: Nat.Eq<Nat.Mul<16, 36>, 576> = true
 * // @ts-expect-error: 16 * 36 = 576 is decided at compile time
 * const f: Nat.Eq<Nat.Mul<16, 36>, 576> = false
 * ```
 */
export type Eq<A extends number, B extends number> = A extends unknown
  ? B extends unknown
    ? Both<A, B> extends true ? (`${A}` extends `${B}` ? true : false) : boolean
    : never
  : never;

/**
 * The larger of A and B.
 *
 * @example
 * ```ts
 * import type { Nat } from 'lamina-nn'
 * const n: Nat.Max<3, 12> = 12
 * ```
 */
export type Max<A extends number, B extends number> = A extends unknown
  ? B extends unknown
    ? Both<A, B> extends true ? (Cmp<P<A>, P<B>> extends 'lt' ? B : A) : number
    : never
  : never;

/**
 * Product of a tuple of sizes (a shape's element count); `[]` gives 1 and a
 * non-tuple `number[]` gives `number`.
 *
 * @example
 * ```ts
 * import type { Nat } from 'lamina-nn'
 * const n: Nat.Product<[16, 6, 6]> = 576
 * const one: Nat.Product<[]> = 1
 * ```
 */
export type Product<T extends readonly number[]> = ProductAcc<T, 1>;
type ProductAcc<T extends readonly number[], Acc extends number> = T extends readonly [
  infer H extends number,
  ...infer R extends readonly number[],
]
  ? ProductAcc<R, Mul<Acc, H>>
  : T extends readonly [] ? Acc : number;
