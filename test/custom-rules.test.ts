/**
 * Users' own derivative rules: `definePrimitive`, `customVjp`, `customJvp`, read by every
 * interpreter, nesting to any order, and checked by `lamina-nn/laws`. Expected values come from
 * the closed-form derivatives (swish'(x) = σ(x)(1 + x(1 − σ(x))), d√x = 1/(2√x), …) or from
 * lamina differentiating the same function built from its own primitives.
 */
import { describe, expect, expectTypeOf, it } from 'vitest'
import fc from 'fast-check'
import {
  DifferentiationError, ArgumentError, Layer, Layers, Loss, Optim, Prim, Random, Trace, Tree,
  add, astype, customJvp, customVjp, cos, definePrimitive, div, exp, fromBuffer, grad, hessian, jacfwd, jacrev, jvp, log, mul, neg, sigmoid, sin, sqrt, sub, sum, tanh, tensor, vjp
} from 'lamina-nn'
import type { Tensor, UserPrimitiveParams } from 'lamina-nn'
import { compile, CompileError } from 'lamina-nn/gpu'
import { LawFailure, checkCustomJvp, checkCustomVjp, checkPrimitive, sameShape, tensorOf, shapes } from 'lamina-nn/laws'
import { thrown } from './support/thrown.js'
import { compileOrThrow, compiled, eager, minibatches } from './support/compiled.js'

const one = tensor(1)
const sigma = (v: number) => 1 / (1 + Math.exp(-v))
/** swish'(x) = σ(x)·(1 + x·(1 − σ(x))), written with lamina's operations. */
const swishSlope = (x: Tensor) => {
  const s = sigmoid(x)
  const unit = astype(one, x.dtype) // float32 inside the compiled step
  return mul(s, add(unit, mul(x, sub(unit, s))))
}
const swishRef = (x: Tensor) => mul(x, sigmoid(x))
const swishSlopeAt = (v: number) => sigma(v) * (1 + v * (1 - sigma(v)))
/** swish''(x) = σ'(x)(2 + x(1 − 2σ(x))), σ' = σ(1 − σ). */
const swishCurvatureAt = (v: number) => sigma(v) * (1 - sigma(v)) * (2 + v * (1 - 2 * sigma(v)))
const runs = { gradient: 30, jvp: 30, innerProduct: 30, forwardReverse: 5, secondOrder: 5 }
const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-12) => {
  expect(a.length).toBe(b.length)
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b[i]!)))
}

// the forward pass is a host loop: only the rule tells lamina the derivative
const swish = definePrimitive({
  name: 'swishHost',
  arity: 1,
  forward: ([x]) => fromBuffer(Array.from(x!.data, (v) => v / (1 + Math.exp(-v))), x!.shape, { dtype: x!.dtype }),
  vjp: ({ args: [x] }) => [(ct) => mul(ct, swishSlope(x!))]
})

describe('definePrimitive: a new entry of the rule table', () => {
  const xs = [-3, -1, -0.2, 0.5, 2, 4]
  const x = tensor(xs)

  it('is in the table under its name, and its value is the forward computation', () => {
    expect(Prim.isUserPrimitive('swishHost')).toBe(true)
    expect(Prim.isBuiltin('swishHost')).toBe(false)
    expect(Prim.ruleOf('swishHost').arity).toBe(1)
    close(swish(x).data, xs.map((v) => v * sigma(v)), 1e-15)
  })

  it('reverse mode uses the vjp rule; forward mode is its transpose', () => {
    close(grad((v: Tensor) => sum(swish(v)))(x).data, xs.map(swishSlopeAt))
    close(jvp(swish, [x], [tensor(xs.map(() => 1))])[1].data, xs.map(swishSlopeAt))
    close(jacfwd(swish)(x).data, jacrev(swish)(x).data, 1e-15)
  })

  it('second derivatives differentiate the rule, in every mode combination', () => {
    const curvature = xs.map(swishCurvatureAt)
    const h = hessian((v: Tensor) => sum(swish(v)))(x)
    close(xs.map((_, i) => h.data[i * xs.length + i]!), curvature)
    // reverse over reverse
    close(grad((v: Tensor) => sum(grad((u: Tensor) => sum(swish(u)))(v)))(x).data, curvature)
    // the same as lamina's own derivative of x·σ(x)
    close(h.data, hessian((v: Tensor) => sum(swishRef(v)))(x).data, 1e-13)
  })

  it('passes every law of checkPrimitive, like a built-in primitive', () => {
    const reports = checkPrimitive(swish, runs)
    expect(reports.map((r) => r.law)).toContain('swishHost: Hessian-vector product vs differences of gradients')
    for (const r of reports) expect(r.maxError).toBeLessThanOrEqual(r.tolerance)
  })

  it('a two-argument primitive with only a jvp rule: reverse mode is its transpose', () => {
    // hypot(a, b) = √(a² + b²): d = (a·da + b·db)/hypot
    const hypot = definePrimitive({
      name: 'hypot',
      arity: 2,
      forward: ([a, b]) => fromBuffer(Array.from(a!.data, (v, i) => Math.hypot(v, b!.data[i]!)), a!.shape),
      jvp: ({ args: [a, b], out }) => [(t) => div(mul(a!, t), out), (t) => div(mul(b!, t), out)]
    })
    const a = tensor([3, -1, 0.5])
    const b = tensor([4, 2, -2])
    const [ga, gb] = vjp((p: Tensor, q: Tensor) => hypot(p, q), a, b)[1](tensor([1, 1, 1]))
    const r = [5, Math.hypot(-1, 2), Math.hypot(0.5, -2)]
    close(ga.data, [3 / 5, -1 / r[1]!, 0.5 / r[2]!])
    close(gb.data, [4 / 5, 2 / r[1]!, -2 / r[2]!])
    const cases = shapes({ maxRank: 2, maxDim: 3 }).chain((s) => fc.tuple(tensorOf(s, { min: 0.5, max: 3 }), tensorOf(s)).map((args) => ({ args })))
    for (const rep of checkPrimitive(hypot, runs, { cases })) expect(rep.maxError).toBeLessThanOrEqual(rep.tolerance)
  })

  it('parameters: called with its defaults, bound with others, checked over generated ones', () => {
    // leaky(x; α) = max(x, αx) for 0 < α < 1
    const leaky = definePrimitive<{ readonly alpha: number }>({
      name: 'leakyUser',
      arity: 1,
      params: { alpha: 0.1 },
      forward: ([x], { alpha }) => fromBuffer(Array.from(x!.data, (v) => (v > 0 ? v : alpha * v)), x!.shape),
      vjp: ({ args: [x], params: { alpha } }) => [(ct) => mul(ct, fromBuffer(Array.from(x!.data, (v) => (v > 0 ? 1 : alpha)), x!.shape))]
    })
    expect([...leaky(tensor([-2, 3])).data]).toEqual([-0.2, 3])
    expect([...leaky.bind([tensor([-2, 3])], { alpha: 0.5 }).data]).toEqual([-1, 3])
    const gradAt = (alpha: number) => grad((v: Tensor) => sum(leaky.bind([v], { alpha })))(tensor([-2, 3]))
    expect([...gradAt(0.25).data]).toEqual([0.25, 1])
    const cases = fc
      .tuple(fc.double({ min: 0.05, max: 0.95, noNaN: true }), shapes({ maxRank: 2, maxDim: 4 }))
      .chain(([alpha, s]) => tensorOf(s, { awayFrom: [0], margin: 0.1 }).map((x) => ({ args: [x], params: { alpha } })))
    for (const r of checkPrimitive(leaky, runs, { cases })) expect(r.maxError).toBeLessThanOrEqual(r.tolerance)
  })

  it('declaration merging: a name given a UserPrimitiveParams entry must be defined and bound with those parameters (checked by tsc)', () => {
    // the entry is at the bottom of this file: scaledSwishUser takes { beta: number }
    const scaled = definePrimitive({
      name: 'scaledSwishUser',
      arity: 1,
      params: { beta: 1 },
      forward: ([x], { beta }) => fromBuffer(Array.from(x!.data, (v) => v * sigma(beta * v)), x!.shape),
      vjp: ({ args: [x], params: { beta } }) => [(ct) => mul(ct, fromBuffer(Array.from(x!.data, (v) => sigma(beta * v) * (1 + beta * v * (1 - sigma(beta * v)))), x!.shape))]
    })
    expectTypeOf(scaled.bind).parameter(1).toEqualTypeOf<UserPrimitiveParams['scaledSwishUser']>()
    // @ts-expect-error: the declared parameter is beta, not alpha
    expect(() => scaled.bind([tensor([1])], { alpha: 2 })).toBeDefined()
    expect(grad((v: Tensor) => sum(scaled.bind([v], { beta: 2 })))(tensor([0.5])).item()).toBeCloseTo(sigma(1) * (1 + 1 * (1 - sigma(1))), 14)
    const wrongParams = () =>
      definePrimitive({
        name: 'scaledSwishUser',
        arity: 1,
        // @ts-expect-error: the entry says { beta: number }, so other parameters do not compile
        params: { alpha: 1 },
        forward: ([x]) => x!,
        vjp: () => [(ct) => ct]
      })
    // the runtime takes any parameters (a JavaScript caller has no declarations): a new primitive, suffixed
    expect(wrongParams().primitive).toBe('scaledSwishUser_2')
    const missingParams = () =>
      // @ts-expect-error: a declared primitive states its parameters (here none are given)
      definePrimitive({ name: 'scaledSwishUser', arity: 1, forward: ([x]: readonly Tensor[]) => x!, vjp: () => [(ct: Tensor) => ct] })
    expect(missingParams().primitive).toBe('scaledSwishUser_3')
    // a name without an entry infers its parameters, as before
    const free = definePrimitive({ name: 'freeParamsUser', arity: 1, params: { k: 3 }, forward: ([x], { k }) => mul(x!, tensor(k)), vjp: ({ params: { k } }) => [(ct) => mul(ct, tensor(k))] })
    expectTypeOf(free.bind).parameter(1).toEqualTypeOf<{ k: number }>()
  })

  it('the backward sweep pulls nothing back through a zero-derivative rule: what only feeds stopGradient, compare or sign is never differentiated', () => {
    let pulled = 0
    const spy = definePrimitive({
      name: 'spyUser',
      arity: 1,
      forward: ([x]) => mul(x!, x!),
      vjp: ({ args: [x] }) => [(ct) => (pulled++, mul(ct, mul(tensor(2), x!)))]
    })
    const quantize = definePrimitive({ name: 'roundZeroUser', arity: 1, zeroDerivative: true, forward: ([x]) => fromBuffer(Array.from(x!.data, Math.round), x!.shape), vjp: ({ args: [x] }) => [() => mul(x!, tensor(0))] })
    const x = tensor([0.4, -1.6, 2.2])
    const f = (v: Tensor) => add(sum(v), add(sum(Prim.bind('stopGradient', [spy(v)], {})), add(sum(Prim.bind('sign', [spy(v)], {})), sum(quantize(spy(v))))))
    expect([...grad(f)(x).data]).toEqual([1, 1, 1])
    expect(pulled).toBe(0)
    // without the constant rules in between, the same primitive is pulled back once per use
    expect([...grad((v: Tensor) => sum(spy(v)))(x).data]).toEqual([0.8, -3.2, 4.4])
    expect(pulled).toBe(1)
  })

  it('zeroDerivative: a straight-through round is checked to have a zero rule', () => {
    const quantize = definePrimitive({
      name: 'roundZero',
      arity: 1,
      zeroDerivative: true,
      forward: ([x]) => fromBuffer(Array.from(x!.data, Math.round), x!.shape),
      jvp: ({ args: [x] }) => [() => fromBuffer(new Float64Array(x!.size), x!.shape)]
    })
    expect([...grad((v: Tensor) => sum(quantize(v)))(tensor([0.4, 2.6])).data]).toEqual([0, 0])
    const reports = checkPrimitive(quantize, runs)
    expect(reports[0]!.law).toBe('roundZero: reverse mode is zero (derivative 0 by definition)')
    for (const r of reports) expect(r.maxError).toBeLessThanOrEqual(r.tolerance)
  })

  it('a wrong rule fails checkPrimitive with a shrunk counterexample', () => {
    // d sin x written as cos² x
    const badSin = definePrimitive({ name: 'badSin', arity: 1, forward: ([x]) => sin(x!), jvp: ({ args: [x] }) => [(t) => mul(t, mul(cos(x!), cos(x!)))] })
    const e = thrown(() => checkPrimitive(badSin, runs))
    expect(e).toBeInstanceOf(LawFailure)
    expect((e as LawFailure).law).toBe('badSin: reverse mode vs finite differences')
  })

  it('bad definitions and bad rules are typed errors naming the primitive', () => {
    expect(() => definePrimitive({ name: 'tanh', arity: 1, forward: ([x]) => x!, jvp: () => [(t) => t] })).toThrow(
      new ArgumentError("definePrimitive: 'tanh' is a built-in primitive; choose another name")
    )
    // a second definition under a name in use is a second primitive, with its own rule
    const again = definePrimitive({ name: 'swishHost', arity: 1, forward: ([x]) => neg(x!), jvp: () => [neg] })
    expect(again.primitive).toBe('swishHost_2')
    expect([...grad((v: Tensor) => sum(again(v)))(tensor([1, 2])).data]).toEqual([-1, -1])
    close(grad((v: Tensor) => sum(swish(v)))(tensor([0.5])).data, [swishSlopeAt(0.5)])
    expect(() => definePrimitive({ name: 'noRules', arity: 1, forward: ([x]) => x! })).toThrow("definePrimitive: primitive 'noRules' needs a jvp rule, a vjp rule or both")
    expect(() => definePrimitive({ name: 'zeroArity', arity: 0, forward: ([x]) => x!, jvp: () => [] })).toThrow(/arity must be a positive integer, got 0/)
    expect(() => definePrimitive({ name: 'has space', arity: 1, forward: ([x]) => x!, jvp: () => [(t) => t] })).toThrow(/name must be an identifier/)
    expect(() => swish(tensor(1), tensor(2))).toThrow("primitive 'swishHost': expected 1 tensor argument, got 2")
    const twoMaps = definePrimitive({ name: 'twoMaps', arity: 1, forward: ([x]) => neg(x!), vjp: () => [neg, neg] })
    expect(() => grad((v: Tensor) => sum(twoMaps(v)))(tensor([1]))).toThrow(
      new DifferentiationError("primitive 'twoMaps': the vjp rule must return 1 function (one linear map per argument), got 2 entries")
    )
    const wrongShape = definePrimitive({ name: 'wrongShape', arity: 1, forward: ([x]) => neg(x!), vjp: () => [(ct) => sum(ct)] })
    expect(() => grad((v: Tensor) => sum(wrongShape(v)))(tensor([1, 2]))).toThrow(
      "primitive 'wrongShape': the vjp rule's map 0 (the cotangent of argument 0) must have shape [2] (f64), got [] (f64)"
    )
    const wrongDtype = definePrimitive({ name: 'wrongDtype', arity: 1, forward: ([x]) => fromBuffer([...x!.data], x!.shape, { dtype: 'f32' }), jvp: () => [(t) => t] })
    expect(() => wrongDtype(tensor([1]))).toThrow("primitive 'wrongDtype': the forward computation returned f32 for f64 arguments")
    // a traced value captured by the forward computation instead of passed to it
    const w = tensor(2)
    expect(() =>
      grad((scale: Tensor) => {
        const captured = definePrimitive({ name: 'captures', arity: 1, forward: ([x]) => mul(x!, scale), jvp: () => [(t) => t] })
        return sum(captured(scale))
      })(w)
    ).toThrow(/'captures': the forward computation returned a value that depends on a variable being differentiated which it did not receive as an argument/)
  })

  it('the teaching trace shows it as a row and differentiates through it', () => {
    const t = Trace.trace(({ x }) => mul(swish(x), x), { x: 1.5 }, { tangent: 'x' })
    expect(t.rows.map((r) => r.expression)).toEqual(['x', 'swishHost(v₀)', 'v₁ × v₀'])
    const expected = swishSlopeAt(1.5) * 1.5 + 1.5 * sigma(1.5)
    expect(Math.abs(t.gradient['x']!.item() - expected)).toBeLessThan(1e-14)
    expect(Math.abs(t.rows[2]!.tangent!.item() - expected)).toBeLessThan(1e-14)
  })

  it('with a kernel expression, the compiled step runs it and matches the eager interpreter', async () => {
    const swishKernel = definePrimitive({
      name: 'swishKernel',
      arity: 1,
      forward: ([x]) => swishRef(x!),
      vjp: ({ args: [x] }) => [(ct) => mul(ct, swishSlope(x!))],
      kernel: ([x]) => `${x} / (1.0 + Math.exp(-${x}))`
    })
    const layer: Layer.AnyLayer = {
      kind: 'swishKernelLayer',
      inShape: undefined,
      outputShape: (s) => s,
      init: () => ({}),
      initState: () => ({}),
      forward: (_p, x, { state }) => ({ y: swishKernel(x), state })
    }
    const model = Layer.sequential(Layers.dense(6, 8), layer, Layers.dense(8, 3))
    const sgd = Optim.sgd({ lr: 0.1 }) as Optim.Optimizer<{ readonly step: number }>
    const step = await compileOrThrow(model as Layer.AnyLayer, Loss.crossEntropyWithLogits, sgd, { batch: 4, steps: 2 })
    try {
      const params = model.init(Random.key(5), 'f32')
      const data = minibatches(3, 4, 4, 6, 3)
      const reference = eager(model, sgd, params, data)
      const got = await compiled(step, params, sgd.init(params), data)
      // float32 kernels against the float64 eager run: a few steps of a smooth network stay within 1e-5
      got.losses.forEach((loss, i) => expect(Math.abs(loss - reference.records[i]!.loss)).toBeLessThan(1e-5 * Math.max(1, Math.abs(loss))))
      got.params.forEach((leaf, i) => close(leaf.data, reference.params[i]!.data, 1e-5))
      // and training moved them
      expect(Math.abs(got.params[0]!.data[0]! - (Tree.flatten(params).leaves[0]!.data[0] ?? 0))).toBeGreaterThan(1e-4)
    } finally {
      await step.dispose()()
    }
    // the kernel is what runs: one that disagrees with the forward computation changes the compiled loss
    const wrongKernel = definePrimitive({ name: 'swishWrongKernel', arity: 1, forward: ([x]) => swishRef(x!), vjp: ({ args: [x] }) => [(ct) => mul(ct, swishSlope(x!))], kernel: ([x]) => `${x}` })
    const wrongModel = Layer.sequential(Layers.dense(6, 8), { ...layer, forward: (_p: unknown, x: Tensor, { state }: { state: unknown }) => ({ y: wrongKernel(x), state }) } as Layer.AnyLayer, Layers.dense(8, 3))
    const wrongStep = await compileOrThrow(wrongModel as Layer.AnyLayer, Loss.crossEntropyWithLogits, sgd, { batch: 4, steps: 2 })
    try {
      const params = wrongModel.init(Random.key(5), 'f32')
      const data = minibatches(3, 2, 4, 6, 3)
      const got = await compiled(wrongStep, params, sgd.init(params), data)
      expect(Math.abs(got.losses[0]! - eager(wrongModel, sgd, params, data).records[0]!.loss)).toBeGreaterThan(1e-3)
    } finally {
      await wrongStep.dispose()()
    }
  })

  it('without a kernel expression the compiled interpreter refuses it with a CompileError naming it', async () => {
    const userLayer: Layer.AnyLayer = {
      kind: 'swishLayer',
      inShape: undefined,
      outputShape: (s) => s,
      init: () => ({}),
      initState: () => ({}),
      forward: (_p, x, { state }) => ({ y: swish(x), state })
    }
    const model = Layer.sequential(Layers.dense(3, 4), userLayer, Layers.dense(4, 2))
    const result = await compile(model, Loss.crossEntropyWithLogits, Optim.sgd({ lr: 0.1 }) as Optim.Optimizer<{ readonly step: number }>, { batch: 2, steps: 1 })()
    if (result._tag === 'Right') {
      await result.right.dispose()()
      throw new Error('expected compile to refuse a user primitive')
    }
    expect(result.left).toBeInstanceOf(CompileError)
    expect(result.left.reason).toBe('unsupported-primitive')
    expect(result.left.message).toContain("the primitive 'swishHost', which the compiled interpreter cannot lower: a primitive defined by user code without a GPU.js kernel expression")
  })
})

describe('customVjp: f with your reverse-mode rule', () => {
  // log(1 + eˣ), whose own derivative eˣ/(1 + eˣ) is ∞/∞ = NaN at x = 1000
  const naive = (x: Tensor) => log(add(one, exp(x)))
  let fwdCalls = 0
  let bwdCalls = 0
  const softplus = customVjp(naive, {
    fwd: (x) => {
      fwdCalls++
      const e = exp(x)
      return [log(add(one, e)), e] as const
    },
    bwd: (e, ct) => {
      bwdCalls++
      return [mul(ct, sub(one, div(one, add(one, e))))]
    }
  })

  it("gives a finite gradient where the function's own derivative is NaN", () => {
    expect(Number.isNaN(grad((x: Tensor) => sum(naive(x)))(tensor([1000])).item())).toBe(true)
    close(grad((x: Tensor) => sum(softplus(x)))(tensor([0, 1000, -3])).data, [0.5, 1, sigma(-3)])
  })

  it('runs f itself when nothing differentiates it, and fwd and bwd once per reverse pass', () => {
    fwdCalls = 0
    bwdCalls = 0
    close(softplus(tensor([0])).data, [Math.log(2)], 1e-15)
    expect([fwdCalls, bwdCalls]).toEqual([0, 0])
    grad((x: Tensor) => sum(softplus(x)))(tensor([0.5, 1]))
    expect([fwdCalls, bwdCalls]).toEqual([1, 1])
  })

  it('nests: second derivatives by reverse over reverse and forward over reverse', () => {
    const xs = [-2, 0.3, 1.7]
    const curvature = xs.map((v) => sigma(v) * (1 - sigma(v)))
    close(grad((x: Tensor) => sum(grad((y: Tensor) => sum(softplus(y)))(x)))(tensor(xs)).data, curvature)
    const h = hessian((x: Tensor) => sum(softplus(x)))(tensor(xs))
    close(xs.map((_, i) => h.data[i * 3 + i]!), curvature)
    // third order: σ''(x) = σ'(x)(1 − 2σ(x))
    const third = grad((x: Tensor) => sum(grad((y: Tensor) => sum(grad((z: Tensor) => sum(softplus(z)))(y)))(x)))(tensor(xs))
    close(third.data, xs.map((v, i) => curvature[i]! * (1 - 2 * sigma(v))))
  })

  it("several arguments, a null cotangent for one, and f's types kept", () => {
    const scaledTanh = customVjp((a: Tensor, b: Tensor) => mul(a, tanh(b)), {
      fwd: (a, b) => {
        const t = tanh(b)
        return [mul(a, t), [a, t]] as const
      },
      bwd: ([a, t], ct) => [mul(ct, t), mul(ct, mul(a, sub(one, mul(t, t))))]
    })
    const a = tensor([1.5, 2])
    const b = tensor([0.5, 0.7])
    const [ga, gb] = vjp(scaledTanh, a, b)[1](tensor([1, 1]))
    close(ga.data, [Math.tanh(0.5), Math.tanh(0.7)])
    close(gb.data, [1.5 / Math.cosh(0.5) ** 2, 2 / Math.cosh(0.7) ** 2])
    const frozen = customVjp((a: Tensor, b: Tensor) => mul(a, b), { fwd: (a, b) => [mul(a, b), a] as const, bwd: (a, ct) => [null, mul(ct, a)] })
    const [fa, fb] = vjp(frozen, a, b)[1](tensor([1, 1]))
    expect([...fa.data]).toEqual([0, 0])
    expect([...fb.data]).toEqual([1.5, 2])
    expect(frozen.primitive).toMatch(/^customVjp(_\d+)?$/)
    expect(frozen.custom).toBe('vjp')
  })

  it('checkCustomVjp passes a right rule and catches wrong ones, failing clearly', () => {
    const good = customVjp(swishRef, {
      fwd: (x) => [swishRef(x), x] as const,
      bwd: (x, ct) => [mul(ct, swishSlope(x))]
    }, { name: 'swishGood' })
    const reports = checkCustomVjp(good, sameShape(1), { runs: { finiteDifferences: 40, ownDerivative: 10, innerProduct: 40 } })
    expect(reports.map((r) => r.law)).toEqual([
      'swishGood: reverse mode (your rule) vs finite differences',
      "swishGood: reverse mode (your rule) vs lamina's reverse mode of the function without the rule",
      'swishGood: inner-product identity (your rule is linear in the cotangent)'
    ])
    for (const r of reports) expect(r.maxError).toBeLessThanOrEqual(r.tolerance)
    // three wrong rules for swish: each error grows with |x|, so the shrunk case must stay a clear failure
    const wrongRules: readonly ((x: Tensor) => Tensor)[] = [
      (x) => sigmoid(x), // forgot x·σ'(x)
      (x) => mul(sigmoid(x), sub(one, mul(x, sub(one, sigmoid(x))))), // sign error
      (x) => add(swishSlope(x), mul(tensor(0.1), x)) // a stray term
    ]
    wrongRules.forEach((slope, k) => {
      const bad = customVjp(swishRef, { fwd: (x) => [swishRef(x), x] as const, bwd: (x, ct) => [mul(ct, slope(x))] }, { name: `swishWrong${k}` })
      const e = thrown(() => checkCustomVjp(bad, sameShape(1), { runs: { finiteDifferences: 50 } }))
      expect(e).toBeInstanceOf(LawFailure)
      const d = (e as LawFailure).details!
      expect(d.law).toBe(`swishWrong${k}: reverse mode (your rule) vs finite differences`)
      expect(d.shrunk.error / d.shrunk.tolerance).toBeGreaterThanOrEqual(Math.max(1, d.worst.error / d.worst.tolerance / 2))
      expect(d.shrunk.error / d.shrunk.tolerance).toBeGreaterThan(100)
    })
  })

  it('a bwd that is not linear in the cotangent fails the inner-product law', () => {
    const squared = customVjp((x: Tensor) => mul(x, tensor(3)), { fwd: (x) => [mul(x, tensor(3)), null] as const, bwd: (_r, ct) => [mul(tensor(3), mul(ct, ct))] }, { name: 'squaredCotangent' })
    const e = thrown(() => checkCustomVjp(squared, sameShape(1), { runs: { finiteDifferences: 20, ownDerivative: 5, innerProduct: 20 } }))
    expect(e).toBeInstanceOf(LawFailure)
  })

  it('a function lamina cannot differentiate: the own-derivative law is skipped with the reason', () => {
    const hostSquare = (x: Tensor) => fromBuffer(Array.from(x.data, (v) => v * v), x.shape)
    const square = customVjp(hostSquare, { fwd: (x) => [hostSquare(x), x] as const, bwd: (x, ct) => [mul(ct, mul(tensor(2), x))] }, { name: 'hostSquare' })
    const reports = checkCustomVjp(square, sameShape(1), { runs: { finiteDifferences: 20, innerProduct: 20 } })
    expect(reports[1]!.skipped).toMatch(/^the function without the rule has no derivative of its own: /)
    expect(reports[1]!.cases).toBe(0)
    for (const r of [reports[0]!, reports[2]!]) expect(r.maxError).toBeLessThanOrEqual(r.tolerance)
  })

  it('bad rules are typed errors naming the function', () => {
    const short = customVjp((a: Tensor, b: Tensor) => add(a, b), { fwd: (a, b) => [add(a, b), null] as const, bwd: (_r, ct) => [ct] as never }, { name: 'shortBwd' })
    expect(() => vjp(short, tensor([1]), tensor([2]))[1](tensor([1]))).toThrow("customVjp 'shortBwd': bwd must return one cotangent per argument (2), got 1")
    const misshapen = customVjp((a: Tensor) => neg(a), { fwd: (a) => [neg(a), null] as const, bwd: (_r, ct) => [sum(ct)] }, { name: 'misshapen' })
    expect(() => grad((x: Tensor) => sum(misshapen(x)))(tensor([1, 2]))).toThrow("customVjp 'misshapen': bwd's cotangent 0 must have shape [2] (f64), got [] (f64)")
    expect(() => customVjp(neg, {} as never)).toThrow(ArgumentError)
  })
})

describe('customJvp: f with your forward-mode rule', () => {
  const root = customJvp((x: Tensor) => sqrt(x), {
    jvp: ([x], [t]) => {
      const y = sqrt(x)
      return [y, div(t, mul(tensor(2), y))] as const
    }
  })

  it('forward mode uses the rule; reverse mode is its transpose', () => {
    expect(jvp(root, [tensor(4)], [tensor(1)])[1].item()).toBe(0.25)
    close(grad((x: Tensor) => sum(root(x)))(tensor([4, 9, 0.25])).data, [0.25, 1 / 6, 1])
  })

  it('second derivatives: d²√x = −1/(4 x^{3/2}) in every combination', () => {
    const xs = [4, 9, 0.25]
    const second = xs.map((v) => -1 / (4 * v ** 1.5))
    const h = hessian((x: Tensor) => sum(root(x)))(tensor(xs))
    close(xs.map((_, i) => h.data[i * 3 + i]!), second)
    close(grad((x: Tensor) => sum(grad((y: Tensor) => sum(root(y)))(x)))(tensor(xs)).data, second)
    const forwardForward = jvp((x: Tensor) => jvp(root, [x], [tensor([1, 1, 1])])[1], [tensor(xs)], [tensor([1, 1, 1])])[1]
    close(forwardForward.data, second)
  })

  it('two arguments: the rule gets every tangent, reverse mode still transposes it', () => {
    // f(a, b) = a·sin b: ḟ = ȧ·sin b + a·cos b·ḃ
    const f = customJvp((a: Tensor, b: Tensor) => mul(a, sin(b)), { jvp: ([a, b], [ta, tb]) => [mul(a, sin(b)), add(mul(ta, sin(b)), mul(a, mul(cos(b), tb)))] as const })
    const [ga, gb] = vjp(f, tensor([2]), tensor([0.3]))[1](tensor([1]))
    close(ga.data, [Math.sin(0.3)])
    close(gb.data, [2 * Math.cos(0.3)])
    const reports = checkCustomJvp(f, sameShape(2), { runs: { finiteDifferences: 30, ownDerivative: 10, innerProduct: 30 } })
    for (const r of reports) expect(r.maxError).toBeLessThanOrEqual(r.tolerance)
  })

  it('a rule that reads its tangent values cannot be transposed, and says so', () => {
    const peeking = customJvp((x: Tensor) => mul(x, tensor(2)), { jvp: ([x], [t]) => [mul(x, tensor(2)), fromBuffer(Array.from(t!.data, (v) => 2 * v), t!.shape)] as const }, { name: 'peeking' })
    expect(jvp(peeking, [tensor([1])], [tensor([1])])[1].item()).toBe(2)
    expect(() => grad((x: Tensor) => sum(peeking(x)))(tensor([1]))).toThrow(/^customJvp 'peeking': the other mode's rule is the transpose of the jvp rule, and transposing it failed/)
  })

  it('checkCustomJvp catches a wrong rule', () => {
    const wrong = customJvp((x: Tensor) => sqrt(x), { jvp: ([x], [t]) => [sqrt(x), div(t, sqrt(x))] as const }, { name: 'rootWrong' })
    const e = thrown(() => checkCustomJvp(wrong, sameShape(1, { min: 0.5, max: 4 }), { runs: { finiteDifferences: 30 } }))
    expect(e).toBeInstanceOf(LawFailure)
    expect((e as LawFailure).law).toBe('rootWrong: forward mode (your rule) vs finite differences')
    expect(() => checkCustomVjp(root as unknown as Parameters<typeof checkCustomVjp>[0], sameShape(1))).toThrow(new RegExp(`^checkCustomVjp: '${root.primitive}' was made by customJvp; check it with checkCustomJvp$`))
    expect(() => checkCustomVjp(sqrt as unknown as Parameters<typeof checkCustomVjp>[0], sameShape(1))).toThrow('checkCustomVjp: expected a function made by customVjp, got a plain function')
  })
})

// declaration merging, as a user's module writes it: the parameter type of the primitive 'scaledSwishUser'
declare module 'lamina-nn' {
  interface UserPrimitiveParams {
    scaledSwishUser: { readonly beta: number }
  }
}
