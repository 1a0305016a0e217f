/**
 * How the trace writes each primitive, in two total tables beside the rule table in `prim.ts`
 * (keyed by `Prim`, so a primitive without its notation is a compile error):
 * - {@link notations}: its row formula (`ln v₋₁`);
 * - {@link partials}: its partial derivative with respect to each operand (`1/v₋₁`), or, where
 *   there is no closed form per element worth a cell, an explicit "shown as `∂vᵢ/∂vⱼ`" with the
 *   reason. Each partial is the derivative that the primitive's rule in `prim.ts` implements.
 *
 * A user's primitive (`definePrimitive`) is in neither table: it is written as its name applied
 * to its operands, and its partials as `∂vᵢ/∂vⱼ` ({@link USER_PRIMITIVE_PARTIAL}).
 *
 * @module
 */
import { DifferentiationError } from '../../error.js'
import { isBuiltin } from '../../prim.js'
import type { MatMulParams, Prim, PrimParams, ReduceParams } from '../../prim.js'
import type { Shape } from '../../shape.js'
import type { Tensor } from '../../tensor.js'
import { apply, bin, call, label, num, showShape } from './formula.js'
import type { Formula } from './formula.js'

/** A constant operand: a number when all its elements are equal (a broadcast plain number). */
export const constantFormula = (c: Tensor): Formula => {
  const data = c.data
  const first = data[0]
  if (first !== undefined && Array.from(data).every((v) => Object.is(v, first) || v === first)) return { kind: 'number', value: first }
  return { kind: 'constant', value: c }
}

const axesLabel = ({ axes, keepdims }: ReduceParams): string =>
  `${axes.length === 1 ? 'axis' : 'axes'} ${axes.join(',')}${keepdims ? ', keepdims' : ''}`

/** A pooling window as `2x2` (with `stride 1` for a stride other than the window). */
const windowLabel = ({ kernel, stride }: PrimParams['maxPool2d']): string =>
  `${kernel.join('x')}${stride[0] === kernel[0] && stride[1] === kernel[1] ? '' : `, stride ${stride[0] === stride[1] ? stride[0] : stride.join('x')}`}`

/** Whether a reduction reduces every axis (written `Σ v`, `mean(v)`), given the input's rank. */
const reducesAll = ({ axes, keepdims }: ReduceParams, rank: number): boolean => !keepdims && axes.length === rank

const matmulOperands = ([a, b]: readonly Formula[], { transposeA, transposeB }: MatMulParams): [Formula, Formula] => [
  transposeA ? { kind: 'transpose', arg: a! } : a!,
  transposeB ? { kind: 'transpose', arg: b! } : b!
]

const transposed = (f: Formula): Formula => (f.kind === 'transpose' ? f.arg : { kind: 'transpose', arg: f })

// ---------------------------------------------------------------- row formulas

/** How a primitive's row is written, from its operands' formulas, its parameters and its operands' shapes. */
export type Notation<P extends Prim> = (ops: readonly Formula[], params: PrimParams[P], inputShapes: readonly Shape[]) => Formula

/** A reduction: `Σ v` / `mean(v)` over every axis, else `sum(v, axis 1)`. */
const reduction =
  <P extends 'sum' | 'mean' | 'max' | 'min' | 'logsumexp'>(name: P): Notation<P> =>
  ([a], p, inputShapes) => {
    if (reducesAll(p, inputShapes[0]?.length ?? 0)) return name === 'sum' ? apply('Σ', a!) : call(name, a!)
    return call(name, a!, label(axesLabel(p)))
  }

const matrixProduct = <P extends 'matmul' | 'batchMatmul'>(): Notation<P> => (ops, p) => {
  const [l, r] = matmulOperands(ops, p)
  return bin('·', l, r)
}

/** The row formula of every built-in primitive. */
export const notations: { readonly [P in Prim]: Notation<P> } = {
  add: ([a, b]) => bin('+', a!, b!),
  sub: ([a, b]) => bin('−', a!, b!),
  mul: ([a, b]) => bin('×', a!, b!),
  div: ([a, b]) => bin('/', a!, b!),
  neg: ([a]) => ({ kind: 'neg', arg: a! }),
  stopGradient: ([a]) => call('stopGradient', a!),
  pow: ([a], { exponent }) => ({ kind: 'pow', base: a!, exponent }),
  power: ([a, b]) => ({ kind: 'power', base: a!, exponent: b! }),
  exp: ([a]) => apply('exp', a!),
  log: ([a]) => apply('ln', a!),
  sin: ([a]) => apply('sin', a!),
  cos: ([a]) => apply('cos', a!),
  tanh: ([a]) => apply('tanh', a!),
  erf: ([a]) => apply('erf', a!),
  sigmoid: ([a]) => call('σ', a!),
  relu: ([a]) => call('relu', a!),
  softplus: ([a]) => call('softplus', a!),
  abs: ([a]) => ({ kind: 'abs', arg: a! }),
  sqrt: ([a]) => ({ kind: 'sqrt', arg: a! }),
  maximum: ([a, b]) => call('max', a!, b!),
  minimum: ([a, b]) => call('min', a!, b!),
  sum: reduction('sum'),
  mean: reduction('mean'),
  max: reduction('max'),
  min: reduction('min'),
  logsumexp: reduction('logsumexp'),
  matmul: matrixProduct(),
  batchMatmul: matrixProduct(),
  broadcast: ([a], { shape }) => call('broadcast', a!, label(showShape(shape))),
  reshape: ([a], { shape }) => call('reshape', a!, label(showShape(shape))),
  transpose: ([a], { perm }) => (perm.length === 2 && perm[0] === 1 && perm[1] === 0 ? { kind: 'transpose', arg: a! } : call('transpose', a!, label(showShape(perm)))),
  concat: (ops, { axis }) => call('concat', ...ops, label(`axis ${axis}`)),
  slice: ([a], { starts, sizes }) => call('slice', a!, label(starts.map((s, i) => `${s}:${s + sizes[i]!}`).join(', '))),
  pad: ([a], { shape }) => call('pad', a!, label(showShape(shape))),
  select: ([a, b, mask]) => call('select', mask!, a!, b!),
  compare: ([a, b], { relation }) => ({ kind: 'indicator', left: a!, rel: relation, right: b! }),
  sign: ([a]) => call('sign', a!),
  conv2d: (ops) => call('conv', ...ops), // the bias, when given, is the third operand
  conv2dInputGrad: ([a, b]) => call('convInputGrad', a!, b!), // the transposed convolution: the input's gradient
  conv2dFilterGrad: ([a, b]) => call('convFilterGrad', a!, b!), // the correlation of the input with the cotangent: the filter's gradient
  maxPool2d: ([a], p) => call('maxPool', a!, label(windowLabel(p))),
  avgPool2d: ([a], p) => call(p.weights === undefined ? 'avgPool' : 'windowSum', a!, label(windowLabel(p))),
  avgPool2dTranspose: ([a], p) => call(p.weights === undefined ? 'avgPoolTranspose' : 'windowSpread', a!, label(windowLabel(p))),
  // max pooling's derivatives: the linear argument first, then the pooled input and its maxima (data)
  maxPool2dGather: ([t, x, m], p) => call('maxPoolGather', t!, x!, m!, label(windowLabel(p))),
  maxPool2dSpread: ([c, x, m], p) => call('maxPoolSpread', c!, x!, m!, label(windowLabel(p)))
}

/** A user's primitive (`definePrimitive`): its name applied to its operands. */
const userNotation = (prim: string, ops: readonly Formula[]): Formula => call(prim, ...ops)

/** A built-in primitive's table entry; a name the rule table has but this table lacks (possible only from JavaScript) is an error, not a guess. */
const entryOf = <T>(table: object, what: string, prim: Prim): T => {
  if (!Object.prototype.hasOwnProperty.call(table, prim)) throw new DifferentiationError(`trace: the built-in primitive '${prim}' has no ${what} entry in src/ad/trace/notation.ts`)
  return (table as Readonly<Record<Prim, T>>)[prim]
}

/** The row formula `op(operands)` of a primitive: the table's for a built-in one, its name applied to its operands for a user's. */
export const expressionOf = (prim: string, ops: readonly Formula[], params: unknown, inputShapes: readonly Shape[]): Formula =>
  isBuiltin(prim) ? entryOf<Notation<Prim>>(notations, 'notation', prim)(ops, params as never, inputShapes) : userNotation(prim, ops)

// ---------------------------------------------------------------- partial derivatives

/** `∂v/∂(operand i)` as a formula in the operands. */
export type PartialFormula<P extends Prim> = (ops: readonly Formula[], i: number, params: PrimParams[P], inputShapes: readonly Shape[]) => Formula

/** A backward step's contribution written in a primitive's own form (`v̄₁ · v₋₁ᵀ`), for operand `i` of row `source`. */
export type ContributionFormula<P extends Prim> = (ops: readonly Formula[], i: number, params: PrimParams[P], source: number) => Formula

/**
 * What the trace shows as a primitive's partial derivatives: a closed form per element, or
 * `∂vᵢ/∂vⱼ` with the reason there is none worth a cell (a Jacobian that moves, sums or selects
 * elements; a product with another matrix). A primitive may also write its steps'
 * contributions in its own form (the matrix product's `Ā = Ȳ·Bᵀ`).
 */
export type PartialNotation<P extends Prim> =
  | { readonly kind: 'closed form'; readonly partial: PartialFormula<P> }
  | { readonly kind: 'shown as ∂'; readonly reason: string; readonly contribution?: ContributionFormula<P> }

const closed = <P extends Prim>(partial: PartialFormula<P>): PartialNotation<P> => ({ kind: 'closed form', partial })
const shownAsPartial = <P extends Prim>(reason: string, contribution?: ContributionFormula<P>): PartialNotation<P> =>
  contribution === undefined ? { kind: 'shown as ∂', reason } : { kind: 'shown as ∂', reason, contribution }

/** Ā = Ȳ·Bᵀ, B̄ = Aᵀ·Ȳ (for y = A·B), with the product's transposes folded in. */
const matmulContribution: ContributionFormula<'matmul'> = (ops, i, params, source) => {
  const bar: Formula = { kind: 'bar', index: source }
  const [opA, opB] = matmulOperands(ops, params)
  if (i === 0) return params.transposeA ? bin('·', opB, transposed(bar)) : bin('·', bar, transposed(opB))
  return params.transposeB ? bin('·', transposed(bar), opA) : bin('·', transposed(opA), bar)
}

const MOVES = 'it moves elements without changing them: its Jacobian is a 0/1 matrix, and its pullback moves the adjoint back'
const MAXIMA_WEIGHTS = 'linear in its first operand with the weights 1/(ties) at each window’s maxima of the pooled input, 0 elsewhere; the partials in the pooled input and its maxima are 0 (the weights are piecewise constant)'
const CONVOLUTION = 'each output element sums a window of products of the two operands: the partial with respect to one is the other’s window (1 for a bias), and the pullback is a convolution'

/** The partial derivatives of every built-in primitive. Each line is the derivative the primitive's rule in `prim.ts` implements. */
export const partials: { readonly [P in Prim]: PartialNotation<P> } = {
  add: closed(() => num(1)), // ∂(a + b)/∂a = ∂(a + b)/∂b = 1
  sub: closed((_, i) => num(i === 0 ? 1 : -1)), // ∂(a − b)/∂a = 1, ∂(a − b)/∂b = −1
  mul: closed(([a, b], i) => (i === 0 ? b! : a!)), // ∂(a·b)/∂a = b, ∂(a·b)/∂b = a
  // ∂(a/b)/∂a = 1/b, ∂(a/b)/∂b = −a/b²
  div: closed(([a, b], i) => (i === 0 ? bin('/', num(1), b!) : { kind: 'neg', arg: bin('/', a!, { kind: 'pow', base: b!, exponent: 2 }) })),
  neg: closed(() => num(-1)),
  stopGradient: closed(() => num(0)), // no derivative passes stopGradient
  compare: closed(() => num(0)), // a mask is piecewise constant
  sign: closed(() => num(0)),
  pow: closed(([a], _, { exponent: c }) => { // ∂xᶜ/∂x = c·xᶜ⁻¹
    if (c === 0) return num(0)
    if (c === 1) return num(1)
    return bin('×', num(c), c === 2 ? a! : { kind: 'pow', base: a!, exponent: c - 1 })
  }),
  // ∂aᵇ/∂a = b·aᵇ⁻¹, ∂aᵇ/∂b = aᵇ·ln a (for a > 0)
  power: closed(([a, b], i) =>
    i === 0 ? bin('×', b!, { kind: 'power', base: a!, exponent: bin('−', b!, num(1)) }) : bin('×', { kind: 'power', base: a!, exponent: b! }, apply('ln', a!))
  ),
  exp: closed(([a]) => apply('exp', a!)), // ∂eˣ/∂x = eˣ
  log: closed(([a]) => bin('/', num(1), a!)), // ∂ln x/∂x = 1/x
  sin: closed(([a]) => apply('cos', a!)), // ∂sin x/∂x = cos x
  cos: closed(([a]) => ({ kind: 'neg', arg: apply('sin', a!) })), // ∂cos x/∂x = −sin x
  tanh: closed(([a]) => bin('−', num(1), apply('tanh', a!, 2))), // ∂tanh x/∂x = 1 − tanh² x
  sigmoid: closed(([a]) => bin('×', call('σ', a!), bin('−', num(1), call('σ', a!)))), // σ'(x) = σ(x)(1 − σ(x))
  relu: closed(([a]) => ({ kind: 'indicator', left: a!, rel: '>', right: num(0) })), // relu'(x) = [x > 0]
  softplus: closed(([a]) => call('σ', a!)), // ζ'(x) = σ(x)
  abs: closed(([a]) => call('sign', a!)), // |x|' = sign x
  sqrt: closed(([a]) => bin('/', num(1), bin('×', num(2), { kind: 'sqrt', arg: a! }))), // (√x)' = 1/(2√x)
  // erf'(x) = (2/√π) e^(−x²)
  erf: closed(([a]) =>
    bin('×', bin('/', num(2), { kind: 'sqrt', arg: { kind: 'symbol', text: 'π', latex: '\\pi' } }), apply('exp', { kind: 'neg', arg: { kind: 'pow', base: a!, exponent: 2 } }))
  ),
  // ties share the gradient equally
  maximum: closed(([a, b], i) => ({ kind: 'indicator', left: a!, rel: i === 0 ? '>' : '<', right: b! })),
  minimum: closed(([a, b], i) => ({ kind: 'indicator', left: a!, rel: i === 0 ? '<' : '>', right: b! })),
  sum: closed(() => num(1)), // ∂(Σⱼ xⱼ)/∂xₖ = 1
  // ∂ mean(x)/∂xₖ = 1/n
  mean: closed((_, __, { axes }, inputShapes) => bin('/', num(1), num(axes.reduce((acc, ax) => acc * (inputShapes[0]?.[ax] ?? 1), 1)))),
  max: shownAsPartial('the partial is 1 at the maximal elements (shared among ties) and 0 elsewhere: an indicator of the whole reduced slice, not of one element'),
  min: shownAsPartial('the partial is 1 at the minimal elements (shared among ties) and 0 elsewhere: an indicator of the whole reduced slice, not of one element'),
  logsumexp: shownAsPartial('the partial is softmax of the whole reduced slice, exp(xₖ − logsumexp x): each element’s depends on every other'),
  matmul: shownAsPartial('the Jacobian of a matrix product is the other factor laid out per output element; the step is written as the product with it (Ā = Ȳ·Bᵀ, B̄ = Aᵀ·Ȳ)', matmulContribution),
  batchMatmul: shownAsPartial('the Jacobian of a batched matrix product is the other factor laid out per output element and batch'),
  broadcast: shownAsPartial('a copy of each element to many places: its pullback sums the adjoint over the broadcast axes'),
  reshape: shownAsPartial(MOVES),
  transpose: shownAsPartial(MOVES),
  concat: shownAsPartial(MOVES),
  slice: shownAsPartial(MOVES),
  pad: shownAsPartial(MOVES),
  select: shownAsPartial('the partial is 1 where the mask chooses this operand and 0 elsewhere; the mask is data, not a formula of the operands'),
  conv2d: shownAsPartial(CONVOLUTION),
  conv2dInputGrad: shownAsPartial(CONVOLUTION),
  conv2dFilterGrad: shownAsPartial(CONVOLUTION),
  maxPool2d: shownAsPartial('the partial is 1 at each window’s maximal element and 0 elsewhere: an indicator per window, not a formula per element'),
  avgPool2d: shownAsPartial('each output element is a weighted sum over its window: the Jacobian holds the window weights, and the pullback spreads the adjoint back over the windows'),
  avgPool2dTranspose: shownAsPartial('the transpose of a window sum: the Jacobian holds the window weights, and the pullback is the window sum'),
  maxPool2dGather: shownAsPartial(MAXIMA_WEIGHTS),
  maxPool2dSpread: shownAsPartial(MAXIMA_WEIGHTS)
}

/** The partials of a user's primitive (`definePrimitive`): lamina has its rules, not a formula for them. */
export const USER_PRIMITIVE_PARTIAL: PartialNotation<Prim> = shownAsPartial('a primitive defined with definePrimitive: lamina has its rules, not a formula for its partials')

/** What the trace shows as a primitive's partials: the table's entry for a built-in one, {@link USER_PRIMITIVE_PARTIAL} for a user's. */
export const partialNotationOf = (prim: string): PartialNotation<Prim> =>
  isBuiltin(prim) ? entryOf<PartialNotation<Prim>>(partials, 'partial', prim) : USER_PRIMITIVE_PARTIAL

/**
 * `∂v/∂operand_i` where the primitive has a closed form; `undefined` where its entry says it is
 * shown as `∂vᵢ/∂vⱼ` (the caller writes that form, which needs the rows' indices).
 */
export const partialOf = (prim: string, ops: readonly Formula[], i: number, params: unknown, inputShapes: readonly Shape[]): Formula | undefined => {
  const entry = partialNotationOf(prim)
  return entry.kind === 'closed form' ? entry.partial(ops, i, params as never, inputShapes) : undefined
}

/**
 * How one step's contribution is computed: `v̄ₛ × ∂vₛ/∂vₜ` written with the partial
 * (`v̄₁ / v₋₁` when the partial is `1/v₋₁`), or the primitive's own form where its entry gives
 * one (the matrix product's: Ā = Ȳ·Bᵀ, B̄ = Aᵀ·Ȳ for y = A·B).
 */
export const contributionOf = (prim: string, ops: readonly Formula[], i: number, params: unknown, source: number, partial: Formula): Formula => {
  const entry = partialNotationOf(prim)
  if (entry.kind === 'shown as ∂' && entry.contribution !== undefined) return entry.contribution(ops, i, params as never, source)
  const bar: Formula = { kind: 'bar', index: source }
  if (partial.kind === 'binary' && partial.op === '/' && partial.left.kind === 'number' && partial.left.value === 1) return bin('/', bar, partial.right)
  return bin('×', bar, partial)
}
