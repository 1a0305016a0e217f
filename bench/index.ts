/**
 * The performance table: lamina against its peers on the same work, back to back in one
 * process, float32 everywhere, fixed seeds, the same input buffers for every contender.
 *
 *   npm run bench                 # full run (W5 trains 10,000 steps per contender)
 *   npm run bench -- --quick      # under a minute
 *   npm run bench -- --steps 2000 # W5 step count
 *
 * Workloads:
 * - W1 matrix product n×n·n×n, n = 128…1024: GFLOP/s (2n³ flops per product).
 * - W2 training throughput, MLP 784-128-10 (ReLU, softmax cross-entropy, SGD lr 0.01), batch 128: samples/s.
 * - W3 inference throughput, same MLP, batch 1024: samples/s.
 * - W4 (forward + backward) ÷ forward time, same MLP, batch 128 (the loss included in both).
 * - W5 RSS before and after N training steps (W2's step), after a forced GC.
 *
 * Every figure is the median of repeated timed runs after warm-up runs. Ratio columns are
 * "lamina ÷ peer" of the throughput (GFLOP/s, samples/s): above 1 means lamina is faster.
 */
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { Layer, Layers, Loss, Optim, Random, Train, fromBuffer, matmul, valueAndGrad } from 'lamina'
import type { Tensor } from 'lamina'
import { createGpuBackend } from '../src/backend/gpu.js'

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    steps: { type: 'string' }
  }
})
const quick = args.quick ?? false
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
      : { warmup: 0, minReps: 2, maxReps: 2, minMs: 0 } // W1's correctness-check call before timing is the warm-up
    : cost === 'cheap'
      ? { warmup: 5, minReps: 15, maxReps: 500, minMs: 1500 }
      : { warmup: 2, minReps: 7, maxReps: 20, minMs: 3000 }

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** Median milliseconds of one call of `fn`. */
const time = (fn: () => void, b: Budget): number => {
  for (let i = 0; i < b.warmup; i++) fn()
  const times: number[] = []
  const start = performance.now()
  while (times.length < b.minReps || (times.length < b.maxReps && performance.now() - start < b.minMs)) {
    const t0 = performance.now()
    fn()
    times.push(performance.now() - t0)
  }
  return median(times)
}

// ---------------------------------------------------------------- shared inputs (seeded, f32)

const f32 = (seed: number, n: number, std = 1): Float32Array =>
  Random.normal(Random.key(seed), [n], { dtype: 'f32', std }).data as Float32Array

const matrices = new Map(sizes.map((n) => [n, { a: f32(100 + n, n * n), b: f32(200 + n, n * n) }]))

const IN = 784
const HID = 128
const OUT = 10
const TRAIN_BATCH = 128
const INFER_BATCH = 1024
const LR = 0.01
const xTrain = f32(1, TRAIN_BATCH * IN)
const labelsTrain = Int32Array.from({ length: TRAIN_BATCH }, (_, i) => (i * 7 + 3) % OUT)
const oneHotTrain = new Float32Array(TRAIN_BATCH * OUT)
labelsTrain.forEach((l, i) => (oneHotTrain[i * OUT + l] = 1))
const xInfer = f32(2, INFER_BATCH * IN)

// the initial weights: lamina's seeded Glorot init, copied into every peer that can take them
const model = Layer.sequential(Layers.dense(IN, HID), Layers.relu(), Layers.dense(HID, OUT))
const params0 = model.init(Random.key(0), 'f32')
const init = {
  w1: params0.layers[0].w.data as Float32Array,
  b1: params0.layers[0].b.data as Float32Array,
  w2: params0.layers[2].w.data as Float32Array,
  b2: params0.layers[2].b.data as Float32Array
}

// ---------------------------------------------------------------- contenders

interface Results {
  /** GFLOP/s per n, or a reason it was not run. */
  readonly w1: Map<number, number | string>
  w2?: number | string
  w3?: number | string
  w4?: { fwd: number; fwdBwd: number } | string
  w5?: { before: number; after: number; seconds: number } | string
  note?: string
}
const results = new Map<string, Results>()
const entry = (name: string): Results => {
  let r = results.get(name)
  if (r === undefined) results.set(name, (r = { w1: new Map() }))
  return r
}
const reason = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 120)
const gflops = (n: number, ms: number): number => (2 * n ** 3) / (ms * 1e6)
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
const memory = (stepFn: () => void): { before: number; after: number; seconds: number } => {
  stepFn()
  gc?.()
  const before = mib()
  const t0 = performance.now()
  for (let i = 0; i < memSteps; i++) stepFn()
  const seconds = (performance.now() - t0) / 1000
  gc?.()
  return { before, after: mib(), seconds }
}

// ---- lamina (cpu backend, the one every tensor op runs on)

const runLamina = (): void => {
  const r = entry('lamina cpu')
  for (const n of sizes) {
    const { a, b } = matrices.get(n)!
    const ta = fromBuffer(a, [n, n], { dtype: 'f32' })
    const tb = fromBuffer(b, [n, n], { dtype: 'f32' })
    reference.set(n, matmul(ta, tb).data as Float32Array)
    const ms = time(() => void matmul(ta, tb), budget(n >= 512 ? 'dear' : 'cheap'))
    r.w1.set(n, gflops(n, ms))
    log(`lamina cpu matmul n=${n}: ${ms.toFixed(2)} ms`)
  }
  const optimizer = Optim.sgd({ lr: LR })
  const data = { x: fromBuffer(xTrain, [TRAIN_BATCH, IN], { dtype: 'f32' }), labels: labelsTrain }
  const xi = fromBuffer(xInfer, [INFER_BATCH, IN], { dtype: 'f32' })
  const fresh = () => {
    let params = model.init(Random.key(0), 'f32')
    let state = model.initState()
    let optState = optimizer.init(params)
    let k = 0
    return () => {
      const next = Train.step(model, params, state, optimizer, optState, Loss.crossEntropyWithLogits, data, Random.key(k++))
      params = next.params
      state = next.state
      optState = next.optimizerState
    }
  }
  const step = fresh()
  r.w2 = (TRAIN_BATCH * 1000) / time(step, budget('cheap'))
  log(`lamina W2 done`)
  r.w3 = (INFER_BATCH * 1000) / time(() => void Layer.apply(model, params0, xi).data, budget('cheap'))
  const lossOf = (p: typeof params0): Tensor => Loss.crossEntropyWithLogits(Layer.apply(model, p, data.x), data.labels)
  const fwd = time(() => void lossOf(params0).item(), budget('cheap'))
  const fwdBwd = time(() => {
    const [v, g] = valueAndGrad(lossOf)(params0)
    v.item()
    void g.layers[0].w.data
  }, budget('cheap'))
  r.w4 = { fwd, fwdBwd }
  log(`lamina W3/W4 done`)
  r.w5 = memory(fresh())
  log(`lamina W5 done`)
}

// ---- lamina's GPU.js backend (webasm): W1 only, the tensor ops do not dispatch to it

const runLaminaGpu = async (): Promise<void> => {
  const name = "lamina gpu.js 'webasm'"
  const r = entry(name)
  r.note = 'backend.matmul called directly; tensors do not dispatch to this backend, so W2–W5 are n/a'
  const g = await createGpuBackend({ mode: 'webasm' })
  if (g.mode === 'none') {
    for (const n of sizes) r.w1.set(n, `unavailable: ${g.fallbackReason ?? ''}`)
    return
  }
  try {
    for (const n of sizes) {
      const { a, b } = matrices.get(n)!
      try {
        checkProduct(name, n, g.backend.matmul(a, [n, n], b, [n, n], false, false, 'f32'))
        const ms = time(() => void g.backend.matmul(a, [n, n], b, [n, n], false, false, 'f32'), budget(n >= 512 ? 'dear' : 'cheap'))
        r.w1.set(n, gflops(n, ms))
        log(`${name} matmul n=${n}: ${ms.toFixed(2)} ms`)
      } catch (e) {
        r.w1.set(n, `failed: ${reason(e)}`)
      }
    }
  } finally {
    g.dispose()
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
    const ms = time(() => void product(), budget(n >= 512 ? 'dear' : 'cheap'))
    r.w1.set(n, gflops(n, ms))
    log(`${label} matmul n=${n}: ${ms.toFixed(2)} ms`)
    ta.dispose()
    tb.dispose()
  }
  const vars = () => ({
    w1: tf.variable(tf.tensor2d(init.w1, [IN, HID])),
    b1: tf.variable(tf.tensor1d(init.b1)),
    w2: tf.variable(tf.tensor2d(init.w2, [HID, OUT])),
    b2: tf.variable(tf.tensor1d(init.b2))
  })
  type Vars = ReturnType<typeof vars>
  const x = tf.tensor2d(xTrain, [TRAIN_BATCH, IN])
  const y = tf.tensor2d(oneHotTrain, [TRAIN_BATCH, OUT])
  const xi = tf.tensor2d(xInfer, [INFER_BATCH, IN])
  const logits = (v: Vars, input: import('@tensorflow/tfjs').Tensor2D) => tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(input, v.w1), v.b1)), v.w2), v.b2)
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
  r.w2 = (TRAIN_BATCH * 1000) / time(trainer(v), budget('cheap'))
  dispose(v)
  const v0 = vars()
  r.w3 = (INFER_BATCH * 1000) / time(() => tf.tidy(() => void logits(v0, xi).dataSync()), budget('cheap'))
  const fwd = time(() => tf.tidy(() => void lossOf(v0).dataSync()), budget('cheap'))
  const fwdBwd = time(
    () =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => lossOf(v0), [v0.w1, v0.b1, v0.w2, v0.b2])
        value.dataSync()
        grads[v0.w1.name]!.dataSync()
      }),
    budget('cheap')
  )
  r.w4 = { fwd, fwdBwd }
  dispose(v0)
  log(`${label} W2–W4 done`)
  const v5 = vars()
  r.w5 = memory(trainer(v5))
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
    r.w2 = (TRAIN_BATCH * 1000) / time(step, budget('cheap'))
    r.w3 = (INFER_BATCH * 1000) / time(() => inferRows.forEach((row) => net.run(row)), budget('cheap'))
    r.w4 = 'n/a'
    log(`${label} W2/W3 done`)
    r.w5 = memory(make().step)
    log(`${label} W5 done`)
  } catch (e) {
    r.note = `not run: ${reason(e)}`
  }
}

// ---------------------------------------------------------------- run, in one process

const started = performance.now()
console.log(
  `lamina bench${quick ? ' (--quick)' : ''}: node ${process.version}, float32, seeds fixed; medians of repeated runs after warm-up; ` +
    `W5 ${memSteps} steps${gc ? '' : ' (run with --expose-gc for steadier memory figures)'}`
)
runLamina()
await runLaminaGpu()

let tf: TF | undefined
let tfWasmSetup: string | undefined
try {
  tf = await import('@tensorflow/tfjs')
  const wasm = await import('@tensorflow/tfjs-backend-wasm')
  const require = createRequire(import.meta.url)
  const wasmDir = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/'
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

// ---------------------------------------------------------------- table

const lamina = results.get('lamina cpu')!
const fmt = (v: number, digits = 2): string => (v >= 100 ? v.toFixed(0) : v.toFixed(digits))
const cell = (v: number | string | undefined): string => (v === undefined ? '—' : typeof v === 'number' ? fmt(v) : v)
const ratio = (mine: number | string | undefined, theirs: number | string | undefined): string =>
  typeof mine === 'number' && typeof theirs === 'number' ? `${(mine / theirs).toFixed(2)}×` : '—'

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
  'W1 matrix product n×n · n×n, f32: GFLOP/s (ratio = lamina cpu ÷ contender, >1 means lamina cpu is faster)',
  ['contender', ...sizes.flatMap((n) => [`n=${n}`, 'ratio'])],
  names.map((name) => {
    const r = results.get(name)!
    return [name, ...sizes.flatMap((n) => (r.w1.has(n) ? [cell(r.w1.get(n)), ratio(lamina.w1.get(n), r.w1.get(n))] : ['—', '—']))]
  })
)
const w4ratio = (w: Results['w4']): string | number | undefined => (typeof w === 'object' ? w.fwdBwd / w.fwd : w)
table(
  'W2–W4 MLP 784-128-10 (ReLU, softmax cross-entropy, SGD lr 0.01), f32: throughput in samples/s (ratio = lamina ÷ contender, >1 means lamina is faster)',
  ['contender', 'W2 train b=128', 'ratio', 'W3 infer b=1024', 'ratio', 'W4 fwd ms', 'fwd+bwd ms', '(fwd+bwd)÷fwd'],
  names
    .filter((name) => results.get(name)!.w2 !== undefined || results.get(name)!.note?.startsWith('not run'))
    .map((name) => {
      const r = results.get(name)!
      if (r.w2 === undefined) return [name, r.note ?? '—', '', '', '', '', '', '']
      const w4 = r.w4
      return [
        name,
        cell(r.w2),
        ratio(lamina.w2, r.w2),
        cell(r.w3),
        ratio(lamina.w3, r.w3),
        typeof w4 === 'object' ? w4.fwd.toFixed(3) : cell(w4),
        typeof w4 === 'object' ? w4.fwdBwd.toFixed(3) : '—',
        typeof w4ratio(w4) === 'number' ? (w4ratio(w4) as number).toFixed(2) : cell(w4ratio(w4))
      ]
    })
)
table(
  `W5 memory: RSS (MiB) before and after ${memSteps} training steps (W2's step), GC forced before each reading`,
  ['contender', 'before', 'after', 'delta', 'ms/step'],
  names
    .filter((name) => results.get(name)!.w5 !== undefined)
    .map((name) => {
      const w = results.get(name)!.w5!
      if (typeof w === 'string') return [name, w, '', '', '']
      const d = w.after - w.before
      return [name, w.before.toFixed(1), w.after.toFixed(1), `${d >= 0 ? '+' : ''}${d.toFixed(1)}`, ((w.seconds * 1000) / memSteps).toFixed(3)]
    })
)
console.log('\nNotes:')
for (const name of names) {
  const note = results.get(name)!.note
  if (note !== undefined) console.log(`- ${name.startsWith('brain.js') && note.startsWith('not run') ? `brain.js: ${note}` : `${name}: ${note}`}`)
}
if (tfWasmSetup !== undefined) console.log(`- tfjs wasm: ${tfWasmSetup}`)
console.log(`- (fwd+bwd)÷fwd: seed 001's rule of thumb is about 2–3; both timings include the loss.`)
console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(1)} s`)
