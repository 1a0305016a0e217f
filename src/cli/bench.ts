/**
 * `lamina bench [--steps N] [--json]`: the memory benchmark's loop (bench/memory.ts, `npm run
 * bench:memory`): a small MLP trained eagerly for N steps, with the resident set size and the
 * JS heap sampled ten times. Flat figures mean no leak. A fuller benchmark is another issue.
 *
 * @module
 */
import * as Random from '../random.js'
import * as Layer from '../nn/layer.js'
import * as Layers from '../nn/layers.js'
import * as Loss from '../nn/losses.js'
import * as Optim from '../nn/optim.js'
import { step } from '../nn/train.js'
import { ExitCode } from './command.js'
import type { Subcommand } from './command.js'
import { intOption } from './options.js'

interface BenchCliOptions {
  readonly steps: string
  readonly seed: string
  readonly json?: boolean
}

/** One sample: the step and the memory in MiB. */
export interface BenchSample {
  readonly step: number
  readonly rssMiB: number
  readonly heapMiB: number
}

/** `lamina bench`. */
export const benchCommand: Subcommand = (program, { io, exit }) => {
  program
    .command('bench')
    .summary('run the memory benchmark loop (see also npm run bench:memory)')
    .description(
      'Train a 16-32-4 MLP eagerly for --steps steps (Adam, one batch of 32) and print the resident set size and JS heap, sampled ten times, and the time per step. Flat memory means no leak. For the full benchmark (10,000 steps, with --expose-gc for steady figures) run npm run bench:memory.'
    )
    .option('--steps <n>', 'training steps', '1000')
    .option('--seed <n>', 'seed of the weights and the data', '0')
    .option('--json', 'print the samples and timings as JSON')
    .action((options: BenchCliOptions) => {
      const steps = intOption('--steps', options.steps, 1)
      const seed = intOption('--seed', options.seed, 0)
      const model = Layer.sequential(Layers.dense(16, 32), Layers.relu(), Layers.dense(32, 4))
      const optimizer = Optim.adam({ lr: 1e-3 })
      const [initKey, dataKey] = Random.split(Random.key(seed))
      const data = { x: Random.normal(dataKey!, [32, 16]), labels: Int32Array.from({ length: 32 }, (_, i) => i % 4) }
      let params = model.init(initKey!)
      let state = model.initState()
      let optimizerState = optimizer.init(params)
      const gc = (globalThis as { gc?: () => void }).gc
      const every = Math.max(1, Math.floor(steps / 10))
      const samples: BenchSample[] = []
      const sample = (s: number) => {
        gc?.()
        const m = process.memoryUsage()
        samples.push({ step: s, rssMiB: m.rss / 2 ** 20, heapMiB: m.heapUsed / 2 ** 20 })
      }
      const started = performance.now()
      for (let s = 0; s < steps; s++) {
        if (s % every === 0) sample(s)
        const next = step(model, params, state, optimizer, optimizerState, Loss.crossEntropyWithLogits, data, Random.key(s))
        params = next.params
        state = next.state
        optimizerState = next.optimizerState
      }
      sample(steps)
      const seconds = (performance.now() - started) / 1000
      if (options.json === true) {
        io.stdout(`${JSON.stringify({ steps, seconds, msPerStep: (seconds / steps) * 1e3, gc: gc !== undefined, samples }, null, 2)}\n`)
      } else {
        for (const x of samples) io.stdout(`step ${String(x.step).padStart(7)}: rss ${x.rssMiB.toFixed(1)} MiB, heap ${x.heapMiB.toFixed(1)} MiB\n`)
        const first = samples[1] ?? samples[0]!
        const last = samples[samples.length - 1]!
        io.stdout(
          `${steps} steps in ${seconds.toFixed(2)} s (${((seconds / steps) * 1e3).toFixed(3)} ms/step); heap ${first.heapMiB.toFixed(1)} → ${last.heapMiB.toFixed(1)} MiB` +
            `${gc === undefined ? ' (run node with --expose-gc for steadier figures)' : ''}\nthe full benchmark: npm run bench:memory\n`
        )
      }
      exit(ExitCode.ok)
    })
}
