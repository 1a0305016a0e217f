/**
 * The `lamina` command (src/cli/main.ts, bin/lamina.mjs): in-process through `main()` with
 * collected output, and as child processes the way a user runs it.
 */
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { run } from './support/cli.js'
import type { Run } from './support/cli.js'
import { ExitCode, parseAt, UsageError } from '../src/cli/main.js'

const ROOT = path.resolve(fileURLToPath(new URL('..', import.meta.url)))
const SEED_004 = 'ln(x1) + x1*x2 - sin(x2)'


/** `lamina …args` as a child process, from the sources (tsx) or through bin/lamina.mjs. */
const spawn = (how: 'source' | 'bin', args: readonly string[], env: NodeJS.ProcessEnv = {}): Run => {
  const argv = how === 'source' ? ['--import', 'tsx', '--conditions=lamina-src', 'src/cli/main.ts', ...args] : ['bin/lamina.mjs', ...args]
  const r = spawnSync(process.execPath, argv, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 })
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}

/** The line of a text table whose first cell is `label`. */
const row = (table: string, label: string): string | undefined =>
  table.split('\n').find((l) => l.startsWith(`│ ${label} `) || l.startsWith(`| ${label} |`))

describe('lamina trace (in process)', () => {
  it("prints seed 004's traces: y = 11.652, x̄1 = 5.5, x̄2 = 1.716", async () => {
    const r = await run('trace', SEED_004, '--at', 'x1=2,x2=5')
    expect(r).toMatchObject({ code: 0, stderr: '' })
    expect(r.stdout).toContain('Forward primal trace')
    expect(r.stdout).toContain('Reverse adjoint trace')
    expect(row(r.stdout, 'y')).toMatch(/│\s+11\.652 │$/)
    expect(row(r.stdout, 'x̄1')).toMatch(/│ v̄₋₁ .*│\s+5\.5 │$/)
    expect(row(r.stdout, 'x̄2')).toMatch(/│ v̄₀ .*│\s+1\.716 │$/)
    expect(row(r.stdout, 'v₁')).toMatch(/^│ v₁\s+│ ln v₋₁\s+│ ln 2\s+│\s+0\.693 │$/)
  })

  it("numbers the rows as seed 004 does: operations on the inputs first (v₃ = sin v₀), then v₄ = v₁ + v₂, v₅ = v₄ − v₃", async () => {
    const r = await run('trace', SEED_004, '--at', 'x1=2,x2=5')
    expect(row(r.stdout, 'v₂')).toMatch(/^│ v₂\s+│ v₋₁ × v₀ /)
    expect(row(r.stdout, 'v₃')).toMatch(/^│ v₃\s+│ sin v₀ /)
    expect(row(r.stdout, 'v₄')).toMatch(/^│ v₄\s+│ v₁ \+ v₂ /)
    expect(row(r.stdout, 'v₅')).toMatch(/^│ v₅\s+│ v₄ − v₃ /)
  })

  it('writes Markdown tables with --format markdown', async () => {
    const r = await run('trace', SEED_004, '--at', 'x1=2,x2=5', '--format', 'markdown')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('| vᵢ | expression | with values | value |')
    expect(r.stdout).toMatch(/^\| :-- \| :-- \| :-- \| --: \|$/m)
    expect(row(r.stdout, 'y')).toMatch(/\| 11\.652 \|$/)
    expect(row(r.stdout, 'x̄1')).toMatch(/\| 5\.5 \|$/)
    expect(row(r.stdout, 'x̄2')).toMatch(/\| 1\.716 \|$/)
  })

  it('writes a LaTeX tabular with --format latex', async () => {
    const r = await run('trace', SEED_004, '--at', 'x1=2,x2=5', '--format', 'latex')
    expect(r.code).toBe(0)
    expect(r.stdout.startsWith('\\begin{tabular}')).toBe(true)
    expect(r.stdout.trimEnd().endsWith('\\end{tabular}')).toBe(true)
    expect(r.stdout).toMatch(/^\$y\$ & \$v_\{5\}\$ & +& \$11\.652\$/m)
    expect(r.stdout).toMatch(/^\$\\bar\{x\}_\{1\}\$ & .*\$5\.5\$ \\\\$/m)
    expect(r.stdout).toMatch(/^\$\\bar\{x\}_\{2\}\$ & .*\$1\.716\$ \\\\$/m)
  })

  it('adds the tangent column with --tangent x1 (ẏ = ∂y/∂x1 = 5.5)', async () => {
    const plain = await run('trace', SEED_004, '--at', 'x1=2,x2=5')
    const r = await run('trace', SEED_004, '--at', 'x1=2,x2=5', '--tangent', 'x1')
    expect(r.code).toBe(0)
    expect(plain.stdout).not.toContain('v̇ᵢ')
    expect(r.stdout).toContain('v̇ᵢ')
    expect(r.stdout.normalize('NFC')).toContain('ẋ1 = 1, ẋ2 = 0'.normalize('NFC'))
    expect(row(r.stdout, 'y')).toMatch(/│\s+11\.652 │\s+5\.5 │$/)
    expect(row(r.stdout, 'v₋₁')).toMatch(/│\s+2 │\s+1 │$/)
  })

  it('shows --digits decimals', async () => {
    const r = await run('trace', SEED_004, '--at', 'x1=2,x2=5', '--digits', '6')
    expect(r.code).toBe(0)
    expect(row(r.stdout, 'y')).toMatch(/│\s+11\.652071 │$/)
    expect(row(r.stdout, 'x̄2')).toMatch(/│\s+1\.716338 │$/)
  })

  it('prints the trace as JSON with --json, values as numbers', async () => {
    const r = await run('trace', SEED_004, '--at', 'x2=5', '--at', 'x1=2', '--json', '--tangent', 'x1')
    expect(r.code).toBe(0)
    const data = JSON.parse(r.stdout) as {
      expression: string
      at: Record<string, number>
      value: number
      rows: { name: string; expression: string; value: number; tangent: number }[]
      adjoints: { target: number; source: number; accumulated: number }[]
      gradient: Record<string, number>
    }
    expect(data.expression).toBe('ln(x1) + x1 * x2 - sin(x2)')
    expect(data.at).toEqual({ x1: 2, x2: 5 })
    expect(data.value).toBe(Math.log(2) + 10 - Math.sin(5))
    expect(data.gradient.x1).toBe(5.5)
    expect(data.gradient.x2).toBeCloseTo(2 - Math.cos(5), 15)
    expect(data.rows.map((x) => x.name)).toEqual(['v₋₁', 'v₀', 'v₁', 'v₂', 'v₃', 'v₄', 'v₅'])
    expect(data.rows.every((x) => typeof x.value === 'number' && typeof x.tangent === 'number')).toBe(true)
    expect(data.rows[6]!.tangent).toBe(5.5)
    expect(data.adjoints.length).toBe(8)
  })

  it('writes tensors as arrays and non-finite values as strings in JSON', async () => {
    const r = await run('trace', 'ln(x) * 0', '--at', 'x=0', '--json')
    expect(r.code).toBe(0)
    const data = JSON.parse(r.stdout) as { rows: { value: unknown }[] }
    expect(data.rows.map((x) => x.value)).toContain('-Infinity')
  })

  it('reports a malformed expression with its caret and exits 2', async () => {
    const r = await run('trace', 'ln(x1) + $', '--at', 'x1=2')
    expect(r.code).toBe(ExitCode.usage)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe("lamina trace: unexpected character '$' at column 10\n  ln(x1) + $\n           ^\n")
    const unknown = await run('trace', 'foo(x)', '--at', 'x=1')
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain("unknown function 'foo' at column 1; known functions: ln, log, exp, sin, cos, tanh, sigmoid, relu, softplus, sqrt")
  })

  it.each([
    [['--at', 'x1=2'], "lamina trace: --at: no value for x2; the expression uses x1, x2"],
    [[], 'lamina trace: missing --at: the expression uses x1, x2; give their values, as in --at x1=1,x2=2'],
    [['--at', 'x1=2,x2=abc'], "lamina trace: --at: the value of 'x2' must be a number, got 'abc'"],
    [['--at', 'x1=2,x2=1e999'], "lamina trace: --at: the value of 'x2' must be finite, got '1e999'"],
    [['--at', 'x1=2,x2=Infinity'], "lamina trace: --at: the value of 'x2' must be a number, got 'Infinity'"],
    [['--at', 'x1=2,x2='], "lamina trace: --at: the value of 'x2' must be a number, got ''"],
    [['--at', 'x1=2,x2=5,x3=1'], "lamina trace: --at: 'x3' is not a variable of the expression; the expression uses x1, x2"],
    [['--at', 'x1=2,x1=3,x2=5'], "lamina trace: --at: 'x1' is given more than once"],
    [['--at', 'x1:2'], "lamina trace: --at: 'x1:2' is not name=value, as in --at x1=1,x2=2"],
    [['--at', 'x1=2,x2=5', '--tangent', 'y'], "lamina trace: --tangent: 'y' is not a variable of the expression; it uses x1, x2"],
    [['--at', 'x1=2,x2=5', '--digits', '-1'], "lamina trace: --digits must be an integer from 0 to 20, got '-1'"],
    [['--at', 'x1=2,x2=5', '--digits', '2.5'], "lamina trace: --digits must be an integer from 0 to 20, got '2.5'"],
    [['--at'], "error: option '--at <values>' argument missing"],
    [['--at', 'x1=2,x2=5', '--format', 'html'], "error: option '-f, --format <format>' argument 'html' is invalid. Allowed choices are text, markdown, latex."],
    [['--at', 'x1=2,x2=5', '--bogus'], "error: unknown option '--bogus'"]
  ])('bad usage %j exits 2 with a one-line reason', async (args, message) => {
    const r = await run('trace', SEED_004, ...args)
    expect(r.code).toBe(ExitCode.usage)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(`${message}\n`)
  })

  it('exits 2 for an expression without variables', async () => {
    expect(await run('trace', '2 × 3')).toMatchObject({
      code: 2,
      stdout: '',
      stderr: 'lamina trace: the expression 2 * 3 has no variables: a trace differentiates with respect to at least one\n'
    })
  })

  it('exits 2 for an unknown command and for a missing expression', async () => {
    expect(await run('frobnicate')).toMatchObject({ code: 2, stderr: "error: unknown command 'frobnicate'\n" })
    expect(await run('trace')).toMatchObject({ code: 2, stderr: "error: missing required argument 'expression'\n" })
  })

  it('prints help and the version with exit code 0', async () => {
    const top = await run('--help')
    expect(top.code).toBe(0)
    expect(top.stdout).toMatch(/^Usage: lamina \[options\] \[command\]/)
    expect(top.stdout).toContain('trace [options] <expression>')
    expect(top.stdout).toContain('Exit codes: 0 ok, 1 a failed check, 2 bad usage.')
    const sub = await run('trace', '--help')
    expect(sub.code).toBe(0)
    expect(sub.stdout).toMatch(/^Usage: lamina trace \[options\] <expression>/)
    for (const option of ['--at <values>', '-f, --format <format>', '-t, --tangent <name>', '-d, --digits <n>', '--json']) {
      expect(sub.stdout).toContain(option)
    }
    expect(await run('help', 'trace')).toMatchObject({ code: 0, stdout: sub.stdout })
    expect((await run('--version')).stdout).toMatch(/^\d+\.\d+\.\d+\n$/)
  })

  it('traces an expression written with Unicode operators, given after --', async () => {
    const r = await run('trace', '--at', 'x=3', '--', '−x^2 × 2')
    expect(r.code).toBe(0)
    expect(row(r.stdout, 'y')).toMatch(/│\s+−18 │$/)
    expect(row(r.stdout, 'x̄')).toMatch(/│\s+−12 │$/)
  })
})

describe('parseAt', () => {
  it('returns the point in the order of the expression’s variables', () => {
    expect(Object.keys(parseAt(['b=1', 'a=−2.5e1'], ['a', 'b']))).toEqual(['a', 'b'])
    expect(parseAt([' a = .5 , b=-0 '], ['a', 'b'])).toEqual({ a: 0.5, b: -0 })
    expect(parseAt([], [])).toEqual({})
    expect(() => parseAt(['__proto__=1'], ['x'])).toThrow(UsageError)
  })
})

describe('lamina (child processes)', () => {
  it("runs from the sources with tsx: seed 004's trace", () => {
    const r = spawn('source', ['trace', SEED_004, '--at', 'x1=2,x2=5'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(row(r.stdout, 'y')).toMatch(/│\s+11\.652 │$/)
    expect(row(r.stdout, 'x̄1')).toMatch(/│\s+5\.5 │$/)
    expect(row(r.stdout, 'x̄2')).toMatch(/│\s+1\.716 │$/)
  })

  it('runs through bin/lamina.mjs: tangent column, malformed expression, --help', () => {
    const traced = spawn('bin', ['trace', SEED_004, '--at', 'x1=2,x2=5', '--tangent', 'x1', '--format', 'markdown'], { LAMINA_FROM_SOURCE: '1' })
    expect(traced.code).toBe(0)
    expect(traced.stdout).toContain('| vᵢ | expression | with values | value | v̇ᵢ |')
    const bad = spawn('bin', ['trace', 'ln(x1) + $', '--at', 'x1=2'], { LAMINA_FROM_SOURCE: '1' })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toBe("lamina trace: unexpected character '$' at column 10\n  ln(x1) + $\n           ^\n")
    const help = spawn('bin', ['--help'], { LAMINA_FROM_SOURCE: '1' })
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('Usage: lamina')
  })

  it('exits 2 on a missing --at value and 1 when the computation fails', () => {
    const missing = spawn('source', ['trace', SEED_004, '--at', 'x1=2'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toBe('lamina trace: --at: no value for x2; the expression uses x1, x2\n')
    // with numerical checks on, ln(0) = −∞ is an error of the computation, not of the usage
    const failed = spawn('source', ['trace', 'ln(x)', '--at', 'x=0'], { LAMINA_CHECK_NUMERICS: '1' })
    expect(failed.code).toBe(ExitCode.failed)
    expect(failed.stderr).toMatch(/^lamina trace: NumericsError: .*log/)
  })
})
