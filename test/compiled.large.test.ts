/**
 * The compiled step past 2²⁴ elements. GL kernels index with float32 arithmetic (GPU.js writes
 * their index variables as GLSL floats), exact below 2²⁴, so on the GL modes `compile` refuses a
 * call whose stacked minibatches reach that, before any kernel exists. On webasm and webgpu the
 * lowering writes every index as an expression GPU.js types as an i32 (`lower`'s `exact`), so a
 * call may stack minibatches up to what one buffer holds there: 2³⁰ elements on webasm (one
 * wasm32 memory), the device's `maxStorageBufferBindingSize` on webgpu.
 *
 * The data make an index error visible: every position of the stack holds a value no
 * neighbour shares (a multiplicative hash of its flat index), so a float32 index past 2²⁴,
 * which rounds an odd index to an even one, reads another value. The first test shows that
 * such reads move the eager interpreter's losses and parameters far outside τ(k, N); the others
 * compare the compiled step with the eager one (float64, `test/support/compiled.ts`) within
 * τ(k, N), widened on webgpu by WGSL's allowance for exp and log. A kernel-level test covers what
 * the model tests do not reach: digits of a flat index past 2²⁴ that straddle the grid's rows
 * (the corrected quotients), exact on webasm and webgpu, wrong in the float32 style GL uses.
 *
 * webgpu runs where `installWebGpu` finds an adapter (here Mesa's lavapipe, with Dawn's node from
 * `bash scripts/install-webgpu.sh`); elsewhere its tests skip and say why, unless
 * LAMINA_GPU_MODES_REQUIRED names webgpu.
 */
import { describe, expect, it, vi } from 'vitest'
import * as GpuJs from 'gpu.js'
import { GPU } from 'gpu.js'
import { Loss, Optim, Random, fromBuffer } from 'lamina-nn'
import { CompileError, compile } from 'lamina-nn/gpu'
import type { CompiledMode } from 'lamina-nn/gpu'
import { lower } from '../src/compiled/codegen.js'
import type { LowerOptions } from '../src/compiled/codegen.js'
import { Builder } from '../src/compiled/graph.js'
import { bounds, build, compileOrThrow, compiled, eager, longest, lossesOutside, outside, transcendentalAllowance } from './support/compiled.js'
import type { EagerRecord, Minibatch, Spec } from './support/compiled.js'
import { itOn, webgpuUnavailable } from './support/modes.js'

const F32_EXACT = 2 ** 24

/** `it` for a webgpu test: skipped with the reason where webgpu does not start (Dawn's adapter, then GPU.js's own probe kernel), failing instead where it is required. */
const itOnWebGpu = itOn('webgpu', await webgpuUnavailable(), 'compiled.large')

/** A value for flat position `i` of a stack that no neighbour shares: an odd multiplicative hash, in [−1, 1). */
const valueAt = (i: number): number => Math.imul(i, 0x9e3779b1) / 2 ** 31

/** `steps` minibatches of `batch` × `input` values, where position i of the whole stack holds `valueAt(read(i))`, and hashed labels of 2 classes. */
const stackOf = (steps: number, batch: number, input: number, read: (i: number) => number): Minibatch[] =>
  Array.from({ length: steps }, (_, s) => {
    const data = new Float32Array(batch * input)
    const start = s * batch * input
    for (let j = 0; j < data.length; j++) data[j] = valueAt(read(start + j))
    const labels = Int32Array.from({ length: batch }, (_, b) => Math.imul(s * batch + b + 1, 0x85ebca6b) >>> 31)
    return { x: fromBuffer(data, [batch, input], { dtype: 'f32' }), labels }
  })

const sgd = Optim.sgd({ lr: 0.1 }) as Optim.Optimizer<{ readonly step: number }>

/** What one call trains: here a dense layer from a wide input to 2 classes (products of k = input terms, little work per element of the stack). */
interface Workload {
  readonly spec: Spec
  readonly batch: number
  readonly steps: number
}

/** The model, its float32 parameters, the stack and the eager float64 reference. */
const prepare = ({ spec, batch, steps }: Workload) => {
  const { model } = build(spec)
  const params = model.init(Random.key(3), 'f32')
  const data = stackOf(steps, batch, spec.input, (i) => i)
  const reference = eager(model, sgd, params, data)
  return { model, params, data, reference, k: longest(spec, batch) }
}

/** Compiles the workload on `mode`, runs it in one call, and returns what leaves the bounds (empty when all agree). */
const compareOn = async (mode: CompiledMode, w: Workload, prepared: ReturnType<typeof prepare>, allowance: (records: readonly EagerRecord[]) => number) => {
  const { model, params, data, reference, k } = prepared
  const step = await compileOrThrow(model, Loss.crossEntropyWithLogits, sgd, { batch: w.batch, steps: w.steps, mode })
  try {
    expect(step.backend).toBe(mode)
    const got = await compiled(step, params, sgd.init(params), data)
    expect(step.backend).toBe(mode)
    expect(got.optimizerState.step).toBe(w.steps)
    const extra = allowance(reference.records)
    return {
      executorKind: step.executorKind,
      losses: lossesOutside(got.losses, reference.records, k, extra),
      params: outside(got.params, reference.params, bounds(k, reference.records, reference.params, undefined, extra))
    }
  } finally {
    await step.dispose()()
  }
}

// 20 steps × 256 examples × 4096 values = 20,971,520 stacked elements: steps 16 to 19 start at or past 2²⁴
const wide: Workload = { spec: { input: 4096, hidden: [], classes: 2, activation: 'relu' }, batch: 256, steps: 20 }
const wideCount = wide.steps * wide.batch * wide.spec.input

describe('compile past 2^24 stacked elements: indices in i32 on webasm and webgpu', () => {
  let prepared: ReturnType<typeof prepare> | undefined
  const wideData = () => (prepared ??= prepare(wide))

  it('the data see index errors: read at fround(i), as a float32 index past 2^24 reads, the stack of 20,971,520 elements gives losses and parameters far outside τ(k, N)', () => {
    expect(wideCount).toBeGreaterThan(F32_EXACT)
    const { model, params, reference, k } = wideData()
    const misread = eager(model, sgd, params, stackOf(wide.steps, wide.batch, wide.spec.input, (i) => Math.min(Math.fround(i), wideCount - 1)))
    const firstPast = Math.ceil(F32_EXACT / (wide.batch * wide.spec.input))
    // before step 16 no index reaches 2^24: the same data, the same losses; from it on, every step's loss moves out of its bound
    expect(misread.records.slice(0, firstPast).map((r) => r.loss)).toEqual(reference.records.slice(0, firstPast).map((r) => r.loss))
    expect(lossesOutside(misread.records.map((r) => r.loss), reference.records, k)).toHaveLength(wide.steps - firstPast)
    expect(outside(misread.params, reference.params, bounds(k, reference.records, reference.params)).length).toBeGreaterThan(0)
  })

  it('webasm: 20 steps × 256 × 4096 (20,971,520 stacked elements, over 2^24) in one fused call give the eager losses and parameters within τ(k, N)', async () => {
    const result = await compareOn('webasm', wide, wideData(), () => 0)
    expect(['fused-threaded', 'fused-sync']).toContain(result.executorKind)
    expect(result.losses).toEqual([])
    expect(result.params).toEqual([])
  })

  itOnWebGpu('webgpu: the same 20 steps in one fused-encoder call give the eager losses and parameters within the WGSL bound', async () => {
    const result = await compareOn('webgpu', wide, wideData(), (records) => transcendentalAllowance(records, 2))
    expect(result.executorKind).toBe('fused-encoder')
    expect(result.losses).toEqual([])
    expect(result.params).toEqual([])
  })

  // one step of 260 × 65,536 = 17,039,360 elements: the products read x past 2^24 within a step (i32 counters, not float32 running positions)
  const tall: Workload = { spec: { input: 65536, hidden: [], classes: 2, activation: 'relu' }, batch: 260, steps: 1 }
  let tallPrepared: ReturnType<typeof prepare> | undefined
  const tallData = () => (tallPrepared ??= prepare(tall))
  it('webasm: one step whose minibatch alone is 260 × 65,536 = 17,039,360 elements (over 2^24) gives the eager loss and parameters within τ(k, N)', async () => {
    expect(tall.batch * tall.spec.input).toBeGreaterThan(F32_EXACT)
    const result = await compareOn('webasm', tall, tallData(), () => 0)
    expect(result.losses).toEqual([])
    expect(result.params).toEqual([])
  })

  itOnWebGpu('webgpu: the same step of 17,039,360 elements gives the eager loss and parameters within the WGSL bound', async () => {
    const result = await compareOn('webgpu', tall, tallData(), (records) => transcendentalAllowance(records, 2))
    expect(result.losses).toEqual([])
    expect(result.params).toEqual([])
  })
})

describe('compile past 2^24 stacked elements on the GL modes: a typed error naming the mode, before any kernel', () => {
  for (const mode of ['headlessgl', 'webgl2', 'webgl', 'gpu'] as const) {
    it(`${mode}: 20 steps × 256 × 4096 is reason input, naming ${mode}, the 20971520 elements and the remedy (at most 15 steps, or webasm/webgpu); no kernel is created`, async () => {
      const createKernel = vi.spyOn(GPU.prototype, 'createKernel')
      try {
        const result = await compile(build(wide.spec).model, Loss.crossEntropyWithLogits, sgd, { batch: wide.batch, steps: wide.steps, mode })()
        expect(result._tag).toBe('Left')
        if (result._tag !== 'Left') return
        expect(result.left).toBeInstanceOf(CompileError)
        expect(result.left.reason).toBe('input')
        expect(result.left.message).toContain(`on '${mode}'`)
        expect(result.left.message).toContain('20971520')
        expect(result.left.message).toContain('2^24')
        expect(result.left.message).toContain('use at most 15 steps per call')
        expect(result.left.message).toContain("'webasm' or 'webgpu'")
        expect(createKernel).not.toHaveBeenCalled()
      } finally {
        createKernel.mockRestore()
      }
    })
  }
})

describe('the buffer limit on webgpu is the device’s', () => {
  itOnWebGpu("GPU.js's webgpu device (the one compile reads and runs on) has the adapter's largest maxStorageBufferBindingSize and maxBufferSize, not WebGPU's defaults", async () => {
    const gpu = (globalThis as unknown as { navigator: { gpu: { requestAdapter(): Promise<{ limits: Record<string, number> } | null> } } }).navigator.gpu
    const adapter = await gpu.requestAdapter()
    expect(adapter).not.toBeNull()
    const context = (GpuJs as unknown as { WebGPUContext: { acquire(): Promise<{ device: { limits: Record<string, number> } }> } }).WebGPUContext
    const { limits } = (await context.acquire()).device
    expect(limits['maxStorageBufferBindingSize']).toBe(adapter!.limits['maxStorageBufferBindingSize'])
    expect(limits['maxBufferSize']).toBe(adapter!.limits['maxBufferSize'])
  })

  itOnWebGpu('a stack over the device’s storage binding is reason input, naming webgpu and the device limit, before any kernel', async () => {
    // the device GPU.js's webgpu mode runs on (one, shared)
    const context = (GpuJs as unknown as { WebGPUContext: { acquire(): Promise<{ device: { limits: { maxStorageBufferBindingSize: number; maxBufferSize: number } } }> } }).WebGPUContext
    const { limits } = (await context.acquire()).device
    const elements = Math.min(2 ** 31 - 1, Math.floor(Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize) / 4))
    const perStep = wide.batch * wide.spec.input
    const steps = Math.floor(elements / perStep) + 1
    const createKernel = vi.spyOn(GPU.prototype, 'createKernel')
    try {
      const result = await compile(build(wide.spec).model, Loss.crossEntropyWithLogits, sgd, { batch: wide.batch, steps, mode: 'webgpu' })()
      expect(result._tag).toBe('Left')
      if (result._tag !== 'Left') return
      expect(result.left.reason).toBe('input')
      expect(result.left.message).toContain("on 'webgpu'")
      expect(result.left.message).toContain(`${steps * perStep} stacked elements`)
      expect(result.left.message).toContain(`maxStorageBufferBindingSize ${limits.maxStorageBufferBindingSize}`)
      expect(result.left.message).toContain(`use at most ${steps - 1} steps per call`)
      expect(createKernel).not.toHaveBeenCalled()
    } finally {
      createKernel.mockRestore()
    }
  })
})

describe('digits of a flat index past 2^24 that straddle the grid (kernel level)', () => {
  // x [a, b] transposed and viewed as [a·b / 44, 44], then negated: the kernel's grid rows of 44 cut across
  // the transposed rows, so each output's source index comes from ⌊f / a⌋ and f mod a of its flat index
  // f < 16,800,036, in i32 from float32 quotients corrected in integers
  const cols = 44
  const cases = [
    // f / 12 reaches 1.4·10⁶ > 2^20: two float32 quotients, then an integer comparison
    { a: 12, b: 1_400_003, how: 'a divisor of 12 (two float32 quotients, then an integer correction)' },
    // f / 1,400,003 < 2^20: one float32 quotient, corrected by ±1 in integers
    { a: 1_400_003, b: 12, how: 'a divisor of 1,400,003 (one float32 quotient, corrected by ±1)' }
  ] as const
  for (const { a, b, how } of cases) {
    const size = a * b
    const program = () => {
      const g = new Builder()
      const x = g.input({ kind: 'param', leaf: 0 }, [a, b])
      const t = g.op('transpose', [x], { perm: [1, 0] }, [b, a])
      const y = g.elementwise('neg', [g.reshape(t, [size / cols, cols])], [size / cols, cols])
      return { nodes: g.nodes, roots: [y] }
    }
    let data: Float32Array | undefined
    /** Where the lowered kernel, run on `mode`, differs from −xᵀ: how many outputs, and the first. */
    const mismatches = async (mode: 'webasm' | 'webgpu', options: LowerOptions) => {
      const x = (data ??= Float32Array.from({ length: size }, (_, i) => valueAt(i)))
      const { nodes, roots } = program()
      const plan = lower(nodes, roots, options)
      expect(plan.kernels).toHaveLength(1)
      const spec = plan.kernels[0]!
      const gpu = new GPU({ mode })
      try {
        const kernel = gpu.createKernel(spec.source, { output: [...spec.output], precision: 'single', tactic: 'precision', dynamicOutput: false, dynamicArguments: false })
        const rows = (await kernel(x)) as unknown as Float32Array[]
        let count = 0
        let first = ''
        rows.forEach((row, r) => {
          for (let c = 0; c < row.length; c++) {
            const f = r * cols + c
            const want = -x[(f % a) * b + Math.floor(f / a)]!
            if (row[c] !== want) {
              if (count === 0) first = `output ${f}: ${row[c]}, expected ${want}`
              count++
            }
          }
        })
        return { count, first }
      } finally {
        await gpu.destroy()
      }
    }
    const shape = `[${a}, ${b}]`

    it(`x ${shape}ᵀ, ${how}, on webasm (float32 division correctly rounded): all 16,800,036 outputs read the right element`, async () => {
      expect(size).toBeGreaterThan(F32_EXACT)
      expect(await mismatches('webasm', { exact: true, exactDivision: true })).toEqual({ count: 0, first: '' })
    })

    it(`x ${shape}ᵀ: the same kernel in the float32 style of the GL modes, run on webasm, reads wrong elements past 2^24`, async () => {
      expect((await mismatches('webasm', { exact: false })).count).toBeGreaterThan(0)
    })

    itOnWebGpu(`x ${shape}ᵀ, ${how}, on webgpu (WGSL division within 2.5 ulp, every quotient corrected): all 16,800,036 outputs read the right element`, async () => {
      expect(await mismatches('webgpu', { exact: true })).toEqual({ count: 0, first: '' })
    })
  }
})
