/**
 * The staging trace: a transformation level that records every primitive applied to its
 * values while it also computes them (each staged value carries its concrete primal, so code
 * that reads values — the losses' label checks — runs as it does eagerly).
 * Running a training step under it once gives the step as data: which primitive, on which
 * earlier values or constants, with which parameters.
 *
 * @module
 */
import { fresh } from '../ad/level.js'
import { userKernelOf } from '../ad/custom.js'
import { bind, isBuiltin, isUserPrimitive } from '../prim.js'
import * as Sh from '../shape.js'
import type { Prim, PrimParams } from '../prim.js'
import { fromTracer, tracerOf } from '../tensor.js'
import type { Tensor, Trace, Tracer } from '../tensor.js'
import { CompileError } from './error.js'
import { lowerings } from './lowering.js'
import type { CompiledOp, Role } from './graph.js'

/** An argument of a staged node: an earlier node, or a constant tensor (never traced here). */
export type StagedArg = { readonly tag: 'node'; readonly index: number } | { readonly tag: 'const'; readonly value: Tensor }

/** A recorded operation with its concrete result. */
export type StagedNode =
  | { readonly op: 'input'; readonly role: Role | 'seed'; readonly args: readonly []; readonly params: {}; readonly value: Tensor }
  | { readonly op: Prim | CompiledOp; readonly args: readonly StagedArg[]; readonly params: unknown; readonly value: Tensor }

interface StagedTracer extends Tracer {
  readonly index: number
}

/**
 * Records the primitives applied to its values. Arguments it does not own are constants;
 * an application to constants only is not recorded (it folds, as it would eagerly).
 */
export class StagingTrace implements Trace {
  readonly level = fresh()
  readonly nodes: StagedNode[] = []
  private readonly tensors: Tensor[] = []

  /** The node index of a value staged here, `undefined` for a constant. */
  indexOf(t: Tensor): number | undefined {
    const tracer = tracerOf(t)
    return tracer !== undefined && tracer.trace === this ? (tracer as StagedTracer).index : undefined
  }

  /** The staged tensor of node `index`. */
  tensor(index: number): Tensor {
    return this.tensors[index]!
  }

  /** A new input with example value `value`. */
  input(role: Role | 'seed', value: Tensor): Tensor {
    return this.record({ op: 'input', role, args: [], params: {}, value })
  }

  process(prim: string, args: readonly Tensor[], params: unknown): Tensor {
    const staged = args.map((a) => this.indexOf(a))
    if (staged.every((i) => i === undefined)) return bind(prim as Prim, args, params as PrimParams[Prim])
    // convolution and pooling are staged as their lowering onto the other primitives
    const lowering = lowerings[prim as Prim] as ((args: readonly Tensor[], params: unknown) => Tensor) | undefined
    if (lowering !== undefined) return lowering(args, params)
    if (!isBuiltin(prim)) {
      const user = isUserPrimitive(prim)
      if (!user || userKernelOf(prim) === undefined) {
        const why = user
          ? 'a primitive defined by user code without a GPU.js kernel expression (definePrimitive\'s kernel; customVjp and customJvp have none); train this model with the eager interpreter (Train.fit)'
          : 'it is not in the primitive table'
        throw new CompileError('unsupported-primitive', `compile: the step applies the primitive '${prim}', which the compiled interpreter cannot lower: ${why}`)
      }
      const out = args[0]!.shape
      if (!args.every((a) => Sh.equals(a.shape, out))) {
        throw new CompileError('unsupported-primitive', `compile: the user primitive '${prim}' has a kernel expression, which computes one element from the same element of each argument, but its arguments have shapes ${args.map((a) => Sh.show(a.shape)).join(', ')}`)
      }
    }
    const primals = args.map((a, i) => (staged[i] === undefined ? a : this.primal(staged[i]!)))
    const value = bind(prim as Prim, primals, params as PrimParams[Prim])
    return this.record({ op: prim as Prim, args: args.map((a, i) => this.argOf(a, staged[i])), params, value })
  }

  private primal(index: number): Tensor {
    return this.nodes[index]!.value
  }

  private argOf(a: Tensor, index: number | undefined): StagedArg {
    return index === undefined ? { tag: 'const', value: a } : { tag: 'node', index }
  }

  private record(node: StagedNode): Tensor {
    const index = this.nodes.length
    this.nodes.push(node)
    const tracer: StagedTracer = { level: this.level, primal: node.value, trace: this, index }
    const t = fromTracer(tracer)
    this.tensors.push(t)
    return t
  }
}
