/**
 * Decoding with a codec, and parsing JSON text with its nesting bounded, each a `DecodeError`
 * rather than a throw. Re-exported by `Codec`.
 *
 * @module
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Either } from 'fp-ts/lib/Either.js'
import type * as t from 'io-ts'
import { DecodeError } from './failure.js'
import { forbiddenKeyFailures } from './forbidden-keys.js'
import { report } from './report.js'
import { showValue } from './show.js'

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
