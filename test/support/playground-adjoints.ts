/**
 * The page's adjoints against central differences of the float64 objective computed here
 * (playground-objective.ts): a parameter's single adjoint to the difference's own resolution, and
 * a unit's adjoint, one per example, both as computed and as the inspector shows it.
 */
import { expect } from 'vitest'
import { objective, withWeight } from './playground-objective.js'
import type { Snapshot } from './playground-hooks.js'

/** ∂L/∂w by a central difference of the objective computed here. */
export const centralWeight = (s: Snapshot, layer: number, from: number, to: number, h = 1e-6): number => {
  const w = s.params[layer]!.w[from]![to]!
  return (objective(withWeight(s.params, layer, from, to, w + h), s.batch, s.config) - objective(withWeight(s.params, layer, from, to, w - h), s.batch, s.config)) / (2 * h)
}

/**
 * The page's adjoint against a central difference of `lossAt(δ)` (the objective with one
 * parameter moved by δ) computed here, to the difference's own resolution: its truncation error
 * is estimated from steps h and 2h (Richardson), its rounding from the loss's size. The parameter
 * must matter at that resolution (20× above it), so the comparison means something however
 * far training got on this machine.
 */
export const expectAdjointIsCentralDifference = (adjoint: number | undefined, lossAt: (delta: number) => number): void => {
  const h = 1e-6
  const central = (lossAt(h) - lossAt(-h)) / (2 * h)
  const coarse = (lossAt(2 * h) - lossAt(-2 * h)) / (4 * h)
  // rounding: each loss in float64 to a few ulps of its size, divided by the step
  const resolution = Math.abs(central - coarse) + (4 * Number.EPSILON * Math.abs(lossAt(0))) / h + Number.MIN_VALUE
  expect(Math.abs(central), `∂L/∂p ${central} is below 20× the difference's resolution ${resolution}`).toBeGreaterThan(20 * resolution)
  expect(adjoint).toBeDefined()
  // seen over 12 checks in 3 runs: the error at most 0.62× the resolution (the objective written without cancellation,
  // see dataLossOf; written as softplus(z) − y·z it parted from the page by up to 1e-4 relative on well-trained networks)
  expect(Math.abs(adjoint! - central), `adjoint ${adjoint}, central difference ${central} ± ${resolution}`).toBeLessThanOrEqual(4 * resolution + 1e-9 * Math.abs(central))
}

export const expectAdjointOfWeight = (adjoint: number | undefined, s: Snapshot, layer: number, from: number, to: number): void => {
  const w = s.params[layer]!.w[from]![to]!
  expectAdjointIsCentralDifference(adjoint, (delta) => objective(withWeight(s.params, layer, from, to, w + delta), s.batch, s.config))
}

/** ∂f/∂(value n) for each example n by central differences, `f(n, δ)` being f with example n's value moved by δ. */
export const centralPerExample = (examples: number, f: (n: number, delta: number) => number, h = 1e-6): number[] =>
  Array.from({ length: examples }, (_, n) => (f(n, h) - f(n, -h)) / (2 * h))

/**
 * The page's adjoint of a unit against `want` (one per example): every value it computed, to
 * rounding, and the text it shows, `[a, b, c, d, …] (B examples, mean m)`, to the digits shown
 * (4 significant for the values, 6 for the mean).
 */
export const expectUnitAdjoint = (s: Snapshot, shown: string, want: readonly number[]): void => {
  const got = s.inspection?.adjoint ?? []
  expect(got.length).toBe(want.length)
  got.forEach((a, n) => expect(a, `example ${n}`).toBeCloseTo(want[n]!, 8))
  const parts = /^\[(.*?)(, …)?\] \((\d+) examples, mean (\S+)\)$/.exec(shown)
  expect(parts, shown).not.toBeNull()
  const head = parts![1]!.split(', ').map(Number)
  expect(head.length).toBe(Math.min(4, want.length))
  expect(Number(parts![3])).toBe(want.length)
  const close = (value: number, target: number, digits: number) => Math.abs(value - target) <= 0.5 * 10 ** (1 - digits) * Math.abs(target) + 1e-12
  head.forEach((v, n) => expect(close(v, want[n]!, 4), `shown ${v}, want ${want[n]}`).toBe(true))
  const mean = want.reduce((a, b) => a + b, 0) / want.length
  expect(close(Number(parts![4]), mean, 6), `shown mean ${parts![4]}, want ${mean}`).toBe(true)
}
