/**
 * Decoding a whole file into lamina tensors (`decode`, and `read`, which throws).
 * Re-exported by `Safetensors`.
 *
 * @module
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Either } from 'fp-ts/lib/Either.js'

import type { Tensor } from '../../tensor.js'
import { fromOwnedBuffer } from '../../tensor.js'
import { TARGET, bfloat16ToNumber, halfToNumber, littleEndianHost } from './dtypes.js'
import { SafetensorsError, fail, quote } from './error.js'
import { decodeHeader } from './header.js'
import type { TensorInfo } from './header.js'
import { nullRecord } from './names.js'

/** A decoded file: its tensors (by name) and its metadata, both null-prototype frozen records. */
export interface Decoded {
  readonly tensors: Readonly<Record<string, Tensor>>
  readonly metadata: Readonly<Record<string, string>>
}

/** A fresh, aligned copy of `bytes[begin, end)` (not `slice`: a Node `Buffer`'s `slice` is a view into a shared pool). */
const copyBytes = (bytes: Uint8Array, begin: number, end: number): ArrayBuffer => {
  const out = new Uint8Array(end - begin)
  out.set(bytes.subarray(begin, end))
  return out.buffer
}

const readTensor = (bytes: Uint8Array, dataStart: number, info: TensorInfo): Either<SafetensorsError, Tensor> => {
  const dtype = TARGET.get(info.dtype)!
  const [begin, end] = info.dataOffsets
  const start = dataStart + begin
  const count = info.shape.reduce((n, d) => n * d, 1)
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, end - begin)
  let out: Float32Array | Float64Array
  switch (info.dtype) {
    case 'F64':
      out = littleEndianHost ? new Float64Array(copyBytes(bytes, start, dataStart + end)) : Float64Array.from({ length: count }, (_, i) => view.getFloat64(8 * i, true))
      break
    case 'F32':
      out = littleEndianHost ? new Float32Array(copyBytes(bytes, start, dataStart + end)) : Float32Array.from({ length: count }, (_, i) => view.getFloat32(4 * i, true))
      break
    case 'F16': {
      out = new Float32Array(count)
      for (let i = 0; i < count; i++) out[i] = halfToNumber(view.getUint16(2 * i, true))
      break
    }
    case 'BF16': {
      out = new Float32Array(count)
      for (let i = 0; i < count; i++) out[i] = bfloat16ToNumber(view.getUint16(2 * i, true))
      break
    }
    case 'I64': {
      out = new Float64Array(count)
      const limit = BigInt(Number.MAX_SAFE_INTEGER)
      for (let i = 0; i < count; i++) {
        const v = view.getBigInt64(8 * i, true)
        if (v > limit || v < -limit) {
          return E.left(
            fail('value', `tensor ${quote(info.name)}: I64 value ${v} at index ${i} is not a safe integer (|v| ≤ 2^53 − 1), so it has no exact f64 value`)
          )
        }
        out[i] = Number(v)
      }
      break
    }
    default:
      return E.left(unsupported(info))
  }
  return E.right(fromOwnedBuffer(info.shape, dtype, out))
}

const unsupported = (info: TensorInfo): SafetensorsError =>
  fail('unsupported-dtype', `tensor ${quote(info.name)} has dtype ${info.dtype}, which lamina does not read (it reads F64, F32, F16, BF16 and I64)`)

/**
 * Decodes a safetensors file. `F64` and `F32` become tensors of that dtype; `F16` and `BF16`
 * become `f32` tensors holding exactly the stored values (every half and bfloat16 is a float32,
 * subnormals, ±∞ and NaN included); `I64` becomes `f64` when every value is a safe integer
 * (|v| ≤ 2^53 − 1, so the conversion is exact) and is an error otherwise; any other dtype is an
 * `unsupported-dtype` error naming it.
 *
 * Validation, each failure a `Left` of {@link SafetensorsError} naming the tensor and value:
 * the file is at least 8 bytes; the header length fits in the file and is at most
 * {@link MAX_HEADER_BYTES}; the header is UTF-8, starts with `{` and is a JSON object;
 * `__metadata__` (absent or `null` for none) maps names to strings; every other key is a
 * tensor entry with exactly `dtype` (a known dtype), `shape` (safe non-negative integers) and
 * `data_offsets` (two safe integers, `begin ≤ end ≤` the data length) spanning dtype size ×
 * number of elements; no two tensors overlap and every byte of the data section belongs to a
 * tensor (the reference rejects gaps and trailing bytes too); no name or metadata key is
 * `__proto__`, `constructor` or `prototype` (nor has one as a dotted segment: names become tree
 * paths). The results are frozen null-prototype records.
 *
 * A key that appears twice in one JSON object of the header is a `duplicate` error, wherever
 * it is: `__metadata__`, a tensor name, a field of an entry (`dtype`, `shape`,
 * `data_offsets`), a metadata key (the reference's serde rejects a duplicate struct field;
 * `JSON.parse` alone would silently keep the last one).
 *
 * Differences from the reference, all stricter or equal: unknown fields in a tensor entry are
 * rejected (the reference ignores them); a duplicate tensor name or metadata key is rejected
 * (the reference's maps keep the last one; a duplicate tensor then leaves bytes that belong to
 * no tensor, so such a file is rejected there too unless both entries name the same bytes);
 * JSON numbers are read as JavaScript numbers, so `4.0` counts as the integer 4.
 *
 * @example
 * ```ts
 * import { Safetensors, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const bytes = Safetensors.encode({ 'layers.0.w': tensor([[1, 2]], { dtype: 'f32' }) })
 * const ok = Safetensors.decode(bytes)
 * assert.ok(ok._tag === 'Right')
 * assert.strictEqual(ok.right.tensors['layers.0.w']!.dtype, 'f32')
 *
 * const bad = Safetensors.decode(bytes.subarray(0, bytes.length - 1)) // truncated
 * assert.ok(bad._tag === 'Left')
 * assert.strictEqual(bad.left.reason, 'offsets')
 *
 * // a field given twice: JSON.parse would keep the second, the reference (and lamina) refuse
 * const header = new TextEncoder().encode('{"w":{"dtype":"F64","dtype":"F32","shape":[1],"data_offsets":[0,8]}}')
 * const twice = new Uint8Array(8 + header.length + 8)
 * new DataView(twice.buffer).setBigUint64(0, BigInt(header.length), true)
 * twice.set(header, 8)
 * const dup = Safetensors.decode(twice)
 * assert.ok(dup._tag === 'Left' && dup.left.reason === 'duplicate')
 * assert.match(dup.left.message, /tensor "w" has the field "dtype" twice/)
 * ```
 */
export const decode = (input: Uint8Array | ArrayBuffer): Either<SafetensorsError, Decoded> => {
  try {
    const header = decodeHeader(input)
    if (E.isLeft(header)) return header
    const bytes = input instanceof Uint8Array ? input : new Uint8Array(input)
    const { tensors: infos, metadata, dataStart } = header.right
    for (const info of infos) if (!TARGET.has(info.dtype)) return E.left(unsupported(info))
    const tensors: Array<readonly [string, Tensor]> = []
    for (const info of infos) {
      const t = readTensor(bytes, dataStart, info)
      if (E.isLeft(t)) return t
      tensors.push([info.name, t.right])
    }
    return E.right(Object.freeze({ tensors: nullRecord(tensors), metadata }))
  } catch (e) {
    return E.left(e instanceof SafetensorsError ? e : fail('input', `unexpected failure while decoding: ${e instanceof Error ? e.message : String(e)}`))
  }
}

/**
 * {@link decode}, throwing its {@link SafetensorsError} instead of returning a `Left`.
 *
 * @example
 * ```ts
 * import { Safetensors, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const { tensors } = Safetensors.read(Safetensors.encode({ b: tensor([0.1, 0.2]) }))
 * assert.deepStrictEqual(tensors.b!.toArray(), [0.1, 0.2])
 * assert.throws(() => Safetensors.read(new Uint8Array(4)), Safetensors.SafetensorsError)
 * ```
 */
export const read = (input: Uint8Array | ArrayBuffer): Decoded => {
  const result = decode(input)
  if (E.isLeft(result)) throw result.left
  return result.right
}
