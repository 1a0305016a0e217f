// The seed examples (examples/xor, gradient-descent, logistic-regression,
// universal-approximation, affine-collapse): each claim is checked twice, on the pure
// functions of the example's lib.ts and on what its main.ts prints when run as a child
// process, and every SVG it writes must be well-formed XML with an <svg> root and a viewBox.
import { describe, expect, it, afterAll } from 'vitest'
import { fc, test } from '@fast-check/vitest'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as Xor from '../examples/xor/lib.js'
import * as Gd from '../examples/gradient-descent/lib.js'
import * as Lr from '../examples/logistic-regression/lib.js'
import * as Ua from '../examples/universal-approximation/lib.js'
import * as Ac from '../examples/affine-collapse/lib.js'
import { escapeXml, figure, line } from '../examples/plot/svg.js'
import { tensor } from 'lamina-nn'

const root = fileURLToPath(new URL('..', import.meta.url))
const outRoot = mkdtempSync(join(tmpdir(), 'lamina-seed-examples-'))
afterAll(() => rmSync(outRoot, { recursive: true, force: true }))

interface Run {
  readonly stdout: string
  readonly status: number
  readonly outDir: string
}

/** Runs an example as a child process (all of them start at once, when this file loads). */
const runExample = (name: string, extra: readonly string[] = []): Promise<Run> => {
  const outDir = join(outRoot, name)
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--conditions=lamina-src', `examples/${name}/main.ts`, '--out', outDir, ...extra],
      { cwd: root, encoding: 'utf8', maxBuffer: 16 << 20 },
      (error, stdout) => resolve({ stdout, status: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, outDir })
    )
  })
}
const names = ['xor', 'gradient-descent', 'logistic-regression', 'universal-approximation', 'affine-collapse'] as const
const runs = Object.fromEntries(names.map((n) => [n, runExample(n)])) as Record<(typeof names)[number], Promise<Run>>
const badUsage = runExample('xor', ['--bogus'])

/** The first line of `out` starting with (after trimming) `prefix`. */
const lineOf = (out: string, prefix: string): string => {
  const found = out.split('\n').find((l) => l.trim().startsWith(prefix))
  if (found === undefined) throw new Error(`no line starting with ${JSON.stringify(prefix)} in:\n${out}`)
  return found
}
const numbersIn = (s: string): number[] => (s.match(/-?\d+(?:\.\d+)?(?:e[+-]?\d+)?/g) ?? []).map(Number)

// ---------------------------------------------------------------- a small XML well-formedness check

const name = '[A-Za-z_:][-A-Za-z0-9_:.]*'
const reference = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g
const cleanText = (s: string): boolean => !/[<&]/.test(s.replace(reference, ''))

/**
 * Whether `xml` is a well-formed SVG document: an optional XML declaration, then exactly one
 * root element `<svg>` in the SVG namespace with a viewBox of four numbers; every tag closed
 * in order; attributes `name="value"` without duplicates, values and text free of stray `<`
 * and `&`. Returns null when it is, else the first problem found.
 */
const svgProblem = (xml: string): string | null => {
  const forbidden = xml.match(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDFFF]/u)
  if (forbidden !== null) return `a character XML forbids, U+${forbidden[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`
  let rest = xml.replace(/^<\?xml[^?]*\?>/, '')
  const stack: string[] = []
  let roots = 0
  let rootAttrs = ''
  while (rest.length > 0) {
    const lt = rest.indexOf('<')
    const chunk = lt === -1 ? rest : rest.slice(0, lt)
    if (!cleanText(chunk)) return `bad character data ${JSON.stringify(chunk.slice(0, 40))}`
    if (stack.length === 0 && chunk.trim() !== '') return `text outside the root element: ${JSON.stringify(chunk.trim().slice(0, 40))}`
    if (lt === -1) break
    rest = rest.slice(lt)
    if (rest.startsWith('<!--')) {
      const end = rest.indexOf('-->')
      if (end === -1) return 'unterminated comment'
      rest = rest.slice(end + 3)
      continue
    }
    const close = rest.match(new RegExp(`^</(${name})\\s*>`))
    if (close !== null) {
      const open = stack.pop()
      if (open !== close[1]) return `</${close[1]}> closes <${open ?? 'nothing'}>`
      rest = rest.slice(close[0].length)
      continue
    }
    const tag = rest.match(new RegExp(`^<(${name})((?:\\s+${name}\\s*=\\s*"[^"]*")*)\\s*(/?)>`))
    if (tag === null) return `malformed tag at ${JSON.stringify(rest.slice(0, 60))}`
    const [whole, tagName, attrs, selfClosing] = tag as unknown as [string, string, string, string]
    const seen = new Set<string>()
    for (const [, attr, value] of attrs.matchAll(new RegExp(`(${name})\\s*=\\s*"([^"]*)"`, 'g'))) {
      if (seen.has(attr!)) return `duplicate attribute ${attr} on <${tagName}>`
      seen.add(attr!)
      if (!cleanText(value!)) return `bad attribute value ${attr}=${JSON.stringify(value)}`
    }
    if (stack.length === 0) {
      roots++
      if (roots > 1) return `a second root element <${tagName}>`
      if (tagName !== 'svg') return `the root element is <${tagName}>, not <svg>`
      rootAttrs = attrs
    }
    if (selfClosing === '') stack.push(tagName)
    rest = rest.slice(whole.length)
  }
  if (stack.length > 0) return `unclosed <${stack[stack.length - 1]}>`
  if (roots === 0) return 'no root element'
  if (!/\sxmlns="http:\/\/www\.w3\.org\/2000\/svg"/.test(rootAttrs)) return 'the <svg> root lacks the SVG namespace'
  const viewBox = rootAttrs.match(/\sviewBox="([^"]*)"/)
  if (viewBox === null) return 'the <svg> root has no viewBox'
  const parts = viewBox[1]!.trim().split(/[\s,]+/).map(Number)
  if (parts.length !== 4 || !parts.every(Number.isFinite) || !(parts[2]! > 0 && parts[3]! > 0)) return `bad viewBox "${viewBox[1]}"`
  return null
}

/** The SVG files an example wrote, with their problems (null: well-formed). */
const svgsOf = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.svg'))
    .map((f) => ({ file: f, problem: svgProblem(readFileSync(join(dir, f), 'utf8')) }))

describe('the SVG check and the plot helper', () => {
  it.each([
    ['<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><g><circle r="1"/></g></svg>', null],
    ['<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><text>a &amp; b &lt; c</text></svg>\n', null],
    ['<svg xmlns="http://www.w3.org/2000/svg"><g></g></svg>', 'the <svg> root has no viewBox'],
    ['<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1"></svg>', 'bad viewBox "0 0 1"'],
    ['<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><g></svg>', '</svg> closes <g>'],
    ['<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><text>a < b</text></svg>', 'malformed tag at "< b</text></svg>"'],
    ['<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><text>R&D</text></svg>', 'bad character data "R&D"'],
    ['<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><g a="1" a="2"/></svg>', 'duplicate attribute a on <g>'],
    ['<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><g a=1/></svg>', 'malformed tag at "<g a=1/></svg>"'],
    ['<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"></svg><svg/>', 'a second root element <svg>'],
    ['<html viewBox="0 0 1 1"></html>', 'the root element is <html>, not <svg>'],
    ['<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><g>', 'unclosed <g>'],
    ['<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><text>\u0001</text></svg>', 'a character XML forbids, U+0001'],
    ['<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><text>\ud800</text></svg>', 'a character XML forbids, U+D800']
  ])('svgProblem(%j) is %j', (xml, verdict) => {
    expect(svgProblem(xml)).toBe(verdict)
  })

  test.prop([fc.string({ unit: 'binary' }), fc.array(fc.tuple(fc.double(), fc.double()), { maxLength: 20 })], { numRuns: 200 })(
    'figure() is well-formed for any label text and any numbers (NaN, ±∞ and huge values included)',
    (label, points) =>
      svgProblem(figure([{ title: label, x: [-1, 1], y: [0, 1e3], xLabel: label, marks: [line(points, '#000', { label })] }], { title: label })) === null
  )

  it('escapeXml escapes the five XML specials and replaces characters XML forbids', () => {
    expect(escapeXml(`<a href="x">&'`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&apos;')
    expect(escapeXml('a\u0000b\ud800c😀')).toBe('a\ufffdb\ufffdc😀')
  })
})

// ================================================================ 1. XOR (seed 003)

describe('examples/xor (seed 003)', () => {
  it('the exact solution W = [[1,1],[1,1]], c = [0,−1], w = [1,−2], b = 0 gives h = [[0,0],[1,0],[1,0],[2,1]] and XOR exactly', () => {
    expect(Xor.hidden(Xor.exactSolution).toArray()).toEqual([
      [0, 0],
      [1, 0],
      [1, 0],
      [2, 1]
    ])
    expect([...Xor.forward(Xor.exactSolution).data]).toEqual([0, 1, 1, 0])
  })

  it('the normal equations of the linear model give w = 0, b = ½, and gradient descent on J reaches them with MSE ¼', () => {
    const { AtA, Aty, theta } = Xor.normalEquations()
    expect(AtA).toEqual([
      [2, 1, 2],
      [1, 2, 2],
      [2, 2, 4]
    ])
    expect(Aty).toEqual([1, 1, 2])
    theta.forEach((v, i) => expect(Math.abs(v - [0, 0, 0.5][i]!)).toBeLessThanOrEqual(1e-15))
    const gd = Xor.fitLinear()
    expect(Math.max(...gd.w.map(Math.abs))).toBeLessThan(1e-12)
    expect(Math.abs(gd.b - 0.5)).toBeLessThan(1e-12)
    expect(Math.abs(gd.mse - 0.25)).toBeLessThan(1e-12)
    expect(Xor.solvesXor(gd.outputs)).toBe(false) // ½ everywhere: no rounding gives XOR
  })

  it('main prints the exact outputs, the normal-equation solution, MSE 0.25, and a trained 2-2-1 network whose outputs round to XOR', async () => {
    const { stdout, status } = await runs.xor
    expect(status).toBe(0)
    expect(lineOf(stdout, 'exact outputs:')).toContain('[0, 1, 1, 0]  reproduces XOR: true')
    expect(numbersIn(lineOf(stdout, 'closed form:'))).toEqual([0, 0, 0.5])
    const gd = lineOf(stdout, 'gradient descent (lamina grad')
    expect(gd).toMatch(/w = \[0\.000000000000, 0\.000000000000\]  b = 0\.500000000000  MSE = 0\.250000000000/)
    expect(lineOf(stdout, 'linear outputs:')).toContain('reproduces XOR: false')
    // the reported seed, retrained here: every output rounds to its class
    const seed = Number(stdout.match(/^\s+seed (\d+): loss/m)![1])
    const printed = numbersIn(lineOf(stdout, 'trained outputs:').split('rounded')[0]!)
    const trained = Xor.trainXor(seed, 2)
    expect(trained.outputs.map(Math.round)).toEqual([0, 1, 1, 0])
    trained.outputs.forEach((v, i) => expect(Math.abs(v - printed[i]!)).toBeLessThan(1e-6))
    expect(lineOf(stdout, 'trained outputs:')).toContain('rounded: [0, 1, 1, 0]  learns XOR: true')
  })

  it('writes a well-formed SVG', async () => {
    const { outDir } = await runs.xor
    expect(svgsOf(outDir)).toEqual([{ file: 'xor.svg', problem: null }])
  })

  it('a bad command line exits with status 2', async () => {
    expect((await badUsage).status).toBe(2)
  })
})

// ================================================================ 2. gradient descent (seed 000)

describe('examples/gradient-descent (seed 000)', () => {
  const runsByRate = Gd.rates.map((r) => ({ ...r, iterates: Gd.descend(r.eta, Gd.start, 100) }))

  it.each(runsByRate.map((r) => [r.label, r] as const))('η = %s: every iterate equals ((1 − 3η)^k x₀, (1 − 2η)^k y₀) to 1e-12 relative', (_, r) => {
    expect(r.iterates).toHaveLength(101)
    const check = Gd.checkClosedForm(r.iterates, r.eta, Gd.start, 1e-12)
    expect(check.maxRelativeError).toBeLessThanOrEqual(1e-12)
    expect(check.ok).toBe(true)
  })

  // away from the rates where 1 − 3η or 1 − 2η vanishes (there the iterate is rounding noise around 0)
  const etas = fc.double({ min: 0.001, max: 0.7, noNaN: true }).filter((eta) => Math.abs(1 - 3 * eta) > 0.1 && Math.abs(1 - 2 * eta) > 0.1)
  const coordinate = fc.double({ min: 0.1, max: 5, noNaN: true }).chain((v) => fc.constantFrom(v, -v))
  test.prop([etas, fc.tuple(coordinate, coordinate)], { numRuns: 30 })('for any η and start, 60 iterates follow the closed form to 1e-12 relative', (eta, start) =>
    Gd.checkClosedForm(Gd.descend(eta, start, 60), eta, start, 1e-12).ok
  )

  it('η = 0.1 converges, 0.001 crawls, 0.665757 zig-zags with x-ratio −0.997271, 2/3 oscillates forever, 0.7 diverges', () => {
    const b = Object.fromEntries(runsByRate.map((r) => [r.label, Gd.behaviour(r.iterates)]))
    expect(Object.fromEntries(Object.entries(b).map(([k, v]) => [k, v.behaviour]))).toEqual({
      '0.1': 'converges',
      '0.001': 'crawls',
      '0.665757': 'zig-zags',
      '2/3': 'oscillates',
      '0.7': 'diverges'
    })
    expect(Math.abs(b['0.665757']!.rx - (1 - 3 * 0.665757))).toBeLessThan(1e-12)
    expect(Math.abs(Math.abs(b['0.665757']!.rx) - 0.997)).toBeLessThan(0.001)
    const oscillating = runsByRate.find((r) => r.label === '2/3')!.iterates
    expect(oscillating.every((it) => Math.abs(Math.abs(it.x) - 3) < 1e-12 && Math.sign(it.x) === (it.k % 2 === 0 ? 1 : -1))).toBe(true)
    const crawl = runsByRate.find((r) => r.label === '0.001')!.iterates
    expect(crawl[100]!.f).toBeGreaterThan(13) // after 100 steps f is still far above its minimum 2
    const converged = runsByRate.find((r) => r.label === '0.1')!.iterates
    expect(converged[100]!.f - 2).toBeLessThan(1e-18)
    expect(Math.abs(runsByRate.find((r) => r.label === '0.7')!.iterates[100]!.x)).toBeGreaterThan(1e4)
  })

  it('main prints a table of iterates that matches the closed form, and the behaviours', async () => {
    const { stdout, status } = await runs['gradient-descent']
    expect(status).toBe(0)
    const blocks = stdout.split(/\n(?=η = )/).slice(1)
    expect(blocks).toHaveLength(5)
    blocks.forEach((block, i) => {
      const { eta } = Gd.rates[i]!
      const rows = block
        .split('\n')
        .filter((l) => /^\s+\d+\s+-?\d/.test(l))
        .map(numbersIn)
      expect(rows.length).toBe(10)
      for (const [k, x, y] of rows) {
        const [cx, cy] = Gd.closedForm(eta, Gd.start, k!)
        expect(Gd.relativeError(x!, cx)).toBeLessThan(1e-11) // 13 significant digits printed
        expect(Gd.relativeError(y!, cy)).toBeLessThan(1e-11)
      }
    })
    for (const [label, behaviour] of [['0.1', 'converges'], ['0.001', 'crawls'], ['0.665757', 'zig-zags'], ['2/3', 'oscillates'], ['0.7', 'diverges']]) {
      expect(lineOf(stdout, `result η = ${label}:`)).toContain(`${label}: ${behaviour};`)
    }
    expect(lineOf(stdout, 'result η = 0.665757:')).toContain('x_{k+1}/x_k = -0.997271')
  })

  it('writes a well-formed SVG', async () => {
    expect(svgsOf((await runs['gradient-descent']).outDir)).toEqual([{ file: 'trajectories.svg', problem: null }])
  })
})

// ================================================================ 3. logistic regression (seed 001)

describe('examples/logistic-regression (seed 001)', () => {
  const data = Lr.makeData(0, 200)
  const history = Lr.train(data, { lr: 0.5, steps: 300 })
  const last = history[history.length - 1]!

  it('gradient descent lowers the loss at every step and reaches 88% accuracy, on the training set and on 2000 fresh points', () => {
    expect(history.every((h, i) => i === 0 || h.loss < history[i - 1]!.loss)).toBe(true)
    expect(Math.abs(history[0]!.loss - Math.log(2))).toBeLessThan(1e-14)
    expect(last.accuracy).toBeGreaterThan(0.88)
    expect(Lr.accuracy(last.params, Lr.makeData(1, 2000))).toBeGreaterThan(0.88)
  })

  it('at every iterate lamina’s gradient equals Σ (σ(z) − t) x / n to 1e-12', () => {
    expect(Math.max(...history.map((h) => h.gradientError))).toBeLessThanOrEqual(1e-12)
  })

  const coefficient = fc.double({ min: -5, max: 5, noNaN: true })
  test.prop([fc.tuple(coefficient, coefficient, coefficient), fc.integer({ min: 0, max: 1000 })], { numRuns: 30 })(
    'at any (w, b) and on any drawn data set, both gradients match their closed forms to 1e-12 (mean BCE and the seed’s −Σ log σ(y z))',
    ([w1, w2, b], seed) => {
      const d = Lr.makeData(seed, 40)
      const p = { w: tensor([[w1], [w2]]), b: tensor([b]) }
      return (
        Lr.gradientError(Lr.lossGradient(p, d), Lr.closedFormGradient(p, d)) <= 1e-12 &&
        Lr.gradientError(Lr.seedLossGradient(p, d), Lr.seedClosedFormGradient(p, d)) <= 1e-12
      )
    }
  )

  it('main prints the loss falling, the accuracies, and gradient errors below 1e-12', async () => {
    const { stdout, status } = await runs['logistic-regression']
    expect(status).toBe(0)
    expect(lineOf(stdout, 'loss 0.693147 →')).toContain('decreasing at every step: true')
    const [train, test] = numbersIn(lineOf(stdout, 'training accuracy:'))
    expect(train).toBeGreaterThan(0.88)
    expect(test).toBeGreaterThan(0.88)
    const errors = numbersIn(lineOf(stdout, 'max gradient error').split('iterates')[1]!).filter((v) => v !== 1 && v !== -1)
    expect(errors.length).toBeGreaterThanOrEqual(2)
    errors.forEach((e) => expect(e).toBeLessThanOrEqual(1e-12))
  })

  it('writes a well-formed SVG', async () => {
    expect(svgsOf((await runs['logistic-regression']).outDir)).toEqual([{ file: 'logistic-regression.svg', problem: null }])
  })
})

// ================================================================ 4. universal approximation (seeds 001, 004)

describe('examples/universal-approximation (seeds 001, 004)', () => {
  it('the pulse is exactly 4 ReLUs and equals its piecewise definition: 0, a ramp up, h, a ramp down, 0', () => {
    const p = Ua.pulse(-1, 1, 0.25, 1)
    expect(p.w).toHaveLength(4)
    const xs = Array.from({ length: 33 }, (_, i) => -2 + i / 8)
    const exact = Ua.pulseExact(-1, 1, 0.25, 1)
    expect(Ua.evaluate(p, xs)).toEqual(xs.map(exact))
    expect(Ua.evaluate(p, [-1.5, -1, -0.875, -0.75, 0, 1, 1.125, 1.25, 1.5])).toEqual([0, 0, 0.5, 1, 1, 1, 0.5, 0, 0])
  })

  const pulses = fc
    .record({ a: fc.double({ min: -3, max: 3, noNaN: true }), delta: fc.double({ min: 0.01, max: 1, noNaN: true }), gap: fc.double({ min: 0, max: 3, noNaN: true }), h: fc.double({ min: -5, max: 5, noNaN: true }) })
    .map(({ a, delta, gap, h }) => ({ a, b: a + delta + gap, delta, h }))
  test.prop([pulses, fc.array(fc.double({ min: -8, max: 8, noNaN: true }), { minLength: 1, maxLength: 20 })], { numRuns: 100 })(
    'for any a, b ≥ a + δ, δ > 0 and height h, the 4-ReLU network equals the pulse (to rounding of its terms)',
    ({ a, b, delta, h }, xs) => {
      const net = Ua.evaluate(Ua.pulse(a, b, delta, h), xs)
      const exact = Ua.pulseExact(a, b, delta, h)
      return xs.every((x, i) => Math.abs(net[i]! - exact(x)) <= 1e-12 * (1 + (Math.abs(h) / delta) * (Math.abs(x) + Math.abs(a) + Math.abs(b) + delta)))
    }
  )

  const table = Ua.errorTable()

  it('n ReLUs interpolate sin at the n + 1 knots, and the error obeys the bound h²/8 with h = 2π/n', () => {
    for (const n of Ua.widths) {
      const ts = Ua.knots(n)
      Ua.evaluate(Ua.interpolant(n), ts).forEach((v, i) => expect(Math.abs(v - Math.sin(ts[i]!))).toBeLessThan(1e-12))
    }
    table.forEach(({ n, error }) => expect(error).toBeLessThanOrEqual((2 * Math.PI) ** 2 / n ** 2 / 8 + 1e-15))
  })

  it('the max error decreases monotonically with the width and is O(1/n²): ratio → 4, n²·error → π²/2, log-log slope ≈ −2', () => {
    table.slice(1).forEach((r, i) => expect(r.error).toBeLessThan(table[i]!.error))
    table.filter((r) => r.n >= 16).forEach((r) => expect(r.ratio).toBeGreaterThan(3.5))
    table.filter((r) => r.n >= 16).forEach((r) => expect(r.ratio).toBeLessThan(4.5))
    table.filter((r) => r.n >= 16).forEach((r) => expect(r.scaled / (Math.PI ** 2 / 2)).toBeGreaterThan(0.95))
    table.forEach((r) => expect(r.scaled / (Math.PI ** 2 / 2)).toBeLessThanOrEqual(1.0000001))
    const slope = Ua.logLogSlope(table.slice(2))
    expect(slope).toBeGreaterThan(-2.1)
    expect(slope).toBeLessThan(-1.9)
  })

  it('main prints the pulse values and the width–error table', async () => {
    const { stdout, status } = await runs['universal-approximation']
    expect(status).toBe(0)
    expect(numbersIn(lineOf(stdout, 'network:'))).toEqual([0, 0, 0.5, 1, 1, 1, 0.5, 0, 0])
    expect(lineOf(stdout, 'max |network − definition|').trim().endsWith(': 0')).toBe(true)
    const rows = stdout
      .split('\n')
      .filter((l) => /^\s+\d+\s+\d\.\d+e[+-]\d+/.test(l))
      .map(numbersIn)
    expect(rows.map((r) => r[0])).toEqual([...Ua.widths])
    rows.slice(1).forEach((r, i) => expect(r[1]!).toBeLessThan(rows[i]![1]!))
    expect(rows[rows.length - 1]![2]!).toBeCloseTo(Math.PI ** 2 / 2, 2)
  })

  it('writes a well-formed SVG', async () => {
    expect(svgsOf((await runs['universal-approximation']).outDir)).toEqual([{ file: 'universal-approximation.svg', problem: null }])
  })
})

// ================================================================ 5. affine collapse (seed 001)

describe('examples/affine-collapse (seed 001)', () => {
  const params = Ac.initParams(0)
  const x = Ac.inputs(1, 1000)

  it.each([
    [1, 0],
    [0.5, 0.1],
    [1.5, -0.3]
  ])('with σ(x) = %sx + %s the 6-layer MLP equals A⁽ᴸ⁾x + B⁽ᴸ⁾ from the recurrence on 1000 random inputs to 1e-12', (alpha, beta) => {
    const r = Ac.compare({ kind: 'linear', alpha, beta }, params, x, 1e-12)
    expect(r.A.shape).toEqual([2, 3])
    expect(r.B.shape).toEqual([2, 1])
    expect(r.relative).toBeLessThanOrEqual(1e-12)
    expect(r.ok).toBe(true)
  })

  test.prop([fc.integer({ min: 0, max: 1 << 30 }), fc.double({ min: -2, max: 2, noNaN: true }).filter((a) => Math.abs(a) > 0.05), fc.double({ min: -1, max: 1, noNaN: true })], {
    numRuns: 25
  })('for any weights, α and β, the network is the affine map of the recurrence (to 1e-12 of its scale)', (seed, alpha, beta) =>
    Ac.compare({ kind: 'linear', alpha, beta }, Ac.initParams(seed), Ac.inputs(seed + 1, 50), 1e-12).ok
  )

  it('with ReLU the same weights give a map that is not affine (the midpoint test fails), with identity it passes', () => {
    const y = Ac.inputs(2, 1000)
    expect(Ac.midpointDefect((v) => Ac.network({ kind: 'relu' }, params, v), x, y)).toBeGreaterThan(0.01)
    expect(Ac.midpointDefect((v) => Ac.network({ kind: 'linear', alpha: 1, beta: 0 }, params, v), x, y)).toBeLessThan(1e-12)
  })

  it('main prints A⁽ᴸ⁾, B⁽ᴸ⁾ and agreement within 1e-12 for every linear activation, and a ReLU network that is not affine', async () => {
    const { stdout, status } = await runs['affine-collapse']
    expect(status).toBe(0)
    const agreements = stdout.split('\n').filter((l) => l.includes('within 1e-12:'))
    expect(agreements).toHaveLength(3)
    agreements.forEach((l) => {
      expect(l.endsWith('within 1e-12: true')).toBe(true)
      expect(Number(l.match(/inputs: (\S+)/)![1])).toBeLessThanOrEqual(1e-12)
    })
    expect(stdout).toMatch(/σ = relu[^\n]*\n[^\n]*— not affine/)
  })

  it('writes a well-formed SVG', async () => {
    expect(svgsOf((await runs['affine-collapse']).outDir)).toEqual([{ file: 'affine-collapse.svg', problem: null }])
  })
})
