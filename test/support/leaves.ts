// The numbers of trees of tensors, compared bit for bit: what the training tests use to say that
// two runs (resumed and straight, two seeds, a manual step) ended in exactly the same place.
import type { Tensor } from 'lamina-nn'

/** The numbers of a tree of tensors and plain numbers (an optimizer's state counts its steps), in order. */
export const numbers = (tree: unknown): number[] =>
  typeof tree === 'number'
    ? [tree]
    : tree !== null && typeof tree === 'object' && 'shape' in tree && 'data' in tree
      ? Array.from((tree as Tensor).data)
      : tree !== null && typeof tree === 'object'
        ? Object.values(tree).flatMap(numbers)
        : []

/** The same bits in every number (−0 and NaN included). */
export const sameLeaves = (a: unknown, b: unknown): boolean => {
  const [x, y] = [numbers(a), numbers(b)]
  return x.length === y.length && x.every((v, i) => Object.is(v, y[i]))
}
