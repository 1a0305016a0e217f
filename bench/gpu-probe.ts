/**
 * Probe of the GPU.js backend: which modes initialise here, and an n×n×n matmul per mode
 * against the cpu backend, best of several runs (wall clock, and this process's CPU time,
 * which a busy shared machine disturbs less; GL modes run on llvmpipe's threads, so their CPU
 * time can exceed the wall time). Also the async webasm kernels, whose launches GPU.js splits
 * across worker threads.
 *
 * Run: `npx tsx --conditions=lamina-src bench/gpu-probe.ts [n] [reps]`; under `xvfb-run -a`
 * for headlessgl (after `bash scripts/install-gl.sh`).
 */
import { cpu } from '../src/backend/cpu.js'
import { createGpuBackend, createGpuKernelsAsync } from '../src/backend/gpu.js'
import type { GpuMode } from '../src/backend/gpu.js'
import type { Backend } from '../src/backend/backend.js'
import type { Buffer } from '../src/tensor.js'

const n = Number(process.argv[2] ?? 512)
const reps = Number(process.argv[3] ?? 5)
const a64 = Float64Array.from({ length: n * n }, () => Math.random() - 0.5)
const b64 = Float64Array.from({ length: n * n }, () => Math.random() - 0.5)
const a32 = Float32Array.from(a64)
const b32 = Float32Array.from(b64)
const flop = 2 * n ** 3

const report = async (label: string, dtype: string, run: () => Buffer | Promise<Buffer>): Promise<void> => {
  const t0 = performance.now()
  await run()
  const first = performance.now() - t0
  let wall = Infinity
  let cpuTime = Infinity
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage()
    const t1 = performance.now()
    await run()
    wall = Math.min(wall, performance.now() - t1)
    const c = process.cpuUsage(c0)
    cpuTime = Math.min(cpuTime, (c.user + c.system) / 1000)
  }
  const rate = (ms: number): string => ((flop / ms / 1e6).toFixed(2) + ' GFLOP/s').padStart(14)
  console.log(
    `${label.padEnd(34)} ${dtype}  first ${first.toFixed(1).padStart(8)} ms  best ${wall.toFixed(1).padStart(8)} ms ${rate(wall)}  (cpu ${cpuTime.toFixed(1).padStart(7)} ms ${rate(cpuTime)})`
  )
}

const timeBackend = (label: string, backend: Backend, dtype: 'f32' | 'f64'): Promise<void> => {
  const [a, b] = dtype === 'f32' ? [a32, b32] : [a64, b64]
  return report(label, dtype, () => backend.matmul(a, [n, n], b, [n, n], false, false, dtype))
}

console.log(`matmul ${n}×${n}×${n}, best of ${reps}`)
await timeBackend('cpu', cpu, 'f64')
await timeBackend('cpu', cpu, 'f32')
for (const mode of ['webasm', 'headlessgl', 'webgl2', 'webgpu', 'gpu'] as GpuMode[]) {
  const g = await createGpuBackend({ mode })
  if (g.mode === 'none') {
    console.log(`${mode.padEnd(34)} unavailable: ${g.fallbackReason}`)
    continue
  }
  await timeBackend(`gpu.js ${mode} (ran ${g.mode})`, g.backend, 'f32')
  g.dispose()
}
try {
  const kernels = await createGpuKernelsAsync({ mode: 'webasm' })
  await report(`gpu.js webasm async (threads ${kernels.threads})`, 'f32', () => kernels.matmul(a32, [n, n], b32, [n, n], false, false, 'f32'))
  console.log(`${''.padEnd(34)} launches split across workers: ${kernels.stats().threadedLaunches} of ${kernels.stats().launches}`)
  kernels.dispose()
} catch (e) {
  console.log(`${'webasm async'.padEnd(34)} unavailable: ${e instanceof Error ? e.message : String(e)}`)
}
