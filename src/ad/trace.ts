/**
 * The teaching view of differentiation: the forward primal trace and the reverse adjoint
 * trace of an expression (seed 004's tables for `y = ln(x1) + x1·x2 − sin(x2)`), as plain
 * data and as tables in text, Markdown and LaTeX.
 *
 * {@link trace} runs the function once on the reverse-mode tape, so every primitive the
 * function applies becomes one row `vᵢ = op(…)`. From those rows it computes, with the
 * primitives' own rules and nothing typed in by hand:
 * - the tangent column `v̇ᵢ` (forward mode): the tape's forward sweep (`Tape.forward`) pushes a
 *   direction through every recorded node's JVP rule, as `jvp` does while a function runs;
 * - the adjoint steps `v̄ⱼ += v̄ᵢ ∂vᵢ/∂vⱼ` (reverse mode): the tape's own backward sweep
 *   (`Tape.backward`), observed edge by edge, gives every contribution and the running sum it
 *   adds to (seed 002's rule: a value used several times sums the adjoints of its uses).
 *
 * Where a value or a derivative does not exist (ln of a negative number, a division by zero, the
 * derivative in an exponent whose base is negative, …) the trace still has every row, and its
 * `warnings` say, at the row where the problem starts, what is undefined and why.
 *
 * Bookkeeping that is not a mathematical step is hidden: a plain-number constant (and its
 * broadcast) is folded into the formula (`v₁ × 2`), and a reshape or broadcast that only adds
 * or drops axes of length 1 is skipped.
 *
 * @example
 * ```ts
 * import { Trace, add, log, mul, sin, sub } from 'lamina-nn'
 * import assert from 'node:assert'
 * // seed 004, its steps in the order of its table
 * const t = Trace.trace(({ x1, x2 }) => {
 *   const v1 = log(x1), v2 = mul(x1, x2), v3 = sin(x2)
 *   return sub(add(v1, v2), v3)
 * }, { x1: 2, x2: 5 })
 * assert.deepStrictEqual(t.rows.map((r) => r.expression), ['x1', 'x2', 'ln v₋₁', 'v₋₁ × v₀', 'sin v₀', 'v₁ + v₂', 'v₄ − v₃'])
 * assert.strictEqual(t.gradient['x1']!.item(), 5.5)
 * ```
 *
 * @module
 */
import { ArgumentError, DifferentiationError } from '../error.js'
import { bind, ruleOf } from '../prim.js'
import type { Shape } from '../shape.js'
import { Tensor, full } from '../tensor.js'
import { fresh } from './level.js'
import * as Tp from './tape.js'
import type { AdjointStep, Inputs, Trace, TraceOperand, TraceOptions, TraceRow, Variables } from './trace/data.js'
import { allFinite, rowWarnings } from './trace/domains.js'
import type { TraceWarning } from './trace/domains.js'
import { printText, rowName, showShape } from './trace/formula.js'
import type { Formula } from './trace/formula.js'
import { constantFormula, contributionOf, expressionOf, partialOf } from './trace/notation.js'

export type { AdjointStep, Inputs, Scalar, Trace, TraceOperand, TraceOptions, TraceRow, Variables } from './trace/data.js'
export type { TraceWarning } from './trace/domains.js'
export type { Formula } from './trace/formula.js'
export { showFormula } from './trace/formula.js'
export { render, renderLatex, renderMarkdown, renderText } from './trace/render.js'
export type { Format, RenderOptions } from './trace/render.js'

const toInput = (value: unknown, name: string): Tensor => {
  if (typeof value === 'number') return full([], value, { dtype: 'f64' })
  if (value instanceof Tensor) return value
  const what = value === null ? 'null' : typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value
  throw new ArgumentError(`trace: input "${name}" must be a tensor or a number, got ${what}`)
}


/** Shapes equal once their axes of length 1 are dropped: a reshape between them moves nothing. */
const squeezeEqual = (a: Shape, b: Shape): boolean => {
  const sa = a.filter((d) => d !== 1)
  const sb = b.filter((d) => d !== 1)
  return sa.length === sb.length && sa.every((d, i) => d === sb[i])
}

/** The input tangents requested by the options, one per input (`null` is a symbolic zero). */
const inputTangents = (names: readonly string[], primals: readonly Tensor[], tangent: TraceOptions['tangent']): (Tensor | null)[] | undefined => {
  if (tangent === undefined) return undefined
  if (typeof tangent === 'string') {
    const k = names.indexOf(tangent)
    if (k < 0) throw new ArgumentError(`trace: the tangent names "${tangent}", which is not an input (inputs: ${names.join(', ')})`)
    return primals.map((p, i) => (i === k ? full(p.shape, 1, { dtype: p.dtype }) : null))
  }
  if (typeof tangent !== 'object' || tangent === null) throw new ArgumentError(`trace: the tangent must be an input's name or a record of tangents`)
  for (const key of Object.keys(tangent)) {
    if (!names.includes(key)) throw new ArgumentError(`trace: the tangent names "${key}", which is not an input (inputs: ${names.join(', ')})`)
  }
  return names.map((name, i) => {
    const p = primals[i]!
    const t = Object.prototype.hasOwnProperty.call(tangent, name) ? tangent[name] : undefined
    if (t === undefined) return null
    if (typeof t === 'number') return full(p.shape, t, { dtype: p.dtype })
    if (!(t instanceof Tensor)) throw new ArgumentError(`trace: the tangent of "${name}" must be a number or a tensor`)
    if (t.shape.length !== p.shape.length || t.shape.some((d, j) => d !== p.shape[j]) || t.dtype !== p.dtype) {
      throw new DifferentiationError(
        `trace: the tangent of "${name}" has shape ${showShape(t.shape)} (${t.dtype}) but the input has shape ${showShape(p.shape)} (${p.dtype})`
      )
    }
    return t
  })
}

/**
 * Traces `f` at `inputs`: its forward primal trace (one row per primitive, and the tangent
 * column when `options.tangent` is given) and, when it returns a scalar, its reverse adjoint
 * trace and gradient. Every number is computed by the primitives' own rules.
 *
 * The inputs become the rows `v₁₋ₙ … v₀` in the order of the record's keys; the intermediate
 * values follow as `v₁, v₂, …` in evaluation order. Values that do not lead to the output are
 * left out.
 *
 * @example
 * ```ts
 * import { Trace, tensor, add, log, mul, sin, sub } from 'lamina-nn'
 * import assert from 'node:assert'
 * // seed 004: y = ln(x1) + x1·x2 − sin(x2) at (2, 5), with the tangent along x1.
 * // Rows come in evaluation order: name the steps to get the seed's numbering.
 * const f = ({ x1, x2 }: { readonly x1: Trace.Scalar; readonly x2: Trace.Scalar }) => {
 *   const v1 = log(x1), v2 = mul(x1, x2), v3 = sin(x2)
 *   return sub(add(v1, v2), v3)
 * }
 * const t = Trace.trace(f, { x1: 2, x2: tensor(5) }, { tangent: 'x1' })
 * assert.deepStrictEqual(t.rows.map((r) => r.name), ['v₋₁', 'v₀', 'v₁', 'v₂', 'v₃', 'v₄', 'v₅'])
 * assert.strictEqual(t.rows[3]!.expression, 'v₋₁ × v₀')
 * assert.strictEqual(t.output, 5)
 * assert.ok(Math.abs(t.rows[6]!.value.item() - (Math.log(2) + 10 - Math.sin(5))) < 1e-12)
 * assert.strictEqual(t.rows[6]!.tangent!.item(), 5.5)          // ẏ = ∂y/∂x1
 * // the backward sweep: v̄₄, v̄₃, v̄₁, v̄₂, v̄₀, v̄₋₁, then v̄₀ and v̄₋₁ accumulate
 * assert.deepStrictEqual(t.adjoints.map((s) => [s.target, s.source, s.partial]), [
 *   [4, 5, '1'], [3, 5, '−1'], [1, 4, '1'], [2, 4, '1'], [0, 3, 'cos v₀'], [-1, 2, 'v₀'], [0, 2, 'v₋₁'], [-1, 1, '1/v₋₁']
 * ])
 * assert.deepStrictEqual(t.adjoints.map((s) => s.accumulates), [false, false, false, false, false, false, true, true])
 * assert.strictEqual(t.gradient['x1']!.item(), 5.5)
 * assert.deepStrictEqual(t.warnings, [])
 * // outside a domain: the rows are all there, and a warning says what is undefined and why
 * const bad = Trace.trace(({ x1, x2 }) => mul(log(x1), x2), { x1: -1, x2: 5 })
 * assert.deepStrictEqual(bad.warnings.map((w) => [w.row, w.op, w.kind]), [[1, 'log', 'value']])
 * assert.match(bad.warnings[0]!.message, /^v₁ = ln v₋₁ is NaN: ln x is defined only for x > 0/)
 * ```
 */
export const trace = <I extends Inputs>(f: (inputs: Variables<I>) => Tensor, inputs: I, options: TraceOptions = {}): Trace => {
  if (typeof inputs !== 'object' || inputs === null) throw new ArgumentError('trace: the inputs must be a record of tensors or numbers')
  const names = Object.keys(inputs)
  if (names.length === 0) throw new ArgumentError('trace: expected at least one input')
  const primals = names.map((name) => toInput(inputs[name], name))
  const n = names.length

  // ---- record: each primitive applied to the inputs writes a node on the tape
  const recorder = new Tp.ReverseTrace(fresh())
  const variables = primals.map((p) => recorder.variable(p))
  const ids = variables.map((v) => recorder.idOf(v)!)
  const y: unknown = f(Object.fromEntries(names.map((name, k) => [name, variables[k]!])) as Variables<I>)
  if (!(y instanceof Tensor)) throw new DifferentiationError(`trace: the function must return a tensor, got ${y === null ? 'null' : typeof y}`)
  const yId = recorder.idOf(y)
  if (yId === undefined) throw new DifferentiationError('trace: the output does not depend on the inputs, so there is nothing to trace')
  const tape = recorder.recorded(y)()[1]
  const nodes = Tp.nodes(tape)
  const byId = new Map(nodes.map((node) => [node.id, node]))

  // ---- bookkeeping nodes (reshapes that only add or drop axes of length 1) are not rows
  const hidden = new Set(
    nodes
      .filter((node) => (node.prim === 'reshape' || node.prim === 'broadcast') && node.id !== yId && squeezeEqual(node.context.args[0]!.shape, node.context.out.shape))
      .map((node) => node.id)
  )
  const resolve = (id: number): number => {
    let cur = id
    while (hidden.has(cur)) cur = byId.get(cur)!.inputs[0]!
    return cur
  }
  const visible = nodes.filter((node) => !hidden.has(node.id))
  const indexOf = new Map<number, number>()
  ids.forEach((id, k) => indexOf.set(id, k + 1 - n))
  visible.forEach((node, k) => indexOf.set(node.id, k + 1))
  const idx = (id: number): number => indexOf.get(resolve(id))!

  // ---- the tangent column: the tape's forward sweep (forward mode's step on the recorded
  // nodes), observed edge by edge. Forward mode proper (`jvp`) pushes tangents while the
  // function runs, with no recorded nodes to attach them to.
  const seeds = inputTangents(names, primals, options.tangent)
  const where = (node: Tp.Node, i: number): string => `${node.prim} (${indexOf.has(node.id) ? `row ${rowName(indexOf.get(node.id)!)}` : `node ${node.id}`}, input ${i})`
  // (node, operand) pairs whose rule turned a finite tangent or adjoint into ∞ or NaN
  const infinitePartials: { readonly id: number; readonly operand: number }[] = []
  const tangents =
    seeds === undefined
      ? undefined
      : Tp.forward(tape, new Map(ids.flatMap((id, k) => (seeds[k] === null ? [] : [[id, seeds[k]!] as const]))), {
          observe: ({ node, input, tangent, contribution }) => {
            if (indexOf.has(node.id) && allFinite(tangent) && !allFinite(contribution)) infinitePartials.push({ id: node.id, operand: input })
          },
          // a non-finite value here is the tangent (forward-mode) rule's, not the forward pass's
          phase: (node, i) => `tangent rule of ${where(node, i)}`
        })
  const tangentOf = (id: number, like: Tensor): Tensor | undefined =>
    tangents === undefined ? undefined : (tangents.get(id) ?? full(like.shape, 0, { dtype: like.dtype }))

  // ---- rows
  const withTangent = (row: Omit<TraceRow, 'tangent'>, id: number): TraceRow => {
    const t = tangentOf(id, row.value)
    return Object.freeze(t === undefined ? row : { ...row, tangent: t })
  }
  const operandFormulas = new Map<number, readonly Formula[]>()
  const rows: TraceRow[] = []
  names.forEach((name, k) => {
    const formula: Formula = { kind: 'input', name }
    rows.push(withTangent({ index: k + 1 - n, name: rowName(k + 1 - n), op: 'input', operands: Object.freeze([]), expression: name, formula, value: primals[k]!, shape: primals[k]!.shape }, ids[k]!))
  })
  // derivatives are computed when there is an adjoint trace (a scalar y) or a tangent column
  const derivatives = y.size === 1 || seeds !== undefined
  const warnings: TraceWarning[] = []
  for (const node of visible) {
    const operands: TraceOperand[] = node.inputs.map((input, i) => (input === null ? Object.freeze({ constant: node.context.args[i]! }) : idx(input)))
    const formulas = operands.map((o): Formula => (typeof o === 'number' ? { kind: 'var', index: o } : constantFormula(o.constant)))
    operandFormulas.set(node.id, formulas)
    const formula = expressionOf(node.prim, formulas, node.context.params, node.context.args.map((a) => a.shape))
    const index = indexOf.get(node.id)!
    const value = node.context.out
    rows.push(withTangent({ index, name: rowName(index), op: node.prim, operands: Object.freeze(operands), expression: printText(formula), formula, value, shape: value.shape }, node.id))
    const found = rowWarnings(index, node.prim, {
      row: `${rowName(index)} = ${printText(formula)}`,
      args: node.context.args,
      out: value,
      params: node.context.params,
      names: formulas.map(printText),
      traced: node.inputs.map((input) => input !== null)
    })
    warnings.push(...found.filter((w) => derivatives || w.kind === 'value'))
  }

  // ---- the backward sweep: the tape's own, observed edge by edge. A row's step per use of a
  // traced value is one edge; an edge into a hidden reshape is followed down to the row it
  // reshapes (its pullback only restores that row's shape), so each use stays one step.
  const steps: AdjointStep[] = []
  const scalar = y.size === 1
  const seed = scalar ? full(y.shape, 1, { dtype: y.dtype }) : undefined
  // the rows' adjoints, summed in the order of the steps
  const adjoints = new Map<number, Tensor>()
  if (seed !== undefined) {
    adjoints.set(yId, seed)
    const edges: Tp.Edge[] = []
    Tp.backward(tape, new Map([[yId, seed]]), {
      observe: (edge) => edges.push(edge),
      // a non-finite value here is the reverse (adjoint) rule's, not the forward pass's
      phase: (node, i) => `reverse (adjoint) rule of ${where(node, i)}`
    })
    for (const edge of edges) {
      const { node, input: i, adjoint } = edge
      if (hidden.has(node.id)) continue // folded into the steps of the rows that use it
      if (allFinite(adjoint) && !allFinite(edge.contribution)) infinitePartials.push({ id: node.id, operand: i })
      let { target, contribution } = edge
      while (hidden.has(target)) {
        const h = byId.get(target)!
        contribution = ruleOf(h.prim).vjp(h.context)[0]!(contribution)
        target = h.inputs[0]!
      }
      const previous = adjoints.get(target)
      // where the tape summed this target's uses in the same order, its sum is the row's
      const accumulated = edge.target === target && edge.previous === previous ? edge.accumulated : previous === undefined ? contribution : bind('add', [previous, contribution], {})
      adjoints.set(target, accumulated)
      const formulas = operandFormulas.get(node.id)!
      const source = indexOf.get(node.id)!
      const targetIndex = indexOf.get(target)!
      const partialFormula = partialOf(node.prim, formulas, i, node.context.params, node.context.args.map((a) => a.shape)) ?? { kind: 'partial', of: source, wrt: targetIndex }
      const contributionFormula = contributionOf(node.prim, formulas, i, node.context.params, source, partialFormula)
      steps.push(
        Object.freeze({ target: targetIndex, source, partial: printText(partialFormula), partialFormula, contributionFormula, contribution, accumulated, accumulates: previous !== undefined })
      )
    }
  }
  // a rule that made a finite adjoint or tangent infinite, at a row with finite numbers and no
  // warning of its own: the generic derivative warning
  for (const { id, operand } of infinitePartials) {
    const node = byId.get(id)!
    const row = indexOf.get(id)!
    if (!node.context.args.every(allFinite) || !allFinite(node.context.out)) continue
    if (warnings.some((w) => w.row === row && (w.kind === 'value' || w.operand === operand))) continue
    const formulas = operandFormulas.get(id)!
    const partial = partialOf(node.prim, formulas, operand, node.context.params, node.context.args.map((a) => a.shape))
    const wrt = printText(formulas[operand]!)
    const d = `∂${rowName(row)}/∂${wrt}${partial === undefined ? '' : ` = ${printText(partial)}`}`
    warnings.push(Object.freeze({ row, op: node.prim, kind: 'derivative' as const, operand, message: `${rowName(row)} = ${printText(rows[row + n - 1]!.formula)}: the partial derivative ${d} is not finite at this point, so the derivatives passed through it are ∞ or NaN` }))
  }
  warnings.sort((a, b) => a.row - b.row || (a.kind === b.kind ? (a.operand ?? -1) - (b.operand ?? -1) : a.kind === 'value' ? -1 : 1))

  const gradient: Record<string, Tensor> = {}
  if (scalar) names.forEach((name, k) => (gradient[name] = adjoints.get(ids[k]!) ?? full(primals[k]!.shape, 0, { dtype: primals[k]!.dtype })))

  return Object.freeze({
    inputs: Object.freeze([...names]),
    rows: Object.freeze(rows),
    output: idx(yId),
    ...(seed === undefined ? {} : { seed }),
    adjoints: Object.freeze(steps),
    gradient: Object.freeze(gradient),
    warnings: Object.freeze(warnings),
    ...(options.expression === undefined ? {} : { expression: options.expression })
  })
}
