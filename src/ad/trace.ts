/**
 * The teaching view of differentiation: the forward primal trace and the reverse adjoint
 * trace of an expression (seed 004's tables for `y = ln(x1) + x1·x2 − sin(x2)`), as plain
 * data and as tables in text, Markdown and LaTeX.
 *
 * {@link trace} runs the function once on the reverse-mode tape, so every primitive the
 * function applies becomes one row `vᵢ = op(…)`. From those rows it computes, with the
 * primitives' own rules and nothing typed in by hand:
 * - the tangent column `v̇ᵢ` (forward mode), by pushing a direction through each row's JVP maps;
 * - the adjoint steps `v̄ⱼ += v̄ᵢ ∂vᵢ/∂vⱼ` (reverse mode), by sweeping the rows newest first
 *   through their VJP maps, recording every contribution and the running sum it adds to
 *   (seed 002's rule: a value used several times sums the adjoints of its uses).
 *
 * Where a value or a derivative does not exist (ln of a negative number, a division by zero, the
 * derivative in an exponent whose base is negative, …) the trace still has every row, and its
 * `warnings` say, at the row where the problem starts, what is undefined and why.
 *
 * Bookkeeping that is not a mathematical step is hidden: a plain-number constant (and its
 * broadcast) is folded into the formula (`v₁ × 2`), and a reshape or broadcast that only adds
 * or drops axes of length 1 is skipped.
 *
 * @example
 * ```ts
 * import { Trace, add, log, mul, sin, sub } from 'lamina-nn'
 * import assert from 'node:assert'
 * // seed 004, its steps in the order of its table
 * const t = Trace.trace(({ x1, x2 }) => {
 *   const v1 = log(x1), v2 = mul(x1, x2), v3 = sin(x2)
 *   return sub(add(v1, v2), v3)
 * }, { x1: 2, x2: 5 })
 * assert.deepStrictEqual(t.rows.map((r) => r.expression), ['x1', 'x2', 'ln v₋₁', 'v₋₁ × v₀', 'sin v₀', 'v₁ + v₂', 'v₄ − v₃'])
 * assert.strictEqual(t.gradient['x1']!.item(), 5.5)
 * ```
 *
 * @module
 */
import { ArgumentError, DifferentiationError } from '../error.js'
import { bind, isBuiltin, ruleOf } from '../prim.js'
import type { MatMulParams, Prim, PrimParams, ReduceParams, Relation } from '../prim.js'
import type { Shape } from '../shape.js'
import { Tensor, full } from '../tensor.js'
import { fresh } from './level.js'
import * as Tp from './tape.js'
import * as Numerics from '../numerics.js'

// ================================================================ data

/**
 * A small formula tree: how the trace writes expressions (`ln v₋₁`), partial derivatives
 * (`1/v₋₁`) and adjoint updates (`v̄₋₁ + v̄₁ / v₋₁`), so that each renderer can print them in
 * its own notation (Unicode, LaTeX, or with the numbers substituted).
 */
export type Formula =
  /** the row `vᵢ` */
  | { readonly kind: 'var'; readonly index: number }
  /** the adjoint `v̄ᵢ` */
  | { readonly kind: 'bar'; readonly index: number }
  /** an input by its name (`x1`) */
  | { readonly kind: 'input'; readonly name: string }
  /** a symbol written differently per notation (`ȳ`, `π`) */
  | { readonly kind: 'symbol'; readonly text: string; readonly latex: string }
  /** a number (a folded constant) */
  | { readonly kind: 'number'; readonly value: number }
  /** a constant tensor whose elements differ (shown by shape) */
  | { readonly kind: 'constant'; readonly value: Tensor }
  /** a parameter of a primitive, shown verbatim (`axis 0`, `[20, 20]`) */
  | { readonly kind: 'label'; readonly text: string }
  /** `a + b`, `a − b`, `a × b`, `a / b`, `a · b` (matrix product), `a b` (juxtaposition) */
  | { readonly kind: 'binary'; readonly op: '+' | '−' | '×' | '/' | '·' | ' '; readonly left: Formula; readonly right: Formula }
  | { readonly kind: 'neg'; readonly arg: Formula }
  /** a function written before its argument, optionally with a power: `ln v`, `tanh² v` */
  | { readonly kind: 'apply'; readonly fn: string; readonly power?: number; readonly arg: Formula }
  /** a function with its arguments in parentheses: `σ(v)`, `max(a, b)` */
  | { readonly kind: 'call'; readonly fn: string; readonly args: readonly Formula[] }
  | { readonly kind: 'pow'; readonly base: Formula; readonly exponent: number }
  /** `a^b` with an exponent that is itself a formula (`(−1)^v₀`, `x^(y + 1)`) */
  | { readonly kind: 'power'; readonly base: Formula; readonly exponent: Formula }
  | { readonly kind: 'sqrt'; readonly arg: Formula }
  | { readonly kind: 'abs'; readonly arg: Formula }
  | { readonly kind: 'transpose'; readonly arg: Formula }
  /** Iverson bracket `[a > b]`: 1 where the comparison holds, else 0 */
  | { readonly kind: 'indicator'; readonly left: Formula; readonly rel: Relation; readonly right: Formula }
  /** `∂v_of/∂v_wrt`, the fallback partial of a primitive without a formula */
  | { readonly kind: 'partial'; readonly of: number; readonly wrt: number }

/** An operand of a row: the index of another row, or a constant folded into the formula. */
export type TraceOperand = number | { readonly constant: Tensor }

/** One line of the forward primal trace: `vᵢ = expression = value`. */
export interface TraceRow {
  /** `1 − n … 0` for the n inputs, then `1, 2, …` in evaluation order. */
  readonly index: number
  /** `v₋₁`, `v₀`, `v₁`, … */
  readonly name: string
  /** The primitive that computed the row, or `'input'`. */
  readonly op: Prim | 'input'
  /** The rows (or constants) the primitive was applied to, in argument order. */
  readonly operands: readonly TraceOperand[]
  /** The formula in Unicode: the input's name for an input, else `ln v₋₁`, `v₋₁ × v₀`, `v₁ × 2`. */
  readonly expression: string
  /** The same formula as a tree, for renderers. */
  readonly formula: Formula
  readonly value: Tensor
  readonly shape: Shape
  /** `v̇ᵢ`: the directional derivative along the requested tangent (absent without one). */
  readonly tangent?: Tensor
}

/**
 * One step of the backward sweep: the adjoint of row `target` receives the contribution
 * `v̄_source · ∂v_source/∂v_target` of one use of it.
 */
export interface AdjointStep {
  /** The row whose adjoint is updated. */
  readonly target: number
  /** The row whose adjoint is propagated. */
  readonly source: number
  /** `∂v_source/∂v_target` in Unicode: `v₀`, `1/v₋₁`, `cos v₀` (or `∂v₃/∂v₁` without a formula). */
  readonly partial: string
  /** The same partial as a tree. */
  readonly partialFormula: Formula
  /**
   * How the contribution is computed, as a tree: `v̄₂ × v₀`, `v̄₁ / v₋₁` (from the partial),
   * or a primitive's own form where the partial is not a number per element (`v̄₁ · v₋₁ᵀ`).
   */
  readonly contributionFormula: Formula
  /** What this step adds to the target's adjoint. */
  readonly contribution: Tensor
  /** The target's adjoint after this step. */
  readonly accumulated: Tensor
  /** Whether the target already had a contribution (the value is used more than once). */
  readonly accumulates: boolean
}

/** The forward primal trace and the reverse adjoint trace of one evaluation. */
export interface Trace {
  /** The input names, in order: the first is `v₁₋ₙ`, the last `v₀`. */
  readonly inputs: readonly string[]
  /** The inputs, then the intermediate values in evaluation order. */
  readonly rows: readonly TraceRow[]
  /** The index of the row holding `y`. */
  readonly output: number
  /** `ȳ`, the adjoint the sweep starts from (ones); absent when `y` is not a scalar. */
  readonly seed?: Tensor
  /** The backward sweep's steps in the order it computes them (empty when `y` is not a scalar). */
  readonly adjoints: readonly AdjointStep[]
  /** `∂y/∂x` for each input, by name (empty when `y` is not a scalar). */
  readonly gradient: Readonly<Record<string, Tensor>>
  /**
   * Where a value or a derivative of the trace is undefined or infinite, and why: the logarithm
   * or square root of a negative number, a division by zero, a negative base raised to a
   * non-integer power, a derivative in an exponent whose base is negative, the derivative of
   * √x at 0, an overflow. Each is reported once, at the row where it first happens (a NaN
   * passed on from an earlier row is not reported again). Empty when every number is finite.
   */
  readonly warnings: readonly TraceWarning[]
  /** The expression as written, when {@link TraceOptions.expression} gave it (the heading shows it). */
  readonly expression?: Formula
}

/**
 * A domain problem of one row: its value (`'value'`: NaN or ±∞ computed from finite operands) or
 * the partial derivative with respect to one of its operands (`'derivative'`: undefined or
 * infinite there), with a one-line message that says what is undefined and why.
 */
export interface TraceWarning {
  /** The row's index (`1` for `v₁`). */
  readonly row: number
  /** The row's primitive. */
  readonly op: Prim
  readonly kind: 'value' | 'derivative'
  /** For a derivative: the operand (0 or 1) it is taken with respect to. */
  readonly operand?: number
  /** What is undefined, where (the row, the values) and why. */
  readonly message: string
}

/** A scalar `f64` tensor: what a plain-number input becomes. */
export type Scalar = Tensor<[], 'f64'>

/** The inputs of {@link trace}: tensors, or plain numbers (which become `f64` scalars). */
export type Inputs = Readonly<Record<string, Tensor | number>>

/** What the traced function receives: each input as a tensor (a number as a scalar tensor). */
export type Variables<I extends Inputs> = { readonly [K in keyof I]: I[K] extends number ? Scalar : I[K] }

/** Options of {@link trace}. */
export interface TraceOptions {
  /**
   * The direction of the tangent column: an input's name (that input moves by 1 in every
   * element, the others stay), or explicit tangents per input (missing inputs get 0).
   */
  readonly tangent?: string | Readonly<Record<string, number | Tensor>>
  /**
   * The function as written, over the inputs' names (for an expression, `Expr.toFormula`): the
   * heading of the rendered tables shows it instead of the formula rebuilt from the rows.
   */
  readonly expression?: Formula
}

// ================================================================ tracing

const SUBSCRIPT: Readonly<Record<string, string>> = { '-': '₋', '0': '₀', '1': '₁', '2': '₂', '3': '₃', '4': '₄', '5': '₅', '6': '₆', '7': '₇', '8': '₈', '9': '₉' }
const SUPERSCRIPT: Readonly<Record<string, string>> = { '-': '⁻', '0': '⁰', '1': '¹', '2': '²', '3': '³', '4': '⁴', '5': '⁵', '6': '⁶', '7': '⁷', '8': '⁸', '9': '⁹' }
const script = (table: Readonly<Record<string, string>>, s: string): string => [...s].map((c) => table[c] ?? c).join('')

/** `v₋₁` for index −1. */
const rowName = (index: number): string => `v${script(SUBSCRIPT, String(index))}`

const toInput = (value: unknown, name: string): Tensor => {
  if (typeof value === 'number') return full([], value, { dtype: 'f64' })
  if (value instanceof Tensor) return value
  const what = value === null ? 'null' : typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value
  throw new ArgumentError(`trace: input "${name}" must be a tensor or a number, got ${what}`)
}

const showShape = (s: Shape): string => `[${s.join(', ')}]`

/** Shapes equal once their axes of length 1 are dropped: a reshape between them moves nothing. */
const squeezeEqual = (a: Shape, b: Shape): boolean => {
  const sa = a.filter((d) => d !== 1)
  const sb = b.filter((d) => d !== 1)
  return sa.length === sb.length && sa.every((d, i) => d === sb[i])
}

/** The input tangents requested by the options, one per input (`null` is a symbolic zero). */
const inputTangents = (names: readonly string[], primals: readonly Tensor[], tangent: TraceOptions['tangent']): (Tensor | null)[] | undefined => {
  if (tangent === undefined) return undefined
  if (typeof tangent === 'string') {
    const k = names.indexOf(tangent)
    if (k < 0) throw new ArgumentError(`trace: the tangent names "${tangent}", which is not an input (inputs: ${names.join(', ')})`)
    return primals.map((p, i) => (i === k ? full(p.shape, 1, { dtype: p.dtype }) : null))
  }
  if (typeof tangent !== 'object' || tangent === null) throw new ArgumentError(`trace: the tangent must be an input's name or a record of tangents`)
  for (const key of Object.keys(tangent)) {
    if (!names.includes(key)) throw new ArgumentError(`trace: the tangent names "${key}", which is not an input (inputs: ${names.join(', ')})`)
  }
  return names.map((name, i) => {
    const p = primals[i]!
    const t = Object.prototype.hasOwnProperty.call(tangent, name) ? tangent[name] : undefined
    if (t === undefined) return null
    if (typeof t === 'number') return full(p.shape, t, { dtype: p.dtype })
    if (!(t instanceof Tensor)) throw new ArgumentError(`trace: the tangent of "${name}" must be a number or a tensor`)
    if (t.shape.length !== p.shape.length || t.shape.some((d, j) => d !== p.shape[j]) || t.dtype !== p.dtype) {
      throw new DifferentiationError(
        `trace: the tangent of "${name}" has shape ${showShape(t.shape)} (${t.dtype}) but the input has shape ${showShape(p.shape)} (${p.dtype})`
      )
    }
    return t
  })
}

/** A constant operand: a number when all its elements are equal (a broadcast plain number). */
const constantFormula = (c: Tensor): Formula => {
  const data = c.data
  const first = data[0]
  if (first !== undefined && Array.from(data).every((v) => Object.is(v, first) || v === first)) return { kind: 'number', value: first }
  return { kind: 'constant', value: c }
}

const num = (value: number): Formula => ({ kind: 'number', value })
const bin = (op: '+' | '−' | '×' | '/' | '·' | ' ', left: Formula, right: Formula): Formula => ({ kind: 'binary', op, left, right })
const call = (fn: string, ...args: Formula[]): Formula => ({ kind: 'call', fn, args })
const apply = (fn: string, arg: Formula, power?: number): Formula => (power === undefined ? { kind: 'apply', fn, arg } : { kind: 'apply', fn, power, arg })
const label = (text: string): Formula => ({ kind: 'label', text })

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

/** The row formula `op(operands)` of each primitive. */
const expressionOf = (prim: Prim, ops: readonly Formula[], params: unknown, inputShapes: readonly Shape[]): Formula => {
  const [a, b] = [ops[0]!, ops[1]!]
  switch (prim) {
    case 'add': return bin('+', a, b)
    case 'sub': return bin('−', a, b)
    case 'mul': return bin('×', a, b)
    case 'div': return bin('/', a, b)
    case 'neg': return { kind: 'neg', arg: a }
    case 'stopGradient': return call('stopGradient', a)
    case 'pow': return { kind: 'pow', base: a, exponent: (params as PrimParams['pow']).exponent }
    case 'power': return { kind: 'power', base: a, exponent: b }
    case 'exp': return apply('exp', a)
    case 'log': return apply('ln', a)
    case 'sin': return apply('sin', a)
    case 'cos': return apply('cos', a)
    case 'tanh': return apply('tanh', a)
    case 'erf': return apply('erf', a)
    case 'sigmoid': return call('σ', a)
    case 'relu': return call('relu', a)
    case 'softplus': return call('softplus', a)
    case 'abs': return { kind: 'abs', arg: a }
    case 'sqrt': return { kind: 'sqrt', arg: a }
    case 'maximum': return call('max', a, b)
    case 'minimum': return call('min', a, b)
    case 'sum':
    case 'mean':
    case 'max':
    case 'min':
    case 'logsumexp': {
      const p = params as ReduceParams
      if (reducesAll(p, inputShapes[0]?.length ?? 0)) return prim === 'sum' ? apply('Σ', a) : call(prim, a)
      return call(prim, a, label(axesLabel(p)))
    }
    case 'matmul':
    case 'batchMatmul': {
      const [l, r] = matmulOperands(ops, params as MatMulParams)
      return bin('·', l, r)
    }
    case 'broadcast': return call('broadcast', a, label(showShape((params as PrimParams['broadcast']).shape)))
    case 'reshape': return call('reshape', a, label(showShape((params as PrimParams['reshape']).shape)))
    case 'transpose': {
      const { perm } = params as PrimParams['transpose']
      return perm.length === 2 && perm[0] === 1 && perm[1] === 0 ? { kind: 'transpose', arg: a } : call('transpose', a, label(showShape(perm)))
    }
    case 'concat': return call('concat', ...ops, label(`axis ${(params as PrimParams['concat']).axis}`))
    case 'slice': {
      const { starts, sizes } = params as PrimParams['slice']
      return call('slice', a, label(starts.map((s, i) => `${s}:${s + sizes[i]!}`).join(', ')))
    }
    case 'pad': return call('pad', a, label(showShape((params as PrimParams['pad']).shape)))
    case 'select': return call('select', ops[2]!, a, b)
    case 'compare': return { kind: 'indicator', left: a, rel: (params as PrimParams['compare']).relation, right: b }
    case 'sign': return call('sign', a)
    case 'conv2d': return call('conv', ...ops) // the bias, when given, is the third operand
    case 'conv2dInputGrad': return call('convInputGrad', a, b) // the transposed convolution: the input's gradient
    case 'conv2dFilterGrad': return call('convFilterGrad', a, b) // the correlation of the input with the cotangent: the filter's gradient
    case 'maxPool2d': return call('maxPool', a, label(windowLabel(params as PrimParams['maxPool2d'])))
    case 'avgPool2d': {
      const p = params as PrimParams['avgPool2d']
      return call(p.weights === undefined ? 'avgPool' : 'windowSum', a, label(windowLabel(p)))
    }
    case 'avgPool2dTranspose': {
      const p = params as PrimParams['avgPool2dTranspose']
      return call(p.weights === undefined ? 'avgPoolTranspose' : 'windowSpread', a, label(windowLabel(p)))
    }
    // a primitive defined by user code: its name applied to its operands
    default: return call(prim, ...ops)
  }
}

/**
 * `∂v_source/∂operand_i` for the primitives that have a readable formula; `undefined` for the
 * others (the caller falls back to `∂v_source/∂v_target`). Each line is the derivative the
 * primitive's rule in `prim.ts` implements.
 */
const partialOf = (prim: Prim, ops: readonly Formula[], i: number, params: unknown, inputShapes: readonly Shape[]): Formula | undefined => {
  const [a, b] = [ops[0]!, ops[1]!]
  switch (prim) {
    case 'add': return num(1) // ∂(a + b)/∂a = ∂(a + b)/∂b = 1
    case 'sub': return num(i === 0 ? 1 : -1) // ∂(a − b)/∂a = 1, ∂(a − b)/∂b = −1
    case 'mul': return i === 0 ? b : a // ∂(a·b)/∂a = b, ∂(a·b)/∂b = a
    case 'div': // ∂(a/b)/∂a = 1/b, ∂(a/b)/∂b = −a/b²
      return i === 0 ? bin('/', num(1), b) : { kind: 'neg', arg: bin('/', a, { kind: 'pow', base: b, exponent: 2 }) }
    case 'neg': return num(-1)
    case 'stopGradient': return num(0) // no derivative passes stopGradient
    case 'compare': return num(0) // a mask is piecewise constant
    case 'sign': return num(0)
    case 'pow': { // ∂xᶜ/∂x = c·xᶜ⁻¹
      const c = (params as PrimParams['pow']).exponent
      if (c === 0) return num(0)
      if (c === 1) return num(1)
      return bin('×', num(c), c === 2 ? a : { kind: 'pow', base: a, exponent: c - 1 })
    }
    case 'power': // ∂aᵇ/∂a = b·aᵇ⁻¹, ∂aᵇ/∂b = aᵇ·ln a (for a > 0)
      return i === 0 ? bin('×', b, { kind: 'power', base: a, exponent: bin('−', b, num(1)) }) : bin('×', { kind: 'power', base: a, exponent: b }, apply('ln', a))
    case 'exp': return apply('exp', a) // ∂eˣ/∂x = eˣ
    case 'log': return bin('/', num(1), a) // ∂ln x/∂x = 1/x
    case 'sin': return apply('cos', a) // ∂sin x/∂x = cos x
    case 'cos': return { kind: 'neg', arg: apply('sin', a) } // ∂cos x/∂x = −sin x
    case 'tanh': return bin('−', num(1), apply('tanh', a, 2)) // ∂tanh x/∂x = 1 − tanh² x
    case 'sigmoid': return bin('×', call('σ', a), bin('−', num(1), call('σ', a))) // σ'(x) = σ(x)(1 − σ(x))
    case 'relu': return { kind: 'indicator', left: a, rel: '>', right: num(0) } // relu'(x) = [x > 0]
    case 'softplus': return call('σ', a) // ζ'(x) = σ(x)
    case 'abs': return call('sign', a) // |x|' = sign x
    case 'sqrt': return bin('/', num(1), bin('×', num(2), { kind: 'sqrt', arg: a })) // (√x)' = 1/(2√x)
    case 'erf': // erf'(x) = (2/√π) e^(−x²)
      return bin('×', bin('/', num(2), { kind: 'sqrt', arg: { kind: 'symbol', text: 'π', latex: '\\pi' } }), apply('exp', { kind: 'neg', arg: { kind: 'pow', base: a, exponent: 2 } }))
    case 'maximum': // ties share the gradient equally
      return { kind: 'indicator', left: a, rel: i === 0 ? '>' : '<', right: b }
    case 'minimum':
      return { kind: 'indicator', left: a, rel: i === 0 ? '<' : '>', right: b }
    case 'sum': return num(1) // ∂(Σⱼ xⱼ)/∂xₖ = 1
    case 'mean': { // ∂ mean(x)/∂xₖ = 1/n
      const { axes } = params as ReduceParams
      const n = axes.reduce((acc, ax) => acc * (inputShapes[0]?.[ax] ?? 1), 1)
      return bin('/', num(1), num(n))
    }
    default: return undefined
  }
}

const transposed = (f: Formula): Formula => (f.kind === 'transpose' ? f.arg : { kind: 'transpose', arg: f })

/**
 * How one step's contribution is computed: `v̄ₛ × ∂vₛ/∂vₜ` written with the partial
 * (`v̄₁ / v₋₁` when the partial is `1/v₋₁`), except for the matrix product, whose
 * contributions are products with the other factor: Ā = Ȳ·Bᵀ, B̄ = Aᵀ·Ȳ (for y = A·B).
 */
const contributionOf = (prim: Prim, ops: readonly Formula[], i: number, params: unknown, source: number, partial: Formula): Formula => {
  const bar: Formula = { kind: 'bar', index: source }
  if (prim === 'matmul') {
    const { transposeA, transposeB } = params as MatMulParams
    const [opA, opB] = matmulOperands(ops, { transposeA, transposeB })
    if (i === 0) return transposeA ? bin('·', opB, transposed(bar)) : bin('·', bar, transposed(opB))
    return transposeB ? bin('·', transposed(bar), opA) : bin('·', transposed(opA), bar)
  }
  if (partial.kind === 'binary' && partial.op === '/' && partial.left.kind === 'number' && partial.left.value === 1) return bin('/', bar, partial.right)
  return bin('×', bar, partial)
}

// ================================================================ domains

/** What a domain check sees of one row. */
interface DomainContext {
  /** `v₁ = ln v₀`: the row and its formula. */
  readonly row: string
  /** The operands' values, elementwise (already broadcast to the output's shape). */
  readonly args: readonly Tensor[]
  readonly out: Tensor
  readonly params: unknown
  /** Each operand as the row writes it: `v₀`, or a folded constant such as `−1`. */
  readonly names: readonly string[]
  /** Whether operand `i` carries a derivative (a traced value, not a constant). */
  readonly traced: readonly boolean[]
}

/** One problem at element `i` of a row. */
interface Finding {
  /** Which problem (elements with the same one are reported together). */
  readonly reason: string
  readonly kind: 'value' | 'derivative'
  readonly operand?: number
  readonly message: string
}

/** The checks of one elementwise primitive at one element: `x` its operands' values there, `y` its value. */
type DomainCheck = (c: DomainContext, x: readonly number[], y: number) => Finding | undefined

/** A number in a message: up to 6 significant digits, `−` for minus. */
const shown = (v: number): string => compact(v, false).s

const isInteger = (v: number): boolean => Number.isInteger(v)

/** `(name = value)` unless the operand is a constant, whose name is its value. */
const valued = (c: DomainContext, k: number, v: number): string => (c.traced[k] === true ? `${c.names[k]!} = ${shown(v)}` : shown(v))

/** The power checks shared by `pow` (a constant exponent) and `power` (a tensor one). */
const powerFindings = (c: DomainContext, a: number, b: number, y: number, exponentTraced: boolean): Finding | undefined => {
  if (a < 0 && Number.isFinite(b) && !isInteger(b)) {
    return { reason: 'negative base', kind: 'value', message: `${c.row} is NaN: a negative base has a real power only for an integer exponent, and here the base is ${valued(c, 0, a)} and the exponent ${exponentTraced ? valued(c, 1, b) : shown(b)}` }
  }
  if (a === 0 && b < 0) {
    return { reason: 'zero to a negative power', kind: 'value', message: `${c.row} is ${shown(y)}: 0 raised to a negative power is undefined (|a^b| → ∞ as a → 0 for b < 0), and here the base is ${valued(c, 0, a)} and the exponent ${exponentTraced ? valued(c, 1, b) : shown(b)}` }
  }
  if (a === 0 && b > 0 && b < 1 && c.traced[0] === true) {
    return { reason: 'base derivative at 0', kind: 'derivative', operand: 0, message: `${c.row} is not differentiable in its base at ${c.names[0]!} = 0: ∂(a^b)/∂a = b·a^(b−1) is infinite at a = 0 for 0 < b < 1 (here b = ${shown(b)})` }
  }
  if (!exponentTraced) return undefined
  if (a < 0 && Number.isFinite(y)) {
    return {
      reason: 'exponent derivative at a negative base',
      kind: 'derivative',
      operand: 1,
      message: `${c.row}: the derivative with respect to the exponent ${c.names[1]!} is undefined (NaN): ∂(a^b)/∂b = a^b·ln a needs a > 0, and here the base is ${valued(c, 0, a)}; at a < 0 only integer b give a real value, so a^b is not differentiable in b there`
    }
  }
  if (a === 0 && b === 0) {
    return { reason: 'exponent derivative at 0^0', kind: 'derivative', operand: 1, message: `${c.row}: 0^b is not differentiable in b at b = 0 (0^b = 0 for b > 0, 1 at b = 0, ∞ for b < 0); the rule gives 0` }
  }
  return undefined
}

/**
 * Where each primitive's value or derivative is undefined, beside the rule table (a total table:
 * `null` for a primitive defined everywhere, or whose problems only the generic overflow check
 * can find). Each check looks at one element; the derivative findings follow the rules in
 * `prim.ts` (`d ln x = dx/x`, `d √x = dx/(2√x)`, `d aᵇ = b·aᵇ⁻¹ da + aᵇ·ln a db`).
 */
const domains: { readonly [P in Prim]: DomainCheck | null } = {
  log: (c, [x], y) =>
    x! < 0
      ? { reason: 'log of a negative number', kind: 'value', message: `${c.row} is NaN: ln x is defined only for x > 0, and here ${valued(c, 0, x!)}; the rule's partial 1/x (= ${shown(1 / x!)}) is not the derivative of any real function there` }
      : x === 0
        ? { reason: 'log of 0', kind: 'value', message: `${c.row} is ${shown(y)}: ln x is defined only for x > 0 (ln x → −∞ as x → 0⁺), and here ${valued(c, 0, x)}; its derivative 1/x is infinite there` }
        : undefined,
  sqrt: (c, [x]) =>
    x! < 0
      ? { reason: 'square root of a negative number', kind: 'value', message: `${c.row} is NaN: √x is defined only for x ≥ 0, and here ${valued(c, 0, x!)}` }
      : x === 0 && c.traced[0] === true
        ? { reason: 'square root derivative at 0', kind: 'derivative', operand: 0, message: `${c.row} is not differentiable at ${c.names[0]!} = 0: its derivative 1/(2√x) is infinite at x = 0, so the adjoint and tangent through it are ∞ or NaN` }
        : undefined,
  div: (c, [a, b], y) =>
    b !== 0
      ? undefined
      : a === 0
        ? { reason: '0/0', kind: 'value', message: `${c.row} is NaN: division by zero, 0/0 is undefined (here ${valued(c, 0, a)} and ${valued(c, 1, b)}); the partials 1/b and −a/b² are undefined too` }
        : { reason: 'division by zero', kind: 'value', message: `${c.row} is ${shown(y)}: division by zero (here ${valued(c, 1, b!)}); a/b and its partials 1/b and −a/b² are undefined at b = 0` },
  pow: (c, [a], y) => powerFindings(c, a!, (c.params as PrimParams['pow']).exponent, y, false),
  power: (c, [a, b], y) => powerFindings(c, a!, b!, y, c.traced[1] === true),
  add: null, sub: null, mul: null, maximum: null, minimum: null, neg: null, exp: null, sin: null, cos: null, tanh: null,
  sigmoid: null, relu: null, abs: null, erf: null, softplus: null, logsumexp: null, sum: null, mean: null, max: null,
  min: null, stopGradient: null,
  matmul: null, batchMatmul: null, broadcast: null, reshape: null, transpose: null, concat: null, slice: null, pad: null, select: null, compare: null, sign: null,
  conv2d: null, conv2dInputGrad: null, conv2dFilterGrad: null, maxPool2d: null, avgPool2d: null, avgPool2dTranspose: null
}

const allFinite = (t: Tensor): boolean => {
  const data = t.data
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) return false
  return true
}

/** Where an element of a tensor with more than one is: ` (element 3 of 6; 2 elements in all)`. */
const whereIn = (size: number, first: number, count: number): string =>
  size <= 1 ? '' : ` (element ${first} of ${size}${count > 1 ? `; ${count} elements in all` : ''})`

/**
 * The warnings of one row: its primitive's domain check at every element (the first finding of
 * each kind and operand is reported, with the number of elements it applies to), then, for a
 * value that is not finite although its operands are, the generic overflow warning.
 */
const rowWarnings = (index: number, op: Prim, c: DomainContext): TraceWarning[] => {
  // a user's primitive has no domain entry: only the generic overflow check applies
  const check = isBuiltin(op) ? domains[op] : null
  const out: TraceWarning[] = []
  const explained = new Set<number>()
  if (check !== null && c.args.every((a) => a.size === c.out.size)) {
    const data = c.args.map((a) => a.data)
    const found = new Map<string, { finding: Finding; first: number; count: number }>()
    for (let i = 0; i < c.out.size; i++) {
      const x = data.map((d) => d[i]!)
      if (!x.every(Number.isFinite)) continue // passed on from an earlier row
      const f = check(c, x, c.out.data[i]!)
      if (f === undefined) continue
      if (f.kind === 'value') explained.add(i)
      const key = f.reason
      const seen = found.get(key)
      if (seen === undefined) found.set(key, { finding: f, first: i, count: 1 })
      else found.set(key, { ...seen, count: seen.count + 1 })
    }
    for (const { finding, first, count } of found.values()) {
      out.push(Object.freeze({ row: index, op, kind: finding.kind, ...(finding.operand === undefined ? {} : { operand: finding.operand }), message: finding.message + whereIn(c.out.size, first, count) }))
    }
  }
  if (c.args.every(allFinite) && !allFinite(c.out)) {
    const data = c.out.data
    const bad: number[] = []
    for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!) && !explained.has(i)) bad.push(i)
    if (bad.length > 0) {
      const v = data[bad[0]!]!
      const what = Number.isNaN(v) ? 'is NaN' : `overflows to ${shown(v)}`
      out.push(Object.freeze({ row: index, op, kind: 'value' as const, message: `${c.row} ${what} although its operands are finite${Number.isNaN(v) ? '' : ' (beyond ±1.8e308, the largest double)'}${whereIn(c.out.size, bad[0]!, bad.length)}` }))
    }
  }
  return out
}

/**
 * Traces `f` at `inputs`: its forward primal trace (one row per primitive, and the tangent
 * column when `options.tangent` is given) and, when it returns a scalar, its reverse adjoint
 * trace and gradient. Every number is computed by the primitives' own rules.
 *
 * The inputs become the rows `v₁₋ₙ … v₀` in the order of the record's keys; the intermediate
 * values follow as `v₁, v₂, …` in evaluation order. Values that do not lead to the output are
 * left out.
 *
 * @example
 * ```ts
 * import { Trace, tensor, add, log, mul, sin, sub } from 'lamina-nn'
 * import assert from 'node:assert'
 * // seed 004: y = ln(x1) + x1·x2 − sin(x2) at (2, 5), with the tangent along x1.
 * // Rows come in evaluation order: name the steps to get the seed's numbering.
 * const f = ({ x1, x2 }: { readonly x1: Trace.Scalar; readonly x2: Trace.Scalar }) => {
 *   const v1 = log(x1), v2 = mul(x1, x2), v3 = sin(x2)
 *   return sub(add(v1, v2), v3)
 * }
 * const t = Trace.trace(f, { x1: 2, x2: tensor(5) }, { tangent: 'x1' })
 * assert.deepStrictEqual(t.rows.map((r) => r.name), ['v₋₁', 'v₀', 'v₁', 'v₂', 'v₃', 'v₄', 'v₅'])
 * assert.strictEqual(t.rows[3]!.expression, 'v₋₁ × v₀')
 * assert.strictEqual(t.output, 5)
 * assert.ok(Math.abs(t.rows[6]!.value.item() - (Math.log(2) + 10 - Math.sin(5))) < 1e-12)
 * assert.strictEqual(t.rows[6]!.tangent!.item(), 5.5)          // ẏ = ∂y/∂x1
 * // the backward sweep: v̄₄, v̄₃, v̄₁, v̄₂, v̄₀, v̄₋₁, then v̄₀ and v̄₋₁ accumulate
 * assert.deepStrictEqual(t.adjoints.map((s) => [s.target, s.source, s.partial]), [
 *   [4, 5, '1'], [3, 5, '−1'], [1, 4, '1'], [2, 4, '1'], [0, 3, 'cos v₀'], [-1, 2, 'v₀'], [0, 2, 'v₋₁'], [-1, 1, '1/v₋₁']
 * ])
 * assert.deepStrictEqual(t.adjoints.map((s) => s.accumulates), [false, false, false, false, false, false, true, true])
 * assert.strictEqual(t.gradient['x1']!.item(), 5.5)
 * assert.deepStrictEqual(t.warnings, [])
 * // outside a domain: the rows are all there, and a warning says what is undefined and why
 * const bad = Trace.trace(({ x1, x2 }) => mul(log(x1), x2), { x1: -1, x2: 5 })
 * assert.deepStrictEqual(bad.warnings.map((w) => [w.row, w.op, w.kind]), [[1, 'log', 'value']])
 * assert.match(bad.warnings[0]!.message, /^v₁ = ln v₋₁ is NaN: ln x is defined only for x > 0/)
 * ```
 */
export const trace = <I extends Inputs>(f: (inputs: Variables<I>) => Tensor, inputs: I, options: TraceOptions = {}): Trace => {
  if (typeof inputs !== 'object' || inputs === null) throw new ArgumentError('trace: the inputs must be a record of tensors or numbers')
  const names = Object.keys(inputs)
  if (names.length === 0) throw new ArgumentError('trace: expected at least one input')
  const primals = names.map((name) => toInput(inputs[name], name))
  const n = names.length

  // ---- record: each primitive applied to the inputs writes a node on the tape
  const recorder = new Tp.ReverseTrace(fresh())
  const variables = primals.map((p) => recorder.variable(p))
  const ids = variables.map((v) => recorder.idOf(v)!)
  const y: unknown = f(Object.fromEntries(names.map((name, k) => [name, variables[k]!])) as Variables<I>)
  if (!(y instanceof Tensor)) throw new DifferentiationError(`trace: the function must return a tensor, got ${y === null ? 'null' : typeof y}`)
  const yId = recorder.idOf(y)
  if (yId === undefined) throw new DifferentiationError('trace: the output does not depend on the inputs, so there is nothing to trace')
  const nodes = Tp.nodes(recorder.recorded(y)()[1])
  const byId = new Map(nodes.map((node) => [node.id, node]))

  // ---- bookkeeping nodes (reshapes that only add or drop axes of length 1) are not rows
  const hidden = new Set(
    nodes
      .filter((node) => (node.prim === 'reshape' || node.prim === 'broadcast') && node.id !== yId && squeezeEqual(node.context.args[0]!.shape, node.context.out.shape))
      .map((node) => node.id)
  )
  const resolve = (id: number): number => {
    let cur = id
    while (hidden.has(cur)) cur = byId.get(cur)!.inputs[0]!
    return cur
  }
  const visible = nodes.filter((node) => !hidden.has(node.id))
  const indexOf = new Map<number, number>()
  ids.forEach((id, k) => indexOf.set(id, k + 1 - n))
  visible.forEach((node, k) => indexOf.set(node.id, k + 1))
  const idx = (id: number): number => indexOf.get(resolve(id))!

  // ---- the tangent column: push the direction through every node's JVP maps
  const seeds = inputTangents(names, primals, options.tangent)
  // (node, operand) pairs whose rule turned a finite tangent or adjoint into ∞ or NaN
  const infinitePartials: { readonly id: number; readonly operand: number }[] = []
  const tangents = new Map<number, Tensor | null>()
  if (seeds !== undefined) {
    ids.forEach((id, k) => tangents.set(id, seeds[k]!))
    for (const node of nodes) {
      const ts = node.inputs.map((i) => (i === null ? null : (tangents.get(i) ?? null)))
      if (ts.every((t) => t === null)) {
        tangents.set(node.id, null)
        continue
      }
      const maps = ruleOf(node.prim).jvp(node.context)
      let acc: Tensor | null = null
      for (let i = 0; i < ts.length; i++) {
        const t = ts[i]
        if (t === null || t === undefined) continue
        // a non-finite value here is the tangent (forward-mode) rule's, not the forward pass's
        const contribution = Numerics.inPhase(`tangent rule of ${node.prim} (${indexOf.has(node.id) ? `row ${rowName(indexOf.get(node.id)!)}` : `node ${node.id}`}, input ${i})`, () => maps[i]!(t))
        if (indexOf.has(node.id) && allFinite(t) && !allFinite(contribution)) infinitePartials.push({ id: node.id, operand: i })
        acc = acc === null ? contribution : bind('add', [acc, contribution], {})
      }
      tangents.set(node.id, acc)
    }
  }
  const tangentOf = (id: number, like: Tensor): Tensor | undefined =>
    seeds === undefined ? undefined : (tangents.get(id) ?? full(like.shape, 0, { dtype: like.dtype }))

  // ---- rows
  const withTangent = (row: Omit<TraceRow, 'tangent'>, id: number): TraceRow => {
    const t = tangentOf(id, row.value)
    return Object.freeze(t === undefined ? row : { ...row, tangent: t })
  }
  const operandFormulas = new Map<number, readonly Formula[]>()
  const rows: TraceRow[] = []
  names.forEach((name, k) => {
    const formula: Formula = { kind: 'input', name }
    rows.push(withTangent({ index: k + 1 - n, name: rowName(k + 1 - n), op: 'input', operands: Object.freeze([]), expression: name, formula, value: primals[k]!, shape: primals[k]!.shape }, ids[k]!))
  })
  // derivatives are computed when there is an adjoint trace (a scalar y) or a tangent column
  const derivatives = y.size === 1 || seeds !== undefined
  const warnings: TraceWarning[] = []
  for (const node of visible) {
    const operands: TraceOperand[] = node.inputs.map((input, i) => (input === null ? Object.freeze({ constant: node.context.args[i]! }) : idx(input)))
    const formulas = operands.map((o): Formula => (typeof o === 'number' ? { kind: 'var', index: o } : constantFormula(o.constant)))
    operandFormulas.set(node.id, formulas)
    const formula = expressionOf(node.prim, formulas, node.context.params, node.context.args.map((a) => a.shape))
    const index = indexOf.get(node.id)!
    const value = node.context.out
    rows.push(withTangent({ index, name: rowName(index), op: node.prim, operands: Object.freeze(operands), expression: printText(formula), formula, value, shape: value.shape }, node.id))
    const found = rowWarnings(index, node.prim, {
      row: `${rowName(index)} = ${printText(formula)}`,
      args: node.context.args,
      out: value,
      params: node.context.params,
      names: formulas.map(printText),
      traced: node.inputs.map((input) => input !== null)
    })
    warnings.push(...found.filter((w) => derivatives || w.kind === 'value'))
  }

  // ---- the backward sweep: newest row first, one step per use of a traced value
  const steps: AdjointStep[] = []
  const adjoints = new Map<number, Tensor>()
  const scalar = y.size === 1
  const seed = scalar ? full(y.shape, 1, { dtype: y.dtype }) : undefined
  if (seed !== undefined) {
    adjoints.set(yId, seed)
    for (let k = visible.length - 1; k >= 0; k--) {
      const node = visible[k]!
      const adjoint = adjoints.get(node.id)
      if (adjoint === undefined) continue
      const pullbacks = ruleOf(node.prim).vjp(node.context)
      const formulas = operandFormulas.get(node.id)!
      const shapes = node.context.args.map((a) => a.shape)
      node.inputs.forEach((input, i) => {
        if (input === null) return
        // a non-finite value here is the reverse (adjoint) rule's, not the forward pass's
        let contribution = Numerics.inPhase(`reverse (adjoint) rule of ${node.prim} (row ${rowName(indexOf.get(node.id)!)}, input ${i})`, () => pullbacks[i]!(adjoint))
        if (allFinite(adjoint) && !allFinite(contribution)) infinitePartials.push({ id: node.id, operand: i })
        let target = input
        // through hidden reshapes: their pullback only restores the target's shape
        while (hidden.has(target)) {
          const h = byId.get(target)!
          contribution = ruleOf(h.prim).vjp(h.context)[0]!(contribution)
          target = h.inputs[0]!
        }
        const previous = adjoints.get(target)
        const accumulated = previous === undefined ? contribution : bind('add', [previous, contribution], {})
        adjoints.set(target, accumulated)
        const source = indexOf.get(node.id)!
        const targetIndex = indexOf.get(target)!
        const partialFormula = partialOf(node.prim, formulas, i, node.context.params, shapes) ?? { kind: 'partial', of: source, wrt: targetIndex }
        const contributionFormula = contributionOf(node.prim, formulas, i, node.context.params, source, partialFormula)
        steps.push(
          Object.freeze({ target: targetIndex, source, partial: printText(partialFormula), partialFormula, contributionFormula, contribution, accumulated, accumulates: previous !== undefined })
        )
      })
    }
  }
  // a rule that made a finite adjoint or tangent infinite, at a row with finite numbers and no
  // warning of its own: the generic derivative warning
  for (const { id, operand } of infinitePartials) {
    const node = byId.get(id)!
    const row = indexOf.get(id)!
    if (!node.context.args.every(allFinite) || !allFinite(node.context.out)) continue
    if (warnings.some((w) => w.row === row && (w.kind === 'value' || w.operand === operand))) continue
    const formulas = operandFormulas.get(id)!
    const partial = partialOf(node.prim, formulas, operand, node.context.params, node.context.args.map((a) => a.shape))
    const wrt = printText(formulas[operand]!)
    const d = `∂${rowName(row)}/∂${wrt}${partial === undefined ? '' : ` = ${printText(partial)}`}`
    warnings.push(Object.freeze({ row, op: node.prim, kind: 'derivative' as const, operand, message: `${rowName(row)} = ${printText(rows[row + n - 1]!.formula)}: the partial derivative ${d} is not finite at this point, so the derivatives passed through it are ∞ or NaN` }))
  }
  warnings.sort((a, b) => a.row - b.row || (a.kind === b.kind ? (a.operand ?? -1) - (b.operand ?? -1) : a.kind === 'value' ? -1 : 1))

  const gradient: Record<string, Tensor> = {}
  if (scalar) names.forEach((name, k) => (gradient[name] = adjoints.get(ids[k]!) ?? full(primals[k]!.shape, 0, { dtype: primals[k]!.dtype })))

  return Object.freeze({
    inputs: Object.freeze([...names]),
    rows: Object.freeze(rows),
    output: idx(yId),
    ...(seed === undefined ? {} : { seed }),
    adjoints: Object.freeze(steps),
    gradient: Object.freeze(gradient),
    warnings: Object.freeze(warnings),
    ...(options.expression === undefined ? {} : { expression: options.expression })
  })
}

// ================================================================ printing formulas

const ADD = 1, NEG = 1, MUL = 2, APPLY = 4, POW = 5, ATOM = 6
const textRelations: { readonly [R in Relation]: string } = { '>': '>', '<': '<', '>=': '≥', '<=': '≤', '==': '=', '!=': '≠' }
const latexRelations: { readonly [R in Relation]: string } = { '>': '>', '<': '<', '>=': '\\geq', '<=': '\\leq', '==': '=', '!=': '\\neq' }

interface Printed {
  readonly s: string
  readonly p: number
}

/** How one notation writes the leaves of a formula. */
interface Style {
  readonly latex: boolean
  readonly variable: (index: number) => Printed
  readonly number: (value: number) => Printed
  readonly constant: (value: Tensor) => string
}

/** A constant as written inside formulas: up to 6 significant digits. */
const compact = (v: number, latex: boolean): Printed => {
  const s = Number.isFinite(v) ? String(Number(v.toPrecision(6))) : Number.isNaN(v) ? 'NaN' : v > 0 ? '∞' : '-∞'
  const t = latex ? s.replace('∞', '\\infty').replace('NaN', '\\mathrm{NaN}') : s.replace('-', '−')
  return { s: t, p: t.startsWith('-') || t.startsWith('−') ? NEG : ATOM }
}

const LATEX_FUNCTIONS: Readonly<Record<string, string>> = {
  ln: '\\ln', sin: '\\sin', cos: '\\cos', tanh: '\\tanh', exp: '\\exp', max: '\\max', min: '\\min', 'σ': '\\sigma', 'Σ': '\\sum'
}
const latexFunction = (fn: string): string => LATEX_FUNCTIONS[fn] ?? `\\mathrm{${latexEscape(fn)}}`

const GREEK: Readonly<Record<string, string>> = {
  α: 'alpha', β: 'beta', γ: 'gamma', δ: 'delta', ε: 'epsilon', ζ: 'zeta', η: 'eta', θ: 'theta', ι: 'iota', κ: 'kappa', λ: 'lambda', μ: 'mu',
  ν: 'nu', ξ: 'xi', π: 'pi', ρ: 'rho', σ: 'sigma', τ: 'tau', υ: 'upsilon', φ: 'phi', χ: 'chi', ψ: 'psi', ω: 'omega'
}

/** Escapes text for LaTeX math mode inside `\mathrm{…}`; characters pdflatex cannot typeset become `?`. */
const latexEscape = (s: string): string =>
  [...s]
    .map((c) => {
      if ('#$%&_{}'.includes(c)) return `\\${c}`
      if (c === '\\') return '\\backslash{}'
      if (c === '^') return '\\wedge{}'
      if (c === '~') return '\\sim{}'
      if (c === ' ') return '\\ '
      if (GREEK[c] !== undefined) return `\\${GREEK[c]}{}`
      return /^[\x20-\x7e]$/.test(c) ? c : '?'
    })
    .join('')

/** An input's name in LaTeX: `x1` → `x_{1}`, `w` → `w`, anything else upright. */
const latexName = (name: string): string => {
  const m = /^([A-Za-z])_?(\d+)$/.exec(name)
  if (m !== null) return `${m[1]}_{${m[2]}}`
  if (/^[A-Za-z]$/.test(name)) return name
  if (GREEK[name] !== undefined) return `\\${GREEK[name]}`
  return `\\mathrm{${latexEscape(name)}}`
}

/** An accent over an input's name: `x̄1`, `\bar{x}_{1}`. */
const accented = (name: string, accent: 'bar' | 'dot', latex: boolean): string => {
  if (!latex) {
    const [first = '', ...rest] = [...name]
    return `${first}${accent === 'bar' ? '\u0304' : '\u0307'}${rest.join('')}`
  }
  const m = /^([A-Za-z])_?(\d+)$/.exec(name)
  if (m !== null) return `\\${accent}{${m[1]}}_{${m[2]}}`
  if (/^[A-Za-z]$/.test(name) || GREEK[name] !== undefined) return `\\${accent}{${latexName(name)}}`
  return accent === 'bar' ? `\\overline{${latexName(name)}}` : `\\dot{${latexName(name)}}`
}

const varText = (index: number, latex: boolean, accent?: 'bar' | 'dot'): string =>
  latex
    ? `${accent === undefined ? 'v' : `\\${accent}{v}`}_{${index}}`
    : `v${accent === 'bar' ? '\u0304' : accent === 'dot' ? '\u0307' : ''}${script(SUBSCRIPT, String(index))}`

const wrap = (x: Printed, when: boolean, latex: boolean): string => (when ? (latex ? `\\left(${x.s}\\right)` : `(${x.s})`) : x.s)

const BINARY_TEXT = { '+': ' + ', '−': ' − ', '×': ' × ', '/': '/', '·': ' · ', ' ': ' ' } as const
const BINARY_LATEX = { '+': ' + ', '−': ' - ', '×': ' \\times ', '/': ' / ', '·': ' \\cdot ', ' ': ' \\, ' } as const

const exponentText = (e: number, latex: boolean): string => {
  const s = String(Number(e.toPrecision(6)))
  if (latex) return `^{${s}}`
  return /^-?\d+$/.test(s) ? script(SUPERSCRIPT, s) : e < 0 ? `^(${s.replace('-', '−')})` : `^${s}`
}

const print = (f: Formula, st: Style): Printed => {
  const L = st.latex
  const go = (g: Formula): Printed => print(g, st)
  switch (f.kind) {
    case 'var': return st.variable(f.index)
    case 'bar': return { s: varText(f.index, L, 'bar'), p: ATOM }
    case 'input': return { s: L ? latexName(f.name) : f.name, p: ATOM }
    case 'symbol': return { s: L ? f.latex : f.text, p: ATOM }
    case 'number': return st.number(f.value)
    case 'constant': return { s: st.constant(f.value), p: ATOM }
    case 'label': return { s: L ? `\\mathrm{${latexEscape(f.text)}}` : f.text, p: ATOM }
    case 'binary': {
      const p = f.op === '+' || f.op === '−' ? ADD : MUL
      const l = go(f.left)
      const r = go(f.right)
      return { s: `${wrap(l, l.p < p, L)}${(L ? BINARY_LATEX : BINARY_TEXT)[f.op]}${wrap(r, r.p <= p, L)}`, p }
    }
    case 'neg': {
      const a = go(f.arg)
      return { s: `${L ? '-' : '−'}${wrap(a, a.p <= NEG, L)}`, p: NEG }
    }
    case 'apply': {
      const a = go(f.arg)
      const name = L ? latexFunction(f.fn) : f.fn
      const power = f.power === undefined ? '' : exponentText(f.power, L)
      const parens = a.p <= APPLY
      return { s: `${name}${power}${parens ? wrap(a, true, L) : ` ${a.s}`}`, p: APPLY }
    }
    case 'call': {
      const name = L ? latexFunction(f.fn) : f.fn
      const args = f.args.map((g) => go(g).s).join(', ')
      return { s: L ? `${name}\\left(${args}\\right)` : `${name}(${args})`, p: ATOM }
    }
    case 'pow': {
      const b = go(f.base)
      const base = wrap(b, b.p < ATOM, L)
      return { s: L ? `{${base}}${exponentText(f.exponent, L)}` : `${base}${exponentText(f.exponent, L)}`, p: POW }
    }
    case 'power': {
      const b = go(f.base)
      const e = go(f.exponent)
      const base = wrap(b, b.p < ATOM, L)
      return { s: L ? `{${base}}^{${e.s}}` : `${base}^${wrap(e, e.p < ATOM, L)}`, p: POW }
    }
    case 'sqrt': {
      const a = go(f.arg)
      return L ? { s: `\\sqrt{${a.s}}`, p: ATOM } : { s: `√${wrap(a, a.p < ATOM, L)}`, p: APPLY }
    }
    case 'abs': {
      const a = go(f.arg)
      return { s: L ? `\\left|${a.s}\\right|` : `|${a.s}|`, p: ATOM }
    }
    case 'transpose': {
      const a = go(f.arg)
      return { s: L ? `{${wrap(a, a.p < ATOM, L)}}^{\\top}` : `${wrap(a, a.p < ATOM, L)}ᵀ`, p: POW }
    }
    case 'indicator': {
      const [l, r] = [go(f.left), go(f.right)]
      return { s: `[${l.s} ${(L ? latexRelations : textRelations)[f.rel]} ${r.s}]`, p: ATOM }
    }
    case 'partial':
      return L
        ? { s: `\\frac{\\partial v_{${f.of}}}{\\partial v_{${f.wrt}}}`, p: ATOM }
        : { s: `∂${varText(f.of, false)}/∂${varText(f.wrt, false)}`, p: ATOM }
  }
}

const textConstant = (t: Tensor): string => (t.size <= 4 && t.shape.length <= 1 ? `[${Array.from(t.data, (v) => compact(v, false).s).join(', ')}]` : `c${showShape(t.shape)}`)
const latexConstant = (t: Tensor): string =>
  t.size <= 4 && t.shape.length <= 1 ? `[${Array.from(t.data, (v) => compact(v, true).s).join(', ')}]` : `c_{${t.shape.join(' \\times ')}}`

const textStyle: Style = { latex: false, variable: (i) => ({ s: varText(i, false), p: ATOM }), number: (v) => compact(v, false), constant: textConstant }
const latexStyle: Style = { latex: true, variable: (i) => ({ s: varText(i, true), p: ATOM }), number: (v) => compact(v, true), constant: latexConstant }

/** A formula in Unicode text. */
const printText = (f: Formula): string => print(f, textStyle).s

/**
 * Prints a formula of a trace (a row's `formula`, a step's `partialFormula` or
 * `contributionFormula`) in Unicode (`'text'`, the default) or in LaTeX math (`'latex'`).
 *
 * @example
 * ```ts
 * import { Trace, log } from 'lamina-nn'
 * import assert from 'node:assert'
 * const [step] = Trace.trace(({ x }) => log(x), { x: 2 }).adjoints
 * assert.strictEqual(Trace.showFormula(step!.partialFormula), '1/v₀')
 * assert.strictEqual(Trace.showFormula(step!.contributionFormula, 'latex'), '\\bar{v}_{1} / v_{0}')
 * ```
 */
export const showFormula = (formula: Formula, notation: 'text' | 'latex' = 'text'): string =>
  print(formula, notation === 'latex' ? latexStyle : textStyle).s

// ================================================================ rendering

/** Options of the renderers. */
export interface RenderOptions {
  /** Decimals of the numbers shown (trailing zeros dropped); 3 by default. */
  readonly digits?: number
  /** Tensors with more elements than this are summarized (first elements and norm); 6 by default. */
  readonly maxElements?: number
}

/** The output formats of {@link render}. */
export type Format = 'text' | 'markdown' | 'latex'

interface Resolved {
  readonly digits: number
  readonly maxElements: number
}

const resolveOptions = (o: RenderOptions | undefined): Resolved => {
  const digits = o?.digits ?? 3
  const maxElements = o?.maxElements ?? 6
  if (!Number.isInteger(digits) || digits < 0 || digits > 20) throw new ArgumentError(`render: digits must be an integer in 0…20, got ${String(digits)}`)
  if (!Number.isInteger(maxElements) || maxElements < 1) throw new ArgumentError(`render: maxElements must be a positive integer, got ${String(maxElements)}`)
  return { digits, maxElements }
}

/** A number to `digits` decimals, trailing zeros dropped; `−` in text, `-` in LaTeX. */
const formatNumber = (v: number, digits: number, latex: boolean): string => {
  if (Number.isNaN(v)) return latex ? '\\mathrm{NaN}' : 'NaN'
  if (!Number.isFinite(v)) return `${v < 0 ? (latex ? '-' : '−') : ''}${latex ? '\\infty' : '∞'}`
  let s = v.toFixed(digits)
  if (s.includes('.') && !s.includes('e')) s = s.replace(/0+$/, '').replace(/\.$/, '')
  if (s === '-0') s = '0'
  return latex ? s : s.replace('-', '−')
}

/** A tensor's value: the number for a scalar, the elements when few, else the first three and the norm. */
const formatTensor = (t: Tensor, o: Resolved, latex: boolean): string => {
  const fmt = (v: number) => formatNumber(v, o.digits, latex)
  if (t.shape.length === 0) return fmt(t.item())
  const data = t.data
  if (t.size <= o.maxElements) {
    const nest = (x: unknown): string => (typeof x === 'number' ? fmt(x) : `[${(x as unknown[]).map(nest).join(', ')}]`)
    return nest(t.toArray())
  }
  let sq = 0
  for (const v of data) sq += v * v
  const head = Array.from({ length: 3 }, (_, i) => fmt(data[i]!)).join(', ')
  return latex ? `[${head}, \\ldots]\\ \\|\\cdot\\| = ${fmt(Math.sqrt(sq))}` : `[${head}, …] ‖·‖ = ${fmt(Math.sqrt(sq))}`
}

/** A cell of a rendered table. */
type Cell =
  | { readonly kind: 'formula'; readonly formula: Formula; readonly values?: boolean }
  | { readonly kind: 'tensor'; readonly value: Tensor }
  | { readonly kind: 'shape'; readonly shape: Shape }
  | { readonly kind: 'blank' }

interface Header {
  readonly text: string
  readonly latex: string
  readonly numeric?: boolean
}

interface Section {
  readonly title: Header
  readonly columns: readonly Header[]
  /** Groups of rows, separated by a rule. */
  readonly groups: readonly (readonly Cell[])[][]
}

interface Layout {
  /** `y = …` over the inputs, or `y = f(x1, x2)` when the expression is too long. */
  readonly heading: Header
  readonly sections: readonly Section[]
}

const BLANK: Cell = { kind: 'blank' }
const fcell = (formula: Formula, values = false): Cell => ({ kind: 'formula', formula, values })
const tcell = (value: Tensor): Cell => ({ kind: 'tensor', value })

/** Replaces the row references of a formula. */
const substitute = (f: Formula, by: (index: number) => Formula): Formula => {
  const go = (g: Formula): Formula => substitute(g, by)
  switch (f.kind) {
    case 'var': return by(f.index)
    case 'binary': return { ...f, left: go(f.left), right: go(f.right) }
    case 'neg':
    case 'apply':
    case 'sqrt':
    case 'abs':
    case 'transpose': return { ...f, arg: go(f.arg) }
    case 'call': return { ...f, args: f.args.map(go) }
    case 'pow': return { ...f, base: go(f.base) }
    case 'power': return { ...f, base: go(f.base), exponent: go(f.exponent) }
    case 'indicator': return { ...f, left: go(f.left), right: go(f.right) }
    default: return f
  }
}

const formulaSize = (f: Formula): number => {
  switch (f.kind) {
    case 'binary':
    case 'indicator': return 1 + formulaSize(f.left) + formulaSize(f.right)
    case 'neg':
    case 'apply':
    case 'sqrt':
    case 'abs':
    case 'transpose': return 1 + formulaSize(f.arg)
    case 'call': return f.args.reduce((acc, g) => acc + formulaSize(g), 1)
    case 'pow': return 1 + formulaSize(f.base)
    case 'power': return 1 + formulaSize(f.base) + formulaSize(f.exponent)
    default: return 1
  }
}

const MAX_HEADING_SIZE = 40
/** An expression as written is shown in the heading up to this size (it holds no repeated parts). */
const MAX_WRITTEN_SIZE = 200

/** The whole expression over the inputs' names, or `undefined` when it is too large to read. */
const composed = (t: Trace): Formula | undefined => {
  const byIndex = new Map<number, Formula | undefined>()
  for (const row of t.rows) {
    if (row.op === 'input') {
      byIndex.set(row.index, row.formula)
      continue
    }
    let tooBig = false
    const f = substitute(row.formula, (i) => {
      const g = byIndex.get(i)
      if (g === undefined) tooBig = true
      return g ?? { kind: 'var', index: i }
    })
    byIndex.set(row.index, tooBig || formulaSize(f) > MAX_HEADING_SIZE ? undefined : f)
  }
  return byIndex.get(t.output)
}

const rowAt = (t: Trace, index: number): TraceRow => t.rows[index + t.inputs.length - 1]!

const layout = (t: Trace, o: Resolved): Layout => {
  const allScalar = t.rows.every((r) => r.shape.length === 0)
  const hasTangent = t.rows.some((r) => r.tangent !== undefined)
  // the output is y, unless an input has that name (then the first free one of f, F, out)
  const yName = ['y', 'f', 'F', 'out'].find((c) => !t.inputs.includes(c)) ?? 'y'
  const yLatex = yName === 'out' ? '\\mathrm{out}' : yName
  const y = { kind: 'symbol', text: yName, latex: yLatex } as const
  const inputRows = t.rows.filter((r) => r.op === 'input')

  // heading: y = ln x1 + x1 × x2 − sin x2   at x1 = 2, x2 = 5
  const whole = t.expression !== undefined && formulaSize(t.expression) <= MAX_WRITTEN_SIZE ? t.expression : composed(t)
  const fText = whole === undefined ? `f(${t.inputs.join(', ')})` : print(whole, textStyle).s
  const fLatex = whole === undefined ? `f(${t.inputs.map(latexName).join(', ')})` : print(whole, latexStyle).s
  const at = (latex: boolean) =>
    inputRows
      .map((r) => {
        const name = latex ? latexName(r.expression) : r.expression
        const v = r.shape.length === 0 ? ` = ${formatNumber(r.value.item(), o.digits, latex)}` : latex ? ` \\in \\mathbf{R}^{${r.shape.join(' \\times ')}}` : `: ${showShape(r.shape)}`
        return latex ? `$${name}${v}$` : `${name}${v}`
      })
      .join(', ')
  const heading: Header = { text: `${yName} = ${fText}   at ${at(false)}`, latex: `$${yLatex} = ${fLatex}$ at ${at(true)}` }

  // forward primal trace
  const tangentCaption = (latex: boolean) =>
    inputRows
      .map((r) => {
        const data = Array.from(r.tangent!.data)
        const v = data.length > 0 && data.every((x) => x === data[0]) ? formatNumber(data[0]!, o.digits, latex) : formatTensor(r.tangent!, o, latex)
        return latex ? `$${accented(r.expression, 'dot', true)} = ${v}$` : `${accented(r.expression, 'dot', false)} = ${v}`
      })
      .join(', ')
  const forwardColumns: Header[] = [
    { text: 'vᵢ', latex: '$v_i$' },
    { text: 'expression', latex: 'expression' },
    ...(allScalar ? [{ text: 'with values', latex: 'with values' }] : [{ text: 'shape', latex: 'shape' }]),
    { text: 'value', latex: 'value', numeric: true },
    ...(hasTangent ? [{ text: 'v̇ᵢ', latex: '$\\dot{v}_i$', numeric: true }] : [])
  ]
  const forwardRow = (r: TraceRow, first: Formula, expression: Formula, withValues: boolean): Cell[] => [
    fcell(first),
    fcell(expression),
    allScalar ? (withValues ? fcell(r.formula, true) : BLANK) : { kind: 'shape', shape: r.shape },
    tcell(r.value),
    ...(hasTangent ? [tcell(r.tangent!)] : [])
  ]
  const forward: Section = {
    title: hasTangent
      ? { text: `Forward primal trace (tangent ${tangentCaption(false)})`, latex: `\\textbf{Forward primal trace} (tangent ${tangentCaption(true)})` }
      : { text: 'Forward primal trace', latex: '\\textbf{Forward primal trace}' },
    columns: forwardColumns,
    groups: [
      inputRows.map((r) => forwardRow(r, { kind: 'var', index: r.index }, r.formula, false)),
      t.rows.filter((r) => r.op !== 'input').map((r) => forwardRow(r, { kind: 'var', index: r.index }, r.formula, true)),
      [forwardRow(rowAt(t, t.output), y, { kind: 'var', index: t.output }, false)]
    ].filter((g) => g.length > 0)
  }
  if (t.seed === undefined) {
    const shape = showShape(rowAt(t, t.output).shape)
    return {
      heading,
      sections: [
        forward,
        { title: { text: `Reverse adjoint trace: none (${yName} has shape ${shape}; the adjoint trace starts from a scalar)`, latex: `\\textbf{Reverse adjoint trace}: none ($${yLatex}$ has shape $${shape}$; the adjoint trace starts from a scalar)` }, columns: [], groups: [] }
      ]
    }
  }

  // reverse adjoint trace
  const reverseColumns: Header[] = [
    { text: 'v̄ᵢ', latex: '$\\bar{v}_i$' },
    { text: 'rule', latex: 'rule' },
    { text: 'formula', latex: 'formula' },
    ...(allScalar ? [] : [{ text: 'shape', latex: 'shape' }]),
    { text: 'contribution', latex: 'contribution', numeric: true },
    { text: 'value', latex: 'value', numeric: true }
  ]
  const reverseRow = (first: Formula, rule: Formula, formula: Cell, shape: Shape, contribution: Cell, value: Tensor): Cell[] => [
    fcell(first),
    fcell(rule),
    formula,
    ...(allScalar ? [] : [{ kind: 'shape', shape } as const]),
    contribution,
    tcell(value)
  ]
  const stepRow = (s: AdjointStep): Cell[] => {
    const use: Formula = bin(' ', { kind: 'bar', index: s.source }, { kind: 'partial', of: s.source, wrt: s.target })
    const product = s.contributionFormula
    const bar: Formula = { kind: 'bar', index: s.target }
    return reverseRow(bar, s.accumulates ? bin('+', bar, use) : use, fcell(s.accumulates ? bin('+', bar, product) : product), s.contribution.shape, tcell(s.contribution), s.accumulated)
  }
  const reverse: Section = {
    title: { text: 'Reverse adjoint trace', latex: '\\textbf{Reverse adjoint trace}' },
    columns: reverseColumns,
    groups: [
      [reverseRow({ kind: 'bar', index: t.output }, { kind: 'symbol', text: yName === 'y' ? 'ȳ' : accented(yName, 'bar', false), latex: yName === 'out' ? '\\overline{\\mathrm{out}}' : `\\bar{${yName}}` }, BLANK, t.seed.shape, BLANK, t.seed)],
      t.adjoints.map(stepRow),
      inputRows.map((r) => {
        const g = t.gradient[r.expression]!
        const name = { kind: 'symbol', text: accented(r.expression, 'bar', false), latex: accented(r.expression, 'bar', true) } as const
        return reverseRow(name, { kind: 'bar', index: r.index }, BLANK, g.shape, BLANK, g)
      })
    ].filter((g) => g.length > 0)
  }
  return { heading, sections: [forward, reverse] }
}

/** A cell in Unicode (text and Markdown). */
const cellText = (t: Trace, c: Cell, o: Resolved): string => {
  switch (c.kind) {
    case 'blank': return ''
    case 'shape': return showShape(c.shape)
    case 'tensor': return formatTensor(c.value, o, false)
    case 'formula': {
      if (c.values !== true) return print(c.formula, textStyle).s
      const style: Style = {
        ...textStyle,
        variable: (i) => {
          const v = rowAt(t, i).value.item()
          return { s: formatNumber(v, o.digits, false), p: v < 0 ? NEG : ATOM }
        }
      }
      return print(c.formula, style).s
    }
  }
}

/** A cell in LaTeX (math mode for everything but blanks). */
const cellLatex = (t: Trace, c: Cell, o: Resolved): string => {
  switch (c.kind) {
    case 'blank': return ''
    case 'shape': return `$${showShape(c.shape)}$`
    case 'tensor': return `$${formatTensor(c.value, o, true)}$`
    case 'formula': {
      if (c.values !== true) return `$${print(c.formula, latexStyle).s}$`
      const style: Style = {
        ...latexStyle,
        variable: (i) => {
          const v = rowAt(t, i).value.item()
          return { s: formatNumber(v, o.digits, true), p: v < 0 ? NEG : ATOM }
        }
      }
      return `$${print(c.formula, style).s}$`
    }
  }
}

/** Display width in a terminal: combining marks take no column. */
const width = (s: string): number => [...s.normalize('NFD')].filter((c) => !/\p{M}/u.test(c)).length

const pad = (s: string, w: number, right: boolean): string => {
  const fill = ' '.repeat(Math.max(0, w - width(s)))
  return right ? fill + s : s + fill
}

const box = (columns: readonly Header[], groups: readonly (readonly string[])[][]): string => {
  const widths = columns.map((h, j) => Math.max(width(h.text), ...groups.flat().map((r) => width(r[j] ?? ''))))
  const rule = (l: string, m: string, r: string) => l + widths.map((w) => '─'.repeat(w + 2)).join(m) + r
  const line = (cells: readonly string[]) => '│' + widths.map((w, j) => ` ${pad(cells[j] ?? '', w, columns[j]!.numeric === true)} `).join('│') + '│'
  const out = [rule('┌', '┬', '┐'), line(columns.map((c) => c.text))]
  for (const g of groups) {
    out.push(rule('├', '┼', '┤'))
    for (const r of g) out.push(line(r))
  }
  out.push(rule('└', '┴', '┘'))
  return out.join('\n')
}

/**
 * The traces as terminal tables in Unicode: the forward primal trace (with the tangent
 * column `v̇ᵢ` when the trace has one) and the reverse adjoint trace, numbers to
 * `options.digits` decimals (3 by default). Tensor rows show their shape, and values with
 * more than `options.maxElements` elements show their first elements and their norm.
 *
 * @example
 * ```ts
 * import { Trace, add, log, mul, sin, sub } from 'lamina-nn'
 * import assert from 'node:assert'
 * const t = Trace.trace(({ x1, x2 }) => sub(add(log(x1), mul(x1, x2)), sin(x2)), { x1: 2, x2: 5 })
 * const text = Trace.renderText(t)
 * assert.ok(text.startsWith('y = ln x1 + x1 × x2 − sin x2   at x1 = 2, x2 = 5'))
 * assert.ok(text.includes('│ v₁  │ ln v₋₁     │ ln 2 '))
 * assert.ok(text.includes('v̄₋₁ + v̄₁/v₋₁'))          // v̄₋₁ accumulates its second use
 * assert.ok(Trace.renderText(t, { digits: 6 }).includes('11.652071'))
 * ```
 */
export const renderText = (trace: Trace, options?: RenderOptions): string => {
  const o = resolveOptions(options)
  const { heading, sections } = layout(trace, o)
  const parts = [heading.text]
  for (const s of sections) {
    parts.push('', s.title.text)
    if (s.columns.length > 0) parts.push(box(s.columns, s.groups.map((g) => g.map((r) => r.map((c) => cellText(trace, c, o))))))
  }
  if (trace.warnings.length > 0) parts.push('', 'Warnings', ...trace.warnings.map((w) => `  - ${w.message}`))
  return parts.join('\n') + '\n'
}

const markdownEscape = (s: string): string => s.replace(/[\\|*_`[\]]/g, (c) => `\\${c}`).replace(/</g, '&lt;')

/**
 * The traces as Markdown (GitHub tables), with the same columns as {@link renderText}.
 *
 * @example
 * ```ts
 * import { Trace, mul, sin } from 'lamina-nn'
 * import assert from 'node:assert'
 * const md = Trace.renderMarkdown(Trace.trace(({ x }) => mul(x, sin(x)), { x: 2 }))
 * assert.ok(md.includes('| vᵢ | expression | with values | value |'))
 * assert.ok(md.includes('| v₂ | v₀ × v₁ | 2 × 0.909 | 1.819 |'))
 * ```
 */
export const renderMarkdown = (trace: Trace, options?: RenderOptions): string => {
  const o = resolveOptions(options)
  const { heading, sections } = layout(trace, o)
  const parts = [markdownEscape(heading.text).replace(/ {3}at /, ' at ')]
  for (const s of sections) {
    parts.push('', `**${markdownEscape(s.title.text)}**`)
    if (s.columns.length === 0) continue
    const row = (cells: readonly string[]) => `| ${cells.map((c) => (c === '' ? ' ' : markdownEscape(c))).join(' | ')} |`
    parts.push('', row(s.columns.map((c) => c.text)), `|${s.columns.map((c) => (c.numeric === true ? ' --: ' : ' :-- ')).join('|')}|`)
    for (const g of s.groups) for (const r of g) parts.push(row(r.map((c) => cellText(trace, c, o))))
  }
  if (trace.warnings.length > 0) parts.push('', '**Warnings**', '', ...trace.warnings.map((w) => `- ${markdownEscape(w.message)}`))
  return parts.join('\n') + '\n'
}

/**
 * The traces as one LaTeX `tabular` (plain LaTeX, no packages needed): `v_{-1}`,
 * `\bar{v}_{1}`, `\dot{v}_{0}`, a rule between the groups of rows.
 *
 * @example
 * ```ts
 * import { Trace, add, log, mul, sin, sub } from 'lamina-nn'
 * import assert from 'node:assert'
 * const tex = Trace.renderLatex(Trace.trace(({ x1, x2 }) => sub(add(log(x1), mul(x1, x2)), sin(x2)), { x1: 2, x2: 5 }))
 * assert.ok(tex.startsWith('\\begin{tabular}'))
 * assert.ok(tex.includes('$v_{1}$ & $\\ln v_{-1}$ & $\\ln 2$ & $0.693$'))
 * assert.ok(tex.includes('$\\bar{v}_{-1} + \\bar{v}_{1} / v_{-1}$'))
 * ```
 */
export const renderLatex = (trace: Trace, options?: RenderOptions): string => {
  const o = resolveOptions(options)
  const { heading, sections } = layout(trace, o)
  const ncol = Math.max(1, ...sections.map((s) => s.columns.length))
  const full = (content: string) => `\\multicolumn{${ncol}}{l}{${content}} \\\\`
  const row = (cells: readonly string[]) => `${[...cells, ...Array<string>(ncol - cells.length).fill('')].join(' & ')} \\\\`
  const lines = [`\\begin{tabular}{${'l'.repeat(ncol)}}`, full(heading.latex)]
  for (const s of sections) {
    lines.push('\\hline', full(s.title.latex))
    if (s.columns.length === 0) continue
    lines.push(row(s.columns.map((c) => c.latex)))
    for (const g of s.groups) {
      lines.push('\\hline')
      for (const r of g) lines.push(row(r.map((c) => cellLatex(trace, c, o))))
    }
  }
  lines.push('\\hline', '\\end{tabular}')
  // the warnings as comments: their Unicode is safe there, and the table still compiles
  if (trace.warnings.length > 0) lines.push('% Warnings', ...trace.warnings.map((w) => `% - ${w.message.replace(/[\r\n]+/g, ' ')}`))
  return lines.join('\n') + '\n'
}

/**
 * Renders a trace in one of the formats: `'text'` ({@link renderText}), `'markdown'`
 * ({@link renderMarkdown}) or `'latex'` ({@link renderLatex}).
 *
 * @example
 * ```ts
 * import { Trace, tanh } from 'lamina-nn'
 * import assert from 'node:assert'
 * const t = Trace.trace(({ x }) => tanh(x), { x: 0.5 })
 * assert.strictEqual(Trace.render(t, 'text'), Trace.renderText(t))
 * assert.ok(Trace.render(t, 'latex').includes('\\tanh v_{0}'))
 * ```
 */
export const render = (trace: Trace, format: Format, options?: RenderOptions): string => {
  switch (format) {
    case 'text': return renderText(trace, options)
    case 'markdown': return renderMarkdown(trace, options)
    case 'latex': return renderLatex(trace, options)
    default: throw new ArgumentError(`render: unknown format ${JSON.stringify(format)}: expected 'text', 'markdown' or 'latex'`)
  }
}
