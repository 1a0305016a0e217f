/**
 * Labelled datasets from JSON and CSV, checked cell by cell. Both give lamina's
 * `Train.Dataset` (`{ x: Tensor [N, ...features], labels: Int32Array }`) together with the
 * number of classes, or a `DecodeError` naming every bad row and column: a ragged row, a
 * cell that is not a number, a label out of range, an empty file.
 *
 * - JSON: `{ "x": number[][], "labels": number[] }` or `{ "x": …, "y": number[][] }` with
 *   one-hot rows; `x` may nest deeper (`[N][1][28][28]`), as long as it is rectangular.
 * - CSV (RFC 4180): a header row; a `label` column of integer labels, or one-hot columns
 *   `label_0 … label_k`; every other column is a feature, in header order. Quoted fields
 *   (with `""` for a quote, and line breaks inside), CRLF or LF line ends, a byte-order mark
 *   and blank lines are handled. The parser is written here (a hundred lines, tested)
 *   rather than taken from npm, to keep lamina's dependencies to fp-ts and io-ts and to
 *   report positions in lamina's own words.
 *
 * Positions are 1-based: `line` is the line of the file where the record starts (the
 * header is line 1), `column` is named by its header.
 *
 * @example
 * ```ts
 * import { Dataset } from 'lamina-nn'
 * import assert from 'node:assert'
 * const data = Dataset.fromCsv('x1,x2,label\n0.5,1,0\n-1,2,1\n')
 * assert.ok(data._tag === 'Right')
 * assert.deepStrictEqual(data.right.x.toArray(), [[0.5, 1], [-1, 2]])
 * assert.deepStrictEqual([...data.right.labels], [0, 1])
 * const bad = Dataset.fromCsv('x1,x2,label\n0.5,1,0\n-1,abc,1\n')
 * assert.ok(bad._tag === 'Left')
 * assert.strictEqual(bad.left.message, 'CSV dataset: line 3, column "x2": expected a finite number, got "abc"')
 * ```
 *
 * @module
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Either } from 'fp-ts/lib/Either.js'
import { ArgumentError, LaminaError, catchLaminaError, ShapeError } from '../error.js'
import * as Sh from '../shape.js'
import type { Shape } from '../shape.js'
import { allocate, checkDType, fromOwnedBuffer } from '../tensor.js'
import type { DType, Tensor } from '../tensor.js'
import type { Dataset as TrainDataset } from '../nn/train.js'
import { DecodeError, forbiddenKeyFailures, joinPath, parseDecimal, parseJsonText, showValue } from './codec.js'
import type { Failure } from './codec.js'

/** A labelled dataset as `Train.fit` takes it, with the number of classes. */
export interface Labelled extends TrainDataset {
  /** The number of classes: the `classes` option, the width of the one-hot labels, or the largest label + 1. */
  readonly classes: number
}

/** Options of {@link fromJson} and {@link fromCsv}. */
export interface Options {
  /** The number of classes: every label must be in [0, classes). Default: the largest label + 1. */
  readonly classes?: number
  /**
   * The per-example shape of `x` (e.g. `[1, 28, 28]`): the input of the model the data is
   * for. A row with another number of elements is a `ShapeError` ("the model expects 3
   * features per example …, the data rows have 2"). Default: as read.
   */
  readonly shape?: Shape
  /** What the messages call the owner of `shape` (default `the model`), e.g. `the model of mlp.json`. */
  readonly model?: string
  /** The element type of `x` (default `f64`). */
  readonly dtype?: DType
  /** What the messages call the data (default `JSON dataset` / `CSV dataset`). */
  readonly name?: string
  /** How many failures a `DecodeError` lists before counting the rest (default 20). */
  readonly maxFailures?: number
}

/** Options of {@link fromCsv}. */
export interface CsvOptions extends Options {
  /** The field separator, one character other than a quote or a line break (default `,`). */
  readonly delimiter?: string
  /** The name of the label column, and the prefix of one-hot label columns `label_0 …` (default `label`). */
  readonly labelColumn?: string
}

const INT32_MAX = 2 ** 31 - 1

/** The most numbers a file may hold in all. */
const MAX_VALUES = 2 ** 31

const count = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`

/** Collects failures up to a limit, counting the rest. */
class Failures {
  readonly list: Failure[] = []
  omitted = 0
  constructor(readonly limit: number) {}
  add(path: string, expected: string, got: string): void {
    if (this.list.length < this.limit) this.list.push({ path, expected, got })
    else this.omitted++
  }
  get full(): boolean {
    return this.list.length >= this.limit
  }
  get empty(): boolean {
    return this.list.length === 0
  }
  error(what: string): DecodeError {
    return new DecodeError(what, this.list, this.omitted)
  }
}

/**
 * The values of `x`, in a buffer that grows (doubling) up to `max` numbers as rows are
 * actually read: a file that claims many rows but holds little (a million empty rows, a
 * header of 784 columns over rows of one cell) costs memory in proportion to what it
 * holds, not to what it claims.
 */
class Values {
  buffer: Float32Array | Float64Array
  at = 0
  constructor(
    readonly dtype: DType,
    readonly max: number
  ) {
    this.buffer = allocate(dtype, Math.min(max, 4096))
  }
  /** Makes room for the first `n` numbers. */
  ensure(n: number): void {
    if (n <= this.buffer.length) return
    const next = allocate(this.dtype, Math.min(this.max, Math.max(n, 2 * this.buffer.length)))
    next.set(this.buffer)
    this.buffer = next
  }
  /** The buffer of exactly `n` numbers (default `max`, once every row was read). */
  full(n = this.max): Float32Array | Float64Array {
    if (this.buffer.length === n) return this.buffer
    const exact = allocate(this.dtype, n)
    exact.set(this.buffer.subarray(0, n))
    return exact
  }
}

/** Checks the options shared by both readers; an option that is not usable is an `ArgumentError`. */
const checkOptions = (op: string, options: Options | undefined): { classes?: number; dtype: DType; limit: number } => {
  const classes = options?.classes
  if (classes !== undefined && (!Number.isSafeInteger(classes) || classes < 1 || classes > INT32_MAX)) {
    throw new ArgumentError(`${op}: the classes option must be an integer from 1 to ${INT32_MAX} (a label is an int32), got ${showValue(classes)}`)
  }
  const limit = options?.maxFailures ?? 20
  if (!Number.isSafeInteger(limit) || limit < 1) throw new ArgumentError(`${op}: maxFailures must be a positive integer, got ${showValue(limit)}`)
  if (options?.shape !== undefined) Sh.validate(options.shape, op)
  return { ...(classes === undefined ? {} : { classes }), dtype: checkDType(options?.dtype ?? 'f64'), limit }
}

/**
 * A `ShapeError` unless a row of the data (`example`, as read) has as many elements as the
 * model's input `shape`: the model's size first, then the data's.
 */
const checkWidth = (what: string, shape: Shape, example: Shape, model = 'the model'): void => {
  const [expects, has] = [Sh.size(shape), Sh.size(example)]
  if (expects === has) return
  const as = example.length > 1 ? ` (examples of shape ${Sh.show(example)})` : ''
  throw new ShapeError(`${what}: ${model} expects ${count(expects, 'feature')} per example (input shape ${Sh.show(shape)}), the data rows have ${has}${as}`)
}

/** `x` as a tensor `[N, ...shape]`, checking the `shape` option against the size of a row. */
const assemble = (
  what: string,
  values: readonly number[] | Float32Array | Float64Array,
  rows: number,
  example: Shape,
  labels: Int32Array,
  classes: number,
  options: Options | undefined,
  dtype: DType
): Labelled => {
  const shape = options?.shape ?? example
  checkWidth(what, shape, example, options?.model)
  const owned = dtype === 'f64' ? values instanceof Float64Array : values instanceof Float32Array
  const buffer = owned ? (values as Float32Array | Float64Array) : allocate(dtype, values.length)
  if (!owned) buffer.set(values as ArrayLike<number>)
  return { x: fromOwnedBuffer([rows, ...shape], dtype, buffer), labels, classes }
}

const labelRange = (classes: number | undefined): string =>
  classes === undefined ? 'a non-negative integer label' : `an integer label in [0, ${classes})`

const isLabel = (v: number, classes: number | undefined): boolean => Number.isInteger(v) && v >= 0 && v <= (classes === undefined ? INT32_MAX : classes - 1)

const run = catchLaminaError

// ================================================================ JSON

const isRecord = (u: unknown): u is Record<string, unknown> => Object.prototype.toString.call(u) === '[object Object]'

const own = (o: Record<string, unknown>, k: string): unknown =>
  Object.prototype.hasOwnProperty.call(o, k) ? (Object.getOwnPropertyDescriptor(o, k)?.value as unknown) : undefined

/** The most axes an example may have (a deeper nest is rejected rather than walked). */
const MAX_RANK = 32

/**
 * The nested shape of a value along its first elements (`[[1, 2], [3, 4]]` → `[2, 2]`),
 * walked iteratively and only to depth `MAX_RANK + 1`: a longer result means "too deep".
 */
const leadingShape = (u: unknown): number[] => {
  const shape: number[] = []
  let cur = u
  while (Array.isArray(cur) && shape.length <= MAX_RANK) {
    shape.push(cur.length)
    cur = cur[0]
  }
  return shape
}

/**
 * Flattens one example (a rectangular nest of numbers of shape `shape`) onto `out`,
 * reporting every cell that is not a finite number and every row of the wrong length, by
 * path (the values pushed are then incomplete, and unused). Paths are only built for
 * failures, so a clean MNIST-sized file costs one loop.
 */
const flattenExample = (
  u: unknown,
  shape: Shape,
  index: number,
  out: { readonly buffer: Float32Array | Float64Array; at: number },
  failures: Failures,
  root = 'x'
): void => {
  const at: number[] = [index]
  const path = (): string => root + at.map((i) => `[${i}]`).join('')
  if (shape.length === 0) {
    // a scalar example
    if (typeof u === 'number' && Number.isFinite(u)) out.buffer[out.at++] = u
    else {
      failures.add(path(), 'a finite number', showValue(u))
      out.at++
    }
    return
  }
  const walk = (v: unknown, depth: number): void => {
    const n = shape[depth]!
    if (!Array.isArray(v) || v.length !== n) {
      const like = `${root}${'[0]'.repeat(at.length)}`
      failures.add(path(), `an array of ${n} ${depth === shape.length - 1 ? 'numbers' : 'arrays'} (like ${like})`, Array.isArray(v) ? count(v.length, 'item') : showValue(v))
      return
    }
    if (depth === shape.length - 1) {
      for (let i = 0; i < n; i++) {
        const c: unknown = v[i]
        if (typeof c === 'number' && Number.isFinite(c)) out.buffer[out.at++] = c
        else {
          at.push(i)
          failures.add(path(), 'a finite number', showValue(c))
          at.pop()
          out.at++
        }
      }
      return
    }
    for (let i = 0; i < n && !failures.full; i++) {
      at.push(i)
      walk(v[i], depth + 1)
      at.pop()
    }
  }
  walk(u, 0)
}

/**
 * The examples `x` of a JSON dataset: N examples of one rectangular shape (the first's), each
 * problem a failure at its path; their size is checked against the `shape` option before the
 * rows are walked.
 */
const readExamples = (
  x: unknown,
  what: string,
  options: Pick<Options, 'shape' | 'model'> | undefined,
  dtype: DType,
  failures: Failures
): { readonly values: Values; readonly example: number[]; readonly rows: number } => {
  let values = new Values(dtype, 0)
  let example: number[] = []
  let rows = 0
  if (!Array.isArray(x)) failures.add('x', 'an array of examples (arrays of numbers)', showValue(x))
  else if (x.length === 0) failures.add('x', 'at least one example', '[]')
  else {
    example = leadingShape(x[0])
    if (example.length === 0) failures.add('x[0]', 'an example: an array of numbers', showValue(x[0]))
    else if (example.length > MAX_RANK) failures.add('x[0]', `an example of at most ${MAX_RANK} axes (nested arrays)`, `more than ${MAX_RANK} nested arrays`)
    else {
      rows = x.length
      const size = Sh.size(example)
      // the model's size first: a mismatch is reported before the rows are walked
      if (options?.shape !== undefined) checkWidth(what, options.shape, example, options.model)
      if (!Number.isSafeInteger(rows * size) || rows * size > MAX_VALUES) failures.add('x', 'at most 2³¹ numbers in all', `${rows} examples of ${size}`)
      else {
        values = new Values(dtype, rows * size)
        for (let i = 0; i < x.length && !failures.full; i++) {
          values.ensure((i + 1) * size)
          flattenExample(x[i], example, i, values, failures)
        }
      }
    }
  }
  return { values, example, rows }
}

/**
 * A dataset from a parsed JSON value `{ x, labels }` (integer labels) or `{ x, y }` (one-hot
 * rows), with an optional `classes` count in the file or the options. `x` is an array of
 * examples, each a rectangular nest of finite numbers. Every problem is a failure at its
 * path (`x[3][5]`, `labels[7]`); keys other than `x`, `labels`, `y`, `classes` are failures,
 * and so are `__proto__`, `constructor` or `prototype` keys anywhere.
 *
 * @example
 * ```ts
 * import { Dataset } from 'lamina-nn'
 * import assert from 'node:assert'
 * const data = Dataset.fromJson({ x: [[0, 1], [1, 0], [1, 1]], y: [[1, 0], [0, 1], [0, 1]] })
 * assert.ok(data._tag === 'Right')
 * assert.deepStrictEqual([...data.right.labels], [0, 1, 1])
 * assert.strictEqual(data.right.classes, 2)
 * const images = Dataset.fromJson({ x: [[1, 2, 3, 4]], labels: [0] }, { shape: [1, 2, 2] })
 * assert.ok(images._tag === 'Right' && images.right.x.shape.join() === '1,1,2,2')
 * const bad = Dataset.fromJson({ x: [[0, 1], [1]], labels: [0, 3] }, { classes: 2 })
 * assert.ok(bad._tag === 'Left')
 * assert.strictEqual(bad.left.message, [
 *   'JSON dataset: 2 problems',
 *   '  x[1]: expected an array of 2 numbers (like x[0]), got 1 item',
 *   '  labels[1]: expected an integer label in [0, 2), got 3'
 * ].join('\n'))
 * ```
 */
export const fromJson = (value: unknown, options?: Options): Either<LaminaError, Labelled> =>
  run(() => {
    const what = options?.name ?? 'JSON dataset'
    const { classes: classesOption, dtype, limit } = checkOptions('Dataset.fromJson', options)
    const failures = new Failures(limit)
    const forbidden = forbiddenKeyFailures(value, limit)
    if (forbidden.length > 0) throw new DecodeError(what, forbidden)
    if (!isRecord(value)) throw new DecodeError(what, [{ path: '', expected: 'an object { x, labels } or { x, y }', got: showValue(value) }])
    for (const k of Object.keys(value)) {
      if (!['x', 'labels', 'y', 'classes'].includes(k)) failures.add(k, 'no such key (dataset keys: x, labels, y, classes)', showValue(own(value, k)))
    }
    // the number of classes, from the file or the options (they must agree)
    let classes = classesOption
    const fileClasses = own(value, 'classes')
    if (fileClasses !== undefined) {
      if (typeof fileClasses !== 'number' || !Number.isSafeInteger(fileClasses) || fileClasses < 1 || fileClasses > INT32_MAX) {
        failures.add('classes', 'positive integer', showValue(fileClasses))
      } else if (classes !== undefined && classes !== fileClasses) {
        failures.add('classes', `${classes} (the classes option)`, showValue(fileClasses))
      } else classes = fileClasses
    }
    const x = own(value, 'x')
    const { values, example, rows } = readExamples(x, what, options, dtype, failures)
    // labels, or one-hot rows y
    const labelsValue = own(value, 'labels')
    const y = own(value, 'y')
    let labels = new Int32Array(0)
    if (labelsValue !== undefined && y !== undefined) failures.add('', 'either "labels" or "y" (one-hot rows)', 'both')
    else if (labelsValue === undefined && y === undefined) failures.add('', 'a "labels" array or a one-hot "y"', 'neither')
    else if (labelsValue !== undefined) {
      if (!Array.isArray(labelsValue)) failures.add('labels', 'an array of integer labels', showValue(labelsValue))
      else {
        if (Array.isArray(x) && x.length > 0 && labelsValue.length !== x.length) {
          failures.add('labels', `${count(x.length, 'label')} (one per example of x)`, count(labelsValue.length, 'label'))
        }
        labels = new Int32Array(labelsValue.length)
        for (let i = 0; i < labelsValue.length && !failures.full; i++) {
          const v: unknown = labelsValue[i]
          if (typeof v === 'number' && isLabel(v, classes)) labels[i] = v
          else failures.add(joinPath('labels', i), labelRange(classes), showValue(v))
        }
      }
    } else {
      if (!Array.isArray(y)) failures.add('y', 'an array of one-hot rows', showValue(y))
      else {
        if (Array.isArray(x) && x.length > 0 && y.length !== x.length) failures.add('y', `${count(x.length, 'row')} (one per example of x)`, count(y.length, 'row'))
        const first: unknown = y[0]
        const width = classes ?? (Array.isArray(first) ? first.length : 0)
        if (width < 1) failures.add('y[0]', 'a one-hot row (one 1, the rest 0)', showValue(first))
        else {
          labels = new Int32Array(y.length)
          for (let i = 0; i < y.length && !failures.full; i++) {
            const row: unknown = y[i]
            const hot = Array.isArray(row) && row.length === width ? oneHotIndex(row) : -1
            if (hot < 0) failures.add(joinPath('y', i), `a one-hot row of ${width} values (one 1, the rest 0)`, showValue(row))
            else labels[i] = hot
          }
          classes = width
        }
      }
    }
    if (!failures.empty) throw failures.error(what)
    if (rows === 0) throw new DecodeError(what, [{ path: 'x', expected: 'at least one example', got: '[]' }])
    return assemble(what, values.full(), rows, example, labels, classes ?? maxLabel(labels) + 1, options, dtype)
  })

/** The index of the single 1 in a row of 0s, or −1. */
const oneHotIndex = (row: readonly unknown[]): number => {
  let hot = -1
  for (let j = 0; j < row.length; j++) {
    const v = row[j]
    if (v === 1) {
      if (hot >= 0) return -1
      hot = j
    } else if (v !== 0) return -1
  }
  return hot
}

const maxLabel = (labels: Int32Array): number => labels.reduce((m, v) => Math.max(m, v), 0)

/**
 * A dataset from JSON text (see {@link fromJson}); a syntax error, or text nested deeper
 * than `Codec.MAX_JSON_DEPTH`, is a `DecodeError` too (see `Codec.parseJsonText`).
 *
 * @example
 * ```ts
 * import { Dataset } from 'lamina-nn'
 * import assert from 'node:assert'
 * const data = Dataset.parseJson('{"x": [[1, 2], [3, 4]], "labels": [1, 0]}')
 * assert.ok(data._tag === 'Right' && data.right.classes === 2)
 * const polluted = Dataset.parseJson('{"x": [[1]], "labels": [0], "__proto__": {"polluted": true}}')
 * assert.ok(polluted._tag === 'Left' && polluted.left.message.includes('__proto__: expected no key named "__proto__"'))
 * assert.strictEqual(({} as Record<string, unknown>)['polluted'], undefined)
 * ```
 */
export const parseJson = (text: string, options?: Options): Either<LaminaError, Labelled> => {
  const value = parseJsonText(text, options?.name ?? 'JSON dataset')
  return E.isLeft(value) ? value : fromJson(value.right, options)
}

// ================================================================ CSV

/** A record of a CSV file: its cells and the line where it starts. */
export interface CsvRecord {
  readonly line: number
  readonly cells: readonly string[]
}

/**
 * Splits CSV text into records (RFC 4180): fields separated by `delimiter`, records by CRLF,
 * LF or CR; a field in double quotes may hold delimiters, line breaks and `""` (a quote).
 * Blank lines are skipped, a leading byte-order mark is dropped. A quote inside an unquoted
 * field, text after a closing quote, or a quote that is never closed is a `DecodeError`
 * naming the line and column.
 *
 * @example
 * ```ts
 * import { Dataset } from 'lamina-nn'
 * import assert from 'node:assert'
 * const records = Dataset.parseCsv('a,b\r\n"x, ""y""",2\r\n\r\n"multi\nline",3')
 * assert.ok(records._tag === 'Right')
 * assert.deepStrictEqual(records.right, [
 *   { line: 1, cells: ['a', 'b'] },
 *   { line: 2, cells: ['x, "y"', '2'] },
 *   { line: 4, cells: ['multi\nline', '3'] }
 * ])
 * const bad = Dataset.parseCsv('a,b\n"open,2\n')
 * assert.ok(bad._tag === 'Left' && bad.left.message === 'CSV: line 2, column 1: expected a closing quote, got the end of the file')
 * ```
 */
export const parseCsv = (text: string, delimiter = ',', what = 'CSV'): Either<DecodeError, readonly CsvRecord[]> => {
  try {
    return E.right([...csvRecords(text, delimiter, what)])
  } catch (e) {
    if (e instanceof DecodeError) return E.left(e)
    throw e
  }
}

/** The next record, or undefined at the end. */
const nextOf = (records: Generator<CsvRecord, void, undefined>): CsvRecord | undefined => {
  const next = records.next()
  return next.done === true ? undefined : next.value
}

/**
 * The records of CSV text one at a time (see {@link parseCsv}), so that a reader keeps only
 * what it makes of each record (numbers in a buffer), not every cell of the file as a
 * string: a 10 MB file costs its numbers, not 400 MB of records. A problem is a thrown
 * `DecodeError`.
 */
function* csvRecords(text: string, delimiter: string, what: string): Generator<CsvRecord, void, undefined> {
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new DecodeError(what, [{ path: 'delimiter (option)', expected: 'one character other than a quote or a line break', got: showValue(delimiter) }])
  }
  const d = delimiter.charCodeAt(0)
  const QUOTE = 34
  const LF = 10
  const CR = 13
  const n = text.length
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0
  let line = 1
  const fail = (l: number, column: number, expected: string, got: string): DecodeError => new DecodeError(what, [{ path: `line ${l}, column ${column}`, expected, got }])
  while (i < n) {
    const start = line
    // fast path: a line without quotes is split as it is
    let end = text.indexOf('\n', i)
    if (end < 0) end = n
    const raw = text.charCodeAt(end - 1) === CR && end > i ? text.slice(i, end - 1) : text.slice(i, end)
    if (!raw.includes('"') && !raw.includes('\r')) {
      i = end + 1
      line++
      if (raw.trim() !== '') yield { line: start, cells: raw.split(delimiter) }
      continue
    }
    const cells: string[] = []
    let quotedAny = false
    // one record: fields until a line break or the end
    for (;;) {
      const column = cells.length + 1
      let cell: string
      if (text.charCodeAt(i) === QUOTE) {
        quotedAny = true
        const fieldLine = line
        let value = ''
        let j = i + 1
        for (;;) {
          const q = text.indexOf('"', j)
          if (q < 0) throw fail(fieldLine, column, 'a closing quote', 'the end of the file')
          const chunk = text.slice(j, q)
          for (let k = 0; k < chunk.length; k++) {
            const c = chunk.charCodeAt(k)
            if (c === LF || (c === CR && chunk.charCodeAt(k + 1) !== LF)) line++
          }
          value += chunk
          if (text.charCodeAt(q + 1) === QUOTE) {
            value += '"'
            j = q + 2
          } else {
            i = q + 1
            break
          }
        }
        const next = text.charCodeAt(i)
        if (i < n && next !== d && next !== LF && next !== CR) {
          throw fail(line, column, 'a delimiter or a line break after a closing quote', showValue(text.slice(i, i + 10)))
        }
        cell = value
      } else {
        let j = i
        while (j < n) {
          const c = text.charCodeAt(j)
          if (c === d || c === LF || c === CR) break
          if (c === QUOTE) throw fail(line, column, 'a quote only around a whole field', showValue(text.slice(i, Math.min(n, i + 20)).split(/[\r\n]/)[0]))
          j++
        }
        cell = text.slice(i, j)
        i = j
      }
      cells.push(cell)
      if (i < n && text.charCodeAt(i) === d) {
        i++
        continue
      }
      // end of the record
      if (i < n) {
        if (text.charCodeAt(i) === CR && text.charCodeAt(i + 1) === LF) i += 2
        else i += 1
        line++
      }
      break
    }
    const blank = !quotedAny && cells.length === 1 && cells[0]!.trim() === ''
    if (!blank) yield { line: start, cells }
  }
}

/** The column names of a header row, and where each is; an empty or repeated name is a failure. */
const columnNames = (header: CsvRecord, failures: Failures): { readonly names: string[]; readonly seen: Map<string, number> } => {
  const names = header.cells.map((c) => c.trim())
  const seen = new Map<string, number>()
  names.forEach((name, j) => {
    const where = `line ${header.line}, column ${j + 1}`
    if (name === '') failures.add(where, 'a column name', '""')
    else if (seen.has(name)) failures.add(where, 'a unique column name', `${showValue(name)} again (as column ${seen.get(name)! + 1})`)
    else seen.set(name, j)
  })
  return { names, seen }
}

/** A cell as a finite number: lamina's one number parser, `Codec.parseDecimal` (decimal notation only). */
const parseNumber = parseDecimal

/**
 * A dataset from CSV text with a header row. The labels are a column named `label` (integer
 * class indices) or one-hot columns `label_0 … label_k` (exactly one `1` per row, classes
 * k + 1); every other column is a feature, in header order. Each problem is a failure at its
 * line and column: a row with the wrong number of cells, a cell that is not a finite
 * number, a label out of range, a duplicate or missing column, a file with no rows.
 *
 * @example
 * ```ts
 * import { Dataset } from 'lamina-nn'
 * import assert from 'node:assert'
 * const csv = 'label_0,label_1,label_2,"pixel, 1",pixel2\r\n0,0,1,0.25,1\r\n1,0,0,0.5,0\r\n'
 * const data = Dataset.fromCsv(csv)
 * assert.ok(data._tag === 'Right')
 * assert.deepStrictEqual([...data.right.labels], [2, 0])
 * assert.strictEqual(data.right.classes, 3)
 * assert.deepStrictEqual(data.right.x.toArray(), [[0.25, 1], [0.5, 0]])
 * const bad = Dataset.fromCsv('a,b,label\n1,2,0\n3,4\n5,6,9\n', { classes: 3 })
 * assert.ok(bad._tag === 'Left')
 * assert.strictEqual(bad.left.message, [
 *   'CSV dataset: 2 problems',
 *   '  line 3: expected 3 cells (one per column of the header), got 2 cells',
 *   '  line 4, column "label": expected an integer label in [0, 3), got "9"'
 * ].join('\n'))
 * ```
 */
export const fromCsv = (text: string, options?: CsvOptions): Either<LaminaError, Labelled> =>
  run(() => {
    const what = options?.name ?? 'CSV dataset'
    const { classes: classesOption, dtype, limit } = checkOptions('Dataset.fromCsv', options)
    const labelColumn = options?.labelColumn ?? 'label'
    // the records one at a time: memory for the numbers read, not for every cell as a string
    const records = csvRecords(text, options?.delimiter ?? ',', what)
    const header = nextOf(records)
    if (header === undefined) throw new DecodeError(what, [{ path: 'line 1', expected: 'a header row', got: 'an empty file' }])
    const firstRow = nextOf(records)
    const failures = new Failures(limit)
    // the columns: labels (one or one-hot), features
    const { names, seen } = columnNames(header, failures)
    const labelIndex = seen.get(labelColumn)
    const hotPattern = new RegExp(`^${labelColumn.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}_(\\d+)$`)
    const hot: Array<readonly [number, number]> = [] // [class, column]
    names.forEach((name, j) => {
      const m = hotPattern.exec(name)
      if (m !== null) hot.push([Number(m[1]), j])
    })
    hot.sort((a, b) => a[0] - b[0])
    const hotNames = hot.map(([, j]) => names[j]!)
    if (labelIndex !== undefined && hot.length > 0) {
      failures.add(`line ${header.line}`, `either a "${labelColumn}" column or one-hot columns ${labelColumn}_0 …`, `both ("${labelColumn}", ${hotNames.join(', ')})`)
    } else if (labelIndex === undefined && hot.length === 0) {
      failures.add(`line ${header.line}`, `a "${labelColumn}" column or one-hot columns ${labelColumn}_0 …`, `the columns ${names.map((c) => JSON.stringify(c)).join(', ')}`)
    } else if (hot.length > 0 && hot.some(([k], i) => k !== i)) {
      failures.add(`line ${header.line}`, `one-hot columns ${labelColumn}_0 … ${labelColumn}_${hot.length - 1} without gaps`, hotNames.join(', '))
    }
    const labelColumns = new Set<number>(labelIndex !== undefined ? [labelIndex] : hot.map(([, j]) => j))
    const features = names.map((_, j) => j).filter((j) => !labelColumns.has(j))
    if (features.length === 0) failures.add(`line ${header.line}`, 'at least one feature column besides the labels', 'none')
    if (firstRow === undefined) failures.add(`line ${header.line + 1}`, 'at least one data row after the header', 'none')
    if (hot.length > 0 && classesOption !== undefined && classesOption !== hot.length) {
      failures.add(`line ${header.line}`, `${classesOption} one-hot label columns (the classes option)`, `${hot.length}`)
    }
    if (!failures.empty) throw failures.error(what)
    const classesLimit = hot.length > 0 ? hot.length : classesOption
    // the rows
    if (options?.shape !== undefined) checkWidth(what, options.shape, [features.length], options.model)
    const values = new Values(dtype, MAX_VALUES)
    const labels: number[] = []
    const width = names.length
    let r = -1
    for (let record: CsvRecord | undefined = firstRow; record !== undefined && !failures.full; record = nextOf(records)) {
      const { line, cells } = record
      r++
      if (cells.length !== width) {
        failures.add(`line ${line}`, `${width} cells (one per column of the header)`, count(cells.length, 'cell'))
        continue
      }
      if ((r + 1) * features.length > MAX_VALUES) throw new DecodeError(what, [{ path: `line ${line}`, expected: 'at most 2³¹ numbers in all', got: `more, at row ${r + 1}` }])
      values.ensure((r + 1) * features.length)
      features.forEach((j, f) => {
        const v = parseNumber(cells[j]!)
        if (v === undefined) failures.add(`line ${line}, column ${showValue(names[j])}`, 'a finite number', showValue(cells[j]))
        else values.buffer[r * features.length + f] = v
      })
      if (labelIndex !== undefined) {
        const v = parseNumber(cells[labelIndex]!)
        if (v === undefined || !isLabel(v, classesLimit)) failures.add(`line ${line}, column ${showValue(labelColumn)}`, labelRange(classesLimit), showValue(cells[labelIndex]))
        else labels[r] = v
      } else {
        const row = hot.map(([, j]) => parseNumber(cells[j]!))
        const k = oneHotIndex(row)
        if (k < 0) {
          failures.add(
            `line ${line}, columns "${hotNames[0]}" … "${hotNames[hotNames.length - 1]}"`,
            'one-hot values (one 1, the rest 0)',
            hot.map(([, j]) => cells[j]!.trim()).join(',')
          )
        } else labels[r] = k
      }
    }
    if (!failures.empty) throw failures.error(what)
    const rows = r + 1
    const labelArray = Int32Array.from(labels)
    return assemble(what, values.full(rows * features.length), rows, [features.length], labelArray, classesLimit ?? maxLabel(labelArray) + 1, options, dtype)
  })

// ================================================================ regression: real-valued targets

/** A dataset with real-valued targets, for regression: `labels` is a tensor `[N, ...targetShape]`. */
export interface Regression extends TrainDataset<Tensor> {
  /** The names of the targets, in order: the CSV's target columns, or `y_0 …` for JSON. */
  readonly targets: readonly string[]
}

/** Options of {@link regressionFromJson} and {@link regressionFromCsv}. */
export interface RegressionOptions extends Omit<Options, 'classes'> {
  /**
   * The per-example shape of the targets: the output of the model the data is for. A row
   * with another number of targets is a `ShapeError`. Default: `[k]` for `k` targets.
   */
  readonly targetShape?: Shape
}

/** Options of {@link regressionFromCsv}. */
export interface RegressionCsvOptions extends RegressionOptions {
  /** The field separator (default `,`). */
  readonly delimiter?: string
  /**
   * The target columns, by name, in order. Default: the column `y`, else `target`, else the
   * numbered columns `y_0 … y_k` (or `target_0 … target_k`).
   */
  readonly targets?: readonly string[]
}

/**
 * The names a regression CSV's target columns have when the `targets` option does not say:
 * `y` or `target`, or numbered `y_0 … y_k` / `target_0 … target_k`.
 *
 * @example
 * ```ts
 * import { Dataset } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.ok(Dataset.isTargetColumn('y') && Dataset.isTargetColumn('target_3') && !Dataset.isTargetColumn('x1'))
 * ```
 */
export const isTargetColumn = (name: string): boolean => /^(y|target)(_\d+)?$/.test(name)

/** Checks the target count against the `targetShape` option (the model's outputs). */
const checkTargets = (what: string, k: number, options: RegressionOptions | undefined): Shape => {
  const shape = options?.targetShape ?? [k]
  if (Sh.size(shape) !== k) {
    throw new ShapeError(
      `${what}: ${options?.model ?? 'the model'} gives ${count(Sh.size(shape), 'output')} per example (output shape ${Sh.show(shape)}), the data has ${count(k, 'target')} per example`
    )
  }
  return shape
}

const checkRegressionOptions = (op: string, options: RegressionOptions | undefined): { dtype: DType; limit: number } => {
  const { dtype, limit } = checkOptions(op, options === undefined ? undefined : { ...options, classes: undefined })
  if (options?.targetShape !== undefined) Sh.validate(options.targetShape, op)
  return { dtype, limit }
}

/**
 * A regression dataset from a parsed JSON value `{ x, targets }`: `x` as for {@link fromJson},
 * `targets` one per example, a number (one target) or a rectangular nest of numbers (every
 * example's alike). Every problem is a failure at its path; keys other than `x` and
 * `targets` are failures, and so are `__proto__`, `constructor` or `prototype` keys anywhere.
 *
 * @example
 * ```ts
 * import { Dataset } from 'lamina-nn'
 * import assert from 'node:assert'
 * const data = Dataset.regressionFromJson({ x: [[0, 1], [1, 0]], targets: [0.5, -2] })
 * assert.ok(data._tag === 'Right')
 * assert.deepStrictEqual(data.right.labels.toArray(), [[0.5], [-2]])
 * const two = Dataset.regressionFromJson({ x: [[1], [2]], targets: [[1, 10], [2, 20]] })
 * assert.ok(two._tag === 'Right' && two.right.labels.shape.join() === '2,2')
 * const bad = Dataset.regressionFromJson({ x: [[1], [2]], targets: [1, 'high'] })
 * assert.ok(bad._tag === 'Left' && bad.left.message === 'JSON dataset: targets[1]: expected a finite number, got "high"')
 * ```
 */
export const regressionFromJson = (value: unknown, options?: RegressionOptions): Either<LaminaError, Regression> =>
  run(() => {
    const what = options?.name ?? 'JSON dataset'
    const { dtype, limit } = checkRegressionOptions('Dataset.regressionFromJson', options)
    const failures = new Failures(limit)
    const forbidden = forbiddenKeyFailures(value, limit)
    if (forbidden.length > 0) throw new DecodeError(what, forbidden)
    if (!isRecord(value)) throw new DecodeError(what, [{ path: '', expected: 'an object { x, targets }', got: showValue(value) }])
    for (const k of Object.keys(value)) {
      if (!['x', 'targets'].includes(k)) failures.add(k, 'no such key (regression dataset keys: x, targets)', showValue(own(value, k)))
    }
    const x = own(value, 'x')
    const { values, example, rows } = readExamples(x, what, options, dtype, failures)
    const targets = own(value, 'targets')
    let targetValues = new Values(dtype, 0)
    let targetExample: number[] = []
    if (!Array.isArray(targets)) failures.add('targets', 'an array of targets (numbers, or arrays of numbers), one per example', showValue(targets))
    else if (Array.isArray(x) && targets.length !== x.length) failures.add('targets', `${count(x.length, 'target')} (one per example of x)`, count(targets.length, 'target'))
    else if (targets.length > 0) {
      targetExample = leadingShape(targets[0])
      if (targetExample.length > MAX_RANK) failures.add('targets[0]', `a target of at most ${MAX_RANK} axes`, `more than ${MAX_RANK} nested arrays`)
      else {
        const size = Sh.size(targetExample)
        if (!Number.isSafeInteger(targets.length * size) || targets.length * size > MAX_VALUES) failures.add('targets', 'at most 2³¹ numbers in all', `${targets.length} targets of ${size}`)
        else {
          targetValues = new Values(dtype, targets.length * size)
          for (let i = 0; i < targets.length && !failures.full; i++) {
            targetValues.ensure((i + 1) * size)
            flattenExample(targets[i], targetExample, i, targetValues, failures, 'targets')
          }
        }
      }
    }
    if (!failures.empty) throw failures.error(what)
    if (rows === 0) throw new DecodeError(what, [{ path: 'x', expected: 'at least one example', got: '[]' }])
    const k = Sh.size(targetExample)
    const targetShape = checkTargets(what, k, options)
    const data = assemble(what, values.full(), rows, example, new Int32Array(0), 0, options, dtype)
    const names = Array.from({ length: k }, (_, j) => (k === 1 ? 'y' : `y_${j}`))
    return { x: data.x, labels: fromOwnedBuffer([rows, ...targetShape], dtype, targetValues.full()), targets: names }
  })

/**
 * A regression dataset from JSON text (see {@link regressionFromJson}).
 *
 * @example
 * ```ts
 * import { Dataset } from 'lamina-nn'
 * import assert from 'node:assert'
 * const data = Dataset.parseRegressionJson('{"x": [[1], [2]], "targets": [0.1, 0.2]}')
 * assert.ok(data._tag === 'Right' && data.right.labels.shape.join() === '2,1')
 * ```
 */
export const parseRegressionJson = (text: string, options?: RegressionOptions): Either<LaminaError, Regression> => {
  const value = parseJsonText(text, options?.name ?? 'JSON dataset')
  return E.isLeft(value) ? value : regressionFromJson(value.right, options)
}

/**
 * A regression dataset from CSV text with a header row: the target columns (the `targets`
 * option, or by default `y`, `target`, or numbered `y_0 … y_k`; several make several outputs)
 * hold real numbers, and every other column is a feature, in header order. Each problem is a
 * failure at its line and column: a row with the wrong number of cells, a cell that is not a
 * finite number, a target column that is missing, a duplicate column, a file with no rows.
 *
 * @example
 * ```ts
 * import { Dataset } from 'lamina-nn'
 * import assert from 'node:assert'
 * const data = Dataset.regressionFromCsv('x1,x2,y\n0.5,1,2.25\n-1,2,0.125\n')
 * assert.ok(data._tag === 'Right')
 * assert.deepStrictEqual(data.right.x.toArray(), [[0.5, 1], [-1, 2]])
 * assert.deepStrictEqual(data.right.labels.toArray(), [[2.25], [0.125]])
 * // two targets, named
 * const two = Dataset.regressionFromCsv('a,price,volume\n1,10.5,3\n', { targets: ['price', 'volume'] })
 * assert.ok(two._tag === 'Right' && two.right.labels.shape.join() === '1,2' && two.right.targets.join() === 'price,volume')
 * const bad = Dataset.regressionFromCsv('x,y\n1,2\n3,NaN\n')
 * assert.ok(bad._tag === 'Left' && bad.left.message === 'CSV dataset: line 3, column "y": expected a finite number, got "NaN"')
 * ```
 */
export const regressionFromCsv = (text: string, options?: RegressionCsvOptions): Either<LaminaError, Regression> =>
  run(() => {
    const what = options?.name ?? 'CSV dataset'
    const { dtype, limit } = checkRegressionOptions('Dataset.regressionFromCsv', options)
    const records = csvRecords(text, options?.delimiter ?? ',', what)
    const header = nextOf(records)
    if (header === undefined) throw new DecodeError(what, [{ path: 'line 1', expected: 'a header row', got: 'an empty file' }])
    const firstRow = nextOf(records)
    const failures = new Failures(limit)
    const { names, seen } = columnNames(header, failures)
    // the target columns: named by the option, or the first of the default names found
    let targetNames: readonly string[]
    if (options?.targets !== undefined) {
      if (options.targets.length === 0) throw new ArgumentError('Dataset.regressionFromCsv: the targets option must name at least one column')
      targetNames = options.targets
      for (const t of targetNames) if (!seen.has(t)) failures.add(`line ${header.line}`, `a target column ${showValue(t)} (the targets option)`, `the columns ${names.map((c) => showValue(c)).join(', ')}`)
    } else {
      const numbered = (prefix: string): string[] => {
        const found: string[] = []
        while (seen.has(`${prefix}_${found.length}`)) found.push(`${prefix}_${found.length}`)
        return found
      }
      targetNames = seen.has('y') ? ['y'] : seen.has('target') ? ['target'] : numbered('y').length > 0 ? numbered('y') : numbered('target')
      if (targetNames.length === 0) {
        failures.add(`line ${header.line}`, 'a target column "y" or "target" (or y_0 … y_k, or the targets option)', `the columns ${names.map((c) => showValue(c)).join(', ')}`)
      }
    }
    const targetColumns = targetNames.map((t) => seen.get(t) ?? -1)
    const features = names.map((_, j) => j).filter((j) => !targetColumns.includes(j))
    if (features.length === 0) failures.add(`line ${header.line}`, 'at least one feature column besides the targets', 'none')
    if (firstRow === undefined) failures.add(`line ${header.line + 1}`, 'at least one data row after the header', 'none')
    if (!failures.empty) throw failures.error(what)
    if (options?.shape !== undefined) checkWidth(what, options.shape, [features.length], options.model)
    const targetShape = checkTargets(what, targetNames.length, options)
    const values = new Values(dtype, MAX_VALUES)
    const targetValues = new Values(dtype, MAX_VALUES)
    const width = names.length
    const k = targetColumns.length
    let r = -1
    for (let record: CsvRecord | undefined = firstRow; record !== undefined && !failures.full; record = nextOf(records)) {
      const { line, cells } = record
      r++
      if (cells.length !== width) {
        failures.add(`line ${line}`, `${width} cells (one per column of the header)`, count(cells.length, 'cell'))
        continue
      }
      if ((r + 1) * width > MAX_VALUES) throw new DecodeError(what, [{ path: `line ${line}`, expected: 'at most 2³¹ numbers in all', got: `more, at row ${r + 1}` }])
      values.ensure((r + 1) * features.length)
      targetValues.ensure((r + 1) * k)
      const cell = (j: number, into: Values, at: number): void => {
        const v = parseNumber(cells[j]!)
        if (v === undefined) failures.add(`line ${line}, column ${showValue(names[j])}`, 'a finite number', showValue(cells[j]))
        else into.buffer[at] = v
      }
      features.forEach((j, f) => cell(j, values, r * features.length + f))
      targetColumns.forEach((j, t) => cell(j, targetValues, r * k + t))
    }
    if (!failures.empty) throw failures.error(what)
    const rows = r + 1
    const data = assemble(what, values.full(rows * features.length), rows, [features.length], new Int32Array(0), 0, options, dtype)
    return { x: data.x, labels: fromOwnedBuffer([rows, ...targetShape], dtype, targetValues.full(rows * k)), targets: [...targetNames] }
  })

// ================================================================ unlabelled inputs (predict)

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
