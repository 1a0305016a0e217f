/**
 * Reading and validating a file's header (metadata, tensor entries, data layout) before any
 * tensor is decoded. Re-exported by `Safetensors`.
 *
 * @module
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Either } from 'fp-ts/lib/Either.js'

import { BITS } from './dtypes.js'
import type { FileDType } from './dtypes.js'
import { SafetensorsError, describeType, fail, quote, showValue } from './error.js'
import { findDuplicateKey, moreItemsThan } from './json-scan.js'
import { checkName, hasOwn, nullRecord } from './names.js'

/**
 * The largest header {@link decode} accepts, in bytes (the reference's limit: 100 MB), so that
 * a hostile length cannot make the reader parse gigabytes of JSON.
 *
 * @example
 * ```ts
 * import { Safetensors } from 'lamina-nn'
 * import assert from 'node:assert'
 * const bytes = new Uint8Array(16)
 * new DataView(bytes.buffer).setBigUint64(0, BigInt(Safetensors.MAX_HEADER_BYTES + 1), true)
 * const result = Safetensors.decode(bytes)
 * assert.ok(result._tag === 'Left' && result.left.reason === 'header-length')
 * ```
 */
export const MAX_HEADER_BYTES = 100_000_000

/**
 * The most keys and array items (at every level, counted together) a header may hold:
 * 2^19 = 524,288, room for some 40,000 tensors (a tensor of rank 2 takes about 12). `JSON.parse`
 * turns a header packed with short keys or numbers into objects many times its size, slowly
 * (a 98 MB header of one 49-million-item `shape` takes 1.4 GB); counting first, without
 * allocating, refuses such a header at once. The reference has no such limit; this one only
 * refuses headers no model file has.
 *
 * @example
 * ```ts
 * import { Safetensors } from 'lamina-nn'
 * import assert from 'node:assert'
 * const keys = Array.from({ length: Safetensors.MAX_HEADER_ITEMS }, (_, i) => `"k${i}":""`).join(',')
 * const header = new TextEncoder().encode(`{"__metadata__":{${keys}}}`)
 * const bytes = new Uint8Array(8 + header.length)
 * new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true)
 * bytes.set(header, 8)
 * const result = Safetensors.decode(bytes)
 * assert.ok(result._tag === 'Left' && result.left.reason === 'header-items')
 * ```
 */
export const MAX_HEADER_ITEMS = 2 ** 19

/** One tensor's entry in a header: its name, dtype, shape and byte range in the data section. */
export interface TensorInfo {
  readonly name: string
  readonly dtype: FileDType
  readonly shape: readonly number[]
  /** `[begin, end)` in bytes, relative to the start of the data section. */
  readonly dataOffsets: readonly [number, number]
}

/** A validated header: the metadata, the entries in file order, and where the data section starts. */
export interface Header {
  readonly metadata: Readonly<Record<string, string>>
  /** The entries in the order of the header's keys. */
  readonly tensors: readonly TensorInfo[]
  /** The byte offset of the data section in the file: `8 + N`. */
  readonly dataStart: number
  /** The length of the data section in bytes. */
  readonly dataLength: number
}

const ENTRY_FIELDS: ReadonlySet<string> = new Set(['dtype', 'shape', 'data_offsets'])

const toBytes = (input: unknown): Either<SafetensorsError, Uint8Array> => {
  if (input instanceof Uint8Array) return E.right(input)
  if (input instanceof ArrayBuffer) return E.right(new Uint8Array(input))
  return E.left(fail('input', `expected a Uint8Array or an ArrayBuffer, got ${input === null ? 'null' : typeof input === 'object' ? ((input as object).constructor?.name ?? 'object') : typeof input}`))
}

const parseMetadata = (value: unknown): Either<SafetensorsError, Readonly<Record<string, string>>> => {
  // the reference reads `__metadata__` as Option<HashMap<String, String>>: null means none
  if (value === null) return E.right(nullRecord([]))
  if (typeof value !== 'object' || Array.isArray(value)) {
    return E.left(fail('metadata', `__metadata__ must be an object of strings, got ${describeType(value)}`))
  }
  const entries: Array<readonly [string, string]> = []
  for (const key of Object.keys(value)) {
    const bad = checkName(key, '__metadata__ key')
    if (bad) return E.left(bad)
    const v = (value as Record<string, unknown>)[key]
    if (typeof v !== 'string') return E.left(fail('metadata', `__metadata__ value of ${quote(key)} must be a string, got ${describeType(v)}`))
    entries.push([key, v])
  }
  return E.right(nullRecord(entries))
}

const isSafeIndex = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0

const parseEntry = (name: string, value: unknown, dataLength: number): Either<SafetensorsError, TensorInfo> => {
  const t = `tensor ${quote(name)}`
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return E.left(fail('entry', `${t}: expected an object with dtype, shape and data_offsets, got ${describeType(value)}`))
  }
  const entry = value as Record<string, unknown>
  for (const key of Object.keys(entry)) {
    if (!ENTRY_FIELDS.has(key)) return E.left(fail('entry', `${t}: unexpected field ${quote(key)} (expected dtype, shape and data_offsets)`))
  }
  for (const key of ['dtype', 'shape', 'data_offsets']) {
    if (!hasOwn(entry, key)) return E.left(fail('entry', `${t}: missing field ${key}`))
  }
  const { dtype, shape, data_offsets: offsets } = entry
  if (typeof dtype !== 'string') return E.left(fail('entry', `${t}: dtype must be a string, got ${describeType(dtype)}`))
  const bits = BITS.get(dtype)
  if (bits === undefined) return E.left(fail('dtype', `${t}: unknown dtype ${quote(dtype)}`))
  if (!Array.isArray(shape)) return E.left(fail('entry', `${t}: shape must be an array of dimensions, got ${describeType(shape)}`))
  let elements = 1
  for (let i = 0; i < shape.length; i++) {
    const d: unknown = shape[i]
    if (!isSafeIndex(d)) {
      return E.left(fail('shape', `${t}: dimension ${i} of shape ${showValue(shape)} is ${showValue(d)}, not a non-negative safe integer`))
    }
    elements *= d
  }
  if (!Number.isSafeInteger(elements)) {
    // a zero dimension makes the product 0 whatever the others are, so this only fires with no zeros
    return E.left(fail('shape', `${t}: shape ${showValue(shape)} has more than 2^53 − 1 elements`))
  }
  if (!Array.isArray(offsets) || offsets.length !== 2) {
    return E.left(fail('entry', `${t}: data_offsets must be an array [begin, end], got ${showValue(offsets)}`))
  }
  const [begin, end] = offsets as [unknown, unknown]
  if (!isSafeIndex(begin) || !isSafeIndex(end)) {
    return E.left(fail('offsets', `${t}: data_offsets ${showValue(offsets)} must be non-negative safe integers`))
  }
  if (end < begin) return E.left(fail('offsets', `${t}: data_offsets [${begin}, ${end}] end before they begin`))
  if (end > dataLength) {
    return E.left(fail('offsets', `${t}: data_offsets [${begin}, ${end}] run past the end of the data section (${dataLength} bytes)`))
  }
  const totalBits = elements * bits
  if (totalBits % 8 !== 0) {
    return E.left(fail('size', `${t}: ${elements} elements of ${dtype} (${bits} bits each) do not fill whole bytes`))
  }
  const needed = totalBits / 8
  if (end - begin !== needed) {
    return E.left(
      fail('size', `${t}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes, but ${dtype} ${showValue(shape)} needs ${needed} (${elements} × ${bits / 8})`)
    )
  }
  return E.right({ name, dtype: dtype as FileDType, shape: Object.freeze([...(shape as number[])]), dataOffsets: Object.freeze([begin, end] as const) })
}

/** Every byte of the data section belongs to exactly one tensor (as in the reference). */
const checkLayout = (entries: readonly TensorInfo[], dataLength: number): SafetensorsError | undefined => {
  const sorted = [...entries].sort(
    (a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  )
  let cursor = 0
  let previous: TensorInfo | undefined
  for (const info of sorted) {
    const [begin, end] = info.dataOffsets
    if (begin < cursor && previous !== undefined) {
      const [pb, pe] = previous.dataOffsets
      return fail('overlap', `tensors ${quote(previous.name)} [${pb}, ${pe}] and ${quote(info.name)} [${begin}, ${end}] overlap`)
    }
    if (begin > cursor) {
      return fail('uncovered', `bytes [${cursor}, ${begin}) of the data section belong to no tensor (the reference implementation rejects such files too)`)
    }
    cursor = end
    previous = info
  }
  if (cursor < dataLength) {
    return fail('uncovered', `bytes [${cursor}, ${dataLength}) of the data section belong to no tensor (the reference implementation rejects such files too)`)
  }
  return undefined
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** The message for a duplicate key, in the header's terms (a tensor, its entry, the metadata). */
const duplicateMessage = ({ key, parents }: { readonly key: string; readonly parents: readonly string[] }): string => {
  const where =
    parents.length === 0
      ? key === '__metadata__'
        ? 'the header has two "__metadata__" objects'
        : `the header has two entries for tensor ${quote(key)}`
      : parents.length === 1 && parents[0] === '__metadata__'
        ? `__metadata__ has the key ${quote(key)} twice`
        : parents.length === 1
          ? `tensor ${quote(parents[0]!)} has the field ${quote(key)} twice`
          : `the key ${quote(key)} appears twice inside ${parents.map(quote).join(' → ')}`
  return `duplicate field: ${where} (JSON.parse would keep the last one silently; the reference implementation rejects duplicate fields)`
}

/**
 * Reads and validates the header of a safetensors file without decoding any tensor: the
 * metadata, each tensor's dtype, shape and offsets, and the layout of the data section. Any
 * dtype of the format is accepted here (see {@link decode} for what lamina reads).
 *
 * @example
 * ```ts
 * import { Safetensors, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const bytes = Safetensors.encode({ b: tensor([1, 2, 3]), a: tensor([0.5], { dtype: 'f32' }) })
 * const header = Safetensors.decodeHeader(bytes)
 * assert.ok(header._tag === 'Right')
 * assert.deepStrictEqual(header.right.tensors.map((t) => [t.name, t.dtype, t.shape, t.dataOffsets]), [
 *   ['b', 'F64', [3], [0, 24]],
 *   ['a', 'F32', [1], [24, 28]]
 * ])
 * assert.strictEqual(header.right.dataStart + header.right.dataLength, bytes.length)
 * ```
 */
export const decodeHeader = (input: Uint8Array | ArrayBuffer): Either<SafetensorsError, Header> => {
  try {
    return decodeHeaderUnsafe(input)
  } catch (e) {
    // defensive: every failure above is a Left; anything else (e.g. out of memory) still reaches the caller typed
    return E.left(e instanceof SafetensorsError ? e : fail('input', `unexpected failure while reading the header: ${e instanceof Error ? e.message : String(e)}`))
  }
}

const decodeHeaderUnsafe = (input: unknown): Either<SafetensorsError, Header> => {
  const got = toBytes(input)
  if (E.isLeft(got)) return got
  const bytes = got.right
  if (bytes.length < 8) return E.left(fail('too-short', `the file is ${bytes.length} bytes long, shorter than the 8-byte header length`))
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true)
  if (n > BigInt(MAX_HEADER_BYTES)) {
    return E.left(fail('header-length', `the header length ${n} is over the limit of ${MAX_HEADER_BYTES} bytes`))
  }
  const headerLength = Number(n)
  if (8 + headerLength > bytes.length) {
    return E.left(fail('header-length', `the header length ${headerLength} runs past the end of the file (${bytes.length} bytes: at most ${bytes.length - 8} bytes of header)`))
  }
  let text: string
  try {
    text = utf8.decode(bytes.subarray(8, 8 + headerLength))
  } catch {
    return E.left(fail('header-utf8', `the header (${headerLength} bytes) is not valid UTF-8`))
  }
  // as the reference: the header must start with '{' (no BOM, no leading white space)
  if (!text.startsWith('{')) return E.left(fail('header-object', `the header must be a JSON object starting with '{', got ${quote(text.slice(0, 20))}`))
  if (moreItemsThan(text, MAX_HEADER_ITEMS)) {
    return E.left(
      fail('header-items', `the header has more than ${MAX_HEADER_ITEMS} keys and array items (Safetensors.MAX_HEADER_ITEMS), more than any model file needs`)
    )
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    return E.left(fail('header-json', `the header is not valid JSON: ${e instanceof Error ? e.message.slice(0, 200) : String(e)}`))
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return E.left(fail('header-object', `the header must be a JSON object, got ${describeType(json)}`))
  }
  const duplicate = findDuplicateKey(text)
  if (duplicate !== undefined) return E.left(fail('duplicate', duplicateMessage(duplicate)))
  const dataStart = 8 + headerLength
  const dataLength = bytes.length - dataStart
  let metadata: Readonly<Record<string, string>> = nullRecord([])
  const tensors: TensorInfo[] = []
  for (const name of Object.keys(json)) {
    const value = (json as Record<string, unknown>)[name]
    if (name === '__metadata__') {
      const parsed = parseMetadata(value)
      if (E.isLeft(parsed)) return parsed
      metadata = parsed.right
      continue
    }
    const bad = checkName(name, 'tensor name')
    if (bad) return E.left(bad)
    const entry = parseEntry(name, value, dataLength)
    if (E.isLeft(entry)) return entry
    tensors.push(entry.right)
  }
  const layout = checkLayout(tensors, dataLength)
  if (layout) return E.left(layout)
  return E.right({ metadata, tensors: Object.freeze(tensors), dataStart, dataLength })
}
