// The eager GPU.js backend's convolution and pooling kernels (src/backend/gpu-conv.ts) against
// the cpu backend's (float32: WebAssembly SIMD im2col and product, max pooling in WebAssembly)
// at LeNet-5's sizes, batch 32: the median of 15 timed calls after 3 warm-up calls, per kernel.
// The kernels are launched through the plans and the engine directly, so they run on any mode,
// webasm included (where the backend itself leaves convolutions to the cpu: see runsConvolutions).
//
//   node --import tsx --conditions=lamina-src bench/gpu-conv.ts [webasm|headlessgl]
//
// headlessgl needs an X display: xvfb-run -a.
import { cpu } from '../src/backend/cpu.js'
import type { Buffer } from '../src/tensor.js'
import { avgPool2dPlan, avgPool2dTransposePlan, conv2dFilterGradPlan, conv2dInputGradPlan, conv2dPlan, maxPool2dPlan } from '../src/backend/gpu-conv.js'
import { makeEngine, runSync } from '../src/backend/gpu-engine.js'
import { loadGpuModule } from '../src/backend/gpu-module.js'
import type { Plan } from '../src/backend/gpu-plans.js'

const mode = process.argv[2] ?? 'webasm'
const gpuModule = await loadGpuModule()
const engine = makeEngine(new gpuModule.GPU({ mode }), gpuModule, mode, { strict: true, maxKernels: 64, asyncMode: false })
const run = (plan: Plan<Buffer> | undefined): Buffer => {
  if (plan === undefined) throw new Error(`no kernel on ${mode} for this case`)
  return runSync(engine, plan)
}
const data = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 2)
const median = (f: () => unknown, n = 15): number => {
  for (let i = 0; i < 3; i++) f()
  const times: number[] = []
  for (let i = 0; i < n; i++) {
    const t = performance.now()
    f()
    times.push(performance.now() - t)
  }
  return times.sort((a, b) => a - b)[Math.floor(n / 2)]!
}

const cases: [string, () => unknown, () => unknown][] = []
const same = { stride: [1, 1], dilation: [1, 1], padding: [2, 2, 2, 2] } as const
for (const [b, c, h, o] of [[32, 1, 28, 6], [32, 6, 14, 16]] as const) {
  const x = data(b * c * h * h)
  const w = data(o * c * 25)
  const ct = data(b * o * h * h)
  const xs = [b, c, h, h]
  const ws = [o, c, 5, 5]
  const ys = [b, o, h, h]
  const tag = `[${xs.join(',')}] ⋆ [${ws.join(',')}]`
  cases.push([`conv2d ${tag}`, () => cpu.conv2d(x, xs, w, ws, same, 'f32'), () => run(conv2dPlan(mode, x, xs, w, ws, same, 'f32'))])
  cases.push([`conv2dInputGrad ${tag}`, () => cpu.conv2dInputGrad(ct, ys, w, ws, same, [h, h], 'f32'), () => run(conv2dInputGradPlan(mode, ct, ys, w, ws, same, [h, h], 'f32'))])
  cases.push([`conv2dFilterGrad ${tag}`, () => cpu.conv2dFilterGrad(x, xs, ct, ys, same, [5, 5], 'f32'), () => run(conv2dFilterGradPlan(mode, x, xs, ct, ys, same, [5, 5], 'f32'))])
}
const pool = { kernel: [2, 2], stride: [2, 2], padding: [0, 0, 0, 0] } as const
const image = data(32 * 6 * 28 * 28)
const pooled = data(32 * 6 * 14 * 14)
const shape = [32, 6, 28, 28]
cases.push(['maxPool2d [32,6,28,28] 2×2', () => cpu.maxPool2d(image, shape, pool, 'f32'), () => run(maxPool2dPlan(mode, image, shape, pool, 'f32'))])
cases.push(['avgPool2d [32,6,28,28] 2×2', () => cpu.avgPool2d(image, shape, pool, undefined, 'f32'), () => run(avgPool2dPlan(mode, image, shape, pool, undefined, 'f32'))])
cases.push([
  'avgPool2dTranspose [32,6,14,14] 2×2',
  () => cpu.avgPool2dTranspose(pooled, [32, 6, 14, 14], pool, undefined, [28, 28], 'f32'),
  () => run(avgPool2dTransposePlan(mode, pooled, [32, 6, 14, 14], pool, undefined, [28, 28], 'f32'))
])

console.log(`GPU.js kernels on ${mode} vs the cpu backend (float32), median ms of 15 calls`)
for (const [name, onCpu, onGpu] of cases) {
  const tc = median(onCpu)
  const tg = median(onGpu)
  console.log(`${name.padEnd(42)} cpu ${tc.toFixed(2).padStart(8)}  gpu.js ${tg.toFixed(2).padStart(8)}  gpu.js/cpu ${(tg / tc).toFixed(1).padStart(6)}`)
}
engine.dispose()
