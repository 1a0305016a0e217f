/**
 * Issue 13 (hostile files, careless input and faults), the parts that meet `lamina predict`,
 * the dataset readers, closed pipes and messages. Where the process itself is at stake (a
 * stack overflow, a closed pipe, a 10 MB value, an environment variable) the case runs
 * `bin/lamina.mjs` from the sources as a child process with a 512 MB heap; the others run
 * `main()` in this process (the same code, a tenth of the time). Each checks the exit code,
 * the message, and that no stack trace reaches the user.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../src/cli/main.js'
import { quote } from '../src/cli/command.js'
import * as Numerics from '../src/numerics.js'

const ROOT = path.resolve(fileURLToPath(new URL('..', import.meta.url)))

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

interface SpawnOptions {
  readonly env?: NodeJS.ProcessEnv
  /** Close the reading end of the child's stdout (or stderr) before the child writes anything. */
  readonly closeStdout?: boolean
  readonly closeStderr?: boolean
}

/** `node --max-old-space-size=512 bin/lamina.mjs …args` from the sources, asynchronously. */
const lamina = (args: readonly string[], options: SpawnOptions = {}): Promise<Run> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--max-old-space-size=512', 'bin/lamina.mjs', ...args], {
      cwd: ROOT,
      env: { ...process.env, LAMINA_FROM_SOURCE: '1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    // a real pipe whose reader goes away: the child's next write gets EPIPE
    if (options.closeStdout === true) child.stdout.destroy()
    else child.stdout.on('data', (d: Buffer) => void (stdout += d.toString()))
    if (options.closeStderr === true) child.stderr.destroy()
    else child.stderr.on('data', (d: Buffer) => void (stderr += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })

/** `lamina …args` in this process, its output collected. */
const run = async (...args: string[]): Promise<Run> => {
  let stdout = ''
  let stderr = ''
  const code = await main(args, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) })
  return { code, stdout, stderr }
}

/** No stack trace, no unhandled event, no internal error on stderr. */
const noCrash = (r: Run): void => {
  expect(r.stderr).not.toMatch(/^\s+at /m)
  expect(r.stderr).not.toMatch(/Unhandled|internal error|RangeError|EPIPE|node:events/)
}

/** A one-line error on stderr (exit 1 unless said otherwise), nothing on stdout, no crash. */
const refused = (r: Run, code = 1): string => {
  noCrash(r)
  expect(r.code).toBe(code)
  expect(r.stdout).toBe('')
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1)
  return r.stderr.trimEnd()
}

const dir = mkdtempSync(path.join(tmpdir(), 'lamina-hostile-'))
const file = (name: string, contents?: string): string => {
  const p = path.join(dir, name)
  if (contents !== undefined) writeFileSync(p, contents)
  return p
}

const spec = file('spec.json', JSON.stringify({ input: [2], layers: [{ kind: 'dense', units: 3 }, { kind: 'tanh' }, { kind: 'dense', units: 2 }] }))
const data = file('data.json', JSON.stringify({ x: [[1, 2], [3, 4], [-1, -2], [-3, -4]], labels: [0, 0, 1, 1] }))
const model = file('model.safetensors')

// the 10 MB inputs are not left behind
afterAll(() => rmSync(dir, { recursive: true, force: true }))

beforeAll(async () => {
  let err = ''
  const code = await main(['train', '--spec', spec, '--data', data, '--epochs', '2', '--seed', '1', '--out', model], { stdout: () => {}, stderr: (s) => void (err += s) })
  expect(err).toBe('')
  expect(code).toBe(0)
})

describe('case 2: predict --input nested 100,000 arrays deep, and deeper', () => {
  it.concurrent('is refused up front with the depth limit named, not a RangeError stack', async () => {
    const deep = file('deep.json', `${'['.repeat(100_000)}${']'.repeat(100_000)}`)
    const r = await lamina(['predict', '--model', model, '--input', deep])
    expect(refused(r)).toBe('lamina predict: DecodeError: deep.json: expected JSON nested at most 64 deep (arrays and objects), got a 65th level at line 1, column 65')
  })

  it.concurrent('10 MB of [ (5,000,000 deep) is refused by a scan before JSON.parse builds anything, within a 512 MB heap', async () => {
    const deeper = file('deeper.json', `${'['.repeat(5_000_000)}${']'.repeat(5_000_000)}`)
    const r = await lamina(['predict', '--model', model, '--input', deeper])
    expect(refused(r)).toBe('lamina predict: DecodeError: deeper.json: expected JSON nested at most 64 deep (arrays and objects), got a 65th level at line 1, column 65')
  })

  it('an example nested 40 deep (within the JSON limit) is refused by the rank limit; a nest after a good example is a bad cell, shown in a few characters', async () => {
    const rank40 = file('rank40.json', `${'['.repeat(41)}${']'.repeat(41)}`)
    expect(refused(await run('predict', '--model', model, '--input', rank40))).toBe(
      'lamina predict: DecodeError: rank40.json: [0]: expected an example of at most 32 axes (nested arrays), got more than 32 nested arrays'
    )
    const nest = `${'['.repeat(60)}${']'.repeat(60)}`
    const later = file('later.json', `{"x": [[1, 2], [3, ${nest}]]}`)
    const r = await run('predict', '--model', model, '--input', later)
    const line = refused(r)
    expect(line).toBe(`lamina predict: DecodeError: later.json: x[1][1]: expected a finite number, got ${'['.repeat(60)}…] (1 item)`)
    expect(line.length).toBeLessThan(200)
  })
})

describe('case 4: predict never drops a row, and reads numbers as train does', () => {
  it('a headerless first row with a non-number cell (0.5,O.5) is an error at its line and column, not a header', async () => {
    const csv = file('typo.csv', '0.5,O.5\n1,2\n')
    const r = await run('predict', '--model', model, '--input', csv)
    expect(refused(r)).toBe(
      'lamina predict: DecodeError: typo.csv: line 1, column 2: expected a finite number (line 1 mixes numbers and names; a header row holds names only), got "O.5"'
    )
  })

  it('0x10 is not 16: refused with its line and column, as train and trace --at refuse it', async () => {
    const csv = file('hex.csv', '1,2\n0x10,1\n')
    const p = await run('predict', '--model', model, '--input', csv)
    expect(refused(p)).toBe('lamina predict: DecodeError: hex.csv: line 2, column 1: expected a finite number, got "0x10"')
    const labelled = file('hex-train.csv', 'a,b,label\n1,2,0\n0x10,1,1\n')
    const t = await run('train', '--spec', spec, '--data', labelled, '--epochs', '1', '--out', file('never.safetensors'))
    expect(refused(t)).toBe('lamina train: DecodeError: hex-train.csv: line 3, column "a": expected a finite number, got "0x10"')
    // and --at in trace, through the same parser
    expect(refused(await run('trace', 'x*x', '--at', 'x=0x10'), 2)).toBe("lamina trace: --at: the value of 'x' must be a number, got '0x10'")
  })

  it('a numeric first row is data, a row of names a header; --header and --no-header decide explicitly', async () => {
    const plain = file('plain.csv', '3,0\n-3,0\n2,1\n')
    const named = file('named.csv', 'a,b,label\n3,0,0\n-3,0,1\n')
    const unlabelled = file('unlabelled.csv', 'a,b\n3,0\n')
    const [p, n, forcedHeader, forcedData] = await Promise.all([
      run('predict', '--model', model, '--input', plain, '--json'),
      run('predict', '--model', model, '--input', named, '--json'),
      run('predict', '--model', model, '--input', plain, '--json', '--header'),
      run('predict', '--model', model, '--input', unlabelled, '--no-header')
    ])
    const count = (r: Run): number => (JSON.parse(r.stdout) as { predictions: unknown[] }).predictions.length
    expect([p.code, n.code, forcedHeader.code]).toEqual([0, 0, 0])
    expect(count(p)).toBe(3) // every row predicted: row i is prediction i
    expect(count(n)).toBe(2)
    expect(count(forcedHeader)).toBe(2) // told so, the first row names the columns
    expect(refused(forcedData)).toBe('lamina predict: DecodeError: unlabelled.csv: 2 problems; line 1, column 1: expected a finite number, got "a"; line 1, column 2: expected a finite number, got "b"')
  })
})

describe('case 8: a closed pipe ends output quietly and the command carries on', () => {
  it.concurrent('lamina --help with its reader gone exits 0 without an unhandled error event', async () => {
    const r = await lamina(['--help'], { closeStdout: true })
    noCrash(r)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
  })

  it.concurrent('lamina train with its reader gone still saves the model and exits 0', async () => {
    const out = file('piped.safetensors')
    const r = await lamina(['train', '--spec', spec, '--data', data, '--epochs', '1', '--out', out], { closeStdout: true })
    noCrash(r)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(existsSync(out)).toBe(true)
  })

  it.concurrent('an error message to a closed stderr keeps its exit code', async () => {
    const r = await lamina(['trace', 'x*x', '--at', 'y=1'], { closeStdout: true, closeStderr: true })
    expect(r.code).toBe(2)
  })
})

describe('case 13: messages', () => {
  it.concurrent('a 10 MB bad value is echoed in about 100 characters, with its length', async () => {
    const big = file('big.json', JSON.stringify([[1, 'a'.repeat(10_000_000)]]))
    const r = await lamina(['predict', '--model', model, '--input', big])
    expect(refused(r)).toBe(`lamina predict: DecodeError: big.json: [0][1]: expected a finite number, got "${'a'.repeat(59)}…" (10000000 characters)`)
  })

  it('units: 1e12 names the spec field, not the dataset', async () => {
    const huge = file('huge.json', JSON.stringify({ input: [2], layers: [{ kind: 'dense', units: 1e12 }] }))
    const r = await run('train', '--spec', huge, '--data', data, '--epochs', '1', '--out', file('never.safetensors'))
    const line = refused(r)
    expect(line).toContain('layers[0].units')
    expect(line).toContain('1000000000000')
    expect(line).not.toMatch(/Dataset|classes/)
  })

  it('a width mismatch names the data file and the model, sizes the right way round, and no option', async () => {
    const narrow = file('narrow.json', JSON.stringify({ input: [3], layers: [{ kind: 'dense', units: 2 }] }))
    const r = await run('train', '--spec', narrow, '--data', data, '--epochs', '1', '--out', file('never.safetensors'))
    expect(refused(r)).toBe('lamina train: ShapeError: data.json: the model expects 3 features per example (input shape [3]), the data rows have 2')
  })

  it("with the numerics checker on, sqrt's derivative at 0 is blamed on its reverse and tangent rules, not a forward step", async () => {
    const env = { LAMINA_CHECK_NUMERICS: '1' }
    const reverse = await lamina(['trace', 'sqrt(x)', '--at', 'x=0'], { env })
    // the tangent column in this process, with the checker switched on as the variable does
    const before = Numerics.setChecks(true)
    const tangent = await run('trace', 'sqrt(x)', '--at', 'x=0', '--tangent', 'x').finally(() => Numerics.setChecks(before))
    const r = refused(reverse)
    expect(r).toMatch(/^lamina trace: NumericsError: numerics: div produced Infinity at reverse \(adjoint\) rule of sqrt \(row v₁, input 0\)/)
    expect(r).not.toContain('forward step')
    const t = refused(tangent)
    expect(t).toMatch(/at tangent rule of sqrt \(row v₁, input 0\)/)
    expect(t).not.toContain('forward step')
  })

  it('long arguments are cut in usage errors: an unknown option, an --at value, an expression', async () => {
    const long = 'a'.repeat(100_000)
    const option = await run('trace', 'x', '--at', 'x=1', `--${long}`)
    const at = await run('trace', 'x', '--at', `x=${'1'.repeat(100_000)}x`) // 11 s in the old backtracking pattern
    const expression = await run('trace', `x + ${'y'.repeat(100_000)}$`, '--at', 'x=1')
    expect(refused(option, 2)).toBe(`error: unknown option '--${'a'.repeat(58)}…' (100002 characters)`)
    expect(refused(at, 2)).toBe(`lamina trace: --at: the value of 'x' must be a number, got '${'1'.repeat(60)}…' (100001 characters)`)
    noCrash(expression)
    expect(expression.code).toBe(2)
    const lines = expression.stderr.trimEnd().split('\n')
    expect(lines[0]).toBe("lamina trace: unexpected character '$' at column 100005")
    expect(lines.every((l) => l.length < 120)).toBe(true)
    expect(lines[1]!.indexOf('$')).toBe(lines[2]!.indexOf('^')) // the caret still points at it
  })

  it('quote cuts long values with their length and keeps messages on one line', () => {
    expect(quote('abc')).toBe("'abc'")
    expect(quote('a\nb')).toBe("'a\\nb'")
    expect(quote('b'.repeat(1e7))).toBe(`'${'b'.repeat(60)}…' (10000000 characters)`)
  })
})
