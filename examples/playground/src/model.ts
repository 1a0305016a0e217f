/**
 * The network the editor describes, as a lamina `sequential`: the chosen features in, for each
 * hidden width a dense layer and the chosen activation, then one dense output unit. For
 * classification its value is the logit of "blue" and the data term is the mean binary
 * cross-entropy on logits; for regression it is the prediction itself and the data term is the
 * mean squared error. The penalty is λ · Σ |w| (L1) or λ/2 · Σ w² (L2) over the weights
 * (seed 004: biases are not decayed).
 *
 * @module
 */
import { Layer, Layers, Loss, Regularize, add } from 'lamina-nn'
import type { Spec, Tensor } from 'lamina-nn'
import { problemOf } from './config.js'
import type { ActivationName, Config, Problem, Regularization } from './config.js'

/** The parameters of the network: `layers[2k]` is the k-th dense layer's `{ w: [in, out], b: [out] }`, activations hold `{}`. */
export type Params = Spec.ModelParams

/** A dense layer's parameters. */
export interface DenseParams {
  readonly w: Tensor
  readonly b: Tensor
}

/** A batch of labelled points: their features `[B, F]`, and a label (0/1) or target per point. */
export interface Batch {
  readonly x: Tensor
  readonly labels: Float64Array
}

/** What the objective adds up: the data term of the problem, and the penalty. */
export interface Terms {
  readonly problem: Problem
  readonly regularization: Regularization
  /** λ. */
  readonly rate: number
}

/** The objective's terms of a configuration. */
export const termsOf = (config: Pick<Config, 'dataset' | 'regularization' | 'rate'>): Terms => ({
  problem: problemOf(config.dataset),
  regularization: config.regularization,
  rate: config.rate
})

/** The built network and what the views need to know about it. */
export interface Network {
  /** The layers in order: dense, activation, dense, activation, …, dense. */
  readonly layers: readonly Layer.AnyLayer[]
  readonly model: Layer.Layer<[number], [1], Params, Spec.ModelState>
  /** The same network as a model spec (what a checkpoint records). */
  readonly spec: Spec.ModelSpec
  /** Widths from the input to the output: `[features, …hidden, 1]`. */
  readonly widths: readonly number[]
}

const activationLayer = (name: ActivationName): Layer.AnyLayer => {
  switch (name) {
    case 'sigmoid': return Layers.sigmoid()
    case 'tanh': return Layers.tanh()
    case 'relu': return Layers.relu()
    case 'leakyRelu': return Layers.leakyRelu(0.01)
    case 'gelu': return Layers.gelu('erf')
  }
}

const activationSpec = (name: ActivationName): Spec.LayerSpec => {
  switch (name) {
    case 'leakyRelu': return { kind: 'leakyRelu', alpha: 0.01 }
    case 'gelu': return { kind: 'gelu', form: 'erf' }
    default: return { kind: name }
  }
}

/** Builds the network of a configuration. */
export const build = (config: Pick<Config, 'hidden' | 'activation' | 'features'>): Network => {
  const widths = [config.features.length, ...config.hidden, 1]
  const layers: Layer.AnyLayer[] = []
  const specLayers: Spec.LayerSpec[] = []
  for (let k = 1; k < widths.length; k++) {
    layers.push(Layers.dense(widths[k - 1]!, widths[k]!))
    specLayers.push({ kind: 'dense', units: widths[k]! })
    if (k < widths.length - 1) {
      layers.push(activationLayer(config.activation))
      specLayers.push(activationSpec(config.activation))
    }
  }
  // the widths are chosen at run time, so `sequential` checks the chain at run time
  const model = Layer.sequential(...(layers as [Layer.AnyLayer])) as unknown as Network['model']
  return { layers, model, spec: { input: [widths[0]!], layers: specLayers }, widths }
}

/** The number of dense layers (hidden layers + 1). */
export const denseCount = (network: Network): number => network.widths.length - 1

/** The parameters of dense layer `k` (0-based). */
export const dense = (params: Params, k: number): DenseParams => params.layers[2 * k] as unknown as DenseParams

/** Params with dense layer `k` replaced. */
export const withDense = (params: Params, k: number, replacement: DenseParams): Params => ({
  layers: params.layers.map((p, i) => (i === 2 * k ? (replacement as unknown as typeof p) : p))
})

/** The outputs of layers `from`, `from + 1`, … for `input`, the output of layer `from − 1` (entry `i` is layer `from + i`'s). */
export const forwardFrom = (network: Network, params: Params, from: number, input: Tensor): Tensor[] => {
  const state = network.model.initState()
  const outs: Tensor[] = []
  let y = input
  for (let i = from; i < network.layers.length; i++) {
    y = network.layers[i]!.forward(params.layers[i], y, { training: false, state: state.layers[i] }).y
    outs.push(y)
  }
  return outs
}

/** The outputs of every layer for inputs `x`: entry `i` is the output of `layers[i]`. */
export const forwardAll = (network: Network, params: Params, x: Tensor): Tensor[] => forwardFrom(network, params, 0, x)

/** The outputs `[B, 1]` of a batch: logits (classification) or predictions (regression). */
export const logits = (network: Network, params: Params, x: Tensor): Tensor => Layer.apply(network.model, params, x)

/** The data term: mean binary cross-entropy of logits against 0/1 labels, or the mean squared error of predictions. */
export const dataLoss = (z: Tensor, labels: ArrayLike<number>, problem: Problem): Tensor =>
  problem === 'regression' ? Loss.mse(z, labels) : Loss.binaryCrossEntropyWithLogits(z, labels)

/** The penalty of `params`: λ Σ |w| or λ/2 Σ w² over the weights; undefined when there is none (λ = 0 or no regularization). */
export const penalty = (params: Params, terms: Pick<Terms, 'regularization' | 'rate'>): Tensor | undefined => {
  if (terms.rate === 0 || terms.regularization === 'none') return undefined
  return terms.regularization === 'l1' ? Regularize.l1Penalty(params, { lambda: terms.rate }) : Regularize.l2Penalty(params, { lambda: terms.rate })
}

/** A data term plus the penalty of `params`. */
export const penalised = (data: Tensor, params: Params, terms: Pick<Terms, 'regularization' | 'rate'>): Tensor => {
  const p = penalty(params, terms)
  return p === undefined ? data : add(data, p)
}

/** The objective a step minimises: the data term plus the penalty. */
export const objective = (network: Network, params: Params, batch: Batch, terms: Terms): Tensor =>
  penalised(dataLoss(logits(network, params, batch.x), batch.labels, terms.problem), params, terms)

/**
 * The objective from the output of layer `from − 1` onwards (`h` stands for that output; with
 * `from` past the last layer, `h` stands for the outputs).
 */
export const objectiveFrom = (network: Network, params: Params, batch: Batch, terms: Terms, from: number, h: Tensor): Tensor => {
  const outs = forwardFrom(network, params, from, h)
  return penalised(dataLoss(outs[outs.length - 1] ?? h, batch.labels, terms.problem), params, terms)
}
