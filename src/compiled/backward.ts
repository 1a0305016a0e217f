/**
 * The backward sweep of a staged step. It visits the staged forward nodes newest first and
 * applies each primitive's VJP rule from the table to staged values, so the backward pass is
 * recorded as primitives too. The rules of relu, abs, maximum, minimum and max read primal
 * values on the host to build their masks; here those masks are staged ops instead
 * (`positive`, `sign`, `greaterWeight`, `equal`), so the compiled step computes them from the
 * values of each step rather than freezing the example's.
 *
 * @module
 */
import { bind, ruleOf } from '../prim.js'
import type { Linear, Prim, PrimParams, ReduceParams, RuleContext } from '../prim.js'
import type { Shape } from '../shape.js'
import { allocate, full } from '../tensor.js'
import type { Buffer, Tensor } from '../tensor.js'
import { CompileError } from './error.js'
import { elementwiseValues } from './graph.js'
import type { ElementwiseOp } from './graph.js'
import type { StagingTrace } from './stage.js'

const mul = (a: Tensor, b: Tensor): Tensor => bind('mul', [a, b], {})
const div = (a: Tensor, b: Tensor): Tensor => bind('div', [a, b], {})
const sum = (a: Tensor, axes: readonly number[], keepdims: boolean): Tensor => bind('sum', [a], { axes, keepdims })
const reshape = (a: Tensor, shape: Shape): Tensor => bind('reshape', [a], { shape })
const broadcast = (a: Tensor, shape: Shape): Tensor => bind('broadcast', [a], { shape })

const keptShape = (input: Shape, axes: readonly number[]): Shape => input.map((d, i) => (axes.includes(i) ? 1 : d))

const staged = (trace: StagingTrace, op: Exclude<ElementwiseOp, 'compare'>, args: readonly Tensor[]): Tensor =>
  trace.apply(
    op,
    args,
    {},
    (buffers) => {
      const [a, b] = buffers as readonly [Buffer, Buffer | undefined]
      const out = allocate(args[0]!.dtype, a.length)
      const f = elementwiseValues[op]
      for (let i = 0; i < out.length; i++) out[i] = f(a[i]!, b === undefined ? 0 : b[i]!)
      return out
    },
    args[0]!.shape
  )

type Override = (trace: StagingTrace, ctx: RuleContext<Prim>) => readonly Linear[]

/** VJP rules whose masks the eager rules compute from primal values. */
const overrides: { readonly [P in Prim]?: Override } = {
  // d relu(x) = [x > 0] dx
  relu: (trace, { args: [x] }) => [(ct) => mul(ct, staged(trace, 'positive', [x!]))],
  // d |x| = sign(x) dx
  abs: (trace, { args: [x] }) => [(ct) => mul(ct, staged(trace, 'sign', [x!]))],
  // ties share the gradient equally, as in the eager rule
  maximum: (trace, { args: [a, b] }) => [
    (ct) => mul(ct, staged(trace, 'greaterWeight', [a!, b!])),
    (ct) => mul(ct, staged(trace, 'greaterWeight', [b!, a!]))
  ],
  minimum: (trace, { args: [a, b] }) => [
    (ct) => mul(ct, staged(trace, 'greaterWeight', [b!, a!])),
    (ct) => mul(ct, staged(trace, 'greaterWeight', [a!, b!]))
  ],
  // x̄ = ȳ · [x = max] / (number of maxima), the eager rule's weights built from staged ops
  max: (trace, ctx) => extremumOverride(trace, ctx),
  // the same for the minimum: `equal` against the staged result finds the minima
  min: (trace, ctx) => extremumOverride(trace, ctx)
}

/** The max and min reductions' VJP: x̄ = ȳ · [x = extremum] / (number of extrema). */
function extremumOverride(trace: StagingTrace, ctx: RuleContext<Prim>): readonly Linear[] {
  const { args: [x], out } = ctx
  const { axes } = ctx.params as ReduceParams
  const kept = keptShape(x!.shape, axes)
  const hits = staged(trace, 'equal', [x!, broadcast(reshape(out, kept), x!.shape)])
  const weights = div(hits, broadcast(sum(hits, axes, true), x!.shape))
  return [(ct) => mul(broadcast(reshape(ct, kept), x!.shape), weights)]
}

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
    const override = overrides[node.op as Prim]
    const pullbacks = override !== undefined ? override(trace, ctx) : ruleOf(node.op).vjp(ctx)
    node.args.forEach((a, i) => {
      if (a.tag !== 'node' || !needed[a.index]) return
      const contribution = pullbacks[i]!(adjoint)
      const previous = adjoints.get(a.index)
      adjoints.set(a.index, previous === undefined ? contribution : bind('add', [previous, contribution], {}))
    })
  }
  return wrtIndices.map((i) => adjoints.get(i))
}
