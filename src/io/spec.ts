/**
 * Models and training runs described as JSON. A model spec lists the per-example input
 * shape and the layers of a `sequential` model; widths are inferred from the running shape,
 * so a dense layer names only its `units` and a convolution only its `filters` and `kernel`:
 *
 * ```json
 * { "input": [784],
 *   "layers": [ { "kind": "reshape", "shape": [1, 28, 28] },
 *               { "kind": "conv2d", "filters": 6, "kernel": 3 }, { "kind": "relu" },
 *               { "kind": "maxPool2d", "kernel": 2 }, { "kind": "flatten" },
 *               { "kind": "dense", "units": 10 } ] }
 * ```
 *
 * {@link build} decodes the spec (every field checked, unknown keys rejected, see `Codec`)
 * and composes the layers with `Layer.sequential`, so a spec that does not fit together
 * fails with the very `ShapeError` words the type checker shows for the same mistake
 * written in TypeScript ("layer 3 expects 4056 features but layer 2 produces shape
 * [6,26,26]"). A training configuration ({@link decodeTraining}) names the epochs, batch
 * size, seed, loss and optimizer, with defaults for what it leaves out.
 *
 * @example
 * ```ts
 * import { Spec, Layer, Random, zeros } from 'lamina-nn'
 * import assert from 'node:assert'
 * const built = Spec.build({ input: [784], layers: [{ kind: 'dense', units: 128 }, { kind: 'relu' }, { kind: 'dense', units: 10 }] })
 * assert.ok(built._tag === 'Right')
 * const { model, outputShape } = built.right
 * assert.deepStrictEqual(outputShape, [10])
 * assert.deepStrictEqual(Layer.apply(model, model.init(Random.key(0)), zeros([2, 784])).shape, [2, 10])
 * ```
 *
 * @module
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Either } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { ArgumentError, LaminaError, ShapeError } from '../error.js'
import * as Sh from '../shape.js'
import type { Shape } from '../shape.js'
import type { Tensor } from '../tensor.js'
import type { Tree } from '../tree.js'
import * as Combinators from '../nn/combinators.js'
import * as Conv from '../nn/conv.js'
import * as Layer from '../nn/layer.js'
import type { AnyLayer } from '../nn/layer.js'
import * as Layers from '../nn/layers.js'
import * as Loss from '../nn/losses.js'
import * as Norm from '../nn/norm.js'
import * as Optim from '../nn/optim.js'
import type { Optimizer } from '../nn/optim.js'
import type { Loss as LossFn } from '../nn/train.js'
import { DecodeError, Finite, formatFailure, Fraction, NonNegative, NonNegativeInt, Positive, PositiveInt, Probability, SafeInt, array, decodeWith, oneOf, parseJson, struct, tagged } from './codec.js'

// ================================================================ model specs

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

/** Checks at compile time that a codec decodes to (a subtype of) `A`, and types it as `A`. */
const as =
  <A>() =>
  <B extends A>(codec: t.Type<B, unknown, unknown>): t.Type<A, unknown, unknown> =>
    codec as unknown as t.Type<A, unknown, unknown>

// ---------------------------------------------------------------- limits

/**
 * The most elements one tensor a spec describes may have: each dimension and size field
 * (`input`, `reshape` shapes, `units`, `filters`, `kernel`, `stride`, `padding`, `channels`,
 * `inputs`), the per-example input and every layer's per-example output, and every parameter
 * or state tensor. 2^30 (8 GiB in f64): beyond what a typed array holds comfortably, so a
 * spec such as `"input": [1e15]` is refused with a message naming the field, not a
 * `RangeError` from deep inside an allocation.
 *
 * @example
 * ```ts
 * import { Spec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Spec.MAX_ELEMENTS, 2 ** 30)
 * const huge = Spec.parse('{"input": [1e15], "layers": [{"kind": "relu"}]}')
 * assert.ok(huge._tag === 'Left')
 * assert.strictEqual(huge.left.message, 'model spec: input[0]: expected positive integer ≤ 1073741824 (Spec.MAX_ELEMENTS), got 1000000000000000')
 * ```
 */
export const MAX_ELEMENTS = 2 ** 30

/**
 * The most dimensions a spec's shape (`input`, a `reshape`'s `shape`) may have.
 *
 * @example
 * ```ts
 * import { Spec } from 'lamina-nn'
 * import assert from 'node:assert'
 * const deep = Spec.decode({ input: Array.from({ length: Spec.MAX_RANK + 1 }, () => 1), layers: [{ kind: 'relu' }] })
 * assert.ok(deep._tag === 'Left' && deep.left.message === ('model spec: input: expected a shape of at most 8 dimensions (Spec.MAX_RANK), got 9'))
 * ```
 */
export const MAX_RANK = 8

/**
 * The most layers a spec may list (and the most keys a layer object or the spec object may
 * have is {@link MAX_KEYS}), so that a hostile spec cannot make decoding build millions of
 * layers or failure reports.
 *
 * @example
 * ```ts
 * import { Spec } from 'lamina-nn'
 * import assert from 'node:assert'
 * const long = Spec.decode({ input: [1], layers: Array.from({ length: Spec.MAX_LAYERS + 1 }, () => ({ kind: 'relu' })) })
 * assert.ok(long._tag === 'Left' && long.left.message === 'model spec: layers: expected an array of at most 10000 layers (Spec.MAX_LAYERS), got 10001')
 * ```
 */
export const MAX_LAYERS = 10_000

/**
 * The deepest that `residual` and `parallel` blocks may nest (a block's layers are one level
 * below the list holding the block). Decoding walks a spec's blocks before it reads them, so a
 * hostile spec nested a million deep is refused with this limit's name, not a stack overflow;
 * the layers of all levels together count towards {@link MAX_LAYERS} (and a parallel block's
 * branches too).
 *
 * @example
 * ```ts
 * import { Spec } from 'lamina-nn'
 * import assert from 'node:assert'
 * let layer: Spec.LayerSpec = { kind: 'relu' }
 * for (let i = 0; i <= Spec.MAX_DEPTH; i++) layer = { kind: 'residual', layers: [layer] }
 * const deep = Spec.decode({ input: [2], layers: [layer] })
 * assert.ok(deep._tag === 'Left')
 * assert.strictEqual(deep.left.message, 'model spec: layers: expected residual and parallel blocks nested at most 16 deep (Spec.MAX_DEPTH), got 17')
 * ```
 */
export const MAX_DEPTH = 16

/**
 * The most keys the spec object or one layer object may have (the codecs name at most a
 * handful; this bounds the work of reporting unknown keys).
 *
 * @example
 * ```ts
 * import { Spec } from 'lamina-nn'
 * import assert from 'node:assert'
 * const wide = Spec.decode({ input: [1], layers: [Object.fromEntries([['kind', 'relu'], ...Array.from({ length: 40 }, (_, i) => [`k${i}`, i])])] })
 * assert.ok(wide._tag === 'Left' && wide.left.message === 'model spec: layers[0]: expected a layer object with at most 16 keys (Spec.MAX_KEYS), got 41')
 * ```
 */
export const MAX_KEYS = 16

/**
 * The longest spec text {@link parse} (and {@link load}, and so `Checkpoint.decode` for the
 * spec in a file's metadata) reads: 2^20 characters, room for {@link MAX_LAYERS} layers;
 * longer text is refused before it is parsed.
 *
 * @example
 * ```ts
 * import { Spec } from 'lamina-nn'
 * import assert from 'node:assert'
 * const long = Spec.parse(`{"input": [1], "layers": [${'{"kind": "relu"},'.repeat(70_000)}{"kind": "relu"}]}`)
 * assert.ok(long._tag === 'Left' && long.left.message.startsWith('model spec: expected JSON text of at most 1048576 characters (Spec.MAX_SPEC_LENGTH), got '))
 * ```
 */
export const MAX_SPEC_LENGTH = 2 ** 20

/**
 * The default limit of {@link checkParameterCount}: the most parameters (elements of all
 * parameter tensors) a model built to be trained may have, 10^8 (0.8 GB in f64, about four
 * times that while training with Adam). Loading a file needs no such limit: a checkpoint's
 * parameters must be in the file, so they are bounded by its size.
 *
 * @example
 * ```ts
 * import { Spec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Spec.MAX_PARAMETERS, 100_000_000)
 * ```
 */
export const MAX_PARAMETERS = 100_000_000

/**
 * A size codec: what `base` accepts (a positive or non-negative integer, failing with its
 * own words), and at most {@link MAX_ELEMENTS}, failing with the limit's words.
 */
const bounded = <A extends number>(base: t.Type<A, number, unknown>): t.Type<A, number, unknown> => {
  const over = `${base.name} ≤ ${MAX_ELEMENTS} (Spec.MAX_ELEMENTS)`
  return new t.Type<A, number, unknown>(
    base.name,
    (u): u is A => base.is(u) && u <= MAX_ELEMENTS,
    (u, c) => (!base.is(u) ? t.failure(u, c) : u > MAX_ELEMENTS ? t.failure(u, c, over) : t.success(u)),
    (a) => a
  )
}
/** A size field (units, filters, a kernel, a stride, a dimension): a positive integer ≤ MAX_ELEMENTS. */
const Size = bounded(PositiveInt)
/** A padding: a non-negative integer ≤ MAX_ELEMENTS. */
const Padding = bounded(NonNegativeInt)

/** `codec`, refusing first (before it looks at any item) an array longer than `max`. */
const atMost = <A>(codec: t.Type<A, unknown, unknown>, max: number, what: string, limitName: string): t.Type<A, unknown, unknown> => {
  const validate = (u: unknown, c: t.Context): t.Validation<A> =>
    // the failure's value is the length, so the message reads `expected … at most 8 dimensions (…), got 9`
    Array.isArray(u) && u.length > max ? t.failure(u.length, c, `${what} of at most ${max} ${limitName}`) : codec.validate(u, c)
  return new t.Type<A, unknown, unknown>(codec.name, (u): u is A => E.isRight(validate(u, [{ key: '', type: t.unknown, actual: u }])), validate, (a) => a)
}

/** `codec`, refusing first an object with more than {@link MAX_KEYS} own keys. */
const fewKeys = <A>(codec: t.Type<A, unknown, unknown>, what: string): t.Type<A, unknown, unknown> => {
  const validate = (u: unknown, c: t.Context): t.Validation<A> => {
    if (typeof u === 'object' && u !== null && !Array.isArray(u)) {
      const n = Object.keys(u).length
      if (n > MAX_KEYS) return t.failure(n, c, `${what} with at most ${MAX_KEYS} keys (Spec.MAX_KEYS)`)
    }
    return codec.validate(u, c)
  }
  return new t.Type<A, unknown, unknown>(codec.name, (u): u is A => E.isRight(validate(u, [{ key: '', type: t.unknown, actual: u }])), validate, (a) => a)
}

const Dims = atMost(array(Size, 'shape (an array of positive integers)', 1), MAX_RANK, 'a shape', 'dimensions (Spec.MAX_RANK)')

const activationKinds: readonly ActivationKind[] = ['sigmoid', 'tanh', 'relu', 'softplus', 'softmax', 'logSoftmax', 'identity', 'absRectify']

const plain = (kind: ActivationKind) => as<ActivationSpec>()(struct(`${kind} layer`, { kind: t.literal(kind) }))

const ownValue = (o: object, key: string): unknown => Object.getOwnPropertyDescriptor(o, key)?.value

/**
 * The nesting depth of the blocks in a list of (undecoded) layers and the number of layers and
 * branches in it, all levels together; the walk stops once past {@link MAX_DEPTH} or
 * {@link MAX_LAYERS}, so its work and its recursion are bounded whatever the value.
 */
const measure = (list: unknown): { readonly depth: number; readonly count: number } => {
  let depth = 0
  let count = 0
  const walk = (items: unknown, level: number): void => {
    if (!Array.isArray(items)) return
    depth = Math.max(depth, level)
    if (level > MAX_DEPTH) return
    for (let i = 0; i < items.length && count <= MAX_LAYERS; i++) {
      count++
      const item: unknown = items[i]
      if (typeof item !== 'object' || item === null || Array.isArray(item)) continue
      const kind = ownValue(item, 'kind')
      if (kind === 'residual') walk(ownValue(item, 'layers'), level + 1)
      if (kind !== 'parallel') continue
      const branches = ownValue(item, 'branches')
      if (!Array.isArray(branches)) continue
      for (let k = 0; k < branches.length && count <= MAX_LAYERS && depth <= MAX_DEPTH; k++) {
        count++
        walk(branches[k], level + 1)
      }
    }
  }
  walk(list, 0)
  return { depth, count }
}

/** `codec` for a list of layers, refusing first a list whose blocks nest too deep or hold too many layers in all. */
const boundedNesting = <A>(codec: t.Type<A, unknown, unknown>, list: (u: unknown) => unknown): t.Type<A, unknown, unknown> => {
  const validate = (u: unknown, c: t.Context): t.Validation<A> => {
    const items = list(u)
    // an over-long flat list: the list's own codec names its length
    if (Array.isArray(items) && items.length > MAX_LAYERS) return codec.validate(u, c)
    const { depth, count } = measure(items)
    if (depth > MAX_DEPTH) return t.failure(depth, c, `residual and parallel blocks nested at most ${MAX_DEPTH} deep (Spec.MAX_DEPTH)`)
    if (count > MAX_LAYERS) return t.failure(count, c, `at most ${MAX_LAYERS} layers in all, blocks' layers and branches included (Spec.MAX_LAYERS)`)
    return codec.validate(u, c)
  }
  return new t.Type<A, unknown, unknown>(codec.name, (u): u is A => E.isRight(validate(u, [{ key: '', type: t.unknown, actual: u }])), validate, (a) => a)
}

/** A list of layers (at least one), without the nesting guard (the caller's guard has walked it). */
const layerList = (): t.Type<readonly LayerSpec[], unknown, unknown> =>
  atMost(array(layerShape, 'array of layers', 1), MAX_LAYERS, 'an array', 'layers (Spec.MAX_LAYERS)') as t.Type<readonly LayerSpec[], unknown, unknown>

const pooling = <K extends 'maxPool2d' | 'avgPool2d'>(kind: K) =>
  struct(`${kind} layer`, { kind: t.literal(kind), kernel: Size }, { stride: Size, padding: Padding })

/** One layer, blocks' inner layers read with this same codec (lazily: a block refers to it). */
const layerShape: t.Type<LayerSpec, unknown, unknown> = t.recursion('layer', () =>
  fewKeys(
    as<LayerSpec>()(
      tagged('kind', 'layer', {
        dense: as<DenseSpec>()(struct('dense layer', { kind: t.literal('dense'), units: Size }, { inputs: Size })),
        conv2d: as<Conv2dSpec>()(
          struct('conv2d layer', { kind: t.literal('conv2d'), filters: Size, kernel: Size }, { stride: Size, padding: Padding, channels: Size })
        ),
        maxPool2d: as<MaxPool2dSpec>()(pooling('maxPool2d')),
        dropout: as<DropoutSpec>()(struct('dropout layer', { kind: t.literal('dropout'), rate: Fraction })),
        flatten: as<FlattenSpec>()(struct('flatten layer', { kind: t.literal('flatten') })),
        reshape: as<ReshapeSpec>()(struct('reshape layer', { kind: t.literal('reshape'), shape: Dims })),
        batchNorm: as<BatchNormSpec>()(struct('batchNorm layer', { kind: t.literal('batchNorm') }, { momentum: Probability, eps: Positive })),
        leakyRelu: as<LeakyReluSpec>()(struct('leakyRelu layer', { kind: t.literal('leakyRelu') }, { alpha: Finite })),
        elu: as<EluSpec>()(struct('elu layer', { kind: t.literal('elu') }, { alpha: Finite })),
        gelu: as<GeluSpec>()(struct('gelu layer', { kind: t.literal('gelu') }, { form: oneOf(['erf', 'tanh']) })),
        prelu: as<PreluSpec>()(struct('prelu layer', { kind: t.literal('prelu') })),
        maxout: as<MaxoutSpec>()(struct('maxout layer', { kind: t.literal('maxout'), k: Size })),
        ...Object.fromEntries(activationKinds.map((k) => [k, plain(k)])),
        avgPool2d: as<AvgPool2dSpec>()(pooling('avgPool2d')),
        globalAvgPool: as<GlobalAvgPoolSpec>()(struct('globalAvgPool layer', { kind: t.literal('globalAvgPool') })),
        residual: as<ResidualSpec>()(struct('residual layer', { kind: t.literal('residual'), layers: layerList() })),
        parallel: as<ParallelSpec>()(
          struct(
            'parallel layer',
            { kind: t.literal('parallel'), branches: atMost(array(layerList(), 'array of branches (each an array of layers)', 1), MAX_LAYERS, 'an array', 'branches (Spec.MAX_LAYERS)') },
            { merge: oneOf(['concat']) }
          )
        )
      })
    ),
    'a layer object'
  )
)

/**
 * The codec of one layer: a union told apart by `kind`, each member a closed object.
 *
 * @example
 * ```ts
 * import { Spec, Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.ok(Spec.LayerCodec.is({ kind: 'conv2d', filters: 6, kernel: 3 }))
 * const bad = Codec.decodeWith(Spec.LayerCodec, { kind: 'dense', units: 0 }, 'layer')
 * assert.ok(bad._tag === 'Left' && bad.left.message === 'layer: units: expected positive integer, got 0')
 * ```
 */
export const LayerCodec: t.Type<LayerSpec, unknown, unknown> = boundedNesting(layerShape, (u) => [u])

/**
 * The codec of a model spec `{ input, layers }`.
 *
 * @example
 * ```ts
 * import { Spec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.ok(Spec.ModelCodec.is({ input: [784], layers: [{ kind: 'dense', units: 10 }] }))
 * assert.ok(!Spec.ModelCodec.is({ input: [784], layers: [] }))
 * ```
 */
export const ModelCodec: t.Type<ModelSpec, unknown, unknown> = fewKeys(
  as<ModelSpec>()(
    struct('model spec', { input: Dims, layers: boundedNesting(layerList(), (u) => u) })
  ),
  'a model spec object'
)

/**
 * Decodes a model spec (a parsed JSON value) without building it.
 *
 * @example
 * ```ts
 * import { Spec } from 'lamina-nn'
 * import assert from 'node:assert'
 * const spec = Spec.decode(JSON.parse('{"input": [4], "layers": [{"kind": "dense", "units": 2}, {"kind": "softmax"}]}'))
 * assert.ok(spec._tag === 'Right' && spec.right.layers.length === 2)
 * const bad = Spec.decode({ input: [4], layers: [{ kind: 'dense', units: 2 }, { kind: 'dence', units: 3 }] })
 * assert.ok(bad._tag === 'Left' && bad.left.message.startsWith('model spec: layers[1].kind: expected one of "dense", "conv2d"'))
 * ```
 */
export const decode = (value: unknown): Either<DecodeError, ModelSpec> => decodeWith(ModelCodec, value, 'model spec')

/**
 * Parses and decodes a model spec from JSON text.
 *
 * @example
 * ```ts
 * import { Spec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.ok(Spec.parse('{"input": [2], "layers": [{"kind": "tanh"}]}')._tag === 'Right')
 * const bad = Spec.parse('{"input": [2], "layers": [{"kind": "dense", "units": 128, "unit": 3}]}')
 * assert.ok(bad._tag === 'Left')
 * assert.strictEqual(bad.left.message, 'model spec: layers[0].unit: expected no such key (dense layer keys: kind, units, inputs), got 3')
 * ```
 */
export const parse = (text: string): Either<DecodeError, ModelSpec> =>
  text.length > MAX_SPEC_LENGTH
    ? E.left(
        new DecodeError('model spec', [{ path: '', expected: `JSON text of at most ${MAX_SPEC_LENGTH} characters (Spec.MAX_SPEC_LENGTH)`, got: `${text.length} characters` }])
      )
    : parseJson(ModelCodec, text, 'model spec')

// ---------------------------------------------------------------- building

/** The parameters of a model built from a spec: one entry per layer (`{}` for layers without). */
export type ModelParams = { readonly layers: readonly Tree[] }
/** The state of a model built from a spec: one entry per layer. */
export type ModelState = { readonly layers: readonly unknown[] }

/** A `sequential` model built from a spec; it carries its spec (with defaults filled in) for {@link toSpec}. */
export type Model = Layer.Layer<Shape, Shape, ModelParams, ModelState> & { readonly spec: ModelSpec }

/**
 * One tensor of the parameters or the state of a model built from a spec, known from the
 * spec alone (no allocation): its dotted name in the tree (`layers.0.w`, as
 * `Safetensors.fromTree` names it), its shape, and the layer it belongs to.
 */
export interface TensorSlot {
  /** The dotted name in the parameter (or state) tree: `layers.0.w`, `layers.1.mean`. */
  readonly name: string
  /**
   * The field in the layer's record: `w`, `b`, `gamma`, `beta`, `mean`, `variance`; for a
   * layer inside a block, its path in the block's record (`layers.0.w`, `branches.1.layers.0.b`).
   */
  readonly field: string
  readonly shape: Shape
  /** The layer's index in the spec (0-based, as in `layers[0]`). */
  readonly layer: number
  /** The kind of the layer that holds the tensor (`dense`, `conv2d`, `batchNorm`; inside a block, the inner layer's). */
  readonly kind: string
}

/** What {@link build} returns: the model, its per-example input and output shapes, and the shapes of its parameters and state. */
export interface Built {
  readonly model: Model
  readonly inputShape: Shape
  readonly outputShape: Shape
  /** The tensors `model.init(key)` draws, in its order, from a walk over the shapes alone. */
  readonly parameters: readonly TensorSlot[]
  /** The tensors `model.initState()` holds (batch-norm running statistics), in its order. */
  readonly state: readonly TensorSlot[]
  /** The number of parameters: the elements of all of {@link Built.parameters}. */
  readonly parameterCount: number
}

const anyDims = (rank: number): Shape => Array.from({ length: rank }, () => -1)

/**
 * The error `sequential` throws when layer `i` (0-based) cannot take `cur`, for a layer
 * whose input width is inferred and so cannot be constructed: the same words, with the
 * unknown sizes written `?`.
 */
const misfit = (i: number, kind: string, expects: string, cur: Shape): ShapeError =>
  i === 0
    ? new ShapeError(`layer 1: ${kind} expects ${expects} but got ${Layer.describe(cur)}`)
    : new ShapeError(`layer ${i + 1} expects ${expects} but layer ${i} produces ${Layer.describe(cur)}`)

/** A parameter or state tensor of a layer: its path in the layer's record, its shape, and the kind of the (inner) layer holding it. */
type Slot = readonly [string, Shape, string?]

/** A layer built from its spec: the layer, its canonical spec, and the shapes of its parameters and state (what `init` and `initState` would allocate). */
interface Made {
  readonly layer: AnyLayer
  readonly spec: LayerSpec
  readonly params?: readonly Slot[]
  readonly state?: readonly Slot[]
}

/** A list of layers built into a `sequential` for the input `input`: the layer, the canonical specs, its output, and its slots (`layers.i.…`). */
interface Chain {
  readonly layer: AnyLayer
  readonly made: readonly Made[]
  readonly output: Shape
}

/** The slots of a chain's layers, named as in the chain's record (`layers.0.w`). */
const chainSlots = (made: readonly Made[], which: 'params' | 'state'): Slot[] =>
  made.flatMap((m, i) => (m[which] ?? []).map(([path, shape, kind]): Slot => [`layers.${i}.${path}`, shape, kind ?? m.spec.kind]))

/**
 * Builds a list of layer specs into a `sequential` on the running shape `input`: each layer
 * for the shape before it, composed by `Layer.sequential`, so a misfit has its words. The
 * first layer is given `input` as its input shape, so messages carry the sizes.
 */
const makeChain = (specs: readonly LayerSpec[], input: Shape, where: string): Chain => {
  const made: Made[] = []
  let cur: Shape = input
  for (let i = 0; i < specs.length; i++) {
    const m = makeLayer(specs[i]!, cur, i)
    made.push(m)
    try {
      cur = m.layer.outputShape(cur)
    } catch (e) {
      // the model does not fit here: `sequential` (below) names the misfit in its own words
      if (e instanceof ShapeError) break
      throw e
    }
    if (Sh.size(cur) > MAX_ELEMENTS) throw overLimit(`${where}[${i}]`, `a ${m.spec.kind} layer whose output has at most ${MAX_ELEMENTS} elements per example`, cur)
  }
  const layers = made.map((m) => m.layer)
  // the running input is known, so the chain is checked from it (the first layer's own
  // inShape may have free dimensions, `[1,?,?]` for a convolution): messages carry the
  // sizes, as they do in TypeScript once a reshape has fixed them
  const first: AnyLayer = { ...layers[0]!, inShape: [...input] }
  const layer = Layer.sequential(first, ...layers.slice(1)) as unknown as AnyLayer
  const output = layer.outputShape(input)
  if (layers.length < specs.length) throw new ShapeError(`layer ${layers.length}: its output does not fit the layers after it`)
  return { layer, made, output }
}

/** `Combinators.residual` and `parallel` on layers whose types are not known here (the specs were checked at run time). */
const residualOf = Combinators.residual as unknown as (layer: AnyLayer) => AnyLayer
const parallelOf = Combinators.parallel as unknown as (...branches: AnyLayer[]) => AnyLayer

/**
 * One layer of a spec, built for the running shape `cur`, with its canonical spec (defaults
 * filled in, inferred widths left out) and the shapes its `init`/`initState` give (the
 * layers' own constructors allocate nothing; a test checks these shapes against `init`).
 */
const makeLayer = (s: LayerSpec, cur: Shape, i: number): Made => {
  switch (s.kind) {
    case 'dense': {
      // the width is the running one; a shape of higher rank gives `sequential` the
      // width a flatten would have produced, so it says what the type checker says
      const inputs = s.inputs ?? Sh.size(cur)
      return {
        layer: Layers.dense(inputs, s.units),
        spec: { kind: 'dense', units: s.units },
        params: [
          ['w', [inputs, s.units]],
          ['b', [s.units]]
        ]
      }
    }
    case 'conv2d': {
      const stride = s.stride ?? 1
      const padding = s.padding ?? 0
      const channels = s.channels ?? (cur.length === 3 ? cur[0]! : undefined)
      if (channels === undefined) {
        throw i === 0
          ? new ShapeError(`layer 1: conv2d expects shape [channels,height,width] but got ${Layer.describe(cur)}`)
          : misfit(i, 'conv2d', Layer.describe(anyDims(3)), cur)
      }
      return {
        layer: Conv.conv2d(channels, s.filters, s.kernel, { stride, padding }),
        spec: { kind: 'conv2d', filters: s.filters, kernel: s.kernel, stride, padding },
        params: [
          ['w', [s.filters, channels, s.kernel, s.kernel]],
          ['b', [s.filters]]
        ]
      }
    }
    case 'maxPool2d':
    case 'avgPool2d': {
      const stride = s.stride ?? s.kernel
      const padding = s.padding ?? 0
      const layer = (s.kind === 'maxPool2d' ? Conv.maxPool2d : Conv.avgPool2d)(s.kernel, { stride, padding })
      // padding is written only when there is some, as specs without it have always read
      return { layer, spec: { kind: s.kind, kernel: s.kernel, stride, ...(padding === 0 ? {} : { padding }) } }
    }
    case 'globalAvgPool': {
      if (cur.length !== 3) throw misfit(i, 'globalAvgPool', Layer.describe(anyDims(3)), cur)
      return { layer: Conv.globalAvgPool(cur[0]!), spec: { kind: 'globalAvgPool' } }
    }
    case 'residual': {
      const inner = makeChain(s.layers, cur, `layers[${i}].layers`)
      return {
        layer: residualOf(inner.layer),
        spec: { kind: 'residual', layers: inner.made.map((m) => m.spec) },
        params: chainSlots(inner.made, 'params'),
        state: chainSlots(inner.made, 'state')
      }
    }
    case 'parallel': {
      const branches = s.branches.map((b, k) => makeChain(b, cur, `layers[${i}].branches[${k}]`))
      const slots = (which: 'params' | 'state'): Slot[] =>
        branches.flatMap((b, k) => chainSlots(b.made, which).map(([path, shape, kind]): Slot => [`branches.${k}.${path}`, shape, kind]))
      return {
        layer: parallelOf(...branches.map((b) => b.layer)),
        spec: { kind: 'parallel', branches: branches.map((b) => b.made.map((m) => m.spec)), merge: 'concat' },
        params: slots('params'),
        state: slots('state')
      }
    }
    case 'dropout':
      return { layer: Layers.dropout(s.rate), spec: { kind: 'dropout', rate: s.rate } }
    case 'flatten':
      return { layer: Layers.flatten(), spec: { kind: 'flatten' } }
    case 'reshape':
      return { layer: Layers.reshape([...s.shape]), spec: { kind: 'reshape', shape: [...s.shape] } }
    case 'batchNorm': {
      const options = { momentum: s.momentum ?? 0.1, eps: s.eps ?? 1e-5 }
      const spec: BatchNormSpec = { kind: 'batchNorm', ...options }
      if (cur.length === 1 || cur.length === 3) {
        const features = cur[0]!
        return {
          layer: cur.length === 1 ? Norm.batchNorm(features, options) : Norm.batchNorm2d(features, options),
          spec,
          params: [
            ['gamma', [features]],
            ['beta', [features]]
          ],
          state: [
            ['mean', [features]],
            ['variance', [features]]
          ]
        }
      }
      throw misfit(i, 'batchNorm', `${Layer.describe([-1])} or ${Layer.describe(anyDims(3))}`, cur)
    }
    case 'leakyRelu': {
      const alpha = s.alpha ?? 0.01
      return { layer: Layers.leakyRelu(alpha), spec: { kind: 'leakyRelu', alpha } }
    }
    case 'elu': {
      const alpha = s.alpha ?? 1
      return { layer: Layers.elu(alpha), spec: { kind: 'elu', alpha } }
    }
    case 'gelu': {
      const form = s.form ?? 'erf'
      return { layer: Layers.gelu(form), spec: { kind: 'gelu', form } }
    }
    case 'sigmoid':
      return { layer: Layers.sigmoid(), spec: { kind: s.kind } }
    case 'tanh':
      return { layer: Layers.tanh(), spec: { kind: s.kind } }
    case 'relu':
      return { layer: Layers.relu(), spec: { kind: s.kind } }
    case 'softplus':
      return { layer: Layers.softplus(), spec: { kind: s.kind } }
    case 'softmax':
      return { layer: Layers.softmax(), spec: { kind: s.kind } }
    case 'logSoftmax':
      return { layer: Layers.logSoftmax(), spec: { kind: s.kind } }
    case 'identity':
      return { layer: Layers.identity(), spec: { kind: s.kind } }
    case 'absRectify':
      return { layer: Layers.absRectify(), spec: { kind: s.kind } }
    case 'prelu': {
      // one slope per feature of a 1-D input (after a dense layer)
      if (cur.length !== 1) throw misfit(i, 'prelu', Layer.describe([-1]), cur)
      const units = cur[0]!
      return { layer: Layers.prelu(units), spec: { kind: 'prelu' }, params: [['alpha', [units]]] }
    }
    case 'maxout':
      return { layer: Layers.maxout(s.k), spec: { kind: 'maxout', k: s.k } }
  }
}

const deepFreeze = <A>(a: A): A => {
  if (typeof a === 'object' && a !== null && !Object.isFrozen(a)) {
    Object.freeze(a)
    for (const v of Object.values(a)) deepFreeze(v)
  }
  return a
}

/**
 * Builds the `sequential` model a spec describes (decoding it first, so a JavaScript caller
 * may pass anything). Widths are inferred from the running shape: `dense` takes the width
 * before it, `conv2d` the channels, `batchNorm` the features or channels. Composition is
 * `Layer.sequential`'s, so a spec that does not fit is a `Left` holding the same
 * `ShapeError` the type checker reports for the same mistake in TypeScript; a malformed spec
 * is a `Left` holding a `DecodeError`. Same spec and same key, same initial weights as the
 * hand-written model. The chain is checked from the spec's `input` (so messages carry sizes
 * a convolution's free dimensions would leave as `?`), and the model's `inShape` is that input.
 *
 * Building allocates nothing that the spec's sizes could make large: sizes are bounded
 * ({@link MAX_ELEMENTS} for every field, per-example shape and parameter tensor, an
 * `ArgumentError` naming the layer and the limit otherwise), and the shapes of the
 * parameters and state are computed from the spec alone ({@link Built.parameters},
 * {@link Built.state}, {@link Built.parameterCount}): only `model.init` and
 * `model.initState` allocate, so check {@link checkParameterCount} before calling them on a
 * spec from outside, and compare the shapes with a file before reading it (as `Checkpoint.decode` does).
 *
 * @example
 * ```ts
 * import { Spec, Layer, Layers, Conv, Random, ShapeError } from 'lamina-nn'
 * import assert from 'node:assert'
 * const lenet = Spec.build({
 *   input: [1024],
 *   layers: [
 *     { kind: 'reshape', shape: [1, 32, 32] },
 *     { kind: 'conv2d', filters: 6, kernel: 3 }, { kind: 'relu' }, { kind: 'maxPool2d', kernel: 2 },
 *     { kind: 'flatten' }, { kind: 'dense', units: 10 }
 *   ]
 * })
 * assert.ok(lenet._tag === 'Right')
 * assert.deepStrictEqual(lenet.right.outputShape, [10])
 * // the same model in TypeScript has the same parameters, drawn from the same key
 * const typed = Layer.sequential(Layers.reshape([1, 32, 32]), Conv.conv2d(1, 6, 3), Layers.relu(), Conv.maxPool2d(2), Layers.flatten(), Layers.dense(1350, 10))
 * const [a, b] = [lenet.right.model.init(Random.key(3)), typed.init(Random.key(3))]
 * assert.deepStrictEqual((a.layers[5] as { w: { data: unknown } }).w.data, b.layers[5].w.data)
 * // a dense layer straight after a convolution: the type checker's words for
 * // Layer.sequential(Layers.reshape([1, 28, 28]), Conv.conv2d(1, 6, 3), Layers.dense(4056, 10))
 * const bad = Spec.build({ input: [784], layers: [
 *   { kind: 'reshape', shape: [1, 28, 28] }, { kind: 'conv2d', filters: 6, kernel: 3 }, { kind: 'dense', units: 10 }] })
 * assert.ok(bad._tag === 'Left' && bad.left instanceof ShapeError)
 * assert.strictEqual(bad.left.message, 'layer 3 expects 4056 features but layer 2 produces shape [6,26,26]')
 * ```
 */
export const build = (spec: ModelSpec): Either<LaminaError, Built> => {
  const decoded = decode(spec)
  if (E.isLeft(decoded)) return decoded
  const { input, layers: specs } = decoded.right
  const inputSize = Sh.size(input)
  if (inputSize > MAX_ELEMENTS) return E.left(overLimit('input', `an input of at most ${MAX_ELEMENTS} elements per example`, input))
  try {
    const chain = makeChain(specs, input, 'layers')
    const made = chain.made
    const sequential = chain.layer as Layer.Layer<Shape, Shape, ModelParams, ModelState>
    const outputShape = chain.output
    // the parameters and the state, from the shapes alone: nothing is allocated
    const parameters: TensorSlot[] = []
    const state: TensorSlot[] = []
    let parameterCount = 0
    for (let i = 0; i < made.length; i++) {
      const { spec: layerSpec, params = [], state: stateShapes = [] } = made[i]!
      for (const [list, shapes] of [
        [parameters, params],
        [state, stateShapes]
      ] as const) {
        for (const [field, shape, inner] of shapes) {
          const kind = inner ?? layerSpec.kind
          if (Sh.size(shape) > MAX_ELEMENTS) {
            return E.left(overLimit(`layers[${i}]`, `a ${kind} layer whose ${field} has at most ${MAX_ELEMENTS} elements`, shape))
          }
          list.push(Object.freeze({ name: `layers.${i}.${field}`, field, shape: Object.freeze([...shape]), layer: i, kind }))
          if (list === parameters) parameterCount += Sh.size(shape)
        }
      }
    }
    const model: Model = { ...sequential, spec: deepFreeze({ input: [...input], layers: made.map((m) => m.spec) }) }
    return E.right({ model, inputShape: [...input], outputShape, parameters: Object.freeze(parameters), state: Object.freeze(state), parameterCount })
  } catch (e) {
    if (e instanceof LaminaError) return E.left(e)
    throw e
  }
}

/** A size over {@link MAX_ELEMENTS}: an `ArgumentError` (what lamina cannot allocate) naming the field, the shape and the limit. */
const overLimit = (path: string, expected: string, shape: Shape): ArgumentError =>
  new ArgumentError(`model spec: ${formatFailure({ path, expected: `${expected} (Spec.MAX_ELEMENTS)`, got: `${Sh.show(shape)} (${Sh.size(shape)} elements)` })}`)

/**
 * The number of parameters of the model a spec describes (the elements of every parameter
 * tensor), computed from the shapes alone: nothing is allocated, so it is safe on a hostile
 * spec. A spec that does not build is a `Left` (see {@link build}).
 *
 * @example
 * ```ts
 * import { Spec } from 'lamina-nn'
 * import assert from 'node:assert'
 * // dense 784 → 128: 784·128 + 128; dense 128 → 10: 128·10 + 10
 * const n = Spec.parameterCount({ input: [784], layers: [{ kind: 'dense', units: 128 }, { kind: 'relu' }, { kind: 'dense', units: 10 }] })
 * assert.deepStrictEqual(n, { _tag: 'Right', right: 784 * 128 + 128 + 128 * 10 + 10 })
 * // half a billion units: counted, never allocated
 * const huge = Spec.parameterCount({ input: [2], layers: [{ kind: 'dense', units: 5e8 }] })
 * assert.deepStrictEqual(huge, { _tag: 'Right', right: 1.5e9 })
 * ```
 */
export const parameterCount = (spec: ModelSpec): Either<LaminaError, number> => {
  const built = build(spec)
  return E.isLeft(built) ? built : E.right(built.right.parameterCount)
}

/**
 * Checks, before anything is allocated, that a built model has at most `limit` parameters
 * (default {@link MAX_PARAMETERS}); call it between {@link build} and `model.init`. The
 * `Left` names the count, the limit and the largest parameter tensor.
 *
 * @example
 * ```ts
 * import { Spec } from 'lamina-nn'
 * import assert from 'node:assert'
 * const built = Spec.build({ input: [2], layers: [{ kind: 'dense', units: 5e8 }] })
 * assert.ok(built._tag === 'Right')
 * const checked = Spec.checkParameterCount(built.right)
 * assert.ok(checked._tag === 'Left')
 * assert.strictEqual(checked.left.message,
 *   'model spec: layers[0].units: expected at most 100000000 parameters in all (Spec.MAX_PARAMETERS), got 1500000000 (the largest: layers.0.w [2,500000000] of a dense layer)')
 * assert.ok(Spec.checkParameterCount(built.right, 2e9)._tag === 'Right')
 * ```
 */
export const checkParameterCount = (built: Built, limit: number = MAX_PARAMETERS): Either<ArgumentError, Built> => {
  if (built.parameterCount <= limit || built.parameters.length === 0) return E.right(built)
  const largest = built.parameters.reduce((a, b) => (Sh.size(b.shape) > Sh.size(a.shape) ? b : a))
  const field = largest.kind === 'dense' ? '.units' : largest.kind === 'conv2d' ? '.filters' : ''
  const named = limit === MAX_PARAMETERS ? ' (Spec.MAX_PARAMETERS)' : ''
  const failure = formatFailure({
    path: `layers[${largest.layer}]${field}`,
    expected: `at most ${limit} parameters in all${named}`,
    got: `${built.parameterCount} (the largest: ${largest.name} ${Sh.show(largest.shape)} of a ${largest.kind} layer)`
  })
  return E.left(new ArgumentError(`model spec: ${failure}`))
}

/**
 * Parses JSON text and builds the model it describes (see {@link build}).
 *
 * @example
 * ```ts
 * import { Spec } from 'lamina-nn'
 * import assert from 'node:assert'
 * const built = Spec.load('{"input": [3], "layers": [{"kind": "dense", "units": 2}]}')
 * assert.ok(built._tag === 'Right' && built.right.outputShape[0] === 2)
 * const bad = Spec.load('{"input": [784], "layers": [{"kind": "reshape", "shape": [1, 28, 27]}]}')
 * assert.ok(bad._tag === 'Left')
 * assert.strictEqual(bad.left.message, 'layer 1: reshape: cannot reshape [784] (784 elements) into [1,28,27] (756 elements)')
 * ```
 */
export const load = (text: string): Either<LaminaError, Built> => {
  const spec = parse(text)
  return E.isLeft(spec) ? spec : build(spec.right)
}

/** Options of {@link fromLayer}. */
export interface FromLayerOptions {
  /**
   * The per-example input shape. Needed when the first layer does not fix it (a convolution
   * takes `[C, ?, ?]`, an activation any shape); checked against the first layer otherwise.
   */
  readonly input?: Shape
}

/** Whether a layer is a `sequential` that lists its layers (a hand-written one, or one built by {@link build}). */
const isSequential = (layer: AnyLayer): boolean => layer.kind === 'sequential' && Array.isArray(layer.layers)

/** The layers a model runs, in order: nested `sequential`s opened, any other layer as itself. */
const leavesOf = (layer: AnyLayer): AnyLayer[] => (isSequential(layer) ? layer.layers!.flatMap(leavesOf) : [layer])

const specKinds = (): string =>
  ['dense', 'conv2d', 'maxPool2d', 'avgPool2d', 'globalAvgPool', 'residual', 'parallel', 'dropout', 'flatten', 'reshape', 'batchNorm', 'leakyRelu', 'elu', 'gelu', 'prelu', 'maxout', ...activationKinds].join(', ')

/** Whether a layer is a `residual` or `parallel` block that records its inner layers. */
const isBlock = (layer: AnyLayer): boolean => (layer.kind === 'residual' || layer.kind === 'parallel') && Array.isArray(layer.layers)

/** The specs of the layers a (possibly `sequential`) layer runs, `where[0]`, `where[1]`, … naming them. */
const listSpecOf = (layer: AnyLayer, where: string): Either<ArgumentError, LayerSpec[]> => {
  const out: LayerSpec[] = []
  for (const [j, leaf] of leavesOf(layer).entries()) {
    const s = layerSpecOf(leaf, `${where}[${j}]`)
    if (E.isLeft(s)) return s
    out.push(s.right)
  }
  return E.right(out)
}

/** One built-in layer as a layer spec (defaults written out), or why it has none; `path` names it (`layers[2]`). */
const layerSpecOf = (layer: AnyLayer, path: string): Either<ArgumentError, LayerSpec> => {
  const where = `fromLayer: ${path}, a ${layer.kind} layer`
  const kinds: readonly string[] = ['dense', 'conv2d', 'maxPool2d', 'avgPool2d', 'globalAvgPool', 'residual', 'parallel', 'dropout', 'flatten', 'reshape', 'batchNorm', 'batchNorm2d', 'leakyRelu', 'elu', 'gelu', 'geluTanh', 'prelu', 'maxout', ...activationKinds]
  if (!kinds.includes(layer.kind)) return E.left(new ArgumentError(`${where}: the spec language has no such kind (it has ${specKinds()})`))
  // blocks record their inner layers, and global pooling's shapes say all (its channels are the running ones)
  if (layer.kind === 'residual' || layer.kind === 'parallel') {
    if (!isBlock(layer)) return E.left(new ArgumentError(`${where}: it records no inner layers (not lamina's Combinators.${layer.kind}), so no spec can describe it`))
    if (layer.kind === 'residual') {
      const inner = listSpecOf(layer.layers![0]!, `${path}.layers`)
      return E.isLeft(inner) ? inner : E.right({ kind: 'residual', layers: inner.right })
    }
    const branches: LayerSpec[][] = []
    for (const [k, branch] of layer.layers!.entries()) {
      const b = listSpecOf(branch, `${path}.branches[${k}]`)
      if (E.isLeft(b)) return b
      branches.push(b.right)
    }
    return E.right({ kind: 'parallel', branches, merge: 'concat' })
  }
  if (layer.kind === 'globalAvgPool') return E.right({ kind: 'globalAvgPool' })
  const s = layer.settings
  if (s === undefined) {
    return E.left(new ArgumentError(`${where}: not one of lamina's built-in layers (it records no settings), so no spec can describe it`))
  }
  const num = (key: string): number => s[key] as number
  switch (layer.kind) {
    case 'dense':
      return E.right({ kind: 'dense', units: num('units') })
    case 'conv2d':
      return E.right({ kind: 'conv2d', filters: num('filters'), kernel: num('kernel'), stride: num('stride'), padding: num('padding') })
    case 'maxPool2d':
    case 'avgPool2d':
      return E.right({ kind: layer.kind, kernel: num('kernel'), stride: num('stride'), ...(num('padding') === 0 ? {} : { padding: num('padding') }) })
    case 'dropout':
      return E.right({ kind: 'dropout', rate: num('rate') })
    case 'flatten':
      return E.right({ kind: 'flatten' })
    case 'reshape':
      return E.right({ kind: 'reshape', shape: [...(s['shape'] as Shape)] })
    case 'batchNorm':
    case 'batchNorm2d':
      return E.right({ kind: 'batchNorm', momentum: num('momentum'), eps: num('eps') })
    case 'leakyRelu':
    case 'elu':
      return E.right({ kind: layer.kind, alpha: num('alpha') })
    case 'gelu':
    case 'geluTanh':
      return E.right({ kind: 'gelu', form: layer.kind === 'gelu' ? 'erf' : 'tanh' })
    case 'prelu':
      return E.right({ kind: 'prelu' })
    case 'maxout':
      return E.right({ kind: 'maxout', k: num('k') })
    default:
      return E.right({ kind: layer.kind as ActivationKind })
  }
}

/**
 * The spec of a model made of lamina's built-in layers, however it was composed: by
 * {@link build} (its spec, defaults written out), or in TypeScript with `Layer.sequential`
 * (nested ones are opened) of `Layers.dense`, the activations (`prelu`, `maxout` and `absRectify` included), `Layers.dropout`, `flatten`,
 * `reshape`, `Conv.conv2d`, `Conv.maxPool2d`/`avgPool2d`/`globalAvgPool`,
 * `Norm.batchNorm`/`batchNorm2d`, and `Combinators.residual`/`parallel` blocks of these (a
 * block's layers are listed in the block), or a single such layer. `build(fromLayer(m))` builds the same model: the same shapes, the same
 * parameters in the same order (`layers.0.w`, … as {@link flattenTree} lays them out).
 *
 * A `Left` (an `ArgumentError` naming the layer, `layers[i]` counted as in the spec) for a
 * layer the spec language has no kind for (one written outside lamina, which records no settings), and for a model whose first layer does
 * not fix the input shape, unless `options.input` gives it.
 *
 * @example
 * ```ts
 * import { Spec, Layer, Layers, Conv, Norm } from 'lamina-nn'
 * import assert from 'node:assert'
 * const net = Layer.sequential(Conv.conv2d(1, 4, 3, { padding: 1 }), Norm.batchNorm2d(4), Layers.relu(),
 *   Conv.maxPool2d(2), Layers.flatten(), Layers.dropout(0.25), Layers.dense(64, 10))
 * const spec = Spec.fromLayer(net, { input: [1, 8, 8] })
 * assert.deepStrictEqual(spec, { _tag: 'Right', right: { input: [1, 8, 8], layers: [
 *   { kind: 'conv2d', filters: 4, kernel: 3, stride: 1, padding: 1 }, { kind: 'batchNorm', momentum: 0.1, eps: 1e-5 },
 *   { kind: 'relu' }, { kind: 'maxPool2d', kernel: 2, stride: 2 }, { kind: 'flatten' }, { kind: 'dropout', rate: 0.25 },
 *   { kind: 'dense', units: 10 }] } })
 * // a dense first layer fixes the input
 * assert.deepStrictEqual(Spec.fromLayer(Layers.dense(3, 1)), { _tag: 'Right', right: { input: [3], layers: [{ kind: 'dense', units: 1 }] } })
 * // a convolution does not
 * const unknown = Spec.fromLayer(net)
 * assert.ok(unknown._tag === 'Left')
 * assert.match(unknown.left.message, /the first layer \(conv2d\) takes shape \[1,\?,\?\]/)
 * ```
 */
export const fromLayer = (layer: AnyLayer, options?: FromLayerOptions): Either<LaminaError, ModelSpec> => {
  try {
    const own = Object.prototype.hasOwnProperty.call(layer, 'spec') ? (layer as { readonly spec?: unknown }).spec : undefined
    const leaves = leavesOf(layer)
    if (leaves.length === 0) return E.left(new ArgumentError('fromLayer: the model has no layers'))
    let input = options?.input
    if (input === undefined && own !== undefined) {
      const decoded = decode(own)
      if (E.isLeft(decoded)) return decoded
      input = decoded.right.input
    }
    const first = leaves[0]!
    const fixed: Shape | undefined = first.inShape
    if (input === undefined) {
      if (fixed === undefined || fixed.includes(-1)) {
        return E.left(
          new ArgumentError(
            `fromLayer: the first layer (${first.kind}) takes ${fixed === undefined ? 'any shape' : `shape ${Sh.show(fixed).replace(/-1/g, '?')}`}, ` +
              'so the model does not fix its input shape: give it, e.g. Spec.fromLayer(model, { input: [1, 28, 28] })'
          )
        )
      }
    }
    const shape: Shape = input ?? fixed!
    Sh.validate(shape, 'fromLayer: the input')
    if (!Layer.accepts(first.inShape, shape)) {
      return E.left(new ShapeError(`fromLayer: the first layer (${first.kind}) expects ${Layer.describe(first.inShape)} but the input is ${Layer.describe(shape)}`))
    }
    const listed = listSpecOf(layer, 'layers')
    if (E.isLeft(listed)) return listed
    const layers = listed.right
    // the model itself must take the input (its own checks, its own words), and the spec must
    // build into a model of the same output shape
    const output = layer.outputShape(shape)
    const built = build({ input: [...shape], layers })
    if (E.isLeft(built)) return built
    if (!Sh.equals(built.right.outputShape, output)) {
      return E.left(new ShapeError(`fromLayer: the spec gives output ${Sh.show(built.right.outputShape)} but the model gives ${Sh.show(output)}`))
    }
    return E.right(built.right.model.spec)
  } catch (e) {
    if (e instanceof LaminaError) return E.left(e)
    throw e
  }
}

/**
 * The spec of a model: {@link fromLayer}'s (the name kept from before `fromLayer` read
 * hand-composed models; both give the same).
 *
 * @example
 * ```ts
 * import { Spec, Layer, Layers } from 'lamina-nn'
 * import assert from 'node:assert'
 * const built = Spec.build({ input: [1, 8, 8], layers: [{ kind: 'conv2d', filters: 2, kernel: 3 }, { kind: 'maxPool2d', kernel: 2 }] })
 * assert.ok(built._tag === 'Right')
 * const spec = Spec.toSpec(built.right.model)
 * assert.deepStrictEqual(spec, { _tag: 'Right', right: { input: [1, 8, 8], layers: [
 *   { kind: 'conv2d', filters: 2, kernel: 3, stride: 1, padding: 0 }, { kind: 'maxPool2d', kernel: 2, stride: 2 }] } })
 * assert.deepStrictEqual(Spec.toSpec(Layer.sequential(Layers.dense(2, 2), Layers.relu())),
 *   { _tag: 'Right', right: { input: [2], layers: [{ kind: 'dense', units: 2 }, { kind: 'relu' }] } })
 * // a relu alone takes any shape: no input to write down
 * assert.ok(Spec.toSpec(Layer.sequential(Layers.relu()))._tag === 'Left')
 * ```
 */
export const toSpec = (model: AnyLayer, options?: FromLayerOptions): Either<LaminaError, ModelSpec> => fromLayer(model, options)

/**
 * A model's parameters (or layer state) laid out as those of the model its spec builds
 * (`{ layers: [p₀, p₁, …] }`, one entry per layer of {@link fromLayer}'s spec): nested
 * `sequential`s are opened, a single layer's tree is wrapped. A flat `sequential`'s tree is
 * already laid out so and comes back as it is. {@link nestTree} undoes it.
 *
 * @example
 * ```ts
 * import { Spec, Layer, Layers, Random } from 'lamina-nn'
 * import assert from 'node:assert'
 * const block = Layer.sequential(Layers.dense(4, 4), Layers.relu())
 * const net = Layer.sequential(block, Layers.dense(4, 2))
 * const params = net.init(Random.key(0))
 * const flat = Spec.flattenTree(net, params) as { layers: unknown[] }
 * assert.strictEqual(flat.layers.length, 3)
 * assert.strictEqual(flat.layers[2], params.layers[1])
 * assert.deepStrictEqual(Spec.nestTree(net, flat), params)
 * ```
 */
export const flattenTree = (layer: AnyLayer, tree: unknown): ModelParams => {
  const itemsOf = (t: unknown, field: 'layers' | 'branches', n: number, path: string): readonly unknown[] => {
    const items = (t as Readonly<Record<string, unknown>> | undefined)?.[field]
    if (!Array.isArray(items) || items.length !== n) {
      const what = field === 'layers' ? 'layer' : 'branch'
      throw new ShapeError(`flattenTree: ${path === '' ? 'the tree' : path} should hold { ${field}: [...] } with ${n} entries (one per ${what}), got ${describeTree(t)}`)
    }
    return items
  }
  const join = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`)
  // the entries of the spec's list for `l`: a sequential opened, any other layer one entry
  const open = (l: AnyLayer, t: unknown, path: string): unknown[] =>
    isSequential(l) ? itemsOf(t, 'layers', l.layers!.length, path).flatMap((item, i) => open(l.layers![i]!, item, join(path, `layers.${i}`))) : [entry(l, t, path)]
  // a block's entry lists its inner layers as its spec does: residual `{ layers }`, parallel `{ branches: [{ layers }, …] }`
  const entry = (l: AnyLayer, t: unknown, path: string): unknown => {
    if (!isBlock(l)) return t
    if (l.kind === 'residual') return { layers: open(l.layers![0]!, t, path) }
    const branches = itemsOf(t, 'branches', l.layers!.length, path)
    return { branches: branches.map((b, k) => ({ layers: open(l.layers![k]!, b, join(path, `branches.${k}`)) })) }
  }
  return { layers: open(layer, tree, '') as Tree[] }
}

/**
 * The inverse of {@link flattenTree}: a tree laid out as the spec's model's
 * (`{ layers: [p₀, p₁, …] }`) put back into the shape of `layer`'s own tree.
 *
 * @example
 * ```ts
 * import { Spec, Layers, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const dense = Layers.dense(1, 1)
 * const params = { w: tensor([[2]]), b: tensor([0]) }
 * assert.strictEqual(Spec.nestTree(dense, { layers: [params] }), params)
 * ```
 */
export const nestTree = (layer: AnyLayer, flat: { readonly layers: readonly unknown[] }): unknown => {
  // reads the entries of one spec list, in order, as `open` in flattenTree wrote them
  const list = (l: AnyLayer, entries: readonly unknown[], cursor: { next: number }): unknown =>
    isSequential(l) ? { layers: l.layers!.map((c) => list(c, entries, cursor)) } : unentry(l, entries[cursor.next++])
  const inner = (l: AnyLayer, entries: unknown): unknown => {
    const items = Array.isArray(entries) ? entries : []
    const cursor = { next: 0 }
    const tree = list(l, items, cursor)
    if (cursor.next !== items.length) throw new ShapeError(`nestTree: a ${l.kind} block's layers number ${cursor.next} but its tree has ${items.length} entries`)
    return tree
  }
  const unentry = (l: AnyLayer, e: unknown): unknown => {
    if (!isBlock(l)) return e
    const record = (e ?? {}) as { readonly layers?: unknown; readonly branches?: readonly { readonly layers?: unknown }[] }
    if (l.kind === 'residual') return inner(l.layers![0]!, record.layers)
    return { branches: l.layers!.map((b, k) => inner(b, record.branches?.[k]?.layers)) }
  }
  const cursor = { next: 0 }
  const tree = list(layer, flat.layers, cursor)
  if (cursor.next !== flat.layers.length) throw new ShapeError(`nestTree: the model has ${cursor.next} layers but the tree has ${flat.layers.length} entries`)
  return tree
}

/**
 * The parameter (or state) tree of the model a spec builds, filled from its slots
 * ({@link Built.parameters} or {@link Built.state}) by `tensorOf`: `{ layers: [p₀, p₁, …] }`,
 * `{}` for a layer without tensors, and a block's record (`{ layers: [...] }`, `{ branches:
 * [{ layers: [...] }, …] }`) as its inner layers lay it out. How a file's tensors become a model's.
 *
 * @example
 * ```ts
 * import { Spec, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const built = Spec.build({ input: [2], layers: [{ kind: 'residual', layers: [{ kind: 'dense', units: 2 }, { kind: 'relu' }] }] })
 * assert.ok(built._tag === 'Right')
 * const tree = Spec.fillTree(built.right.model.spec, built.right.parameters, (slot) => tensor(slot.field.endsWith('w') ? [[1, 0], [0, 1]] : [0, 0]))
 * assert.deepStrictEqual(built.right.parameters.map((s) => s.name), ['layers.0.layers.0.w', 'layers.0.layers.0.b'])
 * assert.deepStrictEqual((tree.layers[0] as { layers: unknown[] }).layers[1], {})
 * ```
 */
export const fillTree = (spec: ModelSpec, slots: readonly TensorSlot[], tensorOf: (slot: TensorSlot) => Tensor): { readonly layers: readonly Tree[] } => {
  const skeleton = (s: LayerSpec): Record<string, unknown> =>
    s.kind === 'residual' ? { layers: s.layers.map(skeleton) } : s.kind === 'parallel' ? { branches: s.branches.map((b) => ({ layers: b.map(skeleton) })) } : {}
  const layers = spec.layers.map(skeleton)
  for (const slot of slots) {
    const keys = slot.field.split('.')
    let node: Record<string, unknown> = layers[slot.layer]!
    for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>
    node[keys[keys.length - 1]!] = tensorOf(slot)
  }
  return { layers: layers as Tree[] }
}

const describeTree = (t: unknown): string =>
  t === null || typeof t !== 'object' ? String(t) : Array.isArray(t) ? `an array of ${t.length}` : `an object with keys ${Object.keys(t).join(', ') || '(none)'}`

// ================================================================ training configuration

/** The losses a training configuration can name; each is lamina's loss of that name (see `Loss`). */
export type LossName = 'crossEntropyWithLogits' | 'crossEntropy' | 'nll' | 'mse' | 'l1' | 'binaryCrossEntropyWithLogits' | 'binaryCrossEntropy' | 'huber'

/**
 * The losses a training configuration can name, in the order messages list them.
 *
 * @example
 * ```ts
 * import { Spec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.ok(Spec.lossNames.includes('huber'))
 * ```
 */
export const lossNames: readonly LossName[] = ['crossEntropyWithLogits', 'crossEntropy', 'nll', 'mse', 'l1', 'binaryCrossEntropyWithLogits', 'binaryCrossEntropy', 'huber']

/** What a model is trained to do: predict a class (labels are class indices) or real values (targets). */
export type Task = 'classification' | 'regression'

/** The losses of a regression model: each compares the outputs with real targets of the same shape. */
export type RegressionLossName = 'mse' | 'l1' | 'huber'

/**
 * The losses a regression model can be trained with.
 *
 * @example
 * ```ts
 * import { Spec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(Spec.regressionLossNames, ['mse', 'l1', 'huber'])
 * ```
 */
export const regressionLossNames: readonly RegressionLossName[] = ['mse', 'l1', 'huber']

/** An optimizer and its hyper-parameters, defaults filled in (those of `Optim`). */
export type OptimizerSpec =
  | { readonly kind: 'sgd'; readonly lr: number }
  | { readonly kind: 'momentum' | 'nesterov'; readonly lr: number; readonly beta: number }
  | { readonly kind: 'adagrad'; readonly lr: number; readonly eps: number }
  | { readonly kind: 'rmsprop'; readonly lr: number; readonly decay: number; readonly eps: number }
  | { readonly kind: 'adam'; readonly lr: number; readonly beta1: number; readonly beta2: number; readonly eps: number }
  | { readonly kind: 'adamw'; readonly lr: number; readonly beta1: number; readonly beta2: number; readonly eps: number; readonly weightDecay: number }

/** A training run: every field present (see {@link trainingDefaults}). */
export interface TrainingConfig {
  readonly epochs: number
  readonly batchSize: number
  readonly seed: number
  readonly loss: LossName
  readonly optimizer: OptimizerSpec
}

/**
 * The defaults of a training configuration: 10 epochs of minibatches of 32, seed 0,
 * cross-entropy on logits, Adam with its usual hyper-parameters.
 *
 * @example
 * ```ts
 * import { Spec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Spec.trainingDefaults.optimizer.kind, 'adam')
 * assert.strictEqual(Spec.trainingDefaults.loss, 'crossEntropyWithLogits')
 * ```
 */
export const trainingDefaults: TrainingConfig = {
  epochs: 10,
  batchSize: 32,
  seed: 0,
  loss: 'crossEntropyWithLogits',
  optimizer: { kind: 'adam', lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-8 }
}

const optimizerMembers = {
  sgd: struct('sgd optimizer', { kind: t.literal('sgd') }, { lr: Positive }),
  momentum: struct('momentum optimizer', { kind: t.literal('momentum') }, { lr: Positive, beta: Fraction }),
  nesterov: struct('nesterov optimizer', { kind: t.literal('nesterov') }, { lr: Positive, beta: Fraction }),
  adagrad: struct('adagrad optimizer', { kind: t.literal('adagrad') }, { lr: Positive, eps: Positive }),
  rmsprop: struct('rmsprop optimizer', { kind: t.literal('rmsprop') }, { lr: Positive, decay: Fraction, eps: Positive }),
  adam: struct('adam optimizer', { kind: t.literal('adam') }, { lr: Positive, beta1: Fraction, beta2: Fraction, eps: Positive }),
  adamw: struct('adamw optimizer', { kind: t.literal('adamw') }, { lr: Positive, beta1: Fraction, beta2: Fraction, eps: Positive, weightDecay: NonNegative })
}

type OptimizerInput = t.TypeOf<(typeof optimizerMembers)[keyof typeof optimizerMembers]>

/** The optimizer part of a training configuration, as written (defaults not yet filled in). */
const OptimizerCodec = tagged('kind', 'optimizer', optimizerMembers)

const TrainingInput = struct(
  'training config',
  {},
  { epochs: PositiveInt, batchSize: PositiveInt, seed: SafeInt, loss: oneOf(lossNames), optimizer: OptimizerCodec }
)

const withDefaults = (o: OptimizerInput): OptimizerSpec => {
  switch (o.kind) {
    case 'sgd':
      return { kind: 'sgd', lr: o.lr ?? 0.01 }
    case 'momentum':
    case 'nesterov':
      return { kind: o.kind, lr: o.lr ?? 0.01, beta: o.beta ?? 0.9 }
    case 'adagrad':
      return { kind: 'adagrad', lr: o.lr ?? 0.01, eps: o.eps ?? 1e-10 }
    case 'rmsprop':
      return { kind: 'rmsprop', lr: o.lr ?? 0.001, decay: o.decay ?? 0.9, eps: o.eps ?? 1e-8 }
    case 'adam':
      return { kind: 'adam', lr: o.lr ?? 0.001, beta1: o.beta1 ?? 0.9, beta2: o.beta2 ?? 0.999, eps: o.eps ?? 1e-8 }
    case 'adamw':
      return { kind: 'adamw', lr: o.lr ?? 0.001, beta1: o.beta1 ?? 0.9, beta2: o.beta2 ?? 0.999, eps: o.eps ?? 1e-8, weightDecay: o.weightDecay ?? 0.01 }
  }
}

/**
 * The codec of a training configuration: every field optional, each checked when present
 * (positive integer epochs and batch size, an integer seed, a known loss, an optimizer told
 * apart by `kind` with positive learning rate and decays in [0, 1)); unknown keys are
 * failures. Decoding fills in {@link trainingDefaults} and the optimizer's own defaults.
 *
 * @example
 * ```ts
 * import { Spec, Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * const config = Codec.decodeWith(Spec.TrainingCodec, { epochs: 3, optimizer: { kind: 'sgd', lr: 0.1 } }, 'config')
 * assert.deepStrictEqual(config, { _tag: 'Right', right: { epochs: 3, batchSize: 32, seed: 0, loss: 'crossEntropyWithLogits', optimizer: { kind: 'sgd', lr: 0.1 } } })
 * ```
 */
export const TrainingCodec: t.Type<TrainingConfig, unknown, unknown> = new t.Type<TrainingConfig, unknown, unknown>(
  'training config',
  (u): u is TrainingConfig => TrainingInput.is(u),
  (u, c) => {
    const r = TrainingInput.validate(u, c)
    if (E.isLeft(r)) return r
    const v = r.right
    return t.success({
      epochs: v.epochs ?? trainingDefaults.epochs,
      batchSize: v.batchSize ?? trainingDefaults.batchSize,
      seed: v.seed ?? trainingDefaults.seed,
      loss: v.loss ?? trainingDefaults.loss,
      optimizer: v.optimizer === undefined ? trainingDefaults.optimizer : withDefaults(v.optimizer)
    })
  },
  (a) => a
)

/**
 * Decodes a training configuration (a parsed JSON value), filling in the defaults.
 *
 * @example
 * ```ts
 * import { Spec } from 'lamina-nn'
 * import assert from 'node:assert'
 * const config = Spec.decodeTraining({ epochs: 5, optimizer: { kind: 'adamw', lr: 0.002 } })
 * assert.ok(config._tag === 'Right')
 * assert.deepStrictEqual(config.right.optimizer, { kind: 'adamw', lr: 0.002, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 })
 * const bad = Spec.decodeTraining({ epochs: 0, batchsize: 64, optimizer: { kind: 'adam', lr: -1 } })
 * assert.ok(bad._tag === 'Left')
 * assert.strictEqual(bad.left.message, [
 *   'training config: 3 problems',
 *   '  batchsize: expected no such key (training config keys: epochs, batchSize, seed, loss, optimizer), got 64',
 *   '  epochs: expected positive integer, got 0',
 *   '  optimizer.lr: expected positive number, got -1'
 * ].join('\n'))
 * ```
 */
export const decodeTraining = (value: unknown): Either<DecodeError, TrainingConfig> => decodeWith(TrainingCodec, value, 'training config')

/**
 * Decodes an optimizer spec (a parsed JSON value, as a training configuration's `optimizer`),
 * filling in its defaults.
 *
 * @example
 * ```ts
 * import { Spec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(Spec.decodeOptimizer({ kind: 'momentum' }), { _tag: 'Right', right: { kind: 'momentum', lr: 0.01, beta: 0.9 } })
 * const bad = Spec.decodeOptimizer({ kind: 'adam', lr: 0 })
 * assert.ok(bad._tag === 'Left' && bad.left.message === 'optimizer: lr: expected positive number, got 0')
 * ```
 */
export const decodeOptimizer = (value: unknown): Either<DecodeError, OptimizerSpec> => {
  const decoded = decodeWith(OptimizerCodec, value, 'optimizer')
  return E.isLeft(decoded) ? decoded : E.right(withDefaults(decoded.right as OptimizerInput))
}

/**
 * Parses and decodes a training configuration from JSON text.
 *
 * @example
 * ```ts
 * import { Spec } from 'lamina-nn'
 * import assert from 'node:assert'
 * const config = Spec.parseTraining('{"batchSize": 64, "loss": "mse"}')
 * assert.ok(config._tag === 'Right' && config.right.batchSize === 64 && config.right.epochs === 10)
 * ```
 */
export const parseTraining = (text: string): Either<DecodeError, TrainingConfig> => parseJson(TrainingCodec, text, 'training config')

/**
 * The optimizer a configuration names, built with `Optim`.
 *
 * @example
 * ```ts
 * import { Spec, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const opt = Spec.optimizer({ kind: 'sgd', lr: 0.5 })
 * const params = tensor([1, 2])
 * const [next] = opt.update(tensor([2, -2]), opt.init(params), params)
 * assert.deepStrictEqual(next.toArray(), [0, 3])
 * ```
 */
export const optimizer = (spec: OptimizerSpec): Optimizer<unknown> => {
  switch (spec.kind) {
    case 'sgd':
      return Optim.sgd({ lr: spec.lr })
    case 'momentum':
      return Optim.momentum({ lr: spec.lr, beta: spec.beta })
    case 'nesterov':
      return Optim.nesterov({ lr: spec.lr, beta: spec.beta })
    case 'adagrad':
      return Optim.adagrad({ lr: spec.lr, eps: spec.eps })
    case 'rmsprop':
      return Optim.rmsprop({ lr: spec.lr, decay: spec.decay, eps: spec.eps })
    case 'adam':
      return Optim.adam({ lr: spec.lr, beta1: spec.beta1, beta2: spec.beta2, eps: spec.eps })
    case 'adamw':
      return Optim.adamw({ lr: spec.lr, beta1: spec.beta1, beta2: spec.beta2, eps: spec.eps, weightDecay: spec.weightDecay })
  }
}

/** Targets for a regression or binary loss from class labels: the labels themselves when they fill the prediction, else one-hot rows. */
const targetsOf = (prediction: Tensor, labels: Int32Array): Tensor | Int32Array =>
  prediction.size === labels.length ? labels : Loss.oneHot(labels, prediction.shape[prediction.rank - 1] ?? 1, { dtype: prediction.dtype })

/**
 * The loss a configuration names, as `Train.fit` takes it (a batch of predictions against
 * integer labels). `mse` and `l1` compare with one-hot rows of the labels (or with the labels
 * themselves when the model has one output); the binary losses take labels 0/1.
 *
 * @example
 * ```ts
 * import { Spec, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const mse = Spec.loss('mse')
 * assert.strictEqual(mse(tensor([[1, 0], [0, 0]]), Int32Array.from([0, 1])).item(), 0.25) // mean of (0 + 0)/2 and (0 + 1)/2
 * const ce = Spec.loss('crossEntropyWithLogits')
 * assert.ok(Math.abs(ce(tensor([[0, 0]]), Int32Array.from([1])).item() - Math.LN2) < 1e-15)
 * ```
 */
export const loss = (name: LossName): LossFn => {
  switch (name) {
    case 'crossEntropyWithLogits':
      return (z, labels) => Loss.crossEntropyWithLogits(z, labels)
    case 'crossEntropy':
      return (p, labels) => Loss.crossEntropy(p, labels)
    case 'nll':
      return (logp, labels) => Loss.nll(logp, labels)
    case 'mse':
      return (p, labels) => Loss.mse(p, targetsOf(p, labels) as Tensor)
    case 'l1':
      return (p, labels) => Loss.l1(p, targetsOf(p, labels) as Tensor)
    case 'huber':
      return (p, labels) => Loss.huber(p, targetsOf(p, labels) as Tensor)
    case 'binaryCrossEntropyWithLogits':
      return (z, labels) => Loss.binaryCrossEntropyWithLogits(z, labels)
    case 'binaryCrossEntropy':
      return (p, labels) => Loss.binaryCrossEntropy(p, labels)
  }
}

/**
 * The loss of a regression model, as `Train.fit` takes it: predictions against real targets
 * of the same shape (`Loss.mse`, `Loss.l1`, `Loss.huber` with δ = 1).
 *
 * @example
 * ```ts
 * import { Spec, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const huber = Spec.regressionLoss('huber')
 * assert.strictEqual(huber(tensor([[0.5], [3]]), tensor([[0], [0]])).item(), (0.125 + 2.5) / 2)
 * ```
 */
export const regressionLoss = (name: RegressionLossName): LossFn<Tensor> => {
  switch (name) {
    case 'mse':
      return (p, targets) => Loss.mse(p, targets)
    case 'l1':
      return (p, targets) => Loss.l1(p, targets)
    case 'huber':
      return (p, targets) => Loss.huber(p, targets)
  }
}
