/**
 * The limits every spec is held to, so that a hostile spec is refused with a message naming
 * the limit rather than exhausting memory or the stack. Re-exported by `Spec`.
 *
 * @module
 */

/**
 * The most elements one tensor a spec describes may have: each dimension and size field
 * (`input`, `reshape` shapes, `units`, `filters`, `kernel`, `stride`, `padding`, `channels`,
 * `inputs`), the per-example input and every layer's per-example output, and every parameter
 * or state tensor. 2^30 (8 GiB in f64): beyond what a typed array holds comfortably, so a
 * spec such as `"input": [1e15]` is refused with a message naming the field, not a
 * `RangeError` from deep inside an allocation.
 *
 * @example
 * ```ts
 * import { Spec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Spec.MAX_ELEMENTS, 2 ** 30)
 * const huge = Spec.parse('{"input": [1e15], "layers": [{"kind": "relu"}]}')
 * assert.ok(huge._tag === 'Left')
 * assert.strictEqual(huge.left.message, 'model spec: input[0]: expected positive integer ≤ 1073741824 (Spec.MAX_ELEMENTS), got 1000000000000000')
 * ```
 */
export const MAX_ELEMENTS = 2 ** 30

/**
 * The most dimensions a spec's shape (`input`, a `reshape`'s `shape`) may have.
 *
 * @example
 * ```ts
 * import { Spec } from 'lamina-nn'
 * import assert from 'node:assert'
 * const deep = Spec.decode({ input: Array.from({ length: Spec.MAX_RANK + 1 }, () => 1), layers: [{ kind: 'relu' }] })
 * assert.ok(deep._tag === 'Left' && deep.left.message === ('model spec: input: expected a shape of at most 8 dimensions (Spec.MAX_RANK), got 9'))
 * ```
 */
export const MAX_RANK = 8

/**
 * The most layers a spec may list (and the most keys a layer object or the spec object may
 * have is {@link MAX_KEYS}), so that a hostile spec cannot make decoding build millions of
 * layers or failure reports.
 *
 * @example
 * ```ts
 * import { Spec } from 'lamina-nn'
 * import assert from 'node:assert'
 * const long = Spec.decode({ input: [1], layers: Array.from({ length: Spec.MAX_LAYERS + 1 }, () => ({ kind: 'relu' })) })
 * assert.ok(long._tag === 'Left' && long.left.message === 'model spec: layers: expected an array of at most 10000 layers (Spec.MAX_LAYERS), got 10001')
 * ```
 */
export const MAX_LAYERS = 10_000

/**
 * The deepest that `residual` and `parallel` blocks may nest (a block's layers are one level
 * below the list holding the block). Decoding walks a spec's blocks before it reads them, so a
 * hostile spec nested a million deep is refused with this limit's name, not a stack overflow;
 * the layers of all levels together count towards {@link MAX_LAYERS} (and a parallel block's
 * branches too).
 *
 * @example
 * ```ts
 * import { Spec } from 'lamina-nn'
 * import assert from 'node:assert'
 * let layer: Spec.LayerSpec = { kind: 'relu' }
 * for (let i = 0; i <= Spec.MAX_DEPTH; i++) layer = { kind: 'residual', layers: [layer] }
 * const deep = Spec.decode({ input: [2], layers: [layer] })
 * assert.ok(deep._tag === 'Left')
 * assert.strictEqual(deep.left.message, 'model spec: layers: expected residual and parallel blocks nested at most 16 deep (Spec.MAX_DEPTH), got 17')
 * ```
 */
export const MAX_DEPTH = 16

/**
 * The most keys the spec object or one layer object may have (the codecs name at most a
 * handful; this bounds the work of reporting unknown keys).
 *
 * @example
 * ```ts
 * import { Spec } from 'lamina-nn'
 * import assert from 'node:assert'
 * const wide = Spec.decode({ input: [1], layers: [Object.fromEntries([['kind', 'relu'], ...Array.from({ length: 40 }, (_, i) => [`k${i}`, i])])] })
 * assert.ok(wide._tag === 'Left' && wide.left.message === 'model spec: layers[0]: expected a layer object with at most 16 keys (Spec.MAX_KEYS), got 41')
 * ```
 */
export const MAX_KEYS = 16

/**
 * The longest spec text {@link parse} (and {@link load}, and so `Checkpoint.decode` for the
 * spec in a file's metadata) reads: 2^20 characters, room for {@link MAX_LAYERS} layers;
 * longer text is refused before it is parsed.
 *
 * @example
 * ```ts
 * import { Spec } from 'lamina-nn'
 * import assert from 'node:assert'
 * const long = Spec.parse(`{"input": [1], "layers": [${'{"kind": "relu"},'.repeat(70_000)}{"kind": "relu"}]}`)
 * assert.ok(long._tag === 'Left' && long.left.message.startsWith('model spec: expected JSON text of at most 1048576 characters (Spec.MAX_SPEC_LENGTH), got '))
 * ```
 */
export const MAX_SPEC_LENGTH = 2 ** 20

/**
 * The default limit of {@link checkParameterCount}: the most parameters (elements of all
 * parameter tensors) a model built to be trained may have, 10^8 (0.8 GB in f64, about four
 * times that while training with Adam). Loading a file needs no such limit: a checkpoint's
 * parameters must be in the file, so they are bounded by its size.
 *
 * @example
 * ```ts
 * import { Spec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Spec.MAX_PARAMETERS, 100_000_000)
 * ```
 */
export const MAX_PARAMETERS = 100_000_000
