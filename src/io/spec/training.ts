/**
 * Training runs described as JSON: the configuration's types, codec and defaults, and the
 * optimizer and loss a configuration names. Re-exported by `Spec`.
 *
 * @module
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Either } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import type { Tensor } from '../../tensor.js'
import * as Loss from '../../nn/losses.js'
import * as Optim from '../../nn/optim.js'
import type { Optimizer } from '../../nn/optim.js'
import type { Loss as LossFn } from '../../nn/train.js'
import { DecodeError, Fraction, NonNegative, Positive, PositiveInt, SafeInt, decodeWith, oneOf, parseJson, struct, tagged } from '../codec.js'

/** The losses a training configuration can name; each is lamina's loss of that name (see `Loss`). */
export type LossName = 'crossEntropyWithLogits' | 'crossEntropy' | 'nll' | 'mse' | 'l1' | 'binaryCrossEntropyWithLogits' | 'binaryCrossEntropy' | 'huber'

/**
 * The losses a training configuration can name, in the order messages list them.
 *
 * @example
 * ```ts
 * import { Spec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.ok(Spec.lossNames.includes('huber'))
 * ```
 */
export const lossNames: readonly LossName[] = ['crossEntropyWithLogits', 'crossEntropy', 'nll', 'mse', 'l1', 'binaryCrossEntropyWithLogits', 'binaryCrossEntropy', 'huber']

/** What a model is trained to do: predict a class (labels are class indices) or real values (targets). */
export type Task = 'classification' | 'regression'

/** The losses of a regression model: each compares the outputs with real targets of the same shape. */
export type RegressionLossName = 'mse' | 'l1' | 'huber'

/**
 * The losses a regression model can be trained with.
 *
 * @example
 * ```ts
 * import { Spec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(Spec.regressionLossNames, ['mse', 'l1', 'huber'])
 * ```
 */
export const regressionLossNames: readonly RegressionLossName[] = ['mse', 'l1', 'huber']

/** An optimizer and its hyper-parameters, defaults filled in (those of `Optim`). */
export type OptimizerSpec =
  | { readonly kind: 'sgd'; readonly lr: number }
  | { readonly kind: 'momentum' | 'nesterov'; readonly lr: number; readonly beta: number }
  | { readonly kind: 'adagrad'; readonly lr: number; readonly eps: number }
  | { readonly kind: 'rmsprop'; readonly lr: number; readonly decay: number; readonly eps: number }
  | { readonly kind: 'adam'; readonly lr: number; readonly beta1: number; readonly beta2: number; readonly eps: number }
  | { readonly kind: 'adamw'; readonly lr: number; readonly beta1: number; readonly beta2: number; readonly eps: number; readonly weightDecay: number }

/** A training run: every field present (see {@link trainingDefaults}). */
export interface TrainingConfig {
  readonly epochs: number
  readonly batchSize: number
  readonly seed: number
  readonly loss: LossName
  readonly optimizer: OptimizerSpec
}

/**
 * The defaults of a training configuration: 10 epochs of minibatches of 32, seed 0,
 * cross-entropy on logits, Adam with its usual hyper-parameters.
 *
 * @example
 * ```ts
 * import { Spec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Spec.trainingDefaults.optimizer.kind, 'adam')
 * assert.strictEqual(Spec.trainingDefaults.loss, 'crossEntropyWithLogits')
 * ```
 */
export const trainingDefaults: TrainingConfig = {
  epochs: 10,
  batchSize: 32,
  seed: 0,
  loss: 'crossEntropyWithLogits',
  optimizer: { kind: 'adam', lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-8 }
}

const optimizerMembers = {
  sgd: struct('sgd optimizer', { kind: t.literal('sgd') }, { lr: Positive }),
  momentum: struct('momentum optimizer', { kind: t.literal('momentum') }, { lr: Positive, beta: Fraction }),
  nesterov: struct('nesterov optimizer', { kind: t.literal('nesterov') }, { lr: Positive, beta: Fraction }),
  adagrad: struct('adagrad optimizer', { kind: t.literal('adagrad') }, { lr: Positive, eps: Positive }),
  rmsprop: struct('rmsprop optimizer', { kind: t.literal('rmsprop') }, { lr: Positive, decay: Fraction, eps: Positive }),
  adam: struct('adam optimizer', { kind: t.literal('adam') }, { lr: Positive, beta1: Fraction, beta2: Fraction, eps: Positive }),
  adamw: struct('adamw optimizer', { kind: t.literal('adamw') }, { lr: Positive, beta1: Fraction, beta2: Fraction, eps: Positive, weightDecay: NonNegative })
}

type OptimizerInput = t.TypeOf<(typeof optimizerMembers)[keyof typeof optimizerMembers]>

/** The optimizer part of a training configuration, as written (defaults not yet filled in). */
const OptimizerCodec = tagged('kind', 'optimizer', optimizerMembers)

const TrainingInput = struct(
  'training config',
  {},
  { epochs: PositiveInt, batchSize: PositiveInt, seed: SafeInt, loss: oneOf(lossNames), optimizer: OptimizerCodec }
)

const withDefaults = (o: OptimizerInput): OptimizerSpec => {
  switch (o.kind) {
    case 'sgd':
      return { kind: 'sgd', lr: o.lr ?? 0.01 }
    case 'momentum':
    case 'nesterov':
      return { kind: o.kind, lr: o.lr ?? 0.01, beta: o.beta ?? 0.9 }
    case 'adagrad':
      return { kind: 'adagrad', lr: o.lr ?? 0.01, eps: o.eps ?? 1e-10 }
    case 'rmsprop':
      return { kind: 'rmsprop', lr: o.lr ?? 0.001, decay: o.decay ?? 0.9, eps: o.eps ?? 1e-8 }
    case 'adam':
      return { kind: 'adam', lr: o.lr ?? 0.001, beta1: o.beta1 ?? 0.9, beta2: o.beta2 ?? 0.999, eps: o.eps ?? 1e-8 }
    case 'adamw':
      return { kind: 'adamw', lr: o.lr ?? 0.001, beta1: o.beta1 ?? 0.9, beta2: o.beta2 ?? 0.999, eps: o.eps ?? 1e-8, weightDecay: o.weightDecay ?? 0.01 }
  }
}

/**
 * The codec of a training configuration: every field optional, each checked when present
 * (positive integer epochs and batch size, an integer seed, a known loss, an optimizer told
 * apart by `kind` with positive learning rate and decays in [0, 1)); unknown keys are
 * failures. Decoding fills in {@link trainingDefaults} and the optimizer's own defaults.
 *
 * @example
 * ```ts
 * import { Spec, Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * const config = Codec.decodeWith(Spec.TrainingCodec, { epochs: 3, optimizer: { kind: 'sgd', lr: 0.1 } }, 'config')
 * assert.deepStrictEqual(config, { _tag: 'Right', right: { epochs: 3, batchSize: 32, seed: 0, loss: 'crossEntropyWithLogits', optimizer: { kind: 'sgd', lr: 0.1 } } })
 * ```
 */
export const TrainingCodec: t.Type<TrainingConfig, unknown, unknown> = new t.Type<TrainingConfig, unknown, unknown>(
  'training config',
  (u): u is TrainingConfig => TrainingInput.is(u),
  (u, c) => {
    const r = TrainingInput.validate(u, c)
    if (E.isLeft(r)) return r
    const v = r.right
    return t.success({
      epochs: v.epochs ?? trainingDefaults.epochs,
      batchSize: v.batchSize ?? trainingDefaults.batchSize,
      seed: v.seed ?? trainingDefaults.seed,
      loss: v.loss ?? trainingDefaults.loss,
      optimizer: v.optimizer === undefined ? trainingDefaults.optimizer : withDefaults(v.optimizer)
    })
  },
  (a) => a
)

/**
 * Decodes a training configuration (a parsed JSON value), filling in the defaults.
 *
 * @example
 * ```ts
 * import { Spec } from 'lamina-nn'
 * import assert from 'node:assert'
 * const config = Spec.decodeTraining({ epochs: 5, optimizer: { kind: 'adamw', lr: 0.002 } })
 * assert.ok(config._tag === 'Right')
 * assert.deepStrictEqual(config.right.optimizer, { kind: 'adamw', lr: 0.002, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 })
 * const bad = Spec.decodeTraining({ epochs: 0, batchsize: 64, optimizer: { kind: 'adam', lr: -1 } })
 * assert.ok(bad._tag === 'Left')
 * assert.strictEqual(bad.left.message, [
 *   'training config: 3 problems',
 *   '  batchsize: expected no such key (training config keys: epochs, batchSize, seed, loss, optimizer), got 64',
 *   '  epochs: expected positive integer, got 0',
 *   '  optimizer.lr: expected positive number, got -1'
 * ].join('\n'))
 * ```
 */
export const decodeTraining = (value: unknown): Either<DecodeError, TrainingConfig> => decodeWith(TrainingCodec, value, 'training config')

/**
 * Decodes an optimizer spec (a parsed JSON value, as a training configuration's `optimizer`),
 * filling in its defaults.
 *
 * @example
 * ```ts
 * import { Spec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(Spec.decodeOptimizer({ kind: 'momentum' }), { _tag: 'Right', right: { kind: 'momentum', lr: 0.01, beta: 0.9 } })
 * const bad = Spec.decodeOptimizer({ kind: 'adam', lr: 0 })
 * assert.ok(bad._tag === 'Left' && bad.left.message === 'optimizer: lr: expected positive number, got 0')
 * ```
 */
export const decodeOptimizer = (value: unknown): Either<DecodeError, OptimizerSpec> => {
  const decoded = decodeWith(OptimizerCodec, value, 'optimizer')
  return E.isLeft(decoded) ? decoded : E.right(withDefaults(decoded.right as OptimizerInput))
}

/**
 * Parses and decodes a training configuration from JSON text.
 *
 * @example
 * ```ts
 * import { Spec } from 'lamina-nn'
 * import assert from 'node:assert'
 * const config = Spec.parseTraining('{"batchSize": 64, "loss": "mse"}')
 * assert.ok(config._tag === 'Right' && config.right.batchSize === 64 && config.right.epochs === 10)
 * ```
 */
export const parseTraining = (text: string): Either<DecodeError, TrainingConfig> => parseJson(TrainingCodec, text, 'training config')

/**
 * The optimizer a configuration names, built with `Optim`.
 *
 * @example
 * ```ts
 * import { Spec, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const opt = Spec.optimizer({ kind: 'sgd', lr: 0.5 })
 * const params = tensor([1, 2])
 * const [next] = opt.update(tensor([2, -2]), opt.init(params), params)
 * assert.deepStrictEqual(next.toArray(), [0, 3])
 * ```
 */
export const optimizer = (spec: OptimizerSpec): Optimizer<unknown> => {
  switch (spec.kind) {
    case 'sgd':
      return Optim.sgd({ lr: spec.lr })
    case 'momentum':
      return Optim.momentum({ lr: spec.lr, beta: spec.beta })
    case 'nesterov':
      return Optim.nesterov({ lr: spec.lr, beta: spec.beta })
    case 'adagrad':
      return Optim.adagrad({ lr: spec.lr, eps: spec.eps })
    case 'rmsprop':
      return Optim.rmsprop({ lr: spec.lr, decay: spec.decay, eps: spec.eps })
    case 'adam':
      return Optim.adam({ lr: spec.lr, beta1: spec.beta1, beta2: spec.beta2, eps: spec.eps })
    case 'adamw':
      return Optim.adamw({ lr: spec.lr, beta1: spec.beta1, beta2: spec.beta2, eps: spec.eps, weightDecay: spec.weightDecay })
  }
}

/** Targets for a regression or binary loss from class labels: the labels themselves when they fill the prediction, else one-hot rows. */
const targetsOf = (prediction: Tensor, labels: Int32Array): Tensor | Int32Array =>
  prediction.size === labels.length ? labels : Loss.oneHot(labels, prediction.shape[prediction.rank - 1] ?? 1, { dtype: prediction.dtype })

/**
 * The loss a configuration names, as `Train.fit` takes it (a batch of predictions against
 * integer labels). `mse` and `l1` compare with one-hot rows of the labels (or with the labels
 * themselves when the model has one output); the binary losses take labels 0/1.
 *
 * @example
 * ```ts
 * import { Spec, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const mse = Spec.loss('mse')
 * assert.strictEqual(mse(tensor([[1, 0], [0, 0]]), Int32Array.from([0, 1])).item(), 0.25) // mean of (0 + 0)/2 and (0 + 1)/2
 * const ce = Spec.loss('crossEntropyWithLogits')
 * assert.ok(Math.abs(ce(tensor([[0, 0]]), Int32Array.from([1])).item() - Math.LN2) < 1e-15)
 * ```
 */
export const loss = (name: LossName): LossFn => {
  switch (name) {
    case 'crossEntropyWithLogits':
      return (z, labels) => Loss.crossEntropyWithLogits(z, labels)
    case 'crossEntropy':
      return (p, labels) => Loss.crossEntropy(p, labels)
    case 'nll':
      return (logp, labels) => Loss.nll(logp, labels)
    case 'mse':
      return (p, labels) => Loss.mse(p, targetsOf(p, labels) as Tensor)
    case 'l1':
      return (p, labels) => Loss.l1(p, targetsOf(p, labels) as Tensor)
    case 'huber':
      return (p, labels) => Loss.huber(p, targetsOf(p, labels) as Tensor)
    case 'binaryCrossEntropyWithLogits':
      return (z, labels) => Loss.binaryCrossEntropyWithLogits(z, labels)
    case 'binaryCrossEntropy':
      return (p, labels) => Loss.binaryCrossEntropy(p, labels)
  }
}

/**
 * The loss of a regression model, as `Train.fit` takes it: predictions against real targets
 * of the same shape (`Loss.mse`, `Loss.l1`, `Loss.huber` with δ = 1).
 *
 * @example
 * ```ts
 * import { Spec, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const huber = Spec.regressionLoss('huber')
 * assert.strictEqual(huber(tensor([[0.5], [3]]), tensor([[0], [0]])).item(), (0.125 + 2.5) / 2)
 * ```
 */
export const regressionLoss = (name: RegressionLossName): LossFn<Tensor> => {
  switch (name) {
    case 'mse':
      return (p, targets) => Loss.mse(p, targets)
    case 'l1':
      return (p, targets) => Loss.l1(p, targets)
    case 'huber':
      return (p, targets) => Loss.huber(p, targets)
  }
}
