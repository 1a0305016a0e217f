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
 * - `binary` (every {@link BinaryOp}) and `unary` (every {@link UnaryOp} except `erf`);
 * - `reduce` (`sum`, `max`, `min`) and `logSumExp` over any axes: the shape is collapsed into
 *   runs of kept and reduced axes and each reduced run is one `[outer, R, inner]` pass (two on
 *   the GL modes when R is too long for llvmpipe's loop limit, see {@link MAX_TRIPS}).
 *
 * What is delegated to the {@link cpu} reference backend (in the requested dtype, so f64 stays f64):
 * `map` and `zip` (arbitrary JS callbacks), `transpose`, `slice`, `concat`, `select`, the
 * convolution and pooling kernels (no GPU.js kernels for them yet), `unary('erf')`, broadcasts
 * of more than three runs, and any call with a zero-sized operand.
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
 * @module
 */
import type { Backend, BinaryOp, ReduceKind, UnaryOp } from './backend.js'
import { cpu } from './cpu.js'
import { importGpuJs } from './gpujs.js'
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
 * import { createGpuBackend, GpuError } from 'lamina-nn/gpu'
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
  /**
   * Throw a {@link GpuError} when a kernel silently degrades to GPU.js's own `cpu` mode (or to
   * any mode other than the one that was asked for), or runs in a precision other than
   * float32 (default `true`). Off, the degradation is recorded in {@link GpuStats.fallbacks}.
   */
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
  /** Kernel launches since creation. */
  readonly launches: number
  /** The GPU.js modes that actually executed kernels (GL kernels named by their class: `'headlessgl'`, not GPU.js's generic `'gpu'`). */
  readonly modesRun: readonly string[]
  /** One line per kernel that degraded to another mode or precision (only when `strict` is off). */
  readonly fallbacks: readonly string[]
  /** Launches that GPU.js split across its webasm worker pool (only under {@link createGpuKernelsAsync}). */
  readonly threadedLaunches: number
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

// ---- the small part of GPU.js this module uses (its own typings are looser than we need) ----

interface KernelRun {
  (...args: unknown[]): unknown
  readonly kernel?: {
    readonly constructor: { readonly mode?: string }
    readonly fallbackReason?: string | null
    readonly precision?: string | null
    readonly _lastRunPath?: string | null
  }
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
interface GpuModule {
  readonly GPU: GpuClass
  /** GPU.js kernel class → the mode it implements (its own `mode` getter says `'gpu'` for every GL class). */
  readonly kernelModes: ReadonlyMap<unknown, string>
  readonly threadsSupported: boolean
}

const syncModes: ReadonlySet<string> = new Set(['webasm', 'headlessgl', 'webgl2', 'webgl', 'gpu', 'cpu'])
const glModes: ReadonlySet<string> = new Set(['headlessgl', 'webgl2', 'webgl'])

const loadGpuModule = async (): Promise<GpuModule> => {
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

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/** Why headlessgl does not start here, in words a user can act on (Node only; elsewhere GPU.js's reason). */
const diagnoseHeadlessGl = async (gpuReason: string): Promise<string> => {
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

// ---- kernel sources (strings, so no transpiler touches them; sizes are integer literals) ----

const times = (index: string, factor: number): string =>
  // literals are multiplied here: GPU.js's GLSL may type an expression of literals as float
  /^\d+$/.test(index) ? String(Number(index) * factor) : factor === 1 ? index : `${/[+-]/.test(index) ? `(${index})` : index} * ${factor}`
const plus = (index: string, offset: number): string => (offset === 0 ? index : `${index} + ${offset}`)

/** The geometry of one product launch: `rb × cb` outputs per thread, A padded to `mPad` rows and B to `nPad` columns. */
interface ProductPlan {
  readonly batch: number
  readonly m: number
  readonly k: number
  readonly n: number
  readonly transposeA: boolean
  readonly transposeB: boolean
  readonly rb: number
  readonly cb: number
  readonly mPad: number
  readonly nPad: number
  /** Elements of K per loop trip. */
  readonly unroll: number
}

/**
 * A loop counter as an integer index term. webasm types a bare counter as float (and a float
 * index is wrong past 2²⁴), `| 0` makes it an i32; GLSL counters are ints already, and GLSL ES
 * 1.0 has no `|` (GPU.js emulates it with a loop per use).
 */
type Counter = (v: string) => string
const counterOf = (mode: string): Counter => (mode === 'webasm' ? (v) => `(${v} | 0)` : (v) => v)

/**
 * Loop trips one kernel invocation may make on the GL modes and webgpu. llvmpipe (Mesa's software
 * GL, what headlessgl runs on without a GPU) ends a shader's loops after 65535 trips in all —
 * nested and sequential loops counted together — without a word, and so does lavapipe (Mesa's
 * software Vulkan, what webgpu runs on through Dawn without a GPU); longer work is unrolled
 * (several elements per trip) or split into passes.
 */
const MAX_TRIPS = 60000
/** The modes whose shaders may run on llvmpipe or lavapipe, and so must stay within {@link MAX_TRIPS}. */
const tripLimited = (mode: string): boolean => glModes.has(mode) || mode === 'webgpu'
/** Elements per loop trip in reductions. */
const REDUCE_UNROLL = 8

/**
 * `body(i, j)` for every i in `from`…`from + n − 1` (`i` an integer expression, `j` its slot
 * 0…u−1 within a trip): ⌊n/u⌋ trips of u bodies, then the rest with single literal indices
 * (GPU.js's GLSL types a sum of two literals as float, which no array read accepts).
 */
const unrolled = (counter: Counter, v: string, n: number, u: number, body: (i: string, j: number) => string, from = 0): string => {
  const trips = Math.floor(n / u)
  const slots = (count: number, at: (j: number) => string): string[] => Array.from({ length: count }, (_, j) => body(at(j), j))
  const loop = trips > 0 ? `  for (let ${v} = 0; ${v} < ${trips}; ${v}++) {\n${slots(u, (j) => plus(times(counter(v), u), j + from)).join('\n')}\n  }\n` : ''
  const rest = n - trips * u
  return loop + (rest > 0 ? `  {\n${slots(rest, (j) => String(trips * u + j + from)).join('\n')}\n  }\n` : '')
}

// K is unrolled by two (more where llvmpipe's trip limit needs it): fewer loop trips, and both
// modes measured faster (the summation order stays within the k·ε·(|A|·|B|) bound, which holds
// for any order)
const productSource = (p: ProductPlan, counter: Counter): string => {
  const { batch, k, mPad, nPad, rb, cb, transposeA, transposeB, unroll } = p
  const aBase = batch > 1 ? `this.thread.z * ${mPad * k} + ` : ''
  const bBase = batch > 1 ? `this.thread.z * ${k * nPad} + ` : ''
  const row = (r: number): string => plus(times('this.thread.y', rb), r)
  const col = (c: number): string => plus(times('this.thread.x', cb), c)
  const aAt = (r: number, q: string): string => `a[${aBase}${transposeA ? `${times(q, mPad)} + ${row(r)}` : `${times(row(r), k)} + ${q}`}]`
  const bAt = (c: number, q: string): string => `b[${bBase}${transposeB ? `${times(col(c), k)} + ${q}` : `${times(q, nPad)} + ${col(c)}`}]`
  const rs = Array.from({ length: rb }, (_, r) => r)
  const cs = Array.from({ length: cb }, (_, c) => c)
  const cells = rs.flatMap((r) => cs.map((c) => `s${r}${c}`))
  // the loads of one element of K (slot j), then the multiply-adds of a whole trip
  const loads = (q: string, j: number): string =>
    [...rs.map((r) => `const a${r}u${j} = ${aAt(r, q)};`), ...cs.map((c) => `const b${c}u${j} = ${bAt(c, q)};`)].map((l) => `    ${l}`).join('\n')
  const adds = (count: number): string =>
    rs
      .flatMap((r) => cs.map((c) => `    s${r}${c} += ${Array.from({ length: count }, (_, j) => `a${r}u${j} * b${c}u${j}`).join(' + ')};`))
      .join('\n')
  const trips = Math.floor(k / unroll)
  const rest = k - trips * unroll
  const slot = (count: number, at: (j: number) => string): string => [...Array.from({ length: count }, (_, j) => loads(at(j), j)), adds(count)].join('\n')
  const loop = trips > 0 ? `  for (let q = 0; q < ${trips}; q++) {\n${slot(unroll, (j) => plus(times(counter('q'), unroll), j))}\n  }\n` : ''
  const tail = rest > 0 ? `  {\n${slot(rest, (j) => String(trips * unroll + j))}\n  }\n` : ''
  const result = cells.length === 1 ? cells[0]! : `[${cells.join(', ')}]`
  return `function (a, b) {\n${cells.map((c) => `  let ${c} = 0;`).join('\n')}\n${loop}${tail}  return ${result};\n}`
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

/** One pass over `[outer, R, inner]`: the element `r` of the reduced run of this thread (one axis of the output dropped where it has size 1). */
const reducedAt = (outer: number, R: number, inner: number, r: string): string => {
  if (inner === 1) return `x[${outer === 1 ? '' : `${times('this.thread.x', R)} + `}${r}]`
  return `x[${outer === 1 ? '' : `${times('this.thread.y', R * inner)} + `}${times(r, inner)} + this.thread.x]`
}

const reduceSource = (kind: ReduceKind | 'logsumexp', outer: number, R: number, inner: number, counter: Counter): string => {
  const at = (r: string): string => reducedAt(outer, R, inner, r)
  const u = REDUCE_UNROLL
  if (kind === 'sum') return `function (x) {\n  let s = 0;\n${unrolled(counter, 'r', R, u, (r) => `    s += ${at(r)};`)}  return s;\n}`
  // max and min propagate NaN like the cpu backend
  const cmp = kind === 'min' ? '<' : '>'
  const extreme = `  let m = ${at('0')};\n${unrolled(counter, 'r', R - 1, u, (r, j) => `    const v${j} = ${at(r)};\n    if (v${j} ${cmp} m || v${j} != v${j}) {\n      m = v${j};\n    }`, 1)}`
  if (kind !== 'logsumexp') return `function (x) {\n${extreme}  return m;\n}`
  // log Σ e^(x − m) + m with m the maximum; an infinite or NaN maximum is the answer itself
  return `function (x) {\n${extreme}  if (!(Math.abs(m) < 3.0e38)) {\n    return m;\n  }\n  let s = 0;\n${unrolled(counter, 'q', R, u, (q) => `    s += Math.exp(${at(q)} - m);`)}  return Math.log(s) + m;\n}`
}

/** The longest reduced run one GL pass may take: its loops must stay within {@link MAX_TRIPS}. */
const maxReducedRun = (kind: ReduceKind | 'logsumexp'): number => Math.floor(MAX_TRIPS / (kind === 'logsumexp' ? 2 : 1)) * REDUCE_UNROLL

/** What padding leaves a reduction unchanged. */
const identities: { readonly [K in ReduceKind | 'logsumexp']: number } = { sum: 0, max: -Infinity, min: Infinity, logsumexp: -Infinity }

// ---- buffers ----

const toF32 = (x: Buffer): Float32Array => (x instanceof Float32Array ? x : Float32Array.from(x))

/** `x` as `[batch, rows, cols]` zero-padded to `[batch, rowsTo, colsTo]` (itself when nothing is padded). */
const pad = (x: Float32Array, batch: number, rows: number, cols: number, rowsTo: number, colsTo: number): Float32Array => {
  if (rows === rowsTo && cols === colsTo) return x
  const out = new Float32Array(batch * rowsTo * colsTo)
  for (let z = 0; z < batch; z++) {
    for (let i = 0; i < rows; i++) {
      const from = (z * rows + i) * cols
      out.set(x.subarray(from, from + cols), (z * rowsTo + i) * colsTo)
    }
  }
  return out
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

/** A fresh buffer of `dtype` holding `data` (never a view of GPU.js's memory). */
const fresh = (data: Float32Array, dtype: DType): Buffer => (dtype === 'f32' ? data.slice() : Float64Array.from(data))

/** The shape without size-1 axes, merged into runs of kept and reduced axes (outermost first). */
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

/** `to` without size-1 axes, merged into runs that are copied (`kept`) or broadcast from size 1 (outermost first). */
const broadcastRuns = (from: Shape, to: Shape): { size: number; kept: boolean }[] => {
  const padded = [...Array<number>(to.length - from.length).fill(1), ...from]
  const runs: { size: number; kept: boolean }[] = []
  to.forEach((d, i) => {
    if (d === 1) return
    const kept = padded[i] === d
    const last = runs[runs.length - 1]
    if (last !== undefined && last.kept === kept) last.size *= d
    else runs.push({ size: d, kept })
  })
  return runs
}

/** Output blocks per thread, best first: the lanes of webasm's SIMD share a row of A; on GL every read is a texture fetch, fewest with 2×2. */
const productBlocks = (mode: string): readonly (readonly [number, number])[] =>
  glModes.has(mode) ? [[2, 2], [2, 1], [1, 2]] : mode === 'webasm' ? [[4, 1], [2, 1]] : []

const planProduct = (
  mode: string,
  batch: number,
  m: number,
  k: number,
  n: number,
  transposeA: boolean,
  transposeB: boolean
): ProductPlan => {
  // two elements of K per trip, more where the trip limit of llvmpipe or lavapipe would end the loop early
  const unroll = tripLimited(mode) ? Math.max(2, Math.ceil(k / MAX_TRIPS)) : 2
  const base = { batch, m, k, n, transposeA, transposeB, unroll }
  for (const [rb, cb] of productBlocks(mode)) {
    const mPad = Math.ceil(m / rb) * rb
    const nPad = Math.ceil(n / cb) * cb
    // padding may waste at most a quarter of the work
    if (m >= rb && n >= cb && mPad * nPad <= 1.25 * m * n) return { ...base, rb, cb, mPad, nPad }
  }
  return { ...base, rb: 1, cb: 1, mPad: m, nPad: n }
}

// ---- launches: what to run, and how to turn its flat float32 result into the answer ----

interface Launch<T> {
  readonly name: string
  readonly source: string
  readonly output: readonly number[]
  readonly constants?: Readonly<Record<string, number>>
  readonly args: readonly unknown[]
  /** How many float32 values the result holds. */
  readonly length: number
  readonly finish: (data: Float32Array) => T
}

/** An operation: a chain of launches (a reduction over several runs has one per run), or an answer without any. */
type Plan<T> = { readonly done: T } | { readonly launch: Launch<Plan<T>> }

const finished = <T>(done: T): Plan<T> => ({ done })

const productPlan = (
  mode: string,
  a: Buffer,
  aShape: Shape,
  b: Buffer,
  bShape: Shape,
  transposeA: boolean,
  transposeB: boolean,
  dtype: DType,
  batched: boolean
): Plan<Buffer> => {
  const [batch, m, n] = batched ? Sh.batchMatmulShape(aShape, bShape, transposeA, transposeB) : [1, ...Sh.matmulShape(aShape, bShape, transposeA, transposeB)]
  const k = batched ? (transposeA ? aShape[1]! : aShape[2]!) : transposeA ? aShape[0]! : aShape[1]!
  if (batch * m * n * k === 0) {
    return finished(batched ? cpu.batchMatmul(a, aShape, b, bShape, transposeA, transposeB, dtype) : cpu.matmul(a, aShape, b, bShape, transposeA, transposeB, dtype))
  }
  const plan = planProduct(mode, batch, m, k, n, transposeA, transposeB)
  const { rb, cb, mPad, nPad } = plan
  const a32 = transposeA ? pad(toF32(a), batch, k, m, k, mPad) : pad(toF32(a), batch, m, k, mPad, k)
  const b32 = transposeB ? pad(toF32(b), batch, n, k, nPad, k) : pad(toF32(b), batch, k, n, k, nPad)
  const across = nPad / cb
  const down = mPad / rb
  const comps = rb * cb
  return {
    launch: {
      name: batched ? 'batchMatmul' : 'matmul',
      source: productSource(plan, counterOf(mode)),
      output: batch > 1 ? [across, down, batch] : [across, down],
      args: [a32, b32],
      length: batch * down * across * comps,
      finish: (data) => {
        const out = dtype === 'f32' ? new Float32Array(batch * m * n) : new Float64Array(batch * m * n)
        if (comps === 1 && nPad === n) {
          out.set(data.subarray(0, out.length))
          return finished(out)
        }
        // cell (z, ty, tx) holds rows ty·rb + r, columns tx·cb + c at component r·cb + c
        for (let z = 0; z < batch; z++) {
          for (let ty = 0; ty < down; ty++) {
            for (let r = 0; r < rb; r++) {
              const i = ty * rb + r
              if (i >= m) break
              const outRow = (z * m + i) * n
              const cellRow = (z * down + ty) * across
              for (let tx = 0; tx < across; tx++) {
                for (let c = 0; c < cb; c++) {
                  const j = tx * cb + c
                  if (j < n) out[outRow + j] = data[(cellRow + tx) * comps + r * cb + c]!
                }
              }
            }
          }
        }
        return finished(out)
      }
    }
  }
}

const reducePlan = (mode: string, x: Buffer, shape: Shape, axes: readonly number[], kind: ReduceKind | 'logsumexp', dtype: DType): Plan<Buffer> => {
  const outSize = Sh.size(shape.map((d, i) => (axes.includes(i) ? 1 : d)))
  const runs = reductionRuns(shape, axes)
  const longest = glModes.has(mode) ? maxReducedRun(kind) : Infinity
  // innermost reduced run first; each pass removes one run
  const pass = (input: Float32Array, fromRun: number): Plan<Buffer> => {
    let cur = input
    let r = fromRun
    while (r >= 0 && !runs[r]!.reduced) r--
    if (r < 0) {
      if (cur.length !== outSize) throw new GpuError(`gpu: ${kind} produced ${cur.length} values, expected ${outSize}`)
      return finished(cur === x ? fresh(cur, dtype) : dtype === 'f32' ? cur : Float64Array.from(cur))
    }
    const outer = runs.slice(0, r).reduce((p, q) => p * q.size, 1)
    const inner = runs.slice(r + 1).reduce((p, q) => p * q.size, 1)
    let R = runs[r]!.size
    if (R > longest) {
      // too long for one GL pass: pad the run with the identity to chunks × length, reduce the
      // length now and the chunks in the next pass
      const chunks = Math.ceil(R / longest)
      const length = Math.ceil(R / chunks)
      const padded = new Float32Array(outer * chunks * length * inner).fill(identities[kind])
      for (let o = 0; o < outer; o++) padded.set(cur.subarray(o * R * inner, (o + 1) * R * inner), o * chunks * length * inner)
      runs.splice(r, 1, { size: chunks, reduced: true }, { size: length, reduced: true })
      cur = padded
      r++
      R = length
    }
    const outerHere = runs.slice(0, r).reduce((p, q) => p * q.size, 1)
    const at = r
    return {
      launch: {
        name: kind,
        source: reduceSource(kind, outerHere, R, inner, counterOf(mode)),
        // a size-1 side is dropped: a 1-D output is laid out as a square texture on the GL modes
        output: inner === 1 ? [outerHere] : outerHere === 1 ? [inner] : [inner, outerHere],
        args: [cur],
        length: outerHere * inner,
        finish: (data) => {
          runs.splice(at, 1)
          return pass(data.slice(0, outerHere * inner), at - 1)
        }
      }
    }
  }
  return pass(toF32(x), runs.length - 1)
}

// ---- kernel cache and the check of where each launch ran ----

/**
 * Output sides longer than this are folded on the GL modes: GPU.js lays a 2-D output out as a
 * texture of exactly that width and height (beyond the maximum texture size it throws), and
 * any 3-D one as a near-square texture.
 */
const GL_SIDE = 4096

interface Engine {
  /** The compiled kernel of `launch`, and how many float32 values its result holds (more than `launch.length` when folded). */
  kernelFor(launch: Launch<unknown>): { readonly kernel: KernelRun; readonly length: number }
  /** Records where `k` ran; throws (strict) or records when that is not the expected mode or precision. */
  check(name: string, k: KernelRun): void
  readonly expectedMode: () => string | undefined
  stats(): GpuStats
  dispose(): void
}

const makeEngine = (
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

const runSync = <T>(engine: Engine, plan: Plan<T>): T => {
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

const runAsync = async <T>(engine: Engine, plan: Plan<T>): Promise<T> => {
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

/** The sizes of a probe: the exact sums any float32 arithmetic must produce. */
const probeArgs = [new Float32Array([1, 2, 3, 4, 5]), new Float32Array([10, 20, 30, 40, 50])] as const
const probeWant = [11, 22, 33, 44, 55]

const makeBackend = (engine: Engine): Backend => {
  const mode = (): string => engine.expectedMode() ?? 'unknown'
  const binary = (op: BinaryOp, a: Buffer, b: Buffer, dtype: DType): Buffer => {
    const n = a.length
    if (b.length !== n) throw new GpuError(`gpu: ${op} expects equally long buffers, got ${n} and ${b.length}`)
    if (n === 0) return cpu.binary(op, a, b, dtype)
    return runSync(engine, {
      launch: { name: op, source: `function (a, b) {\n  return ${binarySources[op]};\n}`, output: [n], args: [toF32(a), toF32(b)], length: n, finish: (d) => finished(fresh(d, dtype)) }
    })
  }
  return {
    name: 'gpu',
    map: (x, f, dtype) => cpu.map(x, f, dtype),
    zip: (a, b, f, dtype) => cpu.zip(a, b, f, dtype),
    broadcastTo: (x, from, to, dtype) => {
      const runs = broadcastRuns(from, to)
      if (Sh.size(to) === 0 || runs.length > 3 || runs.every((r) => r.kept)) return cpu.broadcastTo(x, from, to, dtype)
      // thread coordinate of run i (innermost: x, then y, z); a kept run advances the source by its stride
      const axes = ['this.thread.x', 'this.thread.y', 'this.thread.z']
      const terms: string[] = []
      let stride = 1
      runs
        .slice()
        .reverse()
        .forEach((run, i) => {
          if (!run.kept) return
          terms.push(times(axes[i]!, stride))
          stride *= run.size
        })
      const total = Sh.size(to)
      return runSync(engine, {
        launch: {
          name: 'broadcastTo',
          source: `function (x) {\n  return x[${terms.length > 0 ? terms.join(' + ') : '0'}];\n}`,
          output: runs.map((r) => r.size).reverse(),
          args: [toF32(x)],
          length: total,
          finish: (d) => finished(fresh(d.subarray(0, total), dtype))
        }
      })
    },
    transpose: (x, shape, perm, dtype) => cpu.transpose(x, shape, perm, dtype),
    slice: (x, shape, starts, sizes, dtype) => cpu.slice(x, shape, starts, sizes, dtype),
    concat: (xs, shapes, axis, dtype) => cpu.concat(xs, shapes, axis, dtype),
    compare: (relation, a, b, dtype) => cpu.compare(relation, a, b, dtype),
    pad: (x, shape, starts, outShape, value, dtype) => cpu.pad(x, shape, starts, outShape, value, dtype),
    select: (mask, a, b, dtype) => cpu.select(mask, a, b, dtype),
    // no GPU.js kernels for convolution and pooling yet: the cpu's (im2col on the WebAssembly product for float32)
    conv2d: (x, xShape, w, wShape, geometry, dtype, bias) => cpu.conv2d(x, xShape, w, wShape, geometry, dtype, bias),
    conv2dInputGrad: (ct, ctShape, w, wShape, geometry, inputSize, dtype) => cpu.conv2dInputGrad(ct, ctShape, w, wShape, geometry, inputSize, dtype),
    conv2dFilterGrad: (x, xShape, ct, ctShape, geometry, kernel, dtype) => cpu.conv2dFilterGrad(x, xShape, ct, ctShape, geometry, kernel, dtype),
    maxPool2d: (x, shape, geometry, dtype) => cpu.maxPool2d(x, shape, geometry, dtype),
    avgPool2d: (x, shape, geometry, weights, dtype) => cpu.avgPool2d(x, shape, geometry, weights, dtype),
    avgPool2dTranspose: (ct, ctShape, geometry, weights, inputSize, dtype) => cpu.avgPool2dTranspose(ct, ctShape, geometry, weights, inputSize, dtype),
    binary,
    unary: (op, x, dtype, param = 0) => {
      const n = x.length
      if (n === 0 || op === 'erf') return cpu.unary(op, x, dtype, param)
      const constants: Record<string, number> =
        op === 'pow' ? { p: param, integral: Number.isInteger(param) ? 1 : 0, odd: Math.abs(param % 2) === 1 ? 1 : 0 } : {}
      return runSync(engine, {
        launch: {
          name: op,
          source: `function (x) {\n  const v = x[this.thread.x];\n  ${unaryBodies[op]}\n}`,
          output: [n],
          constants,
          args: [toF32(x)],
          length: n,
          finish: (d) => finished(fresh(d, dtype))
        }
      })
    },
    reduce: (x, shape, axes, kind, dtype) => (Sh.size(shape) === 0 ? cpu.reduce(x, shape, axes, kind, dtype) : runSync(engine, reducePlan(mode(), x, shape, axes, kind, dtype))),
    logSumExp: (x, shape, axes, dtype) => {
      if (Sh.size(shape) === 0 || axes.some((a) => shape[a] === 0)) {
        // the cpu reference's definition, for the empty cases (log Σ over nothing is −∞)
        const m = cpu.reduce(x, shape, axes, 'max', 'f64')
        const s = cpu.reduce(cpu.unary('exp', x, 'f64'), shape, axes, 'sum', 'f64')
        return cpu.zip(s, m, (si, mi) => Math.log(si) + (Number.isFinite(mi) ? mi : 0), dtype)
      }
      return runSync(engine, reducePlan(mode(), x, shape, axes, 'logsumexp', dtype))
    },
    matmul: (a, aShape, b, bShape, transposeA, transposeB, dtype) =>
      runSync(engine, productPlan(mode(), a, aShape, b, bShape, transposeA, transposeB, dtype, false)),
    batchMatmul: (a, aShape, b, bShape, transposeA, transposeB, dtype) =>
      runSync(engine, productPlan(mode(), a, aShape, b, bShape, transposeA, transposeB, dtype, true))
  }
}

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
