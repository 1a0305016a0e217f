/**
 * The safetensors reader and writer against the reference implementation's files
 * (`../shared/fixtures`, written by Python safetensors 0.8.0), every rejection rule with its
 * message, round trips, and fuzzing: random bytes and mutated valid files always decode to a
 * `Right` or to a `Left` of `SafetensorsError`, never throw, never hang, never pollute a
 * prototype.
 *
 * Every property returns or asserts its verdict.
 */
import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { fc, test } from '@fast-check/vitest'
import * as E from 'fp-ts/lib/Either.js'
import { LaminaError, Layer, Layers, Random, Tree, astype, fromBuffer, tensor } from 'lamina-nn'
import type { Tensor } from 'lamina-nn'
import * as S from '../src/io/safetensors.js'
import type { SafetensorsErrorReason } from '../src/io/safetensors.js'

// ================================================================ helpers

const fixture = (name: string): Uint8Array => new Uint8Array(fs.readFileSync(new URL(`../../shared/fixtures/${name}`, import.meta.url)))
const fixtureJson = (name: string): unknown => JSON.parse(new TextDecoder().decode(fixture(name)))

const headerLengthOf = (bytes: Uint8Array): number => Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true))
const headerOf = (bytes: Uint8Array): Record<string, unknown> =>
  JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLengthOf(bytes)))) as Record<string, unknown>
const dataOf = (bytes: Uint8Array): Uint8Array => bytes.subarray(8 + headerLengthOf(bytes))

/** A file with the given header text (or JSON value) and data section, the header length set to match unless given. */
const file = (header: string | Uint8Array | object, data: Uint8Array | number = new Uint8Array(0), headerLength?: bigint): Uint8Array => {
  const json = header instanceof Uint8Array ? header : new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header))
  const body = typeof data === 'number' ? new Uint8Array(data) : data
  const out = new Uint8Array(8 + json.length + body.length)
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(json.length), true)
  out.set(json, 8)
  out.set(body, 8 + json.length)
  return out
}

/** The `Left` of a decode, or a failed test. */
const leftOf = <A>(result: E.Either<S.SafetensorsError, A>): S.SafetensorsError => {
  if (E.isRight(result)) throw new Error('expected a Left, got a Right')
  return result.left
}
const rightOf = <A>(result: E.Either<S.SafetensorsError, A>): A => {
  if (E.isLeft(result)) throw new Error(`expected a Right, got ${result.left.message}`)
  return result.right
}

/** Same dtype, shape and bits (−0 and NaN included). */
const identical = (a: Tensor, b: Tensor): boolean =>
  a.dtype === b.dtype &&
  a.shape.length === b.shape.length &&
  a.shape.every((d, i) => d === b.shape[i]) &&
  a.data.length === b.data.length &&
  Array.from(a.data).every((x, i) => Object.is(x, b.data[i]))

const close = (a: number, b: number, tol: number): boolean => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b))

/** A decode outcome is acceptable: a Right, or a Left of `SafetensorsError` (a `LaminaError`) with a message. */
const wellBehaved = (bytes: Uint8Array): { ok: boolean; right: boolean; ms: number; reason?: SafetensorsErrorReason } => {
  const start = performance.now()
  let result: E.Either<S.SafetensorsError, S.Decoded>
  try {
    result = S.decode(bytes)
  } catch {
    return { ok: false, right: false, ms: performance.now() - start }
  }
  const ms = performance.now() - start
  if (E.isLeft(result)) {
    const e = result.left
    return { ok: e instanceof S.SafetensorsError && e instanceof LaminaError && e.message.startsWith('safetensors: '), right: false, ms, reason: e.reason }
  }
  // a Right is internally consistent: every tensor has as many values as its shape says
  const consistent = Object.values(result.right.tensors).every((t) => t.data.length === t.shape.reduce((n, d) => n * d, 1))
  return { ok: consistent && Object.getPrototypeOf(result.right.tensors) === null, right: true, ms }
}

const PER_CASE_MS = 2000
const FUZZ_RUNS = 2000

// ================================================================ the reference's files

describe('fixtures written by the reference implementation (safetensors 0.8.0)', () => {
  it('decodes every fixture, with its names, dtypes, shapes and metadata', () => {
    const dtypes = S.read(fixture('dtypes.safetensors'))
    expect(Object.entries(dtypes.tensors).map(([k, t]) => [k, t.dtype, t.shape])).toEqual([
      ['i64', 'f64', [6]],
      ['f64', 'f64', [6]],
      ['f32', 'f32', [6]],
      ['bf16', 'f32', [6]],
      ['f16', 'f32', [6]]
    ])
    expect({ ...dtypes.metadata }).toEqual({})

    const layout = S.read(fixture('layout.safetensors'))
    expect(Object.entries(layout.tensors).map(([k, t]) => [k, t.dtype, t.shape])).toEqual([
      ['layers.2.w', 'f64', [8, 3]],
      ['layers.0.b', 'f32', [8]],
      ['layers.0.w', 'f32', [4, 8]]
    ])
    expect({ ...layout.metadata }).toEqual({ lamina: '1', spec: '{"layers":[{"dense":[4,8]},{"tanh":{}},{"dense":[8,3]}]}' })
    expect(Array.from(layout.tensors['layers.0.w']!.data)).toEqual(Array.from({ length: 32 }, (_, i) => i / 8 - 2))
    expect(Array.from(layout.tensors['layers.0.b']!.data)).toEqual(Array.from({ length: 8 }, () => Math.fround(0.1)))
    expect(Array.from(layout.tensors['layers.2.w']!.data)).toEqual(Array.from({ length: 24 }, (_, i) => i / 3 - 4))

    const torch = S.read(fixture('torch-mlp-4-8-3.safetensors'))
    expect(Object.entries(torch.tensors).map(([k, t]) => [k, t.dtype, t.shape])).toEqual([
      ['0.bias', 'f32', [8]],
      ['0.weight', 'f32', [8, 4]],
      ['2.bias', 'f32', [3]],
      ['2.weight', 'f32', [3, 8]]
    ])
    expect({ ...torch.metadata }).toEqual({ arch: 'Linear(4,8)-Tanh-Linear(8,3)', format: 'pt' })
  })

  it('dtypes.safetensors decodes to exactly the values of dtypes.values.json (F64, F32, F16, BF16, I64)', () => {
    const expected = fixtureJson('dtypes.values.json') as Record<string, number[]>
    const { tensors } = S.read(fixture('dtypes.safetensors'))
    expect(Object.keys(expected).sort()).toEqual(Object.keys(tensors).sort())
    for (const [name, values] of Object.entries(expected)) {
      const got = Array.from(tensors[name]!.data)
      expect(got.length, name).toBe(values.length)
      got.forEach((v, i) => expect(Object.is(v, values[i]), `${name}[${i}]: ${v} vs ${values[i]}`).toBe(true))
    }
  })

  it('decodes the same from a Node Buffer, an ArrayBuffer and an unaligned view inside a larger buffer', () => {
    const bytes = fixture('dtypes.safetensors')
    const reference = S.read(bytes)
    const shifted = new Uint8Array(bytes.length + 3)
    shifted.set(bytes, 3)
    const views: ReadonlyArray<Uint8Array | ArrayBuffer> = [Buffer.from(bytes), bytes.slice().buffer, shifted.subarray(3)]
    for (const view of views) {
      const got = S.read(view)
      expect(Object.keys(got.tensors)).toEqual(Object.keys(reference.tensors))
      for (const name of Object.keys(reference.tensors)) expect(identical(got.tensors[name]!, reference.tensors[name]!), name).toBe(true)
    }
  })

  it('torch-mlp-4-8-3: fromTorchLinear + toTree + lamina’s sequential reproduce PyTorch’s outputs (f32 and f64)', () => {
    const io = fixtureJson('torch-mlp-4-8-3.io.json') as { x: number[][]; y: number[][] }
    const mlp = Layer.sequential(Layers.dense(4, 8), Layers.tanh(), Layers.dense(8, 3))
    const decoded = S.read(fixture('torch-mlp-4-8-3.safetensors'))
    const named = rightOf(S.fromTorchLinear(decoded))
    expect(Object.keys(named)).toEqual(['layers.0.w', 'layers.0.b', 'layers.2.w', 'layers.2.b'])
    const params = rightOf(S.toTree(named, mlp.init(Random.key(0), 'f32')))
    expect(params.layers[0].w.shape).toEqual([4, 8])
    expect(params.layers[2].w.shape).toEqual([8, 3])
    // the transposition is the right one: w[i][o] = weight[o][i]
    const weight0 = decoded.tensors['0.weight']!.toArray() as number[][]
    const w0 = params.layers[0].w.toArray()
    expect(w0.every((row, i) => row.every((v, o) => v === weight0[o]![i]))).toBe(true)

    const x32 = tensor(io.x, { dtype: 'f32' })
    const y32 = Layer.apply(mlp, params, x32).toArray() as number[][]
    const params64 = Tree.map(params, (t) => astype(t, 'f64'))
    const y64 = Layer.apply(mlp, params64, tensor(io.x)).toArray() as number[][]
    // an independent computation of PyTorch's formula y = tanh(x·W0ᵀ + b0)·W2ᵀ + b2, in float64
    const W0 = weight0
    const b0 = Array.from(decoded.tensors['0.bias']!.data)
    const W2 = decoded.tensors['2.weight']!.toArray() as number[][]
    const b2 = Array.from(decoded.tensors['2.bias']!.data)
    const yRef = io.x.map((row) => {
      const h = W0.map((wo, o) => Math.tanh(wo.reduce((s, w, i) => s + w * row[i]!, b0[o]!)))
      return W2.map((wo, o) => wo.reduce((s, w, i) => s + w * h[i]!, b2[o]!))
    })
    let worst = 0
    io.y.forEach((row, r) =>
      row.forEach((expected, c) => {
        for (const got of [y32[r]![c]!, y64[r]![c]!, yRef[r]![c]!]) {
          worst = Math.max(worst, Math.abs(got - expected) / Math.max(1, Math.abs(expected)))
          expect(close(got, expected, 1e-5), `y[${r}][${c}]: ${got} vs ${expected}`).toBe(true)
        }
      })
    )
    expect(worst).toBeLessThan(1e-5)
  })

  it('encoding the layout tensors gives the reference’s data section byte for byte, its entries and metadata, and a length that is a multiple of 8', () => {
    const reference = fixture('layout.safetensors')
    const w0 = fromBuffer(Array.from({ length: 32 }, (_, i) => i / 8 - 2), [4, 8], { dtype: 'f32' })
    const b0 = fromBuffer(Array.from({ length: 8 }, () => 0.1), [8], { dtype: 'f32' })
    const w2 = fromBuffer(Array.from({ length: 24 }, (_, i) => i / 3 - 4), [8, 3], { dtype: 'f64' })
    // a lamina tree, as `sequential(dense(4, 8), tanh(), dense(8, 3))` names it, minus the last bias
    const named = S.fromTree({ layers: [{ w: w0, b: b0 }, {}, { w: w2 }] })
    expect(Object.keys(named)).toEqual(['layers.0.w', 'layers.0.b', 'layers.2.w'])
    // metadata in another order than the reference's: the header is compared as JSON
    const ours = S.encode(named, { lamina: '1', spec: '{"layers":[{"dense":[4,8]},{"tanh":{}},{"dense":[8,3]}]}' })

    expect(ours.length % 8).toBe(0)
    expect(ours.length).toBe(reference.length)
    expect(headerLengthOf(ours) % 8).toBe(0)
    expect(Buffer.from(dataOf(ours)).equals(Buffer.from(dataOf(reference)))).toBe(true)
    expect(headerOf(ours)).toEqual(headerOf(reference))
    // entries in the data order, __metadata__ first, compact JSON padded with spaces
    const text = new TextDecoder().decode(ours.subarray(8, 8 + headerLengthOf(ours)))
    expect(Object.keys(JSON.parse(text) as object)).toEqual(['__metadata__', 'layers.2.w', 'layers.0.b', 'layers.0.w'])
    expect(text.trimEnd()).toBe(JSON.stringify(JSON.parse(text)))
    expect(/^ *$/.test(text.slice(text.trimEnd().length))).toBe(true)
    // re-encoding what we decoded from the reference (its metadata order kept) is byte-identical
    const decoded = S.read(reference)
    expect(Buffer.from(S.encode(decoded.tensors, decoded.metadata)).equals(Buffer.from(reference))).toBe(true)
  })
})

// ================================================================ half floats

describe('F16 and BF16 decode exactly', () => {
  /** Every 16-bit pattern, little-endian, as one tensor of the dtype. */
  const allPatterns = (dtype: 'F16' | 'BF16'): Uint8Array => {
    const data = new Uint8Array(2 * 65536)
    const view = new DataView(data.buffer)
    for (let bits = 0; bits < 65536; bits++) view.setUint16(2 * bits, bits, true)
    return file({ x: { dtype, shape: [256, 256], data_offsets: [0, data.length] } }, data)
  }

  it('F16: all 65,536 bit patterns against the IEEE 754 binary16 definition (subnormals, ±0, ±∞, NaN)', () => {
    const t = S.read(allPatterns('F16')).tensors.x!
    expect(t.dtype).toBe('f32')
    const wrong: number[] = []
    for (let bits = 0; bits < 65536; bits++) {
      const s = bits >> 15
      const e = (bits >> 10) & 31
      const m = bits & 1023
      const magnitude = e === 0 ? (m / 1024) * 2 ** -14 : e === 31 ? (m === 0 ? Infinity : NaN) : (1 + m / 1024) * 2 ** (e - 15)
      const expected = s ? -magnitude : magnitude
      if (!Object.is(t.data[bits], expected)) wrong.push(bits)
    }
    expect(wrong).toEqual([])
    expect(t.data[0x0001]).toBe(5.960464477539063e-8) // smallest subnormal
    expect(t.data[0x03ff]).toBe(6.097555160522461e-5) // largest subnormal
    expect(t.data[0x0400]).toBe(6.103515625e-5) // smallest normal
    expect(t.data[0x7bff]).toBe(65504)
    expect(t.data[0x7c00]).toBe(Infinity)
    expect(t.data[0xfc00]).toBe(-Infinity)
    expect(Number.isNaN(t.data[0x7e00])).toBe(true)
    expect(Object.is(t.data[0x8000], -0)).toBe(true)
  })

  it('BF16: all 65,536 bit patterns equal the float32 with those upper 16 bits', () => {
    const t = S.read(allPatterns('BF16')).tensors.x!
    const view = new DataView(new ArrayBuffer(4))
    const wrong: number[] = []
    for (let bits = 0; bits < 65536; bits++) {
      view.setUint32(0, bits * 65536)
      if (!Object.is(t.data[bits], view.getFloat32(0))) wrong.push(bits)
    }
    expect(wrong).toEqual([])
  })

  it('halfToNumber and bfloat16ToNumber are exported for other readers', () => {
    expect(S.halfToNumber(0x3555)).toBe(0.333251953125)
    expect(S.bfloat16ToNumber(0x3a83)).toBe(0.00099945068359375)
  })
})

// ================================================================ I64

describe('I64 reads into f64 when every value is a safe integer', () => {
  const i64File = (values: readonly bigint[]): Uint8Array => {
    const data = new Uint8Array(8 * values.length)
    values.forEach((v, i) => new DataView(data.buffer).setBigInt64(8 * i, v, true))
    return file({ n: { dtype: 'I64', shape: [values.length], data_offsets: [0, data.length] } }, data)
  }
  it('reads ±(2^53 − 1) exactly', () => {
    const max = BigInt(Number.MAX_SAFE_INTEGER)
    expect(Array.from(S.read(i64File([0n, -1n, max, -max])).tensors.n!.data)).toEqual([0, -1, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER])
  })
  it('rejects 2^53 and −2^53 − 1, naming the tensor, the value and its index', () => {
    const e = leftOf(S.decode(i64File([5n, 2n ** 53n])))
    expect(e.reason).toBe('value')
    expect(e.message).toBe('safetensors: tensor "n": I64 value 9007199254740992 at index 1 is not a safe integer (|v| ≤ 2^53 − 1), so it has no exact f64 value')
    expect(leftOf(S.decode(i64File([-(2n ** 53n) - 1n]))).message).toContain('I64 value -9007199254740993 at index 0')
  })
})

// ================================================================ rejections

describe('every rejection is a typed SafetensorsError naming the offending value', () => {
  const entry = (over: object = {}): object => ({ dtype: 'F32', shape: [2], data_offsets: [0, 8], ...over })
  const cases: ReadonlyArray<readonly [string, Uint8Array, SafetensorsErrorReason, string]> = [
    ['empty file', new Uint8Array(0), 'too-short', 'the file is 0 bytes long, shorter than the 8-byte header length'],
    ['7 bytes', new Uint8Array(7), 'too-short', 'the file is 7 bytes long, shorter than the 8-byte header length'],
    ['header length past the end', file('{}', 0, 1000n), 'header-length', 'the header length 1000 runs past the end of the file (10 bytes: at most 2 bytes of header)'],
    ['header length over 100 MB', file('{}', 0, 100_000_001n), 'header-length', 'the header length 100000001 is over the limit of 100000000 bytes'],
    ['header length 2^64 − 1', file('{}', 0, 2n ** 64n - 1n), 'header-length', 'the header length 18446744073709551615 is over the limit of 100000000 bytes'],
    ['invalid UTF-8', file(new Uint8Array([0x7b, 0xff, 0x7d])), 'header-utf8', 'the header (3 bytes) is not valid UTF-8'],
    ['a BOM before the header', file('\uFEFF{}'), 'header-object', `the header must be a JSON object starting with '{', got "\uFEFF{}"`],
    ['white space before the header', file(' {}'), 'header-object', `the header must be a JSON object starting with '{', got " {}"`],
    ['a JSON array', file('[1,2]'), 'header-object', `the header must be a JSON object starting with '{', got "[1,2]"`],
    ['not JSON', file('{"a":'), 'header-json', 'the header is not valid JSON: '],
    ['an entry that is a number', file({ a: 5 }), 'entry', 'tensor "a": expected an object with dtype, shape and data_offsets, got number 5'],
    ['an entry that is null', file({ a: null }), 'entry', 'tensor "a": expected an object with dtype, shape and data_offsets, got null'],
    ['an entry that is an array', file({ a: [] }), 'entry', 'tensor "a": expected an object with dtype, shape and data_offsets, got an array'],
    ['missing dtype', file({ a: { shape: [2], data_offsets: [0, 8] } }, 8), 'entry', 'tensor "a": missing field dtype'],
    ['missing shape', file({ a: { dtype: 'F32', data_offsets: [0, 8] } }, 8), 'entry', 'tensor "a": missing field shape'],
    ['missing data_offsets', file({ a: { dtype: 'F32', shape: [2] } }, 8), 'entry', 'tensor "a": missing field data_offsets'],
    ['an unknown field', file({ a: entry({ extra: 1 }) }, 8), 'entry', 'tensor "a": unexpected field "extra" (expected dtype, shape and data_offsets)'],
    ['a __proto__ field in an entry', file('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"__proto__":{}}}', 8), 'entry', 'tensor "a": unexpected field "__proto__" (expected dtype, shape and data_offsets)'],
    ['dtype not a string', file({ a: entry({ dtype: 32 }) }, 8), 'entry', 'tensor "a": dtype must be a string, got number 32'],
    ['an unknown dtype', file({ a: entry({ dtype: 'F128' }) }, 8), 'dtype', 'tensor "a": unknown dtype "F128"'],
    ['an unsupported dtype U8', file({ a: entry({ dtype: 'U8', data_offsets: [0, 2] }) }, 2), 'unsupported-dtype', 'tensor "a" has dtype U8, which lamina does not read (it reads F64, F32, F16, BF16 and I64)'],
    ['an unsupported dtype I32', file({ a: entry({ dtype: 'I32' }) }, 8), 'unsupported-dtype', 'tensor "a" has dtype I32, which lamina does not read (it reads F64, F32, F16, BF16 and I64)'],
    ['shape not an array', file({ a: entry({ shape: 2 }) }, 8), 'entry', 'tensor "a": shape must be an array of dimensions, got number 2'],
    ['a negative dimension', file({ a: entry({ shape: [2, -1] }) }, 8), 'shape', 'tensor "a": dimension 1 of shape [2,-1] is -1, not a non-negative safe integer'],
    ['a fractional dimension', file({ a: entry({ shape: [1.5] }) }, 8), 'shape', 'tensor "a": dimension 0 of shape [1.5] is 1.5, not a non-negative safe integer'],
    ['an unsafe dimension', file('{"a":{"dtype":"F32","shape":[9007199254740993],"data_offsets":[0,8]}}', 8), 'shape', 'tensor "a": dimension 0 of shape [9007199254740992] is 9007199254740992, not a non-negative safe integer'],
    ['a string dimension', file({ a: entry({ shape: ['2'] }) }, 8), 'shape', 'tensor "a": dimension 0 of shape ["2"] is "2", not a non-negative safe integer'],
    ['too many elements', file({ a: entry({ shape: [2 ** 26, 2 ** 26, 2 ** 26] }) }, 8), 'shape', 'tensor "a": shape [67108864,67108864,67108864] has more than 2^53 − 1 elements'],
    ['offsets not an array', file({ a: entry({ data_offsets: 8 }) }, 8), 'entry', 'tensor "a": data_offsets must be an array [begin, end], got 8'],
    ['three offsets', file({ a: entry({ data_offsets: [0, 4, 8] }) }, 8), 'entry', 'tensor "a": data_offsets must be an array [begin, end], got [0,4,8]'],
    ['fractional offsets', file({ a: entry({ data_offsets: [0, 7.5] }) }, 8), 'offsets', 'tensor "a": data_offsets [0,7.5] must be non-negative safe integers'],
    ['negative offsets', file({ a: entry({ data_offsets: [-8, 0] }) }, 8), 'offsets', 'tensor "a": data_offsets [-8,0] must be non-negative safe integers'],
    ['end before begin', file({ a: entry({ data_offsets: [8, 0] }) }, 8), 'offsets', 'tensor "a": data_offsets [8, 0] end before they begin'],
    ['offsets past the data section', file({ a: entry({ data_offsets: [4, 12] }) }, 8), 'offsets', 'tensor "a": data_offsets [4, 12] run past the end of the data section (8 bytes)'],
    ['offsets of the wrong size', file({ a: entry({ data_offsets: [0, 4] }) }, 4), 'size', 'tensor "a": data_offsets [0, 4] hold 4 bytes, but F32 [2] needs 8 (2 × 4)'],
    ['sub-byte elements', file({ a: entry({ dtype: 'F4', shape: [3], data_offsets: [0, 2] }) }, 2), 'size', 'tensor "a": 3 elements of F4 (4 bits each) do not fill whole bytes'],
    ['overlapping tensors', file({ a: entry(), b: entry({ data_offsets: [4, 12] }) }, 12), 'overlap', 'tensors "a" [0, 8] and "b" [4, 12] overlap'],
    ['the same bytes twice', file({ a: entry(), b: entry() }, 8), 'overlap', 'tensors "a" [0, 8] and "b" [0, 8] overlap'],
    ['a gap between tensors', file({ a: entry(), b: entry({ data_offsets: [12, 20] }) }, 20), 'uncovered', 'bytes [8, 12) of the data section belong to no tensor (the reference implementation rejects such files too)'],
    ['a gap before the first tensor', file({ a: entry({ data_offsets: [4, 12] }) }, 12), 'uncovered', 'bytes [0, 4) of the data section belong to no tensor (the reference implementation rejects such files too)'],
    ['trailing bytes', file({ a: entry() }, 9), 'uncovered', 'bytes [8, 9) of the data section belong to no tensor (the reference implementation rejects such files too)'],
    ['data and no tensors', file({}, 3), 'uncovered', 'bytes [0, 3) of the data section belong to no tensor (the reference implementation rejects such files too)'],
    ['a tensor named __proto__', file('{"__proto__":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', 8), 'key', 'tensor name "__proto__" is not allowed (the names __proto__, constructor and prototype are rejected, also as a dotted segment)'],
    ['a tensor named constructor', file({ constructor: entry() }, 8), 'key', 'tensor name "constructor" is not allowed (the names __proto__, constructor and prototype are rejected, also as a dotted segment)'],
    ['a tensor named prototype', file({ prototype: entry() }, 8), 'key', 'tensor name "prototype" is not allowed (the names __proto__, constructor and prototype are rejected, also as a dotted segment)'],
    ['a dotted __proto__ segment', file({ 'layers.__proto__.w': entry() }, 8), 'key', 'tensor name "layers.__proto__.w" is not allowed (the names __proto__, constructor and prototype are rejected, also as a dotted segment)'],
    ['a metadata key __proto__', file('{"__metadata__":{"__proto__":"x"}}'), 'key', '__metadata__ key "__proto__" is not allowed (the names __proto__, constructor and prototype are rejected, also as a dotted segment)'],
    ['a metadata value that is a number', file({ __metadata__: { version: 1 } }), 'metadata', '__metadata__ value of "version" must be a string, got number 1'],
    ['a metadata value that is an object', file({ __metadata__: { spec: { a: 1 } } }), 'metadata', '__metadata__ value of "spec" must be a string, got an object'],
    ['metadata that is an array', file({ __metadata__: ['a'] }), 'metadata', '__metadata__ must be an object of strings, got an array'],
    ['metadata that is a string', file({ __metadata__: 'a' }), 'metadata', '__metadata__ must be an object of strings, got string "a"']
  ]

  it.each(cases)('%s', (_label, bytes, reason, message) => {
    const e = leftOf(S.decode(bytes))
    expect(e).toBeInstanceOf(S.SafetensorsError)
    expect(e).toBeInstanceOf(LaminaError)
    expect(e.name).toBe('SafetensorsError')
    expect(e.reason).toBe(reason)
    if (reason === 'header-json') expect(e.message.startsWith(`safetensors: ${message}`)).toBe(true)
    else expect(e.message).toBe(`safetensors: ${message}`)
    expect(() => S.read(bytes)).toThrow(e)
  })

  it('rejects input that is not bytes', () => {
    for (const input of [null, undefined, 'abc', 42, [1, 2, 3], {}, new Float32Array(4)]) {
      const e = leftOf(S.decode(input as never))
      expect(e.reason).toBe('input')
      expect(e.message).toMatch(/^safetensors: expected a Uint8Array or an ArrayBuffer, got /)
    }
  })

  it('names are cut to a readable length in messages', () => {
    const long = 'x'.repeat(10_000)
    const e = leftOf(S.decode(file({ [long]: 5 })))
    expect(e.message.length).toBeLessThan(200)
    expect(e.message).toContain(`"${'x'.repeat(80)}…"`)
  })

  it('accepts what the reference accepts: an empty header, null metadata, scalars, zero-size tensors, padding with spaces', () => {
    expect(Object.keys(S.read(file('{}')).tensors)).toEqual([])
    expect({ ...S.read(file({ __metadata__: null })).metadata }).toEqual({})
    const data = new Uint8Array(8)
    new DataView(data.buffer).setFloat64(0, 2.5, true)
    const decoded = S.read(
      file(
        '{"s":{"dtype":"F64","shape":[],"data_offsets":[0,8]},"z":{"dtype":"F32","shape":[0,3],"data_offsets":[8,8]},"y":{"dtype":"BF16","shape":[4,0],"data_offsets":[0,0]}}    ',
        data
      )
    )
    expect(decoded.tensors.s!.item()).toBe(2.5)
    expect(decoded.tensors.z!.shape).toEqual([0, 3])
    expect(decoded.tensors.y!.shape).toEqual([4, 0])
  })

  it('decoding a hostile header pollutes no prototype, and the results have none', () => {
    const hostile = file('{"__metadata__":{"a":"b"},"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"toString":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', 8)
    const decoded = S.read(hostile)
    expect(Object.getPrototypeOf(decoded.tensors)).toBe(null)
    expect(Object.getPrototypeOf(decoded.metadata)).toBe(null)
    expect(Object.isFrozen(decoded.tensors)).toBe(true)
    expect(Object.keys(decoded.tensors)).toEqual(['x', 'toString'])
    for (const bad of ['{"__proto__":{"polluted":"yes"}}', '{"__metadata__":{"__proto__":{"polluted":"yes"}}}', '{"constructor":{"prototype":{"polluted":"yes"}}}']) {
      expect(E.isLeft(S.decode(file(bad)))).toBe(true)
    }
    expect((({}) as Record<string, unknown>).polluted).toBeUndefined()
  })
})

// ================================================================ encode

describe('encode', () => {
  it('writes f32 as F32 and f64 as F64, sorted by dtype size then by name, header padded to a multiple of 8', () => {
    const bytes = S.encode({ c: tensor([1], { dtype: 'f32' }), b: tensor([2]), a: tensor([3], { dtype: 'f32' }), d: tensor([4]) })
    const header = headerOf(bytes)
    expect(Object.keys(header)).toEqual(['b', 'd', 'a', 'c'])
    expect(header).toEqual({
      b: { dtype: 'F64', shape: [1], data_offsets: [0, 8] },
      d: { dtype: 'F64', shape: [1], data_offsets: [8, 16] },
      a: { dtype: 'F32', shape: [1], data_offsets: [16, 20] },
      c: { dtype: 'F32', shape: [1], data_offsets: [20, 24] }
    })
    expect(headerLengthOf(bytes) % 8).toBe(0)
    expect(bytes.length).toBe(8 + headerLengthOf(bytes) + 24)
  })

  it('orders names by code point (UTF-8 byte order, as the reference’s Rust strings), not by UTF-16 unit', () => {
    const names = ['\u{1F600}', '\uFF21', 'b', 'B', 'a.10', 'a.9']
    const bytes = S.encode(Object.fromEntries(names.map((n) => [n, tensor([0])])))
    const utf8Order = [...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)))
    expect(Object.keys(headerOf(bytes)).filter((k) => k !== '__metadata__')).toEqual(utf8Order)
  })

  it('leaves __metadata__ out when there is none, and writes it first otherwise', () => {
    expect(Object.keys(headerOf(S.encode({ a: tensor([1]) })))).toEqual(['a'])
    expect(Object.keys(headerOf(S.encode({ a: tensor([1]) }, { z: '1', y: '2' })))).toEqual(['__metadata__', 'a'])
  })

  it('rejects what decode would reject, with a SafetensorsError', () => {
    const rejects = (f: () => unknown, reason: SafetensorsErrorReason, message: string) => {
      let caught: unknown
      try {
        f()
      } catch (e) {
        caught = e
      }
      expect(caught).toBeInstanceOf(S.SafetensorsError)
      expect((caught as S.SafetensorsError).reason).toBe(reason)
      expect((caught as Error).message).toBe(`safetensors: ${message}`)
    }
    rejects(() => S.encode({ a: [1, 2] as never }), 'input', 'encode: "a" is not a lamina tensor (got an array)')
    rejects(() => S.encode({ __metadata__: tensor([1]) }), 'key', 'encode: a tensor cannot be named "__metadata__"')
    rejects(() => S.encode(JSON.parse('{"__proto__":1}') as never), 'key', 'tensor name "__proto__" is not allowed (the names __proto__, constructor and prototype are rejected, also as a dotted segment)')
    rejects(() => S.encode({ 'a.constructor': tensor([1]) }), 'key', 'tensor name "a.constructor" is not allowed (the names __proto__, constructor and prototype are rejected, also as a dotted segment)')
    rejects(() => S.encode({ ['x\uD800']: tensor([1]) }), 'key', 'tensor name "x\\ud800" contains a lone UTF-16 surrogate')
    rejects(() => S.encode({ a: tensor([1]) }, { v: 1 as never }), 'metadata', 'encode: __metadata__ value of "v" must be a string, got number 1')
    rejects(() => S.encode(null as never), 'input', 'encode: expected a record of tensors, got null')
  })
})

// ================================================================ trees and PyTorch

describe('fromTree, toTree, fromTorchLinear', () => {
  const mlp = Layer.sequential(Layers.dense(4, 8), Layers.tanh(), Layers.dense(8, 3))

  it('fromTree names sequential parameters layers.0.w …; toTree inverts it', () => {
    const params = mlp.init(Random.key(3))
    const named = S.fromTree(params)
    expect(Object.keys(named)).toEqual(['layers.0.w', 'layers.0.b', 'layers.2.w', 'layers.2.b'])
    const back = rightOf(S.toTree(S.read(S.encode(named)), mlp.init(Random.key(4))))
    expect(Tree.flatten(back).leaves.every((t, i) => identical(t, Tree.flatten(params).leaves[i]!))).toBe(true)
    expect(back.layers[1]).toEqual({})
  })

  it('toTree names the path of a missing tensor, a wrong shape, a wrong dtype, and unexpected tensors', () => {
    const like = mlp.init(Random.key(0))
    const named = { ...S.fromTree(like) }
    const message = (r: E.Either<S.SafetensorsError, unknown>) => leftOf(r).message
    const { ['layers.2.b']: _dropped, ...missing } = named
    expect(message(S.toTree(missing, like))).toBe('safetensors: toTree: tensor "layers.2.b" is missing from the file')
    expect(message(S.toTree({ ...named, 'layers.0.b': tensor([1, 2, 3]) }, like))).toBe(
      'safetensors: toTree: tensor "layers.0.b" has shape [3] in the file, expected [8]'
    )
    expect(message(S.toTree({ ...named, 'layers.0.b': astype(named['layers.0.b']!, 'f32') }, like))).toBe(
      'safetensors: toTree: tensor "layers.0.b" has dtype f32 in the file, expected f64'
    )
    expect(message(S.toTree({ ...named, extra: tensor(1), 'layers.9.w': tensor(2) }, like))).toBe(
      'safetensors: toTree: the file has tensors the tree does not name: "extra", "layers.9.w"'
    )
    expect(E.isRight(S.toTree({ ...named, extra: tensor(1) }, like, { allowExtra: true }))).toBe(true)
    expect(leftOf(S.toTree({ ...named, 'layers.0.w': 3 as never }, like)).message).toBe('safetensors: toTree: "layers.0.w" is not a tensor')
  })

  it('fromTree names the path of what cannot be named', () => {
    const thrown = (f: () => unknown): string => {
      try {
        f()
      } catch (e) {
        expect(e).toBeInstanceOf(S.SafetensorsError)
        return (e as Error).message
      }
      throw new Error('expected a throw')
    }
    expect(thrown(() => S.fromTree({ a: { 'b.c': tensor(1) } }))).toBe('safetensors: fromTree: key "b.c" at "a" cannot be part of a dotted name')
    expect(thrown(() => S.fromTree({ a: [tensor(1), 'x'] }))).toBe('safetensors: fromTree: expected a tensor, an array or a plain record at "a.1", got string')
    expect(thrown(() => S.fromTree(tensor(1)))).toBe('safetensors: fromTree: the root is a single tensor; give it a name with a record, e.g. { w: tensor }')
    expect(thrown(() => S.fromTree({ a: new Map() }))).toBe('safetensors: fromTree: expected a tensor, an array or a plain record at "a", got Map')
  })

  it('fromTorchLinear transposes [out, in] weights and names what is not a Linear layer', () => {
    const w = tensor([[1, 2, 3], [4, 5, 6]], { dtype: 'f32' }) // Linear(3, 2)
    const b = tensor([7, 8], { dtype: 'f32' })
    const named = rightOf(S.fromTorchLinear({ 'fc.weight': w, 'fc.bias': b }, { prefix: '' }))
    expect(named['fc.w']!.toArray()).toEqual([[1, 4], [2, 5], [3, 6]])
    expect(named['fc.w']!.dtype).toBe('f32')
    expect(named['fc.b']).toBe(b)
    const message = (r: E.Either<S.SafetensorsError, unknown>) => leftOf(r).message
    expect(message(S.fromTorchLinear({ '1.running_mean': b }))).toBe('safetensors: fromTorchLinear: "1.running_mean" is not the weight or bias of a Linear layer')
    expect(message(S.fromTorchLinear({ '0.weight': w }))).toBe(
      'safetensors: fromTorchLinear: "0.weight" has no matching "0.bias" (lamina\'s dense always has a bias)'
    )
    expect(message(S.fromTorchLinear({ '0.bias': b }))).toBe('safetensors: fromTorchLinear: "0.bias" has no matching "0.weight"')
    expect(message(S.fromTorchLinear({ '0.weight': b, '0.bias': b }))).toBe('safetensors: fromTorchLinear: "0.weight" has shape [2], expected [out, in]')
    expect(message(S.fromTorchLinear({ '0.weight': w, '0.bias': tensor([1, 2, 3], { dtype: 'f32' }) }))).toBe(
      'safetensors: fromTorchLinear: "0.bias" has shape [3], expected [2] to match "0.weight" [2,3]'
    )
  })
})

// ================================================================ round trips

const NAME = fc.string({ unit: 'binary', maxLength: 10 }).filter((s) => s !== '__metadata__' && !/[\uD800-\uDFFF]/u.test(s) && !s.split('.').some((p) => ['__proto__', 'constructor', 'prototype'].includes(p)))

const SHAPE = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 })

const TENSOR: fc.Arbitrary<Tensor> = fc.oneof(
  SHAPE.chain((shape) => {
    const n = shape.reduce((a, d) => a * d, 1)
    return fc.array(fc.double(), { minLength: n, maxLength: n }).map((v) => fromBuffer(v, shape, { dtype: 'f64' }) as Tensor)
  }),
  SHAPE.chain((shape) => {
    const n = shape.reduce((a, d) => a * d, 1)
    return fc.array(fc.float(), { minLength: n, maxLength: n }).map((v) => fromBuffer(v, shape, { dtype: 'f32' }) as Tensor)
  })
)

const NAMED = fc.dictionary(NAME, TENSOR, { maxKeys: 6 })
const METADATA = fc.option(fc.dictionary(NAME, fc.string({ unit: 'binary', maxLength: 20 }).filter((s) => !/[\uD800-\uDFFF]/u.test(s)), { maxKeys: 4 }), { nil: undefined })

const KEY = fc.stringMatching(/^[a-z_][a-z0-9_]{0,5}$/).filter((k) => !['constructor', 'prototype', '__proto__'].includes(k))
const { tree: TREE } = fc.letrec<{ tree: unknown }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    TENSOR,
    fc.array(tie('tree'), { maxLength: 3 }),
    fc.dictionary(KEY, tie('tree'), { maxKeys: 3 })
  )
}))

describe('round trips', () => {
  test.prop([NAMED, METADATA], { numRuns: 500 })('decode(encode(tensors, metadata)) gives the same tensors, bit for bit, and the same metadata', (named, metadata) => {
    const bytes = S.encode(named, metadata)
    const decoded = S.read(bytes)
    const names = Object.keys(named)
    return (
      headerLengthOf(bytes) % 8 === 0 &&
      Object.keys(decoded.tensors).length === names.length &&
      names.every((n) => decoded.tensors[n] !== undefined && identical(decoded.tensors[n], named[n]!)) &&
      JSON.stringify(Object.entries(decoded.metadata).sort()) === JSON.stringify(Object.entries(metadata ?? {}).sort())
    )
  })

  test.prop([fc.dictionary(KEY, TREE, { maxKeys: 4 })], { numRuns: 500 })('toTree(decode(encode(fromTree(tree))), tree) gives the tree back', (tree) => {
    const back = rightOf(S.toTree(S.read(S.encode(S.fromTree(tree))), tree))
    const [a, b] = [Tree.flatten(back).leaves, Tree.flatten(tree).leaves]
    return JSON.stringify(Tree.map(back, () => tensor(0))) === JSON.stringify(Tree.map(tree, () => tensor(0))) && a.length === b.length && a.every((t, i) => identical(t, b[i]!))
  })
})

// ================================================================ fuzzing

/** A small valid file, with its tensors. */
const VALID = fc.record({ named: fc.dictionary(fc.stringMatching(/^[a-z]{1,3}(\.[0-9])?$/), TENSOR, { minKeys: 1, maxKeys: 4 }), metadata: METADATA }).map(({ named, metadata }) => S.encode(named, metadata))

const DTYPES = ['F64', 'F32', 'F16', 'BF16', 'I64', 'U8', 'I32', 'F4', 'BOOL', 'C64', 'F8_E4M3', 'X', '', 'f32']
const WEIRD_KEYS = ['__proto__', 'constructor', 'prototype', '__metadata__', 'a.constructor.b', '', 'toString', 'hasOwnProperty']
const WEIRD_NUMBERS = [-1, 0, 1, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, 1e300, -0, 0.5, Number.MAX_SAFE_INTEGER]
const NUMBER = fc.oneof(fc.integer({ min: -4, max: 300 }), fc.constantFrom(...WEIRD_NUMBERS))

/** One edit of a parsed header (re-serialised with a matching header length). */
const JSON_EDIT = fc.oneof(
  fc.record({ op: fc.constant('dtype' as const), key: fc.nat(), value: fc.oneof(fc.constantFrom<unknown>(...DTYPES), fc.jsonValue()) }),
  fc.record({ op: fc.constant('shape' as const), key: fc.nat(), value: fc.oneof(fc.array(NUMBER, { maxLength: 4 }), fc.jsonValue()) }),
  fc.record({ op: fc.constant('data_offsets' as const), key: fc.nat(), value: fc.oneof(fc.array(NUMBER, { minLength: 2, maxLength: 2 }), fc.array(NUMBER, { maxLength: 3 }), fc.jsonValue()) }),
  fc.record({ op: fc.constant('delete' as const), key: fc.nat(), field: fc.constantFrom('dtype', 'shape', 'data_offsets') }),
  fc.record({ op: fc.constant('add' as const), key: fc.nat(), field: fc.constantFrom('extra', '__proto__', 'dtype'), value: fc.jsonValue() }),
  fc.record({ op: fc.constant('replace' as const), key: fc.nat(), value: fc.jsonValue() }),
  fc.record({ op: fc.constant('rename' as const), key: fc.nat(), to: fc.oneof(fc.constantFrom(...WEIRD_KEYS), fc.string({ maxLength: 5 })) }),
  fc.record({ op: fc.constant('metadata' as const), value: fc.oneof(fc.jsonValue(), fc.dictionary(fc.constantFrom(...WEIRD_KEYS, 'k'), fc.jsonValue())) }),
  fc.record({ op: fc.constant('text' as const), at: fc.nat(), char: fc.constantFrom('{', '}', '"', ',', ':', '[', ']', '\\', ' ', '0', '9', '-', '\u0000', 'é', '\uFEFF') }),
  // another dtype, mostly of the same size, so that the layout still holds and the dtype itself is judged
  fc.record({ op: fc.constant('retype' as const), key: fc.nat(), value: fc.constantFrom('I32', 'U32', 'F32', 'I64', 'U64', 'C64', 'F64', 'F16', 'U8') }),
  fc.record({ op: fc.constant('text' as const), at: fc.constant(0), char: fc.constantFrom(' ', '[', '"', '\uFEFF', '\n') })
)

const MUTATION = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('flipData' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('truncate' as const), to: fc.oneof(fc.nat(), fc.nat({ max: 8 })) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('length' as const), value: fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 600n })) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('lengthDelta' as const), delta: fc.integer({ min: -16, max: 16 }) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('json' as const), edit: JSON_EDIT }), weight: 6 },
  { arbitrary: fc.record({ kind: fc.constant('offsets' as const), key: fc.nat(), begin: NUMBER, end: NUMBER }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('shift' as const), key: fc.nat(), delta: fc.integer({ min: -16, max: 16 }) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('copy' as const), from: fc.nat(), to: fc.nat() }), weight: 1 }
)
type Mutation = typeof MUTATION extends fc.Arbitrary<infer M> ? M : never

const withHeader = (bytes: Uint8Array, edit: (header: Record<string, unknown>) => void): Uint8Array => {
  let header: Record<string, unknown>
  try {
    header = headerOf(bytes)
    if (typeof header !== 'object' || header === null || Array.isArray(header)) return bytes
  } catch {
    return bytes
  }
  edit(header)
  return file(JSON.stringify(header), dataOf(bytes).slice())
}

const tensorKey = (header: Record<string, unknown>, k: number): string | undefined => {
  const keys = Object.keys(header).filter((key) => key !== '__metadata__')
  return keys.length === 0 ? undefined : keys[k % keys.length]
}

const mutate = (bytes: Uint8Array, m: Mutation): Uint8Array => {
  const out = bytes.slice()
  switch (m.kind) {
    case 'flip':
      if (out.length > 0) out[m.at % out.length]! ^= 1 << m.bit
      return out
    case 'flipData': {
      const data = out.length >= 8 ? out.length - (8 + headerLengthOf(out)) : 0
      if (data > 0) out[out.length - data + (m.at % data)]! ^= 1 << m.bit
      return out
    }
    case 'truncate':
      return out.slice(0, m.to % (out.length + 1))
    case 'append': {
      const longer = new Uint8Array(out.length + m.bytes.length)
      longer.set(out)
      longer.set(m.bytes, out.length)
      return longer
    }
    case 'length':
      if (out.length >= 8) new DataView(out.buffer).setBigUint64(0, m.value, true)
      return out
    case 'lengthDelta':
      if (out.length >= 8) new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, BigInt(headerLengthOf(out) + m.delta)), true)
      return out
    case 'copy':
      // one tensor's offsets given to another: the same bytes twice, or a size mismatch
      return withHeader(out, (h) => {
        const [from, to] = [tensorKey(h, m.from), tensorKey(h, m.to)]
        const [a, b] = [from === undefined ? undefined : h[from], to === undefined ? undefined : h[to]]
        if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
          ;(b as Record<string, unknown>).data_offsets = (a as Record<string, unknown>).data_offsets
        }
      })
    case 'shift':
      return withHeader(out, (h) => {
        const key = tensorKey(h, m.key)
        const entry = key === undefined ? undefined : h[key]
        const offsets = typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown>).data_offsets : undefined
        if (Array.isArray(offsets) && offsets.length === 2 && offsets.every((o) => typeof o === 'number')) {
          ;(entry as Record<string, unknown>).data_offsets = (offsets as number[]).map((o) => o + m.delta)
        }
      })
    case 'offsets':
      return withHeader(out, (h) => {
        const key = tensorKey(h, m.key)
        if (key !== undefined && typeof h[key] === 'object' && h[key] !== null) (h[key] as Record<string, unknown>).data_offsets = [m.begin, m.end]
      })
    case 'json': {
      const e = m.edit
      if (e.op === 'text') {
        if (out.length < 8) return out
        const n = headerLengthOf(out)
        if (n === 0 || 8 + n > out.length) return out
        const text = new TextDecoder().decode(out.subarray(8, 8 + n))
        const at = e.at % text.length
        return file(text.slice(0, at) + e.char + text.slice(at + 1), dataOf(out).slice())
      }
      return withHeader(out, (h) => {
        if (e.op === 'metadata') {
          h.__metadata__ = e.value
          return
        }
        const key = tensorKey(h, e.key)
        if (key === undefined) return
        const entry = h[key]
        const record = typeof entry === 'object' && entry !== null && !Array.isArray(entry) ? (entry as Record<string, unknown>) : undefined
        switch (e.op) {
          case 'retype':
            if (record) record.dtype = e.value
            return
          case 'dtype':
          case 'shape':
          case 'data_offsets':
            if (record) record[e.op] = e.value
            return
          case 'delete':
            if (record) delete record[e.field]
            return
          case 'add':
            if (record) Object.defineProperty(record, e.field, { value: e.value, enumerable: true, writable: true, configurable: true })
            return
          case 'replace':
            h[key] = e.value
            return
          case 'rename': {
            const value = h[key]
            delete h[key]
            Object.defineProperty(h, e.to, { value, enumerable: true, writable: true, configurable: true })
            return
          }
        }
      })
    }
  }
}

describe(`fuzzing: decode returns a Right or a Left of SafetensorsError, never throws, never hangs (${FUZZ_RUNS} cases each)`, () => {
  let slowest = 0
  let cases = 0
  /** How often each outcome was seen in (b): the mutations must reach every stage of validation. */
  const outcomes = new Map<string, number>()
  const check = (bytes: Uint8Array, tally = false): boolean => {
    const r = wellBehaved(bytes)
    slowest = Math.max(slowest, r.ms)
    cases++
    if (tally) outcomes.set(r.reason ?? 'right', (outcomes.get(r.reason ?? 'right') ?? 0) + 1)
    return r.ok && r.ms < PER_CASE_MS
  }

  test.prop([fc.uint8Array({ maxLength: 512 })], { numRuns: FUZZ_RUNS })('(a) random byte arrays', (bytes) => check(bytes))

  test.prop([fc.bigInt({ min: 0n, max: 700n }), fc.uint8Array({ maxLength: 600 })], { numRuns: FUZZ_RUNS })(
    '(a) random bytes behind a plausible header length',
    (n, rest) => check(file(rest, 0, n))
  )

  test.prop([fc.jsonValue({ maxDepth: 4 }), fc.nat({ max: 64 })], { numRuns: FUZZ_RUNS })('(a) random JSON headers with random data lengths', (json, dataLength) =>
    check(file(JSON.stringify(json) ?? 'null', dataLength))
  )

  test.prop([VALID, fc.array(MUTATION, { minLength: 1, maxLength: 3 })], { numRuns: FUZZ_RUNS })('(b) valid files with 1–3 random mutations', (bytes, mutations) =>
    check(mutations.reduce(mutate, bytes), true)
  )

  test.prop([VALID, fc.nat(), fc.integer({ min: 0, max: 7 })], { numRuns: FUZZ_RUNS })('(b) a bit flip inside the data section leaves a valid file valid', (bytes, at, bit) => {
    const r = wellBehaved(mutate(bytes, { kind: 'flipData', at, bit }))
    return r.ok && r.right
  })

  test.prop([VALID, fc.nat()], { numRuns: FUZZ_RUNS })('(b) every truncation of a valid file is a Left', (bytes, to) => {
    const cut = to % bytes.length
    return E.isLeft(S.decode(bytes.subarray(0, cut)))
  })

  test.prop([VALID, fc.uint8Array({ minLength: 1, maxLength: 16 })], { numRuns: FUZZ_RUNS })('(b) bytes appended to a valid file are a Left (they belong to no tensor)', (bytes, extra) =>
    leftOf(S.decode(mutate(bytes, { kind: 'append', bytes: extra }))).reason === 'uncovered'
  )

  it('the mutations reached every stage of validation, and some files stayed valid', () => {
    console.info(`safetensors fuzz: ${cases} checked cases, slowest ${slowest.toFixed(1)} ms; outcomes of the mutated files: ${JSON.stringify(Object.fromEntries([...outcomes].sort((a, b) => b[1] - a[1])))}`)
    expect(cases).toBe(4 * FUZZ_RUNS) // the four properties that go through `check`
    const stages: ReadonlyArray<SafetensorsErrorReason | 'right'> = [
      'right', 'too-short', 'header-length', 'header-utf8', 'header-json', 'header-object', 'entry', 'dtype', 'unsupported-dtype', 'shape', 'offsets', 'size', 'overlap', 'uncovered', 'key', 'metadata'
    ]
    expect(stages.filter((s) => !outcomes.has(s))).toEqual([])
  })

  it('no prototype was polluted, and no case came near the time bound', () => {
    expect((({}) as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.keys(Object.prototype)).toEqual([])
    expect(slowest).toBeLessThan(PER_CASE_MS)
  })

  it('a header length claiming 100 MB, and a 100 MB-class shape, are refused at once', () => {
    const start = performance.now()
    expect(leftOf(S.decode(file('{}', 0, 100_000_000n))).reason).toBe('header-length')
    expect(leftOf(S.decode(file({ a: { dtype: 'F64', shape: [1e7, 1e7], data_offsets: [0, 8] } }, 8))).reason).toBe('size')
    expect(performance.now() - start).toBeLessThan(100)
  })
})
