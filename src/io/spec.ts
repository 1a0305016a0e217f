/**
 * Models and training runs described as JSON. A model spec lists the per-example input
 * shape and the layers of a `sequential` model; widths are inferred from the running shape,
 * so a dense layer names only its `units` and a convolution only its `filters` and `kernel`:
 *
 * ```json
 * { "input": [784],
 *   "layers": [ { "kind": "reshape", "shape": [1, 28, 28] },
 *               { "kind": "conv2d", "filters": 6, "kernel": 3 }, { "kind": "relu" },
 *               { "kind": "maxPool2d", "kernel": 2 }, { "kind": "flatten" },
 *               { "kind": "dense", "units": 10 } ] }
 * ```
 *
 * {@link build} decodes the spec (every field checked, unknown keys rejected, see `Codec`)
 * and composes the layers with `Layer.sequential`, so a spec that does not fit together
 * fails with the very `ShapeError` words the type checker shows for the same mistake
 * written in TypeScript ("layer 3 expects 4056 features but layer 2 produces shape
 * [6,26,26]"). A training configuration ({@link decodeTraining}) names the epochs, batch
 * size, seed, loss and optimizer, with defaults for what it leaves out.
 *
 * @example
 * ```ts
 * import { Spec, Layer, Random, zeros } from 'lamina-nn'
 * import assert from 'node:assert'
 * const built = Spec.build({ input: [784], layers: [{ kind: 'dense', units: 128 }, { kind: 'relu' }, { kind: 'dense', units: 10 }] })
 * assert.ok(built._tag === 'Right')
 * const { model, outputShape } = built.right
 * assert.deepStrictEqual(outputShape, [10])
 * assert.deepStrictEqual(Layer.apply(model, model.init(Random.key(0)), zeros([2, 784])).shape, [2, 10])
 * ```
 *
 * @module
 */
// The spec language, one concept per file under ./spec/; this module is its public face.
export type {
  ActivationKind,
  ActivationSpec,
  AvgPool2dSpec,
  BatchNormSpec,
  Conv2dSpec,
  DenseSpec,
  DropoutSpec,
  EluSpec,
  FlattenSpec,
  GeluSpec,
  GlobalAvgPoolSpec,
  LayerSpec,
  LeakyReluSpec,
  MaxoutSpec,
  MaxPool2dSpec,
  ModelSpec,
  ParallelSpec,
  PreluSpec,
  ReshapeSpec,
  ResidualSpec
} from './spec/types.js'
export { MAX_DEPTH, MAX_ELEMENTS, MAX_KEYS, MAX_LAYERS, MAX_PARAMETERS, MAX_RANK, MAX_SPEC_LENGTH } from './spec/limits.js'
export { LayerCodec, ModelCodec, decode, parse } from './spec/codec.js'
export type { Built, Model, ModelParams, ModelState, TensorSlot } from './spec/build.js'
export { build, checkParameterCount, load, parameterCount } from './spec/build.js'
export type { FromLayerOptions } from './spec/from-layer.js'
export { fromLayer, toSpec } from './spec/from-layer.js'
export { fillTree, flattenTree, nestTree } from './spec/tree.js'
export type { LossName, OptimizerSpec, RegressionLossName, Task, TrainingConfig } from './spec/training.js'
export {
  TrainingCodec,
  decodeOptimizer,
  decodeTraining,
  loss,
  lossNames,
  optimizer,
  parseTraining,
  regressionLoss,
  regressionLossNames,
  trainingDefaults
} from './spec/training.js'
