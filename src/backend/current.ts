/**
 * Which backend the eager interpreter runs primitives on. The cpu reference is the default;
 * a synchronous GPU.js backend (see `lamina-nn/gpu`) can take its place for a computation.
 * Derivative rules and laws do not change: only where the forward kernels run.
 *
 * @module
 */
import type { Backend } from './backend.js'
import { cpu } from './cpu.js'

let active: Backend = cpu

/**
 * The backend primitives run on now.
 *
 * @example
 * ```ts
 * import { Backends, cpu } from 'lamina-nn'
 * import assert from 'node:assert'
 * assert.strictEqual(Backends.current(), cpu)
 * ```
 */
export const current = (): Backend => active

/**
 * Runs `thunk` with `backend` as the current backend and restores the previous one afterwards,
 * also when `thunk` throws.
 *
 * @example
 * ```ts
 * import { Backends, cpu, tensor, add } from 'lamina-nn'
 * import type { Backend } from 'lamina-nn'
 * import assert from 'node:assert'
 * let calls = 0
 * const counting: Backend = { ...cpu, name: 'counting', binary: (...args) => { calls++; return cpu.binary(...args) } }
 * const y = Backends.withBackend(counting, () => add(tensor([1, 2]), tensor([3, 4])))
 * assert.deepStrictEqual(y.toArray(), [4, 6])
 * assert.strictEqual(calls, 1)
 * assert.strictEqual(Backends.current(), cpu)
 * ```
 */
export const withBackend = <A>(backend: Backend, thunk: () => A): A => {
  const previous = active
  active = backend
  try {
    return thunk()
  } finally {
    active = previous
  }
}

/**
 * Makes `backend` the current backend until the next call, and returns the one it replaced
 * (for long-lived settings such as a page's training loop; prefer {@link withBackend}).
 *
 * @example
 * ```ts
 * import { Backends, cpu } from 'lamina-nn'
 * import assert from 'node:assert'
 * const previous = Backends.use(cpu)
 * assert.strictEqual(previous, cpu)
 * ```
 */
export const use = (backend: Backend): Backend => {
  const previous = active
  active = backend
  return previous
}
