/**
 * The error of the GPU.js backend.
 *
 * @module
 */
import { LaminaError } from '../error.js'

/**
 * A GPU.js backend could not be created, or a kernel ran somewhere it was not asked to.
 *
 * @example
 * ```ts
 * import { createGpuBackend, GpuError } from 'lamina-nn/gpu'
 * import assert from 'node:assert'
 * // webgpu kernels return Promises, which the synchronous Backend cannot use
 * await assert.rejects(createGpuBackend({ mode: 'webgpu', onUnavailable: 'throw' }), GpuError)
 * ```
 */
export class GpuError extends LaminaError {
  override name = 'GpuError'
}

