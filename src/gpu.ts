/**
 * `lamina-nn/gpu`: the GPU.js side of lamina. Kept out of the root module so that `lamina` does
 * not load gpu.js unless a program asks for it (it is imported lazily even here).
 *
 * @module lamina-nn/gpu
 */
export { createGpuBackend, createGpuKernelsAsync, GpuError } from './backend/gpu.js'
export type { GpuAsyncKernels, GpuAsyncOptions, GpuBackend, GpuBackendOptions, GpuMode, GpuStats } from './backend/gpu.js'
export { compile } from './compiled/compile.js'
export type { CompileOptions, CompiledStep, CompiledStats, CompiledMode, ExecutorKind, StepBatches, StepsResult, TrainingState } from './compiled/compile.js'
export { CompileError } from './compiled/error.js'
export type { CompileErrorReason } from './compiled/error.js'
