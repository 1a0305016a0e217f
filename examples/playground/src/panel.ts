/**
 * The inspector's tables: the forward primal trace and the reverse adjoint trace of the clicked
 * value as HTML tables (a caption, column headers, one row per primitive), and the legend that
 * explains every symbol they use, built from readable.ts's rows; and how the inspector writes
 * its numbers. Keeps no state.
 *
 * @module
 */
import type { Tensor } from 'lamina-nn'
import type { Readable } from './readable.js'

/** Significant digits, with a real minus sign. */
const significant = (v: number, digits: number): string => {
  if (Number.isNaN(v)) return 'NaN'
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞'
  return String(Number(v.toPrecision(digits))).replace('-', '−')
}

/** A value for a table cell: a number, a few elements, or the first three and the norm. */
export const showValue = (t: Tensor, digits = 4): string => {
  const data = t.data
  if (t.size === 1) return significant(data[0]!, digits)
  if (t.size <= 4) return `[${Array.from(data, (v) => significant(v, digits)).join(', ')}]`
  let sq = 0
  for (const v of data) sq += v * v
  return `[${Array.from(data).slice(0, 3).map((v) => significant(v, digits)).join(', ')}, …] ‖·‖ = ${significant(Math.sqrt(sq), digits)}`
}

/** Full-precision-ish numbers with an ASCII minus, so they can be read back. */
export const exact = (v: number): string => (Number.isFinite(v) ? Number(v.toPrecision(10)).toString() : String(v))

/** A value or one value per example: the number, or the first four (4 significant digits) and the mean (6), as the inspector's fields show them. */
export const showTensor = (t: Tensor): string => {
  if (t.size === 1) return exact(t.data[0]!)
  const data = Array.from(t.data)
  const mean = data.reduce((a, b) => a + b, 0) / data.length
  const digits = (v: number, n: number): string => (Number.isFinite(v) ? Number(v.toPrecision(n)).toString() : String(v))
  const head = data.slice(0, 4).map((v) => digits(v, 4)).join(', ')
  return `[${head}${data.length > 4 ? ', …' : ''}] (${data.length} examples, mean ${digits(mean, 6)})`
}

const shapeText = (shape: readonly number[]): string => (shape.length === 0 ? 'scalar' : `[${shape.join(', ')}]`)

const tableOf = (caption: string, headers: readonly string[], rows: readonly (readonly string[])[], numeric: readonly number[], classes: readonly string[] = []): HTMLTableElement => {
  const t = document.createElement('table')
  t.createCaption().textContent = caption
  const head = t.createTHead().insertRow()
  for (const h of headers) {
    const th = document.createElement('th')
    th.scope = 'col'
    th.textContent = h
    head.append(th)
  }
  const body = t.createTBody()
  rows.forEach((cells, r) => {
    const row = body.insertRow()
    if (classes[r]) row.className = classes[r]!
    cells.forEach((text, c) => {
      const cell = c === 0 ? document.createElement('th') : row.insertCell()
      if (c === 0) {
        ;(cell as HTMLTableCellElement).scope = 'row'
        row.append(cell)
      }
      cell.textContent = text
      if (numeric.includes(c)) cell.className = 'number'
      else if (c > 0) cell.className = 'math'
    })
  })
  return t
}

/** Fills `host` with the two trace tables and `legend` with the symbols they use. */
export const render = (readable: Readable, host: HTMLElement, legend: HTMLElement): void => {
  const forward = tableOf(
    'Forward primal trace',
    ['vᵢ', 'expression', 'shape', 'value'],
    readable.forward.map((r) => [r.name, r.expression, shapeText(r.shape), showValue(r.value)]),
    [3],
    readable.forward.map((r) => (r.name === 'L' ? 'sum' : ''))
  )
  forward.dataset['trace'] = 'forward'
  const backward = tableOf(
    'Reverse adjoint trace',
    ['v̄ᵢ', 'rule', 'formula', 'shape', 'adds', 'value'],
    readable.backward.map((r) => [r.name, r.rule, r.formula, shapeText(r.shape), r.contribution === undefined ? '' : showValue(r.contribution), showValue(r.value)]),
    [4, 5],
    readable.backward.map((_, i) => (i === readable.backward.length - 1 ? 'sum' : ''))
  )
  backward.dataset['trace'] = 'backward'
  host.replaceChildren(forward, backward)
  legend.replaceChildren(
    ...readable.legend.flatMap((entry) => {
      const dt = document.createElement('dt')
      dt.textContent = entry.symbol
      const dd = document.createElement('dd')
      dd.textContent = entry.meaning
      return [dt, dd]
    })
  )
}
