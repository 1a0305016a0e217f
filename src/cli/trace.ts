/**
 * `lamina trace <expression> --at …`: the forward primal and reverse adjoint traces of an
 * expression, as text, Markdown, LaTeX or JSON.
 *
 * @module
 */
import { Option } from 'commander'
import type { Tensor } from '../tensor.js'
import * as Trace from '../ad/trace.js'
import * as Expr from '../expr/evaluate.js'
import { parseDecimal } from '../io/codec.js'
import { ExitCode, UsageError, quote } from './command.js'
import type { Subcommand } from './command.js'

const formats = ['text', 'markdown', 'latex'] as const

/** Options of `lamina trace` as commander hands them over. */
interface TraceCliOptions {
  readonly at?: readonly string[]
  readonly format: Trace.Format
  readonly tangent?: string
  readonly digits: string
  readonly json?: boolean
}

/**
 * The point of `--at x1=2,x2=5` (the option may be repeated): every variable of the expression
 * once, each a finite decimal number (`Codec.parseDecimal`, lamina's one number parser; a
 * leading `−` is read as `-`), and no other names. Values echoed in messages are cut to
 * about 100 characters.
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
      if (eq < 0) throw new UsageError(`--at: ${quote(item)} is not name=value, as in --at ${example || 'x=1'}`)
      const name = item.slice(0, eq).trim()
      const text = item.slice(eq + 1).trim().replace(/^\u2212/, '-')
      if (!names.includes(name)) {
        throw new UsageError(`--at: ${name === '' ? 'a value has no name' : `${quote(name)} is not a variable of the expression`}; ${wanted}`)
      }
      if (Object.prototype.hasOwnProperty.call(point, name)) throw new UsageError(`--at: ${quote(name)} is given more than once`)
      const value = parseDecimal(text)
      if (value === undefined) {
        const overflows = Math.abs(Number(text)) === Infinity && !text.includes('Infinity') // 1e999: decimal, but not finite
        throw new UsageError(`--at: the value of ${quote(name)} must be ${overflows ? 'finite' : 'a number'}, got ${quote(text)}`)
      }
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
  if (!/^\d+$/.test(text.trim()) || n > 20) throw new UsageError(`--digits must be an integer from 0 to 20, got ${quote(text)}`)
  return n
}

/** A tensor as JSON: a number for a scalar, nested arrays otherwise; NaN and ±Infinity as strings. */
export const jsonValue = (t: Tensor): unknown => {
  const fix = (v: unknown): unknown =>
    typeof v === 'number' ? (Number.isFinite(v) ? v : String(v)) : Array.isArray(v) ? v.map(fix) : v
  return fix(t.toArray())
}

/**
 * The trace as plain JSON data: rows and adjoint steps with their values as numbers or arrays,
 * and the warnings (`{ row, op, kind, operand?, message }`) where a value or derivative is
 * undefined.
 */
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
    gradient: Object.fromEntries(Object.entries(t.gradient).map(([k, g]) => [k, jsonValue(g)])),
    warnings: t.warnings.map((w) => ({ row: w.row, op: w.op, kind: w.kind, ...(w.operand === undefined ? {} : { operand: w.operand }), message: w.message }))
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
        "An expression that starts with '-' goes last, after '--': lamina trace --at x=1 -- \"-x^2\"",
        'Where a value or a derivative is undefined (ln or sqrt of a negative number, division by zero, a negative base to a non-integer power, the derivative in an exponent whose base is negative), the trace still prints, with a warning under the tables (and in --json) that says what is undefined and why; the exit code stays 0.'
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
          `--tangent: ${quote(options.tangent)} is not a variable of the expression; ${names.length === 0 ? 'it has none' : `it uses ${names.join(', ')}`}`
        )
      }
      // the heading shows the expression as written; a NaN or ∞ the domain allows is a warning, not an error
      const traced = Trace.trace(Expr.compile(tree), point, {
        expression: Expr.toFormula(tree),
        ...(options.tangent === undefined ? {} : { tangent: options.tangent })
      })
      if (options.json === true) {
        io.stdout(`${JSON.stringify(traceJson(Expr.print(tree), point, options.tangent, traced), null, 2)}\n`)
      } else {
        io.stdout(Trace.render(traced, options.format, { digits }))
      }
      exit(ExitCode.ok)
    })
}
