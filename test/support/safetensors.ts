/**
 * A safetensors file written byte by byte, for the dtypes and layouts lamina's own encoder does
 * not write (I64, F16, BF16, …): an 8-byte little-endian header length, the JSON header padded
 * to a multiple of 8, then the tensors' bytes back to back.
 */
export const rawSafetensors = (entries: readonly (readonly [string, string, readonly number[], Uint8Array])[], metadata?: Record<string, string>): Uint8Array => {
  const header: Record<string, unknown> = metadata === undefined ? {} : { __metadata__: metadata }
  let offset = 0
  for (const [name, dtype, shape, bytes] of entries) {
    header[name] = { dtype, shape, data_offsets: [offset, offset + bytes.length] }
    offset += bytes.length
  }
  let text = JSON.stringify(header)
  while ((8 + text.length) % 8 !== 0) text += ' '
  const h = new TextEncoder().encode(text)
  const out = new Uint8Array(8 + h.length + offset)
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true)
  out.set(h, 8)
  let at = 8 + h.length
  for (const [, , , bytes] of entries) {
    out.set(bytes, at)
    at += bytes.length
  }
  return out
}
