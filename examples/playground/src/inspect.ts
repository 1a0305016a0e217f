/**
 * The chain rule made visible: for a clicked weight, bias or unit (inputs and the output
 * included), its forward value, its adjoint ∂L/∂(that value) on the current minibatch, and the
 * trace table of how the backward sweep accumulated it (lamina's `Trace`, the tables
 * `lamina trace` prints).
 *
 * The clicked value becomes the one input of the trace and everything else a constant: a
 * weight `w = W[i, j]` enters as `W ∘ (1 − E) + w·E` (E the one-hot mask of its position), a
 * bias likewise in its vector, and a unit's values (one per example) replace column `j` of its
 * layer's output (for an input, of the minibatch; for the output, of the logits) the same way.
 * So the trace's rows are the real primitives of the network from that value to the loss, and
 * its last line `w̄` is ∂L/∂w. Runs on lamina's cpu reference in float64, so the numbers are
 * exact to rounding whatever backend trains.
 *
 * @module
 */
import { Backends, Trace, add, cpu, fromBuffer, mul, reshape } from 'lamina-nn'
import type { Tensor } from 'lamina-nn'
import { ridders } from 'lamina-nn/laws'
import * as M from './model.js'

/**
 * What can be clicked: a weight of dense layer `layer` from unit `from` to unit `to`, the bias
 * of unit `unit` in dense layer `layer`, input `unit`, unit `unit` of hidden layer `layer`, or
 * the output (the one logit).
 */
export type Target =
  | { readonly kind: 'weight'; readonly layer: number; readonly from: number; readonly to: number }
  | { readonly kind: 'bias'; readonly layer: number; readonly unit: number }
  | { readonly kind: 'input'; readonly unit: number }
  | { readonly kind: 'unit'; readonly layer: number; readonly unit: number }
  | { readonly kind: 'output' }

/** The targets that are parameters: what a step updates and the gradient check perturbs. */
export type Parameter = Extract<Target, { kind: 'weight' | 'bias' }>

export const isParameter = (t: Target): t is Parameter => t.kind === 'weight' || t.kind === 'bias'

/** The inspector's findings. */
export interface Inspection {
  readonly target: Target
  /** `W¹[0→3]`, `b²₁`, `x₁`, `h²₅`, `z`. */
  readonly label: string
  /** The forward value: a scalar for a parameter, one value per example for a unit. */
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

/**
 * The name the page shows: layers counted from 1, as in the seeds (`W¹` maps the input to the
 * first hidden layer); the inputs are x₁ and x₂ as in the diagram, the output is the logit `z`.
 */
export const label = (t: Target): string => {
  switch (t.kind) {
    case 'weight': return `W${script(SUPERSCRIPT, t.layer + 1)}[${t.from}→${t.to}]`
    case 'bias': return `b${script(SUPERSCRIPT, t.layer + 1)}${script(SUBSCRIPT, t.unit)}`
    case 'input': return `x${script(SUBSCRIPT, t.unit + 1)}`
    case 'unit': return `h${script(SUPERSCRIPT, t.layer + 1)}${script(SUBSCRIPT, t.unit)}`
    case 'output': return 'z'
  }
}

/** A one-hot mask of `shape` with a 1 at flat position `at`; with `keep`, its complement. */
const mask = (shape: readonly number[], at: number, keep = false): Tensor => {
  const data = new Float64Array(shape.reduce((a, b) => a * b, 1)).fill(keep ? 1 : 0)
  data[at] = keep ? 0 : 1
  return fromBuffer(data, [...shape])
}

const checkTarget = (network: M.Network, t: Target): void => {
  const widths = network.widths
  const within = (i: number, n: number | undefined): boolean => Number.isInteger(i) && i >= 0 && n !== undefined && i < n
  switch (t.kind) {
    case 'weight':
      if (!(within(t.layer, M.denseCount(network)) && within(t.from, widths[t.layer]) && within(t.to, widths[t.layer + 1])))
        throw new RangeError(`no weight ${label(t)} in a ${widths.join('-')} network`)
      return
    case 'bias':
      if (!(within(t.layer, M.denseCount(network)) && within(t.unit, widths[t.layer + 1])))
        throw new RangeError(`no bias ${label(t)} in a ${widths.join('-')} network`)
      return
    case 'input':
      if (!within(t.unit, widths[0])) throw new RangeError(`no input ${label(t)} in a ${widths.join('-')} network`)
      return
    case 'unit':
      if (!(within(t.layer, widths.length - 2) && within(t.unit, widths[t.layer + 1])))
        throw new RangeError(`no hidden unit ${label(t)} in a ${widths.join('-')} network`)
      return
    case 'output':
      return
  }
}

/** The tensor a parameter lives in, and its flat position there. */
const locate = (params: M.Params, t: Parameter): { readonly tensor: Tensor; readonly at: number } => {
  const { w, b } = M.dense(params, t.layer)
  return t.kind === 'weight' ? { tensor: w, at: t.from * w.shape[1]! + t.to } : { tensor: b, at: t.unit }
}

/** The value of a weight or bias. */
export const parameterValue = (params: M.Params, t: Parameter): number => {
  const { tensor, at } = locate(params, t)
  return tensor.data[at]!
}

/** The objective as a function of one weight or bias, the other parameters held at `params`. */
export const objectiveOfParameter = (network: M.Network, params: M.Params, batch: M.Batch, l2: number, t: Parameter) => {
  const { w, b } = M.dense(params, t.layer)
  const { tensor, at } = locate(params, t)
  const others = mul(tensor, mask(tensor.shape, at, true))
  const position = mask(tensor.shape, at)
  return (value: Tensor): Tensor => {
    const replaced = add(others, mul(value, position))
    return M.objective(network, M.withDense(params, t.layer, t.kind === 'weight' ? { w: replaced, b } : { w, b: replaced }), batch, l2)
  }
}

/**
 * A unit's values on the minibatch as column `unit` of a `[examples, units]` tensor, and the
 * layer the rest of the network starts at: the inputs are the minibatch itself; hidden layer
 * k's outputs come out of activation layer 2k + 1; the output is the last layer's.
 */
const unitColumn = (network: M.Network, params: M.Params, batch: M.Batch, t: Extract<Target, { kind: 'input' | 'unit' | 'output' }>) => {
  if (t.kind === 'input') return { values: batch.x, from: 0, unit: t.unit }
  const outputs = M.forwardAll(network, params, batch.x)
  if (t.kind === 'unit') return { values: outputs[2 * t.layer + 1]!, from: 2 * t.layer + 2, unit: t.unit }
  return { values: outputs[outputs.length - 1]!, from: network.layers.length, unit: 0 }
}

const NAMES: Readonly<Record<Target['kind'], string>> = { weight: 'w', bias: 'b', input: 'x', unit: 'h', output: 'z' }

/** Inspects a weight, a bias or a unit on a minibatch. */
export const inspect = (network: M.Network, params: M.Params, batch: M.Batch, l2: number, target: Target): Inspection =>
  Backends.withBackend(cpu, () => {
    checkTarget(network, target)
    const name = NAMES[target.kind]
    if (isParameter(target)) {
      const f = objectiveOfParameter(network, params, batch, l2, target)
      const trace = Trace.trace((inputs) => f(inputs[name]!), { [name]: parameterValue(params, target) })
      return finish(target, trace, name)
    }
    const { values, from, unit } = unitColumn(network, params, batch, target)
    const [n, units] = values.shape as [number, number]
    const column = fromBuffer(Array.from({ length: n }, (_, r) => values.data[r * units + unit]!), [n])
    const others = mul(values, mask([1, units], unit, true))
    const position = mask([1, units], unit)
    const trace = Trace.trace(
      (inputs) => M.objectiveFrom(network, params, batch, l2, from, add(others, mul(reshape(inputs[name]!, [n, 1]), position))),
      { [name]: column }
    )
    return finish(target, trace, name)
  })

const finish = (target: Target, trace: Trace.Trace, name: string): Inspection => {
  const input = trace.rows[0]!
  const output = trace.rows.find((r) => r.index === trace.output)!
  return { target, label: label(target), value: input.value, adjoint: trace.gradient[name]!, loss: output.value.item(), trace }
}

/** The trace as the text tables of `lamina trace`. */
export const table = (inspection: Inspection, digits = 4): string => Trace.renderText(inspection.trace, { digits, maxElements: 4 })

/** A finite-difference estimate of ∂L/∂θ (θ a weight or bias) and its error estimate (Ridders' extrapolation of central differences, from `lamina-nn/laws`). */
export interface GradientCheck {
  readonly adjoint: number
  readonly estimate: number
  /** Ridders' own error estimate. */
  readonly estimateError: number
  /** |adjoint − estimate| / max(|adjoint|, |estimate|, 1e-8). */
  readonly relativeDifference: number
}

/** Checks the adjoint of a weight or bias against finite differences of the objective in float64. */
export const checkGradient = (network: M.Network, params: M.Params, batch: M.Batch, l2: number, target: Parameter, adjoint: number): GradientCheck =>
  Backends.withBackend(cpu, () => {
    const f = objectiveOfParameter(network, params, batch, l2, target)
    const w0 = parameterValue(params, target)
    const { value, error } = ridders((t) => [f(fromBuffer([w0 + t], [])).item()], 1e-2)
    const estimate = value[0]!
    return {
      adjoint,
      estimate,
      estimateError: error,
      relativeDifference: Math.abs(adjoint - estimate) / Math.max(Math.abs(adjoint), Math.abs(estimate), 1e-8)
    }
  })
