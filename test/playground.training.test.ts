/**
 * The playground's training and its inspector (examples/playground/src), in Node: minibatches
 * are fixed-size and an epoch visits each point once, the compiled step's stacked minibatches are
 * the eager steps', a step applies the gradient, training on XOR learns (in float64 and float32),
 * the features make spirals learnable with a small net, linear regression finds the plane; the
 * inspector's adjoints (weights, biases, inputs, hidden units, the output) agree with
 * `valueAndGrad`, with finite differences or with the losses' derivatives, its readable trace
 * has no bookkeeping rows and explains every symbol, and a weight set by hand is that weight.
 * The datasets, the URL, the model builder and saved weights are tested in
 * playground.unit.test.ts; the page itself in a browser by playground.e2e.test.ts.
 */
import { describe, expect, it } from 'vitest'
import { fromBuffer, mul, sub, tensor, valueAndGrad } from 'lamina-nn'
import { activationNames, defaults, featureNames } from '../examples/playground/src/config.js'
import type { Config, FeatureName } from '../examples/playground/src/config.js'
import * as F from '../examples/playground/src/features.js'
import * as I from '../examples/playground/src/inspect.js'
import * as M from '../examples/playground/src/model.js'
import * as T from '../examples/playground/src/trainer.js'

const classify = (regularization: Config['regularization'], rate: number): M.Terms => ({ problem: 'classification', regularization, rate })

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
