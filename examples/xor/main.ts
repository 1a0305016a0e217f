// Seed 003's "Learning XOR": the exact ReLU solution reproduces XOR, the best linear model
// (the normal equations) predicts ½ everywhere, and a 2-2-1 ReLU network trained by
// gradient descent learns XOR — from some initial weights, not all.
//
//   npx tsx --conditions=lamina-src examples/xor/main.ts [--out DIR]
import { fileURLToPath } from 'node:url'
import { tensor } from 'lamina-nn'
import type { Tensor } from 'lamina-nn'
import { dots, figure, outDirFromArgs, palette, text, writeSvg } from '../plot/svg.js'
import type { Mark, Panel, Point } from '../plot/svg.js'
import { X, exactSolution, fitLinear, forward, hidden, normalEquations, solvesXor, successfulSeeds, targets, trainXor } from './lib.js'

const outDir = outDirFromArgs('xor', fileURLToPath(new URL('./out/', import.meta.url)))
const rows = X.toArray() as number[][]
const fmt = (v: number, d = 6) => (Math.abs(v) < 0.5 * 10 ** -d ? 0 : v).toFixed(d)
const vec = (vs: readonly number[], d = 6) => `[${vs.map((v) => fmt(v, d)).join(', ')}]`

// 1. the exact solution
console.log('seed 003: XOR on X = [[0,0],[0,1],[1,0],[1,1]], targets [0, 1, 1, 0]\n')
console.log('1. exact ReLU network W = [[1,1],[1,1]], c = [0,-1], w = [1,-2], b = 0: y = relu(X·W + c)·w + b')
const h = hidden(exactSolution).toArray() as number[][]
const exact = [...forward(exactSolution).data]
rows.forEach((x, i) => console.log(`   x = [${x.join(', ')}]  h = [${h[i]!.join(', ')}]  y = ${exact[i]}  target ${targets[i]}`))
console.log(`   exact outputs: ${vec(exact, 0)}  reproduces XOR: ${exact.every((v, i) => v === targets[i])}`)

// 2. the linear model
const ne = normalEquations()
const gd = fitLinear()
console.log('\n2. linear model f(x) = xᵀw + b, J = ¼ Σ (f*(x) − f(x))²')
console.log(`   normal equations AᵀA θ = Aᵀy: AᵀA = ${JSON.stringify(ne.AtA)}, Aᵀy = ${JSON.stringify(ne.Aty)}`)
console.log(`   closed form: w = ${vec(ne.theta.slice(0, 2))}  b = ${fmt(ne.theta[2]!)}`)
console.log(`   gradient descent (lamina grad, η = 0.5, ${gd.steps} steps): w = ${vec(gd.w, 12)}  b = ${fmt(gd.b, 12)}  MSE = ${fmt(gd.mse, 12)}`)
console.log(`   linear outputs: ${vec(gd.outputs)}  reproduces XOR: ${solvesXor(gd.outputs)}`)

// 3. a trained 2-2-1 ReLU network, and how often gradient descent finds a solution
const seeds = Array.from({ length: 10 }, (_, i) => i)
const narrow = successfulSeeds(seeds, 2)
const wide = successfulSeeds(seeds, 8)
const seed = narrow[0] ?? 0
const trained = trainXor(seed, 2)
console.log('\n3. trained 2-2-1 ReLU network (Train.fit, MSE, Adam lr 0.05, 500 full-batch epochs)')
console.log(`   seed ${seed}: loss ${fmt(trained.firstLoss)} → ${trained.loss.toExponential(3)}`)
console.log(`   trained outputs: ${vec(trained.outputs)}  rounded: [${trained.outputs.map(Math.round).join(', ')}]  learns XOR: ${trained.solved}`)
const show = (t: Tensor) => JSON.stringify((t.toArray() as unknown as number[] | number[][]).map((r) => (Array.isArray(r) ? r.map((v) => +v.toFixed(4)) : +r.toFixed(4))))
console.log(`   learned W = ${show(trained.params.W)}, c = ${show(trained.params.c)}, w = ${show(trained.params.w)}, b = ${show(trained.params.b)}`)
console.log(`   seeds 0–9 that learn XOR: 2-2-1: [${narrow.join(', ')}] (${narrow.length}/10); 2-8-1: [${wide.join(', ')}] (${wide.length}/10)`)

// the output over the plane, as a grid of dots shaded from blue (y ≤ 0) to orange (y ≥ 1) in 5 steps
const grid: Point[] = []
for (let i = 0; i <= 20; i++) for (let j = 0; j <= 20; j++) grid.push([-0.2 + (1.4 * i) / 20, -0.2 + (1.4 * j) / 20])
const shades = ['#4e79a7', '#8e8f88', '#b8a27a', '#d9975a', '#f28e2b']
const panel = (title: string, f: (x: Tensor) => Tensor): Panel => {
  const ys = [...f(tensor(grid.map(([a, b]) => [a, b]))).data]
  const bin = (y: number) => Math.round(Math.min(1, Math.max(0, y)) * 4)
  const field: Mark[] = shades.map((color, k) => dots(grid.filter((_, i) => bin(ys[i]!) === k), color, { radius: 3.5, opacity: 0.4 }))
  const points: Mark[] = rows.map(([a, b], i) => dots([[a!, b!]], targets[i] === 1 ? palette[1] : palette[0], { radius: 7 }))
  const outputs = [...f(X).data]
  const labels: Mark[] = rows.map(([a, b], i) => text([a! === 1 ? a! - 0.36 : a! + 0.05, b! + 0.06], `y = ${fmt(outputs[i]!, 2)}`))
  return { title, x: [-0.2, 1.2], y: [-0.2, 1.2], xLabel: 'x₁', yLabel: 'x₂', marks: [...field, ...points, ...labels] }
}
const svg = figure(
  [
    panel('exact ReLU solution', (x) => forward(exactSolution, x)),
    panel('linear model (normal equations)', gd.predict),
    panel(`trained 2-2-1 ReLU (seed ${seed})`, (x) => trained.predict(x))
  ],
  { title: 'XOR: the output y over the plane (blue y ≤ 0 … orange y ≥ 1)', panelWidth: 380, panelHeight: 360 }
)
console.log(`\nwrote ${writeSvg(outDir, 'xor.svg', svg)}`)
