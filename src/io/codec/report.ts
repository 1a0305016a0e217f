/**
 * io-ts's validation errors as readable failures. Re-exported by `Codec`.
 *
 * @module
 */
import type * as t from 'io-ts'
import { formatFailure } from './failure.js'
import type { Failure } from './failure.js'
import { joinPath, showValue } from './show.js'

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
