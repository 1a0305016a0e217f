/**
 * The differentiation API: `grad`, `valueAndGrad`, `vjp`, `jvp`, `jacfwd`, `jacrev`,
 * `hessian`, `hvp`. Every transformation returns ordinary functions over ordinary tensors,
 * so they nest: `grad(grad(f))`, `jacfwd(jacrev(f))`, forward-over-reverse `hvp`.
 *
 * @module
 */
import { DifferentiationError } from '../error.js'
import { bind } from '../prim.js'
import * as Sh from '../shape.js'
import type { Shape } from '../shape.js'
import { Tensor, allocate, assertTensor, fromOwnedBuffer, full } from '../tensor.js'
import type { DType } from '../tensor.js'
import * as Tr from '../tree.js'
import { jvp } from './forward.js'
import { fresh } from './level.js'
import * as Tp from './tape.js'

export { jvp }

const zerosLike = (t: Tensor): Tensor => full(t.shape, 0, { dtype: t.dtype })

const checkInputs = (leaves: readonly Tensor[], op: string): void => {
  leaves.forEach((l) => assertTensor(l, op))
}

/**
 * Runs `f` and returns its value with the pullback `ȳ ↦ (x̄₁, …)`: the vector–Jacobian
 * product, one cotangent per argument, each in its argument's tree structure. The
 * pullback can be called many times (the tape is immutable).
 *
 * @example
 * ```ts
 * import { tensor, vjp, mul } from 'lamina-nn'
 * import assert from 'node:assert'
 * const [y, pullback] = vjp((a, b) => mul(a, b), tensor([2, 3]), tensor([5, 7]))
 * assert.deepStrictEqual(y.toArray(), [10, 21])
 * const [da, db] = pullback(tensor([1, 1]))
 * assert.deepStrictEqual(da.toArray(), [5, 7])
 * assert.deepStrictEqual(db.toArray(), [2, 3])
 * ```
 */
export const vjp = <Args extends readonly unknown[], Out>(
  f: (...args: Args) => Out,
  ...primals: Args
): [Out, (cotangent: Out) => Args] => {
  const trace = new Tp.ReverseTrace(fresh())
  const pf = Tr.flatten(primals, 'vjp')
  checkInputs(pf.leaves, 'vjp')
  const variables = pf.leaves.map((p) => trace.variable(p))
  const ids = variables.map((v) => trace.idOf(v)!)
  const result = f(...pf.rebuild(variables))
  const of = Tr.flatten(result, 'vjp output')
  const outputs = of.leaves.map((o) => trace.own(o))
  const value = of.rebuild(of.leaves.map((o, i) => outputs[i]?.primal ?? o))
  const pullback = (cotangent: Out): Args => {
    const cf = Tr.flatten(cotangent, 'vjp cotangent')
    if (cf.leaves.length !== of.leaves.length) {
      throw new DifferentiationError(`vjp: the cotangent has ${cf.leaves.length} tensors but the output has ${of.leaves.length}`)
    }
    let tape = Tp.empty
    const seeds = new Map<number, Tensor>()
    outputs.forEach((tracer, i) => {
      const ct = cf.leaves[i]!
      const o = of.leaves[i]!
      if (!(ct instanceof Tensor) || !Sh.equals(ct.shape, o.shape) || ct.dtype !== o.dtype) {
        throw new DifferentiationError(`vjp: cotangent ${i} must have shape ${Sh.show(o.shape)} (${o.dtype})`)
      }
      if (tracer === undefined) return
      tape = Tp.Monoid.concat(tape, tracer.recorded()[1])
      const previous = seeds.get(tracer.id)
      seeds.set(tracer.id, previous === undefined ? ct : bind('add', [previous, ct], {}))
    })
    const adjoints = Tp.backward(tape, seeds)
    return pf.rebuild(ids.map((id, i) => adjoints.get(id) ?? zerosLike(pf.leaves[i]!)))
  }
  return [value, pullback]
}

const checkScalar = (y: unknown, op: string): Tensor => {
  if (!(y instanceof Tensor)) {
    throw new DifferentiationError(`${op}: the function must return a scalar tensor, got ${y === null ? 'null' : typeof y}`)
  }
  if (y.shape.length !== 0) {
    throw new DifferentiationError(
      `${op}: the function must return a scalar (shape []), got shape ${Sh.show(y.shape)}; reduce it (e.g. with sum or mean) or use vjp or jacrev`
    )
  }
  return y
}

/**
 * `f`'s value and its gradient with respect to the first argument, which may be a tree of
 * tensors (the gradient comes back in the same tree). Further arguments are passed through
 * undifferentiated (data, labels): their cotangents are never computed.
 *
 * @example
 * ```ts
 * import { tensor, valueAndGrad, sum, mul } from 'lamina-nn'
 * import assert from 'node:assert'
 * const [v, g] = valueAndGrad((x: ReturnType<typeof tensor<number[]>>) => sum(mul(x, x)))(tensor([1, 2]))
 * assert.strictEqual(v.item(), 5)
 * assert.deepStrictEqual(g.toArray(), [2, 4])
 * ```
 */
export const valueAndGrad =
  <T, Rest extends readonly unknown[]>(f: (x: T, ...rest: Rest) => Tensor) =>
  (x: T, ...rest: Rest): [Tensor<[], DType>, T] => {
    Tr.flatten(x, 'grad')
    const [y, pullback] = vjp((p: T) => f(p, ...rest), x)
    const value = checkScalar(y, 'grad') as Tensor<[], DType>
    const [g] = pullback(full([], 1, { dtype: value.dtype }))
    return [value, g]
  }

/**
 * The gradient of a scalar-valued `f` with respect to its first argument (a tensor or a
 * tree of tensors); it nests, so `grad(grad(f))` is the second derivative.
 *
 * @example
 * ```ts
 * import { tensor, grad, tanh } from 'lamina-nn'
 * import assert from 'node:assert'
 * type Scalar = ReturnType<typeof tensor<number>>
 * const d2 = grad(grad((x: Scalar) => tanh(x)))(tensor(0.5))
 * const t = Math.tanh(0.5)
 * assert.ok(Math.abs(d2.item() - -2 * t * (1 - t * t)) < 1e-15)
 * ```
 */
export const grad =
  <T, Rest extends readonly unknown[]>(f: (x: T, ...rest: Rest) => Tensor) =>
  (x: T, ...rest: Rest): T =>
    valueAndGrad(f)(x, ...rest)[1]

/** One-hot tensor of `shape` with a 1 at flat index `i`. */
const basis = (shape: Shape, dtype: DType, i: number): Tensor => {
  const buf = allocate(dtype, Sh.size(shape))
  buf[i] = 1
  return fromOwnedBuffer(shape, dtype, buf)
}

/** Stacks tensors of one shape along a new axis at `position` ('first' or 'last'). */
const stack = (parts: readonly Tensor[], shape: Shape, position: 'first' | 'last'): Tensor => {
  const expanded = position === 'first' ? [1, ...shape] : [...shape, 1]
  const pieces = parts.map((p) => (Sh.equals(p.shape, expanded) ? p : bind('reshape', [p], { shape: expanded })))
  return pieces.length === 1 ? pieces[0]! : bind('concat', pieces, { axis: position === 'first' ? 0 : shape.length })
}

const checkSingle = (x: unknown, op: string): Tensor => {
  assertTensor(x, op)
  if (x.size === 0) throw new DifferentiationError(`${op}: the input has no elements (shape ${Sh.show(x.shape)})`)
  return x
}

const checkOutput = (y: unknown, op: string): Tensor => {
  if (!(y instanceof Tensor)) throw new DifferentiationError(`${op}: the function must return a tensor`)
  return y
}

/**
 * The Jacobian by forward mode, one `jvp` per input element: shape `[...out, ...in]`.
 * Cheaper than {@link jacrev} when the input is smaller than the output.
 *
 * @example
 * ```ts
 * import { tensor, jacfwd, mul } from 'lamina-nn'
 * import assert from 'node:assert'
 * const J = jacfwd((x: ReturnType<typeof tensor<number[]>>) => mul(x, x))(tensor([1, 2]))
 * assert.deepStrictEqual(J.toArray(), [[2, 0], [0, 4]])
 * ```
 */
export const jacfwd =
  <S extends Shape, D extends DType>(f: (x: Tensor<S, D>) => Tensor) =>
  (x: Tensor<S, D>): Tensor<Shape, D> => {
    const input = checkSingle(x, 'jacfwd') as Tensor<S, D>
    let outShape: Shape = []
    const columns = Array.from({ length: input.size }, (_, j) => {
      const [y, dy] = jvp((v: Tensor<S, D>) => checkOutput(f(v), 'jacfwd'), [input], [basis(input.shape, input.dtype, j) as Tensor<S, D>])
      outShape = y.shape
      return dy
    })
    const J = stack(columns, outShape, 'last')
    return bind('reshape', [J], { shape: [...outShape, ...input.shape] }) as Tensor<Shape, D>
  }

/**
 * The Jacobian by reverse mode, one pullback per output element: shape `[...out, ...in]`.
 * Cheaper than {@link jacfwd} when the output is smaller than the input.
 *
 * @example
 * ```ts
 * import { tensor, jacrev, mul, sum } from 'lamina-nn'
 * import assert from 'node:assert'
 * const J = jacrev((x: ReturnType<typeof tensor<number[]>>) => mul(x, sum(x)))(tensor([1, 2]))
 * assert.deepStrictEqual(J.toArray(), [[4, 1], [2, 5]])
 * ```
 */
export const jacrev =
  <S extends Shape, D extends DType>(f: (x: Tensor<S, D>) => Tensor) =>
  (x: Tensor<S, D>): Tensor<Shape, D> => {
    const input = checkSingle(x, 'jacrev') as Tensor<S, D>
    const [y, pullback] = vjp((v: Tensor<S, D>) => checkOutput(f(v), 'jacrev'), input)
    if (y.size === 0) throw new DifferentiationError(`jacrev: the output has no elements (shape ${Sh.show(y.shape)})`)
    const rows = Array.from({ length: y.size }, (_, i) => pullback(basis(y.shape, y.dtype, i))[0])
    const J = stack(rows, input.shape, 'first')
    return bind('reshape', [J], { shape: [...y.shape, ...input.shape] }) as Tensor<Shape, D>
  }

/**
 * The Hessian of a scalar function, forward over reverse: `jacfwd(grad(f))`, shape `[...in, ...in]`.
 *
 * @example
 * ```ts
 * import { tensor, hessian, sum, mul, slice } from 'lamina-nn'
 * import assert from 'node:assert'
 * // f(x) = x₀²·x₁  gives  H = [[2x₁, 2x₀], [2x₀, 0]]
 * const f = (x: ReturnType<typeof tensor<number[]>>) => {
 *   const [x0, x1] = [slice(x, [0], [1]), slice(x, [1], [1])]
 *   return sum(mul(mul(x0, x0), x1))
 * }
 * const H = hessian(f)(tensor([3, 5]))
 * assert.deepStrictEqual(H.toArray(), [[10, 6], [6, 0]])
 * ```
 */
export const hessian =
  <S extends Shape, D extends DType>(f: (x: Tensor<S, D>) => Tensor) =>
  (x: Tensor<S, D>): Tensor<Shape, D> =>
    jacfwd(grad(f))(x)

/**
 * The Hessian–vector product `H·v` without forming `H`: a `jvp` of the gradient
 * (forward over reverse), costing a small multiple of one gradient.
 *
 * @example
 * ```ts
 * import { tensor, hvp, sum, mul } from 'lamina-nn'
 * import assert from 'node:assert'
 * const Hv = hvp((x: ReturnType<typeof tensor<number[]>>) => sum(mul(mul(x, x), x)))(tensor([1, 2]), tensor([1, 0]))
 * assert.deepStrictEqual(Hv.toArray(), [6, 0])
 * ```
 */
export const hvp =
  <S extends Shape, D extends DType>(f: (x: Tensor<S, D>) => Tensor) =>
  (x: Tensor<S, D>, v: Tensor<S, D>): Tensor<S, D> =>
    jvp(grad(f), [x], [v])[1]
