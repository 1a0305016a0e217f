/**
 * Type-level shape rules of the convolutional layers, checked through `Layer.sequential`.
 *
 * `tsc --noEmit` type-checks this file (`npm run typecheck`), so every `expectTypeOf` fails
 * the build when an inferred shape is wrong, and every `// @ts-expect-error: <reason>` fails
 * it when the line below compiles, i.e. when a shape rule stops rejecting a mistake. The
 * runtime `expect`s check that the runtime twins (`outputShape`, the checks of
 * `sequential`) agree word for word with the type-level `ShapeMismatch` messages.
 */
import { describe, expect, expectTypeOf, it } from 'vitest'
import { Conv, Layer, Layers, ShapeError } from 'lamina-nn'
import type { ShapeMismatch, ShapeT } from 'lamina-nn'
import { lenet } from './support/models.js'

/** The per-example output shape a layer promises. */
type OutOf<L> = L extends { readonly __out?: infer O } ? Layer.Next<Exclude<O, undefined>, ShapeT> : never
/** The shape after running `Ls` from `In` (or the message of the first misfit). */
type After<Ls extends readonly Layer.AnyLayer[], In extends ShapeT> = Layer.Chain<Ls, In>
/** The text of a named shape error (`never` when `T` is a shape). */
type Message<T> = T extends ShapeMismatch<infer M> ? M : never

type ConvArgs = Conv.Conv2dArgs<6, 3, 1, 0, 'conv2d'>
type PoolArgs = Conv.Conv2dArgs<0, 2, 2, 0, 'maxPool2d'>

// seed 004's LeNet, as written there
describe('the convolutional shape rule (Conv2dOut)', () => {
  it('computes ⌊(n + 2p − k)/s⌋ + 1 for each spatial axis and keeps or replaces the channels', () => {
    expectTypeOf<Layer.Conv2dOut<[1, 32, 32], ConvArgs>>().toEqualTypeOf<[6, 30, 30]>()
    expectTypeOf<Layer.Conv2dOut<[6, 30, 30], PoolArgs>>().toEqualTypeOf<[6, 15, 15]>()
    // floor semantics: 13 → 6 with a 2x2 window (the last row and column are dropped)
    expectTypeOf<Layer.Conv2dOut<[16, 13, 13], PoolArgs>>().toEqualTypeOf<[16, 6, 6]>()
    expectTypeOf<Layer.Conv2dOut<[3, 32, 32], Conv.Conv2dArgs<8, 3, 2, 1, 'conv2d'>>>().toEqualTypeOf<[8, 16, 16]>()
    expectTypeOf<Layer.Conv2dOut<[3, 28, 20], Conv.Conv2dArgs<4, 5, 1, 2, 'conv2d'>>>().toEqualTypeOf<[4, 28, 20]>()
    // free height and width stay free
    expectTypeOf<Layer.Conv2dOut<[1, number, number], ConvArgs>>().toEqualTypeOf<[6, number, number]>()
    // an unknown rank gives an unknown shape
    expectTypeOf<Layer.Conv2dOut<ShapeT, ConvArgs>>().toEqualTypeOf<ShapeT>()
  })

  it('names a window larger than the (padded) image, and a shape of the wrong rank', () => {
    expectTypeOf<Message<Layer.Conv2dOut<[1, 3, 3], Conv.Conv2dArgs<1, 5, 1, 0, 'conv2d'>>>>().toEqualTypeOf<'conv2d: a 5x5 window does not fit in shape [1,3,3]'>()
    // padding makes room: 3 + 2·1 = 5
    expectTypeOf<Layer.Conv2dOut<[1, 3, 3], Conv.Conv2dArgs<1, 5, 1, 1, 'conv2d'>>>().toEqualTypeOf<[1, 1, 1]>()
    // one axis is enough to reject, and a free axis prints as ?
    expectTypeOf<Message<Layer.Conv2dOut<[1, 9, 3], Conv.Conv2dArgs<1, 5, 1, 0, 'conv2d'>>>>().toEqualTypeOf<'conv2d: a 5x5 window does not fit in shape [1,9,3]'>()
    expectTypeOf<Message<Layer.Conv2dOut<[1, number, 3], Conv.Conv2dArgs<1, 5, 1, 0, 'conv2d'>>>>().toEqualTypeOf<'conv2d: a 5x5 window does not fit in shape [1,?,3]'>()
    expectTypeOf<Message<Layer.Conv2dOut<[2, 1, 9], PoolArgs>>>().toEqualTypeOf<'maxPool2d: a 2x2 window does not fit in shape [2,1,9]'>()
    expectTypeOf<Message<Layer.Conv2dOut<[784], ConvArgs>>>().toEqualTypeOf<'conv2d expects shape [channels,height,width] but got 784 features'>()
  })

  it('has runtime twins with the same numbers and words', () => {
    expect(Conv.conv2d(1, 6, 3).outputShape([1, 32, 32])).toEqual([6, 30, 30])
    expect(Conv.maxPool2d(2).outputShape([6, 30, 30])).toEqual([6, 15, 15])
    expect(Conv.maxPool2d(2).outputShape([16, 13, 13])).toEqual([16, 6, 6])
    expect(Conv.conv2d(3, 8, 3, { stride: 2, padding: 1 }).outputShape([3, 32, 32])).toEqual([8, 16, 16])
    expect(Conv.conv2d(3, 4, 5, { padding: 2 }).outputShape([3, 28, 20])).toEqual([4, 28, 20])
    expect(Conv.conv2d(1, 6, 3).outputShape([1, -1, -1])).toEqual([6, -1, -1])
    expect(() => Conv.conv2d(1, 1, 5).outputShape([1, 3, 3])).toThrow(new ShapeError('conv2d: a 5x5 window does not fit in shape [1,3,3]'))
    expect(() => Conv.conv2d(1, 1, 5).outputShape([1, 9, 3])).toThrow(new ShapeError('conv2d: a 5x5 window does not fit in shape [1,9,3]'))
    expect(() => Conv.conv2d(1, 1, 5).outputShape([1, -1, 3])).toThrow(new ShapeError('conv2d: a 5x5 window does not fit in shape [1,?,3]'))
    expect(Conv.conv2d(1, 1, 5, { padding: 1 }).outputShape([1, 3, 3])).toEqual([1, 1, 1])
    expect(() => Conv.maxPool2d(2).outputShape([2, 1, 9])).toThrow(new ShapeError('maxPool2d: a 2x2 window does not fit in shape [2,1,9]'))
    expect(() => Conv.conv2d(1, 6, 3).outputShape([784])).toThrow(new ShapeError('conv2d expects shape [channels,height,width] but got 784 features'))
    expect(() => Conv.conv2d(1, 6, 3).outputShape([3, 32, 32])).toThrow(new ShapeError('conv2d expects shape [1,?,?] but got shape [3,32,32]'))
  })

  it('types the layers and their parameters with the literal sizes', () => {
    const conv = Conv.conv2d(3, 8, 5, { stride: 2, padding: 1 })
    expectTypeOf(conv).toEqualTypeOf<
      Layer.Layer<[3, number, number], Layer.Transform<'conv2d', Conv.Conv2dArgs<8, 5, 2, 1, 'conv2d'>>, Conv.Conv2dParams<3, 8, 5>>
    >()
    expectTypeOf<Layer.ParamsOf<typeof conv>['w']['shape']>().toEqualTypeOf<[8, 3, 5, 5]>()
    expectTypeOf<Layer.ParamsOf<typeof conv>['b']['shape']>().toEqualTypeOf<[8]>()
    expectTypeOf(Conv.conv2d(1, 6, 3)).toEqualTypeOf<
      Layer.Layer<[1, number, number], Layer.Transform<'conv2d', Conv.Conv2dArgs<6, 3, 1, 0, 'conv2d'>>, Conv.Conv2dParams<1, 6, 3>>
    >()
    expectTypeOf(Conv.maxPool2d(2)).toEqualTypeOf<
      Layer.Layer<[number, number, number], Layer.Transform<'conv2d', Conv.Conv2dArgs<0, 2, 2, 0, 'maxPool2d'>>, Layer.Stateless>
    >()
    expectTypeOf(Conv.maxPool2d(3, { stride: 1 })).toEqualTypeOf<
      Layer.Layer<[number, number, number], Layer.Transform<'conv2d', Conv.Conv2dArgs<0, 3, 1, 0, 'maxPool2d'>>, Layer.Stateless>
    >()
  })
})

describe("seed 004's LeNet", () => {
  it('type-checks as written, with the shapes of the seed after every layer', () => {
    const model = lenet()
    expectTypeOf<OutOf<typeof model>>().toEqualTypeOf<[10]>()
    type Ls = typeof model extends Layer.Layer<ShapeT, infer _O, { readonly layers: infer P }, infer _S> ? P : never
    expectTypeOf<Ls[1]>().toEqualTypeOf<Conv.Conv2dParams<1, 6, 3>>()
    expectTypeOf<Ls[4]>().toEqualTypeOf<Conv.Conv2dParams<6, 16, 3>>()
    expectTypeOf<Ls[8]['w']['shape']>().toEqualTypeOf<[576, 120]>()
    // the intermediate shapes: conv 3 → 30, pool → 15, conv 3 → 13, pool → 6, flatten → 16·6·6
    const [, c1, r1, p1, c2, r2, p2, fl] = [
      Layers.reshape([1, 32, 32]),
      Conv.conv2d(1, 6, 3),
      Layers.relu(),
      Conv.maxPool2d(2),
      Conv.conv2d(6, 16, 3),
      Layers.relu(),
      Conv.maxPool2d(2),
      Layers.flatten()
    ] as const
    expectTypeOf<After<[typeof c1], [1, 32, 32]>>().toEqualTypeOf<[6, 30, 30]>()
    expectTypeOf<After<[typeof c1, typeof r1, typeof p1], [1, 32, 32]>>().toEqualTypeOf<[6, 15, 15]>()
    expectTypeOf<After<[typeof c1, typeof r1, typeof p1, typeof c2], [1, 32, 32]>>().toEqualTypeOf<[16, 13, 13]>()
    expectTypeOf<After<[typeof c1, typeof r1, typeof p1, typeof c2, typeof r2, typeof p2], [1, 32, 32]>>().toEqualTypeOf<[16, 6, 6]>()
    expectTypeOf<After<[typeof c1, typeof r1, typeof p1, typeof c2, typeof r2, typeof p2, typeof fl], [1, 32, 32]>>().toEqualTypeOf<[576]>()
    // and at run time
    expect(model.outputShape([1024])).toEqual([10])
    const shapes: ShapeT[] = []
    let cur: ShapeT = [1024]
    for (const layer of [Layers.reshape([1, 32, 32]), c1, r1, p1, c2, r2, p2, fl]) shapes.push((cur = layer.outputShape(cur)))
    expect(shapes).toEqual([
      [1, 32, 32],
      [6, 30, 30],
      [6, 30, 30],
      [6, 15, 15],
      [16, 13, 13],
      [16, 13, 13],
      [16, 6, 6],
      [576]
    ])
  })

  it('rejects fc1 sized for 5x5 feature maps (16·5·5 = 400), with the same message at run time', () => {
    // the type error is reported on the layer that does not fit, fc1
    const bad = () =>
      Layer.sequential(
        Layers.reshape([1, 32, 32]),
        Conv.conv2d(1, 6, 3),
        Layers.relu(),
        Conv.maxPool2d(2),
        Conv.conv2d(6, 16, 3),
        Layers.relu(),
        Conv.maxPool2d(2),
        Layers.flatten(),
        // @ts-expect-error: layer 9 expects 400 features but layer 8 produces 576 features
        Layers.dense(400, 120),
        Layers.relu(),
        Layers.dense(120, 84),
        Layers.relu(),
        Layers.dense(84, 10)
      )
    const message = 'layer 9 expects 400 features but layer 8 produces 576 features'
    type Bad = Layer.Chain<
      [
        Layer.Layer<ShapeT, readonly [1, 32, 32], Layer.Stateless>,
        ReturnType<typeof Conv.conv2d<1, 6, 3>>,
        ReturnType<typeof Layers.relu>,
        ReturnType<typeof Conv.maxPool2d<2>>,
        ReturnType<typeof Conv.conv2d<6, 16, 3>>,
        ReturnType<typeof Layers.relu>,
        ReturnType<typeof Conv.maxPool2d<2>>,
        ReturnType<typeof Layers.flatten>,
        ReturnType<typeof Layers.dense<400, 120>>
      ],
      ShapeT
    >
    expectTypeOf<Message<Bad>>().toEqualTypeOf<typeof message>()
    // the input is only known once the reshape sees one, so the run-time check runs on the shape
    // the image size is known from the reshape, so sequential itself throws, with the same words
    expect(bad).toThrow(new ShapeError(message))
  })

  it('rejects a channel count that does not match the previous convolution', () => {
    const message = 'layer 3 expects shape [6,?,?] but layer 2 produces shape [8,30,30]'
    // @ts-expect-error: layer 3 expects shape [6,?,?] but layer 2 produces shape [8,30,30]
    const bad = () => Layer.sequential(Layers.reshape([1, 32, 32]), Conv.conv2d(1, 8, 3), Conv.conv2d(6, 16, 3))
    type Bad = Layer.Chain<
      [Layer.Layer<ShapeT, readonly [1, 32, 32], Layer.Stateless>, ReturnType<typeof Conv.conv2d<1, 8, 3>>, ReturnType<typeof Conv.conv2d<6, 16, 3>>],
      ShapeT
    >
    expectTypeOf<Message<Bad>>().toEqualTypeOf<typeof message>()
    // the image size is known from the reshape, so sequential itself throws, with the same words
    expect(bad).toThrow(new ShapeError(message))
    // without a known image size the free dimensions print as ?, in both worlds
    type Free = Layer.Chain<[ReturnType<typeof Conv.conv2d<1, 8, 3>>, ReturnType<typeof Conv.conv2d<6, 16, 3>>], ShapeT>
    expectTypeOf<Message<Free>>().toEqualTypeOf<'layer 2 expects shape [6,?,?] but layer 1 produces shape [8,?,?]'>()
    // @ts-expect-error: layer 2 expects shape [6,?,?] but layer 1 produces shape [8,?,?]
    const free = () => Layer.sequential(Conv.conv2d(1, 8, 3), Conv.conv2d(6, 16, 3))
    expect(free).toThrow(new ShapeError('layer 2 expects shape [6,?,?] but layer 1 produces shape [8,?,?]'))
  })

  it('rejects a kernel larger than its input', () => {
    const message = 'layer 2: conv2d: a 5x5 window does not fit in shape [1,4,4]'
    // @ts-expect-error: layer 2: conv2d: a 5x5 window does not fit in shape [1,4,4]
    const bad = () => Layer.sequential(Layers.reshape([1, 4, 4]), Conv.conv2d(1, 8, 5))
    type Bad = Layer.Chain<[Layer.Layer<ShapeT, readonly [1, 4, 4], Layer.Stateless>, ReturnType<typeof Conv.conv2d<1, 8, 5>>], ShapeT>
    expectTypeOf<Message<Bad>>().toEqualTypeOf<typeof message>()
    expect(() => bad().outputShape([16])).toThrow(new ShapeError(message))
    // pooling that shrinks the image below the next window: 32 → 30 → 15 → 3 (pool 5) → conv 5 does not fit
    const deep = () =>
      // @ts-expect-error: layer 4: conv2d: a 5x5 window does not fit in shape [6,3,3]
      Layer.sequential(Layers.reshape([1, 32, 32]), Conv.conv2d(1, 6, 3), Conv.maxPool2d(10), Conv.conv2d(6, 6, 5))
    type Deep = Layer.Chain<
      [
        Layer.Layer<ShapeT, readonly [1, 32, 32], Layer.Stateless>,
        ReturnType<typeof Conv.conv2d<1, 6, 3>>,
        ReturnType<typeof Conv.maxPool2d<10>>,
        ReturnType<typeof Conv.conv2d<6, 6, 5>>
      ],
      ShapeT
    >
    expectTypeOf<Message<Deep>>().toEqualTypeOf<'layer 4: conv2d: a 5x5 window does not fit in shape [6,3,3]'>()
    expect(() => deep().outputShape([1024])).toThrow(new ShapeError('layer 4: conv2d: a 5x5 window does not fit in shape [6,3,3]'))
  })

  it('rejects a convolution after flattening', () => {
    const message = 'layer 4 expects shape [6,?,?] but layer 3 produces 5400 features'
    // @ts-expect-error: layer 4 expects shape [6,?,?] but layer 3 produces 5400 features
    const bad = () => Layer.sequential(Layers.reshape([1, 32, 32]), Conv.conv2d(1, 6, 3), Layers.flatten(), Conv.conv2d(6, 6, 3))
    type Bad = Layer.Chain<
      [
        Layer.Layer<ShapeT, readonly [1, 32, 32], Layer.Stateless>,
        ReturnType<typeof Conv.conv2d<1, 6, 3>>,
        ReturnType<typeof Layers.flatten>,
        ReturnType<typeof Conv.conv2d<6, 6, 3>>
      ],
      ShapeT
    >
    expectTypeOf<Message<Bad>>().toEqualTypeOf<typeof message>()
    // the image size is known from the reshape, so sequential itself throws, with the same words
    expect(bad).toThrow(new ShapeError(message))
  })
})
