/**
 * Seeded, splittable randomness (JAX style): a `Key` is an immutable value; `split` derives
 * independent keys, and a sampler given the same key always returns the same tensor. No
 * global state, so the same seed gives the same weights and the same training run.
 *
 * The generator is counter-based: element `i` of a sample is a hash of `(key, i)`, using
 * two rounds of a 32-bit avalanche mix per word, so samples of any size need no sequential state.
 *
 * @module
 */
import { ArgumentError } from './error.js'
import * as Sh from './shape.js'
import type { Shape } from './shape.js'
import { allocate, checkDType, fromOwnedBuffer } from './tensor.js'
import type { DType, Options, Tensor } from './tensor.js'

/** A random key: two 32-bit words. */
export interface Key {
  readonly hi: number
  readonly lo: number
}

// murmur3's finalizer: a bijective 32-bit mix with full avalanche
const fmix = (h: number): number => {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

const hash = (key: Key, counter: number, stream: number): number =>
  fmix(fmix(key.hi ^ Math.imul(counter + 1, 0x9e3779b9)) ^ fmix(key.lo + Math.imul(stream + 1, 0x7f4a7c15)))

/**
 * A key from an integer seed.
 *
 * @example
 * ```ts
 * import { Random } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(Random.key(42), Random.key(42))
 * ```
 */
export const key = (seed: number): Key => {
  if (!Number.isSafeInteger(seed)) throw new ArgumentError(`Random.key: the seed must be a safe integer, got ${seed}`)
  const lo = seed >>> 0
  const hi = Math.floor(seed / 2 ** 32) >>> 0
  return { hi: fmix(hi ^ 0x2545f491), lo: fmix(lo ^ 0x9e3779b9) }
}

/**
 * `n` new keys, independent of each other and of `k` (default 2).
 *
 * @example
 * ```ts
 * import { Random } from 'lamina-nn'
 * import assert from 'node:assert'
 * const [a, b] = Random.split(Random.key(0))
 * assert.notDeepStrictEqual(a, b)
 * ```
 */
export const split = (k: Key, n = 2): Key[] => {
  if (!Number.isSafeInteger(n) || n < 0) throw new ArgumentError(`Random.split: the count must be a non-negative integer, got ${n}`)
  return Array.from({ length: n }, (_, i) => ({ hi: hash(k, i, 0x51ed), lo: hash(k, i, 0x0b5e) }))
}

/**
 * The `i`-th key of `split(k, n)` (the same for every `n > i`), drawn alone: a stream of keys
 * read lazily, e.g. one per epoch, without allocating the others.
 *
 * @example
 * ```ts
 * import { Random } from 'lamina-nn'
 * import assert from 'node:assert'
 * const k = Random.key(7)
 * assert.deepStrictEqual(Random.splitAt(k, 3), Random.split(k, 5)[3])
 * ```
 */
export const splitAt = (k: Key, i: number): Key => {
  if (!Number.isSafeInteger(i) || i < 0) throw new ArgumentError(`Random.splitAt: the index must be a non-negative integer, got ${i}`)
  return { hi: hash(k, i, 0x51ed), lo: hash(k, i, 0x0b5e) }
}

const f32 = new Float32Array(1)
const f32bits = new Int32Array(f32.buffer)

const f64 = new Float64Array(1)
const f64bits = new BigInt64Array(f64.buffer)

/** The largest float64 strictly below `x` (x finite). */
const float64Below = (x: number): number => {
  if (x === 0) return -Number.MIN_VALUE
  f64[0] = x
  f64bits[0] = f64bits[0]! + (x > 0 ? -1n : 1n)
  return f64[0]!
}

/** The largest float32 strictly below `x` (x a finite float32). */
const float32Below = (x: number): number => {
  f32[0] = x
  if (x === 0) f32bits[0] = 0x80000001 | 0 // −(smallest subnormal)
  else f32bits[0] = f32bits[0]! + (x > 0 ? -1 : 1)
  return f32[0]!
}

/** 53 random bits as a float in [0, 1). */
const unit = (k: Key, i: number): number => (hash(k, i, 1) * 2 ** 21 + (hash(k, i, 2) >>> 11)) / 2 ** 53

/**
 * Uniform samples in `[low, high)`.
 *
 * @example
 * ```ts
 * import { Random } from 'lamina-nn'
 * import assert from 'node:assert'
 * const u = Random.uniform(Random.key(1), [1000], { low: -1, high: 1 })
 * assert.ok([...u.data].every((v) => v >= -1 && v < 1))
 * ```
 */
export const uniform = <const S extends Shape, D extends DType = 'f64'>(
  k: Key,
  shape: S,
  options?: Options<D> & { readonly low?: number; readonly high?: number }
): Tensor<Sh.Writable<S>, NoInfer<D>> => {
  Sh.validate(shape, 'Random.uniform')
  const dtype = checkDType(options?.dtype ?? 'f64') as D
  const low = options?.low ?? 0
  const high = options?.high ?? 1
  if (!(high > low) || !Number.isFinite(low) || !Number.isFinite(high)) throw new ArgumentError(`Random.uniform: expected finite low < high, got [${low}, ${high})`)
  const buf = allocate(dtype, Sh.size(shape))
  for (let i = 0; i < buf.length; i++) buf[i] = low + (high - low) * unit(k, i)
  // rounding to the storage type may land on `high`: keep the interval half-open
  const top = dtype === 'f32' ? (Math.fround(high) < high ? Math.fround(high) : float32Below(Math.fround(high))) : float64Below(high)
  for (let i = 0; i < buf.length; i++) if (buf[i]! >= high) buf[i] = top
  return fromOwnedBuffer(shape, dtype, buf)
}

/**
 * Normal samples with the given mean and standard deviation (Box–Muller).
 *
 * @example
 * ```ts
 * import { Random } from 'lamina-nn'
 * import assert from 'node:assert'
 * const z = Random.normal(Random.key(7), [20000])
 * const m = [...z.data].reduce((a, b) => a + b, 0) / z.size
 * assert.ok(Math.abs(m) < 0.05)
 * ```
 */
export const normal = <const S extends Shape, D extends DType = 'f64'>(
  k: Key,
  shape: S,
  options?: Options<D> & { readonly mean?: number; readonly std?: number }
): Tensor<Sh.Writable<S>, NoInfer<D>> => {
  Sh.validate(shape, 'Random.normal')
  const dtype = checkDType(options?.dtype ?? 'f64') as D
  const mean = options?.mean ?? 0
  const std = options?.std ?? 1
  if (!(std >= 0 && Number.isFinite(std) && Number.isFinite(mean))) throw new ArgumentError(`Random.normal: expected a finite mean and a finite, non-negative standard deviation, got mean ${mean}, std ${std}`)
  const buf = allocate(dtype, Sh.size(shape))
  for (let i = 0; i < buf.length; i += 2) {
    const u1 = 1 - unit(k, i) // in (0, 1], so the log is finite
    const u2 = unit(k, i + 1)
    const r = Math.sqrt(-2 * Math.log(u1))
    buf[i] = mean + std * r * Math.cos(2 * Math.PI * u2)
    if (i + 1 < buf.length) buf[i + 1] = mean + std * r * Math.sin(2 * Math.PI * u2)
  }
  return fromOwnedBuffer(shape, dtype, buf)
}
