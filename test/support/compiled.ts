/**
 * The two interpreters of a training step side by side, and the bounds within which they agree:
 * shared by `test/compiled.test.ts` (webasm), where the bounds are derived, and
 * `test/compiled.gl.test.ts` (headlessgl), which widens them for GL's transcendental functions.
 */
import { Layer, Layers, Loss, Optim, Random, Tree, abs, add, astype, fromBuffer, matmul, valueAndGrad } from 'lamina'
import type { Tensor } from 'lamina'
import { compile } from 'lamina/gpu'
import type { CompiledStep } from 'lamina/gpu'

export const U = 2 ** -24

/**
 * τ(k, N): the relative error bound after N steps whose longest reduction has k terms. `extra`
 * widens the per-step allowance for the elementwise ops (4·u) by `extra`·u, for backends whose
 * functions are less accurate than float32 libm (the GL modes, see `glAllowance`).
 */
export const tau = (k: number, steps: number, extra = 0): number => steps * (k + 4 + extra) * U

// ================================================================ models and data

export type Activation = 'relu' | 'tanh' | 'sigmoid'

export interface Spec {
  readonly input: number
  readonly hidden: readonly number[]
  readonly classes: number
  readonly activation: Activation
}

export interface Built {
  readonly layers: readonly Layer.AnyLayer[]
  readonly model: Layer.AnyLayer
}

export const build = (spec: Spec): Built => {
  const activation = { relu: Layers.relu, tanh: Layers.tanh, sigmoid: Layers.sigmoid }[spec.activation]
  const widths = [spec.input, ...spec.hidden]
  const layers: Layer.AnyLayer[] = []
  spec.hidden.forEach((h, i) => layers.push(Layers.dense(widths[i]!, h), activation()))
  layers.push(Layers.dense(widths[widths.length - 1]!, spec.classes))
  const sequential = Layer.sequential as unknown as (...ls: readonly Layer.AnyLayer[]) => Layer.AnyLayer
  return { layers, model: sequential(...layers) }
}

/** The longest reduction of one step: a product's inner width, or the batch (weight gradients). */
export const longest = (spec: Spec, batch: number): number => Math.max(spec.input, ...spec.hidden, spec.classes, batch)

export interface Minibatch {
  readonly x: Tensor
  readonly labels: Int32Array
}

/** `calls · steps` float32 minibatches, inputs scaled by `scale`. */
export const minibatches = (key: number, count: number, batch: number, input: number, classes: number, scale = 1): Minibatch[] =>
  Array.from({ length: count }, (_, i) => {
    const [kx, kl] = Random.split(Random.key(key * 1000 + i))
    const x = Random.normal(kx!, [batch, input], { dtype: 'f32', std: scale })
    const labels = Int32Array.from(Random.uniform(kl!, [batch]).data, (u) => Math.min(classes - 1, Math.floor(u * classes)))
    return { x, labels }
  })

/** The minibatches of one call, stacked `[steps, batch, ...]`. */
export const stack = (batches: readonly Minibatch[]): { x: Tensor; labels: Int32Array } => {
  const [b, f] = batches[0]!.x.shape as [number, number]
  const data = new Float32Array(batches.length * b * f)
  batches.forEach((m, s) => data.set(m.x.data as Float32Array, s * b * f))
  const labels = new Int32Array(batches.length * b)
  batches.forEach((m, s) => labels.set(m.labels, s * b))
  return { x: fromBuffer(data, [batches.length, b, f], { dtype: 'f32' }), labels }
}

/**
 * The parameters with the first layer's biases set to +bias and −bias in turn: with inputs of
 * small spread every pre-activation stays far from ReLU's kink (the tests assert by how much),
 * and half the hidden units are on, half off.
 */
export const withSplitBiases = (params: unknown, bias: number): unknown => {
  const p = params as { readonly layers: readonly [{ readonly w: Tensor; readonly b: Tensor }, ...unknown[]] }
  const [first, ...rest] = p.layers
  const n = first.b.size
  const b = fromBuffer(Float32Array.from({ length: n }, (_, i) => (i % 2 === 0 ? bias : -bias)), [n], { dtype: 'f32' })
  return { layers: [{ w: first.w, b }, ...rest] }
}

// ================================================================ the two interpreters

export interface EagerRecord {
  readonly loss: number
  /** Leaves of the parameters the step started from (float64). */
  readonly params: readonly Tensor[]
  readonly grads: readonly Tensor[]
  /** Adam's second moments after the step (float64), when the optimizer is Adam. */
  readonly v?: readonly Tensor[]
  /** max over the minibatch of logsumexp(z) − zⱼ (= −log of the smallest softmax probability): the largest |argument| of the loss's exp. */
  readonly spread: number
}

/** max over rows of a `[rows, classes]` logits buffer of logsumexp(row) − min(row). */
const softmaxSpread = (logits: Tensor): number => {
  const [rows, classes] = logits.shape as [number, number]
  const z = logits.data
  let spread = 0
  for (let r = 0; r < rows; r++) {
    const row = Array.from({ length: classes }, (_, j) => z[r * classes + j]!)
    const top = Math.max(...row)
    const lse = top + Math.log(row.reduce((acc, v) => acc + Math.exp(v - top), 0))
    spread = Math.max(spread, lse - Math.min(...row))
  }
  return spread
}

/** The eager interpreter in float64: valueAndGrad of the loss, then the optimizer's update. */
export const eager = <O>(model: Layer.AnyLayer, optimizer: Optim.Optimizer<O>, params32: unknown, batches: readonly Minibatch[]) => {
  let params = Tree.map(params32, (l) => astype(l, 'f64'))
  let state = optimizer.init(params)
  const records: EagerRecord[] = []
  for (const { x, labels } of batches) {
    const x64 = astype(x, 'f64')
    const forward = (p: typeof params) => model.forward(p, x64, { training: true, state: model.initState() }).y
    const [value, grads] = valueAndGrad((p: typeof params) => Loss.crossEntropyWithLogits(forward(p), labels))(params)
    const spread = softmaxSpread(forward(params))
    const before = Tree.flatten(params).leaves
    ;[params, state] = optimizer.update(grads, state, params)
    const v = (state as { v?: unknown }).v
    records.push({ loss: value.item(), params: before, grads: Tree.flatten(grads).leaves, spread, ...(v === undefined ? {} : { v: Tree.flatten(v).leaves }) })
  }
  return { params: Tree.flatten(params).leaves, records, state }
}

/** The compiled interpreter: `calls` calls of `step.steps` steps each. */
export const compiled = async <P, O extends { readonly step: number }>(step: CompiledStep<P, O>, params: P, optimizerState: O, batches: readonly Minibatch[]) => {
  let state = { params, optimizerState }
  const losses: number[] = []
  for (let c = 0; c < batches.length / step.steps; c++) {
    const result = await step.run(state, stack(batches.slice(c * step.steps, (c + 1) * step.steps)))()
    if (result._tag === 'Left') throw result.left
    losses.push(...result.right.losses)
    state = result.right
  }
  return { params: Tree.flatten(state.params).leaves, losses, optimizerState: state.optimizerState }
}

export const compileOrThrow = async <P, O extends { readonly step: number }>(...args: Parameters<typeof compile<P, unknown, O>>) => {
  const result = await compile(...args)()
  if (result._tag === 'Left') throw result.left
  return result.right
}

// ================================================================ the bounds

export const maxAbs = (t: Tensor): number => {
  let m = 0
  for (const v of t.data) m = Math.max(m, Math.abs(v))
  return m
}

/** The smallest |pre-activation| of every ReLU over the run, less its margin (≤ 0: too close to the kink). */
export const kinkClearance = (built: Built, spec: Spec, records: readonly EagerRecord[], batches: readonly Minibatch[], t: number): number => {
  if (spec.activation !== 'relu') return Infinity
  let clearance = Infinity
  records.forEach((r, s) => {
    let a: Tensor = astype(batches[s]!.x, 'f64')
    let leaf = 0
    built.layers.forEach((layer, l) => {
      if (layer.kind === 'dense') {
        const [w, b] = [r.params[leaf]!, r.params[leaf + 1]!]
        leaf += 2
        const z = add(matmul(a as Tensor<[number, number], 'f64'>, w as Tensor<[number, number], 'f64'>), b)
        const magnitude = add(matmul(abs(a) as Tensor<[number, number], 'f64'>, abs(w) as Tensor<[number, number], 'f64'>), abs(b))
        const zs = z.data
        const ms = magnitude.data
        if (built.layers[l + 1]?.kind === 'relu') for (let i = 0; i < zs.length; i++) clearance = Math.min(clearance, Math.abs(zs[i]!) - 8 * t * ms[i]!)
        a = z
      } else a = layer.forward({}, a, { training: true, state: layer.initState() }).y
    })
  })
  return clearance
}

/** Per-entry bounds on |compiled − eager| for each leaf after all steps whose longest reduction has k terms. */
export const bounds = (k: number, records: readonly EagerRecord[], final: readonly Tensor[], adam?: { lr: number; beta2: number; eps: number }, extra = 0): Float64Array[] => {
  const t = tau(k, records.length, extra)
  return final.map((leaf, i) => {
    const out = new Float64Array(leaf.size).fill(t * Math.max(maxAbs(leaf), ...records.map((r) => maxAbs(r.params[i]!))))
    if (adam !== undefined) {
      records.forEach((r, s) => {
        const g = maxAbs(r.grads[i]!)
        const v = r.v![i]!.data
        const correction = 1 - adam.beta2 ** (s + 1)
        for (let j = 0; j < out.length; j++) out[j] = out[j]! + (adam.lr * 3 * (k + 4 + extra) * U * g) / (Math.sqrt(v[j]! / correction) + adam.eps)
      })
    }
    return out
  })
}

/** The entries where the compiled leaves leave their bounds (empty when they all agree). */
export const outside = (compiledLeaves: readonly Tensor[], eagerLeaves: readonly Tensor[], limits: readonly Float64Array[]): string[] =>
  compiledLeaves.flatMap((c, i) => {
    const cd = c.data
    const ed = eagerLeaves[i]!.data
    const bad: string[] = []
    for (let j = 0; j < cd.length && bad.length < 3; j++) {
      const d = Math.abs(cd[j]! - ed[j]!)
      if (!(d <= limits[i]![j]!)) bad.push(`leaf ${i}[${j}]: compiled ${cd[j]}, eager ${ed[j]}, |difference| ${d} > ${limits[i]![j]}`)
    }
    return bad
  })

export const lossesOutside = (compiledLosses: readonly number[], records: readonly EagerRecord[], k: number, extra = 0): string[] =>
  compiledLosses.flatMap((l, s) => {
    const e = records[s]!.loss
    const limit = tau(k, s + 1, extra) * Math.max(1, Math.abs(e))
    return Math.abs(l - e) <= limit ? [] : [`loss of step ${s}: compiled ${l}, eager ${e}, limit ${limit}`]
  })

/**
 * The GL modes' and WGSL's extra per-step allowance for exp, log, division and square root, in
 * units of u: g = 4·(3 + 2X) + 8 + 6·ln n + 14 for n classes, X the largest logsumexp(z) − zⱼ
 * of the reference's logits (derived in `test/compiled.gl.test.ts` from GLSL ES 3.00 §4.5.1 and
 * in `test/compiled.webgpu.test.ts` from WGSL's accuracy table, which agree).
 */
export const transcendentalAllowance = (records: readonly EagerRecord[], classes: number): number => {
  const spread = Math.max(...records.map((r) => r.spread))
  return 4 * (3 + 2 * spread) + 8 + 6 * Math.log(classes) + 14
}
