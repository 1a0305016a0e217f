/**
 * A clicked value's trace as a learner should read it. lamina's `Trace` records every primitive
 * the objective ran, including the playground's own bookkeeping: the rows that put the clicked
 * value into its matrix (`broadcast(v₀)`, `v₁ × c[2, 4]`, `c[2, 4] + v₂`), and rows that change
 * nothing (`0 + z × 1`, a mean over an axis of length 1). This module
 * - folds the masking rows into one row, `W¹ with w at [2→5]`, whose adjoint gives the clicked
 *   value's by picking its entry (`v̄₃[2→5]`);
 * - drops the rows that change nothing (adding 0, multiplying by 1, reducing or reshaping
 *   without changing the number of elements), routing their adjoints to their operands;
 * - names every constant by what it is (X, W², b¹, H¹, y, 1 − y, λ/2, ‖W²‖²) by comparing its
 *   numbers with the network's own values;
 * - renumbers the rows, and lists every symbol the tables use, with its meaning, in a legend.
 * The numbers are lamina's: the forward values as traced, and each adjoint contribution as the
 * sweep computed it (sums are re-accumulated over the rows that remain).
 *
 * @module
 */
import { Trace, add, reshape } from 'lamina-nn'
import type { Tensor } from 'lamina-nn'

type Formula = Trace.Formula

/** A value of the network that can appear in a trace as a constant. */
export interface Named {
  readonly symbol: string
  readonly meaning: string
  readonly value: Tensor | number
  /** Also matches a constant whose rows each repeat `value` (a bias broadcast over the examples). */
  readonly rowsOf?: boolean
}

/** What the rows that put the clicked value into its matrix stand for, folded into one row. */
export interface Entry {
  readonly symbol: string
  readonly meaning: string
  /** How the clicked value's adjoint is read from that row's adjoint `bar`: `v̄₃[2→5]`. */
  readonly pick: (bar: string) => string
}

/** What the page knows about a trace. */
export interface Context {
  readonly named: readonly Named[]
  /** The trace's input: `w`, and what it is. */
  readonly input: { readonly symbol: string; readonly meaning: string }
  readonly entry: Entry | undefined
  readonly examples: number
}

/** A row of the forward primal trace: `v₃ = tanh v₂`. */
export interface ForwardRow {
  readonly name: string
  readonly expression: string
  readonly shape: readonly number[]
  readonly value: Tensor
}

/** A row of the reverse adjoint trace: `v̄₂ = v̄₃ ∂v₃/∂v₂ = v̄₃ × (1 − tanh² v₂)`. */
export interface BackwardRow {
  readonly name: string
  /** The chain rule written with partials: `v̄₃ ∂v₃/∂v₂`, `v̄₂ + v̄₄ ∂v₄/∂v₂`. */
  readonly rule: string
  /** The same with the partial worked out. */
  readonly formula: string
  readonly shape: readonly number[]
  /** What this use adds, when the adjoint already had a contribution (shown only then). */
  readonly contribution: Tensor | undefined
  /** The adjoint after this row. */
  readonly value: Tensor
}

/** A symbol of the tables and what it means. */
export interface LegendEntry {
  readonly symbol: string
  readonly meaning: string
}

/** The trace, ready to show. */
export interface Readable {
  readonly forward: readonly ForwardRow[]
  readonly backward: readonly BackwardRow[]
  readonly legend: readonly LegendEntry[]
}

const print = (f: Formula): string => Trace.showFormula(f)
const rowName = (index: number): string => print({ kind: 'var', index })
const barName = (index: number): string => print({ kind: 'bar', index })
const symbol = (text: string): Formula => ({ kind: 'symbol', text, latex: text })

const sameNumbers = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Whether `t` is `row` repeated along its leading axes (a vector broadcast over the examples). */
const repeats = (t: Tensor, row: ArrayLike<number>): boolean => {
  const data = t.data
  if (row.length === 0 || t.shape[t.shape.length - 1] !== row.length) return false
  for (let i = 0; i < data.length; i++) if (data[i] !== row[i % row.length]) return false
  return true
}

const allEqualTo = (t: Tensor, v: number): boolean => Array.from(t.data).every((x) => x === v)

const REDUCTIONS: ReadonlySet<string> = new Set(['sum', 'mean', 'max', 'min', 'logsumexp'])
const RESHAPES: ReadonlySet<string> = new Set(['broadcast', 'reshape'])
const MASKING: ReadonlySet<string> = new Set(['broadcast', 'reshape', 'mul', 'add'])

/**
 * The row a row that changes nothing stands for (its one traced operand), or undefined:
 * `'masking'` also counts adding zeros and multiplying by ones (what the page's masks become
 * for a matrix of one column), `'shape'` only reductions and reshapes that keep every element.
 */
const identityOf = (row: Trace.TraceRow, size: (i: number) => number, kind: 'masking' | 'shape'): number | undefined => {
  const traced = row.operands.filter((o): o is number => typeof o === 'number')
  const constants = row.operands.filter((o): o is { readonly constant: Tensor } => typeof o !== 'number')
  if (traced.length !== 1 || size(traced[0]!) !== row.value.size) return undefined
  const [operand] = traced as [number]
  if ((REDUCTIONS.has(row.op) || RESHAPES.has(row.op)) && constants.length === 0) return operand
  if (kind === 'shape' || constants.length !== 1) return undefined
  if (row.op === 'add' && allEqualTo(constants[0]!.constant, 0)) return operand
  if (row.op === 'mul' && allEqualTo(constants[0]!.constant, 1)) return operand
  return undefined
}

/** The axes a broadcast from `from` to `to` repeated along (a broadcast's adjoint sums over them). */
const broadcastAxes = (from: readonly number[], to: readonly number[]): number[] => {
  const offset = to.length - from.length
  return to.flatMap((d, i) => (i < offset || (from[i - offset] === 1 && d !== 1) ? [i] : []))
}

/** Symbols and words the tables may use, each explained when it occurs. */
const GLOSSARY: readonly (LegendEntry & { readonly occurs: RegExp })[] = [
  { symbol: '·', meaning: 'matrix product: (A · B)ᵢⱼ = Σₖ Aᵢₖ Bₖⱼ', occurs: /·/ },
  { symbol: '×', meaning: 'product element by element (a smaller operand is repeated to fit)', occurs: /×/ },
  { symbol: 'ᵀ', meaning: 'transpose: rows become columns', occurs: /ᵀ/ },
  { symbol: '∂', meaning: '∂vᵢ/∂vⱼ is the partial derivative of row i with respect to row j, the local derivative of one primitive', occurs: /∂/ },
  { symbol: 'tanh', meaning: 'hyperbolic tangent, the activation; its derivative is 1 − tanh²', occurs: /tanh/ },
  { symbol: 'σ', meaning: 'the logistic sigmoid σ(x) = 1/(1 + e⁻ˣ); its derivative is σ(x)(1 − σ(x))', occurs: /σ/ },
  { symbol: 'softplus', meaning: 'softplus(x) = ln(1 + eˣ): the cross-entropy of a logit is softplus(z) for orange, softplus(−z) for blue; its derivative is σ(x)', occurs: /softplus/ },
  { symbol: 'relu', meaning: 'relu(x) = max(x, 0)', occurs: /relu/ },
  { symbol: 'max', meaning: 'the larger of its arguments', occurs: /max\(/ },
  { symbol: 'min', meaning: 'the smaller of its arguments', occurs: /min\(/ },
  { symbol: 'select', meaning: 'select(mask, a, b): a where the mask holds, b elsewhere', occurs: /select/ },
  { symbol: 'mask', meaning: 'where a condition holds, element by element', occurs: /mask/ },
  { symbol: 'erf', meaning: 'the error function (GELU is ½x(1 + erf(x/√2)))', occurs: /erf/ },
  { symbol: 'exp', meaning: 'the exponential eˣ', occurs: /exp/ },
  { symbol: 'ln', meaning: 'the natural logarithm', occurs: /\bln\b/ },
  { symbol: 'sign', meaning: 'sign(x): −1, 0 or 1; the derivative of |x| (L1 takes it as 0 at 0)', occurs: /sign/ },
  { symbol: '√', meaning: 'square root', occurs: /√/ },
  { symbol: 'π', meaning: 'pi, 3.14159…', occurs: /π/ },
  { symbol: '|v|', meaning: 'absolute value, element by element', occurs: /\|/ },
  { symbol: 'Σ', meaning: 'the sum of all the elements', occurs: /Σ/ },
  { symbol: 'mean', meaning: 'the mean of all the elements (over the examples: the loss is an average)', occurs: /mean/ },
  { symbol: 'sum', meaning: 'sum(v̄, axis k) adds v̄ over axis k: the adjoint of a broadcast adds up the adjoints of the copies', occurs: /sum\(/ },
  { symbol: 'axis', meaning: 'axis 0 runs over the examples of the minibatch, axis 1 over the units', occurs: /axis/ },
  { symbol: 'axes', meaning: 'axes 0,1: both axes, the examples and the units', occurs: /axes/ },
  { symbol: 'x²', meaning: 'a power: x² = x × x (tanh² v is (tanh v)²)', occurs: /[⁰¹²³⁴⁵⁶⁷⁸⁹]/ },
  { symbol: 'broadcast', meaning: 'broadcast(v, shape) repeats v to the shape: a bias is repeated for each example', occurs: /broadcast/ },
  { symbol: '[a > b]', meaning: '1 where a > b holds, else 0 (an indicator)', occurs: /\[[^\]]*[<>][^\]]*\]/ },
  { symbol: '[i→j]', meaning: 'the weight in row i (from unit i of the layer before) and column j (to unit j)', occurs: /→/ },
  { symbol: '[:, j]', meaning: 'column j: one value per example', occurs: /\[:, / },
  { symbol: '‖·‖', meaning: 'in the values: the Euclidean norm of all the elements (a vector or matrix shows its first elements and its norm)', occurs: /‖·‖/ }
]

/** Rewrites a trace into the rows and legend the page shows. */
export const readable = (trace: Trace.Trace, context: Context): Readable => {
  const rows = trace.rows
  const byIndex = new Map(rows.map((r) => [r.index, r]))
  const inputs = rows.filter((r) => r.op === 'input').map((r) => r.index)
  const size = (i: number): number => byIndex.get(i)!.value.size

  // rows that change nothing stand for their operand
  const alias = new Map<number, number>()
  const resolve = (i: number): number => {
    let j = i
    while (alias.has(j)) j = alias.get(j)!
    return j
  }

  // the masking rows: a chain from the input through broadcast/reshape/mul, ending at the add that builds the matrix
  const collapsed = new Set<number>()
  let entry: number | undefined
  if (inputs.length === 1) {
    let previous = inputs[0]!
    const chain: number[] = []
    for (const r of rows) {
      if (r.op === 'input') continue
      const traced = r.operands.filter((o): o is number => typeof o === 'number').map(resolve)
      if (traced.length !== 1 || traced[0] !== previous || !MASKING.has(r.op)) break
      const to = identityOf(r, size, 'masking')
      if (to !== undefined) {
        alias.set(r.index, resolve(to))
        continue
      }
      chain.push(r.index)
      previous = r.index
      if (r.op === 'add') {
        entry = r.index
        break
      }
    }
    // a real mask (a product with a constant that is not all ones) marks the chain as the page's own
    if (context.entry !== undefined && entry !== undefined && chain.some((i) => byIndex.get(i)!.op === 'mul')) chain.filter((i) => i !== entry).forEach((i) => collapsed.add(i))
    else entry = undefined
  }
  for (const r of rows) {
    if (r.op === 'input' || alias.has(r.index)) continue
    const to = identityOf(r, size, 'shape')
    if (to !== undefined) alias.set(r.index, resolve(to))
  }
  const real = rows.filter((r) => r.op !== 'input' && !alias.has(r.index))

  // renumber what is left: the inputs keep their indices, the rest count from 1
  const shown = real.filter((r) => !collapsed.has(r.index))
  const number = new Map<number, number>(inputs.map((i) => [i, i]))
  shown.forEach((r, k) => number.set(r.index, k + 1))
  const index = (i: number): number => number.get(resolve(i)) ?? i

  // constants and numbers by name
  const used = new Map<string, LegendEntry>()
  const unnamed = new Map<Tensor, string>()
  const named = (n: Named): Formula => {
    used.set(n.symbol, { symbol: n.symbol, meaning: n.meaning })
    return symbol(n.symbol)
  }
  const match = (c: Tensor): Named | undefined =>
    context.named.find((m) => typeof m.value !== 'number' && (sameNumbers(c.data, m.value.data) || (m.rowsOf === true && repeats(c, m.value.data))))
  const constant = (c: Tensor): Formula => {
    const n = match(c)
    if (n !== undefined) return named(n)
    let name = unnamed.get(c)
    if (name === undefined) {
      name = `C${'₁₂₃₄₅₆₇₈₉'[unnamed.size % 9]}`
      unnamed.set(c, name)
      used.set(name, { symbol: name, meaning: `a constant of shape [${c.shape.join(', ')}] that is none of the network’s named values` })
    }
    return symbol(name)
  }
  // a constant whose elements are all equal is printed as a number: the row's own constants tell which value it is (a zero bias of the right width)
  let local = new Map<number, Named>()
  const within = <A>(row: Trace.TraceRow | undefined, f: () => A): A => {
    local = new Map()
    for (const o of row?.operands ?? []) {
      if (typeof o === 'number' || o.constant.size === 0) continue
      const n = match(o.constant)
      if (n !== undefined && allEqualTo(o.constant, o.constant.data[0]!)) local.set(o.constant.data[0]!, n)
    }
    const out = f()
    local = new Map()
    return out
  }
  const numeric = (v: number): Formula => {
    const n = local.get(v) ?? context.named.find((m) => (typeof m.value === 'number' ? m.value === v : m.value.size === 1 && m.value.data[0] === v))
    return n === undefined ? { kind: 'number', value: v } : named(n)
  }
  const rewrite = (f: Formula): Formula => {
    switch (f.kind) {
      case 'var': return { kind: 'var', index: index(f.index) }
      case 'bar': return { kind: 'bar', index: index(f.index) }
      case 'partial': return { kind: 'partial', of: index(f.of), wrt: index(f.wrt) }
      case 'constant': return constant(f.value)
      case 'number': return numeric(f.value)
      case 'binary': return { ...f, left: rewrite(f.left), right: rewrite(f.right) }
      case 'indicator': return { ...f, left: rewrite(f.left), right: rewrite(f.right) }
      case 'neg':
      case 'apply':
      case 'sqrt':
      case 'abs':
      case 'transpose': return { ...f, arg: rewrite(f.arg) }
      case 'call': return { ...f, args: f.args.map(rewrite) }
      case 'pow': return { ...f, base: rewrite(f.base) }
      case 'power': return { ...f, base: rewrite(f.base), exponent: rewrite(f.exponent) }
      default: return f
    }
  }

  // forward
  const forward: ForwardRow[] = [
    ...inputs.map((i) => ({ name: rowName(i), expression: context.input.symbol, shape: byIndex.get(i)!.shape, value: byIndex.get(i)!.value })),
    ...shown.map((r) => ({
      name: rowName(index(r.index)),
      expression: r.index === entry ? context.entry!.symbol : within(r, () => print(rewrite(r.formula))),
      shape: r.shape,
      value: r.value
    }))
  ]
  const out = index(trace.output)
  forward.push({ name: 'L', expression: rowName(out), shape: byIndex.get(resolve(trace.output))!.shape, value: byIndex.get(trace.output)!.value })

  // backward: steps through dropped rows are routed to their operands, the masking steps become one
  const backward: BackwardRow[] = []
  if (trace.seed !== undefined) backward.push({ name: barName(out), rule: 'L̄', formula: '', shape: trace.seed.shape, contribution: undefined, value: trace.seed })
  const sums = new Map<number, Tensor>()
  const accumulate = (target: number, contribution: Tensor, rule: string, formula: string): void => {
    const shape = byIndex.get(target)!.shape
    const c = contribution.shape.join() === shape.join() ? contribution : reshape(contribution, [...shape])
    const previous = sums.get(target)
    const value = previous === undefined ? c : add(previous, c)
    sums.set(target, value)
    const t = index(target)
    backward.push({
      name: barName(t),
      rule: previous === undefined ? rule : `${barName(t)} + ${rule}`,
      formula: previous === undefined ? formula : `${barName(t)} + ${formula}`,
      shape,
      contribution: previous === undefined ? undefined : c,
      value
    })
  }
  const maskingEnd = new Set([...collapsed, ...(entry === undefined ? [] : [entry])])
  let entryDone = false
  for (const s of trace.adjoints) {
    if (alias.has(s.source)) continue
    const target = resolve(s.target)
    const source = s.source
    if (maskingEnd.has(source) && (collapsed.has(target) || inputs.includes(target))) {
      if (!entryDone && entry !== undefined) {
        entryDone = true
        const name = context.input.symbol
        accumulate(inputs[0]!, trace.gradient[name]!, `${barName(index(entry))} ∂${rowName(index(entry))}/∂${rowName(inputs[0]!)}`, context.entry!.pick(barName(index(entry))))
      }
      continue
    }
    const rule = `${barName(index(source))} ∂${rowName(index(source))}/∂${rowName(index(target))}`
    const sourceRow = byIndex.get(source)!
    let formula: string
    if (sourceRow.op === 'broadcast') {
      const axes = broadcastAxes(byIndex.get(target)!.shape, sourceRow.shape)
      formula = `sum(${barName(index(source))}, ${axes.length === 1 ? 'axis' : 'axes'} ${axes.join(',')})`
    } else formula = within(sourceRow, () => print(rewrite(s.contributionFormula)))
    accumulate(target, s.contribution, rule, formula)
  }
  for (const i of inputs) {
    const name = trace.inputs[inputs.indexOf(i)]!
    const g = trace.gradient[name]
    if (g !== undefined) backward.push({ name: `${context.input.symbol}\u0304`, rule: barName(i), formula: '', shape: g.shape, contribution: undefined, value: g })
  }

  // the legend: the rows, the clicked value, the named constants, then every function or operator that occurs
  const legend: LegendEntry[] = [
    { symbol: 'vᵢ', meaning: 'row i of the forward trace: one primitive applied to earlier rows; v₀ is the clicked value' },
    { symbol: 'v̄ᵢ', meaning: 'the adjoint of row i, ∂L/∂vᵢ: how fast L changes with vᵢ. Each row of the backward trace adds one use of vᵢ (v̄ₛ ∂vₛ/∂vᵢ, the chain rule)' },
    { symbol: 'L', meaning: 'the objective on this minibatch: the data term plus the penalty' },
    { symbol: 'L̄', meaning: '∂L/∂L = 1, where the backward sweep starts' },
    { symbol: context.input.symbol, meaning: context.input.meaning },
    { symbol: `${context.input.symbol}\u0304`, meaning: `∂L/∂${context.input.symbol}, the adjoint of the clicked value: what the gradient step uses` }
  ]
  if (entry !== undefined) legend.push({ symbol: context.entry!.symbol, meaning: context.entry!.meaning })
  legend.push(...used.values())
  const text = [...forward.map((r) => r.expression), ...backward.flatMap((r) => [r.rule, r.formula])].join('\n')
  for (const g of GLOSSARY) {
    if (g.symbol === '‖·‖' ? forward.some((r) => r.value.size > 4) : g.occurs.test(text)) legend.push({ symbol: g.symbol, meaning: g.meaning })
  }
  return { forward, backward, legend }
}
