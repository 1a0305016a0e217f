/**
 * From two stagings of one step to its program. The step is staged on two different example
 * batches (other parameters, inputs, labels and random key); the two recordings must agree
 * node for node. A constant equal in both is a true constant. A constant that differs was
 * computed on the host from the values of the step, which a static plan cannot do, unless it
 * is recognised:
 * - an affine function of the labels (the one-hot mask of `crossEntropyWithLogits`, targets of
 *   the binary losses, `1 − 2y`): it becomes a read of this step's labels;
 * - the broadcast maximum of another argument with non-finite values replaced by 0 (the
 *   max-shift of `logSoftmax`): it becomes a `stopMax` node, so the shift follows the data;
 * Anything else is a `value-dependent` {@link CompileError} naming the primitive.
 *
 * @module
 */
import { cpu } from '../backend/cpu.js'
import type { Prim } from '../prim.js'
import * as Sh from '../shape.js'
import type { Shape } from '../shape.js'
import type { Buffer } from '../tensor.js'
import { CompileError } from './error.js'
import { scalar } from './graph.js'
import type { Builder, Graph, Ref } from './graph.js'
import type { StagedArg, StagedNode } from './stage.js'

/** One staging of a step: its nodes, the loss and gradient nodes, and the example labels. */
export interface Staging {
  readonly nodes: readonly StagedNode[]
  readonly loss: number
  /** The gradient node of each parameter leaf (`undefined`: the loss does not depend on it). */
  readonly grads: readonly (number | undefined)[]
  readonly labels: Int32Array
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

/** `y = alpha·x + beta` fitted through every pair, or `undefined` when no line fits. */
const fitAffine = (xs: readonly number[], ys: readonly number[]): { alpha: number; beta: number } | undefined => {
  const j = xs.findIndex((x) => x !== xs[0])
  if (j < 0) return undefined
  const alpha = (ys[j]! - ys[0]!) / (xs[j]! - xs[0]!)
  const beta = ys[0]! - alpha * xs[0]!
  if (!Number.isFinite(alpha) || !Number.isFinite(beta)) return undefined
  // the constant was computed in the staging dtype (float32): allow its rounding, nothing more
  const fits = xs.every((x, i) => Math.abs(alpha * x + beta - ys[i]!) <= 1e-6 * (Math.abs(ys[i]!) + Math.abs(alpha) + Math.abs(beta)))
  return fits ? { alpha, beta } : undefined
}

/** The label features a constant of `shape` may be an affine function of, per staging. */
const labelFeatures = (shape: Shape, labels: Int32Array): { kind: 'onehot' | 'labels'; values: number[] }[] => {
  const batch = labels.length
  const n = Sh.size(shape)
  const out: { kind: 'onehot' | 'labels'; values: number[] }[] = []
  if (shape.length === 2 && shape[0] === batch && labels.every((l) => l < shape[1]!)) {
    const k = shape[1]!
    out.push({ kind: 'onehot', values: Array.from({ length: n }, (_, i) => (labels[Math.floor(i / k)] === i % k ? 1 : 0)) })
  }
  if (shape.length >= 1 && shape[0] === batch && batch > 0) {
    const row = n / batch
    out.push({ kind: 'labels', values: Array.from({ length: n }, (_, i) => labels[Math.floor(i / row)]!) })
  }
  return out
}

/** The maximum of `x` over `axes`, non-finite values replaced by 0, broadcast back: `logSoftmax`'s shift. */
const shiftByMax = (x: Buffer, shape: Shape, axes: readonly number[]): Buffer => {
  const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d))
  const peak = cpu.map(cpu.reduce(x, shape, axes, 'max', 'f64'), (v) => (Number.isFinite(v) ? v : 0), 'f64')
  return cpu.broadcastTo(peak, kept, shape, 'f64')
}

/**
 * Appends to `g` the program of a step from two stagings of it on different example batches, and
 * answers its loss and gradients; throws a {@link CompileError} when the stagings differ in anything
 * but the recognised constants.
 */
export const resolve = (a: Staging, b: Staging, g: Builder): Pick<Graph, 'loss' | 'grads'> => {
  if (a.nodes.length !== b.nodes.length) {
    throw new CompileError(
      'value-dependent',
      `compile: the step's structure depends on its values: two example batches gave ${a.nodes.length} and ${b.nodes.length} operations`
    )
  }
  const refs: Ref[] = []
  const inputs = new Map<string, Ref>()
  const constants = new Map<unknown, Ref>()
  const batch = a.labels.length

  const labelInput = (kind: 'onehot' | 'labels', shape: Shape): Ref => {
    const existing = inputs.get(kind)
    if (existing !== undefined) return existing
    const ref = g.input({ kind }, kind === 'onehot' ? shape : [batch])
    inputs.set(kind, ref)
    return ref
  }

  /** A value of `shape` that is `va` in staging a and `vb` in staging b, as a reference. */
  const resolveValues = (va: Buffer, vb: Buffer, shape: Shape, k: number, others: readonly StagedArg[], identity: unknown): Ref => {
    // a select's mask reaches its VJP's selects as the same buffer: resolved once, where its comparison's argument is at hand
    const cached = constants.get(identity)
    if (cached !== undefined) return cached
    const ref = resolveFresh(va, vb, shape, k, others)
    constants.set(identity, ref)
    return ref
  }

  const resolveFresh = (va: Buffer, vb: Buffer, shape: Shape, k: number, others: readonly StagedArg[]): Ref => {
    if (sameBuffer(va, vb)) {
      const uniform = va.every((v) => v === va[0])
      if (uniform && !Number.isFinite(va[0]!) && va.length > 0) {
        throw new CompileError('unsupported-model', `compile: ${describeNode(a.nodes[k]!, k)} uses the non-finite constant ${va[0]}`)
      }
      return uniform ? scalar(va[0] ?? 0) : { tag: 'array', data: Float32Array.from(va) }
    }
    const fa = labelFeatures(shape, a.labels)
    const fb = labelFeatures(shape, b.labels)
    for (const feature of fa) {
      const other = fb.find((f) => f.kind === feature.kind)
      if (other === undefined) continue
      const fit = fitAffine([...feature.values, ...other.values], [...va, ...vb])
      if (fit === undefined) continue
      const source = feature.kind === 'onehot' ? labelInput('onehot', shape) : g.broadcast(g.reshape(labelInput('labels', [batch]), [batch, ...shape.slice(1).map(() => 1)]), shape)
      const scaled = fit.alpha === 1 ? source : g.elementwise('mul', [source, scalar(fit.alpha)], shape)
      return fit.beta === 0 ? scaled : g.elementwise('add', [scaled, scalar(fit.beta)], shape)
    }
    for (const other of others) {
      if (other.tag !== 'node') continue
      const xa = a.nodes[other.index]!.value
      const xb = b.nodes[other.index]!.value
      if (!Sh.equals(xa.shape, shape)) continue
      const candidates = [...shape.flatMap((d, i) => (d > 1 ? [[i]] : [])), shape.map((_, i) => i)]
      for (const axes of candidates) {
        if (!sameBuffer(shiftByMax(xa.data as Buffer, shape, axes), va) || !sameBuffer(shiftByMax(xb.data as Buffer, shape, axes), vb)) continue
        const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d))
        return g.broadcast(g.op('stopMax', [refs[other.index]!], { axes }, kept), shape)
      }
    }
    const node = a.nodes[k]!
    throw new CompileError(
      'value-dependent',
      `compile: ${describeNode(node, k)} uses a constant of shape ${Sh.show(shape)} computed from the values of the step ` +
        '(it differs between two example batches and is not an affine function of the labels or a max-shift); ' +
        'masks drawn at random, as dropout draws them, cannot be compiled'
    )
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
      return resolveValues(arg.value.data as Buffer, other.value.data as Buffer, arg.value.shape, k, na.args, arg.value)
    })
    const argShapes = na.args.map((arg) => (arg.tag === 'node' ? a.nodes[arg.index]!.value.shape : arg.value.shape))
    refs.push(g.op(na.op as Prim, args, na.params, na.value.shape, argShapes))
  })
  return {
    loss: refs[a.loss]!,
    grads: a.grads.map((i) => (i === undefined ? scalar(0) : refs[i]!))
  }
}

