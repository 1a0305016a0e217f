/**
 * PyTorch's figures for the `--gpu` work, measured in the same device call by
 * scripts/pytorch-reference.py (its last line, saved to a file and passed as `--pytorch FILE`),
 * decoded and checked against the sizes this run used, so that a ratio never compares
 * different work.
 */
import { readFileSync } from 'node:fs'
import * as t from 'io-ts'
import { isLeft } from 'fp-ts/lib/Either.js'
import { PathReporter } from 'io-ts/lib/PathReporter.js'

const Figure = t.type({ value: t.number, low: t.number, high: t.number, reps: t.number })
const Reference = t.type({
  torch: t.string,
  device: t.string,
  quick: t.boolean,
  W1_gflops: t.record(t.string, Figure),
  MLP_samples_per_s: Figure,
  mlp: t.type({ inp: t.number, hidden: t.number, out: t.number, batch: t.number })
})
export type PytorchReference = t.TypeOf<typeof Reference>

/** The reference in `file`, or why it cannot be used for a run of these sizes. */
export const readPytorchReference = (
  file: string,
  run: { readonly quick: boolean; readonly mlp: { readonly input: number; readonly hidden: number; readonly classes: number; readonly batch: number } }
): PytorchReference | string => {
  let raw: unknown
  try {
    const lines = readFileSync(file, 'utf8').trim().split('\n')
    raw = JSON.parse(lines[lines.length - 1] ?? '')
  } catch (e) {
    return `cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`
  }
  const decoded = Reference.decode(raw)
  if (isLeft(decoded)) return `${file} is not scripts/pytorch-reference.py's output: ${PathReporter.report(decoded).slice(0, 2).join('; ')}`
  const ref = decoded.right
  const m = run.mlp
  if (ref.quick !== run.quick || ref.mlp.inp !== m.input || ref.mlp.hidden !== m.hidden || ref.mlp.out !== m.classes || ref.mlp.batch !== m.batch) {
    return `${file} measured other sizes (quick ${ref.quick}, MLP ${ref.mlp.inp}-${ref.mlp.hidden}-${ref.mlp.hidden}-${ref.mlp.out} b=${ref.mlp.batch})`
  }
  return ref
}
