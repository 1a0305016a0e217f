/**
 * The engine of the GPU.js backend: compiles each launch's kernel (cached per source, output
 * and constants; bounded, least recently used evicted and destroyed), checks where each launch
 * ran and in which precision, and runs a {@link Plan} synchronously or under GPU.js's async
 * contract.
 *
 * @module
 */
import { GpuError } from './gpu-error.js'
import { glModes, message } from './gpu-module.js'
import type { GpuInstance, GpuModule, KernelRun } from './gpu-module.js'
import type { Launch, Plan } from './gpu-plans.js'

/** What the backend has done so far: for tests and diagnostics. */
export interface GpuStats {
  /** Kernels compiled since creation (evicted ones included). */
  readonly compiled: number
  /** Kernels currently cached. */
  readonly cached: number
  /** Kernel launches since creation. */
  readonly launches: number
  /** The GPU.js modes that actually executed kernels (GL kernels named by their class: `'headlessgl'`, not GPU.js's generic `'gpu'`). */
  readonly modesRun: readonly string[]
  /** One line per kernel that degraded to another mode or precision (only when `strict` is off). */
  readonly fallbacks: readonly string[]
  /** Launches that GPU.js split across its webasm worker pool (only under `createGpuKernelsAsync`). */
  readonly threadedLaunches: number
}


/**
 * A GPU.js result as one flat Float32Array of `length` numbers. GPU.js erects 2-D/3-D and
 * vector results as subarrays of one buffer in row-major order; when every leaf is exactly
 * where that layout puts it, the buffer is used without copying, else the leaves are copied.
 */
const flatten = (result: unknown, length: number): Float32Array => {
  if (result instanceof Float32Array) {
    if (result.length < length) throw new GpuError(`gpu: a kernel returned ${result.length} values, expected ${length}`)
    return result
  }
  let first: unknown = result
  while (Array.isArray(first)) first = first[0]
  if (first instanceof Float32Array && first.byteOffset === 0 && first.buffer.byteLength >= length * 4) {
    const buffer = first.buffer
    let expected = 0
    let contiguous = true
    const check = (r: unknown): void => {
      if (!contiguous) return
      if (Array.isArray(r)) {
        for (const e of r) check(e)
      } else if (r instanceof Float32Array && r.buffer === buffer && r.byteOffset === expected) {
        expected += r.byteLength
      } else {
        contiguous = false
      }
    }
    check(result)
    if (contiguous && expected === length * 4) return new Float32Array(buffer, 0, length)
  }
  const out = new Float32Array(length)
  let at = 0
  const walk = (r: unknown): void => {
    if (r instanceof Float32Array || r instanceof Float64Array) {
      if (at + r.length > length) throw new GpuError(`gpu: a kernel returned more than ${length} values`)
      out.set(r, at)
      at += r.length
    } else if (Array.isArray(r)) {
      for (const row of r) walk(row)
    } else if (typeof r === 'number') {
      if (at >= length) throw new GpuError(`gpu: a kernel returned more than ${length} values`)
      out[at++] = r
    } else {
      throw new GpuError(`gpu: a kernel returned ${typeof r}, expected an array of numbers`)
    }
  }
  walk(result)
  if (at !== length) throw new GpuError(`gpu: a kernel returned ${at} values, expected ${length}`)
  return out
}

/**
 * Output sides longer than this are folded on the GL modes: GPU.js lays a 2-D output out as a
 * texture of exactly that width and height (beyond the maximum texture size it throws), and
 * any 3-D one as a near-square texture.
 */
const GL_SIDE = 4096

export interface Engine {
  /** The compiled kernel of `launch`, and how many float32 values its result holds (more than `launch.length` when folded). */
  kernelFor(launch: Launch<unknown>): { readonly kernel: KernelRun; readonly length: number }
  /** Records where `k` ran; throws (strict) or records when that is not the expected mode or precision. */
  check(name: string, k: KernelRun): void
  readonly expectedMode: () => string | undefined
  stats(): GpuStats
  dispose(): void
}

export const makeEngine = (
  gpu: GpuInstance,
  gpuModule: GpuModule,
  requested: string,
  settings: { strict: boolean; maxKernels: number; asyncMode: boolean; poolSize?: number }
): Engine => {
  const cache = new Map<string, KernelRun>()
  const modesRun = new Set<string>()
  const fallbacks: string[] = []
  let compiled = 0
  let launches = 0
  let threadedLaunches = 0
  let disposed = false
  let expected: string | undefined = requested === 'gpu' ? undefined : requested

  const ranOn = (k: KernelRun): string => {
    const ctor = k.kernel?.constructor
    return gpuModule.kernelModes.get(ctor) ?? ctor?.mode ?? 'unknown'
  }

  return {
    kernelFor: (launch) => {
      if (disposed) throw new GpuError('gpu: the backend has been disposed')
      let { source, length } = launch
      let output = [...launch.output]
      const [w, h] = output
      if (glModes.has(expected ?? requested) && output.length === 2 && w !== undefined && h !== undefined && h > 1 && Math.max(w, h) > GL_SIDE) {
        // [w, h] as [w, ⌈h/2⌉, 2]: row y is (z·⌈h/2⌉ + y), the row-major order is kept and one spare row may follow
        const half = Math.ceil(h / 2)
        source = source.replaceAll('this.thread.y', `(this.thread.z * ${half} + this.thread.y)`)
        length = (launch.length / (w * h)) * w * half * 2
        output = [w, half, 2]
      }
      const key = `${source}|${output.join('x')}|${JSON.stringify(launch.constants ?? {})}`
      const hit = cache.get(key)
      if (hit !== undefined) {
        // refresh its place in the LRU order
        cache.delete(key)
        cache.set(key, hit)
        return { kernel: hit, length }
      }
      const k = gpu.createKernel(source, {
        output,
        constants: { ...launch.constants },
        loopMaxIterations: 0x7fffffff,
        precision: 'single',
        tactic: 'precision',
        dynamicOutput: false,
        dynamicArguments: false,
        ...(settings.asyncMode ? { asyncMode: true } : {}),
        ...(settings.poolSize !== undefined ? { poolSize: settings.poolSize } : {})
      })
      compiled++
      cache.set(key, k)
      if (cache.size > settings.maxKernels) {
        const [oldKey, old] = cache.entries().next().value as [string, KernelRun]
        cache.delete(oldKey)
        old.destroy()
      }
      return { kernel: k, length }
    },
    check: (name, k) => {
      launches++
      if (k.kernel?._lastRunPath === 'threaded') threadedLaunches++
      const ran = ranOn(k)
      modesRun.add(ran)
      if (expected === undefined && ran !== 'cpu') expected = ran
      const precision = k.kernel?.precision ?? 'unknown'
      let problem: string | undefined
      if (ran !== expected) {
        problem = `ran on '${ran}' instead of '${expected ?? 'an accelerated mode'}'${k.kernel?.fallbackReason ? `: ${k.kernel.fallbackReason}` : ''}`
      } else if (precision !== 'single') {
        problem = `ran in precision '${precision}' instead of 'single' (float32)`
      }
      if (problem === undefined) return
      if (settings.strict) throw new GpuError(`gpu: kernel ${name} ${problem}`)
      fallbacks.push(`${name} ${problem}`)
    },
    expectedMode: () => expected,
    stats: () => ({ compiled, cached: cache.size, launches, modesRun: [...modesRun], fallbacks: [...fallbacks], threadedLaunches }),
    dispose: () => {
      if (disposed) return
      disposed = true
      for (const k of cache.values()) k.destroy()
      cache.clear()
      gpu.destroy()
    }
  }
}

/** A GPU.js failure (texture too large, shader compile error, …) as a GpuError naming the kernel and its output. */
const launchError = (launch: Launch<unknown>, e: unknown): GpuError =>
  e instanceof GpuError ? e : new GpuError(`gpu: kernel ${launch.name} with output [${launch.output.join(', ')}] failed: ${message(e)}`)

export const runSync = <T>(engine: Engine, plan: Plan<T>): T => {
  let p = plan
  while ('launch' in p) {
    const { launch } = p
    let result: unknown
    let length: number
    let k: KernelRun
    try {
      ;({ kernel: k, length } = engine.kernelFor(launch))
      result = k(...launch.args)
    } catch (e) {
      throw launchError(launch, e)
    }
    if (result instanceof Promise) {
      result.catch(() => {})
      throw new GpuError(`gpu: kernel ${launch.name} returned a Promise; only synchronous modes can back a Backend`)
    }
    engine.check(launch.name, k)
    p = launch.finish(flatten(result, length).subarray(0, launch.length))
  }
  return p.done
}

export const runAsync = async <T>(engine: Engine, plan: Plan<T>): Promise<T> => {
  let p = plan
  while ('launch' in p) {
    const { launch } = p
    let result: unknown
    let length: number
    let k: KernelRun
    try {
      ;({ kernel: k, length } = engine.kernelFor(launch))
      result = await k(...launch.args)
    } catch (e) {
      throw launchError(launch, e)
    }
    engine.check(launch.name, k)
    p = launch.finish(flatten(result, length).subarray(0, launch.length))
  }
  return p.done
}

