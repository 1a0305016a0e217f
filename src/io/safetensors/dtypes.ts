/**
 * The dtypes of the format, their sizes, the lamina dtype each readable one becomes, and the
 * exact values of half and bfloat16 bit patterns.
 *
 * @module
 */
import type { DType } from '../../tensor.js'

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

/** The size of each file dtype in bits. */
export const BITS: ReadonlyMap<string, number> = new Map<FileDType, number>([
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

// ---------------------------------------------------------------- half floats

/** Whether this machine is little-endian like the format, so data can be copied as it is. */
export const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

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

/** The lamina dtype each readable file dtype becomes. */
export const TARGET: ReadonlyMap<string, DType> = new Map<FileDType, DType>([
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
