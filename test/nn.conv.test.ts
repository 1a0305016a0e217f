/**
 * The convolutional layers (src/nn/conv.ts) against references written here as plain nested
 * loops over flat arrays (no lamina code on the reference side), their derivatives through
 * the gradient laws of `lamina-nn/laws`, seed 004's LeNet end to end, and their errors.
 */
import { describe, expect, it } from 'vitest'
import { fc, test } from '@fast-check/vitest'
import { ArgumentError, Conv, Layer, Layers, Random, ShapeError, Tree, fromBuffer, grad, mul, sum, tensor, valueAndGrad, zeros } from 'lamina-nn'
import type { Tensor } from 'lamina-nn'
import { checkGradient, checkJvp, checkSecondOrder, checkVjp, tensorOf } from 'lamina-nn/laws'
import { lenet } from './support/models.js'

// ---------------------------------------------------------------- references

interface Geometry {
  readonly batch: number
  readonly cin: number
  readonly cout: number
  readonly h: number
  readonly w: number
  readonly k: number
  readonly stride: number
  readonly padding: number
}

const outSize = (n: number, k: number, s: number, p: number): number => Math.floor((n + 2 * p - k) / s) + 1

/** y[b,o,i,j] = bias[o] + Σ_{c,u,v} w[o,c,u,v] · x[b, c, i·s + u − p, j·s + v − p] (zero outside the image). */
const convReference = (x: ArrayLike<number>, w: ArrayLike<number>, bias: ArrayLike<number>, g: Geometry): number[] => {
  const ho = outSize(g.h, g.k, g.stride, g.padding)
  const wo = outSize(g.w, g.k, g.stride, g.padding)
  const y: number[] = []
  for (let b = 0; b < g.batch; b++)
    for (let o = 0; o < g.cout; o++)
      for (let i = 0; i < ho; i++)
        for (let j = 0; j < wo; j++) {
          let acc = bias[o]!
          for (let c = 0; c < g.cin; c++)
            for (let u = 0; u < g.k; u++)
              for (let v = 0; v < g.k; v++) {
                const r = i * g.stride + u - g.padding
                const q = j * g.stride + v - g.padding
                if (r < 0 || r >= g.h || q < 0 || q >= g.w) continue
                acc += w[((o * g.cin + c) * g.k + u) * g.k + v]! * x[((b * g.cin + c) * g.h + r) * g.w + q]!
              }
          y.push(acc)
        }
  return y
}

/** y[b,c,i,j] = max_{u,v < k} x[b, c, i·s + u, j·s + v]. */
const poolReference = (x: ArrayLike<number>, g: { batch: number; c: number; h: number; w: number; k: number; stride: number }): number[] => {
  const ho = outSize(g.h, g.k, g.stride, 0)
  const wo = outSize(g.w, g.k, g.stride, 0)
  const y: number[] = []
  for (let b = 0; b < g.batch; b++)
    for (let c = 0; c < g.c; c++)
      for (let i = 0; i < ho; i++)
        for (let j = 0; j < wo; j++) {
          let m = -Infinity
          for (let u = 0; u < g.k; u++)
            for (let v = 0; v < g.k; v++) m = Math.max(m, x[((b * g.c + c) * g.h + i * g.stride + u) * g.w + j * g.stride + v]!)
          y.push(m)
        }
  return y
}

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-12): boolean =>
  a.length === b.length && Array.from(a).every((v, i) => Math.abs(v - b[i]!) <= tol * Math.max(1, Math.abs(b[i]!)))

const floats = (n: number) => fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: n, maxLength: n })

/** A random convolution geometry whose window fits the padded image. */
const geometries = (maxStride = 2): fc.Arbitrary<Geometry> =>
  fc
    .record({
      batch: fc.integer({ min: 1, max: 2 }),
      cin: fc.integer({ min: 1, max: 3 }),
      cout: fc.integer({ min: 1, max: 3 }),
      k: fc.integer({ min: 1, max: 3 }),
      stride: fc.integer({ min: 1, max: maxStride }),
      padding: fc.integer({ min: 0, max: 1 }),
      dh: fc.integer({ min: 0, max: 5 }),
      dw: fc.integer({ min: 0, max: 5 })
    })
    .map(({ dh, dw, ...g }) => ({ ...g, h: Math.max(1, g.k - 2 * g.padding + dh), w: Math.max(1, g.k - 2 * g.padding + dw) }))

/** A geometry with the values of an input batch, weights and biases. */
const convCases = (maxStride: number) =>
  geometries(maxStride).chain((g) =>
    fc.tuple(fc.constant(g), floats(g.batch * g.cin * g.h * g.w), floats(g.cout * g.cin * g.k * g.k), floats(g.cout))
  )

/** Distinct values at least 0.1 apart (no ties in a max, far from the finite differences' steps), in a random order. */
const distinct = (shape: readonly number[]): fc.Arbitrary<Tensor> => {
  const n = shape.reduce((a, b) => a * b, 1)
  return fc
    .uniqueArray(fc.integer({ min: -60, max: 60 }), { minLength: n, maxLength: n })
    .map((xs) => fromBuffer(xs.map((v) => v / 10), shape) as Tensor)
}

// ---------------------------------------------------------------- forward

describe('conv2d', () => {
  test.prop([convCases(2)])(
    'agrees with the nested-loop definition (stride 1 and 2, padding 0 and 1)',
    ([g, xs, ws, bs]) => {
      const layer = Conv.conv2d(g.cin, g.cout, g.k, { stride: g.stride, padding: g.padding })
      const x = fromBuffer(xs, [g.batch, g.cin, g.h, g.w])
      const params = { w: fromBuffer(ws, [g.cout, g.cin, g.k, g.k]), b: fromBuffer(bs, [g.cout]) } as Conv.Conv2dParams<number, number, number>
      const y = Layer.apply(layer, params, x)
      const ho = outSize(g.h, g.k, g.stride, g.padding)
      const wo = outSize(g.w, g.k, g.stride, g.padding)
      return (
        y.shape.join() === [g.batch, g.cout, ho, wo].join() &&
        layer.outputShape([g.cin, g.h, g.w]).join() === [g.cout, ho, wo].join() &&
        close(y.data, convReference(xs, ws, bs, g))
      )
    }
  )

  test.prop([convCases(3)], { numRuns: 30 })('agrees with the definition for stride 3 and in float32', ([g, xs, ws, bs]) => {
    const layer = Conv.conv2d(g.cin, g.cout, g.k, { stride: g.stride, padding: g.padding })
    const x = fromBuffer(new Float32Array(xs), [g.batch, g.cin, g.h, g.w])
    const params = { w: fromBuffer(new Float32Array(ws), [g.cout, g.cin, g.k, g.k]), b: fromBuffer(new Float32Array(bs), [g.cout]) }
    const y = Layer.apply(layer, params as never, x)
    const ref = convReference(new Float32Array(xs), new Float32Array(ws), new Float32Array(bs), g)
    return y.dtype === 'f32' && close(y.data, ref, 1e-5 * g.cin * g.k * g.k)
  })

  it('computes a worked example: a 2x2 box filter with a bias, and a strided, padded edge detector', () => {
    const x = tensor([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]])
    const box = Layer.apply(Conv.conv2d(1, 1, 2), { w: tensor([[[[1, 1], [1, 1]]]]), b: tensor([0.5]) }, x)
    expect(box.toArray()).toEqual([[[[12.5, 16.5], [24.5, 28.5]]]])
    // padding 1, stride 2 over a 3x3 image: windows centred on the corners
    const edge = Layer.apply(Conv.conv2d(1, 1, 3, { stride: 2, padding: 1 }), { w: tensor([[[[0, 0, 0], [-1, 0, 1], [0, 0, 0]]]]), b: tensor([0]) }, x)
    expect(edge.toArray()).toEqual([[[[2, -2], [8, -8]]]])
  })

  it('draws He-normal weights and zero biases from the key (same key, same weights)', () => {
    const layer = Conv.conv2d(16, 32, 3)
    const a = layer.init(Random.key(7))
    const b = layer.init(Random.key(7))
    expect(a.w.shape).toEqual([32, 16, 3, 3])
    expect(a.b.toArray()).toEqual(new Array(32).fill(0))
    expect(Array.from(a.w.data)).toEqual(Array.from(b.w.data))
    const variance = Array.from(a.w.data).reduce((s, v) => s + v * v, 0) / a.w.size
    expect(Math.abs(variance - 2 / (16 * 9))).toBeLessThan(0.25 * (2 / (16 * 9)))
    expect(layer.init(Random.key(7), 'f32').w.dtype).toBe('f32')
  })
})

describe('maxPool2d', () => {
  const poolCases = fc
    .record({
      batch: fc.integer({ min: 1, max: 2 }),
      c: fc.integer({ min: 1, max: 3 }),
      k: fc.integer({ min: 1, max: 3 }),
      stride: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
      dh: fc.integer({ min: 0, max: 5 }),
      dw: fc.integer({ min: 0, max: 5 })
    })
    .chain((g) => fc.tuple(fc.constant({ ...g, h: g.k + g.dh, w: g.k + g.dw }), floats(g.batch * g.c * (g.k + g.dh) * (g.k + g.dw))))

  test.prop([poolCases])('agrees with the nested-loop definition (default stride = kernel, floor sizes)', ([g, xs]) => {
    const layer = g.stride === undefined ? Conv.maxPool2d(g.k) : Conv.maxPool2d(g.k, { stride: g.stride })
    const stride = g.stride ?? g.k
    const y = Layer.apply(layer, {}, fromBuffer(xs, [g.batch, g.c, g.h, g.w]))
    const shape = [g.batch, g.c, outSize(g.h, g.k, stride, 0), outSize(g.w, g.k, stride, 0)]
    return y.shape.join() === shape.join() && close(y.data, poolReference(xs, { ...g, stride }), 0)
  })

  it('drops the rows and columns no window reaches: 13 → 6 with k = 2', () => {
    const x = fromBuffer(Array.from({ length: 169 }, (_, i) => i), [1, 1, 13, 13])
    const y = Layer.apply(Conv.maxPool2d(2), {}, x)
    expect(y.shape).toEqual([1, 1, 6, 6])
    expect(y.toArray()).toEqual([[Array.from({ length: 6 }, (_, i) => Array.from({ length: 6 }, (_, j) => (2 * i + 1) * 13 + 2 * j + 1))]])
  })

  it('shares the gradient evenly among tied maxima (the max reduction’s subgradient)', () => {
    // channel 0: three maxima share the window's gradient; channel 1: two do
    const x = fromBuffer([1, 1, 0, 1, 2, 3, 2, 3], [1, 2, 2, 2])
    const g = grad((t: Tensor) => sum(Layer.apply(Conv.maxPool2d(2), {}, t)))(x)
    expect(g.toArray()).toEqual([[[[1 / 3, 1 / 3], [0, 1 / 3]], [[0, 0.5], [0, 0.5]]]])
  })
})

// ---------------------------------------------------------------- derivatives

describe('derivatives (lamina/laws, float64)', () => {
  const configs = [
    { name: 'k3 s1 p0', cin: 2, cout: 2, k: 3, stride: 1, padding: 0, h: 4, w: 5 },
    { name: 'k3 s2 p1', cin: 2, cout: 3, k: 3, stride: 2, padding: 1, h: 5, w: 4 },
    { name: 'k2 s2 p1', cin: 1, cout: 2, k: 2, stride: 2, padding: 1, h: 3, w: 3 },
    { name: 'k1 s1 p0', cin: 3, cout: 2, k: 1, stride: 1, padding: 0, h: 2, w: 2 }
  ] as const

  for (const c of configs) {
    const layer = Conv.conv2d(c.cin, c.cout, c.k, { stride: c.stride, padding: c.padding })
    const inputs = fc.record({
      x: tensorOf([2, c.cin, c.h, c.w]),
      w: tensorOf([c.cout, c.cin, c.k, c.k]),
      b: tensorOf([c.cout])
    })
    const f = ({ x, w, b }: { x: Tensor; w: Tensor; b: Tensor }) => Layer.apply(layer, { w, b } as never, x)

    it(`conv2d ${c.name}: reverse mode, forward mode and their transposition agree with finite differences`, () => {
      expect(checkGradient(f, inputs, { numRuns: 15 }).maxError).toBeLessThanOrEqual(1e-7)
      expect(checkJvp(f, inputs, { numRuns: 15 }).maxError).toBeLessThanOrEqual(1e-7)
      expect(checkVjp(f, inputs, { numRuns: 15 }).maxError).toBeLessThanOrEqual(1e-12)
    })
  }

  it('conv2d: second derivatives (the Hessian of a bilinear map) agree with finite differences of gradients', () => {
    const layer = Conv.conv2d(2, 2, 2, { stride: 2, padding: 1 })
    const inputs = fc.record({ x: tensorOf([1, 2, 3, 3]), w: tensorOf([2, 2, 2, 2]), b: tensorOf([2]) })
    const f = ({ x, w, b }: { x: Tensor; w: Tensor; b: Tensor }) => Layer.apply(layer, { w, b } as never, x)
    expect(checkSecondOrder(f, inputs, { numRuns: 10 }).maxError).toBeLessThanOrEqual(1e-6)
  })

  const pools = [
    { name: 'k2 (stride 2)', k: 2, stride: undefined, h: 5, w: 4 },
    { name: 'k3 stride 1 (overlapping)', k: 3, stride: 1, h: 4, w: 5 },
    { name: 'k2 stride 3 (gaps)', k: 2, stride: 3, h: 5, w: 5 }
  ] as const
  for (const p of pools) {
    it(`maxPool2d ${p.name}: gradients agree with finite differences on inputs without ties`, () => {
      const layer = p.stride === undefined ? Conv.maxPool2d(p.k) : Conv.maxPool2d(p.k, { stride: p.stride })
      const f = (x: Tensor) => Layer.apply(layer, {}, x)
      const inputs = distinct([2, 2, p.h, p.w])
      expect(checkGradient(f, inputs, { numRuns: 15 }).maxError).toBeLessThanOrEqual(1e-7)
      expect(checkJvp(f, inputs, { numRuns: 15 }).maxError).toBeLessThanOrEqual(1e-7)
      expect(checkVjp(f, inputs, { numRuns: 15 }).maxError).toBeLessThanOrEqual(1e-12)
    })
  }

  it('conv → relu → pool → dense: the gradient of a small network agrees with finite differences', () => {
    const net = Layer.sequential(Layers.reshape([1, 6, 6]), Conv.conv2d(1, 2, 3), Layers.tanh(), Conv.maxPool2d(2), Layers.flatten(), Layers.dense(8, 2))
    const params = net.init(Random.key(3))
    const x = zeros([1, 36])
    expect(Layer.apply(net, params, x).shape).toEqual([1, 2])
    const inputs = fc.record({ cw: distinct([2, 1, 3, 3]), dw: tensorOf([8, 2]), x: distinct([1, 36]) })
    const f = ({ cw, dw, x }: { cw: Tensor; dw: Tensor; x: Tensor }) =>
      Layer.apply(net, { layers: [{}, { w: cw, b: params.layers[1].b }, {}, {}, {}, { w: dw, b: params.layers[5].b }] } as never, x)
    // a fixed fast-check seed: max pooling of random conv outputs could draw a near-tie (a kink)
    expect(checkGradient(f, inputs, { numRuns: 10, seed: 2024 }).maxError).toBeLessThanOrEqual(1e-6)
  })
})

// ---------------------------------------------------------------- seed 004's LeNet

describe("seed 004's LeNet", () => {
  const model = lenet()
  const params = model.init(Random.key(4))
  // dense's parameters are an interface, not a `Tree` as such: intersect, as `Train.step` does
  type Params = typeof params & Tree.Tree
  const loss = (p: Params, x: Tensor): Tensor => {
    const y = Layer.apply(model, p, x)
    return sum(mul(y, y))
  }

  it('runs forward and backward on a batch of 2: logits [2, 10], a gradient for every parameter', () => {
    const x = Random.normal(Random.key(5), [2, 1024])
    const y = Layer.apply(model, params, x)
    expect(y.shape).toEqual([2, 10])
    expect(Array.from(y.data).every(Number.isFinite)).toBe(true)
    const [value, g] = valueAndGrad(loss)(params as Params, x)
    expect(value.item()).toBeCloseTo(Array.from(y.data).reduce((s, v) => s + v * v, 0), 10)
    expect(g.layers[1].w.shape).toEqual([6, 1, 3, 3])
    expect(g.layers[4].w.shape).toEqual([16, 6, 3, 3])
    expect(g.layers[8].w.shape).toEqual([576, 120])
    expect(g.layers[12].b.shape).toEqual([10])
    expect(Array.from(g.layers[1].w.data).some((v) => v !== 0)).toBe(true)
    expect(Array.from(g.layers[4].b.data).every(Number.isFinite)).toBe(true)
  })

  it('takes well under a second per forward + backward on a batch of 8 32x32 images', () => {
    const x = Random.normal(Random.key(6), [8, 1024])
    valueAndGrad(loss)(params as Params, x) // warm-up
    let best = Infinity
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now()
      const [, g] = valueAndGrad(loss)(params as Params, x)
      best = Math.min(best, performance.now() - t0)
      expect(g.layers[1].w.shape).toEqual([6, 1, 3, 3])
    }
    expect(best).toBeLessThan(1000)
  })
})

// ---------------------------------------------------------------- errors

describe('errors', () => {
  it('rejects bad hyper-parameters with an ArgumentError naming the value', () => {
    expect(() => Conv.conv2d(0, 6, 3)).toThrow(new ArgumentError('conv2d: the number of input channels must be a positive integer, got 0'))
    expect(() => Conv.conv2d(1, 2.5, 3)).toThrow(new ArgumentError('conv2d: the number of output channels must be a positive integer, got 2.5'))
    expect(() => Conv.conv2d(1, 6, 0)).toThrow(new ArgumentError('conv2d: the kernel size must be a positive integer, got 0'))
    expect(() => Conv.conv2d(1, 6, 3, { stride: 0 })).toThrow(new ArgumentError('conv2d: the stride must be a positive integer, got 0'))
    expect(() => Conv.conv2d(1, 6, 3, { padding: -1 })).toThrow(new ArgumentError('conv2d: the padding must be a non-negative integer, got -1'))
    expect(() => Conv.maxPool2d(0)).toThrow(new ArgumentError('maxPool2d: the kernel size must be a positive integer, got 0'))
    expect(() => Conv.maxPool2d(2, { stride: NaN })).toThrow(new ArgumentError('maxPool2d: the stride must be a positive integer, got NaN'))
  })

  it('rejects batches of the wrong rank, channel count or size with a ShapeError in the words of composition', () => {
    const conv = Conv.conv2d(3, 4, 3)
    const params = conv.init(Random.key(0))
    // (Layer.apply checks the batch against the layer first, at compile time and at run time, with the same words)
    // @ts-expect-error: apply: the layer expects shape [3,?,?] but the input has 784 features
    expect(() => Layer.apply(conv, params, zeros([2, 784]))).toThrow(new ShapeError('apply: the layer expects shape [3,?,?] but the input has 784 features'))
    // @ts-expect-error: apply: the layer expects shape [3,?,?] but the input has shape [1,8,8]
    expect(() => Layer.apply(conv, params, zeros([2, 1, 8, 8]))).toThrow(new ShapeError('apply: the layer expects shape [3,?,?] but the input has shape [1,8,8]'))
    // @ts-expect-error: apply: conv2d: a 3x3 window does not fit in shape [3,2,8]
    expect(() => Layer.apply(conv, params, zeros([2, 3, 2, 8]))).toThrow(new ShapeError('apply: conv2d: a 3x3 window does not fit in shape [3,2,8]'))
    // @ts-expect-error: apply: maxPool2d: a 4x4 window does not fit in shape [2,3,9]
    expect(() => Layer.apply(Conv.maxPool2d(4), {}, zeros([1, 2, 3, 9]))).toThrow(new ShapeError('apply: maxPool2d: a 4x4 window does not fit in shape [2,3,9]'))
    // @ts-expect-error: apply: the layer expects shape [?,?,?] but the input has shape []
    expect(() => Layer.apply(Conv.maxPool2d(2), {}, zeros([4]))).toThrow(new ShapeError('apply: the layer expects shape [?,?,?] but the input has shape []'))
    // @ts-expect-error: apply: expects a batch [batch, ...features] but got a scalar
    expect(() => Layer.apply(Conv.maxPool2d(2), {}, zeros([]))).toThrow(new ShapeError('apply: expects a batch [batch, ...features] but got a scalar'))
    // the layers' own checks, in the same words as composition
    const run = (layer: Layer.AnyLayer, p: unknown, x: Tensor) => () => layer.forward(p, x, { training: false, state: {} })
    expect(run(conv, params, zeros([2, 784]))).toThrow(new ShapeError('conv2d expects shape [channels,height,width] but got 784 features (batch [2,784])'))
    expect(run(conv, params, zeros([2, 1, 8, 8]))).toThrow(new ShapeError('conv2d expects shape [3,?,?] but got shape [1,8,8] (batch [2,1,8,8])'))
    expect(run(conv, params, zeros([2, 3, 2, 8]))).toThrow(new ShapeError('conv2d: a 3x3 window does not fit in shape [3,2,8]'))
    expect(run(Conv.maxPool2d(4), {}, zeros([1, 2, 3, 9]))).toThrow(new ShapeError('maxPool2d: a 4x4 window does not fit in shape [2,3,9]'))
    expect(run(Conv.maxPool2d(2), {}, zeros([4]))).toThrow(new ShapeError('maxPool2d expects shape [channels,height,width] but got shape [] (batch [4])'))
    expect(run(Conv.maxPool2d(2), {}, zeros([]))).toThrow(new ShapeError('maxPool2d expects a batch [batch, channels, height, width] but got a scalar'))
  })

  it('names a mismatch inside sequential with the position, as the type checker does', () => {
    const model = Layer.sequential(Layers.reshape([1, 8, 8]), Conv.conv2d(1, 4, 3), Conv.maxPool2d(2), Layers.flatten(), Layers.dense(36, 2))
    expect(model.outputShape([64])).toEqual([2])
    // the same model on a smaller image: 6 → 4 → 2 so flatten gives 16, not 36
    // @ts-expect-error: layer 5 expects 36 features but layer 4 produces 16 features
    const small = () => Layer.sequential(Layers.reshape([1, 6, 6]), Conv.conv2d(1, 4, 3), Conv.maxPool2d(2), Layers.flatten(), Layers.dense(36, 2))
    expect(small).toThrow(new ShapeError('layer 5 expects 36 features but layer 4 produces 16 features'))
  })
})
