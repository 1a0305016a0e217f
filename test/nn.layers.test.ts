/**
 * Layers and their composition: the laws the layer issue asks for.
 *
 * - composition is a category: `sequential(identity(), f) ≡ f ≡ sequential(f, identity())` and
 *   `sequential(sequential(f, g), h) ≡ sequential(f, sequential(g, h))`, extensionally (the same
 *   parameters mapped across the nestings give the same outputs and states on random inputs);
 * - seed 001: an MLP whose activation is linear is one affine map x·A + B, with A, B from the
 *   seed's recurrence;
 * - every layer's parameter gradient agrees with finite differences (`checkGradient`, float64);
 * - dropout, batch normalization, the activation layers against their formulas;
 * - a mis-composed model: the runtime `ShapeError` says exactly what the type checker says.
 *
 * Every property returns or asserts its verdict.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { fc, test } from '@fast-check/vitest'
import { ArgumentError, Conv, Layer, Layers, Random, ShapeError, Tree, add, fromBuffer, mul, sum, tensor, transpose, reshape, zeros } from 'lamina-nn'
import type { Tensor } from 'lamina-nn'
import { checkGradient, tensorOf } from 'lamina-nn/laws'
import * as Norm from '../src/nn/norm.js'
import * as Combinators from '../src/nn/combinators.js'
import type { AnyLayer, Context, Same, Stateless } from '../src/nn/layer.js'

// ================================================================ helpers

type Shape = readonly number[]

/** The leaves of a tree of tensors, as plain arrays. */
const leaves = (tree: unknown): number[][] => Tree.flatten(tree).leaves.map((t) => Array.from(t.data))

/** Same shapes and the same bits (−0 and NaN included). */
const identical = (a: Tensor, b: Tensor): boolean =>
  a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]) && Array.from(a.data).every((x, i) => Object.is(x, b.data[i]))

const sameLeaves = (a: unknown, b: unknown): boolean => {
  const [x, y] = [leaves(a), leaves(b)]
  return x.length === y.length && x.every((xs, i) => xs.length === y[i]!.length && xs.every((v, j) => Object.is(v, y[i]![j])))
}

const close = (a: number, b: number, tol: number): boolean => Math.abs(a - b) <= tol * (1 + Math.max(Math.abs(a), Math.abs(b)))

const allClose = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number): boolean =>
  a.length === b.length && Array.from(a).every((x, i) => close(x, b[i]!, tol))

const run = (layer: AnyLayer, params: unknown, x: Tensor, context: Context<unknown>) => layer.forward(params, x, context)

/** Column statistics of a row-major [rows, cols] buffer: mean and biased variance. */
const columnStats = (data: ArrayLike<number>, rows: number, cols: number): { mean: number[]; variance: number[] } => {
  const mean = Array.from({ length: cols }, (_, c) => Array.from({ length: rows }, (_, r) => data[r * cols + c]!).reduce((s, v) => s + v, 0) / rows)
  const variance = Array.from(
    { length: cols },
    (_, c) => Array.from({ length: rows }, (_, r) => (data[r * cols + c]! - mean[c]!) ** 2).reduce((s, v) => s + v, 0) / rows
  )
  return { mean, variance }
}

/** erf by its Maclaurin series (accurate to ~1e-13 for |z| ≤ 3; written here, not lamina's). */
const erf = (z: number): number => {
  let term = z
  let total = z
  for (let n = 1; n < 200 && Math.abs(term) > 1e-18; n++) {
    term *= (-z * z) / n
    total += term / (2 * n + 1)
  }
  return (2 / Math.sqrt(Math.PI)) * total
}

/** Tensors `[n]` (typed as vectors, as layer parameters and states are). */
const vectorOf = (n: number, options?: { min?: number; max?: number }): fc.Arbitrary<Tensor<[number]>> =>
  tensorOf([n], options).map((t) => t as Tensor<[number]>)

/** The input and output shape types of a layer. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Shapes<L> = [Layer.InOf<L>, Layer.OutputShape<L>]

/** A fixed tensor of normal samples. */
const normalTensor = (seed: number, shape: Shape): Tensor => Random.normal(Random.key(seed), shape)

// ================================================================ composition is a category

/** A layer from a small pool, taking `n` features; its output width. */
interface Piece {
  readonly layer: AnyLayer
  readonly out: number
  readonly label: string
}

const piece = (n: number, choice: number, width: number): Piece => {
  switch (choice) {
    case 0:
      return { layer: Layers.dense(n, width), out: width, label: `dense(${n}, ${width})` }
    case 1:
      return { layer: Layers.tanh(), out: n, label: 'tanh()' }
    case 2:
      return { layer: Layers.prelu(n), out: n, label: `prelu(${n})` }
    case 3:
      return { layer: Norm.batchNorm(n), out: n, label: `batchNorm(${n})` }
    case 4:
      return { layer: Combinators.residual(Layers.dense(n, n)), out: n, label: `residual(dense(${n}, ${n}))` }
    case 5:
      return { layer: Combinators.parallel(Layers.dense(n, width), Layers.tanh()), out: width + n, label: `parallel(dense(${n}, ${width}), tanh())` }
    default:
      return { layer: Layers.dropout(0.5), out: n, label: 'dropout(0.5)' }
  }
}

/** Three composable layers f, g, h on `n0` features, with parameters, states, an input and a mode. */
const tripleArb = fc
  .record({
    n0: fc.integer({ min: 1, max: 4 }),
    choices: fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 })),
    widths: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
    batch: fc.integer({ min: 2, max: 4 }),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    training: fc.boolean()
  })
  .chain((c) => tensorOf([c.batch, c.n0]).map((x) => ({ ...c, x })))
  .map((c) => {
    const f = piece(c.n0, c.choices[0], c.widths[0])
    const g = piece(f.out, c.choices[1], c.widths[1])
    const h = piece(g.out, c.choices[2], c.widths[2])
    // dropout draws from the context's key, which a deeper nesting splits differently: the
    // laws hold for it in distribution only, so it is exercised at inference here
    const training = c.training && ![f, g, h].some((p) => p.label.startsWith('dropout'))
    const [kf, kg, kh, kx, kc] = Random.split(Random.key(c.seed), 5)
    const [pf, pg, ph] = [f.layer.init(kf!), g.layer.init(kg!), h.layer.init(kh!)]
    // non-trivial states: one training pass of the flat chain on another batch
    const warm = Layer.sequential(f.layer, g.layer, h.layer)
    const states = (warm.forward({ layers: [pf, pg, ph] }, Random.normal(kx!, [3, c.n0]), { training: true, key: kc!, state: warm.initState() })
      .state as { layers: readonly unknown[] }).layers
    return {
      ...c,
      training,
      f,
      g,
      h,
      params: [pf, pg, ph] as const,
      states: [states[0], states[1], states[2]] as const,
      key: Random.key(c.seed + 1),
      [fc.toStringMethod]: () => `f = ${f.label}, g = ${g.label}, h = ${h.label}, training ${training}, x = ${JSON.stringify(c.x.toArray())}`
    }
  })

describe('composition is a category', () => {
  test.prop([tripleArb], { numRuns: 200 })('identity: sequential(identity(), f) ≡ f ≡ sequential(f, identity())', (c) => {
    const { f, params, states, x, training, key } = c
    const context = { training, key, state: states[0] }
    const direct = run(f.layer, params[0], x, context)
    const left = Layer.sequential(Layers.identity(), f.layer)
    const right = Layer.sequential(f.layer, Layers.identity())
    const viaLeft = run(left, { layers: [{}, params[0]] }, x, { training, key, state: { layers: [{}, states[0]] } })
    const viaRight = run(right, { layers: [params[0], {}] }, x, { training, key, state: { layers: [states[0], {}] } })
    const leftState = (viaLeft.state as { layers: readonly unknown[] }).layers[1]
    const rightState = (viaRight.state as { layers: readonly unknown[] }).layers[0]
    // in training a one-layer chain hands f a key split from the context's: compare without
    // dropout there (the triple drops training mode whenever f is a dropout)
    return identical(direct.y, viaLeft.y) && identical(direct.y, viaRight.y) && sameLeaves(direct.state, leftState) && sameLeaves(direct.state, rightState)
  })

  test.prop([tripleArb], { numRuns: 200 })('associativity: sequential(sequential(f, g), h) ≡ sequential(f, sequential(g, h))', (c) => {
    const { f, g, h, params, states, x, training, key } = c
    const [pf, pg, ph] = params
    const [sf, sg, sh] = states
    const leftNest = Layer.sequential(Layer.sequential(f.layer, g.layer), h.layer)
    const rightNest = Layer.sequential(f.layer, Layer.sequential(g.layer, h.layer))
    const a = run(leftNest, { layers: [{ layers: [pf, pg] }, ph] }, x, { training, key, state: { layers: [{ layers: [sf, sg] }, sh] } })
    const b = run(rightNest, { layers: [pf, { layers: [pg, ph] }] }, x, { training, key, state: { layers: [sf, { layers: [sg, sh] }] } })
    // the states come back in each nesting's own structure: flatten both to [sf', sg', sh']
    const sa = a.state as { layers: [{ layers: [unknown, unknown] }, unknown] }
    const sb = b.state as { layers: [unknown, { layers: [unknown, unknown] }] }
    const statesA = [sa.layers[0].layers[0], sa.layers[0].layers[1], sa.layers[1]]
    const statesB = [sb.layers[0], sb.layers[1].layers[0], sb.layers[1].layers[1]]
    return identical(a.y, b.y) && sameLeaves(statesA, statesB) && Layer.sequential(f.layer, g.layer, h.layer).outputShape([c.n0]).length === 1
  })

  it('the output shape of a nesting is the same as the flat chain', () => {
    const f = Layers.dense(3, 5)
    const g = Combinators.parallel(Layers.dense(5, 2), Layers.relu())
    const h = Layers.dense(7, 4)
    const left = Layer.sequential(Layer.sequential(f, g), h)
    const right = Layer.sequential(f, Layer.sequential(g, h))
    expect(left.outputShape([3])).toEqual([4])
    expect(right.outputShape([3])).toEqual([4])
    expectTypeOf<Shapes<typeof left>>().toEqualTypeOf<[[3], [4]]>()
    expectTypeOf<Shapes<typeof right>>().toEqualTypeOf<[[3], [4]]>()
  })
})

// ================================================================ seed 001: a linear MLP is affine

/** σ(z) = αz + β elementwise, as a layer (the seed's linear "activation"). */
const affineActivation = (alpha: number, beta: number): Layer.Layer<Shape, Same, Stateless> => ({
  kind: 'affine',
  inShape: undefined,
  outputShape: (s) => s,
  init: () => ({}),
  initState: () => ({}),
  forward: (_p, x, { state }) => ({ y: add(mul(x, alpha), beta) as Tensor, state })
})

type Matrix = number[][]
const matmulJs = (a: Matrix, b: Matrix): Matrix => a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, k) => s + v * b[k]![j]!, 0)))
const eyeJs = (n: number): Matrix => Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)))

/**
 * Seed 001's recurrence in the batch-major (row-vector) convention y = x·w + b:
 * A(0) = I, B(0) = 0, A(l) = α A(l−1) w(l), B(l) = α B(l−1) w(l) + α b(l) + β.
 */
const affineOf = (ws: readonly Matrix[], bs: readonly number[][], alpha: number, beta: number): { A: Matrix; B: number[] } => {
  let A = eyeJs(ws[0]!.length)
  let B: number[] = new Array<number>(ws[0]!.length).fill(0)
  ws.forEach((w, l) => {
    A = matmulJs(A, w).map((row) => row.map((v) => alpha * v))
    B = matmulJs([B], w)[0]!.map((v, j) => alpha * v + alpha * bs[l]![j]! + beta)
  })
  return { A, B }
}

const mlpArb = fc
  .record({
    widths: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 2, maxLength: 5 }),
    batch: fc.integer({ min: 1, max: 4 }),
    linear: fc.oneof(fc.constant({ alpha: 1, beta: 0 }), fc.record({ alpha: fc.double({ min: -1.5, max: 1.5, noNaN: true }), beta: fc.double({ min: -1, max: 1, noNaN: true }) }))
  })
  .chain(({ widths, batch, linear }) => {
    const layers = widths.slice(1).map((out, l) => {
      const n = widths[l]!
      return fc.record({
        w: fc.array(fc.array(fc.double({ min: -1.5, max: 1.5, noNaN: true }), { minLength: out, maxLength: out }), { minLength: n, maxLength: n }),
        b: fc.array(fc.double({ min: -1.5, max: 1.5, noNaN: true }), { minLength: out, maxLength: out })
      })
    })
    return fc.record({
      widths: fc.constant(widths),
      linear: fc.constant(linear),
      layers: fc.tuple(...layers),
      x: fc.array(fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: widths[0]!, maxLength: widths[0]! }), { minLength: batch, maxLength: batch })
    })
  })

describe('seed 001: an MLP with a linear activation is one affine map', () => {
  test.prop([mlpArb], { numRuns: 200 })('sequential(dense, σ, dense, σ, …) = x·A(L) + B(L) with the seed’s recurrence', ({ widths, linear, layers, x }) => {
    const { alpha, beta } = linear
    const activation = (): AnyLayer => (alpha === 1 && beta === 0 ? Layers.identity() : affineActivation(alpha, beta))
    const model = Layer.sequential(...widths.slice(1).flatMap((out, l): AnyLayer[] => [Layers.dense(widths[l]!, out), activation()]))
    const params = { layers: layers.flatMap((p) => [{ w: tensor(p.w), b: tensor(p.b) }, {}]) }
    const y = Layer.apply(model, params, tensor(x))
    const { A, B } = affineOf(
      layers.map((p) => p.w),
      layers.map((p) => p.b),
      alpha,
      beta
    )
    const expected = matmulJs(x, A).map((row) => row.map((v, j) => v + B[j]!))
    expect(y.shape).toEqual([x.length, widths[widths.length - 1]])
    return allClose(y.data, expected.flat(), 1e-10)
  })

  it('with the identity activation A is the product of the weights and B accumulates the biases', () => {
    const w1 = [[1, 2], [3, 4]]
    const w2 = [[1], [-1]]
    const { A, B } = affineOf([w1, w2], [[1, 1], [0.5]], 1, 0)
    expect(A).toEqual(matmulJs(w1, w2)) // [[-1], [-1]]
    expect(B).toEqual([1 * 1 + 1 * -1 + 0.5]) // b1·w2 + b2
  })
})

// ================================================================ parameter gradients

/** The scalar loss ⟨y, c⟩ of a layer's output for a fixed input and a fixed random c. */
const lossOf =
  (layer: AnyLayer, x: Tensor, outShape: Shape, training = false, state?: unknown) =>
  (params: unknown): Tensor => {
    const c = normalTensor(7, [x.shape[0]!, ...outShape])
    const y = layer.forward(params, x, { training, key: Random.key(0), state: state ?? layer.initState() }).y
    return sum(mul(y, c) as Tensor) as Tensor
  }

const p = (shape: Shape, min = -1, max = 1) => tensorOf(shape, { min, max })
const dense = (i: number, o: number) => fc.record({ w: p([i, o]), b: p([o]) })
/** 40 cases per layer, or `LAMINA_LAW_RUNS` when the suite asks for more. */
const gradientRuns = { numRuns: Number(process.env['LAMINA_LAW_RUNS'] ?? '') || 40 }

describe('every layer’s parameter gradient passes checkGradient (float64)', () => {
  const x = normalTensor(1, [5, 3])

  it('dense', () => {
    const layer = Layers.dense(3, 4)
    expect(checkGradient(lossOf(layer, x, [4]), dense(3, 4), gradientRuns).maxError).toBeLessThanOrEqual(1e-7)
  })

  it('prelu (the slopes)', () => {
    const layer = Layers.prelu(3)
    expect(checkGradient(lossOf(layer, x, [3]), fc.record({ alpha: p([3]) }), gradientRuns).maxError).toBeLessThanOrEqual(1e-7)
  })

  it('a sequential MLP with tanh', () => {
    const mlp = Layer.sequential(Layers.dense(3, 4), Layers.tanh(), Layers.dense(4, 2))
    const params = fc.record({ layers: fc.tuple(dense(3, 4), fc.constant({}), dense(4, 2)) })
    expect(checkGradient(lossOf(mlp, x, [2]), params, gradientRuns).maxError).toBeLessThanOrEqual(1e-7)
  })

  it('batchNorm in training mode: γ, β, and through the batch statistics to the layer before it', () => {
    const model = Layer.sequential(Layers.dense(3, 4), Norm.batchNorm(4), Layers.tanh(), Layers.dense(4, 2))
    // weights kept away from 0, so that no column entering the normalization is constant: at a
    // variance of 0 the map bends on the scale √ε, far below the finite differences' step
    const away = fc.record({ w: tensorOf([3, 4], { min: -1, max: 1, awayFrom: [0], margin: 0.3 }), b: p([4]) })
    const params = fc.record({ layers: fc.tuple(away, fc.record({ gamma: p([4], 0.5, 2), beta: p([4]) }), fc.constant({}), dense(4, 2)) })
    expect(checkGradient(lossOf(model, x, [2], true), params, gradientRuns).maxError).toBeLessThanOrEqual(1e-7)
  })

  it('batchNorm in training mode, with respect to its input too (the gradient flows through μ_B and σ²_B)', () => {
    const bn = Norm.batchNorm(3)
    // rows kept apart so that every column has a variance well above ε
    const inputs = fc.record({
      params: fc.record({ gamma: p([3], 0.5, 2), beta: p([3]) }),
      x: tensorOf([4, 3], { min: -0.4, max: 0.4 }).map((t) => add(t, tensor([[0], [1], [2], [3.5]])) as Tensor)
    })
    const f = ({ params, x: input }: { params: unknown; x: Tensor }) => lossOf(bn, input, [3], true)(params)
    expect(checkGradient(f, inputs, gradientRuns).maxError).toBeLessThanOrEqual(1e-7)
  })

  it('batchNorm2d in training mode, parameters and input', () => {
    const bn = Norm.batchNorm2d(2)
    const ramp = fromBuffer(Array.from({ length: 16 }, (_, i) => (i % 4) * 0.9 + Math.floor(i / 8)), [2, 2, 2, 2])
    const inputs = fc.record({
      params: fc.record({ gamma: p([2], 0.5, 2), beta: p([2]) }),
      x: tensorOf([2, 2, 2, 2], { min: -0.3, max: 0.3 }).map((t) => add(t, ramp) as Tensor)
    })
    const f = ({ params, x: input }: { params: unknown; x: Tensor }) => lossOf(bn, input, [2, 2, 2], true)(params)
    expect(checkGradient(f, inputs, gradientRuns).maxError).toBeLessThanOrEqual(1e-7)
  })

  it('residual', () => {
    const block = Combinators.residual(Layer.sequential(Layers.dense(3, 3), Layers.tanh(), Layers.dense(3, 3)))
    const params = fc.record({ layers: fc.tuple(dense(3, 3), fc.constant({}), dense(3, 3)) })
    expect(checkGradient(lossOf(block, x, [3]), params, gradientRuns).maxError).toBeLessThanOrEqual(1e-7)
  })

  it('parallel', () => {
    const both = Combinators.parallel(Layers.dense(3, 2), Layer.sequential(Layers.dense(3, 4), Layers.tanh()), Layers.prelu(3))
    const params = fc.record({ branches: fc.tuple(dense(3, 2), fc.record({ layers: fc.tuple(dense(3, 4), fc.constant({})) }), fc.record({ alpha: p([3]) })) })
    expect(checkGradient(lossOf(both, x, [9]), params, gradientRuns).maxError).toBeLessThanOrEqual(1e-7)
  })
})

// ================================================================ dropout

describe('dropout', () => {
  const rates = fc.double({ min: 0, max: 0.95, noNaN: true })
  const seeds = fc.integer({ min: 0, max: 2 ** 31 - 1 })

  test.prop([tensorOf([3, 5]), rates])('is the identity at inference', (x, rate) => identical(Layer.apply(Layers.dropout(rate), {}, x), x))

  test.prop([tensorOf([4, 6], { min: 0.5, max: 2 }), rates, seeds])('the same key gives the same mask; each unit is 0 or scaled by 1/(1 − rate)', (x, rate, seed) => {
    const d = Layers.dropout(rate)
    const a = Layer.train(d, {}, {}, x, Random.key(seed)).y
    const b = Layer.train(d, {}, {}, x, Random.key(seed)).y
    return identical(a, b) && Array.from(a.data).every((v, i) => v === 0 || close(v, x.data[i]! / (1 - rate), 1e-15))
  })

  test.prop([fc.double({ min: 0.05, max: 0.95, noNaN: true }), seeds, seeds])('different keys give different masks', (rate, s1, s2) => {
    fc.pre(s1 !== s2)
    const d = Layers.dropout(rate)
    const x = add(zeros([1, 2000]), 1) as Tensor
    return !identical(Layer.train(d, {}, {}, x, Random.key(s1)).y, Layer.train(d, {}, {}, x, Random.key(s2)).y)
  })

  test.prop([fc.double({ min: 0, max: 0.9, noNaN: true }), seeds], { numRuns: 50 })(
    'the mean is preserved in expectation, and the fraction dropped is the rate (5σ bounds)',
    (rate, seed) => {
      const n = 20_000
      const y = Layer.train(Layers.dropout(rate), {}, {}, add(zeros([1, n]), 1) as Tensor, Random.key(seed)).y
      const values = Array.from(y.data)
      const mean = values.reduce((s, v) => s + v, 0) / n
      const dropped = values.filter((v) => v === 0).length / n
      // each unit is Bernoulli(1 − rate)/(1 − rate): mean 1, variance rate/(1 − rate)
      const meanOk = Math.abs(mean - 1) <= 5 * Math.sqrt(rate / (1 - rate) / n) + 1e-12
      const droppedOk = Math.abs(dropped - rate) <= 5 * Math.sqrt((rate * (1 - rate)) / n) + 1e-12
      return meanOk && droppedOk
    }
  )

  it('needs a key in training and a rate in [0, 1)', () => {
    const d = Layers.dropout(0.5)
    expect(() => d.forward({}, zeros([1, 2]), { training: true, state: {} })).toThrow(ArgumentError)
    expect(() => Layers.dropout(1)).toThrow(ArgumentError)
    expect(() => Layers.dropout(-0.1)).toThrow(ArgumentError)
    expect(() => Layers.dropout(Number.NaN)).toThrow(ArgumentError)
  })
})

// ================================================================ batch normalization

/** A batch [B, F] with B ≥ 2. */
const batchArb = fc
  .record({ b: fc.integer({ min: 2, max: 6 }), f: fc.integer({ min: 1, max: 4 }) })
  .chain(({ b, f }) => tensorOf([b, f], { min: -5, max: 5 }))

describe('batchNorm', () => {
  const eps = 1e-5

  test.prop([batchArb])('in training the output has per-feature mean 0 and variance σ²/(σ² + ε) ≈ 1 before γ, β', (x) => {
    const [b, f] = [x.shape[0]!, x.shape[1]!]
    const bn = Norm.batchNorm(f)
    const { y } = Layer.train(bn, bn.init(Random.key(0)), bn.initState(), x, Random.key(1))
    const before = columnStats(x.data, b, f)
    const after = columnStats(y.data, b, f)
    return after.mean.every((m) => Math.abs(m) < 1e-9) && after.variance.every((v, c) => close(v, before.variance[c]! / (before.variance[c]! + eps), 1e-9))
  })

  test.prop([batchArb.chain((x) => fc.tuple(fc.constant(x), vectorOf(x.shape[1]!, { min: -2, max: 2 }), vectorOf(x.shape[1]!, { min: -2, max: 2 })))])(
    'then γ scales and β shifts each feature',
    ([x, gamma, beta]) => {
      const [b, f] = [x.shape[0]!, x.shape[1]!]
      const bn = Norm.batchNorm(f)
      const { y } = Layer.train(bn, { gamma, beta }, bn.initState(), x, Random.key(1))
      const before = columnStats(x.data, b, f)
      const after = columnStats(y.data, b, f)
      return after.mean.every((m, c) => close(m, beta.data[c]!, 1e-9)) &&
        after.variance.every((v, c) => close(v, gamma.data[c]! ** 2 * (before.variance[c]! / (before.variance[c]! + eps)), 1e-9))
    }
  )

  test.prop([
    batchArb.chain((x) => fc.tuple(fc.constant(x), vectorOf(x.shape[1]!, { min: -3, max: 3 }), vectorOf(x.shape[1]!, { min: 0.1, max: 3 }))),
    fc.double({ min: 0, max: 1, noNaN: true })
  ])('the running statistics move by momentum: (1 − m)·old + m·batch (unbiased variance)', ([x, mean, variance], momentum) => {
    const [b, f] = [x.shape[0]!, x.shape[1]!]
    const bn = Norm.batchNorm(f, { momentum })
    const before = { mean, variance }
    const copy = leaves(before)
    const { state } = Layer.train(bn, bn.init(Random.key(0)), before, x, Random.key(1))
    const stats = columnStats(x.data, b, f)
    const meanOk = Array.from(state.mean.data).every((v, c) => close(v, (1 - momentum) * mean.data[c]! + momentum * stats.mean[c]!, 1e-12))
    const varOk = Array.from(state.variance.data).every((v, c) =>
      close(v, (1 - momentum) * variance.data[c]! + momentum * stats.variance[c]! * (b / (b - 1)), 1e-12)
    )
    // the old state is a value: untouched
    const untouched = leaves(before).every((xs, i) => xs.every((v, j) => Object.is(v, copy[i]![j])))
    return meanOk && varOk && untouched
  })

  test.prop([
    batchArb.chain((x) =>
      fc.tuple(
        fc.constant(x),
        fc.record({ mean: vectorOf(x.shape[1]!, { min: -3, max: 3 }), variance: vectorOf(x.shape[1]!, { min: 0.1, max: 3 }) }),
        fc.record({ gamma: vectorOf(x.shape[1]!, { min: -2, max: 2 }), beta: vectorOf(x.shape[1]!, { min: -2, max: 2 }) })
      )
    )
  ])('inference normalizes with the running statistics, and leaves them as they are', ([x, state, params]) => {
    const f = x.shape[1]!
    const bn = Norm.batchNorm(f)
    const out = bn.forward(params, x, { training: false, state })
    const expected = Array.from(x.data).map((v, i) => {
      const c = i % f
      return (params.gamma.data[c]! * (v - state.mean.data[c]!)) / Math.sqrt(state.variance.data[c]! + eps) + params.beta.data[c]!
    })
    return out.state === state && allClose(out.y.data, expected, 1e-12)
  })

  it('threaded through repeated training steps, the running mean approaches the batch mean geometrically', () => {
    const bn = Norm.batchNorm(2, { momentum: 0.25 })
    const params = bn.init(Random.key(0))
    const x = tensor([[1, 4], [3, 8]])
    let state = bn.initState()
    for (let k = 1; k <= 5; k++) {
      state = Layer.train(bn, params, state, x, Random.key(k)).state
      const factor = 1 - 0.75 ** k
      expect(allClose(state.mean.data, [2 * factor, 6 * factor], 1e-14)).toBe(true)
      expect(allClose(state.variance.data, [0.75 ** k + 2 * factor, 0.75 ** k + 8 * factor], 1e-14)).toBe(true)
    }
    // after many steps inference ≈ training on this batch
    for (let k = 0; k < 200; k++) state = Layer.train(bn, params, state, x, Random.key(k)).state
    const trained = Layer.train(bn, params, state, x, Random.key(0)).y
    const inferred = Layer.apply(bn, params, x, state)
    // training uses the biased variance, the running variance is unbiased (×2 for a batch of 2)
    expect(allClose(inferred.data, Array.from(trained.data).map((v) => v / Math.SQRT2), 1e-5)).toBe(true)
  })

  it('initial parameters γ = 1, β = 0 and state mean 0, variance 1; no hidden state between calls', () => {
    const bn = Norm.batchNorm(3)
    expect(leaves(bn.init(Random.key(0)))).toEqual([[1, 1, 1], [0, 0, 0]])
    expect(leaves(bn.initState())).toEqual([[0, 0, 0], [1, 1, 1]])
    const x = tensor([[1, 2, 3], [4, 5, 7]])
    const first = Layer.apply(bn, bn.init(Random.key(0)), x)
    Layer.train(bn, bn.init(Random.key(0)), bn.initState(), x, Random.key(0))
    expect(identical(Layer.apply(bn, bn.init(Random.key(0)), x), first)).toBe(true)
  })

  it('float32 models: the running statistics follow the input dtype', () => {
    const bn = Norm.batchNorm(2)
    const params = bn.init(Random.key(0), 'f32')
    const x = tensor([[1, 2], [3, 5]], { dtype: 'f32' })
    const { y, state } = Layer.train(bn, params, bn.initState(), x, Random.key(0))
    expect([y.dtype, state.mean.dtype, state.variance.dtype]).toEqual(['f32', 'f32', 'f32'])
    expect(Layer.apply(bn, params, x, state).dtype).toBe('f32')
    expect(Layer.apply(bn, params, x).dtype).toBe('f32')
  })

  it('errors: a batch of one in training, a wrong width, bad options', () => {
    const bn = Norm.batchNorm(3)
    expect(() => Layer.train(bn, bn.init(Random.key(0)), bn.initState(), tensor([[1, 2, 3]]), Random.key(0))).toThrow(ArgumentError)
    expect(Layer.apply(bn, bn.init(Random.key(0)), tensor([[1, 2, 3]])).shape).toEqual([1, 3]) // inference is fine
    // @ts-expect-error: apply: the layer expects 3 features but the input has 4 features
    expect(() => Layer.apply(bn, bn.init(Random.key(0)), zeros([2, 4]))).toThrow(new ShapeError('apply: the layer expects 3 features but the input has 4 features'))
    // the layer's own check, for a batch of unknown shape
    expect(() => Layer.apply(bn, bn.init(Random.key(0)), zeros([2, 4]) as Tensor)).toThrow(new ShapeError('apply: the layer expects 3 features but the input has 4 features'))
    expect(() => bn.forward(bn.init(Random.key(0)), zeros([2, 4]), { training: false, state: bn.initState() })).toThrow(
      new ShapeError('batchNorm expects 3 features but got 4 features (batch [2,4])')
    )
    expect(() => Norm.batchNorm(0)).toThrow(ArgumentError)
    expect(() => Norm.batchNorm(3, { momentum: 1.5 })).toThrow(ArgumentError)
    expect(() => Norm.batchNorm(3, { eps: 0 })).toThrow(ArgumentError)
    expect(() => bn.forward(bn.init(Random.key(0)), zeros([2, 3]), { training: false, state: { mean: zeros([2]), variance: zeros([3]) } as never })).toThrow(
      new ShapeError("batchNorm: the state's mean must have shape [3], got [2]")
    )
  })

  test.prop([
    fc.record({ b: fc.integer({ min: 1, max: 3 }), c: fc.integer({ min: 1, max: 3 }), h: fc.integer({ min: 1, max: 3 }), w: fc.integer({ min: 1, max: 3 }) }).chain(({ b, c, h, w }) =>
      tensorOf([b, c, h, w], { min: -3, max: 3 })
    ),
    fc.boolean()
  ])('batchNorm2d is batchNorm over the batch and both spatial axes, per channel', (x, training) => {
    const [b, c, h, w] = x.shape as [number, number, number, number]
    fc.pre(!training || b * h * w > 1)
    const rows = (t: Tensor) => reshape(transpose(t, [0, 2, 3, 1]), [b * h * w, c]) as Tensor // [B·H·W, C]
    const bn2 = Norm.batchNorm2d(c, { momentum: 0.3 })
    const bn1 = Norm.batchNorm(c, { momentum: 0.3 })
    const vec = (t: Tensor) => t as Tensor<[number]>
    const params = { gamma: vec(normalTensor(3, [c])), beta: vec(normalTensor(4, [c])) }
    const state = { mean: vec(normalTensor(5, [c])), variance: vec(add(mul(normalTensor(6, [c]), normalTensor(6, [c])), 0.5) as Tensor) }
    const a = bn2.forward(params, x, { training, state })
    const e = bn1.forward(params, rows(x), { training, state })
    return allClose(rows(a.y).data, e.y.data, 1e-12) && allClose(leaves(a.state).flat(), leaves(e.state).flat(), 1e-12)
  })

  it('types: batchNorm keeps the width; a wrong width does not compile', () => {
    const model = Layer.sequential(Layers.dense(3, 4), Norm.batchNorm(4), Layers.relu())
    expectTypeOf<Shapes<typeof model>>().toEqualTypeOf<[[3], [4]]>()
    expectTypeOf(Norm.batchNorm2d(6)).toExtend<Layer.Layer<[6, number, number], Same, Norm.BatchNormParams<6>, Norm.BatchNormState<6>>>()
    // @ts-expect-error: layer 2 expects 5 features but layer 1 produces 4 features
    const bad = () => Layer.sequential(Layers.dense(3, 4), Norm.batchNorm(5))
    expect(bad).toThrow(new ShapeError('layer 2 expects 5 features but layer 1 produces 4 features'))
  })
})

// ================================================================ activation layers against their formulas

describe('activation layers against their formulas', () => {
  const xs = tensorOf([3, 4], { min: -4, max: 4 })
  const elementwise = (layer: AnyLayer, x: Tensor, formula: (v: number) => number, tol = 1e-14): boolean =>
    allClose(Layer.apply(layer, {}, x).data, Array.from(x.data).map(formula), tol)

  test.prop([xs, fc.double({ min: 0, max: 1, noNaN: true })])('leakyRelu(α): z for z > 0, αz otherwise', (x, alpha) =>
    elementwise(Layers.leakyRelu(alpha), x, (v) => (v > 0 ? v : alpha * v))
  )
  test.prop([xs])('absRectify: |z|', (x) => elementwise(Layers.absRectify(), x, Math.abs))
  test.prop([xs, fc.double({ min: 0.1, max: 2, noNaN: true })])('elu(α): z for z > 0, α(eᶻ − 1) otherwise', (x, alpha) =>
    elementwise(Layers.elu(alpha), x, (v) => (v > 0 ? v : alpha * Math.expm1(v)))
  )
  test.prop([xs])('gelu: ½z(1 + erf(z/√2))', (x) => elementwise(Layers.gelu(), x, (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)), 1e-12))
  test.prop([xs])("gelu('tanh'): ½z(1 + tanh(√(2/π)(z + 0.044715z³))), within 1e-3 of the exact form", (x) => {
    const approx = Layer.apply(Layers.gelu('tanh'), {}, x)
    const exact = Layer.apply(Layers.gelu(), {}, x)
    return (
      elementwise(Layers.gelu('tanh'), x, (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))) &&
      Array.from(approx.data).every((v, i) => Math.abs(v - exact.data[i]!) < 1e-3)
    )
  })
  test.prop([tensorOf([3, 4], { min: -40, max: 40 })])('softplus: log(1 + eᶻ), finite for large |z|', (x) =>
    elementwise(Layers.softplus(), x, (v) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v))))
  )
  test.prop([xs])('sigmoid, tanh, relu', (x) =>
    elementwise(Layers.sigmoid(), x, (v) => 1 / (1 + Math.exp(-v))) && elementwise(Layers.tanh(), x, Math.tanh) && elementwise(Layers.relu(), x, (v) => Math.max(v, 0))
  )
  test.prop([
    fc.record({ b: fc.integer({ min: 1, max: 3 }), n: fc.integer({ min: 1, max: 3 }), k: fc.integer({ min: 1, max: 4 }) }).chain(({ b, n, k }) =>
      fc.tuple(fc.constant(k), tensorOf([b, n * k]))
    )
  ])('maxout(k): the maximum of each group of k consecutive units', ([k, x]) => {
    const [b, units] = [x.shape[0]!, x.shape[1]!]
    const y = Layer.apply(Layers.maxout(k), {}, x)
    const expected = Array.from({ length: b * (units / k) }, (_, i) => {
      const [r, g] = [Math.floor(i / (units / k)), i % (units / k)]
      return Math.max(...Array.from({ length: k }, (_, j) => x.data[r * units + g * k + j]!))
    })
    return y.shape[1] === units / k && allClose(y.data, expected, 0)
  })
  test.prop([tensorOf([2, 3]), vectorOf(3, { min: -1, max: 1 }).map((t) => t as Tensor<[3]>)])('prelu: z for z > 0, α_j z otherwise, α per unit', (x, alpha) => {
    const y = Layer.apply(Layers.prelu(3), { alpha }, x)
    return allClose(y.data, Array.from(x.data).map((v, i) => (v > 0 ? v : alpha.data[i % 3]! * v)), 1e-15)
  })
})

// ================================================================ combinators

describe('residual and parallel', () => {
  test.prop([tensorOf([3, 4]), fc.integer({ min: 0, max: 1000 })])('residual(f)(x) = x + f(x), with f’s own parameters and state', (x, seed) => {
    const f = Layer.sequential(Layers.dense(4, 4), Norm.batchNorm(4), Layers.tanh())
    const block = Combinators.residual(f)
    const params = f.init(Random.key(seed))
    const inner = f.forward(params, x, { training: true, state: f.initState() })
    const outer = block.forward(params, x, { training: true, state: block.initState() })
    return identical(outer.y, add(x, inner.y) as Tensor) && sameLeaves(outer.state, inner.state) && sameLeaves(block.init(Random.key(seed)), params)
  })

  test.prop([tensorOf([2, 3]), fc.integer({ min: 0, max: 1000 })])('parallel applies every branch to the input and concatenates along the last axis', (x, seed) => {
    const branches = [Layers.dense(3, 2), Layers.tanh(), Layers.dense(3, 1)] as const
    const both = Combinators.parallel(...branches)
    const params = both.init(Random.key(seed))
    const y = Layer.apply(both, params, x)
    const parts = branches.map((b, i) => Layer.apply(b as AnyLayer, params.branches[i], x))
    const expected = Array.from({ length: 2 }, (_, r) => parts.flatMap((t) => Array.from(t.data).slice(r * t.shape[1]!, (r + 1) * t.shape[1]!)))
    return y.shape[1] === 6 && allClose(y.data, expected.flat(), 0)
  })

  it('types: widths add up; a residual keeps its layer’s shape', () => {
    const both = Combinators.parallel(Layers.dense(4, 3), Layers.dense(4, 5), Layers.relu())
    expectTypeOf<Shapes<typeof both>>().toEqualTypeOf<[[4], [12]]>()
    expect(both.outputShape([4])).toEqual([12])
    const block = Combinators.residual(Layers.dense(6, 6))
    expectTypeOf(block).toExtend<Layer.Layer<[6], Layer.OutSpec, Layers.DenseParams<6, 6>, Stateless>>()
    expectTypeOf<Shapes<typeof block>>().toEqualTypeOf<[[6], [6]]>()
    expectTypeOf(Combinators.concat).toEqualTypeOf(Combinators.parallel)
    // @ts-expect-error: residual: the layer maps 4 features to 3 features …
    expect(() => Combinators.residual(Layers.dense(4, 3))).toThrow(ShapeError)
    // @ts-expect-error: parallel: branch 2 produces shape [2,2] but branch 1 produces 3 features; …
    expect(() => Combinators.parallel(Layers.dense(4, 3), Layers.reshape([2, 2]))).toThrow(ShapeError)
    // @ts-expect-error: parallel needs at least one branch
    expect(() => Combinators.parallel()).toThrow(ArgumentError)
  })

  it('a residual around a layer of unknown input shape is checked where its input is known', () => {
    const block = Combinators.residual(Layers.maxout(2))
    const message = 'residual: the layer maps 4 features to 2 features, but x + layer(x) needs its output shape to equal its input shape'
    // @ts-expect-error: apply: residual: the layer maps 4 features to 2 features, …
    expect(() => Layer.apply(block, {}, zeros([2, 4]))).toThrow(new ShapeError(`apply: ${message}`))
    // @ts-expect-error: layer 2: residual: the layer maps 4 features to 2 features, …
    expect(() => Layer.sequential(Layers.dense(3, 4), block)).toThrow(new ShapeError(`layer 2: ${message}`))
    expect(() => block.outputShape([4])).toThrow(new ShapeError(message))
    // with a batch of unknown shape, when it runs
    expect(() => block.forward({}, zeros([2, 4]) as Tensor, { training: false, state: {} })).toThrow(new ShapeError(message))
  })
})

// ================================================================ compile-time and run-time messages agree

const ROOT = path.resolve(fileURLToPath(new URL('..', import.meta.url)))

/**
 * Mis-composed models, each written once: compiled by the type checker (against the project
 * tsconfig) and run. The `ShapeMismatch<"…">` message of the compile error must be the
 * message of the `ShapeError` thrown at run time.
 */
const misfits: readonly { readonly code: string; readonly message: string; readonly at?: string }[] = [
  {
    code: 'Layer.sequential(Layers.dense(784, 128), Layers.relu(), Layers.dense(64, 10))',
    message: 'layer 3 expects 64 features but layer 2 produces 128 features',
    at: 'Layers.dense(64, 10)'
  },
  { code: 'Layer.sequential(Layers.dense(3, 4), Norm.batchNorm(5))', message: 'layer 2 expects 5 features but layer 1 produces 4 features', at: 'Norm.batchNorm(5)' },
  {
    code: 'Combinators.residual(Layers.dense(4, 3))',
    message: 'residual: the layer maps 4 features to 3 features, but x + layer(x) needs its output shape to equal its input shape'
  },
  {
    code: 'Combinators.residual(Layer.sequential(Layers.dense(5, 8), Layers.tanh(), Layers.dense(8, 4)))',
    message: 'residual: the layer maps 5 features to 4 features, but x + layer(x) needs its output shape to equal its input shape'
  },
  { code: 'Combinators.parallel(Layers.dense(4, 3), Layers.dense(3, 5))', message: 'parallel: branch 2 expects 3 features but branch 1 expects 4 features', at: 'Layers.dense(3, 5)' },
  { code: 'Combinators.parallel(Layers.relu(), Layers.dense(4, 3), Layers.prelu(5))', message: 'parallel: branch 3 expects 5 features but branch 2 expects 4 features' },
  {
    code: 'Combinators.parallel(Layers.dense(4, 3), Layers.reshape([2, 2]))',
    message: 'parallel: branch 2 produces shape [2,2] but branch 1 produces 3 features; only the last axis may differ'
  },
  {
    code: 'Layer.sequential(Combinators.parallel(Layers.dense(4, 3), Layers.dense(4, 5)), Layers.dense(7, 2))',
    message: 'layer 2 expects 7 features but layer 1 produces 8 features'
  },
  {
    code: 'Layer.sequential(Layers.dense(2, 6), Combinators.residual(Layers.dense(6, 6)), Combinators.parallel(Layers.tanh(), Layers.dense(6, 2)), Layers.dense(9, 1))',
    message: 'layer 4 expects 9 features but layer 3 produces 8 features',
    at: 'Layers.dense(9, 1)'
  },
  // layers whose output depends on their input: the rule is applied to the shape before them
  { code: 'Layer.sequential(Layers.dense(3, 10), Layers.maxout(3))', message: 'layer 2: maxout: 10 units cannot be split into groups of 3', at: 'Layers.maxout(3)' },
  {
    code: 'Layer.sequential(Layers.dense(784, 128), Layers.reshape([1, 28, 28]))',
    message: 'layer 2: reshape: cannot reshape [128] (128 elements) into [1,28,28] (784 elements)',
    at: 'Layers.reshape('
  },
  // a residual is checked for each shape it is given, and for every value of a free size
  {
    code: 'Layer.sequential(Layers.dense(3, 4), Combinators.residual(Layers.maxout(2)))',
    message: 'layer 2: residual: the layer maps 4 features to 2 features, but x + layer(x) needs its output shape to equal its input shape'
  },
  {
    code: 'Combinators.residual(Conv.conv2d(8, 8, 3))',
    message: 'residual: the layer maps shape [8,d1,d2] to shape [8,?,?], but x + layer(x) needs its output shape to equal its input shape'
  },
  {
    code: 'Combinators.residual(Conv.conv2d(8, 8, 3, { stride: 2, padding: 1 }))',
    message: 'residual: the layer maps shape [8,d1,d2] to shape [8,?,?], but x + layer(x) needs its output shape to equal its input shape'
  },
  {
    code: 'Layer.sequential(Layers.reshape([1, 28, 28]), Conv.conv2d(1, 8, 3, { padding: 1 }), Combinators.residual(Layers.flatten()))',
    message: 'layer 3: residual: the layer maps shape [8,28,28] to 6272 features, but x + layer(x) needs its output shape to equal its input shape'
  },
  {
    code: 'Combinators.parallel(Conv.conv2d(3, 4, 3, { padding: 1 }), Conv.conv2d(3, 4, 3))',
    message: 'parallel: branch 2 produces shape [4,?,?] but branch 1 produces shape [4,d1,d2]; only the last axis may differ'
  },
  // the batch given to apply
  {
    code: 'Layer.apply(Layers.dense(784, 10), Layers.dense(784, 10).init(Random.key(0)), zeros([32, 785]))',
    message: 'apply: the layer expects 784 features but the input has 785 features',
    at: 'zeros([32, 785])'
  },
  {
    code: 'Layer.apply(Layer.sequential(Layers.relu(), Layers.maxout(3)), { layers: [{}, {}] }, zeros([2, 8]))',
    message: 'apply: layer 2: maxout: 8 units cannot be split into groups of 3'
  }
]

/** The ShapeMismatch message (read on the first line of the diagnostic) and the column of each line of `code` that does not compile. */
const compileErrors = (code: string): Map<number, { readonly message: string; readonly column: number }> => {
  const parsed = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, 'tsconfig.json'), { noEmit: true }, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'))
    }
  })
  if (parsed === undefined) throw new Error('could not read tsconfig.json')
  const file = path.join(ROOT, 'test', '__shape-messages__.ts')
  const host = ts.createCompilerHost(parsed.options)
  const getSourceFile = host.getSourceFile.bind(host)
  host.getSourceFile = (name, language, ...rest) =>
    path.resolve(name) === file ? ts.createSourceFile(name, code, language) : getSourceFile(name, language, ...rest)
  const fileExists = host.fileExists.bind(host)
  host.fileExists = (name) => path.resolve(name) === file || fileExists(name)
  const program = ts.createProgram({ rootNames: [file], options: { ...parsed.options, noEmit: true, incremental: false }, host })
  const source = program.getSourceFile(file)!
  const out = new Map<number, { readonly message: string; readonly column: number }>()
  for (const d of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
    const text = ts.flattenDiagnosticMessageText(d.messageText, '\n')
    const line = source.getLineAndCharacterOfPosition(d.start ?? 0).line
    // the words are on the first line of the diagnostic, not only in its elaboration
    const mismatch = /ShapeMismatch<"([^"]*)">/.exec(text.split('\n')[0]!)
    out.set(line, { message: mismatch?.[1] ?? `not a shape mismatch: ${text}`, column: source.getLineAndCharacterOfPosition(d.start ?? 0).character })
  }
  return out
}

describe('a mis-composed model: the run-time ShapeError says what the type checker says', () => {
  it('for sequential, residual and parallel', () => {
    const header = [
      "import { Conv, Layer, Layers, Random, zeros } from 'lamina-nn'",
      "import * as Norm from '../src/nn/norm.js'",
      "import * as Combinators from '../src/nn/combinators.js'"
    ]
    const prefix = (i: number) => `export const misfit${i} = () => `
    const code = [...header, ...misfits.map((m, i) => `${prefix(i)}${m.code}`)].join('\n')
    const errors = compileErrors(code)
    const namespaces = { Layer, Layers, Norm, Combinators, Conv, Random, zeros }
    misfits.forEach((m, i) => {
      const compiled = errors.get(header.length + i)?.message
      // reported on the argument that does not fit
      if (m.at !== undefined) expect({ code: m.code, column: errors.get(header.length + i)?.column }).toEqual({ code: m.code, column: prefix(i).length + m.code.indexOf(m.at) })
      let thrown: unknown
      try {
        new Function(...Object.keys(namespaces), `return ${m.code}`)(...Object.values(namespaces))
      } catch (e) {
        thrown = e
      }
      expect({ code: m.code, compiled }).toEqual({ code: m.code, compiled: m.message })
      expect(thrown).toBeInstanceOf(ShapeError)
      expect({ code: m.code, thrown: (thrown as Error).message }).toEqual({ code: m.code, thrown: m.message })
    })
    // and the file has no other errors
    expect(errors.size).toBe(misfits.length)
  })

  it('well-composed models compile and run', () => {
    const model = Layer.sequential(
      Layers.dense(2, 6),
      Combinators.residual(Layer.sequential(Layers.dense(6, 6), Layers.tanh(), Layers.dense(6, 6))),
      Norm.batchNorm(6),
      Combinators.parallel(Layers.tanh(), Layers.dense(6, 2)),
      Layers.dense(8, 3)
    )
    expectTypeOf<Shapes<typeof model>>().toEqualTypeOf<[[2], [3]]>()
    const params = model.init(Random.key(0))
    const { y, state } = Layer.train(model, params, model.initState(), normalTensor(2, [5, 2]), Random.key(1))
    expect(y.shape).toEqual([5, 3])
    expect(Layer.apply(model, params, normalTensor(2, [5, 2]), state).shape).toEqual([5, 3])
  })
})
