/**
 * The WebAssembly SIMD float32 matrix product (src/backend/wasm/matmul-f32.wat), on its own and
 * as the cpu backend's f32 `matmul` / `batchMatmul`.
 *
 * The reference is a plain triple loop in float64 over the same float32 inputs, so every
 * product term is exact there and the bound measures only the kernel's float32 arithmetic:
 * each output element goes through at most k + 1 roundings of relative size 2⁻²⁴ (one per
 * product, one per addition), hence |C − ref| ≤ c·k·ε₃₂·(|A|·|B|) elementwise with
 * ε₃₂ = 2⁻²³ and c = 2 for the reference's own float64 rounding and the margin. The inputs
 * (zeros and magnitudes 2⁻⁶ … 2⁶) never underflow or overflow float32, so the bound needs no
 * absolute floor, and an element whose |A|·|B| is zero must come out exactly zero.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import fc from 'fast-check'
import { cpu } from '../src/backend/cpu.js'
import { RETAINED_BYTES, matmulF32, matmulF32Binary, wasmMatmulAvailable } from '../src/backend/wasm/matmul-f32.js'
import { assemble, generatedModule, kernels, wasmDir } from '../scripts/build-wasm.js'

const EPS32 = 2 ** -23
const C = 2

/** Deterministic float32 test data from a seed: one in eight exact zeros, else ±(1…2)·2^(−6…6). */
const data = (seed: number, length: number): Float32Array => {
  let s = seed >>> 0 || 1
  const next = (): number => {
    // xorshift32
    s ^= s << 13
    s >>>= 0
    s ^= s >>> 17
    s ^= s << 5
    s >>>= 0
    return s / 2 ** 32
  }
  const out = new Float32Array(length)
  for (let i = 0; i < length; i++) {
    const u = next()
    if (u < 1 / 8) continue
    const sign = next() < 0.5 ? -1 : 1
    out[i] = sign * (1 + next()) * 2 ** Math.floor(next() * 13 - 6)
  }
  return out
}

interface Product {
  readonly batch: number
  readonly m: number
  readonly k: number
  readonly n: number
  readonly transA: boolean
  readonly transB: boolean
}

/** op(A)·op(B) and |op(A)|·|op(B)| in float64, by the textbook loops (IEEE throughout: no skipped zeros). */
const reference = (p: Product, a: Float32Array, b: Float32Array): { value: Float64Array; magnitude: Float64Array } => {
  const { batch, m, k, n, transA, transB } = p
  const value = new Float64Array(batch * m * n)
  const magnitude = new Float64Array(batch * m * n)
  for (let t = 0; t < batch; t++) {
    const ao = t * m * k
    const bo = t * k * n
    const co = t * m * n
    for (let i = 0; i < m; i++) {
      for (let q = 0; q < k; q++) {
        const x = a[ao + (transA ? q * m + i : i * k + q)]!
        for (let j = 0; j < n; j++) {
          const y = b[bo + (transB ? j * k + q : q * n + j)]!
          value[co + i * n + j]! += x * y
          magnitude[co + i * n + j]! += Math.abs(x * y)
        }
      }
    }
  }
  return { value, magnitude }
}

const describeProduct = ({ batch, m, k, n, transA, transB }: Product): string =>
  `${batch}×[${m}×${k}]·[${k}×${n}] ${transA ? 'T' : 'N'}${transB ? 'T' : 'N'}`

/** The first element outside the float32 bound, described, or undefined when all are inside. */
const firstViolation = (p: Product, got: Float32Array | Float64Array, a: Float32Array, b: Float32Array): string | undefined => {
  const { value, magnitude } = reference(p, a, b)
  if (got.length !== value.length) return `${describeProduct(p)}: ${got.length} elements, want ${value.length}`
  for (let i = 0; i < value.length; i++) {
    const want = value[i]!
    const g = got[i]!
    const bound = C * p.k * EPS32 * magnitude[i]!
    if (Number.isNaN(want) ? !Number.isNaN(g) : !(Math.abs(g - want) <= bound) && g !== want) {
      return `${describeProduct(p)}: element ${i}: got ${g}, want ${want} ± ${bound}`
    }
  }
  return undefined
}

const inputs = (p: Product, seed: number): [Float32Array, Float32Array] => [
  data(seed, p.batch * p.m * p.k),
  data(seed + 0x9e3779b9, p.batch * p.k * p.n)
]

const shapes = (p: Product): [number[], number[]] => {
  const { batch, m, k, n, transA, transB } = p
  const aShape = transA ? [k, m] : [m, k]
  const bShape = transB ? [n, k] : [k, n]
  return batch === 1 ? [aShape, bShape] : [[batch, ...aShape], [batch, ...bShape]]
}

/** The product through the cpu backend, as a caller sees it. */
const viaBackend = (p: Product, a: Float32Array, b: Float32Array, batched: boolean): Float32Array | Float64Array => {
  const [aShape, bShape] = batched && p.batch === 1 ? shapes(p).map((s) => [1, ...s]) as [number[], number[]] : shapes(p)
  return batched || p.batch > 1
    ? cpu.batchMatmul(a, aShape, b, bShape, p.transA, p.transB, 'f32')
    : cpu.matmul(a, aShape, b, bShape, p.transA, p.transB, 'f32')
}

const dim = (max: number): fc.Arbitrary<number> => fc.integer({ min: 1, max })

describe('the WebAssembly float32 matrix product', () => {
  it('assembles in this engine (Node 20 has WebAssembly SIMD), so the cpu backend uses it', () => {
    expect(wasmMatmulAvailable()).toBe(true)
    const p: Product = { batch: 1, m: 37, k: 300, n: 21, transA: false, transB: false }
    const [a, b] = inputs(p, 7)
    // the JavaScript loop accumulates in float64 and rounds once, so bitwise equality with the
    // kernel's float32 sums shows which one ran
    const kernel = matmulF32(a, b, 1, p.m, p.k, p.n, false, false)
    expect(kernel).toBeInstanceOf(Float32Array)
    expect(viaBackend(p, a, b, false)).toEqual(kernel)
  })

  it('the committed generated module holds exactly the bytes the .wat source assembles to, under 4 KB', async () => {
    for (const { source, generated } of kernels) {
      const bytes = await assemble(source, readFileSync(join(wasmDir, source), 'utf8'))
      expect(readFileSync(join(wasmDir, generated), 'utf8'), `${generated} is stale: run npm run build:wasm`).toBe(generatedModule(source, bytes))
      // browsers compile synchronously on the main thread only below 4 KB (Chrome's limit)
      expect(bytes.length, source).toBeLessThan(4096)
    }
    const fresh = await assemble('matmul-f32.wat', readFileSync(join(wasmDir, 'matmul-f32.wat'), 'utf8'))
    expect(Buffer.from(matmulF32Binary()).equals(Buffer.from(fresh))).toBe(true)
    // browsers compile synchronously on the main thread only below 4 KB (Chrome's limit)
    expect(fresh.length).toBeLessThan(4096)
  })

  it('matmul: random shapes (1…300 each) and transpose flags, within c·k·ε₃₂·(|A|·|B|) of the float64 reference', () => {
    const arb = fc.record({
      m: dim(300),
      k: dim(300),
      n: dim(300),
      transA: fc.boolean(),
      transB: fc.boolean(),
      seed: fc.integer({ min: 1, max: 2 ** 31 })
    })
    fc.assert(
      fc.property(arb, ({ seed, ...shape }) => {
        const p: Product = { batch: 1, ...shape }
        const [a, b] = inputs(p, seed)
        const got = viaBackend(p, a, b, false)
        expect(got).toBeInstanceOf(Float32Array)
        expect(firstViolation(p, got, a, b)).toBeUndefined()
      }),
      { numRuns: 40 }
    )
  })

  it('batchMatmul: random batches (1…8), shapes (1…300) and transpose flags, within the same bound', () => {
    const arb = fc.record({
      batch: dim(8),
      m: dim(300),
      k: dim(300),
      n: dim(300),
      transA: fc.boolean(),
      transB: fc.boolean(),
      seed: fc.integer({ min: 1, max: 2 ** 31 })
    })
    fc.assert(
      fc.property(arb, ({ seed, ...p }) => {
        const [a, b] = inputs(p, seed)
        const got = viaBackend(p, a, b, true)
        expect(got).toBeInstanceOf(Float32Array)
        expect(firstViolation(p, got, a, b)).toBeUndefined()
      }),
      { numRuns: 12 }
    )
  })

  it('shapes around the tile (4×8), cache-block (128 rows, 256 steps) and in-place-B (16 rows) edges', () => {
    const flags = [
      [false, false],
      [true, false],
      [false, true],
      [true, true]
    ] as const
    const cases: Product[] = []
    for (const m of [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 127, 128, 129])
      for (const n of [1, 2, 7, 8, 9, 15, 16, 17])
        for (const k of [1, 2, 3, 4, 5, 255, 256, 257])
          for (const [transA, transB] of flags) cases.push({ batch: 1, m, k, n, transA, transB })
    for (const m of [1, 16, 17, 130])
      for (const n of [127, 128, 129, 257])
        for (const [transA, transB] of flags) cases.push({ batch: 1, m, k: 513, n, transA, transB })
    for (const [transA, transB] of flags) cases.push({ batch: 3, m: 5, k: 257, n: 9, transA, transB })
    cases.forEach((p, i) => {
      const [a, b] = inputs(p, i + 1)
      expect(firstViolation(p, viaBackend(p, a, b, p.batch > 1), a, b)).toBeUndefined()
    })
  })

  it('non-finite inputs propagate like IEEE: NaN or ±∞ in A reaches its row of C, in B its column', () => {
    for (const [transA, transB] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true]
    ] as const) {
      const p: Product = { batch: 1, m: 13, k: 70, n: 19, transA, transB }
      const [a, b] = inputs(p, 3)
      // op(A)(i, q) and op(B)(q, j) positions in storage
      const atA = (i: number, q: number): number => (transA ? q * p.m + i : i * p.k + q)
      const atB = (q: number, j: number): number => (transB ? j * p.k + q : q * p.n + j)
      a[atA(2, 5)] = NaN
      a[atA(6, 0)] = Infinity // meets zeros of both signs and both signs of B's row 0: NaN, ±∞
      b[atB(0, 0)] = 0
      b[atB(0, 1)] = -0
      b[atB(0, 2)] = 1.5
      b[atB(0, 4)] = -2
      b[atB(69, 11)] = -Infinity
      b[atB(40, 3)] = NaN
      const got = viaBackend(p, a, b, false)
      const { value } = reference(p, a, b)
      for (let i = 0; i < p.m; i++) {
        for (let j = 0; j < p.n; j++) {
          const g = got[i * p.n + j]!
          const want = value[i * p.n + j]!
          const where = `${describeProduct(p)} C[${i}][${j}]`
          if (i === 2 || j === 3) expect(g, where).toBeNaN()
          if (Number.isNaN(want)) expect(g, where).toBeNaN()
          else if (!Number.isFinite(want)) expect(g, where).toBe(want)
          else expect(Number.isFinite(g), where).toBe(true)
        }
      }
      // the rows and columns without a non-finite input stay finite
      expect(Number.isFinite(got[0 * p.n + 0]!)).toBe(true)
      // the infinities did reach their row and column
      expect(got.slice(6 * p.n, 7 * p.n).some((v) => v === Infinity || v === -Infinity)).toBe(true)
      expect(Array.from({ length: p.m }, (_, i) => got[i * p.n + 11]!).some((v) => !Number.isFinite(v))).toBe(true)
    }
  })

  it('answers fresh arrays and never writes its inputs', () => {
    const p: Product = { batch: 1, m: 20, k: 33, n: 10, transA: false, transB: true }
    const [a, b] = inputs(p, 11)
    const aCopy = a.slice()
    const bCopy = b.slice()
    const first = viaBackend(p, a, b, false)
    const kept = first.slice()
    const second = viaBackend(p, b.subarray(0, 20 * 33), a.subarray(0, 33 * 10), false) // reuses the kernel's memory
    expect(second).not.toBe(first)
    expect(first).toEqual(kept)
    expect(a).toEqual(aCopy)
    expect(b).toEqual(bCopy)
  })

  it('a product too big to keep its memory for, then small ones on a fresh memory', () => {
    // A (2400×4000) and its packed copy alone take 2·38.4 MB
    const big: Product = { batch: 1, m: 2400, k: 4000, n: 3, transA: false, transB: false }
    expect(4 * 2 * big.m * big.k).toBeGreaterThan(RETAINED_BYTES)
    const [a, b] = inputs(big, 21)
    expect(firstViolation(big, viaBackend(big, a, b, false), a, b)).toBeUndefined()
    const small: Product = { batch: 2, m: 6, k: 5, n: 9, transA: true, transB: true }
    const [c, d] = inputs(small, 22)
    expect(firstViolation(small, viaBackend(small, c, d, true), c, d)).toBeUndefined()
  })

  it('empty sums and empty outputs', () => {
    expect(matmulF32(new Float32Array(0), new Float32Array(0), 1, 3, 0, 2, false, false)).toEqual(new Float32Array(6))
    expect(matmulF32(new Float32Array(0), new Float32Array(6), 2, 0, 3, 1, false, false)).toEqual(new Float32Array(0))
  })
})

describe('where WebAssembly SIMD is missing', () => {
  afterEach(() => {
    vi.restoreAllMocks()
    vi.resetModules()
  })

  it('the cpu backend keeps its JavaScript loop and its f32 results stay within the bound', async () => {
    vi.spyOn(WebAssembly, 'validate').mockReturnValue(false)
    vi.resetModules()
    const fresh = await import('../src/backend/wasm/matmul-f32.js')
    const { cpu: freshCpu } = await import('../src/backend/cpu.js')
    expect(fresh.wasmMatmulAvailable()).toBe(false)
    const p: Product = { batch: 1, m: 9, k: 40, n: 6, transA: true, transB: false }
    const [a, b] = inputs(p, 5)
    expect(fresh.matmulF32(a, b, 1, p.m, p.k, p.n, true, false)).toBeUndefined()
    const got = freshCpu.matmul(a, [p.k, p.m], b, [p.k, p.n], true, false, 'f32')
    expect(got).toBeInstanceOf(Float32Array)
    expect(firstViolation(p, got, a, b)).toBeUndefined()
  })
})
