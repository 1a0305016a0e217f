/**
 * The expression language (src/expr/parse.ts, src/expr/evaluate.ts): parsing and precedence,
 * error positions and messages, and properties: no string crashes the parser, every tree
 * round-trips through print/parse, and the number, tensor and dual-number meanings agree.
 */
import { describe, expect, it } from 'vitest'
import { fc, test } from '@fast-check/vitest'
import { ArgumentError, LaminaError } from '../src/error.js'
import { tensor } from '../src/tensor.js'
import { valueAndGrad } from '../src/ad/api.js'
import * as Dual from '../src/ad/dual.js'
import { FloatingNumber } from '../src/floating.js'
import * as Expr from '../src/expr/evaluate.js'
import * as Trace from '../src/ad/trace.js'
import type { Tensor } from '../src/tensor.js'

const SEED_004 = 'ln(x1) + x1*x2 - sin(x2)'

/** Every node in parentheses, so that tests state the grouping without relying on `print`. */
const grouped = (e: Expr.Expr): string => {
  switch (e.kind) {
    case 'number':
      return String(e.value)
    case 'variable':
      return e.name
    case 'unary':
      return `(-${grouped(e.operand)})`
    case 'call':
      return `${e.fn}(${grouped(e.arg)})`
    case 'binary':
      return `(${grouped(e.left)}${e.op}${grouped(e.right)})`
  }
}

const num = (value: number): Expr.Expr => ({ kind: 'number', value })
const v = (name: string): Expr.Expr => ({ kind: 'variable', name })
const bin = (op: Expr.BinaryOp, left: Expr.Expr, right: Expr.Expr): Expr.Expr => ({ kind: 'binary', op, left, right })
const call = (fn: Expr.FunctionName, arg: Expr.Expr): Expr.Expr => ({ kind: 'call', fn, arg })

/** What `parse` threw, as a ParseError (fails the test if it did not throw one). */
const parseError = (input: string): Expr.ParseError => {
  try {
    Expr.parse(input)
  } catch (e) {
    if (e instanceof Expr.ParseError) return e
    throw e
  }
  throw new Error(`parsed: ${JSON.stringify(input)}`)
}

describe('parse', () => {
  it("reads seed 004's expression into its tree", () => {
    expect(Expr.parse(SEED_004)).toEqual(
      bin('-', bin('+', call('ln', v('x1')), bin('*', v('x1'), v('x2'))), call('sin', v('x2')))
    )
  })

  it.each([
    ['-x^2', '(-(x^2))'],
    ['-2^2', '(-(2^2))'],
    ['2^-x', '(2^(-x))'],
    ['2^3^2', '(2^(3^2))'],
    ['x^-y^z', '(x^(-(y^z)))'],
    ['(x^y)^z', '((x^y)^z)'],
    ['a - b - c', '((a-b)-c)'],
    ['a / b / c', '((a/b)/c)'],
    ['a / b * c', '((a/b)*c)'],
    ['a + b * c', '(a+(b*c))'],
    ['a * b + c', '((a*b)+c)'],
    ['-a * b', '((-a)*b)'],
    ['a * -b', '(a*(-b))'],
    ['a - -b', '(a-(-b))'],
    ['--x', '(-(-x))'],
    ['(a + b) * c', '((a+b)*c)'],
    ['sin(x)^2', '(sin(x)^2)'],
    ['-sin(x)^2', '(-(sin(x)^2))'],
    ['a − b × c ÷ d · e ⋅ f', '(a-((((b*c)/d)*e)*f))'],
    ['ln(x1) + x1*x2 − sin(x2)', '((ln(x1)+(x1*x2))-sin(x2))'],
    ['log(exp(x))', 'ln(exp(x))'],
    ['sigmoid(relu(softplus(sqrt(tanh(cos(t))))))', 'sigmoid(relu(softplus(sqrt(tanh(cos(t))))))'],
    [' \t x\t+ y ', '(x+y)'],
    ['((((x))))', 'x']
  ])('%s groups as %s', (input, expected) => {
    expect(grouped(Expr.parse(input))).toBe(expected)
  })

  it.each([
    ['3', 3],
    ['0.5', 0.5],
    ['.5', 0.5],
    ['5.', 5],
    ['007', 7],
    ['1e-3', 0.001],
    ['2.5E+4', 25000],
    ['1E3', 1000],
    ['1.5e300', 1.5e300],
    ['4.9e-324', 5e-324]
  ])('reads the number %s as %d', (input, value) => {
    expect(Expr.parse(input)).toEqual(num(value))
  })

  it.each(['x1', 'x_2', 'theta', 'θ', '_a', 'X', 'sinx', 'logit', 'e'])('reads %s as a variable', (name) => {
    expect(Expr.parse(name)).toEqual(v(name))
  })

  it('reads log as ln and prints the canonical form', () => {
    expect(Expr.parse('log(x)')).toEqual(Expr.parse('ln(x)'))
    expect(Expr.print(Expr.parse('((x1)) × (x2 + 1) ÷ log(3)'))).toBe('x1 * (x2 + 1) / ln(3)')
    expect(Expr.print(Expr.parse(SEED_004))).toBe('ln(x1) + x1 * x2 - sin(x2)')
    expect(Expr.print(Expr.parse('(-x)^2 - (a - b) - -c^d^e'))).toBe('(-x)^2 - (a - b) - -c^d^e')
    expect(Expr.print(Expr.parse('a - (b + c) + (d * e) / (f / g)'))).toBe('a - (b + c) + d * e / (f / g)')
  })

  it('lists variables in order of first appearance', () => {
    expect(Expr.variables(Expr.parse(SEED_004))).toEqual(['x1', 'x2'])
    expect(Expr.variables(Expr.parse('sin(b) * a + b^c - 2'))).toEqual(['b', 'a', 'c'])
    expect(Expr.variables(Expr.parse('1 + 2'))).toEqual([])
  })

  it('returns failures as values with parseEither', () => {
    const ok = Expr.parseEither('x^2')
    const bad = Expr.parseEither('(x')
    expect(ok._tag === 'Right' && ok.right).toEqual(bin('^', v('x'), num(2)))
    expect(bad._tag === 'Left' && bad.left.column).toBe(3)
  })
})

describe('parse errors', () => {
  it.each([
    ['', 1, /^empty expression at column 1$/],
    ['   ', 1, /^empty expression at column 1$/],
    ['ln(x1) + $', 10, /^unexpected character '\$' at column 10$/],
    ['x × ¤', 5, /^unexpected character '¤' \(U\+00A4\) at column 5$/],
    ['x + \u0007', 5, /^unexpected character U\+0007 at column 5$/],
    ['a, b', 2, /^unexpected character ',' at column 2: functions take one argument$/],
    ['foo(x)', 1, /^unknown function 'foo' at column 1; known functions: ln, log, exp, sin, cos, tanh, sigmoid, relu, softplus, sqrt$/],
    ['x + bar(2)', 5, /^unknown function 'bar' at column 5/],
    ['(x + 1', 7, /^missing '\)' at column 7 to close the '\(' at column 1$/],
    ['2 * (x + 1', 11, /^missing '\)' at column 11 to close the '\(' at column 5$/],
    ['sin(x', 6, /^missing '\)' at column 6 to close 'sin\(' at column 4$/],
    ['(x y)', 4, /^missing '\)' at column 4 to close the '\(' at column 1, found 'y' \(there is no implicit multiplication/],
    ['x + 1)', 6, /^unmatched '\)' at column 6$/],
    ['x y', 3, /^unexpected 'y' at column 3 after a complete expression; expected one of \+ - \* \/ \^ \(there is no implicit multiplication/],
    ['2x', 2, /^unexpected 'x' at column 2 after a complete expression/],
    ['sin(x) (y)', 8, /^unexpected '\(' at column 8 after a complete expression/],
    ['x +', 4, /^unexpected end of input at column 4 after '\+'; expected a number, a variable, a function call or '\('$/],
    ['-', 2, /^unexpected end of input at column 2 after '-'/],
    ['x * * y', 5, /^unexpected '\*' at column 5; expected a number/],
    ['x ** 2', 4, /write powers with \^/],
    ['()', 2, /^unexpected '\)' at column 2; .*\(empty parentheses\)$/],
    ['1e+', 4, /^malformed number '1e\+' at column 4: the exponent after 'e' needs digits/],
    ['2E', 3, /^malformed number '2E' at column 3/],
    ['1e999', 1, /^number 1e999 at column 1 is too large to represent$/],
    ['sin + 1', 1, /^function 'sin' at column 1 needs its argument in parentheses, as in sin\(x\)$/],
    ['log', 1, /^function 'log' at column 1 needs its argument/],
    ['.', 1, /^unexpected character '\.' at column 1$/],
    ['1.2.3', 4, /^unexpected number \.3 at column 4 after a complete expression; .*\(a number has at most one decimal point\)$/],
    ['x + \uD800', 5, /^unexpected character U\+D800 at column 5$/]
  ])('%j fails at column %d', (input, column, message) => {
    const e = parseError(input)
    expect(e).toBeInstanceOf(LaminaError)
    expect(e.name).toBe('ParseError')
    expect(e.column).toBe(column)
    expect(e.input).toBe(input)
    expect(e.message).toMatch(message)
  })

  it('renders a caret under the column', () => {
    expect(parseError('ln(x1) + $').caret).toBe('ln(x1) + $\n         ^')
    expect(parseError('(x + 1').caret).toBe('(x + 1\n      ^')
    expect(parseError('').caret).toBe('\n^')
    // tabs are copied so that the caret lines up; control characters are shown as U+FFFD
    expect(parseError('x\t+\t$').caret).toBe('x\t+\t$\n \t \t^')
    expect(parseError('x +\u0007').caret).toBe('x +\uFFFD\n   ^')
    // columns count code points, not UTF-16 units
    expect(parseError('𝑥 + $').column).toBe(5)
  })

  it('refuses input nested too deeply instead of overflowing the stack', () => {
    expect(parseError(`${'-'.repeat(Expr.maxNesting + 50)}x`).message).toMatch(/nested too deeply at column 201 \(more than 200 levels\)/)
    expect(parseError('('.repeat(100_000)).message).toMatch(/nested too deeply/)
    expect(parseError(`x${'^x'.repeat(300)}`).message).toMatch(/nested too deeply/)
    expect(parseError(`x${' + x'.repeat(Expr.maxDepth + 5)}`).message).toMatch(/too deep at column \d+ \(more than 1000 levels\)/)
    expect(Expr.variables(Expr.parse(`x${' + x'.repeat(Expr.maxDepth - 1)}`))).toEqual(['x'])
  })

  it('rejects a non-string with an ArgumentError', () => {
    expect(() => Expr.parse(42 as never)).toThrow(ArgumentError)
  })
})

// ---------------------------------------------------------------- generators

const tokens = [
  'x', 'x1', 'y', 'θ', '1', '2.5', '.5', '1e3', '1e', 'e', '+', '-', '−', '*', '×', '·', '/', '÷', '^', '(', ')', ' ',
  'ln', 'log', 'sin', 'sqrt', 'foo', '(', ')', ',', '$', '.', '\t', '**', 'constructor', '__proto__', 'toString'
]
/** Strings made of the language's own pieces, so that they reach deep into the parser. */
const nearlyExpressions = fc.array(fc.constantFrom(...tokens), { maxLength: 40 }).map((ts) => ts.join(''))

const reserved = new Set<string>([...Expr.functionNames, 'log'])
const variableName = fc.oneof(
  fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,4}$/).filter((s) => !reserved.has(s)),
  fc.constantFrom('x1', 'x2', 'x_2', 'theta', 'θ', 'λ1', 'constructor', '__proto__', 'hasOwnProperty')
)
const literal = fc.oneof(
  fc.nat({ max: 1000 }),
  fc.double({ min: 0, max: Number.MAX_VALUE, noNaN: true }).filter((d) => !Object.is(d, -0))
)
const ops: readonly Expr.BinaryOp[] = ['+', '-', '*', '/', '^']

/** Random trees over the given leaves (fc.letrec). */
const trees = (leaf: fc.Arbitrary<Expr.Expr>, depthSize: fc.DepthSize = 'small') =>
  fc.letrec<{ expr: Expr.Expr }>((tie) => ({
    expr: fc.oneof(
      { depthSize, withCrossShrink: true },
      leaf,
      fc.record({ kind: fc.constant('unary' as const), op: fc.constant('-' as const), operand: tie('expr') }),
      fc.record({ kind: fc.constant('binary' as const), op: fc.constantFrom(...ops), left: tie('expr'), right: tie('expr') }),
      fc.record({ kind: fc.constant('call' as const), fn: fc.constantFrom(...Expr.functionNames), arg: tie('expr') })
    )
  })).expr

const anyTree = trees(
  fc.oneof(
    literal.map((value): Expr.Expr => ({ kind: 'number', value })),
    variableName.map((name): Expr.Expr => ({ kind: 'variable', name }))
  ),
  'medium'
)

const smallConstant = fc.constantFrom(0, 0.5, 1, 2, 3, 10).map((value): Expr.Expr => ({ kind: 'number', value }))
const xyz = fc.constantFrom('x', 'y', 'z').map((name): Expr.Expr => ({ kind: 'variable', name }))
/** Trees over x, y, z and a few constants, with the values at which to evaluate them. */
const xyzTree = trees(fc.oneof(xyz, xyz, smallConstant))
const coordinate = fc.double({ min: -4, max: 4, noNaN: true })
const point = fc.record({ x: coordinate, y: coordinate, z: coordinate })

const sameNumber = (a: number, b: number): boolean => Object.is(a, b) || (a === b) || (Number.isNaN(a) && Number.isNaN(b))
const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * (1 + Math.abs(a) + Math.abs(b))

describe('parse: properties', () => {
  test.prop([fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), nearlyExpressions)], { numRuns: 2000 })(
    'never crashes: any string parses to a tree that round-trips, or throws a ParseError pointing inside it',
    (input) => {
      let tree: Expr.Expr
      try {
        tree = Expr.parse(input)
      } catch (e) {
        return (
          e instanceof Expr.ParseError &&
          e.column >= 1 &&
          e.column <= Array.from(input).length + 1 &&
          e.message.includes(`at column ${e.column}`) &&
          e.caret.split('\n').length === 2
        )
      }
      const again = Expr.parse(Expr.print(tree))
      expect(again).toEqual(tree)
      return true
    }
  )

  test.prop([anyTree], { numRuns: 1000 })('every tree round-trips: parse(print(e)) = e', (tree) => {
    const text = Expr.print(tree)
    expect(Expr.parse(text)).toEqual(tree)
    return Expr.print(Expr.parse(text)) === text
  })

  test.prop([anyTree])('variables lists each name of the tree once, in first-appearance order', (tree) => {
    const names: string[] = []
    const walk = (e: Expr.Expr): void => {
      if (e.kind === 'variable') names.push(e.name)
      else if (e.kind === 'unary') walk(e.operand)
      else if (e.kind === 'call') walk(e.arg)
      else if (e.kind === 'binary') (walk(e.left), walk(e.right))
    }
    walk(tree)
    expect(Expr.variables(tree)).toEqual([...new Set(names)])
    return true
  })
})

describe('evaluate', () => {
  it("computes seed 004's value and gradient", () => {
    const tree = Expr.parse(SEED_004)
    expect(Expr.evaluateNumber(tree, { x1: 2, x2: 5 })).toBe(Math.log(2) + 10 - Math.sin(5))
    const f = Expr.compile(tree)
    const [y, [g1, g2]] = valueAndGrad(([x1, x2]: readonly [Tensor, Tensor]) => f({ x1, x2 }))([tensor(2), tensor(5)])
    expect(y.item()).toBeCloseTo(11.652, 3)
    expect(g1.item()).toBe(5.5)
    expect(g2.item()).toBeCloseTo(1.716, 3)
  })

  it('evaluates powers: constant exponents through pow, variable ones through the power primitive', () => {
    expect(Expr.evaluateNumber(Expr.parse('-2^2 + relu(-1) + 2^-1'), {})).toBe(-3.5)
    expect(Expr.evaluateNumber(Expr.parse('(-2)^3'), {})).toBe(-8)
    expect(Expr.evaluateNumber(Expr.parse('x^(1/2)'), { x: 9 })).toBe(3)
    expect(Expr.evaluateNumber(Expr.parse('x^y'), { x: 2, y: 3 })).toBe(8)
    expect(Expr.compile(Expr.parse('x^2'))({ x: tensor([1, -3]) }).toArray()).toEqual([1, 9])
    expect(Expr.compile(Expr.parse('x^(0/0)'))({ x: tensor(1) }).item()).toBeNaN()
  })

  it('a negative base with an integer variable exponent is real in every interpretation; a non-integer one is NaN', () => {
    // the cases: (-1)^x at x = 2 is 1 (was exp(x·ln(−1)) = NaN), (x-3)^y at (1, 2) is 4
    const cases: readonly [string, Record<string, number>, number][] = [
      ['(-1)^x', { x: 2 }, 1],
      ['(-1)^x', { x: 3 }, -1],
      ['(x-3)^y', { x: 1, y: 2 }, 4],
      ['x^y', { x: -2, y: 3 }, -8],
      ['x^y', { x: -2, y: -1 }, -0.5],
      ['x^y', { x: 0, y: 2 }, 0]
    ]
    for (const [text, at, expected] of cases) {
      const tree = Expr.parse(text)
      expect(Expr.evaluateNumber(tree, at), text).toBe(expected)
      expect(Expr.compile(tree)(at).item(), text).toBe(expected)
      const dual = Expr.interpret(Dual.FloatingDual)(tree)(Object.fromEntries(Object.entries(at).map(([k, x]) => [k, Dual.constant(x)])))
      expect(Dual.primal(FloatingNumber)(dual), text).toBe(expected)
    }
    expect(Expr.evaluateNumber(Expr.parse('x^y'), { x: -2, y: 0.5 })).toBeNaN()
    expect(Expr.compile(Expr.parse('x^y'))({ x: -2, y: 0.5 }).item()).toBeNaN()
  })

  it('the derivative in the base is b·a^(b−1) for any base; in the exponent a^b·ln a, NaN for a < 0 and 0 at a = 0', () => {
    const f = Expr.compile(Expr.parse('(x-3)^y'))
    const [y, [gx, gy]] = valueAndGrad(([x, e]: readonly [Tensor, Tensor]) => f({ x, y: e }))([tensor(1), tensor(2)])
    expect(y.item()).toBe(4)
    expect(gx.item()).toBe(-4) // y·(x − 3)^(y − 1) = 2·(−2)
    expect(gy.item()).toBeNaN() // (−2)^y is real only at integers: not differentiable in y
    const [, [gBase, gExp]] = valueAndGrad(([a, b]: readonly [Tensor, Tensor]) => Expr.compile(Expr.parse('a^b'))({ a, b }))([tensor(2), tensor(3)])
    expect(gBase.item()).toBe(12)
    expect(gExp.item()).toBeCloseTo(8 * Math.LN2, 14)
    // 0^b = 0 for every b > 0: its derivative in b is 0, not 0·ln 0 = NaN
    const [, [, atZero]] = valueAndGrad(([a, b]: readonly [Tensor, Tensor]) => Expr.compile(Expr.parse('a^b'))({ a, b }))([tensor(0), tensor(2)])
    expect(atZero.item()).toBe(0)
    // a constant exponent (the pow primitive) at a negative base: finite, c·x^(c−1)
    const [, [g3]] = valueAndGrad(([x]: readonly [Tensor]) => Expr.compile(Expr.parse('x^(1+2)'))({ x }))([tensor(-2)])
    expect(g3.item()).toBe(12)
    // forward mode over dual numbers agrees
    const d = Expr.interpret(Dual.FloatingDual)(Expr.parse('(x-3)^y'))
    expect(Dual.tangent(FloatingNumber)(d({ x: Dual.variable(1), y: Dual.constant(2) }))).toBe(-4)
    expect(Dual.tangent(FloatingNumber)(d({ x: Dual.constant(1), y: Dual.variable(2) }))).toBeNaN()
    expect(Dual.tangent(FloatingNumber)(d({ x: Dual.constant(5), y: Dual.variable(2) }))).toBeCloseTo(4 * Math.LN2, 14)
  })

  it('toFormula writes the expression as typed, in the trace’s notation', () => {
    const show = (text: string, notation: 'text' | 'latex' = 'text') => Trace.showFormula(Expr.toFormula(Expr.parse(text)), notation)
    expect(show(SEED_004)).toBe('ln x1 + x1 × x2 − sin x2')
    expect(show('(-1)^x')).toBe('(−1)^x')
    expect(show('(x-3)^y')).toBe('(x − 3)^y')
    expect(show('x^-1 + x^2 + 2^(x+1)')).toBe('x⁻¹ + x² + 2^(x + 1)')
    expect(show('ln(2) * x')).toBe('ln 2 × x') // not folded into 0.693 × x
    expect(show('sigmoid(w*x + b) + sqrt(relu(x)) - tanh(softplus(x))')).toBe('σ(w × x + b) + √relu(x) − tanh softplus(x)')
    expect(show('0.1234567 * x')).toBe('0.1234567 × x')
    expect(show('a^b', 'latex')).toBe('{a}^{b}')
  })
  it('broadcasts over tensors and turns a constant expression into a scalar tensor', () => {
    const f = Expr.compile(Expr.parse('a * b + 1'))
    expect(f({ a: tensor([[1], [2]]), b: tensor([10, 20]) }).toArray()).toEqual([
      [11, 21],
      [21, 41]
    ])
    expect(f({ a: 2, b: tensor(3) }).item()).toBe(7)
    expect(Expr.compile(Expr.parse('2 * 3'))({}).item()).toBe(6)
    expect(Expr.compile(Expr.parse('7'))({}).shape).toEqual([])
  })

  it('names a missing variable', () => {
    const tree = Expr.parse(SEED_004)
    expect(() => Expr.evaluateNumber(tree, { x1: 2 })).toThrow(ArgumentError)
    expect(() => Expr.evaluateNumber(tree, { x1: 2 })).toThrow(
      "evaluateNumber: no value for variable 'x2'; the expression uses x1, x2 and was given x1"
    )
    expect(() => Expr.compile(tree)({})).toThrow("compile: no value for variables 'x1', 'x2'; the expression uses x1, x2 and was given none")
    // names from Object.prototype are not values
    expect(() => Expr.evaluateNumber(Expr.parse('constructor + 1'), {})).toThrow(/no value for variable 'constructor'/)
    expect(() => Expr.evaluateNumber(tree, { x1: 2, x2: '5' as never })).toThrow(/variable 'x2' must be a number, got string 5/)
    expect(() => Expr.compile(tree)({ x1: 2, x2: [5] as never })).toThrow(/variable 'x2' must be a tensor or a number, got an array/)
  })
})

describe('evaluate: properties', () => {
  test.prop([xyzTree, point], { numRuns: 500 })('evaluateNumber = compile(…) on scalars, wherever the value is finite', (tree, p) => {
    const expected = Expr.evaluateNumber(tree, p)
    if (!Number.isFinite(expected)) return true
    const got = Expr.compile(tree)({ x: tensor(p.x), y: tensor(p.y), z: tensor(p.z) }).item()
    return sameNumber(got, expected)
  })

  test.prop([xyzTree, fc.array(point, { minLength: 1, maxLength: 5 })], { numRuns: 200 })(
    'compile(…) over a batch = evaluateNumber at each point',
    (tree, points) => {
      const column = (k: 'x' | 'y' | 'z') => tensor(points.map((q) => q[k]))
      const batch = Expr.compile(tree)({ x: column('x'), y: column('y'), z: column('z') })
      const values = Array.from(batch.size === 1 ? Array.from({ length: points.length }, () => batch.data[0]!) : batch.data)
      return points.every((q, i) => sameNumber(values[i]!, Expr.evaluateNumber(tree, q)))
    }
  )

  // tiny coordinates are left out here: 1/y is then huge, and where a derivative cancels
  // exactly (d/dy of −y/(−10y) = 0) the two modes add ±5e71 terms in different orders, so
  // both are finite yet differ by rounding at that scale
  const normalPoint = point.filter((q) => [q.x, q.y, q.z].every((v) => v === 0 || Math.abs(v) >= 1e-3))
  test.prop([xyzTree, normalPoint], { numRuns: 300 })(
    'reverse mode on the compiled function = forward mode with dual numbers (where both are finite)',
    (tree, p) => {
      const f = Expr.compile(tree)
      const [, grads] = valueAndGrad(([x, y, z]: readonly [Tensor, Tensor, Tensor]) => f({ x, y, z }))([tensor(p.x), tensor(p.y), tensor(p.z)])
      const dual = Expr.interpret(Dual.FloatingDual)(tree)
      const seeds = (['x', 'y', 'z'] as const).map((k) =>
        dual({
          x: k === 'x' ? Dual.variable(p.x) : Dual.constant(p.x),
          y: k === 'y' ? Dual.variable(p.y) : Dual.constant(p.y),
          z: k === 'z' ? Dual.variable(p.z) : Dual.constant(p.z)
        })
      )
      return seeds.every((d, i) => {
        const forward = Dual.tangent(FloatingNumber)(d)
        const reverse = grads[i]!.item()
        return !Number.isFinite(forward) || !Number.isFinite(reverse) || close(forward, reverse)
      })
    }
  )

  test.prop([fc.double({ min: 1e-3, max: 1e3, noNaN: true }), fc.double({ min: -1e3, max: 1e3, noNaN: true })])(
    "seed 004's expression = ln(x1) + x1·x2 − sin(x2) computed directly",
    (x1, x2) => {
      const tree = Expr.parse(SEED_004)
      const direct = Math.log(x1) + x1 * x2 - Math.sin(x2)
      return (
        Expr.evaluateNumber(tree, { x1, x2 }) === direct &&
        Expr.compile(tree)({ x1: tensor(x1), x2: tensor(x2) }).item() === direct
      )
    }
  )

  test.prop([xyzTree])('a missing variable is an ArgumentError naming it', (tree) => {
    const names = Expr.variables(tree)
    fc.pre(names.length > 0)
    const missing = names[names.length - 1]!
    const given = Object.fromEntries(names.filter((n) => n !== missing).map((n) => [n, 1]))
    try {
      Expr.evaluateNumber(tree, given)
      return false
    } catch (e) {
      return e instanceof ArgumentError && e.message.includes(`'${missing}'`)
    }
  })
})
