/**
 * A training session as a value: the data, the network, the parameters, the optimizer state
 * and the step count. `step` returns the next session; nothing is mutated, so the page can
 * keep the last session for the inspector while training goes on.
 *
 * Minibatches have a fixed size (the last, short batch of an epoch is dropped) so that the
 * GPU.js kernels, compiled per shape, are compiled once. Epoch `e` visits the training points
 * in an order drawn from the seed's order key and `e`: the minibatch of any step is known
 * in advance, and "the current minibatch" is the one the next step will use.
 *
 * @module
 */
import { Optim, Random, Train, Tree, astype, fromBuffer, valueAndGrad } from 'lamina-nn'
import type { DType, Tensor } from 'lamina-nn'
import type { Config } from './config.js'
import * as D from './datasets.js'
import * as M from './model.js'

/** Everything a step needs and produces. */
export interface Session {
  readonly config: Config
  readonly data: D.Split
  readonly trainX: Tensor
  readonly testX: Tensor
  readonly network: M.Network
  /** The objective's terms (data term of the problem type, penalty). */
  readonly terms: M.Terms
  /** The precision training runs in: float32 for the `cpu32` backend, else float64 (GPU.js kernels round to float32 either way). */
  readonly dtype: DType
  /** In {@link dtype}. */
  readonly params: M.Params
  readonly optimizer: Optim.Optimizer<unknown>
  readonly optimizerState: unknown
  /** Steps taken so far. */
  readonly step: number
  /** Loss of the minibatch of the last step (NaN before the first). */
  readonly lastLoss: number
}

/** The optimizer a configuration names. */
export const optimizer = (config: Pick<Config, 'optimizer' | 'lr'>): Optim.Optimizer<unknown> => {
  switch (config.optimizer) {
    case 'sgd': return Optim.sgd({ lr: config.lr }) as Optim.Optimizer<unknown>
    case 'momentum': return Optim.momentum({ lr: config.lr, beta: 0.9 }) as Optim.Optimizer<unknown>
    case 'adam': return Optim.adam({ lr: config.lr }) as Optim.Optimizer<unknown>
  }
}

/** The data of a configuration (points and split). */
export const dataOf = (config: Config): D.Split =>
  D.split(D.generate(config.dataset, { seed: config.seed, points: config.points, noise: config.noise }), config.split, config.seed)

/** The precision a configuration trains in. */
export const dtypeOf = (config: Pick<Config, 'backend'>): DType => (config.backend === 'cpu32' ? 'f32' : 'f64')

/** Parameters in another precision (the same tree when they are in it already). */
export const withDType = (params: M.Params, dtype: DType): M.Params =>
  Tree.flatten(params).leaves.every((t: Tensor) => t.dtype === dtype) ? params : Tree.map(params, (t) => astype(t, dtype))

/** A fresh session: new data, weights drawn from the seed (or `params`, e.g. from an uploaded file). */
export const create = (config: Config, params?: M.Params): Session => {
  const data = dataOf(config)
  const network = M.build(config)
  const dtype = dtypeOf(config)
  // the same float64 draws for every precision, so cpu32 starts where cpu does
  const initial = withDType(params ?? network.model.init(D.seedKeys(config.seed).init), dtype)
  const opt = optimizer(config)
  return {
    config,
    data,
    trainX: D.inputs(data.train, config.features, dtype),
    testX: D.inputs(data.test, config.features, dtype),
    network,
    terms: M.termsOf(config),
    dtype,
    params: initial,
    optimizer: opt,
    optimizerState: opt.init(initial),
    step: 0,
    lastLoss: NaN
  }
}

/** The fixed minibatch size: the configured one, or the whole training set when it is smaller. */
export const batchSize = (s: Pick<Session, 'config' | 'data'>): number => Math.min(s.config.batch, D.count(s.data.train))

const orders = new Map<string, Int32Array>()

/** The order of the training points in epoch `epoch` (memoised: a few epochs are in use at a time). */
const epochOrder = (s: Pick<Session, 'config' | 'data'>, epoch: number): Int32Array => {
  const n = D.count(s.data.train)
  const id = `${s.config.seed}:${n}:${epoch}`
  let order = orders.get(id)
  if (order === undefined) {
    // split is counter-based: the epoch-th of epoch + 1 keys is the same key however many are drawn
    order = Train.permutation(Random.split(D.seedKeys(s.config.seed).order, epoch + 1)[epoch]!, n)
    if (orders.size > 8) orders.delete(orders.keys().next().value!)
    orders.set(id, order)
  }
  return order
}

/** The indices (into the training set) of the minibatch step `step` uses. */
export const batchIndices = (s: Pick<Session, 'config' | 'data'>, step: number): Int32Array => {
  const size = batchSize(s)
  const perEpoch = Math.floor(D.count(s.data.train) / size)
  const epoch = Math.floor(step / perEpoch)
  const start = (step % perEpoch) * size
  return epochOrder(s, epoch).subarray(start, start + size)
}

/** A minibatch as tensors: the features of its points (in the session's precision, or `dtype`) and their labels. */
export const batchOf = (s: Session, indices: ArrayLike<number>, dtype: DType = s.dtype): M.Batch => {
  const points = D.take(s.data.train, indices)
  return { x: D.inputs(points, s.config.features, dtype), labels: points.labels }
}

/** The minibatch the next step will use. */
export const currentBatch = (s: Session, dtype: DType = s.dtype): M.Batch => batchOf(s, batchIndices(s, s.step), dtype)

/** The parameters in float64: what the views, the inspector and the tests read. */
export const params64 = (s: Pick<Session, 'params'>): M.Params => withDType(s.params, 'f64')

/**
 * The minibatches of the next `count` steps, stacked for the compiled step: features
 * `[count, batch, F]` and the labels step after step. Step `i`'s are `batchIndices(s, s.step + i)`,
 * exactly those `count` eager steps would use.
 */
export const nextBatches = (s: Session, count: number): { readonly x: Tensor; readonly labels: Int32Array } => {
  const size = batchSize(s)
  const width = s.config.features.length
  const x = new Float64Array(count * size * width)
  const labels = new Int32Array(count * size)
  for (let i = 0; i < count; i++) {
    const points = D.take(s.data.train, batchIndices(s, s.step + i))
    x.set(D.inputs(points, s.config.features).data, i * size * width)
    labels.set(points.labels, i * size)
  }
  return { x: fromBuffer(x, [count, size, width]), labels }
}

/** The objective of the current minibatch and its gradient with respect to every parameter (in the session's precision). */
export const gradient = (s: Session, batch: M.Batch = currentBatch(s)): { readonly loss: number; readonly grads: M.Params } => {
  const [value, grads] = valueAndGrad((p: M.Params) => M.objective(s.network, p, batch, s.terms))(s.params)
  return { loss: value.item(), grads }
}

/** One step of the optimizer on the current minibatch. */
export const step = (s: Session): Session => {
  const { loss, grads } = gradient(s)
  const [params, optimizerState] = s.optimizer.update(grads, s.optimizerState, s.params)
  return { ...s, params, optimizerState, step: s.step + 1, lastLoss: loss }
}

/** Losses and accuracies on the whole training and test sets (the data term, without the penalty; accuracies are NaN for regression). */
export interface Evaluation {
  readonly trainLoss: number
  readonly testLoss: number
  readonly trainAccuracy: number
  readonly testAccuracy: number
}

const accuracy = (z: Tensor, labels: ArrayLike<number>): number => {
  const data = z.data
  let right = 0
  for (let i = 0; i < labels.length; i++) if ((data[i]! > 0 ? 1 : 0) === labels[i]) right++
  return labels.length === 0 ? 0 : right / labels.length
}

export const evaluate = (s: Session): Evaluation => {
  const zTrain = M.logits(s.network, s.params, s.trainX)
  const zTest = M.logits(s.network, s.params, s.testX)
  const classes = s.terms.problem === 'classification'
  return {
    trainLoss: M.dataLoss(zTrain, s.data.train.labels, s.terms.problem).item(),
    testLoss: M.dataLoss(zTest, s.data.test.labels, s.terms.problem).item(),
    trainAccuracy: classes ? accuracy(zTrain, s.data.train.labels) : NaN,
    testAccuracy: classes ? accuracy(zTest, s.data.test.labels) : NaN
  }
}
