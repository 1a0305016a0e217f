// LeNet-5 on 28×28 digits (conv5 pad2 6 → pool2 → conv5 16 → pool2 → 400-120-84-10, ReLU),
// float32, Adam, batch 64: training and inference samples/s on the cpu backend, alone, so a
// change to the convolution path can be timed before and after without the whole bench.
//
//   node --import tsx --conditions=lamina-src bench/lenet-quick.ts [--steps 20] [--infer 3]
import { parseArgs } from 'node:util'
import { Layer, Loss, Optim, Random, Train } from 'lamina-nn'
import { LENET_BATCH, LENET_INFER_BATCH, lenet5, lenetInputs } from './lenet.js'

const { values } = parseArgs({ options: { steps: { type: 'string', default: '20' }, infer: { type: 'string', default: '3' } } })
const steps = Number(values.steps)
const optimizer = Optim.adam({ lr: 1e-3 })
const { x, labels, xInfer } = lenetInputs()
let params = lenet5.init(Random.key(0), 'f32')
let state = lenet5.initState()
let optState = optimizer.init(params)
const step = (k: number) => {
  const next = Train.step(lenet5, params, state, optimizer, optState, Loss.crossEntropyWithLogits, { x, labels }, Random.key(k))
  params = next.params
  state = next.state
  optState = next.optimizerState
  return next.loss
}
step(-1) // warm-up
step(-2)
const times: number[] = []
let loss = 0
for (let k = 0; k < steps; k++) {
  const t0 = performance.now()
  loss = step(k)
  times.push(performance.now() - t0)
}
times.sort((a, b) => a - b)
const median = times[times.length >> 1]!
console.log(`LeNet-5 train b=${LENET_BATCH}: median ${median.toFixed(1)} ms/step → ${((LENET_BATCH * 1000) / median).toFixed(0)} samples/s (best ${((LENET_BATCH * 1000) / times[0]!).toFixed(0)}); loss after ${steps + 2} steps ${loss.toFixed(4)}`)
const inferTimes: number[] = []
for (let k = 0; k < Number(values.infer); k++) {
  const t0 = performance.now()
  void Layer.apply(lenet5, params, xInfer).data
  inferTimes.push(performance.now() - t0)
}
inferTimes.sort((a, b) => a - b)
const im = inferTimes[inferTimes.length >> 1]!
console.log(`LeNet-5 infer b=${LENET_INFER_BATCH}: median ${im.toFixed(1)} ms → ${((LENET_INFER_BATCH * 1000) / im).toFixed(0)} samples/s`)
