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
  // the configuration the README's first command runs (10 epochs, seed 0, float32), about 8 s here
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', '--conditions=lamina-src', 'examples/mnist/main.ts', '--out', 'test/.doc-examples/mnist-model.safetensors'],
    { cwd: root, encoding: 'utf8' }
  )

  it('trains on the deterministic split and reaches at least 94% test accuracy', () => {
    expect(out).toMatch(/MNIST: 7996 training and 2004 test digits/)
    const accuracy = Number(out.match(/test accuracy: ([\d.]+)%/)![1])
    expect(accuracy).toBeGreaterThanOrEqual(94)
  })

  it('prints a confusion matrix whose rows add up to the test set', () => {
    const rows = out.split('\n').filter((l) => /^\s+\d: /.test(l)).map((l) => l.split(':')[1]!.trim().split(/\s+/).map(Number))
    expect(rows).toHaveLength(10)
    expect(rows.flat().reduce((a, b) => a + b, 0)).toBe(2004)
  })

  it('saves the model as safetensors with every parameter and its spec', async () => {
    const { readFileSync } = await import('node:fs')
    const { Safetensors } = await import('lamina-nn')
    const saved = Safetensors.read(readFileSync(`${root}test/.doc-examples/mnist-model.safetensors`))
    expect(Object.entries(saved.tensors).map(([name, t]) => [name, t.shape]).sort()).toEqual([
      ['layers.0.b', [128]],
      ['layers.0.w', [784, 128]],
      ['layers.2.b', [10]],
      ['layers.2.w', [128, 10]]
    ])
    expect(JSON.parse(saved.metadata['spec']!).layers).toHaveLength(3)
    // float32 by default, in the tensors and in the training metadata
    expect(Object.values(saved.tensors).map((t) => t.dtype)).toEqual(['f32', 'f32', 'f32', 'f32'])
    expect(JSON.parse(saved.metadata['training']!)).toMatchObject({ seed: 0, epochs: 10, dtype: 'f32' })
  })

  it('--dtype f64 trains in float64 (data, parameters and the saved tensors)', async () => {
    const { readFileSync } = await import('node:fs')
    const { Safetensors } = await import('lamina-nn')
    const f64 = execFileSync(
      process.execPath,
      ['--import', 'tsx', '--conditions=lamina-src', 'examples/mnist/main.ts', '--dtype', 'f64', '--epochs', '1', '--out', 'test/.doc-examples/mnist-model-f64.safetensors'],
      { cwd: root, encoding: 'utf8' }
    )
    expect(f64).toMatch(/MNIST: 7996 training and 2004 test digits \(f64\)/)
    expect(Number(f64.match(/test accuracy: ([\d.]+)%/)![1])).toBeGreaterThan(80)
    const saved = Safetensors.read(readFileSync(`${root}test/.doc-examples/mnist-model-f64.safetensors`))
    expect(Object.values(saved.tensors).map((t) => t.dtype)).toEqual(['f64', 'f64', 'f64', 'f64'])
    expect(JSON.parse(saved.metadata['training']!)).toMatchObject({ epochs: 1, dtype: 'f64' })
  })

  const badUsage = (...extra: string[]): { status: number; stderr: string } => {
    try {
      execFileSync(process.execPath, ['--import', 'tsx', '--conditions=lamina-src', 'examples/mnist/main.ts', ...extra], { cwd: root, stdio: 'pipe' })
    } catch (e) {
      const { status, stderr } = e as { status: number; stderr: Buffer }
      return { status, stderr: String(stderr) }
    }
    return { status: 0, stderr: '' }
  }

  it('rejects bad usage with exit code 2', () => {
    expect(badUsage('--epochs', 'x').status).toBe(2)
  })

  it('rejects a --dtype other than f32 or f64 with exit code 2 and says why', () => {
    const r = badUsage('--dtype', 'f16')
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('--dtype must be f32 or f64, got "f16"')
  })
})
