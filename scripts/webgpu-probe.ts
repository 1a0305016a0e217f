// Asks the `webgpu` package (Dawn) for an adapter through lamina/node's installWebGpu and prints
// one JSON line: { ok, vendor, architecture, device, description } or { ok: false, reason }.
// Run by scripts/install-webgpu.sh with the Node it is testing.
import { installWebGpu } from 'lamina-nn/node'

const result = await installWebGpu()()
console.log(JSON.stringify(result._tag === 'Right' ? { ok: true, ...result.right } : { ok: false, reason: result.left.message }))
// Dawn may abort while Node tears down; this process has said what it had to
process.exit(0)
