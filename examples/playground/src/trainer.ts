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
import { Optim, Random, Train, fromBuffer, valueAndGrad } from 'lamina-nn'
import type { Tensor } from 'lamina-nn'
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

/** A fresh session: new data, weights drawn from the seed (or `params`, e.g. from an uploaded file). */
export const create = (config: Config, params?: M.Params): Session => {
  const data = dataOf(config)
  const network = M.build(config)
  const initial = params ?? network.model.init(D.seedKeys(config.seed).init)
  const opt = optimizer(config)
  return {
    config,
    data,
    trainX: D.inputs(data.train),
    testX: D.inputs(data.test),
    network,
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

/** A minibatch as tensors. */
export const batchOf = (s: Session, indices: ArrayLike<number>): M.Batch => {
  const points = D.take(s.data.train, indices)
  return { x: fromBuffer(points.x, [indices.length, 2]), labels: points.labels }
}

/** The minibatch the next step will use. */
export const currentBatch = (s: Session): M.Batch => batchOf(s, batchIndices(s, s.step))

/**
 * The minibatches of the next `count` steps, stacked for the compiled step: inputs
 * `[count, batch, 2]` and the labels step after step. Step `i`'s are `batchIndices(s, s.step + i)`,
 * exactly those `count` eager steps would use.
 */
export const nextBatches = (s: Session, count: number): { readonly x: Tensor; readonly labels: Int32Array } => {
  const size = batchSize(s)
  const x = new Float64Array(count * size * 2)
  const labels = new Int32Array(count * size)
  for (let i = 0; i < count; i++) {
    const points = D.take(s.data.train, batchIndices(s, s.step + i))
    x.set(points.x, i * size * 2)
    labels.set(points.labels, i * size)
  }
  return { x: fromBuffer(x, [count, size, 2]), labels }
}

/** The objective of the current minibatch and its gradient with respect to every parameter. */
export const gradient = (s: Session, batch: M.Batch = currentBatch(s)): { readonly loss: number; readonly grads: M.Params } => {
  const [value, grads] = valueAndGrad((p: M.Params) => M.objective(s.network, p, batch, s.config.l2))(s.params)
  return { loss: value.item(), grads }
}

/** One step of the optimizer on the current minibatch. */
export const step = (s: Session): Session => {
  const { loss, grads } = gradient(s)
  const [params, optimizerState] = s.optimizer.update(grads, s.optimizerState, s.params)
  return { ...s, params, optimizerState, step: s.step + 1, lastLoss: loss }
}

/** Losses and accuracies on the whole training and test sets (the data term, without the penalty). */
export interface Evaluation {
  readonly trainLoss: number
  readonly testLoss: number
  readonly trainAccuracy: number
  readonly testAccuracy: number
}

const accuracy = (z: Tensor, labels: Int32Array): number => {
  const data = z.data
  let right = 0
  for (let i = 0; i < labels.length; i++) if ((data[i]! > 0 ? 1 : 0) === labels[i]) right++
  return labels.length === 0 ? 0 : right / labels.length
}

export const evaluate = (s: Session): Evaluation => {
  const zTrain = M.logits(s.network, s.params, s.trainX)
  const zTest = M.logits(s.network, s.params, s.testX)
  return {
    trainLoss: M.dataLoss(zTrain, s.data.train.labels).item(),
    testLoss: M.dataLoss(zTest, s.data.test.labels).item(),
    trainAccuracy: accuracy(zTrain, s.data.train.labels),
    testAccuracy: accuracy(zTest, s.data.test.labels)
  }
}
