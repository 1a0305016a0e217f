/**
 * The subcommands train, eval, predict, inspect, gradcheck and bench (src/cli/*.ts): in
 * process through `main()` with collected output, and as child processes the way a user
 * runs them (bin/lamina.mjs from the sources, and node --import tsx src/cli/main.ts).
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { run } from './support/cli.js'
import type { Run } from './support/cli.js'
import { ExitCode } from '../src/cli/main.js'
import * as Safetensors from '../src/io/safetensors.js'
import * as Checkpoint from '../src/io/checkpoint.js'
import { tensor } from '../src/tensor.js'

const ROOT = path.resolve(fileURLToPath(new URL('..', import.meta.url)))


const spawn = (how: 'source' | 'bin', args: readonly string[]): Run => {
  const argv = how === 'source' ? ['--import', 'tsx', 'src/cli/main.ts', ...args] : ['bin/lamina.mjs', ...args]
  const r = spawnSync(process.execPath, argv, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, LAMINA_FROM_SOURCE: '1' }, timeout: 60_000 })
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}

/** A one-line error on stderr, nothing on stdout. */
const oneLineError = (r: Run): string => {
  expect(r.stdout).toBe('')
  expect(r.stderr.endsWith('\n')).toBe(true)
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1)
  return r.stderr.trimEnd()
}

const dir = mkdtempSync(path.join(tmpdir(), 'lamina-cli-'))
const file = (name: string, contents?: string | Uint8Array): string => {
  const p = path.join(dir, name)
  if (contents !== undefined) writeFileSync(p, contents)
  return p
}

// two clusters in the plane, classes 0 and 1
const points = {
  x: [[2, 0], [1.5, 0.2], [1, 1], [0.5, 2], [-2, 0], [-1.5, -0.2], [-1, -1], [-0.5, -2]],
  labels: [0, 0, 0, 0, 1, 1, 1, 1]
}
const specFile = file('mlp.json', JSON.stringify({ input: [2], layers: [{ kind: 'dense', units: 8 }, { kind: 'tanh' }, { kind: 'dense', units: 2 }] }))
const dataFile = file('points.json', JSON.stringify(points))
const csvFile = file('points.csv', `a,b,label\n${points.x.map((r, i) => `${r.join(',')},${points.labels[i]}`).join('\n')}\n`)
const inputsFile = file('inputs.json', JSON.stringify([[3, 0], [-3, 0]]))
const configFile = file('train.json', JSON.stringify({ epochs: 2, batchSize: 4, optimizer: { kind: 'adam', lr: 0.05 } }))
const model = file('mlp.safetensors')

beforeAll(async () => {
  const r = await run('train', '--spec', specFile, '--data', dataFile, '--epochs', '30', '--batch', '4', '--lr', '0.05', '--seed', '1', '--out', model)
  expect(r.stderr).toBe('')
  expect(r.code).toBe(0)
})

describe('lamina train', () => {
  it('reports a one-logit binary model\'s train accuracy by its sign, not the arg-max of one output', async () => {
    const spec = file('binary.json', JSON.stringify({ input: [2], layers: [{ kind: 'dense', units: 1 }] }))
    const config = file('binary-train.json', JSON.stringify({ epochs: 60, batchSize: 4, loss: 'binaryCrossEntropyWithLogits', optimizer: { kind: 'adam', lr: 0.1 } }))
    const r = await run('train', '--spec', spec, '--data', dataFile, '--config', config, '--json', '--out', file('binary.safetensors'))
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    // the two clusters are separable by a line: every point right (the arg-max of one output said 50%)
    expect((JSON.parse(r.stdout) as { train: { accuracy: number } }).train.accuracy).toBe(1)
  })

  it('trains, prints one line per epoch off a terminal, and saves safetensors with the spec in the metadata', async () => {
    const out = file('small.safetensors')
    const r = await run('train', '--spec', specFile, '--data', dataFile, '--config', configFile, '--out', out)
    expect(r).toMatchObject({ code: 0, stderr: '' })
    expect(r.stdout).toMatch(/^epoch 1\/2: loss \d+\.\d{4}, /m)
    expect(r.stdout).toMatch(/^epoch 2\/2: loss /m)
    expect(r.stdout).toContain(`saved ${out}`)
    expect(r.stdout).not.toContain('█')
    const decoded = Safetensors.read(readFileSync(out))
    expect(decoded.metadata.lamina).toBe('1')
    expect(JSON.parse(decoded.metadata.spec!)).toEqual({ input: [2], layers: [{ kind: 'dense', units: 8 }, { kind: 'tanh' }, { kind: 'dense', units: 2 }] })
    expect(JSON.parse(decoded.metadata.training!)).toMatchObject({ epochs: 2, batchSize: 4, optimizer: { kind: 'adam', lr: 0.05 } })
    expect(Object.keys(decoded.tensors).sort()).toEqual(['layers.0.b', 'layers.0.w', 'layers.2.b', 'layers.2.w'])
    // atomic: no temporary file left beside it
    expect(readdirSync(dir).filter((f) => f.startsWith('small') && f !== 'small.safetensors')).toEqual([])
  })

  it('is deterministic for a seed, and --json gives the history', async () => {
    const a = await run('train', '--spec', specFile, '--data', csvFile, '--epochs', '2', '--seed', '7', '--out', file('a.safetensors'), '--json')
    const b = await run('train', '--spec', specFile, '--data', csvFile, '--epochs', '2', '--seed', '7', '--out', file('b.safetensors'), '--json')
    expect(a.code).toBe(0)
    const ja = JSON.parse(a.stdout) as { history: { loss: number }[]; config: { seed: number; optimizer: { kind: string } } }
    const jb = JSON.parse(b.stdout) as typeof ja
    expect(ja.history.map((h) => h.loss)).toEqual(jb.history.map((h) => h.loss))
    expect(ja.config.seed).toBe(7)
    expect(ja.config.optimizer.kind).toBe('adam') // the default
    expect(Safetensors.read(readFileSync(file('a.safetensors'))).tensors['layers.0.w']!.toArray()).toEqual(
      Safetensors.read(readFileSync(file('b.safetensors'))).tensors['layers.0.w']!.toArray()
    )
  })

  it('reports a spec with a shape mistake in the ShapeError words and exits 1', async () => {
    const bad = file('bad.json', JSON.stringify({ input: [784], layers: [{ kind: 'reshape', shape: [1, 28, 28] }, { kind: 'conv2d', filters: 6, kernel: 3 }, { kind: 'dense', units: 10, inputs: 100 }] }))
    const r = await run('train', '--spec', bad, '--data', dataFile, '--out', file('never.safetensors'))
    expect(r.code).toBe(ExitCode.failed)
    expect(oneLineError(r)).toBe(`lamina train: ${bad}: ShapeError: layer 3 expects 100 features but layer 2 produces shape [6,26,26]`)
    expect(existsSync(file('never.safetensors'))).toBe(false)
  })

  it('reports data that does not fit the model (exit 1) and a malformed spec (exit 1)', async () => {
    const wide = file('wide.json', JSON.stringify({ x: [[1, 2, 3]], labels: [0] }))
    const r = await run('train', '--spec', specFile, '--data', wide, '--out', file('never.safetensors'))
    expect(r.code).toBe(1)
    // the model's size first, the data's second; the data file named, no option the user never passed
    expect(oneLineError(r)).toBe('lamina train: ShapeError: wide.json: the model expects 2 features per example (input shape [2]), the data rows have 3')
    const malformed = file('malformed.json', JSON.stringify({ input: [2], layers: [{ kind: 'dense', unit: 3 }] }))
    const m = await run('train', '--spec', malformed, '--data', dataFile, '--out', file('never.safetensors'))
    expect(m.code).toBe(1)
    expect(oneLineError(m)).toContain('model spec')
  })

  it.each([
    [['--data', 'x', '--out', 'y'], 'lamina train: give the model: --spec <file> for a new one, or --resume <model file> to train one further'],
    [['--spec', 'SPEC', '--data', 'DATA', '--out', 'o', '--epochs', '0'], "lamina train: --epochs must be an integer ≥ 1, got '0'"],
    [['--spec', 'SPEC', '--data', 'DATA', '--out', 'o', '--batch', 'x'], "lamina train: --batch must be an integer ≥ 1, got 'x'"],
    [['--spec', 'SPEC', '--data', 'DATA', '--out', 'o', '--lr', '-1'], "lamina train: --lr must be a positive number, got '-1'"],
    [['--spec', 'SPEC', '--data', 'DATA', '--out', 'o', '--seed', '1.5'], "lamina train: --seed must be an integer ≥ 0, got '1.5'"],
    [['--spec', 'nope.json', '--data', 'DATA', '--out', 'o'], "lamina train: spec 'nope.json' does not exist"],
    [['--spec', 'SPEC', '--data', 'missing.csv', '--out', 'o'], "lamina train: data file 'missing.csv' does not exist"],
    [['--spec', 'SPEC', '--data', 'DATA', '--out', 'o', '--bogus'], "error: unknown option '--bogus'"]
  ])('bad usage %j exits 2 with a one-line reason', async (args, message) => {
    const r = await run('train', ...args.map((a) => (a === 'SPEC' ? specFile : a === 'DATA' ? dataFile : a)))
    expect(r.code).toBe(ExitCode.usage)
    expect(oneLineError(r)).toBe(message)
  })

  it('trains on --data mnist for one epoch (a 784-16-10 MLP) and eval uses the test part', async () => {
    const spec = file('mnist.json', JSON.stringify({ input: [784], layers: [{ kind: 'dense', units: 16 }, { kind: 'relu' }, { kind: 'dense', units: 10 }] }))
    const out = file('mnist.safetensors')
    const r = await run('train', '--spec', spec, '--data', 'mnist', '--limit', '8000', '--epochs', '1', '--batch', '64', '--lr', '0.003', '--out', out)
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('on 8000 examples')
    const e = await run('eval', '--model', out, '--data', 'mnist', '--limit', '2000', '--json')
    expect(e.code).toBe(0)
    const result = JSON.parse(e.stdout) as { examples: number; accuracy: number; confusion: number[][] }
    expect(result.examples).toBe(2000)
    expect(result.accuracy).toBeGreaterThan(0.75)
    expect(result.confusion).toHaveLength(10)
    expect(result.confusion.flat().reduce((a, b) => a + b, 0)).toBe(2000)
    const other = await run('eval', '--model', out, '--data', file('x.json', '{"x":[],"labels":[]}'), '--limit', '5')
    expect(other.code).toBe(2)
    expect(other.stderr).toContain('--limit applies to --data mnist only')
  }, 30_000)
})

describe('lamina eval', () => {
  it('prints loss, accuracy and the confusion matrix', async () => {
    const r = await run('eval', '--model', model, '--data', dataFile)
    expect(r).toMatchObject({ code: 0, stderr: '' })
    expect(r.stdout).toMatch(/^8 examples: loss \d+\.\d{4} \(crossEntropyWithLogits\), accuracy 100\.00%$/m)
    expect(r.stdout).toContain('confusion matrix')
    expect(r.stdout).toMatch(/^\s+0\s+4\s+0$/m)
    expect(r.stdout).toMatch(/^\s+1\s+0\s+4$/m)
  })

  it('--json for machines; the CSV file gives the same figures', async () => {
    const json = JSON.parse((await run('eval', '--model', model, '--data', dataFile, '--json')).stdout) as { accuracy: number; loss: number; confusion: number[][] }
    const csv = JSON.parse((await run('eval', '--model', model, '--data', csvFile, '--json')).stdout) as typeof json
    expect(json.accuracy).toBe(1)
    expect(json.confusion).toEqual([[4, 0], [0, 4]])
    expect(csv.loss).toBeCloseTo(json.loss, 12)
  })

  it('rejects a file that is not a model (exit 1) and a missing option (exit 2)', async () => {
    const plain = file('plain.safetensors', Safetensors.encode({ w: (await import('../src/tensor.js')).tensor([1, 2]) }))
    const r = await run('eval', '--model', plain, '--data', dataFile)
    expect(r.code).toBe(1)
    expect(oneLineError(r)).toBe(`lamina eval: ${plain}: not a lamina model: the safetensors metadata has no "lamina" key (a file written by lamina train has one)`)
    expect((await run('eval', '--model', model)).code).toBe(2)
  })

  it('reads a one-output model without a recorded loss as binary (binaryCrossEntropyWithLogits), and a recorded loss as recorded', async () => {
    // logit = x0 − x1: a file written without lamina train's "training" metadata
    const spec = { input: [2], layers: [{ kind: 'dense' as const, units: 1 }] }
    const params = { layers: [{ w: tensor([[1], [-1]]), b: tensor([0]) }] }
    const bare = file('binary-bare.safetensors', Checkpoint.encode(spec, params, { layers: [{}] }))
    const data = file('binary.json', JSON.stringify({ x: [[2, 0], [0, 2]], labels: [1, 0] }))
    const j = JSON.parse((await run('eval', '--model', bare, '--data', data, '--json')).stdout) as { lossName: string; loss: number; accuracy: number; confusion: number[][] }
    expect(j.lossName).toBe('binaryCrossEntropyWithLogits')
    // class 1 when the logit is > 0 (not the index of the largest of one output, always 0)
    expect(j.accuracy).toBe(1)
    expect(j.confusion).toEqual([[1, 0], [0, 1]])
    // −log σ(2) for each example
    expect(j.loss).toBeCloseTo(Math.log(1 + Math.exp(-2)), 10)
    // a "training" record without "loss" is not read as cross-entropy on logits either
    const noLoss = file('binary-noloss.safetensors', Checkpoint.encode(spec, params, { layers: [{}] }, { training: '{"epochs":3}' }))
    expect((JSON.parse((await run('eval', '--model', noLoss, '--data', data, '--json')).stdout) as { lossName: string }).lossName).toBe('binaryCrossEntropyWithLogits')
    const mse = file('binary-mse.safetensors', Checkpoint.encode(spec, params, { layers: [{}] }, { training: '{"loss":"mse"}' }))
    expect((JSON.parse((await run('eval', '--model', mse, '--data', data, '--json')).stdout) as { lossName: string }).lossName).toBe('mse')
  })
})

describe('lamina predict', () => {
  it('prints the class and scores of each input', async () => {
    const r = await run('predict', '--model', model, '--input', inputsFile)
    expect(r.code).toBe(0)
    const rows = r.stdout.trim().split('\n').slice(1)
    expect(rows.map((l) => l.trim().split(/\s+/)[1])).toEqual(['0', '1'])
  })

  it('writes JSON with --output (CSV inputs with a header and a label column), and --json to stdout', async () => {
    const out = file('predictions.json')
    const r = await run('predict', '--model', model, '--input', csvFile, '--output', out)
    expect(r).toMatchObject({ code: 0, stdout: `wrote 8 predictions to ${out}\n` })
    const doc = JSON.parse(readFileSync(out, 'utf8')) as { predictions: { class: number; scores: number[] }[] }
    expect(doc.predictions.map((p) => p.class)).toEqual(points.labels)
    expect(doc.predictions[0]!.scores).toHaveLength(2)
    const j = JSON.parse((await run('predict', '-m', model, '-i', inputsFile, '--json')).stdout) as typeof doc
    expect(j.predictions.map((p) => p.class)).toEqual([0, 1])
  })

  it('rejects inputs of the wrong width with a one-line reason (exit 1)', async () => {
    const wrong = file('wrong.json', JSON.stringify({ x: [[1, 2, 3]] }))
    const r = await run('predict', '--model', model, '--input', wrong)
    expect(r.code).toBe(1)
    expect(oneLineError(r)).toBe('lamina predict: ShapeError: wrong.json: the model expects 2 features per example (input shape [2]), the data rows have 3')
  })

  it('--probabilities: softmax over logits, sigmoid for one logit, never a second softmax or sigmoid', async () => {
    const state = { layers: [{}, {}] }
    const w = tensor([[1, 0, -1], [0, 1, 0]])
    const b = tensor([0, 0, 0])
    const input = file('prob-inputs.json', JSON.stringify([[1, 2], [0, 0]]))
    type Out = { predictions: { class: number; scores: number[]; probabilities?: number[] }[] }
    const predict = async (m: string, ...more: string[]): Promise<Out> => {
      const r = await run('predict', '--model', m, '--input', input, '--json', ...more)
      expect(r).toMatchObject({ code: 0, stderr: '' })
      return JSON.parse(r.stdout) as Out
    }
    // logits [1, 2, −1] and [0, 0, 0]
    const z = Math.E + Math.E ** 2 + Math.E ** -1
    const expected = [[Math.E / z, Math.E ** 2 / z, Math.E ** -1 / z], [1 / 3, 1 / 3, 1 / 3]]
    const logits = file('prob-logits.safetensors', Checkpoint.encode({ input: [2], layers: [{ kind: 'dense', units: 3 }] }, { layers: [{ w, b }] }, { layers: [{}] }))
    const j = await predict(logits, '--probabilities')
    j.predictions.forEach((p, i) => p.probabilities!.forEach((q, c) => expect(q).toBeCloseTo(expected[i]![c]!, 12)))
    expect(j.predictions.map((p) => p.class)).toEqual([1, 0])
    expect(j.predictions[0]!.scores).toEqual([1, 2, -1])
    expect((await predict(logits)).predictions[0]!.probabilities).toBeUndefined()
    // a model that ends in softmax already outputs probabilities: the same numbers, not a softmax of them
    const soft = file('prob-softmax.safetensors', Checkpoint.encode({ input: [2], layers: [{ kind: 'dense', units: 3 }, { kind: 'softmax' }] }, { layers: [{ w, b }, {}] }, state))
    const s2 = await predict(soft, '-p')
    s2.predictions.forEach((p, i) => p.probabilities!.forEach((q, c) => expect(q).toBeCloseTo(expected[i]![c]!, 12)))
    // one logit (x0 − x1), no recorded loss: a binary model, σ(logit), class 1 when the logit is > 0
    const bin = file('prob-binary.safetensors', Checkpoint.encode({ input: [2], layers: [{ kind: 'dense', units: 1 }] }, { layers: [{ w: tensor([[1], [-1]]), b: tensor([0]) }] }, { layers: [{}] }))
    const two = file('prob-two.json', JSON.stringify([[2, 0], [0, 2]]))
    const rb = await run('predict', '--model', bin, '--input', two, '--json', '--probabilities')
    const jb = JSON.parse(rb.stdout) as Out
    expect(jb.predictions.map((p) => p.class)).toEqual([1, 0])
    expect(jb.predictions[0]!.probabilities![0]).toBeCloseTo(1 / (1 + Math.exp(-2)), 12)
    expect(jb.predictions[1]!.probabilities![0]).toBeCloseTo(1 / (1 + Math.exp(2)), 12)
    // ends in sigmoid: taken as it is (σ(2), not σ(σ(2)))
    const sig = file('prob-sigmoid.safetensors', Checkpoint.encode({ input: [2], layers: [{ kind: 'dense', units: 1 }, { kind: 'sigmoid' }] }, { layers: [{ w: tensor([[1], [-1]]), b: tensor([0]) }, {}] }, state))
    const js = JSON.parse((await run('predict', '--model', sig, '--input', two, '--json', '-p')).stdout) as Out
    expect(js.predictions.map((p) => p.class)).toEqual([1, 0])
    expect(js.predictions[0]!.probabilities![0]).toBeCloseTo(1 / (1 + Math.exp(-2)), 12)
    // the table shows the probabilities instead of the scores
    const t = await run('predict', '--model', bin, '--input', two, '--probabilities')
    expect(t.stdout.split('\n')[0]).toMatch(/^\s+#\s+class\s+probabilities$/)
    expect(t.stdout).toMatch(/^\s+0\s+1\s+0\.8808$/m)
    const help = await run('predict', '--help')
    expect(help.stdout.replace(/\s+/g, ' ')).toMatch(/ends in softmax or sigmoid already outputs probabilities/)
  })
})

describe('lamina inspect', () => {
  it('validates a model and prints its spec and tensor table (exit 0)', async () => {
    const r = await run('inspect', model)
    expect(r).toMatchObject({ code: 0, stderr: '' })
    expect(r.stdout).toContain(`${model}: a valid lamina model`)
    expect(r.stdout).toContain('{"kind":"dense","units":8}')
    expect(r.stdout).toMatch(/^layers\.0\.w\s+F64\s+\[2,8\]\s+16\s+128\s/m)
    expect(r.stdout).toMatch(/^layers\.2\.b\s+F64\s+\[2\]\s+2\s+16\s/m)
    const j = JSON.parse((await run('inspect', model, '--json')).stdout) as { valid: boolean; tensors: { name: string; bytes: number }[]; metadata: Record<string, string> }
    expect(j.valid).toBe(true)
    expect(j.tensors.map((t) => t.name).sort()).toEqual(['layers.0.b', 'layers.0.w', 'layers.2.b', 'layers.2.w'])
    expect(j.metadata.lamina).toBe('1')
  })

  it('saves and checks batch-norm running statistics as state tensors', async () => {
    const spec = file('bn.json', JSON.stringify({ input: [2], layers: [{ kind: 'dense', units: 4 }, { kind: 'batchNorm' }, { kind: 'dense', units: 2 }] }))
    const out = file('bn.safetensors')
    expect((await run('train', '--spec', spec, '--data', dataFile, '--epochs', '1', '--batch', '4', '--out', out)).code).toBe(0)
    const r = await run('inspect', out, '--json')
    expect(r.code).toBe(0)
    const names = (JSON.parse(r.stdout) as { tensors: { name: string }[] }).tensors.map((t) => t.name)
    expect(names).toContain('state.layers.1.mean')
    expect(names).toContain('state.layers.1.variance')
    expect((await run('eval', '--model', out, '--data', dataFile)).code).toBe(0)
  })

  it('exits 1 with a one-line reason for a truncated file', async () => {
    const bytes = readFileSync(model)
    const truncated = file('truncated.safetensors', bytes.subarray(0, bytes.length - 10))
    const r = await run('inspect', truncated)
    expect(r.code).toBe(ExitCode.failed)
    expect(oneLineError(r)).toMatch(new RegExp(`^lamina inspect: ${truncated.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: safetensors: `))
    const short = file('short.safetensors', bytes.subarray(0, 5))
    expect(oneLineError(await run('inspect', short))).toContain('shorter than the 8-byte header length')
  })

  it('exits 1 when the tensors do not match the metadata spec, or the spec does not build', async () => {
    const decoded = Safetensors.read(readFileSync(model))
    const otherSpec = JSON.stringify({ input: [2], layers: [{ kind: 'dense', units: 5 }, { kind: 'tanh' }, { kind: 'dense', units: 2 }] })
    const mismatch = file('mismatch.safetensors', Safetensors.encode(decoded.tensors, { ...decoded.metadata, spec: otherSpec }))
    const r = await run('inspect', mismatch)
    expect(r.code).toBe(1)
    expect(oneLineError(r)).toContain('the parameters: safetensors: toTree: tensor "layers.0.w" has shape [2,8] in the file, expected [2,5]')
    const badSpec = JSON.stringify({ input: [784], layers: [{ kind: 'reshape', shape: [1, 28, 28] }, { kind: 'conv2d', filters: 6, kernel: 3 }, { kind: 'dense', units: 10, inputs: 100 }] })
    const unbuildable = file('unbuildable.safetensors', Safetensors.encode(decoded.tensors, { ...decoded.metadata, spec: badSpec }))
    expect(oneLineError(await run('inspect', unbuildable))).toContain('the metadata spec: ShapeError: layer 3 expects 100 features but layer 2 produces shape [6,26,26]')
  })

  it('exits 2 for a missing file or argument', async () => {
    expect(oneLineError(await run('inspect', file('absent.safetensors')))).toMatch(/^lamina inspect: model file '.*absent\.safetensors' does not exist$/)
    expect(await run('inspect')).toMatchObject({ code: 2, stderr: "error: missing required argument 'file'\n" })
  })
})

describe('lamina gradcheck and bench', () => {
  it('gradcheck runs the law harness over primitives and layers and prints a table', async () => {
    const r = await run('gradcheck', '--runs', '2', '--only', 'tanh,matmul,dense,conv2d,batchNorm', '--seed', '1')
    expect(r).toMatchObject({ code: 0, stderr: '' })
    expect(r.stdout).toMatch(/^kind\s+name\s+cases\s+max rel\. error\s+tolerance\s+verdict$/m)
    expect(r.stdout).toMatch(/^primitive\s+matmul\s+\d+\s+\S+\s+1e-\d+\s+ok$/m)
    expect(r.stdout).toMatch(/^layer\s+conv2d\s+2\s+/m)
    // conv2d names a primitive and a layer: both rows
    expect(r.stdout).toMatch(/^primitive\s+conv2d\s+\d+\s+/m)
    expect(r.stdout).toContain('7 of 7 passed')
  })

  it('gradcheck --json, and bad usage exits 2', async () => {
    const r = await run('gradcheck', '--runs', '1', '--only', 'exp,batchNorm2d', '--json')
    const j = JSON.parse(r.stdout) as { ok: boolean; rows: { name: string; ok: boolean }[] }
    expect(j.ok).toBe(true)
    expect(j.rows.map((x) => x.name)).toEqual(['exp', 'batchNorm2d'])
    expect(oneLineError(await run('gradcheck', '--runs', '0'))).toBe("lamina gradcheck: --runs must be an integer ≥ 1, got '0'")
    expect(oneLineError(await run('gradcheck', '--only', 'nope'))).toBe("lamina gradcheck: --only: no primitive or layer named 'nope'")
  })

  it('bench runs the memory loop for --steps steps', async () => {
    const r = await run('bench', '--steps', '20', '--json')
    expect(r.code).toBe(0)
    const j = JSON.parse(r.stdout) as { steps: number; samples: { step: number }[] }
    expect(j.steps).toBe(20)
    expect(j.samples.at(-1)!.step).toBe(20)
    expect((await run('bench', '--steps', '5')).stdout).toContain('npm run bench:memory')
  })
})

describe('help', () => {
  it('lists every subcommand, and each has --help', async () => {
    const top = await run('--help')
    for (const c of ['trace', 'train', 'eval', 'predict', 'inspect', 'gradcheck', 'bench']) {
      expect(top.stdout).toMatch(new RegExp(`^  ${c} `, 'm'))
      const sub = await run(c, '--help')
      expect(sub.code).toBe(0)
      expect(sub.stdout).toMatch(new RegExp(`^Usage: lamina ${c} `))
    }
  })
})

describe('the subcommands as child processes', () => {
  it('bin/lamina.mjs: train, eval, predict, inspect on a tiny dataset', () => {
    const out = file('child.safetensors')
    const t = spawn('bin', ['train', '--spec', specFile, '--data', dataFile, '--epochs', '2', '--out', out])
    expect(t.stderr).toBe('')
    expect(t.code).toBe(0)
    expect(t.stdout).toMatch(/^epoch 2\/2: loss /m) // stdout is a pipe: lines, no bar
    expect(spawn('bin', ['eval', '--model', out, '--data', csvFile]).stdout).toContain('confusion matrix')
    expect(spawn('bin', ['predict', '--model', out, '--input', inputsFile, '--json']).code).toBe(0)
    expect(spawn('bin', ['inspect', out]).code).toBe(0)
  })

  it('node --import tsx src/cli/main.ts: a truncated file exits 1, bad usage exits 2', () => {
    const bytes = readFileSync(model)
    const truncated = file('child-truncated.safetensors', bytes.subarray(0, 40))
    const bad = spawn('source', ['inspect', truncated])
    expect(bad.code).toBe(1)
    expect(bad.stderr.trimEnd().split('\n')).toHaveLength(1)
    expect(bad.stderr).toMatch(/^lamina inspect: .*safetensors: /)
    const usage = spawn('source', ['train', '--spec', specFile])
    expect(usage.code).toBe(2)
    expect(usage.stderr).toBe("error: required option '--data <source>' not specified\n")
    const g = spawn('source', ['gradcheck', '--runs', '1', '--only', 'sin,dense'])
    expect(g.code).toBe(0)
    expect(g.stdout).toContain('2 of 2 passed')
  })
})
