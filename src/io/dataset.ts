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
import { ArgumentError, LaminaError } from '../error.js'
import * as Sh from '../shape.js'
import type { Shape } from '../shape.js'
import { allocate, checkDType, fromOwnedBuffer } from '../tensor.js'
import type { DType } from '../tensor.js'
import type { Dataset as TrainDataset } from '../nn/train.js'
import { DecodeError, forbiddenKeyFailures, joinPath, showValue } from './codec.js'
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
  /** The per-example shape of `x` (e.g. `[1, 28, 28]`), the same number of elements as a row. Default: as read. */
  readonly shape?: Shape
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

/** Checks the options shared by both readers; an option that is not usable is an `ArgumentError`. */
const checkOptions = (op: string, options: Options | undefined): { classes?: number; dtype: DType; limit: number } => {
  const classes = options?.classes
  if (classes !== undefined && (!Number.isSafeInteger(classes) || classes < 1 || classes > INT32_MAX)) {
    throw new ArgumentError(`${op}: classes must be a positive integer, got ${showValue(classes)}`)
  }
  const limit = options?.maxFailures ?? 20
  if (!Number.isSafeInteger(limit) || limit < 1) throw new ArgumentError(`${op}: maxFailures must be a positive integer, got ${showValue(limit)}`)
  if (options?.shape !== undefined) Sh.validate(options.shape, op)
  return { ...(classes === undefined ? {} : { classes }), dtype: checkDType(options?.dtype ?? 'f64'), limit }
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
  if (Sh.size(shape) !== Sh.size(example)) {
    throw new DecodeError(what, [
      {
        path: 'shape (option)',
        expected: `a shape of ${count(Sh.size(example), 'element')}, the size of one example ${Sh.show(example)}`,
        got: `${Sh.show(shape)} (${count(Sh.size(shape), 'element')})`
      }
    ])
  }
  const owned = dtype === 'f64' ? values instanceof Float64Array : values instanceof Float32Array
  const buffer = owned ? (values as Float32Array | Float64Array) : allocate(dtype, values.length)
  if (!owned) buffer.set(values as ArrayLike<number>)
  return { x: fromOwnedBuffer([rows, ...shape], dtype, buffer), labels, classes }
}

const labelRange = (classes: number | undefined): string =>
  classes === undefined ? 'a non-negative integer label' : `an integer label in [0, ${classes})`

const isLabel = (v: number, classes: number | undefined): boolean => Number.isInteger(v) && v >= 0 && v <= (classes === undefined ? INT32_MAX : classes - 1)

const run = <A>(f: () => A): Either<LaminaError, A> => {
  try {
    return E.right(f())
  } catch (e) {
    if (e instanceof LaminaError) return E.left(e)
    throw e
  }
}

// ================================================================ JSON

const isRecord = (u: unknown): u is Record<string, unknown> => Object.prototype.toString.call(u) === '[object Object]'

const own = (o: Record<string, unknown>, k: string): unknown =>
  Object.prototype.hasOwnProperty.call(o, k) ? (Object.getOwnPropertyDescriptor(o, k)?.value as unknown) : undefined

/** The nested shape of a value along its first elements (`[[1, 2], [3, 4]]` → `[2, 2]`). */
const leadingShape = (u: unknown): number[] => {
  const shape: number[] = []
  let cur = u
  while (Array.isArray(cur)) {
    shape.push(cur.length)
    cur = cur[0]
  }
  return shape
}

/** The most axes an example may have (a deeper nest is rejected rather than walked). */
const MAX_RANK = 32

/**
 * Flattens one example (a rectangular nest of numbers of shape `shape`) onto `out`,
 * reporting every cell that is not a finite number and every row of the wrong length, by
 * path (the values pushed are then incomplete, and unused). Paths are only built for
 * failures, so a clean MNIST-sized file costs one loop.
 */
const flattenExample = (u: unknown, shape: Shape, index: number, out: { readonly buffer: Float32Array | Float64Array; at: number }, failures: Failures): void => {
  const at: number[] = [index]
  const path = (): string => at.map((i) => `[${i}]`).join('')
  const walk = (v: unknown, depth: number): void => {
    const n = shape[depth]!
    if (!Array.isArray(v) || v.length !== n) {
      const like = `x${'[0]'.repeat(at.length)}`
      failures.add(`x${path()}`, `an array of ${n} ${depth === shape.length - 1 ? 'numbers' : 'arrays'} (like ${like})`, Array.isArray(v) ? count(v.length, 'item') : showValue(v))
      return
    }
    if (depth === shape.length - 1) {
      for (let i = 0; i < n; i++) {
        const c: unknown = v[i]
        if (typeof c === 'number' && Number.isFinite(c)) out.buffer[out.at++] = c
        else {
          at.push(i)
          failures.add(`x${path()}`, 'a finite number', showValue(c))
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
    // x: N examples of one rectangular shape
    const x = own(value, 'x')
    let values: { readonly buffer: Float32Array | Float64Array; at: number } = { buffer: allocate(dtype, 0), at: 0 }
    let example: number[] = []
    let rows = 0
    if (!Array.isArray(x)) failures.add('x', 'an array of examples (arrays of numbers)', showValue(x))
    else if (x.length === 0) failures.add('x', 'at least one example', '[]')
    else {
      example = leadingShape(x[0])
      if (example.length === 0) failures.add('x[0]', 'an example: an array of numbers', showValue(x[0]))
      else if (example.length > MAX_RANK) failures.add('x[0]', `an example of at most ${MAX_RANK} axes`, `${example.length} nested arrays`)
      else {
        rows = x.length
        const size = Sh.size(example)
        if (!Number.isSafeInteger(rows * size) || rows * size > 2 ** 31) failures.add('x', 'at most 2³¹ numbers in all', `${rows} examples of ${size}`)
        else {
          values = { buffer: allocate(dtype, rows * size), at: 0 }
          for (let i = 0; i < x.length && !failures.full; i++) flattenExample(x[i], example, i, values, failures)
        }
      }
    }
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
    return assemble(what, values.buffer, rows, example, labels, classes ?? maxLabel(labels) + 1, options, dtype)
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
 * A dataset from JSON text (see {@link fromJson}); a syntax error is a `DecodeError` too.
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
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (e) {
    return E.left(new DecodeError(options?.name ?? 'JSON dataset', [{ path: '', expected: 'valid JSON', got: e instanceof Error ? e.message : String(e) }]))
  }
  return fromJson(value, options)
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
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    return E.left(new DecodeError(what, [{ path: 'delimiter (option)', expected: 'one character other than a quote or a line break', got: showValue(delimiter) }]))
  }
  const d = delimiter.charCodeAt(0)
  const QUOTE = 34
  const LF = 10
  const CR = 13
  const n = text.length
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0
  let line = 1
  const records: CsvRecord[] = []
  const fail = (l: number, column: number, expected: string, got: string) =>
    E.left(new DecodeError(what, [{ path: `line ${l}, column ${column}`, expected, got }]))
  while (i < n) {
    const start = line
    // fast path: a line without quotes is split as it is
    let end = text.indexOf('\n', i)
    if (end < 0) end = n
    const raw = text.charCodeAt(end - 1) === CR && end > i ? text.slice(i, end - 1) : text.slice(i, end)
    if (!raw.includes('"') && !raw.includes('\r')) {
      i = end + 1
      line++
      if (raw.trim() !== '') records.push({ line: start, cells: raw.split(delimiter) })
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
          if (q < 0) return fail(fieldLine, column, 'a closing quote', 'the end of the file')
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
          return fail(line, column, 'a delimiter or a line break after a closing quote', showValue(text.slice(i, i + 10)))
        }
        cell = value
      } else {
        let j = i
        while (j < n) {
          const c = text.charCodeAt(j)
          if (c === d || c === LF || c === CR) break
          if (c === QUOTE) return fail(line, column, 'a quote only around a whole field', showValue(text.slice(i, Math.min(n, i + 20)).split(/[\r\n]/)[0]))
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
    if (!blank) records.push({ line: start, cells })
  }
  return E.right(records)
}

const NUMBER = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/

/** A cell as a finite number (decimal notation only: no hex, no `NaN`, no `Infinity`, no empty cell), or `undefined`. */
const parseNumber = (cell: string): number | undefined => {
  const v = Number(cell) // also accepts '', '0x1F', '0b1', ' ': the pattern below rules those out
  return Number.isFinite(v) && NUMBER.test(cell) ? v : undefined
}

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
    const parsed = parseCsv(text, options?.delimiter ?? ',', what)
    if (E.isLeft(parsed)) throw parsed.left
    const records = parsed.right
    const header = records[0]
    if (header === undefined) throw new DecodeError(what, [{ path: 'line 1', expected: 'a header row', got: 'an empty file' }])
    const failures = new Failures(limit)
    // the columns: labels (one or one-hot), features
    const names = header.cells.map((c) => c.trim())
    const seen = new Map<string, number>()
    names.forEach((name, j) => {
      const where = `line ${header.line}, column ${j + 1}`
      if (name === '') failures.add(where, 'a column name', '""')
      else if (seen.has(name)) failures.add(where, 'a unique column name', `${showValue(name)} again (as column ${seen.get(name)! + 1})`)
      else seen.set(name, j)
    })
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
    if (records.length < 2) failures.add(`line ${header.line + 1}`, 'at least one data row after the header', 'none')
    if (hot.length > 0 && classesOption !== undefined && classesOption !== hot.length) {
      failures.add(`line ${header.line}`, `${classesOption} one-hot label columns (the classes option)`, `${hot.length}`)
    }
    if (!failures.empty) throw failures.error(what)
    const classesLimit = hot.length > 0 ? hot.length : classesOption
    // the rows
    const rows = records.length - 1
    const values = allocate(dtype, rows * features.length)
    const labels = new Int32Array(rows)
    const width = names.length
    for (let r = 0; r < rows && !failures.full; r++) {
      const { line, cells } = records[r + 1]!
      if (cells.length !== width) {
        failures.add(`line ${line}`, `${width} cells (one per column of the header)`, count(cells.length, 'cell'))
        continue
      }
      features.forEach((j, f) => {
        const v = parseNumber(cells[j]!)
        if (v === undefined) failures.add(`line ${line}, column ${showValue(names[j])}`, 'a finite number', showValue(cells[j]))
        else values[r * features.length + f] = v
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
    return assemble(what, values, rows, [features.length], labels, classesLimit ?? maxLabel(labels) + 1, options, dtype)
  })
