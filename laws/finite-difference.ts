/**
 * Numerical derivatives: central differences refined by Richardson extrapolation (Ridders'
 * method). A central difference D(h) = (f(x+h) − f(x−h)) / 2h has truncation error
 * c₂h² + c₄h⁴ + …, and rounding error ≈ ε|f|/h; shrinking h trades one for the other.
 * Extrapolating a table of D(h), D(h/1.4), … to h → 0 cancels the h², h⁴, … terms, so a
 * moderate h (little rounding) reaches near machine precision, and the table's spread
 * gives an error estimate.
 *
 * @module
 */

/** A derivative estimate and its error estimate (both per component). */
export interface Estimate {
  readonly value: Float64Array
  readonly error: number
}

/**
 * The derivative at `t = 0` of a vector-valued function of one real variable, `g(t)`,
 * by Ridders' extrapolation of central differences starting from step `h`.
 *
 * @example
 * ```ts
 * import { ridders } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * const { value } = ridders((t) => [Math.sin(1 + t), Math.exp(2 * t)], 0.1)
 * assert.ok(Math.abs(value[0]! - Math.cos(1)) < 1e-12)
 * assert.ok(Math.abs(value[1]! - 2) < 1e-12)
 * ```
 */
export const ridders = (g: (t: number) => ArrayLike<number>, h = 0.01, steps = 10): Estimate => {
  const shrink = 1.4
  const shrink2 = shrink * shrink
  const central = (step: number): Float64Array => {
    const plus = g(step)
    const minus = g(-step)
    const out = new Float64Array(plus.length)
    for (let i = 0; i < out.length; i++) out[i] = (plus[i]! - minus[i]!) / (2 * step)
    return out
  }
  const spread = (a: Float64Array, b: Float64Array): number => {
    let m = 0
    for (let i = 0; i < a.length; i++) {
      const d = Math.abs(a[i]! - b[i]!)
      m = d > m || Number.isNaN(d) ? d : m
    }
    return m
  }
  // table[j][i]: the i-th step size extrapolated j times
  const table: Float64Array[][] = [[central(h)]]
  let best = table[0]![0]!
  let error = Infinity
  let step = h
  for (let i = 1; i < steps; i++) {
    step /= shrink
    table[0]![i] = central(step)
    let factor = shrink2
    for (let j = 1; j <= i; j++) {
      const prev = table[j - 1]!
      const cur = new Float64Array(prev[i]!.length)
      for (let k = 0; k < cur.length; k++) cur[k] = (prev[i]![k]! * factor - prev[i - 1]![k]!) / (factor - 1)
      ;(table[j] ??= [])[i] = cur
      factor *= shrink2
      const e = Math.max(spread(cur, prev[i]!), spread(cur, prev[i - 1]!))
      if (e <= error) {
        error = e
        best = cur
      }
    }
    // stop once higher orders get worse: rounding has taken over
    if (spread(table[i]![i]!, table[i - 1]![i - 1]!) >= 2 * error) break
  }
  return { value: best, error }
}

/**
 * How far the one-sided difference quotients (g(h) − g(0))/h and (g(0) − g(−h))/h of a
 * vector-valued g disagree at 0, worst component, in absolute terms. Near zero (about h·|g″|)
 * where g is smooth; about the jump of the derivative at a kink (relu or abs at 0, a tie
 * in max/min), which finite differences cannot differentiate.
 *
 * @example
 * ```ts
 * import { oneSidedGap } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * assert.ok(oneSidedGap((t) => [Math.sin(1 + t)]) < 1e-5) // smooth
 * assert.ok(Math.abs(oneSidedGap((t) => [Math.abs(t)]) - 2) < 1e-9) // |t| at 0: slopes −1 and 1
 * ```
 */
export const oneSidedGap = (g: (t: number) => ArrayLike<number>, h = 1e-6): number => {
  const mid = g(0)
  const plus = g(h)
  const minus = g(-h)
  let gap = 0
  for (let i = 0; i < mid.length; i++) {
    const forward = (plus[i]! - mid[i]!) / h
    const backward = (mid[i]! - minus[i]!) / h
    const d = Math.abs(forward - backward)
    gap = d > gap || Number.isNaN(d) ? d : gap
  }
  return gap
}
