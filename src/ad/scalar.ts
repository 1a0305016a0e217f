/**
 * The `Floating` instance of scalar tensors. With it, one expression written against
 * `Floating<A>` runs over plain numbers, over dual numbers (forward mode), and over tensors
 * — which inside `grad` are recorded on the tape (reverse mode).
 *
 * @module
 */
import type { Floating } from '../floating.js'
import * as O from '../ops.js'
import { Tensor, full } from '../tensor.js'
import type { DType } from '../tensor.js'

/** A scalar tensor. */
export type Scalar<D extends DType = 'f64'> = Tensor<[], D>

/**
 * `Floating` over scalar tensors of a dtype (default `f64`).
 *
 * @example
 * ```ts
 * import { tensor, grad, Floating, floatingTensor } from 'lamina-nn'
 * import type { Scalar } from 'lamina-nn'
 * import assert from 'node:assert'
 * // written once, against any Floating instance
 * const f = <A>(F: Floating.Floating<A>) => (x: A): A => F.mul(x, F.sin(x))
 * assert.strictEqual(f(Floating.FloatingNumber)(2), 2 * Math.sin(2))
 * const T = floatingTensor()
 * assert.ok(Math.abs(grad(f(T))(tensor(2)).item() - (Math.sin(2) + 2 * Math.cos(2))) < 1e-15)
 * ```
 */
export const floatingTensor = <D extends DType = 'f64'>(dtype: D = 'f64' as D): Floating<Scalar<D>> => {
  const c = (n: number): Scalar<D> => full([], n, { dtype })
  const s = (t: Tensor): Scalar<D> => t as Scalar<D>
  return {
    fromNumber: c,
    zero: c(0),
    one: c(1),
    add: (x, y) => s(O.add(x, y)),
    sub: (x, y) => s(O.sub(x, y)),
    mul: (x, y) => s(O.mul(x, y)),
    div: (x, y) => s(O.div(x, y)),
    degree: () => 1,
    mod: () => c(0),
    neg: (x) => s(O.neg(x)),
    exp: (x) => s(O.exp(x)),
    log: (x) => s(O.log(x)),
    sin: (x) => s(O.sin(x)),
    cos: (x) => s(O.cos(x)),
    tanh: (x) => s(O.tanh(x)),
    sqrt: (x) => s(O.sqrt(x)),
    pow: (x, e) => s(O.pow(x, e)),
    sigmoid: (x) => s(O.sigmoid(x)),
    softplus: (x) => s(O.softplus(x)),
    relu: (x) => s(O.relu(x)),
    abs: (x) => s(O.abs(x)),
    sign: (x) => s(O.where(O.greater(x, 0), 1, O.where(O.less(x, 0), -1, 0))),
    erf: (x) => s(O.erf(x))
  }
}
