/**
 * The keys no decoded object may hold (`__proto__`, `constructor`, `prototype`), found
 * anywhere in a value without recursion. Re-exported by `Codec`.
 *
 * @module
 */
import type { Failure } from './failure.js'
import { isRecord } from './internal.js'
import { joinPath, showValue } from './show.js'

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
