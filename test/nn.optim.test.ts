/**
 * Optimizers and learning-rate schedules: the laws the optimizer issue asks for (a zero
 * gradient leaves SGD where it is; Adam's first step moves every coordinate by ≈ lr),
 * convergence on a convex quadratic whose gradient comes from lamina's own `grad`, closed
 * forms (momentum on a constant gradient), a hand-computed AdamW step against Adam + L2,
 * clipping bounds, schedule formulas, immutability and validation. Properties return or
 * assert their verdicts.
 */
import { describe, expect, it } from 'vitest'
import { fc, test } from '@fast-check/vitest'
import { ArgumentError, Backends, DTypeError, ShapeError, add, cpu, fromBuffer, grad, mul, square, sub, sum, tensor } from 'lamina-nn'
import type { Backend, Tensor } from 'lamina-nn'
import * as Optim from '../src/nn/optim.js'
import * as Schedule from '../src/nn/schedule.js'

// ================================================================ helpers

type Shape = readonly number[]
const sizeOf = (s: Shape): number => s.reduce((a, d) => a * d, 1)

/** The leaves of a tree, depth-first, keys in insertion order (written here, not lamina's). */
const isTensor = (x: unknown): x is Tensor => x !== null && typeof x === 'object' && 'shape' in x && 'dtype' in x

const leavesOf = (tree: unknown): Tensor[] => {
  if (isTensor(tree)) return [tree]
  if (Array.isArray(tree)) return tree.flatMap(leavesOf)
  if (tree !== null && typeof tree === 'object') return Object.values(tree).flatMap(leavesOf)
  return []
}

const valuesOf = (tree: unknown): number[][] => leavesOf(tree).map((t) => Array.from(t.data))

/** Same bits, -0 and NaN included. */
const sameValues = (a: readonly number[][], b: readonly number[][]): boolean =>
  a.length === b.length && a.every((xs, i) => xs.length === b[i]!.length && xs.every((x, j) => Object.is(x, b[i]![j])))

const close = (x: number, y: number, rel: number, abs = 0): boolean => Math.abs(x - y) <= abs + rel * Math.max(Math.abs(x), Math.abs(y))

/** A nested parameter tree over the given leaves: a record holding a tensor, an array and a record inside it. */
const treeOf = (leaves: readonly Tensor[]): unknown => ({
  head: leaves[0]!,
  layers: leaves.slice(1).map((t, i) => (i % 2 === 0 ? { w: t } : t))
})

const shapeArb: fc.Arbitrary<Shape> = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 3 })
const layoutArb: fc.Arbitrary<Shape[]> = fc.array(shapeArb, { minLength: 1, maxLength: 4 })
const valueArb = fc.double({ min: -10, max: 10, noNaN: true })

/** Values for every leaf of a layout. */
const valuesArb = (layout: readonly Shape[], v: fc.Arbitrary<number> = valueArb): fc.Arbitrary<number[][]> =>
  fc.tuple(...layout.map((s) => fc.array(v, { minLength: sizeOf(s), maxLength: sizeOf(s) })))

const build = (layout: readonly Shape[], values: readonly number[][]): unknown =>
  treeOf(layout.map((s, i) => fromBuffer(values[i]!, s)))

/** A layout with parameter values and gradient values for it. */
const problemArb = (g: fc.Arbitrary<number> = valueArb) =>
  layoutArb.chain((layout) => fc.record({ layout: fc.constant(layout), params: valuesArb(layout), grads: valuesArb(layout, g) }))

/** An optimizer under test; it prints as its name and options in counterexamples. */
interface Case {
  readonly name: string
  readonly opt: Optim.Optimizer<unknown>
}

const rate = fc.double({ min: 0, max: 1, noNaN: true })
const beta = fc.double({ min: 0, max: 0.99, noNaN: true })
const named = <O extends object>(name: string, make: (o: O) => Optim.Optimizer<unknown>, options: fc.Arbitrary<O>): fc.Arbitrary<Case> =>
  options.map((o) => ({ name, opt: make(o), [fc.toStringMethod]: () => `Optim.${name}(${JSON.stringify(o)})` }))

/** Every optimizer, with hyperparameters drawn at random. */
const optimizerArb: fc.Arbitrary<Case> = fc.oneof(
  named('sgd', Optim.sgd, fc.record({ lr: rate })),
  named('momentum', Optim.momentum, fc.record({ lr: rate, beta })),
  named('nesterov', Optim.nesterov, fc.record({ lr: rate, beta })),
  named('adagrad', Optim.adagrad, fc.record({ lr: rate })),
  named('rmsprop', Optim.rmsprop, fc.record({ lr: rate, decay: beta })),
  named('adam', Optim.adam, fc.record({ lr: rate, beta1: beta, beta2: beta })),
  named('adamw', Optim.adamw, fc.record({ lr: rate, weightDecay: rate }))
)

// ================================================================ the laws of the issue

describe('laws', () => {
  test.prop([problemArb(), fc.oneof(fc.double({ min: 0, max: 10, noNaN: true }), fc.constant(Schedule.cosine({ initial: 1, steps: 5 })))])(
    'a zero gradient leaves SGD params unchanged, bit for bit',
    ({ layout, params }, lr) => {
      const p = build(layout, params)
      const zero = build(layout, params.map((xs) => xs.map(() => 0)))
      const opt = Optim.sgd({ lr })
      let [q, state] = opt.update(zero, opt.init(p), p)
      for (let i = 0; i < 3; i++) [q, state] = opt.update(zero, state, q)
      return sameValues(valuesOf(q), params) && state.step === 4
    }
  )

  test.prop([problemArb(), optimizerArb])(
    'a zero gradient from the initial state moves no optimizer but a decaying AdamW',
    ({ layout, params }, { name, opt }) => {
      fc.pre(name !== 'adamw')
      const p = build(layout, params)
      const zero = build(layout, params.map((xs) => xs.map(() => 0)))
      const [q] = opt.update(zero, opt.init(p), p)
      return sameValues(valuesOf(q), params)
    }
  )

  const nonZero = fc.oneof(fc.double({ min: 1e-2, max: 1e3, noNaN: true }), fc.double({ min: -1e3, max: -1e-2, noNaN: true }))
  test.prop([
    problemArb(nonZero),
    fc.double({ min: 1e-4, max: 1, noNaN: true }),
    fc.double({ min: 0, max: 0.999, noNaN: true }),
    fc.double({ min: 0, max: 0.9999, noNaN: true })
  ])("Adam's first step moves every coordinate by ≈ lr, against the gradient", ({ layout, params, grads }, lr, beta1, beta2) => {
    const p = build(layout, params)
    const opt = Optim.adam({ lr, beta1, beta2 })
    const [q] = opt.update(build(layout, grads), opt.init(p), p)
    const after = valuesOf(q)
    // exactly lr·|g| / (|g| + ε) with ε = 1e-8, so within 1e-6 relative for |g| ≥ 1e-2
    return after.every((xs, i) =>
      xs.every((x, j) => {
        const g = grads[i]![j]!
        const delta = x - params[i]![j]!
        return Math.sign(delta) === -Math.sign(g) && close(Math.abs(delta), lr, 1e-6, 1e-14)
      })
    )
  })
})

// ================================================================ convergence on a convex quadratic

describe('each optimizer minimises a convex quadratic', () => {
  // f(θ) = ½ Σ aᵢ (θᵢ − cᵢ)² over a nested tree, minimum at θ = c; the gradient comes from lamina's grad
  type Params = { readonly w: Tensor<[3], 'f64'>; readonly rest: readonly [{ readonly b: Tensor<[2], 'f64'> }] }
  const a = { w: tensor([1, 3, 10]), b: tensor([0.5, 2]) }
  const c = { w: [1, -2, 3], b: [-1, 0.5] }
  const loss = (p: Params): Tensor<[], 'f64'> =>
    add(sum(mul(a.w, square(sub(p.w, tensor(c.w))))), sum(mul(a.b, square(sub(p.rest[0].b, tensor(c.b)))))) as Tensor<[], 'f64'>
  const start: Params = { w: tensor([0, 0, 0]), rest: [{ b: tensor([0, 0]) }] }
  const distance = (p: Params): number =>
    Math.max(...p.w.toArray().map((x, i) => Math.abs(x - c.w[i]!)), ...p.rest[0].b.toArray().map((x, i) => Math.abs(x - c.b[i]!)))

  const run = <S>(opt: Optim.Optimizer<S>, steps: number): Params => {
    let p = start
    let state = opt.init(p)
    for (let i = 0; i < steps; i++) [p, state] = opt.update(grad(loss)(p), state, p)
    return p
  }

  const cases: [string, Optim.Optimizer<unknown>, number, number][] = [
    // [name, optimizer, steps, tolerance on max |θ − c|]; the curvature is 2aᵢ ∈ [1, 20]
    ['sgd', Optim.sgd({ lr: 0.09 }), 300, 1e-6],
    ['momentum', Optim.momentum({ lr: 0.02, beta: 0.9 }), 400, 1e-6],
    ['nesterov', Optim.nesterov({ lr: 0.02, beta: 0.9 }), 400, 1e-6],
    ['adagrad', Optim.adagrad({ lr: 1 }), 400, 1e-6],
    ['rmsprop', Optim.rmsprop({ lr: Schedule.cosine({ initial: 0.05, steps: 500 }) }), 500, 1e-3],
    ['adam', Optim.adam({ lr: Schedule.cosine({ initial: 0.2, steps: 500 }) }), 500, 1e-4],
    ['adamw (λ = 0)', Optim.adamw({ lr: Schedule.cosine({ initial: 0.2, steps: 500 }), weightDecay: 0 }), 500, 1e-4],
    ['adamw (λ = 1e-4)', Optim.adamw({ lr: Schedule.cosine({ initial: 0.2, steps: 500 }), weightDecay: 1e-4 }), 500, 1e-2],
    ['sgd with a warm-up', Optim.sgd({ lr: Schedule.warmup({ steps: 20, schedule: Schedule.constant(0.09) }) }), 300, 1e-6],
    ['clipped sgd', Optim.withClipping(Optim.sgd({ lr: 0.09 }), (g) => Optim.clipByGlobalNorm(g, 1)[0]), 400, 1e-6]
  ]
  for (const [name, opt, steps, tol] of cases) {
    it(`${name}: max |θ − c| < ${tol} within ${steps} steps`, () => {
      expect(distance(start)).toBeGreaterThan(1)
      expect(distance(run(opt, steps))).toBeLessThan(tol)
    })
  }
})

// ================================================================ closed forms and hand-computed steps

describe('closed forms', () => {
  test.prop([
    problemArb(),
    fc.double({ min: 0, max: 1, noNaN: true }),
    fc.double({ min: 0, max: 0.99, noNaN: true }),
    fc.integer({ min: 1, max: 30 })
  ])('momentum on a constant gradient: v_T = g (1 − βᵀ)/(1 − β), θ_T = θ₀ − η g Σₜ (1 − βᵗ)/(1 − β)', ({ layout, params, grads }, lr, beta, T) => {
    const opt = Optim.momentum({ lr, beta })
    const g = build(layout, grads)
    let p = build(layout, params)
    let state = opt.init(p)
    for (let i = 0; i < T; i++) [p, state] = opt.update(g, state, p)
    const geometric = (t: number): number => (1 - beta ** t) / (1 - beta)
    let travelled = 0
    for (let t = 1; t <= T; t++) travelled += geometric(t)
    const ok = (actual: number[][], expected: (i: number, j: number) => number): boolean =>
      actual.every((xs, i) => xs.every((x, j) => close(x, expected(i, j), 1e-10, 1e-10)))
    return (
      state.step === T &&
      ok(valuesOf(state.velocity), (i, j) => grads[i]![j]! * geometric(T)) &&
      ok(valuesOf(p), (i, j) => params[i]![j]! - lr * grads[i]![j]! * travelled)
    )
  })

  it('nesterov looks ahead along the new velocity (two hand-computed steps)', () => {
    const opt = Optim.nesterov({ lr: 0.1, beta: 0.5 })
    let p = tensor([1, 1])
    let state = opt.init(p)
    ;[p, state] = opt.update(tensor([1, -2]), state, p) // v = g, θ = 1 − 0.1 (g + 0.5 g)
    expect(p.toArray()[0]).toBeCloseTo(0.85, 15)
    expect(p.toArray()[1]).toBeCloseTo(1.3, 15)
    ;[p, state] = opt.update(tensor([2, 0]), state, p) // v = 0.5 v + g = [2.5, −1], θ −= 0.1 (g + 0.5 v)
    expect(p.toArray()[0]).toBeCloseTo(0.85 - 0.1 * (2 + 1.25), 15)
    expect(p.toArray()[1]).toBeCloseTo(1.3 - 0.1 * (0 - 0.5), 15)
    expect(valuesOf(state.velocity)).toEqual([[2.5, -1]])
  })

  it('adagrad and rmsprop, two hand-computed steps', () => {
    const ada = Optim.adagrad({ lr: 0.5, eps: 1e-10 })
    let p = tensor([0])
    let s = ada.init(p)
    ;[p, s] = ada.update(tensor([3]), s, p) // G = 9: θ = −0.5 · 3 / 3
    ;[p, s] = ada.update(tensor([4]), s, p) // G = 25: θ −= 0.5 · 4 / 5
    expect(p.item()).toBeCloseTo(-0.5 - 0.4, 9)
    expect(valuesOf(s.sumOfSquares)).toEqual([[25]])

    const rms = Optim.rmsprop({ lr: 0.1, decay: 0.5, eps: 1e-8 })
    let q = tensor([0])
    let r = rms.init(q)
    ;[q, r] = rms.update(tensor([2]), r, q) // E = 2: θ = −0.1 · 2 / √2
    ;[q, r] = rms.update(tensor([2]), r, q) // E = 3: θ −= 0.1 · 2 / √3
    expect(q.item()).toBeCloseTo(-0.2 / Math.SQRT2 - 0.2 / Math.sqrt(3), 7)
    expect(valuesOf(r.meanSquare)).toEqual([[3]])
  })

  it("Adam's bias correction: the second step from hand-computed moments", () => {
    const [lr, b1, b2, eps] = [0.01, 0.9, 0.999, 1e-8]
    const opt = Optim.adam({ lr, beta1: b1, beta2: b2, eps })
    let p = tensor([1])
    let s = opt.init(p)
    ;[p, s] = opt.update(tensor([2]), s, p)
    ;[p, s] = opt.update(tensor([-1]), s, p)
    const m1 = (1 - b1) * 2
    const v1 = (1 - b2) * 4
    const theta1 = 1 - (lr * (m1 / (1 - b1))) / (Math.sqrt(v1 / (1 - b2)) + eps)
    const m2 = b1 * m1 + (1 - b1) * -1
    const v2 = b2 * v1 + (1 - b2) * 1
    const theta2 = theta1 - (lr * (m2 / (1 - b1 ** 2))) / (Math.sqrt(v2 / (1 - b2 ** 2)) + eps)
    expect(close(p.item(), theta2, 1e-14)).toBe(true)
    expect(close(valuesOf(s.m)[0]![0]!, m2, 1e-14)).toBe(true)
    expect(close(valuesOf(s.v)[0]![0]!, v2, 1e-14)).toBe(true)
    expect(s.step).toBe(2)
  })

  it('AdamW decays decoupled from the gradient; Adam + L2 normalises the decay away', () => {
    // θ = [2, 2], g = [0.5, 0], λ = 0.1, η = 0.1: after one step m̂ = g, v̂ = g²
    const [lr, wd, eps] = [0.1, 0.1, 1e-8]
    const theta = tensor([2, 2])
    const g = tensor([0.5, 0])
    const adamw = Optim.adamw({ lr, weightDecay: wd, eps })
    const [w] = adamw.update(g, adamw.init(theta), theta)
    // AdamW: θ − η (g/(|g| + ε) + λθ)
    const expectedW = [2 - lr * (0.5 / (0.5 + eps) + wd * 2), 2 - lr * (0 + wd * 2)]
    expect(close(w.toArray()[0]!, expectedW[0]!, 1e-14)).toBe(true)
    expect(close(w.toArray()[1]!, expectedW[1]!, 1e-14)).toBe(true)
    // Adam on the L2-regularised gradient g + λθ = [0.7, 0.2]: every coordinate moves by ≈ η
    const adam = Optim.adam({ lr, eps })
    const [l2] = adam.update(add(g, mul(theta, wd)), adam.init(theta), theta)
    const expectedL2 = [2 - (lr * 0.7) / (0.7 + eps), 2 - (lr * 0.2) / (0.2 + eps)]
    expect(close(l2.toArray()[0]!, expectedL2[0]!, 1e-14)).toBe(true)
    expect(close(l2.toArray()[1]!, expectedL2[1]!, 1e-14)).toBe(true)
    // 1.88 vs 1.90 where the gradient is large, 1.98 vs 1.90 where it is zero
    expect(expectedW[0]!).toBeLessThan(expectedL2[0]! - 0.01)
    expect(expectedW[1]!).toBeGreaterThan(expectedL2[1]! + 0.07)
  })

  test.prop([problemArb(), fc.double({ min: 1e-4, max: 1, noNaN: true }), fc.integer({ min: 1, max: 4 })])(
    'AdamW with λ = 0, or with every leaf masked out, is Adam, bit for bit',
    ({ layout, params, grads }, lr, steps) => {
      const p0 = build(layout, params)
      const g = build(layout, grads)
      const runWith = <S>(opt: Optim.Optimizer<S>): number[][] => {
        let p = p0
        let s = opt.init(p)
        for (let i = 0; i < steps; i++) [p, s] = opt.update(g, s, p)
        return valuesOf(p)
      }
      const reference = runWith(Optim.adam({ lr }))
      return (
        sameValues(runWith(Optim.adamw({ lr, weightDecay: 0 })), reference) &&
        sameValues(runWith(Optim.adamw({ lr, weightDecay: 0.5, mask: () => false })), reference)
      )
    }
  )

  it('the AdamW mask sees leaf paths and spares the leaves it rejects', () => {
    const seen: string[] = []
    const opt = Optim.adamw({
      lr: 0.1,
      weightDecay: 0.5,
      mask: (path, leaf) => {
        seen.push(path)
        return leaf.rank >= 2
      }
    })
    const params = { layers: [{ w: tensor([[2]]), b: tensor([2]) }], out: tensor([[2]]) }
    const zero = { layers: [{ w: tensor([[0]]), b: tensor([0]) }], out: tensor([[0]]) }
    const [next] = opt.update(zero, opt.init(params), params)
    expect(seen).toEqual(['layers[0].w', 'layers[0].b', 'out'])
    expect(next.layers[0]!.w.item()).toBeCloseTo(1.9, 15)
    expect(next.layers[0]!.b.item()).toBe(2)
    expect(next.out.item()).toBeCloseTo(1.9, 15)
  })

  it('the learning-rate schedule is called with the number of updates already applied', () => {
    const calls: number[] = []
    const opt = Optim.sgd({
      lr: (step) => {
        calls.push(step)
        return 2 ** -step
      }
    })
    let p = tensor([0])
    let s = opt.init(p)
    for (let i = 0; i < 3; i++) [p, s] = opt.update(tensor([-1]), s, p)
    expect(calls).toEqual([0, 1, 2])
    expect(p.item()).toBe(1 + 0.5 + 0.25)
  })

  it('f32 parameters stay f32', () => {
    const p = { w: tensor([1, 2], { dtype: 'f32' }) }
    for (const opt of [Optim.sgd(), Optim.momentum(), Optim.nesterov(), Optim.adagrad(), Optim.rmsprop(), Optim.adam(), Optim.adamw()] as Optim.Optimizer<unknown>[]) {
      const [q, s] = opt.update({ w: tensor([0.5, -0.5], { dtype: 'f32' }) }, opt.init(p), p)
      expect(q.w.dtype).toBe('f32')
      expect(leavesOf(s).every((t) => t.dtype === 'f32')).toBe(true)
    }
  })

  it("SGD and Adam update through the current backend's fused kernels, float32 on WebAssembly and float64 loops alike", () => {
    const calls: string[] = []
    const watching: Backend = {
      ...cpu,
      name: 'watching',
      sgdUpdate: (...args) => (calls.push('sgd'), cpu.sgdUpdate(...args)),
      adamUpdate: (...args) => (calls.push('adam'), cpu.adamUpdate(...args))
    }
    // 300 elements: the float32 update takes the WebAssembly path (256 or more), the float64 one the loop
    for (const dtype of ['f32', 'f64'] as const) {
      const values = Array.from({ length: 300 }, (_, i) => Math.sin(i) * 2)
      const gradient = Array.from({ length: 300 }, (_, i) => Math.cos(3 * i))
      const p = { w: fromBuffer(values, [300], { dtype }), b: fromBuffer([0.5], [1], { dtype }) }
      const g = { w: fromBuffer(gradient, [300], { dtype }), b: fromBuffer([-1], [1], { dtype }) }
      calls.length = 0
      const sgd = Optim.sgd({ lr: 0.1 })
      const [q] = Backends.withBackend(watching, () => sgd.update(g, sgd.init(p), p))
      expect(calls).toEqual(['sgd', 'sgd'])
      Array.from(q.w.data).forEach((v, i) => expect(v).toBe(dtype === 'f32' ? Math.fround(Math.fround(values[i]!) - Math.fround(gradient[i]!) * 0.1) : values[i]! - gradient[i]! * 0.1))
      calls.length = 0
      const adam = Optim.adam({ lr: 0.01 })
      const [r] = Backends.withBackend(watching, () => adam.update(g, adam.init(p), p))
      expect(calls).toEqual(['adam', 'adam'])
      // Adam's first step: m̂ = g, v̂ = g², so every coordinate moves by −lr·g/(|g| + ε)
      const g32 = Array.from(g.w.data)
      Array.from(r.w.data).forEach((v, i) => {
        const want = p.w.data[i]! - (0.01 * g32[i]!) / (Math.abs(g32[i]!) + 1e-8)
        expect(Math.abs(v - want)).toBeLessThanOrEqual((dtype === 'f32' ? 2 ** -22 : 1e-15) * Math.max(1, Math.abs(want)))
      })
    }
  })
})

// ================================================================ clipping

describe('clipping', () => {
  test.prop([problemArb(fc.double({ min: -100, max: 100, noNaN: true })), fc.double({ min: 1e-3, max: 100, noNaN: true })])(
    'clipByGlobalNorm: norm ≤ max, direction kept, the norm returned is the norm before',
    ({ layout, grads }, maxNorm) => {
      const g = build(layout, grads)
      const [clipped, norm] = Optim.clipByGlobalNorm(g, maxNorm)
      const flat = grads.flat()
      const expectedNorm = Math.sqrt(flat.reduce((s, x) => s + x * x, 0))
      const out = valuesOf(clipped).flat()
      const outNorm = Math.sqrt(out.reduce((s, x) => s + x * x, 0))
      const scale = norm > maxNorm ? maxNorm / norm : 1
      return (
        close(norm, expectedNorm, 1e-12) &&
        outNorm <= maxNorm * (1 + 1e-12) &&
        (norm > maxNorm ? close(outNorm, maxNorm, 1e-12) : sameValues(valuesOf(clipped), grads)) &&
        out.every((x, i) => close(x, flat[i]! * scale, 1e-12, 1e-300) && (x === 0 || Math.sign(x) === Math.sign(flat[i]!)))
      )
    }
  )

  test.prop([problemArb(fc.double({ min: -100, max: 100, noNaN: true })), fc.double({ min: 1e-3, max: 100, noNaN: true })])(
    'clipByValue: every element in [−limit, limit], unchanged inside, at the bound outside',
    ({ layout, grads }, limit) => {
      const out = valuesOf(Optim.clipByValue(build(layout, grads), limit))
      return out.every((xs, i) =>
        xs.every((x, j) => {
          const g = grads[i]![j]!
          return Math.abs(x) <= limit && (Math.abs(g) <= limit ? Object.is(x, g) : x === Math.sign(g) * limit)
        })
      )
    }
  )

  it('clipping keeps the tree and rejects bad limits', () => {
    const g = { a: [tensor([3, -4])], b: { c: tensor(0) } }
    const [c, norm] = Optim.clipByGlobalNorm(g, 10)
    expect(norm).toBe(5)
    expect(c.a[0]!.toArray()).toEqual([3, -4])
    expect(c.b.c.item()).toBe(0)
    expect(Optim.clipByGlobalNorm({ z: tensor([0, 0]) }, 1)[1]).toBe(0)
    expect(Optim.globalNorm([tensor([1, 1]), tensor([[1], [1]])])).toBe(2)
    for (const bad of [0, -1, Number.NaN]) {
      expect(() => Optim.clipByValue(g, bad)).toThrow(ArgumentError)
      expect(() => Optim.clipByGlobalNorm(g, bad)).toThrow(ArgumentError)
    }
    expect(() => Optim.clipByValue(g, -1)).toThrow(/limit must be a number > 0, got -1/)
    expect(() => Optim.clipByGlobalNorm({ a: 1 }, 1)).toThrow(DTypeError)
  })

  it('chain applies transformations left to right; chain() is the identity', () => {
    const g = { a: tensor([30, -40]) }
    const normThenValue = Optim.chain((x) => Optim.clipByGlobalNorm(x, 5)[0], (x) => Optim.clipByValue(x, 3.5))
    const valueThenNorm = Optim.chain((x) => Optim.clipByValue(x, 3.5), (x) => Optim.clipByGlobalNorm(x, 4)[0])
    expect(normThenValue(g).a.toArray()).toEqual([3, -3.5]) // [3, −4], then each ≤ 3.5
    const [x, y] = valueThenNorm(g).a.toArray() // [3.5, −3.5], then norm 4: ±2√2
    expect(x).toBeCloseTo(2 * Math.SQRT2, 14)
    expect(y).toBeCloseTo(-2 * Math.SQRT2, 14)
    expect(Optim.chain()(g)).toBe(g)
    expect(() => Optim.chain((x) => x, 2 as never)).toThrow(/argument 1 must be a function/)
  })

  test.prop([problemArb(fc.double({ min: -100, max: 100, noNaN: true })), fc.double({ min: 0.1, max: 10, noNaN: true })])(
    'withClipping(opt, clip) updates as opt does on the clipped gradients',
    ({ layout, params, grads }, limit) => {
      const p = build(layout, params)
      const g = build(layout, grads)
      const inner = Optim.adam({ lr: 0.01 })
      const outer = Optim.withClipping(inner, (x) => Optim.clipByValue(x, limit))
      const [a, sa] = outer.update(g, outer.init(p), p)
      const [b, sb] = inner.update(Optim.clipByValue(g, limit), inner.init(p), p)
      return sameValues(valuesOf(a), valuesOf(b)) && sameValues(valuesOf(sa), valuesOf(sb))
    }
  )
})

// ================================================================ schedules

describe('schedules', () => {
  it('constant', () => {
    const lr = Schedule.constant(0.3)
    expect([0, 1, 10, 1e6].map((s) => lr(s))).toEqual([0.3, 0.3, 0.3, 0.3])
  })

  it('step: initial · factor^⌊s / every⌋', () => {
    const lr = Schedule.step({ initial: 0.8, factor: 0.5, every: 3 })
    for (const s of [0, 1, 2, 3, 5, 6, 7, 30]) expect(lr(s)).toBe(0.8 * 0.5 ** Math.floor(s / 3))
    expect(Schedule.step({ initial: 1, every: 2 })(4)).toBeCloseTo(0.01, 15) // factor defaults to 0.1
  })

  it('exponential: initial · decayˢ', () => {
    const lr = Schedule.exponential({ initial: 2, decay: 0.9 })
    for (const s of [0, 1, 2, 10, 100]) expect(lr(s)).toBe(2 * 0.9 ** s)
  })

  it('cosine: final + (initial − final)(1 + cos(π s/steps))/2, then final', () => {
    const lr = Schedule.cosine({ initial: 1, steps: 10, final: 0.2 })
    for (const s of [0, 1, 3, 5, 9, 10]) expect(lr(s)).toBeCloseTo(0.2 + (0.8 * (1 + Math.cos((Math.PI * s) / 10))) / 2, 15)
    expect(lr(0)).toBe(1)
    expect(lr(5)).toBeCloseTo(0.6, 15)
    expect(lr(10)).toBe(0.2)
    expect(lr(11)).toBe(0.2)
    expect(Schedule.cosine({ initial: 1, steps: 4 })(4)).toBe(0) // final defaults to 0
  })

  it('warmup: a linear ramp from start to schedule(0), then the schedule from its own step 0', () => {
    const inner = Schedule.exponential({ initial: 0.4, decay: 0.5 })
    const lr = Schedule.warmup({ steps: 4, schedule: inner })
    expect([0, 1, 2, 3].map((s) => lr(s))).toEqual([0, 1, 2, 3].map((s) => 0 + ((0.4 - 0) * s) / 4))
    expect([4, 5, 6].map((s) => lr(s))).toEqual([inner(0), inner(1), inner(2)])
    const fromStart = Schedule.warmup({ steps: 2, schedule: Schedule.constant(1), start: 0.5 })
    expect([0, 1, 2, 3].map((s) => fromStart(s))).toEqual([0.5, 0.75, 1, 1])
    expect(Schedule.warmup({ steps: 0, schedule: inner })(1)).toBe(inner(1))
  })

  test.prop([fc.double({ min: 0, max: 10, noNaN: true }), fc.integer({ min: 1, max: 1000 }), fc.double({ min: 0, max: 10, noNaN: true }), fc.nat(2000)])(
    'cosine stays between final and initial and is monotone',
    (initial, steps, final, s) => {
      const lr = Schedule.cosine({ initial, steps, final })
      const [lo, hi] = [Math.min(initial, final), Math.max(initial, final)]
      const [x, y] = [lr(s), lr(s + 1)]
      const tol = 1e-12 * hi
      return x >= lo - tol && x <= hi + tol && (initial >= final ? y <= x + tol : y >= x - tol)
    }
  )

  it('schedules reject bad options and bad steps, naming the value', () => {
    expect(() => Schedule.constant(-1)).toThrow(/value must be a finite number ≥ 0, got -1/)
    expect(() => Schedule.constant(Number.NaN)).toThrow(ArgumentError)
    expect(() => Schedule.step({ initial: 1, every: 0 })).toThrow(/every must be an integer ≥ 1, got 0/)
    expect(() => Schedule.step({ initial: 1, every: 1.5 })).toThrow(ArgumentError)
    expect(() => Schedule.exponential({ initial: 1, decay: 0 })).toThrow(/decay must be a finite number > 0, got 0/)
    expect(() => Schedule.cosine({ initial: 1, steps: 0 })).toThrow(/steps must be an integer ≥ 1, got 0/)
    expect(() => Schedule.cosine({ initial: Number.POSITIVE_INFINITY, steps: 10 })).toThrow(/got Infinity/)
    expect(() => Schedule.warmup({ steps: -1, schedule: Schedule.constant(1) })).toThrow(/steps must be an integer ≥ 0, got -1/)
    expect(() => Schedule.warmup({ steps: 1, schedule: 3 as never })).toThrow(/schedule must be a function/)
    expect(() => Schedule.cosine({ initial: 1, steps: 5, fnal: 0 } as never)).toThrow(/unknown option "fnal"/)
    expect(() => Schedule.constant(1)(-1)).toThrow(/the step must be an integer ≥ 0, got -1/)
    expect(() => Schedule.exponential({ initial: 1, decay: 0.5 })(0.5)).toThrow(ArgumentError)
  })
})

// ================================================================ immutability

describe('immutability', () => {
  test.prop([problemArb(), optimizerArb])('update mutates nothing, returns frozen trees, and is a function of its inputs', ({ layout, params, grads }, { opt }) => {
    const p = build(layout, params)
    const g = build(layout, grads)
    const s0 = opt.init(p)
    const [p1, s1] = opt.update(g, s0, p) // a non-trivial state to start from
    const snapshot = [valuesOf(p1), valuesOf(g), valuesOf(s1), JSON.stringify(s1, (_, v: unknown) => (typeof v === 'object' && v !== null && 'shape' in v ? 'T' : v))]
    const [p2, s2] = opt.update(g, s1, p1)
    const [p3, s3] = opt.update(g, s1, p1)
    // every array and record of the returned trees is frozen (tensors are immutable by construction)
    const frozen = (x: unknown): boolean =>
      x === null || typeof x !== 'object' || (Object.isFrozen(x) && (isTensor(x) || Object.values(x as object).every(frozen)))
    return (
      sameValues(valuesOf(p1), snapshot[0] as number[][]) &&
      sameValues(valuesOf(g), snapshot[1] as number[][]) &&
      sameValues(valuesOf(s1), snapshot[2] as number[][]) &&
      JSON.stringify(s1, (_, v: unknown) => (typeof v === 'object' && v !== null && 'shape' in v ? 'T' : v)) === snapshot[3] &&
      sameValues(valuesOf(p2), valuesOf(p3)) &&
      sameValues(valuesOf(s2), valuesOf(s3)) &&
      sameValues(valuesOf(p), params) &&
      p2 !== p1 &&
      frozen(p2) &&
      frozen(s2) &&
      frozen(s0) &&
      (s2 as { step: number }).step === 2
    )
  })

  it('an update returns new trees of the same structure', () => {
    const opt = Optim.adam()
    const params = { layers: [{ w: tensor([[1, 2]]), b: tensor([0]) }], scale: tensor(1) }
    const [next, state] = opt.update(params, opt.init(params), params)
    expect(Object.keys(next)).toEqual(['layers', 'scale'])
    expect(Object.keys(next.layers[0]!)).toEqual(['w', 'b'])
    expect(next.layers[0]!.w.shape).toEqual([1, 2])
    expect(Object.keys(state.m as object)).toEqual(['layers', 'scale'])
    expect(() => ((next as { scale: unknown }).scale = tensor(2))).toThrow(TypeError)
  })
})

// ================================================================ validation

describe('validation', () => {
  it('bad options are ArgumentErrors naming the value', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => Optim.sgd({ lr: -0.1 }), /Optim\.sgd: lr must be a finite number ≥ 0, got -0\.1/],
      [() => Optim.sgd({ lr: Number.NaN }), /lr must be a finite number ≥ 0, got NaN/],
      [() => Optim.adam({ lr: Number.POSITIVE_INFINITY }), /got Infinity/],
      [() => Optim.momentum({ beta: 1 }), /Optim\.momentum: beta must be in \[0, 1\), got 1/],
      [() => Optim.nesterov({ beta: -0.5 }), /beta must be in \[0, 1\), got -0\.5/],
      [() => Optim.adam({ beta1: Number.NaN }), /beta1 must be in \[0, 1\), got NaN/],
      [() => Optim.adamw({ beta2: 1.5 }), /beta2 must be in \[0, 1\), got 1\.5/],
      [() => Optim.rmsprop({ decay: 1 }), /decay must be in \[0, 1\), got 1/],
      [() => Optim.adagrad({ eps: 0 }), /eps must be a finite number > 0, got 0/],
      [() => Optim.adam({ eps: -1e-8 }), /eps must be a finite number > 0, got -1e-8/],
      [() => Optim.adamw({ weightDecay: -0.01 }), /weightDecay must be a finite number ≥ 0, got -0\.01/],
      [() => Optim.adamw({ mask: true as never }), /mask must be a function/],
      [() => Optim.adam({ learningRate: 0.1 } as never), /unknown option "learningRate"/],
      [() => Optim.sgd({ lr: '0.1' as never }), /got "0\.1"/],
      [() => Optim.sgd(5 as never), /expected an options record, got 5/],
      [() => Optim.withClipping({} as never, (g) => g), /expected an optimizer/],
      [() => Optim.withClipping(Optim.sgd(), 1 as never), /clip must be a function/]
    ]
    for (const [f, message] of cases) {
      expect(f).toThrow(ArgumentError)
      expect(f).toThrow(message)
    }
  })

  it('a schedule giving a negative or NaN rate fails at the update, naming the step and the value', () => {
    const p = tensor([1])
    const neg = Optim.sgd({ lr: (s) => 0.1 - s * 0.1 })
    let [q, s] = neg.update(tensor([1]), neg.init(p), p)
    ;[q, s] = neg.update(tensor([1]), s, q)
    expect(() => neg.update(tensor([1]), s, q)).toThrow(new ArgumentError('Optim.sgd: the learning-rate schedule gave -0.1 at step 2; expected a finite number ≥ 0'))
    const nan = Optim.adam({ lr: () => Number.NaN })
    expect(() => nan.update(tensor([1]), nan.init(p), p)).toThrow(/gave NaN at step 0/)
  })

  it('grads whose structure, shapes or dtypes differ from params fail, naming the path', () => {
    const params = { layers: [{ w: tensor([[1, 2]]), b: tensor([0, 0]) }], out: tensor(1) }
    const like = (layers: unknown, out: unknown = tensor(1)) => ({ layers, out }) as never
    for (const opt of [Optim.sgd(), Optim.momentum(), Optim.adam(), Optim.withClipping(Optim.adamw(), (g) => Optim.clipByValue(g, 1))] as Optim.Optimizer<unknown>[]) {
      const s = opt.init(params)
      const cases: [unknown, RegExp][] = [
        [like([{ w: tensor([[1, 2]]), b: tensor([0, 0, 0]) }]), /grads differ from params at layers\[0\]\.b: shape \[3\], params has \[2\]/],
        [like([{ w: tensor([[1], [2]]), b: tensor([0, 0]) }]), /at layers\[0\]\.w: shape \[2,1\], params has \[1,2\]/],
        [like([]), /at layers: expected an array of length 1, got an array of length 0/],
        [like([{ w: tensor([[1, 2]]) }]), /at layers\[0\]\.b: missing/],
        [like([{ w: tensor([[1, 2]]), b: tensor([0, 0]), c: tensor(0) }]), /at layers\[0\]\.c: params has no such entry/],
        [like([{ w: tensor([[1, 2]]), b: tensor([0, 0]) }], 3), /at out: expected a tensor of shape \[\], got number/],
        [tensor(1), /at the root: expected a record, got a f64 tensor of shape \[\]/]
      ]
      for (const [grads, message] of cases) {
        expect(() => opt.update(grads as never, s, params)).toThrow(ShapeError)
        expect(() => opt.update(grads as never, s, params)).toThrow(message)
      }
      const f32 = like([{ w: tensor([[1, 2]], { dtype: 'f32' }), b: tensor([0, 0]) }])
      expect(() => opt.update(f32, s, params)).toThrow(DTypeError)
      expect(() => opt.update(f32, s, params)).toThrow(/at layers\[0\]\.w: dtype f32, params has f64/)
    }
  })

  it('a state built for other params, or not by init, is rejected', () => {
    const opt = Optim.adam()
    const small = { w: tensor([1]) }
    const big = { w: tensor([1, 2]) }
    expect(() => opt.update(big, opt.init(small), big)).toThrow(ShapeError)
    expect(() => opt.update(big, opt.init(small), big)).toThrow(/state\.m differ from params at w: shape \[1\], params has \[2\]/)
    expect(() => opt.update(big, { step: 0 } as never, big)).toThrow(/the state lacks "m"/)
    expect(() => opt.update(big, { ...opt.init(big), step: -1 }, big)).toThrow(/step must be an integer ≥ 0, got -1/)
  })

  it('params that are not trees of tensors are DTypeErrors naming the path', () => {
    expect(() => Optim.sgd().init({ w: [tensor(1), 2] })).toThrow(DTypeError)
    expect(() => Optim.sgd().init({ w: [tensor(1), 2] })).toThrow(/in params at w\[1\], got number/)
  })
})
