/**
 * Picks the backend of lamina's eager interpreter in this browser and says why. The eager
 * interpreter calls its backend synchronously, so only GPU.js's synchronous modes can drive
 * it: WebGL2 first, then WebAssembly (`webasm`), then lamina's own cpu backend. WebGPU's
 * GPU.js kernels return Promises, so WebGPU trains through the compiled interpreter instead
 * (compiled.ts); this module only finds its adapter.
 *
 * @module
 */
import { cpu } from 'lamina-nn'
import type { Backend } from 'lamina-nn'
import { createGpuBackend } from 'lamina-nn/gpu'
import type { BackendChoice } from './config.js'

/** The backend in use and the reasons for the choice, for the page to show. */
export interface Chosen {
  readonly backend: Backend
  /** The GPU.js mode that runs the kernels, or `cpu` for lamina's reference backend. */
  readonly mode: 'webgl2' | 'webasm' | 'cpu'
  /** One line for the badge: `GPU.js webgl2 (ANGLE … SwiftShader …)`. */
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

/** Chooses the eager interpreter's backend for a configuration's `backend` field. */
export const choose = async (choice: BackendChoice): Promise<Chosen> => {
  const renderer = webgl2Renderer()
  const adapter = await webgpuAdapter()
  const notes: string[] = []
  const info = { webgl2: renderer !== undefined, webgpu: adapter !== undefined, adapter }
  // 'webgpu' trains compiled; its eager backend (Step, and the fallback) is picked as for 'auto'
  const order: readonly ('webgl2' | 'webasm')[] = choice === 'cpu' ? [] : choice === 'webasm' ? ['webasm'] : ['webgl2', 'webasm']
  for (const mode of order) {
    if (mode === 'webgl2' && renderer === undefined) {
      notes.push('No WebGL2 in this browser: training runs on WebAssembly instead.')
      continue
    }
    const gpu = await createGpuBackend({ mode, onUnavailable: 'cpu' })
    if (gpu.mode === mode) {
      const where = mode === 'webgl2' ? ` on ${renderer}` : ' (WebAssembly)'
      if (mode === 'webgl2' && /swiftshader|llvmpipe|software/i.test(renderer ?? '')) {
        notes.push('This WebGL2 is a software renderer (no GPU), so each kernel runs on the CPU; for a network this small GPU.js webasm is faster (Backend: webasm).')
      }
      return { backend: gpu.backend, mode, summary: `GPU.js ${mode}${where}`, notes, ...info, dispose: () => gpu.dispose() }
    }
    notes.push(`GPU.js ${mode} is unavailable: ${gpu.fallbackReason ?? 'no reason given'}.`)
  }
  if (choice === 'cpu') notes.push('The configuration asks for lamina’s cpu backend.')
  return { backend: cpu, mode: 'cpu', summary: 'lamina cpu (float64, plain JavaScript)', notes, ...info, dispose: () => {} }
}
