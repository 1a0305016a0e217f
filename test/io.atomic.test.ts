/**
 * Atomic saves (`src/io/atomic.ts`): a save writes a temporary file beside the target,
 * flushes it, renames it over the target and flushes the folder, so an interrupted save
 * never destroys the last good file.
 *
 * - writes and replaces, text and bytes, sync and async, keeping an existing file's mode and
 *   following symbolic links;
 * - a failing save (missing folder, target is a folder) leaves the target as it was and no
 *   temporary file;
 * - concurrent saves to one target: the result is one complete version, nothing left over;
 * - the kill test: a child process saves a ~11 MB file over and over to one target and is
 *   SIGKILLed at random moments (most of them inside a save); after every kill the
 *   target parses, its checksum is that of a complete version, and that version is the last
 *   one the child finished or the one it was writing, never older than the file before.
 */
import { spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { fc, test } from '@fast-check/vitest'
import { LaminaError } from 'lamina-nn'
import { TargetError, WriteError, checkTarget, isTempFile, removeTempFiles, writeFileAtomic, writeFileAtomicSync } from '../src/io/atomic.js'
import { checkFile, sha256, versionBytes } from './fixtures-gen/atomic-payload.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const folders: string[] = []
const scratch = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'lamina-atomic-'))
  folders.push(dir)
  return dir
}
afterAll(() => folders.forEach((d) => rmSync(d, { recursive: true, force: true })))

const temps = (dir: string, name: string): string[] => readdirSync(dir).filter((f) => isTempFile(f, name))

describe('writeFileAtomic', () => {
  it('writes a new file and replaces an existing one, text and bytes, async and sync', async () => {
    const dir = scratch()
    const file = join(dir, 'model.json')
    await writeFileAtomic(file, '{"v": 1}')
    expect(readFileSync(file, 'utf8')).toBe('{"v": 1}')
    await writeFileAtomic(file, Uint8Array.from([0, 255, 7]))
    expect([...readFileSync(file)]).toEqual([0, 255, 7])
    writeFileAtomicSync(file, 'ünïcödé ✓')
    expect(readFileSync(file, 'utf8')).toBe('ünïcödé ✓')
    writeFileAtomicSync(file, new Uint8Array(0))
    expect(readFileSync(file).length).toBe(0)
    expect(readdirSync(dir)).toEqual(['model.json'])
  })

  test.prop([fc.array(fc.uint8Array({ maxLength: 5000 }), { minLength: 1, maxLength: 5 }), fc.boolean()], { numRuns: 30 })(
    'the file holds exactly the last contents written, and nothing else is left',
    async (versions, sync) => {
      const dir = scratch()
      const file = join(dir, 'data.bin')
      for (const v of versions) {
        if (sync) writeFileAtomicSync(file, v)
        else await writeFileAtomic(file, v)
      }
      const last = versions[versions.length - 1]!
      return Buffer.from(readFileSync(file)).equals(Buffer.from(last)) && readdirSync(dir).length === 1
    }
  )

  it('keeps the mode of the file it replaces, and gives a new file the requested mode', async () => {
    const dir = scratch()
    const file = join(dir, 'secret.json')
    writeFileSync(file, 'old')
    chmodSync(file, 0o600)
    await writeFileAtomic(file, 'new')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    writeFileAtomicSync(file, 'newer')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const fresh = join(dir, 'fresh.json')
    await writeFileAtomic(fresh, 'x', { mode: 0o640 })
    expect(statSync(fresh).mode & 0o777).toBe(0o640)
  })

  it('replaces the file a symbolic link points to, and keeps the link', async () => {
    const dir = scratch()
    const real = join(dir, 'real.json')
    const link = join(dir, 'link.json')
    writeFileSync(real, 'old')
    symlinkSync(real, link)
    await writeFileAtomic(link, 'new')
    expect(lstatSync(link).isSymbolicLink()).toBe(true)
    expect(readFileSync(real, 'utf8')).toBe('new')
  })

  it('fails with a WriteError, leaves the target as it was and removes its temporary file', async () => {
    const dir = scratch()
    // the target is a folder: the temporary file is written, then the rename fails (EISDIR)
    const taken = join(dir, 'taken')
    mkdirSync(taken)
    writeFileSync(join(taken, 'inside.txt'), 'keep')
    const error = await writeFileAtomic(taken, 'x'.repeat(100_000)).then(
      () => undefined,
      (e: unknown) => e
    )
    expect(error).toBeInstanceOf(WriteError)
    expect(error).toBeInstanceOf(LaminaError)
    expect((error as WriteError).path).toBe(taken)
    expect((error as WriteError).message).toMatch(/^writeFileAtomic: cannot write .*taken: E[A-Z]+/)
    expect(statSync(taken).isDirectory()).toBe(true)
    expect(readFileSync(join(taken, 'inside.txt'), 'utf8')).toBe('keep')
    expect(temps(dir, 'taken')).toEqual([])
    expect(() => writeFileAtomicSync(taken, 'x')).toThrow(WriteError)
    expect(readdirSync(dir)).toEqual(['taken'])
    // the folder does not exist: nothing is created
    const missing = join(dir, 'no', 'such', 'folder', 'x.json')
    await expect(writeFileAtomic(missing, 'x')).rejects.toThrow(WriteError)
    expect(() => writeFileAtomicSync(missing, 'x')).toThrow(/ENOENT/)
    expect(existsSync(join(dir, 'no'))).toBe(false)
  })

  it('concurrent saves to one target leave one complete version and no temporary file', async () => {
    const dir = scratch()
    const file = join(dir, 'model.json')
    const versions = Array.from({ length: 16 }, (_, v) => versionBytes(v, 50_000 + v))
    await Promise.all(versions.map((bytes) => writeFileAtomic(file, bytes)))
    const result = checkFile(readFileSync(file))
    expect(result.ok).toBe(true)
    expect(readdirSync(dir)).toEqual(['model.json'])
  })

  it('names its temporary files so they can be recognised (and never mistaken for the target)', () => {
    expect(isTempFile('.model.json.123.0123456789ab.tmp', 'model.json')).toBe(true)
    expect(isTempFile('model.json', 'model.json')).toBe(false)
    expect(isTempFile('.model.json.123.0123456789ab.tmp', 'other.json')).toBe(false)
    expect(isTempFile('.modelXjson.123.0123456789ab.tmp', 'model.json')).toBe(false)
  })
})

// ================================================================ before a save: checkTarget; after an abandoned one: removeTempFiles

describe('checkTarget (issue 13: output paths checked before the work, not after)', () => {
  const refused = (path: string): string => {
    try {
      checkTarget(path)
    } catch (e) {
      expect(e).toBeInstanceOf(WriteError)
      expect((e as WriteError).cause).toBeInstanceOf(TargetError)
      return ((e as WriteError).cause as Error).message
    }
    throw new Error(`checkTarget accepted ${JSON.stringify(path)}`)
  }

  it('returns the canonical file a save would replace: symbolic links resolved, in the target and in its folder', () => {
    const dir = realpathSync(scratch())
    mkdirSync(join(dir, 'real'))
    symlinkSync(join(dir, 'real'), join(dir, 'alias'))
    writeFileSync(join(dir, 'real', 'data.json'), '{}')
    symlinkSync(join(dir, 'real', 'data.json'), join(dir, 'link.json'))
    expect(checkTarget(join(dir, 'alias', 'new.bin'))).toBe(join(dir, 'real', 'new.bin'))
    expect(checkTarget(join(dir, 'link.json'))).toBe(join(dir, 'real', 'data.json'))
    expect(checkTarget(join(dir, 'alias', '..', 'alias', 'data.json'))).toBe(join(dir, 'real', 'data.json'))
    expect(readdirSync(dir).sort()).toEqual(['alias', 'link.json', 'real']) // nothing written
  })

  it('refuses, naming why: empty, a folder, a trailing separator, a missing or non-folder parent, a device', () => {
    const dir = realpathSync(scratch())
    writeFileSync(join(dir, 'file'), 'x')
    expect(refused('')).toBe('the path is empty')
    expect(refused(dir)).toBe(`${dir} is a folder`)
    expect(refused(join(dir, 'new') + '/')).toBe('the path ends in a separator, so it names a folder, not a file')
    expect(refused(join(dir, 'missing', 'model.bin'))).toBe(`the folder ${join(dir, 'missing')} does not exist`)
    expect(refused(join(dir, 'file', 'model.bin'))).toMatch(/not a folder/)
    if (existsSync('/dev/null')) expect(refused('/dev/null')).toBe('/dev/null is not a regular file (a device, a FIFO or a socket)')
  })

  it.skipIf(process.platform === 'win32' || process.getuid?.() === 0)('refuses a folder it cannot write to', () => {
    const dir = realpathSync(scratch())
    mkdirSync(join(dir, 'locked'))
    chmodSync(join(dir, 'locked'), 0o500)
    try {
      expect(refused(join(dir, 'locked', 'model.bin'))).toBe(`the folder ${join(dir, 'locked')} is not writable`)
    } finally {
      chmodSync(join(dir, 'locked'), 0o700)
    }
  })
})

describe('removeTempFiles (issue 13: a save abandoned by a second Ctrl-C leaves nothing behind)', () => {
  it("removes this process's temporary files beside the target, and only those", () => {
    const dir = scratch()
    const mine = [`.model.bin.${process.pid}.0123456789ab.tmp`, `.model.bin.${process.pid}.ba9876543210.tmp`]
    const others = [`.model.bin.${process.pid + 1}.0123456789ab.tmp`, `.other.bin.${process.pid}.0123456789ab.tmp`, 'model.bin', `.model.bin.${process.pid}.tmp`]
    for (const f of [...mine, ...others]) writeFileSync(join(dir, f), 'x')
    const removed = removeTempFiles(join(dir, 'model.bin'))
    expect(removed.map((f) => f.slice(f.lastIndexOf('/') + 1)).sort()).toEqual([...mine].sort())
    expect(readdirSync(dir).sort()).toEqual([...others].sort())
    // another process's, when asked by its pid; a folder that does not exist: nothing to do
    expect(removeTempFiles(join(dir, 'model.bin'), process.pid + 1)).toHaveLength(1)
    expect(removeTempFiles(join(dir, 'missing', 'model.bin'))).toEqual([])
  })
})

// ================================================================ the kill test

interface Child {
  readonly lines: string[]
  /** When each line arrived (ms). */
  readonly times: number[]
  readonly exited: Promise<number | null>
  readonly kill: () => void
  /** Resolves when a line satisfying `p` has been printed (or the child has exited). */
  readonly waitFor: (p: (line: string) => boolean) => Promise<void>
}

const startWriter = (target: string, start: number, size: number, mode: 'async' | 'sync'): Child => {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/fixtures-gen/atomic-writer.ts'), target, String(start), String(size), mode], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const lines: string[] = []
  const times: number[] = []
  const waiters: Array<{ p: (line: string) => boolean; resolve: () => void }> = []
  let buffered = ''
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString()
    const parts = buffered.split('\n')
    buffered = parts.pop()!
    for (const line of parts) {
      lines.push(line)
      times.push(performance.now())
      for (const w of waiters.splice(0)) {
        if (w.p(line)) w.resolve()
        else waiters.push(w)
      }
    }
  })
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      waiters.splice(0).forEach((w) => w.resolve())
      if (code !== null && code !== 0) console.error(stderr)
      resolve(code)
    })
  )
  return {
    lines,
    times,
    exited,
    kill: () => child.kill('SIGKILL'),
    waitFor: (p) => (lines.some(p) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ p, resolve })))
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('an interrupted save never destroys the last good file', () => {
  it('SIGKILL at random moments: the target is always one complete version, no older than before', async () => {
    const dir = scratch()
    const name = 'model.json'
    const target = join(dir, name)
    const size = 8_000_000 // payload bytes: the file is ~10.7 MB of JSON
    await writeFileAtomic(target, versionBytes(0, size))
    let previous = 0
    const kills = 12
    let midSave = 0
    let newVersions = 0
    const report: string[] = []
    for (let k = 1; k <= kills; k++) {
      const start = k * 1_000_000
      const child = startWriter(target, start, size, k % 2 === 0 ? 'sync' : 'async')
      // let it finish a save or two (random), then kill it at a random moment: three times
      // in four at a random point of a save (timed by the saves before), else anywhere
      const warm = 1 + Math.floor(Math.random() * 2)
      await child.waitFor((l) => l === `done ${start + warm - 1}`)
      if (k % 4 !== 0) {
        const at = (l: string) => child.times[child.lines.indexOf(l)]!
        const save = at(`done ${start}`) - at(`begin ${start}`)
        await child.waitFor((l) => l === `begin ${start + warm}`)
        await sleep(Math.random() * save)
      } else await sleep(Math.random() * 300)
      child.kill()
      await child.exited
      const done = child.lines.filter((l) => l.startsWith('done ')).map((l) => Number(l.slice(5)))
      const begun = child.lines.filter((l) => l.startsWith('begin ')).map((l) => Number(l.slice(6)))
      const lastDone = done.length > 0 ? Math.max(...done) : previous
      const lastBegun = begun.length > 0 ? Math.max(...begun) : previous
      const bytes = readFileSync(target)
      const check = checkFile(bytes)
      // intact: parses, its payload matches its hash, byte-identical to a complete version
      expect(check, `kill ${k}: ${check.ok ? '' : check.why}`).toEqual({ ok: true, version: expect.any(Number) as number })
      const version = (check as { version: number }).version
      // and the right version: the last finished, or the one being written (renamed before the kill)
      expect([lastDone, lastBegun]).toContain(version)
      expect(version).toBeGreaterThanOrEqual(previous)
      expect(sha256(bytes)).toBe(sha256(versionBytes(version, size)))
      const left = temps(dir, name)
      if (left.length > 0) midSave++
      if (version !== lastDone) newVersions++
      report.push(`kill ${k}: file v${version - start} (last done v${lastDone - start}), ${left.length} temp file(s) left`)
      // the only other files are temporary ones: the target was never replaced by a partial file
      expect(readdirSync(dir).filter((f) => f !== name && !isTempFile(f, name))).toEqual([])
      left.forEach((f) => rmSync(join(dir, f)))
      previous = version
    }
    console.log(`kill test: ${kills} kills, ${midSave} inside a save (temporary file left), ${newVersions} after the rename but before "done"; all intact\n  ${report.join('\n  ')}`)
    expect(midSave).toBeGreaterThan(0)
  }, 180_000)
})
