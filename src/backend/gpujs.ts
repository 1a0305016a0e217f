/**
 * The `gpu.js` package, imported on first use. It is an optional peer dependency of
 * lamina-nn: most programs never import `lamina-nn/gpu`, and gpu.js brings the `webgpu`
 * (Dawn) binaries and the `gl` native build with it. A program that asks for a GPU.js backend
 * without having installed it gets one line saying what to install.
 *
 * @module
 */

/** The message when gpu.js is missing: what to install. */
export const GPUJS_MISSING = "the optional peer dependency 'gpu.js' is not installed; lamina-nn/gpu needs it: npm install gpu.js"

const isModuleNotFound = (e: unknown): boolean => {
  const code = (e as { code?: unknown } | null)?.code
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && /gpu\.js/.test(String((e as Error).message))
}

/**
 * gpu.js's exports (its named exports, whether Node gives them directly or under `default`).
 * Rejects with {@link GPUJS_MISSING} when the package is not installed, with the loader's own
 * reason otherwise.
 */
export const importGpuJs = async (): Promise<Readonly<Record<string, unknown>>> => {
  let imported: Record<string, unknown> & { default?: Record<string, unknown> }
  try {
    imported = (await import('gpu.js')) as unknown as Record<string, unknown> & { default?: Record<string, unknown> }
  } catch (e) {
    throw isModuleNotFound(e) ? new Error(GPUJS_MISSING, { cause: e }) : e
  }
  const mod = imported['GPU'] !== undefined ? imported : (imported.default ?? {})
  if (mod['GPU'] === undefined) throw new Error('the gpu.js module has no GPU export')
  return mod
}
