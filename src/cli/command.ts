/**
 * The frame every `lamina` subcommand shares: its output streams ({@link Io}), its exit codes
 * ({@link ExitCode}), what its action may use ({@link Context}), how it adds itself to the
 * program ({@link Subcommand}), and the error for bad usage ({@link UsageError}). Each
 * subcommand lives in its own module beside this one and is listed in `main.ts`'s registry.
 *
 * @module
 */
import type { Command } from 'commander'

/** Where the command writes: `process.stdout`/`process.stderr`, or strings collected by a test. */
export interface Io {
  readonly stdout: (text: string) => void
  readonly stderr: (text: string) => void
  /** Whether stdout is a terminal (progress bars are drawn only then); absent means no. */
  readonly isTTY?: boolean
}

/** How many characters of a value a message echoes before cutting it. */
const SHOWN = 60

/**
 * A value from the command line or a file, quoted for a one-line message: `'abc'`, or, when
 * longer than 60 characters, its start, an ellipsis and its length (`'aaaa…' (10000000
 * characters)`), so that no message echoes more than about 100 characters of what it was given.
 * Line breaks are shown as `\n`, so the message stays on one line. (Tested in
 * `test/hostile.cli.test.ts`; the CLI modules are not part of the package's API.)
 */
export const quote = (text: string): string => {
  const cut = text.length > SHOWN ? text.slice(0, SHOWN) : text
  const shown = cut.replace(/\r?\n|\r/g, '\\n')
  return text.length > SHOWN ? `'${shown}…' (${text.length} characters)` : `'${shown}'`
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

/**
 * A failure the command found (a file that is not a valid model, a law that does not hold):
 * `main` prints `lamina <command>: <message>` and returns 1.
 */
export class CommandFailure extends Error {
  override name = 'CommandFailure'
}
