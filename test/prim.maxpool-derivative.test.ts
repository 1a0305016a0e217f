/**
 * Max pooling's derivative as primitives with tensor arguments (issue 15): `maxPool2dGather(t, x, m)`
 * and `maxPool2dSpread(c, x, m)` against float64 reference loops written here (ties, padding,
 * overlapping windows, odd sizes), their transposition identity, max pooling's gradient and
 * second derivatives against finite differences away from ties, and a LeNet step whose recorded
 * tape holds no buffer in any primitive's parameters.
 */
import { describe, expect, it } from 'vitest'
import { fc, test } from '@fast-check/vitest'
import { Layer, Layers, Loss, Optim, Prim, Random, Tape, fromBuffer, grad, hessian, hvp, mul, sum } from 'lamina-nn'
import type { Tensor, Tree } from 'lamina-nn'
import { compile } from 'lamina-nn/gpu'
import { lenet } from './support/models.js'

type Geometry = Prim.PrimParams['maxPool2d']
interface PoolCase {
  readonly x: readonly [number, number, number, number]
  readonly geometry: Geometry
}

const outOf = (n: number, k: number, s: number, p0: number, p1: number): number => Math.floor((n + p0 + p1 - k) / s) + 1
const pooledShape = ({ x: [b, c, h, w], geometry: { kernel, stride, padding } }: PoolCase): number[] => [
  b,
  c,
  outOf(h, kernel[0], stride[0], padding[0], padding[1]),
  outOf(w, kernel[1], stride[1], padding[2], padding[3])
]
const size = (s: readonly number[]): number => s.reduce((a, d) => a * d, 1)

/** For every window (in row-major order), the flat indices of its taps inside the image. */
const windowTaps = (g: PoolCase): number[][] => {
  const [B, C, H, W] = g.x
  const [, , HO, WO] = pooledShape(g)
  const windows: number[][] = []
  for (let b = 0; b < B; b++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < HO!; i++)
        for (let j = 0; j < WO!; j++) {
          const taps: number[] = []
          for (let u = 0; u < g.geometry.kernel[0]; u++)
            for (let v = 0; v < g.geometry.kernel[1]; v++) {
              const r = i * g.geometry.stride[0] + u - g.geometry.padding[0]
              const q = j * g.geometry.stride[1] + v - g.geometry.padding[2]
              if (r >= 0 && r < H && q >= 0 && q < W) taps.push(((b * C + c) * H + r) * W + q)
            }
          windows.push(taps)
        }
  return windows
}

/** The reference: each window's maximum and its tied taps (the padding, −∞, never wins). */
const maximaRef = (g: PoolCase, xs: ArrayLike<number>): { max: number[]; ties: number[][] } => {
  const windows = windowTaps(g)
  const max = windows.map((taps) => taps.reduce((m, i) => Math.max(m, xs[i]!), -Infinity))
  return { max, ties: windows.map((taps, k) => taps.filter((i) => xs[i] === max[k])) }
}
const gatherRef = (ties: number[][], ts: ArrayLike<number>): number[] => ties.map((hits) => hits.reduce((s, i) => s + ts[i]!, 0) / hits.length)
const spreadRef = (ties: number[][], cs: ArrayLike<number>, n: number): Float64Array => {
  const dx = new Float64Array(n)
  ties.forEach((hits, k) => hits.forEach((i) => (dx[i] = dx[i]! + cs[k]! / hits.length)))
  return dx
}

/** Geometries with padding, overlapping windows (stride < window) and odd sizes. */
const poolCases: fc.Arbitrary<PoolCase> = fc
  .record({
    b: fc.integer({ min: 1, max: 2 }),
    c: fc.integer({ min: 1, max: 3 }),
    h: fc.integer({ min: 1, max: 9 }),
    w: fc.integer({ min: 1, max: 9 }),
    kernel: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
    stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    pads: fc.tuple(fc.nat(3), fc.nat(3), fc.nat(3), fc.nat(3))
  })
  .map(({ b, c, h, w, kernel, stride, pads }): PoolCase => ({
    x: [b, c, h, w],
    geometry: { kernel, stride, padding: [pads[0] % kernel[0], pads[1] % kernel[0], pads[2] % kernel[1], pads[3] % kernel[1]] }
  }))
  .filter((g) => pooledShape(g).every((d) => d >= 1))

/** Values on a coarse grid (many ties) or spread out, and a linear argument of the given size. */
const valuesOf = (n: number, tied: boolean): fc.Arbitrary<number[]> =>
  fc.array(tied ? fc.integer({ min: -2, max: 2 }) : fc.double({ min: -3, max: 3, noNaN: true }), { minLength: n, maxLength: n })

const close = (got: ArrayLike<number>, want: ArrayLike<number>, tol: number): boolean =>
  got.length === want.length && Array.from(want).every((v, i) => Math.abs(got[i]! - v) <= tol * (1 + Math.abs(v)))

describe('maxPool2dGather and maxPool2dSpread against reference loops', () => {
  test.prop([
    poolCases.chain((g) =>
      fc.boolean().chain((tied) =>
        fc.tuple(fc.constant(g), valuesOf(size(g.x), tied), valuesOf(size(g.x), false), valuesOf(size(pooledShape(g)), false), fc.constantFrom('f64' as const, 'f32' as const))
      )
    )
  ], { numRuns: 200 })('per window: the mean of the linear argument over the tied maxima, and its transpose (ties, padding, overlap, odd sizes)', ([g, xs64, ts, cs, dtype]) => {
    const round = (v: number[]) => (dtype === 'f64' ? v : v.map(Math.fround))
    // the ties are those of the values the kernel sees (float32 rounds some apart values together)
    const xs = round(xs64)
    const { max, ties } = maximaRef(g, xs)
    const x = fromBuffer(xs, g.x, { dtype })
    const m = fromBuffer(max, pooledShape(g), { dtype })
    const gathered = Prim.bind('maxPool2dGather', [fromBuffer(ts, g.x, { dtype }), x, m], g.geometry)
    const spread = Prim.bind('maxPool2dSpread', [fromBuffer(cs, pooledShape(g), { dtype }), x, m], g.geometry)
    expect(gathered.shape).toEqual(pooledShape(g))
    expect(spread.shape).toEqual([...g.x])
    // float32: the inputs are rounded once, then a handful of additions and one division
    const tol = dtype === 'f64' ? 1e-14 : 1e-5
    expect(close(gathered.data, gatherRef(ties, round(ts)), tol)).toBe(true)
    expect(close(spread.data, spreadRef(ties, round(cs), size(g.x)), tol)).toBe(true)
  })

  test.prop([
    poolCases.chain((g) => fc.tuple(fc.constant(g), valuesOf(size(g.x), true), valuesOf(size(g.x), false), valuesOf(size(pooledShape(g)), false)))
  ], { numRuns: 200 })('are transposes: ⟨gather(x, m, t), u⟩ = ⟨t, spread(x, m, u)⟩', ([g, xs, ts, us]) => {
    const x = fromBuffer(xs, g.x)
    const m = Prim.bind('maxPool2d', [x], g.geometry)
    const t = fromBuffer(ts, g.x)
    const u = fromBuffer(us, pooledShape(g))
    const left = sum(mul(Prim.bind('maxPool2dGather', [t, x, m], g.geometry), u)).item()
    const right = sum(mul(t, Prim.bind('maxPool2dSpread', [u, x, m], g.geometry))).item()
    expect(Math.abs(left - right)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(left)))
  })

  it('a window of 2x2 ties shares it evenly; 3x3 windows at stride 1 with padding overlap', () => {
    const g: PoolCase = { x: [1, 1, 3, 3], geometry: { kernel: [3, 3], stride: [1, 1], padding: [1, 1, 1, 1] } }
    // 5 is the maximum of every window that holds the centre; the corners' windows hold it too
    const xs = [1, 2, 1, 2, 5, 2, 1, 2, 1]
    const x = fromBuffer(xs, g.x)
    const m = Prim.bind('maxPool2d', [x], g.geometry)
    expect(Array.from(m.data)).toEqual(Array(9).fill(5))
    const dx = Prim.bind('maxPool2dSpread', [fromBuffer(Array.from({ length: 9 }, (_, i) => i + 1), [1, 1, 3, 3]), x, m], g.geometry)
    expect(Array.from(dx.data)).toEqual([0, 0, 0, 0, 45, 0, 0, 0, 0])
    const tied = fromBuffer([7, 7, 7, 7], [1, 1, 2, 2])
    const pool2: Geometry = { kernel: [2, 2], stride: [2, 2], padding: [0, 0, 0, 0] }
    const mt = Prim.bind('maxPool2d', [tied], pool2)
    expect(Array.from(Prim.bind('maxPool2dSpread', [fromBuffer([8], [1, 1, 1, 1]), tied, mt], pool2).data)).toEqual([2, 2, 2, 2])
    expect(Prim.bind('maxPool2dGather', [fromBuffer([1, 2, 3, 6], [1, 1, 2, 2]), tied, mt], pool2).item()).toBe(3)
  })

  it('rejects maxima or a linear argument of the wrong shape, naming it', () => {
    const g: Geometry = { kernel: [2, 2], stride: [2, 2], padding: [0, 0, 0, 0] }
    const x = fromBuffer([1, 2, 3, 4], [1, 1, 2, 2])
    const m = fromBuffer([4], [1, 1, 1, 1])
    expect(() => Prim.bind('maxPool2dGather', [x, x, fromBuffer([4, 4], [1, 1, 1, 2])], g)).toThrow(/maxPool2dGather: the window maxima have shape \[1,1,1,2\]/)
    expect(() => Prim.bind('maxPool2dSpread', [x, x, m], g)).toThrow(/maxPool2dSpread: the cotangent has shape \[1,1,2,2\], expected \[1,1,1,1\]/)
  })
})

describe("max pooling's derivatives against finite differences (float64, away from ties)", () => {
  /** Distinct values 0.1 apart, shuffled: every window's maximum is strict by at least 0.1. */
  const distinct = (n: number, seed: number): number[] => {
    const values = Array.from({ length: n }, (_, i) => (i - n / 2) * 0.1)
    let s = seed
    for (let i = n - 1; i > 0; i--) {
      s = (s * 1103515245 + 12345) % 2147483648
      const j = s % (i + 1)
      ;[values[i], values[j]] = [values[j]!, values[i]!]
    }
    return values
  }
  const cases: PoolCase[] = [
    { x: [1, 2, 5, 7], geometry: { kernel: [2, 2], stride: [2, 2], padding: [0, 0, 0, 0] } },
    { x: [2, 1, 5, 6], geometry: { kernel: [3, 2], stride: [1, 2], padding: [1, 2, 1, 0] } },
    { x: [1, 1, 6, 5], geometry: { kernel: [3, 3], stride: [2, 1], padding: [2, 1, 0, 2] } }
  ]
  const eps = 1e-5
  const shift = (x: Tensor, v: Tensor, h: number): Tensor => fromBuffer(Array.from(x.data, (a, i) => a + h * v.data[i]!), x.shape)

  it.each(cases.map((g, n) => [n, g] as const))('case %i: gradient, Hessian-vector products (three ways) and the Hessian', (n, g) => {
    const weights = fromBuffer(distinct(size(pooledShape(g)), 100 + n).map((v) => v + 0.05), pooledShape(g))
    // f(x) = Σ w·maxPool(x)²: its Hessian is 2w on the diagonal at each window's argmax (shared by overlapping windows)
    const f = (x: Tensor): Tensor => {
      const y = Prim.bind('maxPool2d', [x], g.geometry)
      return sum(mul(weights, mul(y, y)))
    }
    const x = fromBuffer(distinct(size(g.x), n + 1), g.x)
    const v = fromBuffer(distinct(size(g.x), n + 7).map((a) => a + 0.3), g.x)
    const fd = (h: (t: Tensor) => Tensor, d: Tensor): number[] => {
      const [a, b] = [h(shift(x, d, eps)), h(shift(x, d, -eps))]
      return Array.from(a.data, (p, i) => (p - b.data[i]!) / (2 * eps))
    }
    const scalarOf = (t: Tensor): Tensor => fromBuffer([t.item()], [1])
    // the gradient, one coordinate at a time
    const gradient = grad(f)(x)
    const basis = (i: number): Tensor => fromBuffer(Array.from({ length: x.size }, (_, j) => (j === i ? 1 : 0)), g.x)
    const numeric = Array.from({ length: x.size }, (_, i) => fd((t) => scalarOf(f(t)), basis(i))[0]!)
    expect(close(gradient.data, numeric, 1e-7)).toBe(true)
    // Hessian-vector products: forward over reverse, reverse over reverse, and the full Hessian times v
    const want = fd((t) => grad(f)(t), v)
    expect(close(hvp(f)(x, v).data, want, 1e-7)).toBe(true)
    const reverseOverReverse = grad((t: Tensor) => sum(mul(grad(f)(t), v)))(x)
    expect(close(reverseOverReverse.data, want, 1e-7)).toBe(true)
    const H = hessian(f)(x)
    expect(H.shape).toEqual([...g.x, ...g.x])
    const hv = Array.from({ length: x.size }, (_, i) => Array.from({ length: x.size }, (_, j) => H.data[i * x.size + j]! * v.data[j]!).reduce((s, a) => s + a, 0))
    expect(close(hv, want, 1e-7)).toBe(true)
    // not vacuous: f is not linear along v
    expect(want.some((a) => Math.abs(a) > 1e-3)).toBe(true)
  })
})

describe('no primitive parameter holds a buffer', () => {
  /** Whether a parameter value is plain data: numbers, strings, booleans, arrays and records of them. */
  const plain = (value: unknown): boolean => {
    if (value === null || ['number', 'string', 'boolean', 'undefined'].includes(typeof value)) return true
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || typeof value !== 'object') return false
    if (Array.isArray(value)) return value.every(plain)
    return Object.getPrototypeOf(value) === Object.prototype && Object.values(value as object).every(plain)
  }

  it('plain() tells a typed array from plain data', () => {
    expect(plain({ kernel: [2, 2], stride: [2, 2], padding: [0, 0, 0, 0] })).toBe(true)
    expect(plain({ weights: { kind: 'maxima', input: new Float32Array(4) } })).toBe(false)
  })

  it('a LeNet training step, forward and backward, recorded on an outer tape: every node’s parameters are plain data', () => {
    const model = lenet()
    const params = model.init(Random.key(4))
    type Params = typeof params & Tree.Tree
    const x = Random.normal(Random.key(5), [2, 1024])
    const loss = (p: Params): Tensor => {
      const y = Layer.apply(model, p, x)
      return sum(mul(y, y))
    }
    // level 0 lies below every level `grad` opens, so the backward sweep's primitives are recorded here too
    const outer = new Tape.ReverseTrace(0)
    const watched = { ...params, layers: params.layers.map((l) => Object.fromEntries(Object.entries(l).map(([k, t]) => [k, outer.variable(t as Tensor)]))) } as unknown as Params
    const gradient = grad(loss)(watched)
    const recorded = [gradient.layers[1]!.w, gradient.layers[4]!.w, gradient.layers[8]!.w].map((t) => outer.recorded(t as Tensor)()[1])
    const nodes = Tape.nodes(recorded.reduce((a, b) => Tape.Monoid.concat(a, b), Tape.empty))
    const prims = new Set(nodes.map((node) => node.prim))
    // the step differentiates max pooling through its derivative primitives
    expect(prims.has('maxPool2d')).toBe(true)
    expect(prims.has('maxPool2dSpread')).toBe(true)
    expect(prims.has('conv2dFilterGrad')).toBe(true)
    const offending = nodes.filter((node) => !plain(node.context.params)).map((node) => node.prim)
    expect(offending).toEqual([])
  })
})

describe('the compiled interpreter', () => {
  it('lowers max pooling itself, so a step that applies its derivative primitives directly is a CompileError naming them', async () => {
    const g: Geometry = { kernel: [2, 2], stride: [2, 2], padding: [0, 0, 0, 0] }
    // a layer whose value is max pooling's, written with the gather primitive
    const gathered = {
      kind: 'gatheredMaxPool',
      inShape: undefined,
      outputShape: (s: readonly number[]): readonly number[] => [s[0]!, Math.floor(s[1]! / 2), Math.floor(s[2]! / 2)],
      init: () => ({}),
      initState: () => ({}),
      forward: (_p: {}, x: Tensor, { state }: { state: {} }) => ({ y: Prim.bind('maxPool2dGather', [x, x, Prim.bind('maxPool2d', [x], g)], g), state })
    }
    const model = Layer.sequential(Layers.reshape([1, 4, 4]), gathered as never, Layers.flatten(), Layers.dense(4, 2))
    const result = await compile(model, Loss.crossEntropyWithLogits, Optim.sgd() as Optim.Optimizer<{ readonly step: number }>, { batch: 2, steps: 1, mode: 'webasm', inputShape: [16] })()
    expect(result._tag).toBe('Left')
    if (result._tag === 'Left') {
      expect(result.left.reason).toBe('unsupported-primitive')
      expect(result.left.message).toMatch(/maxPool2d(Gather|Spread)/)
    }
  })
})
