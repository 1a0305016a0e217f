/**
 * The page: reads the configuration from the URL, trains in short chunks that yield to the
 * browser between them (the page never blocks), redraws the views a few times a second, and
 * runs the inspector when a weight, bias or unit is chosen (clicked, or reached with Tab and
 * Enter). A weight or bias can be set by hand there. With the webgpu backend and an adapter,
 * training runs through the compiled interpreter (compiled.ts), whose calls are awaited;
 * everything else (Step, the inspector, the gradient check, the views) stays on the eager
 * interpreter. `window.__playground` exposes a snapshot of the state, a way to train an exact
 * number of steps, and the backend comparison, for the end-to-end tests.
 * The inspector's fields are written by inspector.ts, the files saved and read by files.ts.
 *
 * @module
 */
import * as E from 'fp-ts/lib/Either.js'
import { Backends } from 'lamina-nn'
import * as B from './backend.js'
import * as C from './compiled.js'
import * as Cmp from './compare.js'
import { fromQuery, toQuery } from './config.js'
import type { Config } from './config.js'
import * as Dg from './diagram.js'
import { featureLabels } from './features.js'
import * as Fl from './files.js'
import * as F from './form.js'
import * as I from './inspect.js'
import * as Ip from './inspector.js'
import * as M from './model.js'
import * as Sc from './scene.js'
import * as St from './status.js'
import * as H from './hooks.js'
import * as T from './trainer.js'
import * as V from './views.js'

/** Training runs for about this long before yielding to the page. */
const CHUNK_MS = 30
/** The views are redrawn at most this often while training. */
const VIEW_MS = 120
/** The inspector follows training at most this often. */
const INSPECT_MS = 600
const HISTORY_LIMIT = 600

interface State {
  config: Config
  session: T.Session
  chosen: B.Chosen | undefined
  /** The compiled step that trains on WebGPU, when there is one for this network. */
  compiled: C.CompiledTrainer | undefined
  /** Why training is not compiled on WebGPU although it was asked for (a compile or run failure). */
  compiledFailure: string | undefined
  compiling: boolean
  /** Bumped by every compile request, so a stale compile is dropped. */
  compileGeneration: number
  /** The compiled call in flight, so a step is disposed only after it. */
  inFlight: Promise<unknown>
  running: boolean
  history: V.LossPoint[]
  evaluation: T.Evaluation | undefined
  selected: I.Target | undefined
  inspection: I.Inspection | undefined
  diagram: Dg.Diagram
  /** (time, step) samples of the last seconds, for steps/s. */
  rate: { t: number; step: number }[]
  stepsPerSecond: number
  lastView: number
  lastInspect: number
  /** Bumped whenever training starts, so a loop from an earlier start stops. */
  generation: number
  comparing: boolean
}

const $ = F.byId

const fmt = (v: number, digits = 4): string => (Number.isFinite(v) ? v.toFixed(digits) : String(v))

const inputNames = (config: Config): string[] => config.features.map((f) => featureLabels[f])

const decoded = fromQuery(location.search)
if (decoded.error !== undefined) {
  const banner = $('url-error')
  banner.hidden = false
  banner.textContent = `${decoded.error.message}\nThose settings were replaced by their defaults.`
}

const initialSession = T.create(decoded.config)
const state: State = {
  config: decoded.config,
  session: initialSession,
  chosen: undefined,
  compiled: undefined,
  compiledFailure: undefined,
  compiling: false,
  compileGeneration: 0,
  inFlight: Promise.resolve(),
  running: false,
  history: [],
  evaluation: undefined,
  selected: undefined,
  inspection: undefined,
  diagram: Dg.build($('net'), initialSession.network.widths, inputNames(decoded.config), (t, via) => select(t, via)),
  rate: [],
  stepsPerSecond: NaN,
  lastView: 0,
  lastInspect: 0,
  generation: 0,
  comparing: false
}

const setMessage = (text: string, bad = false): void => {
  const el = $('file-message')
  el.textContent = text
  el.classList.toggle('bad', bad)
}

const setButtons = (): void => {
  const ready = state.chosen !== undefined
  document.body.dataset['ready'] = String(ready && !state.compiling)
  const train = $<HTMLButtonElement>('train')
  train.disabled = !ready
  train.textContent = state.running ? 'Pause' : 'Train'
  train.setAttribute('aria-pressed', String(state.running))
  $<HTMLButtonElement>('step').disabled = !ready || state.running
  $<HTMLButtonElement>('reset').disabled = !ready
  $<HTMLButtonElement>('save').disabled = !ready
  $<HTMLButtonElement>('compare').disabled = !ready || state.comparing
}

// ---------------------------------------------------------------- views

const drawInputs = (): void => Sc.drawInputs(state.diagram, state.config)

const refresh = (): void => {
  const s = state.session
  const evaluation = T.evaluate(s)
  state.evaluation = evaluation
  const last = state.history[state.history.length - 1]
  if (last === undefined || last.step !== s.step) {
    state.history.push({ step: s.step, train: evaluation.trainLoss, test: evaluation.testLoss })
    // keep the curve light: drop every other old point when it grows long
    if (state.history.length > HISTORY_LIMIT) state.history = state.history.filter((_, i) => i % 2 === 0 || i === state.history.length - 1)
  }
  const regression = s.terms.problem === 'regression'
  $('step-count').textContent = String(s.step)
  $('train-loss').textContent = fmt(evaluation.trainLoss)
  $('test-loss').textContent = fmt(evaluation.testLoss)
  $('test-accuracy').textContent = regression ? '' : `${(100 * evaluation.testAccuracy).toFixed(1)}%`
  $('test-accuracy').hidden = regression
  $('test-accuracy-label').hidden = regression
  $('output-kind').textContent = regression
    ? '(the prediction z, its target’s colours; loss: mean squared error)'
    : '(the logit z of blue: blue where z > 0; loss: cross-entropy)'
  $('steps-per-second').textContent = Number.isFinite(state.stepsPerSecond) ? state.stepsPerSecond.toFixed(1) : '–'
  V.drawLosses($<HTMLCanvasElement>('losses'), state.history)

  Sc.drawNetwork(state.diagram, s)
  Sc.drawOutput($<HTMLCanvasElement>('heatmap'), s, state.config.discretize)
  state.lastView = performance.now()
}

const drawData = (): void => {
  const layer = $<HTMLCanvasElement>('points-layer')
  layer.getContext('2d')?.clearRect(0, 0, layer.width, layer.height)
  V.drawPoints(layer, state.session.data.train, state.session.data.test, state.session.terms.problem)
}

// ---------------------------------------------------------------- inspector

const inspect = (): void => {
  const target = state.selected
  if (target === undefined) return
  const s = state.session
  const batch = T.currentBatch(s, 'f64')
  const inspection = I.inspect(s.network, T.params64(s), batch, s.terms, target, { inputs: inputNames(s.config) })
  state.inspection = inspection
  state.lastInspect = performance.now()
  Ip.show(inspection, target, s, state.chosen)
  Dg.markSelected(state.diagram, target)
}

const select = (target: I.Target, via: Dg.Via = 'pointer'): void => {
  state.selected = target
  inspect()
  if (via === 'keyboard') Ip.focus(target)
}

const setParameter = (): void => {
  const target = state.selected
  if (target === undefined || !I.isParameter(target)) return
  const value = Ip.typedValue(target)
  if (value === undefined) return
  // the optimizer's state is kept: training goes on from the edited weight
  state.session = { ...state.session, params: I.withParameter(state.session.params, target, value) }
  Ip.showEdited(target, value)
  refresh()
  inspect()
}

const checkGradient = (): void => {
  const target = state.selected
  const inspection = state.inspection
  if (target === undefined || !I.isParameter(target) || inspection === undefined) return
  const s = state.session
  Ip.showGradientCheck(I.checkGradient(s.network, T.params64(s), T.currentBatch(s, 'f64'), s.terms, target, inspection.adjoint.data[0]!))
}

// ---------------------------------------------------------------- training

const recordRate = (): void => {
  const now = performance.now()
  state.rate.push({ t: now, step: state.session.step })
  while (state.rate.length > 2 && now - state.rate[0]!.t > 2000) state.rate.shift()
  const first = state.rate[0]!
  if (now - first.t > 250) state.stepsPerSecond = ((state.session.step - first.step) * 1000) / (now - first.t)
}

const yieldToPage = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0))

const fail = (e: unknown): void => {
  state.running = false
  setButtons()
  setMessage(`training stopped: ${e instanceof Error ? e.message : String(e)}`, true)
}

/** Stops training compiled, says why, and lets the eager interpreter take over at the same step. */
const dropCompiled = (why: string): void => {
  const compiled = state.compiled
  state.compiled = undefined
  state.compiledFailure = why
  if (compiled !== undefined) void state.inFlight.then(() => compiled.dispose())
  if (state.chosen !== undefined) showBackend(state.chosen)
}

/**
 * One compiled call: the session `stepsPerCall` steps later, or false when the session was
 * replaced meanwhile (a reset, another configuration, a Step, an edited weight) and the result
 * no longer applies.
 */
const compiledCall = async (compiled: C.CompiledTrainer): Promise<boolean> => {
  const before = state.session
  const call = compiled.run(before)
  state.inFlight = call
  const result = await call
  if (state.session !== before) return false
  if (E.isLeft(result)) {
    dropCompiled(`the compiled step failed (${result.left})`)
    return false
  }
  state.session = result.right
  return true
}

const trainLoop = async (): Promise<void> => {
  const generation = ++state.generation
  state.rate = [{ t: performance.now(), step: state.session.step }]
  while (state.running && state.chosen !== undefined && generation === state.generation) {
    const chosen = state.chosen
    const compiled = state.compiled
    const started = performance.now()
    try {
      if (compiled !== undefined) {
        // the calls run on the GPU while the page goes on: awaiting them yields to it
        let applied: boolean
        do applied = await compiledCall(compiled)
        while (applied && state.running && generation === state.generation && performance.now() - started < CHUNK_MS)
        if (generation !== state.generation) return
        if (!state.running) {
          // paused while the last call ran: show where it ended
          refresh()
          inspect()
          return
        }
      } else {
        Backends.withBackend(chosen.backend, () => {
          do state.session = T.step(state.session)
          while (performance.now() - started < CHUNK_MS)
        })
      }
    } catch (e) {
      fail(e)
      return
    }
    recordRate()
    if (performance.now() - state.lastView > VIEW_MS) refresh()
    if (state.selected !== undefined && performance.now() - state.lastInspect > INSPECT_MS) inspect()
    await yieldToPage()
  }
}

const toggleTraining = (): void => {
  state.running = !state.running
  setButtons()
  if (state.running) void trainLoop()
  else {
    refresh()
    inspect()
  }
}

const stepOnce = (): void => {
  if (state.running || state.chosen === undefined) return
  try {
    state.session = Backends.withBackend(state.chosen.backend, () => T.step(state.session))
  } catch (e) {
    fail(e)
  }
  refresh()
  inspect()
}

// ---------------------------------------------------------------- backends

/** What the badge and the notes need to know. */
const situation = (chosen: B.Chosen): St.Situation => ({
  chosen,
  config: state.config,
  compiled: state.compiled,
  compiling: state.compiling,
  compiledFailure: state.compiledFailure
})
const training = (chosen: B.Chosen) => St.training(situation(chosen))
const notesOf = (chosen: B.Chosen): string[] => St.notes(situation(chosen))

const showBackend = (chosen: B.Chosen): void => {
  const badge = $('backend')
  const now = training(chosen)
  badge.textContent = `training on ${now.summary}`
  badge.classList.toggle('cpu', now.mode === 'cpu' || now.mode === 'cpu32')
  badge.dataset['mode'] = now.mode
  $('backend-notes').textContent = notesOf(chosen).join(' ')
}

/** Compiles the step of the current session for WebGPU when the browser and the configuration ask for it (a cached step is kept). */
const prepareCompiled = async (): Promise<void> => {
  const chosen = state.chosen
  if (chosen === undefined) return
  const generation = ++state.compileGeneration
  const release = (): void => {
    const old = state.compiled
    state.compiled = undefined
    if (old !== undefined) void state.inFlight.then(() => old.dispose())
  }
  state.compiledFailure = undefined
  if (chosen.adapter === undefined || state.config.backend !== 'webgpu') {
    release()
    state.compiling = false
  } else if (state.compiled?.key !== C.keyOf(state.session)) {
    release()
    state.compiling = true
    showBackend(chosen)
    setButtons()
    const result = await C.compileFor(state.session, chosen.adapter.name)
    if (generation !== state.compileGeneration) {
      // a newer configuration asked for its own step meanwhile
      if (E.isRight(result)) void result.right.dispose()
      return
    }
    state.compiling = false
    if (E.isRight(result)) state.compiled = result.right
    else state.compiledFailure = `the compiled step is unavailable for this network (${result.left})`
  }
  showBackend(chosen)
  setButtons()
}

const chooseBackend = async (): Promise<void> => {
  state.chosen?.dispose()
  state.chosen = undefined
  setButtons()
  $('backend').textContent = 'choosing a backend…'
  const chosen = await B.choose(state.config.backend)
  state.chosen = chosen
  showBackend(chosen)
  setButtons()
}

/** Pauses training and measures steps/s of every backend on this network, each for about `budget` ms. */
const compareBackends = async (budget = 800): Promise<Cmp.Measured[]> => {
  if (state.comparing || state.chosen === undefined) throw new Error('compare: the page is not ready, or already comparing')
  if (state.running) toggleTraining()
  state.comparing = true
  setButtons()
  const out = $('compare-results')
  out.dataset['done'] = 'false'
  const widths = state.session.network.widths.join('-')
  const caption = `Steps/s on this network (${widths} ${state.config.activation}, batch ${state.config.batch}, ${St.optimizerNames[state.config.optimizer]})`
  const shown: Cmp.Measured[] = []
  try {
    const compared = await Cmp.measure(state.config, state.chosen.adapter, budget, (m) => {
      shown.push(m)
      out.replaceChildren(Cmp.table(shown, `${caption}: measuring…`))
    })
    out.replaceChildren(Cmp.table(compared, caption))
    return compared
  } finally {
    state.comparing = false
    out.dataset['done'] = 'true'
    setButtons()
  }
}

// ---------------------------------------------------------------- configuration

/** Rebuilds the diagram (a new network, or a new width), keeping the selection when it still exists. */
const rebuildDiagram = (): void => {
  state.diagram = Dg.build($('net'), state.session.network.widths, inputNames(state.config), (t, via) => select(t, via))
  drawInputs()
}

/** Starts over with a configuration (and, from an uploaded file, its parameters and step). */
const apply = async (config: Config, restored?: { params: M.Params; step: number }): Promise<void> => {
  const backendChanged = config.backend !== state.config.backend
  state.running = false
  state.config = config
  history.replaceState(null, '', `?${toQuery(config)}`)
  F.write(config)
  const fresh = T.create(config, restored?.params)
  state.session = restored === undefined ? fresh : { ...fresh, step: restored.step }
  state.history = []
  state.selected = undefined
  state.inspection = undefined
  state.stepsPerSecond = NaN
  $('inspector').hidden = true
  rebuildDiagram()
  drawData()
  refresh()
  setButtons()
  if (backendChanged || state.chosen === undefined) await chooseBackend()
  await prepareCompiled()
}

const onFormChange = (): void => {
  const read = F.read(state.config)
  if (E.isLeft(read)) {
    setMessage(read.left.message, true)
    F.write(state.config)
    return
  }
  setMessage('')
  // discretizing changes the picture, not the training: no restart
  if (JSON.stringify({ ...read.right, discretize: state.config.discretize }) === JSON.stringify(state.config)) {
    state.config = read.right
    state.session = { ...state.session, config: read.right }
    history.replaceState(null, '', `?${toQuery(read.right)}`)
    refresh()
    return
  }
  void apply(read.right)
}

// ---------------------------------------------------------------- files

const download = (): void => setMessage(Fl.download(state.session))

const upload = async (file: File): Promise<void> => {
  const loaded = await Fl.read(file)
  if (E.isLeft(loaded)) {
    setMessage(loaded.left, true)
    return
  }
  await apply(loaded.right.config, { params: loaded.right.params, step: loaded.right.step })
  setMessage(`loaded ${file.name}: step ${loaded.right.step}`)
}

// ---------------------------------------------------------------- start

declare global {
  interface Window {
    /** The end-to-end tests' view of the page. */
    __playground?: { snapshot(): unknown; train(steps: number): Promise<unknown>; compare(budget?: number): Promise<unknown> }
  }
}

const snapshot = (): unknown =>
  H.snapshot({
    chosen: state.chosen,
    config: state.config,
    compiled: state.compiled,
    compiling: state.compiling,
    compiledFailure: state.compiledFailure,
    session: state.session,
    running: state.running,
    stepsPerSecond: state.stepsPerSecond,
    evaluation: state.evaluation,
    inspection: state.inspection
  })

/**
 * Exactly `steps` more steps while paused, the way Train takes them (compiled calls while a
 * whole call fits, eager steps for the rest), then a snapshot that says how many ran where.
 */
const trainExactly = async (steps: number): Promise<unknown> => {
  if (state.running || state.chosen === undefined || state.compiling) throw new Error('train: pause and wait until the page is ready')
  const target = state.session.step + steps
  let compiledSteps = 0
  while (state.compiled !== undefined && target - state.session.step >= state.compiled.stepsPerCall) {
    const per = state.compiled.stepsPerCall
    if (!(await compiledCall(state.compiled))) throw new Error(`train: the compiled call failed: ${state.compiledFailure ?? 'the session changed'}`)
    compiledSteps += per
  }
  const eagerSteps = target - state.session.step
  const chosen = state.chosen
  Backends.withBackend(chosen.backend, () => {
    while (state.session.step < target) state.session = T.step(state.session)
  })
  refresh()
  return { ...(snapshot() as object), compiledSteps, eagerSteps }
}

window.__playground = { snapshot, train: trainExactly, compare: compareBackends }

F.write(state.config)
F.onChange(onFormChange)
$('train').addEventListener('click', toggleTraining)
$('step').addEventListener('click', stepOnce)
$('reset').addEventListener('click', () => void apply(state.config))
$('check-gradient').addEventListener('click', checkGradient)
$('apply-value').addEventListener('click', setParameter)
$('param-value').addEventListener('change', setParameter)
$('compare').addEventListener('click', () => void compareBackends(800).catch((e: unknown) => setMessage(String(e), true)))
$('inspector').addEventListener('keydown', (event) => {
  // Escape: back to the weight, bias or unit the inspector shows
  if (event.key !== 'Escape' || state.selected === undefined) return
  const element = Dg.elementOf(state.diagram, state.selected) as HTMLElement | SVGElement | undefined
  element?.focus()
})
$('save').addEventListener('click', download)
$<HTMLInputElement>('upload').addEventListener('change', (event) => {
  const file = (event.target as HTMLInputElement).files?.[0]
  if (file !== undefined) void upload(file)
})
// a new width (a rotated phone, a resized window) re-lays the diagram out
let laidOutWidth = $('net').clientWidth
new ResizeObserver(() => {
  const width = $('net').clientWidth
  if (width === laidOutWidth) return
  laidOutWidth = width
  const selected = state.selected
  rebuildDiagram()
  refresh()
  if (selected !== undefined) Dg.markSelected(state.diagram, selected)
}).observe($('net'))
void apply(state.config)
