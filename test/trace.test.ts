/**
 * The teaching view (src/ad/trace.ts): seed 004's forward primal trace and reverse adjoint
 * trace computed from the primitive rules, the tangent column, the renderers (pinned by
 * snapshots), tensor expressions, and the gradient against `grad`.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import * as Trace from '../src/ad/trace.js'
import type { Formula, Scalar } from '../src/ad/trace.js'
import {
  ArgumentError, DifferentiationError, Numerics, Tensor, add, cos, div, exp, grad, jvp, log, matmul, mul, neg, pow, power, relu, reshape,
  sigmoid, sin, slice, softplus, sqrt, sub, sum, tanh, tensor, zeros, ones
} from 'lamina-nn'
import * as Expr from '../src/expr/evaluate.js'
import { main } from '../src/cli/main.js'

type Seed = { readonly x1: Scalar; readonly x2: Scalar }

/** Seed 004, y = ln(x1) + x1·x2 − sin(x2), its steps in the order of the seed's table. */
const seed004 = ({ x1, x2 }: Seed): Tensor => {
  const v1 = log(x1)
  const v2 = mul(x1, x2)
  const v3 = sin(x2)
  const v4 = add(v1, v2)
  return sub(v4, v3)
}

const SEED_EXPRESSION = 'ln(x1) + x1*x2 - sin(x2)'
const round3 = (v: number) => Math.round(v * 1000) / 1000
const item = (t: Tensor | undefined) => t!.item()

describe('seed 004: y = ln(x1) + x1·x2 − sin(x2) at (2, 5)', () => {
  const t = Trace.trace(seed004, { x1: 2, x2: 5 })

  it('the forward primal trace: one row per step, values computed', () => {
    expect(t.inputs).toEqual(['x1', 'x2'])
    expect(t.rows.map((r) => [r.index, r.name, r.op, r.expression])).toEqual([
      [-1, 'v₋₁', 'input', 'x1'],
      [0, 'v₀', 'input', 'x2'],
      [1, 'v₁', 'log', 'ln v₋₁'],
      [2, 'v₂', 'mul', 'v₋₁ × v₀'],
      [3, 'v₃', 'sin', 'sin v₀'],
      [4, 'v₄', 'add', 'v₁ + v₂'],
      [5, 'v₅', 'sub', 'v₄ − v₃']
    ])
    expect(t.rows.map((r) => r.operands)).toEqual([[], [], [-1], [-1, 0], [0], [1, 2], [4, 3]])
    const expected = [2, 5, Math.log(2), 2 * 5, Math.sin(5), Math.log(2) + 10, Math.log(2) + 10 - Math.sin(5)]
    t.rows.forEach((r, k) => {
      expect(r.shape).toEqual([])
      expect(r.value.item()).toBeCloseTo(expected[k]!, 14)
    })
    expect(t.output).toBe(5)
    expect(round3(item(t.rows[6]?.value))).toBe(11.652)
    expect(t.rows.every((r) => r.tangent === undefined)).toBe(true)
  })

  it('the reverse adjoint trace: the steps in sweep order, with their partials and contributions', () => {
    expect(item(t.seed)).toBe(1)
    const cos5 = Math.cos(5)
    expect(t.adjoints.map((s) => [s.target, s.source, s.partial, s.accumulates])).toEqual([
      [4, 5, '1', false], //      v̄₄ = v̄₅ × 1
      [3, 5, '−1', false], //     v̄₃ = v̄₅ × (−1)
      [1, 4, '1', false], //      v̄₁ = v̄₄ × 1
      [2, 4, '1', false], //      v̄₂ = v̄₄ × 1
      [0, 3, 'cos v₀', false], // v̄₀ = v̄₃ × cos v₀
      [-1, 2, 'v₀', false], //    v̄₋₁ = v̄₂ × v₀
      [0, 2, 'v₋₁', true], //     v̄₀ = v̄₀ + v̄₂ × v₋₁
      [-1, 1, '1/v₋₁', true] //   v̄₋₁ = v̄₋₁ + v̄₁/v₋₁
    ])
    const contributions = [1, -1, 1, 1, -cos5, 5, 2, 1 / 2]
    const accumulated = [1, -1, 1, 1, -cos5, 5, 2 - cos5, 5.5]
    t.adjoints.forEach((s, k) => {
      expect(s.contribution.item()).toBeCloseTo(contributions[k]!, 14)
      expect(s.accumulated.item()).toBeCloseTo(accumulated[k]!, 14)
    })
    expect(round3(item(t.adjoints[4]?.contribution))).toBe(-0.284)
  })

  it('x̄1 accumulates its uses in v₂ and v₁ (5 + 0.5 = 5.5), x̄2 its uses in v₃ and v₂ (1.716)', () => {
    const toX1 = t.adjoints.filter((s) => s.target === -1)
    expect(toX1.map((s) => [s.source, s.accumulates, s.contribution.item()])).toEqual([
      [2, false, 5],
      [1, true, 0.5]
    ])
    expect(toX1[1]!.accumulated.item()).toBe(5.5)
    const toX2 = t.adjoints.filter((s) => s.target === 0)
    expect(toX2.map((s) => [s.source, s.accumulates])).toEqual([
      [3, false],
      [2, true]
    ])
    expect(round3(toX2[1]!.accumulated.item())).toBe(1.716)
    expect(item(t.gradient['x1'])).toBe(5.5)
    expect(item(t.gradient['x2'])).toBeCloseTo(2 - Math.cos(5), 14)
    expect(round3(item(t.gradient['x2']))).toBe(1.716)
  })

  it('the tangent column along x1 is the forward sweep: ẏ = ∂y/∂x1 = 5.5', () => {
    const d = Trace.trace(seed004, { x1: 2, x2: 5 }, { tangent: 'x1' })
    expect(d.rows.map((r) => r.tangent!.item())).toEqual([1, 0, 0.5, 5, 0, 5.5, 5.5])
    const e = Trace.trace(seed004, { x1: 2, x2: 5 }, { tangent: 'x2' })
    expect(item(e.rows[6]!.tangent)).toBeCloseTo(2 - Math.cos(5), 14)
    const both = Trace.trace(seed004, { x1: 2, x2: 5 }, { tangent: { x1: 1, x2: tensor(1) } })
    expect(item(both.rows[6]!.tangent)).toBeCloseTo(5.5 + 2 - Math.cos(5), 13)
    // the tangent does not change the rest of the trace
    expect(d.adjoints.map((s) => s.partial)).toEqual(t.adjoints.map((s) => s.partial))
  })

  it('the trace is immutable data', () => {
    expect(Object.isFrozen(t)).toBe(true)
    expect(Object.isFrozen(t.rows)).toBe(true)
    expect(Object.isFrozen(t.rows[2])).toBe(true)
    expect(Object.isFrozen(t.adjoints)).toBe(true)
    expect(Object.isFrozen(t.gradient)).toBe(true)
  })
})

describe('renderers (seed 004, tangent along x1)', () => {
  const t = Trace.trace(seed004, { x1: 2, x2: 5 }, { tangent: 'x1' })

  it('text', () => {
    const text = Trace.renderText(t)
    expect(text).toMatchSnapshot()
    expect(text).toContain('y = ln x1 + x1 × x2 − sin x2   at x1 = 2, x2 = 5')
    expect(text).toContain('11.652')
    expect(text).toContain('v̄₋₁ + v̄₁/v₋₁')
    expect(text).toContain('10.693 − (−0.959)')
    // every line of a box has the same width
    const box = text.split('\n').filter((l) => /^[┌│├└]/.test(l))
    const widths = new Set(box.map((l) => [...l.normalize('NFD')].filter((c) => !/\p{M}/u.test(c)).length))
    expect(widths.size).toBe(2) // one width per table
  })

  it('text without a tangent, and with more digits', () => {
    const plain = Trace.trace(seed004, { x1: 2, x2: 5 })
    expect(Trace.renderText(plain)).toMatchSnapshot()
    expect(Trace.renderText(plain)).not.toContain('v̇ᵢ')
    expect(Trace.renderText(plain, { digits: 6 })).toContain('11.652071')
    expect(() => Trace.renderText(plain, { digits: -1 })).toThrow(ArgumentError)
  })

  it('markdown', () => {
    const md = Trace.renderMarkdown(t)
    expect(md).toMatchSnapshot()
    expect(md).toContain('| v₅ | v₄ − v₃ | 10.693 − (−0.959) | 11.652 | 5.5 |')
    expect(md).toContain('| x̄1 | v̄₋₁ |   |   | 5.5 |')
  })

  it('latex', () => {
    const tex = Trace.renderLatex(t)
    expect(tex).toMatchSnapshot()
    expect(tex).toContain('$v_{-1}$ & $x_{1}$')
    expect(tex).toContain('$\\bar{v}_{-1}$ & $\\bar{v}_{-1} + \\bar{v}_{1} \\, \\frac{\\partial v_{1}}{\\partial v_{-1}}$ & $\\bar{v}_{-1} + \\bar{v}_{1} / v_{-1}$')
    expect(tex).toContain('\\dot{v}_i')
    expect(tex).not.toMatch(/[^\x00-\x7f]/) // pdflatex needs no Unicode
  })

  it('render dispatches on the format', () => {
    expect(Trace.render(t, 'text')).toBe(Trace.renderText(t))
    expect(Trace.render(t, 'markdown')).toBe(Trace.renderMarkdown(t))
    expect(Trace.render(t, 'latex')).toBe(Trace.renderLatex(t))
    expect(() => Trace.render(t, 'html' as Trace.Format)).toThrow(ArgumentError)
  })

  const hasPdflatex = spawnSync('pdflatex', ['-version'], { stdio: 'ignore' }).status === 0
  it.skipIf(!hasPdflatex)(`the LaTeX output compiles${hasPdflatex ? '' : ' (skipped: pdflatex is not installed)'}`, () => {
    const W = tensor(Array.from({ length: 4 }, (_, i) => Array.from({ length: 4 }, (_, j) => Math.sin(4 * i + j))))
    const odd = Trace.trace(({ w_1, θ }) => sum(mul(tanh(matmul(w_1, θ)), 2)), { w_1: W, θ: tensor([[1], [2], [3], [4]]) })
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lamina-trace-'))
    const body = [t, odd].map((x) => Trace.renderLatex(x)).join('\n\\bigskip\n\n')
    fs.writeFileSync(path.join(dir, 'trace.tex'), `\\documentclass{article}\n\\begin{document}\n\\tiny\n${body}\n\\end{document}\n`)
    const run = spawnSync('pdflatex', ['-interaction=nonstopmode', '-halt-on-error', 'trace.tex'], { cwd: dir, encoding: 'utf8' })
    expect(run.status, run.stdout).toBe(0)
    expect(fs.existsSync(path.join(dir, 'trace.pdf'))).toBe(true)
    fs.rmSync(dir, { recursive: true, force: true })
  })
  if (!hasPdflatex) console.warn('test/trace.test.ts: pdflatex is not installed; the LaTeX compile check is skipped')
})

describe('tensor expressions: sum(tanh(W·x + b)) with a 20×20 W', () => {
  const W = tensor(Array.from({ length: 20 }, (_, i) => Array.from({ length: 20 }, (_, j) => Math.sin(20 * i + j) / 4)))
  const x = tensor(Array.from({ length: 20 }, (_, i) => [Math.cos(i)]))
  const b = tensor(Array.from({ length: 20 }, (_, i) => [i / 20 - 0.5]))
  type M = Tensor<[number, number], 'f64'>
  const f = (p: { readonly W: M; readonly x: M; readonly b: M }) =>
    sum(tanh(add(matmul(p.W, p.x), p.b)))
  const t = Trace.trace(f, { W, x, b }, { tangent: 'b' })

  it('rows carry shapes; the gradient is grad’s', () => {
    expect(t.rows.map((r) => [r.name, r.expression, r.shape])).toEqual([
      ['v₋₂', 'W', [20, 20]],
      ['v₋₁', 'x', [20, 1]],
      ['v₀', 'b', [20, 1]],
      ['v₁', 'v₋₂ · v₋₁', [20, 1]],
      ['v₂', 'v₁ + v₀', [20, 1]],
      ['v₃', 'tanh v₂', [20, 1]],
      ['v₄', 'Σ v₃', []]
    ])
    const g = grad(f)({ W, x, b })
    for (const k of ['W', 'x', 'b'] as const) expect(t.gradient[k]!.toArray()).toEqual(g[k].toArray())
    // matrix products show their contributions as products: W̄ = v̄₁·v₋₁ᵀ, x̄ = v₋₂ᵀ·v̄₁
    const fromMatmul = t.adjoints.filter((s) => s.source === 1)
    expect(fromMatmul.map((s) => [s.target, s.partial, Trace.showFormula(s.contributionFormula)])).toEqual([
      [-2, '∂v₁/∂v₋₂', 'v̄₁ · v₋₁ᵀ'],
      [-1, '∂v₁/∂v₋₁', 'v₋₂ᵀ · v̄₁']
    ])
    // ẏ along b is Σ (1 − tanh²), the same as the jvp
    const [, dy] = jvp(f, [{ W, x, b }], [{ W: zeros<[number, number]>([20, 20]), x: zeros<[number, number]>([20, 1]), b: ones<[number, number]>([20, 1]) }])
    expect(item(t.rows[6]!.tangent)).toBeCloseTo(dy.item(), 12)
  })

  it('the text shows shapes and summaries, not 400 numbers', () => {
    const text = Trace.renderText(t)
    expect(text).toMatchSnapshot()
    expect(text).toContain('[20, 20]')
    expect(text).toContain('‖·‖ = ')
    const norm = Math.hypot(...Array.from(W.data))
    expect(text).toContain(`‖·‖ = ${round3(norm)}`)
    expect(text).toContain('tangent W\u0307 = 0, x\u0307 = 0, b\u0307 = 1')
    // no line lists more than a handful of numbers
    for (const line of text.split('\n')) expect((line.match(/\d+\.\d+/g) ?? []).length).toBeLessThan(20)
    expect(Trace.renderText(t, { maxElements: 400 })).toContain(String(round3(W.data[399]!)).replace('-', '−'))
    expect(Trace.renderMarkdown(t)).toContain('| v₁ | v₋₂ · v₋₁ | \\[20, 1\\] |')
    expect(Trace.renderLatex(t)).toContain('\\ldots]\\ \\|\\cdot\\| = ')
  })
})

/** Evaluates a formula over scalars: rows by value, adjoints by their final value. */
const evaluate = (f: Formula, value: (i: number) => number, adjoint: (i: number) => number): number => {
  const go = (g: Formula) => evaluate(g, value, adjoint)
  const sigma = (v: number) => 1 / (1 + Math.exp(-v))
  const fns: Record<string, (v: number) => number> = { ln: Math.log, exp: Math.exp, sin: Math.sin, cos: Math.cos, tanh: Math.tanh, 'σ': sigma, sign: Math.sign }
  switch (f.kind) {
    case 'var': return value(f.index)
    case 'bar': return adjoint(f.index)
    case 'number': return f.value
    case 'symbol': return f.text === 'π' ? Math.PI : NaN
    case 'binary': {
      const [l, r] = [go(f.left), go(f.right)]
      return f.op === '+' ? l + r : f.op === '−' ? l - r : f.op === '/' ? l / r : l * r
    }
    case 'neg': return -go(f.arg)
    case 'apply': return fns[f.fn]!(go(f.arg)) ** (f.power ?? 1)
    case 'call': return fns[f.fn]!(go(f.args[0]!))
    case 'pow': return go(f.base) ** f.exponent
    case 'power': return go(f.base) ** go(f.exponent)
    case 'sqrt': return Math.sqrt(go(f.arg))
    case 'abs': return Math.abs(go(f.arg))
    case 'indicator': return (f.rel === '>' ? go(f.left) > go(f.right) : go(f.left) < go(f.right)) ? 1 : 0
    default: return NaN
  }
}


describe('partials: one readable formula per primitive, and it is the derivative the rule uses', () => {
  const cases: readonly [string, (x: Scalar, y: Scalar) => Tensor, readonly string[]][] = [
    ['add', (x, y) => add(x, y), ['1', '1']],
    ['sub', (x, y) => sub(x, y), ['1', '−1']],
    ['mul', (x, y) => mul(x, y), ['v₀', 'v₋₁']],
    ['div', (x, y) => div(x, y), ['1/v₀', '−v₋₁/v₀²']],
    ['log', (x) => log(x), ['1/v₋₁']],
    ['exp', (x) => exp(x), ['exp v₋₁']],
    ['sin', (x) => sin(x), ['cos v₋₁']],
    ['cos', (x) => cos(x), ['−sin v₋₁']],
    ['tanh', (x) => tanh(x), ['1 − tanh² v₋₁']],
    ['sigmoid', (x) => sigmoid(x), ['σ(v₋₁) × (1 − σ(v₋₁))']],
    ['relu', (x) => relu(x), ['[v₋₁ > 0]']],
    ['softplus', (x) => softplus(x), ['σ(v₋₁)']],
    ['sqrt', (x) => sqrt(x), ['1/(2 × √v₋₁)']],
    ['pow', (x) => pow(x, 3), ['3 × v₋₁²']],
    ['pow ½', (x) => pow(x, 0.5), ['0.5 × v₋₁^(−0.5)']],
    ['power', (x, y) => power(x, y), ['v₀ × v₋₁^(v₀ − 1)', 'v₋₁^v₀ × ln v₋₁']],
    ['neg', (x) => neg(x), ['−1']]
  ]
  it.each(cases)('%s', (_, op, partials) => {
    const t = Trace.trace(({ x, y }) => op(x, y), { x: 1.3, y: 0.7 })
    expect(t.adjoints.map((s) => s.partial)).toEqual(partials)
    const value = (i: number) => t.rows[i + 1]!.value.item()
    const adjoint = (i: number) => (i === t.output ? item(t.seed) : t.adjoints.filter((s) => s.target === i).at(-1)!.accumulated.item())
    for (const s of t.adjoints) {
      // the partial, evaluated at the trace's values, times v̄_source is the rule's contribution
      expect(evaluate(s.partialFormula, value, adjoint) * adjoint(s.source)).toBeCloseTo(s.contribution.item(), 12)
      expect(evaluate(s.contributionFormula, value, adjoint)).toBeCloseTo(s.contribution.item(), 12)
    }
  })

  it('a primitive without a formula falls back to ∂op/∂input', () => {
    const t = Trace.trace(({ x }) => sum(matmul(x, x)), { x: tensor([[1, 2], [3, 4]]) })
    expect(t.adjoints.filter((s) => s.source === 1).map((s) => s.partial)).toEqual(['∂v₁/∂v₀', '∂v₁/∂v₀'])
  })
})

describe('bookkeeping is folded away', () => {
  it('a plain-number constant (and its broadcast) is folded into the expression', () => {
    const t = Trace.trace(({ x }) => sum(mul(add(x, 1), 2)), { x: tensor([1, 2, 3]) })
    expect(t.rows.map((r) => r.expression)).toEqual(['x', 'v₀ + 1', 'v₁ × 2', 'Σ v₂'])
    expect(t.rows[2]!.operands[1]).toEqual({ constant: expect.any(Tensor) })
    expect(t.adjoints.map((s) => s.partial)).toEqual(['1', '2', '1'])
    expect(t.gradient['x']!.toArray()).toEqual([2, 2, 2])
  })

  it('a reshape that only drops axes of length 1 is not a row; gradients pass through it', () => {
    const f = ({ v }: { readonly v: Tensor<[2], 'f64'> }) => {
      const a = reshape(slice(v, [0], [1]), [])
      const b = reshape(slice(v, [1], [1]), [])
      return mul(a, sin(b))
    }
    const t = Trace.trace(f, { v: tensor([2, 5]) })
    expect(t.rows.map((r) => r.op)).toEqual(['input', 'slice', 'slice', 'sin', 'mul'])
    expect(t.rows.map((r) => r.expression)).toEqual(['v', 'slice(v₀, 0:1)', 'slice(v₀, 1:2)', 'sin v₂', 'v₁ × v₃'])
    expect(t.gradient['v']!.toArray()).toEqual(grad(f)({ v: tensor([2, 5]) }).v.toArray())
    for (const s of t.adjoints) expect(s.contribution.shape).toEqual(t.rows[s.target]!.shape)
  })
})

describe('reused values accumulate', () => {
  it('y = x·x + sin x: three uses of x, the second and third add to x̄', () => {
    const t = Trace.trace(({ x }) => add(mul(x, x), sin(x)), { x: 0.8 })
    const toX = t.adjoints.filter((s) => s.target === 0)
    expect(toX.map((s) => s.accumulates)).toEqual([false, true, true])
    expect(toX.map((s) => s.partial)).toEqual(['cos v₀', 'v₀', 'v₀'])
    expect(item(t.gradient['x'])).toBeCloseTo(2 * 0.8 + Math.cos(0.8), 14)
    expect(Trace.renderText(t)).toContain('v̄₀ + v̄₁ × v₀')
  })
})

describe('the gradient is grad’s (property)', () => {
  it('seed 004 at random points', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.05, max: 20, noNaN: true }), fc.double({ min: -20, max: 20, noNaN: true }), (a, b) => {
        const t = Trace.trace(seed004, { x1: a, x2: b })
        const g = grad(seed004)({ x1: tensor(a), x2: tensor(b) })
        return item(t.gradient['x1']) === g.x1.item() && item(t.gradient['x2']) === g.x2.item() && item(t.rows[6]?.value) === seed004({ x1: tensor(a), x2: tensor(b) }).item()
      }),
      { numRuns: 200 }
    )
  })

  it('a small network at random weights, and the tangent column is jvp’s', () => {
    const arr = (n: number) => fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: n, maxLength: n })
    const f = (p: { readonly W: Tensor<[3, 3], 'f64'>; readonly x: Tensor<[3, 1], 'f64'> }) => sum(sigmoid(mul(tanh(matmul(p.W, p.x)), p.x)))
    fc.assert(
      fc.property(arr(9), arr(3), arr(3), (w, xs, d) => {
        const W = tensor([w.slice(0, 3), w.slice(3, 6), w.slice(6, 9)] as number[][]) as Tensor<[3, 3], 'f64'>
        const x = tensor(xs.map((v) => [v])) as Tensor<[3, 1], 'f64'>
        const dx = tensor(d.map((v) => [v])) as Tensor<[3, 1], 'f64'>
        const t = Trace.trace(f, { W, x }, { tangent: { x: dx } })
        const g = grad(f)({ W, x })
        const [, dy] = jvp(f, [{ W, x }], [{ W: tensor([[0, 0, 0], [0, 0, 0], [0, 0, 0]]) as Tensor<[3, 3], 'f64'>, x: dx }])
        const same = (a: Tensor, b: Tensor) => a.data.length === b.data.length && Array.from(a.data).every((v, i) => Math.abs(v - b.data[i]!) <= 1e-12 * (1 + Math.abs(v)))
        return same(t.gradient['W']!, g.W) && same(t.gradient['x']!, g.x) && Math.abs(item(t.rows.at(-1)!.tangent) - dy.item()) <= 1e-12 * (1 + Math.abs(dy.item()))
      }),
      { numRuns: 100 }
    )
  })
})

describe('edge cases and errors', () => {
  it('a non-scalar output has a forward trace and no adjoint trace', () => {
    const t = Trace.trace(({ x }) => mul(x, x), { x: tensor([1, 2, 3]) }, { tangent: 'x' })
    expect(t.seed).toBeUndefined()
    expect(t.adjoints).toEqual([])
    expect(t.gradient).toEqual({})
    expect(t.rows[1]!.tangent!.toArray()).toEqual([2, 4, 6])
    expect(Trace.renderText(t)).toContain('Reverse adjoint trace: none (y has shape [3]')
  })

  it('an unused input gets a zero gradient and no steps; an input returned as is is the output', () => {
    const t = Trace.trace(({ x }) => sin(x), { x: 1, unused: tensor([1, 2]) })
    expect(t.gradient['unused']!.toArray()).toEqual([0, 0])
    expect(t.adjoints.every((s) => s.target !== 0)).toBe(true)
    const id = Trace.trace(({ x }) => x, { x: 3 })
    expect([id.output, id.rows.length, item(id.gradient['x'])]).toEqual([0, 1, 1])
  })

  it('bad inputs, tangents and outputs are named', () => {
    expect(() => Trace.trace(({ x }) => x, { x: 'a' as unknown as number })).toThrow(/input "x" must be a tensor or a number, got string/)
    expect(() => Trace.trace(seed004, { x1: 2, x2: 5 }, { tangent: 'x3' })).toThrow(ArgumentError)
    expect(() => Trace.trace(seed004, { x1: 2, x2: 5 }, { tangent: { x1: tensor([1, 2]) } })).toThrow(DifferentiationError)
    expect(() => Trace.trace(() => tensor(1), { x: 1 })).toThrow(/does not depend on the inputs/)
    expect(() => Trace.trace({} as never, {})).toThrow(ArgumentError)
  })
})

// ================================================================ domains: values and derivatives that do not exist

/** The trace of an expression at a point, as `lamina trace` computes it. */
const traceOf = (text: string, at: Readonly<Record<string, number>>, tangent?: string) => {
  const tree = Expr.parse(text)
  return Trace.trace(Expr.compile(tree), at, { expression: Expr.toFormula(tree), ...(tangent === undefined ? {} : { tangent }) })
}
const outputOf = (t: Trace.Trace) => t.rows.find((r) => r.index === t.output)!.value.item()
const summary = (t: Trace.Trace) => t.warnings.map((w) => [w.row, w.op, w.kind, w.operand])

describe('domain warnings', () => {
  it("(-1)^x at x = 2: the value 1, the heading as typed, the derivative in the exponent undefined and said why", () => {
    const t = traceOf('(-1)^x', { x: 2 })
    expect(outputOf(t)).toBe(1) // was exp(x·ln(−1)) = NaN
    expect(t.rows.map((r) => r.op)).toEqual(['input', 'power'])
    expect(Trace.renderText(t).split('\n')[0]).toBe('y = (−1)^x   at x = 2')
    expect(item(t.gradient['x'])).toBeNaN()
    expect(summary(t)).toEqual([[1, 'power', 'derivative', 1]])
    expect(t.warnings[0]!.message).toBe(
      'v₁ = (−1)^v₀: the derivative with respect to the exponent v₀ is undefined (NaN): ∂(a^b)/∂b = a^b·ln a needs a > 0, and here the base is −1; at a < 0 only integer b give a real value, so a^b is not differentiable in b there'
    )
  })

  it('(x-3)^y at (1, 2): the value 4 and ∂/∂x = −4; only ∂/∂y is undefined', () => {
    const t = traceOf('(x-3)^y', { x: 1, y: 2 })
    expect(outputOf(t)).toBe(4)
    expect(item(t.gradient['x'])).toBe(-4)
    expect(item(t.gradient['y'])).toBeNaN()
    expect(summary(t)).toEqual([[2, 'power', 'derivative', 1]])
    expect(t.warnings[0]!.message).toContain('the base is v₁ = −2')
    // with a positive base both partials exist and nothing is reported
    const fine = traceOf('(x-3)^y', { x: 5, y: 2 })
    expect(item(fine.gradient['y'])).toBeCloseTo(4 * Math.LN2, 14)
    expect(fine.warnings).toEqual([])
  })

  it('the values that do not exist: ln and √ of negatives, ln 0, division by zero, 0 to a negative power, a negative base to a fraction', () => {
    const cases: readonly [string, Record<string, number>, string | RegExp][] = [
      ['ln(x)', { x: -1 }, "v₁ = ln v₀ is NaN: ln x is defined only for x > 0, and here v₀ = −1; the rule's partial 1/x (= −1) is not the derivative of any real function there"],
      ['ln(x)', { x: 0 }, 'v₁ = ln v₀ is −∞: ln x is defined only for x > 0 (ln x → −∞ as x → 0⁺), and here v₀ = 0; its derivative 1/x is infinite there'],
      ['sqrt(x)', { x: -4 }, 'v₁ = √v₀ is NaN: √x is defined only for x ≥ 0, and here v₀ = −4'],
      ['1/x', { x: 0 }, 'v₁ = 1/v₀ is ∞: division by zero (here v₀ = 0); a/b and its partials 1/b and −a/b² are undefined at b = 0'],
      ['x/(x-1)', { x: 0 + 1 }, /^v₂ = v₀\/v₁ is ∞: division by zero \(here v₁ = 0\)/],
      ['0/x', { x: 0 }, 'v₁ = 0/v₀ is NaN: division by zero, 0/0 is undefined (here 0 and v₀ = 0); the partials 1/b and −a/b² are undefined too'],
      ['x^-1', { x: 0 }, /^v₁ = v₀⁻¹ is ∞: 0 raised to a negative power is undefined .* the base is v₀ = 0 and the exponent −1$/],
      ['x^y', { x: 0, y: -2 }, /^v₁ = v₋₁\^v₀ is ∞: 0 raised to a negative power is undefined/],
      ['x^(1/3)', { x: -8 }, 'v₁ = v₀^0.333333 is NaN: a negative base has a real power only for an integer exponent, and here the base is v₀ = −8 and the exponent 0.333333'],
      ['x^y', { x: -8, y: 0.5 }, /^v₁ = v₋₁\^v₀ is NaN: a negative base has a real power only for an integer exponent, and here the base is v₋₁ = −8 and the exponent v₀ = 0\.5$/],
      ['exp(x)', { x: 1000 }, 'v₁ = exp v₀ overflows to ∞ although its operands are finite (beyond ±1.8e308, the largest double)']
    ]
    for (const [text, at, message] of cases) {
      const t = traceOf(text, at)
      expect(t.warnings.length, text).toBe(1)
      expect(t.warnings[0]!.kind, text).toBe('value')
      if (typeof message === 'string') expect(t.warnings[0]!.message, text).toBe(message)
      else expect(t.warnings[0]!.message, text).toMatch(message)
    }
  })

  it('derivatives that do not exist where the value does: √x and x^½ at 0, 0^b at b = 0, and the generic check', () => {
    const sqrt0 = traceOf('sqrt(x)', { x: 0 })
    expect(outputOf(sqrt0)).toBe(0)
    expect(item(sqrt0.gradient['x'])).toBe(Infinity)
    expect(sqrt0.warnings.map((w) => [w.kind, w.operand, w.message])).toEqual([
      ['derivative', 0, 'v₁ = √v₀ is not differentiable at v₀ = 0: its derivative 1/(2√x) is infinite at x = 0, so the adjoint and tangent through it are ∞ or NaN']
    ])
    expect(summary(traceOf('x^0.5', { x: 0 }))).toEqual([[1, 'pow', 'derivative', 0]])
    expect(traceOf('x^y', { x: 0, y: 0 }).warnings[0]!.message).toMatch(/0\^b is not differentiable in b at b = 0/)
    // 0^b for b > 0 is 0 for every b: its derivative in b is 0, and nothing is reported
    const zeroBase = traceOf('x^y', { x: 0, y: 2 })
    expect([item(zeroBase.gradient['x']), item(zeroBase.gradient['y'])]).toEqual([0, 0])
    expect(zeroBase.warnings).toEqual([])
    // a rule with no domain entry whose partial is infinite at a finite point: 1/x at the smallest double
    const tiny = traceOf('ln(x)', { x: 5e-324 })
    expect(summary(tiny)).toEqual([[1, 'log', 'derivative', 0]])
    expect(tiny.warnings[0]!.message).toBe('v₁ = ln v₀: the partial derivative ∂v₁/∂v₀ = 1/v₀ is not finite at this point, so the derivatives passed through it are ∞ or NaN')
  })

  it('a NaN passed on is reported once, where it starts; derivative warnings only where derivatives are computed', () => {
    const t = traceOf('sin(ln(x)) * 2 + sqrt(x)', { x: -1 })
    expect(summary(t)).toEqual([
      [1, 'log', 'value', undefined],
      [2, 'sqrt', 'value', undefined]
    ])
    // a non-scalar output without a tangent has no derivatives: only the value warning
    const v = Trace.trace(({ x }) => sqrt(x), { x: tensor([0, 4]) })
    expect(v.warnings).toEqual([])
    expect(summary(Trace.trace(({ x }) => sqrt(x), { x: tensor([0, 4]) }, { tangent: 'x' }))).toEqual([[1, 'sqrt', 'derivative', 0]])
    expect(traceOf(SEED_EXPRESSION, { x1: 2, x2: 5 }).warnings).toEqual([])
  })

  it('tensors: the first offending element and how many there are', () => {
    const t = Trace.trace(({ x }) => sum(log(x)), { x: tensor([1, -2, 3, -4, 0]) })
    expect(t.warnings.map((w) => w.message)).toEqual([
      "v₁ = ln v₀ is NaN: ln x is defined only for x > 0, and here v₀ = −2; the rule's partial 1/x (= −0.5) is not the derivative of any real function there (element 1 of 5; 2 elements in all)",
      'v₁ = ln v₀ is −∞: ln x is defined only for x > 0 (ln x → −∞ as x → 0⁺), and here v₀ = 0; its derivative 1/x is infinite there (element 4 of 5)'
    ])
  })

  it('the renderers print the warnings under the tables; LaTeX as comments', () => {
    const t = traceOf('ln(x)', { x: -1 })
    const text = Trace.renderText(t)
    expect(text.endsWith(`\nWarnings\n  - ${t.warnings[0]!.message}\n`)).toBe(true)
    const md = Trace.renderMarkdown(t)
    expect(md).toContain("\n**Warnings**\n\n- v₁ = ln v₀ is NaN: ln x is defined only for x &gt; 0".replace('&gt;', '>'))
    expect(Trace.renderLatex(t)).toMatch(/\\end\{tabular\}\n% Warnings\n% - v₁ = ln v₀ is NaN: .*\n$/)
    expect(Trace.renderText(traceOf(SEED_EXPRESSION, { x1: 2, x2: 5 }))).not.toContain('Warnings')
  })

  it('an input named y: the output is written f, so ȳ stays the input’s adjoint', () => {
    const text = Trace.renderText(traceOf('x*y', { x: 2, y: 3 }))
    expect(text.split('\n')[0]).toBe('f = x × y   at x = 2, y = 3')
    expect(text).toMatch(/│ v̄₁ +│ f̄ +│/)
    expect(text).toMatch(/│ y\u0304 +│ v̄₀ +│/) // the input y's adjoint, x̄'s neighbour
  })

  it('power computes ln a only when the exponent needs a derivative (symbolic zeros)', () => {
    // with numerical checks on, ln(−2) would throw: the gradient in the base alone never computes it
    const g = Numerics.withChecks(() => grad((x: Scalar) => power(x, tensor(3)))(tensor(-2)))
    expect(g.item()).toBe(12)
    expect(() => Numerics.withChecks(() => grad((b: Scalar) => power(tensor(-2), b))(tensor(3)))).toThrow(Numerics.NumericsError)
  })
})

describe('lamina trace: warnings, exit 0', () => {
  const run = async (...args: string[]) => {
    let stdout = ''
    let stderr = ''
    const code = await main(args, { stdout: (x) => void (stdout += x), stderr: (x) => void (stderr += x) })
    return { code, stdout, stderr }
  }

  it('prints (-1)^x at x = 2 as typed, with value 1 and the warning, and exits 0', async () => {
    const r = await run('trace', '(-1)^x', '--at', 'x=2')
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    expect(r.stdout.split('\n')[0]).toBe('y = (−1)^x   at x = 2')
    expect(r.stdout).toMatch(/│ y  │ v₁ +│ +│ +1 │/)
    expect(r.stdout).toContain('\nWarnings\n  - v₁ = (−1)^v₀: the derivative with respect to the exponent v₀ is undefined (NaN): ∂(a^b)/∂b = a^b·ln a needs a > 0')
  })

  it('--json carries the warnings as data', async () => {
    const r = await run('trace', '(x-3)^y', '--at', 'x=1,y=2', '--json')
    expect(r.code).toBe(0)
    const data = JSON.parse(r.stdout) as { expression: string; value: unknown; gradient: Record<string, unknown>; warnings: { row: number; op: string; kind: string; operand?: number; message: string }[] }
    expect(data.expression).toBe('(x - 3)^y')
    expect(data.value).toBe(4)
    expect(data.gradient).toEqual({ x: -4, y: 'NaN' })
    expect(data.warnings.map(({ row, op, kind, operand }) => ({ row, op, kind, operand }))).toEqual([{ row: 2, op: 'power', kind: 'derivative', operand: 1 }])
    const clean = JSON.parse((await run('trace', 'x*y', '--at', 'x=1,y=2', '--json')).stdout) as { warnings: unknown[] }
    expect(clean.warnings).toEqual([])
  })

  it('a child process: ln(-1) warns, exits 0, prints no stack trace', () => {
    const r = spawnSync(process.execPath, ['bin/lamina.mjs', 'trace', 'ln(x)', '--at', 'x=-1', '--format', 'markdown'], {
      cwd: path.resolve(__dirname, '..'),
      encoding: 'utf8',
      env: { ...process.env, LAMINA_FROM_SOURCE: '1' },
      timeout: 60_000
    })
    expect(r.status).toBe(0)
    expect(r.stderr).toBe('')
    expect(r.stdout).toContain('\n**Warnings**\n\n- v₁ = ln v₀ is NaN: ln x is defined only for x > 0, and here v₀ = −1')
    expect(r.stdout).not.toMatch(/\n\s+at /)
  })
})
