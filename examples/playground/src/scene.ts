/**
 * The pictures of a session: each input feature, each hidden unit and the output over the
 * plane in the diagram, the weights and biases as its edges and squares, and the output as the
 * large heat map (the decision boundary, or the prediction for regression). Computed on lamina's
 * cpu backend in float64 whatever backend trains: the views are not the training.
 *
 * @module
 */
import { Backends, cpu } from 'lamina-nn'
import type { Tensor } from 'lamina-nn'
import type { Config } from './config.js'
import * as D from './datasets.js'
import * as Dg from './diagram.js'
import * as M from './model.js'
import * as T from './trainer.js'
import * as V from './views.js'

/** The output is drawn at this grid resolution (the unit images at a coarser one). */
export const HEAT_GRID = 60

const unitPoints = D.grid(Dg.UNIT_GRID)
const heatPoints = D.grid(HEAT_GRID)

/** Feature matrices of the view grids, for the last features asked for. */
let grids: { key: string; unit: Tensor; heat: Tensor } | undefined
const gridInputs = (config: Pick<Config, 'features'>): { unit: Tensor; heat: Tensor } => {
  const key = config.features.join()
  if (grids?.key !== key) grids = { key, unit: D.inputs({ x: unitPoints }, config.features), heat: D.inputs({ x: heatPoints }, config.features) }
  return grids
}

/** Each input feature over the plane, in the diagram's first column. */
export const drawInputs = (diagram: Dg.Diagram, config: Pick<Config, 'features'>): void => {
  const x = gridInputs(config).unit
  const f = config.features.length
  const n = Dg.UNIT_GRID * Dg.UNIT_GRID
  for (let k = 0; k < f; k++) {
    const values = Float64Array.from({ length: n }, (_, i) => x.data[i * f + k]!)
    V.drawImage(diagram.canvases[0]![k]!, values, Dg.UNIT_GRID, V.normalise(values, 'input'))
  }
}

/** Every unit's output over the plane, and the weights and biases, in the diagram. */
export const drawNetwork = (diagram: Dg.Diagram, s: T.Session): void => {
  const params = T.params64(s)
  const outputs = Backends.withBackend(cpu, () => M.forwardAll(s.network, params, gridInputs(s.config).unit))
  const widths = s.network.widths
  for (let l = 1; l < widths.length; l++) {
    const out = outputs[2 * (l - 1) + (l < widths.length - 1 ? 1 : 0)]!
    const units = widths[l]!
    const data = out.data
    for (let u = 0; u < units; u++) {
      const values = Float64Array.from({ length: Dg.UNIT_GRID * Dg.UNIT_GRID }, (_, k) => data[k * units + u]!)
      const colour = l < widths.length - 1 ? V.normalise(values, s.config.activation) : V.outputColour(s.terms.problem, false)
      V.drawImage(diagram.canvases[l]![u]!, values, Dg.UNIT_GRID, colour)
    }
  }
  Dg.updateEdges(diagram, Array.from({ length: M.denseCount(s.network) }, (_, k) => M.dense(params, k).w.data))
  Dg.updateBiases(diagram, Array.from({ length: M.denseCount(s.network) }, (_, k) => M.dense(params, k).b.data))
}

/**
 * The output over the plane on `canvas`, its sign only when discretized. The canvas carries
 * `data-grid` and `data-domain`: where its cells lie, for tests that read its pixels.
 */
export const drawOutput = (canvas: HTMLCanvasElement, s: T.Session, discretize: boolean): void => {
  const z = Backends.withBackend(cpu, () => M.logits(s.network, T.params64(s), gridInputs(s.config).heat)).data
  canvas.dataset['grid'] = String(HEAT_GRID)
  canvas.dataset['domain'] = `${D.domain.min},${D.domain.max}`
  V.drawImage(canvas, z, HEAT_GRID, V.outputColour(s.terms.problem, discretize), !discretize)
}
