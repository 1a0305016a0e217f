/**
 * An optional GPU.js backend. Not exported from the root index (gpu.js is loaded only when
 * {@link createGpuBackend} is called); there is no package subpath for it yet.
 *
 * What runs as a GPU.js kernel (float32, whatever the dtype):
 * - `matmul` with both transpose flags (`x·w`, `dY·wᵀ`, `xᵀ·dY` without materialising a transpose);
 * - `batchMatmul` `[B,M,K]×[B,K,N]`, with the same flags;
 * - `binary` (every {@link BinaryOp}) and `unary` (every {@link UnaryOp} except `erf`);
 * - `reduce` (`sum`, `max`, `min`) over any axes: the shape is collapsed into runs of kept and
 *   reduced axes and each reduced run is one `[outer, R, inner]` pass.
 *
 * What is delegated to the {@link cpu} reference backend (in the requested dtype, so f64 stays f64):
 * `map` and `zip` (arbitrary JS callbacks), `broadcastTo`, `transpose`, `slice`, `concat`,
 * `select`, `unary('erf')`, and any call with a zero-sized operand.
 *
 * Precision contract: kernels compute in float32 (GPU.js has no other arithmetic). For
 * `dtype: 'f32'` the inputs are used as they are and a `Float32Array` comes back. For
 * `dtype: 'f64'` the inputs are rounded to float32, the kernel computes in float32, and the
 * float32 result is widened into a `Float64Array` — the dtype is preserved, the precision is not.
 *
 * Kernels are compiled per shape and flags and cached (bounded, least recently used evicted and
 * destroyed); {@link GpuBackend.dispose} destroys them all and the GPU.js instance.
 *
 * @module
 */
import type { Backend, BinaryOp, ReduceKind, UnaryOp } from './backend.js'
import { cpu } from './cpu.js'
import { LaminaError } from '../error.js'
import type { Buffer, DType } from '../tensor.js'
import * as Sh from '../shape.js'
import type { Shape } from '../shape.js'

/** The GPU.js modes one can ask for. Only the synchronous ones can drive a {@link Backend}. */
export type GpuMode = 'webasm' | 'headlessgl' | 'webgl2' | 'webgl' | 'webgpu' | 'gpu' | 'async' | 'cpu'

/**
 * A GPU.js backend could not be created, or a kernel ran somewhere it was not asked to.
 *
 * @example
 * ```ts
 * import { createGpuBackend, GpuError } from 'lamina/gpu'
 * import assert from 'node:assert'
 * // webgpu kernels return Promises, which the synchronous Backend cannot use
 * await assert.rejects(createGpuBackend({ mode: 'webgpu', onUnavailable: 'throw' }), GpuError)
 * ```
 */
export class GpuError extends LaminaError {
  override name = 'GpuError'
}

/** Options of {@link createGpuBackend}. */
export interface GpuBackendOptions {
  /** The GPU.js mode to use (default `'webasm'`). `'gpu'` lets GPU.js choose among its accelerated backends. */
  readonly mode?: GpuMode
  /**
   * What to do when the mode cannot be used: `'cpu'` (default) returns lamina's cpu backend
   * with `mode: 'none'` and the reason in `fallbackReason`; `'throw'` rejects with a {@link GpuError}.
   */
  readonly onUnavailable?: 'cpu' | 'throw'
  /** Throw a {@link GpuError} when a kernel silently degrades to GPU.js's own `cpu` mode (default `true`). */
  readonly strict?: boolean
  /** At most this many compiled kernels are kept (default 256). */
  readonly maxKernels?: number
}

/** What the backend has done so far: for tests and diagnostics. */
export interface GpuStats {
  /** Kernels compiled since creation (evicted ones included). */
  readonly compiled: number
  /** Kernels currently cached. */
  readonly cached: number
  /** The GPU.js modes that actually executed kernels. */
  readonly modesRun: readonly string[]
  /** One line per kernel that degraded to another mode (only when `strict` is off). */
  readonly fallbacks: readonly string[]
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

// ---- the small part of GPU.js this module uses (its own typings are looser than we need) ----

interface KernelRun {
  (...args: unknown[]): unknown
  readonly kernel?: { readonly constructor: { readonly mode?: string }; readonly fallbackReason?: string | null }
  destroy(removeCanvasReferences?: boolean): void
}
interface GpuInstance {
  createKernel(source: string, settings: Record<string, unknown>): KernelRun
  destroy(): unknown
}
interface GpuClass {
  new (settings: { mode?: string }): GpuInstance
  readonly isWebGPUSupported?: boolean
}

const syncModes: ReadonlySet<string> = new Set(['webasm', 'headlessgl', 'webgl2', 'webgl', 'gpu', 'cpu'])

const loadGpuClass = async (): Promise<GpuClass> => {
  const mod = (await import('gpu.js')) as unknown as { GPU?: GpuClass; default?: { GPU?: GpuClass } }
  const GPU = mod.GPU ?? mod.default?.GPU
  if (GPU === undefined) throw new Error('the gpu.js module has no GPU export')
  return GPU
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e))

// ---- kernel sources (strings, so no transpiler touches them) ----

// Four independent accumulators over the inner dimension (then a remainder loop): about 1.4×
// faster on webasm than one accumulator, and the float32 error bound k·ε·(|A|·|B|) holds for any
// summation order.
const matmulSource = (transposeA: boolean, transposeB: boolean, batched: boolean): string => {
  const aBase = batched ? 'z * MK + ' : ''
  const bBase = batched ? 'z * KN + ' : ''
  const aAt = (p: string): string => `a[${aBase}${transposeA ? `(${p}) * M + i` : `i * K + ${p}`}]`
  const bAt = (p: string): string => `b[${bBase}${transposeB ? `j * K + ${p}` : `(${p}) * N + j`}]`
  return `function (a, b) {
  const i = this.thread.y;
  const j = this.thread.x;
  const z = this.thread.z;
  const M = this.constants.M;
  const K = this.constants.K;
  const N = this.constants.N;
  const MK = this.constants.MK;
  const KN = this.constants.KN;
  const K4 = this.constants.K4;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let p = 0; p < K4; p += 4) {
    s0 += ${aAt('p')} * ${bAt('p')};
    s1 += ${aAt('p + 1')} * ${bAt('p + 1')};
    s2 += ${aAt('p + 2')} * ${bAt('p + 2')};
    s3 += ${aAt('p + 3')} * ${bAt('p + 3')};
  }
  for (let p = K4; p < K; p++) {
    s0 += ${aAt('p')} * ${bAt('p')};
  }
  return (s0 + s1) + (s2 + s3);
}`
}

const binarySources: { readonly [K in BinaryOp]: string } = {
  add: 'a[this.thread.x] + b[this.thread.x]',
  sub: 'a[this.thread.x] - b[this.thread.x]',
  mul: 'a[this.thread.x] * b[this.thread.x]',
  div: 'a[this.thread.x] / b[this.thread.x]',
  maximum: 'Math.max(a[this.thread.x], b[this.thread.x])',
  minimum: 'Math.min(a[this.thread.x], b[this.thread.x])'
}

const unaryBodies: { readonly [K in Exclude<UnaryOp, 'erf'>]: string } = {
  neg: 'return -v;',
  exp: 'return Math.exp(v);',
  log: 'return Math.log(v);',
  sin: 'return Math.sin(v);',
  cos: 'return Math.cos(v);',
  tanh: 'return Math.tanh(v);',
  // the stable forms of the cpu backend
  sigmoid: 'if (v >= 0) { return 1 / (1 + Math.exp(-v)); } const e = Math.exp(v); return e / (1 + e);',
  relu: 'if (v > 0) { return v; } return 0;',
  abs: 'return Math.abs(v);',
  sqrt: 'return Math.sqrt(v);',
  softplus: 'return Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));',
  // an integer exponent keeps the sign of a negative base, as Math.pow does
  pow:
    'if (this.constants.integral > 0) { const m = Math.pow(Math.abs(v), this.constants.p); if (v < 0 && this.constants.odd > 0) { return -m; } return m; } return Math.pow(v, this.constants.p);'
}

const reduceSource = (kind: ReduceKind): string => {
  const head = `function (x) {
  const base = this.thread.y * this.constants.RI + this.thread.x;
`
  if (kind === 'sum') {
    return `${head}  let s = 0;
  for (let r = 0; r < this.constants.R; r++) {
    s += x[base + r * this.constants.I];
  }
  return s;
}`
  }
  const cmp = kind === 'max' ? '>' : '<'
  return `${head}  let m = x[base];
  for (let r = 1; r < this.constants.R; r++) {
    const v = x[base + r * this.constants.I];
    if (v ${cmp} m || v != v) {
      m = v;
    }
  }
  return m;
}`
}

// ---- buffers ----

const toF32 = (x: Buffer): Float32Array => (x instanceof Float32Array ? x : Float32Array.from(x))

/** Copies a GPU.js result (a typed array, or nested arrays of rows) into a fresh buffer of `dtype`. */
const collect = (result: unknown, n: number, dtype: DType): Buffer => {
  const out = dtype === 'f32' ? new Float32Array(n) : new Float64Array(n)
  let at = 0
  const walk = (r: unknown): void => {
    if (r instanceof Float32Array || r instanceof Float64Array) {
      out.set(r, at)
      at += r.length
    } else if (Array.isArray(r)) {
      for (const row of r) walk(row)
    } else {
      throw new GpuError(`gpu: a kernel returned ${typeof r}, expected an array of numbers`)
    }
  }
  walk(result)
  if (at !== n) throw new GpuError(`gpu: a kernel returned ${at} values, expected ${n}`)
  return out
}

/** The shape without size-1 axes, merged into runs of kept and reduced axes. */
const reductionRuns = (shape: Shape, axes: readonly number[]): { size: number; reduced: boolean }[] => {
  const runs: { size: number; reduced: boolean }[] = []
  shape.forEach((d, i) => {
    if (d === 1) return
    const reduced = axes.includes(i)
    const last = runs[runs.length - 1]
    if (last !== undefined && last.reduced === reduced) last.size *= d
    else runs.push({ size: d, reduced })
  })
  return runs
}

/**
 * Creates a GPU.js backend. Asynchronous because gpu.js is loaded on demand (so lamina works
 * where it is absent or cannot initialise) and because probing some modes is asynchronous.
 *
 * @example
 * ```ts
 * import { createGpuBackend } from 'lamina/gpu'
 * import { Backends, matmul, tensor } from 'lamina'
 * import assert from 'node:assert'
 * const gpu = await createGpuBackend({ mode: 'webasm' })
 * // 'webasm' where WebAssembly runs; 'none' (the cpu backend, reason in fallbackReason) otherwise
 * assert.ok(gpu.mode === 'webasm' || gpu.fallbackReason !== undefined)
 * const x = tensor([[1, 2], [3, 4]], { dtype: 'f32' })
 * const y = Backends.withBackend(gpu.backend, () => matmul(x, x))
 * assert.deepStrictEqual(y.toArray(), [[7, 10], [15, 22]])
 * gpu.dispose()
 * ```
 */
export const createGpuBackend = async (options: GpuBackendOptions = {}): Promise<GpuBackend> => {
  const requested = options.mode ?? 'webasm'
  const unavailable = (reason: string): GpuBackend => {
    if (options.onUnavailable === 'throw') throw new GpuError(`gpu: mode '${requested}' is unavailable: ${reason}`)
    return { backend: cpu, mode: 'none', fallbackReason: reason, stats: () => ({ compiled: 0, cached: 0, modesRun: [], fallbacks: [] }), dispose: () => {} }
  }
  let GPU: GpuClass
  try {
    GPU = await loadGpuClass()
  } catch (e) {
    return unavailable(`gpu.js could not be loaded: ${message(e)}`)
  }
  if (!syncModes.has(requested)) {
    const surface = requested === 'webgpu' && GPU.isWebGPUSupported !== true ? ' (and navigator.gpu is absent here)' : ''
    return unavailable(
      `mode '${requested}' returns a Promise from every kernel call, which the synchronous Backend interface cannot use${surface}; ` +
        'it belongs to the compiled interpreter'
    )
  }
  let gpu: GpuInstance
  try {
    gpu = new GPU({ mode: requested })
  } catch (e) {
    return unavailable(message(e))
  }
  const handle = makeBackend(gpu, options)
  // prove the mode with a real kernel: the probe must run where it was asked to, and be right
  try {
    const probe = handle.backend.binary('add', new Float32Array([1, 2, 3, 4, 5]), new Float32Array([10, 20, 30, 40, 50]), 'f32')
    const want = [11, 22, 33, 44, 55]
    if (!want.every((v, i) => probe[i] === v)) throw new Error(`the probe kernel computed [${[...probe].join(',')}]`)
    const ran = handle.stats().modesRun
    if (ran.length !== 1 || (requested !== 'gpu' && ran[0] !== requested)) {
      throw new Error(`asked for '${requested}', the probe kernel ran on [${ran.join(',')}]`)
    }
    if (requested === 'gpu' && ran[0] === 'cpu') throw new Error("auto-selection found no accelerated mode, only GPU.js's 'cpu'")
  } catch (e) {
    handle.dispose()
    return unavailable(message(e))
  }
  return handle
}

const makeBackend = (gpu: GpuInstance, options: GpuBackendOptions): GpuBackend & { mode: string } => {
  const strict = options.strict ?? true
  const maxKernels = Math.max(1, options.maxKernels ?? 256)
  const cache = new Map<string, KernelRun>()
  const modesRun = new Set<string>()
  const fallbacks: string[] = []
  let compiled = 0
  let disposed = false
  let expectedMode: string | undefined = options.mode === 'gpu' ? undefined : (options.mode ?? 'webasm')

  const kernel = (key: string, source: string, output: number[], constants: Record<string, number>): KernelRun => {
    if (disposed) throw new GpuError('gpu: the backend has been disposed')
    const hit = cache.get(key)
    if (hit !== undefined) {
      // refresh its place in the LRU order
      cache.delete(key)
      cache.set(key, hit)
      return hit
    }
    const k = gpu.createKernel(source, {
      output,
      constants,
      loopMaxIterations: 0x7fffffff,
      precision: 'single',
      tactic: 'precision',
      dynamicOutput: false,
      dynamicArguments: false
    })
    compiled++
    cache.set(key, k)
    if (cache.size > maxKernels) {
      const [oldKey, old] = cache.entries().next().value as [string, KernelRun]
      cache.delete(oldKey)
      old.destroy()
    }
    return k
  }

  const run = (name: string, k: KernelRun, args: unknown[]): unknown => {
    const result = k(...args)
    if (result instanceof Promise) throw new GpuError(`gpu: kernel ${name} returned a Promise; only synchronous modes can back a Backend`)
    const ran = k.kernel?.constructor.mode ?? 'unknown'
    modesRun.add(ran)
    if (expectedMode === undefined && ran !== 'cpu') expectedMode = ran
    if (ran !== expectedMode) {
      const line = `${name} ran on '${ran}' instead of '${expectedMode ?? 'an accelerated mode'}'${k.kernel?.fallbackReason ? `: ${k.kernel.fallbackReason}` : ''}`
      if (strict) throw new GpuError(`gpu: kernel ${line}`)
      fallbacks.push(line)
    }
    return result
  }

  const products = (
    a: Buffer,
    aShape: Shape,
    b: Buffer,
    bShape: Shape,
    transposeA: boolean,
    transposeB: boolean,
    dtype: DType,
    batched: boolean
  ): Buffer => {
    const [batch, m, n] = batched ? Sh.batchMatmulShape(aShape, bShape, transposeA, transposeB) : [1, ...Sh.matmulShape(aShape, bShape, transposeA, transposeB)]
    const k = batched ? (transposeA ? aShape[1]! : aShape[2]!) : transposeA ? aShape[0]! : aShape[1]!
    if (batch * m * n * k === 0) {
      return batched ? cpu.batchMatmul(a, aShape, b, bShape, transposeA, transposeB, dtype) : cpu.matmul(a, aShape, b, bShape, transposeA, transposeB, dtype)
    }
    const name = batched ? 'batchMatmul' : 'matmul'
    const key = `${name}:${batch}x${m}x${k}x${n}:${transposeA ? 'T' : 'N'}${transposeB ? 'T' : 'N'}`
    const output = batched ? [n, m, batch] : [n, m]
    const kern = kernel(key, matmulSource(transposeA, transposeB, batched), output, { M: m, K: k, N: n, MK: m * k, KN: k * n, K4: k - (k % 4) })
    return collect(run(name, kern, [toF32(a), toF32(b)]), batch * m * n, dtype)
  }

  const reduceGpu = (x: Buffer, shape: Shape, axes: readonly number[], kind: ReduceKind, dtype: DType): Buffer => {
    const outSize = Sh.size(shape.map((d, i) => (axes.includes(i) ? 1 : d)))
    if (Sh.size(shape) === 0) return cpu.reduce(x, shape, axes, kind, dtype)
    const runs = reductionRuns(shape, axes)
    let cur: Float32Array = toF32(x)
    // innermost reduced run first; each pass removes one run
    for (let r = runs.length - 1; r >= 0; r--) {
      const run0 = runs[r]!
      if (!run0.reduced) continue
      const outer = runs.slice(0, r).reduce((p, q) => p * q.size, 1)
      const inner = runs.slice(r + 1).reduce((p, q) => p * q.size, 1)
      const R = run0.size
      const kern = kernel(`reduce:${kind}:${outer}x${R}x${inner}`, reduceSource(kind), [inner, outer], { R, I: inner, RI: R * inner })
      cur = collect(run(`reduce(${kind})`, kern, [cur]), outer * inner, 'f32') as Float32Array
      runs.splice(r, 1)
    }
    if (cur.length !== outSize) throw new GpuError(`gpu: reduce produced ${cur.length} values, expected ${outSize}`)
    if (dtype === 'f64') return Float64Array.from(cur)
    return cur === x ? cur.slice() : cur
  }

  const backend: Backend = {
    name: 'gpu',
    map: (x, f, dtype) => cpu.map(x, f, dtype),
    zip: (a, b, f, dtype) => cpu.zip(a, b, f, dtype),
    broadcastTo: (x, from, to, dtype) => cpu.broadcastTo(x, from, to, dtype),
    transpose: (x, shape, perm, dtype) => cpu.transpose(x, shape, perm, dtype),
    slice: (x, shape, starts, sizes, dtype) => cpu.slice(x, shape, starts, sizes, dtype),
    concat: (xs, shapes, axis, dtype) => cpu.concat(xs, shapes, axis, dtype),
    select: (mask, a, b, dtype) => cpu.select(mask, a, b, dtype),
    binary: (op, a, b, dtype) => {
      const n = a.length
      if (b.length !== n) throw new GpuError(`gpu: ${op} expects equally long buffers, got ${n} and ${b.length}`)
      if (n === 0) return cpu.binary(op, a, b, dtype)
      const kern = kernel(`binary:${op}:${n}`, `function (a, b) {\n  return ${binarySources[op]};\n}`, [n], {})
      return collect(run(op, kern, [toF32(a), toF32(b)]), n, dtype)
    },
    unary: (op, x, dtype, param = 0) => {
      const n = x.length
      if (n === 0 || op === 'erf') return cpu.unary(op, x, dtype, param)
      const constants: Record<string, number> =
        op === 'pow' ? { p: param, integral: Number.isInteger(param) ? 1 : 0, odd: Math.abs(param % 2) === 1 ? 1 : 0 } : {}
      const key = `unary:${op}:${n}${op === 'pow' ? `:${param}` : ''}`
      const kern = kernel(key, `function (x) {\n  const v = x[this.thread.x];\n  ${unaryBodies[op]}\n}`, [n], constants)
      return collect(run(op, kern, [toF32(x)]), n, dtype)
    },
    reduce: reduceGpu,
    matmul: (a, aShape, b, bShape, transposeA, transposeB, dtype) => products(a, aShape, b, bShape, transposeA, transposeB, dtype, false),
    batchMatmul: (a, aShape, b, bShape, transposeA, transposeB, dtype) => products(a, aShape, b, bShape, transposeA, transposeB, dtype, true)
  }

  const handle = {
    backend,
    get mode(): string {
      return expectedMode ?? 'unknown'
    },
    stats: (): GpuStats => ({ compiled, cached: cache.size, modesRun: [...modesRun], fallbacks: [...fallbacks] }),
    dispose: (): void => {
      if (disposed) return
      disposed = true
      for (const k of cache.values()) k.destroy()
      cache.clear()
      gpu.destroy()
    }
  }
  return handle
}
