/**
 * `Tape.forward`, the forward sweep over a recorded tape (the teaching trace's tangent column):
 * its tangents equal forward mode's (`jvp`, which pushes them while the function runs) and a
 * central difference of the same function written over plain numbers.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { Tape, add, div, exp, jvp, log, mul, sin, sub, tensor } from 'lamina-nn'
import type { Tensor } from 'lamina-nn'

/** y = sin(x·z) + x·exp(z) − z/3, with x·z used twice. */
const f = (x: Tensor, z: Tensor): Tensor => {
  const xz = mul(x, z)
  return sub(add(sin(xz), mul(x, exp(z))), div(add(z, xz), tensor(3)))
}
const reference = (x: number, z: number): number => Math.sin(x * z) + x * Math.exp(z) - (z + x * z) / 3

const recorded = (x0: number, z0: number) => {
  const trace = new Tape.ReverseTrace(1)
  const x = trace.variable(tensor(x0))
  const z = trace.variable(tensor(z0))
  const y = f(x, z)
  return { tape: trace.recorded(y)()[1], x: trace.idOf(x)!, z: trace.idOf(z)!, y: trace.idOf(y)! }
}

describe('Tape.forward', () => {
  it('gives the tangent of forward mode and of a central difference along any direction', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -2, max: 2, noNaN: true }),
        fc.double({ min: -2, max: 2, noNaN: true }),
        fc.double({ min: -1, max: 1, noNaN: true }),
        fc.double({ min: -1, max: 1, noNaN: true }),
        (x0, z0, dx, dz) => {
          const r = recorded(x0, z0)
          const swept = Tape.forward(r.tape, new Map([[r.x, tensor(dx)], [r.z, tensor(dz)]])).get(r.y)!.item()
          const [, running] = jvp(f, [tensor(x0), tensor(z0)], [tensor(dx), tensor(dz)])
          expect(Math.abs(swept - running.item())).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(swept)))
          const h = 1e-6
          const difference = (reference(x0 + h * dx, z0 + h * dz) - reference(x0 - h * dx, z0 - h * dz)) / (2 * h)
          expect(Math.abs(swept - difference)).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(difference)))
        }
      ),
      { numRuns: 50, seed: 15 }
    )
  })

  it('leaves a node that no seeded value reaches without a tangent (a symbolic zero), and never evaluates its rule', () => {
    const trace = new Tape.ReverseTrace(1)
    const x = trace.variable(tensor(2))
    const z = trace.variable(tensor(3))
    const lz = log(z) // depends on z only
    const y = add(mul(x, x), lz)
    const edges: Tape.TangentEdge[] = []
    const tangents = Tape.forward(trace.recorded(y)()[1], new Map([[trace.idOf(x)!, tensor(1)]]), { observe: (e) => edges.push(e) })
    expect(tangents.has(trace.idOf(lz)!)).toBe(false)
    expect(edges.map((e) => [e.node.prim, e.input])).toEqual([['mul', 0], ['mul', 1], ['add', 0]])
    // x used twice: both uses add 2·1 to ẏ = 2x·ẋ = 4
    expect(edges.map((e) => e.contribution.item())).toEqual([2, 2, 4])
    expect(tangents.get(trace.idOf(y)!)!.item()).toBe(4)
  })

  it('keeps the seed of a seeded intermediate value (its own inputs are not pushed into it)', () => {
    const trace = new Tape.ReverseTrace(1)
    const x = trace.variable(tensor(0.5))
    const s = sin(x)
    const y = mul(s, s)
    const tangents = Tape.forward(trace.recorded(y)()[1], new Map([[trace.idOf(x)!, tensor(1)], [trace.idOf(s)!, tensor(1)]]))
    expect(tangents.get(trace.idOf(s)!)!.item()).toBe(1)
    // ẏ = 2 sin(x) · ṡ with ṡ = 1
    expect(Math.abs(tangents.get(trace.idOf(y)!)!.item() - 2 * Math.sin(0.5))).toBeLessThan(1e-15)
  })
})
