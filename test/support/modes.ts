/**
 * What a GPU test file does where its mode does not start here: its tests skip and say why,
 * unless LAMINA_GPU_MODES_REQUIRED names the mode (scripts/test.sh does once the mode's install
 * succeeded), in which case they fail, naming the reason. Shared by `test/backend.gpu.test.ts`,
 * `test/backend.webgpu.test.ts`, `test/compiled.gl.test.ts`, `test/compiled.webgpu.test.ts`,
 * `test/compiled.large.test.ts` and `test/bench.gpu.test.ts`.
 */
import { it } from 'vitest'
import { createGpuKernelsAsync } from 'lamina-nn/gpu'
import { installWebGpu } from 'lamina-nn/node'

/** The modes LAMINA_GPU_MODES_REQUIRED names (comma-separated). */
export const requiredModes = (): ReadonlySet<string> => new Set((process.env['LAMINA_GPU_MODES_REQUIRED'] ?? '').split(',').filter((m) => m !== ''))

/** A mode that did not start here, and how its file speaks of it. */
export interface Unavailable {
  readonly mode: string
  /** Why it did not start (the mode's own probe). */
  readonly reason: string
  /** The file, as its log lines name it (`'backend.gpu'`). */
  readonly log: string
  /** What the mode must do where it is required, in the failing test's name: `'initialise'` (a backend's kernels) or `'start'` (default). */
  readonly verb?: 'initialise' | 'start'
  /** The error the failing test throws (default `Error`). */
  readonly error?: new (message: string) => Error
}

/**
 * Registers the one test that stands for a mode's suite where the mode is unavailable: where
 * LAMINA_GPU_MODES_REQUIRED names it, a test that fails with the reason; otherwise a skipped test
 * whose name carries the reason, and a warning.
 */
export const unavailableTest = ({ mode, reason, log, verb = 'start', error = Error }: Unavailable): void => {
  if (requiredModes().has(mode)) {
    it(`${mode} is required here (LAMINA_GPU_MODES_REQUIRED) and must ${verb}`, () => {
      throw new error(`${mode} did not ${verb}: ${reason}`)
    })
  } else {
    console.warn(`${log}: ${mode} is skipped: ${reason}`)
    it.skip(`${mode} is unavailable here: ${reason}`, () => {})
  }
}

/**
 * `it` for the tests of one mode in a file whose other tests run anyway: each test runs where the
 * mode started (`reason` undefined), fails with the reason where the mode is required, and is
 * skipped otherwise, the reason in its name (and once in a warning).
 */
export const itOn = (mode: string, reason: string | undefined, log: string): ((title: string, body: () => Promise<void>) => void) => {
  const required = requiredModes().has(mode)
  if (reason !== undefined && !required) console.warn(`${log}: ${mode} is skipped: ${reason}`)
  return (title, body) => {
    if (reason === undefined) it(title, body)
    else if (required) it(title, () => Promise.reject(new Error(`${mode} is required here (LAMINA_GPU_MODES_REQUIRED) and did not start: ${reason}`)))
    else it.skip(`${title} (${mode} is unavailable here: ${reason})`, async () => {})
  }
}

/** Why webgpu does not start here (Dawn's adapter, then GPU.js's own probe kernel), or undefined when it does. */
export const webgpuUnavailable = async (): Promise<string | undefined> => {
  const installed = await installWebGpu()()
  if (installed._tag === 'Left') return installed.left.message
  try {
    ;(await createGpuKernelsAsync({ mode: 'webgpu', strict: true })).dispose()
    return undefined
  } catch (e) {
    return e instanceof Error ? e.message : String(e)
  }
}
