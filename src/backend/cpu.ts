/**
 * The reference backend: plain loops over typed arrays, float64 or float32 storage. float32
 * matrix products and the float32 arithmetic, min/max, neg, abs, sqrt, relu, comparisons and
 * select of arrays of at least 256 elements run on hand-written WebAssembly SIMD kernels
 * (./wasm/matmul-f32.wat, ./wasm/elementwise-f32.wat) where the engine supports them, with the
 * same results; float64 stays on the JavaScript loops.
 *
 * @module
 */
import { adamUpdate, sgdUpdate } from './optimizer-updates.js'
import { relations } from './backend.js'
import type { Backend, BinaryOp, ReduceKind, Relation, UnaryOp } from './backend.js'
import { erf, sigmoid, softplus } from '../floating.js'
import { allocate, isSharedZeros } from '../tensor.js'
import { broadcastTo, reduceSingleRun } from './runs.js'
import type { Buffer, DType } from '../tensor.js'
import { matmulF32 } from './wasm/matmul-f32.js'
import * as Conv from './conv.js'
import { WASM_MIN_ELEMENTS, binaryF32, greaterThanZeroF32, selectF32, unaryF32 } from './wasm/elementwise-f32.js'
import type { CompareKernel, UnaryKernel } from './wasm/elementwise-f32.js'
import * as Sh from '../shape.js'
import type { Shape } from '../shape.js'

const map = (x: Buffer, f: (v: number) => number, dtype: DType): Buffer => {
  const out = allocate(dtype, x.length)
  for (let i = 0; i < x.length; i++) out[i] = f(x[i]!)
  return out
}

const zip = (a: Buffer, b: Buffer, f: (x: number, y: number) => number, dtype: DType): Buffer => {
  const out = allocate(dtype, a.length)
  for (let i = 0; i < a.length; i++) out[i] = f(a[i]!, b[i]!)
  return out
}

// One loop per operation: a shared loop calling a callback is megamorphic and ~10× slower.
type Loop2 = (a: Buffer, b: Buffer, o: Buffer) => void
const binaryLoops: { readonly [K in BinaryOp]: Loop2 } = {
  add: (a, b, o) => { for (let i = 0; i < o.length; i++) o[i] = a[i]! + b[i]! },
  sub: (a, b, o) => { for (let i = 0; i < o.length; i++) o[i] = a[i]! - b[i]! },
  mul: (a, b, o) => { for (let i = 0; i < o.length; i++) o[i] = a[i]! * b[i]! },
  div: (a, b, o) => { for (let i = 0; i < o.length; i++) o[i] = a[i]! / b[i]! },
  maximum: (a, b, o) => { for (let i = 0; i < o.length; i++) o[i] = Math.max(a[i]!, b[i]!) },
  minimum: (a, b, o) => { for (let i = 0; i < o.length; i++) o[i] = Math.min(a[i]!, b[i]!) }
}

type Loop1 = (x: Buffer, o: Buffer, p: number) => void
const unaryLoops: { readonly [K in UnaryOp]: Loop1 } = {
  neg: (x, o) => { for (let i = 0; i < o.length; i++) o[i] = -x[i]! },
  exp: (x, o) => { for (let i = 0; i < o.length; i++) o[i] = Math.exp(x[i]!) },
  log: (x, o) => { for (let i = 0; i < o.length; i++) o[i] = Math.log(x[i]!) },
  sin: (x, o) => { for (let i = 0; i < o.length; i++) o[i] = Math.sin(x[i]!) },
  cos: (x, o) => { for (let i = 0; i < o.length; i++) o[i] = Math.cos(x[i]!) },
  tanh: (x, o) => { for (let i = 0; i < o.length; i++) o[i] = Math.tanh(x[i]!) },
  sigmoid: (x, o) => { for (let i = 0; i < o.length; i++) o[i] = sigmoid(x[i]!) },
  // Math.max propagates NaN, as floating.ts's scalar relu and the WebAssembly kernel do
  relu: (x, o) => { for (let i = 0; i < o.length; i++) o[i] = Math.max(x[i]!, 0) },
  abs: (x, o) => { for (let i = 0; i < o.length; i++) o[i] = Math.abs(x[i]!) },
  sqrt: (x, o) => { for (let i = 0; i < o.length; i++) o[i] = Math.sqrt(x[i]!) },
  erf: (x, o) => { for (let i = 0; i < o.length; i++) o[i] = erf(x[i]!) },
  softplus: (x, o) => { for (let i = 0; i < o.length; i++) o[i] = softplus(x[i]!) },
  pow: (x, o, p) => { for (let i = 0; i < o.length; i++) o[i] = Math.pow(x[i]!, p) }
}

/** The unary operations with a WebAssembly kernel. */
const unaryKernels: { readonly [K in UnaryOp]?: UnaryKernel } = { neg: 'neg', abs: 'abs', sqrt: 'sqrt', relu: 'relu' }

const binary = (op: BinaryOp, a: Buffer, b: Buffer, dtype: DType): Buffer => {
  if (dtype === 'f32' && a.length >= WASM_MIN_ELEMENTS && a instanceof Float32Array && b instanceof Float32Array) {
    const fast = binaryF32(op, a, b)
    if (fast !== undefined) return fast
  }
  const out = allocate(dtype, a.length)
  binaryLoops[op](a, b, out)
  return out
}

const unary = (op: UnaryOp, x: Buffer, dtype: DType, param = 0): Buffer => {
  const kernel = unaryKernels[op]
  if (kernel !== undefined && dtype === 'f32' && x.length >= WASM_MIN_ELEMENTS && x instanceof Float32Array) {
    const fast = unaryF32(kernel, x)
    if (fast !== undefined) return fast
  }
  const out = allocate(dtype, x.length)
  unaryLoops[op](x, out, param)
  return out
}

const reduce = (x: Buffer, shape: Shape, axes: readonly number[], kind: ReduceKind, dtype: DType): Buffer => {
  const fast = reduceSingleRun(x, shape, axes, kind, dtype)
  if (fast !== undefined) return fast
  const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d))
  const out = allocate(dtype, Sh.size(outShape))
  const init = kind === 'sum' ? 0 : kind === 'max' ? -Infinity : Infinity
  out.fill(init)
  const outStrides = Sh.strides(outShape)
  const dstStride = shape.map((_, i) => (axes.includes(i) ? 0 : outStrides[i]!))
  const rank = shape.length
  const index = new Array<number>(rank).fill(0)
  let dst = 0
  // accumulate in float64 even for f32 storage, then round once
  const acc = kind === 'sum' ? new Float64Array(out.length) : null
  for (let k = 0; k < x.length; k++) {
    const v = x[k]!
    if (acc) acc[dst] = acc[dst]! + v
    else if (kind === 'max' ? v > out[dst]! || Number.isNaN(v) : v < out[dst]! || Number.isNaN(v)) out[dst] = v
    for (let ax = rank - 1; ax >= 0; ax--) {
      index[ax]!++
      dst += dstStride[ax]!
      if (index[ax]! < shape[ax]!) break
      dst -= dstStride[ax]! * shape[ax]!
      index[ax] = 0
    }
  }
  if (acc) out.set(acc)
  return out
}

/** `op(src)` as a contiguous row-major `[rows, cols]` float64 matrix (op transposes when asked). */
const packed = (src: Buffer, offset: number, rows: number, cols: number, transposed: boolean): Float64Array => {
  const out = new Float64Array(rows * cols)
  if (!transposed) {
    for (let i = 0; i < out.length; i++) out[i] = src[offset + i]!
    return out
  }
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = src[offset + c * rows + r]!
  return out
}

const matmulInto = (
  out: Buffer,
  outOffset: number,
  a: Buffer,
  aOffset: number,
  b: Buffer,
  bOffset: number,
  m: number,
  k: number,
  n: number,
  transposeA: boolean,
  transposeB: boolean
): void => {
  // Pack op(A) and op(B) contiguously (O(mk + kn)), then an i-p-j loop over four rows at a
  // time: each row of B is loaded once for four output rows, and every inner loop is
  // contiguous. Each element still sums over p in order, so results equal the plain loop's.
  const A = packed(a, aOffset, m, k, transposeA)
  const B = packed(b, bOffset, k, n, transposeB)
  const r0 = new Float64Array(n)
  const r1 = new Float64Array(n)
  const r2 = new Float64Array(n)
  const r3 = new Float64Array(n)
  let i = 0
  for (; i + 3 < m; i += 4) {
    r0.fill(0)
    r1.fill(0)
    r2.fill(0)
    r3.fill(0)
    const o0 = i * k
    for (let p = 0; p < k; p++) {
      const a0 = A[o0 + p]!
      const a1 = A[o0 + k + p]!
      const a2 = A[o0 + 2 * k + p]!
      const a3 = A[o0 + 3 * k + p]!
      if (a0 === 0 && a1 === 0 && a2 === 0 && a3 === 0) continue // ReLU outputs are often zero
      const base = p * n
      for (let j = 0; j < n; j++) {
        const bv = B[base + j]!
        r0[j] = r0[j]! + a0 * bv
        r1[j] = r1[j]! + a1 * bv
        r2[j] = r2[j]! + a2 * bv
        r3[j] = r3[j]! + a3 * bv
      }
    }
    out.set(r0, outOffset + i * n)
    out.set(r1, outOffset + (i + 1) * n)
    out.set(r2, outOffset + (i + 2) * n)
    out.set(r3, outOffset + (i + 3) * n)
  }
  for (; i < m; i++) {
    r0.fill(0)
    for (let p = 0; p < k; p++) {
      const a0 = A[i * k + p]!
      if (a0 === 0) continue
      const base = p * n
      for (let j = 0; j < n; j++) r0[j] = r0[j]! + a0 * B[base + j]!
    }
    out.set(r0, outOffset + i * n)
  }
}

/** Below this many multiply-adds the JavaScript loop beats the call into WebAssembly (measured:
 * 0.24 vs 0.27 µs at 2×2×2, 0.60 vs 0.30 µs at 2×4×4). */
const WASM_MIN_MACS = 16

/** float32 products on the WebAssembly SIMD kernel; undefined where it does not apply or run. */
const wasmProduct = (a: Buffer, b: Buffer, batch: number, m: number, k: number, n: number, transposeA: boolean, transposeB: boolean, dtype: DType): Buffer | undefined =>
  dtype === 'f32' && a instanceof Float32Array && b instanceof Float32Array && m * k * n >= WASM_MIN_MACS
    ? matmulF32(a, b, batch, m, k, n, transposeA, transposeB)
    : undefined

const matmul = (a: Buffer, aShape: Shape, b: Buffer, bShape: Shape, transposeA: boolean, transposeB: boolean, dtype: DType): Buffer => {
  const [m, n] = Sh.matmulShape(aShape, bShape, transposeA, transposeB)
  const k = transposeA ? aShape[0]! : aShape[1]!
  const fast = wasmProduct(a, b, 1, m, k, n, transposeA, transposeB, dtype)
  if (fast !== undefined) return fast
  const out = allocate(dtype, m * n)
  matmulInto(out, 0, a, 0, b, 0, m, k, n, transposeA, transposeB)
  return out
}

const batchMatmul = (a: Buffer, aShape: Shape, b: Buffer, bShape: Shape, transposeA: boolean, transposeB: boolean, dtype: DType): Buffer => {
  const [batch, m, n] = Sh.batchMatmulShape(aShape, bShape, transposeA, transposeB)
  const k = transposeA ? aShape[1]! : aShape[2]!
  const fast = wasmProduct(a, b, batch, m, k, n, transposeA, transposeB, dtype)
  if (fast !== undefined) return fast
  const out = allocate(dtype, batch * m * n)
  for (let i = 0; i < batch; i++) {
    matmulInto(out, i * m * n, a, i * m * k, b, i * k * n, m, k, n, transposeA, transposeB)
  }
  return out
}

const transpose = (x: Buffer, shape: Shape, perm: readonly number[], dtype: DType): Buffer => {
  const outShape = perm.map((p) => shape[p]!)
  const inStrides = Sh.strides(shape)
  const srcStride = perm.map((p) => inStrides[p]!)
  return gather(x, outShape, srcStride, 0, dtype)
}

/** Reads `x` at `offset + Σ index[i]·stride[i]` for every index of `outShape`. */
const gather = (x: Buffer, outShape: Shape, srcStride: readonly number[], offset: number, dtype: DType): Buffer => {
  const n = Sh.size(outShape)
  const out = allocate(dtype, n)
  const rank = outShape.length
  const index = new Array<number>(rank).fill(0)
  let src = offset
  for (let k = 0; k < n; k++) {
    out[k] = x[src]!
    for (let ax = rank - 1; ax >= 0; ax--) {
      index[ax]!++
      src += srcStride[ax]!
      if (index[ax]! < outShape[ax]!) break
      src -= srcStride[ax]! * outShape[ax]!
      index[ax] = 0
    }
  }
  return out
}

const slice = (x: Buffer, shape: Shape, starts: readonly number[], sizes: readonly number[], dtype: DType): Buffer => {
  const st = Sh.strides(shape)
  const offset = starts.reduce((acc, s, i) => acc + s * st[i]!, 0)
  return gather(x, sizes, st, offset, dtype)
}

const concat = (xs: readonly Buffer[], shapes: readonly Shape[], axis: number, dtype: DType): Buffer => {
  const first = shapes[0]!
  const outer = Sh.size(first.slice(0, axis))
  const inners = shapes.map((s) => Sh.size(s.slice(axis)))
  const total = inners.reduce((a, b) => a + b, 0)
  const out = allocate(dtype, outer * total)
  for (let o = 0; o < outer; o++) {
    let dst = o * total
    xs.forEach((x, i) => {
      const len = inners[i]!
      out.set(x.subarray(o * len, (o + 1) * len), dst)
      dst += len
    })
  }
  return out
}

/** log Σ exp over `axes`, shifted by the finite maximum (an infinite or NaN maximum is the result). */
const logSumExp = (x: Buffer, shape: Shape, axes: readonly number[], dtype: DType): Buffer => {
  const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d))
  const m = reduce(x, shape, axes, 'max', 'f64')
  const mFinite = map(m, (v) => (Number.isFinite(v) ? v : 0), 'f64')
  const shifted = zip(x, broadcastTo(mFinite, kept, shape, 'f64'), (a, b) => Math.exp(a - b), 'f64')
  const s = reduce(shifted, shape, axes, 'sum', 'f64')
  return zip(s, mFinite, (si, mi) => Math.log(si) + mi, dtype)
}

const pad = (x: Buffer, shape: Shape, starts: readonly number[], outShape: Shape, value: number, dtype: DType): Buffer => {
  const parts = Sh.strides(outShape)
  const out = allocate(dtype, Sh.size(outShape))
  if (value !== 0) out.fill(value)
  const index = new Array<number>(shape.length).fill(0)
  for (let k = 0; k < x.length; k++) {
    let dst = 0
    for (let ax = 0; ax < shape.length; ax++) dst += (index[ax]! + starts[ax]!) * parts[ax]!
    out[dst] = x[k]!
    for (let ax = shape.length - 1; ax >= 0; ax--) {
      index[ax]!++
      if (index[ax]! < shape[ax]!) break
      index[ax] = 0
    }
  }
  return out
}

/** The WebAssembly kernel of each relation. */
const compareKernels: { readonly [R in Relation]: CompareKernel } = {
  '>': 'greater',
  '<': 'less',
  '>=': 'greaterEqual',
  '<=': 'lessEqual',
  '==': 'equal',
  '!=': 'notEqual'
}

const compare = (relation: Relation, a: Buffer, b: Buffer, dtype: DType): Buffer => {
  // branch-free SIMD comparisons in float32: the JavaScript loop mispredicts on random signs (relu's derivative)
  if (dtype === 'f32' && a.length >= WASM_MIN_ELEMENTS && a instanceof Float32Array && b instanceof Float32Array) {
    // relu's mask compares with shared zeros: nothing to copy in for them
    const fast = relation === '>' && isSharedZeros(b) ? greaterThanZeroF32(a) : binaryF32(compareKernels[relation], a, b)
    if (fast !== undefined) return fast
  }
  const test = relations[relation]
  const out = allocate(dtype, a.length)
  for (let i = 0; i < a.length; i++) out[i] = test(a[i]!, b[i]!) ? 1 : 0
  return out
}

const select = (mask: Buffer, a: Buffer, b: Buffer, dtype: DType): Buffer => {
  if (dtype === 'f32' && a.length >= WASM_MIN_ELEMENTS && mask instanceof Float32Array && a instanceof Float32Array && b instanceof Float32Array) {
    const fast = selectF32(mask, a, b)
    if (fast !== undefined) return fast
  }
  const out = allocate(dtype, a.length)
  for (let i = 0; i < a.length; i++) out[i] = mask[i] !== 0 ? a[i]! : b[i]!
  return out
}

/**
 * The cpu backend.
 *
 * @example
 * ```ts
 * import { cpu } from 'lamina-nn'
 * import assert from 'node:assert'
 * const c = cpu.matmul(new Float64Array([1, 2, 3, 4]), [2, 2], new Float64Array([1, 0, 0, 1]), [2, 2], false, false, 'f64')
 * assert.deepStrictEqual([...c], [1, 2, 3, 4])
 * ```
 */
export const cpu: Backend = {
  name: 'cpu', binary, unary, map, zip, broadcastTo, reduce, matmul, batchMatmul, transpose, slice, concat, pad, logSumExp, compare, select,
  conv2d: Conv.conv2d,
  conv2dInputGrad: Conv.conv2dInputGrad,
  conv2dFilterGrad: Conv.conv2dFilterGrad,
  maxPool2d: Conv.maxPool2d,
  avgPool2d: Conv.avgPool2d,
  avgPool2dTranspose: Conv.avgPool2dTranspose,
  maxPool2dGather: Conv.maxPool2dGather,
  maxPool2dSpread: Conv.maxPool2dSpread,
  sgdUpdate,
  adamUpdate
}
