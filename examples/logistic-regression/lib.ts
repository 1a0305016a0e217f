// Seed 001's logistic regression, P(Y = 1 | x) = σ(w·x + b), trained by gradient descent
// on two Gaussian classes drawn with lamina's Random, as pure functions. The gradient from
// lamina's reverse mode is compared with the closed form the seed derives.
import { Loss, Optim, Random, add, grad, matmul, tensor, fromBuffer } from 'lamina-nn'
import type { Tensor } from 'lamina-nn'

/** A two-class data set: features [n, 2], labels t ∈ {0, 1}. */
export interface Data {
  readonly x: Tensor<[number, 2], 'f64'>
  readonly t: readonly number[]
}

/** The parameters: w [2, 1] and b [1]. */
export interface Params {
  readonly w: Tensor
  readonly b: Tensor
}

/** Class means: class 0 around (0, 0), class 1 around (2, 2); both with identity covariance. */
export const means = [
  [0, 0],
  [2, 2]
] as const

/**
 * `n` points, half of each class (alternating 0, 1, 0, 1, …), each its class mean plus a
 * standard normal draw from `Random.normal(key, [n, 2])`.
 */
export const makeData = (seed: number, n: number): Data => {
  const z = Random.normal(Random.key(seed), [n, 2]).data
  const t = Array.from({ length: n }, (_, i) => i % 2)
  const xs = new Float64Array(2 * n)
  for (let i = 0; i < n; i++) {
    xs[2 * i] = means[t[i]!]![0] + z[2 * i]!
    xs[2 * i + 1] = means[t[i]!]![1] + z[2 * i + 1]!
  }
  return { x: fromBuffer(xs, [n, 2]) as Tensor<[number, 2], 'f64'>, t }
}

/** The scores z = x·w + b, shape [n, 1]. */
export const scores = (p: Params, x: Tensor): Tensor => add(matmul(x, p.w), p.b)

/** The mean binary cross-entropy on logits, −(1/n) Σ [t log σ(z) + (1 − t) log(1 − σ(z))]. */
export const loss = (p: Params, data: Data): Tensor => Loss.binaryCrossEntropyWithLogits(scores(p, data.x), data.t)

/** Seed 001's loss for labels y = 2t − 1 ∈ {−1, +1}: −Σ log σ(y (w·x + b)) (a sum, not a mean). */
export const seedLoss = (p: Params, data: Data): Tensor =>
  Loss.logisticLoss(scores(p, data.x), data.t.map((t) => 2 * t - 1), { reduction: 'sum' })

/** ∇loss by lamina's reverse mode. */
export const lossGradient = (p: Params, data: Data): Params => grad((q: Params) => loss(q, data))(p)

/** ∇seedLoss by lamina's reverse mode. */
export const seedLossGradient = (p: Params, data: Data): Params => grad((q: Params) => seedLoss(q, data))(p)

/** σ(z), stable for large |z|. */
export const sigma = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)))

/** A gradient in plain numbers: [∂/∂w₁, ∂/∂w₂, ∂/∂b], with the sums of the absolute values of their terms (the scale of their rounding error). */
export interface Closed {
  readonly g: readonly [number, number, number]
  readonly scale: readonly [number, number, number]
}

const closed = (p: Params, data: Data, term: (z: number, t: number) => number, divisor: number): Closed => {
  const [w1, w2] = p.w.data as unknown as [number, number]
  const b = p.b.item()
  const x = data.x.data
  const g = [0, 0, 0]
  const s = [0, 0, 0]
  data.t.forEach((t, i) => {
    const x1 = x[2 * i]!
    const x2 = x[2 * i + 1]!
    const u = term(w1 * x1 + w2 * x2 + b, t)
    ;[u * x1, u * x2, u].forEach((v, d) => {
      g[d] = g[d]! + v
      s[d] = s[d]! + Math.abs(v)
    })
  })
  return { g: g.map((v) => v / divisor) as unknown as Closed['g'], scale: s.map((v) => v / divisor) as unknown as Closed['scale'] }
}

/** The closed form of ∇loss: ∂/∂w = Σ (σ(zₙ) − tₙ) xₙ / n, ∂/∂b = Σ (σ(zₙ) − tₙ) / n. */
export const closedFormGradient = (p: Params, data: Data): Closed => closed(p, data, (z, t) => sigma(z) - t, data.t.length)

/** Seed 001's closed form of ∇seedLoss: ∂/∂b = −Σ yₙ σ(−yₙ zₙ), ∂/∂w_d = −Σ x_{n,d} yₙ σ(−yₙ zₙ), with y = 2t − 1. */
export const seedClosedFormGradient = (p: Params, data: Data): Closed =>
  closed(
    p,
    data,
    (z, t) => {
      const y = 2 * t - 1
      return -y * sigma(-y * z)
    },
    1
  )

/**
 * The largest error of a lamina gradient against a closed form, relative to the sum of the
 * absolute values of the closed form's terms (so a vanishing gradient is no excuse for noise).
 */
export const gradientError = (g: Params, c: Closed): number => {
  const lamina = [...g.w.data, ...g.b.data]
  return Math.max(...lamina.map((v, d) => Math.abs(v - c.g[d]!) / Math.max(c.scale[d]!, Number.MIN_VALUE)))
}

/** The fraction of points whose predicted class (z > 0) is their label. */
export const accuracy = (p: Params, data: Data): number => {
  const z = scores(p, data.x).data
  return data.t.filter((t, i) => (z[i]! > 0 ? 1 : 0) === t).length / data.t.length
}

/** One record of training. */
export interface Step {
  readonly step: number
  readonly loss: number
  readonly accuracy: number
  readonly params: Params
  /** The gradient at these parameters, lamina's against the closed form (relative error, see {@link gradientError}). */
  readonly gradientError: number
}

/** `steps` steps of gradient descent (lamina grad, Optim.sgd with learning rate `lr`) from w = 0, b = 0. */
export const train = (data: Data, options?: { readonly lr?: number; readonly steps?: number }): Step[] => {
  const lr = options?.lr ?? 0.5
  const steps = options?.steps ?? 100
  const opt = Optim.sgd({ lr })
  let params: Params = { w: tensor([[0], [0]]), b: tensor([0]) }
  let state = opt.init(params)
  const out: Step[] = []
  for (let k = 0; ; k++) {
    const g = lossGradient(params, data)
    out.push({ step: k, loss: loss(params, data).item(), accuracy: accuracy(params, data), params, gradientError: gradientError(g, closedFormGradient(params, data)) })
    if (k === steps) return out
    ;[params, state] = opt.update(g, state, params)
  }
}
