/**
 * PyTorch export and import (src/io/pytorch.ts). Without PyTorch: the state dict's names and
 * layouts, checked by evaluating it the way PyTorch's modules compute (naive loops over
 * `[out, in]` Linear weights, OIHW convolutions, BatchNorm's running statistics) against
 * lamina's output; round trips lamina → state dict → lamina; a state dict written by hand
 * with PyTorch's names, layouts and dtypes (an I64 `num_batches_tracked`); the Python file's
 * text, its syntax (python3's parser), and its own safetensors reader and writer (python3 with
 * numpy standing in for torch). With PyTorch (`python3 -c 'import torch'`): the exported
 * model run by torch, one SGD step in torch, and the trained weights back in lamina.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import * as PyTorch from '../src/io/pytorch.js'
import * as Safetensors from '../src/io/safetensors.js'
import * as Spec from '../src/io/spec.js'
import * as Checkpoint from '../src/io/checkpoint.js'
import * as Layer from '../src/nn/layer.js'
import * as Random from '../src/random.js'
import { fromBuffer, tensor } from '../src/tensor.js'
import type { DType, Tensor } from '../src/tensor.js'
import type { ModelSpec } from '../src/io/spec.js'
import { rawSafetensors } from './support/safetensors.js'

const right = <A>(e: { _tag: 'Left'; left: Error } | { _tag: 'Right'; right: A }): A => {
  if (e._tag === 'Left') throw e.left
  return e.right
}

const dir = mkdtempSync(path.join(tmpdir(), 'lamina-pytorch-'))

/** The first Python with torch (Debian's python3-torch lives in /usr/bin's, which a pyenv python3 on PATH hides), else python3. */
const PYTHON = ['python3', '/usr/bin/python3'].find((p) => spawnSync(p, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0) ?? 'python3'
/** Whether `PYTHON -c code` runs, and what it said when not. */
const python = (code: string): { ok: boolean; why: string } => {
  const r = spawnSync(PYTHON, ['-c', code], { encoding: 'utf8' })
  if (r.error !== undefined) return { ok: false, why: `python3 cannot be run (${r.error.message})` }
  return { ok: r.status === 0, why: (r.stderr.trim().split('\n').at(-1) ?? '') || `exit ${r.status}` }
}
const hasPython = python('import ast')
const hasNumpy = python('import numpy')
const hasTorch = python('import torch')
if (!hasTorch.ok) console.info(`io.pytorch: the checks that run PyTorch are skipped: no python3 on PATH (nor /usr/bin/python3) imports torch (${hasTorch.why})`)

/** Parameters and state with nothing trivial: biases, β, running means away from 0; γ, variances away from 1. */
const weightsFor = (built: Spec.Built, dtype: DType, seed: number): { params: Spec.ModelParams; state: Spec.ModelState } => {
  const [kInit, kMore] = Random.split(Random.key(seed))
  const init = built.model.init(kInit!, dtype)
  let n = 0
  const draw = (shape: readonly number[], field: string): Tensor => {
    const k = Random.splitAt(kMore!, n++)
    return field === 'gamma' || field === 'variance' ? Random.uniform(k, shape, { low: 0.5, high: 2, dtype }) : Random.normal(k, shape, { std: 0.5, dtype })
  }
  const redraw = (layers: readonly unknown[], fields: readonly string[]) =>
    layers.map((layer) => Object.fromEntries(Object.entries(layer as Record<string, Tensor>).map(([f, t]) => [f, fields.includes(f) ? draw(t.shape, f) : t])))
  return {
    params: { layers: redraw(init.layers, ['b', 'gamma', 'beta']) as Spec.ModelParams['layers'] },
    state: { layers: redraw(built.model.initState().layers, ['mean', 'variance']) }
  }
}

const inputs = (n: number, shape: readonly number[], dtype: DType): Tensor => {
  const size = shape.reduce((a, b) => a * b, 1)
  const values = Array.from({ length: n * size }, (_, i) => 3 * Math.sin(1.3 * i + 0.7))
  return fromBuffer(dtype === 'f32' ? Float32Array.from(values) : Float64Array.from(values), [n, ...shape], { dtype })
}

const maxDifference = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length)
  let d = 0
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!))
  return d
}

// ================================================================ PyTorch's modules, as naive loops

/** An array with its shape, row-major, in float64. */
interface Arr {
  readonly shape: readonly number[]
  readonly data: Float64Array
}
const arr = (t: Tensor): Arr => ({ shape: [...t.shape], data: Float64Array.from(t.data) })

/** nn.Linear: y = x·Wᵀ + b with W [out, in]. */
const linear = (x: Arr, w: Arr, b: Arr): Arr => {
  const [n, inputs] = x.shape as [number, number]
  const [outputs] = w.shape as [number, number]
  const y = new Float64Array(n * outputs)
  for (let r = 0; r < n; r++)
    for (let o = 0; o < outputs; o++) {
      let s = b.data[o]!
      for (let i = 0; i < inputs; i++) s += x.data[r * inputs + i]! * w.data[o * inputs + i]!
      y[r * outputs + o] = s
    }
  return { shape: [n, outputs], data: y }
}

/** nn.Conv2d: weights OIHW, zero padding, stride. */
const conv2d = (x: Arr, w: Arr, b: Arr, stride: number, padding: number): Arr => {
  const [n, c, h, wd] = x.shape as [number, number, number, number]
  const [o, , k] = w.shape as [number, number, number, number]
  const ho = Math.floor((h + 2 * padding - k) / stride) + 1
  const wo = Math.floor((wd + 2 * padding - k) / stride) + 1
  const y = new Float64Array(n * o * ho * wo)
  for (let bi = 0; bi < n; bi++)
    for (let oc = 0; oc < o; oc++)
      for (let i = 0; i < ho; i++)
        for (let j = 0; j < wo; j++) {
          let s = b.data[oc]!
          for (let ic = 0; ic < c; ic++)
            for (let di = 0; di < k; di++)
              for (let dj = 0; dj < k; dj++) {
                const [r, q] = [i * stride + di - padding, j * stride + dj - padding]
                if (r >= 0 && r < h && q >= 0 && q < wd) s += x.data[((bi * c + ic) * h + r) * wd + q]! * w.data[((oc * c + ic) * k + di) * k + dj]!
              }
          y[((bi * o + oc) * ho + i) * wo + j] = s
        }
  return { shape: [n, o, ho, wo], data: y }
}

/** nn.BatchNorm1d/2d in eval mode: channel axis 1, running statistics. */
const batchNorm = (x: Arr, weight: Arr, bias: Arr, mean: Arr, variance: Arr, eps: number): Arr => {
  const c = x.shape[1]!
  const inner = x.shape.slice(2).reduce((a, b) => a * b, 1)
  const y = x.data.map((v, idx) => {
    const ch = Math.floor(idx / inner) % c
    return ((v - mean.data[ch]!) / Math.sqrt(variance.data[ch]! + eps)) * weight.data[ch]! + bias.data[ch]!
  })
  return { shape: x.shape, data: y }
}

/** nn.MaxPool2d(k, stride). */
const maxPool = (x: Arr, k: number, stride: number): Arr => {
  const [n, c, h, w] = x.shape as [number, number, number, number]
  const ho = Math.floor((h - k) / stride) + 1
  const wo = Math.floor((w - k) / stride) + 1
  const y = new Float64Array(n * c * ho * wo)
  for (let p = 0; p < n * c; p++)
    for (let i = 0; i < ho; i++)
      for (let j = 0; j < wo; j++) {
        let m = -Infinity
        for (let di = 0; di < k; di++) for (let dj = 0; dj < k; dj++) m = Math.max(m, x.data[(p * h + i * stride + di) * w + j * stride + dj]!)
        y[(p * ho + i) * wo + j] = m
      }
  return { shape: [n, c, ho, wo], data: y }
}

const reshaped = (x: Arr, shape: readonly number[]): Arr => ({ shape: [x.shape[0]!, ...shape], data: x.data })
const map = (x: Arr, f: (v: number) => number): Arr => ({ shape: x.shape, data: x.data.map(f) })

const convNet: ModelSpec = {
  input: [2 * 9 * 9],
  layers: [
    { kind: 'reshape', shape: [2, 9, 9] },
    { kind: 'conv2d', filters: 4, kernel: 3, stride: 2, padding: 1 },
    { kind: 'batchNorm', eps: 1e-3 },
    { kind: 'relu' },
    { kind: 'maxPool2d', kernel: 2, stride: 1 },
    { kind: 'flatten' },
    { kind: 'dense', units: 6 },
    { kind: 'batchNorm' },
    { kind: 'tanh' },
    { kind: 'dropout', rate: 0.3 },
    { kind: 'dense', units: 3 }
  ]
}

/** `convNet` evaluated from a PyTorch state dict by the loops above, as PyTorch's modules would. */
const torchForward = (sd: Readonly<Record<string, Tensor>>, x: Tensor): Arr => {
  const t = (name: string) => arr(sd[name]!)
  let h = reshaped(arr(x), [2, 9, 9])
  h = conv2d(h, t('1.weight'), t('1.bias'), 2, 1)
  h = batchNorm(h, t('2.weight'), t('2.bias'), t('2.running_mean'), t('2.running_var'), 1e-3)
  h = map(h, (v) => Math.max(v, 0))
  h = maxPool(h, 2, 1)
  h = reshaped(h, [h.shape.slice(1).reduce((a, b) => a * b, 1)])
  h = linear(h, t('6.weight'), t('6.bias'))
  h = batchNorm(h, t('7.weight'), t('7.bias'), t('7.running_mean'), t('7.running_var'), 1e-5)
  h = map(h, Math.tanh)
  return linear(h, t('10.weight'), t('10.bias'))
}

// ================================================================ export

describe('the state dict: PyTorch names and layouts', () => {
  const built = right(Spec.build(convNet))
  const { params, state } = weightsFor(built, 'f64', 1)
  const sd = right(PyTorch.stateDict(convNet, params, state))

  it('names: nn.Sequential indices, weight/bias, BatchNorm buffers', () => {
    expect(Object.keys(sd)).toEqual([
      '1.weight', '1.bias',
      '2.weight', '2.bias', '2.running_mean', '2.running_var', '2.num_batches_tracked',
      '6.weight', '6.bias',
      '7.weight', '7.bias', '7.running_mean', '7.running_var', '7.num_batches_tracked',
      '10.weight', '10.bias'
    ])
    expect(sd['2.num_batches_tracked']!.shape).toEqual([])
    expect(sd['2.num_batches_tracked']!.item()).toBe(0)
  })

  it('layouts: Linear [out, in] (lamina’s w transposed), Conv2d OIHW as lamina, BatchNorm γ β and the running statistics', () => {
    const lamina = (i: number, f: string) => (params.layers[i] as Record<string, Tensor>)[f]!
    const w = lamina(6, 'w')
    const [inputs, outputs] = w.shape as [number, number]
    expect(sd['6.weight']!.shape).toEqual([outputs, inputs])
    for (let i = 0; i < inputs; i++) for (let o = 0; o < outputs; o++) expect(sd['6.weight']!.data[o * inputs + i]).toBe(w.data[i * outputs + o])
    expect(sd['1.weight']!.shape).toEqual([4, 2, 3, 3])
    expect(sd['1.weight']!.data).toEqual(lamina(1, 'w').data)
    expect(sd['2.weight']!.data).toEqual(lamina(2, 'gamma').data)
    expect(sd['2.bias']!.data).toEqual(lamina(2, 'beta').data)
    expect(sd['2.running_mean']!.data).toEqual((state.layers[2] as Record<string, Tensor>)['mean']!.data)
    expect(sd['2.running_var']!.data).toEqual((state.layers[2] as Record<string, Tensor>)['variance']!.data)
  })

  it('evaluated as PyTorch’s modules compute, it gives lamina’s outputs', () => {
    const x = inputs(3, [162], 'f64')
    const want = Layer.apply(built.model, params, x, state)
    const got = torchForward(sd, x)
    expect(got.shape).toEqual(want.shape)
    expect(maxDifference(got.data, want.data)).toBeLessThanOrEqual(1e-12)
  })

  it('dtype: an f64 model written as float32, running statistics included', () => {
    const f32 = right(PyTorch.stateDict(convNet, params, state, { dtype: 'f32' }))
    expect(new Set(Object.values(f32).map((t) => t.dtype))).toEqual(new Set(['f32']))
    expect(f32['2.running_var']!.data).toEqual(Float32Array.from(sd['2.running_var']!.data))
  })

  it('encode: a safetensors file with format pt and the spec', () => {
    const file = Safetensors.read(right(PyTorch.encode(convNet, params, state)))
    expect(file.metadata['format']).toBe('pt')
    expect(JSON.parse(file.metadata[PyTorch.SPEC_KEY]!)).toEqual(built.model.spec)
    expect(file.metadata['lamina']).toBeUndefined() // not a lamina model file: PyTorch names
    expect(Object.keys(file.tensors).sort()).toEqual(Object.keys(sd).sort())
  })
})

// ================================================================ round trips and import

describe('lamina → state dict → lamina', () => {
  for (const dtype of ['f32', 'f64'] as const) {
    it(`gives the same parameters and state, ${dtype}`, () => {
      const built = right(Spec.build(convNet))
      const { params, state } = weightsFor(built, dtype, 7)
      const back = right(PyTorch.decode(right(PyTorch.encode(convNet, params, state))))
      expect(back.dtype).toBe(dtype)
      expect(Safetensors.fromTree(back.params)).toEqual(Safetensors.fromTree(params))
      const stateIn = (s: unknown) => Object.fromEntries(Object.entries(Safetensors.fromTree(s)).map(([k, t]) => [k, Array.from(t.data)]))
      expect(stateIn(back.state)).toEqual(stateIn({ layers: state.layers.map((l) => Object.fromEntries(Object.entries(l as Record<string, Tensor>).map(([k, t]) => [k, fromBuffer(t.data, t.shape, { dtype })]))) }))
      // and it is a lamina model file again
      const file = Checkpoint.encode(back.built.model.spec, back.params, back.state)
      expect(right(Checkpoint.decode(file)).dtype).toBe(dtype)
    })
  }

  it('DistributedDataParallel’s module. prefix is removed; another prefix is named', () => {
    const spec: ModelSpec = { input: [3], layers: [{ kind: 'dense', units: 2 }] }
    const sd = { 'module.0.weight': tensor([[1, 2, 3], [4, 5, 6]]), 'module.0.bias': tensor([1, -1]) }
    expect(Safetensors.fromTree(right(PyTorch.toParams(spec, sd)).params)['layers.0.w']!.toArray()).toEqual([[1, 4], [2, 5], [3, 6]])
    const kept = { 'model.0.weight': sd['module.0.weight'], 'model.0.bias': sd['module.0.bias'] }
    expect(right(PyTorch.toParams(spec, kept, { prefix: 'model.' })).params.layers.length).toBe(1)
  })

  it('a state dict written by hand as PyTorch writes it (F32, an I64 num_batches_tracked) gives the outputs computed by hand', () => {
    // nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2), nn.ReLU())
    const spec: ModelSpec = { input: [2], layers: [{ kind: 'dense', units: 2 }, { kind: 'batchNorm' }, { kind: 'relu' }] }
    const f32 = (...v: number[]) => new Uint8Array(Float32Array.from(v).buffer)
    const bytes = rawSafetensors(
      [
        ['0.weight', 'F32', [2, 2], f32(1, 2, 3, 4)], // W = [[1, 2], [3, 4]]: y0 = x0 + 2·x1, y1 = 3·x0 + 4·x1
        ['0.bias', 'F32', [2], f32(0.5, -0.5)],
        ['1.weight', 'F32', [2], f32(2, 1)],
        ['1.bias', 'F32', [2], f32(0, 1)],
        ['1.running_mean', 'F32', [2], f32(1, 2)],
        ['1.running_var', 'F32', [2], f32(4, 0.25)],
        ['1.num_batches_tracked', 'I64', [], new Uint8Array(BigInt64Array.from([1234n]).buffer)]
      ],
      { format: 'pt' }
    )
    const model = right(PyTorch.decode(bytes, spec))
    expect(model.dtype).toBe('f32')
    const y = Layer.apply(model.built.model, model.params, tensor([[1, 1], [-2, 0]], { dtype: 'f32' }), model.state)
    const bn = (v: number, c: number) => [(2 * (v - 1)) / Math.sqrt(4 + 1e-5), (v - 2) / Math.sqrt(0.25 + 1e-5) + 1][c]!
    const expected = [
      [bn(1 + 2 + 0.5, 0), bn(3 + 4 - 0.5, 1)],
      [bn(-2 + 0.5, 0), bn(-6 - 0.5, 1)]
    ].map((row) => row.map((v) => Math.max(v, 0)))
    expect(maxDifference(y.data, expected.flat())).toBeLessThanOrEqual(1e-6)
  })
})


describe('a state dict that does not fit is a typed error naming the tensor', () => {
  const spec: ModelSpec = { input: [3, 6, 6], layers: [{ kind: 'conv2d', filters: 2, kernel: 3 }, { kind: 'batchNorm' }, { kind: 'flatten' }, { kind: 'dense', units: 2 }] }
  const built = right(Spec.build(spec))
  const { params, state } = weightsFor(built, 'f32', 3)
  const sd = right(PyTorch.stateDict(spec, params, state))
  const error = (r: { _tag: 'Left'; left: Error } | { _tag: 'Right'; right: unknown }): Error => {
    expect(r._tag).toBe('Left')
    return (r as { left: Error }).left
  }

  it('a missing tensor', () => {
    const { ['1.running_var']: _, ...rest } = sd
    const e = error(PyTorch.toParams(spec, rest))
    expect(e).toBeInstanceOf(PyTorch.PyTorchError)
    expect(e.message).toBe('PyTorch state dict: "1.running_var" is missing (layers[1], batchNorm: nn.BatchNorm2d(2, eps=0.00001, momentum=0.1))')
  })

  it('a lamina-layout Linear weight ([in, out] instead of [out, in])', () => {
    const e = error(PyTorch.toParams(spec, { ...sd, '3.weight': (params.layers[3] as Record<string, Tensor>)['w']! }))
    expect(e.message).toBe('PyTorch state dict: "3.weight" has shape [32,2], expected [2,32] (layers[3], dense: nn.Linear(32, 2))')
  })

  it('a tensor the model does not have', () => {
    const e = error(PyTorch.toParams(spec, { ...sd, '4.weight': tensor([1]) }))
    expect(e.message).toBe(`PyTorch state dict: tensors the spec's model does not have: "4.weight"`)
  })

  it('mixed dtypes', () => {
    const e = error(PyTorch.toParams(spec, { ...sd, '3.bias': fromBuffer(sd['3.bias']!.data, [2], { dtype: 'f64' }) }))
    expect(e.message).toBe('PyTorch state dict: "0.weight" is f32 but "3.bias" is f64 (a model\'s parameters share one dtype)')
  })

  it('a file without a spec, when none is given', () => {
    const e = error(PyTorch.decode(Safetensors.encode(sd)))
    expect(e.message).toBe('the state dict records no spec (no "lamina.spec" metadata): give the model\'s spec')
  })

  it('an unknown dtype', () => {
    expect(error(PyTorch.toParams(spec, sd, { dtype: 'f16' as DType })).message).toBe(`dtype must be 'f32' or 'f64', got "f16"`)
  })
})

// ================================================================ the Python file

const everyKind: ModelSpec = {
  input: [2, 8, 8],
  layers: [
    { kind: 'conv2d', filters: 3, kernel: 3, stride: 1, padding: 1 },
    { kind: 'batchNorm' },
    { kind: 'maxPool2d', kernel: 2 },
    { kind: 'dropout', rate: 0.25 },
    { kind: 'flatten' },
    { kind: 'reshape', shape: [48] },
    { kind: 'dense', units: 5 },
    { kind: 'prelu' },
    { kind: 'batchNorm', eps: 0.001, momentum: 0.3 },
    { kind: 'leakyRelu', alpha: 0.1 },
    { kind: 'elu' },
    { kind: 'gelu' },
    { kind: 'gelu', form: 'tanh' },
    { kind: 'sigmoid' },
    { kind: 'tanh' },
    { kind: 'relu' },
    { kind: 'softplus' },
    { kind: 'identity' },
    { kind: 'softmax' },
    { kind: 'logSoftmax' }
  ]
}

describe('the Python file', () => {
  const text = right(PyTorch.pythonModule(everyKind, { dtype: 'f64', weights: 'weights.safetensors' }))

  it('one module per layer, in order, with lamina’s options', () => {
    const modules = text.split('\n').filter((l) => /# layers\[\d+\]/.test(l)).map((l) => l.trim().replace(/,\s+# layers\[\d+\]: \w+$/, ''))
    expect(modules).toEqual([
      'nn.Conv2d(2, 3, 3, stride=1, padding=1)',
      'nn.BatchNorm2d(3, eps=0.00001, momentum=0.1)',
      'nn.MaxPool2d(2, stride=2)',
      'nn.Dropout(p=0.25)',
      'nn.Flatten()',
      'Reshape(48)',
      'nn.Linear(48, 5)',
      'nn.PReLU(num_parameters=5)',
      'nn.BatchNorm1d(5, eps=0.001, momentum=0.3)',
      'nn.LeakyReLU(0.1)',
      'nn.ELU(alpha=1.0)',
      "nn.GELU(approximate='none')",
      "nn.GELU(approximate='tanh')",
      'nn.Sigmoid()',
      'nn.Tanh()',
      'nn.ReLU()',
      'nn.Softplus()',
      'nn.Identity()',
      'nn.Softmax(dim=-1)',
      'nn.LogSoftmax(dim=-1)'
    ])
  })

  it('its constants: the spec, the input shape, the dtype, the weights file', () => {
    const spec = /^SPEC = (".*")$/m.exec(text)![1]!
    expect(JSON.parse(JSON.parse(spec) as string)).toEqual(right(Spec.build(everyKind)).model.spec)
    expect(text).toMatch(/^INPUT_SHAPE = \(2, 8, 8\)$/m)
    expect(text).toMatch(/^DTYPE = torch\.float64$/m)
    expect(text).toContain('os.path.dirname(os.path.abspath(__file__)), "weights.safetensors")')
    expect(right(PyTorch.pythonModule({ input: [4], layers: [{ kind: 'relu' }] }))).toMatch(/^INPUT_SHAPE = \(4,\)$/m)
  })

  it.skipIf(!hasPython.ok)(`python3 parses it${hasPython.ok ? '' : ` (skipped: ${hasPython.why})`}`, () => {
    const file = path.join(dir, 'syntax.py')
    writeFileSync(file, text)
    const r = spawnSync(PYTHON, ['-c', 'import ast, sys; ast.parse(open(sys.argv[1]).read())', file], { encoding: 'utf8' })
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
  })

  // torch's stand-in: numpy arrays with the few tensor methods the reader and writer call
  const standIn = `
import sys, types, importlib.util
import numpy as np
torch = types.ModuleType("torch")
nn = types.ModuleType("torch.nn")
class Tensor(np.ndarray):
    def detach(self): return self
    def cpu(self): return self
    def contiguous(self): return np.array(self, order="C").view(Tensor)  # keeps 0-d (ascontiguousarray would not)
    def numpy(self): return np.asarray(self)
for name, code in [("float64", "<f8"), ("float32", "<f4"), ("float16", "<f2"), ("int64", "<i8"), ("int16", "<i2")]:
    setattr(torch, name, np.dtype(code))
torch.bfloat16 = "bfloat16 (numpy has none)"
torch.frombuffer = lambda buffer, dtype: np.frombuffer(buffer, dtype=dtype).view(Tensor)
torch.empty = lambda n, dtype: np.empty(n, dtype=dtype).view(Tensor)
class Module:
    def __init__(self): pass
nn.Module = Module
torch.nn = nn
sys.modules.update({"torch": torch, "torch.nn": nn, "safetensors": None})  # None: the file's own reader and writer
spec = importlib.util.spec_from_file_location("model", sys.argv[1])
model = importlib.util.module_from_spec(spec)
spec.loader.exec_module(model)
tensors = model.read_safetensors(sys.argv[2])
model.write_safetensors({name: (t * 2).astype(t.dtype) for name, t in tensors.items()}, sys.argv[3], metadata={"format": "pt"})  # astype: numpy 1.x widens a 0-d float32 times 2
`

  it.skipIf(!hasNumpy.ok)(`its own safetensors reader and writer (python3, numpy standing in for torch) read lamina's file and write one lamina reads${hasNumpy.ok ? '' : ` (skipped: ${hasNumpy.why})`}`, () => {
    const built = right(Spec.build(everyKind))
    for (const dtype of ['f32', 'f64'] as const) {
      const { params, state } = weightsFor(built, dtype, 11)
      const module = path.join(dir, `standin-${dtype}.py`)
      const weights = path.join(dir, `standin-${dtype}.safetensors`)
      const doubled = path.join(dir, `standin-${dtype}-doubled.safetensors`)
      writeFileSync(module, right(PyTorch.pythonModule(everyKind, { dtype })))
      writeFileSync(weights, right(PyTorch.encode(everyKind, params, state)))
      const r = spawnSync(PYTHON, ['-c', standIn, module, weights, doubled], { encoding: 'utf8' })
      expect(r.stderr).toBe('')
      expect(r.status).toBe(0)
      const original = Safetensors.read(readFileSync(weights))
      const back = Safetensors.read(readFileSync(doubled))
      expect(back.metadata).toEqual({ format: 'pt' })
      expect(Object.keys(back.tensors).sort()).toEqual(Object.keys(original.tensors).sort())
      for (const [name, t] of Object.entries(original.tensors)) {
        expect(back.tensors[name]!.dtype).toBe(dtype)
        expect(back.tensors[name]!.shape).toEqual(t.shape)
        expect(Array.from(back.tensors[name]!.data)).toEqual(Array.from(t.data, (v) => 2 * v))
      }
    }
  })
})

// ================================================================ with PyTorch itself

const torchScript = `
import sys, importlib.util
import torch
spec = importlib.util.spec_from_file_location("model", sys.argv[1])
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
net = m.load()
x = m.read_safetensors(sys.argv[2])["x"]
with torch.no_grad():
    y = net(x)
# one step of training in PyTorch, then the weights back for lamina
torch.manual_seed(0)
net.train()
optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
net(x).square().mean().backward()
optimizer.step()
net.eval()
with torch.no_grad():
    trained = net(x)
m.save(net, sys.argv[3])
m.write_safetensors({"y": y, "trained": trained}, sys.argv[4])
`

/** Pooling with padding (max and average, padded zeros counted) and global average pooling. */
const pooling: ModelSpec = {
  input: [2, 7, 6],
  layers: [
    { kind: 'conv2d', filters: 3, kernel: 3, padding: 1 },
    { kind: 'maxPool2d', kernel: 3, stride: 1, padding: 1 },
    { kind: 'avgPool2d', kernel: 3, stride: 2, padding: 1 },
    { kind: 'globalAvgPool' },
    { kind: 'dense', units: 2 }
  ]
}

describe('residual and parallel blocks', () => {
  it('have no PyTorch export (model.py is one nn.Sequential): a typed error naming the layer, for the module, the state dict and the import', () => {
    const spec: ModelSpec = { input: [4], layers: [{ kind: 'dense', units: 4 }, { kind: 'residual', layers: [{ kind: 'dense', units: 4 }] }] }
    const words = 'layers[1]: a residual block has no PyTorch export: the exported model.py is one nn.Sequential, which cannot add a skip connection (export the model to ONNX instead)'
    const module = PyTorch.pythonModule(spec)
    expect(module._tag === 'Left' && module.left).toBeInstanceOf(PyTorch.PyTorchError)
    expect(module._tag === 'Left' && module.left.message).toBe(words)
    const built = right(Spec.build(spec))
    const encoded = PyTorch.encode(spec, built.model.init(Random.key(0)), built.model.initState())
    expect(encoded._tag === 'Left' && encoded.left.message).toBe(words)
    const parallel: ModelSpec = { input: [4], layers: [{ kind: 'parallel', branches: [[{ kind: 'relu' }], [{ kind: 'dense', units: 2 }]] }] }
    const imported = PyTorch.toParams(parallel, { '0.weight': tensor([[1, 2, 3, 4], [5, 6, 7, 8]]) })
    expect(imported._tag === 'Left' && imported.left.message).toMatch(/^layers\[0\]: a parallel block has no PyTorch export: .* cannot run parallel branches and concatenate them/)
  })

  it('maxout and absRectify have no torch.nn module: a typed error naming the layer', () => {
    for (const [layer, i] of [[{ kind: 'maxout', k: 2 }, 1], [{ kind: 'absRectify' }, 1]] as const) {
      const spec: ModelSpec = { input: [4], layers: [{ kind: 'dense', units: 4 }, layer] }
      const module = PyTorch.pythonModule(spec)
      expect(module._tag === 'Left' && module.left).toBeInstanceOf(PyTorch.PyTorchError)
      expect(module._tag === 'Left' && module.left.message).toBe(
        `layers[${i}]: a ${layer.kind} layer has no module in torch.nn, and the exported model.py is one nn.Sequential of torch.nn modules (export the model to ONNX instead)`
      )
    }
  })
})

describe('with PyTorch', () => {
  for (const [name, spec] of [['every layer kind of a Sequential', everyKind], ['pooling with padding, global average pooling', pooling]] as const)
  for (const dtype of ['f32', 'f64'] as const) {
    it.skipIf(!hasTorch.ok)(
      `${name}: torch runs the exported model as lamina does, trains it one step, and lamina runs the trained weights as torch does, ${dtype}${hasTorch.ok ? '' : ` (skipped: ${hasTorch.why})`}`,
      () => {
        const built = right(Spec.build(spec))
        const { params, state } = weightsFor(built, dtype, 21)
        const folder = mkdtempSync(path.join(dir, `torch-${dtype}-`))
        const module = path.join(folder, 'model.py')
        writeFileSync(module, right(PyTorch.pythonModule(spec, { dtype })))
        writeFileSync(path.join(folder, 'model.safetensors'), right(PyTorch.encode(spec, params, state)))
        const x = inputs(6, built.inputShape, dtype)
        writeFileSync(path.join(folder, 'x.safetensors'), Safetensors.encode({ x }))
        const trainedFile = path.join(folder, 'trained.safetensors')
        const outputs = path.join(folder, 'outputs.safetensors')
        const r = spawnSync(PYTHON, ['-c', torchScript, module, path.join(folder, 'x.safetensors'), trainedFile, outputs], { encoding: 'utf8' })
        expect(r.stderr).toBe('')
        expect(r.status).toBe(0)
        const torchOut = Safetensors.read(readFileSync(outputs)).tensors
        const bound = dtype === 'f32' ? 64 * 2 ** -23 : 1e-12
        const want = Layer.apply(built.model, params, x, state)
        expect(torchOut['y']!.shape).toEqual(want.shape)
        expect(maxDifference(torchOut['y']!.data, want.data)).toBeLessThanOrEqual(bound * Math.max(1, ...Array.from(want.data, Math.abs)))
        const trained = right(PyTorch.decode(readFileSync(trainedFile))) // the spec is in the file
        const again = Layer.apply(trained.built.model, trained.params, x, trained.state)
        expect(maxDifference(torchOut['trained']!.data, again.data)).toBeLessThanOrEqual(bound * Math.max(1, ...Array.from(again.data, Math.abs)))
        expect(maxDifference(torchOut['trained']!.data, want.data)).toBeGreaterThan(0) // the step changed the model
      }
    )
  }
})
