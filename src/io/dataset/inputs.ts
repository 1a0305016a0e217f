/**
 * The unlabelled inputs of a model (what `predict` reads) from JSON and CSV, as one tensor
 * `[N, ...shape]`. Re-exported by `Dataset`.
 *
 * @module
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Either } from 'fp-ts/lib/Either.js'
import { ArgumentError, LaminaError } from '../../error.js'
import * as Sh from '../../shape.js'
import type { Shape } from '../../shape.js'
import { checkDType, fromOwnedBuffer } from '../../tensor.js'
import type { DType, Tensor } from '../../tensor.js'
import { DecodeError, forbiddenKeyFailures, parseJsonText, showValue } from '../codec.js'
import { csvRecords, nextOf, parseNumber } from './csv.js'
import type { CsvRecord } from './csv.js'
import { Failures, MAX_RANK, MAX_VALUES, Values, checkWidth, count, flattenExample, isRecord, leadingShape, own, run } from './read.js'

/** Options of {@link inputsFromJson}, {@link parseInputsJson} and {@link inputsFromCsv}. */
export interface InputOptions {
  /** The model's per-example input shape: every example must have `Sh.size(shape)` numbers. */
  readonly shape: Shape
  /** The element type of the tensor (default `f64`). */
  readonly dtype?: DType
  /** What the messages call the inputs (default `JSON inputs` / `CSV inputs`). */
  readonly name?: string
  /** What the messages call the owner of `shape` (default `the model`). */
  readonly model?: string
  /** How many failures a `DecodeError` lists before counting the rest (default 20). */
  readonly maxFailures?: number
}

/** Options of {@link inputsFromCsv}. */
export interface CsvInputOptions extends InputOptions {
  /**
   * Whether the first row names the columns. Default: decided from the row itself: a row
   * of names only (no cell is a number) is a header, a row of numbers only is data, and a
   * row that mixes both is an error at its first cell that is not a number.
   */
  readonly header?: boolean
  /** The field separator (default `,`). */
  readonly delimiter?: string
  /** With a header, columns named this (or `label_0 …`) are left out (default `label`). */
  readonly labelColumn?: string
  /** With a header, columns of these names are left out too (a regression model's targets: see {@link isTargetColumn}). */
  readonly exclude?: readonly string[]
}

const checkInputOptions = (op: string, options: InputOptions): { dtype: DType; limit: number } => {
  Sh.validate(options.shape, op)
  const limit = options.maxFailures ?? 20
  if (!Number.isSafeInteger(limit) || limit < 1) throw new ArgumentError(`${op}: maxFailures must be a positive integer, got ${showValue(limit)}`)
  return { dtype: checkDType(options.dtype ?? 'f64'), limit }
}

/**
 * The inputs of a model from a parsed JSON value: an array of examples, or `{ "x": [...] }`
 * (other keys, such as labels, are ignored), each example a rectangular nest of finite
 * numbers (like the first) with as many numbers as `shape` has elements; the result is a
 * tensor `[N, ...shape]`. The examples' size is checked against the model before anything is
 * walked or allocated, and an example nested deeper than 32 arrays is refused up front
 * (nothing recurses on the input, so a hostile nest cannot overflow the stack).
 *
 * @example
 * ```ts
 * import { Dataset } from 'lamina-nn'
 * import assert from 'node:assert'
 * const x = Dataset.inputsFromJson({ x: [[1, 2, 3, 4]], labels: [0] }, { shape: [2, 2] })
 * assert.ok(x._tag === 'Right' && x.right.shape.join() === '1,2,2')
 * const wide = Dataset.inputsFromJson([[1, 2, 3]], { shape: [2], name: 'in.json' })
 * assert.ok(wide._tag === 'Left')
 * assert.strictEqual(wide.left.message, 'in.json: the model expects 2 features per example (input shape [2]), the data rows have 3')
 * const bad = Dataset.inputsFromJson([[1, 2], [3, '4']], { shape: [2] })
 * assert.ok(bad._tag === 'Left' && bad.left.message === 'JSON inputs: [1][1]: expected a finite number, got "4"')
 * ```
 */
export const inputsFromJson = (value: unknown, options: InputOptions): Either<LaminaError, Tensor> =>
  run(() => {
    const what = options.name ?? 'JSON inputs'
    const { dtype, limit } = checkInputOptions('Dataset.inputsFromJson', options)
    const forbidden = forbiddenKeyFailures(value, limit)
    if (forbidden.length > 0) throw new DecodeError(what, forbidden)
    const wrapped = !Array.isArray(value)
    const x: unknown = Array.isArray(value) ? value : isRecord(value) ? own(value, 'x') : undefined
    const root = wrapped ? 'x' : ''
    if (!Array.isArray(x)) {
      throw new DecodeError(what, [{ path: root, expected: 'an array of examples, or { "x": [...] }', got: showValue(wrapped && isRecord(value) ? x : value) }])
    }
    if (x.length === 0) throw new DecodeError(what, [{ path: root, expected: 'at least one example', got: '[]' }])
    const example = leadingShape(x[0])
    if (example.length > MAX_RANK) {
      throw new DecodeError(what, [{ path: `${root}[0]`, expected: `an example of at most ${MAX_RANK} axes (nested arrays)`, got: `more than ${MAX_RANK} nested arrays` }])
    }
    checkWidth(what, options.shape, example, options.model)
    const size = Sh.size(example)
    if (x.length * size > MAX_VALUES) throw new DecodeError(what, [{ path: root, expected: 'at most 2³¹ numbers in all', got: `${x.length} examples of ${size}` }])
    const failures = new Failures(limit)
    const values = new Values(dtype, x.length * size)
    for (let i = 0; i < x.length && !failures.full; i++) {
      values.ensure((i + 1) * size)
      flattenExample(x[i], example, i, values, failures, root)
    }
    if (!failures.empty) throw failures.error(what)
    return fromOwnedBuffer([x.length, ...options.shape], dtype, values.full())
  })

/**
 * The inputs of a model from JSON text (see {@link inputsFromJson}); a syntax error, or text
 * nested deeper than `Codec.MAX_JSON_DEPTH`, is a `DecodeError` too (see `Codec.parseJsonText`).
 *
 * @example
 * ```ts
 * import { Dataset } from 'lamina-nn'
 * import assert from 'node:assert'
 * const x = Dataset.parseInputsJson('[[1, 2], [3, 4]]', { shape: [2] })
 * assert.ok(x._tag === 'Right' && x.right.shape.join() === '2,2')
 * const deep = Dataset.parseInputsJson('['.repeat(100000) + ']'.repeat(100000), { shape: [2] })
 * assert.ok(deep._tag === 'Left' && deep.left.message === 'JSON inputs: expected JSON nested at most 64 deep (arrays and objects), got a 65th level at line 1, column 65')
 * const rank40 = Dataset.parseInputsJson('['.repeat(41) + ']'.repeat(41), { shape: [2] })
 * assert.ok(rank40._tag === 'Left' && rank40.left.message === 'JSON inputs: [0]: expected an example of at most 32 axes (nested arrays), got more than 32 nested arrays')
 * ```
 */
export const parseInputsJson = (text: string, options: InputOptions): Either<LaminaError, Tensor> => {
  const value = parseJsonText(text, options.name ?? 'JSON inputs')
  return E.isLeft(value) ? value : inputsFromJson(value.right, options)
}

/**
 * The inputs of a model from CSV text: one example per row, its cells the example's numbers
 * in order, parsed by `Codec.parseDecimal` (decimal notation only). Whether the first row is
 * a header is the `header` option, or decided from the row: names only (no cell parses as a
 * number) is a header, numbers only is data, a mix is an error naming the line and column,
 * so that no row is ever dropped by a guess and prediction `i` is always row `i`. With a
 * header, label columns (`label`, `label_0 …`) are left out. Every bad cell is a failure at
 * its line and column.
 *
 * @example
 * ```ts
 * import { Dataset } from 'lamina-nn'
 * import assert from 'node:assert'
 * const plain = Dataset.inputsFromCsv('0.5,1\n-1,2\n', { shape: [2] })
 * assert.ok(plain._tag === 'Right' && plain.right.shape.join() === '2,2')
 * const named = Dataset.inputsFromCsv('a,b,label\n0.5,1,0\n', { shape: [2] })
 * assert.ok(named._tag === 'Right')
 * assert.deepStrictEqual(named.right.toArray(), [[0.5, 1]])
 * const mixed = Dataset.inputsFromCsv('0.5,O.5\n1,2\n', { shape: [2] })
 * assert.ok(mixed._tag === 'Left')
 * assert.strictEqual(mixed.left.message,
 *   'CSV inputs: line 1, column 2: expected a finite number (line 1 mixes numbers and names; a header row holds names only), got "O.5"')
 * const hex = Dataset.inputsFromCsv('1,2\n3,0x10\n', { shape: [2] })
 * assert.ok(hex._tag === 'Left' && hex.left.message === 'CSV inputs: line 2, column 2: expected a finite number, got "0x10"')
 * ```
 */
export const inputsFromCsv = (text: string, options: CsvInputOptions): Either<LaminaError, Tensor> =>
  run(() => {
    const what = options.name ?? 'CSV inputs'
    const { dtype, limit } = checkInputOptions('Dataset.inputsFromCsv', options)
    // the records one at a time: memory for the numbers read, not for every cell as a string
    const records = csvRecords(text, options.delimiter ?? ',', what)
    const first = nextOf(records)
    if (first === undefined) throw new DecodeError(what, [{ path: 'line 1', expected: 'a row of numbers', got: 'an empty file' }])
    const failures = new Failures(limit)
    // a header, or data: decided by the option, or by the first row as a whole
    let header = options.header
    if (header === undefined) {
      const numeric = first.cells.map((c) => parseNumber(c) !== undefined)
      if (numeric.every((b) => b)) header = false
      else if (!numeric.some((b) => b)) header = true
      else {
        first.cells.forEach((c, j) => {
          if (!numeric[j]) {
            failures.add(`line ${first.line}, column ${j + 1}`, `a finite number (line ${first.line} mixes numbers and names; a header row holds names only)`, showValue(c))
          }
        })
        throw failures.error(what)
      }
    }
    const width = first.cells.length
    const labelColumn = options.labelColumn ?? 'label'
    const names = header ? first.cells.map((c) => c.trim()) : undefined
    const isLabel = (name: string): boolean =>
      name === labelColumn || (name.startsWith(`${labelColumn}_`) && /^\d+$/.test(name.slice(labelColumn.length + 1))) || options.exclude?.includes(name) === true
    const features = first.cells.map((_, j) => j).filter((j) => names === undefined || !isLabel(names[j]!))
    const column = (j: number): string => (names === undefined ? `column ${j + 1}` : `column ${showValue(names[j])}`)
    const firstRow = header ? nextOf(records) : first
    if (firstRow === undefined) throw new DecodeError(what, [{ path: `line ${first.line + 1}`, expected: 'at least one row of numbers after the header', got: 'none' }])
    checkWidth(what, options.shape, [features.length], options.model)
    const values = new Values(dtype, MAX_VALUES)
    let r = -1
    for (let record: CsvRecord | undefined = firstRow; record !== undefined && !failures.full; record = nextOf(records)) {
      const { line, cells } = record
      r++
      if (cells.length !== width) {
        failures.add(`line ${line}`, `${width} cells (as line ${first.line})`, count(cells.length, 'cell'))
        continue
      }
      if ((r + 1) * features.length > MAX_VALUES) throw new DecodeError(what, [{ path: `line ${line}`, expected: 'at most 2³¹ numbers in all', got: `more, at row ${r + 1}` }])
      values.ensure((r + 1) * features.length)
      for (let f = 0; f < features.length; f++) {
        const j = features[f]!
        const v = parseNumber(cells[j]!)
        if (v === undefined) failures.add(`line ${line}, ${column(j)}`, 'a finite number', showValue(cells[j]))
        else values.buffer[r * features.length + f] = v
      }
    }
    if (!failures.empty) throw failures.error(what)
    const rows = r + 1
    return fromOwnedBuffer([rows, ...options.shape], dtype, values.full(rows * features.length))
  })
