/**
 * `npm run bench -- --gpu [--quick] [--json]`: the GPU workloads, on a machine with a WebGPU
 * adapter (in Node through the `webgpu` package, Dawn, installed by `installWebGpu` from
 * `lamina-nn/node`). Same process, same inputs, float32, medians of 5 timed calls after warm-up:
 * - W1 matrix product, n = 1024, 2048, 4096 (`--quick`: 64, 128, 256): GFLOP/s of 8 products in
 *   one call, so the figure measures the device rather than one upload and readback. lamina:
 *   GPU.js `createPipeline` plans on `webgpu`, one row per kernel variant (below); TensorFlow.js
 *   4.22: its `webgpu` backend, 8 chained `matMul`s. Every call uploads A and B and reads back one
 *   n×n result (tfjs keeps A and B resident: it uploads nothing).
 * - a training step of MLP 784-1024-1024-10 (ReLU, softmax cross-entropy, SGD) at batch 8192
 *   (`--quick`: 784-64-64-10 at batch 128): samples/s. lamina: the compiled step (`compile`
 *   from `lamina-nn/gpu`, 2 steps per call); TensorFlow.js: `minimize`.
 * PyTorch's figures on the lent H100 (../shared/GPU-MACHINE.md) are printed as the physical
 * reference; they are quoted, not measured here.
 *
 * No figure without a check; a contender whose check fails shows `wrong: …` instead:
 * - W1: the checked call returns every link Cₖ of the chain (C₀ = A, Cₖ = Cₖ₋₁·B), and each link
 *   must lie within the float32 bound of the product of the contender's own previous link:
 *   |Cₖ − Cₖ₋₁·B| ≤ γₙ·(|Cₖ₋₁|·|B|) + 2n·2⁻¹²⁶ entry by entry, the product and the bound in
 *   float64, γₙ = n·u/(1 − n·u), u = 2⁻²⁴ (any summation order, with or without fused
 *   multiply-adds; the last term for flushed subnormals), on every row while that costs under
 *   2²⁸ multiply-adds per contender (all rows up to n = 256), else on at least 8 spread rows.
 *   (A bound carried through the whole chain from A alone grows by the row sums of |B| at each
 *   link, to about 50 at n = 128 where the entries are about 0.1: it would accept anything.)
 *   The timed call's result must then equal the checked call's last link. A vector-returning
 *   variant (which cannot be chained, below) is checked on one product. The second table gives
 *   max |error| ÷ bound.
 * - MLP, lamina: where the float64 eager reference is cheap (the `--quick` sizes; at full size it
 *   would take minutes of CPU), one call of the compiled step from parameters placed away from
 *   every ReLU kink must give the eager float64 parameters and losses within the bound τ of
 *   test/compiled.webgpu.test.ts (float32 reductions plus WGSL's allowance for exp and log); at
 *   every size, the losses over the timed calls must be finite and their last call's mean lower
 *   than the first's. TensorFlow.js: the losses check only.
 *
 * The W1 variants (GPU.js 2.24.1 `webgpu`):
 * - `obvious`: one output per thread, indices through `const`s (which GPU.js types as float),
 *   four partial sums; chained 8 times in one pipeline.
 * - `int ×8`: one output per thread, every index an integer expression of `this.thread.*`, the
 *   loop counter and literals (as src/backend/gpu.ts), K unrolled by 8; chained.
 * - `r×c vec`: register-blocked, each thread computes an r×c block of outputs and returns them
 *   as `Array(r·c)` (GPU.js `webgpu` returns Array(2), Array(3) and Array(4)), K unrolled by 4.
 *   GPU.js cannot feed such a result to another kernel (the fused encoder declines "a step
 *   returning Array(4) cannot feed another step", and the generic executor then throws "does
 *   not yet support Array(4) pipeline results as kernel arguments"), so these are timed as 8
 *   independent products A·B in one pipeline call, followed by a scalar n×n copy of A as the
 *   pipeline's result: the same upload and readback as the chains (reading back the packed
 *   result itself would time GPU.js erecting n²/4 subarrays on the CPU, seconds at n = 4096).
 *   The copy must equal A exactly; the product is checked through a one-step pipeline.
 *
 * Where there is no adapter, every row says `no WebGPU`, the reason is printed once (and is the
 * JSON's `webgpu`), and the run exits 0.
 */
import { GPU } from 'gpu.js'
import type { IKernelRunShortcut, IPipelineRunShortcut } from 'gpu.js'
import { Loss, Optim, Random, Tree, fromBuffer } from 'lamina-nn'
import type { Tensor } from 'lamina-nn'
import { compile } from 'lamina-nn/gpu'
import type { CompiledStep } from 'lamina-nn/gpu'
import { installWebGpu } from 'lamina-nn/node'
import type { WebGpuAdapterInfo } from 'lamina-nn/node'
import { bounds, build, compiled, eager, kinkClearance, longest, lossesOutside, minibatches, outside, tau, transcendentalAllowance } from '../test/support/compiled.js'
import type { Spec } from '../test/support/compiled.js'
import { readPytorchReference } from './pytorch.js'

const reason = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 200)
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

/** A figure with its spread, or why there is none (`wrong: …`, `failed: …`, `no WebGPU`). */
type Cell = { readonly value: number; readonly low: number; readonly high: number; readonly reps: number } | string
const figure = (t: Timing, per: (ms: number) => number): Cell => {
  const [a, b] = [per(t.min), per(t.max)]
  return { value: per(t.median), low: Math.min(a, b), high: Math.max(a, b), reps: t.reps }
}

/** What a figure was checked against, and whether it passed. `used`: max |error| ÷ bound (W1, the compiled MLP). */
interface Check {
  readonly passed: boolean
  readonly what: string
  readonly used?: number
}
interface Result {
  readonly figure: Cell
  readonly check: Check | null
}
const notRun = (why: string): Result => ({ figure: why, check: null })
const wrong = (check: Check): Result => ({ figure: `wrong: ${check.what}`, check })

/** What the H100 measured with PyTorch (quoted from ../shared/GPU-MACHINE.md). */
const PYTORCH = { tflops4096: 50.6, mlpSamplesPerSecond: 3.8e6 }

/** Products per timed call. */
const CHAIN = 8

interface MlpSize {
  readonly input: number
  readonly hidden: number
  readonly classes: number
  readonly batch: number
  /** Minibatches per compiled call, at most: fewer where the stacked inputs would not fit the device's storage buffer binding. */
  readonly steps: number
  readonly lr: number
}
interface Sizes {
  readonly w1: readonly number[]
  readonly mlp: MlpSize
  readonly warmup: number
  readonly reps: number
}
const FULL: Sizes = { w1: [1024, 2048, 4096], mlp: { input: 784, hidden: 1024, classes: 10, batch: 8192, steps: 8, lr: 0.01 }, warmup: 2, reps: 5 }
// the checked call before timing is the warm-up: lavapipe needs seconds per call at n = 256
const QUICK: Sizes = { w1: [64, 128, 256], mlp: { input: 784, hidden: 64, classes: 10, batch: 128, steps: 2, lr: 0.01 }, warmup: 0, reps: 5 }
/** Above this many float64 operations the eager reference of the MLP step is skipped (about a minute on one core). */
const EAGER_CHECK_MAX_FLOPS = 2e10

// ================================================================ W1: inputs and the float64 reference

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

const U = 2 ** -24

/** A reader of C[i][j] (a contender's result, whatever its layout). */
type Reader = (i: number, j: number) => number
const flat =
  (data: ArrayLike<number>, n: number): Reader =>
  (i, j) =>
    data[i * n + j]!

/**
 * The rows a check covers: every row while rows · links · n² stays under 2²⁸ multiply-adds
 * (all of them up to n = 256), else that many spread over [0, n), at least 8.
 */
const checkedRows = (n: number, links: number): number[] => {
  const count = Math.min(n, Math.max(8, Math.floor(2 ** 28 / (links * n * n))))
  return count === n ? Array.from({ length: n }, (_, i) => i) : Array.from({ length: count }, (_, k) => Math.round((k * (n - 1)) / (count - 1)))
}

/** How much of its bound a check used, and where the most. */
interface Used {
  readonly used: number
  readonly worst: string
}
const noneUsed: Used = { used: 0, worst: '' }
const worse = (x: Used, y: Used): Used => (y.used > x.used ? y : x)

/**
 * One link of a product chain on `rows`: |next − prev·B| ≤ γₙ·(|prev|·|B|) + 2n·2⁻¹²⁶ entry by
 * entry, `prev·B` and the bound in float64 from the contender's own `prev` (the float32 A for
 * the first link), γₙ = n·u/(1 − n·u): the bound of any summation order, with or without fused
 * multiply-adds, and of flushed subnormals.
 */
const linkUsed = (prev: Reader, next: Reader, b: Float32Array, n: number, rows: readonly number[], link: number): Used => {
  const gamma = (n * U) / (1 - n * U)
  const flushed = 2 * n * 2 ** -126
  let result = noneUsed
  const want = new Float64Array(n)
  const bound = new Float64Array(n)
  for (const i of rows) {
    want.fill(0)
    bound.fill(0)
    for (let p = 0; p < n; p++) {
      const cv = prev(i, p)
      const mv = gamma * Math.abs(cv)
      const row = p * n
      for (let j = 0; j < n; j++) {
        const bv = b[row + j]!
        want[j] = want[j]! + cv * bv
        bound[j] = bound[j]! + mv * Math.abs(bv)
      }
    }
    for (let j = 0; j < n; j++) {
      const g = next(i, j)
      const error = Math.abs(g - want[j]!)
      // a NaN counts as infinitely wrong
      const used = Number.isNaN(error) ? Infinity : error / (bound[j]! + flushed)
      if (used > result.used) result = { used, worst: `link ${link} [${i}][${j}]: got ${g}, float64 ${want[j]!.toPrecision(8)}, bound ${(bound[j]! + flushed).toExponential(2)}` }
    }
  }
  return result
}

/** One link of a chain as the contender computed it: its input Cₖ₋₁ (A for the first) and its result Cₖ. */
type Link = readonly [prev: Reader, next: Reader]
/** The links of consecutive results C₁, C₂, … of one call. */
const consecutive = (a: Float32Array, n: number, results: readonly Reader[]): Link[] => results.map((c, k) => [k === 0 ? flat(a, n) : results[k - 1]!, c] as const)

/** Every link within its bound (`linkUsed`). */
const chainCheck = (b: Float32Array, n: number, links: readonly Link[]): Check => {
  const rows = checkedRows(n, links.length)
  let used = noneUsed
  links.forEach(([prev, next], k) => {
    used = worse(used, linkUsed(prev, next, b, n, rows, k + 1))
  })
  const what = `${links.length === 1 ? 'one product C₁ within γₙ·|A|·|B| of A·B' : `each of ${links.length} links Cₖ within γₙ·|Cₖ₋₁|·|B| of Cₖ₋₁·B`} (float64) on ${rows.length} of ${n} rows`
  return used.used <= 1 ? { passed: true, what, used: used.used } : { passed: false, what: `${what}: |error| ÷ bound = ${used.used.toExponential(2)} at ${used.worst}`, used: used.used }
}

/**
 * The timed call's result against the checked last link: equal (the same kernels on the same
 * inputs), or at least within that link's bound from its input.
 */
const sameAsChecked = (check: Check, timed: Reader, [prev, last]: Link, b: Float32Array, n: number): Check => {
  let equal = true
  for (let i = 0; i < n && equal; i++) for (let j = 0; j < n && equal; j++) equal = Object.is(timed(i, j), last(i, j))
  if (equal) return { ...check, what: `${check.what}; the timed call's result identical` }
  const u = linkUsed(prev, timed, b, n, checkedRows(n, 1), CHAIN)
  const what = `${check.what}; the timed call's result differs from the checked call's`
  return u.used <= 1 ? { ...check, what: `${what}, within the last link's bound` } : { passed: false, what: `${what}: ${u.worst}`, used: Math.max(check.used ?? 0, u.used) }
}

/** The rows of a GPU.js result (`Float32Array`s of n values, or of n/c cells of r·c values) as a reader of C[i][j]. */
const blockedReader = (result: unknown, n: number, rb: number, cb: number): Reader => {
  const rows = result as ArrayLike<ArrayLike<number> | ArrayLike<ArrayLike<number>>>
  if (rows.length !== n / rb) throw new Error(`expected ${n / rb} rows of cells, got ${rows.length}`)
  if (rb * cb === 1) return (i, j) => (rows[i] as ArrayLike<number>)[j]!
  return (i, j) => ((rows[Math.floor(i / rb)] as ArrayLike<ArrayLike<number>>)[Math.floor(j / cb)]!)[(i % rb) * cb + (j % cb)]!
}

// ================================================================ W1: the GPU.js variants

/** The obvious kernel (the one measured at 1.16 TFLOP/s chained on the H100): indices through `const`s, four partial sums. */
const obviousSource = `function (a, b) {
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

/** `coef·v` as GPU.js types it integer: no `* 1`. */
const times = (v: string, coef: number): string => (coef === 1 ? v : `${v} * ${coef}`)
/** A sum of integer terms; literals are folded into one (GPU.js types a sum of two literals as float) and zeros dropped. */
const plus = (...terms: (string | number)[]): string => {
  const literal = terms.filter((t): t is number => typeof t === 'number').reduce((s, t) => s + t, 0)
  const rest = terms.filter((t): t is string => typeof t === 'string')
  return [...rest, ...(literal === 0 && rest.length > 0 ? [] : [String(literal)])].join(' + ')
}

/**
 * C = A·B for n×n row-major A, B: each thread computes rows `this.thread.y·rb + r` and columns
 * `this.thread.x·cb + c` (r < rb, c < cb), K unrolled by `u`, every index an integer
 * expression. One cell returns a number, more an `Array(rb·cb)` (row-major within the block).
 */
const blockedSource = (n: number, rb: number, cb: number, u: number): string => {
  if (n % rb !== 0 || n % cb !== 0 || n % u !== 0) throw new Error(`n = ${n} is not a multiple of the block ${rb}×${cb} and the unroll ${u}`)
  const rs = Array.from({ length: rb }, (_, r) => r)
  const cs = Array.from({ length: cb }, (_, c) => c)
  const js = Array.from({ length: u }, (_, j) => j)
  const cells = rs.flatMap((r) => cs.map((c) => `s${r}${c}`))
  const loads = js.flatMap((j) => [
    ...rs.map((r) => `    const a${r}k${j} = a[${plus(times('this.thread.y', rb * n), times('q', u), r * n + j)}];`),
    ...cs.map((c) => `    const b${c}k${j} = b[${plus(times('q', u * n), times('this.thread.x', cb), j * n + c)}];`)
  ])
  const adds = rs.flatMap((r) => cs.map((c) => `    s${r}${c} += ${js.map((j) => `a${r}k${j} * b${c}k${j}`).join(' + ')};`))
  const result = cells.length === 1 ? cells[0]! : `[${cells.join(', ')}]`
  return `function (a, b) {\n${cells.map((c) => `  let ${c} = 0;`).join('\n')}\n  for (let q = 0; q < ${n / u}; q++) {\n${[...loads, ...adds].join('\n')}\n  }\n  return ${result};\n}`
}

interface Variant {
  readonly name: string
  /** `chain`: 8 chained products; `independent`: 8 products A·B, then a copy of A as the result. */
  readonly how: 'chain' | 'independent'
  readonly rb: number
  readonly cb: number
  readonly kernel: (gpu: GPU, n: number) => IKernelRunShortcut
}
const settings = (n: number, rb = 1, cb = 1) => ({ output: [n / cb, n / rb], precision: 'single' as const })
const blocked = (rb: number, cb: number, u: number): Variant => ({
  name: rb * cb === 1 ? `int ×${u}` : `${rb}×${cb} vec${rb * cb} ×${u}`,
  how: rb * cb === 1 ? 'chain' : 'independent',
  rb,
  cb,
  kernel: (gpu, n) => gpu.createKernel(blockedSource(n, rb, cb, u), settings(n, rb, cb))
})
const VARIANTS: readonly Variant[] = [
  { name: 'obvious', how: 'chain', rb: 1, cb: 1, kernel: (gpu, n) => gpu.createKernel(obviousSource, { ...settings(n), constants: { K: n, N: n } }) },
  blocked(1, 1, 8),
  blocked(1, 4, 4),
  blocked(2, 2, 4),
  blocked(4, 1, 4)
]
const variantRow = (v: Variant): string => `lamina gpu.js webgpu: ${v.name} (${v.how === 'chain' ? 'chained' : '8 independent'})`

/** An n×n copy, the result of the `independent` pipelines. */
const copySource = (n: number): string => `function (a) {\n  return a[${plus(times('this.thread.y', n), 'this.thread.x')}];\n}`

type Pipeline = IPipelineRunShortcut
const runPipeline = async (p: Pipeline, a: Float32Array, b: Float32Array): Promise<unknown> => {
  const out = await p(a, b)
  if (p.backend !== 'webgpu') throw new Error(`the pipeline ran on '${p.backend}', not webgpu (${p.fallbackReason ?? 'no reason given'})`)
  return out
}

const laminaW1 = async (v: Variant, n: number, a: Float32Array, b: Float32Array, sizes: Sizes, maxReadback: number): Promise<Result & { executor?: string }> => {
  const gpu = new GPU({ mode: 'webgpu' })
  try {
    const mm = v.kernel(gpu, n)
    const flops = (ms: number) => (CHAIN * 2 * n ** 3) / (ms * 1e6)
    if (v.how === 'chain') {
      const reader = (r: unknown) => blockedReader(r, n, 1, 1)
      let links: Link[]
      if (CHAIN * n * n * 4 <= maxReadback) {
        // the checked call returns every link; the timed one only the last
        const all = gpu.createPipeline((x, y) => {
          const cs = [mm(x, y)]
          for (let i = 1; i < CHAIN; i++) cs.push(mm(cs[i - 1], y))
          return cs
        })
        links = consecutive(a, n, ((await runPipeline(all, a, b)) as unknown[]).map(reader))
        await all.destroy()
      } else {
        // reading every link back at once would pass the device's maxBufferSize: one call per link, returning it and its input
        links = []
        for (let k = 1; k <= CHAIN; k++) {
          const upTo = gpu.createPipeline((x, y) => {
            const cs = [mm(x, y)]
            for (let i = 1; i < k; i++) cs.push(mm(cs[i - 1], y))
            return cs.slice(Math.max(0, k - 2))
          })
          const got = ((await runPipeline(upTo, a, b)) as unknown[]).map(reader)
          links.push(k === 1 ? [flat(a, n), got[0]!] : [got[0]!, got[1]!])
          await upTo.destroy()
        }
      }
      const checked = chainCheck(b, n, links)
      if (!checked.passed) return wrong(checked)
      const chain = gpu.createPipeline((x, y) => {
        let c = mm(x, y)
        for (let i = 1; i < CHAIN; i++) c = mm(c, y)
        return c
      })
      const check = sameAsChecked(checked, reader(await runPipeline(chain, a, b)), links[CHAIN - 1]!, b, n)
      if (!check.passed) return wrong(check)
      const t = await timeAsync(async () => void (await runPipeline(chain, a, b)), sizes.warmup, sizes.reps)
      return { figure: figure(t, flops), check, executor: chain.executorKind }
    }
    // vector results cannot feed a kernel: check one product, time 8 independent ones
    const single = gpu.createPipeline((x, y) => mm(x, y))
    const checked = chainCheck(b, n, consecutive(a, n, [blockedReader(await runPipeline(single, a, b), n, v.rb, v.cb)]))
    if (!checked.passed) return wrong(checked)
    const copy = gpu.createKernel(copySource(n), settings(n))
    const eight = gpu.createPipeline((x, y) => {
      for (let i = 0; i < CHAIN; i++) mm(x, y)
      return copy(x)
    })
    const copied = blockedReader(await runPipeline(eight, a, b), n, 1, 1)
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (copied(i, j) !== a[i * n + j]) return wrong({ passed: false, what: `the timed pipeline's copy of A differs at [${i}][${j}]` })
    const check: Check = { ...checked, what: `${checked.what}; the timed pipeline's copy of A exact` }
    const t = await timeAsync(async () => void (await runPipeline(eight, a, b)), sizes.warmup, sizes.reps)
    return { figure: figure(t, flops), check, executor: eight.executorKind }
  } finally {
    await gpu.destroy()
  }
}

type TF = typeof import('@tensorflow/tfjs')

const tfW1 = async (tf: TF, n: number, a32: Float32Array, b32: Float32Array, sizes: Sizes): Promise<Result> => {
  const a = tf.tensor2d(a32, [n, n])
  const b = tf.tensor2d(b32, [n, n])
  const every = (): import('@tensorflow/tfjs').Tensor[] =>
    tf.tidy(() => {
      const cs = [tf.matMul(a, b)]
      for (let i = 1; i < CHAIN; i++) cs.push(tf.matMul(cs[i - 1]!, b))
      return cs
    })
  const chain = async (): Promise<Float32Array> => {
    const c = tf.tidy(() => {
      let c = tf.matMul(a, b)
      for (let i = 1; i < CHAIN; i++) c = tf.matMul(c, b)
      return c
    })
    try {
      return (await c.data()) as Float32Array
    } finally {
      c.dispose()
    }
  }
  try {
    const cs = every()
    const links = consecutive(a32, n, await Promise.all(cs.map(async (c) => flat((await c.data()) as Float32Array, n))))
    cs.forEach((c) => c.dispose())
    const checked = chainCheck(b32, n, links)
    if (!checked.passed) return wrong(checked)
    const check = sameAsChecked(checked, flat(await chain(), n), links[CHAIN - 1]!, b32, n)
    if (!check.passed) return wrong(check)
    const t = await timeAsync(async () => void (await chain()), sizes.warmup, sizes.reps)
    return { figure: figure(t, (ms) => (CHAIN * 2 * n ** 3) / (ms * 1e6)), check }
  } finally {
    a.dispose()
    b.dispose()
  }
}

// ================================================================ the MLP

/** Losses (one array per call) all finite, and the last call's mean below the first's. */
const lossesDecrease = (calls: readonly (readonly number[])[]): Check => {
  const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length
  const all = calls.flat()
  const [first, last] = [mean(calls[0]!), mean(calls[calls.length - 1]!)]
  const what = `losses of ${calls.length} calls finite and decreasing (${first.toFixed(4)} → ${last.toFixed(4)})`
  if (!all.every(Number.isFinite)) return { passed: false, what: `a loss is not finite: ${all.find((l) => !Number.isFinite(l))}` }
  return { passed: last < first, what: last < first ? what : `${what}: they did not decrease` }
}

const spec = (m: MlpSize): Spec => ({ input: m.input, hidden: [m.hidden, m.hidden], classes: m.classes, activation: 'relu' })
const mlpName = (m: MlpSize): string => `MLP ${m.input}-${m.hidden}-${m.hidden}-${m.classes} b=${m.batch}`

/**
 * Parameters for the float64 comparison: every hidden layer's biases ±2 in turn, the
 * hidden-to-hidden weights scaled by 0.1, so that with inputs of spread 0.25 every
 * pre-activation stays away from ReLU's kink (asserted with `kinkClearance`).
 */
const awayFromKinks = (params: unknown, classes: number): unknown => {
  const p = params as { readonly layers: readonly ({ readonly w: Tensor; readonly b: Tensor } | unknown)[] }
  let dense = 0
  return {
    layers: p.layers.map((layer) => {
      const l = layer as { readonly w?: Tensor; readonly b?: Tensor }
      if (l.w === undefined || l.b === undefined || l.b.size === classes) return layer
      const w = dense++ === 0 ? l.w : fromBuffer(Float32Array.from(l.w.data, (v) => v * 0.1), l.w.shape, { dtype: 'f32' })
      const b = fromBuffer(Float32Array.from({ length: l.b.size }, (_, i) => (i % 2 === 0 ? 2 : -2)), l.b.shape, { dtype: 'f32' })
      return { w, b }
    })
  }
}

type Step = CompiledStep<unknown, { readonly step: number }>

/** One call of the compiled step against the eager interpreter in float64, within test/compiled.webgpu.test.ts's bound. */
const mlpAgainstEager = async (step: Step, m: MlpSize): Promise<Check> => {
  const built = build(spec(m))
  const optimizer = Optim.sgd({ lr: m.lr }) as Optim.Optimizer<{ readonly step: number }>
  const params = awayFromKinks(built.model.init(Random.key(11), 'f32'), m.classes)
  const data = minibatches(5, m.steps, m.batch, m.input, m.classes, 0.25)
  const ref = eager(built.model, optimizer, params, data)
  const k = longest(spec(m), m.batch)
  // WGSL's exp, log and division are less accurate than float32 libm (test/compiled.webgpu.test.ts)
  const extra = transcendentalAllowance(ref.records, m.classes)
  const clearance = kinkClearance(built, spec(m), ref.records, data, tau(k, m.steps, extra))
  if (!(clearance > 0)) return { passed: false, what: `inconclusive: a pre-activation lies within the bound of ReLU's kink (clearance ${clearance})` }
  const got = await compiled(step, params, optimizer.init(params), data)
  const limits = bounds(k, ref.records, ref.params, undefined, extra)
  const bad = [...lossesOutside(got.losses, ref.records, k, extra), ...outside(got.params, ref.params, limits)]
  let used = 0
  got.params.forEach((leaf, i) => {
    for (let j = 0; j < leaf.data.length; j++) used = Math.max(used, Math.abs(leaf.data[j]! - ref.params[i]!.data[j]!) / limits[i]![j]!)
  })
  const initial = Tree.flatten(params).leaves
  const moved = got.params.some((leaf, i) => Array.prototype.some.call(leaf.data, (v: number, j: number) => v !== initial[i]!.data[j]))
  const what = `one call (${m.steps} steps) from kink-free parameters: parameters and losses equal the eager float64 run within τ = ${m.steps}·(k + 4 + g)·u, k = ${k}, g = ${extra.toFixed(1)} (WGSL's exp and log)`
  if (bad.length > 0) return { passed: false, what: `${what}: ${bad.slice(0, 2).join('; ')}`, used }
  if (!moved) return { passed: false, what: `${what}, but no parameter moved` }
  return { passed: true, what, used }
}

/** `m` with as many steps per call (up to `m.steps`) as one storage buffer binding holds of the stacked inputs. */
const fitSteps = (m: MlpSize, limits: Limits | null): MlpSize => {
  const binding = limits?.maxStorageBufferBindingSize ?? 2 ** 27
  return { ...m, steps: Math.max(1, Math.min(m.steps, Math.floor(binding / (4 * m.batch * Math.max(m.input, m.classes))))) }
}

const laminaMlp = async (asked: MlpSize, sizes: Sizes, limits: Limits | null): Promise<Result & { executor?: string }> => {
  const m = fitSteps(asked, limits)
  const { model } = build(spec(m))
  const optimizer = Optim.sgd({ lr: m.lr }) as Optim.Optimizer<{ readonly step: number }>
  const compiledStep = await compile(model, Loss.crossEntropyWithLogits, optimizer, { batch: m.batch, steps: m.steps, mode: 'webgpu' })()
  if (compiledStep._tag === 'Left') throw compiledStep.left
  const step = compiledStep.right as Step
  try {
    const flops = 6 * m.steps * m.batch * (m.input * m.hidden + m.hidden * m.hidden + m.hidden * m.classes)
    const checks: Check[] = []
    if (flops <= EAGER_CHECK_MAX_FLOPS) {
      const c = await mlpAgainstEager(step, m)
      if (!c.passed) return wrong(c)
      checks.push(c)
    }
    const params = model.init(Random.key(0), 'f32')
    const n = m.steps * m.batch
    const x = fromBuffer(Random.normal(Random.key(7), [n * m.input], { dtype: 'f32' }).data, [m.steps, m.batch, m.input], { dtype: 'f32' })
    const labels = Int32Array.from({ length: n }, (_, i) => (i * 7 + 3) % m.classes)
    let state = { params: params as unknown, optimizerState: optimizer.init(params) }
    const losses: (readonly number[])[] = []
    const t = await timeAsync(
      async () => {
        const out = await step.run(state, { x, labels })()
        if (out._tag === 'Left') throw out.left
        state = out.right
        losses.push(out.right.losses)
      },
      sizes.warmup,
      sizes.reps
    )
    if (step.backend !== 'webgpu') throw new Error(`the compiled step ran on '${step.backend}', not webgpu (${step.fallbackReason ?? 'no reason given'})`)
    const decrease = lossesDecrease(losses)
    if (!decrease.passed) return wrong(decrease)
    checks.push(decrease)
    const check: Check = { passed: true, what: checks.map((c) => c.what).join('; '), ...(checks[0]?.used === undefined ? {} : { used: checks[0].used }) }
    return { figure: figure(t, (ms) => (m.steps * m.batch * 1000) / ms), check, executor: `${step.executorKind}, ${m.steps} steps per call, ${step.stats.kernelsPerStep} kernels per step` }
  } finally {
    await step.dispose()()
  }
}

const tfMlp = async (tf: TF, m: MlpSize, sizes: Sizes): Promise<Result> => {
  const glorot = (rows: number, cols: number, seed: number) => tf.tensor2d(matrix(Math.max(rows, cols), seed).subarray(0, rows * cols), [rows, cols])
  const vars = [glorot(m.input, m.hidden, 3), tf.zeros([m.hidden]), glorot(m.hidden, m.hidden, 4), tf.zeros([m.hidden]), glorot(m.hidden, m.classes, 5), tf.zeros([m.classes])].map((t) => tf.variable(t))
  const x = tf.randomNormal([m.batch, m.input], 0, 1, 'float32', 7)
  const y = tf.oneHot(tf.tensor1d(Int32Array.from({ length: m.batch }, (_, i) => (i * 7 + 3) % m.classes), 'int32'), m.classes)
  const [w1, b1, w2, b2, w3, b3] = vars as [import('@tensorflow/tfjs').Variable, ...import('@tensorflow/tfjs').Variable[]]
  const opt = tf.train.sgd(m.lr)
  const losses: number[][] = []
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
    losses.push([...(await cost!.data())])
    cost!.dispose()
  }
  try {
    const t = await timeAsync(step, sizes.warmup, sizes.reps)
    const check = lossesDecrease(losses)
    return check.passed ? { figure: figure(t, (ms) => (m.batch * 1000) / ms), check } : wrong(check)
  } finally {
    ;[...vars, x, y].forEach((t) => t.dispose())
  }
}

// ================================================================ the run

interface Limits {
  readonly maxBufferSize: number
  readonly maxStorageBufferBindingSize: number
}
/** The adapter's buffer limits, which GPU.js and TensorFlow.js both ask their devices for. */
const adapterLimits = async (): Promise<Limits | null> => {
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<{ readonly limits: Limits } | null> } } }).navigator?.gpu
  const adapter = await gpu?.requestAdapter().catch(() => null)
  return adapter === null || adapter === undefined ? null : { maxBufferSize: adapter.limits.maxBufferSize, maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize }
}

export interface GpuBenchOptions {
  readonly json: boolean
  /** Small sizes (W1 n = 64…256, MLP 784-64-64-10 b = 128): a smoke run in well under a minute on lavapipe. */
  readonly quick: boolean
  /** scripts/pytorch-reference.py's output for the same sizes, measured in the same device call: ratios against it replace the quoted figures. */
  readonly pytorch?: string
}

interface W1Row {
  readonly engine: 'lamina' | 'tfjs'
  readonly how: 'chain' | 'independent'
  readonly results: Map<number, Result>
  note?: string
}
interface MlpRow {
  readonly engine: 'lamina' | 'tfjs'
  result: Result
  note?: string
}

/** Runs the GPU workloads and prints their tables (and, with `json`, one JSON line last). */
export const runGpuBench = async (options: GpuBenchOptions): Promise<void> => {
  const sizes = options.quick ? QUICK : FULL
  const m = sizes.mlp
  const started = performance.now()
  console.log(
    `lamina bench --gpu${options.quick ? ' --quick' : ''}: node ${process.version}, float32; W1 n = ${sizes.w1.join(', ')} (${CHAIN} products per call), ${mlpName(m)}; ` +
      `medians of ${sizes.reps} after the checked calls${sizes.warmup > 0 ? ` and ${sizes.warmup} warm-up calls` : ''} (min–max in brackets)`
  )
  const installed = await installWebGpu()()
  const unavailable = installed._tag === 'Left' ? installed.left.message : undefined
  const adapter: WebGpuAdapterInfo | null = installed._tag === 'Right' ? installed.right : null
  const limits = adapter === null ? null : await adapterLimits()
  console.log(
    adapter === null
      ? `WebGPU: unavailable: ${unavailable}`
      : `WebGPU adapter: ${adapter.vendor} ${adapter.architecture} ${adapter.device} (${adapter.description}); ` +
          (limits === null ? 'limits unknown' : `maxBufferSize ${limits.maxBufferSize}, maxStorageBufferBindingSize ${limits.maxStorageBufferBindingSize}`)
  )

  const w1 = new Map<string, W1Row>()
  for (const v of VARIANTS) w1.set(variantRow(v), { engine: 'lamina', how: v.how, results: new Map() })
  const tfName = 'tfjs 4.22 webgpu (chained)'
  w1.set(tfName, { engine: 'tfjs', how: 'chain', results: new Map() })
  const mlp = new Map<string, MlpRow>([
    ["lamina compiled step, gpu.js 'webgpu'", { engine: 'lamina', result: notRun('not run') }],
    ['tfjs 4.22 webgpu', { engine: 'tfjs', result: notRun('not run') }]
  ])
  const laminaMlpRow = mlp.get("lamina compiled step, gpu.js 'webgpu'")!
  const tfMlpRow = mlp.get('tfjs 4.22 webgpu')!

  if (unavailable !== undefined) {
    // the reason is printed once, above, and in the JSON's `webgpu`
    for (const r of w1.values()) for (const n of sizes.w1) r.results.set(n, notRun('no WebGPU'))
    for (const r of mlp.values()) r.result = notRun('no WebGPU')
  } else {
    let tf: TF | undefined
    let tfSetup: string | undefined
    try {
      tf = (await import('@tensorflow/tfjs')) as TF
      await import('@tensorflow/tfjs-backend-webgpu')
      if (!(await tf.setBackend('webgpu'))) throw new Error("tf.setBackend('webgpu') returned false")
      await tf.ready()
    } catch (e) {
      tfSetup = `not run: ${reason(e)}`
      tf = undefined
    }
    for (const n of sizes.w1) {
      const [a, b] = [matrix(n, 1), matrix(n, 2)]
      for (const v of VARIANTS) {
        const row = w1.get(variantRow(v))!
        try {
          const r = await laminaW1(v, n, a, b, sizes, limits?.maxBufferSize ?? 2 ** 28)
          row.results.set(n, r)
          if (r.executor !== undefined) row.note = `executor ${r.executor}`
        } catch (e) {
          row.results.set(n, notRun(`failed: ${reason(e)}`))
        }
        log(`W1 n=${n} ${v.name} done (${((performance.now() - started) / 1000).toFixed(1)} s)`)
      }
      const tfRow = w1.get(tfName)!
      if (tf === undefined) {
        tfRow.results.set(n, notRun(tfSetup ?? 'not run'))
      } else {
        tfRow.results.set(n, await tfW1(tf, n, a, b, sizes).catch((e: unknown) => notRun(`failed: ${reason(e)}`)))
        log(`W1 n=${n} tfjs done (${((performance.now() - started) / 1000).toFixed(1)} s)`)
      }
    }
    try {
      const r = await laminaMlp(m, sizes, limits)
      laminaMlpRow.result = r
      if (r.executor !== undefined) laminaMlpRow.note = `executor ${r.executor}`
    } catch (e) {
      laminaMlpRow.result = notRun(`failed: ${reason(e)}`)
    }
    log(`lamina MLP done (${((performance.now() - started) / 1000).toFixed(1)} s)`)
    if (tf === undefined) {
      tfMlpRow.result = notRun(tfSetup ?? 'not run')
    } else {
      tfMlpRow.result = await tfMlp(tf, m, sizes).catch((e: unknown) => notRun(`failed: ${reason(e)}`))
      log(`tfjs MLP done (${((performance.now() - started) / 1000).toFixed(1)} s)`)
    }
  }

  // ---- tables
  const fixed = (v: number): string => (v >= 100 ? v.toFixed(0) : v.toPrecision(3))
  // a table cell: a failed check's details go in the list under the table
  const show = (c: Cell): string => (typeof c === 'string' ? (c.startsWith('wrong: ') ? 'wrong (below)' : c.replaceAll('|', '\\|')) : `${fixed(c.value)} (${fixed(c.low)}–${fixed(c.high)})`)
  const value = (r: Result | undefined): number | undefined => (r !== undefined && typeof r.figure === 'object' ? r.figure.value : undefined)
  console.log(`\nW1: GFLOP/s of ${CHAIN} n×n products per call`)
  console.log(`| contender | ${sizes.w1.map((n) => `n=${n}`).join(' | ')} |`)
  console.log(`|---|${sizes.w1.map(() => '--:').join('|')}|`)
  for (const [name, r] of w1) console.log(`| ${name} | ${sizes.w1.map((n) => show(r.results.get(n)?.figure ?? '—')).join(' | ')} |`)
  const torch = options.pytorch === undefined ? undefined : readPytorchReference(options.pytorch, { quick: options.quick, mlp: m })
  const torchName = typeof torch === 'object' ? `PyTorch ${torch.torch} on ${torch.device} (measured in this call)` : ''
  if (typeof torch === 'object') console.log(`| ${torchName} | ${sizes.w1.map((n) => show(torch.W1_gflops[String(n)] ?? '—')).join(' | ')} |`)
  else if (sizes.w1.includes(4096)) console.log(`| PyTorch on the H100 (quoted, not measured here) | ${sizes.w1.map((n) => (n === 4096 ? (PYTORCH.tflops4096 * 1000).toFixed(0) : '—')).join(' | ')} |`)
  if (typeof torch === 'string') console.log(`- PyTorch reference not used: ${torch}`)
  console.log(`\nW1 checks: max |error| ÷ float32 bound (≤ 1 passes) on the checked rows`)
  console.log(`| contender | ${sizes.w1.map((n) => `n=${n}`).join(' | ')} |`)
  console.log(`|---|${sizes.w1.map(() => '--:').join('|')}|`)
  for (const [name, r] of w1) console.log(`| ${name} | ${sizes.w1.map((n) => r.results.get(n)?.check?.used?.toExponential(2) ?? '—').join(' | ')} |`)
  for (const [name, r] of w1) if (r.note !== undefined) console.log(`- ${name}: ${r.note}`)
  for (const [name, r] of w1) for (const [n, x] of r.results) if (x.check?.passed === false) console.log(`- ${name}, n=${n}: ${x.figure}`)
  const checkOf = (r: Result): string => (r.check === null ? '' : `${r.check.passed ? 'passed' : 'FAILED'}: ${r.check.what}${r.check.used === undefined ? '' : ` (max |error| ÷ bound ${r.check.used.toExponential(2)})`}`)
  console.log(`\n${mlpName(m)}, SGD lr ${m.lr}: training samples/s`)
  console.log('| contender | samples/s | check |')
  console.log('|---|--:|---|')
  for (const [name, r] of mlp) console.log(`| ${name} | ${show(r.result.figure)} | ${checkOf(r.result).replaceAll('|', '\\|')} |`)
  if (typeof torch === 'object') console.log(`| ${torchName} | ${show(torch.MLP_samples_per_s)} | |`)
  else if (!options.quick) console.log(`| PyTorch on the H100 (quoted, not measured here) | ${PYTORCH.mlpSamplesPerSecond.toExponential(2)} | |`)
  for (const [name, r] of mlp) if (r.note !== undefined) console.log(`- ${name}: ${r.note}`)
  for (const [name, r] of mlp) if (r.result.check?.passed === false) console.log(`- ${name}: ${r.result.figure}`)

  const ratios: Record<string, number> = {}
  const put = (key: string, a: number | undefined, b: number | undefined) => {
    if (a !== undefined && b !== undefined) ratios[key] = a / b
  }
  const tfW1Row = w1.get(tfName)!
  // the target compares chains with chains; the independent (vector) variants are a what-if
  const best = (n: number, rows: readonly W1Row[]): number | undefined => {
    const b = Math.max(...rows.map((r) => value(r.results.get(n)) ?? -Infinity))
    return Number.isFinite(b) ? b : undefined
  }
  const laminaRows = [...w1.values()].filter((r) => r.engine === 'lamina')
  for (const n of sizes.w1) {
    put(`W1_n${n}_best_chained_lamina_vs_tfjs_webgpu`, best(n, laminaRows.filter((r) => r.how === 'chain')), value(tfW1Row.results.get(n)))
    put(`W1_n${n}_best_any_lamina_vs_tfjs_webgpu`, best(n, laminaRows), value(tfW1Row.results.get(n)))
  }
  put('MLP_vs_tfjs_webgpu', value(laminaMlpRow.result), value(tfMlpRow.result))
  if (typeof torch === 'object') {
    for (const n of sizes.w1) put(`W1_n${n}_best_chained_lamina_vs_pytorch`, best(n, laminaRows.filter((r) => r.how === 'chain')), torch.W1_gflops[String(n)]?.value)
    put('MLP_vs_pytorch', value(laminaMlpRow.result), torch.MLP_samples_per_s.value)
  } else if (!options.quick) put('MLP_vs_pytorch_quoted', value(laminaMlpRow.result), PYTORCH.mlpSamplesPerSecond)
  if (Object.keys(ratios).length > 0) console.log(`\nratios (lamina ÷ peer): ${Object.entries(ratios).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')}`)
  console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(1)} s`)

  if (options.json) {
    const plain = (r: Result) => ({ figure: r.figure, check: r.check })
    console.log(
      JSON.stringify({
        node: process.version,
        gpu: true,
        quick: options.quick,
        webgpu: unavailable ?? 'available',
        adapter,
        limits,
        sizes: { w1: sizes.w1, mlp: m, chain: CHAIN, warmup: sizes.warmup, reps: sizes.reps },
        w1: Object.fromEntries([...w1].map(([k, r]) => [k, { engine: r.engine, how: r.how, results: Object.fromEntries([...r.results].map(([n, x]) => [n, plain(x)])), note: r.note ?? null }])),
        mlp: Object.fromEntries([...mlp].map(([k, r]) => [k, { engine: r.engine, ...plain(r.result), note: r.note ?? null }])),
        ratios,
        pytorchQuoted: PYTORCH,
        pytorchMeasured: typeof torch === 'object' ? torch : (torch ?? null)
      })
    )
  }
}
