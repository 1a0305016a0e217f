/**
 * The float32 matrix product on the hand-written WebAssembly SIMD kernel (`matmul-f32.wat`,
 * assembled into `matmul-f32.generated.ts` by `npm run build:wasm`). The module is compiled
 * and instantiated synchronously on first use, with one memory that grows as needed (and is
 * dropped after a product that needed more than {@link RETAINED_BYTES}, since WebAssembly
 * memories cannot shrink); where the engine rejects the module (no SIMD), {@link matmulF32}
 * answers `undefined` and the caller keeps its JavaScript loop. Synchronous compilation is
 * what browsers allow on their main thread only for modules under 4 KB; this one is ~1.6 KB.
 *
 * @module
 */
import { wasmBase64 } from './matmul-f32.generated.js'
import { decodeBase64, ensureBytes, lazyModule } from './load.js'

/** What matmul-f32.wat exports. */
interface KernelExports {
  readonly memory: WebAssembly.Memory
  readonly MR: WebAssembly.Global
  readonly NR: WebAssembly.Global
  readonly gemm: (a: number, b: number, c: number, m: number, k: number, n: number, transA: number, transB: number, work: number) => void
}

/** The kernels' binary (the drift test compares it with a fresh assembly of the .wat). */
export const matmulF32Binary = (): Uint8Array<ArrayBuffer> => decodeBase64(wasmBase64)

const kernels = lazyModule<KernelExports>(matmulF32Binary)

/** The instantiated kernels, or `null` where this engine cannot run them. */
const loaded = kernels.exports

/** A memory grown past this is let go after the product, so one big product does not pin it. */
export const RETAINED_BYTES = 64 * 2 ** 20

/** Whether the WebAssembly kernel runs in this engine (false: no WebAssembly or no SIMD). */
export const wasmMatmulAvailable = (): boolean => loaded() !== null

/** Float counts rounded up to whole 16-byte vectors, so every region starts aligned. */
const aligned = (floats: number): number => Math.ceil(floats / 4) * 4

/**
 * `op(a[i]) · op(b[i])` for `batch` products of `[m, k] · [k, n]`, where `op` transposes the
 * stored matrix when its flag is set (`a[i]` is stored `k×m` and `b[i]` `n×k` then). `a` and `b`
 * hold the batches back to back and are only read. Answers a fresh `Float32Array` of
 * `batch·m·n` elements, or `undefined` when the kernel cannot run here or the product does not
 * fit in a WebAssembly memory.
 */
export const matmulF32 = (
  a: Float32Array,
  b: Float32Array,
  batch: number,
  m: number,
  k: number,
  n: number,
  transA: boolean,
  transB: boolean
): Float32Array | undefined => {
  const wasm = loaded()
  if (wasm === null) return undefined
  const out = new Float32Array(batch * m * n)
  if (out.length === 0 || k === 0) return out // an empty sum is zero
  const mr = wasm.MR.value as number
  const nr = wasm.NR.value as number
  const mPad = Math.ceil(m / mr) * mr
  const nPad = Math.ceil(n / nr) * nr
  // layout in floats: A | B | C (padded rows) | packing workspace
  const aAt = 0
  const bAt = aAt + aligned(m * k)
  const cAt = bAt + aligned(k * n)
  const workAt = cAt + aligned(mPad * nPad)
  const bytes = (workAt + mPad * k + k * nPad) * 4
  const memory = wasm.memory
  if (!ensureBytes(memory, bytes)) return undefined
  const heap = new Float32Array(memory.buffer)
  for (let i = 0; i < batch; i++) {
    heap.set(a.subarray(i * m * k, (i + 1) * m * k), aAt)
    heap.set(b.subarray(i * k * n, (i + 1) * k * n), bAt)
    wasm.gemm(aAt * 4, bAt * 4, cAt * 4, m, k, n, transA ? 1 : 0, transB ? 1 : 0, workAt * 4)
    out.set(heap.subarray(cAt, cAt + m * n), i * m * n)
  }
  if (memory.buffer.byteLength > RETAINED_BYTES) kernels.release()
  return out
}
