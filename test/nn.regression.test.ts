/**
 * Regression and resuming, in the library (src/nn/train.ts, src/io/dataset.ts):
 *
 * - `fit` takes real-valued targets (`Dataset<Tensor>`) and recovers a known linear map;
 * - `evaluate` on targets gives MSE, MAE and R², checked against plain two-pass loops on
 *   random predictions and targets, whatever the batch size;
 * - `initialEpoch`: 2 epochs, then 2 more from the saved parameters, layer state and
 *   optimizer state (through a model file), equal 4 epochs straight, bit for bit, in f64 and
 *   f32, with dropout and batch norm (so the keys and the running statistics carry over);
 * - the regression readers: CSV target columns (default names, several, named) and JSON
 *   `targets`, every problem a failure at its place.
 */
import { describe, expect, it } from 'vitest'
import { fc, test } from '@fast-check/vitest'
import * as E from 'fp-ts/lib/Either.js'
import { ArgumentError, Checkpoint, Dataset, Layer, Layers, Loss, Norm, Optim, Random, ShapeError, Train, astype, tensor } from 'lamina-nn'
import type { DType, Tensor } from 'lamina-nn'
import { numbers, sameLeaves as sameBits } from './support/leaves.js'

/** The same bits in every number, and there are some. */
const sameLeaves = (a: unknown, b: unknown): boolean => numbers(a).length > 0 && sameBits(a, b)

const right = <A>(r: E.Either<Error, A>): A => {
  if (E.isLeft(r)) throw r.left
  return r.right
}

const mseLoss: Train.Loss<Tensor> = (p, y) => Loss.mse(p, y)

describe('fit with real-valued targets', () => {
  it('recovers y = 2·x₁ − 3·x₂ + 1 with a dense layer (full-batch gradient descent)', () => {
    const xs = Random.uniform(Random.key(1), [64, 2], { low: -1, high: 1 })
    const rows = xs.toArray() as number[][]
    const data = { x: xs, labels: tensor(rows.map(([a, b]) => [2 * a! - 3 * b! + 1])) }
    const model = Layers.dense(2, 1)
    const run = Train.fit({ model, params: model.init(Random.key(2)), optimizer: Optim.sgd({ lr: 0.5 }), loss: mseLoss, data, epochs: 400, batchSize: 64, key: Random.key(3) })
    expect(Array.from(run.params.w.data).map((v) => Number(v.toFixed(6)))).toEqual([2, -3])
    expect(Number(run.params.b.data[0]!.toFixed(6))).toBe(1)
    expect(run.history.at(-1)!.loss).toBeLessThan(1e-12)
    const metrics = Train.evaluate(model, run.params, run.state, data, mseLoss)
    expect(metrics.r2).toBeGreaterThan(1 - 1e-10)
    expect(metrics.loss).toBeCloseTo(metrics.mse, 15)
  })

  it('refuses targets that do not match the inputs or the outputs', () => {
    const model = Layers.dense(2, 1)
    const params = model.init(Random.key(0))
    const few = { x: tensor([[1, 2], [3, 4]]), labels: tensor([[1]]) }
    expect(() => Train.fit({ model, params, optimizer: Optim.sgd(), loss: mseLoss, data: few, epochs: 1, batchSize: 1, key: Random.key(0) })).toThrow(
      new ShapeError('fit: 2 inputs but 1 targets')
    )
    const wide = { x: tensor([[1, 2]]), labels: tensor([[1, 2]]) }
    expect(() => Train.evaluate(model, params, {}, wide)).toThrow(new ShapeError('evaluate: the model gives outputs of shape [1,1] but the targets have shape [1,2]'))
  })
})

describe('evaluate: MSE, MAE and R² against plain loops', () => {
  /** Two-pass references over rows of `k` outputs. */
  const reference = (p: number[][], y: number[][]) => {
    const n = y.length
    const k = y[0]!.length
    let se = 0
    let ae = 0
    for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) (se += (p[i]![j]! - y[i]![j]!) ** 2), (ae += Math.abs(p[i]![j]! - y[i]![j]!))
    const r2 = Array.from({ length: k }, (_, j) => {
      const mean = y.reduce((s, row) => s + row[j]!, 0) / n
      const sst = y.reduce((s, row) => s + (row[j]! - mean) ** 2, 0)
      const sse = y.reduce((s, row, i) => s + (p[i]![j]! - row[j]!) ** 2, 0)
      return sst > 0 ? 1 - sse / sst : sse === 0 ? 1 : 0
    })
    return { mse: se / (n * k), mae: ae / (n * k), r2: r2.reduce((a, b) => a + b, 0) / k, r2PerOutput: r2 }
  }
  const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b))

  // values on a grid of 0.01 in [−100, 100]: R² of targets a few ulps apart (1e-162 from 0) is
  // a ratio of underflowed sums, which no two summation orders agree on
  const value = fc.integer({ min: -10_000, max: 10_000 }).map((v) => v / 100)
  const rows = (n: number, k: number) => fc.array(fc.array(value, { minLength: k, maxLength: k }), { minLength: n, maxLength: n })
  const cases = fc
    .tuple(fc.integer({ min: 2, max: 30 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 40 }))
    .chain(([n, k, batch]) => fc.tuple(rows(n, k), rows(n, k), fc.constant(batch)))

  test.prop([cases])('the identity model predicts x: its metrics are those of x against y, for any batch size', ([p, y, batch]) => {
    const k = y[0]!.length
    const model = Layers.dense(k, k)
    const identity = { w: tensor(Array.from({ length: k }, (_, i) => Array.from({ length: k }, (_, j) => (i === j ? 1 : 0)))), b: tensor(Array.from({ length: k }, () => 0)) }
    const got = Train.evaluate(model, identity, {}, { x: tensor(p), labels: tensor(y) }, undefined, batch)
    const want = reference(p, y)
    return close(got.mse, want.mse) && close(got.mae, want.mae) && close(got.r2, want.r2) && got.r2PerOutput.every((r, j) => close(r, want.r2PerOutput[j]!))
  })

  it('R² of constant targets: 1 when predicted exactly, 0 otherwise; of the mean prediction: 0', () => {
    const model = Layers.dense(1, 1)
    const identity = { w: tensor([[1]]), b: tensor([0]) }
    expect(Train.evaluate(model, identity, {}, { x: tensor([[2], [2]]), labels: tensor([[2], [2]]) }).r2).toBe(1)
    expect(Train.evaluate(model, identity, {}, { x: tensor([[2], [3]]), labels: tensor([[2], [2]]) }).r2).toBe(0)
    expect(Train.evaluate(model, identity, {}, { x: tensor([[2], [2], [2]]), labels: tensor([[1], [2], [3]]) }).r2).toBe(0)
  })
})

describe('resuming: 2 epochs, saved, then 2 more equal 4 straight', () => {
  const model = Layer.sequential(Layers.dense(3, 8), Norm.batchNorm(8), Layers.relu(), Layers.dropout(0.25), Layers.dense(8, 2))
  const x = Random.normal(Random.key(10), [40, 3])
  const classify = { x, labels: Int32Array.from({ length: 40 }, (_, i) => (x.data[3 * i]! + x.data[3 * i + 2]! > 0 ? 1 : 0)) }
  const regress = { x, labels: Random.normal(Random.key(11), [40, 2]) }

  for (const dtype of ['f64', 'f32'] as const satisfies readonly DType[]) {
    it(`${dtype}: classification and regression, Adam, through a model file (Checkpoint.encodeModel, decodeFor)`, () => {
      const cast = (d: typeof regress) => ({ x: astype(d.x, dtype) as Tensor, labels: astype(d.labels, dtype) as Tensor })
      const runs = [
        { data: { x: astype(x, dtype) as Tensor, labels: classify.labels }, loss: (p: Tensor, l: Int32Array) => Loss.crossEntropyWithLogits(p, l) },
        { data: cast(regress), loss: mseLoss }
      ] as const
      for (const { data, loss } of runs) {
        const optimizer = Optim.adam({ lr: 0.01 })
        const common = { model, optimizer, loss: loss as Train.Loss<Int32Array | Tensor>, data: data as Train.Dataset<Int32Array | Tensor>, batchSize: 8, key: Random.key(5) }
        const params = model.init(Random.key(4), dtype)
        const straight = Train.fit({ ...common, params, epochs: 4 })
        const first = Train.fit({ ...common, params, epochs: 2 })
        const file = right(Checkpoint.encodeModel(model, first.params, { state: first.state, epoch: 2, optimizer: { state: first.optimizerState } }))
        const loaded = right(Checkpoint.decodeFor(file, model))
        expect(loaded.epoch).toBe(2)
        const resumed = Train.fit({ ...common, params: loaded.params, state: loaded.state, optimizerState: loaded.optimizer!.state as typeof first.optimizerState, initialEpoch: loaded.epoch!, epochs: 4 })
        expect(resumed.history.map((h) => h.epoch)).toEqual([3, 4])
        expect(resumed.history.map((h) => h.loss)).toEqual(straight.history.slice(2).map((h) => h.loss))
        expect(sameLeaves(resumed.params, straight.params)).toBe(true)
        expect(sameLeaves(resumed.state, straight.state)).toBe(true)
        expect(sameLeaves(resumed.optimizerState, straight.optimizerState)).toBe(true)
      }
    })
  }

  it('refuses an initialEpoch outside 0…epochs', () => {
    const options = { model, params: model.init(Random.key(0)), optimizer: Optim.sgd(), loss: mseLoss, data: regress, batchSize: 8, key: Random.key(0) }
    expect(() => Train.fit({ ...options, epochs: 2, initialEpoch: 3 })).toThrow(new ArgumentError('fit: initialEpoch must be an integer in 0…epochs (2), got 3'))
    expect(Train.fit({ ...options, epochs: 2, initialEpoch: 2 }).history).toEqual([])
  })
})

describe('regression datasets', () => {
  it('CSV: the target column y (or target, or y_0 … y_k), every other column a feature, in order', () => {
    const one = right(Dataset.regressionFromCsv('a,y,b\n1,10.5,2\n3,-0.25,4\n'))
    expect(one.x.toArray()).toEqual([[1, 2], [3, 4]])
    expect(one.labels.toArray()).toEqual([[10.5], [-0.25]])
    expect(one.targets).toEqual(['y'])
    const target = right(Dataset.regressionFromCsv('target,a\n1,2\n'))
    expect(target.targets).toEqual(['target'])
    const several = right(Dataset.regressionFromCsv('y_1,a,y_0\n1,2,3\n', { dtype: 'f32' }))
    expect(several.targets).toEqual(['y_0', 'y_1'])
    expect(several.labels.toArray()).toEqual([[3, 1]])
    expect(several.labels.dtype).toBe('f32')
    const named = right(Dataset.regressionFromCsv('p,q,r\n1,2,3\n', { targets: ['r', 'p'], targetShape: [2, 1] }))
    expect(named.labels.shape).toEqual([1, 2, 1])
    expect(named.x.toArray()).toEqual([[2]])
  })

  it('CSV: a missing target column, a bad cell, a ragged row and a target count the model does not have are failures at their place', () => {
    const message = (text: string, options?: Dataset.RegressionCsvOptions): string => {
      const r = Dataset.regressionFromCsv(text, options)
      return E.isLeft(r) ? r.left.message : 'read'
    }
    expect(message('a,b\n1,2\n')).toBe('CSV dataset: line 1: expected a target column "y" or "target" (or y_0 … y_k, or the targets option), got the columns "a", "b"')
    expect(message('a,y\n1,2\n3,x\n4\n')).toBe(['CSV dataset: 2 problems', '  line 3, column "y": expected a finite number, got "x"', '  line 4: expected 2 cells (one per column of the header), got 1 cell'].join('\n'))
    expect(message('a,y\n1,2\n', { targets: ['z'] })).toBe('CSV dataset: line 1: expected a target column "z" (the targets option), got the columns "a", "y"')
    expect(message('a,y\n1,2\n', { targetShape: [3], name: 'd.csv' })).toBe('d.csv: the model gives 3 outputs per example (output shape [3]), the data has 1 target per example')
    expect(message('y\n1\n')).toBe('CSV dataset: line 1: expected at least one feature column besides the targets, got none')
  })

  it('JSON: { x, targets }, numbers or rows of numbers, checked at their paths', () => {
    const data = right(Dataset.parseRegressionJson('{"x": [[1, 2], [3, 4]], "targets": [[0.5, 1], [2, 3]]}'))
    expect(data.labels.toArray()).toEqual([[0.5, 1], [2, 3]])
    expect(data.targets).toEqual(['y_0', 'y_1'])
    const bad = Dataset.regressionFromJson({ x: [[1], [2]], targets: [1], y: 3 })
    expect(E.isLeft(bad) && bad.left.message).toBe(
      ['JSON dataset: 2 problems', '  y: expected no such key (regression dataset keys: x, targets), got 3', '  targets: expected 2 targets (one per example of x), got 1 target'].join('\n')
    )
    const polluted = Dataset.parseRegressionJson('{"x": [[1]], "targets": [1], "__proto__": {"polluted": 1}}')
    expect(E.isLeft(polluted)).toBe(true)
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
  })
})
