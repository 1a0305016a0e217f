// LeNet-5 on 28×28 digits (conv5 pad2 6 → pool2 → conv5 16 → pool2 → 400-120-84-10, ReLU),
// float32, Adam, batch 64: training and inference samples/s on the cpu backend, alone, so a
// change to the convolution path can be timed before and after without the whole bench.
//
//   node --import tsx --conditions=lamina-src bench/lenet-quick.ts [--steps 20] [--infer 3] [--ops]
//
// --ops also prints the time of the timed training steps spent in each backend operation
// (a wrapping backend; the rest is the interpreter, the tape and the optimizer's JavaScript).
import { parseArgs } from 'node:util'
import { Backends, Layer, Loss, Optim, Random, Train, cpu } from 'lamina-nn'
import type { Backend } from 'lamina-nn'
import { LENET_BATCH, LENET_INFER_BATCH, lenet5, lenetInputs } from './lenet.js'

const { values } = parseArgs({ options: { steps: { type: 'string', default: '20' }, infer: { type: 'string', default: '3' }, ops: { type: 'boolean', default: false } } })
const steps = Number(values.steps)

/** Milliseconds and calls per backend operation (and, for elementwise ones, per op name), while `timing` is on. */
const opTimes = new Map<string, { ms: number; calls: number }>()
let timing = false
const timed = (): Backend => {
  const wrapped: Record<string, unknown> = { ...cpu }
  for (const [name, f] of Object.entries(cpu)) {
    if (typeof f !== 'function') continue
    wrapped[name] = (...args: unknown[]) => {
      if (!timing) return (f as (...a: unknown[]) => unknown)(...args)
      const t0 = performance.now()
      const out = (f as (...a: unknown[]) => unknown)(...args)
      const key = typeof args[0] === 'string' ? `${name}.${args[0]}` : name
      const entry = opTimes.get(key) ?? { ms: 0, calls: 0 }
      entry.ms += performance.now() - t0
      entry.calls++
      opTimes.set(key, entry)
      return out
    }
  }
  return wrapped as unknown as Backend
}
const backend = values.ops ? timed() : cpu
const optimizer = Optim.adam({ lr: 1e-3 })
const { x, labels, xInfer } = lenetInputs()
let params = lenet5.init(Random.key(0), 'f32')
let state = lenet5.initState()
let optState = optimizer.init(params)
const step = (k: number) => {
  const next = Backends.withBackend(backend, () => Train.step(lenet5, params, state, optimizer, optState, Loss.crossEntropyWithLogits, { x, labels }, Random.key(k)))
  params = next.params
  state = next.state
  optState = next.optimizerState
  return next.loss
}
step(-1) // warm-up
step(-2)
const times: number[] = []
let loss = 0
timing = values.ops
const cpu0 = process.cpuUsage()
for (let k = 0; k < steps; k++) {
  const t0 = performance.now()
  loss = step(k)
  times.push(performance.now() - t0)
}
const cpuUsed = process.cpuUsage(cpu0)
timing = false
times.sort((a, b) => a - b)
const median = times[times.length >> 1]!
// CPU time of the whole process per step (user + system, the garbage collector's and compiler's threads included)
const cpuMs = (cpuUsed.user + cpuUsed.system) / 1000 / steps
console.log(
  `LeNet-5 train b=${LENET_BATCH}: median ${median.toFixed(1)} ms/step → ${((LENET_BATCH * 1000) / median).toFixed(0)} samples/s (best ${((LENET_BATCH * 1000) / times[0]!).toFixed(0)}; ` +
    `CPU ${cpuMs.toFixed(1)} ms/step → ${((LENET_BATCH * 1000) / cpuMs).toFixed(0)}); loss after ${steps + 2} steps ${loss.toFixed(4)}`
)
const inferTimes: number[] = []
for (let k = 0; k < Number(values.infer); k++) {
  const t0 = performance.now()
  void Layer.apply(lenet5, params, xInfer).data
  inferTimes.push(performance.now() - t0)
}
inferTimes.sort((a, b) => a - b)
if (values.ops) {
  const total = times.reduce((a, b) => a + b, 0)
  const rows = [...opTimes].sort((a, b) => b[1].ms - a[1].ms)
  const inOps = rows.reduce((a, [, r]) => a + r.ms, 0)
  console.log(`per step: ${(total / steps).toFixed(2)} ms, of which backend operations ${(inOps / steps).toFixed(2)} ms`)
  for (const [key, r] of rows) console.log(`  ${key.padEnd(28)} ${(r.ms / steps).toFixed(3).padStart(7)} ms/step  ${(r.calls / steps).toFixed(1).padStart(5)} calls/step`)
}
if (inferTimes.length > 0) {
  const im = inferTimes[inferTimes.length >> 1]!
  console.log(`LeNet-5 infer b=${LENET_INFER_BATCH}: median ${im.toFixed(1)} ms → ${((LENET_INFER_BATCH * 1000) / im).toFixed(0)} samples/s (best ${((LENET_INFER_BATCH * 1000) / inferTimes[0]!).toFixed(0)})`)
}
