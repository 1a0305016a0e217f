/**
 * The GPU.js backend against the float64 cpu reference, within float32 error bounds.
 *
 * The reference is computed in float64 on the float32-rounded inputs, so the bounds measure
 * only the kernels' own float32 arithmetic:
 * - products: |C − ref| ≤ c·k·ε·(|A|·|B|) elementwise (k the inner dimension, ε = 2⁻²⁴);
 * - sums: |s − ref| ≤ c·n·ε·Σ|x| (n the number of summed elements);
 * - every bound has an absolute floor of 1024·2⁻¹²⁶ for results that underflow float32;
 * - max/min: exact; elementwise ops: a few ulps relative (plus an absolute floor where the
 *   function's condition number is unbounded, e.g. sin near its zeros).
 *
 * The suite asserts which GPU.js mode actually ran, and fails if any kernel degraded to GPU.js's
 * own `cpu` mode. If no accelerated mode initialises here, a skipped test says why.
 */
import { afterAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { cpu } from '../src/backend/cpu.js'
import { createGpuBackend, GpuError } from '../src/backend/gpu.js'
import type { GpuBackend } from '../src/backend/gpu.js'
import type { BinaryOp, ReduceKind, UnaryOp } from '../src/backend/backend.js'
import type { Buffer } from '../src/tensor.js'

const EPS = 2 ** -24
const C = 2
/** Absolute floor for float32 underflow: results below the normal range lose relative precision (2⁻¹²⁶ ≈ 1.2e-38, times a margin for the ≤ 300 terms of a product). */
const TINY = 1024 * 2 ** -126

// the first mode that initialises: webasm everywhere with WebAssembly; headlessgl only where it starts by itself
const candidates = ['webasm', 'headlessgl'] as const
let gpu: GpuBackend | undefined
const reasons: string[] = []
for (const mode of candidates) {
  const g = await createGpuBackend({ mode, strict: true })
  if (g.mode !== 'none') {
    gpu = g
    break
  }
  reasons.push(`${mode}: ${g.fallbackReason}`)
}
if (gpu === undefined) console.warn(`backend.gpu: no accelerated GPU.js mode initialises here (${reasons.join('; ')})`)
else console.info(`backend.gpu: testing GPU.js mode '${gpu.mode}'${reasons.length > 0 ? ` (unavailable: ${reasons.join('; ')})` : ''}`)

afterAll(() => gpu?.dispose())

// only where nothing initialises: a skipped test whose name carries the reason, so the run says so
if (gpu === undefined) it.skip(`no accelerated GPU.js mode initialises on this machine (${reasons.join('; ')})`, () => {})

const round32 = (x: Buffer): Float64Array => Float64Array.from(Float32Array.from(x))
const absBuf = (x: Buffer): Float64Array => Float64Array.from(x, Math.abs)
const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1)

const values = (n: number, min = -4, max = 4): fc.Arbitrary<Float64Array> =>
  fc.array(fc.double({ min, max, noNaN: true, noDefaultInfinity: true }), { minLength: n, maxLength: n }).map((v) => Float64Array.from(v))

const dim = (max = 64): fc.Arbitrary<number> => fc.integer({ min: 1, max })

/** Asserts |got − want| ≤ bound elementwise, naming the first offender. */
const within = (got: Buffer, want: Buffer, bound: (i: number) => number, what: string): void => {
  expect(got.length).toBe(want.length)
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!
    const g = got[i]!
    if (Number.isNaN(w) && Number.isNaN(g)) continue
    if (w === g) continue
    const err = Math.abs(g - w)
    if (!(err <= bound(i) + TINY)) throw new Error(`${what}: element ${i}: got ${g}, want ${w}, error ${err} > bound ${bound(i)}`)
  }
}

describe.skipIf(gpu === undefined)('gpu backend', () => {
  const g = gpu!
  const b = (): typeof g.backend => g.backend

  it('runs on an accelerated mode, not on GPU.js cpu', () => {
    expect(['webasm', 'headlessgl', 'webgl2', 'webgl']).toContain(g.mode)
    expect(g.fallbackReason).toBeUndefined()
    expect(g.backend.name).toBe('gpu')
  })

  const checkProduct = (
    batch: number | undefined,
    m: number,
    k: number,
    n: number,
    tA: boolean,
    tB: boolean,
    a: Float64Array,
    bb: Float64Array,
    dtype: 'f32' | 'f64'
  ): void => {
    const aShape = batch === undefined ? (tA ? [k, m] : [m, k]) : tA ? [batch, k, m] : [batch, m, k]
    const bShape = batch === undefined ? (tB ? [n, k] : [k, n]) : tB ? [batch, n, k] : [batch, k, n]
    const aIn = dtype === 'f32' ? Float32Array.from(a) : a
    const bIn = dtype === 'f32' ? Float32Array.from(bb) : bb
    const ref = (x: Buffer, y: Buffer): Buffer =>
      batch === undefined ? cpu.matmul(x, aShape, y, bShape, tA, tB, 'f64') : cpu.batchMatmul(x, aShape, y, bShape, tA, tB, 'f64')
    const got =
      batch === undefined ? b().matmul(aIn, aShape, bIn, bShape, tA, tB, dtype) : b().batchMatmul(aIn, aShape, bIn, bShape, tA, tB, dtype)
    expect(got).toBeInstanceOf(dtype === 'f32' ? Float32Array : Float64Array)
    const want = ref(round32(a), round32(bb))
    const mag = ref(absBuf(round32(a)), absBuf(round32(bb)))
    within(got, want, (i) => C * k * EPS * mag[i]!, `${batch === undefined ? 'matmul' : 'batchMatmul'} ${tA ? 'T' : 'N'}${tB ? 'T' : 'N'}`)
  }

  it('matmul agrees with the cpu reference for random shapes and transpose flags', () => {
    const arb = fc
      .record({ m: dim(), k: dim(), n: dim(), tA: fc.boolean(), tB: fc.boolean(), dtype: fc.constantFrom('f32' as const, 'f64' as const) })
      .chain((s) => fc.tuple(fc.constant(s), values(s.m * s.k), values(s.k * s.n)))
    fc.assert(
      fc.property(arb, ([s, a, bb]) => checkProduct(undefined, s.m, s.k, s.n, s.tA, s.tB, a, bb, s.dtype)),
      { numRuns: 40 }
    )
  })

  it('batchMatmul agrees with the cpu reference for random shapes and transpose flags', () => {
    const arb = fc
      .record({ batch: dim(6), m: dim(24), k: dim(24), n: dim(24), tA: fc.boolean(), tB: fc.boolean() })
      .chain((s) => fc.tuple(fc.constant(s), values(s.batch * s.m * s.k), values(s.batch * s.k * s.n)))
    fc.assert(
      fc.property(arb, ([s, a, bb]) => checkProduct(s.batch, s.m, s.k, s.n, s.tA, s.tB, a, bb, 'f32')),
      { numRuns: 30 }
    )
  })

  it.each([
    [1, 1, 1, false, false],
    [300, 257, 129, false, false],
    [128, 300, 100, false, true], // dY·wᵀ
    [300, 128, 10, true, false], // xᵀ·dY
    [1, 300, 1, true, true]
  ])('matmul %i×%i×%i (transposeA %s, transposeB %s)', (m, k, n, tA, tB) => {
    const rnd = (len: number): Float64Array => Float64Array.from({ length: len }, (_, i) => Math.sin(i * 12.9898 + m) * 3)
    checkProduct(undefined, m, k, n, tA, tB, rnd(m * k), rnd(k * n), 'f32')
  })

  it('batchMatmul 3×100×300×70', () => {
    const rnd = (len: number): Float64Array => Float64Array.from({ length: len }, (_, i) => Math.cos(i * 7.31) * 2)
    checkProduct(3, 100, 300, 70, false, false, rnd(3 * 100 * 300), rnd(3 * 300 * 70), 'f64')
  })

  const binaryOps: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum']
  it('binary ops agree with the cpu reference (correctly rounded: within 1 ulp)', () => {
    const arb = fc
      .record({ op: fc.constantFrom(...binaryOps), n: dim(300), dtype: fc.constantFrom('f32' as const, 'f64' as const) })
      .chain((s) => fc.tuple(fc.constant(s), values(s.n, -100, 100), values(s.n, 0.01, 100), fc.array(fc.boolean(), { minLength: s.n, maxLength: s.n })))
    fc.assert(
      fc.property(arb, ([s, a, pos, signs]) => {
        const bb = Float64Array.from(pos, (v, i) => (signs[i] ? v : -v))
        const got = b().binary(s.op, s.dtype === 'f32' ? Float32Array.from(a) : a, s.dtype === 'f32' ? Float32Array.from(bb) : bb, s.dtype)
        expect(got).toBeInstanceOf(s.dtype === 'f32' ? Float32Array : Float64Array)
        const want = cpu.binary(s.op, round32(a), round32(bb), 'f64')
        within(got, want, (i) => 2 * EPS * Math.abs(want[i]!), s.op)
      }),
      { numRuns: 40 }
    )
  })

  // [op, input range, relative ulps (of 2⁻²⁴), absolute floor, param]
  const unaryCases: [UnaryOp, number, number, number, number, number?][] = [
    ['neg', -100, 100, 0, 0],
    ['abs', -100, 100, 0, 0],
    ['relu', -100, 100, 0, 0],
    ['sqrt', 0, 1000, 2, 0],
    ['exp', -40, 40, 8, 0],
    ['log', 1e-6, 1e6, 8, 0],
    ['sin', -10, 10, 8, 8 * EPS],
    ['cos', -10, 10, 8, 8 * EPS],
    ['tanh', -20, 20, 8, 0],
    ['sigmoid', -60, 60, 8, 0],
    ['softplus', -60, 60, 8, 0],
    ['erf', -5, 5, 2, 0], // delegated to the cpu backend
    ['pow', 0.01, 10, 8, 0, 2.5],
    ['pow', -10, 10, 8, 0, 3],
    ['pow', -10, 10, 8, 0, 2],
    ['pow', 0.01, 10, 8, 0, -1]
  ]
  it.each(unaryCases)('unary %s on [%d, %d] within %d ulps', (op, lo, hi, ulps, floor, param) => {
    fc.assert(
      fc.property(
        dim(300).chain((n) => values(n, lo, hi)),
        fc.constantFrom('f32' as const, 'f64' as const),
        (x, dtype) => {
          const got = b().unary(op, dtype === 'f32' ? Float32Array.from(x) : x, dtype, param)
          expect(got).toBeInstanceOf(dtype === 'f32' ? Float32Array : Float64Array)
          const want = cpu.unary(op, round32(x), 'f64', param)
          // the result is rounded to float32 once more: one more half ulp
          within(got, want, (i) => (ulps + 1) * EPS * Math.abs(want[i]!) + floor, `${op}(${param ?? ''})`)
        }
      ),
      { numRuns: 15 }
    )
  })

  const shapeAndAxes = fc
    .array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 4 })
    .chain((shape) => fc.tuple(fc.constant(shape), fc.subarray(shape.map((_, i) => i)), values(size(shape), -50, 50)))

  const checkReduce = (shape: number[], axes: number[], kind: ReduceKind, x: Float64Array, dtype: 'f32' | 'f64'): void => {
    const got = b().reduce(dtype === 'f32' ? Float32Array.from(x) : x, shape, axes, kind, dtype)
    expect(got).toBeInstanceOf(dtype === 'f32' ? Float32Array : Float64Array)
    const want = cpu.reduce(round32(x), shape, axes, kind, 'f64')
    if (kind !== 'sum') {
      within(got, want, () => 0, `${kind} over [${axes.join(',')}] of [${shape.join(',')}]`)
      return
    }
    const n = size(axes.map((a) => shape[a]!))
    const mag = cpu.reduce(absBuf(round32(x)), shape, axes, 'sum', 'f64')
    within(got, want, (i) => C * n * EPS * mag[i]!, `sum over [${axes.join(',')}] of [${shape.join(',')}]`)
  }

  it.each(['sum', 'max', 'min'] as ReduceKind[])('reduce %s over random axes agrees with the cpu reference', (kind) => {
    fc.assert(
      fc.property(shapeAndAxes, fc.constantFrom('f32' as const, 'f64' as const), ([shape, axes, x], dtype) => checkReduce(shape, axes, kind, x, dtype)),
      { numRuns: 40 }
    )
  })

  it.each([
    [[300, 200], [0], 'sum'], // the bias gradient: sum over the batch axis
    [[256, 10], [1], 'max'], // log-sum-exp: row-wise max
    [[256, 10], [1], 'sum'], // log-sum-exp: row-wise sum
    [[7, 1, 300, 3], [0, 2], 'sum'],
    [[1], [0], 'max'],
    [[5, 4], [], 'sum']
  ] as [number[], number[], ReduceKind][])('reduce %j over %j (%s)', (shape, axes, kind) => {
    const x = Float64Array.from({ length: size(shape) }, (_, i) => Math.sin(i * 3.7) * 10)
    checkReduce(shape, axes, kind, x, 'f32')
  })

  it('max and min propagate NaN like the cpu backend', () => {
    const x = new Float32Array([1, NaN, 3, 4, 5, 6])
    expect([...b().reduce(x, [2, 3], [1], 'max', 'f32')]).toEqual([NaN, 6])
    expect([...b().reduce(x, [2, 3], [0], 'min', 'f32')]).toEqual([1, NaN, 3])
  })

  it('delegated ops equal the cpu backend', () => {
    const x = new Float64Array([1, 2, 3, 4, 5, 6])
    expect(b().transpose(x, [2, 3], [1, 0], 'f64')).toEqual(cpu.transpose(x, [2, 3], [1, 0], 'f64'))
    expect(b().broadcastTo(new Float64Array([1, 2, 3]), [3], [2, 3], 'f64')).toEqual(cpu.broadcastTo(new Float64Array([1, 2, 3]), [3], [2, 3], 'f64'))
    expect(b().map(x, (v) => v * 2, 'f64')).toEqual(cpu.map(x, (v) => v * 2, 'f64'))
  })

  it('zero-sized operands work (delegated)', () => {
    expect(b().matmul(new Float32Array(0), [0, 3], new Float32Array(6), [3, 2], false, false, 'f32')).toEqual(new Float32Array(0))
    expect(b().matmul(new Float32Array(0), [2, 0], new Float32Array(0), [0, 2], false, false, 'f32')).toEqual(new Float32Array(4))
  })

  it('shape errors are typed', () => {
    expect(() => b().matmul(new Float32Array(6), [2, 3], new Float32Array(8), [4, 2], false, false, 'f32')).toThrow(/inner dimensions differ/)
  })

  it('never degraded to GPU.js cpu mode', () => {
    const s = g.stats()
    expect(s.modesRun).toEqual([g.mode])
    expect(s.fallbacks).toEqual([])
    expect(s.compiled).toBeGreaterThan(0)
  })
})

describe.skipIf(gpu === undefined)('gpu backend resources', () => {
  it('evicts beyond maxKernels and releases everything on dispose', async () => {
    const h = await createGpuBackend({ mode: gpu?.mode as 'webasm', maxKernels: 2 })
    for (const n of [3, 4, 5, 6]) h.backend.unary('exp', new Float32Array(n), 'f32')
    expect(h.stats().cached).toBeLessThanOrEqual(2)
    h.dispose()
    expect(h.stats().cached).toBe(0)
    expect(() => h.backend.unary('exp', new Float32Array(7), 'f32')).toThrow(GpuError)
  })
})

describe('gpu backend creation', () => {
  it('an unusable mode falls back to the cpu backend with a reason, or throws on request', async () => {
    const h = await createGpuBackend({ mode: 'webgpu' })
    expect(h.mode).toBe('none')
    expect(h.backend).toBe(cpu)
    expect(h.fallbackReason).toMatch(/Promise/)
    await expect(createGpuBackend({ mode: 'webgpu', onUnavailable: 'throw' })).rejects.toThrow(GpuError)
  })
})
