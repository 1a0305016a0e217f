/**
 * Building the layers a spec lists: each layer spec made into lamina's layer for the running
 * shape, with its canonical spec and the shapes of its parameters and state (computed, never
 * allocated), and a list of them composed by `Layer.sequential` so a misfit has its words.
 *
 * @module
 */
import { ArgumentError, ShapeError } from '../../error.js'
import * as Sh from '../../shape.js'
import type { Shape } from '../../shape.js'
import * as Combinators from '../../nn/combinators.js'
import * as Conv from '../../nn/conv.js'
import * as Layer from '../../nn/layer.js'
import type { AnyLayer } from '../../nn/layer.js'
import * as Layers from '../../nn/layers.js'
import * as Norm from '../../nn/norm.js'
import { formatFailure } from '../codec.js'
import { MAX_ELEMENTS } from './limits.js'
import type { BatchNormSpec, LayerSpec } from './types.js'

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
export type Slot = readonly [string, Shape, string?]

/** A layer built from its spec: the layer, its canonical spec, and the shapes of its parameters and state (what `init` and `initState` would allocate). */
export interface Made {
  readonly layer: AnyLayer
  readonly spec: LayerSpec
  readonly params?: readonly Slot[]
  readonly state?: readonly Slot[]
}

/** A list of layers built into a `sequential` for the input `input`: the layer, the canonical specs, its output, and its slots (`layers.i.…`). */
export interface Chain {
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
export const makeChain = (specs: readonly LayerSpec[], input: Shape, where: string): Chain => {
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

/** A size over {@link MAX_ELEMENTS}: an `ArgumentError` (what lamina cannot allocate) naming the field, the shape and the limit. */
export const overLimit = (path: string, expected: string, shape: Shape): ArgumentError =>
  new ArgumentError(`model spec: ${formatFailure({ path, expected: `${expected} (Spec.MAX_ELEMENTS)`, got: `${Sh.show(shape)} (${Sh.size(shape)} elements)` })}`)
