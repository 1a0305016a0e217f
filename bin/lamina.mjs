#!/usr/bin/env node
// The `lamina` command. Runs the compiled CLI (dist/src/cli/main.js, from `npm run build`) when
// it exists; otherwise, in a checkout without a build, compiles the TypeScript sources on the
// fly with tsx (a devDependency). LAMINA_FROM_SOURCE=1 forces the sources even when dist exists.
// The CLI imports the library by relative paths, so no export condition is needed either way.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const built = new URL('../dist/src/cli/main.js', import.meta.url)
const source = new URL('../src/cli/main.ts', import.meta.url)

const load = async () => {
  if (process.env.LAMINA_FROM_SOURCE !== '1' && existsSync(fileURLToPath(built))) return import(built.href)
  let register
  try {
    ;({ register } = await import('tsx/esm/api'))
  } catch {
    process.stderr.write('lamina: no build found (dist/src/cli/main.js) and tsx is not installed to run the sources; run `npm run build`\n')
    process.exit(1)
  }
  register()
  return import(source.href)
}

const { main } = await load()
process.exitCode = await main(process.argv.slice(2))
