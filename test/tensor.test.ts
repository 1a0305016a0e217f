/**
 * Tensor construction, immutability, reading values back, and the typed errors of bad input.
 */
import { describe, expect, it } from 'vitest'
import { thrown } from './support/thrown.js'
import { fc, test } from '@fast-check/vitest'
import {
  ArgumentError,
  DTypeError,
  Random,
  ShapeError,
  Tensor,
  abs,
  add,
  arange,
  assertTensor,
  astype,
  batchMatmul,
  broadcastTo,
  concat,
  cos,
  div,
  erf,
  equal,
  exp,
  eye,
  fromBuffer,
  full,
  greater,
  less,
  log,
  logSoftmax,
  logsumexp,
  matmul,
  max,
  maximum,
  mean,
  minimum,
  mul,
  neg,
  ones,
  pow,
  relu,
  reshape,
  sigmoid,
  sin,
  slice,
  softmax,
  softplus,
  sqrt,
  square,
  sub,
  sum,
  tanh,
  tensor,
  transpose,
  where,
  zeros
} from 'lamina-nn'
import type { Nested } from 'lamina-nn'

// ---------------------------------------------------------------- reference helpers

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, d) => a * d, 1)

/** Builds the nested array of `shape` from row-major `flat` values (independent of lamina). */
const nest = (flat: readonly number[], shape: readonly number[]): Nested => {
  if (shape.length === 0) return flat[0]!
  const [n, ...rest] = shape
  const step = sizeOf(rest)
  const out: Nested[] = []
  for (let i = 0; i < n!; i++) out.push(nest(flat.slice(i * step, (i + 1) * step), rest))
  return out
}

/** Replaces the sub-array at `path` of a nested array (returns a new one). */
const replaceAt = (data: Nested, path: readonly number[], f: (sub: Nested) => Nested): Nested => {
  if (path.length === 0) return f(data)
  const [i, ...rest] = path
  const arr = data as readonly Nested[]
  return arr.map((d, j) => (j === i ? replaceAt(d, rest, f) : d))
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

// ---------------------------------------------------------------- arbitraries

/** A shape of rank 0..maxRank with each dimension in 1..maxDim. */
const shapeArb = (maxRank = 4, maxDim = 4): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: 0, maxLength: maxRank })

const valuesArb = (n: number): fc.Arbitrary<number[]> =>
  fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: n, maxLength: n })

/** A shape and row-major values that fill it. */
const filledArb = (maxRank = 4, maxDim = 4): fc.Arbitrary<{ shape: number[]; values: number[] }> =>
  shapeArb(maxRank, maxDim).chain((shape) => valuesArb(sizeOf(shape)).map((values) => ({ shape, values })))

// ---------------------------------------------------------------- constructors

describe('tensor() from nested arrays', () => {
  it('reads a matrix row-major', () => {
    const t = tensor([[1, 2, 3], [4, 5, 6]])
    expect(t.shape).toEqual([2, 3])
    expect(t.dtype).toBe('f64')
    expect(t.data).toBeInstanceOf(Float64Array)
    expect([...t.data]).toEqual([1, 2, 3, 4, 5, 6])
    expect(t.size).toBe(6)
    expect(t.rank).toBe(2)
  })

  it('a number is a scalar of shape []', () => {
    const t = tensor(2.5)
    expect(t.shape).toEqual([])
    expect(t.size).toBe(1)
    expect(t.item()).toBe(2.5)
    expect(t.toArray()).toBe(2.5)
  })

  it('empty arrays give zero-size tensors', () => {
    expect(tensor([]).shape).toEqual([0])
    expect(tensor([[], []]).shape).toEqual([2, 0])
    expect(tensor([[], []]).size).toBe(0)
  })

  test.prop([filledArb()])('round-trips any nested array: shape, data and toArray', ({ shape, values }) => {
    const nested = nest(values, shape)
    const t = tensor(nested)
    expect(t.shape).toEqual(shape)
    expect([...t.data]).toEqual(values)
    expect(t.toArray()).toEqual(nested)
  })

  it('rejects ragged arrays with an ArgumentError naming the path', () => {
    const e1 = thrown(() => tensor([[1, 2], [3]]))
    expect(e1).toBeInstanceOf(ArgumentError)
    expect(e1.message).toMatch(/at \[1\]\D/)
    const e2 = thrown(() => tensor([1, [2]] as never))
    expect(e2).toBeInstanceOf(ArgumentError)
    expect(e2.message).toMatch(/at \[1\]\D/)
    const e3 = thrown(() => tensor([[1], 2] as never))
    expect(e3).toBeInstanceOf(ArgumentError)
    expect(e3.message).toMatch(/at \[1\]\D/)
    const e4 = thrown(() => tensor([[[1, 2], [3, 4]], [[5, 6], [7]]]))
    expect(e4).toBeInstanceOf(ArgumentError)
    expect(e4.message).toMatch(/at \[1\]\[1\]\D/)
  })

  it('rejects non-numeric leaves with an ArgumentError naming the path', () => {
    const e = thrown(() => tensor([[1, 2], [3, 'x']] as never))
    expect(e).toBeInstanceOf(ArgumentError)
    expect(e.message).toMatch(/at \[1\]\[1\]\D/)
    expect(e.message).toContain('string')
  })

  // Drop or add one element of a sub-array off the [0][0]… chain the shape is inferred from:
  // the first inconsistency in depth-first order is exactly there.
  test.prop([
    shapeArb(4, 4)
      .filter((s) => s.length >= 1 && s.some((d) => d > 1))
      .chain((shape) =>
        fc
          .integer({ min: 0, max: shape.length - 1 })
          .chain((depth) =>
            fc.tuple(
              fc.constant(shape),
              fc.tuple(...shape.slice(0, depth).map((d) => fc.integer({ min: 0, max: d - 1 }))),
              fc.boolean()
            )
          )
      )
  ])('a ragged array anywhere is reported at its path', ([shape, path, grow]) => {
    fc.pre(path.some((i) => i > 0))
    const nested = nest(Array.from({ length: sizeOf(shape) }, (_, i) => i), shape)
    const broken = replaceAt(nested, path, (sub) => {
      const arr = sub as readonly Nested[]
      return grow ? [...arr, arr[0]!] : arr.slice(0, -1)
    })
    const e = thrown(() => tensor(broken))
    expect(e).toBeInstanceOf(ArgumentError)
    const where = path.length === 0 ? 'the top' : path.map((i) => `[${i}]`).join('')
    expect(e.message).toMatch(new RegExp(`at ${escapeRe(where)}(,| )`))
  })

  it('rejects an unknown dtype with a DTypeError', () => {
    expect(() => tensor([1], { dtype: 'i32' as never })).toThrow(DTypeError)
    expect(() => zeros([1], { dtype: 'float' as never })).toThrow(DTypeError)
  })
})

describe('fromBuffer', () => {
  it('copies a flat array into the shape', () => {
    const src = [1, 2, 3, 4, 5, 6]
    const t = fromBuffer(src, [3, 2])
    expect(t.toArray()).toEqual([[1, 2], [3, 4], [5, 6]])
    src[0] = 99
    expect(t.data[0]).toBe(1)
  })

  it('infers f32 from a Float32Array and f64 otherwise', () => {
    expect(fromBuffer(new Float32Array([1, 2]), [2]).dtype).toBe('f32')
    expect(fromBuffer(new Float64Array([1, 2]), [2]).dtype).toBe('f64')
    expect(fromBuffer([1, 2], [2]).dtype).toBe('f64')
    expect(fromBuffer([0.1], [1], { dtype: 'f32' }).data[0]).toBe(Math.fround(0.1))
  })

  it('rejects a length that does not fill the shape with an ArgumentError naming both', () => {
    const e = thrown(() => fromBuffer([1, 2, 3, 4, 5], [2, 3]))
    expect(e).toBeInstanceOf(ArgumentError)
    expect(e.message).toContain('5')
    expect(e.message).toContain('[2,3]')
    expect(() => fromBuffer([1, 2, 3, 4, 5, 6, 7], [2, 3])).toThrow(ArgumentError)
    expect(() => fromBuffer([], [1])).toThrow(ArgumentError)
  })

  it('rejects bad dimensions with a ShapeError', () => {
    expect(() => fromBuffer([1, 2], [-2])).toThrow(ShapeError)
    expect(() => fromBuffer([1, 2], [1.5])).toThrow(ShapeError)
  })

  test.prop([filledArb()])('agrees with tensor() on the nested form', ({ shape, values }) => {
    const a = fromBuffer(values, shape)
    const b = tensor(nest(values, shape))
    expect(a.shape).toEqual(b.shape)
    expect([...a.data]).toEqual([...b.data])
  })
})

describe('zeros / ones / full / eye / arange', () => {
  it('fill with the right value', () => {
    expect(zeros([2, 3]).toArray()).toEqual([[0, 0, 0], [0, 0, 0]])
    expect(ones([3]).toArray()).toEqual([1, 1, 1])
    expect(full([2, 1], -7.5).toArray()).toEqual([[-7.5], [-7.5]])
    expect(full([], 4).item()).toBe(4)
    expect(zeros([2, 0]).size).toBe(0)
  })

  test.prop([shapeArb(), fc.double({ noNaN: true })])('full(shape, v) holds v everywhere', (shape, v) => {
    const t = full(shape, v)
    expect(t.shape).toEqual(shape)
    expect(t.size).toBe(sizeOf(shape))
    expect([...t.data].every((x) => Object.is(x, v))).toBe(true)
  })

  test.prop([fc.integer({ min: 0, max: 8 })])('eye(n) is the identity', (n) => {
    const t = eye(n)
    expect(t.shape).toEqual([n, n])
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(t.data[i * n + j]).toBe(i === j ? 1 : 0)
  })

  it('arange counts up, down, and by fractions', () => {
    expect(arange(4).toArray()).toEqual([0, 1, 2, 3])
    expect(arange(2, 5).toArray()).toEqual([2, 3, 4])
    expect(arange(5, 0, -2).toArray()).toEqual([5, 3, 1])
    expect(arange(1, 2, 0.25).toArray()).toEqual([1, 1.25, 1.5, 1.75])
    expect(arange(3, 1).toArray()).toEqual([])
    expect(arange(0).shape).toEqual([0])
  })

  test.prop([fc.integer({ min: -50, max: 50 }), fc.integer({ min: -50, max: 50 }), fc.integer({ min: 1, max: 7 })])(
    'arange(start, stop, step) matches a loop',
    (start, stop, step) => {
      const expected: number[] = []
      for (let v = start; v < stop; v += step) expected.push(v)
      expect(arange(start, stop, step).toArray()).toEqual(expected)
    }
  )

  it('rejects bad arguments', () => {
    expect(() => arange(0, 5, 0)).toThrow(ArgumentError)
    expect(() => arange(Infinity)).toThrow(ArgumentError)
    expect(() => arange(0, NaN)).toThrow(ArgumentError)
    expect(() => zeros([-1])).toThrow(ShapeError)
    expect(() => ones([2, 0.5])).toThrow(ShapeError)
    expect(() => full([NaN], 1)).toThrow(ShapeError)
    expect(() => eye(-1)).toThrow(ShapeError)
    expect(() => eye(2.5)).toThrow(ShapeError)
  })
})

describe('f32 storage rounds to float32', () => {
  it('tensor([0.1], f32) holds fround(0.1)', () => {
    const t = tensor([0.1], { dtype: 'f32' })
    expect(t.dtype).toBe('f32')
    expect(t.data).toBeInstanceOf(Float32Array)
    expect(t.data[0]).toBe(Math.fround(0.1))
    expect(t.data[0]).not.toBe(0.1)
  })

  test.prop([fc.array(fc.double(), { minLength: 1, maxLength: 20 })])('every constructor rounds each value with fround', (xs) => {
    const a = tensor(xs, { dtype: 'f32' })
    const b = fromBuffer(xs, [xs.length], { dtype: 'f32' })
    const c = full([1], xs[0]!, { dtype: 'f32' })
    expect(xs.every((x, i) => Object.is(a.data[i], Math.fround(x)))).toBe(true)
    expect(xs.every((x, i) => Object.is(b.data[i], Math.fround(x)))).toBe(true)
    expect(Object.is(c.data[0], Math.fround(xs[0]!))).toBe(true)
  })

  it('arange in f32 rounds each element', () => {
    const t = arange(0, 1, 0.1, { dtype: 'f32' })
    expect([...t.data]).toEqual(Array.from({ length: 10 }, (_, i) => Math.fround(i * 0.1)))
  })
})

// ---------------------------------------------------------------- immutability

describe('immutability', () => {
  it('the tensor object and its shape are frozen', () => {
    const t = tensor([[1, 2, 3]])
    expect(Object.isFrozen(t)).toBe(true)
    expect(Object.isFrozen(t.shape)).toBe(true)
    expect(() => {
      ;(t as unknown as { shape: number[] }).shape = [3, 1]
    }).toThrow(TypeError)
    expect(() => {
      ;(t.shape as number[])[0] = 9
    }).toThrow(TypeError)
    expect(() => {
      ;(t.shape as number[]).push(1)
    }).toThrow(TypeError)
    expect(() => {
      ;(t as unknown as { extra: number }).extra = 1
    }).toThrow(TypeError)
    expect(t.shape).toEqual([1, 3])
  })

  it('every constructor returns frozen tensors with frozen shapes', () => {
    const shape = [2, 2]
    const ts: Tensor[] = [
      tensor([[1, 2], [3, 4]]),
      fromBuffer([1, 2, 3, 4], shape),
      zeros(shape),
      ones(shape),
      full(shape, 3),
      eye(2),
      arange(4),
      Random.uniform(Random.key(0), shape),
      Random.normal(Random.key(0), shape),
      add(tensor([1]), tensor([2]))
    ]
    expect(ts.every((t) => Object.isFrozen(t) && Object.isFrozen(t.shape))).toBe(true)
    // the caller's shape array is not captured (nor frozen)
    shape[0] = 5
    expect(ts[1]!.shape).toEqual([2, 2])
    expect(Object.isFrozen(shape)).toBe(false)
  })

  it('data is read-only in the type', () => {
    const t = tensor([1, 2])
    const write = (): void => {
      // @ts-expect-error: ReadonlyBuffer has a readonly index signature
      t.data[0] = 5
    }
    expect(typeof write).toBe('function') // never called: this is a compile-time check
    expect([...t.data]).toEqual([1, 2])
  })

  it('no method or getter mutates the tensor', () => {
    const t = tensor([[1.5, -2], [3, 4]])
    const before = [...t.data]
    const reads = [t.size, t.rank, t.dtype, t.toString(), t.toArray(), [...t.data]]
    expect(() => t.item()).toThrow(ArgumentError)
    expect(reads).toEqual([4, 2, 'f64', 'Tensor([2,2], f64)', [[1.5, -2], [3, 4]], before])
    expect([...t.data]).toEqual(before)
    expect(t.shape).toEqual([2, 2])
  })

  it('toArray returns a fresh copy', () => {
    const t = tensor([[1, 2], [3, 4]])
    const a = t.toArray()
    a[0]![0] = 100
    expect(t.toArray()).toEqual([[1, 2], [3, 4]])
    expect(t.data[0]).toBe(1)
  })

  // Every op applied to random inputs leaves the inputs' data and shape exactly as they were.
  test.prop([filledArb(3, 4), fc.constantFrom<'f32' | 'f64'>('f32', 'f64')])(
    'no op changes its inputs',
    ({ shape, values }, dtype) => {
      const x = fromBuffer(values, shape, { dtype })
      const y = fromBuffer(values.map((v) => v * 0.5 + 1), shape, { dtype })
      const row = fromBuffer(values.slice(0, shape[shape.length - 1] ?? 1), shape.length === 0 ? [] : [shape[shape.length - 1]!], { dtype })
      const snapshot = (t: Tensor): [number[], number[]] => [[...t.data], [...t.shape]]
      const before = [x, y, row].map(snapshot)
      const pos = abs(x)
      const mask = greater(x, 0)
      const flat = reshape(x, [x.size])
      const m2 = reshape(x, [1, x.size])
      const outs: Tensor[] = [
        add(x, y),
        sub(x, row),
        mul(row, x),
        div(x, add(abs(y), 1)),
        maximum(x, y),
        minimum(x, 0),
        neg(x),
        pow(x, 2),
        exp(x),
        log(add(pos, 1)),
        sin(x),
        cos(x),
        erf(x),
        tanh(x),
        sigmoid(x),
        relu(x),
        sqrt(pos),
        softplus(x),
        square(x),
        sum(x),
        mean(x, undefined, true),
        max(x),
        logsumexp(x),
        logSoftmax(flat),
        softmax(flat),
        matmul(m2, m2, { transposeB: true }),
        matmul(m2, m2, { transposeA: true }),
        batchMatmul(reshape(x, [1, 1, x.size]), reshape(y, [1, x.size, 1])),
        transpose(x),
        flat,
        broadcastTo(x, [2, ...shape]),
        concat([flat, flat]),
        slice(flat, [0], [1]),
        where(mask, x, y),
        less(x, y),
        equal(x, row),
        astype(x, dtype === 'f32' ? 'f64' : 'f32')
      ]
      expect(outs.every((o) => o instanceof Tensor)).toBe(true)
      expect([x, y, row].map(snapshot)).toEqual(before)
    }
  )
})

// ---------------------------------------------------------------- reading values

describe('toArray / item', () => {
  test.prop([filledArb()])('toArray nests data row-major', ({ shape, values }) => {
    const t = fromBuffer(values, shape)
    expect(t.toArray()).toEqual(nest(values, shape))
  })

  it('item reads a one-element tensor of any rank', () => {
    expect(tensor(3).item()).toBe(3)
    expect(tensor([3]).item()).toBe(3)
    expect(tensor([[[-1.25]]]).item()).toBe(-1.25)
    expect(sum(tensor([1, 2, 3])).item()).toBe(6)
  })

  it('item on a tensor with more (or fewer) than one element throws ArgumentError naming the shape', () => {
    const e = thrown(() => tensor([1, 2]).item())
    expect(e).toBeInstanceOf(ArgumentError)
    expect(e.message).toContain('[2]')
    expect(() => zeros([2, 3]).item()).toThrow(ArgumentError)
    expect(() => zeros([0]).item()).toThrow(ArgumentError)
  })
})

// ---------------------------------------------------------------- typed errors

describe('assertTensor and dtype errors', () => {
  const cases: [unknown, string][] = [
    [new Int32Array([1]), 'Int32Array'],
    ['tensor', 'string'],
    [null, 'null'],
    [undefined, 'undefined'],
    [3, 'number'],
    [[1, 2], 'Array'],
    [new Float64Array([1]), 'Float64Array']
  ]

  it.each(cases)('assertTensor(%o) throws a DTypeError naming %s', (value, name) => {
    const e = thrown(() => assertTensor(value, 'grad'))
    expect(e).toBeInstanceOf(DTypeError)
    expect(e.message).toContain(name)
    expect(e.message).toContain('grad')
  })

  it('assertTensor accepts tensors of both dtypes', () => {
    expect(() => assertTensor(tensor([1]), 'op')).not.toThrow()
    expect(() => assertTensor(tensor([1], { dtype: 'f32' }), 'op')).not.toThrow()
  })

  it('ops given non-tensors throw a DTypeError naming what they got', () => {
    const e1 = thrown(() => add(new Int32Array([1]) as unknown as Tensor, 1))
    expect(e1).toBeInstanceOf(DTypeError)
    expect(e1.message).toContain('Int32Array')
    const e2 = thrown(() => exp('x' as never))
    expect(e2).toBeInstanceOf(DTypeError)
    expect(e2.message).toContain('string')
    const e3 = thrown(() => sum(null as never))
    expect(e3).toBeInstanceOf(DTypeError)
    expect(e3.message).toContain('null')
    expect(() => matmul(tensor([[1]]), [[1]] as never)).toThrow(DTypeError)
    expect(() => reshape(new Float64Array(2) as never, [2])).toThrow(DTypeError)
  })

  it('mixing f32 and f64 throws a DTypeError naming both dtypes', () => {
    const a = tensor([[1, 2], [3, 4]], { dtype: 'f32' })
    const b = tensor([[1, 2], [3, 4]], { dtype: 'f64' })
    // (each of these is also a compile error, DTypeMismatch<"add: dtypes differ: f32 and f64; …">)
    // @ts-expect-error: add: dtypes differ: f32 and f64
    const e = thrown(() => add(a, b))
    expect(e).toBeInstanceOf(DTypeError)
    expect(e.message).toContain('f32')
    expect(e.message).toContain('f64')
    const mixed: (() => unknown)[] = [
      // @ts-expect-error: sub: dtypes differ: f64 and f32
      () => sub(b, a),
      // @ts-expect-error: mul: dtypes differ: f32 and f64
      () => mul(a, b),
      // @ts-expect-error: div: dtypes differ: f32 and f64
      () => div(a, b),
      // @ts-expect-error: maximum: dtypes differ: f32 and f64
      () => maximum(a, b),
      // @ts-expect-error: minimum: dtypes differ: f64 and f32
      () => minimum(b, a),
      // @ts-expect-error: matmul: dtypes differ: f32 and f64
      () => matmul(a, b),
      // @ts-expect-error: batchMatmul: dtypes differ: f32 and f64
      () => batchMatmul(reshape(a, [1, 2, 2]), reshape(b, [1, 2, 2])),
      // @ts-expect-error: concat: dtypes differ: f32 and f64
      () => concat([a, b]),
      // @ts-expect-error: matmul: dtypes differ (the data of a Float32Array is f32)
      () => matmul(fromBuffer(new Float32Array(4), [2, 2]), b),
      // @ts-expect-error: where: dtypes differ: f32 and f64
      () => where(greater(a, 2), a, b),
      // @ts-expect-error: greater: dtypes differ: f32 and f64
      () => greater(a, b),
      // @ts-expect-error: less: dtypes differ: f32 and f64
      () => less(a, b),
      // @ts-expect-error: equal: dtypes differ: f32 and f64
      () => equal(a, b)
    ]
    for (const f of mixed) expect(f).toThrow(DTypeError)
  })

  it('a number operand adopts the tensor dtype (no error)', () => {
    const a = tensor([1, 2], { dtype: 'f32' })
    expect(add(a, 0.1).dtype).toBe('f32')
    expect(add(a, 0.1).data[0]).toBe(Math.fround(1 + Math.fround(0.1)))
    expect(mul(2, a).dtype).toBe('f32')
  })
})
