/**
 * PyTorch `Linear` state dicts as lamina dense layers' named tensors. Re-exported by `Safetensors`.
 *
 * @module
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Either } from 'fp-ts/lib/Either.js'

import { Tensor, allocate, concreteBuffer, fromOwnedBuffer } from '../../tensor.js'
import type { Decoded } from './decode.js'
import { describeType, fail, quote } from './error.js'
import type { SafetensorsError } from './error.js'
import { checkName, nullRecord } from './names.js'
import { isDecoded } from './tree.js'

/** Options of {@link fromTorchLinear}. */
export interface TorchLinearOptions {
  /** Put before every lamina name (default `'layers.'`, for a `sequential`; `''` for a bare `dense`). */
  readonly prefix?: string
}

/**
 * Maps a PyTorch state dict of `Linear` layers (`N.weight: [out, in]`, `N.bias: [out]`, for
 * y = x·Wᵀ + b) to lamina dense names (`layers.N.w: [in, out]`, transposed, and
 * `layers.N.b: [out]`, for y = x·w + b), ready for {@link toTree}. A PyTorch
 * `Sequential(Linear(4, 8), Tanh(), Linear(8, 3))` and lamina's
 * `sequential(dense(4, 8), tanh(), dense(8, 3))` number their layers the same way. A `Left`
 * names any tensor that is not a rank-2 weight with a matching rank-1 bias.
 *
 * @example
 * ```ts
 * import { Safetensors, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * // Linear(2, 3): weight [3, 2], bias [3]
 * const state = { '0.weight': tensor([[1, 2], [3, 4], [5, 6]], { dtype: 'f32' }), '0.bias': tensor([0, 0, 1], { dtype: 'f32' }) }
 * const named = Safetensors.fromTorchLinear(state)
 * assert.ok(named._tag === 'Right')
 * assert.deepStrictEqual(named.right['layers.0.w']!.toArray(), [[1, 3, 5], [2, 4, 6]])
 * assert.deepStrictEqual(named.right['layers.0.b']!.toArray(), [0, 0, 1])
 * ```
 */
export const fromTorchLinear = (
  stateDict: Decoded | Readonly<Record<string, Tensor>>,
  options?: TorchLinearOptions
): Either<SafetensorsError, Readonly<Record<string, Tensor>>> => {
  if (typeof stateDict !== 'object' || stateDict === null) return E.left(fail('input', `fromTorchLinear: expected a state dict, got ${describeType(stateDict)}`))
  const named: Readonly<Record<string, unknown>> = isDecoded(stateDict) ? stateDict.tensors : stateDict
  const prefix = options?.prefix ?? 'layers.'
  const layers = new Map<string, { weight?: Tensor; bias?: Tensor }>()
  for (const name of Object.keys(named)) {
    const match = /^(?:(.*)\.)?(weight|bias)$/su.exec(name)
    const t = named[name]
    if (match === null) return E.left(fail('torch', `fromTorchLinear: ${quote(name)} is not the weight or bias of a Linear layer`))
    if (!(t instanceof Tensor)) return E.left(fail('torch', `fromTorchLinear: ${quote(name)} is not a tensor`))
    const stem = match[1] ?? ''
    const slot = layers.get(stem) ?? {}
    layers.set(stem, match[2] === 'weight' ? { ...slot, weight: t } : { ...slot, bias: t })
  }
  const out: Array<readonly [string, Tensor]> = []
  for (const [stem, { weight, bias }] of layers) {
    const torchName = (field: string) => quote(stem === '' ? field : `${stem}.${field}`)
    const laminaName = (field: string) => `${prefix}${stem === '' ? '' : `${stem}.`}${field}`
    if (weight === undefined) return E.left(fail('torch', `fromTorchLinear: ${torchName('bias')} has no matching ${torchName('weight')}`))
    if (bias === undefined) return E.left(fail('torch', `fromTorchLinear: ${torchName('weight')} has no matching ${torchName('bias')} (lamina's dense always has a bias)`))
    if (weight.rank !== 2) return E.left(fail('torch', `fromTorchLinear: ${torchName('weight')} has shape [${weight.shape.join(',')}], expected [out, in]`))
    const [rows, cols] = weight.shape as readonly [number, number]
    if (bias.rank !== 1 || bias.shape[0] !== rows) {
      return E.left(fail('torch', `fromTorchLinear: ${torchName('bias')} has shape [${bias.shape.join(',')}], expected [${rows}] to match ${torchName('weight')} [${rows},${cols}]`))
    }
    if (bias.dtype !== weight.dtype) return E.left(fail('torch', `fromTorchLinear: ${torchName('bias')} is ${bias.dtype} but ${torchName('weight')} is ${weight.dtype}`))
    const src = concreteBuffer(weight)
    const w = allocate(weight.dtype, rows * cols)
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) w[c * rows + r] = src[r * cols + c]!
    const lw = laminaName('w')
    const bad = checkName(lw, 'name')
    if (bad) return E.left(bad)
    out.push([lw, fromOwnedBuffer([cols, rows], weight.dtype, w)], [laminaName('b'), bias])
  }
  return E.right(nullRecord(out))
}
