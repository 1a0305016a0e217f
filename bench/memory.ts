// Memory of a long eager training run on the cpu backend. Flat means no leak: every step's
// tensors and tape become garbage once the step returns.
// - default: a small MLP trained for 10,000 steps; the resident set size every 1,000 steps.
// - --model lenet: LeNet-5 (Models.lenet5) trained with Train.fit on full MNIST in float32 for
//   --epochs (default 10) epochs of minibatches of 64, as the main job does; the resident set
//   and the JS heap every --every (default 1,000) steps and at each epoch's end.
//
//   node --expose-gc --import tsx --conditions=lamina-src bench/memory.ts [--steps N]
//   node --expose-gc --import tsx --conditions=lamina-src bench/memory.ts --model lenet [--epochs 10] [--limit N]
import { parseArgs } from 'node:util'
import { Layer, Layers, Loss, Models, Optim, Random, Train, Numerics } from 'lamina-nn'
import { Mnist } from 'lamina-nn/node'

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '10000' },
    checks: { type: 'boolean', default: false },
    model: { type: 'string', default: 'mlp' },
    epochs: { type: 'string', default: '10' },
    every: { type: 'string', default: '1000' },
    limit: { type: 'string' }
  }
})
const gc = (globalThis as { gc?: () => void }).gc
const mib = () => process.memoryUsage().rss / 2 ** 20
const heapMib = () => process.memoryUsage().heapUsed / 2 ** 20
const delta = (a: number, b: number) => `${b - a >= 0 ? '+' : ''}${(b - a).toFixed(1)} MiB`

/** LeNet-5 on full MNIST for `epochs` epochs: memory sampled as it trains, then the drift after the first epoch. */
const lenetRun = (): void => {
  const epochs = Number(values.epochs)
  const every = Number(values.every)
  const limit = values.limit === undefined ? {} : { limit: Number(values.limit) }
  const train = Mnist.loadPart('train', { dtype: 'f32', ...limit })
  if (train._tag === 'Left') throw train.left
  const model = Models.lenet5()
  const [initKey, fitKey] = Random.split(Random.key(0))
  const samples: { step: number; epochEnd: boolean; rss: number; heap: number }[] = []
  const sample = (step: number, epochEnd: boolean, at: string) => {
    gc?.()
    samples.push({ step, epochEnd, rss: mib(), heap: heapMib() })
    console.log(`${at.padEnd(22)} rss ${mib().toFixed(1)} MiB, heap ${heapMib().toFixed(1)} MiB`)
  }
  let done = 0
  sample(0, false, 'start')
  const started = performance.now()
  Train.fit({
    model,
    params: model.init(initKey!, 'f32'),
    optimizer: Optim.adam({ lr: 1e-3 }),
    loss: Loss.crossEntropyWithLogits,
    data: train.right,
    epochs,
    batchSize: 64,
    key: fitKey!,
    onBatch: ({ epoch }) => {
      done++
      if (done % every === 0) sample(done, false, `epoch ${epoch}, step ${done}:`)
    },
    onEpoch: ({ epoch, loss }) => sample(done, true, `end of epoch ${epoch} (loss ${loss.toFixed(4)}):`)
  })
  const seconds = (performance.now() - started) / 1000
  // from the end of the first epoch (buffers and caches warmed) to the end of the run
  const first = samples.find((s) => s.epochEnd)!
  const last = samples[samples.length - 1]!
  const rss = samples.filter((s) => s.step >= first.step).map((s) => s.rss)
  console.log(
    `LeNet-5, ${epochs} epochs (${done} steps of 64, ${train.right.labels.length} digits) in ${seconds.toFixed(0)} s; from the end of epoch 1 to the end: ` +
      `JS heap ${first.heap.toFixed(1)} → ${last.heap.toFixed(1)} MiB (${delta(first.heap, last.heap)}), rss ${first.rss.toFixed(1)} → ${last.rss.toFixed(1)} MiB (${delta(first.rss, last.rss)}), ` +
      `rss range ${Math.min(...rss).toFixed(1)}–${Math.max(...rss).toFixed(1)} MiB over ${rss.length} samples` +
      (gc ? '' : ' — run with --expose-gc for steadier numbers')
  )
}

if (values.model === 'lenet') {
  lenetRun()
  process.exit(0)
}
if (values.model !== 'mlp') throw new Error(`--model must be mlp or lenet, got ${JSON.stringify(values.model)}`)
const steps = Number(values.steps)
const model = Layer.sequential(Layers.dense(16, 32), Layers.relu(), Layers.dense(32, 4))
const optimizer = Optim.adam({ lr: 1e-3 })
const data = {
  x: Random.normal(Random.key(1), [32, 16]),
  labels: Int32Array.from({ length: 32 }, (_, i) => i % 4)
}
let params = model.init(Random.key(0))
let state = model.initState()
let optimizerState = optimizer.init(params)
const samples: [number, number, number][] = []
Numerics.setChecks(values.checks)
const started = performance.now()
for (let step = 0; step <= steps; step++) {
  if (step % 1000 === 0) {
    gc?.()
    samples.push([step, mib(), process.memoryUsage().heapUsed / 2 ** 20])
    console.log(`step ${String(step).padStart(6)}: rss ${mib().toFixed(1)} MiB, heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(1)} MiB`)
  }
  if (step === steps) break
  const next = Train.step(model, params, state, optimizer, optimizerState, Loss.crossEntropyWithLogits, data, Random.key(step))
  params = next.params
  state = next.state
  optimizerState = next.optimizerState
}
const seconds = (performance.now() - started) / 1000
const [, rss1, heap1] = samples[1] ?? samples[0]!
const [, rss2, heap2] = samples[samples.length - 1]!
console.log(
  `${steps} steps in ${seconds.toFixed(1)} s (${((seconds / steps) * 1e3).toFixed(3)} ms/step); from step 1000 to the end: ` +
    `JS heap ${heap1.toFixed(1)} → ${heap2.toFixed(1)} MiB (${delta(heap1, heap2)}), rss ${rss1.toFixed(1)} → ${rss2.toFixed(1)} MiB (${delta(rss1, rss2)})` +
    (gc ? '' : ' — run with --expose-gc for steadier numbers')
)
