/**
 * The network diagram: one small image per unit (its output over the plane), one SVG edge per
 * weight (width by size, colour by sign), and each bias as a small square at the lower left of
 * its unit (colour by sign), as in the TensorFlow playground. Every edge, unit and bias is
 * clickable; each carries `data-weight="layer,from,to"`, `data-bias="layer,unit"`,
 * `data-input="unit"`, `data-unit="layer,unit"` (hidden units) or `data-output="0"` so tests
 * can find them.
 *
 * @module
 */
import { label } from './inspect.js'
import type { Target } from './inspect.js'
import * as V from './views.js'

const SVG = 'http://www.w3.org/2000/svg'
const NODE = 40
const BIAS = 11
/** Unit images are drawn at this grid resolution. */
export const UNIT_GRID = 24

/** The live parts of a built diagram. */
export interface Diagram {
  /** `canvases[l][u]`: the image of unit `u` in column `l` (column 0 holds the inputs x₁, x₂). */
  readonly canvases: readonly (readonly HTMLCanvasElement[])[]
  /** `edges[k][i][j]`: the visible path of weight `W^(k+1)[i→j]`. */
  readonly edges: readonly (readonly (readonly SVGPathElement[])[])[]
  readonly nodes: readonly (readonly HTMLDivElement[])[]
  /** `biases[k][u]`: the square of bias `b^(k+1)_u` (dense layer k feeds column k + 1). */
  readonly biases: readonly (readonly HTMLDivElement[])[]
}

const curve = (a: { x: number; y: number }, b: { x: number; y: number }, half: number): string => {
  const x0 = a.x + half
  const x1 = b.x - half
  const mid = (x0 + x1) / 2
  return `M${x0},${a.y} C${mid},${a.y} ${mid},${b.y} ${x1},${b.y}`
}

/** Builds the diagram for widths `[2, …hidden, 1]` inside `host`, calling `select` on a click. */
export const build = (host: HTMLElement, widths: readonly number[], select: (t: Target) => void): Diagram => {
  const width = Math.max(260, host.clientWidth || 480)
  const lay = V.layout(widths, width, NODE)
  host.replaceChildren()
  host.style.height = `${lay.height}px`
  const svg = document.createElementNS(SVG, 'svg')
  svg.setAttribute('width', String(lay.width))
  svg.setAttribute('height', String(lay.height))
  host.append(svg)
  const edges = widths.slice(1).map((out, k) =>
    Array.from({ length: widths[k]! }, (_, i) =>
      Array.from({ length: out }, (_, j) => {
        const d = curve(lay.centres[k]![i]!, lay.centres[k + 1]![j]!, NODE / 2)
        const hit = document.createElementNS(SVG, 'path')
        hit.setAttribute('d', d)
        hit.setAttribute('class', 'hit')
        hit.dataset['weight'] = `${k},${i},${j}`
        hit.addEventListener('click', () => select({ kind: 'weight', layer: k, from: i, to: j }))
        const title = document.createElementNS(SVG, 'title')
        hit.append(title)
        const edge = document.createElementNS(SVG, 'path')
        edge.setAttribute('d', d)
        edge.setAttribute('class', 'edge')
        svg.append(hit, edge)
        return edge
      })
    )
  )
  const nodes: HTMLDivElement[][] = []
  const biases: HTMLDivElement[][] = []
  const canvases = widths.map((n, l) => {
    const column: HTMLCanvasElement[] = []
    const columnNodes: HTMLDivElement[] = []
    for (let u = 0; u < n; u++) {
      const c = lay.centres[l]![u]!
      const node = document.createElement('div')
      node.className = 'node'
      node.style.left = `${c.x - NODE / 2}px`
      node.style.top = `${c.y - NODE / 2}px`
      node.style.width = `${NODE}px`
      node.style.height = `${NODE}px`
      const canvas = document.createElement('canvas')
      canvas.width = NODE
      canvas.height = NODE
      node.append(canvas)
      const target: Target = l === 0 ? { kind: 'input', unit: u } : l < widths.length - 1 ? { kind: 'unit', layer: l - 1, unit: u } : { kind: 'output' }
      node.classList.add('clickable')
      node.dataset['label'] = label(target)
      if (target.kind === 'input') {
        const name = document.createElement('span')
        name.className = 'name'
        name.textContent = label(target)
        node.append(name)
        node.dataset['input'] = String(u)
        node.title = `input ${label(target)}: click for its adjoint, one per example`
      } else if (target.kind === 'unit') {
        node.dataset['unit'] = `${l - 1},${u}`
        node.title = `hidden unit ${u} of layer ${l}: click for its adjoint`
      } else {
        node.dataset['output'] = String(u)
        node.title = 'output: the logit z of blue; click for its adjoint ∂L/∂z'
      }
      node.addEventListener('click', () => select(target))
      host.append(node)
      column.push(canvas)
      columnNodes.push(node)
    }
    nodes.push(columnNodes)
    return column
  })
  // the biases go in after the units, so they lie on top of the corner they share
  widths.slice(1).forEach((n, k) => {
    const column: HTMLDivElement[] = []
    for (let u = 0; u < n; u++) {
      const c = lay.centres[k + 1]![u]!
      const target: Target = { kind: 'bias', layer: k, unit: u }
      const square = document.createElement('div')
      square.className = 'bias'
      square.style.left = `${c.x - NODE / 2 - BIAS / 2}px`
      square.style.top = `${c.y + NODE / 2 - BIAS + 2}px`
      square.style.width = `${BIAS}px`
      square.style.height = `${BIAS}px`
      square.dataset['bias'] = `${k},${u}`
      square.dataset['label'] = label(target)
      square.title = `bias ${label(target)}: click for ∂L/∂b`
      square.addEventListener('click', () => select(target))
      host.append(square)
      column.push(square)
    }
    biases.push(column)
  })
  return { canvases, edges, nodes, biases }
}

/** Restyles the edges for the current weights (`weights[k]` is `W^(k+1)`, row-major `[in, out]`). */
export const updateEdges = (diagram: Diagram, weights: readonly ArrayLike<number>[]): void => {
  diagram.edges.forEach((layer, k) => {
    const w = weights[k]!
    const out = layer[0]?.length ?? 0
    layer.forEach((row, i) =>
      row.forEach((edge, j) => {
        const v = w[i * out + j]!
        const style = V.edgeStyle(v)
        edge.setAttribute('stroke', style.colour)
        edge.setAttribute('stroke-width', String(style.width))
        const title = (edge.previousSibling as SVGPathElement).firstChild as SVGTitleElement
        title.textContent = `W${k + 1}[${i}→${j}] = ${v.toFixed(4)} (click for ∂L/∂w)`
      })
    )
  })
}

/** Recolours the bias squares for the current biases (`biases[k]` is `b^(k+1)`). */
export const updateBiases = (diagram: Diagram, biases: readonly ArrayLike<number>[]): void => {
  diagram.biases.forEach((layer, k) =>
    layer.forEach((square, u) => {
      const v = biases[k]![u]!
      square.style.background = V.edgeStyle(v).colour
      square.title = `${label({ kind: 'bias', layer: k, unit: u })} = ${v.toFixed(4)} (click for ∂L/∂b)`
    })
  )
}

/** Marks the selected edge, unit or bias. */
export const markSelected = (diagram: Diagram, target: Target | undefined): void => {
  diagram.edges.forEach((layer, k) =>
    layer.forEach((row, i) =>
      row.forEach((edge, j) => edge.classList.toggle('selected', target?.kind === 'weight' && target.layer === k && target.from === i && target.to === j))
    )
  )
  // labels name targets one to one
  const selected = target === undefined ? undefined : label(target)
  for (const element of [...diagram.nodes.flat(), ...diagram.biases.flat()]) element.classList.toggle('selected', element.dataset['label'] === selected)
}
