/**
 * float32 elementwise kernels on hand-written WebAssembly SIMD (`elementwise-f32.wat`, assembled
 * into `elementwise-f32.generated.ts` by `npm run build:wasm`). Each call copies its inputs into
 * the module's memory (one `set` each), computes in place and copies the result out into a
 * fresh `Float32Array`; the inputs are only read. Where the engine rejects the module (no
 * SIMD) the functions answer `undefined` and the caller keeps its JavaScript loop.
 *
 * Results equal the JavaScript loops' (`Math.fround` of the float64 operation) bit for bit,
 * NaN payloads aside: + − × ÷ and √ are correctly rounded in both, and min/max/relu propagate
 * NaN as `Math.min`/`Math.max` do.
 *
 * @module
 */
import { wasmBase64 } from './elementwise-f32.generated.js'
import { decodeBase64, ensureBytes, lazyModule } from './load.js'

/** The binary kernels: `out[i] = a[i] op b[i]`. */
export type BinaryKernel = 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'minimum'

/** The unary kernels: `out[i] = op(x[i])`. */
export type UnaryKernel = 'neg' | 'abs' | 'sqrt' | 'relu'

/** The comparison kernels: `out[i] = a[i] ⋈ b[i] ? 1 : 0` (IEEE: NaN compares unequal to everything, −0 equals +0). */
export type CompareKernel = 'greater' | 'less' | 'greaterEqual' | 'lessEqual' | 'equal' | 'notEqual'

type Binary = (a: number, b: number, out: number, n: number) => void
type Unary = (x: number, out: number, n: number) => void

/** What elementwise-f32.wat exports. */
type KernelExports = {
  readonly memory: WebAssembly.Memory
  readonly sgd: (p: number, g: number, out: number, n: number, lr: number) => void
  readonly adam: (p: number, g: number, m: number, v: number, n: number, keep: number, scale: number, eps: number, c1: number, c2: number) => void
  readonly select: (mask: number, a: number, b: number, out: number, n: number) => void
  readonly greaterThanZero: Unary
} & {
  readonly [K in BinaryKernel | CompareKernel]: Binary
} & { readonly [K in UnaryKernel]: Unary }

/** The kernels' binary (the drift test compares it with a fresh assembly of the .wat). */
export const elementwiseF32Binary = (): Uint8Array<ArrayBuffer> => decodeBase64(wasmBase64)

const kernels = lazyModule<KernelExports>(elementwiseF32Binary)
// a view of the memory, renewed when growing detaches the old buffer
let heap = new Float32Array(0)

/** The instantiated kernels, or `null` where this engine cannot run them. */
const loaded = kernels.exports

/** Whether the WebAssembly kernels run in this engine (false: no WebAssembly or no SIMD). */
export const wasmElementwiseAvailable = (): boolean => loaded() !== null

/**
 * Arrays shorter than this stay on the JavaScript loops, where the call and the copies cost as
 * much as the loop (measured, float32 add, JavaScript vs WebAssembly: 0.14 vs 0.38 µs at 16
 * elements, even at 128–160, 1.3 vs 1.0 µs at 256, 7.3 vs 2.4 µs at 1280).
 */
export const WASM_MIN_ELEMENTS = 256

/** A memory grown past this is let go after the call, so one huge array does not pin it. */
export const RETAINED_BYTES = 64 * 2 ** 20

/** Float counts rounded up to whole 16-byte vectors, so every region starts aligned. */
const aligned = (floats: number): number => Math.ceil(floats / 4) * 4

/** The memory as floats, holding at least `floats`; undefined when it cannot grow that far. */
const heapOf = (wasm: KernelExports, floats: number): Float32Array | undefined => {
  const memory = wasm.memory
  if (!ensureBytes(memory, floats * 4)) return undefined
  if (heap.buffer !== memory.buffer) heap = new Float32Array(memory.buffer)
  return heap
}

/** Copies the result out (a fresh array) and lets go of a memory that grew too big. */
const result = (wasm: KernelExports, memory: Float32Array, n: number): Float32Array => {
  const out = memory.slice(0, n)
  if (wasm.memory.buffer.byteLength > RETAINED_BYTES) {
    kernels.release()
    heap = new Float32Array(0)
  }
  return out
}

/**
 * `a[i] op b[i]` (a comparison gives 1 or 0) for every `i` of two equally long arrays, as a fresh `Float32Array`; `undefined`
 * where the kernels cannot run here or the arrays do not fit in a WebAssembly memory.
 */
export const binaryF32 = (op: BinaryKernel | CompareKernel, a: Float32Array, b: Float32Array): Float32Array | undefined => {
  const wasm = loaded()
  if (wasm === null) return undefined
  const n = a.length
  const bAt = aligned(n)
  const memory = heapOf(wasm, 2 * bAt)
  if (memory === undefined) return undefined
  memory.set(a, 0)
  memory.set(b, bAt)
  wasm[op](0, bAt * 4, 0, n)
  return result(wasm, memory, n)
}

/**
 * `x[i] > 0 ? 1 : 0` (NaN gives 0) as a fresh `Float32Array`: relu's derivative mask with only one
 * operand copied in; `undefined` where the kernels cannot run here or the array does not fit.
 */
export const greaterThanZeroF32 = (x: Float32Array): Float32Array | undefined => unaryF32('greaterThanZero', x)

/**
 * `mask[i] != 0 ? a[i] : b[i]` for every `i` of three equally long arrays (a NaN mask is not 0,
 * −0 is), as a fresh `Float32Array`; `undefined` where the kernels cannot run here or the arrays
 * do not fit in a WebAssembly memory.
 */
export const selectF32 = (mask: Float32Array, a: Float32Array, b: Float32Array): Float32Array | undefined => {
  const wasm = loaded()
  if (wasm === null) return undefined
  const n = a.length
  const stride = aligned(n)
  const memory = heapOf(wasm, 3 * stride)
  if (memory === undefined) return undefined
  memory.set(mask, 0)
  memory.set(a, stride)
  memory.set(b, 2 * stride)
  wasm.select(0, stride * 4, 2 * stride * 4, 0, n)
  return result(wasm, memory, n)
}

/**
 * `op(x[i])` for every `i`, as a fresh `Float32Array`; `undefined` where the kernels cannot run
 * here or the array does not fit in a WebAssembly memory.
 */
export const unaryF32 = (op: UnaryKernel | 'greaterThanZero', x: Float32Array): Float32Array | undefined => {
  const wasm = loaded()
  if (wasm === null) return undefined
  const n = x.length
  const memory = heapOf(wasm, aligned(n))
  if (memory === undefined) return undefined
  memory.set(x, 0)
  wasm[op](0, 0, n)
  return result(wasm, memory, n)
}

/**
 * The gradient-descent update `p[i] − g[i]·lr` of two equally long arrays, computed in float64
 * and rounded to float32 as JavaScript's `p[i] - g[i] * lr` stored into a `Float32Array` is, as
 * a fresh `Float32Array`; `undefined` where the kernels cannot run here or the arrays do not fit.
 */
export const sgdF32 = (p: Float32Array, g: Float32Array, lr: number): Float32Array | undefined => {
  const wasm = loaded()
  if (wasm === null) return undefined
  const n = p.length
  const gAt = aligned(n)
  const memory = heapOf(wasm, 2 * gAt)
  if (memory === undefined) return undefined
  memory.set(p, 0)
  memory.set(g, gAt)
  wasm.sgd(0, gAt * 4, 0, n, lr)
  return result(wasm, memory, n)
}

/** The scalars of one Adam update (see `Optim.adam`): bias corrections folded into `scale` and `eps`. */
export interface AdamScalars {
  /** 1 − η·λ for decoupled weight decay, else 1. */
  readonly keep: number
  /** η·√(1 − β₂ᵗ)/(1 − β₁ᵗ). */
  readonly scale: number
  /** ε·√(1 − β₂ᵗ). */
  readonly eps: number
  /** 1 − β₁. */
  readonly c1: number
  /** 1 − β₂. */
  readonly c2: number
}

/**
 * One Adam update of equally long arrays: `m ← m + (g − m)·c1`, `v ← v + (g² − v)·c2` (each
 * rounded to float32), `p ← p·keep − scale·m/(√v + eps)`, computed in float64 and rounded as
 * JavaScript's loop storing into `Float32Array`s does, so the result equals the loop's bit for
 * bit. Fresh arrays; `undefined` where the kernels cannot run here or the arrays do not fit.
 */
export const adamF32 = (
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  s: AdamScalars
): { readonly p: Float32Array; readonly m: Float32Array; readonly v: Float32Array } | undefined => {
  const wasm = loaded()
  if (wasm === null) return undefined
  const n = p.length
  const stride = aligned(n)
  const memory = heapOf(wasm, 4 * stride)
  if (memory === undefined) return undefined
  memory.set(p, 0)
  memory.set(g, stride)
  memory.set(m, 2 * stride)
  memory.set(v, 3 * stride)
  wasm.adam(0, stride * 4, 2 * stride * 4, 3 * stride * 4, n, s.keep, s.scale, s.eps, s.c1, s.c2)
  const out = { p: memory.slice(0, n), m: memory.slice(2 * stride, 2 * stride + n), v: memory.slice(3 * stride, 3 * stride + n) }
  result(wasm, memory, 0)
  return out
}
