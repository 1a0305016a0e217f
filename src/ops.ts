/**
 * The operations users call. Each checks its arguments (the runtime twin of its type-level
 * shape rule), inserts explicit broadcasts, and applies primitives through `bind`, so every
 * operation here is differentiable in every mode, to any order.
 *
 * Binary operations take tensors or plain numbers (a number is a scalar of the other
 * argument's dtype) and broadcast NumPy-style.
 *
 * @module
 */
import { ArgumentError, DTypeError, ShapeError } from './error.js'
import { bind, checkArity } from './prim.js'
import type { Prim, Relation } from './prim.js'
import * as Sh from './shape.js'
import type { Axes, BatchMatMul, Broadcast, BroadcastTo, Guard, MatMul, Ok, Reduce, Reshape, Shape, Transpose, Writable } from './shape.js'
import { Tensor, assertTensor, concreteBuffer, fromOwnedBuffer, allocate, full } from './tensor.js'
import type { DType, SameDType } from './tensor.js'

export type { DTypeMismatch, SameDType } from './tensor.js'

/** A tensor, or a plain number standing for a scalar. */
export type Operand = Tensor | number

/** The shape of an operand (`[]` for a number). */
export type ShapeOfOperand<X> = X extends number ? [] : X extends { readonly shape: infer S extends Shape } ? S : []

/** The dtype of an operand (`f64` for a number). */
export type DTypeOfOperand<X> = X extends Tensor<Shape, infer D> ? D : 'f64'

/** The dtype of a binary operation's result: a tensor's dtype wins over a number's. */
export type DTypeOf2<X, Y> = X extends Tensor<Shape, infer D> ? D : Y extends Tensor<Shape, infer E> ? E : 'f64'

/** Result of an elementwise binary operation. */
export type Binary<X, Y> = Tensor<Ok<Broadcast<ShapeOfOperand<X>, ShapeOfOperand<Y>>>, DTypeOf2<X, Y>>

/** The dtype check of a binary operation `Op` on `X` and `Y` (a number takes the tensor's dtype). */
export type DTypeGuard<X, Y, Op extends string> = X extends number ? unknown : Y extends number ? unknown : SameDType<DTypeOfOperand<X>, DTypeOfOperand<Y>, Op>

type BinaryGuard<X, Y, Op extends string> = Guard<Broadcast<ShapeOfOperand<X>, ShapeOfOperand<Y>>> & DTypeGuard<X, Y, Op>

const toTensor = (x: Operand, dtype: DType, op: string): Tensor => {
  if (typeof x === 'number') return full([], x, { dtype })
  assertTensor(x, op)
  return x
}

const dtypeOfPair = (a: Operand, b: Operand, op: string): DType => {
  if (a instanceof Tensor && b instanceof Tensor && a.dtype !== b.dtype) {
    throw new DTypeError(`${op}: dtypes differ: ${a.dtype} and ${b.dtype}; convert one with astype`)
  }
  if (a instanceof Tensor) return a.dtype
  if (b instanceof Tensor) return b.dtype
  if (typeof a !== 'number') assertTensor(a, op)
  if (typeof b !== 'number') assertTensor(b, op)
  return 'f64'
}

/**
 * Stretches `x` to `shape` by NumPy broadcasting (a bias `[N]` over a batch `[B,N]`).
 *
 * @example
 * ```ts
 * import { tensor, broadcastTo } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(broadcastTo(tensor([1, 2]), [2, 2]).toArray(), [[1, 2], [1, 2]])
 * ```
 */
export function broadcastTo<S extends Shape, D extends DType, const T extends Shape>(
  x: Tensor<S, D>,
  shape: T & Guard<BroadcastTo<S, T>>
): Tensor<Writable<T>, D> {
  assertTensor(x, 'broadcastTo')
  Sh.validate(shape, 'broadcastTo')
  Sh.checkBroadcastTo(x.shape, shape)
  return (Sh.equals(x.shape, shape) ? x : bind('broadcast', [x], { shape: [...shape] })) as Tensor<Writable<T>, D>
}

const binary = (prim: Prim, a: Operand, b: Operand): Tensor => {
  const dtype = dtypeOfPair(a, b, prim)
  const x = toTensor(a, dtype, prim)
  const y = toTensor(b, dtype, prim)
  const shape = Sh.broadcastShapes(x.shape, y.shape)
  const bx = Sh.equals(x.shape, shape) ? x : bind('broadcast', [x], { shape })
  const by = Sh.equals(y.shape, shape) ? y : bind('broadcast', [y], { shape })
  return bind(prim, [bx, by], {})
}

/**
 * Elementwise `a + b`, broadcasting.
 *
 * @example
 * ```ts
 * import { tensor, add } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(add(tensor([[1, 2], [3, 4]]), tensor([10, 20])).toArray(), [[11, 22], [13, 24]])
 * assert.deepStrictEqual(add(tensor([1, 2]), 1).toArray(), [2, 3])
 * ```
 */
export const add = <const X extends Operand, const Y extends Operand>(a: X, b: Y & BinaryGuard<X, Y, 'add'>): Binary<X, Y> =>
  binary('add', a, b) as Binary<X, Y>

/**
 * Elementwise `a − b`, broadcasting.
 *
 * @example
 * ```ts
 * import { tensor, sub } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(sub(tensor([5, 7]), tensor([1, 2])).toArray(), [4, 5])
 * assert.deepStrictEqual(sub(1, tensor([1, 2])).toArray(), [0, -1])
 * ```
 */
export const sub = <const X extends Operand, const Y extends Operand>(a: X, b: Y & BinaryGuard<X, Y, 'sub'>): Binary<X, Y> =>
  binary('sub', a, b) as Binary<X, Y>

/**
 * Elementwise `a · b`, broadcasting.
 *
 * @example
 * ```ts
 * import { tensor, mul } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(mul(tensor([1, 2, 3]), 2).toArray(), [2, 4, 6])
 * ```
 */
export const mul = <const X extends Operand, const Y extends Operand>(a: X, b: Y & BinaryGuard<X, Y, 'mul'>): Binary<X, Y> =>
  binary('mul', a, b) as Binary<X, Y>

/**
 * Elementwise `a / b`, broadcasting.
 *
 * @example
 * ```ts
 * import { tensor, div } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(div(tensor([1, 2]), 4).toArray(), [0.25, 0.5])
 * ```
 */
export const div = <const X extends Operand, const Y extends Operand>(a: X, b: Y & BinaryGuard<X, Y, 'div'>): Binary<X, Y> =>
  binary('div', a, b) as Binary<X, Y>

/**
 * Elementwise maximum. At a tie the gradient is split evenly between the two arguments.
 *
 * @example
 * ```ts
 * import { tensor, maximum } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(maximum(tensor([1, 5]), tensor([3, 2])).toArray(), [3, 5])
 * ```
 */
export const maximum = <const X extends Operand, const Y extends Operand>(a: X, b: Y & BinaryGuard<X, Y, 'maximum'>): Binary<X, Y> =>
  binary('maximum', a, b) as Binary<X, Y>

/**
 * Elementwise minimum. At a tie the gradient is split evenly between the two arguments.
 *
 * @example
 * ```ts
 * import { tensor, minimum } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(minimum(tensor([1, 5]), 2).toArray(), [1, 2])
 * ```
 */
export const minimum = <const X extends Operand, const Y extends Operand>(a: X, b: Y & BinaryGuard<X, Y, 'minimum'>): Binary<X, Y> =>
  binary('minimum', a, b) as Binary<X, Y>

/**
 * Elementwise `aᵇ` with a tensor exponent, broadcasting (`pow` takes a constant one). The value
 * is `Math.pow`'s, so a negative base with an integer exponent is real (`(−2)³ = −8`) and with
 * any other exponent NaN. The derivative in `b`, `aᵇ·ln a`, needs `a > 0` (it is NaN for `a < 0`)
 * and is computed only when `b` needs one.
 *
 * @example
 * ```ts
 * import { tensor, power, grad } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(power(tensor([2, -2, 9]), tensor([3, 3, 0.5])).toArray(), [8, -8, 3])
 * assert.strictEqual(grad((b: ReturnType<typeof tensor<number>>) => power(2, b))(tensor(3)).item(), 8 * Math.LN2)
 * ```
 */
export const power = <const X extends Operand, const Y extends Operand>(a: X, b: Y & BinaryGuard<X, Y, 'power'>): Binary<X, Y> =>
  binary('power', a, b) as Binary<X, Y>

/** Result of an elementwise unary operation. */
export type Unary<X> = Tensor<ShapeOfOperand<X>, DTypeOfOperand<X>>

const unary = (prim: Prim, x: Operand, params: object = {}): Tensor =>
  bind(prim, [toTensor(x, 'f64', prim)], params as never)

/**
 * Elementwise `−x`.
 *
 * @example
 * ```ts
 * import { tensor, neg } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(neg(tensor([1, -2])).toArray(), [-1, 2])
 * ```
 */
export const neg = <X extends Operand>(x: X): Unary<X> => unary('neg', x) as Unary<X>

/**
 * Elementwise `xᶜ` for a constant exponent `c`.
 *
 * @example
 * ```ts
 * import { tensor, pow } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(pow(tensor([2, 3]), 2).toArray(), [4, 9])
 * ```
 */
export const pow = <X extends Operand>(x: X, exponent: number): Unary<X> => {
  if (typeof exponent !== 'number' || Number.isNaN(exponent)) {
    throw new DTypeError(`pow: the exponent must be a number, got ${String(exponent)}`)
  }
  return unary('pow', x, { exponent }) as Unary<X>
}

/**
 * Elementwise `eˣ`.
 *
 * @example
 * ```ts
 * import { exp } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(exp(0).item(), 1)
 * ```
 */
export const exp = <X extends Operand>(x: X): Unary<X> => unary('exp', x) as Unary<X>

/**
 * Elementwise natural logarithm.
 *
 * @example
 * ```ts
 * import { tensor, log } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(log(tensor([1, Math.E])).toArray(), [0, 1])
 * ```
 */
export const log = <X extends Operand>(x: X): Unary<X> => unary('log', x) as Unary<X>

/**
 * Elementwise sine.
 *
 * @example
 * ```ts
 * import { sin } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(sin(0).item(), 0)
 * ```
 */
export const sin = <X extends Operand>(x: X): Unary<X> => unary('sin', x) as Unary<X>

/**
 * Elementwise cosine.
 *
 * @example
 * ```ts
 * import { cos } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(cos(0).item(), 1)
 * ```
 */
export const cos = <X extends Operand>(x: X): Unary<X> => unary('cos', x) as Unary<X>

/**
 * Elementwise hyperbolic tangent.
 *
 * @example
 * ```ts
 * import { tanh } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(tanh(0).item(), 0)
 * ```
 */
export const tanh = <X extends Operand>(x: X): Unary<X> => unary('tanh', x) as Unary<X>

/**
 * The logistic sigmoid σ(x) = 1 / (1 + e⁻ˣ), stable for large |x|.
 *
 * @example
 * ```ts
 * import { tensor, sigmoid } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(sigmoid(tensor([0, -1000, 1000])).toArray(), [0.5, 0, 1])
 * ```
 */
export const sigmoid = <X extends Operand>(x: X): Unary<X> => unary('sigmoid', x) as Unary<X>

/**
 * Rectified linear unit max(0, x); its derivative at 0 is taken as 0. NaN stays NaN (as
 * `Math.max(x, 0)`; the derivative there is 0).
 *
 * @example
 * ```ts
 * import { tensor, relu } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(relu(tensor([-1, 0, 2])).toArray(), [0, 0, 2])
 * ```
 */
export const relu = <X extends Operand>(x: X): Unary<X> => unary('relu', x) as Unary<X>

/**
 * Elementwise |x|; its derivative at 0 is taken as 0.
 *
 * @example
 * ```ts
 * import { tensor, abs } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(abs(tensor([-1, 2])).toArray(), [1, 2])
 * ```
 */
export const abs = <X extends Operand>(x: X): Unary<X> => unary('abs', x) as Unary<X>

/**
 * Elementwise square root.
 *
 * @example
 * ```ts
 * import { tensor, sqrt } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(sqrt(tensor([4, 9])).toArray(), [2, 3])
 * ```
 */
export const sqrt = <X extends Operand>(x: X): Unary<X> => unary('sqrt', x) as Unary<X>

/**
 * The error function erf(x) = (2/√π)∫₀ˣ e^(−t²) dt, used by the exact GELU.
 *
 * @example
 * ```ts
 * import { erf } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.ok(Math.abs(erf(1).item() - 0.8427007929497149) < 1e-15)
 * ```
 */
export const erf = <X extends Operand>(x: X): Unary<X> => unary('erf', x) as Unary<X>

/**
 * Softplus ζ(x) = log(1 + eˣ), computed as max(x, 0) + log1p(e^(−|x|)) so it never overflows.
 *
 * @example
 * ```ts
 * import { tensor, softplus } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(softplus(tensor([1000, -1000])).toArray(), [1000, 0])
 * ```
 */
export const softplus = <X extends Operand>(x: X): Unary<X> => unary('softplus', x) as Unary<X>

/**
 * Elementwise x².
 *
 * @example
 * ```ts
 * import { tensor, square } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(square(tensor([-3, 2])).toArray(), [9, 4])
 * ```
 */
export const square = <X extends Operand>(x: X): Unary<X> => {
  const t = toTensor(x, 'f64', 'square')
  return bind('mul', [t, t], {}) as Unary<X>
}

// ---------------------------------------------------------------- reductions

type Reduced<S extends Shape, D extends DType, Ax extends Axes, K extends boolean> = Tensor<Ok<Reduce<S, Ax, K>>, D>

const reduction = (prim: 'sum' | 'mean' | 'max' | 'min' | 'logsumexp', x: Tensor, axes: Axes, keepdims: boolean): Tensor => {
  assertTensor(x, prim)
  const normalized = Sh.normalizeAxes(x.shape, axes, prim)
  if ((prim === 'max' || prim === 'min') && normalized.some((a) => x.shape[a] === 0)) {
    throw new ShapeError(`${prim}: cannot reduce an empty axis of shape ${Sh.show(x.shape)}`)
  }
  return bind(prim, [x], { axes: normalized, keepdims })
}

/**
 * Sum over `axis` (one axis, a list, or all when omitted); `keepdims` keeps reduced axes as 1.
 *
 * @example
 * ```ts
 * import { tensor, sum } from 'lamina-nn'
 * import assert from 'node:assert'
 * const x = tensor([[1, 2], [3, 4]])
 * assert.strictEqual(sum(x).item(), 10)
 * assert.deepStrictEqual(sum(x, 0).toArray(), [4, 6])
 * assert.deepStrictEqual(sum(x, 1, true).toArray(), [[3], [7]])
 * ```
 */
export const sum = <S extends Shape, D extends DType, const Ax extends Axes = undefined, const K extends boolean = false>(
  x: Tensor<S, D>,
  axis?: Ax & Guard<Reduce<S, Ax, K, 'sum'>>,
  keepdims?: K
): Reduced<S, D, Ax, K> => reduction('sum', x, axis, keepdims ?? false) as Reduced<S, D, Ax, K>

/**
 * Mean over `axis` (all axes when omitted).
 *
 * @example
 * ```ts
 * import { tensor, mean } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(mean(tensor([[1, 2], [3, 4]]), 1).toArray(), [1.5, 3.5])
 * ```
 */
export const mean = <S extends Shape, D extends DType, const Ax extends Axes = undefined, const K extends boolean = false>(
  x: Tensor<S, D>,
  axis?: Ax & Guard<Reduce<S, Ax, K, 'mean'>>,
  keepdims?: K
): Reduced<S, D, Ax, K> => reduction('mean', x, axis, keepdims ?? false) as Reduced<S, D, Ax, K>

/**
 * Maximum over `axis` (all axes when omitted). The gradient is shared evenly among ties.
 *
 * @example
 * ```ts
 * import { tensor, max } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(max(tensor([[1, 5], [7, 2]]), 1).toArray(), [5, 7])
 * ```
 */
export const max = <S extends Shape, D extends DType, const Ax extends Axes = undefined, const K extends boolean = false>(
  x: Tensor<S, D>,
  axis?: Ax & Guard<Reduce<S, Ax, K, 'max'>>,
  keepdims?: K
): Reduced<S, D, Ax, K> => reduction('max', x, axis, keepdims ?? false) as Reduced<S, D, Ax, K>

/**
 * Minimum over `axis` (all axes when omitted). The gradient is shared evenly among ties, as
 * for {@link max}; an empty axis is a `ShapeError` (a minimum of nothing does not exist).
 *
 * @example
 * ```ts
 * import { tensor, min, grad } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(min(tensor([[1, 5], [7, 2]]), 1).toArray(), [1, 2])
 * assert.deepStrictEqual(min(tensor([[1, 5], [7, 2]]), 0, true).toArray(), [[1, 2]])
 * // two entries attain the minimum: each gets half of the gradient
 * assert.deepStrictEqual(grad((x: ReturnType<typeof tensor<number[]>>) => min(x))(tensor([3, 1, 1])).toArray(), [0, 0.5, 0.5])
 * ```
 */
export const min = <S extends Shape, D extends DType, const Ax extends Axes = undefined, const K extends boolean = false>(
  x: Tensor<S, D>,
  axis?: Ax & Guard<Reduce<S, Ax, K, 'min'>>,
  keepdims?: K
): Reduced<S, D, Ax, K> => reduction('min', x, axis, keepdims ?? false) as Reduced<S, D, Ax, K>

/**
 * log Σ exp(x) over `axis`, computed stably as m + log Σ exp(x − m) with m the maximum.
 *
 * @example
 * ```ts
 * import { tensor, logsumexp } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.ok(Math.abs(logsumexp(tensor([1000, 1000])).item() - (1000 + Math.LN2)) < 1e-9)
 * ```
 */
export const logsumexp = <S extends Shape, D extends DType, const Ax extends Axes = undefined, const K extends boolean = false>(
  x: Tensor<S, D>,
  axis?: Ax & Guard<Reduce<S, Ax, K, 'logsumexp'>>,
  keepdims?: K
): Reduced<S, D, Ax, K> => reduction('logsumexp', x, axis, keepdims ?? false) as Reduced<S, D, Ax, K>

/**
 * `x − m` along `axis`, m the maximum with non-finite values replaced by 0, taken through
 * `stopGradient`: softmax and log-softmax do not change when a constant is subtracted, so no
 * derivative flows through the shift, and the shifted values are small enough for float32.
 * Written with primitives, so a transformation that records the step sees the shift follow
 * the data. `m − m` is 0 exactly when m is finite.
 */
const shiftByMax = (x: Tensor, axis: number, op: string): Tensor => {
  const axes = Sh.normalizeAxes(x.shape, axis, op)
  const peak = bind('max', [x], { axes, keepdims: true })
  const finite = comparison(binary('sub', peak, peak), 0, '==', op)
  const shift = bind('stopGradient', [where(finite, peak, 0)], {})
  return binary('sub', x, shift)
}

/**
 * log softmax along `axis` (default the last), computed as (x − m) − log Σ exp(x − m) with m
 * the maximum: never −∞ or NaN for finite inputs, unlike log(softmax(x)), and accurate in
 * float32 even for logits of 1e4.
 *
 * @example
 * ```ts
 * import { tensor, logSoftmax } from 'lamina-nn'
 * import assert from 'node:assert'
 * const y = logSoftmax(tensor([0, 0])).toArray()
 * assert.ok(Math.abs(y[0]! - Math.log(0.5)) < 1e-15)
 * assert.ok(Number.isFinite(logSoftmax(tensor([1e4, -1e4])).toArray()[1]))
 * ```
 */
export const logSoftmax = <S extends Shape, D extends DType>(x: Tensor<S, D>, axis = -1): Tensor<S, D> => {
  assertTensor(x, 'logSoftmax')
  const shifted = shiftByMax(x, axis, 'logSoftmax')
  const lse = reduction('logsumexp', shifted, axis, true)
  return binary('sub', shifted, lse) as Tensor<S, D>
}

/**
 * softmax along `axis` (default the last): exp(x − m) / Σ exp(x − m) with m the maximum, so
 * it never overflows.
 *
 * @example
 * ```ts
 * import { tensor, softmax } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(softmax(tensor([1, 1])).toArray(), [0.5, 0.5])
 * assert.deepStrictEqual(softmax(tensor([1000, 1000])).toArray(), [0.5, 0.5])
 * ```
 */
export const softmax = <S extends Shape, D extends DType>(x: Tensor<S, D>, axis = -1): Tensor<S, D> => {
  assertTensor(x, 'softmax')
  const e = bind('exp', [shiftByMax(x, axis, 'softmax')], {})
  return binary('div', e, reduction('sum', e, axis, true)) as Tensor<S, D>
}

// ---------------------------------------------------------------- products

/** Transpose flags of the matrix products. */
export interface MatMulOptions<TA extends boolean, TB extends boolean> {
  readonly transposeA?: TA
  readonly transposeB?: TB
}

/**
 * Matrix product `op(a) · op(b)` of rank-2 tensors; `transposeA`/`transposeB` use the
 * transpose without materialising it (the backward pass needs `dY·wᵀ` and `xᵀ·dY`).
 *
 * @example
 * ```ts
 * import { tensor, matmul } from 'lamina-nn'
 * import assert from 'node:assert'
 * const a = tensor([[1, 2], [3, 4]])
 * assert.deepStrictEqual(matmul(a, tensor([[1], [1]])).toArray(), [[3], [7]])
 * assert.deepStrictEqual(matmul(a, a, { transposeA: true }).toArray(), [[10, 14], [14, 20]])
 * ```
 */
export const matmul = <
  A extends Shape,
  B extends Shape,
  D extends DType,
  E extends DType,
  const TA extends boolean = false,
  const TB extends boolean = false
>(
  a: Tensor<A, D>,
  b: Tensor<B, E> & (Guard<MatMul<A, B, TA, TB>> & SameDType<D, E, 'matmul'>),
  options?: MatMulOptions<TA, TB>
): Tensor<Ok<MatMul<A, B, TA, TB>>, D> => {
  assertTensor(a, 'matmul')
  assertTensor(b, 'matmul')
  dtypeOfPair(a, b, 'matmul')
  const transposeA = options?.transposeA ?? false
  const transposeB = options?.transposeB ?? false
  Sh.matmulShape(a.shape, b.shape, transposeA, transposeB)
  return bind('matmul', [a, b], { transposeA, transposeB }) as Tensor<Ok<MatMul<A, B, TA, TB>>, D>
}

/**
 * Batched matrix product `[B,M,K] × [B,K,N] → [B,M,N]`, with the same transpose flags.
 *
 * @example
 * ```ts
 * import { ones, batchMatmul } from 'lamina-nn'
 * import assert from 'node:assert'
 * const y = batchMatmul(ones([2, 1, 3]), ones([2, 3, 4]))
 * assert.deepStrictEqual(y.shape, [2, 1, 4])
 * assert.strictEqual(y.data[0], 3)
 * ```
 */
export const batchMatmul = <
  A extends Shape,
  B extends Shape,
  D extends DType,
  E extends DType,
  const TA extends boolean = false,
  const TB extends boolean = false
>(
  a: Tensor<A, D>,
  b: Tensor<B, E> & (Guard<BatchMatMul<A, B, TA, TB>> & SameDType<D, E, 'batchMatmul'>),
  options?: MatMulOptions<TA, TB>
): Tensor<Ok<BatchMatMul<A, B, TA, TB>>, D> => {
  assertTensor(a, 'batchMatmul')
  assertTensor(b, 'batchMatmul')
  dtypeOfPair(a, b, 'batchMatmul')
  const transposeA = options?.transposeA ?? false
  const transposeB = options?.transposeB ?? false
  Sh.batchMatmulShape(a.shape, b.shape, transposeA, transposeB)
  return bind('batchMatmul', [a, b], { transposeA, transposeB }) as Tensor<Ok<BatchMatMul<A, B, TA, TB>>, D>
}

// ---------------------------------------------------------------- structure

/**
 * The same elements in a new shape with as many elements.
 *
 * @example
 * ```ts
 * import { arange, reshape } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(reshape(arange(6), [2, 3]).toArray(), [[0, 1, 2], [3, 4, 5]])
 * ```
 */
export const reshape = <S extends Shape, D extends DType, const T extends Shape>(
  x: Tensor<S, D>,
  shape: T & Guard<Reshape<S, T>>
): Tensor<Writable<T>, D> => {
  assertTensor(x, 'reshape')
  Sh.checkReshape(x.shape, shape)
  return (Sh.equals(x.shape, shape) ? x : bind('reshape', [x], { shape: [...shape] })) as Tensor<Writable<T>, D>
}

/**
 * Permutes the axes (default: reverses them, the matrix transpose for rank 2).
 *
 * @example
 * ```ts
 * import { tensor, transpose } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(transpose(tensor([[1, 2, 3]])).toArray(), [[1], [2], [3]])
 * ```
 */
export const transpose = <S extends Shape, D extends DType, const P extends readonly number[] | undefined = undefined>(
  x: Tensor<S, D>,
  perm?: P & Guard<Transpose<S, P>>
): Tensor<Ok<Transpose<S, P>>, D> => {
  assertTensor(x, 'transpose')
  const p = perm ?? x.shape.map((_, i) => x.rank - 1 - i)
  Sh.transposeShape(x.shape, p)
  return bind('transpose', [x], { perm: [...p] }) as Tensor<Ok<Transpose<S, P>>, D>
}

/** The dtype check of `concat`: every tensor of a list written out has the first one's dtype. */
type ConcatGuard<Xs extends readonly unknown[]> = Xs extends readonly [infer F, ...infer R]
  ? R extends readonly [infer G, ...infer Rest]
    ? SameDType<DTypeOfOperand<F>, DTypeOfOperand<G>, 'concat'> extends infer C
      ? unknown extends C
        ? ConcatGuard<[F, ...Rest]>
        : C
      : never
    : unknown
  : unknown

/**
 * Joins tensors along `axis`; every other dimension must agree, and so must the dtypes.
 *
 * @example
 * ```ts
 * import { tensor, concat } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(concat([tensor([[1, 2]]), tensor([[3, 4]])], 0).toArray(), [[1, 2], [3, 4]])
 * ```
 */
export const concat = <const Xs extends readonly Tensor[]>(xs: Xs & ConcatGuard<Xs>, axis = 0): Tensor<Shape, DTypeOfOperand<Xs[number]>> => {
  if (!Array.isArray(xs) || xs.length === 0) throw new ShapeError('concat: expected a non-empty array of tensors')
  xs.forEach((x) => assertTensor(x, 'concat'))
  const first = xs[0]!
  const [ax] = Sh.normalizeAxes(first.shape, axis, 'concat')
  for (const x of xs) {
    dtypeOfPair(first, x, 'concat')
    if (x.rank !== first.rank || x.shape.some((d: number, i: number) => i !== ax && d !== first.shape[i])) {
      throw new ShapeError(`concat: shapes ${Sh.show(first.shape)} and ${Sh.show(x.shape)} differ off axis ${ax}`)
    }
  }
  checkArity('concat', xs.length)
  return (xs.length === 1 ? first : bind('concat', xs, { axis: ax! })) as Tensor<Shape, DTypeOfOperand<Xs[number]>>
}

/**
 * The block of `x` starting at `starts` with extent `sizes`.
 *
 * @example
 * ```ts
 * import { tensor, slice } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(slice(tensor([[1, 2, 3], [4, 5, 6]]), [0, 1], [2, 2]).toArray(), [[2, 3], [5, 6]])
 * ```
 */
export const slice = <S extends Shape, D extends DType, const Z extends Shape>(
  x: Tensor<S, D>,
  starts: readonly number[],
  sizes: Z
): Tensor<Writable<Z>, D> => {
  assertTensor(x, 'slice')
  const ok =
    starts.length === x.rank &&
    sizes.length === x.rank &&
    starts.every((s, i) => Number.isInteger(s) && s >= 0 && Number.isInteger(sizes[i]) && sizes[i]! >= 0 && s + sizes[i]! <= x.shape[i]!)
  if (!ok) {
    throw new ShapeError(`slice: block at ${Sh.show(starts)} of size ${Sh.show(sizes)} does not fit in shape ${Sh.show(x.shape)}`)
  }
  return bind('slice', [x], { starts: [...starts], sizes: [...sizes] }) as Tensor<Writable<Z>, D>
}

/** Options of {@link pad}. */
export interface PadOptions {
  /** The value of the new elements (default 0); it is a constant, so no derivative flows to it. */
  readonly value?: number
}

/**
 * `x` placed at `starts` inside a tensor of `shape` whose other elements are `value` (default
 * 0): the transpose of {@link slice}. Its derivative passes the tangent through padded with
 * zeros, and the gradient of `x` is the slice of the cotangent where `x` sits (the padding
 * gets none).
 *
 * @example
 * ```ts
 * import { tensor, pad, sum, mul, grad } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(pad(tensor([1, 2]), [1], [4]).toArray(), [0, 1, 2, 0])
 * assert.deepStrictEqual(pad(tensor([[1]]), [0, 1], [2, 2], { value: -1 }).toArray(), [[-1, 1], [-1, -1]])
 * const w = tensor([1, 2, 3, 4])
 * const g = grad((x: ReturnType<typeof tensor<number[]>>) => sum(mul(pad(x, [1], [4], { value: 9 }), w)))(tensor([5, 6]))
 * assert.deepStrictEqual(g.toArray(), [2, 3])
 * ```
 */
export const pad = <S extends Shape, D extends DType, const Z extends Shape>(
  x: Tensor<S, D>,
  starts: readonly number[],
  shape: Z,
  options?: PadOptions
): Tensor<Writable<Z>, D> => {
  assertTensor(x, 'pad')
  if (!Array.isArray(starts) || !Array.isArray(shape)) throw new ShapeError('pad: starts and shape must be arrays of integers')
  const ok =
    starts.length === x.rank &&
    shape.length === x.rank &&
    starts.every((s, i) => Number.isSafeInteger(s) && s >= 0 && Number.isSafeInteger(shape[i]) && s + x.shape[i]! <= shape[i]!)
  if (!ok) {
    throw new ShapeError(`pad: shape ${Sh.show(x.shape)} placed at ${Sh.show(starts)} does not fit in shape ${Sh.show(shape)}`)
  }
  const value = options?.value ?? 0
  if (typeof value !== 'number' || Number.isNaN(value)) throw new ArgumentError(`pad: value must be a number, got ${String(value)}`)
  return bind('pad', [x], value === 0 ? { starts: [...starts], shape: [...shape] } : { starts: [...starts], shape: [...shape], value }) as Tensor<Writable<Z>, D>
}

/**
 * `x` itself, with no derivative: forward and reverse mode treat it as a constant (zero
 * tangent, zero cotangent), at every order. Use it for targets computed from the model's own
 * output, or a shift that must not be differentiated.
 *
 * @example
 * ```ts
 * import { tensor, stopGradient, mul, grad } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(stopGradient(tensor([1, 2])).toArray(), [1, 2])
 * // d/dx [x · stopGradient(x)] = stopGradient(x) = x, not 2x
 * const g = grad((x: ReturnType<typeof tensor<number>>) => mul(x, stopGradient(x)))(tensor(3))
 * assert.strictEqual(g.item(), 3)
 * ```
 */
export const stopGradient = <X extends Operand>(x: X): Unary<X> => unary('stopGradient', x) as Unary<X>

/** `[a ⋈ b]` broadcast: the `compare` primitive, a mask whose derivative is zero (so it can be traced and compiled). */
const comparison = (a: Operand, b: Operand, relation: Relation, op: string): Tensor => {
  const dtype = dtypeOfPair(a, b, op)
  const x = toTensor(a, dtype, op)
  const y = toTensor(b, dtype, op)
  const shape = Sh.broadcastShapes(x.shape, y.shape)
  const bx = Sh.equals(x.shape, shape) ? x : bind('broadcast', [x], { shape })
  const by = Sh.equals(y.shape, shape) ? y : bind('broadcast', [y], { shape })
  return bind('compare', [bx, by], { relation })
}

/**
 * `1` where `a > b`, else `0`: a mask (comparisons have derivative zero).
 *
 * @example
 * ```ts
 * import { tensor, greater } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(greater(tensor([1, 3]), 2).toArray(), [0, 1])
 * ```
 */
export const greater = <const X extends Operand, const Y extends Operand>(a: X, b: Y & BinaryGuard<X, Y, 'greater'>): Binary<X, Y> =>
  comparison(a, b, '>', 'greater') as Binary<X, Y>

/**
 * `1` where `a < b`, else `0`: a mask.
 *
 * @example
 * ```ts
 * import { tensor, less } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(less(tensor([1, 3]), 2).toArray(), [1, 0])
 * ```
 */
export const less = <const X extends Operand, const Y extends Operand>(a: X, b: Y & BinaryGuard<X, Y, 'less'>): Binary<X, Y> =>
  comparison(a, b, '<', 'less') as Binary<X, Y>

/**
 * `1` where `a = b`, else `0`: a mask.
 *
 * @example
 * ```ts
 * import { tensor, equal } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(equal(tensor([1, 2]), 2).toArray(), [0, 1])
 * ```
 */
export const equal = <const X extends Operand, const Y extends Operand>(a: X, b: Y & BinaryGuard<X, Y, 'equal'>): Binary<X, Y> =>
  comparison(a, b, '==', 'equal') as Binary<X, Y>

/**
 * `cond ? a : b` elementwise (cond non-zero means true), broadcasting all three. The
 * condition is data: the derivative flows to `a` where it holds and to `b` elsewhere.
 *
 * @example
 * ```ts
 * import { tensor, where, greater } from 'lamina-nn'
 * import assert from 'node:assert'
 * const x = tensor([-1, 2])
 * assert.deepStrictEqual(where(greater(x, 0), x, 0).toArray(), [0, 2])
 * ```
 */
export const where = <const X extends Operand, const Y extends Operand>(cond: Tensor, a: X, b: Y & DTypeGuard<X, Y, 'where'>): Tensor<Shape, DTypeOf2<X, Y>> => {
  assertTensor(cond, 'where')
  const dtype = dtypeOfPair(a, b, 'where')
  const x = toTensor(a, dtype, 'where')
  const y = toTensor(b, dtype, 'where')
  const shape = Sh.broadcastShapes(Sh.broadcastShapes(cond.shape, x.shape), y.shape)
  const mask = Sh.equals(cond.shape, shape) ? cond : bind('broadcast', [cond], { shape })
  const bx = Sh.equals(x.shape, shape) ? x : bind('broadcast', [x], { shape })
  const by = Sh.equals(y.shape, shape) ? y : bind('broadcast', [y], { shape })
  return bind('select', [bx, by, mask], {}) as Tensor<Shape, DTypeOf2<X, Y>>
}

/**
 * The same values in another dtype. The result is a constant: derivatives do not flow through it.
 *
 * @example
 * ```ts
 * import { tensor, astype } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(astype(tensor([1.5]), 'f32').dtype, 'f32')
 * ```
 */
export const astype = <S extends Shape, E extends DType>(x: Tensor<S, DType>, dtype: E): Tensor<S, E> => {
  assertTensor(x, 'astype')
  if (x.dtype === dtype) return x as Tensor<S, E>
  const src = concreteBuffer(x)
  const out = allocate(dtype, src.length)
  out.set(src)
  return fromOwnedBuffer(x.shape, dtype, out)
}
