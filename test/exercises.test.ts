/**
 * The student's path (docs/08-student-path.md) cannot drift and its answers cannot be wrong:
 *
 * - every ```text transcript that starts with `$ lamina trace …` is the command's output,
 *   verbatim (a last line `…` makes it a prefix);
 * - every exercise has an ```answer block: a `$ lamina trace …` command, then one fact per
 *   line (`y = …`, `∂y/∂x = …`, `v₂ = …`, `v̇₂ = …`, `v̄₂ = …`, `v̄₋₁ += a, b`, `warning: …`,
 *   `no warnings`). Each line is checked against the command's `--json` output; the gradient
 *   it states is also checked against `grad` and, where it is finite, against Ridders' finite
 *   differences of the value (`gradientError` from lamina-nn/laws), which do not use lamina's
 *   differentiation at all;
 * - the exercises cover what a student needs: a product and a quotient, a composite, a value
 *   used several times, a variable exponent, a sigmoid/tanh identity, forward mode.
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { Expr, tensor, valueAndGrad } from 'lamina-nn'
import type { Tensor } from 'lamina-nn'
import { gradientError } from 'lamina-nn/laws'
import { main } from '../src/cli/main.js'

const ROOT = path.resolve(fileURLToPath(new URL('..', import.meta.url)))
const CHAPTER = 'docs/08-student-path.md'
const text = fs.readFileSync(path.join(ROOT, CHAPTER), 'utf8')

// ================================================================ reading the chapter

interface Block {
  readonly info: string
  readonly lines: readonly string[]
  readonly line: number // 1-based line of the opening fence
}

/** The fenced blocks of a Markdown text, with their info strings. */
const blocks = (md: string): Block[] => {
  const out: Block[] = []
  let open: { info: string; line: number; lines: string[] } | undefined
  md.split('\n').forEach((l, i) => {
    const fence = /^\s*```\s*(\S*)\s*$/.exec(l)
    if (open === undefined && fence !== null) open = { info: fence[1]!, line: i + 1, lines: [] }
    else if (open !== undefined && /^\s*```\s*$/.test(l)) {
      out.push(open)
      open = undefined
    } else open?.lines.push(l)
  })
  return out
}

interface Exercise {
  readonly number: number
  readonly title: string
  readonly answers: readonly Block[]
}

/** `### Exercise N: title` sections and the ```answer blocks in each. */
const exercises = (md: string): Exercise[] => {
  const heads = [...md.matchAll(/^### Exercise (\d+): (.+)$/gm)]
  return heads.map((h, k) => {
    const nextSection = md.slice(h.index).search(/^## /m)
    const end = k + 1 < heads.length ? heads[k + 1]!.index : nextSection >= 0 ? h.index + nextSection : md.length
    const section = md.slice(h.index, end)
    return { number: Number(h[1]), title: h[2]!, answers: blocks(section).filter((b) => b.info === 'answer') }
  })
}

/** Splits a command line as a shell would for these commands: words, "double-quoted" words. */
const words = (command: string): string[] => {
  const out: string[] = []
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g
  for (const m of command.matchAll(re)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3]!))
  return out
}

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** `$ lamina trace …` in this process. */
const lamina = async (command: string, extra: readonly string[] = []): Promise<Run> => {
  const argv = words(command.replace(/^\$\s*/, ''))
  expect(argv[0], command).toBe('lamina')
  let stdout = ''
  let stderr = ''
  const code = await main([...argv.slice(1), ...extra], { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s) })
  return { code, stdout, stderr }
}

// ================================================================ checking an answer

/** What `lamina trace --json` prints (the parts the answers use). */
interface TraceJson {
  readonly expression: string
  readonly at: Readonly<Record<string, number>>
  readonly value: unknown
  readonly output: number
  readonly rows: readonly { readonly index: number; readonly name: string; readonly op: string; readonly value: unknown; readonly tangent?: unknown }[]
  readonly seed?: unknown
  readonly adjoints: readonly { readonly target: number; readonly contribution: unknown; readonly accumulated: unknown }[]
  readonly gradient: Readonly<Record<string, unknown>>
  readonly warnings: readonly { readonly message: string }[]
}

const asNumber = (v: unknown): number => (typeof v === 'number' ? v : v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : NaN)

/**
 * Whether a JSON number matches a stated value: `undefined` is NaN, `∞`/`−∞` infinities, a
 * decimal like `1.393` must be the correctly rounded value, anything else is an expression
 * of lamina's language evaluated exactly (to 1e-12).
 */
const agrees = (actual: unknown, stated: string): boolean => {
  const v = asNumber(actual)
  const s = stated.trim()
  if (s === 'undefined') return Number.isNaN(v)
  if (s === '∞') return v === Infinity
  if (s === '−∞' || s === '-∞') return v === -Infinity
  if (Number.isNaN(v) || !Number.isFinite(v)) return false
  const decimal = /^[-−]?\d+\.(\d+)$/.exec(s)
  if (decimal !== null) return Math.abs(v - Number(s.replace('−', '-'))) <= 0.5 * 10 ** -decimal[1]!.length * (1 + 1e-9)
  const expected = Expr.evaluateNumber(Expr.parse(s), {})
  return Math.abs(v - expected) <= 1e-12 * Math.max(1, Math.abs(expected))
}

const MACRON = '\u0304'
const DOT = '\u0307'

/** The final adjoint of a row: its last accumulated value, or ȳ for the output. */
const adjointOf = (t: TraceJson, index: number): unknown => {
  const steps = t.adjoints.filter((s) => s.target === index)
  return steps.length > 0 ? steps.at(-1)!.accumulated : index === t.output ? t.seed : undefined
}

/** Checks one line of an answer against the trace; returns a problem, or undefined. */
const checkLine = (t: TraceJson, line: string): string | undefined => {
  if (line.trim() === 'no warnings') return t.warnings.length === 0 ? undefined : `expected no warnings, got ${t.warnings.map((w) => w.message).join(' | ')}`
  const warning = /^warning:\s*(.+)$/.exec(line)
  if (warning !== null) return t.warnings.some((w) => w.message.includes(warning[1]!)) ? undefined : `no warning contains ${JSON.stringify(warning[1])}: ${t.warnings.map((w) => w.message).join(' | ') || 'none'}`
  const sum = /^v(\u0304)([₋₀-₉]+)\s*\+=\s*(.+)$/.exec(line)
  if (sum !== null) {
    const row = t.rows.find((r) => r.name === `v${sum[2]!}`)
    if (row === undefined) return `no row v${sum[2]!}`
    const got = t.adjoints.filter((s) => s.target === row.index).map((s) => s.contribution)
    const stated = sum[3]!.split(',').map((x) => x.trim())
    return got.length === stated.length && got.every((g, i) => agrees(g, stated[i]!)) ? undefined : `contributions to v̄${sum[2]!} are ${JSON.stringify(got)}, the answer says ${sum[3]!}`
  }
  const m = /^(.+?)\s*=\s*(.+)$/.exec(line)
  if (m === null) return `cannot read the line ${JSON.stringify(line)}`
  const [key, stated] = [m[1]!.trim(), m[2]!]
  let actual: unknown
  if (key === 'y') actual = t.value
  else if (key.startsWith('∂y/∂')) {
    const name = key.slice('∂y/∂'.length)
    if (!(name in t.gradient)) return `no input ${name}`
    actual = t.gradient[name]
  } else {
    const r = /^v([\u0304\u0307]?)([₋₀-₉]+)$/.exec(key)
    if (r === null) return `unknown key ${key}`
    const row = t.rows.find((x) => x.name === `v${r[2]!}`)
    if (row === undefined) return `no row v${r[2]!}`
    actual = r[1] === '' ? row.value : r[1] === DOT ? row.tangent : adjointOf(t, row.index)
    if (r[1] === DOT && actual === undefined) return `${key}: the command has no --tangent`
    if (r[1] === MACRON && actual === undefined) return `${key}: the row has no adjoint`
  }
  return agrees(actual, stated) ? undefined : `${key} is ${JSON.stringify(actual)}, the answer says ${stated}`
}

interface Checked {
  readonly command: string
  readonly trace: TraceJson
  readonly facts: readonly string[]
  readonly problems: readonly string[]
}

/** Runs an answer's command with --json and checks every line of it. */
const checkAnswer = async (answer: Block): Promise<Checked> => {
  const [command, ...facts] = answer.lines.filter((l) => l.trim() !== '')
  if (command === undefined || !command.startsWith('$ lamina trace ')) return { command: command ?? '', trace: undefined as never, facts, problems: [`line ${answer.line}: an answer starts with $ lamina trace …`] }
  const r = await lamina(command, ['--json'])
  if (r.code !== 0 || r.stderr !== '') return { command, trace: undefined as never, facts, problems: [`${command} exited ${r.code}: ${r.stderr}`] }
  const trace = JSON.parse(r.stdout) as TraceJson
  return { command, trace, facts, problems: facts.flatMap((f) => checkLine(trace, f) ?? []).map((p) => `${command}: ${p}`) }
}

/** The gradient an answer states, by input name (only `∂y/∂x = …` lines). */
const statedGradient = (facts: readonly string[]): Map<string, string> =>
  new Map(facts.flatMap((f) => {
    const m = /^∂y\/∂(\S+)\s*=\s*(.+)$/.exec(f)
    return m === null ? [] : [[m[1]!, m[2]!] as const]
  }))

const statedNumber = (s: string): number => (s.trim() === 'undefined' ? NaN : s.trim() === '∞' ? Infinity : Expr.evaluateNumber(Expr.parse(s), {}))

// ================================================================ the tests

const all = exercises(text)

describe(`${CHAPTER} transcripts`, () => {
  const transcripts = blocks(text).filter((b) => b.info === 'text' && b.lines[0]?.startsWith('$ lamina '))

  it('there are transcripts of seed 004, its tangent column and a warning', () => {
    expect(transcripts.map((b) => b.lines[0])).toEqual([
      '$ lamina trace "ln(x1) + x1*x2 - sin(x2)" --at x1=2,x2=5',
      '$ lamina trace "ln(x1) + x1*x2 - sin(x2)" --at x1=2,x2=5 --tangent x1',
      '$ lamina trace "(-1)^x" --at x=2'
    ])
  })

  it.each(transcripts.map((b) => [b.lines[0]!, b] as const))('%s prints what the chapter shows', async (_, b) => {
    const r = await lamina(b.lines[0]!)
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    const shown = b.lines.slice(1)
    if (shown.at(-1) === '…') expect(r.stdout.startsWith(`${shown.slice(0, -1).join('\n')}\n`), r.stdout).toBe(true)
    else expect(r.stdout).toBe(`${shown.join('\n')}\n`)
  })
})

describe(`${CHAPTER} exercises`, () => {
  it('there are at least six exercises, numbered in order, each with an answer', () => {
    expect(all.length).toBeGreaterThanOrEqual(6)
    expect(all.map((e) => e.number)).toEqual(all.map((_, i) => i + 1))
    for (const e of all) expect(e.answers.length, `Exercise ${e.number}`).toBeGreaterThan(0)
  })

  it.each(all.map((e) => [e.number, e] as const))(
    'Exercise %s: the answer agrees with lamina trace --json, grad and finite differences',
    async (_, exercise) => {
      for (const answer of exercise.answers) {
        const { command, trace, facts, problems } = await checkAnswer(answer)
        expect(problems).toEqual([])
        expect(facts.length, command).toBeGreaterThan(0)
        // the stated gradient, against grad of the compiled expression and against finite differences
        const stated = statedGradient(facts)
        if (stated.size === 0) continue
        const tree = Expr.parse(trace.expression)
        const names = Object.keys(trace.at)
        const point = names.map((n) => trace.at[n]!)
        const f = Expr.compile(tree)
        const [, grads] = valueAndGrad((xs: readonly Tensor[]) => f(Object.fromEntries(names.map((n, i) => [n, xs[i]!]))))(point.map((x) => tensor(x)))
        names.forEach((n, i) => {
          if (!stated.has(n)) return
          const want = statedNumber(stated.get(n)!)
          const got = grads[i]!.item()
          if (Number.isNaN(want)) expect(got, `${command}: ∂y/∂${n}`).toBeNaN()
          else expect(Math.abs(got - want), `${command}: ∂y/∂${n} = ${got} by grad`).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(want)))
        })
        const gradient = names.map((n) => (stated.has(n) ? statedNumber(stated.get(n)!) : NaN))
        if (gradient.every(Number.isFinite)) {
          const value = (xs: number[]) => Expr.evaluateNumber(tree, Object.fromEntries(names.map((n, i) => [n, xs[i]!])))
          const report = gradientError(value, () => gradient, point)
          expect(report.maxError, `${command}: the answer's gradient against finite differences (worst ${report.worst?.name})`).toBeLessThan(1e-7)
        }
      }
    }
  )

  it('cover a product and a quotient, a composite, a value used several times, a variable exponent, a sigmoid/tanh identity and forward mode', async () => {
    const checked = await Promise.all(all.flatMap((e) => e.answers).map(checkAnswer))
    const trees = checked.map((c) => Expr.parse(c.trace.expression))
    const printed = trees.map((t) => Expr.print(t))
    const nested = (e: Expr.Expr, inCall = false): boolean =>
      e.kind === 'call' ? inCall || nested(e.arg, true) : e.kind === 'unary' ? nested(e.operand, inCall) : e.kind === 'binary' ? nested(e.left, inCall) || nested(e.right, inCall) : false
    const covered = {
      'a product and a quotient': printed.some((p) => p.includes('*') && p.includes('/')),
      'a composite (a function of a function)': trees.some((t) => nested(t)),
      'a value used several times (adjoints add)': checked.some((c) => c.facts.some((f) => /^v\u0304\S+\s*\+=\s*[^,]+,/.test(f))),
      'a power with a variable exponent': checked.some((c) => c.trace.rows.some((r) => r.op === 'power')),
      'a sigmoid or tanh derivative identity': checked.some((c) => c.facts.some((f) => /=.*(sigmoid|tanh)\(/.test(f))),
      'forward mode (the tangent column)': checked.some((c) => c.command.includes('--tangent') && c.facts.some((f) => f.startsWith(`v${DOT}`))),
      'a warning where a derivative does not exist': checked.some((c) => c.facts.some((f) => f.startsWith('warning:')))
    }
    expect(covered).toEqual(Object.fromEntries(Object.keys(covered).map((k) => [k, true])))
  })
})

describe('the answer checker rejects wrong answers', () => {
  const traceOf = async (command: string): Promise<TraceJson> => JSON.parse((await lamina(command, ['--json'])).stdout) as TraceJson

  it('a wrong value, gradient, tangent, adjoint, order of contributions or warning is a problem', async () => {
    const t = await traceOf('$ lamina trace "w*x + w*w" --at w=3,x=2')
    expect(checkLine(t, '∂y/∂w = 8')).toBeUndefined()
    expect(checkLine(t, '∂y/∂w = 7')).toMatch(/∂y\/∂w is 8, the answer says 7/)
    expect(checkLine(t, 'y = 15')).toBeUndefined()
    expect(checkLine(t, 'y = 15.01')).toBeDefined()
    expect(checkLine(t, 'v̄₋₁ += 3, 3, 2')).toBeUndefined()
    expect(checkLine(t, 'v̄₋₁ += 2, 3, 3')).toMatch(/contributions to v̄₋₁/)
    expect(checkLine(t, 'v̄₋₁ += 8')).toBeDefined()
    expect(checkLine(t, 'v̄₋₁ = 8')).toBeUndefined()
    expect(checkLine(t, 'v̇₁ = 2')).toMatch(/no --tangent/)
    expect(checkLine(t, 'no warnings')).toBeUndefined()
    expect(checkLine(t, 'warning: anything')).toMatch(/no warning contains/)
    expect(checkLine(t, '∂y/∂q = 1')).toMatch(/no input q/)
  })

  it('decimals must be correctly rounded; undefined is NaN, ∞ is infinity', async () => {
    const t = await traceOf('$ lamina trace "tanh(x1*x2) + x1" --at x1=1,x2=0.5 --tangent x1')
    expect(checkLine(t, 'v̇₃ = 1.393')).toBeUndefined()
    expect(checkLine(t, 'v̇₃ = 1.39')).toBeUndefined() // 1.39322… to two decimals
    expect(checkLine(t, 'v̇₃ = 1.40')).toBeDefined()
    expect(checkLine(t, 'v̇₃ = 1.394')).toBeDefined()
    const u = await traceOf('$ lamina trace "sqrt(x^2 + z^2)" --at x=0,z=0')
    expect(checkLine(u, '∂y/∂x = undefined')).toBeUndefined()
    expect(checkLine(u, '∂y/∂x = 0')).toBeDefined()
    expect(checkLine(u, 'v̄₃ = ∞')).toBeUndefined()
    expect(checkLine(u, 'v̄₃ = undefined')).toBeDefined()
  })
})
