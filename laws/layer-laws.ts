/**
 * Gradient laws for layers: the catalogue of every built-in layer kind's cases, and
 * {@link checkLayer} for a layer of your own, whose gradients with respect to its parameters and
 * its input are checked against finite differences on batches drawn at random.
 *
 * @module
 */
import fc from 'fast-check'
import * as Combinators from '../src/nn/combinators.js'
import * as Conv from '../src/nn/conv.js'
import * as Layer from '../src/nn/layer.js'
import type { AnyLayer } from '../src/nn/layer.js'
import * as Layers from '../src/nn/layers.js'
import * as Norm from '../src/nn/norm.js'
import { ArgumentError } from '../src/error.js'
import { add, mul, sum } from '../src/ops.js'
import * as Random from '../src/random.js'
import * as Sh from '../src/shape.js'
import type { Shape } from '../src/shape.js'
import { fromBuffer } from '../src/tensor.js'
import type { Tensor } from '../src/tensor.js'
import { tensorOf } from './arbitrary.js'
import type { ValueOptions } from './arbitrary.js'
import { check, gradientLaw, innerProductLaw, jvpLaw } from './laws.js'
import type { LawReport, RunOptions } from './run.js'

/** A layer case: a function of a tree of tensors to a tensor, and the trees to try. */
export interface LayerCase {
  readonly name: string
  readonly f: (input: never) => Tensor
  readonly inputs: fc.Arbitrary<unknown>
  /** A fixed fast-check seed, where a near-tie (a kink) could be drawn otherwise. */
  readonly seed?: number
}

/**
 * The gradient cases of every built-in layer kind: a scalar function of the layer's parameters
 * (a fixed batch, a fixed random cotangent) or of its input, and the values to try, away from
 * kinks and ties. `lamina gradcheck` and the test suite run {@link checkGradient} on each.
 *
 * @example
 * ```ts
 * import { layerCases, checkGradient } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * const dense = layerCases().find((c) => c.name === 'dense')!
 * assert.ok(checkGradient(dense.f as never, dense.inputs, { numRuns: 5 }).maxError <= 1e-7)
 * ```
 */
export const layerCases = (): LayerCase[] => {
  const normal = (seed: number, shape: Shape): Tensor => Random.normal(Random.key(seed), shape) as Tensor
  /** ⟨layer(x), c⟩ for a fixed random c: a scalar loss of the parameters. */
  const lossOf =
    (layer: AnyLayer, x: Tensor, outShape: Shape, training = false) =>
    (params: unknown): Tensor => {
      const c = normal(7, [x.shape[0]!, ...outShape])
      const y = layer.forward(params, x, { training, key: Random.key(0), state: layer.initState() }).y
      return sum(mul(y, c) as Tensor) as Tensor
    }
  const p = (shape: Shape, min = -1, max = 1) => tensorOf(shape, { min, max })
  const dense = (i: number, o: number) => fc.record({ w: p([i, o]), b: p([o]) })
  const distinct = (shape: Shape): fc.Arbitrary<Tensor> => {
    const n = Sh.size(shape)
    return fc.uniqueArray(fc.integer({ min: -60, max: 60 }), { minLength: n, maxLength: n }).map((xs) => fromBuffer(xs.map((v) => v / 10), shape) as Tensor)
  }
  const x = normal(1, [5, 3])
  const onInput = (layer: AnyLayer, options?: { min?: number; max?: number; awayFrom?: readonly number[]; margin?: number }) => ({
    f: (t: Tensor) => Layer.apply(layer, {}, t) as Tensor,
    inputs: tensorOf([3, 4], options)
  })
  const conv = Conv.conv2d(2, 3, 3, { stride: 2, padding: 1 })
  const bn = Norm.batchNorm(3)
  const bn2 = Norm.batchNorm2d(2)
  const ramp = fromBuffer(Array.from({ length: 16 }, (_, i) => (i % 4) * 0.9 + Math.floor(i / 8)), [2, 2, 2, 2]) as Tensor
  const mlp = Layer.sequential(Layers.dense(3, 4), Layers.tanh(), Layers.dense(4, 2))
  const block = Combinators.residual(Layer.sequential(Layers.dense(3, 3), Layers.tanh(), Layers.dense(3, 3)))
  const drop = Layers.dropout(0.5)
  const cases: LayerCase[] = [
    { name: 'dense', f: lossOf(Layers.dense(3, 4), x, [4]), inputs: dense(3, 4) },
    { name: 'prelu', f: lossOf(Layers.prelu(3), x, [3]), inputs: fc.record({ alpha: p([3]) }) },
    {
      name: 'conv2d',
      f: ({ x: input, w, b }: { x: Tensor; w: Tensor; b: Tensor }) => Layer.apply(conv, { w, b } as never, input) as Tensor,
      inputs: fc.record({ x: tensorOf([2, 2, 5, 4]), w: tensorOf([3, 2, 3, 3]), b: tensorOf([3]) })
    },
    { name: 'maxPool2d', f: (t: Tensor) => Layer.apply(Conv.maxPool2d(2), {}, t) as Tensor, inputs: distinct([2, 2, 4, 4]) },
    {
      name: 'batchNorm',
      f: ({ params, x: input }: { params: unknown; x: Tensor }) => lossOf(bn, input, [3], true)(params),
      inputs: fc.record({
        params: fc.record({ gamma: p([3], 0.5, 2), beta: p([3]) }),
        x: tensorOf([4, 3], { min: -0.4, max: 0.4 }).map((t) => add(t, fromBuffer([0, 1, 2, 3.5], [4, 1]) as Tensor) as Tensor)
      })
    },
    {
      name: 'batchNorm2d',
      f: ({ params, x: input }: { params: unknown; x: Tensor }) => lossOf(bn2, input, [2, 2, 2], true)(params),
      inputs: fc.record({
        params: fc.record({ gamma: p([2], 0.5, 2), beta: p([2]) }),
        x: tensorOf([2, 2, 2, 2], { min: -0.3, max: 0.3 }).map((t) => add(t, ramp) as Tensor)
      })
    },
    { name: 'dropout (training)', f: (t: Tensor) => drop.forward({}, t, { training: true, key: Random.key(3), state: drop.initState() }).y as Tensor, inputs: tensorOf([3, 4]) },
    { name: 'sequential (dense, tanh, dense)', f: lossOf(mlp, x, [2]), inputs: fc.record({ layers: fc.tuple(dense(3, 4), fc.constant({}), dense(4, 2)) }) },
    { name: 'residual', f: lossOf(block, x, [3]), inputs: fc.record({ layers: fc.tuple(dense(3, 3), fc.constant({}), dense(3, 3)) }) },
    { name: 'relu', ...onInput(Layers.relu(), { awayFrom: [0], margin: 0.1 }) },
    { name: 'leakyRelu', ...onInput(Layers.leakyRelu(0.1), { awayFrom: [0], margin: 0.1 }) },
    { name: 'elu', ...onInput(Layers.elu(), { awayFrom: [0], margin: 0.1 }) },
    { name: 'gelu', ...onInput(Layers.gelu()) },
    { name: 'sigmoid', ...onInput(Layers.sigmoid()) },
    { name: 'tanh', ...onInput(Layers.tanh()) },
    { name: 'softplus', ...onInput(Layers.softplus()) },
    { name: 'softmax', ...onInput(Layers.softmax()) },
    { name: 'logSoftmax', ...onInput(Layers.logSoftmax()) },
    { name: 'flatten', f: (t: Tensor) => Layer.apply(Layers.flatten(), {}, t) as Tensor, inputs: tensorOf([2, 2, 3]) }
  ]
  return cases
}


/** Options of {@link checkLayer}. */
export interface LayerCheckOptions extends RunOptions {
  /** One example's input shape (default: the layer's own, which must then be fully known). */
  readonly input?: Shape
  /** Examples per drawn batch (default 2). */
  readonly batch?: number
  /** Run the layer in training mode (dropout's mask, batch statistics); default false. */
  readonly training?: boolean
  /** Where the input values are drawn (default [−3, 3]); keep them away from the layer's kinks. */
  readonly values?: ValueOptions
}

/**
 * Checks a layer's derivatives with respect to its parameters and its input together: reverse
 * mode and forward mode against finite differences, and the inner-product identity, over
 * parameters from `layer.init` with random keys and batches drawn at random. For a layer built
 * from lamina's operations or your own rules (`customVjp`, `definePrimitive`). Returns one
 * report per law; throws a `LawFailure` with a shrunk counterexample for the first that fails.
 *
 * @example
 * ```ts
 * import { Layer, Layers } from 'lamina-nn'
 * import { checkLayer } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * const block = Layer.sequential(Layers.dense(3, 4), Layers.tanh(), Layers.dense(4, 2))
 * const reports = checkLayer(block, { numRuns: 10 })
 * assert.deepStrictEqual(reports.map((r) => r.law), ['layer gradient', 'layer jvp', 'layer inner product'])
 * assert.ok(reports.every((r) => r.maxError <= r.tolerance))
 * ```
 */
export const checkLayer = (layer: AnyLayer, options: LayerCheckOptions = {}): LawReport[] => {
  const example = options.input ?? layer.inShape
  if (example === undefined || !Array.isArray(example) || example.some((d: number) => !Number.isSafeInteger(d) || d < 1)) {
    throw new ArgumentError(`checkLayer: the layer's input shape is not fully known (${example === undefined ? 'none' : Sh.show(example)}); pass options.input, one example's shape`)
  }
  const batch = options.batch ?? 2
  if (!Number.isSafeInteger(batch) || batch < 1) throw new ArgumentError(`checkLayer: batch must be a positive integer, got ${batch}`)
  const training = options.training ?? false
  const f = ({ params, x }: { readonly params: unknown; readonly x: Tensor }): Tensor =>
    layer.forward(params, x, { training, key: Random.key(0), state: layer.initState() }).y as Tensor
  const inputs = fc.record({
    params: fc.integer({ min: 0, max: 2 ** 31 - 1 }).map((seed) => layer.init(Random.key(seed)) as unknown),
    x: tensorOf([batch, ...example], options.values)
  })
  return [check(gradientLaw, f, inputs, options, 'layer gradient'), check(jvpLaw, f, inputs, options, 'layer jvp'), check(innerProductLaw, f, inputs, options, 'layer inner product')]
}
