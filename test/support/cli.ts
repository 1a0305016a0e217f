/** `lamina` run in this process, its output captured: what the CLI tests share. */
import { main } from '../../src/cli/main.js'

/** A finished `lamina` run: its exit code and everything it wrote. */
export interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** `lamina …args` in this process. */
export const run = async (...args: string[]): Promise<Run> => {
  let stdout = ''
  let stderr = ''
  const code = await main(args, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s) })
  return { code, stdout, stderr }
}
