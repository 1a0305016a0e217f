/**
 * `lamina predict --model model.safetensors --input inputs.json|inputs.csv [--output out.json]`:
 * the class and the scores (the model's outputs) of each input.
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
import { ExitCode } from './command.js'
import type { Subcommand } from './command.js'
import { jsonNumbers, loadModel, orFail, readInputText, writeAtomic } from './model.js'

/**
 * The inputs of a model from a file, as a tensor `[N, ...shape]`: a `.csv` file (one example
 * per row; `header` says whether the first row names the columns, or, when undefined, the row
 * decides: names only is a header, numbers only is data, a mix is an error), or JSON (an array
 * of examples or `{ "x": [...] }`). Every problem is a one-line failure naming the file, the
 * line and column or the path, and the limit broken (see `Dataset.inputsFromCsv` and
 * `Dataset.inputsFromJson`).
 */
export const readInputs = (file: string, shape: Shape, header?: boolean): Tensor => {
  const text = readInputText(file, 'input')
  const options = { shape, name: path.basename(file) }
  const x = file.toLowerCase().endsWith('.csv')
    ? Dataset.inputsFromCsv(text, header === undefined ? options : { ...options, header })
    : Dataset.parseInputsJson(text, options)
  return orFail(x)
}

/** How many predictions go into one write. */
const CHUNK = 4096

/** One prediction: the class (index of the largest score) and the scores. */
export interface Prediction {
  readonly class: number
  readonly scores: (number | string)[]
}

interface PredictCliOptions {
  readonly model: string
  readonly input: string
  readonly output?: string
  readonly json?: boolean
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
      'Load a model written by lamina train and predict each input: its class (the index of the largest output) and its scores (the outputs). Inputs: a JSON array of examples or { "x": [...] }, or a CSV file, one example per row, numbers in decimal notation (a header row and label columns are allowed: a first row of names only is a header, a row of numbers only is data, see --header/--no-header). Prediction i is always example i.'
    )
    .requiredOption('-m, --model <file>', 'the model (.safetensors written by lamina train)')
    .requiredOption('-i, --input <file>', 'the inputs (.json or .csv)')
    .option('-o, --output <file>', 'write the predictions as JSON to this file (atomically)')
    .option('--seed <n>', 'accepted for symmetry with the other commands; prediction is deterministic')
    .option('--json', 'print the predictions as JSON instead of a table')
    .option('--header', 'CSV: the first row names the columns (label columns are left out)')
    .option('--no-header', 'CSV: the first row is data (by default a row of names only is a header, a row of numbers only is data)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ lamina predict --model mlp.safetensors --input digits.json --output predictions.json\n  $ lamina predict --model mlp.safetensors --input rows.csv --no-header --json\n'
    )
    .action(async (options: PredictCliOptions) => {
      const loaded = loadModel(options.model)
      const { model, inputShape } = loaded.built
      const x = readInputs(options.input, inputShape, options.header)
      const n = x.shape[0]!
      const y = model.forward(loaded.params, x, { training: false, state: loaded.state }).y
      const k = Sh.size(y.shape.slice(1))
      const scores = concreteBuffer(y)
      // the output is written in chunks straight from the scores (no object per prediction,
      // no indented document), so a million rows cost their text once
      const best = (r: number): number => {
        let b = 0
        for (let c = 1; c < k; c++) if (scores[r * k + c]! > scores[r * k + b]!) b = c
        return b
      }
      const json = function* (): Generator<string> {
        yield `{\n  "model": ${JSON.stringify(options.model)},\n  "input": ${JSON.stringify(options.input)},\n  "predictions": [\n`
        for (let r = 0; r < n; r += CHUNK) {
          const lines: string[] = []
          for (let i = r; i < Math.min(n, r + CHUNK); i++) {
            const prediction: Prediction = { class: best(i), scores: jsonNumbers(scores.subarray(i * k, (i + 1) * k)) }
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
        io.stdout(`${'#'.padStart(5)}  class  scores\n`)
        for (let r = 0; r < n; r += CHUNK) {
          const lines: string[] = []
          for (let i = r; i < Math.min(n, r + CHUNK); i++) {
            const row = jsonNumbers(scores.subarray(i * k, (i + 1) * k)).map((v) => (typeof v === 'number' ? v.toPrecision(4) : v))
            lines.push(`${String(i).padStart(5)}  ${String(best(i)).padStart(5)}  ${row.join(' ')}\n`)
          }
          io.stdout(lines.join(''))
        }
      }
      exit(ExitCode.ok)
    })
}
