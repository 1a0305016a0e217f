/**
 * `lamina inspect model.safetensors`: validates a model file completely (header, offsets,
 * dtypes, data; the metadata spec builds; its parameter tree matches the tensors) and prints
 * the spec, the model's dtype (the file's, f32 or f64) and a table of the tensors. Exit 0 for
 * a valid file, 1 with a one-line reason otherwise (a hostile file is refused without
 * allocating what its spec asks for; see `Checkpoint.decode`).
 *
 * @module
 */
import * as Sh from '../shape.js'
import { ExitCode } from './command.js'
import type { Subcommand } from './command.js'
import { loadModel } from './model.js'

const BYTES: Readonly<Record<string, number>> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8 }

interface InspectCliOptions {
  readonly json?: boolean
  readonly seed?: string
}

/** `lamina inspect`. */
export const inspectCommand: Subcommand = (program, { io, exit }) => {
  program
    .command('inspect')
    .summary('validate a model file and print its spec and tensors')
    .description(
      'Validate a safetensors model file completely — the header, the offsets, the dtypes, the data, that the metadata spec builds and that its parameter tree matches the tensors — then print the spec and a table of the tensors (name, dtype, shape, bytes). Exit 0 for a valid file, 1 with a one-line reason for an invalid one.'
    )
    .argument('<file>', 'the model (.safetensors)')
    .option('--seed <n>', 'accepted for symmetry with the other commands; inspection is deterministic')
    .option('--json', 'print { spec, metadata, tensors } as JSON')
    .action((file: string, options: InspectCliOptions) => {
      const loaded = loadModel(file)
      const tensors = loaded.header.tensors.map((t) => ({
        name: t.name,
        dtype: t.dtype,
        shape: [...t.shape],
        bytes: t.dataOffsets[1] - t.dataOffsets[0]
      }))
      const spec = loaded.built.model.spec
      if (options.json === true) {
        const { spec: _spec, ...metadata } = loaded.metadata
        io.stdout(
          `${JSON.stringify({ file, valid: true, bytes: loaded.bytes, dtype: loaded.dtype, spec, inputShape: loaded.built.inputShape, outputShape: loaded.built.outputShape, metadata, tensors }, null, 2)}\n`
        )
        exit(ExitCode.ok)
        return
      }
      const parameters = tensors.filter((t) => !t.name.startsWith('state.')).reduce((n, t) => n + Sh.size(t.shape), 0)
      const header = ['name', 'dtype', 'shape', 'bytes']
      const rows = tensors.map((t) => [t.name, t.dtype, Sh.show(t.shape), String(t.bytes ?? Sh.size(t.shape) * (BYTES[t.dtype] ?? 0))])
      const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)))
      const line = (cells: readonly string[]) => cells.map((cell, c) => (c === 3 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd()
      const lines = [
        `${file}: a valid lamina model (${loaded.bytes} bytes, ${tensors.length} tensors, ${parameters} parameters)`,
        `input ${Sh.show(loaded.built.inputShape)} → output ${Sh.show(loaded.built.outputShape)}, dtype ${loaded.dtype}`,
        '',
        'spec:',
        `{ "input": ${JSON.stringify(spec.input)},\n  "layers": [\n${spec.layers.map((l) => `    ${JSON.stringify(l)}`).join(',\n')}\n  ] }`,
        '',
        'tensors:',
        line(header),
        line(widths.map((w) => '-'.repeat(w))),
        ...rows.map(line)
      ]
      io.stdout(`${lines.join('\n')}\n`)
      exit(ExitCode.ok)
    })
}
