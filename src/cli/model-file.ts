/**
 * Model files as the commands use them: saving and loading a model as a safetensors file
 * whose metadata carries its spec, and reading what the file records about its outputs (the
 * loss it was trained with, its classes, its regression targets, how its outputs become
 * probabilities).
 *
 * A model file holds the parameters under their `fromTree` names (`layers.0.w`, the names
 * PyTorch and JAX users see) and the layer state (batch-norm running statistics) under
 * `state.…`; its metadata is `{ lamina: "1", spec: <the model spec as JSON>, … }`, plus
 * whatever the training run recorded (all strings, as the format requires).
 *
 * @module
 */
import { LaminaError } from '../error.js'
import * as Sh from '../shape.js'
import type { Shape } from '../shape.js'
import * as Checkpoint from '../io/checkpoint.js'
import * as Spec from '../io/spec.js'
import { astype } from '../ops.js'
import { CommandFailure } from './command.js'
import { readInput } from './files.js'
import { failure, orFail } from './options.js'

// ================================================================ model files

/** Encodes a model as a checkpoint (see `io/checkpoint`). */
export const encodeModel = Checkpoint.encode

/** A model read back from a file, validated. */
export type LoadedModel = Checkpoint.Checkpoint

/**
 * Decodes and validates a model file completely (see `Checkpoint.decode`); every problem is
 * a {@link CommandFailure} with a one-line reason.
 */
export const decodeModel = (bytes: Uint8Array): LoadedModel => orFail(Checkpoint.decode(bytes))

/**
 * The model of a checkpoint, running in the checkpoint's dtype: its `forward` converts an
 * input of another dtype first, so an `f32` model file evaluates and predicts in `f32`
 * whatever the inputs were parsed as.
 */
export const inFileDType = (loaded: LoadedModel): LoadedModel => {
  const { model } = loaded.built
  const dtype = loaded.dtype
  const cast: Spec.Model = { ...model, forward: (params, x, context) => model.forward(params, x.dtype === dtype ? x : astype(x, dtype), context) }
  return { ...loaded, built: { ...loaded.built, model: cast } }
}

/**
 * Reads (with {@link readInput}) and validates a model file (see {@link decodeModel});
 * failures name the file. The model runs in the file's dtype (see {@link inFileDType}).
 */
export const loadModel = (file: string): LoadedModel => {
  const bytes = readInput(file, 'model')
  try {
    return inFileDType(decodeModel(bytes))
  } catch (e) {
    if (e instanceof CommandFailure) throw new CommandFailure(`${file}: ${e.message}`)
    if (e instanceof LaminaError) throw new CommandFailure(`${file}: ${failure(e).message}`)
    throw e
  }
}

/** The target column names a regression model file records (its `targets` metadata, a JSON array of strings), if any. */
export const recordedTargets = (loaded: Pick<LoadedModel, 'metadata'>): readonly string[] | undefined => {
  try {
    const value: unknown = JSON.parse(loaded.metadata['targets'] ?? 'null')
    return Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string') ? (value as string[]) : undefined
  } catch {
    return undefined
  }
}

/** The number of classes a model's output gives (its width, when it is a vector wider than 1). */
export const classesOf = (outputShape: Shape): number | undefined =>
  outputShape.length === 1 && outputShape[0]! > 1 ? outputShape[0]! : undefined

// ================================================================ how a model's outputs read

/**
 * The loss a model file was trained with: its `loss` metadata (checked by `Checkpoint.decode`),
 * else the `loss` of its `training` metadata (what `lamina train` wrote before it recorded
 * `loss`). A file without one (no `training` metadata, one without a `loss` key, or one that
 * does not decode) gets the loss its task and output imply: `mse` for a regression model;
 * a one-output model is a binary classifier
 * (`binaryCrossEntropy` when its last layer is a sigmoid, `binaryCrossEntropyWithLogits`
 * otherwise); a wider one is a classifier over its outputs (`crossEntropy` after a softmax,
 * `nll` after a log-softmax, `crossEntropyWithLogits` otherwise, `Spec.trainingDefaults.loss`).
 */
export const lossName = (loaded: Pick<LoadedModel, 'metadata' | 'built'>): Spec.LossName => {
  const recorded = loaded.metadata['loss']
  if (recorded !== undefined && (Spec.lossNames as readonly string[]).includes(recorded)) return recorded as Spec.LossName
  try {
    const text = loaded.metadata['training']
    const training: unknown = text === undefined ? undefined : JSON.parse(text)
    // only a loss the file names: decoding fills in the default (cross-entropy on logits) for a config without one
    if (typeof training === 'object' && training !== null && Object.prototype.hasOwnProperty.call(training, 'loss')) {
      const decoded = Spec.decodeTraining(training)
      if (decoded._tag === 'Right') return decoded.right.loss
    }
  } catch {
    // not JSON: fall through to the default
  }
  if (loaded.metadata['task'] === 'regression') return 'mse'
  const last = loaded.built.model.spec.layers.at(-1)?.kind
  if (Sh.size(loaded.built.outputShape) === 1) return last === 'sigmoid' ? 'binaryCrossEntropy' : 'binaryCrossEntropyWithLogits'
  return last === 'softmax' ? 'crossEntropy' : last === 'logSoftmax' ? 'nll' : Spec.trainingDefaults.loss
}

/**
 * How a classifier's outputs become class probabilities: `as-is` (the model ends in a softmax,
 * or in a sigmoid: already probabilities), `exp` (it ends in a log-softmax), `softmax` (logits
 * of one class each), `sigmoid` (a logit per output, independent: a one-output binary model,
 * or a model trained with a binary loss). The model's last layer decides first, so a squashing
 * layer is never applied twice; then the loss (see {@link lossName}).
 */
export type ProbabilityReading = 'as-is' | 'exp' | 'softmax' | 'sigmoid'

/** The {@link ProbabilityReading} of a model file. */
export const probabilityReading = (loaded: Pick<LoadedModel, 'metadata' | 'built'>): ProbabilityReading => {
  const last = loaded.built.model.spec.layers.at(-1)?.kind
  if (last === 'softmax' || last === 'sigmoid') return 'as-is'
  if (last === 'logSoftmax') return 'exp'
  const loss = lossName(loaded)
  return loss === 'binaryCrossEntropyWithLogits' || loss === 'binaryCrossEntropy' || Sh.size(loaded.built.outputShape) === 1 ? 'sigmoid' : 'softmax'
}
