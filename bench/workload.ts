/**
 * What the benchmark scripts share: the seeded float32 inputs of the MLP workloads (W2–W4:
 * 784-128-10, ReLU, softmax cross-entropy, SGD lr 0.01; training batch 128, inference batch
 * 1024) with lamina's Glorot initial weights, which every peer is given, and the path to
 * TensorFlow.js's wasm binaries inside node_modules.
 */
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { Layer, Layers, Random } from 'lamina-nn'

/** Seeded normal float32 values. */
export const f32 = (seed: number, n: number, std = 1): Float32Array => Random.normal(Random.key(seed), [n], { dtype: 'f32', std }).data as Float32Array

export const IN = 784
export const HID = 128
export const OUT = 10
export const TRAIN_BATCH = 128
export const INFER_BATCH = 1024
export const LR = 0.01
export const xTrain = f32(1, TRAIN_BATCH * IN)
export const labelsTrain = Int32Array.from({ length: TRAIN_BATCH }, (_, i) => (i * 7 + 3) % OUT)
export const oneHotTrain = new Float32Array(TRAIN_BATCH * OUT)
labelsTrain.forEach((l, i) => (oneHotTrain[i * OUT + l] = 1))
export const xInfer = f32(2, INFER_BATCH * IN)

export const model = Layer.sequential(Layers.dense(IN, HID), Layers.relu(), Layers.dense(HID, OUT))
export const params0 = model.init(Random.key(0), 'f32')
/** The initial weights as plain arrays, for the peers. */
export const init = {
  w1: params0.layers[0].w.data as Float32Array,
  b1: params0.layers[0].b.data as Float32Array,
  w2: params0.layers[2].w.data as Float32Array,
  b2: params0.layers[2].b.data as Float32Array
}

/** The folder of @tensorflow/tfjs-backend-wasm's .wasm binaries (they ship in the npm package). */
export const tfWasmDir = (): string => {
  const require = createRequire(import.meta.url)
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/'
}

type TF = typeof import('@tensorflow/tfjs')

/** The MLP's initial parameters as TensorFlow.js variables (the values lamina starts from). */
export const tfVariables = (tf: TF) => ({
  w1: tf.variable(tf.tensor2d(init.w1, [IN, HID])),
  b1: tf.variable(tf.tensor1d(init.b1)),
  w2: tf.variable(tf.tensor2d(init.w2, [HID, OUT])),
  b2: tf.variable(tf.tensor1d(init.b2))
})
export type TfVariables = ReturnType<typeof tfVariables>

/** The MLP's logits in TensorFlow.js: relu(x·w1 + b1)·w2 + b2. */
export const tfLogits = (tf: TF, v: TfVariables, input: import('@tensorflow/tfjs').Tensor2D) => tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(input, v.w1), v.b1)), v.w2), v.b2)
