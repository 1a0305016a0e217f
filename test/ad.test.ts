import { describe, expect, it } from 'vitest'
import { fc, test as fcTest } from '@fast-check/vitest'
import {
  Backends,
  Layer,
  Layers,
  Loss,
  Random,
  cpu,
  DTypeError,
  DifferentiationError,
  Tape,
  Tensor,
  add,
  cos,
  exp,
  grad,
  hessian,
  hvp,
  jacfwd,
  jacrev,
  jvp,
  log,
  matmul,
  mul,
  sigmoid,
  sin,
  sub,
  sum,
  tanh,
  tensor,
  valueAndGrad,
  vjp,
  softplus,
  erf,
  sqrt,
  pow,
  neg,
  div
} from 'lamina-nn'
import { Trace, max, min, pad, stopGradient } from 'lamina-nn'
import { tensors, tensorOf } from 'lamina-nn/laws'
import type { Backend } from 'lamina-nn'
import { countingVjps } from './support/rules.js'

type Scalar = Tensor<[], 'f64'>
type Vec = Tensor<readonly number[], 'f64'>
const s = (x: number): Scalar => tensor(x)

// seed 004: y = ln(x1) + x1·x2 − sin(x2), evaluated at (2, 5)
const seed004 = ([x1, x2]: readonly [Scalar, Scalar]) => sub(add(log(x1), mul(x1, x2)), sin(x2))

describe('seed 004 worked example', () => {
  const expected = { y: Math.log(2) + 10 - Math.sin(5), dx1: 1 / 2 + 5, dx2: 2 - Math.cos(5) }

  it('reverse mode gives the value and both partials', () => {
    const [y, [g1, g2]] = valueAndGrad(seed004)([s(2), s(5)])
    expect(y.item()).toBeCloseTo(11.652, 3)
    expect(y.item()).toBe(expected.y)
    expect(g1.item()).toBe(5.5)
    expect(g2.item()).toBeCloseTo(1.716, 3)
    expect(g2.item()).toBeCloseTo(expected.dx2, 15)
  })

  it('forward mode gives each partial from one tangent', () => {
    const [, d1] = jvp(seed004, [[s(2), s(5)]] as const, [[s(1), s(0)]] as const)
    const [, d2] = jvp(seed004, [[s(2), s(5)]] as const, [[s(0), s(1)]] as const)
    expect(d1.item()).toBe(5.5)
    expect(d2.item()).toBeCloseTo(expected.dx2, 15)
  })
})

describe('nested derivatives', () => {
  // closed-form second derivatives of every scalar primitive
  const cases: [string, (x: Scalar) => Tensor, (x: number) => number, number][] = [
    ['exp', exp, Math.exp, 0.7],
    ['log', log, (x) => -1 / (x * x), 1.3],
    ['sin', sin, (x) => -Math.sin(x), 0.4],
    ['cos', cos, (x) => -Math.cos(x), 0.4],
    ['tanh', tanh, (x) => -2 * Math.tanh(x) * (1 - Math.tanh(x) ** 2), 0.6],
    ['sigmoid', sigmoid, (x) => { const q = 1 / (1 + Math.exp(-x)); return q * (1 - q) * (1 - 2 * q) }, 0.8],
    ['softplus', softplus, (x) => { const q = 1 / (1 + Math.exp(-x)); return q * (1 - q) }, -0.3],
    ['erf', erf, (x) => (-4 * x * Math.exp(-x * x)) / Math.sqrt(Math.PI), 0.5],
    ['sqrt', sqrt, (x) => -0.25 * x ** -1.5, 2],
    ['pow 3', (x) => pow(x, 3), (x) => 6 * x, 1.5],
    ['neg', neg, () => 0, 1],
    ['reciprocal', (x) => div(1, x), (x) => 2 / x ** 3, 1.5]
  ]

  it.each(cases)('grad(grad(%s)) equals its closed form', (_, f, d2, x) => {
    const second = grad(grad((v: Scalar) => f(v)))(s(x))
    expect(second.item()).toBeCloseTo(d2(x), 12)
  })

  it('third derivatives nest too: d³ tanh at 0.3', () => {
    const t = Math.tanh(0.3)
    const sech2 = 1 - t * t
    expect(grad(grad(grad((v: Scalar) => tanh(v))))(s(0.3)).item()).toBeCloseTo(-2 * sech2 * (1 - 3 * t * t), 12)
  })

  it('mixed modes nest: forward over reverse equals reverse over reverse', () => {
    const f = (x: Scalar) => mul(sin(x), exp(x))
    const fr = jvp(grad(f), [s(0.9)] as const, [s(1)] as const)[1].item()
    const rr = grad(grad(f))(s(0.9)).item()
    const rf = grad((x: Scalar) => jvp(f, [x] as const, [s(1)] as const)[1])(s(0.9)).item()
    expect(fr).toBeCloseTo(rr, 13)
    expect(rf).toBeCloseTo(rr, 13)
  })

  it('no perturbation confusion: d/dx (x · d/dy (x + y)) = 1', () => {
    const inner = (x: Scalar) => grad((y: Scalar) => add(x, y))(s(1))
    expect(grad((x: Scalar) => mul(x, inner(x)))(s(7)).item()).toBe(1)
  })

  it('hessian is symmetric and equals jacrev of grad', () => {
    const f = (x: Vec) => sum(mul(sin(x), sum(mul(x, x))))
    const x = tensor([0.3, -1.1, 0.8])
    const H = hessian(f)(x).toArray() as number[][]
    const H2 = jacrev(grad(f))(x).toArray() as number[][]
    H.forEach((row, i) => row.forEach((h, j) => {
      expect(h).toBeCloseTo(H[j]![i]!, 13)
      expect(h).toBeCloseTo(H2[i]![j]!, 13)
    }))
    const Hv = hvp(f)(x, tensor([1, 0, 0])).toArray()
    expect(Hv).toEqual(H.map((r) => expect.closeTo(r[0]!, 13)))
  })
})

describe('jacobians', () => {
  fcTest.prop([tensors({ minRank: 1, maxRank: 2, maxDim: 3 })], { numRuns: 50 })('jacfwd equals jacrev', (x) => {
    const f = (v: Tensor) => mul(tanh(v), sum(v))
    const a = jacfwd(f)(x).data
    const b = jacrev(f)(x).data
    expect([...a].every((ai, i) => Math.abs(ai - b[i]!) <= 1e-14 * Math.max(1, Math.abs(ai)))).toBe(true)
  })

  it('has shape [...out, ...in]', () => {
    const w = tensor([[1, 2, 3], [4, 5, 6]])
    expect(jacrev((m: typeof w) => matmul(m, tensor([[1], [1], [1]])))(w).shape).toEqual([2, 1, 2, 3])
    expect(jacfwd((m: typeof w) => sum(m, 1))(w).shape).toEqual([2, 2, 3])
  })
})

describe('grad over trees', () => {
  it('returns the gradient in the same record/array structure', () => {
    const params = { w: tensor([[1, 2], [3, 4]]), b: [tensor([0.5, -0.5])] }
    const x = tensor([[1, 1]])
    const loss = (p: typeof params, input: typeof x) => sum(tanh(add(matmul(input, p.w), p.b[0]!)))
    const g = grad(loss)(params, x)
    expect(Object.keys(g)).toEqual(['w', 'b'])
    expect(g.w.shape).toEqual([2, 2])
    expect(g.b[0]!.shape).toEqual([2])
    // dL/db = 1 − tanh²(x·w + b)
    const z = [4 + 0.5, 6 - 0.5]
    expect(g.b[0]!.toArray()).toEqual(z.map((v) => expect.closeTo(1 - Math.tanh(v) ** 2, 15)))
  })
})

describe('errors', () => {
  it('grad of a non-scalar function names the shape', () => {
    expect(() => grad((x: Vec) => exp(x))(tensor([1, 2]))).toThrow(DifferentiationError)
    expect(() => grad((x: Vec) => exp(x))(tensor([1, 2]))).toThrow('must return a scalar (shape []), got shape [2]')
  })

  it('a non-float input is a DTypeError naming what it got', () => {
    expect(() => grad((x: Vec) => sum(x))(new Int32Array([1]) as never)).toThrow(DTypeError)
    expect(() => grad((x: Vec) => sum(x))('3' as never)).toThrow(/got string/)
  })

  it('vjp checks cotangent shapes', () => {
    const [, pullback] = vjp((x: Vec) => exp(x), tensor([1, 2]))
    expect(() => pullback(tensor([1, 2, 3]))).toThrow(/cotangent 0 must have shape \[2\]/)
  })
})

describe('the tape', () => {
  /** Counts how often each primitive's VJP maps run, by input position. */
  it('never computes the cotangent of data (the gradient with respect to x in x·w)', () => {
    const x = tensor([[1, 2, 3]])
    const w0 = tensor([[1], [2], [3]])
    const loss = (w: typeof w0) => sum(matmul(x, w))
    const [, counts] = countingVjps(['matmul'], () => grad(loss)(w0))
    expect(counts.get('matmul:1')).toBe(1)
    expect(counts.get('matmul:0')).toBeUndefined()
  })

  it('a training step of a two-layer MLP runs five matrix products: two forward, three backward (no x̄)', () => {
    // backward needs W̄₂ = hᵀ·ȳ, h̄ = ȳ·W₂ᵀ (to reach W₁) and W̄₁ = xᵀ·z̄₁; x̄ = z̄₁·W₁ᵀ is never asked for
    const model = Layer.sequential(Layers.dense(6, 4), Layers.relu(), Layers.dense(4, 3))
    const params = model.init(Random.key(0))
    const x = Random.normal(Random.key(1), [5, 6])
    const products: string[] = []
    const counting: Backend = {
      ...cpu,
      matmul: (a, aShape, b, bShape, ta, tb, dtype) => {
        products.push(`[${aShape}]${ta ? 'ᵀ' : ''}·[${bShape}]${tb ? 'ᵀ' : ''}`)
        return cpu.matmul(a, aShape, b, bShape, ta, tb, dtype)
      }
    }
    const g = Backends.withBackend(counting, () => grad((p: typeof params) => Loss.crossEntropyWithLogits(Layer.apply(model, p, x), [0, 1, 2, 0, 1]))(params))
    expect(products).toEqual(['[5,6]·[6,4]', '[5,4]·[4,3]', '[5,3]·[4,3]ᵀ', '[5,4]ᵀ·[5,3]', '[5,6]ᵀ·[5,4]'])
    expect(g.layers[0].w.shape).toEqual([6, 4])
  })

  it('visits each node once and adds the adjoints of a value used several times', () => {
    // y = (x·x)·(x·x): the product node x·x is used twice, its adjoint is the sum of both uses
    const [g, counts] = countingVjps(['mul'], () =>
      grad((x: Scalar) => {
        const sq = mul(x, x)
        return mul(sq, sq)
      })(s(1.5))
    )
    expect(g.item()).toBeCloseTo(4 * 1.5 ** 3, 14)
    expect(counts.get('mul:0')).toBe(2) // one per node: the outer product and x·x
    expect(counts.get('mul:1')).toBe(2)
  })

  it('records nothing for constants', () => {
    const [, pullback] = vjp((x: Vec) => add(x, exp(tensor([1, 2]))), tensor([0, 0]))
    expect(pullback(tensor([1, 1]))[0].toArray()).toEqual([1, 1])
  })

  const tapes = (size: number): fc.Arbitrary<Tape.Tape> =>
    fc.array(fc.integer({ min: 1, max: 50 }), { maxLength: size }).map((ids) =>
      ids.reduce<Tape.Tape>(
        (t, id) => Tape.Monoid.concat(t, Tape.of({ id, prim: 'neg', inputs: [0], context: { args: [s(1)], out: s(-1), params: {} } })),
        Tape.empty
      )
    )
  const sameNodes = (a: Tape.Tape, b: Tape.Tape) =>
    JSON.stringify(Tape.nodes(a).map((n) => n.id)) === JSON.stringify(Tape.nodes(b).map((n) => n.id))

  fcTest.prop([tapes(6), tapes(6), tapes(6)])('is a monoid: associativity', (a, b, c) =>
    sameNodes(Tape.Monoid.concat(Tape.Monoid.concat(a, b), c), Tape.Monoid.concat(a, Tape.Monoid.concat(b, c)))
  )
  fcTest.prop([tapes(6)])('is a monoid: identity', (a) =>
    sameNodes(Tape.Monoid.concat(Tape.empty, a), a) && sameNodes(Tape.Monoid.concat(a, Tape.empty), a)
  )
  it('concatenation is O(1): it builds one node whatever the sizes', () => {
    const big = Array.from({ length: 1000 }, (_, i) => i).reduce<Tape.Tape>(
      (t, id) => Tape.Monoid.concat(t, Tape.of({ id, prim: 'neg', inputs: [0], context: { args: [s(1)], out: s(-1), params: {} } })),
      Tape.empty
    )
    const joined = Tape.Monoid.concat(big, big)
    expect(joined).toEqual({ tag: 'concat', left: big, right: big })
    expect(Tape.nodes(joined)).toHaveLength(1000)
  })
})

describe('laws of forward mode', () => {
  const f = (v: Tensor) => mul(sin(v), exp(v))
  fcTest.prop([tensors({ minRank: 1, maxRank: 1 }).chain((x) => fc.tuple(fc.constant(x), tensorOf(x.shape), tensorOf(x.shape), fc.double({ min: -2, max: 2, noNaN: true })))], { numRuns: 200 })(
    'jvp is linear in the tangent',
    ([x, t1, t2, a]) => {
      const j = (t: Tensor) => jvp(f, [x] as const, [t] as const)[1].data
      const lhs = j(add(mul(t1, a), t2))
      const r1 = j(t1)
      const r2 = j(t2)
      return [...lhs].every((v, i) => Math.abs(v - (a * r1[i]! + r2[i]!)) <= 1e-13 * (1 + Math.abs(v)))
    }
  )

  fcTest.prop([tensors({ minRank: 1, maxRank: 1 }).chain((x) => fc.tuple(fc.constant(x), tensorOf(x.shape)))], { numRuns: 200 })(
    'chain rule: d(f∘g)(x)·t = df(g(x))·(dg(x)·t)',
    ([x, t]) => {
      const g = (v: Tensor) => tanh(v)
      const [gx, dg] = jvp(g, [x] as const, [t] as const)
      const chained = jvp(f, [gx] as const, [dg] as const)[1].data
      const direct = jvp((v: Tensor) => f(g(v)), [x] as const, [t] as const)[1].data
      return [...direct].every((v, i) => Math.abs(v - chained[i]!) <= 1e-14 * (1 + Math.abs(v)))
    }
  )
})

describe('stopGradient: the value passes, no derivative does', () => {
  // f(x) = x · stopGradient(x): f'(x) = stopGradient(x) = x (not 2x, the derivative of x²)
  const f = (x: Scalar) => mul(x, stopGradient(x))

  it('grad of x · stopGradient(x) is x, not 2x', () => {
    expect(grad(f)(s(3)).item()).toBe(3)
    const g = grad((x: Vec) => sum(mul(x, stopGradient(x))))(tensor([1, -2, 0.5]))
    expect(g.toArray()).toEqual([1, -2, 0.5])
  })

  it('jvp of x · stopGradient(x) is x · ẋ', () => {
    const [y, dy] = jvp(f, [s(3)] as const, [s(2)] as const)
    expect(y.item()).toBe(9)
    expect(dy.item()).toBe(6)
    // alone: the tangent through it is zero
    expect(jvp((x: Scalar) => stopGradient(x), [s(3)] as const, [s(1)] as const)[1].item()).toBe(0)
  })

  it('grad ∘ grad: the second derivative of x · stopGradient(x) is 0 (x² has 2)', () => {
    expect(grad(grad(f))(s(3)).item()).toBe(0)
    // x² · stopGradient(x): f' = 2x·x₀, f'' = 2x₀ (x₀ the stopped value), not 6x
    expect(grad(grad((x: Scalar) => mul(mul(x, x), stopGradient(x))))(s(1.5)).item()).toBe(3)
    // forward over reverse agrees
    expect(jvp(grad(f), [s(3)] as const, [s(1)] as const)[1].item()).toBe(0)
  })

  it('hessian of Σ x² · stopGradient(x) is diag(2x), not diag(6x)', () => {
    const H = hessian((x: Vec) => sum(mul(mul(x, x), stopGradient(x))))(tensor([1, 2])).toArray()
    expect(H).toEqual([[2, 0], [0, 4]])
    expect(jacfwd(grad((x: Vec) => sum(mul(mul(x, x), stopGradient(x)))))(tensor([1, 2])).toArray()).toEqual([[2, 0], [0, 4]])
  })

  it('the trace table shows it, with partial 0, and the gradient is x', () => {
    const t = Trace.trace(({ x }: { readonly x: Trace.Scalar }) => mul(x, stopGradient(x)), { x: 3 }, { tangent: 'x' })
    // v₀ = x, v₁ = stopGradient(v₀), v₂ = v₀ × v₁
    expect(t.rows.map((r) => r.expression)).toEqual(['x', 'stopGradient(v₀)', 'v₀ × v₁'])
    expect(t.rows[1]!.value.item()).toBe(3)
    expect(t.rows[1]!.tangent!.item()).toBe(0)
    expect(t.rows[2]!.tangent!.item()).toBe(3)
    // the sweep still visits v₁ → v₀, with the partial ∂v₁/∂v₀ = 0
    expect(t.adjoints.map((a) => [a.target, a.source, a.partial])).toContainEqual([0, 1, '0'])
    expect(t.gradient['x']!.item()).toBe(3)
    expect(Trace.renderText(t)).toContain('stopGradient(3)')
  })
})

describe('min reduction: derivative on the minima, shared among ties', () => {
  it('grad puts the cotangent on the minimum of each row', () => {
    const g = grad((x: Tensor) => sum(mul(min(x, 1), tensor([1, 10]))))(tensor([[3, 1, 2], [0, 5, -4]]))
    expect(g.toArray()).toEqual([[0, 1, 0], [0, 0, 10]])
  })

  it('ties share evenly, in reverse and forward mode', () => {
    expect(grad((x: Vec) => min(x))(tensor([2, 1, 1, 1])).toArray()).toEqual([0, 1 / 3, 1 / 3, 1 / 3])
    const [y, dy] = jvp((x: Vec) => min(x), [tensor([2, 1, 1])] as const, [tensor([5, 1, 3])] as const)
    expect(y.item()).toBe(1)
    expect(dy.item()).toBe(2)
  })

  it('agrees with −max(−x) away from ties, to second order', () => {
    const x = tensor([[0.3, -1.2, 2], [4, 0.1, -0.5]])
    const viaMin = (v: Tensor) => sum(mul(min(v, 0, true), min(v, 0, true)))
    const viaMax = (v: Tensor) => sum(mul(neg(max(neg(v), 0, true)), neg(max(neg(v), 0, true))))
    expect(grad(viaMin)(x).toArray()).toEqual(grad(viaMax)(x).toArray())
    expect(hessian(viaMin)(tensor([0.3, -1.2, 2])).toArray()).toEqual([[0, 0, 0], [0, 2, 0], [0, 0, 0]])
  })
})

describe('pad with a constant value', () => {
  it('grad ignores the padding: the gradient of x is the slice of the cotangent where x sits', () => {
    const w = tensor([[1, 2, 3], [4, 5, 6]])
    const g = grad((x: Tensor) => sum(mul(pad(x, [1, 1], [2, 3], { value: 7 }), w)))(tensor([[10, 20]]))
    expect(g.toArray()).toEqual([[5, 6]])
  })

  it('jvp pads the tangent with 0, not with the value', () => {
    const [y, dy] = jvp((x: Vec) => pad(x, [1], [4], { value: 7 }), [tensor([1, 2])] as const, [tensor([1, 1])] as const)
    expect(y.toArray()).toEqual([7, 1, 2, 7])
    expect(dy.toArray()).toEqual([0, 1, 1, 0])
  })

  it('nests: the hessian of Σ pad(x, c)² is 2 on x and nothing from the padding', () => {
    const H = hessian((x: Vec) => sum(mul(pad(x, [0], [3], { value: 4 }), pad(x, [0], [3], { value: 4 }))))(tensor([1, 2])).toArray()
    expect(H).toEqual([[2, 0], [0, 2]])
  })
})
