/**
 * IDX files, the format of LeCun's MNIST distribution (`train-images-idx3-ubyte`,
 * `t10k-labels-idx1-ubyte`, …): a 4-byte big-endian magic number `0x000008DD` (`08`: unsigned
 * bytes, `DD`: the number of dimensions), the dimensions as big-endian 32-bit unsigned
 * integers, then the bytes in row-major order. Images are `0x00000803` (count × rows × columns),
 * labels `0x00000801` (count).
 *
 * Bytes in, typed arrays out, so it runs in a browser too (reading the files is the caller's
 * job). Every field is checked before any data is touched: the magic number, the number of
 * dimensions, and that the file is exactly header + product of the dimensions long, so a
 * header that claims more than the file holds is refused before anything is allocated, and
 * nothing is read past the end. Labels must be digits 0…9 (or `0 … classes − 1`), and a
 * dataset's image and label counts must agree. Every problem is an {@link IdxError} that names
 * the file and the offending value, returned as a `Left`.
 *
 * @example
 * ```ts
 * import { Idx } from 'lamina-nn'
 * import assert from 'node:assert'
 * // two 2×2 images and their labels, as IDX bytes
 * const images = Uint8Array.from([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 0, 255, 51, 0, 255, 255, 0, 0])
 * const labels = Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 2, 7, 1])
 * const data = Idx.decodeDataset(images, labels, { dtype: 'f32' })
 * assert.ok(data._tag === 'Right')
 * assert.deepStrictEqual(data.right.x.shape, [2, 4])
 * assert.deepStrictEqual(data.right.x.toArray(), [[0, 1, 0.20000000298023224, 0], [1, 1, 0, 0]])
 * assert.deepStrictEqual([...data.right.labels], [7, 1])
 * // a label file is not an image file
 * const wrong = Idx.decodeImages(labels, { file: 'labels.idx' })
 * assert.ok(wrong._tag === 'Left' && wrong.left instanceof Idx.IdxError)
 * assert.strictEqual(wrong.left.message, 'labels.idx: magic number 0x00000801, expected 0x00000803 (IDX images: unsigned bytes, 3 dimensions)')
 * ```
 *
 * @module
 */
import type { Either } from 'fp-ts/lib/Either.js'
import { ArgumentError, LaminaError, catchLaminaError } from '../error.js'
import * as Sh from '../shape.js'
import type { Shape } from '../shape.js'
import { allocate, checkDType, fromOwnedBuffer } from '../tensor.js'
import type { DType } from '../tensor.js'
import type { Labelled } from './dataset.js'

/**
 * The magic number of an IDX image file: unsigned bytes, 3 dimensions (count, rows, columns).
 *
 * @example
 * ```ts
 * import { Idx } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Idx.IMAGES_MAGIC, 2051)
 * ```
 */
export const IMAGES_MAGIC = 0x00000803

/**
 * The magic number of an IDX label file: unsigned bytes, 1 dimension (count).
 *
 * @example
 * ```ts
 * import { Idx } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Idx.LABELS_MAGIC, 2049)
 * ```
 */
export const LABELS_MAGIC = 0x00000801

/**
 * An IDX file that breaks the format: a wrong magic number, a header or data of the wrong
 * length, a label out of range, image and label counts that differ. `file` is the name the
 * caller gave (it starts the message too).
 *
 * @example
 * ```ts
 * import { Idx, LaminaError } from 'lamina-nn'
 * import assert from 'node:assert'
 * // a label file whose header claims 3 labels but holds 2
 * const r = Idx.decodeLabels(Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 3, 4, 2]), { file: 'labels.idx' })
 * assert.ok(r._tag === 'Left' && r.left instanceof Idx.IdxError && r.left instanceof LaminaError)
 * assert.strictEqual(r.left.file, 'labels.idx')
 * assert.strictEqual(r.left.message, 'labels.idx: the header declares 3 bytes of data after its 8, so the file should have 11 bytes, but it has 10 (truncated)')
 * ```
 */
export class IdxError extends LaminaError {
  override name = 'IdxError'
  constructor(
    /** The file, as the caller named it. */
    readonly file: string,
    message: string
  ) {
    super(`${file}: ${message}`)
  }
}

/** Decoded images: `count` images of `rows × cols` pixels, scaled from bytes 0…255 to [0, 1]. */
export interface Images {
  /** How many images were decoded (the file's count, or fewer with the `limit` option). */
  readonly count: number
  /** How many images the file holds. */
  readonly total: number
  readonly rows: number
  readonly cols: number
  /** `count × rows × cols` values in [0, 1], row-major, in the requested dtype. */
  readonly pixels: Float32Array | Float64Array
}

/** Decoded labels. */
export interface Labels {
  /** How many labels the file holds (`labels.length` may be fewer, with the `limit` option). */
  readonly total: number
  readonly labels: Int32Array
}

/** Options of {@link decodeImages} and {@link decodeLabels}. */
export interface Options {
  /** What the messages call the file (default `IDX images` / `IDX labels`). */
  readonly file?: string
  /** Decode only the first `limit` items (default: all). The whole file is still validated. */
  readonly limit?: number
  /** The element type of the pixels (default `f64`). Ignored for labels. */
  readonly dtype?: DType
  /** Labels must lie in `0 … classes − 1` (default 10, the digits). Ignored for images. */
  readonly classes?: number
}

/** Options of {@link decodeDataset}. */
export interface DatasetOptions {
  /** What the messages call the image file (default `IDX images`). */
  readonly imagesFile?: string
  /** What the messages call the label file (default `IDX labels`). */
  readonly labelsFile?: string
  /** Decode only the first `limit` examples (default: all). */
  readonly limit?: number
  /** The element type of `x` (default `f64`). */
  readonly dtype?: DType
  /** The per-example shape of `x`, `rows × cols` elements (default `[rows × cols]`; `[1, 28, 28]` for a convolution). */
  readonly shape?: Shape
  /** The number of classes (default 10). */
  readonly classes?: number
}

const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`

const checkLimit = (op: string, limit: number | undefined): number => {
  if (limit === undefined) return Infinity
  if (!Number.isSafeInteger(limit) || limit < 0) throw new ArgumentError(`${op}: limit must be a non-negative integer, got ${String(limit)}`)
  return limit
}

/**
 * The dimensions of an IDX file with the expected magic number, once the header and the
 * length are checked: the file is exactly header + product of the dimensions.
 */
const header = (bytes: Uint8Array, file: string, magic: number, what: string): number[] => {
  if (!(bytes instanceof Uint8Array)) throw new IdxError(file, `expected bytes (a Uint8Array), got ${bytes === null ? 'null' : typeof bytes}`)
  if (bytes.length < 4) throw new IdxError(file, `${bytes.length} bytes is too short for an IDX file (a 4-byte magic number first)`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const found = view.getUint32(0, false)
  if (found !== magic) throw new IdxError(file, `magic number ${hex(found)}, expected ${hex(magic)} (${what})`)
  const rank = magic & 0xff
  const headerBytes = 4 + 4 * rank
  if (bytes.length < headerBytes) throw new IdxError(file, `${bytes.length} bytes is too short for the header of ${rank} dimensions (${headerBytes} bytes)`)
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false))
  // at most (2^32)^3 = 2^96: a double holds it closely enough to tell it from the file's length
  const data = dims.reduce((n, d) => n * d, 1)
  const expected = headerBytes + data
  if (expected !== bytes.length) {
    const declared = dims.length === 1 ? `${data}` : `${dims.join(' × ')} = ${data}`
    throw new IdxError(
      file,
      `the header declares ${declared} bytes of data after its ${headerBytes}, so the file should have ${expected} bytes, but it has ${bytes.length} (${expected > bytes.length ? 'truncated' : 'too long'})`
    )
  }
  return dims
}

const run = catchLaminaError

const images = (bytes: Uint8Array, options: Options | undefined): Images => {
  const file = options?.file ?? 'IDX images'
  const limit = checkLimit('Idx.decodeImages', options?.limit)
  const dtype = checkDType(options?.dtype ?? 'f64')
  const [total, rows, cols] = header(bytes, file, IMAGES_MAGIC, 'IDX images: unsigned bytes, 3 dimensions') as [number, number, number]
  if (rows === 0 || cols === 0) throw new IdxError(file, `images of ${rows} × ${cols} pixels have no pixels`)
  const count = Math.min(total, limit)
  const pixels = allocate(dtype, count * rows * cols)
  const scale = allocate(dtype, 256).map((_, v) => v / 255)
  const offset = 16
  for (let i = 0; i < pixels.length; i++) pixels[i] = scale[bytes[offset + i]!]!
  return { count, total, rows, cols, pixels }
}

const labels = (bytes: Uint8Array, options: Options | undefined): Labels => {
  const file = options?.file ?? 'IDX labels'
  const limit = checkLimit('Idx.decodeLabels', options?.limit)
  const classes = options?.classes ?? 10
  if (!Number.isSafeInteger(classes) || classes < 1 || classes > 256) throw new ArgumentError(`Idx.decodeLabels: classes must be an integer in 1…256, got ${String(classes)}`)
  const [total] = header(bytes, file, LABELS_MAGIC, 'IDX labels: unsigned bytes, 1 dimension') as [number]
  // every label is checked, also those past the limit
  const offset = 8
  for (let i = 0; i < total; i++) {
    const label = bytes[offset + i]!
    if (label >= classes) throw new IdxError(file, `label ${label} at index ${i} is outside 0…${classes - 1}`)
  }
  return { total, labels: Int32Array.from(bytes.subarray(offset, offset + Math.min(total, limit))) }
}

/**
 * Decodes an IDX image file (magic `0x00000803`): its pixels scaled to [0, 1] (byte / 255) in
 * the requested dtype, the first `limit` images only if given. A `Left` {@link IdxError}
 * names the file and the value when the magic number, the header or the length is wrong.
 *
 * @example
 * ```ts
 * import { Idx } from 'lamina-nn'
 * import assert from 'node:assert'
 * // one 1×3 image
 * const r = Idx.decodeImages(Uint8Array.from([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 3, 0, 255, 102]), { dtype: 'f64' })
 * assert.ok(r._tag === 'Right')
 * assert.deepStrictEqual([r.right.count, r.right.rows, r.right.cols], [1, 1, 3])
 * assert.deepStrictEqual([...r.right.pixels], [0, 1, 0.4])
 * ```
 */
export const decodeImages = (bytes: Uint8Array, options?: Options): Either<LaminaError, Images> => run(() => images(bytes, options))

/**
 * Decodes an IDX label file (magic `0x00000801`): every label checked to lie in
 * `0 … classes − 1` (0…9 by default), the first `limit` returned if given.
 *
 * @example
 * ```ts
 * import { Idx } from 'lamina-nn'
 * import assert from 'node:assert'
 * const ok = Idx.decodeLabels(Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 3, 5, 0, 9]))
 * assert.ok(ok._tag === 'Right')
 * assert.deepStrictEqual([...ok.right.labels], [5, 0, 9])
 * const bad = Idx.decodeLabels(Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 2, 3, 10]), { file: 'y.idx' })
 * assert.ok(bad._tag === 'Left')
 * assert.strictEqual(bad.left.message, 'y.idx: label 10 at index 1 is outside 0…9')
 * ```
 */
export const decodeLabels = (bytes: Uint8Array, options?: Options): Either<LaminaError, Labels> => run(() => labels(bytes, options))

/**
 * Decodes an image file and its label file into a labelled dataset as `Train.fit` takes it:
 * `x` of shape `[N, ...shape]` (pixels in [0, 1]) and `labels`, with `classes`. Both files are
 * validated in full; their counts must agree.
 *
 * @example
 * ```ts
 * import { Idx } from 'lamina-nn'
 * import assert from 'node:assert'
 * // three 2×2 images, but only two labels
 * const images = Uint8Array.from([0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2, ...new Array<number>(12).fill(0)])
 * const labels = Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 2, 4, 2])
 * const r = Idx.decodeDataset(images, labels, { imagesFile: 'x.idx', labelsFile: 'y.idx' })
 * assert.ok(r._tag === 'Left')
 * assert.strictEqual(r.left.message, 'x.idx: 3 images, but y.idx has 2 labels')
 * // a shape for a convolution: one channel of 2×2
 * const three = Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 3, 4, 2, 0])
 * const ok = Idx.decodeDataset(images, three, { shape: [1, 2, 2], limit: 2 })
 * assert.ok(ok._tag === 'Right')
 * assert.deepStrictEqual(ok.right.x.shape, [2, 1, 2, 2])
 * assert.deepStrictEqual([...ok.right.labels], [4, 2])
 * ```
 */
export const decodeDataset = (imageBytes: Uint8Array, labelBytes: Uint8Array, options?: DatasetOptions): Either<LaminaError, Labelled> =>
  run(() => {
    const imagesFile = options?.imagesFile ?? 'IDX images'
    const labelsFile = options?.labelsFile ?? 'IDX labels'
    const classes = options?.classes ?? 10
    const limit = options?.limit
    const dtype = options?.dtype ?? 'f64'
    // the labels first: they are small, and a count that disagrees needs no pixels decoded
    const y = labels(labelBytes, { file: labelsFile, classes, ...(limit === undefined ? {} : { limit }) })
    const dims = header(imageBytes, imagesFile, IMAGES_MAGIC, 'IDX images: unsigned bytes, 3 dimensions')
    if (dims[0] !== y.total) throw new IdxError(imagesFile, `${dims[0]} images, but ${labelsFile} has ${y.total} labels`)
    const shape = options?.shape ?? [dims[1]! * dims[2]!]
    Sh.validate(shape, 'Idx.decodeDataset')
    if (Sh.size(shape) !== dims[1]! * dims[2]!) {
      throw new IdxError(imagesFile, `images of ${dims[1]} × ${dims[2]} = ${dims[1]! * dims[2]!} pixels do not fit the shape ${Sh.show(shape)} (${Sh.size(shape)} elements)`)
    }
    const x = images(imageBytes, { file: imagesFile, dtype, ...(limit === undefined ? {} : { limit }) })
    return { x: fromOwnedBuffer([x.count, ...shape], dtype, x.pixels), labels: y.labels, classes }
  })
