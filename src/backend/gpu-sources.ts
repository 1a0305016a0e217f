/**
 * The GPU.js kernel sources of the eager backend: products, reductions and elementwise
 * operations, written as strings (so no transpiler touches them) with sizes as integer
 * literals. Every array index is built from `this.thread.*`, loop counters (cast with `| 0` on
 * webasm) and integer literals only: GPU.js types a `const`, a float constant and, on webasm, a
 * bare loop counter as float, and a float index is wrong past 2²⁴ elements.
 *
 * @module
 */
import type { ReduceKind } from './backend.js'
import { glModes } from './gpu-module.js'
import { kernelExpression, lineEmitter } from './kernel-expressions.js'
import type { ElementwiseOp, ParamsOf } from './kernel-expressions.js'
import { GpuError } from './gpu-error.js'

/** `index · factor` as an index term (a literal index multiplied out). */
export const times = (index: string, factor: number): string =>
  // literals are multiplied here: GPU.js's GLSL may type an expression of literals as float
  /^\d+$/.test(index) ? String(Number(index) * factor) : factor === 1 ? index : `${/[+-]/.test(index) ? `(${index})` : index} * ${factor}`
/** `index + offset` for an offset ≥ 0. */
export const plus = (index: string, offset: number): string => (offset === 0 ? index : `${index} + ${offset}`)

/** The geometry of one product launch: `rb × cb` outputs per thread, A padded to `mPad` rows and B to `nPad` columns. */
export interface ProductPlan {
  readonly batch: number
  readonly m: number
  readonly k: number
  readonly n: number
  readonly transposeA: boolean
  readonly transposeB: boolean
  readonly rb: number
  readonly cb: number
  readonly mPad: number
  readonly nPad: number
  /** Elements of K per loop trip. */
  readonly unroll: number
}

/**
 * A loop counter as an integer index term. webasm types a bare counter as float (and a float
 * index is wrong past 2²⁴), `| 0` makes it an i32; GLSL counters are ints already, and GLSL ES
 * 1.0 has no `|` (GPU.js emulates it with a loop per use).
 */
export type Counter = (v: string) => string
export const counterOf = (mode: string): Counter => (mode === 'webasm' ? (v) => `(${v} | 0)` : (v) => v)

/**
 * Loop trips one kernel invocation may make on the GL modes and webgpu. llvmpipe (Mesa's software
 * GL, what headlessgl runs on without a GPU) ends a shader's loops after 65535 trips in all —
 * nested and sequential loops counted together — without a word, and so does lavapipe (Mesa's
 * software Vulkan, what webgpu runs on through Dawn without a GPU); longer work is unrolled
 * (several elements per trip) or split into passes.
 */
export const MAX_TRIPS = 60000
/** The modes whose shaders may run on llvmpipe or lavapipe, and so must stay within {@link MAX_TRIPS}. */
export const tripLimited = (mode: string): boolean => glModes.has(mode) || mode === 'webgpu'
/** Elements per loop trip in reductions. */
export const REDUCE_UNROLL = 8

/**
 * `body(i, j)` for every i in `from`…`from + n − 1` (`i` an integer expression, `j` its slot
 * 0…u−1 within a trip): ⌊n/u⌋ trips of u bodies, then the rest with single literal indices
 * (GPU.js's GLSL types a sum of two literals as float, which no array read accepts).
 */
export const unrolled = (counter: Counter, v: string, n: number, u: number, body: (i: string, j: number) => string, from = 0): string => {
  const trips = Math.floor(n / u)
  const slots = (count: number, at: (j: number) => string): string[] => Array.from({ length: count }, (_, j) => body(at(j), j))
  const loop = trips > 0 ? `  for (let ${v} = 0; ${v} < ${trips}; ${v}++) {\n${slots(u, (j) => plus(times(counter(v), u), j + from)).join('\n')}\n  }\n` : ''
  const rest = n - trips * u
  return loop + (rest > 0 ? `  {\n${slots(rest, (j) => String(trips * u + j + from)).join('\n')}\n  }\n` : '')
}

// K is unrolled by two (more where llvmpipe's trip limit needs it): fewer loop trips, and both
// modes measured faster (the summation order stays within the k·ε·(|A|·|B|) bound, which holds
// for any order)
export const productSource = (p: ProductPlan, counter: Counter): string => {
  const { batch, k, mPad, nPad, rb, cb, transposeA, transposeB, unroll } = p
  const aBase = batch > 1 ? `this.thread.z * ${mPad * k} + ` : ''
  const bBase = batch > 1 ? `this.thread.z * ${k * nPad} + ` : ''
  const row = (r: number): string => plus(times('this.thread.y', rb), r)
  const col = (c: number): string => plus(times('this.thread.x', cb), c)
  const aAt = (r: number, q: string): string => `a[${aBase}${transposeA ? `${times(q, mPad)} + ${row(r)}` : `${times(row(r), k)} + ${q}`}]`
  const bAt = (c: number, q: string): string => `b[${bBase}${transposeB ? `${times(col(c), k)} + ${q}` : `${times(q, nPad)} + ${col(c)}`}]`
  const rs = Array.from({ length: rb }, (_, r) => r)
  const cs = Array.from({ length: cb }, (_, c) => c)
  const cells = rs.flatMap((r) => cs.map((c) => `s${r}${c}`))
  // the loads of one element of K (slot j), then the multiply-adds of a whole trip
  const loads = (q: string, j: number): string =>
    [...rs.map((r) => `const a${r}u${j} = ${aAt(r, q)};`), ...cs.map((c) => `const b${c}u${j} = ${bAt(c, q)};`)].map((l) => `    ${l}`).join('\n')
  const adds = (count: number): string =>
    rs
      .flatMap((r) => cs.map((c) => `    s${r}${c} += ${Array.from({ length: count }, (_, j) => `a${r}u${j} * b${c}u${j}`).join(' + ')};`))
      .join('\n')
  const trips = Math.floor(k / unroll)
  const rest = k - trips * unroll
  const slot = (count: number, at: (j: number) => string): string => [...Array.from({ length: count }, (_, j) => loads(at(j), j)), adds(count)].join('\n')
  const loop = trips > 0 ? `  for (let q = 0; q < ${trips}; q++) {\n${slot(unroll, (j) => plus(times(counter('q'), unroll), j))}\n  }\n` : ''
  const tail = rest > 0 ? `  {\n${slot(rest, (j) => String(trips * unroll + j))}\n  }\n` : ''
  const result = cells.length === 1 ? cells[0]! : `[${cells.join(', ')}]`
  return `function (a, b) {\n${cells.map((c) => `  let ${c} = 0;`).join('\n')}\n${loop}${tail}  return ${result};\n}`
}

/**
 * The kernel of an elementwise operation over arguments named `names` (each read at
 * `this.thread.x`), from the kernel-expression table.
 */
export const elementwiseSource = <O extends ElementwiseOp>(op: O, names: readonly string[], params: ParamsOf<O>): string => {
  const emit = lineEmitter((v) => new GpuError(`gpu: ${op} needs the constant ${v}, which has no float32 literal`))
  const result = kernelExpression(op, names.map((n) => `${n}[this.thread.x]`), params, emit)
  return `function (${names.join(', ')}) {\n${emit.lines.map((l) => `  ${l}\n`).join('')}  return ${result};\n}`
}

/** One pass over `[outer, R, inner]`: the element `r` of the reduced run of this thread (one axis of the output dropped where it has size 1). */
const reducedAt = (outer: number, R: number, inner: number, r: string): string => {
  if (inner === 1) return `x[${outer === 1 ? '' : `${times('this.thread.x', R)} + `}${r}]`
  return `x[${outer === 1 ? '' : `${times('this.thread.y', R * inner)} + `}${times(r, inner)} + this.thread.x]`
}

/** The kernel of one reduction pass over `[outer, R, inner]`: `R` elements per output, NaN propagating through max and min. */
export const reduceSource = (kind: ReduceKind | 'logsumexp', outer: number, R: number, inner: number, counter: Counter): string => {
  const at = (r: string): string => reducedAt(outer, R, inner, r)
  const u = REDUCE_UNROLL
  if (kind === 'sum') return `function (x) {\n  let s = 0;\n${unrolled(counter, 'r', R, u, (r) => `    s += ${at(r)};`)}  return s;\n}`
  // max and min propagate NaN like the cpu backend
  const cmp = kind === 'min' ? '<' : '>'
  const extreme = `  let m = ${at('0')};\n${unrolled(counter, 'r', R - 1, u, (r, j) => `    const v${j} = ${at(r)};\n    if (v${j} ${cmp} m || v${j} != v${j}) {\n      m = v${j};\n    }`, 1)}`
  if (kind !== 'logsumexp') return `function (x) {\n${extreme}  return m;\n}`
  // log Σ e^(x − m) + m with m the maximum; an infinite or NaN maximum is the answer itself
  return `function (x) {\n${extreme}  if (!(Math.abs(m) < 3.0e38)) {\n    return m;\n  }\n  let s = 0;\n${unrolled(counter, 'q', R, u, (q) => `    s += Math.exp(${at(q)} - m);`)}  return Math.log(s) + m;\n}`
}

/** The longest reduced run one GL pass may take: its loops must stay within {@link MAX_TRIPS}. */
export const maxReducedRun = (kind: ReduceKind | 'logsumexp'): number => Math.floor(MAX_TRIPS / (kind === 'logsumexp' ? 2 : 1)) * REDUCE_UNROLL

/** What padding leaves a reduction unchanged. */
export const identities: { readonly [K in ReduceKind | 'logsumexp']: number } = { sum: 0, max: -Infinity, min: Infinity, logsumexp: -Infinity }

/** Output blocks per thread, best first: the lanes of webasm's SIMD share a row of A; on GL every read is a texture fetch, fewest with 2×2. */
export const productBlocks = (mode: string): readonly (readonly [number, number])[] =>
  glModes.has(mode) ? [[2, 2], [2, 1], [1, 2]] : mode === 'webasm' ? [[4, 1], [2, 1]] : []

/** The launch geometry of a product: the mode's largest output block that pads at most a quarter of the work, and the inner loop's unroll. */
export const planProduct = (
  mode: string,
  batch: number,
  m: number,
  k: number,
  n: number,
  transposeA: boolean,
  transposeB: boolean
): ProductPlan => {
  // two elements of K per trip, more where the trip limit of llvmpipe or lavapipe would end the loop early
  const unroll = tripLimited(mode) ? Math.max(2, Math.ceil(k / MAX_TRIPS)) : 2
  const base = { batch, m, k, n, transposeA, transposeB, unroll }
  for (const [rb, cb] of productBlocks(mode)) {
    const mPad = Math.ceil(m / rb) * rb
    const nPad = Math.ceil(n / cb) * cb
    // padding may waste at most a quarter of the work
    if (m >= rb && n >= cb && mPad * nPad <= 1.25 * m * n) return { ...base, rb, cb, mPad, nPad }
  }
  return { ...base, rb: 1, cb: 1, mPad: m, nPad: n }
}
