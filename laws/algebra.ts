/**
 * Algebraic laws as pure predicates: monoids (the tape) and monads (the Writer over tapes).
 * Each takes the instance, an equality, and the values of one case.
 *
 * @module
 */
import type { Eq } from 'fp-ts/lib/Eq.js'
import type { Monoid } from 'fp-ts/lib/Monoid.js'

/**
 * (a · b) · c = a · (b · c).
 *
 * @example
 * ```ts
 * import { monoidAssociativity } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * const M = { empty: '', concat: (x: string, y: string) => x + y }
 * const E = { equals: (x: string, y: string) => x === y }
 * assert.ok(monoidAssociativity(M, E)('a', 'b', 'c'))
 * ```
 */
export const monoidAssociativity =
  <A>(M: Monoid<A>, E: Eq<A>) =>
  (a: A, b: A, c: A): boolean =>
    E.equals(M.concat(M.concat(a, b), c), M.concat(a, M.concat(b, c)))

/**
 * empty · a = a = a · empty.
 *
 * @example
 * ```ts
 * import { monoidIdentity } from 'lamina-nn/laws'
 * import assert from 'node:assert'
 * const M = { empty: 0, concat: (x: number, y: number) => x + y }
 * assert.ok(monoidIdentity(M, { equals: (x: number, y: number) => x === y })(5))
 * ```
 */
export const monoidIdentity =
  <A>(M: Monoid<A>, E: Eq<A>) =>
  (a: A): boolean =>
    E.equals(M.concat(M.empty, a), a) && E.equals(M.concat(a, M.empty), a)

/** The part of a monad the laws use, at one value type: `of` and `chain` (fp-ts instances fit). */
export interface MonadAt<MA, A> {
  readonly of: (a: A) => MA
  readonly chain: (ma: MA, f: (a: A) => MA) => MA
}

/**
 * The three monad laws for one case: left identity `of(a) >>= f ≡ f(a)`, right identity
 * `m >>= of ≡ m`, associativity `(m >>= f) >>= g ≡ m >>= (x ↦ f(x) >>= g)`.
 *
 * @example
 * ```ts
 * import { Tape } from 'lamina-nn'
 * import { monadLaws } from 'lamina-nn/laws'
 * import * as W from 'fp-ts/lib/Writer.js'
 * import assert from 'node:assert'
 * const eq = { equals: (x: W.Writer<Tape.Tape, number>, y: W.Writer<Tape.Tape, number>) => x()[0] === y()[0] && Tape.nodes(x()[1]).length === Tape.nodes(y()[1]).length }
 * const ok = monadLaws<W.Writer<Tape.Tape, number>, number>(Tape.WriterMonad, eq)(Tape.WriterMonad.of(1), 2, (n: number) => Tape.WriterMonad.of(n + 1), (n: number) => Tape.WriterMonad.of(n * 2))
 * assert.ok(ok)
 * ```
 */
export const monadLaws =
  <MA, A>(M: MonadAt<MA, A>, eq: Eq<MA>) =>
  (m: MA, a: A, f: (a: A) => MA, g: (a: A) => MA): boolean =>
    eq.equals(M.chain(M.of(a), f), f(a)) &&
    eq.equals(M.chain(m, M.of), m) &&
    eq.equals(M.chain(M.chain(m, f), g), M.chain(m, (x) => M.chain(f(x), g)))
