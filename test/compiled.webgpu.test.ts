/**
 * The compiled step on GPU.js's `webgpu` mode: in Node, Dawn (the `webgpu` package, installed
 * as `navigator.gpu` by `installWebGpu` from `lamina-nn/node`), on Mesa's software Vulkan
 * (lavapipe) where there is no GPU. GPU.js fuses the whole plan into one command encoder
 * (executor `'fused-encoder'`), every intermediate a storage buffer. The models, data, eager
 * float64 reference and bounds are those of `test/compiled.test.ts` (`test/support/compiled.ts`);
 * only the elementwise allowance is wider, because WGSL's transcendental functions are less
 * accurate than float32 libm.
 *
 * The WGSL allowance (`wgslAllowance`), from the accuracy table of the WGSL spec ("Floating
 * Point Accuracy", f32): exp(x) (3 + 2|x|) ulps; log(x) an absolute 2⁻²¹ for x ∈ [0.5, 2], else
 * 3 ulps; x / y 2.5 ulps; sqrt inherited from 1 / inverseSqrt (2 ulps), so 2 + 2.5 ulps. These
 * are the numbers of GLSL ES 3.00 §4.5.1 that `test/compiled.gl.test.ts` derives its allowance
 * from, so the derivation is the same (an ulp is at most 2u relative, u = 2⁻²⁴, and τ already
 * counts about u for each of these ops):
 * - exp: every gradient goes through two, e^(z − max z) in the loss's logsumexp and e^(z − lse)
 *   in its VJP (the softmax), with |x| ≤ X = max(lse − z) over the reference's logits:
 *   2·2·(3 + 2X)·u;
 * - log(s) of the logsumexp, s = Σ e^(z − max z) ∈ [1, n] for n classes: 2⁻²¹ = 8u for
 *   s ∈ [0.5, 2], else 3 ulps ≤ 6u·ln n; it shifts the loss by that much and scales every
 *   softmax entry by e^(that): (8 + 6·ln n)·u;
 * - a division (the loss's mean, Adam's step) and a square root (Adam's √v̂): 5u + 9u.
 * So each step's elementwise allowance grows from 4u to (4 + g)u with
 * g = 4·(3 + 2X) + 8 + 6·ln n + 14, and τ(k, N) becomes N·(k + 4 + g)·u, for the parameters,
 * the losses, Adam's term and the ReLU margin alike. (+ and × are correctly rounded in WGSL,
 * as the reductions' k·u assumes.)
 *
 * Where it ran is asserted from what GPU.js reports: executor `'fused-encoder'`, backend
 * `'webgpu'`, no fallback reason. GPU.js's webgpu backend has no silent degradation of its own
 * (what it cannot compile is an error); a degradation forced through GPU.js's generic cpu
 * fallback, or a precision it cannot honour, must make `compile` fail with reason `'backend'`.
 * Where webgpu does not start (Dawn does not load — the system node on Debian 12 cannot, see
 * `bash scripts/install-webgpu.sh` — or no Vulkan adapter answers) the tests skip and say why,
 * unless LAMINA_GPU_MODES_REQUIRED names webgpu (scripts/test.sh does once the install
 * succeeded), in which case they fail.
 */
import { describe, expect, it, vi } from 'vitest'
import * as GpuJs from 'gpu.js'
import { Loss } from 'lamina-nn'
import type { CompiledStep } from 'lamina-nn/gpu'
import { agreementTests, compileFailure, isLogSumExp, longConvCase, unsignedLogSumExp } from './support/compiled-gpu.js'
import { bounds, compileOrThrow, compiled, eager, lossesOutside, outside, transcendentalAllowance } from './support/compiled.js'
import { unavailableTest, webgpuUnavailable } from './support/modes.js'

const mode = 'webgpu'

/** Why webgpu does not start here (Dawn's adapter, then GPU.js's own probe kernel), or undefined when it does. */
const unavailable = await webgpuUnavailable()

/** WGSL's extra per-step allowance, in units of u (see the module comment). */
const wgslAllowance = transcendentalAllowance

const expectWebGpu = (step: CompiledStep<unknown, { readonly step: number }>): void => {
  expect(step.mode).toBe(mode)
  expect(step.backend).toBe(mode)
  expect(step.executorKind).toBe('fused-encoder')
  expect(step.fallbackReason).toBeNull()
}

if (unavailable !== undefined) {
  describe(`compile on ${mode}`, () => unavailableTest({ mode, reason: unavailable, log: 'compiled.webgpu' }))
} else {
  describe(`compile on ${mode}: the fused-encoder executor equals the eager interpreter`, () => {
    agreementTests({
      mode,
      cases: [
        { spec: { input: 20, hidden: [16], classes: 5, activation: 'relu' }, batch: 8, calls: 3, steps: 4, bias: 2, scale: 0.25 },
        { spec: { input: 64, hidden: [32], classes: 10, activation: 'relu' }, batch: 32, calls: 2, steps: 3, bias: 3, scale: 0.25 },
        // two hidden layers (only ReLU: the allowance covers the loss's and the optimizer's functions, not WGSL's tanh or a sigmoid's exp)
        { spec: { input: 30, hidden: [24, 12], classes: 6, activation: 'relu' }, batch: 16, calls: 2, steps: 2, bias: 2, scale: 0.25 },
        // the real size (k = 784)
        { spec: { input: 784, hidden: [128], classes: 10, activation: 'relu' }, batch: 128, calls: 2, steps: 3, bias: 3, scale: 0.25 }
      ],
      allowance: wgslAllowance,
      ran: expectWebGpu,
      bound: 'WGSL',
      plain: 'libm',
      log: 'compiled.webgpu'
    })
  })

  describe(`compile on ${mode}: lavapipe's loop limit`, () => {
    // lavapipe, like llvmpipe, ends a shader's loops after 65,535 trips in all without a word
    // (measured: a 70,000-trip sum returns the first 65,535 terms). The conv bias gradient below
    // sums 76,880 terms; on a software adapter compile unrolls reductions (8 elements per trip) as
    // on GL, so the sum is whole. Before that it came back truncated (the bias leaf ≈ 10× off).
    /** One compile and run, shared by the two tests below. */
    let run: Promise<{ got: Awaited<ReturnType<typeof compiled>>; reference: ReturnType<typeof eager>; extra: number; k: number }> | undefined
    const convRun = () =>
      (run ??= (async () => {
        const { k, classes, model, optimizer, params, data, reference, options } = longConvCase()
        const step = await compileOrThrow(model, Loss.crossEntropyWithLogits, optimizer, { ...options, mode })
        try {
          expectWebGpu(step)
          const got = await compiled(step, params, optimizer.init(params), data)
          expectWebGpu(step)
          return { got, reference, extra: wgslAllowance(reference.records, classes), k }
        } finally {
          await step.dispose()()
        }
      })())

    it('a conv model whose bias gradient sums batch × positions = 76,880 terms compiles and runs fused on webgpu', async () => {
      const { got } = await convRun()
      expect(got.optimizerState.step).toBe(2)
      expect(got.losses.every(Number.isFinite)).toBe(true)
    })

    it("that sum is past lavapipe's 65,535 loop trips, and 2 steps still give the eager parameters within the WGSL bound", async () => {
      // k: the longest reduction, the conv's bias gradient (and its weight gradient's inner dimension)
      const { got, reference, extra, k } = await convRun()
      expect(lossesOutside(got.losses, reference.records, k, extra)).toEqual([])
      expect(outside(got.params, reference.params, bounds(k, reference.records, reference.params, undefined, extra))).toEqual([])
    })
  })

  describe(`compile on ${mode}: a degraded run is a backend error`, () => {
    // one kernel in the middle of the plan (the loss's logsumexp, the one with Math.log), or every one
    type Kernel = { build(...args: unknown[]): unknown; requestFallback(args: unknown, reason: string): unknown; readonly source: string }
    const proto = (GpuJs as unknown as { WebGPUKernel: { prototype: Kernel } }).WebGPUKernel.prototype
    /** GPU.js's own degradation path (requestFallback: a CPUKernel swapped in), forced while the kernels that `which` selects build. */
    const forceCpuFallback = (which: (source: string) => boolean) => {
      const build = proto.build
      return vi.spyOn(proto, 'build').mockImplementation(function (this: Kernel, ...args: unknown[]) {
        return which(String(this.source)) ? this.requestFallback(args, 'forced by the test') : build.apply(this, args)
      })
    }
    const quiet = () => vi.spyOn(console, 'warn').mockImplementation(() => {})

    it("a kernel that falls back to GPU.js's cpu mode fails with reason backend", async () => {
      const e = await compileFailure(mode, forceCpuFallback(isLogSumExp), quiet())
      expect(e.reason).toBe('backend')
      // GPU.js's cpu kernel cannot read the plan's storage buffers: the run fails, it does not compute elsewhere
      expect(e.message).toMatch(/^compile: /)
    })

    it("every kernel falling back to GPU.js's cpu mode fails with reason backend, naming cpu", async () => {
      const e = await compileFailure(mode, forceCpuFallback(() => true), quiet())
      expect(e.reason).toBe('backend')
      expect(e.message).toContain("GPU.js ran the plan on 'cpu' instead of 'webgpu'")
    })

    it("a kernel in 'unsigned' (8-bit packed) precision fails with reason backend, naming the precision", async () => {
      const e = await compileFailure(mode, unsignedLogSumExp())
      expect(e.reason).toBe('backend')
      expect(e.message).toMatch(/precision: 'unsigned'/)
    })
  })
}
