/**
 * The files the commands read and write, other than model files: every input file read one
 * bounded way (`--model`, `--data`, `--spec`, `--config`, `--input`), output files written
 * atomically, and the spec and dataset files that `train` and `eval` load for a model's
 * input shape (`mnist`, JSON, CSV).
 *
 * @module
 */
import path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import * as Sh from '../shape.js'
import type { Shape } from '../shape.js'
import * as Dataset from '../io/dataset.js'
import * as Spec from '../io/spec.js'
import { writeFileAtomic } from '../io/atomic.js'
import * as ReadFile from '../io/read-file.js'
import type { DType } from '../tensor.js'
import { CommandFailure, UsageError, quote } from './command.js'
import { oneLine, orFail } from './options.js'

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
