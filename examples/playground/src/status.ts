/**
 * What the page says about where training runs: the badge's line and the notes under the
 * output (why this backend, why not WebGPU), from the chosen eager backend, the configuration
 * and the compiled step. Pure functions of that situation.
 *
 * @module
 */
import type * as B from './backend.js'
import type * as C from './compiled.js'
import type { Config } from './config.js'

/** Everything the sentences depend on. */
export interface Situation {
  readonly chosen: B.Chosen
  readonly config: Config
  /** The compiled step that trains on WebGPU, when there is one. */
  readonly compiled: C.CompiledTrainer | undefined
  readonly compiling: boolean
  /** Why training is not compiled although WebGPU was asked for. */
  readonly compiledFailure: string | undefined
}

export const optimizerNames: Readonly<Record<Config['optimizer'], string>> = { sgd: 'SGD', momentum: 'momentum', adam: 'Adam' }

/** What trains: the compiled step on WebGPU, or the eager interpreter's backend. */
export const training = ({ chosen, compiled }: Situation): { mode: string; summary: string } =>
  compiled === undefined ? { mode: chosen.mode, summary: chosen.summary } : { mode: compiled.backend, summary: compiled.summary }

/** The sentences about WebGPU: what runs on it, or why nothing does (said only when the Backend menu asks for it). */
const webgpuNotes = ({ chosen, config, compiled, compiling, compiledFailure }: Situation): string[] => {
  if (config.backend !== 'webgpu') return []
  const adapter = chosen.adapter
  if (adapter === undefined) return [`No WebGPU adapter in this browser: training runs eagerly on ${chosen.summary} instead.`]
  const software = adapter.software ? ' This adapter is a software renderer, so its kernels run on the CPU.' : ''
  if (compiled !== undefined) {
    return [
      `WebGPU (${adapter.name}) runs lamina’s compiled training step: forward pass, loss, backward sweep and ${optimizerNames[config.optimizer]} update traced once into ` +
        `one GPU.js pipeline (${compiled.kernelsPerStep} kernels per step), ${compiled.stepsPerCall} minibatch${compiled.stepsPerCall === 1 ? '' : 'es'} per call, awaited so the page never blocks.${software} ` +
        `Step, the adjoints and the gradient check run on the eager interpreter (Step on ${chosen.summary}).` +
        (compiled.fallbackReason === null ? '' : ` GPU.js did not fuse the plan: ${compiled.fallbackReason}.`)
    ]
  }
  if (compiling) return [`WebGPU (${adapter.name}) is present: compiling the training step for it…`]
  return [`WebGPU (${adapter.name}) is present, but training runs eagerly: ${compiledFailure ?? 'the step is not compiled'}.`]
}

/** Why training runs where it does, one sentence each. */
export const notes = (situation: Situation): string[] => {
  const { chosen } = situation
  // the eager backend's notes explain its choice, which matters only when it trains
  const out = situation.compiled === undefined ? [...webgpuNotes(situation), ...chosen.notes] : webgpuNotes(situation)
  if (!chosen.webgl2 && !chosen.webgpu) out.unshift('This browser has neither WebGL2 nor WebGPU; it still trains, on the CPU.')
  return out
}

