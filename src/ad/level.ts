/**
 * Levels of nested transformations. Each `jvp`/`grad`/`vjp` call takes a fresh level,
 * higher than every level still running, so tracers of nested calls never get confused.
 *
 * @module
 */
let counter = 0

/** A level above every level handed out before. */
export const fresh = (): number => ++counter
