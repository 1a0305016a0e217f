/**
 * How the trace writes each primitive: its row formula (`ln v₋₁`), its partial derivative with
 * respect to each operand (`1/v₋₁`), and how one backward step's contribution is computed
 * (`v̄₁ / v₋₁`). Each partial is the derivative that the primitive's rule in `prim.ts` implements.
 *
 * @module
 */
import type { MatMulParams, Prim, PrimParams, ReduceParams } from '../../prim.js'
import type { Shape } from '../../shape.js'
import type { Tensor } from '../../tensor.js'
import { apply, bin, call, label, num, showShape } from './formula.js'
import type { Formula } from './formula.js'

/** A constant operand: a number when all its elements are equal (a broadcast plain number). */
export const constantFormula = (c: Tensor): Formula => {
  const data = c.data
  const first = data[0]
  if (first !== undefined && Array.from(data).every((v) => Object.is(v, first) || v === first)) return { kind: 'number', value: first }
  return { kind: 'constant', value: c }
}

const axesLabel = ({ axes, keepdims }: ReduceParams): string =>
  `${axes.length === 1 ? 'axis' : 'axes'} ${axes.join(',')}${keepdims ? ', keepdims' : ''}`

/** A pooling window as `2x2` (with `stride 1` for a stride other than the window). */
const windowLabel = ({ kernel, stride }: PrimParams['maxPool2d']): string =>
  `${kernel.join('x')}${stride[0] === kernel[0] && stride[1] === kernel[1] ? '' : `, stride ${stride[0] === stride[1] ? stride[0] : stride.join('x')}`}`

/** Whether a reduction reduces every axis (written `Σ v`, `mean(v)`), given the input's rank. */
const reducesAll = ({ axes, keepdims }: ReduceParams, rank: number): boolean => !keepdims && axes.length === rank

const matmulOperands = ([a, b]: readonly Formula[], { transposeA, transposeB }: MatMulParams): [Formula, Formula] => [
  transposeA ? { kind: 'transpose', arg: a! } : a!,
  transposeB ? { kind: 'transpose', arg: b! } : b!
]

/** The row formula `op(operands)` of each primitive. */
export const expressionOf = (prim: Prim, ops: readonly Formula[], params: unknown, inputShapes: readonly Shape[]): Formula => {
  const [a, b] = [ops[0]!, ops[1]!]
  switch (prim) {
    case 'add': return bin('+', a, b)
    case 'sub': return bin('−', a, b)
    case 'mul': return bin('×', a, b)
    case 'div': return bin('/', a, b)
    case 'neg': return { kind: 'neg', arg: a }
    case 'stopGradient': return call('stopGradient', a)
    case 'pow': return { kind: 'pow', base: a, exponent: (params as PrimParams['pow']).exponent }
    case 'power': return { kind: 'power', base: a, exponent: b }
    case 'exp': return apply('exp', a)
    case 'log': return apply('ln', a)
    case 'sin': return apply('sin', a)
    case 'cos': return apply('cos', a)
    case 'tanh': return apply('tanh', a)
    case 'erf': return apply('erf', a)
    case 'sigmoid': return call('σ', a)
    case 'relu': return call('relu', a)
    case 'softplus': return call('softplus', a)
    case 'abs': return { kind: 'abs', arg: a }
    case 'sqrt': return { kind: 'sqrt', arg: a }
    case 'maximum': return call('max', a, b)
    case 'minimum': return call('min', a, b)
    case 'sum':
    case 'mean':
    case 'max':
    case 'min':
    case 'logsumexp': {
      const p = params as ReduceParams
      if (reducesAll(p, inputShapes[0]?.length ?? 0)) return prim === 'sum' ? apply('Σ', a) : call(prim, a)
      return call(prim, a, label(axesLabel(p)))
    }
    case 'matmul':
    case 'batchMatmul': {
      const [l, r] = matmulOperands(ops, params as MatMulParams)
      return bin('·', l, r)
    }
    case 'broadcast': return call('broadcast', a, label(showShape((params as PrimParams['broadcast']).shape)))
    case 'reshape': return call('reshape', a, label(showShape((params as PrimParams['reshape']).shape)))
    case 'transpose': {
      const { perm } = params as PrimParams['transpose']
      return perm.length === 2 && perm[0] === 1 && perm[1] === 0 ? { kind: 'transpose', arg: a } : call('transpose', a, label(showShape(perm)))
    }
    case 'concat': return call('concat', ...ops, label(`axis ${(params as PrimParams['concat']).axis}`))
    case 'slice': {
      const { starts, sizes } = params as PrimParams['slice']
      return call('slice', a, label(starts.map((s, i) => `${s}:${s + sizes[i]!}`).join(', ')))
    }
    case 'pad': return call('pad', a, label(showShape((params as PrimParams['pad']).shape)))
    case 'select': return call('select', ops[2]!, a, b)
    case 'compare': return { kind: 'indicator', left: a, rel: (params as PrimParams['compare']).relation, right: b }
    case 'sign': return call('sign', a)
    case 'conv2d': return call('conv', ...ops) // the bias, when given, is the third operand
    case 'conv2dInputGrad': return call('convInputGrad', a, b) // the transposed convolution: the input's gradient
    case 'conv2dFilterGrad': return call('convFilterGrad', a, b) // the correlation of the input with the cotangent: the filter's gradient
    case 'maxPool2d': return call('maxPool', a, label(windowLabel(params as PrimParams['maxPool2d'])))
    case 'avgPool2d': {
      const p = params as PrimParams['avgPool2d']
      return call(p.weights === undefined ? 'avgPool' : 'windowSum', a, label(windowLabel(p)))
    }
    case 'avgPool2dTranspose': {
      const p = params as PrimParams['avgPool2dTranspose']
      return call(p.weights === undefined ? 'avgPoolTranspose' : 'windowSpread', a, label(windowLabel(p)))
    }
    // a primitive defined by user code: its name applied to its operands
    default: return call(prim, ...ops)
  }
}

/**
 * `∂v_source/∂operand_i` for the primitives that have a readable formula; `undefined` for the
 * others (the caller falls back to `∂v_source/∂v_target`). Each line is the derivative the
 * primitive's rule in `prim.ts` implements.
 */
export const partialOf = (prim: Prim, ops: readonly Formula[], i: number, params: unknown, inputShapes: readonly Shape[]): Formula | undefined => {
  const [a, b] = [ops[0]!, ops[1]!]
  switch (prim) {
    case 'add': return num(1) // ∂(a + b)/∂a = ∂(a + b)/∂b = 1
    case 'sub': return num(i === 0 ? 1 : -1) // ∂(a − b)/∂a = 1, ∂(a − b)/∂b = −1
    case 'mul': return i === 0 ? b : a // ∂(a·b)/∂a = b, ∂(a·b)/∂b = a
    case 'div': // ∂(a/b)/∂a = 1/b, ∂(a/b)/∂b = −a/b²
      return i === 0 ? bin('/', num(1), b) : { kind: 'neg', arg: bin('/', a, { kind: 'pow', base: b, exponent: 2 }) }
    case 'neg': return num(-1)
    case 'stopGradient': return num(0) // no derivative passes stopGradient
    case 'compare': return num(0) // a mask is piecewise constant
    case 'sign': return num(0)
    case 'pow': { // ∂xᶜ/∂x = c·xᶜ⁻¹
      const c = (params as PrimParams['pow']).exponent
      if (c === 0) return num(0)
      if (c === 1) return num(1)
      return bin('×', num(c), c === 2 ? a : { kind: 'pow', base: a, exponent: c - 1 })
    }
    case 'power': // ∂aᵇ/∂a = b·aᵇ⁻¹, ∂aᵇ/∂b = aᵇ·ln a (for a > 0)
      return i === 0 ? bin('×', b, { kind: 'power', base: a, exponent: bin('−', b, num(1)) }) : bin('×', { kind: 'power', base: a, exponent: b }, apply('ln', a))
    case 'exp': return apply('exp', a) // ∂eˣ/∂x = eˣ
    case 'log': return bin('/', num(1), a) // ∂ln x/∂x = 1/x
    case 'sin': return apply('cos', a) // ∂sin x/∂x = cos x
    case 'cos': return { kind: 'neg', arg: apply('sin', a) } // ∂cos x/∂x = −sin x
    case 'tanh': return bin('−', num(1), apply('tanh', a, 2)) // ∂tanh x/∂x = 1 − tanh² x
    case 'sigmoid': return bin('×', call('σ', a), bin('−', num(1), call('σ', a))) // σ'(x) = σ(x)(1 − σ(x))
    case 'relu': return { kind: 'indicator', left: a, rel: '>', right: num(0) } // relu'(x) = [x > 0]
    case 'softplus': return call('σ', a) // ζ'(x) = σ(x)
    case 'abs': return call('sign', a) // |x|' = sign x
    case 'sqrt': return bin('/', num(1), bin('×', num(2), { kind: 'sqrt', arg: a })) // (√x)' = 1/(2√x)
    case 'erf': // erf'(x) = (2/√π) e^(−x²)
      return bin('×', bin('/', num(2), { kind: 'sqrt', arg: { kind: 'symbol', text: 'π', latex: '\\pi' } }), apply('exp', { kind: 'neg', arg: { kind: 'pow', base: a, exponent: 2 } }))
    case 'maximum': // ties share the gradient equally
      return { kind: 'indicator', left: a, rel: i === 0 ? '>' : '<', right: b }
    case 'minimum':
      return { kind: 'indicator', left: a, rel: i === 0 ? '<' : '>', right: b }
    case 'sum': return num(1) // ∂(Σⱼ xⱼ)/∂xₖ = 1
    case 'mean': { // ∂ mean(x)/∂xₖ = 1/n
      const { axes } = params as ReduceParams
      const n = axes.reduce((acc, ax) => acc * (inputShapes[0]?.[ax] ?? 1), 1)
      return bin('/', num(1), num(n))
    }
    default: return undefined
  }
}

const transposed = (f: Formula): Formula => (f.kind === 'transpose' ? f.arg : { kind: 'transpose', arg: f })

/**
 * How one step's contribution is computed: `v̄ₛ × ∂vₛ/∂vₜ` written with the partial
 * (`v̄₁ / v₋₁` when the partial is `1/v₋₁`), except for the matrix product, whose
 * contributions are products with the other factor: Ā = Ȳ·Bᵀ, B̄ = Aᵀ·Ȳ (for y = A·B).
 */
export const contributionOf = (prim: Prim, ops: readonly Formula[], i: number, params: unknown, source: number, partial: Formula): Formula => {
  const bar: Formula = { kind: 'bar', index: source }
  if (prim === 'matmul') {
    const { transposeA, transposeB } = params as MatMulParams
    const [opA, opB] = matmulOperands(ops, { transposeA, transposeB })
    if (i === 0) return transposeA ? bin('·', opB, transposed(bar)) : bin('·', bar, transposed(opB))
    return transposeB ? bin('·', transposed(bar), opA) : bin('·', transposed(opA), bar)
  }
  if (partial.kind === 'binary' && partial.op === '/' && partial.left.kind === 'number' && partial.left.value === 1) return bin('/', bar, partial.right)
  return bin('×', bar, partial)
}
