/**
 * Codecs of objects and collections: closed structs that report unknown keys, unions told
 * apart by a tag, arrays, and one-of-a-set strings. Re-exported by `Codec`.
 *
 * @module
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { isRecord, plural } from './internal.js'

/** The decoded type of a record of codecs. */
export type TypeOfProps<P extends t.Props> = { readonly [K in keyof P]: t.TypeOf<P[K]> }
/** The decoded type of a {@link struct}: the required keys, and the optional ones that may be absent. */
export type StructOf<R extends t.Props, O extends t.Props> = TypeOfProps<R> & Partial<TypeOfProps<O>>

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k)

const listKeys = (keys: readonly string[]): string => keys.join(', ')

/**
 * A closed object codec: the `required` keys must be present, the `optional` ones may be
 * absent (or `undefined`), and any other key is a failure (`layers[0].unit: expected no such
 * key (dense layer keys: kind, units, inputs), got 128`), so a typo is reported, not ignored.
 * Only own properties are read, and the decoded value is a fresh object holding the known
 * keys only.
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * const Dense = Codec.struct('dense layer', { units: Codec.PositiveInt }, { bias: Codec.Finite })
 * assert.deepStrictEqual(Codec.decodeWith(Dense, { units: 3 }, 'layer'), { _tag: 'Right', right: { units: 3 } })
 * const typo = Codec.decodeWith(Dense, { units: 3, bais: 0 }, 'layer')
 * assert.ok(typo._tag === 'Left')
 * assert.strictEqual(typo.left.message, 'layer: bais: expected no such key (dense layer keys: units, bias), got 0')
 * const missing = Codec.decodeWith(Dense, {}, 'layer')
 * assert.ok(missing._tag === 'Left' && missing.left.message === 'layer: units: expected positive integer, got undefined')
 * ```
 */
export const struct = <R extends t.Props, O extends t.Props = {}>(
  name: string,
  required: R,
  optional?: O
): t.Type<StructOf<R, O>, unknown, unknown> => {
  const opt: t.Props = optional ?? {}
  const known = [...Object.keys(required), ...Object.keys(opt)]
  const validate = (u: unknown, c: t.Context): t.Validation<StructOf<R, O>> => {
    if (!isRecord(u)) return t.failure(u, c, name)
    const errors: t.ValidationError[] = []
    const out: Record<string, unknown> = {}
    for (const k of Object.keys(u)) {
      if (!hasOwn(required, k) && !hasOwn(opt, k)) {
        const v = Object.getOwnPropertyDescriptor(u, k)?.value as unknown
        errors.push({ value: v, context: t.appendContext(c, k, t.unknown, v), message: `no such key (${name} keys: ${listKeys(known)})` })
      }
    }
    const field = (k: string, codec: t.Mixed, present: boolean): void => {
      const v = present ? (Object.getOwnPropertyDescriptor(u, k)?.value as unknown) : undefined
      const r = codec.validate(v, t.appendContext(c, k, codec, v))
      if (E.isLeft(r)) errors.push(...r.left)
      else out[k] = r.right
    }
    for (const k of Object.keys(required)) field(k, required[k]!, hasOwn(u, k))
    for (const k of Object.keys(opt)) {
      if (hasOwn(u, k) && Object.getOwnPropertyDescriptor(u, k)?.value !== undefined) field(k, opt[k]!, true)
    }
    return errors.length > 0 ? t.failures(errors) : t.success(out as StructOf<R, O>)
  }
  const is = (u: unknown): u is StructOf<R, O> => E.isRight(validate(u, [{ key: '', type: t.unknown, actual: u }]))
  return new t.Type<StructOf<R, O>, unknown, unknown>(name, is, validate, (a) => a)
}

/**
 * A union of object codecs told apart by a string field (`kind`): an unknown or missing tag
 * is one failure at that field (`layers[3].kind: expected one of "dense", "relu", got
 * "dence"`), and a known tag is decoded by its member alone, so the failures are that
 * member's. Tags are looked up as own keys only (`"kind": "constructor"` is simply unknown).
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import * as t from 'io-ts'
 * import assert from 'node:assert'
 * const Shape = Codec.tagged('kind', 'shape', {
 *   circle: Codec.struct('circle', { kind: t.literal('circle'), r: Codec.Positive }),
 *   square: Codec.struct('square', { kind: t.literal('square'), side: Codec.Positive })
 * })
 * assert.ok(Codec.decodeWith(Shape, { kind: 'circle', r: 1 }, 'shape')._tag === 'Right')
 * const bad = Codec.decodeWith(Shape, { kind: 'triangle' }, 'shape')
 * assert.ok(bad._tag === 'Left' && bad.left.message === 'shape: kind: expected one of "circle", "square", got "triangle"')
 * ```
 */
export const tagged = <M extends Readonly<Record<string, t.Mixed>>>(
  tag: string,
  name: string,
  members: M
): t.Type<t.TypeOf<M[keyof M]>, unknown, unknown> => {
  const table = new Map<string, t.Mixed>(Object.entries(members))
  const expected = `one of ${[...table.keys()].map((k) => JSON.stringify(k)).join(', ')}`
  const validate = (u: unknown, c: t.Context): t.Validation<t.TypeOf<M[keyof M]>> => {
    if (!isRecord(u)) return t.failure(u, c, `${name} (an object with a "${tag}" field)`)
    const value = hasOwn(u, tag) ? (Object.getOwnPropertyDescriptor(u, tag)?.value as unknown) : undefined
    const member = typeof value === 'string' ? table.get(value) : undefined
    if (member === undefined) return t.failure(value, t.appendContext(c, tag, t.string, value), expected)
    return member.validate(u, c) as t.Validation<t.TypeOf<M[keyof M]>>
  }
  const is = (u: unknown): u is t.TypeOf<M[keyof M]> => E.isRight(validate(u, [{ key: '', type: t.unknown, actual: u }]))
  return new t.Type<t.TypeOf<M[keyof M]>, unknown, unknown>(name, is, validate, (a) => a)
}

/**
 * A read-only array of at least `min` items, each decoded by `item`; failures point at the
 * item (`input[1]`).
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * const Dims = Codec.array(Codec.PositiveInt, 'shape (positive integers)', 1)
 * assert.deepStrictEqual(Codec.decodeWith(Dims, [1, 28, 28], 'input'), { _tag: 'Right', right: [1, 28, 28] })
 * const bad = Codec.decodeWith(Dims, [1, 0], 'input')
 * assert.ok(bad._tag === 'Left' && bad.left.message === 'input: [1]: expected positive integer, got 0')
 * const empty = Codec.decodeWith(Dims, [], 'input')
 * assert.ok(empty._tag === 'Left' && empty.left.message === 'input: expected shape (positive integers) with at least 1 item, got []')
 * ```
 */
export const array = <C extends t.Mixed>(item: C, name: string, min = 0): t.Type<ReadonlyArray<t.TypeOf<C>>, unknown, unknown> => {
  const validate = (u: unknown, c: t.Context): t.Validation<ReadonlyArray<t.TypeOf<C>>> => {
    if (!Array.isArray(u)) return t.failure(u, c, name)
    if (u.length < min) return t.failure(u, c, `${name} with at least ${plural(min, 'item')}`)
    const errors: t.ValidationError[] = []
    const out: unknown[] = new Array<unknown>(u.length)
    for (let i = 0; i < u.length; i++) {
      const v: unknown = u[i]
      const r = item.validate(v, t.appendContext(c, String(i), item, v))
      if (E.isLeft(r)) errors.push(...r.left)
      else out[i] = r.right
    }
    return errors.length > 0 ? t.failures(errors) : t.success(out as ReadonlyArray<t.TypeOf<C>>)
  }
  const is = (u: unknown): u is ReadonlyArray<t.TypeOf<C>> => E.isRight(validate(u, [{ key: '', type: t.unknown, actual: u }]))
  return new t.Type<ReadonlyArray<t.TypeOf<C>>, unknown, unknown>(name, is, validate, (a) => a)
}

/**
 * One of a fixed set of strings; the failure lists them (`expected one of "sgd", "adam"`).
 *
 * @example
 * ```ts
 * import { Codec } from 'lamina-nn'
 * import assert from 'node:assert'
 * const Loss = Codec.oneOf(['mse', 'crossEntropy'])
 * assert.ok(Loss.is('mse'))
 * const bad = Codec.decodeWith(Loss, 'hinge', 'loss')
 * assert.ok(bad._tag === 'Left' && bad.left.message === 'loss: expected one of "mse", "crossEntropy", got "hinge"')
 * ```
 */
export const oneOf = <const S extends string>(values: readonly S[]): t.Type<S, S, unknown> => {
  const set = new Set<string>(values)
  const name = `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`
  return new t.Type<S, S, unknown>(
    name,
    (u): u is S => typeof u === 'string' && set.has(u),
    (u, c) => (typeof u === 'string' && set.has(u) ? t.success(u as S) : t.failure(u, c)),
    (a) => a
  )
}
