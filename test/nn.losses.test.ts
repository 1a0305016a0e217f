/**
 * Losses (src/nn/losses.ts) and penalties (src/nn/regularize.ts).
 *
 * Reference values are computed here from the seeds' formulas with plain numbers, never by
 * calling the code under test; gradients are checked against finite differences with the
 * `lamina-nn/laws` harness in float64; the identities of seeds 001 and 003 are properties.
 */
import { describe, expect, expectTypeOf, it } from 'vitest'
import { fc, test } from '@fast-check/vitest'
import {
  ArgumentError,
  DTypeError,
  ShapeError,
  Tensor,
  Tree,
  add,
  fromBuffer,
  grad,
  hessian,
  logSoftmax,
  mul,
  ones,
  sigmoid,
  softmax,
  sum,
  tensor,
  valueAndGrad
} from '../src/index.js'
import type { ShapeT as Shape } from '../src/index.js'
import * as Loss from '../src/nn/losses.js'
import * as Regularize from '../src/nn/regularize.js'
import { checkGradient, checkSecondOrder, gradientMatchesFiniteDifferences, shapes, tensorOf } from '../laws/index.js'
import type { ValueOptions } from '../laws/index.js'

// ---------------------------------------------------------------- references (plain numbers)

/** ζ(x) = log(1 + eˣ) without overflow. */
const zeta = (x: number): number => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)))
const sigma = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)))
const lse = (row: readonly number[]): number => {
  const m = Math.max(...row)
  return m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0))
}
const meanOf = (xs: readonly number[]): number => xs.reduce((s, v) => s + v, 0) / xs.length
const rows = (t: Tensor): number[][] => t.toArray() as number[][]
const close = (a: number, b: number, rel = 1e-12): boolean => Math.abs(a - b) <= rel * Math.max(1, Math.abs(a), Math.abs(b))
const allClose = (a: ArrayLike<number>, b: ArrayLike<number>, rel = 1e-12): boolean =>
  a.length === b.length && Array.from(a).every((v, i) => close(v, b[i]!, rel))
const allFinite = (xs: ArrayLike<number>): boolean => Array.from(xs).every(Number.isFinite)

/** Class labels that depend only on the batch shape (so finite differences never move them). */
const labelsFor = (batch: number, classes: number): number[] => Array.from({ length: batch }, (_, i) => (i * 7 + 3 * batch + classes) % classes)

type F64 = Tensor<Shape, 'f64'>
const reductions = ['mean', 'sum', 'none'] as const

// ---------------------------------------------------------------- arbitraries

/** A batch `[B, K]`, B and K in 1…4. */
const batchShape = fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }))
/** Shapes of elementwise losses: rank 1…3. */
const batchShapes = shapes({ minRank: 1, maxRank: 3 })
const matrices = (options: ValueOptions<'f64'>) => batchShape.chain(([b, k]) => tensorOf([b, k], options))
/** Predictions with their class labels, labels drawn at random. */
const withLabels = (options: ValueOptions<'f64'>) =>
  batchShape.chain(([b, k]) =>
    fc.tuple(tensorOf([b, k], options), fc.array(fc.integer({ min: 0, max: k - 1 }), { minLength: b, maxLength: b }))
  )
/** Row-stochastic soft targets `[B, K]`. */
const softTargets = (b: number, k: number) =>
  fc.array(fc.double({ min: 0.01, max: 1, noNaN: true }), { minLength: b * k, maxLength: b * k }).map((xs) => {
    const out = xs.slice()
    for (let i = 0; i < b; i++) {
      const s = xs.slice(i * k, i * k + k).reduce((a, v) => a + v, 0)
      for (let j = 0; j < k; j++) out[i * k + j] = xs[i * k + j]! / s
    }
    return fromBuffer(out, [b, k])
  })
const binaryLabels = (n: number) => fc.array(fc.constantFrom(0, 1), { minLength: n, maxLength: n })
/** Cases per gradient law: 60, or `LAMINA_LAW_RUNS` from the environment (as for the other law suites). */
const numRuns = Number.parseInt(process.env['LAMINA_LAW_RUNS'] ?? '', 10) || 60

// ---------------------------------------------------------------- closed forms

describe('closed forms on hand-made and generated cases', () => {
  it('mse: seed 001’s (1/N) Σ (f(x) − y)², per example the mean over outputs', () => {
    const p = tensor([[1, 2], [3, 4], [0, -1]])
    const y = tensor([[0, 2], [1, 1], [0, 1]])
    const perExample = [(1 + 0) / 2, (4 + 9) / 2, (0 + 4) / 2]
    expect(Loss.mse(p, y).item()).toBeCloseTo(meanOf(perExample), 15)
    expect(Loss.mse(p, y, { reduction: 'sum' }).item()).toBe(perExample.reduce((a, v) => a + v))
    expect(Loss.mse(p, y, { reduction: 'none' }).toArray()).toEqual(perExample)
    expect(Loss.mse(p, [0, 2, 1, 1, 0, 1]).item()).toBe(Loss.mse(p, y).item())
  })

  test.prop([batchShapes.chain((s) => fc.tuple(tensorOf(s), tensorOf(s)))])('mse and l1 over any batch shape', ([p, y]) => {
    const d = Array.from(p.data, (v, i) => v - y.data[i]!)
    return (
      close(Loss.mse(p, y).item(), meanOf(d.map((v) => v * v))) &&
      close(Loss.l1(p, y).item(), meanOf(d.map(Math.abs))) &&
      close(Loss.l1(p, y, { reduction: 'sum' }).item(), (meanOf(d.map(Math.abs)) * p.shape[0]!))
    )
  })

  it('l1: the mean absolute error', () => {
    expect(Loss.l1(tensor([1, -2, 3, 0]), tensor([0, 0, 0, 0.5])).item()).toBe((1 + 2 + 3 + 0.5) / 4)
    expect(Loss.l1(tensor([[1, -3], [2, 2]]), tensor([[0, 0], [2, 0]]), { reduction: 'none' }).toArray()).toEqual([2, 1])
  })

  test.prop([batchShapes.chain((s) => fc.tuple(tensorOf(s, { min: 0.05, max: 0.95 }), tensorOf(s, { min: 0, max: 1 })))])(
    'binaryCrossEntropy: −[y log p + (1 − y) log(1 − p)]',
    ([p, y]) => {
      const expected = meanOf(Array.from(p.data, (pi, i) => -(y.data[i]! * Math.log(pi) + (1 - y.data[i]!) * Math.log(1 - pi))))
      return close(Loss.binaryCrossEntropy(p, y).item(), expected)
    }
  )

  it('binaryCrossEntropy clips probabilities 0 and 1 to ε, 1 − ε', () => {
    const eps = Loss.probabilityEpsilon
    // p = 1 is clipped to 1 − ε, and 1 − (1 − ε) is ε up to the rounding of 1 − ε
    expect(Loss.binaryCrossEntropy(tensor([0, 1, 1, 0]), tensor([1, 0, 1, 0]), { reduction: 'none' }).toArray()).toEqual([
      -Math.log(eps),
      -Math.log(1 - (1 - eps)),
      -Math.log(1 - eps),
      -Math.log(1 - eps)
    ])
    expect(Loss.binaryCrossEntropy(tensor([0]), tensor([1]), { epsilon: 1e-3 }).item()).toBe(-Math.log(1e-3))
  })

  test.prop([batchShapes.chain((s) => fc.tuple(tensorOf(s, { min: -30, max: 30 }), binaryLabels(Math.max(1, s.reduce((a, d) => a * d, 1)))))])(
    'binaryCrossEntropyWithLogits is seed 003’s ζ((1 − 2y)z) for y ∈ {0, 1}',
    ([z, labels]) => {
      const loss = Loss.binaryCrossEntropyWithLogits(z, labels, { reduction: 'sum' }).item()
      const perElement = Array.from(z.data, (zi, i) => zeta((1 - 2 * labels[i]!) * zi))
      return close(loss, (meanOf(perElement) * perElement.length) / (z.size / z.shape[0]!))
    }
  )

  test.prop([tensorOf([5], { min: -8, max: 8 }), tensorOf([5], { min: 0, max: 1 })])(
    'binaryCrossEntropyWithLogits with soft labels is ζ(z) − y·z',
    (z, y) => {
      const expected = Array.from(z.data, (zi, i) => zeta(zi) - y.data[i]! * zi)
      return allClose(Loss.binaryCrossEntropyWithLogits(z, y, { reduction: 'none' }).data, expected, 1e-12)
    }
  )

  it('logisticLoss: seed 001’s −Σ log σ(y(w·x + b)) = Σ ζ(−y·z)', () => {
    const z = [0.5, -2, 3, 0]
    const y = [1, 1, -1, -1]
    const expected = z.reduce((s, zi, i) => s - Math.log(sigma(y[i]! * zi)), 0)
    expect(Loss.logisticLoss(tensor(z), y, { reduction: 'sum' }).item()).toBeCloseTo(expected, 14)
    expect(Loss.logisticLoss(tensor(z), tensor(y)).item()).toBeCloseTo(expected / 4, 14)
  })

  test.prop([withLabels({ min: 0.05, max: 0.95 })])('crossEntropy on probabilities: −log p of the labelled class', ([p, labels]) => {
    const r = rows(p)
    const expected = labels.map((c, i) => -Math.log(r[i]![c]!))
    const onehot = fromBuffer(
      labels.flatMap((c) => Array.from({ length: p.shape[1]! }, (_, k) => (k === c ? 1 : 0))),
      p.shape
    )
    return (
      allClose(Loss.crossEntropy(p, labels, { reduction: 'none' }).data, expected) &&
      allClose(Loss.crossEntropy(p, Int32Array.from(labels), { reduction: 'none' }).data, expected) &&
      allClose(Loss.crossEntropy(p, onehot, { reduction: 'none' }).data, expected) &&
      allClose(Loss.crossEntropy(p, fromBuffer(labels, [labels.length]), { reduction: 'none' }).data, expected)
    )
  })

  test.prop([batchShape.chain(([b, k]) => fc.tuple(tensorOf([b, k], { min: 0.05, max: 0.95 }), softTargets(b, k)))])(
    'crossEntropy with soft targets: −Σ_k t_k log p_k',
    ([p, t]) => {
      const pr = rows(p)
      const tr = rows(t)
      const expected = pr.map((row, i) => -row.reduce((s, pk, k) => s + tr[i]![k]! * Math.log(pk), 0))
      return close(Loss.crossEntropy(p, t).item(), meanOf(expected))
    }
  )

  test.prop([withLabels({ min: -20, max: 20 })])('crossEntropyWithLogits: log Σ exp(z) − z_y (seed 003)', ([z, labels]) => {
    const expected = rows(z).map((row, i) => lse(row) - row[labels[i]!]!)
    return allClose(Loss.crossEntropyWithLogits(z, labels, { reduction: 'none' }).data, expected, 1e-12)
  })

  it('nll: −log p of the labelled class, 0 · log 0 = 0 for soft targets', () => {
    const logp = tensor([[Math.log(0.25), Math.log(0.75)], [Math.log(0.5), Math.log(0.5)]])
    expect(Loss.nll(logp, [1, 0]).item()).toBeCloseTo(-(Math.log(0.75) + Math.log(0.5)) / 2, 15)
    const withZero = tensor([[-Infinity, 0]])
    expect(Loss.nll(withZero, [1]).item()).toBe(0)
    expect(Loss.nll(withZero, tensor([[0, 1]])).item()).toBe(0)
    expect(Loss.nll(withZero, [0]).item()).toBe(Infinity) // an impossible label costs ∞, honestly
  })

  it('seed 001: ∂L/∂b = −Σ yₙ σ(−yₙ(w·xₙ + b)) and ∂L/∂w_d = −Σ x_{n,d} yₙ σ(−yₙ(w·xₙ + b))', () => {
    const x = [[1, 2], [-1, 0.5], [0.3, -2], [2, 2]]
    const y = [1, -1, -1, 1]
    const w0 = [0.4, -0.3]
    const b0 = 0.2
    type P = { w: Tensor<[number], 'f64'>; b: Tensor<[], 'f64'> }
    const loss = (p: P) => Loss.logisticLoss(add(sum(mul(tensor(x), p.w), 1), p.b), y, { reduction: 'sum' })
    const g = grad(loss)({ w: tensor(w0), b: tensor(b0) })
    const u = x.map((xn, n) => y[n]! * sigma(-y[n]! * (xn[0]! * w0[0]! + xn[1]! * w0[1]! + b0)))
    expect(g.b.item()).toBeCloseTo(-u.reduce((s, v) => s + v, 0), 14)
    expect(g.w.toArray()[0]).toBeCloseTo(-x.reduce((s, xn, n) => s + xn[0]! * u[n]!, 0), 14)
    expect(g.w.toArray()[1]).toBeCloseTo(-x.reduce((s, xn, n) => s + xn[1]! * u[n]!, 0), 14)
  })

  test.prop([batchShape.chain(([b, k]) => fc.tuple(tensorOf([b, k], { min: -6, max: 6 }), tensorOf([b, k], { min: -6, max: 6 })))])(
    'gradients in closed form: mse 2(ŷ − y)/(BK)',
    ([p, y]) => {
      const n = p.size
      const g = grad((q: F64) => Loss.mse(q, y))(p)
      return allClose(g.data, Array.from(p.data, (v, i) => (2 * (v - y.data[i]!)) / n))
    }
  )

  test.prop([withLabels({ min: -8, max: 8 })])('gradients in closed form: cross-entropy on logits (softmax(z) − onehot(y))/B', ([z, labels]) => {
    const b = z.shape[0]!
    const g = rows(grad((q: F64) => Loss.crossEntropyWithLogits(q, labels))(z))
    return rows(z).every((row, i) => {
      const s = lse(row)
      return row.every((zk, k) => close(g[i]![k]!, (Math.exp(zk - s) - (k === labels[i] ? 1 : 0)) / b, 1e-12))
    })
  })

  test.prop([tensorOf([6], { min: -10, max: 10 }), binaryLabels(6)])(
    'gradients in closed form: binary cross-entropy on logits (σ(z) − y)/B',
    (z, y) => {
      const g = grad((q: F64) => Loss.binaryCrossEntropyWithLogits(q, y))(z)
      return allClose(g.data, Array.from(z.data, (zi, i) => (sigma(zi) - y[i]!) / 6), 1e-12)
    }
  )

  it('seed 003, XOR: the linear model’s MSE is minimal at w = 0, b = ½, where J = ¼', () => {
    const X = tensor([[0, 0], [0, 1], [1, 0], [1, 1]])
    const target = [0, 1, 1, 0]
    type P = { w: Tensor<[2], 'f64'>; b: Tensor<[], 'f64'> }
    const J = (p: P) => Loss.mse(add(sum(mul(X, p.w), 1), p.b), target)
    const [value, g] = valueAndGrad(J)({ w: tensor([0, 0]), b: tensor(0.5) })
    expect(value.item()).toBe(0.25)
    expect(g.w.toArray()).toEqual([0, 0])
    expect(g.b.item()).toBe(0)
  })

  it('second derivatives: the Hessian of binary cross-entropy on logits is diag(σ(z)(1 − σ(z)))/B', () => {
    const z = [-2, 0.5, 3]
    const H = hessian((q: Tensor<[number], 'f64'>) => Loss.binaryCrossEntropyWithLogits(q, [1, 0, 1]))(tensor(z))
    const expected = z.map((zi, i) => z.map((_, j) => (i === j ? (sigma(zi) * (1 - sigma(zi))) / 3 : 0)))
    expect(allClose(H.data, expected.flat(), 1e-12)).toBe(true)
  })
})

// ---------------------------------------------------------------- gradients vs finite differences

describe('every loss’s gradient agrees with finite differences (float64, lamina/laws)', () => {
  it('mse, with respect to prediction and target, every reduction', () => {
    const inputs = batchShapes.chain((s) => fc.record({ p: tensorOf(s), y: tensorOf(s) }))
    for (const reduction of reductions) {
      expect(checkGradient(({ p, y }) => Loss.mse(p, y, { reduction }), inputs, { numRuns }).maxError).toBeLessThanOrEqual(1e-7)
    }
  })

  it('l1, away from its kink ŷ = y', () => {
    const inputs = batchShapes.chain((s) =>
      fc.record({ y: tensorOf(s), d: tensorOf(s, { awayFrom: [0], margin: 0.2 }) }).map(({ y, d }) => ({ p: add(y, d) as F64, y }))
    )
    for (const reduction of reductions) {
      expect(checkGradient(({ p, y }) => Loss.l1(p, y, { reduction }), inputs, { numRuns }).maxError).toBeLessThanOrEqual(1e-7)
    }
  })

  it('binaryCrossEntropy, probabilities inside (0.05, 0.95), soft targets', () => {
    const inputs = batchShapes.chain((s) => fc.record({ p: tensorOf(s, { min: 0.05, max: 0.95 }), y: tensorOf(s, { min: 0.05, max: 0.95 }) }))
    for (const reduction of reductions) {
      const report = checkGradient(({ p, y }) => Loss.binaryCrossEntropy(p, y, { reduction }), inputs, { numRuns })
      expect(report.maxError).toBeLessThanOrEqual(1e-7)
    }
  })

  it('binaryCrossEntropyWithLogits, soft targets and fixed hard labels', () => {
    const soft = batchShapes.chain((s) => fc.record({ z: tensorOf(s, { min: -6, max: 6 }), y: tensorOf(s, { min: 0.05, max: 0.95 }) }))
    const hardLabels = (z: F64) => Array.from({ length: z.size }, (_, i) => (i * 5 + z.size) % 2)
    for (const reduction of reductions) {
      expect(checkGradient(({ z, y }) => Loss.binaryCrossEntropyWithLogits(z, y, { reduction }), soft, { numRuns }).maxError).toBeLessThanOrEqual(1e-7)
      const hard = batchShapes.chain((s) => tensorOf(s, { min: -6, max: 6 }))
      expect(checkGradient((z: F64) => Loss.binaryCrossEntropyWithLogits(z, hardLabels(z), { reduction }), hard, { numRuns }).maxError).toBeLessThanOrEqual(1e-7)
    }
  })

  it('logisticLoss, labels ±1', () => {
    const inputs = batchShapes.chain((s) => tensorOf(s, { min: -6, max: 6 }))
    const labels = (z: F64) => Array.from({ length: z.size }, (_, i) => ((i * 3 + z.size) % 2 === 0 ? 1 : -1))
    for (const reduction of reductions) {
      expect(checkGradient((z: F64) => Loss.logisticLoss(z, labels(z), { reduction }), inputs, { numRuns }).maxError).toBeLessThanOrEqual(1e-7)
    }
  })

  it('crossEntropy on probabilities: index labels and soft targets', () => {
    const probs = matrices({ min: 0.05, max: 0.95 })
    // targets inside (0.05, 0.95) so that finite differences keep them in [0, 1]
    const soft = batchShape.chain(([b, k]) => fc.record({ p: tensorOf([b, k], { min: 0.05, max: 0.95 }), t: tensorOf([b, k], { min: 0.05, max: 0.95 }) }))
    for (const reduction of reductions) {
      const byIndex = (p: F64) => Loss.crossEntropy(p, labelsFor(p.shape[0]!, p.shape[1]!), { reduction })
      expect(checkGradient(byIndex, probs, { numRuns }).maxError).toBeLessThanOrEqual(1e-7)
      expect(checkGradient(({ p, t }) => Loss.crossEntropy(p, t, { reduction }), soft, { numRuns }).maxError).toBeLessThanOrEqual(1e-7)
    }
  })

  it('crossEntropyWithLogits: index labels and soft targets', () => {
    const logits = matrices({ min: -5, max: 5 })
    const soft = batchShape.chain(([b, k]) => fc.record({ z: tensorOf([b, k], { min: -5, max: 5 }), t: tensorOf([b, k], { min: 0.05, max: 0.95 }) }))
    for (const reduction of reductions) {
      const byIndex = (z: F64) => Loss.crossEntropyWithLogits(z, labelsFor(z.shape[0]!, z.shape[1]!), { reduction })
      expect(checkGradient(byIndex, logits, { numRuns }).maxError).toBeLessThanOrEqual(1e-7)
      expect(checkGradient(({ z, t }) => Loss.crossEntropyWithLogits(z, t, { reduction }), soft, { numRuns }).maxError).toBeLessThanOrEqual(1e-7)
    }
  })

  it('nll on log-probabilities', () => {
    const logp = matrices({ min: -5, max: -0.01 })
    for (const reduction of reductions) {
      const f = (l: F64) => Loss.nll(l, labelsFor(l.shape[0]!, l.shape[1]!), { reduction })
      expect(checkGradient(f, logp, { numRuns }).maxError).toBeLessThanOrEqual(1e-7)
    }
  })

  test.prop([withLabels({ min: -5, max: 5 }), fc.integer({ min: 0, max: 2 ** 31 - 1 })])(
    'random labels: cross-entropy gradients agree with finite differences',
    ([z, labels], seed) =>
      gradientMatchesFiniteDifferences((q: F64) => Loss.crossEntropyWithLogits(q, labels), z, seed) &&
      gradientMatchesFiniteDifferences((q: F64) => Loss.crossEntropy(sigmoid(q) as F64, labels), z, seed)
  )

  it('second order: Hessians of the logit losses are symmetric and match differences of gradients', () => {
    const logits = matrices({ min: -4, max: 4 })
    const ce = (z: F64) => Loss.crossEntropyWithLogits(z, labelsFor(z.shape[0]!, z.shape[1]!))
    const bce = (z: F64) => Loss.binaryCrossEntropyWithLogits(z, Array.from({ length: z.size }, (_, i) => i % 2))
    expect(checkSecondOrder(ce, logits, { numRuns: 20 }).maxError).toBeLessThanOrEqual(1e-6)
    expect(checkSecondOrder(bce, logits, { numRuns: 20 }).maxError).toBeLessThanOrEqual(1e-6)
  })
})

// ---------------------------------------------------------------- stability

describe('stability: finite loss and gradient for logits up to |z| = 1e4', () => {
  const huge = fc.oneof(fc.constantFrom(1e4, -1e4, 0), fc.double({ min: -1e4, max: 1e4, noNaN: true }))
  const hugeMatrix = batchShape.chain(([b, k]) =>
    fc.tuple(
      fc.array(huge, { minLength: b * k, maxLength: b * k }).map((xs) => fromBuffer(xs, [b, k])),
      fc.array(fc.integer({ min: 0, max: k - 1 }), { minLength: b, maxLength: b })
    )
  )
  const hugeVector = fc.integer({ min: 1, max: 6 }).chain((n) => fc.tuple(fc.array(huge, { minLength: n, maxLength: n }), binaryLabels(n)))

  test.prop([hugeMatrix])('crossEntropyWithLogits', ([z, labels]) => {
    const [v, g] = valueAndGrad((q: F64) => Loss.crossEntropyWithLogits(q, labels))(z)
    const expected = meanOf(rows(z).map((row, i) => lse(row) - row[labels[i]!]!))
    return Number.isFinite(v.item()) && allFinite(g.data) && close(v.item(), expected, 1e-12)
  })

  test.prop([hugeVector])('binaryCrossEntropyWithLogits', ([z, y]) => {
    const [v, g] = valueAndGrad((q: F64) => Loss.binaryCrossEntropyWithLogits(q, y, { reduction: 'sum' }))(tensor(z))
    const expected = z.reduce((s, zi, i) => s + zeta((1 - 2 * y[i]!) * zi), 0)
    return close(v.item(), expected, 1e-12) && allFinite(g.data) && Array.from(g.data).every((gi) => Math.abs(gi) <= 1)
  })

  test.prop([hugeVector])('logisticLoss', ([z, t]) => {
    const y = t.map((v) => 2 * v - 1)
    const [v, g] = valueAndGrad((q: F64) => Loss.logisticLoss(q, y, { reduction: 'sum' }))(tensor(z))
    const expected = z.reduce((s, zi, i) => s + zeta(-y[i]! * zi), 0)
    return close(v.item(), expected, 1e-12) && allFinite(g.data) && Array.from(g.data).every((gi) => Math.abs(gi) <= 1)
  })

  it('in float32 too', () => {
    const z = tensor([[1e4, -1e4, 0]], { dtype: 'f32' })
    const [v, g] = valueAndGrad((q: Tensor<[1, 3], 'f32'>) => Loss.crossEntropyWithLogits(q, [1]))(z)
    expect(v.item()).toBe(2e4)
    expect(Array.from(g.data)).toEqual([1, -1, 0])
    const b = tensor([1e4, -1e4], { dtype: 'f32' })
    const [vb, gb] = valueAndGrad((q: Tensor<[2], 'f32'>) => Loss.binaryCrossEntropyWithLogits(q, [0, 0], { reduction: 'sum' }))(b)
    expect(vb.item()).toBe(1e4)
    expect(Array.from(gb.data)).toEqual([1, 0])
  })

  it('the naive forms fail where the stable ones do not: σ(1e4) rounds to 1, log(1 − 1) = −∞', () => {
    expect(sigmoid(tensor([1e4])).item()).toBe(1)
    expect(Loss.binaryCrossEntropyWithLogits(tensor([1e4]), [0]).item()).toBe(1e4)
    expect(Loss.binaryCrossEntropy(sigmoid(tensor([1e4])) as F64, [0]).item()).toBe(-Math.log(1 - (1 - Loss.probabilityEpsilon))) // clipped: 16, not 1e4
  })
})

// ---------------------------------------------------------------- identities

describe('identities', () => {
  test.prop([batchShapes.chain((s) => fc.tuple(tensorOf(s, { min: -10, max: 10 }), tensorOf(s, { min: 0, max: 1 })))])(
    'binaryCrossEntropyWithLogits(z, y) = binaryCrossEntropy(σ(z), y) where σ(z) is not clipped',
    ([z, y]) =>
      allClose(
        Loss.binaryCrossEntropyWithLogits(z, y, { reduction: 'none' }).data,
        Loss.binaryCrossEntropy(sigmoid(z) as F64, y, { reduction: 'none' }).data,
        1e-9
      )
  )

  test.prop([withLabels({ min: -30, max: 30 })])('crossEntropyWithLogits(z, y) = nll(logSoftmax(z), y)', ([z, labels]) =>
    allClose(
      Loss.crossEntropyWithLogits(z, labels, { reduction: 'none' }).data,
      Loss.nll(logSoftmax(z, 1), labels, { reduction: 'none' }).data,
      1e-15
    )
  )

  // K ≥ 2 and |z| ≤ 5 keep every softmax probability inside [ε, 1 − ε], where nothing is clipped
  const unclipped = fc
    .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 2, max: 4 }))
    .chain(([b, k]) => fc.tuple(tensorOf([b, k], { min: -5, max: 5 }), fc.array(fc.integer({ min: 0, max: k - 1 }), { minLength: b, maxLength: b })))
  test.prop([unclipped])('crossEntropyWithLogits(z, y) = crossEntropy(softmax(z), y) where softmax is not clipped', ([z, labels]) =>
    close(Loss.crossEntropyWithLogits(z, labels).item(), Loss.crossEntropy(softmax(z, 1), labels).item(), 1e-9)
  )

  test.prop([fc.array(fc.double({ min: -1e4, max: 1e4, noNaN: true }), { minLength: 1, maxLength: 8 }).chain((z) => fc.tuple(fc.constant(z), binaryLabels(z.length)))])(
    'logisticLoss(z, 2t − 1) = binaryCrossEntropyWithLogits(z, t), values and gradients',
    ([z, t]) => {
      const pm = t.map((v) => 2 * v - 1)
      const [v1, g1] = valueAndGrad((q: F64) => Loss.logisticLoss(q, pm))(tensor(z))
      const [v2, g2] = valueAndGrad((q: F64) => Loss.binaryCrossEntropyWithLogits(q, t))(tensor(z))
      return close(v1.item(), v2.item(), 1e-15) && allClose(g1.data, g2.data, 1e-15)
    }
  )

  test.prop([fc.array(fc.double({ min: -50, max: 50, noNaN: true }), { minLength: 1, maxLength: 6 }).chain((z) => fc.tuple(fc.constant(z), binaryLabels(z.length)))])(
    'two-class cross-entropy on logits [0, z] = binary cross-entropy on z (softmax([0, z])₁ = σ(z))',
    ([z, t]) => {
      const pairs = fromBuffer(z.flatMap((zi) => [0, zi]), [z.length, 2])
      return allClose(
        Loss.crossEntropyWithLogits(pairs, t, { reduction: 'none' }).data,
        Loss.binaryCrossEntropyWithLogits(tensor(z), t, { reduction: 'none' }).data,
        1e-12
      )
    }
  )

  test.prop([batchShapes.chain((s) => fc.tuple(tensorOf(s), tensorOf(s)))])('mean = sum / B = mean of none', ([p, y]) => {
    const b = p.shape[0]!
    const none = Loss.mse(p, y, { reduction: 'none' })
    return (
      none.shape.length === 1 &&
      none.shape[0] === b &&
      close(Loss.mse(p, y).item(), Loss.mse(p, y, { reduction: 'sum' }).item() / b) &&
      close(Loss.mse(p, y).item(), meanOf(Array.from(none.data)))
    )
  })
})

// ---------------------------------------------------------------- optimal constants (seed 003)

describe('seed 003: MSE predicts the mean, L1 predicts the median', () => {
  const samples = fc.array(fc.integer({ min: -20, max: 20 }), { minLength: 1, maxLength: 9 })
  const constantLoss = (loss: typeof Loss.mse, ys: readonly number[]) => (c: Tensor<[], 'f64'>) => loss(mul(c, ones([ys.length])) as F64, ys)
  const sorted = (ys: readonly number[]) => [...ys].sort((a, b) => a - b)

  test.prop([samples])('the MSE gradient vanishes at the mean, and no grid point does better', (ys) => {
    const m = meanOf(ys)
    const f = constantLoss(Loss.mse, ys)
    const [atMean, slope] = valueAndGrad(f)(tensor(m))
    const grid = Array.from({ length: 201 }, (_, i) => -21 + (42 * i) / 200)
    return Math.abs(slope.item()) <= 1e-12 && grid.every((c) => f(tensor(c)).item() >= atMean.item() * (1 - 1e-12))
  })

  test.prop([samples])('the L1 slope is sign-balanced at a median: ≤ 0 just below, ≥ 0 just above', (ys) => {
    const s = sorted(ys)
    const median = s[Math.floor((s.length - 1) / 2)]! // the lower median
    const dL = grad(constantLoss(Loss.l1, ys))
    // samples are integers: ±¼ stays between the median and its neighbours
    // (a balanced slope sums ±1/n terms to 0 up to rounding)
    return dL(tensor(median - 0.25)).item() <= 1e-15 && dL(tensor(median + 0.25)).item() >= -1e-15
  })

  test.prop([samples])('the L1 minimum over a grid lies between the lower and the upper median', (ys) => {
    const s = sorted(ys)
    const lower = s[Math.floor((s.length - 1) / 2)]!
    const upper = s[Math.ceil((s.length - 1) / 2)]!
    const f = constantLoss(Loss.l1, ys)
    const grid = Array.from({ length: 169 }, (_, i) => -21 + i / 4)
    const losses = grid.map((c) => f(tensor(c)).item())
    const best = Math.min(...losses)
    const minimizers = grid.filter((_, i) => losses[i]! <= best + 1e-12)
    // the minimum is attained exactly on [lower, upper], and the median attains it
    return minimizers.every((c) => c >= lower && c <= upper) && close(f(tensor(lower)).item(), best)
  })

  test.prop([fc.array(fc.integer({ min: -20, max: 20 }), { minLength: 3, maxLength: 9 })])(
    'the mean is not L1-optimal when it is not a median (and vice versa)',
    (ys) => {
      const s = sorted(ys)
      const lower = s[Math.floor((s.length - 1) / 2)]!
      const upper = s[Math.ceil((s.length - 1) / 2)]!
      const m = meanOf(ys)
      const l1 = constantLoss(Loss.l1, ys)
      const mse = constantLoss(Loss.mse, ys)
      const meanIsMedian = m >= lower && m <= upper
      return meanIsMedian || (l1(tensor(m)).item() > l1(tensor(lower)).item() && mse(tensor(lower)).item() > mse(tensor(m)).item())
    }
  )
})

// ---------------------------------------------------------------- regularization

describe('regularization: weight decay without the biases (seed 004)', () => {
  const net = {
    layers: [
      { w: tensor([[1, -2], [3, 0.5]]), b: tensor([10, -10]) },
      { w: tensor([[0.25], [-4]]), b: tensor([7]) }
    ]
  }
  type Net = typeof net
  const weights = [1, -2, 3, 0.5, 0.25, -4]

  it('l2Penalty = λ/2 Σ w² over the weights; its gradient is λw on weights and 0 on biases', () => {
    const lambda = 0.3
    const [v, g] = valueAndGrad((p: Net) => Regularize.l2Penalty(p, { lambda }))(net)
    expect(v.item()).toBeCloseTo((lambda / 2) * weights.reduce((s, w) => s + w * w, 0), 14)
    expect(g.layers[0]!.w.toArray()).toEqual([[lambda * 1, lambda * -2], [lambda * 3, lambda * 0.5]])
    expect(g.layers[1]!.w.toArray()).toEqual([[lambda * 0.25], [lambda * -4]])
    expect(g.layers[0]!.b.toArray()).toEqual([0, 0])
    expect(g.layers[1]!.b.toArray()).toEqual([0])
  })

  it('seed 004’s D_ij: (1/n)Δ_ij + λΘ_ij for weights, (1/n)Δ_i0 for biases', () => {
    const x = tensor([[0.5, -1], [2, 0.25], [-1, 1]])
    const y = [1, 0, 1]
    type P = { w: Tensor<[2], 'f64'>; b: Tensor<[], 'f64'> }
    const data = (p: P) => Loss.binaryCrossEntropyWithLogits(add(sum(mul(x, p.w), 1), p.b), y)
    const lambda = 0.1
    const J = (p: P) => add(data(p), Regularize.l2Penalty(p, { lambda }))
    const p0 = { w: tensor([0.3, -0.7]), b: tensor(0.2) }
    const D = grad(J)(p0)
    const Delta = grad(data)(p0)
    expect(allClose(D.w.data, Array.from(Delta.w.data, (d, j) => d + lambda * p0.w.data[j]!), 1e-15)).toBe(true)
    expect(D.b.item()).toBe(Delta.b.item())
  })

  it('the exclusion is a predicate on the leaf path', () => {
    const all = Regularize.l2Penalty(net, { lambda: 2, exclude: () => false }).item()
    expect(all).toBe(weights.reduce((s, w) => s + w * w, 0) + 100 + 100 + 49)
    const firstLayerOnly = Regularize.l2Penalty(net, { lambda: 2, exclude: (path) => path[1] !== 0 }).item()
    expect(firstLayerOnly).toBe(1 + 4 + 9 + 0.25 + 100 + 100)
    const byShape = Regularize.l1Penalty(net, { lambda: 1, exclude: (_, leaf) => leaf.rank < 2 }).item()
    expect(byShape).toBe(weights.reduce((s, w) => s + Math.abs(w), 0))
    expect(Regularize.l2Penalty(net, { lambda: 1, exclude: () => true }).item()).toBe(0)
  })

  it('entries lists each leaf with its path, in Tree.flatten order', () => {
    const found = Regularize.entries(net)
    expect(found.map(([p]) => Regularize.showPath(p))).toEqual(['layers[0].w', 'layers[0].b', 'layers[1].w', 'layers[1].b'])
    expect(found.map(([, t]) => t)).toEqual(Tree.flatten(net).leaves)
    expect(found.filter(([p, t]) => Regularize.isBias(p, t)).length).toBe(2)
  })

  it('l1Penalty = λ Σ |w|, gradient λ·sign(w)', () => {
    const g = grad((p: Net) => Regularize.l1Penalty(p, { lambda: 0.5 }))(net)
    expect(g.layers[0]!.w.toArray()).toEqual([[0.5, -0.5], [0.5, 0.5]])
    expect(g.layers[1]!.b.toArray()).toEqual([0])
  })

  it('penalties pass the gradient law', () => {
    const params = fc.record({ w: tensorOf([2, 3]), b: tensorOf([3], { awayFrom: [0], margin: 0.2 }), v: tensorOf([3, 1], { awayFrom: [0], margin: 0.2 }) })
    expect(checkGradient((p) => Regularize.l2Penalty(p, { lambda: 0.7 }), params, { numRuns }).maxError).toBeLessThanOrEqual(1e-7)
    expect(checkGradient((p) => Regularize.l1Penalty(p, { lambda: 0.7, exclude: (path) => path[0] === 'w' }), params, { numRuns }).maxError).toBeLessThanOrEqual(1e-7)
  })

  it('bad arguments name the offending value', () => {
    expect(() => Regularize.l2Penalty(net, { lambda: -1 })).toThrow(new ArgumentError('l2Penalty: lambda must be a finite number ≥ 0, got -1'))
    expect(() => Regularize.l1Penalty(net, { lambda: NaN })).toThrow(ArgumentError)
    expect(() => Regularize.l2Penalty({ w: tensor([1]), lr: 0.1 }, { lambda: 1 })).toThrow(DTypeError)
    expect(() => Regularize.l2Penalty({ w: tensor([1]), lr: 0.1 }, { lambda: 1 })).toThrow(/at \.lr/)
  })
})

// ---------------------------------------------------------------- metrics

describe('metrics', () => {
  const logits = tensor([[2, 1, 0], [0, 3, 1], [5, 4, 6], [1, 1, 0]])
  const labels = [0, 1, 1, 1]

  it('accuracy: argmax against labels (first class on a tie)', () => {
    expect(Loss.accuracy(logits, labels)).toBe(2 / 4)
    expect(Loss.accuracy(logits, Int32Array.from(labels))).toBe(2 / 4)
    expect(Loss.accuracy(logits, Loss.oneHot(labels, 3))).toBe(2 / 4)
    expect(Loss.accuracy(tensor([1, -1, 0.5, -3]), [1, 0, 0, -1])).toBe(3 / 4)
  })

  it('confusionMatrix: rows are true classes, columns predictions', () => {
    expect(Loss.confusionMatrix(logits, labels, 3)).toEqual([
      [1, 0, 0],
      [1, 1, 1],
      [0, 0, 0]
    ])
    expect(Loss.confusionMatrix(tensor([1, -1, 0.5, -3]), [1, 0, 0, 1])).toEqual([
      [1, 1],
      [1, 1]
    ])
  })

  test.prop([withLabels({ min: -3, max: 3 })])('the confusion matrix sums to B and its trace is B · accuracy', ([z, ys]) => {
    const m = Loss.confusionMatrix(z, ys)
    const total = m.flat().reduce((a, v) => a + v, 0)
    const trace = m.reduce((a, row, i) => a + row[i]!, 0)
    return total === ys.length && close(trace / ys.length, Loss.accuracy(z, ys))
  })

  it('errors', () => {
    expect(() => Loss.confusionMatrix(logits, labels, 4)).toThrow(
      new ShapeError('confusionMatrix: classes is 4 but the logits of shape [4,3] hold 3 classes')
    )
    expect(() => Loss.accuracy(logits, [0, 1, 3, 1])).toThrow(new ArgumentError('accuracy: label 3 at index 2 is out of range for 3 classes (0 … 2)'))
    expect(() => Loss.accuracy(tensor([1, 2]), [1, 2])).toThrow(
      new ArgumentError('accuracy: binary label 2 at index 1 is not 1 (positive) or 0 / −1 (negative)')
    )
    expect(() => Loss.accuracy(fromBuffer([], [0, 3]), [])).toThrow(new ShapeError('accuracy: the batch is empty (shape [0,3])'))
  })
})

// ---------------------------------------------------------------- errors

describe('bad input gets a typed error naming the offending value', () => {
  const z = tensor([[1, 2, 3], [4, 5, 6]])

  it('class labels: out of range, negative, non-integer, batch size', () => {
    expect(() => Loss.crossEntropyWithLogits(z, [0, 3])).toThrow(
      new ArgumentError('crossEntropyWithLogits: label 3 at index 1 is out of range for 3 classes (0 … 2)')
    )
    expect(() => Loss.nll(z, [-1, 0])).toThrow(new ArgumentError('nll: label -1 at index 0 is out of range for 3 classes (0 … 2)'))
    expect(() => Loss.crossEntropyWithLogits(z, [1.5, 0])).toThrow(
      new ArgumentError('crossEntropyWithLogits: label 1.5 at index 0 is not an integer class index')
    )
    expect(() => Loss.crossEntropyWithLogits(z, [0, 1, 2])).toThrow(
      new ShapeError('crossEntropyWithLogits: batch sizes differ, 2 predictions and 3 labels')
    )
    expect(() => Loss.crossEntropyWithLogits(z, tensor([[1, 0], [0, 1]]))).toThrow(
      new ShapeError('crossEntropyWithLogits: numbers of classes differ, prediction shape [2,3] and target shape [2,2]')
    )
    expect(() => Loss.crossEntropyWithLogits(z, tensor([[1, 0, 0]]))).toThrow(
      new ShapeError('crossEntropyWithLogits: batch sizes differ, prediction shape [2,3] and target shape [1,3]')
    )
    expect(() => Loss.crossEntropyWithLogits(tensor([1, 2, 3]), [0, 1, 2])).toThrow(
      new ShapeError('crossEntropyWithLogits: expected logits of shape [batch, classes], got shape [3]')
    )
    expect(() => Loss.oneHot([0, 2], 2)).toThrow(new ArgumentError('oneHot: label 2 at index 1 is out of range for 2 classes (0 … 1)'))
  })

  it('elementwise targets: shapes, batch sizes, dtypes, ranges', () => {
    expect(() => Loss.mse(tensor([[1], [2], [3], [4]]), tensor([1, 2, 3, 4]))).toThrow(
      new ShapeError('mse: shapes differ, prediction shape [4,1] and target shape [4]')
    )
    expect(() => Loss.l1(tensor([1, 2, 3]), tensor([1, 2]))).toThrow(new ShapeError('l1: batch sizes differ, prediction shape [3] and target shape [2]'))
    expect(() => Loss.mse(tensor([1, 2, 3]), [1, 2])).toThrow(new ShapeError('mse: batch sizes differ, 3 predictions (shape [3]) and 2 targets'))
    // @ts-expect-error: the target's dtype differs from the prediction's
    expect(() => Loss.mse(tensor([1, 2]), tensor([1, 2], { dtype: 'f32' }))).toThrow(
      new DTypeError('mse: dtypes differ, prediction f64 and target f32; convert one with astype')
    )
    expect(() => Loss.binaryCrossEntropyWithLogits(tensor([1, 2]), [0, 2])).toThrow(
      new ArgumentError('binaryCrossEntropyWithLogits: target 2 at [1] is not in [0, 1]')
    )
    expect(() => Loss.binaryCrossEntropy(tensor([[0.5, 1.5]]), [0, 1])).toThrow(
      new ArgumentError('binaryCrossEntropy: probability 1.5 at [0,1] is not in [0, 1]; for logits use binaryCrossEntropyWithLogits')
    )
    expect(() => Loss.crossEntropy(z, [0, 1])).toThrow(
      new ArgumentError('crossEntropy: probability 2 at [0,1] is not in [0, 1]; for logits use crossEntropyWithLogits')
    )
    expect(() => Loss.logisticLoss(tensor([1, 2]), [1, 0])).toThrow(
      new ArgumentError('logisticLoss: label 0 at [1] is not −1 or +1 (for labels 0/1 use binaryCrossEntropyWithLogits)')
    )
    expect(() => Loss.binaryCrossEntropy(tensor([NaN]), [1])).toThrow(ArgumentError)
  })

  it('shapes and options', () => {
    expect(() => Loss.mse(tensor(1) as F64, tensor(1) as F64)).toThrow(new ShapeError('mse: expected predictions of shape [batch, …], got a scalar (shape [])'))
    expect(() => Loss.mse(tensor([1]), [1], { reduction: 'avg' as 'mean' })).toThrow(
      new ArgumentError(`mse: reduction must be 'mean', 'sum' or 'none', got "avg"`)
    )
    expect(() => Loss.binaryCrossEntropy(tensor([0.5]), [1], { epsilon: 0.7 })).toThrow(
      new ArgumentError('binaryCrossEntropy: epsilon must be a number in (0, 0.5), got 0.7')
    )
    expect(() => Loss.mse(fromBuffer([], [0]), [])).toThrow(new ShapeError("mse: the mean over an empty batch is undefined; use reduction 'sum'"))
    expect(Loss.mse(fromBuffer([], [0]), [], { reduction: 'sum' }).item()).toBe(0)
    expect(() => Loss.mse('x' as unknown as F64, [1])).toThrow(DTypeError)
  })
})

// ---------------------------------------------------------------- types

describe('types', () => {
  it('the reduction decides the result type', () => {
    const p = tensor([[1, 2]])
    expectTypeOf(Loss.mse(p, p)).toEqualTypeOf<Tensor<[], 'f64'>>()
    expectTypeOf(Loss.mse(p, p, { reduction: 'sum' })).toEqualTypeOf<Tensor<[], 'f64'>>()
    expectTypeOf(Loss.mse(p, p, { reduction: 'none' })).toEqualTypeOf<Tensor<[number], 'f64'>>()
    const q = tensor([[1, 2]], { dtype: 'f32' })
    expectTypeOf(Loss.crossEntropyWithLogits(q, [1])).toEqualTypeOf<Tensor<[], 'f32'>>()
    expect(Loss.mse(p, p, { reduction: 'none' }).shape).toEqual([1])
  })
})

// ---------------------------------------------------------------- Huber

describe('huber: quadratic inside δ, linear outside', () => {
  /** The loss of one residual r, from the definition. */
  const huberOf = (r: number, delta: number): number => (Math.abs(r) <= delta ? 0.5 * r * r : delta * (Math.abs(r) - delta / 2))

  test.prop([batchShapes.chain((s) => fc.tuple(tensorOf(s), tensorOf(s))), fc.double({ min: 0.1, max: 3, noNaN: true })])(
    'every reduction equals the definition, element by element (per example the mean over outputs)',
    ([p, y], delta) => {
      const b = p.shape[0]!
      const per = p.size / b
      const each = Array.from(p.data, (v, i) => huberOf(v - y.data[i]!, delta))
      const perExample = Array.from({ length: b }, (_, i) => meanOf(each.slice(i * per, (i + 1) * per)))
      return (
        close(Loss.huber(p, y, { delta }).item(), meanOf(each)) &&
        close(Loss.huber(p, y, { delta, reduction: 'sum' }).item(), perExample.reduce((a, v) => a + v, 0)) &&
        allClose(Loss.huber(p, y, { delta, reduction: 'none' }).data, perExample)
      )
    }
  )

  test.prop([batchShapes.chain((s) => fc.tuple(tensorOf(s), tensorOf(s)))])('with δ beyond every residual it is half the mse', ([p, y]) =>
    close(Loss.huber(p, y, { delta: 1e6 }).item(), Loss.mse(p, y).item() / 2)
  )

  it('its gradient is the residual inside δ and δ·sign outside (closed form)', () => {
    const p = tensor([0.5, -3, 2, -0.25])
    const y = tensor([0, 0, 0.5, 0])
    // residuals 0.5, −3, 1.5, −0.25 with δ = 1: 0.5, −1, 1, −0.25, over the batch of 4
    const g = grad((q: Tensor<[4], 'f64'>) => Loss.huber(q, y))(p)
    expect(Array.from(g.data)).toEqual([0.5 / 4, -1 / 4, 1 / 4, -0.25 / 4])
  })

  it('refuses a δ that is not a positive finite number, and a target of another shape', () => {
    for (const delta of [0, -1, Infinity, NaN]) {
      expect(() => Loss.huber(tensor([1]), tensor([0]), { delta })).toThrow(new ArgumentError(`huber: delta must be a positive finite number, got ${delta}`))
    }
    expect(() => Loss.huber(tensor([1, 2]), tensor([0]))).toThrow(ShapeError)
  })
})

describe('huber’s gradient agrees with finite differences (float64, lamina/laws)', () => {
  it('with respect to prediction and target, every reduction, away from the kinks |ŷ − y| = δ', () => {
    const delta = 1
    const inputs = batchShapes.chain((s) =>
      fc.record({ y: tensorOf(s), d: tensorOf(s, { min: -3, max: 3, awayFrom: [-delta, delta], margin: 0.1 }) }).map(({ y, d }) => ({ p: add(y, d) as F64, y }))
    )
    for (const reduction of reductions) {
      expect(checkGradient(({ p, y }) => Loss.huber(p, y, { reduction, delta }), inputs, { numRuns }).maxError).toBeLessThanOrEqual(1e-7)
    }
  })
})

// ---------------------------------------------------------------- the max-shift of logSoftmax and softmax, through primitives

describe('logSoftmax and softmax: the shift by the row maximum is taken with primitives, through stopGradient', () => {
  const u32 = 2 ** -24
  /** log softmax of a row in float64, shifted by its maximum (the reference; the inputs are the float32 values). */
  const logSoftmaxRow = (row: readonly number[]): number[] => row.map((v) => v - lse(row))

  it('float32 logits of 1e4: within (K + 4)·u of the float64 log-probabilities of the same float32 inputs', () => {
    const z = fromBuffer([1e4, 1e4 - 1, 1e4 - 3.5, -1e4, 2.5e4, 2.5e4 + 0.25, 0, -7], [2, 4], { dtype: 'f32' })
    const got = logSoftmax(z, 1)
    expect(got.dtype).toBe('f32')
    const zs = rows(z)
    // x − m is exact for these values (every difference is a float32), then K exps, a sum of K terms and a log
    const bound = (4 + 4) * u32
    rows(got).forEach((row, r) => {
      const want = logSoftmaxRow(zs[r]!)
      row.forEach((v, j) => expect(Math.abs(v - want[j]!)).toBeLessThanOrEqual(bound * Math.max(1, Math.abs(want[j]!))))
    })
    // softmax of the same rows sums to 1 and is never NaN
    rows(softmax(z, 1)).forEach((row) => expect(Math.abs(row.reduce((a, b) => a + b, 0) - 1)).toBeLessThanOrEqual(8 * u32))
  })

  it('non-finite logits: −∞ gives log-probability −∞ (its class is impossible), a row with +∞ gives NaN there and −∞ elsewhere, a row of −∞ gives NaN', () => {
    for (const dtype of ['f64', 'f32'] as const) {
      const z = fromBuffer([-Infinity, 0, 1, Infinity, 0, 5, -Infinity, -Infinity, -Infinity], [3, 3], { dtype })
      const [finiteRow, plusInfinity, allMinus] = rows(logSoftmax(z, 1))
      const want = logSoftmaxRow([0, 1])
      expect(finiteRow![0]).toBe(-Infinity)
      expect(Math.abs(finiteRow![1]! - want[0]!)).toBeLessThanOrEqual(8 * u32)
      expect(Math.abs(finiteRow![2]! - want[1]!)).toBeLessThanOrEqual(8 * u32)
      expect(plusInfinity![0]).toBeNaN()
      expect(plusInfinity!.slice(1)).toEqual([-Infinity, -Infinity])
      expect(allMinus!.every(Number.isNaN)).toBe(true)
      expect(rows(softmax(z, 1))[0]).toEqual([0, expect.closeTo(Math.exp(want[0]!), 6), expect.closeTo(Math.exp(want[1]!), 6)])
    }
  })

  it('gradients at logits of ±1e4 are softmax(z) − onehot(y), finite', () => {
    const g = grad((z: F64) => Loss.crossEntropyWithLogits(z, [2, 0], { reduction: 'sum' }))(tensor([[1e4, 0, -1e4], [1e4, 1e4, 0]]))
    expect(allFinite(g.data)).toBe(true)
    expect(rows(g)).toEqual([
      [1, 0, -1],
      [-0.5, 0.5, 0]
    ])
  })

  it('a tie for the maximum changes nothing: the gradient and the Hessian of −log softmax(z)_y are the closed forms p − e_y and diag(p) − ppᵀ', () => {
    const z = [2, 2, -1]
    const p = z.map((v) => Math.exp(v - lse(z)))
    const loss = (t: F64) => Loss.crossEntropyWithLogits(t, [1], { reduction: 'sum' })
    const g = grad(loss)(tensor([z])).data
    expect(allClose(g, p.map((v, j) => v - (j === 1 ? 1 : 0)), 1e-15)).toBe(true)
    const h = hessian(loss)(tensor([z])).data
    const want = p.flatMap((pi, i) => p.map((pj, j) => (i === j ? pi : 0) - pi * pj))
    expect(allClose(h, want, 1e-15)).toBe(true)
  })
})
