/**
 * The layers of the seeds: dense (affine) layers, activations, dropout, reshaping.
 * Every layer is a plain value; its parameters are a record of tensors.
 *
 * @module
 */
import { ArgumentError, ShapeError } from '../error.js'
import * as O from '../ops.js'
import * as Random from '../random.js'
import * as Sh from '../shape.js'
import type { Shape } from '../shape.js'
import { fromOwnedBuffer, allocate } from '../tensor.js'
import type { Tensor } from '../tensor.js'
import * as A from './activations.js'
import * as Init from './init.js'
import type { Initializer } from './init.js'
import { accepts, describe } from './layer.js'
import type { Layer, Same, Stateless, Transform } from './layer.js'

const stateless = (): Stateless => ({})

/** Checks a batch `[B, ...inShape]` at run time with the same words as composition. */
const checkBatch = (kind: string, expected: Shape | undefined, x: Tensor): void => {
  if (x.rank < 1) throw new ShapeError(`${kind} expects a batch [batch, ...features] but got a scalar`)
  const example = x.shape.slice(1)
  if (!accepts(expected, example)) {
    throw new ShapeError(`${kind} expects ${describe(expected)} but got ${describe(example)} (batch ${Sh.show(x.shape)})`)
  }
}

/** Options of {@link dense}. */
export interface DenseOptions {
  /** Weight initializer (default Glorot uniform). */
  readonly weights?: Initializer
  /** Bias initializer (default zeros; seed 003 suggests 0.1 for ReLU units). */
  readonly bias?: Initializer
}

/** Parameters of a dense layer: `w: [in, out]`, `b: [out]`. */
export type DenseParams<I extends number, O extends number> = {
  readonly w: Tensor<[I, O]>
  readonly b: Tensor<[O]>
}

const checkWidth = (kind: string, n: number): void => {
  if (!Number.isSafeInteger(n) || n < 1) throw new ArgumentError(`${kind}: a width must be a positive integer, got ${n}`)
}

/**
 * The affine layer y = x·w + b, with `w: [in, out]` and `b: [out]` broadcast over the batch
 * (seed 002's batched form; seed 000 writes the same map per example as wᵀx + b).
 *
 * @example
 * ```ts
 * import { Layer, Layers, Random, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const d = Layers.dense(2, 1)
 * const y = Layer.apply(d, { w: tensor([[2], [3]]), b: tensor([1]) }, tensor([[1, 1], [0, 1]]))
 * assert.deepStrictEqual(y.toArray(), [[6], [4]])
 * assert.deepStrictEqual(d.init(Random.key(0)).w.shape, [2, 1])
 * ```
 */
export const dense = <const I extends number, const O extends number>(
  inputs: I,
  outputs: O,
  options?: DenseOptions
): Layer<[I], [O], DenseParams<I, O>> => {
  checkWidth('dense', inputs)
  checkWidth('dense', outputs)
  const weights = options?.weights ?? Init.glorotUniform
  const bias = options?.bias ?? Init.zeros
  return {
    kind: 'dense',
    settings: { inputs, units: outputs },
    inShape: [inputs],
    outShape: [outputs],
    outputShape: (input) => {
      if (!accepts([inputs], input)) throw new ShapeError(`dense expects ${describe([inputs])} but got ${describe(input)}`)
      return [outputs]
    },
    init: (key, dtype) => {
      const [kw, kb] = Random.split(key)
      return { w: weights(kw!, [inputs, outputs], dtype ?? 'f64'), b: bias(kb!, [outputs], dtype ?? 'f64') } as DenseParams<I, O>
    },
    initState: stateless,
    forward: (params, x, { state }) => {
      checkBatch('dense', [inputs], x)
      return { y: O.add(O.matmul(x as Tensor<[number, I]>, params.w as Tensor) as Tensor, params.b as Tensor) as Tensor, state }
    }
  }
}

/** A parameterless layer applying `f` elementwise (or along the last axis). */
const activation = (kind: string, f: (z: Tensor) => Tensor, settings: Readonly<Record<string, number>> = {}): Layer<Shape, Same, Stateless> => ({
  kind,
  settings,
  inShape: undefined,
  outputShape: (input) => input,
  init: () => ({}),
  initState: stateless,
  forward: (_params, x, { state }) => ({ y: f(x), state })
})

/**
 * The identity layer: `sequential(identity(), f)` behaves as `f`.
 *
 * @example
 * ```ts
 * import { Layer, Layers, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(Layer.apply(Layers.identity(), {}, tensor([[1, 2]])).toArray(), [[1, 2]])
 * ```
 */
export const identity = (): Layer<Shape, Same, Stateless> => activation('identity', (z) => z)

/**
 * Logistic sigmoid layer.
 *
 * @example
 * ```ts
 * import { Layer, Layers, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(Layer.apply(Layers.sigmoid(), {}, tensor([[0]])).toArray(), [[0.5]])
 * ```
 */
export const sigmoid = (): Layer<Shape, Same, Stateless> => activation('sigmoid', (z) => O.sigmoid(z))

/**
 * Hyperbolic tangent layer.
 *
 * @example
 * ```ts
 * import { Layer, Layers, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(Layer.apply(Layers.tanh(), {}, tensor([[0]])).toArray(), [[0]])
 * ```
 */
export const tanh = (): Layer<Shape, Same, Stateless> => activation('tanh', (z) => O.tanh(z))

/**
 * ReLU layer, max(0, z).
 *
 * @example
 * ```ts
 * import { Layer, Layers, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(Layer.apply(Layers.relu(), {}, tensor([[-1, 2]])).toArray(), [[0, 2]])
 * ```
 */
export const relu = (): Layer<Shape, Same, Stateless> => activation('relu', (z) => O.relu(z))

/**
 * Leaky ReLU layer (default α = 0.01).
 *
 * @example
 * ```ts
 * import { Layer, Layers, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(Layer.apply(Layers.leakyRelu(0.5), {}, tensor([[-2, 2]])).toArray(), [[-1, 2]])
 * ```
 */
export const leakyRelu = (alpha = 0.01): Layer<Shape, Same, Stateless> => activation('leakyRelu', (z) => A.leakyRelu(z, alpha), { alpha })

/**
 * Absolute-value rectification |z| (generalized rectification with α = −1).
 *
 * @example
 * ```ts
 * import { Layer, Layers, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(Layer.apply(Layers.absRectify(), {}, tensor([[-2, 2]])).toArray(), [[2, 2]])
 * ```
 */
export const absRectify = (): Layer<Shape, Same, Stateless> => activation('absRectify', (z) => A.rectify(z, -1))

/**
 * PReLU: generalized rectification with a learned slope per unit of the last axis.
 *
 * @example
 * ```ts
 * import { Layer, Layers, Random, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const p = Layers.prelu(2)
 * assert.deepStrictEqual(Layer.apply(p, { alpha: tensor([0.5, 0.1]) }, tensor([[-2, -10]])).toArray(), [[-1, -1]])
 * assert.deepStrictEqual(p.init(Random.key(0)).alpha.toArray(), [0.25, 0.25])
 * ```
 */
export const prelu = <const N extends number>(units: N, initial = 0.25): Layer<[N], [N], { readonly alpha: Tensor<[N]> }> => {
  checkWidth('prelu', units)
  return {
    kind: 'prelu',
    settings: { units },
    inShape: [units],
    outputShape: (input) => {
      if (!accepts([units], input)) throw new ShapeError(`prelu expects ${describe([units])} but got ${describe(input)}`)
      return input
    },
    init: (key, dtype) => ({ alpha: Init.constant(initial)(key, [units] as [N], dtype ?? 'f64') as Tensor<[N]> }),
    initState: stateless,
    forward: (params, x, { state }) => {
      checkBatch('prelu', [units], x)
      return { y: A.rectify(x, params.alpha as Tensor), state }
    }
  }
}

/**
 * ELU layer.
 *
 * @example
 * ```ts
 * import { Layer, Layers, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(Layer.apply(Layers.elu(), {}, tensor([[0, 3]])).toArray(), [[0, 3]])
 * ```
 */
export const elu = (alpha = 1): Layer<Shape, Same, Stateless> => activation('elu', (z) => A.elu(z, alpha), { alpha })

/**
 * GELU layer: exact (erf) by default, or the tanh approximation.
 *
 * @example
 * ```ts
 * import { Layer, Layers, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const y = Layer.apply(Layers.gelu(), {}, tensor([[0, 10]])).toArray()
 * assert.deepStrictEqual(y, [[0, 10]])
 * ```
 */
export const gelu = (form: 'erf' | 'tanh' = 'erf'): Layer<Shape, Same, Stateless> =>
  activation(form === 'erf' ? 'gelu' : 'geluTanh', (z) => (form === 'erf' ? A.gelu(z) : A.geluTanh(z)))

/**
 * Softplus layer ζ(z) = log(1 + eᶻ).
 *
 * @example
 * ```ts
 * import { Layer, Layers, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.ok(Math.abs(Layer.apply(Layers.softplus(), {}, tensor([[0]])).item() - Math.LN2) < 1e-15)
 * ```
 */
export const softplus = (): Layer<Shape, Same, Stateless> => activation('softplus', (z) => O.softplus(z))

/**
 * Softmax over the last axis.
 *
 * @example
 * ```ts
 * import { Layer, Layers, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(Layer.apply(Layers.softmax(), {}, tensor([[3, 3]])).toArray(), [[0.5, 0.5]])
 * ```
 */
export const softmax = (): Layer<Shape, Same, Stateless> => activation('softmax', (z) => O.softmax(z, -1))

/**
 * Log-softmax over the last axis (stable).
 *
 * @example
 * ```ts
 * import { Layer, Layers, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.ok(Math.abs(Layer.apply(Layers.logSoftmax(), {}, tensor([[1, 1]])).data[0]! - Math.log(0.5)) < 1e-15)
 * ```
 */
export const logSoftmax = (): Layer<Shape, Same, Stateless> => activation('logSoftmax', (z) => O.logSoftmax(z, -1))

/**
 * Maxout: the maximum over groups of `k` consecutive units, [n·k] → [n]. The width is checked
 * when composing: `maxout(3)` after 10 features is a compile error, "maxout: 10 units cannot be
 * split into groups of 3", and the same `ShapeError` at run time.
 *
 * @example
 * ```ts
 * import { Layer, Layers, ShapeError, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(Layer.apply(Layers.maxout(2), {}, tensor([[1, 4, 3, 2]])).toArray(), [[4, 3]])
 * const net = Layer.sequential(Layers.dense(3, 8), Layers.maxout(2), Layers.dense(4, 1)) // 8 → 4
 * assert.deepStrictEqual(net.outputShape([3]), [1])
 * // @ts-expect-error: layer 2: maxout: 10 units cannot be split into groups of 3
 * const bad = () => Layer.sequential(Layers.dense(3, 10), Layers.maxout(3))
 * assert.throws(bad, new ShapeError('layer 2: maxout: 10 units cannot be split into groups of 3'))
 * ```
 */
export const maxout = <const K extends number>(k: K): Layer<Shape, Transform<'maxout', K>, Stateless> => ({
  kind: 'maxout',
  settings: { k },
  inShape: undefined,
  outputShape: (input) => {
    const last = input[input.length - 1] ?? 0
    if (last === -1) return k === 1 ? input : [...input.slice(0, -1), -1]
    if (!Number.isInteger(k) || k < 1 || last % k !== 0) throw new ShapeError(`maxout: ${last} units cannot be split into groups of ${k}`)
    return [...input.slice(0, -1), last / k]
  },
  init: () => ({}),
  initState: stateless,
  forward: (_p, x, { state }) => ({ y: A.maxout(x, k), state })
})

/**
 * Dropout: in training, zeroes each unit with probability `rate` and scales the survivors
 * by 1/(1 − rate) (inverted dropout, so inference is the identity). The mask comes from
 * the explicit key of the training context: same key, same mask.
 *
 * @example
 * ```ts
 * import { Layer, Layers, Random, ones } from 'lamina-nn'
 * import assert from 'node:assert'
 * const d = Layers.dropout(0.25)
 * assert.deepStrictEqual(Layer.apply(d, {}, ones([1, 4])).toArray(), [[1, 1, 1, 1]])
 * const a = Layer.train(d, {}, {}, ones([1, 1000]), Random.key(9)).y
 * const b = Layer.train(d, {}, {}, ones([1, 1000]), Random.key(9)).y
 * assert.deepStrictEqual(a.toArray(), b.toArray())
 * ```
 */
export const dropout = (rate: number): Layer<Shape, Same, Stateless> => {
  if (!(rate >= 0 && rate < 1)) throw new ArgumentError(`dropout: the rate must be in [0, 1), got ${rate}`)
  return {
    kind: 'dropout',
    settings: { rate },
    inShape: undefined,
    outputShape: (input) => input,
    init: () => ({}),
    initState: stateless,
    forward: (_p, x, { training, key, state }) => {
      if (!training || rate === 0) return { y: x, state }
      if (key === undefined) throw new ArgumentError('dropout: training needs a random key in the context')
      const u = Random.uniform(key, x.shape, { dtype: x.dtype }).data
      const keep = allocate(x.dtype, x.size)
      for (let i = 0; i < keep.length; i++) keep[i] = u[i]! >= rate ? 1 / (1 - rate) : 0
      return { y: O.mul(x, fromOwnedBuffer(x.shape, x.dtype, keep)) as Tensor, state }
    }
  }
}

/**
 * Flattens each example to one axis: [B, c, h, w] → [B, c·h·w].
 *
 * @example
 * ```ts
 * import { Layer, Layers, zeros } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(Layer.apply(Layers.flatten(), {}, zeros([2, 3, 4, 5])).shape, [2, 60])
 * ```
 */
export const flatten = (): Layer<Shape, Transform<'flatten'>, Stateless> => ({
  kind: 'flatten',
  settings: {},
  inShape: undefined,
  outputShape: (input) => [input.includes(-1) ? -1 : Sh.size(input)],
  init: () => ({}),
  initState: stateless,
  forward: (_p, x, { state }) => ({ y: O.reshape(x, [x.shape[0] ?? 1, Sh.size(x.shape.slice(1))]) as Tensor, state })
})

/**
 * Reshapes each example to `shape` (same number of elements). The element count is checked
 * against the layer before: `reshape([1, 28, 28])` after 128 features is a compile error,
 * "reshape: cannot reshape [128] (128 elements) into [1,28,28] (784 elements)", and the same
 * `ShapeError` at run time.
 *
 * @example
 * ```ts
 * import { Layer, Layers, ShapeError, zeros } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(Layer.apply(Layers.reshape([1, 28, 28]), {}, zeros([5, 784])).shape, [5, 1, 28, 28])
 * // @ts-expect-error: layer 2: reshape: cannot reshape [128] (128 elements) into [1,28,28] (784 elements)
 * const bad = () => Layer.sequential(Layers.dense(784, 128), Layers.reshape([1, 28, 28]))
 * assert.throws(bad, new ShapeError('layer 2: reshape: cannot reshape [128] (128 elements) into [1,28,28] (784 elements)'))
 * ```
 */
export const reshape = <const S extends Shape>(shape: S): Layer<Shape, Transform<'reshape', Sh.Writable<S>>, Stateless> => {
  Sh.validate(shape, 'reshape')
  return {
    kind: 'reshape',
    settings: { shape },
    inShape: undefined,
    outShape: shape,
    outputShape: (input) => {
      if (!input.includes(-1)) Sh.checkReshape(input, shape)
      return shape
    },
    init: () => ({}),
    initState: stateless,
    forward: (_p, x, { state }) => ({ y: O.reshape(x, [x.shape[0] ?? 1, ...shape] as Shape) as Tensor, state })
  }
}
