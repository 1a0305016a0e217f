/**
 * Trained parameters as a lamina checkpoint (a safetensors file with the model spec in its
 * metadata, readable by `lamina eval` and by PyTorch/JAX safetensors readers), plus the
 * playground configuration and step count, so an uploaded file restores the page.
 *
 * @module
 */
import * as E from 'fp-ts/lib/Either.js'
import { Checkpoint, LaminaError, Safetensors, Spec } from 'lamina-nn'
import { fromJson, problemOf } from './config.js'
import type { Config } from './config.js'
import * as D from './datasets.js'
import * as M from './model.js'

/** The metadata key holding the configuration (JSON). */
export const CONFIG_KEY = 'playground'

/**
 * The file's bytes. They record the task and the loss the page trains with (`M.dataLoss`):
 * the one output is a logit of class 1 (binary cross-entropy) or a regression value (MSE), so
 * `lamina eval`/`predict` read the file as the page does.
 */
export const save = (config: Config, network: M.Network, params: M.Params, step: number): Uint8Array => {
  const task = problemOf(config.dataset)
  return Checkpoint.encode(network.spec, params, network.model.initState(), { [CONFIG_KEY]: JSON.stringify(config), step: String(step) }, {
    task,
    loss: task === 'regression' ? 'mse' : 'binaryCrossEntropyWithLogits'
  })
}

/** What a file restores. */
export interface Loaded {
  readonly config: Config
  readonly params: M.Params
  readonly step: number
}

const fail = (message: string): E.Either<LaminaError, never> => E.left(new LaminaError(message))

/**
 * Reads a file written by {@link save}: a valid lamina checkpoint whose configuration decodes,
 * whose spec is the network that configuration builds, and whose tensors fit it. Never throws.
 */
export const load = (bytes: Uint8Array): E.Either<LaminaError, Loaded> => {
  const checkpoint = Checkpoint.decode(bytes)
  if (E.isLeft(checkpoint)) return checkpoint
  const { metadata, built, params } = checkpoint.right
  const configText = metadata[CONFIG_KEY]
  if (configText === undefined) return fail(`not a playground model: the file's metadata has no "${CONFIG_KEY}" key (it holds a lamina model, but not the page's settings)`)
  const config = fromJson(configText, `the file's "${CONFIG_KEY}" metadata`)
  if (E.isLeft(config)) return config
  const network = M.build(config.right)
  const expected = Spec.build(network.spec)
  if (E.isLeft(expected)) return expected
  if (JSON.stringify(expected.right.model.spec) !== JSON.stringify(built.model.spec)) {
    return fail(`the file's model spec ${JSON.stringify(built.model.spec.layers)} is not the network its settings describe (${network.widths.join('-')}, ${config.right.activation})`)
  }
  const tree = Safetensors.toTree(Safetensors.fromTree(params), network.model.init(D.seedKeys(0).init))
  if (E.isLeft(tree)) return tree
  const stepText = metadata['step'] ?? '0'
  const step = /^\d+$/.test(stepText) ? Number(stepText) : 0
  return E.right({ config: config.right, params: tree.right, step })
}
