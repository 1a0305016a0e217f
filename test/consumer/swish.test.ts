// A user's own op checked with lamina-nn/laws from the user's own vitest suite
// (test/consumer.test.ts runs this file inside a project that installed the packed tarball).
import { describe, expect, it } from 'vitest'
import { add, customVjp, definePrimitive, fromBuffer, mul, sigmoid, sub, tensor } from 'lamina-nn'
import type { Tensor } from 'lamina-nn'
import { checkCustomVjp, checkGradient, checkPrimitive, checkVjp, sameShape, tensors, LawFailure } from 'lamina-nn/laws'

const swish = (x: Tensor) => mul(x, sigmoid(x))
// wrong on purpose: reads a value off the tape, so its derivative misses a term
const leaky = (x: Tensor) => mul(x, x.data[0] ?? 0)

describe('a user op under lamina-nn/laws', () => {
  it('swish: reverse mode matches finite differences', () => {
    expect(checkGradient(swish, tensors({ min: -3, max: 3 }), { numRuns: 50 }).maxError).toBeLessThanOrEqual(1e-7)
  })
  it('swish: the inner-product identity holds', () => {
    expect(checkVjp(swish, tensors(), { numRuns: 50 }).maxError).toBeLessThanOrEqual(1e-12)
  })
  it('a wrong derivative fails with a LawFailure', () => {
    expect(() => checkGradient(leaky, tensors({ minRank: 1, awayFrom: [0], margin: 0.5 }), { numRuns: 100 })).toThrow(LawFailure)
  })
  // the user's own rules: swish′(x) = σ(x)·(1 + x·(1 − σ(x)))
  const slope = (x: Tensor) => mul(sigmoid(x), add(tensor(1), mul(x, sub(tensor(1), sigmoid(x)))))
  it('a customVjp rule is checked against finite differences and the function without it', () => {
    const right = customVjp(swish, { fwd: (x) => [swish(x), x] as const, bwd: (x, ct) => [mul(ct, slope(x))] })
    for (const r of checkCustomVjp(right, sameShape(1))) expect(r.maxError).toBeLessThanOrEqual(r.tolerance)
    const wrong = customVjp(swish, { fwd: (x) => [swish(x), x] as const, bwd: (x, ct) => [mul(ct, sigmoid(x))] })
    expect(() => checkCustomVjp(wrong, sameShape(1))).toThrow(LawFailure)
  })
  it("a primitive defined in the user's code passes every law of checkPrimitive", () => {
    const hostSwish = definePrimitive({
      name: 'hostSwish',
      arity: 1,
      forward: ([x]) => fromBuffer(Array.from(x!.data, (v) => v / (1 + Math.exp(-v))), x!.shape),
      vjp: ({ args: [x] }) => [(ct) => mul(ct, slope(x!))]
    })
    const reports = checkPrimitive(hostSwish, { gradient: 50, jvp: 50, innerProduct: 50, forwardReverse: 5, secondOrder: 5 })
    expect(reports).toHaveLength(6)
    for (const r of reports) expect(r.maxError).toBeLessThanOrEqual(r.tolerance)
  })
})
