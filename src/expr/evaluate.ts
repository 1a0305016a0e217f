/**
 * Meanings of an expression's syntax tree: as a differentiable function over lamina tensors
 * (`compile`, so that it can be traced, differentiated and checked like any other function),
 * over plain numbers (`evaluateNumber`), and over any `Floating` instance (`interpret`, e.g.
 * dual numbers). This module re-exports the parser, so one namespace holds the whole language.
 *
 * Powers: `a^c` with an exponent `c` that uses no variable (`x^2`, `x^(1/2)`, `x^-1`) is the
 * primitive `pow(a, c)`, with the rule c·a^(c−1). An exponent that depends on variables (`x^y`,
 * `2^x`, `(-1)^n`) is the primitive `power(a, b)`, with the rules b·a^(b−1) and a^b·ln a. Both
 * take their value from `Math.pow`, so a negative base with an integer exponent is real
 * (`(-1)^x` at x = 2 is 1) and with any other exponent NaN. The derivative in a variable exponent,
 * a^b·ln a, needs a > 0: at a < 0 it is NaN (only integer b give a real value there, so a^b is not
 * differentiable in b), at a = 0 it is 0. Numbers (`evaluateNumber`), tensors (`compile`) and
 * dual numbers over numbers (`Dual.FloatingDual`) compute `power` this way; any other `Floating`
 * instance given to `interpret` has no such operation and computes a^b as exp(b·ln a), for a > 0.
 *
 * @module
 */
import * as Dual from '../ad/dual.js'
import type { Formula } from '../ad/trace.js'
import { ArgumentError } from '../error.js'
import { FloatingNumber } from '../floating.js'
import type { Floating } from '../floating.js'
import * as O from '../ops.js'
import { Tensor, full } from '../tensor.js'
import { variables } from './parse.js'
import type { Expr, FunctionName } from './parse.js'

export * from './parse.js'

const has = (o: object, key: string): boolean => Object.prototype.hasOwnProperty.call(o, key)

const list = (names: readonly string[]): string => (names.length === 0 ? 'none' : names.join(', '))

/** Throws an `ArgumentError` naming every variable of `names` that `vars` has no value for. */
const checkPresent = (who: string, names: readonly string[], vars: object): void => {
  const missing = names.filter((n) => !has(vars, n))
  if (missing.length === 0) return
  const what = missing.length === 1 ? `variable '${missing[0]!}'` : `variables ${missing.map((n) => `'${n}'`).join(', ')}`
  throw new ArgumentError(
    `${who}: no value for ${what}; the expression uses ${list(names)} and was given ${list(Object.keys(vars))}`
  )
}

const callOf = <A>(F: Floating<A>, fn: FunctionName): ((x: A) => A) => {
  switch (fn) {
    case 'ln':
      return F.log
    case 'exp':
      return F.exp
    case 'sin':
      return F.sin
    case 'cos':
      return F.cos
    case 'tanh':
      return F.tanh
    case 'sigmoid':
      return F.sigmoid
    case 'relu':
      return F.relu
    case 'softplus':
      return F.softplus
    case 'sqrt':
      return F.sqrt
  }
}

type Compiled<A> = (vars: Readonly<Record<string, A>>) => A

/** a^b over dual numbers: the value by Math.pow, each input's tangent term only when it has one (as `power`'s rule). */
const dualPower = (u: Dual.Dual<number>, v: Dual.Dual<number>): Dual.Dual<number> => {
  const a = Dual.primal(FloatingNumber)(u)
  const b = Dual.primal(FloatingNumber)(v)
  const z = Math.pow(a, b)
  if (!Dual.isPerturbed(u) && !Dual.isPerturbed(v)) return Dual.constant(z)
  const da = Dual.isPerturbed(u) ? u.tangent * (a === 0 && b === 0 ? 0 : b * Math.pow(a, b - 1)) : 0 // ∂/∂a = b·a^(b−1)
  const db = Dual.isPerturbed(v) ? v.tangent * z * (a === 0 ? 0 : Math.log(a)) : 0 // ∂/∂b = a^b·ln a
  return Dual.variable(z, da + db)
}

/** a^b for a variable exponent: the `power` primitive where the instance has it, else exp(b·ln a) (a > 0). */
const powerOf = <A>(F: Floating<A>): ((a: A, b: A) => A) => {
  if (F === (floatingNumber as unknown)) return Math.pow as unknown as (a: A, b: A) => A
  if (F === (floatingOperand as unknown)) return ((a: O.Operand, b: O.Operand) => O.power(a as Tensor, b as never)) as unknown as (a: A, b: A) => A
  if (F === (Dual.FloatingDual as unknown)) return dualPower as unknown as (a: A, b: A) => A
  return (a, b) => F.exp(F.mul(b, F.log(a)))
}

/** One node's operation, given its children's values (`child(e)` for a sub-expression). */
const step = <A>(F: Floating<A>, e: Expr, vars: Readonly<Record<string, A>>, child: (e: Expr) => A): A => {
  switch (e.kind) {
    case 'number':
      return F.fromNumber(e.value)
    case 'variable':
      return vars[e.name]!
    case 'unary':
      return F.neg(child(e.operand))
    case 'call':
      return callOf(F, e.fn)(child(e.arg))
    case 'binary': {
      if (e.op === '^' && variables(e.right).length === 0) {
        // a constant exponent: the primitive pow, with its rule c·a^(c−1)
        const c = evaluateConstant(e.right)
        // pow refuses a NaN exponent; a^NaN is NaN whatever a is
        return Number.isNaN(c) ? F.mul(child(e.left), F.fromNumber(NaN)) : F.pow(child(e.left), c)
      }
      const [a, b] = [child(e.left), child(e.right)]
      switch (e.op) {
        case '+':
          return F.add(a, b)
        case '-':
          return F.sub(a, b)
        case '*':
          return F.mul(a, b)
        case '/':
          return F.div(a, b)
        case '^':
          return powerOf(F)(a, b)
      }
    }
  }
}

const evaluateConstant = (e: Expr): number => {
  const go = (x: Expr): number => step(FloatingNumber, x, {}, go)
  return go(e)
}

/** The sub-expressions that are evaluated as their own steps (a constant exponent belongs to its `^`). */
const children = (e: Expr): readonly Expr[] => {
  switch (e.kind) {
    case 'number':
    case 'variable':
      return []
    case 'unary':
      return [e.operand]
    case 'call':
      return [e.arg]
    case 'binary':
      return e.op === '^' && variables(e.right).length === 0 ? [e.left] : [e.left, e.right]
  }
}

/**
 * The nodes in the order a worked trace table lists them: by height (all operations on
 * inputs first, then those on their results, …), left to right within a height. For
 * ln(x1) + x1·x2 − sin(x2) this is ln, ×, sin, +, − — seed 004's v₁ … v₅.
 */
const schedule = (e: Expr): readonly Expr[] => {
  const height = new Map<Expr, number>()
  const order: Expr[] = []
  const visit = (x: Expr): number => {
    const h = children(x).reduce((m, c) => Math.max(m, visit(c) + 1), 0)
    height.set(x, h)
    order.push(x)
    return h
  }
  visit(e)
  return order.map((x, i) => [x, i] as const).sort((p, q) => height.get(p[0])! - height.get(q[0])! || p[1] - q[1]).map(([x]) => x)
}

const build = <A>(F: Floating<A>, e: Expr): Compiled<A> => {
  const order = schedule(e)
  return (vars) => {
    const values = new Map<Expr, A>()
    for (const x of order) values.set(x, step(F, x, vars, (c) => values.get(c)!))
    return values.get(e)!
  }
}

/**
 * The expression as a function over any `Floating` instance: plain numbers, dual numbers
 * (forward mode), scalar tensors. The tree is walked once, when `interpret` is applied to it;
 * the function it returns throws an `ArgumentError` naming any variable it has no value for.
 *
 * @example
 * ```ts
 * import { Dual, Expr, Floating } from 'lamina-nn'
 * import assert from 'node:assert'
 * const e = Expr.parse('x * exp(x)')
 * assert.strictEqual(Expr.interpret(Floating.FloatingNumber)(e)({ x: 1 }), Math.E)
 * // forward mode: d/dx x·eˣ = (1 + x)·eˣ
 * const d = Expr.interpret(Dual.FloatingDual)(e)({ x: Dual.variable(1) })
 * assert.strictEqual(Dual.tangent(Floating.FloatingNumber)(d), 2 * Math.E)
 * ```
 */
export const interpret =
  <A>(F: Floating<A>) =>
  (e: Expr): ((vars: Readonly<Record<string, A>>) => A) =>
    prepare(F, e, 'interpret', () => undefined)

/** Walks the tree once; the function it returns checks the variables it uses, then runs. */
const prepare = <A>(
  F: Floating<A>,
  e: Expr,
  who: string,
  check: (name: string, value: unknown) => void
): ((vars: Readonly<Record<string, A>>) => A) => {
  const names = variables(e)
  const run = build(F, e)
  return (vars) => {
    checkPresent(who, names, vars)
    for (const n of names) check(n, vars[n])
    return run(vars)
  }
}

/** `Floating` over operands (tensors or plain numbers), so that constants stay numbers. */
const floatingOperand: Floating<O.Operand> = {
  zero: 0,
  one: 1,
  fromNumber: (n) => n,
  add: (x, y) => O.add(x as Tensor, y as never),
  sub: (x, y) => O.sub(x as Tensor, y as never),
  mul: (x, y) => O.mul(x as Tensor, y as never),
  div: (x, y) => O.div(x as Tensor, y as never),
  degree: () => 1,
  mod: () => 0,
  neg: (x) => O.neg(x),
  exp: (x) => O.exp(x),
  log: (x) => O.log(x),
  sin: (x) => O.sin(x),
  cos: (x) => O.cos(x),
  tanh: (x) => O.tanh(x),
  sqrt: (x) => O.sqrt(x),
  pow: (x, c) => O.pow(x, c),
  sigmoid: (x) => O.sigmoid(x),
  softplus: (x) => O.softplus(x),
  relu: (x) => O.relu(x),
  abs: (x) => O.abs(x),
  sign: (x) => O.where(O.greater(x as Tensor, 0), 1, O.where(O.less(x as Tensor, 0), -1, 0)),
  erf: (x) => O.erf(x)
}

/** Numbers as the tensors compute them: the backend's relu propagates NaN like `Math.max`, as `FloatingNumber`'s does. */
const floatingNumber: Floating<number> = FloatingNumber

const describeValue = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? `an object (${String(v)})` : `${typeof v} ${String(v)}`

/**
 * The expression as a function of named tensors, built from lamina operations, so that it
 * can be differentiated (`grad`, `jvp`, …) and traced like any other function. Operations
 * broadcast, so the variables may be tensors of any compatible shapes; a plain number stands
 * for a scalar. Missing variables are an `ArgumentError` naming them.
 *
 * @example
 * ```ts
 * import { Expr, tensor, valueAndGrad } from 'lamina-nn'
 * import type { Tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const f = Expr.compile(Expr.parse('ln(x1) + x1*x2 - sin(x2)'))
 * const [y, [g1, g2]] = valueAndGrad(([x1, x2]: readonly [Tensor, Tensor]) => f({ x1, x2 }))([tensor(2), tensor(5)])
 * assert.ok(Math.abs(y.item() - 11.652) < 1e-3)
 * assert.strictEqual(g1.item(), 5.5)
 * assert.ok(Math.abs(g2.item() - 1.716) < 1e-3)
 * assert.deepStrictEqual(Expr.compile(Expr.parse('2*x + 1'))({ x: tensor([1, 2]) }).toArray(), [3, 5])
 * assert.throws(() => f({ x1: tensor(2) }), /no value for variable 'x2'/)
 * ```
 */
export const compile = (e: Expr): ((vars: Readonly<Record<string, Tensor | number>>) => Tensor) => {
  const run = prepare(floatingOperand, e, 'compile', (name, v) => {
    if (!(v instanceof Tensor) && typeof v !== 'number') {
      throw new ArgumentError(`compile: variable '${name}' must be a tensor or a number, got ${describeValue(v)}`)
    }
  })
  return (vars) => {
    const out = run(vars)
    return typeof out === 'number' ? full([], out) : out
  }
}

/**
 * The value of the expression at a point, in plain double-precision arithmetic with the same
 * numerically stable forms as lamina's cpu backend (`sigmoid`, `softplus`), so it agrees with
 * `compile` wherever the result is finite. Missing variables are an `ArgumentError` naming them.
 *
 * @example
 * ```ts
 * import { Expr } from 'lamina-nn'
 * import assert from 'node:assert'
 * const y = Expr.evaluateNumber(Expr.parse('ln(x1) + x1*x2 - sin(x2)'), { x1: 2, x2: 5 })
 * assert.strictEqual(y, Math.log(2) + 2 * 5 - Math.sin(5))
 * assert.strictEqual(Expr.evaluateNumber(Expr.parse('-2^2 + relu(-1) + 2^-1'), {}), -3.5)
 * assert.throws(() => Expr.evaluateNumber(Expr.parse('x + y'), { x: 1 }), /no value for variable 'y'/)
 * ```
 */
export const evaluateNumber = (e: Expr, vars: Readonly<Record<string, number>>): number =>
  prepare(floatingNumber, e, 'evaluateNumber', (name, v) => {
    if (typeof v !== 'number') throw new ArgumentError(`evaluateNumber: variable '${name}' must be a number, got ${describeValue(v)}`)
  })(vars)

/** How the trace writes each function: before its argument (`ln x`) or with parentheses (`σ(x)`). */
const formulaOfCall = (fn: FunctionName, arg: Formula): Formula => {
  switch (fn) {
    case 'ln':
    case 'exp':
    case 'sin':
    case 'cos':
    case 'tanh':
      return { kind: 'apply', fn, arg }
    case 'sigmoid':
      return { kind: 'call', fn: 'σ', args: [arg] }
    case 'relu':
    case 'softplus':
      return { kind: 'call', fn, args: [arg] }
    case 'sqrt':
      return { kind: 'sqrt', arg }
  }
}

/**
 * The expression as it was written, as a trace `Formula` over its variables' names, in the trace's
 * notation (`ln x1 + x1 × x2 − sin x2`): what `Trace.trace`'s `expression` option takes, so that a
 * trace's heading shows the expression the user typed rather than one rebuilt from its rows
 * (where constants are already folded: `ln(2)·x` would read `0.693 × x`). Numbers keep their
 * shortest decimal form; a literal exponent (`x^2`, `x^-1`) is written as a superscript.
 *
 * @example
 * ```ts
 * import { Expr, Trace } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Trace.showFormula(Expr.toFormula(Expr.parse('ln(x1) + x1*x2 - sin(x2)'))), 'ln x1 + x1 × x2 − sin x2')
 * assert.strictEqual(Trace.showFormula(Expr.toFormula(Expr.parse('(-1)^x + x^-1 * sqrt(2)'))), '(−1)^x + x⁻¹ × √2')
 * assert.strictEqual(Trace.showFormula(Expr.toFormula(Expr.parse('sigmoid(w*x)^(y+1)')), 'latex'), '{\\sigma\\left(w \\times x\\right)}^{y + 1}')
 * ```
 */
export function toFormula(e: Expr): Formula {
  switch (e.kind) {
    case 'number':
      return { kind: 'symbol', text: String(e.value), latex: String(e.value) }
    case 'variable':
      return { kind: 'input', name: e.name }
    case 'unary':
      return { kind: 'neg', arg: toFormula(e.operand) }
    case 'call':
      return formulaOfCall(e.fn, toFormula(e.arg))
    case 'binary': {
      const left = toFormula(e.left)
      if (e.op === '^') {
        const literal = e.right.kind === 'number' ? e.right.value : e.right.kind === 'unary' && e.right.operand.kind === 'number' ? -e.right.operand.value : undefined
        return literal === undefined ? { kind: 'power', base: left, exponent: toFormula(e.right) } : { kind: 'pow', base: left, exponent: literal }
      }
      const op = e.op === '+' ? '+' : e.op === '-' ? '−' : e.op === '*' ? '×' : '/'
      return { kind: 'binary', op, left, right: toFormula(e.right) }
    }
  }
}
