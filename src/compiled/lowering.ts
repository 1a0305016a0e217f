/**
 * Convolution and pooling for the compiled interpreter, written with the table's other
 * primitives: the windows of the padded image (im2col) as slices of a block reshape, then one
 * batched product (convolution), a `max` (max pooling) or a `mean` (average pooling). The
 * staging trace stages these instead of the primitive, so the compiled step differentiates
 * them with the rules of `slice`, `pad`, `concat`, `batchMatmul` and `max`, and the kernels it
 * lowers to are the ones every other model uses. The eager interpreter runs the primitives on
 * the backend's own kernels; both compute the same function.
 *
 * @module
 */
import type { ConvGeometry, Pair, PoolGeometry } from '../backend/conv.js'
import { conv2dShape, pool2dShape } from '../backend/conv.js'
import * as O from '../ops.js'
import { bind } from '../prim.js'
import type { Prim, PrimParams } from '../prim.js'
import type { Shape } from '../shape.js'
import type { Tensor } from '../tensor.js'
import { CompileError } from './error.js'

/**
 * The `kh × kw` windows of `x: [B, C, H, W]` padded by `padding` (top, bottom, left, right) with
 * `fill`, at `stride` and `dilation`, as `[B, C, kh·kw, ho·wo]`. A strided view is no slice, so
 * the padded image is cut or zero-extended to whole blocks of `stride` rows (and columns) and
 * reshaped to `[B, C, hb, sh, wb, sw]`: row `oh·sh + i·dh` is block `oh + ⌊i·dh/sh⌋`, phase
 * `i·dh mod sh`, so each window offset is one contiguous slice.
 */
const windows = (x: Tensor, kernel: Pair, stride: Pair, dilation: Pair, padding: readonly number[], out: Pair, fill: number): Tensor => {
  const [b, c, h, w] = x.shape as readonly [number, number, number, number]
  const [kh, kw] = kernel
  const [sh, sw] = stride
  const [dh, dw] = dilation
  const [top, bottom, left, right] = padding as readonly [number, number, number, number]
  const [ho, wo] = out
  const hp = h + top + bottom
  const wp = w + left + right
  const padded = top + bottom + left + right === 0 ? x : bind('pad', [x], { starts: [0, 0, top, left], shape: [b, c, hp, wp], value: fill })
  const hb = ho + Math.floor(((kh - 1) * dh) / sh)
  const wb = wo + Math.floor(((kw - 1) * dw) / sw)
  const [hq, wq] = [hb * sh, wb * sw]
  // rows and columns past the padded image are never read by a window: cut them, or add zeros
  const [hk, wk] = [Math.min(hq, hp), Math.min(wq, wp)]
  const cut = hk === hp && wk === wp ? padded : O.slice(padded, [0, 0, 0, 0], [b, c, hk, wk])
  const framed = hk === hq && wk === wq ? cut : bind('pad', [cut], { starts: [0, 0, 0, 0], shape: [b, c, hq, wq] })
  const blocks = O.reshape(framed, [b, c, hb, sh, wb, sw] as Shape) as Tensor
  const views: Tensor[] = []
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const [oi, oj] = [i * dh, j * dw]
      const view = O.slice(blocks, [0, 0, Math.floor(oi / sh), oi % sh, Math.floor(oj / sw), oj % sw], [b, c, ho, 1, wo, 1])
      views.push(O.reshape(view, [b, c, 1, ho * wo] as Shape) as Tensor)
    }
  }
  return views.length === 1 ? views[0]! : (O.concat(views as never, 2) as Tensor)
}

/** conv2d(x, w[, b]) as im2col and one batched product. */
const conv2d = (args: readonly Tensor[], g: ConvGeometry): Tensor => {
  const [x, w, bias] = args as readonly [Tensor, Tensor, Tensor | undefined]
  const [b, cout, ho, wo] = conv2dShape(x.shape, w.shape, g) as readonly [number, number, number, number]
  const [, cin, kh, kw] = w.shape as readonly [number, number, number, number]
  const depth = cin * kh * kw
  const cols = O.reshape(windows(x, [kh, kw], g.stride, g.dilation, g.padding, [ho, wo], 0), [b, depth, ho * wo] as Shape) as Tensor
  const filters = O.broadcastTo(O.reshape(w, [1, cout, depth] as Shape) as Tensor, [b, cout, depth] as Shape) as Tensor
  const z = O.reshape(O.batchMatmul(filters, cols) as Tensor, [b, cout, ho, wo] as Shape) as Tensor
  return bias === undefined ? z : (O.add(z, O.reshape(bias, [cout, 1, 1] as Shape) as Tensor) as Tensor)
}

/** Max or average pooling as a reduction over the stacked windows. */
const pool = (kind: 'maxPool2d' | 'avgPool2d', x: Tensor, g: PoolGeometry): Tensor => {
  const [b, c, ho, wo] = pool2dShape(x.shape, g, kind) as readonly [number, number, number, number]
  const padded = g.padding.some((p) => p > 0)
  if (kind === 'maxPool2d' && padded) {
    throw new CompileError('unsupported-primitive', 'compile: max pooling with padding (its −∞ border) has no compiled lowering; train it with the eager interpreter (Train.fit)')
  }
  const stacked = windows(x, g.kernel, g.stride, [1, 1], g.padding, [ho, wo], 0)
  // average pooling counts the padding, as PyTorch's count_include_pad=True and the eager kernel do
  const reduced = kind === 'maxPool2d' ? O.max(stacked, 2) : O.mean(stacked, 2)
  return O.reshape(reduced as Tensor, [b, c, ho, wo] as Shape) as Tensor
}

/** The primitives the staging trace replaces by their lowering, and how. */
export const lowerings: { readonly [P in Prim]?: (args: readonly Tensor[], params: PrimParams[P]) => Tensor } = {
  conv2d: (args, g) => conv2d(args, g),
  maxPool2d: ([x], g) => pool('maxPool2d', x!, g),
  avgPool2d: ([x], p) => {
    if (p.weights !== undefined) throw new CompileError('unsupported-primitive', 'compile: a window sum with given weights has no compiled lowering; train it with the eager interpreter (Train.fit)')
    return pool('avgPool2d', x!, p)
  }
}
