/**
 * Reading an input file safely (Node only): the path must name a regular file (not a
 * folder, not `/dev/zero`, not a FIFO that would block forever, not a socket), and at most a
 * stated number of bytes are read, so a careless or hostile path cannot make lamina read
 * without end. The file is opened without blocking and checked again through its open
 * descriptor, so a path swapped for a FIFO between the check and the open is refused too;
 * a file that grows while it is read (or a `/proc` file that says it is empty) is read up to
 * the limit and refused beyond it.
 *
 * @example
 * ```ts
 * import { ReadFile } from 'lamina-nn/node'
 * import { mkdtempSync, writeFileSync } from 'node:fs'
 * import { tmpdir } from 'node:os'
 * import path from 'node:path'
 * import assert from 'node:assert'
 * const file = path.join(mkdtempSync(path.join(tmpdir(), 'lamina-')), 'spec.json')
 * writeFileSync(file, '{"input": [2], "layers": [{"kind": "relu"}]}')
 * const bytes = ReadFile.readBounded(file, 'spec', ReadFile.MAX_BYTES.spec)
 * assert.ok(bytes._tag === 'Right' && new TextDecoder().decode(bytes.right) === '{"input": [2], "layers": [{"kind": "relu"}]}')
 * const zero = ReadFile.readBounded('/dev/zero', 'model file', ReadFile.MAX_BYTES.model)
 * assert.ok(zero._tag === 'Left' && zero.left.reason === 'not-a-file')
 * ```
 *
 * @module
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs'
import type { Stats } from 'node:fs'
import * as E from 'fp-ts/lib/Either.js'
import type { Either } from 'fp-ts/lib/Either.js'
import { LaminaError } from '../error.js'

/** The kinds of input file lamina's command line reads, each with its own size limit ({@link MAX_BYTES}). */
export type FileKind = 'model' | 'data' | 'spec' | 'config' | 'input'

const MiB = 1024 * 1024

/**
 * The most bytes read from each kind of input file: a model (safetensors) 1 GiB, a dataset
 * or a file of inputs (JSON or CSV text) 256 MiB, a model spec or a training configuration
 * (JSON) 1 MiB. Text files stay well below the longest string JavaScript can hold (about
 * 512 MiB of UTF-16).
 *
 * @example
 * ```ts
 * import { ReadFile } from 'lamina-nn/node'
 * import assert from 'node:assert'
 * assert.strictEqual(ReadFile.MAX_BYTES.model, 2 ** 30)
 * assert.strictEqual(ReadFile.MAX_BYTES.spec, 2 ** 20)
 * ```
 */
export const MAX_BYTES: Readonly<Record<FileKind, number>> = Object.freeze({
  model: 1024 * MiB,
  data: 256 * MiB,
  input: 256 * MiB,
  spec: MiB,
  config: MiB
})

/**
 * Why a file was not read: `missing` (no such path), `folder`, `not-a-file` (a device, a
 * FIFO, a socket), `too-large` (over the limit), `unreadable` (permissions, I/O).
 */
export type ReadFileErrorReason = 'missing' | 'folder' | 'not-a-file' | 'too-large' | 'unreadable'

/**
 * An input file that was not read; `reason` says why and the message names the path.
 *
 * @example
 * ```ts
 * import { ReadFile } from 'lamina-nn/node'
 * import { LaminaError } from 'lamina-nn'
 * import assert from 'node:assert'
 * const r = ReadFile.readBounded('/no/such/file.json', 'data file', 100)
 * assert.ok(r._tag === 'Left' && r.left instanceof ReadFile.ReadFileError && r.left instanceof LaminaError)
 * assert.strictEqual(r.left.reason, 'missing')
 * assert.strictEqual(r.left.message, "data file '/no/such/file.json' does not exist")
 * ```
 */
export class ReadFileError extends LaminaError {
  override name = 'ReadFileError'
  constructor(
    readonly reason: ReadFileErrorReason,
    message: string
  ) {
    super(message)
  }
}

/** What a non-regular file is, in words. */
const whatIs = (st: Stats): string =>
  st.isDirectory()
    ? 'a folder'
    : st.isFIFO()
      ? 'a FIFO (named pipe)'
      : st.isCharacterDevice()
        ? 'a character device'
        : st.isBlockDevice()
          ? 'a block device'
          : st.isSocket()
            ? 'a socket'
            : 'not a regular file'

const notAFile = (file: string, what: string, st: Stats): ReadFileError =>
  st.isDirectory()
    ? new ReadFileError('folder', `${what} '${file}' is a folder, not a file`)
    : new ReadFileError('not-a-file', `${what} '${file}' is ${whatIs(st)}, not a regular file (lamina reads only regular files)`)

const tooLarge = (file: string, what: string, size: string, limit: number): ReadFileError =>
  new ReadFileError('too-large', `${what} '${file}' is ${size} bytes, over the limit of ${limit} bytes`)

const fromErrno = (file: string, what: string, e: unknown): ReadFileError => {
  const code = (e as NodeJS.ErrnoException).code
  if (code === 'ENOENT' || code === 'ENOTDIR') return new ReadFileError('missing', `${what} '${file}' does not exist`)
  if (code === 'EISDIR') return new ReadFileError('folder', `${what} '${file}' is a folder, not a file`)
  return new ReadFileError('unreadable', `cannot read ${what} '${file}': ${e instanceof Error ? e.message : String(e)}`)
}

/** The first read size of a file whose size says 0 (a `/proc` file) or that grows. */
const CHUNK = 64 * 1024

/**
 * The bytes of a regular file of at most `limit` bytes; anything else is a `Left` of
 * {@link ReadFileError} naming the path (`what` says what the file is for, as in
 * `model file 'm.safetensors' does not exist`). Never blocks on a FIFO, never reads more
 * than `limit + 1` bytes, never throws.
 *
 * @example
 * ```ts
 * import { ReadFile } from 'lamina-nn/node'
 * import { mkdtempSync, writeFileSync } from 'node:fs'
 * import { tmpdir } from 'node:os'
 * import path from 'node:path'
 * import assert from 'node:assert'
 * const dir = mkdtempSync(path.join(tmpdir(), 'lamina-'))
 * const file = path.join(dir, 'data.csv')
 * writeFileSync(file, 'a,b,label\n1,2,0\n')
 * const ok = ReadFile.readBounded(file, 'data file', 100)
 * assert.ok(ok._tag === 'Right' && new TextDecoder().decode(ok.right) === 'a,b,label\n1,2,0\n')
 * const big = ReadFile.readBounded(file, 'data file', 8)
 * assert.ok(big._tag === 'Left' && big.left.message === `data file '${file}' is 16 bytes, over the limit of 8 bytes`)
 * const folder = ReadFile.readBounded(dir, 'data file', 100)
 * assert.ok(folder._tag === 'Left' && folder.left.reason === 'folder')
 * ```
 */
export const readBounded = (file: string, what: string, limit: number): Either<ReadFileError, Uint8Array> => {
  let fd: number
  try {
    // stat first: it follows links and never blocks, so a FIFO or a device is refused before any open
    const before = statSync(file)
    if (!before.isFile()) return E.left(notAFile(file, what, before))
    if (before.size > limit) return E.left(tooLarge(file, what, String(before.size), limit))
    // O_NONBLOCK: should the path have become a FIFO since, opening it does not wait for a writer
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0))
  } catch (e) {
    return E.left(fromErrno(file, what, e))
  }
  try {
    const st = fstatSync(fd)
    if (!st.isFile()) return E.left(notAFile(file, what, st))
    if (st.size > limit) return E.left(tooLarge(file, what, String(st.size), limit))
    let buffer = new Uint8Array(st.size)
    let n = 0
    for (;;) {
      if (n === buffer.length) {
        // as long as its size said: is there more (a growing file, a /proc file)? a small probe tells
        const probe = new Uint8Array(Math.min(CHUNK, limit + 1 - n))
        const more = readSync(fd, probe, 0, probe.length, null)
        if (more === 0) break
        const grown = new Uint8Array(Math.min(limit + 1, Math.max(n + more, 2 * n, CHUNK)))
        grown.set(buffer.subarray(0, n))
        grown.set(probe.subarray(0, more), n)
        buffer = grown
        n += more
      } else {
        const read = readSync(fd, buffer, n, buffer.length - n, null)
        if (read === 0) break
        n += read
      }
      if (n > limit) return E.left(tooLarge(file, what, `more than ${limit}`, limit))
    }
    return E.right(n === buffer.length ? buffer : buffer.subarray(0, n))
  } catch (e) {
    return E.left(fromErrno(file, what, e))
  } finally {
    closeSync(fd)
  }
}
