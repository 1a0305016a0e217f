/**
 * The collapsed-run broadcast and reduction of the cpu backend against index-by-index
 * references written here (multi-index odometers, no lamina code), over random shapes that
 * include size-0 and size-1 axes, both dtypes, and NaN for max/min.
 */
import { describe, expect } from 'vitest'
import { fc, test } from '@fast-check/vitest'
import { broadcastTo, reduceSingleRun } from '../src/backend/runs.js'
import { cpu } from 'lamina-nn'

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1)

/** Calls `f(multiIndex, flatIndex)` for every element of `shape`, row-major. */
const each = (shape: readonly number[], f: (idx: number[], flat: number) => void): void => {
  const n = size(shape)
  const idx = shape.map(() => 0)
  for (let k = 0; k < n; k++) {
    f(idx, k)
    for (let a = shape.length - 1; a >= 0; a--) {
      if (++idx[a]! < shape[a]!) break
      idx[a] = 0
    }
  }
}
const flatOf = (shape: readonly number[], idx: readonly number[]): number => idx.reduce((acc, i, a) => acc * shape[a]! + i, 0)

const naiveBroadcast = (x: ArrayLike<number>, from: readonly number[], to: readonly number[]): number[] => {
  const pad = to.length - from.length
  const out: number[] = []
  each(to, (idx) => out.push(x[flatOf(from, from.map((d, a) => (d === 1 ? 0 : idx[a + pad]!)))]!))
  return out
}

const naiveReduce = (x: ArrayLike<number>, shape: readonly number[], axes: readonly number[], kind: 'sum' | 'max' | 'min'): number[] => {
  const kept = shape.map((d, a) => (axes.includes(a) ? 1 : d))
  const out = new Array<number>(size(kept)).fill(kind === 'sum' ? 0 : kind === 'max' ? -Infinity : Infinity)
  each(shape, (idx, k) => {
    const o = flatOf(kept, idx.map((i, a) => (axes.includes(a) ? 0 : i)))
    const v = x[k]!
    if (kind === 'sum') out[o]! += v
    else if (Number.isNaN(v) || Number.isNaN(out[o]!)) out[o] = NaN
    else out[o] = kind === 'max' ? Math.max(out[o]!, v) : Math.min(out[o]!, v)
  })
  return out
}

const dim = fc.oneof(fc.constant(1), fc.integer({ min: 0, max: 5 }))
const broadcastCase = fc
  .array(fc.tuple(dim, fc.boolean()), { minLength: 0, maxLength: 5 })
  .chain((axes) =>
    fc.record({
      to: fc.constant(axes.map(([d]) => d)),
      // stretched axes are 1 in the source; a random number of leading axes is dropped
      from: fc.integer({ min: 0, max: axes.length }).map((drop) => axes.slice(drop).map(([d, stretched]) => (stretched ? 1 : d))),
      dtype: fc.constantFrom('f32' as const, 'f64' as const)
    })
  )

describe('cpu broadcast over collapsed runs', () => {
  test.prop([broadcastCase, fc.integer()])('equals the element-by-element definition', ({ to, from, dtype }, seed) => {
    const n = size(from)
    const values = Array.from({ length: n }, (_, i) => ((seed + i * 7919) % 1000) / 7)
    const x = dtype === 'f32' ? Float32Array.from(values) : Float64Array.from(values)
    const got = broadcastTo(x, from, to, dtype)
    expect(got).toBeInstanceOf(dtype === 'f32' ? Float32Array : Float64Array)
    expect(Array.from(got)).toEqual(naiveBroadcast(x, from, to))
  })
})

const reduceCase = fc
  .array(dim, { minLength: 1, maxLength: 5 })
  .chain((shape) =>
    fc.record({
      shape: fc.constant(shape),
      axes: fc.subarray(shape.map((_, a) => a), { minLength: 1 }),
      kind: fc.constantFrom('sum' as const, 'max' as const, 'min' as const),
      values: fc.array(fc.oneof({ weight: 9, arbitrary: fc.double({ min: -100, max: 100, noNaN: true }) }, { weight: 1, arbitrary: fc.constant(NaN) }), {
        minLength: size(shape),
        maxLength: size(shape)
      })
    })
  )

describe('cpu reduction over one collapsed run', () => {
  test.prop([reduceCase])('equals the element-by-element definition wherever it applies, and the backend agrees', ({ shape, axes, kind, values }) => {
    const x = Float64Array.from(values)
    const want = naiveReduce(x, shape, axes, kind)
    const fast = reduceSingleRun(x, shape, axes, kind, 'f64')
    // sums of the same numbers in the same order: identical in float64
    if (fast !== undefined) expect(Array.from(fast)).toEqual(want)
    expect(Array.from(cpu.reduce(x, shape, axes, kind, 'f64'))).toEqual(want)
  })

  test.prop([
    fc.integer({ min: 1, max: 13 }).chain((rows) =>
      fc.integer({ min: 2, max: 60 }).chain((n) => fc.tuple(fc.constant(rows), fc.constant(n), fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: rows * n, maxLength: rows * n })))
    ),
    fc.constantFrom('f32' as const, 'f64' as const)
  ])('row sums (a bias gradient over pixels, four rows side by side) add each row in order: equal to the in-order float64 sum, rounded once', ([rows, n, values], dtype) => {
    const x = dtype === 'f32' ? Float32Array.from(values) : Float64Array.from(values)
    const fast = reduceSingleRun(x, [rows, n], [1], 'sum', dtype)
    expect(fast).toBeInstanceOf(dtype === 'f32' ? Float32Array : Float64Array)
    const want = naiveReduce(x, [rows, n], [1], 'sum')
    expect(Array.from(fast!)).toEqual(dtype === 'f32' ? want.map(Math.fround) : want)
  })

  test.prop([fc.integer({ min: 2, max: 40 }), fc.integer({ min: 1, max: 40 })])('a bias gradient (sum over the batch axis) takes the fast path', (b, n) => {
    const x = Float64Array.from({ length: b * n }, (_, i) => i % 13)
    const fast = reduceSingleRun(x, [b, n], [0], 'sum', 'f64')
    expect(fast).toBeDefined()
    expect(Array.from(fast!)).toEqual(naiveReduce(x, [b, n], [0], 'sum'))
  })
})
