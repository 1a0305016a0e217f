/**
 * The playground's pure parts (examples/playground/src), in Node: the datasets are a function
 * of their seed and match their definitions (the regression targets their formulas), the
 * features are their formulas, the URL codec round-trips every configuration and names bad
 * fields, the model builder gives the shapes the editor describes, the objective is the
 * cross-entropy or the mean squared error plus the L1 or L2 penalty, training on XOR learns
 * (in float64 and float32), the features make spirals learnable with a small net, the
 * inspector's adjoints (weights, biases, inputs, hidden units, the output) agree with
 * `valueAndGrad`, with finite differences or with the losses' derivatives, its readable trace
 * has no bookkeeping rows and explains every symbol, a weight set by hand is that weight, and a
 * saved model loads back. The page itself is tested in a browser by playground.e2e.test.ts.
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Checkpoint, Layer, Random, Spec, fromBuffer, mul, sub, tensor, valueAndGrad } from 'lamina-nn'
import type { Tensor } from 'lamina-nn'
import * as Ck from '../examples/playground/src/checkpoint.js'
import {
  activationNames, backendChoices, classificationDatasets, datasetNames, defaults, featureNames, fromQuery, limits, optimizerNames, problemOf, regressionDatasets, regularizationNames, toQuery
} from '../examples/playground/src/config.js'
import type { Config, FeatureName } from '../examples/playground/src/config.js'
import * as D from '../examples/playground/src/datasets.js'
import * as F from '../examples/playground/src/features.js'
import * as I from '../examples/playground/src/inspect.js'
import * as M from '../examples/playground/src/model.js'
import * as T from '../examples/playground/src/trainer.js'

const classify = (regularization: Config['regularization'], rate: number): M.Terms => ({ problem: 'classification', regularization, rate })
const mean = (xs: ArrayLike<number>): number => Array.from(xs).reduce((a, b) => a + b, 0) / xs.length
const column = (p: D.Points, axis: 0 | 1): number[] => Array.from({ length: D.count(p) }, (_, i) => p.x[2 * i + axis]!)

// ================================================================ datasets

describe('datasets', () => {
  it.each(datasetNames)('%s: the same seed gives the same points, another seed other points', (name) => {
    const a = D.generate(name, { seed: 7, points: 200, noise: 0.1 })
    const b = D.generate(name, { seed: 7, points: 200, noise: 0.1 })
    const c = D.generate(name, { seed: 8, points: 200, noise: 0.1 })
    expect(a.x).toEqual(b.x)
    expect(a.labels).toEqual(b.labels)
    expect(a.x).not.toEqual(c.x)
  })

  it.each(classificationDatasets)('%s: the requested number of points, both classes, neither below 35%%', (name) => {
    const p = D.generate(name, { seed: 1, points: 400, noise: 0.1 })
    expect(D.count(p)).toBe(400)
    expect(p.x.length).toBe(800)
    expect(Array.from(p.labels).every((l) => l === 0 || l === 1)).toBe(true)
    const blue = mean(p.labels)
    expect(blue).toBeGreaterThan(0.35)
    expect(blue).toBeLessThan(0.65)
  })

  it.each(regressionDatasets)('%s: the requested number of points, spread over [−1, 1]², targets in [−1, 1] on both signs', (name) => {
    const p = D.generate(name, { seed: 1, points: 400, noise: 0.1 })
    expect(D.count(p)).toBe(400)
    expect(Array.from(p.x).every((v) => v >= -1 && v <= 1)).toBe(true)
    expect(Array.from(p.labels).every((t) => t >= -1 && t <= 1)).toBe(true)
    expect(Array.from(p.labels).filter((t) => t > 0.2).length).toBeGreaterThan(20)
    expect(Array.from(p.labels).filter((t) => t < -0.2).length).toBeGreaterThan(20)
  })

  it('without noise the regression targets are their formulas: the plane (x + y)/2, the six bumps of height ±1 and radius 1/3', () => {
    const plane = D.generate('plane', { seed: 3, points: 200, noise: 0 })
    Array.from(plane.labels).forEach((t, i) => expect(t).toBe((plane.x[2 * i]! + plane.x[2 * i + 1]!) / 2))
    // playground.tensorflow.org's centres (±4, ±2.5), (0, ±2.5) and signs, in its units of 1/6
    const centres = [[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]] as const
    for (const [cx, cy, sign] of centres) {
      expect(D.gaussiansTarget(cx / 6, cy / 6)).toBe(sign)
      expect(D.gaussiansTarget(cx / 6 + 1 / 6, cy / 6)).toBeCloseTo(sign * 0.5, 12) // half-way down at distance 1/6
    }
    expect(D.gaussiansTarget(0, 0)).toBe(0) // farther than 1/3 from every centre
    const bumps = D.generate('gaussians', { seed: 3, points: 300, noise: 0 })
    Array.from(bumps.labels).forEach((t, i) => {
      const [x, y] = [bumps.x[2 * i]!, bumps.x[2 * i + 1]!]
      const nearest = centres.reduce((best, [cx, cy, sign]) => {
        const v = sign * Math.max(0, 1 - 3 * Math.hypot(x - cx / 6, y - cy / 6))
        return Math.abs(v) > Math.abs(best) ? v : best
      }, 0)
      expect(t).toBe(nearest)
    })
  })

  it('regression noise moves where a target is read, not the point: the same points, other targets', () => {
    const clean = D.generate('plane', { seed: 4, points: 500, noise: 0 })
    const noisy = D.generate('plane', { seed: 4, points: 500, noise: 0.2 })
    expect(noisy.x).toEqual(clean.x)
    // (x + dx + y + dy)/2 − (x + y)/2 = (dx + dy)/2 has standard deviation 0.2/√2
    const d = Array.from(noisy.labels, (t, i) => t - clean.labels[i]!)
    const sd = Math.sqrt(mean(d.map((v) => v * v)))
    expect(Math.abs(sd - 0.2 / Math.SQRT2)).toBeLessThan(0.015)
  })

  it('without noise the labels follow the definitions: XOR by quadrant, circles by radius, blobs by centre', () => {
    const xor = D.generate('xor', { seed: 2, points: 300, noise: 0 })
    expect(Array.from(xor.labels).every((l, i) => l === (xor.x[2 * i]! * xor.x[2 * i + 1]! > 0 ? 1 : 0))).toBe(true)
    const circles = D.generate('circles', { seed: 2, points: 300, noise: 0 })
    expect(Array.from(circles.labels).every((l, i) => l === (Math.hypot(circles.x[2 * i]!, circles.x[2 * i + 1]!) < 0.6 ? 1 : 0))).toBe(true)
    const spirals = D.generate('spirals', { seed: 2, points: 300, noise: 0 })
    expect(Array.from({ length: 300 }, (_, i) => Math.hypot(spirals.x[2 * i]!, spirals.x[2 * i + 1]!)).every((r) => r >= 0.05 && r <= 1)).toBe(true)
    const blobs = D.generate('blobs', { seed: 2, points: 2000, noise: 0 })
    const blue = D.take(blobs, Array.from(blobs.labels).flatMap((l, i) => (l === 1 ? [i] : [])))
    const orange = D.take(blobs, Array.from(blobs.labels).flatMap((l, i) => (l === 0 ? [i] : [])))
    for (const axis of [0, 1] as const) {
      expect(Math.abs(mean(column(blue, axis)) - 0.45)).toBeLessThan(0.03)
      expect(Math.abs(mean(column(orange, axis)) + 0.45)).toBeLessThan(0.03)
    }
  })

  it('noise is Gaussian jitter of the given standard deviation on the same points', () => {
    const clean = D.generate('circles', { seed: 3, points: 2000, noise: 0 })
    const noisy = D.generate('circles', { seed: 3, points: 2000, noise: 0.2 })
    expect(noisy.labels).toEqual(clean.labels)
    const d = Array.from(noisy.x, (v, k) => v - clean.x[k]!)
    const m = mean(d)
    const sd = Math.sqrt(mean(d.map((v) => (v - m) ** 2)))
    expect(Math.abs(m)).toBeLessThan(0.02)
    expect(Math.abs(sd - 0.2)).toBeLessThan(0.02)
  })

  it('the features are their formulas, column by column, in the order asked for', () => {
    const points = Float64Array.from([0.5, -1, -0.25, 2])
    const formulas: Readonly<Record<FeatureName, (a: number, b: number) => number>> = {
      x1: (a) => a, x2: (_, b) => b, x1sq: (a) => a ** 2, x2sq: (_, b) => b ** 2, x1x2: (a, b) => a * b, sinx1: (a) => Math.sin(a), sinx2: (_, b) => Math.sin(b)
    }
    const order: FeatureName[] = ['sinx2', 'x1', 'x1x2', 'x2sq', 'x2', 'sinx1', 'x1sq']
    const m = F.matrix(points, order)
    expect(m.length).toBe(2 * 7)
    for (let i = 0; i < 2; i++) order.forEach((f, k) => expect(m[i * 7 + k]).toBe(formulas[f](points[2 * i]!, points[2 * i + 1]!)))
    const x = D.inputs({ x: points }, ['x1', 'sinx1'], 'f32')
    expect([x.shape, x.dtype]).toEqual([[2, 2], 'f32'])
  })

  it('the split is seeded, disjoint, covers every point, and has the requested share', () => {
    const p = D.generate('spirals', { seed: 4, points: 101, noise: 0.1 })
    const s = D.split(p, 0.3, 4)
    expect(D.count(s.train)).toBe(30)
    expect(D.count(s.test)).toBe(71)
    const key = (q: D.Points, i: number) => `${q.x[2 * i]},${q.x[2 * i + 1]},${q.labels[i]}`
    const all = (q: D.Points) => Array.from({ length: D.count(q) }, (_, i) => key(q, i))
    expect([...all(s.train), ...all(s.test)].sort()).toEqual(all(p).sort())
    expect(D.split(p, 0.3, 4)).toEqual(s)
    expect(D.split(p, 0.3, 5).train.x).not.toEqual(s.train.x)
  })
})

// ================================================================ URL

const configs: fc.Arbitrary<Config> = fc.record({
  dataset: fc.constantFrom(...datasetNames),
  seed: fc.integer({ min: limits.seed[0], max: limits.seed[1] }),
  points: fc.integer({ min: limits.points[0], max: limits.points[1] }),
  noise: fc.double({ min: limits.noise[0], max: limits.noise[1], noNaN: true }),
  split: fc.double({ min: limits.split[0], max: limits.split[1], noNaN: true }),
  features: fc.shuffledSubarray([...featureNames], { minLength: 1 }),
  hidden: fc.array(fc.integer({ min: limits.units[0], max: limits.units[1] }), { maxLength: limits.layers[1] }),
  activation: fc.constantFrom(...activationNames),
  lr: fc.double({ min: limits.lr[0], max: limits.lr[1], noNaN: true }),
  batch: fc.integer({ min: limits.batch[0], max: limits.batch[1] }),
  optimizer: fc.constantFrom(...optimizerNames),
  regularization: fc.constantFrom(...regularizationNames),
  rate: fc.double({ min: limits.rate[0], max: limits.rate[1], noNaN: true }),
  discretize: fc.boolean(),
  backend: fc.constantFrom(...backendChoices)
})

describe('the URL holds the configuration', () => {
  it('every configuration survives toQuery then fromQuery exactly, with no error', () => {
    fc.assert(
      fc.property(configs, (c) => {
        const back = fromQuery(`?${toQuery(c)}`)
        return back.error === undefined && JSON.stringify(back.config) === JSON.stringify(c) && Object.is(back.config.noise, c.noise)
      }),
      { numRuns: 300 }
    )
  })

  it('an empty query gives the defaults; a partial one keeps what it names', () => {
    expect(fromQuery('')).toEqual({ config: defaults })
    expect(fromQuery('?dataset=xor&hidden=3').config).toEqual({ ...defaults, dataset: 'xor', hidden: [3] })
    expect(fromQuery('?hidden=').config.hidden).toEqual([])
  })

  it('bad fields are named with what was expected, and only they fall back to their defaults', () => {
    const { config, error } = fromQuery('?dataset=xor&hidden=8,40&lr=abc&colour=red&optimizer=rmsprop')
    expect(error?.message.split('\n')).toEqual([
      'URL: 4 problems',
      '  colour: expected no such key (playground config keys: dataset, seed, points, noise, split, features, hidden, activation, lr, batch, optimizer, regularization, rate, discretize, backend), got "red"',
      '  hidden[1]: expected integer in 1…16, got 40',
      '  lr: expected number in 0.00001…10, got "abc"',
      '  optimizer: expected one of "sgd", "momentum", "adam", got "rmsprop"'
    ])
    expect(config).toEqual({ ...defaults, dataset: 'xor' })
  })

  it('features are a non-empty list of known features without repeats; discretize is true or false', () => {
    expect(fromQuery('?features=x1x2,sinx1').config.features).toEqual(['x1x2', 'sinx1'])
    const bad = fromQuery('?features=x1,cosx1&discretize=yes')
    expect(bad.error?.message.split('\n')).toEqual([
      'URL: 2 problems',
      '  features[1]: expected one of "x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2", got "cosx1"',
      '  discretize: expected boolean, got "yes"'
    ])
    expect(bad.config).toEqual(defaults)
    expect(fromQuery('?features=').error?.message).toBe('URL: features: expected list of features with at least 1 item, got []')
    expect(fromQuery('?features=x2,x2').error?.message).toBe('URL: features: expected features without repeats, got ["x2","x2"]')
    expect(fromQuery('?discretize=true').config.discretize).toBe(true)
  })

  it('links from before L1 and the cpu default still open: l2=λ is L2 at rate λ (none at 0), backend=auto the default', () => {
    expect(fromQuery('?l2=0.003&backend=auto')).toEqual({ config: { ...defaults, regularization: 'l2', rate: 0.003, backend: defaults.backend } })
    expect(fromQuery('?l2=0').config).toEqual({ ...defaults, regularization: 'none', rate: 0 })
    // a link that names the new keys wins, and a stray l2 is then an unknown key
    expect(fromQuery('?l2=0.1&regularization=l1&rate=0.01').error?.failures.map((f) => f.path)).toEqual(['l2'])
  })

  it('each dataset belongs to one problem type', () => {
    expect(datasetNames.map(problemOf)).toEqual(['classification', 'classification', 'classification', 'classification', 'regression', 'regression'])
  })

  it('too many hidden layers is one failure at hidden', () => {
    const { config, error } = fromQuery('?hidden=1,1,1,1,1,1,1&seed=5')
    expect(error?.message).toBe('URL: hidden: expected at most 6 hidden layers, got [1,1,1,1,1,1,1]')
    expect(config).toEqual({ ...defaults, seed: 5 })
  })

  it('a __proto__ key is rejected, and pollutes nothing', () => {
    const { config, error } = fromQuery('?__proto__=x&seed=2')
    expect(error?.failures[0]?.path).toBe('__proto__')
    expect(config.seed).toBe(2)
    expect(({} as Record<string, unknown>)['x']).toBeUndefined()
  })
})

// ================================================================ model

describe('the model builder', () => {
  it('builds dense layers of the chosen widths with the activation between them, one input per feature', () => {
    const net = M.build({ hidden: [5, 3], activation: 'relu', features: ['x1', 'x2'] })
    expect(net.widths).toEqual([2, 5, 3, 1])
    expect(M.build({ hidden: [4], activation: 'relu', features: ['x1', 'x1sq', 'sinx2'] }).widths).toEqual([3, 4, 1])
    expect(net.layers.map((l) => l.kind)).toEqual(['dense', 'relu', 'dense', 'relu', 'dense'])
    const params = net.model.init(Random.key(0))
    expect([0, 1, 2].map((k) => [M.dense(params, k).w.shape, M.dense(params, k).b.shape])).toEqual([
      [[2, 5], [5]],
      [[5, 3], [3]],
      [[3, 1], [1]]
    ])
    expect(Layer.apply(net.model, params, fromBuffer(new Float64Array(14), [7, 2])).shape).toEqual([7, 1])
  })

  it('no hidden layer is logistic regression: one dense layer 2 → 1', () => {
    const net = M.build({ hidden: [], activation: 'tanh', features: ['x1', 'x2'] })
    expect(net.layers.map((l) => l.kind)).toEqual(['dense'])
    expect(M.dense(net.model.init(Random.key(1)), 0).w.shape).toEqual([2, 1])
  })

  it.each(activationNames)('%s: its spec builds the same model, with the same weights from the same key', (activation) => {
    const net = M.build({ hidden: [4, 4], activation, features: ['x1', 'x2'] })
    const built = Spec.build(net.spec)
    expect(E.isRight(built)).toBe(true)
    if (E.isLeft(built)) return
    const ours = net.model.init(Random.key(9))
    const theirs = built.right.model.init(Random.key(9))
    expect(theirs.layers.map((p) => Object.values(p as object).map((t: Tensor) => Array.from(t.data)))).toEqual(
      ours.layers.map((p) => Object.values(p as object).map((t: Tensor) => Array.from(t.data)))
    )
    const x = tensor([[0.3, -0.7], [1, 0.2]])
    expect(Layer.apply(built.right.model, theirs, x).toArray()).toEqual(Layer.apply(net.model, ours, x).toArray())
  })

  it('the objective is the mean binary cross-entropy plus λ/2 Σ w² (L2) or λ Σ |w| (L1) over the weights, not the biases', () => {
    const net = M.build({ hidden: [3], activation: 'tanh', features: ['x1', 'x2'] })
    const params = net.model.init(Random.key(2))
    const batch = { x: tensor([[0.5, -1], [0.2, 0.4], [-0.3, 0.9]]), labels: Float64Array.from([1, 0, 1]) }
    const z = Array.from(M.logits(net, params, batch.x).data)
    const bce = mean(z.map((zi, i) => Math.max(zi, 0) + Math.log1p(Math.exp(-Math.abs(zi))) - batch.labels[i]! * zi))
    const weights = [0, 1].flatMap((k) => Array.from(M.dense(params, k).w.data))
    const squares = weights.reduce((a, w) => a + w * w, 0)
    const absolutes = weights.reduce((a, w) => a + Math.abs(w), 0)
    expect(M.objective(net, params, batch, classify('none', 0.3)).item()).toBeCloseTo(bce, 14)
    expect(M.objective(net, params, batch, classify('l2', 0)).item()).toBeCloseTo(bce, 14)
    expect(M.objective(net, params, batch, classify('l2', 0.3)).item()).toBeCloseTo(bce + 0.15 * squares, 14)
    expect(M.objective(net, params, batch, classify('l1', 0.3)).item()).toBeCloseTo(bce + 0.3 * absolutes, 14)
  })

  it('for regression the objective is the mean squared error of the output against the targets, plus the penalty', () => {
    const net = M.build({ hidden: [3], activation: 'relu', features: ['x1', 'x2', 'x1x2'] })
    const params = net.model.init(Random.key(5))
    const batch = { x: tensor([[0.5, -1, -0.5], [0.2, 0.4, 0.08], [-0.3, 0.9, -0.27]]), labels: Float64Array.from([0.25, -0.7, 0.1]) }
    const z = Array.from(M.logits(net, params, batch.x).data)
    const mse = mean(z.map((zi, i) => (zi - batch.labels[i]!) ** 2))
    const absolutes = [0, 1].flatMap((k) => Array.from(M.dense(params, k).w.data)).reduce((a, w) => a + Math.abs(w), 0)
    expect(M.objective(net, params, batch, { problem: 'regression', regularization: 'none', rate: 0 }).item()).toBeCloseTo(mse, 14)
    expect(M.objective(net, params, batch, { problem: 'regression', regularization: 'l1', rate: 0.01 }).item()).toBeCloseTo(mse + 0.01 * absolutes, 14)
  })
})

// ================================================================ training

const xorConfig: Config = { ...defaults, dataset: 'xor', hidden: [8], activation: 'tanh', lr: 0.05, batch: 16, optimizer: 'adam', backend: 'cpu' }
const accuracyOf = (s: T.Session): number => T.evaluate(s).testAccuracy

describe('training', () => {
  it('minibatches have a fixed size, and one epoch visits each training point at most once', () => {
    const s = T.create({ ...xorConfig, points: 100, split: 0.5, batch: 16 })
    const epoch = [0, 1, 2].flatMap((k) => Array.from(T.batchIndices(s, k)))
    expect([0, 1, 2].map((k) => T.batchIndices(s, k).length)).toEqual([16, 16, 16])
    expect(new Set(epoch).size).toBe(48)
    expect(epoch.every((i) => i >= 0 && i < 50)).toBe(true)
    expect(Array.from(T.batchIndices(s, 3))).not.toEqual(Array.from(T.batchIndices(s, 0))) // epoch 2, another order
    expect(T.batchSize(T.create({ ...xorConfig, points: 20, split: 0.5, batch: 64 }))).toBe(10)
  })

  it('the stacked minibatches of the compiled step are those of the eager steps, across an epoch boundary', () => {
    const s = { ...T.create({ ...xorConfig, points: 100, split: 0.5, batch: 16 }), step: 1 } // 3 steps per epoch: steps 1…4 cross into epoch 2
    const stacked = T.nextBatches(s, 4)
    expect(stacked.x.shape).toEqual([4, 16, 2])
    const xs = Array.from(stacked.x.data)
    for (let i = 0; i < 4; i++) {
      const eager = T.batchOf(s, T.batchIndices(s, 1 + i))
      expect(xs.slice(i * 32, (i + 1) * 32)).toEqual(Array.from(eager.x.data))
      expect(Array.from(stacked.labels.slice(i * 16, (i + 1) * 16))).toEqual(Array.from(eager.labels))
    }
  })

  it('a step applies the gradient of the current minibatch (SGD: θ − η ∇L)', () => {
    const s = T.create({ ...xorConfig, optimizer: 'sgd', lr: 0.5, regularization: 'l2', rate: 0.01 })
    const batch = T.currentBatch(s)
    const [, grads] = valueAndGrad((p: M.Params) => M.objective(s.network, p, batch, classify('l2', 0.01)))(s.params)
    const next = T.step(s)
    expect(next.step).toBe(1)
    for (const k of [0, 1]) {
      const expected = sub(M.dense(s.params, k).w, mul(M.dense(grads, k).w, 0.5))
      expect(Array.from(M.dense(next.params, k).w.data)).toEqual(Array.from(expected.data))
    }
  })

  it('learns XOR: 400 Adam steps take the test loss from about ln 2 to below 0.25', () => {
    let s = T.create(xorConfig)
    const before = T.evaluate(s).testLoss
    for (let i = 0; i < 400; i++) s = T.step(s)
    const after = T.evaluate(s)
    expect(before).toBeGreaterThan(0.6)
    expect(after.testLoss).toBeLessThan(0.25)
    expect(after.testAccuracy).toBeGreaterThan(0.9)
  })

  it('the cpu32 backend trains in float32 from the same start: its first steps follow float64 within float32 rounding', () => {
    let a = T.create(xorConfig)
    let b = T.create({ ...xorConfig, backend: 'cpu32' })
    expect([a.dtype, b.dtype, b.trainX.dtype]).toEqual(['f64', 'f32', 'f32'])
    for (let i = 0; i < 5; i++) [a, b] = [T.step(a), T.step(b)]
    const wa = M.dense(a.params, 0).w.data
    const wb = M.dense(T.params64(b), 0).w.data
    expect(M.dense(b.params, 0).w.dtype).toBe('f32')
    const largest = Math.max(...Array.from(wa, (v, i) => Math.abs(v - wb[i]!)))
    expect(largest).toBeGreaterThan(0) // another precision, another rounding
    expect(largest).toBeLessThan(1e-5)
  })

  it('features make spirals learnable with a small net: 2-6-1 on x₁, x₂ stays below 75% test accuracy, on all seven features it passes 90%', () => {
    const spirals = (features: FeatureName[]): Config => ({ ...defaults, dataset: 'spirals', noise: 0.05, features, hidden: [6], backend: 'cpu' })
    const train = (c: Config): T.Session => {
      let s = T.create(c)
      for (let i = 0; i < 2000; i++) s = T.step(s)
      return s
    }
    expect(accuracyOf(train(spirals(['x1', 'x2'])))).toBeLessThan(0.75)
    expect(accuracyOf(train(spirals([...featureNames])))).toBeGreaterThan(0.9)
  }, 30_000)

  it('learns the plane: linear regression (no hidden layer) drives the test MSE near the noise floor', () => {
    const c: Config = { ...defaults, dataset: 'plane', noise: 0, hidden: [], lr: 0.03 }
    let s = T.create(c)
    const before = T.evaluate(s)
    for (let i = 0; i < 600; i++) s = T.step(s)
    const after = T.evaluate(s)
    expect(Number.isNaN(after.testAccuracy)).toBe(true) // no accuracy for regression
    expect(before.testLoss).toBeGreaterThan(0.05)
    expect(after.testLoss).toBeLessThan(1e-4)
    // the fitted plane is (x₁ + x₂)/2
    const { w, b } = M.dense(s.params, 0)
    expect(Array.from(w.data).map((v) => Math.abs(v - 0.5) < 0.01)).toEqual([true, true])
    expect(Math.abs(b.item())).toBeLessThan(0.01)
  })
})

// ================================================================ inspector

describe('the inspector', () => {
  const config: Config = { ...xorConfig, hidden: [4, 3], regularization: 'l2', rate: 0.02 }
  let trained = T.create(config)
  for (let i = 0; i < 30; i++) trained = T.step(trained)
  const batch = T.currentBatch(trained)

  it('a weight’s adjoint is the entry of valueAndGrad’s gradient, and the trace ends at the loss', () => {
    const target = { kind: 'weight', layer: 1, from: 2, to: 1 } as const
    const got = I.inspect(trained.network, trained.params, batch, trained.terms, target)
    const { loss, grads } = T.gradient(trained, batch)
    const g = M.dense(grads, 1).w
    expect(got.label).toBe('W²[3→2]')
    expect(got.value.item()).toBe(M.dense(trained.params, 1).w.data[2 * 3 + 1])
    expect(got.adjoint.item()).toBeCloseTo(g.data[2 * 3 + 1]!, 14)
    expect(got.loss).toBeCloseTo(loss, 14)
    expect(got.trace.adjoints.length).toBeGreaterThan(5)
  })

  it('a weight’s adjoint matches a central difference of the objective, and checkGradient says so', () => {
    const target = { kind: 'weight', layer: 0, from: 1, to: 3 } as const
    const got = I.inspect(trained.network, trained.params, batch, trained.terms, target)
    const f = I.objectiveOfParameter(trained.network, trained.params, batch, trained.terms, target)
    const w = got.value.item()
    const h = 1e-5
    const central = (f(tensor(w + h)).item() - f(tensor(w - h)).item()) / (2 * h)
    expect(Math.abs(got.adjoint.item() - central)).toBeLessThan(1e-8)
    const check = I.checkGradient(trained.network, trained.params, batch, trained.terms, target, got.adjoint.item())
    expect(check.relativeDifference).toBeLessThan(1e-8)
    expect(check.estimate).toBeCloseTo(central, 8)
  })

  it('a unit’s adjoint, one per example, matches a central difference in that example’s output', () => {
    const target = { kind: 'unit', layer: 0, unit: 2 } as const
    const got = I.inspect(trained.network, trained.params, batch, trained.terms, target)
    expect(got.label).toBe('h¹₃')
    expect(got.value.shape).toEqual([batch.labels.length])
    const outputs = M.forwardAll(trained.network, trained.params, batch.x)
    const h0 = outputs[1]!
    const example = 5
    const bump = (delta: number) => {
      const data = Float64Array.from(h0.data)
      data[example * 4 + 2] = data[example * 4 + 2]! + delta
      return M.objectiveFrom(trained.network, trained.params, batch, trained.terms, 2, fromBuffer(data, [batch.labels.length, 4])).item()
    }
    const h = 1e-5
    expect(got.value.data[example]).toBe(h0.data[example * 4 + 2])
    expect(Math.abs(got.adjoint.data[example]! - (bump(h) - bump(-h)) / (2 * h))).toBeLessThan(1e-8)
  })

  it('a bias’s adjoint is the entry of valueAndGrad’s gradient, matches a central difference, and checkGradient says so', () => {
    const target = { kind: 'bias', layer: 1, unit: 2 } as const
    const got = I.inspect(trained.network, trained.params, batch, trained.terms, target)
    const { loss, grads } = T.gradient(trained, batch)
    expect(got.label).toBe('b²₃')
    expect(got.value.item()).toBe(M.dense(trained.params, 1).b.data[2])
    expect(got.adjoint.item()).toBeCloseTo(M.dense(grads, 1).b.data[2]!, 14)
    expect(got.loss).toBeCloseTo(loss, 14)
    const f = I.objectiveOfParameter(trained.network, trained.params, batch, trained.terms, target)
    const b = got.value.item()
    const h = 1e-5
    const central = (f(tensor(b + h)).item() - f(tensor(b - h)).item()) / (2 * h)
    expect(Math.abs(central)).toBeGreaterThan(1e-6)
    expect(Math.abs(got.adjoint.item() - central)).toBeLessThan(1e-8)
    const check = I.checkGradient(trained.network, trained.params, batch, trained.terms, target, got.adjoint.item())
    expect(check.relativeDifference).toBeLessThan(1e-8)
    expect(check.estimate).toBeCloseTo(central, 8)
  })

  it('an input’s adjoint, one per example, matches a central difference in that example’s coordinate', () => {
    const target = { kind: 'input', unit: 1 } as const
    const got = I.inspect(trained.network, trained.params, batch, trained.terms, target)
    const n = batch.labels.length
    expect(got.label).toBe('x₂')
    expect(got.value.shape).toEqual([n])
    const example = 3
    const bump = (delta: number) => {
      const data = Float64Array.from(batch.x.data)
      data[example * 2 + 1] = data[example * 2 + 1]! + delta
      return M.objective(trained.network, trained.params, { ...batch, x: fromBuffer(data, [n, 2]) }, trained.terms).item()
    }
    const h = 1e-5
    expect(got.value.data[example]).toBe(batch.x.data[example * 2 + 1])
    const central = (bump(h) - bump(-h)) / (2 * h)
    expect(Math.abs(central)).toBeGreaterThan(1e-6)
    expect(Math.abs(got.adjoint.data[example]! - central)).toBeLessThan(1e-8)
  })

  it('the output’s adjoint is (σ(z) − y)/B per example, the derivative of the mean cross-entropy', () => {
    const got = I.inspect(trained.network, trained.params, batch, trained.terms, { kind: 'output' })
    const z = M.logits(trained.network, trained.params, batch.x).data
    const n = batch.labels.length
    expect(got.label).toBe('z')
    expect(Array.from(got.value.data)).toEqual(Array.from(z))
    const want = Array.from(z, (zi, k) => (1 / (1 + Math.exp(-zi)) - batch.labels[k]!) / n)
    Array.from(got.adjoint.data).forEach((a, k) => expect(a).toBeCloseTo(want[k]!, 14))
    expect(got.loss).toBeCloseTo(T.gradient(trained, batch).loss, 14)
  })

  it('names a target that is not in the network', () => {
    const t = trained.terms
    expect(() => I.inspect(trained.network, trained.params, batch, t, { kind: 'weight', layer: 0, from: 2, to: 0 })).toThrow('no weight W¹[3→1] in a 2-4-3-1 network')
    expect(() => I.inspect(trained.network, trained.params, batch, t, { kind: 'unit', layer: 2, unit: 0 })).toThrow('no hidden unit h³₁ in a 2-4-3-1 network')
    expect(() => I.inspect(trained.network, trained.params, batch, t, { kind: 'bias', layer: 2, unit: 1 })).toThrow('no bias b³₂ in a 2-4-3-1 network')
    expect(() => I.inspect(trained.network, trained.params, batch, t, { kind: 'input', unit: 2 })).toThrow('no input x₃ in a 2-4-3-1 network')
  })

  it('for regression the output’s adjoint is 2(z − y)/B per example, the derivative of the mean squared error', () => {
    let s = T.create({ ...config, dataset: 'gaussians', regularization: 'l1', rate: 0.01 })
    for (let i = 0; i < 10; i++) s = T.step(s)
    const b = T.currentBatch(s)
    const got = I.inspect(s.network, s.params, b, s.terms, { kind: 'output' })
    const z = M.logits(s.network, s.params, b.x).data
    const n = b.labels.length
    Array.from(got.adjoint.data).forEach((a, k) => expect(a).toBeCloseTo((2 * (z[k]! - b.labels[k]!)) / n, 14))
  })

  it('an L1 weight’s adjoint adds λ·sign(w) to the data term’s: the difference between λ and no penalty is exactly that', () => {
    const target = { kind: 'weight', layer: 1, from: 0, to: 2 } as const
    const plain = I.inspect(trained.network, trained.params, batch, { ...trained.terms, regularization: 'none' }, target)
    const l1 = I.inspect(trained.network, trained.params, batch, { ...trained.terms, regularization: 'l1', rate: 0.05 }, target)
    expect(l1.adjoint.item() - plain.adjoint.item()).toBeCloseTo(0.05 * Math.sign(plain.value.item()), 14)
  })

  it('a feature’s weight: with features x₁, x₁², sin x₂ the inspector names them and its adjoint matches a central difference in that weight', () => {
    const features: FeatureName[] = ['x1', 'x1sq', 'sinx2']
    let s = T.create({ ...config, features })
    for (let i = 0; i < 5; i++) s = T.step(s)
    const b = T.currentBatch(s)
    const naming = { inputs: features.map((f) => F.featureLabels[f]) }
    const target = { kind: 'weight', layer: 0, from: 2, to: 1 } as const
    const got = I.inspect(s.network, s.params, b, s.terms, target, naming)
    expect(I.describeWeight(s.network.widths, target, got.value.item(), naming.inputs)).toBe(`weight from sin x₂ to h¹₂ (W¹[3→2]) = ${Number(got.value.item().toPrecision(4))}`)
    expect(I.label({ kind: 'input', unit: 1 }, naming.inputs)).toBe('x₁²')
    const f = I.objectiveOfParameter(s.network, s.params, b, s.terms, target)
    const w = got.value.item()
    const central = (f(tensor(w + 1e-5)).item() - f(tensor(w - 1e-5)).item()) / 2e-5
    expect(Math.abs(central)).toBeGreaterThan(1e-6)
    expect(Math.abs(got.adjoint.item() - central)).toBeLessThan(1e-8)
  })

  it('a weight set by hand is that weight, the others unchanged, in the parameters’ own precision', () => {
    const target = { kind: 'weight', layer: 1, from: 3, to: 0 } as const
    const edited = I.withParameter(trained.params, target, 1.25)
    expect(I.parameterValue(edited, target)).toBe(1.25)
    const before = M.dense(trained.params, 1).w.toArray() as number[][]
    const after = M.dense(edited, 1).w.toArray() as number[][]
    before[3]![0] = 1.25
    expect(after).toEqual(before)
    expect(M.dense(edited, 0).w).toBe(M.dense(trained.params, 0).w)
    const f32 = T.create({ ...config, backend: 'cpu32' })
    expect(M.dense(I.withParameter(f32.params, { kind: 'bias', layer: 0, unit: 1 }, 0.5), 0).b.dtype).toBe('f32')
    expect(() => I.withParameter(trained.params, target, NaN)).toThrow('W²[4→1] must be a finite number, got NaN')
  })
})

// ================================================================ the readable trace

/**
 * The symbols a text uses that the legend does not explain: the legend's symbols (longest
 * first) are removed, the rest is split at operators and brackets, and what remains must be
 * a number or a row name (vᵢ, v̄ᵢ, explained by the legend's vᵢ and v̄ᵢ). A trailing power
 * (tanh², v₅²) is the legend's x².
 */
const unexplained = (r: I.Inspection): string[] => {
  const symbols = r.readable.legend.map((l) => l.symbol).sort((a, b) => b.length - a.length)
  const texts = [...r.readable.forward.map((f) => f.expression), ...r.readable.backward.flatMap((b) => [b.rule, b.formula])]
  return texts.flatMap((text) => {
    let rest = text
    for (const symbol of symbols) rest = rest.split(symbol).join(' ')
    return rest
      .split(/[\s,()+−\-×·/[\]=:→<>|]+/)
      .map((token) => token.replace(/[⁰¹²³⁴⁵⁶⁷⁸⁹]+$/, ''))
      .filter((token) => token !== '' && !/^\d+(\.\d+)?(e[+-]?\d+)?$/.test(token) && !/^v\u0304?[₋₀-₉]+$/.test(token))
      .map((token) => `${token} in «${text}»`)
  })
}

describe('the readable trace', () => {
  const targets: I.Target[] = [
    { kind: 'weight', layer: 0, from: 1, to: 2 },
    { kind: 'weight', layer: 1, from: 0, to: 1 },
    { kind: 'weight', layer: 2, from: 1, to: 0 },
    { kind: 'bias', layer: 0, unit: 1 },
    { kind: 'bias', layer: 2, unit: 0 },
    { kind: 'unit', layer: 1, unit: 1 },
    { kind: 'input', unit: 2 },
    { kind: 'output' }
  ]
  const cases = (['xor', 'plane'] as const).flatMap((dataset) =>
    activationNames.flatMap((activation) => (['none', 'l1', 'l2'] as const).map((regularization) => ({ dataset, activation, regularization })))
  )

  it.each(cases)('$dataset, $activation, $regularization: no bookkeeping rows, every constant named, every symbol in the legend, and the adjoint as valueAndGrad’s', ({ dataset, activation, regularization }) => {
    const features: FeatureName[] = ['x1', 'x2', 'sinx1']
    let s = T.create({ ...defaults, dataset, activation, regularization, rate: 0.003, hidden: [4, 3], features, backend: 'cpu' })
    for (let i = 0; i < 3; i++) s = T.step(s)
    const b = T.currentBatch(s)
    const { grads } = T.gradient(s, b)
    for (const target of targets) {
      const r = I.inspect(s.network, s.params, b, s.terms, target, { inputs: features.map((f) => F.featureLabels[f]) })
      const { forward, backward, legend } = r.readable
      expect(unexplained(r), r.label).toEqual([])
      // no constant left unnamed (C₁, c[16, 1]) and no row that changes nothing (0 + v, v × 1)
      expect(legend.filter((l) => /^C[₁-₉]/.test(l.symbol)).map((l) => l.meaning), r.label).toEqual([])
      expect(forward.filter((f) => /c\[|^0 \+ |\+ 0$| × 1$|^1 × /.test(f.expression)).map((f) => f.expression), r.label).toEqual([])
      // every symbol the legend lists is used
      const text = [...forward.map((f) => f.expression), ...backward.flatMap((x) => [x.name, x.rule, x.formula])].join('\n')
      for (const { symbol } of legend) {
        if (['vᵢ', 'v̄ᵢ', '‖·‖', 'x²', 'L', 'L̄', '|v|'].includes(symbol) || /^\[/.test(symbol)) continue
        expect(text.includes(symbol), `${r.label}: legend symbol ${symbol}`).toBe(true)
      }
      // the rows still compute the objective, and the sweep still ends at the gradient
      expect(forward[forward.length - 1]!.value.item()).toBeCloseTo(M.objective(s.network, s.params, b, s.terms).item(), 14)
      const last = backward[backward.length - 1]!.value
      if (I.isParameter(target)) expect(last.item()).toBeCloseTo(I.parameterValue(grads, target), 14)
      Array.from(last.data).forEach((v, k) => expect(v).toBe(r.adjoint.data[k]))
    }
  }, 30_000)

  it('inspects float32 parameters in float64: the same adjoint as from their float64 copies', () => {
    let s = T.create({ ...defaults, dataset: 'xor', hidden: [4], backend: 'cpu32' })
    for (let i = 0; i < 5; i++) s = T.step(s)
    const target = { kind: 'weight', layer: 0, from: 1, to: 3 } as const
    const direct = I.inspect(s.network, s.params, T.currentBatch(s, 'f64'), s.terms, target)
    const copied = I.inspect(s.network, T.params64(s), T.currentBatch(s, 'f64'), s.terms, target)
    expect(direct.adjoint.dtype).toBe('f64')
    expect(direct.adjoint.item()).toBe(copied.adjoint.item())
  })

  it('a weight’s masking rows fold into one row holding its matrix, and its adjoint is read from that row’s at its position', () => {
    const s = T.create({ ...defaults, dataset: 'xor', hidden: [4, 3], backend: 'cpu' })
    const b = T.currentBatch(s)
    const target = { kind: 'weight', layer: 1, from: 2, to: 1 } as const
    const r = I.inspect(s.network, s.params, b, s.terms, target)
    const f = r.readable.forward
    expect(f.map((x) => x.expression).slice(0, 4)).toEqual(['w', 'W² with w at [3→2]', 'H¹ · v₁', 'v₂ + b²'])
    expect(f[1]!.value.toArray()).toEqual(M.dense(s.params, 1).w.toArray())
    const back = r.readable.backward
    const pick = back[back.length - 2]!
    expect([pick.name, pick.rule, pick.formula]).toEqual(['v̄₀', 'v̄₁ ∂v₁/∂v₀', 'v̄₁[3→2]'])
    const matrix = back.filter((x) => x.name === 'v̄₁').at(-1)!.value.toArray() as number[][]
    expect(pick.value.item()).toBe(matrix[2]![1])
  })
})

// ================================================================ files

describe('saved weights', () => {
  it('load(save(…)) gives back the configuration, the parameters and the step', () => {
    const config: Config = { ...defaults, dataset: 'spirals', hidden: [6, 5], activation: 'gelu', seed: 12, features: ['x1', 'x2', 'x1x2', 'sinx2'], regularization: 'l1', rate: 0.01, backend: 'cpu' }
    let s = T.create(config)
    s = T.step(T.step(s))
    const loaded = Ck.load(Ck.save(s.config, s.network, s.params, s.step))
    expect(E.isRight(loaded)).toBe(true)
    if (E.isLeft(loaded)) return
    expect(loaded.right.config).toEqual(config)
    expect(loaded.right.step).toBe(2)
    for (const k of [0, 1, 2]) {
      expect(M.dense(loaded.right.params, k).w.toArray()).toEqual(M.dense(s.params, k).w.toArray())
      expect(M.dense(loaded.right.params, k).b.toArray()).toEqual(M.dense(s.params, k).b.toArray())
    }
  })

  it('a lamina model without the page’s settings is refused with a reason', () => {
    const net = M.build({ hidden: [2], activation: 'tanh', features: ['x1', 'x2'] })
    const bytes = Checkpoint.encode(net.spec, net.model.init(Random.key(0)), net.model.initState())
    const loaded = Ck.load(bytes)
    expect(E.isLeft(loaded) && loaded.left.message).toBe(
      'not a playground model: the file\'s metadata has no "playground" key (it holds a lamina model, but not the page\'s settings)'
    )
  })

  it('a file saved before features and L1 (its settings say "l2" and "backend": "auto") loads, as L2 on x₁, x₂', () => {
    const net = M.build({ hidden: [3], activation: 'tanh', features: ['x1', 'x2'] })
    const params = net.model.init(Random.key(4))
    const old = { dataset: 'xor', seed: 4, points: 200, noise: 0.1, split: 0.5, hidden: [3], activation: 'tanh', lr: 0.03, batch: 16, optimizer: 'adam', l2: 0.001, backend: 'auto' }
    const loaded = Ck.load(Checkpoint.encode(net.spec, params, net.model.initState(), { [Ck.CONFIG_KEY]: JSON.stringify(old), step: '7' }))
    const { l2, backend, ...same } = old
    expect([l2, backend]).toEqual([0.001, 'auto'])
    expect(E.isRight(loaded) && loaded.right.config).toEqual({ ...defaults, ...same, regularization: 'l2', rate: 0.001, backend: defaults.backend })
    expect(E.isRight(loaded) && loaded.right.step).toBe(7)
  })

  it('settings that describe another network than the file holds are refused', () => {
    const net = M.build({ hidden: [2], activation: 'tanh', features: ['x1', 'x2'] })
    const bytes = Checkpoint.encode(net.spec, net.model.init(Random.key(0)), net.model.initState(), {
      [Ck.CONFIG_KEY]: JSON.stringify({ ...defaults, hidden: [2], activation: 'relu' })
    })
    const loaded = Ck.load(bytes)
    expect(E.isLeft(loaded) && loaded.left.message).toMatch(/^the file's model spec .* is not the network its settings describe \(2-2-1, relu\)$/)
    const garbled = Checkpoint.encode(net.spec, net.model.init(Random.key(0)), net.model.initState(), { [Ck.CONFIG_KEY]: '{"hidden": [0]}' })
    const bad = Ck.load(garbled)
    expect(E.isLeft(bad) && bad.left.message).toContain('hidden[0]: expected integer in 1…16, got 0')
  })

})
