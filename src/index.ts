/**
 * lamina: a functional, immutable neural-network DSL for TypeScript. Shape-typed tensors,
 * one table of primitive rules, forward and reverse differentiation that nest, and the
 * gradient-law harness in `lamina-nn/laws`.
 *
 * @example
 * ```ts
 * import { tensor, grad, log, mul, sin, add, sub } from 'lamina-nn'
 * import assert from 'node:assert'
 * // seed 004: y = ln(x1) + x1·x2 − sin(x2) at (2, 5)
 * const f = ([x1, x2]: readonly [ReturnType<typeof tensor<number>>, ReturnType<typeof tensor<number>>]) =>
 *   sub(add(log(x1), mul(x1, x2)), sin(x2))
 * const [g1, g2] = grad(f)([tensor(2), tensor(5)])
 * assert.strictEqual(g1.item(), 5.5)
 * assert.ok(Math.abs(g2.item() - (2 - Math.cos(5))) < 1e-15)
 * ```
 *
 * @module lamina-nn
 */
export * from './error.js'
export * as Shape from './shape.js'
export type { Shape as ShapeT, ShapeMismatch, Nested } from './shape.js'
export * as Nat from './nat.js'
export { Tensor, tensor, fromBuffer, zeros, ones, full, eye, arange, assertTensor, checkDType } from './tensor.js'
export type { DType, ReadonlyBuffer, NestedOf, Options } from './tensor.js'
export * as Random from './random.js'
export type { Backend, ReduceKind } from './backend/backend.js'
export { cpu } from './backend/cpu.js'
export * as Backends from './backend/current.js'
export * as Prim from './prim.js'
export * from './ops.js'
export * as Tree from './tree.js'
export * as Floating from './floating.js'
export * as Dual from './ad/dual.js'
export * as Tape from './ad/tape.js'
export { vjp, grad, valueAndGrad, jvp, jacfwd, jacrev, hessian, hvp } from './ad/api.js'
export { floatingTensor } from './ad/scalar.js'
export { definePrimitive, customVjp, customJvp, userPrimitiveFacts } from './ad/custom.js'
export type { Primitive, PrimitiveDefinition, PrimitiveContext, UserPrimitiveParams, DeclaredParams, ParamsOf, VjpRule, JvpRule, CustomFacts, Cotangents, TensorFunction, UserFacts } from './ad/custom.js'
export type { Scalar } from './ad/scalar.js'
export * as Layer from './nn/layer.js'
export * as Layers from './nn/layer-catalog.js'
export * as Activation from './nn/activations.js'
export * as Init from './nn/init.js'
export * as Train from './nn/train.js'
export * as Norm from './nn/norm.js'
export * as Combinators from './nn/combinators.js'
export * as Loss from './nn/losses.js'
export * as Regularize from './nn/regularize.js'
export * as Optim from './nn/optim.js'
export * as Schedule from './nn/schedule.js'
export * as Conv from './nn/conv.js'
export * as Models from './nn/models.js'
export * as Numerics from './numerics.js'
export * as Trace from './ad/trace.js'
export * as Safetensors from './io/safetensors.js'
export * as Expr from './expr/evaluate.js'
export * as Codec from './io/codec.js'
export { DecodeError } from './io/codec.js'
export * as Spec from './io/spec.js'
export * as Dataset from './io/dataset.js'
export * as Idx from './io/idx.js'
export * as Checkpoint from './io/checkpoint.js'
export * as Onnx from './io/onnx.js'
export * as PyTorch from './io/pytorch.js'
