/**
 * The playground's objective, written out independently of the page in plain float64
 * JavaScript: the features, the forward pass of a tanh MLP, the data term (binary cross-entropy
 * of logits, or the mean squared error), the L1/L2 penalty, and parameters with one weight or
 * bias replaced. The end-to-end tests compare the page's numbers with these.
 */
import type { Batch, Config, DenseParams } from './playground-hooks.js'

const softplus = (z: number): number => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)))

/** The features of a point, from their definitions (playground.tensorflow.org's list). */
export const featureOf: Readonly<Record<string, (x1: number, x2: number) => number>> = {
  x1: (x1) => x1,
  x2: (_, x2) => x2,
  x1sq: (x1) => x1 * x1,
  x2sq: (_, x2) => x2 * x2,
  x1x2: (x1, x2) => x1 * x2,
  sinx1: (x1) => Math.sin(x1),
  sinx2: (_, x2) => Math.sin(x2)
}

/** The outputs of a tanh MLP, one per example, in float64. */
export const logitsOf = (params: readonly DenseParams[], x: readonly (readonly number[])[]): number[] => {
  let a = x
  params.forEach((p, k) => {
    a = a.map((row) => p.b.map((bj, j) => row.reduce((s, xi, i) => s + xi * p.w[i]![j]!, bj)))
    if (k < params.length - 1) a = a.map((row) => row.map(Math.tanh))
  })
  return a.map((row) => row[0]!)
}

const regression = (config: Config): boolean => config.dataset === 'plane' || config.dataset === 'gaussians'

/**
 * The data term: mean binary cross-entropy of logits against 0/1 labels, or the mean squared
 * error of predictions. The cross-entropy softplus(z) − y·z is written (1 − y)·softplus(z) +
 * y·softplus(−z) (the same, as softplus(z) − z = softplus(−z)): for a confident right answer
 * (z = 15, y = 1) the first form subtracts two numbers near 15 and keeps only about 9 digits of
 * the 3e-7 left, which a central difference then divides by its step.
 */
export const dataLossOf = (z: readonly number[], labels: readonly number[], config: Config): number =>
  regression(config)
    ? z.reduce((s, zn, n) => s + (zn - labels[n]!) ** 2, 0) / z.length
    : z.reduce((s, zn, n) => s + (1 - labels[n]!) * softplus(zn) + labels[n]! * softplus(-zn), 0) / z.length

/** λ/2 Σ w² (L2) or λ Σ |w| (L1) over the weights, biases left out. */
const penaltyOf = (params: readonly DenseParams[], config: Config): number => {
  const weights = params.flatMap((p) => p.w.flat())
  if (config.regularization === 'l2') return (config.rate / 2) * weights.reduce((t, w) => t + w * w, 0)
  if (config.regularization === 'l1') return config.rate * weights.reduce((t, w) => t + Math.abs(w), 0)
  return 0
}

/** The objective of a tanh MLP on a minibatch, in float64. */
export const objective = (params: readonly DenseParams[], batch: Batch, config: Config): number => dataLossOf(logitsOf(params, batch.x), batch.labels, config) + penaltyOf(params, config)

export const withWeight = (params: readonly DenseParams[], layer: number, from: number, to: number, value: number): DenseParams[] =>
  params.map((p, k) => (k !== layer ? p : { ...p, w: p.w.map((row, i) => row.map((w, j) => (i === from && j === to ? value : w))) }))

export const withBias = (params: readonly DenseParams[], layer: number, unit: number, value: number): DenseParams[] =>
  params.map((p, k) => (k !== layer ? p : { ...p, b: p.b.map((b, j) => (j === unit ? value : b)) }))
