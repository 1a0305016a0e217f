/**
 * Normalization layers. Batch normalization (Ioffe & Szegedy) normalizes each feature over
 * the batch: in training with the statistics of the batch itself — differentiably, so the
 * gradient flows through the batch mean and variance — and at inference with running
 * statistics. The running statistics are layer *state*: `forward` takes them in its
 * context and returns the updated ones, so nothing is hidden or mutated.
 *
 * With μ_B, σ²_B the mean and (biased) variance over the batch,
 * x̂ = (x − μ_B) / √(σ²_B + ε) and y = γ·x̂ + β. The running statistics move by
 * `momentum`: mean ← (1 − m)·mean + m·μ_B and variance ← (1 − m)·variance + m·σ²_B·n/(n − 1),
 * with the unbiased variance of the batch's n values per feature (PyTorch's convention).
 *
 * @module
 */
import { ArgumentError, ShapeError } from '../error.js'
import * as O from '../ops.js'
import * as Sh from '../shape.js'
import type { Shape } from '../shape.js'
import { allocate, concreteBuffer, fromOwnedBuffer } from '../tensor.js'
import type { DType, Tensor } from '../tensor.js'
import * as Init from './init.js'
import { accepts, describe } from './layer.js'
import type { Layer, Same } from './layer.js'

/** Options of {@link batchNorm} and {@link batchNorm2d}. */
export interface BatchNormOptions {
  /** Weight m of the current batch in the running statistics, in [0, 1] (default 0.1). */
  readonly momentum?: number
  /** ε added to the variance before the square root, > 0 (default 1e-5). */
  readonly eps?: number
}

/** Parameters of a batch-normalization layer: scale γ (initially 1) and shift β (initially 0), one per feature. */
export interface BatchNormParams<F extends number = number> {
  readonly gamma: Tensor<[F]>
  readonly beta: Tensor<[F]>
}

/** State of a batch-normalization layer: the running mean (initially 0) and variance (initially 1) per feature. */
export interface BatchNormState<F extends number = number> {
  readonly mean: Tensor<[F]>
  readonly variance: Tensor<[F]>
}

const checkOptions = (kind: string, features: number, options: BatchNormOptions | undefined): { momentum: number; eps: number } => {
  if (!Number.isSafeInteger(features) || features < 1) throw new ArgumentError(`${kind}: the number of features must be a positive integer, got ${features}`)
  const momentum = options?.momentum ?? 0.1
  const eps = options?.eps ?? 1e-5
  if (!(momentum >= 0 && momentum <= 1)) throw new ArgumentError(`${kind}: momentum must be in [0, 1], got ${momentum}`)
  if (!(eps > 0 && Number.isFinite(eps))) throw new ArgumentError(`${kind}: eps must be a positive finite number, got ${eps}`)
  return { momentum, eps }
}

/** A concrete `[F]` tensor of `dtype` holding `values` (the running statistics are data, never traced). */
const constant = (values: ArrayLike<number>, dtype: DType): Tensor<[number]> => {
  const out = allocate(dtype, values.length)
  for (let i = 0; i < values.length; i++) out[i] = values[i]!
  return fromOwnedBuffer([values.length] as [number], dtype, out)
}

/** Checks a running-statistics tensor read from the state. */
const statistic = (kind: string, name: string, t: unknown, features: number): ArrayLike<number> => {
  const s = t as Tensor | undefined
  if (s === undefined || s === null || typeof s !== 'object' || !('shape' in s) || !Sh.equals(s.shape, [features])) {
    const got = s !== undefined && s !== null && typeof s === 'object' && 'shape' in s ? Sh.show(s.shape) : String(s)
    throw new ShapeError(`${kind}: the state's ${name} must have shape [${features}], got ${got}`)
  }
  return concreteBuffer(s)
}

/**
 * The shared implementation: `axes` are the reduced axes of the batch, `statShape` the
 * shape γ, β and the statistics take to broadcast against it.
 */
const normalization = (
  kind: string,
  features: number,
  inShape: Shape,
  options: BatchNormOptions | undefined
): Layer<Shape, Shape, BatchNormParams, BatchNormState> => {
  const { momentum, eps } = checkOptions(kind, features, options)
  const rank = inShape.length + 1
  const axes = Array.from({ length: rank }, (_, i) => i).filter((i) => i !== 1)
  const statShape = [features, ...inShape.slice(1).map(() => 1)]
  const checkInput = (example: Shape, batch?: Shape): void => {
    if (!accepts(inShape, example)) {
      throw new ShapeError(`${kind} expects ${describe(inShape)} but got ${describe(example)}${batch === undefined ? '' : ` (batch ${Sh.show(batch)})`}`)
    }
  }
  return {
    kind,
    settings: { features, momentum, eps },
    inShape,
    outputShape: (input) => {
      checkInput(input)
      return input
    },
    init: (key, dtype) => ({
      gamma: Init.constant(1)(key, [features], dtype ?? 'f64'),
      beta: Init.zeros(key, [features], dtype ?? 'f64')
    }),
    initState: () => ({ mean: constant(new Float64Array(features), 'f64'), variance: constant(new Float64Array(features).fill(1), 'f64') }),
    forward: (params, x, { training, state }) => {
      if (x.rank < 1) throw new ShapeError(`${kind} expects a batch [batch, ...features] but got a scalar`)
      checkInput(x.shape.slice(1), x.shape)
      const gamma = O.reshape(params.gamma as Tensor, statShape) as Tensor
      const beta = O.reshape(params.beta as Tensor, statShape) as Tensor
      const scaleShift = (xhat: Tensor): Tensor => O.add(O.mul(xhat, gamma) as Tensor, beta) as Tensor
      const runningMean = statistic(kind, 'mean', state.mean, features)
      const runningVariance = statistic(kind, 'variance', state.variance, features)
      if (!training) {
        const mean = O.reshape(constant(runningMean, x.dtype), statShape) as Tensor
        const variance = O.reshape(constant(runningVariance, x.dtype), statShape) as Tensor
        const xhat = O.div(O.sub(x, mean) as Tensor, O.sqrt(O.add(variance, eps) as Tensor) as Tensor) as Tensor
        return { y: scaleShift(xhat), state }
      }
      const n = Sh.size(x.shape) / features
      if (n < 2) throw new ArgumentError(`${kind}: training needs more than one value per feature to estimate a variance, got input shape ${Sh.show(x.shape)}`)
      // differentiable batch statistics: the gradient flows through μ_B and σ²_B
      const mu = O.mean(x, axes, true) as Tensor
      const centred = O.sub(x, mu) as Tensor
      const variance = O.mean(O.square(centred) as Tensor, axes, true) as Tensor
      const xhat = O.div(centred, O.sqrt(O.add(variance, eps) as Tensor) as Tensor) as Tensor
      // running statistics from the concrete values (never differentiated)
      const batchMean = concreteBuffer(mu)
      const batchVariance = concreteBuffer(variance)
      const unbiased = n / (n - 1)
      const nextMean = Array.from({ length: features }, (_, f) => (1 - momentum) * runningMean[f]! + momentum * batchMean[f]!)
      const nextVariance = Array.from({ length: features }, (_, f) => (1 - momentum) * runningVariance[f]! + momentum * unbiased * batchVariance[f]!)
      return { y: scaleShift(xhat), state: { mean: constant(nextMean, x.dtype), variance: constant(nextVariance, x.dtype) } }
    }
  }
}

/**
 * Batch normalization of `[B, features]` batches. Parameters `{ gamma, beta }` (shape
 * `[features]`), state `{ mean, variance }` (the running statistics). In training
 * (`Layer.train`, `Train.fit`) it normalizes with the batch's own mean and biased variance
 * and returns the running statistics moved by `momentum`; at inference (`Layer.apply`,
 * `Train.evaluate`) it normalizes with the running statistics. Training needs at least two
 * examples in a batch.
 *
 * @example
 * ```ts
 * import { Layer, Norm, Random, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const bn = Norm.batchNorm(2, { momentum: 0.5 })
 * const params = bn.init(Random.key(0)) // gamma = 1, beta = 0
 * const x = tensor([[1, 10], [3, 30]])
 * const { y, state } = Layer.train(bn, params, bn.initState(), x, Random.key(1))
 * // each column normalized with its own batch mean and variance: ±1 (up to eps)
 * assert.ok([-1, -1, 1, 1].every((v, i) => Math.abs(y.data[i]! - v) < 1e-5))
 * // running mean moved half-way from 0 to the batch mean; variance towards the unbiased one
 * assert.deepStrictEqual(state.mean.toArray(), [1, 10])
 * assert.deepStrictEqual(state.variance.toArray(), [0.5 + 0.5 * 2, 0.5 + 0.5 * 200])
 * // inference uses the running statistics
 * const z = Layer.apply(bn, params, tensor([[1, 10]]), state)
 * assert.deepStrictEqual([...z.data], [0, 0])
 * ```
 */
export const batchNorm = <const F extends number>(
  features: F,
  options?: BatchNormOptions
): Layer<[F], [F], BatchNormParams<F>, BatchNormState<F>> =>
  normalization('batchNorm', features, [features], options) as unknown as Layer<[F], [F], BatchNormParams<F>, BatchNormState<F>>

/**
 * Batch normalization of images `[B, channels, height, width]`: one γ, β and one pair of
 * running statistics per channel, the statistics taken over the batch and both spatial axes.
 * Any height and width are accepted.
 *
 * @example
 * ```ts
 * import { Layer, Norm, Random, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const bn = Norm.batchNorm2d(1)
 * const x = tensor([[[[0, 2], [4, 6]]]]) // [1, 1, 2, 2]: one image, one channel
 * const { y, state } = Layer.train(bn, bn.init(Random.key(0)), bn.initState(), x, Random.key(1))
 * assert.deepStrictEqual(y.shape, [1, 1, 2, 2])
 * assert.ok(Math.abs([...y.data].reduce((a, b) => a + b, 0)) < 1e-12) // mean 0 over batch and space
 * assert.ok(Math.abs(state.mean.item() - 0.3) < 1e-12) // 0.9·0 + 0.1·3
 * ```
 */
export const batchNorm2d = <const C extends number>(
  channels: C,
  options?: BatchNormOptions
): Layer<[C, number, number], Same, BatchNormParams<C>, BatchNormState<C>> =>
  normalization('batchNorm2d', channels, [channels, -1, -1], options) as unknown as Layer<
    [C, number, number],
    Same,
    BatchNormParams<C>,
    BatchNormState<C>
  >
