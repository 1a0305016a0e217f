/**
 * Hostile model files, specs and input paths (issue 13, the loading side):
 *
 * 1. a model file whose spec asks for far more than the file holds is refused from the
 *    shapes alone, before anything is allocated (no `init`, no `initState`);
 * 2. spec sizes are bounded (`Spec.MAX_ELEMENTS`, `MAX_RANK`, `MAX_LAYERS`, `MAX_KEYS`), and
 *    a size over a limit is a typed error naming the field and the limit;
 * 5. float32 model files load, and eval/predict run in the file's dtype;
 * 7. a key given twice in one object of a safetensors header is refused, as the reference does;
 * 12. input paths that are not regular files (`/dev/zero`, a FIFO, a folder) are refused at
 *     once, and every input file is read with a size limit;
 *
 * and a fuzzing property over random specs embedded in model files: each is loaded or refused
 * with a typed error, within a memory bound.
 *
 * The command-line cases run in one child process (through `main`), watched from here: it is
 * killed if its resident memory passes 768 MB or it runs for a minute, so a regression fails
 * the test instead of eating the machine or blocking on a FIFO.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { fc, test } from '@fast-check/vitest'
import * as E from 'fp-ts/lib/Either.js'
import { ArgumentError, Checkpoint, DecodeError, LaminaError, Layer, Random, Safetensors, Spec, astype, tensor } from 'lamina-nn'
import { ReadFile } from 'lamina-nn/node'
import { main } from '../src/cli/main.js'

const ROOT = path.resolve(fileURLToPath(new URL('..', import.meta.url)))
const dir = mkdtempSync(path.join(tmpdir(), 'lamina-hostile-'))
const file = (name: string, contents?: string | Uint8Array): string => {
  const p = path.join(dir, name)
  if (contents !== undefined) writeFileSync(p, contents)
  return p
}

/** A lamina model file with `spec` in its metadata and the given tensors. */
const modelFile = (spec: unknown, tensors: Readonly<Record<string, ReturnType<typeof tensor>>> = {}): Uint8Array =>
  Safetensors.encode(tensors, { lamina: '1', spec: typeof spec === 'string' ? spec : JSON.stringify(spec) })

/** A safetensors file with this header text, byte for byte, and this data section. */
const raw = (header: string, data: Uint8Array = new Uint8Array(0)): Uint8Array => {
  const h = new TextEncoder().encode(header)
  const out = new Uint8Array(8 + h.length + data.length)
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true)
  out.set(h, 8)
  out.set(data, 8 + h.length)
  return out
}

const leftOf = <A>(r: E.Either<LaminaError, A>): LaminaError => {
  if (E.isRight(r)) throw new Error('expected a Left, got a Right')
  return r.left
}

/** The resident-memory high-water mark of this process, in MB. */
const maxRssMB = (): number => process.resourceUsage().maxRSS / 1024

const run = async (...args: string[]) => {
  let stdout = ''
  let stderr = ''
  const code = await main(args, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s) })
  return { code, stdout, stderr }
}

// ---------------------------------------------------------------- 1. specs beyond the file

// specs that build by construction: MLPs and small convolutional networks
const MLP = fc.record({
  input: fc.tuple(fc.integer({ min: 1, max: 6 })),
  layers: fc.array(
    fc.oneof(
      fc.record({ kind: fc.constant('dense' as const), units: fc.integer({ min: 1, max: 5 }) }),
      fc.constant({ kind: 'batchNorm' as const }),
      fc.constantFrom(...(['relu', 'tanh', 'softmax', 'flatten'] as const)).map((kind) => ({ kind })),
      fc.constant({ kind: 'dropout' as const, rate: 0.5 })
    ),
    { minLength: 1, maxLength: 5 }
  )
})
const CNN = fc.record({
  input: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 6, max: 9 }), fc.integer({ min: 6, max: 9 })),
  layers: fc
    .array(
      fc.oneof(
        fc.record({ kind: fc.constant('conv2d' as const), filters: fc.integer({ min: 1, max: 3 }), kernel: fc.integer({ min: 1, max: 2 }), padding: fc.integer({ min: 0, max: 1 }) }),
        fc.constant({ kind: 'batchNorm' as const }),
        fc.constant({ kind: 'relu' as const })
      ),
      { minLength: 1, maxLength: 3 }
    )
    .map((ls) => [...ls, { kind: 'maxPool2d' as const, kernel: 2 }, { kind: 'flatten' as const }, { kind: 'dense' as const, units: 3 }])
})


describe('1. a spec that asks for more than the file holds is refused before anything is allocated', () => {
  it('a 224-byte file whose spec needs 10^8 parameters (0.8 GB) is refused at once, naming the largest tensor', () => {
    // the first test of this file, so the memory high-water mark is this case's
    const spec = { input: [5000], layers: Array.from({ length: 4 }, () => ({ kind: 'dense', units: 5000 })) }
    const bytes = modelFile(spec)
    expect(bytes.length).toBe(224)
    const rss = maxRssMB()
    const buffers = process.memoryUsage().arrayBuffers
    const e = leftOf(Checkpoint.decode(bytes))
    expect(e).toBeInstanceOf(Checkpoint.CheckpointError)
    // 4 × (5000·5000 + 5000) values, at least 2 bytes each
    expect(e.message).toBe(
      'the metadata spec: its 100020000 parameter and state values need at least 200040000 bytes (800160000 in F64), ' +
        `but the file's data section holds 0 bytes; the largest is "layers.0.w" [5000,5000] (layers[0], a dense layer)`
    )
    expect(process.memoryUsage().arrayBuffers - buffers).toBeLessThan(1024 * 1024)
    expect(maxRssMB() - rss).toBeLessThan(100)
  })

  it('the cases of the issue: a billion units, batch norm over a billion features, 1000 layers of a million units', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ input: [2], layers: [{ kind: 'dense', units: 1_000_000_000 }] }, /layers\[0\]: expected a dense layer whose w has at most 1073741824 elements \(Spec\.MAX_ELEMENTS\), got \[2,1000000000\]/],
      [{ input: [1_000_000_000], layers: [{ kind: 'batchNorm' }] }, /need at least 8000000000 bytes .* the largest is "layers\.0\.gamma" \[1000000000\] \(layers\[0\], a batchNorm layer\)/],
      [{ input: [2], layers: Array.from({ length: 1000 }, () => ({ kind: 'dense', units: 1_000_000 })) }, /layers\[1\]: expected a dense layer whose w has at most 1073741824 elements .*got \[1000000,1000000\]/]
    ]
    const rss = maxRssMB()
    for (const [spec, message] of cases) {
      const e = leftOf(Checkpoint.decode(modelFile(spec)))
      expect(e).toBeInstanceOf(Checkpoint.CheckpointError)
      expect(e.message).toMatch(message)
    }
    expect(maxRssMB() - rss).toBeLessThan(100)
  })

  it('tensors of the wrong shape or name are refused from the header, naming the tensor and the layer', () => {
    const spec = { input: [3], layers: [{ kind: 'dense', units: 2 }, { kind: 'batchNorm' }] }
    const w = tensor([[1, 2], [3, 4], [5, 6]])
    const b = tensor([0, 0])
    const ones = tensor([1, 1])
    const ok = { 'layers.0.w': w, 'layers.0.b': b, 'layers.1.gamma': ones, 'layers.1.beta': b, 'state.layers.1.mean': b, 'state.layers.1.variance': ones }
    expect(E.isRight(Checkpoint.decode(modelFile(spec, ok)))).toBe(true)
    const { 'state.layers.1.variance': _v, ...noVariance } = ok
    expect(leftOf(Checkpoint.decode(modelFile(spec, noVariance))).message).toBe(
      'the layer state: safetensors: toTree: tensor "state.layers.1.variance" is missing from the file (layers[1], a batchNorm layer, shape [2])'
    )
    expect(leftOf(Checkpoint.decode(modelFile(spec, { ...ok, 'layers.0.b': tensor([0, 0, 0]) }))).message).toBe(
      'the parameters: safetensors: toTree: tensor "layers.0.b" has shape [3] in the file, expected [2] (layers[0], a dense layer)'
    )
    expect(leftOf(Checkpoint.decode(modelFile(spec, { ...ok, 'layers.7.w': b }))).message).toBe(
      'the parameters: safetensors: toTree: the file has tensors the spec does not name: "layers.7.w"'
    )
  })

  it('Spec.parameterCount counts without allocating; Spec.checkParameterCount refuses a count over the limit', () => {
    const rss = maxRssMB()
    const huge = { input: [1000], layers: Array.from({ length: 100 }, () => ({ kind: 'dense' as const, units: 30_000 })) }
    // 1000·30000 + 30000 + 99 · (30000·30000 + 30000)
    expect(Spec.parameterCount(huge)).toEqual(E.right(1000 * 30_000 + 30_000 + 99 * (30_000 * 30_000 + 30_000)))
    const built = Spec.build(huge)
    if (E.isLeft(built)) throw built.left
    const checked = Spec.checkParameterCount(built.right)
    expect(E.isLeft(checked) && checked.left).toBeInstanceOf(ArgumentError)
    expect(E.isLeft(checked) && checked.left.message).toBe(
      'model spec: layers[1].units: expected at most 100000000 parameters in all (Spec.MAX_PARAMETERS), got 89133000000 (the largest: layers.1.w [30000,30000] of a dense layer)'
    )
    expect(E.isRight(Spec.checkParameterCount(built.right, 1e11))).toBe(true)
    expect(maxRssMB() - rss).toBeLessThan(100)
  })

  test.prop([fc.oneof(MLP, CNN), fc.integer({ min: 0, max: 1000 })], { numRuns: 150 })(
    'the shapes walked from a spec are exactly the tensors init and initState allocate',
    (spec, seed) => {
      const built = Spec.build(spec)
      if (E.isLeft(built)) throw built.left
      const { model, parameters, state, parameterCount } = built.right
      const named = (tree: unknown) => Object.entries(Safetensors.fromTree(tree)).map(([name, t]) => [name, [...t.shape]])
      const params = model.init(Random.key(seed))
      expect(parameters.map((s) => [s.name, [...s.shape]])).toEqual(named(params))
      expect(state.map((s) => [s.name, [...s.shape]])).toEqual(named(model.initState()))
      expect(parameterCount).toBe(Object.values(Safetensors.fromTree(params)).reduce((n, t) => n + t.size, 0))
    }
  )
})

// ---------------------------------------------------------------- 2. spec sizes

describe('2. spec sizes are validated up front, naming the field and the limit', () => {
  it('"input": [1e15] is a DecodeError naming input[0] and Spec.MAX_ELEMENTS, not a RangeError', () => {
    const parsed = Spec.parse('{"input": [1e15], "layers": [{"kind": "dense", "units": 2}]}')
    const e = leftOf(parsed)
    expect(e).toBeInstanceOf(DecodeError)
    expect(e.message).toBe('model spec: input[0]: expected positive integer ≤ 1073741824 (Spec.MAX_ELEMENTS), got 1000000000000000')
    // and through build (a JavaScript caller), and through a model file
    expect(leftOf(Spec.build({ input: [1e15], layers: [{ kind: 'dense', units: 2 }] })).message).toContain('input[0]: expected positive integer ≤ 1073741824')
    expect(leftOf(Checkpoint.decode(modelFile({ input: [1e15], layers: [{ kind: 'relu' }] }))).message).toContain('input[0]: expected positive integer ≤ 1073741824')
  })

  const over = 2 ** 30 + 1
  const fields: Array<[string, unknown, string]> = [
    ['dense units', { kind: 'dense', units: over }, 'layers[0].units'],
    ['dense inputs', { kind: 'dense', units: 2, inputs: over }, 'layers[0].inputs'],
    ['conv2d filters', { kind: 'conv2d', filters: over, kernel: 1 }, 'layers[0].filters'],
    ['conv2d kernel', { kind: 'conv2d', filters: 1, kernel: over }, 'layers[0].kernel'],
    ['conv2d stride', { kind: 'conv2d', filters: 1, kernel: 1, stride: over }, 'layers[0].stride'],
    ['conv2d padding', { kind: 'conv2d', filters: 1, kernel: 1, padding: over }, 'layers[0].padding'],
    ['conv2d channels', { kind: 'conv2d', filters: 1, kernel: 1, channels: over }, 'layers[0].channels'],
    ['maxPool2d kernel', { kind: 'maxPool2d', kernel: over }, 'layers[0].kernel'],
    ['maxPool2d stride', { kind: 'maxPool2d', kernel: 1, stride: over }, 'layers[0].stride'],
    ['reshape dimension', { kind: 'reshape', shape: [1, over] }, 'layers[0].shape[1]']
  ]
  for (const [what, layer, field] of fields) {
    it(`${what} over the limit: "${field}: expected … ≤ 1073741824 (Spec.MAX_ELEMENTS)"`, () => {
      const e = leftOf(Spec.decode({ input: [1, 4, 4], layers: [layer] }))
      expect(e).toBeInstanceOf(DecodeError)
      expect(e.message).toMatch(new RegExp(`^model spec: ${field.replace(/[[\].]/g, '\\$&')}: expected (positive|non-negative) integer ≤ 1073741824 \\(Spec\\.MAX_ELEMENTS\\), got ${over}$`))
    })
  }

  it('element counts over the limit: the input, a layer output, a parameter tensor', () => {
    expect(leftOf(Spec.build({ input: [65536, 65536], layers: [{ kind: 'relu' }] })).message).toBe(
      'model spec: input: expected an input of at most 1073741824 elements per example (Spec.MAX_ELEMENTS), got [65536,65536] (4294967296 elements)'
    )
    // a padding of 2^20 around a 1×1 image: activations of 2^42 elements per example
    expect(leftOf(Spec.build({ input: [1, 1, 1], layers: [{ kind: 'conv2d', filters: 1, kernel: 1, padding: 2 ** 20 }] })).message).toBe(
      'model spec: layers[0]: expected a conv2d layer whose output has at most 1073741824 elements per example (Spec.MAX_ELEMENTS), got [1,2097153,2097153] (4398050705409 elements)'
    )
    const e = leftOf(Spec.build({ input: [2], layers: [{ kind: 'dense', units: 2 ** 30 }] }))
    expect(e).toBeInstanceOf(ArgumentError)
    expect(e.message).toBe(
      'model spec: layers[0]: expected a dense layer whose w has at most 1073741824 elements (Spec.MAX_ELEMENTS), got [2,1073741824] (2147483648 elements)'
    )
  })

  it('too many dimensions, layers or keys are refused before the items are looked at', () => {
    expect(leftOf(Spec.decode({ input: [1, 1, 1, 1, 1, 1, 1, 1, 1], layers: [{ kind: 'relu' }] })).message).toBe(
      'model spec: input: expected a shape of at most 8 dimensions (Spec.MAX_RANK), got 9'
    )
    expect(leftOf(Spec.decode({ input: [1], layers: [{ kind: 'reshape', shape: Array.from({ length: 1000 }, () => 1) }] })).message).toBe(
      'model spec: layers[0].shape: expected a shape of at most 8 dimensions (Spec.MAX_RANK), got 1000'
    )
    // 200,000 bad layers: one failure, not 200,000
    expect(leftOf(Spec.decode({ input: [1], layers: Array.from({ length: 200_000 }, () => 0) })).message).toBe(
      'model spec: layers: expected an array of at most 10000 layers (Spec.MAX_LAYERS), got 200000'
    )
    const wide = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i]))
    expect(leftOf(Spec.decode({ input: [1], layers: [{ kind: 'relu', ...wide }] })).message).toBe(
      'model spec: layers[0]: expected a layer object with at most 16 keys (Spec.MAX_KEYS), got 20001'
    )
    expect(leftOf(Spec.decode({ input: [1], layers: [{ kind: 'relu' }], ...wide })).message).toBe(
      'model spec: expected a model spec object with at most 16 keys (Spec.MAX_KEYS), got 20002'
    )
  })
})

// ---------------------------------------------------------------- 5. float32 models

describe('5. float32 model files load, and run in float32', () => {
  const spec = { input: [2], layers: [{ kind: 'dense' as const, units: 8 }, { kind: 'tanh' as const }, { kind: 'dense' as const, units: 2 }] }
  const built = Spec.build(spec)
  if (E.isLeft(built)) throw built.left
  const { model } = built.right
  const params32 = model.init(Random.key(7), 'f32')
  const f32File = file('f32.safetensors', Checkpoint.encode(spec, params32, model.initState()))

  it('Checkpoint.decode reads the dtype from the file and gives f32 parameters that compute what the originals do', () => {
    const loaded = Checkpoint.decode(readFileSync(f32File))
    if (E.isLeft(loaded)) throw loaded.left
    expect(loaded.right.dtype).toBe('f32')
    const x = astype(tensor([[1, -2], [0.5, 3]]), 'f32')
    const y = Layer.apply(loaded.right.built.model, loaded.right.params, x, loaded.right.state)
    expect(y.dtype).toBe('f32')
    expect(y.toArray()).toEqual(Layer.apply(model, params32, x).toArray())
    const f64 = Checkpoint.decode(Checkpoint.encode(spec, model.init(Random.key(7)), model.initState()))
    expect(E.isRight(f64) && f64.right.dtype).toBe('f64')
  })

  it('parameters of mixed dtypes are refused, naming both; f64 running statistics with f32 parameters are accepted', () => {
    const named = { ...Safetensors.fromTree(params32) }
    const mixed = { ...named, 'layers.2.b': astype(named['layers.2.b']!, 'f64') }
    expect(leftOf(Checkpoint.decode(modelFile(spec, mixed))).message).toMatch(
      /^the parameters: mixed dtypes: "layers\.0\.w" is F32 but "layers\.2\.b" is F64/
    )
    const bn = { input: [2], layers: [{ kind: 'batchNorm' as const }] }
    const bnBuilt = Spec.build(bn)
    if (E.isLeft(bnBuilt)) throw bnBuilt.left
    const r = Checkpoint.decode(Checkpoint.encode(bn, bnBuilt.right.model.init(Random.key(0), 'f32'), bnBuilt.right.model.initState()))
    expect(E.isRight(r) && r.right.dtype).toBe('f32')
  })

  it('lamina eval, predict and inspect accept a float32 model and run it in float32', async () => {
    const data = file('points.json', JSON.stringify({ x: [[2, 0], [-2, 0], [1, 1]], labels: [0, 1, 0] }))
    const inputs = file('inputs.json', JSON.stringify([[3, 0], [-3, 0.5]]))
    const e = await run('eval', '--model', f32File, '--data', data, '--json')
    expect(e.stderr).toBe('')
    expect(e.code).toBe(0)
    expect((JSON.parse(e.stdout) as { examples: number }).examples).toBe(3)
    const p = await run('predict', '--model', f32File, '--input', inputs, '--json')
    expect(p.stderr).toBe('')
    expect(p.code).toBe(0)
    const scores = (JSON.parse(p.stdout) as { predictions: { scores: number[] }[] }).predictions.map((q) => q.scores)
    // the float32 computation's values, exactly (a float64 run would give other digits)
    const y = Layer.apply(model, params32, astype(tensor([[3, 0], [-3, 0.5]]), 'f32'))
    expect(scores).toEqual(y.toArray())
    const i = await run('inspect', f32File, '--json')
    expect(i.code).toBe(0)
    expect((JSON.parse(i.stdout) as { dtype: string }).dtype).toBe('f32')
  })
})

// ---------------------------------------------------------------- 7. duplicate fields

describe('7. a key given twice in one object of the header is refused (the reference rejects a duplicate field)', () => {
  const specA = JSON.stringify(JSON.stringify({ input: [2], layers: [{ kind: 'relu' }] }))
  const specB = JSON.stringify(JSON.stringify({ input: [3], layers: [{ kind: 'tanh' }] }))
  const four = new Uint8Array(4)
  const eight = new Uint8Array(8)
  const cases: Array<[string, string, Uint8Array, string]> = [
    ['__metadata__ twice, with different specs', `{"__metadata__":{"lamina":"1","spec":${specA}},"__metadata__":{"lamina":"1","spec":${specB}}}`, new Uint8Array(0), 'the header has two "__metadata__" objects'],
    ['a dtype twice', '{"w":{"dtype":"F64","dtype":"F32","shape":[2],"data_offsets":[0,8]}}', eight, 'tensor "w" has the field "dtype" twice'],
    ['a shape twice', '{"w":{"dtype":"F32","shape":[4],"shape":[2],"data_offsets":[0,8]}}', eight, 'tensor "w" has the field "shape" twice'],
    ['data_offsets twice', '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4],"data_offsets":[0,8]}}', eight, 'tensor "w" has the field "data_offsets" twice'],
    ['a tensor name twice', '{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', four, 'the header has two entries for tensor "w"'],
    ['a metadata key twice', '{"__metadata__":{"k":"a","k":"b"}}', new Uint8Array(0), '__metadata__ has the key "k" twice'],
    ['the same key written with an escape', '{"w":{"dtype":"F32","\\u0064type":"F32","shape":[1],"data_offsets":[0,4]}}', four, 'tensor "w" has the field "dtype" twice']
  ]
  for (const [what, header, data, message] of cases) {
    it(`${what}: a 'duplicate' SafetensorsError`, () => {
      const bytes = raw(header, data)
      expect(() => JSON.parse(header) as unknown).not.toThrow() // valid JSON, which JSON.parse alone would accept
      const e = leftOf(Safetensors.decode(bytes))
      expect(e).toBeInstanceOf(Safetensors.SafetensorsError)
      expect((e as Safetensors.SafetensorsError).reason).toBe('duplicate')
      expect(e.message).toContain(message)
      expect(E.isLeft(Safetensors.decodeHeader(bytes))).toBe(true)
      expect(leftOf(Checkpoint.decode(bytes)).message).toContain(message)
    })
  }

  it('only a key that repeats in one object is refused: equal keys in other objects, keys equal to values, escaped quotes are fine', () => {
    const header = '{"__metadata__":{"dtype":"shape","a\\"b":"x","a\\\\":"y","shape":"dtype"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}'
    const r = Safetensors.decode(raw(header, new Uint8Array(8)))
    expect(E.isRight(r) && Object.keys(r.right.metadata)).toEqual(['dtype', 'a"b', 'a\\', 'shape'])
    // the key with an escaped quote, once more in the same object
    const twice = header.replace('"shape":"dtype"}', '"shape":"dtype","a\\"b":"z"}')
    const e = leftOf(Safetensors.decode(raw(twice, new Uint8Array(8))))
    expect((e as Safetensors.SafetensorsError).reason).toBe('duplicate')
    expect(e.message).toContain('__metadata__ has the key "a\\"b" twice')
  })

  const KEY = fc.string({ maxLength: 6 }).filter((k) => !/[\uD800-\uDFFF]/u.test(k) && !['__proto__', 'constructor', 'prototype'].includes(k) && !k.split('.').some((s) => ['__proto__', 'constructor', 'prototype'].includes(s)))
  test.prop([fc.uniqueArray(fc.tuple(KEY, fc.string({ maxLength: 6 }).filter((v) => !/[\uD800-\uDFFF]/u.test(v))), { minLength: 1, maxLength: 8, selector: ([k]) => k }), fc.nat(), fc.string({ maxLength: 4 })], { numRuns: 300 })(
    'random metadata: distinct keys load, one key repeated is refused',
    (entries, at, value) => {
      const body = entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)
      expect(E.isRight(Safetensors.decode(raw(`{"__metadata__":{${body.join(',')}}}`)))).toBe(true)
      const [key] = entries[at % entries.length]!
      const twice = [...body, `${JSON.stringify(key)}:${JSON.stringify(value)}`]
      const r = Safetensors.decode(raw(`{"__metadata__":{${twice.join(',')}}}`))
      expect(E.isLeft(r) && r.left.reason).toBe('duplicate')
    }
  )

  it('a header of more keys and array items than Safetensors.MAX_HEADER_ITEMS is refused before it is parsed', () => {
    // 600,000 zeros in a shape, valid JSON and a valid entry (no elements, no bytes), 1.2 MB
    const zeros = raw(`{"w":{"dtype":"F32","shape":[${Array.from({ length: 600_000 }, () => '0').join(',')}],"data_offsets":[0,0]}}`)
    const e = leftOf(Safetensors.decode(zeros))
    expect((e as Safetensors.SafetensorsError).reason).toBe('header-items')
    expect(e.message).toBe('safetensors: the header has more than 524288 keys and array items (Safetensors.MAX_HEADER_ITEMS), more than any model file needs')
    // and a spec text longer than Spec.MAX_SPEC_LENGTH, in a file's metadata
    const long = modelFile(`{"input": [1], "layers": [${'{"kind": "relu"},'.repeat(70_000)}{"kind": "relu"}]}`)
    expect(leftOf(Checkpoint.decode(long)).message).toMatch(/^the metadata spec: DecodeError: model spec: expected JSON text of at most 1048576 characters \(Spec\.MAX_SPEC_LENGTH\), got 1190044 characters$/)
  })

  it('a header of 50,000 keys is checked in one pass (a duplicate at the very end is found)', () => {
    const keys = Array.from({ length: 50_000 }, (_, i) => `"k${i}":"v"`)
    const bytes = raw(`{"__metadata__":{${keys.join(',')},"k0":"w"}}`)
    expect(leftOf(Safetensors.decode(bytes)).message).toContain('__metadata__ has the key "k0" twice')
  })
})

// ---------------------------------------------------------------- 12. input paths

describe('12. input files are regular files read with a size limit', () => {
  it('ReadFile.readBounded refuses a device, a FIFO, a folder, a missing path, and a file over the limit', () => {
    const ok = file('ok.json', '{"a": 1}')
    const read = ReadFile.readBounded(ok, 'config', 8)
    expect(E.isRight(read) && new TextDecoder().decode(read.right)).toBe('{"a": 1}')
    const reason = (p: string, limit = 100) => {
      const r = ReadFile.readBounded(p, 'data file', limit)
      return E.isLeft(r) ? [r.left.reason, r.left.message] : ['read', '']
    }
    expect(reason('/dev/zero')).toEqual(['not-a-file', "data file '/dev/zero' is a character device, not a regular file (lamina reads only regular files)"])
    expect(reason(dir)[0]).toBe('folder')
    expect(reason(path.join(dir, 'absent'))).toEqual(['missing', `data file '${path.join(dir, 'absent')}' does not exist`])
    expect(reason(ok, 7)).toEqual(['too-large', `data file '${ok}' is 8 bytes, over the limit of 7 bytes`])
    expect(ReadFile.MAX_BYTES).toEqual({ model: 2 ** 30, data: 2 ** 28, input: 2 ** 28, spec: 2 ** 20, config: 2 ** 20 })
  })

  it.runIf(existsSync('/proc/self/status'))('a file whose size says 0 (/proc) is read to its end, and refused past the limit', () => {
    const r = ReadFile.readBounded('/proc/self/status', 'input file', 1 << 20)
    expect(E.isRight(r) && new TextDecoder().decode(r.right)).toMatch(/^Name:/)
    const small = ReadFile.readBounded('/proc/self/status', 'input file', 16)
    expect(E.isLeft(small) && small.left.message).toBe("input file '/proc/self/status' is more than 16 bytes, over the limit of 16 bytes")
  })
})

// ---------------------------------------------------------------- the command line, in a watched child

interface ChildCase {
  readonly argv: readonly string[]
  readonly code: number
  readonly stdout: string
  readonly stderr: string
  readonly ms: number
  readonly maxRssMB: number
}

/**
 * Runs `main` on each argv in one child process (sources through tsx, 512 MB of heap), killed
 * when its resident memory passes `rssLimitMB` or after `timeoutMs`.
 */
const runWatched = (cases: readonly (readonly string[])[], rssLimitMB = 768, timeoutMs = 60_000) =>
  new Promise<{ results: ChildCase[]; killed: string | undefined; peakMB: number }>((resolve) => {
    const driver = [
      `import { main } from ${JSON.stringify(path.join(ROOT, 'src/cli/main.ts'))}`,
      'for (const argv of JSON.parse(process.env.LAMINA_CASES)) {',
      "  let stdout = '', stderr = ''",
      '  const t0 = performance.now()',
      '  const code = await main(argv, { stdout: (s) => { stdout += s }, stderr: (s) => { stderr += s } })',
      '  process.stdout.write(JSON.stringify({ argv, code, stdout: stdout.slice(0, 4000), stderr, ms: performance.now() - t0, maxRssMB: process.resourceUsage().maxRSS / 1024 }) + "\\n")',
      '}'
    ].join('\n')
    const child = spawn(process.execPath, ['--max-old-space-size=512', '--import', 'tsx', '--input-type=module', '-e', driver], {
      cwd: ROOT,
      env: { ...process.env, LAMINA_CASES: JSON.stringify(cases) },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let out = ''
    let err = ''
    let killed: string | undefined
    let peakMB = 0
    child.stdout.on('data', (d: Buffer) => void (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => void (err += d.toString()))
    const watch = setInterval(() => {
      try {
        const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0)
        peakMB = Math.max(peakMB, kb / 1024)
        if (kb / 1024 > rssLimitMB) {
          killed = `resident memory ${Math.round(kb / 1024)} MB > ${rssLimitMB} MB`
          child.kill('SIGKILL')
        }
      } catch {
        // no /proc (not Linux), or the child has just exited
      }
    }, 25)
    const timer = setTimeout(() => {
      killed = `still running after ${timeoutMs} ms`
      child.kill('SIGKILL')
    }, timeoutMs)
    child.on('close', () => {
      clearInterval(watch)
      clearTimeout(timer)
      const results = out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as ChildCase)
      if (results.length < cases.length && killed === undefined) killed = `exited early: ${err.slice(-2000)}`
      resolve({ results, killed, peakMB })
    })
  })

describe('the command line refuses hostile files and paths with one line, no stack trace, in bounded memory and time', () => {
  it('inspect/eval/predict on hostile specs, train on [1e15], and /dev/zero and a FIFO for every input option', async () => {
    const data = file('cli-data.json', JSON.stringify({ x: [[1, 2]], labels: [0] }))
    const inputs = file('cli-inputs.json', JSON.stringify([[1, 2]]))
    const big = file('big.safetensors', modelFile({ input: [2], layers: [{ kind: 'dense', units: 1_000_000_000 }] }))
    const bn = file('bn.safetensors', modelFile({ input: [1_000_000_000], layers: [{ kind: 'batchNorm' }] }))
    const deep = file('deep.safetensors', modelFile({ input: [2], layers: Array.from({ length: 1000 }, () => ({ kind: 'dense', units: 1_000_000 })) }))
    const within = file('within.safetensors', modelFile({ input: [5000], layers: Array.from({ length: 4 }, () => ({ kind: 'dense', units: 5000 })) }))
    const wideInput = file('input.safetensors', modelFile({ input: [1e15], layers: [{ kind: 'relu' }] }))
    const specHuge = file('huge.json', JSON.stringify({ input: [1e15], layers: [{ kind: 'dense', units: 2 }] }))
    const okSpec = file('ok-spec.json', JSON.stringify({ input: [2], layers: [{ kind: 'dense', units: 2 }] }))
    const okModel = file('ok.safetensors', modelFile({ input: [2], layers: [{ kind: 'relu' }] }))
    mkdirSync(path.join(dir, 'fifos'), { recursive: true })
    const fifo = path.join(dir, 'fifos', 'pipe')
    const haveFifo = spawnSync('mkfifo', [fifo]).status === 0
    const out = path.join(dir, 'out.safetensors')
    const hostileSpecs: Array<[string[], RegExp]> = [
      [['inspect', big], /layers\[0\]: expected a dense layer whose w has at most 1073741824 elements/],
      [['eval', '--model', bn, '--data', data], /the largest is "layers\.0\.gamma" \[1000000000\] \(layers\[0\], a batchNorm layer\)/],
      [['predict', '--model', deep, '--input', inputs], /layers\[1\]: expected a dense layer whose w has at most 1073741824 elements/],
      [['inspect', within], /need at least 200040000 bytes .* holds 0 bytes/],
      [['inspect', wideInput], /input\[0\]: expected positive integer ≤ 1073741824 \(Spec\.MAX_ELEMENTS\), got 1000000000000000/],
      [['train', '--spec', specHuge, '--data', data, '--out', out], /input\[0\]: expected positive integer ≤ 1073741824 \(Spec\.MAX_ELEMENTS\), got 1000000000000000/]
    ]
    const paths = (p: string, what: RegExp): Array<[string[], RegExp]> => [
      [['inspect', p], new RegExp(`model file '${p}' is ${what.source}`)],
      [['eval', '--model', okModel, '--data', p], new RegExp(`data file '${p}' is ${what.source}`)],
      [['predict', '--model', okModel, '--input', p], new RegExp(`input file '${p}' is ${what.source}`)],
      [['train', '--spec', p, '--data', data, '--out', out], new RegExp(`spec '${p}' is ${what.source}`)],
      [['train', '--spec', okSpec, '--config', p, '--data', data, '--out', out], new RegExp(`config '${p}' is ${what.source}`)]
    ]
    const cases = [...hostileSpecs, ...paths('/dev/zero', /a character device, not a regular file/), ...(haveFifo ? paths(fifo, /a FIFO \(named pipe\), not a regular file/) : [])]
    const { results, killed, peakMB } = await runWatched(cases.map(([argv]) => argv))
    expect(killed).toBeUndefined()
    expect(results).toHaveLength(cases.length)
    results.forEach((r, i) => {
      const [argv, message] = cases[i]!
      expect(r.argv).toEqual(argv)
      // a file that is not a valid model is a failure (1); a path that is not a file is bad usage (2)
      expect(r.code, r.stderr).toBe(i < hostileSpecs.length ? 1 : 2)
      expect(r.stdout).toBe('')
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1)
      expect(r.stderr).not.toMatch(/\n\s+at |internal error/)
      expect(r.stderr).toMatch(message)
    })
    // tsx and the sources take about 150 MB; nothing a file asks for is allocated
    expect(peakMB).toBeLessThan(400)
  })
})

// ---------------------------------------------------------------- fuzzing specs inside model files

describe('fuzzing: random specs in a model file are loaded or refused with a typed error, in bounded memory', () => {
  const SIZE = fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 1, max: 6 }) },
    { weight: 3, arbitrary: fc.constantFrom(0, 1e6, 1e7, 1e9, 2 ** 30, 2 ** 30 + 1, 2 ** 31, 1e12, 1e15, 2 ** 53, Number.MAX_SAFE_INTEGER, 1e300) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>(-1, 1.5, '3', null, true, [], {}, [2]) }
  )
  const opt = <A>(a: fc.Arbitrary<A>) => fc.option(a, { nil: undefined })
  const KINDS = ['sigmoid', 'tanh', 'relu', 'softplus', 'softmax', 'logSoftmax', 'identity', 'flatten', 'gelu', 'elu', 'leakyRelu'] as const
  const LAYER = fc.oneof(
    fc.record({ kind: fc.constant('dense'), units: SIZE, inputs: opt(SIZE) }),
    fc.record({ kind: fc.constant('conv2d'), filters: SIZE, kernel: SIZE, stride: opt(SIZE), padding: opt(SIZE), channels: opt(SIZE) }),
    fc.record({ kind: fc.constant('maxPool2d'), kernel: SIZE, stride: opt(SIZE) }),
    fc.record({ kind: fc.constant('batchNorm'), momentum: opt(fc.double()), eps: opt(fc.double()) }),
    fc.record({ kind: fc.constant('dropout'), rate: fc.double() }),
    fc.record({ kind: fc.constant('reshape'), shape: fc.array(SIZE, { maxLength: 10 }) }),
    fc.constantFrom(...KINDS).map((kind) => ({ kind })),
    fc.record({ kind: fc.string({ maxLength: 10 }), units: opt(SIZE) }),
    fc.jsonValue({ maxDepth: 2 })
  )
  const LAYERS = fc.oneof(
    { weight: 4, arbitrary: fc.array(LAYER, { maxLength: 6 }) },
    { weight: 1, arbitrary: fc.tuple(LAYER, fc.integer({ min: 1, max: 12_000 })).map(([l, n]) => Array.from({ length: n }, () => l)) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) }
  )
  const SPEC = fc.oneof(
    { weight: 3, arbitrary: fc.oneof(MLP, CNN) },
    // a spec that builds, with a huge input or a huge last layer: it builds (nothing is allocated) but asks for far more than the file holds
    {
      weight: 3,
      arbitrary: fc
        .tuple(fc.oneof(MLP, CNN), fc.constantFrom(1e5, 1e6, 1e7, 1e8, 1e9, 2 ** 30, 2 ** 31, 1e12, 1e15), fc.boolean())
        .map(([spec, n, wide]) => (wide ? { input: [n], layers: spec.layers.filter((l) => l.kind !== 'maxPool2d' && l.kind !== 'conv2d') } : { ...spec, layers: [...spec.layers, { kind: 'dense', units: n }] }))
    },
    // a spec that builds, with one layer replaced by a random one
    { weight: 3, arbitrary: fc.tuple(fc.oneof(MLP, CNN), LAYER, fc.nat()).map(([spec, layer, at]) => ({ ...spec, layers: spec.layers.map((l, i) => (i === at % spec.layers.length ? layer : l)) })) },
    { weight: 6, arbitrary: fc.record({ input: fc.oneof(fc.array(SIZE, { maxLength: 10 }), fc.jsonValue({ maxDepth: 1 })), layers: LAYERS }) },
    { weight: 1, arbitrary: fc.record({ input: fc.array(SIZE, { maxLength: 3 }), layers: LAYERS, extra: fc.jsonValue({ maxDepth: 1 }) }) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) }
  )
  const CASE = fc.record({
    spec: SPEC,
    // the spec as JSON, or text that is not a spec at all
    text: fc.oneof({ weight: 7, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.string({ maxLength: 30 }) }),
    // fill in the tensors the spec asks for, when it builds and is small: some files load
    tensors: fc.constantFrom('none', 'matching', 'matching', 'f32')
  })

  const baseRss = { mb: 0 }
  const outcomes = { right: 0, left: 0 }
  beforeAll(() => {
    baseRss.mb = maxRssMB()
  })

  test.prop([CASE], { numRuns: 200 })('each case: a Right, or a Left of LaminaError; never a throw; memory within a small multiple of the file', ({ spec, text, tensors }) => {
    let named: Record<string, ReturnType<typeof tensor>> = {}
    const built = Spec.build(spec as Spec.ModelSpec)
    if (tensors !== 'none' && E.isRight(built) && built.right.parameterCount <= 10_000) {
      const dtype = tensors === 'f32' ? 'f32' : 'f64'
      const params = Safetensors.fromTree(built.right.model.init(Random.key(1), dtype))
      const state = Safetensors.fromTree(built.right.model.initState())
      named = { ...params, ...Object.fromEntries(Object.entries(state).map(([k, v]) => [`state.${k}`, v])) }
    }
    const bytes = Safetensors.encode(named, { lamina: '1', spec: text ?? JSON.stringify(spec) })
    const buffers = process.memoryUsage().arrayBuffers
    const r = Checkpoint.decode(bytes)
    // what decoding keeps (the tensors of a Right) is a copy of the data: at most the file's size, plus slack
    expect(process.memoryUsage().arrayBuffers - buffers).toBeLessThanOrEqual(2 * bytes.length + 1024 * 1024)
    expect(maxRssMB() - baseRss.mb).toBeLessThan(256)
    if (E.isLeft(r)) {
      outcomes.left++
      expect(r.left).toBeInstanceOf(LaminaError)
      expect(r.left.message).not.toMatch(/RangeError|Invalid typed array|unexpected failure/)
      return
    }
    // a Right: the spec builds, and the tensors are exactly its parameters
    outcomes.right++
    expect(E.isRight(built)).toBe(true)
    expect(text).toBeUndefined()
    expect(r.right.dtype).toBe(tensors === 'f32' && Object.keys(named).some((k) => !k.startsWith('state.')) ? 'f32' : 'f64')
    expect(Object.keys(Safetensors.fromTree(r.right.params)).sort()).toEqual(Object.keys(named).filter((k) => !k.startsWith('state.')).sort())
  })

  it('the cases reached both outcomes: some files loaded, most were refused', () => {
    expect(outcomes.right).toBeGreaterThan(10)
    expect(outcomes.left).toBeGreaterThan(outcomes.right)
  })
})
