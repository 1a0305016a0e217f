/**
 * Trees of tensors: a tensor, an array of trees, or a plain record of trees. Parameters
 * are trees, and `grad` returns gradients in the same tree.
 *
 * @module
 */
import { ArgumentError, DTypeError } from './error.js'
import { Tensor } from './tensor.js'

/** A tensor, an array of trees, or a plain record of trees. */
export type Tree = Tensor | readonly Tree[] | { readonly [key: string]: Tree }

/** A tree's leaves (depth-first, keys in insertion order) and a function that puts new leaves back. */
export interface Flat<T> {
  readonly leaves: readonly Tensor[]
  readonly rebuild: (leaves: readonly Tensor[]) => T
}

const isPlainRecord = (x: unknown): x is Record<string, unknown> => {
  if (typeof x !== 'object' || x === null) return false
  const proto = Object.getPrototypeOf(x)
  return proto === Object.prototype || proto === null
}

/**
 * Splits a tree into its leaves and a rebuilder; throws a `DTypeError` naming the path
 * of anything that is not a tensor, an array or a plain record.
 *
 * @example
 * ```ts
 * import { tensor, Tree } from 'lamina-nn'
 * import assert from 'node:assert'
 * const { leaves, rebuild } = Tree.flatten({ w: tensor([1, 2]), b: [tensor(3)] })
 * assert.strictEqual(leaves.length, 2)
 * const back = rebuild([tensor([5, 6]), tensor(7)])
 * assert.deepStrictEqual(back.b[0]!.item(), 7)
 * ```
 */
export const flatten = <T>(tree: T, op = 'tree'): Flat<T> => {
  const leaves: Tensor[] = []
  const build = (node: unknown, path: string): ((it: Iterator<Tensor>) => unknown) => {
    if (node instanceof Tensor) {
      leaves.push(node)
      return (it) => it.next().value
    }
    if (Array.isArray(node)) {
      const parts = node.map((child, i) => build(child, `${path}[${i}]`))
      return (it) => parts.map((p) => p(it))
    }
    if (isPlainRecord(node)) {
      const keys = Object.keys(node)
      const parts = keys.map((k) => build(node[k], `${path}.${k}`))
      return (it) => {
        const out: Record<string, unknown> = {}
        keys.forEach((k, i) => Object.defineProperty(out, k, { value: parts[i]!(it), enumerable: true }))
        return out
      }
    }
    const what = node === null ? 'null' : typeof node === 'object' ? ((node as object).constructor?.name ?? 'object') : typeof node
    throw new DTypeError(`${op}: expected a float tensor (or an array or plain record of them) at ${path || 'the root'}, got ${what}`)
  }
  const builder = build(tree, '')
  const count = leaves.length
  return {
    leaves,
    rebuild: (next) => {
      if (next.length !== count) throw new ArgumentError(`${op}: expected ${count} leaves, got ${next.length}`)
      return builder(next[Symbol.iterator]()) as T
    }
  }
}

/**
 * Applies `f` to every leaf, keeping the structure.
 *
 * @example
 * ```ts
 * import { tensor, Tree, mul } from 'lamina-nn'
 * import assert from 'node:assert'
 * const doubled = Tree.map({ a: tensor([1, 2]) }, (t) => mul(t, 2))
 * assert.deepStrictEqual(doubled.a.toArray(), [2, 4])
 * ```
 */
export const map = <T>(tree: T, f: (leaf: Tensor, index: number) => Tensor): T => {
  const { leaves, rebuild } = flatten(tree)
  return rebuild(leaves.map(f))
}
