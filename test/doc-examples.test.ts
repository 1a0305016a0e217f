/**
 * Docs cannot drift from the code.
 *
 * This file does two things:
 *
 * 1. **Runs every JSDoc `@example`** found in any `.ts` file under `src/` and
 *    `laws/` as its own vitest test, named `<file>:<symbol>` (e.g.
 *    `src/tensor.ts:add`, `src/model.ts:Model.fit`; a second example on the same
 *    symbol gets a ` #2` suffix).
 *
 *    Conventions for examples:
 *
 *    - The code lives in a fenced block inside the `@example` tag. The fence
 *      must be tagged `ts` (or `typescript`):
 *
 *          /**
 *           * Adds two tensors elementwise.
 *           *
 *           * @example
 *           * ```ts
 *           * import assert from 'node:assert'
 *           * import { tensor, add } from 'lamina-nn'
 *           *
 *           * assert.deepStrictEqual(add(tensor([1, 2]), tensor([3, 4])).toArray(), [4, 6])
 *           * ```
 *           *\/
 *
 *    - Examples are standalone ES modules. Import the library by its package
 *      name only (`'lamina-nn'`, `'lamina-nn/laws'`), never by relative path, and
 *      check results with `import assert from 'node:assert'`. Top-level
 *      `await` is allowed.
 *    - An example passes when it type-checks (against the project tsconfig:
 *      strict, NodeNext) and evaluating it does not throw / reject. To show
 *      code that must NOT compile, put `// @ts-expect-error` on the line above.
 *    - ```` ```ts no-run ```` : the example is type-checked but not executed
 *      (e.g. it needs a GPU or trains for minutes). Its test is named
 *      `<file>:<symbol> (no-run)`.
 *    - Fences in other languages (```` ```text ````, ```` ```sh ````, ...) are
 *      ignored, e.g. for showing expected output. An `@example` tag with no
 *      `ts` fence at all fails (it would otherwise silently never run).
 *    - Several `ts` fences in one `@example` become several tests.
 *    - `// @ts-expect-error` only silences the type checker: the line still
 *      runs, so wrap code that would also throw in a function you never call.
 *    - Examples on types are type-checked like any other, so they must import
 *      the type too (`import type { Nat } from 'lamina-nn'`) and are best written
 *      as checks, e.g. `const t: Nat.Add<999, 1> = 1000`.
 *    - An `@example` in a file's `@module` comment is named `<file>:<module>`.
 *
 *    Each example is written to `test/.doc-examples/run-<pid>/<file>__<symbol>__<n>.ts`
 *    (gitignored; tsc's `include` skips dot-folders) with its code on the same
 *    line numbers as in the source file, so stack traces, code frames and type
 *    errors point at the right line of the source. The files are left in place
 *    after the run for inspection; folders of finished runs are removed by the
 *    next run.
 *
 *    The ```` ```ts ```` blocks of `README.md` and of the guides in `docs/` run the
 *    same way, named `<file>:block <n>`.
 *
 * 2. **Checks documentation coverage** of the public API: every symbol exported
 *    (directly, via `export *`, `export { x } from` or `export * as NS`) from
 *    `src/index.ts` and `laws/index.ts` must have a JSDoc comment with a summary;
 *    exported functions, variables/consts and classes must also have an
 *    `@example`. Interfaces, type aliases, enums and namespaces need only the
 *    comment. For `export * as NS` the members of the namespace module are
 *    checked. Symbols re-exported from third-party packages are not checked,
 *    nor symbols tagged `@internal` / `@hidden` / `@ignore` (typedoc leaves
 *    those out of the API docs; their `@example`s, if any, still run).
 *
 * Run just this file with `npx vitest run test/doc-examples.test.ts`
 * (`-t 'src/tensor.ts:add'` to pick one example).
 */
import ts from 'typescript'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'

const ROOT = path.resolve(fileURLToPath(new URL('..', import.meta.url)))
const SOURCE_DIRS = ['src', 'laws']
const ENTRY_POINTS = ['src/index.ts', 'laws/index.ts', 'src/node.ts', 'src/gpu.ts']
const GENERATED_DIR = path.join(ROOT, 'test', '.doc-examples', `run-${process.pid}`)

// ---------------------------------------------------------------------------
// Collecting examples
// ---------------------------------------------------------------------------

interface DocExample {
  /** Test name: `<file>:<symbol>` (+ ` #n` for the n-th example on a symbol). */
  readonly name: string
  /** Source file, relative to the repository root, with forward slashes. */
  readonly file: string
  readonly symbol: string
  /** 1-based line in `file` of the first line of code. */
  readonly line: number
  /** The code, or `undefined` for an `@example` tag that has no `ts` fence. */
  readonly code: string | undefined
  readonly noRun: boolean
  /** Absolute path of the generated module. */
  readonly generatedPath: string
}

function toPosix(p: string): string {
  return p.split(path.sep).join('/')
}

function listTsFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return []
  const out: string[] = []
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) out.push(...listTsFiles(full))
    else if (entry.isFile() && /\.m?ts$/.test(entry.name) && !/\.d\.m?ts$/.test(entry.name)) out.push(full)
  }
  return out.sort()
}

/** The simple name a declaration-like node introduces, if any. */
function declaredName(node: ts.Node): string | undefined {
  if (ts.isVariableStatement(node)) {
    const first = node.declarationList.declarations[0]
    return first === undefined ? undefined : declaredName(first)
  }
  if (ts.isConstructorDeclaration(node)) return 'constructor'
  if (ts.isExportAssignment(node)) return 'default'
  const name = (node as { name?: ts.Node }).name
  if (name === undefined) {
    if (ts.isFunctionDeclaration(node) || ts.isClassDeclaration(node)) return 'default'
    return undefined
  }
  if (ts.isIdentifier(name) || ts.isPrivateIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name)) {
    return name.text
  }
  return undefined
}

const CONTAINER_KINDS = new Set<ts.SyntaxKind>([
  ts.SyntaxKind.ClassDeclaration,
  ts.SyntaxKind.ClassExpression,
  ts.SyntaxKind.InterfaceDeclaration,
  ts.SyntaxKind.ModuleDeclaration,
  ts.SyntaxKind.EnumDeclaration,
  ts.SyntaxKind.VariableDeclaration,
  ts.SyntaxKind.PropertyAssignment,
  ts.SyntaxKind.PropertyDeclaration,
  ts.SyntaxKind.FunctionDeclaration,
  ts.SyntaxKind.MethodDeclaration,
  ts.SyntaxKind.TypeAliasDeclaration,
])

/** `Outer.inner` style name of a JSDoc owner, e.g. `Tensor.add` or `ops.matmul`. */
function qualifiedName(node: ts.Node): string | undefined {
  const own = declaredName(node)
  if (own === undefined) return undefined
  const parts = [own]
  for (let p = node.parent as ts.Node | undefined; p !== undefined && !ts.isSourceFile(p); p = p.parent) {
    if (!CONTAINER_KINDS.has(p.kind)) continue
    const n = declaredName(p)
    if (n !== undefined && n !== parts[0]) parts.unshift(n)
  }
  return parts.join('.')
}

/** Map from the start position of every JSDoc comment that TypeScript attaches to a node, to that node's name. */
function jsDocOwners(sf: ts.SourceFile): Map<number, string> {
  const owners = new Map<number, string>()
  const visit = (node: ts.Node): void => {
    for (const doc of ts.getJSDocCommentsAndTags(node)) {
      if (!ts.isJSDoc(doc) || owners.has(doc.pos)) continue
      const isModuleDoc = doc.tags?.some((t) => ['module', 'packageDocumentation'].includes(t.tagName.text)) ?? false
      const name = isModuleDoc ? '<module>' : qualifiedName(node)
      if (name !== undefined) owners.set(doc.pos, name)
    }
    ts.forEachChild(node, visit)
  }
  visit(sf)
  return owners
}

/** Start/end of every `/** ... *\/` comment in the file (found as trivia of every token). */
function jsDocCommentRanges(sf: ts.SourceFile): ts.CommentRange[] {
  const seen = new Map<number, ts.CommentRange>()
  const visit = (node: ts.Node): void => {
    for (const r of ts.getLeadingCommentRanges(sf.text, node.pos) ?? []) {
      if (r.kind === ts.SyntaxKind.MultiLineCommentTrivia && sf.text.startsWith('/**', r.pos) && r.end - r.pos > 4) {
        seen.set(r.pos, r)
      }
    }
    for (const child of node.getChildren(sf)) visit(child)
  }
  visit(sf)
  return [...seen.values()].sort((a, b) => a.pos - b.pos)
}

interface RawExample {
  readonly lineOffset: number // 0-based line of the first code line, relative to the comment's first line
  readonly code: string | undefined
  readonly noRun: boolean
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)(.*)$/

/** Extracts the `ts` fenced blocks of every `@example` tag of one raw JSDoc comment. */
function examplesInComment(raw: string): RawExample[] {
  const lines = raw
    .replace(/^\/\*\*/, '')
    .replace(/\*\/$/, '')
    .split(/\r?\n/)
    .map((l, i) => (i === 0 ? l.replace(/^\s*/, '') : l.replace(/^\s*\*(?!\/) ?/, '')))
  const out: RawExample[] = []
  let inExample = false
  let exampleHasTs = false
  let exampleLine = 0
  let fence: { marker: string; indent: number; lang: string; flags: string[]; start: number } | undefined
  const body: string[] = []
  const endExample = (): void => {
    if (inExample && !exampleHasTs) out.push({ lineOffset: exampleLine, code: undefined, noRun: false })
    inExample = false
  }
  lines.forEach((line, i) => {
    if (fence !== undefined) {
      const close = line.match(/^\s*(`{3,}|~{3,})\s*$/)
      if (close?.[1] !== undefined && close[1][0] === fence.marker[0] && close[1].length >= fence.marker.length) {
        if (inExample && (fence.lang === 'ts' || fence.lang === 'typescript')) {
          const indent = fence.indent
          const code = body.map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length))).join('\n')
          out.push({ lineOffset: fence.start + 1, code, noRun: fence.flags.includes('no-run') })
          exampleHasTs = true
        }
        fence = undefined
        body.length = 0
      } else {
        body.push(line)
      }
      return
    }
    const open = line.match(FENCE)
    if (open !== null) {
      const [, indent = '', marker = '```', lang = '', rest = ''] = open
      fence = { marker, indent: indent.length, lang: lang.toLowerCase(), flags: rest.split(/[\s,]+/).filter(Boolean), start: i }
      return
    }
    const tag = line.match(/^\s*@(\w+)/)
    if (tag !== null) {
      endExample()
      if (tag[1] === 'example') {
        inExample = true
        exampleHasTs = false
        exampleLine = i
      }
    }
  })
  endExample()
  return out
}

function sanitize(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]+/g, '_')
}

function collectExamples(): DocExample[] {
  const examples: DocExample[] = []
  const perName = new Map<string, number>()
  for (const dir of SOURCE_DIRS) {
    for (const abs of listTsFiles(path.join(ROOT, dir))) {
      const file = toPosix(path.relative(ROOT, abs))
      const text = fs.readFileSync(abs, 'utf8')
      if (!text.includes('@example')) continue
      const sf = ts.createSourceFile(abs, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS)
      const owners = jsDocOwners(sf)
      for (const range of jsDocCommentRanges(sf)) {
        const raw = text.slice(range.pos, range.end)
        const commentLine = sf.getLineAndCharacterOfPosition(range.pos).line // 0-based
        for (const ex of examplesInComment(raw)) {
          const line = commentLine + ex.lineOffset + 1
          const symbol = owners.get(range.pos) ?? `(comment at line ${commentLine + 1})`
          const base = `${file}:${symbol}`
          const n = (perName.get(base) ?? 0) + 1
          perName.set(base, n)
          const name = `${base}${n > 1 ? ` #${n}` : ''}${ex.noRun ? ' (no-run)' : ''}`
          const generatedPath = path.join(GENERATED_DIR, `${sanitize(file)}__${sanitize(symbol)}__${n}.ts`)
          examples.push({ name, file, symbol, line, code: ex.code, noRun: ex.noRun, generatedPath })
        }
      }
    }
  }
  for (const file of markdownFiles()) {
    const lines = fs.readFileSync(path.join(ROOT, file), 'utf8').split(/\r?\n/)
    let open: { start: number; noRun: boolean } | undefined
    let block = 0
    lines.forEach((line, i) => {
      const fence = line.match(FENCE)
      if (open === undefined && fence !== null) {
        const lang = (fence[3] ?? '').toLowerCase()
        if (lang === 'ts' || lang === 'typescript') open = { start: i, noRun: (fence[4] ?? '').includes('no-run') }
        else open = { start: -1, noRun: true }
      } else if (open !== undefined && /^\s*(`{3,}|~{3,})\s*$/.test(line)) {
        if (open.start >= 0) {
          block++
          const symbol = `block ${block}`
          const generatedPath = path.join(GENERATED_DIR, `${sanitize(file)}__block_${block}.ts`)
          const code = lines.slice(open.start + 1, i).join('\n')
          examples.push({ name: `${file}:${symbol}${open.noRun ? ' (no-run)' : ''}`, file, symbol, line: open.start + 2, code, noRun: open.noRun, generatedPath })
        }
        open = undefined
      }
    })
  }
  return examples
}

/** README.md and the guides in docs/: their ```ts blocks are examples too. */
function markdownFiles(): string[] {
  const docs = path.join(ROOT, 'docs')
  const guides = fs.existsSync(docs)
    ? fs.readdirSync(docs, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.md') && !f.startsWith('api')).map((f) => toPosix(path.join('docs', f)))
    : []
  return ['README.md', ...guides].filter((f) => fs.existsSync(path.join(ROOT, f)))
}

/** The generated module: a header on line 1, the code starting on the same line number as in the source. */
function generatedSource(ex: DocExample): string {
  const header = `// Generated by test/doc-examples.test.ts from the @example of ${ex.symbol} in ${ex.file}:${ex.line}. Do not edit.`
  const padding = '\n'.repeat(Math.max(1, ex.line - 1))
  return `${header}${padding}${ex.code ?? ''}\n`
}

// ---------------------------------------------------------------------------
// Type checking (examples and API coverage share one program)
// ---------------------------------------------------------------------------

function compilerOptions(): ts.CompilerOptions {
  const parsed = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, 'tsconfig.json'), { noEmit: true }, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'))
    },
  })
  if (parsed === undefined) throw new Error('could not read tsconfig.json')
  return { ...parsed.options, noEmit: true, incremental: false }
}

function formatDiagnostic(d: ts.Diagnostic): string {
  const msg = ts.flattenDiagnosticMessageText(d.messageText, '\n')
  if (d.file === undefined || d.start === undefined) return msg
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start)
  return `line ${line + 1}:${character + 1}: error TS${d.code}: ${msg}`
}

let programCache: ts.Program | undefined
function program(): ts.Program {
  if (programCache === undefined) {
    const roots = [
      ...ENTRY_POINTS.map((e) => path.join(ROOT, e)).filter((p) => fs.existsSync(p)),
      ...examples.filter((e) => e.code !== undefined).map((e) => e.generatedPath),
    ]
    programCache = ts.createProgram({ rootNames: roots, options: compilerOptions() })
  }
  return programCache
}

function typeErrors(ex: DocExample): string[] {
  const p = program()
  const sf = p.getSourceFile(ex.generatedPath)
  if (sf === undefined) return [`generated file ${ex.generatedPath} is not part of the program`]
  return [...p.getSyntacticDiagnostics(sf), ...p.getSemanticDiagnostics(sf)].map(formatDiagnostic)
}

// ---------------------------------------------------------------------------
// API documentation coverage
// ---------------------------------------------------------------------------

const NEEDS_EXAMPLE = new Set<ts.SyntaxKind>([
  ts.SyntaxKind.FunctionDeclaration,
  ts.SyntaxKind.VariableDeclaration,
  ts.SyntaxKind.ClassDeclaration,
])

function isProjectFile(fileName: string): boolean {
  const rel = toPosix(path.relative(ROOT, path.resolve(fileName)))
  return SOURCE_DIRS.some((d) => rel.startsWith(`${d}/`)) && !rel.includes('/node_modules/')
}

function hasSummary(decl: ts.Declaration): boolean {
  return ts
    .getJSDocCommentsAndTags(decl)
    .some((d) => ts.isJSDoc(d) && (ts.getTextOfJSDocComment(d.comment) ?? '').trim() !== '')
}

function hasExample(decl: ts.Declaration): boolean {
  return ts.getJSDocTags(decl).some((t) => t.tagName.text === 'example')
}

/** `@internal`, `@hidden` and `@ignore` remove a symbol from the typedoc output (`excludeInternal` is on). */
function isHidden(decl: ts.Declaration): boolean {
  return ts.getJSDocTags(decl).some((t) => ['internal', 'hidden', 'ignore'].includes(t.tagName.text))
}

function kindLabel(decl: ts.Declaration): string {
  switch (decl.kind) {
    case ts.SyntaxKind.FunctionDeclaration: return 'function'
    case ts.SyntaxKind.VariableDeclaration: return 'const'
    case ts.SyntaxKind.ClassDeclaration: return 'class'
    case ts.SyntaxKind.InterfaceDeclaration: return 'interface'
    case ts.SyntaxKind.TypeAliasDeclaration: return 'type'
    case ts.SyntaxKind.EnumDeclaration: return 'enum'
    case ts.SyntaxKind.ModuleDeclaration: return 'namespace'
    default: return ts.SyntaxKind[decl.kind]
  }
}

function documentationOffenders(): string[] {
  const p = program()
  const checker = p.getTypeChecker()
  const offenders: string[] = []
  const checked = new Set<ts.Symbol>()

  const where = (decl: ts.Declaration): string => {
    const sf = decl.getSourceFile()
    return `${toPosix(path.relative(ROOT, sf.fileName))}:${sf.getLineAndCharacterOfPosition(decl.getStart(sf)).line + 1}`
  }

  const checkSymbol = (symbol: ts.Symbol, name: string): void => {
    if (checked.has(symbol)) return
    checked.add(symbol)
    const decls = (symbol.declarations ?? []).filter((d) => isProjectFile(d.getSourceFile().fileName))
    if (decls.length === 0) return // third-party re-export, or unresolved
    if (decls.some(isHidden)) return // left out of the API docs by typedoc, so not checked either
    // Group declarations by kind: overloads share one doc/example; a const and a type of the same name each need a doc.
    const groups = new Map<string, ts.Declaration[]>()
    for (const d of decls) {
      const k = kindLabel(d)
      groups.set(k, [...(groups.get(k) ?? []), d])
    }
    for (const [kind, group] of groups) {
      const first = group[0]!
      if (!group.some(hasSummary)) offenders.push(`${name} (${kind}, ${where(first)}): missing JSDoc comment`)
      if (NEEDS_EXAMPLE.has(first.kind) && !group.some(hasExample)) {
        offenders.push(`${name} (${kind}, ${where(first)}): missing @example`)
      }
    }
    // `export namespace NS { ... }`: its exported members are public API too.
    if (decls.some(ts.isModuleDeclaration)) checkModule(symbol, `${name}.`)
  }

  const checkModule = (moduleSymbol: ts.Symbol, prefix: string): void => {
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported
      const name = `${prefix}${exported.name}`
      // `export * as NS from './x.js'` (or `import * as NS` + `export { NS }`): check the module's members.
      if (target.declarations?.some(ts.isSourceFile)) {
        if (checked.has(target)) continue
        checked.add(target)
        checkModule(target, `${name}.`)
      } else {
        checkSymbol(target, name)
      }
    }
  }

  const missing: string[] = []
  for (const entry of ENTRY_POINTS) {
    const sf = p.getSourceFile(path.join(ROOT, entry))
    if (sf === undefined) {
      missing.push(`${entry}: entry point does not exist`)
      continue
    }
    const moduleSymbol = checker.getSymbolAtLocation(sf)
    if (moduleSymbol === undefined) continue // a file with no imports/exports exports nothing
    checkModule(moduleSymbol, '')
  }
  return [...missing, ...offenders.sort()]
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

const examples = collectExamples()

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

beforeAll(() => {
  // Remove the folders of earlier runs that have finished.
  const parent = path.dirname(GENERATED_DIR)
  for (const entry of fs.existsSync(parent) ? fs.readdirSync(parent) : []) {
    const pid = Number(/^run-(\d+)$/.exec(entry)?.[1] ?? NaN)
    if (pid !== process.pid && !(Number.isInteger(pid) && isRunning(pid))) {
      fs.rmSync(path.join(parent, entry), { recursive: true, force: true })
    }
  }
  // Write only what changed, so that `vitest` watch mode does not re-trigger itself.
  fs.mkdirSync(GENERATED_DIR, { recursive: true })
  const wanted = new Set<string>()
  for (const ex of examples) {
    if (ex.code === undefined) continue
    wanted.add(path.basename(ex.generatedPath))
    const content = generatedSource(ex)
    if (!fs.existsSync(ex.generatedPath) || fs.readFileSync(ex.generatedPath, 'utf8') !== content) {
      fs.writeFileSync(ex.generatedPath, content)
    }
  }
  for (const entry of fs.readdirSync(GENERATED_DIR)) {
    if (!wanted.has(entry)) fs.rmSync(path.join(GENERATED_DIR, entry), { recursive: true, force: true })
  }
})

describe('JSDoc @example blocks', () => {
  it('finds @example blocks under src/ and laws/ (an empty harvest means the extraction broke)', () => {
    expect(examples.length).toBeGreaterThan(100)
  })
  for (const ex of examples) {
    it(ex.name, async () => {
      const origin = `@example of ${ex.symbol} at ${ex.file}:${ex.line}`
      if (ex.code === undefined) {
        throw new Error(`${origin}: the @example tag has no \`\`\`ts fenced code block, so it would never run`)
      }
      const errors = typeErrors(ex)
      if (errors.length > 0) {
        throw new Error(`${origin} does not type-check (line numbers are ${ex.file}'s):\n  ${errors.join('\n  ')}`)
      }
      if (ex.noRun) return
      try {
        await import(pathToFileURL(ex.generatedPath).href)
      } catch (err) {
        if (err instanceof Error) err.message = `${origin} threw (line numbers are ${ex.file}'s): ${err.message}`
        throw err
      }
    })
  }
})

describe('public API documentation', () => {
  it('every export of src/index.ts and laws/index.ts has a JSDoc comment, and every function/const/class an @example', () => {
    const offenders = documentationOffenders()
    if (offenders.length > 0) {
      throw new Error(`${offenders.length} documentation problem(s) in the public API:\n  ${offenders.join('\n  ')}`)
    }
  })
})
