// The regression example's data: y = sin(x₁) + ½·x₂² + noise, x₁ and x₂ uniform in [−2, 2],
// noise normal with σ = 0.1, drawn from lamina's seeded generator, so the files are the same
// on every machine. Written as CSV (columns x1, x2, y; six decimals) for `lamina train --task
// regression`: train.csv (1,000 rows, seed 1) and test.csv (250 rows, seed 2).
//
//   npx tsx --conditions=lamina-src examples/regression/generate.ts [folder]
//
// The noise bounds what any model can reach: Var(y − noise) ≈ 0.95 (sin(x₁) about 0.595,
// ½·x₂² about 0.356), so the best R² is about 1 − 0.01/0.96 ≈ 0.99.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Random } from 'lamina-nn'

/** The noise-free target. */
export const target = (x1: number, x2: number): number => Math.sin(x1) + 0.5 * x2 * x2

/** The noise's standard deviation. */
export const noise = 0.1

/** The CSV text of `rows` examples drawn from `seed`. */
export const csv = (rows: number, seed: number): string => {
  const [kx, kn] = Random.split(Random.key(seed))
  const x = Random.uniform(kx!, [rows, 2], { low: -2, high: 2 }).data
  const e = Random.normal(kn!, [rows]).data
  const lines = ['x1,x2,y']
  for (let i = 0; i < rows; i++) {
    const [x1, x2] = [x[2 * i]!, x[2 * i + 1]!]
    lines.push(`${x1.toFixed(6)},${x2.toFixed(6)},${(target(x1, x2) + noise * e[i]!).toFixed(6)}`)
  }
  return `${lines.join('\n')}\n`
}

const here = fileURLToPath(new URL('.', import.meta.url))
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const folder = process.argv[2] ?? here
  writeFileSync(join(folder, 'train.csv'), csv(1000, 1))
  writeFileSync(join(folder, 'test.csv'), csv(250, 2))
  console.log(`wrote ${join(folder, 'train.csv')} and ${join(folder, 'test.csv')}`)
}
