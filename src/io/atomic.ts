/**
 * Atomic file replacement (Node only: this module imports `node:fs`). A save writes a
 * temporary file in the target's folder, flushes it to disk (`fsync`), renames it over the
 * target (atomic on POSIX file systems: a reader sees the old file or the new one, never a
 * mixture), then flushes the folder so the rename itself survives a power cut. An
 * interrupted save — an exception, a full disk, a killed process — never destroys the last
 * good file; on an error the temporary file is removed.
 *
 * A process killed (SIGKILL) between creating the temporary file and the rename leaves that
 * temporary file behind: it is named `.<target name>.<pid>.<random>.tmp`, beside the target,
 * and never replaces it.
 *
 * @example
 * ```ts
 * import { Atomic } from 'lamina-nn/node'
 * import { mkdtempSync, readFileSync, readdirSync } from 'node:fs'
 * import { tmpdir } from 'node:os'
 * import { join } from 'node:path'
 * import assert from 'node:assert'
 * const dir = mkdtempSync(join(tmpdir(), 'lamina-'))
 * const file = join(dir, 'model.json')
 * await Atomic.writeFileAtomic(file, '{"version": 1}')
 * await Atomic.writeFileAtomic(file, new TextEncoder().encode('{"version": 2}'))
 * assert.strictEqual(readFileSync(file, 'utf8'), '{"version": 2}')
 * assert.deepStrictEqual(readdirSync(dir), ['model.json']) // no temporary file left
 * ```
 *
 * @module
 */
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as fsp from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { LaminaError } from '../error.js'

/**
 * A file could not be written. `path` is the target, `cause` the file-system error
 * (`ENOENT`, `EACCES`, `ENOSPC`, `EISDIR`, …). The target is as it was before the call,
 * unless the error came from flushing the folder after the rename (then the new contents
 * are in place but may not survive a power cut).
 *
 * @example
 * ```ts
 * import { Atomic } from 'lamina-nn/node'
 * import { LaminaError } from 'lamina-nn'
 * import assert from 'node:assert'
 * await assert.rejects(Atomic.writeFileAtomic('/nonexistent-folder/x.bin', 'x'), (e: unknown) =>
 *   e instanceof Atomic.WriteError && e instanceof LaminaError && e.path === '/nonexistent-folder/x.bin')
 * ```
 */
export class WriteError extends LaminaError {
  override name = 'WriteError'
  constructor(
    /** The file that was to be written. */
    readonly path: string,
    cause: unknown
  ) {
    super(`writeFileAtomic: cannot write ${path}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
  }
}

/** Options of {@link writeFileAtomic}. */
export interface WriteOptions {
  /** The file mode of a new file (default `0o666`, less the umask); an existing file keeps its mode. */
  readonly mode?: number
}

/** What can be written: bytes, or text (written as UTF-8). */
export type Contents = Uint8Array | string

const bytesOf = (data: Contents): Uint8Array => (typeof data === 'string' ? new TextEncoder().encode(data) : data)

/**
 * The temporary file for a target: beside it (a rename across file systems is not atomic),
 * hidden, and unique to this process and call.
 */
const tempPath = (target: string): string => join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)

const errorCode = (e: unknown): string | undefined =>
  typeof e === 'object' && e !== null && 'code' in e && typeof (e as { code: unknown }).code === 'string' ? (e as { code: string }).code : undefined

/** Folders cannot be opened or fsynced on some systems (Windows); the rename has happened by then, so these are not failures. */
const IGNORED_DIR_SYNC = new Set(['EISDIR', 'EPERM', 'EACCES', 'EINVAL', 'ENOTSUP', 'EBADF'])

/** The path to replace: a symbolic link's target (so the link survives), or the path itself. */
const realTarget = async (path: string): Promise<string> => {
  try {
    return await fsp.realpath(path)
  } catch (e) {
    if (errorCode(e) === 'ENOENT') return resolve(path)
    throw e
  }
}

const realTargetSync = (path: string): string => {
  try {
    return fs.realpathSync(path)
  } catch (e) {
    if (errorCode(e) === 'ENOENT') return resolve(path)
    throw e
  }
}

const existingMode = async (path: string): Promise<number | undefined> => {
  try {
    return (await fsp.stat(path)).mode & 0o7777
  } catch {
    return undefined
  }
}

const existingModeSync = (path: string): number | undefined => {
  try {
    return fs.statSync(path).mode & 0o7777
  } catch {
    return undefined
  }
}

/**
 * Writes `data` to `path` atomically: a temporary file beside it, `fsync`, a rename over
 * `path`, then an `fsync` of the folder (where the system allows it). Readers, and a later
 * run after a crash, see either the previous contents or the new ones in full. Rejects with
 * a {@link WriteError} when any step fails (the temporary file removed; the target untouched
 * unless only the final flush of the folder failed).
 * A symbolic link is followed: the file it points to is replaced.
 *
 * @example
 * ```ts
 * import { Atomic } from 'lamina-nn/node'
 * import { mkdtempSync, readFileSync, mkdirSync, readdirSync } from 'node:fs'
 * import { tmpdir } from 'node:os'
 * import { join } from 'node:path'
 * import assert from 'node:assert'
 * const dir = mkdtempSync(join(tmpdir(), 'lamina-'))
 * const file = join(dir, 'weights.bin')
 * await Atomic.writeFileAtomic(file, Uint8Array.from([1, 2, 3]))
 * assert.deepStrictEqual([...readFileSync(file)], [1, 2, 3])
 * // a failed save (here: the target is a folder) leaves nothing behind
 * mkdirSync(join(dir, 'taken'))
 * await assert.rejects(Atomic.writeFileAtomic(join(dir, 'taken'), 'x'), Atomic.WriteError)
 * assert.deepStrictEqual(readdirSync(dir).sort(), ['taken', 'weights.bin'])
 * ```
 */
export const writeFileAtomic = async (path: string, data: Contents, options?: WriteOptions): Promise<void> => {
  let temp: string | undefined
  try {
    const target = await realTarget(path)
    const existing = await existingMode(target)
    temp = tempPath(target)
    const handle = await fsp.open(temp, 'wx', existing ?? options?.mode ?? 0o666)
    try {
      if (existing !== undefined) await handle.chmod(existing) // exactly, whatever the umask
      await handle.writeFile(bytesOf(data))
      await handle.sync()
    } finally {
      await handle.close()
    }
    await fsp.rename(temp, target)
    temp = undefined
    await syncFolder(dirname(target))
  } catch (e) {
    if (temp !== undefined) await fsp.rm(temp, { force: true }).catch(() => undefined)
    throw e instanceof WriteError ? e : new WriteError(path, e)
  }
}

const syncFolder = async (folder: string): Promise<void> => {
  let handle: fsp.FileHandle | undefined
  try {
    handle = await fsp.open(folder, 'r')
    await handle.sync()
  } catch (e) {
    const code = errorCode(e)
    if (code === undefined || !IGNORED_DIR_SYNC.has(code)) throw e
  } finally {
    await handle?.close()
  }
}

/**
 * The synchronous twin of {@link writeFileAtomic}, for scripts and exit handlers: the same
 * steps with the same guarantees; throws a {@link WriteError}.
 *
 * @example
 * ```ts
 * import { Atomic } from 'lamina-nn/node'
 * import { mkdtempSync, readFileSync } from 'node:fs'
 * import { tmpdir } from 'node:os'
 * import { join } from 'node:path'
 * import assert from 'node:assert'
 * const file = join(mkdtempSync(join(tmpdir(), 'lamina-')), 'config.json')
 * Atomic.writeFileAtomicSync(file, '{"epochs": 3}')
 * Atomic.writeFileAtomicSync(file, '{"epochs": 4}')
 * assert.strictEqual(readFileSync(file, 'utf8'), '{"epochs": 4}')
 * ```
 */
export const writeFileAtomicSync = (path: string, data: Contents, options?: WriteOptions): void => {
  let temp: string | undefined
  try {
    const target = realTargetSync(path)
    const existing = existingModeSync(target)
    temp = tempPath(target)
    const fd = fs.openSync(temp, 'wx', existing ?? options?.mode ?? 0o666)
    try {
      if (existing !== undefined) fs.fchmodSync(fd, existing)
      const bytes = bytesOf(data)
      let written = 0
      while (written < bytes.length) written += fs.writeSync(fd, bytes, written, bytes.length - written)
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.renameSync(temp, target)
    temp = undefined
    syncFolderSync(dirname(target))
  } catch (e) {
    if (temp !== undefined) {
      try {
        fs.rmSync(temp, { force: true })
      } catch {
        // nothing more can be done; the target is untouched either way
      }
    }
    throw e instanceof WriteError ? e : new WriteError(path, e)
  }
}

const syncFolderSync = (folder: string): void => {
  let fd: number | undefined
  try {
    fd = fs.openSync(folder, 'r')
    fs.fsyncSync(fd)
  } catch (e) {
    const code = errorCode(e)
    if (code === undefined || !IGNORED_DIR_SYNC.has(code)) throw e
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
  }
}

/**
 * Whether a file name is one of this module's temporary files (`.<name>.<pid>.<hex>.tmp`),
 * e.g. to sweep those a killed process left beside `name`.
 *
 * @example
 * ```ts
 * import { Atomic } from 'lamina-nn/node'
 * import assert from 'node:assert'
 * assert.ok(Atomic.isTempFile('.model.json.4242.0123456789ab.tmp', 'model.json'))
 * assert.ok(!Atomic.isTempFile('model.json', 'model.json'))
 * ```
 */
export const isTempFile = (file: string, name: string): boolean =>
  new RegExp(`^\\.${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.\\d+\\.[0-9a-f]{12}\\.tmp$`).test(file)

/**
 * Why {@link checkTarget} refuses a path: the `cause` of its {@link WriteError}, whose
 * message is the reason alone (for a caller that names the path its own way).
 *
 * @example
 * ```ts
 * import { Atomic } from 'lamina-nn/node'
 * import assert from 'node:assert'
 * assert.throws(() => Atomic.checkTarget(''), (e: unknown) =>
 *   e instanceof Atomic.WriteError && e.cause instanceof Atomic.TargetError && e.cause.message === 'the path is empty')
 * ```
 */
export class TargetError extends LaminaError {
  override name = 'TargetError'
}

const statOrUndefined = (path: string): fs.Stats | undefined => {
  try {
    return fs.statSync(path)
  } catch (e) {
    if (errorCode(e) === 'ENOENT' || errorCode(e) === 'ENOTDIR') return undefined
    throw e
  }
}

/**
 * Checks, before any work is done, that {@link writeFileAtomic} can write `path`, and returns
 * the file it would replace, in canonical form (symbolic links resolved, the folder's too), so
 * that a caller can compare it with its input files. Throws a {@link WriteError} whose cause
 * is a {@link TargetError} saying why not: an empty path, a path ending in a separator, an
 * existing folder or other non-regular file (a device, a FIFO), a folder that does not exist,
 * is not a folder, or cannot be written to. Reads only metadata; writes nothing.
 *
 * @example
 * ```ts
 * import { Atomic } from 'lamina-nn/node'
 * import { mkdtempSync, realpathSync } from 'node:fs'
 * import { tmpdir } from 'node:os'
 * import { join } from 'node:path'
 * import assert from 'node:assert'
 * const dir = realpathSync(mkdtempSync(join(tmpdir(), 'lamina-')))
 * assert.strictEqual(Atomic.checkTarget(join(dir, 'model.safetensors')), join(dir, 'model.safetensors'))
 * assert.throws(() => Atomic.checkTarget(dir), /is a folder/)
 * assert.throws(() => Atomic.checkTarget(join(dir, 'missing', 'model.safetensors')), /does not exist/)
 * assert.throws(() => Atomic.checkTarget(''), /empty/)
 * ```
 */
export const checkTarget = (path: string): string => {
  const refuse = (why: string): never => {
    throw new WriteError(path, new TargetError(why))
  }
  if (path === '') refuse('the path is empty')
  if (/[/\\]$/.test(path)) refuse('the path ends in a separator, so it names a folder, not a file')
  let target: string
  try {
    target = realTargetSync(path)
  } catch (e) {
    return refuse(errorCode(e) === 'ENOTDIR' ? `a part of the path is not a folder` : `${e instanceof Error ? e.message : String(e)}`)
  }
  const existing = statOrUndefined(target)
  if (existing?.isDirectory() === true) refuse(`${target} is a folder`)
  if (existing !== undefined && !existing.isFile()) refuse(`${target} is not a regular file (a device, a FIFO or a socket)`)
  const folder = dirname(target)
  const folderStat = statOrUndefined(folder)
  if (folderStat === undefined) refuse(`the folder ${folder} does not exist`)
  if (folderStat?.isDirectory() !== true) refuse(`${folder} is not a folder`)
  try {
    fs.accessSync(folder, fs.constants.W_OK | fs.constants.X_OK)
  } catch {
    refuse(`the folder ${folder} is not writable`)
  }
  return existing === undefined ? join(fs.realpathSync(folder), basename(target)) : target
}

/**
 * Removes the temporary files that process `pid` (this one by default) left beside `path`
 * (see {@link isTempFile}): for an exit handler that ends a save early, e.g. on a second
 * Ctrl-C. Synchronous; returns the files removed; ignores files it cannot remove.
 *
 * @example
 * ```ts
 * import { Atomic } from 'lamina-nn/node'
 * import { mkdtempSync, writeFileSync, readdirSync } from 'node:fs'
 * import { tmpdir } from 'node:os'
 * import { join } from 'node:path'
 * import assert from 'node:assert'
 * const dir = mkdtempSync(join(tmpdir(), 'lamina-'))
 * writeFileSync(join(dir, `.model.bin.${process.pid}.0123456789ab.tmp`), 'partial')
 * writeFileSync(join(dir, '.model.bin.1.0123456789ab.tmp'), 'another process')
 * assert.strictEqual(Atomic.removeTempFiles(join(dir, 'model.bin')).length, 1)
 * assert.deepStrictEqual(readdirSync(dir), ['.model.bin.1.0123456789ab.tmp'])
 * ```
 */
export const removeTempFiles = (path: string, pid: number = process.pid): string[] => {
  let target: string
  let names: string[]
  try {
    target = realTargetSync(path)
    names = fs.readdirSync(dirname(target))
  } catch {
    return []
  }
  const name = basename(target)
  const own = `.${name}.${pid}.`
  const removed: string[] = []
  for (const file of names) {
    if (!file.startsWith(own) || !isTempFile(file, name)) continue
    try {
      fs.rmSync(join(dirname(target), file), { force: true })
      removed.push(join(dirname(target), file))
    } catch {
      // nothing more can be done
    }
  }
  return removed
}
