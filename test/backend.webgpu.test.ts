/**
 * The GPU.js kernels lamina has for `webgpu` — the products `matmul` and `batchMatmul` of
 * {@link createGpuKernelsAsync} (webgpu kernels return Promises, so the synchronous Backend
 * cannot use the mode; its elementwise and reduction kernels are reached only through `compile`,
 * see `test/compiled.webgpu.test.ts`) — against the float64 cpu reference within float32 error
 * bounds, as `test/backend.gpu.test.ts` does for webasm and headlessgl.
 *
 * In Node, webgpu is Dawn (the `webgpu` package) installed as `navigator.gpu` by `installWebGpu`
 * from `lamina-nn/node`; on a machine without a GPU it runs on Mesa's software Vulkan (lavapipe).
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
import { unavailableTest } from './support/modes.js'
import { C, EPS, absBuf, fill, operands, productCase, productChecks, within } from './support/products.js'

const mode = 'webgpu'

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

const flags = [
  [false, false],
  [false, true], // dY·wᵀ
  [true, false], // xᵀ·dY
  [true, true]
] as const

if (!('kernels' in setup)) {
  const { reason } = setup
  describe(`gpu kernels on ${mode}`, () => unavailableTest({ mode, reason, log: 'backend.webgpu', verb: 'initialise', error: GpuError }))
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

  const { checkProduct, fixedProductTests, indexTest } = productChecks(kernels, onWebGpu)

  describe(`gpu kernels on ${mode}`, () => {
    it(`runs on ${mode}, not on GPU.js cpu`, () => {
      expect(kernels.mode).toBe(mode)
      expect(kernels.threads).toBe(false)
      expect(kernels.stats().modesRun).toEqual([mode])
    })

    it.each(flags)('matmul (transposeA %s, transposeB %s) agrees with the cpu reference for shapes 1…300', async (tA, tB) => {
      await fc.assert(
        fc.asyncProperty(productCase(false, WORK), async (s) => {
          await checkProduct(undefined, s.m, s.k, s.n, tA, tB, ...operands(s, true), s.dtype)
        }),
        { numRuns: 10 }
      )
    })

    it.each(flags)('batchMatmul (transposeA %s, transposeB %s) agrees with the cpu reference for batches and shapes 1…300', async (tA, tB) => {
      await fc.assert(
        fc.asyncProperty(productCase(true, WORK), async (s) => {
          await checkProduct(s.batch, s.m, s.k, s.n, tA, tB, ...operands(s, true), s.dtype)
        }),
        { numRuns: 6 }
      )
    })

    fixedProductTests()

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

    indexTest()

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
