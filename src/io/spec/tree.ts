/**
 * Parameter and state trees laid out as a spec's model lays them out (`{ layers: [p₀, p₁, …] }`):
 * from a hand-composed model's tree and back, and filled from a spec's tensor slots.
 * Re-exported by `Spec`.
 *
 * @module
 */
import { ShapeError } from '../../error.js'
import type { Tensor } from '../../tensor.js'
import type { Tree } from '../../tree.js'
import type { AnyLayer } from '../../nn/layer.js'
import { isBlock, isSequential } from './blocks.js'
import type { ModelParams, TensorSlot } from './build.js'
import type { LayerSpec, ModelSpec } from './types.js'

/**
 * A model's parameters (or layer state) laid out as those of the model its spec builds
 * (`{ layers: [p₀, p₁, …] }`, one entry per layer of {@link fromLayer}'s spec): nested
 * `sequential`s are opened, a single layer's tree is wrapped. A flat `sequential`'s tree is
 * already laid out so and comes back as it is. {@link nestTree} undoes it.
 *
 * @example
 * ```ts
 * import { Spec, Layer, Layers, Random } from 'lamina-nn'
 * import assert from 'node:assert'
 * const block = Layer.sequential(Layers.dense(4, 4), Layers.relu())
 * const net = Layer.sequential(block, Layers.dense(4, 2))
 * const params = net.init(Random.key(0))
 * const flat = Spec.flattenTree(net, params) as { layers: unknown[] }
 * assert.strictEqual(flat.layers.length, 3)
 * assert.strictEqual(flat.layers[2], params.layers[1])
 * assert.deepStrictEqual(Spec.nestTree(net, flat), params)
 * ```
 */
export const flattenTree = (layer: AnyLayer, tree: unknown): ModelParams => {
  const itemsOf = (t: unknown, field: 'layers' | 'branches', n: number, path: string): readonly unknown[] => {
    const items = (t as Readonly<Record<string, unknown>> | undefined)?.[field]
    if (!Array.isArray(items) || items.length !== n) {
      const what = field === 'layers' ? 'layer' : 'branch'
      throw new ShapeError(`flattenTree: ${path === '' ? 'the tree' : path} should hold { ${field}: [...] } with ${n} entries (one per ${what}), got ${describeTree(t)}`)
    }
    return items
  }
  const join = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`)
  // the entries of the spec's list for `l`: a sequential opened, any other layer one entry
  const open = (l: AnyLayer, t: unknown, path: string): unknown[] =>
    isSequential(l) ? itemsOf(t, 'layers', l.layers!.length, path).flatMap((item, i) => open(l.layers![i]!, item, join(path, `layers.${i}`))) : [entry(l, t, path)]
  // a block's entry lists its inner layers as its spec does: residual `{ layers }`, parallel `{ branches: [{ layers }, …] }`
  const entry = (l: AnyLayer, t: unknown, path: string): unknown => {
    if (!isBlock(l)) return t
    if (l.kind === 'residual') return { layers: open(l.layers![0]!, t, path) }
    const branches = itemsOf(t, 'branches', l.layers!.length, path)
    return { branches: branches.map((b, k) => ({ layers: open(l.layers![k]!, b, join(path, `branches.${k}`)) })) }
  }
  return { layers: open(layer, tree, '') as Tree[] }
}

/**
 * The inverse of {@link flattenTree}: a tree laid out as the spec's model's
 * (`{ layers: [p₀, p₁, …] }`) put back into the shape of `layer`'s own tree.
 *
 * @example
 * ```ts
 * import { Spec, Layers, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const dense = Layers.dense(1, 1)
 * const params = { w: tensor([[2]]), b: tensor([0]) }
 * assert.strictEqual(Spec.nestTree(dense, { layers: [params] }), params)
 * ```
 */
export const nestTree = (layer: AnyLayer, flat: { readonly layers: readonly unknown[] }): unknown => {
  // reads the entries of one spec list, in order, as `open` in flattenTree wrote them
  const list = (l: AnyLayer, entries: readonly unknown[], cursor: { next: number }): unknown =>
    isSequential(l) ? { layers: l.layers!.map((c) => list(c, entries, cursor)) } : unentry(l, entries[cursor.next++])
  const inner = (l: AnyLayer, entries: unknown): unknown => {
    const items = Array.isArray(entries) ? entries : []
    const cursor = { next: 0 }
    const tree = list(l, items, cursor)
    if (cursor.next !== items.length) throw new ShapeError(`nestTree: a ${l.kind} block's layers number ${cursor.next} but its tree has ${items.length} entries`)
    return tree
  }
  const unentry = (l: AnyLayer, e: unknown): unknown => {
    if (!isBlock(l)) return e
    const record = (e ?? {}) as { readonly layers?: unknown; readonly branches?: readonly { readonly layers?: unknown }[] }
    if (l.kind === 'residual') return inner(l.layers![0]!, record.layers)
    return { branches: l.layers!.map((b, k) => inner(b, record.branches?.[k]?.layers)) }
  }
  const cursor = { next: 0 }
  const tree = list(layer, flat.layers, cursor)
  if (cursor.next !== flat.layers.length) throw new ShapeError(`nestTree: the model has ${cursor.next} layers but the tree has ${flat.layers.length} entries`)
  return tree
}

/**
 * The parameter (or state) tree of the model a spec builds, filled from its slots
 * ({@link Built.parameters} or {@link Built.state}) by `tensorOf`: `{ layers: [p₀, p₁, …] }`,
 * `{}` for a layer without tensors, and a block's record (`{ layers: [...] }`, `{ branches:
 * [{ layers: [...] }, …] }`) as its inner layers lay it out. How a file's tensors become a model's.
 *
 * @example
 * ```ts
 * import { Spec, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const built = Spec.build({ input: [2], layers: [{ kind: 'residual', layers: [{ kind: 'dense', units: 2 }, { kind: 'relu' }] }] })
 * assert.ok(built._tag === 'Right')
 * const tree = Spec.fillTree(built.right.model.spec, built.right.parameters, (slot) => tensor(slot.field.endsWith('w') ? [[1, 0], [0, 1]] : [0, 0]))
 * assert.deepStrictEqual(built.right.parameters.map((s) => s.name), ['layers.0.layers.0.w', 'layers.0.layers.0.b'])
 * assert.deepStrictEqual((tree.layers[0] as { layers: unknown[] }).layers[1], {})
 * ```
 */
export const fillTree = (spec: ModelSpec, slots: readonly TensorSlot[], tensorOf: (slot: TensorSlot) => Tensor): { readonly layers: readonly Tree[] } => {
  const skeleton = (s: LayerSpec): Record<string, unknown> =>
    s.kind === 'residual' ? { layers: s.layers.map(skeleton) } : s.kind === 'parallel' ? { branches: s.branches.map((b) => ({ layers: b.map(skeleton) })) } : {}
  const layers = spec.layers.map(skeleton)
  for (const slot of slots) {
    const keys = slot.field.split('.')
    let node: Record<string, unknown> = layers[slot.layer]!
    for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>
    node[keys[keys.length - 1]!] = tensorOf(slot)
  }
  return { layers: layers as Tree[] }
}

const describeTree = (t: unknown): string =>
  t === null || typeof t !== 'object' ? String(t) : Array.isArray(t) ? `an array of ${t.length}` : `an object with keys ${Object.keys(t).join(', ') || '(none)'}`
