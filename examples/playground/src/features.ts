/**
 * The input features: what the first layer sees of a point (x₁, x₂). As on
 * playground.tensorflow.org, besides the coordinates it can see their squares, their product
 * and their sines, which let a network with few units draw circles and spirals: the features
 * do part of the work the hidden layers would otherwise have to learn.
 *
 * @module
 */
import type { FeatureName } from './config.js'

/** How the page writes each feature (the diagram, the inspector, the controls). */
export const featureLabels: Readonly<Record<FeatureName, string>> = {
  x1: 'x₁',
  x2: 'x₂',
  x1sq: 'x₁²',
  x2sq: 'x₂²',
  x1x2: 'x₁x₂',
  sinx1: 'sin x₁',
  sinx2: 'sin x₂'
}

/** Each feature as a function of the point. */
export const featureOf: Readonly<Record<FeatureName, (x1: number, x2: number) => number>> = {
  x1: (x1) => x1,
  x2: (_, x2) => x2,
  x1sq: (x1) => x1 * x1,
  x2sq: (_, x2) => x2 * x2,
  x1x2: (x1, x2) => x1 * x2,
  sinx1: (x1) => Math.sin(x1),
  sinx2: (_, x2) => Math.sin(x2)
}

/**
 * The feature matrix of points: `points` is `[n, 2]` row-major, the result `[n, F]` row-major,
 * column k holding `features[k]` of each point.
 */
export const matrix = (points: ArrayLike<number>, features: readonly FeatureName[]): Float64Array => {
  const n = points.length / 2
  const f = features.map((name) => featureOf[name])
  const out = new Float64Array(n * f.length)
  for (let i = 0; i < n; i++) {
    const x1 = points[2 * i]!
    const x2 = points[2 * i + 1]!
    for (let k = 0; k < f.length; k++) out[i * f.length + k] = f[k]!(x1, x2)
  }
  return out
}
