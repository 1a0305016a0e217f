/**
 * The page: reads the configuration from the URL, trains in short chunks that yield to the
 * browser between them (the page never blocks), redraws the views a few times a second, and
 * runs the inspector when a weight, bias or unit is clicked. With a WebGPU adapter, training runs
 * through the compiled interpreter (compiled.ts), whose calls are awaited; everything else
 * (Step, the inspector, the gradient check, the views) stays on the eager interpreter.
 * `window.__playground` exposes a snapshot of the state, and a way to train an exact number of
 * steps, for the end-to-end tests.
 *
 * @module
 */
import * as E from 'fp-ts/lib/Either.js'
import { Backends, cpu } from 'lamina-nn'
import type { Tensor } from 'lamina-nn'
import * as B from './backend.js'
import * as Ck from './checkpoint.js'
import * as C from './compiled.js'
import { fromQuery, toQuery } from './config.js'
import type { Config } from './config.js'
import * as D from './datasets.js'
import * as Dg from './diagram.js'
import * as F from './form.js'
import * as I from './inspect.js'
import * as M from './model.js'
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
  /** Why training is not compiled on WebGPU although this browser has an adapter (a compile or run failure). */
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
}

/** The decision boundary is drawn at this grid resolution (the unit images at a coarser one). */
const HEAT_GRID = 50

const $ = F.byId
const gridPoints = D.grid(Dg.UNIT_GRID)
const gridX = D.inputs({ x: gridPoints, labels: new Int32Array(Dg.UNIT_GRID * Dg.UNIT_GRID) })
const heatX = D.inputs({ x: D.grid(HEAT_GRID), labels: new Int32Array(HEAT_GRID * HEAT_GRID) })

const fmt = (v: number, digits = 4): string => (Number.isFinite(v) ? v.toFixed(digits) : String(v))
/** Full-precision-ish numbers with an ASCII minus, so they can be read back. */
const exact = (v: number): string => (Number.isFinite(v) ? Number(v.toPrecision(10)).toString() : String(v))

/** Significant digits, not decimals: per-example adjoints are about 1/batch size, and smaller. */
const significant = (v: number, digits: number): string => (Number.isFinite(v) ? Number(v.toPrecision(digits)).toString() : String(v))

const showTensor = (t: Tensor): string => {
  if (t.size === 1) return exact(t.data[0]!)
  const data = Array.from(t.data)
  const mean = data.reduce((a, b) => a + b, 0) / data.length
  const head = data.slice(0, 4).map((v) => significant(v, 4)).join(', ')
  return `[${head}${data.length > 4 ? ', …' : ''}] (${data.length} examples, mean ${significant(mean, 6)})`
}

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
  diagram: Dg.build($('net'), initialSession.network.widths, (t) => select(t)),
  rate: [],
  stepsPerSecond: NaN,
  lastView: 0,
  lastInspect: 0,
  generation: 0
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
}

// ---------------------------------------------------------------- views

const drawInputs = (): void => {
  const n = Dg.UNIT_GRID * Dg.UNIT_GRID
  for (const axis of [0, 1]) {
    const values = Float64Array.from({ length: n }, (_, k) => gridPoints[2 * k + axis]! / D.domain.max)
    V.drawImage(state.diagram.canvases[0]![axis]!, values, Dg.UNIT_GRID, (v) => v)
  }
}

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
  $('step-count').textContent = String(s.step)
  $('train-loss').textContent = fmt(evaluation.trainLoss)
  $('test-loss').textContent = fmt(evaluation.testLoss)
  $('test-accuracy').textContent = `${(100 * evaluation.testAccuracy).toFixed(1)}%`
  $('steps-per-second').textContent = Number.isFinite(state.stepsPerSecond) ? state.stepsPerSecond.toFixed(1) : '–'
  V.drawLosses($<HTMLCanvasElement>('losses'), state.history)

  // every layer's output over the plane, on the cpu reference (views are not the training)
  const outputs = Backends.withBackend(cpu, () => M.forwardAll(s.network, s.params, gridX))
  const widths = s.network.widths
  for (let l = 1; l < widths.length; l++) {
    const out = outputs[2 * (l - 1) + (l < widths.length - 1 ? 1 : 0)]!
    const units = widths[l]!
    const data = out.data
    for (let u = 0; u < units; u++) {
      const values = Float64Array.from({ length: Dg.UNIT_GRID * Dg.UNIT_GRID }, (_, k) => data[k * units + u]!)
      const colour = V.normalise(values, l < widths.length - 1 ? s.config.activation : 'logit')
      V.drawImage(state.diagram.canvases[l]![u]!, values, Dg.UNIT_GRID, colour)
    }
  }
  const logits = Backends.withBackend(cpu, () => M.logits(s.network, s.params, heatX)).data
  V.drawImage($<HTMLCanvasElement>('heatmap'), logits, HEAT_GRID, V.normalise(logits, 'logit'))
  Dg.updateEdges(state.diagram, Array.from({ length: M.denseCount(s.network) }, (_, k) => M.dense(s.params, k).w.data))
  Dg.updateBiases(state.diagram, Array.from({ length: M.denseCount(s.network) }, (_, k) => M.dense(s.params, k).b.data))
  state.lastView = performance.now()
}

const drawData = (): void => {
  const layer = $<HTMLCanvasElement>('points-layer')
  layer.getContext('2d')?.clearRect(0, 0, layer.width, layer.height)
  V.drawPoints(layer, state.session.data.train, state.session.data.test)
}

// ---------------------------------------------------------------- inspector

const described: Readonly<Record<I.Target['kind'], string>> = {
  weight: 'a weight',
  bias: 'a bias',
  input: 'an input, one value per example',
  unit: 'a hidden unit’s output, one value per example',
  output: 'the output, the logit of blue, one value per example'
}

const inspect = (): void => {
  const target = state.selected
  if (target === undefined) return
  const s = state.session
  const batch = T.currentBatch(s)
  const inspection = I.inspect(s.network, s.params, batch, s.config.l2, target)
  state.inspection = inspection
  state.lastInspect = performance.now()
  $('inspector').hidden = false
  $('inspect-label').textContent = `${inspection.label} (${described[target.kind]}), step ${s.step}`
  $('inspect-value').textContent = showTensor(inspection.value)
  const adjoint = $('adjoint')
  adjoint.textContent = showTensor(inspection.adjoint)
  adjoint.dataset['value'] = inspection.adjoint.size === 1 ? String(inspection.adjoint.data[0]) : ''
  $('inspect-loss').textContent = exact(inspection.loss)
  $('trace').textContent = I.table(inspection)
  const parameter = I.isParameter(target)
  $<HTMLButtonElement>('check-gradient').disabled = !parameter
  const check = $('gradient-check')
  check.textContent = parameter ? '' : 'the check runs on parameters (weights and biases)'
  // a check of other parameters, or of earlier ones, must not be read as this one's
  delete check.dataset['adjoint']
  delete check.dataset['estimate']
  // the same adjoint on the training backend: the gradient a step would apply there
  const chosen = state.chosen
  const backendLabel = $('inspect-backend-label')
  const backendValue = $('adjoint-backend')
  if (parameter && chosen !== undefined && chosen.mode !== 'cpu') {
    const { grads } = Backends.withBackend(chosen.backend, () => T.gradient(s, batch))
    backendLabel.textContent = `Same, on GPU.js ${chosen.mode} (float32 kernels)`
    backendValue.textContent = exact(I.parameterValue(grads, target))
  } else {
    backendLabel.textContent = 'Same, on the training backend'
    backendValue.textContent = parameter ? 'training runs on the cpu reference: same as above' : '—'
  }
  Dg.markSelected(state.diagram, target)
}

const select = (target: I.Target): void => {
  state.selected = target
  inspect()
}

const checkGradient = (): void => {
  const target = state.selected
  const inspection = state.inspection
  if (target === undefined || !I.isParameter(target) || inspection === undefined) return
  const s = state.session
  const check = I.checkGradient(s.network, s.params, T.currentBatch(s), s.config.l2, target, inspection.adjoint.data[0]!)
  const out = $('gradient-check')
  out.textContent =
    `adjoint ${exact(check.adjoint)} · finite differences (Ridders) ${exact(check.estimate)} ± ${check.estimateError.toExponential(1)} · ` +
    `relative difference ${check.relativeDifference.toExponential(2)}`
  out.dataset['adjoint'] = String(check.adjoint)
  out.dataset['estimate'] = String(check.estimate)
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
 * replaced meanwhile (a reset, another configuration, a Step) and the result no longer applies.
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

// ---------------------------------------------------------------- configuration

const optimizerNames: Readonly<Record<Config['optimizer'], string>> = { sgd: 'SGD', momentum: 'momentum', adam: 'Adam' }

/** Whether the configuration lets training run compiled on WebGPU. */
const wantsCompiled = (config: Config): boolean => config.backend === 'auto' || config.backend === 'webgpu'

/** What trains: the compiled step on WebGPU, or the eager interpreter's backend. */
const training = (chosen: B.Chosen): { mode: string; summary: string } =>
  state.compiled === undefined ? { mode: chosen.mode, summary: chosen.summary } : { mode: state.compiled.backend, summary: state.compiled.summary }

/** The sentences about WebGPU: what runs on it, or why nothing does. */
const webgpuNotes = (chosen: B.Chosen): string[] => {
  const adapter = chosen.adapter
  if (adapter === undefined) {
    const none = 'No WebGPU adapter in this browser.'
    return state.config.backend === 'webgpu' ? [`${none} The Backend menu asks for WebGPU, so training runs eagerly on ${chosen.summary} instead.`] : [none]
  }
  const software = adapter.software ? ' This adapter is a software renderer, so its kernels run on the CPU.' : ''
  const compiled = state.compiled
  if (compiled !== undefined) {
    return [
      `WebGPU (${adapter.name}) runs lamina’s compiled training step: forward pass, loss, backward sweep and ${optimizerNames[state.config.optimizer]} update traced once into ` +
        `one GPU.js pipeline (${compiled.kernelsPerStep} kernels per step), ${compiled.stepsPerCall} minibatch${compiled.stepsPerCall === 1 ? "" : "es"} per call, awaited so the page never blocks.${software} ` +
        `Step, the adjoints and the gradient check run on the eager interpreter (Step on ${chosen.summary}).` +
        (compiled.fallbackReason === null ? '' : ` GPU.js did not fuse the plan: ${compiled.fallbackReason}.`)
    ]
  }
  if (state.compiling) return [`WebGPU (${adapter.name}) is present: compiling the training step for it…`]
  if (!wantsCompiled(state.config)) return [`WebGPU (${adapter.name}) is present; the Backend menu asks for ${state.config.backend}, which trains eagerly.`]
  return [`WebGPU (${adapter.name}) is present, but training runs eagerly: ${state.compiledFailure ?? 'the step is not compiled'}.`]
}

/** Why training runs where it does, one sentence each. */
const notesOf = (chosen: B.Chosen): string[] => {
  // the eager backend's notes explain its choice, which matters only when it trains
  const notes = state.compiled === undefined ? [...webgpuNotes(chosen), ...chosen.notes] : webgpuNotes(chosen)
  if (!chosen.webgl2 && !chosen.webgpu) notes.unshift('This browser has neither WebGL2 nor WebGPU; it still trains, on WebAssembly.')
  return notes
}

const showBackend = (chosen: B.Chosen): void => {
  const badge = $('backend')
  const now = training(chosen)
  badge.textContent = `training on ${now.summary}`
  badge.classList.toggle('cpu', now.mode === 'cpu')
  badge.dataset['mode'] = now.mode
  $('backend-notes').textContent = notesOf(chosen).join(' ')
}

/** Compiles the step of the current session for WebGPU when the browser and the configuration allow it (a cached step is kept). */
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
  if (chosen.adapter === undefined || !wantsCompiled(state.config)) {
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
  state.diagram = Dg.build($('net'), state.session.network.widths, (t) => select(t))
  drawInputs()
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
  void apply(read.right)
}

// ---------------------------------------------------------------- files

const download = (): void => {
  const s = state.session
  const bytes = Ck.save(s.config, s.network, s.params, s.step)
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/octet-stream' }))
  const a = document.createElement('a')
  a.href = url
  a.download = `lamina-playground-${s.config.dataset}-step${s.step}.safetensors`
  a.click()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
  setMessage(`saved ${bytes.length} bytes (a lamina checkpoint: lamina eval/inspect read it)`)
}

const upload = async (file: File): Promise<void> => {
  const bytes = new Uint8Array(await file.arrayBuffer())
  const loaded = Ck.load(bytes)
  if (E.isLeft(loaded)) {
    setMessage(`${file.name}: ${loaded.left.message}`, true)
    return
  }
  await apply(loaded.right.config, { params: loaded.right.params, step: loaded.right.step })
  setMessage(`loaded ${file.name}: step ${loaded.right.step}`)
}

// ---------------------------------------------------------------- start

declare global {
  interface Window {
    /** The end-to-end tests' view of the page. */
    __playground?: { snapshot(): unknown; train(steps: number): Promise<unknown> }
  }
}

const snapshot = (): unknown => {
  const s = state.session
  const batch = T.currentBatch(s)
  const rows = (t: Tensor): number[][] => t.toArray() as number[][]
  const chosen = state.chosen
  const compiled = state.compiled
  return {
    config: state.config,
    query: toQuery(state.config),
    step: s.step,
    running: state.running,
    stepsPerSecond: state.stepsPerSecond,
    trainLoss: state.evaluation?.trainLoss ?? NaN,
    testLoss: state.evaluation?.testLoss ?? NaN,
    backend:
      chosen === undefined
        ? null
        : {
            ...training(chosen),
            notes: notesOf(chosen),
            webgl2: chosen.webgl2,
            webgpu: chosen.webgpu,
            adapter: chosen.adapter ?? null,
            eager: chosen.mode,
            compiling: state.compiling,
            compiled:
              compiled === undefined
                ? null
                : { backend: compiled.backend, executorKind: compiled.executorKind, fallbackReason: compiled.fallbackReason, stepsPerCall: compiled.stepsPerCall, kernelsPerStep: compiled.kernelsPerStep }
          },
    params: Array.from({ length: M.denseCount(s.network) }, (_, k) => ({ w: rows(M.dense(s.params, k).w), b: Array.from(M.dense(s.params, k).b.data) })),
    batch: { x: rows(batch.x), labels: Array.from(batch.labels) },
    inspection: state.inspection === undefined ? null : { label: state.inspection.label, adjoint: Array.from(state.inspection.adjoint.data) }
  }
}

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

window.__playground = { snapshot, train: trainExactly }

F.write(state.config)
F.onChange(onFormChange)
$('train').addEventListener('click', toggleTraining)
$('step').addEventListener('click', stepOnce)
$('reset').addEventListener('click', () => void apply(state.config))
$('check-gradient').addEventListener('click', checkGradient)
$('save').addEventListener('click', download)
$<HTMLInputElement>('upload').addEventListener('change', (event) => {
  const file = (event.target as HTMLInputElement).files?.[0]
  if (file !== undefined) void upload(file)
})
void apply(state.config)
