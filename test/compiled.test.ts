/**
 * The compiled interpreter (`compile` from `lamina-nn/gpu`) against the eager one.
 *
 * The reference is the eager interpreter in float64 — `valueAndGrad` of the loss and the same
 * optimizer's `update` — started from the same float32 parameters and fed the same float32
 * minibatches, so every difference is the compiled step's own float32 arithmetic. The bounds:
 *
 * - One step computes products and sums of at most k terms (k the longest reduction: input
 *   width, hidden width or batch). Each has a relative error of at most γ_k ≈ k·u with respect to
 *   the magnitudes of its terms (u = 2⁻²⁴; Higham, *Accuracy and Stability*, §3.1), and the
 *   elementwise ops, the stored parameters and the update add a few u more. Over N steps these
 *   add up: a parameter leaf differs from the reference by at most τ(k, N)·max|leaf| with
 *   τ(k, N) = N·(k + 4)·u, its propagation through later steps being of second order for the
 *   few steps tested. The loss of step s carries the error of the parameters it starts from plus
 *   its own: τ(k, s + 1) relative to max(1, |loss|).
 * - That takes each gradient's error to be within (k + 4)·u of the leaf's scale, which fails
 *   where a gradient's terms cancel: a hidden bias's gradient W₂ᵀ·d with d₀ = −d₁ and W₂'s
 *   entries nearly equal sums terms of 0.45 to 8·10⁻⁴, its float32 error of order k·u·0.45,
 *   while the bias itself is 1.6·10⁻⁴. So the bounds add what each step's gradient error does
 *   to the parameters: the error is at most (k + 4)·u·Ĝ, Ĝ the gradient's magnitude from a
 *   first-order running error analysis of the step (`gradientMagnitudes`: absolute values
 *   propagated through the forward and backward passes, the sum of the absolute values of the
 *   terms at least), and SGD adds η·(k + 4)·u·Ĝₛ per step, momentum the geometric sum of those
 *   through its velocity, Adam's term below uses max(max|gₛ|, Ĝₛ). The losses add
 *   (k + 4)·u·L̂ₛ, what the logits' own errors do to the loss.
 * - Adam divides by √v̂ + ε, which magnifies a gradient error by up to 1/(√v̂ + ε): its bound adds
 *   Σₛ η·3·(k + 4)·u·max(max|gₛ|, Ĝₛ) / (√v̂ₛ + ε) per entry, from the reference's own v̂ (a
 *   coordinate whose gradients are all ≈ 0 is ill-conditioned in any arithmetic and gets a wide
 *   bound).
 * - ReLU's derivative jumps at 0: where a pre-activation lies within rounding of 0 the two
 *   interpreters may take different subgradients, and no float tolerance covers that. Cases are
 *   therefore kept away from the kink (`fc.pre`, or asserted for the fixed cases) by a margin of
 *   8·τ(k, N)·(|a|·|W| + |b|), the rounding bound of the pre-activation with room for the drift.
 *
 * The suite also asserts where the plan ran: backend `'webasm'` and a fused executor, never
 * GPU.js's `cpu` mode (a silent degradation would fail these assertions, and `compile` itself
 * rejects it, see `backendProblem`).
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { Layer, Layers, Loss, Norm, Optim, Prim, Random, Schedule, Tree, astype, fromBuffer, logSoftmax, mean, mul, neg, sub, sum, valueAndGrad } from 'lamina-nn'
import type { Tensor } from 'lamina-nn'
import { compile, CompileError } from 'lamina-nn/gpu'
import { backendProblem } from '../src/compiled/compile.js'
import { stepProgram } from '../src/compiled/program.js'
import { bounds, build, compileOrThrow, compiled, eager, gradientMagnitudes, kinkClearance, longest, lossesOutside, maxAbs, minibatches, outside, tau, withSplitBiases } from './support/compiled.js'
import type { Activation, Spec } from './support/compiled.js'

const fused = ['fused-threaded', 'fused-sync']

// ================================================================ the suites

describe('compile: the compiled step equals the eager interpreter', () => {
  const spec: Spec = { input: 20, hidden: [16], classes: 5, activation: 'relu' }
  const batch = 8
  const calls = 3
  const steps = 4

  for (const [name, make, adam] of [
    ['SGD', () => Optim.sgd({ lr: 0.1 }), undefined],
    ['Adam', () => Optim.adam({ lr: 0.01 }), { lr: 0.01, beta2: 0.999, eps: 1e-8 }]
  ] as const) {
    it(`MLP 20-16-5, ReLU, softmax cross-entropy, ${name}: ${calls} calls × ${steps} steps give the eager parameters and losses within τ(k, N)`, async () => {
      const built = build(spec)
      const optimizer = make() as Optim.Optimizer<{ readonly step: number }>
      const step = await compileOrThrow(built.model, Loss.crossEntropyWithLogits, optimizer, { batch, steps })
      try {
        expect(step.backend).toBe('webasm')
        expect(fused).toContain(step.executorKind)
        expect(step.fallbackReason).toBeNull()
        const params = withSplitBiases(built.model.init(Random.key(11), 'f32'), 2)
        const data = minibatches(5, calls * steps, batch, spec.input, spec.classes, 0.25)
        const reference = eager(built.model, optimizer, params, data)
        const k = longest(spec, batch)
        expect(kinkClearance(built, spec, reference.records, data, tau(k, calls * steps))).toBeGreaterThan(0)
        const got = await compiled(step, params, optimizer.init(params), data)
        expect(got.optimizerState.step).toBe(calls * steps)
        const magnitudes = gradientMagnitudes(built, reference.records, data)
        expect(lossesOutside(got.losses, reference.records, k, 0, magnitudes)).toEqual([])
        expect(outside(got.params, reference.params, bounds(k, reference.records, reference.params, adam, 0, { magnitudes, optimizer: optimizer.description! }))).toEqual([])
        // and the parameters moved: the comparison is not between two untouched copies
        const initial = Tree.flatten(params).leaves
        expect(got.params.some((leaf, i) => maxAbs(sub(leaf, initial[i]!)) > 1e-3)).toBe(true)
      } finally {
        await step.dispose()()
      }
    })
  }

  it('MLP 784-128-10, batch 128 (the real size), SGD and Adam: 2 calls × 3 steps within τ(k, N); the plan runs fused on webasm', async () => {
    // biases of ±3 and inputs of standard deviation 0.25 keep every pre-activation more than 1
    // from ReLU's kink (asserted below)
    const spec784: Spec = { input: 784, hidden: [128], classes: 10, activation: 'relu' }
    const built = build(spec784)
    const params = withSplitBiases(built.model.init(Random.key(3), 'f32'), 3)
    const data = minibatches(7, 6, 128, 784, 10, 0.25)
    const k = longest(spec784, 128)
    for (const [optimizer, adam] of [
      [Optim.sgd({ lr: 0.1 }), undefined],
      [Optim.adam({ lr: 0.001 }), { lr: 0.001, beta2: 0.999, eps: 1e-8 }]
    ] as const) {
      const opt = optimizer as Optim.Optimizer<{ readonly step: number }>
      const step = await compileOrThrow(built.model, Loss.crossEntropyWithLogits, opt, { batch: 128, steps: 3 })
      try {
        expect(step.backend).toBe('webasm')
        expect(fused).toContain(step.executorKind)
        const reference = eager(built.model, opt, params, data)
        expect(kinkClearance(built, spec784, reference.records, data, tau(k, 6))).toBeGreaterThan(0)
        const got = await compiled(step, params, opt.init(params), data)
        expect(step.backend).toBe('webasm')
        const magnitudes = gradientMagnitudes(built, reference.records, data)
        expect(lossesOutside(got.losses, reference.records, k, 0, magnitudes)).toEqual([])
        expect(outside(got.params, reference.params, bounds(k, reference.records, reference.params, adam, 0, { magnitudes, optimizer: opt.description! }))).toEqual([])
      } finally {
        await step.dispose()()
      }
    }
  })

  it('random small architectures, batches, step counts and optimizers agree with the eager interpreter (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          input: fc.integer({ min: 1, max: 10 }),
          hidden: fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 1, maxLength: 2 }),
          classes: fc.integer({ min: 2, max: 6 }),
          activation: fc.constantFrom<Activation>('relu', 'tanh', 'sigmoid'),
          batch: fc.integer({ min: 1, max: 6 }),
          steps: fc.integer({ min: 1, max: 3 }),
          optimizer: fc.constantFrom('sgd', 'momentum', 'adam'),
          seed: fc.nat(1000)
        }),
        async ({ batch, steps, optimizer: kind, seed, ...spec }) => {
          const built = build(spec)
          const optimizer = (kind === 'sgd' ? Optim.sgd({ lr: 0.2 }) : kind === 'momentum' ? Optim.momentum({ lr: 0.1, beta: 0.9 }) : Optim.adam({ lr: 0.02 })) as Optim.Optimizer<{
            readonly step: number
          }>
          const params = built.model.init(Random.key(seed), 'f32')
          const data = minibatches(seed, 2 * steps, batch, spec.input, spec.classes)
          const reference = eager(built.model, optimizer, params, data)
          const k = longest(spec, batch)
          fc.pre(kinkClearance(built, spec, reference.records, data, tau(k, 2 * steps)) > 0)
          const step = await compileOrThrow(built.model, Loss.crossEntropyWithLogits, optimizer, { batch, steps })
          try {
            expect(step.backend).toBe('webasm')
            expect(fused).toContain(step.executorKind)
            const got = await compiled(step, params, optimizer.init(params), data)
            const adam = kind === 'adam' ? { lr: 0.02, beta2: 0.999, eps: 1e-8 } : undefined
            const magnitudes = gradientMagnitudes(built, reference.records, data)
            expect(lossesOutside(got.losses, reference.records, k, 0, magnitudes)).toEqual([])
            expect(outside(got.params, reference.params, bounds(k, reference.records, reference.params, adam, 0, { magnitudes, optimizer: optimizer.description! }))).toEqual([])
          } finally {
            await step.dispose()()
          }
        }
      ),
      { numRuns: 20 }
    )
  })

  it('a learning-rate schedule is read per step from the optimizer state: momentum with exponential decay over 2 calls', async () => {
    const spec2: Spec = { input: 6, hidden: [5], classes: 3, activation: 'tanh' }
    const built = build(spec2)
    const optimizer = Optim.momentum({ lr: Schedule.exponential({ initial: 0.5, decay: 0.5 }), beta: 0.5 }) as Optim.Optimizer<{ readonly step: number }>
    const step = await compileOrThrow(built.model, Loss.crossEntropyWithLogits, optimizer, { batch: 4, steps: 2 })
    try {
      const params = built.model.init(Random.key(2), 'f32')
      const data = minibatches(9, 4, 4, 6, 3)
      const reference = eager(built.model, optimizer, params, data)
      const got = await compiled(step, params, optimizer.init(params), data)
      const magnitudes = gradientMagnitudes(built, reference.records, data)
      expect(lossesOutside(got.losses, reference.records, 6, 0, magnitudes)).toEqual([])
      expect(outside(got.params, reference.params, bounds(longest(spec2, 4), reference.records, reference.params, undefined, 0, { magnitudes, optimizer: optimizer.description! }))).toEqual([])
    } finally {
      await step.dispose()()
    }
  })
})

describe('compile: executors and backends', () => {
  it('threads: false pins the webasm plan to the fused-sync executor', async () => {
    const { model } = build({ input: 64, hidden: [128], classes: 10, activation: 'relu' })
    const step = await compileOrThrow(model, Loss.crossEntropyWithLogits, Optim.sgd({ lr: 0.1 }) as Optim.Optimizer<{ readonly step: number }>, { batch: 64, steps: 2, threads: false })
    try {
      expect(step.executorKind).toBe('fused-sync')
      expect(step.backend).toBe('webasm')
      expect(step.stats.launches).toBe(2 * step.stats.kernelsPerStep)
    } finally {
      await step.dispose()()
    }
  })

  it("GPU.js's cpu mode never counts as running the plan: backendProblem names it", () => {
    expect(backendProblem('webasm', { backend: 'webasm', executorKind: 'fused-threaded', fallbackReason: null })).toBeUndefined()
    expect(backendProblem('gpu', { backend: 'webasm', executorKind: 'fused-sync', fallbackReason: null })).toBeUndefined()
    expect(backendProblem('webasm', { backend: 'cpu', executorKind: 'generic', fallbackReason: 'pipeline backend is cpu; the fused executor requires webasm' })).toBe(
      "compile: GPU.js ran the plan on 'cpu' instead of 'webasm' (executor generic: pipeline backend is cpu; the fused executor requires webasm)"
    )
    expect(backendProblem('gpu', { backend: 'cpu', executorKind: 'generic', fallbackReason: null })).toBe("compile: GPU.js ran the plan on 'cpu' instead of 'gpu' (executor generic)")
    // a GL plan of which one kernel fell back to cpu, or ran in another precision, counts for no mode
    expect(backendProblem('headlessgl', { backend: 'headlessgl', executorKind: 'generic', fallbackReason: null })).toBeUndefined()
    expect(backendProblem('gpu', { backend: 'headlessgl', executorKind: 'generic', fallbackReason: null })).toBeUndefined()
    expect(backendProblem('gpu', { backend: 'headlessgl+cpu', executorKind: 'generic', fallbackReason: null })).toBe("compile: GPU.js ran the plan on 'headlessgl+cpu' instead of 'gpu' (executor generic)")
    expect(backendProblem('gpu', { backend: 'headlessgl (precision unsigned)', executorKind: 'generic', fallbackReason: null })).toBeDefined()
  })

  it('a mode GPU.js cannot start here is a backend error naming it', async () => {
    const { model } = build({ input: 3, hidden: [4], classes: 2, activation: 'relu' })
    const result = await compile(model, Loss.crossEntropyWithLogits, Optim.sgd() as Optim.Optimizer<{ readonly step: number }>, { batch: 2, steps: 1, mode: 'webgl2' })()
    if (result._tag === 'Right') {
      // a machine with WebGL2 runs it: then it must really have run there
      expect(result.right.backend).toBe('webgl2')
      await result.right.dispose()()
      return
    }
    expect(result.left).toBeInstanceOf(CompileError)
    expect(result.left.reason).toBe('backend')
    expect(result.left.message).toContain("'webgl2'")
  })
})

describe('compile: what it cannot compile is a typed error naming it', () => {
  const sgd = Optim.sgd({ lr: 0.1 }) as Optim.Optimizer<{ readonly step: number }>
  const failure = async (
    model: Layer.AnyLayer,
    ...rest: Parameters<typeof compile<unknown, unknown, { readonly step: number }>> extends [unknown, ...infer R] ? R : never
  ): Promise<CompileError> => {
    const result = await compile(model, ...rest)()
    if (result._tag === 'Right') {
      await result.right.dispose()()
      throw new Error('expected compile to fail')
    }
    return result.left
  }

  it('a primitive without a lowering: unsupported-primitive, naming it', async () => {
    const frobnicate: Layer.AnyLayer = {
      kind: 'frobnicate',
      inShape: undefined,
      outputShape: (s) => s,
      init: () => ({}),
      initState: () => ({}),
      forward: (_p, x, { state }) => ({ y: Prim.bind('frobnicate' as Prim.Prim, [x], {} as never), state })
    }
    const model = Layer.sequential(Layers.dense(3, 4), frobnicate, Layers.dense(4, 2))
    const e = await failure(model, Loss.crossEntropyWithLogits, sgd, { batch: 2, steps: 1 })
    expect(e.reason).toBe('unsupported-primitive')
    expect(e.message).toContain("'frobnicate'")
  })

  it('dropout draws a mask on the host: value-dependent, naming the primitive that uses it', async () => {
    const model = Layer.sequential(Layers.dense(3, 4), Layers.dropout(0.5), Layers.dense(4, 2))
    const e = await failure(model, Loss.crossEntropyWithLogits, sgd, { batch: 4, steps: 1 })
    expect(e.reason).toBe('value-dependent')
    expect(e.message).toMatch(/^compile: mul \(node \d+\) uses a constant of shape \[4,4\] computed from the values of the step/)
  })

  it('an optimizer without a description (withClipping): unsupported-optimizer', async () => {
    const clipped = Optim.withClipping(Optim.sgd(), (g) => Optim.clipByValue(g, 1)) as Optim.Optimizer<{ readonly step: number }>
    const { model } = build({ input: 3, hidden: [4], classes: 2, activation: 'relu' })
    const e = await failure(model, Loss.crossEntropyWithLogits, clipped, { batch: 2, steps: 1 })
    expect(e.reason).toBe('unsupported-optimizer')
    expect(e.message).toContain('Optim.withClipping')
  })

  it('layer state (batch norm): unsupported-model', async () => {
    const model = Layer.sequential(Layers.dense(3, 4), Norm.batchNorm(4), Layers.dense(4, 2))
    const e = await failure(model, Loss.crossEntropyWithLogits, sgd, { batch: 2, steps: 1 })
    expect(e.reason).toBe('unsupported-model')
    expect(e.message).toContain('layer state')
  })

  it('bad options, inputs and use after dispose: input and disposed errors', async () => {
    const { model } = build({ input: 3, hidden: [4], classes: 2, activation: 'relu' })
    expect((await failure(model, Loss.crossEntropyWithLogits, sgd, { batch: 0, steps: 1 })).message).toBe('compile: batch must be a positive integer, got 0')
    const step = await compileOrThrow(model, Loss.crossEntropyWithLogits, sgd, { batch: 2, steps: 2 })
    const params = model.init(Random.key(0), 'f32')
    const state = { params, optimizerState: sgd.init(params) }
    const x = fromBuffer(new Float32Array(12), [2, 2, 3], { dtype: 'f32' })
    const wrongShape = await step.run(state, { x: fromBuffer(new Float32Array(12), [2, 6], { dtype: 'f32' }), labels: [0, 1, 0, 1] })()
    expect(wrongShape._tag === 'Left' && wrongShape.left.message).toBe('compile: batches.x has shape [2,6], expected [2,2,3]')
    const badLabel = await step.run(state, { x, labels: [0, 1, 2, 1] })()
    expect(badLabel._tag === 'Left' && badLabel.left.message).toBe('compile: label 2 at index 2 is not a class index in 0 … 1')
    await step.dispose()()
    const after = await step.run(state, { x, labels: [0, 1, 0, 1] })()
    expect(after._tag === 'Left' && after.left.reason).toBe('disposed')
  })
})

describe('compile: the labels are an input of the step, and what the loss computes from them is primitives', () => {
  const sgd = Optim.sgd({ lr: 0.2 }) as Optim.Optimizer<{ readonly step: number }>
  const model = Layer.sequential(Layers.dense(3, 4), Layers.tanh(), Layers.dense(4, 3)) as unknown as Layer.AnyLayer
  const binaryModel = Layer.sequential(Layers.dense(3, 4), Layers.tanh(), Layers.dense(4, 1)) as unknown as Layer.AnyLayer

  it('the program reads a [batch] labels input; the one-hot mask is a compare of it and every node is a primitive of the table', () => {
    const program = stepProgram(model, Loss.crossEntropyWithLogits, sgd, { batch: 4, inputShape: [3], classes: 3 })
    const labels = program.nodes.flatMap((n, k) => (n.op === 'input' && n.role.kind === 'labels' ? [k] : []))
    expect(labels).toHaveLength(1)
    expect(program.nodes[labels[0]!]!.shape).toEqual([4])
    const primitives = new Set(Object.keys(Prim.rules))
    expect(program.nodes.filter((n) => n.op !== 'input' && !primitives.has(n.op)).map((n) => n.op)).toEqual([])
    // a compare [4, 3] whose argument is the labels input, viewed [4, 1] and stretched to [4, 3]
    const readsLabels = (k: number): boolean => {
      const n = program.nodes[k]!
      if (k === labels[0]) return true
      return (n.op === 'reshape' || n.op === 'broadcast') && n.args[0]?.tag === 'node' && readsLabels(n.args[0].index)
    }
    const masks = program.nodes.filter((n) => n.op === 'compare' && n.args.some((a) => a.tag === 'node' && readsLabels(a.index)))
    expect(masks.map((n) => n.shape)).toEqual([[4, 3]])
  })

  /** The eager interpreter in float64 on the same float32 parameters and minibatches, under `loss`, with SGD. */
  const eagerSgd = (net: Layer.AnyLayer, loss: (z: Tensor, labels: Int32Array) => Tensor, params32: unknown, batches: readonly { x: Tensor; labels: Int32Array }[]) => {
    let params = Tree.map(params32, (l) => astype(l, 'f64'))
    let state = sgd.init(params)
    const losses: number[] = []
    for (const { x, labels } of batches) {
      const [value, grads] = valueAndGrad((p: typeof params) => loss(net.forward(p, astype(x, 'f64'), { training: true, state: net.initState() }).y, labels))(params)
      ;[params, state] = sgd.update(grads, state, params)
      losses.push(value.item())
    }
    return { losses, params: Tree.flatten(params).leaves }
  }

  const withLogSoftmax = Layer.sequential(Layers.dense(3, 4), Layers.tanh(), Layers.dense(4, 3), Layers.logSoftmax()) as unknown as Layer.AnyLayer
  const throughOneHot = (z: Tensor, labels: Int32Array): Tensor => neg(mean(sum(mul(Loss.oneHot(labels, 3, { dtype: z.dtype }), logSoftmax(z)), 1)))
  for (const [name, net, loss, classes] of [
    ['binary cross-entropy on logits of a [batch, 1] output, labels 0/1 as its targets', binaryModel, Loss.binaryCrossEntropyWithLogits, 2],
    ['a loss written with Loss.oneHot and logSoftmax', model, throughOneHot, 3],
    ['a model ending in Layers.logSoftmax() under Loss.nll', withLogSoftmax, Loss.nll, 3]
  ] as const) {
    it(`${name}: 2 calls × 2 steps give the eager float64 losses and parameters within τ(k, N)`, async () => {
      const step = await compileOrThrow(net, loss as (z: Tensor, labels: Int32Array) => Tensor, sgd, { batch: 4, steps: 2, classes })
      try {
        const params = net.init(Random.key(5), 'f32')
        const data = minibatches(3, 4, 4, 3, classes)
        const reference = eagerSgd(net, loss as (z: Tensor, labels: Int32Array) => Tensor, params, data)
        const got = await compiled(step, params, sgd.init(params), data)
        // τ(k, N) of the file's header, k = 4 (hidden width and batch), N = 4 steps; tanh has no kink to straddle
        const limit = tau(4, 4)
        got.losses.forEach((l, s) => expect(Math.abs(l - reference.losses[s]!)).toBeLessThanOrEqual(limit * Math.max(1, Math.abs(reference.losses[s]!))))
        got.params.forEach((leaf, i) => expect(maxAbs(sub(astype(leaf, 'f64'), reference.params[i]!))).toBeLessThanOrEqual(limit * Math.max(1, maxAbs(reference.params[i]!))))
        // the labels mattered: the loss of the first step is not that of other labels
        const flipped = data.map((b) => ({ x: b.x, labels: b.labels.map((c) => (c + 1) % classes) }))
        expect(Math.abs(eagerSgd(net, loss as (z: Tensor, labels: Int32Array) => Tensor, params, flipped).losses[0]! - got.losses[0]!)).toBeGreaterThan(1e-3)
      } finally {
        await step.dispose()()
      }
    })
  }

  it('a loss that builds its targets from the label values on the host: value-dependent, naming the primitive that uses them', async () => {
    // the same labels as a tensor made from their values: a constant to the staging, which differs between two batches
    const hostTargets = (z: Tensor, labels: Int32Array): Tensor => Loss.binaryCrossEntropyWithLogits(z, fromBuffer(Float32Array.from(labels), z.shape, { dtype: 'f32' }))
    const result = await compile(binaryModel, hostTargets, sgd, { batch: 4, steps: 1 })()
    if (result._tag === 'Right') await result.right.dispose()()
    expect(result._tag === 'Left' && result.left.reason).toBe('value-dependent')
    expect(result._tag === 'Left' && result.left.message).toMatch(/^compile: mul \(node \d+\) uses a constant of shape \[4,1\] computed from the values of the step/)
  })
})
