/**
 * `lamina inspect file.safetensors`: validates any safetensors file completely (header,
 * offsets, dtypes, data) and lists its tensors: name, dtype, shape, element count, bytes and
 * min/max/mean (one pass over each tensor's values; dtypes lamina does not read are listed
 * without statistics, saying why). A lamina model file (metadata key `lamina`) is validated
 * as a model too (the metadata spec builds; its parameter tree matches the tensors), and its
 * spec, dtype and the rest of its metadata (training configuration, history, …) are printed
 * in full. Exit 0 for a valid file, 1 with a one-line reason otherwise (a hostile file is
 * refused without allocating what its header or spec asks for; see `Safetensors.decodeHeader`
 * and `Checkpoint.decode`).
 *
 * @module
 */
import * as E from 'fp-ts/lib/Either.js'
import { LaminaError } from '../error.js'
import * as Sh from '../shape.js'
import * as Checkpoint from '../io/checkpoint.js'
import * as Safetensors from '../io/safetensors.js'
import { concreteBuffer } from '../tensor.js'
import { CommandFailure, ExitCode } from './command.js'
import type { Subcommand } from './command.js'
import { readInput } from './files.js'
import { decodeModel, inFileDType, lossName } from './model-file.js'
import { failure } from './options.js'
import type { LoadedModel } from './model-file.js'

/** The statistics of one tensor's values: `nan` values are left out of min, max and mean. */
export interface TensorStats {
  readonly min: number
  readonly max: number
  readonly mean: number
  readonly nan: number
}

/**
 * Min, max and mean of `values` in one pass, NaN values counted apart (and left out);
 * `undefined` when no value is a number (an empty tensor, or all NaN):
 * `tensorStats([1, NaN, -3, 5])` is `{ min: -3, max: 5, mean: 1, nan: 1 }`.
 */
export const tensorStats = (values: ArrayLike<number>): TensorStats | undefined => {
  let min = Infinity
  let max = -Infinity
  let sum = 0
  let nan = 0
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!
    if (v !== v) {
      nan++
      continue
    }
    if (v < min) min = v
    if (v > max) max = v
    sum += v
  }
  const counted = values.length - nan
  return counted === 0 ? undefined : { min, max, mean: sum / counted, nan }
}

/** One row of the listing. */
interface Row {
  readonly name: string
  readonly dtype: Safetensors.FileDType
  readonly shape: readonly number[]
  readonly elements: number
  readonly bytes: number
  readonly stats: TensorStats | undefined
  /** Why there are no statistics (a dtype lamina does not read, a value it cannot convert, no values). */
  readonly why?: string
}

const encoder = new TextEncoder()

/**
 * The values of one tensor of a file whose header `Safetensors.decodeHeader` validated: its
 * bytes are handed to `Safetensors.decode` as a file of that one tensor, so every check of
 * the decoder (dtype, span, I64 range) applies, and only one tensor is in memory at a time.
 */
const tensorValues = (bytes: Uint8Array, dataStart: number, info: Safetensors.TensorInfo): E.Either<string, ArrayLike<number>> => {
  const [begin, end] = info.dataOffsets
  const header = encoder.encode(JSON.stringify({ [info.name]: { dtype: info.dtype, shape: info.shape, data_offsets: [0, end - begin] } }))
  const one = new Uint8Array(8 + header.length + (end - begin))
  new DataView(one.buffer).setBigUint64(0, BigInt(header.length), true)
  one.set(header, 8)
  one.set(bytes.subarray(dataStart + begin, dataStart + end), 8 + header.length)
  const decoded = Safetensors.decode(one)
  if (E.isLeft(decoded)) return E.left(decoded.left.message.replace(/^safetensors: /, ''))
  return E.right(concreteBuffer(decoded.right.tensors[info.name]!))
}

const rowOf = (bytes: Uint8Array, dataStart: number, info: Safetensors.TensorInfo): Row => {
  const base = { name: info.name, dtype: info.dtype, shape: info.shape, elements: Sh.size(info.shape), bytes: info.dataOffsets[1] - info.dataOffsets[0] }
  if (Safetensors.dtypeOf(info.dtype) === undefined) {
    return { ...base, stats: undefined, why: `no statistics: lamina does not read ${info.dtype} values (it reads F64, F32, F16, BF16 and I64)` }
  }
  const values = tensorValues(bytes, dataStart, info)
  if (E.isLeft(values)) return { ...base, stats: undefined, why: `no statistics: ${values.left}` }
  const stats = tensorStats(values.right)
  return stats === undefined ? { ...base, stats, why: base.elements === 0 ? 'no statistics: no values' : 'no statistics: every value is NaN' } : { ...base, stats }
}

/** A number for the table: 6 significant digits. */
const show = (v: number): string => (Number.isFinite(v) ? String(Number(v.toPrecision(6))) : String(v))

/** A name or metadata value as printed: quoted (JSON) when it holds control characters, so the terminal prints what the file holds. */
const printable = (s: string): string => (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u.test(s) ? JSON.stringify(s) : s)

/** A JSON number, or a non-finite one as a string (JSON has none). */
const jsonNumber = (v: number): number | string => (Number.isFinite(v) ? v : String(v))

/** What a model file records about its training: `optimizer` as inspect's JSON gives it. */
const optimizerSummary = (loaded: LoadedModel): { readonly kind?: string; readonly step: number; readonly slots: readonly string[] } => {
  const { spec, state } = loaded.optimizer!
  return { ...(spec === undefined ? {} : { kind: spec.kind }), step: state.step, slots: Object.keys(state).filter((k) => k !== 'step') }
}

/** The line under the shapes: task, loss, classes, epochs and optimizer state, as far as the file records them. */
const describeModel = (loaded: LoadedModel): string => {
  const parts = [`task ${loaded.task}`, `loss ${lossName(loaded)}${loaded.loss === undefined ? ' (not recorded: implied by the output)' : ''}`]
  if (loaded.classes !== undefined) parts.push(`classes ${loaded.classes.map((c) => JSON.stringify(c)).join(', ')}`)
  if (loaded.epoch !== undefined) parts.push(`${loaded.epoch} epoch${loaded.epoch === 1 ? '' : 's'} trained`)
  if (loaded.optimizer !== undefined) {
    const o = optimizerSummary(loaded)
    parts.push(`${o.kind ?? 'optimizer'} state after ${o.step} steps (slots ${o.slots.join(', ') || 'none'}): --resume continues it`)
  }
  return printable(parts.join(', '))
}

const fail = (file: string, e: unknown): never => {
  if (e instanceof CommandFailure) throw new CommandFailure(`${file}: ${e.message}`)
  if (e instanceof LaminaError) throw new CommandFailure(`${file}: ${failure(e).message}`)
  throw e
}

interface InspectCliOptions {
  readonly json?: boolean
  readonly seed?: string
}

/** `lamina inspect`. */
export const inspectCommand: Subcommand = (program, { io, exit }) => {
  program
    .command('inspect')
    .summary('validate a safetensors file (any, or a lamina model) and list its tensors')
    .description(
      'Validate a safetensors file completely — the header, the offsets, the dtypes, the data — and list its tensors: name, dtype, shape, elements, bytes and min/max/mean (F64, F32, F16, BF16 and I64 values; other dtypes are listed without statistics, saying why; NaN values are counted apart). Any safetensors file is accepted (a PyTorch or JAX state dict too). A lamina model (metadata key "lamina") is also checked as a model — its metadata spec builds and its parameter tree matches the tensors — and its spec, dtype and metadata (training configuration, history) are printed in full. Exit 0 for a valid file, 1 with a one-line reason for an invalid one.'
    )
    .argument('<file>', 'the file (.safetensors)')
    .option('--seed <n>', 'accepted for symmetry with the other commands; inspection is deterministic')
    .option('--json', 'print { file, valid, lamina, bytes, metadata, tensors, … } as JSON (lamina models add spec, dtype, inputShape, outputShape)')
    .addHelpText('after', '\nExamples:\n  $ lamina inspect mlp.safetensors\n  $ lamina inspect pytorch_model.safetensors --json\n')
    .action((file: string, options: InspectCliOptions) => {
      const bytes = readInput(file, 'model')
      const decodedHeader = Safetensors.decodeHeader(bytes)
      const header = E.isLeft(decodedHeader) ? fail(file, decodedHeader.left) : decodedHeader.right
      const isLamina = header.metadata[Checkpoint.FORMAT_KEY] !== undefined
      let loaded: LoadedModel | undefined
      if (isLamina) {
        try {
          loaded = inFileDType(decodeModel(bytes))
        } catch (e) {
          fail(file, e)
        }
      }
      const rows = header.tensors.map((info) => rowOf(bytes, header.dataStart, info))
      const { spec: _spec, ...otherMetadata } = header.metadata
      if (options.json === true) {
        const tensors = rows.map((r) => ({
          name: r.name,
          dtype: r.dtype,
          shape: [...r.shape],
          elements: r.elements,
          bytes: r.bytes,
          ...(r.stats === undefined
            ? { min: null, max: null, mean: null, why: r.why }
            : { min: jsonNumber(r.stats.min), max: jsonNumber(r.stats.max), mean: jsonNumber(r.stats.mean), nan: r.stats.nan })
        }))
        const model =
          loaded === undefined
            ? {}
            : {
                dtype: loaded.dtype,
                task: loaded.task,
                ...(loaded.loss === undefined ? {} : { loss: loaded.loss }),
                ...(loaded.classes === undefined ? {} : { classes: loaded.classes }),
                ...(loaded.epoch === undefined ? {} : { epoch: loaded.epoch }),
                ...(loaded.optimizer === undefined ? {} : { optimizer: optimizerSummary(loaded) }),
                spec: loaded.built.model.spec,
                inputShape: loaded.built.inputShape,
                outputShape: loaded.built.outputShape
              }
        const metadata = loaded === undefined ? header.metadata : otherMetadata
        io.stdout(`${JSON.stringify({ file, valid: true, lamina: loaded !== undefined, bytes: bytes.length, ...model, metadata, tensors }, null, 2)}\n`)
        exit(ExitCode.ok)
        return
      }
      const elements = rows.filter((t) => !(isLamina && (t.name.startsWith('state.') || t.name.startsWith('optimizer.')))).reduce((n, t) => n + t.elements, 0)
      const head = ['name', 'dtype', 'shape', 'elements', 'bytes', 'min', 'max', 'mean']
      const cells = rows.map((r) => [
        printable(r.name),
        r.dtype,
        Sh.show(r.shape),
        String(r.elements),
        String(r.bytes),
        ...(r.stats === undefined ? ['-', '-', `- (${r.why})`] : [show(r.stats.min), show(r.stats.max), `${show(r.stats.mean)}${r.stats.nan > 0 ? ` (${r.stats.nan} NaN left out)` : ''}`])
      ])
      const widths = head.map((h, c) => (c === head.length - 1 ? 0 : Math.max(h.length, ...cells.map((r) => r[c]!.length))))
      const right = new Set([3, 4, 5, 6])
      const line = (cs: readonly string[]) => cs.map((cell, c) => (right.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd()
      const table = ['tensors:', line(head), line(widths.map((w, c) => '-'.repeat(c === head.length - 1 ? 4 : w))), ...cells.map(line)]
      const metadataLines = (entries: readonly (readonly [string, string])[]): string[] =>
        entries.length === 0 ? ['metadata: none'] : ['metadata:', ...entries.map(([k, v]) => `  ${printable(k)}: ${printable(v)}`)]
      let lines: string[]
      if (loaded !== undefined) {
        const spec = loaded.built.model.spec
        lines = [
          `${file}: a valid lamina model (${bytes.length} bytes, ${rows.length} tensors, ${elements} parameters)`,
          `input ${Sh.show(loaded.built.inputShape)} → output ${Sh.show(loaded.built.outputShape)}, dtype ${loaded.dtype}`,
          describeModel(loaded),
          '',
          'spec:',
          `{ "input": ${JSON.stringify(spec.input)},\n  "layers": [\n${spec.layers.map((l) => `    ${JSON.stringify(l)}`).join(',\n')}\n  ] }`,
          '',
          ...metadataLines(Object.entries(otherMetadata)),
          '',
          ...table
        ]
      } else {
        lines = [
          `${file}: a valid safetensors file (${bytes.length} bytes, ${rows.length} tensors, ${elements} elements); not a lamina model (no "${Checkpoint.FORMAT_KEY}" metadata key), so eval and predict cannot run it`,
          '',
          ...metadataLines(Object.entries(header.metadata)),
          '',
          ...table
        ]
      }
      io.stdout(`${lines.join('\n')}\n`)
      exit(ExitCode.ok)
    })
}
