/**
 * The backend interface: the numeric kernels that primitives run on concrete buffers.
 * `cpu` is the float64/float32 reference every other backend is compared with.
 *
 * @module
 */
import type { Buffer, DType } from '../tensor.js'
import type { Shape } from '../shape.js'
import type { ConvGeometry, Pair, PoolGeometry, WindowWeights } from './conv.js'
import type { AdamBuffers, AdamScalars } from './optimizer-updates.js'

/** How a reduction combines elements. */
export type ReduceKind = 'sum' | 'max' | 'min'

/** Elementwise binary operations with their own kernels. */
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'minimum'

/** Elementwise unary operations with their own kernels (`pow` takes an exponent). */
export type UnaryOp = 'neg' | 'exp' | 'log' | 'sin' | 'cos' | 'tanh' | 'sigmoid' | 'relu' | 'abs' | 'sqrt' | 'erf' | 'softplus' | 'pow'

/** The comparisons of the `compare` primitive. */
export type Relation = '>' | '<' | '>=' | '<=' | '==' | '!='

/**
 * Each relation as a function.
 *
 * @example
 * ```ts
 * import { Prim } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.ok(Prim.relations['>='](2, 2) && !Prim.relations['!='](2, 2))
 * ```
 */
export const relations: { readonly [R in Relation]: (a: number, b: number) => boolean } = {
  '>': (a, b) => a > b,
  '<': (a, b) => a < b,
  '>=': (a, b) => a >= b,
  '<=': (a, b) => a <= b,
  '==': (a, b) => a === b,
  '!=': (a, b) => a !== b
}

/** The kernels a backend provides. Buffers are row-major; inputs are never written. */
export interface Backend {
  readonly name: string
  /** `f` applied to every element. */
  map(x: Buffer, f: (v: number) => number, dtype: DType): Buffer
  /** A named elementwise binary operation on two equally long buffers. */
  binary(op: BinaryOp, a: Buffer, b: Buffer, dtype: DType): Buffer
  /** A named elementwise unary operation (`param`: the exponent of `pow`). */
  unary(op: UnaryOp, x: Buffer, dtype: DType, param?: number): Buffer
  /** `f` applied to pairs of elements of two equally long buffers. */
  zip(a: Buffer, b: Buffer, f: (x: number, y: number) => number, dtype: DType): Buffer
  /** `x` of shape `from` stretched to shape `to` (broadcasting rules already checked). */
  broadcastTo(x: Buffer, from: Shape, to: Shape, dtype: DType): Buffer
  /** Reduces the (sorted, normalized) `axes` of `x`. */
  reduce(x: Buffer, shape: Shape, axes: readonly number[], kind: ReduceKind, dtype: DType): Buffer
  /**
   * `log Σ exp(x)` over the (sorted, normalized) `axes`, computed stably (shifted by the
   * maximum; an infinite or NaN maximum is the result).
   */
  logSumExp(x: Buffer, shape: Shape, axes: readonly number[], dtype: DType): Buffer
  /** `op(a) · op(b)` for rank-2 `a`, `b`, where `op` transposes when its flag is set. */
  matmul(a: Buffer, aShape: Shape, b: Buffer, bShape: Shape, transposeA: boolean, transposeB: boolean, dtype: DType): Buffer
  /** `op(a[i]) · op(b[i])` for every batch index `i` of rank-3 `a`, `b`. */
  batchMatmul(a: Buffer, aShape: Shape, b: Buffer, bShape: Shape, transposeA: boolean, transposeB: boolean, dtype: DType): Buffer
  /** Axes permuted: output axis `i` is input axis `perm[i]`. */
  transpose(x: Buffer, shape: Shape, perm: readonly number[], dtype: DType): Buffer
  /** The block `starts … starts + sizes` of `x`. */
  slice(x: Buffer, shape: Shape, starts: readonly number[], sizes: readonly number[], dtype: DType): Buffer
  /** `x` placed at `starts` inside a buffer of shape `outShape` filled with `value`. */
  pad(x: Buffer, shape: Shape, starts: readonly number[], outShape: Shape, value: number, dtype: DType): Buffer
  /** The buffers joined along `axis`. */
  concat(xs: readonly Buffer[], shapes: readonly Shape[], axis: number, dtype: DType): Buffer
  /** `a[i] ⋈ b[i] ? 1 : 0` for the relation ⋈ (a mask in the dtype). */
  compare(relation: Relation, a: Buffer, b: Buffer, dtype: DType): Buffer
  /** `mask[i] ? a[i] : b[i]` (mask non-zero means true). */
  select(mask: Buffer, a: Buffer, b: Buffer, dtype: DType): Buffer
  /** NCHW convolution `[B, C, H, W] ⋆ [O, C, kh, kw]`, plus `bias[o]` when given (./conv.ts; a backend without its own kernel delegates to the cpu's). */
  conv2d(x: Buffer, xShape: Shape, w: Buffer, wShape: Shape, geometry: ConvGeometry, dtype: DType, bias?: Buffer): Buffer
  /** The convolution's input gradient from the cotangent `[B, O, Ho, Wo]` (a transposed convolution); `inputSize` is `[H, W]`. */
  conv2dInputGrad(ct: Buffer, ctShape: Shape, w: Buffer, wShape: Shape, geometry: ConvGeometry, inputSize: Pair, dtype: DType): Buffer
  /** The convolution's filter gradient `[O, C, kh, kw]` from the input and the cotangent; `kernel` is `[kh, kw]`. */
  conv2dFilterGrad(x: Buffer, xShape: Shape, ct: Buffer, ctShape: Shape, geometry: ConvGeometry, kernel: Pair, dtype: DType): Buffer
  /** The maximum of each pooling window (padding counts as −∞). */
  maxPool2d(x: Buffer, shape: Shape, geometry: PoolGeometry, dtype: DType): Buffer
  /** The weighted sum of each pooling window; without weights, their average with the padding counted as zeros. */
  avgPool2d(x: Buffer, shape: Shape, geometry: PoolGeometry, weights: WindowWeights | undefined, dtype: DType): Buffer
  /** The transpose of `avgPool2d`: each window's cotangent spread over its taps, into `[B, C, ...inputSize]`. */
  avgPool2dTranspose(ct: Buffer, ctShape: Shape, geometry: PoolGeometry, weights: WindowWeights | undefined, inputSize: Pair, dtype: DType): Buffer
  /** Max pooling's JVP: per window of `x` (of `shape`), the mean of the tangent `t` (also `shape`) over the taps where `x` equals the window's maximum `max`. */
  maxPool2dGather(t: Buffer, x: Buffer, max: Buffer, shape: Shape, geometry: PoolGeometry, dtype: DType): Buffer
  /** Max pooling's VJP, the transpose of `maxPool2dGather`: each window's cotangent shared among its maxima, into `shape`. */
  maxPool2dSpread(ct: Buffer, x: Buffer, max: Buffer, shape: Shape, geometry: PoolGeometry, dtype: DType): Buffer
  /** The optimizers' fused update `p − η·g` (`Optim.sgd`; updates are never differentiated). */
  sgdUpdate(p: Buffer, g: Buffer, lr: number, dtype: DType): Buffer
  /** One fused Adam step of a parameter and its moments (`Optim.adam`, `Optim.adamw`; see `./optimizer-updates.ts`). */
  adamUpdate(p: Buffer, g: Buffer, m: Buffer, v: Buffer, scalars: AdamScalars, dtype: DType): AdamBuffers
}
