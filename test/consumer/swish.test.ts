// A user's own op checked with lamina-nn/laws from the user's own vitest suite
// (test/consumer.test.ts runs this file inside a project that installed the packed tarball).
import { describe, expect, it } from 'vitest'
import { mul, sigmoid } from 'lamina-nn'
import type { Tensor } from 'lamina-nn'
import { checkGradient, checkVjp, tensors, LawFailure } from 'lamina-nn/laws'

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
})
