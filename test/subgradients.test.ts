// At a kink the derivative is a convention, not a limit: finite differences cannot check it,
// so these properties pin each documented subgradient, in both modes, on inputs that sit
// exactly on the kink.
import { describe } from 'vitest'
import { fc, test as fcTest } from '@fast-check/vitest'
import { Tensor, abs, fromBuffer, grad, jvp, max, maximum, minimum, relu, sum, mul, ones } from 'lamina-nn'

/** Vectors whose elements are often exactly 0. */
const kinked = fc
  .array(fc.oneof(fc.constant(0), fc.double({ min: -3, max: 3, noNaN: true })), { minLength: 1, maxLength: 8 })
  .map((xs) => fromBuffer(xs, [xs.length]))

const elementwiseGrad = (f: (x: Tensor) => Tensor, x: Tensor) => grad((v: Tensor) => sum(f(v)))(x).data
const elementwiseJvp = (f: (x: Tensor) => Tensor, x: Tensor) => jvp(f, [x] as const, [ones(x.shape)] as const)[1].data

describe('documented subgradients', () => {
  fcTest.prop([kinked])("relu'(x) = [x > 0], so relu'(0) = 0, in both modes", (x) => {
    const expected = [...x.data].map((v) => (v > 0 ? 1 : 0))
    const r = elementwiseGrad(relu, x)
    const f = elementwiseJvp(relu, x)
    return expected.every((e, i) => r[i] === e && f[i] === e)
  })

  fcTest.prop([kinked])("|x|' = sign(x), so |x|'(0) = 0, in both modes", (x) => {
    const expected = [...x.data].map((v) => (v > 0 ? 1 : v < 0 ? -1 : 0))
    const r = elementwiseGrad(abs, x)
    const f = elementwiseJvp(abs, x)
    return expected.every((e, i) => r[i] === e && f[i] === e)
  })

  fcTest.prop([kinked, kinked])('maximum/minimum: a tie splits the gradient ½ and ½', (a, b0) => {
    const n = Math.min(a.size, b0.size)
    const x = fromBuffer([...a.data].slice(0, n), [n])
    const y = fromBuffer([...b0.data].slice(0, n), [n])
    const dMax = grad(([p, q]: readonly [Tensor, Tensor]) => sum(maximum(p, q)))([x, y] as const)
    const dMin = grad(([p, q]: readonly [Tensor, Tensor]) => sum(minimum(p, q)))([x, y] as const)
    return [...x.data].every((xi, i) => {
      const yi = y.data[i]!
      const wMax = xi > yi ? 1 : xi < yi ? 0 : 0.5
      const wMin = xi < yi ? 1 : xi > yi ? 0 : 0.5
      return dMax[0].data[i] === wMax && dMax[1].data[i] === 1 - wMax && dMin[0].data[i] === wMin && dMin[1].data[i] === 1 - wMin
    })
  })

  fcTest.prop([fc.array(fc.integer({ min: -2, max: 2 }), { minLength: 1, maxLength: 8 })])(
    'max over an axis: tied maxima share the gradient equally',
    (ints) => {
      const x = fromBuffer(ints, [ints.length])
      const top = Math.max(...ints)
      const count = ints.filter((v) => v === top).length
      const g = grad((v: Tensor) => mul(max(v), 3))(x).data
      // 3·(1/count) and 3/count may differ in the last bit
      return ints.every((v, i) => Math.abs(g[i]! - (v === top ? 3 / count : 0)) <= 4 * Number.EPSILON)
    }
  )
})
