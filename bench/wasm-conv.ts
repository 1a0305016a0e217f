// The float32 convolution and pooling kernels of the cpu backend at LeNet-5's shapes (batch 64),
// each timed alone: the fastest and the median of repeated calls, in ms, copies in and out
// included. For before/after comparisons of a kernel change on a shared, noisy machine, where
// the fastest round is the steadier figure.
//
//   node --import tsx --conditions=lamina-src bench/wasm-conv.ts [--rounds 30]
import { parseArgs } from 'node:util'
import { cpu } from 'lamina-nn'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '30' } } })
const rounds = Number(values.rounds)

let seed = 1
const random = (n: number, positive = false): Float32Array =>
  Float32Array.from({ length: n }, () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    const u = seed / 2 ** 31
    return positive ? u : u - 0.5
  })

const time = (name: string, f: () => unknown): void => {
  for (let r = 0; r < 5; r++) f() // past V8's baseline (Liftoff) code
  const times: number[] = []
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now()
    f()
    times.push(performance.now() - t0)
  }
  times.sort((a, b) => a - b)
  console.log(`${name.padEnd(34)} best ${times[0]!.toFixed(3).padStart(7)} ms  median ${times[times.length >> 1]!.toFixed(3).padStart(7)} ms`)
}

const B = 64
const layers = [
  { name: 'conv1 1→6 5x5 pad2 28x28', c: 1, o: 6, h: 28, pad: 2 },
  { name: 'conv2 6→16 5x5 14x14', c: 6, o: 16, h: 14, pad: 0 }
] as const
for (const l of layers) {
  const g = { stride: [1, 1], dilation: [1, 1], padding: [l.pad, l.pad, l.pad, l.pad] } as const
  const xShape = [B, l.c, l.h, l.h]
  const wShape = [l.o, l.c, 5, 5]
  const ho = l.h + 2 * l.pad - 4
  const yShape = [B, l.o, ho, ho]
  const x = random(B * l.c * l.h * l.h, true)
  const w = random(l.o * l.c * 25)
  const bias = random(l.o)
  const ct = random(B * l.o * ho * ho)
  time(`${l.name} forward+bias`, () => cpu.conv2d(x, xShape, w, wShape, g, 'f32', bias))
  time(`${l.name} input grad`, () => cpu.conv2dInputGrad(ct, yShape, w, wShape, g, [l.h, l.h], 'f32'))
  time(`${l.name} filter grad`, () => cpu.conv2dFilterGrad(x, xShape, ct, yShape, g, [5, 5], 'f32'))
  const pool = { kernel: [2, 2], stride: [2, 2], padding: [0, 0, 0, 0] } as const
  const y = cpu.unary('relu', random(B * l.o * ho * ho), 'f32')
  const max = cpu.maxPool2d(y, yShape, pool, 'f32')
  const pct = random(max.length)
  time(`${l.name} maxpool 2x2`, () => cpu.maxPool2d(y, yShape, pool, 'f32'))
  time(`${l.name} maxpool 2x2 grad`, () => cpu.maxPool2dSpread(pct, y, max, yShape, pool, 'f32'))
  const zeros = new Float32Array(y.length)
  time(`${l.name} relu' (compare >)`, () => cpu.compare('>', y, zeros, 'f32'))
}
