/**
 * Activation functions of the seeds, as differentiable functions on tensors. Each is built
 * from primitives, so its derivative (to any order) comes from the rule table.
 *
 * @module
 */
import { ShapeError } from '../error.js'
import * as O from '../ops.js'
import type { Shape } from '../shape.js'
import type { DType, Tensor } from '../tensor.js'

type Same<S extends Shape, D extends DType> = Tensor<S, D>

/**
 * Generalized rectification max(0, z) + α·min(0, z) (seed 003): α = 0 is ReLU, a small α
 * leaky ReLU, α = −1 absolute-value rectification |z|; a learned α is PReLU. `alpha` may be
 * a number or a tensor (broadcast against z).
 *
 * @example
 * ```ts
 * import { tensor, Activation } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(Activation.rectify(tensor([-2, 3]), -1).toArray(), [2, 3])
 * ```
 */
export const rectify = <S extends Shape, D extends DType>(z: Tensor<S, D>, alpha: number | Tensor): Same<S, D> =>
  O.add(O.relu(z) as Tensor, O.mul(alpha as Tensor, O.neg(O.relu(O.neg(z))) as Tensor) as Tensor) as Same<S, D>

/**
 * Leaky ReLU: z for z > 0, α·z otherwise (default α = 0.01).
 *
 * @example
 * ```ts
 * import { tensor, Activation } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(Activation.leakyRelu(tensor([-2, 3]), 0.1).toArray(), [-0.2, 3])
 * ```
 */
export const leakyRelu = <S extends Shape, D extends DType>(z: Tensor<S, D>, alpha = 0.01): Same<S, D> => rectify(z, alpha)

/**
 * Exponential linear unit: z for z > 0, α(eᶻ − 1) otherwise. The exponential is taken of
 * min(z, 0), so a large positive z never produces an infinite (and NaN-gradient) branch.
 *
 * @example
 * ```ts
 * import { tensor, Activation } from 'lamina-nn'
 * import assert from 'node:assert'
 * const y = Activation.elu(tensor([-1, 2])).toArray()
 * assert.ok(Math.abs(y[0]! - (Math.exp(-1) - 1)) < 1e-15 && y[1] === 2)
 * ```
 */
export const elu = <S extends Shape, D extends DType>(z: Tensor<S, D>, alpha = 1): Same<S, D> => {
  const negative = O.mul(O.sub(O.exp(O.minimum(z as Tensor, 0) as Tensor) as Tensor, 1) as Tensor, alpha)
  return O.where(O.greater(z as Tensor, 0), z as Tensor, negative) as Same<S, D>
}

/**
 * GELU, exact form z·Φ(z) = ½z(1 + erf(z/√2)).
 *
 * @example
 * ```ts
 * import { tensor, Activation } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.ok(Math.abs(Activation.gelu(tensor([1])).toArray()[0]! - 0.8413447460685429) < 1e-15)
 * ```
 */
export const gelu = <S extends Shape, D extends DType>(z: Tensor<S, D>): Same<S, D> =>
  O.mul(O.mul(z as Tensor, 0.5) as Tensor, O.add(O.erf(O.mul(z as Tensor, Math.SQRT1_2) as Tensor) as Tensor, 1) as Tensor) as Same<S, D>

/**
 * GELU, tanh approximation ½z(1 + tanh(√(2/π)(z + 0.044715z³))).
 *
 * @example
 * ```ts
 * import { tensor, Activation } from 'lamina-nn'
 * import assert from 'node:assert'
 * const [exact, approx] = [Activation.gelu(tensor([1.3])).item(), Activation.geluTanh(tensor([1.3])).item()]
 * assert.ok(Math.abs(exact - approx) < 1e-3)
 * ```
 */
export const geluTanh = <S extends Shape, D extends DType>(z: Tensor<S, D>): Same<S, D> => {
  const t = z as Tensor
  const inner = O.mul(O.add(t, O.mul(O.mul(O.mul(t, t) as Tensor, t) as Tensor, 0.044715) as Tensor) as Tensor, Math.sqrt(2 / Math.PI))
  return O.mul(O.mul(t, 0.5) as Tensor, O.add(O.tanh(inner as Tensor) as Tensor, 1) as Tensor) as Same<S, D>
}

/**
 * Maxout over groups of `k` consecutive units of the last axis: [B, n·k] → [B, n].
 *
 * @example
 * ```ts
 * import { tensor, Activation } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(Activation.maxout(tensor([[1, 5, 3, 2]]), 2).toArray(), [[5, 3]])
 * ```
 */
export const maxout = (z: Tensor, k: number): Tensor => {
  const last = z.shape[z.rank - 1] ?? 1
  if (!Number.isInteger(k) || k < 1 || last % k !== 0) {
    throw new ShapeError(`maxout: ${last} units cannot be split into groups of ${k}`)
  }
  const grouped = O.reshape(z, [...z.shape.slice(0, -1), last / k, k])
  return O.max(grouped as Tensor, -1)
}
