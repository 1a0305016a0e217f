/**
 * Model checkpoints: a safetensors file holding the parameters under their tree names
 * (`layers.0.w`, the names PyTorch and JAX users see), the layer state (batch-norm running
 * statistics) under `state.…`, and metadata `{ lamina: "1", spec: <the model spec as JSON>, … }`
 * plus whatever the caller records (strings, as the format requires). Bytes in, bytes out,
 * so it runs in a browser too; `lamina-nn/node`'s `Atomic` writes the bytes safely.
 *
 * @module
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { LaminaError } from '../error.js'
import * as Sh from '../shape.js'
import type { DType, Tensor } from '../tensor.js'
import * as Safetensors from './safetensors.js'
import * as Spec from './spec.js'

/**
 * The metadata key that marks a lamina model file.
 *
 * @example
 * ```ts
 * import { Checkpoint, Safetensors, Spec, Random } from 'lamina-nn'
 * import assert from 'node:assert'
 * const spec = { input: [1], layers: [{ kind: 'dense' as const, units: 1 }] }
 * const built = Spec.build(spec)
 * assert.ok(built._tag === 'Right')
 * const bytes = Checkpoint.encode(spec, built.right.model.init(Random.key(0)), built.right.model.initState())
 * assert.strictEqual(Safetensors.read(bytes).metadata[Checkpoint.FORMAT_KEY], Checkpoint.FORMAT_VERSION)
 * ```
 */
export const FORMAT_KEY = 'lamina'

/**
 * The version of the layout this module writes and reads.
 *
 * @example
 * ```ts
 * import { Checkpoint } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Checkpoint.FORMAT_VERSION, '1')
 * ```
 */
export const FORMAT_VERSION = '1'
const STATE_PREFIX = 'state.'

/**
 * A file that is valid safetensors but not a lamina checkpoint (or not this one's layout).
 *
 * @example
 * ```ts
 * import { Checkpoint, Safetensors, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const plain = Safetensors.encode({ w: tensor([1]) })
 * const result = Checkpoint.decode(plain)
 * assert.ok(result._tag === 'Left' && result.left instanceof Checkpoint.CheckpointError)
 * ```
 */
export class CheckpointError extends LaminaError {
  override name = 'CheckpointError'
}

/** A checkpoint read back and validated. */
export interface Checkpoint {
  readonly built: Spec.Built
  readonly params: Spec.ModelParams
  readonly state: Spec.ModelState
  /**
   * The dtype of the parameters, from the file: `f64` for `F64` (and `I64`), `f32` for `F32`
   * (and `F16`, `BF16`). Run the model in it (inputs of this dtype).
   */
  readonly dtype: DType
  readonly metadata: Readonly<Record<string, string>>
  readonly header: Safetensors.Header
  readonly bytes: number
}

/**
 * Encodes a model: parameters, layer state under `state.`, metadata `{ lamina, spec, …extra }`.
 *
 * @example
 * ```ts
 * import { Checkpoint, Spec, Random } from 'lamina-nn'
 * import assert from 'node:assert'
 * const spec = { input: [4], layers: [{ kind: 'dense' as const, units: 3 }] }
 * const built = Spec.build(spec)
 * assert.ok(built._tag === 'Right')
 * const { model } = built.right
 * const bytes = Checkpoint.encode(spec, model.init(Random.key(0)), model.initState(), { note: 'demo' })
 * assert.strictEqual(bytes.length % 8, 0)
 * ```
 */
export const encode = (spec: Spec.ModelSpec, params: unknown, state: unknown, extra: Readonly<Record<string, string>> = {}): Uint8Array => {
  const tensors: Record<string, Tensor> = { ...Safetensors.fromTree(params) }
  const stateTensors = Safetensors.fromTree(state)
  for (const name of Object.keys(stateTensors)) tensors[`${STATE_PREFIX}${name}`] = stateTensors[name]!
  return Safetensors.encode(tensors, { [FORMAT_KEY]: FORMAT_VERSION, spec: JSON.stringify(spec), ...extra })
}

const within =
  (context: string) =>
  (e: LaminaError): LaminaError =>
    // a safetensors message already says where it comes from; others keep their error's name
    new CheckpointError(`${context}: ${e instanceof Safetensors.SafetensorsError ? '' : `${e.name}: `}${e.message}`)

/** The fewest bytes a value can take in a checkpoint (`F16`, `BF16`). */
const MIN_VALUE_BYTES = 2

/** One tensor the spec needs: its slot, its name in the file, and which part of the model it is in. */
interface Wanted {
  readonly slot: Spec.TensorSlot
  readonly name: string
  readonly part: 'the parameters' | 'the layer state'
}

const whose = (slot: Spec.TensorSlot): string => `layers[${slot.layer}], a ${slot.kind} layer`

/**
 * Decodes and validates a checkpoint completely: the safetensors header and data, the
 * metadata (`lamina` and a `spec` that builds with the same shape rules as TypeScript code),
 * and that the tensors are exactly the parameters and state of the model the spec builds,
 * with their shapes. Never throws: every problem is a `Left` naming it.
 *
 * Hostile files cost little: the spec is checked (sizes bounded by `Spec.MAX_ELEMENTS`) and
 * its parameter and state shapes are computed from the spec alone, then compared with the
 * header, before any tensor is read or allocated, so a tiny file whose spec asks for a
 * billion units is refused at once, naming the layer; the model's `init` is never called.
 * Loading allocates about the size of the file's data once more.
 *
 * The dtype comes from the file: the parameters must all have one dtype (`F64` or `F32`, or
 * `F16`/`BF16`/`I64`, read as `f32`/`f64`), which is the checkpoint's {@link Checkpoint.dtype};
 * the layer state (running statistics, used in any dtype) may be `f32` or `f64` either way.
 *
 * @example
 * ```ts
 * import { Checkpoint, Spec, Random, Safetensors } from 'lamina-nn'
 * import assert from 'node:assert'
 * const spec = { input: [2], layers: [{ kind: 'dense' as const, units: 2 }, { kind: 'relu' as const }] }
 * const built = Spec.build(spec)
 * assert.ok(built._tag === 'Right')
 * const params = built.right.model.init(Random.key(1))
 * const back = Checkpoint.decode(Checkpoint.encode(spec, params, built.right.model.initState()))
 * assert.ok(back._tag === 'Right')
 * assert.deepStrictEqual(back.right.built.outputShape, [2])
 * // float32 parameters load as a float32 model
 * const f32 = Checkpoint.decode(Checkpoint.encode(spec, built.right.model.init(Random.key(1), 'f32'), {}))
 * assert.ok(f32._tag === 'Right' && f32.right.dtype === 'f32')
 * // a spec that asks for more than the file holds is refused before anything is allocated
 * // (batch norm over 10^9 features: γ, β and two running statistics, 4·10^9 values, in a file of 112 bytes)
 * const greedy = Safetensors.encode({}, { lamina: '1', spec: JSON.stringify({ input: [1e9], layers: [{ kind: 'batchNorm' }] }) })
 * const refused = Checkpoint.decode(greedy)
 * assert.ok(refused._tag === 'Left')
 * assert.match(refused.left.message, /^the metadata spec: its 4000000000 parameter and state values need at least 8000000000 bytes/)
 * ```
 */
export const decode = (bytes: Uint8Array): E.Either<LaminaError, Checkpoint> => {
  try {
    return decodeUnsafe(bytes)
  } catch (e) {
    // defensive: every failure below is a Left; anything else still reaches the caller typed
    return E.left(e instanceof LaminaError ? e : new CheckpointError(`unexpected failure while decoding: ${e instanceof Error ? e.message : String(e)}`))
  }
}

const decodeUnsafe = (bytes: Uint8Array): E.Either<LaminaError, Checkpoint> => {
  const header = Safetensors.decodeHeader(bytes)
  if (E.isLeft(header)) return header
  const { metadata, tensors: infos, dataLength } = header.right
  if (metadata[FORMAT_KEY] === undefined) {
    return E.left(new CheckpointError(`not a lamina model: the safetensors metadata has no "${FORMAT_KEY}" key (a file written by lamina train has one)`))
  }
  if (metadata[FORMAT_KEY] !== FORMAT_VERSION) {
    return E.left(new CheckpointError(`unsupported lamina model version ${JSON.stringify(metadata[FORMAT_KEY])} (this lamina reads version ${FORMAT_VERSION})`))
  }
  const specText = metadata['spec']
  if (specText === undefined) return E.left(new CheckpointError('not a lamina model: the safetensors metadata has no "spec" key'))
  const loaded = pipe(Spec.load(specText), E.mapLeft(within('the metadata spec')))
  if (E.isLeft(loaded)) return loaded
  const built = loaded.right

  // 1. the spec against the size of the file's data, from the shapes alone
  const wanted: Wanted[] = [
    ...built.parameters.map((slot): Wanted => ({ slot, name: slot.name, part: 'the parameters' })),
    ...built.state.map((slot): Wanted => ({ slot, name: `${STATE_PREFIX}${slot.name}`, part: 'the layer state' }))
  ]
  const values = wanted.reduce((n, w) => n + Sh.size(w.slot.shape), 0)
  if (values * MIN_VALUE_BYTES > dataLength) {
    const largest = wanted.reduce((a, b) => (Sh.size(b.slot.shape) > Sh.size(a.slot.shape) ? b : a))
    return E.left(
      new CheckpointError(
        `the metadata spec: its ${values} parameter and state values need at least ${values * MIN_VALUE_BYTES} bytes (${values * 8} in F64), ` +
          `but the file's data section holds ${dataLength} bytes; the largest is ${JSON.stringify(largest.name)} ${Sh.show(largest.slot.shape)} (${whose(largest.slot)})`
      )
    )
  }

  // 2. names, shapes and dtypes against the header, before any data is read
  const byName = new Map(infos.map((info) => [info.name, info]))
  for (const { slot, name, part } of wanted) {
    const info = byName.get(name)
    if (info === undefined) return E.left(new CheckpointError(`${part}: safetensors: toTree: tensor ${JSON.stringify(name)} is missing from the file (${whose(slot)}, shape ${Sh.show(slot.shape)})`))
    if (!Sh.equals(info.shape, slot.shape)) {
      return E.left(
        new CheckpointError(`${part}: safetensors: toTree: tensor ${JSON.stringify(name)} has shape ${Sh.show(info.shape)} in the file, expected ${Sh.show(slot.shape)} (${whose(slot)})`)
      )
    }
    if (Safetensors.dtypeOf(info.dtype) === undefined) {
      return E.left(new CheckpointError(`${part}: tensor ${JSON.stringify(name)} has dtype ${info.dtype}, which lamina does not read (a model's tensors are F64 or F32; F16, BF16 and I64 are read too)`))
    }
  }
  const wantedNames = new Set(wanted.map((w) => w.name))
  for (const state of [false, true]) {
    const extra = infos.filter((info) => info.name.startsWith(STATE_PREFIX) === state && !wantedNames.has(info.name)).map((info) => info.name)
    if (extra.length > 0) {
      const shown = extra.slice(0, 5).map((n) => JSON.stringify(n)).join(', ') + (extra.length > 5 ? `, … (${extra.length} in all)` : '')
      return E.left(new CheckpointError(`${state ? 'the layer state' : 'the parameters'}: safetensors: toTree: the file has tensors the spec does not name: ${shown}`))
    }
  }
  const paramInfos = built.parameters.map((slot) => byName.get(slot.name)!)
  const mixed = paramInfos.find((info) => info.dtype !== paramInfos[0]!.dtype)
  if (mixed !== undefined) {
    const first = paramInfos[0]!
    return E.left(
      new CheckpointError(
        `the parameters: mixed dtypes: ${JSON.stringify(first.name)} is ${first.dtype} but ${JSON.stringify(mixed.name)} is ${mixed.dtype} (a model's parameters share one dtype, F32 or F64)`
      )
    )
  }

  // 3. the data, and the trees `init` and `initState` would have given, filled from it
  const decoded = Safetensors.decode(bytes)
  if (E.isLeft(decoded)) return decoded
  const tree = (slots: readonly Spec.TensorSlot[], prefix: string): { readonly layers: readonly Readonly<Record<string, Tensor>>[] } => {
    const layers: Record<string, Tensor>[] = built.model.spec.layers.map(() => ({}))
    for (const slot of slots) layers[slot.layer]![slot.field] = decoded.right.tensors[`${prefix}${slot.name}`]!
    return { layers }
  }
  const params = tree(built.parameters, '') as Spec.ModelParams
  const state = tree(built.state, STATE_PREFIX) as Spec.ModelState
  const firstParam = paramInfos[0] ?? built.state.map((slot) => byName.get(`${STATE_PREFIX}${slot.name}`)!)[0]
  const dtype: DType = firstParam === undefined ? 'f64' : Safetensors.dtypeOf(firstParam.dtype)!
  return E.right({ built, params, state, dtype, metadata, header: header.right, bytes: bytes.length })
}
