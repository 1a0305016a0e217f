/**
 * The backward sweep of a staged step. It visits the staged forward nodes newest first and
 * applies each primitive's VJP rule from the table to staged values, so the backward pass is
 * recorded as primitives too: the masks of relu, abs, maximum, minimum and max/min are
 * `compare`, `sign` and `select` primitives of the staged values, computed by each step's
 * kernels, and nothing here differs from the eager rules.
 *
 * @module
 */
import { bind, ruleOf } from '../prim.js'
import type { Prim, PrimParams, RuleContext } from '../prim.js'
import { concreteBuffer, full } from '../tensor.js'
import type { Tensor } from '../tensor.js'
import { CompileError } from './error.js'
import type { StagingTrace } from './stage.js'

/**
 * The staged gradients of the staged scalar `loss` with respect to the staged inputs `wrt`
 * (`undefined` where the loss does not depend on an input). The seed is itself a staged input
 * (role `'seed'`), so no cotangent folds into a constant computed from the example's labels.
 */
export const gradients = (trace: StagingTrace, loss: Tensor, wrt: readonly Tensor[]): readonly (Tensor | undefined)[] => {
  const lossIndex = trace.indexOf(loss)
  if (lossIndex === undefined) throw new CompileError('unsupported-model', 'compile: the loss does not depend on the parameters')
  const wrtIndices = wrt.map((w) => trace.indexOf(w)!)
  // which nodes depend on a parameter: only their cotangents are ever needed
  const needed = new Array<boolean>(lossIndex + 1).fill(false)
  for (const i of wrtIndices) needed[i] = true
  for (let k = 0; k <= lossIndex; k++) {
    const node = trace.nodes[k]!
    if (node.args.some((a) => a.tag === 'node' && needed[a.index])) needed[k] = true
  }
  const adjoints = new Map<number, Tensor>([[lossIndex, trace.input('seed', full([], 1, { dtype: loss.dtype }))]])
  for (let k = lossIndex; k >= 0; k--) {
    const node = trace.nodes[k]!
    const adjoint = adjoints.get(k)
    if (adjoint === undefined || node.op === 'input') continue
    const ctx: RuleContext<Prim> = {
      args: node.args.map((a) => (a.tag === 'node' ? trace.tensor(a.index) : a.value)),
      out: trace.tensor(k),
      params: node.params as PrimParams[Prim]
    }
    const pullbacks = ruleOf(node.op).vjp(ctx)
    node.args.forEach((a, i) => {
      if (a.tag !== 'node' || !needed[a.index]) return
      const contribution = pullbacks[i]!(adjoint)
      // a rule with derivative zero (stopGradient, compare, sign, a select's mask) answers a constant of zeros: no cotangent flows
      if (trace.indexOf(contribution) === undefined && concreteBuffer(contribution).every((v) => v === 0)) return
      const previous = adjoints.get(a.index)
      adjoints.set(a.index, previous === undefined ? contribution : bind('add', [previous, contribution], {}))
    })
  }
  return wrtIndices.map((i) => adjoints.get(i))
}
