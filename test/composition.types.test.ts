/**
 * Typed composition without holes: every mis-composed model is a compile error at the layer
 * that is wrong, and correct models (generic blocks among them) compile.
 *
 * `tsc --noEmit` type-checks this file (`npm run typecheck`): every `expectTypeOf` fails the
 * build when an inferred type is wrong, and every `// @ts-expect-error: <reason>` fails it when
 * the line below compiles. A `@ts-expect-error` placed on the line of one argument of a
 * multi-line call also checks *where* the error is reported: on any other line it would be an
 * unused directive and the error an unexpected one. The runtime `expect`s check the twin of
 * each rule: the same words, thrown as a `ShapeError` (or `DTypeError`).
 */
import { describe, expect, expectTypeOf, it } from 'vitest'
import { thrown } from './support/thrown.js'
import {
  Combinators,
  Conv,
  DTypeError,
  Layer,
  Layers,
  Random,
  Shape,
  ShapeError,
  add,
  concat,
  fromBuffer,
  matmul,
  tensor,
  zeros
} from 'lamina-nn'
import type { DType, DTypeMismatch, SameDType, ShapeMismatch, ShapeT, Tensor } from 'lamina-nn'

/** The text of a named shape error (`never` when `T` is a shape). */
type Message<T> = T extends ShapeMismatch<infer M> ? M : never
/** The message of a verdict (`never` when it fits). */
type VerdictMessage<V> = V extends Layer.Verdict<unknown, unknown, unknown, infer M> ? M : never
/** The per-example output shape a layer promises for its own input. */
type Out<L> = Layer.OutputShape<L>

const mlp = Layer.sequential(Layers.dense(784, 128), Layers.relu(), Layers.dense(128, 10))
const params = mlp.init(Random.key(0))

describe('Layer.apply checks the batch against the model', () => {
  it('types the output [B, ...out], keeping the batch dimension as it is', () => {
    const y = Layer.apply(mlp, params, zeros([32, 784]))
    expectTypeOf(y).toEqualTypeOf<Tensor<[32, 10], 'f64'>>()
    expect(y.shape).toEqual([32, 10])
    // the dtype follows the input
    const params32 = mlp.init(Random.key(0), 'f32')
    expectTypeOf(Layer.apply(mlp, params32, zeros([2, 784], { dtype: 'f32' }))).toEqualTypeOf<Tensor<[2, 10], 'f32'>>()
    // a batch size known only at run time, a type parameter, a named dimension: each stays itself
    expectTypeOf(Layer.apply(mlp, params, zeros([2, 784]) as Tensor<[number, 784], 'f64'>)).toEqualTypeOf<Tensor<[number, 10], 'f64'>>()
    const generic = <B extends number>(x: Tensor<[B, 784], 'f64'>): Tensor<[B, 10], 'f64'> => Layer.apply(mlp, params, x)
    expectTypeOf(generic(zeros([5, 784]))).toEqualTypeOf<Tensor<[5, 10], 'f64'>>()
    type Batch = Shape.Named<'B'>
    const named = (x: Tensor<[Batch, 784], 'f64'>) => Layer.apply(mlp, params, x)
    expectTypeOf(named).returns.toEqualTypeOf<Tensor<[Batch, 10], 'f64'>>()
    expect(named(zeros([3, 784])).shape).toEqual([3, 10])
    // a batch of unknown shape is checked at run time only
    expectTypeOf(Layer.apply(mlp, params, zeros([2, 784]) as Tensor)).toEqualTypeOf<Tensor<ShapeT, DType>>()
    // a conv model without a reshape: the output is computed for the image size given
    const convs = Layer.sequential(Conv.conv2d(1, 4, 3), Conv.maxPool2d(2))
    expectTypeOf(Layer.apply(convs, convs.init(Random.key(0)), zeros([2, 1, 28, 28]))).toEqualTypeOf<Tensor<[2, 4, 13, 13], 'f64'>>()
  })

  it('rejects a batch that does not fit, on the batch argument, in the words of the runtime', () => {
    const message = 'apply: the layer expects 784 features but the input has 785 features'
    expectTypeOf<VerdictMessage<Layer.ApplyVerdict<typeof mlp, [32, 785]>>>().toEqualTypeOf<typeof message>()
    // @ts-expect-error: apply: the layer expects 784 features but the input has 785 features
    expect(thrown(() => Layer.apply(mlp, params, zeros([32, 785]))).message).toBe(message)
    // the same check in training mode
    // @ts-expect-error: train: the layer expects 784 features but the input has 785 features
    const e = thrown(() => Layer.train(mlp, params, mlp.initState(), zeros([32, 785]), Random.key(0)))
    expect(e).toEqual(new ShapeError('train: the layer expects 784 features but the input has 785 features'))
    // a missing batch axis: one example [784] is a batch of 784 scalars
    // @ts-expect-error: apply: the layer expects 784 features but the input has shape []
    expect(() => Layer.apply(mlp, params, zeros([784]))).toThrow(new ShapeError('apply: the layer expects 784 features but the input has shape []'))
    // @ts-expect-error: apply: expects a batch [batch, ...features] but got a scalar
    expect(() => Layer.apply(Layers.relu(), {}, zeros([]))).toThrow(new ShapeError('apply: expects a batch [batch, ...features] but got a scalar'))
    // a named batch dimension prints its name
    type Batch = Shape.Named<'B'>
    expectTypeOf<Layer.Describe<[Batch, 785]>>().toEqualTypeOf<'shape [B,785]'>()
    // @ts-expect-error: apply: the layer expects 784 features but the input has 785 features
    const named = (x: Tensor<[Batch, 785], 'f64'>) => Layer.apply(mlp, params, x)
    expect(() => named(zeros([1, 785]))).toThrow(new ShapeError(message))
  })

  it('rejects a batch the model cannot take deeper inside, naming the layer', () => {
    const convs = Layer.sequential(Conv.conv2d(1, 4, 5), Conv.maxPool2d(2))
    const message = 'apply: layer 1: conv2d: a 5x5 window does not fit in shape [1,4,4]'
    expectTypeOf<VerdictMessage<Layer.ApplyVerdict<typeof convs, [2, 1, 4, 4]>>>().toEqualTypeOf<typeof message>()
    // @ts-expect-error: apply: layer 1: conv2d: a 5x5 window does not fit in shape [1,4,4]
    expect(() => Layer.apply(convs, convs.init(Random.key(0)), zeros([2, 1, 4, 4]))).toThrow(new ShapeError(message))
  })
})

describe('layers whose output depends on their input', () => {
  it('maxout(k) divides the width before it, and rejects a width k does not divide', () => {
    const net = Layer.sequential(Layers.dense(3, 8), Layers.maxout(2), Layers.dense(4, 1))
    expectTypeOf<Out<typeof net>>().toEqualTypeOf<[1]>()
    expect(net.outputShape([3])).toEqual([1])
    expectTypeOf<Layer.MaxoutOut<[6, 12], 3>>().toEqualTypeOf<[6, 4]>()
    // a width known only at run time stays unknown
    expectTypeOf<Layer.MaxoutOut<[number], 3>>().toEqualTypeOf<[number]>()
    const message = 'layer 2: maxout: 10 units cannot be split into groups of 3'
    const bad = () =>
      Layer.sequential(
        Layers.dense(784, 10),
        // @ts-expect-error: layer 2: maxout: 10 units cannot be split into groups of 3
        Layers.maxout(3),
        Layers.dense(3, 1)
      )
    expect(bad).toThrow(new ShapeError(message))
    // and the layer after it sees the divided width: 8 / 2 = 4, not 8
    // @ts-expect-error: layer 3 expects 8 features but layer 2 produces 4 features
    expect(() => Layer.sequential(Layers.dense(3, 8), Layers.maxout(2), Layers.dense(8, 1))).toThrow(
      new ShapeError('layer 3 expects 8 features but layer 2 produces 4 features')
    )
  })

  it('reshape compares the element count with the layer before', () => {
    const net = Layer.sequential(Layers.dense(3, 784), Layers.reshape([1, 28, 28]), Conv.conv2d(1, 2, 3))
    expectTypeOf<Out<typeof net>>().toEqualTypeOf<[2, 26, 26]>()
    const message = 'layer 2: reshape: cannot reshape [128] (128 elements) into [1,28,28] (784 elements)'
    const bad = () =>
      Layer.sequential(
        Layers.dense(784, 128),
        // @ts-expect-error: layer 2: reshape: cannot reshape [128] (128 elements) into [1,28,28] (784 elements)
        Layers.reshape([1, 28, 28])
      )
    expect(bad).toThrow(new ShapeError(message))
    // as the first layer it fixes the shape; before a size known only at run time it trusts it
    expectTypeOf<Out<ReturnType<typeof Layers.reshape<[1, 28, 28]>>>>().toEqualTypeOf<[1, 28, 28]>()
    expectTypeOf<Layer.Chain<[ReturnType<typeof Layers.reshape<[4, 4]>>], [number]>>().toEqualTypeOf<[4, 4]>()
  })
})

describe('residual(inner) checks that inner keeps the shape', () => {
  it('accepts layers that keep it, and types the block as its input', () => {
    const same = Combinators.residual(Conv.conv2d(8, 8, 3, { padding: 1 }))
    expectTypeOf<Out<typeof same>>().toEqualTypeOf<[8, number, number]>()
    const net = Layer.sequential(Layers.reshape([1, 28, 28]), Conv.conv2d(1, 8, 3, { padding: 1 }), same, Layers.flatten(), Layers.dense(6272, 10))
    expectTypeOf<Out<typeof net>>().toEqualTypeOf<[10]>()
    expect(net.outputShape([784])).toEqual([10])
    // a 5x5 window keeps the size with padding 2; a 1x1 pooling keeps it too
    Combinators.residual(Conv.conv2d(8, 8, 5, { padding: 2 }))
    Combinators.residual(Conv.maxPool2d(1))
    // widths chosen at run time: the type cannot compare them, the run time does
    const n: number = 6
    expect(Combinators.residual(Layers.dense(n, n)).outputShape([6])).toEqual([6])
  })

  it('rejects a convolution that shrinks the image, for every image size', () => {
    const message = 'residual: the layer maps shape [8,d1,d2] to shape [8,?,?], but x + layer(x) needs its output shape to equal its input shape'
    expectTypeOf<Message<Layer.ResidualOut<ReturnType<typeof Conv.conv2d<8, 8, 3>>, [8, number, number]>>>().toEqualTypeOf<typeof message>()
    // @ts-expect-error: residual: the layer maps shape [8,d1,d2] to shape [8,?,?], …
    expect(() => Combinators.residual(Conv.conv2d(8, 8, 3))).toThrow(new ShapeError(message))
    // @ts-expect-error: residual: the layer maps shape [8,d1,d2] to shape [8,?,?], … (stride 2 halves it)
    expect(() => Combinators.residual(Conv.conv2d(8, 8, 3, { stride: 2, padding: 1 }))).toThrow(new ShapeError(message))
    // @ts-expect-error: residual: the layer maps shape [8,d1,d2] to shape [8,?,?], … (pooling)
    expect(() => Combinators.residual(Conv.maxPool2d(2))).toThrow(ShapeError)
  })

  it('checks each shape the block is given, and types what follows with the input shape', () => {
    const message = 'layer 3: residual: the layer maps shape [8,28,28] to 6272 features, but x + layer(x) needs its output shape to equal its input shape'
    const bad = () =>
      Layer.sequential(
        Layers.reshape([1, 28, 28]),
        Conv.conv2d(1, 8, 3, { padding: 1 }),
        // @ts-expect-error: layer 3: residual: the layer maps shape [8,28,28] to 6272 features, …
        Combinators.residual(Layers.flatten())
      )
    expect(bad).toThrow(new ShapeError(message))
    // the block's output is its input's [8,28,28]: a dense layer sized for a shrunken image does not fit
    const wrongFc = () =>
      Layer.sequential(
        Layers.reshape([1, 28, 28]),
        Conv.conv2d(1, 8, 3, { padding: 1 }),
        Combinators.residual(Conv.conv2d(8, 8, 3, { padding: 1 })),
        Layers.flatten(),
        // @ts-expect-error: layer 5 expects 5408 features but layer 4 produces 6272 features
        Layers.dense(5408, 10)
      )
    expect(wrongFc).toThrow(new ShapeError('layer 5 expects 5408 features but layer 4 produces 6272 features'))
  })

  it('parallel branches must agree on every free size too', () => {
    const ok = Combinators.parallel(Conv.conv2d(3, 4, 3, { padding: 1 }), Conv.conv2d(3, 4, 1))
    expectTypeOf<Out<typeof ok>>().toEqualTypeOf<[4, number, number]>()
    expect(ok.outputShape([3, 10, 12])).toEqual([4, 10, 24])
    expectTypeOf<Layer.OutputShape<typeof ok, [3, 10, 12]>>().toEqualTypeOf<[4, 10, 24]>()
    const message = 'parallel: branch 2 produces shape [4,?,?] but branch 1 produces shape [4,d1,d2]; only the last axis may differ'
    // @ts-expect-error: parallel: branch 2 produces shape [4,?,?] but branch 1 produces shape [4,d1,d2]; …
    expect(() => Combinators.parallel(Conv.conv2d(3, 4, 3, { padding: 1 }), Conv.conv2d(3, 4, 3))).toThrow(new ShapeError(message))
  })
})

describe('a model built with a spread', () => {
  const block = Layer.sequential(Layers.dense(128, 128), Layers.relu())
  const blocks = [block, block]

  it('checks the spread layers and every layer after them', () => {
    const model = Layer.sequential(Layers.dense(784, 128), ...blocks, Layers.dense(128, 10))
    expectTypeOf<Out<typeof model>>().toEqualTypeOf<[10]>()
    expect(model.outputShape([784])).toEqual([10])
    const bad = () =>
      Layer.sequential(
        Layers.dense(784, 128),
        // @ts-expect-error: layer 2+n expects 256 features but layer 1+n produces 128 features
        ...blocks,
        Layers.dense(256, 10)
      )
    // the type cannot count the spread (n); the run time can: n = 2
    expect(bad).toThrow(new ShapeError('layer 4 expects 256 features but layer 3 produces 128 features'))
    type Bad = Layer.Chain<[ReturnType<typeof Layers.dense<784, 128>>, ...(typeof block)[], ReturnType<typeof Layers.dense<256, 10>>], ShapeT>
    expectTypeOf<Message<Bad>>().toEqualTypeOf<'layer 2+n expects 256 features but layer 1+n produces 128 features'>()
  })

  it('rejects spread layers that do not fit, or that change the shape an unknown number of times', () => {
    // @ts-expect-error: layer 2 expects 128 features but layer 1 produces 64 features
    expect(() => Layer.sequential(Layers.dense(784, 64), ...blocks, Layers.dense(128, 10))).toThrow(
      new ShapeError('layer 2 expects 128 features but layer 1 produces 64 features')
    )
    const widen = [Layers.dense(128, 256)]
    type Widening = Layer.Chain<[ReturnType<typeof Layers.dense<784, 128>>, ...(typeof widen)[number][]], ShapeT>
    expectTypeOf<Message<Widening>>().toEqualTypeOf<'layers 2 to 1+n (a spread) change 128 features to 256 features, but their number n is unknown'>()
    // @ts-expect-error: layers 2 to 1+n (a spread) change 128 features to 256 features, but their number n is unknown
    expect(Layer.sequential(Layers.dense(784, 128), ...widen).outputShape([784])).toEqual([256])
    // a tuple is counted: written `as const`, the same layers are checked one by one
    const counted = [Layers.dense(128, 256)] as const
    expectTypeOf<Out<ReturnType<typeof Layer.sequential<[ReturnType<typeof Layers.dense<784, 128>>, ...typeof counted]>>>>().toEqualTypeOf<[256]>()
    expect(Layer.sequential(Layers.dense(784, 128), ...counted).outputShape([784])).toEqual([256])
  })

  it('widens visibly when the spread layers say nothing of their output', () => {
    const anyLayers: Layer.AnyLayer[] = [Layers.dense(128, 128)]
    const model = Layer.sequential(Layers.dense(784, 128), ...anyLayers)
    expectTypeOf<Out<typeof model>>().toEqualTypeOf<ShapeT>()
    expect(model.outputShape([784])).toEqual([128])
  })
})

describe('generic building blocks', () => {
  const block = <const N extends number>(n: N) => Layer.sequential(Layers.dense(n, n), Layers.relu())
  const resBlock = <const N extends number>(n: N) => Combinators.residual(Layer.sequential(Layers.dense(n, n), Layers.relu()))
  const resDense = <const N extends number>(n: N) => Combinators.residual(Layers.dense(n, n))
  const bottleneck = <const N extends number, const M extends number>(n: N, m: M) =>
    Combinators.residual(Layer.sequential(Layers.dense(n, m), Layers.relu(), Layers.dense(m, n)))
  const wide = <const N extends number, const M extends number>(n: N, m: M) => Combinators.parallel(Layers.dense(n, m), Layers.dense(n, m))

  it('compile, and fit where they are used with concrete widths', () => {
    const model = Layer.sequential(Layers.dense(784, 128), block(128), resBlock(128), resDense(128), bottleneck(128, 32), wide(128, 5), Layers.dense(10, 2))
    expectTypeOf<Out<typeof model>>().toEqualTypeOf<[2]>()
    expect(model.outputShape([784])).toEqual([2])
    expectTypeOf(Layer.apply(model, model.init(Random.key(0)), zeros([4, 784]))).toEqualTypeOf<Tensor<[4, 2], 'f64'>>()
  })

  it('taking a layer as a type parameter compile too, and are checked where the layer is known', () => {
    const around = <L extends Layer.AnyLayer>(inner: L) => Layer.sequential(Layers.dense(3, 4), Combinators.residual(inner), Layers.relu())
    const both = <L extends Layer.AnyLayer>(inner: L) => Combinators.parallel(inner, Layers.relu())
    const evaluate = <L extends Layer.AnyLayer>(model: L, p: Layer.ParamsOf<L>) => Layer.apply(model, p, zeros([2, 4]))
    const net = around(Layers.dense(4, 4))
    expectTypeOf<Out<typeof net>>().toEqualTypeOf<[4]>() // computed once the layer is known
    expect(evaluate(both(Layers.dense(4, 2)), { branches: [Layers.dense(4, 2).init(Random.key(0)), {}] }).shape).toEqual([2, 6])
    // the residual inside is checked when the helper runs
    expect(() => around(Layers.dense(4, 3))).toThrow(
      new ShapeError('residual: the layer maps 4 features to 3 features, but x + layer(x) needs its output shape to equal its input shape')
    )
    // and where the result is used with a known input
    // @ts-expect-error: apply: the layer expects 4 features but the input has 3 features
    expect(() => Layer.apply(both(Layers.dense(4, 2)), { branches: [Layers.dense(4, 2).init(Random.key(0)), {}] }, zeros([2, 3]))).toThrow(
      new ShapeError('apply: the layer expects 4 features but the input has 3 features')
    )
    // @ts-expect-error: layer 2: residual: the layer maps 4 features to 1 features, …
    expect(() => Layer.sequential(Layers.dense(3, 4), Combinators.residual(Layers.maxout(4)))).toThrow(ShapeError)
  })

  it('are checked where they are used', () => {
    // @ts-expect-error: layer 2 expects 64 features but layer 1 produces 128 features
    expect(() => Layer.sequential(Layers.dense(784, 128), block(64), Layers.dense(64, 10))).toThrow(
      new ShapeError('layer 2 expects 64 features but layer 1 produces 128 features')
    )
    // @ts-expect-error: layer 2 expects 64 features but layer 1 produces 128 features
    expect(() => Layer.sequential(Layers.dense(784, 128), resBlock(64))).toThrow(new ShapeError('layer 2 expects 64 features but layer 1 produces 128 features'))
  })

  it('that are wrong for some widths compile as helpers, and are rejected where those widths are used', () => {
    // right only when n = m: the type checker cannot settle that inside the helper
    const twice = <const N extends number, const M extends number>(n: N, m: M) => Layer.sequential(Layers.dense(n, m), Layers.dense(n, m))
    const fine = twice(5, 5)
    expectTypeOf<Out<typeof fine>>().toEqualTypeOf<[5]>()
    type Broken = ReturnType<typeof twice<5, 6>>
    expectTypeOf<Message<Layer.OutputShape<Broken>>>().toEqualTypeOf<'layer 2 expects 5 features but layer 1 produces 6 features'>()
    // the run time rejects the helper's call; the type rejects every use of its result
    expect(() => twice(5, 6)).toThrow(new ShapeError('layer 2 expects 5 features but layer 1 produces 6 features'))
    type Used = Layer.ChainVerdict<[ReturnType<typeof Layers.dense<3, 5>>, Broken]>
    expectTypeOf<VerdictMessage<Used>>().toEqualTypeOf<'layer 2: layer 2 expects 5 features but layer 1 produces 6 features'>()
    expectTypeOf<VerdictMessage<Layer.ApplyVerdict<Broken, [1, 5]>>>().toEqualTypeOf<'apply: layer 2 expects 5 features but layer 1 produces 6 features'>()
  })
})

describe('dtypes are part of the type', () => {
  const a = tensor([[1, 2], [3, 4]], { dtype: 'f32' })
  const b = tensor([[1, 2], [3, 4]])

  it('names the mismatch with the words of the DTypeError', () => {
    const message = 'add: dtypes differ: f32 and f64; convert one with astype'
    expectTypeOf<SameDType<'f32', 'f64', 'add'>>().toEqualTypeOf<DTypeMismatch<typeof message>>()
    // @ts-expect-error: add: dtypes differ: f32 and f64; convert one with astype
    const e = thrown(() => add(a, b))
    expect(e).toEqual(new DTypeError(message))
    // @ts-expect-error: matmul: dtypes differ: f32 and f64; convert one with astype
    expect(() => matmul(a, b)).toThrow(new DTypeError('matmul: dtypes differ: f32 and f64; convert one with astype'))
  })

  it('accepts one dtype, plain numbers, and dtypes known only at run time', () => {
    expectTypeOf(add(a, a)).toEqualTypeOf<Tensor<[2, 2], 'f32'>>()
    expectTypeOf(add(a, 1)).toEqualTypeOf<Tensor<[2, 2], 'f32'>>()
    expectTypeOf(matmul(b, b)).toEqualTypeOf<Tensor<[2, 2], 'f64'>>()
    expectTypeOf(fromBuffer(new Float32Array(4), [2, 2])).toEqualTypeOf<Tensor<[2, 2], 'f32'>>()
    expectTypeOf(concat([a, a])).toEqualTypeOf<Tensor<ShapeT, 'f32'>>()
    // a tensor whose dtype the type does not know (`DType`) is checked when the operation runs
    const unknown = b as Tensor<[2, 2]>
    expect(() => add(a, unknown)).toThrow(new DTypeError('add: dtypes differ: f32 and f64; convert one with astype'))
  })
})

describe('messages', () => {
  it('print a size known only at run time as ?, a named one by its name', () => {
    expectTypeOf<Shape.Show<[number, 3]>>().toEqualTypeOf<'[?,3]'>()
    expectTypeOf<Shape.Show<[Shape.Named<'B'>, 3]>>().toEqualTypeOf<'[B,3]'>()
    expectTypeOf<Message<Shape.MatMul<[number, 3], [4, 5]>>>().toEqualTypeOf<'matmul: inner dimensions differ, [?,3] x [4,5] (3 vs 4)'>()
    expectTypeOf<Layer.Describe<[6, number, number]>>().toEqualTypeOf<'shape [6,?,?]'>()
  })

  it('land on the layer that is wrong, in a long model too', () => {
    const bad = () =>
      Layer.sequential(
        Layers.dense(784, 256),
        Layers.relu(),
        Layers.dense(256, 256),
        Layers.relu(),
        Layers.dense(256, 256),
        Layers.relu(),
        // @ts-expect-error: layer 7 expects 128 features but layer 6 produces 256 features
        Layers.dense(128, 64),
        Layers.relu(),
        Layers.dense(64, 10)
      )
    expect(bad).toThrow(new ShapeError('layer 7 expects 128 features but layer 6 produces 256 features'))
  })
})
