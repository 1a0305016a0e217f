/**
 * `lamina/gpu`: the GPU.js side of lamina. Kept out of the root module so that `lamina` does
 * not load gpu.js unless a program asks for it (it is imported lazily even here).
 *
 * @module lamina/gpu
 */
export { createGpuBackend, GpuError } from './backend/gpu.js'
export type { GpuBackend, GpuBackendOptions, GpuMode, GpuStats } from './backend/gpu.js'
