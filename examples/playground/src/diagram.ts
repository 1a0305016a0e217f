/**
 * The network diagram: one small image per unit (its output over the plane), one SVG edge per
 * weight (width by size, colour by sign), and each bias as a small square at the lower left of
 * its unit (colour by sign), as in the TensorFlow playground. Every edge, unit and bias is a
 * button: it takes the keyboard focus (Tab), has a spoken name (`weight from x₁ to h¹₂
 * (W¹[1→2]) = 0.31`), and Enter or Space selects it like a click. Each carries
 * `data-weight="layer,from,to"`, `data-bias="layer,unit"`, `data-input="unit"`,
 * `data-unit="layer,unit"` (hidden units) or `data-output="0"` (0-based) so tests can find it.
 *
 * @module
 */
import { describeWeight, label } from './inspect.js'
import type { Target } from './inspect.js'
import * as V from './views.js'

const SVG = 'http://www.w3.org/2000/svg'
const NODE = 40
const BIAS = 11
/** Room left of the first column for the inputs' names (`sin x₁`). */
const NAMES = 46
/** Unit images are drawn at this grid resolution. */
export const UNIT_GRID = 24

/** How a target was chosen: a click keeps the focus where it is, a key moves it to the inspector. */
export type Via = 'pointer' | 'keyboard'

/** The live parts of a built diagram. */
export interface Diagram {
  readonly widths: readonly number[]
  /** The inputs' names (`x₁`, `sin x₂`), column 0 of the diagram. */
  readonly inputs: readonly string[]
  /** `canvases[l][u]`: the image of unit `u` in column `l` (column 0 holds the inputs). */
  readonly canvases: readonly (readonly HTMLCanvasElement[])[]
  /** `edges[k][i][j]`: the visible path of weight `W^(k+1)[i→j]`. */
  readonly edges: readonly (readonly (readonly SVGPathElement[])[])[]
  /** `hits[k][i][j]`: the focusable, clickable path over it. */
  readonly hits: readonly (readonly (readonly SVGPathElement[])[])[]
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

/** Makes an element a button: focusable, named, selected by click, Enter or Space. */
const asButton = (el: Element, name: string, choose: (via: Via) => void): void => {
  el.setAttribute('role', 'button')
  el.setAttribute('tabindex', '0')
  el.setAttribute('aria-label', name)
  el.setAttribute('aria-pressed', 'false')
  el.addEventListener('click', () => choose('pointer'))
  el.addEventListener('keydown', (event) => {
    const key = (event as KeyboardEvent).key
    if (key !== 'Enter' && key !== ' ') return
    event.preventDefault()
    choose('keyboard')
  })
}

/** Builds the diagram for `widths` inside `host`, calling `select` when a part is chosen. */
export const build = (host: HTMLElement, widths: readonly number[], inputs: readonly string[], select: (t: Target, via: Via) => void): Diagram => {
  const width = Math.max(240, host.clientWidth || 480)
  const lay = V.layout(widths, width, NODE, NAMES)
  host.replaceChildren()
  host.style.height = `${lay.height}px`
  const svg = document.createElementNS(SVG, 'svg')
  svg.setAttribute('width', String(lay.width))
  svg.setAttribute('height', String(lay.height))
  svg.setAttribute('role', 'group')
  svg.setAttribute('aria-label', 'weights: the edges between units')
  host.append(svg)
  const hits: SVGPathElement[][][] = []
  const edges = widths.slice(1).map((out, k) => {
    const layerHits: SVGPathElement[][] = []
    const layer = Array.from({ length: widths[k]! }, (_, i) => {
      const rowHits: SVGPathElement[] = []
      const row = Array.from({ length: out }, (_, j) => {
        const d = curve(lay.centres[k]![i]!, lay.centres[k + 1]![j]!, NODE / 2)
        const target: Target = { kind: 'weight', layer: k, from: i, to: j }
        const hit = document.createElementNS(SVG, 'path')
        hit.setAttribute('d', d)
        hit.setAttribute('class', 'hit')
        hit.dataset['weight'] = `${k},${i},${j}`
        asButton(hit, describeWeight(widths, target, 0, inputs), (via) => select(target, via))
        const title = document.createElementNS(SVG, 'title')
        hit.append(title)
        const edge = document.createElementNS(SVG, 'path')
        edge.setAttribute('d', d)
        edge.setAttribute('class', 'edge')
        edge.setAttribute('aria-hidden', 'true')
        svg.append(hit, edge)
        rowHits.push(hit)
        return edge
      })
      layerHits.push(rowHits)
      return row
    })
    hits.push(layerHits)
    return layer
  })
  const nodes: HTMLDivElement[][] = []
  const biases: HTMLDivElement[][] = []
  const canvases = widths.map((n, l) => {
    const column: HTMLCanvasElement[] = []
    const columnNodes: HTMLDivElement[] = []
    for (let u = 0; u < n; u++) {
      const c = lay.centres[l]![u]!
      const node = document.createElement('div')
      node.className = 'node clickable'
      node.style.left = `${c.x - NODE / 2}px`
      node.style.top = `${c.y - NODE / 2}px`
      node.style.width = `${NODE}px`
      node.style.height = `${NODE}px`
      const canvas = document.createElement('canvas')
      canvas.width = NODE
      canvas.height = NODE
      canvas.setAttribute('aria-hidden', 'true')
      node.append(canvas)
      const target: Target = l === 0 ? { kind: 'input', unit: u } : l < widths.length - 1 ? { kind: 'unit', layer: l - 1, unit: u } : { kind: 'output' }
      const name = label(target, inputs)
      node.dataset['label'] = name
      let spoken: string
      if (target.kind === 'input') {
        const tag = document.createElement('span')
        tag.className = 'name'
        tag.textContent = name
        tag.setAttribute('aria-hidden', 'true')
        node.append(tag)
        node.dataset['input'] = String(u)
        node.title = `input ${name}: click for its adjoint, one per example`
        spoken = `input ${name}: its adjoint per example`
      } else if (target.kind === 'unit') {
        node.dataset['unit'] = `${l - 1},${u}`
        node.title = `hidden unit ${name} (unit ${u + 1} of layer ${l}): click for its adjoint`
        spoken = `hidden unit ${name}: its adjoint per example`
      } else {
        node.dataset['output'] = String(u)
        node.title = 'output z: click for its adjoint ∂L/∂z'
        spoken = 'output z: its adjoint per example'
      }
      asButton(node, spoken, (via) => select(target, via))
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
      asButton(square, `bias ${label(target)}`, (via) => select(target, via))
      host.append(square)
      column.push(square)
    }
    biases.push(column)
  })
  return { widths, inputs, canvases, edges, hits, nodes, biases }
}

/** Restyles and renames the edges for the current weights (`weights[k]` is `W^(k+1)`, row-major `[in, out]`). */
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
        const hit = diagram.hits[k]![i]![j]!
        const name = describeWeight(diagram.widths, { kind: 'weight', layer: k, from: i, to: j }, v, diagram.inputs)
        hit.setAttribute('aria-label', name)
        ;(hit.firstChild as SVGTitleElement).textContent = `${name} (click for ∂L/∂w)`
      })
    )
  })
}

/** Recolours and renames the bias squares for the current biases (`biases[k]` is `b^(k+1)`). */
export const updateBiases = (diagram: Diagram, biases: readonly ArrayLike<number>[]): void => {
  diagram.biases.forEach((layer, k) =>
    layer.forEach((square, u) => {
      const v = biases[k]![u]!
      const name = `bias ${label({ kind: 'bias', layer: k, unit: u })} = ${Number(v.toPrecision(4))}`
      square.style.background = V.edgeStyle(v).colour
      square.setAttribute('aria-label', name)
      square.title = `${name} (click for ∂L/∂b)`
    })
  )
}

/** The element that stands for a target (to give it the focus back). */
export const elementOf = (diagram: Diagram, target: Target): Element | undefined => {
  switch (target.kind) {
    case 'weight': return diagram.hits[target.layer]?.[target.from]?.[target.to]
    case 'bias': return diagram.biases[target.layer]?.[target.unit]
    case 'input': return diagram.nodes[0]?.[target.unit]
    case 'unit': return diagram.nodes[target.layer + 1]?.[target.unit]
    case 'output': return diagram.nodes[diagram.nodes.length - 1]?.[0]
  }
}

/** Marks the selected edge, unit or bias (also for screen readers: aria-pressed). */
export const markSelected = (diagram: Diagram, target: Target | undefined): void => {
  diagram.edges.forEach((layer, k) =>
    layer.forEach((row, i) =>
      row.forEach((edge, j) => {
        const on = target?.kind === 'weight' && target.layer === k && target.from === i && target.to === j
        edge.classList.toggle('selected', on)
        diagram.hits[k]![i]![j]!.setAttribute('aria-pressed', String(on))
      })
    )
  )
  const selected = target === undefined ? undefined : elementOf(diagram, target)
  for (const element of [...diagram.nodes.flat(), ...diagram.biases.flat()]) {
    element.classList.toggle('selected', element === selected)
    element.setAttribute('aria-pressed', String(element === selected))
  }
}
