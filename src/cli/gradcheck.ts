/**
 * `lamina gradcheck [--runs N] [--json]`: the gradient-law harness (`lamina-nn/laws`) over every
 * primitive of the table (`checkPrimitive`: reverse and forward mode against finite
 * differences, the inner-product identity, forward/reverse agreement, Hessian symmetry and
 * Hessian-vector products) and every layer kind (`checkGradient` on dense, conv2d, maxPool2d,
 * batchNorm, …), as a table; exit 1 if any law fails.
 *
 * The harness and fast-check (a devDependency) are loaded only when the command runs.
 *
 * @module
 */
import * as Prim from '../prim.js'
import type { Tensor } from '../tensor.js'
import { CommandFailure, ExitCode, UsageError } from './command.js'
import type { Subcommand } from './command.js'
import { intOption } from './options.js'

/** One row of the table: a primitive or a layer, the cases run, the worst error, the verdict. */
export interface GradcheckRow {
  readonly kind: 'primitive' | 'layer'
  readonly name: string
  readonly cases: number
  /** The largest relative error over the laws checked (for a failure: the law's message). */
  readonly maxError: number
  /** The tolerance of the law with the largest error relative to its tolerance. */
  readonly tolerance: number
  readonly ok: boolean
  readonly failure?: string
}

/** Runs the harness; `only` (names, primitives or layers) restricts it. */
export const gradcheck = async (runs: number, seed: number | undefined, only: readonly string[] | undefined): Promise<GradcheckRow[]> => {
  const { checkPrimitive } = await import('../../laws/primitive-laws.js')
  const { LawFailure } = await import('../../laws/run.js')
  const { checkGradient } = await import('../../laws/laws.js')
  const { layerCases } = await import('../../laws/layer-laws.js')
  const wanted = (name: string) => only === undefined || only.includes(name)
  const options = seed === undefined ? {} : { seed }
  const rows: GradcheckRow[] = []
  const failed = (kind: GradcheckRow['kind'], name: string, e: unknown): GradcheckRow => {
    if (!(e instanceof LawFailure) && !(e instanceof Error)) throw e
    return { kind, name, cases: 0, maxError: Number.NaN, tolerance: Number.NaN, ok: false, failure: (e.message.split('\n')[0] ?? '').trim() }
  }
  const second = Math.max(1, Math.round(runs / 5))
  for (const prim of Prim.names) {
    if (!wanted(prim)) continue
    try {
      const reports = checkPrimitive(prim, { gradient: runs, jvp: runs, innerProduct: runs, forwardReverse: second, secondOrder: second }, options)
      const worst = reports.reduce((a, b) => (b.maxError / b.tolerance > a.maxError / a.tolerance ? b : a))
      rows.push({ kind: 'primitive', name: prim, cases: reports.reduce((n, r) => n + r.cases, 0), maxError: worst.maxError, tolerance: worst.tolerance, ok: reports.every((r) => r.maxError <= r.tolerance) })
    } catch (e) {
      rows.push(failed('primitive', prim, e))
    }
  }
  for (const c of layerCases()) {
    if (!wanted(c.name)) continue
    try {
      const report = checkGradient(c.f as (x: unknown) => Tensor, c.inputs, { ...options, numRuns: runs, ...(c.seed === undefined ? {} : { seed: c.seed }) })
      rows.push({ kind: 'layer', name: c.name, cases: report.cases, maxError: report.maxError, tolerance: report.tolerance, ok: report.maxError <= report.tolerance })
    } catch (e) {
      rows.push(failed('layer', c.name, e))
    }
  }
  if (only !== undefined) {
    const known = new Set(rows.map((r) => r.name))
    const unknown = only.filter((n) => !known.has(n))
    if (unknown.length > 0) throw new UsageError(`--only: no primitive or layer named ${unknown.map((n) => `'${n}'`).join(', ')}`)
  }
  return rows
}

/** The rows as a text table. */
export const renderGradcheck = (rows: readonly GradcheckRow[]): string => {
  const header = ['kind', 'name', 'cases', 'max rel. error', 'tolerance', 'verdict']
  const cells = rows.map((r) => [
    r.kind,
    r.name,
    String(r.cases),
    Number.isNaN(r.maxError) ? '—' : r.maxError.toExponential(2),
    Number.isNaN(r.tolerance) ? '—' : r.tolerance.toExponential(0),
    r.ok ? 'ok' : `FAIL${r.failure === undefined ? '' : `: ${r.failure}`}`
  ])
  const widths = header.map((h, c) => Math.max(h.length, ...cells.slice(0).map((r) => (c === 5 ? 0 : r[c]!.length))))
  const line = (row: readonly string[]) => row.map((cell, c) => (c === 5 ? cell : c >= 2 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd()
  return [line(header), line(widths.map((w, c) => '-'.repeat(c === 5 ? 7 : w))), ...cells.map(line)].join('\n')
}

interface GradcheckCliOptions {
  readonly runs: string
  readonly seed?: string
  readonly only?: string
  readonly json?: boolean
}

/** `lamina gradcheck`. */
export const gradcheckCommand: Subcommand = (program, { io, exit }) => {
  program
    .command('gradcheck')
    .summary('check every derivative against finite differences (the law harness)')
    .description(
      'Run the gradient-law harness over every primitive (reverse and forward mode vs finite differences, the inner-product identity, forward/reverse agreement, Hessian symmetry, Hessian-vector products) and every layer kind (the parameter and input gradients vs finite differences), and print a table: name, cases, the largest relative error, the verdict. Exit 1 if any law fails.'
    )
    .option('--runs <n>', 'generated cases per law (the second-order laws get a fifth)', '50')
    .option('--seed <n>', 'fast-check seed, to replay a run')
    .option('--only <names>', 'only these primitives or layers, comma-separated (e.g. tanh,matmul,dense)')
    .option('--json', 'print the rows as JSON')
    .addHelpText('after', '\nExamples:\n  $ lamina gradcheck --runs 20\n  $ lamina gradcheck --only tanh,dense,conv2d --json\n')
    .action(async (options: GradcheckCliOptions) => {
      const runs = intOption('--runs', options.runs, 1)
      const seed = options.seed === undefined ? undefined : intOption('--seed', options.seed, 0)
      const only = options.only?.split(',').map((s) => s.trim()).filter((s) => s !== '')
      let rows: GradcheckRow[]
      try {
        rows = await gradcheck(runs, seed, only)
      } catch (e) {
        if (e instanceof UsageError) throw e
        if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') throw new CommandFailure('gradcheck needs fast-check (a devDependency of lamina): npm install fast-check')
        throw e
      }
      const failures = rows.filter((r) => !r.ok).length
      if (options.json === true) {
        io.stdout(`${JSON.stringify({ runs, seed: seed ?? null, ok: failures === 0, rows: rows.map((r) => ({ ...r, maxError: Number.isNaN(r.maxError) ? null : r.maxError, tolerance: Number.isNaN(r.tolerance) ? null : r.tolerance })) }, null, 2)}\n`)
      } else {
        io.stdout(`${renderGradcheck(rows)}\n\n${rows.length - failures} of ${rows.length} passed${failures === 0 ? '' : `, ${failures} failed`}\n`)
      }
      exit(failures === 0 ? ExitCode.ok : ExitCode.failed)
    })
}
