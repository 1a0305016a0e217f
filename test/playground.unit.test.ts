/**
 * The playground's data and settings (examples/playground/src), in Node: the datasets are a
 * function of their seed and match their definitions (the regression targets their formulas),
 * the features are their formulas, the URL codec round-trips every configuration and names bad
 * fields, the model builder gives the shapes the editor describes, the objective is the
 * cross-entropy or the mean squared error plus the L1 or L2 penalty, and a saved model loads
 * back. Training and the inspector are tested in playground.training.test.ts; the page itself
 * in a browser by playground.e2e.test.ts.
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Checkpoint, Layer, Random, Spec, fromBuffer, tensor } from 'lamina-nn'
import type { Tensor } from 'lamina-nn'
import * as Ck from '../examples/playground/src/checkpoint.js'
import {
  activationNames, backendChoices, classificationDatasets, datasetNames, defaults, featureNames, fromQuery, limits, optimizerNames, problemOf, regressionDatasets, regularizationNames, toQuery
} from '../examples/playground/src/config.js'
import type { Config, FeatureName } from '../examples/playground/src/config.js'
import * as D from '../examples/playground/src/datasets.js'
import * as F from '../examples/playground/src/features.js'
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
