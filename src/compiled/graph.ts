/**
 * The compiled interpreter's program: one training step as a list of nodes in topological
 * order. A node is a primitive of the table, one of a few compiled-only elementwise ops (the
 * value-dependent parts of derivative rules, which the eager rules compute on the host), or an
 * input. Arguments are other nodes or constants; a uniform constant is a scalar, so it costs
 * nothing at any index.
 *
 * @module
 */
import { userKernelOf } from '../ad/custom.js'
import { cpu } from '../backend/cpu.js'
import type { BinaryOp, UnaryOp } from '../backend/backend.js'
import type { Prim } from '../prim.js'
import * as Sh from '../shape.js'
import type { Shape } from '../shape.js'

/** Elementwise ops the eager rules compute from primal values on the host and the compiled step computes in kernels. */
export type ElementwiseOp =
  /** `x > 0 ? 1 : 0`, the relu derivative. */
  | 'positive'
  /** `sign(x)`, the abs derivative (0 at 0). */
  | 'sign'
  /** `a > b ? 1 : a < b ? 0 : ½`, the weight of `a` in the derivative of maximum(a, b). */
  | 'greaterWeight'
  /** `a = b ? 1 : 0`, where a reduction's maximum is attained. */
  | 'equal'
  /** `x ⋈ threshold ? 1 : 0` for a relation ⋈ of {@link CompareParams}: a mask `where` was given by a comparison. */
  | 'compare'

/** The parameters of `compare`. */
export interface CompareParams {
  readonly relation: Relation
  readonly threshold: number
}

/** The comparisons `compare` makes. */
export type Relation = '>' | '<' | '>=' | '<=' | '=='

/** A relation as a function. */
export const relations: { readonly [R in Relation]: (x: number, c: number) => boolean } = {
  '>': (x, c) => x > c,
  '<': (x, c) => x < c,
  '>=': (x, c) => x >= c,
  '<=': (x, c) => x <= c,
  '==': (x, c) => x === c
}

/** Ops that exist only in compiled programs. */
export type CompiledOp =
  | ElementwiseOp
  /** The maximum over `axes` with non-finite results replaced by 0 (the constant shift of log-softmax), kept dims. */
  | 'stopMax'

/** Where an input's values come from, per step. */
export type Role =
  /** Leaf `leaf` of the parameters. */
  | { readonly kind: 'param'; readonly leaf: number }
  /** Leaf `leaf` of the optimizer's slot `slot` (a moment, a velocity). */
  | { readonly kind: 'slot'; readonly slot: number; readonly leaf: number }
  /** This step's minibatch of inputs `[batch, ...features]`. */
  | { readonly kind: 'x' }
  /** This step's labels as one-hot rows `[batch, classes]`. */
  | { readonly kind: 'onehot' }
  /** This step's labels as numbers `[batch]`. */
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
  elementwise(op: Prim | ElementwiseOp, args: readonly Ref[], shape: Shape, params: unknown = {}): Ref {
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

/** Whether an op computes each output element from the same element of every argument. */
export const isElementwise = (op: Node['op']): boolean => elementwiseOps.has(op) || userKernelOf(op) !== undefined

const elementwiseOps: ReadonlySet<string> = new Set([
  'add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'power', 'neg', 'stopGradient', 'pow', 'exp', 'log', 'sin', 'cos', 'tanh', 'sigmoid',
  'relu', 'abs', 'sqrt', 'erf', 'softplus', 'select', 'positive', 'sign', 'greaterWeight', 'equal', 'compare'
])

/** The values of the compiled-only elementwise ops (the kernels compute the same). */
export const elementwiseValues: { readonly [K in Exclude<ElementwiseOp, 'compare'>]: (a: number, b: number) => number } = {
  positive: (x) => (x > 0 ? 1 : 0),
  sign: (x) => Math.sign(x),
  greaterWeight: (a, b) => (a > b ? 1 : a < b ? 0 : 0.5),
  equal: (a, b) => (a === b ? 1 : 0)
}

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
  if (op === 'compare') {
    const { relation, threshold } = params as CompareParams
    return scalar(relations[relation](v[0]!, threshold) ? 1 : 0)
  }
  if (Object.prototype.hasOwnProperty.call(elementwiseValues, op)) return f32(elementwiseValues[op as Exclude<ElementwiseOp, 'compare'>](v[0]!, v[1] ?? 0))
  if (isElementwise(op)) return f32(cpu.unary(op as UnaryOp, Float32Array.of(v[0]!), 'f32', (params as { exponent?: number }).exponent)[0]!)
  // reductions of a uniform value depend on the argument's shape, which a scalar does not carry: not folded
  return undefined
}
