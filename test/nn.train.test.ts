/**
 * Training: the laws the training issue asks for.
 *
 * - seed 000: gradient descent descends — for a small η, L(θ − η∇L) < L(θ) at random θ, and by
 *   η‖∇L‖² to first order;
 * - `fit` is a deterministic fold: the same key gives the same loss history and parameters, bit
 *   for bit, and another key another trajectory;
 * - `fit` learns a small separable problem, and `evaluate` reports accuracy 1 and the confusion
 *   matrix; the confusion matrix agrees with an independent count on any model;
 * - minibatches cover every example exactly once per epoch (`minibatches` and `fit` itself);
 * - errors: labels that do not match the inputs, bad batch sizes and epoch counts.
 *
 * Every property returns or asserts its verdict.
 */
import { describe, expect, it } from 'vitest'
import { fc, test } from '@fast-check/vitest'
import { ArgumentError, Layer, Layers, Loss, Optim, Random, ShapeError, Train, Tree, grad, mean, mul, sub, tensor, zeros } from 'lamina-nn'
import type { Tensor } from 'lamina-nn'
import { sameLeaves } from './support/leaves.js'
import { tensorOf } from 'lamina-nn/laws'
import * as Norm from '../src/nn/norm.js'

// ================================================================ helpers

const crossEntropy: Train.Loss = (logits, labels) => Loss.crossEntropyWithLogits(logits, labels)

/** A small classifier: 2 inputs, a tanh hidden layer, 3 classes. */
const mlp = () => Layer.sequential(Layers.dense(2, 5), Layers.tanh(), Layers.dense(5, 3))

/**
 * Three separable clusters around (2, 2), (−2, 2) and (0, −2), `perClass` points each,
 * jittered by at most 0.5, listed class by class.
 */
const clusters = (perClass: number, seed = 0): Train.Dataset => {
  const centres = [
    [2, 2],
    [-2, 2],
    [0, -2]
  ]
  const jitter = Random.uniform(Random.key(seed), [3 * perClass, 2], { low: -0.5, high: 0.5 }).data
  const rows = centres.flatMap((c, k) => Array.from({ length: perClass }, (_, i) => [c[0]! + jitter[2 * (k * perClass + i)]!, c[1]! + jitter[2 * (k * perClass + i) + 1]!]))
  return { x: tensor(rows), labels: Int32Array.from({ length: 3 * perClass }, (_, i) => Math.floor(i / perClass)) }
}

// ================================================================ seed 000: gradient descent descends

describe('seed 000: gradient descent descends', () => {
  const model = mlp()
  const data = clusters(3, 1)
  // unbalanced labels, so that θ = 0 is not a stationary point either
  const labels = Int32Array.from([0, 0, 0, 1, 1, 1, 2, 2, 0])
  const lossAt = (params: Tree.Tree): Tensor => crossEntropy(model.forward(params as never, data.x, { training: false, state: model.initState() }).y, labels)
  const w = (shape: readonly number[]) => tensorOf(shape, { min: -2, max: 2 })
  const thetas = fc.record({ layers: fc.tuple(fc.record({ w: w([2, 5]), b: w([5]) }), fc.constant({}), fc.record({ w: w([5, 3]), b: w([3]) })) })

  test.prop([thetas], { numRuns: 200 })('for a small η, L(θ − η∇L) < L(θ), and the decrease is η‖∇L‖² to first order', (theta) => {
    const eta = 1e-4
    const g = grad(lossAt)(theta)
    const gradLeaves = Tree.flatten(g).leaves
    const squaredNorm = gradLeaves.reduce((s, t) => s + Array.from(t.data).reduce((a, v) => a + v * v, 0), 0)
    fc.pre(squaredNorm > 1e-8) // a stationary point does not descend
    const stepped = Tree.map(theta, (leaf, i) => sub(leaf, mul(gradLeaves[i]!, eta)) as Tensor)
    const before = lossAt(theta).item()
    const after = lossAt(stepped).item()
    const ratio = (before - after) / (eta * squaredNorm)
    return after < before && ratio > 0.9 && ratio < 1.1
  })

  it('and a step of Optim.sgd with the same η is that step', () => {
    // lossAt takes any tree (it serves the generated θ too), so its gradient is typed Tree: view θ as one too
    const params = model.init(Random.key(3)) as Tree.Tree
    const opt = Optim.sgd({ lr: 0.05 })
    const g = grad(lossAt)(params)
    const [next] = opt.update(g, opt.init(params), params)
    const manual = Tree.map(params, (leaf, i) => sub(leaf, mul(Tree.flatten(g).leaves[i]!, 0.05)) as Tensor)
    expect(sameLeaves(next, manual)).toBe(true)
    expect(lossAt(next).item()).toBeLessThan(lossAt(params).item())
  })
})

// ================================================================ fit is a deterministic fold

describe('fit', () => {
  it('passes every training minibatch through augment, with a key per batch', () => {
    const data = { x: tensor([[1, 0], [0, 1], [1, 1], [2, 0], [0, 2]]), labels: Int32Array.from([0, 1, 0, 0, 1]) }
    const model = Layers.dense(2, 2)
    const seen: number[] = []
    const keys = new Set<string>()
    const run = Train.fit({
      model,
      params: model.init(Random.key(0)),
      optimizer: Optim.sgd({ lr: 0.1 }),
      loss: Loss.crossEntropyWithLogits,
      data,
      epochs: 2,
      batchSize: 2,
      key: Random.key(4),
      augment: (batch, key) => {
        seen.push(batch.labels.length)
        keys.add(JSON.stringify(key))
        // the model only ever sees zeros: its weights get no gradient, only its bias moves
        return { x: mul(batch.x, 0), labels: batch.labels }
      }
    })
    expect(seen).toEqual([2, 2, 1, 2, 2, 1])
    expect(keys.size).toBe(6)
    expect(run.params.w.toArray()).toEqual(model.init(Random.key(0)).w.toArray())
  })

  it('rejects a bad batch size up front, even with no epochs', () => {
    const data = { x: tensor([[1, 0]]), labels: Int32Array.from([0]) }
    const model = Layers.dense(2, 2)
    expect(() =>
      Train.fit({ model, params: model.init(Random.key(0)), optimizer: Optim.sgd(), loss: Loss.crossEntropyWithLogits, data, epochs: 0, batchSize: 0, key: Random.key(1) })
    ).toThrow(/fit: the batch size must be a positive integer, got 0/)
  })

  const data = clusters(4, 2)
  /** A model whose trajectory depends on the key twice: the minibatch order and the dropout masks. */
  const model = Layer.sequential(Layers.dense(2, 6), Layers.tanh(), Layers.dropout(0.2), Layers.dense(6, 3))
  const train = (seed: number, initSeed = 0) =>
    Train.fit({
      model,
      params: model.init(Random.key(initSeed)),
      optimizer: Optim.sgd({ lr: 0.3 }),
      loss: crossEntropy,
      data,
      epochs: 4,
      batchSize: 5,
      key: Random.key(seed)
    })
  const seeds = fc.integer({ min: 0, max: 2 ** 31 - 1 })

  test.prop([seeds], { numRuns: 10 })('the same key gives the same loss history and parameters, bit for bit', (seed) => {
    const [a, b] = [train(seed), train(seed)]
    return (
      a.history.length === 4 &&
      a.history.every((r, i) => r.epoch === i + 1 && Object.is(r.loss, b.history[i]!.loss)) &&
      sameLeaves(a.params, b.params) &&
      sameLeaves(a.optimizerState, b.optimizerState)
    )
  })

  test.prop([seeds, seeds], { numRuns: 10 })('different keys give different trajectories', (s1, s2) => {
    fc.pre(s1 !== s2)
    const [a, b] = [train(s1), train(s2)]
    return !sameLeaves(a.params, b.params) && a.history.some((r, i) => r.loss !== b.history[i]!.loss)
  })

  it('threads the layer state: batch-norm statistics are the same for the same key and move during training', () => {
    const bnModel = Layer.sequential(Layers.dense(2, 4), Norm.batchNorm(4), Layers.tanh(), Layers.dense(4, 3))
    const run = () =>
      Train.fit({ model: bnModel, params: bnModel.init(Random.key(0)), optimizer: Optim.sgd({ lr: 0.1 }), loss: crossEntropy, data, epochs: 2, batchSize: 4, key: Random.key(5) })
    const [a, b] = [run(), run()]
    expect(sameLeaves(a.state, b.state)).toBe(true)
    expect(sameLeaves(a.params, b.params)).toBe(true)
    expect(sameLeaves(a.state, bnModel.initState())).toBe(false)
  })

  it('learns a separable problem: the loss falls, and evaluate reports accuracy 1 and a diagonal confusion matrix', () => {
    const train3 = clusters(5, 3)
    const net = mlp()
    const epochs: number[] = []
    const run = Train.fit({
      model: net,
      params: net.init(Random.key(1)),
      optimizer: Optim.sgd({ lr: 0.5 }),
      loss: crossEntropy,
      data: train3,
      epochs: 40,
      batchSize: 5,
      key: Random.key(2),
      onEpoch: (r) => epochs.push(r.epoch)
    })
    expect(epochs).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
    expect(run.history[39]!.loss).toBeLessThan(run.history[0]!.loss)
    expect(run.history[39]!.loss).toBeLessThan(0.1)
    const report = Train.evaluate(net, run.params, run.state, train3, crossEntropy)
    expect(report.accuracy).toBe(1)
    expect(report.confusion).toEqual([
      [5, 0, 0],
      [0, 5, 0],
      [0, 0, 5]
    ])
    // the reported loss is the mean loss over the dataset
    expect(report.loss).toBeCloseTo(crossEntropy(Layer.apply(net, run.params, train3.x, run.state), train3.labels).item(), 12)
    // and it generalizes to fresh points of the same clusters
    expect(Train.evaluate(net, run.params, run.state, clusters(10, 99)).accuracy).toBe(1)
  })

  it('with zero epochs returns its inputs and an empty history', () => {
    const params = model.init(Random.key(0))
    const run = Train.fit({ model, params, optimizer: Optim.sgd(), loss: crossEntropy, data, epochs: 0, batchSize: 4, key: Random.key(0) })
    expect(run.params).toBe(params)
    expect(run.history).toEqual([])
  })
})

// ================================================================ evaluate

describe('evaluate', () => {
  /** A linear classifier with random weights on random points with random labels, K classes. */
  const cases = fc
    .record({ n: fc.integer({ min: 1, max: 12 }), k: fc.integer({ min: 2, max: 4 }), batch: fc.integer({ min: 1, max: 13 }) })
    .chain(({ n, k, batch }) =>
      fc.record({
        k: fc.constant(k),
        batch: fc.constant(batch),
        x: tensorOf([n, 2]),
        w: tensorOf([2, k]),
        b: tensorOf([k]),
        labels: fc.array(fc.integer({ min: 0, max: k - 1 }), { minLength: n, maxLength: n }).map((ls) => Int32Array.from(ls))
      })
    )

  test.prop([cases])('the confusion matrix counts (actual, argmax) pairs; accuracy is its trace over N, in batches of any size', ({ k, batch, x, w, b, labels }) => {
    const model = Layers.dense(2, k)
    const params = { w, b } as unknown as Layers.DenseParams<2, number>
    const report = Train.evaluate(model, params, {}, { x, labels }, undefined, batch)
    const scores = Layer.apply(model, params, x).data
    const expected = Array.from({ length: k }, () => new Array<number>(k).fill(0))
    labels.forEach((actual, r) => {
      let best = 0
      for (let c = 1; c < k; c++) if (scores[r * k + c]! > scores[r * k + best]!) best = c
      expected[actual]![best]!++
    })
    const trace = expected.reduce((s, row, i) => s + row[i]!, 0)
    return JSON.stringify(report.confusion) === JSON.stringify(expected) && report.accuracy === trace / labels.length && report.loss === undefined
  })
})

// ================================================================ minibatches

describe('minibatches cover every example once per epoch', () => {
  const isPermutation = (xs: readonly number[], n: number): boolean =>
    xs.length === n && [...xs].sort((a, b) => a - b).every((v, i) => v === i)

  test.prop([fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1, max: 16 }), fc.integer({ min: 0, max: 2 ** 31 - 1 })])(
    'Train.minibatches: a permutation cut into batches of batchSize, the last one shorter',
    (n, batchSize, seed) => {
      const batches = Train.minibatches(Random.key(seed), n, batchSize)
      const sizes = batches.map((b) => b.length)
      return (
        isPermutation(batches.flatMap((b) => Array.from(b)), n) &&
        batches.length === Math.ceil(n / batchSize) &&
        sizes.slice(0, -1).every((s) => s === batchSize) &&
        (n === 0 || (sizes[sizes.length - 1]! >= 1 && sizes[sizes.length - 1]! <= batchSize))
      )
    }
  )

  test.prop([fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 2 ** 31 - 1 })], { numRuns: 30 })(
    'fit shows the loss every example exactly once per epoch',
    (n, batchSize, seed) => {
      // the label of example i is i: the loss records which examples each step saw
      const seen: number[] = []
      const steps: number[] = []
      const model = Layers.dense(1, 1)
      const recording: Train.Loss = (y, labels) => {
        seen.push(...labels)
        return mean(y)
      }
      const data = { x: tensor(Array.from({ length: n }, (_, i) => [i])), labels: Int32Array.from({ length: n }, (_, i) => i) }
      const epochs = 3
      Train.fit({
        model,
        params: model.init(Random.key(0)),
        optimizer: Optim.sgd({ lr: 0.01 }),
        loss: recording,
        data,
        epochs,
        batchSize,
        key: Random.key(seed),
        onBatch: (r) => steps.push(r.steps)
      })
      const perEpoch = Array.from({ length: epochs }, (_, e) => seen.slice(e * n, (e + 1) * n))
      return seen.length === epochs * n && perEpoch.every((xs) => isPermutation(xs, n)) && steps.every((s) => s === Math.ceil(n / batchSize))
    }
  )

  it('and shuffles each epoch differently', () => {
    const orders = Random.split(Random.key(4), 3).map((k) => Array.from(Train.permutation(k, 30)))
    expect(orders[0]).not.toEqual(orders[1])
    expect(orders[1]).not.toEqual(orders[2])
  })
})

// ================================================================ errors

describe('errors', () => {
  const model = mlp()
  const params = model.init(Random.key(0))
  const data = clusters(2)
  const options = { model, params, optimizer: Optim.sgd(), loss: crossEntropy, data, epochs: 1, batchSize: 2, key: Random.key(0) }

  it('labels that do not match the inputs', () => {
    const bad = { x: data.x, labels: Int32Array.from([0, 1, 2]) }
    expect(() => Train.fit({ ...options, data: bad })).toThrow(new ShapeError('fit: 6 inputs but 3 labels'))
    expect(() => Train.evaluate(model, params, model.initState(), bad)).toThrow(new ShapeError('evaluate: 6 inputs but 3 labels'))
    expect(() => Train.fit({ ...options, data: { x: tensor(1), labels: Int32Array.from([0]) } })).toThrow(ShapeError)
  })

  test.prop([fc.oneof(fc.integer({ max: 0 }), fc.double({ noInteger: true }), fc.constant(Number.NaN), fc.constant(Number.POSITIVE_INFINITY))])(
    'a batch size that is not a positive integer',
    (batchSize) => {
      expect(() => Train.fit({ ...options, batchSize })).toThrow(ArgumentError)
      expect(() => Train.minibatches(Random.key(0), 6, batchSize)).toThrow(ArgumentError)
      return true
    }
  )

  it('an epoch count that is not a non-negative integer', () => {
    expect(() => Train.fit({ ...options, epochs: -1 })).toThrow(ArgumentError)
    expect(() => Train.fit({ ...options, epochs: 1.5 })).toThrow(ArgumentError)
  })

  it('inputs of the wrong width name the layer', () => {
    const wide = { x: tensor([[1, 2, 3]]), labels: Int32Array.from([0]) }
    expect(() => Train.fit({ ...options, data: wide, batchSize: 1 })).toThrow(ShapeError)
  })
})

describe('determinism', () => {
  it('the same seed gives bit-identical parameters after 100 training steps', () => {
    const model = Layer.sequential(Layers.dense(8, 16), Layers.relu(), Layers.dropout(0.1), Layers.dense(16, 3))
    const data = { x: Random.normal(Random.key(5), [400, 8]), labels: Int32Array.from({ length: 400 }, (_, i) => i % 3) }
    const train = (seed: number) =>
      Train.fit({
        model,
        params: model.init(Random.key(seed)),
        optimizer: Optim.adam({ lr: 0.01 }),
        loss: Loss.crossEntropyWithLogits,
        data,
        epochs: 25, // 4 minibatches of 100 per epoch: 100 steps
        batchSize: 100,
        key: Random.key(seed + 1)
      })
    const bits = (seed: number) =>
      Tree.flatten(train(seed).params).leaves.map((t) => Array.from(new Uint8Array(new Float64Array(t.data).buffer)))
    const a = bits(7)
    expect(bits(7)).toEqual(a)
    expect(bits(8)).not.toEqual(a)
  })
})

// ================================================================ issue 13: long runs, divergence, stopping

describe('fit: epoch counts, time and keys (issue 13)', () => {
  const model = Layers.dense(2, 2)
  const data = { x: tensor([[1, 0], [0, 1], [1, 1], [-1, 0]]), labels: Int32Array.from([0, 1, 0, 1]) }
  const base = { model, params: model.init(Random.key(0)), optimizer: Optim.sgd({ lr: 0.1 }), loss: crossEntropy, data, batchSize: 2, key: Random.key(1) }
  class Sentinel extends Error {}

  it('refuses more than Train.maxEpochs epochs up front, naming the count and the limit (no step taken)', () => {
    expect(Train.maxEpochs).toBe(1_000_000)
    for (const epochs of [1e12, 2 ** 32, 2 ** 32 - 1, Train.maxEpochs + 1]) {
      let steps = 0
      const attempt = () =>
        Train.fit({
          ...base,
          epochs,
          onBatch: () => {
            // before the fix 1000001 epochs were accepted and trained: stop such a run at once
            if (++steps > 0) throw new Sentinel()
          }
        })
      expect(attempt).toThrow(ArgumentError)
      expect(attempt).toThrow(`fit: epochs must be an integer in 0…1000000 (Train.maxEpochs), got ${epochs}`)
      expect(steps).toBe(0)
    }
  })

  it('draws the epoch keys one at a time: a run of Train.maxEpochs epochs stopped after 3 steps reads its key a few times, not millions', () => {
    let reads = 0
    const root = Random.key(1)
    const key = new Proxy(root, {
      get: (target, p, receiver) => {
        reads++
        return Reflect.get(target, p, receiver) as unknown
      }
    })
    let steps = 0
    expect(() =>
      Train.fit({
        ...base,
        key,
        epochs: Train.maxEpochs,
        onBatch: () => {
          if (++steps === 3) throw new Sentinel()
        }
      })
    ).toThrow(Sentinel)
    // two epochs begun: each reads the root key twice (hi, lo) per draw; splitting it up front read it 4,000,000 times
    expect(reads).toBeLessThan(20)
  })

  it('the lazily drawn keys are those of split(key, epochs): same trajectory as before', () => {
    const seen: string[] = []
    Train.fit({ ...base, epochs: 3, augment: (batch, k) => (seen.push(JSON.stringify(k)), batch) })
    const expected = Random.split(base.key, 3).flatMap((epochKey) => {
      const [, , augmentKey] = Random.split(epochKey, 3)
      return Random.split(augmentKey!, 2).map((k) => JSON.stringify(k))
    })
    expect(seen).toEqual(expected)
  })

  it('time is linear in the epochs: 100,000 epochs over an empty dataset take well under 30 s (copying the history each epoch: ~10 min)', () => {
    const empty = { x: zeros([0, 2]), labels: new Int32Array(0) }
    let epochs = 0
    const started = performance.now()
    const run = Train.fit({
      ...base,
      data: empty,
      epochs: 100_000,
      onEpoch: () => {
        epochs++
        // a quadratic fold would run on for minutes (it took 13 min before the fix): give up at 30 s
        if (performance.now() - started > 30_000) throw new Error(`only ${epochs} epochs in 30 s`)
      }
    })
    const seconds = (performance.now() - started) / 1000
    expect(epochs).toBe(100_000)
    expect(run.history).toHaveLength(100_000)
    expect(run.history[99_999]!.epoch).toBe(100_000)
    expect(seconds).toBeLessThan(30)
  }, 60_000)
})

describe('fit stops at the first non-finite loss or parameter (issue 13)', () => {
  // the case: a ReLU net, mean squared error, SGD with lr 1e6
  const net = Layer.sequential(Layers.dense(2, 8), Layers.relu(), Layers.dense(8, 2))
  const data = clusters(4, 3)
  const squared: Train.Loss = (y, labels) => Loss.mse(y, Loss.oneHot(labels, 2))
  const twoClass = { x: data.x, labels: Int32Array.from(data.labels, (l) => l % 2) }
  const options = { model: net, params: net.init(Random.key(0)), optimizer: Optim.sgd({ lr: 1e6 }), loss: squared, data: twoClass, epochs: 10, batchSize: 4, key: Random.key(2) }

  it('throws a DivergenceError naming the epoch, the step, the value and what to try', () => {
    let thrown: unknown
    try {
      Train.fit(options)
    } catch (e) {
      thrown = e
    }
    expect(thrown).toBeInstanceOf(Train.DivergenceError)
    const e = thrown as Train.DivergenceError
    expect(e.what).toBe('loss')
    expect(e.epoch).toBeGreaterThanOrEqual(1)
    expect(e.step).toBeGreaterThanOrEqual(1)
    expect(Number.isFinite(e.value)).toBe(false)
    expect(e.message).toContain(`training diverged at epoch ${e.epoch}, step ${e.step} of ${e.steps}: the loss is ${e.value}`)
    expect(e.message).toContain('lower learning rate')
    expect(e.message).toContain('gradient clipping')
  })

  it('checkFinite: false trains on through it (the old behaviour, on request)', () => {
    const run = Train.fit({ ...options, checkFinite: false })
    expect(run.history).toHaveLength(10)
    expect(run.history.some((h) => !Number.isFinite(h.loss))).toBe(true)
  })

  it('checks the parameters at the end of each epoch: an update to NaN after the last step is caught', () => {
    const model = Layers.dense(2, 3)
    const poison: Optim.Optimizer<null> = { init: () => null, update: (_g, s, p) => [Tree.map(p, (t) => mul(t, Number.NaN) as Tensor), s] }
    let thrown: unknown
    try {
      // one step per epoch: its loss is computed with the old (finite) parameters
      Train.fit({ model, params: model.init(Random.key(0)), optimizer: poison, loss: crossEntropy, data: clusters(1), epochs: 2, batchSize: 8, key: Random.key(0) })
    } catch (e) {
      thrown = e
    }
    expect(thrown).toBeInstanceOf(Train.DivergenceError)
    expect(thrown).toMatchObject({ epoch: 1, step: 1, steps: 1, what: 'parameter', where: 'w[0]' })
    expect((thrown as Error).message).toMatch(/^training diverged at epoch 1, step 1 of 1: parameter w\[0\] is NaN; /)
  })
})

describe('fit can be stopped between steps (issue 13)', () => {
  const model = Layers.dense(2, 2)
  const data = { x: tensor([[1, 0], [0, 1], [1, 1], [-1, 0]]), labels: Int32Array.from([0, 1, 0, 1]) }
  const base = { model, params: model.init(Random.key(0)), optimizer: Optim.sgd({ lr: 0.1 }), loss: crossEntropy, data, epochs: 50, batchSize: 2, key: Random.key(1) }

  it('shouldStop ends the run before the next step, and the result says after which step', () => {
    let asked = 0
    let steps = 0
    const run = Train.fit({ ...base, shouldStop: () => ++asked === 4, onBatch: () => void steps++ })
    expect(steps).toBe(3)
    expect(run.stopped).toEqual({ epoch: 2, step: 1, steps: 2 })
    expect(run.history).toHaveLength(1)
    // the parameters are those after the third step: not those after the first epoch (two steps)
    const oneEpoch = Train.fit({ ...base, epochs: 1 })
    expect(sameLeaves(run.params, oneEpoch.params)).toBe(false)
    let counted = 0
    const again = Train.fit({ ...base, onBatch: () => void counted++, shouldStop: () => counted === 3 })
    expect(sameLeaves(run.params, again.params)).toBe(true)
    expect(Train.fit({ ...base, shouldStop: () => true }).stopped).toEqual({ epoch: 0, step: 0, steps: 0 })
  })

  it('fitAsync lets the event loop run between steps: a timer can stop it, and its result equals fit', async () => {
    let stop = false
    setTimeout(() => (stop = true), 0)
    const stopped = await Train.fitAsync({ ...base, epochs: Train.maxEpochs, yieldEvery: 0, shouldStop: () => stop })
    expect(stopped.stopped).toBeDefined()
    const [a, b] = [await Train.fitAsync({ ...base, yieldEvery: 0 }), Train.fit(base)]
    expect(sameLeaves(a.params, b.params)).toBe(true)
    expect(a.history.map((h) => h.loss)).toEqual(b.history.map((h) => h.loss))
  })
})
