// Seed 001: with a linear activation σ(x) = αx + β𝟙, a deep MLP is one affine map
// f(x) = A⁽ᴸ⁾x + B⁽ᴸ⁾ "with a peculiar parametrization". A 3-8-8-6-8-5-2 network (L = 6) is
// collapsed by the seed's recurrence and compared with its own outputs on random inputs;
// ReLU breaks the collapse (the midpoint test of affinity fails).
//
//   npx tsx --conditions=lamina-src examples/affine-collapse/main.ts [--out DIR]
import { fileURLToPath } from 'node:url'
import { dots, figure, line, outDirFromArgs, palette, writeSvg } from '../plot/svg.js'
import type { Mark, Point } from '../plot/svg.js'
import { Random, tensor } from 'lamina-nn'
import { affine, collapse, compare, initParams, inputs, midpointDefect, network, widths } from './lib.js'
import type { Activation } from './lib.js'

const outDir = outDirFromArgs('affine-collapse', fileURLToPath(new URL('./out/', import.meta.url)))
const seed = 0
const n = 1000
const params = initParams(seed)
const x = inputs(seed + 1, n)
const x2 = inputs(seed + 2, n)
const show = (t: { toArray(): unknown }) => JSON.stringify(t.toArray(), (_, v) => (typeof v === 'number' ? +v.toFixed(6) : v))

console.log(`seed 001: a ${widths.join('-')} MLP (L = ${widths.length - 1} dense layers, each followed by σ), weights and biases from Random.key(${seed})`)
console.log(`${n} random inputs x ~ N(0, I) from Random.key(${seed + 1}); f(x) compared with A⁽ᴸ⁾x + B⁽ᴸ⁾ from the recurrence\n`)

const linears: (Activation & { kind: 'linear' })[] = [
  { kind: 'linear', alpha: 1, beta: 0 },
  { kind: 'linear', alpha: 0.5, beta: 0.1 },
  { kind: 'linear', alpha: 1.5, beta: -0.3 }
]
for (const a of linears) {
  const r = compare(a, params, x)
  console.log(`σ(x) = ${a.alpha}x ${a.beta < 0 ? '−' : '+'} ${Math.abs(a.beta)}${a.alpha === 1 && a.beta === 0 ? ' (identity)' : ''}:`)
  console.log(`  A⁽ᴸ⁾ = ${show(r.A)}`)
  console.log(`  B⁽ᴸ⁾ = ${show(r.B)}`)
  console.log(`  max |f(x) − (A⁽ᴸ⁾x + B⁽ᴸ⁾)| / max |f(x)| over ${n} inputs: ${r.relative.toExponential(2)} (max |f(x)| = ${r.scale.toFixed(4)}) — within 1e-12: ${r.ok}`)
  console.log(`  midpoint defect max |f((x + x′)/2) − (f(x) + f(x′))/2|: ${midpointDefect((v) => network(a, params, v), x, x2).toExponential(2)}`)
}
const relu: Activation = { kind: 'relu' }
const reluDefect = midpointDefect((v) => network(relu, params, v), x, x2)
console.log(`σ = relu (same weights):`)
console.log(`  midpoint defect max |f((x + x′)/2) − (f(x) + f(x′))/2|: ${reluDefect.toExponential(2)} — not affine`)

// along a line x(s) = p + s·d through input space the linear-activation network is a straight
// line in output space and the ReLU network is piecewise linear with kinks
const [kp, kd] = Random.split(Random.key(seed + 3))
const p0 = Random.normal(kp!, [3]).data
const d = Random.normal(kd!, [3]).data
const ss = Array.from({ length: 201 }, (_, i) => -3 + (6 * i) / 200)
const along = tensor(ss.map((s) => [0, 1, 2].map((j) => p0[j]! + s * d[j]!)))
const curves = (a: Activation) => {
  const y = network(a, params, along).toArray() as number[][]
  return [0, 1].map((k) => ss.map((s, i) => [s, y[i]![k]!] as const))
}
const identity = linears[0]!
const map = collapse(params, identity.alpha, identity.beta)
const collapsed = affine(map, along).toArray() as number[][]
const marks = (a: Activation, label: string): Mark[] =>
  curves(a).map((pts, k) => line(pts, palette[k]!, { width: 2, label: `${label}: output ${k + 1}` }))
const everyTenth = (k: number): Point[] => ss.flatMap((s, i) => (i % 10 === 0 ? [[s, collapsed[i]![k]!] as const] : []))
const all = [...curves(identity), ...curves(relu)].flat().map((q) => q[1])
const y: readonly [number, number] = [Math.min(...all) - 0.2, Math.max(...all) + 0.2]
const svg = figure(
  [
    {
      title: 'identity activation: f = A⁽ᴸ⁾x + B⁽ᴸ⁾',
      x: [-3, 3],
      y,
      xLabel: 's, along x = p + s·d',
      yLabel: 'f(x)',
      marks: [...marks(identity, 'network'), dots(everyTenth(0), '#222', { radius: 2, label: 'A⁽ᴸ⁾x + B⁽ᴸ⁾' }), dots(everyTenth(1), '#222', { radius: 2 })]
    },
    { title: 'ReLU activation: piecewise linear', x: [-3, 3], y, xLabel: 's, along x = p + s·d', marks: marks(relu, 'network') }
  ],
  { title: `A ${widths.join('-')} MLP along a line through input space` }
)
console.log(`\nwrote ${writeSvg(outDir, 'affine-collapse.svg', svg)}`)
