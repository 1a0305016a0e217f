import { describe, expect, test } from 'vitest'
import { fc, test as fcTest } from '@fast-check/vitest'
import { ArgumentError } from '../src/error.js'
import { type Floating, FloatingNumber, erf } from '../src/floating.js'
import {
  type Dual,
  FloatingDual,
  constant,
  derivative,
  derivativeWith,
  getFloating,
  gradient,
  isPerturbed,
  partial,
  primal,
  tangent,
  variable,
  zero
} from '../src/ad/dual.js'

const F = FloatingNumber
const D = FloatingDual
const DD = getFloating(D)
const p = primal(F)
const t = tangent(F)

// tolerances in one place: values are compared to ~1e-12, finite differences to ~1e-6
const within = (a: number, b: number, rel: number): boolean =>
  a === b || Math.abs(a - b) <= rel * Math.max(1, Math.abs(a), Math.abs(b))
const VALUE_TOL = 1e-12
const FD_TOL = 1e-6

// central difference with a step near ∛ε (balances truncation h² against rounding ε/h);
// the step is the difference of two doubles, so it is exactly the one taken
const centralDiff = (f: (x: number) => number, x: number): number => {
  const h = Math.cbrt(Number.EPSILON) * Math.max(1, Math.abs(x))
  const hi = x + h
  const lo = x - h
  return (f(hi) - f(lo)) / (hi - lo)
}

const real = (min: number, max: number) => fc.double({ min, max, noNaN: true, noDefaultInfinity: true })
const awayFromZero = (max: number) => real(-max, max).filter((x) => Math.abs(x) > 1e-3)

// the dual instance over a FloatingNumber that counts its calls, to see which work a rule does
// (building the instance costs one `fromNumber`; the count starts after it)
const counting = (): { readonly C: Floating<Dual<number>>; readonly calls: () => number } => {
  let n = 0
  const G = Object.fromEntries(
    Object.entries(F).map(([k, v]) => [
      k,
      typeof v === 'function'
        ? (...args: ReadonlyArray<number>) => {
            n++
            return (v as (...a: ReadonlyArray<number>) => number)(...args)
          }
        : v
    ])
  ) as unknown as Floating<number>
  const C = getFloating(G)
  n = 0
  return { C, calls: () => n }
}

interface UnaryRule {
  readonly name: string
  readonly f: <A>(G: Floating<A>) => (x: A) => A
  readonly closedForm: (x: number) => number
  readonly domain: fc.Arbitrary<number>
}

const rule = (
  name: UnaryRule['name'],
  f: UnaryRule['f'],
  closedForm: UnaryRule['closedForm'],
  domain: UnaryRule['domain']
): UnaryRule => ({ name, f, closedForm, domain })

// textbook closed forms, written independently of the rules in src/ad/dual.ts
const RULES: ReadonlyArray<UnaryRule> = [
  rule('neg', (G) => G.neg, () => -1, real(-1e3, 1e3)),
  rule('exp', (G) => G.exp, Math.exp, real(-20, 20)),
  rule('log', (G) => G.log, (x) => 1 / x, real(0.05, 1e3)),
  rule('sin', (G) => G.sin, Math.cos, real(-50, 50)),
  rule('cos', (G) => G.cos, (x) => -Math.sin(x), real(-50, 50)),
  rule('tanh', (G) => G.tanh, (x) => 1 / Math.cosh(x) ** 2, real(-30, 30)),
  rule('sqrt', (G) => G.sqrt, (x) => 0.5 / Math.sqrt(x), real(0.05, 1e3)),
  rule('pow 3', (G) => (x) => G.pow(x, 3), (x) => 3 * x * x, real(-10, 10)),
  rule('pow −1.5', (G) => (x) => G.pow(x, -1.5), (x) => -1.5 * x ** -2.5, real(0.1, 10)),
  rule('sigmoid', (G) => G.sigmoid, (x) => Math.exp(-x) / (1 + Math.exp(-x)) ** 2, real(-30, 30)),
  rule('softplus', (G) => G.softplus, (x) => 1 / (1 + Math.exp(-x)), real(-30, 30)),
  rule('relu', (G) => G.relu, (x) => (x > 0 ? 1 : 0), awayFromZero(100)),
  rule('abs', (G) => G.abs, Math.sign, awayFromZero(100)),
  rule('sign', (G) => G.sign, () => 0, awayFromZero(100)),
  rule('erf', (G) => G.erf, (x) => (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x), real(-5, 5))
]

describe('seed 004: y = ln(x1) + x1·x2 − sin(x2) at (2, 5)', () => {
  const y = <A>(G: Floating<A>) => (x1: A, x2: A): A => G.sub(G.add(G.log(x1), G.mul(x1, x2)), G.sin(x2))

  test('the primal trace ends at 11.652', () => {
    expect(y(F)(2, 5)).toBe(Math.log(2) + 2 * 5 - Math.sin(5))
    expect(y(F)(2, 5)).toBeCloseTo(11.652, 3)
    expect(p(y(D)(constant(2), constant(5)))).toBe(y(F)(2, 5))
  })

  test('∂y/∂x1 = x2 + 1/x1 = 5.5 and ∂y/∂x2 = x1 − cos x2 ≈ 1.716, one forward pass each', () => {
    expect(gradient(y(D))([2, 5])).toEqual([5 + 1 / 2, 2 - Math.cos(5)])
    expect(partial(1)(y(D))([2, 5])).toBeCloseTo(1.716, 3)
  })

  test('a forward pass along (1, 1) gives the directional derivative, the sum of the partials', () => {
    expect(t(y(D)(variable(2), variable(5)))).toBeCloseTo(5.5 + 2 - Math.cos(5), 14)
  })
})

describe('every unary rule', () => {
  for (const r of RULES) {
    const f = r.f(F)
    const df = derivative(r.f(D))

    fcTest.prop([r.domain])(`${r.name}: the primal is the base function, bit for bit`, (x) =>
      Object.is(p(r.f(D)(variable(x))), f(x))
    )

    fcTest.prop([r.domain])(`${r.name}: derivative matches a central difference`, (x) =>
      within(df(x), centralDiff(f, x), FD_TOL)
    )

    fcTest.prop([r.domain])(`${r.name}: derivative matches its closed form`, (x) =>
      within(df(x), r.closedForm(x), VALUE_TOL)
    )

    fcTest.prop([r.domain, real(-4, 4)])(`${r.name}: the tangent is linear in the seed`, (x, dx) =>
      within(t(r.f(D)(variable(x, dx))), dx * df(x), VALUE_TOL)
    )

    fcTest.prop([r.domain])(`${r.name}: nested second derivative matches a difference of the first`, (x) =>
      within(derivative(derivativeWith(D)(r.f(DD)))(x), centralDiff(df, x), FD_TOL)
    )

    fcTest.prop([r.domain])(`${r.name}: a constant input costs one base call and stays constant`, (x) => {
      const { C, calls } = counting()
      const out = r.f(C)(constant(x))
      return out._tag === 'Const' && calls() === 1
    })
  }

  test('pow(x, 0) is the constant 1, also at x = 0 where n·xⁿ⁻¹ would be 0·∞', () => {
    expect(derivative((x) => D.pow(x, 0))(0)).toBe(0)
    expect(p(D.pow(variable(0), 0))).toBe(1)
  })
})

describe('binary rules', () => {
  const pairs = fc.tuple(real(-100, 100), real(-100, 100).filter((y) => Math.abs(y) > 0.1))
  const ops: ReadonlyArray<readonly [string, <A>(G: Floating<A>) => (x: A, y: A) => A]> = [
    ['add', (G) => G.add],
    ['sub', (G) => G.sub],
    ['mul', (G) => G.mul],
    ['div', (G) => G.div]
  ]
  for (const [name, op] of ops) {
    fcTest.prop([pairs])(`${name}: both partials match central differences`, ([x, y]) => {
      const [gx, gy] = gradient(op(D))([x, y])
      return (
        within(gx ?? NaN, centralDiff((u) => op(F)(u, y), x), FD_TOL) &&
        within(gy ?? NaN, centralDiff((v) => op(F)(x, v), y), FD_TOL)
      )
    })
  }
})

describe('nested (second and third) derivatives', () => {
  const second = (f: (x: Dual<Dual<number>>) => Dual<Dual<number>>) => derivative(derivativeWith(D)(f))
  const sigma = F.sigmoid

  fcTest.prop([real(-10, 10)])("sin'' = −sin", (x) => within(second(DD.sin)(x), -Math.sin(x), VALUE_TOL))
  fcTest.prop([real(-10, 10)])("exp'' = exp", (x) => within(second(DD.exp)(x), Math.exp(x), VALUE_TOL))
  fcTest.prop([real(-10, 10)])("tanh'' = −2 tanh (1 − tanh²)", (x) =>
    within(second(DD.tanh)(x), -2 * Math.tanh(x) * (1 - Math.tanh(x) ** 2), VALUE_TOL)
  )
  fcTest.prop([real(-10, 10)])("σ'' = σ(1 − σ)(1 − 2σ)", (x) =>
    within(second(DD.sigmoid)(x), sigma(x) * (1 - sigma(x)) * (1 - 2 * sigma(x)), VALUE_TOL)
  )

  fcTest.prop([real(-5, 5)])("exp''' = exp, three levels deep", (x) => {
    const DDD = getFloating(DD)
    return within(derivative(derivativeWith(D)(derivativeWith(DD)(DDD.exp)))(x), Math.exp(x), VALUE_TOL)
  })

  test('no perturbation confusion: d/dx [x · d/dy (x + y)] = 1', () => {
    // the inner derivative lifts x explicitly with `constant`: its ε cannot leak into y's
    const inner = (x: Dual<number>) => derivativeWith(D)((y) => DD.add(constant(x), y))(D.one)
    expect(derivative((x) => D.mul(x, inner(x)))(1)).toBe(1)
    expect(derivative((x) => D.mul(x, inner(x)))(7)).toBe(1)
  })

  test('d/dx [d/dy (x·y)] = 1: the inner derivative is x, the outer one differentiates it', () => {
    const inner = (x: Dual<number>) => derivativeWith(D)((y) => DD.mul(constant(x), y))(D.fromNumber(3))
    expect(derivative(inner)(2)).toBe(1)
  })
})

describe('Field laws of the dual instance', () => {
  // dyadic rationals n/16 with |n| ≤ 1024: sums and triple products are exact in float64
  const dyadic = fc.integer({ min: -1024, max: 1024 }).map((n) => n / 16)
  const exactDual: fc.Arbitrary<Dual<number>> = fc.oneof(
    fc.constant<Dual<number>>(zero),
    dyadic.map((x) => constant(x)),
    fc.tuple(dyadic, dyadic).map(([x, dx]) => variable(x, dx))
  )
  const anyDual: fc.Arbitrary<Dual<number>> = fc.oneof(
    fc.constant<Dual<number>>(zero),
    real(-1e3, 1e3).map((x) => constant(x)),
    fc.tuple(real(-1e3, 1e3), real(-1e3, 1e3)).map(([x, dx]) => variable(x, dx))
  )
  const eq = (a: Dual<number>, b: Dual<number>): boolean => p(a) === p(b) && t(a) === t(b)
  const size = (a: Dual<number>): number => Math.abs(p(a)) + Math.abs(t(a))
  // a float identity holds up to a few roundings of its largest intermediate
  const close = (a: Dual<number>, b: Dual<number>, scale: number): boolean =>
    Math.abs(p(a) - p(b)) <= VALUE_TOL * (1 + scale) && Math.abs(t(a) - t(b)) <= VALUE_TOL * (1 + scale)

  fcTest.prop([exactDual, exactDual, exactDual])('add is associative', (a, b, c) =>
    eq(D.add(D.add(a, b), c), D.add(a, D.add(b, c)))
  )
  fcTest.prop([exactDual, exactDual])('add is commutative', (a, b) => eq(D.add(a, b), D.add(b, a)))
  fcTest.prop([exactDual, exactDual, exactDual])('mul is associative', (a, b, c) =>
    eq(D.mul(D.mul(a, b), c), D.mul(a, D.mul(b, c)))
  )
  fcTest.prop([exactDual, exactDual])('mul is commutative', (a, b) => eq(D.mul(a, b), D.mul(b, a)))
  fcTest.prop([exactDual])('zero and one are identities', (a) =>
    eq(D.add(D.zero, a), a) && eq(D.add(a, D.zero), a) && eq(D.mul(D.one, a), a) && eq(D.mul(a, D.one), a)
  )
  fcTest.prop([exactDual])('sub and neg give additive inverses', (a) =>
    eq(D.sub(a, a), D.zero) && eq(D.add(a, D.neg(a)), D.zero)
  )
  fcTest.prop([exactDual])('mul by zero annihilates', (a) => eq(D.mul(D.zero, a), D.zero))
  fcTest.prop([anyDual, anyDual, anyDual])('mul distributes over add, within rounding', (a, b, c) =>
    close(D.mul(a, D.add(b, c)), D.add(D.mul(a, b), D.mul(a, c)), size(a) * (size(b) + size(c)))
  )
  // dual numbers invert exactly those with a non-zero primal (ε itself has no inverse)
  fcTest.prop([anyDual, anyDual.filter((b) => Math.abs(p(b)) > 1e-2)])('(a / b)·b = a, within rounding', (a, b) =>
    close(D.mul(D.div(a, b), b), a, size(a) * (1 + size(b) / Math.abs(p(b))) ** 2)
  )
  fcTest.prop([exactDual, exactDual])('a field: degree 1, remainder zero', (a, b) =>
    D.degree(a) === 1 && eq(D.mod(a, b), D.zero)
  )
})

describe('symbolic zeros: no tangent work for constants', () => {
  test('a constant-only expression stays constant and costs only its primal operations', () => {
    const { C, calls } = counting()
    const e = C.add(C.mul(C.sin(constant(1)), constant(2)), C.exp(C.zero))
    expect(isPerturbed(e)).toBe(false)
    expect(t(e)).toBe(0)
    expect(calls()).toBe(4) // sin, mul, exp, add
  })

  test('a product with one constant factor computes one tangent term, not two', () => {
    const one = counting()
    const a = one.C.mul(variable(3), constant(4))
    expect([p(a), t(a), one.calls()]).toEqual([12, 4, 2]) // x·y and y·dx
    const both = counting()
    const b = both.C.mul(variable(3), variable(4))
    expect([p(b), t(b), both.calls()]).toEqual([12, 7, 4]) // x·y, y·dx, x·dy and their sum
  })

  fcTest.prop([real(-10, 10), real(-10, 10)])('binary rules on two constants give a constant for one call', (x, y) => {
    const { C, calls } = counting()
    const out = [C.add, C.sub, C.mul, C.div].map((op) => op(constant(x), constant(y)))
    return out.every((d) => d._tag === 'Const') && calls() === 4
  })

  test('zero and constants report a zero tangent; a variable reports its seed', () => {
    expect([t(zero), t(constant(3)), t(variable(3)), t(variable(3, 0.5))]).toEqual([0, 0, 1, 0.5])
    expect([p(zero), p(constant(3)), p(variable(3))]).toEqual([0, 3, 3])
  })
})

describe('partial and gradient', () => {
  fcTest.prop([fc.array(real(-10, 10), { minLength: 1, maxLength: 6 })])(
    'the gradient of Σ xᵢ² is 2x, one forward pass per input',
    (xs) => {
      const g = gradient((...ds) => ds.reduce((acc, d) => D.add(acc, D.mul(d, d)), D.zero))(xs)
      return g.length === xs.length && g.every((gi, i) => gi === 2 * (xs[i] ?? NaN))
    }
  )

  test('bad indices and too few inputs are ArgumentErrors', () => {
    const f = (x: Dual<number>, y: Dual<number>) => D.mul(x, y)
    expect(() => partial(2)(f)([1, 2])).toThrow(ArgumentError)
    expect(() => partial(-1)(f)([1, 2])).toThrow(ArgumentError)
    expect(() => partial(0.5)(f)([1, 2])).toThrow(ArgumentError)
    expect(() => gradient(f)([1])).toThrow(/takes 2 inputs, got 1/)
  })
})

describe('FloatingNumber', () => {
  // reference values from mpmath at 40 digits
  const ERF: ReadonlyArray<readonly [number, number]> = [
    [1e-8, 1.1283791670955126e-8],
    [0.1, 0.1124629160182849],
    [0.5, 0.5204998778130465],
    [1, 0.8427007929497149],
    [1.5, 0.9661051464753108],
    [1.99, 0.995111413199617],
    [2, 0.9953222650189527],
    [2.5, 0.999593047982555],
    [3, 0.9999779095030014],
    [4, 0.9999999845827421],
    [5, 0.9999999999984626],
    [5.9, 0.9999999999999999]
  ]
  test.each(ERF)('erf(%d) to 1e-15 relative', (x, ref) => {
    expect(Math.abs(erf(x) - ref)).toBeLessThanOrEqual(1e-15 * ref)
  })
  test('erf edge cases', () => {
    expect([erf(0), erf(7), erf(-7), erf(Infinity), erf(-Infinity)]).toEqual([0, 1, -1, 1, -1])
    expect(erf(NaN)).toBeNaN()
    expect(F.erf).toBe(erf)
  })
  fcTest.prop([real(-10, 10)])('erf is odd, exactly, and bounded by 1', (x) =>
    Object.is(erf(-x), -erf(x)) && Math.abs(erf(x)) <= 1
  )
  fcTest.prop([fc.double({ noNaN: true })])('sigmoid is finite, in [0, 1], and σ(−x) = 1 − σ(x)', (x) =>
    F.sigmoid(x) >= 0 && F.sigmoid(x) <= 1 && Math.abs(F.sigmoid(-x) - (1 - F.sigmoid(x))) <= Number.EPSILON
  )
  fcTest.prop([fc.double({ noNaN: true, noDefaultInfinity: true })])(
    'softplus(x) − softplus(−x) = x and softplus(x) ≥ max(x, 0) over all finite doubles',
    (x) =>
      within(F.softplus(x) - F.softplus(-x), x, 4 * Number.EPSILON) && F.softplus(x) >= Math.max(x, 0)
  )
  test('relu, abs, sign and the field structure', () => {
    expect([F.relu(-2), F.relu(3), F.abs(-2), F.sign(-2), F.sign(0)]).toEqual([0, 3, 2, -1, 0])
    expect(F.relu(NaN)).toBeNaN()
    expect([F.degree(5), F.mod(7, 2), F.div(7, 2), F.fromNumber(3), F.pow(2, 10)]).toEqual([1, 0, 3.5, 3, 1024])
  })
})
