/**
 * The convolution and pooling primitives (src/backend/conv.ts, the rules in src/prim.ts):
 * their values against nested loops written here over flat arrays (no lamina code on the
 * reference side), the float32 im2col path against the float64 definition within a float32
 * bound, every option (stride, dilation, non-square windows, uneven 'same' padding, pooling
 * padding), ties in max pooling against the `max` reduction's subgradient, the derivative laws
 * of first and second order in float64, and their errors.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { fc, test } from '@fast-check/vitest'
import { ArgumentError, Backends, Conv, Layer, Layers, Optim, Loss, Prim, Random, ShapeError, Tree, cpu, fromBuffer, grad, max, mul, reshape, sum, valueAndGrad } from 'lamina-nn'
import type { Tensor } from 'lamina-nn'
import { checkGradient, checkPrimitive, tensorOf } from 'lamina-nn/laws'
import { compile, createGpuBackend } from 'lamina-nn/gpu'
import { wasmMatmulAvailable } from '../src/backend/wasm/matmul-f32.js'

// ---------------------------------------------------------------- references (plain loops)

type Quad = readonly [number, number, number, number]
type Two = readonly [number, number]

interface ConvCase {
  readonly x: Quad // [B, C, H, W]
  readonly w: Quad // [O, C, kh, kw]
  readonly stride: Two
  readonly dilation: Two
  readonly padding: Quad // top, bottom, left, right
}

const outOf = (n: number, k: number, s: number, d: number, p0: number, p1: number): number => Math.floor((n + p0 + p1 - d * (k - 1) - 1) / s) + 1

const outShape = (g: ConvCase): Quad => [
  g.x[0],
  g.w[0],
  outOf(g.x[2], g.w[2], g.stride[0], g.dilation[0], g.padding[0], g.padding[1]),
  outOf(g.x[3], g.w[3], g.stride[1], g.dilation[1], g.padding[2], g.padding[3])
]

/**
 * Calls `visit(yIndex, xIndex, wIndex)` for every term of y[b,o,i,j] = Σ w[o,c,u,v]·x[b,c,i·sh + u·dh − top, j·sw + v·dw − left]
 * whose input position lies inside the image.
 */
const eachTerm = (g: ConvCase, visit: (y: number, x: number, w: number) => void): void => {
  const [B, C, H, W] = g.x
  const [O, , KH, KW] = g.w
  const [, , HO, WO] = outShape(g)
  for (let b = 0; b < B; b++)
    for (let o = 0; o < O; o++)
      for (let i = 0; i < HO; i++)
        for (let j = 0; j < WO; j++)
          for (let c = 0; c < C; c++)
            for (let u = 0; u < KH; u++)
              for (let v = 0; v < KW; v++) {
                const r = i * g.stride[0] + u * g.dilation[0] - g.padding[0]
                const q = j * g.stride[1] + v * g.dilation[1] - g.padding[2]
                if (r < 0 || r >= H || q < 0 || q >= W) continue
                visit(((b * O + o) * HO + i) * WO + j, ((b * C + c) * H + r) * W + q, ((o * C + c) * KH + u) * KW + v)
              }
}

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1)

const convRef = (g: ConvCase, x: ArrayLike<number>, w: ArrayLike<number>): Float64Array => {
  const y = new Float64Array(size(outShape(g)))
  eachTerm(g, (yi, xi, wi) => (y[yi] = y[yi]! + w[wi]! * x[xi]!))
  return y
}
const inputGradRef = (g: ConvCase, ct: ArrayLike<number>, w: ArrayLike<number>): Float64Array => {
  const dx = new Float64Array(size(g.x))
  eachTerm(g, (yi, xi, wi) => (dx[xi] = dx[xi]! + w[wi]! * ct[yi]!))
  return dx
}
const filterGradRef = (g: ConvCase, x: ArrayLike<number>, ct: ArrayLike<number>): Float64Array => {
  const dw = new Float64Array(size(g.w))
  eachTerm(g, (yi, xi, wi) => (dw[wi] = dw[wi]! + ct[yi]! * x[xi]!))
  return dw
}
/** Σ |terms| per output element, for the float32 bound. */
const magnitudes = (g: ConvCase, x: ArrayLike<number>, w: ArrayLike<number>, into: 'y' | 'x' | 'w', ct?: ArrayLike<number>): Float64Array => {
  const out = new Float64Array(size(into === 'y' ? outShape(g) : into === 'x' ? g.x : g.w))
  eachTerm(g, (yi, xi, wi) => {
    const k = into === 'y' ? yi : into === 'x' ? xi : wi
    const a = into === 'y' ? w[wi]! * x[xi]! : into === 'x' ? w[wi]! * ct![yi]! : ct![yi]! * x[xi]!
    out[k] = out[k]! + Math.abs(a)
  })
  return out
}

interface PoolCase {
  readonly x: Quad
  readonly kernel: Two
  readonly stride: Two
  readonly padding: Quad
}

/** max or mean (padding counted as zeros in the mean, −∞ in the max) of every window, plainly. */
const poolRef = (g: PoolCase, x: ArrayLike<number>, kind: 'max' | 'avg'): number[] => {
  const [B, C, H, W] = g.x
  const HO = outOf(H, g.kernel[0], g.stride[0], 1, g.padding[0], g.padding[1])
  const WO = outOf(W, g.kernel[1], g.stride[1], 1, g.padding[2], g.padding[3])
  const y: number[] = []
  for (let b = 0; b < B; b++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < HO; i++)
        for (let j = 0; j < WO; j++) {
          let m = -Infinity
          let s = 0
          for (let u = 0; u < g.kernel[0]; u++)
            for (let v = 0; v < g.kernel[1]; v++) {
              const r = i * g.stride[0] + u - g.padding[0]
              const q = j * g.stride[1] + v - g.padding[2]
              const value = r < 0 || r >= H || q < 0 || q >= W ? (kind === 'max' ? -Infinity : 0) : x[((b * C + c) * H + r) * W + q]!
              m = Math.max(m, value)
              s += value
            }
          y.push(kind === 'max' ? m : s / (g.kernel[0] * g.kernel[1]))
        }
  return y
}

const close = (got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-12): boolean =>
  got.length === want.length && Array.from(got).every((v, i) => Math.abs(v - want[i]!) <= tol * Math.max(1, Math.abs(want[i]!)))

const values = (n: number) => fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: n, maxLength: n })

/** A convolution whose dilated filter fits the padded image: every option drawn. */
const convCases: fc.Arbitrary<ConvCase> = fc
  .record({
    b: fc.integer({ min: 1, max: 3 }),
    c: fc.integer({ min: 1, max: 3 }),
    o: fc.integer({ min: 1, max: 3 }),
    kernel: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
    stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    dilation: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    padding: fc.tuple(fc.nat(3), fc.nat(3), fc.nat(3), fc.nat(3)),
    extra: fc.tuple(fc.nat(6), fc.nat(6))
  })
  .map(({ b, c, o, kernel, stride, dilation, padding, extra }) => {
    const fit = (a: 0 | 1) => Math.max(1, dilation[a] * (kernel[a] - 1) + 1 - padding[2 * a]! - padding[2 * a + 1]! + extra[a])
    return { x: [b, c, fit(0), fit(1)], w: [o, c, kernel[0], kernel[1]], stride, dilation, padding } as ConvCase
  })

const geometry = (g: ConvCase) => ({ stride: g.stride, dilation: g.dilation, padding: g.padding })

// ---------------------------------------------------------------- convolution values

describe('conv2d and its transposes: values', () => {
  test.prop([convCases.chain((g) => fc.tuple(fc.constant(g), values(size(g.x)), values(size(g.w)), values(size(outShape(g)))))], { numRuns: 150 })(
    'float64: conv2d, conv2dInputGrad and conv2dFilterGrad agree with the nested-loop definitions',
    ([g, xs, ws, cs]) => {
      const x = fromBuffer(xs, g.x)
      const w = fromBuffer(ws, g.w)
      const c = fromBuffer(cs, outShape(g))
      const y = Prim.bind('conv2d', [x, w], geometry(g))
      const dx = Prim.bind('conv2dInputGrad', [c, w], { ...geometry(g), inputSize: [g.x[2], g.x[3]] })
      const dw = Prim.bind('conv2dFilterGrad', [x, c], { ...geometry(g), kernel: [g.w[2], g.w[3]] })
      expect(y.shape).toEqual([...outShape(g)])
      expect(dx.shape).toEqual([...g.x])
      expect(dw.shape).toEqual([...g.w])
      // with a bias per filter: every pixel of channel o gains bias[o]
      const bias = Array.from({ length: g.w[0] }, (_, o) => o - 0.5)
      const yb = Prim.bind('conv2d', [x, w, fromBuffer(bias, [g.w[0]])], geometry(g))
      const pixels = outShape(g)[2] * outShape(g)[3]
      const withBias = convRef(g, xs, ws).map((v, k) => v + bias[Math.floor(k / pixels) % g.w[0]]!)
      return close(y.data, convRef(g, xs, ws)) && close(yb.data, withBias) && close(dx.data, inputGradRef(g, cs, ws)) && close(dw.data, filterGradRef(g, xs, cs))
    }
  )

  test.prop([convCases.chain((g) => fc.tuple(fc.constant(g), values(size(g.x)), values(size(g.w)), values(size(outShape(g)))))], { numRuns: 150 })(
    'float32 (im2col on the WebAssembly product): within (terms + 2)·2⁻²³ of Σ|terms| of the float64 definition',
    ([g, xs, ws, cs]) => {
      const [x32, w32, c32] = [Float32Array.from(xs), Float32Array.from(ws), Float32Array.from(cs)]
      const x = fromBuffer(x32, g.x)
      const w = fromBuffer(w32, g.w)
      const c = fromBuffer(c32, outShape(g))
      const bias = Float32Array.from({ length: g.w[0] }, (_, o) => o / 3 - 0.25)
      const yb = Prim.bind('conv2d', [x, w, fromBuffer(bias, [g.w[0]])], geometry(g))
      const y = Prim.bind('conv2d', [x, w], geometry(g))
      const dx = Prim.bind('conv2dInputGrad', [c, w], { ...geometry(g), inputSize: [g.x[2], g.x[3]] })
      const dw = Prim.bind('conv2dFilterGrad', [x, c], { ...geometry(g), kernel: [g.w[2], g.w[3]] })
      expect([y.dtype, dx.dtype, dw.dtype]).toEqual(['f32', 'f32', 'f32'])
      // the bias is added once to the float32 sum: exactly y + bias, rounded
      const pixels = outShape(g)[2] * outShape(g)[3]
      expect(Array.from(yb.data)).toEqual(Array.from(y.data, (v, k) => Math.fround(v + bias[Math.floor(k / pixels) % g.w[0]]!)))
      const [, , ho, wo] = outShape(g)
      const within = (got: ArrayLike<number>, want: Float64Array, mags: Float64Array, terms: number) =>
        Array.from(got).every((v, i) => Math.abs(v - want[i]!) <= (terms + 2) * 2 ** -23 * mags[i]! + 1e-30)
      return (
        within(y.data, convRef(g, x32, w32), magnitudes(g, x32, w32, 'y'), g.x[1] * g.w[2] * g.w[3]) &&
        within(dx.data, inputGradRef(g, c32, w32), magnitudes(g, x32, w32, 'x', c32), g.w[0] * g.w[2] * g.w[3]) &&
        within(dw.data, filterGradRef(g, x32, c32), magnitudes(g, x32, w32, 'w', c32), g.x[0] * ho * wo)
      )
    }
  )

  it('runs float32 through the WebAssembly kernel where the engine has SIMD, at LeNet sizes too', () => {
    expect(wasmMatmulAvailable()).toBe(true)
    const g: ConvCase = { x: [9, 6, 14, 14], w: [16, 6, 5, 5], stride: [1, 1], dilation: [1, 1], padding: [0, 0, 0, 0] }
    const xs = Random.normal(Random.key(1), [size(g.x)], { dtype: 'f32' }).data as Float32Array
    const ws = Random.normal(Random.key(2), [size(g.w)], { dtype: 'f32' }).data as Float32Array
    const y = Prim.bind('conv2d', [fromBuffer(xs, g.x), fromBuffer(ws, g.w)], geometry(g))
    const want = convRef(g, xs, ws)
    const mags = magnitudes(g, xs, ws, 'y')
    expect(Array.from(y.data).every((v, i) => Math.abs(v - want[i]!) <= 152 * 2 ** -23 * mags[i]!)).toBe(true)
  })

  it('computes worked examples: a dilated non-square filter, strides, and uneven padding', () => {
    // 3x4 image 1…12; a 2x2 filter [[1, 0], [0, -1]] dilated 2 along the width: x[i, j] − x[i + 1, j + 2]
    const x = fromBuffer([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [1, 1, 3, 4])
    const w = fromBuffer([1, 0, 0, -1], [1, 1, 2, 2])
    const g = { stride: [1, 1], dilation: [1, 2], padding: [0, 0, 0, 0] } as const
    expect(Prim.bind('conv2d', [x, w], g).toArray()).toEqual([[[[1 - 7, 2 - 8], [5 - 11, 6 - 12]]]])
    // stride 2 along the height, one padded row at the top only
    const y = Prim.bind('conv2d', [x, fromBuffer([1, 1], [1, 1, 2, 1])], { stride: [2, 1], dilation: [1, 1], padding: [1, 0, 0, 0] })
    expect(y.toArray()).toEqual([[[[1, 2, 3, 4], [5 + 9, 6 + 10, 7 + 11, 8 + 12]]]])
  })
})

// ---------------------------------------------------------------- options of the functions

describe("Conv.convolve's options", () => {
  /** TensorFlow's 'same': ⌈n/s⌉ outputs, the total padding split with the odd one after. */
  const samePads = (n: number, k: number, s: number, d: number): [number, number] => {
    const out = Math.ceil(n / s)
    const total = Math.max(0, (out - 1) * s + d * (k - 1) + 1 - n)
    return [Math.floor(total / 2), total - Math.floor(total / 2)]
  }

  test.prop([
    fc
      .record({ h: fc.integer({ min: 1, max: 9 }), w: fc.integer({ min: 1, max: 9 }), kh: fc.integer({ min: 1, max: 4 }), kw: fc.integer({ min: 1, max: 4 }), s: fc.integer({ min: 1, max: 3 }), d: fc.integer({ min: 1, max: 2 }) })
      .chain((o) => fc.tuple(fc.constant(o), values(2 * o.h * o.w), values(3 * 2 * o.kh * o.kw)))
  ], { numRuns: 100 })("'same' gives ⌈n/stride⌉ outputs and the uneven split (extra row and column at the bottom and right)", ([o, xs, ws]) => {
    const [pt, pb] = samePads(o.h, o.kh, o.s, o.d)
    const [pl, pr] = samePads(o.w, o.kw, o.s, o.d)
    const g: ConvCase = { x: [1, 2, o.h, o.w], w: [3, 2, o.kh, o.kw], stride: [o.s, o.s], dilation: [o.d, o.d], padding: [pt, pb, pl, pr] }
    const y = Conv.convolve(fromBuffer(xs, g.x), fromBuffer(ws, g.w), { stride: o.s, dilation: o.d, padding: 'same' })
    return y.shape.join() === [1, 3, Math.ceil(o.h / o.s), Math.ceil(o.w / o.s)].join() && close(y.data, convRef(g, xs, ws))
  })

  it("pads 'same' unevenly: a 2x2 filter over 3x3 pads one row below and one column on the right", () => {
    const x = fromBuffer([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3])
    const y = Conv.convolve(x, fromBuffer([1, 1, 1, 1], [1, 1, 2, 2]), { padding: 'same' })
    expect(y.toArray()).toEqual([[[[12, 16, 9], [24, 28, 15], [15, 17, 9]]]])
    // explicit pads: [top, bottom, left, right] and [height, width]
    expect(Conv.convolve(x, fromBuffer([1], [1, 1, 1, 1]), { padding: [1, 0, 0, 2] }).shape).toEqual([1, 1, 4, 5])
    expect(Conv.convolve(x, fromBuffer([1], [1, 1, 1, 1]), { padding: [1, 2] }).shape).toEqual([1, 1, 5, 7])
    // a bias per filter
    expect(Conv.convolve(x, fromBuffer([1, -1], [2, 1, 1, 1]), { bias: fromBuffer([10, 0], [2]), stride: 2 }).toArray()).toEqual([[[[11, 13], [17, 19]], [[-1, -3], [-7, -9]]]])
  })

  it('rejects bad options, shapes and dtypes with typed errors naming the value', () => {
    const x = fromBuffer(new Float64Array(9), [1, 1, 3, 3])
    const w = fromBuffer(new Float64Array(4), [1, 1, 2, 2])
    expect(() => Conv.convolve(x, w, { stride: 0 })).toThrow(new ArgumentError('convolve: the stride must be a positive integer, got 0'))
    expect(() => Conv.convolve(x, w, { dilation: [1, 1.5] })).toThrow(new ArgumentError('convolve: the dilation must be a positive integer, got 1.5'))
    expect(() => Conv.convolve(x, w, { padding: [1, 2, 3] as never })).toThrow(new ArgumentError("convolve: the padding must be 'same', 'valid', a number, two or four numbers, got [1,2,3]"))
    expect(() => Conv.convolve(x, w, { padding: -1 })).toThrow(new ArgumentError('convolve: the padding must be non-negative integers, got -1'))
    expect(() => Conv.convolve(fromBuffer(new Float64Array(9), [1, 3, 3]), w)).toThrow(new ShapeError('convolve: expects images [batch, channels, height, width], got shape [1,3,3]'))
    expect(() => Conv.convolve(x, fromBuffer(new Float64Array(8), [1, 2, 2, 2]))).toThrow(new ShapeError('convolve: the input [1,1,3,3] has 1 channels but the filter [1,2,2,2] expects 2'))
    expect(() => Conv.convolve(x, fromBuffer(new Float64Array(4), [1, 1, 2, 2]), { dilation: 3 })).toThrow(
      new ShapeError('convolve: a 2x2 filter (dilation [3,3]) does not fit in the input [1,1,3,3] padded by [0,0,0,0]')
    )
    expect(() => Conv.convolve(x, fromBuffer(new Float32Array(4), [1, 1, 2, 2]) as never)).toThrow('convolve: dtypes differ: f64 and f32; convert one with astype')
    expect(() => Prim.bind('conv2d', [x, w], { stride: [1, 1], dilation: [1, 1], padding: [0, 0, -1, 0] })).toThrow(
      new ArgumentError('conv2d: the padding must be four non-negative integers [top, bottom, left, right], got [0,0,-1,0]')
    )
    expect(() => Prim.bind('conv2d', [x], { stride: [1, 1], dilation: [1, 1], padding: [0, 0, 0, 0] })).toThrow(new ArgumentError('conv2d: expected 2 or 3 tensor arguments (x, w and a bias), got 1'))
    expect(() => Conv.convolve(x, w, { bias: fromBuffer([1, 2], [2]) })).toThrow(new ShapeError('convolve: the bias has shape [2], expected [1] (one per filter)'))
    expect(() => Prim.bind('conv2d', [x, w, fromBuffer([1, 2], [2])], { stride: [1, 1], dilation: [1, 1], padding: [0, 0, 0, 0] })).toThrow(
      new ShapeError('conv2d: the bias has shape [2], expected [1] (one per filter)')
    )
    expect(() => Conv.maxPool(x, 2, { padding: 2 })).toThrow(new ArgumentError('maxPool: the padding [2,2,2,2] must be smaller than the 2x2 window on every side'))
    expect(() => Conv.avgPool(x, 4)).toThrow(new ShapeError('avgPool: a 4x4 window does not fit in the input [1,1,3,3] padded by [0,0,0,0]'))
  })
})

// ---------------------------------------------------------------- pooling values

describe('pooling: values', () => {
  const poolCases: fc.Arbitrary<PoolCase> = fc
    .record({
      b: fc.integer({ min: 1, max: 2 }),
      c: fc.integer({ min: 1, max: 3 }),
      kernel: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
      stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
      pads: fc.tuple(fc.nat(3), fc.nat(3), fc.nat(3), fc.nat(3)),
      extra: fc.tuple(fc.nat(6), fc.nat(6))
    })
    .map(({ b, c, kernel, stride, pads, extra }) => {
      const padding = [pads[0] % kernel[0], pads[1] % kernel[0], pads[2] % kernel[1], pads[3] % kernel[1]] as const
      const fit = (a: 0 | 1) => Math.max(1, kernel[a] - padding[2 * a]! - padding[2 * a + 1]! + extra[a])
      return { x: [b, c, fit(0), fit(1)], kernel, stride, padding } as PoolCase
    })

  for (const dtype of ['f64', 'f32'] as const) {
    test.prop([poolCases.chain((g) => fc.tuple(fc.constant(g), values(size(g.x))))], { numRuns: 150 })(
      `${dtype}: max pooling (padding −∞) and average pooling (padding counted as 0) agree with the definitions`,
      ([g, xs]) => {
        const data = dtype === 'f32' ? Float32Array.from(xs) : Float64Array.from(xs)
        const x = fromBuffer(data, g.x)
        const params = { kernel: g.kernel, stride: g.stride, padding: g.padding }
        const m = Prim.bind('maxPool2d', [x], params)
        const a = Prim.bind('avgPool2d', [x], params)
        return m.dtype === dtype && close(m.data, poolRef(g, data, 'max'), 0) && close(a.data, poolRef(g, data, 'avg'), dtype === 'f32' ? 1e-6 : 1e-14)
      }
    )
  }

  it('2x2 windows at stride 2 that reach the bottom and right padding ("same" on odd sizes), float32 and float64', () => {
    // two 3x3 images; the second one's top-left window holds three tied maxima (2)
    const xs = [1, 5, 2, 7, 3, 9, 4, 8, 6, 2, 2, 1, 2, 0, 3, 3, 5, 4]
    const third = 1 / 3
    const want = [0, 0, 0, 1, 0, 1, 0, 1, 1, third, third, 0, third, 0, 1, 0, 1, 1]
    for (const dtype of ['f64', 'f32'] as const) {
      const x = fromBuffer(dtype === 'f32' ? Float32Array.from(xs) : Float64Array.from(xs), [1, 2, 3, 3])
      expect(Conv.maxPool(x, 2, { padding: 'same' }).toArray()).toEqual([[[[7, 9], [8, 6]], [[2, 3], [5, 4]]]])
      const g = grad((t: Tensor) => sum(Conv.maxPool(t, 2, { padding: 'same' })))(x)
      expect(close(g.data, want, dtype === 'f32' ? 1e-7 : 1e-16)).toBe(true)
    }
  })

  it('global average pooling is the mean over each image', () => {
    const xs = Array.from({ length: 2 * 3 * 4 * 5 }, (_, i) => Math.sin(i))
    const y = Layer.apply(Conv.globalAvgPool(3), {}, fromBuffer(xs, [2, 3, 4, 5]))
    const want = Array.from({ length: 6 }, (_, k) => xs.slice(k * 20, k * 20 + 20).reduce((a, b) => a + b, 0) / 20)
    expect(y.shape).toEqual([2, 3])
    expect(close(y.data, want, 1e-15)).toBe(true)
    expect(() => Conv.globalAvgPool(3).outputShape([2, 4, 4])).toThrow(new ShapeError('globalAvgPool expects shape [3,?,?] but got shape [2,4,4]'))
  })

  it('average pooling counts the padding (count_include_pad) and its layer has the pooling shapes', () => {
    const x = fromBuffer([4, 8], [1, 1, 1, 2])
    // one window over [pad, 4, 8, pad]… with a 1x2 window and padding 1 left and right: (0+4)/2, (8+0)/2
    expect(Conv.avgPool(x, [1, 2], { padding: [0, 0, 1, 1] }).toArray()).toEqual([[[[2, 4]]]])
    expect(Conv.avgPool2d(3, { stride: 2, padding: 1 }).outputShape([4, 7, 8])).toEqual([4, 4, 4])
    expect(Layer.apply(Conv.avgPool2d(2, { padding: 1 }), {}, fromBuffer([4, 8, 12, 16], [1, 1, 2, 2])).toArray()).toEqual([[[[1, 2], [3, 4]]]])
  })
})

// ---------------------------------------------------------------- ties

describe('max pooling ties', () => {
  /** The subgradient rule by hand: each window's cotangent split evenly among its tied maxima. */
  const tiedGradient = (g: PoolCase, xs: readonly number[], ct: readonly number[]): Float64Array => {
    const [B, C, H, W] = g.x
    const HO = outOf(H, g.kernel[0], g.stride[0], 1, g.padding[0], g.padding[1])
    const WO = outOf(W, g.kernel[1], g.stride[1], 1, g.padding[2], g.padding[3])
    const m = poolRef(g, xs, 'max')
    const dx = new Float64Array(xs.length)
    let k = 0
    for (let b = 0; b < B; b++)
      for (let c = 0; c < C; c++)
        for (let i = 0; i < HO; i++)
          for (let j = 0; j < WO; j++, k++) {
            const hits: number[] = []
            for (let u = 0; u < g.kernel[0]; u++)
              for (let v = 0; v < g.kernel[1]; v++) {
                const r = i * g.stride[0] + u - g.padding[0]
                const q = j * g.stride[1] + v - g.padding[2]
                if (r >= 0 && r < H && q >= 0 && q < W && xs[((b * C + c) * H + r) * W + q] === m[k]) hits.push(((b * C + c) * H + r) * W + q)
              }
            for (const h of hits) dx[h] = dx[h]! + ct[k]! / hits.length
          }
    return dx
  }

  it.each(['f64', 'f32'] as const)('%s: splits a window’s gradient evenly among tied maxima, as the max reduction does', (dtype) => {
    // values in {0, 1, 2}: most windows tie (a ReLU network's zeros do the same)
    const xs = Array.from({ length: 2 * 2 * 6 * 6 }, (_, i) => (i * 7) % 3)
    const x = fromBuffer(dtype === 'f32' ? Float32Array.from(xs) : Float64Array.from(xs), [2, 2, 6, 6])
    const ct = Random.normal(Random.key(9), [2, 2, 3, 3], { dtype })
    const viaPool = grad((t: Tensor) => sum(mul(Prim.bind('maxPool2d', [t], { kernel: [2, 2], stride: [2, 2], padding: [0, 0, 0, 0] }), ct)))(x)
    // the same windows as a max reduction over [B, C, 3, 2, 3, 2]
    const viaMax = grad((t: Tensor) => sum(mul(reshape(max(reshape(t, [2, 2, 3, 2, 3, 2]), [3, 5]), [2, 2, 3, 3]), ct)))(x)
    expect(viaPool.dtype).toBe(dtype)
    expect(close(viaPool.data, viaMax.data, dtype === 'f32' ? 1e-7 : 1e-15)).toBe(true)
    // and the data does tie: windows with two maxima or more
    const windows = Array.from({ length: 2 * 2 * 3 * 3 }, (_, k) => {
      const [plane, i, j] = [Math.floor(k / 9), Math.floor((k % 9) / 3), k % 3]
      return [0, 1, 6, 7].map((o) => xs[plane * 36 + i * 12 + j * 2 + o]!)
    })
    expect(windows.filter((w) => w.filter((v) => v === Math.max(...w)).length > 1).length).toBeGreaterThan(5)
  })

  for (const dtype of ['f64', 'f32'] as const) {
    test.prop([
      fc
        .record({ h: fc.integer({ min: 2, max: 6 }), w: fc.integer({ min: 2, max: 6 }), k: fc.integer({ min: 2, max: 3 }), s: fc.integer({ min: 1, max: 2 }), p: fc.nat(1) })
        .chain((o) => fc.tuple(fc.constant(o), fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 2 * o.h * o.w, maxLength: 2 * o.h * o.w })))
    ], { numRuns: 100 })(`${dtype}: overlapping and padded windows: each window’s share goes to its own ties`, ([o, xs]) => {
      const g: PoolCase = { x: [2, 2, o.h + o.k, o.w + o.k], kernel: [o.k, o.k], stride: [o.s, o.s], padding: [o.p, o.p, o.p, o.p] }
      const data = Array.from({ length: size(g.x) }, (_, i) => xs[i % xs.length]!)
      const params = { kernel: g.kernel, stride: g.stride, padding: g.padding }
      const x = fromBuffer(dtype === 'f32' ? Float32Array.from(data) : Float64Array.from(data), g.x)
      const y = Prim.bind('maxPool2d', [x], params)
      const ct = Array.from({ length: y.size }, (_, i) => 1 + (i % 5))
      const cotangent = fromBuffer(dtype === 'f32' ? Float32Array.from(ct) : Float64Array.from(ct), y.shape)
      const dx = grad((t: Tensor) => sum(mul(Prim.bind('maxPool2d', [t], params), cotangent)))(x)
      return dx.dtype === dtype && close(dx.data, tiedGradient(g, data, ct), dtype === 'f32' ? 1e-6 : 1e-14)
    })
  }
})

// ---------------------------------------------------------------- float32 fast paths

describe('float32 fast paths: 2x2 max pooling four windows per SIMD step, windows copied from a padded image', () => {
  const pool2 = { kernel: [2, 2], stride: [2, 2], padding: [0, 0, 0, 0] } as const

  /** 2x2 stride-2 max pooling of `planes` images [h, w] and its gradient by hand: the cotangent split among tied maxima, NaN on every tap of a NaN window. */
  const pool2Ref = (planes: number, h: number, w: number, xs: ArrayLike<number>, ct: ArrayLike<number>) => {
    const [ho, wo] = [Math.floor(h / 2), Math.floor(w / 2)]
    const y: number[] = []
    const dx = new Float64Array(planes * h * w)
    for (let p = 0; p < planes; p++)
      for (let i = 0; i < ho; i++)
        for (let j = 0; j < wo; j++) {
          const taps = [0, 1, w, w + 1].map((o) => p * h * w + 2 * i * w + 2 * j + o)
          const vs = taps.map((t) => xs[t]!)
          const m = vs.some(Number.isNaN) ? NaN : Math.max(...vs)
          const k = y.length
          y.push(m)
          const tied = taps.filter((t) => xs[t] === m)
          for (const t of Number.isNaN(m) ? taps : tied) dx[t] = Number.isNaN(m) ? NaN : ct[k]! / tied.length
        }
    return { y, dx }
  }
  const same = (a: number, b: number): boolean => (Number.isNaN(a) ? Number.isNaN(b) : a === b)
  // mostly ties (ReLU's zeros), some arbitrary values, now and then a NaN
  const entries = fc.oneof(
    { arbitrary: fc.constantFrom(0, -0, 1, 2), weight: 6 },
    { arbitrary: fc.double({ min: -3, max: 3, noNaN: true }), weight: 6 },
    { arbitrary: fc.constant(NaN), weight: 1 }
  )

  test.prop([
    fc
      .record({ planes: fc.integer({ min: 1, max: 4 }), h: fc.integer({ min: 2, max: 30 }), w: fc.integer({ min: 2, max: 41 }) })
      .chain((o) => fc.tuple(fc.constant(o), fc.array(entries, { minLength: o.planes * o.h * o.w, maxLength: o.planes * o.h * o.w })))
  ], { numRuns: 120 })('maxPool2d and its gradient equal the definitions exactly, odd sizes and row tails included', ([o, xs]) => {
    const x = Float32Array.from(xs)
    const [ho, wo] = [Math.floor(o.h / 2), Math.floor(o.w / 2)]
    const y = cpu.maxPool2d(x, [1, o.planes, o.h, o.w], pool2, 'f32')
    const ct = Float32Array.from({ length: y.length }, (_, i) => ((i * 37) % 11) - 5)
    const dx = cpu.maxPool2dSpread(ct, x, y, [1, o.planes, o.h, o.w], pool2, 'f32')
    const want = pool2Ref(o.planes, o.h, o.w, x, ct)
    return (
      y instanceof Float32Array &&
      y.length === want.y.length &&
      want.y.every((v, i) => same(y[i]!, v)) &&
      dx.length === want.dx.length &&
      Array.from(want.dx).every((v, i) => same(dx[i]!, Math.fround(v)))
    )
  })

  it('LeNet geometries and a strided, dilated, unevenly padded one: conv2d and its transposes within the float32 bound', () => {
    const cases: ConvCase[] = [
      { x: [3, 1, 28, 28], w: [6, 1, 5, 5], stride: [1, 1], dilation: [1, 1], padding: [2, 2, 2, 2] },
      // conv1 over three chunks of images (the gradients' products take several images at once), the last chunk short
      { x: [13, 1, 28, 28], w: [6, 1, 5, 5], stride: [1, 1], dilation: [1, 1], padding: [2, 2, 2, 2] },
      { x: [2, 6, 14, 14], w: [16, 6, 5, 5], stride: [1, 1], dilation: [1, 1], padding: [0, 0, 0, 0] },
      { x: [2, 3, 17, 19], w: [4, 3, 3, 5], stride: [2, 1], dilation: [2, 1], padding: [1, 2, 3, 0] },
      { x: [2, 2, 9, 11], w: [3, 2, 2, 3], stride: [1, 1], dilation: [1, 2], padding: [0, 0, 0, 0] }
    ]
    cases.forEach((g, n) => {
      const xs = Random.normal(Random.key(10 + n), [size(g.x)], { dtype: 'f32' }).data as Float32Array
      const ws = Random.normal(Random.key(20 + n), [size(g.w)], { dtype: 'f32' }).data as Float32Array
      const cs = Random.normal(Random.key(30 + n), [size(outShape(g))], { dtype: 'f32' }).data as Float32Array
      const y = cpu.conv2d(xs, g.x, ws, g.w, geometry(g), 'f32')
      const dx = cpu.conv2dInputGrad(cs, outShape(g), ws, g.w, geometry(g), [g.x[2], g.x[3]], 'f32')
      const dw = cpu.conv2dFilterGrad(xs, g.x, cs, outShape(g), geometry(g), [g.w[2], g.w[3]], 'f32')
      const within = (got: ArrayLike<number>, want: Float64Array, mags: Float64Array, terms: number) =>
        got.length === want.length && Array.from(got).every((v, i) => Math.abs(v - want[i]!) <= (terms + 2) * 2 ** -23 * mags[i]! + 1e-30)
      const [, , ho, wo] = outShape(g)
      expect(within(y, convRef(g, xs, ws), magnitudes(g, xs, ws, 'y'), g.x[1] * g.w[2] * g.w[3]), `case ${n}: conv2d`).toBe(true)
      expect(within(dx, inputGradRef(g, cs, ws), magnitudes(g, xs, ws, 'x', cs), g.w[0] * g.w[2] * g.w[3]), `case ${n}: input gradient`).toBe(true)
      expect(within(dw, filterGradRef(g, xs, cs), magnitudes(g, xs, ws, 'w', cs), g.x[0] * ho * wo), `case ${n}: filter gradient`).toBe(true)
    })
  })

  describe('where WebAssembly SIMD is missing', () => {
    afterEach(() => {
      vi.restoreAllMocks()
      vi.resetModules()
    })

    it('float32 convolution and pooling run the JavaScript loops, with the same values', async () => {
      vi.spyOn(WebAssembly, 'validate').mockReturnValue(false)
      vi.resetModules()
      const kernels = await import('../src/backend/wasm/conv-f32.js')
      const { cpu: fresh } = await import('../src/backend/cpu.js')
      expect(kernels.wasmConvAvailable()).toBe(false)
      const g: ConvCase = { x: [2, 2, 12, 10], w: [3, 2, 5, 5], stride: [1, 1], dilation: [1, 1], padding: [2, 2, 2, 2] }
      const xs = Random.normal(Random.key(41), [size(g.x)], { dtype: 'f32' }).data as Float32Array
      const ws = Random.normal(Random.key(42), [size(g.w)], { dtype: 'f32' }).data as Float32Array
      const y = fresh.conv2d(xs, g.x, ws, g.w, geometry(g), 'f32')
      expect(y).toBeInstanceOf(Float32Array)
      expect(Array.from(y).every((v, i) => Math.abs(v - convRef(g, xs, ws)[i]!) <= 52 * 2 ** -23 * magnitudes(g, xs, ws, 'y')[i]!)).toBe(true)
      const relus = Float32Array.from(xs, (v) => Math.max(0, Math.round(v)))
      const m = fresh.maxPool2d(relus, g.x, pool2, 'f32')
      const ct = Float32Array.from({ length: m.length }, (_, i) => i + 1)
      const dx = fresh.maxPool2dSpread(ct, relus, m, g.x, pool2, 'f32')
      const want = pool2Ref(4, 12, 10, relus, ct)
      expect(Array.from(m)).toEqual(want.y)
      expect(Array.from(dx)).toEqual(Array.from(want.dx, Math.fround))
    })
  })
})

// ---------------------------------------------------------------- derivative laws

describe('derivative laws (float64, first and second order)', () => {
  const runs = { gradient: 150, jvp: 150, innerProduct: 150, forwardReverse: 30, secondOrder: 30 }
  it.each(['conv2d', 'conv2dInputGrad', 'conv2dFilterGrad', 'maxPool2d', 'avgPool2d', 'avgPool2dTranspose', 'maxPool2dGather', 'maxPool2dSpread'] as const)('%s satisfies every derivative law', (prim) => {
    const reports = checkPrimitive(prim, runs)
    expect(reports.map((r) => r.law.replace(`${prim}: `, ''))).toEqual([
      'reverse mode vs finite differences',
      'forward mode vs finite differences',
      'inner-product identity',
      'forward and reverse Jacobians agree',
      'Hessian symmetry',
      'Hessian-vector product vs differences of gradients'
    ])
    for (const r of reports) expect(r.maxError, r.law).toBeLessThanOrEqual(r.tolerance)
  })

  it('a small conv → tanh → max-pool → avg-pool → dense network: its gradient agrees with finite differences', () => {
    const net = Layer.sequential(Layers.reshape([1, 6, 6]), Conv.conv2d(1, 2, 3, { padding: 1 }), Layers.tanh(), Conv.maxPool2d(2), Conv.avgPool2d(3, { stride: 1, padding: 1 }), Conv.globalAvgPool(2), Layers.dense(2, 2))
    const params = net.init(Random.key(3))
    const inputs = fc.record({ cw: tensorOf([2, 1, 3, 3], { uniform: true }), x: tensorOf([1, 36], { uniform: true, min: 0.1, max: 3 }) })
    const f = ({ cw, x }: { cw: Tensor; x: Tensor }) =>
      Layer.apply(net, { layers: [{}, { w: cw, b: params.layers[1].b }, {}, {}, {}, {}, params.layers[6]] } as never, x)
    // a fixed seed: max pooling of random conv outputs could draw a near-tie (a kink)
    expect(checkGradient(f, inputs, { numRuns: 10, seed: 7 }).maxError).toBeLessThanOrEqual(1e-6)
  })
})

// ---------------------------------------------------------------- other interpreters and backends

describe('other backends and the compiled interpreter', () => {
  it('a GPU.js backend delegates convolution and pooling to the cpu kernels (same values)', async () => {
    const gpu = await createGpuBackend({ mode: 'webasm' })
    try {
      const x = Random.normal(Random.key(1), [2, 3, 7, 6], { dtype: 'f32' })
      const w = Random.normal(Random.key(2), [4, 3, 3, 2], { dtype: 'f32' })
      const run = () => {
        const y = Conv.convolve(x, w, { stride: [2, 1], dilation: [1, 2], padding: 'same' })
        return [y, Conv.maxPool(y, 2, { padding: 'same' }), Conv.avgPool(y, [2, 1])].map((t) => Array.from(t.data))
      }
      expect(Backends.withBackend(gpu.backend, run)).toEqual(run())
    } finally {
      gpu.dispose()
    }
  })

  it('the compiled step stages convolution and pooling as their lowering (im2col, product, max, mean) and equals the eager step', async () => {
    // strided, dilated, unevenly padded: every branch of the lowering's window arithmetic
    const conv = Layer.sequential(Layers.reshape([2, 7, 6]), Conv.conv2d(2, 3, 3, { stride: 2, padding: 1 }), Layers.tanh(), Conv.avgPool2d(2, { stride: 1 }), Conv.maxPool2d(2), Layers.flatten(), Layers.dense(3, 2))
    const sgd = Optim.sgd({ lr: 0.1 }) as Optim.Optimizer<{ readonly step: number }>
    const result = await compile(conv, Loss.crossEntropyWithLogits, sgd, { batch: 3, steps: 2, mode: 'webasm', inputShape: [84] })()
    if (result._tag === 'Left') throw result.left
    const step = result.right
    try {
      const params = conv.init(Random.key(4), 'f32')
      const x = Random.normal(Random.key(5), [2, 3, 84], { dtype: 'f32' })
      const labels = Int32Array.from([0, 1, 1, 0, 1, 0])
      const run = await step.run({ params, optimizerState: sgd.init(params) }, { x, labels })()
      if (run._tag === 'Left') throw run.left
      // the eager interpreter on the same minibatches, in float32, on the convolution primitives' own kernels
      let p = params as unknown
      let state = sgd.init(params)
      const losses: number[] = []
      for (let s = 0; s < 2; s++) {
        const xs = fromBuffer((x.data as Float32Array).slice(s * 3 * 84, (s + 1) * 3 * 84), [3, 84], { dtype: 'f32' })
        const [loss, g] = valueAndGrad((q: typeof p) => Loss.crossEntropyWithLogits(Layer.apply(conv, q as never, xs) as Tensor, labels.slice(s * 3, (s + 1) * 3)))(p)
        losses.push(loss.item())
        ;[p, state] = sgd.update(g, state, p)
      }
      run.right.losses.forEach((l, i) => expect(Math.abs(l - losses[i]!)).toBeLessThan(1e-4))
      const got = Tree.flatten(run.right.params).leaves
      Tree.flatten(p).leaves.forEach((leaf, i) => {
        const a = got[i]!.data
        Array.from(leaf.data).forEach((v, j) => expect(Math.abs(v - a[j]!)).toBeLessThan(1e-4))
      })
    } finally {
      await step.dispose()()
    }
  })

  it('max pooling with padding has no compiled lowering: a CompileError says so', async () => {
    const model = Layer.sequential(Layers.reshape([1, 4, 4]), Conv.maxPool2d(2, { padding: 1 }), Layers.flatten(), Layers.dense(9, 2))
    const result = await compile(model, Loss.crossEntropyWithLogits, Optim.sgd() as Optim.Optimizer<{ readonly step: number }>, { batch: 2, steps: 1, mode: 'webasm', inputShape: [16] })()
    expect(result._tag).toBe('Left')
    if (result._tag === 'Left') {
      expect(result.left.reason).toBe('unsupported-primitive')
      expect(result.left.message).toMatch(/max pooling with padding/)
    }
  })
})
