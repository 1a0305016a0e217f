/**
 * What the playground page exposes to the end-to-end tests (`window.__playground`, written by
 * examples/playground/src/hooks.ts): the snapshot's type as the tests read it, and the reads of
 * it from a page.
 */
import type { Page } from 'playwright-core'

/** One dense layer's parameters: `w[from][to]`, `b[to]`. */
export interface DenseParams {
  readonly w: number[][]
  readonly b: number[]
}

export interface Snapshot {
  readonly config: Record<string, unknown> & { activation: string; regularization: 'none' | 'l1' | 'l2'; rate: number; hidden: number[]; features: string[]; dataset: string; discretize: boolean; backend: string }
  readonly query: string
  readonly step: number
  readonly running: boolean
  readonly stepsPerSecond: number
  readonly trainLoss: number
  readonly testLoss: number
  readonly testAccuracy: number
  readonly backend: {
    mode: string
    summary: string
    notes: string[]
    webgl2: boolean
    webgpu: boolean
    dtype: string
    adapter: { name: string; software: boolean } | null
    compiled: { backend: string; executorKind: string; fallbackReason: string | null; stepsPerCall: number; kernelsPerStep: number } | null
  } | null
  readonly params: DenseParams[]
  /** The minibatch: its features `x` (what the first layer sees), its points (x₁, x₂) and labels or targets. */
  readonly batch: { x: number[][]; points: number[][]; labels: number[] }
  readonly inspection: { label: string; adjoint: number[]; loss: number } | null
}
export type Batch = Snapshot['batch']
export type Config = Snapshot['config']

export const snapshot = (page: Page): Promise<Snapshot> =>
  page.evaluate(() => (window as unknown as { __playground: { snapshot(): unknown } }).__playground.snapshot()) as Promise<Snapshot>

/** Exactly `steps` more steps (the way Train takes them), then the snapshot. */
export const train = (p: Page, steps: number): Promise<Snapshot> =>
  p.evaluate((n) => (window as unknown as { __playground: { train(n: number): Promise<unknown> } }).__playground.train(n), steps) as Promise<Snapshot>
