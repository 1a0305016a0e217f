/**
 * Seeded, splittable randomness: determinism, independence of split keys, and the first
 * moments of the samplers, each checked within 5 standard errors of its expected value (a
 * false alarm has probability below 1e-6 per check).
 */
import { describe, expect, it } from 'vitest'
import { fc, test } from '@fast-check/vitest'
import { ArgumentError, Random, ShapeError } from 'lamina-nn'
import type { Tensor } from 'lamina-nn'

const N = 100_000
const Z = 5 // standard errors allowed

const values = (t: Tensor): number[] => [...t.data]
const meanOf = (xs: readonly number[]): number => {
  let s = 0
  for (const x of xs) s += x
  return s / xs.length
}
/** The k-th central moment. */
const centralMoment = (xs: readonly number[], k: number): number => {
  const m = meanOf(xs)
  let s = 0
  for (const x of xs) s += (x - m) ** k
  return s / xs.length
}
const varianceOf = (xs: readonly number[]): number => centralMoment(xs, 2)
const correlation = (xs: readonly number[], ys: readonly number[]): number => {
  const mx = meanOf(xs)
  const my = meanOf(ys)
  let sxy = 0
  let sxx = 0
  let syy = 0
  xs.forEach((x, i) => {
    const y = ys[i]!
    sxy += (x - mx) * (y - my)
    sxx += (x - mx) ** 2
    syy += (y - my) ** 2
  })
  return sxy / Math.sqrt(sxx * syy)
}

/** |observed − expected| within Z standard errors; the message says by how much it missed. */
const expectWithin = (observed: number, expected: number, standardError: number): void => {
  const z = Math.abs(observed - expected) / standardError
  expect(z, `observed ${observed}, expected ${expected} ± ${standardError} (z = ${z})`).toBeLessThan(Z)
}

const seedArb = fc.maxSafeInteger()
const smallShapeArb = fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 0, maxLength: 3 })

// ---------------------------------------------------------------- determinism

describe('keys are values: same key, same sample', () => {
  test.prop([seedArb, smallShapeArb])('the same seed gives the same key and the same samples', (seed, shape) => {
    expect(Random.key(seed)).toEqual(Random.key(seed))
    const k = Random.key(seed)
    expect(values(Random.uniform(k, shape))).toEqual(values(Random.uniform(Random.key(seed), shape)))
    expect(values(Random.normal(k, shape))).toEqual(values(Random.normal(Random.key(seed), shape)))
    expect(values(Random.uniform(k, shape, { dtype: 'f32' }))).toEqual(values(Random.uniform(k, shape, { dtype: 'f32' })))
  })

  test.prop([seedArb])('a key is two unsigned 32-bit words', (seed) => {
    const k = Random.key(seed)
    expect([k.hi, k.lo].every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32)).toBe(true)
  })

  test.prop([seedArb, seedArb])('different seeds give different keys and samples', (s1, s2) => {
    fc.pre(s1 !== s2)
    expect(Random.key(s1)).not.toEqual(Random.key(s2))
    expect(values(Random.uniform(Random.key(s1), [8]))).not.toEqual(values(Random.uniform(Random.key(s2), [8])))
  })

  it('seeds that differ only above 32 bits or in sign give different keys', () => {
    const keys = [0, 2 ** 32, -1, 2 ** 32 - 1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER].map(Random.key)
    const distinct = new Set(keys.map((k) => `${k.hi}:${k.lo}`))
    expect(distinct.size).toBe(keys.length)
  })

  test.prop([seedArb])('sampling does not change the key, and the shape only arranges the stream', (seed) => {
    const k = Random.key(seed)
    const before = { ...k }
    const a = Random.uniform(k, [2, 3])
    const b = Random.uniform(k, [6])
    expect(k).toEqual(before)
    expect(a.shape).toEqual([2, 3])
    expect(values(a)).toEqual(values(b))
  })
})

// ---------------------------------------------------------------- split

describe('split', () => {
  test.prop([seedArb])('split keys differ from each other and from the parent, deterministically', (seed) => {
    const k = Random.key(seed)
    const [a, b] = Random.split(k)
    expect(Random.split(k)).toEqual([a, b])
    const ids = new Set([k, a!, b!].map((x) => `${x.hi}:${x.lo}`))
    expect(ids.size).toBe(3)
  })

  test.prop([seedArb])('split keys give different samples', (seed) => {
    const k = Random.key(seed)
    const [a, b] = Random.split(k)
    const sa = values(Random.uniform(a!, [16]))
    const sb = values(Random.uniform(b!, [16]))
    const sk = values(Random.uniform(k, [16]))
    expect(sa).not.toEqual(sb)
    expect(sa).not.toEqual(sk)
    expect(sb).not.toEqual(sk)
    expect(values(Random.normal(a!, [16]))).not.toEqual(values(Random.normal(b!, [16])))
  })

  test.prop([seedArb, fc.integer({ min: 0, max: 64 })])('split(k, n) gives n distinct keys', (seed, n) => {
    const keys = Random.split(Random.key(seed), n)
    expect(keys).toHaveLength(n)
    expect(new Set(keys.map((x) => `${x.hi}:${x.lo}`)).size).toBe(n)
  })

  test.prop([seedArb], { numRuns: 20 })('every key of a three-level split tree is distinct', (seed) => {
    const level = (ks: readonly Random.Key[]): Random.Key[] => ks.flatMap((k) => Random.split(k, 4))
    const l1 = level([Random.key(seed)])
    const l2 = level(l1)
    const l3 = level(l2)
    const all = [Random.key(seed), ...l1, ...l2, ...l3]
    expect(new Set(all.map((x) => `${x.hi}:${x.lo}`)).size).toBe(all.length)
  })

  it('samples from sibling keys are uncorrelated', () => {
    for (const seed of [0, 1, 42, 2 ** 40 + 7]) {
      const [a, b] = Random.split(Random.key(seed))
      const xs = values(Random.uniform(a!, [N]))
      const ys = values(Random.uniform(b!, [N]))
      expectWithin(correlation(xs, ys), 0, 1 / Math.sqrt(N))
      // and a parent with its child
      const zs = values(Random.uniform(Random.key(seed), [N]))
      expectWithin(correlation(xs, zs), 0, 1 / Math.sqrt(N))
    }
  })

  it('consecutive samples of one stream are uncorrelated (lag 1)', () => {
    const xs = values(Random.uniform(Random.key(3), [N + 1]))
    expectWithin(correlation(xs.slice(0, N), xs.slice(1)), 0, 1 / Math.sqrt(N))
  })
})

// ---------------------------------------------------------------- uniform

describe('uniform', () => {
  const ranges: [number, number][] = [
    [0, 1],
    [-1, 1],
    [5, 5.5],
    [-1000, 3000]
  ]
  for (const [low, high] of ranges) {
    it(`[${low}, ${high}): in range, mean and variance within 5 standard errors`, () => {
      const opts = low === 0 && high === 1 ? undefined : { low, high }
      const xs = values(Random.uniform(Random.key(11), [N], opts))
      expect(xs.every((x) => x >= low && x < high)).toBe(true)
      const w = high - low
      // mean: σ/√n with σ² = w²/12; variance: √(Var((x−μ)²)/n) with Var((x−μ)²) = w⁴/180
      expectWithin(meanOf(xs), (low + high) / 2, w / Math.sqrt(12 * N))
      expectWithin(varianceOf(xs), (w * w) / 12, (w * w) / Math.sqrt(180 * N))
    })
  }

  it('fills ten equal bins evenly (each count within 5 binomial standard errors)', () => {
    const xs = values(Random.uniform(Random.key(5), [N]))
    const counts = new Array<number>(10).fill(0)
    for (const x of xs) counts[Math.floor(x * 10)]!++
    for (const c of counts) expectWithin(c, N / 10, Math.sqrt(N * 0.1 * 0.9))
  })

  test.prop([seedArb, fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.double({ min: 1e-3, max: 1e6, noNaN: true })], {
    numRuns: 50
  })('every f64 sample lies in [low, high)', (seed, low, width) => {
    const high = low + width
    fc.pre(high > low)
    const xs = values(Random.uniform(Random.key(seed), [1000], { low, high }))
    expect(xs.every((x) => x >= low && x < high)).toBe(true)
  })

  test.prop([seedArb], { numRuns: 20 })('mean within 5 standard errors for random keys', (seed) => {
    const xs = values(Random.uniform(Random.key(seed), [N], { low: -2, high: 6 }))
    expectWithin(meanOf(xs), 2, 8 / Math.sqrt(12 * N))
  })

  it('f32 samples are float32 values in range', () => {
    const t = Random.uniform(Random.key(9), [N], { low: -1, high: 1, dtype: 'f32' })
    expect(t.dtype).toBe('f32')
    expect(t.data).toBeInstanceOf(Float32Array)
    const xs = values(t)
    expect(xs.every((x) => x >= -1 && x < 1)).toBe(true)
    expectWithin(meanOf(xs), 0, 2 / Math.sqrt(12 * N))
  })

  // Regression: an f64 sample just below `high` used to round up to `high` when stored as f32
  // (about 1 in 16 samples for a range a few float32 ulps wide).
  it('f32 samples stay below high even for a narrow range', () => {
    const low = 1
    const high = 1 + 2 ** -20
    const xs = values(Random.uniform(Random.key(0), [10_000], { low, high, dtype: 'f32' }))
    expect(xs.every((x) => x >= low && x < high)).toBe(true)
  })
})

// ---------------------------------------------------------------- normal

describe('normal', () => {
  for (const seed of [0, 1, 123456789]) {
    it(`seed ${seed}: mean ≈ 0, variance ≈ 1, skewness ≈ 0, kurtosis ≈ 3 within 5 standard errors`, () => {
      const xs = values(Random.normal(Random.key(seed), [N]))
      expect(xs.every(Number.isFinite)).toBe(true)
      expectWithin(meanOf(xs), 0, 1 / Math.sqrt(N))
      expectWithin(varianceOf(xs), 1, Math.sqrt(2 / N))
      expectWithin(centralMoment(xs, 3), 0, Math.sqrt(15 / N))
      expectWithin(centralMoment(xs, 4), 3, Math.sqrt(96 / N))
    })
  }

  it('the fraction within one standard deviation is 68.27%', () => {
    const xs = values(Random.normal(Random.key(17), [N]))
    const p = 0.6826894921370859
    expectWithin(xs.filter((x) => Math.abs(x) < 1).length, p * N, Math.sqrt(N * p * (1 - p)))
  })

  it('mean and std options shift and scale', () => {
    const xs = values(Random.normal(Random.key(2), [N], { mean: 3, std: 2 }))
    expectWithin(meanOf(xs), 3, 2 / Math.sqrt(N))
    expectWithin(varianceOf(xs), 4, 4 * Math.sqrt(2 / N))
  })

  test.prop([seedArb], { numRuns: 20 })('mean and variance within 5 standard errors for random keys', (seed) => {
    const xs = values(Random.normal(Random.key(seed), [N]))
    expectWithin(meanOf(xs), 0, 1 / Math.sqrt(N))
    expectWithin(varianceOf(xs), 1, Math.sqrt(2 / N))
  })

  test.prop([seedArb, smallShapeArb])('odd and even sizes are all finite; std 0 gives the mean', (seed, shape) => {
    const k = Random.key(seed)
    const z = Random.normal(k, shape)
    expect(z.shape).toEqual(shape)
    expect(values(z).every(Number.isFinite)).toBe(true)
    expect(values(Random.normal(k, shape, { mean: -4, std: 0 })).every((v) => v === -4)).toBe(true)
  })

  it('f32 samples are float32 with the right moments', () => {
    const t = Random.normal(Random.key(8), [N], { dtype: 'f32' })
    expect(t.data).toBeInstanceOf(Float32Array)
    const xs = values(t)
    expectWithin(meanOf(xs), 0, 1 / Math.sqrt(N))
    expectWithin(varianceOf(xs), 1, Math.sqrt(2 / N))
  })
})

// ---------------------------------------------------------------- bad input

describe('bad seeds, ranges and shapes throw typed errors', () => {
  it.each([1.5, NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 53), 1e300])('Random.key(%s) throws ArgumentError', (seed) => {
    expect(() => Random.key(seed)).toThrow(ArgumentError)
  })

  it('a non-number seed throws ArgumentError', () => {
    expect(() => Random.key('7' as never)).toThrow(ArgumentError)
    expect(() => Random.key(undefined as never)).toThrow(ArgumentError)
  })

  const k = Random.key(0)
  it.each([
    [1, 1],
    [2, 1],
    [NaN, 1],
    [0, NaN],
    [-Infinity, 0],
    [0, Infinity]
  ])('uniform over [%s, %s) throws ArgumentError naming the bounds', (low, high) => {
    let error: unknown
    try {
      Random.uniform(k, [3], { low, high })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ArgumentError)
    expect((error as Error).message).toContain(String(low))
  })

  it.each([
    [0, -1],
    [0, NaN],
    [0, Infinity],
    [NaN, 1],
    [Infinity, 1]
  ])('normal with mean %s and std %s throws ArgumentError', (mean, std) => {
    expect(() => Random.normal(k, [3], { mean, std })).toThrow(ArgumentError)
  })

  it('bad shapes throw ShapeError', () => {
    expect(() => Random.uniform(k, [-1])).toThrow(ShapeError)
    expect(() => Random.normal(k, [2, 1.5])).toThrow(ShapeError)
  })

  // Regression: a negative or fractional count used to be clamped or truncated silently.
  it('split with a bad count throws ArgumentError', () => {
    expect(() => Random.split(k, -1)).toThrow(ArgumentError)
    expect(() => Random.split(k, 1.5)).toThrow(ArgumentError)
  })

  // Regression: an unchecked dtype option gave a Float64Array tensor labelled 'i32'.
  it('an unknown dtype throws', () => {
    expect(() => Random.uniform(k, [2], { dtype: 'i32' as never })).toThrow()
  })
})
