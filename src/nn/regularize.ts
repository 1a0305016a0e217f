/**
 * Parameter-norm penalties Ω(θ) to add to a loss, J = L + Ω (seed 003's Algorithm 6.3),
 * over a tree of parameters (see `Tree`). Differentiable, to any order.
 *
 * Which leaves are penalized is decided by a predicate on the leaf's path in the tree. By
 * default biases are left out, following seed 004's regularized gradient
 * D_ij = (1/n) Δ_ij + λ Θ_ij for j ≠ 0 and D_i0 = (1/n) Δ_i0 for the bias column: the
 * gradient of λ/2 · Σ w² is λ·w on the weights and 0 on the biases.
 *
 * @example
 * ```ts
 * import { tensor, grad, Regularize } from 'lamina-nn'
 * import type { Tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * type Params = { w: Tensor<[2], 'f64'>; b: Tensor<[1], 'f64'> }
 * const g = grad((p: Params) => Regularize.l2Penalty(p, { lambda: 0.5 }))({ w: tensor([2, -4]), b: tensor([3]) })
 * assert.deepStrictEqual(g.w.toArray(), [1, -2]) // λ·w
 * assert.deepStrictEqual(g.b.toArray(), [0])     // biases are not decayed
 * ```
 *
 * @module
 */
import { ArgumentError } from '../error.js'
import { abs, add, mul, square, sum } from '../ops.js'
import { Tensor, full } from '../tensor.js'
import type { DType } from '../tensor.js'
import * as Tr from '../tree.js'

/** One step of a path into a tree: a record key or an array index. */
export type PathKey = string | number

/** Where a leaf sits in a tree: `['layers', 0, 'b']` is `params.layers[0].b`. */
export type Path = readonly PathKey[]

/** Decides, from its path (and the leaf itself), whether a leaf is left out of a penalty. */
export type LeafPredicate = (path: Path, leaf: Tensor) => boolean

/** Options of a penalty. */
export interface PenaltyOptions {
  /** The strength λ ≥ 0. */
  readonly lambda: number
  /** Leaves to leave out; default {@link isBias} (seed 004: biases are not decayed). Pass `() => false` to penalize every leaf. */
  readonly exclude?: LeafPredicate
}

/**
 * The default exclusion: a leaf whose own key is `b` or `bias`, wherever it sits in the tree.
 *
 * @example
 * ```ts
 * import { tensor, Regularize } from 'lamina-nn'
 * import assert from 'node:assert'
 * const x = tensor([1])
 * assert.strictEqual(Regularize.isBias(['layers', 0, 'b'], x), true)
 * assert.strictEqual(Regularize.isBias(['dense', 'bias'], x), true)
 * assert.strictEqual(Regularize.isBias(['layers', 0, 'w'], x), false)
 * assert.strictEqual(Regularize.isBias(['b', 'w'], x), false) // only the leaf's own key counts
 * ```
 */
export const isBias: LeafPredicate = (path) => {
  const key = path[path.length - 1]
  return key === 'b' || key === 'bias'
}

/**
 * A path as text: `layers[0].b` (`<root>` for the empty path).
 *
 * @example
 * ```ts
 * import { Regularize } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Regularize.showPath(['layers', 0, 'b']), 'layers[0].b')
 * assert.strictEqual(Regularize.showPath([]), '<root>')
 * ```
 */
export const showPath = (path: Path): string =>
  path.length === 0 ? '<root>' : path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('')

/**
 * Every leaf of a tree with its path, in the order of `Tree.flatten` (depth first, record
 * keys in insertion order). Throws a `DTypeError` naming the path of anything that is not a
 * tensor, an array or a plain record.
 *
 * @example
 * ```ts
 * import { tensor, Regularize } from 'lamina-nn'
 * import assert from 'node:assert'
 * const found = Regularize.entries({ layers: [{ w: tensor([1]), b: tensor([2]) }] })
 * assert.deepStrictEqual(found.map(([path]) => Regularize.showPath(path)), ['layers[0].w', 'layers[0].b'])
 * ```
 */
export const entries = (tree: unknown, op = 'entries'): ReadonlyArray<readonly [Path, Tensor]> => {
  Tr.flatten(tree, op) // validates, naming the path of a bad node
  const out: Array<readonly [Path, Tensor]> = []
  const walk = (node: unknown, path: PathKey[]): void => {
    if (node instanceof Tensor) out.push([path, node])
    else if (Array.isArray(node)) node.forEach((child, i) => walk(child, [...path, i]))
    else Object.keys(node as object).forEach((k) => walk((node as Record<string, unknown>)[k], [...path, k]))
  }
  walk(tree, [])
  return out
}

const penalty = (params: unknown, options: PenaltyOptions, op: string, term: (w: Tensor) => Tensor, factor: number): Tensor<[], DType> => {
  if (typeof options !== 'object' || options === null) {
    throw new ArgumentError(`${op}: expected options { lambda, exclude? }, got ${options === null ? 'null' : typeof options}`)
  }
  const { lambda } = options
  if (typeof lambda !== 'number' || !Number.isFinite(lambda) || lambda < 0) {
    throw new ArgumentError(`${op}: lambda must be a finite number ≥ 0, got ${String(lambda)}`)
  }
  const exclude = options.exclude ?? isBias
  if (typeof exclude !== 'function') throw new ArgumentError(`${op}: exclude must be a function of (path, leaf), got ${typeof exclude}`)
  const all = entries(params, op)
  const kept = all.filter(([path, leaf]) => !exclude(path, leaf))
  const first = kept[0]
  if (first === undefined) return full([], 0, { dtype: all[0]?.[1].dtype ?? 'f64' })
  const total = kept.slice(1).reduce<Tensor>((acc, [, w]) => add(acc, sum(term(w))), sum(term(first[1])))
  return mul(total, lambda * factor) as Tensor<[], DType>
}

/**
 * The L2 penalty (weight decay) λ/2 · Σ w² over the leaves of a parameter tree that
 * `exclude` does not leave out (by default the biases, see {@link isBias}). Its gradient
 * is λ·w on every penalized leaf, seed 004's λΘ_ij term.
 *
 * @example
 * ```ts
 * import { tensor, Regularize } from 'lamina-nn'
 * import assert from 'node:assert'
 * const params = { w: tensor([[1, 2], [3, 4]]), b: tensor([10, 10]) }
 * // 0.1/2 · (1 + 4 + 9 + 16); the bias b is not decayed
 * assert.ok(Math.abs(Regularize.l2Penalty(params, { lambda: 0.1 }).item() - 1.5) < 1e-12)
 * // penalize every leaf, biases included
 * assert.ok(Math.abs(Regularize.l2Penalty(params, { lambda: 0.1, exclude: () => false }).item() - 11.5) < 1e-12)
 * ```
 */
export const l2Penalty = (params: unknown, options: PenaltyOptions): Tensor<[], DType> =>
  penalty(params, options, 'l2Penalty', square, 0.5)

/**
 * The L1 penalty λ · Σ |w| over the leaves that `exclude` does not leave out (by default
 * the biases). It drives small weights to exactly 0; its derivative at w = 0 is taken as 0.
 *
 * @example
 * ```ts
 * import { tensor, Regularize } from 'lamina-nn'
 * import assert from 'node:assert'
 * const params = { layers: [{ w: tensor([1, -2]), b: tensor([5]) }, { w: tensor([-3]), b: tensor([5]) }] }
 * assert.strictEqual(Regularize.l1Penalty(params, { lambda: 2 }).item(), 2 * (1 + 2 + 3))
 * ```
 */
export const l1Penalty = (params: unknown, options: PenaltyOptions): Tensor<[], DType> =>
  penalty(params, options, 'l1Penalty', abs, 1)
