/**
 * Broadcasting and reduction over collapsed runs of axes. Adjacent axes that are treated alike
 * (all copied or all stretched; all kept or all reduced) are merged into one run, so a bias
 * `[n] → [b, n]` is one stretched run and one copied run, and its copy is `b` block copies
 * instead of `b·n` index computations.
 *
 * @module
 */
import type { ReduceKind } from './backend.js'
import { allocate } from '../tensor.js'
import type { Buffer, DType } from '../tensor.js'
import type { Shape } from '../shape.js'

/** A run of merged axes: its total size and whether it is stretched (broadcast) or reduced. */
interface Run {
  size: number
  marked: boolean
}

/** Merges adjacent axes with the same mark; size-1 axes are dropped (they move nothing). */
const collapse = (sizes: readonly number[], marks: readonly boolean[]): Run[] => {
  const runs: Run[] = []
  sizes.forEach((d, i) => {
    if (d === 1) return
    const last = runs[runs.length - 1]
    if (last !== undefined && last.marked === marks[i]) last.size *= d
    else runs.push({ size: d, marked: marks[i]! })
  })
  return runs
}

/** Innermost runs shorter than this are moved by a loop: fill and set cost ~40 ns a call (measured). */
const SHORT_RUN = 16

/**
 * `x` of shape `from` stretched to shape `to` (broadcasting already checked). Copied runs move
 * as block copies (`set`), stretched innermost runs as `fill`, and a stretched outer run
 * computes its first block once and duplicates it (`copyWithin`, doubling the copied span).
 */
export const broadcastTo = (x: Buffer, from: Shape, to: Shape, dtype: DType): Buffer => {
  const pad = to.length - from.length
  const runs = collapse(
    to,
    to.map((_, i) => i < pad || from[i - pad] === 1)
  )
  let n = 1
  for (const d of to) n *= d
  const out = allocate(dtype, n)
  if (n === 0) return out
  if (runs.length === 0) {
    out[0] = x[0]!
    return out
  }
  // elements moved by one index step of run k, in the output and in the input
  const outBlock = new Array<number>(runs.length)
  const inBlock = new Array<number>(runs.length)
  let o = 1
  let s = 1
  for (let k = runs.length - 1; k >= 0; k--) {
    outBlock[k] = o
    inBlock[k] = runs[k]!.marked ? 0 : s
    o *= runs[k]!.size
    if (!runs[k]!.marked) s *= runs[k]!.size
  }
  const last = runs.length - 1
  const fillFrom = (level: number, dst: number, src: number): void => {
    const run = runs[level]!
    if (level === last) {
      if (run.size < SHORT_RUN) {
        // a loop beats the call of fill or set on a few elements ([b, 1] → [b, classes])
        const v = x[src]!
        if (run.marked) for (let i = 0; i < run.size; i++) out[dst + i] = v
        else for (let i = 0; i < run.size; i++) out[dst + i] = x[src + i]!
      } else if (run.marked) out.fill(x[src]!, dst, dst + run.size)
      else out.set(x.subarray(src, src + run.size), dst)
      return
    }
    const step = outBlock[level]!
    if (run.marked) {
      fillFrom(level + 1, dst, src)
      // double the filled blocks: log₂(size) copies instead of size − 1 small ones
      for (let filled = 1; filled < run.size; ) {
        const blocks = Math.min(filled, run.size - filled)
        out.copyWithin(dst + filled * step, dst, dst + blocks * step)
        filled += blocks
      }
    } else {
      for (let i = 0; i < run.size; i++) fillFrom(level + 1, dst + i * step, src + i * inBlock[level]!)
    }
  }
  fillFrom(0, 0, 0)
  return out
}

/**
 * Reduces `axes` of `x` when they collapse into a single reduced run `[outer, R, inner]`;
 * returns `undefined` otherwise (the caller's general loop handles it). Sums accumulate in
 * float64 and round once; max and min propagate NaN, as the general loop does.
 */
export const reduceSingleRun = (x: Buffer, shape: Shape, axes: readonly number[], kind: ReduceKind, dtype: DType): Buffer | undefined => {
  const runs = collapse(
    shape,
    shape.map((_, i) => axes.includes(i))
  )
  const reduced = runs.filter((r) => r.marked)
  if (reduced.length !== 1) return undefined
  const at = runs.indexOf(reduced[0]!)
  let outer = 1
  let inner = 1
  runs.forEach((r, i) => {
    if (i < at) outer *= r.size
    else if (i > at) inner *= r.size
  })
  const R = reduced[0]!.size
  const out = allocate(dtype, outer * inner)
  if (inner === 1) return reduceRows(x, outer, R, kind, out)
  if (kind === 'sum') {
    const acc = new Float64Array(inner)
    for (let a = 0; a < outer; a++) {
      acc.fill(0)
      for (let r = 0; r < R; r++) {
        const base = (a * R + r) * inner
        for (let i = 0; i < inner; i++) acc[i] = acc[i]! + x[base + i]!
      }
      out.set(acc, a * inner)
    }
    return out
  }
  const isMax = kind === 'max'
  for (let a = 0; a < outer; a++) {
    const dst = a * inner
    out.fill(isMax ? -Infinity : Infinity, dst, dst + inner)
    for (let r = 0; r < R; r++) {
      const base = (a * R + r) * inner
      for (let i = 0; i < inner; i++) {
        const v = x[base + i]!
        const cur = out[dst + i]!
        if (isMax ? v > cur || Number.isNaN(v) : v < cur || Number.isNaN(v)) out[dst + i] = v
      }
    }
  }
  return out
}

/**
 * `reduceSingleRun` with `inner` = 1 (the loss's reductions over classes, a convolution's bias
 * gradient over pixels): a float64 scalar per row instead of a one-element accumulator array,
 * same order, same results. Sums run four rows side by side: each row still adds in order, but
 * four independent chains hide the latency of the additions.
 */
const reduceRows = (x: Buffer, rows: number, R: number, kind: ReduceKind, out: Buffer): Buffer => {
  let first = 0
  if (kind === 'sum') {
    for (; first + 3 < rows; first += 4) {
      const base = first * R
      let s0 = 0
      let s1 = 0
      let s2 = 0
      let s3 = 0
      for (let r = 0; r < R; r++) {
        s0 += x[base + r]!
        s1 += x[base + R + r]!
        s2 += x[base + 2 * R + r]!
        s3 += x[base + 3 * R + r]!
      }
      out[first] = s0
      out[first + 1] = s1
      out[first + 2] = s2
      out[first + 3] = s3
    }
  }
  for (let a = first; a < rows; a++) {
    const base = a * R
    if (kind === 'sum') {
      let acc = 0
      for (let r = 0; r < R; r++) acc += x[base + r]!
      out[a] = acc
      continue
    }
    let best = kind === 'max' ? -Infinity : Infinity
    for (let r = 0; r < R; r++) {
      const v = x[base + r]!
      if (kind === 'max' ? v > best || Number.isNaN(v) : v < best || Number.isNaN(v)) best = v
    }
    out[a] = best
  }
  return out
}
