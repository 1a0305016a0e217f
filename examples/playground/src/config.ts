/**
 * The playground's configuration and its URL form. The query string holds every choice
 * (`?dataset=xor&seed=0&features=x1,x2&hidden=8,8&activation=tanh…`), so a link reproduces the page. Reading
 * a URL goes through an io-ts codec in the project's style: every bad field is named with what
 * was expected (`hidden[1]: expected integer in 1…16, got 40`), and the page falls back to the
 * default for those fields only.
 *
 * @module
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { Codec, DecodeError } from 'lamina-nn'

/** Two-class datasets (label 1 is blue) and regression datasets (a target in [−1, 1] per point). */
export const classificationDatasets = ['xor', 'circles', 'spirals', 'blobs'] as const
export const regressionDatasets = ['plane', 'gaussians'] as const
export const datasetNames = [...classificationDatasets, ...regressionDatasets] as const
export type DatasetName = (typeof datasetNames)[number]

export const problemNames = ['classification', 'regression'] as const
export type Problem = (typeof problemNames)[number]

/** A dataset's problem type: the loss, the output's meaning and the colours follow from it. */
export const problemOf = (dataset: DatasetName): Problem => ((regressionDatasets as readonly string[]).includes(dataset) ? 'regression' : 'classification')

/** The datasets of a problem type, as the Dataset menu lists them. */
export const datasetsOf = (problem: Problem): readonly DatasetName[] => (problem === 'regression' ? regressionDatasets : classificationDatasets)

/**
 * The input features the first layer can see, computed from a point (x₁, x₂) as in
 * playground.tensorflow.org: the coordinates, their squares, their product and their sines.
 */
export const featureNames = ['x1', 'x2', 'x1sq', 'x2sq', 'x1x2', 'sinx1', 'sinx2'] as const
export type FeatureName = (typeof featureNames)[number]

export const regularizationNames = ['none', 'l1', 'l2'] as const
export type Regularization = (typeof regularizationNames)[number]

export const activationNames = ['sigmoid', 'tanh', 'relu', 'leakyRelu', 'gelu'] as const
export type ActivationName = (typeof activationNames)[number]

export const optimizerNames = ['sgd', 'momentum', 'adam'] as const
export type OptimizerName = (typeof optimizerNames)[number]

/**
 * Where training runs: lamina's cpu backend in float32 (`cpu32`, the default: the fastest for
 * these small networks, see backend.ts) or float64 (`cpu`), GPU.js `webasm` or `webgl2`
 * (eager), or GPU.js `webgpu` through the compiled interpreter (eagerly on lamina's cpu
 * backend where it cannot run).
 */
export const backendChoices = ['cpu32', 'cpu', 'webasm', 'webgl2', 'webgpu'] as const
export type BackendChoice = (typeof backendChoices)[number]

/** Everything the page lets one choose; the URL holds exactly these fields. */
export interface Config {
  readonly dataset: DatasetName
  /** Seeds the data, the train/test split, the initial weights and the minibatch order. */
  readonly seed: number
  readonly points: number
  /** Standard deviation of the Gaussian jitter added to every point (regression: to where its target is read). */
  readonly noise: number
  /** Fraction of the points used for training; the rest are the test set. */
  readonly split: number
  /** The features the first layer sees, in column order (at least one, no repeats). */
  readonly features: readonly FeatureName[]
  /** Units per hidden layer (empty: logistic or linear regression). */
  readonly hidden: readonly number[]
  readonly activation: ActivationName
  readonly lr: number
  readonly batch: number
  readonly optimizer: OptimizerName
  /** The penalty on the weights (biases are not penalised): λ · Σ |w| (L1) or λ/2 · Σ w² (L2). */
  readonly regularization: Regularization
  /** λ, the regularization rate. */
  readonly rate: number
  /** Whether the output is drawn as its sign only (a view setting: training is the same). */
  readonly discretize: boolean
  readonly backend: BackendChoice
}

/** The ranges the editor offers and the URL accepts. */
export const limits = {
  seed: [0, 1_000_000],
  points: [20, 2000],
  noise: [0, 0.5],
  split: [0.1, 0.9],
  layers: [0, 6],
  units: [1, 16],
  lr: [1e-5, 10],
  batch: [1, 256],
  rate: [0, 1]
} as const satisfies Record<string, readonly [number, number]>

export const defaults: Config = {
  dataset: 'circles',
  seed: 0,
  points: 400,
  noise: 0.1,
  split: 0.5,
  features: ['x1', 'x2'],
  hidden: [8, 8],
  activation: 'tanh',
  lr: 0.03,
  batch: 16,
  optimizer: 'adam',
  regularization: 'none',
  rate: 0,
  discretize: false,
  backend: 'cpu32'
}

/** The URL keys, in the order {@link toQuery} writes them. */
export const keys = Object.keys(defaults) as readonly (keyof Config)[]

const inRange = (name: string, [lo, hi]: readonly [number, number], integer: boolean): t.Type<number, number, unknown> => {
  const ok = (u: unknown): u is number => typeof u === 'number' && Number.isFinite(u) && u >= lo && u <= hi && (!integer || Number.isInteger(u))
  return new t.Type<number, number, unknown>(
    `${name} in ${lo}…${hi}`,
    ok,
    (u, c) => (ok(u) ? t.success(u) : t.failure(u, c)),
    (a) => a
  )
}

/** The codec of a configuration: a closed record, each number within its range. */
export const ConfigCodec: t.Type<Config, unknown, unknown> = Codec.struct('playground config', {
  dataset: Codec.oneOf(datasetNames),
  seed: inRange('integer', limits.seed, true),
  points: inRange('integer', limits.points, true),
  noise: inRange('number', limits.noise, false),
  split: inRange('number', limits.split, false),
  features: t.refinement(
    Codec.array(Codec.oneOf(featureNames), 'list of features', 1),
    (fs) => new Set(fs).size === fs.length,
    'features without repeats'
  ),
  hidden: t.refinement(
    Codec.array(inRange('integer', limits.units, true), 'list of hidden-layer widths'),
    (hs) => hs.length <= limits.layers[1],
    `at most ${limits.layers[1]} hidden layers`
  ),
  activation: Codec.oneOf(activationNames),
  lr: inRange('number', limits.lr, false),
  batch: inRange('integer', limits.batch, true),
  optimizer: Codec.oneOf(optimizerNames),
  regularization: Codec.oneOf(regularizationNames),
  rate: inRange('number', limits.rate, false),
  discretize: t.boolean,
  backend: Codec.oneOf(backendChoices)
}) as t.Type<Config, unknown, unknown>

const decimal = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/

/** A query-string value as the codec sees it: a number when it reads as one, else the text (so the error quotes it). */
const numberOrText = (text: string): number | string => (decimal.test(text.trim()) ? Number(text) : text)

const numericKeys: ReadonlySet<string> = new Set(['seed', 'points', 'noise', 'split', 'lr', 'batch', 'rate'])

/** `true`/`false` as booleans, anything else as the text (so the error quotes it). */
const booleanOrText = (text: string): boolean | string => (text === 'true' ? true : text === 'false' ? false : text)

/**
 * Links written before L1 existed say `l2=λ`: read as `regularization=l2&rate=λ` (or none for
 * λ = 0) unless the link also names the new keys. Links from before the cpu default say
 * `backend=auto`, which now means the default.
 */
const upgrade = (raw: Record<string, unknown>): void => {
  const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(raw, k)
  if (has('l2') && !has('regularization') && !has('rate')) {
    const l2 = raw['l2']
    delete raw['l2']
    raw['rate'] = l2
    raw['regularization'] = l2 === 0 ? 'none' : 'l2'
  }
  if (raw['backend'] === 'auto') raw['backend'] = defaults.backend
}

/** The raw record a query string describes: numbers parsed, lists split at commas, absent keys absent. */
const rawRecord = (query: string): Record<string, unknown> => {
  const params = new URLSearchParams(query)
  // no prototype: a `__proto__` key stays a key, for the codec to reject by name
  const raw: Record<string, unknown> = Object.create(null) as Record<string, unknown>
  for (const [key, value] of params) {
    if (Object.prototype.hasOwnProperty.call(raw, key)) continue // the first occurrence wins
    if (key === 'hidden') raw[key] = value.trim() === '' ? [] : value.split(',').map(numberOrText)
    else if (key === 'features') raw[key] = value.trim() === '' ? [] : value.split(',')
    else if (key === 'discretize') raw[key] = booleanOrText(value)
    else raw[key] = numericKeys.has(key) || key === 'l2' ? numberOrText(value) : value
  }
  upgrade(raw)
  return raw
}

/** The top-level key a failure is about (`hidden[1]` → `hidden`). */
const topKey = (path: string): string => /^[^.[]*/.exec(path)![0]

/** What {@link fromQuery} found: a usable configuration, and the problems it replaced by defaults. */
export interface Decoded {
  readonly config: Config
  readonly error?: DecodeError
}

/**
 * Reads a configuration from a query string (`location.search`, with or without `?`). Missing
 * keys take their defaults; a bad or unknown key is reported in `error` (one line per problem)
 * and the default is used for it, so a half-broken link still opens a page.
 */
export const fromQuery = (query: string): Decoded => {
  const raw = { ...defaults, ...rawRecord(query) }
  const first = Codec.decodeWith(ConfigCodec, raw, 'URL')
  if (E.isRight(first)) return { config: first.right }
  const error = first.left
  const repaired: Record<string, unknown> = { ...raw }
  for (const failure of error.failures) {
    const key = topKey(failure.path)
    if (Object.prototype.hasOwnProperty.call(defaults, key)) repaired[key] = defaults[key as keyof Config]
    else delete repaired[key]
  }
  const second = Codec.decodeWith(ConfigCodec, repaired, 'URL')
  return { config: E.isRight(second) ? second.right : defaults, error }
}

/** The query string (without `?`) of a configuration, every key in a fixed order. */
export const toQuery = (config: Config): string => {
  const params = new URLSearchParams()
  for (const key of keys) {
    const value = config[key]
    params.set(key, Array.isArray(value) ? value.join(',') : String(value))
  }
  // commas in `hidden` read better unescaped, and URLSearchParams accepts them back
  return params.toString().replace(/%2C/g, ',')
}

/**
 * Decodes a configuration held somewhere other than a URL (a checkpoint's metadata, as JSON
 * text). A file saved before L1 existed (`"l2": λ`, `"backend": "auto"`) is read as a link of
 * that time is; a field it lacks takes its default (`features`: x₁, x₂, as the page then had).
 */
export const fromJson = (text: string, what: string): E.Either<DecodeError, Config> => {
  const parsed = Codec.parseJsonText(text, what)
  if (E.isLeft(parsed)) return parsed
  const value = parsed.right
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return Codec.decodeWith(ConfigCodec, value, what)
  // own keys only, on a record without a prototype, as from a URL
  const raw: Record<string, unknown> = Object.assign(Object.create(null) as Record<string, unknown>, value)
  const old = Object.prototype.hasOwnProperty.call(raw, 'l2') || raw['backend'] === 'auto'
  upgrade(raw)
  return Codec.decodeWith(ConfigCodec, old ? { ...defaults, ...raw } : raw, what)
}
