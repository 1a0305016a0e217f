/**
 * Learning-rate schedules: plain functions `(step) => lr` from the number of updates already
 * applied (0 for the first update) to a learning rate. Every optimizer in `Optim` accepts one
 * wherever it accepts a number for `lr`.
 *
 * Schedules are pure and validate both their options (an `ArgumentError` naming the value) and
 * the step they are called with (a non-negative integer).
 *
 * @example
 * ```ts
 * import { Schedule } from 'lamina-nn'
 * import assert from 'node:assert'
 * const lr = Schedule.warmup({ steps: 10, schedule: Schedule.cosine({ initial: 0.1, steps: 90 }) })
 * assert.strictEqual(lr(0), 0)
 * assert.strictEqual(lr(10), 0.1)
 * assert.strictEqual(lr(100), 0)
 * ```
 *
 * @module
 */
import { ArgumentError } from '../error.js'

/** A learning-rate schedule: the learning rate for an update, given how many updates came before it. */
export type Schedule = (step: number) => number

const show = (x: unknown): string => (typeof x === 'number' || typeof x === 'bigint' ? String(x) : typeof x === 'string' ? JSON.stringify(x) : typeof x)

const checkOptions = (op: string, options: unknown, known: readonly string[]): Record<string, unknown> => {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ArgumentError(`${op}: expected an options record, got ${options === null ? 'null' : typeof options}`)
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new ArgumentError(`${op}: unknown option ${JSON.stringify(key)} (expected ${known.join(', ')})`)
  }
  return options as Record<string, unknown>
}

const nonNegative = (op: string, name: string, x: unknown): number => {
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) {
    throw new ArgumentError(`${op}: ${name} must be a finite number ≥ 0, got ${show(x)}`)
  }
  return x
}

const positive = (op: string, name: string, x: unknown): number => {
  if (typeof x !== 'number' || !Number.isFinite(x) || x <= 0) {
    throw new ArgumentError(`${op}: ${name} must be a finite number > 0, got ${show(x)}`)
  }
  return x
}

const count = (op: string, name: string, x: unknown, min: number): number => {
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < min) {
    throw new ArgumentError(`${op}: ${name} must be an integer ≥ ${min}, got ${show(x)}`)
  }
  return x
}

const checkStep = (op: string, step: unknown): number => count(op, 'the step', step, 0)

/**
 * The same learning rate at every step.
 *
 * @example
 * ```ts
 * import { Schedule } from 'lamina-nn'
 * import assert from 'node:assert'
 * const lr = Schedule.constant(0.01)
 * assert.strictEqual(lr(0), 0.01)
 * assert.strictEqual(lr(1000), 0.01)
 * ```
 */
export const constant = (value: number): Schedule => {
  const v = nonNegative('Schedule.constant', 'value', value)
  return (step) => {
    checkStep('Schedule.constant', step)
    return v
  }
}

/** Options of {@link step}. */
export interface StepOptions {
  /** The learning rate of the first `every` steps. */
  readonly initial: number
  /** What the rate is multiplied by every `every` steps (default 0.1). */
  readonly factor?: number
  /** How many steps each rate lasts (an integer ≥ 1). */
  readonly every: number
}

/**
 * Step decay: `initial · factor^⌊step / every⌋`, the rate dropping by `factor` every `every` steps.
 *
 * @example
 * ```ts
 * import { Schedule } from 'lamina-nn'
 * import assert from 'node:assert'
 * const lr = Schedule.step({ initial: 1, factor: 0.5, every: 10 })
 * assert.deepStrictEqual([lr(0), lr(9), lr(10), lr(25)], [1, 1, 0.5, 0.25])
 * ```
 */
export const step = (options: StepOptions): Schedule => {
  const op = 'Schedule.step'
  const o = checkOptions(op, options, ['initial', 'factor', 'every'])
  const initial = nonNegative(op, 'initial', o['initial'])
  const factor = nonNegative(op, 'factor', o['factor'] ?? 0.1)
  const every = count(op, 'every', o['every'], 1)
  return (s) => initial * factor ** Math.floor(checkStep(op, s) / every)
}

/** Options of {@link exponential}. */
export interface ExponentialOptions {
  /** The learning rate at step 0. */
  readonly initial: number
  /** What the rate is multiplied by at every step (> 0; below 1 to decay). */
  readonly decay: number
}

/**
 * Exponential decay: `initial · decayˢᵗᵉᵖ`.
 *
 * @example
 * ```ts
 * import { Schedule } from 'lamina-nn'
 * import assert from 'node:assert'
 * const lr = Schedule.exponential({ initial: 1, decay: 0.5 })
 * assert.deepStrictEqual([lr(0), lr(1), lr(3)], [1, 0.5, 0.125])
 * ```
 */
export const exponential = (options: ExponentialOptions): Schedule => {
  const op = 'Schedule.exponential'
  const o = checkOptions(op, options, ['initial', 'decay'])
  const initial = nonNegative(op, 'initial', o['initial'])
  const decay = positive(op, 'decay', o['decay'])
  return (s) => initial * decay ** checkStep(op, s)
}

/** Options of {@link cosine}. */
export interface CosineOptions {
  /** The learning rate at step 0. */
  readonly initial: number
  /** The step at which the rate reaches `final` (an integer ≥ 1); it stays there afterwards. */
  readonly steps: number
  /** The rate at and after `steps` (default 0). */
  readonly final?: number
}

/**
 * Cosine annealing (Loshchilov & Hutter): `final + (initial − final) · (1 + cos(π · step / steps)) / 2`
 * for `step ≤ steps`, then `final`.
 *
 * @example
 * ```ts
 * import { Schedule } from 'lamina-nn'
 * import assert from 'node:assert'
 * const lr = Schedule.cosine({ initial: 1, steps: 100, final: 0.1 })
 * assert.strictEqual(lr(0), 1)
 * assert.ok(Math.abs(lr(50) - 0.55) < 1e-15)
 * assert.strictEqual(lr(100), 0.1)
 * assert.strictEqual(lr(500), 0.1)
 * ```
 */
export const cosine = (options: CosineOptions): Schedule => {
  const op = 'Schedule.cosine'
  const o = checkOptions(op, options, ['initial', 'steps', 'final'])
  const initial = nonNegative(op, 'initial', o['initial'])
  const steps = count(op, 'steps', o['steps'], 1)
  const final = nonNegative(op, 'final', o['final'] ?? 0)
  return (s) => {
    const t = checkStep(op, s)
    return t >= steps ? final : final + ((initial - final) * (1 + Math.cos((Math.PI * t) / steps))) / 2
  }
}

/** Options of {@link warmup}. */
export interface WarmupOptions {
  /** The length of the linear ramp (an integer ≥ 0). */
  readonly steps: number
  /** The schedule that takes over after the ramp; it sees its own step count, starting at 0. */
  readonly schedule: Schedule
  /** The rate at step 0 (default 0). */
  readonly start?: number
}

/**
 * Linear warm-up, then the wrapped schedule: `start + (schedule(0) − start) · step / steps` for
 * `step < steps`, then `schedule(step − steps)`. The ramp ends where the wrapped schedule begins,
 * so the rate is continuous at `steps`.
 *
 * @example
 * ```ts
 * import { Schedule } from 'lamina-nn'
 * import assert from 'node:assert'
 * const lr = Schedule.warmup({ steps: 4, schedule: Schedule.exponential({ initial: 1, decay: 0.5 }) })
 * assert.deepStrictEqual([0, 1, 2, 3, 4, 5, 6].map((s) => lr(s)), [0, 0.25, 0.5, 0.75, 1, 0.5, 0.25])
 * ```
 */
export const warmup = (options: WarmupOptions): Schedule => {
  const op = 'Schedule.warmup'
  const o = checkOptions(op, options, ['steps', 'schedule', 'start'])
  const steps = count(op, 'steps', o['steps'], 0)
  const start = nonNegative(op, 'start', o['start'] ?? 0)
  const inner = o['schedule']
  if (typeof inner !== 'function') throw new ArgumentError(`${op}: schedule must be a function (step) => lr, got ${show(inner)}`)
  const after = inner as Schedule
  return (s) => {
    const t = checkStep(op, s)
    if (t >= steps) return after(t - steps)
    return start + ((after(0) - start) * t) / steps
  }
}
