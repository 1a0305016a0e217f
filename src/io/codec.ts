/**
 * io-ts codecs at lamina's boundaries, and a reporter that turns io-ts's errors into
 * readable ones. Every failure is one line, `path: expected TYPE, got VALUE`, with the path
 * written as in JavaScript (`layers[2].units`), the type in words (`positive integer`) and
 * the value as short JSON (`-3`, `"784"`, `undefined` for a missing key):
 *
 * ```text
 * model spec: 2 problems
 *   layers[2].units: expected positive integer, got -3
 *   layers[3].kind: expected one of "dense", "relu", …, got "dence"
 * ```
 *
 * Decoding never throws and never executes code: {@link decodeWith} returns an `Either`, and it
 * rejects any object holding a key named `__proto__`, `constructor` or `prototype` before a
 * codec reads it, so a file cannot pollute `Object.prototype` through lamina.
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import * as t from 'io-ts'
 * import assert from 'node:assert'
 * const Layer = Codec.struct('dense layer', { units: Codec.PositiveInt }, { rate: Codec.Probability })
 * const decoded = Codec.decodeWith(t.readonlyArray(Layer), [{ units: 4 }, { units: -3 }], 'layers')
 * assert.ok(decoded._tag === 'Left')
 * assert.strictEqual(decoded.left.message, 'layers: [1].units: expected positive integer, got -3')
 * ```
 *
 * @module
 */
// One concept per file under ./codec/; this module is their public face.
export type { Failure } from './codec/failure.js'
export { DecodeError, formatFailure } from './codec/failure.js'
export { joinPath, showValue } from './codec/show.js'
export { report } from './codec/report.js'
export { forbiddenKeyFailures, forbiddenKeys } from './codec/forbidden-keys.js'
export { MAX_JSON_DEPTH, decodeWith, parseJson, parseJsonText } from './codec/decode.js'
export { parseDecimal } from './codec/decimal.js'
export type {
  FiniteBrand,
  FractionBrand,
  NonNegativeBrand,
  NonNegativeIntBrand,
  PositiveBrand,
  PositiveIntBrand,
  ProbabilityBrand,
  SafeIntBrand
} from './codec/numbers.js'
export { Finite, Fraction, NonNegative, NonNegativeInt, Positive, PositiveInt, Probability, SafeInt } from './codec/numbers.js'
export type { StructOf, TypeOfProps } from './codec/objects.js'
export { array, oneOf, struct, tagged } from './codec/objects.js'
