/**
 * A trace as data: its rows (the forward primal trace), its adjoint steps (the reverse
 * adjoint trace), and the inputs and options of {@link trace}.
 *
 * @module
 */
import type { Prim } from '../../prim.js'
import type { Shape } from '../../shape.js'
import type { Tensor } from '../../tensor.js'
import type { TraceWarning } from './domains.js'
import type { Formula } from './formula.js'

/** An operand of a row: the index of another row, or a constant folded into the formula. */
export type TraceOperand = number | { readonly constant: Tensor }

/** One line of the forward primal trace: `vᵢ = expression = value`. */
export interface TraceRow {
  /** `1 − n … 0` for the n inputs, then `1, 2, …` in evaluation order. */
  readonly index: number
  /** `v₋₁`, `v₀`, `v₁`, … */
  readonly name: string
  /** The primitive that computed the row, or `'input'`. */
  readonly op: Prim | 'input'
  /** The rows (or constants) the primitive was applied to, in argument order. */
  readonly operands: readonly TraceOperand[]
  /** The formula in Unicode: the input's name for an input, else `ln v₋₁`, `v₋₁ × v₀`, `v₁ × 2`. */
  readonly expression: string
  /** The same formula as a tree, for renderers. */
  readonly formula: Formula
  readonly value: Tensor
  readonly shape: Shape
  /** `v̇ᵢ`: the directional derivative along the requested tangent (absent without one). */
  readonly tangent?: Tensor
}

/**
 * One step of the backward sweep: the adjoint of row `target` receives the contribution
 * `v̄_source · ∂v_source/∂v_target` of one use of it.
 */
export interface AdjointStep {
  /** The row whose adjoint is updated. */
  readonly target: number
  /** The row whose adjoint is propagated. */
  readonly source: number
  /** `∂v_source/∂v_target` in Unicode: `v₀`, `1/v₋₁`, `cos v₀` (or `∂v₃/∂v₁` without a formula). */
  readonly partial: string
  /** The same partial as a tree. */
  readonly partialFormula: Formula
  /**
   * How the contribution is computed, as a tree: `v̄₂ × v₀`, `v̄₁ / v₋₁` (from the partial),
   * or a primitive's own form where the partial is not a number per element (`v̄₁ · v₋₁ᵀ`).
   */
  readonly contributionFormula: Formula
  /** What this step adds to the target's adjoint. */
  readonly contribution: Tensor
  /** The target's adjoint after this step. */
  readonly accumulated: Tensor
  /** Whether the target already had a contribution (the value is used more than once). */
  readonly accumulates: boolean
}

/** The forward primal trace and the reverse adjoint trace of one evaluation. */
export interface Trace {
  /** The input names, in order: the first is `v₁₋ₙ`, the last `v₀`. */
  readonly inputs: readonly string[]
  /** The inputs, then the intermediate values in evaluation order. */
  readonly rows: readonly TraceRow[]
  /** The index of the row holding `y`. */
  readonly output: number
  /** `ȳ`, the adjoint the sweep starts from (ones); absent when `y` is not a scalar. */
  readonly seed?: Tensor
  /** The backward sweep's steps in the order it computes them (empty when `y` is not a scalar). */
  readonly adjoints: readonly AdjointStep[]
  /** `∂y/∂x` for each input, by name (empty when `y` is not a scalar). */
  readonly gradient: Readonly<Record<string, Tensor>>
  /**
   * Where a value or a derivative of the trace is undefined or infinite, and why: the logarithm
   * or square root of a negative number, a division by zero, a negative base raised to a
   * non-integer power, a derivative in an exponent whose base is negative, the derivative of
   * √x at 0, an overflow. Each is reported once, at the row where it first happens (a NaN
   * passed on from an earlier row is not reported again). Empty when every number is finite.
   */
  readonly warnings: readonly TraceWarning[]
  /** The expression as written, when {@link TraceOptions.expression} gave it (the heading shows it). */
  readonly expression?: Formula
}
/** A scalar `f64` tensor: what a plain-number input becomes. */
export type Scalar = Tensor<[], 'f64'>

/** The inputs of {@link trace}: tensors, or plain numbers (which become `f64` scalars). */
export type Inputs = Readonly<Record<string, Tensor | number>>

/** What the traced function receives: each input as a tensor (a number as a scalar tensor). */
export type Variables<I extends Inputs> = { readonly [K in keyof I]: I[K] extends number ? Scalar : I[K] }

/** Options of {@link trace}. */
export interface TraceOptions {
  /**
   * The direction of the tangent column: an input's name (that input moves by 1 in every
   * element, the others stay), or explicit tangents per input (missing inputs get 0).
   */
  readonly tangent?: string | Readonly<Record<string, number | Tensor>>
  /**
   * The function as written, over the inputs' names (for an expression, `Expr.toFormula`): the
   * heading of the rendered tables shows it instead of the formula rebuilt from the rows.
   */
  readonly expression?: Formula
}
