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
import * as Random from '../random.js'
import type { Tensor } from '../tensor.js'
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

/**
 * Decodes and validates a checkpoint completely: the safetensors header and data, the
 * metadata (`lamina` and a `spec` that builds with the same shape rules as TypeScript code),
 * and that the tensors are exactly the parameters and state of the model the spec builds,
 * with their shapes and dtypes. Never throws: every problem is a `Left` naming it.
 *
 * @example
 * ```ts
 * import { Checkpoint, Spec, Random } from 'lamina-nn'
 * import assert from 'node:assert'
 * const spec = { input: [2], layers: [{ kind: 'dense' as const, units: 2 }, { kind: 'relu' as const }] }
 * const built = Spec.build(spec)
 * assert.ok(built._tag === 'Right')
 * const params = built.right.model.init(Random.key(1))
 * const back = Checkpoint.decode(Checkpoint.encode(spec, params, built.right.model.initState()))
 * assert.ok(back._tag === 'Right')
 * assert.deepStrictEqual(back.right.built.outputShape, [2])
 * ```
 */
export const decode = (bytes: Uint8Array): E.Either<LaminaError, Checkpoint> =>
  pipe(
    E.Do,
    E.bind('header', () => Safetensors.decodeHeader(bytes) as E.Either<LaminaError, Safetensors.Header>),
    E.bind('decoded', () => Safetensors.decode(bytes) as E.Either<LaminaError, Safetensors.Decoded>),
    E.bind('specText', ({ decoded: { metadata } }) => {
      if (metadata[FORMAT_KEY] === undefined) {
        return E.left(new CheckpointError(`not a lamina model: the safetensors metadata has no "${FORMAT_KEY}" key (a file written by lamina train has one)`))
      }
      if (metadata[FORMAT_KEY] !== FORMAT_VERSION) {
        return E.left(new CheckpointError(`unsupported lamina model version ${JSON.stringify(metadata[FORMAT_KEY])} (this lamina reads version ${FORMAT_VERSION})`))
      }
      const spec = metadata['spec']
      return spec === undefined ? E.left(new CheckpointError('not a lamina model: the safetensors metadata has no "spec" key')) : E.right(spec)
    }),
    E.bind('built', ({ specText }) => pipe(Spec.load(specText), E.mapLeft(within('the metadata spec')))),
    E.bind('split', ({ decoded }) => {
      const params: Record<string, Tensor> = {}
      const state: Record<string, Tensor> = {}
      for (const name of Object.keys(decoded.tensors)) {
        const t = decoded.tensors[name]!
        if (name.startsWith(STATE_PREFIX)) state[name.slice(STATE_PREFIX.length)] = t
        else params[name] = t
      }
      return E.right({ params, state })
    }),
    E.bind('params', ({ built, split }) =>
      pipe(Safetensors.toTree(split.params, built.model.init(Random.key(0))) as E.Either<LaminaError, Spec.ModelParams>, E.mapLeft(within('the parameters')))
    ),
    E.bind('state', ({ built, split }) =>
      pipe(Safetensors.toTree(split.state, built.model.initState()) as E.Either<LaminaError, Spec.ModelState>, E.mapLeft(within('the layer state')))
    ),
    E.map(({ header, decoded, built, params, state }) => ({ built, params, state, metadata: decoded.metadata, header, bytes: bytes.length }))
  )
