/**
 * The safetensors format, so that weights move between lamina, PyTorch and JAX: an 8-byte
 * little-endian header length `N`, `N` bytes of UTF-8 JSON
 * (`{ "__metadata__"?: { key: string }, name: { dtype, shape, data_offsets: [begin, end] } }`),
 * then the raw little-endian data, each tensor at its offsets relative to the data section.
 *
 * Everything here works on bytes (`Uint8Array`, `ArrayBuffer`), in Node and in a browser; file
 * I/O belongs to the checkpoint module.
 *
 * Reading ({@link decode}) validates every field before it touches the data and fails with a
 * {@link SafetensorsError} naming the tensor and the value: it never reads out of bounds,
 * never throws anything else, never executes code and never pollutes a prototype (the
 * results are null-prototype objects, and the names `__proto__`, `constructor`, `prototype`
 * are rejected). It accepts exactly what the reference implementation (safetensors 0.8)
 * accepts, except where noted on {@link decode}. Writing ({@link encode}) produces what the
 * reference writer produces.
 *
 * @example
 * ```ts
 * import { Safetensors, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const bytes = Safetensors.encode({ w: tensor([[1, 2], [3, 4]], { dtype: 'f32' }) }, { format: 'lamina' })
 * const { tensors, metadata } = Safetensors.read(bytes)
 * assert.deepStrictEqual(tensors.w!.toArray(), [[1, 2], [3, 4]])
 * assert.strictEqual(metadata.format, 'lamina')
 * ```
 *
 * @module
 */
// One concept per file under ./safetensors/; this module is their public face.
export type { SafetensorsErrorReason } from './safetensors/error.js'
export { SafetensorsError } from './safetensors/error.js'
export type { FileDType } from './safetensors/dtypes.js'
export { bfloat16ToNumber, dtypeOf, halfToNumber } from './safetensors/dtypes.js'
export type { Header, TensorInfo } from './safetensors/header.js'
export { MAX_HEADER_BYTES, MAX_HEADER_ITEMS, decodeHeader } from './safetensors/header.js'
export type { Decoded } from './safetensors/decode.js'
export { decode, read } from './safetensors/decode.js'
export { encode } from './safetensors/encode.js'
export type { ToTreeOptions } from './safetensors/tree.js'
export { fromTree, toTree } from './safetensors/tree.js'
export type { TorchLinearOptions } from './safetensors/torch.js'
export { fromTorchLinear } from './safetensors/torch.js'
