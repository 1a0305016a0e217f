/**
 * The `lamina` command. Each subcommand is a {@link Subcommand}: a function that adds itself to
 * the commander program and reports through the {@link Context} it is given (its output
 * streams and its exit code), so that a new one (train, eval, predict, inspect, gradcheck,
 * bench) is one more module and one more entry in {@link subcommands}.
 *
 * Exit codes: 0 success, 1 a failed check or computation, 2 bad usage (unknown option, a
 * malformed expression, a missing value).
 *
 * ```sh
 * lamina trace "ln(x1) + x1*x2 - sin(x2)" --at x1=2,x2=5
 * lamina trace "ln(x1) + x1*x2 - sin(x2)" --at x1=2,x2=5 --format latex --tangent x1 --digits 4
 * ```
 *
 * This module imports the library by relative paths (not `'lamina'`), so it runs from the
 * sources without the `lamina-src` export condition.
 *
 * @module
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Command, CommanderError, Option } from 'commander'
import { LaminaError } from '../error.js'
import type { Tensor } from '../tensor.js'
import * as Trace from '../ad/trace.js'
import * as Expr from '../expr/evaluate.js'

// ================================================================ the frame every subcommand shares

/** Where the command writes: `process.stdout`/`process.stderr`, or strings collected by a test. */
export interface Io {
  readonly stdout: (text: string) => void
  readonly stderr: (text: string) => void
}

/** The exit codes of `lamina`. */
export const ExitCode = { ok: 0, failed: 1, usage: 2 } as const

/** One of {@link ExitCode}'s values. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/** What a subcommand's action may use: the output streams and the exit code to return. */
export interface Context {
  readonly io: Io
  /** Sets the exit code `main` returns (0 unless set). */
  readonly exit: (code: ExitCode) => void
}

/** A subcommand: adds itself (`program.command(…)`) to the program. */
export type Subcommand = (program: Command, context: Context) => void

/**
 * Bad usage found by a subcommand's own checks (a value commander cannot validate): `main`
 * prints `lamina <command>: <message>` (and `detail`, if any, below it) and returns 2.
 */
export class UsageError extends Error {
  override name = 'UsageError'
  constructor(
    message: string,
    /** Extra lines printed below the message, such as a caret rendering. */
    readonly detail?: string
  ) {
    super(message)
  }
}

const processIo: Io = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text)
}

// ================================================================ lamina trace

const formats = ['text', 'markdown', 'latex'] as const

/** Options of `lamina trace` as commander hands them over. */
interface TraceCliOptions {
  readonly at?: readonly string[]
  readonly format: Trace.Format
  readonly tangent?: string
  readonly digits: string
  readonly json?: boolean
}

const decimal = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/

/**
 * The point of `--at x1=2,x2=5` (the option may be repeated): every variable of the expression
 * once, each a finite decimal number, and no other names.
 */
export const parseAt = (specs: readonly string[], names: readonly string[]): Record<string, number> => {
  const wanted = names.length === 0 ? 'the expression has no variables' : `the expression uses ${names.join(', ')}`
  const example = names.map((n, i) => `${n}=${i + 1}`).join(',')
  if (specs.length === 0 && names.length > 0) {
    throw new UsageError(`missing --at: ${wanted}; give their values, as in --at ${example}`)
  }
  const point: Record<string, number> = {}
  for (const spec of specs) {
    for (const raw of spec.split(',')) {
      const item = raw.trim()
      const eq = item.indexOf('=')
      if (eq < 0) throw new UsageError(`--at: '${item}' is not name=value, as in --at ${example || 'x=1'}`)
      const name = item.slice(0, eq).trim()
      const text = item.slice(eq + 1).trim().replace(/^\u2212/, '-')
      if (!names.includes(name)) {
        throw new UsageError(`--at: ${name === '' ? 'a value has no name' : `'${name}' is not a variable of the expression`}; ${wanted}`)
      }
      if (Object.prototype.hasOwnProperty.call(point, name)) throw new UsageError(`--at: '${name}' is given more than once`)
      const value = Number(text)
      if (!decimal.test(text)) throw new UsageError(`--at: the value of '${name}' must be a number, got '${text}'`)
      if (!Number.isFinite(value)) throw new UsageError(`--at: the value of '${name}' must be finite, got '${text}'`)
      point[name] = value
    }
  }
  const missing = names.filter((n) => !Object.prototype.hasOwnProperty.call(point, n))
  if (missing.length > 0) {
    throw new UsageError(`--at: no value for ${missing.join(', ')}; ${wanted}`)
  }
  // the point in the expression's order, which is the trace's order of inputs
  return Object.fromEntries(names.map((n) => [n, point[n]!]))
}

const parseDigits = (text: string): number => {
  const n = Number(text)
  if (!/^\d+$/.test(text.trim()) || n > 20) throw new UsageError(`--digits must be an integer from 0 to 20, got '${text}'`)
  return n
}

/** A tensor as JSON: a number for a scalar, nested arrays otherwise; NaN and ±Infinity as strings. */
const jsonValue = (t: Tensor): unknown => {
  const fix = (v: unknown): unknown =>
    typeof v === 'number' ? (Number.isFinite(v) ? v : String(v)) : Array.isArray(v) ? v.map(fix) : v
  return fix(t.toArray())
}

/** The trace as plain JSON data: rows and adjoint steps with their values as numbers or arrays. */
export const traceJson = (
  expression: string,
  point: Readonly<Record<string, number>>,
  tangent: string | undefined,
  t: Trace.Trace
): unknown => {
  const output = t.rows.find((r) => r.index === t.output)
  return {
    expression,
    at: point,
    tangent: tangent ?? null,
    value: output === undefined ? null : jsonValue(output.value),
    output: t.output,
    rows: t.rows.map((r) => ({
      index: r.index,
      name: r.name,
      op: r.op,
      operands: r.operands.map((o) => (typeof o === 'number' ? o : { constant: jsonValue(o.constant) })),
      expression: r.expression,
      shape: [...r.shape],
      value: jsonValue(r.value),
      ...(r.tangent === undefined ? {} : { tangent: jsonValue(r.tangent) })
    })),
    ...(t.seed === undefined ? {} : { seed: jsonValue(t.seed) }),
    adjoints: t.adjoints.map((s) => ({
      target: s.target,
      source: s.source,
      partial: s.partial,
      contribution: jsonValue(s.contribution),
      accumulated: jsonValue(s.accumulated),
      accumulates: s.accumulates
    })),
    gradient: Object.fromEntries(Object.entries(t.gradient).map(([k, g]) => [k, jsonValue(g)]))
  }
}

/** `lamina trace <expression> --at …`: the forward primal and reverse adjoint traces. */
export const traceCommand: Subcommand = (program, { io, exit }) => {
  program
    .command('trace')
    .summary('print the forward primal trace and the reverse adjoint trace of an expression')
    .description(
      [
        "Print the forward primal trace and the reverse adjoint trace of an expression at a point, as in seed 004's tables: one row per primitive, then the backward sweep, which sums the adjoints of every use of a value.",
        'Expressions: numbers (2, 0.5, 1e-3), variables (x1, x_2, theta), + - * / ^ (also − × · ÷), unary minus, parentheses, and the functions ln (or log), exp, sin, cos, tanh, sigmoid, relu, softplus and sqrt, called as f(x). ^ binds tightest and to the right: -x^2 is -(x^2), 2^3^2 is 2^9.',
        "An expression that starts with '-' goes last, after '--': lamina trace --at x=1 -- \"-x^2\""
      ].join('\n\n')
    )
    .argument('<expression>', 'the expression, quoted, e.g. "ln(x1) + x1*x2 - sin(x2)"')
    .option('--at <values>', 'the point: name=value for every variable, comma-separated (repeatable)', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .addOption(new Option('-f, --format <format>', 'output format').choices(formats).default('text'))
    .option('-t, --tangent <name>', 'add the tangent column v̇ᵢ: forward mode along this variable')
    .option('-d, --digits <n>', 'decimals of the numbers shown (0 to 20)', '3')
    .option('--json', 'print the trace as JSON (full precision) instead of a table')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ lamina trace "ln(x1) + x1*x2 - sin(x2)" --at x1=2,x2=5\n' +
        '  $ lamina trace "ln(x1) + x1*x2 - sin(x2)" --at x1=2,x2=5 --tangent x1 --format markdown\n' +
        '  $ lamina trace "sigmoid(w*x + b)" --at w=0.5,x=2,b=-1 --json\n'
    )
    .action((expression: string, options: TraceCliOptions) => {
      let tree: Expr.Expr
      try {
        tree = Expr.parse(expression)
      } catch (e) {
        if (e instanceof Expr.ParseError) throw new UsageError(e.message, e.caret)
        throw e
      }
      const names = Expr.variables(tree)
      if (names.length === 0) {
        throw new UsageError(`the expression ${Expr.print(tree)} has no variables: a trace differentiates with respect to at least one`)
      }
      const point = parseAt(options.at ?? [], names)
      const digits = parseDigits(options.digits)
      if (options.tangent !== undefined && !names.includes(options.tangent)) {
        throw new UsageError(
          `--tangent: '${options.tangent}' is not a variable of the expression; ${names.length === 0 ? 'it has none' : `it uses ${names.join(', ')}`}`
        )
      }
      const traced = Trace.trace(Expr.compile(tree), point, options.tangent === undefined ? {} : { tangent: options.tangent })
      if (options.json === true) {
        io.stdout(`${JSON.stringify(traceJson(Expr.print(tree), point, options.tangent, traced), null, 2)}\n`)
      } else {
        io.stdout(Trace.render(traced, options.format, { digits }))
      }
      exit(ExitCode.ok)
    })
}

// ================================================================ the program

/** The subcommands of `lamina`, in the order `--help` lists them. */
export const subcommands: readonly Subcommand[] = [traceCommand]

/** The version in lamina's package.json (found by walking up from this file, in src or dist). */
const version = (): string => {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 5; i++) {
    const file = path.join(dir, 'package.json')
    if (existsSync(file)) {
      const pkg: unknown = JSON.parse(readFileSync(file, 'utf8'))
      if (typeof pkg === 'object' && pkg !== null && 'name' in pkg && pkg.name === 'lamina' && 'version' in pkg) return String(pkg.version)
    }
    dir = path.dirname(dir)
  }
  return 'unknown'
}

/** A fresh `lamina` program (commander keeps state, so each run builds its own). */
export const program = (context: Context): Command => {
  const root = new Command('lamina')
    .description('lamina: a functional neural-network DSL for TypeScript, from the command line')
    .version(version(), '-V, --version')
    .exitOverride()
    .configureOutput({
      writeOut: context.io.stdout,
      writeErr: context.io.stderr,
      outputError: (text, write) => write(text)
    })
    .showSuggestionAfterError(true)
    .addHelpText('after', '\nExit codes: 0 ok, 1 a failed check, 2 bad usage.\nRun lamina <command> --help for a command’s options.\n')
  for (const add of subcommands) add(root, context)
  return root
}

/** The subcommand named in `argv` (for error messages), or none. */
const commandName = (argv: readonly string[]): string => {
  const first = argv.find((a) => !a.startsWith('-'))
  return first !== undefined && subcommands.length > 0 ? ` ${first}` : ''
}

/**
 * Runs `lamina` with the arguments after the program name and returns its exit code. Output
 * goes through `io` (the process's streams by default); tests pass functions that collect it:
 * `await main(['trace', 'x*x', '--at', 'x=3'], { stdout: (s) => out.push(s), stderr: (s) => err.push(s) })`.
 */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  let code: ExitCode = ExitCode.ok
  const context: Context = { io, exit: (c) => void (code = c) }
  try {
    await program(context).parseAsync([...argv], { from: 'user' })
    return code
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and --version exit with 0; everything else commander rejects is usage
      return e.exitCode === 0 ? ExitCode.ok : ExitCode.usage
    }
    const where = `lamina${commandName(argv)}`
    if (e instanceof UsageError) {
      io.stderr(`${where}: ${e.message}\n`)
      if (e.detail !== undefined) io.stderr(`${e.detail.replace(/^/gm, '  ')}\n`)
      return ExitCode.usage
    }
    if (e instanceof LaminaError) {
      io.stderr(`${where}: ${e.name}: ${e.message}\n`)
      return ExitCode.failed
    }
    io.stderr(`${where}: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
    return ExitCode.failed
  }
}

/** Whether this module is the program being run (`node …/main.ts`), not an import. */
const isEntryPoint = (): boolean => {
  const script = process.argv[1]
  if (script === undefined) return false
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url))
  } catch {
    return false
  }
}

if (isEntryPoint()) process.exitCode = await main(process.argv.slice(2))
