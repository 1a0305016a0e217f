/**
 * WebGPU for Node: GPU.js's `webgpu` mode looks for `navigator.gpu`, which browsers have and
 * Node has not. The `webgpu` package (Dawn, a dependency of gpu.js) provides one; this module
 * installs it, with the one repair GPU.js needs: Dawn's device object refuses an assignment to
 * `onuncapturederror` ("object is not of the correct interface type"), which GPU.js makes, so
 * every device gets an ordinary property of that name. (Buffer limits are left to the caller:
 * GPU.js and TensorFlow.js each ask for the adapter's largest storage binding themselves.)
 *
 * @module
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import { GpuError } from './gpu.js'

/** What the adapter says about itself (Dawn's `GPUAdapterInfo`). */
export interface WebGpuAdapterInfo {
  readonly vendor: string
  readonly architecture: string
  readonly device: string
  readonly description: string
}

interface DeviceLike {
  onuncapturederror?: unknown
}
interface AdapterLike {
  readonly info?: Partial<WebGpuAdapterInfo>
  requestDevice(descriptor?: unknown): Promise<DeviceLike>
}
interface GpuLike {
  requestAdapter(options?: unknown): Promise<AdapterLike | null>
}
interface DawnModule {
  create(flags: readonly string[]): GpuLike
  readonly globals: object
}

const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 300)

/** Dawn's `create`, with every device it hands out given a writable `onuncapturederror`. */
const repaired = (dawn: DawnModule): GpuLike => {
  const gpu = dawn.create([])
  const requestAdapter = gpu.requestAdapter.bind(gpu)
  gpu.requestAdapter = async (options?: unknown) => {
    const adapter = await requestAdapter(options)
    if (adapter === null) return null
    const requestDevice = adapter.requestDevice.bind(adapter)
    adapter.requestDevice = async (descriptor?: unknown) => {
      const device = await requestDevice(descriptor)
      Object.defineProperty(device, 'onuncapturederror', { value: null, writable: true, configurable: true })
      return device
    }
    return adapter
  }
  return gpu
}

const describe = (adapter: AdapterLike): WebGpuAdapterInfo => {
  const info = adapter.info ?? {}
  return { vendor: info.vendor ?? '', architecture: info.architecture ?? '', device: info.device ?? '', description: info.description ?? '' }
}

/**
 * Gives Node a `navigator.gpu` from the `webgpu` package (Dawn) and asks it for an adapter, so
 * that `createGpuBackend`, `createGpuKernelsAsync` and `compile` from `lamina-nn/gpu` can use
 * `mode: 'webgpu'`. An existing `navigator.gpu` (a browser, or an earlier call) is kept.
 * Resolves to the adapter's description; fails with a {@link GpuError} saying why there is no
 * adapter: Dawn's binary did not load (it needs glibc 2.38 and GLIBCXX_3.4.32, which Debian 12
 * lacks: `bash scripts/install-webgpu.sh` prepares a Node that has them), or no Vulkan driver
 * answered (on a machine without a GPU, Mesa's lavapipe: `apt-get install mesa-vulkan-drivers`).
 *
 * A Node process that has used Dawn may abort while exiting ("std::system_error"); a program
 * that must exit cleanly ends with `process.exit()`.
 *
 * @example
 * ```ts
 * import { installWebGpu } from 'lamina-nn/node'
 * import { GpuError } from 'lamina-nn/gpu'
 * import assert from 'node:assert'
 * // without an adapter this is a Left holding a GpuError that says why
 * const result = await installWebGpu()()
 * if (result._tag === 'Left') assert.ok(result.left instanceof GpuError && result.left.message.length > 0)
 * else assert.equal(typeof result.right.description, 'string')
 * ```
 */
export const installWebGpu = (): TE.TaskEither<GpuError, WebGpuAdapterInfo> => async () => {
  const g = globalThis as { navigator?: { gpu?: GpuLike } }
  if (g.navigator?.gpu === undefined) {
    let dawn: DawnModule
    try {
      // a specifier bundlers leave alone: the package is Node-only
      const specifier = 'webgpu'
      dawn = (await import(/* @vite-ignore */ specifier)) as DawnModule
    } catch (e) {
      return { _tag: 'Left', left: new GpuError(`the webgpu package (Dawn) did not load: ${firstLine(e)}`) }
    }
    // GPUBufferUsage, GPUMapMode, … which GPU.js reads as globals
    for (const [name, value] of Object.entries(dawn.globals)) if (!(name in globalThis)) Object.defineProperty(globalThis, name, { value, configurable: true, writable: true })
    const gpu = repaired(dawn)
    if (g.navigator === undefined) Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true })
    else Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true })
  }
  try {
    const adapter = await g.navigator!.gpu!.requestAdapter()
    if (adapter === null) return { _tag: 'Left', left: new GpuError('navigator.gpu.requestAdapter() returned null: no WebGPU adapter (no Vulkan driver answered)') }
    return { _tag: 'Right', right: describe(adapter) }
  } catch (e) {
    return { _tag: 'Left', left: new GpuError(`navigator.gpu.requestAdapter() failed: ${firstLine(e)}`) }
  }
}
