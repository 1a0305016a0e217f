/**
 * The primitive table: for every primitive, its forward computation on the backend, its
 * JVP rule and its VJP rule, with the derivative written beside it. A primitive without a
 * rule does not compile, and the law suites iterate over this table, so no primitive can
 * escape the gradient checks.
 *
 * Rules are written with `bind`, the same differentiable operations user code calls, so the
 * derivative of a derivative works for every primitive. Each rule gives one linear map per
 * input (`jvp[i](ṫᵢ)`, `vjp[i](ȳ)`): callers apply only the maps of inputs that carry a
 * tangent or need a cotangent, so symbolic zeros cost nothing.
 *
 * @module
 */
import { current as backend } from './backend/current.js'
import { conv2dShape, pool2dShape } from './backend/conv.js'
import type { ConvGeometry, Pair, PoolGeometry, WindowWeights } from './backend/conv.js'
import type { BinaryOp, ReduceKind, Relation, UnaryOp } from './backend/backend.js'
import { ArgumentError, ShapeError } from './error.js'
import * as Numerics from './numerics.js'
import * as Sh from './shape.js'
import type { Shape } from './shape.js'
import { Tensor, allocate, concreteBuffer, fromOwnedBuffer, sharedZeros, tracerOf } from './tensor.js'
import type { Buffer, DType, Tracer } from './tensor.js'

/** Reduction parameters: sorted, normalized axes. */
export interface ReduceParams {
  readonly axes: readonly number[]
  readonly keepdims: boolean
}

/** Parameters of the two matrix products. */
export interface MatMulParams {
  readonly transposeA: boolean
  readonly transposeB: boolean
}

export { relations } from './backend/backend.js'
export type { Relation } from './backend/backend.js'

export type { ConvGeometry, Pair, Padding, PoolGeometry, WindowWeights } from './backend/conv.js'

/** Parameters of a pooling window's weighted sum: without `weights`, every tap weighs 1/(kh·kw) (average pooling). */
export interface WindowSumParams extends PoolGeometry {
  /** One weight per window and tap, given with the primitive (a constant of the program, not differentiated). */
  readonly weights?: WindowWeights
}

/** The parameters each primitive takes (beyond its tensor arguments). */
export interface PrimParams {
  readonly add: {}
  readonly sub: {}
  readonly mul: {}
  readonly div: {}
  readonly maximum: {}
  readonly minimum: {}
  readonly neg: {}
  readonly stopGradient: {}
  readonly pow: { readonly exponent: number }
  readonly power: {}
  readonly exp: {}
  readonly log: {}
  readonly sin: {}
  readonly cos: {}
  readonly tanh: {}
  readonly sigmoid: {}
  readonly relu: {}
  readonly abs: {}
  readonly sqrt: {}
  readonly erf: {}
  readonly softplus: {}
  readonly logsumexp: ReduceParams
  readonly sum: ReduceParams
  readonly mean: ReduceParams
  readonly max: ReduceParams
  readonly min: ReduceParams
  readonly matmul: MatMulParams
  readonly batchMatmul: MatMulParams
  readonly broadcast: { readonly shape: Shape }
  readonly reshape: { readonly shape: Shape }
  readonly transpose: { readonly perm: readonly number[] }
  readonly concat: { readonly axis: number }
  readonly slice: { readonly starts: readonly number[]; readonly sizes: readonly number[] }
  /** `x` placed at `starts` inside a tensor of `shape` filled with `value` (default 0). */
  readonly pad: { readonly starts: readonly number[]; readonly shape: Shape; readonly value?: number }
  /** `a ⋈ b ? 1 : 0` elementwise for the relation ⋈: a mask, with derivative zero. */
  readonly compare: { readonly relation: Relation }
  /** `sign(x)` (0 at 0), with derivative zero. */
  readonly sign: {}
  /** `mask ≠ 0 ? a : b` elementwise, for arguments `[a, b, mask]`; the mask is data (zero cotangent). */
  readonly select: {}
  /** NCHW convolution `conv2d(x, w)` or `conv2d(x, w, b)` with a bias per output channel: stride, dilation, padding per side (`backend/conv.ts`). */
  readonly conv2d: ConvGeometry
  /** `conv2dInputGrad(ȳ, w)`: the transpose of `x ↦ conv2d(x, w)`, back to an input `[H, W] = inputSize`. */
  readonly conv2dInputGrad: ConvGeometry & { readonly inputSize: Pair }
  /** `conv2dFilterGrad(x, ȳ)`: the transpose of `w ↦ conv2d(x, w)`, back to a `kernel = [kh, kw]` filter. */
  readonly conv2dFilterGrad: ConvGeometry & { readonly kernel: Pair }
  /** Max pooling: window, stride, padding per side (−∞). */
  readonly maxPool2d: PoolGeometry
  /** Average pooling, or a window sum with the given weights. */
  readonly avgPool2d: WindowSumParams
  /** The transpose of `avgPool2d`, back to an input `[H, W] = inputSize`. */
  readonly avgPool2dTranspose: WindowSumParams & { readonly inputSize: Pair }
  /**
   * Max pooling's JVP `maxPool2dGather(t, x, m)`: per window, Σ_taps ω·t with ω = 1/(ties) where
   * `x` equals the window's maximum `m` (`maxPool2d(x)`), else 0. Linear in `t`; `x` and `m` are data.
   */
  readonly maxPool2dGather: PoolGeometry
  /** Max pooling's VJP `maxPool2dSpread(ȳ, x, m)`, the transpose of `maxPool2dGather` in its first argument, back to `x`'s shape. */
  readonly maxPool2dSpread: PoolGeometry
}

/** The name of a primitive. */
export type Prim = keyof PrimParams

/** What a rule sees: the primal arguments, the primal output and the parameters. */
export interface RuleContext<P extends Prim> {
  readonly args: readonly Tensor[]
  readonly out: Tensor
  readonly params: PrimParams[P]
}

/** A linear map on tangents or cotangents. */
export type Linear = (v: Tensor) => Tensor

/** Everything lamina knows about one primitive. */
export interface Rule<P extends Prim> {
  /** Number of tensor arguments (`'many'` for concat). */
  readonly arity: number | 'many'
  /** Tensor arguments that are data, not differentiable inputs (none today; kept for clarity). */
  readonly forward: (args: readonly Tensor[], params: PrimParams[P]) => { shape: Shape; buffer: Buffer }
  /** `jvp[i]` maps the tangent of input `i` to its contribution to the output tangent. */
  readonly jvp: (ctx: RuleContext<P>) => readonly Linear[]
  /** `vjp[i]` maps the output cotangent to the cotangent of input `i`. */
  readonly vjp: (ctx: RuleContext<P>) => readonly Linear[]
  /**
   * Its derivative is zero with respect to every argument (`stopGradient`, `compare`, `sign`):
   * its rules give zeros, and a sweep may skip it, since nothing flows through it.
   */
  readonly constant?: true
}

// ---------------------------------------------------------------- bind

/**
 * Applies a primitive. Concrete arguments run the forward computation; traced ones go to the
 * innermost running transformation, which applies the rule. This is the one entry point of
 * every operation.
 *
 * @example
 * ```ts
 * import { tensor, Prim } from 'lamina-nn'
 * import assert from 'node:assert'
 * const y = Prim.bind('mul', [tensor([1, 2]), tensor([3, 4])], {})
 * assert.deepStrictEqual(y.toArray(), [3, 8])
 * ```
 */
export const bind = <P extends Prim>(prim: P, args: readonly Tensor[], params: PrimParams[P]): Tensor => {
  let top: Tracer | undefined
  for (const a of args) {
    const t = tracerOf(a)
    if (t !== undefined && (top === undefined || t.level > top.level)) top = t
  }
  if (top !== undefined) return top.trace.process(prim, args, params)
  const rule = ruleOf(prim) as unknown as Rule<P>
  const { shape, buffer } = rule.forward(args, params)
  if (Numerics.enabled()) Numerics.check(prim, args, buffer)
  return fromOwnedBuffer(shape, args[0]!.dtype, buffer)
}

// Differentiable building blocks for the rules (arguments already share a shape).
const add = (a: Tensor, b: Tensor) => bind('add', [a, b], {})
const sub = (a: Tensor, b: Tensor) => bind('sub', [a, b], {})
const mul = (a: Tensor, b: Tensor) => bind('mul', [a, b], {})
const div = (a: Tensor, b: Tensor) => bind('div', [a, b], {})
const neg = (a: Tensor) => bind('neg', [a], {})
const exp = (a: Tensor) => bind('exp', [a], {})
const sin = (a: Tensor) => bind('sin', [a], {})
const cos = (a: Tensor) => bind('cos', [a], {})
const sigmoid = (a: Tensor) => bind('sigmoid', [a], {})
const pow = (a: Tensor, exponent: number) => bind('pow', [a], { exponent })
const power = (a: Tensor, b: Tensor) => bind('power', [a, b], {})
const log = (a: Tensor) => bind('log', [a], {})
const select = (mask: Tensor, a: Tensor, b: Tensor) => bind('select', [a, b, mask], {})
const compare = (a: Tensor, b: Tensor, relation: Relation) => bind('compare', [a, b], { relation })
const sum = (a: Tensor, axes: readonly number[], keepdims: boolean) => bind('sum', [a], { axes, keepdims })
const reshape = (a: Tensor, shape: Shape) => (Sh.equals(a.shape, shape) ? a : bind('reshape', [a], { shape }))
const broadcast = (a: Tensor, shape: Shape) => (Sh.equals(a.shape, shape) ? a : bind('broadcast', [a], { shape }))
const matmul = (a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean) => bind('matmul', [a, b], { transposeA, transposeB })
const batchMatmul = (a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean) =>
  bind('batchMatmul', [a, b], { transposeA, transposeB })
/** The geometry alone (the transposes' parameters carry a size besides). */
const geometryOf = ({ stride, dilation, padding }: ConvGeometry): ConvGeometry => ({ stride, dilation, padding })
const poolOf = ({ kernel, stride, padding }: PoolGeometry): PoolGeometry => ({ kernel, stride, padding })
const spatial = (t: Tensor): Pair => [t.shape[2]!, t.shape[3]!]
const conv2d = (x: Tensor, w: Tensor, g: ConvGeometry) => bind('conv2d', [x, w], geometryOf(g))
const conv2dInputGrad = (ct: Tensor, w: Tensor, g: ConvGeometry, inputSize: Pair) => bind('conv2dInputGrad', [ct, w], { ...geometryOf(g), inputSize })
const conv2dFilterGrad = (x: Tensor, ct: Tensor, g: ConvGeometry, kernel: Pair) => bind('conv2dFilterGrad', [x, ct], { ...geometryOf(g), kernel })
const maxPool2dGather = (t: Tensor, x: Tensor, m: Tensor, g: PoolGeometry) => bind('maxPool2dGather', [t, x, m], poolOf(g))
const maxPool2dSpread = (ct: Tensor, x: Tensor, m: Tensor, g: PoolGeometry) => bind('maxPool2dSpread', [ct, x, m], poolOf(g))
const windowSum = (x: Tensor, g: PoolGeometry, weights: WindowWeights | undefined) =>
  bind('avgPool2d', [x], weights === undefined ? poolOf(g) : { ...poolOf(g), weights })
const windowSpread = (ct: Tensor, g: PoolGeometry, weights: WindowWeights | undefined, inputSize: Pair) =>
  bind('avgPool2dTranspose', [ct], weights === undefined ? { ...poolOf(g), inputSize } : { ...poolOf(g), weights, inputSize })

/** Shapes of max pooling's derivative arguments: the linear one (`x`'s shape or the pooled one), `x`, and `m = maxPool2d(x)`. */
const checkMaxima = (op: 'maxPool2dGather' | 'maxPool2dSpread', v: Tensor, x: Tensor, m: Tensor, g: PoolGeometry): void => {
  const pooled = pool2dShape(x.shape, g, op)
  if (!Sh.equals(m.shape, pooled)) throw new ShapeError(`${op}: the window maxima have shape ${Sh.show(m.shape)}, but pooling ${Sh.show(x.shape)} gives ${Sh.show(pooled)}`)
  const want = op === 'maxPool2dGather' ? x.shape : pooled
  if (!Sh.equals(v.shape, want)) throw new ShapeError(`${op}: the ${op === 'maxPool2dGather' ? 'tangent' : 'cotangent'} has shape ${Sh.show(v.shape)}, expected ${Sh.show(want)}`)
}

const filled = (like: Tensor, v: number): Tensor => fromOwnedBuffer(like.shape, like.dtype, allocate(like.dtype, like.size).fill(v))
/** Zeros shaped like `like` that cost no allocation (a shared read-only buffer); only for an operand that is read, never returned. */
const sharedZerosLike = (like: Tensor): Tensor => fromOwnedBuffer(like.shape, like.dtype, sharedZeros(like.dtype, like.size))
const zerosOf = (shape: Shape, dtype: DType): Tensor => fromOwnedBuffer(shape, dtype, allocate(dtype, Sh.size(shape)))

const val = (t: Tensor): Buffer => concreteBuffer(t)

// ---------------------------------------------------------------- rule builders

/** An elementwise unary primitive: `dy = f'(x) dx`, so JVP and VJP both multiply by `f'(x)`. */
const unary = <P extends Prim & UnaryOp>(
  derivative: (ctx: RuleContext<P>) => Tensor
) => (op: P): Rule<P> => ({
  arity: 1,
  forward: ([x], params) => ({ shape: x!.shape, buffer: backend().unary(op, val(x!), x!.dtype, (params as { exponent?: number }).exponent) }),
  jvp: (ctx) => [(t) => mul(t, derivative(ctx))],
  vjp: (ctx) => [(ct) => mul(ct, derivative(ctx))]
})

/** An elementwise binary primitive on equally shaped arguments with partials `∂f/∂a`, `∂f/∂b`. */
const binary = <P extends Prim & BinaryOp>(partials: (ctx: RuleContext<P>) => readonly [Linear, Linear]) => (op: P): Rule<P> => ({
  arity: 2,
  forward: ([a, b]) => ({ shape: a!.shape, buffer: backend().binary(op, val(a!), val(b!), a!.dtype) }),
  jvp: partials,
  vjp: partials
})

const reduceForward = (kind: ReduceKind) => ([x]: readonly Tensor[], { axes, keepdims }: ReduceParams) => ({
  shape: Sh.reduceShape(x!.shape, axes, keepdims, kind),
  buffer: backend().reduce(val(x!), x!.shape, axes, kind, x!.dtype)
})

/** The reduced shape with the reduced axes kept as 1, so it broadcasts back over the input. */
const keptShape = (input: Shape, axes: readonly number[]): Shape => input.map((d, i) => (axes.includes(i) ? 1 : d))

/** Spreads a reduction's cotangent back over the input's shape. */
const unreduce = (ct: Tensor, input: Shape, axes: readonly number[]): Tensor => broadcast(reshape(ct, keptShape(input, axes)), input)

/** Weights of the subgradient of max/min: 1/(number of ties) where x attains the extremum, else 0. */
const extremumWeights = (x: Tensor, out: Tensor, axes: readonly number[]): Tensor => {
  const hits = compare(x, broadcast(reshape(out, keptShape(x.shape, axes)), x.shape), '==')
  return div(hits, broadcast(sum(hits, axes, true), x.shape))
}

/** The max or min reduction: the cotangent goes to the extrema, shared evenly among ties. */
const extremum = <P extends 'max' | 'min'>(kind: P): Rule<P> => ({
  arity: 1,
  forward: reduceForward(kind),
  jvp: ({ args: [x], out, params: { axes, keepdims } }) => {
    const w = extremumWeights(x!, out, axes)
    return [(t) => sum(mul(t, w), axes, keepdims)]
  },
  vjp: ({ args: [x], out, params: { axes } }) => {
    const w = extremumWeights(x!, out, axes)
    return [(ct) => mul(unreduce(ct, x!.shape, axes), w)]
  }
})

const SQRT_PI = Math.sqrt(Math.PI)

/**
 * ∂aᵇ/∂a = b·aᵇ⁻¹ and ∂aᵇ/∂b = aᵇ·ln a, each built only when applied. At a = 0 the base is
 * replaced by 1 where the product would be 0·∞: in the first where b = 0 too (a⁰ = 1 for every
 * a, so the partial is 0), in the second everywhere (0ᵇ = 0 for every b > 0, so it is 0), so
 * no NaN is computed there, even in a masked-out branch.
 */
const powerPartials = ({ args: [a, b], out }: RuleContext<'power'>): readonly [Linear, Linear] => [
  (t) => {
    const bothZero = mul(compare(a!, filled(a!, 0), '=='), compare(b!, filled(b!, 0), '=='))
    const base = select(bothZero, filled(a!, 1), a!)
    return mul(t, mul(b!, power(base, sub(b!, filled(b!, 1)))))
  },
  (t) => mul(t, mul(out, log(select(compare(a!, filled(a!, 0), '=='), filled(a!, 1), a!))))
]

const invertPermutation = (perm: readonly number[]): number[] => {
  const inv = new Array<number>(perm.length)
  perm.forEach((p, i) => (inv[p] = i))
  return inv
}

/** Shapes after `concat` puts each argument at an offset along `axis`. */
const concatOffsets = (args: readonly Tensor[], axis: number): number[] => {
  const offsets: number[] = []
  let acc = 0
  for (const a of args) {
    offsets.push(acc)
    acc += a.shape[axis]!
  }
  return offsets
}

const sliceAlong = (ct: Tensor, axis: number, start: number, size: number): Tensor => {
  const starts = ct.shape.map((_, i) => (i === axis ? start : 0))
  const sizes = ct.shape.map((d, i) => (i === axis ? size : d))
  return bind('slice', [ct], { starts, sizes })
}

// ---------------------------------------------------------------- the table

/**
 * Every primitive's forward computation, JVP rule and VJP rule.
 *
 * @example
 * ```ts
 * import { Prim } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.ok(Prim.names.includes('tanh'))
 * assert.strictEqual(Prim.rules.tanh.arity, 1)
 * ```
 */
export const rules: { readonly [P in Prim]: Rule<P> } = {
  // d(a + b) = da + db
  add: binary(() => [(t) => t, (t) => t])('add'),
  // d(a − b) = da − db
  sub: binary(() => [(t) => t, (t) => neg(t)])('sub'),
  // d(a·b) = b·da + a·db
  mul: binary(({ args: [a, b] }) => [(t) => mul(t, b!), (t) => mul(a!, t)])('mul'),
  // d(a/b) = da/b − (a/b)·db/b
  div: binary(({ args: [, b], out }) => [(t) => div(t, b!), (t) => neg(div(mul(t, out), b!))])('div'),
  // d max(a, b) = [a > b]·da + [a < b]·db; at a tie each side gets half (balanced subgradient)
  maximum: binary(({ args: [a, b] }) => {
    const tie = mul(filled(a!, 0.5), compare(a!, b!, '=='))
    return [(t) => mul(t, add(compare(a!, b!, '>'), tie)), (t) => mul(t, add(compare(a!, b!, '<'), tie))]
  })('maximum'),
  // d min(a, b) = [a < b]·da + [a > b]·db; at a tie each side gets half (balanced subgradient)
  minimum: binary(({ args: [a, b] }) => {
    const tie = mul(filled(a!, 0.5), compare(a!, b!, '=='))
    return [(t) => mul(t, add(compare(a!, b!, '<'), tie)), (t) => mul(t, add(compare(a!, b!, '>'), tie))]
  })('minimum'),
  // d stopGradient(x) = 0: the value passes through unchanged, no derivative does (ẏ = 0, x̄ = 0).
  // The zero is a constant tensor, never traced, so nested derivatives see a constant too.
  stopGradient: {
    constant: true,
    arity: 1,
    forward: ([x]) => ({ shape: x!.shape, buffer: val(x!) }),
    jvp: ({ args: [x] }) => [() => zerosOf(x!.shape, x!.dtype)],
    vjp: ({ args: [x] }) => [() => zerosOf(x!.shape, x!.dtype)]
  },
  // d(−x) = −dx
  neg: {
    arity: 1,
    forward: ([x]) => ({ shape: x!.shape, buffer: backend().unary('neg', val(x!), x!.dtype) }),
    jvp: () => [neg],
    vjp: () => [neg]
  },
  // d xᶜ = c·xᶜ⁻¹ dx   (c a constant)
  pow: unary<'pow'>(({ args: [x], params: { exponent } }) =>
    exponent === 0 ? filled(x!, 0) : mul(filled(x!, exponent), pow(x!, exponent - 1))
  )('pow'),
  // d aᵇ = b·aᵇ⁻¹ da + aᵇ·ln a db   (a tensor exponent b; the value is Math.pow's, so a < 0 with an
  // integer b is real). The db term needs a > 0: it is 0 at a = 0 (0ᵇ = 0 for every b > 0) and NaN
  // at a < 0, where only integer b give a real value, so aᵇ is not differentiable in b there. Each
  // term is computed only for an input that carries a tangent or needs a cotangent, so a constant
  // exponent never evaluates ln a.
  power: {
    arity: 2,
    forward: ([a, b]) => ({ shape: a!.shape, buffer: backend().zip(val(a!), val(b!), Math.pow, a!.dtype) }),
    jvp: (ctx) => powerPartials(ctx),
    vjp: (ctx) => powerPartials(ctx)
  },
  // d eˣ = eˣ dx
  exp: unary(({ out }) => out)('exp'),
  // d ln x = dx / x
  log: unary(({ args: [x] }) => div(filled(x!, 1), x!))('log'),
  // d sin x = cos x dx
  sin: unary(({ args: [x] }) => cos(x!))('sin'),
  // d cos x = −sin x dx
  cos: unary(({ args: [x] }) => neg(sin(x!)))('cos'),
  // d tanh x = (1 − tanh² x) dx
  tanh: unary(({ out }) => sub(filled(out, 1), mul(out, out)))('tanh'),
  // d σ(x) = σ(x)(1 − σ(x)) dx; forward uses e^x/(1+e^x) for x < 0 so it never overflows
  sigmoid: unary(({ out }) => mul(out, sub(filled(out, 1), out)))('sigmoid'),
  // d relu(x) = [x > 0] dx; at x = 0 the subgradient 0 is used
  relu: unary(({ args: [x] }) => compare(x!, sharedZerosLike(x!), '>'))('relu'),
  // d |x| = sign(x) dx; at x = 0 the subgradient 0 is used
  abs: unary(({ args: [x] }) => bind('sign', [x!], {}))('abs'),
  // d √x = dx / (2√x)
  sqrt: unary(({ out }) => div(filled(out, 0.5), out))('sqrt'),
  // d erf(x) = (2/√π)·e^(−x²) dx
  erf: unary(({ args: [x] }) => mul(filled(x!, 2 / SQRT_PI), exp(neg(mul(x!, x!)))))('erf'),
  // d ζ(x) = σ(x) dx, with ζ(x) = log(1 + eˣ) = max(x, 0) + log1p(e^(−|x|)) (no overflow)
  softplus: unary(({ args: [x] }) => sigmoid(x!))('softplus'),
  // d lse(x) = Σᵢ softmax(x)ᵢ dxᵢ, softmax(x) = e^(x − lse(x)); forward subtracts the max first
  logsumexp: {
    arity: 1,
    forward: ([x], { axes, keepdims }) => {
      const shape = Sh.reduceShape(x!.shape, axes, keepdims, 'logsumexp')
      return { shape, buffer: backend().logSumExp(val(x!), x!.shape, axes, x!.dtype) }
    },
    jvp: ({ args: [x], out, params: { axes, keepdims } }) => {
      const softmax = exp(sub(x!, unreduce(out, x!.shape, axes)))
      return [(t) => sum(mul(t, softmax), axes, keepdims)]
    },
    vjp: ({ args: [x], out, params: { axes } }) => {
      const softmax = exp(sub(x!, unreduce(out, x!.shape, axes)))
      return [(ct) => mul(unreduce(ct, x!.shape, axes), softmax)]
    }
  },
  // d Σx = Σ dx
  sum: {
    arity: 1,
    forward: reduceForward('sum'),
    jvp: ({ params: { axes, keepdims } }) => [(t) => sum(t, axes, keepdims)],
    vjp: ({ args: [x], params: { axes } }) => [(ct) => unreduce(ct, x!.shape, axes)]
  },
  // d mean(x) = mean(dx)
  mean: {
    arity: 1,
    forward: ([x], { axes, keepdims }) => {
      const n = axes.reduce((acc, a) => acc * x!.shape[a]!, 1)
      // summed in float64 where the backend can (the cpu backend), then divided
      const s = backend().reduce(val(x!), x!.shape, axes, 'sum', 'f64')
      return { shape: Sh.reduceShape(x!.shape, axes, keepdims, 'mean'), buffer: backend().map(s, (v) => v / n, x!.dtype) }
    },
    jvp: ({ params }) => [(t) => bind('mean', [t], params)],
    vjp: ({ args: [x], params: { axes } }) => {
      const n = axes.reduce((acc, a) => acc * x!.shape[a]!, 1)
      return [(ct) => div(unreduce(ct, x!.shape, axes), filled(x!, n))]
    }
  },
  // d max(x) = Σᵢ wᵢ dxᵢ with w = 1/(number of maxima) on the maxima, 0 elsewhere
  max: extremum('max'),
  // d min(x) = Σᵢ wᵢ dxᵢ with w = 1/(number of minima) on the minima, 0 elsewhere
  min: extremum('min'),
  // d(op(A)·op(B)) = op(dA)·op(B) + op(A)·op(dB); Ā = Ȳ·op(B)ᵀ, B̄ = op(A)ᵀ·Ȳ (transposed back when flagged)
  matmul: {
    arity: 2,
    forward: ([a, b], { transposeA, transposeB }) => ({
      shape: Sh.matmulShape(a!.shape, b!.shape, transposeA, transposeB),
      buffer: backend().matmul(val(a!), a!.shape, val(b!), b!.shape, transposeA, transposeB, a!.dtype)
    }),
    jvp: ({ args: [a, b], params: { transposeA, transposeB } }) => [
      (t) => matmul(t, b!, transposeA, transposeB),
      (t) => matmul(a!, t, transposeA, transposeB)
    ],
    vjp: ({ args: [a, b], params: { transposeA, transposeB } }) => [
      (ct) => (transposeA ? matmul(b!, ct, transposeB, true) : matmul(ct, b!, false, !transposeB)),
      (ct) => (transposeB ? matmul(ct, a!, true, transposeA) : matmul(a!, ct, !transposeA, false))
    ]
  },
  // the same rule as matmul, for each batch index
  batchMatmul: {
    arity: 2,
    forward: ([a, b], { transposeA, transposeB }) => ({
      shape: Sh.batchMatmulShape(a!.shape, b!.shape, transposeA, transposeB),
      buffer: backend().batchMatmul(val(a!), a!.shape, val(b!), b!.shape, transposeA, transposeB, a!.dtype)
    }),
    jvp: ({ args: [a, b], params: { transposeA, transposeB } }) => [
      (t) => batchMatmul(t, b!, transposeA, transposeB),
      (t) => batchMatmul(a!, t, transposeA, transposeB)
    ],
    vjp: ({ args: [a, b], params: { transposeA, transposeB } }) => [
      (ct) => (transposeA ? batchMatmul(b!, ct, transposeB, true) : batchMatmul(ct, b!, false, !transposeB)),
      (ct) => (transposeB ? batchMatmul(ct, a!, true, transposeA) : batchMatmul(a!, ct, !transposeA, false))
    ]
  },
  // broadcasting copies values, so its transpose sums the copies: x̄ = Σ over the stretched axes of ȳ
  broadcast: {
    arity: 1,
    forward: ([x], { shape }) => ({ shape, buffer: backend().broadcastTo(val(x!), x!.shape, shape, x!.dtype) }),
    jvp: ({ params: { shape } }) => [(t) => broadcast(t, shape)],
    vjp: ({ args: [x], params: { shape } }) => {
      const pad = shape.length - x!.shape.length
      const axes = shape.flatMap((d, i) => (i < pad || (x!.shape[i - pad] === 1 && d !== 1) ? [i] : []))
      return [(ct) => reshape(axes.length > 0 ? sum(ct, axes, false) : ct, x!.shape)]
    }
  },
  // reshaping is linear and invertible: dy = reshape(dx), x̄ = reshape(ȳ, shape(x))
  reshape: {
    arity: 1,
    forward: ([x], { shape }) => ({ shape, buffer: val(x!) }),
    jvp: ({ params: { shape } }) => [(t) => reshape(t, shape)],
    vjp: ({ args: [x] }) => [(ct) => reshape(ct, x!.shape)]
  },
  // a permutation of axes; its transpose is the inverse permutation
  transpose: {
    arity: 1,
    forward: ([x], { perm }) => ({ shape: Sh.transposeShape(x!.shape, perm), buffer: backend().transpose(val(x!), x!.shape, perm, x!.dtype) }),
    jvp: ({ params: { perm } }) => [(t) => bind('transpose', [t], { perm })],
    vjp: ({ params: { perm } }) => [(ct) => bind('transpose', [ct], { perm: invertPermutation(perm) })]
  },
  // d concat(x₁…xₙ) = concat(dx₁…dxₙ); x̄ᵢ = the slice of ȳ where xᵢ sits
  concat: {
    arity: 'many',
    forward: (xs, { axis }) => {
      const shape = xs[0]!.shape.map((d, i) => (i === axis ? xs.reduce((acc, x) => acc + x.shape[axis]!, 0) : d))
      return { shape, buffer: backend().concat(xs.map(val), xs.map((x) => x.shape), axis, xs[0]!.dtype) }
    },
    jvp: ({ args, params: { axis } }) => {
      const shapes = args.map((a) => a.shape)
      return args.map((_, i) => (t: Tensor) =>
        bind('concat', shapes.map((s, j) => (j === i ? t : zerosOf(s, t.dtype))), { axis })
      )
    },
    vjp: ({ args, params: { axis } }) => {
      const offsets = concatOffsets(args, axis)
      return args.map((a, i) => (ct: Tensor) => sliceAlong(ct, axis, offsets[i]!, a.shape[axis]!))
    }
  },
  // slicing selects; its transpose pads the cotangent back with zeros
  slice: {
    arity: 1,
    forward: ([x], { starts, sizes }) => ({ shape: sizes, buffer: backend().slice(val(x!), x!.shape, starts, sizes, x!.dtype) }),
    jvp: ({ params }) => [(t) => bind('slice', [t], params)],
    vjp: ({ args: [x], params: { starts } }) => [(ct) => bind('pad', [ct], { starts, shape: x!.shape })]
  },
  // padding with a constant c: d pad(x, c) = pad(dx, 0) (c is not differentiated), x̄ = slice(ȳ);
  // with c = 0 it is the transpose of slice
  pad: {
    arity: 1,
    forward: ([x], { starts, shape, value }) => ({ shape, buffer: backend().pad(val(x!), x!.shape, starts, shape, value ?? 0, x!.dtype) }),
    jvp: ({ params: { starts, shape } }) => [(t) => bind('pad', [t], { starts, shape })],
    vjp: ({ args: [x], params: { starts } }) => [(ct) => bind('slice', [ct], { starts, sizes: x!.shape })]
  },
  // select(a, b, m) = m ? a : b, so d = m ? da : db; the mask m is data: its tangent and cotangent are zero
  select: {
    arity: 3,
    forward: ([a, b, mask]) => ({ shape: a!.shape, buffer: backend().select(val(mask!), val(a!), val(b!), a!.dtype) }),
    jvp: ({ args: [, , mask], out }) => [
      (t) => select(mask!, t, zerosOf(t.shape, t.dtype)),
      (t) => select(mask!, zerosOf(t.shape, t.dtype), t),
      () => zerosOf(out.shape, out.dtype)
    ],
    vjp: ({ args: [, , mask] }) => [
      (ct) => select(mask!, ct, zerosOf(ct.shape, ct.dtype)),
      (ct) => select(mask!, zerosOf(ct.shape, ct.dtype), ct),
      () => zerosOf(mask!.shape, mask!.dtype)
    ]
  },
  // compare(a, b) = [a ⋈ b] is piecewise constant: d = 0 (a mask, as relu's and the ties of max use)
  compare: {
    constant: true,
    arity: 2,
    forward: ([a, b], { relation }) => ({ shape: a!.shape, buffer: backend().compare(relation, val(a!), val(b!), a!.dtype) }),
    jvp: ({ out }) => [() => zerosOf(out.shape, out.dtype), () => zerosOf(out.shape, out.dtype)],
    vjp: ({ args: [a, b] }) => [() => zerosOf(a!.shape, a!.dtype), () => zerosOf(b!.shape, b!.dtype)]
  },
  // sign(x) is piecewise constant: d sign(x) = 0 (|x|'s derivative, with sign(0) = 0)
  sign: {
    constant: true,
    arity: 1,
    forward: ([x]) => ({ shape: x!.shape, buffer: backend().map(val(x!), Math.sign, x!.dtype) }),
    jvp: ({ out }) => [() => zerosOf(out.shape, out.dtype)],
    vjp: ({ args: [x] }) => [() => zerosOf(x!.shape, x!.dtype)]
  },
  // y = x ⋆ w + b is bilinear in (x, w) and affine in b: dy = dx ⋆ w + x ⋆ dw + db (db stretched over
  // the images and pixels); x̄ = conv2dInputGrad(ȳ, w) (a transposed convolution), w̄ = conv2dFilterGrad(x, ȳ)
  // (the correlation of x with ȳ), b̄ = Σ ȳ over images and pixels
  conv2d: {
    arity: 'many',
    forward: (args, g) => {
      // two or three arguments: the bias is optional
      if (args.length !== 2 && args.length !== 3) throw new ArgumentError(`conv2d: expected 2 or 3 tensor arguments (x, w and a bias), got ${args.length}`)
      const [x, w, b] = args
      const shape = conv2dShape(x!.shape, w!.shape, g)
      if (b !== undefined && !Sh.equals(b.shape, [w!.shape[0]!])) throw new ShapeError(`conv2d: the bias has shape ${Sh.show(b.shape)}, expected [${w!.shape[0]}] (one per filter)`)
      return { shape, buffer: backend().conv2d(val(x!), x!.shape, val(w!), w!.shape, geometryOf(g), x!.dtype, b === undefined ? undefined : val(b)) }
    },
    jvp: ({ args: [x, w], out, params }) => [
      (t) => conv2d(t, w!, params),
      (t) => conv2d(x!, t, params),
      (t) => broadcast(reshape(t, [1, t.shape[0]!, 1, 1]), out.shape)
    ],
    vjp: ({ args: [x, w], params }) => [
      (ct) => conv2dInputGrad(ct, w!, params, spatial(x!)),
      (ct) => conv2dFilterGrad(x!, ct, params, spatial(w!)),
      // over the pixels, then the images: each sum is over one run of axes (the reduction's fast path)
      (ct) => sum(sum(ct, [2, 3], false), [0], false)
    ]
  },
  // x̄ = Tᵀ_w(c) is bilinear in (c, w): d = Tᵀ_w(dc) + Tᵀ_dw(c); transposed, c̄ = conv2d(ȳ, w) and, as
  // ⟨ȳ, Tᵀ_w c⟩ = ⟨ȳ ⋆ w, c⟩, w̄ = conv2dFilterGrad(ȳ, c)
  conv2dInputGrad: {
    arity: 2,
    forward: ([c, w], p) => ({
      shape: [c!.shape[0]!, w!.shape[1]!, ...p.inputSize],
      buffer: backend().conv2dInputGrad(val(c!), c!.shape, val(w!), w!.shape, geometryOf(p), p.inputSize, c!.dtype)
    }),
    jvp: ({ args: [c, w], params }) => [(t) => conv2dInputGrad(t, w!, params, params.inputSize), (t) => conv2dInputGrad(c!, t, params, params.inputSize)],
    vjp: ({ args: [c, w], params }) => [(ct) => conv2d(ct, w!, params), (ct) => conv2dFilterGrad(ct, c!, params, spatial(w!))]
  },
  // w̄ = F(x, c) is bilinear: d = F(dx, c) + F(x, dc); transposed, as ⟨ȳ, F(x, c)⟩ = ⟨x ⋆ ȳ, c⟩,
  // x̄ = conv2dInputGrad(c, ȳ) and c̄ = conv2d(x, ȳ)
  conv2dFilterGrad: {
    arity: 2,
    forward: ([x, c], p) => ({
      shape: [c!.shape[1]!, x!.shape[1]!, ...p.kernel],
      buffer: backend().conv2dFilterGrad(val(x!), x!.shape, val(c!), c!.shape, geometryOf(p), p.kernel, x!.dtype)
    }),
    jvp: ({ args: [x, c], params }) => [(t) => conv2dFilterGrad(t, c!, params, params.kernel), (t) => conv2dFilterGrad(x!, t, params, params.kernel)],
    vjp: ({ args: [x, c], params }) => [(ct) => conv2dInputGrad(c!, ct, params, spatial(x!)), (ct) => conv2d(x!, ct, params)]
  },
  // d maxPool(x) = Σ_taps ω·dx per window, ω = 1/(number of ties) on the window's maxima, else 0 (the
  // max reduction's subgradient): maxPool2dGather(dx, x, y), whose transpose maxPool2dSpread sends ȳ back
  maxPool2d: {
    arity: 1,
    forward: ([x], g) => ({ shape: pool2dShape(x!.shape, g, 'maxPool2d'), buffer: backend().maxPool2d(val(x!), x!.shape, poolOf(g), x!.dtype) }),
    jvp: ({ args: [x], out, params }) => [(t) => maxPool2dGather(t, x!, out, params)],
    vjp: ({ args: [x], out, params }) => [(ct) => maxPool2dSpread(ct, x!, out, params)]
  },
  // linear: d avgPool(x) = avgPool(dx); x̄ = its transpose applied to ȳ
  avgPool2d: {
    arity: 1,
    forward: ([x], p) => ({ shape: pool2dShape(x!.shape, p, 'avgPool2d'), buffer: backend().avgPool2d(val(x!), x!.shape, poolOf(p), p.weights, x!.dtype) }),
    jvp: ({ params }) => [(t) => windowSum(t, params, params.weights)],
    vjp: ({ args: [x], params }) => [(ct) => windowSpread(ct, params, params.weights, spatial(x!))]
  },
  // linear, the transpose of avgPool2d: d = avgPool2dTranspose(dc); c̄ = avgPool2d(ȳ)
  avgPool2dTranspose: {
    arity: 1,
    forward: ([c], p) => ({
      shape: [c!.shape[0]!, c!.shape[1]!, ...p.inputSize],
      buffer: backend().avgPool2dTranspose(val(c!), c!.shape, poolOf(p), p.weights, p.inputSize, c!.dtype)
    }),
    jvp: ({ params }) => [(t) => windowSpread(t, params, params.weights, params.inputSize)],
    vjp: ({ params }) => [(ct) => windowSum(ct, params, params.weights)]
  },
  // G(t, x, m) is linear in t and piecewise constant in (x, m) (ω changes only where ties appear):
  // d = G(dt, x, m); t̄ = maxPool2dSpread(ȳ, x, m), its transpose; x and m get zero
  maxPool2dGather: {
    arity: 3,
    forward: ([t, x, m], g) => {
      checkMaxima('maxPool2dGather', t!, x!, m!, g)
      return { shape: m!.shape, buffer: backend().maxPool2dGather(val(t!), val(x!), val(m!), x!.shape, poolOf(g), t!.dtype) }
    },
    jvp: ({ args: [, x, m], out, params }) => [(t) => maxPool2dGather(t, x!, m!, params), () => zerosOf(out.shape, out.dtype), () => zerosOf(out.shape, out.dtype)],
    vjp: ({ args: [, x, m], params }) => [(ct) => maxPool2dSpread(ct, x!, m!, params), () => zerosOf(x!.shape, x!.dtype), () => zerosOf(m!.shape, m!.dtype)]
  },
  // S(c, x, m) = Gᵀ(c) is linear in c, piecewise constant in (x, m): d = S(dc, x, m); c̄ = G(ȳ, x, m)
  maxPool2dSpread: {
    arity: 3,
    forward: ([c, x, m], g) => {
      checkMaxima('maxPool2dSpread', c!, x!, m!, g)
      return { shape: x!.shape, buffer: backend().maxPool2dSpread(val(c!), val(x!), val(m!), x!.shape, poolOf(g), c!.dtype) }
    },
    jvp: ({ args: [, x, m], out, params }) => [(t) => maxPool2dSpread(t, x!, m!, params), () => zerosOf(out.shape, out.dtype), () => zerosOf(out.shape, out.dtype)],
    vjp: ({ args: [, x, m], params }) => [(ct) => maxPool2dGather(ct, x!, m!, params), () => zerosOf(x!.shape, x!.dtype), () => zerosOf(m!.shape, m!.dtype)]
  }
}

/**
 * The names of all primitives, in table order.
 *
 * @example
 * ```ts
 * import { Prim } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.ok(Prim.names.length >= 30)
 * ```
 */
export const names: readonly Prim[] = Object.keys(rules) as Prim[]

// ---------------------------------------------------------------- primitives defined by user code

/** Rules added by `definePrimitive` (lamina's `ad/custom`), by name. */
const userRules = new Map<string, Rule<Prim>>()

/**
 * Whether `name` is one of lamina's built-in primitives (an entry of {@link rules}).
 *
 * @example
 * ```ts
 * import { Prim } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.ok(Prim.isBuiltin('tanh'))
 * assert.ok(!Prim.isBuiltin('swish'))
 * ```
 */
export const isBuiltin = (name: string): name is Prim => Object.prototype.hasOwnProperty.call(rules, name)

/**
 * Whether `name` is a primitive that user code added with `definePrimitive` (or that
 * `customVjp`/`customJvp` made).
 *
 * @example
 * ```ts
 * import { Prim } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.ok(!Prim.isUserPrimitive('tanh'))
 * ```
 */
export const isUserPrimitive = (name: string): boolean => userRules.has(name)

/**
 * The rule of any primitive, built in or defined by user code: what every interpreter reads.
 *
 * @example
 * ```ts
 * import { Prim } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Prim.ruleOf('tanh'), Prim.rules.tanh)
 * assert.throws(() => Prim.ruleOf('no-such-primitive'), /unknown primitive 'no-such-primitive'/)
 * ```
 */
export const ruleOf = (name: string): Rule<Prim> => {
  const rule = isBuiltin(name) ? (rules[name] as Rule<Prim>) : userRules.get(name)
  if (rule === undefined) throw new ArgumentError(`unknown primitive '${name}': it is neither built in nor defined with definePrimitive`)
  return rule
}

/** @internal adds a user primitive's rule to the table (`definePrimitive` validates it first) */
export const registerRule = (name: string, rule: Rule<Prim>): void => {
  if (isBuiltin(name) || userRules.has(name)) throw new ArgumentError(`definePrimitive: a primitive named '${name}' already exists; choose another name`)
  userRules.set(name, rule)
}

/** @internal guards a primitive's argument count */
export const checkArity = (prim: Prim, n: number): void => {
  const arity = ruleOf(prim).arity
  if (arity !== 'many' && arity !== n) throw new ArgumentError(`${prim}: expected ${arity} tensor arguments, got ${n}`)
}

export type { Tensor }
