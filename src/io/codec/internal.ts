/**
 * Small helpers the codec modules share.
 *
 * @module
 */

/** `n word`, with an `s` unless `n` is 1. */
export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`

/** Whether a value is an `[object Object]`: an object, not an array, a date, a typed array… */
export const isRecord = (u: unknown): u is Record<string, unknown> => Object.prototype.toString.call(u) === '[object Object]'
