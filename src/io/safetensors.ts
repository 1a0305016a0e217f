/**
 * The safetensors format, so that weights move between lamina, PyTorch and JAX: an 8-byte
 * little-endian header length `N`, `N` bytes of UTF-8 JSON
 * (`{ "__metadata__"?: { key: string }, name: { dtype, shape, data_offsets: [begin, end] } }`),
 * then the raw little-endian data, each tensor at its offsets relative to the data section.
 *
 * Everything here works on bytes (`Uint8Array`, `ArrayBuffer`), in Node and in a browser; file
 * I/O belongs to the checkpoint module.
 *
 * Reading ({@link decode}) validates every field before it touches the data and fails with a
 * {@link SafetensorsError} naming the tensor and the value: it never reads out of bounds,
 * never throws anything else, never executes code and never pollutes a prototype (the
 * results are null-prototype objects, and the names `__proto__`, `constructor`, `prototype`
 * are rejected). It accepts exactly what the reference implementation (safetensors 0.8)
 * accepts, except where noted on {@link decode}. Writing ({@link encode}) produces what the
 * reference writer produces.
 *
 * @example
 * ```ts
 * import { Safetensors, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const bytes = Safetensors.encode({ w: tensor([[1, 2], [3, 4]], { dtype: 'f32' }) }, { format: 'lamina' })
 * const { tensors, metadata } = Safetensors.read(bytes)
 * assert.deepStrictEqual(tensors.w!.toArray(), [[1, 2], [3, 4]])
 * assert.strictEqual(metadata.format, 'lamina')
 * ```
 *
 * @module
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Either } from 'fp-ts/lib/Either.js'
import { LaminaError } from '../error.js'
import { Tensor, allocate, concreteBuffer, fromOwnedBuffer } from '../tensor.js'
import type { DType } from '../tensor.js'

// ---------------------------------------------------------------- errors

/**
 * Which rule a file (or a tree, or a state dict) broke; the message says the rest.
 *
 * - `input`: not a `Uint8Array`/`ArrayBuffer` (or, for {@link encode}, not tensors / not string metadata)
 * - `too-short`: fewer than the 8 bytes of the header length
 * - `header-length`: the header length runs past the end of the file, or is over {@link MAX_HEADER_BYTES}
 * - `header-utf8`, `header-json`, `header-object`: the header is not UTF-8, not JSON, not an object
 * - `duplicate`: a key appears twice in one JSON object of the header (`__metadata__`, a tensor name, `dtype`, …)
 * - `header-items`: the header has more than {@link MAX_HEADER_ITEMS} keys and array items in all
 * - `key`: a forbidden or malformed name (`__proto__`, `constructor`, `prototype`, a lone surrogate)
 * - `metadata`: `__metadata__` is not an object of strings
 * - `entry`: a tensor entry with missing, unknown or mistyped fields
 * - `dtype`: an unknown dtype; `unsupported-dtype`: a known one lamina does not read
 * - `shape`: a dimension that is not a safe non-negative integer, or too many elements
 * - `offsets`: offsets that are not integers, reversed, or outside the data section
 * - `size`: offsets that do not span dtype size × number of elements
 * - `overlap`: two tensors share bytes; `uncovered`: data bytes that belong to no tensor
 * - `value`: an I64 value that is not a safe integer
 * - `tree`: {@link fromTree}/{@link toTree}: a name missing, unexpected, or of the wrong shape or dtype
 * - `torch`: {@link fromTorchLinear}: a name that is not a Linear weight or bias, or a bad pair
 */
export type SafetensorsErrorReason =
  | 'input'
  | 'too-short'
  | 'header-length'
  | 'header-utf8'
  | 'header-json'
  | 'header-object'
  | 'duplicate'
  | 'header-items'
  | 'key'
  | 'metadata'
  | 'entry'
  | 'dtype'
  | 'unsupported-dtype'
  | 'shape'
  | 'offsets'
  | 'size'
  | 'overlap'
  | 'uncovered'
  | 'value'
  | 'tree'
  | 'torch'

/**
 * A safetensors file, a tree or a state dict that cannot be read or written. `reason` says
 * which rule was broken; the message names the tensor and the offending value.
 *
 * @example
 * ```ts
 * import { Safetensors, LaminaError } from 'lamina-nn'
 * import assert from 'node:assert'
 * const result = Safetensors.decode(new Uint8Array([1, 2, 3]))
 * assert.ok(result._tag === 'Left')
 * assert.ok(result.left instanceof Safetensors.SafetensorsError && result.left instanceof LaminaError)
 * assert.strictEqual(result.left.reason, 'too-short')
 * assert.strictEqual(result.left.message, 'safetensors: the file is 3 bytes long, shorter than the 8-byte header length')
 * ```
 */
export class SafetensorsError extends LaminaError {
  override name = 'SafetensorsError'
  constructor(
    readonly reason: SafetensorsErrorReason,
    message: string
  ) {
    super(message)
  }
}

const fail = (reason: SafetensorsErrorReason, message: string): SafetensorsError => new SafetensorsError(reason, `safetensors: ${message}`)

/** A string for a message: JSON-quoted, cut to a readable length (names in a file can be huge). */
const quote = (s: string): string => JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s)

/** A JSON value for a message, cut to a readable length. */
const showValue = (v: unknown): string => {
  let text: string
  try {
    text = JSON.stringify(v) ?? String(v)
  } catch {
    text = String(v)
  }
  return text.length > 80 ? `${text.slice(0, 80)}…` : text
}

const describeType = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `${typeof v} ${showValue(v)}`)

// ---------------------------------------------------------------- dtypes

/**
 * The dtypes of the safetensors format (0.8) and their sizes in bits. Lamina reads `F64`,
 * `F32`, `F16`, `BF16` and `I64` (see {@link decode}); the others are known so that their
 * layout is checked and the error says "not supported" rather than "unknown".
 */
export type FileDType =
  | 'BOOL'
  | 'U8'
  | 'I8'
  | 'F8_E5M2'
  | 'F8_E4M3'
  | 'F8_E8M0'
  | 'F4'
  | 'F6_E2M3'
  | 'F6_E3M2'
  | 'I16'
  | 'U16'
  | 'F16'
  | 'BF16'
  | 'I32'
  | 'U32'
  | 'F32'
  | 'I64'
  | 'U64'
  | 'F64'
  | 'C64'

const BITS: ReadonlyMap<string, number> = new Map<FileDType, number>([
  ['BOOL', 8],
  ['U8', 8],
  ['I8', 8],
  ['F8_E5M2', 8],
  ['F8_E4M3', 8],
  ['F8_E8M0', 8],
  ['F4', 4],
  ['F6_E2M3', 6],
  ['F6_E3M2', 6],
  ['I16', 16],
  ['U16', 16],
  ['F16', 16],
  ['BF16', 16],
  ['I32', 32],
  ['U32', 32],
  ['F32', 32],
  ['I64', 64],
  ['U64', 64],
  ['F64', 64],
  ['C64', 64]
])

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

// ---------------------------------------------------------------- half floats

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/**
 * The value of an IEEE 754 binary16 (`F16`) bit pattern, exactly: normals are
 * `±(1024 + m)·2^(e−25)`, subnormals `±m·2^−24`, exponent 31 is ±∞ (`m = 0`) or NaN.
 *
 * @example
 * ```ts
 * import { Safetensors } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Safetensors.halfToNumber(0x3c00), 1)
 * assert.strictEqual(Safetensors.halfToNumber(0x7bff), 65504)      // the largest half
 * assert.strictEqual(Safetensors.halfToNumber(0x0001), 2 ** -24)   // the smallest subnormal
 * assert.strictEqual(Safetensors.halfToNumber(0xfc00), -Infinity)
 * assert.ok(Number.isNaN(Safetensors.halfToNumber(0x7e00)))
 * assert.ok(Object.is(Safetensors.halfToNumber(0x8000), -0))
 * ```
 */
export const halfToNumber = (bits: number): number => {
  const sign = bits & 0x8000 ? -1 : 1
  const exponent = (bits >>> 10) & 0x1f
  const mantissa = bits & 0x3ff
  if (exponent === 0) return sign * mantissa * 2 ** -24
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN
  return sign * (1024 + mantissa) * 2 ** (exponent - 25)
}

const scratchF32 = new Float32Array(1)
const scratchU32 = new Uint32Array(scratchF32.buffer)

/**
 * The value of a bfloat16 (`BF16`) bit pattern: the upper half of a float32, so the value is
 * that float32 with 16 zero bits appended, exactly.
 *
 * @example
 * ```ts
 * import { Safetensors } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Safetensors.bfloat16ToNumber(0x3f80), 1)
 * assert.strictEqual(Safetensors.bfloat16ToNumber(0x3eab), 0.333984375)
 * assert.strictEqual(Safetensors.bfloat16ToNumber(0xff80), -Infinity)
 * ```
 */
export const bfloat16ToNumber = (bits: number): number => {
  scratchU32[0] = (bits & 0xffff) << 16
  return scratchF32[0]!
}

// ---------------------------------------------------------------- names

const FORBIDDEN: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype'])
const LONE_SURROGATE = /[\uD800-\uDFFF]/u
const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k)

/**
 * Checks a tensor name or metadata key: not `__proto__`, `constructor` or `prototype`, not with
 * such a dotted segment (names become tree paths), well-formed Unicode.
 */
const checkName = (name: string, what: string): SafetensorsError | undefined => {
  if (FORBIDDEN.has(name) || name.split('.').some((s) => FORBIDDEN.has(s))) {
    return fail('key', `${what} ${quote(name)} is not allowed (the names __proto__, constructor and prototype are rejected, also as a dotted segment)`)
  }
  if (LONE_SURROGATE.test(name)) return fail('key', `${what} ${quote(name)} contains a lone UTF-16 surrogate`)
  return undefined
}

/** A frozen record without a prototype, so no key can reach `Object.prototype`. */
const nullRecord = <V>(entries: ReadonlyArray<readonly [string, V]>): Readonly<Record<string, V>> => {
  const out = Object.create(null) as Record<string, V>
  for (const [k, v] of entries) Object.defineProperty(out, k, { value: v, enumerable: true, writable: false, configurable: false })
  return Object.freeze(out)
}

// ---------------------------------------------------------------- header

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

/** Whether `text` (JSON) has more than `limit` keys and array items: one pass, counting the `:` and `,` outside strings, no allocation. */
const moreItemsThan = (text: string, limit: number): boolean => {
  let count = 0
  const n = text.length
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22) {
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i)
        if (d === 0x5c) i++
        else if (d === 0x22) break
      }
    } else if ((c === 0x3a || c === 0x2c) && ++count > limit) return true
  }
  return false
}

/**
 * The first key that appears twice in one object of `text`, valid JSON (it has been parsed),
 * with where it is: `JSON.parse` keeps the last of two equal keys without a word, while the
 * reference (serde) rejects a duplicate field. One pass over the text, no recursion; keys
 * are compared by value (`"a"` and `"\u0061"` are the same key), as serde compares them.
 */
const findDuplicateKey = (text: string): { readonly key: string; readonly parents: readonly string[] } | undefined => {
  // one frame per open object (its keys so far, and the key it sits under) or array (null)
  const frames: Array<{ readonly keys: Set<string>; readonly under: string | undefined } | null> = []
  let expectKey = false
  let lastKey: string | undefined
  const n = text.length
  let i = 0
  while (i < n) {
    const c = text.charCodeAt(i)
    if (c === 0x22) {
      // a string: find its closing quote (skipping escapes)
      let j = i + 1
      let escaped = false
      for (; j < n; j++) {
        const d = text.charCodeAt(j)
        if (d === 0x5c) {
          escaped = true
          j++
        } else if (d === 0x22) break
      }
      const top = frames[frames.length - 1]
      if (expectKey && top) {
        const key = escaped ? (JSON.parse(text.slice(i, j + 1)) as string) : text.slice(i + 1, j)
        if (top.keys.has(key)) {
          const parents = frames.filter((f) => f !== null && f.under !== undefined).map((f) => f!.under!)
          return { key, parents }
        }
        top.keys.add(key)
        lastKey = key
        expectKey = false
      }
      i = j + 1
      continue
    }
    if (c === 0x7b) {
      // '{': keys follow; the object sits under the last key read in an enclosing object
      const parent = frames[frames.length - 1]
      frames.push({ keys: new Set(), under: parent ? lastKey : undefined })
      expectKey = true
    } else if (c === 0x5b) {
      frames.push(null)
      expectKey = false
    } else if (c === 0x7d || c === 0x5d) {
      frames.pop()
      expectKey = false
    } else if (c === 0x2c) {
      expectKey = frames[frames.length - 1] != null
    }
    i++
  }
  return undefined
}

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

// ---------------------------------------------------------------- decode

/** A decoded file: its tensors (by name) and its metadata, both null-prototype frozen records. */
export interface Decoded {
  readonly tensors: Readonly<Record<string, Tensor>>
  readonly metadata: Readonly<Record<string, string>>
}

/** The lamina dtype each readable file dtype becomes. */
const TARGET: ReadonlyMap<string, DType> = new Map<FileDType, DType>([
  ['F64', 'f64'],
  ['F32', 'f32'],
  ['F16', 'f32'],
  ['BF16', 'f32'],
  ['I64', 'f64']
])

/**
 * The lamina dtype a file dtype decodes to (`F64` and `I64` → `f64`; `F32`, `F16` and `BF16`
 * → `f32`), or `undefined` for a dtype lamina does not read.
 *
 * @example
 * ```ts
 * import { Safetensors } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Safetensors.dtypeOf('F16'), 'f32')
 * assert.strictEqual(Safetensors.dtypeOf('I64'), 'f64')
 * assert.strictEqual(Safetensors.dtypeOf('U8'), undefined)
 * ```
 */
export const dtypeOf = (dtype: FileDType): DType | undefined => TARGET.get(dtype)

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

// ---------------------------------------------------------------- encode

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

// ---------------------------------------------------------------- trees

const isPlainRecord = (x: unknown): x is Record<string, unknown> => {
  if (typeof x !== 'object' || x === null) return false
  const proto: unknown = Object.getPrototypeOf(x)
  return proto === Object.prototype || proto === null
}

/** Visits the tensors of a tree with their dotted names; throws a `tree` error naming the path. */
const walk = (tree: unknown, op: string, visit: (name: string, t: Tensor) => void): void => {
  const go = (node: unknown, path: string): void => {
    if (node instanceof Tensor) {
      if (path === '') throw fail('tree', `${op}: the root is a single tensor; give it a name with a record, e.g. { w: tensor }`)
      visit(path, node)
      return
    }
    const step = (key: string, child: unknown) => {
      if (key === '' || key.includes('.')) throw fail('tree', `${op}: key ${quote(key)} at ${quote(path || '(root)')} cannot be part of a dotted name`)
      if (FORBIDDEN.has(key)) throw fail('key', `${op}: key ${quote(key)} at ${quote(path || '(root)')} is not allowed`)
      go(child, path === '' ? key : `${path}.${key}`)
    }
    if (Array.isArray(node)) {
      node.forEach((child, i) => step(String(i), child))
      return
    }
    if (isPlainRecord(node)) {
      for (const key of Object.keys(node)) step(key, node[key])
      return
    }
    throw fail('tree', `${op}: expected a tensor, an array or a plain record at ${quote(path || '(root)')}, got ${node === null ? 'null' : typeof node === 'object' ? ((node as object).constructor?.name ?? 'object') : typeof node}`)
  }
  go(tree, '')
}

/**
 * Flattens a tree of parameters into dotted names, the names PyTorch and JAX users see:
 * `{ layers: [{ w, b }, {}, { w, b }] }` gives `layers.0.w`, `layers.0.b`, `layers.2.w`,
 * `layers.2.b` (empty records and arrays give nothing). Throws a {@link SafetensorsError}
 * naming the path of a leaf that is not a tensor, or of a key that is empty or contains a dot.
 *
 * @example
 * ```ts
 * import { Layer, Layers, Random, Safetensors } from 'lamina-nn'
 * import assert from 'node:assert'
 * const mlp = Layer.sequential(Layers.dense(4, 8), Layers.tanh(), Layers.dense(8, 3))
 * const named = Safetensors.fromTree(mlp.init(Random.key(0)))
 * assert.deepStrictEqual(Object.keys(named), ['layers.0.w', 'layers.0.b', 'layers.2.w', 'layers.2.b'])
 * assert.deepStrictEqual(named['layers.2.w']!.shape, [8, 3])
 * ```
 */
export const fromTree = (params: unknown): Readonly<Record<string, Tensor>> => {
  const out: Array<readonly [string, Tensor]> = []
  walk(params, 'fromTree', (name, t) => out.push([name, t]))
  return nullRecord(out)
}

/** Options of {@link toTree}. */
export interface ToTreeOptions {
  /** Accept tensors the tree does not name (default `false`: they are an error). */
  readonly allowExtra?: boolean
}

const isDecoded = (x: object): x is Decoded =>
  hasOwn(x, 'tensors') && hasOwn(x, 'metadata') && !((x as Record<string, unknown>).tensors instanceof Tensor)

/**
 * The inverse of {@link fromTree}: the tree shaped like `like` (e.g. `model.init(key)`) whose
 * tensor at each dotted name comes from `source` (a {@link Decoded} file or a record of named
 * tensors). Every name `like` has must be present with the same shape and dtype, and (unless
 * `allowExtra`) `source` must have no other tensors; a `Left` names the path otherwise.
 *
 * @example
 * ```ts
 * import { Layer, Layers, Random, Safetensors } from 'lamina-nn'
 * import assert from 'node:assert'
 * const mlp = Layer.sequential(Layers.dense(4, 8), Layers.tanh(), Layers.dense(8, 3))
 * const params = mlp.init(Random.key(1))
 * const file = Safetensors.read(Safetensors.encode(Safetensors.fromTree(params)))
 * const back = Safetensors.toTree(file, mlp.init(Random.key(2)))
 * assert.ok(back._tag === 'Right')
 * assert.deepStrictEqual(back.right.layers[2].w.toArray(), params.layers[2].w.toArray())
 *
 * const wrong = Safetensors.toTree(file, Layer.sequential(Layers.dense(4, 5)).init(Random.key(0)))
 * assert.ok(wrong._tag === 'Left')
 * assert.strictEqual(wrong.left.message, 'safetensors: toTree: tensor "layers.0.w" has shape [4,8] in the file, expected [4,5]')
 * ```
 */
export const toTree = <T>(source: Decoded | Readonly<Record<string, Tensor>>, like: T, options?: ToTreeOptions): Either<SafetensorsError, T> => {
  try {
    if (typeof source !== 'object' || source === null) return E.left(fail('input', `toTree: expected decoded tensors, got ${describeType(source)}`))
    const named: object = isDecoded(source) ? source.tensors : source
    const used = new Set<string>()
    const leaves: Tensor[] = []
    walk(like, 'toTree', (name, expected) => {
      const found: unknown = hasOwn(named, name) ? (named as Record<string, unknown>)[name] : undefined
      if (found === undefined) throw fail('tree', `toTree: tensor ${quote(name)} is missing from the file`)
      if (!(found instanceof Tensor)) throw fail('tree', `toTree: ${quote(name)} is not a tensor`)
      const t: Tensor = found
      if (t.shape.length !== expected.shape.length || t.shape.some((d, i) => d !== expected.shape[i])) {
        throw fail('tree', `toTree: tensor ${quote(name)} has shape [${t.shape.join(',')}] in the file, expected [${expected.shape.join(',')}]`)
      }
      if (t.dtype !== expected.dtype) throw fail('tree', `toTree: tensor ${quote(name)} has dtype ${t.dtype} in the file, expected ${expected.dtype}`)
      used.add(name)
      leaves.push(t)
    })
    if (!options?.allowExtra) {
      const extra = Object.keys(named).filter((k) => !used.has(k))
      if (extra.length > 0) {
        const shown = extra.slice(0, 5).map(quote).join(', ') + (extra.length > 5 ? `, … (${extra.length} in all)` : '')
        return E.left(fail('tree', `toTree: the file has tensors the tree does not name: ${shown}`))
      }
    }
    // rebuild `like` with the file's tensors, in the same walk order
    let next = 0
    const rebuild = (node: unknown): unknown => {
      if (node instanceof Tensor) return leaves[next++]
      if (Array.isArray(node)) return node.map(rebuild)
      const out: Record<string, unknown> = {}
      for (const key of Object.keys(node as object)) {
        Object.defineProperty(out, key, { value: rebuild((node as Record<string, unknown>)[key]), enumerable: true })
      }
      return out
    }
    return E.right(rebuild(like) as T)
  } catch (e) {
    if (e instanceof SafetensorsError) return E.left(e)
    throw e
  }
}

// ---------------------------------------------------------------- PyTorch

/** Options of {@link fromTorchLinear}. */
export interface TorchLinearOptions {
  /** Put before every lamina name (default `'layers.'`, for a `sequential`; `''` for a bare `dense`). */
  readonly prefix?: string
}

/**
 * Maps a PyTorch state dict of `Linear` layers (`N.weight: [out, in]`, `N.bias: [out]`, for
 * y = x·Wᵀ + b) to lamina dense names (`layers.N.w: [in, out]`, transposed, and
 * `layers.N.b: [out]`, for y = x·w + b), ready for {@link toTree}. A PyTorch
 * `Sequential(Linear(4, 8), Tanh(), Linear(8, 3))` and lamina's
 * `sequential(dense(4, 8), tanh(), dense(8, 3))` number their layers the same way. A `Left`
 * names any tensor that is not a rank-2 weight with a matching rank-1 bias.
 *
 * @example
 * ```ts
 * import { Safetensors, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * // Linear(2, 3): weight [3, 2], bias [3]
 * const state = { '0.weight': tensor([[1, 2], [3, 4], [5, 6]], { dtype: 'f32' }), '0.bias': tensor([0, 0, 1], { dtype: 'f32' }) }
 * const named = Safetensors.fromTorchLinear(state)
 * assert.ok(named._tag === 'Right')
 * assert.deepStrictEqual(named.right['layers.0.w']!.toArray(), [[1, 3, 5], [2, 4, 6]])
 * assert.deepStrictEqual(named.right['layers.0.b']!.toArray(), [0, 0, 1])
 * ```
 */
export const fromTorchLinear = (
  stateDict: Decoded | Readonly<Record<string, Tensor>>,
  options?: TorchLinearOptions
): Either<SafetensorsError, Readonly<Record<string, Tensor>>> => {
  if (typeof stateDict !== 'object' || stateDict === null) return E.left(fail('input', `fromTorchLinear: expected a state dict, got ${describeType(stateDict)}`))
  const named: Readonly<Record<string, unknown>> = isDecoded(stateDict) ? stateDict.tensors : stateDict
  const prefix = options?.prefix ?? 'layers.'
  const layers = new Map<string, { weight?: Tensor; bias?: Tensor }>()
  for (const name of Object.keys(named)) {
    const match = /^(?:(.*)\.)?(weight|bias)$/su.exec(name)
    const t = named[name]
    if (match === null) return E.left(fail('torch', `fromTorchLinear: ${quote(name)} is not the weight or bias of a Linear layer`))
    if (!(t instanceof Tensor)) return E.left(fail('torch', `fromTorchLinear: ${quote(name)} is not a tensor`))
    const stem = match[1] ?? ''
    const slot = layers.get(stem) ?? {}
    layers.set(stem, match[2] === 'weight' ? { ...slot, weight: t } : { ...slot, bias: t })
  }
  const out: Array<readonly [string, Tensor]> = []
  for (const [stem, { weight, bias }] of layers) {
    const torchName = (field: string) => quote(stem === '' ? field : `${stem}.${field}`)
    const laminaName = (field: string) => `${prefix}${stem === '' ? '' : `${stem}.`}${field}`
    if (weight === undefined) return E.left(fail('torch', `fromTorchLinear: ${torchName('bias')} has no matching ${torchName('weight')}`))
    if (bias === undefined) return E.left(fail('torch', `fromTorchLinear: ${torchName('weight')} has no matching ${torchName('bias')} (lamina's dense always has a bias)`))
    if (weight.rank !== 2) return E.left(fail('torch', `fromTorchLinear: ${torchName('weight')} has shape [${weight.shape.join(',')}], expected [out, in]`))
    const [rows, cols] = weight.shape as readonly [number, number]
    if (bias.rank !== 1 || bias.shape[0] !== rows) {
      return E.left(fail('torch', `fromTorchLinear: ${torchName('bias')} has shape [${bias.shape.join(',')}], expected [${rows}] to match ${torchName('weight')} [${rows},${cols}]`))
    }
    if (bias.dtype !== weight.dtype) return E.left(fail('torch', `fromTorchLinear: ${torchName('bias')} is ${bias.dtype} but ${torchName('weight')} is ${weight.dtype}`))
    const src = concreteBuffer(weight)
    const w = allocate(weight.dtype, rows * cols)
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) w[c * rows + r] = src[r * cols + c]!
    const lw = laminaName('w')
    const bad = checkName(lw, 'name')
    if (bad) return E.left(bad)
    out.push([lw, fromOwnedBuffer([cols, rows], weight.dtype, w)], [laminaName('b'), bias])
  }
  return E.right(nullRecord(out))
}
