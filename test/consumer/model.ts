// A user's program, type-checked and run against the installed package (test/consumer.test.ts).
import { Layer, Layers, Random, definePrimitive, fromBuffer, grad, matmul, mul, sum, tanh, tensor, ShapeError } from 'lamina-nn'
import type { Tensor } from 'lamina-nn'

const x = tensor([[1, 2, 3], [4, 5, 6]])
const w = tensor([[1, 0], [0, 1], [1, 1]])
const y: Tensor<[2, 2], 'f64'> = matmul(x, w)

// @ts-expect-error: matmul: inner dimensions differ, [2,3] x [2,3] (3 vs 2)
const bad = () => matmul(x, x)
let runtimeMessage = ''
try {
  bad()
} catch (e) {
  if (!(e instanceof ShapeError)) throw e
  runtimeMessage = e.message
}

const dTanhSquared = grad((v: Tensor<[3], 'f64'>) => sum(mul(tanh(v), tanh(v))))(tensor([0.1, 0.2, 0.3]))

const model = Layer.sequential(Layers.dense(3, 4), Layers.relu(), Layers.dense(4, 2))
const params = model.init(Random.key(0))
const out = Layer.apply(model, params, tensor([[1, 2, 3]]))

// a user primitive whose parameter type is declared by declaration merging (augmenting the installed package's types)
declare module 'lamina-nn' {
  interface UserPrimitiveParams {
    scale: { readonly by: number }
  }
}
const scale = definePrimitive({
  name: 'scale',
  arity: 1,
  params: { by: 2 },
  forward: ([v], { by }) => fromBuffer(Array.from(v!.data, (e) => e * by), v!.shape),
  vjp: ({ params: { by } }) => [(ct) => mul(ct, tensor(by))]
})
// @ts-expect-error: the declared parameter is `by`
const misbound = () => scale.bind([x], { factor: 3 })
void misbound
const scaledGrad = grad((v: Tensor) => sum(scale.bind([v], { by: 3 })))(tensor([1, 2])).toArray()

console.log(JSON.stringify({ y: y.toArray(), runtimeMessage, grad: Array.from(dTanhSquared.data), outShape: out.shape, scaledGrad }))
