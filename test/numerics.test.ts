import { describe, expect, it } from 'vitest'
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Numerics, add, div, exp, grad, log, mul, sqrt, sum, tensor } from 'lamina-nn'
import type { Tensor } from 'lamina-nn'

const caught = (f: () => unknown): Numerics.NumericsError => {
  try {
    f()
  } catch (e) {
    if (e instanceof Numerics.NumericsError) return e
    throw e
  }
  throw new Error('expected a NumericsError')
}

describe('checkNumerics', () => {
  it('is off by default: non-finite values flow through', () => {
    expect(Numerics.enabled()).toBe(false)
    expect(log(tensor([0])).item()).toBe(-Infinity)
  })

  it('stops at the first primitive whose output is not finite, naming it, its inputs and the forward step', () => {
    const e = caught(() => Numerics.withChecks(() => sum(mul(log(add(tensor([[1, 2], [0, 3]]), -1)), 2))))
    expect(e.prim).toBe('log')
    expect(e.inputShapes).toEqual([[2, 2]])
    // steps: broadcast of −1, add, log
    expect(e.where).toBe('forward step 3')
    expect(e.message).toContain('log produced -Infinity at forward step 3, element 0; inputs [2,2]')
  })

  it('names the backward rule when the gradient is the first non-finite value', () => {
    // sqrt is finite at 0 but its derivative 1/(2√x) is not
    const e = caught(() => Numerics.withChecks(() => grad((x: Tensor) => sum(sqrt(x)))(tensor([4, 0]))))
    expect(e.where).toMatch(/^backward rule of sqrt \(node \d+, input 0\)/)
    expect(e.prim).toBe('div')
  })

  it('says when the non-finite value came in from outside', () => {
    const e = caught(() => Numerics.withChecks(() => exp(tensor([NaN]))))
    expect(e.message).toContain('an input was already non-finite')
  })

  it('restores the previous setting, also after an error', () => {
    caught(() => Numerics.withChecks(() => div(tensor([1]), 0)))
    expect(Numerics.enabled()).toBe(false)
    expect(Numerics.withChecks(() => exp(tensor([1])).item())).toBe(Math.E)
  })

  it('can be switched on for a process with LAMINA_CHECK_NUMERICS=1', () => {
    const root = fileURLToPath(new URL('..', import.meta.url))
    const code = "import { Numerics, log, tensor } from 'lamina-nn'; try { log(tensor([0])); console.log('no error') } catch (e) { console.log(e instanceof Numerics.NumericsError ? e.message : 'other') }"
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--conditions=lamina-src', '--input-type=module', '-e', code], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, LAMINA_CHECK_NUMERICS: '1' }
    })
    expect(out).toContain('log produced -Infinity at forward step 1')
  })
})
