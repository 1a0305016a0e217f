/**
 * What `test/compiled.gl.test.ts` (headlessgl) and `test/compiled.webgpu.test.ts` (webgpu) share:
 * the MLP cases, the compiled step against the eager float64 interpreter of
 * `test/support/compiled.ts` within τ widened by the mode's allowance for its transcendental
 * functions (each file derives its own), and the failing compile its degradation tests force.
 * Apart from `compiled.ts` because that module is also bundled into bench/gpu.ts, and this one
 * uses vitest.
 */
import { expect, it, vi } from 'vitest'
import { GPU } from 'gpu.js'
import { Conv, Layer, Layers, Loss, Optim, Random, Tree, sub } from 'lamina-nn'
import { compile } from 'lamina-nn/gpu'
import type { CompileError, CompiledMode, CompiledStep } from 'lamina-nn/gpu'
import { U, bounds, build, compileOrThrow, compiled, eager, kinkClearance, longest, lossesOutside, maxAbs, minibatches, outside, tau, usedOfBound, withSplitBiases } from './compiled.js'
import type { EagerRecord, Spec } from './compiled.js'

/** An MLP case of `agreementTests`: `calls` calls of `steps` steps on minibatches of `batch`, the first layer's biases split ±`bias`, inputs scaled by `scale`. */
export interface AgreementCase {
  readonly spec: Spec
  readonly batch: number
  readonly calls: number
  readonly steps: number
  readonly bias: number
  readonly scale: number
}

/** How a GPU mode's file runs the MLP cases: where it must run, and the extra allowance its functions need. */
export interface Agreement {
  readonly mode: CompiledMode
  readonly cases: readonly AgreementCase[]
  /** The mode's extra per-step allowance for the elementwise ops, in units of u (its file derives it). */
  readonly allowance: (records: readonly EagerRecord[], classes: number) => number
  /** Asserts where the step runs (called after compile and again after the run). */
  readonly ran: (step: CompiledStep<unknown, { readonly step: number }>) => void
  /** The widened bound's name in the tests' names and the log (`'GL'`, `'WGSL'`). */
  readonly bound: string
  /** The unwidened τ's name in the log (`'webasm'`, `'libm'`). */
  readonly plain: string
  /** The file, as its log lines name it (`'compiled.gl'`). */
  readonly log: string
}

/**
 * Registers, per case and optimizer (SGD with lr 0.1, Adam with lr 0.01), the test that the
 * compiled step on `mode` gives the eager float64 interpreter's losses and parameters within
 * τ widened by the mode's allowance, with the ReLUs kept off their kink by that τ, on a step that
 * runs where `ran` says, and that the parameters moved. How much of the bound was used is logged.
 */
export const agreementTests = ({ mode, cases, allowance, ran, bound, plain, log }: Agreement): void => {
  const optimizers = [
    ['SGD', (lr: number) => Optim.sgd({ lr }), 0.1],
    ['Adam', (lr: number) => Optim.adam({ lr }), 0.01]
  ] as const
  for (const { spec, batch, calls, steps, bias, scale } of cases) {
    for (const [name, make, baseLr] of optimizers) {
      const shape = [spec.input, ...spec.hidden, spec.classes].join('-')
      // Adam's steps are lr-sized whatever the gradient: a smaller lr for a wide model (input over 100) keeps its pre-activations off the kink
      const lr = spec.input > 100 && name === 'Adam' ? baseLr / 10 : baseLr
      const adam = name === 'Adam' ? { lr, beta2: 0.999, eps: 1e-8 } : undefined
      it(`MLP ${shape}, ReLU, softmax cross-entropy, ${name}, batch ${batch}: ${calls} calls × ${steps} steps give the eager parameters and losses within the ${bound} bound`, async () => {
        const built = build(spec)
        const optimizer = make(lr) as Optim.Optimizer<{ readonly step: number }>
        const params = withSplitBiases(built.model.init(Random.key(11), 'f32'), bias)
        const data = minibatches(5, calls * steps, batch, spec.input, spec.classes, scale)
        const reference = eager(built.model, optimizer, params, data)
        const k = longest(spec, batch)
        const extra = allowance(reference.records, spec.classes)
        expect(kinkClearance(built, spec, reference.records, data, tau(k, calls * steps, extra))).toBeGreaterThan(0)
        const step = await compileOrThrow(built.model, Loss.crossEntropyWithLogits, optimizer, { batch, steps, mode })
        try {
          ran(step)
          const got = await compiled(step, params, optimizer.init(params), data)
          ran(step)
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
            `${log}: ${shape} ${name}: g = ${extra.toFixed(1)} (k + 4 = ${k + 4}); parameters use ${usedOfBound(got.params, reference.params, limits).toExponential(2)} of the ${bound} bound ` +
              `(${usedOfBound(got.params, reference.params, plainLimits).toExponential(2)} of the ${plain} τ); largest relative loss error ${(lossError / U).toFixed(1)}u`
          )
        } finally {
          await step.dispose()()
        }
      })
    }
  }
}

// ---- a long reduction ----

/**
 * A conv model whose bias gradient sums batch × positions = 20 × 62² = 76,880 terms (past the
 * 65,535 loop trips after which llvmpipe and lavapipe end a shader's loop without a word), with
 * its minibatches and the eager reference of 2 SGD steps. No activation: it is about the long
 * reduction, not about a kink. `k` is the longest reduction (the conv's bias gradient, and its
 * weight gradient's inner dimension); `options` are compile's, less the mode.
 */
export const longConvCase = () => {
  const [batch, side, channels, classes] = [20, 64, 2, 4]
  const positions = (side - 2) ** 2
  const sequential = Layer.sequential as unknown as (...ls: readonly Layer.AnyLayer[]) => Layer.AnyLayer
  const model = sequential(Layers.reshape([1, side, side]), Conv.conv2d(1, channels, 3), Layers.flatten(), Layers.dense(channels * positions, classes))
  const optimizer = Optim.sgd({ lr: 0.1 }) as Optim.Optimizer<{ readonly step: number }>
  const params = model.init(Random.key(4), 'f32')
  const data = minibatches(8, 2, batch, side * side, classes, 0.5)
  const reference = eager(model, optimizer, params, data)
  return { k: batch * positions, classes, model, optimizer, params, data, reference, options: { batch, steps: 2, inputShape: [side * side], classes } }
}

// ---- degradations ----

/** compile's error on a small MLP on `mode` while `spies` are in place (restored afterwards); compile must fail. */
export const compileFailure = async (mode: CompiledMode, ...spies: { mockRestore(): void }[]): Promise<CompileError> => {
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

/** Whether a kernel's source is the loss's logsumexp (the one with Math.log): a kernel in the middle of the plan. */
export const isLogSumExp = (source: string): boolean => source.includes('Math.log(')

/** GPU.js's createKernel, asking 'unsigned' (8-bit packed) precision for the logsumexp kernel only (restore the spy when done). */
export const unsignedLogSumExp = () => {
  const createKernel = GPU.prototype.createKernel
  return vi.spyOn(GPU.prototype, 'createKernel').mockImplementation(function (this: GPU, source: unknown, settings?: object) {
    return createKernel.call(this, source as Parameters<typeof createKernel>[0], isLogSumExp(String(source)) ? { ...settings, precision: 'unsigned' } : settings)
  } as typeof createKernel)
}
