/**
 * From two stagings of one step to its program. The step is staged on two different example
 * batches (other parameters, inputs, labels and random key); the two recordings must agree
 * node for node. Everything that follows the data is a staged value: the examples and the
 * labels are inputs, and what the losses and `logSoftmax` compute from them (the one-hot mask,
 * the binary targets, the max-shift) is recorded as primitives. So a constant equal in both
 * stagings is a true constant, and a constant that differs was computed on the host from the
 * values of the step, which a static plan cannot do: a `value-dependent` {@link CompileError}
 * naming the primitive that uses it.
 *
 * @module
 */
import type { Prim } from '../prim.js'
import * as Sh from '../shape.js'
import type { Shape } from '../shape.js'
import type { Buffer } from '../tensor.js'
import { CompileError } from './error.js'
import { scalar } from './graph.js'
import type { Builder, Graph, Ref } from './graph.js'
import type { StagedArg, StagedNode } from './stage.js'

/** One staging of a step: its nodes, and the loss and gradient nodes. */
export interface Staging {
  readonly nodes: readonly StagedNode[]
  readonly loss: number
  /** The gradient node of each parameter leaf (`undefined`: the loss does not depend on it). */
  readonly grads: readonly (number | undefined)[]
}

const sameBuffer = (a: Buffer, b: Buffer): boolean => a.length === b.length && a.every((v, i) => v === b[i] || (Number.isNaN(v) && Number.isNaN(b[i]!)))

/** Parameters compared by value; the select mask is compared separately. */
const sameParams = (p: unknown, q: unknown): boolean => {
  if (p === q) return true
  if (ArrayBuffer.isView(p) || ArrayBuffer.isView(q)) return true
  if (typeof p !== 'object' || typeof q !== 'object' || p === null || q === null) return false
  const kp = Object.keys(p)
  const kq = Object.keys(q)
  return kp.length === kq.length && kp.every((k) => sameParams((p as Record<string, unknown>)[k], (q as Record<string, unknown>)[k]))
}

const describeNode = (node: StagedNode, k: number): string => (node.op === 'input' ? `input node ${k}` : `${node.op} (node ${k})`)

const checkSameStructure = (a: StagedNode, b: StagedNode | undefined, k: number): void => {
  const differs = (what: string): never => {
    throw new CompileError(
      'value-dependent',
      `compile: the step's structure depends on its values: at ${describeNode(a, k)} two example batches gave different ${what}`
    )
  }
  if (b === undefined || a.op !== b.op) differs('primitives')
  if (!sameParams(a.params, b!.params)) differs('parameters')
  if (!Sh.equals(a.value.shape, b!.value.shape)) differs('shapes')
  if (a.args.length !== b!.args.length) differs('argument counts')
  a.args.forEach((x, i) => {
    const y = b!.args[i]!
    if (x.tag !== y.tag || (x.tag === 'node' && y.tag === 'node' && x.index !== y.index)) differs('arguments')
  })
}

/**
 * Appends to `g` the program of a step from two stagings of it on different example batches, and
 * answers its loss and gradients; throws a {@link CompileError} when the stagings differ in anything
 * but the values of their inputs.
 */
export const resolve = (a: Staging, b: Staging, g: Builder): Pick<Graph, 'loss' | 'grads'> => {
  if (a.nodes.length !== b.nodes.length) {
    throw new CompileError(
      'value-dependent',
      `compile: the step's structure depends on its values: two example batches gave ${a.nodes.length} and ${b.nodes.length} operations`
    )
  }
  const refs: Ref[] = []
  const constants = new Map<unknown, Ref>()

  /** A constant of `shape`, `va` in staging a and `vb` in staging b, as a reference (resolved once per tensor). */
  const resolveConstant = (va: Buffer, vb: Buffer, shape: Shape, k: number, identity: unknown): Ref => {
    const cached = constants.get(identity)
    if (cached !== undefined) return cached
    const ref = resolveFresh(va, vb, shape, k)
    constants.set(identity, ref)
    return ref
  }

  const resolveFresh = (va: Buffer, vb: Buffer, shape: Shape, k: number): Ref => {
    if (!sameBuffer(va, vb)) {
      throw new CompileError(
        'value-dependent',
        `compile: ${describeNode(a.nodes[k]!, k)} uses a constant of shape ${Sh.show(shape)} computed from the values of the step ` +
          '(it differs between two example batches: the step computed it on the host, not with primitives); ' +
          'masks drawn at random, as dropout draws them, and values read from the labels as numbers cannot be compiled'
      )
    }
    const uniform = va.every((v) => v === va[0])
    if (uniform && !Number.isFinite(va[0]!) && va.length > 0) {
      throw new CompileError('unsupported-model', `compile: ${describeNode(a.nodes[k]!, k)} uses the non-finite constant ${va[0]}`)
    }
    return uniform ? scalar(va[0] ?? 0) : { tag: 'array', data: Float32Array.from(va) }
  }

  a.nodes.forEach((na, k) => {
    const nb = b.nodes[k]
    checkSameStructure(na, nb, k)
    if (na.op === 'input') {
      refs.push(na.role === 'seed' ? scalar(1) : g.input(na.role, na.value.shape))
      return
    }
    const args = na.args.map((arg, i) => {
      if (arg.tag === 'node') return refs[arg.index]!
      const other = nb!.args[i]! as Extract<StagedArg, { tag: 'const' }>
      return resolveConstant(arg.value.data as Buffer, other.value.data as Buffer, arg.value.shape, k, arg.value)
    })
    const argShapes = na.args.map((arg) => (arg.tag === 'node' ? a.nodes[arg.index]!.value.shape : arg.value.shape))
    refs.push(g.op(na.op as Prim, args, na.params, na.value.shape, argShapes))
  })
  return {
    loss: refs[a.loss]!,
    grads: a.grads.map((i) => (i === undefined ? scalar(0) : refs[i]!))
  }
}

