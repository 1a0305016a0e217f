/**
 * `lamina gradcheck [--runs N] [--json]`: the gradient-law harness (`lamina-nn/laws`) over every
 * primitive of the table (`checkPrimitive`: reverse and forward mode against finite
 * differences, the inner-product identity, forward/reverse agreement, Hessian symmetry and
 * Hessian-vector products) and every layer kind (`checkGradient` on dense, conv2d, maxPool2d,
 * batchNorm, …), as a table; exit 1 if any law fails.
 *
 * The harness and fast-check (a devDependency) are loaded only when the command runs.
 *
 * @module
 */
import type fcType from 'fast-check'
import * as Random from '../random.js'
import * as Sh from '../shape.js'
import type { Shape } from '../shape.js'
import { add, mul, sum } from '../ops.js'
import { fromBuffer } from '../tensor.js'
import type { Tensor } from '../tensor.js'
import * as Prim from '../prim.js'
import * as Layer from '../nn/layer.js'
import type { AnyLayer } from '../nn/layer.js'
import * as Layers from '../nn/layers.js'
import * as Conv from '../nn/conv.js'
import * as Norm from '../nn/norm.js'
import * as Combinators from '../nn/combinators.js'
import { CommandFailure, ExitCode, UsageError } from './command.js'
import type { Subcommand } from './command.js'
import { intOption } from './model.js'

/** One row of the table: a primitive or a layer, the cases run, the worst error, the verdict. */
export interface GradcheckRow {
  readonly kind: 'primitive' | 'layer'
  readonly name: string
  readonly cases: number
  /** The largest relative error over the laws checked (for a failure: the law's message). */
  readonly maxError: number
  /** The tolerance of the law with the largest error relative to its tolerance. */
  readonly tolerance: number
  readonly ok: boolean
  readonly failure?: string
}

/** A layer case: a function of a tree of tensors to a tensor, and the trees to try. */
interface LayerCase {
  readonly name: string
  readonly f: (input: never) => Tensor
  readonly inputs: fcType.Arbitrary<unknown>
  /** A fixed fast-check seed, where a near-tie (a kink) could be drawn otherwise. */
  readonly seed?: number
}

/** The layer cases, built with fast-check and the harness's arbitraries. */
const layerCases = (fc: typeof fcType, tensorOf: (shape: Shape, options?: { min?: number; max?: number; awayFrom?: readonly number[]; margin?: number }) => fcType.Arbitrary<Tensor>): LayerCase[] => {
  const normal = (seed: number, shape: Shape): Tensor => Random.normal(Random.key(seed), shape) as Tensor
  /** ⟨layer(x), c⟩ for a fixed random c: a scalar loss of the parameters. */
  const lossOf =
    (layer: AnyLayer, x: Tensor, outShape: Shape, training = false) =>
    (params: unknown): Tensor => {
      const c = normal(7, [x.shape[0]!, ...outShape])
      const y = layer.forward(params, x, { training, key: Random.key(0), state: layer.initState() }).y
      return sum(mul(y, c) as Tensor) as Tensor
    }
  const p = (shape: Shape, min = -1, max = 1) => tensorOf(shape, { min, max })
  const dense = (i: number, o: number) => fc.record({ w: p([i, o]), b: p([o]) })
  const distinct = (shape: Shape): fcType.Arbitrary<Tensor> => {
    const n = Sh.size(shape)
    return fc.uniqueArray(fc.integer({ min: -60, max: 60 }), { minLength: n, maxLength: n }).map((xs) => fromBuffer(xs.map((v) => v / 10), shape) as Tensor)
  }
  const x = normal(1, [5, 3])
  const onInput = (layer: AnyLayer, options?: { min?: number; max?: number; awayFrom?: readonly number[]; margin?: number }) => ({
    f: (t: Tensor) => Layer.apply(layer, {}, t) as Tensor,
    inputs: tensorOf([3, 4], options)
  })
  const conv = Conv.conv2d(2, 3, 3, { stride: 2, padding: 1 })
  const bn = Norm.batchNorm(3)
  const bn2 = Norm.batchNorm2d(2)
  const ramp = fromBuffer(Array.from({ length: 16 }, (_, i) => (i % 4) * 0.9 + Math.floor(i / 8)), [2, 2, 2, 2]) as Tensor
  const mlp = Layer.sequential(Layers.dense(3, 4), Layers.tanh(), Layers.dense(4, 2))
  const block = Combinators.residual(Layer.sequential(Layers.dense(3, 3), Layers.tanh(), Layers.dense(3, 3)))
  const drop = Layers.dropout(0.5)
  const cases: LayerCase[] = [
    { name: 'dense', f: lossOf(Layers.dense(3, 4), x, [4]), inputs: dense(3, 4) },
    { name: 'prelu', f: lossOf(Layers.prelu(3), x, [3]), inputs: fc.record({ alpha: p([3]) }) },
    {
      name: 'conv2d',
      f: ({ x: input, w, b }: { x: Tensor; w: Tensor; b: Tensor }) => Layer.apply(conv, { w, b } as never, input) as Tensor,
      inputs: fc.record({ x: tensorOf([2, 2, 5, 4]), w: tensorOf([3, 2, 3, 3]), b: tensorOf([3]) })
    },
    { name: 'maxPool2d', f: (t: Tensor) => Layer.apply(Conv.maxPool2d(2), {}, t) as Tensor, inputs: distinct([2, 2, 4, 4]) },
    {
      name: 'batchNorm',
      f: ({ params, x: input }: { params: unknown; x: Tensor }) => lossOf(bn, input, [3], true)(params),
      inputs: fc.record({
        params: fc.record({ gamma: p([3], 0.5, 2), beta: p([3]) }),
        x: tensorOf([4, 3], { min: -0.4, max: 0.4 }).map((t) => add(t, fromBuffer([0, 1, 2, 3.5], [4, 1]) as Tensor) as Tensor)
      })
    },
    {
      name: 'batchNorm2d',
      f: ({ params, x: input }: { params: unknown; x: Tensor }) => lossOf(bn2, input, [2, 2, 2], true)(params),
      inputs: fc.record({
        params: fc.record({ gamma: p([2], 0.5, 2), beta: p([2]) }),
        x: tensorOf([2, 2, 2, 2], { min: -0.3, max: 0.3 }).map((t) => add(t, ramp) as Tensor)
      })
    },
    { name: 'dropout (training)', f: (t: Tensor) => drop.forward({}, t, { training: true, key: Random.key(3), state: drop.initState() }).y as Tensor, inputs: tensorOf([3, 4]) },
    { name: 'sequential (dense, tanh, dense)', f: lossOf(mlp, x, [2]), inputs: fc.record({ layers: fc.tuple(dense(3, 4), fc.constant({}), dense(4, 2)) }) },
    { name: 'residual', f: lossOf(block, x, [3]), inputs: fc.record({ layers: fc.tuple(dense(3, 3), fc.constant({}), dense(3, 3)) }) },
    { name: 'relu', ...onInput(Layers.relu(), { awayFrom: [0], margin: 0.1 }) },
    { name: 'leakyRelu', ...onInput(Layers.leakyRelu(0.1), { awayFrom: [0], margin: 0.1 }) },
    { name: 'elu', ...onInput(Layers.elu(), { awayFrom: [0], margin: 0.1 }) },
    { name: 'gelu', ...onInput(Layers.gelu()) },
    { name: 'sigmoid', ...onInput(Layers.sigmoid()) },
    { name: 'tanh', ...onInput(Layers.tanh()) },
    { name: 'softplus', ...onInput(Layers.softplus()) },
    { name: 'softmax', ...onInput(Layers.softmax()) },
    { name: 'logSoftmax', ...onInput(Layers.logSoftmax()) },
    { name: 'flatten', f: (t: Tensor) => Layer.apply(Layers.flatten(), {}, t) as Tensor, inputs: tensorOf([2, 2, 3]) }
  ]
  return cases
}

/** Runs the harness; `only` (names, primitives or layers) restricts it. */
export const gradcheck = async (runs: number, seed: number | undefined, only: readonly string[] | undefined): Promise<GradcheckRow[]> => {
  const fc = (await import('fast-check')).default
  const { checkPrimitive } = await import('../../laws/primitive-laws.js')
  const { checkGradient, LawFailure } = await import('../../laws/run.js')
  const { tensorOf } = await import('../../laws/arbitrary.js')
  const wanted = (name: string) => only === undefined || only.includes(name)
  const options = seed === undefined ? {} : { seed }
  const rows: GradcheckRow[] = []
  const failed = (kind: GradcheckRow['kind'], name: string, e: unknown): GradcheckRow => {
    if (!(e instanceof LawFailure) && !(e instanceof Error)) throw e
    return { kind, name, cases: 0, maxError: Number.NaN, tolerance: Number.NaN, ok: false, failure: (e.message.split('\n')[0] ?? '').trim() }
  }
  const second = Math.max(1, Math.round(runs / 5))
  for (const prim of Prim.names) {
    if (!wanted(prim)) continue
    try {
      const reports = checkPrimitive(prim, { gradient: runs, jvp: runs, innerProduct: runs, forwardReverse: second, secondOrder: second }, options)
      const worst = reports.reduce((a, b) => (b.maxError / b.tolerance > a.maxError / a.tolerance ? b : a))
      rows.push({ kind: 'primitive', name: prim, cases: reports.reduce((n, r) => n + r.cases, 0), maxError: worst.maxError, tolerance: worst.tolerance, ok: reports.every((r) => r.maxError <= r.tolerance) })
    } catch (e) {
      rows.push(failed('primitive', prim, e))
    }
  }
  for (const c of layerCases(fc, tensorOf as never)) {
    if (!wanted(c.name)) continue
    try {
      const report = checkGradient(c.f as (x: unknown) => Tensor, c.inputs, { ...options, numRuns: runs, ...(c.seed === undefined ? {} : { seed: c.seed }) })
      rows.push({ kind: 'layer', name: c.name, cases: report.cases, maxError: report.maxError, tolerance: report.tolerance, ok: report.maxError <= report.tolerance })
    } catch (e) {
      rows.push(failed('layer', c.name, e))
    }
  }
  if (only !== undefined) {
    const known = new Set(rows.map((r) => r.name))
    const unknown = only.filter((n) => !known.has(n))
    if (unknown.length > 0) throw new UsageError(`--only: no primitive or layer named ${unknown.map((n) => `'${n}'`).join(', ')}`)
  }
  return rows
}

/** The rows as a text table. */
export const renderGradcheck = (rows: readonly GradcheckRow[]): string => {
  const header = ['kind', 'name', 'cases', 'max rel. error', 'tolerance', 'verdict']
  const cells = rows.map((r) => [
    r.kind,
    r.name,
    String(r.cases),
    Number.isNaN(r.maxError) ? '—' : r.maxError.toExponential(2),
    Number.isNaN(r.tolerance) ? '—' : r.tolerance.toExponential(0),
    r.ok ? 'ok' : `FAIL${r.failure === undefined ? '' : `: ${r.failure}`}`
  ])
  const widths = header.map((h, c) => Math.max(h.length, ...cells.slice(0).map((r) => (c === 5 ? 0 : r[c]!.length))))
  const line = (row: readonly string[]) => row.map((cell, c) => (c === 5 ? cell : c >= 2 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd()
  return [line(header), line(widths.map((w, c) => '-'.repeat(c === 5 ? 7 : w))), ...cells.map(line)].join('\n')
}

interface GradcheckCliOptions {
  readonly runs: string
  readonly seed?: string
  readonly only?: string
  readonly json?: boolean
}

/** `lamina gradcheck`. */
export const gradcheckCommand: Subcommand = (program, { io, exit }) => {
  program
    .command('gradcheck')
    .summary('check every derivative against finite differences (the law harness)')
    .description(
      'Run the gradient-law harness over every primitive (reverse and forward mode vs finite differences, the inner-product identity, forward/reverse agreement, Hessian symmetry, Hessian-vector products) and every layer kind (the parameter and input gradients vs finite differences), and print a table: name, cases, the largest relative error, the verdict. Exit 1 if any law fails.'
    )
    .option('--runs <n>', 'generated cases per law (the second-order laws get a fifth)', '50')
    .option('--seed <n>', 'fast-check seed, to replay a run')
    .option('--only <names>', 'only these primitives or layers, comma-separated (e.g. tanh,matmul,dense)')
    .option('--json', 'print the rows as JSON')
    .addHelpText('after', '\nExamples:\n  $ lamina gradcheck --runs 20\n  $ lamina gradcheck --only tanh,dense,conv2d --json\n')
    .action(async (options: GradcheckCliOptions) => {
      const runs = intOption('--runs', options.runs, 1)
      const seed = options.seed === undefined ? undefined : intOption('--seed', options.seed, 0)
      const only = options.only?.split(',').map((s) => s.trim()).filter((s) => s !== '')
      let rows: GradcheckRow[]
      try {
        rows = await gradcheck(runs, seed, only)
      } catch (e) {
        if (e instanceof UsageError) throw e
        if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') throw new CommandFailure('gradcheck needs fast-check (a devDependency of lamina): npm install fast-check')
        throw e
      }
      const failures = rows.filter((r) => !r.ok).length
      if (options.json === true) {
        io.stdout(`${JSON.stringify({ runs, seed: seed ?? null, ok: failures === 0, rows: rows.map((r) => ({ ...r, maxError: Number.isNaN(r.maxError) ? null : r.maxError, tolerance: Number.isNaN(r.tolerance) ? null : r.tolerance })) }, null, 2)}\n`)
      } else {
        io.stdout(`${renderGradcheck(rows)}\n\n${rows.length - failures} of ${rows.length} passed${failures === 0 ? '' : `, ${failures} failed`}\n`)
      }
      exit(failures === 0 ? ExitCode.ok : ExitCode.failed)
    })
}
