/**
 * Standard networks, built from the layers as a user would write them: the models of the main
 * job and the benchmarks, so every program that trains "LeNet-5 on MNIST" trains the same one.
 *
 * @example
 * ```ts
 * import { Models, Layer, Random, zeros } from 'lamina-nn'
 * import assert from 'node:assert'
 * const net = Models.lenet5()
 * const params = net.init(Random.key(0), 'f32')
 * assert.deepStrictEqual(Layer.apply(net, params, zeros([2, 784], { dtype: 'f32' })).shape, [2, 10])
 * assert.deepStrictEqual(Models.mlp(784, 128, 10).outputShape([784]), [10])
 * ```
 *
 * @module
 */
import { conv2d, maxPool2d } from './conv.js'
import { sequential } from './layer.js'
import { dense, flatten, relu, reshape } from './layers.js'

/**
 * LeNet-5 for 28×28 digits given as rows of 784 pixels (MNIST): conv 5×5 with padding 2 → 6
 * channels, ReLU, 2×2 max pooling, conv 5×5 → 16, ReLU, 2×2 max pooling, then dense
 * 400 → 120 → 84 → 10 with ReLUs; its output is 10 logits.
 *
 * @example
 * ```ts
 * import { Models, Spec } from 'lamina-nn'
 * import assert from 'node:assert'
 * // its spec (for a model file) comes from the layers themselves
 * const spec = Spec.fromLayer(Models.lenet5(), { input: [784] })
 * assert.ok(spec._tag === 'Right' && spec.right.layers.length === 13)
 * ```
 */
export const lenet5 = () =>
  sequential(
    reshape([1, 28, 28]),
    conv2d(1, 6, 5, { padding: 2 }),
    relu(),
    maxPool2d(2),
    conv2d(6, 16, 5),
    relu(),
    maxPool2d(2),
    flatten(),
    dense(400, 120),
    relu(),
    dense(120, 84),
    relu(),
    dense(84, 10)
  )

/**
 * A one-hidden-layer perceptron `inputs → hidden → outputs` with a ReLU between: the main
 * job's default model (784-128-10).
 *
 * @example
 * ```ts
 * import { Models, Random } from 'lamina-nn'
 * import assert from 'node:assert'
 * const params = Models.mlp(4, 8, 3).init(Random.key(1))
 * assert.deepStrictEqual(params.layers[0].w.shape, [4, 8])
 * ```
 */
export const mlp = <I extends number, H extends number, O extends number>(inputs: I, hidden: H, outputs: O) =>
  sequential(dense(inputs, hidden), relu(), dense(hidden, outputs))
