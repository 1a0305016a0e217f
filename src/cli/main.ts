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
 * lamina train --spec model.json --data mnist --epochs 1 --out model.safetensors
 * lamina eval --model model.safetensors --data mnist
 * lamina predict --model model.safetensors --input inputs.json --output predictions.json
 * lamina inspect model.safetensors
 * lamina gradcheck --runs 20
 * ```
 *
 * The frame (Io, ExitCode, Context, Subcommand, UsageError, CommandFailure) is in `command.ts`;
 * each subcommand is its own module (`trace.ts`, `train.ts`, …) and {@link subcommands} is the
 * registry.
 *
 * This module imports the library by relative paths (not `'lamina-nn'`), so it runs from the
 * sources without the `lamina-src` export condition.
 *
 * @module
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Command, CommanderError } from 'commander'
import { LaminaError } from '../error.js'
import { CommandFailure, ExitCode, UsageError, quote } from './command.js'
import type { Context, Io, Subcommand } from './command.js'
import { traceCommand } from './trace.js'
import { trainCommand } from './train.js'
import { evalCommand } from './eval.js'
import { predictCommand } from './predict.js'
import { inspectCommand } from './inspect.js'
import { exportCommand, importCommand } from './export.js'
import { gradcheckCommand } from './gradcheck.js'
import { benchCommand } from './bench.js'

// the frame and the trace command, re-exported for the callers that imported them from here
export { CommandFailure, ExitCode, UsageError } from './command.js'
export type { Context, Io, Subcommand } from './command.js'
export { parseAt, traceCommand, traceJson } from './trace.js'

/**
 * A writer for a process stream that a closed reader cannot crash: the first error on the
 * stream (EPIPE when the reader went away, as in `lamina --help | head -1`) ends output to it
 * quietly, and later writes are dropped, so the command goes on with its work (a training
 * run still saves its model) and exits with its own code. An error other than EPIPE is
 * reported once on `report` (the other stream), if that one is still open.
 */
const guardedWriter = (stream: NodeJS.WritableStream, name: string, report?: (text: string) => void): ((text: string) => void) => {
  let open = true
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (!open) return
    open = false
    if (e.code !== 'EPIPE' && report !== undefined) report(`lamina: cannot write to ${name} (${e.code ?? e.message}); its output is dropped\n`)
  })
  return (text) => {
    if (!open) return
    try {
      stream.write(text)
    } catch {
      open = false // a stream destroyed under us: also a closed reader
    }
  }
}

let shared: Io | undefined

/** The process's streams, guarded once (so repeated `main` calls add no listeners). */
const processIo = (): Io => {
  if (shared === undefined) {
    const stderr = guardedWriter(process.stderr, 'stderr')
    shared = { stdout: guardedWriter(process.stdout, 'stdout', stderr), stderr, isTTY: process.stdout.isTTY === true }
  }
  return shared
}

// ================================================================ the program

/** The subcommands of `lamina`, in the order `--help` lists them. */
export const subcommands: readonly Subcommand[] = [traceCommand, trainCommand, evalCommand, predictCommand, inspectCommand, exportCommand, importCommand, gradcheckCommand, benchCommand]

/** The version in lamina's package.json (found by walking up from this file, in src or dist). */
const version = (): string => {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 5; i++) {
    const file = path.join(dir, 'package.json')
    if (existsSync(file)) {
      const pkg: unknown = JSON.parse(readFileSync(file, 'utf8'))
      if (typeof pkg === 'object' && pkg !== null && 'name' in pkg && pkg.name === 'lamina-nn' && 'version' in pkg) return String(pkg.version)
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
      outputError: (text, write) => write(clipQuoted(text))
    })
    .showSuggestionAfterError(true)
    .addHelpText('after', '\nExit codes: 0 ok, 1 a failed check, 2 bad usage.\nRun lamina <command> --help for a command’s options.\n')
  for (const add of subcommands) add(root, context)
  return root
}

/** The subcommand named in `argv` (for error messages), or none. */
const commandName = (argv: readonly string[]): string => {
  const first = argv.find((a) => !a.startsWith('-'))
  return first !== undefined && /^[a-z]{1,20}$/.test(first) ? ` ${first}` : ''
}

/** Commander's messages with every long quoted argument (`unknown option '--aaaa…'`) cut as {@link quote} does. */
const clipQuoted = (text: string): string => text.replace(/'([^'\n]{61,})'/g, (_, inner: string) => quote(inner))

/** The widest detail line (a caret rendering) shown whole; longer ones are windowed around the caret. */
const DETAIL_WIDTH = 100

/**
 * A detail block (an expression with a caret line below it) fit to {@link DETAIL_WIDTH}
 * columns: lines that are longer are cut to a window around the caret, marked with `…`.
 */
const fitDetail = (detail: string): string => {
  const lines = detail.split('\n')
  if (lines.every((l) => l.length <= DETAIL_WIDTH)) return detail
  const caret = lines.map((l) => l.indexOf('^')).find((c) => c >= 0) ?? 0
  const from = Math.max(0, caret - Math.floor(DETAIL_WIDTH / 2))
  return lines
    .map((l) => {
      const cut = l.slice(from, from + DETAIL_WIDTH)
      const blank = /^[\s^~]*$/.test(cut) // the caret line: no ellipsis, same alignment
      return `${from > 0 ? (blank ? ' ' : '…') : ''}${cut}${from + DETAIL_WIDTH < l.length && !blank ? '…' : ''}`
    })
    .join('\n')
}

/**
 * Runs `lamina` with the arguments after the program name and returns its exit code. Output
 * goes through `io` (the process's streams by default); tests pass functions that collect it:
 * `await main(['trace', 'x*x', '--at', 'x=3'], { stdout: (s) => out.push(s), stderr: (s) => err.push(s) })`.
 */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
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
      if (e.detail !== undefined) io.stderr(`${fitDetail(e.detail).replace(/^/gm, '  ')}\n`)
      return ExitCode.usage
    }
    if (e instanceof CommandFailure) {
      io.stderr(`${where}: ${e.message}\n`)
      return ExitCode.failed
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
