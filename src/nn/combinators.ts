/**
 * Combinators that build a layer from layers, beside `sequential`: a residual connection
 * y = x + f(x), and parallel branches whose outputs are concatenated along the last axis.
 * Both are typed like `sequential`: a layer that cannot be wrapped is a compile error whose
 * message names the shapes, and the same words are thrown as a `ShapeError` at run time.
 *
 * @module
 */
import { ArgumentError, ShapeError } from '../error.js'
import * as O from '../ops.js'
import * as Random from '../random.js'
import type { Key } from '../random.js'
import * as Sh from '../shape.js'
import type { Shape, ShapeMismatch } from '../shape.js'
import type { Tensor } from '../tensor.js'
import { describe, sameDimension, symbols, traceShape } from './layer.js'
import type { AnyLayer, Checked, Dimension, FirstIn, InOf, Layer, ParallelVerdict, ParamsOf, ResidualOut, StateOf, Transform, Verdict } from './layer.js'

export type { ParallelOut, ResidualOut } from './layer.js'

/** Whether two runtime shapes can be the same (`-1` matches any size of a dimension). */
const compatible = (a: Shape | undefined, b: Shape | undefined): boolean =>
  a === undefined || b === undefined || (a.length === b.length && a.every((d, i) => d === -1 || b[i] === -1 || d === b[i]))

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
export type ResidualShape<L> = ResidualOut<L, InOf<L>>

/** The {@link Verdict} of `residual(L)` on the layer's own input shape. */
export type ResidualVerdict<L> =
  IsAny<L> extends true
    ? Verdict<Shape> // also what a generic call is probed with: a layer that is a type parameter is checked where it is known
    : ResidualShape<L> extends infer R
      ? R extends ShapeMismatch<infer M>
        ? Verdict<never, '0', L, M>
        : Verdict<R>
      : never

type Box<T> = { readonly v: T }
type IsAny<T> = Box<1 & T> extends Box<0> ? true : false

/**
 * The layer `residual(L)` builds: the same input, parameters and state as `L`; its output is
 * its input, once `L` is checked to keep it (again for each shape the block is given).
 */
export type Residual<L> = Layer<InOf<L>, Transform<'residual', L>, ParamsOf<L>, StateOf<L>>

const residualMessage = (input: readonly Dimension[], output: readonly Dimension[]): string =>
  `residual: the layer maps ${describe(input)} to ${describe(output)}, but x + layer(x) needs its output shape to equal its input shape`

/**
 * A residual connection y = x + layer(x). The layer must map its input to the same shape: a
 * layer that does not (say `dense(4, 3)`) is a compile error, "residual: the layer maps 4
 * features to 3 features, but x + layer(x) needs its output shape to equal its input shape",
 * and the same `ShapeError` at run time. Sizes known only at run time are checked for every
 * value they may take (written `d1`, `d2`, … for the sizes of axes 1 and 2): a residual
 * around a convolution without padding does not compile. The parameters and state are the
 * wrapped layer's own.
 *
 * @example
 * ```ts
 * import { Combinators, Conv, Layer, Layers, ShapeError, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const block = Combinators.residual(Layers.dense(2, 2))
 * const params = { w: tensor([[1, 0], [0, 2]]), b: tensor([0, 1]) }
 * assert.deepStrictEqual(Layer.apply(block, params, tensor([[1, 1]])).toArray(), [[2, 4]]) // x + (x·w + b)
 * // @ts-expect-error: residual: the layer maps 4 features to 3 features, but x + layer(x) needs …
 * const bad = () => Combinators.residual(Layers.dense(4, 3))
 * assert.throws(bad, new ShapeError('residual: the layer maps 4 features to 3 features, but x + layer(x) needs its output shape to equal its input shape'))
 * // a 3x3 convolution keeps every image size only with padding 1
 * const same = Combinators.residual(Conv.conv2d(8, 8, 3, { padding: 1 }))
 * // @ts-expect-error: residual: the layer maps shape [8,d1,d2] to shape [8,?,?], but x + layer(x) needs …
 * const shrinking = () => Combinators.residual(Conv.conv2d(8, 8, 3))
 * assert.throws(shrinking, new ShapeError('residual: the layer maps shape [8,d1,d2] to shape [8,?,?], but x + layer(x) needs its output shape to equal its input shape'))
 * ```
 */
export const residual = <const Ls extends readonly [AnyLayer], V = ResidualVerdict<Ls[0]>>(...layer: Checked<Ls, V>): Residual<Ls[0]> => {
  const inner = (layer as unknown as Ls)[0] as AnyLayer
  if (layer.length !== 1 || inner === undefined) throw new ArgumentError('residual: expected one layer')
  const outputShape = (input: Shape): Shape => {
    const output = prefixed('residual: ', () => traceShape(inner.outputShape, input))
    const given = symbols(input)
    if (output.length !== given.length || !output.every((d, i) => sameDimension(d, given[i]))) throw new ShapeError(residualMessage(given, output))
    return input
  }
  if (inner.inShape !== undefined) outputShape(inner.inShape)
  const built: Layer<Shape, Shape, unknown, unknown> = {
    kind: 'residual',
    // the wrapped layer, so that `Spec.fromLayer` can write the block as a spec
    layers: [inner],
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
  return built as unknown as Residual<Ls[0]>
}

// ---------------------------------------------------------------- parallel

/** The parameters of `parallel(...Ls)`: one entry per branch. */
export interface ParallelParams<Ls extends readonly AnyLayer[]> {
  readonly branches: { readonly [K in keyof Ls]: ParamsOf<Ls[K]> }
}

/** The state of `parallel(...Ls)`: one entry per branch. */
export interface ParallelState<Ls extends readonly AnyLayer[]> {
  readonly branches: { readonly [K in keyof Ls]: StateOf<Ls[K]> }
}

/** The layer `parallel(...Ls)` builds; its output is recomputed for each shape the branches are given. */
export type Parallel<Ls extends readonly AnyLayer[]> = Layer<FirstIn<Ls>[0], Transform<'parallel', Ls>, ParallelParams<Ls>, ParallelState<Ls>>

/** Runtime twin of the join check: one branch's (traced) output against the first's. */
const joinOne = (k: number, output: readonly Dimension[], first: readonly Dimension[] | undefined): void => {
  if (output.length === 0) throw new ShapeError(`parallel: branch ${k} produces shape [], which has no axis to join along`)
  if (first !== undefined && !(output.length === first.length && output.slice(0, -1).every((d, i) => sameDimension(d, first[i])))) {
    throw new ShapeError(`parallel: branch ${k} produces ${describe(output)} but branch 1 produces ${describe(first)}; only the last axis may differ`)
  }
}

/** Runtime twin of `ParallelVerdict`, for an input shape whose free sizes (`-1`) are traced as symbols. */
const parallelShape = (branches: readonly AnyLayer[], src: number, input: Shape): Shape => {
  let first: readonly Dimension[] | undefined
  let total = 0
  branches.forEach((branch, i) => {
    if (!compatible(branch.inShape, input)) {
      throw new ShapeError(`parallel: branch ${i + 1} expects ${describe(branch.inShape)} but branch ${src} expects ${describe(input)}`)
    }
    const output = prefixed(`parallel: branch ${i + 1}: `, () => traceShape(branch.outputShape, input))
    joinOne(i + 1, output, first)
    first ??= output
    const last = output[output.length - 1]!
    total = typeof last === 'number' && last >= 0 && total >= 0 ? total + last : -1
  })
  return [...first!.slice(0, -1), total].map((d) => (typeof d === 'number' ? d : input[d.free]!))
}

/**
 * Parallel branches: every layer is applied to the same input and their outputs are
 * concatenated along the last (feature) axis, so `parallel(dense(4, 3), dense(4, 5))` maps
 * 4 features to 8. The output width is the sum of the branches' widths (a literal type when
 * theirs are). The branches must accept the same input and agree on every axis but the last,
 * for every value of a size known only at run time (an image's height); a mismatch is a
 * compile error on the branch, naming it, and the same `ShapeError` at run time.
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
export const parallel = <const Ls extends readonly [AnyLayer, ...AnyLayer[]], V = ParallelVerdict<Ls>>(...given: Checked<Ls, V>): Parallel<Ls> => {
  const branches = given as unknown as readonly AnyLayer[]
  if (branches.length === 0) throw new ArgumentError('parallel: expected at least one branch')
  const srcIndex = branches.findIndex((b) => b.inShape !== undefined)
  const src = srcIndex + 1
  const inShape: Shape | undefined = srcIndex < 0 ? undefined : branches[srcIndex]!.inShape
  if (inShape !== undefined) parallelShape(branches, src, inShape)
  const built: Layer<Shape, Shape, ParallelParams<readonly AnyLayer[]>, ParallelState<readonly AnyLayer[]>> = {
    kind: 'parallel',
    // the branches, so that `Spec.fromLayer` can write the block as a spec
    layers: branches,
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
