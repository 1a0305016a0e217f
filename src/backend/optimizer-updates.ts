/**
 * The optimizers' fused parameter updates on the cpu backend: one pass over the buffers per
 * parameter instead of a dozen whole-tensor operations (updates are never differentiated, so
 * they need no primitives). float32 buffers of {@link WASM_MIN_ELEMENTS} or more run on
 * WebAssembly SIMD, which does the same float64 arithmetic bit for bit; the rest run the loops
 * here.
 *
 * @module
 */
import { allocate } from '../tensor.js'
import type { Buffer, DType } from '../tensor.js'
import { WASM_MIN_ELEMENTS, adamF32, sgdF32 } from './wasm/elementwise-f32.js'
import type { AdamScalars } from './wasm/elementwise-f32.js'

export type { AdamScalars } from './wasm/elementwise-f32.js'

/** A parameter and its two Adam moments after one update. */
export interface AdamBuffers {
  readonly p: Buffer
  readonly m: Buffer
  readonly v: Buffer
}

const allF32 = (...xs: readonly Buffer[]): boolean => xs.every((x) => x instanceof Float32Array)

/** `p − η·g`, elementwise. */
export const sgdUpdate = (p: Buffer, g: Buffer, lr: number, dtype: DType): Buffer => {
  const fast = allF32(p, g) && p.length >= WASM_MIN_ELEMENTS ? sgdF32(p as Float32Array, g as Float32Array, lr) : undefined
  if (fast !== undefined) return fast
  const q = allocate(dtype, p.length)
  for (let i = 0; i < p.length; i++) q[i] = p[i]! - g[i]! * lr
  return q
}

/**
 * One Adam step with the bias corrections folded into two scalars (see `Optim.adam`):
 * `m ← m + (g − m)·c₁`, `v ← v + (g² − v)·c₂`, `p ← p·keep − scale·m/(√v + eps)`.
 */
export const adamUpdate = (p: Buffer, g: Buffer, m: Buffer, v: Buffer, s: AdamScalars, dtype: DType): AdamBuffers => {
  const fast = allF32(p, g, m, v) && p.length >= WASM_MIN_ELEMENTS ? adamF32(p as Float32Array, g as Float32Array, m as Float32Array, v as Float32Array, s) : undefined
  if (fast !== undefined) return fast
  const q = allocate(dtype, p.length)
  const m1 = allocate(dtype, p.length)
  const v1 = allocate(dtype, p.length)
  for (let i = 0; i < p.length; i++) {
    const gi = g[i]!
    m1[i] = m[i]! + (gi - m[i]!) * s.c1
    v1[i] = v[i]! + (gi * gi - v[i]!) * s.c2
    q[i] = p[i]! * s.keep - (s.scale * m1[i]!) / (Math.sqrt(v1[i]!) + s.eps)
  }
  return { p: q, m: m1, v: v1 }
}
