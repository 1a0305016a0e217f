// Memory of a long eager training run: a small MLP trained for 10,000 steps on the cpu
// backend; prints the resident set size every 1,000 steps. Flat means no leak: every
// step's tensors and tape become garbage once the step returns.
//
//   npx tsx --conditions=lamina-src --expose-gc bench/memory.ts [--steps N]
import { parseArgs } from 'node:util'
import { Layer, Layers, Loss, Optim, Random, Train, Numerics } from 'lamina-nn'

const { values } = parseArgs({ options: { steps: { type: 'string', default: '10000' }, checks: { type: 'boolean', default: false } } })
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
const gc = (globalThis as { gc?: () => void }).gc
const mib = () => process.memoryUsage().rss / 2 ** 20
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
const delta = (a: number, b: number) => `${b - a >= 0 ? '+' : ''}${(b - a).toFixed(1)} MiB`
console.log(
  `${steps} steps in ${seconds.toFixed(1)} s (${((seconds / steps) * 1e3).toFixed(3)} ms/step); from step 1000 to the end: ` +
    `JS heap ${heap1.toFixed(1)} → ${heap2.toFixed(1)} MiB (${delta(heap1, heap2)}), rss ${rss1.toFixed(1)} → ${rss2.toFixed(1)} MiB (${delta(rss1, rss2)})` +
    (gc ? '' : ' — run with --expose-gc for steadier numbers')
)
