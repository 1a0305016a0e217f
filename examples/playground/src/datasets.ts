/**
 * The datasets of the playground, generated from a seed with lamina's counter-based `Random`
 * (so the same seed gives the same points in every browser and in Node), and the seeded
 * train/test split. Points lie in about [−1, 1]². The four classification datasets label each
 * point 0 (orange) or 1 (blue); the two regression datasets of playground.tensorflow.org
 * ("plane" and "multi-gaussian") give each a target in [−1, 1].
 *
 * @module
 */
import { Random, Train, fromBuffer } from 'lamina-nn'
import type { DType, Tensor } from 'lamina-nn'
import type { DatasetName, FeatureName } from './config.js'
import * as F from './features.js'

/** Labelled points: `x` is `[n, 2]` row-major, one label per point (0 or 1, or a regression target). */
export interface Points {
  readonly x: Float64Array
  readonly labels: Float64Array
}

/** The train and test sets. */
export interface Split {
  readonly train: Points
  readonly test: Points
}

/** What the generators need. */
export interface DatasetOptions {
  readonly seed: number
  readonly points: number
  /** Standard deviation of the Gaussian jitter added to both coordinates. */
  readonly noise: number
}

/** The square the views draw: the data and some margin. */
export const domain = { min: -1.5, max: 1.5 } as const

export const count = (p: Points): number => p.labels.length

/** Independent keys for each use of a seed (data, split, weights, minibatch order). */
export const seedKeys = (seed: number): { data: Random.Key; split: Random.Key; init: Random.Key; order: Random.Key } => {
  const [data, split, init, order] = Random.split(Random.key(seed), 4)
  return { data: data!, split: split!, init: init!, order: order! }
}

/** A point from its uniforms `u(k)` and its two standard normals `jitter(k)`, noise already scaled in. */
type Generator = (u: (k: number) => number, jitter: (k: number) => number) => { x: number; y: number; label: number }

/** A classification point jittered by the noise: the label stays that of the clean point. */
const jittered = (p: { x: number; y: number; label: number }, jitter: (k: number) => number) => ({ x: p.x + jitter(0), y: p.y + jitter(1), label: p.label })

/**
 * A regression point, uniform in [−1, 1]², whose target is `f` read at the jittered position
 * (as on playground.tensorflow.org: the noise blurs the target, the point stays where it is).
 */
const regression = (f: (x: number, y: number) => number): Generator => (u, jitter) => {
  const x = 2 * u(0) - 1
  const y = 2 * u(1) - 1
  return { x, y, label: f(x + jitter(0), y + jitter(1)) }
}

/**
 * Six bumps of height ±1 falling linearly to 0 at distance 1/3 (playground.tensorflow.org's
 * multi-gaussian, its coordinates divided by 6); the target is the bump largest in size.
 */
const bumps = [[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]].map(([cx, cy, sign]) => ({ cx: cx! / 6, cy: cy! / 6, sign: sign! }))

/** The multi-gaussian target at (x, y). */
export const gaussiansTarget = (x: number, y: number): number => {
  let label = 0
  for (const { cx, cy, sign } of bumps) {
    const v = sign * Math.max(0, 1 - 3 * Math.hypot(x - cx, y - cy))
    if (Math.abs(v) > Math.abs(label)) label = v
  }
  return label
}

/** The plane's target at (x, y): (x + y)/2, in [−1, 1]. */
export const planeTarget = (x: number, y: number): number => (x + y) / 2

// `u(k)` is the k-th of this point's uniforms in [0, 1)
const generators: { readonly [K in DatasetName]: Generator } = {
  // quadrants: blue where x and y have the same sign; kept off the axes so the classes are separable without noise
  xor: (u, jitter) => {
    const sx = u(0) < 0.5 ? -1 : 1
    const sy = u(1) < 0.5 ? -1 : 1
    const x = sx * (0.05 + 0.95 * u(2))
    const y = sy * (0.05 + 0.95 * u(3))
    return jittered({ x, y, label: sx === sy ? 1 : 0 }, jitter)
  },
  // a disc of radius 0.5 (blue) inside a ring from 0.7 to 1 (orange)
  circles: (u, jitter) => {
    const inner = u(0) < 0.5
    const r = inner ? 0.5 * Math.sqrt(u(1)) : 0.7 + 0.3 * u(1)
    const angle = 2 * Math.PI * u(2)
    return jittered({ x: r * Math.cos(angle), y: r * Math.sin(angle), label: inner ? 1 : 0 }, jitter)
  },
  // two interleaved spirals of 1.5 turns
  spirals: (u, jitter) => {
    const blue = u(0) < 0.5
    const s = u(1)
    const r = 0.05 + 0.95 * s
    const angle = 3 * Math.PI * s + (blue ? 0 : Math.PI)
    return jittered({ x: r * Math.cos(angle), y: r * Math.sin(angle), label: blue ? 1 : 0 }, jitter)
  },
  // two Gaussian blobs of standard deviation 0.25, centred at ±(0.45, 0.45)
  blobs: (u, jitter) => {
    const blue = u(0) < 0.5
    const c = blue ? 0.45 : -0.45
    // Box–Muller from two uniforms (1 − u keeps the logarithm finite)
    const radius = Math.sqrt(-2 * Math.log(1 - u(1)))
    const angle = 2 * Math.PI * u(2)
    return jittered({ x: c + 0.25 * radius * Math.cos(angle), y: c + 0.25 * radius * Math.sin(angle), label: blue ? 1 : 0 }, jitter)
  },
  plane: regression(planeTarget),
  gaussians: regression(gaussiansTarget)
}

const UNIFORMS_PER_POINT = 4

/**
 * `options.points` labelled points of a dataset, with Gaussian noise of standard deviation
 * `options.noise` on both coordinates. Deterministic: the same options give the same points.
 */
export const generate = (name: DatasetName, options: DatasetOptions): Points => {
  const n = options.points
  const keys = Random.split(seedKeys(options.seed).data, 2)
  const uniforms = Random.uniform(keys[0]!, [n * UNIFORMS_PER_POINT]).data
  const jitter = Random.normal(keys[1]!, [n * 2]).data
  const x = new Float64Array(n * 2)
  const labels = new Float64Array(n)
  const make = generators[name]
  for (let i = 0; i < n; i++) {
    const p = make(
      (k) => uniforms[i * UNIFORMS_PER_POINT + k]!,
      (k) => options.noise * jitter[2 * i + k]!
    )
    x[2 * i] = p.x
    x[2 * i + 1] = p.y
    labels[i] = p.label
  }
  return { x, labels }
}

/** The points at `indices`, in that order. */
export const take = (p: Points, indices: ArrayLike<number>): Points => {
  const x = new Float64Array(indices.length * 2)
  const labels = new Float64Array(indices.length)
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!
    x[2 * k] = p.x[2 * i]!
    x[2 * k + 1] = p.x[2 * i + 1]!
    labels[k] = p.labels[i]!
  }
  return { x, labels }
}

/** A seeded random split: `round(fraction · n)` training points (at least 1, and at least 1 left for testing). */
export const split = (p: Points, fraction: number, seed: number): Split => {
  const n = count(p)
  const order = Train.permutation(seedKeys(seed).split, n)
  const nTrain = Math.min(n - 1, Math.max(1, Math.round(fraction * n)))
  return { train: take(p, order.subarray(0, nTrain)), test: take(p, order.subarray(nTrain)) }
}

/** The features of the points as a `[n, F]` tensor, the first layer's input. */
export const inputs = (p: Pick<Points, 'x'>, features: readonly FeatureName[], dtype: DType = 'f64'): Tensor =>
  fromBuffer(F.matrix(p.x, features), [p.x.length / 2, features.length], { dtype })

/** A `size × size` grid over {@link domain}, row 0 at the top (largest y), as `[size², 2]` coordinates. */
export const grid = (size: number): Float64Array => {
  const out = new Float64Array(size * size * 2)
  const step = (domain.max - domain.min) / (size - 1)
  for (let row = 0; row < size; row++) {
    for (let col = 0; col < size; col++) {
      const k = row * size + col
      out[2 * k] = domain.min + col * step
      out[2 * k + 1] = domain.max - row * step
    }
  }
  return out
}
