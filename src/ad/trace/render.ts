/**
 * A trace as tables: the forward primal trace and the reverse adjoint trace in text (box
 * drawing), Markdown and LaTeX.
 *
 * @module
 */
import { ArgumentError } from '../../error.js'
import type { Tensor } from '../../tensor.js'
import type { Shape } from '../../shape.js'
import type { AdjointStep, Trace, TraceRow } from './data.js'
import { ATOM, NEG, accented, bin, latexName, latexStyle, print, showShape, textStyle } from './formula.js'
import type { Formula, Style } from './formula.js'

/** Options of the renderers. */
export interface RenderOptions {
  /** Decimals of the numbers shown (trailing zeros dropped); 3 by default. */
  readonly digits?: number
  /** Tensors with more elements than this are summarized (first elements and norm); 6 by default. */
  readonly maxElements?: number
}

/** The output formats of {@link render}. */
export type Format = 'text' | 'markdown' | 'latex'

interface Resolved {
  readonly digits: number
  readonly maxElements: number
}

const resolveOptions = (o: RenderOptions | undefined): Resolved => {
  const digits = o?.digits ?? 3
  const maxElements = o?.maxElements ?? 6
  if (!Number.isInteger(digits) || digits < 0 || digits > 20) throw new ArgumentError(`render: digits must be an integer in 0…20, got ${String(digits)}`)
  if (!Number.isInteger(maxElements) || maxElements < 1) throw new ArgumentError(`render: maxElements must be a positive integer, got ${String(maxElements)}`)
  return { digits, maxElements }
}

/** A number to `digits` decimals, trailing zeros dropped; `−` in text, `-` in LaTeX. */
const formatNumber = (v: number, digits: number, latex: boolean): string => {
  if (Number.isNaN(v)) return latex ? '\\mathrm{NaN}' : 'NaN'
  if (!Number.isFinite(v)) return `${v < 0 ? (latex ? '-' : '−') : ''}${latex ? '\\infty' : '∞'}`
  let s = v.toFixed(digits)
  if (s.includes('.') && !s.includes('e')) s = s.replace(/0+$/, '').replace(/\.$/, '')
  if (s === '-0') s = '0'
  return latex ? s : s.replace('-', '−')
}

/** A tensor's value: the number for a scalar, the elements when few, else the first three and the norm. */
const formatTensor = (t: Tensor, o: Resolved, latex: boolean): string => {
  const fmt = (v: number) => formatNumber(v, o.digits, latex)
  if (t.shape.length === 0) return fmt(t.item())
  const data = t.data
  if (t.size <= o.maxElements) {
    const nest = (x: unknown): string => (typeof x === 'number' ? fmt(x) : `[${(x as unknown[]).map(nest).join(', ')}]`)
    return nest(t.toArray())
  }
  let sq = 0
  for (const v of data) sq += v * v
  const head = Array.from({ length: 3 }, (_, i) => fmt(data[i]!)).join(', ')
  return latex ? `[${head}, \\ldots]\\ \\|\\cdot\\| = ${fmt(Math.sqrt(sq))}` : `[${head}, …] ‖·‖ = ${fmt(Math.sqrt(sq))}`
}

/** A cell of a rendered table. */
type Cell =
  | { readonly kind: 'formula'; readonly formula: Formula; readonly values?: boolean }
  | { readonly kind: 'tensor'; readonly value: Tensor }
  | { readonly kind: 'shape'; readonly shape: Shape }
  | { readonly kind: 'blank' }

interface Header {
  readonly text: string
  readonly latex: string
  readonly numeric?: boolean
}

interface Section {
  readonly title: Header
  readonly columns: readonly Header[]
  /** Groups of rows, separated by a rule. */
  readonly groups: readonly (readonly Cell[])[][]
}

interface Layout {
  /** `y = …` over the inputs, or `y = f(x1, x2)` when the expression is too long. */
  readonly heading: Header
  readonly sections: readonly Section[]
}

const BLANK: Cell = { kind: 'blank' }
const fcell = (formula: Formula, values = false): Cell => ({ kind: 'formula', formula, values })
const tcell = (value: Tensor): Cell => ({ kind: 'tensor', value })

/** Replaces the row references of a formula. */
const substitute = (f: Formula, by: (index: number) => Formula): Formula => {
  const go = (g: Formula): Formula => substitute(g, by)
  switch (f.kind) {
    case 'var': return by(f.index)
    case 'binary': return { ...f, left: go(f.left), right: go(f.right) }
    case 'neg':
    case 'apply':
    case 'sqrt':
    case 'abs':
    case 'transpose': return { ...f, arg: go(f.arg) }
    case 'call': return { ...f, args: f.args.map(go) }
    case 'pow': return { ...f, base: go(f.base) }
    case 'power': return { ...f, base: go(f.base), exponent: go(f.exponent) }
    case 'indicator': return { ...f, left: go(f.left), right: go(f.right) }
    // leaves (every kind is listed, so a new kind with parts is a compile error here)
    case 'bar':
    case 'input':
    case 'symbol':
    case 'number':
    case 'constant':
    case 'label':
    case 'partial': return f
  }
}

const formulaSize = (f: Formula): number => {
  switch (f.kind) {
    case 'binary':
    case 'indicator': return 1 + formulaSize(f.left) + formulaSize(f.right)
    case 'neg':
    case 'apply':
    case 'sqrt':
    case 'abs':
    case 'transpose': return 1 + formulaSize(f.arg)
    case 'call': return f.args.reduce((acc, g) => acc + formulaSize(g), 1)
    case 'pow': return 1 + formulaSize(f.base)
    case 'power': return 1 + formulaSize(f.base) + formulaSize(f.exponent)
    case 'var':
    case 'bar':
    case 'input':
    case 'symbol':
    case 'number':
    case 'constant':
    case 'label':
    case 'partial': return 1
  }
}

const MAX_HEADING_SIZE = 40
/** An expression as written is shown in the heading up to this size (it holds no repeated parts). */
const MAX_WRITTEN_SIZE = 200

/** The whole expression over the inputs' names, or `undefined` when it is too large to read. */
const composed = (t: Trace): Formula | undefined => {
  const byIndex = new Map<number, Formula | undefined>()
  for (const row of t.rows) {
    if (row.op === 'input') {
      byIndex.set(row.index, row.formula)
      continue
    }
    let tooBig = false
    const f = substitute(row.formula, (i) => {
      const g = byIndex.get(i)
      if (g === undefined) tooBig = true
      return g ?? { kind: 'var', index: i }
    })
    byIndex.set(row.index, tooBig || formulaSize(f) > MAX_HEADING_SIZE ? undefined : f)
  }
  return byIndex.get(t.output)
}

const rowAt = (t: Trace, index: number): TraceRow => t.rows[index + t.inputs.length - 1]!

const layout = (t: Trace, o: Resolved): Layout => {
  const allScalar = t.rows.every((r) => r.shape.length === 0)
  const hasTangent = t.rows.some((r) => r.tangent !== undefined)
  // the output is y, unless an input has that name (then the first free one of f, F, out)
  const yName = ['y', 'f', 'F', 'out'].find((c) => !t.inputs.includes(c)) ?? 'y'
  const yLatex = yName === 'out' ? '\\mathrm{out}' : yName
  const y = { kind: 'symbol', text: yName, latex: yLatex } as const
  const inputRows = t.rows.filter((r) => r.op === 'input')

  // heading: y = ln x1 + x1 × x2 − sin x2   at x1 = 2, x2 = 5
  const whole = t.expression !== undefined && formulaSize(t.expression) <= MAX_WRITTEN_SIZE ? t.expression : composed(t)
  const fText = whole === undefined ? `f(${t.inputs.join(', ')})` : print(whole, textStyle).s
  const fLatex = whole === undefined ? `f(${t.inputs.map(latexName).join(', ')})` : print(whole, latexStyle).s
  const at = (latex: boolean) =>
    inputRows
      .map((r) => {
        const name = latex ? latexName(r.expression) : r.expression
        const v = r.shape.length === 0 ? ` = ${formatNumber(r.value.item(), o.digits, latex)}` : latex ? ` \\in \\mathbf{R}^{${r.shape.join(' \\times ')}}` : `: ${showShape(r.shape)}`
        return latex ? `$${name}${v}$` : `${name}${v}`
      })
      .join(', ')
  const heading: Header = { text: `${yName} = ${fText}   at ${at(false)}`, latex: `$${yLatex} = ${fLatex}$ at ${at(true)}` }

  // forward primal trace
  const tangentCaption = (latex: boolean) =>
    inputRows
      .map((r) => {
        const data = Array.from(r.tangent!.data)
        const v = data.length > 0 && data.every((x) => x === data[0]) ? formatNumber(data[0]!, o.digits, latex) : formatTensor(r.tangent!, o, latex)
        return latex ? `$${accented(r.expression, 'dot', true)} = ${v}$` : `${accented(r.expression, 'dot', false)} = ${v}`
      })
      .join(', ')
  const forwardColumns: Header[] = [
    { text: 'vᵢ', latex: '$v_i$' },
    { text: 'expression', latex: 'expression' },
    ...(allScalar ? [{ text: 'with values', latex: 'with values' }] : [{ text: 'shape', latex: 'shape' }]),
    { text: 'value', latex: 'value', numeric: true },
    ...(hasTangent ? [{ text: 'v̇ᵢ', latex: '$\\dot{v}_i$', numeric: true }] : [])
  ]
  const forwardRow = (r: TraceRow, first: Formula, expression: Formula, withValues: boolean): Cell[] => [
    fcell(first),
    fcell(expression),
    allScalar ? (withValues ? fcell(r.formula, true) : BLANK) : { kind: 'shape', shape: r.shape },
    tcell(r.value),
    ...(hasTangent ? [tcell(r.tangent!)] : [])
  ]
  const forward: Section = {
    title: hasTangent
      ? { text: `Forward primal trace (tangent ${tangentCaption(false)})`, latex: `\\textbf{Forward primal trace} (tangent ${tangentCaption(true)})` }
      : { text: 'Forward primal trace', latex: '\\textbf{Forward primal trace}' },
    columns: forwardColumns,
    groups: [
      inputRows.map((r) => forwardRow(r, { kind: 'var', index: r.index }, r.formula, false)),
      t.rows.filter((r) => r.op !== 'input').map((r) => forwardRow(r, { kind: 'var', index: r.index }, r.formula, true)),
      [forwardRow(rowAt(t, t.output), y, { kind: 'var', index: t.output }, false)]
    ].filter((g) => g.length > 0)
  }
  if (t.seed === undefined) {
    const shape = showShape(rowAt(t, t.output).shape)
    return {
      heading,
      sections: [
        forward,
        { title: { text: `Reverse adjoint trace: none (${yName} has shape ${shape}; the adjoint trace starts from a scalar)`, latex: `\\textbf{Reverse adjoint trace}: none ($${yLatex}$ has shape $${shape}$; the adjoint trace starts from a scalar)` }, columns: [], groups: [] }
      ]
    }
  }

  // reverse adjoint trace
  const reverseColumns: Header[] = [
    { text: 'v̄ᵢ', latex: '$\\bar{v}_i$' },
    { text: 'rule', latex: 'rule' },
    { text: 'formula', latex: 'formula' },
    ...(allScalar ? [] : [{ text: 'shape', latex: 'shape' }]),
    { text: 'contribution', latex: 'contribution', numeric: true },
    { text: 'value', latex: 'value', numeric: true }
  ]
  const reverseRow = (first: Formula, rule: Formula, formula: Cell, shape: Shape, contribution: Cell, value: Tensor): Cell[] => [
    fcell(first),
    fcell(rule),
    formula,
    ...(allScalar ? [] : [{ kind: 'shape', shape } as const]),
    contribution,
    tcell(value)
  ]
  const stepRow = (s: AdjointStep): Cell[] => {
    const use: Formula = bin(' ', { kind: 'bar', index: s.source }, { kind: 'partial', of: s.source, wrt: s.target })
    const product = s.contributionFormula
    const bar: Formula = { kind: 'bar', index: s.target }
    return reverseRow(bar, s.accumulates ? bin('+', bar, use) : use, fcell(s.accumulates ? bin('+', bar, product) : product), s.contribution.shape, tcell(s.contribution), s.accumulated)
  }
  const reverse: Section = {
    title: { text: 'Reverse adjoint trace', latex: '\\textbf{Reverse adjoint trace}' },
    columns: reverseColumns,
    groups: [
      [reverseRow({ kind: 'bar', index: t.output }, { kind: 'symbol', text: yName === 'y' ? 'ȳ' : accented(yName, 'bar', false), latex: yName === 'out' ? '\\overline{\\mathrm{out}}' : `\\bar{${yName}}` }, BLANK, t.seed.shape, BLANK, t.seed)],
      t.adjoints.map(stepRow),
      inputRows.map((r) => {
        const g = t.gradient[r.expression]!
        const name = { kind: 'symbol', text: accented(r.expression, 'bar', false), latex: accented(r.expression, 'bar', true) } as const
        return reverseRow(name, { kind: 'bar', index: r.index }, BLANK, g.shape, BLANK, g)
      })
    ].filter((g) => g.length > 0)
  }
  return { heading, sections: [forward, reverse] }
}

/** A cell in Unicode (text and Markdown). */
const cellText = (t: Trace, c: Cell, o: Resolved): string => {
  switch (c.kind) {
    case 'blank': return ''
    case 'shape': return showShape(c.shape)
    case 'tensor': return formatTensor(c.value, o, false)
    case 'formula': {
      if (c.values !== true) return print(c.formula, textStyle).s
      const style: Style = {
        ...textStyle,
        variable: (i) => {
          const v = rowAt(t, i).value.item()
          return { s: formatNumber(v, o.digits, false), p: v < 0 ? NEG : ATOM }
        }
      }
      return print(c.formula, style).s
    }
  }
}

/** A cell in LaTeX (math mode for everything but blanks). */
const cellLatex = (t: Trace, c: Cell, o: Resolved): string => {
  switch (c.kind) {
    case 'blank': return ''
    case 'shape': return `$${showShape(c.shape)}$`
    case 'tensor': return `$${formatTensor(c.value, o, true)}$`
    case 'formula': {
      if (c.values !== true) return `$${print(c.formula, latexStyle).s}$`
      const style: Style = {
        ...latexStyle,
        variable: (i) => {
          const v = rowAt(t, i).value.item()
          return { s: formatNumber(v, o.digits, true), p: v < 0 ? NEG : ATOM }
        }
      }
      return `$${print(c.formula, style).s}$`
    }
  }
}

/** Display width in a terminal: combining marks take no column. */
const width = (s: string): number => [...s.normalize('NFD')].filter((c) => !/\p{M}/u.test(c)).length

const pad = (s: string, w: number, right: boolean): string => {
  const fill = ' '.repeat(Math.max(0, w - width(s)))
  return right ? fill + s : s + fill
}

const box = (columns: readonly Header[], groups: readonly (readonly string[])[][]): string => {
  const widths = columns.map((h, j) => Math.max(width(h.text), ...groups.flat().map((r) => width(r[j] ?? ''))))
  const rule = (l: string, m: string, r: string) => l + widths.map((w) => '─'.repeat(w + 2)).join(m) + r
  const line = (cells: readonly string[]) => '│' + widths.map((w, j) => ` ${pad(cells[j] ?? '', w, columns[j]!.numeric === true)} `).join('│') + '│'
  const out = [rule('┌', '┬', '┐'), line(columns.map((c) => c.text))]
  for (const g of groups) {
    out.push(rule('├', '┼', '┤'))
    for (const r of g) out.push(line(r))
  }
  out.push(rule('└', '┴', '┘'))
  return out.join('\n')
}

/**
 * The traces as terminal tables in Unicode: the forward primal trace (with the tangent
 * column `v̇ᵢ` when the trace has one) and the reverse adjoint trace, numbers to
 * `options.digits` decimals (3 by default). Tensor rows show their shape, and values with
 * more than `options.maxElements` elements show their first elements and their norm.
 *
 * @example
 * ```ts
 * import { Trace, add, log, mul, sin, sub } from 'lamina-nn'
 * import assert from 'node:assert'
 * const t = Trace.trace(({ x1, x2 }) => sub(add(log(x1), mul(x1, x2)), sin(x2)), { x1: 2, x2: 5 })
 * const text = Trace.renderText(t)
 * assert.ok(text.startsWith('y = ln x1 + x1 × x2 − sin x2   at x1 = 2, x2 = 5'))
 * assert.ok(text.includes('│ v₁  │ ln v₋₁     │ ln 2 '))
 * assert.ok(text.includes('v̄₋₁ + v̄₁/v₋₁'))          // v̄₋₁ accumulates its second use
 * assert.ok(Trace.renderText(t, { digits: 6 }).includes('11.652071'))
 * ```
 */
export const renderText = (trace: Trace, options?: RenderOptions): string => {
  const o = resolveOptions(options)
  const { heading, sections } = layout(trace, o)
  const parts = [heading.text]
  for (const s of sections) {
    parts.push('', s.title.text)
    if (s.columns.length > 0) parts.push(box(s.columns, s.groups.map((g) => g.map((r) => r.map((c) => cellText(trace, c, o))))))
  }
  if (trace.warnings.length > 0) parts.push('', 'Warnings', ...trace.warnings.map((w) => `  - ${w.message}`))
  return parts.join('\n') + '\n'
}

const markdownEscape = (s: string): string => s.replace(/[\\|*_`[\]]/g, (c) => `\\${c}`).replace(/</g, '&lt;')

/**
 * The traces as Markdown (GitHub tables), with the same columns as {@link renderText}.
 *
 * @example
 * ```ts
 * import { Trace, mul, sin } from 'lamina-nn'
 * import assert from 'node:assert'
 * const md = Trace.renderMarkdown(Trace.trace(({ x }) => mul(x, sin(x)), { x: 2 }))
 * assert.ok(md.includes('| vᵢ | expression | with values | value |'))
 * assert.ok(md.includes('| v₂ | v₀ × v₁ | 2 × 0.909 | 1.819 |'))
 * ```
 */
export const renderMarkdown = (trace: Trace, options?: RenderOptions): string => {
  const o = resolveOptions(options)
  const { heading, sections } = layout(trace, o)
  const parts = [markdownEscape(heading.text).replace(/ {3}at /, ' at ')]
  for (const s of sections) {
    parts.push('', `**${markdownEscape(s.title.text)}**`)
    if (s.columns.length === 0) continue
    const row = (cells: readonly string[]) => `| ${cells.map((c) => (c === '' ? ' ' : markdownEscape(c))).join(' | ')} |`
    parts.push('', row(s.columns.map((c) => c.text)), `|${s.columns.map((c) => (c.numeric === true ? ' --: ' : ' :-- ')).join('|')}|`)
    for (const g of s.groups) for (const r of g) parts.push(row(r.map((c) => cellText(trace, c, o))))
  }
  if (trace.warnings.length > 0) parts.push('', '**Warnings**', '', ...trace.warnings.map((w) => `- ${markdownEscape(w.message)}`))
  return parts.join('\n') + '\n'
}

/**
 * The traces as one LaTeX `tabular` (plain LaTeX, no packages needed): `v_{-1}`,
 * `\bar{v}_{1}`, `\dot{v}_{0}`, a rule between the groups of rows.
 *
 * @example
 * ```ts
 * import { Trace, add, log, mul, sin, sub } from 'lamina-nn'
 * import assert from 'node:assert'
 * const tex = Trace.renderLatex(Trace.trace(({ x1, x2 }) => sub(add(log(x1), mul(x1, x2)), sin(x2)), { x1: 2, x2: 5 }))
 * assert.ok(tex.startsWith('\\begin{tabular}'))
 * assert.ok(tex.includes('$v_{1}$ & $\\ln v_{-1}$ & $\\ln 2$ & $0.693$'))
 * assert.ok(tex.includes('$\\bar{v}_{-1} + \\bar{v}_{1} / v_{-1}$'))
 * ```
 */
export const renderLatex = (trace: Trace, options?: RenderOptions): string => {
  const o = resolveOptions(options)
  const { heading, sections } = layout(trace, o)
  const ncol = Math.max(1, ...sections.map((s) => s.columns.length))
  const full = (content: string) => `\\multicolumn{${ncol}}{l}{${content}} \\\\`
  const row = (cells: readonly string[]) => `${[...cells, ...Array<string>(ncol - cells.length).fill('')].join(' & ')} \\\\`
  const lines = [`\\begin{tabular}{${'l'.repeat(ncol)}}`, full(heading.latex)]
  for (const s of sections) {
    lines.push('\\hline', full(s.title.latex))
    if (s.columns.length === 0) continue
    lines.push(row(s.columns.map((c) => c.latex)))
    for (const g of s.groups) {
      lines.push('\\hline')
      for (const r of g) lines.push(row(r.map((c) => cellLatex(trace, c, o))))
    }
  }
  lines.push('\\hline', '\\end{tabular}')
  // the warnings as comments: their Unicode is safe there, and the table still compiles
  if (trace.warnings.length > 0) lines.push('% Warnings', ...trace.warnings.map((w) => `% - ${w.message.replace(/[\r\n]+/g, ' ')}`))
  return lines.join('\n') + '\n'
}

/**
 * Renders a trace in one of the formats: `'text'` ({@link renderText}), `'markdown'`
 * ({@link renderMarkdown}) or `'latex'` ({@link renderLatex}).
 *
 * @example
 * ```ts
 * import { Trace, tanh } from 'lamina-nn'
 * import assert from 'node:assert'
 * const t = Trace.trace(({ x }) => tanh(x), { x: 0.5 })
 * assert.strictEqual(Trace.render(t, 'text'), Trace.renderText(t))
 * assert.ok(Trace.render(t, 'latex').includes('\\tanh v_{0}'))
 * ```
 */
export const render = (trace: Trace, format: Format, options?: RenderOptions): string => {
  switch (format) {
    case 'text': return renderText(trace, options)
    case 'markdown': return renderMarkdown(trace, options)
    case 'latex': return renderLatex(trace, options)
    default: throw new ArgumentError(`render: unknown format ${JSON.stringify(format)}: expected 'text', 'markdown' or 'latex'`)
  }
}
