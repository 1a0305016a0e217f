/**
 * Type-level shape rules, checked through the public functions.
 *
 * `tsc --noEmit` type-checks this file (`npm run typecheck`), so:
 * - `expectTypeOf<…>().toEqualTypeOf<…>()` fails the build when an inferred shape is wrong;
 * - every `// @ts-expect-error: <reason>` fails the build when the line below it compiles,
 *   i.e. when a shape rule stops rejecting a mistake.
 * The runtime `expect`s check that the runtime twin of each rule agrees: an accepted call
 * returns the shape the type promised, a rejected one throws `ShapeError`, and (last block)
 * the runtime message is word for word the type-level `ShapeMismatch` message.
 */
import { describe, expect, expectTypeOf, it } from 'vitest'
import { thrown } from './support/thrown.js'
import {
  Random,
  Shape,
  ShapeError,
  Tensor,
  add,
  batchMatmul,
  broadcastTo,
  div,
  eye,
  fromBuffer,
  full,
  logsumexp,
  matmul,
  max,
  mean,
  mul,
  ones,
  reshape,
  sub,
  sum,
  tensor,
  transpose,
  zeros
} from 'lamina-nn'
import type { ShapeMismatch, ShapeT } from 'lamina-nn'

/** The text carried by a named shape error type (`never` when `T` is not one). */
type MessageOf<T> = T extends ShapeMismatch<infer M> ? M : never

/** Drops `readonly` from a tuple, so `readonly [2, 3]` and `[2, 3]` compare equal. */
type Mut<T> = { -readonly [K in keyof T]: T[K] }

/** The shape type of a tensor, without `readonly`. */
type StaticShape<X> = X extends Tensor<infer S, infer _D> ? Mut<S> : never

/** A tensor whose static shape is `readonly number[]`: no compile-time help. */
const dyn = (shape: number[]): Tensor<ShapeT, 'f64'> => zeros(shape)

describe('matmul', () => {
  it('[2,3] x [3,4] is [2,4]', () => {
    const y = matmul(zeros([2, 3]), zeros([3, 4]))
    expectTypeOf<StaticShape<typeof y>>().toEqualTypeOf<[2, 4]>()
    expect(y.shape).toEqual([2, 4])
  })

  it('transposeA: [3,2]ᵀ x [3,4] is [2,4]', () => {
    const y = matmul(zeros([3, 2]), zeros([3, 4]), { transposeA: true })
    expectTypeOf<StaticShape<typeof y>>().toEqualTypeOf<[2, 4]>()
    expect(y.shape).toEqual([2, 4])
  })

  it('transposeB: [2,3] x [4,3]ᵀ is [2,4]', () => {
    const y = matmul(zeros([2, 3]), zeros([4, 3]), { transposeB: true })
    expectTypeOf<StaticShape<typeof y>>().toEqualTypeOf<[2, 4]>()
    expect(y.shape).toEqual([2, 4])
  })

  it('both flags: [3,2]ᵀ x [4,3]ᵀ is [2,4]', () => {
    const y = matmul(zeros([3, 2]), zeros([4, 3]), { transposeA: true, transposeB: true })
    expectTypeOf<StaticShape<typeof y>>().toEqualTypeOf<[2, 4]>()
    expect(y.shape).toEqual([2, 4])
  })

  it('explicit false flags behave like no flags', () => {
    const y = matmul(zeros([2, 3]), zeros([3, 4]), { transposeA: false, transposeB: false })
    expectTypeOf<StaticShape<typeof y>>().toEqualTypeOf<[2, 4]>()
    expect(y.shape).toEqual([2, 4])
  })

  it('rejects mismatched inner dimensions', () => {
    // @ts-expect-error: inner dimensions 3 and 4 differ
    expect(() => matmul(zeros([2, 3]), zeros([4, 5]))).toThrow(ShapeError)
    // @ts-expect-error: with transposeA the inner dimension of [2,3]ᵀ is 2, not 3
    expect(() => matmul(zeros([2, 3]), zeros([3, 4]), { transposeA: true })).toThrow(ShapeError)
    // @ts-expect-error: with transposeB the inner dimension of [3,4]ᵀ is 4, not 3
    expect(() => matmul(zeros([2, 3]), zeros([3, 4]), { transposeB: true })).toThrow(ShapeError)
  })

  it('rejects rank != 2', () => {
    // @ts-expect-error: a rank-3 left operand
    expect(() => matmul(zeros([2, 2, 3]), zeros([3, 4]))).toThrow(ShapeError)
    // @ts-expect-error: a rank-1 right operand
    expect(() => matmul(zeros([2, 3]), zeros([3]))).toThrow(ShapeError)
    // @ts-expect-error: scalars are rank 0
    expect(() => matmul(tensor(1), tensor(2))).toThrow(ShapeError)
  })

  it('has the type-level rule MatMul', () => {
    expectTypeOf<Shape.MatMul<[2, 3], [3, 4]>>().toEqualTypeOf<[2, 4]>()
    expectTypeOf<Shape.MatMul<[3, 2], [4, 3], true, true>>().toEqualTypeOf<[2, 4]>()
    expectTypeOf<Shape.MatMul<[number, 3], [3, 4]>>().toEqualTypeOf<[number, 4]>()
    expect(Shape.matmulShape([3, 2], [4, 3], true, true)).toEqual([2, 4])
  })
})

describe('batchMatmul', () => {
  it('[5,2,3] x [5,3,4] is [5,2,4]', () => {
    const y = batchMatmul(zeros([5, 2, 3]), zeros([5, 3, 4]))
    expectTypeOf<StaticShape<typeof y>>().toEqualTypeOf<[5, 2, 4]>()
    expect(y.shape).toEqual([5, 2, 4])
  })

  it('honours the transpose flags', () => {
    const a = batchMatmul(zeros([5, 3, 2]), zeros([5, 3, 4]), { transposeA: true })
    const b = batchMatmul(zeros([5, 2, 3]), zeros([5, 4, 3]), { transposeB: true })
    const c = batchMatmul(zeros([5, 3, 2]), zeros([5, 4, 3]), { transposeA: true, transposeB: true })
    expectTypeOf<StaticShape<typeof a>>().toEqualTypeOf<[5, 2, 4]>()
    expectTypeOf<StaticShape<typeof b>>().toEqualTypeOf<[5, 2, 4]>()
    expectTypeOf<StaticShape<typeof c>>().toEqualTypeOf<[5, 2, 4]>()
    expect([a.shape, b.shape, c.shape]).toEqual([[5, 2, 4], [5, 2, 4], [5, 2, 4]])
  })

  it('rejects differing batch sizes, inner dimensions and ranks', () => {
    // @ts-expect-error: batch sizes 5 and 4 differ
    expect(() => batchMatmul(zeros([5, 2, 3]), zeros([4, 3, 4]))).toThrow(ShapeError)
    // @ts-expect-error: inner dimensions 3 and 2 differ
    expect(() => batchMatmul(zeros([5, 2, 3]), zeros([5, 2, 4]))).toThrow(ShapeError)
    // @ts-expect-error: rank-2 operands belong to matmul
    expect(() => batchMatmul(zeros([2, 3]), zeros([3, 4]))).toThrow(ShapeError)
  })
})

describe('broadcasting in add / mul / sub / div', () => {
  it('a bias [N] over a batch [B,N] is [B,N]', () => {
    const x = zeros([8, 4])
    const b = zeros([4])
    const y1 = add(x, b)
    const y2 = mul(b, x)
    const y3 = sub(x, b)
    const y4 = div(b, x)
    expectTypeOf<StaticShape<typeof y1>>().toEqualTypeOf<[8, 4]>()
    expectTypeOf<StaticShape<typeof y2>>().toEqualTypeOf<[8, 4]>()
    expectTypeOf<StaticShape<typeof y3>>().toEqualTypeOf<[8, 4]>()
    expectTypeOf<StaticShape<typeof y4>>().toEqualTypeOf<[8, 4]>()
    expect([y1.shape, y2.shape, y3.shape, y4.shape]).toEqual([[8, 4], [8, 4], [8, 4], [8, 4]])
  })

  it('[4,1] with [1,5] is [4,5]', () => {
    const y = add(zeros([4, 1]), zeros([1, 5]))
    expectTypeOf<StaticShape<typeof y>>().toEqualTypeOf<[4, 5]>()
    expect(y.shape).toEqual([4, 5])
  })

  it('ranks are aligned from the right: [3,1,5] with [4,1] is [3,4,5]', () => {
    const y = mul(zeros([3, 1, 5]), zeros([4, 1]))
    expectTypeOf<StaticShape<typeof y>>().toEqualTypeOf<[3, 4, 5]>()
    expect(y.shape).toEqual([3, 4, 5])
  })

  it('a plain number keeps the other shape and dtype', () => {
    const x = tensor([[1, 2, 3]], { dtype: 'f32' })
    const y1 = add(x, 1)
    const y2 = sub(2, x)
    const y3 = mul(1, 2)
    expectTypeOf<StaticShape<typeof y1>>().toEqualTypeOf<[1, 3]>()
    expectTypeOf<StaticShape<typeof y2>>().toEqualTypeOf<[1, 3]>()
    expectTypeOf<StaticShape<typeof y3>>().toEqualTypeOf<[]>()
    expectTypeOf(y1.dtype).toEqualTypeOf<'f32'>()
    expectTypeOf(y2.dtype).toEqualTypeOf<'f32'>()
    expectTypeOf(y3.dtype).toEqualTypeOf<'f64'>()
    expect([y1.shape, y2.shape, y3.shape, y1.dtype, y2.dtype, y3.dtype]).toEqual([[1, 3], [1, 3], [], 'f32', 'f32', 'f64'])
  })

  it('rejects incompatible shapes', () => {
    // @ts-expect-error: [4,3] + [2]: 3 vs 2
    expect(() => add(zeros([4, 3]), zeros([2]))).toThrow(ShapeError)
    // @ts-expect-error: [2,3] * [4,3]: 2 vs 4
    expect(() => mul(zeros([2, 3]), zeros([4, 3]))).toThrow(ShapeError)
    // @ts-expect-error: [3] - [4]: 3 vs 4
    expect(() => sub(zeros([3]), zeros([4]))).toThrow(ShapeError)
    // @ts-expect-error: [2,1] / [3,4,5]: the 1 stretches to 5, but 2 vs 4 does not
    expect(() => div(zeros([2, 1]), zeros([3, 4, 5]))).toThrow(ShapeError)
  })

  it('has the type-level rule Broadcast', () => {
    expectTypeOf<Shape.Broadcast<[8, 4], [4]>>().toEqualTypeOf<[8, 4]>()
    expectTypeOf<Shape.Broadcast<[4, 1], [1, 5]>>().toEqualTypeOf<[4, 5]>()
    expectTypeOf<Shape.Broadcast<[], [2, 3]>>().toEqualTypeOf<[2, 3]>()
    expectTypeOf<Shape.Broadcast<[number, 3], [2, 1]>>().toEqualTypeOf<[2, 3]>()
    expect(Shape.broadcastShapes([], [2, 3])).toEqual([2, 3])
  })
})

describe('reductions: sum / mean / max / logsumexp', () => {
  const x = zeros([2, 3, 4])

  it('all axes give a scalar []', () => {
    const s = sum(x)
    const m = mean(x)
    const mx = max(x)
    const l = logsumexp(x)
    expectTypeOf<StaticShape<typeof s>>().toEqualTypeOf<[]>()
    expectTypeOf<StaticShape<typeof m>>().toEqualTypeOf<[]>()
    expectTypeOf<StaticShape<typeof mx>>().toEqualTypeOf<[]>()
    expectTypeOf<StaticShape<typeof l>>().toEqualTypeOf<[]>()
    expect([s.shape, m.shape, mx.shape, l.shape]).toEqual([[], [], [], []])
  })

  it('all axes with keepdims keep the rank as ones', () => {
    const s = sum(x, undefined, true)
    expectTypeOf<StaticShape<typeof s>>().toEqualTypeOf<[1, 1, 1]>()
    expect(s.shape).toEqual([1, 1, 1])
  })

  it('a single axis is dropped', () => {
    const s = sum(x, 1)
    const m = mean(x, 0)
    expectTypeOf<StaticShape<typeof s>>().toEqualTypeOf<[2, 4]>()
    expectTypeOf<StaticShape<typeof m>>().toEqualTypeOf<[3, 4]>()
    expect([s.shape, m.shape]).toEqual([[2, 4], [3, 4]])
  })

  it('negative axes count from the end', () => {
    const a = max(x, -1)
    const b = logsumexp(x, -3)
    expectTypeOf<StaticShape<typeof a>>().toEqualTypeOf<[2, 3]>()
    expectTypeOf<StaticShape<typeof b>>().toEqualTypeOf<[3, 4]>()
    expect([a.shape, b.shape]).toEqual([[2, 3], [3, 4]])
  })

  it('a list of axes, with and without keepdims', () => {
    const a = sum(x, [0, 2])
    const b = mean(x, [0, -1], true)
    const c = logsumexp(x, [1], true)
    const d = max(x, [0, 1, 2])
    expectTypeOf<StaticShape<typeof a>>().toEqualTypeOf<[3]>()
    expectTypeOf<StaticShape<typeof b>>().toEqualTypeOf<[1, 3, 1]>()
    expectTypeOf<StaticShape<typeof c>>().toEqualTypeOf<[2, 1, 4]>()
    expectTypeOf<StaticShape<typeof d>>().toEqualTypeOf<[]>()
    expect([a.shape, b.shape, c.shape, d.shape]).toEqual([[3], [1, 3, 1], [2, 1, 4], []])
  })

  it('an empty axis list reduces nothing', () => {
    const a = sum(x, [])
    expectTypeOf<StaticShape<typeof a>>().toEqualTypeOf<[2, 3, 4]>()
    expect(a.shape).toEqual([2, 3, 4])
  })

  it('keepdims false is the default', () => {
    const a = sum(x, 2, false)
    expectTypeOf<StaticShape<typeof a>>().toEqualTypeOf<[2, 3]>()
    expect(a.shape).toEqual([2, 3])
  })

  it('rejects out-of-range axes', () => {
    // @ts-expect-error: axis 3 of a rank-3 tensor
    expect(() => sum(x, 3)).toThrow(ShapeError)
    // @ts-expect-error: axis -4 of a rank-3 tensor
    expect(() => mean(x, -4)).toThrow(ShapeError)
    // @ts-expect-error: axis 5 in a list
    expect(() => max(x, [0, 5])).toThrow(ShapeError)
    // @ts-expect-error: axis 3 with keepdims
    expect(() => logsumexp(x, 3, true)).toThrow(ShapeError)
    // @ts-expect-error: a scalar has no axis 0
    expect(() => sum(tensor(1), 0)).toThrow(ShapeError)
  })

  it('has the type-level rule Reduce', () => {
    expectTypeOf<Shape.Reduce<[2, 3, 4], [-1, 0]>>().toEqualTypeOf<[3]>()
    expectTypeOf<Shape.Reduce<[2, 3, 4], 1, true>>().toEqualTypeOf<[2, 1, 4]>()
    expectTypeOf<Shape.Reduce<[], undefined>>().toEqualTypeOf<[]>()
    expect(Shape.reduceShape([2, 3, 4], [-1, 0], false, 'sum')).toEqual([3])
  })
})

describe('reshape', () => {
  it('accepts the same number of elements', () => {
    const a = reshape(zeros([2, 3]), [3, 2])
    const b = reshape(zeros([784]), [28, 28])
    const c = reshape(zeros([2, 3, 4]), [24])
    const d = reshape(zeros([1]), [])
    expectTypeOf<StaticShape<typeof a>>().toEqualTypeOf<[3, 2]>()
    expectTypeOf<StaticShape<typeof b>>().toEqualTypeOf<[28, 28]>()
    expectTypeOf<StaticShape<typeof c>>().toEqualTypeOf<[24]>()
    expectTypeOf<StaticShape<typeof d>>().toEqualTypeOf<[]>()
    expect([a.shape, b.shape, c.shape, d.shape]).toEqual([[3, 2], [28, 28], [24], []])
  })

  it('rejects a different number of elements', () => {
    // @ts-expect-error: 6 elements into 8
    expect(() => reshape(zeros([2, 3]), [4, 2])).toThrow(ShapeError)
    // @ts-expect-error: 784 elements into 729
    expect(() => reshape(zeros([784]), [27, 27])).toThrow(ShapeError)
    // @ts-expect-error: 2 elements into a scalar
    expect(() => reshape(zeros([2]), [])).toThrow(ShapeError)
  })
})

describe('transpose', () => {
  it('reverses the axes by default', () => {
    const a = transpose(zeros([2, 3]))
    const b = transpose(zeros([2, 3, 4]))
    const c = transpose(tensor(1))
    expectTypeOf<StaticShape<typeof a>>().toEqualTypeOf<[3, 2]>()
    expectTypeOf<StaticShape<typeof b>>().toEqualTypeOf<[4, 3, 2]>()
    expectTypeOf<StaticShape<typeof c>>().toEqualTypeOf<[]>()
    expect([a.shape, b.shape, c.shape]).toEqual([[3, 2], [4, 3, 2], []])
  })

  it('applies a permutation', () => {
    const a = transpose(zeros([2, 3, 4]), [0, 2, 1])
    const b = transpose(zeros([2, 3, 4]), [1, 2, 0])
    expectTypeOf<StaticShape<typeof a>>().toEqualTypeOf<[2, 4, 3]>()
    expectTypeOf<StaticShape<typeof b>>().toEqualTypeOf<[3, 4, 2]>()
    expect([a.shape, b.shape]).toEqual([[2, 4, 3], [3, 4, 2]])
  })

  it('rejects non-permutations', () => {
    // @ts-expect-error: a repeated axis
    expect(() => transpose(zeros([2, 3]), [0, 0])).toThrow(ShapeError)
    // @ts-expect-error: too few axes
    expect(() => transpose(zeros([2, 3, 4]), [1, 0])).toThrow(ShapeError)
    // @ts-expect-error: axis 2 does not exist in a rank-2 tensor
    expect(() => transpose(zeros([2, 3]), [2, 0])).toThrow(ShapeError)
    // @ts-expect-error: negative axes are not part of a permutation
    expect(() => transpose(zeros([2, 3]), [-1, 0])).toThrow(ShapeError)
  })
})

describe('broadcastTo', () => {
  it('stretches to the target shape', () => {
    const a = broadcastTo(zeros([3]), [4, 3])
    const b = broadcastTo(zeros([4, 1]), [2, 4, 5])
    expectTypeOf<StaticShape<typeof a>>().toEqualTypeOf<[4, 3]>()
    expectTypeOf<StaticShape<typeof b>>().toEqualTypeOf<[2, 4, 5]>()
    expect([a.shape, b.shape]).toEqual([[4, 3], [2, 4, 5]])
  })

  it('rejects incompatible targets', () => {
    // @ts-expect-error: 3 vs 2
    expect(() => broadcastTo(zeros([3]), [4, 2])).toThrow(ShapeError)
    // @ts-expect-error: 4 vs 5 in the leading axis
    expect(() => broadcastTo(zeros([4, 3]), [5, 3])).toThrow(ShapeError)
  })

  it('rejects shrinking targets, at compile time and at run time', () => {
    // @ts-expect-error: [4,3] cannot shrink to [3]
    expect(() => broadcastTo(zeros([4, 3]), [3])).toThrow(ShapeError)
    // @ts-expect-error: the 2 of [2,1] cannot become 1
    expect(() => broadcastTo(zeros([2, 1]), [1, 3])).toThrow(ShapeError)
    const msg: MessageOf<Shape.BroadcastTo<[4, 3], [3]>> = 'broadcastTo: cannot broadcast [4,3] to [3]'
    expect(() => broadcastTo(zeros([4, 3]) as Tensor, [3])).toThrow(msg)
  })

  it('accepts run-time dimensions and checks them at run time', () => {
    const n: number = 3
    expect(broadcastTo(zeros([n]), [2, 3]).shape).toEqual([2, 3])
  })
})

describe('tensor() literal inference', () => {
  it('infers the shape of nested array literals', () => {
    const m = tensor([[1, 2, 3], [4, 5, 6]])
    const s = tensor(2.5)
    const v = tensor([1, 2, 3, 4])
    const t = tensor([[[1], [2]], [[3], [4]], [[5], [6]]])
    expectTypeOf<StaticShape<typeof m>>().toEqualTypeOf<[2, 3]>()
    expectTypeOf(m.shape).toEqualTypeOf<[2, 3]>()
    expectTypeOf<StaticShape<typeof s>>().toEqualTypeOf<[]>()
    expectTypeOf<StaticShape<typeof v>>().toEqualTypeOf<[4]>()
    expectTypeOf<StaticShape<typeof t>>().toEqualTypeOf<[3, 2, 1]>()
    expect([m.shape, s.shape, v.shape, t.shape]).toEqual([[2, 3], [], [4], [3, 2, 1]])
  })

  it('infers the dtype, f64 by default', () => {
    const a = tensor([1, 2], { dtype: 'f32' })
    const b = tensor([1, 2])
    const c = tensor([1, 2], { dtype: 'f64' })
    const z = zeros([2], { dtype: 'f32' })
    const e = eye(2, { dtype: 'f32' })
    expectTypeOf(a.dtype).toEqualTypeOf<'f32'>()
    expectTypeOf(b.dtype).toEqualTypeOf<'f64'>()
    expectTypeOf(c.dtype).toEqualTypeOf<'f64'>()
    expectTypeOf(z.dtype).toEqualTypeOf<'f32'>()
    expectTypeOf(e).toEqualTypeOf<Tensor<[2, 2], 'f32'>>()
    // @ts-expect-error: not a dtype
    expect(() => tensor([1], { dtype: 'i32' })).toThrow()
    expect([a.dtype, b.dtype, c.dtype, z.dtype, e.dtype]).toEqual(['f32', 'f64', 'f64', 'f32', 'f32'])
  })

  it('rejects non-numeric leaves', () => {
    // @ts-expect-error: strings are not numbers
    expect(() => tensor([1, '2'])).toThrow()
  })

  it('dtypes flow through ops', () => {
    const y = matmul(ones([2, 3], { dtype: 'f32' }), full([3, 1], 2, { dtype: 'f32' }))
    expectTypeOf(y).toEqualTypeOf<Tensor<[2, 1], 'f32'>>()
    expect(y.dtype).toBe('f32')
  })
})

describe('dynamic shapes still type-check', () => {
  const n = Number('3') // a run-time number: its type is `number`

  it('number[] shapes go through every op', () => {
    const x = dyn([2, 3])
    const y = dyn([3, 4])
    const p = matmul(x, y)
    const q = add(x, zeros([3]))
    const r = sum(x, 0)
    const s = reshape(x, [6])
    const t = transpose(x)
    const u = broadcastTo(dyn([3]), [2, 3])
    const v = batchMatmul(dyn([2, 2, 3]), dyn([2, 3, 1]))
    const w = mean(x, [0, 1], true)
    expectTypeOf(p.shape).toEqualTypeOf<ShapeT>()
    expectTypeOf(q.shape).toEqualTypeOf<ShapeT>()
    expectTypeOf(r.shape).toEqualTypeOf<ShapeT>()
    expectTypeOf(t.shape).toEqualTypeOf<ShapeT>()
    expectTypeOf<StaticShape<typeof s>>().toEqualTypeOf<[6]>()
    expectTypeOf<StaticShape<typeof u>>().toEqualTypeOf<[2, 3]>()
    expect([p.shape, q.shape, r.shape, s.shape, t.shape, u.shape, v.shape, w.shape]).toEqual([
      [2, 4],
      [2, 3],
      [3],
      [6],
      [3, 2],
      [2, 3],
      [2, 2, 1],
      [1, 1]
    ])
  })

  it('tuples with non-literal dimensions are accepted and keep what is known', () => {
    const x = zeros([n, 3])
    expectTypeOf<StaticShape<typeof x>>().toEqualTypeOf<[number, 3]>()
    const p = matmul(x, zeros([3, 5]))
    const q = add(x, zeros([2, 1, 1]))
    const r = reshape(zeros([2, n]), [n, 2])
    const s = sum(x, -1)
    expectTypeOf<StaticShape<typeof p>>().toEqualTypeOf<[number, 5]>()
    expectTypeOf<StaticShape<typeof q>>().toEqualTypeOf<[2, number, 3]>()
    expectTypeOf<StaticShape<typeof r>>().toEqualTypeOf<[number, 2]>()
    expectTypeOf<StaticShape<typeof s>>().toEqualTypeOf<[number]>()
    // a known rank mismatch is still caught
    // @ts-expect-error: [number,3] x [4,5]: 3 vs 4
    expect(() => matmul(x, zeros([4, 5]))).toThrow(ShapeError)
    expect([p.shape, q.shape, r.shape, s.shape]).toEqual([[3, 5], [2, 3, 3], [3, 2], [3]])
  })

  it('a run-time axis widens the result instead of guessing it', () => {
    const x = zeros([2, 3])
    const a = sum(x, n - 2)
    const b = mean(x, [0, n - 3], true)
    const c = max(x, [n - 3])
    expectTypeOf(a.shape).toEqualTypeOf<ShapeT>()
    expectTypeOf(b.shape).toEqualTypeOf<ShapeT>()
    expectTypeOf(c.shape).toEqualTypeOf<ShapeT>()
    expect([a.shape, b.shape, c.shape]).toEqual([[2], [1, 3], [3]])
  })

  it('number-typed data from fromBuffer and nested arrays typed number[][]', () => {
    const data: number[][] = [[1, 2], [3, 4], [5, 6]]
    const a = tensor(data)
    const b = fromBuffer(new Float64Array(6), [2, 3])
    const c = Random.normal(Random.key(0), [n, 2])
    expectTypeOf<StaticShape<typeof a>>().toEqualTypeOf<[number, number]>()
    expectTypeOf<StaticShape<typeof b>>().toEqualTypeOf<[2, 3]>()
    expectTypeOf<StaticShape<typeof c>>().toEqualTypeOf<[number, 2]>()
    const y = matmul(a, b)
    expectTypeOf<StaticShape<typeof y>>().toEqualTypeOf<[number, 3]>()
    expect([a.shape, b.shape, c.shape, y.shape]).toEqual([[3, 2], [2, 3], [3, 2], [3, 3]])
  })
})

describe('the compile-time message equals the runtime message', () => {
  it('matmul: inner dimensions', () => {
    type M = MessageOf<Shape.MatMul<[2, 3], [4, 5]>>
    const msg: M = 'matmul: inner dimensions differ, [2,3] x [4,5] (3 vs 4)'
    expectTypeOf<M>().toEqualTypeOf<'matmul: inner dimensions differ, [2,3] x [4,5] (3 vs 4)'>()
    // @ts-expect-error: the mismatch above, at a call site
    const e = thrown(() => matmul(zeros([2, 3]), zeros([4, 5])))
    expect(e).toBeInstanceOf(ShapeError)
    expect(e.message).toBe(msg)
  })

  it('matmul: inner dimensions with transpose flags', () => {
    type M = MessageOf<Shape.MatMul<[3, 2], [5, 4], true, true>>
    const msg: M = 'matmul: inner dimensions differ, [3,2] x [5,4] (3 vs 4)'
    expectTypeOf<M>().toEqualTypeOf<'matmul: inner dimensions differ, [3,2] x [5,4] (3 vs 4)'>()
    // @ts-expect-error: the mismatch above, at a call site
    const e = thrown(() => matmul(zeros([3, 2]), zeros([5, 4]), { transposeA: true, transposeB: true }))
    expect(e).toBeInstanceOf(ShapeError)
    expect(e.message).toBe(msg)
  })

  it('matmul: rank', () => {
    type M = MessageOf<Shape.MatMul<[2, 3, 4], [4, 5]>>
    const msg: M = 'matmul: expects rank-2 tensors, got [2,3,4] and [4,5]'
    expectTypeOf<M>().toEqualTypeOf<'matmul: expects rank-2 tensors, got [2,3,4] and [4,5]'>()
    // @ts-expect-error: the mismatch above, at a call site
    const e = thrown(() => matmul(zeros([2, 3, 4]), zeros([4, 5])))
    expect(e).toBeInstanceOf(ShapeError)
    expect(e.message).toBe(msg)
  })

  it('batchMatmul: batch sizes, inner dimensions, rank', () => {
    type M1 = MessageOf<Shape.BatchMatMul<[5, 2, 3], [4, 3, 4]>>
    type M2 = MessageOf<Shape.BatchMatMul<[5, 2, 3], [5, 2, 4]>>
    type M3 = MessageOf<Shape.BatchMatMul<[2, 3], [3, 4]>>
    const m1: M1 = 'batchMatmul: batch sizes differ, [5,2,3] x [4,3,4] (5 vs 4)'
    const m2: M2 = 'batchMatmul: inner dimensions differ, [5,2,3] x [5,2,4]'
    const m3: M3 = 'batchMatmul: expects rank-3 tensors, got [2,3] and [3,4]'
    expectTypeOf<M1>().toEqualTypeOf<'batchMatmul: batch sizes differ, [5,2,3] x [4,3,4] (5 vs 4)'>()
    expectTypeOf<M2>().toEqualTypeOf<'batchMatmul: inner dimensions differ, [5,2,3] x [5,2,4]'>()
    expectTypeOf<M3>().toEqualTypeOf<'batchMatmul: expects rank-3 tensors, got [2,3] and [3,4]'>()
    // @ts-expect-error: batch sizes differ
    const e1 = thrown(() => batchMatmul(zeros([5, 2, 3]), zeros([4, 3, 4])))
    // @ts-expect-error: inner dimensions differ
    const e2 = thrown(() => batchMatmul(zeros([5, 2, 3]), zeros([5, 2, 4])))
    // @ts-expect-error: rank 2
    const e3 = thrown(() => batchMatmul(zeros([2, 3]), zeros([3, 4])))
    expect([e1, e2, e3].every((e) => e instanceof ShapeError)).toBe(true)
    expect([e1.message, e2.message, e3.message]).toEqual([m1, m2, m3])
  })

  it('broadcast', () => {
    type M1 = MessageOf<Shape.Broadcast<[4, 3], [2]>>
    type M2 = MessageOf<Shape.Broadcast<[2, 3], [4, 3]>>
    const m1: M1 = 'broadcast: shapes [4,3] and [2] are incompatible (3 vs 2)'
    const m2: M2 = 'broadcast: shapes [2,3] and [4,3] are incompatible (2 vs 4)'
    expectTypeOf<M1>().toEqualTypeOf<'broadcast: shapes [4,3] and [2] are incompatible (3 vs 2)'>()
    expectTypeOf<M2>().toEqualTypeOf<'broadcast: shapes [2,3] and [4,3] are incompatible (2 vs 4)'>()
    // @ts-expect-error: 3 vs 2
    const e1 = thrown(() => add(zeros([4, 3]), zeros([2])))
    // @ts-expect-error: 2 vs 4
    const e2 = thrown(() => div(zeros([2, 3]), zeros([4, 3])))
    expect([e1, e2].every((e) => e instanceof ShapeError)).toBe(true)
    expect([e1.message, e2.message]).toEqual([m1, m2])
  })

  it('broadcastTo', () => {
    type M = MessageOf<Shape.BroadcastTo<[3], [4, 2]>>
    const msg: M = 'broadcastTo: cannot broadcast [3] to [4,2]'
    expectTypeOf<M>().toEqualTypeOf<'broadcastTo: cannot broadcast [3] to [4,2]'>()
    // @ts-expect-error: 3 vs 2
    const e = thrown(() => broadcastTo(zeros([3]), [4, 2]))
    expect(e).toBeInstanceOf(ShapeError)
    expect(e.message).toBe(msg)
  })

  it('reductions: out-of-range axes, named after the op', () => {
    type M1 = MessageOf<Shape.Reduce<[2, 3], 2, false, 'sum'>>
    type M2 = MessageOf<Shape.Reduce<[2, 3], -3, true, 'mean'>>
    type M3 = MessageOf<Shape.Reduce<[2, 3, 4], [0, 7], false, 'max'>>
    type M4 = MessageOf<Shape.Reduce<[], 0, false, 'logsumexp'>>
    const m1: M1 = 'sum: axis 2 is out of range for shape [2,3]'
    const m2: M2 = 'mean: axis -3 is out of range for shape [2,3]'
    const m3: M3 = 'max: axis 7 is out of range for shape [2,3,4]'
    const m4: M4 = 'logsumexp: axis 0 is out of range for shape []'
    expectTypeOf<M1>().toEqualTypeOf<'sum: axis 2 is out of range for shape [2,3]'>()
    expectTypeOf<M2>().toEqualTypeOf<'mean: axis -3 is out of range for shape [2,3]'>()
    expectTypeOf<M3>().toEqualTypeOf<'max: axis 7 is out of range for shape [2,3,4]'>()
    expectTypeOf<M4>().toEqualTypeOf<'logsumexp: axis 0 is out of range for shape []'>()
    // @ts-expect-error: axis 2 of rank 2
    const e1 = thrown(() => sum(zeros([2, 3]), 2))
    // @ts-expect-error: axis -3 of rank 2
    const e2 = thrown(() => mean(zeros([2, 3]), -3, true))
    // @ts-expect-error: axis 7 of rank 3
    const e3 = thrown(() => max(zeros([2, 3, 4]), [0, 7]))
    // @ts-expect-error: a scalar has no axes
    const e4 = thrown(() => logsumexp(tensor(0), 0))
    expect([e1, e2, e3, e4].every((e) => e instanceof ShapeError)).toBe(true)
    expect([e1.message, e2.message, e3.message, e4.message]).toEqual([m1, m2, m3, m4])
  })

  it('reshape', () => {
    type M = MessageOf<Shape.Reshape<[2, 3], [4, 2]>>
    const msg: M = 'reshape: cannot reshape [2,3] (6 elements) into [4,2] (8 elements)'
    expectTypeOf<M>().toEqualTypeOf<'reshape: cannot reshape [2,3] (6 elements) into [4,2] (8 elements)'>()
    // @ts-expect-error: 6 vs 8 elements
    const e = thrown(() => reshape(zeros([2, 3]), [4, 2]))
    expect(e).toBeInstanceOf(ShapeError)
    expect(e.message).toBe(msg)
  })

  it('transpose', () => {
    type M1 = MessageOf<Shape.Transpose<[2, 3], [0, 0]>>
    type M2 = MessageOf<Shape.Transpose<[2, 3, 4], [2, 0]>>
    const m1: M1 = 'transpose: [0,0] is not a permutation of the axes of [2,3]'
    const m2: M2 = 'transpose: [2,0] is not a permutation of the axes of [2,3,4]'
    expectTypeOf<M1>().toEqualTypeOf<'transpose: [0,0] is not a permutation of the axes of [2,3]'>()
    expectTypeOf<M2>().toEqualTypeOf<'transpose: [2,0] is not a permutation of the axes of [2,3,4]'>()
    // @ts-expect-error: repeated axis
    const e1 = thrown(() => transpose(zeros([2, 3]), [0, 0]))
    // @ts-expect-error: too few axes
    const e2 = thrown(() => transpose(zeros([2, 3, 4]), [2, 0]))
    expect([e1, e2].every((e) => e instanceof ShapeError)).toBe(true)
    expect([e1.message, e2.message]).toEqual([m1, m2])
  })

  it('an accepted rule carries no message', () => {
    expectTypeOf<MessageOf<Shape.MatMul<[2, 3], [3, 4]>>>().toEqualTypeOf<never>()
    expectTypeOf<MessageOf<Shape.Broadcast<[4, 1], [1, 5]>>>().toEqualTypeOf<never>()
    expectTypeOf<MessageOf<Shape.Reduce<[2, 3], -1>>>().toEqualTypeOf<never>()
    expectTypeOf<MessageOf<Shape.Reshape<[784], [28, 28]>>>().toEqualTypeOf<never>()
    expectTypeOf<MessageOf<Shape.Transpose<[2, 3, 4], [2, 0, 1]>>>().toEqualTypeOf<never>()
    expect(Shape.transposeShape([2, 3, 4], [2, 0, 1])).toEqual([4, 2, 3])
  })
})
