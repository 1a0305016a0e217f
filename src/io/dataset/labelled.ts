/**
 * Labelled datasets for classification (`{ x, labels }` with integer class labels) from JSON
 * and CSV. Re-exported by `Dataset`.
 *
 * @module
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Either } from 'fp-ts/lib/Either.js'
import { ArgumentError, LaminaError } from '../../error.js'
import * as Sh from '../../shape.js'
import type { Shape } from '../../shape.js'
import { allocate, checkDType, fromOwnedBuffer } from '../../tensor.js'
import type { DType } from '../../tensor.js'
import type { Dataset as TrainDataset } from '../../nn/train.js'
import { DecodeError, forbiddenKeyFailures, joinPath, parseJsonText, showValue } from '../codec.js'
import { columnNames, csvRecords, nextOf, parseNumber } from './csv.js'
import type { CsvRecord } from './csv.js'
import { Failures, INT32_MAX, MAX_VALUES, Values, checkWidth, count, isRecord, own, readExamples, run } from './read.js'

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

/** Checks the options shared by both readers; an option that is not usable is an `ArgumentError`. */
export const checkOptions = (op: string, options: Options | undefined): { classes?: number; dtype: DType; limit: number } => {
  const classes = options?.classes
  if (classes !== undefined && (!Number.isSafeInteger(classes) || classes < 1 || classes > INT32_MAX)) {
    throw new ArgumentError(`${op}: the classes option must be an integer from 1 to ${INT32_MAX} (a label is an int32), got ${showValue(classes)}`)
  }
  const limit = options?.maxFailures ?? 20
  if (!Number.isSafeInteger(limit) || limit < 1) throw new ArgumentError(`${op}: maxFailures must be a positive integer, got ${showValue(limit)}`)
  if (options?.shape !== undefined) Sh.validate(options.shape, op)
  return { ...(classes === undefined ? {} : { classes }), dtype: checkDType(options?.dtype ?? 'f64'), limit }
}

/** `x` as a tensor `[N, ...shape]`, checking the `shape` option against the size of a row. */
export const assemble = (
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
