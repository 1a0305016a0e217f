/**
 * What the dataset readers share: limits, a failure list that counts what it leaves out, a
 * buffer of numbers that grows as rows are read, and the walk over JSON examples (rectangular
 * nests of finite numbers) that reports every bad cell by its path.
 *
 * @module
 */
import { ShapeError, catchLaminaError } from '../../error.js'
import * as Sh from '../../shape.js'
import type { Shape } from '../../shape.js'
import { allocate } from '../../tensor.js'
import type { DType } from '../../tensor.js'
import { DecodeError, showValue } from '../codec.js'
import type { Failure } from '../codec.js'

/** The largest label: labels are stored as int32. */
export const INT32_MAX = 2 ** 31 - 1

/** The most numbers a file may hold in all. */
export const MAX_VALUES = 2 ** 31

/** `n word`, with an `s` unless `n` is 1. */
export const count = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`

/** Collects failures up to a limit, counting the rest. */
export class Failures {
  readonly list: Failure[] = []
  omitted = 0
  constructor(readonly limit: number) {}
  add(path: string, expected: string, got: string): void {
    if (this.list.length < this.limit) this.list.push({ path, expected, got })
    else this.omitted++
  }
  get full(): boolean {
    return this.list.length >= this.limit
  }
  get empty(): boolean {
    return this.list.length === 0
  }
  error(what: string): DecodeError {
    return new DecodeError(what, this.list, this.omitted)
  }
}

/**
 * The values of `x`, in a buffer that grows (doubling) up to `max` numbers as rows are
 * actually read: a file that claims many rows but holds little (a million empty rows, a
 * header of 784 columns over rows of one cell) costs memory in proportion to what it
 * holds, not to what it claims.
 */
export class Values {
  buffer: Float32Array | Float64Array
  at = 0
  constructor(
    readonly dtype: DType,
    readonly max: number
  ) {
    this.buffer = allocate(dtype, Math.min(max, 4096))
  }
  /** Makes room for the first `n` numbers. */
  ensure(n: number): void {
    if (n <= this.buffer.length) return
    const next = allocate(this.dtype, Math.min(this.max, Math.max(n, 2 * this.buffer.length)))
    next.set(this.buffer)
    this.buffer = next
  }
  /** The buffer of exactly `n` numbers (default `max`, once every row was read). */
  full(n = this.max): Float32Array | Float64Array {
    if (this.buffer.length === n) return this.buffer
    const exact = allocate(this.dtype, n)
    exact.set(this.buffer.subarray(0, n))
    return exact
  }
}

/**
 * A `ShapeError` unless a row of the data (`example`, as read) has as many elements as the
 * model's input `shape`: the model's size first, then the data's.
 */
export const checkWidth = (what: string, shape: Shape, example: Shape, model = 'the model'): void => {
  const [expects, has] = [Sh.size(shape), Sh.size(example)]
  if (expects === has) return
  const as = example.length > 1 ? ` (examples of shape ${Sh.show(example)})` : ''
  throw new ShapeError(`${what}: ${model} expects ${count(expects, 'feature')} per example (input shape ${Sh.show(shape)}), the data rows have ${has}${as}`)
}

/** Runs a reader, a thrown `LaminaError` becoming a `Left`. */
export const run = catchLaminaError

/** Whether a value is an `[object Object]`: an object, not an array, a date, a typed array… */
export const isRecord = (u: unknown): u is Record<string, unknown> => Object.prototype.toString.call(u) === '[object Object]'

/** An own property of a parsed object, never one inherited from its prototype. */
export const own = (o: Record<string, unknown>, k: string): unknown =>
  Object.prototype.hasOwnProperty.call(o, k) ? (Object.getOwnPropertyDescriptor(o, k)?.value as unknown) : undefined

/** The most axes an example may have (a deeper nest is rejected rather than walked). */
export const MAX_RANK = 32

/**
 * The nested shape of a value along its first elements (`[[1, 2], [3, 4]]` → `[2, 2]`),
 * walked iteratively and only to depth `MAX_RANK + 1`: a longer result means "too deep".
 */
export const leadingShape = (u: unknown): number[] => {
  const shape: number[] = []
  let cur = u
  while (Array.isArray(cur) && shape.length <= MAX_RANK) {
    shape.push(cur.length)
    cur = cur[0]
  }
  return shape
}

/**
 * Flattens one example (a rectangular nest of numbers of shape `shape`) onto `out`,
 * reporting every cell that is not a finite number and every row of the wrong length, by
 * path (the values pushed are then incomplete, and unused). Paths are only built for
 * failures, so a clean MNIST-sized file costs one loop.
 */
export const flattenExample = (
  u: unknown,
  shape: Shape,
  index: number,
  out: { readonly buffer: Float32Array | Float64Array; at: number },
  failures: Failures,
  root = 'x'
): void => {
  const at: number[] = [index]
  const path = (): string => root + at.map((i) => `[${i}]`).join('')
  if (shape.length === 0) {
    // a scalar example
    if (typeof u === 'number' && Number.isFinite(u)) out.buffer[out.at++] = u
    else {
      failures.add(path(), 'a finite number', showValue(u))
      out.at++
    }
    return
  }
  const walk = (v: unknown, depth: number): void => {
    const n = shape[depth]!
    if (!Array.isArray(v) || v.length !== n) {
      const like = `${root}${'[0]'.repeat(at.length)}`
      failures.add(path(), `an array of ${n} ${depth === shape.length - 1 ? 'numbers' : 'arrays'} (like ${like})`, Array.isArray(v) ? count(v.length, 'item') : showValue(v))
      return
    }
    if (depth === shape.length - 1) {
      for (let i = 0; i < n; i++) {
        const c: unknown = v[i]
        if (typeof c === 'number' && Number.isFinite(c)) out.buffer[out.at++] = c
        else {
          at.push(i)
          failures.add(path(), 'a finite number', showValue(c))
          at.pop()
          out.at++
        }
      }
      return
    }
    for (let i = 0; i < n && !failures.full; i++) {
      at.push(i)
      walk(v[i], depth + 1)
      at.pop()
    }
  }
  walk(u, 0)
}

/**
 * The examples `x` of a JSON dataset: N examples of one rectangular shape (the first's), each
 * problem a failure at its path; their size is checked against the `shape` option before the
 * rows are walked.
 */
export const readExamples = (
  x: unknown,
  what: string,
  options: { readonly shape?: Shape; readonly model?: string } | undefined,
  dtype: DType,
  failures: Failures
): { readonly values: Values; readonly example: number[]; readonly rows: number } => {
  let values = new Values(dtype, 0)
  let example: number[] = []
  let rows = 0
  if (!Array.isArray(x)) failures.add('x', 'an array of examples (arrays of numbers)', showValue(x))
  else if (x.length === 0) failures.add('x', 'at least one example', '[]')
  else {
    example = leadingShape(x[0])
    if (example.length === 0) failures.add('x[0]', 'an example: an array of numbers', showValue(x[0]))
    else if (example.length > MAX_RANK) failures.add('x[0]', `an example of at most ${MAX_RANK} axes (nested arrays)`, `more than ${MAX_RANK} nested arrays`)
    else {
      rows = x.length
      const size = Sh.size(example)
      // the model's size first: a mismatch is reported before the rows are walked
      if (options?.shape !== undefined) checkWidth(what, options.shape, example, options.model)
      if (!Number.isSafeInteger(rows * size) || rows * size > MAX_VALUES) failures.add('x', 'at most 2³¹ numbers in all', `${rows} examples of ${size}`)
      else {
        values = new Values(dtype, rows * size)
        for (let i = 0; i < x.length && !failures.full; i++) {
          values.ensure((i + 1) * size)
          flattenExample(x[i], example, i, values, failures)
        }
      }
    }
  }
  return { values, example, rows }
}
