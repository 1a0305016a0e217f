/**
 * CSV text (RFC 4180) as records, read one at a time, and the column names of a header row.
 *
 * @module
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Either } from 'fp-ts/lib/Either.js'
import { DecodeError, parseDecimal, showValue } from '../codec.js'
import type { Failures } from './read.js'

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
export const nextOf = (records: Generator<CsvRecord, void, undefined>): CsvRecord | undefined => {
  const next = records.next()
  return next.done === true ? undefined : next.value
}

/**
 * The records of CSV text one at a time (see {@link parseCsv}), so that a reader keeps only
 * what it makes of each record (numbers in a buffer), not every cell of the file as a
 * string: a 10 MB file costs its numbers, not 400 MB of records. A problem is a thrown
 * `DecodeError`.
 */
export function* csvRecords(text: string, delimiter: string, what: string): Generator<CsvRecord, void, undefined> {
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
export const columnNames = (header: CsvRecord, failures: Failures): { readonly names: string[]; readonly seen: Map<string, number> } => {
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
export const parseNumber = parseDecimal
