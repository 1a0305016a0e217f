/**
 * The GPU.js side of a compiled step: the kernels of a {@link KernelPlan} created on one GPU.js
 * instance, and a `createPipeline` plan whose orchestration unrolls `steps` training steps.
 * Arguments are the stacked per-step inputs, the parameters and the optimizer's slots; results
 * are the new parameters, the new slots and one loss per step. Every intermediate — activations,
 * cotangents, gradients, the parameters between steps — is a plan buffer that never leaves the
 * device (wasm memory on webasm, storage buffers on webgpu, textures on GL).
 *
 * @module
 */
import * as Sh from '../shape.js'
import type { Shape } from '../shape.js'
import { importGpuJs } from '../backend/gpujs.js'
import type { KernelPlan, StackedRole } from './codegen.js'
import { CompileError } from './error.js'
import type { Ref } from './graph.js'
import type { StepProgram } from './program.js'

/** The GPU.js modes a compiled step can be asked to run on (`'gpu'` lets GPU.js pick an accelerated one). */
export type CompiledMode = 'webasm' | 'webgpu' | 'headlessgl' | 'webgl2' | 'webgl' | 'gpu'

/** Which pipeline executor ran: see `IPipelineRunShortcut.executorKind` in GPU.js. */
export type ExecutorKind = 'fused-threaded' | 'fused-sync' | 'fused-encoder' | 'generic'

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e))

// ---- the part of GPU.js used here (its own typings are looser) ----

interface KernelRun {
  (...args: unknown[]): unknown
}
interface PipelineRun {
  (...args: unknown[]): Promise<unknown>
  readonly executorKind: string
  readonly fallbackReason: string | null
  readonly backend: string | null
  /** The plan GPU.js built; its `genericClones` are the kernels the generic executor ran. */
  readonly plan: unknown
  destroy(): Promise<void>
}
interface GpuInstance {
  createKernel(source: string, settings: Record<string, unknown>): KernelRun
  createPipeline(fn: (...handles: unknown[]) => unknown, settings?: Record<string, unknown>): PipelineRun
  destroy(): Promise<void> | void
}
interface GpuClass {
  new (settings: { mode?: string }): GpuInstance
}

/** The limits of a WebGPU device that bound a compiled step's buffers. */
export interface WebGpuLimits {
  readonly maxStorageBufferBindingSize: number
  readonly maxBufferSize: number
}

/** GPU.js's shared WebGPU device (`WebGPUContext.acquire()`: one device serves every instance in webgpu mode). */
interface WebGpuContextClass {
  acquire(): Promise<{ readonly device: { readonly limits: WebGpuLimits }; readonly adapter?: { readonly info?: Readonly<Record<string, unknown>> } }>
}

interface GpuModule {
  readonly GPU: GpuClass
  /** GL kernel class → the mode it implements (GPU.js's own `mode` getter says `'gpu'` for every GL class). */
  readonly glModes: ReadonlyMap<unknown, string>
  readonly WebGPUContext?: WebGpuContextClass
}

const loadGpuModule = async (): Promise<GpuModule> => {
  const mod = (await importGpuJs()) as Readonly<Record<string, unknown>> & { GPU: GpuClass; WebGPUContext?: WebGpuContextClass }
  const glModes = new Map<unknown, string>()
  for (const [name, mode] of [
    ['HeadlessGLKernel', 'headlessgl'],
    ['WebGL2Kernel', 'webgl2'],
    ['WebGLKernel', 'webgl']
  ] as const) {
    if (mod[name] !== undefined) glModes.set(mod[name], mode)
  }
  return mod.WebGPUContext === undefined ? { GPU: mod.GPU, glModes } : { GPU: mod.GPU, glModes, WebGPUContext: mod.WebGPUContext }
}

/**
 * The limits of the device GPU.js's `webgpu` mode runs on: its shared context's device, which
 * GPU.js asks for with the adapter's largest `maxStorageBufferBindingSize` and `maxBufferSize`
 * (`web-gpu/context.js`). `undefined` when this GPU.js has no such context; fails when there
 * is no device (no `navigator.gpu`, no adapter).
 */
export const webGpuLimits = async (): Promise<WebGpuLimits | undefined> => {
  let context: WebGpuContextClass | undefined
  try {
    context = (await loadGpuModule()).WebGPUContext
  } catch (e) {
    throw new CompileError('backend', `compile: gpu.js could not be loaded: ${message(e)}`, { cause: e })
  }
  if (context === undefined) return undefined
  let limits: WebGpuLimits
  try {
    limits = (await context.acquire()).device.limits
  } catch (e) {
    throw new CompileError('backend', `compile: GPU.js mode 'webgpu' has no device: ${message(e)}`, { cause: e })
  }
  const { maxStorageBufferBindingSize, maxBufferSize } = limits
  return Number.isFinite(maxStorageBufferBindingSize) && Number.isFinite(maxBufferSize) ? { maxStorageBufferBindingSize, maxBufferSize } : undefined
}

/**
 * Whether GPU.js's WebGPU device is a software rasterizer (Mesa's lavapipe, SwiftShader), judged
 * from its adapter's info; `true` when the info says nothing. lavapipe ends a shader's loops
 * after 65,535 trips without a word, as llvmpipe does on GL, so such a device gets the GL modes'
 * loop discipline; a hardware GPU does not need it.
 */
export const webGpuIsSoftware = async (): Promise<boolean> => {
  const context = (await loadGpuModule()).WebGPUContext
  if (context === undefined) return true
  let info: Readonly<Record<string, unknown>> | undefined
  try {
    info = (await context.acquire()).adapter?.info
  } catch (e) {
    throw new CompileError('backend', `compile: GPU.js mode 'webgpu' has no device: ${message(e)}`, { cause: e })
  }
  const words = ['vendor', 'architecture', 'device', 'description'].map((k) => String(info?.[k] ?? '')).join(' ')
  return words.trim() === '' || info?.['architecture'] === 'software' || /llvmpipe|lavapipe|swiftshader|software/i.test(words)
}

/** A kernel the generic executor ran: GPU.js's run shortcut around its current kernel (a fallback swaps it). */
interface RanKernel {
  readonly kernel?: { readonly constructor?: { readonly mode?: string }; readonly precision?: string }
}

/**
 * The backend a generic run of `plan` executed on, in the words of {@link CompiledMode}.
 * GPU.js's own `backend` says `'gpu'` for every GL kernel class and looks at one clone only,
 * so every kernel the generic executor ran (its clones and argument uploads) is named here by
 * its class, and a GL mode is reported only when all of them are of that one class and computed
 * in float32. Anything else reads as what it is (`'headlessgl+cpu'` after a fallback, another
 * precision, GPU.js's `'gpu'` for a plan of unknown shape), which no GL mode accepts.
 */
const glBackend = (plan: unknown, glModes: ReadonlyMap<unknown, string>): string => {
  const clones = (plan as { genericClones?: unknown } | null)?.genericClones
  if (!(clones instanceof Map) || clones.size === 0) return 'gpu'
  const kernels = [...(clones as Map<string, RanKernel>).values()].map((clone) => clone.kernel)
  const names = [...new Set(kernels.map((k) => glModes.get(k?.constructor) ?? k?.constructor?.mode ?? 'unknown'))]
  if (names.length !== 1) return names.join('+')
  const imprecise = kernels.find((k) => k?.precision !== 'single')
  return imprecise === undefined ? names[0]! : `${names[0]} (precision ${String(imprecise?.precision)})`
}

/** Where each pipeline argument comes from: a stacked per-step input, a parameter leaf, or a slot leaf. */
export type ArgumentSource =
  | { readonly kind: 'stacked'; readonly role: StackedRole; readonly perStep: number }
  | { readonly kind: 'param'; readonly leaf: number }
  | { readonly kind: 'slot'; readonly slot: number; readonly leaf: number }

/** A built pipeline running `steps` training steps per call. */
export interface StepPipeline {
  /** The pipeline's arguments, in order. */
  readonly arguments: readonly ArgumentSource[]
  /** Distinct GPU.js kernels. */
  readonly kernels: number
  /** Kernel launches per call. */
  readonly launches: number
  /** Runs the steps: new parameter leaves, new slot leaves (`[slot][leaf]`), and the losses. */
  run(args: readonly Float32Array[]): Promise<{ params: Float32Array[]; slots: Float32Array[][]; losses: number[] }>
  readonly executorKind: () => ExecutorKind
  readonly backend: () => string | null
  readonly fallbackReason: () => string | null
  destroy(): Promise<void>
}

/** A GPU.js result (a typed array, or rows of them) as one flat Float32Array of `n` values. */
const flatten = (value: unknown, n: number, what: string): Float32Array => {
  if (value instanceof Float32Array && value.length === n) return value
  const out = new Float32Array(n)
  let at = 0
  const walk = (v: unknown): void => {
    if (typeof v === 'number') out[at++] = v
    else if (v instanceof Float32Array || v instanceof Float64Array) {
      out.set(v, at)
      at += v.length
    } else if (Array.isArray(v)) v.forEach(walk)
    else throw new CompileError('backend', `compile: the pipeline returned ${typeof v} for ${what}, expected numbers`)
  }
  walk(value)
  if (at !== n) throw new CompileError('backend', `compile: the pipeline returned ${at} values for ${what}, expected ${n}`)
  return out
}

/**
 * Creates the kernels and the pipeline of a step on a fresh GPU.js instance in `mode`.
 * `stackedShapes` gives each stacked role's per-step shape.
 */
export const buildPipeline = async (
  program: StepProgram,
  plan: KernelPlan,
  stackedShapes: ReadonlyMap<StackedRole, Shape>,
  options: { readonly mode: CompiledMode; readonly steps: number; readonly threads: boolean }
): Promise<StepPipeline> => {
  let GPU: GpuClass
  let glModes: ReadonlyMap<unknown, string>
  try {
    ;({ GPU, glModes } = await loadGpuModule())
  } catch (e) {
    throw new CompileError('backend', `compile: gpu.js could not be loaded: ${message(e)}`, { cause: e })
  }
  let gpu: GpuInstance
  try {
    gpu = new GPU({ mode: options.mode })
  } catch (e) {
    throw new CompileError('backend', `compile: GPU.js mode '${options.mode}' is unavailable: ${message(e)}`, { cause: e })
  }
  try {
    const sources: ArgumentSource[] = [
      ...[...stackedShapes.entries()].map(([role, shape]): ArgumentSource => ({ kind: 'stacked', role, perStep: Sh.size(shape) })),
      ...program.leafShapes.map((_, leaf): ArgumentSource => ({ kind: 'param', leaf })),
      ...program.update.slots.flatMap((_, slot) => program.leafShapes.map((__, leaf): ArgumentSource => ({ kind: 'slot', slot, leaf })))
    ]
    const cache = new Map<string, KernelRun>()
    const kernels = plan.kernels.map((spec) => {
      const key = `${spec.output.join('x')}|${spec.source}`
      let k = cache.get(key)
      if (k === undefined) {
        k = gpu.createKernel(spec.source, {
          output: [...spec.output],
          precision: 'single',
          tactic: 'precision',
          loopMaxIterations: 0x7fffffff,
          dynamicOutput: false,
          dynamicArguments: false
        })
        cache.set(key, k)
      }
      return k
    })
    const argumentIndex = (find: (s: ArgumentSource) => boolean): number => sources.findIndex(find)
    const { nodes } = program
    const orchestrate = function (...handles: unknown[]): unknown {
      let params: unknown[] = program.leafShapes.map((_, leaf) => handles[argumentIndex((s) => s.kind === 'param' && s.leaf === leaf)])
      let slots: unknown[][] = program.update.slots.map((_, slot) =>
        program.leafShapes.map((__, leaf) => handles[argumentIndex((s) => s.kind === 'slot' && s.slot === slot && s.leaf === leaf)])
      )
      const losses: unknown[] = []
      for (let step = 0; step < options.steps; step++) {
        const values = new Map<number, unknown>()
        const lookup = (k: number): unknown => {
          const node = nodes[k]!
          if (node.op !== 'input') return values.get(k)
          const role = node.role
          switch (role.kind) {
            case 'param':
              return params[role.leaf]
            case 'slot':
              return slots[role.slot]![role.leaf]
            default:
              return handles[argumentIndex((s) => s.kind === 'stacked' && s.role === role.kind)]
          }
        }
        plan.kernels.forEach((spec, i) => {
          const args = spec.args.map((arg) => {
            switch (arg.tag) {
              case 'buffer':
                return lookup(arg.node)
              case 'array':
                return arg.data
              case 'base': {
                // where this step's slice starts: in elements, or (exact indices) in steps, which the kernel multiplies in i32
                if (arg.unit === 'step') return step
                const source = sources.find((s) => s.kind === 'stacked' && s.role === arg.role) as Extract<ArgumentSource, { kind: 'stacked' }>
                return step * source.perStep
              }
            }
          })
          values.set(spec.node, kernels[i]!(...args))
        })
        const result = (ref: Ref, what: string): unknown => {
          if (ref.tag !== 'node') throw new CompileError('unsupported-model', `compile: ${what} is a constant, not computed by the step`)
          return lookup(plan.bufferOf(ref.index))
        }
        params = program.params.map((r, leaf) => result(r, `parameter leaf ${leaf}`))
        slots = program.slots.map((leaves, slot) => leaves.map((r, leaf) => result(r, `slot ${program.update.slots[slot]} of leaf ${leaf}`)))
        losses.push(result(program.loss, 'the loss'))
      }
      return [...params, ...slots.flat(), ...losses]
    }
    // createPipeline hands the orchestration one handle per declared parameter
    Object.defineProperty(orchestrate, 'length', { value: sources.length })
    const pipeline = gpu.createPipeline(orchestrate, { threads: options.threads })
    const leafSizes = program.leafShapes.map((s) => Math.max(1, Sh.size(s)))
    const slotCount = program.update.slots.length
    return {
      arguments: sources,
      kernels: cache.size,
      launches: plan.kernels.length * options.steps,
      run: async (args) => {
        const out = (await pipeline(...args)) as unknown[]
        const params = leafSizes.map((n, leaf) => flatten(out[leaf], n, `parameter leaf ${leaf}`))
        const slots = Array.from({ length: slotCount }, (_, slot) =>
          leafSizes.map((n, leaf) => flatten(out[leafSizes.length * (1 + slot) + leaf], n, `slot ${slot} of leaf ${leaf}`))
        )
        const losses = Array.from({ length: options.steps }, (_, s) => flatten(out[leafSizes.length * (1 + slotCount) + s], 1, `the loss of step ${s}`)[0]!)
        return { params, slots, losses }
      },
      executorKind: () => pipeline.executorKind as ExecutorKind,
      backend: () => (pipeline.backend === 'gpu' ? glBackend(pipeline.plan, glModes) : pipeline.backend),
      fallbackReason: () => pipeline.fallbackReason,
      destroy: async () => {
        try {
          await pipeline.destroy()
        } finally {
          // destroys every kernel created on it, the plan's clones included
          await gpu.destroy()
        }
      }
    }
  } catch (e) {
    await gpu.destroy()
    throw e instanceof CompileError ? e : new CompileError('backend', `compile: building the GPU.js pipeline failed: ${message(e)}`, { cause: e })
  }
}
