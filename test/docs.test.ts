/**
 * The guides in `docs/` cannot drift from the tests they cite.
 *
 * 1. **Structure** (`docs/ guides`): every chapter exists and the index links to it; every
 *    link of the form [`test/x.test.ts` › describe › … › it](../test/x.test.ts) names a chain
 *    of `describe`/`it` titles that exists in that file (titles are read from the file's
 *    syntax tree, so a renamed test breaks the link); every relative link resolves; every
 *    code reference to a source file (`rules.matmul`, `Layers.dense`) names something that
 *    file defines; every displayed equation is followed by a link to a test that checks it;
 *    every ```ts block asserts something.
 * 2. **Equations the chapters rely on that no other suite checks** (`docs/0N-….md`): one
 *    `describe` per chapter, named after its file, so `-t "docs/"` runs them all and a
 *    chapter can link to them like any other test.
 *
 * The ```ts blocks themselves are run by `test/doc-examples.test.ts`.
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { fc, test as fcTest } from '@fast-check/vitest'
import {
  Dual,
  Layer,
  Layers,
  Loss,
  Random,
  Tape,
  add,
  grad,
  jacfwd,
  jacrev,
  jvp,
  log,
  matmul,
  mul,
  reshape,
  sigmoid,
  sin,
  sub,
  sum,
  tanh,
  tensor,
  vjp
} from 'lamina-nn'
import type { Tensor } from 'lamina-nn'
import { dot, ridders, tensorOf, toVector } from 'lamina-nn/laws'
import { countingVjps } from './support/rules.js'

const ROOT = path.resolve(fileURLToPath(new URL('..', import.meta.url)))
const DOCS = path.join(ROOT, 'docs')

/** The chapters, in reading order. */
const CHAPTERS = [
  '01-chain-rule.md',
  '02-composition.md',
  '03-graphs.md',
  '04-mlp-backprop.md',
  '05-losses.md',
  '06-gradient-checking.md',
  '07-compiled.md',
  '08-student-path.md'
]

// ================================================================ reading the guides

interface Guide {
  readonly file: string // relative to the root, e.g. docs/01-chain-rule.md
  readonly text: string
  readonly lines: readonly string[]
}

const guides = (): Guide[] =>
  fs.existsSync(DOCS)
    ? fs
        .readdirSync(DOCS)
        .filter((f) => f.endsWith('.md'))
        .sort()
        .map((f) => {
          const text = fs.readFileSync(path.join(DOCS, f), 'utf8')
          return { file: `docs/${f}`, text, lines: text.split(/\r?\n/) }
        })
    : []

/** The guide's text with fenced code blocks blanked (line numbers kept), so links in code are not links. */
const prose = (g: Guide): string[] => {
  let fenced = false
  return g.lines.map((line) => {
    if (/^\s*(`{3,}|~{3,})/.test(line)) {
      fenced = !fenced
      return ''
    }
    return fenced ? '' : line
  })
}

interface Link {
  readonly text: string
  readonly target: string
  readonly line: number // 1-based
}

/** Inline Markdown links `[text](target)` outside code blocks; text may hold balanced brackets. */
const links = (g: Guide): Link[] => {
  const out: Link[] = []
  prose(g).forEach((line, i) => {
    for (let start = line.indexOf('['); start >= 0; start = line.indexOf('[', start + 1)) {
      let depth = 0
      let end = -1
      for (let k = start; k < line.length; k++) {
        if (line[k] === '[') depth++
        else if (line[k] === ']' && --depth === 0) {
          end = k
          break
        }
      }
      if (end < 0 || line[end + 1] !== '(') continue
      const close = line.indexOf(')', end + 2)
      if (close < 0) continue
      out.push({ text: line.slice(start + 1, end), target: line.slice(end + 2, close).trim(), line: i + 1 })
      start = close
    }
  })
  return out
}

const resolveTarget = (g: Guide, target: string): string => path.resolve(path.dirname(path.join(ROOT, g.file)), target.split('#')[0]!)

const isExternal = (target: string): boolean => /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')

// ================================================================ test titles, from the syntax tree

/** A registered test or suite: its title as a pattern, and whether it is a `describe`. */
interface TitleNode {
  readonly pattern: RegExp
  readonly raw: string
  readonly suite: boolean
  readonly chain: readonly TitleNode[] // enclosing describes, outermost first
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** The pattern of a title argument: exact for a string, `.+` for each `${…}` or printf placeholder of `.each`. */
const titlePattern = (arg: ts.Expression, printf: boolean): { pattern: RegExp; raw: string } | undefined => {
  const literal = (s: string) => {
    const parts = printf ? s.split(/%[sdifjo#]/) : [s]
    return parts.map(escapeRegExp).join('.+')
  }
  if (ts.isStringLiteral(arg) || ts.isNoSubstitutionTemplateLiteral(arg)) {
    return { pattern: new RegExp(`^${literal(arg.text)}$`, 's'), raw: arg.text }
  }
  if (ts.isTemplateExpression(arg)) {
    const body = [literal(arg.head.text), ...arg.templateSpans.map((s) => `.+${literal(s.literal.text)}`)].join('')
    return { pattern: new RegExp(`^${body}$`, 's'), raw: arg.getText() }
  }
  return undefined
}

/**
 * Every `describe`/`it`/`test` title in a test file, including `it.each(…)(title)`,
 * `test.prop(…)(title)` and the fast-check alias `fcTest.prop(…)(title)`, with the chain of
 * enclosing `describe` titles.
 */
const titlesOf = (file: string): TitleNode[] => {
  const text = fs.readFileSync(file, 'utf8')
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS)
  // local names bound to vitest's and @fast-check/vitest's describe / it / test
  const suiteNames = new Set(['describe', 'suite'])
  const testNames = new Set(['it', 'test'])
  for (const st of sf.statements) {
    if (!ts.isImportDeclaration(st) || !ts.isStringLiteral(st.moduleSpecifier)) continue
    if (!['vitest', '@fast-check/vitest'].includes(st.moduleSpecifier.text)) continue
    const named = st.importClause?.namedBindings
    if (named === undefined || !ts.isNamedImports(named)) continue
    for (const el of named.elements) {
      const imported = (el.propertyName ?? el.name).text
      if (imported === 'describe' || imported === 'suite') suiteNames.add(el.name.text)
      if (imported === 'it' || imported === 'test') testNames.add(el.name.text)
    }
  }
  /** The identifier at the root of `x`, `x.each(…)`, `x.skip`, `x.prop(…)`; and whether `.each` was seen. */
  const root = (e: ts.Expression, printf = false): { name: string; printf: boolean } | undefined => {
    if (ts.isIdentifier(e)) return { name: e.text, printf }
    if (ts.isPropertyAccessExpression(e)) return root(e.expression, printf || e.name.text === 'each')
    if (ts.isCallExpression(e)) return root(e.expression, printf)
    return undefined
  }
  const out: TitleNode[] = []
  const visit = (node: ts.Node, chain: readonly TitleNode[]): void => {
    if (ts.isCallExpression(node) && node.arguments.length > 0) {
      const r = root(node.expression)
      // `it(…)`, `it.skip(…)` or `it.each(…)(…)`: the callee is not itself the `.each(...)` call's argument list
      const isRegistration =
        r !== undefined &&
        (suiteNames.has(r.name) || testNames.has(r.name)) &&
        !(ts.isPropertyAccessExpression(node.expression) && ['each', 'prop', 'for'].includes(node.expression.name.text))
      const title = isRegistration ? titlePattern(node.arguments[0]!, r.printf) : undefined
      if (r !== undefined && title !== undefined) {
        const entry: TitleNode = { ...title, suite: suiteNames.has(r.name), chain }
        out.push(entry)
        ts.forEachChild(node, (child) => visit(child, entry.suite ? [...chain, entry] : chain))
        return
      }
    }
    ts.forEachChild(node, (child) => visit(child, chain))
  }
  visit(sf, [])
  return out
}

const titleCache = new Map<string, TitleNode[]>()
const titlesCached = (file: string): TitleNode[] => {
  const hit = titleCache.get(file)
  if (hit !== undefined) return hit
  const found = titlesOf(file)
  titleCache.set(file, found)
  return found
}

/** Whether `segments` (outermost first, the last one a test or suite) is the tail of a registered chain. */
const chainExists = (nodes: readonly TitleNode[], segments: readonly string[]): boolean =>
  nodes.some((n) => {
    const full = [...n.chain, n]
    if (segments.length > full.length) return false
    const tail = full.slice(full.length - segments.length)
    return tail.every((t, i) => t.pattern.test(segments[i]!))
  })

/** A link whose text is a backquoted test file followed by ` › `-separated titles. */
const TEST_LINK = /^`(test\/[^`]+\.ts)`\s*›\s*(.+)$/s

interface TestLink extends Link {
  readonly file: string
  readonly segments: readonly string[]
}

const testLinks = (g: Guide): TestLink[] =>
  links(g).flatMap((l) => {
    const m = TEST_LINK.exec(l.text)
    if (m === null) return []
    return [{ ...l, file: m[1]!, segments: m[2]!.split(/\s+›\s+/).map((s) => s.trim()) }]
  })

// ================================================================ structure

describe('docs/ guides', () => {
  const all = guides()

  it('docs/: every chapter exists, and docs/README.md links to each in order', () => {
    for (const c of CHAPTERS) expect(fs.existsSync(path.join(DOCS, c)), `docs/${c} is missing`).toBe(true)
    const index = all.find((g) => g.file === 'docs/README.md')
    expect(index, 'docs/README.md is missing').toBeDefined()
    const targets = links(index!).map((l) => l.target.split('#')[0]!.replace(/^\.\//, ''))
    const positions = CHAPTERS.map((c) => targets.indexOf(c))
    expect(positions.every((p) => p >= 0), `docs/README.md must link to ${CHAPTERS.join(', ')}`).toBe(true)
    expect([...positions].sort((a, b) => a - b)).toEqual(positions)
  })

  it('docs/: every link to a test names a chain of describe and it titles that exists in that file', () => {
    const problems: string[] = []
    let count = 0
    for (const g of all) {
      for (const l of testLinks(g)) {
        count++
        const where = `${g.file}:${l.line}`
        const file = path.join(ROOT, l.file)
        if (resolveTarget(g, l.target) !== file) problems.push(`${where}: the link text names ${l.file} but points at ${l.target}`)
        if (!fs.existsSync(file)) {
          problems.push(`${where}: ${l.file} does not exist`)
          continue
        }
        if (!chainExists(titlesCached(file), l.segments)) {
          problems.push(`${where}: ${l.file} has no test ${l.segments.map((s) => JSON.stringify(s)).join(' › ')}`)
        }
      }
    }
    expect(problems).toEqual([])
    expect(count).toBeGreaterThan(0)
  })

  it('docs/: every relative link resolves to a file', () => {
    const problems = all.flatMap((g) =>
      links(g)
        .filter((l) => !isExternal(l.target))
        .filter((l) => !fs.existsSync(resolveTarget(g, l.target)))
        .map((l) => `${g.file}:${l.line}: ${l.target} does not exist`)
    )
    expect(problems).toEqual([])
  })

  it('docs/: a code reference linked to a source file names something that file defines', () => {
    const problems: string[] = []
    for (const g of all) {
      for (const l of links(g)) {
        const m = /^`([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)(?:\(\))?`$/.exec(l.text)
        if (m === null || isExternal(l.target) || !/\.ts$/.test(l.target.split('#')[0]!)) continue
        const file = resolveTarget(g, l.target)
        if (!fs.existsSync(file)) continue // reported by the link check
        const name = m[1]!.split('.').pop()!
        const source = fs.readFileSync(file, 'utf8')
        const defined = new RegExp(
          `(?:const|function|class|interface|type|let)\\s+${escapeRegExp(name)}\\b|^\\s*(?:readonly\\s+)?${escapeRegExp(name)}\\s*[:(]`,
          'm'
        )
        if (!defined.test(source)) problems.push(`${g.file}:${l.line}: ${l.target} does not define ${name}`)
      }
    }
    expect(problems).toEqual([])
  })

  it('docs/: every displayed equation is followed by a link to a test that checks it', () => {
    const problems: string[] = []
    for (const g of CHAPTERS.map((c) => all.find((x) => x.file === `docs/${c}`)).filter((x): x is Guide => x !== undefined)) {
      const lines = prose(g)
      // display blocks: a line that is `$$` alone opens or closes one
      const blocks: { start: number; end: number }[] = []
      let open = -1
      lines.forEach((line, i) => {
        if (line.trim() !== '$$') return
        if (open < 0) open = i
        else {
          blocks.push({ start: open, end: i })
          open = -1
        }
      })
      if (open >= 0) problems.push(`${g.file}:${open + 1}: a $$ block is never closed`)
      blocks.forEach((b, k) => {
        const next = blocks[k + 1]?.start ?? lines.length
        const heading = lines.findIndex((line, i) => i > b.end && /^#{1,6}\s/.test(line))
        const stop = heading >= 0 ? Math.min(heading, next) : next
        const after = lines.slice(b.end + 1, stop).join('\n')
        const cited = testLinks({ ...g, lines: after.split('\n'), text: after }).length > 0
        if (!cited) problems.push(`${g.file}:${b.start + 1}: the equation is not followed by a link to a test that checks it`)
      })
    }
    expect(problems).toEqual([])
  })

  it('docs/: a source excerpt (a ```text block headed // src/… or // laws/…) is quoted verbatim from that file', () => {
    const problems: string[] = []
    for (const g of all) {
      let block: string[] | undefined
      let start = 0
      g.lines.forEach((line, i) => {
        if (block === undefined && /^\s*```\s*text\s*$/.test(line)) {
          block = []
          start = i + 1
        } else if (block !== undefined && /^\s*```\s*$/.test(line)) {
          const head = /^\/\/ ((?:src|laws)\/\S+\.ts)$/.exec(block[0]?.trim() ?? '')
          if (head !== null) {
            const file = path.join(ROOT, head[1]!)
            const source = fs.existsSync(file) ? new Set(fs.readFileSync(file, 'utf8').split(/\r?\n/).map((l) => l.trim())) : new Set<string>()
            if (source.size === 0) problems.push(`${g.file}:${start}: ${head[1]} does not exist`)
            block.slice(1).forEach((l, k) => {
              if (l.trim() !== '' && !source.has(l.trim())) problems.push(`${g.file}:${start + k + 2}: not in ${head[1]}: ${l.trim()}`)
            })
          }
          block = undefined
        } else if (block !== undefined) block.push(line)
      })
    }
    expect(problems).toEqual([])
  })

  it('docs/: every ```ts block imports assert and asserts something', () => {
    const problems: string[] = []
    for (const g of all) {
      let block: string[] | undefined
      let start = 0
      g.lines.forEach((line, i) => {
        if (block === undefined && /^\s*```\s*(ts|typescript)\b/.test(line)) {
          block = []
          start = i + 1
        } else if (block !== undefined && /^\s*```\s*$/.test(line)) {
          const code = block.join('\n')
          if (!/import assert from 'node:assert'/.test(code) || !/\bassert(\.\w+)?\(/.test(code)) {
            problems.push(`${g.file}:${start}: the ts block does not assert anything`)
          }
          block = undefined
        } else if (block !== undefined) block.push(line)
      })
    }
    expect(problems).toEqual([])
  })
})

// ================================================================ the equations of the chapters

const real = (min: number, max: number) => fc.double({ min, max, noNaN: true, noDefaultInfinity: true })
type Vec = Tensor<[number], 'f64'>
type Mat = Tensor<[number, number], 'f64'>
type Scalar = Tensor<[], 'f64'>

const closeTo = (a: number, b: number, rel: number): boolean => Math.abs(a - b) <= rel * Math.max(1, Math.abs(a), Math.abs(b))
const allClose = (a: ArrayLike<number>, b: ArrayLike<number>, rel: number): boolean =>
  a.length === b.length && Array.from(a).every((x, i) => closeTo(x, b[i]!, rel))

describe('docs/01-chain-rule.md', () => {
  const D = Dual.FloatingDual

  fcTest.prop([real(-1e3, 1e3), real(-1e3, 1e3), real(-1e3, 1e3), real(-1e3, 1e3)])(
    'dual multiplication is (a + bε)(c + dε) = ac + (ad + bc)ε, and ε² = 0',
    (a, b, c, d) => {
      const z = D.mul(Dual.variable(a, b), Dual.variable(c, d))
      const eps = D.mul(Dual.variable(0, 1), Dual.variable(0, 1))
      return z._tag === 'Perturbed' && z.primal === a * c && z.tangent === a * d + b * c && eps._tag === 'Perturbed' && eps.primal === 0 && eps.tangent === 0
    }
  )

  const unary = [
    ['sin', D.sin, Math.sin, Math.cos],
    ['exp', D.exp, Math.exp, Math.exp],
    ['tanh', D.tanh, Math.tanh, (x: number) => 1 - Math.tanh(x) ** 2]
  ] as const
  fcTest.prop([real(-3, 3), fc.constantFrom(0, 1, 2), fc.constantFrom(0, 1, 2)])(
    'dual numbers compose by the chain rule: (f∘g)(a + ε) = f(g(a)) + f′(g(a))·g′(a)·ε',
    (a, i, j) => {
      const [, fD, f, df] = unary[i]!
      const [, gD, g, dg] = unary[j]!
      const y = fD(gD(Dual.variable(a)))
      return y._tag === 'Perturbed' && closeTo(y.primal, f(g(a)), 1e-15) && closeTo(y.tangent, df(g(a)) * dg(a), 1e-14)
    }
  )
})

describe('docs/02-composition.md', () => {
  // g: ℝ² → ℝ³ and f: ℝ³ → ℝ³, so the Jacobians are 3×2 and 3×3 and their product 3×2
  const A = tensor([[1, -2, 0.5], [0.3, 1, -1]])
  const g = (x: Vec): Vec => reshape(tanh(matmul(reshape(x, [1, 2]), A)), [3]) as Vec
  const f = (u: Vec): Vec => mul(sin(u), sum(u)) as unknown as Vec

  fcTest.prop([tensorOf([2], { min: -2, max: 2 })], { numRuns: 50 })(
    'the Jacobian of a composition is the product of the Jacobians: J(f∘g)(x) = Jf(g(x))·Jg(x)',
    (x) => {
      const whole = jacfwd((v: Vec) => f(g(v)))(x as Vec)
      const product = matmul(jacfwd(f)(g(x as Vec)) as Mat, jacfwd(g)(x as Vec) as Mat)
      return allClose(whole.data, product.data, 1e-14) && allClose(jacrev((v: Vec) => f(g(v)))(x as Vec).data, product.data, 1e-14)
    }
  )

  fcTest.prop([tensorOf([2], { min: -2, max: 2 }), tensorOf([2]), tensorOf([3])], { numRuns: 50 })(
    'jvp computes J·t and vjp computes cᵀ·J without forming J',
    (x, t, c) => {
      const h = (v: Vec) => g(v)
      const J = jacfwd(h)(x as Vec) as Mat
      const [, Jt] = jvp(h, [x as Vec], [t as Vec])
      const [, pullback] = vjp(h, x as Vec)
      const [cJ] = pullback(c as Vec)
      return (
        allClose(Jt.data, matmul(J, reshape(t, [2, 1])).data, 1e-14) &&
        allClose(cJ.data, matmul(reshape(c, [1, 3]), J).data, 1e-14)
      )
    }
  )

  it('forward accumulation evaluates f once per input element, reverse once in all and sweeps once per output element', () => {
    let calls = 0
    const h = (v: Vec) => {
      calls++
      return tanh(mul(v, sum(v))) as Vec
    }
    const x = tensor([0.1, 0.2, 0.3, 0.4, 0.5]) as Vec
    jacfwd(h)(x)
    expect(calls).toBe(5) // n passes, n = 5 inputs
    calls = 0
    const [, counts] = countingVjps(['tanh'], () => jacrev(h)(x))
    expect(calls).toBe(1) // one forward pass records the tape …
    expect(counts.get('tanh:0')).toBe(5) // … and m = 5 backward sweeps each pull back through tanh once
    calls = 0
    const scalar = (v: Vec) => sum(h(v))
    const [, countsGrad] = countingVjps(['tanh'], () => grad(scalar)(x))
    expect(calls).toBe(1)
    expect(countsGrad.get('tanh:0')).toBe(1) // m = 1: the whole gradient in one sweep
  })
})

describe('docs/03-graphs.md', () => {
  fcTest.prop([real(-2, 2), real(-2, 2), real(-2, 2), real(-1, 1)])(
    'a value used twice: ∂u7/∂u4 = ∂u7/∂u5·∂u5/∂u4 + ∂u7/∂u6·∂u6/∂u4',
    (u4, w1, w2, b) => {
      // seed 003's example: u5 and u6 both read u4, and u7 = σ(w1·u5 + w2·u6 + b)
      const u7 = (u: Scalar) => sigmoid(add(add(mul(sin(u), w1), mul(mul(u, u), w2)), b))
      const z = w1 * Math.sin(u4) + w2 * u4 * u4 + b
      const s = 1 / (1 + Math.exp(-z))
      const byHand = s * (1 - s) * w1 * Math.cos(u4) + s * (1 - s) * w2 * 2 * u4
      return closeTo(grad(u7)(tensor(u4)).item(), byHand, 1e-14)
    }
  )

  it('the backward sweep over seed 004’s tape reproduces the reverse adjoint trace', () => {
    const trace = new Tape.ReverseTrace(1_000_000)
    const x1 = trace.variable(tensor(2))
    const x2 = trace.variable(tensor(5))
    const v1 = log(x1)
    const v2 = mul(x1, x2)
    const v3 = sin(x2)
    const v4 = add(v1, v2)
    const v5 = sub(v4, v3)
    const [, tape] = trace.recorded(v5)()
    expect(Tape.nodes(tape).map((n) => n.prim)).toEqual(['log', 'mul', 'sin', 'add', 'sub'])
    const bar = Tape.backward(tape, new Map([[trace.idOf(v5)!, tensor(1)]]))
    const adj = (v: Tensor) => bar.get(trace.idOf(v)!)!.item()
    expect([adj(v5), adj(v4), adj(v3), adj(v2), adj(v1)]).toEqual([1, 1, -1, 1, 1])
    expect(adj(x1)).toBe(5.5) // v̄₋₁ = v̄₂·v₀ + v̄₁/v₋₁ = 5 + 0.5
    expect(adj(x2)).toBeCloseTo(2 - Math.cos(5), 15) // v̄₀ = v̄₂·v₋₁ + v̄₃·cos v₀
    // each node's rule was evaluated once: five nodes, eight edges pulled back
    const [, counts] = countingVjps(['log', 'mul', 'sin', 'add', 'sub'], () => Tape.backward(tape, new Map([[trace.idOf(v5)!, tensor(1)]])))
    expect([...counts.values()].reduce((s, n) => s + n, 0)).toBe(8)
    expect(Math.max(...counts.values())).toBe(1)
  })
})

describe('docs/04-mlp-backprop.md', () => {
  /** The four equations of backprop, batched, for dense → tanh → dense and the MSE loss. */
  const byHand = (p: { w1: Mat; b1: Vec; w2: Mat; b2: Vec }, x: Mat, y: Mat) => {
    const z1 = add(matmul(x, p.w1), p.b1) as Mat
    const a1 = tanh(z1) as Mat
    const z2 = add(matmul(a1, p.w2), p.b2) as Mat
    const delta2 = mul(sub(z2, y), 2 / z2.size) as Mat // ∂L/∂Z2 for L = mean((Z2 − Y)²)
    const w2 = matmul(a1, delta2, { transposeA: true }) // W̄2 = A1ᵀ·Δ2
    const b2 = sum(delta2, 0) // b̄2 = Σ over the batch of Δ2
    const a1bar = matmul(delta2, p.w2, { transposeB: true }) // Ā1 = Δ2·W2ᵀ
    const delta1 = mul(a1bar, sub(1, mul(a1, a1))) as Mat // Δ1 = Ā1 ⊙ tanh′(Z1)
    return { w1: matmul(x, delta1, { transposeA: true }), b1: sum(delta1, 0), w2, b2 }
  }

  const cases = fc
    .record({ b: fc.integer({ min: 1, max: 5 }), n0: fc.integer({ min: 1, max: 4 }), n1: fc.integer({ min: 1, max: 5 }), n2: fc.integer({ min: 1, max: 3 }) })
    .chain(({ b, n0, n1, n2 }) =>
      fc.record({
        x: tensorOf([b, n0]),
        y: tensorOf([b, n2]),
        p: fc.record({ w1: tensorOf([n0, n1], { min: -1, max: 1 }), b1: tensorOf([n1], { min: -1, max: 1 }), w2: tensorOf([n1, n2], { min: -1, max: 1 }), b2: tensorOf([n2], { min: -1, max: 1 }) })
      })
    )

  fcTest.prop([cases], { numRuns: 100 })('the four backprop equations, batched, give the gradient grad computes', ({ x, y, p }) => {
    const mlp = Layer.sequential(Layers.dense(x.shape[1]!, p.w1.shape[1]!), Layers.tanh(), Layers.dense(p.w1.shape[1]!, y.shape[1]!))
    type P = { readonly layers: readonly [{ w: Tensor; b: Tensor }, object, { w: Tensor; b: Tensor }] }
    const params: P = { layers: [{ w: p.w1, b: p.b1 }, {}, { w: p.w2, b: p.b2 }] }
    const g = grad((q: P) => Loss.mse(Layer.apply(mlp as never, q, x), y as Mat))(params)
    const h = byHand(p as never, x as Mat, y as Mat)
    return (
      allClose(g.layers[0].w.data, h.w1.data, 1e-13) &&
      allClose(g.layers[0].b.data, h.b1.data, 1e-13) &&
      allClose(g.layers[2].w.data, h.w2.data, 1e-13) &&
      allClose(g.layers[2].b.data, h.b2.data, 1e-13)
    )
  })

  fcTest.prop([fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })).chain(([m, k, n]) => fc.tuple(tensorOf([m, k]), tensorOf([k, n]), tensorOf([n]), tensorOf([m, n])))])(
    'the rules for y = x·w + b: x̄ = ȳ·wᵀ, w̄ = xᵀ·ȳ, b̄ = Σ over the batch of ȳ',
    ([x, w, b, ybar]) => {
      const [, pullback] = vjp((xx: Mat, ww: Mat, bb: Vec) => add(matmul(xx, ww), bb), x as Mat, w as Mat, b as Vec)
      const [xbar, wbar, bbar] = pullback(ybar as Mat)
      return (
        allClose(xbar.data, matmul(ybar as Mat, w as Mat, { transposeB: true }).data, 1e-15) &&
        allClose(wbar.data, matmul(x as Mat, ybar as Mat, { transposeA: true }).data, 1e-15) &&
        allClose(bbar.data, sum(ybar as Mat, 0).data, 1e-15)
      )
    }
  )

  it('the backward pass of an L-layer MLP runs 2L − 1 matrix products: L for the weights, L − 1 for the activations', () => {
    const mlp = Layer.sequential(Layers.dense(4, 5), Layers.tanh(), Layers.dense(5, 3), Layers.tanh(), Layers.dense(3, 2))
    const x = tensor([[0.1, 0.2, 0.3, 0.4], [-0.5, 0.5, 1, 0]])
    const params = mlp.init(Random.key(0))
    const loss = (p: typeof params) => Loss.mse(Layer.apply(mlp, p, x), [0, 1, 1, 0])
    const [, counts] = countingVjps(['matmul'], () => grad(loss)(params))
    expect(counts.get('matmul:1')).toBe(3) // W̄ = Xᵀ·Δ, one per layer
    expect(counts.get('matmul:0')).toBe(2) // X̄ = Δ·Wᵀ, for every layer but the first, whose X is data
  })
})

describe('docs/05-losses.md', () => {
  const mseOnSigmoid = (y: number) => (z: Vec) => Loss.mse(sigmoid(z) as Vec, [y])
  const bceOnLogits = (y: number) => (z: Vec) => Loss.binaryCrossEntropyWithLogits(z, [y])

  fcTest.prop([real(20, 700), fc.constantFrom(1, -1)])(
    'a confidently wrong sigmoid unit: MSE’s gradient vanishes like e^(−|z|), the softplus-form BCE’s is ≈ 1; right, both vanish',
    (m, sign) => {
      const z = tensor([sign * m]) as Vec
      const wrong = sign > 0 ? 0 : 1 // the label the unit is sure it is not
      const right = 1 - wrong
      const g = (f: (z: Vec) => Tensor) => Math.abs(grad(f)(z).data[0]!)
      return g(mseOnSigmoid(wrong)) < 1e-8 && g(bceOnLogits(wrong)) > 0.999 && g(bceOnLogits(right)) < 1e-8
    }
  )

  fcTest.prop([fc.integer({ min: 2, max: 5 }).chain((k) => fc.tuple(fc.array(real(-5, 5), { minLength: k, maxLength: k }), fc.nat(k - 1), fc.nat(k - 1)))])(
    'when one logit dominates by 30 or more, cross-entropy on logits is max_j z_j − z_y (linear when wrong, 0 when right)',
    ([base, top, label]) => {
      const z = base.map((v, j) => (j === top ? v + 40 : v))
      const ce = Loss.crossEntropyWithLogits(tensor([z]), [label]).item()
      const approx = Math.max(...z) - z[label]!
      return ce - approx >= -1e-13 && ce - approx <= z.length * Math.exp(-30)
    }
  )
})

describe('docs/06-gradient-checking.md', () => {
  /** Mean |difference quotient − exact| over 64 points of [0.5, 1.5], for f = sin. */
  const meanError = (h: number, centred = true): number => {
    let s = 0
    for (let i = 0; i < 64; i++) {
      const x = 0.5 + i / 63
      const q = centred ? (Math.sin(x + h) - Math.sin(x - h)) / (2 * h) : (Math.sin(x + h) - Math.sin(x)) / h
      s += Math.abs(q - Math.cos(x))
    }
    return s / 64
  }

  it('a one-sided difference is first order: its error falls like h and is smallest near √ε', () => {
    const e = Array.from({ length: 13 }, (_, k) => meanError(10 ** -(k + 1), false))
    for (const k of [0, 1, 2, 3]) {
      expect(e[k]! / e[k + 1]!).toBeGreaterThan(9) // one decade of error per decade of h
      expect(e[k]! / e[k + 1]!).toBeLessThan(11)
    }
    const best = e.indexOf(Math.min(...e)) + 1 // h = 10^−best
    expect([7, 8, 9]).toContain(best) // √ε ≈ 1.5e-8
    expect(e[best - 1]!).toBeGreaterThan(1e-9) // and its best is far worse than the centred one's
    expect(e[12]!).toBeGreaterThan(e[best - 1]! * 1e3)
  })

  it('central differences: the error falls like h² for large h, rises like ε/h for small h, and is smallest near ε^(1/3)', () => {
    const hs = Array.from({ length: 13 }, (_, k) => 10 ** -(k + 1))
    const e = hs.map((h) => meanError(h))
    // truncation side: two decades of h, four decades of error (slope 2)
    expect(e[0]! / e[1]!).toBeGreaterThan(90)
    expect(e[0]! / e[1]!).toBeLessThan(110)
    expect(e[1]! / e[2]!).toBeGreaterThan(90)
    expect(e[1]! / e[2]!).toBeLessThan(110)
    // rounding side: the error grows again as h shrinks (slope −1)
    expect(e[12]!).toBeGreaterThan(e[10]! * 10)
    expect(e[10]!).toBeGreaterThan(e[8]!)
    // the bottom of the V: h = 1e-5 or 1e-6, around ε^(1/3) ≈ 6e-6, with an error near ε^(2/3) ≈ 4e-11
    const best = e.indexOf(Math.min(...e))
    expect([5, 6]).toContain(best + 1) // h = 10^−(best + 1)
    expect(e[best]!).toBeLessThan(1e-10)
  })

  fcTest.prop([real(-2, 2)])('one Richardson step cancels the h² term: halving h divides the error by ≈ 16 instead of 4', (x) => {
    // exp: every Taylor coefficient of the error is e^x ≠ 0, so the ratios do not depend on x
    const f = Math.exp
    const exact = Math.exp(x)
    const D = (h: number) => (f(x + h) - f(x - h)) / (2 * h)
    const R = (h: number) => (4 * D(h / 2) - D(h)) / 3
    const plain = Math.abs(D(0.2) - exact) / Math.abs(D(0.1) - exact)
    const richardson = Math.abs(R(0.2) - exact) / Math.abs(R(0.1) - exact)
    return plain > 3.5 && plain < 4.5 && richardson > 13 && richardson < 19
  })

  it('Ridders’ table reaches far below the best plain central difference', () => {
    const x = 1
    const exact = Math.exp(x) * (Math.sin(x) + Math.cos(x))
    const f = (t: number) => Math.exp(t) * Math.sin(t)
    const best = Math.min(...Array.from({ length: 13 }, (_, k) => Math.abs((f(x + 10 ** -(k + 1)) - f(x - 10 ** -(k + 1))) / (2 * 10 ** -(k + 1)) - exact)))
    const { value } = ridders((t) => [f(x + t)])
    expect(Math.abs(value[0]! - exact)).toBeLessThan(best / 10)
  })

  fcTest.prop([tensorOf([3], { min: -2, max: 2 }), tensorOf([3]), tensorOf([2])])(
    'the inner-product identity ⟨vjp(c), t⟩ = ⟨c, jvp(t)⟩ holds to rounding for a composite function',
    (x, t, c) => {
      const f = (v: Vec) => reshape(matmul(reshape(tanh(v), [1, 3]), tensor([[1, 2], [-1, 0.5], [0.3, -2]])), [2]) as Vec
      const [, pullback] = vjp(f, x as Vec)
      const [, ydot] = jvp(f, [x as Vec], [t as Vec])
      const lhs = dot(toVector(pullback(c as Vec)[0]), toVector(t))
      const rhs = dot(toVector(c), toVector(ydot))
      return Math.abs(lhs - rhs) <= 1e-13 * (1 + Math.abs(lhs))
    }
  )
})
