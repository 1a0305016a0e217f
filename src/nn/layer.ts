/**
 * `Layer<In, Out, P, S>`: a pure function from a batch of inputs to a batch of outputs,
 * with parameters `P` (a tree of tensors that `grad` differentiates) and state `S` (running
 * statistics, threaded functionally, never differentiated). Shapes are per example: a
 * layer with `In = [784]` takes batches `[B, 784]`.
 *
 * Composition is typed: `sequential(dense(784, 128), relu(), dense(64, 10))` does not
 * compile, with the message "layer 3 expects 64 features but layer 2 produces 128 features"
 * reported on `dense(64, 10)`; the same words are thrown as a `ShapeError` at run time for
 * JavaScript callers. So is every other misfit: a layer whose output depends on its input
 * (`maxout`, `reshape`, `flatten`, convolutions), a residual block that does not keep its
 * shape, parallel branches that do not agree, a spread `...blocks`, and the batch given to
 * {@link apply}. Generic blocks (`<N extends number>(n: N) => sequential(dense(n, n), relu())`)
 * compile, and are checked where they are used with concrete sizes.
 *
 * What the type checker cannot know, it says so in the type: a shape of unknown rank is
 * `Shape` (`readonly number[]`) and a size known only at run time is `number`; those are
 * checked at run time, in the same words.
 *
 * @module
 */
import { ShapeError } from '../error.js'
import type { Add, Div, IsLiteral, Mod, Mul, Product, Sub } from '../nat.js'
import * as Random from '../random.js'
import type { Key } from '../random.js'
import type { Changed, DimText, Free, IsTuple, Reshape, Shape, ShapeMismatch } from '../shape.js'
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

type Join<S extends Dims> = S extends readonly []
  ? ''
  : S extends readonly [infer H]
    ? DimText<H>
    : S extends readonly [infer H, ...infer R extends Dims]
      ? `${DimText<H>},${Join<R>}`
      : string

/**
 * How a message names a shape: "128 features" for rank 1, "shape [6,30,30]" otherwise; a
 * free dimension (`number`, e.g. a convolution's height and width) is written `?`, a
 * `Shape.Named<'B'>` one `B`, and the free size of axis 1 while a residual block or parallel
 * branches are checked for every size, `d1`.
 */
export type Describe<S extends Dims> = IsTuple<S> extends false
  ? 'any shape'
  : S extends readonly [infer N]
    ? `${DimText<N>} features`
    : `shape [${Join<S>}]`

/** A dimension of a shape traced at run time: a size (`-1`: not known), or the free size of input axis `free`. */
export type Dimension = number | { readonly free: number }

const dimText = (d: Dimension): string => (typeof d === 'number' ? (d === -1 ? '?' : `${d}`) : `d${d.free}`)

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
 * assert.strictEqual(Layer.describe([16, { free: 1 }, { free: 2 }]), 'shape [16,d1,d2]')
 * ```
 */
export const describe = (s: readonly Dimension[] | undefined): string => {
  if (s === undefined) return 'any shape'
  const dims = s.map(dimText)
  return dims.length === 1 ? `${dims[0]} features` : `shape [${dims.join(',')}]`
}

type Spatial<H, K extends number, S extends number, P extends number> = IsLiteral<H & number> extends false
  ? // a size known only at run time: kept as it is (the same symbol) when the window keeps every size
    S extends 1
    ? Add<Mul<2, P>, 1> extends K
      ? H
      : Moved<H>
    : Moved<H>
  : Sub<Add<H & number, Mul<2, P>>, K> extends infer D extends number
    ? [D] extends [never]
      ? never
      : Add<Div<D, S>, 1>
    : never

/** Output shape of a 2-D convolution or pooling over `[C, H, W]`. */
export type Conv2dOut<Cur extends Dims, Args> = Args extends {
  readonly out: infer O extends number
  readonly kernel: infer K extends number
  readonly stride: infer St extends number
  readonly padding: infer P extends number
  readonly op: infer Op extends string
}
  ? Cur extends readonly [infer C, infer H, infer W]
    ? [Spatial<H, K, St, P>, Spatial<W, K, St, P>] extends [infer H2, infer W2]
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

/** Output shape of `maxout(k)`: the last axis divided into groups of `k` (the same words as the runtime). */
export type MaxoutOut<Cur extends Dims, K> = IsTuple<Cur> extends false
  ? Shape
  : Cur extends readonly [...infer Init, infer Last]
    ? IsLiteral<Last & number> extends false
      ? [...Init, K extends 1 ? Last : Moved<Last>]
      : IsLiteral<K & number> extends false
        ? [...Init, number]
        : Mod<Last & number, K & number> extends 0
          ? [...Init, Div<Last & number, K & number>]
          : ShapeMismatch<`maxout: ${Last & number} units cannot be split into groups of ${K & number}`>
    : [0] // no axis: what the runtime gives, a width of 0

/**
 * The shape rules layers can name, keyed by tag: given the current per-example shape `Cur`
 * and the layer's arguments, the next shape (or a {@link ShapeMismatch}).
 */
export interface Transforms<Cur extends Dims, Args> {
  readonly same: Cur
  readonly flatten: Cur extends Shape ? (IsTuple<Cur> extends false ? [number] : IsLiteral<Product<Cur>> extends true ? [Product<Cur>] : [Moved<Cur[number]>]) : [number]
  readonly conv2d: Conv2dOut<Cur, Args>
  readonly maxout: MaxoutOut<Cur, Args>
  readonly reshape: Args extends Shape ? (Cur extends Shape ? Reshape<Cur, Args> : Args) : Shape
  readonly chain: Args extends readonly unknown[] ? ChainOut<Args, Cur> : Shape
  readonly residual: ResidualOut<Args, Cur>
  readonly parallel: Args extends readonly unknown[] ? ParallelOut<Args, Cur> : Shape
}

/**
 * Whether `T` is `any` (or `never`). Written with {@link Box} rather than `0 extends 1 & T`, so
 * that it stays a plain `true` when the type checker probes a generic call with a wildcard for
 * a type parameter: a verdict on a generic layer then reads "fits", and the call is accepted.
 */
type IsAny<T> = Box<1 & T> extends Box<0> ? true : false

/** Whether a dimension is a symbol of a symbolic check ({@link Free} or {@link Changed}). */
type IsSymbol<D> = Box<D> extends Box<{ readonly __free: number }> ? true : Box<D> extends Box<{ readonly __changed: true }> ? true : false

/** The size a rule computes from the size `D` in some other way than keeping it: `number`, or {@link Changed} when `D` is a symbol. */
type Moved<D> = IsSymbol<D> extends true ? Changed : number

/**
 * `{ v: T }`: lets a conditional type compare two types without distributing over a union and
 * without waiting for a type parameter (`Box<N> extends Box<N>` is settled inside a generic
 * helper, where `[N] extends [N]` is not).
 */
type Box<T> = { readonly v: T }

/** A shape as the rules here take it: any tuple (a dimension that is a type parameter need not be proved a number first). */
type Dims = readonly unknown[]

/** The shape after a layer whose output is `Out`, given the current shape. */
export type Next<Out, Cur extends Dims> =
  IsAny<Out> extends true
    ? Shape
    : Box<OutSpec> extends Box<Out>
      ? Shape // a layer typed with every rule at once (`Layer<Shape, OutSpec, …>`): its output is not known
      : Out extends readonly unknown[]
        ? Out
        : Out extends { readonly transform: infer Tag extends keyof Transforms<Shape, never> }
          ? Transforms<Cur, Out extends { readonly args?: infer A } ? A : never>[Tag]
          : Shape

/** Whether two dimensions can be equal: the same type, or either one free (`number`, named, a symbol). */
type DimOk<A, B> = Box<A> extends Box<B> ? true : Box<B> extends Box<A> ? true : IsSymbol<A> extends true ? true : IsSymbol<B>

type AllOk<A extends readonly unknown[], B extends readonly unknown[]> = A extends readonly [infer X, ...infer AR]
  ? B extends readonly [infer Y, ...infer BR]
    ? DimOk<X, Y> extends true
      ? AllOk<AR, BR>
      : false
    : false
  : true

/** Whether a layer taking `In` accepts the shape `Cur` (dimensions typed `number` match anything). */
export type Accepts<In extends Dims, Cur extends Dims> =
  Box<Cur> extends Box<In>
    ? true
    : IsTuple<In> extends false
      ? true
      : IsTuple<Cur> extends false
        ? true
        : In['length'] extends Cur['length']
          ? AllOk<In, Cur>
          : false

/** The current shape, or the layer's own input shape while the current one is not known yet. */
type Meet<In extends Dims, Cur extends Dims> = IsTuple<Cur> extends true ? Cur : IsTuple<In> extends true ? In : Cur

/**
 * Whether the output dimension `X` of a rule checked on symbols is the input's `Y`: the same
 * literal or symbol, or a size the rule fixes but the type does not know (`number`: a width
 * chosen at run time, checked then). A size computed from a symbol ({@link Changed}) is not.
 */
type SameDim<X, Y> = Box<X> extends Box<Y> ? (Box<Y> extends Box<X> ? true : IsSymbol<X> extends true ? false : Box<number> extends Box<X> ? true : false) : IsSymbol<X> extends true ? false : Box<number> extends Box<X> ? true : false

/** Dimension by dimension {@link SameDim}, and the same rank. */
type SameDims<A extends readonly unknown[], B extends readonly unknown[]> = A extends readonly [infer X, ...infer AR]
  ? B extends readonly [infer Y, ...infer BR]
    ? SameDim<X, Y> extends true
      ? SameDims<AR, BR>
      : false
    : false
  : B extends readonly []
    ? true
    : false

/** Each size known only at run time replaced by the symbol of its axis, so that a rule can be checked for every size at once. */
type Symbolize<S extends Dims, I extends 0[] = []> = S extends readonly [infer H, ...infer R extends Dims]
  ? [Box<number> extends Box<H> ? Free<I['length']> : H, ...Symbolize<R, [...I, 0]>]
  : []

/** The symbols of {@link Symbolize} given back their sizes. */
type Desymbolize<S extends readonly unknown[], Cur extends Dims> = {
  -readonly [K in keyof S]: S[K] extends { readonly __free: infer I extends number } ? Cur[I] : S[K] extends { readonly __changed: true } ? number : S[K]
}

// ---------------------------------------------------------------- checking a list of layers

/**
 * The verdict of a check over a list of layers: `out`, the shape after them; or, when they do
 * not fit, `at`, the key of the first argument that does not fit (`number` inside or after a
 * spread `...layers`, whose positions the type checker cannot count), `layer`, its type, and
 * `message`, the words of the compile error and of the run-time `ShapeError`.
 */
export interface Verdict<Out, At = never, Bad = never, Message extends string = never> {
  readonly out: Out
  readonly at: At
  readonly layer: Bad
  readonly message: Message
}

/**
 * The arguments `Ls` of a combinator with the one its {@link Verdict} blames replaced by the
 * {@link ShapeMismatch} that names the misfit, so that the compile error lands on that argument
 * and starts with the words. Used as the type of a rest parameter, it also infers `Ls`. (From a
 * spread `...layers` on, TypeScript checks the arguments as one tuple: a misfit there replaces
 * all of them, and the error spans them.)
 *
 * Inside a generic helper (`<N extends number>(n: N) => sequential(dense(n, n), relu())`) a
 * verdict that depends on a type parameter cannot be settled: the type checker then sees that
 * the argument could fit and accepts it; the check runs where the helper is used with
 * concrete sizes, since the model's output rule recomputes it.
 */
export type Checked<Ls extends readonly unknown[], V> = {
  [K in keyof Ls]: K extends (V & Verdict<unknown, unknown, unknown, string>)['at']
    ? ShapeMismatch<(V & Verdict<unknown, unknown, unknown, string>)['message']>
    : Ls[K]
}

type Count<I extends 0[], Spread extends boolean> = Spread extends true ? `${I['length']}+n` : `${I['length']}`

/** The input shape of a layer type. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type InOf<L> = Box<L> extends Box<Layer<infer In, any, any, any>> ? In : Shape

/** The output rule of a layer type. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type OutOf<L> = Box<L> extends Box<Layer<any, infer Out, any, any>> ? Out : never

/**
 * The per-example output shape of a layer for the input `Cur` (its own input shape by
 * default), or the {@link ShapeMismatch} saying why it does not fit.
 */
export type OutputShape<L, Cur extends Dims = InOf<L>> = Next<OutOf<L>, Meet<InOf<L>, Cur>>

/** One layer `L` after the shape `Cur`: the next shape, or the message of the misfit. */
type Step<L, Cur extends Dims, Here extends string, Before extends string, First extends boolean> =
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  Box<L> extends Box<Layer<infer In, infer Out, any, any>>
    ? First extends true
      ? Rule<Out, Meet<In, Cur>, Here>
      : Accepts<In, Cur> extends true
        ? Rule<Out, Cur, Here>
        : `layer ${Here} expects ${Describe<In>} but layer ${Before} produces ${Describe<Cur>}`
    : Shape

type Rule<Out, Cur extends Dims, Here extends string> =
  Next<Out, Cur> extends infer R ? (R extends ShapeMismatch<infer M> ? `layer ${Here}: ${M}` : R) : never

/** `[...X[], ...Tail]` as `[X[], Tail]`: the spread part of a list of layers and what follows it. */
type SplitSpread<T extends readonly unknown[], Tail extends readonly unknown[] = []> = T extends readonly [
  ...infer Mid extends readonly unknown[],
  infer Last
]
  ? SplitSpread<Mid, [Last, ...Tail]>
  : [T, Tail]

/**
 * The layers `Ls` in order from the shape `Cur`, as a {@link Verdict}. `I` counts the layers
 * written out before the current one; after a spread `...layers` of unknown length `n`,
 * positions print as `3+n`.
 */
type Walk<Ls extends readonly unknown[], Cur extends Dims, I extends 0[], Spread extends boolean, First extends boolean> =
  Ls extends readonly []
    ? Verdict<Cur>
    : Ls extends readonly [infer L, ...infer Rest]
      ? Step<L, Cur, Count<[...I, 0], Spread>, Count<I, Spread>, First> extends infer R
        ? R extends string
          ? Verdict<never, Spread extends true ? number : `${I['length']}`, L, R>
          : R extends Dims
            ? Walk<Rest, R, [...I, 0], Spread, false>
            : Verdict<Shape>
        : never
      : SplitSpread<Ls> extends [infer Arr extends readonly unknown[], infer Tail extends readonly unknown[]]
        ? WalkSpread<Arr[number], Tail, Cur, I, First>
        : Verdict<Shape>

/**
 * A spread `...layers` whose length the type checker does not know: the layers must fit the
 * current shape and keep it, since there may be any number of them. A spread of layers whose
 * output shape is not known makes the shape after it unknown (visibly: `Shape`).
 */
type WalkSpread<L, Tail extends readonly unknown[], Cur extends Dims, I extends 0[], First extends boolean> =
  Step<L, Cur, Count<[...I, 0], false>, Count<I, false>, First> extends infer R
    ? R extends string
      ? Verdict<never, number, L, R>
      : R extends Dims
        ? IsTuple<R> extends false
          ? Walk<Tail, Shape, I, true, false>
          : Meet<InOf<L>, Cur> extends infer C extends Dims
            ? Accepts<C, R> extends true
              ? Walk<Tail, IsTuple<C> extends true ? C : R, I, true, false>
              : Verdict<never, number, L, `layers ${Count<[...I, 0], false>} to ${Count<I, true>} (a spread) change ${Describe<C>} to ${Describe<R>}, but their number n is unknown`>
            : never
        : Walk<Tail, Shape, I, true, false>
    : never

/** The {@link Verdict} of a chain of layers from the shape `Cur` (unknown by default). */
export type ChainVerdict<Ls extends readonly unknown[], Cur extends Dims = Shape> = Walk<Ls, Cur, [], false, true>

/** The shape after a chain of layers, or the {@link ShapeMismatch} naming the first misfit. */
export type Chain<Ls extends readonly unknown[], Cur extends Dims> =
  ChainVerdict<Ls, Cur> extends Verdict<infer Out, unknown, unknown, infer M> ? ([M] extends [never] ? Out : ShapeMismatch<M>) : never

type ChainOut<Ls extends readonly unknown[], Cur extends Dims> = Chain<Ls, Cur>

/**
 * The per-example shape `residual(L)` gives for the input `Cur`: `Cur` itself when `L` maps
 * it to exactly the same sizes (for every size of a free dimension: the rule is checked on
 * symbols), the {@link ShapeMismatch} naming the sizes otherwise.
 */
export type ResidualOut<L, Cur extends Dims> =
  IsAny<L> extends true
    ? Cur
    : Meet<InOf<L>, Cur> extends infer C extends Dims
      ? IsTuple<C> extends false
        ? C
        : Symbolize<C> extends infer S extends Dims
          ? Next<OutOf<L>, S> extends infer R
            ? R extends ShapeMismatch<infer M>
              ? ShapeMismatch<`residual: ${M}`>
              : R extends Dims
                ? IsTuple<R> extends false
                  ? C
                  : SameDims<R, S> extends true
                    ? C
                    : ShapeMismatch<`residual: the layer maps ${Describe<S>} to ${Describe<R>}, but x + layer(x) needs its output shape to equal its input shape`>
                : C
            : never
          : never
      : never

/** The first branch whose input shape is known, as `[shape, position]` (`[Shape, 0]` when none is). */
export type FirstIn<Ls extends readonly unknown[], I extends 0[] = []> = Ls extends readonly [infer L, ...infer Rest]
  ? IsAny<L> extends true
    ? FirstIn<Rest, [...I, 0]>
    : IsTuple<InOf<L>> extends true
      ? [InOf<L>, [...I, 0]['length']]
      : FirstIn<Rest, [...I, 0]>
  : [Shape, 0]

type Init<S extends readonly unknown[]> = S extends readonly [...infer H, unknown] ? H : Shape
type Last<S extends readonly unknown[]> = S extends readonly [...unknown[], infer T] ? T : number

/**
 * Parallel branches `Ls` on the input `Cur` (the first known input, that of branch `Src`), as a
 * {@link Verdict}: the first branch's shape with the last axes summed, or the first branch that
 * does not fit. Free sizes are compared as symbols, so branches must agree for every size.
 */
type WalkParallel<
  Ls extends readonly unknown[],
  Cur extends Dims,
  Src extends number,
  I extends 0[] = [],
  First extends Dims | undefined = undefined,
  Total extends number = 0
> = Ls extends readonly [infer L, ...infer Rest]
  ? Accepts<InOf<L>, Cur> extends false
    ? Verdict<never, `${I['length']}`, L, `parallel: branch ${[...I, 0]['length']} expects ${Describe<InOf<L>>} but branch ${Src} expects ${Describe<Cur>}`>
    : Next<OutOf<L>, IsTuple<Cur> extends true ? Symbolize<Cur> : Cur> extends infer R
      ? R extends ShapeMismatch<infer M>
        ? Verdict<never, `${I['length']}`, L, `parallel: branch ${[...I, 0]['length']}: ${M}`>
        : R extends Dims
          ? IsTuple<R> extends false
            ? WalkParallel<Rest, Cur, Src, [...I, 0], Shape, number>
            : R extends readonly []
              ? Verdict<never, `${I['length']}`, L, `parallel: branch ${[...I, 0]['length']} produces shape [], which has no axis to join along`>
              : First extends Dims
                ? IsTuple<First> extends false
                  ? WalkParallel<Rest, Cur, Src, [...I, 0], First, number>
                  : SameDims<Init<R>, Init<First>> extends true
                    ? WalkParallel<Rest, Cur, Src, [...I, 0], First, IsSymbol<Last<R>> extends true ? Changed : Add<Total, Last<R> & number>>
                    : Verdict<
                        never,
                        `${I['length']}`,
                        L,
                        `parallel: branch ${[...I, 0]['length']} produces ${Describe<R>} but branch 1 produces ${Describe<First>}; only the last axis may differ`
                      >
                : WalkParallel<Rest, Cur, Src, [...I, 0], R, IsSymbol<Last<R>> extends true ? Changed : Last<R> & number>
          : WalkParallel<Rest, Cur, Src, [...I, 0], Shape, number>
      : never
  : Verdict<First extends Dims ? (IsTuple<First> extends true ? Desymbolize<[...Init<First>, Total], Cur> : Shape) : Shape>

/** The {@link Verdict} of parallel branches `Ls`, on the input `Cur` (by default the first branch's known input). */
export type ParallelVerdict<Ls extends readonly unknown[], Cur extends Dims = FirstIn<Ls>[0]> = WalkParallel<
  Ls,
  Meet<FirstIn<Ls>[0], Cur>,
  FirstIn<Ls>[1]
>

/**
 * The per-example output of parallel branches `Ls` on input `Cur`: the first branch's shape
 * with the last axes summed, or the {@link ShapeMismatch} naming the first branch that does not fit.
 */
export type ParallelOut<Ls extends readonly unknown[], Cur extends Dims> =
  ParallelVerdict<Ls, Cur> extends Verdict<infer Out, unknown, unknown, infer M> ? ([M] extends [never] ? Out : ShapeMismatch<M>) : never

// ---------------------------------------------------------------- layers

/** How a layer runs: training or inference, a random key (dropout), and its state. */
export interface Context<S> {
  readonly training: boolean
  readonly key?: Key
  readonly state: S
}

/** A layer's output (`Y`: its type, the shape computed from the input's by `Layer.train`) and its new state. */
export interface Output<S, Y extends Tensor = Tensor> {
  readonly y: Y
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
  /**
   * What a built-in layer was made with, defaults filled in (`{ alpha: 0.01 }` for
   * `leakyRelu`, `{ filters, kernel, stride, padding }` for `conv2d`; `{}` when the shapes say
   * it all): `Spec.fromLayer` reads it to write the layer as a model spec. Layers written
   * elsewhere leave it out, and so have no spec.
   */
  readonly settings?: Readonly<Record<string, number | string | Shape>>
  /** The layers a `sequential` runs, in order (so that `Spec.fromLayer` can list them). */
  readonly layers?: readonly AnyLayer[]
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

// ---------------------------------------------------------------- running a layer

/**
 * The check of `Layer.apply(layer, params, x)` (`Op` is `apply` or `train`) on a batch of shape
 * `X`, as a {@link Verdict}: the output batch's shape `[B, ...out]` (the batch dimension `B`
 * stays what it is, a literal, `number`, a type parameter or a `Shape.Named` one), or the
 * message when the examples do not fit the layer. A batch of unknown rank is not checked.
 */
export type ApplyVerdict<L, X extends Shape, Op extends string = 'apply'> =
  IsTuple<X> extends false
    ? Verdict<Shape>
    : X extends readonly [infer B, ...infer E extends Shape]
      ? Accepts<InOf<L>, E> extends true
        ? OutputShape<L, E> extends infer R
          ? R extends ShapeMismatch<infer M>
            ? Verdict<never, 'x', L, `${Op}: ${M}`>
            : Verdict<R extends Dims ? (IsTuple<R> extends true ? [B, ...R] : Shape) : Shape>
          : never
        : Verdict<never, 'x', L, `${Op}: the layer expects ${Describe<InOf<L>>} but the input has ${Describe<E>}`>
      : Verdict<never, 'x', L, `${Op}: expects a batch [batch, ...features] but got a scalar`>

/**
 * `unknown` when the verdict of {@link ApplyVerdict} is a shape, the {@link ShapeMismatch} naming
 * the misfit otherwise: intersect a parameter with it. (Written so that a verdict that cannot be
 * settled inside a generic function, where it depends on a type parameter, accepts the argument.)
 */
export type Fits<V> = 'x' extends (V & Verdict<unknown, unknown, unknown, string>)['at']
  ? ShapeMismatch<(V & Verdict<unknown, unknown, unknown, string>)['message']>
  : unknown

/** The output of `Layer.apply(layer, params, x)` for `x: Tensor<X, D>`. */
export type Applied<L, X extends Shape, D extends DType> = Tensor<
  ApplyVerdict<L, X> extends Verdict<infer Out extends Shape, unknown, unknown, string> ? ([Out] extends [never] ? Shape : Out) : Shape,
  D
>

/** A layer `apply` and `train` can run. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type RunnableLayer = Layer<Shape, OutSpec, any, any>
/** The parameters of `L` (`unknown` for a layer typed `never`). */
type ParamsIn<L> = [L] extends [never] ? unknown : ParamsOf<L>
/** The state of `L` (`unknown` for a layer typed `never`). */
type StateIn<L> = [L] extends [never] ? unknown : StateOf<L>

/** The run-time twin of {@link ApplyVerdict}: throws the same words. */
const checkInput = <P, S>(op: string, layer: Layer<Shape, OutSpec, P, S>, x: Tensor): void => {
  if (x.rank < 1) throw new ShapeError(`${op}: expects a batch [batch, ...features] but got a scalar`)
  const example = x.shape.slice(1)
  if (!accepts(layer.inShape, example)) {
    throw new ShapeError(`${op}: the layer expects ${describe(layer.inShape)} but the input has ${describe(example)}`)
  }
  try {
    layer.outputShape(example)
  } catch (e) {
    if (e instanceof ShapeError) throw new ShapeError(`${op}: ${e.message}`)
    throw e
  }
}

/**
 * Runs a layer for inference on a batch; the state defaults to the layer's initial state.
 * The batch must fit: `x` of shape `[B, ...example]` is checked against the layer's input at
 * compile time (a wrong width is an error on `x` naming both shapes) and at run time, and the
 * result is typed `Tensor<[B, ...out]>`, with the batch dimension `B` kept as it is.
 *
 * @example
 * ```ts
 * import { Layer, Layers, Random, ShapeError, tensor, zeros } from 'lamina-nn'
 * import assert from 'node:assert'
 * const layer = Layers.dense(2, 3)
 * const params = layer.init(Random.key(0))
 * const y = Layer.apply(layer, params, tensor([[1, 2]])) // Tensor<[1, 3], 'f64'>
 * assert.deepStrictEqual(y.shape, [1, 3])
 * // @ts-expect-error: apply: the layer expects 2 features but the input has 3 features
 * const bad = () => Layer.apply(layer, params, zeros([4, 3]))
 * assert.throws(bad, new ShapeError('apply: the layer expects 2 features but the input has 3 features'))
 * ```
 */
export const apply = <L extends RunnableLayer, X extends Shape, D extends DType>(
  layer: L,
  params: ParamsIn<L>,
  x: Tensor<X, D> & Fits<ApplyVerdict<L, X>>,
  state?: StateIn<L>
): Applied<L, X, D> => {
  checkInput('apply', layer, x)
  return layer.forward(params, x, { training: false, state: state ?? layer.initState() }).y as Applied<L, X, D>
}

/**
 * Runs a layer in training mode: dropout draws from `key`, batch statistics update the state.
 * The batch is checked as by {@link apply}, with `train:` in the message.
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
export const train = <L extends RunnableLayer, X extends Shape, D extends DType>(
  layer: L,
  params: ParamsIn<L>,
  state: StateIn<L>,
  x: Tensor<X, D> & Fits<ApplyVerdict<L, X, 'train'>>,
  key: Key
): Output<StateIn<L>, Applied<L, X, D>> => {
  checkInput('train', layer, x)
  return layer.forward(params, x, { training: true, key, state }) as Output<StateIn<L>, Applied<L, X, D>>
}

// ---------------------------------------------------------------- free sizes at run time

/** Probe sizes for the free axis `i`: multiples of 2520 (divisible by 1…10), distinct per axis and per run. */
const probeSize = (run: 0 | 1, axis: number): number => 2520 * (2 * axis + 3 + run)

/**
 * The per-example output of a shape rule for every size of the free dimensions (`-1`) of
 * `input` at once, the run-time twin of checking a rule on symbols: each free size is replaced
 * by two probe sizes in turn; an output size that follows the probe of input axis `j` is
 * `{ free: j }` (the rule keeps that size, whatever it is), one that does not change is that
 * size, and any other is `-1` (a size that depends on the input's in some other way).
 *
 * @example
 * ```ts
 * import { Conv, Layer } from 'lamina-nn'
 * import assert from 'node:assert'
 * const same = Conv.conv2d(8, 8, 3, { padding: 1 })
 * assert.deepStrictEqual(Layer.traceShape(same.outputShape, [8, -1, -1]), [8, { free: 1 }, { free: 2 }])
 * const valid = Conv.conv2d(8, 8, 3)
 * assert.deepStrictEqual(Layer.traceShape(valid.outputShape, [8, -1, -1]), [8, -1, -1])
 * ```
 */
export const traceShape = (rule: (input: Shape) => Shape, input: Shape): readonly Dimension[] => {
  if (!input.includes(-1)) return rule(input)
  const probe = (run: 0 | 1): Shape => input.map((d, i) => (d === -1 ? probeSize(run, i) : d))
  let outputs: readonly [Shape, Shape]
  try {
    outputs = [rule(probe(0)), rule(probe(1))]
  } catch {
    // a rule that rejects the probe sizes (a divisibility, a limit): only what it says for -1
    return rule(input).map((d) => (d === -1 ? -1 : d))
  }
  const [a, b] = outputs
  if (a.length !== b.length) return a.map(() => -1)
  return a.map((d, k): Dimension => {
    if (d === b[k]) return d
    const axis = input.findIndex((n, i) => n === -1 && probeSize(0, i) === d && probeSize(1, i) === b[k])
    return axis >= 0 ? { free: axis } : -1
  })
}

/**
 * The input with its free dimensions (`-1`) as the symbols {@link traceShape} uses.
 *
 * @example
 * ```ts
 * import { Layer } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(Layer.symbols([8, -1, -1]), [8, { free: 1 }, { free: 2 }])
 * ```
 */
export const symbols = (input: Shape): readonly Dimension[] => input.map((d, i) => (d === -1 ? { free: i } : d))

/**
 * Whether two traced dimensions are the same (a free size only matches itself).
 *
 * @example
 * ```ts
 * import { Layer } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.ok(Layer.sameDimension({ free: 1 }, { free: 1 }))
 * assert.ok(!Layer.sameDimension({ free: 1 }, -1))
 * assert.ok(Layer.sameDimension(6, 6))
 * ```
 */
export const sameDimension = (a: Dimension | undefined, b: Dimension | undefined): boolean =>
  typeof a === 'number' || typeof b === 'number' ? a === b : a !== undefined && b !== undefined && a.free === b.free

// ---------------------------------------------------------------- composition

type Params<Ls extends readonly unknown[]> = { readonly layers: { readonly [K in keyof Ls]: ParamsOf<Ls[K]> } }
type States<Ls extends readonly unknown[]> = { readonly layers: { readonly [K in keyof Ls]: StateOf<Ls[K]> } }

/**
 * The layer `sequential(...Ls)` builds. Its output rule is the chain itself, so its output is
 * recomputed for the shape it is given: a block written once fits every place it is used in,
 * and a generic block is checked where it is used with concrete sizes.
 */
export type Sequential<Ls extends readonly AnyLayer[]> = Layer<InOf<Ls[0]>, Transform<'chain', Ls>, Params<Ls>, States<Ls>>

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
 * mismatch is a compile error on the layer that does not fit, naming its position and both
 * shapes, and the same `ShapeError` at run time. Parameters are `{ layers: [p₀, p₁, …] }` (so
 * a dense layer's weight is at `layers.0.w`).
 *
 * A spread `...blocks` of an array is checked too: its layers must fit and keep the shape,
 * since the type checker cannot count them (positions after it print as `3+n`).
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
 * // a generic block compiles, and is checked where it is used
 * const block = <const N extends number>(n: N) => Layer.sequential(Layers.dense(n, n), Layers.relu())
 * const deep = Layer.sequential(Layers.dense(784, 128), block(128), block(128), Layers.dense(128, 10))
 * assert.deepStrictEqual(deep.outputShape([784]), [10])
 * ```
 */
export const sequential = <const Ls extends readonly AnyLayer[], V = ChainVerdict<Ls>>(...given: Checked<Ls, V>): Sequential<Ls> => {
  const layers = given as unknown as readonly AnyLayer[]
  if (layers.length === 0) throw new ShapeError('sequential: expected at least one layer')
  const first = layers[0]!
  const output = chainShapes(layers, first.inShape)
  const splitKeys = (key: Key | undefined) => (key === undefined ? layers.map(() => undefined) : Random.split(key, layers.length))
  return {
    kind: 'sequential',
    layers,
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
