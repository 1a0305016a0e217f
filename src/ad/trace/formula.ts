/**
 * The formulas of a trace as data (a small tree), and how they print: Unicode text and LaTeX
 * math, with the rows' names `v₋₁`, adjoints `v̄₁` and tangents `v̇₁`.
 *
 * @module
 */
import type { Relation } from '../../prim.js'
import type { Shape } from '../../shape.js'
import type { Tensor } from '../../tensor.js'

/**
 * A small formula tree: how the trace writes expressions (`ln v₋₁`), partial derivatives
 * (`1/v₋₁`) and adjoint updates (`v̄₋₁ + v̄₁ / v₋₁`), so that each renderer can print them in
 * its own notation (Unicode, LaTeX, or with the numbers substituted).
 */
export type Formula =
  /** the row `vᵢ` */
  | { readonly kind: 'var'; readonly index: number }
  /** the adjoint `v̄ᵢ` */
  | { readonly kind: 'bar'; readonly index: number }
  /** an input by its name (`x1`) */
  | { readonly kind: 'input'; readonly name: string }
  /** a symbol written differently per notation (`ȳ`, `π`) */
  | { readonly kind: 'symbol'; readonly text: string; readonly latex: string }
  /** a number (a folded constant) */
  | { readonly kind: 'number'; readonly value: number }
  /** a constant tensor whose elements differ (shown by shape) */
  | { readonly kind: 'constant'; readonly value: Tensor }
  /** a parameter of a primitive, shown verbatim (`axis 0`, `[20, 20]`) */
  | { readonly kind: 'label'; readonly text: string }
  /** `a + b`, `a − b`, `a × b`, `a / b`, `a · b` (matrix product), `a b` (juxtaposition) */
  | { readonly kind: 'binary'; readonly op: '+' | '−' | '×' | '/' | '·' | ' '; readonly left: Formula; readonly right: Formula }
  | { readonly kind: 'neg'; readonly arg: Formula }
  /** a function written before its argument, optionally with a power: `ln v`, `tanh² v` */
  | { readonly kind: 'apply'; readonly fn: string; readonly power?: number; readonly arg: Formula }
  /** a function with its arguments in parentheses: `σ(v)`, `max(a, b)` */
  | { readonly kind: 'call'; readonly fn: string; readonly args: readonly Formula[] }
  | { readonly kind: 'pow'; readonly base: Formula; readonly exponent: number }
  /** `a^b` with an exponent that is itself a formula (`(−1)^v₀`, `x^(y + 1)`) */
  | { readonly kind: 'power'; readonly base: Formula; readonly exponent: Formula }
  | { readonly kind: 'sqrt'; readonly arg: Formula }
  | { readonly kind: 'abs'; readonly arg: Formula }
  | { readonly kind: 'transpose'; readonly arg: Formula }
  /** Iverson bracket `[a > b]`: 1 where the comparison holds, else 0 */
  | { readonly kind: 'indicator'; readonly left: Formula; readonly rel: Relation; readonly right: Formula }
  /** `∂v_of/∂v_wrt`, the fallback partial of a primitive without a formula */
  | { readonly kind: 'partial'; readonly of: number; readonly wrt: number }

const SUBSCRIPT: Readonly<Record<string, string>> = { '-': '₋', '0': '₀', '1': '₁', '2': '₂', '3': '₃', '4': '₄', '5': '₅', '6': '₆', '7': '₇', '8': '₈', '9': '₉' }
const SUPERSCRIPT: Readonly<Record<string, string>> = { '-': '⁻', '0': '⁰', '1': '¹', '2': '²', '3': '³', '4': '⁴', '5': '⁵', '6': '⁶', '7': '⁷', '8': '⁸', '9': '⁹' }
const script = (table: Readonly<Record<string, string>>, s: string): string => [...s].map((c) => table[c] ?? c).join('')

/** `v₋₁` for index −1. */
export const rowName = (index: number): string => `v${script(SUBSCRIPT, String(index))}`

/** `[2, 3]`: a shape as written in messages and formulas. */
export const showShape = (s: Shape): string => `[${s.join(', ')}]`

/** Constructors of formula nodes, for the notation tables. */
export const num = (value: number): Formula => ({ kind: 'number', value })
export const bin = (op: '+' | '−' | '×' | '/' | '·' | ' ', left: Formula, right: Formula): Formula => ({ kind: 'binary', op, left, right })
export const call = (fn: string, ...args: Formula[]): Formula => ({ kind: 'call', fn, args })
export const apply = (fn: string, arg: Formula, power?: number): Formula => (power === undefined ? { kind: 'apply', fn, arg } : { kind: 'apply', fn, power, arg })
export const label = (text: string): Formula => ({ kind: 'label', text })

/** Binding strengths: a printed part is parenthesized where it binds more loosely than its place needs. */
export const ADD = 1, NEG = 1, MUL = 2, APPLY = 4, POW = 5, ATOM = 6
const textRelations: { readonly [R in Relation]: string } = { '>': '>', '<': '<', '>=': '≥', '<=': '≤', '==': '=', '!=': '≠' }
const latexRelations: { readonly [R in Relation]: string } = { '>': '>', '<': '<', '>=': '\\geq', '<=': '\\leq', '==': '=', '!=': '\\neq' }

/** A printed formula and how strongly it binds. */
export interface Printed {
  readonly s: string
  readonly p: number
}

/** How one notation writes the leaves of a formula. */
export interface Style {
  readonly latex: boolean
  readonly variable: (index: number) => Printed
  readonly number: (value: number) => Printed
  readonly constant: (value: Tensor) => string
}

/** A constant as written inside formulas: up to 6 significant digits. */
export const compact = (v: number, latex: boolean): Printed => {
  const s = Number.isFinite(v) ? String(Number(v.toPrecision(6))) : Number.isNaN(v) ? 'NaN' : v > 0 ? '∞' : '-∞'
  const t = latex ? s.replace('∞', '\\infty').replace('NaN', '\\mathrm{NaN}') : s.replace('-', '−')
  return { s: t, p: t.startsWith('-') || t.startsWith('−') ? NEG : ATOM }
}

const LATEX_FUNCTIONS: Readonly<Record<string, string>> = {
  ln: '\\ln', sin: '\\sin', cos: '\\cos', tanh: '\\tanh', exp: '\\exp', max: '\\max', min: '\\min', 'σ': '\\sigma', 'Σ': '\\sum'
}
const latexFunction = (fn: string): string => LATEX_FUNCTIONS[fn] ?? `\\mathrm{${latexEscape(fn)}}`

const GREEK: Readonly<Record<string, string>> = {
  α: 'alpha', β: 'beta', γ: 'gamma', δ: 'delta', ε: 'epsilon', ζ: 'zeta', η: 'eta', θ: 'theta', ι: 'iota', κ: 'kappa', λ: 'lambda', μ: 'mu',
  ν: 'nu', ξ: 'xi', π: 'pi', ρ: 'rho', σ: 'sigma', τ: 'tau', υ: 'upsilon', φ: 'phi', χ: 'chi', ψ: 'psi', ω: 'omega'
}

/** Escapes text for LaTeX math mode inside `\mathrm{…}`; characters pdflatex cannot typeset become `?`. */
const latexEscape = (s: string): string =>
  [...s]
    .map((c) => {
      if ('#$%&_{}'.includes(c)) return `\\${c}`
      if (c === '\\') return '\\backslash{}'
      if (c === '^') return '\\wedge{}'
      if (c === '~') return '\\sim{}'
      if (c === ' ') return '\\ '
      if (GREEK[c] !== undefined) return `\\${GREEK[c]}{}`
      return /^[\x20-\x7e]$/.test(c) ? c : '?'
    })
    .join('')

/** An input's name in LaTeX: `x1` → `x_{1}`, `w` → `w`, anything else upright. */
export const latexName = (name: string): string => {
  const m = /^([A-Za-z])_?(\d+)$/.exec(name)
  if (m !== null) return `${m[1]}_{${m[2]}}`
  if (/^[A-Za-z]$/.test(name)) return name
  if (GREEK[name] !== undefined) return `\\${GREEK[name]}`
  return `\\mathrm{${latexEscape(name)}}`
}

/** An accent over an input's name: `x̄1`, `\bar{x}_{1}`. */
export const accented = (name: string, accent: 'bar' | 'dot', latex: boolean): string => {
  if (!latex) {
    const [first = '', ...rest] = [...name]
    return `${first}${accent === 'bar' ? '\u0304' : '\u0307'}${rest.join('')}`
  }
  const m = /^([A-Za-z])_?(\d+)$/.exec(name)
  if (m !== null) return `\\${accent}{${m[1]}}_{${m[2]}}`
  if (/^[A-Za-z]$/.test(name) || GREEK[name] !== undefined) return `\\${accent}{${latexName(name)}}`
  return accent === 'bar' ? `\\overline{${latexName(name)}}` : `\\dot{${latexName(name)}}`
}

const varText = (index: number, latex: boolean, accent?: 'bar' | 'dot'): string =>
  latex
    ? `${accent === undefined ? 'v' : `\\${accent}{v}`}_{${index}}`
    : `v${accent === 'bar' ? '\u0304' : accent === 'dot' ? '\u0307' : ''}${script(SUBSCRIPT, String(index))}`

const wrap = (x: Printed, when: boolean, latex: boolean): string => (when ? (latex ? `\\left(${x.s}\\right)` : `(${x.s})`) : x.s)

const BINARY_TEXT = { '+': ' + ', '−': ' − ', '×': ' × ', '/': '/', '·': ' · ', ' ': ' ' } as const
const BINARY_LATEX = { '+': ' + ', '−': ' - ', '×': ' \\times ', '/': ' / ', '·': ' \\cdot ', ' ': ' \\, ' } as const

const exponentText = (e: number, latex: boolean): string => {
  const s = String(Number(e.toPrecision(6)))
  if (latex) return `^{${s}}`
  return /^-?\d+$/.test(s) ? script(SUPERSCRIPT, s) : e < 0 ? `^(${s.replace('-', '−')})` : `^${s}`
}

/** Prints a formula in a notation (see {@link Style}). */
export const print = (f: Formula, st: Style): Printed => {
  const L = st.latex
  const go = (g: Formula): Printed => print(g, st)
  switch (f.kind) {
    case 'var': return st.variable(f.index)
    case 'bar': return { s: varText(f.index, L, 'bar'), p: ATOM }
    case 'input': return { s: L ? latexName(f.name) : f.name, p: ATOM }
    case 'symbol': return { s: L ? f.latex : f.text, p: ATOM }
    case 'number': return st.number(f.value)
    case 'constant': return { s: st.constant(f.value), p: ATOM }
    case 'label': return { s: L ? `\\mathrm{${latexEscape(f.text)}}` : f.text, p: ATOM }
    case 'binary': {
      const p = f.op === '+' || f.op === '−' ? ADD : MUL
      const l = go(f.left)
      const r = go(f.right)
      return { s: `${wrap(l, l.p < p, L)}${(L ? BINARY_LATEX : BINARY_TEXT)[f.op]}${wrap(r, r.p <= p, L)}`, p }
    }
    case 'neg': {
      const a = go(f.arg)
      return { s: `${L ? '-' : '−'}${wrap(a, a.p <= NEG, L)}`, p: NEG }
    }
    case 'apply': {
      const a = go(f.arg)
      const name = L ? latexFunction(f.fn) : f.fn
      const power = f.power === undefined ? '' : exponentText(f.power, L)
      const parens = a.p <= APPLY
      return { s: `${name}${power}${parens ? wrap(a, true, L) : ` ${a.s}`}`, p: APPLY }
    }
    case 'call': {
      const name = L ? latexFunction(f.fn) : f.fn
      const args = f.args.map((g) => go(g).s).join(', ')
      return { s: L ? `${name}\\left(${args}\\right)` : `${name}(${args})`, p: ATOM }
    }
    case 'pow': {
      const b = go(f.base)
      const base = wrap(b, b.p < ATOM, L)
      return { s: L ? `{${base}}${exponentText(f.exponent, L)}` : `${base}${exponentText(f.exponent, L)}`, p: POW }
    }
    case 'power': {
      const b = go(f.base)
      const e = go(f.exponent)
      const base = wrap(b, b.p < ATOM, L)
      return { s: L ? `{${base}}^{${e.s}}` : `${base}^${wrap(e, e.p < ATOM, L)}`, p: POW }
    }
    case 'sqrt': {
      const a = go(f.arg)
      return L ? { s: `\\sqrt{${a.s}}`, p: ATOM } : { s: `√${wrap(a, a.p < ATOM, L)}`, p: APPLY }
    }
    case 'abs': {
      const a = go(f.arg)
      return { s: L ? `\\left|${a.s}\\right|` : `|${a.s}|`, p: ATOM }
    }
    case 'transpose': {
      const a = go(f.arg)
      return { s: L ? `{${wrap(a, a.p < ATOM, L)}}^{\\top}` : `${wrap(a, a.p < ATOM, L)}ᵀ`, p: POW }
    }
    case 'indicator': {
      const [l, r] = [go(f.left), go(f.right)]
      return { s: `[${l.s} ${(L ? latexRelations : textRelations)[f.rel]} ${r.s}]`, p: ATOM }
    }
    case 'partial':
      return L
        ? { s: `\\frac{\\partial v_{${f.of}}}{\\partial v_{${f.wrt}}}`, p: ATOM }
        : { s: `∂${varText(f.of, false)}/∂${varText(f.wrt, false)}`, p: ATOM }
  }
}

const textConstant = (t: Tensor): string => (t.size <= 4 && t.shape.length <= 1 ? `[${Array.from(t.data, (v) => compact(v, false).s).join(', ')}]` : `c${showShape(t.shape)}`)
const latexConstant = (t: Tensor): string =>
  t.size <= 4 && t.shape.length <= 1 ? `[${Array.from(t.data, (v) => compact(v, true).s).join(', ')}]` : `c_{${t.shape.join(' \\times ')}}`

/** Unicode text and LaTeX math. */
export const textStyle: Style = { latex: false, variable: (i) => ({ s: varText(i, false), p: ATOM }), number: (v) => compact(v, false), constant: textConstant }
export const latexStyle: Style = { latex: true, variable: (i) => ({ s: varText(i, true), p: ATOM }), number: (v) => compact(v, true), constant: latexConstant }

/** A formula in Unicode text. */
export const printText = (f: Formula): string => print(f, textStyle).s

/**
 * Prints a formula of a trace (a row's `formula`, a step's `partialFormula` or
 * `contributionFormula`) in Unicode (`'text'`, the default) or in LaTeX math (`'latex'`).
 *
 * @example
 * ```ts
 * import { Trace, log } from 'lamina-nn'
 * import assert from 'node:assert'
 * const [step] = Trace.trace(({ x }) => log(x), { x: 2 }).adjoints
 * assert.strictEqual(Trace.showFormula(step!.partialFormula), '1/v₀')
 * assert.strictEqual(Trace.showFormula(step!.contributionFormula, 'latex'), '\\bar{v}_{1} / v_{0}')
 * ```
 */
export const showFormula = (formula: Formula, notation: 'text' | 'latex' = 'text'): string =>
  print(formula, notation === 'latex' ? latexStyle : textStyle).s
