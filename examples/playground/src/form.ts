/**
 * The settings form: writes a configuration into the controls and reads one back. Reading
 * goes through the same codec as the URL, so a value typed out of range is reported, not used.
 *
 * @module
 */
import * as E from 'fp-ts/lib/Either.js'
import { Codec } from 'lamina-nn'
import type { DecodeError } from 'lamina-nn'
import { ConfigCodec, datasetsOf, featureNames, limits, problemOf } from './config.js'
import type { Config, DatasetName, FeatureName, Problem } from './config.js'
import { featureLabels } from './features.js'

export const learningRates = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10] as const
export const regularizationRates = [0, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1] as const

const datasetTitles: Readonly<Record<DatasetName, string>> = {
  xor: 'XOR',
  circles: 'Two circles',
  spirals: 'Two spirals',
  blobs: 'Gaussian blobs',
  plane: 'Plane',
  gaussians: 'Multi-Gaussian'
}

const byId = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id)
  if (el === null) throw new Error(`the page has no #${id}`)
  return el as T
}

const input = (id: string) => byId<HTMLInputElement>(id)
const select = (id: string) => byId<HTMLSelectElement>(id)

/** A select's options are a fixed list; a value from a URL that is not in it is added. */
const setSelectNumber = (el: HTMLSelectElement, choices: readonly number[], value: number): void => {
  const all = [...new Set([...choices, value])].sort((a, b) => a - b)
  if (el.options.length !== all.length || Array.from(el.options).some((o, i) => Number(o.value) !== all[i])) {
    el.replaceChildren(...all.map((v) => new Option(String(v), String(v))))
  }
  el.value = String(value)
}

/** The Dataset menu lists the datasets of one problem type. */
const setDatasets = (problem: Problem, value: DatasetName): void => {
  const el = select('dataset')
  const names = datasetsOf(problem)
  if (el.options.length !== names.length || Array.from(el.options).some((o, i) => o.value !== names[i])) {
    el.replaceChildren(...names.map((name) => new Option(datasetTitles[name], name)))
  }
  el.value = value
}

/** The per-layer width inputs: one per hidden layer, each labelled for screen readers. */
const setUnits = (hidden: readonly number[]): void => {
  const box = byId<HTMLDivElement>('units')
  const inputs = Array.from(box.querySelectorAll('input'))
  while (inputs.length > hidden.length) inputs.pop()!.remove()
  while (inputs.length < hidden.length) {
    const el = document.createElement('input')
    el.type = 'number'
    el.min = String(limits.units[0])
    el.max = String(limits.units[1])
    el.step = '1'
    el.dataset['layer'] = String(inputs.length)
    el.title = `units in hidden layer ${inputs.length + 1}`
    el.setAttribute('aria-label', `units in hidden layer ${inputs.length + 1}`)
    box.append(el)
    inputs.push(el)
  }
  hidden.forEach((h, i) => (inputs[i]!.value = String(h)))
}

/** The feature check boxes, built once: `#feature-x1`, … */
const featureBoxes = (): HTMLInputElement[] => {
  const box = byId<HTMLDivElement>('features')
  if (box.childElementCount === 0) {
    for (const name of featureNames) {
      const label = document.createElement('label')
      label.className = 'check'
      const el = document.createElement('input')
      el.type = 'checkbox'
      el.id = `feature-${name}`
      el.value = name
      label.append(el, ` ${featureLabels[name]}`)
      box.append(label)
    }
  }
  return featureNames.map((name) => input(`feature-${name}`))
}

/** Shows a configuration in the controls. */
export const write = (c: Config): void => {
  const problem = problemOf(c.dataset)
  select('problem').value = problem
  setDatasets(problem, c.dataset)
  input('seed').value = String(c.seed)
  input('points').value = String(c.points)
  input('noise').value = String(c.noise)
  byId<HTMLOutputElement>('noise-value').value = c.noise.toFixed(2)
  input('split').value = String(c.split)
  byId<HTMLOutputElement>('split-value').value = `${Math.round(c.split * 100)}%`
  for (const box of featureBoxes()) box.checked = c.features.includes(box.value as FeatureName)
  input('layers').value = String(c.hidden.length)
  setUnits(c.hidden)
  select('activation').value = c.activation
  setSelectNumber(select('lr'), learningRates, c.lr)
  input('batch').value = String(c.batch)
  select('optimizer').value = c.optimizer
  select('regularization').value = c.regularization
  setSelectNumber(select('rate'), regularizationRates, c.rate)
  input('discretize').checked = c.discretize
  select('backend-choice').value = c.backend
}

const number = (id: string): number => Number(input(id).value)

/**
 * The configuration the controls show. The hidden-layer count adds layers (with the width of
 * the last one, or 4) or drops them from the end; features keep their order, newly ticked ones
 * join at the end.
 */
export const read = (previous: Config): E.Either<DecodeError, Config> => {
  const widths = Array.from(byId<HTMLDivElement>('units').querySelectorAll('input')).map((el) => Number(el.value))
  const layers = number('layers')
  const hidden = Number.isInteger(layers) && layers >= 0 && layers <= limits.layers[1]
    ? Array.from({ length: layers }, (_, i) => widths[i] ?? widths[widths.length - 1] ?? 4)
    : previous.hidden
  const ticked = featureBoxes().filter((b) => b.checked).map((b) => b.value as FeatureName)
  const features = [...previous.features.filter((f) => ticked.includes(f)), ...ticked.filter((f) => !previous.features.includes(f))]
  const raw = {
    dataset: select('dataset').value,
    seed: number('seed'),
    points: number('points'),
    noise: number('noise'),
    split: number('split'),
    features,
    hidden,
    activation: select('activation').value,
    lr: Number(select('lr').value),
    batch: number('batch'),
    optimizer: select('optimizer').value,
    regularization: select('regularization').value,
    rate: Number(select('rate').value),
    discretize: input('discretize').checked,
    backend: select('backend-choice').value
  }
  return Codec.decodeWith(ConfigCodec, raw, 'settings')
}

/** Calls `changed` whenever a control changes; a new problem type first picks its first dataset. */
export const onChange = (changed: () => void): void => {
  for (const id of ['dataset', 'seed', 'points', 'noise', 'split', 'layers', 'activation', 'lr', 'batch', 'optimizer', 'regularization', 'rate', 'discretize', 'backend-choice']) {
    byId(id).addEventListener('change', changed)
  }
  select('problem').addEventListener('change', () => {
    const problem = select('problem').value as Problem
    setDatasets(problem, datasetsOf(problem)[0]!)
    changed()
  })
  for (const id of ['noise', 'split']) {
    // show the slider's value while dragging; apply it when released
    input(id).addEventListener('input', () => {
      const v = number(id)
      byId<HTMLOutputElement>(`${id}-value`).value = id === 'split' ? `${Math.round(v * 100)}%` : v.toFixed(2)
    })
  }
  byId('features').addEventListener('change', changed)
  byId('units').addEventListener('change', changed)
}

export { byId }
