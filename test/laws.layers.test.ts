/**
 * Layer laws: the built-in catalogue (what `lamina gradcheck` runs) and `checkLayer` on a
 * user's own layer, right and wrong.
 */
import { describe, expect, it } from 'vitest'
import { ArgumentError, Layer, Layers, Random, customVjp, mul, sigmoid, sub, add, tensor } from 'lamina-nn'
import type { Tensor } from 'lamina-nn'
import { LawFailure, checkGradient, checkLayer, layerCases } from 'lamina-nn/laws'
import { thrown } from './support/thrown.js'

/** A user's layer: x ↦ swish(x·w) with its own reverse rule for swish. */
const swishLayer = (features: number, slope: (x: Tensor) => Tensor): Layer.AnyLayer => {
  const swish = customVjp((x: Tensor) => mul(x, sigmoid(x)), { fwd: (x) => [mul(x, sigmoid(x)), x] as const, bwd: (x, ct) => [mul(ct, slope(x))] })
  return {
    kind: 'swishScale',
    inShape: [features],
    outputShape: (s) => s,
    init: (key) => ({ w: Random.normal(key, [features]) }),
    initState: () => ({}),
    forward: (p: { readonly w: Tensor }, x, { state }) => ({ y: swish(mul(x, p.w)), state })
  }
}
const rightSlope = (x: Tensor) => mul(sigmoid(x), add(tensor(1), mul(x, sub(tensor(1), sigmoid(x)))))

describe('checkLayer: a layer of your own', () => {
  it('passes the gradient, jvp and inner-product laws with a right rule, over parameters and input together', () => {
    const reports = checkLayer(swishLayer(3, rightSlope), { numRuns: 30 })
    expect(reports.map((r) => r.law)).toEqual(['layer gradient', 'layer jvp', 'layer inner product'])
    for (const r of reports) {
      expect(r.cases).toBe(30)
      expect(r.maxError).toBeLessThanOrEqual(r.tolerance)
    }
  })

  it('fails with a shrunk counterexample when the rule forgets a term', () => {
    const e = thrown(() => checkLayer(swishLayer(3, (x) => sigmoid(x)), { numRuns: 30 }))
    expect(e).toBeInstanceOf(LawFailure)
    expect((e as LawFailure).law).toBe('layer gradient')
    // the counterexample names both the parameters and the batch
    expect(Object.keys((e as LawFailure).counterexample as object).sort()).toEqual(['params', 'x'])
  })

  it('a layer whose input shape is not known asks for it', () => {
    expect(() => checkLayer(Layers.tanh())).toThrow(ArgumentError)
    expect(() => checkLayer(Layers.tanh())).toThrow(/pass options.input, one example's shape/)
    const reports = checkLayer(Layers.tanh(), { input: [4], numRuns: 10 })
    for (const r of reports) expect(r.maxError).toBeLessThanOrEqual(r.tolerance)
  })
})

describe('the built-in layer catalogue', () => {
  it('has a case for every layer kind the gradcheck command lists, each passing', () => {
    const cases = layerCases()
    const names = cases.map((c) => c.name)
    for (const kind of ['dense', 'conv2d', 'maxPool2d', 'batchNorm', 'batchNorm2d', 'residual', 'gelu', 'softmax']) expect(names).toContain(kind)
    for (const c of cases) {
      const r = checkGradient(c.f as (x: unknown) => Tensor, c.inputs, { numRuns: 3, ...(c.seed === undefined ? {} : { seed: c.seed }) })
      expect(r.maxError, c.name).toBeLessThanOrEqual(r.tolerance)
    }
  })
})
