/**
 * The io boundary: codecs and their reporter (`src/io/codec.ts`), model specs and training
 * configurations (`src/io/spec.ts`), datasets from JSON and CSV (`src/io/dataset.ts`).
 *
 * - every codec accepts valid input and rejects invalid input with the expected path and words;
 * - random JSON values (and random text) never make a decoder throw: the answer is a `Left`
 *   or a `Right`;
 * - specs build the same models as hand-written TypeScript: the same output shapes, the same
 *   parameter shapes, the same initial weights from the same key, the same outputs; and a
 *   spec that does not fit fails with the same words as the TypeScript model (the compile
 *   error, checked with `expectTypeOf` on `Layer.Chain`, and the runtime `ShapeError`);
 * - `toSpec` round trips, through JSON too;
 * - prototype-pollution attempts are rejected and `Object.prototype` stays clean;
 * - datasets: values, labels and the positions of every error, against generated files.
 *
 * Every property returns or asserts its verdict.
 */
import { describe, expect, expectTypeOf, it } from 'vitest'
import { fc, test } from '@fast-check/vitest'
import * as t from 'io-ts'
import { ArgumentError, Combinators, Conv, Layer, Layers, LaminaError, Norm, Optim, Random, ShapeError, Train, Tree, tensor, zeros } from 'lamina-nn'
import type { ShapeMismatch, ShapeT, Tensor } from 'lamina-nn'
import * as Codec from '../src/io/codec.js'
import * as Checkpoint from '../src/io/checkpoint.js'
import * as Spec from '../src/io/spec.js'
import * as Data from '../src/io/dataset.js'
import type { AnyLayer } from '../src/nn/layer.js'
import { lenet } from './support/models.js'

// ================================================================ helpers

type Either<E, A> = { readonly _tag: 'Left'; readonly left: E } | { readonly _tag: 'Right'; readonly right: A }

const left = <E, A>(r: Either<E, A>): E => {
  if (r._tag === 'Right') throw new Error(`expected a Left, got Right ${JSON.stringify(r.right)}`)
  return r.left
}
const right = <E, A>(r: Either<E, A>): A => {
  if (r._tag === 'Left') throw new Error(`expected a Right, got Left: ${r.left instanceof Error ? r.left.message : String(r.left)}`)
  return r.right
}
const message = <E, A>(r: Either<E, A>): string => (left(r) as Error).message
const isEither = (r: unknown): boolean =>
  typeof r === 'object' && r !== null && (((r as { _tag?: unknown })._tag === 'Left' && (r as { left?: unknown }).left instanceof LaminaError) || (r as { _tag?: unknown })._tag === 'Right')

/** The text of a named shape error (`never` when `T` is a shape). */
type Message<T> = T extends ShapeMismatch<infer M> ? M : never

const shapesOf = (tree: unknown): number[][] => Tree.flatten(tree).leaves.map((l) => [...l.shape])
const valuesOf = (tree: unknown): number[][] => Tree.flatten(tree).leaves.map((l) => Array.from(l.data))

/** The same model: same output shape, same parameter shapes and initial values from a key, same outputs on an input. */
const sameModel = (a: AnyLayer, b: AnyLayer, input: readonly number[], seed: number): boolean => {
  const [pa, pb] = [a.init(Random.key(seed)), b.init(Random.key(seed))]
  const x = Random.normal(Random.key(seed + 1), [2, ...input])
  const ya = Layer.apply(a, pa, x)
  const yb = Layer.apply(b, pb, x)
  return (
    JSON.stringify(a.outputShape(input)) === JSON.stringify(b.outputShape(input)) &&
    JSON.stringify(shapesOf(pa)) === JSON.stringify(shapesOf(pb)) &&
    JSON.stringify(valuesOf(pa)) === JSON.stringify(valuesOf(pb)) &&
    ya.shape.join() === yb.shape.join() &&
    Array.from(ya.data).every((v, i) => Object.is(v, yb.data[i]))
  )
}

/** A snapshot of Object.prototype (own property names), to check that nothing was added. */
const prototypeKeys = (): string => JSON.stringify(Object.getOwnPropertyNames(Object.prototype).sort())

// ================================================================ Codec

describe('Codec: the branded number codecs', () => {
  const cases: ReadonlyArray<readonly [string, t.Mixed, readonly unknown[], readonly unknown[]]> = [
    ['positive integer', Codec.PositiveInt, [1, 2, 784, 2 ** 53 - 1], [0, -1, 1.5, NaN, Infinity, 2 ** 53, '3', null, undefined, [1], true]],
    ['non-negative integer', Codec.NonNegativeInt, [0, 1, 5], [-1, 0.5, NaN, '0']],
    ['integer', Codec.SafeInt, [0, -7, 2 ** 53 - 1], [0.5, 2 ** 60, NaN, '1']],
    ['finite number', Codec.Finite, [0, -0.5, 1e300, -1e-300], [NaN, Infinity, -Infinity, '1', null]],
    ['positive number', Codec.Positive, [1e-12, 3], [0, -1, Infinity, NaN]],
    ['non-negative number', Codec.NonNegative, [0, 0.01], [-1e-9, Infinity, NaN]],
    ['probability in [0, 1]', Codec.Probability, [0, 0.5, 1], [-0.01, 1.01, NaN, '0.5']],
    ['number in [0, 1)', Codec.Fraction, [0, 0.5, 0.999], [1, -0.1, NaN]]
  ]
  for (const [name, codec, good, bad] of cases) {
    it(`${name}: accepts ${good.length} values and rejects ${bad.length} with "expected ${name}, got …"`, () => {
      for (const v of good) expect(right(Codec.decodeWith(codec, v, 'value'))).toBe(v)
      for (const v of bad) expect(message(Codec.decodeWith(codec, v, 'value'))).toBe(`value: expected ${name}, got ${Codec.showValue(v)}`)
    })
  }

  test.prop([fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -0, 2 ** 53, -(2 ** 53)))])('PositiveInt is exactly the safe integers ≥ 1', (n) =>
    Codec.PositiveInt.is(n) === (Number.isSafeInteger(n) && n >= 1)
  )
  test.prop([fc.double()])('Probability is exactly [0, 1] and Fraction exactly [0, 1)', (p) =>
    Codec.Probability.is(p) === (p >= 0 && p <= 1) && Codec.Fraction.is(p) === (p >= 0 && p < 1)
  )
})

describe('Codec: the reporter', () => {
  it('writes paths as JavaScript does and values as short JSON', () => {
    const Dense = Codec.struct('dense layer', { units: Codec.PositiveInt })
    const Model = Codec.struct('model', { layers: Codec.array(Dense, 'layers') })
    const r = Codec.decodeWith(Model, { layers: [{ units: 1 }, { units: 2 }, { units: -3 }] }, 'model spec')
    expect(left(r).failures).toEqual([{ path: 'layers[2].units', expected: 'positive integer', got: '-3' }])
    expect(message(r)).toBe('model spec: layers[2].units: expected positive integer, got -3')
    expect(Codec.joinPath(Codec.joinPath('', 'a b'), 0)).toBe('["a b"][0]')
    expect(Codec.showValue('x'.repeat(100))).toBe(`"${'x'.repeat(59)}…" (100 characters)`)
    const cyclic: Record<string, unknown> = {}
    cyclic['self'] = cyclic
    expect(Codec.showValue(cyclic)).toBe('[object Object]')
    expect(Codec.showValue(10n)).toBe('10n')
    expect(Codec.showValue(-0)).toBe('-0')
  })

  it('lists several failures on their own lines, and counts those it leaves out', () => {
    const r = Codec.decodeWith(Codec.array(Codec.PositiveInt, 'sizes'), Array.from({ length: 25 }, () => 0), 'sizes')
    const e = left(r)
    expect(e.failures.length).toBe(20)
    expect(e.omitted).toBe(5)
    expect(e.message.split('\n')[0]).toBe('sizes: 25 problems')
    expect(e.message.split('\n')[1]).toBe('  [0]: expected positive integer, got 0')
    expect(e.message.split('\n').at(-1)).toBe('  … and 5 more problems')
    expect(e).toBeInstanceOf(Codec.DecodeError)
    expect(e).toBeInstanceOf(LaminaError)
    expect(e.name).toBe('DecodeError')
  })

  it("reports io-ts's own codecs readably: unions by name, members without index segments", () => {
    expect(Codec.report(left(t.array(t.number).decode([1, 'x'])))).toEqual([{ path: '[1]', expected: 'number', got: '"x"' }])
    expect(message(Codec.decodeWith(t.union([t.number, t.string]), true, 'u'))).toBe('u: expected (number | string), got true')
    expect(message(Codec.decodeWith(t.type({ a: t.type({ b: t.string }) }), { a: { b: 1 } }, 'v'))).toBe('v: a.b: expected string, got 1')
    const tagged = t.union([t.type({ kind: t.literal('a'), n: t.number }), t.type({ kind: t.literal('b') })])
    expect(message(Codec.decodeWith(tagged, { kind: 'a', n: 'x' }, 'w'))).toBe('w: n: expected number, got "x"')
    expect(message(Codec.decodeWith(t.record(t.string, t.number), { 'odd key': 'x' }, 'r'))).toBe('r: ["odd key"]: expected number, got "x"')
  })

  it('struct: required, optional, unknown keys; a fresh object of known keys only', () => {
    const S = Codec.struct('thing', { a: Codec.PositiveInt }, { b: Codec.Finite })
    const input = { a: 1, b: undefined }
    const out = right(Codec.decodeWith(S, input, 'thing'))
    expect(out).toEqual({ a: 1 })
    expect(out).not.toBe(input)
    expect(message(Codec.decodeWith(S, { a: 1, c: 2 }, 'thing'))).toBe('thing: c: expected no such key (thing keys: a, b), got 2')
    expect(message(Codec.decodeWith(S, [], 'thing'))).toBe('thing: expected thing, got []')
    expect(message(Codec.decodeWith(S, { b: 'x' }, 'thing'))).toBe('thing: 2 problems\n  a: expected positive integer, got undefined\n  b: expected finite number, got "x"')
    // inherited properties are not read
    const proto = { a: 5 }
    expect(message(Codec.decodeWith(S, Object.create(proto) as unknown, 'thing'))).toBe('thing: a: expected positive integer, got undefined')
    expect(S.is({ a: 2 })).toBe(true)
    expect(S.is({ a: 2, z: 0 })).toBe(false)
  })

  it('tagged: an unknown, missing or inherited tag is one failure at the tag', () => {
    const U = Codec.tagged('kind', 'shape', {
      circle: Codec.struct('circle', { kind: t.literal('circle'), r: Codec.Positive }),
      dot: Codec.struct('dot', { kind: t.literal('dot') })
    })
    const expected = 'one of "circle", "dot"'
    expect(right(Codec.decodeWith(U, { kind: 'dot' }, 's'))).toEqual({ kind: 'dot' })
    expect(message(Codec.decodeWith(U, { kind: 'circle', r: 0 }, 's'))).toBe('s: r: expected positive number, got 0')
    for (const kind of ['square', 'constructor', 'toString', 'hasOwnProperty', '__proto__', 3, null]) {
      expect(message(Codec.decodeWith(U, { kind }, 's'))).toBe(`s: kind: expected ${expected}, got ${Codec.showValue(kind)}`)
    }
    expect(message(Codec.decodeWith(U, {}, 's'))).toBe(`s: kind: expected ${expected}, got undefined`)
    expect(message(Codec.decodeWith(U, 'dot', 's'))).toBe('s: expected shape (an object with a "kind" field), got "dot"')
  })

  it('never throws, even when reading the value throws', () => {
    const hostile = new Proxy(
      {},
      {
        ownKeys: () => {
          throw new Error('trap')
        }
      }
    )
    const r = Codec.decodeWith(Codec.struct('s', {}), hostile, 'hostile')
    expect(message(r)).toBe('hostile: expected a value that can be read, got an error: trap')
  })

  it('parseJson: a syntax error is a Left', () => {
    const e = left(Codec.parseJson(Codec.PositiveInt, '{"a": ', 'count'))
    expect(e.failures[0]!.expected).toBe('valid JSON')
    expect(right(Codec.parseJson(Codec.array(Codec.Finite, 'numbers'), '[1, 2.5]', 'numbers'))).toEqual([1, 2.5])
  })
})

// ================================================================ Spec: decoding

/** The spec of the brief, one of every layer kind (it does not have to fit together to decode). */
const everyKind: Spec.ModelSpec = {
  input: [784],
  layers: [
    { kind: 'dense', units: 128 },
    { kind: 'relu' },
    { kind: 'dense', units: 10, inputs: 128 },
    { kind: 'dropout', rate: 0.2 },
    { kind: 'conv2d', filters: 6, kernel: 3, stride: 1, padding: 0 },
    { kind: 'conv2d', filters: 6, kernel: 3, channels: 1 },
    { kind: 'maxPool2d', kernel: 2 },
    { kind: 'maxPool2d', kernel: 2, stride: 1 },
    { kind: 'flatten' },
    { kind: 'reshape', shape: [1, 28, 28] },
    { kind: 'batchNorm' },
    { kind: 'batchNorm', momentum: 0.2, eps: 1e-3 },
    { kind: 'sigmoid' },
    { kind: 'tanh' },
    { kind: 'leakyRelu', alpha: 0.1 },
    { kind: 'leakyRelu' },
    { kind: 'elu' },
    { kind: 'elu', alpha: 0.5 },
    { kind: 'gelu' },
    { kind: 'gelu', form: 'tanh' },
    { kind: 'softplus' },
    { kind: 'softmax' },
    { kind: 'logSoftmax' },
    { kind: 'identity' }
  ]
}

describe('Spec: decoding', () => {
  it('accepts every layer kind, with and without its options', () => {
    expect(right(Spec.decode(JSON.parse(JSON.stringify(everyKind))))).toEqual(everyKind)
  })

  const bad: ReadonlyArray<readonly [string, unknown, string]> = [
    ['missing units', { kind: 'dense' }, 'layers[0].units: expected positive integer, got undefined'],
    ['units 0', { kind: 'dense', units: 0 }, 'layers[0].units: expected positive integer, got 0'],
    ['units as text', { kind: 'dense', units: '128' }, 'layers[0].units: expected positive integer, got "128"'],
    ['a typo', { kind: 'dense', units: 3, unit: 3 }, 'layers[0].unit: expected no such key (dense layer keys: kind, units, inputs), got 3'],
    ['fractional filters', { kind: 'conv2d', filters: 1.5, kernel: 3 }, 'layers[0].filters: expected positive integer, got 1.5'],
    ['negative padding', { kind: 'conv2d', filters: 1, kernel: 3, padding: -1 }, 'layers[0].padding: expected non-negative integer, got -1'],
    ['stride 0', { kind: 'maxPool2d', kernel: 2, stride: 0 }, 'layers[0].stride: expected positive integer, got 0'],
    ['dropout rate 1', { kind: 'dropout', rate: 1 }, 'layers[0].rate: expected number in [0, 1), got 1'],
    ['empty reshape', { kind: 'reshape', shape: [] }, 'layers[0].shape: expected shape (an array of positive integers) with at least 1 item, got []'],
    ['reshape to 0', { kind: 'reshape', shape: [2, 0] }, 'layers[0].shape[1]: expected positive integer, got 0'],
    ['momentum 2', { kind: 'batchNorm', momentum: 2 }, 'layers[0].momentum: expected probability in [0, 1], got 2'],
    ['alpha as text', { kind: 'leakyRelu', alpha: 'x' }, 'layers[0].alpha: expected finite number, got "x"'],
    ['gelu form', { kind: 'gelu', form: 'fast' }, 'layers[0].form: expected one of "erf", "tanh", got "fast"'],
    ['options on relu', { kind: 'relu', alpha: 1 }, 'layers[0].alpha: expected no such key (relu layer keys: kind), got 1'],
    ['not an object', 'relu', 'layers[0]: expected layer (an object with a "kind" field), got "relu"']
  ]
  for (const [what, layer, expected] of bad) {
    it(`rejects ${what}: "${expected}"`, () => {
      expect(message(Spec.decode({ input: [784], layers: [layer] }))).toBe(`model spec: ${expected}`)
    })
  }

  it('rejects an unknown kind, listing the known ones', () => {
    const e = left(Spec.decode({ input: [2], layers: [{ kind: 'relu' }, { kind: 'dence', units: 3 }] }))
    expect(e.failures).toHaveLength(1)
    expect(e.failures[0]!.path).toBe('layers[1].kind')
    expect(e.failures[0]!.got).toBe('"dence"')
    expect(e.failures[0]!.expected).toMatch(/^one of "dense", "conv2d", "maxPool2d", "dropout", "flatten", "reshape", "batchNorm", /)
  })

  it('rejects a bad input shape, no layers, and non-objects; parse reports JSON syntax errors', () => {
    expect(message(Spec.decode({ input: 784, layers: [{ kind: 'relu' }] }))).toBe('model spec: input: expected shape (an array of positive integers), got 784')
    expect(message(Spec.decode({ input: [28, -28], layers: [{ kind: 'relu' }] }))).toBe('model spec: input[1]: expected positive integer, got -28')
    expect(message(Spec.decode({ input: [1], layers: [] }))).toBe('model spec: layers: expected array of layers with at least 1 item, got []')
    expect(message(Spec.decode(null))).toBe('model spec: expected model spec, got null')
    expect(left(Spec.parse('{"input": [1], ')).failures[0]!.expected).toBe('valid JSON')
  })
})

// ================================================================ Spec: building

// ---------------------------------------------------------------- generated specs

/** A generated spec and the hand-written model for it (widths computed here, from lamina's layers). */
type Case = { readonly spec: Spec.ModelSpec; readonly typed: () => AnyLayer }

const denseStack = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant('dense' as const), units: fc.integer({ min: 1, max: 12 }) }),
    fc.constantFrom<Spec.LayerSpec>(
      { kind: 'relu' },
      { kind: 'tanh' },
      { kind: 'sigmoid' },
      { kind: 'softplus' },
      { kind: 'softmax' },
      { kind: 'logSoftmax' },
      { kind: 'identity' },
      { kind: 'gelu' },
      { kind: 'batchNorm' },
      { kind: 'flatten' },
      { kind: 'absRectify' },
      // groups of one: a maxout that fits any width (wider groups: the model-file and ONNX tests)
      { kind: 'maxout', k: 1 }
    ),
    fc.record({ kind: fc.constant('dropout' as const), rate: fc.double({ min: 0, max: 0.9, noNaN: true }) }),
    fc.record({ kind: fc.constant('leakyRelu' as const), alpha: fc.double({ min: -1, max: 1, noNaN: true }) }),
    fc.record({ kind: fc.constant('elu' as const), alpha: fc.double({ min: 0, max: 2, noNaN: true }) })
  ),
  { minLength: 0, maxLength: 4 }
)
const imageLayer: fc.Arbitrary<Spec.LayerSpec> = fc.oneof(
  fc.record(
    {
      kind: fc.constant('conv2d' as const),
      filters: fc.integer({ min: 1, max: 3 }),
      kernel: fc.integer({ min: 1, max: 4 }),
      stride: fc.integer({ min: 1, max: 3 }),
      padding: fc.integer({ min: 0, max: 2 })
    },
    { requiredKeys: ['kind', 'filters', 'kernel'] }
  ),
  fc.record({ kind: fc.constant('maxPool2d' as const), kernel: fc.integer({ min: 1, max: 3 }), stride: fc.integer({ min: 1, max: 3 }) }, { requiredKeys: ['kind', 'kernel'] }),
  // pooling with padding (smaller than the kernel), max and average
  fc
    .record({ kind: fc.constantFrom('maxPool2d' as const, 'avgPool2d' as const), kernel: fc.integer({ min: 1, max: 3 }), stride: fc.integer({ min: 1, max: 3 }), pad: fc.nat(2) })
    .map(({ pad, ...s }): Spec.LayerSpec => ({ ...s, padding: pad % s.kernel })),
  fc.constantFrom<Spec.LayerSpec>({ kind: 'relu' }, { kind: 'batchNorm' }, { kind: 'residual', layers: [{ kind: 'batchNorm' }, { kind: 'relu' }] })
)
/** Layers that keep any shape, for residual blocks. */
const keeping = fc.constantFrom<Spec.LayerSpec>({ kind: 'relu' }, { kind: 'tanh' }, { kind: 'gelu' }, { kind: 'batchNorm' }, { kind: 'identity' }, { kind: 'dropout', rate: 0.5 })
/** Residual and parallel blocks on a flat input (a residual may hold another). */
const block: fc.Arbitrary<Spec.LayerSpec> = fc.oneof(
  fc.array(keeping, { minLength: 1, maxLength: 3 }).map((layers): Spec.LayerSpec => ({ kind: 'residual', layers })),
  fc
    .array(keeping, { minLength: 1, maxLength: 2 })
    .map((layers): Spec.LayerSpec => ({ kind: 'residual', layers: [{ kind: 'residual', layers }, { kind: 'tanh' }] })),
  fc
    .array(fc.array(fc.oneof(fc.record({ kind: fc.constant('dense' as const), units: fc.integer({ min: 1, max: 5 }) }), keeping), { minLength: 1, maxLength: 2 }), {
      minLength: 1,
      maxLength: 3
    })
    .map((branches): Spec.LayerSpec => ({ kind: 'parallel', branches }))
)
/** Input, optional reshape to an image, image layers, flatten (or not), dense layers. */
const specs: fc.Arbitrary<Spec.ModelSpec> = fc
  .record({
    c: fc.integer({ min: 1, max: 3 }),
    h: fc.integer({ min: 1, max: 9 }),
    w: fc.integer({ min: 1, max: 9 }),
    flat: fc.boolean(),
    images: fc.array(imageLayer, { maxLength: 4 }),
    global: fc.boolean(),
    flatten: fc.boolean(),
    blocks: fc.array(block, { maxLength: 2 }),
    dense: denseStack,
    head: fc.integer({ min: 1, max: 5 })
  })
  .map(({ c, h, w, flat, images, global, flatten, blocks, dense, head }) => ({
    input: flat ? [c * h * w] : [c, h, w],
    layers: [
      ...(flat ? [{ kind: 'reshape' as const, shape: [c, h, w] }] : []),
      // (a residual on an image whose size the first layer leaves free: see the blocks below)
      ...(flat ? images : images.filter((l) => l.kind !== 'residual')),
      // global pooling ends the images; blocks with dense branches come after a flatten, from
      // a flat input (a hand-written residual of a residual cannot check a size that a
      // convolution on an image of free size leaves unknown, and refuses it)
      ...(global ? [{ kind: 'globalAvgPool' as const }] : []),
      ...(flatten ? [{ kind: 'flatten' as const }, ...(flat ? blocks : [])] : []),
      ...dense,
      { kind: 'dense' as const, units: head }
    ]
  }))

/** The model a TypeScript user writes for a spec: each width read off the shape before it (lamina's outputShape). */
const handWritten = (spec: Spec.ModelSpec): Case => {
  const layers = handLayers(spec.layers, spec.input)
  // a flat input starts with a reshape, whose sizes the type knows; an image input is
  // declared to sequential by its first layer
  return { spec, typed: () => Layer.sequential(...layers) }
}

/** The layers a TypeScript user writes for a list of specs on input `input` (blocks: `Combinators` of `sequential`s of their lists). */
const handLayers = (specs: readonly Spec.LayerSpec[], input: readonly number[]): AnyLayer[] => {
  const layers: AnyLayer[] = []
  let cur: readonly number[] | undefined = input
  for (const s of specs) {
    if (cur === undefined) break
    const shape: readonly number[] = cur
    const size = shape.reduce((a, b) => a * b, 1)
    const layer: AnyLayer = (() => {
      switch (s.kind) {
        case 'dense':
          return Layers.dense(s.inputs ?? size, s.units)
        case 'conv2d':
          return Conv.conv2d(s.channels ?? shape[0]!, s.filters, s.kernel, { stride: s.stride ?? 1, padding: s.padding ?? 0 })
        case 'maxPool2d':
          return Conv.maxPool2d(s.kernel, { stride: s.stride ?? s.kernel, padding: s.padding ?? 0 })
        case 'avgPool2d':
          return Conv.avgPool2d(s.kernel, { stride: s.stride ?? s.kernel, padding: s.padding ?? 0 })
        case 'globalAvgPool':
          return Conv.globalAvgPool(shape[0]!)
        case 'residual':
          return (Combinators.residual as unknown as (l: AnyLayer) => AnyLayer)(Layer.sequential(...handLayers(s.layers, shape)))
        case 'parallel':
          return (Combinators.parallel as unknown as (...ls: AnyLayer[]) => AnyLayer)(...s.branches.map((b) => Layer.sequential(...handLayers(b, shape))))
        case 'batchNorm':
          return shape.length === 3 ? Norm.batchNorm2d(shape[0]!) : Norm.batchNorm(shape[0]!)
        case 'dropout':
          return Layers.dropout(s.rate)
        case 'leakyRelu':
          return Layers.leakyRelu(s.alpha)
        case 'elu':
          return Layers.elu(s.alpha)
        case 'gelu':
          return Layers.gelu(s.form)
        case 'reshape':
          return Layers.reshape(s.shape)
        case 'flatten':
          return Layers.flatten()
        case 'prelu':
          return Layers.prelu(shape[0]!)
        case 'maxout':
          return Layers.maxout(s.k)
        default:
          return ({ relu: Layers.relu, tanh: Layers.tanh, sigmoid: Layers.sigmoid, softplus: Layers.softplus, softmax: Layers.softmax, logSoftmax: Layers.logSoftmax, identity: Layers.identity, absRectify: Layers.absRectify } as const)[s.kind]()
      }
    })()
    layers.push(layer)
    try {
      cur = layer.outputShape(shape)
    } catch {
      cur = undefined
    }
  }
  return layers
}


describe('Spec: build gives the model written by hand', () => {
  it('the MLP of the README', () => {
    const built = right(Spec.build({ input: [784], layers: [{ kind: 'dense', units: 128 }, { kind: 'relu' }, { kind: 'dense', units: 10 }] }))
    const typed = Layer.sequential(Layers.dense(784, 128), Layers.relu(), Layers.dense(128, 10))
    expect(built.inputShape).toEqual([784])
    expect(built.outputShape).toEqual([10])
    expect(sameModel(built.model, typed, [784], 0)).toBe(true)
    expect(shapesOf(built.model.init(Random.key(0)))).toEqual([[784, 128], [128], [128, 10], [10]])
  })

  it("seed 004's LeNet, from a flat input", () => {
    const spec: Spec.ModelSpec = {
      input: [1024],
      layers: [
        { kind: 'reshape', shape: [1, 32, 32] },
        { kind: 'conv2d', filters: 6, kernel: 3 },
        { kind: 'relu' },
        { kind: 'maxPool2d', kernel: 2 },
        { kind: 'conv2d', filters: 16, kernel: 3 },
        { kind: 'relu' },
        { kind: 'maxPool2d', kernel: 2 },
        { kind: 'flatten' },
        { kind: 'dense', units: 120 },
        { kind: 'relu' },
        { kind: 'dense', units: 84 },
        { kind: 'relu' },
        { kind: 'dense', units: 10 }
      ]
    }
    const typed = lenet()
    const built = right(Spec.build(spec))
    expect(built.outputShape).toEqual([10])
    expect(sameModel(built.model, typed, [1024], 4)).toBe(true)
  })

  it('every other layer kind: strided, padded convolutions, batch norm on features and images, dropout, activations', () => {
    const built = right(
      Spec.build({
        input: [3, 9, 9],
        layers: [
          { kind: 'conv2d', filters: 4, kernel: 3, stride: 2, padding: 1 },
          { kind: 'batchNorm', momentum: 0.3 },
          { kind: 'leakyRelu', alpha: 0.2 },
          { kind: 'maxPool2d', kernel: 2, stride: 1 },
          { kind: 'flatten' },
          { kind: 'dropout', rate: 0.5 },
          { kind: 'dense', units: 7 },
          { kind: 'batchNorm', eps: 1e-3 },
          { kind: 'elu', alpha: 0.5 },
          { kind: 'gelu', form: 'tanh' },
          { kind: 'sigmoid' },
          { kind: 'tanh' },
          { kind: 'softplus' },
          { kind: 'gelu' },
          { kind: 'identity' },
          { kind: 'reshape', shape: [7, 1] },
          { kind: 'softmax' },
          { kind: 'logSoftmax' }
        ]
      })
    )
    const typed = Layer.sequential(
      Conv.conv2d(3, 4, 3, { stride: 2, padding: 1 }),
      Norm.batchNorm2d(4, { momentum: 0.3 }),
      Layers.leakyRelu(0.2),
      Conv.maxPool2d(2, { stride: 1 }),
      Layers.flatten(),
      Layers.dropout(0.5),
      Layers.dense(64, 7),
      Norm.batchNorm(7, { eps: 1e-3 }),
      Layers.elu(0.5),
      Layers.gelu('tanh'),
      Layers.sigmoid(),
      Layers.tanh(),
      Layers.softplus(),
      Layers.gelu(),
      Layers.identity(),
      Layers.reshape([7, 1]),
      Layers.softmax(),
      Layers.logSoftmax()
    )
    expect(built.outputShape).toEqual([7, 1])
    expect(sameModel(built.model, typed, [3, 9, 9], 2)).toBe(true)
    // the same in training: batch statistics and dropout masks from the same keys
    const x = Random.normal(Random.key(5), [4, 3, 9, 9])
    const a = Layer.train(built.model, built.model.init(Random.key(1)), built.model.initState(), x, Random.key(6))
    const b = Layer.train(typed, typed.init(Random.key(1)), typed.initState(), x, Random.key(6))
    expect(Array.from(a.y.data)).toEqual(Array.from(b.y.data))
    expect(valuesOf(a.state)).toEqual(valuesOf(b.state))
  })

  test.prop([specs], { numRuns: 150 })(
    'random specs: the same model as written by hand, or the same ShapeError words',
    (spec) => {
      const { typed } = handWritten(spec)
      const built = Spec.build(spec)
      let typedModel: AnyLayer | undefined
      let typedError: unknown
      try {
        typedModel = typed()
        typedModel.outputShape(spec.input)
      } catch (e) {
        typedError = e
      }
      if (built._tag === 'Right') {
        return typedError === undefined && sameModel(built.right.model, typedModel!, spec.input, 7)
      }
      // an image input given straight to a convolution: TypeScript does not know its size,
      // so its words carry "?" where the spec's carry the sizes; compare from a reshape then
      return (
        built.left instanceof ShapeError &&
        typedError instanceof ShapeError &&
        (built.left.message === typedError.message || spec.input.length === 3)
      )
    }
  )

  test.prop([specs.filter((s) => s.input.length === 1)], { numRuns: 100 })('random specs from a flat input: exactly the same words as the hand-written model', (spec) => {
    const built = Spec.build(spec)
    let typedError: unknown
    try {
      handWritten(spec).typed().outputShape(spec.input)
    } catch (e) {
      typedError = e
    }
    return built._tag === 'Right' ? typedError === undefined : typedError instanceof ShapeError && built.left.message === typedError.message
  })

  it('builds a model Train.fit trains, with an optimizer and a loss from a training config', () => {
    const { model } = right(Spec.build({ input: [2], layers: [{ kind: 'dense', units: 8 }, { kind: 'tanh' }, { kind: 'dense', units: 2 }] }))
    const config = right(Spec.decodeTraining({ epochs: 30, batchSize: 2, seed: 1, optimizer: { kind: 'adam', lr: 0.05 } }))
    const data = right(Data.fromJson({ x: [[2, 1], [1, 2], [-2, -1], [-1, -2]], labels: [0, 0, 1, 1] }))
    const [initKey, fitKey] = Random.split(Random.key(config.seed))
    const result = Train.fit({
      model,
      params: model.init(initKey!),
      optimizer: Spec.optimizer(config.optimizer),
      loss: Spec.loss(config.loss),
      data,
      epochs: config.epochs,
      batchSize: config.batchSize,
      key: fitKey!
    })
    expect(Train.evaluate(model, result.params, result.state, data).accuracy).toBe(1)
  })
})

describe('Spec: a spec that does not fit fails with the words of the type checker', () => {
  it('a dense layer after a convolution, without flatten', () => {
    const text = 'layer 3 expects 4056 features but layer 2 produces shape [6,26,26]'
    // the compile error of the same model in TypeScript…
    type Bad = Layer.Chain<
      [Layer.Layer<ShapeT, readonly [1, 28, 28], Layer.Stateless>, ReturnType<typeof Conv.conv2d<1, 6, 3>>, ReturnType<typeof Layers.dense<4056, 10>>],
      ShapeT
    >
    expectTypeOf<Message<Bad>>().toEqualTypeOf<typeof text>()
    // @ts-expect-error: layer 3 expects 4056 features but layer 2 produces shape [6,26,26]
    const typed = () => Layer.sequential(Layers.reshape([1, 28, 28]), Conv.conv2d(1, 6, 3), Layers.dense(4056, 10))
    expect(typed).toThrow(new ShapeError(text))
    // …and the spec's
    const spec = Spec.build({ input: [784], layers: [{ kind: 'reshape', shape: [1, 28, 28] }, { kind: 'conv2d', filters: 6, kernel: 3 }, { kind: 'dense', units: 10 }] })
    expect(left(spec)).toBeInstanceOf(ShapeError)
    expect(message(spec)).toBe(text)
    // the input given as an image: the spec still knows the sizes
    expect(message(Spec.build({ input: [1, 28, 28], layers: [{ kind: 'conv2d', filters: 6, kernel: 3 }, { kind: 'dense', units: 10 }] }))).toBe(
      'layer 2 expects 4056 features but layer 1 produces shape [6,26,26]'
    )
  })

  it('a dense layer whose declared width differs from the one before (the README mistake)', () => {
    const text = 'layer 3 expects 64 features but layer 2 produces 128 features'
    type Bad = Layer.Chain<[ReturnType<typeof Layers.dense<784, 128>>, ReturnType<typeof Layers.relu>, ReturnType<typeof Layers.dense<64, 10>>], ShapeT>
    expectTypeOf<Message<Bad>>().toEqualTypeOf<typeof text>()
    // @ts-expect-error: layer 3 expects 64 features but layer 2 produces 128 features
    expect(() => Layer.sequential(Layers.dense(784, 128), Layers.relu(), Layers.dense(64, 10))).toThrow(new ShapeError(text))
    expect(message(Spec.build({ input: [784], layers: [{ kind: 'dense', units: 128 }, { kind: 'relu' }, { kind: 'dense', inputs: 64, units: 10 }] }))).toBe(text)
  })

  it('a reshape to the wrong number of elements', () => {
    const text = 'layer 2: reshape: cannot reshape [128] (128 elements) into [1,28,28] (784 elements)'
    // @ts-expect-error: layer 2: reshape: cannot reshape [128] (128 elements) into [1,28,28] (784 elements)
    expect(() => Layer.sequential(Layers.dense(784, 128), Layers.reshape([1, 28, 28]))).toThrow(new ShapeError(text))
    expect(message(Spec.build({ input: [784], layers: [{ kind: 'dense', units: 128 }, { kind: 'reshape', shape: [1, 28, 28] }] }))).toBe(text)
    // as the first layer, against the input
    const first = Spec.build({ input: [784], layers: [{ kind: 'reshape', shape: [1, 28, 27] }] })
    expect(message(first)).toBe('layer 1: reshape: cannot reshape [784] (784 elements) into [1,28,27] (756 elements)')
    expect(() => Layer.sequential(Layers.reshape([1, 28, 27])).outputShape([784])).toThrow(new ShapeError(message(first)))
  })

  it('a convolution after flatten, a channel count that differs, a kernel too large', () => {
    const afterFlatten = 'layer 4 expects shape [6,?,?] but layer 3 produces 5400 features'
    type Bad = Layer.Chain<
      [
        Layer.Layer<ShapeT, readonly [1, 32, 32], Layer.Stateless>,
        ReturnType<typeof Conv.conv2d<1, 6, 3>>,
        ReturnType<typeof Layers.flatten>,
        ReturnType<typeof Conv.conv2d<6, 6, 3>>
      ],
      ShapeT
    >
    expectTypeOf<Message<Bad>>().toEqualTypeOf<typeof afterFlatten>()
    const flatSpec = (extra: Partial<Spec.Conv2dSpec>) =>
      Spec.build({
        input: [1024],
        layers: [{ kind: 'reshape', shape: [1, 32, 32] }, { kind: 'conv2d', filters: 6, kernel: 3 }, { kind: 'flatten' }, { kind: 'conv2d', filters: 6, kernel: 3, ...extra }]
      })
    expect(message(flatSpec({ channels: 6 }))).toBe(afterFlatten)
    // without the channels, the spec cannot know them: the same words with "?"
    expect(message(flatSpec({}))).toBe('layer 4 expects shape [?,?,?] but layer 3 produces 5400 features')
    const channels = 'layer 3 expects shape [6,?,?] but layer 2 produces shape [8,30,30]'
    // @ts-expect-error: layer 3 expects shape [6,?,?] but layer 2 produces shape [8,30,30]
    expect(() => Layer.sequential(Layers.reshape([1, 32, 32]), Conv.conv2d(1, 8, 3), Conv.conv2d(6, 16, 3))).toThrow(new ShapeError(channels))
    expect(
      message(Spec.build({ input: [1024], layers: [{ kind: 'reshape', shape: [1, 32, 32] }, { kind: 'conv2d', filters: 8, kernel: 3 }, { kind: 'conv2d', channels: 6, filters: 16, kernel: 3 }] }))
    ).toBe(channels)
    const kernel = 'layer 2: conv2d: a 5x5 window does not fit in shape [1,4,4]'
    // @ts-expect-error: layer 2: conv2d: a 5x5 window does not fit in shape [1,4,4]
    expect(() => Layer.sequential(Layers.reshape([1, 4, 4]), Conv.conv2d(1, 8, 5)).outputShape([16])).toThrow(new ShapeError(kernel))
    expect(message(Spec.build({ input: [16], layers: [{ kind: 'reshape', shape: [1, 4, 4] }, { kind: 'conv2d', filters: 8, kernel: 5 }] }))).toBe(kernel)
  })

  it('layers that need an image or features get them named', () => {
    expect(message(Spec.build({ input: [784], layers: [{ kind: 'conv2d', filters: 3, kernel: 3 }] }))).toBe(
      'layer 1: conv2d expects shape [channels,height,width] but got 784 features'
    )
    expect(message(Spec.build({ input: [784], layers: [{ kind: 'relu' }, { kind: 'maxPool2d', kernel: 2 }] }))).toBe(
      'layer 2 expects shape [?,?,?] but layer 1 produces 784 features'
    )
    expect(message(Spec.build({ input: [3, 4], layers: [{ kind: 'tanh' }, { kind: 'batchNorm' }] }))).toBe(
      'layer 2 expects ? features or shape [?,?,?] but layer 1 produces shape [3,4]'
    )
    // widths beyond what lamina can allocate are an ArgumentError, not a crash
    expect(left(Spec.build({ input: [1e9, 1e9], layers: [{ kind: 'dense', units: 2 }] }))).toBeInstanceOf(ArgumentError)
  })
})

describe('Spec: toSpec', () => {
  it('writes the defaults out and leaves inferred widths out', () => {
    const built = right(Spec.build(everyKindThatFits))
    expect(right(Spec.toSpec(built.model))).toEqual({
      input: [784],
      layers: [
        { kind: 'dense', units: 128 },
        { kind: 'relu' },
        { kind: 'dropout', rate: 0.2 },
        { kind: 'dense', units: 784 },
        { kind: 'reshape', shape: [1, 28, 28] },
        { kind: 'conv2d', filters: 6, kernel: 3, stride: 1, padding: 0 },
        { kind: 'batchNorm', momentum: 0.1, eps: 1e-5 },
        { kind: 'maxPool2d', kernel: 2, stride: 2 },
        { kind: 'leakyRelu', alpha: 0.01 },
        { kind: 'elu', alpha: 1 },
        { kind: 'gelu', form: 'erf' },
        { kind: 'flatten' },
        { kind: 'dense', units: 10 },
        { kind: 'batchNorm', momentum: 0.1, eps: 1e-5 },
        { kind: 'softmax' }
      ]
    })
  })

  test.prop([specs], { numRuns: 100 })('round trip: build(toSpec(m)) is the same model, through JSON, and toSpec is idempotent', (spec) => {
    const result = Spec.build(spec)
    if (result._tag === 'Left') return true
    const built = result.right
    const once = right(Spec.toSpec(built.model))
    const again = right(Spec.build(right(Spec.parse(JSON.stringify(once)))))
    return (
      sameModel(built.model, again.model, spec.input, 11) &&
      JSON.stringify(right(Spec.toSpec(again.model))) === JSON.stringify(once) &&
      JSON.stringify(again.outputShape) === JSON.stringify(built.outputShape)
    )
  })

  it('a model written by hand has a spec when its layers have one; a model carrying a forged spec is decoded, not trusted', () => {
    expect(right(Spec.toSpec(Layer.sequential(Layers.dense(2, 2))))).toEqual({ input: [2], layers: [{ kind: 'dense', units: 2 }] })
    // every built-in layer has a kind now: prelu, maxout and absRectify too; a layer written outside lamina has none
    expect(right(Spec.toSpec(Layer.sequential(Layers.dense(2, 4), Layers.prelu(4), Layers.maxout(2), Layers.absRectify())))).toEqual({
      input: [2],
      layers: [{ kind: 'dense', units: 4 }, { kind: 'prelu' }, { kind: 'maxout', k: 2 }, { kind: 'absRectify' }]
    })
    const handMade = Layer.sequential(Layers.dense(2, 4), Layers.prelu(4), Layers.maxout(2), Layers.absRectify())
    const fromSpec = right(Spec.build({ input: [2], layers: [{ kind: 'dense', units: 4 }, { kind: 'prelu' }, { kind: 'maxout', k: 2 }, { kind: 'absRectify' }] })).model
    expect(sameModel(fromSpec, handMade, [2], 7)).toBe(true)
    expect(message(Spec.build({ input: [2, 3], layers: [{ kind: 'prelu' }] }))).toMatch(/prelu/)
    const outsider: AnyLayer = { ...Layers.relu(), kind: 'mine', settings: undefined }
    expect(left(Spec.toSpec(Layer.sequential(Layers.dense(2, 2), outsider)))).toBeInstanceOf(ArgumentError)
    const forged = { ...Layers.relu(), spec: { input: [2], layers: [{ kind: 'dense', units: -1 }] } }
    expect(message(Spec.toSpec(forged))).toBe('model spec: layers[0].units: expected positive integer, got -1')
  })
})

describe('Spec: residual and parallel blocks, average pooling', () => {
  const typed = () =>
    Layer.sequential(
      Conv.conv2d(2, 3, 3, { padding: 1 }),
      Combinators.residual(Layer.sequential(Conv.conv2d(3, 3, 3, { padding: 1 }), Norm.batchNorm2d(3), Layers.relu())),
      Conv.avgPool2d(2, { padding: 1 }),
      Combinators.parallel(Conv.globalAvgPool(3), Layer.sequential(Layers.flatten(), Layers.dense(48, 4))),
      Layers.dense(7, 2)
    )
  const spec: Spec.ModelSpec = {
    input: [2, 6, 6],
    layers: [
      { kind: 'conv2d', filters: 3, kernel: 3, stride: 1, padding: 1 },
      { kind: 'residual', layers: [{ kind: 'conv2d', filters: 3, kernel: 3, stride: 1, padding: 1 }, { kind: 'batchNorm', momentum: 0.1, eps: 1e-5 }, { kind: 'relu' }] },
      { kind: 'avgPool2d', kernel: 2, stride: 2, padding: 1 },
      { kind: 'parallel', branches: [[{ kind: 'globalAvgPool' }], [{ kind: 'flatten' }, { kind: 'dense', units: 4 }]], merge: 'concat' },
      { kind: 'dense', units: 2 }
    ]
  }

  it('fromLayer writes a hand-written model with blocks; build gives the same model, parameters laid out by flattenTree', () => {
    const model = typed()
    expect(right(Spec.fromLayer(model, { input: [2, 6, 6] }))).toEqual(spec)
    const built = right(Spec.build(spec))
    expect(sameModel(built.model, model, [2, 6, 6], 3)).toBe(true)
    expect(built.parameters.map((p) => p.name)).toEqual([
      'layers.0.w', 'layers.0.b', 'layers.1.layers.0.w', 'layers.1.layers.0.b', 'layers.1.layers.1.gamma', 'layers.1.layers.1.beta',
      'layers.3.branches.1.layers.1.w', 'layers.3.branches.1.layers.1.b', 'layers.4.w', 'layers.4.b'
    ])
    expect(built.state.map((p) => p.name)).toEqual(['layers.1.layers.1.mean', 'layers.1.layers.1.variance'])
    // the hand-written model's own parameters, laid out as the spec's, give the same outputs
    const params = model.init(Random.key(9))
    const flat = Spec.flattenTree(model, params)
    const x = Random.normal(Random.key(10), [3, 2, 6, 6])
    expect(Array.from(Layer.apply(built.model, flat, x).data)).toEqual(Array.from(Layer.apply(model, params, x).data))
    expect(Spec.nestTree(model, flat)).toEqual(params)
    // fillTree lays a file's tensors out as the model's
    const at = (name: string): Tensor => name.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], flat) as Tensor
    expect(Spec.fillTree(built.model.spec, built.parameters, (slot) => at(slot.name))).toEqual(flat)
  })

  it('a model file: a hand-written model with blocks is saved, read back with its tensors where the spec puts them, and runs the same', () => {
    const model = typed()
    const params = model.init(Random.key(4))
    const state = model.initState()
    const file = right(Checkpoint.encodeModel(model, params, { input: [2, 6, 6], state }))
    const loaded = right(Checkpoint.decode(file))
    expect(loaded.built.model.spec).toEqual(spec)
    const x = Random.normal(Random.key(5), [2, 2, 6, 6])
    expect(Array.from(Layer.apply(loaded.built.model, loaded.params, x, loaded.state).data)).toEqual(Array.from(Layer.apply(model, params, x, state).data))
  })

  it('a residual whose layers change the shape, a parallel whose branches disagree: the combinators\' words', () => {
    expect(message(Spec.build({ input: [4], layers: [{ kind: 'residual', layers: [{ kind: 'dense', units: 3 }] }] }))).toBe(
      'residual: the layer maps 4 features to 3 features, but x + layer(x) needs its output shape to equal its input shape'
    )
    expect(message(Spec.build({ input: [1, 4, 4], layers: [{ kind: 'parallel', branches: [[{ kind: 'identity' }], [{ kind: 'maxPool2d', kernel: 2 }]] }] }))).toMatch(
      /^parallel: branch 2 produces shape \[1,2,2\] but branch 1 produces shape \[1,4,4\]; only the last axis may differ/
    )
    expect(message(Spec.decode({ input: [4], layers: [{ kind: 'parallel', branches: [[{ kind: 'relu' }]], merge: 'add' }] }))).toBe(
      'model spec: layers[0].merge: expected one of "concat", got "add"'
    )
    expect(message(Spec.decode({ input: [4], layers: [{ kind: 'residual', layers: [] }] }))).toBe('model spec: layers[0].layers: expected array of layers with at least 1 item, got []')
  })

  it('nesting is bounded: MAX_DEPTH levels, MAX_LAYERS layers in all, whatever the value (no stack overflow)', () => {
    const nest = (n: number): Spec.LayerSpec => {
      let layer: Spec.LayerSpec = { kind: 'relu' }
      for (let i = 0; i < n; i++) layer = i % 2 === 0 ? { kind: 'residual', layers: [layer] } : { kind: 'parallel', branches: [[layer]] }
      return layer
    }
    expect(right(Spec.build({ input: [2], layers: [nest(Spec.MAX_DEPTH)] })).outputShape).toEqual([2])
    for (const depth of [Spec.MAX_DEPTH + 1, 1_000_000]) {
      expect(message(Spec.decode({ input: [2], layers: [nest(depth)] }))).toBe(
        `model spec: layers: expected residual and parallel blocks nested at most ${Spec.MAX_DEPTH} deep (Spec.MAX_DEPTH), got ${Spec.MAX_DEPTH + 1}`
      )
      expect(message(Codec.decodeWith(Spec.LayerCodec, nest(depth), 'layer'))).toMatch(/^layer: expected residual and parallel blocks nested at most 16 deep/)
    }
    const wide = { kind: 'residual', layers: Array.from({ length: 6000 }, () => ({ kind: 'relu' })) }
    expect(message(Spec.decode({ input: [2], layers: [wide, wide] }))).toBe(
      `model spec: layers: expected at most ${Spec.MAX_LAYERS} layers in all, blocks' layers and branches included (Spec.MAX_LAYERS), got ${Spec.MAX_LAYERS + 1}`
    )
    const branches = { kind: 'parallel', branches: Array.from({ length: 1_000_000 }, () => []) }
    expect(message(Spec.decode({ input: [2], layers: [branches] }))).toMatch(/Spec\.MAX_LAYERS/)
  })
})

/** A spec using most kinds, that fits. */
const everyKindThatFits: Spec.ModelSpec = {
  input: [784],
  layers: [
    { kind: 'dense', units: 128 },
    { kind: 'relu' },
    { kind: 'dropout', rate: 0.2 },
    { kind: 'dense', units: 784, inputs: 128 },
    { kind: 'reshape', shape: [1, 28, 28] },
    { kind: 'conv2d', filters: 6, kernel: 3 },
    { kind: 'batchNorm' },
    { kind: 'maxPool2d', kernel: 2 },
    { kind: 'leakyRelu' },
    { kind: 'elu' },
    { kind: 'gelu' },
    { kind: 'flatten' },
    { kind: 'dense', units: 10 },
    { kind: 'batchNorm' },
    { kind: 'softmax' }
  ]
}

// ================================================================ training configuration

describe('Spec: training configuration', () => {
  it('fills in the defaults, the optimizer’s too', () => {
    expect(right(Spec.decodeTraining({}))).toEqual(Spec.trainingDefaults)
    const expected: ReadonlyArray<readonly [string, Spec.OptimizerSpec]> = [
      ['sgd', { kind: 'sgd', lr: 0.01 }],
      ['momentum', { kind: 'momentum', lr: 0.01, beta: 0.9 }],
      ['nesterov', { kind: 'nesterov', lr: 0.01, beta: 0.9 }],
      ['adagrad', { kind: 'adagrad', lr: 0.01, eps: 1e-10 }],
      ['rmsprop', { kind: 'rmsprop', lr: 0.001, decay: 0.9, eps: 1e-8 }],
      ['adam', { kind: 'adam', lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-8 }],
      ['adamw', { kind: 'adamw', lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 }]
    ]
    for (const [kind, optimizer] of expected) {
      expect(right(Spec.decodeTraining({ optimizer: { kind } })).optimizer).toEqual(optimizer)
      // and every one of them builds and steps
      const opt = Spec.optimizer(optimizer)
      const params = tensor([1, 2])
      const [next] = opt.update(tensor([1, 1]), opt.init(params), params)
      expect(next.data[0]).toBeLessThan(1)
    }
    const full = { epochs: 3, batchSize: 8, seed: -5, loss: 'mse', optimizer: { kind: 'momentum', lr: 0.5, beta: 0.5 } }
    expect(right(Spec.parseTraining(JSON.stringify(full)))).toEqual(full)
  })

  const bad: ReadonlyArray<readonly [unknown, string]> = [
    [{ epochs: 0 }, 'epochs: expected positive integer, got 0'],
    [{ batchSize: 1.5 }, 'batchSize: expected positive integer, got 1.5'],
    [{ seed: 2 ** 60 }, `seed: expected integer, got ${2 ** 60}`],
    [{ loss: 'hinge' }, 'loss: expected one of "crossEntropyWithLogits", "crossEntropy", "nll", "mse", "l1", "binaryCrossEntropyWithLogits", "binaryCrossEntropy", "huber", got "hinge"'],
    [{ optimizer: 'adam' }, 'optimizer: expected optimizer (an object with a "kind" field), got "adam"'],
    [{ optimizer: { kind: 'lbfgs' } }, 'optimizer.kind: expected one of "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw", got "lbfgs"'],
    [{ optimizer: { kind: 'adam', lr: 0 } }, 'optimizer.lr: expected positive number, got 0'],
    [{ optimizer: { kind: 'adam', beta1: 1 } }, 'optimizer.beta1: expected number in [0, 1), got 1'],
    [{ optimizer: { kind: 'adamw', weightDecay: -0.1 } }, 'optimizer.weightDecay: expected non-negative number, got -0.1'],
    [{ optimizer: { kind: 'sgd', beta: 0.9 } }, 'optimizer.beta: expected no such key (sgd optimizer keys: kind, lr), got 0.9'],
    [{ epoch: 3 }, 'epoch: expected no such key (training config keys: epochs, batchSize, seed, loss, optimizer), got 3'],
    [[], 'expected training config, got []']
  ]
  for (const [value, expected] of bad) {
    it(`rejects ${JSON.stringify(value)}: "${expected}"`, () => {
      expect(message(Spec.decodeTraining(value))).toBe(`training config: ${expected}`)
    })
  }

  it('every loss name gives a loss Train.fit can use', () => {
    const logits = tensor([[2, -1], [0.5, 0.5]])
    const labels = Int32Array.from([0, 1])
    const probabilities = tensor([[0.9, 0.1], [0.5, 0.5]])
    const logProbabilities = tensor([[Math.log(0.9), Math.log(0.1)], [Math.log(0.5), Math.log(0.5)]])
    expect(Spec.loss('crossEntropyWithLogits')(logits, labels).item()).toBeGreaterThan(0)
    expect(Spec.loss('crossEntropy')(probabilities, labels).item()).toBeCloseTo(Spec.loss('nll')(logProbabilities, labels).item(), 12)
    expect(Spec.loss('mse')(tensor([[1, 0], [0, 1]]), labels).item()).toBe(0)
    expect(Spec.loss('l1')(tensor([[1, 0], [0, 0]]), labels).item()).toBe(0.25)
    expect(Spec.loss('mse')(tensor([[0], [1]]), labels).item()).toBe(0) // one output: the labels themselves
    expect(Spec.loss('binaryCrossEntropyWithLogits')(tensor([[-30], [30]]), labels).item()).toBeLessThan(1e-12)
    expect(Spec.loss('binaryCrossEntropy')(tensor([0.5, 0.5]), labels).item()).toBeCloseTo(Math.LN2, 6)
  })

  it('a whole run, decoded from JSON', () => {
    const opt = Spec.optimizer(right(Spec.parseTraining('{"optimizer": {"kind": "sgd", "lr": 0.5}}')).optimizer)
    expect(opt.update(tensor([2]), opt.init(tensor([1])), tensor([1]))[0].item()).toBe(0)
    expect(Optim.sgd).toBeDefined()
  })
})

// ================================================================ never throws

describe('decoders never throw', () => {
  const decoders: ReadonlyArray<readonly [string, (u: unknown) => unknown]> = [
    ['Spec.decode', Spec.decode],
    ['Spec.build', (u) => Spec.build(u as Spec.ModelSpec)],
    ['Spec.decodeTraining', Spec.decodeTraining],
    ['Spec.toSpec', (u) => Spec.toSpec(Object.assign(Layers.relu(), { spec: u }))],
    ['Data.fromJson', (u) => Data.fromJson(u)],
    ['Codec.decodeWith(LayerCodec)', (u) => Codec.decodeWith(Spec.LayerCodec, u, 'layer')]
  ]
  for (const [name, decode] of decoders) {
    test.prop([fc.jsonValue()], { numRuns: 300 })(`${name}: random JSON values give Left or Right`, (u) => isEither(decode(u)))
    test.prop([fc.anything({ withBigInt: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true, withObjectString: true })], { numRuns: 200 })(
      `${name}: random JavaScript values give Left or Right`,
      (u) => isEither(decode(u))
    )
  }

  const texts: ReadonlyArray<readonly [string, (s: string) => unknown]> = [
    ['Spec.parse', Spec.parse],
    ['Spec.load', Spec.load],
    ['Spec.parseTraining', Spec.parseTraining],
    ['Data.parseJson', (s) => Data.parseJson(s)],
    ['Data.fromCsv', (s) => Data.fromCsv(s)],
    ['Data.parseCsv', (s) => Data.parseCsv(s)]
  ]
  const csvish = fc.array(fc.constantFrom('a', 'label', 'label_0', 'label_1', '1', '0', '-2.5', '1e3', 'x', ',', '"', '""', '\n', '\r\n', '\r', ' ', ''), { maxLength: 40 }).map((parts) => parts.join(''))
  for (const [name, parse] of texts) {
    test.prop([fc.oneof(fc.string(), fc.json(), csvish)], { numRuns: 300 })(`${name}: random text gives Left or Right`, (s) => isEither(parse(s)))
  }

  /** A valid spec with one field replaced by a random JSON value (deep in a layer, or at the top). */
  const mutated = fc.tuple(fc.jsonValue(), fc.nat(), fc.constantFrom('units', 'kind', 'kernel', 'shape', 'rate', 'input', 'layers', 'filters', 'alpha')).map(([value, at, key]) => {
    const spec = JSON.parse(JSON.stringify(everyKindThatFits)) as { input: unknown; layers: Array<Record<string, unknown>> }
    if (key === 'input' || key === 'layers') (spec as Record<string, unknown>)[key] = value
    else spec.layers[at % spec.layers.length]![key] = value
    return spec
  })
  test.prop([mutated], { numRuns: 300 })('Spec.build: a valid spec with one field replaced at random gives Left or Right', (spec) => isEither(Spec.build(spec as unknown as Spec.ModelSpec)))
})

// ================================================================ prototype pollution

describe('prototype pollution is rejected and Object.prototype stays clean', () => {
  const before = prototypeKeys()
  const attempts: ReadonlyArray<readonly [string, string, (u: unknown) => Either<LaminaError, unknown>, string]> = [
    ['spec root', '{"__proto__": {"polluted": true}, "input": [2], "layers": [{"kind": "relu"}]}', (u) => Spec.build(u as Spec.ModelSpec), '__proto__'],
    ['spec layer', '{"input": [2], "layers": [{"kind": "dense", "units": 2, "__proto__": {"polluted": true}}]}', Spec.decode, 'layers[0].__proto__'],
    ['spec constructor.prototype', '{"input": [2], "layers": [{"kind": "relu", "constructor": {"prototype": {"polluted": true}}}]}', Spec.decode, 'layers[0].constructor'],
    ['spec prototype key', '{"input": [2], "layers": [{"kind": "relu"}], "prototype": {"polluted": true}}', Spec.decode, 'prototype'],
    ['config optimizer', '{"optimizer": {"kind": "adam", "__proto__": {"polluted": true}}}', Spec.decodeTraining, 'optimizer.__proto__'],
    ['dataset', '{"x": [[1]], "labels": [0], "__proto__": {"polluted": true}}', (u) => Data.fromJson(u), '__proto__'],
    ['dataset row', '{"x": [{"__proto__": {"polluted": true}}], "labels": [0]}', (u) => Data.fromJson(u), 'x[0].__proto__']
  ]
  for (const [what, json, decode, path] of attempts) {
    it(`${what}: ${json}`, () => {
      const value: unknown = JSON.parse(json)
      const e = left(decode(value)) as Codec.DecodeError
      expect(e).toBeInstanceOf(Codec.DecodeError)
      expect(e.failures[0]!.path).toBe(path)
      expect(e.failures[0]!.expected).toMatch(/^no key named "(__proto__|constructor|prototype)"$/)
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
      expect(prototypeKeys()).toBe(before)
    })
  }

  it('kinds and keys named after Object.prototype members are simply unknown', () => {
    for (const kind of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__']) {
      const e = left(Spec.decode({ input: [2], layers: [{ kind }] }))
      expect(e.failures[0]!.path).toBe('layers[0].kind')
    }
    expect(message(Spec.decode({ input: [2], layers: [{ kind: 'relu', toString: 1 }] }))).toBe(
      'model spec: layers[0].toString: expected no such key (relu layer keys: kind), got 1'
    )
    expect(prototypeKeys()).toBe(before)
  })

  test.prop([fc.jsonValue(), fc.constantFrom('__proto__', 'constructor', 'prototype'), fc.nat()])(
    'a forbidden key anywhere in a value is found',
    (value, key, depth) => {
      let nested: unknown = JSON.parse(`{${JSON.stringify(key)}: ${JSON.stringify(value) ?? 'null'}}`)
      for (let i = 0; i < depth % 4; i++) nested = i % 2 === 0 ? [nested] : { a: nested }
      return Codec.forbiddenKeyFailures(nested).length > 0 && Spec.decode(nested)._tag === 'Left' && prototypeKeys() === before
    }
  )
})

// ================================================================ datasets

describe('Data.fromJson', () => {
  it('reads integer labels, one-hot rows, nested examples, shapes and dtypes', () => {
    const a = right(Data.fromJson({ x: [[1, 2], [3, 4], [5, 6]], labels: [2, 0, 1] }))
    expect(a.x.shape).toEqual([3, 2])
    expect(a.x.toArray()).toEqual([[1, 2], [3, 4], [5, 6]])
    expect([...a.labels]).toEqual([2, 0, 1])
    expect(a.classes).toBe(3)
    const b = right(Data.fromJson({ x: [[1], [2]], y: [[0, 0, 1], [1, 0, 0]] }))
    expect([...b.labels]).toEqual([2, 0])
    expect(b.classes).toBe(3)
    const c = right(Data.fromJson({ x: [[[1, 2], [3, 4]]], labels: [0], classes: 10 }, { dtype: 'f32' }))
    expect(c.x.shape).toEqual([1, 2, 2])
    expect(c.x.dtype).toBe('f32')
    expect(c.classes).toBe(10)
    const d = right(Data.fromJson({ x: [[1, 2, 3, 4], [5, 6, 7, 8]], labels: [0, 1] }, { shape: [1, 2, 2] }))
    expect(d.x.shape).toEqual([2, 1, 2, 2])
  })

  const bad: ReadonlyArray<readonly [string, unknown, Data.Options | undefined, string]> = [
    ['empty x', { x: [], labels: [] }, undefined, 'x: expected at least one example, got []'],
    ['x not an array', { x: 'abc', labels: [] }, undefined, 'x: expected an array of examples (arrays of numbers), got "abc"'],
    ['scalar examples', { x: [1, 2], labels: [0, 1] }, undefined, 'x[0]: expected an example: an array of numbers, got 1'],
    ['a ragged row', { x: [[1, 2], [3], [4, 5]], labels: [0, 1, 2] }, undefined, 'x[1]: expected an array of 2 numbers (like x[0]), got 1 item'],
    ['a ragged inner row', { x: [[[1, 2]], [[1, 2], [3, 4]]], labels: [0, 1] }, undefined, 'x[1]: expected an array of 1 arrays (like x[0]), got 2 items'],
    ['a non-numeric cell', { x: [[1, 2], [3, 'four']], labels: [0, 1] }, undefined, 'x[1][1]: expected a finite number, got "four"'],
    ['a null cell', { x: [[1, null]], labels: [0] }, undefined, 'x[0][1]: expected a finite number, got null'],
    ['a NaN cell (JavaScript)', { x: [[NaN]], labels: [0] }, undefined, 'x[0][0]: expected a finite number, got NaN'],
    ['a label out of range', { x: [[1], [2]], labels: [0, 3] }, { classes: 3 }, 'labels[1]: expected an integer label in [0, 3), got 3'],
    ['a negative label', { x: [[1]], labels: [-1] }, undefined, 'labels[0]: expected a non-negative integer label, got -1'],
    ['a fractional label', { x: [[1]], labels: [0.5] }, undefined, 'labels[0]: expected a non-negative integer label, got 0.5'],
    ['a label beyond int32', { x: [[1]], labels: [2 ** 31] }, undefined, `labels[0]: expected a non-negative integer label, got ${2 ** 31}`],
    ['too few labels', { x: [[1], [2]], labels: [0] }, undefined, 'labels: expected 2 labels (one per example of x), got 1 label'],
    ['labels and y', { x: [[1]], labels: [0], y: [[1]] }, undefined, 'expected either "labels" or "y" (one-hot rows), got both'],
    ['no labels', { x: [[1]] }, undefined, 'expected a "labels" array or a one-hot "y", got neither'],
    ['a row that is not one-hot', { x: [[1], [2]], y: [[1, 0], [1, 1]] }, undefined, 'y[1]: expected a one-hot row of 2 values (one 1, the rest 0), got [1,1]'],
    ['a one-hot row of the wrong width', { x: [[1], [2]], y: [[1, 0], [0, 0, 1]] }, undefined, 'y[1]: expected a one-hot row of 2 values (one 1, the rest 0), got [0,0,1]'],
    ['classes that disagree', { x: [[1]], labels: [0], classes: 4 }, { classes: 3 }, 'classes: expected 3 (the classes option), got 4'],
    ['an unknown key', { x: [[1]], labels: [0], label: [0] }, undefined, 'label: expected no such key (dataset keys: x, labels, y, classes), got [0]'],
    ['a shape of the wrong size', { x: [[1, 2, 3]], labels: [0] }, { shape: [2, 2] }, 'the model expects 4 features per example (input shape [2,2]), the data rows have 3'],
    ['not an object', [[1, 2]], undefined, 'expected an object { x, labels } or { x, y }, got [[1,2]]']
  ]
  for (const [what, value, options, expected] of bad) {
    it(`rejects ${what}: "${expected}"`, () => {
      expect(message(Data.fromJson(value, options))).toBe(`JSON dataset: ${expected}`)
    })
  }

  it('lists every bad cell (up to maxFailures) and names the data as asked', () => {
    const x = Array.from({ length: 30 }, () => ['a'])
    const e = left(Data.fromJson({ x, labels: x.map(() => 0) }, { maxFailures: 5, name: 'train.json' })) as Codec.DecodeError
    expect(e.failures.map((f) => f.path)).toEqual(['x[0][0]', 'x[1][0]', 'x[2][0]', 'x[3][0]', 'x[4][0]'])
    expect(e.message.startsWith('train.json: ')).toBe(true)
    expect(left(Data.fromJson({ x: [[1]], labels: [0] }, { classes: 0 }))).toBeInstanceOf(ArgumentError)
    expect(left(Data.parseJson('{"x": [[1]], "labels": [0]')).message).toMatch(/^JSON dataset: expected valid JSON, got /)
  })

  test.prop([fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 5 }), fc.boolean()], { numRuns: 60 })(
    'generated files read back exactly (labels or one-hot)',
    (rows, cols, classes, oneHot) => {
      const x = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => Math.sin(i * 7 + j) * 10 ** ((i + j) % 5)))
      const labels = Array.from({ length: rows }, (_, i) => (i * 5) % classes)
      const file = oneHot ? { x, y: labels.map((l) => Array.from({ length: classes }, (_, k) => (k === l ? 1 : 0))) } : { x, labels, classes }
      const data = right(Data.parseJson(JSON.stringify(file)))
      return JSON.stringify(data.x.toArray()) === JSON.stringify(x) && JSON.stringify([...data.labels]) === JSON.stringify(labels) && (oneHot || data.classes === classes)
    }
  )
})

describe('Data.parseCsv and Data.fromCsv', () => {
  it('handles quoted fields, doubled quotes, line breaks in quotes, CRLF, CR, blank lines and a BOM', () => {
    const text = '\uFEFFname,"note, quoted",label\r\n\r\n1,"say ""hi""",0\r\n2,"two\r\nlines",1\r3,plain,2\n\n   \n'
    expect(right(Data.parseCsv(text))).toEqual([
      { line: 1, cells: ['name', 'note, quoted', 'label'] },
      { line: 3, cells: ['1', 'say "hi"', '0'] },
      { line: 4, cells: ['2', 'two\r\nlines', '1'] },
      { line: 6, cells: ['3', 'plain', '2'] }
    ])
    expect(right(Data.parseCsv('a;b\n1;2', ';'))).toEqual([
      { line: 1, cells: ['a', 'b'] },
      { line: 2, cells: ['1', '2'] }
    ])
    expect(right(Data.parseCsv('a,\n,'))).toEqual([
      { line: 1, cells: ['a', ''] },
      { line: 2, cells: ['', ''] }
    ])
  })

  test.prop(
    [
      fc.array(fc.array(fc.string({ unit: fc.constantFrom('a', 'b', ' ', ',', '"', '\n', '\r', ';', 'é') }), { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 6 }),
      fc.constantFrom('\n', '\r\n', '\r'),
      fc.boolean(),
      fc.boolean()
    ],
    { numRuns: 300 }
  )('any grid of cells written as RFC 4180 reads back exactly', (grid, eol, quoteAll, trailing) => {
    // a cell needs quotes when it holds a delimiter, a quote or a line break; a row that is
    // one blank cell is quoted too, or it would read as a blank line
    const write = (cell: string, row: readonly string[]) =>
      quoteAll || /[",\r\n]/.test(cell) || (row.length === 1 && cell.trim() === '') ? `"${cell.replace(/"/g, '""')}"` : cell
    const text = grid.map((row) => row.map((c) => write(c, row)).join(',')).join(eol) + (trailing ? eol : '')
    const records = right(Data.parseCsv(text))
    return JSON.stringify(records.map((r) => r.cells)) === JSON.stringify(grid)
  })

  it('reads features, an integer label column anywhere, or one-hot label columns', () => {
    const a = right(Data.fromCsv('x1,label,x2\n0.5,1,-2\n1e-3,0,+4\n'))
    expect(a.x.toArray()).toEqual([[0.5, -2], [0.001, 4]])
    expect([...a.labels]).toEqual([1, 0])
    expect(a.classes).toBe(2)
    const b = right(Data.fromCsv('label_1,f,label_0,label_2\r\n1,7,0,0\r\n0,8,0,1\r\n', { dtype: 'f32' }))
    expect([...b.labels]).toEqual([1, 2])
    expect(b.classes).toBe(3)
    expect(b.x.dtype).toBe('f32')
    const c = right(Data.fromCsv('p0,p1,p2,p3,y\n1,2,3,4,5\n', { labelColumn: 'y', shape: [1, 2, 2], classes: 6 }))
    expect(c.x.shape).toEqual([1, 1, 2, 2])
    expect(c.classes).toBe(6)
  })

  const bad: ReadonlyArray<readonly [string, string, Data.CsvOptions | undefined, string]> = [
    ['an empty file', '', undefined, 'line 1: expected a header row, got an empty file'],
    ['blank lines only', '\n\r\n  \n', undefined, 'line 1: expected a header row, got an empty file'],
    ['a header only', 'a,label\n', undefined, 'line 2: expected at least one data row after the header, got none'],
    ['no label column', 'a,b\n1,2\n', undefined, 'line 1: expected a "label" column or one-hot columns label_0 …, got the columns "a", "b"'],
    ['only labels', 'label\n1\n', undefined, 'line 1: expected at least one feature column besides the labels, got none'],
    ['both kinds of label', 'a,label,label_0\n1,0,1\n', undefined, 'line 1: expected either a "label" column or one-hot columns label_0 …, got both ("label", label_0)'],
    ['a gap in one-hot columns', 'a,label_0,label_2\n1,1,0\n', undefined, 'line 1: expected one-hot columns label_0 … label_1 without gaps, got label_0, label_2'],
    ['a duplicate column', 'a,b,a,label\n1,2,3,0\n', undefined, 'line 1, column 3: expected a unique column name, got "a" again (as column 1)'],
    ['an unnamed column', 'a,,label\n1,2,0\n', undefined, 'line 1, column 2: expected a column name, got ""'],
    ['a short row', 'a,b,label\n1,2,0\n3,4\n', undefined, 'line 3: expected 3 cells (one per column of the header), got 2 cells'],
    ['a long row', 'a,label\n1,0,9\n', undefined, 'line 2: expected 2 cells (one per column of the header), got 3 cells'],
    ['a non-numeric cell', 'a,b,label\n1,2,0\n3,four,1\n', undefined, 'line 3, column "b": expected a finite number, got "four"'],
    ['an empty cell', 'a,b,label\n1,,0\n', undefined, 'line 2, column "b": expected a finite number, got ""'],
    ['NaN', 'a,label\nNaN,0\n', undefined, 'line 2, column "a": expected a finite number, got "NaN"'],
    ['Infinity', 'a,label\nInfinity,0\n', undefined, 'line 2, column "a": expected a finite number, got "Infinity"'],
    ['an overflow', 'a,label\n1e400,0\n', undefined, 'line 2, column "a": expected a finite number, got "1e400"'],
    ['hex', 'a,label\n0x1F,0\n', undefined, 'line 2, column "a": expected a finite number, got "0x1F"'],
    ['a label out of range', 'a,label\n1,0\n2,5\n', { classes: 5 }, 'line 3, column "label": expected an integer label in [0, 5), got "5"'],
    ['a negative label', 'a,label\n1,-1\n', undefined, 'line 2, column "label": expected a non-negative integer label, got "-1"'],
    ['a fractional label', 'a,label\n1,0.5\n', undefined, 'line 2, column "label": expected a non-negative integer label, got "0.5"'],
    ['a bad one-hot row', 'a,label_0,label_1\n1,1,0\n2,1,1\n', undefined, 'line 3, columns "label_0" … "label_1": expected one-hot values (one 1, the rest 0), got 1,1'],
    ['one-hot columns and classes that disagree', 'a,label_0,label_1\n1,1,0\n', { classes: 3 }, 'line 1: expected 3 one-hot label columns (the classes option), got 2'],
    ['a quote never closed', 'a,label\n1,0\n"2,1\n3,0\n', undefined, 'line 3, column 1: expected a closing quote, got the end of the file'],
    ['a quote inside a field', 'a,label\n1,0\n2x"y,1\n', undefined, 'line 3, column 1: expected a quote only around a whole field, got "2x\\"y,1"'],
    ['text after a closing quote', 'a,label\n"1"2,0\n', undefined, 'line 2, column 1: expected a delimiter or a line break after a closing quote, got "2,0\\n"']
  ]
  for (const [what, text, options, expected] of bad) {
    it(`rejects ${what}: "${expected}"`, () => {
      expect(message(Data.fromCsv(text, options))).toBe(`CSV dataset: ${expected}`)
    })
  }

  it('counts lines across blank lines and quoted line breaks when it reports a position', () => {
    const text = 'a,b,label\n\n1,"multi\nline",0\r\n\r\n2,x,1\n'
    expect(message(Data.fromCsv(text))).toBe('CSV dataset: 2 problems\n  line 3, column "b": expected a finite number, got "multi\\nline"\n  line 6, column "b": expected a finite number, got "x"')
  })

  /** A generated CSV file: random feature names (quoted when needed), values, labels, line ends, blank lines, quoting, spaces. */
  const csvFile = fc
    .record({
      names: fc.uniqueArray(
        fc.string({ minLength: 1, maxLength: 6 }).filter((s) => s.trim() === s && !/^label(_\d+)?$/.test(s) && !s.startsWith('\uFEFF')),
        { minLength: 1, maxLength: 5 }
      ),
      rows: fc.integer({ min: 1, max: 15 }),
      classes: fc.integer({ min: 1, max: 4 }),
      oneHot: fc.boolean(),
      seed: fc.nat(),
      eol: fc.constantFrom('\n', '\r\n'),
      quoteAll: fc.boolean(),
      blank: fc.boolean(),
      trailing: fc.boolean()
    })
    .map((f) => {
      const quote = (s: string) => (f.quoteAll || /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s)
      const values = Array.from({ length: f.rows }, (_, i) => f.names.map((_, j) => Number((Math.sin(f.seed + i * 13 + j) * 10 ** ((i + j) % 7 - 3)).toPrecision(8))))
      const labels = Array.from({ length: f.rows }, (_, i) => (f.seed + i) % f.classes)
      const labelNames = f.oneHot ? Array.from({ length: f.classes }, (_, k) => `label_${k}`) : ['label']
      const header = [...labelNames, ...f.names].map(quote).join(',')
      const lines = values.map((row, i) => {
        const label = f.oneHot ? labelNames.map((_, k) => (k === labels[i] ? '1' : '0')) : [String(labels[i])]
        return [...label, ...row.map((v, j) => (j % 2 === 0 ? ` ${String(v)} ` : String(v)))].map(quote).join(',')
      })
      const body = [header, ...lines].flatMap((l, i) => (f.blank && i % 3 === 1 ? ['', l] : [l])).join(f.eol)
      return { text: body + (f.trailing ? f.eol : ''), values, labels, names: f.names, classes: f.classes, oneHot: f.oneHot }
    })

  test.prop([csvFile], { numRuns: 200 })('generated files read back exactly', ({ text, values, labels, classes, oneHot }) => {
    const data = right(Data.fromCsv(text))
    return (
      JSON.stringify(data.x.toArray()) === JSON.stringify(values) &&
      JSON.stringify([...data.labels]) === JSON.stringify(labels) &&
      (!oneHot || data.classes === classes) &&
      data.x.shape.join() === `${values.length},${values[0]!.length}`
    )
  })

  test.prop([csvFile, fc.nat(), fc.nat(), fc.constantFrom('abc', '', 'NaN', '1,5', '--1', '1e', '.')], { numRuns: 200 })(
    'a corrupted cell is reported at its line and column',
    ({ text, names }, r, c, junk) => {
      // rewrite one feature cell of a regenerated, unquoted, blank-free file
      const rows = text.split(/\r?\n/).filter((l) => l !== '')
      const header = Data.parseCsv(rows[0]!)
      if (header._tag === 'Left') return true
      const cells = header.right[0]!.cells
      const row = 1 + (r % (rows.length - 1))
      const col = cells.length - names.length + (c % names.length)
      const parsed = right(Data.parseCsv(rows.join('\n')))
      const record = parsed[row]!.cells.map((v, j) => (j === col ? junk : v))
      const quote = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s)
      const lines = parsed.map((p, i) => (i === row ? record : p.cells).map(quote).join(','))
      const e = left(Data.fromCsv(lines.join('\n'))) as Codec.DecodeError
      return e.failures.length === 1 && e.failures[0]!.path === `line ${row + 1}, column ${Codec.showValue(cells[col])}` && e.failures[0]!.got === Codec.showValue(junk)
    }
  )
})

// ================================================================ issue 13: one number parser, short values, model inputs

describe('Codec.parseDecimal: the one parser of numbers written as text', () => {
  it('reads decimal and exponent notation, and nothing else', () => {
    expect(['0', '3', ' -1.5\t', '+.5', '2.', '6.02e23', '1E-3', '-0'].map(Codec.parseDecimal)).toEqual([0, 3, -1.5, 0.5, 2, 6.02e23, 0.001, -0])
    for (const bad of ['', ' ', '0x10', '0X1f', '0b1', '0o7', 'Infinity', '-Infinity', 'NaN', '1_000', '1,5', '1e999', '.', '1e', 'e5', '--1', '1.2.3', '١', '1\n', '\u00a01']) {
      expect(Codec.parseDecimal(bad), JSON.stringify(bad)).toBeUndefined()
    }
  })

  it('is linear: a 100,000-digit cell that ends badly is refused at once (the old pattern backtracked for 34 s)', () => {
    const cell = `${'1'.repeat(100_000)}x`
    expect(Codec.parseDecimal(`${'1'.repeat(1_000_000)}x`)).toBeUndefined()
    const e = left(Data.fromCsv(`a,label\n${cell},0\n`)) as Codec.DecodeError
    expect(e.failures[0]!.path).toBe('line 2, column "a"')
  })
})

describe('Codec.showValue: never more than about 100 characters of a value', () => {
  it('cuts strings, arrays and objects, and says how big they were', () => {
    expect(Codec.showValue('a'.repeat(10_000_000))).toBe(`"${'a'.repeat(59)}…" (10000000 characters)`)
    expect(Codec.showValue(Array.from({ length: 1_000_000 }, () => 1))).toBe(`[${'1,'.repeat(29)}1…] (1000000 items)`)
    const wide: Record<string, number> = {}
    for (let i = 0; i < 1000; i++) wide[`key${i}`] = i
    expect(Codec.showValue(wide)).toMatch(/^\{"key0":0,"key1":1,.*…\} \(1000 keys\)$/)
    expect(Codec.showValue([1, 'two', null, { a: [true] }])).toBe('[1,"two",null,{"a":[true]}]')
  })

  it('walks a deep nest without recursion and shows only its start', () => {
    let deep: unknown = 0
    for (let i = 0; i < 200_000; i++) deep = [deep]
    const shown = Codec.showValue(deep)
    expect(shown).toBe(`${'['.repeat(60)}…] (1 item)`)
  })
})

describe('Data.inputsFromJson and Data.inputsFromCsv: the inputs of lamina predict', () => {
  it('reads arrays of examples or { x }, reshaped to the model, refusing a nest deeper than 32 arrays before walking it', () => {
    expect(right(Data.inputsFromJson([[1, 2, 3, 4]], { shape: [2, 2] })).toArray()).toEqual([[[1, 2], [3, 4]]])
    expect(right(Data.inputsFromJson({ x: [0.5, 0.25], labels: [0, 1] }, { shape: [1] })).toArray()).toEqual([[0.5], [0.25]])
    const deep = left(Data.parseInputsJson(`{"x": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`, { shape: [2], name: 'deep.json' }))
    expect(deep.message).toBe('deep.json: expected JSON nested at most 64 deep (arrays and objects), got a 65th level at line 1, column 70')
    const rank40 = left(Data.parseInputsJson(`{"x": ${'['.repeat(41)}${']'.repeat(41)}}`, { shape: [2], name: 'rank40.json' }))
    expect(rank40.message).toBe('rank40.json: x[0]: expected an example of at most 32 axes (nested arrays), got more than 32 nested arrays')
    const polluted = left(Data.parseInputsJson('{"x": [[1, 2]], "__proto__": {"p": 1}}', { shape: [2] }))
    expect(polluted.message).toContain('__proto__: expected no key named "__proto__"')
  })

  it('checks the width against the model first: one ShapeError, model size first, however many rows', () => {
    const rows = Array.from({ length: 100_000 }, () => [1, 2, 3])
    const e = left(Data.inputsFromJson(rows, { shape: [2], name: 'rows.json' }))
    expect(e).toBeInstanceOf(ShapeError)
    expect(e.message).toBe('rows.json: the model expects 2 features per example (input shape [2]), the data rows have 3')
    const c = left(Data.inputsFromCsv('1,2,3\n', { shape: [4, 1], model: 'the model of mlp.json' }))
    expect(c.message).toBe('CSV inputs: the model of mlp.json expects 4 features per example (input shape [4,1]), the data rows have 3')
  })

  it('CSV: a header is decided by the option or by the whole first row, and no row is dropped', () => {
    expect(right(Data.inputsFromCsv('1,2\n3,4\n', { shape: [2] })).shape).toEqual([2, 2])
    expect(right(Data.inputsFromCsv('x1,x2,label_0,label_1\n1,2,0,1\n', { shape: [2] })).toArray()).toEqual([[1, 2]])
    expect(right(Data.inputsFromCsv('1,2\n3,4\n', { shape: [2], header: true })).toArray()).toEqual([[3, 4]])
    const mixed = left(Data.inputsFromCsv('a,1\n3,4\n', { shape: [2] })) as Codec.DecodeError
    expect(mixed.failures).toEqual([{ path: 'line 1, column 1', expected: 'a finite number (line 1 mixes numbers and names; a header row holds names only)', got: '"a"' }])
    const bad = left(Data.inputsFromCsv('a,b\n1,\n2,Infinity\n3\n', { shape: [2] })) as Codec.DecodeError
    expect(bad.failures.map((f) => `${f.path}: ${f.got}`)).toEqual(['line 2, column "b": ""', 'line 3, column "b": "Infinity"', 'line 4: 1 cell'])
    expect(left(Data.inputsFromCsv('a,b\n', { shape: [2] })).message).toBe('CSV inputs: line 2: expected at least one row of numbers after the header, got none')
  })
})

// ================================================================ types

describe('types', () => {
  it('a decoded spec is a ModelSpec, a built model a Layer with params Train.fit takes', () => {
    const r = Spec.decode({})
    if (r._tag === 'Right') expectTypeOf(r.right).toEqualTypeOf<Spec.ModelSpec>()
    const built = right(Spec.build({ input: [2], layers: [{ kind: 'dense', units: 1 }] }))
    expectTypeOf(built.model.init(Random.key(0)).layers).toEqualTypeOf<readonly Tree.Tree[]>()
    const y: Tensor = Layer.apply(built.model, built.model.init(Random.key(0)), zeros([1, 2]))
    expect(y.shape).toEqual([1, 1])
    // @ts-expect-error: a layer spec needs its kind's fields
    const noUnits: Spec.LayerSpec = { kind: 'dense' }
    expect(Codec.decodeWith(Spec.LayerCodec, noUnits, 'layer')._tag).toBe('Left')
  })
})
