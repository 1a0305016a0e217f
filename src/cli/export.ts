/**
 * `lamina export MODEL --format onnx|pytorch --out FILE|DIR`: a lamina model for another
 * engine. `onnx` writes one ONNX file (see `Onnx.fromCheckpoint`: opset 17, batch dimension
 * symbolic, inference mode); `pytorch` writes a folder holding `model.safetensors` (the
 * state dict, PyTorch's names and layouts) and `model.py` (the same `nn.Sequential`, with
 * `load()` and `save()`; see `PyTorch.pythonModule`). `--dtype` converts (default: the
 * model file's).
 *
 * And the way back, `lamina import STATE_DICT --format pytorch --out MODEL`: a PyTorch state
 * dict (e.g. written by `model.py`'s `save` after training in PyTorch) as a lamina model
 * file, its spec from the state dict's metadata, `--spec` or `--like` (a lamina model file
 * whose spec and metadata — loss, training configuration — are carried over).
 *
 * Every file is written atomically.
 *
 * @module
 */
import { mkdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { Option } from 'commander'
import * as Sh from '../shape.js'
import * as Checkpoint from '../io/checkpoint.js'
import * as Onnx from '../io/onnx.js'
import * as PyTorch from '../io/pytorch.js'
import type { ModelSpec } from '../io/spec.js'
import type { DType } from '../tensor.js'
import { CommandFailure, ExitCode, UsageError, quote } from './command.js'
import type { Subcommand } from './command.js'
import { loadSpec, readInput, writeAtomic } from './files.js'
import { loadModel } from './model-file.js'
import { orFail } from './options.js'

/** The formats `lamina export` writes. */
export const exportFormats = ['onnx', 'pytorch'] as const

/** The files `--format pytorch` writes into its folder. */
export const PYTORCH_FILES = { weights: 'model.safetensors', module: 'model.py' } as const

interface ExportCliOptions {
  readonly format: (typeof exportFormats)[number]
  readonly out: string
  readonly dtype?: DType
}

/** What is at `p`: nothing, a folder, or something else. */
const kindOf = (p: string): 'none' | 'folder' | 'file' => {
  try {
    return statSync(p).isDirectory() ? 'folder' : 'file'
  } catch {
    return 'none'
  }
}

/** `lamina export`. */
export const exportCommand: Subcommand = (program, { io, exit }) => {
  program
    .command('export')
    .summary('write a model for ONNX Runtime (--format onnx) or PyTorch (--format pytorch)')
    .description(
      'Export a lamina model file for another engine, in inference mode. --format onnx writes one ONNX file (opset 17; input "input" [batch, ...], output "output"; the batch dimension is symbolic; every spec layer exports, GELU and float64 convolutions as their elementwise/matrix forms) for ONNX Runtime and other ONNX engines. --format pytorch writes a folder with model.safetensors (the state dict: PyTorch\'s names and layouts, nn.Linear weights [out, in]) and model.py (the same nn.Sequential; load() reads the weights, save() writes a trained model back for lamina import). Files are written atomically.'
    )
    .argument('<model>', 'the model (.safetensors written by lamina train)')
    .addOption(new Option('-f, --format <format>', 'the engine: onnx (one file) or pytorch (a folder)').choices(exportFormats).makeOptionMandatory())
    .requiredOption('-o, --out <path>', 'the file (onnx) or folder (pytorch, created if missing) to write')
    .addOption(new Option('--dtype <dtype>', "the element type written: f32 or f64 (default: the model file's)").choices(['f32', 'f64']))
    .addHelpText(
      'after',
      '\nExamples:\n  $ lamina export mlp.safetensors --format onnx --out mlp.onnx\n  $ lamina export mlp.safetensors --format onnx --dtype f32 --out mlp-f32.onnx\n  $ lamina export mlp.safetensors --format pytorch --out mlp-torch\n  $ python mlp-torch/model.py\n'
    )
    .action(async (file: string, options: ExportCliOptions) => {
      const loaded = loadModel(file)
      const dtype = options.dtype ?? loaded.dtype
      const { inputShape, outputShape } = loaded.built
      const shapes = `[batch,${inputShape.join(',')}] → [batch,${outputShape.join(',')}], ${dtype}`
      if (options.format === 'onnx') {
        if (kindOf(options.out) === 'folder') throw new UsageError(`--out ${quote(options.out)} is a folder; --format onnx writes one file (e.g. --out ${path.join(options.out, 'model.onnx')})`)
        const bytes = orFail(Onnx.fromCheckpoint(loaded, { dtype }), file)
        await writeAtomic(options.out, bytes, 'ONNX model')
        io.stdout(`wrote ${options.out} (${bytes.length} bytes): ONNX opset ${Onnx.OPSET}, "${Onnx.INPUT}" [batch,${inputShape.join(',')}] → "${Onnx.OUTPUT}" [batch,${outputShape.join(',')}], ${dtype}\n`)
      } else {
        if (kindOf(options.out) === 'file') throw new UsageError(`--out ${quote(options.out)} is a file; --format pytorch writes a folder (${PYTORCH_FILES.weights} and ${PYTORCH_FILES.module})`)
        const weights = PyTorch.encodeModel(loaded, { dtype })
        const module = orFail(PyTorch.pythonModule(loaded.built.model.spec, { dtype, weights: PYTORCH_FILES.weights }), file)
        try {
          mkdirSync(options.out, { recursive: true })
        } catch (e) {
          throw new CommandFailure(`cannot create the folder ${quote(options.out)}: ${e instanceof Error ? e.message : String(e)}`)
        }
        const weightsFile = path.join(options.out, PYTORCH_FILES.weights)
        const moduleFile = path.join(options.out, PYTORCH_FILES.module)
        await writeAtomic(weightsFile, weights, 'state dict')
        await writeAtomic(moduleFile, module, 'Python module')
        io.stdout(
          `wrote ${weightsFile} (${weights.length} bytes: the state dict, PyTorch names and layouts, ${shapes})\n` +
            `wrote ${moduleFile} (nn.Sequential of ${loaded.built.model.spec.layers.length} layers; python ${moduleFile} loads and runs it)\n`
        )
      }
      exit(ExitCode.ok)
    })
}

interface ImportCliOptions {
  readonly format: 'pytorch'
  readonly out: string
  readonly spec?: string
  readonly like?: string
  readonly prefix?: string
  readonly dtype?: DType
}

/** `lamina import`. */
export const importCommand: Subcommand = (program, { io, exit }) => {
  program
    .command('import')
    .summary('read a PyTorch state dict back into a lamina model file')
    .description(
      "Import a PyTorch state dict (safetensors, PyTorch's names and layouts: nn.Linear [out, in], nn.Conv2d OIHW, BatchNorm weight/bias/running_mean/running_var) into a lamina model file that eval, predict and train read. The model's spec comes from --spec, from --like (a lamina model file, whose metadata — loss, training configuration — is carried over), or from the state dict's own metadata (written by lamina export's model.py save()). DistributedDataParallel's 'module.' prefix is removed; --prefix names another. The file is written atomically."
    )
    .argument('<state-dict>', 'the state dict (.safetensors)')
    .addOption(new Option('-f, --format <format>', 'the engine that wrote it').choices(['pytorch']).makeOptionMandatory())
    .requiredOption('-o, --out <file>', 'the lamina model file to write')
    .option('--spec <file>', 'the model spec (JSON)')
    .option('--like <model>', 'a lamina model file: its spec, and its metadata carried over')
    .option('--prefix <prefix>', "what comes before '0.weight' in the names (default: none, or 'module.')")
    .addOption(new Option('--dtype <dtype>', "the element type of the model: f32 or f64 (default: the state dict's)").choices(['f32', 'f64']))
    .addHelpText(
      'after',
      '\nExamples:\n  $ lamina import trained.safetensors --format pytorch --out trained-lamina.safetensors\n  $ lamina import trained.safetensors --format pytorch --like mlp.safetensors --out mlp-trained.safetensors\n  $ lamina import state.safetensors --format pytorch --spec model.json --prefix model. --out model.safetensors\n'
    )
    .action(async (file: string, options: ImportCliOptions) => {
      if (options.spec !== undefined && options.like !== undefined) throw new UsageError('give --spec or --like, not both')
      const like = options.like === undefined ? undefined : loadModel(options.like)
      const spec: ModelSpec | undefined = like?.built.model.spec ?? (options.spec === undefined ? undefined : loadSpec(options.spec).model.spec)
      const bytes = readInput(file, 'model')
      const importOptions = { ...(options.prefix === undefined ? {} : { prefix: options.prefix }), ...(options.dtype === undefined ? {} : { dtype: options.dtype }) }
      const imported = orFail(PyTorch.decode(bytes, spec, importOptions), file)
      const { lamina: _format, spec: _spec, ...metadata } = like?.metadata ?? {}
      const model = Checkpoint.encode(imported.built.model.spec, imported.params, imported.state, metadata)
      await writeAtomic(options.out, model, 'model')
      const { inputShape, outputShape } = imported.built
      io.stdout(`wrote ${options.out} (${model.length} bytes): a lamina model, input ${Sh.show(inputShape)} → output ${Sh.show(outputShape)}, ${imported.dtype}\n`)
      exit(ExitCode.ok)
    })
}
