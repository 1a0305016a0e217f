/**
 * The WebAssembly SIMD float32 elementwise kernels (src/backend/wasm/elementwise-f32.wat), on
 * their own and as the cpu backend's f32 `binary` / `unary`.
 *
 * The reference is the scalar definition in JavaScript: `Math.fround(a op b)` for + − × ÷ and
 * `Math.fround(Math.sqrt(x))`, which equal the single-precision operations exactly (float64
 * carries more than 2·24 + 2 bits, so rounding to float64 first and then to float32 cannot
 * change the float32 result), and `Math.max`/`Math.min`/`Math.abs`/negation, which are exact.
 * So every result must equal the reference bit for bit; only NaN payloads are left open (IEEE
 * 754 and WebAssembly do not fix them), so a NaN must meet a NaN.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import fc from 'fast-check'
import { cpu } from '../src/backend/cpu.js'
import type { BinaryOp, UnaryOp } from '../src/backend/backend.js'
import { FloatingNumber } from '../src/floating.js'
import { Optim, fromBuffer, relu, tensor } from '../src/index.js'
import {
  RETAINED_BYTES,
  WASM_MIN_ELEMENTS,
  binaryF32,
  elementwiseF32Binary,
  greaterThanZeroF32,
  selectF32,
  sgdF32,
  adamF32,
  unaryF32,
  wasmElementwiseAvailable
} from '../src/backend/wasm/elementwise-f32.js'
import type { BinaryKernel, CompareKernel, UnaryKernel } from '../src/backend/wasm/elementwise-f32.js'
import type { Relation } from '../src/backend/backend.js'
import { isSharedZeros, sharedZeros } from '../src/tensor.js'
import { assemble, generatedModule, wasmDir } from '../scripts/build-wasm.js'

const binaryReference: { readonly [K in BinaryKernel]: (a: number, b: number) => number } = {
  add: (a, b) => Math.fround(a + b),
  sub: (a, b) => Math.fround(a - b),
  mul: (a, b) => Math.fround(a * b),
  div: (a, b) => Math.fround(a / b),
  maximum: (a, b) => Math.max(a, b),
  minimum: (a, b) => Math.min(a, b)
}

const unaryReference: { readonly [K in UnaryKernel]: (x: number) => number } = {
  neg: (x) => -x,
  abs: (x) => Math.abs(x),
  sqrt: (x) => Math.fround(Math.sqrt(x)),
  relu: (x) => Math.max(x, 0)
}

/** Each comparison kernel, the relation the cpu backend runs it for, and JavaScript's operator as the reference. */
const compareReference: { readonly [K in CompareKernel]: readonly [Relation, (a: number, b: number) => boolean] } = {
  greater: ['>', (a, b) => a > b],
  less: ['<', (a, b) => a < b],
  greaterEqual: ['>=', (a, b) => a >= b],
  lessEqual: ['<=', (a, b) => a <= b],
  equal: ['==', (a, b) => a === b],
  notEqual: ['!=', (a, b) => a !== b]
}
const compareKernels = Object.keys(compareReference) as CompareKernel[]
const selectReference = (mask: number, a: number, b: number): number => (mask !== 0 ? a : b)

const binaryKernels = Object.keys(binaryReference) as BinaryKernel[]
const unaryKernels = Object.keys(unaryReference) as UnaryKernel[]
/** The kernels the cpu backend's `unary` runs. */
const backendUnary = ['neg', 'abs', 'sqrt', 'relu'] as const satisfies readonly (UnaryKernel & UnaryOp)[]

const bits = (v: number): number => new Uint32Array(Float32Array.of(v).buffer)[0]!

/** The first element where `got` differs from `want` in its bits (any NaN meets any NaN), described. */
const firstDifference = (got: Float32Array, want: (i: number) => number, inputs: (i: number) => string): string | undefined => {
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!
    const w = Math.fround(want(i))
    if (Number.isNaN(w) ? !Number.isNaN(g) : bits(g) !== bits(w)) {
      return `element ${i} of ${got.length} (${inputs(i)}): got ${Object.is(g, -0) ? '-0' : g}, want ${Object.is(w, -0) ? '-0' : w}`
    }
  }
  return undefined
}

const show = (v: number): string => (Object.is(v, -0) ? '-0' : String(v))

const checkBinary = (op: BinaryKernel, a: Float32Array, b: Float32Array, got: Float32Array | Float64Array | undefined): void => {
  expect(got).toBeInstanceOf(Float32Array)
  expect(got!.length).toBe(a.length)
  const diff = firstDifference(got as Float32Array, (i) => binaryReference[op](a[i]!, b[i]!), (i) => `${show(a[i]!)} ${op} ${show(b[i]!)}`)
  expect(diff, op).toBeUndefined()
}

const checkUnary = (op: UnaryKernel, x: Float32Array, got: Float32Array | Float64Array | undefined): void => {
  expect(got).toBeInstanceOf(Float32Array)
  expect(got!.length).toBe(x.length)
  const diff = firstDifference(got as Float32Array, (i) => unaryReference[op](x[i]!), (i) => `${op} ${show(x[i]!)}`)
  expect(diff, op).toBeUndefined()
}

const checkCompare = (op: CompareKernel, a: Float32Array, b: Float32Array, got: Float32Array | Float64Array | undefined): void => {
  expect(got).toBeInstanceOf(Float32Array)
  expect(got!.length).toBe(a.length)
  const test = compareReference[op][1]
  const diff = firstDifference(got as Float32Array, (i) => (test(a[i]!, b[i]!) ? 1 : 0), (i) => `${show(a[i]!)} ${op} ${show(b[i]!)}`)
  expect(diff, op).toBeUndefined()
}

const checkSelect = (mask: Float32Array, a: Float32Array, b: Float32Array, got: Float32Array | Float64Array | undefined): void => {
  expect(got).toBeInstanceOf(Float32Array)
  expect(got!.length).toBe(a.length)
  const diff = firstDifference(got as Float32Array, (i) => selectReference(mask[i]!, a[i]!, b[i]!), (i) => `select(${show(mask[i]!)}, ${show(a[i]!)}, ${show(b[i]!)})`)
  expect(diff).toBeUndefined()
}

/** The values that make rounding and IEEE special cases show. */
const specials = [
  0, -0, 1, -1, 0.1, -2.5, 3, Infinity, -Infinity, NaN,
  2 ** -149, -(2 ** -149), 2 ** -126, -(2 ** -130), 2 ** -127 * 1.5, 3.4028234663852886e38, -3.4028234663852886e38, 1 + 2 ** -23, 2 ** 64
].map(Math.fround)

/** Float32 arrays of one random length 0…5000 (non-multiples of 4 included), fast-check's float32 values (NaN, ±∞, ±0, subnormals). */
const lengths = fc.integer({ min: 0, max: 5000 })
const values = (n: number): fc.Arbitrary<Float32Array> => fc.float32Array({ minLength: n, maxLength: n })
const pairs = lengths.chain((n) => fc.tuple(values(n), values(n)))
/** Masks mostly of 0, −0, 1 and NaN (the masks compare makes and the edge cases of `!= 0`), with some arbitrary floats. */
const masks = (n: number): fc.Arbitrary<Float32Array> =>
  fc.array(fc.oneof(fc.constantFrom(0, -0, 1, NaN), fc.float({ noDefaultInfinity: false })), { minLength: n, maxLength: n }).map((xs) => Float32Array.from(xs))
const triples = lengths.chain((n) => fc.tuple(masks(n), values(n), values(n)))
/** Pairs where many elements are equal (so ==, <=, >= hold somewhere), including ±0 against each other. */
const tiedPairs = lengths.chain((n) => fc.tuple(values(n), values(n), fc.array(fc.boolean(), { minLength: n, maxLength: n })))
  .map(([a, b, same]) => [a, Float32Array.from(b, (v, i) => (same[i] ? (a[i] === 0 ? -a[i]! : a[i]!) : v))] as const)

describe('the WebAssembly float32 elementwise kernels', () => {
  it('assemble in this engine (Node 20 has WebAssembly SIMD)', () => {
    expect(wasmElementwiseAvailable()).toBe(true)
  })

  it('the loaded module holds exactly the bytes the .wat source assembles to, and the committed module matches, under 4 KB', async () => {
    const source = 'elementwise-f32.wat'
    const fresh = await assemble(source, readFileSync(join(wasmDir, source), 'utf8'))
    expect(Buffer.from(elementwiseF32Binary()).equals(Buffer.from(fresh))).toBe(true)
    expect(readFileSync(join(wasmDir, 'elementwise-f32.generated.ts'), 'utf8'), 'stale: run npm run build:wasm').toBe(generatedModule(source, fresh))
    // browsers compile synchronously on the main thread only below 4 KB (Chrome's limit)
    expect(fresh.length).toBeLessThan(4096)
  })

  for (const op of binaryKernels) {
    it(`${op}: random lengths and float32 values, equal to the scalar reference bit for bit`, () => {
      fc.assert(
        fc.property(pairs, ([a, b]) => checkBinary(op, a, b, binaryF32(op, a, b))),
        { numRuns: 40 }
      )
    })
  }

  for (const op of unaryKernels) {
    it(`${op}: random lengths and float32 values, equal to the scalar reference bit for bit`, () => {
      fc.assert(
        fc.property(lengths.chain(values), (x) => checkUnary(op, x, unaryF32(op, x))),
        { numRuns: 40 }
      )
    })
  }

  for (const op of compareKernels) {
    it(`${op}: random lengths, float32 values and ties, 1 where JavaScript's operator holds and 0 elsewhere`, () => {
      fc.assert(
        fc.property(fc.oneof(pairs, tiedPairs), ([a, b]) => checkCompare(op, a, b, binaryF32(op, a, b))),
        { numRuns: 40 }
      )
    })
  }

  it('greaterThanZero: 1 where x > 0 (JavaScript\'s operator against 0), 0 elsewhere (NaN, ±0, negatives)', () => {
    fc.assert(
      fc.property(lengths.chain(values), (x) => checkCompare('greater', x, new Float32Array(x.length), greaterThanZeroF32(x))),
      { numRuns: 40 }
    )
    expect([...greaterThanZeroF32(Float32Array.from([NaN, -0, 0, 2 ** -149, -(2 ** -149), Infinity, -Infinity]))!]).toEqual([0, 0, 0, 1, 0, 1, 0])
  })

  it('select: mask != 0 picks a, else b (a NaN mask picks a, −0 picks b), bit for bit', () => {
    fc.assert(
      fc.property(triples, ([mask, a, b]) => checkSelect(mask, a, b, selectF32(mask, a, b))),
      { numRuns: 40 }
    )
  })

  it('sgd: p − g·lr in float64 rounded once to float32 (JavaScript\'s loop into a Float32Array), bit for bit', () => {
    const rates = fc.oneof(fc.double({ min: -10, max: 10, noNaN: true }), fc.constantFrom(0.01, 1e-3, 0, -0, 1e-300, 1e300, Infinity, NaN))
    fc.assert(
      fc.property(pairs, rates, ([p, g], lr) => {
        const got = sgdF32(p, g, lr)
        expect(got).toBeInstanceOf(Float32Array)
        expect(got!.length).toBe(p.length)
        expect(firstDifference(got!, (i) => p[i]! - g[i]! * lr, (i) => `${show(p[i]!)} − ${show(g[i]!)}·${lr}`)).toBeUndefined()
      }),
      { numRuns: 60 }
    )
  })

  it("adam: the moments rounded to float32, then the step in float64 rounded once (JavaScript's loop into Float32Arrays), bit for bit", () => {
    const quads = lengths.chain((n) => fc.tuple(values(n), values(n), values(n), fc.float32Array({ minLength: n, maxLength: n, min: 0, noNaN: true })))
    const scalars = fc.record({
      keep: fc.oneof(fc.constant(1), fc.double({ min: 0.9, max: 1, noNaN: true })),
      scale: fc.double({ min: 1e-6, max: 1, noNaN: true }),
      eps: fc.oneof(fc.constant(1e-8), fc.double({ min: 1e-12, max: 1e-3, noNaN: true })),
      c1: fc.oneof(fc.constant(0.1), fc.double({ min: 0, max: 1, noNaN: true })),
      c2: fc.oneof(fc.constant(0.001), fc.double({ min: 0, max: 1, noNaN: true }))
    })
    fc.assert(
      fc.property(quads, scalars, ([p, g, m, v], s) => {
        const got = adamF32(p, g, m, v, s)
        expect(got).toBeDefined()
        // the reference: Optim.adam's loop, written out
        const m1 = Float32Array.from(m, (mi, i) => mi + (g[i]! - mi) * s.c1)
        const v1 = Float32Array.from(v, (vi, i) => vi + (g[i]! * g[i]! - vi) * s.c2)
        expect(firstDifference(got!.m, (i) => m1[i]!, (i) => `m: ${show(m[i]!)}, g ${show(g[i]!)}`)).toBeUndefined()
        expect(firstDifference(got!.v, (i) => v1[i]!, (i) => `v: ${show(v[i]!)}, g ${show(g[i]!)}`)).toBeUndefined()
        expect(firstDifference(got!.p, (i) => p[i]! * s.keep - (s.scale * m1[i]!) / (Math.sqrt(v1[i]!) + s.eps), (i) => `p: ${show(p[i]!)}`)).toBeUndefined()
      }),
      { numRuns: 60 }
    )
  })

  it('Optim.adam on float32 parameters takes the WebAssembly path above the threshold and the loop below, with equal results', () => {
    for (const n of [WASM_MIN_ELEMENTS - 1, WASM_MIN_ELEMENTS + 5]) {
      const w = fromBuffer(Float32Array.from({ length: n }, (_, i) => Math.fround(Math.cos(i))), [n], { dtype: 'f32' })
      const grads = [1, 2, 3].map((k) => ({ w: fromBuffer(Float32Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i * k) * 2 ** ((i % 20) - 10))), [n], { dtype: 'f32' }) }))
      const opt = Optim.adamw({ lr: 0.01, weightDecay: 0.1 })
      let params = { w }
      let state = opt.init(params)
      // the reference loop of Optim.adam in float64 with float32 storage
      let [p, m, v] = [Float32Array.from(w.data as Float32Array), new Float32Array(n), new Float32Array(n)]
      grads.forEach((g, t) => {
        ;[params, state] = opt.update(g, state, params)
        const c2 = Math.sqrt(1 - 0.999 ** (t + 1))
        const scale = (0.01 * c2) / (1 - 0.9 ** (t + 1))
        const gb = g.w.data as Float32Array
        m = Float32Array.from(m, (mi, i) => mi + (gb[i]! - mi) * (1 - 0.9))
        v = Float32Array.from(v, (vi, i) => vi + (gb[i]! * gb[i]! - vi) * (1 - 0.999))
        const q = p
        p = Float32Array.from(q, (pi, i) => pi * (1 - 0.01 * 0.1) - (scale * m[i]!) / (Math.sqrt(v[i]!) + 1e-8 * c2))
      })
      expect(firstDifference(params.w.data as Float32Array, (i) => p[i]!, (i) => `n=${n}, element ${i}`)).toBeUndefined()
    }
  })

  it('Optim.sgd on float32 parameters (WebAssembly above the threshold) equals the float64 definition rounded to float32', () => {
    for (const n of [7, WASM_MIN_ELEMENTS + 5]) {
      const p = Float32Array.from({ length: n }, (_, i) => specials[i % specials.length]!)
      const g = Float32Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i) * 2 ** ((i % 40) - 20)))
      const opt = Optim.sgd({ lr: 0.01 })
      const params = { w: fromBuffer(p, [n], { dtype: 'f32' }) }
      const [next] = opt.update({ w: fromBuffer(g, [n], { dtype: 'f32' }) }, opt.init(params), params)
      expect(next.w.dtype).toBe('f32')
      expect(firstDifference(next.w.data as Float32Array, (i) => p[i]! - g[i]! * 0.01, (i) => `n=${n}: ${show(p[i]!)} − ${show(g[i]!)}·0.01`)).toBeUndefined()
    }
  })

  it('every pair of special values (±0, ±∞, NaN, subnormals, the largest float) through every binary kernel', () => {
    const a = Float32Array.from(specials.flatMap((x) => specials.map(() => x)))
    const b = Float32Array.from(specials.flatMap(() => specials))
    expect(a.length % 4).not.toBe(0) // the tail vector runs over padding too
    for (const op of binaryKernels) checkBinary(op, a, b, binaryF32(op, a, b))
    for (const op of compareKernels) checkCompare(op, a, b, binaryF32(op, a, b))
    checkSelect(b, a, a.slice().reverse(), selectF32(b, a, a.slice().reverse()))
    const x = Float32Array.from(specials)
    for (const op of unaryKernels) checkUnary(op, x, unaryF32(op, x))
  })

  it('NaN propagates through maximum, minimum and relu (as Math.max/Math.min), while relu\'s derivative mask x > 0 is 0 at NaN', () => {
    const x = Float32Array.from([NaN, -1, 2, NaN, 0, -0])
    const y = Float32Array.from([1, NaN, NaN, -Infinity, -0, 0])
    expect([...binaryF32('maximum', x, y)!]).toEqual([NaN, NaN, NaN, NaN, 0, 0])
    expect([...binaryF32('minimum', x, y)!].map(show)).toEqual(['NaN', 'NaN', 'NaN', 'NaN', '-0', '-0'])
    expect([...unaryF32('relu', x)!].map(show)).toEqual(['NaN', '0', '2', 'NaN', '0', '0'])
    expect([...binaryF32('greater', x, new Float32Array(6))!]).toEqual([0, 0, 1, 0, 0, 0])
    expect([...binaryF32('notEqual', x, y)!]).toEqual([1, 1, 1, 1, 0, 0])
    expect([...selectF32(Float32Array.from([NaN, -0, 0, 2, -1, 0]), x, y)!].map(show)).toEqual(['NaN', 'NaN', 'NaN', 'NaN', '0', '0'])
  })

  it('answers fresh arrays and never writes its inputs, also when one array is both operands', () => {
    const a = Float32Array.from({ length: 1001 }, (_, i) => i - 500.25)
    const b = Float32Array.from({ length: 1001 }, (_, i) => 1 / (i + 1))
    const [aCopy, bCopy] = [a.slice(), b.slice()]
    const first = binaryF32('mul', a, b)!
    const kept = first.slice()
    const second = binaryF32('sub', b, a)! // reuses the kernels' memory
    const squares = binaryF32('mul', a, a)!
    const negated = unaryF32('neg', a)!
    expect(second).not.toBe(first)
    expect(first).toEqual(kept)
    expect(a).toEqual(aCopy)
    expect(b).toEqual(bCopy)
    checkBinary('mul', a, a, squares)
    checkUnary('neg', a, negated)
  })

  it('empty arrays give empty arrays', () => {
    expect(binaryF32('add', new Float32Array(0), new Float32Array(0))).toEqual(new Float32Array(0))
    expect(unaryF32('relu', new Float32Array(0))).toEqual(new Float32Array(0))
  })

  it('arrays too big to keep the memory for, then small ones on a fresh memory', () => {
    const n = 8_500_000 // two regions of 34 MB
    expect(2 * 4 * n).toBeGreaterThan(RETAINED_BYTES)
    const a = new Float32Array(n).fill(1.5)
    const b = new Float32Array(n).fill(-0.25)
    a[n - 1] = NaN
    const big = binaryF32('add', a, b)!
    expect(big.length).toBe(n)
    expect([big[0], big[n >> 1], big[n - 2]]).toEqual([1.25, 1.25, 1.25])
    expect(big[n - 1]).toBeNaN()
    const x = Float32Array.from(specials)
    checkBinary('div', x, x.slice().reverse(), binaryF32('div', x, x.slice().reverse()))
  })
})

describe('the cpu backend on float32 (WebAssembly at and above WASM_MIN_ELEMENTS, JavaScript below)', () => {
  const around = fc.integer({ min: Math.max(0, WASM_MIN_ELEMENTS - 40), max: WASM_MIN_ELEMENTS + 40 })
  const lengthsAround = fc.oneof(lengths, around)

  for (const op of binaryKernels) {
    it(`binary ${op}: equal to the scalar reference bit for bit on both sides of the threshold`, () => {
      fc.assert(
        fc.property(lengthsAround.chain((n) => fc.tuple(values(n), values(n))), ([a, b]) => checkBinary(op, a, b, cpu.binary(op satisfies BinaryOp, a, b, 'f32'))),
        { numRuns: 30 }
      )
    })
  }

  for (const op of backendUnary) {
    it(`unary ${op}: equal to the scalar reference bit for bit on both sides of the threshold`, () => {
      fc.assert(
        fc.property(lengthsAround.chain(values), (x) => checkUnary(op, x, cpu.unary(op, x, 'f32'))),
        { numRuns: 30 }
      )
    })
  }

  for (const op of compareKernels) {
    const [relation] = compareReference[op]
    it(`compare ${relation}: 1 where JavaScript's operator holds, 0 elsewhere, on both sides of the threshold`, () => {
      fc.assert(
        fc.property(
          lengthsAround.chain((n) => fc.tuple(values(n), values(n))),
          ([a, b]) => checkCompare(op, a, b, cpu.compare(relation, a, b, 'f32'))
        ),
        { numRuns: 30 }
      )
    })
  }

  it("compare > against shared zeros (relu's mask, one operand copied in): x > 0 on both sides of the threshold; the zeros stay zeros", () => {
    fc.assert(
      fc.property(lengthsAround.chain(values), (x) => {
        const zeros = sharedZeros('f32', x.length)
        expect(isSharedZeros(zeros) || x.length === 0).toBe(true)
        checkCompare('greater', x, new Float32Array(x.length), cpu.compare('>', x, zeros, 'f32'))
        // every other relation reads the shared zeros as an ordinary operand
        checkCompare('lessEqual', x, new Float32Array(x.length), cpu.compare('<=', x, zeros, 'f32'))
        expect(zeros.every((v) => Object.is(v, 0))).toBe(true)
      }),
      { numRuns: 30 }
    )
  })

  it('sharedZeros: zeros of the asked length and dtype, views of one array (no allocation), fresh arrays are not taken for them', () => {
    const a = sharedZeros('f32', 1000)
    const b = sharedZeros('f32', 300)
    expect(a).toBeInstanceOf(Float32Array)
    expect([a.length, b.length]).toEqual([1000, 300])
    expect(b.buffer).toBe(a.buffer)
    expect(isSharedZeros(b)).toBe(true)
    expect(isSharedZeros(new Float32Array(1000))).toBe(false)
    const d = sharedZeros('f64', 17)
    expect(d).toBeInstanceOf(Float64Array)
    expect(isSharedZeros(d) && d.every((v) => v === 0)).toBe(true)
    // a request past the cap is a fresh array, not a pinned one
    const huge = sharedZeros('f32', 2 ** 22 + 1)
    expect(isSharedZeros(huge)).toBe(false)
    expect(huge.length).toBe(2 ** 22 + 1)
  })

  it('select: mask != 0 picks a, else b, on both sides of the threshold', () => {
    fc.assert(
      fc.property(lengthsAround.chain((n) => fc.tuple(masks(n), values(n), values(n))), ([mask, a, b]) => checkSelect(mask, a, b, cpu.select(mask, a, b, 'f32'))),
      { numRuns: 30 }
    )
  })

  it('relu propagates NaN for f32 (either path) and f64, as the scalar relu of floating.ts does', () => {
    expect(FloatingNumber.relu(NaN)).toBeNaN()
    for (const n of [5, WASM_MIN_ELEMENTS + 3]) {
      const values = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? NaN : i % 3 === 1 ? -i : i))
      for (const dtype of ['f32', 'f64'] as const) {
        const got = relu(tensor(values, { dtype })).data
        values.forEach((v, i) => {
          if (Number.isNaN(v)) expect(got[i], `${dtype} n=${n} element ${i}`).toBeNaN()
          else expect(got[i], `${dtype} n=${n} element ${i}`).toBe(Math.max(v, 0))
        })
      }
    }
  })
})

describe('where WebAssembly SIMD is missing', () => {
  afterEach(() => {
    vi.restoreAllMocks()
    vi.resetModules()
  })

  it('the kernels answer undefined and the cpu backend keeps its JavaScript loops, with the same results', async () => {
    vi.spyOn(WebAssembly, 'validate').mockReturnValue(false)
    vi.resetModules()
    const fresh = await import('../src/backend/wasm/elementwise-f32.js')
    const { cpu: freshCpu } = await import('../src/backend/cpu.js')
    expect(fresh.wasmElementwiseAvailable()).toBe(false)
    const n = WASM_MIN_ELEMENTS + 13
    const a = Float32Array.from({ length: n }, (_, i) => specials[i % specials.length]!)
    const b = Float32Array.from({ length: n }, (_, i) => specials[(i * 7) % specials.length]!)
    expect(fresh.binaryF32('add', a, b)).toBeUndefined()
    expect(fresh.unaryF32('relu', a)).toBeUndefined()
    for (const op of binaryKernels) checkBinary(op, a, b, freshCpu.binary(op, a, b, 'f32'))
    for (const op of backendUnary) checkUnary(op, a, freshCpu.unary(op, a, 'f32'))
    expect(fresh.selectF32(b, a, b)).toBeUndefined()
    expect(fresh.greaterThanZeroF32(a)).toBeUndefined()
    checkCompare('greater', a, new Float32Array(n), freshCpu.compare('>', a, sharedZeros('f32', n), 'f32'))
    for (const op of compareKernels) checkCompare(op, a, b, freshCpu.compare(compareReference[op][0], a, b, 'f32'))
    checkSelect(b, a, a.slice().reverse(), freshCpu.select(b, a, a.slice().reverse(), 'f32'))
  })
})
