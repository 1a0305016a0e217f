/**
 * How the commands read their options and report failures: integer and positive-number
 * options (bad usage, exit 2, otherwise), lamina errors and `Either` lefts as one-line
 * failures (exit 1), and numbers as JSON values.
 *
 * @module
 */
import * as E from 'fp-ts/lib/Either.js'
import { LaminaError } from '../error.js'
import * as Checkpoint from '../io/checkpoint.js'
import * as Safetensors from '../io/safetensors.js'
import { parseDecimal } from '../io/codec.js'
import { CommandFailure, UsageError, quote } from './command.js'

/** A message on one line: a multi-line message (a `DecodeError`'s list of problems) joined with `; `. */
export const oneLine = (message: string): string =>
  message
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join('; ')

/** A lamina error as a one-line failure (exit 1): `ShapeError: layer 3 expects …`. */
export const failure = (e: LaminaError): CommandFailure =>
  new CommandFailure(
    e instanceof Safetensors.SafetensorsError || e instanceof Checkpoint.CheckpointError ? oneLine(e.message) : `${e.name}: ${oneLine(e.message)}`
  )

/** The right of an `Either`, or its left thrown as a one-line failure. */
export const orFail = <A>(result: E.Either<LaminaError, A>, context?: string): A => {
  if (E.isRight(result)) return result.right
  const e = failure(result.left)
  throw context === undefined ? e : new CommandFailure(`${context}: ${e.message}`)
}

/** An integer option: `--epochs 3`; bad usage otherwise. */
export const intOption = (name: string, text: string, min: number): number => {
  const n = Number(text)
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`${name} must be an integer ${min === 0 ? '≥ 0' : `≥ ${min}`}, got ${quote(text)}`)
  }
  return n
}

/** A positive number option: `--lr 0.001`; bad usage otherwise. */
export const positiveOption = (name: string, text: string): number => {
  const n = parseDecimal(text)
  if (n === undefined || n <= 0) throw new UsageError(`${name} must be a positive number, got ${quote(text)}`)
  return n
}

/** A tensor's values as JSON numbers (non-finite ones as strings). */
export const jsonNumbers = (values: ArrayLike<number>): (number | string)[] =>
  Array.from(values, (v) => (Number.isFinite(v) ? v : String(v)))
