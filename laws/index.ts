/**
 * `lamina-nn/laws`: the gradient-correctness harness. Point it at your own op or layer from
 * your own test suite; a wrong derivative fails with a report of the first and the worst
 * failing input, a counterexample shrunk from the worst, and the Jacobian entry where the
 * two computations disagree. `checkGradientOf` and `gradientError` check a gradient written
 * by hand (over numbers, arrays, tensors) against finite differences of its function.
 *
 * @example
 * ```ts
 * import { mul, sin } from 'lamina-nn'
 * import type { Tensor } from 'lamina-nn'
 * import { checkGradient, checkVjp, tensors } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * // your op: x·sin(x), for a tensor of any shape
 * const op = (x: Tensor) => mul(x, sin(x))
 * assert.ok(checkGradient(op, tensors(), { numRuns: 50 }).maxError <= 1e-7)
 * assert.ok(checkVjp(op, tensors(), { numRuns: 50 }).maxError <= 1e-12)
 * ```
 *
 * @module lamina-nn/laws
 */
export * from './tolerance.js'
export * from './vector.js'
export * from './finite-difference.js'
export * from './measure.js'
export * from './predicates.js'
export * from './arbitrary.js'
export * from './run.js'
export * from './laws.js'
export * from './layer-laws.js'
export * from './primitives.js'
export * from './algebra.js'
export * from './primitive-laws.js'
export * from './point.js'
export * from './report.js'
export * from './gradient-of.js'
export * from './custom-laws.js'
