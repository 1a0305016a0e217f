/**
 * The GPU.js kernel expression of every elementwise primitive: ONE total table, read by the
 * eager GPU.js backend (`gpu-backend.ts`) and by the compiled interpreter's code generator
 * (`compiled/codegen.ts`). A primitive missing here is a compile error in both (the table is a
 * mapped type over {@link ElementwiseOp}; codegen's switch over the primitives ends in `never`).
 *
 * An entry writes the expression of one output element from its operands' expressions. The
 * operands are atoms (a name, a literal or an element read), so an entry may wrap them in any
 * operator; an entry that uses an operand or a subexpression twice names it with
 * {@link ExpressionEmitter.let} so it is computed once. One form per primitive, the portable
 * one every GPU.js mode runs: float arithmetic, ternaries and the `Math` functions that every
 * backend translates (`Math.log1p` and `Math.erf` are not among them: written out here).
 *
 * User primitives (`definePrimitive({ kernel })`) have the same shape: their `kernel(operands,
 * params)` is a {@link KernelExpression} that needs no emitter.
 *
 * @module
 */
import type { BinaryOp, Relation, UnaryOp } from './backend.js'

/** Elementwise primitives with a kernel expression: the backend's unary and binary ops and the primitives of masks and powers. */
export type ElementwiseOp = UnaryOp | BinaryOp | 'power' | 'sign' | 'compare' | 'select' | 'stopGradient'

/** The parameters an entry reads (the primitive's parameters; `{}` for most). */
export interface ExpressionParams {
  readonly pow: { readonly exponent: number }
  readonly compare: { readonly relation: Relation }
}

/** The parameters of `op`'s entry. */
export type ParamsOf<O extends ElementwiseOp> = O extends keyof ExpressionParams ? ExpressionParams[O] : {}

/** What an entry may ask of the kernel it is written into. */
export interface ExpressionEmitter {
  /** `expression` under a name, computed once (a name or a literal comes back as it is). */
  let(expression: string): string
  /** A float32 constant as a literal every GPU.js mode parses (the emitter refuses a non-finite one). */
  constant(value: number): string
}

/** One output element's expression from the operands' expressions (atoms), in operand order. */
export type KernelExpression<P> = (operands: readonly string[], params: P, emit: ExpressionEmitter) => string

/**
 * `v` as a float literal that parses back to the same float32 on every GPU.js mode (a decimal
 * point, so GLSL reads a float; a negative one in parentheses), or `undefined` when `v` is not
 * a finite float32 (no mode has a literal for it): `2` → `'2.0'`, `-0.5` → `'(-0.5)'`.
 */
export const float32Literal = (v: number): string | undefined => {
  const f = Math.fround(v)
  if (!Number.isFinite(f)) return undefined
  const text = Number.isInteger(f) && Math.abs(f) < 1e21 ? `${f}.0` : String(f)
  return f < 0 || Object.is(f, -0) ? `(${text})` : text
}

const binaryOperator = (symbol: string): KernelExpression<{}> => ([a, b]) => `${a!} ${symbol} ${b!}`
const mathCall = (name: string): KernelExpression<{}> => ([x]) => `Math.${name}(${x!})`

/** `v^p` for a constant p: the cheap forms of small exponents, and an integer exponent keeps the sign of a negative base, as `Math.pow`. */
const powExpression: KernelExpression<ExpressionParams['pow']> = ([x], { exponent: p }, emit) => {
  if (p === 0) return '1.0'
  if (p === 1) return x!
  const v = emit.let(x!)
  if (p === 2) return `${v} * ${v}`
  if (p === 0.5) return `Math.sqrt(${v})`
  if (Number.isInteger(p)) {
    const m = emit.let(`Math.pow(Math.abs(${v}), ${emit.constant(p)})`)
    return Math.abs(p % 2) === 1 ? `${v} < 0 ? -${m} : ${m}` : m
  }
  return `Math.pow(${v}, ${emit.constant(p)})`
}

/** erf: |x| < 0.5 by its Taylor series to x⁹ (relative error < 1e-6), else Abramowitz–Stegun 7.1.26 (absolute error < 1.5e-7). */
const erfExpression: KernelExpression<{}> = ([x], _, emit) => {
  const v = emit.let(x!)
  const a = emit.let(`Math.abs(${v})`)
  const s = emit.let(`${v} * ${v}`)
  const series = emit.let(`1.1283791670955126 * ${v} * (1.0 - ${s} * (0.3333333333333333 - ${s} * (0.1 - ${s} * (0.023809523809523808 - ${s} * 0.004629629629629629))))`)
  const t = emit.let(`1.0 / (1.0 + 0.3275911 * ${a})`)
  const poly = emit.let(`${t} * (0.254829592 + ${t} * (-0.284496736 + ${t} * (1.421413741 + ${t} * (-1.453152027 + ${t} * 1.061405429))))`)
  const tail = emit.let(`1.0 - ${poly} * Math.exp(-${s})`)
  return `${a} < 0.5 ? ${series} : (${v} < 0 ? -${tail} : ${tail})`
}

/** Every elementwise primitive's kernel expression: a total table, so a missing entry fails `tsc`. */
export const kernelExpressions: { readonly [O in ElementwiseOp]: KernelExpression<ParamsOf<O>> } = {
  add: binaryOperator('+'),
  sub: binaryOperator('-'),
  mul: binaryOperator('*'),
  div: binaryOperator('/'),
  maximum: ([a, b]) => `Math.max(${a!}, ${b!})`,
  minimum: ([a, b]) => `Math.min(${a!}, ${b!})`,
  // a negative base with an integer exponent as |a|^b with the sign of a for odd b, as Math.pow: GLSL's pow is undefined for a < 0
  power: ([base, exponent], _, emit) => {
    const a = emit.let(base!)
    const b = emit.let(exponent!)
    const m = emit.let(`Math.pow(Math.abs(${a}), ${b})`)
    return `${a} >= 0 ? ${m} : (${b} != Math.floor(${b}) ? Math.pow(${a}, ${b}) : (${b} - 2.0 * Math.floor(${b} * 0.5) == 1.0 ? -${m} : ${m}))`
  },
  // operands [a, b, mask]: the mask is non-zero for true
  select: ([a, b, mask]) => `${mask!} != 0 ? ${a!} : ${b!}`,
  sign: mathCall('sign'),
  compare: ([a, b], { relation }) => `${a!} ${relation} ${b!} ? 1.0 : 0.0`,
  // the identity on values (its zero derivative is the AD's business)
  stopGradient: ([x]) => x!,
  neg: ([x], _, emit) => `-${emit.let(x!)}`,
  exp: mathCall('exp'),
  log: mathCall('log'),
  sin: mathCall('sin'),
  cos: mathCall('cos'),
  tanh: mathCall('tanh'),
  abs: mathCall('abs'),
  sqrt: mathCall('sqrt'),
  // NaN propagates, as the cpu's max(v, 0) (GLSL's max leaves NaN undefined, so not Math.max)
  relu: ([x], _, emit) => {
    const v = emit.let(x!)
    return `${v} > 0 || ${v} != ${v} ? ${v} : 0.0`
  },
  // e^(−|v|) only: never overflows, as the cpu backend's stable form
  sigmoid: ([x], _, emit) => {
    const v = emit.let(x!)
    const e = emit.let(`Math.exp(-Math.abs(${v}))`)
    return `${v} >= 0 ? 1.0 / (1.0 + ${e}) : ${e} / (1.0 + ${e})`
  },
  // max(v, 0) + log1p(e^(−|v|)), log1p by Kahan's trick (log(u)·e/(u − 1), u = 1 + e): Math.log1p is not on every backend
  softplus: ([x], _, emit) => {
    const v = emit.let(x!)
    const e = emit.let(`Math.exp(-Math.abs(${v}))`)
    const u = emit.let(`1.0 + ${e}`)
    return `Math.max(${v}, 0.0) + (${u} == 1.0 ? ${e} : Math.log(${u}) * ${e} / (${u} - 1.0))`
  },
  erf: erfExpression,
  pow: powExpression
}

/** Whether `op` has an entry in {@link kernelExpressions}. */
export const hasKernelExpression = (op: string): op is ElementwiseOp => Object.prototype.hasOwnProperty.call(kernelExpressions, op)

/** `op`'s expression: the table's entry, typed by the operation's own parameters (`add` of `a[i]`, `b[i]` is `a[i] + b[i]`). */
export const kernelExpression = <O extends ElementwiseOp>(op: O, operands: readonly string[], params: ParamsOf<O>, emit: ExpressionEmitter): string =>
  (kernelExpressions[op] as KernelExpression<ParamsOf<O>>)(operands, params, emit)

/**
 * An {@link ExpressionEmitter} that collects its named subexpressions as `const` lines, for a
 * kernel that computes one expression (the eager backend's elementwise kernels). `constant`
 * throws `refuse(value)` for a value without a literal.
 */
export const lineEmitter = (refuse: (value: number) => Error): ExpressionEmitter & { readonly lines: readonly string[] } => {
  const lines: string[] = []
  return {
    lines,
    let: (expression) => {
      if (isAtom(expression)) return expression
      const name = `v${lines.length}`
      lines.push(`const ${name} = ${expression};`)
      return name
    },
    constant: (value) => {
      const text = float32Literal(value)
      if (text === undefined) throw refuse(value)
      return text
    }
  }
}

/** A name or a number literal (`v3`, `2.0`, `(-0.5)`): naming it again would save nothing. */
export const isAtom = (expression: string): boolean => /^(?:[A-Za-z_$][\w$]*|\(?-?\d[\d.e+-]*\)?)$/.test(expression)
