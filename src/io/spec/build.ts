/**
 * `build`: a spec decoded and built into a `sequential` model, with the shapes of its
 * parameters and state known before anything is allocated; the parameter count and its limit;
 * `load` from JSON text. Re-exported by `Spec`.
 *
 * @module
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Either } from 'fp-ts/lib/Either.js'
import { ArgumentError, LaminaError } from '../../error.js'
import * as Sh from '../../shape.js'
import type { Shape } from '../../shape.js'
import type { Tree } from '../../tree.js'
import type * as Layer from '../../nn/layer.js'
import { formatFailure } from '../codec.js'
import { decode, parse } from './codec.js'
import { MAX_ELEMENTS, MAX_PARAMETERS } from './limits.js'
import { makeChain, overLimit } from './make-layer.js'
import type { ModelSpec } from './types.js'

/** The parameters of a model built from a spec: one entry per layer (`{}` for layers without). */
export type ModelParams = { readonly layers: readonly Tree[] }
/** The state of a model built from a spec: one entry per layer. */
export type ModelState = { readonly layers: readonly unknown[] }

/** A `sequential` model built from a spec; it carries its spec (with defaults filled in) for {@link toSpec}. */
export type Model = Layer.Layer<Shape, Shape, ModelParams, ModelState> & { readonly spec: ModelSpec }

/**
 * One tensor of the parameters or the state of a model built from a spec, known from the
 * spec alone (no allocation): its dotted name in the tree (`layers.0.w`, as
 * `Safetensors.fromTree` names it), its shape, and the layer it belongs to.
 */
export interface TensorSlot {
  /** The dotted name in the parameter (or state) tree: `layers.0.w`, `layers.1.mean`. */
  readonly name: string
  /**
   * The field in the layer's record: `w`, `b`, `gamma`, `beta`, `mean`, `variance`; for a
   * layer inside a block, its path in the block's record (`layers.0.w`, `branches.1.layers.0.b`).
   */
  readonly field: string
  readonly shape: Shape
  /** The layer's index in the spec (0-based, as in `layers[0]`). */
  readonly layer: number
  /** The kind of the layer that holds the tensor (`dense`, `conv2d`, `batchNorm`; inside a block, the inner layer's). */
  readonly kind: string
}

/** What {@link build} returns: the model, its per-example input and output shapes, and the shapes of its parameters and state. */
export interface Built {
  readonly model: Model
  readonly inputShape: Shape
  readonly outputShape: Shape
  /** The tensors `model.init(key)` draws, in its order, from a walk over the shapes alone. */
  readonly parameters: readonly TensorSlot[]
  /** The tensors `model.initState()` holds (batch-norm running statistics), in its order. */
  readonly state: readonly TensorSlot[]
  /** The number of parameters: the elements of all of {@link Built.parameters}. */
  readonly parameterCount: number
}

const deepFreeze = <A>(a: A): A => {
  if (typeof a === 'object' && a !== null && !Object.isFrozen(a)) {
    Object.freeze(a)
    for (const v of Object.values(a)) deepFreeze(v)
  }
  return a
}

/**
 * Builds the `sequential` model a spec describes (decoding it first, so a JavaScript caller
 * may pass anything). Widths are inferred from the running shape: `dense` takes the width
 * before it, `conv2d` the channels, `batchNorm` the features or channels. Composition is
 * `Layer.sequential`'s, so a spec that does not fit is a `Left` holding the same
 * `ShapeError` the type checker reports for the same mistake in TypeScript; a malformed spec
 * is a `Left` holding a `DecodeError`. Same spec and same key, same initial weights as the
 * hand-written model. The chain is checked from the spec's `input` (so messages carry sizes
 * a convolution's free dimensions would leave as `?`), and the model's `inShape` is that input.
 *
 * Building allocates nothing that the spec's sizes could make large: sizes are bounded
 * ({@link MAX_ELEMENTS} for every field, per-example shape and parameter tensor, an
 * `ArgumentError` naming the layer and the limit otherwise), and the shapes of the
 * parameters and state are computed from the spec alone ({@link Built.parameters},
 * {@link Built.state}, {@link Built.parameterCount}): only `model.init` and
 * `model.initState` allocate, so check {@link checkParameterCount} before calling them on a
 * spec from outside, and compare the shapes with a file before reading it (as `Checkpoint.decode` does).
 *
 * @example
 * ```ts
 * import { Spec, Layer, Layers, Conv, Random, ShapeError } from 'lamina-nn'
 * import assert from 'node:assert'
 * const lenet = Spec.build({
 *   input: [1024],
 *   layers: [
 *     { kind: 'reshape', shape: [1, 32, 32] },
 *     { kind: 'conv2d', filters: 6, kernel: 3 }, { kind: 'relu' }, { kind: 'maxPool2d', kernel: 2 },
 *     { kind: 'flatten' }, { kind: 'dense', units: 10 }
 *   ]
 * })
 * assert.ok(lenet._tag === 'Right')
 * assert.deepStrictEqual(lenet.right.outputShape, [10])
 * // the same model in TypeScript has the same parameters, drawn from the same key
 * const typed = Layer.sequential(Layers.reshape([1, 32, 32]), Conv.conv2d(1, 6, 3), Layers.relu(), Conv.maxPool2d(2), Layers.flatten(), Layers.dense(1350, 10))
 * const [a, b] = [lenet.right.model.init(Random.key(3)), typed.init(Random.key(3))]
 * assert.deepStrictEqual((a.layers[5] as { w: { data: unknown } }).w.data, b.layers[5].w.data)
 * // a dense layer straight after a convolution: the type checker's words for
 * // Layer.sequential(Layers.reshape([1, 28, 28]), Conv.conv2d(1, 6, 3), Layers.dense(4056, 10))
 * const bad = Spec.build({ input: [784], layers: [
 *   { kind: 'reshape', shape: [1, 28, 28] }, { kind: 'conv2d', filters: 6, kernel: 3 }, { kind: 'dense', units: 10 }] })
 * assert.ok(bad._tag === 'Left' && bad.left instanceof ShapeError)
 * assert.strictEqual(bad.left.message, 'layer 3 expects 4056 features but layer 2 produces shape [6,26,26]')
 * ```
 */
export const build = (spec: ModelSpec): Either<LaminaError, Built> => {
  const decoded = decode(spec)
  if (E.isLeft(decoded)) return decoded
  const { input, layers: specs } = decoded.right
  const inputSize = Sh.size(input)
  if (inputSize > MAX_ELEMENTS) return E.left(overLimit('input', `an input of at most ${MAX_ELEMENTS} elements per example`, input))
  try {
    const chain = makeChain(specs, input, 'layers')
    const made = chain.made
    const sequential = chain.layer as Layer.Layer<Shape, Shape, ModelParams, ModelState>
    const outputShape = chain.output
    // the parameters and the state, from the shapes alone: nothing is allocated
    const parameters: TensorSlot[] = []
    const state: TensorSlot[] = []
    let parameterCount = 0
    for (let i = 0; i < made.length; i++) {
      const { spec: layerSpec, params = [], state: stateShapes = [] } = made[i]!
      for (const [list, shapes] of [
        [parameters, params],
        [state, stateShapes]
      ] as const) {
        for (const [field, shape, inner] of shapes) {
          const kind = inner ?? layerSpec.kind
          if (Sh.size(shape) > MAX_ELEMENTS) {
            return E.left(overLimit(`layers[${i}]`, `a ${kind} layer whose ${field} has at most ${MAX_ELEMENTS} elements`, shape))
          }
          list.push(Object.freeze({ name: `layers.${i}.${field}`, field, shape: Object.freeze([...shape]), layer: i, kind }))
          if (list === parameters) parameterCount += Sh.size(shape)
        }
      }
    }
    const model: Model = { ...sequential, spec: deepFreeze({ input: [...input], layers: made.map((m) => m.spec) }) }
    return E.right({ model, inputShape: [...input], outputShape, parameters: Object.freeze(parameters), state: Object.freeze(state), parameterCount })
  } catch (e) {
    if (e instanceof LaminaError) return E.left(e)
    throw e
  }
}

/**
 * The number of parameters of the model a spec describes (the elements of every parameter
 * tensor), computed from the shapes alone: nothing is allocated, so it is safe on a hostile
 * spec. A spec that does not build is a `Left` (see {@link build}).
 *
 * @example
 * ```ts
 * import { Spec } from 'lamina-nn'
 * import assert from 'node:assert'
 * // dense 784 → 128: 784·128 + 128; dense 128 → 10: 128·10 + 10
 * const n = Spec.parameterCount({ input: [784], layers: [{ kind: 'dense', units: 128 }, { kind: 'relu' }, { kind: 'dense', units: 10 }] })
 * assert.deepStrictEqual(n, { _tag: 'Right', right: 784 * 128 + 128 + 128 * 10 + 10 })
 * // half a billion units: counted, never allocated
 * const huge = Spec.parameterCount({ input: [2], layers: [{ kind: 'dense', units: 5e8 }] })
 * assert.deepStrictEqual(huge, { _tag: 'Right', right: 1.5e9 })
 * ```
 */
export const parameterCount = (spec: ModelSpec): Either<LaminaError, number> => {
  const built = build(spec)
  return E.isLeft(built) ? built : E.right(built.right.parameterCount)
}

/**
 * Checks, before anything is allocated, that a built model has at most `limit` parameters
 * (default {@link MAX_PARAMETERS}); call it between {@link build} and `model.init`. The
 * `Left` names the count, the limit and the largest parameter tensor.
 *
 * @example
 * ```ts
 * import { Spec } from 'lamina-nn'
 * import assert from 'node:assert'
 * const built = Spec.build({ input: [2], layers: [{ kind: 'dense', units: 5e8 }] })
 * assert.ok(built._tag === 'Right')
 * const checked = Spec.checkParameterCount(built.right)
 * assert.ok(checked._tag === 'Left')
 * assert.strictEqual(checked.left.message,
 *   'model spec: layers[0].units: expected at most 100000000 parameters in all (Spec.MAX_PARAMETERS), got 1500000000 (the largest: layers.0.w [2,500000000] of a dense layer)')
 * assert.ok(Spec.checkParameterCount(built.right, 2e9)._tag === 'Right')
 * ```
 */
export const checkParameterCount = (built: Built, limit: number = MAX_PARAMETERS): Either<ArgumentError, Built> => {
  if (built.parameterCount <= limit || built.parameters.length === 0) return E.right(built)
  const largest = built.parameters.reduce((a, b) => (Sh.size(b.shape) > Sh.size(a.shape) ? b : a))
  const field = largest.kind === 'dense' ? '.units' : largest.kind === 'conv2d' ? '.filters' : ''
  const named = limit === MAX_PARAMETERS ? ' (Spec.MAX_PARAMETERS)' : ''
  const failure = formatFailure({
    path: `layers[${largest.layer}]${field}`,
    expected: `at most ${limit} parameters in all${named}`,
    got: `${built.parameterCount} (the largest: ${largest.name} ${Sh.show(largest.shape)} of a ${largest.kind} layer)`
  })
  return E.left(new ArgumentError(`model spec: ${failure}`))
}

/**
 * Parses JSON text and builds the model it describes (see {@link build}).
 *
 * @example
 * ```ts
 * import { Spec } from 'lamina-nn'
 * import assert from 'node:assert'
 * const built = Spec.load('{"input": [3], "layers": [{"kind": "dense", "units": 2}]}')
 * assert.ok(built._tag === 'Right' && built.right.outputShape[0] === 2)
 * const bad = Spec.load('{"input": [784], "layers": [{"kind": "reshape", "shape": [1, 28, 27]}]}')
 * assert.ok(bad._tag === 'Left')
 * assert.strictEqual(bad.left.message, 'layer 1: reshape: cannot reshape [784] (784 elements) into [1,28,27] (756 elements)')
 * ```
 */
export const load = (text: string): Either<LaminaError, Built> => {
  const spec = parse(text)
  return E.isLeft(spec) ? spec : build(spec.right)
}
