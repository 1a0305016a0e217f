/**
 * A case generator for every entry of the primitive table, typed as a mapped type over
 * `Prim`: adding a primitive without a case here is a compile error, so no primitive
 * escapes the law suites. Each case is a function of the primitive's differentiable
 * arguments, and inputs that keep away from kinks and domain edges.
 *
 * @module
 */
import fc from 'fast-check'
import { bind } from '../src/prim.js'
import type { Prim, PrimParams, Relation, WindowWeights } from '../src/prim.js'
import * as Sh from '../src/shape.js'
import type { Shape } from '../src/shape.js'
import { fromBuffer } from '../src/tensor.js'
import type { Tensor } from '../src/tensor.js'
import { sameShape, shapes, tensorOf } from './arbitrary.js'
import type { ShapeOptions, ValueOptions } from './arbitrary.js'

/** One primitive application: its arguments and parameters. */
export type PrimitiveCase<P extends Prim> = {
  readonly args: readonly Tensor[]
  readonly params: PrimParams[P]
  /** Arguments that are data, passed after `args` and never perturbed or differentiated (select's mask). */
  readonly data?: readonly Tensor[]
}

/**
 * Applies a case's primitive to arguments (the case's own, or perturbed ones).
 *
 * @example
 * ```ts
 * import { tensor } from 'lamina-nn'
 * import { applyCase } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * const rowSums = applyCase('sum', { axes: [1], keepdims: false })
 * assert.deepStrictEqual(rowSums([tensor([[1, 2], [3, 4]])]).toArray(), [3, 7])
 * ```
 */
export const applyCase =
  <P extends Prim>(prim: P, params: PrimParams[P], data: readonly Tensor[] = []) =>
  (args: readonly Tensor[]): Tensor =>
    bind(prim, [...args, ...data], params)

const none = {}
const small: ShapeOptions = { maxRank: 3, maxDim: 4 }

const elementwise = <P extends Prim>(count: number, params: PrimParams[P], opts?: ValueOptions): fc.Arbitrary<PrimitiveCase<P>> =>
  sameShape(count, { ...small, ...opts }).map((args) => ({ args, params }))

/** Pairs whose elements differ by at least `gap` (no ties for max/min). */
const separatedPair = <P extends 'maximum' | 'minimum'>(gap: number): fc.Arbitrary<PrimitiveCase<P>> =>
  shapes(small).chain((s) =>
    fc
      .tuple(tensorOf(s), fc.array(fc.tuple(fc.double({ min: gap, max: 2, noNaN: true }), fc.boolean()), { minLength: Sh.size(s), maxLength: Sh.size(s) }))
      .map(([a, offsets]) => {
        const b = a.data
        const values = Array.from({ length: a.size }, (_, i) => b[i]! + (offsets[i]![1] ? 1 : -1) * offsets[i]![0])
        return { args: [a, fromBuffer(values, s)], params: none as PrimParams[P] }
      })
  )

/** Shapes with a random subset of axes to reduce and a keepdims flag. */
const reduction = <P extends 'sum' | 'mean' | 'max' | 'min' | 'logsumexp'>(opts?: { distinct?: boolean }): fc.Arbitrary<PrimitiveCase<P>> =>
  shapes({ minRank: 1, maxRank: 3, maxDim: 4 }).chain((s) =>
    fc.tuple(
      opts?.distinct
        ? fc.shuffledSubarray(Array.from({ length: 80 }, (_, i) => (i - 40) * 0.1), { minLength: Sh.size(s), maxLength: Sh.size(s) }).map((v) => fromBuffer(v, s))
        : tensorOf(s),
      fc.subarray(s.map((_, i) => i), { minLength: 1 }),
      fc.boolean()
    ).map(([x, axes, keepdims]) => ({ args: [x], params: { axes, keepdims } as PrimParams[P] }))
  )

const matmulCase = <P extends 'matmul' | 'batchMatmul'>(batched: boolean): fc.Arbitrary<PrimitiveCase<P>> =>
  fc
    .record({
      b: fc.integer({ min: 1, max: 3 }),
      m: fc.integer({ min: 1, max: 4 }),
      k: fc.integer({ min: 1, max: 4 }),
      n: fc.integer({ min: 1, max: 4 }),
      transposeA: fc.boolean(),
      transposeB: fc.boolean()
    })
    .chain(({ b, m, k, n, transposeA, transposeB }) => {
      const lead = batched ? [b] : []
      const aShape = [...lead, ...(transposeA ? [k, m] : [m, k])]
      const bShape = [...lead, ...(transposeB ? [n, k] : [k, n])]
      return fc.tuple(tensorOf(aShape), tensorOf(bShape)).map(([a, c]) => ({ args: [a, c], params: { transposeA, transposeB } as PrimParams[P] }))
    })

/** A shape and a target it broadcasts to (leading axes added, some size-1 axes stretched). */
const broadcastCase: fc.Arbitrary<PrimitiveCase<'broadcast'>> = fc
  .tuple(shapes({ maxRank: 3, maxDim: 3 }), fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }), fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }))
  .chain(([target, lead, squash]) => {
    const from = target.map((d, i) => (squash[i] ? 1 : d))
    const to = [...lead, ...target]
    return tensorOf(from).map((x) => ({ args: [x], params: { shape: to } }))
  })

const reshapeCase: fc.Arbitrary<PrimitiveCase<'reshape'>> = shapes({ maxRank: 3 }).chain((s) =>
  fc
    .constantFrom<Shape>([Sh.size(s)], [...s].reverse(), [1, ...s], s.length > 1 ? [s[0]!, Sh.size(s.slice(1))] : [Sh.size(s), 1])
    .chain((to) => tensorOf(s).map((x) => ({ args: [x], params: { shape: to } })))
)

const transposeCase: fc.Arbitrary<PrimitiveCase<'transpose'>> = shapes({ minRank: 1, maxRank: 4, maxDim: 3 }).chain((s) =>
  fc
    .tuple(tensorOf(s), fc.shuffledSubarray(s.map((_, i) => i), { minLength: s.length, maxLength: s.length }))
    .map(([x, perm]) => ({ args: [x], params: { perm } }))
)

const concatCase: fc.Arbitrary<PrimitiveCase<'concat'>> = shapes({ minRank: 1, maxRank: 3, maxDim: 3 }).chain((s) =>
  fc
    .tuple(fc.integer({ min: 0, max: s.length - 1 }), fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }))
    .chain(([axis, widths]) =>
      fc.tuple(...widths.map((w) => tensorOf(s.map((d, i) => (i === axis ? w : d))))).map((args) => ({ args, params: { axis } }))
    )
)

/** A block inside a shape: starts and sizes that fit. */
const block = (s: Shape) =>
  fc.tuple(...s.map((d) => fc.integer({ min: 0, max: d - 1 }).chain((start) => fc.tuple(fc.constant(start), fc.integer({ min: 1, max: d - start }))))).map(
    (pairs) => ({ starts: pairs.map((p) => p[0]), sizes: pairs.map((p) => p[1]) })
  )

const sliceCase: fc.Arbitrary<PrimitiveCase<'slice'>> = shapes({ maxRank: 3 }).chain((s) =>
  fc.tuple(tensorOf(s), block(s)).map(([x, params]) => ({ args: [x], params }))
)

/** A block inside a shape, padded out to the shape with zeros or with another constant. */
const padCase: fc.Arbitrary<PrimitiveCase<'pad'>> = shapes({ maxRank: 3 }).chain((s) =>
  fc.tuple(block(s), fc.option(fc.double({ min: -5, max: 5, noNaN: true }), { nil: undefined })).chain(([{ starts, sizes }, value]) =>
    tensorOf(sizes).map((x) => ({ args: [x], params: value === undefined ? { starts, shape: s } : { starts, shape: s, value } }))
  )
)

/** `select(a, b, mask)`: the laws differentiate `a` and `b`; the mask is data. */
const selectCase: fc.Arbitrary<PrimitiveCase<'select'>> = shapes(small).chain((s) =>
  fc
    .tuple(tensorOf(s), tensorOf(s), fc.array(fc.boolean(), { minLength: Sh.size(s), maxLength: Sh.size(s) }))
    .map(([a, b, m]) => ({ args: [a, b], params: none, data: [fromBuffer(m.map((x) => (x ? 1 : 0)), s)] }))
)

/** Comparisons of pairs: every relation, with ties drawn on purpose (the derivative is zero either way). */
const compareCase: fc.Arbitrary<PrimitiveCase<'compare'>> = fc
  .tuple(fc.constantFrom<Relation>('>', '<', '>=', '<=', '==', '!='), shapes(small))
  .chain(([relation, s]) =>
    fc.tuple(tensorOf(s), tensorOf(s), fc.boolean()).map(([a, b, tied]) => ({ args: [a, tied ? a : b], params: { relation } }))
  )

const powCase: fc.Arbitrary<PrimitiveCase<'pow'>> = fc
  .tuple(fc.oneof(fc.integer({ min: -2, max: 4 }), fc.double({ min: -2.5, max: 3.5, noNaN: true })), shapes(small))
  .chain(([exponent, s]) => tensorOf(s, { min: 0.3, max: 3 }).map((x) => ({ args: [x], params: { exponent } })))

/** `aᵇ` with a tensor exponent: bases in a > 0, where both partials (b·aᵇ⁻¹ and aᵇ·ln a) exist. */
const powerCase: fc.Arbitrary<PrimitiveCase<'power'>> = shapes(small).chain((s) =>
  fc.tuple(tensorOf(s, { min: 0.3, max: 3 }), tensorOf(s, { min: -2.5, max: 3.5 })).map(([a, b]) => ({ args: [a, b], params: none }))
)

/** A small convolution: shapes of x `[B, C, H, W]`, w `[O, C, kh, kw]` and y, and a geometry with every option exercised. */
const convGeometry = fc
  .record({
    b: fc.integer({ min: 1, max: 2 }),
    c: fc.integer({ min: 1, max: 2 }),
    o: fc.integer({ min: 1, max: 2 }),
    kernel: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    stride: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
    dilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
    padding: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
    extra: fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }))
  })
  .map(({ b, c, o, kernel, stride, dilation, padding, extra }) => {
    // the smallest image the dilated filter fits in once padded, plus a few rows and columns
    const size = (axis: 0 | 1) => Math.max(1, dilation[axis] * (kernel[axis] - 1) + 1 - padding[2 * axis]! - padding[2 * axis + 1]! + extra[axis])
    const [h, w] = [size(0), size(1)]
    const out = (axis: 0 | 1, n: number) => Math.floor((n + padding[2 * axis]! + padding[2 * axis + 1]! - dilation[axis] * (kernel[axis] - 1) - 1) / stride[axis]) + 1
    return {
      x: [b, c, h, w],
      w: [o, c, ...kernel],
      y: [b, o, out(0, h), out(1, w)],
      geometry: { stride, dilation, padding } as PrimParams['conv2d'],
      inputSize: [h, w] as const,
      kernel
    }
  })

/** With a bias per filter or without. */
const conv2dCase: fc.Arbitrary<PrimitiveCase<'conv2d'>> = convGeometry.chain((g) =>
  fc
    .tuple(tensorOf(g.x), tensorOf(g.w), fc.option(tensorOf([g.w[0]!]), { nil: undefined }))
    .map(([x, w, b]) => ({ args: b === undefined ? [x, w] : [x, w, b], params: g.geometry }))
)
const conv2dInputGradCase: fc.Arbitrary<PrimitiveCase<'conv2dInputGrad'>> = convGeometry.chain((g) =>
  fc.tuple(tensorOf(g.y), tensorOf(g.w)).map((args) => ({ args, params: { ...g.geometry, inputSize: g.inputSize } }))
)
const conv2dFilterGradCase: fc.Arbitrary<PrimitiveCase<'conv2dFilterGrad'>> = convGeometry.chain((g) =>
  fc.tuple(tensorOf(g.x), tensorOf(g.y)).map((args) => ({ args, params: { ...g.geometry, kernel: g.kernel } }))
)

/** A small pooling: the input shape `[B, C, H, W]`, the output's, and a window with padding smaller than it. */
const poolGeometry = fc
  .record({
    b: fc.integer({ min: 1, max: 2 }),
    c: fc.integer({ min: 1, max: 2 }),
    kernel: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    pads: fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2), fc.nat(2)),
    extra: fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }))
  })
  .map(({ b, c, kernel, stride, pads, extra }) => {
    const padding = [pads[0] % kernel[0], pads[1] % kernel[0], pads[2] % kernel[1], pads[3] % kernel[1]] as const
    const size = (axis: 0 | 1) => Math.max(1, kernel[axis] - padding[2 * axis]! - padding[2 * axis + 1]! + extra[axis])
    const [h, w] = [size(0), size(1)]
    const out = (axis: 0 | 1, n: number) => Math.floor((n + padding[2 * axis]! + padding[2 * axis + 1]! - kernel[axis]) / stride[axis]) + 1
    return { x: [b, c, h, w], y: [b, c, out(0, h), out(1, w)], geometry: { kernel, stride, padding } as PrimParams['maxPool2d'], inputSize: [h, w] as const }
  })

/** Distinct values at least 0.1 apart in a random order (no ties in a window's maximum). */
const distinctOf = (shape: Shape): fc.Arbitrary<Tensor> =>
  fc
    .shuffledSubarray(Array.from({ length: 2 * Sh.size(shape) + 20 }, (_, i) => (i - Sh.size(shape) - 10) * 0.1), { minLength: Sh.size(shape), maxLength: Sh.size(shape) })
    .map((v) => fromBuffer(v, shape))

/** Window weights: none (average pooling) or arbitrary ones, one per window and tap. */
const windowWeights = (windows: number, taps: number): fc.Arbitrary<WindowWeights | undefined> =>
  fc.option(
    fc
      .array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: windows * taps, maxLength: windows * taps })
      .map((w): WindowWeights => ({ kind: 'given', values: Float64Array.from(w) })),
    { nil: undefined }
  )

const maxPool2dCase: fc.Arbitrary<PrimitiveCase<'maxPool2d'>> = poolGeometry.chain((g) => distinctOf(g.x).map((x) => ({ args: [x], params: g.geometry })))
const avgPool2dCase: fc.Arbitrary<PrimitiveCase<'avgPool2d'>> = poolGeometry.chain((g) =>
  fc
    .tuple(tensorOf(g.x), windowWeights(Sh.size(g.y), g.geometry.kernel[0] * g.geometry.kernel[1]))
    .map(([x, weights]) => ({ args: [x], params: weights === undefined ? g.geometry : { ...g.geometry, weights } }))
)
const avgPool2dTransposeCase: fc.Arbitrary<PrimitiveCase<'avgPool2dTranspose'>> = poolGeometry.chain((g) =>
  fc
    .tuple(tensorOf(g.y), windowWeights(Sh.size(g.y), g.geometry.kernel[0] * g.geometry.kernel[1]))
    .map(([c, weights]) => ({ args: [c], params: { ...g.geometry, inputSize: g.inputSize, ...(weights === undefined ? {} : { weights }) } }))
)

/** A pooled input and its window maxima, sometimes with ties (values on a coarse grid): the data of max pooling's derivatives. */
const pooledData = (g: { readonly x: Shape; readonly geometry: PrimParams['maxPool2d'] }): fc.Arbitrary<readonly [Tensor, Tensor]> =>
  fc
    .oneof(distinctOf(g.x), fc.array(fc.integer({ min: -1, max: 1 }), { minLength: Sh.size(g.x), maxLength: Sh.size(g.x) }).map((v) => fromBuffer(v, g.x)))
    .map((x) => [x, bind('maxPool2d', [x], g.geometry)] as const)

/** `maxPool2dGather(t, x, m)`: the laws differentiate the tangent `t`; the pooled input and its maxima are data. */
const maxPool2dGatherCase: fc.Arbitrary<PrimitiveCase<'maxPool2dGather'>> = poolGeometry.chain((g) =>
  fc.tuple(tensorOf(g.x), pooledData(g)).map(([t, data]) => ({ args: [t], params: g.geometry, data }))
)
/** `maxPool2dSpread(c, x, m)`: the laws differentiate the cotangent `c`; the pooled input and its maxima are data. */
const maxPool2dSpreadCase: fc.Arbitrary<PrimitiveCase<'maxPool2dSpread'>> = poolGeometry.chain((g) =>
  fc.tuple(tensorOf(g.y), pooledData(g)).map(([c, data]) => ({ args: [c], params: g.geometry, data }))
)

/**
 * The primitives whose derivative is zero by definition rather than the derivative of their
 * value (`stopGradient` is the identity on values): finite differences of their value say
 * nothing about their rule, so the two finite-difference laws check instead that their JVP and
 * VJP are exactly zero. Every other law (inner product, forward = reverse, second order) applies
 * to them as to any primitive.
 *
 * @example
 * ```ts
 * import { zeroDerivative } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * assert.ok(zeroDerivative.has('stopGradient'))
 * assert.ok(!zeroDerivative.has('neg'))
 * ```
 */
export const zeroDerivative: ReadonlySet<Prim> = new Set<Prim>(['stopGradient', 'compare', 'sign'])

/**
 * For every primitive, an arbitrary of valid applications whose inputs stay away from kinks
 * (relu, abs at 0; maximum/minimum and the max/min reductions at ties) and domain edges (log,
 * sqrt, pow near 0; div near b = 0; power's base a ≤ 0, where its derivative in the exponent
 * is undefined).
 *
 * @example
 * ```ts
 * import fc from 'fast-check'
 * import { Prim } from 'lamina-nn'
 * import { primitiveCases } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(Object.keys(primitiveCases).sort(), [...Prim.names].sort())
 * const [c] = fc.sample(primitiveCases.log, 1)
 * assert.ok([...c!.args[0]!.data].every((v) => v > 0))
 * ```
 */
export const primitiveCases: { readonly [P in Prim]: fc.Arbitrary<PrimitiveCase<P>> } = {
  add: elementwise(2, none),
  sub: elementwise(2, none),
  mul: elementwise(2, none),
  div: shapes(small).chain((s) =>
    fc.tuple(tensorOf(s), tensorOf(s, { min: -3, max: 3, awayFrom: [0], margin: 0.4 })).map(([a, b]) => ({ args: [a, b], params: none }))
  ),
  maximum: separatedPair(0.2),
  minimum: separatedPair(0.2),
  neg: elementwise(1, none),
  stopGradient: elementwise(1, none),
  pow: powCase,
  power: powerCase,
  exp: elementwise(1, none),
  log: elementwise(1, none, { min: 0.2, max: 5 }),
  sin: elementwise(1, none, { min: -5, max: 5 }),
  cos: elementwise(1, none, { min: -5, max: 5 }),
  tanh: elementwise(1, none),
  sigmoid: elementwise(1, none, { min: -6, max: 6 }),
  relu: elementwise(1, none, { awayFrom: [0], margin: 0.2 }),
  abs: elementwise(1, none, { awayFrom: [0], margin: 0.2 }),
  sqrt: elementwise(1, none, { min: 0.2, max: 5 }),
  erf: elementwise(1, none),
  softplus: elementwise(1, none, { min: -6, max: 6 }),
  logsumexp: reduction(),
  sum: reduction(),
  mean: reduction(),
  max: reduction({ distinct: true }),
  min: reduction({ distinct: true }),
  matmul: matmulCase(false),
  batchMatmul: matmulCase(true),
  broadcast: broadcastCase,
  reshape: reshapeCase,
  transpose: transposeCase,
  concat: concatCase,
  slice: sliceCase,
  pad: padCase,
  select: selectCase,
  compare: compareCase,
  sign: elementwise(1, none),
  conv2d: conv2dCase,
  conv2dInputGrad: conv2dInputGradCase,
  conv2dFilterGrad: conv2dFilterGradCase,
  maxPool2d: maxPool2dCase,
  avgPool2d: avgPool2dCase,
  avgPool2dTranspose: avgPool2dTransposeCase,
  maxPool2dGather: maxPool2dGatherCase,
  maxPool2dSpread: maxPool2dSpreadCase
}


