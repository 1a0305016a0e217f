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
import { GPU, HeadlessGLKernel } from 'gpu.js'
import { Conv, Layer, Layers, Loss, Optim, Random, Tree, sub } from 'lamina'
import { compile, createGpuBackend } from 'lamina/gpu'
import type { CompiledStep } from 'lamina/gpu'
import { U, bounds, build, compileOrThrow, compiled, eager, kinkClearance, longest, lossesOutside, maxAbs, minibatches, outside, tau, withSplitBiases } from './support/compiled.js'
import type { EagerRecord, Spec } from './support/compiled.js'

const mode = 'headlessgl'
const required = new Set((process.env['LAMINA_GPU_MODES_REQUIRED'] ?? '').split(',').filter((m) => m !== ''))

/** Why headlessgl does not start here (the GPU.js backend's own probe), or undefined when it does. */
const unavailable = await (async (): Promise<string | undefined> => {
  const probe = await createGpuBackend({ mode, strict: true })
  probe.dispose()
  return probe.mode === 'none' ? (probe.fallbackReason ?? 'no reason given') : undefined
})()

/** The GL modes' extra per-step allowance, in units of u (see the module comment). */
const glAllowance = (records: readonly EagerRecord[], classes: number): number => {
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

const expectHeadlessGl = (step: CompiledStep<unknown, { readonly step: number }>): void => {
  expect(step.mode).toBe(mode)
  expect(step.backend).toBe(mode)
  expect(step.executorKind).toBe('generic')
  // GPU.js's reason for not fusing a GL plan (its fused executors are webasm's and webgpu's)
  expect(step.fallbackReason).toEqual(expect.any(String))
}

if (unavailable !== undefined) {
  describe(`compile on ${mode}`, () => {
    if (required.has(mode)) {
      it(`${mode} is required here (LAMINA_GPU_MODES_REQUIRED) and must start`, () => {
        throw new Error(`${mode} did not start: ${unavailable}`)
      })
    } else {
      console.warn(`compiled.gl: ${mode} is skipped: ${unavailable}`)
      it.skip(`${mode} is unavailable here: ${unavailable}`, () => {})
    }
  })
} else {
  describe(`compile on ${mode}: the generic executor equals the eager interpreter`, () => {
    const cases: readonly { readonly spec: Spec; readonly batch: number; readonly calls: number; readonly steps: number; readonly bias: number; readonly scale: number }[] = [
      { spec: { input: 20, hidden: [16], classes: 5, activation: 'relu' }, batch: 8, calls: 3, steps: 4, bias: 2, scale: 0.25 },
      { spec: { input: 64, hidden: [32], classes: 10, activation: 'relu' }, batch: 32, calls: 2, steps: 3, bias: 3, scale: 0.25 }
    ]
    const optimizers = [
      ['SGD', () => Optim.sgd({ lr: 0.1 }), undefined],
      ['Adam', () => Optim.adam({ lr: 0.01 }), { lr: 0.01, beta2: 0.999, eps: 1e-8 }]
    ] as const
    for (const { spec, batch, calls, steps, bias, scale } of cases) {
      for (const [name, make, adam] of optimizers) {
        const shape = [spec.input, ...spec.hidden, spec.classes].join('-')
        it(`MLP ${shape}, ReLU, softmax cross-entropy, ${name}, batch ${batch}: ${calls} calls × ${steps} steps give the eager parameters and losses within the GL bound`, async () => {
          const built = build(spec)
          const optimizer = make() as Optim.Optimizer<{ readonly step: number }>
          const params = withSplitBiases(built.model.init(Random.key(11), 'f32'), bias)
          const data = minibatches(5, calls * steps, batch, spec.input, spec.classes, scale)
          const reference = eager(built.model, optimizer, params, data)
          const k = longest(spec, batch)
          const extra = glAllowance(reference.records, spec.classes)
          expect(kinkClearance(built, spec, reference.records, data, tau(k, calls * steps, extra))).toBeGreaterThan(0)
          const step = await compileOrThrow(built.model, Loss.crossEntropyWithLogits, optimizer, { batch, steps, mode })
          try {
            expectHeadlessGl(step)
            const got = await compiled(step, params, optimizer.init(params), data)
            expectHeadlessGl(step)
            expect(got.optimizerState.step).toBe(calls * steps)
            expect(lossesOutside(got.losses, reference.records, k, extra)).toEqual([])
            const limits = bounds(k, reference.records, reference.params, adam, extra)
            expect(outside(got.params, reference.params, limits)).toEqual([])
            // the parameters moved: the comparison is not between two untouched copies
            const initial = Tree.flatten(params).leaves
            expect(got.params.some((leaf, i) => maxAbs(sub(leaf, initial[i]!)) > 1e-3)).toBe(true)
            const webasmLimits = bounds(k, reference.records, reference.params, adam)
            const lossError = Math.max(...got.losses.map((l, s) => Math.abs(l - reference.records[s]!.loss) / Math.max(1, Math.abs(reference.records[s]!.loss))))
            console.info(
              `compiled.gl: ${shape} ${name}: g = ${extra.toFixed(1)} (k + 4 = ${k + 4}); parameters use ${usedOfBound(got.params, reference.params, limits).toExponential(2)} of the GL bound ` +
                `(${usedOfBound(got.params, reference.params, webasmLimits).toExponential(2)} of the webasm τ); largest relative loss error ${(lossError / U).toFixed(1)}u`
            )
          } finally {
            await step.dispose()()
          }
        })
      }
    }
  })

  describe(`compile on ${mode}: llvmpipe's loop limit`, () => {
    it("a conv bias gradient summing batch × positions = 76,880 terms (past llvmpipe's 65,535 loop trips, so unrolled by 8): 2 steps give the eager parameters within the GL bound", async () => {
      // no activation: the test is about the long reduction, not about a kink
      const [batch, side, channels, classes] = [20, 64, 2, 4]
      const positions = (side - 2) ** 2
      const sequential = Layer.sequential as unknown as (...ls: readonly Layer.AnyLayer[]) => Layer.AnyLayer
      const model = sequential(Layers.reshape([1, side, side]), Conv.conv2d(1, channels, 3), Layers.flatten(), Layers.dense(channels * positions, classes))
      const optimizer = Optim.sgd({ lr: 0.1 }) as Optim.Optimizer<{ readonly step: number }>
      const params = model.init(Random.key(4), 'f32')
      const data = minibatches(8, 2, batch, side * side, classes, 0.5)
      const reference = eager(model, optimizer, params, data)
      // the longest reduction: the conv's bias gradient (and its weight gradient's inner dimension)
      const k = batch * positions
      const extra = glAllowance(reference.records, classes)
      const step = await compileOrThrow(model, Loss.crossEntropyWithLogits, optimizer, { batch, steps: 2, mode, inputShape: [side * side], classes })
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

    /** compile's error on a small MLP while `spy` is in place (restored afterwards). */
    const failure = async (spy: { mockRestore(): void }) => {
      try {
        const sgd = Optim.sgd({ lr: 0.1 }) as Optim.Optimizer<{ readonly step: number }>
        const result = await compile(build({ input: 6, hidden: [5], classes: 3, activation: 'relu' }).model, Loss.crossEntropyWithLogits, sgd, { batch: 4, steps: 2, mode })()
        if (result._tag === 'Right') {
          const ran = result.right.backend
          await result.right.dispose()()
          throw new Error(`expected compile to fail, it ran on '${ran}'`)
        }
        return result.left
      } finally {
        spy.mockRestore()
      }
    }
    const isLogSumExp = (source: string): boolean => source.includes('Math.log(')

    it("a kernel that falls back to GPU.js's cpu mode fails with reason backend, naming cpu", async () => {
      // GPU.js's own degradation path (requestFallback, taken for an argument type GL cannot read)
      type Kernel = { setupArguments(args: unknown): unknown; requestFallback(args: unknown, reason: string): unknown; readonly source: string }
      const proto = HeadlessGLKernel.prototype as unknown as Kernel
      const setupArguments = proto.setupArguments
      const e = await failure(
        vi.spyOn(proto, 'setupArguments').mockImplementation(function (this: Kernel, args: unknown) {
          return isLogSumExp(this.source) ? this.requestFallback(args, 'forced by the test') : setupArguments.call(this, args)
        })
      )
      expect(e.reason).toBe('backend')
      expect(e.message).toContain("GPU.js ran the plan on 'headlessgl+cpu' instead of 'headlessgl'")
    })

    it("a kernel in 'unsigned' (8-bit packed) precision fails with reason backend, naming the precision", async () => {
      const createKernel = GPU.prototype.createKernel
      const e = await failure(
        vi.spyOn(GPU.prototype, 'createKernel').mockImplementation(function (this: GPU, source: unknown, settings?: object) {
          return createKernel.call(this, source as Parameters<typeof createKernel>[0], isLogSumExp(String(source)) ? { ...settings, precision: 'unsigned' } : settings)
        } as typeof createKernel)
      )
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
