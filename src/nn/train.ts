/**
 * Training as a fold: `fit` folds the optimizer's update over epochs of seeded, shuffled
 * minibatches, threading parameters, layer state and optimizer state; nothing is printed
 * and nothing is mutated outside the fold. Progress is reported through callbacks.
 *
 * @module
 */
import { ArgumentError, ShapeError } from '../error.js'
import { valueAndGrad } from '../ad/api.js'
import * as Random from '../random.js'
import type { Key } from '../random.js'
import * as Sh from '../shape.js'
import type { Shape } from '../shape.js'
import { allocate, concreteBuffer, fromOwnedBuffer, isTraced } from '../tensor.js'
import type { Tensor } from '../tensor.js'
import type { Tree } from '../tree.js'
import type { Layer, OutSpec } from './layer.js'
import type { Optimizer } from './optim.js'

/** A labelled dataset: inputs `[N, ...features]` and one label (class index) per example. */
export interface Dataset {
  readonly x: Tensor
  readonly labels: Int32Array
}

/** A loss of a batch of predictions against their labels (a scalar tensor). */
export type Loss = (prediction: Tensor, labels: Int32Array) => Tensor

/**
 * A permutation of `0 … n−1` drawn from a key (Fisher–Yates with the key's uniforms).
 *
 * @example
 * ```ts
 * import { Train, Random } from 'lamina-nn'
 * import assert from 'node:assert'
 * const p = Train.permutation(Random.key(1), 10)
 * assert.deepStrictEqual([...p].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
 * assert.deepStrictEqual(p, Train.permutation(Random.key(1), 10))
 * ```
 */
export const permutation = (key: Key, n: number): Int32Array => {
  if (!Number.isSafeInteger(n) || n < 0) throw new ArgumentError(`permutation: expected a non-negative integer, got ${n}`)
  const order = Int32Array.from({ length: n }, (_, i) => i)
  const u = n > 1 ? Random.uniform(key, [n]).data : []
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(u[i]! * (i + 1))
    const t = order[i]!
    order[i] = order[j]!
    order[j] = t
  }
  return order
}

/**
 * The rows `indices` of a concrete tensor `[N, ...]` (data, not differentiated).
 *
 * @example
 * ```ts
 * import { Train, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(Train.takeRows(tensor([[1, 2], [3, 4], [5, 6]]), [2, 0]).toArray(), [[5, 6], [1, 2]])
 * ```
 */
export const takeRows = (x: Tensor, indices: ArrayLike<number>): Tensor => {
  if (isTraced(x)) throw new ArgumentError('takeRows: expected concrete data, got a traced tensor')
  if (x.rank < 1) throw new ShapeError(`takeRows: expected a batch [N, ...], got shape ${Sh.show(x.shape)}`)
  const n = x.shape[0]!
  const row = x.size / Math.max(n, 1)
  const src = concreteBuffer(x)
  const out = allocate(x.dtype, indices.length * row)
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i]!
    if (!Number.isInteger(r) || r < 0 || r >= n) throw new ArgumentError(`takeRows: index ${r} is outside 0…${n - 1}`)
    out.set(src.subarray(r * row, (r + 1) * row), i * row)
  }
  return fromOwnedBuffer([indices.length, ...x.shape.slice(1)], x.dtype, out)
}

/**
 * The minibatches of one epoch: index arrays of at most `batchSize`, in an order drawn from `key`.
 *
 * @example
 * ```ts
 * import { Train, Random } from 'lamina-nn'
 * import assert from 'node:assert'
 * const bs = Train.minibatches(Random.key(0), 10, 4)
 * assert.deepStrictEqual(bs.map((b) => b.length), [4, 4, 2])
 * ```
 */
export const minibatches = (key: Key, n: number, batchSize: number): Int32Array[] => {
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new ArgumentError(`minibatches: batch size must be a positive integer, got ${batchSize}`)
  const order = permutation(key, n)
  const out: Int32Array[] = []
  for (let i = 0; i < n; i += batchSize) out.push(order.subarray(i, Math.min(n, i + batchSize)))
  return out
}

const checkDataset = (data: Dataset, op: string): void => {
  if (data.x.rank < 1) throw new ShapeError(`${op}: inputs must be a batch [N, ...], got shape ${Sh.show(data.x.shape)}`)
  if (data.labels.length !== data.x.shape[0]) {
    throw new ShapeError(`${op}: ${data.x.shape[0]} inputs but ${data.labels.length} labels`)
  }
}

/** What `fit` reports after each epoch. */
export interface EpochReport {
  readonly epoch: number
  /** Mean training loss over the epoch's minibatches. */
  readonly loss: number
  readonly seconds: number
}

/** The options of {@link fit}. */
export interface FitOptions<P, S, O> {
  readonly model: Layer<Shape, OutSpec, P, S>
  readonly params: P
  readonly state?: S
  readonly optimizer: Optimizer<O>
  readonly optimizerState?: O
  readonly loss: Loss
  readonly data: Dataset
  readonly epochs: number
  readonly batchSize: number
  readonly key: Key
  /** Transforms each training minibatch before the step (data augmentation), with its own key. */
  readonly augment?: (batch: Dataset, key: Key) => Dataset
  /** Called after every minibatch (step counts from 1 within the epoch). */
  readonly onBatch?: (report: { readonly epoch: number; readonly step: number; readonly steps: number; readonly loss: number }) => void
  /** Called after every epoch. */
  readonly onEpoch?: (report: EpochReport) => void
}

/** What `fit` returns: the trained parameters, layer state, optimizer state and per-epoch losses. */
export interface FitResult<P, S, O> {
  readonly params: P
  readonly state: S
  readonly optimizerState: O
  readonly history: readonly EpochReport[]
}

/**
 * One training step: the loss of a minibatch, its gradient with respect to the parameters,
 * and the optimizer's update. Returns the new parameters, layer state, optimizer state and the loss.
 *
 * @example
 * ```ts
 * import { Train, Layer, Layers, Optim, Loss, Random, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const model = Layers.dense(2, 2)
 * const opt = Optim.sgd({ lr: 0.5 })
 * let params = model.init(Random.key(0))
 * const batch = { x: tensor([[1, 0], [0, 1]]), labels: Int32Array.from([0, 1]) }
 * const first = Train.step(model, params, {}, opt, opt.init(params), Loss.crossEntropyWithLogits, batch, Random.key(1))
 * const second = Train.step(model, first.params, first.state, opt, first.optimizerState, Loss.crossEntropyWithLogits, batch, Random.key(2))
 * assert.ok(second.loss < first.loss)
 * ```
 */
export const step = <P, S, O>(
  model: Layer<Shape, OutSpec, P, S>,
  params: P,
  state: S,
  optimizer: Optimizer<O>,
  optimizerState: O,
  loss: Loss,
  batch: Dataset,
  key: Key
): { params: P; state: S; optimizerState: O; loss: number } => {
  let nextState = state
  const [value, grads] = valueAndGrad((p: P & Tree) => {
    const out = model.forward(p, batch.x, { training: true, key, state })
    nextState = out.state
    return loss(out.y, batch.labels)
  })(params as P & Tree)
  const [updated, nextOptimizerState] = optimizer.update(grads as P, optimizerState, params)
  return { params: updated, state: nextState, optimizerState: nextOptimizerState, loss: value.item() }
}

/**
 * Trains `model` for `epochs` passes over `data` in shuffled minibatches (the order drawn
 * from `key`, so the same key gives the same trajectory). A fold: the result is the final
 * parameters, state and optimizer state, and the mean training loss of each epoch.
 *
 * @example
 * ```ts
 * import { Train, Layer, Layers, Optim, Loss, Random, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * // two linearly separable points per class
 * const data = { x: tensor([[2, 0], [1.5, 0.2], [-2, 0], [-1.5, -0.2]]), labels: Int32Array.from([0, 0, 1, 1]) }
 * const model = Layer.sequential(Layers.dense(2, 2))
 * const run = Train.fit({ model, params: model.init(Random.key(0)), optimizer: Optim.sgd({ lr: 0.5 }), loss: Loss.crossEntropyWithLogits, data, epochs: 20, batchSize: 2, key: Random.key(1) })
 * assert.ok(run.history[19]!.loss < run.history[0]!.loss)
 * assert.strictEqual(Train.evaluate(model, run.params, run.state, data).accuracy, 1)
 * ```
 */
export const fit = <P, S, O>(options: FitOptions<P, S, O>): FitResult<P, S, O> => {
  const { model, optimizer, loss, data, epochs, batchSize } = options
  checkDataset(data, 'fit')
  if (!Number.isSafeInteger(epochs) || epochs < 0) throw new ArgumentError(`fit: epochs must be a non-negative integer, got ${epochs}`)
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new ArgumentError(`fit: the batch size must be a positive integer, got ${batchSize}`)
  const n = data.x.shape[0]!
  const epochKeys = Random.split(options.key, epochs)
  return epochKeys.reduce<FitResult<P, S, O>>(
    (acc, epochKey, e) => {
      const started = performance.now()
      // split(k, 3) extends split(k, 2): the order and dropout keys are those of runs without augmentation
      const [orderKey, dropoutKey, augmentKey] = Random.split(epochKey, 3)
      const batches = minibatches(orderKey!, n, batchSize)
      const stepKeys = Random.split(dropoutKey!, batches.length)
      const augmentKeys = options.augment === undefined ? [] : Random.split(augmentKey!, batches.length)
      let total = 0
      const after = batches.reduce(
        (cur, indices, b) => {
          const drawn = { x: takeRows(data.x, indices), labels: Int32Array.from(indices, (i) => data.labels[i]!) }
          const batch = options.augment === undefined ? drawn : options.augment(drawn, augmentKeys[b]!)
          const next = step(model, cur.params, cur.state, optimizer, cur.optimizerState, loss, batch, stepKeys[b]!)
          total += next.loss
          options.onBatch?.({ epoch: e + 1, step: b + 1, steps: batches.length, loss: next.loss })
          return next
        },
        { params: acc.params, state: acc.state, optimizerState: acc.optimizerState, loss: 0 }
      )
      const report: EpochReport = { epoch: e + 1, loss: total / Math.max(1, batches.length), seconds: (performance.now() - started) / 1000 }
      options.onEpoch?.(report)
      return { params: after.params, state: after.state, optimizerState: after.optimizerState, history: [...acc.history, report] }
    },
    {
      params: options.params,
      state: options.state ?? model.initState(),
      optimizerState: options.optimizerState ?? optimizer.init(options.params),
      history: []
    }
  )
}

/** Loss, accuracy and confusion matrix of a model on a dataset. */
export interface Evaluation {
  readonly accuracy: number
  /** `confusion[actual][predicted]` counts. */
  readonly confusion: number[][]
  /** Mean loss, when a loss was given. */
  readonly loss?: number
}

/**
 * Evaluates a classifier (inference mode) in batches: accuracy, confusion matrix, and the
 * mean loss if `loss` is given.
 *
 * @example
 * ```ts
 * import { Train, Layers, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const model = Layers.dense(1, 2)
 * const params = { w: tensor([[1, -1]]), b: tensor([0, 0]) }
 * const e = Train.evaluate(model, params, {}, { x: tensor([[1], [-1], [2]]), labels: Int32Array.from([0, 1, 1]) })
 * assert.strictEqual(e.accuracy, 2 / 3)
 * assert.deepStrictEqual(e.confusion, [[1, 0], [1, 1]])
 * ```
 */
export const evaluate = <P, S>(
  model: Layer<Shape, OutSpec, P, S>,
  params: P,
  state: S,
  data: Dataset,
  loss?: Loss,
  batchSize = 1024
): Evaluation => {
  checkDataset(data, 'evaluate')
  const n = data.x.shape[0]!
  let correct = 0
  let lossSum = 0
  let classes = 0
  const counts = new Map<string, number>()
  for (let start = 0; start < n; start += batchSize) {
    const indices = Int32Array.from({ length: Math.min(batchSize, n - start) }, (_, i) => start + i)
    const x = takeRows(data.x, indices)
    const labels = Int32Array.from(indices, (i) => data.labels[i]!)
    const y = model.forward(params, x, { training: false, state }).y
    if (loss !== undefined) lossSum += loss(y, labels).item() * indices.length
    const k = y.shape[y.rank - 1] ?? 1
    classes = Math.max(classes, k)
    const scores = concreteBuffer(y)
    labels.forEach((label, r) => {
      let best = 0
      for (let c = 1; c < k; c++) if (scores[r * k + c]! > scores[r * k + best]!) best = c
      if (best === label) correct++
      classes = Math.max(classes, label + 1)
      counts.set(`${label},${best}`, (counts.get(`${label},${best}`) ?? 0) + 1)
    })
  }
  const confusion = Array.from({ length: classes }, (_, a) => Array.from({ length: classes }, (_, p) => counts.get(`${a},${p}`) ?? 0))
  return { accuracy: n === 0 ? 0 : correct / n, confusion, ...(loss === undefined ? {} : { loss: lossSum / Math.max(1, n) }) }
}
