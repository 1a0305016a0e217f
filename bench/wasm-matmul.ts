/**
 * The cpu backend's float32 matrix product (the WebAssembly SIMD kernel) against TensorFlow.js
 * 4.22's wasm backend (XNNPACK) in the same process, one thread each: GFLOP/s at n = 128 … 1024
 * and the transposed products training uses (aᵀ·b, a·bᵀ) at 512.
 *
 *   npx tsx --conditions=lamina-src bench/wasm-matmul.ts [--rounds 7] [--sizes 128,256,512,1024]
 *
 * The two engines are timed in alternating rounds so that load from other processes on a shared
 * machine hits both alike; each figure is the median over rounds, and the ratio is what to read.
 * Two clocks: wall time, and this process's CPU time (user + system), which leaves out the time
 * the scheduler gives to other processes on a busy machine; both engines run on one thread.
 */
import { tfWasmDir } from './workload.js'
import { cpu } from 'lamina-nn'

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : undefined
}
const rounds = Number(arg('rounds') ?? 7)
const sizes = (arg('sizes') ?? '128,256,512,1024').split(',').map(Number)

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((x, y) => x - y)
  return s[Math.floor(s.length / 2)]!
}

interface Timing {
  readonly wallMs: number
  readonly cpuMs: number
}

/** Wall and CPU milliseconds per call: means over enough calls to fill ~`targetMs` of wall time. */
const perCall = (fn: () => void, targetMs: number): Timing => {
  let reps = 1
  for (;;) {
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    for (let i = 0; i < reps; i++) fn()
    const ms = performance.now() - t0
    const cpu = process.cpuUsage(c0)
    if (ms >= targetMs || reps >= 1 << 16) return { wallMs: ms / reps, cpuMs: (cpu.user + cpu.system) / 1000 / reps }
    reps *= ms > 0 ? Math.min(8, Math.max(2, Math.ceil(targetMs / ms))) : 8
  }
}

let seed = 1
const random = (length: number): Float32Array => {
  const out = new Float32Array(length)
  for (let i = 0; i < length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0
    out[i] = seed / 2 ** 32 - 0.5
  }
  return out
}

const tf = await import('@tensorflow/tfjs')
const tfWasm = await import('@tensorflow/tfjs-backend-wasm')
tfWasm.setWasmPaths(tfWasmDir())
if (!(await tf.setBackend('wasm'))) throw new Error("tf.setBackend('wasm') failed")
await tf.ready()
console.log(
  `node ${process.version}; tfjs wasm: ${tfWasm.getThreadsCount()} thread(s), SIMD ${String(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))}; ` +
    `medians of ${rounds} alternating rounds`
)

interface Case {
  readonly label: string
  readonly n: number
  readonly transA: boolean
  readonly transB: boolean
}
const cases: Case[] = [
  ...sizes.map((n) => ({ label: `a·b   n=${n}`, n, transA: false, transB: false })),
  { label: 'aᵀ·b  n=512', n: 512, transA: true, transB: false },
  { label: 'a·bᵀ  n=512', n: 512, transA: false, transB: true }
]

console.log('GFLOP/s        by wall time: lamina   tfjs  ratio   by CPU time: lamina   tfjs  ratio')
for (const { label, n, transA, transB } of cases) {
  const a = random(n * n)
  const b = random(n * n)
  const ta = tf.tensor2d(a, [n, n], 'float32')
  const tb = tf.tensor2d(b, [n, n], 'float32')
  const lamina = () => void cpu.matmul(a, [n, n], b, [n, n], transA, transB, 'f32')
  const tfjs = () => {
    const c = tf.matMul(ta, tb, transA, transB)
    c.dataSync()
    c.dispose()
  }
  // agree before timing: the two products differ only by float32 rounding
  const mine = cpu.matmul(a, [n, n], b, [n, n], transA, transB, 'f32')
  const theirs = tf.matMul(ta, tb, transA, transB).dataSync()
  let worst = 0
  for (let i = 0; i < mine.length; i++) worst = Math.max(worst, Math.abs(mine[i]! - theirs[i]!))
  if (!(worst < 1e-3)) throw new Error(`${label}: lamina and tfjs differ by ${worst}`)
  const targetMs = 150
  perCall(lamina, targetMs)
  perCall(tfjs, targetMs)
  const ours: Timing[] = []
  const theirsMs: Timing[] = []
  for (let r = 0; r < rounds; r++) {
    ours.push(perCall(lamina, targetMs))
    theirsMs.push(perCall(tfjs, targetMs))
  }
  const gflops = (ms: number) => (2 * n * n * n) / (ms * 1e6)
  const columns = (clock: keyof Timing): string => {
    const l = gflops(median(ours.map((t) => t[clock])))
    const t = gflops(median(theirsMs.map((x) => x[clock])))
    return `${l.toFixed(1).padStart(20)} ${t.toFixed(1).padStart(6)} ${(l / t).toFixed(2).padStart(6)}`
  }
  console.log(`${label.padEnd(14)}${columns('wallMs')}   ${columns('cpuMs')}`)
  ta.dispose()
  tb.dispose()
}
