/**
 * Convolutional layers over images laid out NCHW (batch, channels, height, width): the 2-D
 * convolution (cross-correlation, as in every deep-learning library) and max pooling of seed
 * 004's LeNet.
 *
 * Both are written with the differentiable operations of `ops` and the `pad` primitive only:
 * zero padding, then im2col (the k·k shifted views of the image stacked along one axis with
 * `slice`/`reshape`/`concat`), then one batched matrix product with the weights (convolution)
 * or a `max` reduction (pooling). So their derivatives of every order come from the primitive
 * table, and the gradient laws check them like any other composition.
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
import { ArgumentError, ShapeError } from '../error.js'
import * as O from '../ops.js'
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

/** Options of {@link maxPool2d}. */
export interface MaxPool2dOptions<St extends number = number> {
  /** Step between windows (default the kernel size: windows tile the image without overlap). */
  readonly stride?: St
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

// ---------------------------------------------------------------- im2col

/**
 * The `kernel × kernel` windows of `x: [B, C, H, W]` at `stride`, after `padding` zeros on
 * every side, as `[B, C, k·k, Ho·Wo]`: entry `[b, c, i·k + j, oh·Wo + ow]` is the padded
 * image at row `oh·stride + i`, column `ow·stride + j`.
 *
 * Built from differentiable operations only. Stride `s > 1` uses no strided slice: the
 * padded image is cut or zero-extended to `s·Hb` rows (and columns), reshaped to
 * `[B, C, Hb, s, Wb, s]`, and row `oh·s + i` is then block `oh + ⌊i/s⌋`, phase `i mod s`, so
 * each window offset is one contiguous slice.
 */
const windows = (x: Tensor, kernel: number, stride: number, padding: number, ho: number, wo: number): Tensor => {
  const [b, c, h, w] = x.shape as readonly [number, number, number, number]
  const extra = Math.floor((kernel - 1) / stride)
  const hb = ho + extra
  const wb = wo + extra
  const hq = hb * stride
  const wq = wb * stride
  // rows and columns of x that land inside the hq × wq frame once shifted by the padding
  const hk = Math.max(0, Math.min(h, hq - padding))
  const wk = Math.max(0, Math.min(w, wq - padding))
  const cropped = hk === h && wk === w ? x : O.slice(x, [0, 0, 0, 0], [b, c, hk, wk])
  const framed = hq === hk && wq === wk && padding === 0 ? cropped : bind('pad', [cropped], { starts: [0, 0, padding, padding], shape: [b, c, hq, wq] })
  const views: Tensor[] = []
  if (stride === 1) {
    for (let i = 0; i < kernel; i++) {
      for (let j = 0; j < kernel; j++) {
        views.push(O.reshape(O.slice(framed, [0, 0, i, j], [b, c, ho, wo]), [b, c, 1, ho * wo] as Shape) as Tensor)
      }
    }
  } else {
    const blocks = O.reshape(framed, [b, c, hb, stride, wb, stride] as Shape) as Tensor
    for (let i = 0; i < kernel; i++) {
      for (let j = 0; j < kernel; j++) {
        const view = O.slice(blocks, [0, 0, Math.floor(i / stride), i % stride, Math.floor(j / stride), j % stride], [b, c, ho, 1, wo, 1])
        views.push(O.reshape(view, [b, c, 1, ho * wo] as Shape) as Tensor)
      }
    }
  }
  return O.concat(views, 2)
}

// ---------------------------------------------------------------- layers

/**
 * 2-D convolution (cross-correlation) over `[B, inChannels, H, W]`:
 * y[b, o, i, j] = b[o] + Σ_{c, u, v} w[o, c, u, v] · x̃[b, c, i·stride + u, j·stride + v],
 * with x̃ the input padded by `padding` zeros on each side; the output is
 * `[B, outChannels, ⌊(H + 2p − k)/s⌋ + 1, ⌊(W + 2p − k)/s⌋ + 1]`. Height and width are free
 * (`number` in the type, `-1` in `inShape`); the channel count is checked when composing.
 *
 * Computed as im2col: the k·k shifted windows stacked into `[B, in·k·k, Ho·Wo]`, then one
 * batched matrix product with the weights reshaped to `[out, in·k·k]`, plus the bias.
 * Weights default to He normal (seed 003's advice for ReLU units), biases to zeros.
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
  return {
    kind: 'conv2d',
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
      const [b, , h, w] = x.shape as readonly [number, number, number, number]
      const [, ho, wo] = conv2dShape('conv2d', outChannels, kernel, stride, padding, [inChannels, h, w]) as readonly [number, number, number]
      const depth = inChannels * kernel * kernel
      const cols = O.reshape(windows(x, kernel, stride, padding, ho, wo), [b, depth, ho * wo] as Shape) as Tensor
      const filters = O.reshape(params.w as Tensor, [outChannels, depth] as Shape) as Tensor
      const stacked = O.broadcastTo(O.reshape(filters, [1, outChannels, depth] as Shape) as Tensor, [b, outChannels, depth] as Shape) as Tensor
      const z = O.reshape(O.batchMatmul(stacked, cols) as Tensor, [b, outChannels, ho, wo] as Shape) as Tensor
      const y = O.add(z, O.reshape(params.b as Tensor, [outChannels, 1, 1] as Shape) as Tensor) as Tensor
      return { y, state }
    }
  }
}

/**
 * 2-D max pooling over `[B, C, H, W]`: the maximum of each `kernel × kernel` window, windows
 * `stride` apart (default `kernel`, so they tile the image), giving
 * `[B, C, ⌊(H − k)/s⌋ + 1, ⌊(W − k)/s⌋ + 1]` — rows and columns that no window reaches (13 → 6
 * with k = 2: the last one) are dropped. Channels are kept.
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
 * // the gradient goes to the maximum of each window
 * const g = grad((t: typeof x) => sum(Layer.apply(pool, {}, t)))(x)
 * assert.deepStrictEqual(g.toArray(), [[[[0, 0, 0], [0, 1, 0], [0, 0, 0]]]])
 * ```
 */
export const maxPool2d = <const K extends number, const St extends number = K>(
  kernel: K,
  options?: MaxPool2dOptions<St>
): Layer<[number, number, number], Transform<'conv2d', Conv2dArgs<0, K, St, 0, 'maxPool2d'>>, Stateless> => {
  positive('maxPool2d', 'the kernel size', kernel)
  const stride: number = options?.stride ?? kernel
  positive('maxPool2d', 'the stride', stride)
  const inShape = [-1, -1, -1] as [number, number, number]
  return {
    kind: 'maxPool2d',
    inShape,
    outputShape: (input) => conv2dShape('maxPool2d', 0, kernel, stride, 0, input),
    init: () => ({}),
    initState: (): Stateless => ({}),
    forward: (_params, x, { state }) => {
      checkImages('maxPool2d', inShape, x)
      const [b, c, h, w] = x.shape as readonly [number, number, number, number]
      const [, ho, wo] = conv2dShape('maxPool2d', 0, kernel, stride, 0, [c, h, w]) as readonly [number, number, number]
      if (stride === kernel) {
        // non-overlapping windows: cut to whole windows, split each axis into (window, offset), reduce the offsets
        const hk = ho * kernel
        const wk = wo * kernel
        const cropped = hk === h && wk === w ? x : O.slice(x, [0, 0, 0, 0], [b, c, hk, wk])
        const blocks = O.reshape(cropped, [b, c, ho, kernel, wo, kernel] as Shape) as Tensor
        return { y: O.max(blocks, [3, 5]) as Tensor, state }
      }
      const stacked = windows(x, kernel, stride, 0, ho, wo)
      return { y: O.reshape(O.max(stacked, 2) as Tensor, [b, c, ho, wo] as Shape) as Tensor, state }
    }
  }
}
