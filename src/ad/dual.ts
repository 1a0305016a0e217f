/**
 * Forward-mode differentiation with scalar dual numbers `x + x′ε`, `ε² = 0`: carry each value
 * with its tangent, and every operation applies its chain rule on the way forward.
 *
 * A dual number is a symbolic `Zero`, a `Const` (tangent known to be zero), or a `Perturbed`
 * primal/tangent pair. Rules skip the tangent work for the first two, so constants cost what
 * they cost over plain numbers. `getFloating` lifts any `Floating<A>` to `Floating<Dual<A>>`;
 * applied twice it gives second derivatives, and since `Dual<Dual<A>>` names the nesting in
 * its type, an inner and an outer perturbation cannot be confused.
 *
 * @example
 * ```ts
 * import { Dual, Floating } from 'lamina-nn'
 * import assert from 'node:assert'
 *
 * // seed 004: y = ln(x1) + x1·x2 − sin(x2), written once for any Floating instance
 * const f = <A>(F: Floating.Floating<A>) => (x1: A, x2: A): A =>
 *   F.sub(F.add(F.log(x1), F.mul(x1, x2)), F.sin(x2))
 *
 * const y = f(Floating.FloatingNumber)(2, 5)
 * const [dx1, dx2] = Dual.gradient(f(Dual.FloatingDual))([2, 5])
 * assert.ok(Math.abs(y - 11.652) < 1e-3)
 * assert.strictEqual(dx1, 5 + 1 / 2)
 * assert.ok(Math.abs((dx2 ?? NaN) - (2 - Math.cos(5))) < 1e-15)
 * ```
 *
 * @module
 */
import { ArgumentError } from '../error.js'
import { type Floating, FloatingNumber } from '../floating.js'

/**
 * The symbolic zero: primal 0 and tangent 0, with no payload, so it belongs to every
 * `Dual<A>`. It is the `zero` of every dual `Floating` instance.
 *
 * @example
 * ```ts
 * import { Dual, Floating } from 'lamina-nn'
 * import assert from 'node:assert'
 *
 * const z: Dual.Zero = Dual.zero
 * assert.strictEqual(Dual.primal(Floating.FloatingNumber)(z), 0)
 * assert.strictEqual(Dual.FloatingDual.zero, z)
 * ```
 */
export interface Zero {
  readonly _tag: 'Zero'
}

/**
 * A constant: a primal whose tangent is known, by construction, to be zero.
 *
 * @example
 * ```ts
 * import { Dual } from 'lamina-nn'
 * import assert from 'node:assert'
 *
 * const c: Dual.Const<number> = { _tag: 'Const', primal: 3 }
 * assert.deepStrictEqual(Dual.constant(3), c)
 * ```
 */
export interface Const<A> {
  readonly _tag: 'Const'
  readonly primal: A
}

/**
 * A value `primal` moving with velocity `tangent`: the dual number `primal + tangent·ε`.
 *
 * @example
 * ```ts
 * import { Dual } from 'lamina-nn'
 * import assert from 'node:assert'
 *
 * const x: Dual.Perturbed<number> = { _tag: 'Perturbed', primal: 3, tangent: 1 }
 * assert.deepStrictEqual(Dual.variable(3), x)
 * ```
 */
export interface Perturbed<A> {
  readonly _tag: 'Perturbed'
  readonly primal: A
  readonly tangent: A
}

/**
 * A dual number over `A`: `Zero`, `Const<A>` or `Perturbed<A>`.
 *
 * @example
 * ```ts
 * import { Dual } from 'lamina-nn'
 * import assert from 'node:assert'
 *
 * const xs: ReadonlyArray<Dual.Dual<number>> = [Dual.zero, Dual.constant(2), Dual.variable(2)]
 * assert.deepStrictEqual(xs.map(Dual.isPerturbed), [false, false, true])
 * ```
 */
export type Dual<A> = Zero | Const<A> | Perturbed<A>

/**
 * The symbolic zero value.
 *
 * @example
 * ```ts
 * import { Dual } from 'lamina-nn'
 * import assert from 'node:assert'
 *
 * assert.strictEqual(Dual.zero._tag, 'Zero')
 * ```
 */
export const zero: Zero = Object.freeze({ _tag: 'Zero' })

/**
 * Lifts a value that does not depend on the input: its tangent is a symbolic zero.
 *
 * @example
 * ```ts
 * import { Dual, Floating } from 'lamina-nn'
 * import assert from 'node:assert'
 *
 * assert.strictEqual(Dual.tangent(Floating.FloatingNumber)(Dual.constant(7)), 0)
 * ```
 */
export const constant = <A>(x: A): Dual<A> => ({ _tag: 'Const', primal: x })

/**
 * The input being differentiated: primal `x`, tangent (seed direction) `dx`. Over numbers
 * `dx` defaults to 1; over any other `A` pass the instance's `one` or a direction.
 *
 * @example
 * ```ts
 * import { Dual, Floating } from 'lamina-nn'
 * import assert from 'node:assert'
 *
 * const D = Dual.FloatingDual
 * // directional: d/dt (x·x) at x = 3 along dx = 0.5 is 2·3·0.5
 * const y = D.mul(Dual.variable(3, 0.5), Dual.variable(3, 0.5))
 * assert.strictEqual(Dual.tangent(Floating.FloatingNumber)(y), 3)
 * ```
 */
export function variable(x: number, dx?: number): Dual<number>
export function variable<A>(x: A, dx: A): Dual<A>
export function variable<A>(x: A, dx: A = 1 as A): Dual<A> {
  return { _tag: 'Perturbed', primal: x, tangent: dx }
}

/**
 * Whether a dual number carries a tangent that may be non-zero.
 *
 * @example
 * ```ts
 * import { Dual } from 'lamina-nn'
 * import assert from 'node:assert'
 *
 * assert.strictEqual(Dual.isPerturbed(Dual.variable(1)), true)
 * assert.strictEqual(Dual.isPerturbed(Dual.constant(1)), false)
 * ```
 */
export const isPerturbed = <A>(d: Dual<A>): d is Perturbed<A> => d._tag === 'Perturbed'

/**
 * The value part. Takes the base instance because `Zero` stores no value.
 *
 * @example
 * ```ts
 * import { Dual, Floating } from 'lamina-nn'
 * import assert from 'node:assert'
 *
 * const primal = Dual.primal(Floating.FloatingNumber)
 * assert.strictEqual(primal(Dual.FloatingDual.exp(Dual.variable(0))), 1)
 * assert.strictEqual(primal(Dual.zero), 0)
 * ```
 */
export const primal =
  <A>(F: Floating<A>) =>
  (d: Dual<A>): A =>
    d._tag === 'Zero' ? F.zero : d.primal

/**
 * The derivative part: `F.zero` for `Zero` and `Const`.
 *
 * @example
 * ```ts
 * import { Dual, Floating } from 'lamina-nn'
 * import assert from 'node:assert'
 *
 * const tangent = Dual.tangent(Floating.FloatingNumber)
 * assert.strictEqual(tangent(Dual.FloatingDual.sin(Dual.variable(0))), 1) // cos 0
 * assert.strictEqual(tangent(Dual.constant(5)), 0)
 * ```
 */
export const tangent =
  <A>(F: Floating<A>) =>
  (d: Dual<A>): A =>
    d._tag === 'Perturbed' ? d.tangent : F.zero

const perturbed = <A>(x: A, dx: A): Dual<A> => ({ _tag: 'Perturbed', primal: x, tangent: dx })

/**
 * The dual-number instance over any base `Floating`. Each rule computes the primal with `F`
 * and, only for a perturbed input, the tangent by its chain rule (written beside it).
 * `getFloating(getFloating(F))` works over `Dual<Dual<A>>`: second derivatives.
 *
 * @example
 * ```ts
 * import { Dual, Floating } from 'lamina-nn'
 * import assert from 'node:assert'
 *
 * const D = Dual.getFloating(Floating.FloatingNumber)
 * const DD = Dual.getFloating(D)
 * // d²/dx² sin x = −sin x: differentiate the derivative
 * const x = 0.7
 * const d2 = Dual.derivative(Dual.derivativeWith(D)(DD.sin))(x)
 * assert.ok(Math.abs(d2 + Math.sin(x)) < 1e-15)
 * ```
 */
export const getFloating = <A>(F: Floating<A>): Floating<Dual<A>> => {
  const p = primal(F)
  // y = f(x); the tangent dy = jvp(dx, x, y) is computed only for a perturbed x
  const unary =
    (f: (x: A) => A, jvp: (dx: A, x: A, y: A) => A) =>
    (d: Dual<A>): Dual<A> => {
      const x = p(d)
      const y = f(x)
      return d._tag === 'Perturbed' ? perturbed(y, jvp(d.tangent, x, y)) : constant(y)
    }
  // z = f(x, y); each input's tangent contribution is computed only if it is perturbed
  const binary =
    (
      f: (x: A, y: A) => A,
      jx: (dx: A, x: A, y: A, z: A) => A,
      jy: (dy: A, x: A, y: A, z: A) => A
    ) =>
    (u: Dual<A>, v: Dual<A>): Dual<A> => {
      const x = p(u)
      const y = p(v)
      const z = f(x, y)
      if (u._tag === 'Perturbed') {
        const tx = jx(u.tangent, x, y, z)
        return v._tag === 'Perturbed' ? perturbed(z, F.add(tx, jy(v.tangent, x, y, z))) : perturbed(z, tx)
      }
      return v._tag === 'Perturbed' ? perturbed(z, jy(v.tangent, x, y, z)) : constant(z)
    }
  const twoOverSqrtPi = F.fromNumber(2 / Math.sqrt(Math.PI))
  const one: Dual<A> = constant(F.one)
  return {
    zero,
    one,
    fromNumber: (n) => constant(F.fromNumber(n)),
    // d(x + y) = dx + dy
    add: binary(F.add, (dx) => dx, (dy) => dy),
    // d(x − y) = dx − dy
    sub: binary(F.sub, (dx) => dx, (dy) => F.neg(dy)),
    // d(x·y) = y dx + x dy
    mul: binary(F.mul, (dx, _x, y) => F.mul(y, dx), (dy, x) => F.mul(x, dy)),
    // d(x/y) = dx/y − (x/y) dy/y
    div: binary(F.div, (dx, _x, y) => F.div(dx, y), (dy, _x, y, z) => F.neg(F.div(F.mul(z, dy), y))),
    // a field: division is exact, so the Euclidean remainder is zero
    degree: () => 1,
    mod: () => zero,
    // d(−x) = −dx
    neg: unary(F.neg, (dx) => F.neg(dx)),
    // d eˣ = eˣ dx
    exp: unary(F.exp, (dx, _x, y) => F.mul(y, dx)),
    // d ln x = dx / x
    log: unary(F.log, (dx, x) => F.div(dx, x)),
    // d sin x = cos x dx
    sin: unary(F.sin, (dx, x) => F.mul(F.cos(x), dx)),
    // d cos x = −sin x dx
    cos: unary(F.cos, (dx, x) => F.neg(F.mul(F.sin(x), dx))),
    // d tanh x = (1 − tanh² x) dx
    tanh: unary(F.tanh, (dx, _x, y) => F.mul(F.sub(F.one, F.mul(y, y)), dx)),
    // d √x = dx / (2√x)
    sqrt: unary(F.sqrt, (dx, _x, y) => F.div(dx, F.add(y, y))),
    // d xⁿ = n xⁿ⁻¹ dx; x⁰ = 1 is a constant (even at x = 0, where 0·0⁻¹ would be NaN)
    pow: (d, n) =>
      n === 0 ? one : unary((x) => F.pow(x, n), (dx, x) => F.mul(F.mul(F.fromNumber(n), F.pow(x, n - 1)), dx))(d),
    // d σ(x) = σ(x)(1 − σ(x)) dx
    sigmoid: unary(F.sigmoid, (dx, _x, y) => F.mul(F.mul(y, F.sub(F.one, y)), dx)),
    // d softplus(x) = σ(x) dx
    softplus: unary(F.softplus, (dx, x) => F.mul(F.sigmoid(x), dx)),
    // d relu(x) = step(x) dx with step = relu ∘ sign, which is 0 at x = 0 (as in JAX)
    relu: unary(F.relu, (dx, x) => F.mul(F.relu(F.sign(x)), dx)),
    // d |x| = sign(x) dx
    abs: unary(F.abs, (dx, x) => F.mul(F.sign(x), dx)),
    // d sign(x) = 0 wherever it exists: the result is a constant, no tangent work
    sign: (d) => constant(F.sign(p(d))),
    // d erf(x) = (2/√π) e^(−x²) dx
    erf: unary(F.erf, (dx, x) => F.mul(F.mul(twoOverSqrtPi, F.exp(F.neg(F.mul(x, x)))), dx))
  }
}

/**
 * Dual numbers over JavaScript numbers: `getFloating(FloatingNumber)`.
 *
 * @example
 * ```ts
 * import { Dual } from 'lamina-nn'
 * import assert from 'node:assert'
 *
 * const D = Dual.FloatingDual
 * // d/dx x³ at 2 = 12
 * assert.strictEqual(Dual.derivative((x) => D.mul(x, D.mul(x, x)))(2), 12)
 * ```
 */
export const FloatingDual: Floating<Dual<number>> = getFloating(FloatingNumber)

/**
 * `f′(x)` in one forward pass over any base instance: seed tangent `F.one`, read the tangent.
 *
 * @example
 * ```ts
 * import { Dual, Floating } from 'lamina-nn'
 * import assert from 'node:assert'
 *
 * const D = Dual.FloatingDual
 * const DD = Dual.getFloating(D)
 * // second derivative: the inner derivative runs over Dual<number>, the outer over number
 * const d2exp = Dual.derivative(Dual.derivativeWith(D)(DD.exp))
 * assert.strictEqual(d2exp(1), Math.exp(1))
 * ```
 */
export const derivativeWith =
  <A>(F: Floating<A>) =>
  (f: (x: Dual<A>) => Dual<A>) =>
  (x: A): A =>
    tangent(F)(f(perturbed(x, F.one)))

/**
 * `f′(x)` for a function of one number.
 *
 * @example
 * ```ts
 * import { Dual } from 'lamina-nn'
 * import assert from 'node:assert'
 *
 * const D = Dual.FloatingDual
 * const dtanh = Dual.derivative(D.tanh)
 * assert.ok(Math.abs(dtanh(0.5) - (1 - Math.tanh(0.5) ** 2)) < 1e-15)
 * ```
 */
export const derivative: (f: (x: Dual<number>) => Dual<number>) => (x: number) => number =
  derivativeWith(FloatingNumber)

/**
 * `∂f/∂xᵢ` at `xs` in one forward pass: input `i` is seeded with tangent `F.one`, the others
 * enter as constants. Throws `ArgumentError` for an `i` outside `xs`, or when `f` declares more
 * parameters than `xs` supplies.
 *
 * @example
 * ```ts
 * import { Dual, Floating } from 'lamina-nn'
 * import assert from 'node:assert'
 *
 * const D = Dual.getFloating(Floating.FloatingNumber)
 * const dfdy = Dual.partialWith(Floating.FloatingNumber)(1)((x, y) => D.mul(x, D.mul(y, y)))
 * assert.strictEqual(dfdy([3, 2]), 12) // 2xy
 * ```
 */
export const partialWith =
  <A>(F: Floating<A>) =>
  (i: number) =>
  (f: (...xs: Array<Dual<A>>) => Dual<A>) =>
  (xs: ReadonlyArray<A>): A => {
    if (!Number.isInteger(i) || i < 0 || i >= xs.length) {
      throw new ArgumentError(`partial: input index ${i} is outside the ${xs.length} inputs given`)
    }
    if (f.length > xs.length) {
      throw new ArgumentError(`partial: the function takes ${f.length} inputs, got ${xs.length}`)
    }
    return tangent(F)(f(...xs.map((x, j) => (j === i ? perturbed(x, F.one) : constant(x)))))
  }

/**
 * `∂f/∂xᵢ` for a function of numbers.
 *
 * @example
 * ```ts
 * import { Dual } from 'lamina-nn'
 * import assert from 'node:assert'
 *
 * const D = Dual.FloatingDual
 * assert.strictEqual(Dual.partial(0)((x, y) => D.div(x, y))([1, 4]), 0.25)
 * ```
 */
export const partial: (
  i: number
) => (f: (...xs: Array<Dual<number>>) => Dual<number>) => (xs: ReadonlyArray<number>) => number =
  partialWith(FloatingNumber)

/**
 * The gradient of a scalar function of `n` inputs by `n` forward passes, one seed per input
 * (reverse mode gets it in one pass; this is the reference it is checked against).
 *
 * @example
 * ```ts
 * import { Dual, Floating } from 'lamina-nn'
 * import assert from 'node:assert'
 *
 * const F = Floating.FloatingNumber
 * const D = Dual.getFloating(F)
 * assert.deepStrictEqual(Dual.gradientWith(F)((x, y) => D.mul(x, y))([3, 4]), [4, 3])
 * ```
 */
export const gradientWith =
  <A>(F: Floating<A>) =>
  (f: (...xs: Array<Dual<A>>) => Dual<A>) =>
  (xs: ReadonlyArray<A>): ReadonlyArray<A> =>
    xs.map((_, i) => partialWith(F)(i)(f)(xs))

/**
 * The gradient of a function of numbers.
 *
 * @example
 * ```ts
 * import { Dual } from 'lamina-nn'
 * import assert from 'node:assert'
 *
 * const D = Dual.FloatingDual
 * // seed 004: ∇(ln x1 + x1·x2 − sin x2) at (2, 5) = (x2 + 1/x1, x1 − cos x2)
 * const g = Dual.gradient((x1, x2) => D.sub(D.add(D.log(x1), D.mul(x1, x2)), D.sin(x2)))([2, 5])
 * assert.deepStrictEqual(g, [5 + 1 / 2, 2 - Math.cos(5)])
 * ```
 */
export const gradient: (
  f: (...xs: Array<Dual<number>>) => Dual<number>
) => (xs: ReadonlyArray<number>) => ReadonlyArray<number> = gradientWith(FloatingNumber)
