// Test helper: counts how often each primitive's VJP maps run, by input position, while
// `body` runs, by wrapping entries of the rule table and restoring them afterwards.
import { Prim } from 'lamina-nn'
import type { Tensor } from 'lamina-nn'

export const countingVjps = <T>(prims: Prim.Prim[], body: () => T): [T, Map<string, number>] => {
  const counts = new Map<string, number>()
  const table = Prim.rules as unknown as Record<string, Prim.Rule<Prim.Prim>>
  const originals = prims.map((p) => [p, table[p]!] as const)
  for (const [p, rule] of originals) {
    table[p] = {
      ...rule,
      vjp: (ctx) =>
        rule.vjp(ctx).map((m, i) => (ct: Tensor) => {
          counts.set(`${p}:${i}`, (counts.get(`${p}:${i}`) ?? 0) + 1)
          return m(ct)
        })
    }
  }
  try {
    return [body(), counts]
  } finally {
    for (const [p, rule] of originals) table[p] = rule
  }
}
