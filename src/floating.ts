/**
 * `Floating`: the scalar operations a neural network needs, as a typeclass over any number-like
 * `A`. An expression written once against `Floating<A>` runs over plain numbers
 * (`FloatingNumber`), over dual numbers (`Dual.getFloating`), and over nested duals for higher
 * derivatives.
 *
 * @module
 */
import type { Field } from 'fp-ts/lib/Field.js'

/**
 * A field with the elementary functions of deep learning. `pow` takes a plain-number exponent
 * so that its rule stays `n xⁿ⁻¹ dx`. `sign` (−1, 0 or 1) is here because generic code cannot
 * compare an `A` with zero, and the rules for `relu` and `abs` need it.
 *
 * @example
 * ```ts
 * import { Floating } from 'lamina-nn'
 * import assert from 'node:assert'
 *
 * // written once, for every instance
 * const softsign = <A>(F: Floating.Floating<A>) => (x: A): A => F.div(x, F.add(F.one, F.abs(x)))
 * assert.strictEqual(softsign(Floating.FloatingNumber)(-3), -0.75)
 * ```
 */
export interface Floating<A> extends Field<A> {
  readonly fromNumber: (n: number) => A
  readonly neg: (x: A) => A
  readonly exp: (x: A) => A
  readonly log: (x: A) => A
  readonly sin: (x: A) => A
  readonly cos: (x: A) => A
  readonly tanh: (x: A) => A
  readonly sqrt: (x: A) => A
  readonly pow: (x: A, exponent: number) => A
  /** `1 / (1 + e⁻ˣ)`, stable for large `|x|`. */
  readonly sigmoid: (x: A) => A
  /** `ln(1 + eˣ)`, stable for large `|x|`. */
  readonly softplus: (x: A) => A
  readonly relu: (x: A) => A
  readonly abs: (x: A) => A
  /** −1, 0 or 1. */
  readonly sign: (x: A) => A
  readonly erf: (x: A) => A
}

const SQRT_PI = Math.sqrt(Math.PI)

// e^(−x²) from x² split exactly into hi + lo (Veltkamp), so that rounding x² costs nothing
const expNegSquare = (x: number): number => {
  const c = 134217729 * x
  const xh = c - (c - x)
  const xl = x - xh
  const hi = x * x
  const lo = xh * xh - hi + 2 * xh * xl + xl * xl
  return Math.exp(-hi) * (1 - lo)
}

// (2/√π) e^(−x²) Σₙ 2ⁿ x^(2n+1) / (2n+1)!!: every term has the sign of x, so nothing cancels;
// compensated (Kahan) summation stops the rounding of the many terms from piling up.
// Local accumulators: a loop is the clearest form of a series sum.
const erfSeries = (x: number): number => {
  const twoX2 = 2 * x * x
  let term = x
  let sum = x
  let carry = 0
  for (let n = 1; Math.abs(term) > 0.25 * Number.EPSILON * Math.abs(sum); n++) {
    term = (term * twoX2) / (2 * n + 1)
    const y = term - carry
    const t = sum + y
    carry = t - sum - y
    sum = t
  }
  return (2 / SQRT_PI) * expNegSquare(x) * sum
}

// erfc(x) = e^(−x²)/√π · 1/(x + ½/(x + 1/(x + (3/2)/(x + …)))) for x ≥ 2, by Lentz's method;
// every partial quotient is positive there, so no denominator vanishes.
const erfcContinuedFraction = (x: number): number => {
  let f = x
  let c = x
  let d = 0
  for (let k = 1; k < 500; k++) {
    d = 1 / (x + (k / 2) * d)
    c = x + k / 2 / c
    const delta = c * d
    f *= delta
    if (Math.abs(delta - 1) < Number.EPSILON) break
  }
  return expNegSquare(x) / (SQRT_PI * f)
}

/**
 * The error function `erf(x) = (2/√π) ∫₀ˣ e^(−t²) dt`, within 3 ulps (≈ 6e-16 relative).
 *
 * For `|x| < 2` it sums `erf(x) = (2/√π) e^(−x²) Σₙ 2ⁿ x^(2n+1) / (2n+1)!!`, whose terms all
 * have the sign of `x`. Further out the series needs ~x² terms and loses up to 20 ulps, so
 * `1 − erfc(x)` by continued fraction takes over; for `|x| > 6`, `1 − |erf(x)| < 3e-17`, below
 * half an ulp of 1, and the answer is `±1`.
 *
 * @example
 * ```ts
 * import { Floating } from 'lamina-nn'
 * import assert from 'node:assert'
 *
 * assert.strictEqual(Floating.erf(0), 0)
 * assert.ok(Math.abs(Floating.erf(1) - 0.8427007929497149) < 1e-15)
 * assert.ok(Math.abs(Floating.erf(-3) + 0.9999779095030014) < 1e-15)
 * assert.strictEqual(Floating.erf(7), 1)
 * ```
 */
export const erf = (x: number): number => {
  if (Number.isNaN(x)) return x
  const a = Math.abs(x)
  if (a < 2) return erfSeries(x)
  return a > 6 ? Math.sign(x) : Math.sign(x) * (1 - erfcContinuedFraction(a))
}

/**
 * The logistic sigmoid of a number, stable for large |x|.
 *
 * @example
 * ```ts
 * import { Floating } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Floating.sigmoid(0), 0.5)
 * assert.strictEqual(Floating.sigmoid(-1000), 0)
 * ```
 */
export const sigmoid = (x: number): number => {
  // e⁻ˣ only for x ≥ 0 and eˣ only for x < 0: the exponential never overflows
  if (x >= 0) return 1 / (1 + Math.exp(-x))
  const e = Math.exp(x)
  return e / (1 + e)
}

/**
 * Softplus ζ(x) = log(1 + eˣ) of a number, as max(x, 0) + log1p(e^(−|x|)) so it never overflows.
 *
 * @example
 * ```ts
 * import { Floating } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Floating.softplus(1000), 1000)
 * assert.strictEqual(Floating.softplus(0), Math.LN2)
 * ```
 */
export const softplus = (x: number): number => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)))

/**
 * The `Floating` instance for JavaScript numbers (float64). As a field, `div` is exact
 * division, so `degree` is 1 and the Euclidean remainder `mod` is always 0.
 *
 * @example
 * ```ts
 * import { Floating } from 'lamina-nn'
 * import assert from 'node:assert'
 *
 * const F = Floating.FloatingNumber
 * assert.strictEqual(F.sigmoid(0), 0.5)
 * assert.strictEqual(F.sigmoid(-1000), 0) // stable: no Infinity / Infinity
 * assert.strictEqual(F.softplus(1000), 1000)
 * assert.strictEqual(F.mod(7, 2), 0)
 * ```
 */
export const FloatingNumber: Floating<number> = {
  zero: 0,
  one: 1,
  add: (x, y) => x + y,
  sub: (x, y) => x - y,
  mul: (x, y) => x * y,
  div: (x, y) => x / y,
  degree: () => 1,
  mod: () => 0,
  fromNumber: (n) => n,
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  sin: Math.sin,
  cos: Math.cos,
  tanh: Math.tanh,
  sqrt: Math.sqrt,
  pow: Math.pow,
  sigmoid,
  // max(x, 0) + ln(1 + e^(−|x|)): the exponential is at most 1
  softplus: (x) => softplus(x),
  relu: (x) => Math.max(x, 0),
  abs: Math.abs,
  sign: Math.sign,
  erf
}
