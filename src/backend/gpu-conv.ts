/**
 * GPU.js kernels for the NCHW convolution, its two transposes and pooling (the geometry of
 * `conv.ts`: stride, dilation, padding per side). Direct loops: one output element per thread
 * on a 3-D grid `[width, height, image·channel]`, each looping over its taps with literal bounds
 * and skipping those in the padding. The image and channel of a thread come from
 * ⌊(z + ½)/n⌋, which no rounding of a float quotient can push across an integer.
 *
 * Indices are integer expressions on webasm (thread ids, `(v | 0)` of variables and counters,
 * literals), exact up to 2³¹; on the GL modes GPU.js writes the variables as floats, exact below
 * 2²⁴ elements. A plan is `undefined` where the kernel would not be exact or complete — a
 * buffer of 2²⁴ elements or more on GL, a thread's loops past llvmpipe's trip limit on GL —
 * and the backend then runs the cpu's.
 *
 * @module
 */
import type { Buffer, DType } from '../tensor.js'
import * as Sh from '../shape.js'
import type { Shape } from '../shape.js'
import * as Conv from './conv.js'
import type { ConvGeometry, Pair, PoolGeometry, WindowWeights } from './conv.js'
import type { PoolDims } from './wasm/conv-f32.js'
import { glModes } from './gpu-module.js'
import { finished, fresh, toF32 } from './gpu-plans.js'
import type { Plan } from './gpu-plans.js'
import { MAX_TRIPS, counterOf, times, tripLimited } from './gpu-sources.js'
import type { Counter } from './gpu-sources.js'
import { float32Literal } from './kernel-expressions.js'

/**
 * Whether the backend runs these kernels on `mode`: on the GL modes, where a real GPU may run
 * them. Not on webasm, where they would run on the same cores as the cpu backend's WebAssembly
 * SIMD im2col and product, which measured 2–100 times faster at LeNet's sizes
 * (`bench/gpu-conv.ts`), nor on GPU.js's JavaScript `cpu` mode.
 */
export const runsConvolutions = (mode: string): boolean => glModes.has(mode)

/** Float index arithmetic is exact below this many elements (the GL modes). */
const F32_EXACT = 2 ** 24

/** `index + offset` for a signed literal offset. */
const shifted = (index: string, offset: number): string => (offset === 0 ? index : offset > 0 ? `${index} + ${offset}` : `${index} - ${-offset}`)

/** A launch's grid: `[columns, rows, planes]`, 2-D when there is one plane (`this.thread.z` then reads as 0). */
const grid = (columns: number, rows: number, planes: number): { output: number[]; z: string } =>
  planes > 1 ? { output: [columns, rows, planes], z: 'this.thread.z' } : { output: [columns, rows], z: '0' }

/** Whether `mode` can run a kernel over these buffers, whose threads loop `trips` times. */
const fits = (mode: string, trips: number, ...sizes: number[]): boolean =>
  !(glModes.has(mode) && sizes.some((n) => n >= F32_EXACT)) && !(tripLimited(mode) && trips > MAX_TRIPS)

/**
 * The output index `name` along one axis whose tap `t` (a counter) lands on input index `at`:
 * `(at + before − t·d)/s`, which exists when it is an integer in `[0, out)`. Answers the lines
 * that declare it and the condition that it exists.
 */
const sourceOf = (int: Counter, name: string, at: string, before: number, t: string, d: number, s: number, out: number): { lines: string[]; inside: string } => {
  const offset = `${name}t`
  const lines = [`const ${offset} = ${shifted(at, before)} - ${times(int(t), d)};`]
  if (s === 1) return { lines: [...lines, `const ${name} = ${offset};`], inside: `${offset} >= 0 && ${offset} < ${out}` }
  lines.push(`const ${name} = Math.floor((${offset} + 0.5) / ${s});`)
  return { lines, inside: `${offset} >= 0 && ${int(name)} * ${s} == ${offset} && ${name} < ${out}` }
}

const indent = (lines: readonly string[], depth: number): string => lines.map((l) => `${'  '.repeat(depth)}${l}`).join('\n')

const launch = (name: string, source: string, output: number[], args: readonly Buffer[], length: number, dtype: DType): Plan<Buffer> => ({
  launch: { name, source, output, args: args.map(toF32), length, finish: (data) => finished(fresh(data.subarray(0, length), dtype)) }
})

/** `y = x ⋆ w (+ bias)` (see {@link Conv.conv2d}), or `undefined` for the cpu's. */
export const conv2dPlan = (mode: string, x: Buffer, xShape: Shape, w: Buffer, wShape: Shape, g: ConvGeometry, dtype: DType, bias?: Buffer): Plan<Buffer> | undefined => {
  const d = Conv.dimsOf(xShape, wShape, Conv.conv2dShape(xShape, wShape, g), g)
  const size = d.b * d.o * d.ho * d.wo
  if (size * d.c * d.kh * d.kw === 0 || !fits(mode, d.c * (1 + d.kh * (1 + d.kw)), x.length, w.length, size)) return undefined
  const int = counterOf(mode)
  const [sh, sw] = g.stride
  const [dh, dw] = g.dilation
  const [top, , left] = g.padding
  const { output, z } = grid(d.wo, d.ho, d.b * d.o)
  // thread (x, y, z): output column j, row i, and z = image·O + channel
  const source = [
    `function (x, w${bias !== undefined ? ', bias' : ''}) {`,
    indent([`const n = Math.floor((${z} + 0.5) / ${d.o});`, `const o = ${z} - ${times(int('n'), d.o)};`, 'let s = 0.0;'], 1),
    `  for (let c = 0; c < ${d.c}; c++) {`,
    `    for (let u = 0; u < ${d.kh}; u++) {`,
    `      const ih = ${shifted(`${times('this.thread.y', sh)} + ${times(int('u'), dh)}`, -top)};`,
    `      if (ih >= 0 && ih < ${d.h}) {`,
    `        for (let v = 0; v < ${d.kw}; v++) {`,
    `          const iw = ${shifted(`${times('this.thread.x', sw)} + ${times(int('v'), dw)}`, -left)};`,
    `          if (iw >= 0 && iw < ${d.w}) {`,
    `            s += x[(${times(`${times(int('n'), d.c)} + ${int('c')}`, d.h)} + ${int('ih')}) * ${d.w} + ${int('iw')}] * w[(${times(`${times(int('o'), d.c)} + ${int('c')}`, d.kh)} + ${int('u')}) * ${d.kw} + ${int('v')}];`,
    '          }',
    '        }',
    '      }',
    '    }',
    '  }',
    `  return ${bias !== undefined ? `s + bias[${int('o')}]` : 's'};`,
    '}'
  ].join('\n')
  return launch('conv2d', source, output, bias !== undefined ? [x, w, bias] : [x, w], size, dtype)
}

/** The convolution's input gradient (see {@link Conv.conv2dInputGrad}), or `undefined` for the cpu's. */
export const conv2dInputGradPlan = (mode: string, ct: Buffer, ctShape: Shape, w: Buffer, wShape: Shape, g: ConvGeometry, inputSize: Pair, dtype: DType): Plan<Buffer> | undefined => {
  const xShape = [ctShape[0]!, wShape[1]!, inputSize[0], inputSize[1]]
  const want = Conv.conv2dShape(xShape, wShape, g, 'conv2dInputGrad')
  if (!Sh.equals(ctShape, want)) return undefined // the cpu's names the mismatch
  const d = Conv.dimsOf(xShape, wShape, ctShape, g)
  const size = d.b * d.c * d.h * d.w
  if (size * d.o * d.kh * d.kw === 0 || !fits(mode, d.o * (1 + d.kh * (1 + d.kw)), ct.length, w.length, size)) return undefined
  const int = counterOf(mode)
  const [sh, sw] = g.stride
  const [dh, dw] = g.dilation
  const [top, , left] = g.padding
  const { output, z } = grid(d.w, d.h, d.b * d.c)
  // thread (x, y, z): input column, row, and z = image·C + channel; tap (u, v) of output (i, j) reads it when i·sh + u·dh − top = y
  const row = sourceOf(int, 'i', 'this.thread.y', top, 'u', dh, sh, d.ho)
  const column = sourceOf(int, 'j', 'this.thread.x', left, 'v', dw, sw, d.wo)
  const source = [
    'function (ct, w) {',
    indent([`const n = Math.floor((${z} + 0.5) / ${d.c});`, `const c = ${z} - ${times(int('n'), d.c)};`, 'let s = 0.0;'], 1),
    `  for (let o = 0; o < ${d.o}; o++) {`,
    `    for (let u = 0; u < ${d.kh}; u++) {`,
    indent(row.lines, 3),
    `      if (${row.inside}) {`,
    `        for (let v = 0; v < ${d.kw}; v++) {`,
    indent(column.lines, 5),
    `          if (${column.inside}) {`,
    `            s += ct[(${times(`${times(int('n'), d.o)} + ${int('o')}`, d.ho)} + ${int('i')}) * ${d.wo} + ${int('j')}] * w[(${times(`${times(int('o'), d.c)} + ${int('c')}`, d.kh)} + ${int('u')}) * ${d.kw} + ${int('v')}];`,
    '          }',
    '        }',
    '      }',
    '    }',
    '  }',
    '  return s;',
    '}'
  ].join('\n')
  return launch('conv2dInputGrad', source, output, [ct, w], size, dtype)
}

/** The convolution's filter gradient (see {@link Conv.conv2dFilterGrad}), or `undefined` for the cpu's. */
export const conv2dFilterGradPlan = (mode: string, x: Buffer, xShape: Shape, ct: Buffer, ctShape: Shape, g: ConvGeometry, kernel: Pair, dtype: DType): Plan<Buffer> | undefined => {
  const wShape = [ctShape[1]!, xShape[1]!, kernel[0], kernel[1]]
  const want = Conv.conv2dShape(xShape, wShape, g, 'conv2dFilterGrad')
  if (!Sh.equals(ctShape, want)) return undefined // the cpu's names the mismatch
  const d = Conv.dimsOf(xShape, wShape, ctShape, g)
  const size = d.o * d.c * d.kh * d.kw
  if (size * d.b * d.ho * d.wo === 0 || !fits(mode, d.b * (1 + d.ho * (1 + d.wo)), x.length, ct.length, size)) return undefined
  const int = counterOf(mode)
  const [sh, sw] = g.stride
  const [dh, dw] = g.dilation
  const [top, , left] = g.padding
  const { output, z } = grid(d.kw, d.kh, d.o * d.c)
  // thread (x, y, z): tap column v, row u, and z = out channel·C + in channel
  const source = [
    'function (x, ct) {',
    indent([`const o = Math.floor((${z} + 0.5) / ${d.c});`, `const c = ${z} - ${times(int('o'), d.c)};`, 'let s = 0.0;'], 1),
    `  for (let n = 0; n < ${d.b}; n++) {`,
    `    for (let i = 0; i < ${d.ho}; i++) {`,
    `      const ih = ${shifted(`${times(int('i'), sh)} + ${times('this.thread.y', dh)}`, -top)};`,
    `      if (ih >= 0 && ih < ${d.h}) {`,
    `        for (let j = 0; j < ${d.wo}; j++) {`,
    `          const iw = ${shifted(`${times(int('j'), sw)} + ${times('this.thread.x', dw)}`, -left)};`,
    `          if (iw >= 0 && iw < ${d.w}) {`,
    `            s += ct[(${times(`${times(int('n'), d.o)} + ${int('o')}`, d.ho)} + ${int('i')}) * ${d.wo} + ${int('j')}] * x[(${times(`${times(int('n'), d.c)} + ${int('c')}`, d.h)} + ${int('ih')}) * ${d.w} + ${int('iw')}];`,
    '          }',
    '        }',
    '      }',
    '    }',
    '  }',
    '  return s;',
    '}'
  ].join('\n')
  return launch('conv2dFilterGrad', source, output, [x, ct], size, dtype)
}

/**
 * A kernel over every window (thread (x, y, z): window column, row, plane) that runs `body`
 * for each tap inside the image with `at`, the tap's flat index in the input, and `tap`, its
 * index `u·kw + v` within the window.
 */
const overWindows = (d: PoolDims, g: PoolGeometry, int: Counter, z: string, params: string, start: readonly string[], body: (at: string, tap: string) => readonly string[], result: string): string =>
  [
    `function (${params}) {`,
    indent(start, 1),
    `  for (let u = 0; u < ${d.kh}; u++) {`,
    `    const ih = ${shifted(`${times('this.thread.y', g.stride[0])} + ${int('u')}`, -g.padding[0])};`,
    `    if (ih >= 0 && ih < ${d.h}) {`,
    `      for (let v = 0; v < ${d.kw}; v++) {`,
    `        const iw = ${shifted(`${times('this.thread.x', g.stride[1])} + ${int('v')}`, -g.padding[2])};`,
    `        if (iw >= 0 && iw < ${d.w}) {`,
    indent(body(`(${times(z, d.h)} + ${int('ih')}) * ${d.w} + ${int('iw')}`, `${times(int('u'), d.kw)} + ${int('v')}`), 5),
    '        }',
    '      }',
    '    }',
    '  }',
    `  return ${result};`,
    '}'
  ].join('\n')

/** The window's flat index: `(plane·Ho + row)·Wo + column`. */
const windowIndex = (d: PoolDims, z: string): string => `${times(`${times(z, d.ho)} + this.thread.y`, d.wo)} + this.thread.x`

/** The maximum of each window (see {@link Conv.maxPool2d}), or `undefined` for the cpu's. */
export const maxPool2dPlan = (mode: string, x: Buffer, shape: Shape, g: PoolGeometry, dtype: DType): Plan<Buffer> | undefined => {
  const out = Conv.pool2dShape(shape, g, 'maxPool2d')
  const d = Conv.poolDims(shape, out, g)
  const size = Sh.size(out)
  if (size === 0 || !fits(mode, d.kh * (1 + d.kw), x.length)) return undefined
  const int = counterOf(mode)
  const { output, z } = grid(d.wo, d.ho, d.planes)
  // every window holds a tap of the image (the padding is smaller than the window); NaN wins, as in the max reduction
  const source = overWindows(d, g, int, z, 'x', ['let m = 0.0;', 'let f = 1;'], (at) => [`const t = x[${at}];`, 'if (f == 1 || t > m || t != t) {', '  m = t;', '}', 'f = 0;'], 'm')
  return launch('maxPool2d', source, output, [x], size, dtype)
}

/** The weighted sum of each window (see {@link Conv.avgPool2d}), or `undefined` for the cpu's. */
export const avgPool2dPlan = (mode: string, x: Buffer, shape: Shape, g: PoolGeometry, weights: WindowWeights | undefined, dtype: DType): Plan<Buffer> | undefined => {
  const out = Conv.pool2dShape(shape, g, 'avgPool2d')
  const d = Conv.poolDims(shape, out, g)
  const size = Sh.size(out)
  const taps = d.kh * d.kw
  const extra = weights === undefined ? [] : [weights.values]
  // the cpu's names a wrong number of weights
  if (weights !== undefined && weights.values.length !== size * taps) return undefined
  if (size === 0 || !fits(mode, d.kh * (1 + d.kw), x.length, ...extra.map((e) => e.length))) return undefined
  const int = counterOf(mode)
  const { output, z } = grid(d.wo, d.ho, d.planes)
  const win = windowIndex(d, z)
  const source =
    weights === undefined
      ? overWindows(d, g, int, z, 'x', ['let s = 0.0;'], (at) => [`s += x[${at}];`], `s * ${float32Literal(1 / taps)!}`)
      : overWindows(d, g, int, z, 'x, omega', ['let s = 0.0;'], (at, tap) => [`s += omega[${times(win, taps)} + ${tap}] * x[${at}];`], 's')
  return launch('avgPool2d', source, output, [x, ...extra], size, dtype)
}

/** Max pooling's JVP (see {@link Conv.maxPool2dGather}), or `undefined` for the cpu's. */
export const maxPool2dGatherPlan = (mode: string, t: Buffer, x: Buffer, max: Buffer, shape: Shape, g: PoolGeometry, dtype: DType): Plan<Buffer> | undefined => {
  const out = Conv.pool2dShape(shape, g, 'maxPool2dGather')
  const d = Conv.poolDims(shape, out, g)
  const size = Sh.size(out)
  // the cpu's names wrong lengths
  if (t.length !== Sh.size(shape) || x.length !== t.length || max.length !== size) return undefined
  if (size === 0 || !fits(mode, d.kh * (1 + d.kw), t.length, x.length, max.length)) return undefined
  const int = counterOf(mode)
  const { output, z } = grid(d.wo, d.ho, d.planes)
  const win = windowIndex(d, z)
  // the taps equal to the window's maximum share it; none match only a NaN maximum, and the result is that NaN (the cpu's 0/0)
  const start = [`const m = mx[${win}];`, 'let hits = 0.0;', 'let s = 0.0;']
  const body = (at: string): string[] => [`if (input[${at}] == m) {`, '  hits += 1.0;', `  s += x[${at}];`, '}']
  const source = overWindows(d, g, int, z, 'x, input, mx', start, body, 'hits == 0.0 ? m : s / hits')
  return launch('maxPool2dGather', source, output, [t, x, max], size, dtype)
}

/** The transpose of the window sum (see {@link Conv.avgPool2dTranspose}), or `undefined` for the cpu's. */
export const avgPool2dTransposePlan = (
  mode: string,
  ct: Buffer,
  ctShape: Shape,
  g: PoolGeometry,
  weights: WindowWeights | undefined,
  inputSize: Pair,
  dtype: DType
): Plan<Buffer> | undefined => {
  const shape = [ctShape[0]!, ctShape[1]!, inputSize[0], inputSize[1]]
  const out = Conv.pool2dShape(shape, g, 'avgPool2dTranspose')
  const windows = Sh.size(out)
  const taps = g.kernel[0] * g.kernel[1]
  // the cpu's names a wrong cotangent or number of weights
  if (!Sh.equals(out, ctShape)) return undefined
  if (weights !== undefined && weights.values.length !== windows * taps) return undefined
  if (weights === undefined) return spreadPlan('avgPool2dTranspose', mode, shape, out, g, 'ct', [`s += ct[WIN];`], `s * ${float32Literal(1 / taps)!}`, [ct], 1, dtype)
  const tap = (int: (v: string) => string): string => `${times(int('u'), g.kernel[1])} + ${int('v')}`
  return spreadPlan('avgPool2dTranspose', mode, shape, out, g, 'ct, omega', (int) => [`s += omega[${times('WIN', taps)} + ${tap(int)}] * ct[WIN];`], 's', [ct, weights.values], 1, dtype)
}

/** Max pooling's VJP (see {@link Conv.maxPool2dSpread}), or `undefined` for the cpu's. */
export const maxPool2dSpreadPlan = (mode: string, ct: Buffer, x: Buffer, max: Buffer, shape: Shape, g: PoolGeometry, dtype: DType): Plan<Buffer> | undefined => {
  const out = Conv.pool2dShape(shape, g, 'maxPool2dSpread')
  const d = Conv.poolDims(shape, out, g)
  // the cpu's names wrong lengths
  if (x.length !== Sh.size(shape) || ct.length !== Sh.size(out) || max.length !== ct.length) return undefined
  // the window's ties with its maximum share its cotangent; a NaN maximum ties with nothing and spreads NaN over the window, as the cpu's
  const add = (int: (v: string) => string, z: string): string[] => [
    'const m = mx[WIN];',
    'let hits = 0.0;',
    `for (let uu = 0; uu < ${d.kh}; uu++) {`,
    `  const th = ${shifted(`${times(int('r'), g.stride[0])} + ${int('uu')}`, -g.padding[0])};`,
    `  if (th >= 0 && th < ${d.h}) {`,
    `    for (let vv = 0; vv < ${d.kw}; vv++) {`,
    `      const tw = ${shifted(`${times(int('q'), g.stride[1])} + ${int('vv')}`, -g.padding[2])};`,
    `      if (tw >= 0 && tw < ${d.w} && input[(${times(z, d.h)} + ${int('th')}) * ${d.w} + ${int('tw')}] == m) {`,
    '        hits += 1.0;',
    '      }',
    '    }',
    '  }',
    '}',
    'if (hits == 0.0) {',
    '  s += m;',
    `} else if (input[${times(`${times(z, d.h)} + this.thread.y`, d.w)} + this.thread.x] == m) {`,
    '  s += ct[WIN] / hits;',
    '}'
  ]
  return spreadPlan('maxPool2dSpread', mode, shape, out, g, 'ct, input, mx', add, 's', [ct, x, max], 1 + d.kh * (1 + d.kw), dtype)
}

/**
 * A kernel with one thread per input element summing what the windows that cover it send back:
 * `add` (its `WIN` is the window's flat index) runs for each tap `(u, v)` of window `(r, q)`
 * that is this element; `inner` is the trips of `add`'s own loops.
 */
const spreadPlan = (
  name: string,
  mode: string,
  shape: Shape,
  out: Shape,
  g: PoolGeometry,
  params: string,
  add: string[] | ((int: (v: string) => string, z: string) => string[]),
  result: string,
  args: readonly Buffer[],
  inner: number,
  dtype: DType
): Plan<Buffer> | undefined => {
  const d = Conv.poolDims(shape, out, g)
  const size = Sh.size(shape)
  const trips = d.kh * (1 + d.kw * inner)
  if (size === 0 || !fits(mode, trips, size, ...args.map((a) => a.length))) return undefined
  const int = counterOf(mode)
  const { output, z } = grid(d.w, d.h, d.planes)
  // thread (x, y, z): input column, row, plane; tap (u, v) of window (r, q) is it when r·sh + u − top = y
  const row = sourceOf(int, 'r', 'this.thread.y', g.padding[0], 'u', 1, g.stride[0], d.ho)
  const column = sourceOf(int, 'q', 'this.thread.x', g.padding[2], 'v', 1, g.stride[1], d.wo)
  const win = `${times(`${times(z, d.ho)} + ${int('r')}`, d.wo)} + ${int('q')}`
  const lines = (typeof add === 'function' ? add(int, z) : add).map((l) => l.split('WIN').join(`(${win})`))
  const source = [
    `function (${params}) {`,
    '  let s = 0.0;',
    `  for (let u = 0; u < ${d.kh}; u++) {`,
    indent(row.lines, 2),
    `    if (${row.inside}) {`,
    `      for (let v = 0; v < ${d.kw}; v++) {`,
    indent(column.lines, 4),
    `        if (${column.inside}) {`,
    indent(lines, 5),
    '        }',
    '      }',
    '    }',
    '  }',
    `  return ${result};`,
    '}'
  ].join('\n')
  return launch(name, source, output, args, size, dtype)
}
