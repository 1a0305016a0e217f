/**
 * Forward results of every operation in src/ops.ts against reference computations written
 * here: plain loops over nested arrays, indexed by multi-indices, with no lamina code on the
 * reference side. Properties run over random shapes (each dimension 1..6) and values.
 */
import { describe, expect, it } from 'vitest'
import { fc, test } from '@fast-check/vitest'
import {
  Backends,
  cpu,
  DTypeError,
  ShapeError,
  abs,
  add,
  astype,
  batchMatmul,
  broadcastTo,
  concat,
  cos,
  div,
  equal,
  erf,
  exp,
  fromBuffer,
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
  where
} from 'lamina-nn'
import { ArgumentError, min, pad, stopGradient } from 'lamina-nn'
import type { Backend, DType, Nested, Tensor } from 'lamina-nn'

// ================================================================ reference side (no lamina)

type Idx = readonly number[]

const sizeOf = (shape: Idx): number => shape.reduce((a, d) => a * d, 1)

/** Row-major nesting of flat values. */
const nest = (flat: readonly number[], shape: Idx): Nested => {
  if (shape.length === 0) return flat[0]!
  const [n, ...rest] = shape
  const step = sizeOf(rest)
  const out: Nested[] = []
  for (let i = 0; i < n!; i++) out.push(nest(flat.slice(i * step, (i + 1) * step), rest))
  return out
}

/** Row-major flattening of a nested array. */
const flatten = (x: Nested): number[] => (typeof x === 'number' ? [x] : x.flatMap((e) => flatten(e)))

/** The element at a multi-index. */
const at = (x: Nested, idx: Idx): number => {
  let cur: Nested = x
  for (const i of idx) cur = (cur as readonly Nested[])[i]!
  return cur as number
}

/** The nested array of `shape` whose element at each multi-index is `f(index)`. */
const build = (shape: Idx, f: (idx: number[]) => number): Nested => {
  const go = (prefix: number[]): Nested =>
    prefix.length === shape.length ? f(prefix) : Array.from({ length: shape[prefix.length]! }, (_, i) => go([...prefix, i]))
  return go([])
}

/** Every multi-index of a shape, row-major. */
const indices = (shape: Idx): number[][] => {
  let out: number[][] = [[]]
  for (const d of shape) out = out.flatMap((p) => Array.from({ length: d }, (_, i) => [...p, i]))
  return out
}

const zipWith = <A, B, C>(as: readonly A[], bs: readonly B[], f: (a: A, b: B) => C): C[] => as.map((a, i) => f(a, bs[i]!))

/** NumPy broadcasting of two shapes, or undefined when they do not broadcast. */
const refBroadcastShape = (a: Idx, b: Idx): number[] | undefined => {
  const rank = Math.max(a.length, b.length)
  const out: number[] = []
  for (let i = 0; i < rank; i++) {
    const da = a[i - (rank - a.length)] ?? 1
    const db = b[i - (rank - b.length)] ?? 1
    if (da !== db && da !== 1 && db !== 1) return undefined
    out.push(Math.max(da, db))
  }
  return out
}

/** The index into an operand of shape `s` that an output multi-index reads (right-aligned, 1s stretch). */
const project = (idx: Idx, s: Idx): number[] => idx.slice(idx.length - s.length).map((i, k) => (s[k] === 1 ? 0 : i))

/** Elementwise op with broadcasting. */
const refZip = (a: Nested, sa: Idx, b: Nested, sb: Idx, f: (x: number, y: number) => number): Nested => {
  const shape = refBroadcastShape(sa, sb)!
  return build(shape, (idx) => f(at(a, project(idx, sa)), at(b, project(idx, sb))))
}

const refMap = (x: Nested, shape: Idx, f: (v: number) => number): Nested => build(shape, (idx) => f(at(x, idx)))

/** Reduction: the values of each output cell, grouped in one pass, combined by `combine`. */
const refReduce = (
  x: Nested,
  shape: Idx,
  axes: readonly number[],
  keep: boolean,
  combine: (values: number[]) => number
): { value: Nested; shape: number[] } => {
  const groups = new Map<string, number[]>()
  const keyOf = (idx: Idx): string => idx.filter((_, i) => !axes.includes(i)).join(',')
  for (const idx of indices(shape)) {
    const k = keyOf(idx)
    const g = groups.get(k)
    if (g) g.push(at(x, idx))
    else groups.set(k, [at(x, idx)])
  }
  const outShape = keep ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i))
  const value = build(outShape, (oidx) => {
    const kept = keep ? oidx.filter((_, i) => !axes.includes(i)) : oidx
    return combine(groups.get(kept.join(','))!)
  })
  return { value, shape: outShape }
}

const refSum = (vs: readonly number[]): number => {
  let s = 0
  for (const v of vs) s += v
  return s
}
const refAbsSum = (vs: readonly number[]): number => refSum(vs.map(Math.abs))
const refMax = (vs: readonly number[]): number => {
  let m = -Infinity
  for (const v of vs) if (v > m) m = v
  return m
}
const refMin = (vs: readonly number[]): number => vs.reduce((m, v) => (v < m ? v : m), Infinity)
const refLogSumExp = (vs: readonly number[]): number => Math.log(refSum(vs.map(Math.exp)))

type Mat = number[][]
const refT = (m: Mat): Mat => m[0]!.map((_, j) => m.map((row) => row[j]!))
const refMatmul = (a: Mat, b: Mat): Mat =>
  a.map((row) =>
    b[0]!.map((_, j) => {
      let s = 0
      for (let p = 0; p < row.length; p++) s += row[p]! * b[p]![j]!
      return s
    })
  )
const absMat = (m: Mat): Mat => m.map((r) => r.map(Math.abs))

const refTranspose = (x: Nested, shape: Idx, perm: readonly number[]): { value: Nested; shape: number[] } => {
  const outShape = perm.map((p) => shape[p]!)
  const value = build(outShape, (oidx) => {
    const src = new Array<number>(shape.length)
    perm.forEach((p, j) => (src[p] = oidx[j]!))
    return at(x, src)
  })
  return { value, shape: outShape }
}

/** erf by its alternating Maclaurin series, 2/√π Σ (−1)ⁿ x^(2n+1) / (n!(2n+1)); fine for |x| ≤ 3. */
const refErf = (x: number): number => {
  let term = x // (−1)ⁿ x^(2n+1) / n!
  let s = x
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n
    s += term / (2 * n + 1)
  }
  return (2 / Math.sqrt(Math.PI)) * s
}

// ---------------------------------------------------------------- comparing

const EPS64 = Number.EPSILON
const EPS32 = 2 ** -23

/**
 * The first element where `actual` is farther than `tol(i, expected)` from `expected`, as a
 * message, or null when all agree (equal values, including infinities and NaN, always agree).
 */
const mismatch = (actual: readonly number[], expected: readonly number[], tol: (i: number, e: number) => number): string | null => {
  if (actual.length !== expected.length) return `length ${actual.length} vs ${expected.length}`
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!
    const e = expected[i]!
    if (a === e || (Number.isNaN(a) && Number.isNaN(e))) continue
    if (!(Math.abs(a - e) <= tol(i, e))) return `element ${i}: got ${a}, expected ${e} (tolerance ${tol(i, e)})`
  }
  return null
}

const exact = (): number => 0
const relTol = (r: number) => (_: number, e: number): number => r * Math.max(1, Math.abs(e))

/** Checks shape and values of a lamina result against a nested reference. */
const expectClose = (t: Tensor, shape: Idx, expected: Nested, tol: (i: number, e: number) => number = exact): void => {
  expect(t.shape).toEqual(shape)
  expect(mismatch([...t.data], flatten(expected), tol)).toBeNull()
}

// ================================================================ arbitraries

const dimArb = fc.integer({ min: 1, max: 6 })
const shapeArb = (minRank = 0, maxRank = 4): fc.Arbitrary<number[]> => fc.array(dimArb, { minLength: minRank, maxLength: maxRank })
const valueArb = fc.double({ min: -10, max: 10, noNaN: true })
const valuesArb = (shape: Idx, v: fc.Arbitrary<number> = valueArb): fc.Arbitrary<number[]> =>
  fc.array(v, { minLength: sizeOf(shape), maxLength: sizeOf(shape) })

/** A shape with random values: the lamina tensor and the reference nested array. */
interface Sample {
  readonly shape: number[]
  readonly values: number[]
  readonly nested: Nested
}
const sampleOf = (shape: number[], values: number[]): Sample => ({ shape, values, nested: nest(values, shape) })
const sampleArb = (shapes: fc.Arbitrary<number[]>, v: fc.Arbitrary<number> = valueArb): fc.Arbitrary<Sample> =>
  shapes.chain((shape) => valuesArb(shape, v).map((values) => sampleOf(shape, values)))
const toTensor = (s: Sample, dtype: DType = 'f64'): Tensor => fromBuffer(s.values, s.shape, { dtype })

/** An operand shape that broadcasts to `out`: a suffix of it with some dimensions set to 1. */
const operandShapeArb = (out: number[]): fc.Arbitrary<number[]> =>
  fc
    .tuple(fc.integer({ min: 0, max: out.length }), fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }))
    .map(([drop, ones]) => out.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)))

/** Two (or three) random mutually broadcastable shapes, with values. */
const broadcastPairArb = (v: fc.Arbitrary<number> = valueArb): fc.Arbitrary<[Sample, Sample]> =>
  shapeArb().chain((out) =>
    fc.tuple(sampleArb(operandShapeArb(out), v), sampleArb(operandShapeArb(out), v))
  )
const broadcastTripleArb = (v: fc.Arbitrary<number> = valueArb): fc.Arbitrary<[Sample, Sample, Sample]> =>
  shapeArb().chain((out) =>
    fc.tuple(sampleArb(operandShapeArb(out), v), sampleArb(operandShapeArb(out), v), sampleArb(operandShapeArb(out), v))
  )

/** A rank ≥ 1 sample with a set of axes to reduce (each written positive or negative, or all as undefined). */
const reductionArb = fc
  .tuple(sampleArb(shapeArb(1, 4)), fc.boolean())
  .chain(([s, keep]) =>
    fc
      .option(
        fc
          .subarray(s.shape.map((_, i) => i))
          .chain((axes) => fc.tuple(...axes.map((a) => fc.constantFrom(a, a - s.shape.length))).map((xs): number[] => xs)),
        { nil: undefined }
      )
      .map((axes) => ({ s, keep, axes }))
  )
const normalized = (axes: readonly number[] | undefined, rank: number): number[] =>
  axes === undefined ? Array.from({ length: rank }, (_, i) => i) : axes.map((a) => (a < 0 ? a + rank : a))

/** A permutation of 0..n−1. */
const permutationArb = (n: number): fc.Arbitrary<number[]> =>
  fc.shuffledSubarray(Array.from({ length: n }, (_, i) => i), { minLength: n, maxLength: n })

/** Two shapes with the same number of elements: one list of factors grouped in two random ways. */
const reshapePairArb: fc.Arbitrary<[number[], number[]]> = fc.array(dimArb, { minLength: 0, maxLength: 4 }).chain((factors) => {
  const group = (fs: readonly number[]): fc.Arbitrary<number[]> =>
    fc.array(fc.boolean(), { minLength: fs.length, maxLength: fs.length }).map((cuts) => {
      const out: number[] = []
      fs.forEach((f, i) => {
        if (i === 0 || cuts[i]) out.push(f)
        else out[out.length - 1]! *= f
      })
      return out
    })
  return fc.tuple(group(factors), fc.shuffledSubarray(factors, { minLength: factors.length, maxLength: factors.length }).chain(group))
})

// ================================================================ elementwise binary ops

describe('broadcasting binary ops', () => {
  const cases: [string, (a: Tensor, b: Tensor) => Tensor, (x: number, y: number) => number][] = [
    ['add', (a, b) => add(a, b), (x, y) => x + y],
    ['sub', (a, b) => sub(a, b), (x, y) => x - y],
    ['mul', (a, b) => mul(a, b), (x, y) => x * y],
    ['div', (a, b) => div(a, b), (x, y) => x / y],
    ['maximum', (a, b) => maximum(a, b), (x, y) => (x >= y ? x : y)],
    ['minimum', (a, b) => minimum(a, b), (x, y) => (x <= y ? x : y)]
  ]
  for (const [name, op, f] of cases) {
    test.prop([broadcastPairArb()])(`${name} broadcasts like NumPy`, ([a, b]) => {
      const expected = refZip(a.nested, a.shape, b.nested, b.shape, f)
      expectClose(op(toTensor(a), toTensor(b)), refBroadcastShape(a.shape, b.shape)!, expected)
    })
  }

  test.prop([sampleArb(shapeArb()), valueArb])('a number operand acts as a scalar on either side', (a, c) => {
    const x = toTensor(a)
    expectClose(add(x, c), a.shape, refMap(a.nested, a.shape, (v) => v + c))
    expectClose(sub(c, x), a.shape, refMap(a.nested, a.shape, (v) => c - v))
    expectClose(mul(c, x), a.shape, refMap(a.nested, a.shape, (v) => c * v))
    expectClose(div(x, c), a.shape, refMap(a.nested, a.shape, (v) => v / c))
  })

  it('the bias example: [B,N] + [N]', () => {
    expect(add(tensor([[1, 2, 3], [4, 5, 6]]), tensor([10, 20, 30])).toArray()).toEqual([[11, 22, 33], [14, 25, 36]])
    expect(mul(tensor([[1], [2]]), tensor([[1, 10, 100]])).toArray()).toEqual([[1, 10, 100], [2, 20, 200]])
  })

  test.prop([sampleArb(shapeArb(1, 3)), sampleArb(shapeArb(1, 3))])('non-broadcastable shapes throw ShapeError', (a, b) => {
    fc.pre(refBroadcastShape(a.shape, b.shape) === undefined)
    expect(() => add(toTensor(a), toTensor(b))).toThrow(ShapeError)
  })
})

// ================================================================ elementwise unary ops

describe('elementwise unary ops', () => {
  const unaries: [string, (t: Tensor) => Tensor, (v: number) => number, fc.Arbitrary<number>, number][] = [
    ['neg', (t) => neg(t), (v) => -v, valueArb, 0],
    ['square', (t) => square(t), (v) => v * v, valueArb, 0],
    ['abs', (t) => abs(t), (v) => (v < 0 ? -v : v), valueArb, 0],
    ['relu', (t) => relu(t), (v) => (v > 0 ? v : 0), valueArb, 0],
    ['exp', (t) => exp(t), (v) => Math.E ** v, valueArb, 1e-14],
    ['log', (t) => log(t), (v) => Math.log(v), fc.double({ min: 1e-6, max: 1e6, noNaN: true }), 1e-15],
    ['sqrt', (t) => sqrt(t), (v) => v ** 0.5, fc.double({ min: 0, max: 1e6, noNaN: true }), 1e-15],
    ['sin', (t) => sin(t), (v) => Math.sin(v), valueArb, 0],
    ['cos', (t) => cos(t), (v) => Math.cos(v), valueArb, 0],
    ['tanh', (t) => tanh(t), (v) => (Math.exp(2 * v) - 1) / (Math.exp(2 * v) + 1), valueArb, 1e-14],
    ['sigmoid', (t) => sigmoid(t), (v) => 1 / (1 + Math.exp(-v)), fc.double({ min: -30, max: 30, noNaN: true }), 1e-15],
    ['softplus', (t) => softplus(t), (v) => Math.log1p(Math.exp(v)), fc.double({ min: -30, max: 30, noNaN: true }), 1e-14],
    ['erf', (t) => erf(t), refErf, fc.double({ min: -3, max: 3, noNaN: true }), 1e-12]
  ]
  for (const [name, op, f, v, tol] of unaries) {
    test.prop([sampleArb(shapeArb(), v)])(`${name} matches the reference`, (a) => {
      expectClose(op(toTensor(a)), a.shape, refMap(a.nested, a.shape, f), relTol(tol))
    })
  }

  test.prop([sampleArb(shapeArb(), fc.double({ min: 0.01, max: 10, noNaN: true })), fc.double({ min: -3, max: 3, noNaN: true })])(
    'pow with a real exponent on positive bases',
    (a, c) => {
      expectClose(pow(toTensor(a), c), a.shape, refMap(a.nested, a.shape, (v) => Math.exp(c * Math.log(v))), relTol(1e-13))
    }
  )

  test.prop([sampleArb(shapeArb()), fc.integer({ min: 0, max: 4 })])('pow with an integer exponent on any base', (a, c) => {
    const repeated = (v: number): number => {
      let p = 1
      for (let i = 0; i < c; i++) p *= v
      return p
    }
    expectClose(pow(toTensor(a), c), a.shape, refMap(a.nested, a.shape, repeated), relTol(1e-15))
  })

  it('erf at tabulated points and its symmetry', () => {
    const table: [number, number][] = [
      [0, 0],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [3, 0.9999779095030014],
      [4, 0.9999999845827421],
      [6, 1]
    ]
    const xs = table.flatMap(([x]) => [x, -x])
    const ys = table.flatMap(([, y]) => [y, -y])
    expect(mismatch([...erf(tensor(xs)).data], ys, relTol(2e-16))).toBeNull()
  })

  it('relu and abs at zero', () => {
    expect(relu(tensor([0, -0])).toArray()).toEqual([0, 0])
    expect(abs(tensor([-0])).data[0]).toBe(0)
  })

  it('a plain number operand gives an f64 scalar', () => {
    expect(exp(0).shape).toEqual([])
    expect(exp(0).dtype).toBe('f64')
    expect(sin(Math.PI / 2).item()).toBe(1)
  })
})

// ================================================================ reductions

describe('reductions over random axes', () => {
  type Reduction = (x: Tensor, axes: number[] | undefined, keep: boolean) => Tensor
  const all: [string, Reduction, (vs: number[]) => number, (vs: number[]) => number][] = [
    ['sum', (x, axes, keep) => sum(x, axes, keep), refSum, (vs) => 4 * vs.length * EPS64 * refAbsSum(vs)],
    ['mean', (x, axes, keep) => mean(x, axes, keep), (vs) => refSum(vs) / vs.length, (vs) => (4 * vs.length * EPS64 * refAbsSum(vs)) / vs.length + EPS64],
    ['max', (x, axes, keep) => max(x, axes, keep), refMax, () => 0],
    ['min', (x, axes, keep) => min(x, axes, keep), refMin, () => 0],
    ['logsumexp', (x, axes, keep) => logsumexp(x, axes, keep), refLogSumExp, (vs) => 64 * EPS64 * (1 + refMax(vs.map(Math.abs)))]
  ]
  for (const [name, op, combine, tolOf] of all) {
    test.prop([reductionArb])(`${name} matches the reference`, ({ s, keep, axes }) => {
      const norm = normalized(axes, s.shape.length)
      const ref = refReduce(s.nested, s.shape, norm, keep, combine)
      const tols = flatten(refReduce(s.nested, s.shape, norm, keep, tolOf).value)
      const y = op(toTensor(s), axes, keep)
      expect(y.shape).toEqual(ref.shape)
      expect(mismatch([...y.data], flatten(ref.value), (i) => tols[i]!)).toBeNull()
    })
  }

  it('small worked examples', () => {
    const x = tensor([[1, 5, 3], [7, 2, 0]])
    expect(sum(x).item()).toBe(18)
    expect(sum(x, 0).toArray()).toEqual([8, 7, 3])
    expect(mean(x, 1, true).toArray()).toEqual([[3], [3]])
    expect(max(x, -1).toArray()).toEqual([5, 7])
    expect(max(x, [0, 1], true).toArray()).toEqual([[7]])
    expect(min(x, -1).toArray()).toEqual([1, 0])
    expect(min(x, 0).toArray()).toEqual([1, 2, 0])
    expect(min(x, [0, 1], true).toArray()).toEqual([[0]])
    expect(min(x).item()).toBe(0)
  })

  it('duplicate axes (one positive, one negative) count once', () => {
    const x = tensor([[1, 2], [3, 4]])
    expect(sum(x, [1, -1]).toArray()).toEqual([3, 7])
  })

  it('max and min over an empty axis throw ShapeError; sum over it is 0', () => {
    const e = fromBuffer([], [2, 0])
    expect(() => max(e, 1)).toThrow(ShapeError)
    expect(() => min(e, 1)).toThrow(/min: cannot reduce an empty axis of shape \[2, ?0\]/)
    expect(sum(e, 1).toArray()).toEqual([0, 0])
  })
})

// ================================================================ products

describe('matmul', () => {
  const matmulArb = fc
    .tuple(dimArb, dimArb, dimArb, fc.boolean(), fc.boolean())
    .chain(([m, k, n, ta, tb]) =>
      fc.tuple(
        sampleArb(fc.constant(ta ? [k, m] : [m, k])),
        sampleArb(fc.constant(tb ? [n, k] : [k, n])),
        fc.constant(ta),
        fc.constant(tb)
      )
    )

  test.prop([matmulArb])('op(a)·op(b) for all four transpose flags', ([a, b, transposeA, transposeB]) => {
    const am = a.nested as Mat
    const bm = b.nested as Mat
    const opA = transposeA ? refT(am) : am
    const opB = transposeB ? refT(bm) : bm
    const expected = refMatmul(opA, opB)
    const scale = flatten(refMatmul(absMat(opA), absMat(opB)))
    const y = matmul(toTensor(a), toTensor(b), { transposeA, transposeB })
    expect(y.shape).toEqual([opA.length, opB[0]!.length])
    expect(mismatch([...y.data], flatten(expected), (i) => 16 * EPS64 * scale[i]!)).toBeNull()
  })

  it('a worked example', () => {
    const a = tensor([[1, 2, 3], [4, 5, 6]])
    const b = tensor([[7, 8], [9, 10], [11, 12]])
    expect(matmul(a, b).toArray()).toEqual([[58, 64], [139, 154]])
    expect(matmul(b, a, { transposeA: true, transposeB: true }).toArray()).toEqual([[58, 139], [64, 154]])
  })
})

describe('batchMatmul', () => {
  const batchArb = fc
    .tuple(fc.integer({ min: 1, max: 4 }), dimArb, dimArb, dimArb, fc.boolean(), fc.boolean())
    .chain(([bs, m, k, n, ta, tb]) =>
      fc.tuple(
        sampleArb(fc.constant(ta ? [bs, k, m] : [bs, m, k])),
        sampleArb(fc.constant(tb ? [bs, n, k] : [bs, k, n])),
        fc.constant(ta),
        fc.constant(tb)
      )
    )

  test.prop([batchArb])('each batch is op(a[i])·op(b[i])', ([a, b, transposeA, transposeB]) => {
    const as = a.nested as Mat[]
    const bs = b.nested as Mat[]
    const expected = zipWith(as, bs, (am, bm) => refMatmul(transposeA ? refT(am) : am, transposeB ? refT(bm) : bm))
    const scale = zipWith(as, bs, (am, bm) => refMatmul(absMat(transposeA ? refT(am) : am), absMat(transposeB ? refT(bm) : bm)))
    const y = batchMatmul(toTensor(a), toTensor(b), { transposeA, transposeB })
    const s = flatten(scale)
    expect(y.shape).toEqual([as.length, expected[0]!.length, expected[0]![0]!.length])
    expect(mismatch([...y.data], flatten(expected), (i) => 16 * EPS64 * s[i]!)).toBeNull()
  })
})

// ================================================================ structure

describe('reshape / transpose / broadcastTo', () => {
  test.prop([reshapePairArb.chain(([from, to]) => fc.tuple(sampleArb(fc.constant(from)), fc.constant(to)))])(
    'reshape keeps the row-major order',
    ([s, to]) => {
      const y = reshape(toTensor(s), to)
      expectClose(y, to, nest(flatten(s.nested), to))
      expect(y.toArray()).toEqual(nest(s.values, to))
    }
  )

  test.prop([reshapePairArb.chain(([from, to]) => fc.tuple(sampleArb(fc.constant(from)), fc.constant(to)))])(
    'reshape there and back is the identity',
    ([s, to]) => {
      const y = reshape(reshape(toTensor(s), to), s.shape)
      expectClose(y, s.shape, s.nested)
    }
  )

  test.prop([sampleArb(shapeArb()).chain((s) => fc.tuple(fc.constant(s), permutationArb(s.shape.length)))])(
    'transpose with a random permutation',
    ([s, perm]) => {
      const ref = refTranspose(s.nested, s.shape, perm)
      expectClose(transpose(toTensor(s), perm), ref.shape, ref.value)
    }
  )

  test.prop([sampleArb(shapeArb())])('transpose without a permutation reverses the axes', (s) => {
    const perm = s.shape.map((_, i) => s.shape.length - 1 - i)
    const ref = refTranspose(s.nested, s.shape, perm)
    expectClose(transpose(toTensor(s)), ref.shape, ref.value)
  })

  test.prop([shapeArb().chain((out) => fc.tuple(sampleArb(operandShapeArb(out)), fc.constant(out)))])(
    'broadcastTo copies along stretched axes',
    ([s, out]) => {
      expectClose(broadcastTo(toTensor(s), out), out, build(out, (idx) => at(s.nested, project(idx, s.shape))))
    }
  )

  it('non-permutations throw ShapeError', () => {
    // @ts-expect-error: [1,1] repeats an axis
    expect(() => transpose(fromBuffer([1, 2, 3, 4], [2, 2]), [1, 1])).toThrow(ShapeError)
    expect(() => transpose(fromBuffer([1, 2, 3, 4], [2, 2]), [0, 1, 2] as number[])).toThrow(ShapeError)
  })
})

describe('concat and slice', () => {
  /** A rank 1..3 shape, an axis, and 1..3 parts that differ only along that axis. */
  const partsArb = fc.tuple(shapeArb(1, 3), fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 })).chain(([base, lens]) =>
    fc.integer({ min: 0, max: base.length - 1 }).chain((axis) =>
      fc.tuple(
        fc.tuple(...lens.map((len) => sampleArb(fc.constant(base.map((d, i) => (i === axis ? len : d)))))),
        fc.constant(axis),
        fc.boolean()
      )
    )
  )

  const refConcat = (parts: readonly Sample[], axis: number): { value: Nested; shape: number[] } => {
    const shape = parts[0]!.shape.map((d, i) => (i === axis ? refSum(parts.map((p) => p.shape[axis]!)) : d))
    const value = build(shape, (idx) => {
      let k = idx[axis]!
      for (const p of parts) {
        if (k < p.shape[axis]!) return at(p.nested, idx.map((v, i) => (i === axis ? k : v)))
        k -= p.shape[axis]!
      }
      throw new Error('index past the end')
    })
    return { value, shape }
  }

  test.prop([partsArb])('concat matches the reference (positive or negative axis)', ([parts, axis, negative]) => {
    const ref = refConcat(parts, axis)
    const ax = negative ? axis - parts[0]!.shape.length : axis
    expectClose(concat(parts.map((p) => toTensor(p)), ax), ref.shape, ref.value)
  })

  test.prop([partsArb])('slicing the concatenation recovers each part exactly', ([parts, axis]) => {
    const joined = concat(parts.map((p) => toTensor(p)), axis)
    let offset = 0
    for (const p of parts) {
      const starts = p.shape.map((_, i) => (i === axis ? offset : 0))
      const piece = slice(joined, starts, p.shape)
      expectClose(piece, p.shape, p.nested)
      offset += p.shape[axis]!
    }
    expect(offset).toBe(joined.shape[axis])
  })

  test.prop([
    sampleArb(shapeArb(1, 4)).chain((s) =>
      fc.tuple(
        fc.constant(s),
        fc.tuple(...s.shape.map((d) => fc.integer({ min: 0, max: d - 1 }).chain((st) => fc.tuple(fc.constant(st), fc.integer({ min: 0, max: d - st })))))
      )
    )
  ])('slice reads the block at starts with extent sizes', ([s, block]) => {
    const starts = block.map(([st]) => st)
    const sizes = block.map(([, sz]) => sz)
    const expected = build(sizes, (idx) => at(s.nested, idx.map((i, d) => i + starts[d]!)))
    expectClose(slice(toTensor(s), starts, sizes), sizes, expected)
  })

  it('bad blocks and mismatched parts throw ShapeError', () => {
    const x = fromBuffer([1, 2, 3, 4, 5, 6], [2, 3])
    expect(() => slice(x, [1, 2], [1, 2])).toThrow(ShapeError)
    expect(() => slice(x, [0], [1])).toThrow(ShapeError)
    expect(() => slice(x, [-1, 0], [1, 1])).toThrow(ShapeError)
    expect(() => concat([x, fromBuffer([1, 2], [1, 2])], 0)).toThrow(ShapeError)
    expect(() => concat([x, x], 2)).toThrow(ShapeError)
    expect(() => concat([])).toThrow(ShapeError)
  })
})

describe('pad', () => {
  /** A rank 1..3 sample, where it starts inside the padded shape, and that shape. */
  const padArb = sampleArb(shapeArb(1, 3)).chain((s) =>
    fc.tuple(
      fc.constant(s),
      fc.tuple(...s.shape.map(() => fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })))),
      fc.option(valueArb, { nil: undefined })
    )
  )

  test.prop([padArb])('pad places x at starts and fills the rest with the value (0 by default)', ([s, widths, value]) => {
    const starts = widths.map(([before]) => before)
    const shape = s.shape.map((d, i) => widths[i]![0] + d + widths[i]![1])
    const expected = build(shape, (idx) =>
      idx.every((v, i) => v >= starts[i]! && v < starts[i]! + s.shape[i]!) ? at(s.nested, idx.map((v, i) => v - starts[i]!)) : (value ?? 0)
    )
    expectClose(pad(toTensor(s), starts, shape, value === undefined ? undefined : { value }), shape, expected)
  })

  test.prop([padArb])('slice undoes pad', ([s, widths, value]) => {
    const starts = widths.map(([before]) => before)
    const shape = s.shape.map((d, i) => widths[i]![0] + d + widths[i]![1])
    expectClose(slice(pad(toTensor(s), starts, shape, { value: value ?? 0 }), starts, s.shape), s.shape, s.nested)
  })

  it('keeps the dtype, and pads with -Infinity (for a max pool)', () => {
    const y = pad(tensor([1.5, 2], { dtype: 'f32' }), [1], [3], { value: -Infinity })
    expect(y.dtype).toBe('f32')
    expect(y.toArray()).toEqual([-Infinity, 1.5, 2])
  })

  it('refuses blocks that do not fit and values that are not numbers, naming them', () => {
    const x = fromBuffer([1, 2, 3, 4], [2, 2])
    expect(() => pad(x, [1, 0], [2, 2])).toThrow(ShapeError)
    expect(() => pad(x, [1, 0], [2, 2])).toThrow(/pad: shape \[2, ?2\] placed at \[1, ?0\] does not fit in shape \[2, ?2\]/)
    expect(() => pad(x, [0], [3])).toThrow(ShapeError)
    expect(() => pad(x, [-1, 0], [3, 2])).toThrow(ShapeError)
    expect(() => pad(x, [0.5, 0], [3, 2])).toThrow(ShapeError)
    expect(() => pad(x, [0, 0], [2, 2], { value: Number.NaN })).toThrow(ArgumentError)
    expect(() => pad(x, [0, 0], [2, 2], { value: '1' as unknown as number })).toThrow(/pad: value must be a number, got 1/)
  })
})

describe('stopGradient', () => {
  test.prop([sampleArb(shapeArb(0, 3))])('is the identity on values', (s) => {
    const y = stopGradient(toTensor(s))
    expectClose(y, s.shape, s.nested)
  })

  it('takes a number as a scalar', () => {
    expect(stopGradient(2.5).item()).toBe(2.5)
  })
})

// ================================================================ masks

describe('comparisons, where, maximum / minimum with ties', () => {
  // small integers so that ties happen often
  const tieArb = fc.integer({ min: -3, max: 3 })

  const comparisons: [string, (a: Tensor, b: Tensor) => Tensor, (x: number, y: number) => boolean][] = [
    ['greater', (a, b) => greater(a, b), (x, y) => x > y],
    ['less', (a, b) => less(a, b), (x, y) => x < y],
    ['equal', (a, b) => equal(a, b), (x, y) => x === y]
  ]
  for (const [name, op, f] of comparisons) {
    test.prop([broadcastPairArb(tieArb), fc.constantFrom<DType>('f32', 'f64')])(`${name} gives a 0/1 mask`, ([a, b], dtype) => {
      const y = op(toTensor(a, dtype), toTensor(b, dtype))
      expect(y.dtype).toBe(dtype)
      expectClose(y, refBroadcastShape(a.shape, b.shape)!, refZip(a.nested, a.shape, b.nested, b.shape, (x, z) => (f(x, z) ? 1 : 0)))
    })
  }

  test.prop([broadcastPairArb(tieArb)])('maximum and minimum with many ties', ([a, b]) => {
    const x = toTensor(a)
    const y = toTensor(b)
    const shape = refBroadcastShape(a.shape, b.shape)!
    expectClose(maximum(x, y), shape, refZip(a.nested, a.shape, b.nested, b.shape, (p, q) => (p > q ? p : q)))
    expectClose(minimum(x, y), shape, refZip(a.nested, a.shape, b.nested, b.shape, (p, q) => (p < q ? p : q)))
  })

  test.prop([broadcastTripleArb(fc.constantFrom(0, 1, -0.5, 2))])('where(cond, a, b) picks a where cond ≠ 0', ([c, a, b]) => {
    const shape = refBroadcastShape(refBroadcastShape(c.shape, a.shape)!, b.shape)!
    const expected = build(shape, (idx) => (at(c.nested, project(idx, c.shape)) !== 0 ? at(a.nested, project(idx, a.shape)) : at(b.nested, project(idx, b.shape))))
    expectClose(where(toTensor(c), toTensor(a), toTensor(b)), shape, expected)
  })

  it('where with plain numbers and a mask from a comparison', () => {
    const x = tensor([[-1, 2], [3, -4]])
    expect(where(greater(x, 0), x, 0).toArray()).toEqual([[0, 2], [3, 0]])
    expect(where(less(x, 0), 1, -1).toArray()).toEqual([[1, -1], [-1, 1]])
  })
})

// ================================================================ softmax family

describe('softmax / logSoftmax', () => {
  const axisArb = sampleArb(shapeArb(1, 4)).chain((s) => fc.tuple(fc.constant(s), fc.integer({ min: -s.shape.length, max: s.shape.length - 1 })))

  /** Along `axis`: each element against all elements of its fibre. */
  const refAlong = (s: Sample, axis: number, f: (v: number, fibre: number[]) => number): Nested => {
    const ax = axis < 0 ? axis + s.shape.length : axis
    return build(s.shape, (idx) => {
      const fibre = Array.from({ length: s.shape[ax]! }, (_, j) => at(s.nested, idx.map((v, i) => (i === ax ? j : v))))
      return f(at(s.nested, idx), fibre)
    })
  }

  test.prop([axisArb])('logSoftmax is x − log Σ exp x along the axis', ([s, axis]) => {
    const expected = refAlong(s, axis, (v, fibre) => v - refLogSumExp(fibre))
    expectClose(logSoftmax(toTensor(s), axis), s.shape, expected, relTol(1e-13))
  })

  test.prop([axisArb])('softmax is exp x / Σ exp x along the axis', ([s, axis]) => {
    const expected = refAlong(s, axis, (v, fibre) => Math.exp(v) / refSum(fibre.map(Math.exp)))
    expectClose(softmax(toTensor(s), axis), s.shape, expected, relTol(1e-13))
  })

  test.prop([sampleArb(shapeArb(1, 3))])('softmax defaults to the last axis', (s) => {
    const expected = refAlong(s, -1, (v, fibre) => Math.exp(v) / refSum(fibre.map(Math.exp)))
    expectClose(softmax(toTensor(s)), s.shape, expected, relTol(1e-13))
  })
})

// ================================================================ numerical stability

describe('numerical stability', () => {
  it('logsumexp([1000, 1000]) = 1000 + ln 2', () => {
    expect(mismatch([logsumexp(tensor([1000, 1000])).item()], [1000 + Math.LN2], relTol(EPS64))).toBeNull()
    expect(mismatch([logsumexp(tensor([-1000, -1000])).item()], [-1000 + Math.LN2], relTol(EPS64))).toBeNull()
    expect(mismatch([...logsumexp(tensor([[1000, 0], [-1000, -1000]]), 1).data], [1000, -1000 + Math.LN2], relTol(EPS64))).toBeNull()
  })

  it('logsumexp of −∞ entries', () => {
    expect(logsumexp(tensor([-Infinity, -Infinity])).item()).toBe(-Infinity)
    expect(logsumexp(tensor([-Infinity, 0])).item()).toBe(0)
  })

  it('sigmoid(±1000) is finite: 1 and 0', () => {
    const y = [...sigmoid(tensor([1000, -1000, 800, -800])).data]
    expect(y.every(Number.isFinite)).toBe(true)
    expect(y).toEqual([1, 0, 1, 0])
    // far in the left tail σ(x) ≈ eˣ keeps full relative accuracy
    expect(mismatch([sigmoid(tensor(-700)).item()], [Math.exp(-700)], relTol(1e-13))).toBeNull()
  })

  it('softplus(±1000) is 1000 and 0; small values keep relative accuracy', () => {
    expect([...softplus(tensor([1000, -1000])).data]).toEqual([1000, 0])
    // log(1 + e⁻⁵⁰) ≈ e⁻⁵⁰: a naive log(1 + eˣ) would round it to 0
    expect(mismatch([softplus(tensor(-50)).item()], [Math.exp(-50)], relTol(1e-13))).toBeNull()
    expect(mismatch([softplus(tensor(50)).item()], [50], relTol(EPS64))).toBeNull()
  })

  it('logSoftmax and softmax of huge logits are finite and normalised', () => {
    const x = tensor([[1000, 0, -1000], [5000, 5000, 5000]])
    const ls = logSoftmax(x)
    expect([...ls.data].every(Number.isFinite)).toBe(true)
    // x − lse(x) at |x| = 5000 is exact up to the rounding of lse itself: half an ulp of 5000
    expect(mismatch([...ls.data], [0, -1000, -2000, -Math.log(3), -Math.log(3), -Math.log(3)], () => 4 * EPS64 * 5000)).toBeNull()
    const sm = softmax(x)
    expect([...sm.data].every(Number.isFinite)).toBe(true)
    expect(mismatch([...sum(sm, 1).data], [1, 1], () => 4 * EPS64 * 5000)).toBeNull()
  })

  // Regression: computing x − lse(x) with lse rounded to f32 lost about half an ulp of |x|
  // (2e-5 near 5000); (x − m) − log Σ exp(x − m) keeps it to a few float32 ulps.
  it('f32 logSoftmax of large equal logits is within a few float32 ulps of −ln 3', () => {
    const x = tensor([5000, 5000, 5000], { dtype: 'f32' })
    expect(mismatch([...logSoftmax(x).data], [-Math.log(3), -Math.log(3), -Math.log(3)], () => 8 * EPS32)).toBeNull()
    expect(mismatch([sum(softmax(x)).item()], [1], () => 8 * EPS32)).toBeNull()
  })

  test.prop([sampleArb(shapeArb(1, 3), fc.double({ min: -1e300, max: 1e300, noNaN: true }))])(
    'logsumexp, logSoftmax and softmax never overflow on finite inputs',
    (s) => {
      const x = toTensor(s)
      const l = logsumexp(x, -1)
      const ls = logSoftmax(x)
      const sm = softmax(x)
      expect([...l.data].every(Number.isFinite)).toBe(true)
      expect([...sm.data].every((v) => Number.isFinite(v) && v >= 0 && v <= 1)).toBe(true)
      // logSoftmax ≤ 0, and finite unless an element is ~1e300 below its row's maximum
      expect([...ls.data].every((v) => v <= 0 && !Number.isNaN(v))).toBe(true)
      // the lse is at least the row maximum and at most max + ln n
      const ref = refReduce(s.nested, s.shape, [s.shape.length - 1], false, refMax)
      const n = s.shape[s.shape.length - 1]!
      const mx = flatten(ref.value)
      expect([...l.data].every((v, i) => v >= mx[i]! - Math.abs(mx[i]!) * EPS64 && v <= mx[i]! + Math.log(n) + Math.abs(mx[i]!) * EPS64)).toBe(true)
    }
  )
})

// ================================================================ f32 against f64

describe('f32 results agree with f64 within float32 tolerance', () => {
  /** Samples whose values are float32-representable, so both dtypes see the same inputs. */
  const f32SampleArb = (shapes: fc.Arbitrary<number[]>, v: fc.Arbitrary<number> = valueArb): fc.Arbitrary<Sample> =>
    shapes.chain((shape) => valuesArb(shape, v).map((values) => sampleOf(shape, values.map(Math.fround))))

  const both = (s: Sample): [Tensor, Tensor] => [toTensor(s, 'f32'), toTensor(s, 'f64')]

  /**
   * The f64 result rounded to float32: what an exact f32 computation would store, including
   * overflow to ±∞ and underflow to 0 that float64 does not have.
   */
  const as32 = (t: Tensor): number[] => [...t.data].map(Math.fround)

  /** A relative tolerance that is 0 for infinite expectations (they must match exactly). */
  const rel32 = (r: number, floor = 0) => (_: number, e: number): number => (Number.isFinite(e) ? r * Math.abs(e) + floor : 0)

  const elementwise: [string, (t: Tensor) => Tensor, fc.Arbitrary<number>][] = [
    ['exp', (t) => exp(t), valueArb],
    ['log', (t) => log(t), fc.double({ min: 1e-3, max: 1e3, noNaN: true })],
    ['tanh', (t) => tanh(t), valueArb],
    ['sigmoid', (t) => sigmoid(t), valueArb],
    ['softplus', (t) => softplus(t), valueArb],
    ['erf', (t) => erf(t), valueArb],
    ['sqrt', (t) => sqrt(t), fc.double({ min: 0, max: 1e3, noNaN: true })],
    ['square', (t) => square(t), valueArb],
    ['pow 1.5', (t) => pow(t, 1.5), fc.double({ min: 0, max: 1e3, noNaN: true })]
  ]
  for (const [name, op, v] of elementwise) {
    test.prop([f32SampleArb(shapeArb(), v)])(`${name}: within a few float32 ulps`, (s) => {
      const [x32, x64] = both(s)
      const y32 = op(x32)
      const y64 = op(x64)
      expect(y32.dtype).toBe('f32')
      expect(y32.shape).toEqual(y64.shape)
      expect(mismatch([...y32.data], as32(y64), rel32(4 * EPS32, 2 ** -149))).toBeNull()
    })
  }

  test.prop([broadcastPairArb().map(([a, b]) => [sampleOf(a.shape, a.values.map(Math.fround)), sampleOf(b.shape, b.values.map(Math.fround))] as const)])(
    'add / mul / div: within a few float32 ulps',
    ([a, b]) => {
      const [a32, a64] = both(a)
      const [b32, b64] = both(b)
      for (const op of [add, mul, div] as const) {
        const y32 = op(a32, b32 as never) as Tensor
        const y64 = op(a64, b64 as never) as Tensor
        expect(y32.dtype).toBe('f32')
        expect(mismatch([...y32.data], as32(y64), rel32(4 * EPS32, 2 ** -149))).toBeNull()
      }
    }
  )

  test.prop([reductionArb.map(({ s, keep, axes }) => ({ s: sampleOf(s.shape, s.values.map(Math.fround)), keep, axes }))])(
    'sum / mean / max / logsumexp: within n float32 ulps of the sum of |terms|',
    ({ s, keep, axes }) => {
      const [x32, x64] = both(s)
      const norm = normalized(axes, s.shape.length)
      const scale = flatten(refReduce(s.nested, s.shape, norm, keep, (vs) => (vs.length + 2) * EPS32 * (refAbsSum(vs) + 1)).value)
      const meanScale = flatten(refReduce(s.nested, s.shape, norm, keep, (vs) => (vs.length + 2) * EPS32 * (refAbsSum(vs) / vs.length + 1)).value)
      for (const [op, tol] of [[sum, scale], [mean, meanScale], [max, scale], [logsumexp, meanScale]] as const) {
        const y32 = op(x32, axes, keep)
        const y64 = op(x64, axes, keep)
        expect(y32.dtype).toBe('f32')
        expect(mismatch([...y32.data], as32(y64), (i) => tol[i]!)).toBeNull()
      }
    }
  )

  test.prop([
    fc
      .tuple(dimArb, dimArb, dimArb, fc.boolean(), fc.boolean())
      .chain(([m, k, n, ta, tb]) =>
        fc.tuple(f32SampleArb(fc.constant(ta ? [k, m] : [m, k])), f32SampleArb(fc.constant(tb ? [n, k] : [k, n])), fc.constant(ta), fc.constant(tb))
      )
  ])('matmul: within k float32 ulps of Σ|a||b|', ([a, b, transposeA, transposeB]) => {
    const [a32, a64] = both(a)
    const [b32, b64] = both(b)
    const opA = transposeA ? refT(a.nested as Mat) : (a.nested as Mat)
    const opB = transposeB ? refT(b.nested as Mat) : (b.nested as Mat)
    const k = opB.length
    const scale = flatten(refMatmul(absMat(opA), absMat(opB)))
    const y32 = matmul(a32, b32, { transposeA, transposeB })
    const y64 = matmul(a64, b64, { transposeA, transposeB })
    expect(y32.dtype).toBe('f32')
    // plus an absolute float32 underflow allowance (products of subnormals flush towards 0)
    expect(mismatch([...y32.data], as32(y64), (i) => (k + 2) * EPS32 * scale[i]! + k * 2 ** -149)).toBeNull()
  })

  test.prop([f32SampleArb(shapeArb(1, 3))])('softmax: within a few float32 ulps', (s) => {
    const [x32, x64] = both(s)
    expect(mismatch([...softmax(x32).data], as32(softmax(x64)), rel32(16 * EPS32, 1e-6 * EPS32))).toBeNull()
  })

  test.prop([sampleArb(shapeArb())])('astype f64 → f32 rounds each value; f32 → f64 is exact', (s) => {
    const y = astype(toTensor(s), 'f32')
    expect(y.dtype).toBe('f32')
    expect(y.shape).toEqual(s.shape)
    expect([...y.data]).toEqual(s.values.map(Math.fround))
    const back = astype(y, 'f64')
    expect(back.dtype).toBe('f64')
    expect([...back.data]).toEqual(s.values.map(Math.fround))
  })

  it('astype to the same dtype returns the tensor', () => {
    const x = tensor([1, 2])
    expect(astype(x, 'f64')).toBe(x)
  })

  it('mixing dtypes is a DTypeError, not a silent conversion', () => {
    // @ts-expect-error: add: dtypes differ: f32 and f64; convert one with astype
    expect(() => add(tensor([1], { dtype: 'f32' }), tensor([1]))).toThrow(DTypeError)
  })
})

describe('primitives run on the current backend', () => {
  it("logsumexp, pad and mean run on the current backend's kernels", () => {
    const calls: string[] = []
    const withKernel: Backend = {
      ...cpu,
      name: 'with-lse',
      logSumExp: (x, shape, axes, dtype) => {
        calls.push(`[${shape}] over ${axes}`)
        // an independent computation: reduce the max, then sum of exp(x - max), per row
        const [rows, cols] = [shape[0]!, shape[1]!]
        const out = dtype === 'f32' ? new Float32Array(rows) : new Float64Array(rows)
        for (let r = 0; r < rows; r++) {
          let m = -Infinity
          for (let c = 0; c < cols; c++) m = Math.max(m, x[r * cols + c]!)
          let sum = 0
          for (let c = 0; c < cols; c++) sum += Math.exp(x[r * cols + c]! - m)
          out[r] = m + Math.log(sum)
        }
        return out
      }
    }
    const x = tensor([[1, 2, 3], [-1, 0, 1000]])
    const onKernel = Backends.withBackend(withKernel, () => logsumexp(x, 1))
    expect(calls).toEqual(['[2,3] over 1'])
    expect(onKernel.toArray()).toEqual(logsumexp(x, 1).toArray())
    expect(calls).toHaveLength(1) // back on cpu: its own logSumExp, not the test's
    // pad and mean reach the backend too (no host loop beside it)
    const used: string[] = []
    const watching: Backend = {
      ...cpu,
      name: 'watching',
      pad: (...args) => (used.push('pad'), cpu.pad(...args)),
      reduce: (...args) => (used.push(`reduce ${args[3]}`), cpu.reduce(...args))
    }
    const padded = Backends.withBackend(watching, () => pad(tensor([[1, 2]]), [1, 0], [2, 3], { value: 9 }))
    expect(padded.toArray()).toEqual([[9, 9, 9], [1, 2, 9]])
    expect(Backends.withBackend(watching, () => mean(tensor([[1, 2], [3, 5]]), 1)).toArray()).toEqual([1.5, 4])
    expect(used).toEqual(['pad', 'reduce sum'])
  })
})
