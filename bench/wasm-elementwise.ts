/**
 * The float32 elementwise work of an MLP step: lamina's cpu backend against TensorFlow.js
 * 4.22's wasm backend in the same process, one thread each, on bench/index.ts's W3 and W2
 * workloads (MLP 784-128-10, ReLU; W3 the forward pass at batch 1024, W2 one SGD training step
 * with softmax cross-entropy at batch 128), then single kernels on the [1024, 128] activations.
 *
 *   npx tsx --conditions=lamina-src bench/wasm-elementwise.ts [--calls 300] [--rounds 9] [--only w3,w2,ops]
 *
 * W3 and W2 alternate single calls (lamina, tfjs, lamina, …) and time each by this process's CPU
 * time (user + system): load from other processes on a shared machine then hits both members of
 * a pair alike, and the median of the per-pair ratios is what to read (p25–p75 beside it). The
 * kernels are timed in alternating rounds of many calls, as bench/wasm-matmul.ts does.
 */
import { Layer, Loss, Optim, Random, Train, cpu, fromBuffer } from 'lamina-nn'
import { HID, IN, INFER_BATCH, LR, OUT, TRAIN_BATCH, f32, labelsTrain, model, oneHotTrain, params0, tfLogits, tfVariables, tfWasmDir, xInfer, xTrain } from './workload.js'
import type { TfVariables } from './workload.js'

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : undefined
}
const calls = Number(arg('calls') ?? 300)
const rounds = Number(arg('rounds') ?? 9)
const only = new Set((arg('only') ?? 'w3,w2,ops').split(','))

/** The value at quantile `q` (0…1) of `xs`. */
const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((x, y) => x - y)
  return s[Math.floor(q * (s.length - 1))]!
}
const median = (xs: readonly number[]): number => quantile(xs, 0.5)

const cpuMs = (fn: () => void): number => {
  const c0 = process.cpuUsage()
  fn()
  const used = process.cpuUsage(c0)
  return (used.user + used.system) / 1000
}

/** Alternates single calls of `lamina` and `tfjs`; prints CPU ms per call and the per-pair ratio. */
const pairs = (title: string, lamina: () => void, tfjs: () => void): void => {
  for (let i = 0; i < 10; i++) {
    lamina()
    tfjs()
  }
  const ours: number[] = []
  const theirs: number[] = []
  for (let i = 0; i < calls; i++) {
    ours.push(cpuMs(lamina))
    theirs.push(cpuMs(tfjs))
  }
  const ratios = ours.map((t, i) => theirs[i]! / t)
  console.log(title)
  console.log(`  lamina cpu f32 ${median(ours).toFixed(3).padStart(8)} ms   tfjs wasm ${median(theirs).toFixed(3).padStart(8)} ms   (medians of ${calls} alternating calls)`)
  console.log(
    `  tfjs ÷ lamina (>1: lamina faster): median of per-pair ratios ${median(ratios).toFixed(2)}, ` +
      `p25–p75 ${quantile(ratios, 0.25).toFixed(2)}–${quantile(ratios, 0.75).toFixed(2)}`
  )
}

/** CPU milliseconds per call: the mean over enough calls to fill ~`targetMs` of CPU time. */
const perCall = (fn: () => void, targetMs: number): number => {
  let reps = 1
  for (;;) {
    const c0 = process.cpuUsage()
    for (let i = 0; i < reps; i++) fn()
    const used = process.cpuUsage(c0)
    const ms = (used.user + used.system) / 1000
    if (ms >= targetMs || reps >= 1 << 16) return ms / reps
    reps *= ms > 0 ? Math.min(8, Math.max(2, Math.ceil(targetMs / ms))) : 8
  }
}

/** Times the named thunks in alternating rounds; prints the median and min–max of each. */
const rows = (title: string, thunks: ReadonlyArray<readonly [string, () => void]>, targetMs: number): void => {
  for (const [, fn] of thunks) perCall(fn, targetMs)
  const samples = thunks.map(() => [] as number[])
  for (let r = 0; r < rounds; r++) thunks.forEach(([, fn], i) => samples[i]!.push(perCall(fn, targetMs)))
  console.log(title)
  thunks.forEach(([name], i) => {
    const s = samples[i]!
    console.log(`  ${name.padEnd(34)} ${median(s).toFixed(3).padStart(8)} ms   (${Math.min(...s).toFixed(3)}–${Math.max(...s).toFixed(3)})`)
  })
}


const tf = await import('@tensorflow/tfjs')
const tfWasm = await import('@tensorflow/tfjs-backend-wasm')
tfWasm.setWasmPaths(tfWasmDir())
if (!(await tf.setBackend('wasm'))) throw new Error("tf.setBackend('wasm') failed")
await tf.ready()
console.log(`node ${process.version}; tfjs wasm: ${tfWasm.getThreadsCount()} thread(s); CPU ms per call`)

const vars = () => tfVariables(tf)
const logits = (v: TfVariables, input: import('@tensorflow/tfjs').Tensor2D) => tfLogits(tf, v, input)

if (only.has('w3')) {
  const xi = fromBuffer(xInfer, [INFER_BATCH, IN], { dtype: 'f32' })
  const txi = tf.tensor2d(xInfer, [INFER_BATCH, IN])
  const v0 = vars()
  // agree before timing
  const mine = Layer.apply(model, params0, xi).data
  const theirs = tf.tidy(() => logits(v0, txi).dataSync())
  let worst = 0
  for (let i = 0; i < mine.length; i++) worst = Math.max(worst, Math.abs(mine[i]! - theirs[i]!))
  if (!(worst < 1e-3)) throw new Error(`W3: lamina and tfjs differ by ${worst}`)
  pairs(
    'W3 forward pass, batch 1024',
    () => void Layer.apply(model, params0, xi).data,
    () => tf.tidy(() => void logits(v0, txi).dataSync())
  )
  Object.values(v0).forEach((t) => t.dispose())
  txi.dispose()
}

if (only.has('w2')) {
  const optimizer = Optim.sgd({ lr: LR })
  const data = { x: fromBuffer(xTrain, [TRAIN_BATCH, IN], { dtype: 'f32' }), labels: labelsTrain }
  let params = model.init(Random.key(0), 'f32')
  let state = model.initState()
  let optState = optimizer.init(params)
  let k = 0
  const laminaStep = () => {
    const next = Train.step(model, params, state, optimizer, optState, Loss.crossEntropyWithLogits, data, Random.key(k++))
    params = next.params
    state = next.state
    optState = next.optimizerState
  }
  const x = tf.tensor2d(xTrain, [TRAIN_BATCH, IN])
  const y = tf.tensor2d(oneHotTrain, [TRAIN_BATCH, OUT])
  const v = vars()
  const opt = tf.train.sgd(LR)
  const list = [v.w1, v.b1, v.w2, v.b2]
  const tfStep = () => {
    const cost = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, logits(v, x)) as import('@tensorflow/tfjs').Scalar, true, list)
    cost!.dataSync()
    cost!.dispose()
  }
  pairs('W2 training step, batch 128', laminaStep, tfStep)
  Object.values(v).forEach((t) => t.dispose())
  x.dispose()
  y.dispose()
}

if (only.has('ops')) {
  const n = INFER_BATCH * HID
  const a = f32(3, n)
  const b = f32(4, n)
  const bias = f32(5, HID)
  const ta = tf.tensor2d(a, [INFER_BATCH, HID])
  const tb = tf.tensor2d(b, [INFER_BATCH, HID])
  const tbias = tf.tensor1d(bias)
  const sgd = Optim.sgd({ lr: LR })
  const weights = { w: fromBuffer(f32(6, IN * HID), [IN, HID], { dtype: 'f32' }) }
  const gradient = fromBuffer(f32(7, IN * HID), [IN, HID], { dtype: 'f32' })
  const sgdState = sgd.init(weights)
  rows(`kernels on [1024, 128] float32, CPU ms per call, medians of ${rounds} alternating rounds (tfjs with dataSync)`, [
    ['lamina add', () => void cpu.binary('add', a, b, 'f32')],
    ['lamina mul', () => void cpu.binary('mul', a, b, 'f32')],
    ['lamina maximum', () => void cpu.binary('maximum', a, b, 'f32')],
    ['lamina relu', () => void cpu.unary('relu', a, 'f32')],
    ['lamina broadcast [128]→[1024,128]', () => void cpu.broadcastTo(bias, [HID], [INFER_BATCH, HID], 'f32')],
    ['lamina sum over the batch', () => void cpu.reduce(a, [INFER_BATCH, HID], [0], 'sum', 'f32')],
    ['lamina new Float32Array(n)', () => void new Float32Array(n)],
    ['lamina Optim.sgd update [784, 128]', () => void sgd.update({ w: gradient }, sgdState, weights)],
    ['tfjs add', () => tf.tidy(() => void tf.add(ta, tb).dataSync())],
    ['tfjs add bias (broadcast)', () => tf.tidy(() => void tf.add(ta, tbias).dataSync())],
    ['tfjs relu', () => tf.tidy(() => void tf.relu(ta).dataSync())]
  ], 60)
  ta.dispose()
  tb.dispose()
  tbias.dispose()
}
