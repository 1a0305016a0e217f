/**
 * `bench --gpu --quick --json` (bench/gpu.ts) end to end, in a child process on the same node
 * (`process.execPath`: where the suite runs on the node that loads Dawn, so does the bench):
 * every lamina row has figures, not error strings, each with a check that passed; the
 * TensorFlow.js webgpu rows are there, with a figure or a stated reason. The figures themselves
 * are not asserted (on lavapipe they say nothing about a GPU); that the checks catch a wrong
 * kernel was tried by hand when they were written.
 *
 * Without a WebGPU adapter (`installWebGpu`'s reason) the test skips and says why, unless
 * LAMINA_GPU_MODES_REQUIRED names webgpu, in which case it fails.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { installWebGpu } from '../src/backend/node-webgpu.js'
import { unavailableTest } from './support/modes.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
/** The child's limit; the quick run takes about 35 s on lavapipe with 2 cores. */
const CHILD_MS = 110_000

const unavailable = await (async (): Promise<string | undefined> => {
  const installed = await installWebGpu()()
  return installed._tag === 'Left' ? installed.left.message : undefined
})()

interface Run {
  readonly code: number | null
  readonly signal: string | null
  readonly stdout: string
  readonly stderr: string
  readonly ms: number
}
const runBench = (args: readonly string[]): Promise<Run> =>
  new Promise((resolve) => {
    const started = performance.now()
    execFile(
      process.execPath,
      ['--import', 'tsx', '--conditions=lamina-src', 'bench/index.ts', ...args],
      { cwd: ROOT, encoding: 'utf8', timeout: CHILD_MS, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const e = error as (Error & { code?: number | string; signal?: string | null }) | null
        resolve({ code: e === null ? 0 : typeof e.code === 'number' ? e.code : null, signal: e?.signal ?? null, stdout, stderr, ms: performance.now() - started })
      }
    )
  })

type Figure = { readonly value: number; readonly low: number; readonly high: number; readonly reps: number } | string
interface Check {
  readonly passed: boolean
  readonly what: string
  readonly used?: number
}
interface Outcome {
  readonly figure: Figure
  readonly check: Check | null
}
interface BenchJson {
  readonly gpu: boolean
  readonly quick: boolean
  readonly webgpu: string
  readonly sizes: { readonly w1: readonly number[] }
  readonly w1: Record<string, { readonly engine: string; readonly how: string; readonly results: Record<string, Outcome>; readonly note: string | null }>
  readonly mlp: Record<string, Outcome & { readonly engine: string; readonly note: string | null }>
}

/** A figure that is a measurement, with its check passed (the message names the row on failure). */
const expectMeasured = (row: string, o: Outcome | undefined): void => {
  expect(o, `${row}: missing`).toBeDefined()
  const { figure, check } = o!
  expect(typeof figure, `${row}: ${JSON.stringify(figure)}`).toBe('object')
  if (typeof figure !== 'object') return
  expect(Number.isFinite(figure.value) && figure.value > 0, `${row}: value ${figure.value}`).toBe(true)
  expect(figure.low <= figure.value && figure.value <= figure.high, `${row}: ${figure.low} ≤ ${figure.value} ≤ ${figure.high}`).toBe(true)
  expect(figure.reps, row).toBeGreaterThanOrEqual(5)
  expect(check?.passed, `${row}: ${check?.what}`).toBe(true)
  if (check?.used !== undefined) expect(check.used, `${row}: ${check.what}`).toBeLessThanOrEqual(1)
}

/** A peer's entry: a checked measurement, or a non-empty reason. */
const expectMeasuredOrReason = (row: string, o: Outcome | undefined): void => {
  expect(o, `${row}: missing`).toBeDefined()
  if (typeof o!.figure === 'string') expect(o!.figure.length, row).toBeGreaterThan(0)
  else expectMeasured(row, o)
}

describe('bench --gpu --quick --json', () => {
  if (unavailable !== undefined) {
    unavailableTest({ mode: 'webgpu', reason: unavailable, log: 'bench.gpu' })
    return
  }

  it('every lamina row is a measured, checked figure; the tfjs webgpu rows are present', { timeout: CHILD_MS + 10_000 }, async () => {
    const run = await runBench(['--gpu', '--quick', '--json'])
    const tail = `\n--- stderr (end) ---\n${run.stderr.slice(-2000)}\n--- stdout (end) ---\n${run.stdout.slice(-2000)}`
    expect(run.signal, `the bench was stopped after ${(run.ms / 1000).toFixed(0)} s${tail}`).toBeNull()
    expect(run.code, `exit status${tail}`).toBe(0)
    const last = run.stdout.trimEnd().split('\n').pop() ?? ''
    let json: BenchJson
    try {
      json = JSON.parse(last) as BenchJson
    } catch {
      throw new Error(`the last line is not JSON: ${last.slice(0, 300)}${tail}`)
    }
    expect(json.gpu).toBe(true)
    expect(json.quick).toBe(true)
    expect(json.webgpu).toBe('available')
    expect(json.sizes.w1.length).toBeGreaterThan(0)
    // the sizes that ran are printed
    expect(run.stdout).toContain(`W1 n = ${json.sizes.w1.join(', ')}`)

    const w1 = Object.entries(json.w1)
    const lamina = w1.filter(([, r]) => r.engine === 'lamina')
    expect(lamina.length).toBeGreaterThan(0)
    // at least one chained variant: the pipeline as lamina would use it
    expect(lamina.some(([, r]) => r.how === 'chain')).toBe(true)
    for (const [name, r] of lamina) for (const n of json.sizes.w1) expectMeasured(`W1 ${name} n=${n}`, r.results[n])
    const tf = w1.filter(([, r]) => r.engine === 'tfjs')
    expect(tf.length).toBeGreaterThan(0)
    for (const [name, r] of tf) for (const n of json.sizes.w1) expectMeasuredOrReason(`W1 ${name} n=${n}`, r.results[n])

    const mlp = Object.entries(json.mlp)
    const laminaMlp = mlp.filter(([, r]) => r.engine === 'lamina')
    expect(laminaMlp.length).toBeGreaterThan(0)
    for (const [name, r] of laminaMlp) expectMeasured(`MLP ${name}`, r)
    const tfMlp = mlp.filter(([, r]) => r.engine === 'tfjs')
    expect(tfMlp.length).toBeGreaterThan(0)
    for (const [name, r] of tfMlp) expectMeasuredOrReason(`MLP ${name}`, r)
    console.info(`bench.gpu: the quick run took ${(run.ms / 1000).toFixed(1)} s`)
  })
})
