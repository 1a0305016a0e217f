/**
 * Training on WebGPU through lamina's compiled interpreter. GPU.js kernels return Promises on
 * WebGPU, so the eager interpreter (synchronous) cannot use it; `compile` from `lamina-nn/gpu`
 * instead traces the whole step (forward pass, loss with its L2 penalty, backward sweep,
 * optimizer update) once into a GPU.js pipeline that runs several minibatches per call, all
 * recorded into one command encoder, and resolves when they are done. The page awaits it, so it
 * never blocks. The minibatches are drawn by `T.nextBatches`, exactly those the eager steps
 * would use, and the optimizer state is the optimizer's own, so the page can switch between the
 * two interpreters at any step (Step runs one eager step).
 *
 * @module
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Optim, Tensor } from 'lamina-nn'
import { compile } from 'lamina-nn/gpu'
import type { CompiledStep, ExecutorKind } from 'lamina-nn/gpu'
import * as M from './model.js'
import * as T from './trainer.js'

/** A compiled training step for one network, optimizer and minibatch size. */
export interface CompiledTrainer {
  /** Which sessions it can train: see {@link keyOf}. */
  readonly key: string
  readonly stepsPerCall: number
  readonly kernelsPerStep: number
  /** The GPU.js executor and backend that ran the last call (`fused-encoder` and `webgpu` when fused). */
  readonly executorKind: ExecutorKind
  readonly backend: string
  /** Why GPU.js declined its fused executor (null while fused). */
  readonly fallbackReason: string | null
  /** One line for the badge: `GPU.js webgpu (compiled, fused-encoder) on google swiftshader`. */
  readonly summary: string
  /** The session after `stepsPerCall` more steps, or why the call failed. */
  run(session: T.Session): Promise<E.Either<string, T.Session>>
  dispose(): Promise<void>
}

/** What a compiled step depends on: sessions with the same key share it (a reset or new data does not recompile). */
export const keyOf = (s: T.Session): string =>
  JSON.stringify([s.config.features, s.config.hidden, s.config.activation, s.config.optimizer, s.config.lr, s.terms, T.batchSize(s)])

/** Forward multiply-adds per call to aim for: about 20 ms of SwiftShader's WebGPU on this network size. */
const MACS_PER_CALL = 250_000
const MAX_STEPS_PER_CALL = 20

/**
 * Minibatches per call: up to 20 for small networks (per-kernel overhead dominates, so more
 * steps per submit help), fewer as the step grows, so one call stays around the eager
 * trainer's 30 ms chunk and the views keep up.
 */
export const stepsPerCall = (s: T.Session): number => {
  const widths = s.network.widths
  let macs = 0
  for (let k = 1; k < widths.length; k++) macs += widths[k - 1]! * widths[k]!
  return Math.max(1, Math.min(MAX_STEPS_PER_CALL, Math.floor(MACS_PER_CALL / (T.batchSize(s) * macs))))
}

/**
 * The playground's objective for `compile`, whose loss sees only the logits and the labels:
 * the model hands the parameters it runs with to the loss's penalty (compile stages the
 * forward pass and then the loss, on the same staged parameters).
 */
const stagedObjective = (network: M.Network, terms: M.Terms): { model: M.Network['model']; loss: (z: Tensor, labels: Int32Array) => Tensor } => {
  const data = (z: Tensor, labels: Int32Array): Tensor => M.dataLoss(z, labels, terms.problem)
  if (terms.regularization === 'none' || terms.rate === 0) return { model: network.model, loss: data }
  let current: M.Params | undefined
  const model: M.Network['model'] = {
    ...network.model,
    forward: (params, x, context) => {
      current = params
      return network.model.forward(params, x, context)
    }
  }
  const loss = (z: Tensor, labels: Int32Array): Tensor => {
    if (current === undefined) throw new Error('the loss ran before the model')
    return M.penalised(data(z, labels), current, terms)
  }
  return { model, loss }
}

type State = { readonly step: number }

/** Compiles the step of a session for WebGPU; Left is the reason it could not (shown on the page). */
export const compileFor = async (s: T.Session, adapterName: string): Promise<E.Either<string, CompiledTrainer>> => {
  // compile's loss receives class labels (integers): a regression target would be truncated
  if (s.terms.problem !== 'classification') return E.left('the compiled step takes class labels, so it trains classification only; regression trains eagerly')
  const steps = stepsPerCall(s)
  const { model, loss } = stagedObjective(s.network, s.terms)
  const optimizer = s.optimizer as Optim.Optimizer<State>
  const compiled = await compile(model, loss, optimizer, { batch: T.batchSize(s), steps, mode: 'webgpu' })()
  if (E.isLeft(compiled)) return E.left(`${compiled.left.reason}: ${compiled.left.message}`)
  const step: CompiledStep<M.Params, State> = compiled.right
  return E.right({
    key: keyOf(s),
    stepsPerCall: steps,
    kernelsPerStep: step.stats.kernelsPerStep,
    get executorKind() {
      return step.executorKind
    },
    get backend() {
      return step.backend
    },
    get fallbackReason() {
      return step.fallbackReason
    },
    get summary() {
      return `GPU.js ${step.backend} (compiled, ${step.executorKind}) on ${adapterName}`
    },
    run: async (session) => {
      const out = await step.run({ params: session.params, optimizerState: session.optimizerState as State }, T.nextBatches(session, steps))()
      if (E.isLeft(out)) return E.left(`${out.left.reason}: ${out.left.message}`)
      const { params, optimizerState, losses } = out.right
      return E.right({ ...session, params, optimizerState, step: session.step + steps, lastLoss: losses[losses.length - 1] ?? NaN })
    },
    dispose: () => step.dispose()()
  })
}
