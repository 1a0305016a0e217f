/**
 * Optimizers as pure values. An {@link Optimizer} is a pair of functions: `init(params)` builds
 * its state, and `update(grads, state, params)` returns the next parameters and the next state.
 * Nothing is mutated: parameters, gradients and states are trees of immutable tensors (any
 * nesting of arrays and plain records, see `Tree`), and every update returns new, frozen trees.
 *
 * The learning rate `lr` of every optimizer is a number or a `Schedule`, `(step) => lr`, called
 * with the number of updates already applied (0 for the first one). Every option is validated
 * when the optimizer is built (an `ArgumentError` naming the value), and a gradient tree whose
 * structure, shapes or dtypes differ from the parameters' is rejected with an error naming the
 * path of the first difference.
 *
 * @example
 * ```ts
 * import { Optim, grad, sum, square, sub, tensor } from 'lamina-nn'
 * import type { Tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * type Params = { readonly w: Tensor<[2], 'f64'> }
 * const loss = (p: Params) => sum(square(sub(p.w, 3)))      // minimum at w = [3, 3]
 * const opt = Optim.adam({ lr: 0.1 })
 * let params: Params = { w: tensor([0, 1]) }
 * let state = opt.init(params)
 * for (let i = 0; i < 300; i++) [params, state] = opt.update(grad(loss)(params), state, params)
 * assert.ok(params.w.toArray().every((x) => Math.abs(x - 3) < 1e-2))
 * assert.strictEqual(state.step, 300)
 * ```
 *
 * @module
 */
import { ArgumentError, DTypeError, ShapeError } from '../error.js'
import * as Backends from '../backend/current.js'
import { add, div, maximum, minimum, mul, sqrt, square, sub, sum } from '../ops.js'
import * as Sh from '../shape.js'
import { Tensor, allocate, concreteBuffer, fromOwnedBuffer, zeros } from '../tensor.js'
import type { Tree } from '../tree.js'
import type { Schedule } from './schedule.js'

// ================================================================ types

/** A learning rate: a fixed number, or a schedule from the number of updates already applied. */
export type LearningRate = number | Schedule

/**
 * A pure optimizer. `init` builds the state for a tree of parameters; `update` takes the
 * gradients (the same tree as the parameters, as `grad` returns it), the state and the
 * parameters, and returns new parameters and a new state. Neither function mutates anything.
 *
 * @example
 * ```ts
 * import { Optim, grad, sum, square, tensor } from 'lamina-nn'
 * import type { Tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * // code written against Optimizer<S> runs with every optimizer
 * const minimise = <S>(opt: Optim.Optimizer<S>, steps: number): number => {
 *   const loss = (w: Tensor<[1], 'f64'>) => sum(square(w))
 *   let w = tensor([1])
 *   let state = opt.init(w)
 *   for (let i = 0; i < steps; i++) [w, state] = opt.update(grad(loss)(w), state, w)
 *   return w.item()
 * }
 * assert.ok(Math.abs(minimise(Optim.sgd({ lr: 0.1 }), 100)) < 1e-6)
 * assert.ok(Math.abs(minimise(Optim.momentum({ lr: 0.1 }), 200)) < 1e-3)
 * ```
 */
export interface Optimizer<S> {
  /** The state before the first update. */
  init<P>(params: P): S
  /** One step: the new parameters and the new state. */
  update<P>(grads: NoInfer<P>, state: S, params: P): readonly [P, S]
  /** What `update` computes, as data, for other interpreters (the compiled step of `lamina-nn/gpu`); absent for custom optimizers. */
  readonly description?: OptimizerDescription
}

/**
 * An optimizer's update rule as data: its kind, its hyperparameters, and `lr` as the validated
 * learning rate at a step (called with the number of updates already applied). The state's
 * slots follow from the kind: none for `sgd`, `velocity` for `momentum` and `nesterov`,
 * `sumOfSquares` for `adagrad`, `meanSquare` for `rmsprop`, `m` and `v` for `adam` (and AdamW).
 * `decays(params)` tells, leaf by leaf in tree order, which parameters AdamW's weight decay applies to.
 *
 * @example
 * ```ts
 * import { Optim, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const d = Optim.adamw({ lr: 0.1, weightDecay: 0.5, mask: (path) => path !== 'b' }).description
 * assert.ok(d !== undefined && d.kind === 'adam')
 * assert.strictEqual(d.lr(0), 0.1)
 * assert.deepStrictEqual(d.decays({ w: tensor([1]), b: tensor([2]) }), [true, false])
 * ```
 */
export type OptimizerDescription =
  | { readonly kind: 'sgd'; readonly lr: (step: number) => number }
  | { readonly kind: 'momentum' | 'nesterov'; readonly lr: (step: number) => number; readonly beta: number }
  | { readonly kind: 'adagrad'; readonly lr: (step: number) => number; readonly eps: number }
  | { readonly kind: 'rmsprop'; readonly lr: (step: number) => number; readonly decay: number; readonly eps: number }
  | {
      readonly kind: 'adam'
      readonly lr: (step: number) => number
      readonly beta1: number
      readonly beta2: number
      readonly eps: number
      readonly weightDecay: number
      readonly decays: (params: unknown) => readonly boolean[]
    }

/** The state of {@link sgd}: the number of updates applied. */
export interface SgdState {
  readonly step: number
}

/** The state of {@link momentum} and {@link nesterov}: the step count and the velocity, a tree like the parameters. */
export interface MomentumState {
  readonly step: number
  readonly velocity: Tree
}

/** The state of {@link adagrad}: the step count and the running sum of squared gradients. */
export interface AdagradState {
  readonly step: number
  readonly sumOfSquares: Tree
}

/** The state of {@link rmsprop}: the step count and the moving average of squared gradients. */
export interface RmspropState {
  readonly step: number
  readonly meanSquare: Tree
}

/** The state of {@link adam} and {@link adamw}: the step count and the (biased) first and second moment estimates. */
export interface AdamState {
  readonly step: number
  /** Moving average of the gradients. */
  readonly m: Tree
  /** Moving average of the squared gradients. */
  readonly v: Tree
}

// ================================================================ validation

const show = (x: unknown): string =>
  typeof x === 'number' || typeof x === 'bigint' ? String(x) : typeof x === 'string' ? JSON.stringify(x) : x === null ? 'null' : typeof x

const checkOptions = (op: string, options: unknown, known: readonly string[]): Record<string, unknown> => {
  if (options === undefined) return {}
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ArgumentError(`${op}: expected an options record, got ${show(options)}`)
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new ArgumentError(`${op}: unknown option ${JSON.stringify(key)} (expected ${known.join(', ')})`)
  }
  return options as Record<string, unknown>
}

const nonNegative = (op: string, name: string, x: unknown): number => {
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) throw new ArgumentError(`${op}: ${name} must be a finite number ≥ 0, got ${show(x)}`)
  return x
}

const positive = (op: string, name: string, x: unknown): number => {
  if (typeof x !== 'number' || !Number.isFinite(x) || x <= 0) throw new ArgumentError(`${op}: ${name} must be a finite number > 0, got ${show(x)}`)
  return x
}

const unitInterval = (op: string, name: string, x: unknown): number => {
  if (typeof x !== 'number' || !(x >= 0 && x < 1)) throw new ArgumentError(`${op}: ${name} must be in [0, 1), got ${show(x)}`)
  return x
}

const learningRate = (op: string, x: unknown): ((step: number) => number) => {
  if (typeof x === 'function') {
    const schedule = x as Schedule
    return (step) => {
      const v: unknown = schedule(step)
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        throw new ArgumentError(`${op}: the learning-rate schedule gave ${show(v)} at step ${step}; expected a finite number ≥ 0`)
      }
      return v
    }
  }
  const lr = nonNegative(op, 'lr', x)
  return () => lr
}

// ================================================================ trees with paths

type Node =
  | { readonly kind: 'leaf' }
  | { readonly kind: 'array'; readonly children: readonly Node[] }
  | { readonly kind: 'record'; readonly keys: readonly string[]; readonly children: readonly Node[] }

/** A parameter tree taken apart: its leaves, their paths (`layers[0].w`, `''` for a root tensor) and its skeleton. */
interface Flat {
  readonly leaves: readonly Tensor[]
  readonly paths: readonly string[]
  readonly node: Node
}

const isPlainRecord = (x: unknown): x is Record<string, unknown> => {
  if (typeof x !== 'object' || x === null) return false
  const proto = Object.getPrototypeOf(x)
  return proto === Object.prototype || proto === null
}

const keyPath = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`)
const indexPath = (path: string, i: number): string => `${path}[${i}]`
const where = (path: string): string => (path === '' ? 'the root' : path)

const describe = (x: unknown): string => {
  if (x instanceof Tensor) return `a ${x.dtype} tensor of shape ${Sh.show(x.shape)}`
  if (Array.isArray(x)) return `an array of length ${x.length}`
  if (isPlainRecord(x)) return 'a record'
  if (x === null) return 'null'
  if (typeof x === 'object') return (x as object).constructor?.name ?? 'object'
  return typeof x
}

const flatten = (op: string, tree: unknown, label = 'params'): Flat => {
  const leaves: Tensor[] = []
  const paths: string[] = []
  const walk = (x: unknown, path: string): Node => {
    if (x instanceof Tensor) {
      leaves.push(x)
      paths.push(path)
      return { kind: 'leaf' }
    }
    if (Array.isArray(x)) return { kind: 'array', children: x.map((c, i) => walk(c, indexPath(path, i))) }
    if (isPlainRecord(x)) {
      const keys = Object.keys(x)
      return { kind: 'record', keys, children: keys.map((k) => walk(x[k], keyPath(path, k))) }
    }
    throw new DTypeError(`${op}: expected a float tensor (or an array or plain record of them) in ${label} at ${where(path)}, got ${describe(x)}`)
  }
  const node = walk(tree, '')
  return { leaves, paths, node }
}

/** Puts leaves (in `flat`'s order) back into its skeleton; every array and record is frozen. */
const rebuild = <P>(flat: Flat, leaves: readonly Tensor[]): P => {
  let next = 0
  const build = (node: Node): unknown => {
    switch (node.kind) {
      case 'leaf':
        return leaves[next++]
      case 'array':
        return Object.freeze(node.children.map(build))
      case 'record': {
        const out: Record<string, unknown> = {}
        node.keys.forEach((k, i) => Object.defineProperty(out, k, { value: build(node.children[i]!), enumerable: true }))
        return Object.freeze(out)
      }
    }
  }
  return build(flat.node) as P
}

/**
 * The leaves of `tree` in the order of `flat`'s leaves, checking that `tree` has the same
 * structure, shapes and dtypes; the error names the path of the first difference.
 */
const leavesLike = (op: string, label: string, tree: unknown, flat: Flat): readonly Tensor[] => {
  const out: Tensor[] = []
  const walk = (x: unknown, node: Node, path: string): void => {
    switch (node.kind) {
      case 'leaf': {
        const p = flat.leaves[out.length]!
        if (!(x instanceof Tensor)) {
          throw new ShapeError(`${op}: ${label} differ from params at ${where(path)}: expected a tensor of shape ${Sh.show(p.shape)}, got ${describe(x)}`)
        }
        if (!Sh.equals(x.shape, p.shape)) {
          throw new ShapeError(`${op}: ${label} differ from params at ${where(path)}: shape ${Sh.show(x.shape)}, params has ${Sh.show(p.shape)}`)
        }
        if (x.dtype !== p.dtype) throw new DTypeError(`${op}: ${label} differ from params at ${where(path)}: dtype ${x.dtype}, params has ${p.dtype}`)
        out.push(x)
        return
      }
      case 'array': {
        if (!Array.isArray(x) || x.length !== node.children.length) {
          throw new ShapeError(`${op}: ${label} differ from params at ${where(path)}: expected an array of length ${node.children.length}, got ${describe(x)}`)
        }
        node.children.forEach((c, i) => walk(x[i], c, indexPath(path, i)))
        return
      }
      case 'record': {
        if (!isPlainRecord(x)) throw new ShapeError(`${op}: ${label} differ from params at ${where(path)}: expected a record, got ${describe(x)}`)
        for (const k of Object.keys(x)) {
          if (!node.keys.includes(k)) throw new ShapeError(`${op}: ${label} differ from params at ${keyPath(path, k)}: params has no such entry`)
        }
        node.keys.forEach((k, i) => {
          if (!Object.prototype.hasOwnProperty.call(x, k)) throw new ShapeError(`${op}: ${label} differ from params at ${keyPath(path, k)}: missing`)
          walk(x[k], node.children[i]!, keyPath(path, k))
        })
      }
    }
  }
  walk(tree, flat.node, '')
  return out
}

const checkState = (op: string, state: unknown, slots: readonly string[]): Record<string, unknown> & { readonly step: number } => {
  if (!isPlainRecord(state)) throw new ArgumentError(`${op}: expected the state made by init, got ${describe(state)}`)
  const step = state['step']
  if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 0) {
    throw new ArgumentError(`${op}: the state's step must be an integer ≥ 0, got ${show(step)}`)
  }
  for (const s of slots) if (!(s in state)) throw new ArgumentError(`${op}: the state lacks ${JSON.stringify(s)}; build it with init`)
  return state as Record<string, unknown> & { readonly step: number }
}

// ================================================================ the optimizer builder

/** What a rule sees for one leaf. */
interface Leaf {
  readonly g: Tensor
  readonly p: Tensor
  /** The leaf's slots (moments), in the order the optimizer declared them. */
  readonly slots: readonly Tensor[]
  readonly path: string
}

/** What a rule sees for one update. */
interface Step {
  /** The learning rate of this update. */
  readonly lr: number
  /** The number of this update, counting from 1 (for bias corrections). */
  readonly t: number
}

type Rule = (leaf: Leaf, step: Step) => readonly [Tensor, readonly Tensor[]]

/**
 * An elementwise optimizer whose state is a step count and one tree per slot name, each
 * shaped like the parameters and starting at zero.
 */
const elementwise = <S extends { readonly step: number }>(
  op: string,
  slots: readonly string[],
  lr: (step: number) => number,
  rule: Rule,
  description: OptimizerDescription
): Optimizer<S> => ({
  description,
  init: (params) => {
    const flat = flatten(op, params)
    const state: Record<string, unknown> = { step: 0 }
    for (const s of slots) state[s] = rebuild(flat, flat.leaves.map((p) => zeros(p.shape, { dtype: p.dtype })))
    return Object.freeze(state) as unknown as S
  },
  update: <P>(grads: P, state: S, params: P) => {
    const flat = flatten(op, params)
    const gs = leavesLike(op, 'grads', grads, flat)
    const st = checkState(op, state, slots)
    const slotLeaves = slots.map((s) => leavesLike(op, `state.${s}`, st[s], flat))
    const step: Step = { lr: lr(st.step), t: st.step + 1 }
    const newParams: Tensor[] = []
    const newSlots: Tensor[][] = slots.map(() => [])
    flat.leaves.forEach((p, i) => {
      const [q, ss] = rule({ g: gs[i]!, p, slots: slotLeaves.map((l) => l[i]!), path: flat.paths[i]! }, step)
      newParams.push(q)
      ss.forEach((s, j) => newSlots[j]!.push(s))
    })
    const next: Record<string, unknown> = { step: step.t }
    slots.forEach((s, j) => (next[s] = rebuild(flat, newSlots[j]!)))
    return [rebuild<P>(flat, newParams), Object.freeze(next) as unknown as S] as const
  }
})

// ================================================================ optimizers

/** Options of {@link sgd}. */
export interface SgdOptions {
  /** Learning rate η (default 0.01). */
  readonly lr?: LearningRate
}

/**
 * Plain gradient descent (seed 000): `θ ← θ − η ∇θ`.
 *
 * @example
 * ```ts
 * import { Optim, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const opt = Optim.sgd({ lr: 0.5 })
 * const params = { w: tensor([1, 2]) }
 * const [next, state] = opt.update({ w: tensor([2, -2]) }, opt.init(params), params)
 * assert.deepStrictEqual(next.w.toArray(), [0, 3])
 * assert.strictEqual(state.step, 1)
 * ```
 */
export const sgd = (options?: SgdOptions): Optimizer<SgdState> => {
  const op = 'Optim.sgd'
  const o = checkOptions(op, options, ['lr'])
  const lr = learningRate(op, o['lr'] ?? 0.01)
  // one fused loop, as for Adam: updates are never differentiated
  return elementwise<SgdState>(op, [], lr, ({ g, p }, { lr }) => {
    // the current backend's fused update (the cpu's runs float32 on WebAssembly SIMD)
    return [fromOwnedBuffer(p.shape, p.dtype, Backends.current().sgdUpdate(concreteBuffer(p), concreteBuffer(g), lr, p.dtype)), []]
  }, { kind: 'sgd', lr })
}

/** Options of {@link momentum} and {@link nesterov}. */
export interface MomentumOptions {
  /** Learning rate η (default 0.01). */
  readonly lr?: LearningRate
  /** Momentum coefficient β in [0, 1) (default 0.9). */
  readonly beta?: number
}

/**
 * Heavy-ball momentum (Polyak): `v ← β v + ∇θ`, `θ ← θ − η v`. On a constant gradient `g` the
 * velocity is a geometric sum, `v_t = g (1 − βᵗ) / (1 − β)`, approaching `g / (1 − β)`.
 *
 * @example
 * ```ts
 * import { Optim, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const opt = Optim.momentum({ lr: 0.1, beta: 0.5 })
 * let params = [tensor([0])]
 * let state = opt.init(params)
 * ;[params, state] = opt.update([tensor([1])], state, params)  // v = 1,   θ = −0.1
 * ;[params, state] = opt.update([tensor([1])], state, params)  // v = 1.5, θ = −0.25
 * assert.ok(Math.abs(params[0]!.item() + 0.25) < 1e-15)
 * ```
 */
export const momentum = (options?: MomentumOptions): Optimizer<MomentumState> => {
  const op = 'Optim.momentum'
  const o = checkOptions(op, options, ['lr', 'beta'])
  const lr = learningRate(op, o['lr'] ?? 0.01)
  const beta = unitInterval(op, 'beta', o['beta'] ?? 0.9)
  return elementwise<MomentumState>(op, ['velocity'], lr, ({ g, p, slots: [v] }, { lr }) => {
    const [gb, pb, vb] = [concreteBuffer(g), concreteBuffer(p), concreteBuffer(v!)]
    const q = allocate(p.dtype, pb.length)
    const v1 = allocate(p.dtype, pb.length)
    for (let i = 0; i < pb.length; i++) {
      v1[i] = vb[i]! * beta + gb[i]!
      q[i] = pb[i]! - v1[i]! * lr
    }
    return [fromOwnedBuffer(p.shape, p.dtype, q), [fromOwnedBuffer(p.shape, p.dtype, v1)]]
  }, { kind: 'momentum', lr, beta })
}

/**
 * Nesterov momentum (in the form of Sutskever et al., as PyTorch and optax write it):
 * `v ← β v + ∇θ`, `θ ← θ − η (∇θ + β v)`: the step looks ahead along the new velocity.
 *
 * @example
 * ```ts
 * import { Optim, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const opt = Optim.nesterov({ lr: 0.1, beta: 0.5 })
 * const params = tensor([0])
 * const [next] = opt.update(tensor([1]), opt.init(params), params) // v = 1, θ = −0.1 · (1 + 0.5)
 * assert.ok(Math.abs(next.item() + 0.15) < 1e-15)
 * ```
 */
export const nesterov = (options?: MomentumOptions): Optimizer<MomentumState> => {
  const op = 'Optim.nesterov'
  const o = checkOptions(op, options, ['lr', 'beta'])
  const lr = learningRate(op, o['lr'] ?? 0.01)
  const beta = unitInterval(op, 'beta', o['beta'] ?? 0.9)
  return elementwise<MomentumState>(op, ['velocity'], lr, ({ g, p, slots: [v] }, { lr }) => {
    const v1 = add(mul(v!, beta), g)
    return [sub(p, mul(add(g, mul(v1, beta)), lr)), [v1]]
  }, { kind: 'nesterov', lr, beta })
}

/** Options of {@link adagrad}. */
export interface AdagradOptions {
  /** Learning rate η (default 0.01). */
  readonly lr?: LearningRate
  /** ε > 0 added to the denominator (default 1e-10). */
  readonly eps?: number
}

/**
 * AdaGrad (Duchi et al.): `G ← G + ∇θ²`, `θ ← θ − η ∇θ / (√G + ε)`; each coordinate's step
 * shrinks with the squared gradients it has seen.
 *
 * @example
 * ```ts
 * import { Optim, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const opt = Optim.adagrad({ lr: 1 })
 * const params = tensor([0, 0])
 * const [next] = opt.update(tensor([3, -4]), opt.init(params), params) // G = g², so θ = −sign(g)
 * assert.ok(next.toArray().every((x, i) => Math.abs(x - [-1, 1][i]!) < 1e-9))
 * ```
 */
export const adagrad = (options?: AdagradOptions): Optimizer<AdagradState> => {
  const op = 'Optim.adagrad'
  const o = checkOptions(op, options, ['lr', 'eps'])
  const lr = learningRate(op, o['lr'] ?? 0.01)
  const eps = positive(op, 'eps', o['eps'] ?? 1e-10)
  return elementwise<AdagradState>(op, ['sumOfSquares'], lr, ({ g, p, slots: [s] }, { lr }) => {
    const s1 = add(s!, square(g))
    return [sub(p, div(mul(g, lr), add(sqrt(s1), eps))), [s1]]
  }, { kind: 'adagrad', lr, eps })
}

/** Options of {@link rmsprop}. */
export interface RmspropOptions {
  /** Learning rate η (default 0.001). */
  readonly lr?: LearningRate
  /** Decay ρ of the moving average, in [0, 1) (default 0.9). */
  readonly decay?: number
  /** ε > 0 added to the denominator (default 1e-8). */
  readonly eps?: number
}

/**
 * RMSprop (Hinton): `E ← ρ E + (1 − ρ) ∇θ²`, `θ ← θ − η ∇θ / (√E + ε)`.
 *
 * @example
 * ```ts
 * import { Optim, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const opt = Optim.rmsprop({ lr: 0.1, decay: 0.75 })
 * const params = tensor([0])
 * const [next] = opt.update(tensor([2]), opt.init(params), params) // E = 0.25 · 4 = 1, θ = −0.1 · 2 / 1
 * assert.ok(Math.abs(next.item() + 0.2) < 1e-7)
 * ```
 */
export const rmsprop = (options?: RmspropOptions): Optimizer<RmspropState> => {
  const op = 'Optim.rmsprop'
  const o = checkOptions(op, options, ['lr', 'decay', 'eps'])
  const lr = learningRate(op, o['lr'] ?? 0.001)
  const decay = unitInterval(op, 'decay', o['decay'] ?? 0.9)
  const eps = positive(op, 'eps', o['eps'] ?? 1e-8)
  return elementwise<RmspropState>(op, ['meanSquare'], lr, ({ g, p, slots: [e] }, { lr }) => {
    const e1 = add(e!, mul(sub(square(g), e!), 1 - decay)) // = ρ E + (1 − ρ) g², one scalar product fewer
    return [sub(p, div(mul(g, lr), add(sqrt(e1), eps))), [e1]]
  }, { kind: 'rmsprop', lr, decay, eps })
}

/** Options of {@link adam}. */
export interface AdamOptions {
  /** Learning rate η (default 0.001). */
  readonly lr?: LearningRate
  /** Decay β₁ of the first moment, in [0, 1) (default 0.9). */
  readonly beta1?: number
  /** Decay β₂ of the second moment, in [0, 1) (default 0.999). */
  readonly beta2?: number
  /** ε > 0 added to the denominator (default 1e-8). */
  readonly eps?: number
}

/** Options of {@link adamw}. */
export interface AdamWOptions extends AdamOptions {
  /** Decoupled weight decay λ ≥ 0 (default 0.01). */
  readonly weightDecay?: number
  /**
   * Which leaves decay, by path (`layers[0].w`; `''` for a root tensor) and tensor; default all.
   * `(path) => !path.endsWith('b')` spares biases named `b`; `(_, leaf) => leaf.rank >= 2` decays only matrices.
   */
  readonly mask?: (path: string, leaf: Tensor) => boolean
}

const adamLike = (op: string, o: Record<string, unknown>, weightDecay: number, mask: (path: string, leaf: Tensor) => boolean): Optimizer<AdamState> => {
  const lr = learningRate(op, o['lr'] ?? 0.001)
  const beta1 = unitInterval(op, 'beta1', o['beta1'] ?? 0.9)
  const beta2 = unitInterval(op, 'beta2', o['beta2'] ?? 0.999)
  const eps = positive(op, 'eps', o['eps'] ?? 1e-8)
  return elementwise<AdamState>(op, ['m', 'v'], lr, ({ g, p, slots: [m, v], path }, { lr, t }) => {
    // m ← β₁ m + (1 − β₁) g, v ← β₂ v + (1 − β₂) g², and the step η m̂ / (√v̂ + ε) with
    // m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ), multiplied above and below by √(1 − β₂ᵗ) so the
    // corrections become two scalars (Kingma & Ba, end of section 2); decoupled decay
    // θ (1 − η λ) − step = θ − η (m̂ / (√v̂ + ε) + λ θ).
    // Updates are never differentiated, so this runs as one fused loop over the buffers
    // rather than a dozen whole-tensor operations (several times faster on 784×128 weights).
    const c2 = Math.sqrt(1 - beta2 ** t)
    const scale = (lr * c2) / (1 - beta1 ** t)
    const epsilon = eps * c2
    const keep = weightDecay > 0 && mask(path, p) ? 1 - lr * weightDecay : 1
    // the current backend's fused update (the cpu's runs float32 on WebAssembly SIMD: a third of an MLP step's time was in this loop)
    const next = Backends.current().adamUpdate(concreteBuffer(p), concreteBuffer(g), concreteBuffer(m!), concreteBuffer(v!), { keep, scale, eps: epsilon, c1: 1 - beta1, c2: 1 - beta2 }, p.dtype)
    return [fromOwnedBuffer(p.shape, p.dtype, next.p), [fromOwnedBuffer(p.shape, p.dtype, next.m), fromOwnedBuffer(p.shape, p.dtype, next.v)]]
  }, {
    kind: 'adam',
    lr,
    beta1,
    beta2,
    eps,
    weightDecay,
    decays: (params) => {
      const flat = flatten(op, params)
      return flat.leaves.map((p, i) => weightDecay > 0 && mask(flat.paths[i]!, p))
    }
  })
}

/**
 * Adam (Kingma & Ba) with bias correction: `m ← β₁ m + (1 − β₁) ∇θ`, `v ← β₂ v + (1 − β₂) ∇θ²`,
 * `θ ← θ − η m̂ / (√v̂ + ε)` where `m̂ = m / (1 − β₁ᵗ)`, `v̂ = v / (1 − β₂ᵗ)`. The first step moves
 * every coordinate by about `η`, whatever the gradient's scale.
 *
 * @example
 * ```ts
 * import { Optim, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const opt = Optim.adam({ lr: 0.01 })
 * const params = tensor([1, 1, 1])
 * const [next] = opt.update(tensor([1e-3, -5, 100]), opt.init(params), params)
 * assert.ok(next.toArray().every((x, i) => Math.abs(x - [0.99, 1.01, 0.99][i]!) < 1e-6))
 * ```
 */
export const adam = (options?: AdamOptions): Optimizer<AdamState> => {
  const op = 'Optim.adam'
  const o = checkOptions(op, options, ['lr', 'beta1', 'beta2', 'eps'])
  return adamLike(op, o, 0, () => false)
}

/**
 * AdamW (Loshchilov & Hutter): Adam with weight decay decoupled from the gradient,
 * `θ ← θ − η (m̂ / (√v̂ + ε) + λ θ)`. Unlike adding `λ θ` to the gradient (L2 regularisation),
 * the decay is not rescaled by Adam's per-coordinate step size. `mask` chooses the leaves that decay.
 *
 * @example
 * ```ts
 * import { Optim, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const opt = Optim.adamw({ lr: 0.1, weightDecay: 0.5, mask: (path) => path !== 'b' })
 * const params = { w: tensor([2]), b: tensor([2]) }
 * const grads = { w: tensor([0]), b: tensor([0]) }                 // no gradient: only the decay acts
 * const [next] = opt.update(grads, opt.init(params), params)
 * assert.ok(Math.abs(next.w.item() - 1.9) < 1e-15)                  // 2 − 0.1 · 0.5 · 2
 * assert.strictEqual(next.b.item(), 2)                              // masked out
 * ```
 */
export const adamw = (options?: AdamWOptions): Optimizer<AdamState> => {
  const op = 'Optim.adamw'
  const o = checkOptions(op, options, ['lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'mask'])
  const weightDecay = nonNegative(op, 'weightDecay', o['weightDecay'] ?? 0.01)
  const mask = o['mask'] ?? (() => true)
  if (typeof mask !== 'function') throw new ArgumentError(`${op}: mask must be a function (path, leaf) => boolean, got ${show(mask)}`)
  return adamLike(op, o, weightDecay, mask as (path: string, leaf: Tensor) => boolean)
}

// ================================================================ clipping

/** A gradient transformation applied before an optimizer's update; see {@link withClipping}. */
export type Clip = <P>(grads: P) => P

/**
 * The Euclidean norm of all the leaves of a tree together, `√(Σ x²)`.
 *
 * @example
 * ```ts
 * import { Optim, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Optim.globalNorm({ a: tensor([3]), b: [tensor([[4]])] }), 5)
 * ```
 */
export const globalNorm = (tree: unknown): number => {
  const { leaves } = flatten('Optim.globalNorm', tree, 'the tree')
  let total = 0
  for (const x of leaves) total += sum(square(x)).item()
  return Math.sqrt(total)
}

/**
 * Clamps every gradient element into `[−limit, limit]` (`limit > 0`).
 *
 * @example
 * ```ts
 * import { Optim, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const clipped = Optim.clipByValue({ w: tensor([-3, 0.5, 2]) }, 1)
 * assert.deepStrictEqual(clipped.w.toArray(), [-1, 0.5, 1])
 * ```
 */
export const clipByValue = <P>(grads: P, limit: number): P => {
  const op = 'Optim.clipByValue'
  if (typeof limit !== 'number' || !(limit > 0)) throw new ArgumentError(`${op}: limit must be a number > 0, got ${show(limit)}`)
  const flat = flatten(op, grads, 'grads')
  return rebuild<P>(flat, flat.leaves.map((g) => minimum(maximum(g, -limit), limit)))
}

/**
 * Rescales the gradients so that their global norm (over all leaves) is at most `maxNorm`,
 * keeping their direction, and returns them with the norm they had. Gradients within the
 * bound come back unchanged; so do gradients whose norm is not finite (check the returned
 * norm to catch a diverging run).
 *
 * @example
 * ```ts
 * import { Optim, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const [clipped, norm] = Optim.clipByGlobalNorm({ a: tensor([3]), b: tensor([4]) }, 1)
 * assert.strictEqual(norm, 5)
 * assert.ok(Math.abs(clipped.a.item() - 0.6) < 1e-15 && Math.abs(clipped.b.item() - 0.8) < 1e-15)
 * ```
 */
export const clipByGlobalNorm = <P>(grads: P, maxNorm: number): readonly [P, number] => {
  const op = 'Optim.clipByGlobalNorm'
  if (typeof maxNorm !== 'number' || !(maxNorm > 0)) throw new ArgumentError(`${op}: maxNorm must be a number > 0, got ${show(maxNorm)}`)
  const flat = flatten(op, grads, 'grads')
  const norm = globalNorm(grads)
  if (!(norm > maxNorm) || !Number.isFinite(norm)) return [rebuild<P>(flat, flat.leaves), norm]
  const scale = maxNorm / norm
  return [rebuild<P>(flat, flat.leaves.map((g) => mul(g, scale))), norm]
}

/**
 * Composes gradient transformations left to right: `chain(a, b)` applies `a`, then `b`.
 *
 * @example
 * ```ts
 * import { Optim, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const clip = Optim.chain((g) => Optim.clipByGlobalNorm(g, 5)[0], (g) => Optim.clipByValue(g, 2))
 * assert.deepStrictEqual(clip([tensor([30, 40])])[0]!.toArray(), [2, 2]) // [3, 4], then each ≤ 2
 * ```
 */
export const chain = (...clips: readonly Clip[]): Clip => {
  clips.forEach((c, i) => {
    if (typeof c !== 'function') throw new ArgumentError(`Optim.chain: argument ${i} must be a function (grads) => grads, got ${show(c)}`)
  })
  return <P>(grads: P): P => clips.reduce<P>((g, c) => c(g), grads)
}

/**
 * An optimizer that transforms the gradients with `clip` before each update, e.g.
 * `(g) => Optim.clipByGlobalNorm(g, 1)[0]`. The gradients are checked against the parameters
 * first, so a mismatch is reported as the inner optimizer would report it.
 *
 * @example
 * ```ts
 * import { Optim, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const opt = Optim.withClipping(Optim.sgd({ lr: 1 }), (g) => Optim.clipByValue(g, 0.5))
 * const params = [tensor([0, 0])]
 * const [next] = opt.update([tensor([10, -0.25])], opt.init(params), params)
 * assert.deepStrictEqual(next[0]!.toArray(), [-0.5, 0.25])
 * ```
 */
export const withClipping = <S>(optimizer: Optimizer<S>, clip: Clip): Optimizer<S> => {
  const op = 'Optim.withClipping'
  if (typeof optimizer !== 'object' || optimizer === null || typeof optimizer.init !== 'function' || typeof optimizer.update !== 'function') {
    throw new ArgumentError(`${op}: expected an optimizer with init and update, got ${describe(optimizer)}`)
  }
  if (typeof clip !== 'function') throw new ArgumentError(`${op}: clip must be a function (grads) => grads, got ${show(clip)}`)
  return {
    init: (params) => optimizer.init(params),
    update: (grads, state, params) => {
      leavesLike(op, 'grads', grads, flatten(op, params))
      return optimizer.update(clip(grads), state, params)
    }
  }
}
