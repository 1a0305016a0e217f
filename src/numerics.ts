/**
 * Numerical debugging: with checks on, every primitive's output is scanned and the first
 * one that produces NaN or ±Infinity throws a {@link NumericsError} naming the primitive,
 * its input shapes, and where it ran: the n-th forward operation, or, for the operations a
 * derivative rule runs, that rule (`backward rule of sqrt (node 3, input 0)` from the tape,
 * `reverse (adjoint) rule of sqrt (row v₁, input 0)` or `tangent rule of …` from a trace),
 * so the derivative of `sqrt` at 0 is never blamed on the forward pass. Off by default; when
 * off, each primitive pays one boolean test.
 *
 * Turn it on for a block with {@link withChecks}, globally with {@link setChecks}, or for a
 * whole process with the environment variable `LAMINA_CHECK_NUMERICS=1`.
 *
 * @module
 */
import { LaminaError } from './error.js'
import * as Sh from './shape.js'
import type { Shape } from './shape.js'
import type { Buffer } from './tensor.js'

/**
 * The first non-finite value of a checked computation.
 *
 * @example
 * ```ts
 * import { Numerics, tensor, log, sum } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.throws(() => Numerics.withChecks(() => sum(log(tensor([1, 0])))), Numerics.NumericsError)
 * ```
 */
export class NumericsError extends LaminaError {
  override name = 'NumericsError'
  constructor(
    message: string,
    readonly prim: string,
    readonly inputShapes: readonly Shape[],
    readonly where: string
  ) {
    super(message)
  }
}

const fromEnvironment = (): boolean => {
  const env = typeof process !== 'undefined' ? process.env?.['LAMINA_CHECK_NUMERICS'] : undefined
  return env !== undefined && env !== '' && env !== '0' && env !== 'false'
}

// The checker's state: whether it is on, how many primitives ran, and the backward rule
// being evaluated (if any). Module state, but only observable through the error message.
let on = fromEnvironment()
let counter = 0
let phase: string | undefined

/**
 * Whether checks are on.
 *
 * @example
 * ```ts
 * import { Numerics } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Numerics.withChecks(() => Numerics.enabled()), true)
 * ```
 */
export const enabled = (): boolean => on

/**
 * Turns checks on or off for the rest of the process; returns the previous setting.
 *
 * @example
 * ```ts
 * import { Numerics } from 'lamina-nn'
 * import assert from 'node:assert'
 * const before = Numerics.setChecks(true)
 * assert.ok(Numerics.enabled())
 * Numerics.setChecks(before)
 * ```
 */
export const setChecks = (value: boolean): boolean => {
  const previous = on
  on = value
  counter = 0
  return previous
}

/**
 * Runs `f` with checks on (and the step counter from zero), restoring the previous setting.
 *
 * @example
 * ```ts
 * import { Numerics, tensor, exp } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.throws(() => Numerics.withChecks(() => exp(tensor([1000]))), /exp produced Infinity at forward step 1/)
 * assert.strictEqual(exp(tensor([1000])).item(), Infinity) // unchecked: no error
 * ```
 */
export const withChecks = <A>(f: () => A): A => {
  const [wasOn, wasCount, wasPhase] = [on, counter, phase]
  on = true
  counter = 0
  phase = undefined
  try {
    return f()
  } finally {
    on = wasOn
    counter = wasCount
    phase = wasPhase
  }
}

/** @internal runs a derivative rule (backward, adjoint, tangent) under a label, so an error can say which rule it was */
export const inPhase = <A>(label: string, f: () => A): A => {
  if (!on) return f()
  const previous = phase
  phase = label
  try {
    return f()
  } finally {
    phase = previous
  }
}

const firstNonFinite = (b: Buffer | ArrayLike<number>): number => {
  for (let i = 0; i < b.length; i++) if (!Number.isFinite(b[i]!)) return i
  return -1
}

/** @internal called by `bind` after each concrete primitive when checks are on */
export const check = (prim: string, inputs: readonly { readonly shape: Shape; readonly data: ArrayLike<number> }[], output: Buffer): void => {
  counter++
  const bad = firstNonFinite(output)
  if (bad < 0) return
  const value = output[bad]!
  const where = phase === undefined ? `forward step ${counter}` : `${phase} (step ${counter})`
  const tainted = inputs.some((x) => firstNonFinite(x.data) >= 0)
  const shapes = inputs.map((x) => x.shape)
  throw new NumericsError(
    `numerics: ${prim} produced ${String(value)} at ${where}, element ${bad}; inputs ${shapes.map((s) => Sh.show(s)).join(', ')}` +
      (tainted ? ' (an input was already non-finite: it came from outside the checked computation)' : ''),
    prim,
    shapes,
    where
  )
}
