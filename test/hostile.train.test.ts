/**
 * Issue 13 ("hostile files, careless input and faults"), the training part: `lamina train`
 * must not lose work nor report failure as success.
 *
 * - 2: an epoch count out of range (`"epochs": 1e12`, `--epochs 4294967296`, `"epochs":
 *   4294967295`) is refused before anything is read or allocated, naming the field and the
 *   limit, even in a child with a 512 MB heap;
 * - 3: a run that diverges (ReLU, MSE, SGD lr 1e6) stops with exit 1 and a message naming
 *   the epoch and step; the previous model file is untouched;
 * - 9: `--out` is checked before training: the same file as `--data`/`--spec`/`--config`
 *   (through another relative path or a symbolic link), empty, a folder, in a missing folder;
 * - 10: SIGINT/SIGTERM stop at the next step with a message saying nothing was saved; the
 *   previous file is untouched, no temporary file is left, and a terminal gets its cursor back;
 *   a second signal ends the process at once;
 * - 11: identical runs write byte-identical files, however the data path is typed;
 * - 13: `"seed": -1` in a config and `--seed -1` are both refused; `nll` on raw scores is refused.
 *
 * The cases that matter for the exit code and the absence of a stack trace run as child
 * processes (`node bin/lamina.mjs` from the sources); the others in process through `main()`.
 */
import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { main } from '../src/cli/main.js'
import { catchInterrupts } from '../src/cli/train.js'
import { isTempFile } from '../src/io/atomic.js'
import * as Safetensors from '../src/io/safetensors.js'

const ROOT = path.resolve(fileURLToPath(new URL('..', import.meta.url)))
const BIN = path.join(ROOT, 'bin/lamina.mjs')

const dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'lamina-hostile-train-')))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const file = (name: string, contents?: string | Uint8Array): string => {
  const p = path.join(dir, name)
  if (contents !== undefined) writeFileSync(p, contents)
  return p
}
const sha256 = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex')

const points = {
  x: [[2, 0], [1.5, 0.2], [1, 1], [0.5, 2], [-2, 0], [-1.5, -0.2], [-1, -1], [-0.5, -2]],
  labels: [0, 0, 0, 0, 1, 1, 1, 1]
}
const spec = file('relu.json', JSON.stringify({ input: [2], layers: [{ kind: 'dense', units: 8 }, { kind: 'relu' }, { kind: 'dense', units: 2 }] }))
const data = file('points.json', JSON.stringify(points))
const PREVIOUS = 'the previous model: must survive every failed run'

interface Result {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/** `lamina …` in a child process with a 512 MB heap; `interrupt` sends signals once stdout matches. */
const lamina = (args: readonly string[], options: { cwd?: string; interrupt?: { when: RegExp; signals: readonly NodeJS.Signals[] } } = {}): Promise<Result> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, ['--max-old-space-size=512', BIN, ...args], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, LAMINA_FROM_SOURCE: '1' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    let sent = false
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.stdout.on('data', (chunk: Buffer) => {
      // keep the tail only: a long run prints one line per epoch
      stdout = (stdout + chunk.toString()).slice(-20_000)
      if (options.interrupt !== undefined && !sent && options.interrupt.when.test(stdout)) {
        sent = true
        for (const s of options.interrupt.signals) child.kill(s)
      }
    })
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('close', (code, signal) => {
      clearTimeout(guard)
      resolve({ code, signal, stdout, stderr })
    })
  })

/** `lamina …` in process, output collected. */
const run = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
  let stdout = ''
  let stderr = ''
  const code = await main(args, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s) })
  return { code, stdout, stderr }
}

/** One line on stderr, no stack trace, no internal error. */
const oneLine = (stderr: string): string => {
  expect(stderr).not.toMatch(/^\s+at .*:\d+/m)
  expect(stderr).not.toContain('internal error')
  expect(stderr.endsWith('\n')).toBe(true)
  expect(stderr.trimEnd().split('\n')).toHaveLength(1)
  return stderr.trimEnd()
}

/** The files of `dir` that are temporary files of an atomic save of `name`. */
const temps = (name: string): string[] => readdirSync(dir).filter((f) => isTempFile(f, name))

// ================================================================ 2: epoch counts

describe('2. an epoch count out of range is refused up front, naming the field and the limit', () => {
  it('"epochs": 1e12 and "epochs": 4294967295 in a config, --epochs 4294967296: exit 1/1/2 in a child with a 512 MB heap, no stack trace', async () => {
    const huge = file('epochs-1e12.json', '{ "epochs": 1e12 }')
    const u32 = file('epochs-u32.json', '{ "epochs": 4294967295 }')
    const out = file('never-2.safetensors')
    const [a, b, c] = await Promise.all([
      lamina(['train', '--spec', spec, '--data', data, '--config', huge, '--out', out]),
      lamina(['train', '--spec', spec, '--data', data, '--config', u32, '--out', out]),
      lamina(['train', '--spec', spec, '--data', data, '--epochs', '4294967296', '--out', out])
    ])
    expect(oneLine(a.stderr)).toBe(`lamina train: ${huge}: training config: epochs must be at most 1000000 (Train.maxEpochs), got 1000000000000`)
    expect(a.code).toBe(1)
    expect(oneLine(b.stderr)).toBe(`lamina train: ${u32}: training config: epochs must be at most 1000000 (Train.maxEpochs), got 4294967295`)
    expect(b.code).toBe(1)
    expect(oneLine(c.stderr)).toBe("lamina train: --epochs must be at most 1000000 (Train.maxEpochs), got '4294967296'")
    expect(c.code).toBe(2)
    for (const r of [a, b, c]) expect(r.stdout).toBe('')
    expect(existsSync(out)).toBe(false)
  }, 60_000)
})

// ================================================================ 3: divergence

describe('3. a run that diverges is not saved', () => {
  it('ReLU, MSE, SGD lr 1e6: exit 1 naming the epoch and step and what to try; the previous model is untouched', async () => {
    const out = file('diverge.safetensors', PREVIOUS)
    const config = file('diverge.json', JSON.stringify({ loss: 'mse', epochs: 10, batchSize: 2, optimizer: { kind: 'sgd', lr: 1e6 } }))
    const r = await lamina(['train', '--spec', spec, '--data', data, '--config', config, '--out', out])
    expect(r.code).toBe(1)
    expect(oneLine(r.stderr)).toMatch(
      /^lamina train: training diverged at epoch \d+, step \d+ of 4: the loss is (NaN|Infinity|-Infinity); try a lower learning rate, gradient clipping .*; the learning rate was 1000000; the model was not saved \('.*diverge\.safetensors' is untouched\)$/
    )
    expect(r.stdout).not.toContain('saved')
    expect(readFileSync(out, 'utf8')).toBe(PREVIOUS)
    expect(temps('diverge.safetensors')).toEqual([])
  }, 60_000)

  it('every step finite but the final loss over the data infinite (weights grown to 1e150): also not saved', async () => {
    const out = file('overflow.safetensors', PREVIOUS)
    const config = file('overflow.json', JSON.stringify({ loss: 'mse', epochs: 2, batchSize: 4, optimizer: { kind: 'sgd', lr: 1e6 } }))
    const r = await run('train', '--spec', spec, '--data', data, '--config', config, '--out', out)
    expect(r.code).toBe(1)
    expect(oneLine(r.stderr)).toMatch(/^lamina train: training diverged: .* the model was not saved \('.*overflow\.safetensors' is untouched\)$/)
    expect(readFileSync(out, 'utf8')).toBe(PREVIOUS)
  })
})

// ================================================================ 9: output paths

describe('9. --out is checked before training', () => {
  it('the same file as --data, through another relative path or a symbolic link: refused (exit 2), the data intact', async () => {
    mkdirSync(path.join(dir, 'sub'), { recursive: true })
    symlinkSync(data, file('link.safetensors'))
    const before = sha256(data)
    const [viaPath, viaLink] = await Promise.all([
      lamina(['train', '--spec', spec, '--data', 'points.json', '--epochs', '1', '--out', './sub/../points.json'], { cwd: dir }),
      lamina(['train', '--spec', spec, '--data', data, '--epochs', '1', '--out', file('link.safetensors')])
    ])
    expect(viaPath.code).toBe(2)
    expect(oneLine(viaPath.stderr)).toBe("lamina train: --out './sub/../points.json' is the --data file 'points.json': refusing to overwrite an input; choose another --out")
    expect(viaLink.code).toBe(2)
    expect(oneLine(viaLink.stderr)).toMatch(/^lamina train: --out '.*link\.safetensors' is the --data file '.*points\.json': refusing to overwrite an input/)
    expect(viaPath.stdout + viaLink.stdout).toBe('')
    expect(sha256(data)).toBe(before)
  }, 60_000)

  it('the same file as --spec or --config: refused', async () => {
    const config = file('plain.json', '{ "epochs": 1 }')
    const specBefore = sha256(spec)
    const s = await run('train', '--spec', spec, '--data', data, '--out', spec)
    expect(s.code).toBe(2)
    expect(oneLine(s.stderr)).toContain(`is the --spec file '${spec}': refusing to overwrite an input`)
    const c = await run('train', '--spec', spec, '--data', data, '--config', config, '--out', config)
    expect(c.code).toBe(2)
    expect(oneLine(c.stderr)).toContain(`is the --config file '${config}': refusing to overwrite an input`)
    expect(sha256(spec)).toBe(specBefore)
    expect(readFileSync(config, 'utf8')).toBe('{ "epochs": 1 }')
  })

  it.each([
    ['empty', '', "lamina train: --out '': the path is empty"],
    ['a folder', 'DIR', `lamina train: --out 'DIR': DIR is a folder`],
    ['in a missing folder', 'DIR/missing/model.safetensors', 'lamina train: --out \'DIR/missing/model.safetensors\': the folder DIR/missing does not exist'],
    ['ending in a separator', 'DIR/new/', "lamina train: --out 'DIR/new/': the path ends in a separator, so it names a folder, not a file"]
  ])('%s: refused (exit 2) before a single epoch', async (_, out, message) => {
    // 1000 epochs: before the fix these were found only after training, or never
    const r = await run('train', '--spec', spec, '--data', data, '--epochs', '1000', '--out', out.replaceAll('DIR', dir))
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(oneLine(r.stderr)).toBe(message.replaceAll('DIR', dir))
  })
})

// ================================================================ 10: signals

describe('10. Ctrl-C and SIGTERM', () => {
  it('SIGINT or SIGTERM during training: stops at the next step, says what was not saved, exit 1; the previous file untouched, no temporary file', async () => {
    const signals = ['SIGINT', 'SIGTERM'] as const
    const names = signals.map((s) => `${s.toLowerCase()}.safetensors`)
    const outs = names.map((n) => file(n, PREVIOUS))
    const results = await Promise.all(
      signals.map((signal, i) =>
        lamina(['train', '--spec', spec, '--data', data, '--epochs', '1000000', '--batch', '4', '--out', outs[i]!], { interrupt: { when: /^epoch 3\//m, signals: [signal] } })
      )
    )
    results.forEach((r, i) => {
      expect(r.signal).toBe(null)
      expect(r.code).toBe(1)
      expect(oneLine(r.stderr)).toMatch(
        new RegExp(`^lamina train: interrupted by ${signals[i]} after epoch \\d+, step [12] of 2: the model was not saved \\('${outs[i]!.replaceAll('.', '\\.')}' is untouched\\)$`)
      )
      expect(readFileSync(outs[i]!, 'utf8')).toBe(PREVIOUS)
      expect(temps(names[i]!)).toEqual([])
    })
  }, 60_000)

  it('a second signal ends the process at once: the handler cleans up (terminal, temporary files, message) then exits', () => {
    const before = process.listenerCount('SIGINT')
    const beforeTerm = process.listenerCount('SIGTERM')
    const cleaned: string[] = []
    const exited: string[] = []
    const watch = catchInterrupts(
      (s) => cleaned.push(s),
      (s) => void exited.push(s)
    )
    expect(process.listenerCount('SIGINT')).toBe(before + 1)
    process.emit('SIGINT', 'SIGINT')
    expect(watch.received()).toBe('SIGINT')
    expect(cleaned).toEqual([])
    expect(exited).toEqual([])
    process.emit('SIGTERM', 'SIGTERM')
    expect(cleaned).toEqual(['SIGTERM'])
    expect(exited).toEqual(['SIGTERM'])
    // the handlers are gone: a third signal gets the default action
    expect(process.listenerCount('SIGINT')).toBe(before)
    watch.release()
    expect(process.listenerCount('SIGTERM')).toBe(beforeTerm)
  })

  const hasScript = process.platform === 'linux' && spawnSync('script', ['--version']).status === 0
  it.skipIf(!hasScript)('on a terminal (a pseudo-terminal through script(1)): Ctrl-C shows the cursor again after hiding it', async () => {
    const out = file('tty.safetensors', PREVIOUS)
    const pidFile = file('tty.pid')
    const command = [process.execPath, BIN, 'train', '--spec', spec, '--data', data, '--epochs', '1000000', '--batch', '4', '--out', out].map((a) => `'${a}'`).join(' ')
    const child = spawn('script', ['-qfec', `echo $$ > '${pidFile}'; exec ${command}`, '/dev/null'], {
      env: { ...process.env, LAMINA_FROM_SOURCE: '1' },
      stdio: ['pipe', 'pipe', 'pipe']
    })
    let seen = ''
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000)
    const done = new Promise<void>((resolve) => child.on('close', () => resolve()))
    let sent = false
    child.stdout.on('data', (chunk: Buffer) => {
      seen = (seen + chunk.toString('latin1')).slice(-100_000)
      // the bar has hidden the cursor and drawn epoch 3: interrupt the lamina process (the shell exec'd into it)
      if (!sent && seen.includes('\x1b[?25l') && /epoch 3\//.test(seen)) {
        sent = true
        process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGINT')
      }
    })
    await done
    clearTimeout(guard)
    expect(sent).toBe(true)
    expect(seen.lastIndexOf('\x1b[?25h')).toBeGreaterThan(seen.lastIndexOf('\x1b[?25l'))
    expect(seen).toContain('interrupted by SIGINT')
    expect(readFileSync(out, 'utf8')).toBe(PREVIOUS)
  }, 60_000)
})

// ================================================================ 11: reproducible files

describe('11. the same run writes the same bytes', () => {
  it('two identical runs, and the data given by other relative paths to the same file: identical sha256; no time recorded', async () => {
    const outs = ['same-a', 'same-b', 'same-c'].map((n) => file(`${n}.safetensors`))
    const relative = path.relative(process.cwd(), data)
    const detour = path.join(path.relative(process.cwd(), dir), 'sub', '..', 'points.json')
    const args = (d: string, out: string) => ['train', '--spec', spec, '--data', d, '--epochs', '3', '--batch', '4', '--seed', '5', '--out', out]
    for (const [d, out] of [[data, outs[0]!], [relative, outs[1]!], [detour, outs[2]!]] as const) expect((await run(...args(d, out))).code).toBe(0)
    expect(new Set(outs.map(sha256)).size).toBe(1)
    const metadata = Safetensors.read(readFileSync(outs[0]!)).metadata
    expect(metadata.data).toBe('points.json')
    expect(metadata.dataSha256).toBe(sha256(data))
    expect(Object.keys(metadata)).not.toContain('created')
    expect(JSON.stringify(metadata)).not.toContain(dir)
  })
})

// ================================================================ 13: seeds and losses

describe('13. one rule for the config file and the command line; a loss that does not fit the model is refused', () => {
  it('"seed": -1 in a config and --seed -1 are both refused', async () => {
    const config = file('seed.json', '{ "seed": -1, "epochs": 1 }')
    const out = file('never-13.safetensors')
    const fromFile = await run('train', '--spec', spec, '--data', data, '--config', config, '--out', out)
    expect(fromFile.code).toBe(1)
    expect(oneLine(fromFile.stderr)).toBe(`lamina train: ${config}: training config: seed must be an integer ≥ 0, got -1`)
    const fromFlag = await run('train', '--spec', spec, '--data', data, '--seed', '-1', '--epochs', '1', '--out', out)
    expect(fromFlag.code).toBe(2)
    expect(oneLine(fromFlag.stderr)).toBe("lamina train: --seed must be an integer ≥ 0, got '-1'")
    expect(existsSync(out)).toBe(false)
  })

  it('nll on a model that does not end in logSoftmax is refused before training; with logSoftmax it trains to a positive loss', async () => {
    const config = file('nll.json', JSON.stringify({ loss: 'nll', epochs: 30, optimizer: { kind: 'adam', lr: 0.1 } }))
    const out = file('nll.safetensors')
    const raw = await run('train', '--spec', spec, '--data', data, '--config', config, '--out', out)
    expect(raw.code).toBe(1)
    expect(raw.stdout).toBe('')
    expect(oneLine(raw.stderr)).toBe(
      'lamina train: loss "nll" expects log-probabilities, so the model must end in a logSoftmax layer, but its last layer is dense (on raw scores this loss has no lower bound and training diverges); add { "kind": "logSoftmax" } at the end of the spec, or use the loss "crossEntropyWithLogits"'
    )
    expect(existsSync(out)).toBe(false)
    const logSoftmax = file('relu-logsoftmax.json', JSON.stringify({ input: [2], layers: [{ kind: 'dense', units: 8 }, { kind: 'relu' }, { kind: 'dense', units: 2 }, { kind: 'logSoftmax' }] }))
    const ok = await run('train', '--spec', logSoftmax, '--data', data, '--config', config, '--out', out, '--json')
    expect(ok.code).toBe(0)
    const summary = JSON.parse(ok.stdout) as { train: { loss: number } }
    expect(summary.train.loss).toBeGreaterThanOrEqual(0)
  })
})
