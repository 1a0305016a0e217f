// Seed 001's affine collapse as pure functions: with a linear activation σ(x) = αx + β𝟙 a
// deep MLP x⁽ˡ⁾ = σ(w⁽ˡ⁾x⁽ˡ⁻¹⁾ + b⁽ˡ⁾) is one affine map f(x) = A⁽ᴸ⁾x + B⁽ᴸ⁾, where A⁽⁰⁾ = I,
// B⁽⁰⁾ = 0 and
//   A⁽ˡ⁾ = α w⁽ˡ⁾ A⁽ˡ⁻¹⁾,   B⁽ˡ⁾ = α w⁽ˡ⁾ B⁽ˡ⁻¹⁾ + α b⁽ˡ⁾ + β𝟙.
// The seed writes w⁽ˡ⁾ as [out, in] acting on columns; lamina's dense layer stores w as
// [in, out] acting on rows (y = x·w + b), so the seed's w⁽ˡ⁾ is the transpose of lamina's.
import { Init, Layer, Layers, Random, abs, add, eye, full, matmul, max, mul, reshape, sub, transpose, zeros } from 'lamina-nn'
import type { Tensor } from 'lamina-nn'

/** The linear activation σ(x) = αx + β, as a parameterless lamina layer. */
export const linearActivation = (alpha: number, beta: number): Layer.Layer<readonly number[], Layer.Same, Layer.Stateless> => ({
  kind: `linear(${alpha}, ${beta})`,
  inShape: undefined,
  outputShape: (input) => input,
  init: () => ({}),
  initState: () => ({}),
  forward: (_params, x, { state }) => ({ y: add(mul(x, alpha), beta), state })
})

/** The activations compared: the identity, a general linear map, and ReLU (not linear). */
export type Activation = { readonly kind: 'linear'; readonly alpha: number; readonly beta: number } | { readonly kind: 'relu' }

const layerOf = (a: Activation) => (a.kind === 'relu' ? Layers.relu() : linearActivation(a.alpha, a.beta))

/** The widths of the MLP: 3 inputs, five hidden layers, 2 outputs; L = 6 dense layers, each followed by σ. */
export const widths = [3, 8, 8, 6, 8, 5, 2] as const

/** The deep MLP (dense, σ) × 6 with the given activation; biases drawn as well as weights (Glorot uniform). */
export const mlp = (a: Activation) => {
  const s = () => layerOf(a)
  const dense = <const I extends number, const O extends number>(i: I, o: O) => Layers.dense(i, o, { bias: Init.glorotUniform })
  return Layer.sequential(dense(3, 8), s(), dense(8, 8), s(), dense(8, 6), s(), dense(6, 8), s(), dense(8, 5), s(), dense(5, 2), s())
}

/** The parameters of the MLP from a seed (the same for every activation: they do not depend on it). */
export const initParams = (seed: number) => mlp({ kind: 'relu' }).init(Random.key(seed))
export type Params = ReturnType<typeof initParams>

/** The dense layers' (w, b), in order; lamina's w is [in, out]. */
export const denseLayers = (p: Params): { w: Tensor; b: Tensor }[] =>
  (p.layers as readonly unknown[]).filter((l): l is { w: Tensor; b: Tensor } => typeof l === 'object' && l !== null && 'w' in l)

/**
 * A⁽ᴸ⁾ [out, in] and B⁽ᴸ⁾ [out, 1] by the seed's recurrence, with lamina ops:
 * A⁽ˡ⁾ = α w⁽ˡ⁾A⁽ˡ⁻¹⁾ (w⁽ˡ⁾ = lamina's wᵀ, so the product is matmul(w, A, transposeA)), and likewise B.
 */
export const collapse = (p: Params, alpha: number, beta: number): { A: Tensor; B: Tensor } =>
  denseLayers(p).reduce(
    ({ A, B }, { w, b }) => {
      const n = w.shape[1]!
      return {
        A: mul(matmul(w, A, { transposeA: true }), alpha),
        B: add(add(mul(matmul(w, B, { transposeA: true }), alpha), mul(reshape(b, [n, 1]), alpha)), full([n, 1], beta))
      }
    },
    { A: eye(widths[0]) as Tensor, B: zeros([widths[0], 1]) as Tensor }
  )

/** The collapsed map on a batch of rows X [N, D]: X·A⁽ᴸ⁾ᵀ + B⁽ᴸ⁾ᵀ. */
export const affine = ({ A, B }: { A: Tensor; B: Tensor }, x: Tensor): Tensor => add(matmul(x, A, { transposeB: true }), transpose(B))

/** The network's outputs on a batch of rows. */
export const network = (a: Activation, p: Params, x: Tensor): Tensor => Layer.apply(mlp(a), p, x)

/** `n` random inputs [n, 3] (standard normal) from a seed. */
export const inputs = (seed: number, n: number): Tensor => Random.normal(Random.key(seed), [n, widths[0]])

/** max |a − b| over all entries. */
export const maxAbsDiff = (a: Tensor, b: Tensor): number => max(abs(sub(a, b))).item()

/**
 * The affine-collapse check: the network and A⁽ᴸ⁾x + B⁽ᴸ⁾ on `n` random inputs. Returns the
 * largest difference relative to the largest output, and whether it is within `tol`.
 */
export const compare = (a: Activation & { readonly kind: 'linear' }, p: Params, x: Tensor, tol = 1e-12) => {
  const net = network(a, p, x)
  const map = collapse(p, a.alpha, a.beta)
  const scale = max(abs(net)).item()
  const relative = maxAbsDiff(net, affine(map, x)) / scale
  return { ok: relative <= tol, relative, scale, A: map.A, B: map.B }
}

/**
 * The midpoint defect max |f((x + x′)/2) − (f(x) + f(x′))/2| over pairs of rows of `x` and `y`:
 * zero (to rounding) for every affine map, and not for a ReLU network.
 */
export const midpointDefect = (f: (x: Tensor) => Tensor, x: Tensor, y: Tensor): number =>
  maxAbsDiff(f(mul(add(x, y), 0.5)), mul(add(f(x), f(y)), 0.5))
