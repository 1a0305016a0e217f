/**
 * io-ts codecs at lamina's boundaries, and a reporter that turns io-ts's errors into
 * readable ones. Every failure is one line, `path: expected TYPE, got VALUE`, with the path
 * written as in JavaScript (`layers[2].units`), the type in words (`positive integer`) and
 * the value as short JSON (`-3`, `"784"`, `undefined` for a missing key):
 *
 * ```text
 * model spec: 2 problems
 *   layers[2].units: expected positive integer, got -3
 *   layers[3].kind: expected one of "dense", "relu", …, got "dence"
 * ```
 *
 * Decoding never throws and never executes code: {@link decodeWith} returns an `Either`, and it
 * rejects any object holding a key named `__proto__`, `constructor` or `prototype` before a
 * codec reads it, so a file cannot pollute `Object.prototype` through lamina.
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import * as t from 'io-ts'
 * import assert from 'node:assert'
 * const Layer = Codec.struct('dense layer', { units: Codec.PositiveInt }, { rate: Codec.Probability })
 * const decoded = Codec.decodeWith(t.readonlyArray(Layer), [{ units: 4 }, { units: -3 }], 'layers')
 * assert.ok(decoded._tag === 'Left')
 * assert.strictEqual(decoded.left.message, 'layers: [1].units: expected positive integer, got -3')
 * ```
 *
 * @module
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Either } from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { LaminaError } from '../error.js'

// ---------------------------------------------------------------- errors

/** One decoding failure: where (`layers[2].units`), what was expected, and what was there. */
export interface Failure {
  /** The path to the value, as JavaScript writes it (`layers[2].units`); `''` for the root. */
  readonly path: string
  /** The expected type, in words (`positive integer`, `one of "sgd", "adam"`). */
  readonly expected: string
  /** The value found, as short JSON (`-3`, `"784"`, `undefined` for a missing key). */
  readonly got: string
}

/**
 * One line of a report: `path: expected TYPE, got VALUE` (without the path at the root).
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Codec.formatFailure({ path: 'layers[2].units', expected: 'positive integer', got: '-3' }),
 *   'layers[2].units: expected positive integer, got -3')
 * assert.strictEqual(Codec.formatFailure({ path: '', expected: 'model spec', got: '5' }), 'expected model spec, got 5')
 * ```
 */
export const formatFailure = (f: Failure): string => `${f.path === '' ? '' : `${f.path}: `}expected ${f.expected}, got ${f.got}`

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`

/**
 * A value read from outside (a file, a request, a JavaScript caller) did not have the
 * expected form. `what` names the thing decoded (`model spec`, `CSV dataset`), `failures`
 * lists every problem found (at most a few dozen; `omitted` counts the rest). The message
 * is `what: failure` for one failure, and a count followed by one indented line per failure
 * otherwise.
 *
 * @example
 * ```ts
 * import { Codec, LaminaError } from 'lamina-nn'
 * import assert from 'node:assert'
 * const e = new Codec.DecodeError('config', [{ path: 'epochs', expected: 'positive integer', got: '0' }])
 * assert.ok(e instanceof LaminaError)
 * assert.strictEqual(e.message, 'config: epochs: expected positive integer, got 0')
 * const two = new Codec.DecodeError('config', [e.failures[0]!, { path: 'seed', expected: 'integer', got: '0.5' }])
 * assert.strictEqual(two.message, 'config: 2 problems\n  epochs: expected positive integer, got 0\n  seed: expected integer, got 0.5')
 * ```
 */
export class DecodeError extends LaminaError {
  override name = 'DecodeError'
  constructor(
    /** What was being decoded, for the first words of the message. */
    readonly what: string,
    /** The problems found, in the order met. */
    readonly failures: readonly Failure[],
    /** How many further problems were found but not listed. */
    readonly omitted = 0
  ) {
    super(DecodeError.format(what, failures, omitted))
  }

  private static format(what: string, failures: readonly Failure[], omitted: number): string {
    const lines = failures.map(formatFailure)
    if (lines.length === 1 && omitted === 0) return `${what}: ${lines[0]}`
    const total = failures.length + omitted
    const more = omitted > 0 ? `\n  … and ${plural(omitted, 'more problem')}` : ''
    return `${what}: ${plural(total, 'problem')}\n${lines.map((l) => `  ${l}`).join('\n')}${more}`
  }
}

// ---------------------------------------------------------------- showing values and paths

const MAX_SHOWN = 60

/**
 * A value as short JSON for a message: strings quoted, `undefined`, `NaN` and `Infinity` by
 * name, long values cut with `…`. Never throws (cyclic or exotic values are named by their type).
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Codec.showValue('784'), '"784"')
 * assert.strictEqual(Codec.showValue(undefined), 'undefined')
 * assert.strictEqual(Codec.showValue({ kind: 'dense', units: 3 }), '{"kind":"dense","units":3}')
 * assert.strictEqual(Codec.showValue(Array.from({ length: 100 }, () => 0)).length, 61)
 * ```
 */
export const showValue = (u: unknown): string => {
  let s: string
  if (u === undefined) s = 'undefined'
  else if (typeof u === 'number') s = Object.is(u, -0) ? '-0' : String(u)
  else if (typeof u === 'bigint') s = `${u}n`
  else if (typeof u === 'function') s = 'a function'
  else if (typeof u === 'symbol') s = u.toString()
  else {
    try {
      s = JSON.stringify(u) ?? String(u)
    } catch {
      s = Object.prototype.toString.call(u)
    }
  }
  return s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN)}…` : s
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/

/**
 * Appends a key to a path the way JavaScript writes it: `layers` + `2` (an array index) →
 * `layers[2]`, `layers[2]` + `units` → `layers[2].units`, odd keys quoted (`["a b"]`).
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Codec.joinPath(Codec.joinPath('layers', 2), 'units'), 'layers[2].units')
 * assert.strictEqual(Codec.joinPath('', 'input'), 'input')
 * assert.strictEqual(Codec.joinPath('x', 'a b'), 'x["a b"]')
 * ```
 */
export const joinPath = (path: string, key: string | number): string =>
  typeof key === 'number' ? `${path}[${key}]` : IDENTIFIER.test(key) ? (path === '' ? key : `${path}.${key}`) : `${path}[${JSON.stringify(key)}]`

/** io-ts codecs that add a context entry per member tried, not per key of the value. */
const MEMBER_TAGS = new Set(['UnionType', 'TaggedUnionType', 'IntersectionType'])

const tagOf = (decoder: t.Decoder<unknown, unknown>): string | undefined => {
  const tag = (decoder as { readonly _tag?: unknown })._tag
  return typeof tag === 'string' ? tag : undefined
}

/** The name of a decoder, for `expected …` (io-ts names arrays `Array<…>`; ours are words). */
const nameOf = (decoder: t.Decoder<unknown, unknown>): string => decoder.name

/**
 * io-ts's validation errors as readable {@link Failure}s, deduplicated, in order.
 *
 * Paths skip the entries io-ts adds for the members of a union; when every member of a
 * union rejects the value itself, the failure names the union (`expected number | string`)
 * rather than listing each member.
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import * as t from 'io-ts'
 * import assert from 'node:assert'
 * const codec = t.type({ sizes: t.array(t.number) })
 * const result = codec.decode({ sizes: [1, 'two'] })
 * assert.ok(result._tag === 'Left')
 * assert.deepStrictEqual(Codec.report(result.left), [{ path: 'sizes[1]', expected: 'number', got: '"two"' }])
 * ```
 */
export const report = (errors: t.Errors): Failure[] => {
  const seen = new Set<string>()
  const out: Failure[] = []
  for (const error of errors) {
    const entries = error.context
    let path = ''
    let expected = error.message
    let got: unknown = error.value
    for (let i = 1; i < entries.length; i++) {
      const parent = entries[i - 1]!
      const entry = entries[i]!
      const parentTag = tagOf(parent.type)
      if (parentTag !== undefined && MEMBER_TAGS.has(parentTag)) {
        // a member of a union tried on the same value: no path segment; if the member
        // rejected the value itself, report the union as a whole
        if (i === entries.length - 1 && parentTag !== 'IntersectionType' && error.message === undefined) {
          expected = nameOf(parent.type)
          got = parent.actual
        }
        continue
      }
      path = joinPath(path, Array.isArray(parent.actual) && /^\d+$/.test(entry.key) ? Number(entry.key) : entry.key)
    }
    const last = entries[entries.length - 1]
    const failure: Failure = { path, expected: expected ?? (last === undefined ? 'a valid value' : nameOf(last.type)), got: showValue(got) }
    const key = formatFailure(failure)
    if (!seen.has(key)) {
      seen.add(key)
      out.push(failure)
    }
  }
  return out
}

// ---------------------------------------------------------------- safety

/**
 * The keys no decoded object may hold: assigning them can change an object's prototype
 * (`__proto__`) or reach shared constructors, the first step of prototype pollution.
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(Codec.forbiddenKeys, ['__proto__', 'constructor', 'prototype'])
 * ```
 */
export const forbiddenKeys: readonly string[] = ['__proto__', 'constructor', 'prototype']

const FORBIDDEN = new Set(forbiddenKeys)

const isRecord = (u: unknown): u is Record<string, unknown> => Object.prototype.toString.call(u) === '[object Object]'

/**
 * Failures for every own key named `__proto__`, `constructor` or `prototype` anywhere in a
 * value (arrays and plain objects are walked without recursion, so deep nesting cannot
 * overflow the stack). `JSON.parse` creates such keys as ordinary own properties, which a
 * careless merge would then follow.
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * const found = Codec.forbiddenKeyFailures(JSON.parse('{"layers": [{"__proto__": {"polluted": true}}]}'))
 * assert.deepStrictEqual(found, [{ path: 'layers[0].__proto__', expected: 'no key named "__proto__"', got: '{"polluted":true}' }])
 * assert.deepStrictEqual(Codec.forbiddenKeyFailures({ units: 3 }), [])
 * ```
 */
export const forbiddenKeyFailures = (value: unknown, limit = 20): Failure[] => {
  const out: Failure[] = []
  const seen = new Set<object>()
  const stack: Array<readonly [unknown, string]> = [[value, '']]
  while (stack.length > 0 && out.length < limit) {
    const [u, path] = stack.pop()!
    if (typeof u !== 'object' || u === null || seen.has(u)) continue
    seen.add(u)
    if (Array.isArray(u)) {
      for (let i = u.length - 1; i >= 0; i--) {
        const item: unknown = u[i]
        if (typeof item === 'object' && item !== null) stack.push([item, joinPath(path, i)])
      }
    } else if (isRecord(u)) {
      const keys = Object.keys(u)
      for (const k of keys) {
        if (FORBIDDEN.has(k)) {
          out.push({ path: joinPath(path, k), expected: `no key named ${JSON.stringify(k)}`, got: showValue(Object.getOwnPropertyDescriptor(u, k)?.value) })
        }
      }
      for (let i = keys.length - 1; i >= 0; i--) {
        const k = keys[i]!
        if (FORBIDDEN.has(k)) continue
        const item = Object.getOwnPropertyDescriptor(u, k)?.value as unknown
        if (typeof item === 'object' && item !== null) stack.push([item, joinPath(path, k)])
      }
    }
  }
  return out
}

// ---------------------------------------------------------------- decoding

/**
 * Decodes `value` with an io-ts codec: `Right` with the decoded value, or `Left` with a
 * {@link DecodeError} whose message lists each failure as `path: expected TYPE, got VALUE`.
 * Objects holding a key `__proto__`, `constructor` or `prototype` are rejected first. Never
 * throws: a codec or a getter that throws becomes a `Left` too.
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * const Config = Codec.struct('config', { epochs: Codec.PositiveInt, lr: Codec.Positive })
 * const ok = Codec.decodeWith(Config, { epochs: 3, lr: 0.1 }, 'config')
 * assert.deepStrictEqual(ok, { _tag: 'Right', right: { epochs: 3, lr: 0.1 } })
 * const bad = Codec.decodeWith(Config, { epochs: 2.5, lr: 0.1 }, 'config')
 * assert.ok(bad._tag === 'Left' && bad.left.message === 'config: epochs: expected positive integer, got 2.5')
 * const polluted = Codec.decodeWith(Config, JSON.parse('{"epochs": 1, "lr": 1, "__proto__": {"admin": true}}'), 'config')
 * assert.ok(polluted._tag === 'Left' && polluted.left.failures[0]!.path === '__proto__')
 * ```
 */
export const decodeWith = <A, O>(codec: t.Type<A, O, unknown>, value: unknown, what: string): Either<DecodeError, A> => {
  try {
    const forbidden = forbiddenKeyFailures(value)
    if (forbidden.length > 0) return E.left(new DecodeError(what, forbidden))
    const result = codec.decode(value)
    if (E.isRight(result)) return E.right(result.right)
    const failures = report(result.left)
    const shown = failures.slice(0, 20)
    return E.left(new DecodeError(what, shown.length > 0 ? shown : [{ path: '', expected: codec.name, got: showValue(value) }], failures.length - shown.length))
  } catch (e) {
    return E.left(new DecodeError(what, [{ path: '', expected: 'a value that can be read', got: `an error: ${e instanceof Error ? e.message : String(e)}` }]))
  }
}

/**
 * Parses JSON text and decodes it with {@link decodeWith}; a syntax error is a `Left` too
 * (`expected valid JSON, got …` with the parser's words).
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(Codec.parseJson(Codec.PositiveInt, '42', 'count'), { _tag: 'Right', right: 42 })
 * const bad = Codec.parseJson(Codec.PositiveInt, '{oops', 'count')
 * assert.ok(bad._tag === 'Left' && bad.left.failures[0]!.expected === 'valid JSON')
 * ```
 */
export const parseJson = <A, O>(codec: t.Type<A, O, unknown>, text: string, what: string): Either<DecodeError, A> => {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (e) {
    return E.left(new DecodeError(what, [{ path: '', expected: 'valid JSON', got: e instanceof Error ? e.message : String(e) }]))
  }
  return decodeWith(codec, value, what)
}

// ---------------------------------------------------------------- branded numbers

/** Brand of {@link PositiveInt}. */
export interface PositiveIntBrand {
  readonly PositiveInt: unique symbol
}
/** Brand of {@link NonNegativeInt}. */
export interface NonNegativeIntBrand {
  readonly NonNegativeInt: unique symbol
}
/** Brand of {@link SafeInt}. */
export interface SafeIntBrand {
  readonly SafeInt: unique symbol
}
/** Brand of {@link Finite}. */
export interface FiniteBrand {
  readonly Finite: unique symbol
}
/** Brand of {@link Positive}. */
export interface PositiveBrand {
  readonly Positive: unique symbol
}
/** Brand of {@link NonNegative}. */
export interface NonNegativeBrand {
  readonly NonNegative: unique symbol
}
/** Brand of {@link Probability}. */
export interface ProbabilityBrand {
  readonly Probability: unique symbol
}
/** Brand of {@link Fraction}. */
export interface FractionBrand {
  readonly Fraction: unique symbol
}

/** A safe integer ≥ 1 (a width, a kernel size, a number of epochs). */
export type PositiveInt = t.Branded<number, PositiveIntBrand>
/** A safe integer ≥ 0 (a padding). */
export type NonNegativeInt = t.Branded<number, NonNegativeIntBrand>
/** A safe integer (a seed). */
export type SafeInt = t.Branded<number, SafeIntBrand>
/** A finite number (not `NaN`, not ±∞). */
export type Finite = t.Branded<number, FiniteBrand>
/** A finite number > 0 (a learning rate, an ε). */
export type Positive = t.Branded<number, PositiveBrand>
/** A finite number ≥ 0 (a weight decay). */
export type NonNegative = t.Branded<number, NonNegativeBrand>
/** A probability: a number in [0, 1]. */
export type Probability = t.Branded<number, ProbabilityBrand>
/** A number in [0, 1) (a dropout rate, a decay β). */
export type Fraction = t.Branded<number, FractionBrand>

const numberCodec = <A extends number>(name: string, ok: (n: number) => boolean): t.Type<A, number, unknown> =>
  new t.Type<A, number, unknown>(
    name,
    (u): u is A => typeof u === 'number' && ok(u),
    (u, c) => (typeof u === 'number' && ok(u) ? t.success(u as A) : t.failure(u, c)),
    (a) => a
  )

/**
 * Safe integers ≥ 1.
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.ok(Codec.PositiveInt.is(128))
 * assert.ok(![0, -1, 1.5, NaN, 2 ** 53, '3'].some((u) => Codec.PositiveInt.is(u)))
 * ```
 */
export const PositiveInt = numberCodec<PositiveInt>('positive integer', (n) => Number.isSafeInteger(n) && n >= 1)

/**
 * Safe integers ≥ 0.
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.ok(Codec.NonNegativeInt.is(0))
 * assert.ok(!Codec.NonNegativeInt.is(-1))
 * ```
 */
export const NonNegativeInt = numberCodec<NonNegativeInt>('non-negative integer', (n) => Number.isSafeInteger(n) && n >= 0)

/**
 * Safe integers, of either sign.
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.ok(Codec.SafeInt.is(-7))
 * assert.ok(!Codec.SafeInt.is(0.5) && !Codec.SafeInt.is(2 ** 60))
 * ```
 */
export const SafeInt = numberCodec<SafeInt>('integer', (n) => Number.isSafeInteger(n))

/**
 * Finite numbers (JSON cannot hold `NaN` or `Infinity`, but JavaScript callers can pass them).
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.ok(Codec.Finite.is(-0.5))
 * assert.ok(!Codec.Finite.is(NaN) && !Codec.Finite.is(Infinity))
 * ```
 */
export const Finite = numberCodec<Finite>('finite number', (n) => Number.isFinite(n))

/**
 * Finite numbers > 0.
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.ok(Codec.Positive.is(1e-3))
 * assert.ok(!Codec.Positive.is(0) && !Codec.Positive.is(Infinity))
 * ```
 */
export const Positive = numberCodec<Positive>('positive number', (n) => Number.isFinite(n) && n > 0)

/**
 * Finite numbers ≥ 0.
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.ok(Codec.NonNegative.is(0) && Codec.NonNegative.is(0.01))
 * assert.ok(!Codec.NonNegative.is(-1e-9) && !Codec.NonNegative.is(Infinity))
 * ```
 */
export const NonNegative = numberCodec<NonNegative>('non-negative number', (n) => Number.isFinite(n) && n >= 0)

/**
 * Probabilities: numbers in [0, 1].
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.ok(Codec.Probability.is(0) && Codec.Probability.is(1))
 * const bad = Codec.decodeWith(Codec.Probability, 1.5, 'p')
 * assert.ok(bad._tag === 'Left' && bad.left.message === 'p: expected probability in [0, 1], got 1.5')
 * ```
 */
export const Probability = numberCodec<Probability>('probability in [0, 1]', (n) => n >= 0 && n <= 1)

/**
 * Numbers in [0, 1): a dropout rate (1 would drop everything), a decay coefficient.
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.ok(Codec.Fraction.is(0) && Codec.Fraction.is(0.999))
 * assert.ok(!Codec.Fraction.is(1))
 * ```
 */
export const Fraction = numberCodec<Fraction>('number in [0, 1)', (n) => n >= 0 && n < 1)

// ---------------------------------------------------------------- objects

/** The decoded type of a record of codecs. */
export type TypeOfProps<P extends t.Props> = { readonly [K in keyof P]: t.TypeOf<P[K]> }
/** The decoded type of a {@link struct}: the required keys, and the optional ones that may be absent. */
export type StructOf<R extends t.Props, O extends t.Props> = TypeOfProps<R> & Partial<TypeOfProps<O>>

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k)

const listKeys = (keys: readonly string[]): string => keys.join(', ')

/**
 * A closed object codec: the `required` keys must be present, the `optional` ones may be
 * absent (or `undefined`), and any other key is a failure (`layers[0].unit: expected no such
 * key (dense layer keys: kind, units, inputs), got 128`), so a typo is reported, not ignored.
 * Only own properties are read, and the decoded value is a fresh object holding the known
 * keys only.
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * const Dense = Codec.struct('dense layer', { units: Codec.PositiveInt }, { bias: Codec.Finite })
 * assert.deepStrictEqual(Codec.decodeWith(Dense, { units: 3 }, 'layer'), { _tag: 'Right', right: { units: 3 } })
 * const typo = Codec.decodeWith(Dense, { units: 3, bais: 0 }, 'layer')
 * assert.ok(typo._tag === 'Left')
 * assert.strictEqual(typo.left.message, 'layer: bais: expected no such key (dense layer keys: units, bias), got 0')
 * const missing = Codec.decodeWith(Dense, {}, 'layer')
 * assert.ok(missing._tag === 'Left' && missing.left.message === 'layer: units: expected positive integer, got undefined')
 * ```
 */
export const struct = <R extends t.Props, O extends t.Props = {}>(
  name: string,
  required: R,
  optional?: O
): t.Type<StructOf<R, O>, unknown, unknown> => {
  const opt: t.Props = optional ?? {}
  const known = [...Object.keys(required), ...Object.keys(opt)]
  const validate = (u: unknown, c: t.Context): t.Validation<StructOf<R, O>> => {
    if (!isRecord(u)) return t.failure(u, c, name)
    const errors: t.ValidationError[] = []
    const out: Record<string, unknown> = {}
    for (const k of Object.keys(u)) {
      if (!hasOwn(required, k) && !hasOwn(opt, k)) {
        const v = Object.getOwnPropertyDescriptor(u, k)?.value as unknown
        errors.push({ value: v, context: t.appendContext(c, k, t.unknown, v), message: `no such key (${name} keys: ${listKeys(known)})` })
      }
    }
    const field = (k: string, codec: t.Mixed, present: boolean): void => {
      const v = present ? (Object.getOwnPropertyDescriptor(u, k)?.value as unknown) : undefined
      const r = codec.validate(v, t.appendContext(c, k, codec, v))
      if (E.isLeft(r)) errors.push(...r.left)
      else out[k] = r.right
    }
    for (const k of Object.keys(required)) field(k, required[k]!, hasOwn(u, k))
    for (const k of Object.keys(opt)) {
      if (hasOwn(u, k) && Object.getOwnPropertyDescriptor(u, k)?.value !== undefined) field(k, opt[k]!, true)
    }
    return errors.length > 0 ? t.failures(errors) : t.success(out as StructOf<R, O>)
  }
  const is = (u: unknown): u is StructOf<R, O> => E.isRight(validate(u, [{ key: '', type: t.unknown, actual: u }]))
  return new t.Type<StructOf<R, O>, unknown, unknown>(name, is, validate, (a) => a)
}

/**
 * A union of object codecs told apart by a string field (`kind`): an unknown or missing tag
 * is one failure at that field (`layers[3].kind: expected one of "dense", "relu", got
 * "dence"`), and a known tag is decoded by its member alone, so the failures are that
 * member's. Tags are looked up as own keys only (`"kind": "constructor"` is simply unknown).
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import * as t from 'io-ts'
 * import assert from 'node:assert'
 * const Shape = Codec.tagged('kind', 'shape', {
 *   circle: Codec.struct('circle', { kind: t.literal('circle'), r: Codec.Positive }),
 *   square: Codec.struct('square', { kind: t.literal('square'), side: Codec.Positive })
 * })
 * assert.ok(Codec.decodeWith(Shape, { kind: 'circle', r: 1 }, 'shape')._tag === 'Right')
 * const bad = Codec.decodeWith(Shape, { kind: 'triangle' }, 'shape')
 * assert.ok(bad._tag === 'Left' && bad.left.message === 'shape: kind: expected one of "circle", "square", got "triangle"')
 * ```
 */
export const tagged = <M extends Readonly<Record<string, t.Mixed>>>(
  tag: string,
  name: string,
  members: M
): t.Type<t.TypeOf<M[keyof M]>, unknown, unknown> => {
  const table = new Map<string, t.Mixed>(Object.entries(members))
  const expected = `one of ${[...table.keys()].map((k) => JSON.stringify(k)).join(', ')}`
  const validate = (u: unknown, c: t.Context): t.Validation<t.TypeOf<M[keyof M]>> => {
    if (!isRecord(u)) return t.failure(u, c, `${name} (an object with a "${tag}" field)`)
    const value = hasOwn(u, tag) ? (Object.getOwnPropertyDescriptor(u, tag)?.value as unknown) : undefined
    const member = typeof value === 'string' ? table.get(value) : undefined
    if (member === undefined) return t.failure(value, t.appendContext(c, tag, t.string, value), expected)
    return member.validate(u, c) as t.Validation<t.TypeOf<M[keyof M]>>
  }
  const is = (u: unknown): u is t.TypeOf<M[keyof M]> => E.isRight(validate(u, [{ key: '', type: t.unknown, actual: u }]))
  return new t.Type<t.TypeOf<M[keyof M]>, unknown, unknown>(name, is, validate, (a) => a)
}

/**
 * A read-only array of at least `min` items, each decoded by `item`; failures point at the
 * item (`input[1]`).
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * const Dims = Codec.array(Codec.PositiveInt, 'shape (positive integers)', 1)
 * assert.deepStrictEqual(Codec.decodeWith(Dims, [1, 28, 28], 'input'), { _tag: 'Right', right: [1, 28, 28] })
 * const bad = Codec.decodeWith(Dims, [1, 0], 'input')
 * assert.ok(bad._tag === 'Left' && bad.left.message === 'input: [1]: expected positive integer, got 0')
 * const empty = Codec.decodeWith(Dims, [], 'input')
 * assert.ok(empty._tag === 'Left' && empty.left.message === 'input: expected shape (positive integers) with at least 1 item, got []')
 * ```
 */
export const array = <C extends t.Mixed>(item: C, name: string, min = 0): t.Type<ReadonlyArray<t.TypeOf<C>>, unknown, unknown> => {
  const validate = (u: unknown, c: t.Context): t.Validation<ReadonlyArray<t.TypeOf<C>>> => {
    if (!Array.isArray(u)) return t.failure(u, c, name)
    if (u.length < min) return t.failure(u, c, `${name} with at least ${plural(min, 'item')}`)
    const errors: t.ValidationError[] = []
    const out: unknown[] = new Array<unknown>(u.length)
    for (let i = 0; i < u.length; i++) {
      const v: unknown = u[i]
      const r = item.validate(v, t.appendContext(c, String(i), item, v))
      if (E.isLeft(r)) errors.push(...r.left)
      else out[i] = r.right
    }
    return errors.length > 0 ? t.failures(errors) : t.success(out as ReadonlyArray<t.TypeOf<C>>)
  }
  const is = (u: unknown): u is ReadonlyArray<t.TypeOf<C>> => E.isRight(validate(u, [{ key: '', type: t.unknown, actual: u }]))
  return new t.Type<ReadonlyArray<t.TypeOf<C>>, unknown, unknown>(name, is, validate, (a) => a)
}

/**
 * One of a fixed set of strings; the failure lists them (`expected one of "sgd", "adam"`).
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * const Loss = Codec.oneOf(['mse', 'crossEntropy'])
 * assert.ok(Loss.is('mse'))
 * const bad = Codec.decodeWith(Loss, 'hinge', 'loss')
 * assert.ok(bad._tag === 'Left' && bad.left.message === 'loss: expected one of "mse", "crossEntropy", got "hinge"')
 * ```
 */
export const oneOf = <const S extends string>(values: readonly S[]): t.Type<S, S, unknown> => {
  const set = new Set<string>(values)
  const name = `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`
  return new t.Type<S, S, unknown>(
    name,
    (u): u is S => typeof u === 'string' && set.has(u),
    (u, c) => (typeof u === 'string' && set.has(u) ? t.success(u as S) : t.failure(u, c)),
    (a) => a
  )
}
