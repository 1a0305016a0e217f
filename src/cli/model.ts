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
import { readFileSync } from 'node:fs'
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
import { CommandFailure, UsageError } from './command.js'

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
    throw new UsageError(`${name} must be an integer ${min === 0 ? '≥ 0' : `≥ ${min}`}, got '${text}'`)
  }
  return n
}

/** A positive number option: `--lr 0.001`; bad usage otherwise. */
export const positiveOption = (name: string, text: string): number => {
  const n = Number(text)
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`${name} must be a positive number, got '${text}'`)
  return n
}

/** The bytes of a file; a path that does not exist is bad usage, another read error a failure. */
export const readBytes = (file: string, what: string): Uint8Array => {
  try {
    return new Uint8Array(readFileSync(file))
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new UsageError(`${what} '${file}' does not exist`)
    if (code === 'EISDIR') throw new UsageError(`${what} '${file}' is a folder, not a file`)
    throw new CommandFailure(`cannot read ${what} '${file}': ${e instanceof Error ? e.message : String(e)}`)
  }
}

/** The text of a file (UTF-8). */
export const readText = (file: string, what: string): string => new TextDecoder().decode(readBytes(file, what))

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
  const text = readText(file, 'spec')
  return orFail(Spec.load(text), file)
}

/** Which part of the deterministic MNIST split `--data mnist` means. */
export type MnistPart = 'train' | 'test'

/**
 * A labelled dataset for a model: `mnist` (the deterministic split, the given part), a
 * `.csv` file, or a JSON file (anything else); examples reshaped to `input` (the model's
 * per-example shape, same number of elements) and labels checked against `classes`.
 */
export const loadData = async (source: string, input: Shape, classes: number | undefined, part: MnistPart): Promise<Dataset.Labelled> => {
  if (source === 'mnist') {
    if (Sh.size(input) !== 28 * 28) {
      throw new CommandFailure(`--data mnist: the model takes examples of shape ${Sh.show(input)}, not 784 pixels (e.g. "input": [784] or [1, 28, 28])`)
    }
    if (classes !== undefined && classes < 10) throw new CommandFailure(`--data mnist: the model has ${classes} outputs, MNIST has 10 classes`)
    const { loadMnist } = await import('./mnist.js')
    const split = loadMnist(input)
    return { ...split[part], classes: 10 }
  }
  const text = readText(source, 'data file')
  const options = { shape: input, ...(classes === undefined ? {} : { classes }), name: path.basename(source) }
  const data = source.toLowerCase().endsWith('.csv') ? Dataset.fromCsv(text, options) : Dataset.parseJson(text, options)
  return orFail(data)
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

/** Reads and validates a model file (see {@link decodeModel}); failures name the file. */
export const loadModel = (file: string): LoadedModel => {
  const bytes = readBytes(file, 'model file')
  try {
    return decodeModel(bytes)
  } catch (e) {
    if (e instanceof CommandFailure) throw new CommandFailure(`${file}: ${e.message}`)
    if (e instanceof LaminaError) throw new CommandFailure(`${file}: ${failure(e).message}`)
    throw e
  }
}
