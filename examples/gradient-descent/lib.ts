// Seed 000's gradient descent on f(x, y) = 1.5x² + y² + 2 as pure functions. The gradient is
// (3x, 2y), so a step θ ← θ − η∇f multiplies x by (1 − 3η) and y by (1 − 2η): the iterates
// have the closed form x_k = (1 − 3η)^k x₀, y_k = (1 − 2η)^k y₀, and the learning rate alone
// decides between convergence (|1 − 3η| < 1 and |1 − 2η| < 1, i.e. η < 2/3), endless
// oscillation (η = 2/3: x flips sign with |x| fixed) and divergence (η > 2/3).
import { add, grad, mul, square, sum, tensor } from 'lamina-nn'
import type { Tensor } from 'lamina-nn'

/** f(x, y) = 1.5x² + y² + 2 with θ = [x, y], written with lamina ops. */
export const f = (theta: Tensor<[2], 'f64'>): Tensor => add(sum(mul(tensor([1.5, 1]), square(theta))), 2)

/** ∇f by lamina's reverse mode. */
export const gradient = grad(f)

/** The value of f at a point, in plain arithmetic. */
export const fAt = (x: number, y: number): number => 1.5 * x * x + y * y + 2

/** One iterate of gradient descent. */
export interface Iterate {
  readonly k: number
  readonly x: number
  readonly y: number
  readonly f: number
}

/** `steps` steps of θ_{k+1} = θ_k − η ∇f(θ_k) from `start`, with ∇f from lamina's `grad`: k = 0 … steps. */
export const descend = (eta: number, start: readonly [number, number], steps: number): Iterate[] => {
  const out: Iterate[] = []
  let theta = tensor([start[0], start[1]])
  for (let k = 0; ; k++) {
    const [x, y] = theta.data as unknown as [number, number]
    out.push({ k, x, y, f: f(theta).item() })
    if (k === steps) return out
    const g = gradient(theta).data
    theta = tensor([x - eta * g[0]!, y - eta * g[1]!])
  }
}

/** The closed form of the k-th iterate: ((1 − 3η)^k x₀, (1 − 2η)^k y₀). */
export const closedForm = (eta: number, start: readonly [number, number], k: number): [number, number] => [
  (1 - 3 * eta) ** k * start[0],
  (1 - 2 * eta) ** k * start[1]
]

/** |a − b| / |b| (0 when both are 0). */
export const relativeError = (a: number, b: number): number => (a === b ? 0 : Math.abs(a - b) / Math.abs(b))

/** The largest relative error of the iterates against the closed form, and whether it is within `tol`. */
export const checkClosedForm = (iterates: readonly Iterate[], eta: number, start: readonly [number, number], tol = 1e-12) => {
  let worst = 0
  let at = 0
  for (const it of iterates) {
    const [cx, cy] = closedForm(eta, start, it.k)
    const e = Math.max(relativeError(it.x, cx), relativeError(it.y, cy))
    if (e > worst) [worst, at] = [e, it.k]
  }
  return { ok: worst <= tol, maxRelativeError: worst, at }
}

/** How a run behaves. */
export type Behaviour = 'converges' | 'crawls' | 'zig-zags' | 'oscillates' | 'diverges'

/**
 * The behaviour of a run, read off its iterates: the measured per-step ratios x_{k+1}/x_k and
 * y_{k+1}/y_k (constant here), and the slowest of them, ρ = max(|r_x|, |r_y|). ρ > 1 diverges,
 * ρ = 1 with a negative ratio oscillates forever, ρ ≤ 0.9 converges; a slow ρ in (0.9, 1)
 * crawls when the slow coordinate keeps its sign and zig-zags when it flips sign every step.
 */
export const behaviour = (iterates: readonly Iterate[]): { behaviour: Behaviour; rx: number; ry: number; rho: number } => {
  const last = iterates[iterates.length - 1]!
  const prev = iterates[iterates.length - 2]!
  const rx = last.x / prev.x
  const ry = last.y / prev.y
  const rho = Math.max(Math.abs(rx), Math.abs(ry))
  const slow = Math.abs(rx) >= Math.abs(ry) ? rx : ry
  const b: Behaviour =
    rho > 1 + 1e-9 ? 'diverges' : rho >= 1 - 1e-9 ? 'oscillates' : rho <= 0.9 ? 'converges' : slow < 0 ? 'zig-zags' : 'crawls'
  return { behaviour: b, rx, ry, rho }
}

/** The steps needed to bring ‖θ − θ*‖∞ below `eps` from `start` (closed form; Infinity when ρ ≥ 1). */
export const stepsTo = (eta: number, start: readonly [number, number], eps = 1e-6): number => {
  const need = (r: number, v: number) => (Math.abs(v) <= eps ? 0 : Math.abs(r) >= 1 ? Infinity : Math.ceil(Math.log(eps / Math.abs(v)) / Math.log(Math.abs(r))))
  return Math.max(need(1 - 3 * eta, start[0]), need(1 - 2 * eta, start[1]))
}

/** The learning rates of seed 000's figures, plus the two edges of stability. */
export const rates: readonly { readonly eta: number; readonly label: string }[] = [
  { eta: 0.1, label: '0.1' },
  { eta: 0.001, label: '0.001' },
  { eta: 0.665757, label: '0.665757' },
  { eta: 2 / 3, label: '2/3' },
  { eta: 0.7, label: '0.7' }
]

/** The start of every run. */
export const start: readonly [number, number] = [3, 2.5]
