/**
 * All derivative laws for one entry of the primitive table, over its generated cases.
 *
 * @module
 */
import type fc from 'fast-check'
import { userPrimitiveFacts } from '../src/ad/custom.js'
import type { Primitive } from '../src/ad/custom.js'
import { ArgumentError } from '../src/error.js'
import type { Prim } from '../src/prim.js'
import type { Tensor } from '../src/tensor.js'
import { sameShape } from './arbitrary.js'
import * as M from './measure.js'
import { jvp, vjp } from '../src/ad/api.js'
import { fromBuffer } from '../src/tensor.js'
import { applyCase, primitiveCases, zeroDerivative } from './primitives.js'
import { fromVector, maxAbs, toVector, unitVector } from './vector.js'
import type { PrimitiveCase } from './primitives.js'
import { forwardReverseLaw, gradientLaw, hessianSymmetryLaw, hvpLaw, innerProductLaw, jvpLaw } from './laws.js'
import type { Law } from './laws.js'
import { jacobians, runLaw } from './run.js'
import type { LawReport, RunOptions } from './run.js'

/** How many cases each law gets. */
export interface PrimitiveRuns {
  readonly gradient: number
  readonly jvp: number
  readonly innerProduct: number
  readonly forwardReverse: number
  readonly secondOrder: number
}

type Args = readonly Tensor[]

/**
 * For a primitive of `zeroDerivative`: the largest |element| of its VJP of a random unit
 * cotangent (`reverse`) or of its JVP of a random unit tangent (`forward`), which must be 0.
 */
const zeroMeasure = (mode: 'reverse' | 'forward') => (f: (args: Args) => Tensor, args: Args, seed: number): M.Measure => {
  let out: Float64Array
  if (mode === 'reverse') {
    const [y, pullback] = vjp(f, args)
    out = toVector(pullback(fromBuffer(unitVector(y.size, seed), y.shape, { dtype: y.dtype }))[0])
  } else {
    const [, dy] = jvp(f, [args] as const, [fromVector(args, unitVector(toVector(args).length, seed))] as const)
    out = toVector(dy)
  }
  const worst = maxAbs(out)
  return { error: worst, analytic: worst, numeric: 0 }
}

/** A case of a user primitive: its tensor arguments and (optionally) parameters other than its defaults. */
export interface UserPrimitiveCase<Params> {
  readonly args: readonly Tensor[]
  readonly params?: Params
}

/** Options of {@link checkPrimitive} for a user primitive: where to check it. */
export interface UserPrimitiveOptions<Params> extends Omit<RunOptions, 'numRuns'> {
  /**
   * Its cases (default: arguments of one random shape, values in [−3, 3], the definition's
   * parameters). Keep them inside its domain and away from its kinks.
   */
  readonly cases?: fc.Arbitrary<UserPrimitiveCase<Params>>
}

const userCases = <Params extends object>(prim: Primitive<Params>): fc.Arbitrary<UserPrimitiveCase<Params>> =>
  sameShape(prim.definition.arity, { maxRank: 3, maxDim: 4 }).map((args) => ({ args }))

/**
 * Checks one primitive, built in (by name) or defined by user code (the {@link Primitive}
 * `definePrimitive` returns): reverse mode and forward mode against finite differences, the
 * inner-product identity, forward/reverse Jacobian agreement, Hessian symmetry and the
 * Hessian–vector product against differences of gradients. Returns one report per law; throws
 * a `LawFailure` with a shrunk counterexample for the first law that fails.
 *
 * @example
 * ```ts
 * import { definePrimitive, mul, cos, sin } from 'lamina-nn'
 * import { checkPrimitive, LawFailure } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * const runs = { gradient: 20, jvp: 20, innerProduct: 20, forwardReverse: 5, secondOrder: 5 }
 * assert.ok(checkPrimitive('tanh', runs).every((r) => r.maxError <= r.tolerance))
 * // a user primitive with a wrong rule: d sin x = −cos x dx
 * const badSin = definePrimitive({ name: 'badSin', arity: 1, forward: ([x]) => sin(x!), jvp: ({ args: [x] }) => [(t) => mul(t, mul(cos(x!), cos(x!)))] })
 * assert.throws(() => checkPrimitive(badSin, runs), LawFailure)
 * ```
 */
export function checkPrimitive<P extends Prim>(prim: P, runs: PrimitiveRuns, options?: Omit<RunOptions, 'numRuns'>): LawReport[]
export function checkPrimitive<Params extends object>(prim: Primitive<Params>, runs: PrimitiveRuns, options?: UserPrimitiveOptions<Params>): LawReport[]
export function checkPrimitive(prim: Prim | Primitive<object>, runs: PrimitiveRuns, options?: UserPrimitiveOptions<object>): LawReport[] {
  if (typeof prim === 'string') {
    const cases = primitiveCases[prim] as unknown as fc.Arbitrary<PrimitiveCase<Prim>>
    return primitiveLaws(prim, cases, (c) => applyCase(prim, c.params, c.data) as (args: Args) => Tensor, zeroDerivative.has(prim), runs, options)
  }
  const name = prim.primitive
  const facts = userPrimitiveFacts(name)
  if (facts === undefined) throw new ArgumentError(`checkPrimitive: expected a primitive's name or what definePrimitive returned, got ${String(name)}`)
  const defaults = prim.definition.params ?? {}
  return primitiveLaws(name, options?.cases ?? userCases(prim), (c) => (args: Args) => prim.bind(args, c.params ?? defaults), facts.zeroDerivative, runs, options)
}

/** The laws of one primitive over its cases. */
const primitiveLaws = <C extends { readonly args: Args }>(
  name: string,
  cases: fc.Arbitrary<C>,
  fn: (c: C) => (args: Args) => Tensor,
  zero: boolean,
  runs: PrimitiveRuns,
  options?: Omit<RunOptions, 'numRuns'>
): LawReport[] => {
  const law = (
    title: string,
    tolerance: Law['tolerance'],
    measure: (f: (args: Args) => Tensor, args: Args, seed: number) => M.Measure,
    numRuns: number
  ): LawReport =>
    runLaw(
      {
        law: `${name}: ${title}`,
        tolerance,
        measure: (c, seed) => measure(fn(c), c.args, seed),
        compare: (c) => jacobians(fn(c), c.args, 'reverse', 'finite differences', options)
      },
      cases,
      { ...options, numRuns }
    )
  const fromTable = (l: Law, numRuns: number, title = l.name): LawReport =>
    law(title, l.tolerance, (f, a, s) => l.measure(f, a, s, options), numRuns)
  const firstOrder = zero
    ? [
        law('reverse mode is zero (derivative 0 by definition)', 'gradient', zeroMeasure('reverse'), runs.gradient),
        law('forward mode is zero (derivative 0 by definition)', 'gradient', zeroMeasure('forward'), runs.jvp)
      ]
    : [
        fromTable(gradientLaw, runs.gradient, 'reverse mode vs finite differences'),
        fromTable(jvpLaw, runs.jvp, 'forward mode vs finite differences')
      ]
  return [
    ...firstOrder,
    fromTable(innerProductLaw, runs.innerProduct, 'inner-product identity'),
    fromTable(forwardReverseLaw, runs.forwardReverse, 'forward and reverse Jacobians agree'),
    fromTable(hessianSymmetryLaw, runs.secondOrder),
    fromTable(hvpLaw, runs.secondOrder, 'Hessian-vector product vs differences of gradients')
  ]
}
