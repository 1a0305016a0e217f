// Every entry of the primitive table goes through every derivative law. The cases come
// from `primitiveCases`, a mapped type over `Prim`, so a new primitive without cases does
// not compile, and the first test below fails if the table and the cases ever disagree.
import { describe, expect, it, afterAll } from 'vitest'
import { Prim } from 'lamina-nn'
import { checkPrimitive, primitiveCases } from 'lamina-nn/laws'
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
