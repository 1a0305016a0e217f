/**
 * The GPU.js kernels lamina has for `webgpu` — the products `matmul` and `batchMatmul` of
 * {@link createGpuKernelsAsync} (webgpu kernels return Promises, so the synchronous Backend
 * cannot use the mode; its elementwise and reduction kernels are reached only through `compile`,
 * see `test/compiled.webgpu.test.ts`) — against the float64 cpu reference within float32 error
 * bounds, as `test/backend.gpu.test.ts` does for webasm and headlessgl.
 *
 * In Node, webgpu is Dawn (the `webgpu` package) installed as `navigator.gpu` by `installWebGpu`
 * from `lamina/node`; on a machine without a GPU it runs on Mesa's software Vulkan (lavapipe).
 *
 * The reference is computed in float64 on the float32-rounded inputs, so the bound measures only
 * the kernel's own float32 arithmetic (ε = 2⁻²⁴, c = 2): |C − ref| ≤ c·k·ε·(|A|·|B|) per output
 * (Higham's γ_k for a sum of k products in any order; WGSL's f32 + and × are correctly rounded,
 * and a fused multiply-add only makes the error smaller), with an absolute floor of 1024·2⁻¹²⁶
 * for results near float32's underflow (WGSL may flush subnormals to zero: at most 2⁻¹²⁶ per
 * term, ≤ 300 terms where such tiny terms occur).
 *
 * Shapes are drawn from 1…300 in every dimension (batch included), half of the draws from 1…8,
 * for each of the four transpose flag combinations, with the work per case bounded: lavapipe runs
 * the shaders on the CPU. Fixed cases cover the edges, inner dimensions longer than lavapipe's
 * 65,535 loop trips per invocation (which it, like llvmpipe, ends without a word: the kernel must
 * unroll), and indices past 2²⁴.
 *
 * Where it ran is asserted from what GPU.js reports: every launch's kernel is a WebGPUKernel in
 * precision 'single' (the kernels are strict: a launch elsewhere throws). GPU.js's webgpu backend
 * has no silent degradation of its own — what it cannot compile (a kernel map, 'unsigned'
 * precision: the settings that make webasm and GL degrade in backend.gpu.test.ts) is an error —
 * so the degradation is forced through GPU.js's generic fallback (`requestFallback`, the path the
 * other backends take to its `cpu` mode), and must be a GpuError (strict) or a recorded fallback.
 *
 * Where webgpu does not start (Dawn does not load — the system node on Debian 12 cannot, see
 * `bash scripts/install-webgpu.sh` — or no Vulkan adapter answers) the tests skip and say why,
 * unless LAMINA_GPU_MODES_REQUIRED names webgpu (scripts/test.sh does once the install
 * succeeded), in which case they fail.
 */
import { afterAll, describe, expect, it, vi } from 'vitest'
import fc from 'fast-check'
import * as GpuJs from 'gpu.js'
import { GPU } from 'gpu.js'
import { cpu } from '../src/backend/cpu.js'
import { createGpuBackend, createGpuKernelsAsync, GpuError } from '../src/backend/gpu.js'
import type { GpuAsyncKernels } from '../src/backend/gpu.js'
import { installWebGpu } from '../src/backend/node-webgpu.js'
import type { Buffer } from '../src/tensor.js'

const mode = 'webgpu'
const required = new Set((process.env['LAMINA_GPU_MODES_REQUIRED'] ?? '').split(',').filter((m) => m !== ''))

const EPS = 2 ** -24
const C = 2
/** Absolute floor for float32 underflow (2⁻¹²⁶ per flushed term, times a margin for the ≤ 300 terms of a product). */
const TINY = 1024 * 2 ** -126
/** Multiply-adds per property case: lavapipe runs shaders on the CPU, and the float64 reference is computed twice (values and magnitudes). */
const WORK = 1_500_000

/** The webgpu product kernels, or why there are none here. */
const setup = await (async (): Promise<{ kernels: GpuAsyncKernels; adapter: string } | { reason: string }> => {
  const installed = await installWebGpu()()
  if (installed._tag === 'Left') return { reason: installed.left.message }
  try {
    return { kernels: await createGpuKernelsAsync({ mode, strict: true }), adapter: `${installed.right.device} (${installed.right.description})` }
  } catch (e) {
    return { reason: e instanceof Error ? e.message : String(e) }
  }
})()
afterAll(() => {
  if ('kernels' in setup) setup.kernels.dispose()
})

// ---- inputs and references (as in backend.gpu.test.ts) ----

/** Deterministic values in [lo, hi) from a seed (mulberry32): big operands without drawing every number through fast-check. */
const fill = <B extends Float64Array | Float32Array = Float64Array>(n: number, seed: number, lo = -4, hi = 4, out: B = new Float64Array(n) as B): B => {
  let s = seed >>> 0
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 2 ** 32)
  }
  return out
}
const round32 = (x: Buffer): Float64Array => Float64Array.from(Float32Array.from(x))
const absBuf = (x: Buffer): Float64Array => Float64Array.from(x, Math.abs)
const asDtype = (x: Float64Array, dtype: 'f32' | 'f64'): Buffer => (dtype === 'f32' ? Float32Array.from(x) : x)

/** 1…300, half of the draws from 1…8 (size 1 and ragged edges). */
const dim = fc.oneof(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 8 }))
const dtypeArb = fc.constantFrom('f32' as const, 'f64' as const)

/** Asserts |got − want| ≤ bound elementwise, naming the first offender. */
const within = (got: Buffer, want: Buffer, bound: (i: number) => number, what: string): void => {
  expect(got.length, `${what}: length`).toBe(want.length)
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!
    const g = got[i]!
    if (w === g) continue
    const err = Math.abs(g - w)
    if (!(err <= bound(i) + TINY)) throw new Error(`${what}: element ${i}: got ${g}, want ${w}, error ${err} > bound ${bound(i)}`)
  }
}

const flags = [
  [false, false],
  [false, true], // dY·wᵀ
  [true, false], // xᵀ·dY
  [true, true]
] as const
const flagName = (tA: boolean, tB: boolean): string => `${tA ? 'T' : 'N'}${tB ? 'T' : 'N'}`

if (!('kernels' in setup)) {
  const { reason } = setup
  describe(`gpu kernels on ${mode}`, () => {
    if (required.has(mode)) {
      it(`${mode} is required here (LAMINA_GPU_MODES_REQUIRED) and must initialise`, () => {
        throw new GpuError(`${mode} did not initialise: ${reason}`)
      })
    } else {
      console.warn(`backend.webgpu: ${mode} is skipped: ${reason}`)
      it.skip(`${mode} is unavailable here: ${reason}`, () => {})
    }
  })
} else {
  const { kernels, adapter } = setup
  console.info(`backend.webgpu: testing on ${adapter}`)

  /** Runs `f`, and checks it launched a kernel, and that every launch so far ran on webgpu in float32 (strict: a degraded launch has thrown already). */
  const onWebGpu = async <A>(f: () => Promise<A>): Promise<A> => {
    const before = kernels.stats().launches
    const out = await f()
    const s = kernels.stats()
    expect(s.launches, 'no kernel was launched').toBeGreaterThan(before)
    expect(s.modesRun).toEqual([mode])
    expect(s.fallbacks).toEqual([])
    return out
  }

  const checkProduct = async (
    batch: number | undefined,
    m: number,
    k: number,
    n: number,
    tA: boolean,
    tB: boolean,
    a: Float64Array | Float32Array,
    b: Float64Array | Float32Array,
    dtype: 'f32' | 'f64'
  ): Promise<void> => {
    const aShape = batch === undefined ? (tA ? [k, m] : [m, k]) : tA ? [batch, k, m] : [batch, m, k]
    const bShape = batch === undefined ? (tB ? [n, k] : [k, n]) : tB ? [batch, n, k] : [batch, k, n]
    const ref = (x: Buffer, y: Buffer): Buffer =>
      batch === undefined ? cpu.matmul(x, aShape, y, bShape, tA, tB, 'f64') : cpu.batchMatmul(x, aShape, y, bShape, tA, tB, 'f64')
    const a64 = a instanceof Float64Array ? a : Float64Array.from(a)
    const b64 = b instanceof Float64Array ? b : Float64Array.from(b)
    const got = await onWebGpu(() =>
      batch === undefined
        ? kernels.matmul(asDtype(a64, dtype), aShape, asDtype(b64, dtype), bShape, tA, tB, dtype)
        : kernels.batchMatmul(asDtype(a64, dtype), aShape, asDtype(b64, dtype), bShape, tA, tB, dtype)
    )
    expect(got).toBeInstanceOf(dtype === 'f32' ? Float32Array : Float64Array)
    const want = ref(round32(a64), round32(b64))
    const mag = ref(absBuf(round32(a64)), absBuf(round32(b64)))
    const what = `${batch === undefined ? 'matmul' : `batchMatmul ${batch}×`}${m}×${k}×${n} ${flagName(tA, tB)}`
    within(got, want, (i) => C * k * EPS * mag[i]!, what)
  }

  const productCase = (batched: boolean) =>
    fc
      .record({
        batch: batched ? dim : fc.constant(1),
        m: dim,
        k: dim,
        n: dim,
        dtype: dtypeArb,
        seed: fc.integer(),
        // operands of very different magnitudes: the bound is relative to |A|·|B|
        scale: fc.integer({ min: -20, max: 20 })
      })
      .filter((s) => s.batch * s.m * s.k * s.n <= WORK)

  describe(`gpu kernels on ${mode}`, () => {
    it(`runs on ${mode}, not on GPU.js cpu`, () => {
      expect(kernels.mode).toBe(mode)
      expect(kernels.threads).toBe(false)
      expect(kernels.stats().modesRun).toEqual([mode])
    })

    it.each(flags)('matmul (transposeA %s, transposeB %s) agrees with the cpu reference for shapes 1…300', async (tA, tB) => {
      await fc.assert(
        fc.asyncProperty(productCase(false), async (s) => {
          const a = fill(s.m * s.k, s.seed).map((v) => v * 2 ** s.scale)
          await checkProduct(undefined, s.m, s.k, s.n, tA, tB, a, fill(s.k * s.n, s.seed + 1), s.dtype)
        }),
        { numRuns: 10 }
      )
    })

    it.each(flags)('batchMatmul (transposeA %s, transposeB %s) agrees with the cpu reference for batches and shapes 1…300', async (tA, tB) => {
      await fc.assert(
        fc.asyncProperty(productCase(true), async (s) => {
          const a = fill(s.batch * s.m * s.k, s.seed).map((v) => v * 2 ** s.scale)
          await checkProduct(s.batch, s.m, s.k, s.n, tA, tB, a, fill(s.batch * s.k * s.n, s.seed + 1), s.dtype)
        }),
        { numRuns: 6 }
      )
    })

    it.each([
      [1, 1, 1, false, false],
      [300, 300, 300, false, false],
      [300, 257, 129, false, false],
      [128, 300, 100, false, true], // dY·wᵀ
      [300, 128, 10, true, false], // xᵀ·dY
      [1, 300, 1, true, true],
      [7, 1, 5, false, false], // an outer product
      [5, 3, 1, true, false]
    ])('matmul %i×%i×%i (transposeA %s, transposeB %s)', async (m, k, n, tA, tB) => {
      await checkProduct(undefined, m, k, n, tA, tB, fill(m * k, m), fill(k * n, n), 'f32')
    })

    it.each([
      [300, 7, 300, 5, false, false],
      [3, 100, 300, 70, false, true],
      [300, 1, 1, 1, true, true],
      [2, 300, 300, 300, true, false]
    ])('batchMatmul %i×(%i×%i×%i) (transposeA %s, transposeB %s)', async (batch, m, k, n, tA, tB) => {
      await checkProduct(batch, m, k, n, tA, tB, fill(batch * m * k, 3), fill(batch * k * n, 4), 'f64')
    })

    // lavapipe ends a shader's loops after 65,535 trips without a word: unrolled by two, a sum
    // over the first 131,070 terms came back (before gpu.ts unrolled more on webgpu too). The
    // operands are positive here, so that the terms left out (6 % of them for k = 140,000) cannot
    // hide inside the bound (2kε = 1.7 % of |A|·|B| for k = 140,000), as random signs would let them
    it.each([
      [20000, 3, 5, false, false],
      [3, 5, 20000, true, true],
      [1, 140000, 2, false, false],
      [2, 300000, 1, true, true]
    ])('matmul %i×%i×%i (transposeA %s, transposeB %s): long sides and inner loops past lavapipe’s 65,535 trips', async (m, k, n, tA, tB) => {
      await checkProduct(undefined, m, k, n, tA, tB, fill(m * k, 8, 0.5, 1), fill(k * n, 9, 0.5, 1), 'f32')
    })

    it('batchMatmul 2×(3×200000×2): a batched inner loop past the trip limit', async () => {
      await checkProduct(2, 3, 200000, 2, false, true, fill(2 * 3 * 200000, 10, 0.5, 1), fill(2 * 200000 * 2, 11, 0.5, 1), 'f32')
    })

    it('batchMatmul 300×(300×190×1): indices past 2²⁴, where a float index would be off', async () => {
      const [batch, m, k] = [300, 300, 190]
      const a = fill(batch * m * k, 31, -4, 4, new Float32Array(batch * m * k))
      const b = fill(batch * k, 32, -4, 4, new Float32Array(batch * k))
      const got = await onWebGpu(() => kernels.batchMatmul(a, [batch, m, k], b, [batch, k, 1], false, false, 'f32'))
      // the reference in float64, by the textbook loop (the generic check would copy A three times)
      const want = new Float64Array(batch * m)
      const mag = new Float64Array(batch * m)
      for (let z = 0; z < batch; z++) {
        for (let i = 0; i < m; i++) {
          let sum = 0
          let abs = 0
          for (let p = 0; p < k; p++) {
            const t = a[(z * m + i) * k + p]! * b[z * k + p]!
            sum += t
            abs += Math.abs(t)
          }
          want[z * m + i] = sum
          mag[z * m + i] = abs
        }
      }
      within(got, want, (i) => C * k * EPS * mag[i]!, 'batchMatmul 300×300×190×1')
    })

    it('zero-sized operands work (delegated) and shape errors are typed', async () => {
      expect(await kernels.matmul(new Float32Array(0), [0, 3], new Float32Array(6), [3, 2], false, false, 'f32')).toEqual(new Float32Array(0))
      expect(await kernels.matmul(new Float32Array(0), [2, 0], new Float32Array(0), [0, 2], false, false, 'f32')).toEqual(new Float32Array(4))
      // a Promise that rejects, not a throw from the call: every call returns a Promise
      let bad: Promise<Buffer> | undefined
      expect(() => (bad = kernels.matmul(new Float32Array(6), [2, 3], new Float32Array(8), [4, 2], false, false, 'f32'))).not.toThrow()
      await expect(bad).rejects.toThrow(/inner dimensions differ/)
      await expect(kernels.batchMatmul(new Float32Array(6), [1, 2, 3], new Float32Array(8), [2, 2, 2], false, false, 'f32')).rejects.toThrow(/batch sizes differ/)
    })

    it('never degraded: every launch ran on webgpu in float32', () => {
      const s = kernels.stats()
      expect(s.modesRun).toEqual([mode])
      expect(s.fallbacks).toEqual([])
      expect(s.launches).toBeGreaterThanOrEqual(s.compiled)
      expect(s.threadedLaunches).toBe(0)
    })
  })

  describe(`gpu kernels on ${mode}: degradation and resources`, () => {
    type Kernel = { build(...args: unknown[]): unknown; requestFallback(args: unknown, reason: string): unknown }
    const WebGPUKernel = (GpuJs as unknown as { WebGPUKernel: { prototype: Kernel } }).WebGPUKernel
    const a = Float32Array.from(fill(35, 1))

    it("a launch forced onto GPU.js's cpu fallback is a GpuError in strict mode, and recorded otherwise", async () => {
      const strict = await createGpuKernelsAsync({ mode, strict: true })
      const lenient = await createGpuKernelsAsync({ mode, strict: false })
      // GPU.js's own degradation path (what webasm and GL take for what they cannot run): the
      // kernel asks for the fallback while it builds, and GPU.js swaps in a CPUKernel
      const build = WebGPUKernel.prototype.build
      const spy = vi.spyOn(WebGPUKernel.prototype, 'build').mockImplementation(function (this: Kernel, ...args: unknown[]) {
        return this.requestFallback(args, 'forced by the test')
      })
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
      try {
        await expect(strict.matmul(a, [5, 7], a, [7, 5], false, false, 'f32')).rejects.toThrow(GpuError)
        await expect(strict.matmul(a, [5, 7], a, [7, 5], false, false, 'f32')).rejects.toThrow(/kernel matmul ran on 'cpu' instead of 'webgpu': forced by the test/)
        const got = await lenient.matmul(a, [5, 7], a, [7, 5], false, false, 'f32')
        // GPU.js's cpu mode computed it, correctly: only the record says where
        const mag = cpu.matmul(absBuf(a), [5, 7], absBuf(a), [7, 5], false, false, 'f64')
        within(got, cpu.matmul(a, [5, 7], a, [7, 5], false, false, 'f64'), (i) => C * 7 * EPS * mag[i]!, 'degraded matmul')
        expect(lenient.stats().fallbacks).toEqual([expect.stringMatching(/^matmul ran on 'cpu' instead of 'webgpu': forced by the test/)])
        expect(lenient.stats().modesRun).toEqual(expect.arrayContaining(['webgpu', 'cpu']))
      } finally {
        spy.mockRestore()
        warn.mockRestore()
        strict.dispose()
        lenient.dispose()
      }
      expect(WebGPUKernel.prototype.build).toBe(build)
    })

    // the settings that make webasm and GL degrade (backend.gpu.test.ts) are errors on webgpu
    it.each<[string, Record<string, unknown>, RegExp]>([
      ["'unsigned' precision", { precision: 'unsigned' }, /precision: 'unsigned'/],
      ['a kernel map', { subKernels: [{ name: 'twice', source: 'function twice(v) { return v * 2; }', property: 'twice' }] }, /createKernelMap/]
    ])('a kernel GPU.js cannot compile for webgpu (%s) is a GpuError naming the kernel, never a silent cpu run', async (_what, settings, reason) => {
      const h = await createGpuKernelsAsync({ mode, strict: false })
      const createKernel = GPU.prototype.createKernel
      const spy = vi.spyOn(GPU.prototype, 'createKernel').mockImplementation(function (this: GPU, source: unknown, s?: object) {
        return createKernel.call(this, source as Parameters<typeof createKernel>[0], { ...s, ...settings })
      } as typeof createKernel)
      try {
        const run = h.matmul(a, [5, 7], a, [7, 5], false, false, 'f32')
        await expect(run).rejects.toThrow(GpuError)
        await expect(run).rejects.toThrow(/^gpu: kernel matmul with output \[5, 5\] failed: /)
        await expect(run).rejects.toThrow(reason)
        expect(h.stats().modesRun).toEqual([mode])
      } finally {
        spy.mockRestore()
        h.dispose()
      }
    })

    it('evicts beyond maxKernels and releases everything on dispose', async () => {
      const h = await createGpuKernelsAsync({ mode, maxKernels: 2 })
      for (const n of [3, 4, 5, 6]) await h.matmul(new Float32Array(n), [n, 1], new Float32Array(1), [1, 1], false, false, 'f32')
      expect(h.stats().cached).toBeLessThanOrEqual(2)
      h.dispose()
      expect(h.stats().cached).toBe(0)
      await expect(h.matmul(new Float32Array(7), [7, 1], new Float32Array(1), [1, 1], false, false, 'f32')).rejects.toThrow(GpuError)
    })

    it('the synchronous Backend refuses webgpu with a reason (its kernels return Promises), though navigator.gpu is present', async () => {
      const h = await createGpuBackend({ mode })
      expect(h.mode).toBe('none')
      expect(h.backend).toBe(cpu)
      expect(h.fallbackReason).toMatch(/Promise/)
      expect(h.fallbackReason).not.toMatch(/navigator\.gpu is absent/)
    })
  })
}
