// Seed 000's gradient descent on f(x, y) = 1.5x² + y² + 2 from (3, 2.5), with the gradient
// from lamina's grad, for the learning rates of the seed's figures (0.1, 0.001, 0.665757)
// and the edge of stability (2/3) and beyond it (0.7). Prints the iterates beside the closed
// form x_k = (1 − 3η)^k x₀, y_k = (1 − 2η)^k y₀ and draws the trajectories.
//
//   npx tsx --conditions=lamina-src examples/gradient-descent/main.ts [--out DIR]
import { fileURLToPath } from 'node:url'
import { dots, figure, line, outDirFromArgs, palette, writeSvg } from '../plot/svg.js'
import type { Mark, Panel, Point } from '../plot/svg.js'
import { behaviour, checkClosedForm, closedForm, descend, rates, start, stepsTo } from './lib.js'

const outDir = outDirFromArgs('gradient-descent', fileURLToPath(new URL('./out/', import.meta.url)))
const steps = 100
const shown = new Set([0, 1, 2, 3, 4, 5, 10, 20, 50, 100])
const e = (v: number) => v.toExponential(12).padStart(20)

console.log(`seed 000: gradient descent on f(x, y) = 1.5x² + y² + 2 from (x₀, y₀) = (${start[0]}, ${start[1]}), ${steps} steps`)
console.log('the gradient (3x, 2y) comes from lamina grad; closed form x_k = (1 − 3η)^k x₀, y_k = (1 − 2η)^k y₀\n')

const runs = rates.map(({ eta, label }) => {
  const iterates = descend(eta, start, steps)
  const check = checkClosedForm(iterates, eta, start)
  const b = behaviour(iterates)
  console.log(`η = ${label}: 1 − 3η = ${(1 - 3 * eta).toFixed(6)}, 1 − 2η = ${(1 - 2 * eta).toFixed(6)}`)
  console.log(`${'k'.padStart(5)}${'x_k'.padStart(20)}${'y_k'.padStart(20)}${'f(x_k, y_k)'.padStart(20)}${'closed-form x_k'.padStart(20)}`)
  for (const it of iterates.filter((i) => shown.has(i.k))) {
    console.log(`${String(it.k).padStart(5)}${e(it.x)}${e(it.y)}${e(it.f)}${e(closedForm(eta, start, it.k)[0])}`)
  }
  const n = stepsTo(eta, start)
  console.log(
    `  result η = ${label}: ${b.behaviour}; measured x_{k+1}/x_k = ${b.rx.toFixed(6)}, y_{k+1}/y_k = ${b.ry.toFixed(6)}; ` +
      `max relative error vs closed form over all ${steps + 1} iterates = ${check.maxRelativeError.toExponential(2)}; ` +
      `steps to |θ − θ*| < 1e-6: ${Number.isFinite(n) ? n : 'never'}\n`
  )
  return { eta, label, iterates, ...b }
})

console.log('summary:')
for (const r of runs) console.log(`  η = ${r.label.padEnd(9)} ${r.behaviour.padEnd(11)} |x_100| = ${Math.abs(r.iterates[steps]!.x).toExponential(4)}, f(θ_100) = ${r.iterates[steps]!.f.toPrecision(8)}`)

// the trajectories over the contours of f, one panel per learning rate, and |θ_k| against k
const ellipse = (level: number): Point[] =>
  Array.from({ length: 121 }, (_, i) => {
    const t = (2 * Math.PI * i) / 120
    return [Math.sqrt(level / 1.5) * Math.cos(t), Math.sqrt(level) * Math.sin(t)] as const
  })
const contours: Mark[] = [0.5, 2, 4, 8, 12, 18, 26].map((c) => line(ellipse(c), '#ccc', { width: 1 }))
const panels: Panel[] = runs.map((r, i) => {
  const path = r.iterates.slice(0, r.eta < 0.01 ? steps + 1 : 40).map((it) => [it.x, it.y] as const)
  return {
    title: `η = ${r.label}: ${r.behaviour}`,
    x: [-4.5, 4.5],
    y: [-3.2, 3.2],
    xLabel: 'x',
    yLabel: 'y',
    marks: [...contours, line(path, palette[i]!, { width: 1.2 }), dots(path, palette[i]!, { radius: 2 }), dots([[0, 0]], '#000', { radius: 2.5 })]
  }
})
const norms: Panel = {
  title: 'distance to the minimum',
  x: [0, steps],
  y: [1e-12, 1e5],
  yScale: 'log',
  xLabel: 'step k',
  yLabel: 'max(|x_k|, |y_k|)',
  marks: runs.map((r, i) =>
    line(
      r.iterates.map((it) => [it.k, Math.max(Math.abs(it.x), Math.abs(it.y))] as const),
      palette[i]!,
      { label: `η = ${r.label}` }
    )
  )
}
const svg = figure([...panels, norms], { title: 'Gradient descent on f(x, y) = 1.5x² + y² + 2 (first 40 steps; η = 0.001: 100)', columns: 3 })
console.log(`\nwrote ${writeSvg(outDir, 'trajectories.svg', svg)}`)
