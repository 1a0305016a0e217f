/**
 * The two interpreters of a training step side by side, and the bounds within which they agree:
 * shared by `test/compiled.test.ts` (webasm), where the bounds are derived,
 * `test/compiled.gl.test.ts` (headlessgl) and `test/compiled.webgpu.test.ts` (webgpu), which
 * widen them for GL's and WGSL's transcendental functions (what those two share beyond this is in
 * `test/support/compiled-gpu.ts`), `test/compiled.large.test.ts`, and bench/gpu.ts's checks (so
 * this module does not import vitest).
 */
import { Layer, Layers, Loss, Optim, Random, Tree, abs, add, astype, fromBuffer, matmul, valueAndGrad } from 'lamina-nn'
import type { Tensor } from 'lamina-nn'
import { compile } from 'lamina-nn/gpu'
import type { CompiledStep } from 'lamina-nn/gpu'

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

// ================================================================ gradient magnitudes

/**
 * What the float32 step's own rounding can do to one step's gradients and loss, from a
 * first-order running error analysis (Wilkinson; Higham, *Accuracy and Stability*, §3.3) of
 * the sequential dense/activation MLPs `build` makes, in float64 from the step's starting
 * parameters and minibatch.
 *
 * Every quantity q the step computes (activations, logits, softmax, backward signals, gradients)
 * is given a magnitude q̂ such that its float32 value differs from the exact one by at most
 * c·u·q̂ to first order, c = k + 4 (+ `extra`): by induction over the ops, each op adding its
 * own rounding — a reduction of n ≤ k + 1 terms at most γ₍ₙ₎ ≤ c·u times the sum of its terms'
 * absolute values, an elementwise op a few u of its result — to the errors its inputs carry,
 * propagated to first order. The rules, with a the values (float64) and â their magnitudes:
 *
 * - inputs and the step's starting parameters: exact (â = 0); their drift over the earlier
 *   steps is the τ term of `bounds`, its propagation through later steps left out as there.
 * - dense, z = a·W + b: ẑ = (|a| + â)·|W| + |b| (the product's own rounding, and the
 *   inputs' errors through W).
 * - relu: â = [z > 0]·ẑ, derivative [z > 0] exact (`kinkClearance` keeps z off the kink);
 *   tanh: â = (1 − a²)·ẑ + |a|, derivative 1 − a·a with magnitude 2|a|·â + 1;
 *   sigmoid s: ŝ = s(1 − s)·ẑ + s, derivative s·(1 − s) with magnitude |1 − 2s|·ŝ + 2s(1 − s).
 * - the loss is the batch mean of −log softmax(z)ᵧ (`Loss.crossEntropyWithLogits`), so the
 *   logits' gradient is d = (p − y)/B, computed as p/B − y/B with p = e^((z − max z) − lse),
 *   lse = log Σ e^(z − max z). Its magnitude, per entry j of C classes:
 *   D̂ = (y + p·(1 + 2(ln C + s)/(C + 4)) + Σᵢ |Jⱼᵢ|·ẑᵢ)/B, s = lse − (z − max z) = −log p ≥ 0.
 *   y + p are the terms of the subtraction (not |p − y|: for the labelled class p ≈ 1 carries an
 *   error of about u while p − 1 may be far smaller), which with the scalings by 1/B rounds by at
 *   most 3u·(y + p). p itself: the sum of the C ≤ k exponentials, each relative u·(1 + sᵢ), is
 *   within (C + ln C)·u (Σᵢ pᵢsᵢ ≤ ln C), so lse within (C + 2 ln C)·u absolute; the two
 *   subtractions round the exponent by at most 2u·s, and the exponential adds u: p's relative
 *   error is at most (C + 1 + 2 ln C + 2s)·u. Since c ≥ C + 4, the sum of these,
 *   u·(3(y + p) + (C + 1)·p + 2p·(ln C + s)), is at most c·u·(y + p + 2p·(ln C + s)/(C + 4)).
 *   And the logits' own errors reach p through the softmax Jacobian Jⱼᵢ = pⱼ(δⱼᵢ − pᵢ), whose
 *   rows have absolute sum 2pⱼ(1 − pⱼ) ≤ ½.
 * - backward through dense, from d (magnitude D̂) at its output: Ĝ_W = (|a| + â)ᵀ·|d| + |a|ᵀ·D̂,
 *   Ĝ_b = Σ_batch (|d| + D̂), and the signal e = d·Wᵀ with ê = (|d| + D̂)·|W|ᵀ; through the
 *   activation before it, d′ = e ⊙ f′ with D̂′ = ê·|f′| + |e|·f̂′ + |e·f′| (the last, the
 *   product's rounding, absent for relu, whose mask multiplies exactly).
 *
 * Ĝ is at least |g| and at least the sum of the absolute values of the terms whose sum g is:
 * where those cancel (a hidden bias's gradient W₂ᵀ·d with d₀ = −d₁ and W₂'s rows nearly equal)
 * the float32 gradient's error, c·u·Ĝ, can exceed c·u·|g|, and c·u·max|leaf|, by orders of
 * magnitude. The loss's magnitude L̂ = (1/B)·Σ_batch Σⱼ |pⱼ − yⱼ|·ẑⱼ is what the logits' errors
 * do to it (its gradient in z is d); its own rounding is the τ term of `lossesOutside`.
 */
export interface StepMagnitudes {
  /** Ĝ per leaf (in `Tree.flatten` order, w then b of each dense layer) and entry. */
  readonly grads: readonly Float64Array[]
  /** L̂: the loss's magnitude. */
  readonly loss: number
}

/** `[rows, inner] × [inner, cols]` on float64 arrays, row-major. */
const matmul64 = (a: Float64Array, b: Float64Array, rows: number, inner: number, cols: number): Float64Array => {
  const out = new Float64Array(rows * cols)
  for (let r = 0; r < rows; r++)
    for (let i = 0; i < inner; i++) {
      const x = a[r * inner + i]!
      if (x === 0) continue
      for (let c = 0; c < cols; c++) out[r * cols + c] = out[r * cols + c]! + x * b[i * cols + c]!
    }
  return out
}

const transpose64 = (a: Float64Array, rows: number, cols: number): Float64Array => {
  const out = new Float64Array(rows * cols)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c]!
  return out
}

const abs64 = (a: Float64Array): Float64Array => a.map(Math.abs)
const plus64 = (a: Float64Array, b: Float64Array): Float64Array => a.map((v, i) => v + b[i]!)

/** The magnitudes of each step's gradient and loss (see `StepMagnitudes`), from the eager records. */
export const gradientMagnitudes = (built: Built, records: readonly EagerRecord[], batches: readonly Minibatch[]): StepMagnitudes[] =>
  records.map((record, s) => {
    const { x, labels } = batches[s]!
    const [rows, features] = x.shape as [number, number]
    // the forward pass: per dense layer its input (a, â), then the activation's derivative (f′, f̂′)
    interface Dense { readonly w: Float64Array; readonly n: number; readonly m: number; readonly a: Float64Array; readonly aHat: Float64Array }
    const dense: Dense[] = []
    const derivatives: { readonly f: Float64Array; readonly fHat: Float64Array; readonly exact: boolean }[] = []
    let a = Float64Array.from(x.data)
    let aHat = new Float64Array(a.length)
    let width = features
    let z = a
    let zHat = aHat
    let leaf = 0
    built.layers.forEach((layer) => {
      if (layer.kind === 'dense') {
        const [wt, bt] = [record.params[leaf]!, record.params[leaf + 1]!]
        leaf += 2
        const [n, m] = wt.shape as [number, number]
        if (n !== width || bt.shape.length !== 1 || bt.shape[0] !== m) {
          throw new Error(`gradientMagnitudes: leaves ${leaf - 2}, ${leaf - 1} are not the w [${width}, m] and b [m] of a dense layer`)
        }
        const [w, b] = [Float64Array.from(wt.data), Float64Array.from(bt.data)]
        dense.push({ w, n, m, a, aHat })
        z = matmul64(a, w, rows, n, m).map((v, i) => v + b[i % m]!)
        zHat = matmul64(plus64(abs64(a), aHat), abs64(w), rows, n, m).map((v, i) => v + Math.abs(b[i % m]!))
        width = m
        a = z
        aHat = zHat
      } else {
        const f = new Float64Array(z.length)
        const fHat = new Float64Array(z.length)
        const next = new Float64Array(z.length)
        const nextHat = new Float64Array(z.length)
        for (let i = 0; i < z.length; i++) {
          const [zi, zh] = [z[i]!, zHat[i]!]
          if (layer.kind === 'relu') {
            f[i] = zi > 0 ? 1 : 0
            next[i] = Math.max(zi, 0)
            nextHat[i] = f[i]! * zh
          } else if (layer.kind === 'tanh') {
            const t = Math.tanh(zi)
            next[i] = t
            f[i] = 1 - t * t
            nextHat[i] = f[i]! * zh + Math.abs(t)
            fHat[i] = 2 * Math.abs(t) * nextHat[i]! + 1
          } else if (layer.kind === 'sigmoid') {
            const sg = 1 / (1 + Math.exp(-zi))
            next[i] = sg
            f[i] = sg * (1 - sg)
            nextHat[i] = f[i]! * zh + sg
            fHat[i] = Math.abs(1 - 2 * sg) * nextHat[i]! + 2 * f[i]!
          } else throw new Error(`gradientMagnitudes: no rule for a '${layer.kind}' layer`)
        }
        derivatives[dense.length - 1] = { f, fHat, exact: layer.kind === 'relu' }
        a = next
        aHat = nextHat
      }
    })
    if (leaf !== record.params.length || built.layers[built.layers.length - 1]!.kind !== 'dense') {
      throw new Error('gradientMagnitudes: expected dense layers with activations between them')
    }
    // the loss's gradient in the logits, its magnitude D̂, and the loss's magnitude L̂
    const classes = width
    const d = new Float64Array(rows * classes)
    let dHat = new Float64Array(rows * classes)
    let loss = 0
    for (let r = 0; r < rows; r++) {
      const row = z.subarray(r * classes, (r + 1) * classes)
      const rowHat = zHat.subarray(r * classes, (r + 1) * classes)
      const top = Math.max(...row)
      const lse = top + Math.log(row.reduce((acc, v) => acc + Math.exp(v - top), 0))
      const p = row.map((v) => Math.exp(v - lse))
      const pz = p.reduce((acc, pi, i) => acc + pi * rowHat[i]!, 0)
      for (let j = 0; j < classes; j++) {
        const [pj, yj] = [p[j]!, j === labels[r] ? 1 : 0]
        // Σᵢ |Jⱼᵢ|·ẑᵢ = pⱼ(1 − pⱼ)ẑⱼ + pⱼ Σ_{i≠j} pᵢẑᵢ
        const jacobian = pj * (1 - pj) * rowHat[j]! + pj * (pz - pj * rowHat[j]!)
        d[r * classes + j] = (pj - yj) / rows
        dHat[r * classes + j] = (yj + pj * (1 + (2 * (Math.log(classes) + lse - row[j]!)) / (classes + 4)) + jacobian) / rows
        loss += (Math.abs(pj - yj) * rowHat[j]!) / rows
      }
    }
    // the backward pass, last dense layer first
    const grads: Float64Array[] = new Array<Float64Array>(record.params.length)
    let signal = d
    for (let l = dense.length - 1; l >= 0; l--) {
      const { w, n, m, a: input, aHat: inputHat } = dense[l]!
      const dAbs = abs64(signal)
      const both = plus64(dAbs, dHat)
      const inputAbs = abs64(input)
      const inputT = transpose64(inputAbs, rows, n)
      grads[2 * l] = plus64(matmul64(transpose64(plus64(inputAbs, inputHat), rows, n), dAbs, n, rows, m), matmul64(inputT, dHat, n, rows, m))
      const gb = new Float64Array(m)
      for (let r = 0; r < rows; r++) for (let j = 0; j < m; j++) gb[j] = gb[j]! + both[r * m + j]!
      grads[2 * l + 1] = gb
      // the replay must be the step the records took: its gradient, aᵀ·d and Σ d, is the eager one
      const value = [
        matmul64(transpose64(input, rows, n), signal, n, rows, m),
        new Float64Array(m).map((_, j) => signal.reduce((acc, v, i) => (i % m === j ? acc + v : acc), 0))
      ]
      value.forEach((g, o) => {
        const [want, hat] = [record.grads[2 * l + o]!.data, grads[2 * l + o]!]
        g.forEach((v, i) => {
          if (!(Math.abs(v - want[i]!) <= 1e-9 * hat[i]! + 1e-300)) {
            throw new Error(`gradientMagnitudes: step ${s}, leaf ${2 * l + o}[${i}]: replayed gradient ${v}, eager ${want[i]}`)
          }
        })
      })
      if (l === 0) break
      const wT = transpose64(w, n, m)
      const e = matmul64(signal, wT, rows, m, n)
      const eHat = matmul64(both, abs64(wT), rows, m, n)
      const { f, fHat, exact } = derivatives[l - 1]!
      signal = e.map((v, i) => v * f[i]!)
      dHat = eHat.map((v, i) => v * f[i]! + Math.abs(e[i]!) * fHat[i]! + (exact ? 0 : Math.abs(e[i]! * f[i]!)))
    }
    return { grads, loss }
  })

// ================================================================ the bounds on parameters and losses

/** How each step's gradient errors reach the parameters: the magnitudes, and the optimizer that applies them. */
export interface GradientErrors {
  readonly magnitudes: readonly StepMagnitudes[]
  readonly optimizer: Optim.OptimizerDescription
}

/**
 * Per-entry bounds on |compiled − eager| for each leaf after all steps whose longest reduction has k terms.
 *
 * With `gradients` (the magnitudes Ĝₛ of `gradientMagnitudes`), each step's gradient error
 * c·u·Ĝₛ (c = k + 4 + `extra`) is carried to the parameters by the optimizer, entrywise: SGD
 * adds Σₛ ηₛ·c·u·Ĝₛ; momentum (v ← βv + g, θ ← θ − ηv) adds Σₛ ηₛ·Σ_{j≤s} β^{s−j}·c·u·Ĝⱼ; Adam
 * uses max(max|gₛ|, Ĝₛ) in its term in place of max|gₛ|. Without it the gradients' errors are
 * taken to be within τ of max|leaf| (so Adam's term uses max|gₛ|), which cancellation in a
 * gradient's terms can break.
 */
export const bounds = (
  k: number,
  records: readonly EagerRecord[],
  final: readonly Tensor[],
  adam?: { lr: number; beta2: number; eps: number },
  extra = 0,
  gradients?: GradientErrors
): Float64Array[] => {
  const t = tau(k, records.length, extra)
  const c = (k + 4 + extra) * U
  const kind = gradients?.optimizer.kind
  if (gradients !== undefined) {
    if (gradients.magnitudes.length !== records.length) throw new Error(`bounds: ${gradients.magnitudes.length} steps of gradient magnitudes for ${records.length} steps`)
    if (kind !== 'sgd' && kind !== 'momentum' && kind !== 'adam') throw new Error(`bounds: no derivation of how '${kind}' carries gradient errors`)
    if ((kind === 'adam') !== (adam !== undefined)) throw new Error(`bounds: optimizer '${kind}' with${adam === undefined ? 'out' : ''} Adam's parameters`)
  }
  return final.map((leaf, i) => {
    const out = new Float64Array(leaf.size).fill(t * Math.max(maxAbs(leaf), ...records.map((r) => maxAbs(r.params[i]!))))
    if (adam !== undefined) {
      records.forEach((r, s) => {
        const g = maxAbs(r.grads[i]!)
        const magnitude = gradients?.magnitudes[s]!.grads[i]
        const v = r.v![i]!.data
        const correction = 1 - adam.beta2 ** (s + 1)
        for (let j = 0; j < out.length; j++) {
          const scale = magnitude === undefined ? g : Math.max(g, magnitude[j]!)
          out[j] = out[j]! + (adam.lr * 3 * (k + 4 + extra) * U * scale) / (Math.sqrt(v[j]! / correction) + adam.eps)
        }
      })
    } else if (gradients !== undefined) {
      const { optimizer } = gradients
      const beta = optimizer.kind === 'momentum' ? optimizer.beta : 0
      // the velocity's error bound, Σ_{j≤s} β^{s−j}·c·u·Ĝⱼ (for SGD, β = 0: this step's alone)
      const velocity = new Float64Array(out.length)
      gradients.magnitudes.forEach((m, s) => {
        const lr = optimizer.lr(s)
        const g = m.grads[i]!
        for (let j = 0; j < out.length; j++) {
          velocity[j] = beta * velocity[j]! + c * g[j]!
          out[j] = out[j]! + lr * velocity[j]!
        }
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

/**
 * The steps whose compiled loss leaves τ(k, s + 1)·max(1, |loss|) of the eager one, plus, with
 * `magnitudes` (of `gradientMagnitudes`), c·u·L̂ₛ for the logits' own errors (c = k + 4 + `extra`).
 */
export const lossesOutside = (compiledLosses: readonly number[], records: readonly EagerRecord[], k: number, extra = 0, magnitudes?: readonly StepMagnitudes[]): string[] =>
  compiledLosses.flatMap((l, s) => {
    const e = records[s]!.loss
    const limit = tau(k, s + 1, extra) * Math.max(1, Math.abs(e)) + (magnitudes === undefined ? 0 : (k + 4 + extra) * U * magnitudes[s]!.loss)
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

/** The largest |compiled − eager| ÷ bound over all entries: how much of the bound was used (reported, not asserted). */
export const usedOfBound = (got: readonly { data: ArrayLike<number> }[], want: readonly { data: ArrayLike<number> }[], limits: readonly Float64Array[]): number => {
  let worst = 0
  got.forEach((leaf, i) => {
    for (let j = 0; j < leaf.data.length; j++) worst = Math.max(worst, Math.abs(leaf.data[j]! - want[i]!.data[j]!) / limits[i]![j]!)
  })
  return worst
}
