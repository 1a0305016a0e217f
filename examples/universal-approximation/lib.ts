// Universal approximation with ReLUs (seeds 001 and 004) as pure functions: one hidden layer
// x ↦ ω·relu(w x + b) + c, built with lamina's layers and hand-set parameters. Four ReLUs make
// a pulse; n ReLUs make the piecewise-linear interpolant of sin at n + 1 knots, whose error
// falls as O(1/n²).
import { Layer, Layers, abs, fromBuffer, max, sin, sub, tensor } from 'lamina-nn'
import type { Tensor } from 'lamina-nn'

/** A one-hidden-layer ReLU network on scalars: y = Σ_k ω_k relu(w_k x + b_k) + c. */
export interface ReluSum {
  readonly w: readonly number[]
  readonly b: readonly number[]
  readonly omega: readonly number[]
  readonly c: number
}

/** The same network as lamina layers: dense(1, K), relu, dense(K, 1). */
export const network = (width: number) => Layer.sequential(Layers.dense(1, width), Layers.relu(), Layers.dense(width, 1))

/** The lamina parameters of a {@link ReluSum}: `{ layers: [{ w: [1, K], b: [K] }, {}, { w: [K, 1], b: [1] }] }`. */
export const params = (r: ReluSum) => ({
  layers: [
    { w: tensor([[...r.w]]), b: tensor([...r.b]) },
    {},
    { w: fromBuffer<[number, 1]>(Float64Array.from(r.omega), [r.omega.length, 1]), b: tensor([r.c]) }
  ] as const
})

/** Evaluates the network at the points `xs` with lamina (a batch [M, 1] through the layers). */
export const evaluate = (r: ReluSum, xs: readonly number[]): number[] => [...apply(r, column(xs)).data]

const column = (xs: readonly number[]): Tensor => fromBuffer(Float64Array.from(xs), [xs.length, 1])
const apply = (r: ReluSum, x: Tensor): Tensor => Layer.apply(network(r.w.length), params(r), x)

// ---------------------------------------------------------------- a pulse from four ReLUs

/**
 * Seed 004's pulse: relu(x − a) − relu(x − a − δ) − relu(x − b) + relu(x − b − δ), scaled by
 * h/δ. Two ReLUs step up from 0 to h over [a, a + δ], two step back down over [b, b + δ].
 */
export const pulse = (a: number, b: number, delta: number, height = 1): ReluSum => {
  if (!(delta > 0) || !(a + delta <= b)) throw new Error(`pulse: expected δ > 0 and a + δ ≤ b, got a = ${a}, b = ${b}, δ = ${delta}`)
  const s = height / delta
  return { w: [1, 1, 1, 1], b: [-a, -(a + delta), -b, -(b + delta)], omega: [s, -s, -s, s], c: 0 }
}

/** The pulse by its definition, piece by piece. */
export const pulseExact = (a: number, b: number, delta: number, height = 1) => (x: number): number =>
  x <= a ? 0 : x <= a + delta ? (height * (x - a)) / delta : x <= b ? height : x <= b + delta ? height - (height * (x - b)) / delta : 0

// ---------------------------------------------------------------- sin by n ReLUs

/** The n + 1 evenly spaced knots −π = t₀ < … < tₙ = π. */
export const knots = (n: number): number[] => Array.from({ length: n + 1 }, (_, i) => (i === n ? Math.PI : -Math.PI + (2 * Math.PI * i) / n))

/**
 * The piecewise-linear interpolant of `f` at the knots of [−π, π] as a sum of n ReLUs:
 * g(x) = f(t₀) + Σ_{i<n} c_i relu(x − t_i), with c₀ the first slope and c_i the change of slope at t_i.
 */
export const interpolant = (n: number, f: (x: number) => number = Math.sin): ReluSum => {
  const t = knots(n)
  const slopes = Array.from({ length: n }, (_, i) => (f(t[i + 1]!) - f(t[i]!)) / (t[i + 1]! - t[i]!))
  return {
    w: Array.from({ length: n }, () => 1),
    b: t.slice(0, n).map((ti) => -ti),
    omega: slopes.map((s, i) => (i === 0 ? s : s - slopes[i - 1]!)),
    c: f(t[0]!)
  }
}

/** `m` evenly spaced points of [−π, π]. */
export const grid = (m: number): number[] => Array.from({ length: m }, (_, i) => -Math.PI + (2 * Math.PI * i) / (m - 1))

/** max |g(x) − sin x| over a grid of `m` points, computed with lamina ops. */
export const maxError = (r: ReluSum, m = 20_001): number => {
  const x = column(grid(m))
  return max(abs(sub(apply(r, x), sin(x)))).item()
}

/** The widths of the table. */
export const widths = [2, 4, 8, 16, 32, 64, 128] as const

/** The error table: width n, max error, n²·error (→ π²/2 ≈ 4.935, since the error ≈ h²/8 with h = 2π/n), and the ratio to the previous row's error. */
export const errorTable = (ns: readonly number[] = widths, m = 20_001) => {
  const errors = ns.map((n) => maxError(interpolant(n), m))
  return ns.map((n, i) => ({ n, error: errors[i]!, scaled: n * n * errors[i]!, ratio: i === 0 ? NaN : errors[i - 1]! / errors[i]! }))
}

/** The least-squares slope of log(error) against log(n): −2 for an O(1/n²) error. */
export const logLogSlope = (rows: readonly { readonly n: number; readonly error: number }[]): number => {
  const xs = rows.map((r) => Math.log(r.n))
  const ys = rows.map((r) => Math.log(r.error))
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length
  const my = ys.reduce((a, b) => a + b, 0) / ys.length
  return xs.reduce((s, x, i) => s + (x - mx) * (ys[i]! - my), 0) / xs.reduce((s, x) => s + (x - mx) ** 2, 0)
}
