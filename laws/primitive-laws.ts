/**
 * All derivative laws for one entry of the primitive table, over its generated cases.
 *
 * @module
 */
import type { Prim } from '../src/prim.js'
import type { Tensor } from '../src/tensor.js'
import * as M from './measure.js'
import { jvp, vjp } from '../src/ad/api.js'
import { fromBuffer } from '../src/tensor.js'
import { applyCase, primitiveCases, zeroDerivative } from './primitives.js'
import { fromVector, maxAbs, toVector, unitVector } from './vector.js'
import type { PrimitiveCase } from './primitives.js'
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

/**
 * Checks one primitive: reverse mode and forward mode against finite differences, the
 * inner-product identity, forward/reverse Jacobian agreement, Hessian symmetry and the
 * Hessian–vector product against differences of gradients. Returns one report per law.
 *
 * @example
 * ```ts
 * import { checkPrimitive } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * const reports = checkPrimitive('tanh', { gradient: 20, jvp: 20, innerProduct: 20, forwardReverse: 5, secondOrder: 5 })
 * assert.ok(reports.every((r) => r.maxError <= r.tolerance))
 * ```
 */
export const checkPrimitive = <P extends Prim>(prim: P, runs: PrimitiveRuns, options?: Omit<RunOptions, 'numRuns'>): LawReport[] => {
  const cases = primitiveCases[prim] as unknown as import('fast-check').Arbitrary<PrimitiveCase<P>>
  const fn = (c: PrimitiveCase<P>) => applyCase(prim, c.params) as (args: Args) => Tensor
  const law = (
    name: string,
    tolerance: 'gradient' | 'innerProduct' | 'value' | 'secondOrder',
    measure: (f: (args: Args) => Tensor, args: Args, seed: number) => M.Measure,
    numRuns: number
  ): LawReport =>
    runLaw(
      {
        law: `${prim}: ${name}`,
        tolerance,
        measure: (c, seed) => measure(fn(c), c.args, seed),
        compare: (c) => jacobians(fn(c), c.args, 'reverse', 'finite differences', options)
      },
      cases,
      { ...options, numRuns }
    )
  const firstOrder = zeroDerivative.has(prim)
    ? [
        law('reverse mode is zero (derivative 0 by definition)', 'gradient', zeroMeasure('reverse'), runs.gradient),
        law('forward mode is zero (derivative 0 by definition)', 'gradient', zeroMeasure('forward'), runs.jvp)
      ]
    : [
        law('reverse mode vs finite differences', 'gradient', (f, a, s) => M.gradientMeasure(f, a, s, options), runs.gradient),
        law('forward mode vs finite differences', 'gradient', (f, a, s) => M.jvpMeasure(f, a, s, options), runs.jvp)
      ]
  return [
    ...firstOrder,
    law('inner-product identity', 'innerProduct', (f, a, s) => M.innerProductMeasure(f, a, s), runs.innerProduct),
    law('forward and reverse Jacobians agree', 'value', (f, a) => M.forwardReverseMeasure(f, a), runs.forwardReverse),
    law('Hessian symmetry', 'value', (f, a, s) => M.hessianSymmetryMeasure(f, a, s), runs.secondOrder),
    law('Hessian-vector product vs differences of gradients', 'secondOrder', (f, a, s) => M.hvpMeasure(f, a, s, options), runs.secondOrder)
  ]
}
