/**
 * `compile`: the compiled interpreter of a training step. The step — forward pass, loss,
 * backward sweep through the tape's rules, optimizer update — is staged once, lowered to
 * GPU.js kernels and orchestrated as one `createPipeline` plan that runs `steps` minibatches
 * per call, so activations, gradients and the parameters between steps stay on the device.
 * Results equal the eager interpreter's within float32 rounding.
 *
 * @module
 */
import * as T from 'fp-ts/lib/Task.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import type { Layer, OutSpec } from '../nn/layer.js'
import type { Optimizer } from '../nn/optim.js'
import type { Loss } from '../nn/train.js'
import * as Sh from '../shape.js'
import type { Shape } from '../shape.js'
import { Tensor, concreteBuffer, fromOwnedBuffer } from '../tensor.js'
import * as Tr from '../tree.js'
import type { StackedRole } from './codegen.js'
import { lower } from './codegen.js'
import { CompileError, asCompileError } from './error.js'
import { buildPipeline, webGpuIsSoftware, webGpuLimits } from './pipeline.js'
import type { CompiledMode, ExecutorKind, StepPipeline } from './pipeline.js'
import { stepProgram } from './program.js'
import type { StepProgram } from './program.js'

export type { CompiledMode, ExecutorKind } from './pipeline.js'

/** Options of {@link compile}. */
export interface CompileOptions {
  /** Examples per minibatch. */
  readonly batch: number
  /**
   * Training steps (minibatches) per call. Their stacked inputs (`steps · batch` examples, and as
   * many labels) must each fit one buffer of the mode: below 2²⁴ elements
   * on the GL modes (float32 indices), 2³⁰ on webasm, the device's storage buffer binding on
   * webgpu; more is an `'input'` error saying how many steps fit.
   */
  readonly steps: number
  /** The GPU.js mode (default `'webasm'`); the same plan runs on `'webgpu'` and the GL modes. */
  readonly mode?: CompiledMode
  /** On webasm, `false` keeps the plan off the worker pool (`fused-sync`); default `true`. */
  readonly threads?: boolean
  /** The per-example input shape (default the model's `inShape`, required when it has free dimensions). */
  readonly inputShape?: Shape
  /** Labels are class indices below this (default the model's output width, at least 2). */
  readonly classes?: number
}

/** Parameters and optimizer state, as `Train.step` threads them. */
export interface TrainingState<P, O> {
  readonly params: P
  readonly optimizerState: O
}

/** The minibatches of one call: inputs `[steps, batch, ...features]` and `steps·batch` labels, step-major. */
export interface StepBatches {
  readonly x: Tensor
  readonly labels: ArrayLike<number>
}

/** What one call returns: the state after its steps and the loss of each step (before its update). */
export interface StepsResult<P, O> extends TrainingState<P, O> {
  readonly losses: readonly number[]
}

/** Sizes of a compiled step, for diagnostics and benchmarks. */
export interface CompiledStats {
  /** Primitives recorded by staging one step (forward and backward). */
  readonly staged: number
  /** Nodes of the program after resolution, the update included. */
  readonly nodes: number
  /** Kernels per step after inlining. */
  readonly kernelsPerStep: number
  /** Distinct GPU.js kernels. */
  readonly kernels: number
  /** Kernel launches per call. */
  readonly launches: number
}

/** A training step compiled to a GPU.js pipeline. */
export interface CompiledStep<P, O> {
  readonly batch: number
  readonly steps: number
  /** The mode that was asked for. */
  readonly mode: CompiledMode
  /** The pipeline executor that ran the last call: `fused-threaded`/`fused-sync` (webasm), `fused-encoder` (webgpu) or `generic`. */
  readonly executorKind: ExecutorKind
  /** The GPU.js backend that actually executed the last call, a GL one named by its kernel class (`'headlessgl'`); never `'cpu'`: that is an error. */
  readonly backend: string
  /** Why GPU.js declined its fused executor (`null` while fused). */
  readonly fallbackReason: string | null
  readonly stats: CompiledStats
  /** Runs `steps` training steps on the stacked minibatches, starting from `state`. */
  run(state: TrainingState<P, O>, batches: StepBatches): TE.TaskEither<CompileError, StepsResult<P, O>>
  /** Releases the kernels, the plan's buffers and the GPU.js instance. */
  dispose(): T.Task<void>
}

const modes: readonly CompiledMode[] = ['webasm', 'webgpu', 'headlessgl', 'webgl2', 'webgl', 'gpu']

const positiveInteger = (name: string, v: unknown): number => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new CompileError('input', `compile: ${name} must be a positive integer, got ${String(v)}`)
  return v
}

/** The modes whose kernels are GL shaders (`'gpu'` picks one of them). */
const glModes: ReadonlySet<CompiledMode> = new Set(['headlessgl', 'webgl2', 'webgl', 'gpu'])

/** How many elements one buffer of a compiled step may hold on a mode (the stacked inputs of a call, every value of a step), and why. */
interface Capacity {
  readonly elements: number
  readonly why: string
}

/**
 * WebGPU's default `maxStorageBufferBindingSize` (128 MiB), what a device grants when nothing
 * more was asked for: the capacity on webgpu when the device's own limits cannot be read.
 */
const WEBGPU_DEFAULT_BINDING = 2 ** 27

/**
 * The capacity of a buffer on `mode`:
 * - GL modes: GPU.js writes a kernel's index variables and quotients as GLSL floats (its GL
 *   function node declares a variable initialised with an integer `float`), so indices are
 *   float32, exact below 2²⁴;
 * - webasm: indices are i32 (see `lower`'s `exact`), and every buffer lives in one wasm32
 *   memory of at most 4 GiB, so an element's byte address, index · 4, stays below 2³²: 2³⁰;
 * - webgpu: indices are i32, and one storage buffer binding holds at most the device's
 *   `maxStorageBufferBindingSize` and `maxBufferSize` bytes (GPU.js asks for the adapter's
 *   largest; WebGPU's default is 128 MiB).
 */
const capacityOf = async (mode: CompiledMode): Promise<Capacity> => {
  if (glModes.has(mode)) {
    return { elements: 2 ** 24 - 1, why: 'GL kernels index with float32 arithmetic (GPU.js writes their index variables as GLSL floats), exact below 2^24' }
  }
  if (mode === 'webasm') return { elements: 2 ** 30, why: 'webasm kernels address one wasm32 memory of at most 4 GiB (2^30 float32 values)' }
  const limits = await webGpuLimits()
  if (limits === undefined) {
    return { elements: WEBGPU_DEFAULT_BINDING / 4, why: "WebGPU's default storage buffer binding holds 128 MiB (the device's own limits could not be read)" }
  }
  const bytes = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize)
  return {
    elements: Math.min(2 ** 31 - 1, Math.floor(bytes / 4)),
    why: `this WebGPU device binds at most ${bytes} bytes per storage buffer (maxStorageBufferBindingSize ${limits.maxStorageBufferBindingSize}, maxBufferSize ${limits.maxBufferSize}) and kernels index in i32`
  }
}

/** The stacked inputs of one call (`steps · batch` examples; the labels, one number per example, are never larger) must fit one buffer on `mode`. */
const checkStacked = (mode: CompiledMode, capacity: Capacity, options: { readonly steps: number; readonly batch: number; readonly inputShape: Shape }): void => {
  const { steps, batch, inputShape } = options
  const perExample = Sh.size(inputShape)
  const count = steps * batch * perExample
  if (count <= capacity.elements) return
  const most = Math.floor(capacity.elements / (batch * perExample))
  const remedy = most >= 1 ? `use at most ${most} steps per call with this batch` : 'one step alone is over the limit: use a smaller batch'
  const other = glModes.has(mode) ? ", or mode 'webasm' or 'webgpu', whose kernels index in 32-bit integers" : ''
  throw new CompileError(
    'input',
    `compile: on '${mode}', ${steps} steps × ${batch} examples × ${perExample} values (input ${Sh.show(inputShape)}) are ${count} stacked elements, ` +
      `over the ${capacity.elements} one buffer may hold there (${capacity.why}): ${remedy}${other}`
  )
}
/**
 * Loop trips one kernel invocation may make on a software rasterizer: llvmpipe (Mesa's software
 * GL, where headlessgl runs without a GPU) and lavapipe (Mesa's software Vulkan, where webgpu
 * runs through Dawn without one) end a shader's loops after 65,535 trips in all, nested and
 * sequential counted together, without a word; the margin is `createGpuBackend`'s.
 */
const MAX_TRIPS = 60_000
/** Elements per trip of a reduction's innermost loop there, so that a conv bias gradient (batch × positions) stays within {@link MAX_TRIPS}. */
const TRIP_UNROLL = 8

const checkOptions = <P, S>(model: Layer<Shape, OutSpec, P, S>, options: CompileOptions) => {
  if (typeof options !== 'object' || options === null) throw new CompileError('input', 'compile: expected an options record { batch, steps }')
  const batch = positiveInteger('batch', options.batch)
  const steps = positiveInteger('steps', options.steps)
  const mode = options.mode ?? 'webasm'
  if (!modes.includes(mode)) throw new CompileError('input', `compile: unknown mode ${JSON.stringify(mode)} (expected ${modes.join(', ')})`)
  const inputShape = options.inputShape ?? model.inShape
  if (inputShape === undefined || inputShape.some((d) => !Number.isSafeInteger(d) || d < 1)) {
    throw new CompileError('unsupported-model', `compile: the per-example input shape is ${inputShape === undefined ? 'unknown' : Sh.show(inputShape)}; pass inputShape with every dimension`)
  }
  let classes = options.classes
  if (classes === undefined) {
    const out = model.outputShape(inputShape)
    classes = Math.max(2, out.length > 0 ? out[out.length - 1]! : 1)
  }
  positiveInteger('classes', classes)
  return { batch, steps, mode, inputShape, classes, threads: options.threads ?? true }
}

/**
 * Why a run reported by GPU.js does not count as running in `mode`, or `undefined` when it
 * does: the backend must be the mode asked for (for `'gpu'`, any one accelerated mode), never
 * GPU.js's own `cpu` mode, to which it degrades silently, nor a mixture or another precision
 * (a GL run where some kernels fell back reads `'headlessgl+cpu'`, see the pipeline's backend).
 *
 * @internal
 */
export const backendProblem = (
  mode: CompiledMode,
  ran: { readonly backend: string | null; readonly executorKind: string; readonly fallbackReason: string | null }
): string | undefined => {
  const ok = mode === 'gpu' ? modes.includes(ran.backend as CompiledMode) : ran.backend === mode
  if (ok) return undefined
  const why = ran.fallbackReason === null ? '' : `: ${ran.fallbackReason}`
  return `compile: GPU.js ran the plan on '${String(ran.backend)}' instead of '${mode}' (executor ${ran.executorKind}${why})`
}

/** The per-step shape of each stacked input the program reads. */
const stackedShapes = (program: StepProgram, live: ReadonlySet<number>): Map<StackedRole, Shape> => {
  const shapes = new Map<StackedRole, Shape>()
  program.nodes.forEach((node, k) => {
    if (node.op !== 'input' || !live.has(k)) return
    const role = node.role
    if (role.kind === 'x' || role.kind === 'labels') shapes.set(role.kind, node.shape)
    if (role.kind === 'hyper') shapes.set('hyper', [program.update.hyperCount])
  })
  return shapes
}

const leavesOf = (tree: unknown, shapes: readonly Shape[], what: string): readonly Tensor[] => {
  let leaves: readonly Tensor[]
  try {
    leaves = Tr.flatten(tree, what).leaves
  } catch (e) {
    throw asCompileError(e, 'input', `compile: ${what}`)
  }
  if (leaves.length !== shapes.length) throw new CompileError('input', `compile: ${what} has ${leaves.length} tensors, the compiled step ${shapes.length}`)
  leaves.forEach((l, i) => {
    if (!Sh.equals(l.shape, shapes[i]!)) throw new CompileError('input', `compile: ${what} leaf ${i} has shape ${Sh.show(l.shape)}, the compiled step ${Sh.show(shapes[i]!)}`)
  })
  return leaves
}

const asF32 = (t: Tensor): Float32Array => {
  const b = concreteBuffer(t)
  return b instanceof Float32Array ? b : Float32Array.from(b)
}

/**
 * Compiles one training step of `model` under `loss` and `optimizer` into a GPU.js pipeline
 * that runs `steps` steps per call. The step is staged on example batches (the forward pass,
 * the backward sweep with the primitive table's VJP rules, the update from the optimizer's
 * description), lowered to kernels with fixed output sizes, and built on a fresh GPU.js
 * instance; a first call with zeros settles the executor. Fails with a {@link CompileError}
 * naming what it cannot compile, or when GPU.js would run the plan on its `cpu` mode.
 *
 * @example
 * ```ts
 * import { Layer, Layers, Loss, Optim, Random, Train, fromBuffer } from 'lamina-nn'
 * import { compile } from 'lamina-nn/gpu'
 * import assert from 'node:assert'
 * const model = Layer.sequential(Layers.dense(4, 8), Layers.relu(), Layers.dense(8, 3))
 * const optimizer = Optim.sgd({ lr: 0.1 })
 * const compiled = await compile(model, Loss.crossEntropyWithLogits, optimizer, { batch: 2, steps: 3 })()
 * assert.ok(compiled._tag === 'Right')
 * const step = compiled.right
 * assert.strictEqual(step.backend, 'webasm')
 * assert.ok(['fused-threaded', 'fused-sync', 'generic'].includes(step.executorKind))
 * // three minibatches of two examples: inputs [3, 2, 4], labels step-major
 * const x = fromBuffer(Random.normal(Random.key(1), [24]).data, [3, 2, 4], { dtype: 'f32' })
 * const labels = Int32Array.from([0, 1, 2, 0, 1, 2])
 * const params = model.init(Random.key(0), 'f32')
 * const out = await step.run({ params, optimizerState: optimizer.init(params) }, { x, labels })()
 * assert.ok(out._tag === 'Right')
 * assert.strictEqual(out.right.losses.length, 3)
 * assert.strictEqual(out.right.optimizerState.step, 3)
 * // the first loss is the eager interpreter's, up to float32 rounding
 * const first = Train.step(model, params, model.initState(), optimizer, optimizer.init(params), Loss.crossEntropyWithLogits,
 *   { x: fromBuffer([...x.data].slice(0, 8), [2, 4], { dtype: 'f32' }), labels: labels.slice(0, 2) }, Random.key(0))
 * assert.ok(Math.abs(out.right.losses[0]! - first.loss) < 1e-5)
 * await step.dispose()()
 * ```
 */
export const compile = <P, S, O extends { readonly step: number }>(
  model: Layer<Shape, OutSpec, P, S>,
  loss: Loss,
  optimizer: Optimizer<O>,
  options: CompileOptions
): TE.TaskEither<CompileError, CompiledStep<P, O>> =>
  TE.tryCatch(
    async () => {
      const { batch, steps, mode, inputShape, classes, threads } = checkOptions(model, options)
      // before staging and before any kernel: on GL and webasm the capacity is a constant, on webgpu the device's
      const capacity = await capacityOf(mode)
      checkStacked(mode, capacity, { steps, batch, inputShape })
      const program = stepProgram(model, loss, optimizer, { batch, inputShape, classes })
      const largest = program.nodes.reduce((m, n, k) => (Sh.size(n.shape) > Sh.size(program.nodes[m]!.shape) ? k : m), 0)
      const largestSize = Sh.size(program.nodes[largest]!.shape)
      if (largestSize > capacity.elements) {
        throw new CompileError(
          'input',
          `compile: on '${mode}', a value of the step (${program.nodes[largest]!.op}, node ${largest}, shape ${Sh.show(program.nodes[largest]!.shape)}) has ${largestSize} elements, ` +
            `over the ${capacity.elements} one buffer may hold there (${capacity.why}): use a smaller batch`
        )
      }
      const roots = [program.loss, ...program.params, ...program.slots.flat()]
      const gl = glModes.has(mode)
      // GL may run on llvmpipe, webgpu on lavapipe: both stop long loops silently
      const tripLimited = gl || (mode === 'webgpu' && (await webGpuIsSoftware()))
      // integer index arithmetic everywhere but GL; webasm divides float32 correctly rounded, WGSL within 2.5 ulp
      const plan = lower(program.nodes, roots, { unroll: tripLimited ? TRIP_UNROLL : 1, exact: !gl, exactDivision: mode === 'webasm', hyperCount: program.update.hyperCount })
      const longLoop = tripLimited ? plan.kernels.find((k) => k.trips > MAX_TRIPS) : undefined
      if (longLoop !== undefined) {
        throw new CompileError(
          'backend',
          `compile: the kernel of node ${longLoop.node} (${program.nodes[longLoop.node]!.op}, shape ${Sh.show(program.nodes[longLoop.node]!.shape)}) loops ${longLoop.trips} times per element; ` +
            `on '${mode}' ${gl ? '' : "(a software adapter) "}a shader's loops may stop after 65,535 trips without a word (Mesa's ${gl ? 'llvmpipe' : 'lavapipe'}): use a smaller batch or input`
        )
      }
      const live = new Set(plan.kernels.flatMap((k) => k.args.flatMap((a) => (a.tag === 'buffer' ? [a.node] : []))))
      const stacked = stackedShapes(program, live)
      const pipeline = await buildPipeline(program, plan, stacked, { mode, steps, threads })
      const slotNames = program.update.slots
      const leafShapes = program.leafShapes

      /** The pipeline's arguments for one call. */
      const argumentsOf = (state: TrainingState<P, O>, batches: StepBatches): Float32Array[] => {
        const params = leavesOf(state.params, leafShapes, 'params').map(asF32)
        const st = state.optimizerState as unknown as Record<string, unknown>
        if (typeof st !== 'object' || st === null || !Number.isSafeInteger(st['step']) || (st['step'] as number) < 0) {
          throw new CompileError('input', "compile: the optimizer state must be the optimizer's own (a record with an integer step ≥ 0)")
        }
        const applied = st['step'] as number
        const slots = slotNames.map((name) => leavesOf(st[name], leafShapes, `optimizerState.${name}`).map(asF32))
        const x = batches.x
        if (!(x instanceof Tensor)) throw new CompileError('input', 'compile: batches.x must be a tensor [steps, batch, ...features]')
        const perStep = [batch, ...inputShape]
        if (!Sh.equals(x.shape, [steps, ...perStep]) && !Sh.equals(x.shape, [steps * batch, ...inputShape])) {
          throw new CompileError('input', `compile: batches.x has shape ${Sh.show(x.shape)}, expected ${Sh.show([steps, ...perStep])}`)
        }
        const labels = batches.labels
        if (labels.length !== steps * batch) throw new CompileError('input', `compile: ${labels.length} labels, expected ${steps * batch} (steps · batch)`)
        for (let i = 0; i < labels.length; i++) {
          const c = labels[i]!
          if (!Number.isInteger(c) || c < 0 || c >= classes) {
            throw new CompileError('input', `compile: label ${c} at index ${i} is not a class index in 0 … ${classes - 1}`)
          }
        }
        return pipeline.arguments.map((source) => {
          switch (source.kind) {
            case 'param':
              return params[source.leaf]!
            case 'slot':
              return slots[source.slot]![source.leaf]!
            case 'stacked':
              switch (source.role) {
                case 'x':
                  return asF32(x)
                case 'labels':
                  return Float32Array.from(labels)
                case 'hyper': {
                  const out = new Float32Array(steps * program.update.hyperCount)
                  for (let s = 0; s < steps; s++) out.set(program.update.hyper(applied + s), s * program.update.hyperCount)
                  return out
                }
              }
          }
        })
      }

      const checkBackend = (): void => {
        const problem = backendProblem(mode, { backend: pipeline.backend(), executorKind: pipeline.executorKind(), fallbackReason: pipeline.fallbackReason() })
        if (problem !== undefined) throw new CompileError('backend', problem)
      }

      const zeros = pipeline.arguments.map((source) => {
        if (source.kind === 'stacked') return new Float32Array(source.perStep * steps)
        return new Float32Array(Math.max(1, Sh.size(leafShapes[source.leaf]!)))
      })
      try {
        await pipeline.run(zeros)
        checkBackend()
      } catch (e) {
        await pipeline.destroy()
        throw asCompileError(e, 'backend', 'compile: the first run of the pipeline failed')
      }
      return compiledStep(pipeline, program, { batch, steps, mode, argumentsOf, checkBackend, kernelsPerStep: plan.kernels.length })
    },
    (e) => asCompileError(e, 'backend', 'compile')
  )

const compiledStep = <P, O extends { readonly step: number }>(
  pipeline: StepPipeline,
  program: StepProgram,
  context: {
    readonly batch: number
    readonly steps: number
    readonly mode: CompiledMode
    readonly kernelsPerStep: number
    readonly argumentsOf: (state: TrainingState<P, O>, batches: StepBatches) => Float32Array[]
    readonly checkBackend: () => void
  }
): CompiledStep<P, O> => {
  let disposed = false
  const { steps } = context
  // what ran the last call (the warm-up call at first); kept after dispose, which resets the pipeline's own
  const observe = () => ({ executorKind: pipeline.executorKind(), backend: pipeline.backend() ?? 'none', fallbackReason: pipeline.fallbackReason() })
  let last = observe()
  return {
    batch: context.batch,
    steps,
    mode: context.mode,
    get executorKind() {
      return last.executorKind
    },
    get backend() {
      return last.backend
    },
    get fallbackReason() {
      return last.fallbackReason
    },
    stats: { staged: program.staged, nodes: program.nodes.length, kernelsPerStep: context.kernelsPerStep, kernels: pipeline.kernels, launches: pipeline.launches },
    run: (state, batches) =>
      TE.tryCatch(
        async () => {
          if (disposed) throw new CompileError('disposed', 'compile: the compiled step has been disposed')
          const args = context.argumentsOf(state, batches)
          const out = await pipeline.run(args)
          last = observe()
          context.checkBackend()
          const before = Tr.flatten(state.params, 'params')
          const tensors = (buffers: readonly Float32Array[]): Tensor[] =>
            buffers.map((b, i) => {
              const like = before.leaves[i]!
              return fromOwnedBuffer(like.shape, like.dtype, like.dtype === 'f32' ? b : Float64Array.from(b))
            })
          const previous = state.optimizerState as unknown as Record<string, unknown>
          const optimizerState: Record<string, unknown> = { step: (previous['step'] as number) + steps }
          program.update.slots.forEach((name, s) => (optimizerState[name] = Tr.flatten(previous[name], name).rebuild(tensors(out.slots[s]!))))
          return {
            params: before.rebuild(tensors(out.params)),
            optimizerState: Object.freeze(optimizerState) as unknown as O,
            losses: out.losses
          }
        },
        (e) => asCompileError(e, 'backend', 'compile: running the compiled step failed')
      ),
    dispose: () => async () => {
      if (disposed) return
      disposed = true
      await pipeline.destroy()
    }
  }
}
