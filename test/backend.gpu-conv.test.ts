/**
 * The GPU.js backend's convolution and pooling kernels (src/backend/gpu-conv.ts), per mode
 * (webasm; headlessgl under `xvfb-run -a`), against the cpu's float64 loops on the
 * float32-rounded inputs, over random geometries: stride, dilation, padding per side (pooling's
 * smaller than its window), ragged sizes. The kernels are launched through their plans on a
 * strict engine of the mode (the backend leaves convolutions to the cpu on webasm, see
 * `runsConvolutions`; the last test checks that routing through the backend).
 *
 * Bounds (ε = 2⁻²⁴, c = 2): a sum of n products is within c·n·ε·Σ|terms| of the reference, and
 * Σ|terms| is the same operation on the absolute values (the cpu's, in float64); a window sum
 * likewise with n its taps; max pooling is exact. Max pooling's subgradient (window sums with
 * the `maxima` weights) runs on inputs drawn from a few integers, so that windows have ties.
 * Every call must have launched a kernel on the mode (the backend is strict).
 */
import { afterAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import type { Backend } from '../src/backend/backend.js'
import { cpu } from '../src/backend/cpu.js'
import { createGpuBackend, GpuError } from '../src/backend/gpu.js'
import type { GpuBackend } from '../src/backend/gpu.js'
import type { ConvGeometry, Pair, Padding, PoolGeometry, WindowWeights } from '../src/backend/conv.js'
import { conv2dShape, pool2dShape } from '../src/backend/conv.js'
import * as GpuConv from '../src/backend/gpu-conv.js'
import { makeEngine, runSync } from '../src/backend/gpu-engine.js'
import type { Engine } from '../src/backend/gpu-engine.js'
import { loadGpuModule } from '../src/backend/gpu-module.js'
import type { Plan } from '../src/backend/gpu-plans.js'
import type { Buffer, DType } from '../src/tensor.js'
import { unavailableTest } from './support/modes.js'
import { C, EPS, absBuf, asDtype, dtypeArb, fill, round32, within } from './support/products.js'

const modes = ['webasm', 'headlessgl'] as const
const handles = new Map<string, GpuBackend>()
const engines = new Map<string, Engine>()
const reasons = new Map<string, string>()
const gpuModule = await loadGpuModule()
for (const mode of modes) {
  const g = await createGpuBackend({ mode, strict: true })
  if (g.mode === 'none') {
    reasons.set(mode, g.fallbackReason ?? 'no reason given')
    continue
  }
  handles.set(mode, g)
  engines.set(mode, makeEngine(new gpuModule.GPU({ mode }), gpuModule, mode, { strict: true, maxKernels: 64, asyncMode: false }))
}
afterAll(() => {
  handles.forEach((g) => g.dispose())
  engines.forEach((e) => e.dispose())
})

type ConvKernels = Pick<Backend, 'conv2d' | 'conv2dInputGrad' | 'conv2dFilterGrad' | 'maxPool2d' | 'avgPool2d' | 'avgPool2dTranspose' | 'maxPool2dGather' | 'maxPool2dSpread'>

/** The kernels of `mode` run on `engine`; a case without a plan (out of the mode's limits) fails. */
const kernelsOn = (mode: string, engine: Engine): ConvKernels => {
  const run = (op: string, plan: Plan<Buffer> | undefined): Buffer => {
    if (plan === undefined) throw new Error(`${op}: no kernel on ${mode} for this case`)
    return runSync(engine, plan)
  }
  return {
    conv2d: (x, xs, w, ws, g, dtype, bias) => run('conv2d', GpuConv.conv2dPlan(mode, x, xs, w, ws, g, dtype, bias)),
    conv2dInputGrad: (ct, cs, w, ws, g, size, dtype) => run('conv2dInputGrad', GpuConv.conv2dInputGradPlan(mode, ct, cs, w, ws, g, size, dtype)),
    conv2dFilterGrad: (x, xs, ct, cs, g, kernel, dtype) => run('conv2dFilterGrad', GpuConv.conv2dFilterGradPlan(mode, x, xs, ct, cs, g, kernel, dtype)),
    maxPool2d: (x, shape, g, dtype) => run('maxPool2d', GpuConv.maxPool2dPlan(mode, x, shape, g, dtype)),
    avgPool2d: (x, shape, g, weights, dtype) => run('avgPool2d', GpuConv.avgPool2dPlan(mode, x, shape, g, weights, dtype)),
    avgPool2dTranspose: (ct, cs, g, weights, size, dtype) => run('avgPool2dTranspose', GpuConv.avgPool2dTransposePlan(mode, ct, cs, g, weights, size, dtype)),
    maxPool2dGather: (t, x, max, shape, g, dtype) => run('maxPool2dGather', GpuConv.maxPool2dGatherPlan(mode, t, x, max, shape, g, dtype)),
    maxPool2dSpread: (ct, x, max, shape, g, dtype) => run('maxPool2dSpread', GpuConv.maxPool2dSpreadPlan(mode, ct, x, max, shape, g, dtype))
  }
}

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1)

/** A convolution: input `[B, C, H, W]`, filter `[O, C, kh, kw]` and a geometry that fits. */
const convCase = fc
  .record({
    b: fc.integer({ min: 1, max: 3 }),
    c: fc.integer({ min: 1, max: 4 }),
    o: fc.integer({ min: 1, max: 4 }),
    h: fc.integer({ min: 1, max: 12 }),
    w: fc.integer({ min: 1, max: 12 }),
    kh: fc.integer({ min: 1, max: 4 }),
    kw: fc.integer({ min: 1, max: 4 }),
    stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    dilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
    padding: fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2), fc.nat(2)),
    bias: fc.boolean(),
    dtype: dtypeArb,
    seed: fc.integer()
  })
  .filter(({ h, w, kh, kw, dilation, padding }) => h + padding[0] + padding[1] >= dilation[0] * (kh - 1) + 1 && w + padding[2] + padding[3] >= dilation[1] * (kw - 1) + 1)

/** A pooling: input `[B, C, H, W]`, a window with padding smaller than it on every side, and a kind of weights. */
const poolCase = fc
  .record({
    b: fc.integer({ min: 1, max: 3 }),
    c: fc.integer({ min: 1, max: 3 }),
    h: fc.integer({ min: 1, max: 12 }),
    w: fc.integer({ min: 1, max: 12 }),
    kh: fc.integer({ min: 1, max: 4 }),
    kw: fc.integer({ min: 1, max: 4 }),
    stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    padding: fc.tuple(fc.nat(3), fc.nat(3), fc.nat(3), fc.nat(3)),
    weights: fc.constantFrom('uniform' as const, 'given' as const, 'maxima' as const),
    dtype: dtypeArb,
    seed: fc.integer()
  })
  .map((p) => ({ ...p, padding: [p.padding[0] % p.kh, p.padding[1] % p.kh, p.padding[2] % p.kw, p.padding[3] % p.kw] as Padding }))
  .filter(({ h, w, kh, kw, padding }) => h + padding[0] + padding[1] >= kh && w + padding[2] + padding[3] >= kw)

for (const mode of modes) {
  const g = handles.get(mode)
  const engine = engines.get(mode)
  if (g === undefined || engine === undefined) {
    describe(`gpu convolution and pooling on ${mode}`, () => unavailableTest({ mode, reason: reasons.get(mode) ?? 'unknown', log: 'backend.gpu-conv', verb: 'initialise', error: GpuError }))
    continue
  }
  const b = kernelsOn(mode, engine)
  /** Runs `f`, which must launch a kernel (on `mode`: the engine is strict). */
  const launched = <A>(f: () => A): A => {
    const before = engine.stats().launches
    const out = f()
    expect(engine.stats().launches, 'no kernel was launched').toBeGreaterThan(before)
    return out
  }
  const check = (got: Buffer, dtype: DType, want: Buffer, magnitude: Buffer, terms: number, what: string): void => {
    expect(got).toBeInstanceOf(dtype === 'f32' ? Float32Array : Float64Array)
    within(got, want, (i) => C * (terms + 1) * EPS * magnitude[i]!, what)
  }

  describe(`gpu convolution and pooling on ${mode}`, () => {
    it('conv2d, its input gradient and its filter gradient agree with the cpu reference', () => {
      fc.assert(
        fc.property(convCase, (p) => {
          const geometry: ConvGeometry = { stride: p.stride, dilation: p.dilation, padding: p.padding }
          const xShape = [p.b, p.c, p.h, p.w]
          const wShape = [p.o, p.c, p.kh, p.kw]
          const yShape = conv2dShape(xShape, wShape, geometry)
          const x = fill(size(xShape), p.seed)
          const w = fill(size(wShape), p.seed + 1)
          const bias = p.bias ? fill(p.o, p.seed + 2) : undefined
          const ct = fill(size(yShape), p.seed + 3)
          const what = `${JSON.stringify(p)}`
          const [x32, w32, ct32] = [round32(x), round32(w), round32(ct)]
          const b32 = bias === undefined ? undefined : round32(bias)

          const y = launched(() => b.conv2d(asDtype(x, p.dtype), xShape, asDtype(w, p.dtype), wShape, geometry, p.dtype, bias === undefined ? undefined : asDtype(bias, p.dtype)))
          const yMagnitude = cpu.conv2d(absBuf(x32), xShape, absBuf(w32), wShape, geometry, 'f64', b32 === undefined ? undefined : absBuf(b32))
          check(y, p.dtype, cpu.conv2d(x32, xShape, w32, wShape, geometry, 'f64', b32), yMagnitude, p.c * p.kh * p.kw + 1, `conv2d ${what}`)

          const inputSize: Pair = [p.h, p.w]
          const dx = launched(() => b.conv2dInputGrad(asDtype(ct, p.dtype), yShape, asDtype(w, p.dtype), wShape, geometry, inputSize, p.dtype))
          const dxMagnitude = cpu.conv2dInputGrad(absBuf(ct32), yShape, absBuf(w32), wShape, geometry, inputSize, 'f64')
          check(dx, p.dtype, cpu.conv2dInputGrad(ct32, yShape, w32, wShape, geometry, inputSize, 'f64'), dxMagnitude, p.o * p.kh * p.kw, `conv2dInputGrad ${what}`)

          const kernel: Pair = [p.kh, p.kw]
          const dw = launched(() => b.conv2dFilterGrad(asDtype(x, p.dtype), xShape, asDtype(ct, p.dtype), yShape, geometry, kernel, p.dtype))
          const dwMagnitude = cpu.conv2dFilterGrad(absBuf(x32), xShape, absBuf(ct32), yShape, geometry, kernel, 'f64')
          check(dw, p.dtype, cpu.conv2dFilterGrad(x32, xShape, ct32, yShape, geometry, kernel, 'f64'), dwMagnitude, p.b * size(yShape.slice(2)), `conv2dFilterGrad ${what}`)
        }),
        { numRuns: 25 }
      )
    })

    it('max pooling, window sums (average, given weights), the derivatives of max pooling and their transposes agree with the cpu reference', () => {
      fc.assert(
        fc.property(poolCase, (p) => {
          const geometry: PoolGeometry = { kernel: [p.kh, p.kw], stride: p.stride, padding: p.padding }
          const shape = [p.b, p.c, p.h, p.w]
          const out = pool2dShape(shape, geometry)
          const taps = p.kh * p.kw
          // a few integer levels: windows with ties for the subgradient, a NaN-free maximum
          const input = Float64Array.from(fill(size(shape), p.seed, 0, 4), Math.floor)
          const x = round32(fill(size(shape), p.seed + 1))
          const ct = round32(fill(size(out), p.seed + 2))
          const what = `${JSON.stringify(p)}`

          const max = launched(() => b.maxPool2d(asDtype(input, p.dtype), shape, geometry, p.dtype))
          within(max, cpu.maxPool2d(input, shape, geometry, 'f64'), () => 0, `maxPool2d ${what}`)

          const inputSize: Pair = [p.h, p.w]
          if (p.weights === 'maxima') {
            // max pooling's derivatives: weights 1/ties ≥ 0, so the magnitude is the same kernel on |t|
            const maxima = Float64Array.from(cpu.maxPool2d(input, shape, geometry, 'f64'))
            const [inRun, maxRun] = [asDtype(input, p.dtype), asDtype(maxima, p.dtype)]
            const y = launched(() => b.maxPool2dGather(asDtype(x, p.dtype), inRun, maxRun, shape, geometry, p.dtype))
            check(y, p.dtype, cpu.maxPool2dGather(x, input, maxima, shape, geometry, 'f64'), cpu.maxPool2dGather(absBuf(x), input, maxima, shape, geometry, 'f64'), taps + 1, `maxPool2dGather ${what}`)
            const dx = launched(() => b.maxPool2dSpread(asDtype(ct, p.dtype), inRun, maxRun, shape, geometry, p.dtype))
            const dxMagnitude = cpu.maxPool2dSpread(absBuf(ct), input, maxima, shape, geometry, 'f64')
            check(dx, p.dtype, cpu.maxPool2dSpread(ct, input, maxima, shape, geometry, 'f64'), dxMagnitude, 2 * taps + 1, `maxPool2dSpread ${what}`)
            return
          }
          const weightsOf = (dtype: DType): { run: WindowWeights | undefined; reference: WindowWeights | undefined; magnitude: WindowWeights | undefined } => {
            if (p.weights === 'uniform') return { run: undefined, reference: undefined, magnitude: undefined }
            const values = round32(fill(size(out) * taps, p.seed + 3))
            return { run: { kind: 'given', values: asDtype(values, dtype) }, reference: { kind: 'given', values }, magnitude: { kind: 'given', values: absBuf(values) } }
          }
          const weights = weightsOf(p.dtype)

          const y = launched(() => b.avgPool2d(asDtype(x, p.dtype), shape, geometry, weights.run, p.dtype))
          const yMagnitude = cpu.avgPool2d(absBuf(x), shape, geometry, weights.magnitude, 'f64')
          check(y, p.dtype, cpu.avgPool2d(x, shape, geometry, weights.reference, 'f64'), yMagnitude, taps + 1, `avgPool2d ${what}`)

          const dx = launched(() => b.avgPool2dTranspose(asDtype(ct, p.dtype), out, geometry, weights.run, inputSize, p.dtype))
          const dxMagnitude = cpu.avgPool2dTranspose(absBuf(ct), out, geometry, weights.magnitude, inputSize, 'f64')
          // a tap lies in at most ⌈kh/sh⌉·⌈kw/sw⌉ ≤ taps windows, each term carrying a division or a multiplication
          check(dx, p.dtype, cpu.avgPool2dTranspose(ct, out, geometry, weights.reference, inputSize, 'f64'), dxMagnitude, 2 * taps + 1, `avgPool2dTranspose ${what}`)
        }),
        { numRuns: 40 }
      )
    })

    it('a NaN in a window is its maximum, and its subgradient spreads NaN over the window (as the cpu)', () => {
      const shape = [1, 1, 2, 4]
      const geometry: PoolGeometry = { kernel: [2, 2], stride: [2, 2], padding: [0, 0, 0, 0] }
      const input = Float32Array.of(1, NaN, 3, 4, 5, 6, 7, 4)
      const max = launched(() => b.maxPool2d(input, shape, geometry, 'f32'))
      if (mode === 'webasm') {
        // GLSL leaves NaN's comparisons undefined: only webasm is held to it
        expect(Array.from(max)).toEqual(Array.from(cpu.maxPool2d(input, shape, geometry, 'f32')))
        const dx = b.maxPool2dSpread(Float32Array.of(1, 2), input, max, shape, geometry, 'f32')
        expect(Array.from(dx)).toEqual(Array.from(cpu.maxPool2dSpread(Float32Array.of(1, 2), input, max, shape, geometry, 'f32')))
      } else {
        expect(max[1]).toBe(7)
      }
    })

    it(`the backend ${GpuConv.runsConvolutions(mode) ? 'runs these kernels' : "leaves convolutions and pooling to the cpu's (faster on the same cores)"}`, () => {
      const xShape = [2, 3, 9, 7]
      const wShape = [4, 3, 3, 2]
      const geometry: ConvGeometry = { stride: [2, 1], dilation: [1, 2], padding: [1, 0, 2, 1] }
      const x = Float32Array.from(fill(2 * 3 * 9 * 7, 11))
      const w = Float32Array.from(fill(4 * 3 * 3 * 2, 12))
      const before = g.stats().launches
      const y = g.backend.conv2d(x, xShape, w, wShape, geometry, 'f32')
      const pool: PoolGeometry = { kernel: [3, 2], stride: [2, 2], padding: [1, 0, 1, 1] }
      const m = g.backend.maxPool2d(x, xShape, pool, 'f32')
      if (GpuConv.runsConvolutions(mode)) {
        expect(g.stats().launches).toBe(before + 2)
        expect(Array.from(y)).toEqual(Array.from(b.conv2d(x, xShape, w, wShape, geometry, 'f32')))
        expect(Array.from(m)).toEqual(Array.from(b.maxPool2d(x, xShape, pool, 'f32')))
      } else {
        expect(g.stats().launches).toBe(before)
        expect(Array.from(y)).toEqual(Array.from(cpu.conv2d(x, xShape, w, wShape, geometry, 'f32')))
        expect(Array.from(m)).toEqual(Array.from(cpu.maxPool2d(x, xShape, pool, 'f32')))
      }
    })

    it('shape errors are the cpu reference’s, naming the shapes', () => {
      const geometry: ConvGeometry = { stride: [1, 1], dilation: [1, 1], padding: [0, 0, 0, 0] }
      expect(() => b.conv2d(new Float32Array(2 * 3 * 3), [1, 2, 3, 3], new Float32Array(3 * 4), [1, 3, 2, 2], geometry, 'f32')).toThrow(/2 channels.*expects 3/)
      // a plan leaves a wrong cotangent to the cpu's, which names it
      expect(() => g.backend.conv2dInputGrad(new Float32Array(5), [1, 1, 5, 1], new Float32Array(4), [1, 1, 2, 2], geometry, [3, 3], 'f32')).toThrow(/cotangent has shape \[1,1,5,1\]/)
    })
  })
}

describe('where the kernels would not be exact or complete, a plan is undefined (the backend runs the cpu’s)', () => {
  const geometry: ConvGeometry = { stride: [1, 1], dilation: [1, 1], padding: [0, 0, 0, 0] }
  it('a filter gradient summing more terms per thread than llvmpipe’s loop limit: no plan on the GL modes, one on webasm', () => {
    // B·(1 + Ho·(1 + Wo)) = 2·(1 + 200·201) = 80,402 trips > 60,000
    const xShape = [2, 1, 200, 200]
    const ctShape = [2, 1, 200, 200]
    const x = new Float32Array(2 * 200 * 200)
    for (const mode of ['headlessgl', 'webgl2', 'webgl']) expect(GpuConv.conv2dFilterGradPlan(mode, x, xShape, x, ctShape, geometry, [1, 1], 'f32'), mode).toBeUndefined()
    expect(GpuConv.conv2dFilterGradPlan('webasm', x, xShape, x, ctShape, geometry, [1, 1], 'f32')).toBeDefined()
    // 2·(1 + 100·101) = 20,202 trips fit
    const half = new Float32Array(2 * 100 * 100)
    expect(GpuConv.conv2dFilterGradPlan('headlessgl', half, [2, 1, 100, 100], half, [2, 1, 100, 100], geometry, [1, 1], 'f32')).toBeDefined()
  })
  it('a buffer of 2²⁴ elements: no plan on the GL modes (float indices), one on webasm (integer indices)', () => {
    const shape = [1, 1, 4096, 4096]
    const x = new Float32Array(2 ** 24)
    const pool: PoolGeometry = { kernel: [2, 2], stride: [2, 2], padding: [0, 0, 0, 0] }
    expect(GpuConv.maxPool2dPlan('headlessgl', x, shape, pool, 'f32')).toBeUndefined()
    expect(GpuConv.maxPool2dPlan('webasm', x, shape, pool, 'f32')).toBeDefined()
    expect(GpuConv.maxPool2dPlan('headlessgl', x.subarray(0, 2 ** 24 - 4096 * 2), [1, 1, 4094, 4096], pool, 'f32')).toBeDefined()
  })
})
