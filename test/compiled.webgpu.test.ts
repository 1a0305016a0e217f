/**
 * The compiled step on GPU.js's `webgpu` mode: in Node, Dawn (the `webgpu` package, installed
 * as `navigator.gpu` by `installWebGpu` from `lamina/node`), on Mesa's software Vulkan
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
import { GPU } from 'gpu.js'
import { Conv, Layer, Layers, Loss, Optim, Random, Tree, sub } from 'lamina'
import { compile, createGpuKernelsAsync } from 'lamina/gpu'
import type { CompiledStep } from 'lamina/gpu'
import { installWebGpu } from 'lamina/node'
import { U, bounds, build, compileOrThrow, compiled, eager, kinkClearance, longest, lossesOutside, maxAbs, minibatches, outside, tau, withSplitBiases } from './support/compiled.js'
import type { EagerRecord, Spec } from './support/compiled.js'

const mode = 'webgpu'
const required = new Set((process.env['LAMINA_GPU_MODES_REQUIRED'] ?? '').split(',').filter((m) => m !== ''))

/** Why webgpu does not start here (Dawn's adapter, then GPU.js's own probe kernel), or undefined when it does. */
const unavailable = await (async (): Promise<string | undefined> => {
  const installed = await installWebGpu()()
  if (installed._tag === 'Left') return installed.left.message
  try {
    ;(await createGpuKernelsAsync({ mode, strict: true })).dispose()
    return undefined
  } catch (e) {
    return e instanceof Error ? e.message : String(e)
  }
})()

/** WGSL's extra per-step allowance, in units of u (see the module comment). */
const wgslAllowance = (records: readonly EagerRecord[], classes: number): number => {
  const spread = Math.max(...records.map((r) => r.spread))
  return 4 * (3 + 2 * spread) + 8 + 6 * Math.log(classes) + 14
}

/** The largest |compiled − eager| ÷ bound over all entries: how much of the bound was used (reported, not asserted). */
const usedOfBound = (got: readonly { data: ArrayLike<number> }[], want: readonly { data: ArrayLike<number> }[], limits: readonly Float64Array[]): number => {
  let worst = 0
  got.forEach((leaf, i) => {
    for (let j = 0; j < leaf.data.length; j++) worst = Math.max(worst, Math.abs(leaf.data[j]! - want[i]!.data[j]!) / limits[i]![j]!)
  })
  return worst
}

const expectWebGpu = (step: CompiledStep<unknown, { readonly step: number }>): void => {
  expect(step.mode).toBe(mode)
  expect(step.backend).toBe(mode)
  expect(step.executorKind).toBe('fused-encoder')
  expect(step.fallbackReason).toBeNull()
}

if (unavailable !== undefined) {
  describe(`compile on ${mode}`, () => {
    if (required.has(mode)) {
      it(`${mode} is required here (LAMINA_GPU_MODES_REQUIRED) and must start`, () => {
        throw new Error(`${mode} did not start: ${unavailable}`)
      })
    } else {
      console.warn(`compiled.webgpu: ${mode} is skipped: ${unavailable}`)
      it.skip(`${mode} is unavailable here: ${unavailable}`, () => {})
    }
  })
} else {
  describe(`compile on ${mode}: the fused-encoder executor equals the eager interpreter`, () => {
    const cases: readonly { readonly spec: Spec; readonly batch: number; readonly calls: number; readonly steps: number; readonly bias: number; readonly scale: number }[] = [
      { spec: { input: 20, hidden: [16], classes: 5, activation: 'relu' }, batch: 8, calls: 3, steps: 4, bias: 2, scale: 0.25 },
      { spec: { input: 64, hidden: [32], classes: 10, activation: 'relu' }, batch: 32, calls: 2, steps: 3, bias: 3, scale: 0.25 },
      // two hidden layers (only ReLU: the allowance covers the loss's and the optimizer's functions, not WGSL's tanh or a sigmoid's exp)
      { spec: { input: 30, hidden: [24, 12], classes: 6, activation: 'relu' }, batch: 16, calls: 2, steps: 2, bias: 2, scale: 0.25 },
      // the real size (k = 784)
      { spec: { input: 784, hidden: [128], classes: 10, activation: 'relu' }, batch: 128, calls: 2, steps: 3, bias: 3, scale: 0.25 }
    ]
    const optimizers = [
      ['SGD', (lr: number) => Optim.sgd({ lr }), 0.1],
      ['Adam', (lr: number) => Optim.adam({ lr }), 0.01]
    ] as const
    for (const { spec, batch, calls, steps, bias, scale } of cases) {
      for (const [name, make, baseLr] of optimizers) {
        const shape = [spec.input, ...spec.hidden, spec.classes].join('-')
        // Adam's steps are lr-sized whatever the gradient: a smaller lr for the wide model keeps its pre-activations off the kink
        const lr = spec.input > 100 && name === 'Adam' ? baseLr / 10 : baseLr
        const adam = name === 'Adam' ? { lr, beta2: 0.999, eps: 1e-8 } : undefined
        it(`MLP ${shape}, ReLU, softmax cross-entropy, ${name}, batch ${batch}: ${calls} calls × ${steps} steps give the eager parameters and losses within the WGSL bound`, async () => {
          const built = build(spec)
          const optimizer = make(lr) as Optim.Optimizer<{ readonly step: number }>
          const params = withSplitBiases(built.model.init(Random.key(11), 'f32'), bias)
          const data = minibatches(5, calls * steps, batch, spec.input, spec.classes, scale)
          const reference = eager(built.model, optimizer, params, data)
          const k = longest(spec, batch)
          const extra = wgslAllowance(reference.records, spec.classes)
          expect(kinkClearance(built, spec, reference.records, data, tau(k, calls * steps, extra))).toBeGreaterThan(0)
          const step = await compileOrThrow(built.model, Loss.crossEntropyWithLogits, optimizer, { batch, steps, mode })
          try {
            expectWebGpu(step)
            const got = await compiled(step, params, optimizer.init(params), data)
            expectWebGpu(step)
            expect(got.optimizerState.step).toBe(calls * steps)
            expect(lossesOutside(got.losses, reference.records, k, extra)).toEqual([])
            const limits = bounds(k, reference.records, reference.params, adam, extra)
            expect(outside(got.params, reference.params, limits)).toEqual([])
            // the parameters moved: the comparison is not between two untouched copies
            const initial = Tree.flatten(params).leaves
            expect(got.params.some((leaf, i) => maxAbs(sub(leaf, initial[i]!)) > 1e-3)).toBe(true)
            const plainLimits = bounds(k, reference.records, reference.params, adam)
            const lossError = Math.max(...got.losses.map((l, s) => Math.abs(l - reference.records[s]!.loss) / Math.max(1, Math.abs(reference.records[s]!.loss))))
            console.info(
              `compiled.webgpu: ${shape} ${name}: g = ${extra.toFixed(1)} (k + 4 = ${k + 4}); parameters use ${usedOfBound(got.params, reference.params, limits).toExponential(2)} of the WGSL bound ` +
                `(${usedOfBound(got.params, reference.params, plainLimits).toExponential(2)} of the libm τ); largest relative loss error ${(lossError / U).toFixed(1)}u`
            )
          } finally {
            await step.dispose()()
          }
        })
      }
    }
  })

  describe(`compile on ${mode}: lavapipe's loop limit`, () => {
    // lavapipe, like llvmpipe, ends a shader's loops after 65,535 trips in all without a word
    // (measured: a 70,000-trip sum returns the first 65,535 terms). The conv bias gradient below
    // sums 76,880 terms; on a software adapter compile unrolls reductions (8 elements per trip) as
    // on GL, so the sum is whole. Before that it came back truncated (the bias leaf ≈ 10× off).
    const [batch, side, channels, classes] = [20, 64, 2, 4]
    const positions = (side - 2) ** 2
    /** One compile and run, shared by the two tests below. */
    let run: Promise<{ got: Awaited<ReturnType<typeof compiled>>; reference: ReturnType<typeof eager>; extra: number }> | undefined
    const convRun = () =>
      (run ??= (async () => {
        const sequential = Layer.sequential as unknown as (...ls: readonly Layer.AnyLayer[]) => Layer.AnyLayer
        const model = sequential(Layers.reshape([1, side, side]), Conv.conv2d(1, channels, 3), Layers.flatten(), Layers.dense(channels * positions, classes))
        const optimizer = Optim.sgd({ lr: 0.1 }) as Optim.Optimizer<{ readonly step: number }>
        const params = model.init(Random.key(4), 'f32')
        const data = minibatches(8, 2, batch, side * side, classes, 0.5)
        const reference = eager(model, optimizer, params, data)
        const step = await compileOrThrow(model, Loss.crossEntropyWithLogits, optimizer, { batch, steps: 2, mode, inputShape: [side * side], classes })
        try {
          expectWebGpu(step)
          const got = await compiled(step, params, optimizer.init(params), data)
          expectWebGpu(step)
          return { got, reference, extra: wgslAllowance(reference.records, classes) }
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
      const { got, reference, extra } = await convRun()
      // the longest reduction: the conv's bias gradient (and its weight gradient's inner dimension)
      const k = batch * positions
      expect(lossesOutside(got.losses, reference.records, k, extra)).toEqual([])
      expect(outside(got.params, reference.params, bounds(k, reference.records, reference.params, undefined, extra))).toEqual([])
    })
  })

  describe(`compile on ${mode}: a degraded run is a backend error`, () => {
    // one kernel in the middle of the plan (the loss's logsumexp, the one with Math.log), or every one

    /** compile's error on a small MLP while `spy` is in place (restored afterwards). */
    const failure = async (...spies: { mockRestore(): void }[]) => {
      try {
        const sgd = Optim.sgd({ lr: 0.1 }) as Optim.Optimizer<{ readonly step: number }>
        const result = await compile(build({ input: 6, hidden: [5], classes: 3, activation: 'relu' }).model, Loss.crossEntropyWithLogits, sgd, { batch: 4, steps: 2, mode })()
        if (result._tag === 'Right') {
          const ran = `${result.right.backend} (${result.right.executorKind})`
          await result.right.dispose()()
          throw new Error(`expected compile to fail, it ran on ${ran}`)
        }
        return result.left
      } finally {
        for (const s of spies) s.mockRestore()
      }
    }
    const isLogSumExp = (source: string): boolean => source.includes('Math.log(')
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
      const e = await failure(forceCpuFallback(isLogSumExp), quiet())
      expect(e.reason).toBe('backend')
      // GPU.js's cpu kernel cannot read the plan's storage buffers: the run fails, it does not compute elsewhere
      expect(e.message).toMatch(/^compile: /)
    })

    it("every kernel falling back to GPU.js's cpu mode fails with reason backend, naming cpu", async () => {
      const e = await failure(forceCpuFallback(() => true), quiet())
      expect(e.reason).toBe('backend')
      expect(e.message).toContain("GPU.js ran the plan on 'cpu' instead of 'webgpu'")
    })

    it("a kernel in 'unsigned' (8-bit packed) precision fails with reason backend, naming the precision", async () => {
      const createKernel = GPU.prototype.createKernel
      const e = await failure(
        vi.spyOn(GPU.prototype, 'createKernel').mockImplementation(function (this: GPU, source: unknown, settings?: object) {
          return createKernel.call(this, source as Parameters<typeof createKernel>[0], isLogSumExp(String(source)) ? { ...settings, precision: 'unsigned' } : settings)
        } as typeof createKernel)
      )
      expect(e.reason).toBe('backend')
      expect(e.message).toMatch(/precision: 'unsigned'/)
    })
  })
}
