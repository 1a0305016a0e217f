/**
 * Regression datasets (real-valued targets) from JSON and CSV. Re-exported by `Dataset`.
 *
 * @module
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Either } from 'fp-ts/lib/Either.js'
import { ArgumentError, LaminaError, ShapeError } from '../../error.js'
import * as Sh from '../../shape.js'
import type { Shape } from '../../shape.js'
import { fromOwnedBuffer } from '../../tensor.js'
import type { DType, Tensor } from '../../tensor.js'
import type { Dataset as TrainDataset } from '../../nn/train.js'
import { DecodeError, forbiddenKeyFailures, parseJsonText, showValue } from '../codec.js'
import { columnNames, csvRecords, nextOf, parseNumber } from './csv.js'
import type { CsvRecord } from './csv.js'
import { assemble, checkOptions } from './labelled.js'
import type { Options } from './labelled.js'
import { Failures, MAX_RANK, MAX_VALUES, Values, checkWidth, count, flattenExample, isRecord, leadingShape, own, readExamples, run } from './read.js'

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
