/**
 * W2 through the compiled interpreter: training samples per second of the MLP 784-128-10
 * (ReLU, softmax cross-entropy, SGD lr 0.01 — or Adam), batch 128, as one GPU.js pipeline
 * running `steps` minibatches per call, against the eager interpreter on the cpu backend in
 * float32 (`Train.step`), same data, back to back in one process.
 *
 *   node --import tsx --conditions=lamina-src bench/compiled.ts [--steps 10] [--calls 7] [--adam] [--no-threads] [--json]
 *     [--mode webasm|headlessgl|…] [--input 784] [--hidden 128] [--batch 128]
 *
 * headlessgl needs an X display: `xvfb-run -a node …`.
 *
 * `benchCompiledStep` is what `bench/index.ts` can call to add the row to its table.
 */
import { parseArgs } from 'node:util'
import { pathToFileURL } from 'node:url'
import { Layer, Layers, Loss, Optim, Random, Train, fromBuffer } from 'lamina-nn'
import { compile } from 'lamina-nn/gpu'
import type { CompiledMode, ExecutorKind } from 'lamina-nn/gpu'

/** Options of {@link benchCompiledStep}. */
export interface CompiledBenchOptions {
  /** The GPU.js mode of the compiled step (default `'webasm'`). */
  readonly mode?: CompiledMode
  readonly input?: number
  readonly hidden?: number
  readonly batch?: number
  /** Minibatches per pipeline call (default 10). */
  readonly steps?: number
  /** Timed pipeline calls (default 7); the eager side times `calls · steps` steps. */
  readonly calls?: number
  readonly optimizer?: 'sgd' | 'adam'
  /** webasm worker threads (default true). */
  readonly threads?: boolean
}

/** Medians of the timed runs, and where the compiled step ran. */
export interface CompiledBenchResult {
  readonly compiledSamplesPerSecond: number
  readonly eagerSamplesPerSecond: number
  /** compiled ÷ eager throughput: above 1 the compiled step is faster. */
  readonly ratio: number
  readonly executorKind: ExecutorKind
  readonly backend: string
  readonly fallbackReason: string | null
  readonly compileMs: number
  readonly kernelsPerStep: number
  /** Fastest and slowest compiled call, in samples/s. */
  readonly compiledSpread: readonly [number, number]
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

/** Samples per second of the compiled training step and of the eager one (see the module comment). */
export const benchCompiledStep = async (options: CompiledBenchOptions = {}): Promise<CompiledBenchResult> => {
  const input = options.input ?? 784
  const hidden = options.hidden ?? 128
  const batch = options.batch ?? 128
  const steps = options.steps ?? 10
  const calls = options.calls ?? 7
  const model = Layer.sequential(Layers.dense(input, hidden), Layers.relu(), Layers.dense(hidden, 10))
  const optimizer = (options.optimizer === 'adam' ? Optim.adam({ lr: 0.001 }) : Optim.sgd({ lr: 0.01 })) as Optim.Optimizer<{ readonly step: number }>
  const params = model.init(Random.key(0), 'f32')
  const x = fromBuffer(Random.uniform(Random.key(1), [steps * batch * input]).data, [steps, batch, input], { dtype: 'f32' })
  const labels = Int32Array.from(Random.uniform(Random.key(2), [steps * batch]).data, (u) => Math.min(9, Math.floor(u * 10)))

  const started = performance.now()
  const compiled = await compile(model, Loss.crossEntropyWithLogits, optimizer, { batch, steps, threads: options.threads ?? true, mode: options.mode ?? 'webasm' })()
  if (compiled._tag === 'Left') throw compiled.left
  const compileMs = performance.now() - started
  const step = compiled.right
  const perCall: number[] = []
  try {
    let state = { params, optimizerState: optimizer.init(params) }
    for (let c = 0; c < calls + 2; c++) {
      const t = performance.now()
      const out = await step.run(state, { x, labels })()
      if (out._tag === 'Left') throw out.left
      if (c >= 2) perCall.push(performance.now() - t) // two warm-up calls
      state = out.right
    }
  } finally {
    await step.dispose()()
  }

  // the eager interpreter on the same minibatches, one Train.step each
  const batches = Array.from({ length: steps }, (_, s) => ({
    x: fromBuffer((x.data as Float32Array).subarray(s * batch * input, (s + 1) * batch * input), [batch, input], { dtype: 'f32' }),
    labels: labels.subarray(s * batch, (s + 1) * batch)
  }))
  const perStep: number[] = []
  let eagerParams = params
  let eagerState = optimizer.init(params)
  for (let i = 0; i < (calls + 2) * steps; i++) {
    const t = performance.now()
    const r = Train.step(model, eagerParams, model.initState(), optimizer, eagerState, Loss.crossEntropyWithLogits, batches[i % steps]!, Random.key(i))
    if (i >= 2 * steps) perStep.push(performance.now() - t)
    eagerParams = r.params
    eagerState = r.optimizerState
  }
  const compiledSamplesPerSecond = (steps * batch) / (median(perCall) / 1000)
  const eagerSamplesPerSecond = batch / (median(perStep) / 1000)
  return {
    compiledSamplesPerSecond,
    eagerSamplesPerSecond,
    ratio: compiledSamplesPerSecond / eagerSamplesPerSecond,
    executorKind: step.executorKind,
    backend: step.backend,
    fallbackReason: step.fallbackReason,
    compileMs,
    kernelsPerStep: step.stats.kernelsPerStep,
    compiledSpread: [(steps * batch) / (Math.min(...perCall) / 1000), (steps * batch) / (Math.max(...perCall) / 1000)]
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      steps: { type: 'string' },
      calls: { type: 'string' },
      adam: { type: 'boolean', default: false },
      'no-threads': { type: 'boolean', default: false },
      mode: { type: 'string' },
      input: { type: 'string' },
      hidden: { type: 'string' },
      batch: { type: 'string' },
      json: { type: 'boolean', default: false }
    }
  })
  const r = await benchCompiledStep({
    steps: values.steps === undefined ? undefined : Number(values.steps),
    calls: values.calls === undefined ? undefined : Number(values.calls),
    optimizer: values.adam === true ? 'adam' : 'sgd',
    threads: values['no-threads'] !== true,
    mode: values.mode as CompiledMode | undefined,
    input: values.input === undefined ? undefined : Number(values.input),
    hidden: values.hidden === undefined ? undefined : Number(values.hidden),
    batch: values.batch === undefined ? undefined : Number(values.batch)
  })
  if (values.json === true) console.log(JSON.stringify(r))
  else {
    const f = (n: number): string => Math.round(n).toLocaleString('en-US')
    console.log(`W2 compiled (${r.executorKind} on ${r.backend}${r.fallbackReason === null ? '' : `, ${r.fallbackReason}`}; ${r.kernelsPerStep} kernels per step, compiled in ${f(r.compileMs)} ms)`)
    console.log(`  compiled  ${f(r.compiledSamplesPerSecond)} samples/s  (spread ${f(r.compiledSpread[1])} … ${f(r.compiledSpread[0])})`)
    console.log(`  eager cpu ${f(r.eagerSamplesPerSecond)} samples/s`)
    console.log(`  compiled ÷ eager ${r.ratio.toFixed(2)}`)
  }
}
