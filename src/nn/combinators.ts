/**
 * Combinators that build a layer from layers, beside `sequential`: a residual connection
 * y = x + f(x), and parallel branches whose outputs are concatenated along the last axis.
 * Both are typed like `sequential`: a layer that cannot be wrapped is a compile error whose
 * message names the shapes, and the same words are thrown as a `ShapeError` at run time.
 *
 * @module
 */
import { ArgumentError, ShapeError } from '../error.js'
import type { Add } from '../nat.js'
import * as O from '../ops.js'
import * as Random from '../random.js'
import type { Key } from '../random.js'
import * as Sh from '../shape.js'
import type { Guard, IsTuple, Shape, ShapeMismatch } from '../shape.js'
import type { Tensor } from '../tensor.js'
import { describe } from './layer.js'
import type { Accepts, AnyLayer, Describe, Layer, Next, ParamsOf, StateOf } from './layer.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type InOf<L> = L extends Layer<infer In, any, any, any> ? In : Shape
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type OutOf<L> = L extends Layer<any, infer Out, any, any> ? Out : never

/** Whether two runtime shapes can be the same (`-1` matches any size of a dimension). */
const compatible = (a: Shape | undefined, b: Shape | undefined): boolean =>
  a === undefined || b === undefined || (a.length === b.length && a.every((d, i) => d === -1 || b[i] === -1 || d === b[i]))

const isStatic = (s: Shape | undefined): s is Shape => s !== undefined && !s.includes(-1)

/** Runs `f`, prefixing the message of a `ShapeError` it throws. */
const prefixed = <A>(prefix: string, f: () => A): A => {
  try {
    return f()
  } catch (e) {
    if (e instanceof ShapeError) throw new ShapeError(`${prefix}${e.message}`)
    throw e
  }
}

const splitKeys = (key: Key | undefined, n: number): readonly (Key | undefined)[] =>
  key === undefined ? Array.from({ length: n }, () => undefined) : Random.split(key, n)

// ---------------------------------------------------------------- residual

/**
 * The per-example shape the layer `L` produces from its own input, or the
 * {@link ShapeMismatch} saying why `residual(L)` cannot add it to its input.
 */
export type ResidualShape<L> =
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  L extends Layer<infer In, infer Out, any, any>
    ? Next<Out, In> extends infer R
      ? R extends ShapeMismatch<infer M>
        ? ShapeMismatch<`residual: ${M}`>
        : R extends Shape
          ? Accepts<In, R> extends true
            ? R
            : ShapeMismatch<`residual: the layer maps ${Describe<In>} to ${Describe<R>}, but x + layer(x) needs its output shape to equal its input shape`>
          : Shape
      : never
    : never

/** The layer `residual(L)` builds: the same input, output, parameters and state as `L`. */
export type Residual<L> = Layer<InOf<L>, OutOf<L>, ParamsOf<L>, StateOf<L>>

const residualMessage = (input: Shape, output: Shape): string =>
  `residual: the layer maps ${describe(input)} to ${describe(output)}, but x + layer(x) needs its output shape to equal its input shape`

/**
 * A residual connection y = x + layer(x). The layer must map its input to the same shape: a
 * layer that does not (say `dense(4, 3)`) is a compile error, "residual: the layer maps 4
 * features to 3 features, but x + layer(x) needs its output shape to equal its input shape",
 * and the same `ShapeError` at run time. The parameters and state are the wrapped layer's own.
 *
 * @example
 * ```ts
 * import { Combinators, Layer, Layers, ShapeError, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const block = Combinators.residual(Layers.dense(2, 2))
 * const params = { w: tensor([[1, 0], [0, 2]]), b: tensor([0, 1]) }
 * assert.deepStrictEqual(Layer.apply(block, params, tensor([[1, 1]])).toArray(), [[2, 4]]) // x + (x·w + b)
 * // @ts-expect-error: residual: the layer maps 4 features to 3 features, but x + layer(x) needs …
 * const bad = () => Combinators.residual(Layers.dense(4, 3))
 * assert.throws(bad, new ShapeError('residual: the layer maps 4 features to 3 features, but x + layer(x) needs its output shape to equal its input shape'))
 * ```
 */
export const residual = <L extends AnyLayer>(layer: L & NoInfer<Guard<ResidualShape<L>>>): Residual<L> => {
  const inner: AnyLayer = layer
  const outputShape = (input: Shape): Shape => {
    const output = prefixed('residual: ', () => inner.outputShape(input))
    if (!compatible(output, input)) throw new ShapeError(residualMessage(input, output))
    return input
  }
  if (isStatic(inner.inShape)) outputShape(inner.inShape)
  const built: Layer<Shape, Shape, unknown, unknown> = {
    kind: 'residual',
    inShape: inner.inShape,
    outputShape,
    init: (key, dtype) => inner.init(key, dtype),
    initState: () => inner.initState(),
    forward: (params, x, context) => {
      const out = inner.forward(params, x, context)
      if (!Sh.equals(out.y.shape, x.shape)) throw new ShapeError(residualMessage(x.shape.slice(1), out.y.shape.slice(1)))
      return { y: O.add(x, out.y) as Tensor, state: out.state }
    }
  }
  return built as unknown as Residual<L>
}

// ---------------------------------------------------------------- parallel

type Init<S extends Shape> = S extends readonly [...infer H extends Shape, number] ? H : Shape
type Last<S extends Shape> = S extends readonly [...Shape, infer T extends number] ? T : number

/** The first branch whose input shape is known, as `[shape, position]` (`[Shape, 0]` when none is). */
type FirstIn<Ls extends readonly AnyLayer[], I extends unknown[] = []> = Ls extends readonly [
  infer L,
  ...infer Rest extends readonly AnyLayer[]
]
  ? IsTuple<InOf<L>> extends true
    ? [InOf<L>, Add<I['length'], 1>]
    : FirstIn<Rest, [...I, 0]>
  : [Shape, 0]

/**
 * The per-example output of parallel branches `Ls` on input `Cur` (the first known input,
 * that of branch `Src`): the first branch's shape with the last axes summed, or the
 * {@link ShapeMismatch} naming the first branch that does not fit. `First` is the first
 * branch's output and `Total` the running sum of the last axes.
 */
export type ParallelOut<
  Ls extends readonly AnyLayer[],
  Cur extends Shape,
  Src extends number,
  I extends unknown[] = [],
  First extends Shape | undefined = undefined,
  Total extends number = 0
> = Ls extends readonly [infer L, ...infer Rest extends readonly AnyLayer[]]
  ? // eslint-disable-next-line @typescript-eslint/no-explicit-any
    L extends Layer<infer In, infer Out, any, any>
    ? Accepts<In, Cur> extends false
      ? ShapeMismatch<`parallel: branch ${Add<I['length'], 1>} expects ${Describe<In>} but branch ${Src} expects ${Describe<Cur>}`>
      : Next<Out, Cur> extends infer R
        ? R extends ShapeMismatch<infer M>
          ? ShapeMismatch<`parallel: branch ${Add<I['length'], 1>}: ${M}`>
          : R extends Shape
            ? IsTuple<R> extends false
              ? ParallelOut<Rest, Cur, Src, [...I, 0], Shape, number>
              : R extends readonly []
                ? ShapeMismatch<`parallel: branch ${Add<I['length'], 1>} produces shape [], which has no axis to join along`>
                : First extends undefined
                  ? ParallelOut<Rest, Cur, Src, [...I, 0], R, Last<R>>
                  : First extends Shape
                    ? IsTuple<First> extends false
                      ? ParallelOut<Rest, Cur, Src, [...I, 0], First, number>
                      : R['length'] extends First['length']
                        ? Accepts<Init<R>, Init<First>> extends true
                          ? ParallelOut<Rest, Cur, Src, [...I, 0], First, Add<Total, Last<R>>>
                          : JoinMismatch<Add<I['length'], 1>, R, First>
                        : JoinMismatch<Add<I['length'], 1>, R, First>
                    : never
            : never
        : never
    : never
  : First extends Shape
    ? IsTuple<First> extends true
      ? [...Init<First>, Total]
      : Shape
    : Shape

type JoinMismatch<K extends number, R extends Shape, First extends Shape> = ShapeMismatch<`parallel: branch ${K} produces ${Describe<R>} but branch 1 produces ${Describe<First>}; only the last axis may differ`>

/** The parameters of `parallel(...Ls)`: one entry per branch. */
export interface ParallelParams<Ls extends readonly AnyLayer[]> {
  readonly branches: { readonly [K in keyof Ls]: ParamsOf<Ls[K]> }
}

/** The state of `parallel(...Ls)`: one entry per branch. */
export interface ParallelState<Ls extends readonly AnyLayer[]> {
  readonly branches: { readonly [K in keyof Ls]: StateOf<Ls[K]> }
}

/** The layer `parallel(...Ls)` builds. */
export type Parallel<Ls extends readonly AnyLayer[]> = Layer<
  FirstIn<Ls>[0],
  ParallelOut<Ls, FirstIn<Ls>[0], FirstIn<Ls>[1]> extends infer R extends Shape ? R : Shape,
  ParallelParams<Ls>,
  ParallelState<Ls>
>

/** Runtime twin of {@link ParallelOut}: checks one branch's output against the first's. */
const joinOne = (k: number, output: Shape, first: Shape | undefined): void => {
  if (output.length === 0) throw new ShapeError(`parallel: branch ${k} produces shape [], which has no axis to join along`)
  if (first !== undefined && !(output.length === first.length && compatible(output.slice(0, -1), first.slice(0, -1)))) {
    throw new ShapeError(`parallel: branch ${k} produces ${describe(output)} but branch 1 produces ${describe(first)}; only the last axis may differ`)
  }
}

/** Runtime twin of {@link ParallelOut} for a known input shape. */
const parallelShape = (branches: readonly AnyLayer[], src: number, input: Shape): Shape => {
  let first: Shape | undefined
  let total = 0
  branches.forEach((branch, i) => {
    if (!compatible(branch.inShape, input)) {
      throw new ShapeError(`parallel: branch ${i + 1} expects ${describe(branch.inShape)} but branch ${src} expects ${describe(input)}`)
    }
    const output = prefixed(`parallel: branch ${i + 1}: `, () => branch.outputShape(input))
    joinOne(i + 1, output, first)
    first ??= output
    total += output[output.length - 1]!
  })
  return [...first!.slice(0, -1), total]
}

/**
 * Parallel branches: every layer is applied to the same input and their outputs are
 * concatenated along the last (feature) axis, so `parallel(dense(4, 3), dense(4, 5))` maps
 * 4 features to 8. The output width is the sum of the branches' widths (a literal type when
 * theirs are). The branches must accept the same input and agree on every axis but the last;
 * a mismatch is a compile error naming the branch, and the same `ShapeError` at run time.
 * Parameters are `{ branches: [p₁, p₂, …] }`, state `{ branches: [s₁, s₂, …] }`; in training,
 * each branch gets its own key split from the context's.
 *
 * @example
 * ```ts
 * import { Combinators, Layer, Layers, Random, ShapeError, tensor, zeros } from 'lamina-nn'
 * import assert from 'node:assert'
 * const both = Combinators.parallel(Layers.identity(), Layers.dense(2, 1))
 * const params = { branches: [{}, { w: tensor([[1], [1]]), b: tensor([0]) }] as const }
 * assert.deepStrictEqual(Layer.apply(both, params, tensor([[1, 2]])).toArray(), [[1, 2, 3]])
 * // widths add up in the type: 3 + 5 = 8 features feed dense(8, 2)
 * const net = Layer.sequential(Combinators.parallel(Layers.dense(4, 3), Layers.dense(4, 5)), Layers.dense(8, 2))
 * assert.deepStrictEqual(Layer.apply(net, net.init(Random.key(0)), zeros([6, 4])).shape, [6, 2])
 * // @ts-expect-error: parallel: branch 2 expects 3 features but branch 1 expects 4 features
 * const bad = () => Combinators.parallel(Layers.dense(4, 3), Layers.dense(3, 5))
 * assert.throws(bad, new ShapeError('parallel: branch 2 expects 3 features but branch 1 expects 4 features'))
 * ```
 */
export const parallel = <const Ls extends readonly [AnyLayer, ...AnyLayer[]]>(
  ...given: Ls & NoInfer<Guard<ParallelOut<Ls, FirstIn<Ls>[0], FirstIn<Ls>[1]>>>
): Parallel<Ls> => {
  const branches: readonly AnyLayer[] = given
  if (branches.length === 0) throw new ArgumentError('parallel: expected at least one branch')
  const srcIndex = branches.findIndex((b) => b.inShape !== undefined)
  const src = srcIndex + 1
  const inShape: Shape | undefined = srcIndex < 0 ? undefined : branches[srcIndex]!.inShape
  if (isStatic(inShape)) parallelShape(branches, src, inShape)
  else {
    branches.forEach((branch, i) => {
      if (!compatible(branch.inShape, inShape)) {
        throw new ShapeError(`parallel: branch ${i + 1} expects ${describe(branch.inShape)} but branch ${src} expects ${describe(inShape)}`)
      }
    })
  }
  const built: Layer<Shape, Shape, ParallelParams<readonly AnyLayer[]>, ParallelState<readonly AnyLayer[]>> = {
    kind: 'parallel',
    inShape,
    outputShape: (input) => parallelShape(branches, src, input),
    init: (key, dtype) => {
      const keys = Random.split(key, branches.length)
      return { branches: branches.map((b, i) => b.init(keys[i]!, dtype)) }
    },
    initState: () => ({ branches: branches.map((b) => b.initState()) }),
    forward: (params, x, context) => {
      const keys = splitKeys(context.key, branches.length)
      const outs = branches.map((branch, i) =>
        branch.forward((params.branches as readonly unknown[])[i], x, {
          training: context.training,
          ...(keys[i] === undefined ? {} : { key: keys[i] }),
          state: (context.state.branches as readonly unknown[])[i]
        })
      )
      outs.forEach((out, i) => joinOne(i + 1, out.y.shape.slice(1), i === 0 ? undefined : outs[0]!.y.shape.slice(1)))
      return { y: O.concat(outs.map((o) => o.y), -1) as Tensor, state: { branches: outs.map((o) => o.state) } }
    }
  }
  return built as unknown as Parallel<Ls>
}

/**
 * Another name for {@link parallel}: apply each layer to the same input and concatenate the
 * outputs along the last axis.
 *
 * @example
 * ```ts
 * import { Combinators, Layer, Layers, Random, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const both = Combinators.concat(Layers.relu(), Layers.tanh())
 * const y = Layer.apply(both, both.init(Random.key(0)), tensor([[-1, 0]]))
 * assert.deepStrictEqual(y.toArray(), [[0, 0, Math.tanh(-1), 0]])
 * ```
 */
export const concat = parallel
