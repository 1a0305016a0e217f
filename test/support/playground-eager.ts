/**
 * The eager interpreter as the reference for the page's compiled step: the page's own trainer
 * run here on lamina's cpu backend in float64, and the per-entry bounds on how far the compiled
 * float32 run may be from it.
 */
import { Backends, Tree, cpu } from 'lamina-nn'
import type { Tensor } from 'lamina-nn'
import { fromQuery } from '../../examples/playground/src/config.js'
import * as T from '../../examples/playground/src/trainer.js'
import type { DenseParams } from './playground-hooks.js'

const U = 2 ** -24

/** A network's parameters as flat leaves: each dense layer's weights (row-major), then its biases. */
export const leavesOfSnapshot = (params: readonly DenseParams[]): Float64Array[] => params.flatMap((p) => [Float64Array.from(p.w.flat()), Float64Array.from(p.b)])
export const leavesOf = (params: unknown): Float64Array[] => Tree.flatten(params).leaves.map((leaf: Tensor) => Float64Array.from(leaf.data))
export const maxAbs = (values: ArrayLike<number>): number => {
  let m = 0
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]!))
  return m
}

/**
 * The eager interpreter on lamina's cpu backend in float64: the page's own trainer started from
 * the same configuration (so the same data, initial weights and minibatch draws), with each
 * step's starting parameters, gradient and Adam second moments kept for the bound.
 */
export const eagerRun = (query: string, steps: number) =>
  Backends.withBackend(cpu, () => {
    let s = T.create(fromQuery(query).config)
    const history: { params: Float64Array[]; grads: Float64Array[]; v: Float64Array[] }[] = []
    for (let i = 0; i < steps; i++) {
      const { grads } = T.gradient(s)
      const params = leavesOf(s.params)
      s = T.step(s)
      history.push({ params, grads: leavesOf(grads), v: leavesOf((s.optimizerState as { v: unknown }).v) })
    }
    return { session: s, history }
  })

/**
 * Per-entry bounds on |compiled − eager| after the run, as in test/compiled.test.ts and
 * docs/07-compiled.md: a step's products and sums have at most k terms (here the batch, 16; the
 * widths are 2, 8, 8, 1), each with relative error γ_k ≈ k·u (u = 2⁻²⁴) with respect to its
 * terms' magnitudes, and the elementwise ops, the stored parameters, and the float64 data and
 * initial weights rounded to float32 add a few u: over N steps τ = N·(k + 4)·u relative to the
 * largest |θ| of the leaf. Adam divides by √v̂ + ε, which magnifies a gradient's error by
 * 1/(√v̂ + ε); that adds Σₛ η·3·(k + 4)·u·max|gₛ|/(√v̂ₛ + ε) per entry, from the reference's own v̂.
 */
export const compiledBounds = (run: ReturnType<typeof eagerRun>, k: number): Float64Array[] => {
  const d = run.session.optimizer.description
  if (d?.kind !== 'adam') throw new Error('the bound below is written for Adam')
  const n = run.history.length
  const final = leavesOf(run.session.params)
  return final.map((leaf, i) => {
    const out = new Float64Array(leaf.length).fill(n * (k + 4) * U * Math.max(maxAbs(leaf), ...run.history.map((h) => maxAbs(h.params[i]!))))
    run.history.forEach((h, s) => {
      const g = maxAbs(h.grads[i]!)
      const correction = 1 - d.beta2 ** (s + 1)
      for (let j = 0; j < out.length; j++) out[j] = out[j]! + (d.lr(s) * 3 * (k + 4) * U * g) / (Math.sqrt(h.v[i]![j]! / correction) + d.eps)
    })
    return out
  })
}
