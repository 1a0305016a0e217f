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
import { CommandFailure, ExitCode, UsageError } from './command.js'
import type { Context, Io, Subcommand } from './command.js'
import { traceCommand } from './trace.js'
import { trainCommand } from './train.js'
import { evalCommand } from './eval.js'
import { predictCommand } from './predict.js'
import { inspectCommand } from './inspect.js'
import { gradcheckCommand } from './gradcheck.js'
import { benchCommand } from './bench.js'

// the frame and the trace command, re-exported for the callers that imported them from here
export { CommandFailure, ExitCode, UsageError } from './command.js'
export type { Context, Io, Subcommand } from './command.js'
export { parseAt, traceCommand, traceJson } from './trace.js'

const processIo: Io = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  isTTY: process.stdout.isTTY === true
}

// ================================================================ the program

/** The subcommands of `lamina`, in the order `--help` lists them. */
export const subcommands: readonly Subcommand[] = [traceCommand, trainCommand, evalCommand, predictCommand, inspectCommand, gradcheckCommand, benchCommand]

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
