/**
 * The compiled step on GPU.js's GL path: mode `'headlessgl'` (Mesa's llvmpipe under `xvfb-run -a`).
 * GPU.js has no fused executor for GL, so the plan runs `'generic'`: step by step through the
 * kernels' clones, every intermediate a texture. The models, data, eager float64 reference and
 * bounds are those of `test/compiled.test.ts` (`test/support/compiled.ts`); only the elementwise
 * allowance is wider, because GL's transcendental functions are less accurate than float32 libm.
 *
 * The GL allowance (`glAllowance`), from the precision table of the GLSL ES 3.00 spec, §4.5.1
 * (headless-gl compiles GLSL ES 1.00, which sets no precision for built-ins; these are the rules
 * llvmpipe's exp and log were measured against in `test/backend.gpu.test.ts`). An ulp is at
 * most 2u relative (u = 2⁻²⁴), and τ already counts about u for each of these ops:
 * - exp(x): (3 + 2|x|) ulps. Every gradient goes through two: e^(z − max z) in the loss's
 *   logsumexp and e^(z − lse) in its VJP (the softmax), with |x| ≤ X = max(lse − z) over the
 *   reference's logits: 2·2·(3 + 2X)·u.
 * - log(s) of the logsumexp, s = Σ e^(z − max z) ∈ [1, n] for n classes: an absolute 2⁻²¹ = 8u
 *   for s ∈ [0.5, 2], else 3 ulps ≤ 6u·ln n. It shifts the loss by that much and scales every
 *   softmax entry by e^(that): (8 + 6·ln n)·u.
 * - a division (2.5 ulps: the loss's mean, Adam's step) and a square root (Adam's √v̂: 1/inversesqrt,
 *   2 + 2.5 ulps): 5u + 9u.
 * So each step's allowance for elementwise ops grows from 4u to (4 + g)u with
 * g = 4·(3 + 2X) + 8 + 6·ln n + 14, and τ(k, N) becomes N·(k + 4 + g)·u, for the parameters, the
 * losses, Adam's term and the ReLU margin alike.
 *
 * Where it ran is asserted from what GPU.js reports: executor `'generic'`, backend
 * `'headlessgl'` (every clone and upload kernel the generic executor ran is a HeadlessGLKernel
 * computing in float32); a forced degradation to GPU.js's `cpu` mode, or to another precision,
 * must make `compile` fail with reason `'backend'`. headlessgl needs `bash scripts/install-gl.sh`
 * and an X display: where it does not start the tests skip and say why, unless
 * LAMINA_GPU_MODES_REQUIRED names it (scripts/test.sh does once the install succeeded), in which
 * case they fail.
 */
import { describe, expect, it, vi } from 'vitest'
import { HeadlessGLKernel } from 'gpu.js'
import { Conv, Layer, Layers, Loss, Optim, Tree, sub } from 'lamina-nn'
import { compile, createGpuBackend } from 'lamina-nn/gpu'
import type { CompiledStep } from 'lamina-nn/gpu'
import { agreementTests, compileFailure, isLogSumExp, longConvCase, unsignedLogSumExp } from './support/compiled-gpu.js'
import { bounds, compileOrThrow, compiled, lossesOutside, maxAbs, outside, transcendentalAllowance, usedOfBound } from './support/compiled.js'
import { unavailableTest } from './support/modes.js'

const mode = 'headlessgl'

/** Why headlessgl does not start here (the GPU.js backend's own probe), or undefined when it does. */
const unavailable = await (async (): Promise<string | undefined> => {
  const probe = await createGpuBackend({ mode, strict: true })
  probe.dispose()
  return probe.mode === 'none' ? (probe.fallbackReason ?? 'no reason given') : undefined
})()

/** The GL modes' extra per-step allowance, in units of u (see the module comment). */
const glAllowance = transcendentalAllowance

const expectHeadlessGl = (step: CompiledStep<unknown, { readonly step: number }>): void => {
  expect(step.mode).toBe(mode)
  expect(step.backend).toBe(mode)
  expect(step.executorKind).toBe('generic')
  // GPU.js's reason for not fusing a GL plan (its fused executors are webasm's and webgpu's)
  expect(step.fallbackReason).toEqual(expect.any(String))
}

if (unavailable !== undefined) {
  describe(`compile on ${mode}`, () => unavailableTest({ mode, reason: unavailable, log: 'compiled.gl' }))
} else {
  describe(`compile on ${mode}: the generic executor equals the eager interpreter`, () => {
    agreementTests({
      mode,
      cases: [
        { spec: { input: 20, hidden: [16], classes: 5, activation: 'relu' }, batch: 8, calls: 3, steps: 4, bias: 2, scale: 0.25 },
        { spec: { input: 64, hidden: [32], classes: 10, activation: 'relu' }, batch: 32, calls: 2, steps: 3, bias: 3, scale: 0.25 }
      ],
      allowance: glAllowance,
      ran: expectHeadlessGl,
      bound: 'GL',
      plain: 'webasm',
      log: 'compiled.gl'
    })
  })

  describe(`compile on ${mode}: llvmpipe's loop limit`, () => {
    it("a conv bias gradient summing batch × positions = 76,880 terms (past llvmpipe's 65,535 loop trips, so unrolled by 8): 2 steps give the eager parameters within the GL bound", async () => {
      const { k, classes, model, optimizer, params, data, reference, options } = longConvCase()
      const extra = glAllowance(reference.records, classes)
      const step = await compileOrThrow(model, Loss.crossEntropyWithLogits, optimizer, { ...options, mode })
      try {
        expectHeadlessGl(step)
        const got = await compiled(step, params, optimizer.init(params), data)
        expectHeadlessGl(step)
        expect(lossesOutside(got.losses, reference.records, k, extra)).toEqual([])
        const limits = bounds(k, reference.records, reference.params, undefined, extra)
        expect(outside(got.params, reference.params, limits)).toEqual([])
        // the conv bias (leaf 1) moved: a truncated sum would have moved it less
        const initial = Tree.flatten(params).leaves
        expect(maxAbs(sub(got.params[1]!, initial[1]!))).toBeGreaterThan(1e-3)
        console.info(`compiled.gl: conv, k = ${k}: parameters use ${usedOfBound(got.params, reference.params, limits).toExponential(2)} of the GL bound`)
      } finally {
        await step.dispose()()
      }
    })
  })

  describe(`compile on ${mode}: a degraded run is a backend error`, () => {
    // one kernel in the middle of the plan degrades (the loss's logsumexp, the one with Math.log):
    // GPU.js's own backend report looks at the first kernel only, and would say 'gpu' for both

    it("a kernel that falls back to GPU.js's cpu mode fails with reason backend, naming cpu", async () => {
      // GPU.js's own degradation path (requestFallback, taken for an argument type GL cannot read)
      type Kernel = { setupArguments(args: unknown): unknown; requestFallback(args: unknown, reason: string): unknown; readonly source: string }
      const proto = HeadlessGLKernel.prototype as unknown as Kernel
      const setupArguments = proto.setupArguments
      const e = await compileFailure(
        mode,
        vi.spyOn(proto, 'setupArguments').mockImplementation(function (this: Kernel, args: unknown) {
          return isLogSumExp(this.source) ? this.requestFallback(args, 'forced by the test') : setupArguments.call(this, args)
        })
      )
      expect(e.reason).toBe('backend')
      expect(e.message).toContain("GPU.js ran the plan on 'headlessgl+cpu' instead of 'headlessgl'")
    })

    it("a kernel in 'unsigned' (8-bit packed) precision fails with reason backend, naming the precision", async () => {
      const e = await compileFailure(mode, unsignedLogSumExp())
      expect(e.reason).toBe('backend')
      expect(e.message).toContain("GPU.js ran the plan on 'headlessgl (precision unsigned)' instead of 'headlessgl'")
    })
  })
}

describe('compile on the GL modes: a kernel whose loops llvmpipe would cut short is a typed error', () => {
  it('a conv bias gradient over batch × positions = 614,656 terms (over 65,535 trips even unrolled by 8): reason backend, naming the node', async () => {
    // thrown before GPU.js is involved, so it holds wherever headlessgl is missing too
    const [batch, side] = [64, 100]
    const sequential = Layer.sequential as unknown as (...ls: readonly Layer.AnyLayer[]) => Layer.AnyLayer
    const model = sequential(Layers.reshape([1, side, side]), Conv.conv2d(1, 1, 3), Layers.flatten(), Layers.dense((side - 2) ** 2, 2))
    const result = await compile(model, Loss.crossEntropyWithLogits, Optim.sgd() as Optim.Optimizer<{ readonly step: number }>, { batch, steps: 1, mode, inputShape: [side * side] })()
    if (result._tag === 'Right') {
      await result.right.dispose()()
      throw new Error('expected compile to fail')
    }
    expect(result.left.reason).toBe('backend')
    const trips = /^compile: the kernel of node \d+ \(\w+, shape \[1\]\) loops (\d+) times per element; on 'headlessgl'/.exec(result.left.message)
    expect(result.left.message).toMatch(/use a smaller batch/)
    // the sum takes 8 terms per trip (at most 7 left over per row, plus the outer loop's own trips), and that is still past the limit
    expect(Number(trips?.[1])).toBeGreaterThan(65_535)
    expect(Number(trips?.[1])).toBeLessThanOrEqual((batch * (side - 2) ** 2) / 8 + 8 * batch)
  })
})
