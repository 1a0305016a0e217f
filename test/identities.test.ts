// The identities of the seeds (seed 003's sigmoid/softplus facts, softmax's invariances),
// as fast-check properties over lamina's own operations, in float64.
import { describe, expect } from 'vitest'
import { fc, test as fcTest } from '@fast-check/vitest'
import { Tensor, add, grad, log, mul, neg, sigmoid, softmax, softplus, sub, tanh, tensor, sum } from 'lamina-nn'
import { tensors, values } from 'lamina-nn/laws'

const close = (a: Tensor, b: Tensor, tol: number) => {
  const x = a.data
  const y = b.data
  return x.length === y.length && [...x].every((v, i) => Math.abs(v - y[i]!) <= tol * Math.max(1, Math.abs(v)))
}

const xs = tensors({ min: -30, max: 30 })

describe('seed identities', () => {
  fcTest.prop([values({ min: -30, max: 30 })])("σ'(x) = σ(x)(1 − σ(x))", (x) => {
    const d = grad((v: Tensor<[], 'f64'>) => sigmoid(v))(tensor(x)).item()
    const s = sigmoid(tensor(x)).item()
    return Math.abs(d - s * (1 - s)) <= 1e-16
  })
  fcTest.prop([xs])('1 − σ(x) = σ(−x)', (x) => close(sub(1, sigmoid(x)), sigmoid(neg(x)), 1e-15))
  fcTest.prop([tensors({ min: -15, max: 15 })])('tanh(x) = 2σ(2x) − 1', (x) => close(tanh(x), sub(mul(sigmoid(mul(x, 2)), 2), 1), 1e-15))
  fcTest.prop([xs])('log σ(x) = −ζ(−x)', (x) => close(log(sigmoid(x)), neg(softplus(neg(x))), 1e-14))
  fcTest.prop([tensors({ min: -700, max: 700 })])('ζ(x) − ζ(−x) = x (also far out, where the naive form overflows)', (x) =>
    close(sub(softplus(x), softplus(neg(x))), x, 1e-15)
  )
  fcTest.prop([values({ min: -30, max: 30 })])('dζ/dx = σ(x)', (x) => {
    const d = grad((v: Tensor<[], 'f64'>) => softplus(v))(tensor(x)).item()
    return Math.abs(d - sigmoid(tensor(x)).item()) <= 1e-16
  })
  fcTest.prop([tensors({ minRank: 1, maxRank: 2, min: -50, max: 50 }), fc.double({ min: -1e3, max: 1e3, noNaN: true })])(
    'softmax(x + c) = softmax(x)',
    (x, c) => close(softmax(add(x, c)), softmax(x), 1e-12)
  )
  fcTest.prop([tensors({ minRank: 1, maxRank: 1, min: -50, max: 50 })])('softmax preserves order and sums to 1', (x) => {
    const p = softmax(x).data
    const v = x.data
    const ordered = [...v].every((a, i) => [...v].every((b, j) => !(a < b) || p[i]! <= p[j]!))
    return ordered && Math.abs(sum(softmax(x)).item() - 1) <= 1e-14
  })
})

describe('stability at the extremes', () => {
  fcTest.prop([tensors({ min: -1e4, max: 1e4 })])('sigmoid, softplus and softmax stay finite for |x| up to 1e4', (x) => {
    const finite = (t: Tensor) => [...t.data].every(Number.isFinite)
    return finite(sigmoid(x)) && finite(softplus(x)) && (x.rank === 0 || finite(softmax(x)))
  })
  fcTest.prop([fc.double({ min: -1e4, max: 1e4, noNaN: true })])('their gradients stay finite too', (x) => {
    const g1 = grad((v: Tensor<[], 'f64'>) => sigmoid(v))(tensor(x)).item()
    const g2 = grad((v: Tensor<[], 'f64'>) => softplus(v))(tensor(x)).item()
    expect(Number.isFinite(g1) && Number.isFinite(g2)).toBe(true)
  })
})
