/**
 * Shapes at the type level and their runtime twins.
 *
 * A shape is a `readonly number[]`; written as a literal tuple (`[2, 3]`) TypeScript checks
 * every rule here at compile time and a broken rule becomes a named {@link ShapeMismatch}
 * type that carries the message. Each type-level rule has a runtime function that throws
 * {@link ShapeError} with the same words, for JavaScript callers and decoded files.
 *
 * @module
 */
import { ShapeError } from './error.js'
import type { IsLiteral, Lt, Product, Sub } from './nat.js'

/** A tensor shape: dimension sizes, outermost first (row-major). */
export type Shape = readonly number[]

/**
 * The named compile-time error of a broken shape rule. A parameter typed with it makes the
 * type checker print the message, e.g.
 * `... is not assignable to ShapeMismatch<"matmul: inner dimensions differ, [2,3] x [4,5] (3 vs 4)">`.
 */
export interface ShapeMismatch<Message extends string> {
  readonly __shapeError: Message
}

/** The same shape as a mutable tuple, so `[2, 3]` written anywhere means one type. */
export type Writable<S extends Shape> = { -readonly [K in keyof S]: S[K] }

/** `unknown` when a rule's result is a shape, the {@link ShapeMismatch} otherwise: intersect a parameter with it. */
export type Guard<R> = R extends ShapeMismatch<string> ? R : unknown

/** The shape part of a rule's result (a mismatch becomes `Shape`, since the call site already errs). */
export type Ok<R> = R extends ShapeMismatch<string> ? Shape : Extract<R, Shape>

/** True when `S` is a tuple whose rank is known (dimensions may still be `number`). */
export type IsTuple<S extends readonly unknown[]> = number extends S['length'] ? false : true

/**
 * A named dimension: any size at run time, a name in types and messages. A batch written
 * `Tensor<[Named<'B'>, 784]>` accepts every batch size, stays `Named<'B'>` through a model
 * (`Layer.apply` gives `Tensor<[Named<'B'>, 10]>`), and prints as `B` in a message.
 *
 * @example
 * ```ts
 * import { Shape, zeros } from 'lamina-nn'
 * import type { Tensor } from 'lamina-nn'
 * type Batch = Shape.Named<'B'>
 * const x: Tensor<[Batch, 784]> = zeros([32, 784])
 * const message: Shape.Show<[Batch, 784]> = '[B,784]'
 * ```
 */
export type Named<Name extends string> = number & { readonly __dimension?: Name }

/**
 * The free size of axis `I` while a rule is checked symbolically (a residual block must give
 * back exactly the sizes it was given, whatever they are); printed `d1`, `d2`, … in messages.
 */
export type Free<I extends number> = number & { readonly __free: I }

/**
 * A size computed from {@link Free} sizes that is not one of them (a convolution without padding
 * shrinks the image: `d1` becomes `d1 - 2`); printed `?`.
 */
export type Changed = number & { readonly __changed: true }

/**
 * How a message prints one dimension: its value, the name of a {@link Named} dimension, `d<axis>`
 * for a {@link Free} one, and `?` for a size known only at run time (`number`).
 */
export type DimText<N> = N extends { readonly __free: infer I extends number }
  ? `d${I}`
  : N extends { readonly __changed: true }
    ? '?'
    : number extends N
      ? N extends { readonly __dimension?: infer Name extends string }
        ? Name
        : '?'
      : `${N & number}`

type Join<S extends Shape> = S extends readonly []
  ? ''
  : S extends readonly [infer H]
    ? DimText<H>
    : S extends readonly [infer H, ...infer R extends Shape]
      ? `${DimText<H>},${Join<R>}`
      : string

/** The text form of a shape, `[2,3]` (`?` for a size known only at run time); {@link show} is its runtime twin. */
export type Show<S extends Shape> = IsTuple<S> extends true ? `[${Join<S>}]` : string

/**
 * The text form of a shape, as the type-level messages print it.
 *
 * @example
 * ```ts
 * import { Shape } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Shape.show([2, 3]), '[2,3]')
 * ```
 */
export const show = (s: Shape): string => `[${s.join(',')}]`

/**
 * Number of elements of a shape (1 for a scalar `[]`).
 *
 * @example
 * ```ts
 * import { Shape } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Shape.size([2, 3, 4]), 24)
 * assert.strictEqual(Shape.size([]), 1)
 * ```
 */
export const size = (s: Shape): number => s.reduce((n, d) => n * d, 1)

/**
 * Row-major strides: how far apart, in elements, consecutive indices of each axis are.
 *
 * @example
 * ```ts
 * import { Shape } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(Shape.strides([2, 3, 4]), [12, 4, 1])
 * ```
 */
export const strides = (s: Shape): number[] => {
  const out = new Array<number>(s.length)
  let acc = 1
  for (let i = s.length - 1; i >= 0; i--) {
    out[i] = acc
    acc *= s[i] as number
  }
  return out
}

/**
 * Whether two shapes are equal.
 *
 * @example
 * ```ts
 * import { Shape } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.ok(Shape.equals([2, 3], [2, 3]))
 * assert.ok(!Shape.equals([2, 3], [3, 2]))
 * ```
 */
export const equals = (a: Shape, b: Shape): boolean => a.length === b.length && a.every((d, i) => d === b[i])

/**
 * Throws unless every dimension is a non-negative safe integer.
 *
 * @example
 * ```ts
 * import { Shape, ShapeError } from 'lamina-nn'
 * import assert from 'node:assert'
 * Shape.validate([2, 0, 3], 'zeros')
 * assert.throws(() => Shape.validate([2, -1], 'zeros'), ShapeError)
 * ```
 */
export const validate = (s: Shape, op: string): void => {
  for (const d of s) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new ShapeError(`${op}: dimension ${String(d)} in ${show(s)} is not a non-negative integer`)
    }
  }
}

// ---------------------------------------------------------------- matmul

type MatDims<A extends Shape, T extends boolean> = A extends readonly [infer R extends number, infer C extends number]
  ? T extends true
    ? [C, R]
    : [R, C]
  : never

type DimsAgree<K1 extends number, K2 extends number> = IsLiteral<K1> extends true
  ? IsLiteral<K2> extends true
    ? K1 extends K2
      ? true
      : false
    : true
  : true

/**
 * The shape of `a · b` for rank-2 shapes, with optional transposes (`aᵀ·b`, `a·bᵀ`):
 * `[M,K] x [K,N]` gives `[M,N]`; {@link matmulShape} is the runtime twin.
 */
export type MatMul<A extends Shape, B extends Shape, TA extends boolean = false, TB extends boolean = false> =
  IsTuple<A> extends false
    ? Shape
    : IsTuple<B> extends false
      ? Shape
      : A['length'] extends 2
        ? B['length'] extends 2
          ? MatDims<A, TA> extends [infer M extends number, infer K extends number]
            ? MatDims<B, TB> extends [infer K2 extends number, infer N extends number]
              ? DimsAgree<K, K2> extends true
                ? [M, N]
                : ShapeMismatch<`matmul: inner dimensions differ, ${Show<A>} x ${Show<B>} (${K} vs ${K2})`>
              : never
            : never
          : ShapeMismatch<`matmul: expects rank-2 tensors, got ${Show<A>} and ${Show<B>}`>
        : ShapeMismatch<`matmul: expects rank-2 tensors, got ${Show<A>} and ${Show<B>}`>

/**
 * Runtime twin of {@link MatMul}.
 *
 * @example
 * ```ts
 * import { Shape, ShapeError } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(Shape.matmulShape([2, 3], [3, 4]), [2, 4])
 * assert.deepStrictEqual(Shape.matmulShape([3, 2], [3, 4], true), [2, 4])
 * assert.throws(() => Shape.matmulShape([2, 3], [4, 5]), /inner dimensions differ, \[2,3\] x \[4,5\] \(3 vs 4\)/)
 * ```
 */
export const matmulShape = (a: Shape, b: Shape, transposeA = false, transposeB = false): [number, number] => {
  if (a.length !== 2 || b.length !== 2) {
    throw new ShapeError(`matmul: expects rank-2 tensors, got ${show(a)} and ${show(b)}`)
  }
  const [m, k] = transposeA ? [a[1]!, a[0]!] : [a[0]!, a[1]!]
  const [k2, n] = transposeB ? [b[1]!, b[0]!] : [b[0]!, b[1]!]
  if (k !== k2) throw new ShapeError(`matmul: inner dimensions differ, ${show(a)} x ${show(b)} (${k} vs ${k2})`)
  return [m, n]
}

/** The shape of a batched product `[B,M,K] x [B,K,N]` = `[B,M,N]`; {@link batchMatmulShape} is the runtime twin. */
export type BatchMatMul<A extends Shape, B extends Shape, TA extends boolean = false, TB extends boolean = false> =
  IsTuple<A> extends false
    ? Shape
    : IsTuple<B> extends false
      ? Shape
      : A extends readonly [infer BA extends number, ...infer RA extends Shape]
        ? B extends readonly [infer BB extends number, ...infer RB extends Shape]
          ? A['length'] extends 3
            ? B['length'] extends 3
              ? DimsAgree<BA, BB> extends true
                ? MatMul<RA, RB, TA, TB> extends infer R
                  ? R extends readonly [infer M extends number, infer N extends number]
                    ? [BA, M, N]
                    : ShapeMismatch<`batchMatmul: inner dimensions differ, ${Show<A>} x ${Show<B>}`>
                  : never
                : ShapeMismatch<`batchMatmul: batch sizes differ, ${Show<A>} x ${Show<B>} (${BA} vs ${BB})`>
              : ShapeMismatch<`batchMatmul: expects rank-3 tensors, got ${Show<A>} and ${Show<B>}`>
            : ShapeMismatch<`batchMatmul: expects rank-3 tensors, got ${Show<A>} and ${Show<B>}`>
          : ShapeMismatch<`batchMatmul: expects rank-3 tensors, got ${Show<A>} and ${Show<B>}`>
        : ShapeMismatch<`batchMatmul: expects rank-3 tensors, got ${Show<A>} and ${Show<B>}`>

/**
 * Runtime twin of {@link BatchMatMul}.
 *
 * @example
 * ```ts
 * import { Shape } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(Shape.batchMatmulShape([5, 2, 3], [5, 3, 4]), [5, 2, 4])
 * assert.throws(() => Shape.batchMatmulShape([5, 2, 3], [4, 3, 4]), /batch sizes differ/)
 * ```
 */
export const batchMatmulShape = (a: Shape, b: Shape, transposeA = false, transposeB = false): [number, number, number] => {
  if (a.length !== 3 || b.length !== 3) {
    throw new ShapeError(`batchMatmul: expects rank-3 tensors, got ${show(a)} and ${show(b)}`)
  }
  if (a[0] !== b[0]) throw new ShapeError(`batchMatmul: batch sizes differ, ${show(a)} x ${show(b)} (${a[0]} vs ${b[0]})`)
  const [m, k] = transposeA ? [a[2]!, a[1]!] : [a[1]!, a[2]!]
  const [k2, n] = transposeB ? [b[2]!, b[1]!] : [b[1]!, b[2]!]
  if (k !== k2) throw new ShapeError(`batchMatmul: inner dimensions differ, ${show(a)} x ${show(b)}`)
  return [a[0]!, m, n]
}

// ---------------------------------------------------------------- broadcast

type BroadcastDim<A extends number, B extends number> = A extends 1
  ? B
  : B extends 1
    ? A
    : IsLiteral<A> extends false
      ? B
      : IsLiteral<B> extends false
        ? A
        : A extends B
          ? A
          : ShapeMismatch<`${A} vs ${B}`>

type BroadcastFromRight<A extends Shape, B extends Shape, SA extends Shape, SB extends Shape> =
  A extends readonly [...infer AI extends Shape, infer AL extends number]
    ? B extends readonly [...infer BI extends Shape, infer BL extends number]
      ? BroadcastDim<AL, BL> extends infer D
        ? D extends number
          ? BroadcastFromRight<AI, BI, SA, SB> extends infer R
            ? R extends Shape
              ? [...R, D]
              : R
            : never
          : ShapeMismatch<`broadcast: shapes ${Show<SA>} and ${Show<SB>} are incompatible (${AL} vs ${BL})`>
        : never
      : A
    : B

/**
 * The NumPy broadcast of two shapes (aligned from the right; a dimension 1 stretches), e.g.
 * a bias `[N]` over a batch `[B,N]` (seed 002). {@link broadcastShapes} is the runtime twin.
 */
export type Broadcast<A extends Shape, B extends Shape> = IsTuple<A> extends false
  ? Shape
  : IsTuple<B> extends false
    ? Shape
    : BroadcastFromRight<A, B, A, B>

/**
 * Runtime twin of {@link Broadcast}.
 *
 * @example
 * ```ts
 * import { Shape } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(Shape.broadcastShapes([4, 3], [3]), [4, 3])
 * assert.deepStrictEqual(Shape.broadcastShapes([4, 1], [1, 5]), [4, 5])
 * assert.throws(() => Shape.broadcastShapes([4, 3], [2]), /broadcast: shapes \[4,3\] and \[2\] are incompatible \(3 vs 2\)/)
 * ```
 */
export const broadcastShapes = (a: Shape, b: Shape): number[] => {
  const rank = Math.max(a.length, b.length)
  const out = new Array<number>(rank)
  for (let i = 1; i <= rank; i++) {
    const da = a.length - i >= 0 ? a[a.length - i]! : 1
    const db = b.length - i >= 0 ? b[b.length - i]! : 1
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(`broadcast: shapes ${show(a)} and ${show(b)} are incompatible (${da} vs ${db})`)
    }
    out[rank - i] = da === 1 ? db : da
  }
  return out
}

type StretchesTo<From extends Shape, To extends Shape> = From extends readonly [...infer FI extends Shape, infer FL extends number]
  ? To extends readonly [...infer TI extends Shape, infer TL extends number]
    ? FL extends 1
      ? StretchesTo<FI, TI>
      : IsLiteral<FL> extends false
        ? StretchesTo<FI, TI>
        : IsLiteral<TL> extends false
          ? StretchesTo<FI, TI>
          : FL extends TL
            ? StretchesTo<FI, TI>
            : false
    : false // From has more axes than To
  : true

/** `To` when `From` broadcasts to exactly `To`, a {@link ShapeMismatch} otherwise. */
export type BroadcastTo<From extends Shape, To extends Shape> = IsTuple<From> extends false
  ? To
  : IsTuple<To> extends false
    ? To
    : StretchesTo<From, To> extends true
      ? To
      : ShapeMismatch<`broadcastTo: cannot broadcast ${Show<From>} to ${Show<To>}`>

/**
 * Runtime twin of {@link BroadcastTo}: checks that `from` stretches to `to` without changing `to`.
 *
 * @example
 * ```ts
 * import { Shape } from 'lamina-nn'
 * import assert from 'node:assert'
 * Shape.checkBroadcastTo([3], [4, 3])
 * assert.throws(() => Shape.checkBroadcastTo([4, 3], [3]), /broadcastTo: cannot broadcast \[4,3\] to \[3\]/)
 * ```
 */
export const checkBroadcastTo = (from: Shape, to: Shape): void => {
  let ok = from.length <= to.length
  for (let i = 1; ok && i <= from.length; i++) {
    const d = from[from.length - i]!
    ok = d === 1 || d === to[to.length - i]
  }
  if (!ok) throw new ShapeError(`broadcastTo: cannot broadcast ${show(from)} to ${show(to)}`)
}

// ---------------------------------------------------------------- reductions

type NormalizeAxis<Ax extends number, Rank extends number> = Ax extends number ? (`${Ax}` extends `-${infer P extends number}` ? Sub<Rank, P> : Ax) : never

type AxisInRange<Ax extends number, Rank extends number> = number extends Ax
  ? true
  : `${Ax}` extends `-${infer P extends number}`
    ? Lt<Sub<P, 1>, Rank>
    : Lt<Ax, Rank>

type DropAxes<S extends Shape, Axes extends number, Keep extends boolean, I extends unknown[] = []> =
  S extends readonly [infer H extends number, ...infer R extends Shape]
    ? I['length'] extends Axes
      ? Keep extends true
        ? [1, ...DropAxes<R, Axes, Keep, [...I, 0]>]
        : DropAxes<R, Axes, Keep, [...I, 0]>
      : [H, ...DropAxes<R, Axes, Keep, [...I, 0]>]
    : []

type FirstBadAxis<Axes extends readonly number[], Rank extends number> = Axes extends readonly [
  infer A extends number,
  ...infer R extends readonly number[]
]
  ? AxisInRange<A, Rank> extends true
    ? FirstBadAxis<R, Rank>
    : A
  : never

/** Axes argument of a reduction: one axis, several, or `undefined` for all of them. */
export type Axes = number | readonly number[] | undefined

/**
 * The result shape of reducing `S` over `Ax` (`undefined`: every axis), keeping the reduced
 * axes as size 1 when `Keep` is true. Negative axes count from the end. {@link reduceShape}
 * is the runtime twin.
 */
export type Reduce<S extends Shape, Ax extends Axes, Keep extends boolean = false, Op extends string = 'reduce'> =
  IsTuple<S> extends false
    ? Shape
    : Ax extends undefined
      ? Keep extends true
        ? { [K in keyof S]: 1 }
        : []
      : Ax extends number
        ? Reduce<S, [Ax], Keep, Op>
        : Ax extends readonly number[]
          ? IsTuple<Ax> extends false ? Shape : number extends Ax[number]
            ? Shape
            : [FirstBadAxis<Ax, S['length']>] extends [never]
              ? DropAxes<S, NormalizeAxis<Ax[number], S['length']>, Keep>
              : ShapeMismatch<`${Op}: axis ${FirstBadAxis<Ax, S['length']>} is out of range for shape ${Show<S>}`>
            : never

/**
 * Normalizes `axes` (negative counts from the end) and checks their range.
 *
 * @example
 * ```ts
 * import { Shape } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(Shape.normalizeAxes([2, 3, 4], -1, 'sum'), [2])
 * assert.deepStrictEqual(Shape.normalizeAxes([2, 3], undefined, 'sum'), [0, 1])
 * assert.throws(() => Shape.normalizeAxes([2, 3], 2, 'sum'), /sum: axis 2 is out of range for shape \[2,3\]/)
 * ```
 */
export const normalizeAxes = (s: Shape, axes: Axes, op: string): number[] => {
  if (axes === undefined) return s.map((_, i) => i)
  const list = typeof axes === 'number' ? [axes] : axes
  const out: number[] = []
  for (const ax of list) {
    if (!Number.isInteger(ax) || ax >= s.length || ax < -s.length) {
      throw new ShapeError(`${op}: axis ${ax} is out of range for shape ${show(s)}`)
    }
    const n = ax < 0 ? ax + s.length : ax
    if (!out.includes(n)) out.push(n)
  }
  return out.sort((x, y) => x - y)
}

/**
 * Runtime twin of {@link Reduce}.
 *
 * @example
 * ```ts
 * import { Shape } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(Shape.reduceShape([2, 3, 4], 1, false, 'sum'), [2, 4])
 * assert.deepStrictEqual(Shape.reduceShape([2, 3, 4], [0, 2], true, 'sum'), [1, 3, 1])
 * assert.deepStrictEqual(Shape.reduceShape([2, 3], undefined, false, 'sum'), [])
 * ```
 */
export const reduceShape = (s: Shape, axes: Axes, keepdims: boolean, op: string): number[] => {
  const reduced = normalizeAxes(s, axes, op)
  const out: number[] = []
  s.forEach((d, i) => {
    if (!reduced.includes(i)) out.push(d)
    else if (keepdims) out.push(1)
  })
  return out
}

// ---------------------------------------------------------------- reshape, transpose

/**
 * `To` when it holds as many elements as `From`, a {@link ShapeMismatch} otherwise.
 * {@link checkReshape} is the runtime twin.
 */
export type Reshape<From extends Shape, To extends Shape> = IsTuple<From> extends false
  ? To
  : IsTuple<To> extends false
    ? To
    : IsLiteral<Product<From>> extends false
      ? To
      : IsLiteral<Product<To>> extends false
        ? To
        : Product<From> extends Product<To>
          ? To
          : ShapeMismatch<`reshape: cannot reshape ${Show<From>} (${Product<From>} elements) into ${Show<To>} (${Product<To>} elements)`>

/**
 * Runtime twin of {@link Reshape}.
 *
 * @example
 * ```ts
 * import { Shape } from 'lamina-nn'
 * import assert from 'node:assert'
 * Shape.checkReshape([2, 3], [3, 2])
 * assert.throws(() => Shape.checkReshape([2, 3], [4, 2]), /reshape: cannot reshape \[2,3\] \(6 elements\) into \[4,2\] \(8 elements\)/)
 * ```
 */
export const checkReshape = (from: Shape, to: Shape): void => {
  validate(to, 'reshape')
  if (size(from) !== size(to)) {
    throw new ShapeError(
      `reshape: cannot reshape ${show(from)} (${size(from)} elements) into ${show(to)} (${size(to)} elements)`
    )
  }
}

type Reversed<S extends Shape> = S extends readonly [infer H, ...infer R extends Shape] ? [...Reversed<R>, H] : []

type HasDuplicate<P extends readonly number[]> = P extends readonly [infer H, ...infer R extends readonly number[]]
  ? H extends R[number]
    ? true
    : HasDuplicate<R>
  : false

type AllBelow<P extends readonly number[], N extends number> = P extends readonly [
  infer H extends number,
  ...infer R extends readonly number[]
]
  ? `${H}` extends `-${string}`
    ? false
    : Lt<H, N> extends false
      ? false
      : AllBelow<R, N> // true, or boolean for a run-time axis: checked at run time
  : true

/**
 * The shape of a tensor whose axes are permuted by `Perm` (default: reversed, the matrix
 * transpose for rank 2). {@link transposeShape} is the runtime twin.
 */
export type Transpose<S extends Shape, Perm extends readonly number[] | undefined = undefined> =
  IsTuple<S> extends false
    ? Shape
    : Perm extends readonly number[]
      ? IsTuple<Perm> extends false
        ? Shape
        : Perm['length'] extends S['length']
          ? HasDuplicate<Perm> extends false
            ? AllBelow<Perm, S['length']> extends true
              ? { -readonly [K in keyof Perm]: S[Perm[K] & number] }
              : ShapeMismatch<`transpose: ${Show<Perm>} is not a permutation of the axes of ${Show<S>}`>
            : ShapeMismatch<`transpose: ${Show<Perm>} is not a permutation of the axes of ${Show<S>}`>
          : ShapeMismatch<`transpose: ${Show<Perm>} is not a permutation of the axes of ${Show<S>}`>
      : Reversed<S>

/**
 * Runtime twin of {@link Transpose}.
 *
 * @example
 * ```ts
 * import { Shape } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(Shape.transposeShape([2, 3, 4]), [4, 3, 2])
 * assert.deepStrictEqual(Shape.transposeShape([2, 3, 4], [0, 2, 1]), [2, 4, 3])
 * assert.throws(() => Shape.transposeShape([2, 3], [0, 0]), /transpose: \[0,0\] is not a permutation of the axes of \[2,3\]/)
 * ```
 */
export const transposeShape = (s: Shape, perm?: readonly number[]): number[] => {
  const p = perm ?? s.map((_, i) => s.length - 1 - i)
  const ok =
    p.length === s.length && p.every((a) => Number.isInteger(a) && a >= 0 && a < s.length) && new Set(p).size === p.length
  if (!ok) throw new ShapeError(`transpose: ${show(p)} is not a permutation of the axes of ${show(s)}`)
  return p.map((a) => s[a]!)
}

// ---------------------------------------------------------------- nested arrays

/** Nested arrays of numbers, as `tensor()` accepts them. */
export type Nested = number | readonly Nested[]

/** The shape of a nested array literal, e.g. `ShapeOf<[[1,2,3],[4,5,6]]>` is `[2, 3]`. */
export type ShapeOf<A> = Nested extends A
  ? Shape // only known to be nested arrays (e.g. parsed JSON): the rank is unknown
  : A extends number
  ? []
  : A extends readonly []
    ? [0]
    : A extends readonly [infer F, ...unknown[]]
      ? [A['length'], ...ShapeOf<F>]
      : A extends readonly (infer E)[]
        ? [number, ...ShapeOf<E>]
        : never
