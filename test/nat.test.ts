import { describe, it, expect, expectTypeOf } from 'vitest'
import type { Add, Div, Eq, IsLiteral, Lt, Lte, Max, Mod, Mul, Product, Sub } from '../src/nat.js'

// Compile-time checks: `npm test` runs `tsc --noEmit` over test/ before vitest, and a wrong
// `expectTypeOf` (or an unused `@ts-expect-error`) fails the build there.

describe('IsLiteral', () => {
  it('accepts non-negative integer literals only', () => {
    expectTypeOf<IsLiteral<784>>().toEqualTypeOf<true>()
    expectTypeOf<IsLiteral<0>>().toEqualTypeOf<true>()
    expectTypeOf<IsLiteral<number>>().toEqualTypeOf<false>()
    expectTypeOf<IsLiteral<1 | 2>>().toEqualTypeOf<false>()
    expectTypeOf<IsLiteral<-1>>().toEqualTypeOf<false>()
    expectTypeOf<IsLiteral<1.5>>().toEqualTypeOf<false>()
    expectTypeOf<IsLiteral<never>>().toEqualTypeOf<false>()
  })
})

describe('Add / Sub', () => {
  it('carries and borrows across digits', () => {
    expectTypeOf<Add<2, 3>>().toEqualTypeOf<5>()
    expectTypeOf<Add<999, 1>>().toEqualTypeOf<1000>()
    expectTypeOf<Add<999999999, 999999999>>().toEqualTypeOf<1999999998>()
    expectTypeOf<Sub<1000, 1>>().toEqualTypeOf<999>()
    expectTypeOf<Sub<1000000000, 999999999>>().toEqualTypeOf<1>()
    expectTypeOf<Sub<7, 7>>().toEqualTypeOf<0>()
  })
  it('Sub below zero is never', () => {
    expectTypeOf<Sub<1, 2>>().toEqualTypeOf<never>()
  })
})

describe('Mul / Div / Mod', () => {
  it('multiplies small and large values', () => {
    expectTypeOf<Mul<16, 36>>().toEqualTypeOf<576>()
    expectTypeOf<Mul<784, 128>>().toEqualTypeOf<100352>()
    expectTypeOf<Mul<99999, 99999>>().toEqualTypeOf<9999800001>()
    expectTypeOf<Mul<0, 123>>().toEqualTypeOf<0>()
  })
  it('floors division and gives never for / 0', () => {
    expectTypeOf<Div<100352, 128>>().toEqualTypeOf<784>()
    expectTypeOf<Div<7, 2>>().toEqualTypeOf<3>()
    expectTypeOf<Div<3, 5>>().toEqualTypeOf<0>()
    expectTypeOf<Div<Add<Sub<32, 3>, 1>, 2>>().toEqualTypeOf<15>()
    expectTypeOf<Div<999999999999, 7>>().toEqualTypeOf<142857142857>()
    expectTypeOf<Div<5, 0>>().toEqualTypeOf<never>()
    expectTypeOf<Mod<7, 2>>().toEqualTypeOf<1>()
    expectTypeOf<Mod<1000000007, 97>>().toEqualTypeOf<41>()
  })
})

describe('Product', () => {
  it('multiplies a tuple', () => {
    expectTypeOf<Product<[16, 6, 6]>>().toEqualTypeOf<576>()
    expectTypeOf<Product<readonly [1, 28, 28]>>().toEqualTypeOf<784>()
    expectTypeOf<Product<[]>>().toEqualTypeOf<1>()
  })
})

describe('comparisons', () => {
  it('gives boolean literals', () => {
    expectTypeOf<Lt<9, 10>>().toEqualTypeOf<true>()
    expectTypeOf<Lt<1000, 999>>().toEqualTypeOf<false>()
    expectTypeOf<Lt<0, 0>>().toEqualTypeOf<false>()
    expectTypeOf<Lte<10, 10>>().toEqualTypeOf<true>()
    expectTypeOf<Lte<11, 10>>().toEqualTypeOf<false>()
    expectTypeOf<Eq<Mul<16, 36>, 576>>().toEqualTypeOf<true>()
    expectTypeOf<Eq<576, 577>>().toEqualTypeOf<false>()
    expectTypeOf<Max<3, 12>>().toEqualTypeOf<12>()
    expectTypeOf<Max<1000, 999>>().toEqualTypeOf<1000>()
  })
})

describe('number propagation', () => {
  it('widens to number / boolean when an operand is not a literal', () => {
    expectTypeOf<Add<number, 1>>().toEqualTypeOf<number>()
    expectTypeOf<Sub<5, number>>().toEqualTypeOf<number>()
    expectTypeOf<Mul<number, 3>>().toEqualTypeOf<number>()
    expectTypeOf<Div<number, number>>().toEqualTypeOf<number>()
    expectTypeOf<Max<number, 1>>().toEqualTypeOf<number>()
    expectTypeOf<Product<[2, number, 3]>>().toEqualTypeOf<number>()
    expectTypeOf<Product<number[]>>().toEqualTypeOf<number>()
    expectTypeOf<Lt<number, 3>>().toEqualTypeOf<boolean>()
    expectTypeOf<Eq<number, 1>>().toEqualTypeOf<boolean>()
  })
  it('distributes over unions', () => {
    expectTypeOf<Add<1 | 2, 10>>().toEqualTypeOf<11 | 12>()
  })
  it('stays assignable to number in generic code', () => {
    const area = <A extends number, B extends number>(a: A, b: B): Mul<A, B> => (a * b) as Mul<A, B>
    const n: number = area(3, 4)
    expectTypeOf(area(3 as const, 4 as const)).toEqualTypeOf<12>()
    expect(n).toBe(12)
  })
})
