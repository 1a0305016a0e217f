/**
 * Where a trace's values or derivatives are undefined or infinite, and why: each primitive's
 * domain checks (a total table beside the rule table) and the generic overflow check, as
 * warnings attached to the row where a problem starts.
 *
 * @module
 */
import { isBuiltin } from '../../prim.js'
import type { Prim, PrimParams } from '../../prim.js'
import type { Tensor } from '../../tensor.js'
import { compact } from './formula.js'

/**
 * A domain problem of one row: its value (`'value'`: NaN or ±∞ computed from finite operands) or
 * the partial derivative with respect to one of its operands (`'derivative'`: undefined or
 * infinite there), with a one-line message that says what is undefined and why.
 */
export interface TraceWarning {
  /** The row's index (`1` for `v₁`). */
  readonly row: number
  /** The row's primitive. */
  readonly op: Prim
  readonly kind: 'value' | 'derivative'
  /** For a derivative: the operand (0 or 1) it is taken with respect to. */
  readonly operand?: number
  /** What is undefined, where (the row, the values) and why. */
  readonly message: string
}


/** What a domain check sees of one row. */
export interface DomainContext {
  /** `v₁ = ln v₀`: the row and its formula. */
  readonly row: string
  /** The operands' values, elementwise (already broadcast to the output's shape). */
  readonly args: readonly Tensor[]
  readonly out: Tensor
  readonly params: unknown
  /** Each operand as the row writes it: `v₀`, or a folded constant such as `−1`. */
  readonly names: readonly string[]
  /** Whether operand `i` carries a derivative (a traced value, not a constant). */
  readonly traced: readonly boolean[]
}

/** One problem at element `i` of a row. */
interface Finding {
  /** Which problem (elements with the same one are reported together). */
  readonly reason: string
  readonly kind: 'value' | 'derivative'
  readonly operand?: number
  readonly message: string
}

/** The checks of one elementwise primitive at one element: `x` its operands' values there, `y` its value. */
type DomainCheck = (c: DomainContext, x: readonly number[], y: number) => Finding | undefined

/** A number in a message: up to 6 significant digits, `−` for minus. */
const shown = (v: number): string => compact(v, false).s

const isInteger = (v: number): boolean => Number.isInteger(v)

/** `(name = value)` unless the operand is a constant, whose name is its value. */
const valued = (c: DomainContext, k: number, v: number): string => (c.traced[k] === true ? `${c.names[k]!} = ${shown(v)}` : shown(v))

/** The power checks shared by `pow` (a constant exponent) and `power` (a tensor one). */
const powerFindings = (c: DomainContext, a: number, b: number, y: number, exponentTraced: boolean): Finding | undefined => {
  if (a < 0 && Number.isFinite(b) && !isInteger(b)) {
    return { reason: 'negative base', kind: 'value', message: `${c.row} is NaN: a negative base has a real power only for an integer exponent, and here the base is ${valued(c, 0, a)} and the exponent ${exponentTraced ? valued(c, 1, b) : shown(b)}` }
  }
  if (a === 0 && b < 0) {
    return { reason: 'zero to a negative power', kind: 'value', message: `${c.row} is ${shown(y)}: 0 raised to a negative power is undefined (|a^b| → ∞ as a → 0 for b < 0), and here the base is ${valued(c, 0, a)} and the exponent ${exponentTraced ? valued(c, 1, b) : shown(b)}` }
  }
  if (a === 0 && b > 0 && b < 1 && c.traced[0] === true) {
    return { reason: 'base derivative at 0', kind: 'derivative', operand: 0, message: `${c.row} is not differentiable in its base at ${c.names[0]!} = 0: ∂(a^b)/∂a = b·a^(b−1) is infinite at a = 0 for 0 < b < 1 (here b = ${shown(b)})` }
  }
  if (!exponentTraced) return undefined
  if (a < 0 && Number.isFinite(y)) {
    return {
      reason: 'exponent derivative at a negative base',
      kind: 'derivative',
      operand: 1,
      message: `${c.row}: the derivative with respect to the exponent ${c.names[1]!} is undefined (NaN): ∂(a^b)/∂b = a^b·ln a needs a > 0, and here the base is ${valued(c, 0, a)}; at a < 0 only integer b give a real value, so a^b is not differentiable in b there`
    }
  }
  if (a === 0 && b === 0) {
    return { reason: 'exponent derivative at 0^0', kind: 'derivative', operand: 1, message: `${c.row}: 0^b is not differentiable in b at b = 0 (0^b = 0 for b > 0, 1 at b = 0, ∞ for b < 0); the rule gives 0` }
  }
  return undefined
}

/**
 * Where each primitive's value or derivative is undefined, beside the rule table (a total table:
 * `null` for a primitive defined everywhere, or whose problems only the generic overflow check
 * can find). Each check looks at one element; the derivative findings follow the rules in
 * `prim.ts` (`d ln x = dx/x`, `d √x = dx/(2√x)`, `d aᵇ = b·aᵇ⁻¹ da + aᵇ·ln a db`).
 */
const domains: { readonly [P in Prim]: DomainCheck | null } = {
  log: (c, [x], y) =>
    x! < 0
      ? { reason: 'log of a negative number', kind: 'value', message: `${c.row} is NaN: ln x is defined only for x > 0, and here ${valued(c, 0, x!)}; the rule's partial 1/x (= ${shown(1 / x!)}) is not the derivative of any real function there` }
      : x === 0
        ? { reason: 'log of 0', kind: 'value', message: `${c.row} is ${shown(y)}: ln x is defined only for x > 0 (ln x → −∞ as x → 0⁺), and here ${valued(c, 0, x)}; its derivative 1/x is infinite there` }
        : undefined,
  sqrt: (c, [x]) =>
    x! < 0
      ? { reason: 'square root of a negative number', kind: 'value', message: `${c.row} is NaN: √x is defined only for x ≥ 0, and here ${valued(c, 0, x!)}` }
      : x === 0 && c.traced[0] === true
        ? { reason: 'square root derivative at 0', kind: 'derivative', operand: 0, message: `${c.row} is not differentiable at ${c.names[0]!} = 0: its derivative 1/(2√x) is infinite at x = 0, so the adjoint and tangent through it are ∞ or NaN` }
        : undefined,
  div: (c, [a, b], y) =>
    b !== 0
      ? undefined
      : a === 0
        ? { reason: '0/0', kind: 'value', message: `${c.row} is NaN: division by zero, 0/0 is undefined (here ${valued(c, 0, a)} and ${valued(c, 1, b)}); the partials 1/b and −a/b² are undefined too` }
        : { reason: 'division by zero', kind: 'value', message: `${c.row} is ${shown(y)}: division by zero (here ${valued(c, 1, b!)}); a/b and its partials 1/b and −a/b² are undefined at b = 0` },
  pow: (c, [a], y) => powerFindings(c, a!, (c.params as PrimParams['pow']).exponent, y, false),
  power: (c, [a, b], y) => powerFindings(c, a!, b!, y, c.traced[1] === true),
  add: null, sub: null, mul: null, maximum: null, minimum: null, neg: null, exp: null, sin: null, cos: null, tanh: null,
  sigmoid: null, relu: null, abs: null, erf: null, softplus: null, logsumexp: null, sum: null, mean: null, max: null,
  min: null, stopGradient: null,
  matmul: null, batchMatmul: null, broadcast: null, reshape: null, transpose: null, concat: null, slice: null, pad: null, select: null, compare: null, sign: null,
  conv2d: null, conv2dInputGrad: null, conv2dFilterGrad: null, maxPool2d: null, avgPool2d: null, avgPool2dTranspose: null,
  maxPool2dGather: null, maxPool2dSpread: null
}

/** Whether every element of a tensor is finite. */
export const allFinite = (t: Tensor): boolean => {
  const data = t.data
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) return false
  return true
}

/** Where an element of a tensor with more than one is: ` (element 3 of 6; 2 elements in all)`. */
const whereIn = (size: number, first: number, count: number): string =>
  size <= 1 ? '' : ` (element ${first} of ${size}${count > 1 ? `; ${count} elements in all` : ''})`

/**
 * The warnings of one row: its primitive's domain check at every element (the first finding of
 * each kind and operand is reported, with the number of elements it applies to), then, for a
 * value that is not finite although its operands are, the generic overflow warning.
 */
export const rowWarnings = (index: number, op: Prim, c: DomainContext): TraceWarning[] => {
  // a user's primitive has no domain entry: only the generic overflow check applies
  const check = isBuiltin(op) ? domains[op] : null
  const out: TraceWarning[] = []
  const explained = new Set<number>()
  if (check !== null && c.args.every((a) => a.size === c.out.size)) {
    const data = c.args.map((a) => a.data)
    const found = new Map<string, { finding: Finding; first: number; count: number }>()
    for (let i = 0; i < c.out.size; i++) {
      const x = data.map((d) => d[i]!)
      if (!x.every(Number.isFinite)) continue // passed on from an earlier row
      const f = check(c, x, c.out.data[i]!)
      if (f === undefined) continue
      if (f.kind === 'value') explained.add(i)
      const key = f.reason
      const seen = found.get(key)
      if (seen === undefined) found.set(key, { finding: f, first: i, count: 1 })
      else found.set(key, { ...seen, count: seen.count + 1 })
    }
    for (const { finding, first, count } of found.values()) {
      out.push(Object.freeze({ row: index, op, kind: finding.kind, ...(finding.operand === undefined ? {} : { operand: finding.operand }), message: finding.message + whereIn(c.out.size, first, count) }))
    }
  }
  if (c.args.every(allFinite) && !allFinite(c.out)) {
    const data = c.out.data
    const bad: number[] = []
    for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!) && !explained.has(i)) bad.push(i)
    if (bad.length > 0) {
      const v = data[bad[0]!]!
      const what = Number.isNaN(v) ? 'is NaN' : `overflows to ${shown(v)}`
      out.push(Object.freeze({ row: index, op, kind: 'value' as const, message: `${c.row} ${what} although its operands are finite${Number.isNaN(v) ? '' : ' (beyond ±1.8e308, the largest double)'}${whereIn(c.out.size, bad[0]!, bad.length)}` }))
    }
  }
  return out
}
