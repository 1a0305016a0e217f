// A small, dependency-free SVG plotter for the examples: panels of lines, dots and text in
// data coordinates, with axes, ticks, a legend and clipping, laid out in a grid. Hand-built
// because the plots are simple (a few polylines and scatter points) and a string builder
// keeps the output deterministic, dependency-free and easy to check for well-formedness.
//
//   const svg = figure([{ title: 'sin', x: [-3, 3], y: [-1, 1], marks: [line(points, 'steelblue', { label: 'sin' })] }])
//   writeSvg('examples/foo/out', 'sin.svg', svg)
import { mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'

/** A point in data coordinates. */
export type Point = readonly [number, number]
/** An interval of data values, [low, high]. */
export type Domain = readonly [number, number]
/** How an axis maps data to pixels. */
export type Scale = 'linear' | 'log'

/** A polyline (broken at non-finite points). */
export interface LineMark {
  readonly kind: 'line'
  readonly points: readonly Point[]
  readonly color: string
  readonly width?: number
  readonly dash?: string
  readonly opacity?: number
  readonly label?: string
}
/** Scatter points. */
export interface DotsMark {
  readonly kind: 'dots'
  readonly points: readonly Point[]
  readonly color: string
  readonly radius?: number
  readonly hollow?: boolean
  readonly opacity?: number
  readonly label?: string
}
/** A text label anchored at a data point. */
export interface TextMark {
  readonly kind: 'text'
  readonly at: Point
  readonly text: string
  readonly color?: string
}
export type Mark = LineMark | DotsMark | TextMark

/** One plot: its data window, axis scales and labels, and what it draws. */
export interface Panel {
  readonly title?: string
  readonly x: Domain
  readonly y: Domain
  readonly xScale?: Scale
  readonly yScale?: Scale
  readonly xLabel?: string
  readonly yLabel?: string
  readonly marks: readonly Mark[]
}

export interface FigureOptions {
  readonly title?: string
  /** Panels per row (default: all in one row, at most 3). */
  readonly columns?: number
  readonly panelWidth?: number
  readonly panelHeight?: number
}

/** A qualitative palette (Tableau 10). */
export const palette = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'] as const

export const line = (points: readonly Point[], color: string, options?: Omit<LineMark, 'kind' | 'points' | 'color'>): LineMark => ({
  kind: 'line',
  points,
  color,
  ...options
})

export const dots = (points: readonly Point[], color: string, options?: Omit<DotsMark, 'kind' | 'points' | 'color'>): DotsMark => ({
  kind: 'dots',
  points,
  color,
  ...options
})

export const text = (at: Point, content: string, color?: string): TextMark => ({ kind: 'text', at, text: content, ...(color === undefined ? {} : { color }) })

/** The points (x, f(x)) at `n` evenly spaced x in [lo, hi]. */
export const sample = (f: (x: number) => number, lo: number, hi: number, n = 200): Point[] =>
  Array.from({ length: n }, (_, i) => {
    const x = lo + ((hi - lo) * i) / (n - 1)
    return [x, f(x)] as const
  })

/** The smallest domain holding every finite coordinate of `values`, widened by `pad` (a fraction) on each side. */
export const extent = (values: readonly number[], pad = 0.05): Domain => {
  const finite = values.filter(Number.isFinite)
  if (finite.length === 0) return [0, 1]
  const lo = Math.min(...finite)
  const hi = Math.max(...finite)
  const span = hi - lo || Math.abs(hi) || 1
  return [lo - pad * span, hi + pad * span]
}

/** Escapes text for XML character data and attribute values; characters XML 1.0 forbids (C0 controls, lone surrogates, U+FFFE/U+FFFF) become U+FFFD. */
export const escapeXml = (s: string): string =>
  s
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDFFF]/gu, '\uFFFD')
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;')

/** About `count` round tick values covering [lo, hi] (steps of 1, 2 or 5 times a power of ten). */
export const niceTicks = (lo: number, hi: number, count = 5): number[] => {
  if (!(hi > lo)) return [lo]
  const raw = (hi - lo) / count
  const power = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power
  const ticks: number[] = []
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t)
  return ticks
}

const logTicks = (lo: number, hi: number): number[] => {
  const first = Math.ceil(Math.log10(lo) - 1e-9)
  const last = Math.floor(Math.log10(hi) + 1e-9)
  const every = Math.max(1, Math.ceil((last - first + 1) / 8)) // at most about 8 labelled decades
  const ticks: number[] = []
  for (let e = first; e <= last; e += every) ticks.push(10 ** e)
  return ticks
}

const tickLabel = (v: number, scale: Scale): string => {
  if (scale === 'log') return `1e${Math.round(Math.log10(v))}`
  if (v === 0) return '0'
  const a = Math.abs(v)
  if (a >= 1e4 || a < 1e-3) return v.toExponential(0)
  return String(Number(v.toPrecision(6)))
}

const num = (v: number): string => {
  // keep the file small and the numbers sane: 2 decimals, clamped far outside any viewport
  const c = Math.max(-1e5, Math.min(1e5, v))
  return String(Math.round(c * 100) / 100)
}

const margin = { left: 58, right: 14, top: 30, bottom: 44 }

const renderPanel = (p: Panel, index: number, width: number, height: number): string => {
  const xScale = p.xScale ?? 'linear'
  const yScale = p.yScale ?? 'linear'
  const plotW = width - margin.left - margin.right
  const plotH = height - margin.top - margin.bottom
  const t = (v: number, scale: Scale) => (scale === 'log' ? Math.log10(v) : v)
  const [x0, x1] = [t(p.x[0], xScale), t(p.x[1], xScale)]
  const [y0, y1] = [t(p.y[0], yScale), t(p.y[1], yScale)]
  const px = (x: number) => margin.left + ((t(x, xScale) - x0) / (x1 - x0)) * plotW
  const py = (y: number) => margin.top + plotH - ((t(y, yScale) - y0) / (y1 - y0)) * plotH
  const ok = ([x, y]: Point) => Number.isFinite(px(x)) && Number.isFinite(py(y))
  const clip = `clip${index}`
  const parts: string[] = []
  parts.push(`<clipPath id="${clip}"><rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}"/></clipPath>`)
  parts.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="#fff" stroke="#999"/>`)
  // ticks and grid
  const xt = xScale === 'log' ? logTicks(p.x[0], p.x[1]) : niceTicks(p.x[0], p.x[1])
  const yt = yScale === 'log' ? logTicks(p.y[0], p.y[1]) : niceTicks(p.y[0], p.y[1])
  for (const v of xt) {
    const X = num(px(v))
    parts.push(`<line x1="${X}" y1="${margin.top}" x2="${X}" y2="${margin.top + plotH}" stroke="#eee"/>`)
    parts.push(`<text x="${X}" y="${margin.top + plotH + 14}" text-anchor="middle">${escapeXml(tickLabel(v, xScale))}</text>`)
  }
  for (const v of yt) {
    const Y = num(py(v))
    parts.push(`<line x1="${margin.left}" y1="${Y}" x2="${margin.left + plotW}" y2="${Y}" stroke="#eee"/>`)
    parts.push(`<text x="${margin.left - 5}" y="${Y}" dy="0.32em" text-anchor="end">${escapeXml(tickLabel(v, yScale))}</text>`)
  }
  // marks, clipped to the plot area
  parts.push(`<g clip-path="url(#${clip})">`)
  for (const m of p.marks) {
    if (m.kind === 'line') {
      const runs: Point[][] = [[]]
      for (const q of m.points) {
        if (ok(q)) runs[runs.length - 1]!.push(q)
        else if (runs[runs.length - 1]!.length > 0) runs.push([])
      }
      const style = `fill="none" stroke="${escapeXml(m.color)}" stroke-width="${m.width ?? 1.5}"${m.dash === undefined ? '' : ` stroke-dasharray="${escapeXml(m.dash)}"`}${m.opacity === undefined ? '' : ` stroke-opacity="${m.opacity}"`}`
      for (const run of runs.filter((r) => r.length > 1)) {
        parts.push(`<polyline ${style} points="${run.map(([x, y]) => `${num(px(x))},${num(py(y))}`).join(' ')}"/>`)
      }
    } else if (m.kind === 'dots') {
      const fill = m.hollow === true ? `fill="none" stroke="${escapeXml(m.color)}"` : `fill="${escapeXml(m.color)}"`
      const opacity = m.opacity === undefined ? '' : ` opacity="${m.opacity}"`
      for (const q of m.points.filter(ok)) parts.push(`<circle cx="${num(px(q[0]))}" cy="${num(py(q[1]))}" r="${m.radius ?? 2.5}" ${fill}${opacity}/>`)
    } else if (ok(m.at)) {
      parts.push(`<text x="${num(px(m.at[0]))}" y="${num(py(m.at[1]))}" fill="${escapeXml(m.color ?? '#333')}">${escapeXml(m.text)}</text>`)
    }
  }
  parts.push('</g>')
  // titles, axis labels, legend
  if (p.title !== undefined) parts.push(`<text x="${margin.left + plotW / 2}" y="${margin.top - 10}" text-anchor="middle" font-weight="bold">${escapeXml(p.title)}</text>`)
  if (p.xLabel !== undefined) parts.push(`<text x="${margin.left + plotW / 2}" y="${height - 8}" text-anchor="middle">${escapeXml(p.xLabel)}</text>`)
  if (p.yLabel !== undefined) {
    parts.push(`<text transform="translate(14 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(p.yLabel)}</text>`)
  }
  const labelled = p.marks.filter((m): m is LineMark | DotsMark => m.kind !== 'text' && m.label !== undefined)
  if (labelled.length > 0) {
    // a legend box in the top-right corner, sized by an estimate of the text width
    const boxW = 34 + 6.2 * Math.max(...labelled.map((m) => [...m.label!].length))
    const left = margin.left + plotW - boxW - 6
    parts.push(`<rect x="${num(left)}" y="${margin.top + 5}" width="${num(boxW)}" height="${labelled.length * 14 + 6}" fill="#fff" fill-opacity="0.85" stroke="#ddd"/>`)
    labelled.forEach((m, i) => {
      const y = margin.top + 15 + i * 14
      const swatch =
        m.kind === 'line'
          ? `<line x1="${num(left + 6)}" y1="${y}" x2="${num(left + 24)}" y2="${y}" stroke="${escapeXml(m.color)}" stroke-width="2"${m.dash === undefined ? '' : ` stroke-dasharray="${escapeXml(m.dash)}"`}/>`
          : `<circle cx="${num(left + 15)}" cy="${y}" r="3" fill="${escapeXml(m.color)}"/>`
      parts.push(`${swatch}<text x="${num(left + 28)}" y="${y}" dy="0.32em">${escapeXml(m.label!)}</text>`)
    })
  }
  return parts.join('\n')
}

/** Renders panels in a grid as a standalone SVG document (with an XML declaration and a viewBox). */
export const figure = (panels: readonly Panel[], options?: FigureOptions): string => {
  const columns = Math.max(1, options?.columns ?? Math.min(3, panels.length))
  const w = options?.panelWidth ?? 420
  const h = options?.panelHeight ?? 320
  const titleH = options?.title === undefined ? 0 : 28
  const rows = Math.ceil(panels.length / columns)
  const width = columns * w
  const height = rows * h + titleH
  const body = panels.map(
    (p, i) => `<g transform="translate(${(i % columns) * w} ${titleH + Math.floor(i / columns) * h})">\n${renderPanel(p, i, w, h)}\n</g>`
  )
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#fafafa"/>`,
    ...(options?.title === undefined ? [] : [`<text x="${width / 2}" y="19" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(options.title)}</text>`]),
    ...body,
    '</svg>',
    ''
  ].join('\n')
}

/** Writes `svg` to `dir/name` (creating `dir`), through a temporary file and a rename; returns the path. */
export const writeSvg = (dir: string, name: string, svg: string): string => {
  mkdirSync(dir, { recursive: true })
  const path = resolve(join(dir, name))
  const temp = `${path}.${process.pid}.tmp`
  writeFileSync(temp, svg)
  renameSync(temp, path)
  return path
}

/**
 * The output folder of an example: `--out DIR` from the command line, else `fallback`.
 * A bad command line prints the usage and exits with status 2.
 */
export const outDirFromArgs = (example: string, fallback: string, argv: readonly string[] = process.argv.slice(2)): string => {
  try {
    const { values } = parseArgs({ args: [...argv], options: { out: { type: 'string' } }, strict: true })
    return resolve(values.out ?? fallback)
  } catch (e) {
    console.error(`${(e as Error).message}\nusage: npx tsx --conditions=lamina-src examples/${example}/main.ts [--out DIR]`)
    process.exit(2)
  }
}
