// Every entry of the primitive table goes through every derivative law. The cases come
// from `primitiveCases`, a mapped type over `Prim`, so a new primitive without cases does
// not compile, and the first test below fails if the table and the cases ever disagree.
import { describe, expect, it, afterAll } from 'vitest'
import { Prim } from 'lamina-nn'
import { tensor } from 'lamina-nn'
import { checkPrimitive, gradientMeasure, primitiveCases, zeroDerivative } from 'lamina-nn/laws'
import type { LawReport } from 'lamina-nn/laws'

// 1,000 cases per primitive for the first-order laws in CI; LAMINA_LAW_RUNS raises or lowers it.
const runs = Number(process.env['LAMINA_LAW_RUNS'] ?? 1000)
const counts = {
  gradient: runs,
  jvp: runs,
  innerProduct: runs,
  forwardReverse: Math.max(1, Math.round(runs / 5)),
  secondOrder: Math.max(1, Math.round(runs / 5))
}

const table: { prim: string; reports: LawReport[] }[] = []

describe('the primitive table', () => {
  it('has law cases for exactly its primitives', () => {
    expect(Object.keys(primitiveCases).sort()).toEqual([...Prim.names].sort())
  })

  it('checks stopGradient against zero, since finite differences of its value (the identity) would say 1', () => {
    // stopGradient by definition; compare and sign because they are piecewise constant, with jumps finite differences cannot straddle
    expect([...zeroDerivative]).toEqual(['stopGradient', 'compare', 'sign'])
    const reports = checkPrimitive('stopGradient', { gradient: 20, jvp: 20, innerProduct: 20, forwardReverse: 5, secondOrder: 5 })
    expect(reports.map((r) => r.law.replace('stopGradient: ', ''))).toEqual([
      'reverse mode is zero (derivative 0 by definition)',
      'forward mode is zero (derivative 0 by definition)',
      'inner-product identity',
      'forward and reverse Jacobians agree',
      'Hessian symmetry',
      'Hessian-vector product vs differences of gradients'
    ])
    for (const r of reports) expect(r.maxError, r.law).toBe(0)
    // the finite-difference law, had it been applied, fails: the rule is not the derivative of the value
    const stopped = (x: ReturnType<typeof tensor<number[]>>) => Prim.bind('stopGradient', [x], {})
    expect(gradientMeasure(stopped, tensor([0.5, -1]), 1).error).toBeGreaterThan(0.5)
  })

  it.each(Prim.names.map((p) => [p]))('%s satisfies every derivative law', (prim) => {
    const reports = checkPrimitive(prim, counts)
    table.push({ prim, reports })
    for (const r of reports) {
      expect(r.maxError, r.law).toBeLessThanOrEqual(r.tolerance)
      expect(r.cases, r.law).toBeGreaterThanOrEqual(r.law.includes('Hessian') || r.law.includes('Jacobians') ? counts.secondOrder : runs)
    }
    // the numbers the issue asks for, in float64
    expect(reports[0]!.tolerance).toBe(1e-7)
    expect(reports[2]!.tolerance).toBe(1e-12)
  })
})

afterAll(() => {
  if (table.length === 0) return
  const cols = ['reverse/FD', 'forward/FD', 'inner product', 'fwd=rev', 'H symmetric', 'hvp/FD']
  const lines = [`${'primitive'.padEnd(12)} ${'cases'.padStart(5)}  ${cols.map((c) => c.padStart(13)).join('')}`]
  for (const { prim, reports } of table) {
    lines.push(`${prim.padEnd(12)} ${String(reports[0]!.cases).padStart(5)}  ${reports.map((r) => r.maxError.toExponential(1).padStart(13)).join('')}`)
  }
  console.log(`largest error per law (float64):\n${lines.join('\n')}`)
})
