/**
 * A small, safe infix expression language for scalar functions of named variables, such as
 * seed 004's `ln(x1) + x1*x2 - sin(x2)`: a recursive-descent parser (no `eval`, no
 * `Function`), a canonical printer, and the variables an expression uses. `compile` and
 * `evaluateNumber` (in `./evaluate.ts`) turn the tree into lamina operations or plain numbers.
 *
 * The grammar, loosest binding first:
 *
 * ```text
 * expression := term (('+' | '-') term)*                     left-associative
 * term       := unary (('*' | '/') unary)*                   left-associative
 * unary      := '-' unary | power
 * power      := primary ('^' unary)?                          right-associative: 2^3^2 = 2^(3^2)
 * primary    := number | variable | function '(' expression ')' | '(' expression ')'
 * ```
 *
 * so `-x^2` is `-(x^2)`, `2^-x` is `2^(-x)` and `a - b - c` is `(a - b) - c`. Besides the ASCII
 * operators `+ - * / ^` it reads the typeset ones `−` (U+2212), `×`, `·`, `⋅` and `÷`. Numbers are
 * decimal with an optional exponent (`3`, `0.5`, `.5`, `5.`, `1e-3`, `2.5E+4`); variables are
 * identifiers (`x1`, `x_2`, `theta`, `θ`); the functions are `ln` (alias `log`, both natural
 * logarithms), `exp`, `sin`, `cos`, `tanh`, `sigmoid`, `relu`, `softplus` and `sqrt`, always
 * called with parentheses. There is no implicit multiplication: write `2*x`, not `2x`.
 *
 * @module
 */
import * as E from 'fp-ts/lib/Either.js'
import { ArgumentError, LaminaError } from '../error.js'

/**
 * The functions an expression may call, in their canonical spelling (`log` is also accepted,
 * as `ln`).
 *
 * @example
 * ```ts
 * import { Expr } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.ok(Expr.functionNames.includes('softplus'))
 * assert.strictEqual(Expr.functionNames.length, 9)
 * ```
 */
export const functionNames = ['ln', 'exp', 'sin', 'cos', 'tanh', 'sigmoid', 'relu', 'softplus', 'sqrt'] as const

/** The name of a function an expression may call (`log` is read as `ln`). */
export type FunctionName = (typeof functionNames)[number]

/** Other spellings accepted for a function, and the canonical name they stand for. */
const aliases: ReadonlyMap<string, FunctionName> = new Map([['log', 'ln']])

/** Every spelling the parser accepts for a function, as listed in its error messages. */
const knownSpellings = ['ln', 'log', 'exp', 'sin', 'cos', 'tanh', 'sigmoid', 'relu', 'softplus', 'sqrt'] as const

/** A binary operator, in its ASCII spelling. */
export type BinaryOp = '+' | '-' | '*' | '/' | '^'

/** A numeric literal. The parser produces finite, non-negative values (a sign is a `unary` node). */
export interface NumberNode {
  readonly kind: 'number'
  readonly value: number
}

/** A named variable, such as `x1`. */
export interface VariableNode {
  readonly kind: 'variable'
  readonly name: string
}

/** Negation, `-operand`. */
export interface UnaryNode {
  readonly kind: 'unary'
  readonly op: '-'
  readonly operand: Expr
}

/** `left op right`. */
export interface BinaryNode {
  readonly kind: 'binary'
  readonly op: BinaryOp
  readonly left: Expr
  readonly right: Expr
}

/** A function applied to one argument, such as `sin(x2)`. */
export interface CallNode {
  readonly kind: 'call'
  readonly fn: FunctionName
  readonly arg: Expr
}

/**
 * The syntax tree of an expression: a discriminated union on `kind`.
 *
 * @example
 * ```ts
 * import { Expr } from 'lamina-nn'
 * import assert from 'node:assert'
 * const e: Expr.Expr = Expr.parse('-x^2')
 * assert.deepStrictEqual(e, {
 *   kind: 'unary', op: '-',
 *   operand: { kind: 'binary', op: '^', left: { kind: 'variable', name: 'x' }, right: { kind: 'number', value: 2 } }
 * })
 * ```
 */
export type Expr = NumberNode | VariableNode | UnaryNode | BinaryNode | CallNode

/**
 * Parses deeper than this (parentheses, signs, exponents inside one another) are refused with a
 * `ParseError` instead of overflowing the stack.
 *
 * @example
 * ```ts
 * import { Expr } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.doesNotThrow(() => Expr.parse('('.repeat(Expr.maxNesting - 1) + 'x' + ')'.repeat(Expr.maxNesting - 1)))
 * assert.throws(() => Expr.parse('('.repeat(Expr.maxNesting + 1) + 'x'), /nested too deeply/)
 * ```
 */
export const maxNesting = 200

/**
 * Syntax trees deeper than this are refused (a sum of more than this many terms, say), so that
 * walking a parsed tree never overflows the stack.
 *
 * @example
 * ```ts
 * import { Expr } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.throws(() => Expr.parse('x' + ' + x'.repeat(Expr.maxDepth)), /too deep/)
 * ```
 */
export const maxDepth = 1000

/**
 * A malformed expression. `column` is the 1-based position (in code points) of the offending
 * character, `input` the text that was parsed, and `caret` that text with a `^` under the column:
 *
 * ```text
 * ln(x1) + $
 *          ^
 * ```
 *
 * @example
 * ```ts
 * import { Expr, LaminaError } from 'lamina-nn'
 * import assert from 'node:assert'
 * try {
 *   Expr.parse('ln(x1) + $')
 *   assert.fail('parsed')
 * } catch (e) {
 *   assert.ok(e instanceof Expr.ParseError && e instanceof LaminaError)
 *   assert.strictEqual(e.column, 10)
 *   assert.strictEqual(e.message, "unexpected character '$' at column 10")
 *   assert.strictEqual(e.caret, 'ln(x1) + $\n         ^')
 * }
 * ```
 */
export class ParseError extends LaminaError {
  override name = 'ParseError'
  /** The text being parsed. */
  readonly input: string
  /** 1-based column (in code points) of the problem; one past the end for a premature end. */
  readonly column: number
  /** The input (control characters shown as `\uFFFD`) and, below it, a `^` under the column. */
  readonly caret: string

  constructor(message: string, input: string, column: number) {
    super(message)
    this.input = input
    this.column = column
    this.caret = caretOf(input, column)
  }
}

/** The input line with a caret under `column` (tabs are copied so that the caret lines up). */
const caretOf = (input: string, column: number): string => {
  const chars = Array.from(input)
  const shown = chars.map((c) => (c === '\t' ? c : isWhitespace(c) ? ' ' : isControl(c) ? '\uFFFD' : c)).join('')
  const pad = chars
    .slice(0, column - 1)
    .map((c) => (c === '\t' ? '\t' : ' '))
    .join('')
  return `${shown}\n${pad}^`
}

const isControl = (c: string): boolean => /^[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]$/u.test(c)
const isWhitespace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r' || /^\p{Zs}$/u.test(c)
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9'
const isIdentStart = (c: string | undefined): boolean => c !== undefined && (c === '_' || /^\p{L}$/u.test(c))
const isIdentPart = (c: string | undefined): boolean => isIdentStart(c) || isDigit(c) || (c !== undefined && /^\p{Nd}$/u.test(c))

/** Operator characters, typeset ones included, and the ASCII operator each stands for. */
const operators: ReadonlyMap<string, BinaryOp> = new Map([
  ['+', '+'],
  ['-', '-'],
  ['\u2212', '-'], // − minus sign
  ['*', '*'],
  ['\u00d7', '*'], // × multiplication sign
  ['\u00b7', '*'], // · middle dot
  ['\u22c5', '*'], // ⋅ dot operator
  ['/', '/'],
  ['\u00f7', '/'], // ÷ division sign
  ['^', '^']
])

type Token =
  | { readonly type: 'number'; readonly value: number; readonly text: string; readonly column: number }
  | { readonly type: 'ident'; readonly name: string; readonly column: number }
  | { readonly type: 'op'; readonly op: BinaryOp; readonly text: string; readonly column: number }
  | { readonly type: '(' | ')' | 'end'; readonly column: number }

const describe = (t: Token): string => {
  switch (t.type) {
    case 'number':
      return `number ${t.text}`
    case 'ident':
      return `'${t.name}'`
    case 'op':
      return `'${t.text}'`
    case 'end':
      return 'end of input'
    default:
      return `'${t.type}'`
  }
}

const at = (column: number): string => `at column ${column}`

const showChar = (c: string): string => {
  const code = `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`
  if (isControl(c) || isWhitespace(c)) return code
  return c > ' ' && c <= '~' ? `'${c}'` : `'${c}' (${code})`
}

/** Reads tokens on demand, so the first error reported is the leftmost one. */
const lexer = (input: string) => {
  const chars = Array.from(input)
  let pos = 0
  const fail = (message: string, column: number): never => {
    throw new ParseError(message, input, column)
  }

  const readNumber = (): Token => {
    const start = pos
    while (isDigit(chars[pos])) pos++
    if (chars[pos] === '.') {
      pos++
      while (isDigit(chars[pos])) pos++
    }
    if (chars[pos] === 'e' || chars[pos] === 'E') {
      const ePos = pos
      pos++
      if (chars[pos] === '+' || chars[pos] === '-') pos++
      if (!isDigit(chars[pos])) {
        const text = chars.slice(start, pos).join('')
        fail(`malformed number '${text}' ${at(pos + 1)}: the exponent after '${chars[ePos]!}' needs digits, as in 1e-3`, pos + 1)
      }
      while (isDigit(chars[pos])) pos++
    }
    const text = chars.slice(start, pos).join('')
    const value = Number(text)
    if (!Number.isFinite(value)) fail(`number ${text} ${at(start + 1)} is too large to represent`, start + 1)
    return { type: 'number', value, text, column: start + 1 }
  }

  const next = (): Token => {
    while (pos < chars.length && isWhitespace(chars[pos]!)) pos++
    const c = chars[pos]
    const column = pos + 1
    if (c === undefined) return { type: 'end', column }
    if (isDigit(c) || (c === '.' && isDigit(chars[pos + 1]))) return readNumber()
    if (isIdentStart(c)) {
      const start = pos
      while (isIdentPart(chars[pos])) pos++
      return { type: 'ident', name: chars.slice(start, pos).join(''), column }
    }
    if (c === '(' || c === ')') {
      pos++
      return { type: c, column }
    }
    const op = operators.get(c)
    if (op !== undefined) {
      pos++
      return { type: 'op', op, text: c, column }
    }
    const hint =
      c === ','
        ? ': functions take one argument'
        : c === '[' || c === '{'
          ? ": group with '(' and ')'"
          : c === '=' || c === '<' || c === '>'
            ? ': an expression has no comparisons or assignments'
            : ''
    return fail(`unexpected character ${showChar(c)} ${at(column)}${hint}`, column)
  }
  return { next, fail }
}

interface Parsed {
  readonly node: Expr
  readonly depth: number
}

const implicitHint = (t: Token, previous: Token | undefined): string =>
  t.type === 'number' && t.text.startsWith('.') && previous?.type === 'number'
    ? ' (a number has at most one decimal point)'
    : t.type === 'number' || t.type === 'ident' || t.type === '('
      ? ' (there is no implicit multiplication: write a * between factors)'
      : ''

/**
 * Parses an expression into its syntax tree, or throws a `ParseError` (with the column and a
 * caret rendering) for an unexpected character, an unknown function, a missing or unmatched
 * parenthesis, input left over after a complete expression, or an empty expression.
 *
 * @example
 * ```ts
 * import { Expr } from 'lamina-nn'
 * import assert from 'node:assert'
 * const e = Expr.parse('ln(x1) + x1*x2 − sin(x2)')
 * assert.strictEqual(Expr.print(e), 'ln(x1) + x1 * x2 - sin(x2)')
 * assert.deepStrictEqual(Expr.parse('1 - 2 - 3'), Expr.parse('(1 - 2) - 3'))
 * assert.deepStrictEqual(Expr.parse('2^3^2'), Expr.parse('2^(3^2)'))
 * assert.throws(() => Expr.parse('foo(x)'), /unknown function 'foo' at column 1; known functions: ln, log, exp/)
 * ```
 */
export function parse(input: string): Expr {
  if (typeof input !== 'string') throw new ArgumentError(`parse: expected a string, got ${typeof input}`)
  const lex = lexer(input)
  let current = lex.next()
  let previous: Token | undefined
  let nesting = 0
  const advance = (): Token => {
    previous = current
    current = lex.next()
    return previous
  }
  const fail = (message: string, column: number): never => lex.fail(message, column)

  const make = (node: Expr, depth: number, where: Token): Parsed => {
    if (depth > maxDepth) fail(`the expression is too deep ${at(where.column)} (more than ${maxDepth} levels)`, where.column)
    return { node, depth }
  }

  const expression = (): Parsed => {
    let left = term()
    while (current.type === 'op' && (current.op === '+' || current.op === '-')) {
      const op = advance() as Token & { type: 'op' }
      const right = term()
      left = make({ kind: 'binary', op: op.op, left: left.node, right: right.node }, 1 + Math.max(left.depth, right.depth), op)
    }
    return left
  }

  const term = (): Parsed => {
    let left = unary()
    while (current.type === 'op' && (current.op === '*' || current.op === '/')) {
      const op = advance() as Token & { type: 'op' }
      const right = unary()
      left = make({ kind: 'binary', op: op.op, left: left.node, right: right.node }, 1 + Math.max(left.depth, right.depth), op)
    }
    return left
  }

  const unary = (): Parsed => {
    if (++nesting > maxNesting) fail(`the expression is nested too deeply ${at(current.column)} (more than ${maxNesting} levels)`, current.column)
    let result: Parsed
    if (current.type === 'op' && current.op === '-') {
      const op = advance()
      const operand = unary()
      result = make({ kind: 'unary', op: '-', operand: operand.node }, 1 + operand.depth, op)
    } else {
      result = power()
    }
    nesting--
    return result
  }

  const power = (): Parsed => {
    const base = primary()
    if (current.type === 'op' && current.op === '^') {
      const op = advance()
      const exponent = unary()
      return make({ kind: 'binary', op: '^', left: base.node, right: exponent.node }, 1 + Math.max(base.depth, exponent.depth), op)
    }
    return base
  }

  const closeParen = (open: Token, what: string): void => {
    if (current.type === ')') {
      advance()
      return
    }
    const found = current.type === 'end' ? '' : `, found ${describe(current)}${implicitHint(current, previous)}`
    fail(`missing ')' ${at(current.column)} to close ${what} at column ${open.column}${found}`, current.column)
  }

  const primary = (): Parsed => {
    const t = current
    switch (t.type) {
      case 'number':
        advance()
        return { node: { kind: 'number', value: t.value }, depth: 1 }
      case 'ident': {
        advance()
        const fn = (functionNames as readonly string[]).includes(t.name) ? (t.name as FunctionName) : aliases.get(t.name)
        if (current.type === '(') {
          if (fn === undefined) {
            return fail(`unknown function '${t.name}' ${at(t.column)}; known functions: ${knownSpellings.join(', ')}`, t.column)
          }
          const open = advance()
          const arg = expression()
          closeParen(open, `'${t.name}('`)
          return make({ kind: 'call', fn, arg: arg.node }, 1 + arg.depth, t)
        }
        if (fn !== undefined) {
          return fail(`function '${t.name}' ${at(t.column)} needs its argument in parentheses, as in ${t.name}(x)`, t.column)
        }
        return { node: { kind: 'variable', name: t.name }, depth: 1 }
      }
      case '(': {
        advance()
        const inner = expression()
        closeParen(t, `the '('`)
        return inner
      }
      case 'end':
        return previous === undefined
          ? fail(`empty expression ${at(1)}`, 1)
          : fail(`unexpected end of input ${at(t.column)} after ${describe(previous)}; expected a number, a variable, a function call or '('`, t.column)
      default: {
        const hint =
          t.type === 'op' && t.op === '*' && previous?.type === 'op' && previous.op === '*'
            ? ' (write powers with ^, as in x^2)'
            : t.type === ')' && previous?.type === '('
              ? ' (empty parentheses)'
              : ''
        return fail(`unexpected ${describe(t)} ${at(t.column)}; expected a number, a variable, a function call or '('${hint}`, t.column)
      }
    }
  }

  const result = expression()
  if (current.type !== 'end') {
    if (current.type === ')') fail(`unmatched ')' ${at(current.column)}`, current.column)
    fail(
      `unexpected ${describe(current)} ${at(current.column)} after a complete expression; expected one of + - * / ^${implicitHint(current, previous)}`,
      current.column
    )
  }
  return result.node
}

/**
 * `parse` with its failure as a value: `Left(ParseError)` for a malformed expression.
 *
 * @example
 * ```ts
 * import { Expr } from 'lamina-nn'
 * import * as E from 'fp-ts/lib/Either.js'
 * import assert from 'node:assert'
 * assert.ok(E.isRight(Expr.parseEither('x^2')))
 * const bad = Expr.parseEither('(x')
 * assert.ok(E.isLeft(bad) && bad.left.column === 3)
 * ```
 */
export const parseEither = (input: string): E.Either<ParseError, Expr> => {
  try {
    return E.right(parse(input))
  } catch (e) {
    if (e instanceof ParseError) return E.left(e)
    throw e
  }
}

/** Binding strength of each form, loosest first. */
const Prec = { Sum: 1, Product: 2, Unary: 3, Power: 4, Atom: 5 } as const
type Prec = (typeof Prec)[keyof typeof Prec]

const isNegative = (v: number): boolean => v < 0 || Object.is(v, -0)

const precedence = (e: Expr): Prec => {
  switch (e.kind) {
    case 'number':
      return isNegative(e.value) ? Prec.Unary : Prec.Atom
    case 'variable':
    case 'call':
      return Prec.Atom
    case 'unary':
      return Prec.Unary
    case 'binary':
      return e.op === '+' || e.op === '-' ? Prec.Sum : e.op === '^' ? Prec.Power : Prec.Product
  }
}

const printAt = (e: Expr, min: Prec): string => {
  const s = print(e)
  return precedence(e) < min ? `(${s})` : s
}

/**
 * The canonical text of an expression: ASCII operators, spaces around `+ - * /`, none around
 * `^`, `ln` for the logarithm, and only the parentheses the grammar needs, so that
 * `parse(print(e))` is `e` again for every tree the parser can produce.
 *
 * @example
 * ```ts
 * import { Expr } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Expr.print(Expr.parse('((x1)) × (x2 + 1) ÷ log(3)')), 'x1 * (x2 + 1) / ln(3)')
 * assert.strictEqual(Expr.print(Expr.parse('(-x)^2 - (a - b) - -c^d^e')), '(-x)^2 - (a - b) - -c^d^e')
 * ```
 */
export function print(e: Expr): string {
  switch (e.kind) {
    case 'number':
      return isNegative(e.value) ? `-${String(-e.value)}` : String(e.value)
    case 'variable':
      return e.name
    case 'call':
      return `${e.fn}(${print(e.arg)})`
    case 'unary':
      return `-${printAt(e.operand, Prec.Unary)}`
    case 'binary':
      switch (e.op) {
        case '+':
        case '-':
          return `${printAt(e.left, Prec.Sum)} ${e.op} ${printAt(e.right, Prec.Product)}`
        case '*':
        case '/':
          return `${printAt(e.left, Prec.Product)} ${e.op} ${printAt(e.right, Prec.Unary)}`
        case '^':
          return `${printAt(e.left, Prec.Atom)}^${printAt(e.right, Prec.Unary)}`
      }
  }
}

/**
 * The names of the variables an expression uses, each once, in order of first appearance
 * (reading left to right).
 *
 * @example
 * ```ts
 * import { Expr } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(Expr.variables(Expr.parse('sin(b) * a + b^c')), ['b', 'a', 'c'])
 * ```
 */
export function variables(e: Expr): string[] {
  const seen = new Set<string>()
  const visit = (n: Expr): void => {
    switch (n.kind) {
      case 'number':
        return
      case 'variable':
        seen.add(n.name)
        return
      case 'unary':
        return visit(n.operand)
      case 'call':
        return visit(n.arg)
      case 'binary':
        visit(n.left)
        visit(n.right)
    }
  }
  visit(e)
  return [...seen]
}
