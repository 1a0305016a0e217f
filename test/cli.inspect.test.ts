/**
 * `lamina inspect` on any safetensors file (src/cli/inspect.ts): a PyTorch-style state dict
 * without lamina metadata is listed with per-tensor statistics; F16, BF16 and I64 values get
 * statistics, dtypes lamina does not read are listed without them (saying why); a lamina
 * model shows its metadata in full; an invalid file still exits 1 with a one-line reason.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { run } from './support/cli.js'
import type { Run } from './support/cli.js'
import * as Checkpoint from '../src/io/checkpoint.js'
import * as Safetensors from '../src/io/safetensors.js'
import { tensor } from '../src/tensor.js'
import { rawSafetensors } from './support/safetensors.js'

const ROOT = path.resolve(fileURLToPath(new URL('..', import.meta.url)))


const dir = mkdtempSync(path.join(tmpdir(), 'lamina-inspect-'))
const file = (name: string, contents: string | Uint8Array): string => {
  const p = path.join(dir, name)
  writeFileSync(p, contents)
  return p
}

/** A one-line error on stderr, nothing on stdout, no stack trace. */
const oneLineError = (r: Run): string => {
  expect(r.stdout).toBe('')
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1)
  expect(r.stderr).not.toMatch(/\n\s+at /)
  return r.stderr.trimEnd()
}

const u16 = (...v: number[]): Uint8Array => new Uint8Array(Uint16Array.from(v).buffer)
const i64 = (...v: bigint[]): Uint8Array => new Uint8Array(BigInt64Array.from(v).buffer)

// a PyTorch nn.Linear(2, 3) state dict: weight [out, in], bias [out], F32, metadata { format: pt }
const weight = [[1, -2], [0.5, 4], [-3, 0.25]]
const bias = [0.5, -1.5, 3]
const torch = file('model.safetensors', Safetensors.encode({ 'fc1.weight': tensor(weight, { dtype: 'f32' }), 'fc1.bias': tensor(bias, { dtype: 'f32' }) }, { format: 'pt' }))

interface Listed {
  readonly valid: boolean
  readonly lamina: boolean
  readonly metadata: Record<string, string>
  readonly tensors: { name: string; dtype: string; shape: number[]; elements: number; bytes: number; min: number | null; max: number | null; mean: number | null; nan?: number; why?: string }[]
  readonly spec?: unknown
  readonly dtype?: string
}

describe('lamina inspect on any safetensors file', () => {
  it('lists a PyTorch state dict (no lamina metadata): dtype, shape, elements, min/max/mean (exit 0)', async () => {
    const r = await run('inspect', torch)
    expect(r).toMatchObject({ code: 0, stderr: '' })
    expect(r.stdout).toContain('a valid safetensors file')
    expect(r.stdout).toContain('not a lamina model')
    expect(r.stdout).toMatch(/^ {2}format: pt$/m)
    // fc1.weight: min −3, max 4, mean (1 − 2 + 0.5 + 4 − 3 + 0.25) / 6 = 0.125
    expect(r.stdout).toMatch(/^fc1\.weight\s+F32\s+\[3,2\]\s+6\s+24\s+-3\s+4\s+0\.125$/m)
    expect(r.stdout).toMatch(/^fc1\.bias\s+F32\s+\[3\]\s+3\s+12\s+-1\.5\s+3\s+0\.666667$/m)
    const j = JSON.parse((await run('inspect', torch, '--json')).stdout) as Listed
    expect(j).toMatchObject({ valid: true, lamina: false, metadata: { format: 'pt' } })
    const w = j.tensors.find((t) => t.name === 'fc1.weight')!
    expect(w).toMatchObject({ dtype: 'F32', shape: [3, 2], elements: 6, bytes: 24, min: -3, max: 4, mean: 0.125, nan: 0 })
    expect(j.tensors.find((t) => t.name === 'fc1.bias')!.mean).toBeCloseTo(2 / 3, 6)
  })

  it('F16, BF16 and I64 get statistics; U8 and an I64 beyond 2^53 are listed without them, saying why', async () => {
    const mixed = file(
      'mixed.safetensors',
      rawSafetensors([
        ['half', 'F16', [3], u16(0x3c00, 0xc000, 0x3800)], // 1, −2, 0.5
        ['brain', 'BF16', [2], u16(0x3f80, 0x4040)], // 1, 3
        ['steps', 'I64', [2], i64(7n, -3n)],
        ['mask', 'U8', [4], Uint8Array.from([0, 1, 1, 0])],
        ['huge', 'I64', [1], i64(2n ** 60n)],
        ['empty', 'F32', [0], new Uint8Array(0)]
      ])
    )
    const r = await run('inspect', mixed, '--json')
    expect(r).toMatchObject({ code: 0, stderr: '' })
    const byName = new Map((JSON.parse(r.stdout) as Listed).tensors.map((t) => [t.name, t]))
    expect(byName.get('half')).toMatchObject({ dtype: 'F16', elements: 3, bytes: 6, min: -2, max: 1, mean: -0.5 / 3 })
    expect(byName.get('brain')).toMatchObject({ dtype: 'BF16', min: 1, max: 3, mean: 2 })
    expect(byName.get('steps')).toMatchObject({ dtype: 'I64', min: -3, max: 7, mean: 2 })
    expect(byName.get('mask')).toMatchObject({ dtype: 'U8', elements: 4, bytes: 4, min: null, max: null, mean: null })
    expect(byName.get('mask')!.why).toMatch(/lamina does not read U8 values/)
    expect(byName.get('huge')).toMatchObject({ min: null })
    expect(byName.get('huge')!.why).toMatch(/not a safe integer/)
    expect(byName.get('empty')).toMatchObject({ elements: 0, min: null, why: 'no statistics: no values' })
    const text = await run('inspect', mixed)
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/^mask\s+U8\s+\[4\]\s+4\s+4\s+-\s+-\s+- \(no statistics: lamina does not read U8 values/m)
  })

  it('counts NaN values apart and quotes names with control characters', async () => {
    const f = file('nan.safetensors', Safetensors.encode({ 'a\u001b[2Jb': tensor([1, NaN, 3]) }))
    const r = await run('inspect', f)
    expect(r.code).toBe(0)
    expect(r.stdout).not.toContain('\u001b')
    expect(r.stdout).toMatch(/^"a\\u001b\[2Jb"\s+F64\s+\[3\]\s+3\s+24\s+1\s+3\s+2 \(1 NaN left out\)$/m)
  })

  it('a lamina model shows its spec, dtype and metadata in full (training config, history)', async () => {
    const spec = { input: [2], layers: [{ kind: 'dense' as const, units: 1 }, { kind: 'sigmoid' as const }] }
    const training = JSON.stringify({ epochs: 2, batchSize: 4, seed: 0, loss: 'binaryCrossEntropy' })
    const m = file(
      'lamina.safetensors',
      Checkpoint.encode(spec, { layers: [{ w: tensor([[2], [-4]], { dtype: 'f32' }), b: tensor([1], { dtype: 'f32' }) }, {}] }, { layers: [{}, {}] }, { training, history: '[0.5,0.25]' })
    )
    const r = await run('inspect', m)
    expect(r).toMatchObject({ code: 0, stderr: '' })
    expect(r.stdout).toContain(`${m}: a valid lamina model`)
    expect(r.stdout).toContain('dtype f32')
    expect(r.stdout).toContain('{"kind":"sigmoid"}')
    expect(r.stdout).toContain(`  training: ${training}`)
    expect(r.stdout).toContain('  history: [0.5,0.25]')
    expect(r.stdout).toMatch(/^layers\.0\.w\s+F32\s+\[2,1\]\s+2\s+8\s+-4\s+2\s+-1$/m)
    const j = JSON.parse((await run('inspect', m, '--json')).stdout) as Listed
    expect(j).toMatchObject({ valid: true, lamina: true, dtype: 'f32', spec, metadata: { lamina: '1', training, history: '[0.5,0.25]' } })
    expect(j.tensors.find((t) => t.name === 'layers.0.b')).toMatchObject({ min: 1, max: 1, mean: 1 })
  })

  it('invalid files still exit 1 with a one-line reason: truncated, overlapping, a U8 tensor of the wrong size', async () => {
    const bytes = Safetensors.encode({ 'fc1.weight': tensor(weight, { dtype: 'f32' }) })
    const truncated = file('truncated.safetensors', bytes.subarray(0, bytes.length - 4))
    const r = await run('inspect', truncated)
    expect(r.code).toBe(1)
    expect(oneLineError(r)).toMatch(/^lamina inspect: .*truncated\.safetensors: safetensors: /)
    const wrongU8 = rawSafetensors([['mask', 'U8', [5], Uint8Array.from([0, 1, 1, 0])]])
    expect(oneLineError(await run('inspect', file('u8.safetensors', wrongU8)))).toContain('"mask"')
    // a file that claims to be a lamina model is still checked as one
    const claims = file('claims.safetensors', Safetensors.encode({ w: tensor([1]) }, { lamina: '1' }))
    expect(oneLineError(await run('inspect', claims))).toContain('not a lamina model: the safetensors metadata has no "spec" key')
  })

  it('bin/lamina.mjs inspect, as a child process with a small heap: a state dict exits 0, a truncated one exits 1', () => {
    const spawn = (args: readonly string[]): Run => {
      const c = spawnSync(process.execPath, ['--max-old-space-size=512', 'bin/lamina.mjs', ...args], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, LAMINA_FROM_SOURCE: '1' },
        timeout: 60_000
      })
      return { code: c.status ?? -1, stdout: c.stdout, stderr: c.stderr }
    }
    const ok = spawn(['inspect', torch])
    expect(ok).toMatchObject({ code: 0, stderr: '' })
    expect(ok.stdout).toMatch(/^fc1\.weight\s+F32\s+\[3,2\]/m)
    const bytes = Safetensors.encode({ 'fc1.weight': tensor(weight, { dtype: 'f32' }) })
    const bad = spawn(['inspect', file('child-truncated.safetensors', bytes.subarray(0, 30))])
    expect(bad.code).toBe(1)
    expect(oneLineError(bad)).toMatch(/^lamina inspect: .*safetensors: /)
  })
})
