/**
 * Loading gpu.js and naming its modes: the small part of GPU.js's API the backend uses (its
 * own typings are looser than we need), which kernel class implements which mode, and why
 * headlessgl does not start here.
 *
 * @module
 */
import { importGpuJs } from './gpujs.js'

export interface KernelRun {
  (...args: unknown[]): unknown
  readonly kernel?: {
    readonly constructor: { readonly mode?: string }
    readonly fallbackReason?: string | null
    readonly precision?: string | null
    readonly _lastRunPath?: string | null
  }
  destroy(removeCanvasReferences?: boolean): void
}
export interface GpuInstance {
  createKernel(source: string, settings: Record<string, unknown>): KernelRun
  destroy(): unknown
}
export interface GpuClass {
  new (settings: { mode?: string }): GpuInstance
  readonly isWebGPUSupported?: boolean
}
export interface GpuModule {
  readonly GPU: GpuClass
  /** GPU.js kernel class → the mode it implements (its own `mode` getter says `'gpu'` for every GL class). */
  readonly kernelModes: ReadonlyMap<unknown, string>
  readonly threadsSupported: boolean
}

export const syncModes: ReadonlySet<string> = new Set(['webasm', 'headlessgl', 'webgl2', 'webgl', 'gpu', 'cpu'])
export const glModes: ReadonlySet<string> = new Set(['headlessgl', 'webgl2', 'webgl'])

export const loadGpuModule = async (): Promise<GpuModule> => {
  const mod = (await importGpuJs()) as Readonly<Record<string, unknown>> & { GPU: GpuClass }
  const classes: [string, string][] = [
    ['HeadlessGLKernel', 'headlessgl'],
    ['WebGL2Kernel', 'webgl2'],
    ['WebGLKernel', 'webgl'],
    ['WebAssemblyKernel', 'webasm'],
    ['WebGPUKernel', 'webgpu'],
    ['CPUKernel', 'cpu']
  ]
  const kernelModes = new Map<unknown, string>()
  for (const [name, mode] of classes) if (mod[name] !== undefined) kernelModes.set(mod[name], mode)
  const wasm = mod['WebAssemblyKernel'] as { isThreadsSupported?: boolean } | undefined
  return { GPU: mod.GPU, kernelModes, threadsSupported: wasm?.isThreadsSupported === true }
}

export const message = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/** Why headlessgl does not start here, in words a user can act on (Node only; elsewhere GPU.js's reason). */
export const diagnoseHeadlessGl = async (gpuReason: string): Promise<string> => {
  if (typeof process === 'undefined' || process.versions?.node === undefined) return gpuReason
  try {
    // a specifier bundlers leave alone: this module also runs in browsers (the playground)
    const nodeModule = 'node:module'
    const { createRequire } = (await import(/* @vite-ignore */ nodeModule)) as typeof import('node:module')
    // resolve `gl` the way gpu.js does: from gpu.js's own directory
    const fromGpuJs = createRequire(createRequire(import.meta.url).resolve('gpu.js'))
    let getContext: unknown
    try {
      getContext = fromGpuJs('gl')
    } catch (e) {
      return `the optional 'gl' package is not installed or not built (bash scripts/install-gl.sh builds it): ${message(e).split('\n')[0]}`
    }
    const display = process.env['DISPLAY']
    if (display === undefined || display === '') return "the 'gl' package is built but there is no X display (DISPLAY is unset): run under xvfb-run -a"
    type Context = { getExtension(name: string): { destroy?: () => void } | null }
    const context = typeof getContext === 'function' ? ((getContext as (w: number, h: number) => Context | null)(1, 1) ?? null) : null
    if (context === null) return `the 'gl' package is built but cannot create a context on DISPLAY=${display}`
    context.getExtension('STACKGL_destroy_context')?.destroy?.()
    return `${gpuReason} (though 'gl' creates a context on DISPLAY=${display})`
  } catch (e) {
    return `${gpuReason} (${message(e)})`
  }
}
