/**
 * Convolutional layers over images laid out NCHW (batch, channels, height, width): the 2-D
 * convolution (cross-correlation, as in every deep-learning library), max and average pooling
 * of seed 004's LeNet, and global average pooling; and the functions under them, which take
 * every option (non-square windows, dilation, `'same'` padding with uneven splits, pooling
 * padding).
 *
 * Each is one primitive of the rule table (`conv2d`, `maxPool2d`, `avgPool2d`), whose
 * derivatives are primitives too (the transposed convolution, the filter correlation, the
 * window spread), so derivatives of every order come from the table and the gradient laws
 * check them like any other primitive. float32 runs im2col on the WebAssembly SIMD product.
 *
 * Output sizes follow the floor rule ⌊(n + 2·padding − kernel) / stride⌋ + 1 at compile time
 * (`Conv2dOut` in `Layer`) and at run time, with the same messages.
 *
 * @example
 * ```ts
 * import { Conv, Layer, Layers, Random, zeros } from 'lamina-nn'
 * import assert from 'node:assert'
 * // seed 004's LeNet: 32×32 → conv 3 → 30 → pool → 15 → conv 3 → 13 → pool → 6, so fc1 takes 16·6·6 = 576
 * const lenet = Layer.sequential(
 *   Layers.reshape([1, 32, 32]),
 *   Conv.conv2d(1, 6, 3), Layers.relu(), Conv.maxPool2d(2),
 *   Conv.conv2d(6, 16, 3), Layers.relu(), Conv.maxPool2d(2),
 *   Layers.flatten(), Layers.dense(576, 120), Layers.relu(), Layers.dense(120, 84), Layers.relu(), Layers.dense(84, 10)
 * )
 * const params = lenet.init(Random.key(0))
 * assert.deepStrictEqual(Layer.apply(lenet, params, zeros([2, 1024])).shape, [2, 10])
 * ```
 *
 * @module
 */
import { conv2dShape as convShape, pool2dShape, resolvePadding } from '../backend/conv.js'
import type { ConvGeometry, Padding, Pair, PoolGeometry } from '../backend/conv.js'
import { ArgumentError, DTypeError, ShapeError } from '../error.js'
import { bind } from '../prim.js'
import * as Random from '../random.js'
import * as Sh from '../shape.js'
import type { Shape } from '../shape.js'
import type { Tensor } from '../tensor.js'
import * as Init from './init.js'
import type { Initializer } from './init.js'
import { accepts, describe } from './layer.js'
import type { Layer, Stateless, Transform } from './layer.js'

// ---------------------------------------------------------------- arguments and shapes

/** The arguments of a `conv2d` shape rule (see `Conv2dOut`); `out: 0` keeps the channel count. */
export interface Conv2dArgs<Out extends number, K extends number, St extends number, P extends number, Op extends string> {
  readonly out: Out
  readonly kernel: K
  readonly stride: St
  readonly padding: P
  readonly op: Op
}

/** Options of {@link conv2d}. */
export interface Conv2dOptions<St extends number = number, P extends number = number> {
  /** Step between windows, in both directions (default 1). */
  readonly stride?: St
  /** Zeros added on every side of the image, in both directions (default 0). */
  readonly padding?: P
  /** Weight initializer (default He normal, N(0, 2/(inChannels·k·k)), for ReLU networks). */
  readonly weights?: Initializer
  /** Bias initializer (default zeros). */
  readonly bias?: Initializer
}

/**
 * Parameters of a convolution: `w: [out, in, k, k]` (PyTorch's layout), `b: [out]`. A type
 * alias rather than an interface, so that it is a `Tree` that `grad` accepts as it is.
 */
export type Conv2dParams<Cin extends number, Cout extends number, K extends number> = {
  readonly w: Tensor<[Cout, Cin, K, K]>
  readonly b: Tensor<[Cout]>
}

/** Options of {@link maxPool2d} and {@link avgPool2d}. */
export interface MaxPool2dOptions<St extends number = number, P extends number = number> {
  /** Step between windows (default the kernel size: windows tile the image without overlap). */
  readonly stride?: St
  /**
   * Padding on every side (default 0), smaller than the kernel: −∞ for max pooling (it never
   * wins), zeros counted in the average for average pooling (PyTorch's `count_include_pad=True`).
   */
  readonly padding?: P
}

/** Options of {@link avgPool2d}: those of {@link maxPool2d}. */
export type AvgPool2dOptions<St extends number = number, P extends number = number> = MaxPool2dOptions<St, P>

/** Padding as the functions take it: a mode, one size for every side, `[height, width]`, or `[top, bottom, left, right]`. */
export type PaddingOption = 'same' | 'valid' | number | Pair | Padding

/** Options of {@link convolve}. */
export interface ConvolveOptions {
  /** Step between windows: one number, or `[along height, along width]` (default 1). */
  readonly stride?: number | Pair
  /** Spacing of the filter's taps: one number or `[dh, dw]` (default 1, adjacent taps). */
  readonly dilation?: number | Pair
  /**
   * Zero padding (default `'valid'`, none). `'same'` gives ⌈n/stride⌉ outputs, the odd one of an
   * uneven total at the bottom and the right (TensorFlow's split).
   */
  readonly padding?: PaddingOption
  /** A bias per filter, `[O]`, added to every output pixel of its channel (default none). */
  readonly bias?: Tensor
}

/** Options of {@link maxPool} and {@link avgPool}. */
export interface PoolOptions {
  /** Step between windows: one number or `[sh, sw]` (default the window: no overlap). */
  readonly stride?: number | Pair
  /** Padding (default `'valid'`), smaller than the window on every side; `'same'` as in {@link ConvolveOptions}. */
  readonly padding?: PaddingOption
}

const positive = (op: string, what: string, n: number): void => {
  if (!Number.isSafeInteger(n) || n < 1) throw new ArgumentError(`${op}: ${what} must be a positive integer, got ${n}`)
}

const dim = (n: number): string => (n === -1 ? '?' : `${n}`)

/** Output size along one axis, ⌊(n + 2p − k)/s⌋ + 1, `-1` for an unknown size, `undefined` when the window does not fit. */
const outSize = (n: number, k: number, s: number, p: number): number | undefined =>
  n === -1 ? -1 : n + 2 * p < k ? undefined : Math.floor((n + 2 * p - k) / s) + 1

/**
 * The runtime twin of `Conv2dOut`: the per-example shape `[c, h, w]` after a window of
 * `kernel` at `stride` over the image padded by `padding` (`out = 0` keeps the channels).
 */
const conv2dShape = (op: string, out: number, kernel: number, stride: number, padding: number, input: Shape): Shape => {
  if (input.length !== 3) throw new ShapeError(`${op} expects shape [channels,height,width] but got ${describe(input)}`)
  const [c, h, w] = input as readonly [number, number, number]
  const ho = outSize(h, kernel, stride, padding)
  const wo = outSize(w, kernel, stride, padding)
  if (ho === undefined || wo === undefined) {
    throw new ShapeError(`${op}: a ${kernel}x${kernel} window does not fit in shape [${dim(c)},${dim(h)},${dim(w)}]`)
  }
  return [out === 0 ? c : out, ho, wo]
}

/** Checks a batch `[B, c, h, w]` against the layer's per-example input, with the words of composition. */
const checkImages = (op: string, expected: Shape, x: Tensor): void => {
  if (x.rank < 1) throw new ShapeError(`${op} expects a batch [batch, channels, height, width] but got a scalar`)
  const example = x.shape.slice(1)
  if (example.length !== 3) throw new ShapeError(`${op} expects shape [channels,height,width] but got ${describe(example)} (batch ${Sh.show(x.shape)})`)
  if (!accepts(expected, example)) {
    throw new ShapeError(`${op} expects ${describe(expected)} but got ${describe(example)} (batch ${Sh.show(x.shape)})`)
  }
}

// ---------------------------------------------------------------- the functions

const pair = (op: string, what: string, v: number | Pair): Pair => {
  const p: Pair = typeof v === 'number' ? [v, v] : v
  if (!Array.isArray(p) || p.length !== 2) throw new ArgumentError(`${op}: ${what} must be a number or two numbers, got ${JSON.stringify(v)}`)
  p.forEach((n) => positive(op, what, n))
  return p
}

const batchOfImages = (op: string, x: Tensor): Pair => {
  if (x.rank !== 4) throw new ShapeError(`${op}: expects images [batch, channels, height, width], got shape ${Sh.show(x.shape)}`)
  return [x.shape[2]!, x.shape[3]!]
}

const explicit = (op: string, padding: PaddingOption, input: Pair, kernel: Pair, stride: Pair, dilation: Pair): Padding => {
  const ok = padding === 'same' || padding === 'valid' || typeof padding === 'number' || (Array.isArray(padding) && (padding.length === 2 || padding.length === 4))
  if (!ok) throw new ArgumentError(`${op}: the padding must be 'same', 'valid', a number, two or four numbers, got ${JSON.stringify(padding)}`)
  const p = resolvePadding(padding, input, kernel, stride, dilation)
  if (!p.every((n) => Number.isSafeInteger(n) && n >= 0)) throw new ArgumentError(`${op}: the padding must be non-negative integers, got ${JSON.stringify(padding)}`)
  return p
}

/**
 * 2-D convolution (cross-correlation) of images `x: [B, C, H, W]` with filters
 * `w: [O, C, kh, kw]`: `y[b,o,i,j] = Σ_{c,u,v} w[o,c,u,v]·x[b, c, i·sh + u·dh − top, j·sw + v·dw − left]`
 * (zero outside the image), plus `bias[o]` when given, `[B, O, Ho, Wo]`. One `conv2d`
 * primitive: differentiable in every argument, to any order.
 *
 * @example
 * ```ts
 * import { Conv, fromBuffer, grad, sum } from 'lamina-nn'
 * import assert from 'node:assert'
 * const x = fromBuffer([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [1, 1, 3, 4])
 * // a 1x2 filter (non-square), dilation 2 along the width: x[i, j] + x[i, j + 2]
 * const w = fromBuffer([1, 1], [1, 1, 1, 2])
 * assert.deepStrictEqual(Conv.convolve(x, w, { dilation: [1, 2] }).toArray(), [[[[4, 6], [12, 14], [20, 22]]]])
 * // 'same': 3x4 in, 3x4 out, the uneven padding (one column) on the right
 * assert.deepStrictEqual(Conv.convolve(x, fromBuffer([1, 10], [1, 1, 1, 2]), { padding: 'same' }).toArray(), [[[[21, 32, 43, 4], [65, 76, 87, 8], [109, 120, 131, 12]]]])
 * // the filter's gradient sums the input under each tap: columns 0–2 (54) and 1–3 (63)
 * assert.deepStrictEqual(grad((v: typeof w) => sum(Conv.convolve(x, v)))(w).toArray(), [[[[54, 63]]]])
 * ```
 */
export const convolve = (x: Tensor, w: Tensor, options?: ConvolveOptions): Tensor => {
  const input = batchOfImages('convolve', x)
  if (w.rank !== 4) throw new ShapeError(`convolve: expects filters [out, in, height, width], got shape ${Sh.show(w.shape)}`)
  if (x.dtype !== w.dtype) throw new DTypeError(`convolve: dtypes differ: ${x.dtype} and ${w.dtype}; convert one with astype`)
  const stride = pair('convolve', 'the stride', options?.stride ?? 1)
  const dilation = pair('convolve', 'the dilation', options?.dilation ?? 1)
  const kernel: Pair = [w.shape[2]!, w.shape[3]!]
  const geometry: ConvGeometry = { stride, dilation, padding: explicit('convolve', options?.padding ?? 'valid', input, kernel, stride, dilation) }
  convShape(x.shape, w.shape, geometry, 'convolve')
  const bias = options?.bias
  if (bias === undefined) return bind('conv2d', [x, w], geometry)
  if (bias.rank !== 1 || bias.shape[0] !== w.shape[0]) throw new ShapeError(`convolve: the bias has shape ${Sh.show(bias.shape)}, expected [${w.shape[0]}] (one per filter)`)
  if (bias.dtype !== x.dtype) throw new DTypeError(`convolve: dtypes differ: ${x.dtype} and ${bias.dtype} (the bias); convert one with astype`)
  return bind('conv2d', [x, w, bias], geometry)
}

const poolGeometry = (op: string, x: Tensor, window: number | Pair, options: PoolOptions | undefined): PoolGeometry => {
  const input = batchOfImages(op, x)
  const kernel = pair(op, 'the window', window)
  const stride = pair(op, 'the stride', options?.stride ?? kernel)
  const geometry: PoolGeometry = { kernel, stride, padding: explicit(op, options?.padding ?? 'valid', input, kernel, stride, [1, 1]) }
  pool2dShape(x.shape, geometry, op)
  return geometry
}

/**
 * The maximum of each `window` (one number or `[kh, kw]`) of images `[B, C, H, W]`; padding
 * counts as −∞. Its derivative sends each window's gradient to its maximum, shared evenly among
 * tied maxima (the `max` reduction's subgradient).
 *
 * @example
 * ```ts
 * import { Conv, fromBuffer } from 'lamina-nn'
 * import assert from 'node:assert'
 * const x = fromBuffer([1, 5, 2, 8, 3, 0], [1, 1, 2, 3])
 * assert.deepStrictEqual(Conv.maxPool(x, [2, 1]).toArray(), [[[[8, 5, 2]]]]) // a 2x1 window
 * // 'same' with stride 2: ⌈3/2⌉ = 2 columns, the one padded column (−∞) on the right
 * assert.deepStrictEqual(Conv.maxPool(x, 2, { stride: 2, padding: 'same' }).toArray(), [[[[8, 2]]]])
 * ```
 */
export const maxPool = (x: Tensor, window: number | Pair, options?: PoolOptions): Tensor =>
  bind('maxPool2d', [x], poolGeometry('maxPool', x, window, options))

/**
 * The average of each `window` of images `[B, C, H, W]`, padding counted as zeros in it
 * (PyTorch's default `count_include_pad=True`: every window divides by kh·kw). Linear; its
 * derivative spreads each window's gradient evenly over the window.
 *
 * @example
 * ```ts
 * import { Conv, fromBuffer } from 'lamina-nn'
 * import assert from 'node:assert'
 * const x = fromBuffer([1, 2, 3, 4, 5, 6, 7, 8], [1, 1, 2, 4])
 * assert.deepStrictEqual(Conv.avgPool(x, 2).toArray(), [[[[3.5, 5.5]]]])
 * // padding 1 at the left and right of a 1x2 window: the padded zero counts
 * assert.deepStrictEqual(Conv.avgPool(x, [1, 2], { padding: [0, 0, 1, 1] }).toArray(), [[[[0.5, 2.5, 2], [2.5, 6.5, 4]]]])
 * ```
 */
export const avgPool = (x: Tensor, window: number | Pair, options?: PoolOptions): Tensor =>
  bind('avgPool2d', [x], poolGeometry('avgPool', x, window, options))

// ---------------------------------------------------------------- layers

/**
 * 2-D convolution (cross-correlation) over `[B, inChannels, H, W]`:
 * y[b, o, i, j] = b[o] + Σ_{c, u, v} w[o, c, u, v] · x̃[b, c, i·stride + u, j·stride + v],
 * with x̃ the input padded by `padding` zeros on each side; the output is
 * `[B, outChannels, ⌊(H + 2p − k)/s⌋ + 1, ⌊(W + 2p − k)/s⌋ + 1]`. Height and width are free
 * (`number` in the type, `-1` in `inShape`); the channel count is checked when composing.
 * (For dilation, non-square filters or `'same'` padding, call {@link convolve}.)
 *
 * One `conv2d` primitive, the bias included; weights default to He normal (seed 003's advice for
 * ReLU units), biases to zeros.
 *
 * @example
 * ```ts
 * import { Conv, Layer, Random, tensor, ShapeError } from 'lamina-nn'
 * import assert from 'node:assert'
 * // a 2x2 box filter over a 3x3 image
 * const box = Conv.conv2d(1, 1, 2)
 * const params = { w: tensor([[[[1, 1], [1, 1]]]]), b: tensor([0.5]) }
 * const x = tensor([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]])
 * assert.deepStrictEqual(Layer.apply(box, params, x).toArray(), [[[[12.5, 16.5], [24.5, 28.5]]]])
 * // shapes: stride and padding, at run time and in the type
 * const strided = Conv.conv2d(3, 8, 3, { stride: 2, padding: 1 })
 * assert.deepStrictEqual(strided.outputShape([3, 32, 32]), [8, 16, 16])
 * assert.deepStrictEqual(strided.init(Random.key(0)).w.shape, [8, 3, 3, 3])
 * assert.throws(() => Conv.conv2d(1, 1, 5).outputShape([1, 3, 3]), new ShapeError('conv2d: a 5x5 window does not fit in shape [1,3,3]'))
 * ```
 */
export const conv2d = <
  const Cin extends number,
  const Cout extends number,
  const K extends number,
  const St extends number = 1,
  const P extends number = 0
>(
  inChannels: Cin,
  outChannels: Cout,
  kernel: K,
  options?: Conv2dOptions<St, P>
): Layer<[Cin, number, number], Transform<'conv2d', Conv2dArgs<Cout, K, St, P, 'conv2d'>>, Conv2dParams<Cin, Cout, K>> => {
  positive('conv2d', 'the number of input channels', inChannels)
  positive('conv2d', 'the number of output channels', outChannels)
  positive('conv2d', 'the kernel size', kernel)
  const stride: number = options?.stride ?? 1
  const padding: number = options?.padding ?? 0
  positive('conv2d', 'the stride', stride)
  if (!Number.isSafeInteger(padding) || padding < 0) throw new ArgumentError(`conv2d: the padding must be a non-negative integer, got ${padding}`)
  const weights = options?.weights ?? Init.heNormal
  const bias = options?.bias ?? Init.zeros
  const inShape = [inChannels, -1, -1] as [Cin, number, number]
  const geometry: ConvGeometry = { stride: [stride, stride], dilation: [1, 1], padding: [padding, padding, padding, padding] }
  return {
    kind: 'conv2d',
    settings: { channels: inChannels, filters: outChannels, kernel, stride, padding },
    inShape,
    outputShape: (input) => {
      if (input.length === 3 && !accepts(inShape, input)) throw new ShapeError(`conv2d expects ${describe(inShape)} but got ${describe(input)}`)
      return conv2dShape('conv2d', outChannels, kernel, stride, padding, input)
    },
    init: (key, dtype) => {
      const [kw, kb] = Random.split(key)
      return {
        w: weights(kw!, [outChannels, inChannels, kernel, kernel], dtype ?? 'f64'),
        b: bias(kb!, [outChannels], dtype ?? 'f64')
      } as Conv2dParams<Cin, Cout, K>
    },
    initState: (): Stateless => ({}),
    forward: (params, x, { state }) => {
      checkImages('conv2d', inShape, x)
      conv2dShape('conv2d', outChannels, kernel, stride, padding, x.shape.slice(1))
      return { y: bind('conv2d', [x, params.w as Tensor, params.b as Tensor], geometry), state }
    }
  }
}

/** A pooling layer: checks, shapes and the primitive that pools. */
const pool2d = <K extends number, St extends number, P extends number, Op extends 'maxPool2d' | 'avgPool2d'>(
  op: Op,
  kernel: K,
  options: MaxPool2dOptions<St, P> | undefined
): Layer<[number, number, number], Transform<'conv2d', Conv2dArgs<0, K, St, P, Op>>, Stateless> => {
  positive(op, 'the kernel size', kernel)
  const stride: number = options?.stride ?? kernel
  positive(op, 'the stride', stride)
  const padding: number = options?.padding ?? 0
  if (!Number.isSafeInteger(padding) || padding < 0 || padding >= kernel) {
    throw new ArgumentError(`${op}: the padding must be a non-negative integer smaller than the kernel size ${kernel}, got ${padding}`)
  }
  const inShape = [-1, -1, -1] as [number, number, number]
  const geometry: PoolGeometry = { kernel: [kernel, kernel], stride: [stride, stride], padding: [padding, padding, padding, padding] }
  return {
    kind: op,
    settings: { kernel, stride, padding },
    inShape,
    outputShape: (input) => conv2dShape(op, 0, kernel, stride, padding, input),
    init: () => ({}),
    initState: (): Stateless => ({}),
    forward: (_params, x, { state }) => {
      checkImages(op, inShape, x)
      conv2dShape(op, 0, kernel, stride, padding, x.shape.slice(1))
      return { y: bind(op, [x], geometry), state }
    }
  }
}

/**
 * 2-D max pooling over `[B, C, H, W]`: the maximum of each `kernel × kernel` window, windows
 * `stride` apart (default `kernel`, so they tile the image), giving
 * `[B, C, ⌊(H + 2p − k)/s⌋ + 1, ⌊(W + 2p − k)/s⌋ + 1]` — rows and columns that no window reaches
 * (13 → 6 with k = 2: the last one) are dropped. Channels are kept. Padding (default 0, smaller
 * than the kernel) counts as −∞.
 *
 * The derivative is the `max` reduction's: the gradient of a window goes to its maximum, and
 * is shared evenly among tied maxima (a documented subgradient; finite differences cannot
 * confirm it at ties). Overlapping windows (stride < kernel) add their contributions.
 *
 * @example
 * ```ts
 * import { Conv, Layer, grad, sum, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const pool = Conv.maxPool2d(2)
 * const x = tensor([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]])
 * assert.deepStrictEqual(Layer.apply(pool, {}, x).toArray(), [[[[5]]]]) // 3 → 1: the last row and column are dropped
 * assert.deepStrictEqual(pool.outputShape([6, 13, 13]), [6, 6, 6])
 * // overlapping windows, stride 1
 * assert.deepStrictEqual(Layer.apply(Conv.maxPool2d(2, { stride: 1 }), {}, x).toArray(), [[[[5, 6], [8, 9]]]])
 * // padding 1: the windows start in the padding, so every row and column is reached
 * assert.deepStrictEqual(Layer.apply(Conv.maxPool2d(2, { padding: 1 }), {}, x).toArray(), [[[[1, 3], [7, 9]]]])
 * // the gradient goes to the maximum of each window
 * const g = grad((t: typeof x) => sum(Layer.apply(pool, {}, t)))(x)
 * assert.deepStrictEqual(g.toArray(), [[[[0, 0, 0], [0, 1, 0], [0, 0, 0]]]])
 * ```
 */
export const maxPool2d = <const K extends number, const St extends number = K, const P extends number = 0>(
  kernel: K,
  options?: MaxPool2dOptions<St, P>
): Layer<[number, number, number], Transform<'conv2d', Conv2dArgs<0, K, St, P, 'maxPool2d'>>, Stateless> => pool2d('maxPool2d', kernel, options)

/**
 * 2-D average pooling over `[B, C, H, W]`: the mean of each `kernel × kernel` window, with the
 * shapes of {@link maxPool2d}. Padding (default 0, smaller than the kernel) counts as zeros in
 * the mean: every window divides by k² (PyTorch's default `count_include_pad=True`).
 *
 * @example
 * ```ts
 * import { Conv, Layer, grad, sum, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const x = tensor([[[[1, 2, 3, 4], [5, 6, 7, 8]]]])
 * assert.deepStrictEqual(Layer.apply(Conv.avgPool2d(2), {}, x).toArray(), [[[[3.5, 5.5]]]])
 * assert.deepStrictEqual(Conv.avgPool2d(2, { stride: 1 }).outputShape([3, 2, 4]), [3, 1, 3])
 * // each element's gradient is 1/4 per window it is in
 * const g = grad((t: typeof x) => sum(Layer.apply(Conv.avgPool2d(2), {}, t)))(x)
 * assert.deepStrictEqual(g.toArray(), [[[[0.25, 0.25, 0.25, 0.25], [0.25, 0.25, 0.25, 0.25]]]])
 * ```
 */
export const avgPool2d = <const K extends number, const St extends number = K, const P extends number = 0>(
  kernel: K,
  options?: AvgPool2dOptions<St, P>
): Layer<[number, number, number], Transform<'conv2d', Conv2dArgs<0, K, St, P, 'avgPool2d'>>, Stateless> => pool2d('avgPool2d', kernel, options)

/**
 * Global average pooling: `[B, C, H, W]` to `[B, C]`, the mean of each channel over the whole
 * image (the `mean` primitive over the two spatial axes). The channel count is part of the
 * type, so what follows it composes like a dense layer's input.
 *
 * @example
 * ```ts
 * import { Conv, Layer, Layers, Random, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const x = tensor([[[[1, 2], [3, 4]], [[0, 0], [0, 8]]]])
 * assert.deepStrictEqual(Layer.apply(Conv.globalAvgPool(2), {}, x).toArray(), [[2.5, 2]])
 * // a fully convolutional classifier: any image size
 * const net = Layer.sequential(Conv.conv2d(3, 8, 3), Layers.relu(), Conv.globalAvgPool(8), Layers.dense(8, 10))
 * assert.deepStrictEqual(Layer.apply(net, net.init(Random.key(0)), Random.normal(Random.key(1), [2, 3, 9, 7])).shape, [2, 10])
 * ```
 */
export const globalAvgPool = <const C extends number>(channels: C): Layer<[C, number, number], [C], Stateless> => {
  positive('globalAvgPool', 'the number of channels', channels)
  const inShape = [channels, -1, -1] as [C, number, number]
  return {
    kind: 'globalAvgPool',
    inShape,
    outputShape: (input) => {
      if (input.length !== 3 || !accepts(inShape, input)) throw new ShapeError(`globalAvgPool expects ${describe(inShape)} but got ${describe(input)}`)
      return [channels]
    },
    outShape: [channels],
    init: () => ({}),
    initState: (): Stateless => ({}),
    forward: (_params, x, { state }) => {
      checkImages('globalAvgPool', inShape, x)
      return { y: bind('mean', [x], { axes: [2, 3], keepdims: false }), state }
    }
  }
}
