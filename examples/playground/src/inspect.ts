/**
 * The chain rule made visible: for a clicked weight, bias or unit (inputs and the output
 * included), its forward value, its adjoint ∂L/∂(that value) on the current minibatch, and the
 * trace of how the backward sweep accumulated it (lamina's `Trace`, read by readable.ts).
 *
 * The clicked value becomes the one input of the trace and everything else a constant: a
 * weight `w = W[i, j]` enters as `W ∘ (1 − E) + w·E` (E the one-hot mask of its position), a
 * bias likewise in its vector, and a unit's values (one per example) replace column `j` of its
 * layer's output (for an input, of the minibatch; for the output, of the outputs) the same way.
 * So the trace's rows are the real primitives of the network from that value to the loss, and
 * its last line `w̄` is ∂L/∂w; readable.ts folds the masking rows into one and names every
 * constant. Runs on lamina's cpu reference in float64, so the numbers are exact to rounding
 * whatever backend trains.
 *
 * Names count from 1, as in the seeds: `W¹` maps the inputs to the first hidden layer,
 * `W¹[2→5]` is its weight from input 2 to unit 5 (`h¹₅`), `b¹₅` that unit's bias.
 *
 * @module
 */
import { Backends, Regularize, Trace, Tree, add, astype, cpu, fromBuffer, matmul, mul, reshape } from 'lamina-nn'
import type { Tensor } from 'lamina-nn'
import { ridders } from 'lamina-nn/laws'
import * as M from './model.js'
import * as R from './readable.js'

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
  /** `W¹[1→4]`, `b²₂`, `x₁`, `h²₅`, `z`. */
  readonly label: string
  /** The forward value: a scalar for a parameter, one value per example for a unit. */
  readonly value: Tensor
  /** ∂L/∂value on the current minibatch (same shape as `value`). */
  readonly adjoint: Tensor
  /** The objective L on the current minibatch. */
  readonly loss: number
  readonly trace: Trace.Trace
  /** The trace as the page shows it: bookkeeping rows folded, every symbol in the legend. */
  readonly readable: R.Readable
}

const SUPERSCRIPT = '⁰¹²³⁴⁵⁶⁷⁸⁹'
const SUBSCRIPT = '₀₁₂₃₄₅₆₇₈₉'
const script = (digits: string, n: number): string => [...String(n)].map((c) => digits[Number(c)]!).join('')

/** `W¹`, `b²`, `H¹` (hidden layer 1's outputs): a layer's symbol, layers counted from 1. */
export const layerSymbol = (letter: string, layer: number): string => `${letter}${script(SUPERSCRIPT, layer + 1)}`

/** The default input names: x₁, x₂, … */
const defaultInputs = (n: number): string[] => Array.from({ length: n }, (_, i) => `x${script(SUBSCRIPT, i + 1)}`)

/**
 * The name the page shows: layers and units counted from 1, as in the seeds (`W¹` maps the
 * inputs to the first hidden layer, `W¹[2→5]` is its weight from input 2 to unit 5); an input
 * is named by its feature (`x₁`, `sin x₂`, from `inputs`), the output is `z`.
 */
export const label = (t: Target, inputs: readonly string[] = defaultInputs(8)): string => {
  switch (t.kind) {
    case 'weight': return `${layerSymbol('W', t.layer)}[${t.from + 1}→${t.to + 1}]`
    case 'bias': return `${layerSymbol('b', t.layer)}${script(SUBSCRIPT, t.unit + 1)}`
    case 'input': return inputs[t.unit] ?? `x${script(SUBSCRIPT, t.unit + 1)}`
    case 'unit': return `${layerSymbol('h', t.layer)}${script(SUBSCRIPT, t.unit + 1)}`
    case 'output': return 'z'
  }
}

/** The name of unit `unit` of column `column` of the diagram (column 0: the inputs; the last: the output). */
export const unitName = (widths: readonly number[], column: number, unit: number, inputs: readonly string[]): string =>
  column === 0 ? label({ kind: 'input', unit }, inputs) : column === widths.length - 1 ? 'z' : label({ kind: 'unit', layer: column - 1, unit })

/** What a screen reader says of a weight: `weight from x₁ to h¹₂ (W¹[1→2]) = 0.31`. */
export const describeWeight = (widths: readonly number[], t: Extract<Target, { kind: 'weight' }>, value: number, inputs: readonly string[]): string =>
  `weight from ${unitName(widths, t.layer, t.from, inputs)} to ${unitName(widths, t.layer + 1, t.to, inputs)} (${label(t, inputs)}) = ${Number(value.toPrecision(4))}`

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

/** The parameters with one weight or bias set to `value` (edited by hand), in the parameters' own precision. */
export const withParameter = (params: M.Params, t: Parameter, value: number): M.Params => {
  if (!Number.isFinite(value)) throw new RangeError(`${label(t)} must be a finite number, got ${String(value)}`)
  const { w, b } = M.dense(params, t.layer)
  const { tensor, at } = locate(params, t)
  const data = Array.from(tensor.data)
  data[at] = value
  const replaced = fromBuffer(data, [...tensor.shape], { dtype: tensor.dtype })
  return M.withDense(params, t.layer, t.kind === 'weight' ? { w: replaced, b } : { w, b: replaced })
}

/** The objective as a function of one weight or bias, the other parameters held at `params`. */
export const objectiveOfParameter = (network: M.Network, params: M.Params, batch: M.Batch, terms: M.Terms, t: Parameter) => {
  const { w, b } = M.dense(params, t.layer)
  const { tensor, at } = locate(params, t)
  const others = mul(tensor, mask(tensor.shape, at, true))
  const position = mask(tensor.shape, at)
  return (value: Tensor): Tensor => {
    const replaced = add(others, mul(value, position))
    return M.objective(network, M.withDense(params, t.layer, t.kind === 'weight' ? { w: replaced, b } : { w, b: replaced }), batch, terms)
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

/** What the inspector needs besides the network: the names of its inputs (the features, `x₁`, `sin x₂`). */
export interface Naming {
  readonly inputs: readonly string[]
}

/** Parameters and a minibatch in float64, whatever precision training runs in: the inspector's numbers are exact to rounding. */
const in64 = (params: M.Params, batch: M.Batch): { params: M.Params; batch: M.Batch } => ({
  params: Tree.map(params, (t) => (t.dtype === 'f64' ? t : astype(t, 'f64'))),
  batch: batch.x.dtype === 'f64' ? batch : { ...batch, x: astype(batch.x, 'f64') }
})

/** Inspects a weight, a bias or a unit on a minibatch, in float64 on lamina's cpu backend. */
export const inspect = (network: M.Network, trained: M.Params, minibatch: M.Batch, terms: M.Terms, target: Target, naming: Naming = { inputs: defaultInputs(network.widths[0]!) }): Inspection =>
  Backends.withBackend(cpu, () => {
    const { params, batch } = in64(trained, minibatch)
    checkTarget(network, target)
    const name = NAMES[target.kind]
    if (isParameter(target)) {
      const f = objectiveOfParameter(network, params, batch, terms, target)
      const trace = Trace.trace((inputs) => f(inputs[name]!), { [name]: parameterValue(params, target) })
      return finish(network, params, batch, terms, target, trace, name, naming)
    }
    const { values, from, unit } = unitColumn(network, params, batch, target)
    const [n, units] = values.shape as [number, number]
    const column = fromBuffer(Array.from({ length: n }, (_, r) => values.data[r * units + unit]!), [n])
    const others = mul(values, mask([1, units], unit, true))
    const position = mask([1, units], unit)
    const trace = Trace.trace(
      (inputs) => M.objectiveFrom(network, params, batch, terms, from, add(others, mul(reshape(inputs[name]!, [n, 1]), position))),
      { [name]: column }
    )
    return finish(network, params, batch, terms, target, trace, name, naming)
  })

const finish = (network: M.Network, params: M.Params, batch: M.Batch, terms: M.Terms, target: Target, trace: Trace.Trace, name: string, naming: Naming): Inspection => {
  const input = trace.rows[0]!
  const output = trace.rows.find((r) => r.index === trace.output)!
  const shown = label(target, naming.inputs)
  const context = readableContext(network, params, batch, terms, target, name, shown, naming)
  return { target, label: shown, value: input.value, adjoint: trace.gradient[name]!, loss: output.value.item(), trace, readable: R.readable(trace, context) }
}

const counted = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`

/**
 * Every value of the network that can appear in a trace as a constant, with its symbol and
 * meaning: the minibatch X, each layer's weights and biases and each hidden layer's outputs,
 * the labels, the penalty's parts and λ. readable.ts matches the trace's constants against
 * them by value; they are computed with the same lamina operations as the objective, so the
 * match is exact.
 */
const readableContext = (network: M.Network, params: M.Params, batch: M.Batch, terms: M.Terms, target: Target, name: string, shown: string, naming: Naming): R.Context => {
  const widths = network.widths
  const layers = M.denseCount(network)
  const examples = batch.labels.length
  const named: R.Named[] = [
    { symbol: 'X', meaning: `the minibatch: ${counted(examples, 'example')} (rows) of the features ${naming.inputs.join(', ')} (columns)`, value: batch.x }
  ]
  for (let k = 0; k < layers; k++) {
    const { w, b } = M.dense(params, k)
    named.push({ symbol: layerSymbol('W', k), meaning: `the weights of layer ${k + 1}, ${widths[k]} × ${widths[k + 1]} (from ${k === 0 ? 'the inputs' : `hidden layer ${k}`} to ${k === layers - 1 ? 'the output' : `hidden layer ${k + 1}`})`, value: w })
    named.push({ symbol: layerSymbol('b', k), meaning: `the biases of layer ${k + 1}, one per unit (the same for every example)`, value: b, rowsOf: true })
  }
  const outputs = M.forwardAll(network, params, batch.x)
  for (let k = 0; k < layers - 1; k++) {
    named.push({ symbol: layerSymbol('H', k), meaning: `the outputs of hidden layer ${k + 1} on the minibatch, ${examples} × ${widths[k + 1]}`, value: outputs[2 * k + 1]! })
  }
  // each layer's product before its bias is added, as the dense layer computes it
  for (let k = 0; k < layers; k++) {
    const into = k === 0 ? 'X' : layerSymbol('H', k - 1)
    const product = matmul(k === 0 ? batch.x : outputs[2 * k - 1]!, M.dense(params, k).w)
    named.push({ symbol: `${into} · ${layerSymbol('W', k)}`, meaning: `layer ${k + 1}’s weighted sums before its bias, a constant here`, value: product })
  }
  const y = fromBuffer(batch.labels, [examples])
  if (terms.problem === 'classification') {
    named.push({ symbol: 'y', meaning: 'the labels of the minibatch: 1 for blue, 0 for orange', value: y })
    named.push({ symbol: '(1 − y)', meaning: 'one minus the labels: 1 for orange, 0 for blue', value: fromBuffer(Array.from(batch.labels, (v) => 1 - v), [examples]) })
  } else {
    named.push({ symbol: 'y', meaning: 'the targets of the minibatch, what the output should predict', value: y })
  }
  if (terms.regularization !== 'none' && terms.rate > 0) {
    const l1 = terms.regularization === 'l1'
    const factor = l1 ? terms.rate : terms.rate * 0.5
    named.push({ symbol: l1 ? 'λ' : 'λ/2', meaning: `the ${l1 ? 'L1' : 'L2'} regularization rate λ = ${terms.rate}${l1 ? '' : ', halved (the penalty is λ/2 Σ w²)'}`, value: factor })
    // Σ |w| or Σ w² of each layer, as lamina's penalty computes them (λ = 1 keeps the sums exact), and the running sums of the first layers
    const norm = (k: number): string => `‖${layerSymbol('W', k)}‖${l1 ? '₁' : '²'}`
    const sumOf = (ks: number[]): number =>
      Regularize[l1 ? 'l1Penalty' : 'l2Penalty']({ layers: ks.map((k) => M.dense(params, k).w) }, { lambda: l1 ? 1 : 2, exclude: () => false }).item()
    const what = l1 ? 'the sum of |w| over' : 'the sum of w² over'
    for (let k = 0; k < layers; k++) {
      named.push({ symbol: norm(k), meaning: `${what} ${layerSymbol('W', k)}, a constant here`, value: sumOf([k]) })
      if (k > 0) {
        const first = Array.from({ length: k + 1 }, (_, j) => j)
        named.push({ symbol: first.map(norm).join(' + '), meaning: `${what} ${first.map((j) => layerSymbol('W', j)).join(', ')}, constants here`, value: sumOf(first) })
      }
    }
    const total = M.penalty(params, terms)!.item()
    named.push({ symbol: 'Ω', meaning: `the penalty ${l1 ? 'λ Σ |w|' : 'λ/2 Σ w²'} over all the weights: a constant here, since ${shown} is not a weight`, value: total })
  }
  return { named, input: { symbol: name, meaning: `${shown}, the value this trace varies (v₀)` }, entry: entryOf(network, target, name, shown, naming), examples }
}

/** What the masking rows stand for, folded into one row, and how the clicked value's adjoint is read from that row's. */
const entryOf = (network: M.Network, target: Target, name: string, shown: string, naming: Naming): R.Entry | undefined => {
  switch (target.kind) {
    case 'weight': {
      const W = layerSymbol('W', target.layer)
      const at = `[${target.from + 1}→${target.to + 1}]`
      return { symbol: `${W} with ${name} at ${at}`, meaning: `${W} with its entry ${at} (row ${target.from + 1}, column ${target.to + 1}) set to ${name} = v₀; the other entries are constants`, pick: (bar) => `${bar}${at}` }
    }
    case 'bias': {
      const b = layerSymbol('b', target.layer)
      const at = `[${target.unit + 1}]`
      return { symbol: `${b} with ${name} at ${at}`, meaning: `${b} with its entry ${at} set to ${name} = v₀; the other entries are constants`, pick: (bar) => `${bar}${at}` }
    }
    case 'input':
    case 'unit': {
      const matrix = target.kind === 'input' ? 'X' : layerSymbol('H', target.layer)
      const column = target.unit + 1
      return { symbol: `${matrix} with ${name} as column ${column}`, meaning: `${matrix} with column ${column} (${shown} of each example) set to ${name} = v₀; the other columns are constants`, pick: (bar) => `${bar}[:, ${column}]` }
    }
    case 'output':
      return network.widths[network.widths.length - 1] === 1 ? undefined : { symbol: `Z with ${name}`, meaning: `the outputs with ${name} = v₀`, pick: (bar) => bar }
  }
}

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
export const checkGradient = (network: M.Network, trained: M.Params, minibatch: M.Batch, terms: M.Terms, target: Parameter, adjoint: number): GradientCheck =>
  Backends.withBackend(cpu, () => {
    const { params, batch } = in64(trained, minibatch)
    const f = objectiveOfParameter(network, params, batch, terms, target)
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
