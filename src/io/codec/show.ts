/**
 * Values and paths as messages write them: short JSON cut to a readable length, and paths as
 * JavaScript writes them. Re-exported by `Codec`.
 *
 * @module
 */
import { plural } from './internal.js'

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
