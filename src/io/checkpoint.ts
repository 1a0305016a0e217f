/**
 * Model files: one safetensors file holding the parameters under their tree names
 * (`layers.0.w`, the names PyTorch and JAX users see), the layer state (batch-norm running
 * statistics) under `state.…`, optionally the optimizer's state under `optimizer.<slot>.…`
 * (Adam's `m` and `v`, shaped like the parameters), and metadata (strings, as the format
 * requires):
 *
 * | key | value |
 * |---|---|
 * | `lamina` | `"1"`, the layout version |
 * | `spec` | the model spec as JSON (see `Spec`), so any reader rebuilds the model |
 * | `dtype` | `f32` or `f64`, the parameters' |
 * | `task` | `classification` or `regression` (absent: classification) |
 * | `loss` | the loss it was trained with (`Spec.LossName`), so a one-logit model reads as binary |
 * | `classes` | the class names, a JSON array of strings, one per class |
 * | `epoch` | the epochs trained so far, for resuming |
 * | `optimizer` | the optimizer and its hyper-parameters (`Spec.OptimizerSpec` as JSON) |
 * | `optimizerState` | `{ "step": n, "slots": ["m", "v"] }`: the update count and the state's tensors |
 *
 * plus whatever the caller records. Bytes in, bytes out, so it runs in a browser too;
 * `lamina-nn/node`'s `Checkpoint.save` and `Checkpoint.load` write (atomically) and read files.
 * {@link encodeModel} saves a model composed in TypeScript (its spec from `Spec.fromLayer`);
 * {@link decode} validates every tensor and metadata field, and {@link decodeFor} gives back
 * the parameters typed and laid out as a TypeScript model's own.
 *
 * @module
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { LaminaError } from '../error.js'
import * as Sh from '../shape.js'
import type { Shape } from '../shape.js'
import type { DType, Tensor } from '../tensor.js'
import type { AnyLayer, ParamsOf, StateOf } from '../nn/layer.js'
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
const OPTIMIZER_PREFIX = 'optimizer.'

/**
 * A file that is valid safetensors but not a lamina model file (or not this one's layout),
 * or whose tensors or metadata do not fit its spec. `field` names the offending metadata key
 * (`classes`, `optimizerState`, …) or tensor (`layers.0.w`) when there is one.
 *
 * @example
 * ```ts
 * import { Checkpoint, Safetensors, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const plain = Safetensors.encode({ w: tensor([1]) })
 * const result = Checkpoint.decode(plain)
 * assert.ok(result._tag === 'Left' && result.left instanceof Checkpoint.CheckpointError && result.left.field === 'lamina')
 * ```
 */
export class CheckpointError extends LaminaError {
  override name = 'CheckpointError'
  constructor(
    message: string,
    /** The metadata key or tensor name the problem is in, when there is one. */
    readonly field?: string
  ) {
    super(message)
  }
}

/** The optimizer part of a model file: what resumes training where it stopped. */
export interface OptimizerRecord<S = unknown> {
  /** The optimizer and its hyper-parameters, when a spec can name it (what `lamina train --resume` rebuilds it from). */
  readonly spec?: Spec.OptimizerSpec
  /**
   * Its state, as `Optim`'s optimizers keep it: `{ step, <slot>: tree shaped like the
   * parameters, … }` (`{ step, m, v }` for Adam), laid out like the parameters it goes with.
   */
  readonly state: S
}

/** What a model file records about the model besides its spec and tensors (each optional). */
export interface ModelInfo {
  /** `classification` (the default) or `regression`. */
  readonly task?: Spec.Task
  /** The loss the model was trained with. */
  readonly loss?: Spec.LossName
  /** The class names, one per class (a one-output binary model has two). */
  readonly classes?: readonly string[]
  /** The epochs trained so far. */
  readonly epoch?: number
  /** The optimizer and its state, to resume training. */
  readonly optimizer?: OptimizerRecord
}

/** A model file read back and validated. */
export interface Checkpoint {
  readonly built: Spec.Built
  readonly params: Spec.ModelParams
  readonly state: Spec.ModelState
  /**
   * The dtype of the parameters, from the file: `f64` for `F64` (and `I64`), `f32` for `F32`
   * (and `F16`, `BF16`). Run the model in it (inputs of this dtype).
   */
  readonly dtype: DType
  /** `regression` when the file says so, `classification` otherwise. */
  readonly task: Spec.Task
  /** The loss recorded in the file (its `loss` key), if any. */
  readonly loss?: Spec.LossName
  /** The class names recorded in the file, if any. */
  readonly classes?: readonly string[]
  /** The epochs trained, if recorded. */
  readonly epoch?: number
  /** The optimizer and its state (laid out like {@link Checkpoint.params}), when the file holds them. */
  readonly optimizer?: OptimizerRecord<OptimizerState>
  readonly metadata: Readonly<Record<string, string>>
  readonly header: Safetensors.Header
  readonly bytes: number
}

/** The state of one of `Optim`'s optimizers as a model file holds it: the update count and a tree per slot. */
export type OptimizerState = { readonly step: number } & { readonly [slot: string]: unknown }

/** A slot name: what `Optim` uses (`m`, `v`, `velocity`, `sumOfSquares`, `meanSquare`). */
const SLOT_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/
/** The most slots an optimizer state may list. */
const MAX_SLOTS = 8

const isPlainRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === 'object' && u !== null && !Array.isArray(u) && (Object.getPrototypeOf(u) === Object.prototype || Object.getPrototypeOf(u) === null)

/** The dtype of the first tensor of a tree, if any. */
const firstDType = (tree: unknown): DType | undefined => Object.values(Safetensors.fromTree(tree))[0]?.dtype

/** The slots of an optimizer state: every key but `step`; a `CheckpointError` unless it is `Optim`'s kind of state. */
const slotsOf = (state: unknown): string[] => {
  if (!isPlainRecord(state)) throw new CheckpointError('the optimizer state: expected the record an optimizer of Optim keeps ({ step, … }), got ' + typeof state, 'optimizerState')
  const step = state['step']
  if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 0) {
    throw new CheckpointError(`the optimizer state: step must be an integer ≥ 0, got ${String(step)}`, 'optimizerState')
  }
  const slots = Object.keys(state).filter((k) => k !== 'step')
  const bad = slots.find((s) => !SLOT_NAME.test(s))
  if (bad !== undefined) throw new CheckpointError(`the optimizer state: slot ${JSON.stringify(bad)} is not a name of letters, digits and _`, 'optimizerState')
  if (slots.length > MAX_SLOTS) throw new CheckpointError(`the optimizer state: at most ${MAX_SLOTS} slots, got ${slots.length}`, 'optimizerState')
  return slots
}

/**
 * Encodes a model given by its spec: parameters, layer state under `state.`, metadata
 * `{ lamina, spec, dtype, …info, …extra }` (see the table above), and the optimizer state
 * under `optimizer.` when `info.optimizer` is given. The trees are laid out as the spec's
 * model lays them out (`{ layers: [...] }`); {@link encodeModel} takes any model.
 *
 * @example
 * ```ts
 * import { Checkpoint, Spec, Random } from 'lamina-nn'
 * import assert from 'node:assert'
 * const spec = { input: [4], layers: [{ kind: 'dense' as const, units: 3 }] }
 * const built = Spec.build(spec)
 * assert.ok(built._tag === 'Right')
 * const { model } = built.right
 * const bytes = Checkpoint.encode(spec, model.init(Random.key(0)), model.initState(), { note: 'demo' }, { loss: 'crossEntropyWithLogits', classes: ['a', 'b', 'c'] })
 * assert.strictEqual(bytes.length % 8, 0)
 * const back = Checkpoint.decode(bytes)
 * assert.ok(back._tag === 'Right' && back.right.classes?.join() === 'a,b,c' && back.right.metadata['note'] === 'demo')
 * ```
 */
export const encode = (
  spec: Spec.ModelSpec,
  params: unknown,
  state: unknown,
  extra: Readonly<Record<string, string>> = {},
  info: ModelInfo = {}
): Uint8Array => {
  const tensors: Record<string, Tensor> = { ...Safetensors.fromTree(params) }
  const stateTensors = Safetensors.fromTree(state)
  for (const name of Object.keys(stateTensors)) tensors[`${STATE_PREFIX}${name}`] = stateTensors[name]!
  const metadata: Record<string, string> = { ...extra, [FORMAT_KEY]: FORMAT_VERSION, spec: JSON.stringify(spec) }
  const dtype = firstDType(params)
  if (dtype !== undefined) metadata['dtype'] = dtype
  if (info.task !== undefined) metadata['task'] = info.task
  if (info.loss !== undefined) metadata['loss'] = info.loss
  if (info.classes !== undefined) metadata['classes'] = JSON.stringify(info.classes)
  if (info.epoch !== undefined) metadata['epoch'] = String(info.epoch)
  if (info.optimizer !== undefined) {
    const { spec: optimizerSpec, state: optimizerState } = info.optimizer
    const slots = slotsOf(optimizerState)
    for (const slot of slots) {
      const slotTensors = Safetensors.fromTree((optimizerState as Record<string, unknown>)[slot])
      for (const name of Object.keys(slotTensors)) tensors[`${OPTIMIZER_PREFIX}${slot}.${name}`] = slotTensors[name]!
    }
    metadata['optimizerState'] = JSON.stringify({ step: (optimizerState as { step: number }).step, slots })
    if (optimizerSpec !== undefined) metadata['optimizer'] = JSON.stringify(optimizerSpec)
  }
  return Safetensors.encode(tensors, metadata)
}

/** Options of {@link encodeModel}: what the file records besides the parameters. */
export interface SaveOptions extends ModelInfo {
  /** The layer state (batch-norm running statistics); default `model.initState()`. */
  readonly state?: unknown
  /** The per-example input shape, when the model's first layer does not fix it (see `Spec.fromLayer`). */
  readonly input?: Shape
  /** More metadata (strings); the keys of the table above are lamina's and win. */
  readonly metadata?: Readonly<Record<string, string>>
}

/**
 * Encodes a model built from lamina's layers, however it was composed (by `Spec.build`, or
 * in TypeScript with `Layer.sequential`, see `Spec.fromLayer`), with its parameters, layer
 * state and, optionally, the optimizer's state and the rest of {@link ModelInfo}. The trees
 * are laid out as the spec's model's (`Spec.flattenTree`). The bytes are checked by
 * {@link decode} before they are returned, so a file this writes always loads: a `Left`
 * names what does not fit (a model the spec language cannot describe, a parameter of the
 * wrong shape, class names that do not match the outputs, …).
 *
 * @example
 * ```ts
 * import { Checkpoint, Layer, Layers, Loss, Optim, Random, Train, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const model = Layer.sequential(Layers.dense(2, 4), Layers.tanh(), Layers.dense(4, 1))
 * const data = { x: tensor([[0, 0], [0, 1], [1, 0], [1, 1]]), labels: tensor([[0], [1], [1], [0]]) }
 * const optimizer = Optim.adam({ lr: 0.05 })
 * const run = Train.fit({ model, params: model.init(Random.key(0)), optimizer, loss: (p, y) => Loss.mse(p, y), data, epochs: 3, batchSize: 2, key: Random.key(1) })
 * const bytes = Checkpoint.encodeModel(model, run.params, { task: 'regression', loss: 'mse', epoch: 3, optimizer: { spec: { kind: 'adam', lr: 0.05, beta1: 0.9, beta2: 0.999, eps: 1e-8 }, state: run.optimizerState } })
 * assert.ok(bytes._tag === 'Right')
 * const back = Checkpoint.decode(bytes.right)
 * assert.ok(back._tag === 'Right' && back.right.task === 'regression' && back.right.optimizer?.state.step === 6)
 * ```
 */
export const encodeModel = (model: AnyLayer, params: unknown, options: SaveOptions = {}): E.Either<LaminaError, Uint8Array> => {
  try {
    const spec = Spec.fromLayer(model, options.input === undefined ? undefined : { input: options.input })
    if (E.isLeft(spec)) return spec
    const state = Spec.flattenTree(model, options.state ?? model.initState())
    const { state: _state, input: _input, metadata = {}, ...info } = options
    let optimizer = info.optimizer
    if (optimizer !== undefined) {
      const slots = slotsOf(optimizer.state)
      const given = optimizer.state as Record<string, unknown>
      optimizer = { ...optimizer, state: { step: given['step'], ...Object.fromEntries(slots.map((s) => [s, Spec.flattenTree(model, given[s])])) } }
    }
    const bytes = encode(spec.right, Spec.flattenTree(model, params), state, metadata, { ...info, ...(optimizer === undefined ? {} : { optimizer }) })
    const check = decode(bytes)
    return E.isLeft(check) ? check : E.right(bytes)
  } catch (e) {
    if (e instanceof LaminaError) return E.left(e)
    throw e
  }
}

const within =
  (context: string, field?: string) =>
  (e: LaminaError): LaminaError =>
    // a safetensors message already says where it comes from; others keep their error's name
    new CheckpointError(`${context}: ${e instanceof Safetensors.SafetensorsError ? '' : `${e.name}: `}${e.message}`, field)

/** The fewest bytes a value can take in a checkpoint (`F16`, `BF16`). */
const MIN_VALUE_BYTES = 2

/** One tensor the spec needs: its slot, its name in the file, and which part of the model it is in. */
interface Wanted {
  readonly slot: Spec.TensorSlot
  readonly name: string
  readonly part: 'the parameters' | 'the layer state' | 'the optimizer state'
}

const whose = (slot: Spec.TensorSlot): string => `layers[${slot.layer}], a ${slot.kind} layer`

/** The most characters a class name may have, and the most bytes of the `classes` value. */
const MAX_CLASS_NAME = 1000

/** A metadata value that must be JSON; the parsed value, or a `CheckpointError` naming the key. */
const metadataJson = (metadata: Readonly<Record<string, string>>, key: string, expected: string): unknown => {
  try {
    return JSON.parse(metadata[key]!)
  } catch {
    throw new CheckpointError(`the metadata "${key}": expected ${expected} as JSON, got ${JSON.stringify(metadata[key]!.slice(0, 80))}`, key)
  }
}

const refuse = (key: string, expected: string, got: unknown): never => {
  const shown = typeof got === 'string' ? JSON.stringify(got.slice(0, 80)) : JSON.stringify(got)?.slice(0, 80) ?? String(got)
  throw new CheckpointError(`the metadata "${key}": expected ${expected}, got ${shown}`, key)
}

/** The model description fields of the metadata, each checked (see the table of the module). */
const readInfo = (metadata: Readonly<Record<string, string>>, built: Spec.Built): Omit<ModelInfo, 'optimizer'> & { readonly task: Spec.Task; readonly optimizerSpec?: Spec.OptimizerSpec } => {
  const has = (key: string): boolean => metadata[key] !== undefined
  const task = has('task') ? metadata['task']! : 'classification'
  if (task !== 'classification' && task !== 'regression') refuse('task', '"classification" or "regression"', task)
  let loss: Spec.LossName | undefined
  if (has('loss')) {
    loss = metadata['loss'] as Spec.LossName
    const allowed: readonly string[] = task === 'regression' ? Spec.regressionLossNames : Spec.lossNames
    if (!allowed.includes(loss)) refuse('loss', `one of ${allowed.map((n) => `"${n}"`).join(', ')}${task === 'regression' ? ' (a regression loss)' : ''}`, loss)
  }
  let classes: string[] | undefined
  if (has('classes')) {
    if (task === 'regression') refuse('classes', 'no class names for a regression model', metadata['classes'])
    const value = metadataJson(metadata, 'classes', 'an array of class names')
    const width = Sh.size(built.outputShape)
    const count = width === 1 ? 2 : width
    if (!Array.isArray(value) || !value.every((c) => typeof c === 'string' && c.length <= MAX_CLASS_NAME)) {
      refuse('classes', `an array of class names (strings of at most ${MAX_CLASS_NAME} characters)`, value)
    }
    if ((value as unknown[]).length !== count) {
      refuse('classes', `${count} class names (the model has ${width} output${width === 1 ? ', a binary classifier' : 's'})`, `${(value as unknown[]).length} names`)
    }
    classes = value as string[]
  }
  let epoch: number | undefined
  if (has('epoch')) {
    const text = metadata['epoch']!
    epoch = /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN
    if (!Number.isSafeInteger(epoch)) refuse('epoch', 'the number of epochs trained, an integer ≥ 0', text)
  }
  let optimizerSpec: Spec.OptimizerSpec | undefined
  if (has('optimizer')) {
    const decoded = Spec.decodeOptimizer(metadataJson(metadata, 'optimizer', 'an optimizer spec'))
    if (E.isLeft(decoded)) throw new CheckpointError(`the metadata "optimizer": ${decoded.left.message}`, 'optimizer')
    optimizerSpec = decoded.right
  }
  return {
    task: task as Spec.Task,
    ...(loss === undefined ? {} : { loss }),
    ...(classes === undefined ? {} : { classes }),
    ...(epoch === undefined ? {} : { epoch }),
    ...(optimizerSpec === undefined ? {} : { optimizerSpec })
  }
}

/** The `optimizerState` metadata: the update count and the slot names. */
const readOptimizerState = (metadata: Readonly<Record<string, string>>): { readonly step: number; readonly slots: readonly string[] } | undefined => {
  if (metadata['optimizerState'] === undefined) return undefined
  const value = metadataJson(metadata, 'optimizerState', '{ "step": n, "slots": [...] }')
  const expected = '{ "step": an integer ≥ 0, "slots": an array of at most 8 distinct names }'
  if (!isPlainRecord(value) || Object.keys(value).some((k) => k !== 'step' && k !== 'slots')) refuse('optimizerState', expected, value)
  const { step, slots } = value as { step?: unknown; slots?: unknown }
  if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 0) refuse('optimizerState', expected, value)
  if (!Array.isArray(slots) || slots.length > MAX_SLOTS || !slots.every((s) => typeof s === 'string' && SLOT_NAME.test(s)) || new Set(slots).size !== slots.length) {
    refuse('optimizerState', expected, value)
  }
  return { step: step as number, slots: slots as string[] }
}

/**
 * Decodes and validates a model file completely: the safetensors header and data, the
 * metadata (`lamina` and a `spec` that builds with the same shape rules as TypeScript code;
 * `dtype`, `task`, `loss`, `classes`, `epoch`, `optimizer` and `optimizerState` when present,
 * each checked against the others and the spec), and that the tensors are exactly the
 * parameters, layer state and optimizer state of the model the spec builds, with their
 * shapes. Never throws: every problem is a `Left` naming it (a {@link CheckpointError} with
 * the `field` it is in, for the metadata and the tensors).
 *
 * Hostile files cost little: the spec is checked (sizes bounded by `Spec.MAX_ELEMENTS`) and
 * its parameter and state shapes are computed from the spec alone, then compared with the
 * header, before any tensor is read or allocated, so a tiny file whose spec asks for a
 * billion units is refused at once, naming the layer; the model's `init` is never called.
 * Loading allocates about the size of the file's data once more.
 *
 * The dtype comes from the file: the parameters must all have one dtype (`F64` or `F32`, or
 * `F16`/`BF16`/`I64`, read as `f32`/`f64`), which is the checkpoint's {@link Checkpoint.dtype};
 * the layer state (running statistics, used in any dtype) may be `f32` or `f64` either way;
 * the optimizer state has the parameters' dtype.
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
 * // metadata that does not fit the model is refused, naming the key
 * const wrong = Checkpoint.decode(Checkpoint.encode(spec, params, {}, {}, { classes: ['cat'] }))
 * assert.ok(wrong._tag === 'Left' && wrong.left instanceof Checkpoint.CheckpointError && wrong.left.field === 'classes')
 * assert.strictEqual(wrong.left.message, 'the metadata "classes": expected 2 class names (the model has 2 outputs), got "1 names"')
 * ```
 */
export const decode = (bytes: Uint8Array): E.Either<LaminaError, Checkpoint> => {
  try {
    return decodeUnsafe(bytes)
  } catch (e) {
    // a CheckpointError thrown by a check below is a Left; anything else still reaches the caller typed
    return E.left(e instanceof LaminaError ? e : new CheckpointError(`unexpected failure while decoding: ${e instanceof Error ? e.message : String(e)}`))
  }
}

const decodeUnsafe = (bytes: Uint8Array): E.Either<LaminaError, Checkpoint> => {
  const header = Safetensors.decodeHeader(bytes)
  if (E.isLeft(header)) return header
  const { metadata, tensors: infos, dataLength } = header.right
  if (metadata[FORMAT_KEY] === undefined) {
    return E.left(new CheckpointError(`not a lamina model: the safetensors metadata has no "${FORMAT_KEY}" key (a file written by lamina train has one)`, FORMAT_KEY))
  }
  if (metadata[FORMAT_KEY] !== FORMAT_VERSION) {
    return E.left(new CheckpointError(`unsupported lamina model version ${JSON.stringify(metadata[FORMAT_KEY])} (this lamina reads version ${FORMAT_VERSION})`, FORMAT_KEY))
  }
  const specText = metadata['spec']
  if (specText === undefined) return E.left(new CheckpointError('not a lamina model: the safetensors metadata has no "spec" key', 'spec'))
  const loaded = pipe(Spec.load(specText), E.mapLeft(within('the metadata spec', 'spec')))
  if (E.isLeft(loaded)) return loaded
  const built = loaded.right
  const info = readInfo(metadata, built)
  const optimizerState = readOptimizerState(metadata)

  // 1. the spec against the size of the file's data, from the shapes alone
  const wanted: Wanted[] = [
    ...built.parameters.map((slot): Wanted => ({ slot, name: slot.name, part: 'the parameters' })),
    ...built.state.map((slot): Wanted => ({ slot, name: `${STATE_PREFIX}${slot.name}`, part: 'the layer state' })),
    ...(optimizerState?.slots ?? []).flatMap((s) =>
      built.parameters.map((slot): Wanted => ({ slot, name: `${OPTIMIZER_PREFIX}${s}.${slot.name}`, part: 'the optimizer state' }))
    )
  ]
  const values = wanted.reduce((n, w) => n + Sh.size(w.slot.shape), 0)
  if (values * MIN_VALUE_BYTES > dataLength) {
    const largest = wanted.reduce((a, b) => (Sh.size(b.slot.shape) > Sh.size(a.slot.shape) ? b : a))
    return E.left(
      new CheckpointError(
        `the metadata spec: its ${values} parameter and state values need at least ${values * MIN_VALUE_BYTES} bytes (${values * 8} in F64), ` +
          `but the file's data section holds ${dataLength} bytes; the largest is ${JSON.stringify(largest.name)} ${Sh.show(largest.slot.shape)} (${whose(largest.slot)})`,
        'spec'
      )
    )
  }

  // 2. names, shapes and dtypes against the header, before any data is read
  const byName = new Map(infos.map((info) => [info.name, info]))
  for (const { slot, name, part } of wanted) {
    const info = byName.get(name)
    if (info === undefined) {
      return E.left(new CheckpointError(`${part}: safetensors: toTree: tensor ${JSON.stringify(name)} is missing from the file (${whose(slot)}, shape ${Sh.show(slot.shape)})`, name))
    }
    if (!Sh.equals(info.shape, slot.shape)) {
      return E.left(
        new CheckpointError(`${part}: safetensors: toTree: tensor ${JSON.stringify(name)} has shape ${Sh.show(info.shape)} in the file, expected ${Sh.show(slot.shape)} (${whose(slot)})`, name)
      )
    }
    if (Safetensors.dtypeOf(info.dtype) === undefined) {
      return E.left(
        new CheckpointError(`${part}: tensor ${JSON.stringify(name)} has dtype ${info.dtype}, which lamina does not read (a model's tensors are F64 or F32; F16, BF16 and I64 are read too)`, name)
      )
    }
  }
  const wantedNames = new Set(wanted.map((w) => w.name))
  const partOf = (name: string): 'the parameters' | 'the layer state' | 'the optimizer state' =>
    name.startsWith(STATE_PREFIX) ? 'the layer state' : name.startsWith(OPTIMIZER_PREFIX) ? 'the optimizer state' : 'the parameters'
  for (const part of ['the parameters', 'the layer state', 'the optimizer state'] as const) {
    const extra = infos.filter((info) => partOf(info.name) === part && !wantedNames.has(info.name)).map((info) => info.name)
    if (extra.length > 0) {
      const shown = extra.slice(0, 5).map((n) => JSON.stringify(n)).join(', ') + (extra.length > 5 ? `, … (${extra.length} in all)` : '')
      const why = part === 'the optimizer state' && optimizerState === undefined ? ' (and its metadata has no "optimizerState" key)' : ''
      return E.left(new CheckpointError(`${part}: safetensors: toTree: the file has tensors the spec does not name: ${shown}${why}`, extra[0]))
    }
  }
  const paramInfos = built.parameters.map((slot) => byName.get(slot.name)!)
  const optimizerInfos = (optimizerState?.slots ?? []).flatMap((s) => built.parameters.map((slot) => byName.get(`${OPTIMIZER_PREFIX}${s}.${slot.name}`)!))
  const mixed = [...paramInfos, ...optimizerInfos].find((info) => info.dtype !== paramInfos[0]!.dtype)
  if (mixed !== undefined) {
    const first = paramInfos[0]!
    const part = partOf(mixed.name)
    return E.left(
      new CheckpointError(
        `${part}: mixed dtypes: ${JSON.stringify(first.name)} is ${first.dtype} but ${JSON.stringify(mixed.name)} is ${mixed.dtype} ` +
          `(a model's parameters${part === 'the optimizer state' ? ' and its optimizer state' : ''} share one dtype, F32 or F64)`,
        mixed.name
      )
    )
  }
  const firstParam = paramInfos[0] ?? built.state.map((slot) => byName.get(`${STATE_PREFIX}${slot.name}`)!)[0]
  const dtype: DType = firstParam === undefined ? 'f64' : Safetensors.dtypeOf(firstParam.dtype)!
  if (metadata['dtype'] !== undefined && metadata['dtype'] !== dtype) {
    refuse('dtype', `"${dtype}", the dtype of the parameters (${firstParam?.dtype})`, metadata['dtype'])
  }

  // 3. the data, and the trees `init` and `initState` would have given, filled from it
  const decoded = Safetensors.decode(bytes)
  if (E.isLeft(decoded)) return decoded
  const tree = (slots: readonly Spec.TensorSlot[], prefix: string): { readonly layers: readonly unknown[] } =>
    Spec.fillTree(built.model.spec, slots, (slot) => decoded.right.tensors[`${prefix}${slot.name}`]!)
  const params = tree(built.parameters, '') as Spec.ModelParams
  const state = tree(built.state, STATE_PREFIX) as Spec.ModelState
  const { optimizerSpec, ...described } = info
  const optimizer =
    optimizerState === undefined
      ? undefined
      : {
          ...(optimizerSpec === undefined ? {} : { spec: optimizerSpec }),
          state: Object.freeze({
            step: optimizerState.step,
            ...Object.fromEntries(optimizerState.slots.map((s) => [s, tree(built.parameters, `${OPTIMIZER_PREFIX}${s}.`)]))
          }) as OptimizerState
        }
  if (optimizerSpec !== undefined && optimizerState === undefined) {
    refuse('optimizer', 'an "optimizerState" key beside it (the optimizer without its state cannot resume)', metadata['optimizer'])
  }
  return E.right({ built, params, state, dtype, ...described, ...(optimizer === undefined ? {} : { optimizer }), metadata, header: header.right, bytes: bytes.length })
}

/** A model file read for a model written in TypeScript: the parameters, layer state and optimizer state laid out and typed as `L`'s own. */
export interface LoadedFor<L extends AnyLayer> extends Omit<Checkpoint, 'params' | 'state' | 'optimizer'> {
  /** The model given to {@link decodeFor}. */
  readonly model: L
  readonly params: ParamsOf<L>
  readonly state: StateOf<L>
  readonly optimizer?: OptimizerRecord
}

/**
 * Decodes a model file (see {@link decode}) for a model composed in TypeScript: the file's
 * spec must be the model's (`Spec.fromLayer(model)`, with the file's input shape), and the
 * parameters, layer state and optimizer state come back laid out as the model's own trees
 * and typed so (`ParamsOf<L>`), ready for `Layer.apply` or `Train.fit`. A `Left` names the
 * first layer where the file and the model differ (a `CheckpointError` with `field` `spec`).
 *
 * @example
 * ```ts
 * import { Checkpoint, Layer, Layers, Random, tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * const model = Layer.sequential(Layers.dense(2, 3), Layers.relu(), Layers.dense(3, 1))
 * const params = model.init(Random.key(0))
 * const bytes = Checkpoint.encodeModel(model, params)
 * assert.ok(bytes._tag === 'Right')
 * const loaded = Checkpoint.decodeFor(bytes.right, model)
 * assert.ok(loaded._tag === 'Right')
 * const x = tensor([[1, 2]])
 * assert.deepStrictEqual(Layer.apply(model, loaded.right.params, x).toArray(), Layer.apply(model, params, x).toArray())
 * // another model is refused, naming the layer
 * const other = Checkpoint.decodeFor(bytes.right, Layer.sequential(Layers.dense(2, 3), Layers.tanh(), Layers.dense(3, 1)))
 * assert.ok(other._tag === 'Left' && other.left.message === 'the model does not match the file: layers[1] is {"kind":"relu"} in the file but {"kind":"tanh"} in the model')
 * ```
 */
export const decodeFor = <L extends AnyLayer>(bytes: Uint8Array, model: L): E.Either<LaminaError, LoadedFor<L>> => {
  const file = decode(bytes)
  if (E.isLeft(file)) return file
  const { params, state, optimizer, ...rest } = file.right
  const fileSpec = file.right.built.model.spec
  const mine = Spec.fromLayer(model, { input: fileSpec.input })
  if (E.isLeft(mine)) return E.left(new CheckpointError(`the model has no spec to compare with the file's: ${mine.left.message}`, 'spec'))
  const show = (l: Spec.LayerSpec | undefined): string => (l === undefined ? 'absent' : JSON.stringify(l))
  const layers = Math.max(fileSpec.layers.length, mine.right.layers.length)
  for (let i = 0; i < layers; i++) {
    const [a, b] = [show(fileSpec.layers[i]), show(mine.right.layers[i])]
    if (a !== b) return E.left(new CheckpointError(`the model does not match the file: layers[${i}] is ${a} in the file but ${b} in the model`, 'spec'))
  }
  try {
    const nest = (tree: { readonly layers: readonly unknown[] }): unknown => Spec.nestTree(model, tree)
    const nestedOptimizer =
      optimizer === undefined
        ? undefined
        : {
            ...optimizer,
            state: Object.fromEntries(Object.entries(optimizer.state).map(([k, v]) => [k, k === 'step' ? v : nest(v as { readonly layers: readonly unknown[] })]))
          }
    return E.right({
      ...rest,
      model,
      params: nest(params) as ParamsOf<L>,
      state: nest(state) as StateOf<L>,
      ...(nestedOptimizer === undefined ? {} : { optimizer: nestedOptimizer })
    })
  } catch (e) {
    if (e instanceof LaminaError) return E.left(e)
    throw e
  }
}
