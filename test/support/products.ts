/**
 * The product checks shared by `test/backend.gpu.test.ts` (webasm and headlessgl, through the
 * synchronous Backend) and `test/backend.webgpu.test.ts` (webgpu, through
 * `createGpuKernelsAsync`, whose products return Promises): seeded operands, the float64
 * reference on the float32-rounded inputs with the magnitudes |A|·|B|, the bound
 * |C − ref| ≤ c·k·ε·(|A|·|B|) elementwise (ε = 2⁻²⁴, c = 2; the files derive it), and the fixed
 * cases both run.
 */
import { expect, it } from 'vitest'
import fc from 'fast-check'
import { cpu } from '../../src/backend/cpu.js'
import type { Shape } from '../../src/shape.js'
import type { Buffer, DType } from '../../src/tensor.js'

export const EPS = 2 ** -24
export const C = 2
/**
 * Absolute floor for float32 underflow: results below the normal range lose relative precision
 * (2⁻¹²⁶ ≈ 1.2e-38, or a flushed subnormal term on WGSL), times a margin for the ≤ 300 terms of a
 * product.
 */
export const TINY = 1024 * 2 ** -126

// ---- inputs and references ----

/** Deterministic values in [lo, hi) from a seed (mulberry32): big operands without drawing every number through fast-check. */
export const fill = <B extends Float64Array | Float32Array = Float64Array>(n: number, seed: number, lo = -4, hi = 4, out: B = new Float64Array(n) as B): B => {
  let s = seed >>> 0
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 2 ** 32)
  }
  return out
}
export const round32 = (x: Buffer): Float64Array => Float64Array.from(Float32Array.from(x))
export const absBuf = (x: Buffer): Float64Array => Float64Array.from(x, Math.abs)
export const asDtype = (x: Float64Array, dtype: DType): Buffer => (dtype === 'f32' ? Float32Array.from(x) : x)

/** 1…300, half of the draws from 1…8 (size 1 and ragged block edges). */
export const dim = fc.oneof(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 8 }))
export const dtypeArb = fc.constantFrom('f32' as const, 'f64' as const)

/** Asserts |got − want| ≤ bound elementwise (NaN where the reference has NaN), naming the first offender. */
export const within = (got: Buffer, want: Buffer, bound: (i: number) => number, what: string): void => {
  expect(got.length, `${what}: length`).toBe(want.length)
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!
    const g = got[i]!
    if (Number.isNaN(w) && Number.isNaN(g)) continue
    if (w === g) continue
    const err = Math.abs(g - w)
    if (!(err <= bound(i) + TINY)) throw new Error(`${what}: element ${i}: got ${g}, want ${w}, error ${err} > bound ${bound(i)}`)
  }
}

// ---- random product cases ----

/** A drawn product: its shape (batch 1 for a matmul), dtype, seed, and a power of two that scales A. */
export interface ProductDraw {
  readonly batch: number
  readonly m: number
  readonly k: number
  readonly n: number
  readonly dtype: DType
  readonly seed: number
  readonly scale: number
}

/** Products of shapes 1…300 (a batch too when `batched`), with at most `work` multiply-adds each. */
export const productCase = (batched: boolean, work: number): fc.Arbitrary<ProductDraw> =>
  fc
    .record({
      batch: batched ? dim : fc.constant(1),
      m: dim,
      k: dim,
      n: dim,
      dtype: dtypeArb,
      seed: fc.integer(),
      // operands of very different magnitudes: the bound is relative to |A|·|B|
      scale: fc.integer({ min: -20, max: 20 })
    })
    .filter((s) => s.batch * s.m * s.k * s.n <= work)

/** A drawn product's operands A (times 2^scale where `scaled`) and B, from its seed. */
export const operands = (s: ProductDraw, scaled: boolean): [Float64Array, Float64Array] => {
  const a = fill(s.batch * s.m * s.k, s.seed)
  return [scaled ? a.map((v) => v * 2 ** s.scale) : a, fill(s.batch * s.k * s.n, s.seed + 1)]
}

// ---- the checks ----

/** The two products, of a Backend (R = Buffer) or of `createGpuKernelsAsync` (R = Promise<Buffer>). */
export interface Products<R> {
  matmul(a: Buffer, aShape: Shape, b: Buffer, bShape: Shape, transposeA: boolean, transposeB: boolean, dtype: DType): R
  batchMatmul(a: Buffer, aShape: Shape, b: Buffer, bShape: Shape, transposeA: boolean, transposeB: boolean, dtype: DType): R
}

/** What a check returns: nothing for synchronous products, a Promise for asynchronous ones. */
export type Checked<R> = R extends Promise<unknown> ? Promise<void> : void

/** `f` applied to `x`, or to what it resolves to: synchronous where `x` is. */
const andThen = <A, B>(x: A | Promise<A>, f: (a: A) => B): B | Promise<B> => (x instanceof Promise ? x.then(f) : f(x))

/** Checks a product of `batch` × (m × k × n) (a matmul where `batch` is undefined) against the float64 reference, within c·k·ε·(|A|·|B|). */
export type CheckProduct<R> = (
  batch: number | undefined,
  m: number,
  k: number,
  n: number,
  tA: boolean,
  tB: boolean,
  a: Float64Array | Float32Array,
  b: Float64Array | Float32Array,
  dtype: DType
) => Checked<R>

/**
 * The product checks for `products`, each launch run through `launched` (which asserts where it
 * ran): `checkProduct`, and registrars for the fixed cases both files run.
 */
export const productChecks = <R extends Buffer | Promise<Buffer>>(products: Products<R>, launched: (launch: () => R) => R) => {
  const checkProduct: CheckProduct<R> = (batch, m, k, n, tA, tB, a, b, dtype) => {
    const aShape = batch === undefined ? (tA ? [k, m] : [m, k]) : tA ? [batch, k, m] : [batch, m, k]
    const bShape = batch === undefined ? (tB ? [n, k] : [k, n]) : tB ? [batch, n, k] : [batch, k, n]
    const ref = (x: Buffer, y: Buffer): Buffer =>
      batch === undefined ? cpu.matmul(x, aShape, y, bShape, tA, tB, 'f64') : cpu.batchMatmul(x, aShape, y, bShape, tA, tB, 'f64')
    const a64 = a instanceof Float64Array ? a : Float64Array.from(a)
    const b64 = b instanceof Float64Array ? b : Float64Array.from(b)
    const run = launched(() =>
      batch === undefined
        ? products.matmul(asDtype(a64, dtype), aShape, asDtype(b64, dtype), bShape, tA, tB, dtype)
        : products.batchMatmul(asDtype(a64, dtype), aShape, asDtype(b64, dtype), bShape, tA, tB, dtype)
    )
    return andThen(run, (got) => {
      expect(got).toBeInstanceOf(dtype === 'f32' ? Float32Array : Float64Array)
      const want = ref(round32(a64), round32(b64))
      const mag = ref(absBuf(round32(a64)), absBuf(round32(b64)))
      const what = `${batch === undefined ? 'matmul' : `batchMatmul ${batch}×`}${m}×${k}×${n} ${tA ? 'T' : 'N'}${tB ? 'T' : 'N'}`
      within(got, want, (i) => C * k * EPS * mag[i]!, what)
    }) as Checked<R>
  }

  /** The fixed shapes: edges, both transpose flags, an outer product (float32), and batches (float64). */
  const fixedProductTests = (): void => {
    it.each([
      [1, 1, 1, false, false],
      [300, 300, 300, false, false],
      [300, 257, 129, false, false],
      [128, 300, 100, false, true], // dY·wᵀ
      [300, 128, 10, true, false], // xᵀ·dY
      [1, 300, 1, true, true],
      [7, 1, 5, false, false], // an outer product
      [5, 3, 1, true, false]
    ])('matmul %i×%i×%i (transposeA %s, transposeB %s)', (m, k, n, tA, tB) => checkProduct(undefined, m, k, n, tA, tB, fill(m * k, m), fill(k * n, n), 'f32'))

    it.each([
      [300, 7, 300, 5, false, false],
      [3, 100, 300, 70, false, true],
      [300, 1, 1, 1, true, true],
      [2, 300, 300, 300, true, false]
    ])('batchMatmul %i×(%i×%i×%i) (transposeA %s, transposeB %s)', (batch, m, k, n, tA, tB) =>
      checkProduct(batch, m, k, n, tA, tB, fill(batch * m * k, 3), fill(batch * k * n, 4), 'f64')
    )
  }

  /** A batched product whose flat indices pass 2²⁴ (float32 indices would read the wrong elements). */
  const indexTest = (): void => {
    it('batchMatmul 300×(300×190×1): indices past 2²⁴, where a float index would be off', () => {
      const [batch, m, k] = [300, 300, 190]
      const a = fill(batch * m * k, 31, -4, 4, new Float32Array(batch * m * k))
      const b = fill(batch * k, 32, -4, 4, new Float32Array(batch * k))
      const run = launched(() => products.batchMatmul(a, [batch, m, k], b, [batch, k, 1], false, false, 'f32'))
      return andThen(run, (got) => {
        // the reference in float64, by the textbook loop (the generic check would copy A three times)
        const want = new Float64Array(batch * m)
        const mag = new Float64Array(batch * m)
        for (let z = 0; z < batch; z++) {
          for (let i = 0; i < m; i++) {
            let sum = 0
            let abs = 0
            for (let p = 0; p < k; p++) {
              const t = a[(z * m + i) * k + p]! * b[z * k + p]!
              sum += t
              abs += Math.abs(t)
            }
            want[z * m + i] = sum
            mag[z * m + i] = abs
          }
        }
        within(got, want, (i) => C * k * EPS * mag[i]!, 'batchMatmul 300×300×190×1')
      })
    })
  }

  return { checkProduct, fixedProductTests, indexTest }
}
