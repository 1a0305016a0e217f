// Seed 004's worked example, y = ln(x1) + x1·x2 − sin(x2) at (x1, x2) = (2, 5), written
// once against the Floating typeclass and differentiated every way lamina knows:
// forward mode with dual numbers, forward mode on tensors (jvp), reverse mode on the
// Writer tape (grad), and the second derivatives by nesting.
import { Dual, Floating, floatingTensor, grad, hessian, jvp, tensor, valueAndGrad, slice, reshape } from 'lamina-nn'
import type { Tensor } from 'lamina-nn'
import type { Scalar } from 'lamina-nn'

/** The expression, written once for any number system. */
const y =
  <A>(F: Floating.Floating<A>) =>
  (x1: A, x2: A): A =>
    F.sub(F.add(F.log(x1), F.mul(x1, x2)), F.sin(x2))

const at = { x1: 2, x2: 5 }
const fmt = (v: number) => v.toFixed(6).padStart(12)
const row = (label: string, value: number, d1?: number, d2?: number) =>
  console.log(`${label.padEnd(34)}${fmt(value)}${d1 === undefined ? '' : fmt(d1)}${d2 === undefined ? '' : fmt(d2)}`)

console.log(`seed 004: y = ln(x1) + x1·x2 − sin(x2) at (x1, x2) = (${at.x1}, ${at.x2})\n`)
console.log(`${''.padEnd(34)}${'y'.padStart(12)}${'∂y/∂x1'.padStart(12)}${'∂y/∂x2'.padStart(12)}`)

// 1. plain numbers: the value only
row('numbers', y(Floating.FloatingNumber)(at.x1, at.x2))

// 2. forward mode, dual numbers: one pass per input, seeding its tangent with 1
const D = Dual.FloatingDual
const fx1 = y(D)(Dual.variable(at.x1), Dual.constant(at.x2))
const fx2 = y(D)(Dual.constant(at.x1), Dual.variable(at.x2))
row('forward, dual numbers (2 passes)', Dual.primal(Floating.FloatingNumber)(fx1), Dual.tangent(Floating.FloatingNumber)(fx1), Dual.tangent(Floating.FloatingNumber)(fx2))

// 3. forward mode on tensors: jvp along each basis direction
const T = floatingTensor()
const f = ([a, b]: readonly [Scalar, Scalar]) => y(T)(a, b)
const point = [tensor(at.x1), tensor(at.x2)] as const
const [value, t1] = jvp(f, [point] as const, [[tensor(1), tensor(0)]])
const [, t2] = jvp(f, [point] as const, [[tensor(0), tensor(1)]])
row('forward, tensor jvp (2 passes)', value.item(), t1.item(), t2.item())

// 4. reverse mode on the Writer tape: one backward sweep gives both partials
const [v, [g1, g2]] = valueAndGrad(f)(point)
row('reverse, tape grad (1 sweep)', v.item(), g1.item(), g2.item())

// 5. second derivatives by nesting: the Hessian, forward over reverse
const packed = (x: Tensor<[2], 'f64'>) => y(T)(reshape(slice(x, [0], [1]), []), reshape(slice(x, [1], [1]), []))
const H = hessian(packed)(tensor([at.x1, at.x2])).toArray() as number[][]
console.log(`\nHessian (forward over reverse): [[${H[0]!.map((h) => h.toFixed(6)).join(', ')}], [${H[1]!.map((h) => h.toFixed(6)).join(', ')}]]`)
console.log(`check: ∂²y/∂x1² = −1/x1² = ${(-1 / at.x1 ** 2).toFixed(6)}, ∂²y/∂x1∂x2 = 1, ∂²y/∂x2² = sin(x2) = ${Math.sin(at.x2).toFixed(6)}`)
// grad(grad) of a one-variable slice: d²/dx2² at fixed x1
const d2 = grad(grad((b: Scalar) => y(T)(tensor(at.x1), b)))(tensor(at.x2)).item()
console.log(`grad(grad(·)) in x2 alone: ${d2.toFixed(6)}`)
