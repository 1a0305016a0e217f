/**
 * The page's files: the trained parameters offered as a download (a lamina checkpoint that
 * `lamina eval`/`inspect` read), and an uploaded file read back into a configuration, its
 * parameters and its step.
 *
 * @module
 */
import * as E from 'fp-ts/lib/Either.js'
import * as Ck from './checkpoint.js'
import * as T from './trainer.js'

/** Downloads the session's parameters; returns the message that says what was saved. */
export const download = (s: T.Session): string => {
  const bytes = Ck.save(s.config, s.network, T.params64(s), s.step)
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/octet-stream' }))
  const a = document.createElement('a')
  a.href = url
  a.download = `lamina-playground-${s.config.dataset}-step${s.step}.safetensors`
  a.click()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
  return `saved ${bytes.length} bytes (a lamina checkpoint: lamina eval/inspect read it)`
}

/** What an uploaded file restores, or the message that says (naming the file) why it cannot. */
export const read = async (file: File): Promise<E.Either<string, Ck.Loaded>> => {
  const bytes = new Uint8Array(await file.arrayBuffer())
  const loaded = Ck.load(bytes)
  return E.isLeft(loaded) ? E.left(`${file.name}: ${loaded.left.message}`) : E.right(loaded.right)
}
