/**
 * The playground's pure parts (examples/playground/src), in Node: the datasets are a function
 * of their seed and match their definitions, the URL codec round-trips every configuration and
 * names bad fields, the model builder gives the shapes the editor describes, training on XOR
 * learns, the inspector's adjoints (weights, biases, inputs, hidden units, the output) agree with
 * `valueAndGrad`, with finite differences or with the cross-entropy's derivative, and a
 * saved model loads back. The page itself is tested in a browser by playground.e2e.test.ts.
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Checkpoint, Layer, Random, Spec, fromBuffer, mul, sub, tensor, valueAndGrad } from 'lamina-nn'
import type { Tensor } from 'lamina-nn'
import * as Ck from '../examples/playground/src/checkpoint.js'
import { activationNames, backendChoices, datasetNames, defaults, fromQuery, limits, optimizerNames, toQuery } from '../examples/playground/src/config.js'
import type { Config } from '../examples/playground/src/config.js'
import * as D from '../examples/playground/src/datasets.js'
import * as I from '../examples/playground/src/inspect.js'
import * as M from '../examples/playground/src/model.js'
import * as T from '../examples/playground/src/trainer.js'

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

  it.each(datasetNames)('%s: the requested number of points, both classes, neither below 35%%', (name) => {
    const p = D.generate(name, { seed: 1, points: 400, noise: 0.1 })
    expect(D.count(p)).toBe(400)
    expect(p.x.length).toBe(800)
    expect(Array.from(p.labels).every((l) => l === 0 || l === 1)).toBe(true)
    const blue = mean(p.labels)
    expect(blue).toBeGreaterThan(0.35)
    expect(blue).toBeLessThan(0.65)
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
  hidden: fc.array(fc.integer({ min: limits.units[0], max: limits.units[1] }), { maxLength: limits.layers[1] }),
  activation: fc.constantFrom(...activationNames),
  lr: fc.double({ min: limits.lr[0], max: limits.lr[1], noNaN: true }),
  batch: fc.integer({ min: limits.batch[0], max: limits.batch[1] }),
  optimizer: fc.constantFrom(...optimizerNames),
  l2: fc.double({ min: limits.l2[0], max: limits.l2[1], noNaN: true }),
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
      '  colour: expected no such key (playground config keys: dataset, seed, points, noise, split, hidden, activation, lr, batch, optimizer, l2, backend), got "red"',
      '  hidden[1]: expected integer in 1…16, got 40',
      '  lr: expected number in 0.00001…10, got "abc"',
      '  optimizer: expected one of "sgd", "momentum", "adam", got "rmsprop"'
    ])
    expect(config).toEqual({ ...defaults, dataset: 'xor' })
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
  it('builds dense layers of the chosen widths with the activation between them', () => {
    const net = M.build({ hidden: [5, 3], activation: 'relu' })
    expect(net.widths).toEqual([2, 5, 3, 1])
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
    const net = M.build({ hidden: [], activation: 'tanh' })
    expect(net.layers.map((l) => l.kind)).toEqual(['dense'])
    expect(M.dense(net.model.init(Random.key(1)), 0).w.shape).toEqual([2, 1])
  })

  it.each(activationNames)('%s: its spec builds the same model, with the same weights from the same key', (activation) => {
    const net = M.build({ hidden: [4, 4], activation })
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

  it('the objective is the mean binary cross-entropy plus λ/2 Σ w² over the weights, not the biases', () => {
    const net = M.build({ hidden: [3], activation: 'tanh' })
    const params = net.model.init(Random.key(2))
    const batch = { x: tensor([[0.5, -1], [0.2, 0.4], [-0.3, 0.9]]), labels: Int32Array.from([1, 0, 1]) }
    const z = Array.from(M.logits(net, params, batch.x).data)
    const bce = mean(z.map((zi, i) => Math.max(zi, 0) + Math.log1p(Math.exp(-Math.abs(zi))) - batch.labels[i]! * zi))
    const squares = [0, 1].reduce((acc, k) => acc + Array.from(M.dense(params, k).w.data).reduce((a, w) => a + w * w, 0), 0)
    expect(M.objective(net, params, batch, 0).item()).toBeCloseTo(bce, 14)
    expect(M.objective(net, params, batch, 0.3).item()).toBeCloseTo(bce + 0.15 * squares, 14)
  })
})

// ================================================================ training

const xorConfig: Config = { ...defaults, dataset: 'xor', hidden: [8], activation: 'tanh', lr: 0.05, batch: 16, optimizer: 'adam', backend: 'cpu' }

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
    const s = T.create({ ...xorConfig, optimizer: 'sgd', lr: 0.5, l2: 0.01 })
    const batch = T.currentBatch(s)
    const [, grads] = valueAndGrad((p: M.Params) => M.objective(s.network, p, batch, 0.01))(s.params)
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
})

// ================================================================ inspector

describe('the inspector', () => {
  const config: Config = { ...xorConfig, hidden: [4, 3], l2: 0.02 }
  let trained = T.create(config)
  for (let i = 0; i < 30; i++) trained = T.step(trained)
  const batch = T.currentBatch(trained)

  it('a weight’s adjoint is the entry of valueAndGrad’s gradient, and the trace ends at the loss', () => {
    const target = { kind: 'weight', layer: 1, from: 2, to: 1 } as const
    const got = I.inspect(trained.network, trained.params, batch, config.l2, target)
    const { loss, grads } = T.gradient(trained, batch)
    const g = M.dense(grads, 1).w
    expect(got.label).toBe('W²[2→1]')
    expect(got.value.item()).toBe(M.dense(trained.params, 1).w.data[2 * 3 + 1])
    expect(got.adjoint.item()).toBeCloseTo(g.data[2 * 3 + 1]!, 14)
    expect(got.loss).toBeCloseTo(loss, 14)
    expect(got.trace.adjoints.length).toBeGreaterThan(5)
    expect(I.table(got)).toContain('Reverse adjoint trace')
  })

  it('a weight’s adjoint matches a central difference of the objective, and checkGradient says so', () => {
    const target = { kind: 'weight', layer: 0, from: 1, to: 3 } as const
    const got = I.inspect(trained.network, trained.params, batch, config.l2, target)
    const f = I.objectiveOfParameter(trained.network, trained.params, batch, config.l2, target)
    const w = got.value.item()
    const h = 1e-5
    const central = (f(tensor(w + h)).item() - f(tensor(w - h)).item()) / (2 * h)
    expect(Math.abs(got.adjoint.item() - central)).toBeLessThan(1e-8)
    const check = I.checkGradient(trained.network, trained.params, batch, config.l2, target, got.adjoint.item())
    expect(check.relativeDifference).toBeLessThan(1e-8)
    expect(check.estimate).toBeCloseTo(central, 8)
  })

  it('a unit’s adjoint, one per example, matches a central difference in that example’s output', () => {
    const target = { kind: 'unit', layer: 0, unit: 2 } as const
    const got = I.inspect(trained.network, trained.params, batch, config.l2, target)
    expect(got.label).toBe('h¹₂')
    expect(got.value.shape).toEqual([batch.labels.length])
    const outputs = M.forwardAll(trained.network, trained.params, batch.x)
    const h0 = outputs[1]!
    const example = 5
    const bump = (delta: number) => {
      const data = Float64Array.from(h0.data)
      data[example * 4 + 2] = data[example * 4 + 2]! + delta
      return M.objectiveFrom(trained.network, trained.params, batch, config.l2, 2, fromBuffer(data, [batch.labels.length, 4])).item()
    }
    const h = 1e-5
    expect(got.value.data[example]).toBe(h0.data[example * 4 + 2])
    expect(Math.abs(got.adjoint.data[example]! - (bump(h) - bump(-h)) / (2 * h))).toBeLessThan(1e-8)
  })

  it('a bias’s adjoint is the entry of valueAndGrad’s gradient, matches a central difference, and checkGradient says so', () => {
    const target = { kind: 'bias', layer: 1, unit: 2 } as const
    const got = I.inspect(trained.network, trained.params, batch, config.l2, target)
    const { loss, grads } = T.gradient(trained, batch)
    expect(got.label).toBe('b²₂')
    expect(got.value.item()).toBe(M.dense(trained.params, 1).b.data[2])
    expect(got.adjoint.item()).toBeCloseTo(M.dense(grads, 1).b.data[2]!, 14)
    expect(got.loss).toBeCloseTo(loss, 14)
    const f = I.objectiveOfParameter(trained.network, trained.params, batch, config.l2, target)
    const b = got.value.item()
    const h = 1e-5
    const central = (f(tensor(b + h)).item() - f(tensor(b - h)).item()) / (2 * h)
    expect(Math.abs(central)).toBeGreaterThan(1e-6)
    expect(Math.abs(got.adjoint.item() - central)).toBeLessThan(1e-8)
    const check = I.checkGradient(trained.network, trained.params, batch, config.l2, target, got.adjoint.item())
    expect(check.relativeDifference).toBeLessThan(1e-8)
    expect(check.estimate).toBeCloseTo(central, 8)
  })

  it('an input’s adjoint, one per example, matches a central difference in that example’s coordinate', () => {
    const target = { kind: 'input', unit: 1 } as const
    const got = I.inspect(trained.network, trained.params, batch, config.l2, target)
    const n = batch.labels.length
    expect(got.label).toBe('x₂')
    expect(got.value.shape).toEqual([n])
    const example = 3
    const bump = (delta: number) => {
      const data = Float64Array.from(batch.x.data)
      data[example * 2 + 1] = data[example * 2 + 1]! + delta
      return M.objective(trained.network, trained.params, { ...batch, x: fromBuffer(data, [n, 2]) }, config.l2).item()
    }
    const h = 1e-5
    expect(got.value.data[example]).toBe(batch.x.data[example * 2 + 1])
    const central = (bump(h) - bump(-h)) / (2 * h)
    expect(Math.abs(central)).toBeGreaterThan(1e-6)
    expect(Math.abs(got.adjoint.data[example]! - central)).toBeLessThan(1e-8)
  })

  it('the output’s adjoint is (σ(z) − y)/B per example, the derivative of the mean cross-entropy', () => {
    const got = I.inspect(trained.network, trained.params, batch, config.l2, { kind: 'output' })
    const z = M.logits(trained.network, trained.params, batch.x).data
    const n = batch.labels.length
    expect(got.label).toBe('z')
    expect(Array.from(got.value.data)).toEqual(Array.from(z))
    const want = Array.from(z, (zi, k) => (1 / (1 + Math.exp(-zi)) - batch.labels[k]!) / n)
    Array.from(got.adjoint.data).forEach((a, k) => expect(a).toBeCloseTo(want[k]!, 14))
    expect(got.loss).toBeCloseTo(T.gradient(trained, batch).loss, 14)
  })

  it('names a target that is not in the network', () => {
    expect(() => I.inspect(trained.network, trained.params, batch, 0, { kind: 'weight', layer: 0, from: 2, to: 0 })).toThrow('no weight W¹[2→0] in a 2-4-3-1 network')
    expect(() => I.inspect(trained.network, trained.params, batch, 0, { kind: 'unit', layer: 2, unit: 0 })).toThrow('no hidden unit h³₀ in a 2-4-3-1 network')
    expect(() => I.inspect(trained.network, trained.params, batch, 0, { kind: 'bias', layer: 2, unit: 1 })).toThrow('no bias b³₁ in a 2-4-3-1 network')
    expect(() => I.inspect(trained.network, trained.params, batch, 0, { kind: 'input', unit: 2 })).toThrow('no input x₃ in a 2-4-3-1 network')
  })
})

// ================================================================ files

describe('saved weights', () => {
  it('load(save(…)) gives back the configuration, the parameters and the step', () => {
    const config: Config = { ...defaults, dataset: 'spirals', hidden: [6, 5], activation: 'gelu', seed: 12 }
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
    const net = M.build({ hidden: [2], activation: 'tanh' })
    const bytes = Checkpoint.encode(net.spec, net.model.init(Random.key(0)), net.model.initState())
    const loaded = Ck.load(bytes)
    expect(E.isLeft(loaded) && loaded.left.message).toBe(
      'not a playground model: the file\'s metadata has no "playground" key (it holds a lamina model, but not the page\'s settings)'
    )
  })

  it('settings that describe another network than the file holds are refused', () => {
    const net = M.build({ hidden: [2], activation: 'tanh' })
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
