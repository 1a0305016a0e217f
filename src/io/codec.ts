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

/** How a value that was cut is measured: its characters, items or keys. */
const measure = (u: unknown): string => {
  if (typeof u === 'string') return plural(u.length, 'character')
  if (Array.isArray(u)) return plural(u.length, 'item')
  if (ArrayBuffer.isView(u)) return plural((u as unknown as ArrayLike<unknown>).length ?? u.byteLength, 'item')
  return plural(Object.keys(u as object).length, 'key')
}

/**
 * At most `limit + 1` characters of a value as JSON: an iterative writer (so deep nesting
 * cannot overflow the stack) that stops as soon as it has enough, so a 10 MB value costs a
 * few hundred bytes. `undefined` for a cyclic value.
 */
const boundedJson = (u: unknown, limit: number): string | undefined => {
  let out = ''
  const onPath = new Set<object>()
  // a stack of pending work: a value to write, a literal to emit, or an object to leave
  type Work = { readonly value: unknown } | { readonly text: string } | { readonly leave: object }
  const stack: Work[] = [{ value: u }]
  while (stack.length > 0 && out.length <= limit) {
    const w = stack.pop()!
    if ('text' in w) {
      out += w.text
      continue
    }
    if ('leave' in w) {
      onPath.delete(w.leave)
      continue
    }
    const v = w.value
    if (v === null || v === undefined) out += v === null ? 'null' : 'undefined'
    else if (typeof v === 'number') out += String(v)
    else if (typeof v === 'string') out += JSON.stringify(v.length > limit ? v.slice(0, limit) : v)
    else if (typeof v === 'boolean') out += String(v)
    else if (typeof v === 'bigint') out += `${v}n`
    else if (typeof v !== 'object') out += typeof v === 'function' ? 'a function' : String(v)
    else {
      if (onPath.has(v)) return undefined
      onPath.add(v)
      stack.push({ leave: v })
      const list = Array.isArray(v) || ArrayBuffer.isView(v)
      out += list ? '[' : '{'
      stack.push({ text: list ? ']' : '}' })
      // push the members in reverse, only as many as can still be shown
      const members: Work[] = []
      let room = limit - out.length
      if (list) {
        const items = v as unknown as ArrayLike<unknown>
        for (let i = 0; i < items.length && room >= 0; i++, room -= 2) {
          if (i > 0) members.push({ text: ',' })
          members.push({ value: items[i] })
        }
      } else {
        let i = 0
        for (const k in v) {
          if (room < 0) break
          if (!Object.prototype.hasOwnProperty.call(v, k)) continue
          if (i++ > 0) members.push({ text: ',' })
          const key = JSON.stringify(k.length > limit ? k.slice(0, limit) : k)
          members.push({ text: `${key}:` }, { value: Object.getOwnPropertyDescriptor(v, k)?.value })
          room -= key.length + 2
        }
      }
      for (let i = members.length - 1; i >= 0; i--) stack.push(members[i]!)
    }
  }
  return out
}

/**
 * A value as short JSON for a message: strings quoted, `undefined`, `NaN` and `Infinity` by
 * name, and a long value cut after 60 characters with `…` and its size (`"aaaa…" (10000000
 * characters)`, `[0,0,…] (100 items)`), so that no message echoes more than about 100
 * characters of a value, however large. Never throws and never walks more of a value than
 * it shows (deep or cyclic values are fine; a cyclic one is named by its type).
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Codec.showValue('784'), '"784"')
 * assert.strictEqual(Codec.showValue(undefined), 'undefined')
 * assert.strictEqual(Codec.showValue({ kind: 'dense', units: 3 }), '{"kind":"dense","units":3}')
 * assert.strictEqual(Codec.showValue(Array.from({ length: 100 }, () => 0)), `[${'0,'.repeat(29)}0…] (100 items)`)
 * assert.strictEqual(Codec.showValue('a'.repeat(1e7)), `"${'a'.repeat(59)}…" (10000000 characters)`)
 * ```
 */
export const showValue = (u: unknown): string => {
  if (u === undefined) return 'undefined'
  if (typeof u === 'number') return Object.is(u, -0) ? '-0' : String(u)
  if (typeof u === 'bigint') {
    const s = `${u}n`
    return s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN)}… (${plural(s.length - 1, 'digit')})` : s
  }
  if (typeof u === 'function') return 'a function'
  if (typeof u === 'symbol') {
    const s = u.toString()
    return s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN)}…` : s
  }
  let s: string | undefined
  try {
    s = boundedJson(u, MAX_SHOWN)
  } catch {
    s = undefined // a getter or a proxy that throws
  }
  if (s === undefined) return Object.prototype.toString.call(u)
  if (s.length <= MAX_SHOWN) return s
  const cut = `${s.slice(0, MAX_SHOWN)}…`
  if (typeof u === 'string') return `${cut}" (${measure(u)})`
  if (typeof u === 'object' && u !== null) {
    const list = Array.isArray(u) || ArrayBuffer.isView(u)
    return `${cut}${list ? ']' : '}'} (${measure(u)})`
  }
  return cut
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
  // a depth-first walk with one frame per open array or object (memory: the depth, not the
  // size), and paths built from the frames only for a failure
  interface Frame {
    readonly node: object
    /** the keys of an object; undefined for an array */
    readonly keys: readonly string[] | undefined
    next: number
    readonly parent: Frame | undefined
    readonly key: string | number | undefined
  }
  const pathOf = (frame: Frame | undefined): string => {
    const keys: (string | number)[] = []
    for (let f = frame; f !== undefined && f.key !== undefined; f = f.parent) keys.push(f.key)
    return keys.reverse().reduce<string>(joinPath, '')
  }
  const enter = (u: unknown, parent: Frame | undefined, key: string | number | undefined): Frame | undefined => {
    if (typeof u !== 'object' || u === null || seen.has(u)) return undefined
    if (Array.isArray(u)) {
      if (u.length === 0) return undefined
      seen.add(u)
      return { node: u, keys: undefined, next: 0, parent, key }
    }
    if (!isRecord(u)) return undefined
    seen.add(u)
    const frame: Frame = { node: u, keys: Object.keys(u), next: 0, parent, key }
    for (const k of frame.keys!) {
      if (FORBIDDEN.has(k) && out.length < limit) {
        out.push({ path: joinPath(pathOf(frame), k), expected: `no key named ${JSON.stringify(k)}`, got: showValue(Object.getOwnPropertyDescriptor(u, k)?.value) })
      }
    }
    return frame
  }
  const stack: Frame[] = []
  const root = enter(value, undefined, undefined)
  if (root !== undefined) stack.push(root)
  while (stack.length > 0 && out.length < limit) {
    const f = stack[stack.length - 1]!
    let child: unknown
    let key: string | number
    if (f.keys === undefined) {
      const items = f.node as readonly unknown[]
      while (f.next < items.length && (typeof items[f.next] !== 'object' || items[f.next] === null)) f.next++ // numbers: nothing to see
      if (f.next >= items.length) {
        stack.pop()
        continue
      }
      key = f.next++
      child = items[key]
    } else {
      if (f.next >= f.keys.length) {
        stack.pop()
        continue
      }
      key = f.keys[f.next++]!
      if (FORBIDDEN.has(key)) continue
      child = Object.getOwnPropertyDescriptor(f.node, key)?.value
    }
    const next = enter(child, f, key)
    if (next !== undefined) stack.push(next)
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
  const value = parseJsonText(text, what)
  return E.isLeft(value) ? value : decodeWith(codec, value.right, what)
}

/**
 * The deepest nesting of arrays and objects that lamina parses in a JSON file (a model spec
 * needs 4, an example of rank 32 in a dataset 34).
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Codec.MAX_JSON_DEPTH, 64)
 * ```
 */
export const MAX_JSON_DEPTH = 64

/**
 * Parses JSON text into a value, after one linear scan that refuses text nested deeper than
 * `maxDepth` arrays and objects, before `JSON.parse` builds anything: ten million `[` would
 * otherwise cost gigabytes of arrays (and a recursive walk a stack overflow). A syntax error
 * is a `DecodeError` too, `expected valid JSON, got` the parser's words.
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(Codec.parseJsonText('{"a": [1, "[[["]}', 'file'), { _tag: 'Right', right: { a: [1, '[[['] } })
 * const deep = Codec.parseJsonText('['.repeat(1e6) + ']'.repeat(1e6), 'deep.json')
 * assert.ok(deep._tag === 'Left')
 * assert.strictEqual(deep.left.message, 'deep.json: expected JSON nested at most 64 deep (arrays and objects), got a 65th level at line 1, column 65')
 * ```
 */
export const parseJsonText = (text: string, what: string, maxDepth = MAX_JSON_DEPTH): Either<DecodeError, unknown> => {
  const tooDeep = deeperThan(text, maxDepth)
  if (tooDeep >= 0) {
    let line = 1
    let start = 0
    for (let i = text.indexOf('\n'); i >= 0 && i < tooDeep; i = text.indexOf('\n', i + 1)) {
      line++
      start = i + 1
    }
    return E.left(
      new DecodeError(what, [
        { path: '', expected: `JSON nested at most ${maxDepth} deep (arrays and objects)`, got: `a ${ordinal(maxDepth + 1)} level at line ${line}, column ${tooDeep - start + 1}` }
      ])
    )
  }
  try {
    return E.right(JSON.parse(text) as unknown)
  } catch (e) {
    const words = e instanceof Error ? e.message : String(e)
    return E.left(new DecodeError(what, [{ path: '', expected: 'valid JSON', got: words.length > 100 ? `${words.slice(0, 100)}…` : words }]))
  }
}

const ordinal = (n: number): string => {
  const tens = n % 100
  const suffix = tens >= 11 && tens <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th')
  return `${n}${suffix}`
}

/** The index of the first `[` or `{` (outside strings) nested deeper than `max`, or −1. */
const deeperThan = (text: string, max: number): number => {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92) i++ // a backslash: skip the escaped character
      else if (c === 34) inString = false
    } else if (c === 34) inString = true
    else if (c === 91 || c === 123) {
      if (++depth > max) return i
    } else if (c === 93 || c === 125) depth--
  }
  return -1
}

// ---------------------------------------------------------------- numbers written as text

const isDigit = (c: number): boolean => c >= 48 && c <= 57
const isBlank = (c: number): boolean => c === 32 || c === 9

/**
 * The one parser of numbers written as text in lamina (CSV cells for train, eval and
 * predict, command-line values): decimal notation with an optional sign, fraction and
 * exponent (`3`, `-1.5`, `.5`, `2.`, `6.02e23`, `1E-3`), with optional spaces or tabs around
 * it, whose value is finite. Everything else is `undefined`: an empty cell, hexadecimal,
 * octal or binary (`0x10`, `0o7`, `0b1`, which `Number` would accept), `Infinity`, `NaN`,
 * digit separators (`1_000`), a comma as decimal point, and a value that overflows (`1e999`).
 * One linear scan, so a 10 MB cell costs one pass (no backtracking pattern).
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.deepStrictEqual(['3', ' -1.5 ', '.5', '2.', '6.02e23', '+1E-3'].map(Codec.parseDecimal), [3, -1.5, 0.5, 2, 6.02e23, 0.001])
 * assert.deepStrictEqual(['', ' ', '0x10', '0b1', '0o7', 'Infinity', 'NaN', '1_000', '1,5', '1e999', '.', '1e', '--1'].map(Codec.parseDecimal),
 *   Array(13).fill(undefined))
 * ```
 */
export const parseDecimal = (text: string): number | undefined => {
  const n = text.length
  let i = 0
  while (i < n && isBlank(text.charCodeAt(i))) i++
  const start = i
  if (i < n && (text.charCodeAt(i) === 43 || text.charCodeAt(i) === 45)) i++ // + or -
  const integral = i
  while (i < n && isDigit(text.charCodeAt(i))) i++
  let digits = i - integral
  if (i < n && text.charCodeAt(i) === 46) {
    const fraction = ++i // after the point
    while (i < n && isDigit(text.charCodeAt(i))) i++
    digits += i - fraction
  }
  if (digits === 0) return undefined
  if (i < n && (text.charCodeAt(i) === 101 || text.charCodeAt(i) === 69)) {
    i++ // e or E
    if (i < n && (text.charCodeAt(i) === 43 || text.charCodeAt(i) === 45)) i++
    const from = i
    while (i < n && isDigit(text.charCodeAt(i))) i++
    if (i === from) return undefined
  }
  const end = i
  while (i < n && isBlank(text.charCodeAt(i))) i++
  if (i !== n) return undefined
  const v = Number(text.slice(start, end))
  return Number.isFinite(v) ? v : undefined
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
