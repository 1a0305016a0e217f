/**
 * Parameter trees as named tensors (`layers.0.w`, …) and back. Re-exported by `Safetensors`.
 *
 * @module
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Either } from 'fp-ts/lib/Either.js'

import { Tensor } from '../../tensor.js'
import type { Decoded } from './decode.js'
import { SafetensorsError, describeType, fail, quote } from './error.js'
import { FORBIDDEN, hasOwn, nullRecord } from './names.js'

const isPlainRecord = (x: unknown): x is Record<string, unknown> => {
  if (typeof x !== 'object' || x === null) return false
  const proto: unknown = Object.getPrototypeOf(x)
  return proto === Object.prototype || proto === null
}

/** Visits the tensors of a tree with their dotted names; throws a `tree` error naming the path. */
const walk = (tree: unknown, op: string, visit: (name: string, t: Tensor) => void): void => {
  const go = (node: unknown, path: string): void => {
    if (node instanceof Tensor) {
      if (path === '') throw fail('tree', `${op}: the root is a single tensor; give it a name with a record, e.g. { w: tensor }`)
      visit(path, node)
      return
    }
    const step = (key: string, child: unknown) => {
      if (key === '' || key.includes('.')) throw fail('tree', `${op}: key ${quote(key)} at ${quote(path || '(root)')} cannot be part of a dotted name`)
      if (FORBIDDEN.has(key)) throw fail('key', `${op}: key ${quote(key)} at ${quote(path || '(root)')} is not allowed`)
      go(child, path === '' ? key : `${path}.${key}`)
    }
    if (Array.isArray(node)) {
      node.forEach((child, i) => step(String(i), child))
      return
    }
    if (isPlainRecord(node)) {
      for (const key of Object.keys(node)) step(key, node[key])
      return
    }
    throw fail('tree', `${op}: expected a tensor, an array or a plain record at ${quote(path || '(root)')}, got ${node === null ? 'null' : typeof node === 'object' ? ((node as object).constructor?.name ?? 'object') : typeof node}`)
  }
  go(tree, '')
}

/**
 * Flattens a tree of parameters into dotted names, the names PyTorch and JAX users see:
 * `{ layers: [{ w, b }, {}, { w, b }] }` gives `layers.0.w`, `layers.0.b`, `layers.2.w`,
 * `layers.2.b` (empty records and arrays give nothing). Throws a {@link SafetensorsError}
 * naming the path of a leaf that is not a tensor, or of a key that is empty or contains a dot.
 *
 * @example
 * ```ts
 * import { Layer, Layers, Random, Safetensors } from 'lamina-nn'
 * import assert from 'node:assert'
 * const mlp = Layer.sequential(Layers.dense(4, 8), Layers.tanh(), Layers.dense(8, 3))
 * const named = Safetensors.fromTree(mlp.init(Random.key(0)))
 * assert.deepStrictEqual(Object.keys(named), ['layers.0.w', 'layers.0.b', 'layers.2.w', 'layers.2.b'])
 * assert.deepStrictEqual(named['layers.2.w']!.shape, [8, 3])
 * ```
 */
export const fromTree = (params: unknown): Readonly<Record<string, Tensor>> => {
  const out: Array<readonly [string, Tensor]> = []
  walk(params, 'fromTree', (name, t) => out.push([name, t]))
  return nullRecord(out)
}

/** Options of {@link toTree}. */
export interface ToTreeOptions {
  /** Accept tensors the tree does not name (default `false`: they are an error). */
  readonly allowExtra?: boolean
}

/** Whether a source is a decoded file (`{ tensors, metadata }`) rather than a record of named tensors. */
export const isDecoded = (x: object): x is Decoded =>
  hasOwn(x, 'tensors') && hasOwn(x, 'metadata') && !((x as Record<string, unknown>).tensors instanceof Tensor)

/**
 * The inverse of {@link fromTree}: the tree shaped like `like` (e.g. `model.init(key)`) whose
 * tensor at each dotted name comes from `source` (a {@link Decoded} file or a record of named
 * tensors). Every name `like` has must be present with the same shape and dtype, and (unless
 * `allowExtra`) `source` must have no other tensors; a `Left` names the path otherwise.
 *
 * @example
 * ```ts
 * import { Layer, Layers, Random, Safetensors } from 'lamina-nn'
 * import assert from 'node:assert'
 * const mlp = Layer.sequential(Layers.dense(4, 8), Layers.tanh(), Layers.dense(8, 3))
 * const params = mlp.init(Random.key(1))
 * const file = Safetensors.read(Safetensors.encode(Safetensors.fromTree(params)))
 * const back = Safetensors.toTree(file, mlp.init(Random.key(2)))
 * assert.ok(back._tag === 'Right')
 * assert.deepStrictEqual(back.right.layers[2].w.toArray(), params.layers[2].w.toArray())
 *
 * const wrong = Safetensors.toTree(file, Layer.sequential(Layers.dense(4, 5)).init(Random.key(0)))
 * assert.ok(wrong._tag === 'Left')
 * assert.strictEqual(wrong.left.message, 'safetensors: toTree: tensor "layers.0.w" has shape [4,8] in the file, expected [4,5]')
 * ```
 */
export const toTree = <T>(source: Decoded | Readonly<Record<string, Tensor>>, like: T, options?: ToTreeOptions): Either<SafetensorsError, T> => {
  try {
    if (typeof source !== 'object' || source === null) return E.left(fail('input', `toTree: expected decoded tensors, got ${describeType(source)}`))
    const named: object = isDecoded(source) ? source.tensors : source
    const used = new Set<string>()
    const leaves: Tensor[] = []
    walk(like, 'toTree', (name, expected) => {
      const found: unknown = hasOwn(named, name) ? (named as Record<string, unknown>)[name] : undefined
      if (found === undefined) throw fail('tree', `toTree: tensor ${quote(name)} is missing from the file`)
      if (!(found instanceof Tensor)) throw fail('tree', `toTree: ${quote(name)} is not a tensor`)
      const t: Tensor = found
      if (t.shape.length !== expected.shape.length || t.shape.some((d, i) => d !== expected.shape[i])) {
        throw fail('tree', `toTree: tensor ${quote(name)} has shape [${t.shape.join(',')}] in the file, expected [${expected.shape.join(',')}]`)
      }
      if (t.dtype !== expected.dtype) throw fail('tree', `toTree: tensor ${quote(name)} has dtype ${t.dtype} in the file, expected ${expected.dtype}`)
      used.add(name)
      leaves.push(t)
    })
    if (!options?.allowExtra) {
      const extra = Object.keys(named).filter((k) => !used.has(k))
      if (extra.length > 0) {
        const shown = extra.slice(0, 5).map(quote).join(', ') + (extra.length > 5 ? `, … (${extra.length} in all)` : '')
        return E.left(fail('tree', `toTree: the file has tensors the tree does not name: ${shown}`))
      }
    }
    // rebuild `like` with the file's tensors, in the same walk order
    let next = 0
    const rebuild = (node: unknown): unknown => {
      if (node instanceof Tensor) return leaves[next++]
      if (Array.isArray(node)) return node.map(rebuild)
      const out: Record<string, unknown> = {}
      for (const key of Object.keys(node as object)) {
        Object.defineProperty(out, key, { value: rebuild((node as Record<string, unknown>)[key]), enumerable: true })
      }
      return out
    }
    return E.right(rebuild(like) as T)
  } catch (e) {
    if (e instanceof SafetensorsError) return E.left(e)
    throw e
  }
}
