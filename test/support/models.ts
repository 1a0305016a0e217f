// Seed 004's convolutional network, written exactly as the seed lists it, shared by the tests
// that check its types, its runtime shapes and its JSON spec.
import { Conv, Layer, Layers } from 'lamina-nn'

export const lenet = () =>
  Layer.sequential(
    Layers.reshape([1, 32, 32]),
    Conv.conv2d(1, 6, 3),
    Layers.relu(),
    Conv.maxPool2d(2),
    Conv.conv2d(6, 16, 3),
    Layers.relu(),
    Conv.maxPool2d(2),
    Layers.flatten(),
    Layers.dense(576, 120),
    Layers.relu(),
    Layers.dense(120, 84),
    Layers.relu(),
    Layers.dense(84, 10)
  )
