/**
 * A lamina model as a PyTorch `nn.Sequential`, and PyTorch weights back into lamina. The
 * layers are numbered alike, so lamina's `layers.N.w` is PyTorch's `N.weight`:
 *
 * | lamina layer | PyTorch module | tensors (PyTorch names and layouts) |
 * | --- | --- | --- |
 * | `dense` | `nn.Linear(in, out)` | `N.weight` `[out, in]` (lamina's `w` transposed), `N.bias` `[out]` |
 * | `conv2d` | `nn.Conv2d(in, out, k, stride, padding)` | `N.weight` `[out, in, k, k]` (OIHW, as lamina), `N.bias` |
 * | `prelu` | `nn.PReLU(n)` | `N.weight` `[n]` (lamina's `alpha`) |
 * | `batchNorm` | `nn.BatchNorm1d` (features) or `nn.BatchNorm2d` (images) | `N.weight` (γ), `N.bias` (β), `N.running_mean`, `N.running_var`, `N.num_batches_tracked` |
 * | `maxPool2d`, `dropout`, `flatten` | `nn.MaxPool2d`, `nn.Dropout`, `nn.Flatten` | none |
 * | `avgPool2d`, `globalAvgPool` | `nn.AvgPool2d(…, count_include_pad=True)`, `nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())` | none |
 * | `reshape` | `Reshape` (defined in the Python file) | none |
 *
 * `residual` and `parallel` blocks have no PyTorch export (a `PyTorchError` naming the layer):
 * the Python file is one `nn.Sequential`, which has no skip connection or branches; ONNX takes them.
 * | activations | `nn.ReLU`, `nn.Sigmoid`, `nn.Tanh`, `nn.Softplus`, `nn.LeakyReLU`, `nn.ELU`, `nn.GELU`, `nn.Softmax(dim=-1)`, `nn.LogSoftmax(dim=-1)`, `nn.Identity` | none |
 *
 * {@link stateDict} and {@link encode} write the state dict (a safetensors file, as
 * `safetensors.torch.save_file` writes it); {@link pythonModule} writes a Python file that
 * defines the same `nn.Sequential` and loads that file ({@link toParams} and {@link decode}
 * read a state dict back, e.g. after training in PyTorch on many machines). `num_batches_tracked` is
 * written as 0 (lamina does not count batches; PyTorch reads it only when `momentum=None`),
 * as a float scalar (lamina writes float tensors; `load_state_dict` copies it into PyTorch's
 * int64 buffer), and it is ignored on the way back.
 *
 * @example
 * ```ts
 * import { PyTorch, Spec, Random } from 'lamina-nn'
 * import assert from 'node:assert'
 * const spec = { input: [4], layers: [{ kind: 'dense' as const, units: 8 }, { kind: 'tanh' as const }, { kind: 'dense' as const, units: 3 }] }
 * const built = Spec.build(spec)
 * assert.ok(built._tag === 'Right')
 * const params = built.right.model.init(Random.key(0))
 * const torch = PyTorch.stateDict(spec, params, {})
 * assert.ok(torch._tag === 'Right')
 * assert.deepStrictEqual(Object.keys(torch.right), ['0.weight', '0.bias', '2.weight', '2.bias'])
 * assert.deepStrictEqual(torch.right['0.weight']!.shape, [8, 4]) // Linear(4, 8): [out, in]
 * const back = PyTorch.toParams(spec, torch.right)
 * assert.ok(back._tag === 'Right')
 * assert.deepStrictEqual(back.right.params.layers[0], params.layers[0])
 * ```
 *
 * @module
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Either } from 'fp-ts/lib/Either.js'
import { LaminaError } from '../error.js'
import * as Sh from '../shape.js'
import type { Shape } from '../shape.js'
import { fromBuffer, Tensor } from '../tensor.js'
import type { DType } from '../tensor.js'
import type { Checkpoint } from './checkpoint.js'
import { validate } from './onnx.js'
import * as Safetensors from './safetensors.js'
import * as Spec from './spec.js'
import type { LayerSpec, ModelSpec } from './spec.js'

/**
 * A state dict that does not fit a spec, or a spec PyTorch cannot be given.
 *
 * @example
 * ```ts
 * import { PyTorch, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const spec = { input: [2], layers: [{ kind: 'dense' as const, units: 1 }] }
 * const r = PyTorch.toParams(spec, { '0.weight': tensor([[1, 2, 3]]), '0.bias': tensor([0]) })
 * assert.ok(r._tag === 'Left' && r.left instanceof PyTorch.PyTorchError)
 * assert.strictEqual(r.left.message, 'PyTorch state dict: "0.weight" has shape [1,3], expected [1,2] (layers[0], dense: nn.Linear(2, 1))')
 * ```
 */
export class PyTorchError extends LaminaError {
  override name = 'PyTorchError'
}

/**
 * The metadata key under which {@link encode} (and the Python file's `save`) record the
 * model's spec as JSON, so that {@link decode} needs no spec.
 *
 * @example
 * ```ts
 * import { PyTorch } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(PyTorch.SPEC_KEY, 'lamina.spec')
 * ```
 */
export const SPEC_KEY = 'lamina.spec'

/** What {@link toParams} and {@link decode} give: the model, its parameters and layer state, and their dtype (what `Checkpoint.encode` and `Onnx.fromCheckpoint` take). */
export type Imported = Pick<Checkpoint, 'built' | 'params' | 'state' | 'dtype'>

/** Options of {@link stateDict}, {@link encode} and {@link pythonModule}. */
export interface ExportOptions {
  /** The dtype of the tensors (and of the Python model): default the parameters'. */
  readonly dtype?: DType
}

/** Options of {@link toParams} and {@link decode}. */
export interface ImportOptions {
  /**
   * What comes before `N.weight` in the state dict's names: `model.` for a Sequential kept as
   * `self.model`. Default `''`, or `module.` when every name starts with it (what
   * `DistributedDataParallel` and `DataParallel` add).
   */
  readonly prefix?: string
  /** The dtype of the lamina parameters: default the state dict's (f32 for F32, F16, BF16; f64 for F64). */
  readonly dtype?: DType
}

const DDP_PREFIX = 'module.'

// ================================================================ the module of each layer

const pyFloat = (x: number): string => (Number.isInteger(x) ? `${x}.0` : String(x))

/** The PyTorch module of one layer (as Python source), for the per-example input shape `cur`. */
const moduleOf = (s: LayerSpec, cur: Shape, i: number): string => {
  switch (s.kind) {
    case 'dense':
      return `nn.Linear(${Sh.size(cur)}, ${s.units})`
    case 'conv2d':
      return `nn.Conv2d(${cur[0]}, ${s.filters}, ${s.kernel}, stride=${s.stride ?? 1}, padding=${s.padding ?? 0})`
    case 'maxPool2d':
      return `nn.MaxPool2d(${s.kernel}, stride=${s.stride ?? s.kernel}${(s.padding ?? 0) === 0 ? '' : `, padding=${s.padding}`})`
    case 'avgPool2d':
      // lamina divides every window by k², padded zeros included: PyTorch's count_include_pad=True
      return `nn.AvgPool2d(${s.kernel}, stride=${s.stride ?? s.kernel}, padding=${s.padding ?? 0}, count_include_pad=True)`
    case 'globalAvgPool':
      return 'nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())'
    case 'residual':
    case 'parallel':
      throw blockError(s.kind, i)
    case 'dropout':
      return `nn.Dropout(p=${pyFloat(s.rate)})`
    case 'flatten':
      return 'nn.Flatten()'
    case 'reshape':
      return `Reshape(${s.shape.join(', ')})`
    case 'batchNorm':
      return `nn.BatchNorm${cur.length === 1 ? '1' : '2'}d(${cur[0]}, eps=${pyFloat(s.eps ?? 1e-5)}, momentum=${pyFloat(s.momentum ?? 0.1)})`
    case 'leakyRelu':
      return `nn.LeakyReLU(${pyFloat(s.alpha ?? 0.01)})`
    case 'elu':
      return `nn.ELU(alpha=${pyFloat(s.alpha ?? 1)})`
    case 'gelu':
      return `nn.GELU(approximate=${(s.form ?? 'erf') === 'erf' ? "'none'" : "'tanh'"})`
    case 'sigmoid':
      return 'nn.Sigmoid()'
    case 'tanh':
      return 'nn.Tanh()'
    case 'relu':
      return 'nn.ReLU()'
    case 'softplus':
      return 'nn.Softplus()'
    case 'softmax':
      return 'nn.Softmax(dim=-1)'
    case 'logSoftmax':
      return 'nn.LogSoftmax(dim=-1)'
    case 'identity':
      return 'nn.Identity()'
    case 'prelu':
      return `nn.PReLU(num_parameters=${cur[0]})`
    case 'maxout':
    case 'absRectify':
      throw new PyTorchError(`layers[${i}]: a ${s.kind} layer has no module in torch.nn, and the exported model.py is one nn.Sequential of torch.nn modules (export the model to ONNX instead)`)
    default:
      // a layer kind added to the spec language after this module
      throw new PyTorchError(`layers[${i}]: a ${JSON.stringify((s as { kind: string }).kind)} layer has no PyTorch module here`)
  }
}

/** Why a residual or parallel block does not export: model.py is one `nn.Sequential`, which has no skip connection or branches. */
const blockError = (kind: 'residual' | 'parallel', i: number): PyTorchError =>
  new PyTorchError(
    `layers[${i}]: a ${kind} block has no PyTorch export: the exported model.py is one nn.Sequential, which cannot ${kind === 'residual' ? 'add a skip connection' : 'run parallel branches and concatenate them'} (export the model to ONNX instead)`
  )

/** The shape of each layer's per-example input, from the spec's input on (the spec has been built, so every layer fits). */
const inputShapes = (spec: ModelSpec): Shape[] => {
  const shapes: Shape[] = []
  let cur: Shape = spec.input
  for (const s of spec.layers) {
    shapes.push(cur)
    const window = (n: number, k: number, stride: number, padding: number) => Math.floor((n + 2 * padding - k) / stride) + 1
    if (s.kind === 'dense') cur = [s.units]
    else if (s.kind === 'conv2d') cur = [s.filters, window(cur[1]!, s.kernel, s.stride ?? 1, s.padding ?? 0), window(cur[2]!, s.kernel, s.stride ?? 1, s.padding ?? 0)]
    else if (s.kind === 'maxPool2d' || s.kind === 'avgPool2d') {
      cur = [cur[0]!, window(cur[1]!, s.kernel, s.stride ?? s.kernel, s.padding ?? 0), window(cur[2]!, s.kernel, s.stride ?? s.kernel, s.padding ?? 0)]
    } else if (s.kind === 'globalAvgPool') cur = [cur[0]!]
    else if (s.kind === 'flatten') cur = [Sh.size(cur)]
    else if (s.kind === 'reshape') cur = [...s.shape]
  }
  return shapes
}

/** One tensor of the state dict: its PyTorch field, its lamina field, and whether it is layer state (running statistics). */
interface Slot {
  readonly torch: string
  readonly lamina: string
  readonly state: boolean
}

const SLOTS: Readonly<Record<string, readonly Slot[]>> = {
  dense: [
    { torch: 'weight', lamina: 'w', state: false },
    { torch: 'bias', lamina: 'b', state: false }
  ],
  conv2d: [
    { torch: 'weight', lamina: 'w', state: false },
    { torch: 'bias', lamina: 'b', state: false }
  ],
  prelu: [{ torch: 'weight', lamina: 'alpha', state: false }],
  batchNorm: [
    { torch: 'weight', lamina: 'gamma', state: false },
    { torch: 'bias', lamina: 'beta', state: false },
    { torch: 'running_mean', lamina: 'mean', state: true },
    { torch: 'running_var', lamina: 'variance', state: true }
  ]
}

/** `[rows, cols]` values transposed to `[cols, rows]`, in `dtype`. */
const transposed = (t: Tensor, dtype: DType): Tensor => {
  const [rows, cols] = t.shape as readonly [number, number]
  const src = t.data
  const out = dtype === 'f32' ? new Float32Array(rows * cols) : new Float64Array(rows * cols)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c]!
  return fromBuffer(out, [cols, rows], { dtype })
}

const inDType = (t: Tensor, dtype: DType): Tensor => (t.dtype === dtype ? t : fromBuffer(t.data, t.shape, { dtype }))

// ================================================================ export

const stateDictOf = (model: Imported, dtype: DType): Record<string, Tensor> => {
  const out: Record<string, Tensor> = {}
  const { spec } = model.built.model
  spec.layers.forEach((s, i) => {
    if (s.kind === 'residual' || s.kind === 'parallel') throw blockError(s.kind, i)
    for (const slot of SLOTS[s.kind] ?? []) {
      const record = (slot.state ? model.state.layers[i] : model.params.layers[i]) as Readonly<Record<string, Tensor>>
      const t = record[slot.lamina]!
      out[`${i}.${slot.torch}`] = s.kind === 'dense' && slot.lamina === 'w' ? transposed(t, dtype) : inDType(t, dtype)
    }
    if (s.kind === 'batchNorm') out[`${i}.num_batches_tracked`] = fromBuffer([0], [], { dtype })
  })
  return out
}

const withModel = <A>(spec: ModelSpec, params: unknown, state: unknown, f: (model: Imported) => A): Either<LaminaError, A> => {
  const model = validate(spec, params, state)
  if (E.isLeft(model)) return model
  try {
    return E.right(f(model.right))
  } catch (e) {
    if (e instanceof LaminaError) return E.left(e)
    throw e
  }
}

const dtypeOption = (dtype: unknown, fallback: DType): DType => {
  if (dtype === undefined) return fallback
  if (dtype === 'f32' || dtype === 'f64') return dtype
  throw new PyTorchError(`dtype must be 'f32' or 'f64', got ${JSON.stringify(dtype)}`)
}

/**
 * The PyTorch state dict of a model (its spec, parameters and layer state; `{}` for a model
 * without batch norm): the tensors of the `nn.Sequential` that {@link pythonModule} defines,
 * under PyTorch's names and in its layouts (see the module's table). The parameters are
 * checked against the spec first, as `Checkpoint.decode` checks a file.
 *
 * @example
 * ```ts
 * import { PyTorch, Spec, Random } from 'lamina-nn'
 * import assert from 'node:assert'
 * const spec = { input: [3, 8, 8], layers: [{ kind: 'conv2d' as const, filters: 4, kernel: 3 }, { kind: 'batchNorm' as const }] }
 * const built = Spec.build(spec)
 * assert.ok(built._tag === 'Right')
 * const { model } = built.right
 * const torch = PyTorch.stateDict(spec, model.init(Random.key(0)), model.initState(), { dtype: 'f32' })
 * assert.ok(torch._tag === 'Right')
 * assert.deepStrictEqual(Object.entries(torch.right).map(([name, t]) => [name, t.shape]), [
 *   ['0.weight', [4, 3, 3, 3]], ['0.bias', [4]],
 *   ['1.weight', [4]], ['1.bias', [4]], ['1.running_mean', [4]], ['1.running_var', [4]], ['1.num_batches_tracked', []]
 * ])
 * ```
 */
export const stateDict = (spec: ModelSpec, params: unknown, state: unknown, options?: ExportOptions): Either<LaminaError, Readonly<Record<string, Tensor>>> =>
  withModel(spec, params, state, (model) => stateDictOf(model, dtypeOption(options?.dtype, model.dtype)))

/**
 * The state dict of {@link stateDict} as safetensors bytes (what `safetensors.torch.load_file`
 * reads), with metadata `format: pt` and the spec under {@link SPEC_KEY}.
 *
 * @example
 * ```ts
 * import { PyTorch, Safetensors, Spec, Random } from 'lamina-nn'
 * import assert from 'node:assert'
 * const spec = { input: [2], layers: [{ kind: 'dense' as const, units: 2 }] }
 * const built = Spec.build(spec)
 * assert.ok(built._tag === 'Right')
 * const bytes = PyTorch.encode(spec, built.right.model.init(Random.key(0)), {})
 * assert.ok(bytes._tag === 'Right')
 * const file = Safetensors.read(bytes.right)
 * assert.strictEqual(file.metadata['format'], 'pt')
 * assert.deepStrictEqual(JSON.parse(file.metadata[PyTorch.SPEC_KEY]!), spec)
 * ```
 */
export const encode = (spec: ModelSpec, params: unknown, state: unknown, options?: ExportOptions): Either<LaminaError, Uint8Array> =>
  withModel(spec, params, state, (model) => encodeModel(model, options))

/**
 * {@link encode} for a model already checked (a `Checkpoint`, or what {@link decode} gives).
 *
 * @example
 * ```ts
 * import { PyTorch, Checkpoint, Spec, Random } from 'lamina-nn'
 * import assert from 'node:assert'
 * const spec = { input: [2], layers: [{ kind: 'dense' as const, units: 2 }] }
 * const built = Spec.build(spec)
 * assert.ok(built._tag === 'Right')
 * const checkpoint = Checkpoint.decode(Checkpoint.encode(spec, built.right.model.init(Random.key(0)), {}))
 * assert.ok(checkpoint._tag === 'Right')
 * const back = PyTorch.decode(PyTorch.encodeModel(checkpoint.right))
 * assert.ok(back._tag === 'Right' && back.right.dtype === 'f64')
 * ```
 */
export const encodeModel = (model: Imported, options?: ExportOptions): Uint8Array =>
  Safetensors.encode(stateDictOf(model, dtypeOption(options?.dtype, model.dtype)), { format: 'pt', [SPEC_KEY]: JSON.stringify(model.built.model.spec) })

// ================================================================ the Python file

/** Options of {@link pythonModule}. */
export interface PythonOptions {
  /** The dtype of the Python model (`DTYPE`, what `build()` converts to): default `f32`. */
  readonly dtype?: DType
  /** The weights file the module loads, relative to the module's folder (default `model.safetensors`). */
  readonly weights?: string
}

const pyString = (s: string): string => JSON.stringify(s) // a JSON string literal is a Python string literal for these texts

/**
 * The text of a Python file that defines the spec's model as a PyTorch `nn.Sequential`
 * (`build()`), loads the weights {@link encode} wrote (`load()`: with
 * `safetensors.torch.load_file` when the `safetensors` package is installed, else with a
 * small reader of the format in the file itself), and saves a trained model's state dict for
 * lamina (`save(model, path)`, unwrapping `DistributedDataParallel`, recording the spec).
 * `python model.py` loads the model and prints it with the shape of its output. A `Left` for
 * a spec that does not build.
 *
 * @example
 * ```ts
 * import { PyTorch } from 'lamina-nn'
 * import assert from 'node:assert'
 * const py = PyTorch.pythonModule({ input: [1, 28, 28], layers: [
 *   { kind: 'conv2d', filters: 6, kernel: 5, padding: 2 }, { kind: 'relu' }, { kind: 'maxPool2d', kernel: 2 },
 *   { kind: 'flatten' }, { kind: 'dense', units: 10 }] })
 * assert.ok(py._tag === 'Right')
 * assert.ok(py.right.includes('        nn.Conv2d(1, 6, 5, stride=1, padding=2),  # layers[0]: conv2d'))
 * assert.ok(py.right.includes('        nn.Linear(1176, 10),  # layers[4]: dense'))
 * ```
 */
export const pythonModule = (spec: ModelSpec, options?: PythonOptions): Either<LaminaError, string> => {
  const built = Spec.build(spec)
  if (E.isLeft(built)) return built
  try {
    const canonical = built.right.model.spec
    const dtype = dtypeOption(options?.dtype, 'f32')
    const shapes = inputShapes(canonical)
    const modules = canonical.layers.map((s, i) => `        ${moduleOf(s, shapes[i]!, i)},  # layers[${i}]: ${s.kind}`)
    const specText = JSON.stringify(canonical)
    return E.right(python(specText, built.right.inputShape, dtype, options?.weights ?? 'model.safetensors', modules))
  } catch (e) {
    if (e instanceof LaminaError) return E.left(e)
    throw e
  }
}

const python = (specText: string, input: Shape, dtype: DType, weights: string, modules: readonly string[]): string => `"""A lamina-nn model as a PyTorch nn.Sequential (written by lamina's PyTorch.pythonModule).

The layers are numbered as in lamina: lamina's layers.N.w is N.weight here (transposed for
nn.Linear, whose weight is [out, in]); inputs are batch-major, images NCHW.

    from model import build, load, save
    net = load()                        # the exported weights, in eval mode
    y = net(torch.zeros(2, *INPUT_SHAPE, dtype=DTYPE))
    save(net, 'trained.safetensors')    # for lamina: PyTorch.decode, or lamina import
"""
import json
import os
import struct

import torch
from torch import nn

SPEC = ${pyString(specText)}
INPUT_SHAPE = (${input.join(', ')}${input.length === 1 ? ',' : ''})
DTYPE = torch.${dtype === 'f32' ? 'float32' : 'float64'}
WEIGHTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), ${pyString(weights)})


class Reshape(nn.Module):
    """lamina's reshape layer: each example to \`shape\` (no parameters)."""

    def __init__(self, *shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.reshape(x.shape[0], *self.shape)

    def extra_repr(self):
        return f"shape={self.shape}"


def build():
    """The model, with PyTorch's initial weights."""
    return nn.Sequential(
${modules.join('\n')}
    ).to(DTYPE)


_DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64}


def read_safetensors(path):
    """A safetensors file as {name: tensor}: safetensors.torch.load_file if installed, else a small reader."""
    try:
        from safetensors.torch import load_file
    except ImportError:
        pass
    else:
        return load_file(path)
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    header.pop("__metadata__", None)
    body = data[8 + n :]
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype = _DTYPES[info["dtype"]]
        flat = torch.frombuffer(bytearray(body[begin:end]), dtype=dtype) if end > begin else torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(info["shape"])
    return tensors


def write_safetensors(tensors, path, metadata=None):
    """{name: tensor} as a safetensors file: safetensors.torch.save_file if installed, else a small writer."""
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    try:
        from safetensors.torch import save_file
    except ImportError:
        pass
    else:
        save_file(tensors, path, metadata=metadata)
        return
    names = {v: k for k, v in _DTYPES.items()}
    header = {"__metadata__": metadata} if metadata else {}
    chunks, offset = [], 0
    for name, t in tensors.items():
        raw = (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes()
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-(8 + len(text)) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))
    os.replace(path + ".tmp", path)


def load(path=WEIGHTS):
    """The model with the weights of \`path\` (default: the exported ones beside this file), in eval mode."""
    model = build()
    model.load_state_dict(read_safetensors(path))
    return model.eval()


def save(model, path):
    """Writes the model's state dict (PyTorch names and layouts, the spec in the metadata) for lamina to read back."""
    model = getattr(model, "module", model)  # DistributedDataParallel's wrapper
    write_safetensors(model.state_dict(), path, metadata={"format": "pt", ${pyString(SPEC_KEY)}: SPEC})


if __name__ == "__main__":
    net = load()
    print(net)
    print("output shape:", tuple(net(torch.zeros(2, *INPUT_SHAPE, dtype=DTYPE)).shape))
`

// ================================================================ import

const describeType = (x: unknown): string => (x === null ? 'null' : Array.isArray(x) ? 'an array' : typeof x)

/**
 * lamina parameters and layer state from a PyTorch state dict of the spec's `nn.Sequential`
 * (the names and layouts of the module's table; `nn.Linear` weights are transposed, extending
 * `Safetensors.fromTorchLinear` to convolutions and batch norm). Every tensor the model needs
 * must be there with PyTorch's shape, and the state dict may hold nothing else
 * (`num_batches_tracked` aside); the parameters must share one dtype. A `Left` names the tensor.
 *
 * @example
 * ```ts
 * import { PyTorch, Layer, Safetensors, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * // nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3)), trained in PyTorch
 * const spec = { input: [2], layers: [{ kind: 'dense' as const, units: 3 }, { kind: 'batchNorm' as const }] }
 * const f32 = { dtype: 'f32' } as const
 * const torch = {
 *   '0.weight': tensor([[1, 2], [3, 4], [5, 6]], f32), '0.bias': tensor([0, 0, 1], f32),
 *   '1.weight': tensor([1, 1, 1], f32), '1.bias': tensor([0, 0, 0], f32),
 *   '1.running_mean': tensor([0, 0, 0], f32), '1.running_var': tensor([1, 1, 1], f32), '1.num_batches_tracked': tensor(100)
 * }
 * const model = PyTorch.toParams(spec, torch)
 * assert.ok(model._tag === 'Right' && model.right.dtype === 'f32')
 * const { built, params, state } = model.right
 * assert.deepStrictEqual(Safetensors.fromTree(params)['layers.0.w']!.toArray(), [[1, 3, 5], [2, 4, 6]]) // lamina's [in, out]
 * const y = Layer.apply(built.model, params, tensor([[1, 1]], f32), state)
 * assert.ok(Math.abs(y.data[2]! - 12 / Math.sqrt(1 + 1e-5)) < 1e-5) // (5 + 6 + 1 − 0)/√(1 + ε)·1 + 0
 * ```
 */
export const toParams = (spec: ModelSpec, source: Safetensors.Decoded | Readonly<Record<string, Tensor>>, options?: ImportOptions): Either<LaminaError, Imported> => {
  const built = Spec.build(spec)
  if (E.isLeft(built)) return built
  try {
    if (typeof source !== 'object' || source === null) throw new PyTorchError(`expected a state dict, got ${describeType(source)}`)
    const record = source as Readonly<Record<string, unknown>>
    // a decoded file (`{ tensors, metadata }`) or the tensors themselves
    const named = Object.prototype.hasOwnProperty.call(record, 'tensors') && !(record['tensors'] instanceof Tensor) ? (source as Safetensors.Decoded).tensors : record
    const keys = Object.keys(named)
    const prefix = options?.prefix ?? (keys.length > 0 && keys.every((k) => k.startsWith(DDP_PREFIX)) ? DDP_PREFIX : '')
    const canonical = built.right.model.spec
    const shapes = inputShapes(canonical)
    const used = new Set<string>()
    const found: Array<{ layer: number; slot: Slot; t: Tensor; name: string }> = []
    canonical.layers.forEach((s, i) => {
      if (s.kind === 'residual' || s.kind === 'parallel') throw blockError(s.kind, i)
      for (const slot of SLOTS[s.kind] ?? []) {
        const name = `${prefix}${i}.${slot.torch}`
        const where = `(layers[${i}], ${s.kind}: ${moduleOf(s, shapes[i]!, i)})`
        const t = Object.prototype.hasOwnProperty.call(named, name) ? named[name] : undefined
        if (t === undefined) throw new PyTorchError(`PyTorch state dict: ${JSON.stringify(name)} is missing ${where}`)
        if (!(t instanceof Tensor)) throw new PyTorchError(`PyTorch state dict: ${JSON.stringify(name)} is not a tensor`)
        const lamina = built.right[slot.state ? 'state' : 'parameters'].find((p) => p.layer === i && p.field === slot.lamina)!
        const expected = s.kind === 'dense' && slot.lamina === 'w' ? [lamina.shape[1]!, lamina.shape[0]!] : lamina.shape
        if (!Sh.equals(t.shape, expected)) throw new PyTorchError(`PyTorch state dict: ${JSON.stringify(name)} has shape ${Sh.show(t.shape)}, expected ${Sh.show(expected)} ${where}`)
        used.add(name)
        found.push({ layer: i, slot, t, name })
      }
      if (s.kind === 'batchNorm') used.add(`${prefix}${i}.num_batches_tracked`)
    })
    const extra = keys.filter((k) => !used.has(k))
    if (extra.length > 0) {
      const shown = extra.slice(0, 5).map((k) => JSON.stringify(k)).join(', ') + (extra.length > 5 ? `, … (${extra.length} in all)` : '')
      throw new PyTorchError(`PyTorch state dict: tensors the spec's model does not have: ${shown}${prefix === '' ? '' : ` (names read after the prefix ${JSON.stringify(prefix)})`}`)
    }
    const weights = found.filter((f) => !f.slot.state)
    const mixed = weights.find((f) => f.t.dtype !== weights[0]!.t.dtype)
    if (mixed !== undefined) throw new PyTorchError(`PyTorch state dict: ${JSON.stringify(weights[0]!.name)} is ${weights[0]!.t.dtype} but ${JSON.stringify(mixed.name)} is ${mixed.t.dtype} (a model's parameters share one dtype)`)
    const dtype = dtypeOption(options?.dtype, weights[0]?.t.dtype ?? found[0]?.t.dtype ?? 'f64')
    const params = canonical.layers.map((): Record<string, Tensor> => ({}))
    const state = canonical.layers.map((): Record<string, Tensor> => ({}))
    canonical.layers.forEach((s, i) => {
      const mine = new Map(found.filter((f) => f.layer === i).map((f) => [f.slot.torch, f.t]))
      if (s.kind === 'dense') {
        // nn.Linear's [out, in] weight, transposed by the Linear importer
        const linear = Safetensors.fromTorchLinear({ weight: mine.get('weight')!, bias: mine.get('bias')! }, { prefix: '' })
        if (E.isLeft(linear)) throw linear.left
        params[i] = { w: inDType(linear.right['w']!, dtype), b: inDType(linear.right['b']!, dtype) }
        return
      }
      for (const slot of SLOTS[s.kind] ?? []) (slot.state ? state : params)[i]![slot.lamina] = inDType(mine.get(slot.torch)!, dtype)
    })
    return E.right({ built: built.right, params: { layers: params }, state: { layers: state }, dtype })
  } catch (e) {
    if (e instanceof LaminaError) return E.left(e)
    throw e
  }
}

/**
 * {@link toParams} from safetensors bytes: the spec is `spec`, or else the one the file
 * records under {@link SPEC_KEY} (files written by {@link encode} and by the Python file's `save`).
 *
 * @example
 * ```ts
 * import { PyTorch, Spec, Random, Layer, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const spec = { input: [3], layers: [{ kind: 'dense' as const, units: 2 }, { kind: 'softmax' as const }] }
 * const built = Spec.build(spec)
 * assert.ok(built._tag === 'Right')
 * const params = built.right.model.init(Random.key(4))
 * const file = PyTorch.encode(spec, params, {})
 * assert.ok(file._tag === 'Right')
 * const back = PyTorch.decode(file.right) // the spec is in the file
 * assert.ok(back._tag === 'Right')
 * const x = tensor([[1, 2, 3]])
 * assert.deepStrictEqual(Layer.apply(back.right.built.model, back.right.params, x).toArray(), Layer.apply(built.right.model, params, x).toArray())
 * ```
 */
export const decode = (bytes: Uint8Array, spec?: ModelSpec, options?: ImportOptions): Either<LaminaError, Imported> => {
  const file = Safetensors.decode(bytes)
  if (E.isLeft(file)) return file
  if (spec !== undefined) return toParams(spec, file.right, options)
  const text = file.right.metadata[SPEC_KEY]
  if (text === undefined) return E.left(new PyTorchError(`the state dict records no spec (no ${JSON.stringify(SPEC_KEY)} metadata): give the model's spec`))
  const parsed = Spec.parse(text)
  return E.isLeft(parsed) ? parsed : toParams(parsed.right, file.right, options)
}
