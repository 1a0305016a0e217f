/**
 * Class labels as a tensor. The losses build their one-hot masks and targets from a `[B]`
 * tensor of the labels through primitives (`compare` against the class indices, `reshape`),
 * never from the label values on the host, so a transformation that records the step sees
 * what they are. The compiled interpreter stages the labels as an input of the step, like the
 * examples, and binds the `Int32Array` it hands the loss to that input with
 * {@link bindLabelTensor}; everywhere else the tensor is a constant made from the values.
 * Losses keep their signature: a loss still receives the labels as numbers, and may read them
 * (to check them); only what it computes goes through the tensor.
 *
 * @internal
 * @module
 */
import { equal, reshape } from '../ops.js'
import { fromBuffer } from '../tensor.js'
import type { DType, Tensor } from '../tensor.js'

// keyed by the labels array a staging made: the entry lives as long as that array, and no one else can reach it
const bound = new WeakMap<object, Tensor>()

/**
 * Binds `labels` to `tensor`, a `[labels.length]` tensor holding the same values (the labels
 * input of a staged step): {@link labelTensor} answers it for these labels from now on.
 *
 * @internal
 */
export const bindLabelTensor = (labels: Int32Array, tensor: Tensor): Int32Array => {
  bound.set(labels, tensor)
  return labels
}

/**
 * The labels as a `[B]` tensor of `dtype`: the tensor they are bound to (a staged input), or
 * a constant of their values.
 *
 * @internal
 */
export const labelTensor = (labels: ArrayLike<number>, dtype: DType): Tensor => {
  const staged = typeof labels === 'object' && labels !== null ? bound.get(labels) : undefined
  if (staged !== undefined && staged.dtype === dtype && staged.size === labels.length) return staged
  return fromBuffer(Array.from(labels, Number), [labels.length], { dtype })
}

/**
 * One-hot rows `[B, K]` of the class indices `labels` (`[B]`): `[labels[i] = k]` through the
 * `compare` primitive, so the mask follows the labels wherever they come from.
 *
 * @internal
 */
export const oneHotOf = (labels: Tensor, classes: number): Tensor => {
  const batch = labels.shape[0]!
  const classIndices = fromBuffer(Array.from({ length: classes }, (_, k) => k), [1, classes], { dtype: labels.dtype })
  return equal(reshape(labels, [batch, 1]), classIndices)
}
