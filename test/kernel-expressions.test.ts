/**
 * The kernel-expression table (src/backend/kernel-expressions.ts) against the cpu reference on
 * hostile values: ±0, ±Infinity, NaN, float32's extremes, the branch points of the forms
 * (erf's 0.5, the sign of pow's base). Every entry is evaluated three ways:
 * - as JavaScript in float64 (the forms' own mathematics, before any float32 rounding);
 * - by GPU.js on webasm (float32, every mode's arithmetic at its most exact);
 * - by GPU.js on headlessgl where it starts (`xvfb-run -a`), on the finite inputs of modest size
 *   with finite results (GLSL leaves NaN and Infinity undefined, and llvmpipe's transcendental
 *   functions are looser).
 *
 * The reference is the cpu backend in float64 on the float32 inputs (`Math.pow` and
 * `Math.sign` for `power` and `sign`, whose forward passes call them), rounded to float32 once:
 * - operations IEEE rounds correctly (arithmetic, sqrt, comparisons, selection, max/min) must
 *   give exactly that float32 (on webasm and in float64: float64 holds the exact result of
 *   float32 operands before the one rounding);
 * - the transcendental ones are within a few ulps (erf within its form's 13 ulps, measured);
 * - NaN where the reference is NaN, the same infinity where it is infinite; a zero's sign is
 *   not checked (pow(−0, 3) is +0 in the form, −0 in Math.pow).
 *
 * A case list that misses an entry of the table fails, so a new primitive gets checked here.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { cpu } from '../src/backend/cpu.js'
import type { BinaryOp, Relation, UnaryOp } from '../src/backend/backend.js'
import { makeEngine, runSync } from '../src/backend/gpu-engine.js'
import type { Engine } from '../src/backend/gpu-engine.js'
import { loadGpuModule, message } from '../src/backend/gpu-module.js'
import { finished } from '../src/backend/gpu-plans.js'
import { elementwiseSource } from '../src/backend/gpu-sources.js'
import { kernelExpressions } from '../src/backend/kernel-expressions.js'
import { isElementwise } from '../src/compiled/graph.js'
import * as Prim from '../src/prim.js'
import type { ElementwiseOp, ParamsOf } from '../src/backend/kernel-expressions.js'
import { unavailableTest } from './support/modes.js'

/** 2⁻²⁴: half an ulp of 1 in float32. */
const EPS = 2 ** -24

const hostile = [
  0, -0, 0.25, -0.25, 0.4999, -0.4999, 0.5, -0.5, 1, -1, 2.5, -3, 10, -10, 30, -30, 88, -88, 100, -100, 1e-30, -1e-30, 1e30, -1e30, Infinity, -Infinity, NaN
].map(Math.fround)

/** How close an interpreter must come to the rounded reference: exact, or within `ulps` (relative to 2⁻²⁴) plus an absolute floor. */
type Closeness = { readonly exact: true } | { readonly exact: false; readonly ulps: number; readonly floor: number }
const exact: Closeness = { exact: true }
const ulps = (n: number, floor = 2 ** -120): Closeness => ({ exact: false, ulps: n, floor })

interface Case {
  readonly title: string
  readonly op: ElementwiseOp
  readonly params: object
  /** The operands, each of the same length. */
  readonly operands: readonly Float32Array[]
  /** The cpu reference in float64. */
  readonly reference: (operands: readonly Float64Array[]) => ArrayLike<number>
  readonly closeness: Closeness
  /** Inputs whose reference is out of the form's reach, with the reason (none unless said). */
  readonly skip?: (inputs: readonly number[]) => boolean
}

/** Every pair of hostile values, as two operands. */
const pairs = (): [Float32Array, Float32Array] => {
  const a = hostile.flatMap((x) => hostile.map(() => x))
  const b = hostile.flatMap(() => hostile)
  return [Float32Array.from(a), Float32Array.from(b)]
}
const singles = (): [Float32Array] => [Float32Array.from(hostile)]

const binaryCase = (op: BinaryOp): Case => ({ title: op, op, params: {}, operands: pairs(), reference: ([a, b]) => cpu.binary(op, a!, b!, 'f64'), closeness: exact })
const unaryCase = (op: UnaryOp, closeness: Closeness): Case => ({ title: op, op, params: {}, operands: singles(), reference: ([x]) => cpu.unary(op, x!, 'f64'), closeness })
const relationCase = (relation: Relation): Case => ({
  title: `compare ${relation}`,
  op: 'compare',
  params: { relation },
  operands: pairs(),
  reference: ([a, b]) => cpu.compare(relation, a!, b!, 'f64'),
  closeness: exact
})
const powCase = (exponent: number, closeness: Closeness, skip?: Case['skip']): Case => ({
  title: `pow ${exponent}`,
  op: 'pow',
  params: { exponent },
  operands: singles(),
  reference: ([x]) => cpu.unary('pow', x!, 'f64', exponent),
  closeness,
  ...(skip !== undefined ? { skip } : {})
})

const relations: Relation[] = ['>', '<', '>=', '<=', '==', '!=']
const cases: Case[] = [
  ...(['add', 'sub', 'mul', 'div', 'maximum', 'minimum'] as const).map(binaryCase),
  ...(['neg', 'abs', 'relu', 'sqrt'] as const).map((op) => unaryCase(op, exact)),
  ...(['exp', 'log', 'tanh', 'sigmoid', 'softplus'] as const).map((op) => unaryCase(op, ulps(8))),
  // sin and cos of |x| ≥ 2²⁴ would measure GPU.js's argument reduction, not the table's form
  ...(['sin', 'cos'] as const).map((op) => ({ ...unaryCase(op, ulps(8, 8 * EPS)), skip: ([x]: readonly number[]) => Math.abs(x!) >= 2 ** 24 })),
  // the form's own error (Taylor to x⁹ below 0.5: 13 ulps at 0.5; Abramowitz–Stegun above), plus float32 arithmetic
  unaryCase('erf', ulps(20)),
  ...relations.map(relationCase),
  {
    title: 'select',
    op: 'select',
    params: {},
    // masks: zero, negative zero, one, NaN (non-zero, so true), two
    operands: [...pairs(), Float32Array.from({ length: hostile.length ** 2 }, (_, i) => [0, -0, 1, NaN, 2][i % 5]!)],
    reference: ([a, b, mask]) => cpu.select(mask!, a!, b!, 'f64'),
    closeness: exact
  },
  { title: 'sign', op: 'sign', params: {}, operands: singles(), reference: ([x]) => x!.map(Math.sign), closeness: exact },
  { title: 'stopGradient', op: 'stopGradient', params: {}, operands: singles(), reference: ([x]) => x!, closeness: exact },
  {
    title: 'power',
    op: 'power',
    params: {},
    operands: pairs(),
    reference: ([a, b]) => a!.map((v, i) => Math.pow(v, b![i]!)),
    closeness: ulps(8),
    // as pow's: −0 counts as a positive base, so (−0)^b for odd b < 0 is +∞ where Math.pow gives −∞
    skip: ([a, b]) => Object.is(a, -0) && b! < 0
  },
  powCase(0, exact),
  powCase(1, exact),
  powCase(2, exact),
  powCase(3, ulps(8)),
  // |v|^p with v's sign for odd p: −0 counts as positive, so (−0)^−1 is +∞ where Math.pow gives −∞
  powCase(-1, ulps(8), ([x]) => Object.is(x, -0)),
  powCase(-2, ulps(8)),
  powCase(2.5, ulps(8)),
  // the form is Math.sqrt: sqrt(−∞) is NaN where Math.pow(−∞, 0.5) is +∞ (IEEE pow's special case)
  powCase(0.5, exact, ([x]) => x === -Infinity)
]

it('the cases cover every entry of the table', () => {
  expect(new Set(cases.map((c) => c.op))).toEqual(new Set(Object.keys(kernelExpressions)))
})

/** An interpreter of the table: the values of `op` over `operands`. */
type Interpreter = (op: ElementwiseOp, params: object, operands: readonly Float32Array[]) => ArrayLike<number>

const names = ['a', 'b', 'c']

/** The kernel's own source, run as JavaScript in float64 with `this.thread.x` = i, the result rounded to float32. */
const float64: Interpreter = (op, params, operands) => {
  const source = elementwiseSource(op, names.slice(0, operands.length), params as ParamsOf<typeof op>)
  const kernel = new Function(`return ${source}`)() as (this: { thread: { x: number } }, ...args: Float64Array[]) => number
  const wide = operands.map((o) => Float64Array.from(o))
  // rounded to float32 once, as a float32 kernel's result is
  return Float32Array.from({ length: operands[0]!.length }, (_, x) => kernel.call({ thread: { x } }, ...wide))
}

const onEngine =
  (engine: Engine): Interpreter =>
  (op, params, operands) => {
    const n = operands[0]!.length
    const source = elementwiseSource(op, names.slice(0, operands.length), params as ParamsOf<typeof op>)
    return runSync(engine, { launch: { name: op, source, output: [n], args: operands, length: n, finish: (d) => finished(d.slice()) } })
  }

/** Where `got` differs from the float32-rounded reference beyond `closeness` (a few lines, empty when it agrees). */
const disagreements = (c: Case, got: ArrayLike<number>, inputs: (i: number) => number[], keep: (inputs: readonly number[], want: number) => boolean): string[] => {
  const want = c.reference(c.operands.map((o) => Float64Array.from(o)))
  const bad: string[] = []
  for (let i = 0; i < want.length; i++) {
    const xs = inputs(i)
    const w = Math.fround(want[i]!)
    if (!keep(xs, w) || c.skip?.(xs) === true) continue
    const g = got[i]!
    let ok: boolean
    if (Number.isNaN(w) || !Number.isFinite(w)) ok = Object.is(g, w)
    else if (c.closeness.exact) ok = g === w
    else ok = Number.isFinite(g) && Math.abs(g - want[i]!) <= (c.closeness.ulps + 1) * EPS * Math.abs(want[i]!) + c.closeness.floor
    if (!ok) bad.push(`${c.title}(${xs.join(', ')}) = ${g}, want ${w}`)
  }
  return bad.slice(0, 8)
}

const inputsOf = (c: Case) => (i: number) => c.operands.map((o) => o[i]!)
const everything = (): boolean => true

describe('float64 JavaScript', () => {
  it.each(cases.map((c) => [c.title, c] as const))('%s', (_, c) => {
    expect(disagreements(c, float64(c.op, c.params, c.operands), inputsOf(c), everything)).toEqual([])
  })
})

const gpuModule = await loadGpuModule()
const engines: Engine[] = []
afterAll(() => engines.forEach((e) => e.dispose()))

/** The engine of `mode`, proven by one kernel, or why it does not start here. */
const start = (mode: string): Engine | string => {
  try {
    const engine = makeEngine(new gpuModule.GPU({ mode }), gpuModule, mode, { strict: true, maxKernels: 256, asyncMode: false })
    engines.push(engine)
    const probe = onEngine(engine)('add', {}, [Float32Array.of(1, 2), Float32Array.of(3, 4)])
    if (probe[0] !== 4 || probe[1] !== 6) return `the probe kernel computed [${Array.from(probe).join(', ')}]`
    return engine
  } catch (e) {
    return message(e)
  }
}

describe('GPU.js webasm', () => {
  const engine = start('webasm')
  if (typeof engine === 'string') return unavailableTest({ mode: 'webasm', reason: engine, log: 'kernel-expressions' })
  it.each(cases.map((c) => [c.title, c] as const))('%s', (_, c) => {
    expect(disagreements(c, onEngine(engine)(c.op, c.params, c.operands), inputsOf(c), everything)).toEqual([])
  })
})

describe('GPU.js headlessgl', () => {
  const engine = start('headlessgl')
  if (typeof engine === 'string') return unavailableTest({ mode: 'headlessgl', reason: engine, log: 'kernel-expressions' })
  // finite inputs of modest size with a finite result (GLSL leaves pow(0, y < 0) undefined: llvmpipe gives 0);
  // llvmpipe's float32 within 2⁻¹² relative (GLSL ES highp's exp and log are that loose at |x| = 30)
  const modest = (xs: readonly number[], want: number): boolean => Number.isFinite(want) && xs.every((x) => Number.isFinite(x) && Math.abs(x) <= 30)
  it.each(cases.map((c) => [c.title, c] as const))('%s', (_, c) => {
    const loose: Case = { ...c, closeness: ulps(2 ** 12, 2 ** -20) }
    expect(disagreements(loose, onEngine(engine)(c.op, c.params, c.operands), inputsOf(c), modest)).toEqual([])
  })
})

describe('the compiled graph reads elementwise-ness off the same table', () => {
  it('an op is fused as elementwise exactly when it has a kernel expression', () => {
    for (const name of Prim.names) expect(isElementwise(name), name).toBe(Object.prototype.hasOwnProperty.call(kernelExpressions, name))
    // a sample checked by hand: maps of one element to one element, and ops that are not
    for (const op of ['add', 'relu', 'compare', 'select', 'stopGradient', 'pow', 'power']) expect(isElementwise(op as Prim.Prim), op).toBe(true)
    for (const op of ['matmul', 'sum', 'broadcast', 'transpose', 'conv2d', 'maxPool2dSpread', 'logsumexp']) expect(isElementwise(op as Prim.Prim), op).toBe(false)
  })
})
