/**
 * W7 and W8: LeNet-5 on 28×28 digits (conv 5×5 padding 2 → 6 → max-pool 2 → conv 5×5 → 16 →
 * max-pool 2 → 400-120-84-10, ReLU, softmax cross-entropy, Adam lr 1e-3), float32, the same
 * seeded inputs for every contender, one thread.
 * - W7: training samples/s at batch 64.
 * - W8: inference samples/s at batch 1,024.
 * Peers: TensorFlow.js cpu (pure JS) trains and infers; TensorFlow.js wasm is asked to train
 * too, and its error is reported (4.22 has no Conv2DBackpropFilter kernel on wasm); PyTorch
 * runs on one thread when `python3 -c 'import torch'` works (PATH's python3, else /usr/bin/python3), and is skipped with the reason
 * otherwise.
 *
 *   node --expose-gc --import tsx --conditions=lamina-src bench/lenet.ts [--quick] [--json] [--rounds N]
 *
 * After the table, W7 is run again against PyTorch in N alternations (default 5, 2 with --quick),
 * so that a shared machine's load falls on both alike; `--json` adds `W7_vs_torch_alternating`.
 *
 * `npm run bench` runs it too (bench/index.ts), after W1–W5.
 */
import { spawnSync } from 'node:child_process'
import { parseArgs } from 'node:util'
import { Layer, Loss, Models, Optim, Random, Train, fromBuffer } from 'lamina-nn'
import { f32, tfWasmDir } from './workload.js'

export const LENET_BATCH = 64
export const LENET_INFER_BATCH = 1024
export const LENET_LR = 1e-3

/** LeNet-5 for MNIST's 28×28 digits (the library's `Models.lenet5`), as PyTorch's and TF.js's versions below build it. */
export const lenet5 = Models.lenet5()

/** Seeded digit-like inputs in (0, 1) and labels, as plain arrays and as lamina tensors. */
export const lenetInputs = () => {
  const squash = (v: Float32Array) => v.map((x) => 1 / (1 + Math.exp(-x)))
  const xs = squash(f32(11, LENET_BATCH * 784))
  const xsInfer = squash(f32(12, LENET_INFER_BATCH * 784))
  const labels = Int32Array.from({ length: LENET_BATCH }, (_, i) => (i * 7 + 3) % 10)
  return {
    xs,
    xsInfer,
    labels,
    x: fromBuffer(xs, [LENET_BATCH, 784], { dtype: 'f32' }),
    xInfer: fromBuffer(xsInfer, [LENET_INFER_BATCH, 784], { dtype: 'f32' })
  }
}

/** A figure: the median of timed runs and the spread (fastest, slowest), per second. */
export interface LenetFigure {
  readonly value: number
  readonly low: number
  readonly high: number
  readonly reps: number
}
/** A contender's W7 and W8, or why there is none. */
export interface LenetRow {
  readonly name: string
  readonly w7: LenetFigure | string
  readonly w8: LenetFigure | string
  readonly note?: string
}

const reason = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 140)

/** Times `fn` (after `warmup` calls) until `minMs` have passed and at least `minReps` runs; samples/s of `batch` per call. */
const timed = async (fn: () => unknown, batch: number, b: { warmup: number; minReps: number; maxReps: number; minMs: number }): Promise<LenetFigure> => {
  for (let i = 0; i < b.warmup; i++) await fn()
  const times: number[] = []
  const start = performance.now()
  while (times.length < b.minReps || (times.length < b.maxReps && performance.now() - start < b.minMs)) {
    const t0 = performance.now()
    await fn()
    times.push(performance.now() - t0)
  }
  const s = [...times].sort((a, c) => a - c)
  const median = s.length % 2 === 1 ? s[s.length >> 1]! : (s[(s.length >> 1) - 1]! + s[s.length >> 1]!) / 2
  const per = (ms: number) => (batch * 1000) / ms
  return { value: per(median), low: per(s[s.length - 1]!), high: per(s[0]!), reps: s.length }
}

const budgets = (quick: boolean, slow: boolean) =>
  slow
    ? { warmup: 1, minReps: quick ? 2 : 3, maxReps: quick ? 2 : 5, minMs: 0 }
    : quick
      ? { warmup: 3, minReps: 5, maxReps: 30, minMs: 1000 }
      : { warmup: 5, minReps: 15, maxReps: 400, minMs: 4000 }

/** A LeNet-5 trainer on the seeded inputs: one Adam step per call, and the current parameters. */
const lenetTrainer = () => {
  const { x, labels } = lenetInputs()
  const optimizer = Optim.adam({ lr: LENET_LR })
  let params = lenet5.init(Random.key(0), 'f32')
  let state = lenet5.initState()
  let optState = optimizer.init(params)
  let k = 0
  const step = () => {
    const next = Train.step(lenet5, params, state, optimizer, optState, Loss.crossEntropyWithLogits, { x, labels }, Random.key(k++))
    params = next.params
    state = next.state
    optState = next.optimizerState
  }
  return { step, params: () => params }
}

/** lamina's eager interpreter on the cpu backend. */
export const runLenetLamina = async (quick: boolean): Promise<LenetRow> => {
  const { xInfer } = lenetInputs()
  const trainer = lenetTrainer()
  const w7 = await timed(trainer.step, LENET_BATCH, budgets(quick, false))
  const w8 = await timed(() => void Layer.apply(lenet5, trainer.params(), xInfer).data, LENET_INFER_BATCH, { ...budgets(quick, false), minReps: quick ? 3 : 7, maxReps: quick ? 5 : 30 })
  return { name: 'lamina cpu', w7, w8 }
}

type TF = typeof import('@tensorflow/tfjs')

/** The same network in TensorFlow.js layers (NHWC, its native layout). */
const tfModel = (tf: TF) => {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 6, kernelSize: 5, padding: 'same', activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 16, kernelSize: 5, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 120, activation: 'relu' }),
      tf.layers.dense({ units: 84, activation: 'relu' }),
      tf.layers.dense({ units: 10 })
    ]
  })
  model.compile({ optimizer: tf.train.adam(LENET_LR), loss: (y, logits) => tf.losses.softmaxCrossEntropy(y, logits) })
  return model
}

/** TensorFlow.js on its `cpu` or `wasm` backend (the caller has registered the wasm binaries). */
export const runLenetTf = async (tf: TF, backend: 'cpu' | 'wasm', quick: boolean): Promise<LenetRow> => {
  const name = `tfjs 4.22 ${backend}`
  try {
    if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend('${backend}') returned false`)
    await tf.ready()
  } catch (e) {
    return { name, w7: `not run: ${reason(e)}`, w8: `not run: ${reason(e)}` }
  }
  const { xs, xsInfer, labels } = lenetInputs()
  const model = tfModel(tf)
  const x = tf.tensor4d(xs, [LENET_BATCH, 28, 28, 1])
  const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 10).toFloat()
  const xi = tf.tensor4d(xsInfer, [LENET_INFER_BATCH, 28, 28, 1])
  // the pure-JS backend takes seconds per step: a few timed runs
  const slow = backend === 'cpu'
  let w7: LenetFigure | string
  try {
    w7 = await timed(async () => void (await model.trainOnBatch(x, y)), LENET_BATCH, budgets(quick, slow))
  } catch (e) {
    w7 = `cannot train: ${reason(e)}`
  }
  const w8 = await timed(() => tf.tidy(() => void (model.predict(xi) as import('@tensorflow/tfjs').Tensor).dataSync()), LENET_INFER_BATCH, budgets(quick, slow))
  x.dispose()
  y.dispose()
  xi.dispose()
  model.dispose()
  return { name, w7, w8 }
}

/** PyTorch's figures on one CPU thread, by a script given to python3 (same network, sizes, optimizer). */
const torchScript = `
import json, time, torch, torch.nn as nn
torch.set_num_threads(1); torch.manual_seed(0)
quick = QUICK
net = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
opt = torch.optim.Adam(net.parameters(), lr=${LENET_LR})
x = torch.rand(${LENET_BATCH}, 1, 28, 28); y = torch.arange(${LENET_BATCH}) * 7 % 10; xi = torch.rand(${LENET_INFER_BATCH}, 1, 28, 28)
loss_fn = nn.CrossEntropyLoss()
def step():
    opt.zero_grad(); loss = loss_fn(net(x), y); loss.backward(); opt.step()
def infer():
    with torch.no_grad(): net(xi)
def timed(fn, batch, reps, warm):
    for _ in range(warm): fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter(); fn(); ts.append(time.perf_counter() - t0)
    ts.sort(); med = ts[len(ts) // 2]
    return {"value": batch / med, "low": batch / ts[-1], "high": batch / ts[0], "reps": reps}
print(json.dumps({"torch": torch.__version__, "w7": timed(step, ${LENET_BATCH}, 15 if quick else 60, 5), "w8": timed(infer, ${LENET_INFER_BATCH}, 5 if quick else 15, 2)}))
`

/**
 * The python3 that imports torch, or why none does: probed once per process (each import of
 * torch takes seconds). Debian's python3-torch lives in /usr/bin's python3, which a pyenv
 * python3 on PATH can hide.
 */
let torchProbe: { readonly python: string } | { readonly why: string } | undefined
const torchPython = (): { readonly python: string } | { readonly why: string } => {
  if (torchProbe !== undefined) return torchProbe
  let why = ''
  for (const python of ['python3', '/usr/bin/python3']) {
    const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8', timeout: 120_000 })
    if (probe.error === undefined && probe.status === 0) return (torchProbe = { python })
    why ||=
      probe.error !== undefined
        ? `python3 did not run: ${probe.error.message}`
        : `python3 -c 'import torch' failed: ${(probe.stderr.trim().split('\n').pop() ?? '').slice(0, 100)}`
  }
  return (torchProbe = { why })
}

/** PyTorch CPU on one thread, or the reason it did not run. */
export const runLenetTorch = (quick: boolean): LenetRow => {
  const name = 'pytorch cpu (1 thread)'
  const found = torchPython()
  if ('why' in found) return { name, w7: `skipped: ${found.why}`, w8: 'skipped' }
  const { python } = found
  const run = spawnSync(python, ['-c', torchScript.replace('QUICK', quick ? 'True' : 'False')], { encoding: 'utf8', timeout: 600_000 })
  try {
    const out = JSON.parse(run.stdout.trim().split('\n').pop() ?? '') as { torch: string; w7: LenetFigure; w8: LenetFigure }
    return { name, w7: out.w7, w8: out.w8, note: `torch ${out.torch}` }
  } catch {
    return { name, w7: `failed: ${(run.stderr || run.stdout).trim().split('\n').pop()?.slice(0, 120) ?? 'no output'}`, w8: 'failed' }
  }
}

/** W7 of lamina and PyTorch in alternation, one after the other each round. */
export interface W7Alternation {
  readonly rounds: readonly { readonly lamina: number; readonly torch: number; readonly ratio: number }[]
  /** The median of the rounds' ratios (lamina ÷ PyTorch). */
  readonly ratio: number
}

/**
 * W7 against PyTorch in `rounds` alternations (lamina's steps, then PyTorch's, then lamina's
 * again…), so a shared machine's load falls on both alike: each round's ratio of medians, and
 * their median. `undefined` when PyTorch does not import.
 */
export const alternateW7 = async (rounds: number, log: (s: string) => void = () => undefined): Promise<W7Alternation | undefined> => {
  const found = torchPython()
  if ('why' in found) return undefined
  const { python } = found
  const trainer = lenetTrainer()
  const script = torchScript.replace('QUICK', 'True')
  const results: { lamina: number; torch: number; ratio: number }[] = []
  for (let r = 0; r < rounds; r++) {
    const lamina = (await timed(trainer.step, LENET_BATCH, { warmup: 3, minReps: 15, maxReps: 15, minMs: 0 })).value
    const run = spawnSync(python, ['-c', script], { encoding: 'utf8', timeout: 600_000 })
    const torch = (JSON.parse(run.stdout.trim().split('\n').pop() ?? '') as { w7: LenetFigure }).w7.value
    results.push({ lamina, torch, ratio: lamina / torch })
    log(`W7 alternation ${r + 1}/${rounds}: lamina ${fmt(lamina)}, torch ${fmt(torch)} samples/s (${(lamina / torch).toFixed(2)}×)`)
  }
  const ratios = results.map((x) => x.ratio).sort((a, b) => a - b)
  return { rounds: results, ratio: ratios[ratios.length >> 1]! }
}

/** Prints the alternation's rounds and median ratio. */
export const printW7Alternation = (a: W7Alternation): void => {
  const ratios = a.rounds.map((x) => x.ratio)
  console.log(
    `W7 in alternation with PyTorch (15 steps each, ${a.rounds.length} rounds): lamina ÷ torch median ${a.ratio.toFixed(2)}× (rounds ${ratios.map((q) => q.toFixed(2)).join(', ')}; ` +
      `lamina ${a.rounds.map((x) => fmt(x.lamina)).join(', ')}; torch ${a.rounds.map((x) => fmt(x.torch)).join(', ')} samples/s)`
  )
}

/** Every contender's W7 and W8, in one process (TF.js loaded by the caller or here). */
export const runLenetBench = async (options: { readonly quick: boolean; readonly tf?: TF; readonly log?: (s: string) => void }): Promise<LenetRow[]> => {
  const log = options.log ?? (() => undefined)
  const rows: LenetRow[] = [await runLenetLamina(options.quick)]
  log('lamina cpu W7/W8 done')
  let tf = options.tf
  if (tf === undefined) {
    try {
      tf = await import('@tensorflow/tfjs')
      const wasm = await import('@tensorflow/tfjs-backend-wasm')
      wasm.setWasmPaths(tfWasmDir())
    } catch (e) {
      rows.push({ name: 'tfjs 4.22', w7: `not run: ${reason(e)}`, w8: `not run: ${reason(e)}` })
    }
  }
  if (tf !== undefined) {
    rows.push(await runLenetTf(tf, 'cpu', options.quick))
    log('tfjs cpu W7/W8 done')
    rows.push(await runLenetTf(tf, 'wasm', options.quick))
    log('tfjs wasm W7/W8 done')
  }
  rows.push(runLenetTorch(options.quick))
  return rows
}

const fmt = (v: number): string => (v >= 100 ? v.toFixed(0) : v.toFixed(1))
const cellOf = (c: LenetFigure | string): string => (typeof c === 'string' ? c : `${fmt(c.value)} (${fmt(c.low)}–${fmt(c.high)})`)
const ratioOf = (mine: LenetFigure | string, theirs: LenetFigure | string): number | undefined =>
  typeof mine === 'object' && typeof theirs === 'object' ? mine.value / theirs.value : undefined

/** The slug of a contender for `--json` keys: `tfjs_cpu`, `torch`. */
const slug = (name: string): string => (name.startsWith('pytorch') ? 'torch' : name.replace(/ 4\.22/, '').replace(/[^A-Za-z0-9]+/g, '_').toLowerCase())

/** The W7/W8 table, lamina's row first (ratio = lamina ÷ contender, above 1 means lamina is faster). */
export const printLenetTable = (rows: readonly LenetRow[]): void => {
  const mine = rows[0]!
  const header = ['contender', 'W7 train b=64', 'ratio', 'W8 infer b=1024', 'ratio']
  const body = rows.map((r) => {
    const q7 = ratioOf(mine.w7, r.w7)
    const q8 = ratioOf(mine.w8, r.w8)
    return [r.name + (r.note === undefined ? '' : ` (${r.note})`), cellOf(r.w7), q7 === undefined ? '—' : `${q7.toFixed(2)}×`, cellOf(r.w8), q8 === undefined ? '—' : `${q8.toFixed(2)}×`]
  })
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)))
  const line = (cols: string[]) => '| ' + cols.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ') + ' |'
  console.log('\nW7–W8 LeNet-5 (conv5 pad2 6 → pool → conv5 16 → pool → 400-120-84-10, Adam), f32, one thread: samples/s (ratio = lamina cpu ÷ contender)')
  console.log(line(header))
  console.log('|' + widths.map((w, i) => '-'.repeat(w + 1) + (i === 0 ? '-' : ':')).join('|') + '|')
  body.forEach((b) => console.log(line(b)))
}

/** The figures and ratios for `--json`: `W7_vs_tfjs_cpu`, `W7_vs_torch`, `W8_vs_tfjs_wasm`, … */
export const lenetJson = (rows: readonly LenetRow[]): { figures: Record<string, unknown>; ratios: Record<string, number> } => {
  const mine = rows[0]!
  const figures: Record<string, unknown> = {}
  const ratios: Record<string, number> = {}
  for (const r of rows) {
    figures[slug(r.name)] = { name: r.name, W7_samples_per_s: r.w7, W8_samples_per_s: r.w8, note: r.note ?? null }
    if (r === mine) continue
    const q7 = ratioOf(mine.w7, r.w7)
    const q8 = ratioOf(mine.w8, r.w8)
    if (q7 !== undefined) ratios[`W7_vs_${slug(r.name)}`] = q7
    if (q8 !== undefined) ratios[`W8_vs_${slug(r.name)}`] = q8
  }
  return { figures, ratios }
}

// run as a script (not when bench/index.ts imports it)
if (/[\\/]bench[\\/]lenet\.ts$/.test(process.argv[1] ?? '')) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, json: { type: 'boolean', default: false }, rounds: { type: 'string' } } })
  const log = (s: string) => void process.stderr.write(`  ${s}\n`)
  const rows = await runLenetBench({ quick: values.quick ?? false, log })
  printLenetTable(rows)
  const alternation = await alternateW7(Number(values.rounds ?? (values.quick === true ? 2 : 5)), log)
  if (alternation !== undefined) printW7Alternation(alternation)
  const json = lenetJson(rows)
  if (values.json === true) {
    const ratios = alternation === undefined ? json.ratios : { ...json.ratios, W7_vs_torch_alternating: alternation.ratio }
    console.log(JSON.stringify({ node: process.version, quick: values.quick, figures: { ...json.figures, ...(alternation === undefined ? {} : { W7_alternation: alternation }) }, ratios }))
  }
}
