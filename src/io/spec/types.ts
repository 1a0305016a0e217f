/**
 * The shape of a model spec as data: one interface per layer kind, told apart by `kind`, and
 * the model `{ input, layers }`. Re-exported by `Spec` (`src/io/spec.ts`).
 *
 * @module
 */

/** A dense layer `y = x·w + b` with `units` outputs; its input width is the running width (or `inputs`, checked). */
export interface DenseSpec {
  readonly kind: 'dense'
  readonly units: number
  /** The expected input width; inferred when absent, and checked like `Layers.dense(inputs, units)` when given. */
  readonly inputs?: number
}

/** A 2-D convolution with `filters` output channels and a `kernel × kernel` window. */
export interface Conv2dSpec {
  readonly kind: 'conv2d'
  readonly filters: number
  readonly kernel: number
  /** Step between windows (default 1). */
  readonly stride?: number
  /** Zeros added on every side (default 0). */
  readonly padding?: number
  /** The expected input channels; inferred when absent, and checked like `Conv.conv2d(channels, …)` when given. */
  readonly channels?: number
}

/** 2-D max pooling over `kernel × kernel` windows, `stride` apart (default `kernel`), `padding` (default 0, below `kernel`) counting as −∞. */
export interface MaxPool2dSpec {
  readonly kind: 'maxPool2d'
  readonly kernel: number
  readonly stride?: number
  readonly padding?: number
}

/** 2-D average pooling, windows as {@link MaxPool2dSpec}; padding counts as zeros (every window divides by `kernel²`). */
export interface AvgPool2dSpec {
  readonly kind: 'avgPool2d'
  readonly kernel: number
  readonly stride?: number
  readonly padding?: number
}

/** Global average pooling: images `[C, H, W]` to `[C]`, the mean of each channel. */
export interface GlobalAvgPoolSpec {
  readonly kind: 'globalAvgPool'
}

/** A residual block `x + f(x)`, `f` the `layers` in sequence (`Combinators.residual(Layer.sequential(...))`); `f` must keep the shape. */
export interface ResidualSpec {
  readonly kind: 'residual'
  readonly layers: readonly LayerSpec[]
}

/**
 * Parallel branches (`Combinators.parallel`), each a list of layers in sequence, applied to
 * the same input; `merge: "concat"` (the only merge, the default) joins their outputs along
 * the last axis.
 */
export interface ParallelSpec {
  readonly kind: 'parallel'
  readonly branches: readonly (readonly LayerSpec[])[]
  readonly merge?: 'concat'
}

/** Inverted dropout with drop probability `rate` in [0, 1). */
export interface DropoutSpec {
  readonly kind: 'dropout'
  readonly rate: number
}

/** Flattens each example to one axis. */
export interface FlattenSpec {
  readonly kind: 'flatten'
}

/** Reshapes each example to `shape` (same number of elements). */
export interface ReshapeSpec {
  readonly kind: 'reshape'
  readonly shape: readonly number[]
}

/** Batch normalization: per feature for `[F]` inputs, per channel for images `[C, H, W]`. */
export interface BatchNormSpec {
  readonly kind: 'batchNorm'
  /** Weight of the current batch in the running statistics, in [0, 1] (default 0.1). */
  readonly momentum?: number
  /** ε added to the variance, > 0 (default 1e-5). */
  readonly eps?: number
}

/** Leaky ReLU with slope `alpha` below zero (default 0.01). */
export interface LeakyReluSpec {
  readonly kind: 'leakyRelu'
  readonly alpha?: number
}

/** ELU with scale `alpha` (default 1). */
export interface EluSpec {
  readonly kind: 'elu'
  readonly alpha?: number
}

/** GELU, exact (`erf`, the default) or the `tanh` approximation. */
export interface GeluSpec {
  readonly kind: 'gelu'
  readonly form?: 'erf' | 'tanh'
}

/** Parametric ReLU: a learned slope per unit below zero (`alpha`, one per feature of a 1-D input). */
export interface PreluSpec {
  readonly kind: 'prelu'
}

/** Maxout: the maximum over groups of `k` consecutive units of the last axis. */
export interface MaxoutSpec {
  readonly kind: 'maxout'
  readonly k: number
}

/** The activations without options (`absRectify` is |x|). */
export type ActivationKind = 'sigmoid' | 'tanh' | 'relu' | 'softplus' | 'softmax' | 'logSoftmax' | 'identity' | 'absRectify'

/** An activation layer without options. */
export interface ActivationSpec {
  readonly kind: ActivationKind
}

/** The activation kinds, in the order messages list them. */
export const activationKinds: readonly ActivationKind[] = ['sigmoid', 'tanh', 'relu', 'softplus', 'softmax', 'logSoftmax', 'identity', 'absRectify']

/** One layer of a model spec. */
export type LayerSpec =
  | DenseSpec
  | Conv2dSpec
  | MaxPool2dSpec
  | AvgPool2dSpec
  | GlobalAvgPoolSpec
  | ResidualSpec
  | ParallelSpec
  | DropoutSpec
  | FlattenSpec
  | ReshapeSpec
  | BatchNormSpec
  | LeakyReluSpec
  | EluSpec
  | GeluSpec
  | PreluSpec
  | MaxoutSpec
  | ActivationSpec

/** A `sequential` model: the per-example input shape and the layers, in order. */
export interface ModelSpec {
  readonly input: readonly number[]
  readonly layers: readonly LayerSpec[]
}
