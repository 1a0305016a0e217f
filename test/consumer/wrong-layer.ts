// A mis-composed model: must fail to compile with the layer's words (test/consumer.test.ts).
import { Layer, Layers } from 'lamina-nn'

export const wrong = Layer.sequential(Layers.dense(784, 128), Layers.relu(), Layers.dense(64, 10))
