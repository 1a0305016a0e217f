/**
 * Forward mode on tensors: a value carries its tangent, and every primitive pushes the
 * tangent through its JVP rule (`ẏ = Σᵢ ∂f/∂xᵢ · ẋᵢ`). Tangents may be symbolic zeros
 * (`null`): rules are not applied to them, so constants cost nothing.
 *
 * @module
 */
import { DifferentiationError } from '../error.js'
import { bind, ruleOf } from '../prim.js'
import type { Prim, PrimParams, RuleContext } from '../prim.js'
import * as Numerics from '../numerics.js'
import * as Sh from '../shape.js'
import { Tensor, fromTracer, tracerOf, full } from '../tensor.js'
import type { Trace, Tracer } from '../tensor.js'
import * as Tr from '../tree.js'
import { fresh } from './level.js'

/** One input's term of a primitive's output tangent. */
export interface TangentTerm {
  /** Which argument of the primitive. */
  readonly input: number
  /** That argument's tangent `ẋᵢ`. */
  readonly tangent: Tensor
  /** `∂f/∂xᵢ · ẋᵢ`: what it adds to the output's tangent. */
  readonly contribution: Tensor
}

/** Options of {@link pushTangent}. */
export interface PushTangentOptions {
  /** Called for every term, in argument order. */
  readonly observe?: (term: TangentTerm) => void
  /** What a numerics check names when input `i`'s tangent rule produces ∞ or NaN (see `Numerics`). */
  readonly phase?: (input: number) => string
}

/**
 * The tangent of one primitive application by its JVP rule: `ẏ = Σᵢ ∂f/∂xᵢ · ẋᵢ`, summed in
 * argument order over the inputs that have a tangent; `null` (a symbolic zero) when none has
 * one, and then the rule is not evaluated. Forward mode applies it as the function runs; the
 * tape's forward sweep (`Tape.forward`) applies it to recorded nodes.
 */
export const pushTangent = (prim: Prim, context: RuleContext<Prim>, tangents: readonly (Tensor | null)[], options: PushTangentOptions = {}): Tensor | null => {
  if (tangents.every((t) => t === null)) return null
  const { observe, phase } = options
  const maps = ruleOf(prim).jvp(context)
  let tangent: Tensor | null = null
  tangents.forEach((t, i) => {
    if (t === null) return
    const contribution = phase === undefined ? maps[i]!(t) : Numerics.inPhase(phase(i), () => maps[i]!(t))
    observe?.({ input: i, tangent: t, contribution })
    tangent = tangent === null ? contribution : bind('add', [tangent, contribution], {})
  })
  return tangent
}

interface DualTracer extends Tracer {
  readonly tangent: Tensor | null
}

class JvpTrace implements Trace {
  constructor(readonly level: number) {}

  own(t: Tensor): DualTracer | undefined {
    const tr = tracerOf(t)
    return tr !== undefined && tr.level === this.level ? (tr as DualTracer) : undefined
  }

  process(prim: string, args: readonly Tensor[], params: unknown): Tensor {
    const p = prim as Prim
    const primals = args.map((a) => this.own(a)?.primal ?? a)
    const tangents = args.map((a) => this.own(a)?.tangent ?? null)
    const out = bind(p, primals, params as PrimParams[Prim])
    if (tangents.every((t) => t === null)) return out
    return this.lift(out, pushTangent(p, { args: primals, out, params: params as PrimParams[Prim] }, tangents))
  }

  lift(primal: Tensor, tangent: Tensor | null): Tensor {
    const tracer: DualTracer = { level: this.level, primal, trace: this, tangent }
    return fromTracer(tracer)
  }
}

/** Checks that a tangent matches its primal's shape and dtype. */
const checkTangent = (p: Tensor, t: Tensor, i: number): void => {
  if (!(t instanceof Tensor)) throw new DifferentiationError(`jvp: tangent ${i} is not a tensor`)
  if (!Sh.equals(p.shape, t.shape) || p.dtype !== t.dtype) {
    throw new DifferentiationError(
      `jvp: tangent ${i} has shape ${Sh.show(t.shape)} (${t.dtype}) but its primal has shape ${Sh.show(p.shape)} (${p.dtype})`
    )
  }
}

/**
 * Runs `f` on `primals` pushing `tangents` forward: returns `[f(primals), J·tangents]`.
 * Primals and tangents are trees of the same structure; so are the two outputs.
 *
 * @example
 * ```ts
 * import { tensor, jvp, mul, sin } from 'lamina-nn'
 * import assert from 'node:assert'
 * const [y, dy] = jvp((x) => mul(x, sin(x)), [tensor(2)], [tensor(1)])
 * assert.ok(Math.abs(y.item() - 2 * Math.sin(2)) < 1e-15)
 * assert.ok(Math.abs(dy.item() - (Math.sin(2) + 2 * Math.cos(2))) < 1e-15)
 * ```
 */
export const jvp = <Args extends readonly unknown[], Out>(
  f: (...args: Args) => Out,
  primals: Args,
  tangents: NoInfer<Args>
): [Out, Out] => {
  const pf = Tr.flatten(primals, 'jvp')
  const tf = Tr.flatten(tangents, 'jvp')
  if (pf.leaves.length !== tf.leaves.length) {
    throw new DifferentiationError(`jvp: ${pf.leaves.length} primal tensors but ${tf.leaves.length} tangent tensors`)
  }
  pf.leaves.forEach((p, i) => checkTangent(p, tf.leaves[i]!, i))
  const trace = new JvpTrace(fresh())
  const inputs = pf.rebuild(pf.leaves.map((p, i) => trace.lift(p, tf.leaves[i]!)))
  const result = f(...inputs)
  const of = Tr.flatten(result, 'jvp output')
  const outs = of.leaves.map((o) => trace.own(o)?.primal ?? o)
  const dots = of.leaves.map((o) => trace.own(o)?.tangent ?? full(o.shape, 0, { dtype: o.dtype }))
  return [of.rebuild(outs), of.rebuild(dots)]
}
