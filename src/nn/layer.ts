/**
 * `Layer<In, Out, P, S>`: a pure function from a batch of inputs to a batch of outputs,
 * with parameters `P` (a tree of tensors that `grad` differentiates) and state `S` (running
 * statistics, threaded functionally, never differentiated). Shapes are per example: a
 * layer with `In = [784]` takes batches `[B, 784]`.
 *
 * Composition is typed: `sequential(dense(784, 128), relu(), dense(64, 10))` does not
 * compile, with the message "layer 3 expects 64 features but layer 2 produces 128 features";
 * the same words are thrown as a `ShapeError` at run time for JavaScript callers.
 *
 * @module
 */
import { ShapeError } from '../error.js'
import type { Add, Div, IsLiteral, Mul, Product, Sub } from '../nat.js'
import * as Random from '../random.js'
import type { Key } from '../random.js'
import type { Guard, IsTuple, Shape, ShapeMismatch } from '../shape.js'
import type { DType, Tensor } from '../tensor.js'

// ---------------------------------------------------------------- shapes between layers

/** The output shape of a layer that keeps its input's shape (activations, dropout, norms). */
export type Same = { readonly transform: 'same' }

/** The output shape of a layer computed from its input's, by a named rule of {@link Transforms}. */
export interface Transform<Tag extends keyof Transforms<Shape, never>, Args = unknown> {
  readonly transform: Tag
  readonly args?: Args
}

/** What a layer says about its output: a fixed shape, or a rule applied to its input's shape. */
export type OutSpec = Shape | Same | Transform<keyof Transforms<Shape, never>, unknown>

/** A dimension in a message: its value, or `?` when it is free (`number`). */
type Dim<N extends number> = IsLiteral<N> extends true ? `${N}` : '?'

type Join<S extends Shape> = S extends readonly []
  ? ''
  : S extends readonly [infer H extends number]
    ? Dim<H>
    : S extends readonly [infer H extends number, ...infer R extends Shape]
      ? `${Dim<H>},${Join<R>}`
      : string

/**
 * How a message names a shape: "128 features" for rank 1, "shape [6,30,30]" otherwise; a
 * free dimension (`number`, e.g. a convolution's height and width) is written `?`.
 */
export type Describe<S extends Shape> = IsTuple<S> extends false
  ? 'any shape'
  : S extends readonly [infer N extends number]
    ? `${Dim<N>} features`
    : `shape [${Join<S>}]`

/**
 * Runtime twin of {@link Describe}: a free dimension (`-1` in an `inShape`) is written `?`.
 *
 * @example
 * ```ts
 * import { Layer } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Layer.describe([128]), '128 features')
 * assert.strictEqual(Layer.describe([6, 30, 30]), 'shape [6,30,30]')
 * assert.strictEqual(Layer.describe([16, -1, -1]), 'shape [16,?,?]')
 * ```
 */
export const describe = (s: Shape | undefined): string => {
  if (s === undefined) return 'any shape'
  const dims = s.map((d) => (d === -1 ? '?' : `${d}`))
  return dims.length === 1 ? `${dims[0]} features` : `shape [${dims.join(',')}]`
}

type Spatial<H extends number, K extends number, S extends number, P extends number> = IsLiteral<H> extends false
  ? number
  : Sub<Add<H, Mul<2, P>>, K> extends infer D extends number
    ? [D] extends [never]
      ? never
      : Add<Div<D, S>, 1>
    : never

/** Output shape of a 2-D convolution or pooling over `[C, H, W]`. */
export type Conv2dOut<Cur extends Shape, Args> = Args extends {
  readonly out: infer O extends number
  readonly kernel: infer K extends number
  readonly stride: infer St extends number
  readonly padding: infer P extends number
  readonly op: infer Op extends string
}
  ? Cur extends readonly [infer C extends number, infer H extends number, infer W extends number]
    ? [Spatial<H, K, St, P>, Spatial<W, K, St, P>] extends [infer H2 extends number, infer W2 extends number]
      ? [H2] extends [never]
        ? ShapeMismatch<`${Op}: a ${K}x${K} window does not fit in ${Describe<Cur>}`>
        : [W2] extends [never]
          ? ShapeMismatch<`${Op}: a ${K}x${K} window does not fit in ${Describe<Cur>}`>
          : [O extends 0 ? C : O, H2, W2]
      : ShapeMismatch<`${Op}: a ${K}x${K} window does not fit in ${Describe<Cur>}`>
    : IsTuple<Cur> extends false
      ? Shape
      : ShapeMismatch<`${Op} expects shape [channels,height,width] but got ${Describe<Cur>}`>
  : never

/**
 * The shape rules layers can name, keyed by tag: given the current per-example shape `Cur`
 * and the layer's arguments, the next shape (or a {@link ShapeMismatch}).
 */
export interface Transforms<Cur extends Shape, Args> {
  readonly same: Cur
  readonly flatten: IsTuple<Cur> extends false ? [number] : IsLiteral<Product<Cur>> extends true ? [Product<Cur>] : [number]
  readonly conv2d: Conv2dOut<Cur, Args>
}

/** The shape after a layer whose output is `Out`, given the current shape. */
export type Next<Out, Cur extends Shape> = Out extends Shape
  ? Out
  : Out extends { readonly transform: infer Tag extends keyof Transforms<Shape, never> }
    ? Transforms<Cur, Out extends { readonly args?: infer A } ? A : never>[Tag]
    : never

type DimOk<A, B> = number extends A ? true : number extends B ? true : A extends B ? true : false

type AllOk<A extends Shape, B extends Shape> = A extends readonly [infer X, ...infer AR extends Shape]
  ? B extends readonly [infer Y, ...infer BR extends Shape]
    ? DimOk<X, Y> extends true
      ? AllOk<AR, BR>
      : false
    : false
  : true

/** Whether a layer taking `In` accepts the shape `Cur` (dimensions typed `number` match anything). */
export type Accepts<In extends Shape, Cur extends Shape> = IsTuple<In> extends false
  ? true
  : IsTuple<Cur> extends false
    ? true
    : In['length'] extends Cur['length']
      ? AllOk<In, Cur>
      : false

// ---------------------------------------------------------------- layers

/** How a layer runs: training or inference, a random key (dropout), and its state. */
export interface Context<S> {
  readonly training: boolean
  readonly key?: Key
  readonly state: S
}

/** A layer's output and its new state. */
export interface Output<S> {
  readonly y: Tensor
  readonly state: S
}

/** The state of a layer that has none. */
export type Stateless = Readonly<Record<string, never>>

/**
 * A layer: `init` draws parameters from a key, `initState` gives the initial state,
 * `forward` maps a batch `[B, ...In]` to `[B, ...out]`. `In`, `Out` live in the type for
 * composition checks; `inShape` and `outputShape` are their runtime twins.
 */
export interface Layer<In extends Shape, Out extends OutSpec, P, S = Stateless> {
  /** What the layer is, for messages and model specs ("dense", "relu", …). */
  readonly kind: string
  /** The per-example input shape it accepts; `undefined` accepts any, `-1` marks any size of a dimension. */
  readonly inShape: In | undefined
  /** The per-example output shape for a given input shape (throws a `ShapeError` when it does not fit); `-1` dimensions pass through as `-1`. */
  readonly outputShape: (input: Shape) => Shape
  /** The per-example output shape when it does not depend on the input (dense, reshape), so checks can start there. */
  readonly outShape?: Shape
  readonly init: (key: Key, dtype?: DType) => P
  readonly initState: () => S
  readonly forward: (params: P, x: Tensor, context: Context<S>) => Output<S>
  /** Type-level output rule (never set at run time). */
  readonly __out?: Out
}

/** Any layer. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyLayer = Layer<any, any, any, any>

/** The parameters of a layer. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ParamsOf<L> = L extends Layer<any, any, infer P, any> ? P : never
/** The state of a layer. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type StateOf<L> = L extends Layer<any, any, any, infer S> ? S : never

/**
 * Whether a layer expecting `expected` accepts a per-example shape `actual` (`-1` on either
 * side is a dimension of any size; `undefined` accepts every shape).
 *
 * @example
 * ```ts
 * import { Layer } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.ok(Layer.accepts([6, -1, -1], [6, 30, 30]))
 * assert.ok(!Layer.accepts([64], [128]))
 * assert.ok(Layer.accepts(undefined, [3]))
 * ```
 */
export const accepts = (expected: Shape | undefined, actual: Shape): boolean =>
  expected === undefined ||
  (expected.length === actual.length && expected.every((d, i) => d === -1 || actual[i] === -1 || d === actual[i]))

/**
 * Runs a layer for inference on a batch; the state defaults to the layer's initial state.
 *
 * @example
 * ```ts
 * import { Layer, Layers, Random, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const layer = Layers.dense(2, 3)
 * const params = layer.init(Random.key(0))
 * assert.deepStrictEqual(Layer.apply(layer, params, tensor([[1, 2]])).shape, [1, 3])
 * ```
 */
export const apply = <P, S>(layer: Layer<Shape, OutSpec, P, S>, params: P, x: Tensor, state?: S): Tensor =>
  layer.forward(params, x, { training: false, state: state ?? layer.initState() }).y

/**
 * Runs a layer in training mode: dropout draws from `key`, batch statistics update the state.
 *
 * @example
 * ```ts
 * import { Layer, Layers, Random, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const drop = Layers.dropout(0.5)
 * const { y } = Layer.train(drop, {}, drop.initState(), tensor([[1, 1, 1, 1]]), Random.key(3))
 * assert.ok([...y.data].every((v) => v === 0 || v === 2))
 * ```
 */
export const train = <P, S>(layer: Layer<Shape, OutSpec, P, S>, params: P, state: S, x: Tensor, key: Key): Output<S> =>
  layer.forward(params, x, { training: true, key, state })

// ---------------------------------------------------------------- composition

/** The shape after a chain of layers, or the {@link ShapeMismatch} naming the first misfit. */
export type Chain<Ls extends readonly AnyLayer[], Cur extends Shape, I extends unknown[] = []> = Ls extends readonly [
  infer L,
  ...infer Rest extends readonly AnyLayer[]
]
  ? // eslint-disable-next-line @typescript-eslint/no-explicit-any
    L extends Layer<infer In, infer Out, any, any>
    ? I['length'] extends 0
      ? Continue<Rest, Next<Out, IsTuple<In> extends true ? In : Cur>, [...I, 0]>
      : Accepts<In, Cur> extends true
        ? Continue<Rest, Next<Out, Cur>, [...I, 0]>
        : ShapeMismatch<`layer ${Add<I['length'], 1>} expects ${Describe<In>} but layer ${I['length']} produces ${Describe<Cur>}`>
    : never
  : Cur

type Continue<Rest extends readonly AnyLayer[], NextShape, I extends unknown[]> = NextShape extends ShapeMismatch<
  infer M
>
  ? ShapeMismatch<`layer ${I['length']}: ${M}`>
  : NextShape extends Shape
    ? Chain<Rest, NextShape, I>
    : never

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type InOf<L> = L extends Layer<infer In, any, any, any> ? In : Shape
type Params<Ls extends readonly AnyLayer[]> = { readonly layers: { readonly [K in keyof Ls]: ParamsOf<Ls[K]> } }
type States<Ls extends readonly AnyLayer[]> = { readonly layers: { readonly [K in keyof Ls]: StateOf<Ls[K]> } }

/** The layer `sequential(...Ls)` builds. */
export type Sequential<Ls extends readonly AnyLayer[]> = Layer<
  InOf<Ls[0]>,
  Chain<Ls, Shape> extends infer R extends Shape ? R : Shape,
  Params<Ls>,
  States<Ls>
>

/**
 * Runtime twin of {@link Chain}: the shape after the layers, throwing the same message. A
 * shape may be unknown (`undefined`: before the first layer with a fixed input or output)
 * or have free dimensions (`-1`), which match anything.
 */
const chainShapes = (layers: readonly AnyLayer[], input: Shape | undefined): Shape | undefined => {
  let cur = input
  layers.forEach((layer, i) => {
    if (i > 0 && cur !== undefined && !accepts(layer.inShape, cur)) {
      throw new ShapeError(`layer ${i + 1} expects ${describe(layer.inShape)} but layer ${i} produces ${describe(cur)}`)
    }
    const from = cur ?? layer.inShape
    if (from === undefined) {
      cur = layer.outShape
      return
    }
    try {
      cur = layer.outputShape(from)
    } catch (e) {
      if (e instanceof ShapeError) throw new ShapeError(`layer ${i + 1}: ${e.message}`)
      throw e
    }
  })
  return cur
}

/**
 * Layers applied one after another. Each layer's output must be the next one's input: a
 * mismatch is a compile error naming the position and both widths, and the same
 * `ShapeError` at run time. Parameters are `{ layers: [p₀, p₁, …] }` (so a dense layer's
 * weight is at `layers.0.w`).
 *
 * @example
 * ```ts
 * import { Layer, Layers, Random, zeros, ShapeError } from 'lamina-nn'
 * import assert from 'node:assert'
 * const mlp = Layer.sequential(Layers.dense(784, 128), Layers.relu(), Layers.dense(128, 10))
 * const params = mlp.init(Random.key(0))
 * assert.deepStrictEqual(Layer.apply(mlp, params, zeros([32, 784])).shape, [32, 10])
 * // @ts-expect-error: layer 3 expects 64 features but layer 2 produces 128 features
 * const bad = () => Layer.sequential(Layers.dense(784, 128), Layers.relu(), Layers.dense(64, 10))
 * assert.throws(bad, new ShapeError('layer 3 expects 64 features but layer 2 produces 128 features'))
 * ```
 */
export const sequential = <const Ls extends readonly AnyLayer[]>(...given: Ls & NoInfer<Guard<Chain<Ls, Shape>>>): Sequential<Ls> => {
  const layers: readonly AnyLayer[] = given
  if (layers.length === 0) throw new ShapeError('sequential: expected at least one layer')
  const first = layers[0]!
  const output = chainShapes(layers, first.inShape)
  const splitKeys = (key: Key | undefined) => (key === undefined ? layers.map(() => undefined) : Random.split(key, layers.length))
  return {
    kind: 'sequential',
    inShape: first.inShape,
    outputShape: (input) => chainShapes(layers, input)!,
    ...(output === undefined ? {} : { outShape: output }),
    init: (key, dtype) => {
      const keys = Random.split(key, layers.length)
      return { layers: layers.map((l, i) => l.init(keys[i]!, dtype)) } as Params<Ls>
    },
    initState: () => ({ layers: layers.map((l) => l.initState()) }) as States<Ls>,
    forward: (params, x, context) => {
      const keys = splitKeys(context.key)
      const states: unknown[] = []
      let y = x
      layers.forEach((layer, i) => {
        const out = layer.forward((params.layers as readonly unknown[])[i], y, {
          training: context.training,
          ...(keys[i] === undefined ? {} : { key: keys[i] }),
          state: (context.state.layers as readonly unknown[])[i]
        })
        y = out.y
        states.push(out.state)
      })
      return { y, state: { layers: states } as States<Ls> }
    }
  } as Sequential<Ls>
}
