/**
 * What the end-to-end tests read of the page (`window.__playground.snapshot()`): the
 * configuration and its query, the step, the losses, where training runs, the parameters and
 * the current minibatch in float64 (its features, its points and its labels), and the last
 * inspection. Plain data, so it crosses from the browser to the test as JSON.
 *
 * @module
 */
import type { Tensor } from 'lamina-nn'
import type * as B from './backend.js'
import { toQuery } from './config.js'
import * as D from './datasets.js'
import type * as I from './inspect.js'
import * as M from './model.js'
import * as St from './status.js'
import * as T from './trainer.js'

/** The page's state, as far as a snapshot shows it. */
export interface Seen extends Omit<St.Situation, 'chosen'> {
  readonly chosen: B.Chosen | undefined
  readonly session: T.Session
  readonly running: boolean
  readonly stepsPerSecond: number
  readonly evaluation: T.Evaluation | undefined
  readonly inspection: I.Inspection | undefined
}

/** The snapshot of a state. */
export const snapshot = (seen: Seen): unknown => {
  const s = seen.session
  const indices = T.batchIndices(s, s.step)
  const batch = T.batchOf(s, indices, 'f64')
  const points = D.take(s.data.train, indices)
  const rows = (t: Tensor): number[][] => t.toArray() as number[][]
  const params = T.params64(s)
  const { chosen, compiled } = seen
  return {
    config: seen.config,
    query: toQuery(seen.config),
    step: s.step,
    running: seen.running,
    stepsPerSecond: seen.stepsPerSecond,
    trainLoss: seen.evaluation?.trainLoss ?? NaN,
    testLoss: seen.evaluation?.testLoss ?? NaN,
    testAccuracy: seen.evaluation?.testAccuracy ?? NaN,
    backend:
      chosen === undefined
        ? null
        : {
            ...St.training({ ...seen, chosen }),
            notes: St.notes({ ...seen, chosen }),
            webgl2: chosen.webgl2,
            webgpu: chosen.webgpu,
            adapter: chosen.adapter ?? null,
            eager: chosen.mode,
            dtype: chosen.dtype,
            compiling: seen.compiling,
            compiled:
              compiled === undefined
                ? null
                : { backend: compiled.backend, executorKind: compiled.executorKind, fallbackReason: compiled.fallbackReason, stepsPerCall: compiled.stepsPerCall, kernelsPerStep: compiled.kernelsPerStep }
          },
    params: Array.from({ length: M.denseCount(s.network) }, (_, k) => ({ w: rows(M.dense(params, k).w), b: Array.from(M.dense(params, k).b.data) })),
    batch: { x: rows(batch.x), points: Array.from({ length: indices.length }, (_, i) => [points.x[2 * i]!, points.x[2 * i + 1]!]), labels: Array.from(batch.labels) },
    inspection: seen.inspection === undefined ? null : { label: seen.inspection.label, adjoint: Array.from(seen.inspection.adjoint.data), loss: seen.inspection.loss }
  }
}
