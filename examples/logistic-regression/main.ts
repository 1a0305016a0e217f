// Seed 001's logistic regression, trained by gradient descent (η = 0.5, the seed's figure) on
// two Gaussian classes drawn with lamina's Random: the loss falls, the accuracy rises to near
// the Bayes rate Φ(√2) ≈ 0.921, and lamina's gradient matches the closed form Σ (σ(z) − t) x / n.
//
//   npx tsx --conditions=lamina-src examples/logistic-regression/main.ts [--out DIR]
import { fileURLToPath } from 'node:url'
import { dots, extent, figure, line, outDirFromArgs, palette, writeSvg } from '../plot/svg.js'
import type { Mark, Point } from '../plot/svg.js'
import { accuracy, closedFormGradient, gradientError, lossGradient, makeData, seedClosedFormGradient, seedLossGradient, train } from './lib.js'
import type { Params } from './lib.js'

const outDir = outDirFromArgs('logistic-regression', fileURLToPath(new URL('./out/', import.meta.url)))
const seed = 0
const n = 200
const data = makeData(seed, n)
const test = makeData(seed + 1, 2000)
console.log(`seed 001: logistic regression P(Y = 1 | x) = σ(w·x + b) on ${n} points from Random.key(${seed})`)
console.log('  class 0 ~ N((0, 0), I), class 1 ~ N((2, 2), I); Bayes accuracy Φ(√2) = 0.9214; test set: 2000 points from Random.key(1)\n')

const history = train(data, { lr: 0.5, steps: 300 })
console.log(`${'step'.padStart(6)}${'loss'.padStart(12)}${'accuracy'.padStart(10)}${'w₁'.padStart(10)}${'w₂'.padStart(10)}${'b'.padStart(10)}`)
const wb = (p: Params) => [...p.w.data, p.b.item()]
for (const h of history.filter((h) => [0, 1, 2, 3, 5, 10, 20, 50, 100, 200, 300].includes(h.step))) {
  console.log(`${String(h.step).padStart(6)}${h.loss.toFixed(6).padStart(12)}${h.accuracy.toFixed(3).padStart(10)}${wb(h.params).map((v) => v.toFixed(4).padStart(10)).join('')}`)
}
const last = history[history.length - 1]!
const falling = history.every((h, i) => i === 0 || h.loss < history[i - 1]!.loss)
console.log(`\nloss ${history[0]!.loss.toFixed(6)} → ${last.loss.toFixed(6)}, decreasing at every step: ${falling}`)
console.log(`training accuracy: ${last.accuracy.toFixed(3)}  test accuracy: ${accuracy(last.params, test).toFixed(4)}`)

// the gradient: lamina's reverse mode against the closed forms, at every iterate of training
const worst = Math.max(...history.map((h) => h.gradientError))
const seedWorst = Math.max(...history.map((h) => gradientError(seedLossGradient(h.params, data), seedClosedFormGradient(h.params, data))))
const g0 = lossGradient(history[1]!.params, data)
const c0 = closedFormGradient(history[1]!.params, data)
console.log(`gradient at step 1: lamina ${JSON.stringify([...g0.w.data, ...g0.b.data])}`)
console.log(`             closed form ${JSON.stringify(c0.g)}`)
console.log(`max gradient error over all ${history.length} iterates (relative to Σ|terms|): mean BCE vs Σ(σ(z) − t)x/n: ${worst.toExponential(2)}; seed's −Σ log σ(y z) vs −Σ y σ(−y z) x: ${seedWorst.toExponential(2)}`)

// the points and the decision boundary w·x + b = 0 as it moves during training
const xs = [...data.x.data]
const pts = (cls: number): Point[] => data.t.flatMap((t, i) => (t === cls ? [[xs[2 * i]!, xs[2 * i + 1]!] as const] : []))
const xDomain = extent(xs.filter((_, i) => i % 2 === 0))
const yDomain = extent(xs.filter((_, i) => i % 2 === 1))
const boundary = (p: Params): Point[] => {
  const [w1, w2, b] = wb(p) as [number, number, number]
  // w₁x + w₂y + b = 0, drawn along whichever axis it is less steep against
  return Math.abs(w2) >= Math.abs(w1)
    ? xDomain.map((x) => [x, -(w1 * x + b) / w2] as const)
    : yDomain.map((y) => [-(w2 * y + b) / w1, y] as const)
}
const boundaries: Mark[] = [1, 5, 20].map((k, i) => line(boundary(history[k]!.params), '#999', { dash: '4 3', width: 1, opacity: 0.5 + 0.15 * i, ...(i === 0 ? { label: 'steps 1, 5, 20' } : {}) }))
const svg = figure(
  [
    {
      title: `two Gaussian classes, boundary after ${last.step} steps`,
      x: xDomain,
      y: yDomain,
      xLabel: 'x₁',
      yLabel: 'x₂',
      marks: [
        dots(pts(0), palette[0], { radius: 2.5, label: 'class 0' }),
        dots(pts(1), palette[1], { radius: 2.5, label: 'class 1' }),
        ...boundaries,
        line(boundary(last.params), '#222', { width: 2, label: `w·x + b = 0 (acc ${last.accuracy.toFixed(2)})` })
      ]
    },
    {
      title: 'training loss (mean cross-entropy)',
      x: [0, last.step],
      y: [0, Math.ceil(history[0]!.loss * 10) / 10],
      xLabel: 'step',
      yLabel: 'loss',
      marks: [line(history.map((h) => [h.step, h.loss] as const), palette[2], { label: 'loss' }), line(history.map((h) => [h.step, 1 - h.accuracy] as const), palette[4], { label: 'training error rate' })]
    }
  ],
  { title: 'Logistic regression by gradient descent (η = 0.5)', panelWidth: 460, panelHeight: 380 }
)
console.log(`\nwrote ${writeSvg(outDir, 'logistic-regression.svg', svg)}`)
