/**
 * Picks the backend of lamina's eager interpreter in this browser and says why. The eager
 * interpreter calls its backend synchronously: lamina's own cpu backend (float64 or float32) or
 * GPU.js's synchronous modes, WebGL2 and WebAssembly (`webasm`). WebGPU's GPU.js kernels return
 * Promises, so WebGPU trains through the compiled interpreter instead (compiled.ts); this module
 * only finds its adapter.
 *
 * The default is lamina's cpu backend in float32: for the playground's networks (a few units,
 * minibatches of 16) a GPU.js kernel launch costs more than the arithmetic it saves, and the
 * cpu backend runs faster in float32 than in float64 (its float32 matrix products, and larger
 * elementwise operations, run as WebAssembly SIMD kernels). Measured with the page's Compare backends
 * (2.5 s per backend after a warm-up, twice per browser) on the default network (2-8-8-1 tanh,
 * batch 16, Adam) in headless Chromium 156 on a 2-core machine without a GPU, shared with other
 * jobs (load average 6–10), steps/s:
 *   lamina cpu float32 1,500–1,880 · lamina cpu float64 850–1,020 · GPU.js webasm 380–620 ·
 *   GPU.js webgpu compiled (SwiftShader, `--enable-unsafe-webgpu`) 500–810 ·
 *   GPU.js webgl2 (SwiftShader) 38–47.
 *
 * @module
 */
import { cpu } from 'lamina-nn'
import type { Backend, DType } from 'lamina-nn'
import { createGpuBackend } from 'lamina-nn/gpu'
import type { BackendChoice } from './config.js'
import * as T from './trainer.js'

/** The eager interpreter's backends: lamina's cpu (float64, float32) and GPU.js's synchronous modes. */
export type EagerMode = 'cpu' | 'cpu32' | 'webgl2' | 'webasm'

/** The backend in use and the reasons for the choice, for the page to show. */
export interface Chosen {
  readonly backend: Backend
  readonly mode: EagerMode
  /** The precision the session's tensors are in (GPU.js kernels compute in float32 whatever it is). */
  readonly dtype: DType
  /** One line for the badge: `lamina cpu (float64)`, `GPU.js webgl2 (ANGLE … SwiftShader …)`. */
  readonly summary: string
  /** Why other modes are not in use, one sentence each. */
  readonly notes: readonly string[]
  /** Whether this browser has WebGL2 / WebGPU at all. */
  readonly webgl2: boolean
  readonly webgpu: boolean
  /** The WebGPU adapter, when there is one. */
  readonly adapter: WebGpuAdapter | undefined
  dispose(): void
}

/** The WebGL2 renderer string (`ANGLE (…, SwiftShader …)`), or undefined without WebGL2. */
export const webgl2Renderer = (): string | undefined => {
  try {
    const gl = document.createElement('canvas').getContext('webgl2')
    if (gl === null) return undefined
    const info = gl.getExtension('WEBGL_debug_renderer_info')
    const renderer: unknown = gl.getParameter(info === null ? gl.RENDERER : info.UNMASKED_RENDERER_WEBGL)
    gl.getExtension('WEBGL_lose_context')?.loseContext()
    return typeof renderer === 'string' ? renderer : 'unknown renderer'
  } catch {
    return undefined
  }
}

/** What the page says about a WebGPU adapter. */
export interface WebGpuAdapter {
  /** `google swiftshader`: vendor and architecture (or description) from `GPUAdapterInfo`. */
  readonly name: string
  /** A software adapter (SwiftShader, or one the browser flags as its fallback): its kernels run on the CPU. */
  readonly software: boolean
}

interface AdapterLike {
  readonly info?: { readonly vendor?: string; readonly architecture?: string; readonly description?: string }
  readonly isFallbackAdapter?: boolean
}
interface NavigatorGpu {
  readonly gpu?: { requestAdapter(): Promise<AdapterLike | null> }
}

/** The WebGPU adapter, or undefined when there is none (`navigator.gpu` alone can exist without one). */
export const webgpuAdapter = async (): Promise<WebGpuAdapter | undefined> => {
  const gpu = (navigator as Navigator & NavigatorGpu).gpu
  if (gpu === undefined) return undefined
  try {
    const adapter = await gpu.requestAdapter()
    if (adapter === null) return undefined
    const info = adapter.info ?? {}
    const name = [info.vendor, info.architecture || info.description].filter((part) => part !== undefined && part !== '').join(' ') || 'unnamed adapter'
    const software = adapter.isFallbackAdapter === true || /swiftshader|llvmpipe|software/i.test(name)
    return { name, software }
  } catch {
    return undefined
  }
}

const cpuSummary = (dtype: DType): string => `lamina cpu (${dtype === 'f32' ? 'float32' : 'float64'}, plain JavaScript)`

/**
 * Chooses the eager interpreter's backend for a configuration's `backend` field. `webgl2`
 * falls back to webasm, and both to lamina's cpu backend, saying why; `webgpu` trains
 * compiled, and its eager companion (Step, and the fallback) is lamina's cpu backend.
 */
export const choose = async (choice: BackendChoice): Promise<Chosen> => {
  const renderer = webgl2Renderer()
  const adapter = await webgpuAdapter()
  const notes: string[] = []
  const info = { webgl2: renderer !== undefined, webgpu: adapter !== undefined, adapter }
  const order: readonly ('webgl2' | 'webasm')[] = choice === 'webgl2' ? ['webgl2', 'webasm'] : choice === 'webasm' ? ['webasm'] : []
  for (const mode of order) {
    if (mode === 'webgl2' && renderer === undefined) {
      notes.push('No WebGL2 in this browser: training runs on WebAssembly instead.')
      continue
    }
    const gpu = await createGpuBackend({ mode, onUnavailable: 'cpu' })
    if (gpu.mode === mode) {
      const where = mode === 'webgl2' ? ` on ${renderer}` : ' (WebAssembly)'
      if (mode === 'webgl2' && /swiftshader|llvmpipe|software/i.test(renderer ?? '')) {
        notes.push('This WebGL2 is a software renderer (no GPU), so each kernel runs on the CPU.')
      }
      notes.push('For networks this small each GPU.js kernel launch costs more than its arithmetic: lamina cpu (the default) is faster; Compare backends measures it.')
      return { backend: gpu.backend, mode, dtype: 'f64', summary: `GPU.js ${mode}${where}`, notes, ...info, dispose: () => gpu.dispose() }
    }
    notes.push(`GPU.js ${mode} is unavailable: ${gpu.fallbackReason ?? 'no reason given'}.`)
  }
  const dtype = T.dtypeOf({ backend: choice })
  if (choice === 'cpu32') notes.push('lamina’s cpu backend in float32 is the default: the fastest measured for networks this small (Compare backends measures it here).')
  return { backend: cpu, mode: dtype === 'f32' ? 'cpu32' : 'cpu', dtype, summary: cpuSummary(dtype), notes, ...info, dispose: () => {} }
}

/** The eager backend of one mode, or why this browser has none (for the comparison; a cpu mode always works). */
export const eagerBackend = async (mode: EagerMode): Promise<{ backend: Backend; summary: string; dispose(): void } | { unavailable: string }> => {
  if (mode === 'cpu' || mode === 'cpu32') return { backend: cpu, summary: cpuSummary(mode === 'cpu32' ? 'f32' : 'f64'), dispose: () => {} }
  if (mode === 'webgl2' && webgl2Renderer() === undefined) return { unavailable: 'no WebGL2 in this browser' }
  const gpu = await createGpuBackend({ mode, onUnavailable: 'cpu' })
  if (gpu.mode !== mode) {
    gpu.dispose()
    return { unavailable: gpu.fallbackReason ?? `GPU.js ${mode} is unavailable` }
  }
  return { backend: gpu.backend, summary: `GPU.js ${mode}`, dispose: () => gpu.dispose() }
}
