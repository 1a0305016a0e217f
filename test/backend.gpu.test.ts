/**
 * The GPU.js backend, per mode (webasm, headlessgl), against the float64 cpu reference within
 * float32 error bounds.
 *
 * The reference is computed in float64 on the float32-rounded inputs, so the bounds measure
 * only the kernels' own float32 arithmetic (ε = 2⁻²⁴, c = 2):
 * - products: |C − ref| ≤ c·k·ε·(|A|·|B|) elementwise (k the inner dimension);
 * - sums: |s − ref| ≤ c·n·ε·Σ|x| (n the number of summed elements);
 * - log-sum-exp: |l − ref| ≤ c·(n + 4)·ε + 4ε·ln n + 2ε·|ref| per reduced run, plus the mode's
 *   log error floor (the sum of e^(x − max) ∈ [1, n] carries (n + 3)·ε relative error);
 * - max/min and broadcasts: exact; binary ops: correctly rounded (1 ulp);
 * - unary ops: the mode's tolerance profile: webasm calls correctly rounded libm functions
 *   (a few ulps), the GL modes follow GLSL ES highp precision (exp (3 + 2|x|) ulps, pow as
 *   exp2(y·log2 x), log with an absolute 2⁻²¹ near 1, GPU.js's tanh and log1p formulas);
 * - every bound has an absolute floor of 1024·2⁻¹²⁶ for results that underflow float32.
 *
 * Shapes are drawn from 1…300 in every dimension (batch included), half of the draws from 1…8
 * so that size-1 and ragged block edges are common, with the work per case bounded.
 *
 * Every kernel's launch is checked for the mode it actually ran on (the backend is strict, so
 * a degraded launch throws); a forced degradation must be a GpuError. A mode that does not
 * initialise here is a skipped test whose name carries the reason (headlessgl needs
 * `bash scripts/install-gl.sh` and an X display: `xvfb-run -a`) — unless
 * LAMINA_GPU_MODES_REQUIRED names it (scripts/test.sh does once the install succeeded), in
 * which case it fails.
 */
import { afterAll, describe, expect, it, vi } from 'vitest'
import fc from 'fast-check'
import { GPU } from 'gpu.js'
import { cpu } from '../src/backend/cpu.js'
import { createGpuBackend, createGpuKernelsAsync, GpuError } from '../src/backend/gpu.js'
import type { GpuBackend } from '../src/backend/gpu.js'
import type { BinaryOp, ReduceKind, UnaryOp } from '../src/backend/backend.js'
import type { Buffer } from '../src/tensor.js'
import { unavailableTest } from './support/modes.js'
import { C, EPS, absBuf, asDtype, dim, dtypeArb, fill, operands, productCase, productChecks, round32, within } from './support/products.js'

/** Multiply-adds per property case: keeps the float64 reference and the upload cheap. */
const WORK = 2_500_000

const modes = ['webasm', 'headlessgl'] as const
type Mode = (typeof modes)[number]

const handles = new Map<Mode, GpuBackend>()
const reasons = new Map<Mode, string>()
for (const mode of modes) {
  const g = await createGpuBackend({ mode, strict: true })
  if (g.mode === 'none') reasons.set(mode, g.fallbackReason ?? 'no reason given')
  else handles.set(mode, g)
}
console.info(
  `backend.gpu: testing [${[...handles.keys()].join(', ')}]` +
    (reasons.size > 0 ? `; unavailable: ${[...reasons].map(([m, r]) => `${m} (${r})`).join('; ')}` : '')
)
afterAll(() => {
  for (const g of handles.values()) g.dispose()
})

// ---- inputs and references (fill, rounding and `within` are shared with backend.webgpu.test.ts: test/support/products.ts) ----

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1)

// ---- per-mode tolerance profiles for the transcendental functions ----

/**
 * erf is written out (no mode has Math.erf): its Taylor series to x⁹ below |x| = 0.5 is within
 * 13 ulps of erf at x → 0.5 (the x¹¹ term, measured in float64 on a 10⁻⁵ grid of [−5, 5]),
 * Abramowitz–Stegun 7.1.26 within 1.5e-7 absolute above; plus float32 arithmetic.
 */
const ERF_ULPS = 20

/** Relative ulps and an absolute floor for `op` at input `x`. */
type UnaryTolerance = (op: UnaryOp, x: number, param: number) => { ulps: number; floor: number }

/** webasm: float32 arithmetic, libm calls rounded to float32 once (measured ≤ 3 ulps; 8 allowed). */
const wasmTolerance: UnaryTolerance = (op) => ({
  ulps: ['neg', 'abs', 'relu'].includes(op) ? 0 : op === 'sqrt' ? 2 : op === 'erf' ? ERF_ULPS : 8,
  floor: op === 'sin' || op === 'cos' ? 8 * EPS : 0
})

/** GL modes: GLSL ES highp precision rules (GPU.js writes tanh through exp and log1p as log(1 + x)). */
const glTolerance: UnaryTolerance = (op, x, param) => {
  const ax = Math.abs(x)
  switch (op) {
    case 'neg':
    case 'abs':
    case 'relu':
      return { ulps: 0, floor: 0 }
    case 'sqrt':
      return { ulps: 4, floor: 0 }
    case 'exp':
      return { ulps: 4 + 2 * ax, floor: 0 }
    case 'log':
      return { ulps: 4, floor: 2 ** -21 }
    case 'sin':
    case 'cos':
      return { ulps: 8, floor: 8 * EPS }
    case 'tanh':
      return { ulps: 8, floor: (4 + 4 * ax) * EPS }
    case 'sigmoid':
      return { ulps: 8 + 2 * ax, floor: 0 }
    case 'softplus':
      return { ulps: 8 + 2 * ax, floor: 2 ** -21 + 4 * EPS }
    case 'pow': {
      // exp2(y·log2|x|): (3 + 2|y|) ulps of exp2, plus log2's error carried through y and
      // multiplied by ln 2: 3 ulps of log2, or 2⁻²¹ absolute (8·|p| ulps of y) for |x| in [0.5, 2]
      const y = Math.abs(param * Math.log2(ax))
      return { ulps: 4 + 5 * y + 6 * Math.abs(param), floor: 0 }
    }
    case 'erf':
      return { ulps: ERF_ULPS, floor: 0 }
  }
}

const tolerances: Record<Mode, { unary: UnaryTolerance; logFloor: number }> = {
  webasm: { unary: wasmTolerance, logFloor: 0 },
  headlessgl: { unary: glTolerance, logFloor: 2 ** -21 }
}

// ---- the suites, one per mode ----

for (const mode of modes) {
  const g = handles.get(mode)
  if (g === undefined) {
    const reason = reasons.get(mode) ?? 'unknown'
    describe(`gpu backend on ${mode}`, () => unavailableTest({ mode, reason, log: 'backend.gpu', verb: 'initialise', error: GpuError }))
    continue
  }
  const b = g.backend
  const tol = tolerances[mode]

  /** Runs `f`, and checks it launched at least one kernel (unless told otherwise), all on `mode` (strict: a degraded launch has thrown already). */
  const onMode = <A>(f: () => A, launches = true): A => {
    const before = g.stats().launches
    const out = f()
    const s = g.stats()
    if (launches) expect(s.launches, 'no kernel was launched').toBeGreaterThan(before)
    expect(s.modesRun).toEqual([mode])
    return out
  }

  describe(`gpu backend on ${mode}`, () => {
    it(`runs on ${mode}, not on GPU.js cpu`, () => {
      expect(g.mode).toBe(mode)
      expect(g.fallbackReason).toBeUndefined()
      expect(b.name).toBe('gpu')
    })

    const { checkProduct, fixedProductTests, indexTest } = productChecks(b, onMode)

    /** A drawn product with both transpose flags drawn too. */
    const productCaseWithFlags = (batched: boolean) =>
      fc.tuple(productCase(batched, WORK), fc.boolean(), fc.boolean()).map(([s, tA, tB]) => ({ ...s, tA, tB }))

    it('matmul agrees with the cpu reference for shapes 1…300 and both transpose flags', () => {
      fc.assert(
        fc.property(productCaseWithFlags(false), (s) => {
          checkProduct(undefined, s.m, s.k, s.n, s.tA, s.tB, ...operands(s, true), s.dtype)
        }),
        { numRuns: 50 }
      )
    })

    it('batchMatmul agrees with the cpu reference for batches and shapes 1…300', () => {
      fc.assert(
        fc.property(productCaseWithFlags(true), (s) => {
          checkProduct(s.batch, s.m, s.k, s.n, s.tA, s.tB, ...operands(s, false), s.dtype)
        }),
        { numRuns: 30 }
      )
    })

    fixedProductTests()

    indexTest()

    // past the GL limits: a 2-D output taller than the texture side, a loop longer than llvmpipe's 65535 trips
    it.each([
      [20000, 3, 5, false, false],
      [3, 5, 20000, true, true],
      [1, 140000, 2, false, false]
    ])('matmul %i×%i×%i (transposeA %s, transposeB %s): long sides and long inner loops', (m, k, n, tA, tB) => {
      checkProduct(undefined, m, k, n, tA, tB, fill(m * k, 8), fill(k * n, 9), 'f32')
    })

    const binaryOps: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum']
    it('binary ops agree with the cpu reference (correctly rounded: within 1 ulp)', () => {
      fc.assert(
        fc.property(fc.constantFrom(...binaryOps), dim, dim, dtypeArb, fc.integer(), (op, r, c, dtype, seed) => {
          const a = fill(r * c, seed, -100, 100)
          // divisors away from 0: |b| ∈ [0.01, 100)
          const bb = fill(r * c, seed + 1, -100, 100).map((v) => (v < 0 ? Math.min(v, -0.01) : Math.max(v, 0.01)))
          const got = onMode(() => b.binary(op, asDtype(a, dtype), asDtype(bb, dtype), dtype))
          expect(got).toBeInstanceOf(dtype === 'f32' ? Float32Array : Float64Array)
          const want = cpu.binary(op, round32(a), round32(bb), 'f64')
          within(got, want, (i) => 2 * EPS * Math.abs(want[i]!), `${op} of ${r}×${c}`)
        }),
        { numRuns: 15 }
      )
    })

    // [op, input range, param]
    const unaryCases: [UnaryOp, number, number, number?][] = [
      ['neg', -100, 100],
      ['abs', -100, 100],
      ['relu', -100, 100],
      ['sqrt', 0, 1000],
      ['exp', -40, 40],
      ['log', 1e-6, 1e6],
      ['sin', -10, 10],
      ['cos', -10, 10],
      ['tanh', -20, 20],
      ['sigmoid', -60, 60],
      ['softplus', -60, 60],
      ['erf', -5, 5],
      ['pow', 0.01, 10, 2.5],
      ['pow', -10, 10, 3],
      ['pow', -10, 10, 2],
      ['pow', 0.01, 10, -1]
    ]
    it.each(unaryCases)('unary %s on [%d, %d] within the mode tolerance', (op, lo, hi, param) => {
      fc.assert(
        fc.property(dim, dim, dtypeArb, fc.integer(), (r, c, dtype, seed) => {
          const x = fill(r * c, seed, lo, hi)
          const run = (): Buffer => b.unary(op, asDtype(x, dtype), dtype, param)
          const got = onMode(run)
          expect(got).toBeInstanceOf(dtype === 'f32' ? Float32Array : Float64Array)
          const xs = round32(x)
          const want = cpu.unary(op, xs, 'f64', param)
          // the result is rounded to float32 once more: one more ulp
          within(
            got,
            want,
            (i) => {
              const t = tol.unary(op, xs[i]!, param ?? 0)
              return (t.ulps + 1) * EPS * Math.abs(want[i]!) + t.floor
            },
            `${op}(${param ?? ''}) of ${r}×${c}`
          )
        }),
        { numRuns: 8 }
      )
    })

    /** A shape of rank 1…3 with dims 1…300 (at most 10⁶ elements) and a subset of its axes. */
    const shapeAndAxes = fc
      .array(dim, { minLength: 1, maxLength: 3 })
      .filter((shape) => size(shape) <= 1_000_000)
      .chain((shape) => fc.tuple(fc.constant(shape), fc.subarray(shape.map((_, i) => i)), fc.integer()))

    const checkReduce = (shape: number[], axes: number[], kind: ReduceKind, x: Float64Array, dtype: 'f32' | 'f64'): void => {
      // reducing only size-1 axes (or none) is a copy, not a kernel
      const got = onMode(() => b.reduce(asDtype(x, dtype), shape, axes, kind, dtype), axes.some((a) => shape[a]! > 1))
      expect(got).toBeInstanceOf(dtype === 'f32' ? Float32Array : Float64Array)
      const want = cpu.reduce(round32(x), shape, axes, kind, 'f64')
      const what = `${kind} over [${axes.join(',')}] of [${shape.join(',')}]`
      if (kind !== 'sum') {
        within(got, want, () => 0, what)
        return
      }
      const n = size(axes.map((a) => shape[a]!))
      const mag = cpu.reduce(absBuf(round32(x)), shape, axes, 'sum', 'f64')
      within(got, want, (i) => C * n * EPS * mag[i]!, what)
    }

    it.each(['sum', 'max', 'min'] as ReduceKind[])('reduce %s over random axes of shapes 1…300 agrees with the cpu reference', (kind) => {
      fc.assert(
        fc.property(shapeAndAxes, dtypeArb, ([shape, axes, seed], dtype) => checkReduce(shape, axes, kind, fill(size(shape), seed, -50, 50), dtype)),
        { numRuns: 25 }
      )
    })

    it.each([
      [[300, 300], [0], 'sum'], // the bias gradient: sum over the batch axis
      [[256, 10], [1], 'max'], // log-sum-exp: row-wise max
      [[256, 10], [1], 'sum'], // log-sum-exp: row-wise sum
      [[7, 1, 300, 3], [0, 2], 'sum'],
      [[1], [0], 'max'],
      [[5, 4], [], 'sum'],
      // longer than llvmpipe's 65535 loop trips, and one run longer than a GL pass takes
      [[70000], [0], 'sum'],
      [[3, 70000], [1], 'max'],
      [[1_000_000], [0], 'sum'],
      [[600_000, 2], [0], 'min'],
      // outputs with a side longer than a GL texture
      [[20000, 3], [1], 'sum'],
      [[3, 5, 20000], [1], 'max']
    ] as [number[], number[], ReduceKind][])('reduce %j over %j (%s)', (shape, axes, kind) => {
      checkReduce(shape, axes, kind, fill(size(shape), 7, -10, 10), 'f32')
    })

    it('max and min propagate NaN like the cpu backend', () => {
      const x = new Float32Array([1, NaN, 3, 4, 5, 6])
      expect([...onMode(() => b.reduce(x, [2, 3], [1], 'max', 'f32'))]).toEqual([NaN, 6])
      expect([...onMode(() => b.reduce(x, [2, 3], [0], 'min', 'f32'))]).toEqual([1, NaN, 3])
    })

    /** log Σ exp over `axes` in float64, shifted by the maximum. */
    const lseReference = (x: Float64Array, shape: number[], axes: number[]): Float64Array => {
      const m = cpu.reduce(x, shape, axes, 'max', 'f64')
      const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d))
      const shift = cpu.broadcastTo(Float64Array.from(m, (v) => (Number.isFinite(v) ? v : 0)), kept, shape, 'f64')
      const s = cpu.reduce(cpu.zip(x, shift, (a, c) => Math.exp(a - c), 'f64'), shape, axes, 'sum', 'f64')
      return Float64Array.from(s, (si, i) => Math.log(si) + (Number.isFinite(m[i]!) ? m[i]! : 0))
    }

    const checkLse = (shape: number[], axes: number[], x: Float64Array, dtype: 'f32' | 'f64'): void => {
      const got = onMode(() => b.logSumExp!(asDtype(x, dtype), shape, axes, dtype), axes.some((a) => shape[a]! > 1))
      expect(got).toBeInstanceOf(dtype === 'f32' ? Float32Array : Float64Array)
      const want = lseReference(round32(x), shape, axes)
      const n = size(axes.map((a) => shape[a]!))
      const passes = Math.max(1, axes.length)
      within(
        got,
        want,
        (i) => passes * (C * (n + 4) * EPS + 4 * EPS * Math.log(n) + 2 * EPS * Math.abs(want[i]!) + tol.logFloor),
        `logSumExp over [${axes.join(',')}] of [${shape.join(',')}]`
      )
    }

    it('logSumExp over random axes of shapes 1…300 agrees with the float64 reference', () => {
      fc.assert(
        fc.property(shapeAndAxes, dtypeArb, fc.integer({ min: 0, max: 6 }), ([shape, axes, seed], dtype, spread) =>
          checkLse(shape, axes, fill(size(shape), seed, -(2 ** spread), 2 ** spread), dtype)
        ),
        { numRuns: 25 }
      )
    })

    it('logSumExp: the loss over classes of a batch, long rows, and infinite or NaN rows', () => {
      checkLse([256, 10], [1], fill(2560, 11, -30, 30), 'f32')
      checkLse([33000], [0], fill(33000, 12, -1, 1), 'f32')
      checkLse([2, 600_000], [1], fill(1_200_000, 13, -5, 5), 'f32')
      checkLse([3, 5, 20000], [0, 1], fill(300_000, 14, -5, 5), 'f64')
      const x = new Float32Array([-Infinity, -Infinity, 1, Infinity, NaN, 0, 1000, 1000])
      const got = onMode(() => b.logSumExp!(x, [4, 2], [1], 'f32'))
      expect([...got.subarray(0, 3)]).toEqual([-Infinity, Infinity, NaN])
      expect(got[3]).toBeCloseTo(1000 + Math.LN2, 3)
    })

    const broadcastCase = fc
      .array(dim, { minLength: 1, maxLength: 3 })
      .filter((to) => size(to) <= 1_000_000)
      .chain((to) =>
        fc.tuple(
          fc.constant(to),
          // which axes of `to` the source has (else 1), and how many leading axes it drops
          fc.array(fc.boolean(), { minLength: to.length, maxLength: to.length }),
          fc.integer({ min: 0, max: to.length - 1 }),
          fc.integer()
        )
      )

    it('broadcastTo agrees with the cpu backend for shapes 1…300', () => {
      fc.assert(
        fc.property(broadcastCase, dtypeArb, ([to, keep, drop, seed], dtype) => {
          const from = to.map((d, i) => (keep[i] ? d : 1)).slice(drop)
          const x = fill(size(from), seed)
          const got = b.broadcastTo(asDtype(x, dtype), from, to, dtype)
          expect(got).toBeInstanceOf(dtype === 'f32' ? Float32Array : Float64Array)
          // a kernel copies float32-rounded values; a delegated identity keeps the f64 ones
          const want = cpu.broadcastTo(x, from, to, 'f64')
          within(got, want, (i) => EPS * Math.abs(want[i]!), `broadcast [${from.join(',')}] → [${to.join(',')}]`)
        }),
        { numRuns: 15 }
      )
    })

    it.each([
      [[300], [300, 300]], // the bias over a batch
      [[10], [3, 1, 10]],
      [[300, 1], [300, 7]],
      [[1, 5, 1], [4, 5, 6]]
    ])('broadcastTo %j → %j runs as a kernel', (from, to) => {
      const x = fill(size(from), 5)
      const got = onMode(() => b.broadcastTo(Float32Array.from(x), from, to, 'f32'))
      within(got, cpu.broadcastTo(round32(x), from, to, 'f64'), () => 0, `broadcast [${from.join(',')}] → [${to.join(',')}]`)
    })

    it('delegated ops equal the cpu backend', () => {
      const x = new Float64Array([1, 2, 3, 4, 5, 6])
      expect(b.transpose(x, [2, 3], [1, 0], 'f64')).toEqual(cpu.transpose(x, [2, 3], [1, 0], 'f64'))
      expect(b.map(x, (v) => v * 2, 'f64')).toEqual(cpu.map(x, (v) => v * 2, 'f64'))
    })

    it('zero-sized operands work (delegated)', () => {
      expect(b.matmul(new Float32Array(0), [0, 3], new Float32Array(6), [3, 2], false, false, 'f32')).toEqual(new Float32Array(0))
      expect(b.matmul(new Float32Array(0), [2, 0], new Float32Array(0), [0, 2], false, false, 'f32')).toEqual(new Float32Array(4))
      expect(b.logSumExp!(new Float32Array(0), [2, 0], [1], 'f32')).toEqual(new Float32Array([-Infinity, -Infinity]))
    })

    it('shape errors are typed', () => {
      expect(() => b.matmul(new Float32Array(6), [2, 3], new Float32Array(8), [4, 2], false, false, 'f32')).toThrow(/inner dimensions differ/)
      expect(() => b.binary('add', new Float32Array(2), new Float32Array(3), 'f32')).toThrow(GpuError)
    })

    it('never degraded: every launch ran on the requested mode in float32', () => {
      const s = g.stats()
      expect(s.modesRun).toEqual([mode])
      expect(s.fallbacks).toEqual([])
      expect(s.launches).toBeGreaterThanOrEqual(s.compiled)
    })
  })

  describe(`gpu backend on ${mode}: degradation and resources`, () => {
    // GPU.js's own fallbacks, forced through kernel settings it cannot honour on this mode:
    // webasm degrades kernel maps to its cpu mode; a GL mode without float32 output
    // ('unsigned' precision) degrades vector-returning kernels to cpu, and computes the rest
    // in 8-bit packed precision
    const forced: Record<Mode, { what: string; settings: Record<string, unknown>; expect: RegExp }> = {
      webasm: {
        what: 'a kernel map',
        settings: { subKernels: [{ name: 'twice', source: 'function twice(v) { return v * 2; }', property: 'twice' }] },
        expect: /ran on 'cpu' instead of 'webasm': kernel maps are not supported/
      },
      headlessgl: {
        what: "'unsigned' precision",
        settings: { precision: 'unsigned' },
        expect: /ran on 'cpu' instead of 'headlessgl'|precision 'unsigned'/
      }
    }

    it(`a forced degradation (${forced[mode].what}) is a GpuError in strict mode, and recorded otherwise`, async () => {
      const strict = await createGpuBackend({ mode, strict: true })
      const lenient = await createGpuBackend({ mode, strict: false })
      const createKernel = GPU.prototype.createKernel
      const spy = vi.spyOn(GPU.prototype, 'createKernel').mockImplementation(function (this: GPU, source: unknown, settings?: object) {
        return createKernel.call(this, source as Parameters<typeof createKernel>[0], { ...settings, ...forced[mode].settings })
      } as typeof createKernel)
      try {
        const a = Float32Array.from(fill(35, 1))
        expect(() => strict.backend.matmul(a, [5, 7], a, [7, 5], false, false, 'f32')).toThrow(GpuError)
        expect(() => strict.backend.matmul(a, [5, 7], a, [7, 5], false, false, 'f32')).toThrow(forced[mode].expect)
        // lenient: the launch is recorded as a fallback (the result itself is not checked: a kernel map returns an object)
        try {
          lenient.backend.matmul(a, [5, 7], a, [7, 5], false, false, 'f32')
        } catch (e) {
          expect(e).toBeInstanceOf(GpuError)
        }
        expect(lenient.stats().fallbacks.length).toBeGreaterThan(0)
        expect(lenient.stats().fallbacks[0]).toMatch(forced[mode].expect)
      } finally {
        spy.mockRestore()
        strict.dispose()
        lenient.dispose()
      }
    })

    it('evicts beyond maxKernels and releases everything on dispose', async () => {
      const h = await createGpuBackend({ mode, maxKernels: 2 })
      for (const n of [3, 4, 5, 6]) h.backend.unary('exp', new Float32Array(n), 'f32')
      expect(h.stats().cached).toBeLessThanOrEqual(2)
      h.dispose()
      expect(h.stats().cached).toBe(0)
      expect(() => h.backend.unary('exp', new Float32Array(7), 'f32')).toThrow(GpuError)
    })
  })
}

describe('gpu backend: async kernels', () => {
  it('createGpuKernelsAsync runs webasm products on worker threads with the same results', async () => {
    const sync = handles.get('webasm')
    if (sync === undefined) {
      console.warn(`backend.gpu: async webasm skipped: ${reasons.get('webasm')}`)
      return expect(reasons.get('webasm')).toBeDefined()
    }
    const kernels = await createGpuKernelsAsync({ mode: 'webasm', poolSize: 2 })
    try {
      expect(kernels.mode).toBe('webasm')
      // at least 4096 output cells: GPU.js splits smaller launches no further
      const m = 128
      const k = 70
      const n = 160
      const a = Float32Array.from(fill(m * k, 21))
      const bb = Float32Array.from(fill(k * n, 22))
      const got = await kernels.matmul(a, [m, k], bb, [k, n], false, false, 'f32')
      // GPU.js: threaded results are identical to the single-threaded run
      expect(got).toEqual(sync.backend.matmul(a, [m, k], bb, [k, n], false, false, 'f32'))
      const batched = await kernels.batchMatmul(a, [2, 48, k], bb, [2, k, 65], false, false, 'f64')
      expect(batched).toEqual(sync.backend.batchMatmul(a, [2, 48, k], bb, [2, k, 65], false, false, 'f64'))
      const s = kernels.stats()
      expect(s.modesRun).toEqual(['webasm'])
      if (kernels.threads) expect(s.threadedLaunches).toBeGreaterThan(0)
      else console.warn('backend.gpu: wasm threads are unavailable here; the async kernels ran single-threaded')
    } finally {
      kernels.dispose()
    }
  })

  it('an async mode that is unavailable rejects with a GpuError naming the reason', async () => {
    if (handles.has('headlessgl')) {
      const kernels = await createGpuKernelsAsync({ mode: 'headlessgl' })
      expect(kernels.mode).toBe('headlessgl')
      expect(kernels.threads).toBe(false)
      kernels.dispose()
    } else {
      await expect(createGpuKernelsAsync({ mode: 'headlessgl' })).rejects.toThrow(GpuError)
    }
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

  it('headlessgl without a display says what is missing', async () => {
    if (handles.has('headlessgl')) return expect(process.env['DISPLAY']).toBeTruthy()
    expect(reasons.get('headlessgl')).toMatch(/'gl' package|display|DISPLAY|context/)
  })
})
