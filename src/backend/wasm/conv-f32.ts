/**
 * The float32 convolution kernels: im2col (`conv-f32.wat`, assembled into
 * `conv-f32.generated.ts` by `npm run build:wasm`) writes an image's windows into the memory of
 * an instance of the WebAssembly SIMD product (`matmul-f32.wat`), which the im2col module
 * imports, so the windows are multiplied where they are written; col2im adds the windows'
 * gradient back into an image the same way. At row stride 1 the windows are runs copied without
 * bounds tests (`im2colInside`), from the image or from a zero-padded copy of it (`pad`).
 * JavaScript only copies each image in and each result out.
 *
 * - forward, per image: `w [O, C·kh·kw] · windows [C·kh·kw, Ho·Wo]` is the image's output as it lies;
 * - input gradient, per image: `wᵀ · ȳ` (the windows' gradient), then col2im;
 * - filter gradient, per chunk of images: `ȳ [O, n] · windowsᵀ`, summed over the chunks in float64
 *   (a chunk's windows stay under {@link CHUNK_FLOATS} floats, so they are still in the cache
 *   when the product reads them).
 *
 * Every function answers `undefined` where the engine cannot run the kernels (no WebAssembly
 * SIMD) or the memory cannot grow; the caller then runs its direct loops.
 *
 * @module
 */
import { wasmBase64 } from './conv-f32.generated.js'
import { decodeBase64, ensureBytes } from './load.js'
import { RETAINED_BYTES, matmulF32Binary } from './matmul-f32.js'

/** The two modules' exports over one memory. */
interface Kernels {
  readonly memory: WebAssembly.Memory
  readonly gemm: (a: number, b: number, c: number, m: number, k: number, n: number, transA: number, transB: number, work: number) => void
  /** (x, c, h, w, kh, kw, ho, wo, sh, sw, dh, dw, top, left, dst, ldd): the windows of the image at x, as matrix rows ldd floats apart at dst. */
  readonly im2col: (...args: number[]) => void
  /** (x, c, h, w, kh, kw, ho, wo, sh, dh, dw, dst, ldd): im2col when every tap is inside the image and the row stride is 1. */
  readonly im2colInside: (...args: number[]) => void
  /** (x, c, h, w, top, left, hp, wp, dst): the image placed at (top, left) of zeros [c, hp, wp]. */
  readonly pad: (...args: number[]) => void
  /** (src, c, h, w, kh, kw, ho, wo, sh, sw, dh, dw, top, left, dx, lds): the matrix at src added back into the image at dx. */
  readonly col2im: (...args: number[]) => void
  /** (x, planes, h, w, ho, wo, kh, kw, sh, sw, top, left, y): max pooling. */
  readonly maxpool: (...args: number[]) => void
  /** (ct, x, max, planes, h, w, ho, wo, kh, kw, sh, sw, top, left, dx): max pooling's gradient added into dx. */
  readonly maxspread: (...args: number[]) => void
  /** (x, planes, h, w, ho, wo, y) and (ct, x, max, planes, h, w, ho, wo, dx): the same for 2x2 windows at stride 2, no padding, four windows per SIMD step (maxspread2 stores its windows' taps, zeros included). */
  readonly maxpool2: (...args: number[]) => void
  readonly maxspread2: (...args: number[]) => void
  /** (at, rows, cols, bias): bias[o] added to row o of the matrix at `at`. */
  readonly bias: (at: number, rows: number, cols: number, bias: number) => void
}

/** The im2col module's binary (the drift test compares it with a fresh assembly of the .wat). */
export const convF32Binary = (): Uint8Array<ArrayBuffer> => decodeBase64(wasmBase64)

let compiled: { readonly gemm: WebAssembly.Module; readonly conv: WebAssembly.Module } | null | undefined
let instance: Kernels | undefined

/** Both modules compiled once, instantiated on demand over the product's memory; `null` where the engine rejects them. */
const kernels = (): Kernels | null => {
  if (compiled === undefined) {
    const [gemm, conv] = [matmulF32Binary(), convF32Binary()]
    compiled = typeof WebAssembly !== 'undefined' && WebAssembly.validate(gemm) && WebAssembly.validate(conv) ? { gemm: new WebAssembly.Module(gemm), conv: new WebAssembly.Module(conv) } : null
  }
  if (compiled === null) return null
  if (instance === undefined) {
    const product = new WebAssembly.Instance(compiled.gemm).exports as unknown as Pick<Kernels, 'memory' | 'gemm'>
    const windows = new WebAssembly.Instance(compiled.conv, { env: { memory: product.memory } }).exports as unknown as Omit<Kernels, 'memory' | 'gemm'>
    instance = { memory: product.memory, ...windows, gemm: product.gemm }
  }
  return instance
}

/** Whether the convolution kernels run in this engine (false: no WebAssembly or no SIMD). */
export const wasmConvAvailable = (): boolean => kernels() !== null

/** A chunk's windows matrix holds at most this many floats (512 KB: about half the L2 cache here), unless one image needs more. */
export const CHUNK_FLOATS = 1 << 17

/** Everything the kernels need about one convolution: shapes, stride, dilation and the top and left padding. */
export interface ConvDims {
  readonly b: number
  readonly c: number
  readonly h: number
  readonly w: number
  readonly o: number
  readonly kh: number
  readonly kw: number
  readonly ho: number
  readonly wo: number
  readonly sh: number
  readonly sw: number
  readonly dh: number
  readonly dw: number
  readonly top: number
  readonly left: number
}

/** Float counts rounded up to whole 16-byte vectors, so every region starts aligned. */
const aligned = (floats: number): number => Math.ceil(floats / 4) * 4

/** A product's regions in the memory, in floats: A | B | C (padded rows) | packing workspace | the images (or image gradients). */
interface Layout {
  readonly a: number
  readonly b: number
  readonly c: number
  readonly work: number
  readonly images: number
  readonly end: number
}

/** The regions of `op(A)[m, k] · op(B)[k, n]` and `imageFloats` after them. */
const layout = (m: number, k: number, n: number, imageFloats: number): Layout => {
  const mPad = Math.ceil(m / 4) * 4
  const nPad = Math.ceil(n / 8) * 8
  const b = aligned(m * k)
  const c = b + aligned(k * n)
  const work = c + aligned(mPad * nPad)
  const images = work + aligned(mPad * k + k * nPad)
  return { a: 0, b, c, work, images, end: images + imageFloats }
}

/** The kernels and a view of their memory holding at least `floats`, or undefined. */
const heapOf = (floats: number): { k: Kernels; heap: Float32Array } | undefined => {
  const k = kernels()
  if (k === null || !ensureBytes(k.memory, floats * 4)) return undefined
  return { k, heap: new Float32Array(k.memory.buffer) }
}

/** A memory grown past {@link RETAINED_BYTES} is let go, so one big convolution does not pin it. */
const done = (k: Kernels): void => {
  if (k.memory.buffer.byteLength > RETAINED_BYTES) instance = undefined
}

const gemm = (k: Kernels, l: Layout, m: number, kk: number, n: number, transA: boolean, transB: boolean): void =>
  k.gemm(l.a * 4, l.b * 4, l.c * 4, m, kk, n, transA ? 1 : 0, transB ? 1 : 0, l.work * 4)

/** The geometry arguments the .wat functions share, after the image address. */
const geometry = (d: ConvDims): number[] => [d.c, d.h, d.w, d.kh, d.kw, d.ho, d.wo, d.sh, d.sw, d.dh, d.dw, d.top, d.left]

/**
 * How an image's windows are written: at row stride 1, by runs copied without bounds tests
 * (`im2colInside`), from the image itself when every tap lies inside it, else from a copy
 * padded with zeros to the `[hp, wp]` the windows span (`scratch` floats); `im2col` otherwise.
 */
interface WindowPlan {
  readonly inside: boolean
  readonly padded: boolean
  readonly hp: number
  readonly wp: number
  readonly scratch: number
}

const windowPlan = (d: ConvDims): WindowPlan => {
  const hp = (d.ho - 1) * d.sh + (d.kh - 1) * d.dh + 1
  const wp = (d.wo - 1) * d.sw + (d.kw - 1) * d.dw + 1
  const inside = d.sw === 1
  const padded = inside && !(d.top === 0 && d.left === 0 && hp <= d.h && wp <= d.w)
  return { inside, padded, hp, wp, scratch: padded ? aligned(d.c * hp * wp) : 0 }
}

/** The windows of the image at `image` as matrix rows `ldd` floats apart at `dst` (addresses in floats; `scratch` holds the plan's padded copy). */
const writeWindows = (k: Kernels, d: ConvDims, plan: WindowPlan, image: number, scratch: number, dst: number, ldd: number): void => {
  if (!plan.inside) return k.im2col(image * 4, ...geometry(d), dst * 4, ldd)
  if (!plan.padded) return k.im2colInside(image * 4, d.c, d.h, d.w, d.kh, d.kw, d.ho, d.wo, d.sh, d.dh, d.dw, dst * 4, ldd)
  k.pad(image * 4, d.c, d.h, d.w, d.top, d.left, plan.hp, plan.wp, scratch * 4)
  k.im2colInside(scratch * 4, d.c, plan.hp, plan.wp, d.kh, d.kw, d.ho, d.wo, d.sh, d.dh, d.dw, dst * 4, ldd)
}

/** `x ⋆ w (+ bias)` as `[B, O, Ho, Wo]`, one product per image. */
export const conv2dF32 = (x: Float32Array, w: Float32Array, bias: Float32Array | undefined, d: ConvDims): Float32Array | undefined => {
  const k = d.c * d.kh * d.kw
  const pixels = d.ho * d.wo
  const image = d.c * d.h * d.w
  const plan = windowPlan(d)
  const l = layout(d.o, k, pixels, aligned(image) + aligned(d.o) + plan.scratch)
  const biasAt = l.images + aligned(image)
  const scratchAt = biasAt + aligned(d.o)
  const got = heapOf(l.end)
  if (got === undefined) return undefined
  const { k: kernel, heap } = got
  heap.set(w, l.a)
  if (bias !== undefined) heap.set(bias, biasAt)
  const size = d.o * pixels
  const y = new Float32Array(d.b * size)
  for (let b = 0; b < d.b; b++) {
    heap.set(x.subarray(b * image, (b + 1) * image), l.images)
    writeWindows(kernel, d, plan, l.images, scratchAt, l.b, pixels)
    gemm(kernel, l, d.o, k, pixels, false, false)
    if (bias !== undefined) kernel.bias(l.c * 4, d.o, pixels, biasAt * 4)
    y.set(heap.subarray(l.c, l.c + size), b * size)
  }
  done(kernel)
  return y
}

/**
 * The input's gradient `[B, C, H, W]`: per chunk of images, `wᵀ · ȳ` with ȳ's images side by side
 * (`[O, nb·pixels]`, so wᵀ is packed once per chunk rather than per image, and the product's rows
 * are longer than one small image's), each image's columns added back by col2im.
 */
export const conv2dInputGradF32 = (ct: Float32Array, w: Float32Array, d: ConvDims): Float32Array | undefined => {
  const k = d.c * d.kh * d.kw
  const pixels = d.ho * d.wo
  const image = d.c * d.h * d.w
  const chunk = Math.max(1, Math.min(d.b, Math.floor(CHUNK_FLOATS / (k * pixels))))
  const l = layout(k, d.o, chunk * pixels, chunk * image)
  const got = heapOf(l.end)
  if (got === undefined) return undefined
  const { k: kernel, heap } = got
  const g = geometry(d)
  heap.set(w, l.a)
  const dx = new Float32Array(d.b * image)
  for (let b0 = 0; b0 < d.b; b0 += chunk) {
    const nb = Math.min(chunk, d.b - b0)
    const n = nb * pixels
    for (let b = 0; b < nb; b++) {
      for (let o = 0; o < d.o; o++) {
        const src = ((b0 + b) * d.o + o) * pixels
        heap.set(ct.subarray(src, src + pixels), l.b + o * n + b * pixels)
      }
    }
    gemm(kernel, l, k, d.o, n, true, false)
    heap.fill(0, l.images, l.images + nb * image)
    for (let b = 0; b < nb; b++) kernel.col2im((l.c + b * pixels) * 4, ...g, (l.images + b * image) * 4, n)
    dx.set(heap.subarray(l.images, l.images + nb * image), b0 * image)
  }
  done(kernel)
  return dx
}

/** The filter's gradient `[O, C, kh, kw]`: the sum over chunks of `ȳ [O, n] · windowsᵀ`, added up in float64. */
export const conv2dFilterGradF32 = (x: Float32Array, ct: Float32Array, d: ConvDims): Float32Array | undefined => {
  const k = d.c * d.kh * d.kw
  const pixels = d.ho * d.wo
  const image = d.c * d.h * d.w
  const chunk = Math.max(1, Math.min(d.b, Math.floor(CHUNK_FLOATS / (k * pixels))))
  const n0 = chunk * pixels
  // A = ȳ [O, n], B = windows stored [K, n] (transposed in the product), C = [O, K]
  // (the transposed product windows · ȳᵀ wastes less of the 4×8 tile at O = 6, K = 25, but
  // measured 3–8% slower on conv1: its packing costs more than the padding saves)
  const plan = windowPlan(d)
  const l = layout(d.o, n0, k, chunk * image + plan.scratch)
  const scratchAt = l.images + chunk * image
  const got = heapOf(l.end)
  if (got === undefined) return undefined
  const { k: kernel, heap } = got
  const acc = new Float64Array(d.o * k)
  for (let b0 = 0; b0 < d.b; b0 += chunk) {
    const nb = Math.min(chunk, d.b - b0)
    const n = nb * pixels
    heap.set(x.subarray(b0 * image, (b0 + nb) * image), l.images)
    for (let b = 0; b < nb; b++) {
      for (let o = 0; o < d.o; o++) {
        const src = ((b0 + b) * d.o + o) * pixels
        heap.set(ct.subarray(src, src + pixels), l.a + o * n + b * pixels)
      }
      writeWindows(kernel, d, plan, l.images + b * image, scratchAt, l.b + b * pixels, n)
    }
    gemm(kernel, l, d.o, n, k, false, true)
    for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + heap[l.c + i]!
  }
  done(kernel)
  return Float32Array.from(acc)
}

/** A pooling's sizes: planes (`B·C`), the image, the output, the window, stride and top/left padding. */
export interface PoolDims {
  readonly planes: number
  readonly h: number
  readonly w: number
  readonly ho: number
  readonly wo: number
  readonly kh: number
  readonly kw: number
  readonly sh: number
  readonly sw: number
  readonly top: number
  readonly left: number
}

const poolArgs = (d: PoolDims): number[] => [d.planes, d.h, d.w, d.ho, d.wo, d.kh, d.kw, d.sh, d.sw, d.top, d.left]

/** 2x2 windows at stride 2, every one inside the image (no padding reached): the kernels without bounds per window. */
const tiled2 = (d: PoolDims): boolean =>
  d.kh === 2 && d.kw === 2 && d.sh === 2 && d.sw === 2 && d.top === 0 && d.left === 0 && 2 * d.ho <= d.h && 2 * d.wo <= d.w

/** Max pooling of `[planes, h, w]` into `[planes, ho, wo]` (padding never wins, NaN does). */
export const maxPool2dF32 = (x: Float32Array, d: PoolDims): Float32Array | undefined => {
  const n = d.planes * d.ho * d.wo
  const yAt = aligned(x.length)
  const got = heapOf(yAt + n)
  if (got === undefined) return undefined
  const { k: kernel, heap } = got
  heap.set(x, 0)
  if (tiled2(d)) kernel.maxpool2(0, d.planes, d.h, d.w, d.ho, d.wo, yAt * 4)
  else kernel.maxpool(0, ...poolArgs(d), yAt * 4)
  const y = heap.slice(yAt, yAt + n)
  done(kernel)
  return y
}

/** Max pooling's gradient: each window's cotangent split evenly among the taps of `x` equal to its maximum `max` (NaN where none is). */
export const maxPool2dGradF32 = (ct: Float32Array, x: Float32Array, max: Float32Array, d: PoolDims): Float32Array | undefined => {
  const xAt = aligned(ct.length)
  const maxAt = xAt + aligned(x.length)
  const dxAt = maxAt + aligned(max.length)
  const got = heapOf(dxAt + x.length)
  if (got === undefined) return undefined
  const { k: kernel, heap } = got
  heap.set(ct, 0)
  heap.set(x, xAt)
  heap.set(max, maxAt)
  const tiled = tiled2(d)
  // maxspread2 stores every tap of its windows, so only taps outside every window need zeros
  if (!tiled || 2 * d.ho !== d.h || 2 * d.wo !== d.w) heap.fill(0, dxAt, dxAt + x.length)
  if (tiled) kernel.maxspread2(0, xAt * 4, maxAt * 4, d.planes, d.h, d.w, d.ho, d.wo, dxAt * 4)
  else kernel.maxspread(0, xAt * 4, maxAt * 4, ...poolArgs(d), dxAt * 4)
  const dx = heap.slice(dxAt, dxAt + x.length)
  done(kernel)
  return dx
}
