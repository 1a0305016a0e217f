/**
 * `Tensor<S, D>`: an immutable, row-major array of `f32` or `f64` numbers whose shape `S`
 * lives in the type. No method mutates; every op returns a new tensor.
 *
 * A tensor is either concrete (it owns a buffer) or traced: inside `grad`, `jvp` and friends
 * the same API carries a {@link Tracer} that records or propagates derivatives. Reading
 * values (`toArray`, `item`, `data`) works for both: a traced tensor reads its primal.
 *
 * @module
 */
import { ArgumentError, DTypeError } from './error.js'
import * as Sh from './shape.js'
import type { Nested, Shape, ShapeOf } from './shape.js'

/** Element type: 32- or 64-bit IEEE floats. */
export type DType = 'f32' | 'f64'

/**
 * The named compile-time error of mixing dtypes in one operation. A parameter typed with it
 * makes the type checker print the message, e.g.
 * `... is not assignable to parameter of type '... & DTypeMismatch<"add: dtypes differ: f32 and f64; convert one with astype">'`;
 * the operation throws a `DTypeError` with the same words at run time.
 */
export interface DTypeMismatch<Message extends string> {
  readonly __dtypeError: Message
}

type Box<T> = { readonly v: T }
type IsOneDType<D> = Box<D> extends Box<'f32'> ? true : Box<D> extends Box<'f64'> ? true : false

/**
 * `unknown` when tensors of dtypes `A` and `B` may meet in the operation `Op`, the
 * {@link DTypeMismatch} naming both otherwise. A dtype not known at compile time (`DType`) is
 * checked at run time.
 */
export type SameDType<A, B, Op extends string> = Box<A> extends Box<B>
  ? unknown
  : IsOneDType<A> extends true
    ? IsOneDType<B> extends true
      ? DTypeMismatch<`${Op}: dtypes differ: ${A & string} and ${B & string}; convert one with astype`>
      : unknown
    : unknown

/** The storage of a dtype. */
export type Buffer = Float32Array | Float64Array

/** A read-only view of a tensor's elements (row-major). */
export interface ReadonlyBuffer extends Iterable<number> {
  readonly [index: number]: number
  readonly length: number
}

/**
 * A value inside a running transformation (`jvp`, `grad`, …). The level orders nested
 * transformations: the innermost one has the highest level.
 */
export interface Tracer {
  readonly level: number
  /** The value this tracer stands for, itself possibly traced at a lower level. */
  readonly primal: Tensor
  readonly trace: Trace
}

/** The interpreter of one transformation level: it receives every primitive applied to its tracers. */
export interface Trace {
  readonly level: number
  process(prim: string, args: readonly Tensor[], params: unknown): Tensor
}

type Repr = { readonly tag: 'concrete'; readonly buffer: Buffer } | { readonly tag: 'traced'; readonly tracer: Tracer }

/**
 * An immutable tensor of shape `S` and dtype `D`. Build one with {@link tensor},
 * {@link fromBuffer}, {@link zeros}, … — not with `new`.
 *
 * @example
 * ```ts
 * import { tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const t = tensor([[1, 2, 3], [4, 5, 6]])
 * assert.deepStrictEqual(t.shape, [2, 3])
 * assert.strictEqual(t.dtype, 'f64')
 * assert.deepStrictEqual(t.toArray(), [[1, 2, 3], [4, 5, 6]])
 * ```
 */
export class Tensor<S extends Shape = Shape, D extends DType = DType> {
  /** @internal */
  readonly repr: Repr

  /** @internal use the constructors */
  constructor(
    readonly shape: S,
    readonly dtype: D,
    repr: Repr
  ) {
    this.repr = repr
    Object.freeze(this)
  }

  /** Number of elements. */
  get size(): number {
    return Sh.size(this.shape)
  }

  /** Number of axes. */
  get rank(): number {
    return this.shape.length
  }

  /** The elements, row-major, read-only. A traced tensor gives its primal's elements. */
  get data(): ReadonlyBuffer {
    return concreteBuffer(this)
  }

  /** The elements as (nested) plain arrays; a scalar gives a number. */
  toArray(): NestedOf<S> {
    return unflatten(concreteBuffer(this), this.shape) as NestedOf<S>
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new ArgumentError(`item: expected a tensor with one element, got shape ${Sh.show(this.shape)}`)
    return concreteBuffer(this)[0]!
  }

  toString(): string {
    return `Tensor(${Sh.show(this.shape)}, ${this.dtype}${isTraced(this) ? ', traced' : ''})`
  }
}

/** The nested array type of a shape: `NestedOf<[2,3]>` is `number[][]`. */
export type NestedOf<S extends Shape> = S extends readonly [] ? number : S extends readonly [unknown, ...infer R extends Shape] ? NestedOf<R>[] : Nested

/** The buffer of a concrete tensor, or of the innermost primal of a traced one. */
export const concreteBuffer = (t: Tensor): Buffer => {
  let cur: Tensor = t
  while (cur.repr.tag === 'traced') cur = cur.repr.tracer.primal
  return cur.repr.buffer
}

/** Whether a tensor is traced by some running transformation. */
export const isTraced = (t: Tensor): boolean => t.repr.tag === 'traced'

/** The tracer of a traced tensor, `undefined` for a concrete one. */
export const tracerOf = (t: Tensor): Tracer | undefined => (t.repr.tag === 'traced' ? t.repr.tracer : undefined)

/** @internal wraps a buffer the caller promises never to touch again */
export const fromOwnedBuffer = <S extends Shape, D extends DType>(shape: S, dtype: D, buffer: Buffer): Tensor<S, D> =>
  new Tensor(Object.freeze([...shape]) as unknown as S, dtype, { tag: 'concrete', buffer })

/** @internal wraps a tracer; its shape and dtype are the primal's */
export const fromTracer = (tracer: Tracer): Tensor =>
  new Tensor(tracer.primal.shape, tracer.primal.dtype, { tag: 'traced', tracer })

/** A new zeroed buffer of the dtype. */
export const allocate = (dtype: DType, n: number): Buffer => (dtype === 'f32' ? new Float32Array(n) : new Float64Array(n))

/** Above this many elements {@link sharedZeros} allocates instead, so one huge request does not pin its memory. */
const SHARED_ZEROS_MAX = 2 ** 22
// one zeroed array per dtype, grown to the longest request; never written
const zeroArrays: { f32: Float32Array; f64: Float64Array } = { f32: new Float32Array(0), f64: new Float64Array(0) }

/**
 * @internal `n` zeros as a view of one cached array (no allocation after the first request of
 * that length), for an operand that is only read, such as the 0 that relu's derivative compares
 * with. Whoever receives it must never write to it.
 */
export const sharedZeros = (dtype: DType, n: number): Buffer => {
  if (n > SHARED_ZEROS_MAX) return allocate(dtype, n)
  if (zeroArrays[dtype].length < n) {
    const grown = Math.min(SHARED_ZEROS_MAX, Math.max(n, 2 * zeroArrays[dtype].length))
    if (dtype === 'f32') zeroArrays.f32 = new Float32Array(grown)
    else zeroArrays.f64 = new Float64Array(grown)
  }
  return zeroArrays[dtype].subarray(0, n)
}

/** @internal Whether a buffer is a view from {@link sharedZeros} (all zeros, so a backend may skip reading it). */
export const isSharedZeros = (b: Buffer): boolean => b.length > 0 && (b.buffer === zeroArrays.f32.buffer || b.buffer === zeroArrays.f64.buffer)

/** Options of the constructors. */
export interface Options<D extends DType> {
  readonly dtype?: D
}

/**
 * Returns the dtype if it is `'f32'` or `'f64'`, and throws a `DTypeError` naming it otherwise.
 *
 * @example
 * ```ts
 * import { checkDType, DTypeError } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(checkDType('f32'), 'f32')
 * assert.throws(() => checkDType('i32'), DTypeError)
 * ```
 */
export const checkDType = (d: unknown): DType => {
  if (d !== 'f32' && d !== 'f64') throw new DTypeError(`unknown dtype ${JSON.stringify(d)}: expected 'f32' or 'f64'`)
  return d
}

const flatten = (data: Nested, shape: number[], out: number[], depth: number, path: string): void => {
  if (typeof data === 'number') {
    if (depth !== shape.length) throw new ArgumentError(`tensor: ragged nested array: a number at ${path || 'the top'} where an array of length ${shape[depth]} was expected`)
    out.push(data)
    return
  }
  if (!Array.isArray(data)) throw new ArgumentError(`tensor: expected a number or an array at ${path || 'the top'}, got ${typeof data}`)
  if (depth === shape.length) throw new ArgumentError(`tensor: ragged nested array: an array at ${path} where a number was expected`)
  if (data.length !== shape[depth]) {
    throw new ArgumentError(`tensor: ragged nested array: length ${data.length} at ${path || 'the top'}, expected ${shape[depth]}`)
  }
  data.forEach((d, i) => flatten(d as Nested, shape, out, depth + 1, `${path}[${i}]`))
}

const inferShape = (data: Nested): number[] => {
  const shape: number[] = []
  let cur: Nested = data
  while (Array.isArray(cur)) {
    shape.push(cur.length)
    if (cur.length === 0) break
    cur = cur[0] as Nested
  }
  return shape
}

const unflatten = (buf: ReadonlyBuffer, shape: Shape): Nested => {
  if (shape.length === 0) return buf[0]!
  const go = (offset: number, axis: number): Nested => {
    const n = shape[axis]!
    if (axis === shape.length - 1) return Array.from({ length: n }, (_, i) => buf[offset + i]!)
    const step = Sh.size(shape.slice(axis + 1))
    return Array.from({ length: n }, (_, i) => go(offset + i * step, axis + 1))
  }
  return go(0, 0)
}

/**
 * A tensor from a number or nested arrays; the shape is inferred as a literal tuple.
 * The dtype defaults to `f64`.
 *
 * @example
 * ```ts
 * import { tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const s = tensor(2.5)
 * assert.deepStrictEqual(s.shape, [])
 * assert.strictEqual(s.item(), 2.5)
 * const m = tensor([[1, 2], [3, 4]], { dtype: 'f32' })
 * assert.strictEqual(m.dtype, 'f32')
 * ```
 */
export function tensor<const A extends Nested, D extends DType = 'f64'>(data: A, options?: Options<D>): Tensor<ShapeOf<A>, NoInfer<D>> {
  const dtype = checkDType(options?.dtype ?? 'f64') as D
  const shape = inferShape(data)
  const flat: number[] = []
  flatten(data, shape, flat, 0, '')
  const buf = allocate(dtype, flat.length)
  buf.set(flat)
  return fromOwnedBuffer(shape as unknown as ShapeOf<A>, dtype, buf)
}

/** The dtype {@link fromBuffer} gives data of type `A` when no dtype is asked for: `f32` for a `Float32Array`, `f64` otherwise. */
export type DTypeOfData<A> = A extends Float32Array ? 'f32' : 'f64'

/**
 * A tensor from a flat array (copied) and a shape. The dtype defaults to the data's: `f32`
 * for a `Float32Array` (in the type too), `f64` otherwise.
 *
 * @example
 * ```ts
 * import { fromBuffer } from 'lamina-nn'
 * import assert from 'node:assert'
 * const t = fromBuffer(new Float64Array([1, 2, 3, 4, 5, 6]), [2, 3])
 * assert.deepStrictEqual(t.toArray(), [[1, 2, 3], [4, 5, 6]])
 * const s = fromBuffer(new Float32Array([1, 2]), [2]) // Tensor<[2], 'f32'>
 * assert.strictEqual(s.dtype, 'f32')
 * ```
 */
export function fromBuffer<const S extends Shape, A extends ArrayLike<number> = ArrayLike<number>, D extends DType = DTypeOfData<A>>(
  data: A,
  shape: S,
  options?: Options<D>
): Tensor<Sh.Writable<S>, NoInfer<D>> {
  const dtype = checkDType(options?.dtype ?? (data instanceof Float32Array ? 'f32' : 'f64')) as D
  Sh.validate(shape, 'fromBuffer')
  if (data.length !== Sh.size(shape)) {
    throw new ArgumentError(`fromBuffer: ${data.length} values do not fill shape ${Sh.show(shape)} (${Sh.size(shape)} elements)`)
  }
  const buf = allocate(dtype, data.length)
  // a float typed array is copied directly (Array.from of a minibatch costs milliseconds)
  buf.set(data instanceof Float32Array || data instanceof Float64Array ? data : Array.from(data))
  return fromOwnedBuffer(shape, dtype, buf)
}

/**
 * A tensor of the shape filled with `value`.
 *
 * @example
 * ```ts
 * import { full } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(full([2, 2], 7).toArray(), [[7, 7], [7, 7]])
 * ```
 */
export function full<const S extends Shape, D extends DType = 'f64'>(shape: S, value: number, options?: Options<D>): Tensor<Sh.Writable<S>, NoInfer<D>> {
  const dtype = checkDType(options?.dtype ?? 'f64') as D
  Sh.validate(shape, 'full')
  const buf = allocate(dtype, Sh.size(shape))
  buf.fill(value)
  return fromOwnedBuffer(shape, dtype, buf)
}

/**
 * A tensor of zeros.
 *
 * @example
 * ```ts
 * import { zeros } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(zeros([2]).toArray(), [0, 0])
 * ```
 */
export const zeros = <const S extends Shape, D extends DType = 'f64'>(shape: S, options?: Options<D>): Tensor<Sh.Writable<S>, NoInfer<D>> =>
  full(shape, 0, options)

/**
 * A tensor of ones.
 *
 * @example
 * ```ts
 * import { ones } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(ones([1, 2]).toArray(), [[1, 1]])
 * ```
 */
export const ones = <const S extends Shape, D extends DType = 'f64'>(shape: S, options?: Options<D>): Tensor<Sh.Writable<S>, NoInfer<D>> =>
  full(shape, 1, options)

/**
 * The `n × n` identity matrix.
 *
 * @example
 * ```ts
 * import { eye } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(eye(2).toArray(), [[1, 0], [0, 1]])
 * ```
 */
export function eye<const N extends number, D extends DType = 'f64'>(n: N, options?: Options<D>): Tensor<[N, N], NoInfer<D>> {
  const dtype = checkDType(options?.dtype ?? 'f64') as D
  Sh.validate([n], 'eye')
  const buf = allocate(dtype, n * n)
  for (let i = 0; i < n; i++) buf[i * n + i] = 1
  return fromOwnedBuffer([n, n] as [N, N], dtype, buf)
}

/**
 * `[start, start + step, …]` up to but excluding `stop`; with one argument, `0 … n−1`.
 *
 * @example
 * ```ts
 * import { arange } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(arange(4).toArray(), [0, 1, 2, 3])
 * assert.deepStrictEqual(arange(1, 2, 0.25).toArray(), [1, 1.25, 1.5, 1.75])
 * ```
 */
export function arange<D extends DType = 'f64'>(startOrStop: number, stop?: number, step = 1, options?: Options<D>): Tensor<[number], NoInfer<D>> {
  const dtype = checkDType(options?.dtype ?? 'f64') as D
  const [start, end] = stop === undefined ? [0, startOrStop] : [startOrStop, stop]
  if (!Number.isFinite(start) || !Number.isFinite(end) || !Number.isFinite(step) || step === 0) {
    throw new ArgumentError(`arange: expected finite bounds and a non-zero step, got (${start}, ${end}, ${step})`)
  }
  const n = Math.max(0, Math.ceil((end - start) / step))
  const buf = allocate(dtype, n)
  for (let i = 0; i < n; i++) buf[i] = start + i * step
  return fromOwnedBuffer([n] as [number], dtype, buf)
}

/**
 * Throws a {@link DTypeError} unless the value is a lamina tensor of a float dtype.
 *
 * @example
 * ```ts
 * import { tensor, assertTensor, DTypeError } from 'lamina-nn'
 * import assert from 'node:assert'
 * assertTensor(tensor([1]), 'grad')
 * assert.throws(() => assertTensor(new Int32Array([1]), 'grad'), DTypeError)
 * ```
 */
export function assertTensor(x: unknown, op: string): asserts x is Tensor {
  if (!(x instanceof Tensor)) {
    const what = x === null ? 'null' : typeof x === 'object' ? (x.constructor?.name ?? 'object') : typeof x
    throw new DTypeError(`${op}: expected a float tensor (f32 or f64), got ${what}`)
  }
}
