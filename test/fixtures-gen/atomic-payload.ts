/**
 * The files the atomic-write kill test saves: version `v` of a file is a deterministic JSON
 * document `{ version, size, sha256, payload }` whose payload is `size` pseudo-random bytes
 * (xorshift32 seeded by `v`) in base64, and whose `sha256` is the hash of that payload. So a
 * file read back can be checked on its own (it parses, its payload matches its hash) and
 * against the exact bytes of the version it claims to be.
 */
import { createHash } from 'node:crypto'

export const sha256 = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex')

/** The bytes of version `version` of the file, with a payload of `size` bytes. */
export const versionBytes = (version: number, size: number): Uint8Array => {
  const words = new Uint32Array(Math.ceil(size / 4))
  let s = (Math.imul(version, 2654435761) ^ 0x9e3779b9) >>> 0 || 1
  for (let i = 0; i < words.length; i++) {
    s ^= s << 13
    s >>>= 0
    s ^= s >>> 17
    s ^= s << 5
    s >>>= 0
    words[i] = s
  }
  const payload = Buffer.from(words.buffer, 0, size).toString('base64')
  return new TextEncoder().encode(JSON.stringify({ version, size, sha256: sha256(payload), payload }))
}

/** Checks a file read back: its version when it is a complete, self-consistent version, or why not. */
export const checkFile = (bytes: Uint8Array): { readonly ok: true; readonly version: number } | { readonly ok: false; readonly why: string } => {
  let doc: unknown
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes))
  } catch (e) {
    return { ok: false, why: `not JSON (${bytes.length} bytes): ${(e as Error).message}` }
  }
  const d = doc as { version?: unknown; size?: unknown; sha256?: unknown; payload?: unknown }
  if (typeof d.version !== 'number' || typeof d.size !== 'number' || typeof d.payload !== 'string' || d.sha256 !== sha256(d.payload)) {
    return { ok: false, why: 'fields missing or payload hash mismatch' }
  }
  if (sha256(bytes) !== sha256(versionBytes(d.version, d.size))) return { ok: false, why: `not byte-identical to version ${d.version}` }
  return { ok: true, version: d.version }
}
