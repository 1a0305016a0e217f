/**
 * Loading the hand-written WebAssembly kernels: the committed base64 decoded without Node's
 * Buffer (so it runs in browsers), compiled once on first use, instantiated lazily.
 *
 * @module
 */

/** The bytes of a base64-encoded module. */
export const decodeBase64 = (base64: string): Uint8Array<ArrayBuffer> => {
  const text = atob(base64)
  const bytes = new Uint8Array(text.length)
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i)
  return bytes
}

/** A module compiled on first use, and its current instance. */
export interface LazyModule<E> {
  /** The instance's exports, or `null` where the engine has no WebAssembly or rejects the module (no SIMD). */
  readonly exports: () => E | null
  /** Drops the instance (and its memory); the next {@link LazyModule.exports} makes a fresh one. */
  readonly release: () => void
}

/** Compiles `bytes()` once (instances share the compiled, tiered-up code) and instantiates on demand. */
export const lazyModule = <E>(bytes: () => Uint8Array<ArrayBuffer>): LazyModule<E> => {
  let compiled: WebAssembly.Module | null | undefined
  let instance: E | undefined
  const compile = (): WebAssembly.Module | null => {
    if (typeof WebAssembly === 'undefined') return null
    const b = bytes()
    return WebAssembly.validate(b) ? new WebAssembly.Module(b) : null
  }
  return {
    exports: () => {
      if (compiled === undefined) compiled = compile()
      if (compiled === null) return null
      instance ??= new WebAssembly.Instance(compiled).exports as unknown as E
      return instance
    },
    release: () => {
      instance = undefined
    }
  }
}

const PAGE_BYTES = 65536

/**
 * Grows `memory` to hold at least `bytes`; false when that is past what the kernels can
 * address (their addresses are i32) or the engine refuses to grow it.
 */
export const ensureBytes = (memory: WebAssembly.Memory, bytes: number): boolean => {
  if (bytes > 2 ** 31) return false
  if (memory.buffer.byteLength >= bytes) return true
  try {
    memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE_BYTES))
    return true
  } catch {
    return false
  }
}
