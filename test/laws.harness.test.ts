// The harness itself: it must catch wrong rules, explain them, and measure accurately.
import { afterEach, describe, expect, it } from 'vitest'
import { fc, test as fcTest } from '@fast-check/vitest'
import * as W from 'fp-ts/lib/Writer.js'
import { Prim, Tape, Tensor, mul, relu, sin, sub, tanh, tensor, exp } from 'lamina-nn'
import {
  LawFailure,
  checkForwardReverseAgree,
  checkGradient,
  checkJvp,
  checkSecondOrder,
  checkVjp,
  monadLaws,
  monoidAssociativity,
  monoidIdentity,
  ridders,
  tensors,
  tensorOf,
  gradientMatchesFiniteDifferences,
  innerProductIdentity
} from 'lamina-nn/laws'

const table = Prim.rules as unknown as Record<string, Prim.Rule<Prim.Prim>>
const original = table['tanh']!

/** Replaces tanh's rule for one test: the harness must notice. */
const breakTanh = (part: 'jvp' | 'vjp' | 'both') => {
  // the classic slip: d tanh = (1 − tanh) dx instead of (1 − tanh²) dx
  const wrong = (ctx: Prim.RuleContext<Prim.Prim>) => [(t: Tensor) => mul(t, sub(1, ctx.out))]
  table['tanh'] = {
    ...original,
    jvp: part === 'vjp' ? original.jvp : wrong,
    vjp: part === 'jvp' ? original.vjp : wrong
  }
}

afterEach(() => {
  table['tanh'] = original
})

const inputs = tensors({ minRank: 1, maxRank: 2, min: 0.5, max: 2 })

describe('the harness catches wrong rules', () => {
  it('a wrong VJP fails checkGradient, naming the Jacobian entry and both values', () => {
    breakTanh('vjp')
    let failure: unknown
    try {
      checkGradient(tanh, inputs, { numRuns: 100 })
    } catch (e) {
      failure = e
    }
    expect(failure).toBeInstanceOf(LawFailure)
    const message = (failure as LawFailure).message
    expect(message).toMatch(/gradient law failed/)
    expect(message).toMatch(/; input tensor\(\[/)
    expect(message).toMatch(/worst Jacobian entry J\[\d+\]\[\d+\].*reverse mode .*finite differences .*difference/)
  })

  it('shrinks to a small counterexample (one element)', () => {
    breakTanh('vjp')
    try {
      checkGradient(tanh, inputs, { numRuns: 100 })
      expect.unreachable('the broken rule passed')
    } catch (e) {
      const input = (e as LawFailure).counterexample as Tensor
      expect(input.size).toBe(1)
    }
  })

  it('a wrong JVP fails checkJvp and the inner-product identity; a wrong VJP fails it too', () => {
    breakTanh('jvp')
    expect(() => checkJvp(tanh, inputs, { numRuns: 50 })).toThrow(LawFailure)
    expect(() => checkVjp(tanh, inputs, { numRuns: 50 })).toThrow(LawFailure)
    expect(() => checkForwardReverseAgree(tanh, inputs, { numRuns: 50 })).toThrow(LawFailure)
    table['tanh'] = original
    breakTanh('vjp')
    expect(() => checkVjp(tanh, inputs, { numRuns: 50 })).toThrow(LawFailure)
  })

  it('a wrong rule consistent in both modes still fails against finite differences, to second order too', () => {
    breakTanh('both')
    expect(() => checkGradient(tanh, inputs, { numRuns: 50 })).toThrow(LawFailure)
    expect(() => checkJvp(tanh, inputs, { numRuns: 50 })).toThrow(LawFailure)
    expect(() => checkSecondOrder(tanh, inputs, { numRuns: 50 })).toThrow(LawFailure)
  })

  it('a user function that hides a dependency from the tape is caught', () => {
    const leaky = (x: Tensor) => mul(x, tensor(x.data[0] ?? 0))
    expect(() => checkGradient(leaky, tensors({ minRank: 1, maxRank: 1, awayFrom: [0], margin: 0.5 }), { numRuns: 50 })).toThrow(LawFailure)
  })

  it('a failure on a kink says so, under the documented subgradient', () => {
    // relu at exactly 0: lamina's derivative is 0 by convention, the symmetric difference is ½
    expect(() => checkGradient((x: Tensor) => relu(x), tensorOf([1], { min: 0, max: 0 }), { numRuns: 5 })).toThrow(
      /one-sided differences disagree .* documented subgradient/s
    )
  })

  it('correct rules pass the predicates directly', () => {
    expect(gradientMatchesFiniteDifferences((x: Tensor) => mul(sin(x), exp(x)), tensor([0.1, 0.7]), 3)).toBe(true)
    expect(innerProductIdentity((x: Tensor) => mul(sin(x), exp(x)), tensor([0.1, 0.7]), 3)).toBe(true)
  })
})

describe('finite differences', () => {
  fcTest.prop([fc.double({ min: -3, max: 3, noNaN: true })])('Ridders reaches 1e-10 on smooth functions', (x) => {
    const { value } = ridders((t) => [Math.sin(x + t) * Math.exp(x + t)])
    const exact = Math.exp(x) * (Math.sin(x) + Math.cos(x))
    return Math.abs(value[0]! - exact) <= 1e-10 * Math.max(1, Math.abs(exact))
  })

  it('extrapolation beats the best plain central difference by orders of magnitude', () => {
    const x = 0.7
    const exact = Math.cos(x)
    const plain = Math.min(...[1e-2, 1e-3, 1e-4, 1e-5, 1e-6].map((h) => Math.abs((Math.sin(x + h) - Math.sin(x - h)) / (2 * h) - exact)))
    const extrapolated = Math.abs(ridders((t) => [Math.sin(x + t)]).value[0]! - exact)
    expect(extrapolated * 100).toBeLessThan(plain)
  })
})

describe('algebraic laws of the tape and its Writer', () => {
  const node = (id: number): Tape.Tape => Tape.of({ id, prim: 'neg', inputs: [0], context: { args: [tensor(1)], out: tensor(-1), params: {} } })
  const tapes = fc.array(fc.integer({ min: 1, max: 30 }), { maxLength: 5 }).map((ids) => ids.map(node).reduce(Tape.Monoid.concat, Tape.empty))
  const ids = (t: Tape.Tape) => Tape.nodes(t).map((n) => n.id).join(',')
  const eqTape = { equals: (a: Tape.Tape, b: Tape.Tape) => ids(a) === ids(b) }
  const eqWriter = { equals: (a: W.Writer<Tape.Tape, number>, b: W.Writer<Tape.Tape, number>) => a()[0] === b()[0] && eqTape.equals(a()[1], b()[1]) }
  const writers = fc.tuple(fc.integer(), tapes).map(([v, t]): W.Writer<Tape.Tape, number> => () => [v, t])
  const kleisli = fc.tuple(fc.integer({ min: -5, max: 5 }), tapes).map(([k, t]) => (n: number): W.Writer<Tape.Tape, number> => () => [n * 3 + k, t])

  fcTest.prop([tapes, tapes, tapes])('Tape: associativity', (a, b, c) => monoidAssociativity(Tape.Monoid, eqTape)(a, b, c))
  fcTest.prop([tapes])('Tape: identity', (a) => monoidIdentity(Tape.Monoid, eqTape)(a))
  fcTest.prop([writers, fc.integer(), kleisli, kleisli])('Writer<Tape, ·>: the three monad laws', (m, a, f, g) =>
    monadLaws<W.Writer<Tape.Tape, number>, number>(Tape.WriterMonad, eqWriter)(m, a, f, g)
  )
})
