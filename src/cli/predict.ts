/**
 * `lamina predict --model model.safetensors --input inputs.json|inputs.csv [--output out.json]`:
 * the class and the scores (the model's outputs) of each input.
 *
 * Inputs: JSON, an array of examples or `{ "x": [...] }` (other keys, such as labels, are
 * ignored), each example a nest of numbers with as many elements as the model's input; or
 * CSV, one example per row, with an optional header row (a column named `label` or
 * `label_k` is left out).
 *
 * @module
 */
import path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import * as Sh from '../shape.js'
import { concreteBuffer, fromBuffer } from '../tensor.js'
import * as Dataset from '../io/dataset.js'
import { CommandFailure, ExitCode } from './command.js'
import type { Subcommand } from './command.js'
import { failure, jsonNumbers, loadModel, readText, writeAtomic } from './model.js'

/** Flattens one example into `out`; a failure names the example. */
const flatten = (example: unknown, index: number, size: number, what: string): number[] => {
  const out: number[] = []
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) for (const c of v) walk(c)
    else if (typeof v === 'number' && Number.isFinite(v)) out.push(v)
    else throw new CommandFailure(`${what}: example ${index} holds ${JSON.stringify(v) ?? String(v)}, not a finite number`)
  }
  walk(example)
  if (out.length !== size) throw new CommandFailure(`${what}: example ${index} has ${out.length} numbers, the model takes ${size}`)
  return out
}

/** The examples of an input file, flattened, each of `size` numbers. */
export const readInputs = (file: string, size: number): number[][] => {
  const text = readText(file, 'input file')
  const what = path.basename(file)
  if (file.toLowerCase().endsWith('.csv')) {
    const records = Dataset.parseCsv(text, ',', what)
    if (E.isLeft(records)) throw failure(records.left)
    const rows = [...records.right]
    const first = rows[0]
    if (first === undefined) throw new CommandFailure(`${what}: no rows`)
    const numeric = (c: string) => c.trim() !== '' && Number.isFinite(Number(c))
    let keep = first.cells.map(() => true)
    if (!first.cells.every(numeric)) {
      keep = first.cells.map((c) => !/^label(_\d+)?$/.test(c.trim()))
      rows.shift()
    }
    return rows.map((r, i) => {
      if (r.cells.length !== keep.length) throw new CommandFailure(`${what}: line ${r.line} has ${r.cells.length} cells, expected ${keep.length}`)
      const values = r.cells.filter((_, c) => keep[c]).map((c, j) => {
        if (!numeric(c)) throw new CommandFailure(`${what}: line ${r.line}, cell ${j + 1}: ${JSON.stringify(c)} is not a number`)
        return Number(c)
      })
      return flatten(values, i, size, what)
    })
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (e) {
    throw new CommandFailure(`${what}: not valid JSON (${e instanceof Error ? e.message : String(e)})`)
  }
  const x = Array.isArray(value) ? value : typeof value === 'object' && value !== null && 'x' in value ? (value as { x: unknown }).x : undefined
  if (!Array.isArray(x)) throw new CommandFailure(`${what}: expected an array of examples or { "x": [...] }`)
  if (x.length === 0) throw new CommandFailure(`${what}: no examples`)
  return x.map((ex, i) => flatten(ex, i, size, what))
}

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
}

/** `lamina predict`. */
export const predictCommand: Subcommand = (program, { io, exit }) => {
  program
    .command('predict')
    .summary('predict the class and scores of each input with a saved model')
    .description(
      'Load a model written by lamina train and predict each input: its class (the index of the largest output) and its scores (the outputs). Inputs: a JSON array of examples or { "x": [...] }, or a CSV file, one example per row (a header row and label columns are allowed).'
    )
    .requiredOption('-m, --model <file>', 'the model (.safetensors written by lamina train)')
    .requiredOption('-i, --input <file>', 'the inputs (.json or .csv)')
    .option('-o, --output <file>', 'write the predictions as JSON to this file (atomically)')
    .option('--seed <n>', 'accepted for symmetry with the other commands; prediction is deterministic')
    .option('--json', 'print the predictions as JSON instead of a table')
    .addHelpText('after', '\nExamples:\n  $ lamina predict --model mlp.safetensors --input digits.json --output predictions.json\n  $ lamina predict --model mlp.safetensors --input rows.csv --json\n')
    .action(async (options: PredictCliOptions) => {
      const loaded = loadModel(options.model)
      const { model, inputShape } = loaded.built
      const rows = readInputs(options.input, Sh.size(inputShape))
      const x = fromBuffer(Float64Array.from(rows.flat()), [rows.length, ...inputShape])
      const y = model.forward(loaded.params, x, { training: false, state: loaded.state }).y
      const k = Sh.size(y.shape.slice(1))
      const scores = concreteBuffer(y)
      const predictions: Prediction[] = rows.map((_, r) => {
        const row = scores.subarray(r * k, (r + 1) * k)
        let best = 0
        for (let c = 1; c < k; c++) if (row[c]! > row[best]!) best = c
        return { class: best, scores: jsonNumbers(row) }
      })
      const document = { model: options.model, input: options.input, predictions }
      if (options.output !== undefined) {
        await writeAtomic(options.output, `${JSON.stringify(document, null, 2)}\n`, 'predictions')
        if (options.json !== true) io.stdout(`wrote ${predictions.length} predictions to ${options.output}\n`)
      }
      if (options.json === true) io.stdout(`${JSON.stringify(document, null, 2)}\n`)
      else if (options.output === undefined) {
        io.stdout(`${'#'.padStart(5)}  class  scores\n`)
        predictions.forEach((p, i) => io.stdout(`${String(i).padStart(5)}  ${String(p.class).padStart(5)}  ${p.scores.map((s) => (typeof s === 'number' ? s.toPrecision(4) : s)).join(' ')}\n`))
      }
      exit(ExitCode.ok)
    })
}
