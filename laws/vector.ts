/**
 * Trees of tensors seen as flat float64 vectors, for the numerical side of the laws.
 *
 * @module
 */
import * as Random from '../src/random.js'
import { concreteBuffer, fromBuffer } from '../src/tensor.js'
import type { Tensor } from '../src/tensor.js'
import * as Tr from '../src/tree.js'

/**
 * All elements of a tree's leaves, concatenated.
 *
 * @example
 * ```ts
 * import { tensor } from 'lamina-nn'
 * import { toVector } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * assert.deepStrictEqual([...toVector([tensor([1, 2]), tensor(3)])], [1, 2, 3])
 * ```
 */
export const toVector = (tree: unknown): Float64Array => {
  const leaves = Tr.flatten(tree).leaves
  const out = new Float64Array(leaves.reduce((n, l) => n + l.size, 0))
  let k = 0
  for (const l of leaves) {
    out.set(concreteBuffer(l), k)
    k += l.size
  }
  return out
}

/**
 * The tree with its elements replaced by `values` (same order as {@link toVector}).
 *
 * @example
 * ```ts
 * import { tensor } from 'lamina-nn'
 * import { fromVector } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * const [a] = fromVector([tensor([1, 2])], new Float64Array([5, 6]))
 * assert.deepStrictEqual(a!.toArray(), [5, 6])
 * ```
 */
export const fromVector = <T>(like: T, values: ArrayLike<number>): T => {
  const { leaves, rebuild } = Tr.flatten(like)
  let k = 0
  return rebuild(
    leaves.map((l: Tensor) => {
      const part = Array.from({ length: l.size }, (_, i) => values[k + i]!)
      k += l.size
      return fromBuffer(part, l.shape, { dtype: l.dtype })
    })
  )
}

/**
 * Dot product of two equally long vectors.
 *
 * @example
 * ```ts
 * import { dot } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * assert.strictEqual(dot([1, 2], [3, 4]), 11)
 * ```
 */
export const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!
  return s
}

/**
 * Euclidean norm.
 *
 * @example
 * ```ts
 * import { norm } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * assert.strictEqual(norm([3, 4]), 5)
 * ```
 */
export const norm = (a: ArrayLike<number>): number => Math.sqrt(dot(a, a))

/**
 * Largest absolute element (0 for an empty vector).
 *
 * @example
 * ```ts
 * import { maxAbs } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * assert.strictEqual(maxAbs([1, -7, 3]), 7)
 * ```
 */
export const maxAbs = (a: ArrayLike<number>): number => {
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!))
  return m
}

/**
 * A random unit vector of length `n` from an integer seed (reproducible).
 *
 * @example
 * ```ts
 * import { unitVector, norm } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * assert.ok(Math.abs(norm(unitVector(5, 42)) - 1) < 1e-15)
 * ```
 */
export const unitVector = (n: number, seed: number): Float64Array => {
  const v = new Float64Array(Random.normal(Random.key(seed), [n]).data)
  const r = norm(v)
  return r > 0 ? v.map((x) => x / r) : v
}
