/**
 * Child program of the atomic-write kill test: saves versions `start`, `start + 1`, … of a
 * large file to `target` with writeFileAtomic (or its sync twin), forever, printing
 * `begin v` before and `done v` after each save. The parent SIGKILLs it at a random moment.
 *
 *   node --import tsx test/fixtures-gen/atomic-writer.ts <target> <start> <size> <async|sync>
 */
import { writeFileAtomic, writeFileAtomicSync } from '../../src/io/atomic.js'
import { versionBytes } from './atomic-payload.js'

const [target, startText, sizeText, mode] = process.argv.slice(2)
if (target === undefined || startText === undefined || sizeText === undefined || (mode !== 'async' && mode !== 'sync')) {
  console.error('usage: atomic-writer.ts <target> <start> <size> <async|sync>')
  process.exit(2)
}
const size = Number(sizeText)
for (let v = Number(startText); ; v++) {
  const bytes = versionBytes(v, size)
  process.stdout.write(`begin ${v}\n`)
  if (mode === 'async') await writeFileAtomic(target, bytes)
  else writeFileAtomicSync(target, bytes)
  process.stdout.write(`done ${v}\n`)
}
