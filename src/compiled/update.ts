/**
 * The optimizer's update as program nodes, from its {@link OptimizerDescription}: elementwise
 * primitives over each parameter leaf, its gradient and its slots, with the per-step scalars
 * (the learning rate of a schedule, Adam's bias corrections, AdamW's decay factor) read from
 * a small per-step table computed on the host. The formulas are those of `Optim` written in
 * the same order of operations, so float32 rounding is the only difference.
 *
 * @module
 */
import type { Optimizer, OptimizerDescription } from '../nn/optim.js'
import type { Shape } from '../shape.js'
import { CompileError } from './error.js'
import { scalar } from './graph.js'
import type { Builder, Ref } from './graph.js'

/** How the compiled step updates parameters: the state's slot names, the per-step scalars and the nodes. */
export interface UpdateRule {
  readonly kind: OptimizerDescription['kind']
  /** Slot names of the optimizer state, in the order `emit` takes and returns them. */
  readonly slots: readonly string[]
  /** Number of per-step scalars. */
  readonly hyperCount: number
  /** The per-step scalars of the update applied after `applied` earlier updates. */
  readonly hyper: (applied: number) => readonly number[]
  /**
   * Appends the update of one leaf: `hyper(i)` reads this step's scalar `i`; `decays` says
   * whether AdamW's weight decay applies to the leaf. Returns the new leaf and its new slots.
   */
  readonly emit: (b: Builder, leaf: LeafInputs) => { readonly param: Ref; readonly slots: readonly Ref[] }
}

/** What the update of one leaf reads. */
export interface LeafInputs {
  readonly shape: Shape
  readonly param: Ref
  readonly grad: Ref
  readonly slots: readonly Ref[]
  readonly hyper: (index: number) => Ref
  readonly decays: boolean
}

const slotsOf: { readonly [K in OptimizerDescription['kind']]: readonly string[] } = {
  sgd: [],
  momentum: ['velocity'],
  nesterov: ['velocity'],
  adagrad: ['sumOfSquares'],
  rmsprop: ['meanSquare'],
  adam: ['m', 'v']
}

/**
 * The update rule of an optimizer built by `Optim`; a {@link CompileError} naming it for an
 * optimizer without a description (a custom one, or one wrapped by `withClipping`).
 */
export const updateRule = (optimizer: Optimizer<unknown>): UpdateRule => {
  const d = (optimizer as { readonly description?: OptimizerDescription }).description
  if (d === undefined || !Object.prototype.hasOwnProperty.call(slotsOf, d.kind)) {
    const what = d === undefined ? 'an optimizer without a description (a custom optimizer, or one wrapped by Optim.withClipping)' : `the optimizer kind '${String((d as { kind?: unknown }).kind)}'`
    throw new CompileError(
      'unsupported-optimizer',
      `compile: cannot compile ${what}; the compiled step supports Optim.sgd, momentum, nesterov, adagrad, rmsprop, adam and adamw`
    )
  }
  const slots = slotsOf[d.kind]
  const lrOnly = (applied: number): readonly number[] => [d.lr(applied)]
  switch (d.kind) {
    case 'sgd':
      // θ − g·η
      return { kind: d.kind, slots, hyperCount: 1, hyper: lrOnly, emit: (b, { shape, param, grad, hyper }) => {
        return { param: b.elementwise('sub', [param, b.elementwise('mul', [grad, hyper(0)], shape)], shape), slots: [] }
      } }
    case 'momentum':
    case 'nesterov': {
      const { beta } = d
      return { kind: d.kind, slots, hyperCount: 1, hyper: lrOnly, emit: (b, { shape, param, grad, slots: [v], hyper }) => {
        // v ← v·β + g; θ − v·η (heavy ball) or θ − (g + v·β)·η (Nesterov)
        const v1 = b.elementwise('add', [b.elementwise('mul', [v!, scalar(beta)], shape), grad], shape)
        const direction = d.kind === 'momentum' ? v1 : b.elementwise('add', [grad, b.elementwise('mul', [v1, scalar(beta)], shape)], shape)
        return { param: b.elementwise('sub', [param, b.elementwise('mul', [direction, hyper(0)], shape)], shape), slots: [v1] }
      } }
    }
    case 'adagrad':
    case 'rmsprop': {
      const { eps } = d
      const keep = d.kind === 'rmsprop' ? 1 - d.decay : 1
      return { kind: d.kind, slots, hyperCount: 1, hyper: lrOnly, emit: (b, { shape, param, grad, slots: [s], hyper }) => {
        // G ← G + g² (AdaGrad) or E ← E + (g² − E)(1 − ρ) (RMSprop); θ − g·η / (√s + ε)
        const square = b.elementwise('mul', [grad, grad], shape)
        const s1 = d.kind === 'adagrad'
          ? b.elementwise('add', [s!, square], shape)
          : b.elementwise('add', [s!, b.elementwise('mul', [b.elementwise('sub', [square, s!], shape), scalar(keep)], shape)], shape)
        const denominator = b.elementwise('add', [b.elementwise('sqrt', [s1], shape), scalar(eps)], shape)
        const step = b.elementwise('div', [b.elementwise('mul', [grad, hyper(0)], shape), denominator], shape)
        return { param: b.elementwise('sub', [param, step], shape), slots: [s1] }
      } }
    }
    case 'adam': {
      const { beta1, beta2, eps, weightDecay } = d
      return {
        kind: d.kind,
        slots,
        hyperCount: 3,
        // Optim.adam's scalars: scale = η·√(1 − β₂ᵗ)/(1 − β₁ᵗ), ε·√(1 − β₂ᵗ), and the decay factor 1 − η·λ
        hyper: (applied) => {
          const t = applied + 1
          const lr = d.lr(applied)
          const c2 = Math.sqrt(1 - beta2 ** t)
          return [(lr * c2) / (1 - beta1 ** t), eps * c2, 1 - lr * weightDecay]
        },
        emit: (b, { shape, param, grad, slots: [m, v], hyper, decays }) => {
          // m ← m + (g − m)(1 − β₁), v ← v + (g² − v)(1 − β₂), θ·keep − scale·m / (√v + ε′)
          const m1 = b.elementwise('add', [m!, b.elementwise('mul', [b.elementwise('sub', [grad, m!], shape), scalar(1 - beta1)], shape)], shape)
          const square = b.elementwise('mul', [grad, grad], shape)
          const v1 = b.elementwise('add', [v!, b.elementwise('mul', [b.elementwise('sub', [square, v!], shape), scalar(1 - beta2)], shape)], shape)
          const kept = decays ? b.elementwise('mul', [param, hyper(2)], shape) : param
          const denominator = b.elementwise('add', [b.elementwise('sqrt', [v1], shape), hyper(1)], shape)
          const step = b.elementwise('div', [b.elementwise('mul', [hyper(0), m1], shape), denominator], shape)
          return { param: b.elementwise('sub', [kept, step], shape), slots: [m1, v1] }
        }
      }
    }
  }
}
