/**
 * The io-ts codecs of a model spec: every field checked, unknown keys refused, sizes, nesting
 * and key counts bounded before anything is walked; `decode` and `parse`. Re-exported by `Spec`.
 *
 * @module
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Either } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { DecodeError, Finite, Fraction, NonNegativeInt, Positive, PositiveInt, Probability, array, decodeWith, oneOf, parseJson, struct, tagged } from '../codec.js'
import { MAX_DEPTH, MAX_ELEMENTS, MAX_KEYS, MAX_LAYERS, MAX_RANK, MAX_SPEC_LENGTH } from './limits.js'
import { activationKinds } from './types.js'
import type {
  ActivationKind,
  ActivationSpec,
  AvgPool2dSpec,
  BatchNormSpec,
  Conv2dSpec,
  DenseSpec,
  DropoutSpec,
  EluSpec,
  FlattenSpec,
  GeluSpec,
  GlobalAvgPoolSpec,
  LayerSpec,
  LeakyReluSpec,
  MaxoutSpec,
  MaxPool2dSpec,
  ModelSpec,
  ParallelSpec,
  PreluSpec,
  ReshapeSpec,
  ResidualSpec
} from './types.js'

/** Checks at compile time that a codec decodes to (a subtype of) `A`, and types it as `A`. */
const as =
  <A>() =>
  <B extends A>(codec: t.Type<B, unknown, unknown>): t.Type<A, unknown, unknown> =>
    codec as unknown as t.Type<A, unknown, unknown>

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
