/**
 * The one error of the compiled interpreter: what could not be compiled or run, and why.
 *
 * @module
 */
import { LaminaError } from '../error.js'

/**
 * Why a training step could not be compiled or run:
 * - `unsupported-primitive`: the step applies a primitive the compiled interpreter cannot lower;
 * - `unsupported-optimizer`: the optimizer carries no description it can turn into kernels;
 * - `unsupported-model`: the model or loss is outside what a static plan can express (layer
 *   state, an unknown input shape, a loss that is not a scalar);
 * - `value-dependent`: a constant of the step is computed on the host from the values flowing
 *   through it (a dropout mask, a tensor built from the label values), not with primitives;
 * - `backend`: GPU.js could not build or run the plan where it was asked to (including a silent
 *   degradation to its `cpu` mode);
 * - `input`: a call's parameters, optimizer state or minibatches do not fit the compiled shapes;
 * - `disposed`: the compiled step was used after `dispose`.
 */
export type CompileErrorReason =
  | 'unsupported-primitive'
  | 'unsupported-optimizer'
  | 'unsupported-model'
  | 'value-dependent'
  | 'backend'
  | 'input'
  | 'disposed'

/**
 * A training step could not be compiled or run; `reason` says which rule was broken and the
 * message names the offending primitive, optimizer, value or mode.
 *
 * @example
 * ```ts
 * import { CompileError } from 'lamina-nn/gpu'
 * import { LaminaError } from 'lamina-nn'
 * import assert from 'node:assert'
 * const e = new CompileError('unsupported-optimizer', "compile: the optimizer 'Optim.withClipping' has no description")
 * assert.ok(e instanceof LaminaError)
 * assert.strictEqual(e.reason, 'unsupported-optimizer')
 * ```
 */
export class CompileError extends LaminaError {
  override name = 'CompileError'

  constructor(
    readonly reason: CompileErrorReason,
    message: string,
    options?: { readonly cause?: unknown }
  ) {
    super(message, options)
  }
}

/** Any thrown value as a CompileError: a CompileError as it is, anything else under `reason` with its message kept. */
export const asCompileError = (e: unknown, reason: CompileErrorReason, context: string): CompileError =>
  e instanceof CompileError ? e : new CompileError(reason, `${context}: ${e instanceof Error ? e.message : String(e)}`, { cause: e })
