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
// One reader per file under ./dataset/; this module is their public face.
export type { CsvOptions, Labelled, Options } from './dataset/labelled.js'
export { fromCsv, fromJson, parseJson } from './dataset/labelled.js'
export type { CsvRecord } from './dataset/csv.js'
export { parseCsv } from './dataset/csv.js'
export type { Regression, RegressionCsvOptions, RegressionOptions } from './dataset/regression.js'
export { isTargetColumn, parseRegressionJson, regressionFromCsv, regressionFromJson } from './dataset/regression.js'
export type { CsvInputOptions, InputOptions } from './dataset/inputs.js'
export { inputsFromCsv, inputsFromJson, parseInputsJson } from './dataset/inputs.js'
