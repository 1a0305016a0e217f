/**
 * ONNX export (src/io/onnx.ts), checked by the engine itself: every spec layer kind, an MLP
 * and a LeNet-like network, in float32 and float64, are exported, run in onnxruntime-node,
 * and compared with lamina's own inference (`Layer.apply`: running statistics, no dropout).
 *
 * The bound: max |onnx − lamina| ≤ tolerance · max(1, max |lamina|), with tolerance 64·2⁻²³
 * (64 float32 ulps of 1, ≈ 7.6e-6) for float32 models and for float64 models whose graph
 * takes GELU's Erf or average pooling in float32; 1e-12 for the other float64 models. The largest difference
 * measured per model is printed at the end.
 */
import ort from 'onnxruntime-node'
import { afterAll, describe, expect, it } from 'vitest'
import * as Onnx from '../src/io/onnx.js'
import * as Spec from '../src/io/spec.js'
import * as Checkpoint from '../src/io/checkpoint.js'
import * as Layer from '../src/nn/layer.js'
import * as Random from '../src/random.js'
import { fromBuffer } from '../src/tensor.js'
import type { DType, Tensor } from '../src/tensor.js'
import type { LayerSpec, ModelSpec } from '../src/io/spec.js'

ort.env.logLevel = 'error'

const F32_TOLERANCE = 64 * 2 ** -23
const F64_TOLERANCE = 1e-12

const measured: Array<{ model: string; dtype: DType; difference: number; largest: number }> = []
afterAll(() => {
  const rows = measured.map((m) => `  ${m.model.padEnd(40)} ${m.dtype}  max |Δ| ${m.difference.toExponential(2)}  (max |y| ${m.largest.toPrecision(3)})`)
  console.log(`ONNX Runtime ${ort.env.versions.common} against lamina:\n${rows.join('\n')}`)
})

const right = <A>(e: { _tag: 'Left'; left: Error } | { _tag: 'Right'; right: A }): A => {
  if (e._tag === 'Left') throw e.left
  return e.right
}

/** Parameters and state drawn so that nothing is trivial: biases, β and running means away from 0, γ and variances away from 1. */
const weightsFor = (built: Spec.Built, dtype: DType, seed: number): { params: Spec.ModelParams; state: Spec.ModelState } => {
  const [kInit, kMore] = Random.split(Random.key(seed))
  const init = built.model.init(kInit!, dtype)
  let n = 0
  const draw = (shape: readonly number[], field: string): Tensor => {
    const k = Random.splitAt(kMore!, n++)
    return field === 'gamma' || field === 'variance' ? Random.uniform(k, shape, { low: 0.5, high: 2, dtype }) : Random.normal(k, shape, { std: 0.5, dtype })
  }
  // a block's record nests its layers' records (`{ layers: [...] }`, `{ branches: [{ layers }] }`)
  const redraw = (layers: readonly unknown[], fields: readonly string[]): unknown[] =>
    layers.map((layer) =>
      Object.fromEntries(
        Object.entries(layer as Record<string, unknown>).map(([field, t]) => [
          field,
          Array.isArray(t) ? (field === 'branches' ? t.map((b: { layers: unknown[] }) => ({ layers: redraw(b.layers, fields) })) : redraw(t, fields)) : fields.includes(field) ? draw((t as Tensor).shape, field) : t
        ])
      )
    )
  return {
    params: { layers: redraw(init.layers, ['b', 'gamma', 'beta']) as Spec.ModelParams['layers'] },
    state: { layers: redraw(built.model.initState().layers, ['mean', 'variance']) }
  }
}

/** A batch of `n` examples: 3·sin of a ramp, spread over [−3, 3] (times `scale`), the same values in either dtype. */
const inputs = (n: number, shape: readonly number[], dtype: DType, scale = 1): Tensor => {
  const size = shape.reduce((a, b) => a * b, 1)
  const values = Array.from({ length: n * size }, (_, i) => scale * 3 * Math.sin(1.7 * i + 0.3))
  return fromBuffer(dtype === 'f32' ? Float32Array.from(values) : Float64Array.from(values), [n, ...shape], { dtype })
}

const run = async (bytes: Uint8Array, x: Tensor): Promise<{ data: Float32Array | Float64Array; dims: readonly number[] }> => {
  const session = await ort.InferenceSession.create(bytes)
  const feed = new ort.Tensor(x.dtype === 'f32' ? 'float32' : 'float64', x.dtype === 'f32' ? Float32Array.from(x.data) : Float64Array.from(x.data), [...x.shape])
  const result = await session.run({ [Onnx.INPUT]: feed })
  const y = result[Onnx.OUTPUT]!
  return { data: y.data as Float32Array | Float64Array, dims: y.dims }
}

/** Whether a float64 graph takes a step in float32: GELU's Erf, average pooling (ONNX Runtime has no double kernel for either). */
const usesFloat32Erf = (spec: ModelSpec): boolean => {
  const some = (layers: readonly LayerSpec[]): boolean =>
    layers.some(
      (l) =>
        (l.kind === 'gelu' && (l.form ?? 'erf') === 'erf') ||
        l.kind === 'avgPool2d' ||
        (l.kind === 'residual' && some(l.layers)) ||
        (l.kind === 'parallel' && l.branches.some(some))
    )
  return some(spec.layers)
}

/** Exports `spec` in `dtype`, runs it in ONNX Runtime on a batch, and checks it against lamina within the bound; returns the difference. */
const compare = async (name: string, spec: ModelSpec, dtype: DType, options: { batch?: number; scale?: number; seed?: number } = {}): Promise<number> => {
  const built = right(Spec.build(spec))
  const { params, state } = weightsFor(built, dtype, options.seed ?? 1)
  // a model without parameters has no dtype of its own (it would export as f64): say which
  const bytes = right(Onnx.fromModel(spec, params, state, { dtype }))
  const x = inputs(options.batch ?? 5, built.inputShape, dtype, options.scale)
  const expected = Layer.apply(built.model, params, x, state)
  const got = await run(bytes, x)
  expect(got.dims).toEqual(expected.shape)
  expect(got.data).toBeInstanceOf(dtype === 'f32' ? Float32Array : Float64Array)
  let difference = 0
  let largest = 0
  const want = expected.data
  for (let i = 0; i < want.length; i++) {
    difference = Math.max(difference, Math.abs(got.data[i]! - want[i]!))
    largest = Math.max(largest, Math.abs(want[i]!))
  }
  expect(Number.isFinite(largest)).toBe(true)
  const tolerance = dtype === 'f32' || usesFloat32Erf(spec) ? F32_TOLERANCE : F64_TOLERANCE
  expect(difference).toBeLessThanOrEqual(tolerance * Math.max(1, largest))
  measured.push({ model: name, dtype, difference, largest })
  return difference
}

/** One model per spec layer kind (and per option that changes the graph), each from a per-example input shape that exercises it. */
const layerCases: ReadonlyArray<readonly [string, readonly number[], LayerSpec, number?]> = [
  ['dense', [5], { kind: 'dense', units: 4 }],
  ['conv2d (stride 2, padding 1)', [2, 7, 6], { kind: 'conv2d', filters: 3, kernel: 3, stride: 2, padding: 1 }],
  ['conv2d (kernel 2)', [3, 5, 5], { kind: 'conv2d', filters: 2, kernel: 2 }],
  ['maxPool2d (kernel 2)', [2, 6, 7], { kind: 'maxPool2d', kernel: 2 }],
  ['maxPool2d (kernel 3, stride 2)', [2, 7, 7], { kind: 'maxPool2d', kernel: 3, stride: 2 }],
  ['dropout', [5], { kind: 'dropout', rate: 0.5 }],
  ['flatten', [2, 3, 4], { kind: 'flatten' }],
  ['reshape', [12], { kind: 'reshape', shape: [3, 4] }],
  ['batchNorm (features)', [5], { kind: 'batchNorm', eps: 1e-3, momentum: 0.2 }],
  ['batchNorm (images)', [3, 4, 4], { kind: 'batchNorm' }],
  ['leakyRelu', [6], { kind: 'leakyRelu', alpha: 0.2 }, 4],
  ['elu', [6], { kind: 'elu', alpha: 0.7 }, 4],
  ['gelu (erf)', [6], { kind: 'gelu' }, 4],
  ['gelu (tanh)', [6], { kind: 'gelu', form: 'tanh' }, 4],
  ['sigmoid', [6], { kind: 'sigmoid' }, 10],
  ['tanh', [6], { kind: 'tanh' }, 4],
  ['relu', [6], { kind: 'relu' }],
  ['softplus', [6], { kind: 'softplus' }, 10],
  ['softmax (last axis of [3,4])', [3, 4], { kind: 'softmax' }, 4],
  ['logSoftmax (last axis of [3,4])', [3, 4], { kind: 'logSoftmax' }, 4],
  ['identity', [6], { kind: 'identity' }],
  ['prelu', [6], { kind: 'prelu' }, 4],
  ['maxout (groups of 3)', [6], { kind: 'maxout', k: 3 }],
  ['maxout (last axis of images)', [2, 3, 4], { kind: 'maxout', k: 2 }],
  ['absRectify', [6], { kind: 'absRectify' }, 4],
  ['maxPool2d (kernel 3, padding 1)', [2, 6, 5], { kind: 'maxPool2d', kernel: 3, stride: 2, padding: 1 }],
  ['avgPool2d (kernel 2)', [2, 6, 7], { kind: 'avgPool2d', kernel: 2 }],
  ['avgPool2d (kernel 3, stride 2, padding 1: zeros counted)', [2, 7, 6], { kind: 'avgPool2d', kernel: 3, stride: 2, padding: 1 }],
  ['globalAvgPool', [3, 4, 5], { kind: 'globalAvgPool' }],
  ['residual (dense, relu)', [6], { kind: 'residual', layers: [{ kind: 'dense', units: 6 }, { kind: 'relu' }] }],
  ['residual (conv padding 1, batchNorm)', [2, 5, 4], { kind: 'residual', layers: [{ kind: 'conv2d', filters: 2, kernel: 3, padding: 1 }, { kind: 'batchNorm' }] }],
  ['parallel (concat of 3 branches)', [6], { kind: 'parallel', branches: [[{ kind: 'dense', units: 3 }], [{ kind: 'tanh' }], [{ kind: 'relu' }, { kind: 'dense', units: 2 }]] }],
  ['parallel (images, last axis)', [2, 4, 4], { kind: 'parallel', branches: [[{ kind: 'identity' }], [{ kind: 'conv2d', filters: 2, kernel: 3, padding: 1 }]], merge: 'concat' }]
]

describe('every spec layer kind runs in ONNX Runtime as in lamina', () => {
  it('the cases cover every layer kind the spec language has', () => {
    const kinds = new Set(layerCases.map(([, , layer]) => layer.kind))
    const all: LayerSpec['kind'][] = ['dense', 'conv2d', 'maxPool2d', 'avgPool2d', 'globalAvgPool', 'residual', 'parallel', 'dropout', 'flatten', 'reshape', 'batchNorm', 'leakyRelu', 'elu', 'gelu', 'sigmoid', 'tanh', 'relu', 'softplus', 'softmax', 'logSoftmax', 'identity', 'prelu', 'maxout', 'absRectify']
    expect([...kinds].sort()).toEqual([...all].sort())
  })
  for (const dtype of ['f32', 'f64'] as const) {
    for (const [name, input, layer, scale] of layerCases) {
      it(`${name}, ${dtype}`, async () => {
        await compare(name, { input: [...input], layers: [layer] }, dtype, scale === undefined ? {} : { scale })
      })
    }
  }
})

const mlp: ModelSpec = { input: [784], layers: [{ kind: 'dense', units: 64 }, { kind: 'relu' }, { kind: 'dropout', rate: 0.2 }, { kind: 'dense', units: 10 }, { kind: 'softmax' }] }

const lenet: ModelSpec = {
  input: [784],
  layers: [
    { kind: 'reshape', shape: [1, 28, 28] },
    { kind: 'conv2d', filters: 6, kernel: 5, padding: 2 },
    { kind: 'batchNorm' },
    { kind: 'relu' },
    { kind: 'maxPool2d', kernel: 2 },
    { kind: 'conv2d', filters: 16, kernel: 5 },
    { kind: 'relu' },
    { kind: 'maxPool2d', kernel: 2 },
    { kind: 'flatten' },
    { kind: 'dense', units: 120 },
    { kind: 'gelu', form: 'tanh' },
    { kind: 'dense', units: 84 },
    { kind: 'elu' },
    { kind: 'dense', units: 10 },
    { kind: 'logSoftmax' }
  ]
}

/** Every activation after one dense layer, batch norm between. */
const chain: ModelSpec = {
  input: [8],
  layers: [
    { kind: 'dense', units: 16 },
    { kind: 'batchNorm' },
    { kind: 'leakyRelu', alpha: 0.05 },
    { kind: 'dense', units: 16 },
    { kind: 'gelu' },
    { kind: 'dense', units: 16 },
    { kind: 'softplus' },
    { kind: 'dense', units: 16 },
    { kind: 'sigmoid' },
    { kind: 'dense', units: 6 },
    { kind: 'tanh' },
    { kind: 'identity' },
    { kind: 'reshape', shape: [2, 3] },
    { kind: 'softmax' }
  ]
}

/** A small residual network: blocks nested in blocks, pooling of both kinds, parallel heads. */
const resnet: ModelSpec = {
  input: [2, 8, 8],
  layers: [
    { kind: 'conv2d', filters: 4, kernel: 3, padding: 1 },
    { kind: 'residual', layers: [{ kind: 'conv2d', filters: 4, kernel: 3, padding: 1 }, { kind: 'batchNorm' }, { kind: 'relu' }, { kind: 'residual', layers: [{ kind: 'conv2d', filters: 4, kernel: 1 }] }] },
    { kind: 'avgPool2d', kernel: 2, padding: 1 },
    { kind: 'parallel', branches: [[{ kind: 'globalAvgPool' }], [{ kind: 'maxPool2d', kernel: 2 }, { kind: 'flatten' }, { kind: 'dense', units: 3 }]] },
    { kind: 'dense', units: 5 }
  ]
}

describe('whole models', () => {
  for (const dtype of ['f32', 'f64'] as const) {
    it(`a residual network (nested residual blocks, pooling, parallel heads), ${dtype}`, async () => {
      await compare('residual network', resnet, dtype, { batch: 3 })
    })
    it(`an MLP 784-64-10, ${dtype}`, async () => {
      await compare('MLP 784-64-10', mlp, dtype)
    })
    it(`a LeNet-like network (conv, batch norm, pooling, GELU, ELU), ${dtype}`, async () => {
      await compare('LeNet-like', lenet, dtype, { batch: 4 })
    })
    it(`a chain of every activation with batch norm, ${dtype}`, async () => {
      await compare('activation chain', chain, dtype, { batch: 7 })
    })
  }

  it('the batch dimension is symbolic: one exported file runs batches of 1 and of 9', async () => {
    const built = right(Spec.build(mlp))
    const { params, state } = weightsFor(built, 'f32', 3)
    const bytes = right(Onnx.fromModel(mlp, params, state))
    for (const n of [1, 9]) {
      const x = inputs(n, [784], 'f32')
      const got = await run(bytes, x)
      expect(got.dims).toEqual([n, 10])
      const want = Layer.apply(built.model, params, x, state).data
      const difference = Math.max(...Array.from(want, (v, i) => Math.abs(v - got.data[i]!)))
      expect(difference).toBeLessThanOrEqual(F32_TOLERANCE)
    }
  })

  it('dtype converts: an f64 model exported as float32 matches lamina in float64 within the float32 bound', async () => {
    const built = right(Spec.build(lenet))
    const { params, state } = weightsFor(built, 'f64', 5)
    const bytes = right(Onnx.fromModel(lenet, params, state, { dtype: 'f32' }))
    expect(right(Onnx.decode(bytes)).graph?.initializer?.every((t) => t.data_type === 1 || t.data_type === 7)).toBe(true)
    const x = inputs(3, [784], 'f64')
    const got = await run(bytes, fromBuffer(Float32Array.from(x.data), [3, 784], { dtype: 'f32' }))
    const want = Layer.apply(built.model, params, x, state).data
    const largest = Math.max(1, ...Array.from(want, Math.abs))
    const difference = Math.max(...Array.from(want, (v, i) => Math.abs(v - got.data[i]!)))
    expect(difference).toBeLessThanOrEqual(F32_TOLERANCE * largest)
    measured.push({ model: 'LeNet-like, f64 weights written as f32', dtype: 'f32', difference, largest })
  })
})

describe('what the file holds', () => {
  const built = right(Spec.build(lenet))
  const { params, state } = weightsFor(built, 'f32', 2)
  const model = right(Onnx.decode(right(Onnx.fromModel(lenet, params, state, { name: 'lenet', metadata: { note: 'test' } }))))

  it('opset 17, IR 8, producer lamina-nn, the spec and extra metadata', () => {
    expect(model.ir_version).toBe(8)
    expect(model.opset_import).toEqual([{ domain: '', version: 17 }])
    expect(model.producer_name).toBe('lamina-nn')
    expect(model.graph?.name).toBe('lenet')
    const metadata = Object.fromEntries((model.metadata_props ?? []).map((p) => [p.key, p.value]))
    expect(JSON.parse(metadata[Onnx.SPEC_KEY]!)).toEqual(built.model.spec)
    expect(metadata['note']).toBe('test')
  })

  it('one input and one output, FLOAT, batch symbolic', () => {
    const dims = (v: Onnx.ValueInfo | undefined) => v?.type?.tensor_type?.shape?.dim
    expect(model.graph?.input?.map((v) => v.name)).toEqual(['input'])
    expect(model.graph?.output?.map((v) => v.name)).toEqual(['output'])
    expect(dims(model.graph?.input?.[0])).toEqual([{ dim_param: 'batch' }, { dim_value: 784 }])
    expect(dims(model.graph?.output?.[0])).toEqual([{ dim_param: 'batch' }, { dim_value: 10 }])
    expect(model.graph?.input?.[0]?.type?.tensor_type?.elem_type).toBe(1)
  })

  it('the parameters and running statistics are initializers under their lamina names, with their values', () => {
    const floats = (model.graph?.initializer ?? []).filter((t) => t.data_type === 1)
    const names = floats.map((t) => t.name).filter((n) => n?.startsWith('layers.') || n?.startsWith('state.'))
    const expected = [...built.parameters.map((p) => p.name), ...built.state.map((s) => `state.${s.name}`)]
    expect([...names].sort()).toEqual([...expected].sort())
    const w = floats.find((t) => t.name === 'layers.9.w')!
    expect(w.dims).toEqual([16 * 5 * 5, 120]) // 16 channels of 5×5 after two poolings, lamina's [in, out]
    const raw = w.raw_data!
    const values = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength))
    expect(values).toEqual((params.layers[9] as { w: Tensor }).w.data)
  })

  it('the nodes: one ONNX operator per layer in float32', () => {
    expect(model.graph?.node?.map((n) => n.op_type)).toEqual([
      'Reshape', 'Conv', 'BatchNormalization', 'Relu', 'MaxPool', 'Conv', 'Relu', 'MaxPool', 'Flatten',
      'Gemm', 'Mul', 'Mul', 'Mul', 'Mul', 'Add', 'Mul', 'Tanh', 'Add', 'Mul', 'Gemm', 'Elu', 'Gemm', 'LogSoftmax'
    ])
    const conv = model.graph?.node?.find((n) => n.op_type === 'Conv')
    expect(Object.fromEntries((conv?.attribute ?? []).map((a) => [a.name, a.ints]))).toEqual({ kernel_shape: [5, 5], strides: [1, 1], pads: [2, 2, 2, 2] })
  })

  it('in float64, the operators ONNX Runtime has no double kernel for are lowered', () => {
    const f64 = weightsFor(built, 'f64', 2)
    const ops = new Set(right(Onnx.decode(right(Onnx.fromModel(lenet, f64.params, f64.state)))).graph?.node?.map((n) => n.op_type))
    expect(ops.has('Conv') || ops.has('Elu')).toBe(false)
    expect(ops.has('BatchNormalization')).toBe(false)
    expect(['Gather', 'MatMul', 'Pad', 'Where', 'Sqrt'].every((op) => ops.has(op))).toBe(true)
  })
})

describe('what cannot be exported is a typed error', () => {
  const spec: ModelSpec = { input: [2], layers: [{ kind: 'dense', units: 2 }, { kind: 'batchNorm' }] }
  const built = right(Spec.build(spec))
  const params = built.model.init(Random.key(0))

  it('an unknown dtype', () => {
    const r = Onnx.fromModel(spec, params, built.model.initState(), { dtype: 'f16' as DType })
    expect(r._tag === 'Left' && r.left).toBeInstanceOf(Onnx.OnnxError)
    expect(r._tag === 'Left' && r.left.message).toBe(`dtype must be 'f32' (ONNX FLOAT) or 'f64' (ONNX DOUBLE), got "f16"`)
  })

  it('parameters that do not fit the spec, naming the tensor', () => {
    const wrong = { layers: [{ ...params.layers[0], w: fromBuffer([1, 2, 3, 4, 5, 6], [3, 2]) }, params.layers[1]] }
    const r = Onnx.fromModel(spec, wrong, built.model.initState())
    expect(r._tag === 'Left' && r.left).toBeInstanceOf(Checkpoint.CheckpointError)
    expect(r._tag === 'Left' && r.left.message).toMatch(/"layers\.0\.w" has shape \[3,2\] in the file, expected \[2,2\]/)
  })

  it('batch norm without its running statistics, naming them', () => {
    const r = Onnx.fromModel(spec, params, {})
    expect(r._tag === 'Left' && r.left.message).toMatch(/"state\.layers\.1\.mean" is missing/)
  })

  it('a spec that does not decode, naming the field', () => {
    const r = Onnx.fromModel({ input: [2], layers: [{ kind: 'attention' } as unknown as LayerSpec] }, {}, {})
    expect(r._tag === 'Left' && r.left).toBeInstanceOf(Checkpoint.CheckpointError)
    expect(r._tag === 'Left' && r.left.message).toMatch(/^the metadata spec: DecodeError: model spec: layers\[0\]\.kind: expected one of "dense"/)
  })

  it('a layer kind this exporter does not know (added to the spec language later)', () => {
    const checkpoint = right(Onnx.validate(spec, params, built.model.initState()))
    const future = { ...checkpoint, built: { ...checkpoint.built, model: { ...checkpoint.built.model, spec: { input: [2], layers: [{ kind: 'dense', units: 2 }, { kind: 'residual', layers: [{ kind: 'attention' }] }] } } } }
    const r = Onnx.fromCheckpoint(future as unknown as Checkpoint.Checkpoint)
    expect(r._tag === 'Left' && r.left).toBeInstanceOf(Onnx.OnnxError)
    expect(r._tag === 'Left' && r.left.message).toBe('layers[1].layers[0]: a "attention" layer has no ONNX export')
  })

  it('bytes that are not an ONNX model', () => {
    const r = Onnx.decode(new TextEncoder().encode('not a protobuf at all'))
    expect(r._tag === 'Left' && r.left).toBeInstanceOf(Onnx.OnnxError)
  })
})
