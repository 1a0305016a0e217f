/**
 * The compiled interpreter's program: one training step as a list of nodes in topological
 * order. A node is a primitive of the table (the masks of derivative rules included: `compare`,
 * `sign`, `select`; the labels' one-hot mask and log-softmax's max-shift are such primitives
 * too) or an input. Arguments are other nodes or constants; a uniform constant is a scalar, so
 * it costs nothing at any index.
 *
 * @module
 */
import { userKernelOf } from '../ad/custom.js'
import { cpu } from '../backend/cpu.js'
import { kernelExpressions } from '../backend/kernel-expressions.js'
import type { BinaryOp, UnaryOp } from '../backend/backend.js'
import { relations } from '../prim.js'
import type { Prim, PrimParams } from '../prim.js'
import * as Sh from '../shape.js'
import type { Shape } from '../shape.js'

/** Ops that exist only in compiled programs: none, every node computes a primitive of the table. */
export type CompiledOp = never

/** Where an input's values come from, per step. */
export type Role =
  /** Leaf `leaf` of the parameters. */
  | { readonly kind: 'param'; readonly leaf: number }
  /** Leaf `leaf` of the optimizer's slot `slot` (a moment, a velocity). */
  | { readonly kind: 'slot'; readonly slot: number; readonly leaf: number }
  /** This step's minibatch of inputs `[batch, ...features]`. */
  | { readonly kind: 'x' }
  /** This step's labels as numbers `[batch]` (class indices). */
  | { readonly kind: 'labels' }
  /** This step's optimizer scalar `index` (learning rate, bias corrections), the same at every element. */
  | { readonly kind: 'hyper'; readonly index: number }

/** An argument: another node, a uniform constant, or a constant array of the consumer's argument shape. */
export type Ref =
  | { readonly tag: 'node'; readonly index: number }
  | { readonly tag: 'scalar'; readonly value: number }
  | { readonly tag: 'array'; readonly data: Float32Array }

/** One operation of the program. `shape` is its output shape. */
export type Node =
  | { readonly op: 'input'; readonly role: Role; readonly args: readonly []; readonly params: {}; readonly shape: Shape }
  | { readonly op: Prim | CompiledOp; readonly args: readonly Ref[]; readonly params: unknown; readonly shape: Shape }

/** A training step: its nodes, the loss and one gradient per parameter leaf. */
export interface Graph {
  readonly nodes: readonly Node[]
  readonly loss: Ref
  readonly grads: readonly Ref[]
}

/** A reference to node `index`. */
export const nodeRef = (index: number): Ref => ({ tag: 'node', index })

/** A uniform constant. */
export const scalar = (value: number): Ref => ({ tag: 'scalar', value })

/** Appends nodes to a program under construction and answers references to them. */
export class Builder {
  readonly nodes: Node[] = []

  push(node: Node): Ref {
    this.nodes.push(node)
    return nodeRef(this.nodes.length - 1)
  }

  input(role: Role, shape: Shape): Ref {
    return this.push({ op: 'input', role, args: [], params: {}, shape })
  }

  /**
   * A new node, or a constant or an argument when it folds (an op on uniform constants, a
   * select with a uniform mask). A non-elementwise op needs the shapes of its arguments, so a
   * constant argument of such an op is wrapped in a node of its shape (`argShapes` gives them).
   */
  op(op: Prim | CompiledOp, args: readonly Ref[], params: unknown, shape: Shape, argShapes?: readonly Shape[]): Ref {
    const folded = fold(op, args, params)
    if (folded !== undefined) return folded
    const shaped =
      isElementwise(op) || argShapes === undefined
        ? args
        : args.map((a, i) => {
            if (a.tag === 'node') return a
            const shape = argShapes[i]!
            // a uniform value as a shaped fill, a constant array as a view with its shape
            return this.push({ op: a.tag === 'scalar' ? 'broadcast' : 'reshape', args: [a], params: { shape }, shape })
          })
    return this.push({ op, args: shaped, params, shape })
  }

  /** An elementwise primitive over arguments of `shape` (scalars stand for any shape). */
  elementwise(op: Prim, args: readonly Ref[], shape: Shape, params: unknown = {}): Ref {
    return this.op(op, args, params, shape)
  }

  shapeOf(ref: Ref): Shape | undefined {
    return ref.tag === 'node' ? this.nodes[ref.index]!.shape : undefined
  }

  /** `ref` stretched to `shape` (a no-op when it already has it or is a scalar). */
  broadcast(ref: Ref, shape: Shape): Ref {
    const from = this.shapeOf(ref)
    if (from === undefined || Sh.equals(from, shape)) return ref
    return this.op('broadcast', [ref], { shape }, shape)
  }

  /** `ref` viewed with another shape of the same size. */
  reshape(ref: Ref, shape: Shape): Ref {
    const from = this.shapeOf(ref)
    if (from === undefined || Sh.equals(from, shape)) return ref
    return this.op('reshape', [ref], { shape }, shape)
  }
}

/**
 * Whether an op computes each output element from the same element of every argument: exactly
 * the ops with a GPU.js kernel expression (the total table of `backend/kernel-expressions.ts`,
 * or a user primitive's `kernel`), so a new elementwise primitive is declared there once.
 */
export const isElementwise = (op: Node['op']): boolean => Object.prototype.hasOwnProperty.call(kernelExpressions, op) || userKernelOf(op) !== undefined

const binaryOps: ReadonlySet<string> = new Set(['add', 'sub', 'mul', 'div', 'maximum', 'minimum'])
const structuralOps: ReadonlySet<string> = new Set(['reshape', 'broadcast', 'transpose', 'slice', 'stopGradient'])

/** The float32 value of an op on uniform constants, or the argument a select with a uniform mask picks. */
const fold = (op: Prim | CompiledOp, args: readonly Ref[], params: unknown): Ref | undefined => {
  if (op === 'select') {
    const mask = args[2]
    return mask?.tag === 'scalar' ? (mask.value !== 0 ? args[0] : args[1]) : undefined
  }
  if (!args.every((a) => a.tag === 'scalar')) return undefined
  const v = args.map((a) => (a as { readonly value: number }).value)
  const f32 = (x: number): Ref => scalar(Math.fround(x))
  if (structuralOps.has(op)) return args[0]
  // a user primitive's value is its kernel's, which only the kernel computes
  if (userKernelOf(op) !== undefined) return undefined
  if (op === 'power') return f32(Math.pow(v[0]!, v[1]!))
  if (binaryOps.has(op)) return f32(cpu.binary(op as BinaryOp, Float32Array.of(v[0]!), Float32Array.of(v[1]!), 'f32')[0]!)
  if (op === 'compare') return scalar(relations[(params as PrimParams['compare']).relation](v[0]!, v[1]!) ? 1 : 0)
  if (op === 'sign') return scalar(Math.sign(v[0]!))
  if (isElementwise(op)) return f32(cpu.unary(op as UnaryOp, Float32Array.of(v[0]!), 'f32', (params as { exponent?: number }).exponent)[0]!)
  // reductions of a uniform value depend on the argument's shape, which a scalar does not carry: not folded
  return undefined
}
