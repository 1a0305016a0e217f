/**
 * fast-check arbitraries of tensors. Values can be kept away from kinks (0 for relu and
 * abs) and from the edge of a domain (log, sqrt), so the finite differences never straddle
 * a point where the derivative is undefined — unless a test asks for it.
 *
 * @module
 */
import fc from 'fast-check'
import type { Shape } from '../src/shape.js'
import * as Sh from '../src/shape.js'
import { fromBuffer } from '../src/tensor.js'
import type { DType, Tensor } from '../src/tensor.js'

/** How element values are drawn. */
export interface ValueOptions<D extends DType = 'f64'> {
  /** Inclusive bounds of the values (default −3 … 3). */
  readonly min?: number
  readonly max?: number
  /** Points the values keep at least `margin` away from (default none). */
  readonly awayFrom?: readonly number[]
  /** Distance kept from `awayFrom` (default 0.1). */
  readonly margin?: number
  /**
   * Draw 9 values in 10 uniformly over [min, max], the rest as fast-check's doubles (which
   * favour the bounds, 0 and tiny magnitudes). Default `false`: fast-check's doubles only.
   * Uniform values make most cases of ordinary size, where a wrong derivative shows.
   */
  readonly uniform?: boolean
  readonly dtype?: D
}

/** How shapes are drawn. */
export interface ShapeOptions {
  readonly minRank?: number
  readonly maxRank?: number
  readonly minDim?: number
  readonly maxDim?: number
}

/**
 * Random shapes (default rank 0…3, dimensions 1…4).
 *
 * @example
 * ```ts
 * import fc from 'fast-check'
 * import { shapes } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * const s = fc.sample(shapes({ minRank: 2, maxRank: 2 }), 5)
 * assert.ok(s.every((x) => x.length === 2))
 * ```
 */
export const shapes = (options?: ShapeOptions): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: options?.minDim ?? 1, max: options?.maxDim ?? 4 }), {
    minLength: options?.minRank ?? 0,
    maxLength: options?.maxRank ?? 3
  })

/** Moves a value out of the `margin`-neighbourhood of each kink, keeping it within bounds when it can. */
const avoid = (v: number, kinks: readonly number[], margin: number, min: number, max: number): number => {
  let x = v
  for (const k of kinks) {
    if (Math.abs(x - k) < margin) {
      const up = k + margin
      const down = k - margin
      x = x >= k ? (up <= max ? up : down) : down >= min ? down : up
    }
  }
  return x
}

/**
 * Float values, optionally kept away from kinks.
 *
 * @example
 * ```ts
 * import fc from 'fast-check'
 * import { values } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * const xs = fc.sample(values({ awayFrom: [0], margin: 0.5 }), 100)
 * assert.ok(xs.every((x) => Math.abs(x) >= 0.5 && Math.abs(x) <= 3))
 * // uniform: most values of ordinary size, not 1e-300
 * const us = fc.sample(values({ uniform: true }), { numRuns: 1000, seed: 1 })
 * assert.ok(us.filter((x) => Math.abs(x) > 0.01).length > 800)
 * ```
 */
export const values = <D extends DType = 'f64'>(options?: ValueOptions<D>): fc.Arbitrary<number> => {
  const min = options?.min ?? -3
  const max = options?.max ?? 3
  const kinks = options?.awayFrom ?? []
  const margin = options?.margin ?? 0.1
  const doubles = fc.double({ min, max, noNaN: true, noDefaultInfinity: true })
  const drawn = options?.uniform === true ? fc.oneof({ weight: 9, arbitrary: uniform(min, max) }, { weight: 1, arbitrary: doubles }) : doubles
  return drawn.map((v) => avoid(v === 0 ? 0 : v, kinks, margin, min, max))
}

/** Uniform over [min, max] on a grid of 2³⁰ steps each side of the value nearest 0, which it shrinks towards. */
const uniform = (min: number, max: number): fc.Arbitrary<number> => {
  const target = min > 0 ? min : max < 0 ? max : 0
  const n = 2 ** 30
  return fc
    .noBias(fc.integer({ min: target === min ? 0 : -n, max: target === max ? 0 : n }))
    .map((k) => Math.min(max, Math.max(min, target + (k / n) * (k >= 0 ? max - target : target - min))))
}

/**
 * Tensors of a given shape.
 *
 * @example
 * ```ts
 * import fc from 'fast-check'
 * import { tensorOf } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * const [t] = fc.sample(tensorOf([2, 3], { min: 0, max: 1 }), 1)
 * assert.deepStrictEqual(t!.shape, [2, 3])
 * ```
 */
export const tensorOf = <D extends DType = 'f64'>(shape: Shape, options?: ValueOptions<D>): fc.Arbitrary<Tensor<Shape, D>> => {
  const n = Sh.size(shape)
  return fc
    .array(values(options), { minLength: n, maxLength: n })
    .map((xs) => fromBuffer(xs, shape, { dtype: (options?.dtype ?? 'f64') as D }))
}

/**
 * Tensors of a random small shape.
 *
 * @example
 * ```ts
 * import fc from 'fast-check'
 * import { tensors } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * const ts = fc.sample(tensors({ maxRank: 2 }), 10)
 * assert.ok(ts.every((t) => t.rank <= 2))
 * ```
 */
export const tensors = <D extends DType = 'f64'>(
  options?: ValueOptions<D> & ShapeOptions
): fc.Arbitrary<Tensor<Shape, D>> => shapes(options).chain((s) => tensorOf(s, options))

/**
 * `count` tensors sharing one random shape (for elementwise binary operations).
 *
 * @example
 * ```ts
 * import fc from 'fast-check'
 * import { sameShape } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * const [a, b] = fc.sample(sameShape(2), 1)[0]!
 * assert.deepStrictEqual(a!.shape, b!.shape)
 * ```
 */
export const sameShape = <D extends DType = 'f64'>(
  count: number,
  options?: ValueOptions<D> & ShapeOptions
): fc.Arbitrary<Tensor<Shape, D>[]> =>
  shapes(options).chain((s) => fc.tuple(...Array.from({ length: count }, () => tensorOf(s, options))))
