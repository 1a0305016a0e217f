// Universal approximation with ReLUs (seeds 001 and 004): a pulse from exactly four ReLUs,
// and sin on [−π, π] as a sum of n ReLUs (the piecewise-linear interpolant at n + 1 knots),
// each a one-hidden-layer lamina network with hand-set weights. The error shrinks as O(1/n²).
//
//   npx tsx --conditions=lamina-src examples/universal-approximation/main.ts [--out DIR]
import { fileURLToPath } from 'node:url'
import { dots, figure, line, outDirFromArgs, palette, sample, writeSvg } from '../plot/svg.js'
import type { Mark } from '../plot/svg.js'
import { errorTable, evaluate, interpolant, knots, logLogSlope, pulse, pulseExact } from './lib.js'

const outDir = outDirFromArgs('universal-approximation', fileURLToPath(new URL('./out/', import.meta.url)))

// 1. the pulse
const [a, b, delta, height] = [-1, 1, 0.25, 1]
const p = pulse(a, b, delta, height)
const exact = pulseExact(a, b, delta, height)
const xs = Array.from({ length: 33 }, (_, i) => -2 + i / 8)
const ys = evaluate(p, xs)
const worstPulse = Math.max(...xs.map((x, i) => Math.abs(ys[i]! - exact(x))))
console.log('seed 004: a pulse from 4 ReLUs, (relu(x − a) − relu(x − a − δ) − relu(x − b) + relu(x − b − δ))·h/δ')
console.log(`  a = ${a}, b = ${b}, δ = ${delta}, h = ${height}: hidden weights w = [${p.w.join(', ')}], biases [${p.b.join(', ')}], output weights ω = [${p.omega.join(', ')}]`)
const probes = [a - 0.5, a, a + delta / 2, a + delta, (a + b) / 2, b, b + delta / 2, b + delta, b + 0.5]
const probed = evaluate(p, probes)
console.log(`  x:          ${probes.map((x) => x.toFixed(3).padStart(8)).join('')}`)
console.log(`  network:    ${probed.map((y) => y.toFixed(3).padStart(8)).join('')}`)
console.log(`  definition: ${probes.map((x) => exact(x).toFixed(3).padStart(8)).join('')}`)
console.log(`  max |network − definition| over ${xs.length} points x = −2, −1.875, …, 2: ${worstPulse}`)

// 2. sin by n ReLUs
const table = errorTable()
console.log('\nseed 001: sin on [−π, π] as a sum of n ReLUs (piecewise-linear interpolation at n + 1 knots), max error on 20001 points')
console.log(`${'n'.padStart(6)}${'max error'.padStart(14)}${'n²·error'.padStart(11)}${'ratio'.padStart(8)}`)
for (const r of table) console.log(`${String(r.n).padStart(6)}${r.error.toExponential(4).padStart(14)}${r.scaled.toFixed(4).padStart(11)}${(Number.isNaN(r.ratio) ? '' : r.ratio.toFixed(3)).padStart(8)}`)
const slope = logLogSlope(table.slice(2))
console.log(`log-log slope of the error for n ≥ 8: ${slope.toFixed(4)} (O(1/n²) is −2); n²·error → (2π)²/8 = π²/2 = ${(Math.PI ** 2 / 2).toFixed(4)}`)

// the plots: the pulse and its four ReLUs, sin and its approximations, the error against n
const relus: Mark[] = p.b.map((bias, k) =>
  line(sample((x) => p.omega[k]! * Math.max(0, x + bias), -2, 2, 81), palette[(k + 2) % palette.length]!, { dash: '4 3', width: 1, ...(k === 0 ? { label: 'ω_k relu(x + b_k)' } : {}) })
)
const curve = (n: number, color: string): Mark[] => {
  const r = interpolant(n)
  const grid = Array.from({ length: 401 }, (_, i) => -Math.PI + (2 * Math.PI * i) / 400)
  const v = evaluate(r, grid)
  return [line(grid.map((x, i) => [x, v[i]!] as const), color, { label: `${n} ReLUs` }), dots(knots(n).map((t) => [t, Math.sin(t)] as const), color, { radius: 2.5 })]
}
const svg = figure(
  [
    { title: 'a pulse from 4 ReLUs (a = −1, b = 1, δ = ¼)', x: [-2, 2], y: [-4.5, 4.5], xLabel: 'x', marks: [...relus, line(sample(exact, -2, 2, 401), '#222', { width: 2, label: 'pulse' })] },
    {
      title: 'sin x and sums of n ReLUs',
      x: [-Math.PI, Math.PI],
      y: [-1.2, 1.4],
      xLabel: 'x',
      marks: [line(sample(Math.sin, -Math.PI, Math.PI, 401), '#222', { width: 2.5, label: 'sin x' }), ...curve(4, palette[0]), ...curve(8, palette[1]), ...curve(16, palette[2])]
    },
    {
      title: 'max error against width n',
      x: [1, 1000],
      y: [1e-5, 10],
      xScale: 'log',
      yScale: 'log',
      xLabel: 'n (ReLUs)',
      yLabel: 'max |g − sin|',
      marks: [
        line(table.map((r) => [r.n, r.error] as const), palette[0], { label: 'measured' }),
        dots(table.map((r) => [r.n, r.error] as const), palette[0]),
        line([1, 1000].map((n) => [n, Math.PI ** 2 / 2 / n ** 2] as const), '#999', { dash: '4 3', label: 'π²/(2n²)' })
      ]
    }
  ],
  { title: 'Universal approximation with ReLUs' }
)
console.log(`\nwrote ${writeSvg(outDir, 'universal-approximation.svg', svg)}`)
