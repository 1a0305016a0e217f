/**
 * `lamina train --spec model.json --data mnist|data.json|data.csv --out model.safetensors`:
 * builds the model a JSON spec describes, trains it with `Train.fit` (Adam by default, or
 * what `--config train.json` names; `--epochs`, `--batch`, `--lr`, `--seed` override), and
 * saves the parameters as safetensors, atomically, with the spec in the metadata.
 *
 * @module
 */
import * as Random from '../random.js'
import * as Spec from '../io/spec.js'
import { evaluate, fit } from '../nn/train.js'
import type { EpochReport } from '../nn/train.js'
import { ExitCode } from './command.js'
import type { Io, Subcommand } from './command.js'
import { classesOf, encodeModel, intOption, loadData, loadSpec, orFail, positiveOption, readText, writeAtomic } from './model.js'

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
  readonly progress: boolean
  readonly json?: boolean
}

/** The training configuration: the file's (or the defaults), with the command-line overrides. */
export const trainingConfig = (options: Pick<TrainCliOptions, 'config' | 'epochs' | 'batch' | 'lr' | 'seed'>): Spec.TrainingConfig => {
  const base = options.config === undefined ? Spec.trainingDefaults : orFail(Spec.parseTraining(readText(options.config, 'config')), options.config)
  return {
    ...base,
    ...(options.epochs === undefined ? {} : { epochs: intOption('--epochs', options.epochs, 1) }),
    ...(options.batch === undefined ? {} : { batchSize: intOption('--batch', options.batch, 1) }),
    ...(options.seed === undefined ? {} : { seed: intOption('--seed', options.seed, 0) }),
    ...(options.lr === undefined ? {} : { optimizer: { ...base.optimizer, lr: positiveOption('--lr', options.lr) } })
  }
}

/** Progress reporting: a cli-progress bar per epoch on a terminal, one line per epoch otherwise. */
const progress = async (io: Io, enabled: boolean, epochs: number) => {
  type Bar = { start: (total: number, value: number, payload: object) => void; update: (value: number, payload: object) => void; stop: () => void }
  let bar: Bar | undefined
  if (enabled && io.isTTY === true) {
    try {
      // a devDependency: without it, lines instead of a bar
      const cliProgress = (await import('cli-progress')).default
      bar = new cliProgress.SingleBar(
        { format: 'epoch {epoch}/{epochs} [{bar}] {value}/{total} batches | loss {loss}', hideCursor: true, clearOnComplete: false },
        cliProgress.Presets.shades_classic
      )
    } catch {
      bar = undefined
    }
  }
  return {
    onBatch: (r: { epoch: number; step: number; steps: number; loss: number }) => {
      if (bar === undefined) return
      if (r.step === 1) bar.start(r.steps, 0, { epoch: r.epoch, epochs, loss: '…' })
      bar.update(r.step, { epoch: r.epoch, epochs, loss: r.loss.toFixed(4) })
      if (r.step === r.steps) bar.stop()
    },
    onEpoch: (r: EpochReport) => {
      if (bar === undefined) io.stdout(`epoch ${r.epoch}/${epochs}: loss ${r.loss.toFixed(4)}, ${r.seconds.toFixed(1)} s\n`)
    }
  }
}

/** `lamina train`. */
export const trainCommand: Subcommand = (program, { io, exit }) => {
  program
    .command('train')
    .summary('train a model described by a JSON spec and save it as safetensors')
    .description(
      [
        'Build the model a JSON spec describes ({ "input": [784], "layers": [{ "kind": "dense", "units": 128 }, …] }), train it with Train.fit and save its parameters as a safetensors file (written atomically) whose metadata holds the spec, so that eval, predict and inspect can rebuild it.',
        'The training configuration (--config, JSON: epochs, batchSize, seed, loss, optimizer) defaults to 10 epochs of batches of 32 with Adam (lr 0.001) and cross-entropy on logits; --epochs, --batch, --lr and --seed override it.',
        'Data: mnist (the train part of the deterministic 80/20 split of the mnist package), a JSON file { "x": [...], "labels": [...] } or { "x", "y" (one-hot) }, or a CSV file with a label column.'
      ].join('\n\n')
    )
    .requiredOption('--spec <file>', 'the model spec (JSON)')
    .requiredOption('--data <source>', 'mnist, or a dataset file (.json or .csv)')
    .requiredOption('-o, --out <file>', 'where to save the model (.safetensors)')
    .option('--config <file>', 'the training configuration (JSON)')
    .option('--epochs <n>', 'passes over the data (overrides the config)')
    .option('--batch <n>', 'minibatch size (overrides the config)')
    .option('--lr <rate>', 'learning rate (overrides the config)')
    .option('--seed <n>', 'seed of the initial weights and the batch order (overrides the config)')
    .option('--no-progress', 'no progress bar, even on a terminal')
    .option('--json', 'print a JSON summary (per-epoch losses, accuracy, file) instead of text')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ lamina train --spec mlp.json --data mnist --epochs 5 --out mlp.safetensors\n' +
        '  $ lamina train --spec mlp.json --data points.csv --config train.json --lr 0.01 --seed 3 --out points.safetensors\n'
    )
    .action(async (options: TrainCliOptions) => {
      const config = trainingConfig(options)
      const built = loadSpec(options.spec)
      const { model, inputShape, outputShape } = built
      const data = await loadData(options.data, inputShape, classesOf(outputShape), 'train')
      const [initKey, fitKey] = Random.split(Random.key(config.seed))
      const loss = Spec.loss(config.loss)
      const report = await progress(io, options.progress && options.json !== true, config.epochs)
      const quiet = options.json === true
      const started = performance.now()
      const run = fit({
        model,
        params: model.init(initKey!),
        optimizer: Spec.optimizer(config.optimizer),
        loss,
        data,
        epochs: config.epochs,
        batchSize: config.batchSize,
        key: fitKey!,
        onBatch: quiet ? undefined : report.onBatch,
        onEpoch: quiet ? undefined : report.onEpoch
      })
      const seconds = (performance.now() - started) / 1000
      const final = evaluate(model, run.params, run.state, data, loss)
      const history = run.history.map((h) => ({ epoch: h.epoch, loss: h.loss, seconds: h.seconds }))
      const bytes = encodeModel(model.spec, run.params, run.state, {
        training: JSON.stringify(config),
        data: options.data,
        examples: String(data.labels.length),
        history: JSON.stringify(history.map((h) => h.loss)),
        trainAccuracy: String(final.accuracy),
        created: new Date().toISOString()
      })
      await writeAtomic(options.out, bytes, 'model')
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
      exit(ExitCode.ok)
    })
}
