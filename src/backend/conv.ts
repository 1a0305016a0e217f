/**
 * The NCHW convolution and pooling kernels of the cpu backend, and the geometry they share.
 *
 * - A convolution (cross-correlation, as in every deep-learning library) of `x: [B, C, H, W]`
 *   with `w: [O, C, kh, kw]` at a stride, a dilation and explicit per-side zero padding; and its
 *   two transposes, which its derivative needs: the gradient with respect to the input (a
 *   transposed convolution of the cotangent with the same filter) and with respect to the filter
 *   (a correlation of the input with the cotangent).
 * - Pooling windows: the maximum of each window (padding counts as −∞), and a weighted sum of
 *   each window with its transpose. Average pooling is the weighted sum with every weight
 *   1/(kh·kw): padding counts as zeros in the average, PyTorch's default
 *   `count_include_pad=True`. Max pooling's derivative has kernels of its own, whose
 *   arguments are the pooled input and its maxima: a window sum with the weights of its
 *   subgradient (1/ties on the maxima of a window) and its transpose.
 *
 * float64 runs the JavaScript loops here (the reference). float32 runs on WebAssembly
 * (`./wasm/conv-f32.ts`): im2col (an image's windows unrolled into a matrix, one row per filter
 * tap, one column per output pixel) and the SIMD product, col2im (the transposed scatter) for
 * the input gradient, and max pooling and its gradient; average pooling and the window sums of
 * derivatives stay on the loops here, as does everything where WebAssembly SIMD is missing.
 *
 * @module
 */
import { ArgumentError, ShapeError } from '../error.js'
import * as Sh from '../shape.js'
import type { Shape } from '../shape.js'
import { allocate } from '../tensor.js'
import type { Buffer, DType } from '../tensor.js'
import { conv2dF32, conv2dFilterGradF32, conv2dInputGradF32, maxPool2dF32, maxPool2dGradF32 } from './wasm/conv-f32.js'
import type { ConvDims, PoolDims } from './wasm/conv-f32.js'

/** Two sizes, `[along height, along width]`. */
export type Pair = readonly [number, number]

/** Zero padding per side: `[top, bottom, left, right]`. */
export type Padding = readonly [number, number, number, number]

/** Where a convolution's taps fall: `y[b,o,i,j] = Σ w[o,c,u,v]·x[b, c, i·sh + u·dh − top, j·sw + v·dw − left]`. */
export interface ConvGeometry {
  readonly stride: Pair
  readonly dilation: Pair
  readonly padding: Padding
}

/** A pooling window: its size, the step between windows and the padding per side. */
export interface PoolGeometry {
  readonly kernel: Pair
  readonly stride: Pair
  readonly padding: Padding
}

// ---------------------------------------------------------------- geometry

/** Windows along one axis: ⌊(n + before + after − span)/s⌋ + 1 with span = d·(k − 1) + 1; 0 when none fits. */
export const windowCount = (n: number, k: number, s: number, d: number, before: number, after: number): number => {
  const room = n + before + after - (d * (k - 1) + 1)
  return room < 0 ? 0 : Math.floor(room / s) + 1
}

/**
 * Explicit padding for a convolution or pooling option: `'valid'` is none; `'same'` pads so
 * that the output has ⌈n/s⌉ positions, splitting the total as TensorFlow does (the extra one,
 * when the total is odd, at the bottom and the right); a number pads every side by it; a pair
 * `[ph, pw]` pads top and bottom by `ph`, left and right by `pw`; four numbers are used as
 * they are.
 */
export const resolvePadding = (
  padding: 'same' | 'valid' | number | Pair | Padding,
  input: Pair,
  kernel: Pair,
  stride: Pair,
  dilation: Pair
): Padding => {
  if (padding === 'valid') return [0, 0, 0, 0]
  if (padding === 'same') {
    const total = (axis: 0 | 1): number => {
      const out = Math.ceil(input[axis] / stride[axis])
      return Math.max(0, (out - 1) * stride[axis] + dilation[axis] * (kernel[axis] - 1) + 1 - input[axis])
    }
    const [th, tw] = [total(0), total(1)]
    return [Math.floor(th / 2), th - Math.floor(th / 2), Math.floor(tw / 2), tw - Math.floor(tw / 2)]
  }
  if (typeof padding === 'number') return [padding, padding, padding, padding]
  if (padding.length === 2) return [padding[0], padding[0], padding[1], padding[1]]
  return padding as Padding
}

const count = (n: number): boolean => Number.isSafeInteger(n) && n >= 0
const positive = (n: number): boolean => Number.isSafeInteger(n) && n >= 1
const showList = (xs: readonly number[]): string => `[${xs.join(',')}]`

/** Checks a convolution's geometry, naming the offending value. */
export const checkConvGeometry = (op: string, g: ConvGeometry): void => {
  if (g.stride.length !== 2 || !g.stride.every(positive)) throw new ArgumentError(`${op}: the stride must be two positive integers, got ${showList(g.stride)}`)
  if (g.dilation.length !== 2 || !g.dilation.every(positive)) throw new ArgumentError(`${op}: the dilation must be two positive integers, got ${showList(g.dilation)}`)
  if (g.padding.length !== 4 || !g.padding.every(count)) {
    throw new ArgumentError(`${op}: the padding must be four non-negative integers [top, bottom, left, right], got ${showList(g.padding)}`)
  }
}

/** Checks a pooling geometry: every side's padding must be smaller than the window, so each window holds an element of the image. */
export const checkPoolGeometry = (op: string, g: PoolGeometry): void => {
  if (g.kernel.length !== 2 || !g.kernel.every(positive)) throw new ArgumentError(`${op}: the window must be two positive integers, got ${showList(g.kernel)}`)
  if (g.stride.length !== 2 || !g.stride.every(positive)) throw new ArgumentError(`${op}: the stride must be two positive integers, got ${showList(g.stride)}`)
  if (g.padding.length !== 4 || !g.padding.every(count)) {
    throw new ArgumentError(`${op}: the padding must be four non-negative integers [top, bottom, left, right], got ${showList(g.padding)}`)
  }
  const [t, b, l, r] = g.padding
  if (t >= g.kernel[0] || b >= g.kernel[0] || l >= g.kernel[1] || r >= g.kernel[1]) {
    throw new ArgumentError(`${op}: the padding ${showList(g.padding)} must be smaller than the ${g.kernel[0]}x${g.kernel[1]} window on every side`)
  }
}

const images = (op: string, what: string, s: Shape): readonly [number, number, number, number] => {
  if (s.length !== 4) throw new ShapeError(`${op}: the ${what} must have shape [batch, channels, height, width], got ${Sh.show(s)}`)
  return s as unknown as readonly [number, number, number, number]
}

/** The output shape `[B, O, Ho, Wo]` of a convolution of `x: [B, C, H, W]` with `w: [O, C, kh, kw]`. */
export const conv2dShape = (x: Shape, w: Shape, g: ConvGeometry, op = 'conv2d'): Shape => {
  checkConvGeometry(op, g)
  const [b, c, h, wd] = images(op, 'input', x)
  if (w.length !== 4) throw new ShapeError(`${op}: the filter must have shape [out, in, height, width], got ${Sh.show(w)}`)
  const [o, ci, kh, kw] = w as unknown as readonly [number, number, number, number]
  if (ci !== c) throw new ShapeError(`${op}: the input ${Sh.show(x)} has ${c} channels but the filter ${Sh.show(w)} expects ${ci}`)
  const ho = windowCount(h, kh, g.stride[0], g.dilation[0], g.padding[0], g.padding[1])
  const wo = windowCount(wd, kw, g.stride[1], g.dilation[1], g.padding[2], g.padding[3])
  if (ho === 0 || wo === 0 || kh === 0 || kw === 0) {
    throw new ShapeError(`${op}: a ${kh}x${kw} filter (dilation ${showList(g.dilation)}) does not fit in the input ${Sh.show(x)} padded by ${showList(g.padding)}`)
  }
  return [b, o, ho, wo]
}

/** The output shape `[B, C, Ho, Wo]` of pooling `x: [B, C, H, W]`. */
export const pool2dShape = (x: Shape, g: PoolGeometry, op = 'pool2d'): Shape => {
  checkPoolGeometry(op, g)
  const [b, c, h, w] = images(op, 'input', x)
  const ho = windowCount(h, g.kernel[0], g.stride[0], 1, g.padding[0], g.padding[1])
  const wo = windowCount(w, g.kernel[1], g.stride[1], 1, g.padding[2], g.padding[3])
  if (ho === 0 || wo === 0) throw new ShapeError(`${op}: a ${g.kernel[0]}x${g.kernel[1]} window does not fit in the input ${Sh.show(x)} padded by ${showList(g.padding)}`)
  return [b, c, ho, wo]
}

// ---------------------------------------------------------------- direct loops (float64 reference)

/** The output positions `[lo, hi)` whose tap `t` (stride `s`, dilation `d`, padding `before`) lands inside an axis of `n` elements. */
const taps = (n: number, out: number, s: number, d: number, before: number, t: number): [number, number] => {
  const offset = t * d - before // input index of output 0's tap
  const lo = offset >= 0 ? 0 : Math.ceil(-offset / s)
  const hi = Math.min(out, Math.floor((n - 1 - offset) / s) + 1)
  return [lo, Math.max(lo, hi)]
}

/**
 * Visits every (image, out channel, in channel, tap, output row) with the run of output columns
 * `[lo, hi)` whose tap lies inside the image: `row(yRow, xRow, wIndex, lo, hi)` where output
 * column `q` reads input element `xRow + q·sw`.
 */
const eachRun = (d: ConvDims, g: ConvGeometry, row: (yRow: number, xRow: number, wIndex: number, lo: number, hi: number) => void): void => {
  const [sh, sw] = g.stride
  const [dh, dw] = g.dilation
  const [top, , left] = g.padding
  const plane = d.h * d.w
  for (let i = 0; i < d.kh; i++) {
    const [rLo, rHi] = taps(d.h, d.ho, sh, dh, top, i)
    for (let j = 0; j < d.kw; j++) {
      const [lo, hi] = taps(d.w, d.wo, sw, dw, left, j)
      if (lo >= hi) continue
      for (let b = 0; b < d.b; b++) {
        for (let o = 0; o < d.o; o++) {
          for (let c = 0; c < d.c; c++) {
            const wIndex = ((o * d.c + c) * d.kh + i) * d.kw + j
            const xPlane = (b * d.c + c) * plane + j * dw - left
            const yPlane = (b * d.o + o) * d.ho * d.wo
            for (let r = rLo; r < rHi; r++) row(yPlane + r * d.wo, xPlane + (r * sh + i * dh - top) * d.w, wIndex, lo, hi)
          }
        }
      }
    }
  }
}

/** A float64 accumulator rounded once into the dtype's buffer. */
const rounded = (acc: Float64Array, dtype: DType): Buffer => (dtype === 'f64' ? acc : Float32Array.from(acc))

const directConv = (x: Buffer, w: Buffer, bias: Buffer | undefined, d: ConvDims, g: ConvGeometry, dtype: DType): Buffer => {
  const y = new Float64Array(d.b * d.o * d.ho * d.wo)
  if (bias !== undefined) for (let k = 0; k < y.length; k++) y[k] = bias[Math.floor(k / (d.ho * d.wo)) % d.o]!
  const sw = g.stride[1]
  eachRun(d, g, (yRow, xRow, k, lo, hi) => {
    const wv = w[k]!
    for (let q = lo; q < hi; q++) y[yRow + q] = y[yRow + q]! + wv * x[xRow + q * sw]!
  })
  return rounded(y, dtype)
}

const directInputGrad = (ct: Buffer, w: Buffer, d: ConvDims, g: ConvGeometry, dtype: DType): Buffer => {
  const dx = new Float64Array(d.b * d.c * d.h * d.w)
  const sw = g.stride[1]
  eachRun(d, g, (yRow, xRow, k, lo, hi) => {
    const wv = w[k]!
    for (let q = lo; q < hi; q++) dx[xRow + q * sw] = dx[xRow + q * sw]! + wv * ct[yRow + q]!
  })
  return rounded(dx, dtype)
}

const directFilterGrad = (x: Buffer, ct: Buffer, d: ConvDims, g: ConvGeometry, dtype: DType): Buffer => {
  const dw = new Float64Array(d.o * d.c * d.kh * d.kw)
  const sw = g.stride[1]
  eachRun(d, g, (yRow, xRow, k, lo, hi) => {
    let acc = 0
    for (let q = lo; q < hi; q++) acc += ct[yRow + q]! * x[xRow + q * sw]!
    dw[k] = dw[k]! + acc
  })
  return rounded(dw, dtype)
}

const fast = (dtype: DType, a: Buffer, b: Buffer): boolean => dtype === 'f32' && a instanceof Float32Array && b instanceof Float32Array

/** A convolution's sizes and geometry from the input, filter and output shapes (shared with the GPU.js kernels). */
export const dimsOf = (x: Shape, w: Shape, y: Shape, g: ConvGeometry): ConvDims => {
  const [b, c, h, wd] = x as unknown as readonly [number, number, number, number]
  const [o, , kh, kw] = w as unknown as readonly [number, number, number, number]
  const [sh, sw] = g.stride
  const [dh, dw] = g.dilation
  return { b, c, h, w: wd, o, kh, kw, ho: y[2]!, wo: y[3]!, sh, sw, dh, dw, top: g.padding[0], left: g.padding[2] }
}

// ---------------------------------------------------------------- the convolution kernels

/**
 * `y = x ⋆ w (+ bias)`: `[B, C, H, W]` with `[O, C, kh, kw]` to `[B, O, Ho, Wo]`,
 * `y[b,o,i,j] = bias[o] + Σ_{c,u,v} w[o,c,u,v] · x[b, c, i·sh + u·dh − top, j·sw + v·dw − left]` (zero outside the image).
 */
export const conv2d = (x: Buffer, xShape: Shape, w: Buffer, wShape: Shape, g: ConvGeometry, dtype: DType, bias?: Buffer): Buffer => {
  const d = dimsOf(xShape, wShape, conv2dShape(xShape, wShape, g), g)
  if (d.b * d.o * d.ho * d.wo === 0) return allocate(dtype, 0)
  if (fast(dtype, x, w)) {
    const y = bias === undefined || bias instanceof Float32Array ? conv2dF32(x as Float32Array, w as Float32Array, bias, d) : undefined
    if (y !== undefined) return y
  }
  return directConv(x, w, bias, d, g, dtype)
}

/**
 * The transpose of `x ↦ x ⋆ w` applied to a cotangent `ct: [B, O, Ho, Wo]`: the input's
 * gradient `[B, C, H, W]`, `x̄[b,c,h,v] = Σ w[o,c,u,v′]·ct[b,o,i,j]` over the taps that read
 * `(h, v)`. `inputSize` is `[H, W]` (several input sizes give the same output size).
 */
export const conv2dInputGrad = (ct: Buffer, ctShape: Shape, w: Buffer, wShape: Shape, g: ConvGeometry, inputSize: Pair, dtype: DType): Buffer => {
  const xShape = [ctShape[0]!, wShape[1]!, inputSize[0], inputSize[1]]
  checkCotangent('conv2dInputGrad', ctShape, conv2dShape(xShape, wShape, g, 'conv2dInputGrad'))
  const d = dimsOf(xShape, wShape, ctShape, g)
  if (d.b * d.c * d.h * d.w === 0) return allocate(dtype, 0)
  if (fast(dtype, ct, w)) {
    const dx = conv2dInputGradF32(ct as Float32Array, w as Float32Array, d)
    if (dx !== undefined) return dx
  }
  return directInputGrad(ct, w, d, g, dtype)
}

/**
 * The transpose of `w ↦ x ⋆ w` applied to a cotangent `ct: [B, O, Ho, Wo]`: the filter's
 * gradient `[O, C, kh, kw]`, `w̄[o,c,u,v] = Σ_{b,i,j} ct[b,o,i,j] · x[b, c, i·sh + u·dh − top, j·sw + v·dw − left]`.
 */
export const conv2dFilterGrad = (x: Buffer, xShape: Shape, ct: Buffer, ctShape: Shape, g: ConvGeometry, kernel: Pair, dtype: DType): Buffer => {
  const wShape = [ctShape[1]!, xShape[1]!, kernel[0], kernel[1]]
  checkCotangent('conv2dFilterGrad', ctShape, conv2dShape(xShape, wShape, g, 'conv2dFilterGrad'))
  const d = dimsOf(xShape, wShape, ctShape, g)
  if (d.o * d.c * d.kh * d.kw === 0) return allocate(dtype, 0)
  if (fast(dtype, x, ct) && d.b * d.ho * d.wo > 0) {
    const dw = conv2dFilterGradF32(x as Float32Array, ct as Float32Array, d)
    if (dw !== undefined) return dw
  }
  return directFilterGrad(x, ct, d, g, dtype)
}

const checkCotangent = (op: string, got: Shape, want: Shape): void => {
  if (!Sh.equals(got, want)) throw new ShapeError(`${op}: the cotangent has shape ${Sh.show(got)}, but the convolution's output has shape ${Sh.show(want)}`)
}

// ---------------------------------------------------------------- pooling

/** A pooling's sizes and geometry from the input and output shapes (shared with the GPU.js kernels). */
export const poolDims = (shape: Shape, out: Shape, g: PoolGeometry): PoolDims => ({
  planes: shape[0]! * shape[1]!,
  h: shape[2]!,
  w: shape[3]!,
  ho: out[2]!,
  wo: out[3]!,
  kh: g.kernel[0],
  kw: g.kernel[1],
  sh: g.stride[0],
  sw: g.stride[1],
  top: g.padding[0],
  left: g.padding[2]
})

// The pooling loops below share one shape: for each window (plane p, row r, column q) the taps
// i ∈ [iLo, iHi), j ∈ [jLo, jHi) inside the image, tap (i, j) at x[xp + (r0 + i)·w + c0 + j];
// window k's weights start at k·kh·kw. Written out in each (no callback) so V8 keeps them tight.

/** The maximum of each window (padding counts as −∞; NaN wins, as in the max reduction). */
export const maxPool2d = (x: Buffer, shape: Shape, g: PoolGeometry, dtype: DType): Buffer => {
  const out = pool2dShape(shape, g, 'maxPool2d')
  const d = poolDims(shape, out, g)
  if (dtype === 'f32' && x instanceof Float32Array) {
    const y = maxPool2dF32(x, d)
    if (y !== undefined) return y
  }
  const y = allocate(dtype, Sh.size(out))
  let k = 0
  for (let p = 0; p < d.planes; p++) {
    const xp = p * d.h * d.w
    for (let r = 0; r < d.ho; r++) {
      const r0 = r * d.sh - d.top
      const iLo = Math.max(0, -r0)
      const iHi = Math.min(d.kh, d.h - r0)
      for (let q = 0; q < d.wo; q++, k++) {
        const c0 = q * d.sw - d.left
        const jLo = Math.max(0, -c0)
        const jHi = Math.min(d.kw, d.w - c0)
        let m = -Infinity
        for (let i = iLo; i < iHi; i++) {
          const row = xp + (r0 + i) * d.w + c0
          for (let j = jLo; j < jHi; j++) {
            const v = x[row + j]!
            if (v > m || v !== v) m = v
          }
        }
        y[k] = m
      }
    }
  }
  return y
}

/**
 * The weights of a window sum, one per window and tap (`[B, C, Ho, Wo, kh, kw]`): data, given
 * with the primitive. Max pooling's subgradient is not written this way: its weights depend on
 * the step's values, so it has its own kernels with those values as arguments
 * (`maxPool2dGather`, `maxPool2dSpread` in this module).
 */
export type WindowWeights = { readonly kind: 'given'; readonly values: Buffer }

/** The taps of window `k` (first tap at row `r0`, column `c0` of plane `xp`) equal to `max[k]`, counted. */
const ties = (input: Buffer, m: number, d: PoolDims, xp: number, r0: number, c0: number, iLo: number, iHi: number, jLo: number, jHi: number): number => {
  let hits = 0
  for (let i = iLo; i < iHi; i++) {
    const row = xp + (r0 + i) * d.w + c0
    for (let j = jLo; j < jHi; j++) if (input[row + j] === m) hits++
  }
  return hits
}

/**
 * The weighted sum of each window, `y[win] = Σ_taps ω[win, tap]·x[tap]` over the taps inside
 * the image; without weights every ω is 1/(kh·kw): average pooling with the padding counted
 * as zeros (PyTorch's `count_include_pad=True`).
 */
export const avgPool2d = (x: Buffer, shape: Shape, g: PoolGeometry, weights: WindowWeights | undefined, dtype: DType): Buffer => {
  const out = pool2dShape(shape, g, 'avgPool2d')
  const d = poolDims(shape, out, g)
  const taps = d.kh * d.kw
  checkWeights('avgPool2d', weights, Sh.size(out), taps)
  const given = weights?.values
  const y = allocate(dtype, Sh.size(out))
  const uniform = 1 / taps
  let k = 0
  for (let p = 0; p < d.planes; p++) {
    const xp = p * d.h * d.w
    for (let r = 0; r < d.ho; r++) {
      const r0 = r * d.sh - d.top
      const iLo = Math.max(0, -r0)
      const iHi = Math.min(d.kh, d.h - r0)
      for (let q = 0; q < d.wo; q++, k++) {
        const c0 = q * d.sw - d.left
        const jLo = Math.max(0, -c0)
        const jHi = Math.min(d.kw, d.w - c0)
        let acc = 0
        for (let i = iLo; i < iHi; i++) {
          const row = xp + (r0 + i) * d.w + c0
          if (given === undefined) for (let j = jLo; j < jHi; j++) acc += x[row + j]!
          else {
            const at = k * taps + i * d.kw
            for (let j = jLo; j < jHi; j++) acc += given[at + j]! * x[row + j]!
          }
        }
        y[k] = given === undefined ? acc * uniform : acc
      }
    }
  }
  return y
}

/**
 * The transpose of {@link avgPool2d}: each window's cotangent spread over its taps with the
 * same weights, `x̄[tap] = Σ_{windows ∋ tap} ω[win, tap]·ct[win]`, into `[B, C, H, W]` with
 * `[H, W] = inputSize`.
 */
export const avgPool2dTranspose = (ct: Buffer, ctShape: Shape, g: PoolGeometry, weights: WindowWeights | undefined, inputSize: Pair, dtype: DType): Buffer => {
  const shape = [ctShape[0]!, ctShape[1]!, inputSize[0], inputSize[1]]
  const out = pool2dShape(shape, g, 'avgPool2dTranspose')
  if (!Sh.equals(out, ctShape)) throw new ShapeError(`avgPool2dTranspose: the cotangent has shape ${Sh.show(ctShape)}, but pooling ${Sh.show(shape)} gives ${Sh.show(out)}`)
  const d = poolDims(shape, out, g)
  const taps = d.kh * d.kw
  checkWeights('avgPool2dTranspose', weights, Sh.size(out), taps)
  const given = weights?.values
  const dx = allocate(dtype, Sh.size(shape))
  const uniform = 1 / taps
  let k = 0
  for (let p = 0; p < d.planes; p++) {
    const xp = p * d.h * d.w
    for (let r = 0; r < d.ho; r++) {
      const r0 = r * d.sh - d.top
      const iLo = Math.max(0, -r0)
      const iHi = Math.min(d.kh, d.h - r0)
      for (let q = 0; q < d.wo; q++, k++) {
        const c0 = q * d.sw - d.left
        const jLo = Math.max(0, -c0)
        const jHi = Math.min(d.kw, d.w - c0)
        const v = ct[k]!
        for (let i = iLo; i < iHi; i++) {
          const row = xp + (r0 + i) * d.w + c0
          if (given === undefined) for (let j = jLo; j < jHi; j++) dx[row + j] = dx[row + j]! + v * uniform
          else {
            const at = k * taps + i * d.kw
            for (let j = jLo; j < jHi; j++) dx[row + j] = dx[row + j]! + given[at + j]! * v
          }
        }
      }
    }
  }
  return dx
}

const checkWeights = (op: string, weights: WindowWeights | undefined, windows: number, taps: number): void => {
  if (weights !== undefined && weights.values.length !== windows * taps) {
    throw new ShapeError(`${op}: expected ${windows * taps} window weights (${windows} windows × ${taps} taps), got ${weights.values.length}`)
  }
}

// ---------------------------------------------------------------- max pooling's derivative

/**
 * Checks the arguments of max pooling's derivative kernels: `x` (the pooled input, of
 * `shape`), its window maxima `max` and the linear argument `v` (input- or window-shaped).
 */
const maximaDims = (op: string, x: Buffer, max: Buffer, v: Buffer, shape: Shape, g: PoolGeometry, vShape: 'input' | 'windows'): PoolDims => {
  const out = pool2dShape(shape, g, op)
  const windows = Sh.size(out)
  if (x.length !== Sh.size(shape)) throw new ShapeError(`${op}: the pooled input has ${x.length} elements, but its shape ${Sh.show(shape)} needs ${Sh.size(shape)}`)
  if (max.length !== windows) throw new ShapeError(`${op}: got ${max.length} window maxima, but pooling ${Sh.show(shape)} gives ${Sh.show(out)} (${windows} windows)`)
  const want = vShape === 'input' ? Sh.size(shape) : windows
  if (v.length !== want) {
    throw new ShapeError(`${op}: the ${vShape === 'input' ? 'tangent' : 'cotangent'} has ${v.length} elements, expected ${want} (${vShape === 'input' ? Sh.show(shape) : Sh.show(out)})`)
  }
  return poolDims(shape, out, g)
}

/**
 * Max pooling's JVP: for each window, `Σ_taps ω·t[tap]` with ω = 1/(number of ties) on the taps
 * of `x` equal to the window's maximum `max[win]` and 0 elsewhere and in the padding (the `max`
 * reduction's subgradient, so that the two agree; a NaN maximum matches nothing and gives NaN,
 * as the reduction's 0/0). `t` and `x` have `shape`; the result has the pooled shape.
 */
export const maxPool2dGather = (t: Buffer, x: Buffer, max: Buffer, shape: Shape, g: PoolGeometry, dtype: DType): Buffer => {
  const d = maximaDims('maxPool2dGather', x, max, t, shape, g, 'input')
  const y = allocate(dtype, max.length)
  let k = 0
  for (let p = 0; p < d.planes; p++) {
    const xp = p * d.h * d.w
    for (let r = 0; r < d.ho; r++) {
      const r0 = r * d.sh - d.top
      const iLo = Math.max(0, -r0)
      const iHi = Math.min(d.kh, d.h - r0)
      for (let q = 0; q < d.wo; q++, k++) {
        const c0 = q * d.sw - d.left
        const jLo = Math.max(0, -c0)
        const jHi = Math.min(d.kw, d.w - c0)
        const m = max[k]!
        const hits = ties(x, m, d, xp, r0, c0, iLo, iHi, jLo, jHi)
        let acc = 0
        for (let i = iLo; i < iHi; i++) {
          const row = xp + (r0 + i) * d.w + c0
          for (let j = jLo; j < jHi; j++) if (x[row + j] === m) acc += t[row + j]!
        }
        y[k] = hits === 0 ? NaN : acc / hits
      }
    }
  }
  return y
}

/**
 * The transpose of {@link maxPool2dGather} (max pooling's VJP): each window's cotangent
 * `ct[win]` shared evenly among the taps of `x` equal to its maximum, summed where windows
 * overlap, into `shape` (`x`'s). float32 2×2 windows run on the WebAssembly kernel.
 */
export const maxPool2dSpread = (ct: Buffer, x: Buffer, max: Buffer, shape: Shape, g: PoolGeometry, dtype: DType): Buffer => {
  const d = maximaDims('maxPool2dSpread', x, max, ct, shape, g, 'windows')
  if (dtype === 'f32' && ct instanceof Float32Array && x instanceof Float32Array && max instanceof Float32Array) {
    const dx = maxPool2dGradF32(ct, x, max, d)
    if (dx !== undefined) return dx
  }
  const dx = allocate(dtype, x.length)
  let k = 0
  for (let p = 0; p < d.planes; p++) {
    const xp = p * d.h * d.w
    for (let r = 0; r < d.ho; r++) {
      const r0 = r * d.sh - d.top
      const iLo = Math.max(0, -r0)
      const iHi = Math.min(d.kh, d.h - r0)
      for (let q = 0; q < d.wo; q++, k++) {
        const c0 = q * d.sw - d.left
        const jLo = Math.max(0, -c0)
        const jHi = Math.min(d.kw, d.w - c0)
        const m = max[k]!
        const hits = ties(x, m, d, xp, r0, c0, iLo, iHi, jLo, jHi)
        // a NaN maximum ties with nothing: its window gets NaN everywhere, as the reduction's 0/0
        const share = hits === 0 ? NaN : ct[k]! / hits
        for (let i = iLo; i < iHi; i++) {
          const row = xp + (r0 + i) * d.w + c0
          for (let j = jLo; j < jHi; j++) if (hits === 0 || x[row + j] === m) dx[row + j] = dx[row + j]! + share
        }
      }
    }
  }
  return dx
}
