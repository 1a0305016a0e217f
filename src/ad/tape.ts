/**
 * Reverse mode as a Writer: every traced value is a `Writer<Tape, Tensor>` — its primal
 * together with the tape of the operations that produced it. An operation concatenates its
 * arguments' tapes (O(1), the {@link Monoid}) and writes one node. The backward sweep visits
 * each node once, newest first, and adds up the adjoints of a value used several times
 * (seed 002's DAG rule; Algorithm 6.2 of seed 003): its cost is proportional to the edges.
 *
 * Nothing is mutated outside the sweep: tapes are immutable trees of nodes, and a tape can
 * be swept any number of times (a `vjp` pullback may be called repeatedly).
 *
 * @module
 */
import { pipe } from 'fp-ts/lib/function.js'
import type { Monoid as MonoidOf } from 'fp-ts/lib/Monoid.js'
import * as W from 'fp-ts/lib/Writer.js'
import * as RA from 'fp-ts/lib/ReadonlyArray.js'
import * as Numerics from '../numerics.js'
import { bind, ruleOf } from '../prim.js'
import type { Prim, PrimParams, RuleContext } from '../prim.js'
import { Tensor, fromTracer, tracerOf } from '../tensor.js'
import type { Trace, Tracer } from '../tensor.js'
import { pushTangent } from './forward.js'
import type { TangentTerm } from './forward.js'

/** One recorded primitive application. */
export interface Node {
  /** Increasing in recording order, so sorting by id is a topological order. */
  readonly id: number
  readonly prim: Prim
  /** The id of each argument at this level, or `null` for a constant (it gets no cotangent). */
  readonly inputs: readonly (number | null)[]
  readonly context: RuleContext<Prim>
}

/** A catenable sequence of nodes: empty, one node, or two tapes joined. */
export type Tape =
  | { readonly tag: 'empty' }
  | { readonly tag: 'node'; readonly node: Node }
  | { readonly tag: 'concat'; readonly left: Tape; readonly right: Tape }

/**
 * The empty tape.
 *
 * @example
 * ```ts
 * import { Tape } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Tape.nodes(Tape.empty).length, 0)
 * ```
 */
export const empty: Tape = { tag: 'empty' }

/**
 * A tape holding one node.
 *
 * @example
 * ```ts
 * import { Tape, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const node = { id: 1, prim: 'neg' as const, inputs: [0], context: { args: [tensor(1)], out: tensor(-1), params: {} } }
 * assert.deepStrictEqual(Tape.nodes(Tape.of(node)).map((n) => n.id), [1])
 * ```
 */
export const of = (node: Node): Tape => ({ tag: 'node', node })

/**
 * Tapes form a monoid under concatenation, in O(1) (identity: {@link empty}).
 *
 * @example
 * ```ts
 * import { Tape, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const n = (id: number) => Tape.of({ id, prim: 'neg' as const, inputs: [0], context: { args: [tensor(1)], out: tensor(-1), params: {} } })
 * const t = Tape.Monoid.concat(n(1), n(2))
 * assert.deepStrictEqual(Tape.nodes(t).map((x) => x.id), [1, 2])
 * ```
 */
export const Monoid: MonoidOf<Tape> = {
  empty,
  concat: (a, b) => (a.tag === 'empty' ? b : b.tag === 'empty' ? a : { tag: 'concat', left: a, right: b })
}

/**
 * The distinct nodes of a tape in recording order. A sub-tape shared by several values is
 * read once, so a DAG of shared tapes costs its size, not the size of its unfolding.
 *
 * @example
 * ```ts
 * import { Tape, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const a = Tape.of({ id: 1, prim: 'neg' as const, inputs: [0], context: { args: [tensor(1)], out: tensor(-1), params: {} } })
 * assert.strictEqual(Tape.nodes(Tape.Monoid.concat(a, a)).length, 1)
 * ```
 */
export const nodes = (tape: Tape): readonly Node[] => {
  const seenTapes = new Set<Tape>()
  const seenIds = new Set<number>()
  const out: Node[] = []
  const stack: Tape[] = [tape]
  while (stack.length > 0) {
    const t = stack.pop()!
    if (seenTapes.has(t)) continue
    seenTapes.add(t)
    if (t.tag === 'node') {
      if (!seenIds.has(t.node.id)) {
        seenIds.add(t.node.id)
        out.push(t.node)
      }
    } else if (t.tag === 'concat') {
      stack.push(t.right, t.left)
    }
  }
  return out.sort((x, y) => x.id - y.id)
}

/** A value recorded on a tape: the Writer of its producing operations. */
export type Recorded<A> = W.Writer<Tape, A>

/**
 * The Writer monad over tapes.
 *
 * @example
 * ```ts
 * import { Tape } from 'lamina-nn'
 * import assert from 'node:assert'
 * const w = Tape.WriterMonad.of(3)
 * assert.deepStrictEqual(w(), [3, Tape.empty])
 * ```
 */
export const WriterMonad = W.getMonad(Monoid)

/** A value traced by the reverse trace of one level. */
interface TapeTracer extends Tracer {
  readonly id: number
  /** The Writer of this value: its primal, and the tape that produced it. */
  readonly recorded: Recorded<Tensor>
}

/** Node ids are shared by every level; increasing order is recording order. */
let nextId = 0

/**
 * The reverse trace of one level: records each primitive applied to its values.
 *
 * @example
 * ```ts
 * import { tensor, mul, sin, Tape } from 'lamina-nn'
 * import assert from 'node:assert'
 * // what grad does by hand: record y = x·sin(x) on a tape, then sweep it backwards
 * const trace = new Tape.ReverseTrace(1)
 * const x = trace.variable(tensor(2))
 * const y = mul(x, sin(x))
 * const [, tape] = trace.recorded(y)()
 * const adjoints = Tape.backward(tape, new Map([[trace.idOf(y)!, tensor(1)]]))
 * assert.strictEqual(adjoints.get(trace.idOf(x)!)!.item(), Math.sin(2) + 2 * Math.cos(2))
 * ```
 */
export class ReverseTrace implements Trace {
  constructor(readonly level: number) {}

  own(t: Tensor): TapeTracer | undefined {
    const tr = tracerOf(t)
    return tr !== undefined && tr.level === this.level ? (tr as TapeTracer) : undefined
  }

  /** A fresh input variable with an empty tape. */
  variable(primal: Tensor): Tensor {
    return this.wrap(primal, ++nextId, empty)
  }

  /** The id of a value at this level, if it is one of this level's variables. */
  idOf(t: Tensor): number | undefined {
    return this.own(t)?.id
  }

  /** The Writer of a value: its primal and tape (a constant has an empty tape). */
  recorded(t: Tensor): Recorded<Tensor> {
    return this.own(t)?.recorded ?? WriterMonad.of(t)
  }

  private wrap(primal: Tensor, id: number, tape: Tape): Tensor {
    const tracer: TapeTracer = { level: this.level, primal, trace: this, id, recorded: () => [primal, tape] }
    return fromTracer(tracer)
  }

  process(prim: string, args: readonly Tensor[], params: unknown): Tensor {
    const inputs = args.map((a) => this.own(a)?.id ?? null)
    if (inputs.every((i) => i === null)) return bind(prim as Prim, args, params as PrimParams[Prim])
    // concatenate the arguments' tapes, run the primitive on the primals, write its node
    const result = pipe(
      args.map((a) => this.recorded(a)),
      RA.sequence(WriterMonad),
      (w) =>
        WriterMonad.chain(w, (primals) => {
          const out = bind(prim as Prim, primals, params as PrimParams[Prim])
          const node: Node = { id: ++nextId, prim: prim as Prim, inputs, context: { args: primals, out, params: params as PrimParams[Prim] } }
          return W.map(() => node)(W.tell(of(node)))
        })
    )
    const [node, tape] = result()
    return this.wrap(node.context.out, node.id, tape)
  }
}

/** One edge crossed by the backward sweep: a use of `target` as input `input` of `node`. */
export interface Edge {
  readonly node: Node
  /** The node's adjoint, complete when the sweep reaches the node. */
  readonly adjoint: Tensor
  /** Which argument of the node the target is. */
  readonly input: number
  /** The id of the value whose adjoint is updated. */
  readonly target: number
  /** `adjoint · ∂node/∂target`: what this use adds to the target's adjoint. */
  readonly contribution: Tensor
  /** The target's adjoint before this edge (absent for its first use). */
  readonly previous: Tensor | undefined
  /** The target's adjoint after this edge. */
  readonly accumulated: Tensor
}

/** Options of {@link backward}. */
export interface BackwardOptions {
  /** Called for every edge the sweep crosses, in the order it crosses them. */
  readonly observe?: (edge: Edge) => void
  /**
   * What a numerics check names when a rule produces ∞ or NaN (see `Numerics`); by default
   * `backward rule of sqrt (node 3, input 0)`.
   */
  readonly phase?: (node: Node, input: number) => string
}

/**
 * The backward sweep: given the tape and the adjoints of some values (by id), returns every
 * adjoint it reaches. Nodes are visited newest first; a node's rule is evaluated only if it
 * received an adjoint, and only for inputs that are variables of this level. An
 * {@link BackwardOptions.observe} callback sees every edge the sweep crosses, in the order it
 * crosses them (the teaching trace builds its adjoint table from them).
 *
 * @example
 * ```ts
 * import { tensor, Tape } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Tape.backward(Tape.empty, new Map([[1, tensor(1)]])).get(1)!.item(), 1)
 * ```
 *
 * @example
 * ```ts
 * import { tensor, mul, Tape } from 'lamina-nn'
 * import assert from 'node:assert'
 * const trace = new Tape.ReverseTrace(1)
 * const x = trace.variable(tensor(3))
 * const y = mul(x, x)
 * const edges: Tape.Edge[] = []
 * Tape.backward(trace.recorded(y)()[1], new Map([[trace.idOf(y)!, tensor(1)]]), { observe: (e) => edges.push(e) })
 * // y = x·x uses x twice: the second edge adds to the first's contribution
 * assert.deepStrictEqual(edges.map((e) => [e.input, e.contribution.item(), e.previous?.item(), e.accumulated.item()]), [[0, 3, undefined, 3], [1, 3, 3, 6]])
 * ```
 */
export const backward = (tape: Tape, seeds: ReadonlyMap<number, Tensor>, options: BackwardOptions = {}): ReadonlyMap<number, Tensor> => {
  const { observe, phase = (node, i) => `backward rule of ${node.prim} (node ${node.id}, input ${i})` } = options
  const adjoints = new Map(seeds)
  const order = nodes(tape)
  for (let k = order.length - 1; k >= 0; k--) {
    const node = order[k]!
    const adjoint = adjoints.get(node.id)
    if (adjoint === undefined) continue
    const rule = ruleOf(node.prim)
    // nothing flows back through a constant rule (stopGradient, compare, sign): its inputs get no
    // contribution, so what only they feed is never pulled back; an observer still sees its zero edges
    if (rule.constant === true && observe === undefined) continue
    const pullbacks = rule.vjp(node.context)
    node.inputs.forEach((input, i) => {
      if (input === null) return
      const contribution = Numerics.inPhase(phase(node, i), () => pullbacks[i]!(adjoint))
      const previous = adjoints.get(input)
      // a value used several times: its adjoint is the sum of every use's contribution
      const accumulated = previous === undefined ? contribution : bind('add', [previous, contribution], {})
      adjoints.set(input, accumulated)
      observe?.({ node, adjoint, input: i, target: input, contribution, previous, accumulated })
    })
  }
  return adjoints
}

/** One edge crossed by the forward sweep: a use of `source` as input `input` of `node`. */
export interface TangentEdge {
  readonly node: Node
  /** Which argument of the node the source is. */
  readonly input: number
  /** The id of the value whose tangent is pushed. */
  readonly source: number
  /** The source's tangent, complete when the sweep reaches the node. */
  readonly tangent: Tensor
  /** `∂node/∂source · tangent`: what this use adds to the node's tangent. */
  readonly contribution: Tensor
}

/** Options of {@link forward}. */
export interface ForwardOptions {
  /** Called for every edge the sweep crosses, in the order it crosses them. */
  readonly observe?: (edge: TangentEdge) => void
  /**
   * What a numerics check names when a rule produces ∞ or NaN (see `Numerics`); by default
   * `tangent rule of sqrt (node 3, input 0)`.
   */
  readonly phase?: (node: Node, input: number) => string
}

/**
 * The forward sweep, the mirror of {@link backward}: given the tape and the tangents of some
 * values (by id), pushes them through every node's JVP rule in recording order (forward mode's
 * step, `pushTangent`, on recorded nodes) and returns every tangent it reaches. A node none of
 * whose inputs has a tangent gets none (a symbolic zero) and its rule is not evaluated; a
 * seeded value keeps its seed. An {@link ForwardOptions.observe} callback sees every edge the
 * sweep crosses (the teaching trace builds its tangent column with this sweep).
 *
 * @example
 * ```ts
 * import { tensor, mul, sin, Tape } from 'lamina-nn'
 * import assert from 'node:assert'
 * // record y = x·sin(x) once, then push the direction ẋ = 1 through the recorded nodes
 * const trace = new Tape.ReverseTrace(1)
 * const x = trace.variable(tensor(2))
 * const y = mul(x, sin(x))
 * const edges: Tape.TangentEdge[] = []
 * const tangents = Tape.forward(trace.recorded(y)()[1], new Map([[trace.idOf(x)!, tensor(1)]]), { observe: (e) => edges.push(e) })
 * assert.ok(Math.abs(tangents.get(trace.idOf(y)!)!.item() - (Math.sin(2) + 2 * Math.cos(2))) < 1e-15)
 * // three edges: x into sin, then x and sin(x) into the product
 * assert.deepStrictEqual(edges.map((e) => [e.node.prim, e.input]), [['sin', 0], ['mul', 0], ['mul', 1]])
 * ```
 */
export const forward = (tape: Tape, seeds: ReadonlyMap<number, Tensor>, options: ForwardOptions = {}): ReadonlyMap<number, Tensor> => {
  const { observe, phase = (node, i) => `tangent rule of ${node.prim} (node ${node.id}, input ${i})` } = options
  const tangents = new Map(seeds)
  for (const node of nodes(tape)) {
    if (seeds.has(node.id)) continue
    const inputs = node.inputs.map((input) => (input === null ? null : (tangents.get(input) ?? null)))
    const tangent = pushTangent(node.prim, node.context, inputs, {
      phase: (i) => phase(node, i),
      ...(observe === undefined ? {} : { observe: (term: TangentTerm) => observe({ node, source: node.inputs[term.input]!, ...term }) })
    })
    if (tangent !== null) tangents.set(node.id, tangent)
  }
  return tangents
}
