/**
 * One model file (src/io/checkpoint.ts, src/io/checkpoint-file.ts) and the spec of a model
 * composed in TypeScript (Spec.fromLayer in src/io/spec.ts):
 *
 * - fromLayer: random chains of every layer kind the spec language has, built with the
 *   layers' own constructors in TypeScript, give the spec the test writes down for them, and
 *   Spec.build of that spec gives it back (toSpec); the model file of the TypeScript model
 *   computes what the model does, bit for bit;
 * - what has no spec is refused, naming the layer;
 * - the metadata (dtype, task, loss, classes, epoch, optimizer, optimizerState) and the
 *   optimizer's tensors are validated, each problem a CheckpointError naming its field;
 * - Checkpoint.save/load/loadFor on disk: atomic, typed, refusing another model.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { fc, test } from '@fast-check/vitest'
import * as E from 'fp-ts/lib/Either.js'
import { ArgumentError, Checkpoint, Conv, LaminaError, Layer, Layers, Norm, Optim, Random, Safetensors, ShapeError, Spec, tensor } from 'lamina-nn'
import type { AnyLayer } from '../src/nn/layer.js'
import { Atomic, Checkpoint as CheckpointFile } from 'lamina-nn/node'

const right = <A>(r: E.Either<Error, A>): A => {
  if (E.isLeft(r)) throw r.left
  return r.right
}
const leftOf = <A>(r: E.Either<LaminaError, A>): LaminaError => {
  if (E.isRight(r)) throw new Error('expected a Left')
  return r.left
}

// ================================================================ Spec.fromLayer

/** One step of a random chain: a layer kind and its settings, made for the running shape if it fits. */
type Step =
  | { readonly kind: 'dense'; readonly units: number }
  | { readonly kind: 'conv2d'; readonly filters: number; readonly kernel: number; readonly stride: number; readonly padding: number }
  | { readonly kind: 'maxPool2d'; readonly kernel: number; readonly stride: number }
  | { readonly kind: 'dropout'; readonly rate: number }
  | { readonly kind: 'flatten' }
  | { readonly kind: 'reshape' }
  | { readonly kind: 'batchNorm'; readonly momentum: number; readonly eps: number }
  | { readonly kind: 'leakyRelu' | 'elu'; readonly alpha: number }
  | { readonly kind: 'gelu'; readonly form: 'erf' | 'tanh' }
  | { readonly kind: 'sigmoid' | 'tanh' | 'relu' | 'softplus' | 'softmax' | 'logSoftmax' | 'identity' }

const small = fc.integer({ min: 1, max: 4 })
const step: fc.Arbitrary<Step> = fc.oneof(
  small.map((units) => ({ kind: 'dense' as const, units })),
  fc.record({ filters: small, kernel: fc.integer({ min: 1, max: 3 }), stride: fc.integer({ min: 1, max: 2 }), padding: fc.integer({ min: 0, max: 1 }) }).map((s) => ({ kind: 'conv2d' as const, ...s })),
  fc.record({ kernel: fc.integer({ min: 1, max: 2 }), stride: fc.integer({ min: 1, max: 2 }) }).map((s) => ({ kind: 'maxPool2d' as const, ...s })),
  fc.constantFrom(0, 0.25, 0.5).map((rate) => ({ kind: 'dropout' as const, rate })),
  fc.constant({ kind: 'flatten' as const }),
  fc.constant({ kind: 'reshape' as const }),
  fc.record({ momentum: fc.constantFrom(0.1, 0.5), eps: fc.constantFrom(1e-5, 1e-3) }).map((s) => ({ kind: 'batchNorm' as const, ...s })),
  fc.record({ kind: fc.constantFrom('leakyRelu' as const, 'elu' as const), alpha: fc.constantFrom(0.01, 0.2, 1) }),
  fc.constantFrom('erf' as const, 'tanh' as const).map((form) => ({ kind: 'gelu' as const, form })),
  fc.constantFrom('sigmoid', 'tanh', 'relu', 'softplus', 'softmax', 'logSoftmax', 'identity').map((kind) => ({ kind }) as Step)
)

/**
 * The TypeScript layer for a step at the running shape `cur`, and the spec the test expects
 * for it (defaults written out, as the spec language's canonical form has them); none when
 * the step does not fit there. Written from the constructors' documented options, not from
 * the code under test.
 */
const make = (s: Step, cur: readonly number[]): { readonly layer: AnyLayer; readonly spec: Spec.LayerSpec } | undefined => {
  const size = cur.reduce((a, b) => a * b, 1)
  switch (s.kind) {
    case 'dense':
      return cur.length === 1 ? { layer: Layers.dense(cur[0]!, s.units), spec: { kind: 'dense', units: s.units } } : undefined
    case 'conv2d':
      return cur.length === 3 && cur[1]! + 2 * s.padding >= s.kernel && cur[2]! + 2 * s.padding >= s.kernel
        ? { layer: Conv.conv2d(cur[0]!, s.filters, s.kernel, { stride: s.stride, padding: s.padding }), spec: { ...s } }
        : undefined
    case 'maxPool2d':
      return cur.length === 3 && cur[1]! >= s.kernel && cur[2]! >= s.kernel ? { layer: Conv.maxPool2d(s.kernel, { stride: s.stride }), spec: { ...s } } : undefined
    case 'dropout':
      return { layer: Layers.dropout(s.rate), spec: { ...s } }
    case 'flatten':
      return cur.length > 1 ? { layer: Layers.flatten(), spec: { kind: 'flatten' } } : undefined
    case 'reshape': {
      // a vector of a square number of features becomes an image of one channel
      const side = Math.round(Math.sqrt(size))
      return cur.length === 1 && side * side === size && side >= 2 ? { layer: Layers.reshape([1, side, side]), spec: { kind: 'reshape', shape: [1, side, side] } } : undefined
    }
    case 'batchNorm': {
      const options = { momentum: s.momentum, eps: s.eps }
      if (cur.length === 1) return { layer: Norm.batchNorm(cur[0]!, options), spec: { ...s } }
      return cur.length === 3 ? { layer: Norm.batchNorm2d(cur[0]!, options), spec: { ...s } } : undefined
    }
    case 'leakyRelu':
      return { layer: Layers.leakyRelu(s.alpha), spec: { ...s } }
    case 'elu':
      return { layer: Layers.elu(s.alpha), spec: { ...s } }
    case 'gelu':
      return { layer: Layers.gelu(s.form), spec: { ...s } }
    default:
      return cur.length === 1 || !['softmax', 'logSoftmax'].includes(s.kind)
        ? { layer: (Layers[s.kind] as () => AnyLayer)(), spec: { kind: s.kind } }
        : undefined
  }
}

/** A random chain that fits, from an image or a vector input: the layers, the spec expected, and the input. */
const chains = fc
  .tuple(fc.boolean(), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 4, max: 7 }), fc.array(step, { minLength: 1, maxLength: 8 }))
  .map(([image, c, h, steps]) => {
    const input = image ? [c, h, h] : [h * h]
    let cur: readonly number[] = input
    const layers: AnyLayer[] = []
    const specs: Spec.LayerSpec[] = []
    for (const s of steps) {
      const made = make(s, cur)
      if (made === undefined) continue
      layers.push(made.layer)
      specs.push(made.spec)
      cur = made.layer.outputShape(cur)
    }
    return { input, layers, spec: { input, layers: specs } as Spec.ModelSpec }
  })
  .filter((c) => c.layers.length > 0)

describe('Spec.fromLayer: every layer kind of the spec language, composed in TypeScript', () => {
  test.prop([chains], { numRuns: 150 })('gives the spec written for the chain; Spec.build of it gives it back (toSpec)', ({ input, layers, spec }) => {
    const model = Layer.sequential(...(layers as [AnyLayer, ...AnyLayer[]]))
    expect(right(Spec.fromLayer(model, { input }))).toEqual(spec)
    const built = right(Spec.build(spec))
    expect(right(Spec.toSpec(built.model))).toEqual(spec)
    // the layers of a built model, composed again by hand, give the same spec
    expect(right(Spec.fromLayer(Layer.sequential(...(built.model.layers as [AnyLayer, ...AnyLayer[]])), { input }))).toEqual(spec)
  })

  test.prop([chains, fc.integer({ min: 0, max: 1000 })], { numRuns: 40 })(
    'its model file computes what the TypeScript model computes, bit for bit, in inference',
    ({ input, layers }, seed) => {
      const model = Layer.sequential(...(layers as [AnyLayer, ...AnyLayer[]]))
      const params = model.init(Random.key(seed))
      // running statistics away from their initial values, as after training
      const x = Random.normal(Random.key(seed + 1), [3, ...input])
      const { state } = Layer.train(model, params, model.initState(), x, Random.key(seed + 2))
      const file = right(Checkpoint.decode(right(Checkpoint.encodeModel(model, params, { state, input }))))
      const y = Layer.apply(model, params, x, state)
      const z = Layer.apply(file.built.model, file.params, x, file.state)
      expect(z.shape).toEqual(y.shape)
      expect(Array.from(z.data).every((v, i) => Object.is(v, y.data[i]))).toBe(true)
    }
  )

  it('opens nested sequentials and wraps a single layer; their trees are laid out as the spec model’s', () => {
    const block = Layer.sequential(Layers.dense(3, 4), Layers.relu())
    const nested = Layer.sequential(block, Layer.sequential(Layers.dense(4, 2)))
    expect(right(Spec.fromLayer(nested))).toEqual({ input: [3], layers: [{ kind: 'dense', units: 4 }, { kind: 'relu' }, { kind: 'dense', units: 2 }] })
    const params = nested.init(Random.key(0))
    const file = right(Checkpoint.decode(right(Checkpoint.encodeModel(nested, params))))
    const x = tensor([[1, -2, 3]])
    expect(Layer.apply(file.built.model, file.params, x).toArray()).toEqual(Layer.apply(nested, params, x).toArray())
    expect(right(Checkpoint.decodeFor(right(Checkpoint.encodeModel(nested, params)), nested)).params).toEqual(params)
    const single = Layers.dense(2, 1)
    const p = single.init(Random.key(1))
    expect(right(Checkpoint.decodeFor(right(Checkpoint.encodeModel(single, p)), single)).params).toEqual(p)
  })

  it('refuses, naming the layer, what the spec language cannot describe, and a model without a known input', () => {
    const custom: AnyLayer = { ...Layers.relu(), settings: undefined, kind: 'relu' }
    const cases: Array<readonly [AnyLayer, string]> = [
      [Layer.sequential(Layers.dense(2, 2), custom), "fromLayer: layers[1], a relu layer: not one of lamina's built-in layers (it records no settings), so no spec can describe it"],
      [Layer.sequential(Conv.conv2d(1, 2, 3)), 'fromLayer: the first layer (conv2d) takes shape [1,?,?], so the model does not fix its input shape: give it, e.g. Spec.fromLayer(model, { input: [1, 28, 28] })'],
      [Layers.relu(), 'fromLayer: the first layer (relu) takes any shape']
    ]
    for (const [model, message] of cases) {
      const e = leftOf(Spec.fromLayer(model))
      expect(e).toBeInstanceOf(ArgumentError)
      expect(e.message.startsWith(message)).toBe(true)
    }
    const misfit = leftOf(Spec.fromLayer(Layers.dense(3, 1), { input: [4] }))
    expect(misfit).toBeInstanceOf(ShapeError)
    expect(misfit.message).toBe('fromLayer: the first layer (dense) expects 3 features but the input is 4 features')
  })
})

// ================================================================ the metadata and the optimizer's tensors

describe('model files: what the metadata records is validated, naming the field', () => {
  const model = Layer.sequential(Layers.dense(2, 3), Layers.relu(), Layers.dense(3, 2))
  const params = model.init(Random.key(0))
  const spec = right(Spec.fromLayer(model))
  const tensors = { ...Safetensors.fromTree(params) }
  const file = (metadata: Record<string, string>, extra: Record<string, ReturnType<typeof tensor>> = {}) =>
    Safetensors.encode({ ...tensors, ...extra }, { lamina: '1', spec: JSON.stringify(spec), ...metadata })
  const refused = (bytes: Uint8Array): { field: string | undefined; message: string } => {
    const e = leftOf(Checkpoint.decode(bytes))
    expect(e).toBeInstanceOf(Checkpoint.CheckpointError)
    return { field: (e as Checkpoint.CheckpointError).field, message: e.message }
  }

  it('round-trips task, loss, classes, epoch and the optimizer with its state', () => {
    const adam = Optim.adam({ lr: 0.01 })
    let state = adam.init(params)
    state = adam.update(params, state, params)[1]
    const optimizer = { spec: { kind: 'adam' as const, lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8 }, state }
    const back = right(Checkpoint.decode(right(Checkpoint.encodeModel(model, params, { loss: 'nll', classes: ['no', 'yes'], epoch: 7, optimizer }))))
    expect(back).toMatchObject({ task: 'classification', loss: 'nll', classes: ['no', 'yes'], epoch: 7, dtype: 'f64' })
    expect(back.optimizer!.spec).toEqual(optimizer.spec)
    expect(back.optimizer!.state.step).toBe(1)
    expect(Safetensors.fromTree(back.optimizer!.state['m'])).toEqual(Safetensors.fromTree(state.m))
    expect(Safetensors.fromTree(back.optimizer!.state['v'])).toEqual(Safetensors.fromTree(state.v))
    expect(back.metadata['optimizerState']).toBe('{"step":1,"slots":["m","v"]}')
  })

  it('each metadata field that does not fit is refused with the field named', () => {
    const cases: Array<readonly [Record<string, string>, string, string]> = [
      [{ task: 'ranking' }, 'task', 'the metadata "task": expected "classification" or "regression", got "ranking"'],
      [{ loss: 'hinge' }, 'loss', 'the metadata "loss": expected one of "crossEntropyWithLogits"'],
      [{ task: 'regression', loss: 'nll' }, 'loss', 'the metadata "loss": expected one of "mse", "l1", "huber" (a regression loss), got "nll"'],
      [{ task: 'regression', classes: '["a","b"]' }, 'classes', 'the metadata "classes": expected no class names for a regression model'],
      [{ classes: '["a","b","c"]' }, 'classes', 'the metadata "classes": expected 2 class names (the model has 2 outputs), got "3 names"'],
      [{ classes: '[1, 2]' }, 'classes', 'the metadata "classes": expected an array of class names'],
      [{ classes: 'a,b' }, 'classes', 'the metadata "classes": expected an array of class names as JSON, got "a,b"'],
      [{ epoch: '-1' }, 'epoch', 'the metadata "epoch": expected the number of epochs trained, an integer ≥ 0, got "-1"'],
      [{ epoch: '1e3' }, 'epoch', 'the metadata "epoch"'],
      [{ dtype: 'f32' }, 'dtype', 'the metadata "dtype": expected "f64", the dtype of the parameters (F64), got "f32"'],
      [{ optimizer: '{"kind":"adam","lr":-1}' }, 'optimizer', 'the metadata "optimizer": optimizer: lr: expected positive number, got -1'],
      [{ optimizer: '{"kind":"sgd"}' }, 'optimizer', 'the metadata "optimizer": expected an "optimizerState" key beside it'],
      [{ optimizerState: '{"step":1.5,"slots":[]}' }, 'optimizerState', 'the metadata "optimizerState": expected { "step": an integer ≥ 0'],
      [{ optimizerState: '{"step":1,"slots":["m","m"]}' }, 'optimizerState', 'the metadata "optimizerState"'],
      [{ optimizerState: '{"step":1,"slots":["__proto__"]}' }, 'optimizerState', 'the metadata "optimizerState"'],
      [{ optimizerState: '{"step":1,"slots":["m"]}' }, 'optimizer.m.layers.0.w', 'the optimizer state: safetensors: toTree: tensor "optimizer.m.layers.0.w" is missing from the file']
    ]
    for (const [metadata, field, message] of cases) {
      const r = refused(file(metadata))
      expect(r.field).toBe(field)
      expect(r.message.startsWith(message)).toBe(true)
    }
  })

  it('the optimizer’s tensors: exactly one per parameter and slot, of its shape, in the parameters’ dtype', () => {
    const slot = Object.fromEntries(Object.entries(tensors).map(([k, t]) => [`optimizer.m.${k}`, t]))
    const meta = { optimizerState: '{"step":3,"slots":["m"]}' }
    expect(right(Checkpoint.decode(file(meta, slot))).optimizer!.state.step).toBe(3)
    expect(refused(file({}, slot))).toMatchObject({
      field: expect.stringMatching(/^optimizer\.m\.layers\./),
      message: expect.stringMatching(/the file has tensors the spec does not name: .* \(and its metadata has no "optimizerState" key\)$/)
    })
    expect(refused(file(meta, { ...slot, 'optimizer.m.layers.0.w': tensor([[1, 2]]) })).message).toContain(
      'tensor "optimizer.m.layers.0.w" has shape [1,2] in the file, expected [2,3]'
    )
    const f32 = Object.fromEntries(Object.entries(slot).map(([k, t]) => [k, tensor(t.toArray() as number[][], { dtype: 'f32' })]))
    expect(refused(file(meta, f32 as never)).message).toMatch(/^the optimizer state: mixed dtypes: "layers\.0\.w" is F64 but "optimizer\.m\.layers\.0\.w" is F32/)
    expect(refused(file(meta, { ...slot, 'optimizer.v.layers.0.w': tensor([1]) })).message).toContain('"optimizer.v.layers.0.w"')
  })

  test.prop([fc.dictionary(fc.constantFrom('dtype', 'task', 'loss', 'classes', 'epoch', 'optimizer', 'optimizerState'), fc.oneof(fc.string(), fc.json()))], { numRuns: 300 })(
    'arbitrary values of the metadata fields: a Right or a Left of LaminaError, never a throw',
    (metadata) => {
      const r = Checkpoint.decode(file(metadata))
      return E.isRight(r) || r.left instanceof LaminaError
    }
  )

  it('decodeFor refuses a file written for another model, naming the first layer that differs', () => {
    const bytes = right(Checkpoint.encodeModel(model, params))
    const wider = Layer.sequential(Layers.dense(2, 3), Layers.relu(), Layers.dense(3, 4))
    const e = leftOf(Checkpoint.decodeFor(bytes, wider))
    expect(e.message).toBe('the model does not match the file: layers[2] is {"kind":"dense","units":2} in the file but {"kind":"dense","units":4} in the model')
    expect((e as Checkpoint.CheckpointError).field).toBe('spec')
    const longer = Layer.sequential(Layers.dense(2, 3), Layers.relu(), Layers.dense(3, 2), Layers.softmax())
    expect(leftOf(Checkpoint.decodeFor(bytes, longer)).message).toBe('the model does not match the file: layers[3] is absent in the file but {"kind":"softmax"} in the model')
  })

  it('encodeModel refuses parameters that are not the model’s, before anything is written', () => {
    const e = leftOf(Checkpoint.encodeModel(model, Layer.sequential(Layers.dense(2, 4), Layers.relu(), Layers.dense(4, 2)).init(Random.key(0))))
    expect(e.message).toContain('tensor "layers.0.w" has shape [2,4] in the file, expected [2,3]')
  })
})

// ================================================================ on disk

describe('Checkpoint.save, load and loadFor (lamina-nn/node)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lamina-model-file-'))
  const model = Layer.sequential(Conv.conv2d(1, 2, 3, { padding: 1 }), Norm.batchNorm2d(2), Layers.relu(), Layers.flatten(), Layers.dense(32, 3))

  it('saves atomically and loads a typed model, f32 kept f32', async () => {
    const file = path.join(dir, 'cnn.safetensors')
    const params = model.init(Random.key(1), 'f32')
    const written = right(await CheckpointFile.save(file, model, params, { input: [1, 4, 4], classes: ['a', 'b', 'c'] }))
    expect(written).toBe(readFileSync(file).length)
    const loaded = right(CheckpointFile.loadFor(file, model))
    expect(loaded.dtype).toBe('f32')
    expect(loaded.params.layers[4].w.dtype).toBe('f32')
    const x = Random.normal(Random.key(2), [2, 1, 4, 4], { dtype: 'f32' })
    expect(Layer.apply(model, loaded.params, x, loaded.state).toArray()).toEqual(Layer.apply(model, params, x).toArray())
    expect(right(CheckpointFile.load(file)).classes).toEqual(['a', 'b', 'c'])
  })

  it('a refused save leaves the previous file as it was; a write error is a Left naming the path', async () => {
    const file = path.join(dir, 'kept.safetensors')
    writeFileSync(file, 'the last good file')
    const refused = await CheckpointFile.save(file, model, model.init(Random.key(0)))
    expect(E.isLeft(refused) && refused.left.message).toMatch(/the first layer \(conv2d\) takes shape \[1,\?,\?\]/)
    expect(readFileSync(file, 'utf8')).toBe('the last good file')
    const nowhere = path.join(dir, 'no-such-folder', 'm.safetensors')
    const failed = await CheckpointFile.save(nowhere, Layers.dense(1, 1), Layers.dense(1, 1).init(Random.key(0)))
    expect(E.isLeft(failed) && failed.left).toBeInstanceOf(Atomic.WriteError)
    expect(existsSync(nowhere)).toBe(false)
  })
})
