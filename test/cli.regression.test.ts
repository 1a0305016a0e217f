/**
 * Models that travel through the CLI (src/cli/train.ts, eval.ts, predict.ts, inspect.ts):
 *
 * - regression: the example under examples/regression/ (data generated deterministically)
 *   trains through `lamina train --task regression` and reaches R² ≥ 0.98 on its test file;
 *   `eval`'s metrics agree with plain loops over `predict`'s values and the targets;
 * - `--resume`: 2 epochs, then 2 more, give the file of 4 straight, byte for byte (f64 and f32);
 * - `--dtype f32`, and a float32 file as the main job writes it, evaluate in float32;
 * - a model composed in TypeScript and saved with Checkpoint.save: eval, predict and inspect
 *   give what Layer.apply and Train.evaluate give;
 * - bad combinations are bad usage, in one line.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import * as E from 'fp-ts/lib/Either.js'
import { Checkpoint, Conv, Dataset, Layer, Layers, Loss, Norm, Random, Safetensors, Spec, Train, tensor } from 'lamina-nn'
import { Checkpoint as CheckpointFile } from 'lamina-nn/node'
import { run } from './support/cli.js'
import type { Run } from './support/cli.js'
import { csv } from '../examples/regression/generate.js'

const ROOT = path.resolve(fileURLToPath(new URL('..', import.meta.url)))
const example = (name: string): string => path.join(ROOT, 'examples/regression', name)
const dir = mkdtempSync(path.join(tmpdir(), 'lamina-cli-regression-'))
const file = (name: string, contents?: string | Uint8Array): string => {
  const p = path.join(dir, name)
  if (contents !== undefined) writeFileSync(p, contents)
  return p
}
const right = <A>(r: E.Either<Error, A>): A => {
  if (E.isLeft(r)) throw r.left
  return r.right
}
const ok = (r: Run): Run => {
  expect(r.stderr).toBe('')
  expect(r.code).toBe(0)
  return r
}
/** A one-line error on stderr, nothing on stdout. */
const oneLineError = (r: Run): string => {
  expect(r.stdout).toBe('')
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1)
  return r.stderr.trimEnd()
}

interface Metrics {
  readonly examples: number
  readonly loss: number
  readonly lossName: string
  readonly mse: number
  readonly mae: number
  readonly r2: number
}

describe('the regression example: y = sin(x₁) + ½·x₂² + noise, trained through the CLI', () => {
  const model = file('regression.safetensors')
  beforeAll(async () => {
    ok(await run('train', '--spec', example('model.json'), '--data', example('train.csv'), '--config', example('train.json'), '--task', 'regression', '--out', model, '--json'))
  }, 120_000)

  it('its data files are what generate.ts draws (same seed, same text)', () => {
    expect(readFileSync(example('train.csv'), 'utf8')).toBe(csv(1000, 1))
    expect(readFileSync(example('test.csv'), 'utf8')).toBe(csv(250, 2))
  })

  it('reaches R² ≥ 0.98 on the test file (the noise allows about 0.99)', async () => {
    const m = JSON.parse(ok(await run('eval', '--model', model, '--data', example('test.csv'), '--json')).stdout) as Metrics
    expect(m.examples).toBe(250)
    expect(m.lossName).toBe('mse')
    expect(m.r2).toBeGreaterThanOrEqual(0.98)
    expect(m.loss).toBeCloseTo(m.mse, 12)
  })

  it('eval’s MSE, MAE and R² are those of predict’s values against the targets (plain loops)', async () => {
    const m = JSON.parse(ok(await run('eval', '--model', model, '--data', example('test.csv'), '--json')).stdout) as Metrics
    const p = JSON.parse(ok(await run('predict', '--model', model, '--input', example('test.csv'), '--json')).stdout) as { task: string; predictions: { values: number[] }[] }
    expect(p.task).toBe('regression')
    const rows = readFileSync(example('test.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number))
    const y = rows.map((r) => r[2]!)
    const yHat = p.predictions.map((q) => q.values[0]!)
    const mean = y.reduce((a, b) => a + b, 0) / y.length
    const sse = y.reduce((a, v, i) => a + (yHat[i]! - v) ** 2, 0)
    const sst = y.reduce((a, v) => a + (v - mean) ** 2, 0)
    expect(m.mse).toBeCloseTo(sse / y.length, 12)
    expect(m.mae).toBeCloseTo(y.reduce((a, v, i) => a + Math.abs(yHat[i]! - v), 0) / y.length, 12)
    expect(m.r2).toBeCloseTo(1 - sse / sst, 12)
    // predict leaves the target column out and runs the model of the file
    const loaded = right(CheckpointFile.load(model))
    const x = tensor(rows.map((r) => [r[0]!, r[1]!]))
    expect(yHat).toEqual(Array.from(Layer.apply(loaded.built.model, loaded.params, x, loaded.state).data))
  })

  it('prints a table of values, and refuses --probabilities', async () => {
    const inputs = file('points.csv', 'x1,x2\n0,0\n1.5,-1\n')
    const r = ok(await run('predict', '--model', model, '--input', inputs))
    expect(r.stdout.split('\n')[0]).toBe('    #  values')
    expect(r.stdout).toMatch(/^ {4}1 {2}-?\d+\.\d+/m)
    expect(oneLineError(await run('predict', '--model', model, '--input', inputs, '--probabilities'))).toBe(
      `lamina predict: --probabilities: ${model} is a regression model, it predicts values, not classes`
    )
  })

  it('inspect shows the task, the loss and the epochs', async () => {
    const r = ok(await run('inspect', model))
    expect(r.stdout.split('\n')[2]).toBe('task regression, loss mse, 60 epochs trained')
    const j = JSON.parse(ok(await run('inspect', model, '--json')).stdout) as { task: string; loss: string; epoch: number }
    expect(j).toMatchObject({ task: 'regression', loss: 'mse', epoch: 60 })
  })
})

describe('lamina train --task regression: losses, targets, data', () => {
  const data = file('two.csv', 'a,b,price,volume\n1,2,3,4\n2,1,5,6\n0,1,1,2\n1,1,3.5,4.5\n')
  const spec = file('two.json', JSON.stringify({ input: [2], layers: [{ kind: 'dense', units: 2 }] }))

  it('trains with --loss huber on two named targets and records them; eval and predict use them', async () => {
    const out = file('two.safetensors')
    ok(await run('train', '--spec', spec, '--data', data, '--task', 'regression', '--loss', 'huber', '--target', 'price,volume', '--epochs', '3', '--out', out))
    const loaded = right(CheckpointFile.load(out))
    expect(loaded).toMatchObject({ task: 'regression', loss: 'huber' })
    expect(loaded.metadata['targets']).toBe('["price","volume"]')
    const m = JSON.parse(ok(await run('eval', '--model', out, '--data', data, '--json')).stdout) as Metrics & { targets: string[] }
    expect(m.lossName).toBe('huber')
    expect(m.targets).toEqual(['price', 'volume'])
    const regression = right(Dataset.regressionFromCsv(readFileSync(data, 'utf8'), { targets: ['price', 'volume'] }))
    const want = Train.evaluate(loaded.built.model, loaded.params, loaded.state, regression, (p, y) => Loss.huber(p, y))
    expect([m.loss, m.mse, m.r2]).toEqual([want.loss, want.mse, want.r2])
    // the inputs of predict may carry the targets: left out by their recorded names
    const p = JSON.parse(ok(await run('predict', '--model', out, '--input', data, '--json')).stdout) as { predictions: { values: number[] }[] }
    expect(p.predictions.map((q) => q.values)).toEqual(Layer.apply(loaded.built.model, loaded.params, regression.x).toArray())
  })

  it('refuses what does not fit a regression run, as bad usage in one line', async () => {
    const out = file('never.safetensors')
    const cases: Array<readonly [readonly string[], string]> = [
      [['--task', 'regression', '--loss', 'crossEntropyWithLogits'], 'lamina train: loss "crossEntropyWithLogits" is not a regression loss: use mse, l1, huber with --task regression'],
      [['--task', 'ranking'], "lamina train: --task must be one of classification, regression, got 'ranking'"],
      [['--dtype', 'f16'], "lamina train: --dtype must be one of f64, f32, got 'f16'"],
      [['--target', 'price'], 'lamina train: --target names the target columns of a regression dataset: add --task regression'],
      [['--loss', 'hinge'], "lamina train: --loss must be one of crossEntropyWithLogits, crossEntropy, nll, mse, l1, binaryCrossEntropyWithLogits, binaryCrossEntropy, huber, got 'hinge'"]
    ]
    for (const [args, message] of cases) {
      const r = await run('train', '--spec', spec, '--data', data, '--out', out, ...args)
      expect(r.code).toBe(2)
      expect(oneLineError(r)).toBe(message)
    }
    const mnist = await run('train', '--spec', spec, '--data', 'mnist', '--task', 'regression', '--out', out)
    expect(oneLineError(mnist)).toMatch(/^lamina train: --data mnist holds class labels, not real-valued targets/)
    const noTarget = await run('train', '--spec', spec, '--data', file('nolabel.csv', 'a,b\n1,2\n'), '--task', 'regression', '--out', out)
    expect(noTarget.code).toBe(1)
    expect(oneLineError(noTarget)).toMatch(/expected a target column "y" or "target"/)
  })
})

describe('lamina train --resume: 2 epochs, then 2 more, give the file of 4', () => {
  const points = file('points.json', JSON.stringify({ x: [[2, 0], [1.5, 0.2], [1, 1], [0.5, 2], [-2, 0], [-1.5, -0.2], [-1, -1], [-0.5, -2]], labels: [0, 0, 0, 0, 1, 1, 1, 1] }))
  const spec = file('mlp.json', JSON.stringify({ input: [2], layers: [{ kind: 'dense', units: 8 }, { kind: 'batchNorm' }, { kind: 'tanh' }, { kind: 'dropout', rate: 0.25 }, { kind: 'dense', units: 2 }] }))
  const common = ['--data', points, '--batch', '3', '--lr', '0.05', '--seed', '4', '--save-optimizer']

  for (const dtype of ['f64', 'f32'] as const) {
    it(`${dtype}: byte for byte, Adam's state and the batch order carried over`, async () => {
      const [four, two, resumed] = [`four-${dtype}`, `two-${dtype}`, `resumed-${dtype}`].map((n) => file(`${n}.safetensors`))
      ok(await run('train', '--spec', spec, ...common, '--dtype', dtype, '--epochs', '4', '--out', four!))
      ok(await run('train', '--spec', spec, ...common, '--dtype', dtype, '--epochs', '2', '--out', two!))
      const r = ok(await run('train', '--resume', two!, '--data', points, '--epochs', '2', '--save-optimizer', '--out', resumed!))
      expect(r.stdout).toMatch(/^epoch 3\/4: /m)
      expect(r.stdout).toContain('trained 2 epochs (epochs 3–4) on 8 examples')
      expect(Buffer.compare(readFileSync(resumed!), readFileSync(four!))).toBe(0)
      expect(right(CheckpointFile.load(resumed!))).toMatchObject({ dtype, epoch: 4, optimizer: { spec: { kind: 'adam' }, state: { step: 12 } } })
    })
  }

  it('without a saved optimizer state it warns and starts the optimizer afresh; conflicting flags are bad usage', async () => {
    const plain = file('plain.safetensors')
    ok(await run('train', '--spec', spec, '--data', points, '--epochs', '1', '--out', plain))
    const r = await run('train', '--resume', plain, '--data', points, '--epochs', '1', '--out', file('plain2.safetensors'))
    expect(r.code).toBe(0)
    expect(r.stderr).toBe(`lamina train: '${plain}' holds no optimizer state (train with --save-optimizer to keep it): the adam optimizer starts afresh\n`)
    expect(right(CheckpointFile.load(file('plain2.safetensors'))).epoch).toBe(2)
    expect(oneLineError(await run('train', '--resume', plain, '--spec', spec, '--data', points, '--out', file('x.safetensors')))).toBe(
      `lamina train: --resume '${plain}' trains the model in that file, with its spec: leave out --spec`
    )
    expect(oneLineError(await run('train', '--resume', plain, '--dtype', 'f32', '--data', points, '--out', file('x.safetensors')))).toBe(
      `lamina train: --dtype f32: the model '${plain}' is f64; it trains on in its own dtype`
    )
    expect(oneLineError(await run('train', '--resume', plain, '--task', 'regression', '--data', points, '--out', file('x.safetensors')))).toBe(
      `lamina train: --task regression: the model '${plain}' is a classification model`
    )
  })
})

describe('float32 model files through eval, predict and inspect', () => {
  const x = Random.normal(Random.key(7), [12, 784], { dtype: 'f32' })
  const labels = Int32Array.from({ length: 12 }, (_, i) => i % 10)
  const data = file('digits.json', JSON.stringify({ x: x.toArray(), labels: [...labels] }))

  it('a file as the main job (examples/mnist/main.ts) writes it: f32 parameters, its own training metadata', async () => {
    const spec = { input: [784], layers: [{ kind: 'dense' as const, units: 16 }, { kind: 'relu' as const }, { kind: 'dense' as const, units: 10 }] }
    const built = right(Spec.build(spec))
    const params = built.model.init(Random.key(3), 'f32')
    const main = file(
      'main-job.safetensors',
      Safetensors.encode(Safetensors.fromTree(params), {
        lamina: '1',
        spec: JSON.stringify(spec),
        training: JSON.stringify({ seed: 0, epochs: 6, batchSize: 64, lr: 0.002, shift: 1, dtype: 'f32', testAccuracy: 0.98 })
      })
    )
    const e = JSON.parse(ok(await run('eval', '--model', main, '--data', data, '--json')).stdout) as { accuracy: number; loss: number; lossName: string }
    const want = Train.evaluate(built.model, params, built.model.initState(), { x, labels }, (z, l) => Loss.crossEntropyWithLogits(z, l))
    expect(e.lossName).toBe('crossEntropyWithLogits')
    expect([e.accuracy, e.loss]).toEqual([want.accuracy, want.loss])
    expect(ok(await run('inspect', main)).stdout).toContain('dtype f32')
    const p = JSON.parse(ok(await run('predict', '--model', main, '--input', data, '--json')).stdout) as { predictions: { scores: number[] }[] }
    expect(p.predictions.map((q) => q.scores)).toEqual(Layer.apply(built.model, params, x).toArray())
  })

  it('lamina train --dtype f32 trains and saves float32', async () => {
    const spec = file('small.json', JSON.stringify({ input: [784], layers: [{ kind: 'dense', units: 10 }] }))
    const out = file('f32.safetensors')
    ok(await run('train', '--spec', spec, '--data', data, '--dtype', 'f32', '--epochs', '2', '--out', out))
    const loaded = right(CheckpointFile.load(out))
    expect(loaded.dtype).toBe('f32')
    expect(loaded.metadata['dtype']).toBe('f32')
    expect(Object.values(Safetensors.read(readFileSync(out)).tensors).map((t) => t.dtype)).toEqual(['f32', 'f32'])
    ok(await run('eval', '--model', out, '--data', data))
  })
})

describe('a model composed in TypeScript, saved with Checkpoint.save, through the CLI', () => {
  const model = Layer.sequential(
    Layers.reshape([1, 6, 6]),
    Conv.conv2d(1, 3, 3, { padding: 1 }),
    Norm.batchNorm2d(3),
    Layers.relu(),
    Conv.maxPool2d(2),
    Layers.flatten(),
    Layers.dropout(0.5),
    Layers.dense(27, 4),
    Layers.gelu('tanh'),
    Layers.dense(4, 3)
  )
  const params = model.init(Random.key(21))
  const x = Random.normal(Random.key(22), [9, 36])
  const { state } = Layer.train(model, params, model.initState(), x, Random.key(23))
  const labels = Int32Array.from({ length: 9 }, (_, i) => i % 3)
  const out = file('typed.safetensors')
  const data = file('typed.json', JSON.stringify({ x: x.toArray(), labels: [...labels] }))

  beforeAll(async () => {
    right(await CheckpointFile.save(out, model, params, { state, input: [36], loss: 'crossEntropyWithLogits', classes: ['red', 'green', 'blue'] }))
  })

  it('predict gives Layer.apply’s scores, eval Train.evaluate’s accuracy and loss', async () => {
    const p = JSON.parse(ok(await run('predict', '--model', out, '--input', data, '--json')).stdout) as { predictions: { class: number; scores: number[] }[] }
    const y = Layer.apply(model, params, x, state)
    expect(p.predictions.map((q) => q.scores)).toEqual(y.toArray())
    const e = JSON.parse(ok(await run('eval', '--model', out, '--data', data, '--json')).stdout) as { accuracy: number; loss: number; confusion: number[][] }
    const want = Train.evaluate(model, params, state, { x, labels }, (z, l) => Loss.crossEntropyWithLogits(z, l))
    expect([e.accuracy, e.loss, e.confusion]).toEqual([want.accuracy, want.loss, want.confusion])
  })

  it('inspect shows its spec (Spec.fromLayer’s), its classes and its layer state', async () => {
    const j = JSON.parse(ok(await run('inspect', out, '--json')).stdout) as { spec: unknown; classes: string[]; tensors: { name: string }[] }
    expect(j.spec).toEqual(right(Spec.fromLayer(model, { input: [36] })))
    expect(j.classes).toEqual(['red', 'green', 'blue'])
    expect(j.tensors.map((t) => t.name)).toContain('state.layers.2.mean')
    expect(ok(await run('inspect', out)).stdout.split('\n')[2]).toBe('task classification, loss crossEntropyWithLogits, classes "red", "green", "blue"')
  })

  it('the file a TypeScript run saves resumes through the CLI (and back: loadFor gives the typed parameters)', async () => {
    const csvData = file('typed.csv', `${Array.from({ length: 36 }, (_, i) => `p${i}`).join(',')},label\n${(x.toArray() as number[][]).map((r, i) => `${r.join(',')},${labels[i]}`).join('\n')}\n`)
    const resumed = file('typed-resumed.safetensors')
    const r = await run('train', '--resume', out, '--data', csvData, '--epochs', '1', '--out', resumed)
    expect(r.code).toBe(0)
    const back = right(CheckpointFile.loadFor(resumed, model))
    expect(back.params.layers[7].w.shape).toEqual([27, 4])
    expect(back.epoch).toBe(1)
    expect(right(Checkpoint.decode(readFileSync(resumed))).classes).toEqual(['red', 'green', 'blue'])
    expect(r.stderr).toContain('does not record its training configuration: the defaults are used')
  })
})
