/**
 * The playground page under test: built with Vite's JS API into a temporary folder, served by a
 * small static server on a free port, opened in Debian's headless chromium (playwright-core),
 * and driven the way a user does (pause, click a weight's edge). Each e2e file builds, serves
 * and launches once, in its `beforeAll`.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { extname, join, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { snapshot } from './playground-hooks.js'

const CHROMIUM = '/usr/bin/chromium'
export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
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
export const LOSS_THRESHOLD = 0.2
export const MAX_STEPS = 1500
/**
 * What gives headless Chromium 156 a WebGPU adapter here: `--enable-unsafe-webgpu` alone, with or
 * without `--disable-gpu` (Dawn's SwiftShader Vulkan, adapter "google swiftshader"). Without it
 * `requestAdapter()` resolves null, whatever else is set (`--use-webgpu-adapter=swiftshader`,
 * `--enable-features=Vulkan,WebGPU`).
 */
export const WEBGPU_FLAGS = ['--enable-unsafe-webgpu']

/** True, after a warning, when there is no chromium to run the e2e files in. */
export const chromiumMissing = (): boolean => {
  const missing = !existsSync(CHROMIUM)
  if (missing) console.warn(`playground e2e skipped: ${CHROMIUM} is missing (bash scripts/install-browser.sh installs Debian's chromium)`)
  return missing
}

export const launch = async (extra: readonly string[] = []): Promise<Browser> => {
  const { chromium } = await import('playwright-core')
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...FLAGS, ...extra] })
}

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

/** The built page, served: `start` in a `beforeAll`, `stop` in the `afterAll`. */
export interface Site {
  /** The build's temporary folder (removed by `stop`): files a test writes go there too. */
  readonly outDir: string
  /** The page errors of every page opened with `openPage`; each test expects none. */
  readonly errors: string[]
  start(): Promise<void>
  stop(): Promise<void>
  /** Goes to the page with this query and waits until it is ready. */
  load(p: Page, query: string): Promise<void>
  /** A new page (tall enough for the screenshot to show the start of the trace tables) with this query, its errors recorded. */
  openPage(b: Browser, query: string, viewport?: { width: number; height: number }): Promise<Page>
}

export const site = (): Site => {
  let outDir = ''
  let server: Server | undefined
  let origin = ''
  const errors: string[] = []
  const load = async (p: Page, query: string): Promise<void> => {
    await p.goto(`${origin}/?${query}`)
    await p.waitForSelector('body[data-ready="true"]', { timeout: 60_000 })
  }
  return {
    get outDir() {
      return outDir
    },
    errors,
    start: async () => {
      outDir = mkdtempSync(join(tmpdir(), 'lamina-playground-'))
      const { build } = await import('vite')
      await build({ configFile: join(ROOT, 'examples/playground/vite.config.ts'), logLevel: 'warn', build: { outDir, emptyOutDir: true } })
      server = await serve(outDir)
      origin = `http://localhost:${(server.address() as AddressInfo).port}`
    },
    stop: async () => {
      await new Promise((done) => (server === undefined ? done(undefined) : server.close(done)))
      if (outDir !== '') rmSync(outDir, { recursive: true, force: true })
    },
    load,
    openPage: async (b, query, viewport = { width: 1280, height: 1250 }) => {
      const p = await b.newPage({ viewport, acceptDownloads: true })
      p.on('pageerror', (e) => errors.push(e.message))
      await load(p, query)
      return p
    }
  }
}

/** Stops training, if it runs, the way a user does (the Pause button). */
export const pause = async (p: Page): Promise<void> => {
  if (!(await snapshot(p)).running) return
  await p.click('#train')
  await p.waitForFunction(() => document.querySelector('#train')?.textContent === 'Train')
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

export const clickWeight = async (page: Page, layer: number, from: number, to: number): Promise<void> => {
  const point = await edgePoint(page, `${layer},${from},${to}`)
  expect(point, `no visible point of weight ${layer},${from},${to} to click`).not.toBeNull()
  await page.mouse.click(point!.x, point!.y)
}
