/**
 * `parseDecimal`, lamina's one parser of numbers written as text. Re-exported by `Codec`.
 *
 * @module
 */

const isDigit = (c: number): boolean => c >= 48 && c <= 57
const isBlank = (c: number): boolean => c === 32 || c === 9

/**
 * The one parser of numbers written as text in lamina (CSV cells for train, eval and
 * predict, command-line values): decimal notation with an optional sign, fraction and
 * exponent (`3`, `-1.5`, `.5`, `2.`, `6.02e23`, `1E-3`), with optional spaces or tabs around
 * it, whose value is finite. Everything else is `undefined`: an empty cell, hexadecimal,
 * octal or binary (`0x10`, `0o7`, `0b1`, which `Number` would accept), `Infinity`, `NaN`,
 * digit separators (`1_000`), a comma as decimal point, and a value that overflows (`1e999`).
 * One linear scan, so a 10 MB cell costs one pass (no backtracking pattern).
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(['3', ' -1.5 ', '.5', '2.', '6.02e23', '+1E-3'].map(Codec.parseDecimal), [3, -1.5, 0.5, 2, 6.02e23, 0.001])
 * assert.deepStrictEqual(['', ' ', '0x10', '0b1', '0o7', 'Infinity', 'NaN', '1_000', '1,5', '1e999', '.', '1e', '--1'].map(Codec.parseDecimal),
 *   Array(13).fill(undefined))
 * ```
 */
export const parseDecimal = (text: string): number | undefined => {
  const n = text.length
  let i = 0
  while (i < n && isBlank(text.charCodeAt(i))) i++
  const start = i
  if (i < n && (text.charCodeAt(i) === 43 || text.charCodeAt(i) === 45)) i++ // + or -
  const integral = i
  while (i < n && isDigit(text.charCodeAt(i))) i++
  let digits = i - integral
  if (i < n && text.charCodeAt(i) === 46) {
    const fraction = ++i // after the point
    while (i < n && isDigit(text.charCodeAt(i))) i++
    digits += i - fraction
  }
  if (digits === 0) return undefined
  if (i < n && (text.charCodeAt(i) === 101 || text.charCodeAt(i) === 69)) {
    i++ // e or E
    if (i < n && (text.charCodeAt(i) === 43 || text.charCodeAt(i) === 45)) i++
    const from = i
    while (i < n && isDigit(text.charCodeAt(i))) i++
    if (i === from) return undefined
  }
  const end = i
  while (i < n && isBlank(text.charCodeAt(i))) i++
  if (i !== n) return undefined
  const v = Number(text.slice(start, end))
  return Number.isFinite(v) ? v : undefined
}
