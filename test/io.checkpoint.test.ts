import { describe, expect, it } from 'vitest'
import { fc, test as fcTest } from '@fast-check/vitest'
import * as E from 'fp-ts/lib/Either.js'
import { Checkpoint, Layer, Random, Safetensors, Spec, Tree, tensor, LaminaError } from 'lamina-nn'

const spec = {
  input: [6],
  layers: [{ kind: 'dense' as const, units: 5 }, { kind: 'batchNorm' as const }, { kind: 'relu' as const }, { kind: 'dense' as const, units: 3 }]
}
const built = Spec.build(spec)
if (E.isLeft(built)) throw built.left
const { model } = built.right

describe('checkpoints', () => {
  it('round-trips parameters, layer state and metadata bit for bit', () => {
    const params = model.init(Random.key(3))
    const x = Random.normal(Random.key(4), [8, 6])
    const { state } = Layer.train(model, params, model.initState(), x, Random.key(5))
    const bytes = Checkpoint.encode(spec, params, state, { epochs: '3' })
    const back = Checkpoint.decode(bytes)
    if (E.isLeft(back)) throw back.left
    const same = (a: unknown, b: unknown) =>
      Tree.flatten(a).leaves.every((t, i) => Object.is(t.data[0], Tree.flatten(b).leaves[i]!.data[0]) && t.toArray().toString() === Tree.flatten(b).leaves[i]!.toArray().toString())
    expect(same(back.right.params, params)).toBe(true)
    expect(same(back.right.state, state)).toBe(true)
    expect(back.right.metadata['epochs']).toBe('3')
    expect(JSON.parse(back.right.metadata['spec']!)).toEqual(spec)
    // the rebuilt model computes what the original did
    expect(Layer.apply(back.right.built.model, back.right.params, x, back.right.state).toArray()).toEqual(Layer.apply(model, params, x, state).toArray())
  })

  it('rejects a safetensors file that is not a lamina checkpoint, another version, or a spec that does not build', () => {
    const left = (bytes: Uint8Array) => {
      const r = Checkpoint.decode(bytes)
      return E.isLeft(r) ? r.left.message : 'decoded'
    }
    expect(left(Safetensors.encode({ w: tensor([1]) }))).toMatch(/not a lamina model: the safetensors metadata has no "lamina" key/)
    expect(left(Safetensors.encode({ w: tensor([1]) }, { lamina: '9', spec: '{}' }))).toMatch(/unsupported lamina model version "9"/)
    const bad = JSON.stringify({ input: [4], layers: [{ kind: 'reshape', shape: [1, 3, 3] }] })
    expect(left(Safetensors.encode({ w: tensor([1]) }, { lamina: '1', spec: bad }))).toMatch(/^the metadata spec: ShapeError: layer 1: reshape: cannot reshape \[4\]/)
  })

  it('rejects tensors that are not exactly the parameters of the spec', () => {
    const params = model.init(Random.key(0))
    const tensors = { ...Safetensors.fromTree(params) }
    delete (tensors as Record<string, unknown>)['layers.3.b']
    const r = Checkpoint.decode(Safetensors.encode(tensors, { lamina: '1', spec: JSON.stringify(spec) }))
    expect(E.isLeft(r) && r.left.message).toMatch(/^the parameters: .*layers\.3\.b/)
  })

  fcTest.prop([fc.uint8Array({ maxLength: 400 })], { numRuns: 500 })('never throws on arbitrary bytes: a Left with a lamina error', (bytes) => {
    const r = Checkpoint.decode(bytes)
    return E.isLeft(r) && r.left instanceof LaminaError
  })
})
