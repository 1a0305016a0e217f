/**
 * Decoding failures (`path: expected TYPE, got VALUE`) and `DecodeError`, which lists them.
 * Re-exported by `Codec`.
 *
 * @module
 */
import { LaminaError } from '../../error.js'
import { plural } from './internal.js'

/** One decoding failure: where (`layers[2].units`), what was expected, and what was there. */
export interface Failure {
  /** The path to the value, as JavaScript writes it (`layers[2].units`); `''` for the root. */
  readonly path: string
  /** The expected type, in words (`positive integer`, `one of "sgd", "adam"`). */
  readonly expected: string
  /** The value found, as short JSON (`-3`, `"784"`, `undefined` for a missing key). */
  readonly got: string
}

/**
 * One line of a report: `path: expected TYPE, got VALUE` (without the path at the root).
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Codec.formatFailure({ path: 'layers[2].units', expected: 'positive integer', got: '-3' }),
 *   'layers[2].units: expected positive integer, got -3')
 * assert.strictEqual(Codec.formatFailure({ path: '', expected: 'model spec', got: '5' }), 'expected model spec, got 5')
 * ```
 */
export const formatFailure = (f: Failure): string => `${f.path === '' ? '' : `${f.path}: `}expected ${f.expected}, got ${f.got}`

/**
 * A value read from outside (a file, a request, a JavaScript caller) did not have the
 * expected form. `what` names the thing decoded (`model spec`, `CSV dataset`), `failures`
 * lists every problem found (at most a few dozen; `omitted` counts the rest). The message
 * is `what: failure` for one failure, and a count followed by one indented line per failure
 * otherwise.
 *
 * @example
 * ```ts
 * import { Codec, LaminaError } from 'lamina-nn'
 * import assert from 'node:assert'
 * const e = new Codec.DecodeError('config', [{ path: 'epochs', expected: 'positive integer', got: '0' }])
 * assert.ok(e instanceof LaminaError)
 * assert.strictEqual(e.message, 'config: epochs: expected positive integer, got 0')
 * const two = new Codec.DecodeError('config', [e.failures[0]!, { path: 'seed', expected: 'integer', got: '0.5' }])
 * assert.strictEqual(two.message, 'config: 2 problems\n  epochs: expected positive integer, got 0\n  seed: expected integer, got 0.5')
 * ```
 */
export class DecodeError extends LaminaError {
  override name = 'DecodeError'
  constructor(
    /** What was being decoded, for the first words of the message. */
    readonly what: string,
    /** The problems found, in the order met. */
    readonly failures: readonly Failure[],
    /** How many further problems were found but not listed. */
    readonly omitted = 0
  ) {
    super(DecodeError.format(what, failures, omitted))
  }

  private static format(what: string, failures: readonly Failure[], omitted: number): string {
    const lines = failures.map(formatFailure)
    if (lines.length === 1 && omitted === 0) return `${what}: ${lines[0]}`
    const total = failures.length + omitted
    const more = omitted > 0 ? `\n  … and ${plural(omitted, 'more problem')}` : ''
    return `${what}: ${plural(total, 'problem')}\n${lines.map((l) => `  ${l}`).join('\n')}${more}`
  }
}
