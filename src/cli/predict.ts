/**
 * `lamina predict --model model.safetensors --input inputs.json|inputs.csv [--output out.json] [--probabilities]`:
 * the class and the scores (the model's outputs) of each input, and with `--probabilities`
 * the class probabilities (see `probabilityReading`: softmax over logits, sigmoid for a
 * one-output binary model, none when the model already ends in a softmax or sigmoid).
 * A one-output binary model's class is 1 when its probability is over 1/2 (a logit > 0).
 * A regression model (metadata `task: regression`) predicts real values: each prediction is
 * its `values` (the outputs), and a CSV input's target columns (`y`, `target`, `y_0 …`, or
 * those the model was trained on) are left out like label columns.
 *
 * Inputs: JSON, an array of examples or `{ "x": [...] }` (other keys, such as labels, are
 * ignored), each example a nest of numbers with as many elements as the model's input; or
 * CSV, one example per row, with an optional header row (a column named `label` or
 * `label_k` is left out): `--header`/`--no-header` say whether there is one; without them a
 * first row of names only is a header and a row of numbers only is data (a row that mixes
 * both is an error), so prediction `i` is always example `i`.
 *
 * @module
 */
import path from 'node:path'
import * as Sh from '../shape.js'
import type { Shape } from '../shape.js'
import { concreteBuffer } from '../tensor.js'
import type { Tensor } from '../tensor.js'
import * as Dataset from '../io/dataset.js'
import { ExitCode, UsageError } from './command.js'
import type { Subcommand } from './command.js'
import { readInputText, writeAtomic } from './files.js'
import { loadModel, probabilityReading, recordedTargets } from './model-file.js'
import { jsonNumbers, orFail } from './options.js'
import type { ProbabilityReading } from './model-file.js'

/**
 * The inputs of a model from a file, as a tensor `[N, ...shape]`: a `.csv` file (one example
 * per row; `header` says whether the first row names the columns, or, when undefined, the row
 * decides: names only is a header, numbers only is data, a mix is an error), or JSON (an array
 * of examples or `{ "x": [...] }`). Every problem is a one-line failure naming the file, the
 * line and column or the path, and the limit broken (see `Dataset.inputsFromCsv` and
 * `Dataset.inputsFromJson`).
 */
export const readInputs = (file: string, shape: Shape, header?: boolean, exclude?: readonly string[]): Tensor => {
  const text = readInputText(file, 'input')
  const options = { shape, name: path.basename(file), ...(exclude === undefined ? {} : { exclude }) }
  const x = file.toLowerCase().endsWith('.csv')
    ? Dataset.inputsFromCsv(text, header === undefined ? options : { ...options, header })
    : Dataset.parseInputsJson(text, options)
  return orFail(x)
}

/** How many predictions go into one write. */
const CHUNK = 4096

/** One prediction: the class (index of the largest score) and the scores, and the probabilities when asked for. */
export interface Prediction {
  readonly class: number
  readonly scores: (number | string)[]
  readonly probabilities?: (number | string)[]
}

/**
 * The class probabilities of one row of outputs `scores`, read as `reading` says (see
 * `ProbabilityReading`): softmax (shifted by the largest score, so large logits do not
 * overflow), sigmoid per output, exp of log-probabilities, or the outputs as they are.
 */
export const probabilities = (scores: ArrayLike<number>, reading: ProbabilityReading): Float64Array => {
  const p = Float64Array.from(scores)
  switch (reading) {
    case 'as-is':
      return p
    case 'exp':
      return p.map(Math.exp)
    case 'sigmoid':
      // 1 / (1 + e^−x), written so that neither branch overflows
      return p.map((x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))))
    case 'softmax': {
      const m = p.reduce((a, b) => (b > a ? b : a), -Infinity)
      const e = p.map((x) => Math.exp(x - m))
      const z = e.reduce((a, b) => a + b, 0)
      return e.map((x) => x / z)
    }
  }
}

interface PredictCliOptions {
  readonly model: string
  readonly input: string
  readonly output?: string
  readonly json?: boolean
  readonly probabilities?: boolean
  readonly seed?: string
  /** `--header` (true), `--no-header` (false), or neither (decided from the first row). */
  readonly header?: boolean
}

/** `lamina predict`. */
export const predictCommand: Subcommand = (program, { io, exit }) => {
  program
    .command('predict')
    .summary('predict the class and scores of each input with a saved model')
    .description(
      'Load a model written by lamina train and predict each input: its class (the index of the largest output; for a one-output binary model, 1 when its probability is over 1/2, i.e. a logit > 0) and its scores (the outputs), and with --probabilities the class probabilities; a regression model predicts the values of its outputs. Inputs: a JSON array of examples or { "x": [...] }, or a CSV file, one example per row, numbers in decimal notation (a header row and label columns are allowed: a first row of names only is a header, a row of numbers only is data, see --header/--no-header). Prediction i is always example i.'
    )
    .requiredOption('-m, --model <file>', 'the model (.safetensors written by lamina train)')
    .requiredOption('-i, --input <file>', 'the inputs (.json or .csv)')
    .option('-o, --output <file>', 'write the predictions as JSON to this file (atomically)')
    .option('--seed <n>', 'accepted for symmetry with the other commands; prediction is deterministic')
    .option('--json', 'print the predictions as JSON instead of a table')
    .option(
      '-p, --probabilities',
      'also give each class probability (JSON: "probabilities", an array per row; the table shows them instead of the scores): a softmax over the outputs, a sigmoid for a one-output binary model or one trained with a binary loss; applied once: a model that ends in softmax or sigmoid already outputs probabilities (taken as they are), one that ends in logSoftmax gets exp'
    )
    .option('--header', 'CSV: the first row names the columns (label columns are left out)')
    .option('--no-header', 'CSV: the first row is data (by default a row of names only is a header, a row of numbers only is data)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ lamina predict --model mlp.safetensors --input digits.json --output predictions.json\n  $ lamina predict --model mlp.safetensors --input rows.csv --no-header --json\n  $ lamina predict --model mlp.safetensors --input digits.json --probabilities\n'
    )
    .action(async (options: PredictCliOptions) => {
      const loaded = loadModel(options.model)
      const { model, inputShape } = loaded.built
      const regression = loaded.task === 'regression'
      if (regression && options.probabilities === true) throw new UsageError(`--probabilities: ${options.model} is a regression model, it predicts values, not classes`)
      // a regression model's targets are left out of CSV inputs, as label columns are
      const exclude = regression ? [...(recordedTargets(loaded) ?? []), ...csvTargetNames(options.input)] : undefined
      const x = readInputs(options.input, inputShape, options.header, exclude)
      const n = x.shape[0]!
      const y = model.forward(loaded.params, x, { training: false, state: loaded.state }).y
      const k = Sh.size(y.shape.slice(1))
      const scores = concreteBuffer(y)
      if (regression) {
        await writeValues(options, n, k, scores, io.stdout)
        exit(ExitCode.ok)
        return
      }
      const reading = probabilityReading(loaded)
      const row = (r: number): Float64Array => probabilities(scores.subarray(r * k, (r + 1) * k), reading)
      // the output is written in chunks straight from the scores (no object per prediction,
      // no indented document), so a million rows cost their text once
      const best = (r: number): number => {
        // one output: a binary classifier, class 1 when its probability is over 1/2
        if (k === 1) return row(r)[0]! > 0.5 ? 1 : 0
        let b = 0
        for (let c = 1; c < k; c++) if (scores[r * k + c]! > scores[r * k + b]!) b = c
        return b
      }
      const json = function* (): Generator<string> {
        yield `{\n  "model": ${JSON.stringify(options.model)},\n  "input": ${JSON.stringify(options.input)},\n  "predictions": [\n`
        for (let r = 0; r < n; r += CHUNK) {
          const lines: string[] = []
          for (let i = r; i < Math.min(n, r + CHUNK); i++) {
            const s = jsonNumbers(scores.subarray(i * k, (i + 1) * k))
            const prediction: Prediction = options.probabilities === true ? { class: best(i), scores: s, probabilities: jsonNumbers(row(i)) } : { class: best(i), scores: s }
            lines.push(`    ${JSON.stringify(prediction)}${i + 1 < n ? ',' : ''}\n`)
          }
          yield lines.join('')
        }
        yield '  ]\n}\n'
      }
      if (options.output !== undefined) {
        await writeAtomic(options.output, [...json()].join(''), 'predictions')
        if (options.json !== true) io.stdout(`wrote ${n} predictions to ${options.output}\n`)
      }
      if (options.json === true) for (const chunk of json()) io.stdout(chunk)
      else if (options.output === undefined) {
        io.stdout(`${'#'.padStart(5)}  class  ${options.probabilities === true ? 'probabilities' : 'scores'}\n`)
        for (let r = 0; r < n; r += CHUNK) {
          const lines: string[] = []
          for (let i = r; i < Math.min(n, r + CHUNK); i++) {
            const values = options.probabilities === true ? row(i) : scores.subarray(i * k, (i + 1) * k)
            const shown = jsonNumbers(values).map((v) => (typeof v === 'number' ? v.toPrecision(4) : v))
            lines.push(`${String(i).padStart(5)}  ${String(best(i)).padStart(5)}  ${shown.join(' ')}\n`)
          }
          io.stdout(lines.join(''))
        }
      }
      exit(ExitCode.ok)
    })
}

/** The default target column names (`y`, `target`, `y_0 …`) among a CSV file's first row; none for other files. */
const csvTargetNames = (file: string): string[] => {
  if (!file.toLowerCase().endsWith('.csv')) return []
  const first = readInputText(file, 'input').split(/\r?\n/, 1)[0] ?? ''
  return first
    .split(',')
    .map((c) => c.trim().replace(/^"|"$/g, ''))
    .filter(Dataset.isTargetColumn)
}

/** A regression model's predictions: the values of each input, as a table, as JSON, or in a file. */
const writeValues = async (
  options: Pick<PredictCliOptions, 'model' | 'input' | 'output' | 'json'>,
  n: number,
  k: number,
  values: ArrayLike<number> & { subarray: (a: number, b: number) => ArrayLike<number> },
  stdout: (s: string) => void
): Promise<void> => {
  const json = function* (): Generator<string> {
    yield `{\n  "model": ${JSON.stringify(options.model)},\n  "input": ${JSON.stringify(options.input)},\n  "task": "regression",\n  "predictions": [\n`
    for (let r = 0; r < n; r += CHUNK) {
      const lines: string[] = []
      for (let i = r; i < Math.min(n, r + CHUNK); i++) lines.push(`    ${JSON.stringify({ values: jsonNumbers(values.subarray(i * k, (i + 1) * k)) })}${i + 1 < n ? ',' : ''}\n`)
      yield lines.join('')
    }
    yield '  ]\n}\n'
  }
  if (options.output !== undefined) {
    await writeAtomic(options.output, [...json()].join(''), 'predictions')
    if (options.json !== true) stdout(`wrote ${n} predictions to ${options.output}\n`)
  }
  if (options.json === true) for (const chunk of json()) stdout(chunk)
  else if (options.output === undefined) {
    stdout(`${'#'.padStart(5)}  values\n`)
    for (let r = 0; r < n; r += CHUNK) {
      const lines: string[] = []
      for (let i = r; i < Math.min(n, r + CHUNK); i++) {
        const shown = jsonNumbers(values.subarray(i * k, (i + 1) * k)).map((v) => (typeof v === 'number' ? v.toPrecision(6) : v))
        lines.push(`${String(i).padStart(5)}  ${shown.join(' ')}\n`)
      }
      stdout(lines.join(''))
    }
  }
}
