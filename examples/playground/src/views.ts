/**
 * Drawing: the output over the plane as a heat map with the data points (the decision boundary
 * for classification, the prediction for regression), each unit's output over the plane as a
 * small image, the network's weights as coloured edges, and the loss curves. Canvas and SVG
 * only; every function draws what it is given and keeps no state.
 *
 * @module
 */
import type { ActivationName, Problem } from './config.js'
import * as D from './datasets.js'

const ORANGE = [245, 147, 34] as const
const BLUE = [8, 119, 189] as const
const WHITE = [232, 234, 235] as const

/** A colour for `t` in [−1, 1]: orange below 0, blue above, pale near 0. */
export const diverging = (t: number): readonly [number, number, number] => {
  const s = Math.max(-1, Math.min(1, Number.isFinite(t) ? t : 0))
  const end = s < 0 ? ORANGE : BLUE
  const a = Math.abs(s)
  return [WHITE[0] + (end[0] - WHITE[0]) * a, WHITE[1] + (end[1] - WHITE[1]) * a, WHITE[2] + (end[2] - WHITE[2]) * a]
}

/** Maps a unit's outputs to [−1, 1] around the activation's neutral value (0, or ½ for σ). */
export const normalise = (values: ArrayLike<number>, activation: ActivationName | 'logit' | 'prediction' | 'input'): ((v: number) => number) => {
  if (activation === 'tanh') return (v) => v
  if (activation === 'sigmoid') return (v) => 2 * v - 1
  // a prediction is on the targets' scale, [−1, 1]
  if (activation === 'prediction') return (v) => v
  let m = 1e-9
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]!))
  // logits saturate the colours from |z| = 4 on; other outputs use their own range
  const scale = activation === 'logit' ? 4 : m
  return (v) => v / scale
}

/**
 * How the output is coloured: a logit saturates from |z| = 4 on, a prediction is on the targets'
 * scale; discretized, only its side of the boundary (z > 0: blue, else orange) is drawn.
 */
export const outputColour = (problem: Problem, discretize: boolean): ((v: number) => number) => {
  if (discretize) return (v) => (v > 0 ? 1 : -1)
  return problem === 'regression' ? (v) => v : (v) => v / 4
}

/**
 * Fills a canvas with a `size × size` image of `values` (row-major, row 0 at the top), scaled up
 * smoothly, or in flat cells with `smooth = false` (a discretized output keeps its two colours).
 */
export const drawImage = (canvas: HTMLCanvasElement, values: ArrayLike<number>, size: number, colour: (v: number) => number, smooth = true): void => {
  const ctx = canvas.getContext('2d')
  if (ctx === null) return
  const image = ctx.createImageData(size, size)
  for (let k = 0; k < size * size; k++) {
    const [r, g, b] = diverging(colour(values[k]!))
    image.data[4 * k] = r
    image.data[4 * k + 1] = g
    image.data[4 * k + 2] = b
    image.data[4 * k + 3] = 255
  }
  // draw at grid resolution, then let the browser scale it smoothly to the canvas
  const off = document.createElement('canvas')
  off.width = size
  off.height = size
  off.getContext('2d')?.putImageData(image, 0, 0)
  ctx.imageSmoothingEnabled = smooth
  ctx.clearRect(0, 0, canvas.width, canvas.height)
  ctx.drawImage(off, 0, 0, canvas.width, canvas.height)
}

const toPixel = (v: number, extent: number): number => ((v - D.domain.min) / (D.domain.max - D.domain.min)) * extent

/**
 * The data points over a heat map: training points with a white rim, test points with a dark
 * one; blue or orange by class, or coloured by their target for regression.
 */
export const drawPoints = (canvas: HTMLCanvasElement, train: D.Points, test: D.Points | undefined, problem: Problem = 'classification'): void => {
  const ctx = canvas.getContext('2d')
  if (ctx === null) return
  const dot = (p: D.Points, rim: string) => {
    for (let i = 0; i < p.labels.length; i++) {
      const x = toPixel(p.x[2 * i]!, canvas.width)
      const y = canvas.height - toPixel(p.x[2 * i + 1]!, canvas.height)
      const [r, g, b] = problem === 'regression' ? diverging(p.labels[i]!) : p.labels[i] === 1 ? BLUE : ORANGE
      ctx.beginPath()
      ctx.arc(x, y, 3.2, 0, 2 * Math.PI)
      ctx.fillStyle = `rgb(${r},${g},${b})`
      ctx.fill()
      ctx.lineWidth = 1
      ctx.strokeStyle = rim
      ctx.stroke()
    }
  }
  dot(train, '#ffffff')
  if (test !== undefined) dot(test, '#222222')
}

/** One point of the loss curves. */
export interface LossPoint {
  readonly step: number
  readonly train: number
  readonly test: number
}

/** Train (blue) and test (black) loss against steps, on a linear scale from 0. */
export const drawLosses = (canvas: HTMLCanvasElement, history: readonly LossPoint[]): void => {
  const ctx = canvas.getContext('2d')
  if (ctx === null) return
  const { width, height } = canvas
  ctx.clearRect(0, 0, width, height)
  ctx.fillStyle = '#fafafa'
  ctx.fillRect(0, 0, width, height)
  if (history.length === 0) return
  const last = history[history.length - 1]!
  const maxStep = Math.max(1, last.step)
  let maxLoss = 0.1
  for (const p of history) maxLoss = Math.max(maxLoss, Number.isFinite(p.train) ? p.train : 0, Number.isFinite(p.test) ? p.test : 0)
  const pad = 4
  const x = (s: number) => pad + (s / maxStep) * (width - 2 * pad)
  const y = (l: number) => height - pad - (Math.min(l, maxLoss) / maxLoss) * (height - 2 * pad)
  const line = (pick: (p: LossPoint) => number, colour: string) => {
    ctx.beginPath()
    history.forEach((p, i) => (i === 0 ? ctx.moveTo(x(p.step), y(pick(p))) : ctx.lineTo(x(p.step), y(pick(p)))))
    ctx.strokeStyle = colour
    ctx.lineWidth = 1.5
    ctx.stroke()
  }
  line((p) => p.train, `rgb(${BLUE.join(',')})`)
  line((p) => p.test, '#222222')
  ctx.fillStyle = '#666'
  ctx.font = '10px sans-serif'
  ctx.textAlign = 'right'
  ctx.fillText(`max ${maxLoss.toFixed(2)}`, width - pad, 12)
}

/** Where the nodes of the network diagram sit. */
export interface Layout {
  readonly width: number
  readonly height: number
  readonly node: number
  /** `centres[l][u]`: the centre of unit `u` in column `l` (column 0 is the input). */
  readonly centres: readonly (readonly { readonly x: number; readonly y: number }[])[]
}

/**
 * Columns of nodes for widths `[inputs, …hidden, 1]`, centred vertically, the first column
 * `left` pixels in (room for the inputs' names).
 */
export const layout = (widths: readonly number[], width: number, node: number, left = 0): Layout => {
  const gap = 10
  const tallest = Math.max(...widths)
  const height = tallest * (node + gap) + gap
  const columnGap = widths.length > 1 ? (width - left - node - 2 * gap) / (widths.length - 1) : 0
  const centres = widths.map((n, l) => {
    const top = (height - n * (node + gap) + gap) / 2
    return Array.from({ length: n }, (_, u) => ({ x: left + gap + node / 2 + l * columnGap, y: top + u * (node + gap) + node / 2 }))
  })
  return { width, height, node, centres }
}

/** An edge's look for a weight: width by magnitude, colour by sign. */
export const edgeStyle = (w: number): { readonly width: number; readonly colour: string } => {
  const [r, g, b] = w < 0 ? ORANGE : BLUE
  return { width: Math.min(6, 0.5 + 2.5 * Math.abs(w)), colour: `rgba(${r},${g},${b},${Math.min(1, 0.25 + Math.abs(w))})` }
}
