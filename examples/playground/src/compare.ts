/**
 * "Compare backends": trains the current network for a moment on each backend this browser
 * has, from the same start, and reports the steps per second of each. This is how the default
 * was chosen (see backend.ts for the figures): for networks this small, lamina's cpu backend
 * beats every GPU.js mode, because a kernel launch costs more than the arithmetic it saves.
 *
 * @module
 */
import * as E from 'fp-ts/lib/Either.js'
import { Backends } from 'lamina-nn'
import * as B from './backend.js'
import * as C from './compiled.js'
import type { Config } from './config.js'
import * as T from './trainer.js'

/** One backend's result: steps per second, or why it was not measured. */
export interface Measured {
  readonly mode: B.EagerMode | 'webgpu'
  readonly summary: string
  readonly stepsPerSecond: number | undefined
  readonly steps: number
  readonly note: string
}

const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0))

/**
 * Steps of the eager interpreter on `backend` for about `budget` ms, yielding to the page
 * between chunks, after a warm-up of two steps (GPU.js compiles its kernels then) and half the
 * budget (the JavaScript engine optimizes the step's code then: the first backend measured
 * would otherwise pay for it).
 */
const eagerRate = async (config: Config, backend: B.EagerMode, budget: number): Promise<{ steps: number; ms: number }> => {
  const made = await B.eagerBackend(backend)
  if ('unavailable' in made) throw new Error(made.unavailable)
  try {
    let s = T.create({ ...config, backend })
    const run = (until: number): void => {
      Backends.withBackend(made.backend, () => {
        do s = T.step(s)
        while (performance.now() < until)
      })
    }
    run(0)
    run(0)
    const warm = performance.now()
    while (performance.now() - warm < budget / 2) {
      run(performance.now() + 30)
      await pause()
    }
    const start = performance.now()
    const from = s.step
    while (performance.now() - start < budget) {
      run(performance.now() + 30)
      await pause()
    }
    return { steps: s.step - from, ms: performance.now() - start }
  } finally {
    made.dispose()
  }
}

/** Calls of the compiled step on WebGPU for about `budget` ms after one warm-up call. */
const compiledRate = async (config: Config, adapter: string, budget: number): Promise<{ steps: number; ms: number; summary: string }> => {
  let s = T.create({ ...config, backend: 'webgpu' })
  const compiled = await C.compileFor(s, adapter)
  if (E.isLeft(compiled)) throw new Error(compiled.left)
  const step = compiled.right
  try {
    const call = async (): Promise<void> => {
      const next = await step.run(s)
      if (E.isLeft(next)) throw new Error(next.left)
      s = next.right
    }
    await call()
    const start = performance.now()
    const from = s.step
    while (performance.now() - start < budget) await call()
    return { steps: s.step - from, ms: performance.now() - start, summary: step.summary }
  } finally {
    await step.dispose()
  }
}

/**
 * Measures every backend on `config`'s network, data and optimizer: lamina cpu in float32 and
 * float64, GPU.js webasm and webgl2 (eager), and the compiled step on WebGPU when there is an
 * adapter. `progress` hears each result as it comes.
 */
export const measure = async (config: Config, adapter: B.WebGpuAdapter | undefined, budget = 800, progress: (m: Measured) => void = () => {}): Promise<Measured[]> => {
  const out: Measured[] = []
  const record = (m: Measured): void => {
    out.push(m)
    progress(m)
  }
  const titles: Readonly<Record<B.EagerMode, string>> = { cpu: 'lamina cpu, float64', cpu32: 'lamina cpu, float32', webasm: 'GPU.js webasm', webgl2: 'GPU.js webgl2' }
  for (const mode of ['cpu32', 'cpu', 'webasm', 'webgl2'] as const) {
    try {
      const { steps, ms } = await eagerRate(config, mode, budget)
      record({ mode, summary: titles[mode], stepsPerSecond: (steps * 1000) / ms, steps, note: 'eager' })
    } catch (e) {
      record({ mode, summary: titles[mode], stepsPerSecond: undefined, steps: 0, note: e instanceof Error ? e.message : String(e) })
    }
    await pause()
  }
  if (adapter === undefined) {
    record({ mode: 'webgpu', summary: 'GPU.js webgpu (compiled)', stepsPerSecond: undefined, steps: 0, note: 'no WebGPU adapter in this browser' })
  } else {
    try {
      const { steps, ms } = await compiledRate(config, adapter.name, budget)
      record({ mode: 'webgpu', summary: 'GPU.js webgpu (compiled)', stepsPerSecond: (steps * 1000) / ms, steps, note: `compiled, on ${adapter.name}` })
    } catch (e) {
      record({ mode: 'webgpu', summary: 'GPU.js webgpu (compiled)', stepsPerSecond: undefined, steps: 0, note: e instanceof Error ? e.message : String(e) })
    }
  }
  return out
}

/** The results as a table, fastest marked; each row carries `data-mode` and `data-steps-per-second` for tests. */
export const table = (results: readonly Measured[], caption: string): HTMLTableElement => {
  const t = document.createElement('table')
  t.createCaption().textContent = caption
  const head = t.createTHead().insertRow()
  for (const h of ['backend', 'steps/s', 'note']) {
    const th = document.createElement('th')
    th.scope = 'col'
    th.textContent = h
    head.append(th)
  }
  const best = Math.max(...results.map((r) => r.stepsPerSecond ?? 0))
  const body = t.createTBody()
  for (const r of results) {
    const row = body.insertRow()
    row.dataset['mode'] = r.mode
    row.dataset['stepsPerSecond'] = r.stepsPerSecond === undefined ? '' : String(r.stepsPerSecond)
    row.insertCell().textContent = r.summary
    const rate = row.insertCell()
    rate.className = 'number'
    rate.textContent = r.stepsPerSecond === undefined ? '—' : r.stepsPerSecond.toFixed(0)
    row.insertCell().textContent = r.stepsPerSecond !== undefined && r.stepsPerSecond === best ? `${r.note}; fastest` : r.note
  }
  return t
}
