/** The error a thunk throws (fails the test when it returns normally, or throws a non-Error). */
export const thrown = (f: () => unknown): Error => {
  try {
    f()
  } catch (e) {
    if (e instanceof Error) return e
    throw new Error(`threw a non-Error: ${String(e)}`)
  }
  throw new Error('expected the call to throw, it returned normally')
}
