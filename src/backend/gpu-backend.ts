/**
 * The eager GPU.js backend as a {@link Backend}: each method plans its launches
 * (`gpu-plans.ts`) and runs them on the engine (`gpu-engine.ts`), or delegates to the cpu
 * reference where there is no kernel (see `gpu.ts` for which).
 *
 * @module
 */
import type { Backend, BinaryOp, UnaryOp } from './backend.js'
import { cpu } from './cpu.js'
import {
  avgPool2dPlan,
  avgPool2dTransposePlan,
  conv2dFilterGradPlan,
  conv2dInputGradPlan,
  conv2dPlan,
  maxPool2dGatherPlan,
  maxPool2dPlan,
  maxPool2dSpreadPlan,
  runsConvolutions
} from './gpu-conv.js'
import { GpuError } from './gpu-error.js'
import { runSync } from './gpu-engine.js'
import type { Engine } from './gpu-engine.js'
import { broadcastRuns, finished, fresh, productPlan, reducePlan, toF32 } from './gpu-plans.js'
import type { Plan } from './gpu-plans.js'
import { elementwiseSource, times } from './gpu-sources.js'
import type { ElementwiseOp, ParamsOf } from './kernel-expressions.js'
import type { Buffer, DType } from '../tensor.js'
import * as Sh from '../shape.js'

/** One kernel over equally long float32 arguments: `op`'s expression from the kernel-expression table at every element. */
const elementwisePlan = <O extends ElementwiseOp>(op: O, args: readonly Buffer[], params: ParamsOf<O>, dtype: DType): Plan<Buffer> => {
  const n = args[0]!.length
  const names = ['a', 'b', 'c'].slice(0, args.length)
  return {
    launch: { name: op, source: elementwiseSource(op, names, params), output: [n], args: args.map(toF32), length: n, finish: (d) => finished(fresh(d, dtype)) }
  }
}

/** The backend whose kernels `engine` runs. */
export const makeBackend = (engine: Engine): Backend => {
  const mode = (): string => engine.expectedMode() ?? 'unknown'
  /** A convolution or pooling: its kernel where the mode runs them and the plan exists, else the cpu's. */
  const orCpu = (plan: () => Plan<Buffer> | undefined, onCpu: () => Buffer): Buffer => {
    const p = runsConvolutions(mode()) ? plan() : undefined
    return p === undefined ? onCpu() : runSync(engine, p)
  }
  const binary = (op: BinaryOp, a: Buffer, b: Buffer, dtype: DType): Buffer => {
    const n = a.length
    if (b.length !== n) throw new GpuError(`gpu: ${op} expects equally long buffers, got ${n} and ${b.length}`)
    if (n === 0) return cpu.binary(op, a, b, dtype)
    return runSync(engine, elementwisePlan(op, [a, b], {}, dtype))
  }
  return {
    name: 'gpu',
    map: (x, f, dtype) => cpu.map(x, f, dtype),
    zip: (a, b, f, dtype) => cpu.zip(a, b, f, dtype),
    broadcastTo: (x, from, to, dtype) => {
      const runs = broadcastRuns(from, to)
      if (Sh.size(to) === 0 || runs.length > 3 || runs.every((r) => r.kept)) return cpu.broadcastTo(x, from, to, dtype)
      // thread coordinate of run i (innermost: x, then y, z); a kept run advances the source by its stride
      const axes = ['this.thread.x', 'this.thread.y', 'this.thread.z']
      const terms: string[] = []
      let stride = 1
      runs
        .slice()
        .reverse()
        .forEach((run, i) => {
          if (!run.kept) return
          terms.push(times(axes[i]!, stride))
          stride *= run.size
        })
      const total = Sh.size(to)
      return runSync(engine, {
        launch: {
          name: 'broadcastTo',
          source: `function (x) {\n  return x[${terms.length > 0 ? terms.join(' + ') : '0'}];\n}`,
          output: runs.map((r) => r.size).reverse(),
          args: [toF32(x)],
          length: total,
          finish: (d) => finished(fresh(d.subarray(0, total), dtype))
        }
      })
    },
    transpose: (x, shape, perm, dtype) => cpu.transpose(x, shape, perm, dtype),
    slice: (x, shape, starts, sizes, dtype) => cpu.slice(x, shape, starts, sizes, dtype),
    concat: (xs, shapes, axis, dtype) => cpu.concat(xs, shapes, axis, dtype),
    compare: (relation, a, b, dtype) => cpu.compare(relation, a, b, dtype),
    pad: (x, shape, starts, outShape, value, dtype) => cpu.pad(x, shape, starts, outShape, value, dtype),
    select: (mask, a, b, dtype) => cpu.select(mask, a, b, dtype),
    // direct-loop kernels (gpu-conv.ts) on the modes that run them; the cpu's where a plan is undefined (see there)
    conv2d: (x, xShape, w, wShape, geometry, dtype, bias) =>
      orCpu(() => conv2dPlan(mode(), x, xShape, w, wShape, geometry, dtype, bias), () => cpu.conv2d(x, xShape, w, wShape, geometry, dtype, bias)),
    conv2dInputGrad: (ct, ctShape, w, wShape, geometry, inputSize, dtype) =>
      orCpu(() => conv2dInputGradPlan(mode(), ct, ctShape, w, wShape, geometry, inputSize, dtype), () => cpu.conv2dInputGrad(ct, ctShape, w, wShape, geometry, inputSize, dtype)),
    conv2dFilterGrad: (x, xShape, ct, ctShape, geometry, kernel, dtype) =>
      orCpu(() => conv2dFilterGradPlan(mode(), x, xShape, ct, ctShape, geometry, kernel, dtype), () => cpu.conv2dFilterGrad(x, xShape, ct, ctShape, geometry, kernel, dtype)),
    maxPool2d: (x, shape, geometry, dtype) => orCpu(() => maxPool2dPlan(mode(), x, shape, geometry, dtype), () => cpu.maxPool2d(x, shape, geometry, dtype)),
    avgPool2d: (x, shape, geometry, weights, dtype) =>
      orCpu(() => avgPool2dPlan(mode(), x, shape, geometry, weights, dtype), () => cpu.avgPool2d(x, shape, geometry, weights, dtype)),
    avgPool2dTranspose: (ct, ctShape, geometry, weights, inputSize, dtype) =>
      orCpu(() => avgPool2dTransposePlan(mode(), ct, ctShape, geometry, weights, inputSize, dtype), () => cpu.avgPool2dTranspose(ct, ctShape, geometry, weights, inputSize, dtype)),
    maxPool2dGather: (t, x, max, shape, geometry, dtype) =>
      orCpu(() => maxPool2dGatherPlan(mode(), t, x, max, shape, geometry, dtype), () => cpu.maxPool2dGather(t, x, max, shape, geometry, dtype)),
    maxPool2dSpread: (ct, x, max, shape, geometry, dtype) =>
      orCpu(() => maxPool2dSpreadPlan(mode(), ct, x, max, shape, geometry, dtype), () => cpu.maxPool2dSpread(ct, x, max, shape, geometry, dtype)),
    // the parameters and their moments live on the host between eager steps, so the fused update runs there
    // (one pass per parameter); the compiled interpreter (`compile`) fuses the updates into its device kernels
    sgdUpdate: cpu.sgdUpdate,
    adamUpdate: cpu.adamUpdate,
    binary,
    unary: (op: UnaryOp, x: Buffer, dtype: DType, param = 0) => {
      // a non-finite exponent has no float32 literal: the cpu's Math.pow
      if (x.length === 0 || (op === 'pow' && !Number.isFinite(Math.fround(param)))) return cpu.unary(op, x, dtype, param)
      return runSync(engine, elementwisePlan(op, [x], { exponent: param }, dtype))
    },
    reduce: (x, shape, axes, kind, dtype) => (Sh.size(shape) === 0 ? cpu.reduce(x, shape, axes, kind, dtype) : runSync(engine, reducePlan(mode(), x, shape, axes, kind, dtype))),
    logSumExp: (x, shape, axes, dtype) => {
      if (Sh.size(shape) === 0 || axes.some((a) => shape[a] === 0)) {
        // the cpu reference's definition, for the empty cases (log Σ over nothing is −∞)
        const m = cpu.reduce(x, shape, axes, 'max', 'f64')
        const s = cpu.reduce(cpu.unary('exp', x, 'f64'), shape, axes, 'sum', 'f64')
        return cpu.zip(s, m, (si, mi) => Math.log(si) + (Number.isFinite(mi) ? mi : 0), dtype)
      }
      return runSync(engine, reducePlan(mode(), x, shape, axes, 'logsumexp', dtype))
    },
    matmul: (a, aShape, b, bShape, transposeA, transposeB, dtype) =>
      runSync(engine, productPlan(mode(), a, aShape, b, bShape, transposeA, transposeB, dtype, false)),
    batchMatmul: (a, aShape, b, bShape, transposeA, transposeB, dtype) =>
      runSync(engine, productPlan(mode(), a, aShape, b, bShape, transposeA, transposeB, dtype, true))
  }
}
