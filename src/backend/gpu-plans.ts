/**
 * Planning the eager backend's launches: what to run (a kernel source, its output grid and
 * arguments) and how to turn its flat float32 result into the answer. An operation is a
 * {@link Plan}: a chain of launches (a reduction over several runs has one per run), or an
 * answer without any. The engine (`gpu-engine.ts`) runs a plan.
 *
 * @module
 */
import type { ReduceKind } from './backend.js'
import { cpu } from './cpu.js'
import { GpuError } from './gpu-error.js'
import { glModes } from './gpu-module.js'
import { counterOf, identities, maxReducedRun, planProduct, productSource, reduceSource } from './gpu-sources.js'
import type { Buffer, DType } from '../tensor.js'
import * as Sh from '../shape.js'
import type { Shape } from '../shape.js'

// ---- buffers ----

/** `x` as float32 (itself when it is already). */
export const toF32 = (x: Buffer): Float32Array => (x instanceof Float32Array ? x : Float32Array.from(x))

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

/** A fresh buffer of `dtype` holding `data` (never a view of GPU.js's memory). */
export const fresh = (data: Float32Array, dtype: DType): Buffer => (dtype === 'f32' ? data.slice() : Float64Array.from(data))

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
export const broadcastRuns = (from: Shape, to: Shape): { size: number; kept: boolean }[] => {
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

// ---- launches: what to run, and how to turn its flat float32 result into the answer ----

export interface Launch<T> {
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
export type Plan<T> = { readonly done: T } | { readonly launch: Launch<Plan<T>> }

export const finished = <T>(done: T): Plan<T> => ({ done })

export const productPlan = (
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

export const reducePlan = (mode: string, x: Buffer, shape: Shape, axes: readonly number[], kind: ReduceKind | 'logsumexp', dtype: DType): Plan<Buffer> => {
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
