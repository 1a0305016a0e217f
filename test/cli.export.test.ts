/**
 * `lamina export MODEL --format onnx|pytorch --out FILE|DIR` and its way back, `lamina import
 * STATE_DICT --format pytorch --out MODEL` (src/cli/export.ts), in process: the ONNX file runs
 * in onnxruntime-node as the model file does in lamina; the PyTorch folder holds the state
 * dict and the Python file; a state dict comes back as the same lamina model, its metadata
 * carried over from `--like`; bad usage exits 2 and a bad file 1, each with a one-line reason.
 */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import ort from 'onnxruntime-node'
import { describe, expect, it } from 'vitest'
import { run } from './support/cli.js'
import type { Run } from './support/cli.js'
import * as Checkpoint from '../src/io/checkpoint.js'
import * as Onnx from '../src/io/onnx.js'
import * as PyTorch from '../src/io/pytorch.js'
import * as Safetensors from '../src/io/safetensors.js'
import * as Spec from '../src/io/spec.js'
import * as Layer from '../src/nn/layer.js'
import * as Random from '../src/random.js'
import { fromBuffer } from '../src/tensor.js'
import type { ModelSpec } from '../src/io/spec.js'

ort.env.logLevel = 'error'

const dir = mkdtempSync(path.join(tmpdir(), 'lamina-export-'))
const at = (name: string): string => path.join(dir, name)

const right = <A>(e: { _tag: 'Left'; left: Error } | { _tag: 'Right'; right: A }): A => {
  if (e._tag === 'Left') throw e.left
  return e.right
}

/** A one-line error on stderr, nothing on stdout, no stack trace. */
const oneLineError = (r: Run): string => {
  expect(r.stdout).toBe('')
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1)
  expect(r.stderr).not.toMatch(/\n\s+at /)
  return r.stderr.trimEnd()
}

const spec: ModelSpec = {
  input: [64],
  layers: [
    { kind: 'reshape', shape: [1, 8, 8] },
    { kind: 'conv2d', filters: 3, kernel: 3, padding: 1 },
    { kind: 'batchNorm' },
    { kind: 'relu' },
    { kind: 'maxPool2d', kernel: 2 },
    { kind: 'flatten' },
    { kind: 'dense', units: 4 },
    { kind: 'gelu' }
  ]
}
const built = right(Spec.build(spec))
const params = built.model.init(Random.key(3), 'f32')
const state = {
  layers: built.model.initState().layers.map((l, i) =>
    i === 2 ? { mean: fromBuffer([0.1, -0.2, 0.3], [3], { dtype: 'f32' }), variance: fromBuffer([0.5, 1.5, 2], [3], { dtype: 'f32' }) } : l
  )
}
const metadata = { training: JSON.stringify({ loss: 'mse' }), classes: '["a","b","c","d"]' }
const modelFile = at('model.safetensors')
writeFileSync(modelFile, Checkpoint.encode(spec, params, state, metadata))
const x = fromBuffer(Float32Array.from({ length: 3 * 64 }, (_, i) => Math.sin(i)), [3, 64], { dtype: 'f32' })
const expected = Layer.apply(built.model, params, x, state)

describe('lamina export --format onnx', () => {
  it('writes one ONNX file that ONNX Runtime runs as lamina runs the model file', async () => {
    const out = at('model.onnx')
    const r = await run('export', modelFile, '--format', 'onnx', '--out', out)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^wrote .*model\.onnx \(\d+ bytes\): ONNX opset 17, "input" \[batch,64\] → "output" \[batch,4\], f32\n$/)
    const session = await ort.InferenceSession.create(readFileSync(out))
    const y = (await session.run({ input: new ort.Tensor('float32', Float32Array.from(x.data), [3, 64]) }))['output']!
    expect(y.dims).toEqual([3, 4])
    const difference = Math.max(...Array.from(expected.data, (v, i) => Math.abs(v - (y.data as Float32Array)[i]!)))
    expect(difference).toBeLessThanOrEqual(64 * 2 ** -23 * Math.max(1, ...Array.from(expected.data, Math.abs)))
  })

  it('--dtype f64 writes a DOUBLE model', async () => {
    const out = at('model-f64.onnx')
    expect((await run('export', modelFile, '--format', 'onnx', '--dtype', 'f64', '--out', out)).code).toBe(0)
    const model = right(Onnx.decode(readFileSync(out)))
    expect(model.graph?.input?.[0]?.type?.tensor_type?.elem_type).toBe(11)
  })

  it('overwrites atomically: no temporary file is left beside the target', async () => {
    const folder = mkdtempSync(path.join(dir, 'atomic-'))
    const out = path.join(folder, 'm.onnx')
    writeFileSync(out, 'old contents')
    expect((await run('export', modelFile, '-f', 'onnx', '-o', out)).code).toBe(0)
    expect(readdirSync(folder)).toEqual(['m.onnx'])
    expect(right(Onnx.decode(readFileSync(out))).producer_name).toBe('lamina-nn')
  })
})

describe('lamina export --format pytorch', () => {
  it('writes a folder (created) with the state dict and the Python file', async () => {
    const out = at('torch/nested')
    const r = await run('export', modelFile, '--format', 'pytorch', '--out', out)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(readdirSync(out).sort()).toEqual(['model.py', 'model.safetensors'])
    expect(r.stdout).toContain(`wrote ${path.join(out, 'model.safetensors')}`)
    expect(r.stdout).toContain(`python ${path.join(out, 'model.py')} loads and runs it`)
    const sd = Safetensors.read(readFileSync(path.join(out, 'model.safetensors')))
    expect(Object.keys(sd.tensors).sort()).toEqual(
      ['1.weight', '1.bias', '2.weight', '2.bias', '2.running_mean', '2.running_var', '2.num_batches_tracked', '6.weight', '6.bias'].sort()
    )
    expect(sd.tensors['6.weight']!.shape).toEqual([4, 48]) // nn.Linear(48, 4): [out, in]
    const py = readFileSync(path.join(out, 'model.py'), 'utf8')
    expect(py).toContain('nn.Linear(48, 4),  # layers[6]: dense')
    expect(py).toMatch(/^DTYPE = torch\.float32$/m)
  })

  it('and lamina import brings the state dict back: the same parameters, the metadata of --like', async () => {
    const torch = at('torch/nested/model.safetensors')
    const back = at('back.safetensors')
    const r = await run('import', torch, '--format', 'pytorch', '--like', modelFile, '--out', back)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^wrote .*back\.safetensors \(\d+ bytes\): a lamina model, input \[64\] → output \[4\], f32\n$/)
    const model = right(Checkpoint.decode(readFileSync(back)))
    expect(model.metadata['training']).toBe(metadata.training)
    expect(model.metadata['classes']).toBe(metadata.classes)
    expect(Safetensors.fromTree(model.params)).toEqual(Safetensors.fromTree(params))
    expect(Array.from(Layer.apply(model.built.model, model.params, x, model.state).data)).toEqual(Array.from(expected.data))
  })

  it('lamina import reads the spec from the state dict’s metadata, or from --spec', async () => {
    const torch = at('torch/nested/model.safetensors')
    expect((await run('import', torch, '--format', 'pytorch', '--out', at('back2.safetensors'))).code).toBe(0)
    // a state dict without lamina's metadata (as PyTorch alone writes it) needs --spec
    const plain = at('plain.safetensors')
    writeFileSync(plain, Safetensors.encode(Safetensors.read(readFileSync(torch)).tensors, { format: 'pt' }))
    const specFile = at('spec.json')
    writeFileSync(specFile, JSON.stringify(spec))
    expect((await run('import', plain, '--format', 'pytorch', '--spec', specFile, '--out', at('back3.safetensors'))).code).toBe(0)
    const noSpec = await run('import', plain, '--format', 'pytorch', '--out', at('back4.safetensors'))
    expect(noSpec.code).toBe(1)
    expect(oneLineError(noSpec)).toBe(`lamina import: ${plain}: PyTorchError: the state dict records no spec (no "lamina.spec" metadata): give the model's spec`)
  })
})

describe('bad usage and bad files', () => {
  it('an unknown format names the formats (exit 2)', async () => {
    const r = await run('export', modelFile, '--format', 'tflite', '--out', at('x'))
    expect(r.code).toBe(2)
    expect(oneLineError(r)).toBe("error: option '-f, --format <format>' argument 'tflite' is invalid. Allowed choices are onnx, pytorch.")
  })

  it('no --format or no --out (exit 2)', async () => {
    expect((await run('export', modelFile, '--out', at('x'))).code).toBe(2)
    expect((await run('export', modelFile, '--format', 'onnx')).code).toBe(2)
  })

  it('an ONNX target that is a folder, a PyTorch target that is a file (exit 2)', async () => {
    const folder = at('a-folder')
    mkdirSync(folder, { recursive: true })
    const r = await run('export', modelFile, '--format', 'onnx', '--out', folder)
    expect(r.code).toBe(2)
    expect(oneLineError(r)).toBe(`lamina export: --out '${folder}' is a folder; --format onnx writes one file (e.g. --out ${path.join(folder, 'model.onnx')})`)
    const file = at('a-file')
    writeFileSync(file, 'x')
    const t = await run('export', modelFile, '--format', 'pytorch', '--out', file)
    expect(t.code).toBe(2)
    expect(oneLineError(t)).toBe(`lamina export: --out '${file}' is a file; --format pytorch writes a folder (model.safetensors and model.py)`)
  })

  it('a file that is not a lamina model (exit 1), naming it', async () => {
    const plain = at('not-a-model.safetensors')
    writeFileSync(plain, Safetensors.encode({ w: fromBuffer([1, 2], [2]) }))
    const r = await run('export', plain, '--format', 'onnx', '--out', at('y.onnx'))
    expect(r.code).toBe(1)
    expect(oneLineError(r)).toMatch(new RegExp(`^lamina export: ${plain.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not a lamina model`))
  })

  it('lamina import: --spec with --like (exit 2); a state dict that does not fit (exit 1)', async () => {
    const torch = at('torch/nested/model.safetensors')
    const both = await run('import', torch, '--format', 'pytorch', '--spec', at('spec.json'), '--like', modelFile, '--out', at('z.safetensors'))
    expect(both.code).toBe(2)
    expect(oneLineError(both)).toBe('lamina import: give --spec or --like, not both')
    const other = at('other.json')
    writeFileSync(other, JSON.stringify({ input: [64], layers: [{ kind: 'dense', units: 4 }] }))
    const misfit = await run('import', torch, '--format', 'pytorch', '--spec', other, '--out', at('z.safetensors'))
    expect(misfit.code).toBe(1)
    expect(oneLineError(misfit)).toBe(`lamina import: ${torch}: PyTorchError: PyTorch state dict: "0.weight" is missing (layers[0], dense: nn.Linear(64, 4))`)
  })

  it('lamina --help lists both commands; their --help shows examples', async () => {
    const top = await run('--help')
    expect(top.stdout).toMatch(/^  export \[options\] <model>/m)
    expect(top.stdout).toMatch(/^  import \[options\] <state-dict>/m)
    const r = await run('export', '--help')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('$ lamina export mlp.safetensors --format onnx --out mlp.onnx')
    expect((await run('import', '--help')).stdout).toContain('$ lamina import trained.safetensors --format pytorch --out trained-lamina.safetensors')
  })
})

describe('the library and the command agree', () => {
  it('lamina export --format pytorch writes what PyTorch.encodeModel writes', async () => {
    const out = at('torch-same')
    expect((await run('export', modelFile, '--format', 'pytorch', '--out', out)).code).toBe(0)
    const loaded = right(Checkpoint.decode(readFileSync(modelFile)))
    expect(new Uint8Array(readFileSync(path.join(out, 'model.safetensors')))).toEqual(PyTorch.encodeModel(loaded))
  })
})
