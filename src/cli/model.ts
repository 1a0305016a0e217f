/**
 * What `train`, `eval`, `predict` and `inspect` share: reading files, parsing numeric
 * options, loading datasets (`mnist`, JSON, CSV) for a model's input shape, and saving and
 * loading a model as a safetensors file whose metadata carries its spec.
 *
 * A model file holds the parameters under their `fromTree` names (`layers.0.w`, the names
 * PyTorch and JAX users see) and the layer state (batch-norm running statistics) under
 * `state.…`; its metadata is `{ lamina: "1", spec: <the model spec as JSON>, … }`, plus
 * whatever the training run recorded (all strings, as the format requires).
 *
 * @module
 */
import path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { LaminaError } from '../error.js'
import * as Sh from '../shape.js'
import type { Shape } from '../shape.js'
import * as Dataset from '../io/dataset.js'
import * as Checkpoint from '../io/checkpoint.js'
import * as Safetensors from '../io/safetensors.js'
import * as Spec from '../io/spec.js'
import { writeFileAtomic } from '../io/atomic.js'
import * as ReadFile from '../io/read-file.js'
import { astype } from '../ops.js'
import type { DType } from '../tensor.js'
import { parseDecimal } from '../io/codec.js'
import { CommandFailure, UsageError, quote } from './command.js'

// ================================================================ messages and options

/** A message on one line: a multi-line message (a `DecodeError`'s list of problems) joined with `; `. */
export const oneLine = (message: string): string =>
  message
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join('; ')

/** A lamina error as a one-line failure (exit 1): `ShapeError: layer 3 expects …`. */
export const failure = (e: LaminaError): CommandFailure =>
  new CommandFailure(
    e instanceof Safetensors.SafetensorsError || e instanceof Checkpoint.CheckpointError ? oneLine(e.message) : `${e.name}: ${oneLine(e.message)}`
  )

/** The right of an `Either`, or its left thrown as a one-line failure. */
export const orFail = <A>(result: E.Either<LaminaError, A>, context?: string): A => {
  if (E.isRight(result)) return result.right
  const e = failure(result.left)
  throw context === undefined ? e : new CommandFailure(`${context}: ${e.message}`)
}

/** An integer option: `--epochs 3`; bad usage otherwise. */
export const intOption = (name: string, text: string, min: number): number => {
  const n = Number(text)
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`${name} must be an integer ${min === 0 ? '≥ 0' : `≥ ${min}`}, got ${quote(text)}`)
  }
  return n
}

/** A positive number option: `--lr 0.001`; bad usage otherwise. */
export const positiveOption = (name: string, text: string): number => {
  const n = parseDecimal(text)
  if (n === undefined || n <= 0) throw new UsageError(`${name} must be a positive number, got ${quote(text)}`)
  return n
}

/** The kinds of input file the commands read (`--model`, `--data`, `--spec`, `--config`, `--input`), each with its size limit. */
export type InputKind = ReadFile.FileKind

/** What the messages call each kind of input file. */
const WHAT: Readonly<Record<InputKind, string>> = { model: 'model file', data: 'data file', spec: 'spec', config: 'config', input: 'input file' }

/**
 * The bytes of an input file, the one way every command reads one (`--model`, `--data`,
 * `--spec`, `--config`, `--input`): the path must be a regular file (a folder, `/dev/zero`, a
 * FIFO or a socket is refused, and nothing blocks) of at most `ReadFile.MAX_BYTES[kind]`
 * bytes. A missing path, a folder or a non-regular file is bad usage (exit 2); a file over
 * the limit or a read error is a failure (exit 1); each message names the path.
 */
export const readInput = (file: string, kind: InputKind): Uint8Array => {
  const read = ReadFile.readBounded(file, WHAT[kind], ReadFile.MAX_BYTES[kind])
  if (E.isRight(read)) return read.right
  const e = read.left
  throw e.reason === 'missing' || e.reason === 'folder' || e.reason === 'not-a-file' ? new UsageError(e.message) : new CommandFailure(e.message)
}

/** The text (UTF-8) of an input file, read by {@link readInput}. */
export const readInputText = (file: string, kind: InputKind): string => new TextDecoder().decode(readInput(file, kind))

/** Writes a file atomically; a failure names the path. */
export const writeAtomic = async (file: string, data: Uint8Array | string, what: string): Promise<void> => {
  try {
    await writeFileAtomic(file, data)
  } catch (e) {
    throw new CommandFailure(`cannot write ${what} '${file}': ${e instanceof Error ? oneLine(e.message) : String(e)}`)
  }
}

/** A tensor's values as JSON numbers (non-finite ones as strings). */
export const jsonNumbers = (values: ArrayLike<number>): (number | string)[] =>
  Array.from(values, (v) => (Number.isFinite(v) ? v : String(v)))

// ================================================================ specs and data

/** Reads and builds a model spec file; a spec that does not fit is a failure with the `ShapeError` words. */
export const loadSpec = (file: string): Spec.Built => {
  const text = readInputText(file, 'spec')
  return orFail(Spec.load(text), file)
}

/** Which part of MNIST's standard split `--data mnist` means. */
export type MnistPart = 'train' | 'test'

/**
 * A labelled dataset for a model: `mnist` (the given part of the standard split, its first
 * `mnistLimit` digits when given), a `.csv` file, or a JSON file (anything else); examples
 * reshaped to `input` (the model's per-example shape, same number of elements), labels checked
 * against `classes`, values in `dtype` (the model's: default `f64`).
 */
export const loadData = async (
  source: string,
  input: Shape,
  classes: number | undefined,
  part: MnistPart,
  dtype: DType = 'f64',
  mnistLimit?: number
): Promise<Dataset.Labelled> => {
  if (source === 'mnist') {
    if (Sh.size(input) !== 28 * 28) {
      throw new CommandFailure(`--data mnist: the model takes examples of shape ${Sh.show(input)}, not 784 pixels (e.g. "input": [784] or [1, 28, 28])`)
    }
    if (classes !== undefined && classes < 10) throw new CommandFailure(`--data mnist: the model has ${classes} outputs, MNIST has 10 classes`)
    const Mnist = await import('../io/mnist.js')
    const loaded = Mnist.loadPart(part, { shape: input, dtype, ...(mnistLimit === undefined ? {} : { limit: mnistLimit }) })
    if (E.isLeft(loaded)) throw new CommandFailure(oneLine(loaded.left.message))
    return { ...loaded.right, classes: 10 }
  }
  if (mnistLimit !== undefined) throw new UsageError(`--limit applies to --data mnist only, not to ${quote(source)}`)
  const text = readInputText(source, 'data')
  const options = { shape: input, ...(classes === undefined ? {} : { classes }), name: path.basename(source), dtype }
  const data = source.toLowerCase().endsWith('.csv') ? Dataset.fromCsv(text, options) : Dataset.parseJson(text, options)
  return orFail(data)
}

/**
 * A regression dataset for a model: a `.csv` file (target columns `targets`, or by default
 * `y`, `target`, `y_0 …`) or a JSON file `{ "x": [...], "targets": [...] }`; examples reshaped
 * to `input`, targets to `output` (the model's per-example shapes), values in `dtype`.
 */
export const loadRegressionData = (source: string, input: Shape, output: Shape, dtype: DType, targets?: readonly string[]): Dataset.Regression => {
  if (source === 'mnist') throw new UsageError('--data mnist holds class labels, not real-valued targets: a regression model needs a .csv or .json file of targets')
  const text = readInputText(source, 'data')
  const options = { shape: input, targetShape: output, name: path.basename(source), dtype }
  if (source.toLowerCase().endsWith('.csv')) return orFail(Dataset.regressionFromCsv(text, targets === undefined ? options : { ...options, targets }))
  if (targets !== undefined) throw new UsageError('--target names the target columns of a CSV file; a JSON dataset holds its targets under "targets"')
  return orFail(Dataset.parseRegressionJson(text, options))
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
