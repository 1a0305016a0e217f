/**
 * The playground in a real browser: Debian's chromium, headless, driven by playwright-core.
 * The page is built with Vite's JS API into a temporary folder and served by a small static
 * server on a free port. The tests pick XOR and train, click a weight, a bias, the output and an
 * input and compare their adjoints with central differences computed here (from the parameters
 * and minibatch the page exposes, with the network's forward pass written out in plain
 * JavaScript), reload the page from its
 * URL, round-trip the weights through a safetensors download and upload, and open the page in a
 * chromium without WebGL2 or WebGPU. A chromium with WebGPU (`--enable-unsafe-webgpu`, which gives
 * Dawn's SwiftShader adapter even with `--disable-gpu`) trains through the compiled interpreter,
 * and its parameters are compared with the eager interpreter's, run here in float64 on the same
 * minibatches; that test skips, saying why, when the browser gives no adapter.
 *
 * Skips, saying why, when /usr/bin/chromium is missing (scripts/install-browser.sh installs it).
 * The screenshot goes to docs/playground.png when LAMINA_SCREENSHOT=1 or when that file does
 * not exist yet, otherwise to a temporary file (so a test run does not rewrite a tracked file).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { extname, join, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { Backends, Tree, cpu } from 'lamina-nn'
import type { Tensor } from 'lamina-nn'
import { fromQuery } from '../examples/playground/src/config.js'
import * as M from '../examples/playground/src/model.js'
import * as T from '../examples/playground/src/trainer.js'

const CHROMIUM = '/usr/bin/chromium'
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SCREENSHOT = join(ROOT, 'docs', 'playground.png')
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync'
]
/** The test loss XOR must reach, and the steps it may take. */
const LOSS_THRESHOLD = 0.2
const MAX_STEPS = 1500
/**
 * What gives headless Chromium 156 a WebGPU adapter here: `--enable-unsafe-webgpu` alone, with or
 * without `--disable-gpu` (Dawn's SwiftShader Vulkan, adapter "google swiftshader"). Without it
 * `requestAdapter()` resolves null, whatever else is set (`--use-webgpu-adapter=swiftshader`,
 * `--enable-features=Vulkan,WebGPU`).
 */
const WEBGPU_FLAGS = ['--enable-unsafe-webgpu']

const missing = !existsSync(CHROMIUM)
if (missing) console.warn(`playground e2e skipped: ${CHROMIUM} is missing (bash scripts/install-browser.sh installs Debian's chromium)`)

// ---------------------------------------------------------------- what the page exposes

interface DenseParams {
  readonly w: number[][]
  readonly b: number[]
}
interface Snapshot {
  readonly config: Record<string, unknown> & { activation: string; l2: number; hidden: number[] }
  readonly query: string
  readonly step: number
  readonly running: boolean
  readonly stepsPerSecond: number
  readonly trainLoss: number
  readonly testLoss: number
  readonly backend: {
    mode: string
    summary: string
    notes: string[]
    webgl2: boolean
    webgpu: boolean
    adapter: { name: string; software: boolean } | null
    compiled: { backend: string; executorKind: string; fallbackReason: string | null; stepsPerCall: number; kernelsPerStep: number } | null
  } | null
  readonly params: DenseParams[]
  readonly batch: { x: number[][]; labels: number[] }
  readonly inspection: { label: string; adjoint: number[] } | null
}

const snapshot = (page: Page): Promise<Snapshot> =>
  page.evaluate(() => (window as unknown as { __playground: { snapshot(): unknown } }).__playground.snapshot()) as Promise<Snapshot>

// ---------------------------------------------------------------- the objective, independently

const softplus = (z: number): number => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)))

/** The logits of a tanh MLP, one per example, in float64. */
const logitsOf = (params: readonly DenseParams[], x: readonly (readonly number[])[]): number[] => {
  let a = x
  params.forEach((p, k) => {
    a = a.map((row) => p.b.map((bj, j) => row.reduce((s, xi, i) => s + xi * p.w[i]![j]!, bj)))
    if (k < params.length - 1) a = a.map((row) => row.map(Math.tanh))
  })
  return a.map((row) => row[0]!)
}

/** Mean binary cross-entropy of logits against 0/1 labels. */
const dataLossOf = (z: readonly number[], labels: readonly number[]): number => z.reduce((s, zn, n) => s + softplus(zn) - labels[n]! * zn, 0) / z.length

/** Mean binary cross-entropy of a tanh MLP's logits plus λ/2 Σ w² over the weights, in float64. */
const objective = (params: readonly DenseParams[], batch: Snapshot['batch'], l2: number): number => {
  const squares = params.reduce((s, p) => s + p.w.flat().reduce((t, w) => t + w * w, 0), 0)
  return dataLossOf(logitsOf(params, batch.x), batch.labels) + (l2 / 2) * squares
}

const withWeight = (params: readonly DenseParams[], layer: number, from: number, to: number, value: number): DenseParams[] =>
  params.map((p, k) => (k !== layer ? p : { ...p, w: p.w.map((row, i) => row.map((w, j) => (i === from && j === to ? value : w))) }))

const withBias = (params: readonly DenseParams[], layer: number, unit: number, value: number): DenseParams[] =>
  params.map((p, k) => (k !== layer ? p : { ...p, b: p.b.map((b, j) => (j === unit ? value : b)) }))

/** ∂f/∂(value n) for each example n by central differences, `f(n, δ)` being f with example n's value moved by δ. */
const centralPerExample = (examples: number, f: (n: number, delta: number) => number, h = 1e-6): number[] =>
  Array.from({ length: examples }, (_, n) => (f(n, h) - f(n, -h)) / (2 * h))

/**
 * The page's adjoint of a unit against `want` (one per example): every value it computed, to
 * rounding, and the text it shows, `[a, b, c, d, …] (B examples, mean m)`, to the digits shown
 * (4 significant for the values, 6 for the mean).
 */
const expectUnitAdjoint = (s: Snapshot, shown: string, want: readonly number[]): void => {
  const got = s.inspection?.adjoint ?? []
  expect(got.length).toBe(want.length)
  got.forEach((a, n) => expect(a, `example ${n}`).toBeCloseTo(want[n]!, 8))
  const parts = /^\[(.*?)(, …)?\] \((\d+) examples, mean (\S+)\)$/.exec(shown)
  expect(parts, shown).not.toBeNull()
  const head = parts![1]!.split(', ').map(Number)
  expect(head.length).toBe(Math.min(4, want.length))
  expect(Number(parts![3])).toBe(want.length)
  const close = (value: number, target: number, digits: number) => Math.abs(value - target) <= 0.5 * 10 ** (1 - digits) * Math.abs(target) + 1e-12
  head.forEach((v, n) => expect(close(v, want[n]!, 4), `shown ${v}, want ${want[n]}`).toBe(true))
  const mean = want.reduce((a, b) => a + b, 0) / want.length
  expect(close(Number(parts![4]), mean, 6), `shown mean ${parts![4]}, want ${mean}`).toBe(true)
}

// ---------------------------------------------------------------- the eager interpreter, for the compiled one

const U = 2 ** -24

/** A network's parameters as flat leaves: each dense layer's weights (row-major), then its biases. */
const leavesOfSnapshot = (params: readonly DenseParams[]): Float64Array[] => params.flatMap((p) => [Float64Array.from(p.w.flat()), Float64Array.from(p.b)])
const leavesOf = (params: unknown): Float64Array[] => Tree.flatten(params).leaves.map((leaf: Tensor) => Float64Array.from(leaf.data))
const maxAbs = (values: ArrayLike<number>): number => {
  let m = 0
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]!))
  return m
}

/**
 * The eager interpreter on lamina's cpu backend in float64: the page's own trainer started from
 * the same configuration (so the same data, initial weights and minibatch draws), with each
 * step's starting parameters, gradient and Adam second moments kept for the bound.
 */
const eagerRun = (query: string, steps: number) =>
  Backends.withBackend(cpu, () => {
    let s = T.create(fromQuery(query).config)
    const history: { params: Float64Array[]; grads: Float64Array[]; v: Float64Array[] }[] = []
    for (let i = 0; i < steps; i++) {
      const { grads } = T.gradient(s)
      const params = leavesOf(s.params)
      s = T.step(s)
      history.push({ params, grads: leavesOf(grads), v: leavesOf((s.optimizerState as { v: unknown }).v) })
    }
    return { session: s, history }
  })

/**
 * Per-entry bounds on |compiled − eager| after the run, as in test/compiled.test.ts and
 * docs/07-compiled.md: a step's products and sums have at most k terms (here the batch, 16; the
 * widths are 2, 8, 8, 1), each with relative error γ_k ≈ k·u (u = 2⁻²⁴) with respect to its
 * terms' magnitudes, and the elementwise ops, the stored parameters, and the float64 data and
 * initial weights rounded to float32 add a few u: over N steps τ = N·(k + 4)·u relative to the
 * largest |θ| of the leaf. Adam divides by √v̂ + ε, which magnifies a gradient's error by
 * 1/(√v̂ + ε); that adds Σₛ η·3·(k + 4)·u·max|gₛ|/(√v̂ₛ + ε) per entry, from the reference's own v̂.
 */
const compiledBounds = (run: ReturnType<typeof eagerRun>, k: number): Float64Array[] => {
  const d = run.session.optimizer.description
  if (d?.kind !== 'adam') throw new Error('the bound below is written for Adam')
  const n = run.history.length
  const final = leavesOf(run.session.params)
  return final.map((leaf, i) => {
    const out = new Float64Array(leaf.length).fill(n * (k + 4) * U * Math.max(maxAbs(leaf), ...run.history.map((h) => maxAbs(h.params[i]!))))
    run.history.forEach((h, s) => {
      const g = maxAbs(h.grads[i]!)
      const correction = 1 - d.beta2 ** (s + 1)
      for (let j = 0; j < out.length; j++) out[j] = out[j]! + (d.lr(s) * 3 * (k + 4) * U * g) / (Math.sqrt(h.v[i]![j]! / correction) + d.eps)
    })
    return out
  })
}

// ---------------------------------------------------------------- the page, served

const contentTypes: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml'
}

const serve = (dir: string): Promise<Server> => {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname)
    const file = resolve(dir, `.${path === '/' ? '/index.html' : path}`)
    if (!file.startsWith(dir + sep)) {
      res.writeHead(403).end()
      return
    }
    readFile(file).then(
      (body) => res.writeHead(200, { 'content-type': contentTypes[extname(file)] ?? 'application/octet-stream' }).end(body),
      () => res.writeHead(404).end()
    )
  })
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done(server)))
}

/** A point where a real click lands on the weight's edge (edges cross, so not every point of it does). */
const edgePoint = (page: Page, weight: string): Promise<{ x: number; y: number } | null> =>
  page.evaluate((w) => {
    const path = document.querySelector<SVGPathElement>(`[data-weight="${w}"]`)
    if (path === null) return null
    path.scrollIntoView({ block: 'center' })
    const matrix = path.getScreenCTM()!
    const length = path.getTotalLength()
    for (let k = 1; k < 40; k++) {
      const at = path.getPointAtLength(((k * 0.618034) % 1) * length)
      const x = matrix.a * at.x + matrix.c * at.y + matrix.e
      const y = matrix.b * at.x + matrix.d * at.y + matrix.f
      if (document.elementFromPoint(x, y) === path) return { x, y }
    }
    return null
  }, weight)

const clickWeight = async (page: Page, layer: number, from: number, to: number): Promise<void> => {
  const point = await edgePoint(page, `${layer},${from},${to}`)
  expect(point, `no visible point of weight ${layer},${from},${to} to click`).not.toBeNull()
  await page.mouse.click(point!.x, point!.y)
}

// ---------------------------------------------------------------- tests

describe.skipIf(missing)('the playground in headless Chromium', () => {
  let outDir = ''
  let server: Server | undefined
  let browser: Browser | undefined
  let page: Page
  let origin = ''
  const errors: string[] = []

  const launch = async (extra: readonly string[] = []): Promise<Browser> => {
    const { chromium } = await import('playwright-core')
    return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...FLAGS, ...extra] })
  }

  const openPage = async (b: Browser, query: string): Promise<Page> => {
    // tall enough for the screenshot to show the start of the trace tables
    const p = await b.newPage({ viewport: { width: 1280, height: 1250 }, acceptDownloads: true })
    p.on('pageerror', (e) => errors.push(e.message))
    await p.goto(`${origin}/${query}`)
    await p.waitForSelector('body[data-ready="true"]', { timeout: 60_000 })
    return p
  }

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'lamina-playground-'))
    const { build } = await import('vite')
    await build({ configFile: join(ROOT, 'examples/playground/vite.config.ts'), logLevel: 'warn', build: { outDir, emptyOutDir: true } })
    server = await serve(outDir)
    origin = `http://localhost:${(server.address() as AddressInfo).port}`
    browser = await launch()
    page = await openPage(browser, '?dataset=circles&hidden=8,8&activation=tanh&lr=0.03&batch=16&optimizer=adam&l2=0.001&seed=1')
  }, 240_000)

  afterAll(async () => {
    await browser?.close()
    await new Promise((done) => (server === undefined ? done(undefined) : server.close(done)))
    if (outDir !== '') rmSync(outDir, { recursive: true, force: true })
  })

  it(`picks XOR and trains on GPU.js: the test loss falls below ${LOSS_THRESHOLD} within ${MAX_STEPS} steps`, async () => {
    await page.selectOption('#dataset', 'xor')
    await page.waitForFunction(() => location.search.includes('dataset=xor'))
    const before = await snapshot(page)
    expect(before.step).toBe(0)
    expect(before.testLoss).toBeGreaterThan(0.5)
    expect(before.backend?.mode).toMatch(/^(webgl2|webasm)$/)
    await expect(page.textContent('#backend')).resolves.toContain(`GPU.js ${before.backend!.mode}`)

    await page.click('#train')
    // the snapshot that met the condition is returned from inside the page, so training that goes
    // on between two calls (the loss of a noisy minibatch schedule wobbles) cannot change it
    const met = await page.waitForFunction(
      ([threshold, steps]) => {
        const s = (window as unknown as { __playground: { snapshot(): { testLoss: number; step: number } } }).__playground.snapshot()
        return s.testLoss < threshold! || s.step >= steps! ? s : false
      },
      [LOSS_THRESHOLD, MAX_STEPS],
      { timeout: 100_000, polling: 200 }
    )
    const reached = (await met.jsonValue()) as Snapshot
    expect(reached.testLoss).toBeLessThan(LOSS_THRESHOLD)
    expect(reached.step).toBeLessThanOrEqual(MAX_STEPS + 200) // the chunk that crossed may overshoot a little
    expect(reached.running).toBe(true)

    // mid-training, with a weight's trace open: the picture the README shows
    await clickWeight(page, 1, 3, 5)
    await page.waitForSelector('#inspector:not([hidden])')
    await page.waitForTimeout(800)
    const target = process.env['LAMINA_SCREENSHOT'] === '1' || !existsSync(SCREENSHOT) ? SCREENSHOT : join(outDir, 'playground.png')
    const shot = await page.screenshot({ path: target })
    expect(shot.subarray(1, 4).toString()).toBe('PNG')
    expect(statSync(target).size).toBeGreaterThan(10_000)

    const training = await snapshot(page)
    console.log(
      `playground e2e: trained on ${training.backend!.summary}; ${reached.stepsPerSecond.toFixed(1)} steps/s on XOR ` +
        `(2-8-8-1 tanh, batch 16, Adam); test loss ${reached.testLoss.toFixed(3)} at step ${reached.step}; screenshot ${target}`
    )
    expect(training.stepsPerSecond).toBeGreaterThan(0)
    await page.click('#train')
    await page.waitForFunction(() => document.querySelector('#train')?.textContent === 'Train')
    expect(errors).toEqual([])
  }, 150_000)

  it('a clicked weight shows its adjoint, equal to a central difference computed here', async () => {
    const [layer, from, to] = [0, 1, 4] as const
    // independent of the previous test's ending: pause if it left training running
    if ((await snapshot(page)).running) {
      await page.click('#train')
      await page.waitForFunction(() => document.querySelector('#train')?.textContent === 'Train')
    }
    await clickWeight(page, layer, from, to)
    await page.waitForFunction(() => document.querySelector('#inspect-label')?.textContent?.startsWith('W¹[1→4]'))
    const s = await snapshot(page)
    expect(s.running).toBe(false)
    expect(s.config.activation).toBe('tanh')
    const shown = Number(await page.textContent('#adjoint'))

    const w = s.params[layer]!.w[from]![to]!
    const h = 1e-6
    const central =
      (objective(withWeight(s.params, layer, from, to, w + h), s.batch, s.config.l2) - objective(withWeight(s.params, layer, from, to, w - h), s.batch, s.config.l2)) /
      (2 * h)
    expect(Math.abs(central)).toBeGreaterThan(1e-6) // a weight that matters, so the comparison means something
    expect(shown).toBeCloseTo(central, 7)
    expect(s.inspection?.adjoint[0]).toBeCloseTo(central, 9)

    // the same gradient from the float32 training backend, within float32 accuracy
    const onBackend = Number(await page.textContent('#adjoint-backend'))
    expect(Math.abs(onBackend - central)).toBeLessThan(1e-4 * Math.max(1, Math.abs(central)) + 1e-6)

    // the page's own check: Ridders' extrapolation of central differences
    await page.click('#check-gradient')
    const check = page.locator('#gradient-check')
    await expect.poll(() => check.getAttribute('data-estimate')).not.toBeNull()
    expect(Number(await check.getAttribute('data-estimate'))).toBeCloseTo(central, 7)
    await expect(check.textContent()).resolves.toMatch(/relative difference \d\.\d\de-\d+/)
    await expect(page.textContent('#trace')).resolves.toContain('Reverse adjoint trace')
    expect(errors).toEqual([])
  }, 60_000)

  it('a clicked bias, the output and an input show their adjoints, equal to central differences computed here', async () => {
    if ((await snapshot(page)).running) {
      await page.click('#train')
      await page.waitForFunction(() => document.querySelector('#train')?.textContent === 'Train')
    }
    // a bias: a parameter like a weight, with the page's own gradient check
    const [layer, unit] = [1, 5] as const
    await page.click(`[data-bias="${layer},${unit}"]`)
    await page.waitForFunction(() => document.querySelector('#inspect-label')?.textContent?.startsWith('b²₅ (a bias)'))
    const s = await snapshot(page)
    expect(s.running).toBe(false)
    const b = s.params[layer]!.b[unit]!
    const h = 1e-6
    const central = (objective(withBias(s.params, layer, unit, b + h), s.batch, s.config.l2) - objective(withBias(s.params, layer, unit, b - h), s.batch, s.config.l2)) / (2 * h)
    expect(Math.abs(central)).toBeGreaterThan(1e-6)
    expect(Number(await page.textContent('#adjoint'))).toBeCloseTo(central, 7)
    expect(s.inspection?.adjoint[0]).toBeCloseTo(central, 9)
    const onBackend = Number(await page.textContent('#adjoint-backend'))
    expect(Math.abs(onBackend - central)).toBeLessThan(1e-4 * Math.max(1, Math.abs(central)) + 1e-6)
    await page.click('#check-gradient')
    const check = page.locator('#gradient-check')
    await expect.poll(() => check.getAttribute('data-estimate')).not.toBeNull()
    expect(Number(await check.getAttribute('data-estimate'))).toBeCloseTo(central, 7)
    await expect(page.getAttribute('[data-bias="1,5"]', 'class')).resolves.toMatch(/\bselected\b/)

    // the output: ∂L/∂zₙ for each example's logit (the L2 term does not depend on z)
    await page.click('[data-output="0"]')
    await page.waitForFunction(() => document.querySelector('#inspect-label')?.textContent?.startsWith('z (the output'))
    const z = logitsOf(s.params, s.batch.x)
    const zAdjoint = centralPerExample(z.length, (n, delta) => dataLossOf(z.map((v, k) => (k === n ? v + delta : v)), s.batch.labels))
    expectUnitAdjoint(await snapshot(page), (await page.textContent('#adjoint'))!, zAdjoint)
    await expect(page.textContent('#trace')).resolves.toContain('Reverse adjoint trace')
    expect(await page.locator('#check-gradient').isDisabled()).toBe(true)

    // an input: ∂L/∂x₂ for each example of the minibatch
    await page.click('[data-input="1"]')
    await page.waitForFunction(() => document.querySelector('#inspect-label')?.textContent?.startsWith('x₂ (an input'))
    const xAdjoint = centralPerExample(s.batch.x.length, (n, delta) =>
      objective(s.params, { ...s.batch, x: s.batch.x.map((row, k) => (k === n ? [row[0]!, row[1]! + delta] : row)) }, s.config.l2)
    )
    expect(Math.max(...xAdjoint.map(Math.abs))).toBeGreaterThan(1e-6)
    const inputs = await snapshot(page)
    expect(inputs.step).toBe(s.step)
    expectUnitAdjoint(inputs, (await page.textContent('#adjoint'))!, xAdjoint)
    expect(errors).toEqual([])
  }, 30_000)

  it('the URL holds the configuration: a reload restores every setting; uploading the downloaded weights restores the network', async () => {
    const before = await snapshot(page)
    expect(page.url()).toContain(`?${before.query}`)
    const downloading = page.waitForEvent('download')
    await page.click('#save')
    const file = await (await downloading).path()
    const bytes = readFileSync(file)
    expect(Number(bytes.readBigUInt64LE(0)) % 8).toBe(0) // a safetensors header length

    await page.reload()
    await page.waitForSelector('body[data-ready="true"]')
    const after = await snapshot(page)
    expect(after.config).toEqual(before.config)
    expect(await page.inputValue('#dataset')).toBe('xor')
    expect(await page.inputValue('#activation')).toBe('tanh')
    expect(await page.locator('#units input').evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value))).toEqual(['8', '8'])
    expect(await page.inputValue('#l2')).toBe('0.001')
    expect(after.step).toBe(0)
    expect(after.params).not.toEqual(before.params)

    await page.setInputFiles('#upload', file)
    await page.waitForFunction(() => document.querySelector('#file-message')?.textContent?.startsWith('loaded'))
    const restored = await snapshot(page)
    expect(restored.params).toEqual(before.params)
    expect(restored.step).toBe(before.step)
    expect(restored.testLoss).toBeCloseTo(before.testLoss, 12)
    expect(errors).toEqual([])
  }, 60_000)

  it(`with WebGPU (${WEBGPU_FLAGS.join(' ')}), XOR trains through the compiled step (webgpu, fused-encoder): its parameters equal the eager interpreter's within τ, and the test loss falls below ${LOSS_THRESHOLD}`, async ({ skip }) => {
    const query = '?dataset=xor&hidden=8,8&activation=tanh&lr=0.03&batch=16&optimizer=adam&l2=0.001&seed=1'
    const withGpu = await launch(WEBGPU_FLAGS)
    try {
      const p = await openPage(withGpu, query)
      const start = await snapshot(p)
      if (start.backend?.webgpu !== true) {
        const reason = `chromium with ${WEBGPU_FLAGS.join(' ')} gives no WebGPU adapter here (${start.backend?.notes.join(' ') ?? 'no backend'})`
        console.warn(`playground e2e: WebGPU test skipped: ${reason}`)
        skip(reason)
      }
      const backend = start.backend!
      expect(backend.compiled, backend.notes.join(' ')).not.toBeNull()
      const compiled = backend.compiled!
      expect(backend.mode).toBe('webgpu')
      expect(compiled).toMatchObject({ backend: 'webgpu', executorKind: 'fused-encoder', fallbackReason: null })
      await expect(p.textContent('#backend')).resolves.toContain('GPU.js webgpu (compiled, fused-encoder)')
      expect(start.step).toBe(0)

      // two compiled calls from step 0, against the eager interpreter in float64 on the same minibatches
      const steps = 2 * compiled.stepsPerCall
      const trained = (await p.evaluate(
        (n) => (window as unknown as { __playground: { train(n: number): Promise<unknown> } }).__playground.train(n),
        steps
      )) as Snapshot & { compiledSteps: number; eagerSteps: number }
      expect(trained).toMatchObject({ step: steps, compiledSteps: steps, eagerSteps: 0 })
      const reference = eagerRun(query, steps)
      const got = leavesOfSnapshot(trained.params)
      const want = leavesOf(reference.session.params)
      const limits = compiledBounds(reference, 16) // the longest reduction: the batch (the widths are 2, 8, 8, 1)
      const outside = got.flatMap((leaf, i) =>
        Array.from(leaf, (v, j) => ({ i, j, d: Math.abs(v - want[i]![j]!), limit: limits[i]![j]! })).filter((e) => !(e.d <= e.limit))
      )
      expect(outside.slice(0, 3)).toEqual([])
      // the comparison is between parameters that moved
      const initial = reference.history[0]!.params
      expect(Math.max(...want.map((leaf, i) => maxAbs(leaf.map((v, j) => v - initial[i]![j]!))))).toBeGreaterThan(1e-3)
      const largest = Math.max(...got.map((leaf, i) => maxAbs(leaf.map((v, j) => v - want[i]![j]!))))

      await p.click('#train')
      const met = await p.waitForFunction(
        ([threshold, limit]) => {
          const s = (window as unknown as { __playground: { snapshot(): { testLoss: number; step: number; stepsPerSecond: number } } }).__playground.snapshot()
          return (s.testLoss < threshold! || s.step >= limit!) && Number.isFinite(s.stepsPerSecond) ? s : false
        },
        [LOSS_THRESHOLD, MAX_STEPS],
        { timeout: 60_000, polling: 200 }
      )
      const reached = (await met.jsonValue()) as Snapshot
      expect(reached.testLoss).toBeLessThan(LOSS_THRESHOLD)
      expect(reached.step).toBeLessThanOrEqual(MAX_STEPS + 200)
      expect(reached.backend?.compiled?.executorKind).toBe('fused-encoder')
      await p.click('#train')
      await p.waitForFunction(() => document.querySelector('#train')?.textContent === 'Train')
      console.log(
        `playground e2e: trained on ${reached.backend!.summary}, ${compiled.stepsPerCall} steps per call, ${compiled.kernelsPerStep} kernels per step; ` +
          `${reached.stepsPerSecond.toFixed(1)} steps/s on XOR (2-8-8-1 tanh, batch 16, Adam); test loss ${reached.testLoss.toFixed(3)} at step ${reached.step}; ` +
          `after ${steps} steps max |compiled − eager float64| = ${largest.toExponential(2)}`
      )
      expect(errors).toEqual([])
    } finally {
      await withGpu.close()
    }
  }, 90_000)

  it('a browser without WebGL2 or WebGPU trains on webasm, and the page says so', async () => {
    const plain = await launch(['--disable-3d-apis'])
    try {
      const p = await openPage(plain, '?dataset=xor&hidden=4&activation=tanh')
      const s = await snapshot(p)
      expect(s.backend).toMatchObject({ mode: 'webasm', webgl2: false, webgpu: false })
      await expect(p.textContent('#backend')).resolves.toContain('GPU.js webasm')
      await expect(p.textContent('#backend-notes')).resolves.toContain('neither WebGL2 nor WebGPU')
      for (let i = 0; i < 3; i++) await p.click('#step')
      const stepped = await snapshot(p)
      expect(stepped.step).toBe(3)
      expect(Number.isFinite(stepped.testLoss)).toBe(true)
      await p.click('#train')
      await p.waitForFunction(() => Number(document.querySelector('#step-count')?.textContent) > 100)
      await p.click('#train')
      console.log(`playground e2e: without WebGL2: ${(await snapshot(p)).stepsPerSecond.toFixed(1)} steps/s on webasm (2-4-1 tanh, batch 16)`)
      expect(errors).toEqual([])
    } finally {
      await plain.close()
    }
  }, 60_000)
})
