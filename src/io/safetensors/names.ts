/**
 * What a tensor name or metadata key may be (no prototype keys, well-formed Unicode), and the
 * null-prototype records that hold named values.
 *
 * @module
 */
import { fail, quote } from './error.js'
import type { SafetensorsError } from './error.js'

/** Names that could reach `Object.prototype` or a constructor once used as keys. */
export const FORBIDDEN: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype'])
/** A lone surrogate: with the `u` flag a well-formed pair is one code point, outside this range. */
export const LONE_SURROGATE = /[\uD800-\uDFFF]/u
/** Whether `k` is an own property of `o`. */
export const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k)

/**
 * Checks a tensor name or metadata key: not `__proto__`, `constructor` or `prototype`, not with
 * such a dotted segment (names become tree paths), well-formed Unicode.
 */
export const checkName = (name: string, what: string): SafetensorsError | undefined => {
  if (FORBIDDEN.has(name) || name.split('.').some((s) => FORBIDDEN.has(s))) {
    return fail('key', `${what} ${quote(name)} is not allowed (the names __proto__, constructor and prototype are rejected, also as a dotted segment)`)
  }
  if (LONE_SURROGATE.test(name)) return fail('key', `${what} ${quote(name)} contains a lone UTF-16 surrogate`)
  return undefined
}

/** A frozen record without a prototype, so no key can reach `Object.prototype`. */
export const nullRecord = <V>(entries: ReadonlyArray<readonly [string, V]>): Readonly<Record<string, V>> => {
  const out = Object.create(null) as Record<string, V>
  for (const [k, v] of entries) Object.defineProperty(out, k, { value: v, enumerable: true, writable: false, configurable: false })
  return Object.freeze(out)
}
