/**
 * Points of the input space of a hand-written function: a number, a tensor, or an array
 * or plain record of points, seen as one flat float64 vector with a name for every entry
 * (`x`, `x[2]`, `w[1][0]`, `b[0,1]`), so a report can say which entry is wrong.
 *
 * @module
 */
import { ArgumentError } from '../src/error.js'
import * as Sh from '../src/shape.js'
import { Tensor, concreteBuffer, fromBuffer } from '../src/tensor.js'

/** A number, a tensor, or a (nested) array or plain record of them. */
export type Point = number | Tensor | readonly Point[] | { readonly [key: string]: Point }

/** A point as a flat vector, the names of its entries, and a way back. */
export interface FlatPoint<X> {
  readonly values: Float64Array
  /** One name per entry, in the order of `values`. */
  readonly names: readonly string[]
  /** The same structure with new entries (tensors keep their shape and dtype). */
  readonly rebuild: (values: ArrayLike<number>) => X
}

const isRecord = (x: unknown): x is Record<string, unknown> => {
  if (typeof x !== 'object' || x === null) return false
  const proto = Object.getPrototypeOf(x)
  return proto === Object.prototype || proto === null
}

const kindOf = (x: unknown): string =>
  x === null ? 'null' : Array.isArray(x) ? 'an array' : typeof x === 'object' ? `a ${(x as object).constructor?.name ?? 'object'}` : `a ${typeof x}`

/** Multi-index of element `k` of a row-major shape, as `[i,j]` (empty for a scalar). */
const index = (shape: readonly number[], k: number): string => {
  if (shape.length === 0) return ''
  const out = new Array<number>(shape.length)
  let rest = k
  for (let a = shape.length - 1; a >= 0; a--) {
    out[a] = rest % shape[a]!
    rest = Math.floor(rest / shape[a]!)
  }
  return `[${out.join(',')}]`
}

/**
 * Flattens a point into its entries, depth-first (record keys in insertion order, tensors
 * row-major), naming each entry by its path from `root` (the keys of a record at the root
 * named `x` go bare: `w[0][1]`, not `x.w[0][1]`); throws an `ArgumentError` naming the path
 * of anything that is not a number, a tensor, an array or a plain record.
 *
 * @example
 * ```ts
 * import { tensor } from 'lamina-nn'
 * import { flattenPoint } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * const flat = flattenPoint({ w: [[1, 2]], b: tensor([3, 4]), c: 5 })
 * assert.deepStrictEqual([...flat.values], [1, 2, 3, 4, 5])
 * assert.deepStrictEqual(flat.names, ['w[0][0]', 'w[0][1]', 'b[0]', 'b[1]', 'c'])
 * const back = flat.rebuild([10, 20, 30, 40, 50])
 * assert.deepStrictEqual(back.w, [[10, 20]])
 * assert.deepStrictEqual(back.b.toArray(), [30, 40])
 * ```
 */
export const flattenPoint = <X>(point: X, root = 'x', op = 'point'): FlatPoint<X> => {
  const values: number[] = []
  const names: string[] = []
  type Build = (next: () => number) => unknown
  const build = (node: unknown, path: string, atRoot: boolean): Build => {
    if (typeof node === 'number') {
      values.push(node)
      names.push(path)
      return (next) => next()
    }
    if (node instanceof Tensor) {
      const buffer = concreteBuffer(node)
      const shape = [...node.shape]
      for (let k = 0; k < buffer.length; k++) {
        values.push(buffer[k]!)
        names.push(`${path}${index(shape, k)}`)
      }
      const dtype = node.dtype
      return (next) => fromBuffer(Array.from({ length: Sh.size(shape) }, next), shape, { dtype })
    }
    if (Array.isArray(node)) {
      const parts = node.map((child, i) => build(child, `${path}[${i}]`, false))
      return (next) => parts.map((p) => p(next))
    }
    if (isRecord(node)) {
      const keys = Object.keys(node)
      const parts = keys.map((k) => build(node[k], atRoot && root === 'x' ? k : `${path}.${k}`, false))
      return (next) => {
        const out: Record<string, unknown> = {}
        keys.forEach((k, i) => Object.defineProperty(out, k, { value: parts[i]!(next), enumerable: true }))
        return out
      }
    }
    throw new ArgumentError(`${op}: expected a number, a tensor, or an array or plain record of them at ${path}, got ${kindOf(node)}`)
  }
  const builder = build(point, root, true)
  const n = values.length
  return {
    values: Float64Array.from(values),
    names,
    rebuild: (next) => {
      if (next.length !== n) throw new ArgumentError(`${op}: expected ${n} entries, got ${next.length}`)
      let k = 0
      return builder(() => next[k++]!) as X
    }
  }
}
