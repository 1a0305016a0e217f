/**
 * `bench --gpu --pytorch FILE` reads scripts/pytorch-reference.py's last line: a file that is not
 * its output, or that measured other sizes, is refused with the reason, so a ratio never
 * compares different work.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readPytorchReference } from '../bench/pytorch.js'

const dir = mkdtempSync(join(tmpdir(), 'lamina-pytorch-'))
const file = (name: string, text: string): string => {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}
const figure = (value: number) => ({ value, low: value * 0.9, high: value * 1.1, reps: 5 })
const output = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    torch: '2.4.0',
    device: 'NVIDIA H100 80GB HBM3',
    quick: false,
    W1_gflops: { '4096': figure(50600) },
    MLP_samples_per_s: figure(3.8e6),
    mlp: { inp: 784, hidden: 1024, out: 10, batch: 8192 },
    ...over
  })
const run = { quick: false, mlp: { input: 784, hidden: 1024, classes: 10, batch: 8192 } }

describe('readPytorchReference', () => {
  it('takes the last line of the script output when it measured the same sizes', () => {
    const ref = readPytorchReference(file('ok.txt', `PyTorch 2.4.0 on NVIDIA H100\n  W1 n=4096: 50600 GFLOP/s\n${output()}\n`), run)
    expect(typeof ref).toBe('object')
    if (typeof ref === 'object') {
      expect(ref.MLP_samples_per_s.value).toBe(3.8e6)
      expect(ref.W1_gflops['4096']?.value).toBe(50600)
    }
  })

  it('refuses other sizes, naming them', () => {
    const ref = readPytorchReference(file('quick.txt', output({ quick: true, mlp: { inp: 784, hidden: 64, out: 10, batch: 128 } })), run)
    expect(ref).toMatch(/measured other sizes \(quick true, MLP 784-64-64-10 b=128\)/)
  })

  it('refuses a file that is not the script output, with the field at fault', () => {
    expect(readPytorchReference(file('bad.txt', output({ MLP_samples_per_s: 'fast' })), run)).toMatch(/is not scripts\/pytorch-reference\.py's output: .*MLP_samples_per_s/)
    expect(readPytorchReference(file('text.txt', 'no PyTorch here\n'), run)).toMatch(/^cannot read .*text\.txt/)
    expect(readPytorchReference(join(dir, 'missing.txt'), run)).toMatch(/^cannot read .*missing\.txt/)
  })
})
