/**
 * Training as a fold: `fit` folds the optimizer's update over epochs of seeded, shuffled
 * minibatches, threading parameters, layer state and optimizer state; nothing is printed
 * and nothing is mutated outside the fold. Progress is reported through callbacks.
 *
 * @module
 */
import { ArgumentError, LaminaError, ShapeError } from '../error.js'
import { valueAndGrad } from '../ad/api.js'
import * as Random from '../random.js'
import type { Key } from '../random.js'
import * as Sh from '../shape.js'
import type { Shape } from '../shape.js'
import { Tensor, allocate, concreteBuffer, fromOwnedBuffer, isTraced } from '../tensor.js'
import type { Tree } from '../tree.js'
import type { Layer, OutSpec } from './layer.js'
import type { Optimizer } from './optim.js'

/**
 * What the examples of a dataset are labelled with: class indices (`Int32Array`, one per
 * example: classification), or real-valued targets, a tensor `[N, ...outputs]` (regression).
 */
export type Labels = Int32Array | Tensor

/**
 * A labelled dataset: inputs `[N, ...features]` and a label per example, a class index
 * (`Dataset`, the default) or a row of real targets (`Dataset<Tensor>`, for regression).
 */
export interface Dataset<T extends Labels = Int32Array> {
  readonly x: Tensor
  /** Class indices `[N]`, or real targets `[N, ...outputs]` (regression). */
  readonly labels: T
}

/**
 * A loss of a batch of predictions against their labels (a scalar tensor): class indices by
 * default, targets for regression (`Loss<Tensor>`: `Loss.mse`, `Loss.l1`, `Loss.huber`).
 * Under `compile` (`lamina-nn/gpu`) the class indices are bound to the step's labels input:
 * the built-in losses and `Loss.oneHot` compute from it with primitives, while a tensor the
 * loss builds from the label values itself is a `value-dependent` compile error.
 */
export type Loss<T extends Labels = Int32Array> = (prediction: Tensor, labels: T) => Tensor

/** The rows `indices` of a dataset's labels: class indices or rows of targets. */
const takeLabels = <T extends Labels>(labels: T, indices: ArrayLike<number>): T => {
  if (labels instanceof Tensor) return takeRows(labels, indices) as T
  // a plain loop: Int32Array.from with a mapping function takes the iterator path, ~20 µs a minibatch
  const out = new Int32Array(indices.length)
  for (let i = 0; i < indices.length; i++) out[i] = labels[indices[i]!]!
  return out as T
}

/** How many examples `labels` label. */
const labelCount = (labels: Labels): number => (labels instanceof Tensor ? (labels.rank < 1 ? -1 : labels.shape[0]!) : labels.length)

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

const checkDataset = (data: Dataset<Labels>, op: string): void => {
  if (data.x.rank < 1) throw new ShapeError(`${op}: inputs must be a batch [N, ...], got shape ${Sh.show(data.x.shape)}`)
  if (data.labels instanceof Tensor && data.labels.rank < 1) throw new ShapeError(`${op}: targets must be a batch [N, ...], got a scalar`)
  const labels = labelCount(data.labels)
  if (labels !== data.x.shape[0]) {
    throw new ShapeError(`${op}: ${data.x.shape[0]} inputs but ${labels} ${data.labels instanceof Tensor ? 'targets' : 'labels'}`)
  }
}

/**
 * The most epochs {@link fit} runs: a larger count is refused up front (an `ArgumentError`)
 * rather than started. One million passes over the data is far more than any model here
 * needs; the history of a run holds one report per epoch.
 *
 * @example
 * ```ts
 * import { Train } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Train.maxEpochs, 1_000_000)
 * ```
 */
export const maxEpochs = 1_000_000

/**
 * Training diverged: the loss of a step, or a parameter (or layer-state value) at the end of
 * an epoch, is NaN or ±Infinity. `fit` stops there instead of returning the broken
 * parameters. `epoch` and `step` count from 1 (`step` is the number of steps of the epoch
 * when the parameters were found broken at its end); `what` says which number was found,
 * `where` names it (`loss`, or a parameter such as `layers.0.w[3]`), and `value` is it.
 *
 * @example
 * ```ts
 * import { Train, Layers, Optim, Random, tensor, sum, mul, LaminaError } from 'lamina-nn'
 * import assert from 'node:assert'
 * const model = Layers.dense(1, 1)
 * // inputs of 1e200: the squared output overflows to Infinity at the first step
 * const data = { x: tensor([[1e200], [-1e200]]), labels: Int32Array.from([0, 1]) }
 * const squares: Train.Loss = (y) => sum(mul(y, y))
 * assert.throws(
 *   () => Train.fit({ model, params: model.init(Random.key(0)), optimizer: Optim.sgd({ lr: 1 }), loss: squares, data, epochs: 3, batchSize: 2, key: Random.key(1) }),
 *   (e: unknown) => e instanceof Train.DivergenceError && e instanceof LaminaError && e.epoch === 1 && e.step === 1 && e.what === 'loss'
 * )
 * ```
 */
export class DivergenceError extends LaminaError {
  override name = 'DivergenceError'
  constructor(
    /** The epoch (from 1). */
    readonly epoch: number,
    /** The step of the epoch (from 1). */
    readonly step: number,
    /** The steps of the epoch. */
    readonly steps: number,
    /** What was not finite. */
    readonly what: 'loss' | 'parameter' | 'state',
    /** `loss`, or the path of the parameter or state value (`layers.0.w[3]`). */
    readonly where: string,
    /** The non-finite number. */
    readonly value: number
  ) {
    super(
      `training diverged at epoch ${epoch}, step ${step} of ${steps}: ${what === 'loss' ? 'the loss' : `${what} ${where}`} is ${value}; ` +
        'try a lower learning rate, gradient clipping (Optim.withClipping), inputs scaled to about [-1, 1], or a loss on logits ' +
        '(LAMINA_CHECK_NUMERICS=1 names the first operation that produced it)'
    )
  }
}

/** The first NaN or ±Infinity in a tree of tensors (arrays, plain records, numbers), with its path; none when all are finite. */
const firstNonFinite = (tree: unknown, path = ''): { readonly where: string; readonly value: number } | undefined => {
  if (tree instanceof Tensor) {
    const data = tree.data
    for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) return { where: `${path}[${i}]`, value: data[i]! }
    return undefined
  }
  if (typeof tree === 'number') return Number.isFinite(tree) ? undefined : { where: path, value: tree }
  if (Array.isArray(tree)) {
    for (let i = 0; i < tree.length; i++) {
      const found = firstNonFinite(tree[i], path === '' ? String(i) : `${path}.${i}`)
      if (found !== undefined) return found
    }
    return undefined
  }
  if (typeof tree === 'object' && tree !== null && (Object.getPrototypeOf(tree) === Object.prototype || Object.getPrototypeOf(tree) === null)) {
    for (const [k, v] of Object.entries(tree)) {
      const found = firstNonFinite(v, path === '' ? k : `${path}.${k}`)
      if (found !== undefined) return found
    }
  }
  return undefined
}

/** What `fit` reports after each epoch. */
export interface EpochReport {
  readonly epoch: number
  /** Mean training loss over the epoch's minibatches. */
  readonly loss: number
  readonly seconds: number
}

/** What `fit` reports after each minibatch (and {@link fitSteps} yields). */
export interface StepReport {
  /** The epoch, from 1. */
  readonly epoch: number
  /** The step within the epoch, from 1. */
  readonly step: number
  /** The steps of this epoch. */
  readonly steps: number
  /** The loss of this step's minibatch. */
  readonly loss: number
}

/** The options of {@link fit}: `T` is what the data is labelled with (class indices, or targets for regression). */
export interface FitOptions<P, S, O, T extends Labels = Int32Array> {
  readonly model: Layer<Shape, OutSpec, P, S>
  readonly params: P
  readonly state?: S
  readonly optimizer: Optimizer<O>
  readonly optimizerState?: O
  readonly loss: Loss<T>
  readonly data: Dataset<T>
  /** Passes over the data: an integer in 0…{@link maxEpochs}; with `initialEpoch`, the number of the last epoch. */
  readonly epochs: number
  /**
   * The epochs already run (default 0): the run goes on with epoch `initialEpoch + 1` up to
   * `epochs`, drawing the same batch orders and dropout keys as a run from epoch 1 does for
   * those epochs. With the parameters, layer state and optimizer state saved after epoch
   * `initialEpoch`, the result is that of one uninterrupted run (Keras's `initial_epoch`).
   */
  readonly initialEpoch?: number
  readonly batchSize: number
  readonly key: Key
  /** Transforms each training minibatch before the step (data augmentation), with its own key. */
  readonly augment?: (batch: Dataset<T>, key: Key) => Dataset<T>
  /** Called after every minibatch (step counts from 1 within the epoch). */
  readonly onBatch?: (report: StepReport) => void
  /** Called after every epoch. */
  readonly onEpoch?: (report: EpochReport) => void
  /**
   * Asked before every step; `true` ends the run there (between two steps, never inside
   * one) and the result says where, in `stopped`. For Ctrl-C: a signal handler sets a flag
   * that this reads (with {@link fitAsync}, which lets the handler run).
   */
  readonly shouldStop?: () => boolean
  /**
   * Stop with a {@link DivergenceError} at the first non-finite loss (checked every step) or
   * parameter or layer-state value (checked at the end of every epoch). Default `true`;
   * `false` trains on through NaN.
   */
  readonly checkFinite?: boolean
}

/** What `fit` returns: the trained parameters, layer state, optimizer state and per-epoch losses. */
export interface FitResult<P, S, O> {
  readonly params: P
  readonly state: S
  readonly optimizerState: O
  /** One report per finished epoch. */
  readonly history: readonly EpochReport[]
  /**
   * Present when `shouldStop` ended the run early: the last step taken (`epoch` and `step`
   * from 1, `steps` in that epoch; all 0 when no step was taken). The parameters are those
   * after that step.
   */
  readonly stopped?: { readonly epoch: number; readonly step: number; readonly steps: number }
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
export const step = <P, S, O, T extends Labels = Int32Array>(
  model: Layer<Shape, OutSpec, P, S>,
  params: P,
  state: S,
  optimizer: Optimizer<O>,
  optimizerState: O,
  loss: Loss<T>,
  batch: Dataset<T>,
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
 * {@link fit} as a generator: yields a {@link StepReport} after every step and returns the
 * {@link FitResult}, so that a caller can pause between steps (as {@link fitAsync} does) or
 * stop early by leaving the loop. The same options, checks and trajectory as `fit`. The keys
 * of the epochs are drawn one at a time (`Random.splitAt`), and the history grows by one
 * report per epoch: time is linear in the epochs, and memory does not grow with them
 * beyond the history.
 *
 * @example
 * ```ts
 * import { Train, Layers, Optim, Loss, Random, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const model = Layers.dense(2, 2)
 * const data = { x: tensor([[1, 0], [0, 1], [1, 1]]), labels: Int32Array.from([0, 1, 0]) }
 * const steps = Train.fitSteps({ model, params: model.init(Random.key(0)), optimizer: Optim.sgd({ lr: 0.1 }), loss: Loss.crossEntropyWithLogits, data, epochs: 2, batchSize: 2, key: Random.key(1) })
 * const seen: string[] = []
 * let next = steps.next()
 * for (; !next.done; next = steps.next()) seen.push(`${next.value.epoch}.${next.value.step}`)
 * assert.deepStrictEqual(seen, ['1.1', '1.2', '2.1', '2.2'])
 * assert.strictEqual(next.value.history.length, 2)
 * ```
 */
export function* fitSteps<P, S, O, T extends Labels = Int32Array>(options: FitOptions<P, S, O, T>): Generator<StepReport, FitResult<P, S, O>, void> {
  const { model, optimizer, loss, data, epochs, batchSize } = options
  checkDataset(data, 'fit')
  if (!Number.isSafeInteger(epochs) || epochs < 0 || epochs > maxEpochs) {
    throw new ArgumentError(`fit: epochs must be an integer in 0…${maxEpochs} (Train.maxEpochs), got ${epochs}`)
  }
  const initialEpoch = options.initialEpoch ?? 0
  if (!Number.isSafeInteger(initialEpoch) || initialEpoch < 0 || initialEpoch > epochs) {
    throw new ArgumentError(`fit: initialEpoch must be an integer in 0…epochs (${epochs}), got ${initialEpoch}`)
  }
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new ArgumentError(`fit: the batch size must be a positive integer, got ${batchSize}`)
  const checkFinite = options.checkFinite !== false
  const n = data.x.shape[0]!
  let params = options.params
  let state = options.state ?? model.initState()
  let optimizerState = options.optimizerState ?? optimizer.init(options.params)
  // built once, one push per epoch (copying it every epoch made long runs quadratic)
  const history: EpochReport[] = []
  let last = { epoch: 0, step: 0, steps: 0 }
  const result = (stopped: boolean): FitResult<P, S, O> => ({ params, state, optimizerState, history, ...(stopped ? { stopped: last } : {}) })
  for (let e = initialEpoch; e < epochs; e++) {
    const started = performance.now()
    // the e-th of split(key, epochs), drawn alone; split(k, 3) extends split(k, 2): the order
    // and dropout keys are those of runs without augmentation
    const [orderKey, dropoutKey, augmentKey] = Random.split(Random.splitAt(options.key, e), 3)
    const batches = minibatches(orderKey!, n, batchSize)
    const stepKeys = Random.split(dropoutKey!, batches.length)
    const augmentKeys = options.augment === undefined ? [] : Random.split(augmentKey!, batches.length)
    let total = 0
    for (let b = 0; b < batches.length; b++) {
      if (options.shouldStop?.() === true) return result(true)
      const indices = batches[b]!
      const drawn: Dataset<T> = { x: takeRows(data.x, indices), labels: takeLabels(data.labels, indices) }
      const batch = options.augment === undefined ? drawn : options.augment(drawn, augmentKeys[b]!)
      const next = step(model, params, state, optimizer, optimizerState, loss, batch, stepKeys[b]!)
      if (checkFinite && !Number.isFinite(next.loss)) throw new DivergenceError(e + 1, b + 1, batches.length, 'loss', 'loss', next.loss)
      params = next.params
      state = next.state
      optimizerState = next.optimizerState
      total += next.loss
      last = { epoch: e + 1, step: b + 1, steps: batches.length }
      const report: StepReport = { epoch: e + 1, step: b + 1, steps: batches.length, loss: next.loss }
      options.onBatch?.(report)
      yield report
    }
    if (checkFinite) {
      // once an epoch: a broken update shows in the next step's loss, except after the last step
      const badParam = firstNonFinite(params)
      if (badParam !== undefined) throw new DivergenceError(e + 1, batches.length, batches.length, 'parameter', badParam.where, badParam.value)
      const badState = firstNonFinite(state)
      if (badState !== undefined) throw new DivergenceError(e + 1, batches.length, batches.length, 'state', badState.where, badState.value)
    }
    const report: EpochReport = { epoch: e + 1, loss: total / Math.max(1, batches.length), seconds: (performance.now() - started) / 1000 }
    history.push(report)
    options.onEpoch?.(report)
  }
  return result(false)
}

/**
 * Trains `model` for `epochs` passes over `data` in shuffled minibatches (the order drawn
 * from `key`, so the same key gives the same trajectory). A fold: the result is the final
 * parameters, state and optimizer state, and the mean training loss of each epoch.
 *
 * Refused up front: a bad dataset, batch size, or epoch count (more than {@link maxEpochs}).
 * By default a run that diverges stops with a {@link DivergenceError} at the first NaN or
 * infinite loss (or parameter, checked at each epoch's end) instead of returning broken
 * parameters. `shouldStop` ends a run early between two steps (the result says where).
 * Time is linear in the number of epochs.
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
 * // stopped after three steps
 * let steps = 0
 * const early = Train.fit({ model, params: model.init(Random.key(0)), optimizer: Optim.sgd({ lr: 0.5 }), loss: Loss.crossEntropyWithLogits, data, epochs: 20, batchSize: 2, key: Random.key(1), shouldStop: () => steps++ === 3 })
 * assert.deepStrictEqual(early.stopped, { epoch: 2, step: 1, steps: 2 })
 * assert.strictEqual(early.history.length, 1)
 * ```
 */
export const fit = <P, S, O, T extends Labels = Int32Array>(options: FitOptions<P, S, O, T>): FitResult<P, S, O> => {
  const run = fitSteps(options)
  for (;;) {
    const next = run.next()
    if (next.done === true) return next.value
  }
}

/** Options of {@link fitAsync}: those of {@link fit}, and how often to let other work run. */
export interface FitAsyncOptions<P, S, O, T extends Labels = Int32Array> extends FitOptions<P, S, O, T> {
  /** Milliseconds of training between two pauses (default 50); a pause lets timers, I/O and signal handlers run. */
  readonly yieldEvery?: number
}

const pause = (): Promise<void> =>
  new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)))

/**
 * {@link fit}, pausing between steps (at most every `yieldEvery` ms) so that the event loop
 * runs: a signal handler (Ctrl-C) can set the flag `shouldStop` reads, a page stays
 * responsive. Same result, same trajectory, same errors (as a rejection).
 *
 * @example
 * ```ts
 * import { Train, Layers, Optim, Loss, Random, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const model = Layers.dense(2, 2)
 * const data = { x: tensor([[1, 0], [0, 1]]), labels: Int32Array.from([0, 1]) }
 * const options = { model, params: model.init(Random.key(0)), optimizer: Optim.sgd({ lr: 0.1 }), loss: Loss.crossEntropyWithLogits, data, epochs: 3, batchSize: 1, key: Random.key(1) }
 * const a = await Train.fitAsync({ ...options, yieldEvery: 0 })
 * const b = Train.fit(options)
 * assert.deepStrictEqual(a.params.w.toArray(), b.params.w.toArray())
 * ```
 */
export const fitAsync = async <P, S, O, T extends Labels = Int32Array>(options: FitAsyncOptions<P, S, O, T>): Promise<FitResult<P, S, O>> => {
  const every = options.yieldEvery ?? 50
  if (!(every >= 0)) throw new ArgumentError(`fitAsync: yieldEvery must be a number of milliseconds ≥ 0, got ${every}`)
  const run = fitSteps(options)
  let since = performance.now()
  for (;;) {
    const next = run.next()
    if (next.done === true) return next.value
    if (performance.now() - since >= every) {
      await pause()
      since = performance.now()
    }
  }
}

/** Loss, accuracy and confusion matrix of a classifier on a dataset. */
export interface Evaluation {
  readonly accuracy: number
  /** `confusion[actual][predicted]` counts. */
  readonly confusion: number[][]
  /** Mean loss, when a loss was given. */
  readonly loss?: number
}

/** The metrics of a regression model on a dataset, over every output of every example. */
export interface RegressionEvaluation {
  /** Mean squared error: the mean of (ŷ − y)² over all outputs of all examples. */
  readonly mse: number
  /** Mean absolute error: the mean of |ŷ − y|. */
  readonly mae: number
  /**
   * The coefficient of determination R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)², per output (its own mean
   * ȳ), averaged over the outputs (scikit-learn's `uniform_average`). An output whose targets
   * are all equal counts 1 when predicted exactly, 0 otherwise.
   */
  readonly r2: number
  /** R² of each output. */
  readonly r2PerOutput: readonly number[]
  /** Mean loss, when a loss was given. */
  readonly loss?: number
}

/** What {@link evaluate} gives: classification metrics for class labels, regression metrics for targets. */
export type EvaluationOf<T extends Labels> = T extends Tensor ? RegressionEvaluation : Evaluation

/**
 * Evaluates a model (inference mode) in batches. With class labels: accuracy, confusion
 * matrix, and the mean loss if `loss` is given. A model with several outputs predicts the
 * largest; a model with one output is a binary classifier that predicts 1 when its output
 * exceeds `binaryThreshold` (0 for a logit, the default; 1/2 for a probability). With real
 * targets (`Dataset<Tensor>`, regression): MSE, MAE and R² (see {@link RegressionEvaluation}),
 * and the mean loss if given.
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
 * // one output: a binary classifier on its logit (class 1 when the logit is over 0)
 * const logit = Layers.dense(1, 1)
 * const b = Train.evaluate(logit, { w: tensor([[1]]), b: tensor([0]) }, {}, { x: tensor([[1], [-1], [2]]), labels: Int32Array.from([1, 0, 0]) })
 * assert.strictEqual(b.accuracy, 2 / 3)
 * assert.deepStrictEqual(b.confusion, [[1, 1], [0, 1]])
 * // real targets: regression metrics. ŷ = x against y = [1, 2, 4]: errors 0, 0, −1
 * const r = Train.evaluate(logit, { w: tensor([[1]]), b: tensor([0]) }, {}, { x: tensor([[1], [2], [3]]), labels: tensor([[1], [2], [4]]) })
 * assert.deepStrictEqual([r.mse, r.mae], [1 / 3, 1 / 3])
 * // ȳ = 7/3: Σ(y − ȳ)² = 14/3, so R² = 1 − 1/(14/3)
 * assert.ok(Math.abs(r.r2 - (1 - 3 / 14)) < 1e-15)
 * ```
 */
export const evaluate = <P, S, T extends Labels = Int32Array>(
  model: Layer<Shape, OutSpec, P, S>,
  params: P,
  state: S,
  data: Dataset<T>,
  loss?: Loss<T>,
  batchSize = 1024,
  binaryThreshold = 0
): EvaluationOf<T> => {
  checkDataset(data, 'evaluate')
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new ArgumentError(`evaluate: the batch size must be a positive integer, got ${batchSize}`)
  const n = data.x.shape[0]!
  let lossSum = 0
  const outputs = (start: number): { readonly y: Tensor; readonly labels: T; readonly rows: number } => {
    const indices = Int32Array.from({ length: Math.min(batchSize, n - start) }, (_, i) => start + i)
    const labels = takeLabels(data.labels, indices)
    const y = model.forward(params, takeRows(data.x, indices), { training: false, state }).y
    if (loss !== undefined) lossSum += loss(y, labels).item() * indices.length
    return { y, labels, rows: indices.length }
  }
  const withLoss = <E>(e: E): E => (loss === undefined ? e : { ...e, loss: lossSum / Math.max(1, n) })
  if (data.labels instanceof Tensor) {
    const targets = data.labels as Tensor
    const k = Sh.size(targets.shape.slice(1))
    // per output: Welford's running mean and sum of squared deviations of the targets (no
    // cancellation for targets far from 0), and the sums of squared and absolute errors
    const count = new Float64Array(k)
    const mean = new Float64Array(k)
    const deviations = new Float64Array(k)
    const squared = new Float64Array(k)
    let absolute = 0
    for (let start = 0; start < n; start += batchSize) {
      const { y, labels } = outputs(start)
      if (!Sh.equals(y.shape, (labels as Tensor).shape)) {
        throw new ShapeError(`evaluate: the model gives outputs of shape ${Sh.show(y.shape)} but the targets have shape ${Sh.show((labels as Tensor).shape)}`)
      }
      const predicted = concreteBuffer(y)
      const actual = concreteBuffer(labels as Tensor)
      for (let i = 0; i < actual.length; i++) {
        const j = i % k
        const target = actual[i]!
        const error = predicted[i]! - target
        squared[j] = squared[j]! + error * error
        absolute += Math.abs(error)
        const seen = (count[j] = count[j]! + 1)
        const delta = target - mean[j]!
        mean[j] = mean[j]! + delta / seen
        deviations[j] = deviations[j]! + delta * (target - mean[j]!)
      }
    }
    const r2PerOutput = Array.from(deviations, (sst, j) => (sst > 0 ? 1 - squared[j]! / sst : squared[j] === 0 ? 1 : 0))
    const cells = Math.max(1, n * k)
    const metrics: RegressionEvaluation = {
      mse: squared.reduce((a, b) => a + b, 0) / cells,
      mae: absolute / cells,
      r2: r2PerOutput.length === 0 ? 0 : r2PerOutput.reduce((a, b) => a + b, 0) / r2PerOutput.length,
      r2PerOutput
    }
    return withLoss(metrics) as EvaluationOf<T>
  }
  let correct = 0
  let classes = 0
  const counts = new Map<string, number>()
  for (let start = 0; start < n; start += batchSize) {
    const { y, labels } = outputs(start)
    const k = y.shape[y.rank - 1] ?? 1
    classes = Math.max(classes, k === 1 ? 2 : k)
    const scores = concreteBuffer(y)
    ;(labels as Int32Array).forEach((label, r) => {
      let best = k === 1 ? (scores[r]! > binaryThreshold ? 1 : 0) : 0
      for (let c = 1; c < k; c++) if (scores[r * k + c]! > scores[r * k + best]!) best = c
      if (best === label) correct++
      classes = Math.max(classes, label + 1)
      counts.set(`${label},${best}`, (counts.get(`${label},${best}`) ?? 0) + 1)
    })
  }
  const confusion = Array.from({ length: classes }, (_, a) => Array.from({ length: classes }, (_, p) => counts.get(`${a},${p}`) ?? 0))
  return withLoss({ accuracy: n === 0 ? 0 : correct / n, confusion }) as EvaluationOf<T>
}
