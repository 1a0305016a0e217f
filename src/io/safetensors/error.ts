/**
 * `SafetensorsError`, the one error of the safetensors module, and how its messages show
 * names and values.
 *
 * @module
 */
import { LaminaError } from '../../error.js'

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

/** A `SafetensorsError` whose message starts with `safetensors:`. */
export const fail = (reason: SafetensorsErrorReason, message: string): SafetensorsError => new SafetensorsError(reason, `safetensors: ${message}`)

/** A string for a message: JSON-quoted, cut to a readable length (names in a file can be huge). */
export const quote = (s: string): string => JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s)

/** A JSON value for a message, cut to a readable length. */
export const showValue = (v: unknown): string => {
  let text: string
  try {
    text = JSON.stringify(v) ?? String(v)
  } catch {
    text = String(v)
  }
  return text.length > 80 ? `${text.slice(0, 80)}…` : text
}

/** A value's kind for a message (`an object`, `number 3`). */
export const describeType = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `${typeof v} ${showValue(v)}`)
