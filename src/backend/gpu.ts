/**
 * An optional GPU.js backend, exported from `lamina-nn/gpu` (gpu.js is loaded only when
 * {@link createGpuBackend} or {@link createGpuKernelsAsync} is called).
 *
 * What runs as a GPU.js kernel (float32, whatever the dtype):
 * - `matmul` with both transpose flags (`x·w`, `dY·wᵀ`, `xᵀ·dY` without materialising a
 *   transpose) and `batchMatmul` `[B,M,K]×[B,K,N]` with the same flags. Each kernel thread
 *   computes a block of outputs (returned as a GPU.js `Array(4)`/`Array(2)` vector): 4 rows
 *   on webasm, where the lanes of its f32x4 SIMD share a row of A, and 2×2 on the GL modes,
 *   where every array read is a texture fetch. Shapes that are not multiples of the block are
 *   zero-padded (a smaller block, or one output per thread, where padding would waste more
 *   than a quarter of the work);
 * - `broadcastTo` (the bias broadcast `[n] → [batch, n]` and any broadcast whose axes merge
 *   into at most three runs);
 * - `binary` (every `BinaryOp`) and `unary` (every `UnaryOp`), from the kernel expressions
 *   every GPU.js mode runs (`kernel-expressions.ts`, shared with the compiled interpreter);
 * - `reduce` (`sum`, `max`, `min`) and `logSumExp` over any axes: the shape is collapsed into
 *   runs of kept and reduced axes and each reduced run is one `[outer, R, inner]` pass (two on
 *   the GL modes when R is too long for llvmpipe's loop limit, see `MAX_TRIPS`);
 * - on the GL modes, `conv2d` and its input and filter gradients, `maxPool2d` and its
 *   derivatives (`maxPool2dGather`, `maxPool2dSpread`), `avgPool2d` (with or without window
 *   weights) and `avgPool2dTranspose`: direct loops, one output element per thread (`gpu-conv.ts`).
 *
 * What is delegated to the {@link cpu} reference backend (in the requested dtype, so f64 stays f64):
 * `map` and `zip` (arbitrary JS callbacks), `transpose`, `slice`, `concat`, `compare` and
 * `select` (exact on the cpu in either dtype), `pow` with a non-finite exponent, broadcasts of
 * more than three runs, convolutions and poolings on webasm (the cpu's WebAssembly SIMD im2col
 * is 2–100 times faster on the same cores, `bench/gpu-conv.ts`) and on GL where a buffer
 * reaches 2²⁴ elements (float indices) or a thread would loop past llvmpipe's trip limit, and
 * any call with a zero-sized operand.
 *
 * Precision contract: kernels compute in float32 (GPU.js `precision: 'single'`; a kernel that
 * ran in another precision is an error like a degraded mode). For `dtype: 'f32'` the inputs are
 * used as they are and a `Float32Array` comes back. For `dtype: 'f64'` the inputs are rounded
 * to float32, the kernel computes in float32, and the float32 result is widened into a
 * `Float64Array` — the dtype is preserved, the precision is not.
 *
 * Index arithmetic: every array index in a kernel is built from `this.thread.*`, loop counters
 * (cast with `| 0` on webasm) and integer literals only: the sizes are written into the source
 * (kernels are compiled per shape anyway). GPU.js types a `const`, a float constant and, on
 * webasm, a bare loop counter as float, and a float index is wrong past 2²⁴ elements; integer
 * indices also made the webasm matmul about twice as fast.
 *
 * Kernels are compiled per shape and flags and cached (bounded, least recently used evicted and
 * destroyed); {@link GpuBackend.dispose} destroys them all and the GPU.js instance.
 *
 * The parts: `gpu-module.ts` (loading gpu.js, naming its modes), `gpu-sources.ts` (kernel
 * sources), `gpu-plans.ts` (launches and how their results become buffers), `gpu-engine.ts`
 * (kernel cache, mode checks, running a plan), `gpu-conv.ts` (convolution and pooling
 * kernels), `gpu-backend.ts` (the {@link Backend} object);
 * this module creates and proves them.
 *
 * @module
 */
import type { Backend } from './backend.js'
import { cpu } from './cpu.js'
import { makeBackend } from './gpu-backend.js'
import { makeEngine, runAsync } from './gpu-engine.js'
import type { GpuStats } from './gpu-engine.js'
import { GpuError } from './gpu-error.js'
import { diagnoseHeadlessGl, loadGpuModule, message, syncModes } from './gpu-module.js'
import type { GpuInstance, GpuModule } from './gpu-module.js'
import { productPlan } from './gpu-plans.js'
import type { Buffer, DType } from '../tensor.js'
import type { Shape } from '../shape.js'

export { GpuError } from './gpu-error.js'
export type { GpuStats } from './gpu-engine.js'

/** The GPU.js modes one can ask for. Only the synchronous ones can drive a {@link Backend}. */
export type GpuMode = 'webasm' | 'headlessgl' | 'webgl2' | 'webgl' | 'webgpu' | 'gpu' | 'async' | 'cpu'

/** Options of {@link createGpuBackend}. */
export interface GpuBackendOptions {
  /** The GPU.js mode to use (default `'webasm'`). `'gpu'` lets GPU.js choose among its accelerated backends. */
  readonly mode?: GpuMode
  /**
   * What to do when the mode cannot be used: `'cpu'` (default) returns lamina's cpu backend
   * with `mode: 'none'` and the reason in `fallbackReason`; `'throw'` rejects with a {@link GpuError}.
   */
  readonly onUnavailable?: 'cpu' | 'throw'
  /**
   * Throw a {@link GpuError} when a kernel silently degrades to GPU.js's own `cpu` mode (or to
   * any mode other than the one that was asked for), or runs in a precision other than
   * float32 (default `true`). Off, the degradation is recorded in {@link GpuStats.fallbacks}.
   */
  readonly strict?: boolean
  /** At most this many compiled kernels are kept (default 256). */
  readonly maxKernels?: number
}
/** A created GPU.js backend. */
export interface GpuBackend {
  readonly backend: Backend
  /** The GPU.js mode that actually ran the probe kernel, or `'none'` when lamina's cpu backend stands in. */
  readonly mode: string
  /** Why the requested mode is not in use (only when `mode` is `'none'`). */
  readonly fallbackReason?: string
  stats(): GpuStats
  /** Destroys every compiled kernel and the GPU.js instance. Later calls on `backend` throw. */
  dispose(): void
}

/** Options of {@link createGpuKernelsAsync}. */
export interface GpuAsyncOptions {
  /**
   * The GPU.js mode (default `'webasm'`, the one whose kernels run on worker threads under the
   * async contract). `'webgpu'` needs a `navigator.gpu` (in Node: `installWebGpu` from `lamina-nn/node`).
   */
  readonly mode?: 'webasm' | 'webgpu' | 'headlessgl' | 'webgl2' | 'webgl' | 'gpu'
  /** As in {@link GpuBackendOptions.strict} (default `true`). */
  readonly strict?: boolean
  /** At most this many compiled kernels are kept (default 64). */
  readonly maxKernels?: number
  /** At most this many webasm worker threads (default: GPU.js's, the number of cores). */
  readonly poolSize?: number
}

/** The product kernels under GPU.js's async contract: every call returns a Promise. */
export interface GpuAsyncKernels {
  /** The GPU.js mode that ran the probe kernel. */
  readonly mode: string
  /** Whether webasm kernels can be split across worker threads here (SharedArrayBuffer and wasm threads exist). */
  readonly threads: boolean
  /** As {@link Backend.matmul}, resolved when the kernel has run. */
  matmul(a: Buffer, aShape: Shape, b: Buffer, bShape: Shape, transposeA: boolean, transposeB: boolean, dtype: DType): Promise<Buffer>
  /** As {@link Backend.batchMatmul}, resolved when the kernel has run. */
  batchMatmul(a: Buffer, aShape: Shape, b: Buffer, bShape: Shape, transposeA: boolean, transposeB: boolean, dtype: DType): Promise<Buffer>
  stats(): GpuStats
  /** Destroys every compiled kernel, the worker pool and the GPU.js instance. */
  dispose(): void
}

/** The sizes of a probe: the exact sums any float32 arithmetic must produce. */
const probeArgs = [new Float32Array([1, 2, 3, 4, 5]), new Float32Array([10, 20, 30, 40, 50])] as const
const probeWant = [11, 22, 33, 44, 55]

/**
 * Creates a GPU.js backend. Asynchronous because gpu.js is loaded on demand (so lamina works
 * where it is absent or cannot initialise) and because probing some modes is asynchronous.
 *
 * The mode is proven with a probe kernel: it must run on the requested mode (GPU.js names a
 * GL kernel's mode `'gpu'`; lamina names it by its class, e.g. `'headlessgl'`) and compute
 * the right numbers. `headlessgl` needs the optional `gl` package built
 * (`bash scripts/install-gl.sh`) and an X display (`xvfb-run -a`); without them the
 * fallback reason says which is missing.
 *
 * @example
 * ```ts
 * import { createGpuBackend } from 'lamina-nn/gpu'
 * import { Backends, matmul, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const gpu = await createGpuBackend({ mode: 'webasm' })
 * // 'webasm' where WebAssembly runs; 'none' (the cpu backend, reason in fallbackReason) otherwise
 * assert.ok(gpu.mode === 'webasm' || gpu.fallbackReason !== undefined)
 * const x = tensor([[1, 2], [3, 4]], { dtype: 'f32' })
 * const y = Backends.withBackend(gpu.backend, () => matmul(x, x))
 * assert.deepStrictEqual(y.toArray(), [[7, 10], [15, 22]])
 * gpu.dispose()
 * ```
 *
 * @example
 * ```ts
 * import { createGpuBackend } from 'lamina-nn/gpu'
 * import { cpu } from 'lamina-nn'
 * import assert from 'node:assert'
 * // headlessgl runs where gl is built and a display exists (xvfb-run -a); elsewhere the
 * // cpu backend stands in and the reason says what is missing
 * const gl = await createGpuBackend({ mode: 'headlessgl' })
 * if (gl.mode === 'none') {
 *   assert.strictEqual(gl.backend, cpu)
 *   assert.match(gl.fallbackReason ?? '', /gl|display|DISPLAY/)
 * } else {
 *   assert.strictEqual(gl.mode, 'headlessgl')
 * }
 * gl.dispose()
 * ```
 */
export const createGpuBackend = async (options: GpuBackendOptions = {}): Promise<GpuBackend> => {
  const requested = options.mode ?? 'webasm'
  const unavailable = (reason: string): GpuBackend => {
    if (options.onUnavailable === 'throw') throw new GpuError(`gpu: mode '${requested}' is unavailable: ${reason}`)
    return {
      backend: cpu,
      mode: 'none',
      fallbackReason: reason,
      stats: () => ({ compiled: 0, cached: 0, launches: 0, modesRun: [], fallbacks: [], threadedLaunches: 0 }),
      dispose: () => {}
    }
  }
  let gpuModule: GpuModule
  try {
    gpuModule = await loadGpuModule()
  } catch (e) {
    return unavailable(`gpu.js could not be loaded: ${message(e)}`)
  }
  if (!syncModes.has(requested)) {
    const surface = requested === 'webgpu' && gpuModule.GPU.isWebGPUSupported !== true ? ' (and navigator.gpu is absent here)' : ''
    return unavailable(
      `mode '${requested}' returns a Promise from every kernel call, which the synchronous Backend interface cannot use${surface}; ` +
        'it belongs to the compiled interpreter'
    )
  }
  let gpu: GpuInstance
  try {
    gpu = new gpuModule.GPU({ mode: requested })
  } catch (e) {
    return unavailable(requested === 'headlessgl' ? await diagnoseHeadlessGl(message(e)) : message(e))
  }
  const engine = makeEngine(gpu, gpuModule, requested, { strict: options.strict ?? true, maxKernels: Math.max(1, options.maxKernels ?? 256), asyncMode: false })
  const backend = makeBackend(engine)
  const handle: GpuBackend = {
    backend,
    get mode(): string {
      return engine.expectedMode() ?? 'unknown'
    },
    stats: engine.stats,
    dispose: engine.dispose
  }
  // prove the mode with a real kernel: the probe must run where it was asked to, and be right
  try {
    const probe = backend.binary('add', probeArgs[0], probeArgs[1], 'f32')
    if (!probeWant.every((v, i) => probe[i] === v)) throw new Error(`the probe kernel computed [${[...probe].join(',')}]`)
    const ran = engine.stats().modesRun
    if (ran.length !== 1 || (requested !== 'gpu' && ran[0] !== requested)) {
      throw new Error(`asked for '${requested}', the probe kernel ran on [${ran.join(',')}]`)
    }
    if (requested === 'gpu' && ran[0] === 'cpu') throw new Error("auto-selection found no accelerated mode, only GPU.js's 'cpu'")
  } catch (e) {
    engine.dispose()
    return unavailable(message(e))
  }
  return handle
}

/**
 * The product kernels under GPU.js's async contract (`asyncMode: true`): every call returns a
 * Promise. On webasm this is what engages GPU.js's worker pool — a launch of at least 4096
 * output cells is split across `worker_threads` over one shared `WebAssembly.Memory`, with
 * results identical to the single-threaded run. The synchronous {@link Backend} cannot use it
 * (its kernels return buffers, not Promises); this is for callers that can await, such as a
 * batched inference loop or a benchmark. Rejects with a {@link GpuError} when the mode is
 * unavailable.
 *
 * @example
 * ```ts
 * import { createGpuKernelsAsync } from 'lamina-nn/gpu'
 * import assert from 'node:assert'
 * const kernels = await createGpuKernelsAsync({ mode: 'webasm' })
 * const a = new Float32Array([1, 2, 3, 4, 5, 6]) // [2, 3]
 * const b = new Float32Array([1, 0, 0, 1, 1, 1]) // [3, 2]
 * const c = await kernels.matmul(a, [2, 3], b, [3, 2], false, false, 'f32')
 * assert.deepStrictEqual([...c], [4, 5, 10, 11])
 * assert.deepStrictEqual(kernels.stats().modesRun, ['webasm'])
 * kernels.dispose()
 * ```
 */
export const createGpuKernelsAsync = async (options: GpuAsyncOptions = {}): Promise<GpuAsyncKernels> => {
  const requested = options.mode ?? 'webasm'
  let gpuModule: GpuModule
  let gpu: GpuInstance
  try {
    gpuModule = await loadGpuModule()
  } catch (e) {
    throw new GpuError(`gpu: gpu.js could not be loaded: ${message(e)}`)
  }
  try {
    gpu = new gpuModule.GPU({ mode: requested })
  } catch (e) {
    throw new GpuError(`gpu: mode '${requested}' is unavailable: ${requested === 'headlessgl' ? await diagnoseHeadlessGl(message(e)) : message(e)}`)
  }
  const engine = makeEngine(gpu, gpuModule, requested, {
    strict: options.strict ?? true,
    maxKernels: Math.max(1, options.maxKernels ?? 64),
    asyncMode: true,
    ...(options.poolSize !== undefined ? { poolSize: options.poolSize } : {})
  })
  const mode = (): string => engine.expectedMode() ?? 'unknown'
  const kernels: GpuAsyncKernels = {
    get mode(): string {
      return mode()
    },
    get threads(): boolean {
      return mode() === 'webasm' && gpuModule.threadsSupported
    },
    // async: a shape error rejects like every other failure instead of throwing from the call
    matmul: async (a, aShape, b, bShape, transposeA, transposeB, dtype) => runAsync(engine, productPlan(mode(), a, aShape, b, bShape, transposeA, transposeB, dtype, false)),
    batchMatmul: async (a, aShape, b, bShape, transposeA, transposeB, dtype) => runAsync(engine, productPlan(mode(), a, aShape, b, bShape, transposeA, transposeB, dtype, true)),
    stats: engine.stats,
    dispose: engine.dispose
  }
  try {
    const probe = await kernels.matmul(probeArgs[0], [5, 1], new Float32Array([1]), [1, 1], false, false, 'f32')
    if (![1, 2, 3, 4, 5].every((v, i) => probe[i] === v)) throw new Error(`the probe kernel computed [${[...probe].join(',')}]`)
    const ran = engine.stats().modesRun
    if (ran.length !== 1 || (requested !== 'gpu' ? ran[0] !== requested : ran[0] === 'cpu')) throw new Error(`asked for '${requested}', the probe kernel ran on [${ran.join(',')}]`)
  } catch (e) {
    engine.dispose()
    throw e instanceof GpuError ? e : new GpuError(`gpu: mode '${requested}' is unavailable: ${message(e)}`)
  }
  return kernels
}
