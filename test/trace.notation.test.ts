/**
 * The trace's notation tables (`src/ad/trace/notation.ts`) are total over the built-in
 * primitives at run time too (a JavaScript caller gets no compile-time check), every row formula
 * names all its operands, and every closed-form partial the trace prints is the derivative:
 * evaluated in float64 it matches a central difference of the primitive itself.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { definePrimitive, mul, sum, tensor } from 'lamina-nn'
import { primitiveCases, zeroDerivative } from 'lamina-nn/laws'
import type { PrimitiveCase } from 'lamina-nn/laws'
import * as Trace from '../src/ad/trace.js'
import type { Formula } from '../src/ad/trace.js'
import { USER_PRIMITIVE_PARTIAL, contributionOf, expressionOf, notations, partialNotationOf, partialOf, partials } from '../src/ad/trace/notation.js'
import { bind, names } from '../src/prim.js'
import type { Prim } from '../src/prim.js'
import { fromBuffer } from '../src/tensor.js'
import type { Tensor } from '../src/tensor.js'

const own = (table: object, key: string): unknown =>
  Object.prototype.hasOwnProperty.call(table, key) ? (table as Record<string, unknown>)[key] : undefined

/** The operands of a case as the trace writes them: `v₀, v₁, …` (index k for argument k). */
const operandsOf = (c: PrimitiveCase<Prim>): Formula[] => [...c.args, ...(c.data ?? [])].map((_, k) => ({ kind: 'var', index: k }))
const shapesOf = (c: PrimitiveCase<Prim>) => [...c.args, ...(c.data ?? [])].map((a) => a.shape)

/** The row indices a formula refers to. */
const varsIn = (f: Formula): Set<number> => {
  const out = new Set<number>()
  const go = (g: Formula): void => {
    switch (g.kind) {
      case 'var': out.add(g.index); return
      case 'binary':
      case 'indicator': go(g.left); go(g.right); return
      case 'neg':
      case 'apply':
      case 'sqrt':
      case 'abs':
      case 'transpose': go(g.arg); return
      case 'call': g.args.forEach(go); return
      case 'pow': go(g.base); return
      case 'power': go(g.base); go(g.exponent); return
      case 'bar':
      case 'input':
      case 'symbol':
      case 'number':
      case 'constant':
      case 'label':
      case 'partial': return
    }
  }
  go(f)
  return out
}

/** A partial formula in float64, with operand k's value `at(k)`: the reference the rules are compared with. */
const evaluate = (f: Formula, at: (k: number) => number): number => {
  const go = (g: Formula): number => evaluate(g, at)
  switch (f.kind) {
    case 'var': return at(f.index)
    case 'number': return f.value
    case 'symbol':
      if (f.text === 'π') return Math.PI
      break
    case 'binary': {
      const [l, r] = [go(f.left), go(f.right)]
      if (f.op === '+') return l + r
      if (f.op === '−') return l - r
      if (f.op === '×') return l * r
      if (f.op === '/') return l / r
      break
    }
    case 'neg': return -go(f.arg)
    case 'apply': {
      const fn = ({ exp: Math.exp, ln: Math.log, sin: Math.sin, cos: Math.cos, tanh: Math.tanh } as Record<string, (x: number) => number>)[f.fn]
      if (fn !== undefined) return fn(go(f.arg)) ** (f.power ?? 1)
      break
    }
    case 'call':
      if (f.fn === 'σ' && f.args.length === 1) return 1 / (1 + Math.exp(-go(f.args[0]!)))
      if (f.fn === 'sign' && f.args.length === 1) return Math.sign(go(f.args[0]!))
      break
    case 'pow': return go(f.base) ** f.exponent
    case 'power': return go(f.base) ** go(f.exponent)
    case 'sqrt': return Math.sqrt(go(f.arg))
    case 'abs': return Math.abs(go(f.arg))
    case 'indicator': {
      const [l, r] = [go(f.left), go(f.right)]
      const holds = { '>': l > r, '<': l < r, '>=': l >= r, '<=': l <= r, '==': l === r, '!=': l !== r }[f.rel]
      return holds ? 1 : 0
    }
    default: break
  }
  throw new Error(`the test cannot evaluate ${JSON.stringify(f)}`)
}

/** Σ of every output element of the primitive, summed in float64. */
const total = (prim: Prim, c: PrimitiveCase<Prim>, args: readonly Tensor[]): number => {
  let s = 0
  for (const v of bind(prim, [...args, ...(c.data ?? [])], c.params).data) s += v
  return s
}

/** `∂(Σ outputs)/∂(element e of argument i)` by a central difference: the partial of an elementwise op or a sum/mean, each element feeding one output. */
const centralDifference = (prim: Prim, c: PrimitiveCase<Prim>, i: number, e: number): number => {
  const x = c.args[i]!
  const h = 1e-6 * Math.max(1, Math.abs(x.data[e]!))
  const moved = (d: number) => {
    const data = Float64Array.from(x.data)
    data[e]! += d
    return c.args.map((a, k) => (k === i ? fromBuffer(data, x.shape, { dtype: x.dtype }) : a))
  }
  return (total(prim, c, moved(h)) - total(prim, c, moved(-h))) / (2 * h)
}

describe('the notation tables are total', () => {
  it('every built-in primitive of the rule table has a row formula and a partial entry, and the tables name nothing else', () => {
    expect(names.length).toBeGreaterThan(30)
    for (const prim of names) {
      expect(typeof own(notations, prim), `notation of ${prim}`).toBe('function')
      const entry = own(partials, prim) as { kind?: unknown; partial?: unknown; reason?: unknown } | undefined
      expect(entry, `partial entry of ${prim}`).toBeDefined()
      if (entry!.kind === 'closed form') expect(typeof entry!.partial, `closed-form partial of ${prim}`).toBe('function')
      else {
        expect(entry!.kind, `partial entry of ${prim}`).toBe('shown as ∂')
        expect(typeof entry!.reason === 'string' && entry!.reason.length > 20, `the reason ${prim} has no closed form`).toBe(true)
      }
    }
    expect(Object.keys(notations).sort()).toEqual([...names].sort())
    expect(Object.keys(partials).sort()).toEqual([...names].sort())
  })

  it('every row formula names each of its operands', () => {
    for (const prim of names) {
      fc.assert(
        fc.property(primitiveCases[prim] as fc.Arbitrary<PrimitiveCase<Prim>>, (c) => {
          const ops = operandsOf(c)
          const formula = expressionOf(prim, ops, c.params, shapesOf(c))
          expect([...varsIn(formula)].sort(), `${prim}: ${Trace.showFormula(formula)}`).toEqual(ops.map((_, k) => k))
        }),
        { numRuns: 5, seed: 15 }
      )
    }
  })

  it("each closed-form partial, in float64, is the central difference of the primitive (zero by definition for the piecewise-constant ones and stopGradient)", () => {
    const closedForm = names.filter((p) => partials[p].kind === 'closed form')
    // the elementwise primitives and the two linear reductions
    const elementwise = ['add', 'sub', 'mul', 'div', 'neg', 'stopGradient', 'compare', 'sign', 'pow', 'power', 'exp', 'log', 'sin', 'cos', 'tanh', 'sigmoid', 'relu', 'softplus', 'abs', 'sqrt', 'erf', 'maximum', 'minimum']
    expect([...closedForm].sort()).toEqual([...elementwise, 'sum', 'mean'].sort())
    for (const prim of closedForm) {
      fc.assert(
        fc.property(primitiveCases[prim] as fc.Arbitrary<PrimitiveCase<Prim>>, (c) => {
          const ops = operandsOf(c)
          c.args.forEach((x, i) => {
            const partial = partialOf(prim, ops, i, c.params, shapesOf(c))!
            for (let e = 0; e < x.size; e++) {
              const shown = evaluate(partial, (k) => [...c.args, ...(c.data ?? [])][k]!.data[e]!)
              const expected = zeroDerivative.has(prim) ? 0 : centralDifference(prim, c, i, e)
              expect(Math.abs(shown - expected), `${prim}, ∂/∂operand ${i} = ${Trace.showFormula(partial)} at element ${e}: ${shown} vs ${expected}`).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(expected)))
            }
          })
        }),
        { numRuns: 20, seed: 15 }
      )
    }
  })

  it('a primitive with no closed form is shown as ∂vᵢ/∂vⱼ in the adjoint table, with its reason in the table', () => {
    expect(partials.logsumexp.kind).toBe('shown as ∂')
    const t = Trace.trace(({ x }) => bind('logsumexp', [x], { axes: [0], keepdims: false }), { x: tensor([1, 2, 3]) })
    expect(t.adjoints.map((s) => s.partial)).toEqual(['∂v₁/∂v₀'])
    // the step's contribution is still the pullback: softmax(x), by a float64 loop
    const z = Math.exp(1) + Math.exp(2) + Math.exp(3)
    expect([...t.adjoints[0]!.contribution.data].map((v, k) => Math.abs(v - Math.exp(k + 1) / z)).every((d) => d < 1e-15)).toBe(true)
  })

  it("the matrix product's entry writes its steps as products with the other factor", () => {
    const ops: Formula[] = [{ kind: 'var', index: 1 }, { kind: 'var', index: 2 }]
    const partial: Formula = { kind: 'partial', of: 3, wrt: 1 }
    expect(Trace.showFormula(contributionOf('matmul', ops, 0, { transposeA: false, transposeB: false }, 3, partial))).toBe('v̄₃ · v₂ᵀ')
    expect(Trace.showFormula(contributionOf('matmul', ops, 1, { transposeA: false, transposeB: false }, 3, partial))).toBe('v₁ᵀ · v̄₃')
    // batchMatmul has no such form: the generic v̄ × ∂
    expect(Trace.showFormula(contributionOf('batchMatmul', ops, 0, { transposeA: false, transposeB: false }, 3, partial))).toBe('v̄₃ × ∂v₃/∂v₁')
  })
})

describe("a user's primitive takes the explicit generic path", () => {
  const cube = definePrimitive({
    name: 'traceNotationCube',
    arity: 1,
    forward: ([x]) => mul(mul(x!, x!), x!),
    jvp: ({ args: [x] }) => [(t) => mul(t, mul(tensor(3), mul(x!, x!)))]
  })

  it('is written as its name applied to its operands, and its partial as ∂vᵢ/∂vⱼ', () => {
    expect(partialNotationOf(cube.primitive)).toBe(USER_PRIMITIVE_PARTIAL)
    const t = Trace.trace(({ x }) => sum(cube(x)), { x: 2 })
    const row = t.rows.find((r) => r.op === cube.primitive)!
    expect(row.expression).toBe(`${cube.primitive}(v₀)`)
    const step = t.adjoints.find((s) => s.source === row.index)!
    expect(step.partial).toBe(`∂${row.name}/∂v₀`)
    expect(step.contribution.item()).toBe(3 * 2 * 2) // d x³/dx = 3x² at 2
  })
})
