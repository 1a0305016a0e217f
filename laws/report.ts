/**
 * How a failing law explains itself: the first failing input and its error before
 * shrinking, the shrunk input, every error as a multiple of the tolerance, the compared
 * quantity under one name on both sides, and, for small inputs, both Jacobians side by side
 * (as `torch.autograd.gradcheck` prints them). At most about 15 lines.
 *
 * @module
 */
import { Tensor, concreteBuffer } from '../src/tensor.js'

/** One evaluated case of a failing law. */
export interface FailedCase {
  readonly input: unknown
  /** The case's seed for the random direction and cotangent. */
  readonly seed: number
  /** The law's error (NaN reported as Infinity). */
  readonly error: number
  /** The tolerance the error was held to. */
  readonly tolerance: number
  /** The message, when the check threw instead of measuring. */
  readonly threw?: string
}

/** Two matrices compared entry by entry: two Jacobians, or two gradients as 1 × n matrices. */
export interface Comparison {
  /** What computed each side, e.g. `['reverse mode', 'finite differences']`. */
  readonly names: readonly [string, string]
  readonly a: readonly ArrayLike<number>[]
  readonly b: readonly ArrayLike<number>[]
  /** How an entry is named (default `J[i][j] (output element i, input element j)`). */
  readonly entryName?: (row: number, column: number) => string
  /** The heading of the side-by-side print (default: Jacobians, rows are output elements). */
  readonly title?: string
  /** One row that is a vector (a gradient), printed without the matrix brackets. */
  readonly vector?: boolean
}

/** One scalar compared between the two computations, named once for both sides. */
export interface Quantity {
  /** What it is, e.g. `directional derivative ⟨c, J·v⟩ (random unit c, v)`. */
  readonly what: string
  readonly names: readonly [string, string]
  readonly analytic: number
  readonly numeric: number
}

/** Everything a failure report says. */
export interface FailureDetails {
  readonly law: string
  /** Cases generated (all of them run). */
  readonly cases: number
  /** How many of them failed. */
  readonly failures: number
  /** The fast-check seed: pass it as the `seed` option to rerun the same cases. */
  readonly seed: number
  /** Shrinking steps from the worst case to the shrunk one. */
  readonly shrinks: number
  /** The first failing case (`case` counts from 1). */
  readonly first: FailedCase & { readonly case: number }
  /** The case with the largest error relative to its tolerance, where shrinking started. */
  readonly worst: FailedCase & { readonly case: number }
  /** The counterexample after shrinking. */
  readonly shrunk: FailedCase
  /** Shrinking kept only cases whose error was at least this multiple of the tolerance. */
  readonly keptRatio: number
  readonly quantity?: Quantity
  readonly comparison?: Comparison
  /** Further lines of explanation. */
  readonly lines?: readonly string[]
  readonly note?: string
}

/**
 * Entries of the side-by-side print at most; beyond it the report names the size only.
 *
 * @example
 * ```ts
 * import { sideBySide, sideBySideLimit } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * const row = [Array.from({ length: sideBySideLimit + 1 }, () => 0)]
 * assert.strictEqual(sideBySide({ names: ['a', 'b'], a: row, b: row }), undefined)
 * ```
 */
export const sideBySideLimit = 64

/**
 * A number in at most `digits` significant digits, without trailing zeros.
 *
 * @example
 * ```ts
 * import { formatNumber } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * assert.strictEqual(formatNumber(0.49999995), '0.5')
 * assert.strictEqual(formatNumber(-0.2241736), '-0.224174')
 * assert.strictEqual(formatNumber(1.234e-9, 3), '1.23e-9')
 * ```
 */
export const formatNumber = (x: number, digits = 6): string => (Number.isFinite(x) ? String(Number(x.toPrecision(digits))) : String(x))

/**
 * An error as a multiple of its tolerance: `3.2×`, `1.87e6×`, `∞×`.
 *
 * @example
 * ```ts
 * import { formatRatio } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * assert.strictEqual(formatRatio(0.187, 1e-7), '1.87e6×')
 * assert.strictEqual(formatRatio(3.2e-7, 1e-7), '3.2×')
 * ```
 */
export const formatRatio = (error: number, tolerance: number): string => {
  const r = error / tolerance
  if (!Number.isFinite(r)) return '∞×'
  return `${r < 1e4 ? formatNumber(r, 3) : r.toExponential(2).replace('e+', 'e').replace(/\.?0+e/, 'e')}×`
}

/**
 * A case's input in one line, as code where it can be (`tensor([1.5, -2])`, numbers in
 * full precision so the case can be replayed), cut at `limit` characters.
 *
 * @example
 * ```ts
 * import { tensor } from 'lamina-nn'
 * import { formatInput } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * assert.strictEqual(formatInput({ w: tensor([[1, 2]]), k: 0.5 }), '{ w: tensor([[1, 2]]), k: 0.5 }')
 * assert.strictEqual(formatInput(tensor(1.5, { dtype: 'f32' })), "tensor(1.5, { dtype: 'f32' })")
 * ```
 */
export const formatInput = (input: unknown, limit = 300): string => {
  const go = (x: unknown): string => {
    if (typeof x === 'number') return Object.is(x, -0) ? '-0' : String(x)
    if (x instanceof Tensor) {
      const nest = (shape: readonly number[], at: number, data: ArrayLike<number>): string => {
        if (shape.length === 0) return go(data[at]!)
        const [n, ...rest] = shape
        const stride = rest.reduce((a, b) => a * b, 1)
        return `[${Array.from({ length: n! }, (_, i) => nest(rest, at + i * stride, data)).join(', ')}]`
      }
      const body = nest(x.shape, 0, concreteBuffer(x))
      return `tensor(${body}${x.dtype === 'f64' ? '' : `, { dtype: '${x.dtype}' }`})`
    }
    if (ArrayBuffer.isView(x) && !(x instanceof DataView)) return `[${Array.from(x as unknown as ArrayLike<number>, go).join(', ')}]`
    if (Array.isArray(x)) return `[${x.map(go).join(', ')}]`
    if (x !== null && typeof x === 'object') {
      const entries = Object.entries(x as Record<string, unknown>)
      return entries.length === 0 ? '{}' : `{ ${entries.map(([k, v]) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}: ${go(v)}`).join(', ')} }`
    }
    return typeof x === 'string' ? JSON.stringify(x) : String(x)
  }
  const text = go(input)
  return text.length > limit ? `${text.slice(0, limit)}… (${text.length} characters)` : text
}

/** The entry where two matrices differ most (NaN counts as the most). */
const worstOf = (a: readonly ArrayLike<number>[], b: readonly ArrayLike<number>[]) => {
  let best = { i: 0, j: 0, x: NaN, y: NaN, d: -1 }
  a.forEach((row, i) => {
    for (let j = 0; j < row.length; j++) {
      const x = row[j]!
      const y = b[i]?.[j] ?? NaN
      const d = Math.abs(x - y)
      if (d > best.d || (Number.isNaN(d) && best.d !== Infinity)) best = { i, j, x, y, d: Number.isNaN(d) ? Infinity : d }
    }
  })
  return best
}

const defaultEntry = (i: number, j: number) => `Jacobian entry J[${i}][${j}] (output element ${i}, input element ${j})`

/**
 * The line naming the entry where two matrices differ most, with both values and their difference.
 *
 * @example
 * ```ts
 * import { worstEntryLine } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * const line = worstEntryLine({ names: ['hand-written', 'finite differences'], a: [[1, 2]], b: [[1, 2.5]], entryName: (_, j) => `gradient entry x[${j}]` })
 * assert.strictEqual(line, 'worst gradient entry x[1]: hand-written 2, finite differences 2.5, difference -0.5')
 * ```
 */
export const worstEntryLine = (c: Comparison): string => {
  const w = worstOf(c.a, c.b)
  return `worst ${(c.entryName ?? defaultEntry)(w.i, w.j)}: ${c.names[0]} ${w.x}, ${c.names[1]} ${w.y}, difference ${w.x - w.y}`
}

/**
 * Both matrices printed one above the other, each entry padded to the width of its twin so
 * that the columns line up; `undefined` when they hold more than `limit` entries.
 *
 * @example
 * ```ts
 * import { sideBySide } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * const lines = sideBySide({ names: ['reverse mode', 'finite differences'], a: [[0.5, 0], [0, 2]], b: [[1, 0], [0, 2]] })
 * assert.deepStrictEqual(lines, [
 *   'reverse mode       [[0.5, 0], [0, 2]]',
 *   'finite differences [[  1, 0], [0, 2]]'
 * ])
 * ```
 */
export const sideBySide = (c: Comparison, limit = sideBySideLimit): readonly [string, string] | undefined => {
  const count = c.a.reduce((n, r) => n + r.length, 0)
  if (count > limit) return undefined
  const rowsA: string[] = []
  const rowsB: string[] = []
  c.a.forEach((row, i) => {
    const ea: string[] = []
    const eb: string[] = []
    for (let j = 0; j < row.length; j++) {
      const x = formatNumber(row[j]!)
      const y = formatNumber(c.b[i]?.[j] ?? NaN)
      const w = Math.max(x.length, y.length)
      ea.push(x.padStart(w))
      eb.push(y.padStart(w))
    }
    rowsA.push(`[${ea.join(', ')}]`)
    rowsB.push(`[${eb.join(', ')}]`)
  })
  const width = Math.max(c.names[0].length, c.names[1].length)
  const whole = (rows: string[]) => (c.vector === true && rows.length === 1 ? rows[0]! : `[${rows.join(', ')}]`)
  return [`${c.names[0].padEnd(width)} ${whole(rowsA)}`, `${c.names[1].padEnd(width)} ${whole(rowsB)}`]
}

const caseLine = (c: FailedCase): string =>
  c.threw !== undefined
    ? `the check threw: ${c.threw.split('\n')[0]}; input ${formatInput(c.input)}`
    : `error ${formatNumber(c.error, 3)} = ${formatRatio(c.error, c.tolerance)} tolerance ${c.tolerance}; input ${formatInput(c.input)}, case seed ${c.seed}`

/**
 * The failure report, one line per fact, at most about 15 lines: how many cases failed, the
 * shrunk case's error as a multiple of the tolerance, the first failing case, the worst one,
 * the shrunk one, the compared quantity, the worst entry, both Jacobians side by side for
 * small inputs.
 *
 * @example
 * ```ts
 * import { formatFailure } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * const text = formatFailure({
 *   law: 'hand-written gradient', cases: 100, failures: 60, seed: 7, shrinks: 4, keptRatio: 1.5e6,
 *   first: { case: 3, input: 0.2, seed: 0, error: 0.1, tolerance: 1e-7 },
 *   worst: { case: 9, input: 2.5, seed: 0, error: 0.3, tolerance: 1e-7 },
 *   shrunk: { input: 1, seed: 0, error: 0.2, tolerance: 1e-7 },
 *   comparison: { names: ['hand-written', 'finite differences'], a: [[0.7]], b: [[0.9]], entryName: () => 'gradient entry x' }
 * })
 * assert.match(text, /^hand-written gradient law failed in 60 of 100 cases: error 0\.2 = 2e6× tolerance 1e-7 at the shrunk input/)
 * assert.match(text, /\n  first failure \(case 3\): error 0\.1 = 1e6× tolerance 1e-7; input 0\.2/)
 * assert.match(text, /\n  worst failure \(case 9\): error 0\.3 = 3e6× tolerance 1e-7; input 2\.5/)
 * assert.match(text, /\n  worst gradient entry x: hand-written 0\.7, finite differences 0\.9/)
 * ```
 */
export const formatFailure = (d: FailureDetails): string => {
  const { first, worst, shrunk } = d
  const headline =
    shrunk.threw !== undefined
      ? `${d.law} law failed in ${d.failures} of ${d.cases} cases: the check threw`
      : `${d.law} law failed in ${d.failures} of ${d.cases} cases: error ${formatNumber(shrunk.error, 3)} = ${formatRatio(shrunk.error, shrunk.tolerance)} tolerance ${shrunk.tolerance} at the shrunk input`
  const lines = [`${headline} (fast-check seed ${d.seed}; pass { seed: ${d.seed} } to rerun)`]
  if (worst.case === first.case) lines.push(`  first and worst failure (case ${first.case}): ${caseLine(first)}`)
  else lines.push(`  first failure (case ${first.case}): ${caseLine(first)}`, `  worst failure (case ${worst.case}): ${caseLine(worst)}`)
  lines.push(
    d.shrinks === 0
      ? `  not shrunk: no simpler case failed as clearly`
      : `  shrunk from the worst (${d.shrinks} step${d.shrinks === 1 ? '' : 's'}, keeping errors ≥ ${formatRatio(d.keptRatio, 1)} tolerance): ${caseLine(shrunk)}`
  )
  if (d.quantity !== undefined) {
    const q = d.quantity
    lines.push(`  ${q.what}: ${q.names[0]} ${q.analytic}, ${q.names[1]} ${q.numeric}`)
  }
  if (d.comparison !== undefined) {
    lines.push(`  ${worstEntryLine(d.comparison)}`)
    const pair = sideBySide(d.comparison)
    const title = d.comparison.title ?? 'Jacobians at the shrunk input (rows: output elements, columns: input elements)'
    const count = d.comparison.a.reduce((n, r) => n + r.length, 0)
    if (pair !== undefined) lines.push(`  ${title}:`, `    ${pair[0]}`, `    ${pair[1]}`)
    else lines.push(`  ${title}: ${count} entries, more than ${sideBySideLimit}, not printed`)
  }
  for (const l of d.lines ?? []) if (l !== '') lines.push(`  ${l}`)
  if (d.note !== undefined) lines.push(`  note: ${d.note}`)
  return lines.join('\n')
}
