/**
 * The chain rule made visible: for a clicked weight or hidden unit, its forward value, its
 * adjoint ∂L/∂(that value) on the current minibatch, and the trace table of how the backward
 * sweep accumulated it (lamina's `Trace`, the tables `lamina trace` prints).
 *
 * The clicked value becomes the one input of the trace and everything else a constant: a
 * weight `w = W[i, j]` enters as `W ∘ (1 − E) + w·E` (E the one-hot mask of its position), a
 * unit's outputs `h` (one per example) replace column `j` of its layer's output the same way.
 * So the trace's rows are the real primitives of the network from that value to the loss, and
 * its last line `w̄` is ∂L/∂w. Runs on lamina's cpu reference in float64, so the numbers are
 * exact to rounding whatever backend trains.
 *
 * @module
 */
import { Backends, Trace, add, cpu, fromBuffer, mul, reshape } from 'lamina'
import type { Tensor } from 'lamina'
import { ridders } from 'lamina/laws'
import * as M from './model.js'

/** What can be clicked: a weight of dense layer `layer` from unit `from` to unit `to`, or unit `unit` of hidden layer `layer`. */
export type Target =
  | { readonly kind: 'weight'; readonly layer: number; readonly from: number; readonly to: number }
  | { readonly kind: 'unit'; readonly layer: number; readonly unit: number }

/** The inspector's findings. */
export interface Inspection {
  readonly target: Target
  /** `W¹[0→3]`, `h²₅`. */
  readonly label: string
  /** The forward value: a scalar for a weight, one value per example for a unit. */
  readonly value: Tensor
  /** ∂L/∂value on the current minibatch (same shape as `value`). */
  readonly adjoint: Tensor
  /** The objective L on the current minibatch. */
  readonly loss: number
  readonly trace: Trace.Trace
}

const SUPERSCRIPT = '⁰¹²³⁴⁵⁶⁷⁸⁹'
const SUBSCRIPT = '₀₁₂₃₄₅₆₇₈₉'
const script = (digits: string, n: number): string => [...String(n)].map((c) => digits[Number(c)]!).join('')

/** The name the page shows: layers counted from 1, as in the seeds (`W¹` maps the input to the first hidden layer). */
export const label = (t: Target): string =>
  t.kind === 'weight' ? `W${script(SUPERSCRIPT, t.layer + 1)}[${t.from}→${t.to}]` : `h${script(SUPERSCRIPT, t.layer + 1)}${script(SUBSCRIPT, t.unit)}`

/** A one-hot `[rows, cols]` mask with a 1 at `(i, j)`; with `keep`, its complement. */
const mask = (rows: number, cols: number, i: number, j: number, keep = false): Tensor => {
  const data = new Float64Array(rows * cols).fill(keep ? 1 : 0)
  data[i * cols + j] = keep ? 0 : 1
  return fromBuffer(data, [rows, cols])
}

const checkTarget = (network: M.Network, t: Target): void => {
  const widths = network.widths
  if (t.kind === 'weight') {
    const ok = t.layer >= 0 && t.layer < M.denseCount(network) && t.from >= 0 && t.from < widths[t.layer]! && t.to >= 0 && t.to < widths[t.layer + 1]!
    if (!ok) throw new RangeError(`no weight ${label(t)} in a ${widths.join('-')} network`)
  } else {
    const ok = t.layer >= 0 && t.layer < widths.length - 2 && t.unit >= 0 && t.unit < widths[t.layer + 1]!
    if (!ok) throw new RangeError(`no hidden unit ${label(t)} in a ${widths.join('-')} network`)
  }
}

/** The value of a weight. */
export const weightValue = (params: M.Params, t: Extract<Target, { kind: 'weight' }>): number => {
  const w = M.dense(params, t.layer).w
  return w.data[t.from * w.shape[1]! + t.to]!
}

/** The objective as a function of one weight, the others held at `params`. */
export const objectiveOfWeight = (network: M.Network, params: M.Params, batch: M.Batch, l2: number, t: Extract<Target, { kind: 'weight' }>) => {
  const { w, b } = M.dense(params, t.layer)
  const [rows, cols] = w.shape as [number, number]
  const others = mul(w, mask(rows, cols, t.from, t.to, true))
  const position = mask(rows, cols, t.from, t.to)
  return (weight: Tensor): Tensor => M.objective(network, M.withDense(params, t.layer, { w: add(others, mul(weight, position)), b }), batch, l2)
}

/** Inspects a weight or a hidden unit on a minibatch. */
export const inspect = (network: M.Network, params: M.Params, batch: M.Batch, l2: number, target: Target): Inspection =>
  Backends.withBackend(cpu, () => {
    checkTarget(network, target)
    if (target.kind === 'weight') {
      const f = objectiveOfWeight(network, params, batch, l2, target)
      const trace = Trace.trace(({ w }) => f(w), { w: weightValue(params, target) })
      return finish(target, trace, 'w')
    }
    // the unit's layer output comes out of activation layer 2k + 1; the rest of the network starts at 2k + 2
    const outputs = M.forwardAll(network, params, batch.x)
    const layerOutput = outputs[2 * target.layer + 1]!
    const [n, units] = layerOutput.shape as [number, number]
    const column = fromBuffer(Array.from({ length: n }, (_, r) => layerOutput.data[r * units + target.unit]!), [n])
    const others = mul(layerOutput, mask(1, units, 0, target.unit, true))
    const position = mask(1, units, 0, target.unit)
    const trace = Trace.trace(
      ({ h }) => M.objectiveFrom(network, params, batch, l2, 2 * target.layer + 2, add(others, mul(reshape(h, [n, 1]), position))),
      { h: column }
    )
    return finish(target, trace, 'h')
  })

const finish = (target: Target, trace: Trace.Trace, name: string): Inspection => {
  const input = trace.rows[0]!
  const output = trace.rows.find((r) => r.index === trace.output)!
  return { target, label: label(target), value: input.value, adjoint: trace.gradient[name]!, loss: output.value.item(), trace }
}

/** The trace as the text tables of `lamina trace`. */
export const table = (inspection: Inspection, digits = 4): string => Trace.renderText(inspection.trace, { digits, maxElements: 4 })

/** A finite-difference estimate of ∂L/∂w and its error estimate (Ridders' extrapolation of central differences, from `lamina/laws`). */
export interface GradientCheck {
  readonly adjoint: number
  readonly estimate: number
  /** Ridders' own error estimate. */
  readonly estimateError: number
  /** |adjoint − estimate| / max(|adjoint|, |estimate|, 1e-8). */
  readonly relativeDifference: number
}

/** Checks the adjoint of a weight against finite differences of the objective in float64. */
export const checkGradient = (
  network: M.Network,
  params: M.Params,
  batch: M.Batch,
  l2: number,
  target: Extract<Target, { kind: 'weight' }>,
  adjoint: number
): GradientCheck =>
  Backends.withBackend(cpu, () => {
    const f = objectiveOfWeight(network, params, batch, l2, target)
    const w0 = weightValue(params, target)
    const { value, error } = ridders((t) => [f(fromBuffer([w0 + t], [])).item()], 1e-2)
    const estimate = value[0]!
    return {
      adjoint,
      estimate,
      estimateError: error,
      relativeDifference: Math.abs(adjoint - estimate) / Math.max(Math.abs(adjoint), Math.abs(estimate), 1e-8)
    }
  })
