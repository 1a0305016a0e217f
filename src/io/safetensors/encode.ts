/**
 * Encoding tensors as a safetensors file, byte for byte as the reference writer does.
 * Re-exported by `Safetensors`.
 *
 * @module
 */
import { Tensor, concreteBuffer } from '../../tensor.js'
import type { DType } from '../../tensor.js'
import { littleEndianHost } from './dtypes.js'
import type { FileDType } from './dtypes.js'
import { describeType, fail, quote } from './error.js'
import { LONE_SURROGATE, checkName } from './names.js'

/** Orders strings by Unicode code point, i.e. by their UTF-8 bytes (Rust's `String` order). */
const compareCodePoints = (a: string, b: string): number => {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x === y) continue
    // a surrogate (a code point above U+FFFF) sorts after every BMP unit
    const rank = (c: number) => (c >= 0xd800 && c <= 0xdfff ? c + 0x2000 : c >= 0xe000 ? c - 0x800 : c)
    return rank(x) - rank(y)
  }
  return a.length - b.length
}

const FILE_DTYPE: Readonly<Record<DType, { readonly name: FileDType; readonly size: number }>> = {
  f32: { name: 'F32', size: 4 },
  f64: { name: 'F64', size: 8 }
}

/**
 * Encodes tensors (and optional string metadata) as a safetensors file, the way the
 * reference writer does: `f32` tensors as `F32`, `f64` as `F64`; the data section holds the
 * tensors sorted by dtype size, largest first, then by name; the header is compact JSON with
 * `__metadata__` first (left out when there is none) and the entries in data order, padded
 * with spaces to a multiple of 8 bytes. Throws a {@link SafetensorsError} for a value that is
 * not a tensor, a non-string metadata value, or a name {@link decode} would reject.
 *
 * @example
 * ```ts
 * import { Safetensors, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const bytes = Safetensors.encode({ 'layers.0.b': tensor([0.1], { dtype: 'f32' }), 'layers.0.w': tensor([[1, 2]]) }, { lamina: '1' })
 * const n = Number(new DataView(bytes.buffer).getBigUint64(0, true))
 * assert.strictEqual(n % 8, 0)
 * assert.deepStrictEqual(JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))), {
 *   __metadata__: { lamina: '1' },
 *   'layers.0.w': { dtype: 'F64', shape: [1, 2], data_offsets: [0, 16] },
 *   'layers.0.b': { dtype: 'F32', shape: [1], data_offsets: [16, 20] }
 * })
 * ```
 */
export const encode = (tensors: Readonly<Record<string, Tensor>>, metadata?: Readonly<Record<string, string>>): Uint8Array => {
  if (typeof tensors !== 'object' || tensors === null || Array.isArray(tensors)) {
    throw fail('input', `encode: expected a record of tensors, got ${describeType(tensors)}`)
  }
  const entries: Array<{ readonly name: string; readonly tensor: Tensor; readonly file: (typeof FILE_DTYPE)[DType] }> = []
  for (const name of Object.keys(tensors)) {
    if (name === '__metadata__') throw fail('key', 'encode: a tensor cannot be named "__metadata__"')
    const bad = checkName(name, 'tensor name')
    if (bad) throw bad
    const t = tensors[name]
    if (!(t instanceof Tensor)) throw fail('input', `encode: ${quote(name)} is not a lamina tensor (got ${describeType(t)})`)
    const file = t.dtype === 'f32' || t.dtype === 'f64' ? FILE_DTYPE[t.dtype] : undefined
    if (file === undefined) throw fail('input', `encode: tensor ${quote(name)} has dtype ${String(t.dtype)}, expected f32 or f64`)
    entries.push({ name, tensor: t, file })
  }
  const meta: Array<readonly [string, string]> = []
  if (metadata !== undefined) {
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
      throw fail('metadata', `encode: metadata must be a record of strings, got ${describeType(metadata)}`)
    }
    for (const key of Object.keys(metadata)) {
      const bad = checkName(key, '__metadata__ key')
      if (bad) throw bad
      const v: unknown = metadata[key]
      if (typeof v !== 'string') throw fail('metadata', `encode: __metadata__ value of ${quote(key)} must be a string, got ${describeType(v)}`)
      if (LONE_SURROGATE.test(v)) throw fail('metadata', `encode: __metadata__ value of ${quote(key)} contains a lone UTF-16 surrogate`)
      meta.push([key, v])
    }
  }
  entries.sort((a, b) => b.file.size - a.file.size || compareCodePoints(a.name, b.name))

  const parts: string[] = []
  if (meta.length > 0) parts.push(`"__metadata__":{${meta.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`)
  let offset = 0
  for (const { name, tensor, file } of entries) {
    const bytes = tensor.size * file.size
    parts.push(`${JSON.stringify(name)}:{"dtype":"${file.name}","shape":[${tensor.shape.join(',')}],"data_offsets":[${offset},${offset + bytes}]}`)
    offset += bytes
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`)
  const headerLength = json.length + ((8 - (json.length % 8)) % 8)
  const out = new Uint8Array(8 + headerLength + offset)
  const view = new DataView(out.buffer)
  view.setBigUint64(0, BigInt(headerLength), true)
  out.set(json, 8)
  out.fill(0x20, 8 + json.length, 8 + headerLength)
  let at = 8 + headerLength
  for (const { tensor, file } of entries) {
    const buf = concreteBuffer(tensor)
    if (littleEndianHost) {
      out.set(new Uint8Array(buf.buffer, buf.byteOffset, tensor.size * file.size), at)
    } else if (file.size === 4) {
      for (let i = 0; i < tensor.size; i++) view.setFloat32(at + 4 * i, buf[i]!, true)
    } else {
      for (let i = 0; i < tensor.size; i++) view.setFloat64(at + 8 * i, buf[i]!, true)
    }
    at += tensor.size * file.size
  }
  return out
}
