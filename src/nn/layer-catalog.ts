/**
 * Every layer in one namespace, found by name: `Layers.dense`, `Layers.conv2d`,
 * `Layers.batchNorm`, `Layers.residual`, `Layers.sequential`. The modules they are written in
 * (`Conv`, `Norm`, `Combinators`, and `Layer` for the type and composition) stay exported under
 * their own names too.
 *
 * @example
 * ```ts
 * import { Layers, Random, zeros } from 'lamina-nn'
 * import assert from 'node:assert'
 * const net = Layers.sequential(
 *   Layers.reshape([1, 8, 8]), Layers.conv2d(1, 4, 3), Layers.batchNorm2d(4), Layers.relu(), Layers.maxPool2d(2),
 *   Layers.flatten(), Layers.residual(Layers.dense(36, 36)), Layers.dense(36, 10)
 * )
 * const params = net.init(Random.key(0))
 * assert.deepStrictEqual(Layers.apply(net, params, zeros([2, 64])).shape, [2, 10])
 * ```
 *
 * @module
 */
export * from './layers.js'
export { conv2d, maxPool2d, avgPool2d, globalAvgPool } from './conv.js'
export type { Conv2dOptions, Conv2dParams, MaxPool2dOptions } from './conv.js'
export { batchNorm, batchNorm2d } from './norm.js'
export { residual, parallel, concat } from './combinators.js'
export { sequential, apply } from './layer.js'
