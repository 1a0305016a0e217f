/**
 * A lamina model as an ONNX model, so that ONNX Runtime (servers, browsers, phones) and
 * other ONNX engines run it. {@link fromCheckpoint} (or {@link fromModel}) writes the
 * ModelProto bytes of a spec's `sequential` model in inference mode: one graph input
 * `input` of shape `[batch, ...spec.input]` and one output `output`, the batch dimension
 * symbolic (`dim_param: "batch"`), the parameters and batch-norm running statistics as
 * initializers under their lamina names (`layers.0.w`, `layers.1.mean`), the spec in the
 * model's metadata (`lamina.spec`). The protobuf is written by protobufjs from ONNX's own
 * schema (see `onnx-schema.ts`), opset 17 (IR version 8), which every ONNX Runtime since 1.13 reads.
 *
 * Every spec layer exports: `dense` → Gemm, `conv2d` → Conv (strides, pads), `maxPool2d` →
 * MaxPool (pads), `avgPool2d` → AveragePool (`count_include_pad = 1`, as lamina divides every
 * window by k²), `globalAvgPool` → GlobalAveragePool, a `residual` block → its layers and an
 * Add of the input, a `parallel` block → its branches and a Concat on the last axis, `batchNorm` → BatchNormalization (running statistics), `dropout` and `identity`
 * → Identity, `flatten` → Flatten, `reshape` → Reshape, the activations → Relu, Sigmoid,
 * Tanh, Softplus, LeakyRelu, Elu, Softmax and LogSoftmax (last axis), and GELU (opset 17
 * has no Gelu op) as lamina computes it: ½x·(1 + Erf(x/√2)), or ½x·(1 + Tanh(√(2/π)·(x + 0.044715·x·x·x))).
 *
 * A float64 model (`dtype: 'f64'`, ONNX `DOUBLE`) has the same graph except where ONNX
 * Runtime's CPU engine has no double kernel (checked with onnxruntime-node 1.31): Conv is
 * lowered to Pad, Gather (the image patches) and MatMul; Elu and Softplus to the elementwise
 * forms lamina uses; global average pooling to ReduceMean; and GELU's Erf and average pooling
 * are taken in float32 (a Cast either side), so those layers are float32-accurate. Where ONNX would keep a constant as a float32 attribute, a double model
 * uses double constants instead: LeakyRelu becomes PRelu, and batch normalization is written
 * out as (x − mean)/√(variance + ε)·γ + β, as lamina computes it.
 *
 * @example
 * ```ts
 * import { Onnx, Spec, Random } from 'lamina-nn'
 * import assert from 'node:assert'
 * const spec = { input: [4], layers: [{ kind: 'dense' as const, units: 8 }, { kind: 'relu' as const }, { kind: 'dense' as const, units: 3 }] }
 * const built = Spec.build(spec)
 * assert.ok(built._tag === 'Right')
 * const { model } = built.right
 * const bytes = Onnx.fromModel(spec, model.init(Random.key(0), 'f32'), model.initState())
 * assert.ok(bytes._tag === 'Right')
 * const onnx = Onnx.decode(bytes.right)
 * assert.ok(onnx._tag === 'Right')
 * assert.deepStrictEqual(onnx.right.graph?.node?.map((n) => n.op_type), ['Gemm', 'Relu', 'Gemm'])
 * ```
 *
 * @module
 */
import protobuf from 'protobufjs/light.js'
import * as E from 'fp-ts/lib/Either.js'
import type { Either } from 'fp-ts/lib/Either.js'
import { LaminaError } from '../error.js'
import * as Sh from '../shape.js'
import type { Shape } from '../shape.js'
import type { DType, Tensor } from '../tensor.js'
import * as Checkpoint from './checkpoint.js'
import type { LayerSpec, ModelSpec } from './spec.js'
import { AttributeType, DataType, descriptor } from './onnx-schema.js'

/**
 * The ONNX operator set the export targets (the default `ai.onnx` domain).
 *
 * @example
 * ```ts
 * import { Onnx } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Onnx.OPSET, 17)
 * ```
 */
export const OPSET = 17

/**
 * The ONNX IR version written (8: the version that goes with opset 17).
 *
 * @example
 * ```ts
 * import { Onnx } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Onnx.IR_VERSION, 8)
 * ```
 */
export const IR_VERSION = 8

/**
 * The name of the graph's input, a batch `[batch, ...spec.input]`.
 *
 * @example
 * ```ts
 * import { Onnx } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Onnx.INPUT, 'input')
 * ```
 */
export const INPUT = 'input'

/**
 * The name of the graph's output, `[batch, ...outputShape]`.
 *
 * @example
 * ```ts
 * import { Onnx } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Onnx.OUTPUT, 'output')
 * ```
 */
export const OUTPUT = 'output'

/**
 * The metadata key (`metadata_props`) that holds the model's spec as JSON.
 *
 * @example
 * ```ts
 * import { Onnx } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Onnx.SPEC_KEY, 'lamina.spec')
 * ```
 */
export const SPEC_KEY = 'lamina.spec'

/**
 * An ONNX export or read failed: an unsupported dtype or layer, or bytes that are not an ONNX model.
 *
 * @example
 * ```ts
 * import { Onnx } from 'lamina-nn'
 * import assert from 'node:assert'
 * const bad = Onnx.decode(new Uint8Array([0xff, 0xff]))
 * assert.ok(bad._tag === 'Left' && bad.left instanceof Onnx.OnnxError)
 * ```
 */
export class OnnxError extends LaminaError {
  override name = 'OnnxError'
}

/** Options of {@link fromCheckpoint} and {@link fromModel}. */
export interface Options {
  /** The element type of the exported model: `f32` (ONNX `FLOAT`) or `f64` (`DOUBLE`); default the parameters' dtype. */
  readonly dtype?: DType
  /** The graph's name (default `lamina`). */
  readonly name?: string
  /** More `metadata_props` entries (the spec is always recorded under {@link SPEC_KEY}). */
  readonly metadata?: Readonly<Record<string, string>>
}

// ================================================================ the decoded view

/** One dimension of a shape: a size, or a symbolic name (`batch`). */
export interface Dimension {
  readonly dim_value?: number
  readonly dim_param?: string
}

/** A value's declared type: a tensor of `elem_type` (1 FLOAT, 11 DOUBLE) and shape. */
export interface ValueInfo {
  readonly name?: string
  readonly type?: { readonly tensor_type?: { readonly elem_type?: number; readonly shape?: { readonly dim?: readonly Dimension[] } } }
}

/** An attribute of a node (the fields lamina writes). */
export interface Attribute {
  readonly name?: string
  readonly type?: number
  readonly f?: number
  readonly i?: number
  readonly ints?: readonly number[]
}

/** A node of the graph. */
export interface Node {
  readonly name?: string
  readonly op_type?: string
  readonly input?: readonly string[]
  readonly output?: readonly string[]
  readonly attribute?: readonly Attribute[]
}

/** An initializer: a named constant tensor, its values little-endian in `raw_data`. */
export interface Initializer {
  readonly name?: string
  readonly dims?: readonly number[]
  readonly data_type?: number
  readonly raw_data?: Uint8Array
}

/** A decoded ONNX model, as far as lamina writes it (field names as in `onnx.proto`). */
export interface ModelProto {
  readonly ir_version?: number
  readonly opset_import?: readonly { readonly domain?: string; readonly version?: number }[]
  readonly producer_name?: string
  readonly doc_string?: string
  readonly metadata_props?: readonly { readonly key?: string; readonly value?: string }[]
  readonly graph?: {
    readonly name?: string
    readonly node?: readonly Node[]
    readonly initializer?: readonly Initializer[]
    readonly input?: readonly ValueInfo[]
    readonly output?: readonly ValueInfo[]
  }
}

let modelType: protobuf.Type | undefined

/** `onnx.ModelProto`, loaded from the descriptor on first use (importing lamina costs nothing). */
const ModelType = (): protobuf.Type => {
  modelType ??= protobuf.Root.fromJSON(descriptor as unknown as protobuf.INamespace).lookupType('onnx.ModelProto')
  return modelType
}

/**
 * Reads ONNX model bytes into a plain object (field names as in `onnx.proto`; 64-bit
 * integers as numbers), to look at what an export holds. A `Left` for bytes that are not
 * a protobuf `ModelProto`.
 *
 * @example
 * ```ts
 * import { Onnx, Spec, Random } from 'lamina-nn'
 * import assert from 'node:assert'
 * const spec = { input: [3], layers: [{ kind: 'dense' as const, units: 2 }] }
 * const built = Spec.build(spec)
 * assert.ok(built._tag === 'Right')
 * const bytes = Onnx.fromModel(spec, built.right.model.init(Random.key(0)), {})
 * assert.ok(bytes._tag === 'Right')
 * const model = Onnx.decode(bytes.right)
 * assert.ok(model._tag === 'Right')
 * assert.deepStrictEqual(model.right.opset_import, [{ domain: '', version: 17 }])
 * assert.deepStrictEqual(model.right.graph?.input?.[0]?.type?.tensor_type?.shape?.dim, [{ dim_param: 'batch' }, { dim_value: 3 }])
 * assert.strictEqual(model.right.graph?.input?.[0]?.type?.tensor_type?.elem_type, 11) // DOUBLE: the parameters were f64
 * ```
 */
export const decode = (bytes: Uint8Array): Either<OnnxError, ModelProto> => {
  try {
    const type = ModelType()
    return E.right(type.toObject(type.decode(bytes), { longs: Number, enums: Number, bytes: Uint8Array }) as ModelProto)
  } catch (e) {
    return E.left(new OnnxError(`not an ONNX model: ${e instanceof Error ? e.message : String(e)}`))
  }
}

// ================================================================ building the graph

type Attr = { readonly name: string; readonly type: number; readonly f?: number; readonly i?: number; readonly ints?: readonly number[] }

const floatAttr = (name: string, f: number): Attr => ({ name, type: AttributeType.FLOAT, f })
const intAttr = (name: string, i: number): Attr => ({ name, type: AttributeType.INT, i })
const intsAttr = (name: string, ints: readonly number[]): Attr => ({ name, type: AttributeType.INTS, ints })

interface TensorData {
  readonly name: string
  readonly dims: readonly number[]
  readonly data_type: number
  readonly raw_data: Uint8Array
}

/** Values as little-endian bytes of the element type (ONNX's `raw_data` is little-endian on every machine). */
const rawFloats = (values: ArrayLike<number>, dtype: DType): Uint8Array => {
  const width = dtype === 'f32' ? 4 : 8
  const out = new Uint8Array(values.length * width)
  const view = new DataView(out.buffer)
  for (let i = 0; i < values.length; i++) {
    if (dtype === 'f32') view.setFloat32(i * 4, values[i]!, true)
    else view.setFloat64(i * 8, values[i]!, true)
  }
  return out
}

const rawInt64 = (values: readonly number[]): Uint8Array => {
  const out = new Uint8Array(values.length * 8)
  const view = new DataView(out.buffer)
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true))
  return out
}

/** The graph under construction: nodes and initializers in order, and fresh names. */
class GraphBuilder {
  readonly nodes: object[] = []
  readonly initializers: TensorData[] = []
  private readonly scalars = new Map<number, string>()
  constructor(readonly dtype: DType) {}

  /** A constant of the model's element type. */
  floats(name: string, dims: readonly number[], values: ArrayLike<number>): string {
    this.initializers.push({ name, dims, data_type: this.dtype === 'f32' ? DataType.FLOAT : DataType.DOUBLE, raw_data: rawFloats(values, this.dtype) })
    return name
  }

  /** An int64 constant (shapes, pads, indices). */
  int64(name: string, dims: readonly number[], values: readonly number[]): string {
    this.initializers.push({ name, dims, data_type: DataType.INT64, raw_data: rawInt64(values) })
    return name
  }

  /** A scalar of the model's element type, shared by every node that uses the same value. */
  scalar(value: number): string {
    const known = this.scalars.get(value)
    if (known !== undefined) return known
    const name = this.floats(`const.${this.scalars.size}`, [], [value])
    this.scalars.set(value, name)
    return name
  }

  node(name: string, op: string, inputs: readonly string[], output: string, attributes: readonly Attr[] = []): string {
    this.nodes.push({ name, op_type: op, input: [...inputs], output: [output], attribute: attributes.map((a) => ({ ...a })) })
    return output
  }
}

/** The running per-example shape after one layer (the same arithmetic as lamina's layers; `Spec.build` has checked that it fits). */
const shapeAfterLayer = (cur: Shape, s: LayerSpec): Shape => shapeAfter(s, cur)

const shapeAfter = (s: LayerSpec, cur: Shape): Shape => {
  const window = (n: number, k: number, stride: number, padding: number) => Math.floor((n + 2 * padding - k) / stride) + 1
  switch (s.kind) {
    case 'dense':
      return [s.units]
    case 'conv2d':
      return [s.filters, window(cur[1]!, s.kernel, s.stride ?? 1, s.padding ?? 0), window(cur[2]!, s.kernel, s.stride ?? 1, s.padding ?? 0)]
    case 'maxPool2d':
    case 'avgPool2d':
      return [cur[0]!, window(cur[1]!, s.kernel, s.stride ?? s.kernel, s.padding ?? 0), window(cur[2]!, s.kernel, s.stride ?? s.kernel, s.padding ?? 0)]
    case 'globalAvgPool':
      return [cur[0]!]
    case 'residual':
      return cur
    case 'parallel': {
      const outs = s.branches.map((b) => b.reduce(shapeAfterLayer, cur))
      return [...outs[0]!.slice(0, -1), outs.reduce((n, o) => n + o[o.length - 1]!, 0)]
    }
    case 'flatten':
      return [Sh.size(cur)]
    case 'reshape':
      return [...s.shape]
    case 'maxout':
      return [...cur.slice(0, -1), cur[cur.length - 1]! / s.k]
    default:
      return cur
  }
}

/**
 * The nodes of layer `i` (spec `s`, per-example input shape `cur`), reading `x` and writing
 * `y`. `tensor(field)` is the layer's parameter or state tensor of that field, as an initializer.
 */
const emitLayer = (g: GraphBuilder, s: LayerSpec, at: string, cur: Shape, x: string, y: string, tensor: (field: string) => string): void => {
  const double = g.dtype === 'f64'
  let step = 0
  const tmp = () => `${at}/${step++}`
  const op = (name: string, inputs: readonly string[], attributes: readonly Attr[] = [], out: string = tmp()) => g.node(`${at}.${name}.${step}`, name, inputs, out, attributes)
  switch (s.kind) {
    case 'dense':
      op('Gemm', [x, tensor('w'), tensor('b')], [], y)
      return
    case 'conv2d': {
      const stride = s.stride ?? 1
      const padding = s.padding ?? 0
      if (!double) {
        op('Conv', [x, tensor('w'), tensor('b')], [intsAttr('kernel_shape', [s.kernel, s.kernel]), intsAttr('strides', [stride, stride]), intsAttr('pads', [padding, padding, padding, padding])], y)
        return
      }
      // no double Conv in ONNX Runtime's CPU engine: gather the k×k patches of the padded
      // image as columns (im2col) and multiply by the weights as a [out, in·k·k] matrix
      const [c, h, w] = cur as readonly [number, number, number]
      const [, ho, wo] = shapeAfter(s, cur) as readonly [number, number, number]
      const [hp, wp] = [h + 2 * padding, w + 2 * padding]
      const k = s.kernel
      const indices: number[] = new Array<number>(c * k * k * ho * wo)
      let n = 0
      for (let ci = 0; ci < c; ci++)
        for (let di = 0; di < k; di++)
          for (let dj = 0; dj < k; dj++)
            for (let oh = 0; oh < ho; oh++) for (let ow = 0; ow < wo; ow++) indices[n++] = ci * hp * wp + (oh * stride + di) * wp + (ow * stride + dj)
      const padded = padding === 0 ? x : op('Pad', [x, g.int64(`${at}.pads`, [8], [0, 0, padding, padding, 0, 0, padding, padding])])
      const flat = op('Reshape', [padded, g.int64(`${at}.flat`, [2], [0, c * hp * wp])])
      const columns = op('Gather', [flat, g.int64(`${at}.patches`, [c * k * k, ho * wo], indices)], [intAttr('axis', 1)])
      const weights = op('Reshape', [tensor('w'), g.int64(`${at}.rows`, [2], [s.filters, c * k * k])])
      const product = op('MatMul', [weights, columns])
      const bias = op('Reshape', [tensor('b'), g.int64(`${at}.column`, [2], [s.filters, 1])])
      const shifted = op('Add', [product, bias])
      op('Reshape', [shifted, g.int64(`${at}.image`, [4], [0, s.filters, ho, wo])], [], y)
      return
    }
    case 'maxPool2d':
    case 'avgPool2d': {
      const stride = s.stride ?? s.kernel
      const p = s.padding ?? 0
      const window = [intsAttr('kernel_shape', [s.kernel, s.kernel]), intsAttr('strides', [stride, stride]), ...(p === 0 ? [] : [intsAttr('pads', [p, p, p, p])])]
      if (s.kind === 'maxPool2d') op('MaxPool', [x], window, y)
      // lamina's average counts the padded zeros: every window divides by k²
      else if (!double) op('AveragePool', [x, ], [...window, intAttr('count_include_pad', 1)], y)
      else op('Cast', [op('AveragePool', [op('Cast', [x], [intAttr('to', DataType.FLOAT)])], [...window, intAttr('count_include_pad', 1)])], [intAttr('to', DataType.DOUBLE)], y)
      return
    }
    case 'globalAvgPool':
      // ONNX Runtime's GlobalAveragePool is float-only; ReduceMean over height and width also has a double kernel
      if (double) op('ReduceMean', [x], [intsAttr('axes', [2, 3]), intAttr('keepdims', 0)], y)
      else op('Flatten', [op('GlobalAveragePool', [x])], [intAttr('axis', 1)], y)
      return
    case 'residual': {
      // y = x + f(x), f the block's layers in sequence (their tensors under `layers.j.…`)
      const fx = emitChain(g, s.layers, `${at}.layers`, cur, x, `${at}.f`, (path) => tensor(`layers.${path}`))
      op('Add', [x, fx], [], y)
      return
    }
    case 'parallel': {
      const outs = s.branches.map((b, k) => emitChain(g, b, `${at}.branches.${k}.layers`, cur, x, `${at}.branch.${k}`, (path) => tensor(`branches.${k}.layers.${path}`)))
      op('Concat', outs, [intAttr('axis', -1)], y)
      return
    }
    case 'dropout':
    case 'identity':
      op('Identity', [x], [], y)
      return
    case 'flatten':
      op('Flatten', [x], [intAttr('axis', 1)], y)
      return
    case 'reshape':
      // 0 keeps the batch dimension as it is
      op('Reshape', [x, g.int64(`${at}.shape`, [s.shape.length + 1], [0, ...s.shape])], [], y)
      return
    case 'batchNorm': {
      const eps = s.eps ?? 1e-5
      if (!double) {
        // ONNX's momentum weighs the running value, lamina's the batch's
        op('BatchNormalization', [x, tensor('gamma'), tensor('beta'), tensor('mean'), tensor('variance')], [floatAttr('epsilon', eps), floatAttr('momentum', 1 - (s.momentum ?? 0.1))], y)
        return
      }
      // ONNX keeps ε as a float32 attribute: in double, lamina's own form with a double ε,
      // (x − mean)/√(variance + ε)·γ + β, the statistics [C] reshaped to [C,1,1] for images
      const perChannel = cur.length === 1 ? undefined : g.int64(`${at}.channels`, [cur.length], [cur[0]!, ...cur.slice(1).map(() => 1)])
      const stat = (field: string) => (perChannel === undefined ? tensor(field) : op('Reshape', [tensor(field), perChannel]))
      const xhat = op('Div', [op('Sub', [x, stat('mean')]), op('Sqrt', [op('Add', [stat('variance'), g.scalar(eps)])])])
      op('Add', [op('Mul', [xhat, stat('gamma')]), stat('beta')], [], y)
      return
    }
    case 'leakyRelu': {
      const alpha = s.alpha ?? 0.01
      if (double) op('PRelu', [x, g.scalar(alpha)], [], y)
      else op('LeakyRelu', [x], [floatAttr('alpha', alpha)], y)
      return
    }
    case 'elu': {
      const alpha = s.alpha ?? 1
      if (!double) {
        op('Elu', [x], [floatAttr('alpha', alpha)], y)
        return
      }
      // lamina's form: x where x > 0, else α(e^min(x, 0) − 1)
      const negative = op('Mul', [op('Sub', [op('Exp', [op('Min', [x, g.scalar(0)])]), g.scalar(1)]), g.scalar(alpha)])
      op('Where', [op('Greater', [x, g.scalar(0)]), x, negative], [], y)
      return
    }
    case 'softplus':
      if (!double) {
        op('Softplus', [x], [], y)
        return
      }
      // lamina's form: max(x, 0) + log(1 + e^(−|x|)), which never overflows
      op('Add', [op('Relu', [x]), op('Log', [op('Add', [op('Exp', [op('Neg', [op('Abs', [x])])]), g.scalar(1)])])], [], y)
      return
    case 'gelu': {
      const half = op('Mul', [x, g.scalar(0.5)])
      if ((s.form ?? 'erf') === 'erf') {
        // ½x·(1 + erf(x/√2)), as lamina computes it
        const scaled = op('Mul', [x, g.scalar(Math.SQRT1_2)])
        const erf = double
          ? op('Cast', [op('Erf', [op('Cast', [scaled], [intAttr('to', DataType.FLOAT)])])], [intAttr('to', DataType.DOUBLE)])
          : op('Erf', [scaled])
        op('Mul', [half, op('Add', [erf, g.scalar(1)])], [], y)
      } else {
        // ½x·(1 + tanh(√(2/π)·(x + 0.044715·x·x·x)))
        const cube = op('Mul', [op('Mul', [x, x]), x])
        const inner = op('Mul', [op('Add', [x, op('Mul', [cube, g.scalar(0.044715)])]), g.scalar(Math.sqrt(2 / Math.PI))])
        op('Mul', [half, op('Add', [op('Tanh', [inner]), g.scalar(1)])], [], y)
      }
      return
    }
    case 'sigmoid':
      op('Sigmoid', [x], [], y)
      return
    case 'tanh':
      op('Tanh', [x], [], y)
      return
    case 'relu':
      op('Relu', [x], [], y)
      return
    case 'softmax':
      op('Softmax', [x], [intAttr('axis', -1)], y)
      return
    case 'logSoftmax':
      op('LogSoftmax', [x], [intAttr('axis', -1)], y)
      return
    case 'absRectify':
      // lamina's rectify with slope −1 below zero: |x|
      op('Abs', [x], [], y)
      return
    case 'prelu':
      // a slope per feature, broadcast over the batch
      op('PRelu', [x, tensor('alpha')], [], y)
      return
    case 'maxout': {
      // groups of k consecutive units of the last axis: [.., n·k] → [.., n, k], then the maximum of each group
      const last = cur[cur.length - 1]!
      const grouped = op('Reshape', [x, g.int64(`${at}.groups`, [cur.length + 2], [0, ...cur.slice(0, -1), last / s.k, s.k])])
      op('ReduceMax', [grouped], [intsAttr('axes', [-1]), intAttr('keepdims', 0)], y)
      return
    }
    default:
      // a layer kind added to the spec language after this exporter
      throw new OnnxError(`${at.replace(/\.(\d+)/g, '[$1]')}: a ${JSON.stringify((s as { kind: string }).kind)} layer has no ONNX export`)
  }
}

/**
 * The nodes of a list of layers run in sequence (the model's, or a block's), the layer `j` at
 * `${at}.${j}` with its tensors `tensor('j.field')`, from `x`; returns the name of the last
 * layer's output, `y`.
 */
const emitChain = (g: GraphBuilder, specs: readonly LayerSpec[], at: string, input: Shape, x: string, y: string, tensor: (path: string) => string): string => {
  let cur = input
  let value = x
  specs.forEach((s, j) => {
    const out = j === specs.length - 1 ? y : `${at}.${j}`
    emitLayer(g, s, `${at}.${j}`, cur, value, out, (field) => tensor(`${j}.${field}`))
    cur = shapeAfter(s, cur)
    value = out
  })
  return value
}

const valueInfo = (name: string, dtype: DType, shape: Shape) => ({
  name,
  type: {
    tensor_type: {
      elem_type: dtype === 'f32' ? DataType.FLOAT : DataType.DOUBLE,
      shape: { dim: [{ dim_param: 'batch' }, ...shape.map((d) => ({ dim_value: d }))] }
    }
  }
})

const checkDType = (dtype: unknown): Either<OnnxError, DType> =>
  dtype === 'f32' || dtype === 'f64' ? E.right(dtype) : E.left(new OnnxError(`dtype must be 'f32' (ONNX FLOAT) or 'f64' (ONNX DOUBLE), got ${JSON.stringify(dtype)}`))

/**
 * The ONNX model (ModelProto bytes) of a checkpoint (a model read by `Checkpoint.decode`,
 * or one {@link fromModel} validates): inference mode, its parameters and running statistics
 * as initializers, in `options.dtype` (default the checkpoint's). A `Left` names what cannot
 * be exported.
 *
 * @example
 * ```ts
 * import { Onnx, Checkpoint, Spec, Random } from 'lamina-nn'
 * import assert from 'node:assert'
 * const spec = { input: [1, 8, 8], layers: [{ kind: 'conv2d' as const, filters: 2, kernel: 3 }, { kind: 'maxPool2d' as const, kernel: 2 }, { kind: 'flatten' as const }] }
 * const built = Spec.build(spec)
 * assert.ok(built._tag === 'Right')
 * const file = Checkpoint.encode(spec, built.right.model.init(Random.key(0), 'f32'), {})
 * const checkpoint = Checkpoint.decode(file)
 * assert.ok(checkpoint._tag === 'Right')
 * const onnx = Onnx.fromCheckpoint(checkpoint.right)
 * assert.ok(onnx._tag === 'Right')
 * const graph = Onnx.decode(onnx.right)
 * assert.ok(graph._tag === 'Right')
 * assert.deepStrictEqual(graph.right.graph?.node?.map((n) => n.op_type), ['Conv', 'MaxPool', 'Flatten'])
 * assert.deepStrictEqual(graph.right.graph?.output?.[0]?.type?.tensor_type?.shape?.dim, [{ dim_param: 'batch' }, { dim_value: 18 }])
 * ```
 */
export const fromCheckpoint = (checkpoint: Pick<Checkpoint.Checkpoint, 'built' | 'params' | 'state' | 'dtype'>, options?: Options): Either<LaminaError, Uint8Array> => {
  const dtype = checkDType(options?.dtype ?? checkpoint.dtype)
  if (E.isLeft(dtype)) return dtype
  const { built, params, state } = checkpoint
  const spec: ModelSpec = built.model.spec
  try {
    const g = new GraphBuilder(dtype.right)
    // `path` is a tensor's name in the tree (`0.w`, `2.layers.0.b`): blocks nest their layers' records
    const tensorOf = (path: string): string => {
      const isState = path.endsWith('.mean') || path.endsWith('.variance')
      const t = path.split('.').reduce<unknown>((node, key) => (node as Readonly<Record<string, unknown>> | undefined)?.[key], isState ? state.layers : params.layers) as Tensor | undefined
      const name = `${isState ? 'state.' : ''}layers.${path}`
      const i = Number(path.split('.')[0])
      if (t === undefined) throw new OnnxError(`${name} is missing (a ${spec.layers[i]!.kind} layer)`)
      if (!g.initializers.some((init) => init.name === name)) g.floats(name, t.shape, t.data)
      return name
    }
    emitChain(g, spec.layers, 'layers', built.inputShape, INPUT, OUTPUT, tensorOf)
    const model = {
      ir_version: IR_VERSION,
      opset_import: [{ domain: '', version: OPSET }],
      producer_name: 'lamina-nn',
      doc_string: `a lamina-nn model in inference mode: ${INPUT} [batch,${built.inputShape.join(',')}] → ${OUTPUT} [batch,${built.outputShape.join(',')}]`,
      graph: {
        name: options?.name ?? 'lamina',
        node: g.nodes,
        initializer: g.initializers,
        input: [valueInfo(INPUT, dtype.right, built.inputShape)],
        output: [valueInfo(OUTPUT, dtype.right, built.outputShape)]
      },
      metadata_props: [{ key: SPEC_KEY, value: JSON.stringify(spec) }, ...Object.entries(options?.metadata ?? {}).map(([key, value]) => ({ key, value: String(value) }))]
    }
    const type = ModelType()
    return E.right(type.encode(type.fromObject(model)).finish())
  } catch (e) {
    if (e instanceof LaminaError) return E.left(e)
    throw e
  }
}

/**
 * The ONNX model of a spec with its parameters and layer state (`model.initState()` for a
 * model without batch norm may be `{}`): they are checked against the spec first, exactly as
 * `Checkpoint.decode` checks a file (names, shapes, one dtype), then exported by
 * {@link fromCheckpoint}.
 *
 * @example
 * ```ts
 * import { Onnx, Spec, Random, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const spec = { input: [2], layers: [{ kind: 'dense' as const, units: 2 }, { kind: 'batchNorm' as const }, { kind: 'gelu' as const, form: 'tanh' as const }] }
 * const built = Spec.build(spec)
 * assert.ok(built._tag === 'Right')
 * const { model } = built.right
 * const onnx = Onnx.fromModel(spec, model.init(Random.key(0)), model.initState(), { dtype: 'f32' })
 * assert.ok(onnx._tag === 'Right')
 * // parameters that do not fit the spec are refused, naming the tensor
 * const wrong = Onnx.fromModel(spec, { layers: [{ w: tensor([[1, 2, 3], [4, 5, 6]]), b: tensor([0, 0, 0]) }, {}, {}] }, model.initState())
 * assert.ok(wrong._tag === 'Left')
 * assert.match(wrong.left.message, /"layers.0.w" has shape \[2,3\] in the file, expected \[2,2\]/)
 * ```
 */
export const fromModel = (spec: ModelSpec, params: unknown, state: unknown, options?: Options): Either<LaminaError, Uint8Array> => {
  const checkpoint = validate(spec, params, state)
  return E.isLeft(checkpoint) ? checkpoint : fromCheckpoint(checkpoint.right, options)
}

/**
 * A spec with its parameters and state, checked as `Checkpoint.decode` checks a file (the
 * spec builds; the tensors are exactly the model's, with their shapes and one dtype).
 *
 * @internal
 */
export const validate = (spec: ModelSpec, params: unknown, state: unknown): Either<LaminaError, Checkpoint.Checkpoint> => {
  try {
    return Checkpoint.decode(Checkpoint.encode(spec, params, state ?? {}))
  } catch (e) {
    if (e instanceof LaminaError) return E.left(e)
    throw e
  }
}
