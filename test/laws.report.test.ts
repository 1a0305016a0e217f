// The harness explains failures (first, worst and shrunk case, errors as multiples of the
// tolerance, one quantity per line, Jacobians side by side), and checks hand-written gradients.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { ArgumentError, fromBuffer, mul, sigmoid, sum, tensor } from 'lamina-nn'
import type { Tensor } from 'lamina-nn'
import {
  LawFailure,
  arrays,
  checkGradient,
  checkGradientOf,
  gradientError,
  handWrittenGradientMatches,
  numbers,
  tensorOf,
  tensors
} from 'lamina-nn/laws'

/** The LawFailure a check throws (fails the test if it passes). */
const failureOf = (check: () => unknown): LawFailure => {
  try {
    check()
  } catch (e) {
    if (e instanceof LawFailure) return e
    throw e
  }
  return expect.unreachable('the wrong derivative passed') as never
}

const ratio = (c: { error: number; tolerance: number }) => c.error / c.tolerance
const elements = (x: unknown): number[] => (typeof x === 'number' ? [x] : Array.from((x as Tensor).data))

const s = (x: number) => 1 / (1 + Math.exp(-x))
const swish = (x: number) => x * s(x)

describe('a failure report explains the failure', () => {
  // swish with its σ(x) read off the tape: the tape's derivative is σ(x), missing x·σ′(x),
  // an error that grows with |x| (it vanishes at 0, where it used to be shrunk to: x ≈ −2e-7)
  const leaky = (x: Tensor) => mul(x, sigmoid(fromBuffer(Array.from(x.data), x.shape)))

  it('a wrong swish keeps a large |x|: shrinking keeps at least half the worst error, and says so', () => {
    const f = failureOf(() => checkGradient(leaky, tensors({ minRank: 1, maxRank: 1 }), { numRuns: 100, seed: 1 }))
    const d = f.details!
    expect(ratio(d.shrunk)).toBeGreaterThanOrEqual(ratio(d.worst) / 2)
    expect(ratio(d.worst)).toBeGreaterThanOrEqual(ratio(d.first))
    expect(ratio(d.shrunk)).toBeGreaterThan(1e5) // not a rounding flake: the old report said 1.00000000066×
    expect(Math.max(...elements(f.counterexample).map(Math.abs))).toBeGreaterThan(0.1)
    expect(d.failures).toBeGreaterThan(0)
    expect(d.failures).toBeLessThanOrEqual(d.cases)
    const lines = f.message.split('\n')
    expect(lines.length).toBeLessThanOrEqual(15)
    expect(lines[0]).toMatch(/^gradient law failed in \d+ of 100 cases: error \S+ = \S+× tolerance 1e-7 at the shrunk input \(fast-check seed 1; pass \{ seed: 1 \} to rerun\)$/)
    expect(f.message).toMatch(/\n {2}first failure \(case \d+\): error \S+ = \S+× tolerance 1e-7; input tensor\(\[/)
    expect(f.message).toMatch(/\n {2}shrunk from the worst \(\d+ steps?, keeping errors ≥ \S+× tolerance\): error/)
  })

  it('each line compares one quantity on both sides, and the worst entry matches the printed Jacobians', () => {
    const f = failureOf(() => checkGradient(leaky, tensors({ minRank: 1, maxRank: 1 }), { numRuns: 100, seed: 2 }))
    const text = f.message
    // the directional derivative is named as such, apart from the Jacobian entries
    expect(text).toMatch(/\n {2}directional derivative ⟨c, J·v⟩ \(random unit cotangent c, direction v\): reverse mode \S+, finite differences \S+\n/)
    const entry = /worst Jacobian entry J\[(\d+)\]\[(\d+)\] \(output element \d+, input element \d+\): reverse mode (\S+), finite differences (\S+), difference/.exec(text)!
    const rev = /\n {4}reverse mode +(\[.*\])\n/.exec(text)!
    const fd = /\n {4}finite differences +(\[.*\])/.exec(text)!
    const [i, j] = [Number(entry[1]), Number(entry[2])]
    const J = JSON.parse(rev[1]!) as number[][]
    const N = JSON.parse(fd[1]!) as number[][]
    expect(J[i]![j]!).toBeCloseTo(Number(entry[3]!.replace(/,$/, '')), 5)
    expect(N[i]![j]!).toBeCloseTo(Number(entry[4]!.replace(/,$/, '')), 5)
    // side by side: the columns line up
    expect(rev[0].trimEnd().length).toBe(fd[0].trimEnd().length)
  })

  it('a hand-written swish derivative σ(x)(1 + x), whose error x·σ(x)² grows with |x|, is reported at a large |x|', () => {
    const f = failureOf(() => checkGradientOf(swish, (x: number) => s(x) * (1 + x), numbers(), { numRuns: 100, seed: 3 }))
    const d = f.details!
    expect(Math.abs(f.counterexample as number)).toBeGreaterThan(0.5) // the old shrinker drove it to ≈ 1e-7
    expect(ratio(d.shrunk)).toBeGreaterThanOrEqual(ratio(d.worst) / 2)
    expect(f.message).toMatch(/\n {2}worst gradient entry x: hand-written \S+, finite differences \S+, difference/)
    expect(f.message).toMatch(/\n {2}gradients at the shrunk input \(x\):\n {4}hand-written +\[ *\d\S*\]\n {4}finite differences +\[ *\d\S*\]$/)
  })

  it("a third wrong swish, sigmoid's derivative σ(1 − σ) in place of swish's, fails clearly too", () => {
    const f = failureOf(() => checkGradientOf(swish, (x: number) => s(x) * (1 - s(x)), numbers(), { numRuns: 50, seed: 4 }))
    const d = f.details!
    expect(ratio(d.shrunk)).toBeGreaterThanOrEqual(ratio(d.worst) / 2)
    expect(ratio(d.shrunk)).toBeGreaterThan(1e6) // an O(1) relative error
    // the report's numbers are the gradients at the shrunk input, nothing else
    const x = f.counterexample as number
    expect(f.message).toContain(`worst gradient entry x: hand-written ${s(x) * (1 - s(x))}, finite differences`)
  })

  it('prints both Jacobians for 64 entries, and only names the size beyond', () => {
    const small = failureOf(() => checkGradient(leaky, tensorOf([8], { awayFrom: [0], margin: 0.5 }), { numRuns: 5, seed: 5 }))
    const J = JSON.parse(/\n {4}reverse mode +(\[.*\])\n/.exec(small.message)![1]!) as number[][]
    expect(J.length * J[0]!.length).toBe(64)
    expect(small.message.split('\n').length).toBeLessThanOrEqual(15)
    const large = failureOf(() => checkGradient(leaky, tensorOf([9], { awayFrom: [0], margin: 0.5 }), { numRuns: 5, seed: 5 }))
    expect(large.message).toMatch(/Jacobians at the shrunk input \(rows: output elements, columns: input elements\): 81 entries, more than 64, not printed/)
    expect(large.message).not.toMatch(/\n {4}reverse mode/)
  })

  it('names the input leaf of the worst entry for a tree of tensors', () => {
    const f = failureOf(() =>
      checkGradient((p: { a: Tensor; b: Tensor }) => mul(p.a, leaky(p.b)), fc.record({ a: tensorOf([2], { min: 1, max: 2 }), b: tensorOf([2], { awayFrom: [0], margin: 1 }) }), { numRuns: 10, seed: 6 })
    )
    expect(f.message).toMatch(/worst Jacobian entry J\[\d\]\[[23]\] \(output element \d, input element [23] = b\[[01]\]\)/)
  })

  it('the same seed gives the same report', () => {
    const run = () => failureOf(() => checkGradient(leaky, tensors({ minRank: 1, maxRank: 2 }), { numRuns: 30, seed: 7 })).message
    expect(run()).toBe(run())
  })

  it('a check that throws is reported as such, with the message', () => {
    const f = failureOf(() => checkGradientOf((x: number[]) => x[0]! + x[1]!, () => [1], arrays(2), { numRuns: 5, seed: 8 }))
    expect(f.message.split('\n')[0]).toMatch(/^hand-written gradient law failed in 5 of 5 cases: the check threw/)
    expect(f.message).toMatch(/the check threw: ArgumentError: checkGradientOf: gradF\(x\) has 1 entries but x has 2; the first unmatched entry is x\[1\]/)
  })
})

describe('checkGradientOf: gradients written by hand', () => {
  // seed 004: y = ln(x1) + x1·x2 − sin(x2)
  const y = ([x1, x2]: number[]) => Math.log(x1!) + x1! * x2! - Math.sin(x2!)
  const dy = ([x1, x2]: number[]) => [1 / x1! + x2!, x1! - Math.cos(x2!)]

  it("seed 004's gradient, written by hand, passes; at (2, 5) it is (5.5, 1.716…)", () => {
    const report = checkGradientOf(y, dy, arrays(2, { min: 0.5, max: 3 }), { numRuns: 100 })
    expect(report.cases).toBe(100)
    expect(report.maxError).toBeLessThanOrEqual(1e-7)
    const at = gradientError(y, dy, [2, 5])
    expect(at.entries.map((e) => e.name)).toEqual(['x[0]', 'x[1]'])
    expect(at.entries[0]!.numeric).toBeCloseTo(5.5, 9)
    expect(at.entries[1]!.numeric).toBeCloseTo(2 - Math.cos(5), 9)
    expect(at.maxError).toBeLessThan(1e-9)
  })

  it('numbers: a correct derivative passes, a wrong one fails', () => {
    const f = (x: number) => x * Math.sin(x)
    expect(checkGradientOf(f, (x: number) => Math.sin(x) + x * Math.cos(x), numbers(), { numRuns: 50 }).maxError).toBeLessThanOrEqual(1e-7)
    expect(() => checkGradientOf(f, (x: number) => x * Math.cos(x), numbers(), { numRuns: 50 })).toThrow(LawFailure)
    expect(handWrittenGradientMatches(f, (x: number) => Math.sin(x) + x * Math.cos(x), 0.7)).toBe(true)
  })

  it('nested arrays: the gradient of Σ w_ij² x_j has the shape of w', () => {
    const x = [1, -2, 0.5]
    const f = (w: number[][]) => w.reduce((a, row) => a + row.reduce((b, v, j) => b + v * v * x[j]!, 0), 0)
    const grad = (w: number[][]) => w.map((row) => row.map((v, j) => 2 * v * x[j]!))
    expect(checkGradientOf(f, grad, arrays([2, 3]), { numRuns: 50 }).maxError).toBeLessThanOrEqual(1e-7)
    const slip = (w: number[][]) => w.map((row, i) => row.map((v, j) => (i === 1 && j === 2 ? v * x[j]! : 2 * v * x[j]!)))
    expect(() => checkGradientOf(f, slip, arrays([2, 3]), { numRuns: 50 })).toThrow(/worst gradient entry x\[1\]\[2\]: hand-written/)
  })

  it('tensors: a gradient written with lamina ops (or as plain numbers) against f computed with lamina', () => {
    const f = (x: Tensor) => sum(mul(mul(x, x), x))
    expect(checkGradientOf(f, (x: Tensor) => mul(mul(x, x), 3), tensors({ maxRank: 2 }), { numRuns: 50 }).maxError).toBeLessThanOrEqual(1e-7)
    // the gradient as another library would hand it over: plain numbers in the same order
    expect(checkGradientOf(f, (x: Tensor) => Array.from(x.data, (v) => 3 * v * v), tensors({ maxRank: 2 }), { numRuns: 20 }).maxError).toBeLessThanOrEqual(1e-7)
    const failure = failureOf(() => checkGradientOf(f, (x: Tensor) => mul(mul(x, x), 2), tensorOf([2, 2], { min: 1, max: 2 }), { numRuns: 20, seed: 9 }))
    expect(failure.message).toMatch(/worst gradient entry x\[[01],[01]\]: hand-written/)
    expect(failure.message).toMatch(/gradients at the shrunk input \(x\[0,0\], x\[0,1\], x\[1,0\], x\[1,1\]\)/)
    // float32 inputs are held to the float32 gradient tolerance
    const f32 = checkGradientOf(f, (x: Tensor) => mul(mul(x, x), 3), tensors({ dtype: 'f32', maxRank: 1 }), { numRuns: 20 })
    expect(f32.tolerance).toBe(1e-2)
  })

  describe("a student's manual backprop of a tiny MLP", () => {
    // L = ½(y − t)², y = W2·tanh(W1 x + b1) + b2, on one fixed example
    type Params = { W1: number[][]; b1: number[]; W2: number[]; b2: number }
    const x = [0.5, -1.2]
    const target = 0.3
    const forward = (p: Params) => {
      const z = p.W1.map((row, i) => row[0]! * x[0]! + row[1]! * x[1]! + p.b1[i]!)
      const h = z.map(Math.tanh)
      const y = h.reduce((a, hi, i) => a + p.W2[i]! * hi, p.b2)
      return { h, y }
    }
    const loss = (p: Params) => 0.5 * (forward(p).y - target) ** 2
    const backprop =
      (bug: boolean) =>
      (p: Params): Params => {
        const { h, y } = forward(p)
        const dy = y - target
        const dh = p.W2.map((w) => dy * w)
        const dz = dh.map((d, i) => d * (1 - h[i]! ** 2))
        return {
          W1: dz.map((d) => x.map((xj) => d * xj)),
          b1: bug ? dh : dz, // the bug: the bias gradient skips tanh′
          W2: h.map((hi) => dy * hi),
          b2: dy
        }
      }
    const params = fc.record({ W1: arrays([3, 2]), b1: arrays(3), W2: arrays(3), b2: numbers() })

    it('the correct backward pass passes', () => {
      expect(checkGradientOf(loss, backprop(false), params, { numRuns: 100 }).maxError).toBeLessThanOrEqual(1e-7)
    })

    it('the buggy one fails, naming a b1 entry, with both gradients side by side', () => {
      const f = failureOf(() => checkGradientOf(loss, backprop(true), params, { numRuns: 100, seed: 10 }))
      expect(f.message).toMatch(/\n {2}worst gradient entry b1\[[012]\]: hand-written \S+, finite differences \S+, difference/)
      expect(f.message).toMatch(/\n {2}gradients at the shrunk input \(entries in the order of x: W1\[0\]\[0\] … b2\):\n {4}hand-written +\[.*\]\n {4}finite differences +\[.*\]/)
      expect(f.message.split('\n').length).toBeLessThanOrEqual(15)
    })

    it('at one point, gradientError gives every entry: only b1 is wrong', () => {
      const p: Params = { W1: [[0.3, -0.8], [1.1, 0.4], [-0.5, 0.9]], b1: [0.1, -0.2, 0.7], W2: [0.6, -1.3, 0.8], b2: 0.05 }
      const check = gradientError(loss, backprop(true), p)
      expect(check.entries.map((e) => e.name)).toEqual(['W1[0][0]', 'W1[0][1]', 'W1[1][0]', 'W1[1][1]', 'W1[2][0]', 'W1[2][1]', 'b1[0]', 'b1[1]', 'b1[2]', 'W2[0]', 'W2[1]', 'W2[2]', 'b2'])
      for (const e of check.entries) {
        if (e.name.startsWith('b1')) expect(e.error).toBeGreaterThan(1e-3)
        else expect(e.error).toBeLessThan(1e-9)
      }
      expect(check.worst!.name).toMatch(/^b1/)
      expect(gradientError(loss, backprop(false), p).maxError).toBeLessThan(1e-9)
    })
  })

  it('usage errors name the value', () => {
    expect(() => gradientError((v: Tensor) => mul(v, 2), (v: Tensor) => v, tensor([1, 2]))).toThrow(
      new ArgumentError('gradientError: f must return a number or a one-element tensor, got a tensor of shape [2]')
    )
    expect(() => gradientError((p: { a: number }) => p.a, () => ({ a: 'one' }) as never, { a: 1 })).toThrow(
      /gradientError: expected a number, a tensor, or an array or plain record of them at gradF\(x\)\.a, got a string/
    )
    expect(() => arrays(-1)).toThrow(ArgumentError)
  })
})
