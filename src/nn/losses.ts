/**
 * Losses: pure functions `(prediction, target, options?) => Tensor<[]>` built only from the
 * differentiable ops, so every loss differentiates in both modes, to any order, with respect
 * to the prediction (and to a target given as a tensor). Inputs are batch-major: a batch of
 * `B` predictions is `[B]` (one number each: regression, binary logits, scores) or `[B, …]`,
 * and the class losses take `[B, K]` for `K` classes.
 *
 * Every loss first computes one loss per example, a `[B]` vector, then reduces it by the
 * `reduction` option: `'mean'` (the default) averages over the batch, `'sum'` adds, and
 * `'none'` returns the `[B]` vector. For the elementwise losses (`mse`, `l1`, the binary
 * cross-entropies, `logisticLoss`) the loss of an example with several outputs `[B, K]` is
 * the mean over its outputs, so `'mean'` is the mean over every element.
 *
 * The numerically stable forms of seed 003 are used: binary cross-entropy on logits is the
 * softplus form ζ((1 − 2y)z), cross-entropy on logits goes through the log-sum-exp
 * `logSoftmax`, so both stay finite, with finite gradients, for logits of any size.
 *
 * Labels and targets are data: values are read from them only to check them (a class index
 * out of range, a target outside [0, 1]), never to compute a loss. Integer labels become a
 * `[B]` tensor, and the one-hot mask and the binary targets are computed from it with
 * primitives (`compare` against the class indices, `reshape`), so a compiled step, which
 * stages the labels as an input, sees the mask follow them.
 *
 * @example
 * ```ts
 * import { tensor, grad, Loss } from 'lamina-nn'
 * import type { Tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * // three examples, two classes, labels as class indices
 * const logits = tensor([[2, 0], [0, 1], [1, 1]])
 * const loss = (z: Tensor<[3, 2], 'f64'>) => Loss.crossEntropyWithLogits(z, [0, 1, 1])
 * assert.ok(loss(logits).item() > 0)
 * // ∂L/∂z = (softmax(z) − onehot(y)) / B
 * const g = grad(loss)(logits).toArray()
 * assert.ok(Math.abs(g[2]![0]! - 0.5 / 3) < 1e-15 && Math.abs(g[2]![1]! + 0.5 / 3) < 1e-15)
 * ```
 *
 * @module
 */
import { ArgumentError, DTypeError, ShapeError } from '../error.js'
import { abs, add, astype, equal, greater, less, log, logSoftmax, mean, mul, neg, reshape, softplus, square, sub, sum, where } from '../ops.js'
import * as Sh from '../shape.js'
import type { Shape } from '../shape.js'
import { Tensor, assertTensor } from '../tensor.js'
import type { DType } from '../tensor.js'
import { labelTensor, oneHotOf } from './label-tensor.js'

// ---------------------------------------------------------------- types

/**
 * How the per-example losses `[B]` become the result: `'mean'` over the batch (a scalar),
 * `'sum'` over the batch (a scalar), or `'none'` (the `[B]` vector itself).
 */
export type Reduction = 'mean' | 'sum' | 'none'

/** Options of every loss. */
export interface LossOptions<R extends Reduction = Reduction> {
  /** `'mean'` (default), `'sum'` or `'none'`. */
  readonly reduction?: R
}

/** Options of the losses on probabilities, which clip them away from 0 and 1 before taking logs. */
export interface ProbabilityLossOptions<R extends Reduction = Reduction> extends LossOptions<R> {
  /**
   * Probabilities are clipped into [ε, 1 − ε] before their logarithm is taken, so a
   * probability of exactly 0 or 1 costs about −log ε (≈ 16.1 for the default
   * {@link probabilityEpsilon} = 1e-7) instead of ∞. The clipped region has zero gradient.
   * Must lie in (0, 0.5).
   */
  readonly epsilon?: number
}

/** The result of a loss: a scalar, or the `[B]` per-example losses for `reduction: 'none'`. */
export type LossResult<R extends Reduction, D extends DType> = R extends 'none' ? Tensor<[number], D> : Tensor<[], D>

/**
 * Targets of the elementwise losses: a tensor of the prediction's shape and dtype, or plain
 * numbers (row-major, as many as the prediction has elements), which become a constant.
 */
export type Targets<D extends DType = DType> = Tensor<Shape, D> | ArrayLike<number>

/** Integer class indices in `0 … K−1`, one per example: a `number[]`, an `Int32Array`, … */
export type Labels = ArrayLike<number>

/**
 * Targets of the class losses: integer class indices ({@link Labels}, or a `[B]` tensor of
 * them), or a `[B, K]` tensor of one-hot rows or of target probabilities (soft labels).
 */
export type ClassTargets<D extends DType = DType> = Labels | Tensor<Shape, D>

/**
 * The default ε of the losses on probabilities: probabilities are clipped into [ε, 1 − ε]
 * before their logarithm is taken. 1e-7 is representable next to 1 in float32 too
 * (1 − 1e-7 rounds to 1 − 1.19e-7, still below 1).
 *
 * @example
 * ```ts
 * import { tensor, Loss } from 'lamina-nn'
 * import assert from 'node:assert'
 * // a confident wrong prediction costs −log ε, not ∞
 * const loss = Loss.binaryCrossEntropy(tensor([0]), tensor([1])).item()
 * assert.ok(Math.abs(loss + Math.log(Loss.probabilityEpsilon)) < 1e-9)
 * ```
 */
export const probabilityEpsilon = 1e-7

// ---------------------------------------------------------------- checks

const describe = (x: unknown): string => {
  if (typeof x === 'string') return JSON.stringify(x)
  if (x === null) return 'null'
  if (typeof x === 'object') return (x as object).constructor?.name ?? 'object'
  if (typeof x === 'function') return 'a function'
  return String(x)
}

const isArrayLike = (x: unknown): x is ArrayLike<number> =>
  typeof x === 'object' && x !== null && !(x instanceof Tensor) && typeof (x as { length?: unknown }).length === 'number'

const reductionOf = (options: LossOptions | undefined, op: string): Reduction => {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new ArgumentError(`${op}: options must be an object, got ${describe(options)}`)
  }
  const r: unknown = options?.reduction ?? 'mean'
  if (r !== 'mean' && r !== 'sum' && r !== 'none') {
    throw new ArgumentError(`${op}: reduction must be 'mean', 'sum' or 'none', got ${describe(r)}`)
  }
  return r
}

const epsilonOf = (options: ProbabilityLossOptions | undefined, op: string): number => {
  const eps: unknown = options?.epsilon ?? probabilityEpsilon
  if (typeof eps !== 'number' || !(eps > 0 && eps < 0.5)) {
    throw new ArgumentError(`${op}: epsilon must be a number in (0, 0.5), got ${describe(eps)}`)
  }
  return eps
}

/** The multi-index `[i,j,…]` of flat position `k` in `shape`. */
const indexIn = (shape: Shape, k: number): string => {
  const idx: number[] = []
  let rest = k
  for (let a = shape.length - 1; a >= 0; a--) {
    const d = shape[a]!
    idx.unshift(rest % d)
    rest = Math.floor(rest / d)
  }
  return Sh.show(idx)
}

/** Throws an `ArgumentError` naming the first element of `t` for which `ok` fails. */
const checkValues = (t: Tensor, op: string, what: string, ok: (v: number) => boolean, expected: string, hint = ''): void => {
  const data = t.data
  for (let k = 0; k < t.size; k++) {
    const v = data[k]!
    if (!ok(v)) throw new ArgumentError(`${op}: ${what} ${v} at ${indexIn(t.shape, k)} is not ${expected}${hint}`)
  }
}

const inUnitInterval = (v: number): boolean => v >= 0 && v <= 1

/** A batch of predictions: a tensor of rank ≥ 1 (rank exactly `rank` when given) with a non-empty example. */
const checkBatch = (x: unknown, op: string, what: string, rank?: number): Tensor => {
  assertTensor(x, op)
  if (rank === 2 && x.rank !== 2) {
    throw new ShapeError(`${op}: expected ${what} of shape [batch, classes], got shape ${Sh.show(x.shape)}`)
  }
  if (x.rank < 1) throw new ShapeError(`${op}: expected ${what} of shape [batch, …], got a scalar (shape [])`)
  if (x.shape.slice(1).some((d) => d === 0)) {
    throw new ShapeError(`${op}: ${what} of shape ${Sh.show(x.shape)} hold no values per example`)
  }
  return x
}

/** The target of an elementwise loss as a tensor of the prediction's shape and dtype. */
const targetTensor = (target: unknown, like: Tensor, op: string): Tensor => {
  if (target instanceof Tensor) {
    if (!Sh.equals(target.shape, like.shape)) {
      const which = target.rank >= 1 && target.shape[0] !== like.shape[0] ? 'batch sizes differ' : 'shapes differ'
      throw new ShapeError(`${op}: ${which}, prediction shape ${Sh.show(like.shape)} and target shape ${Sh.show(target.shape)}`)
    }
    if (target.dtype !== like.dtype) {
      throw new DTypeError(`${op}: dtypes differ, prediction ${like.dtype} and target ${target.dtype}; convert one with astype`)
    }
    return target
  }
  if (isArrayLike(target)) {
    if (target.length !== like.size) {
      throw new ShapeError(
        like.rank === 1
          ? `${op}: batch sizes differ, ${like.size} predictions (shape ${Sh.show(like.shape)}) and ${target.length} targets`
          : `${op}: ${target.length} targets do not fill the prediction shape ${Sh.show(like.shape)} (${like.size} elements)`
      )
    }
    // through the labels' tensor: a staged step's labels input when the numbers are its labels
    const targets = labelTensor(target, like.dtype)
    return Sh.equals(targets.shape, like.shape) ? targets : reshape(targets, like.shape)
  }
  throw new ArgumentError(`${op}: the target must be a tensor or an array of numbers, got ${describe(target)}`)
}

/** Checks integer class indices: as many as the batch, each an integer in 0 … K−1. */
const checkLabels = (labels: ArrayLike<number>, batch: number, classes: number, op: string): void => {
  if (labels.length !== batch) {
    throw new ShapeError(`${op}: batch sizes differ, ${batch} predictions and ${labels.length} labels`)
  }
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i]!
    if (typeof c !== 'number' || !Number.isInteger(c)) {
      throw new ArgumentError(`${op}: label ${describe(c)} at index ${i} is not an integer class index`)
    }
    if (c < 0 || c >= classes) {
      throw new ArgumentError(`${op}: label ${c} at index ${i} is out of range for ${classes} classes (0 … ${classes - 1})`)
    }
  }
}

/**
 * One-hot rows `[B, K]` for integer class indices: row `i` is 1 at column `labels[i]`,
 * computed with the `compare` primitive from the labels as a tensor (a constant, or the
 * labels input of a compiled step; no derivative flows through it). Throws an `ArgumentError` naming a label that is not an
 * integer in `0 … classes−1`.
 *
 * @example
 * ```ts
 * import { Loss, ArgumentError } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(Loss.oneHot([2, 0], 3).toArray(), [[0, 0, 1], [1, 0, 0]])
 * assert.throws(() => Loss.oneHot([3], 3), new ArgumentError('oneHot: label 3 at index 0 is out of range for 3 classes (0 … 2)'))
 * ```
 */
export const oneHot = <D extends DType = 'f64'>(labels: Labels, classes: number, options?: { readonly dtype?: D }): Tensor<[number, number], D> => {
  if (!isArrayLike(labels)) throw new ArgumentError(`oneHot: labels must be an array of class indices, got ${describe(labels)}`)
  if (!Number.isInteger(classes) || classes < 1) {
    throw new ArgumentError(`oneHot: the number of classes must be a positive integer, got ${describe(classes)}`)
  }
  checkLabels(labels, labels.length, classes, 'oneHot')
  return oneHotOf(labelTensor(labels, options?.dtype ?? 'f64'), classes) as Tensor<[number, number], D>
}

/** A class target, resolved: the one-hot mask of indices (through `compare`), or the `[B, K]` target tensor. */
type Resolved = { readonly kind: 'mask'; readonly mask: Tensor } | { readonly kind: 'dense'; readonly target: Tensor }

const resolveClassTargets = (target: unknown, like: Tensor, op: string): Resolved => {
  const [batch, classes] = like.shape as readonly [number, number]
  const mask = (labels: ArrayLike<number>, indices: Tensor): Resolved => {
    checkLabels(labels, batch, classes, op)
    return { kind: 'mask', mask: oneHotOf(indices, classes) }
  }
  if (target instanceof Tensor) {
    if (target.rank === 1) return mask(target.data as ArrayLike<number>, target.dtype === like.dtype ? target : astype(target, like.dtype))
    if (target.rank !== 2) {
      throw new ShapeError(
        `${op}: targets must be class indices of shape [batch] or rows of shape [batch, classes], got shape ${Sh.show(target.shape)}`
      )
    }
    if (!Sh.equals(target.shape, like.shape)) {
      const which = target.shape[0] !== batch ? 'batch sizes differ' : 'numbers of classes differ'
      throw new ShapeError(`${op}: ${which}, prediction shape ${Sh.show(like.shape)} and target shape ${Sh.show(target.shape)}`)
    }
    if (target.dtype !== like.dtype) {
      throw new DTypeError(`${op}: dtypes differ, prediction ${like.dtype} and target ${target.dtype}; convert one with astype`)
    }
    checkValues(target, op, 'target', inUnitInterval, 'a probability in [0, 1]')
    return { kind: 'dense', target }
  }
  if (isArrayLike(target)) return mask(target, labelTensor(target, like.dtype))
  throw new ArgumentError(`${op}: targets must be class indices (an array or a [batch] tensor) or a [batch, classes] tensor, got ${describe(target)}`)
}

/**
 * Σ_k t_k · log p_k per example (`logp` is [B, K]), with 0 · log 0 = 0: an entry whose
 * target is 0 and whose log-probability is −∞ adds 0, not NaN. For index labels the one-hot
 * mask selects the log-probability of the labelled class.
 */
const targetLogLikelihood = (t: Resolved, logp: Tensor): Tensor => {
  if (t.kind === 'mask') return sum(where(t.mask, logp, 0), 1)
  const bothZero = mul(equal(t.target, 0), equal(logp, -Infinity))
  return sum(where(sub(1, bothZero), mul(t.target, logp), 0), 1)
}

// ---------------------------------------------------------------- reductions

/** The per-example loss of an elementwise loss `[B, …]`: the mean over the trailing axes. */
const perExample = (x: Tensor): Tensor => (x.rank <= 1 ? x : mean(x, x.shape.slice(1).map((_, i) => i + 1)))

const reduce = (perExampleLoss: Tensor, reduction: Reduction, op: string): Tensor => {
  if (reduction === 'none') return perExampleLoss
  if (reduction === 'sum') return sum(perExampleLoss)
  if (perExampleLoss.shape[0] === 0) throw new ShapeError(`${op}: the mean over an empty batch is undefined; use reduction 'sum'`)
  return mean(perExampleLoss)
}

/** Clips probabilities into [ε, 1 − ε]; the derivative is 1 inside and 0 in the clipped region. */
const clip = (p: Tensor, eps: number): Tensor => where(less(p, eps), eps, where(greater(p, 1 - eps), 1 - eps, p))

const probabilityHint = (logitsLoss: string): string => `; for logits use ${logitsLoss}`

// ---------------------------------------------------------------- regression

/**
 * Mean squared error: the loss of an example is the mean of (ŷ − y)² over its outputs, and
 * the batch mean of it by default (seed 001's `(1/N) Σ (f(x) − y)²`). The constant that
 * minimizes it over a sample is the sample mean (seed 003: MSE predicts the mean).
 *
 * @example
 * ```ts
 * import { tensor, Loss } from 'lamina-nn'
 * import assert from 'node:assert'
 * const yHat = tensor([[1, 2], [3, 4]])
 * const y = tensor([[1, 0], [3, 0]])
 * assert.strictEqual(Loss.mse(yHat, y).item(), (0 + 4 + 0 + 16) / 4)
 * assert.strictEqual(Loss.mse(yHat, y, { reduction: 'sum' }).item(), 2 + 8)
 * assert.deepStrictEqual(Loss.mse(yHat, y, { reduction: 'none' }).toArray(), [2, 8])
 * assert.strictEqual(Loss.mse(tensor([1, 2]), [0, 0]).item(), 2.5) // targets as plain numbers
 * ```
 */
export const mse = <D extends DType, const R extends Reduction = 'mean'>(
  prediction: Tensor<Shape, D>,
  target: Targets<NoInfer<D>>,
  options?: LossOptions<R>
): LossResult<R, D> => {
  const op = 'mse'
  const reduction = reductionOf(options, op)
  const p = checkBatch(prediction, op, 'predictions')
  const y = targetTensor(target, p, op)
  return reduce(perExample(square(sub(p, y))), reduction, op) as LossResult<R, D>
}

/**
 * Mean absolute error (L1): the loss of an example is the mean of |ŷ − y| over its outputs.
 * The constant that minimizes it over a sample is a median (seed 003: L1 predicts the
 * median). At ŷ = y the derivative is taken as 0 (the subgradient of |x| at 0).
 *
 * @example
 * ```ts
 * import { tensor, Loss } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Loss.l1(tensor([1, -2, 3]), tensor([0, 0, 0])).item(), 2)
 * assert.deepStrictEqual(Loss.l1(tensor([[1, -3]]), tensor([[0, 0]]), { reduction: 'none' }).toArray(), [2])
 * ```
 */
export const l1 = <D extends DType, const R extends Reduction = 'mean'>(
  prediction: Tensor<Shape, D>,
  target: Targets<NoInfer<D>>,
  options?: LossOptions<R>
): LossResult<R, D> => {
  const op = 'l1'
  const reduction = reductionOf(options, op)
  const p = checkBatch(prediction, op, 'predictions')
  const y = targetTensor(target, p, op)
  return reduce(perExample(abs(sub(p, y))), reduction, op) as LossResult<R, D>
}

/** Options of {@link huber}. */
export interface HuberOptions<R extends Reduction = Reduction> extends LossOptions<R> {
  /** Where the loss turns from quadratic to linear: |ŷ − y| = δ, a positive number (default 1). */
  readonly delta?: number
}

/**
 * Huber loss: ½(ŷ − y)² where |ŷ − y| ≤ δ, δ(|ŷ − y| − ½δ) beyond; the loss of an example
 * is the mean over its outputs. Quadratic near the target like {@link mse}, linear far from
 * it like {@link l1}, so outliers pull with a bounded force: its derivative is ŷ − y inside
 * and δ·sign(ŷ − y) outside, continuous at |ŷ − y| = δ (the second derivative jumps there).
 * PyTorch's `HuberLoss(delta)`.
 *
 * @example
 * ```ts
 * import { tensor, grad, Loss } from 'lamina-nn'
 * import type { Tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * // residuals 0.5 (quadratic: 0.125) and −3 (linear: 1·(3 − 0.5) = 2.5)
 * assert.strictEqual(Loss.huber(tensor([0.5, -3]), tensor([0, 0])).item(), (0.125 + 2.5) / 2)
 * assert.strictEqual(Loss.huber(tensor([4]), tensor([0]), { delta: 2 }).item(), 2 * (4 - 1))
 * // the gradient is the residual inside δ and ±δ outside, divided by the batch size
 * const g = grad((p: Tensor<[2], 'f64'>) => Loss.huber(p, tensor([0, 0])))(tensor([0.5, -3]))
 * assert.deepStrictEqual(g.toArray(), [0.25, -0.5])
 * ```
 */
export const huber = <D extends DType, const R extends Reduction = 'mean'>(
  prediction: Tensor<Shape, D>,
  target: Targets<NoInfer<D>>,
  options?: HuberOptions<R>
): LossResult<R, D> => {
  const op = 'huber'
  const reduction = reductionOf(options, op)
  const delta: unknown = options?.delta ?? 1
  if (typeof delta !== 'number' || !(delta > 0) || !Number.isFinite(delta)) {
    throw new ArgumentError(`${op}: delta must be a positive finite number, got ${describe(delta)}`)
  }
  const p = checkBatch(prediction, op, 'predictions')
  const y = targetTensor(target, p, op)
  const r = sub(p, y)
  const size = abs(r)
  // both branches are computed; `where` passes each one's gradient only where it is taken
  const loss = where(greater(size, delta), mul(delta, sub(size, delta / 2)), mul(0.5, square(r)))
  return reduce(perExample(loss), reduction, op) as LossResult<R, D>
}

// ---------------------------------------------------------------- binary classification

/**
 * Binary cross-entropy on probabilities p = P(y = 1): −[y log p + (1 − y) log(1 − p)],
 * with p clipped into [ε, 1 − ε] (see {@link ProbabilityLossOptions.epsilon}). Targets are
 * in [0, 1] (hard labels 0/1 or soft labels). Prefer {@link binaryCrossEntropyWithLogits}:
 * the sigmoid saturates, and the log of a saturated probability loses the gradient (seed 003).
 *
 * @example
 * ```ts
 * import { tensor, Loss, ArgumentError } from 'lamina-nn'
 * import assert from 'node:assert'
 * const loss = Loss.binaryCrossEntropy(tensor([0.9, 0.2]), tensor([1, 0])).item()
 * assert.ok(Math.abs(loss - -(Math.log(0.9) + Math.log(0.8)) / 2) < 1e-15)
 * // logits by mistake: a clear error instead of NaN
 * assert.throws(() => Loss.binaryCrossEntropy(tensor([2.5]), tensor([1])), ArgumentError)
 * ```
 */
export const binaryCrossEntropy = <D extends DType, const R extends Reduction = 'mean'>(
  prediction: Tensor<Shape, D>,
  target: Targets<NoInfer<D>>,
  options?: ProbabilityLossOptions<R>
): LossResult<R, D> => {
  const op = 'binaryCrossEntropy'
  const reduction = reductionOf(options, op)
  const eps = epsilonOf(options, op)
  const p = checkBatch(prediction, op, 'probabilities')
  const y = targetTensor(target, p, op)
  checkValues(p, op, 'probability', inUnitInterval, 'in [0, 1]', probabilityHint('binaryCrossEntropyWithLogits'))
  checkValues(y, op, 'target', inUnitInterval, 'in [0, 1]')
  const pc = clip(p, eps)
  const loss = neg(add(mul(y, log(pc)), mul(sub(1, y), log(sub(1, pc)))))
  return reduce(perExample(loss), reduction, op) as LossResult<R, D>
}

/**
 * Binary cross-entropy on logits z (p = σ(z)), in seed 003's softplus form: for a label
 * y ∈ {0, 1}, −log P(y | z) = −log σ((2y − 1)z) = ζ((1 − 2y)z), where ζ(x) = log(1 + eˣ) is
 * the overflow-free `softplus`. It is computed as (1 − y)·ζ(z) + y·ζ(−z), which is exactly
 * ζ((1 − 2y)z) for y ∈ {0, 1} and equals ζ(z) − y·z for soft labels y ∈ [0, 1] without its
 * cancellation. Loss and gradient σ(z) − y stay finite for logits of any size (|z| = 1e4 and
 * beyond), and the loss saturates only where the answer is already right.
 *
 * @example
 * ```ts
 * import { tensor, grad, sum, Loss } from 'lamina-nn'
 * import type { Tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const zeta = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)))
 * const loss = Loss.binaryCrossEntropyWithLogits(tensor([2, -1e4]), tensor([0, 1]), { reduction: 'none' }).toArray()
 * assert.deepStrictEqual(loss, [zeta(2), 1e4])
 * // the gradient is σ(z) − y, finite even at |z| = 1e4
 * const g = grad((z: Tensor<[2], 'f64'>) => Loss.binaryCrossEntropyWithLogits(z, [1, 0], { reduction: 'sum' }))(tensor([1e4, 1e4]))
 * assert.deepStrictEqual(g.toArray(), [0, 1])
 * ```
 */
export const binaryCrossEntropyWithLogits = <D extends DType, const R extends Reduction = 'mean'>(
  logits: Tensor<Shape, D>,
  target: Targets<NoInfer<D>>,
  options?: LossOptions<R>
): LossResult<R, D> => {
  const op = 'binaryCrossEntropyWithLogits'
  const reduction = reductionOf(options, op)
  const z = checkBatch(logits, op, 'logits')
  const y = targetTensor(target, z, op)
  checkValues(y, op, 'target', inUnitInterval, 'in [0, 1]')
  const loss = add(mul(sub(1, y), softplus(z)), mul(y, softplus(neg(z))))
  return reduce(perExample(loss), reduction, op) as LossResult<R, D>
}

/**
 * Seed 001's logistic-regression loss for labels y ∈ {−1, +1} and scores z = w·x + b:
 * −log σ(y·z) = ζ(−y·z) (softplus), stable for scores of any size. The seed writes the sum
 * over the sample, −Σ log σ(yₙ(w·xₙ + b)): pass `reduction: 'sum'` for it; its gradient is
 * ∂L/∂zₙ = −yₙ σ(−yₙ zₙ). With y = 2t − 1 it equals {@link binaryCrossEntropyWithLogits}
 * for labels t ∈ {0, 1}.
 *
 * @example
 * ```ts
 * import { tensor, Loss } from 'lamina-nn'
 * import assert from 'node:assert'
 * const z = tensor([0, 3, -3])
 * const loss = Loss.logisticLoss(z, [1, -1, -1], { reduction: 'sum' }).item()
 * assert.ok(Math.abs(loss - (Math.log(2) + Math.log1p(Math.exp(3)) + Math.log1p(Math.exp(-3)))) < 1e-14)
 * ```
 */
export const logisticLoss = <D extends DType, const R extends Reduction = 'mean'>(
  scores: Tensor<Shape, D>,
  labels: Targets<NoInfer<D>>,
  options?: LossOptions<R>
): LossResult<R, D> => {
  const op = 'logisticLoss'
  const reduction = reductionOf(options, op)
  const z = checkBatch(scores, op, 'scores')
  const y = targetTensor(labels, z, op)
  checkValues(y, op, 'label', (v) => v === 1 || v === -1, '−1 or +1', ' (for labels 0/1 use binaryCrossEntropyWithLogits)')
  return reduce(perExample(softplus(neg(mul(y, z)))), reduction, op) as LossResult<R, D>
}

// ---------------------------------------------------------------- multi-class classification

/**
 * Cross-entropy on probabilities `[B, K]` (each row a distribution over K classes):
 * −Σ_k t_k log p_k per example, with p clipped into [ε, 1 − ε]. Targets are integer class
 * indices (the loss is −log p of the labelled class) or `[B, K]` one-hot / soft rows.
 * Prefer {@link crossEntropyWithLogits}, which never takes the log of a rounded-off softmax.
 *
 * @example
 * ```ts
 * import { tensor, Loss } from 'lamina-nn'
 * import assert from 'node:assert'
 * const p = tensor([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
 * const expected = -(Math.log(0.7) + Math.log(0.8)) / 2
 * assert.ok(Math.abs(Loss.crossEntropy(p, [0, 2]).item() - expected) < 1e-15)
 * assert.ok(Math.abs(Loss.crossEntropy(p, new Int32Array([0, 2])).item() - expected) < 1e-15)
 * assert.ok(Math.abs(Loss.crossEntropy(p, tensor([[1, 0, 0], [0, 0, 1]])).item() - expected) < 1e-15)
 * ```
 */
export const crossEntropy = <D extends DType, const R extends Reduction = 'mean'>(
  prediction: Tensor<Shape, D>,
  target: ClassTargets<NoInfer<D>>,
  options?: ProbabilityLossOptions<R>
): LossResult<R, D> => {
  const op = 'crossEntropy'
  const reduction = reductionOf(options, op)
  const eps = epsilonOf(options, op)
  const p = checkBatch(prediction, op, 'probabilities', 2)
  const t = resolveClassTargets(target, p, op)
  checkValues(p, op, 'probability', inUnitInterval, 'in [0, 1]', probabilityHint('crossEntropyWithLogits'))
  return reduce(neg(targetLogLikelihood(t, log(clip(p, eps)))), reduction, op) as LossResult<R, D>
}

/**
 * Cross-entropy on logits `[B, K]`: −Σ_k t_k log softmax(z)_k per example, through the stable
 * log softmax z_k − log Σ_j exp(z_j) (seed 003), so loss and gradient softmax(z) − t stay
 * finite for logits of any size. For a class index y it is log Σ_j exp(z_j) − z_y. Targets
 * as for {@link crossEntropy}.
 *
 * @example
 * ```ts
 * import { tensor, Loss } from 'lamina-nn'
 * import assert from 'node:assert'
 * const z = tensor([[1, 2, 3]])
 * const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3))
 * assert.ok(Math.abs(Loss.crossEntropyWithLogits(z, [2]).item() - (lse - 3)) < 1e-15)
 * assert.ok(Number.isFinite(Loss.crossEntropyWithLogits(tensor([[1e4, -1e4]]), [1]).item()))
 * ```
 */
export const crossEntropyWithLogits = <D extends DType, const R extends Reduction = 'mean'>(
  logits: Tensor<Shape, D>,
  target: ClassTargets<NoInfer<D>>,
  options?: LossOptions<R>
): LossResult<R, D> => {
  const op = 'crossEntropyWithLogits'
  const reduction = reductionOf(options, op)
  const z = checkBatch(logits, op, 'logits', 2)
  const t = resolveClassTargets(target, z, op)
  return reduce(neg(targetLogLikelihood(t, logSoftmax(z, 1))), reduction, op) as LossResult<R, D>
}

/**
 * Negative log-likelihood on log-probabilities `[B, K]` (e.g. the output of `logSoftmax`):
 * −Σ_k t_k log p_k per example, i.e. −log p of the labelled class; `nll(logSoftmax(z), y)`
 * is {@link crossEntropyWithLogits}. With soft targets a class of target 0 and log-probability
 * −∞ adds 0 (0 · log 0 = 0).
 *
 * @example
 * ```ts
 * import { tensor, log, Loss } from 'lamina-nn'
 * import assert from 'node:assert'
 * const logp = log(tensor([[0.25, 0.75], [0.5, 0.5]]))
 * assert.ok(Math.abs(Loss.nll(logp, [1, 0]).item() - -(Math.log(0.75) + Math.log(0.5)) / 2) < 1e-15)
 * ```
 */
export const nll = <D extends DType, const R extends Reduction = 'mean'>(
  logProbabilities: Tensor<Shape, D>,
  target: ClassTargets<NoInfer<D>>,
  options?: LossOptions<R>
): LossResult<R, D> => {
  const op = 'nll'
  const reduction = reductionOf(options, op)
  const logp = checkBatch(logProbabilities, op, 'log-probabilities', 2)
  const t = resolveClassTargets(target, logp, op)
  return reduce(neg(targetLogLikelihood(t, logp)), reduction, op) as LossResult<R, D>
}

// ---------------------------------------------------------------- metrics

/**
 * Predicted and true classes of a batch. `[B, K]` logits: the class of the largest logit (the
 * first one on a tie); true classes from indices or from the largest entry of one-hot rows.
 * `[B]` logits: binary, class 1 where z > 0; labels 1 (positive) and 0 or −1 (negative).
 */
const classesOf = (logits: unknown, labels: unknown, op: string): { predicted: number[]; actual: number[]; classes: number } => {
  const z = checkBatch(logits, op, 'logits')
  if (z.rank > 2) throw new ShapeError(`${op}: expected logits of shape [batch, classes] or [batch], got shape ${Sh.show(z.shape)}`)
  const batch = z.shape[0]!
  if (batch === 0) throw new ShapeError(`${op}: the batch is empty (shape ${Sh.show(z.shape)})`)
  const data = z.data
  if (z.rank === 1) {
    const y = targetTensor(labels, z, op).data
    const actual = Array.from({ length: batch }, (_, i) => {
      const v = y[i]!
      if (v !== 0 && v !== 1 && v !== -1) {
        throw new ArgumentError(`${op}: binary label ${v} at index ${i} is not 1 (positive) or 0 / −1 (negative)`)
      }
      return v === 1 ? 1 : 0
    })
    return { predicted: Array.from({ length: batch }, (_, i) => (data[i]! > 0 ? 1 : 0)), actual, classes: 2 }
  }
  const classes = z.shape[1]!
  const argmax = (row: ArrayLike<number>, offset: number): number => {
    let best = 0
    for (let k = 1; k < classes; k++) if (row[offset + k]! > row[offset + best]!) best = k
    return best
  }
  const predicted = Array.from({ length: batch }, (_, i) => argmax(data, i * classes))
  const t = resolveClassTargets(labels, z, op)
  const rows = t.kind === 'mask' ? t.mask.data : t.target.data
  return { predicted, actual: Array.from({ length: batch }, (_, i) => argmax(rows, i * classes)), classes }
}

/**
 * The fraction of examples whose predicted class is the true one: a plain number, not
 * differentiable (a metric, not a loss). `[B, K]` logits (or probabilities) predict the
 * class of the largest entry, the first on a tie; labels are class indices or one-hot rows.
 * `[B]` logits are binary: class 1 where z > 0; labels are 1 (positive) and 0 or −1 (negative).
 *
 * @example
 * ```ts
 * import { tensor, Loss } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Loss.accuracy(tensor([[2, 1], [0, 3], [5, 4]]), [0, 1, 1]), 2 / 3)
 * assert.strictEqual(Loss.accuracy(tensor([1.5, -0.5]), [1, 0]), 1)
 * ```
 */
export const accuracy = (logits: Tensor, labels: ClassTargets): number => {
  const { predicted, actual } = classesOf(logits, labels, 'accuracy')
  return predicted.filter((c, i) => c === actual[i]).length / predicted.length
}

/**
 * The confusion matrix: entry [i][j] counts the examples of true class i predicted as class
 * j (rows: truth, columns: prediction), so the diagonal holds the correct ones. Plain
 * numbers, not differentiable. Predictions and labels as for {@link accuracy}; `classes`
 * defaults to K (2 for `[B]` binary logits) and must equal it when given.
 *
 * @example
 * ```ts
 * import { tensor, Loss } from 'lamina-nn'
 * import assert from 'node:assert'
 * const m = Loss.confusionMatrix(tensor([[2, 1], [0, 3], [5, 4]]), [0, 1, 1], 2)
 * assert.deepStrictEqual(m, [[1, 0], [1, 1]])
 * ```
 */
export const confusionMatrix = (logits: Tensor, labels: ClassTargets, classes?: number): number[][] => {
  const op = 'confusionMatrix'
  const found = classesOf(logits, labels, op)
  if (classes !== undefined && classes !== found.classes) {
    throw new ShapeError(
      `${op}: classes is ${describe(classes)} but the logits of shape ${Sh.show((logits as Tensor).shape)} hold ${found.classes} classes`
    )
  }
  const m = Array.from({ length: found.classes }, () => new Array<number>(found.classes).fill(0))
  found.actual.forEach((a, i) => {
    const row = m[a]!
    const j = found.predicted[i]!
    row[j] = row[j]! + 1
  })
  return m
}
