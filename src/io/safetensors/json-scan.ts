/**
 * Single-pass scans of a header's JSON text, without allocating or recursing: counting its
 * keys and items before `JSON.parse`, and finding a key given twice in one object, which
 * `JSON.parse` would silently drop.
 *
 * @module
 */

/** Whether `text` (JSON) has more than `limit` keys and array items: one pass, counting the `:` and `,` outside strings, no allocation. */
export const moreItemsThan = (text: string, limit: number): boolean => {
  let count = 0
  const n = text.length
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22) {
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i)
        if (d === 0x5c) i++
        else if (d === 0x22) break
      }
    } else if ((c === 0x3a || c === 0x2c) && ++count > limit) return true
  }
  return false
}

/**
 * The first key that appears twice in one object of `text`, valid JSON (it has been parsed),
 * with where it is: `JSON.parse` keeps the last of two equal keys without a word, while the
 * reference (serde) rejects a duplicate field. One pass over the text, no recursion; keys
 * are compared by value (`"a"` and `"\u0061"` are the same key), as serde compares them.
 */
export const findDuplicateKey = (text: string): { readonly key: string; readonly parents: readonly string[] } | undefined => {
  // one frame per open object (its keys so far, and the key it sits under) or array (null)
  const frames: Array<{ readonly keys: Set<string>; readonly under: string | undefined } | null> = []
  let expectKey = false
  let lastKey: string | undefined
  const n = text.length
  let i = 0
  while (i < n) {
    const c = text.charCodeAt(i)
    if (c === 0x22) {
      // a string: find its closing quote (skipping escapes)
      let j = i + 1
      let escaped = false
      for (; j < n; j++) {
        const d = text.charCodeAt(j)
        if (d === 0x5c) {
          escaped = true
          j++
        } else if (d === 0x22) break
      }
      const top = frames[frames.length - 1]
      if (expectKey && top) {
        const key = escaped ? (JSON.parse(text.slice(i, j + 1)) as string) : text.slice(i + 1, j)
        if (top.keys.has(key)) {
          const parents = frames.filter((f) => f !== null && f.under !== undefined).map((f) => f!.under!)
          return { key, parents }
        }
        top.keys.add(key)
        lastKey = key
        expectKey = false
      }
      i = j + 1
      continue
    }
    if (c === 0x7b) {
      // '{': keys follow; the object sits under the last key read in an enclosing object
      const parent = frames[frames.length - 1]
      frames.push({ keys: new Set(), under: parent ? lastKey : undefined })
      expectKey = true
    } else if (c === 0x5b) {
      frames.push(null)
      expectKey = false
    } else if (c === 0x7d || c === 0x5d) {
      frames.pop()
      expectKey = false
    } else if (c === 0x2c) {
      expectKey = frames[frames.length - 1] != null
    }
    i++
  }
  return undefined
}
