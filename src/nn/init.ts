/**
 * Parameter initializers, all drawing from a seeded key: Glorot/Xavier and He, uniform and
 * normal, and constants (seed 003 suggests a small positive bias such as 0.1 for ReLU units).
 *
 * @module
 */
import { ArgumentError } from '../error.js'
import * as Random from '../random.js'
import type { Key } from '../random.js'
import type { Shape } from '../shape.js'
import { full } from '../tensor.js'
import type { DType, Tensor } from '../tensor.js'

/** Draws a tensor of a shape from a key. */
export type Initializer = <const S extends Shape, D extends DType = 'f64'>(key: Key, shape: S, dtype?: D) => Tensor<S, D>

/**
 * Fan-in and fan-out of a weight shape: `[in, out]` for dense, `[out, in, kh, kw]` for convolutions.
 *
 * @example
 * ```ts
 * import { Init } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(Init.fans([784, 128]), { fanIn: 784, fanOut: 128 })
 * assert.deepStrictEqual(Init.fans([16, 6, 3, 3]), { fanIn: 54, fanOut: 144 })
 * ```
 */
export const fans = (shape: Shape): { fanIn: number; fanOut: number } => {
  if (shape.length === 2) return { fanIn: shape[0]!, fanOut: shape[1]! }
  if (shape.length > 2) {
    const receptive = shape.slice(2).reduce((a, b) => a * b, 1)
    return { fanIn: shape[1]! * receptive, fanOut: shape[0]! * receptive }
  }
  const n = shape[0] ?? 1
  return { fanIn: n, fanOut: n }
}

const variance = (shape: Shape, mode: 'glorot' | 'he'): number => {
  const { fanIn, fanOut } = fans(shape)
  if (fanIn + fanOut === 0) throw new ArgumentError(`initializer: shape [${shape.join(',')}] has no fan-in`)
  return mode === 'glorot' ? 2 / (fanIn + fanOut) : 2 / fanIn
}

/**
 * Glorot/Xavier uniform: U(−a, a) with a = √(6/(fan_in + fan_out)), keeping activations' and
 * gradients' variances stable for tanh/sigmoid units.
 *
 * @example
 * ```ts
 * import { Init, Random } from 'lamina-nn'
 * import assert from 'node:assert'
 * const w = Init.glorotUniform(Random.key(0), [300, 100])
 * const a = Math.sqrt(6 / 400)
 * assert.ok([...w.data].every((v) => Math.abs(v) <= a))
 * ```
 */
export const glorotUniform: Initializer = (key, shape, dtype) => {
  const a = Math.sqrt(3 * variance(shape, 'glorot'))
  return Random.uniform(key, shape, { low: -a, high: a, dtype: dtype ?? ('f64' as never) })
}

/**
 * Glorot/Xavier normal: N(0, 2/(fan_in + fan_out)).
 *
 * @example
 * ```ts
 * import { Init, Random } from 'lamina-nn'
 * import assert from 'node:assert'
 * const w = Init.glorotNormal(Random.key(1), [400, 400])
 * const v = [...w.data].reduce((s, x) => s + x * x, 0) / w.size
 * assert.ok(Math.abs(v - 2 / 800) < 2.5e-4)
 * ```
 */
export const glorotNormal: Initializer = (key, shape, dtype) =>
  Random.normal(key, shape, { std: Math.sqrt(variance(shape, 'glorot')), dtype: dtype ?? ('f64' as never) })

/**
 * He uniform: U(−a, a) with a = √(6/fan_in), for ReLU units.
 *
 * @example
 * ```ts
 * import { Init, Random } from 'lamina-nn'
 * import assert from 'node:assert'
 * const w = Init.heUniform(Random.key(0), [96, 10])
 * assert.ok([...w.data].every((v) => Math.abs(v) <= Math.sqrt(6 / 96)))
 * ```
 */
export const heUniform: Initializer = (key, shape, dtype) => {
  const a = Math.sqrt(3 * variance(shape, 'he'))
  return Random.uniform(key, shape, { low: -a, high: a, dtype: dtype ?? ('f64' as never) })
}

/**
 * He normal: N(0, 2/fan_in), for ReLU units.
 *
 * @example
 * ```ts
 * import { Init, Random } from 'lamina-nn'
 * import assert from 'node:assert'
 * const w = Init.heNormal(Random.key(2), [500, 300])
 * const v = [...w.data].reduce((s, x) => s + x * x, 0) / w.size
 * assert.ok(Math.abs(v - 2 / 500) < 2e-4)
 * ```
 */
export const heNormal: Initializer = (key, shape, dtype) =>
  Random.normal(key, shape, { std: Math.sqrt(variance(shape, 'he')), dtype: dtype ?? ('f64' as never) })

/**
 * A constant initializer (the key is ignored), e.g. `constant(0.1)` for ReLU biases.
 *
 * @example
 * ```ts
 * import { Init, Random } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(Init.constant(0.1)(Random.key(0), [2]).toArray(), [0.1, 0.1])
 * ```
 */
export const constant =
  (value: number): Initializer =>
  (_key, shape, dtype) =>
    full(shape, value, { dtype: dtype ?? ('f64' as never) })

/**
 * The zero initializer.
 *
 * @example
 * ```ts
 * import { Init, Random } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(Init.zeros(Random.key(0), [2]).toArray(), [0, 0])
 * ```
 */
export const zeros: Initializer = constant(0)
