/**
 * `npm run bench -- --gpu`: the GPU workloads, on a machine with a WebGPU adapter (in Node
 * through the `webgpu` package, Dawn). Same process, same inputs, float32, medians of at least
 * 5 timed runs after warm-up:
 * - W1 matrix product n = 1024, 2048, 4096: GFLOP/s of 8 chained products in one call (lamina:
 *   one GPU.js `createPipeline` plan on `webgpu`; TensorFlow.js: its `webgpu` backend), so the
 *   figure measures the device, not the upload and readback of one product.
 * - a training step of MLP 784-1024-1024-10 (ReLU, softmax cross-entropy, SGD) at batch 8192:
 *   samples/s (lamina: the compiled step, several steps per call; TensorFlow.js: `minimize`).
 * PyTorch's figures on the lent H100 (../shared/GPU-MACHINE.md) are printed as the physical
 * reference; they are quoted, not measured here.
 *
 * Where there is no adapter (the CPU machines: Dawn's binary needs a newer libstdc++ than
 * Debian 12 has), every row says why and the run exits 0.
 */
const reason = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 160)
const log = (s: string): void => void process.stderr.write(`  ${s}\n`)
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

interface Timing {
  readonly median: number
  readonly min: number
  readonly max: number
  readonly reps: number
}
const timeAsync = async (fn: () => Promise<void>, warmup: number, reps: number): Promise<Timing> => {
  for (let i = 0; i < warmup; i++) await fn()
  const times: number[] = []
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now()
    await fn()
    times.push(performance.now() - t0)
  }
  return { median: median(times), min: Math.min(...times), max: Math.max(...times), reps }
}

/** A figure with its spread, or why there is none. */
type Cell = { readonly value: number; readonly low: number; readonly high: number; readonly reps: number } | string
const figure = (t: Timing, per: (ms: number) => number): Cell => {
  const [a, b] = [per(t.min), per(t.max)]
  return { value: per(t.median), low: Math.min(a, b), high: Math.max(a, b), reps: t.reps }
}

/** What the H100 measured with PyTorch (quoted from ../shared/GPU-MACHINE.md). */
const PYTORCH = { tflops4096: 50.6, mlpSamplesPerSecond: 3.8e6 }

/**
 * Installs `navigator.gpu` from the `webgpu` package when Node has none. Dawn's device refuses
 * an assignment to `onuncapturederror` (GPU.js makes one), so each device gets its own property.
 * Returns why WebGPU is unusable, or `undefined` when an adapter answered.
 */
const installWebGpu = async (): Promise<string | undefined> => {
  const g = globalThis as { navigator?: { gpu?: GPULike } }
  if (g.navigator?.gpu === undefined) {
    let mod: { create: (flags: string[]) => GPULike; globals: object }
    try {
      mod = (await import('webgpu')) as unknown as typeof mod
    } catch (e) {
      return `the webgpu package (Dawn) did not load: ${reason(e)}`
    }
    Object.assign(globalThis, mod.globals)
    const gpu = mod.create([])
    const requestAdapter = gpu.requestAdapter.bind(gpu)
    gpu.requestAdapter = async (options?: unknown) => {
      const adapter = await requestAdapter(options)
      if (adapter === null) return adapter
      const requestDevice = adapter.requestDevice.bind(adapter)
      adapter.requestDevice = async (descriptor?: unknown) => {
        const device = await requestDevice(descriptor)
        Object.defineProperty(device, 'onuncapturederror', { value: null, writable: true, configurable: true })
        return device
      }
      return adapter
    }
    if (g.navigator === undefined) Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true })
    else Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true })
  }
  try {
    const adapter = await g.navigator!.gpu!.requestAdapter()
    return adapter === null ? 'navigator.gpu.requestAdapter() returned null (no WebGPU adapter)' : undefined
  } catch (e) {
    return `requestAdapter failed: ${reason(e)}`
  }
}
interface AdapterLike {
  requestDevice: (descriptor?: unknown) => Promise<object>
}
interface GPULike {
  requestAdapter: (options?: unknown) => Promise<AdapterLike | null>
}

const CHAIN = 8
const productSizes = [1024, 2048, 4096]

/** Seeded values of standard deviation 1/√n, so a chain of products keeps its scale. */
const matrix = (n: number, seed: number): Float32Array => {
  const out = new Float32Array(n * n)
  let s = seed >>> 0
  const scale = Math.sqrt(3 / n)
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale
  }
  return out
}

// The obvious kernel, four accumulators (as src/backend/gpu.ts); the pipeline chains it.
const matmulSource = `function (a, b) {
  const i = this.thread.y;
  const j = this.thread.x;
  const K = this.constants.K;
  const N = this.constants.N;
  let s0 = 0; let s1 = 0; let s2 = 0; let s3 = 0;
  for (let p = 0; p < K; p += 4) {
    s0 += a[i * K + p] * b[p * N + j];
    s1 += a[i * K + p + 1] * b[(p + 1) * N + j];
    s2 += a[i * K + p + 2] * b[(p + 2) * N + j];
    s3 += a[i * K + p + 3] * b[(p + 3) * N + j];
  }
  return (s0 + s1) + (s2 + s3);
}`

interface GpuInstanceLike {
  createKernel: (source: string, settings: object) => unknown
  createPipeline: (fn: (...handles: unknown[]) => unknown) => ((...args: unknown[]) => Promise<unknown>) & { executorKind: string; backend: string | null; fallbackReason: string | null }
  destroy: () => unknown
}

const laminaW1 = async (n: number): Promise<{ cell: Cell; executor: string }> => {
  const { GPU } = (await import('gpu.js')) as unknown as { GPU: new (o: object) => GpuInstanceLike }
  const gpu = new GPU({ mode: 'webgpu' })
  try {
    const mm = gpu.createKernel(matmulSource, { output: [n, n], constants: { K: n, N: n }, precision: 'single' }) as (a: unknown, b: unknown) => unknown
    const chain = gpu.createPipeline((a, b) => {
      let c = mm(a, b)
      for (let i = 1; i < CHAIN; i++) c = mm(c, b)
      return c
    })
    const [a, b] = [matrix(n, 1), matrix(n, 2)]
    const t = await timeAsync(async () => void (await chain(a, b)), 2, 5)
    if (chain.backend !== 'webgpu') throw new Error(`the pipeline ran on '${chain.backend}', not webgpu (${chain.fallbackReason ?? 'no reason given'})`)
    return { cell: figure(t, (ms) => (CHAIN * 2 * n ** 3) / (ms * 1e6)), executor: chain.executorKind }
  } finally {
    gpu.destroy()
  }
}

type TF = typeof import('@tensorflow/tfjs')

const tfW1 = async (tf: TF, n: number): Promise<Cell> => {
  const a = tf.tensor2d(matrix(n, 1), [n, n])
  const b = tf.tensor2d(matrix(n, 2), [n, n])
  try {
    const t = await timeAsync(
      async () => {
        const c = tf.tidy(() => {
          let c = tf.matMul(a, b)
          for (let i = 1; i < CHAIN; i++) c = tf.matMul(c, b)
          return c
        })
        await c.data()
        c.dispose()
      },
      2,
      5
    )
    return figure(t, (ms) => (CHAIN * 2 * n ** 3) / (ms * 1e6))
  } finally {
    a.dispose()
    b.dispose()
  }
}

const MLP = { in: 784, hidden: 1024, out: 10, batch: 8192, lr: 0.01 }

const tfMlp = async (tf: TF): Promise<Cell> => {
  const glorot = (rows: number, cols: number, seed: number) => tf.tensor2d(matrix(Math.max(rows, cols), seed).subarray(0, rows * cols), [rows, cols])
  const vars = [glorot(MLP.in, MLP.hidden, 3), tf.zeros([MLP.hidden]), glorot(MLP.hidden, MLP.hidden, 4), tf.zeros([MLP.hidden]), glorot(MLP.hidden, MLP.out, 5), tf.zeros([MLP.out])].map((t) =>
    tf.variable(t)
  )
  const x = tf.randomNormal([MLP.batch, MLP.in], 0, 1, 'float32', 7)
  const y = tf.oneHot(tf.tensor1d(Int32Array.from({ length: MLP.batch }, (_, i) => (i * 7 + 3) % MLP.out), 'int32'), MLP.out)
  const [w1, b1, w2, b2, w3, b3] = vars as [import('@tensorflow/tfjs').Variable, ...import('@tensorflow/tfjs').Variable[]]
  const opt = tf.train.sgd(MLP.lr)
  const step = async () => {
    const cost = opt.minimize(
      () => {
        const h1 = tf.relu(tf.add(tf.matMul(x, w1), b1!))
        const h2 = tf.relu(tf.add(tf.matMul(h1, w2!), b2!))
        return tf.losses.softmaxCrossEntropy(y, tf.add(tf.matMul(h2, w3!), b3!)) as import('@tensorflow/tfjs').Scalar
      },
      true,
      vars
    )
    await cost!.data()
    cost!.dispose()
  }
  try {
    return figure(await timeAsync(step, 2, 5), (ms) => (MLP.batch * 1000) / ms)
  } finally {
    ;[...vars, x, y].forEach((t) => t.dispose())
  }
}

/** The compiled training step on webgpu: MLP_STEPS minibatches per pipeline call (the stacked inputs stay under 2²⁴ elements). */
const MLP_STEPS = 2
const laminaMlp = async (): Promise<Cell> => {
  const { Layer, Layers, Loss, Optim, Random, fromBuffer } = await import('lamina')
  const { compile } = await import('lamina/gpu')
  const model = Layer.sequential(Layers.dense(MLP.in, MLP.hidden), Layers.relu(), Layers.dense(MLP.hidden, MLP.hidden), Layers.relu(), Layers.dense(MLP.hidden, MLP.out))
  const optimizer = Optim.sgd({ lr: MLP.lr })
  const params = model.init(Random.key(0), 'f32')
  const n = MLP_STEPS * MLP.batch
  const x = fromBuffer(Random.normal(Random.key(7), [n * MLP.in], { dtype: 'f32' }).data, [MLP_STEPS, MLP.batch, MLP.in], { dtype: 'f32' })
  const labels = Int32Array.from({ length: n }, (_, i) => (i * 7 + 3) % MLP.out)
  const compiled = await compile(model, Loss.crossEntropyWithLogits, optimizer, { batch: MLP.batch, steps: MLP_STEPS, mode: 'webgpu' })()
  if (compiled._tag === 'Left') throw compiled.left
  const step = compiled.right
  try {
    let state = { params, optimizerState: optimizer.init(params) }
    const t = await timeAsync(
      async () => {
        const out = await step.run(state, { x, labels })()
        if (out._tag === 'Left') throw out.left
        state = out.right
      },
      2,
      5
    )
    if (step.backend !== 'webgpu') throw new Error(`the compiled step ran on '${step.backend}', not webgpu (${step.fallbackReason ?? 'no reason given'})`)
    return figure(t, (ms) => (MLP_STEPS * MLP.batch * 1000) / ms)
  } finally {
    await step.dispose()()
  }
}

export interface GpuBenchOptions {
  readonly json: boolean
}

/** Runs the GPU workloads and prints their table (and a JSON line with `--json`). */
export const runGpuBench = async (options: GpuBenchOptions): Promise<void> => {
  console.log(`lamina bench --gpu: node ${process.version}, float32; W1 = ${CHAIN} chained products per call; medians of 5 after 2 warm-up calls (min–max in brackets)`)
  const unavailable = await installWebGpu()
  const rows = new Map<string, { w1: Map<number, Cell>; mlp: Cell; note?: string }>()
  const row = (name: string) => {
    let r = rows.get(name)
    if (r === undefined) rows.set(name, (r = { w1: new Map(), mlp: 'not run' }))
    return r
  }
  const lamina = row("lamina gpu.js 'webgpu' pipeline")
  const tfRow = row('tfjs 4.22 webgpu')
  if (unavailable !== undefined) {
    for (const r of [lamina, tfRow]) {
      for (const n of productSizes) r.w1.set(n, 'no WebGPU')
      r.mlp = 'no WebGPU'
      r.note = unavailable
    }
  } else {
    for (const n of productSizes) {
      try {
        const { cell, executor } = await laminaW1(n)
        lamina.w1.set(n, cell)
        lamina.note = `executor ${executor}`
      } catch (e) {
        lamina.w1.set(n, `failed: ${reason(e)}`)
      }
      log(`lamina W1 n=${n} done`)
    }
    lamina.mlp = await laminaMlp().catch((e: unknown) => `failed: ${reason(e)}`)
    log('lamina MLP done')
    try {
      const tf = (await import('@tensorflow/tfjs')) as TF
      await import('@tensorflow/tfjs-backend-webgpu')
      if (!(await tf.setBackend('webgpu'))) throw new Error("tf.setBackend('webgpu') returned false")
      await tf.ready()
      for (const n of productSizes) {
        tfRow.w1.set(n, await tfW1(tf, n).catch((e: unknown) => `failed: ${reason(e)}`))
        log(`tfjs W1 n=${n} done`)
      }
      tfRow.mlp = await tfMlp(tf).catch((e: unknown) => `failed: ${reason(e)}`)
    } catch (e) {
      tfRow.note = `not run: ${reason(e)}`
    }
  }
  const show = (c: Cell): string => (typeof c === 'string' ? c : `${c.value.toFixed(0)} (${c.low.toFixed(0)}–${c.high.toFixed(0)})`)
  const value = (c: Cell | undefined): number | undefined => (typeof c === 'object' ? c.value : undefined)
  console.log(`\nW1 GFLOP/s and MLP 784-1024-1024-10 b=${MLP.batch} SGD training samples/s`)
  console.log(`| contender | ${productSizes.map((n) => `n=${n}`).join(' | ')} | MLP samples/s |`)
  console.log(`|---|${productSizes.map(() => '--:').join('|')}|--:|`)
  for (const [name, r] of rows) console.log(`| ${name} | ${productSizes.map((n) => show(r.w1.get(n) ?? '—')).join(' | ')} | ${show(r.mlp)} |`)
  console.log(`| PyTorch on the H100 (quoted, not measured here) | — | — | ${(PYTORCH.tflops4096 * 1000).toFixed(0)} | ${PYTORCH.mlpSamplesPerSecond.toExponential(2)} |`)
  for (const [name, r] of rows) if (r.note !== undefined) console.log(`- ${name}: ${r.note}`)
  const ratios: Record<string, number> = {}
  const put = (key: string, a: number | undefined, b: number | undefined) => {
    if (a !== undefined && b !== undefined) ratios[key] = a / b
  }
  for (const n of productSizes) put(`W1_n${n}_vs_tfjs_webgpu`, value(lamina.w1.get(n)), value(tfRow.w1.get(n)))
  put('MLP_vs_tfjs_webgpu', value(lamina.mlp), value(tfRow.mlp))
  put('MLP_vs_pytorch_quoted', value(lamina.mlp), PYTORCH.mlpSamplesPerSecond)
  if (options.json) {
    const plain = (r: { w1: Map<number, Cell>; mlp: Cell; note?: string }) => ({ W1_gflops: Object.fromEntries(r.w1), MLP_samples_per_s: r.mlp, note: r.note ?? null })
    console.log(JSON.stringify({ node: process.version, gpu: true, webgpu: unavailable ?? 'available', figures: Object.fromEntries([...rows].map(([k, r]) => [k, plain(r)])), ratios, pytorchQuoted: PYTORCH }))
  }
}
