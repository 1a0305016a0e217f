/**
 * `fromLayer`: the spec of a model made of lamina's built-in layers, however it was composed
 * (built from a spec, or written in TypeScript). Re-exported by `Spec`.
 *
 * @module
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Either } from 'fp-ts/lib/Either.js'
import { ArgumentError, LaminaError, ShapeError } from '../../error.js'
import * as Sh from '../../shape.js'
import type { Shape } from '../../shape.js'
import * as Layer from '../../nn/layer.js'
import type { AnyLayer } from '../../nn/layer.js'
import { isBlock, isSequential } from './blocks.js'
import { build } from './build.js'
import { decode } from './codec.js'
import { activationKinds } from './types.js'
import type { ActivationKind, LayerSpec, ModelSpec } from './types.js'

/** Options of {@link fromLayer}. */
export interface FromLayerOptions {
  /**
   * The per-example input shape. Needed when the first layer does not fix it (a convolution
   * takes `[C, ?, ?]`, an activation any shape); checked against the first layer otherwise.
   */
  readonly input?: Shape
}

/** The layers a model runs, in order: nested `sequential`s opened, any other layer as itself. */
const leavesOf = (layer: AnyLayer): AnyLayer[] => (isSequential(layer) ? layer.layers!.flatMap(leavesOf) : [layer])

const specKinds = (): string =>
  ['dense', 'conv2d', 'maxPool2d', 'avgPool2d', 'globalAvgPool', 'residual', 'parallel', 'dropout', 'flatten', 'reshape', 'batchNorm', 'leakyRelu', 'elu', 'gelu', 'prelu', 'maxout', ...activationKinds].join(', ')

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
