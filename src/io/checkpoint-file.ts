/**
 * Model files on disk (Node only: this module reads and writes files): `save` writes a
 * model, its parameters and what `Checkpoint.ModelInfo` records (loss, class names, the
 * optimizer's state to resume from) atomically; `load` reads one back validated, with the
 * model rebuilt from its spec; `loadFor` reads one for a model written in TypeScript, its
 * parameters typed as that model's. The bytes are those of `Checkpoint.encodeModel` and
 * `Checkpoint.decode` (in `lamina-nn`, which also run in a browser), so the CLI (`lamina eval`,
 * `predict`, `inspect`, `train --resume`) reads what these write, and the other way round.
 *
 * @example
 * ```ts
 * import { Checkpoint } from 'lamina-nn/node'
 * import { Layer, Layers, Random, tensor } from 'lamina-nn'
 * import { mkdtempSync } from 'node:fs'
 * import { tmpdir } from 'node:os'
 * import { join } from 'node:path'
 * import assert from 'node:assert'
 * const model = Layer.sequential(Layers.dense(4, 8), Layers.relu(), Layers.dense(8, 3))
 * const params = model.init(Random.key(0))
 * const file = join(mkdtempSync(join(tmpdir(), 'lamina-')), 'mlp.safetensors')
 * const saved = await Checkpoint.save(file, model, params, { loss: 'crossEntropyWithLogits', classes: ['a', 'b', 'c'] })
 * assert.ok(saved._tag === 'Right')
 * const loaded = Checkpoint.load(file)
 * assert.ok(loaded._tag === 'Right')
 * const { built, classes } = loaded.right
 * const x = tensor([[1, 2, 3, 4]])
 * assert.deepStrictEqual(Layer.apply(built.model, loaded.right.params, x).toArray(), Layer.apply(model, params, x).toArray())
 * assert.deepStrictEqual(classes, ['a', 'b', 'c'])
 * ```
 *
 * @module
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Either } from 'fp-ts/lib/Either.js'
import { LaminaError } from '../error.js'
import type { AnyLayer } from '../nn/layer.js'
import { writeFileAtomic } from './atomic.js'
import * as Checkpoint from './checkpoint.js'
import * as ReadFile from './read-file.js'

/**
 * Saves a model to `path` atomically (a temporary file renamed over the target: an
 * interrupted save never destroys the last good file): the bytes of
 * `Checkpoint.encodeModel(model, params, options)`, checked to load back before they are
 * written. Resolves to the number of bytes written, or a `Left` naming the problem (the
 * model the spec language cannot describe, a `WriteError` naming the path, …); nothing is
 * written then.
 *
 * @example
 * ```ts
 * import { Checkpoint } from 'lamina-nn/node'
 * import { Layers, Random } from 'lamina-nn'
 * import { existsSync, mkdtempSync } from 'node:fs'
 * import { tmpdir } from 'node:os'
 * import { join } from 'node:path'
 * import assert from 'node:assert'
 * const file = join(mkdtempSync(join(tmpdir(), 'lamina-')), 'block.safetensors')
 * // a layer written outside lamina records no settings, so no spec describes it: refused, and nothing is written
 * const mine = { ...Layers.relu(), kind: 'mine', settings: undefined }
 * const model = Layers.sequential(Layers.dense(4, 4), mine)
 * const refused = await Checkpoint.save(file, model, model.init(Random.key(0)))
 * assert.ok(refused._tag === 'Left' && /mine/.test(refused.left.message))
 * assert.ok(!existsSync(file))
 * ```
 */
export const save = async (path: string, model: AnyLayer, params: unknown, options?: Checkpoint.SaveOptions): Promise<Either<LaminaError, number>> => {
  const bytes = Checkpoint.encodeModel(model, params, options)
  if (E.isLeft(bytes)) return bytes
  try {
    await writeFileAtomic(path, bytes.right)
    return E.right(bytes.right.length)
  } catch (e) {
    if (e instanceof LaminaError) return E.left(e)
    throw e
  }
}

/** The bytes of a model file: a regular file of at most `ReadFile.MAX_BYTES.model` bytes. */
const read = (path: string): Either<LaminaError, Uint8Array> => ReadFile.readBounded(path, 'model file', ReadFile.MAX_BYTES.model)

/**
 * Reads and validates a model file (see `Checkpoint.decode`): the model rebuilt from its
 * spec, its parameters, layer state, dtype, and what else the file records (task, loss,
 * class names, epochs, the optimizer and its state). A `Left` names the problem: a
 * `ReadFileError` (missing, a folder, too large), a `CheckpointError` with the metadata key
 * or tensor it is in (`field`), or a `SafetensorsError` for a broken file.
 *
 * @example
 * ```ts
 * import { Checkpoint, ReadFile } from 'lamina-nn/node'
 * import assert from 'node:assert'
 * const missing = Checkpoint.load('/nonexistent/model.safetensors')
 * assert.ok(missing._tag === 'Left' && missing.left instanceof ReadFile.ReadFileError && missing.left.reason === 'missing')
 * ```
 */
export const load = (path: string): Either<LaminaError, Checkpoint.Checkpoint> => {
  const bytes = read(path)
  return E.isLeft(bytes) ? bytes : Checkpoint.decode(bytes.right)
}

/**
 * Reads a model file for a model written in TypeScript (see `Checkpoint.decodeFor`): the
 * file's spec must be the model's, and the parameters, layer state and optimizer state come
 * back laid out and typed as the model's own, ready for `Layer.apply` or to resume `Train.fit`.
 *
 * @example
 * ```ts
 * import { Checkpoint } from 'lamina-nn/node'
 * import { Layer, Layers, Norm, Random, tensor } from 'lamina-nn'
 * import { mkdtempSync } from 'node:fs'
 * import { tmpdir } from 'node:os'
 * import { join } from 'node:path'
 * import assert from 'node:assert'
 * const model = Layer.sequential(Layers.dense(2, 4), Norm.batchNorm(4), Layers.relu(), Layers.dense(4, 1))
 * const params = model.init(Random.key(0), 'f32')
 * const file = join(mkdtempSync(join(tmpdir(), 'lamina-')), 'net.safetensors')
 * assert.ok((await Checkpoint.save(file, model, params, { task: 'regression', loss: 'huber' }))._tag === 'Right')
 * const loaded = Checkpoint.loadFor(file, model)
 * assert.ok(loaded._tag === 'Right' && loaded.right.dtype === 'f32' && loaded.right.loss === 'huber')
 * const gamma = loaded.right.params.layers[1].gamma // typed as the model's own parameters
 * assert.deepStrictEqual(gamma.toArray(), [1, 1, 1, 1])
 * ```
 */
export const loadFor = <L extends AnyLayer>(path: string, model: L): Either<LaminaError, Checkpoint.LoadedFor<L>> => {
  const bytes = read(path)
  return E.isLeft(bytes) ? bytes : Checkpoint.decodeFor(bytes.right, model)
}
