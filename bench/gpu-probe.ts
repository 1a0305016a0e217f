/**
 * Probe of the GPU.js backend: which modes initialise here, and a 512×512 matmul per mode
 * against the cpu backend. Run: `npx tsx bench/gpu-probe.ts [n]`.
 */
import { cpu } from '../src/backend/cpu.js'
import { createGpuBackend } from '../src/backend/gpu.js'
import type { GpuMode } from '../src/backend/gpu.js'
import type { Backend } from '../src/backend/backend.js'

const n = Number(process.argv[2] ?? 512)
const reps = 3
const a64 = Float64Array.from({ length: n * n }, () => Math.random() - 0.5)
const b64 = Float64Array.from({ length: n * n }, () => Math.random() - 0.5)
const a32 = Float32Array.from(a64)
const b32 = Float32Array.from(b64)

const time = (label: string, backend: Backend, dtype: 'f32' | 'f64'): void => {
  const [a, b] = dtype === 'f32' ? [a32, b32] : [a64, b64]
  const t0 = performance.now()
  backend.matmul(a, [n, n], b, [n, n], false, false, dtype)
  const first = performance.now() - t0
  const t1 = performance.now()
  for (let i = 0; i < reps; i++) backend.matmul(a, [n, n], b, [n, n], false, false, dtype)
  const each = (performance.now() - t1) / reps
  console.log(`${label.padEnd(28)} ${dtype}  first ${first.toFixed(1).padStart(8)} ms  then ${each.toFixed(1).padStart(8)} ms  ${((2 * n ** 3) / each / 1e6).toFixed(2)} GFLOP/s`)
}

time('cpu', cpu, 'f64')
time('cpu', cpu, 'f32')
for (const mode of ['webasm', 'headlessgl', 'webgl2', 'webgpu', 'gpu'] as GpuMode[]) {
  const g = await createGpuBackend({ mode })
  if (g.mode === 'none') {
    console.log(`${mode.padEnd(28)} unavailable: ${g.fallbackReason}`)
    continue
  }
  time(`gpu.js ${mode} (ran ${g.mode})`, g.backend, 'f32')
  g.dispose()
}
