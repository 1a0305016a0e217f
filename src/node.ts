/**
 * `lamina-nn/node`: the parts of lamina that need Node (its file system, the Dawn WebGPU binding).
 * The root module stays free of `node:` imports so it runs in a browser.
 *
 * @module lamina-nn/node
 */
export * as Atomic from './io/atomic.js'
export * as ReadFile from './io/read-file.js'
export * as Mnist from './io/mnist.js'
export { installWebGpu } from './backend/node-webgpu.js'
export type { WebGpuAdapterInfo } from './backend/node-webgpu.js'
export * as Checkpoint from './io/checkpoint-file.js'
