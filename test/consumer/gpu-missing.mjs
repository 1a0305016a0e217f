// lamina-nn/gpu without gpu.js installed: the fallback's reason and the strict error name the package.
import { createGpuBackend, GpuError } from 'lamina-nn/gpu'

const fallback = await createGpuBackend({ mode: 'webasm' })
let strict = ''
try {
  await createGpuBackend({ mode: 'webasm', onUnavailable: 'throw' })
} catch (e) {
  strict = e instanceof GpuError ? e.message : `not a GpuError: ${e}`
}
console.log(JSON.stringify({ mode: fallback.mode, reason: fallback.fallbackReason, strict }))
