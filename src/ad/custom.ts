/**
 * Derivative rules written by users, with JAX's semantics: a new primitive of the rule table
 * (`definePrimitive`), a function whose reverse-mode rule you give (`customVjp`), and a function
 * whose forward-mode rule you give (`customJvp`). Each becomes an entry of the one rule table,
 * so every interpreter (eager, forward, tape, the teaching trace) reads it like a built-in
 * primitive, and derivatives nest to any order.
 *
 * Where only one mode's rule is given, the other is its transpose. A rule is a linear map (of
 * a tangent, or of a cotangent); written with lamina's operations it is recorded on a tape at
 * any point and swept backwards, which gives the transposed map exactly (JAX's `linear_transpose`).
 * So `jvp`, `hessian` (forward over reverse) and `vjp` all work with one rule; a rule that is
 * not linear in its tangent or cotangent gives wrong derivatives there, which `lamina-nn/laws`
 * (`checkCustomVjp`, `checkCustomJvp`, `checkPrimitive`) catch with the inner-product identity.
 *
 * @module
 */
import { ArgumentError, DifferentiationError } from '../error.js'
import { bind, isBuiltin, isUserPrimitive, registerRule } from '../prim.js'
import type { Linear, Prim, Rule } from '../prim.js'
import * as Sh from '../shape.js'
import { Tensor, concreteBuffer, fromBuffer, isTraced, zeros } from '../tensor.js'
import type { Buffer } from '../tensor.js'
import { fresh } from './level.js'
import { ReverseTrace, backward } from './tape.js'

// ---------------------------------------------------------------- shared checks

const describeValue = (v: unknown): string =>
  v === null ? 'null' : v === undefined ? 'undefined' : v instanceof Tensor ? `a tensor of shape ${Sh.show(v.shape)} (${v.dtype})` : Array.isArray(v) ? 'an array' : typeof v

/** `value` must be a tensor shaped and typed like `like`: what a rule must return for `what`. */
const checkLike = (who: string, what: string, value: unknown, like: Tensor): Tensor => {
  if (!(value instanceof Tensor)) throw new DifferentiationError(`${who}: ${what} must be a tensor of shape ${Sh.show(like.shape)} (${like.dtype}), got ${describeValue(value)}`)
  if (!Sh.equals(value.shape, like.shape) || value.dtype !== like.dtype) {
    throw new DifferentiationError(`${who}: ${what} must have shape ${Sh.show(like.shape)} (${like.dtype}), got ${Sh.show(value.shape)} (${value.dtype})`)
  }
  return value
}

/** The tensor arguments of a call, checked. */
const checkArgs = (who: string, args: readonly unknown[], arity: number | 'many'): readonly Tensor[] => {
  if (arity !== 'many' && args.length !== arity) throw new ArgumentError(`${who}: expected ${arity} tensor argument${arity === 1 ? '' : 's'}, got ${args.length}`)
  if (args.length === 0) throw new ArgumentError(`${who}: expected at least one tensor argument`)
  args.forEach((a, i) => {
    if (!(a instanceof Tensor)) throw new ArgumentError(`${who}: argument ${i} must be a tensor, got ${describeValue(a)}`)
  })
  const dtype = (args[0] as Tensor).dtype
  args.forEach((a, i) => {
    if ((a as Tensor).dtype !== dtype) throw new ArgumentError(`${who}: argument ${i} is ${(a as Tensor).dtype} but argument 0 is ${dtype}; a primitive's arguments share one dtype`)
  })
  return args as readonly Tensor[]
}

/** The value computed by a user's forward function, as the table's forward returns it. */
const concreteResult = (who: string, y: unknown, args: readonly Tensor[]): { shape: readonly number[]; buffer: Buffer } => {
  if (!(y instanceof Tensor)) throw new DifferentiationError(`${who}: the forward computation must return a tensor, got ${describeValue(y)}`)
  if (isTraced(y)) {
    throw new DifferentiationError(
      `${who}: the forward computation returned a value that depends on a variable being differentiated which it did not receive as an argument (a closure over it); pass that value as an argument`
    )
  }
  if (y.dtype !== args[0]!.dtype) throw new DifferentiationError(`${who}: the forward computation returned ${y.dtype} for ${args[0]!.dtype} arguments`)
  return { shape: y.shape, buffer: concreteBuffer(y) }
}

/**
 * The transpose of a linear map `L` whose inputs are shaped like `inputLike`: `v ↦ Lᵀ v`,
 * from one recording of `L` at zero, made on first use and swept for every later call. A map
 * whose output does not depend on its input through lamina's operations is either the zero map
 * (its transpose is zero) or reads its input's values on the host (`.data`), which no tape can
 * see: a random probe tells them apart, and the second is an error rather than a silent zero.
 */
const transposeOf = (who: string, mode: 'jvp' | 'vjp', L: Linear, inputLike: Tensor, outputLike: Tensor): Linear => {
  let pullback: ((c: Tensor) => Tensor) | undefined
  const fail = (why: string): never => {
    throw new DifferentiationError(
      `${who}: the other mode's rule is the transpose of the ${mode} rule, and transposing it failed: ${why}; ` +
        `write the ${mode} rule with lamina's operations, linear in its ${mode === 'jvp' ? 'tangent' : 'cotangent'}, or give both rules`
    )
  }
  const record = (): ((c: Tensor) => Tensor) => {
    const trace = new ReverseTrace(fresh())
    const t = trace.variable(zeros(inputLike.shape, { dtype: inputLike.dtype }))
    let y: Tensor
    try {
      y = checkLike(who, `the ${mode} rule's result`, L(t), outputLike)
    } catch (e) {
      if (e instanceof DifferentiationError && e.message.startsWith(who)) throw e
      return fail(e instanceof Error ? e.message : String(e))
    }
    const yId = trace.idOf(y)
    const tId = trace.idOf(t)!
    const none = (): Tensor => zeros(inputLike.shape, { dtype: inputLike.dtype })
    if (yId === undefined) {
      // constant in t: the zero map, or a rule reading t's values, which a probe exposes
      const probe = L(fromBuffer(Float64Array.from({ length: inputLike.size }, (_, i) => 1 + ((i * 7) % 5) / 4), inputLike.shape, { dtype: inputLike.dtype }))
      if (concreteBuffer(probe).some((v) => v !== 0)) fail(`the map's result does not depend on its ${mode === 'jvp' ? 'tangent' : 'cotangent'} through lamina's operations (it reads its values on the host, e.g. with .data)`)
      return none
    }
    const [, tape] = trace.recorded(y)()
    return (c) => backward(tape, new Map([[yId, c]])).get(tId) ?? none()
  }
  return (v) => {
    pullback ??= record()
    return pullback(v)
  }
}

/** `base`, or `base_2`, `base_3`, … when a primitive has that name: two functions with one name get distinct primitives. */
const uniqueName = (base: string): string => {
  const free = (name: string) => !isBuiltin(name) && !isUserPrimitive(name)
  if (free(base)) return base
  let n = 2
  while (!free(`${base}_${n}`)) n++
  return `${base}_${n}`
}

// ---------------------------------------------------------------- definePrimitive

/** What a user primitive's rules see: the primal arguments, the primal output and the parameters. */
export interface PrimitiveContext<Params> {
  readonly args: readonly Tensor[]
  readonly out: Tensor
  readonly params: Params
}

/**
 * The parameter types of your primitives, by name: empty here, filled by declaration merging in
 * your code, so that a primitive's parameters are checked wherever its name is written, as the
 * built-in ones are (`PrimParams`). With an entry, `definePrimitive` of that name must take
 * those parameters (its default `params` and its rules' `ctx.params` are typed by it), and the
 * primitive's `bind` requires them; names without an entry infer their parameters as before.
 *
 * @example
 * ```ts
 * import type { UserPrimitiveParams } from 'lamina-nn'
 * // in your code (a module): the entry for a primitive 'betaSwish' with a parameter β
 * declare module 'lamina-nn' {
 *   interface UserPrimitiveParams {
 *     betaSwish: { readonly beta: number }
 *   }
 * }
 * const declared: UserPrimitiveParams['betaSwish'] = { beta: 2 }
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface UserPrimitiveParams {}

/**
 * Nothing more when `Name` has no `UserPrimitiveParams` entry or `Params` is that entry; else the
 * entry as a required `params`, so the definition fails to compile at its parameters.
 */
export type DeclaredParams<Name extends string, Params> = Name extends keyof UserPrimitiveParams
  ? [Params, UserPrimitiveParams[Name]] extends [UserPrimitiveParams[Name], Params]
    ? unknown
    : { readonly params: UserPrimitiveParams[Name] }
  : unknown

/** The parameters of a primitive named `Name`: its `UserPrimitiveParams` entry, or `Params` when it has none. */
export type ParamsOf<Name extends string, Params extends object> = Name extends keyof UserPrimitiveParams ? (UserPrimitiveParams[Name] extends object ? UserPrimitiveParams[Name] : Params) : Params

/** A new entry of the rule table, written by user code. */
export interface PrimitiveDefinition<Params extends object = {}, Name extends string = string> {
  /** Its name in traces and error messages; distinct from every other primitive's. */
  readonly name: Name
  /** Number of tensor arguments (at least 1; they share one dtype). */
  readonly arity: number
  /** The value on concrete tensors: lamina's operations, or your own loop over `.data` returning `fromBuffer(…)`. */
  readonly forward: (args: readonly Tensor[], params: Params) => Tensor
  /** `jvp(ctx)[i]` maps the tangent of argument `i` to its part of the output's tangent (linear). */
  readonly jvp?: (ctx: PrimitiveContext<Params>) => readonly Linear[]
  /** `vjp(ctx)[i]` maps the output's cotangent to argument `i`'s cotangent (linear). */
  readonly vjp?: (ctx: PrimitiveContext<Params>) => readonly Linear[]
  /** Parameters used when the primitive is called as a plain function (default `{}`). */
  readonly params?: Params
  /**
   * For the compiled interpreter (`compile` in `lamina-nn/gpu`): a GPU.js (JavaScript subset)
   * expression of one output element from the same element of each argument, given their
   * expressions, e.g. `` ([x]) => `${x} / (1.0 + Math.exp(-${x}))` ``. Only for elementwise
   * primitives (every argument shaped like the output); without it `compile` refuses the primitive.
   */
  readonly kernel?: (operands: readonly string[], params: Params) => string
  /**
   * Its derivative is zero by definition, not the derivative of its value (as `stopGradient`'s):
   * the laws then check that its rules give exactly zero instead of comparing them with finite differences.
   */
  readonly zeroDerivative?: boolean
}

/** A primitive defined by user code: call it on tensors, or `bind` it with other parameters. */
export interface Primitive<Params extends object = {}> {
  /** Applies the primitive with the definition's default parameters. */
  (...args: readonly Tensor[]): Tensor
  /** Its name in the rule table. */
  readonly primitive: string
  /** Applies the primitive with `params`. */
  readonly bind: (args: readonly Tensor[], params: Params) => Tensor
  /** What it was defined with. */
  readonly definition: PrimitiveDefinition<Params>
}

/** The maps a user rule returned, checked: one function per argument, each result shaped like its target. */
const checkedMaps = (who: string, mode: 'jvp' | 'vjp', maps: unknown, args: readonly Tensor[], out: Tensor): readonly Linear[] => {
  if (!Array.isArray(maps) || maps.length !== args.length || !maps.every((m) => typeof m === 'function')) {
    throw new DifferentiationError(`${who}: the ${mode} rule must return ${args.length} function${args.length === 1 ? '' : 's'} (one linear map per argument), got ${Array.isArray(maps) ? `${maps.length} entries` : describeValue(maps)}`)
  }
  return (maps as Linear[]).map((m, i) => (v: Tensor) =>
    checkLike(who, mode === 'jvp' ? `the jvp rule's map ${i} (the tangent of the output)` : `the vjp rule's map ${i} (the cotangent of argument ${i})`, m(v), mode === 'jvp' ? out : args[i]!)
  )
}

/**
 * Adds a primitive to the rule table from user code: its forward computation and its JVP
 * and/or VJP rules, in the form of the built-in rules (`prim.ts`). Every interpreter reads it
 * like a built-in one: eager, `jvp`, `vjp`/`grad`, `hessian`, the teaching trace. With only
 * one of the two rules, the other is its transpose. Check it with `checkPrimitive` from
 * `lamina-nn/laws`. The compiled interpreter (`lamina-nn/gpu`'s `compile`) lowers it with its
 * `kernel` expression when it has one, and refuses it with a `CompileError` naming it otherwise.
 * Each call defines a new primitive, like a `jax.core.Primitive`: a name already defined by
 * user code gets a suffix (`swish_2`, the returned `primitive`), so a module evaluated twice or
 * two libraries choosing one name do not collide; a built-in primitive's name is refused.
 *
 * @example
 * ```ts
 * import { definePrimitive, grad, hessian, mul, sigmoid, sub, add, tensor, fromBuffer, sum } from 'lamina-nn'
 * import type { Tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * // swish(x) = x·σ(x), with swish'(x) = σ(x)·(1 + x·(1 − σ(x)))
 * const slope = (x: Tensor) => { const s = sigmoid(x); return mul(s, add(tensor(1), mul(x, sub(tensor(1), s)))) }
 * const swish = definePrimitive({
 *   name: 'swish',
 *   arity: 1,
 *   // any computation on concrete values: here a loop over the data
 *   forward: ([x]) => fromBuffer(Array.from(x!.data, (v) => v / (1 + Math.exp(-v))), x!.shape, { dtype: x!.dtype }),
 *   vjp: ({ args: [x] }) => [(ct) => mul(ct, slope(x!))]
 * })
 * const x = tensor([-1, 0.5, 2])
 * const g = grad((v: Tensor) => sum(swish(v)))(x)
 * assert.ok(Math.abs(g.data[1]! - slope(tensor(0.5)).item()) < 1e-15)
 * // the second derivative differentiates the rule; forward mode transposes it
 * assert.strictEqual(hessian((v: Tensor) => sum(swish(v)))(x).shape.join(), '3,3')
 * ```
 */
export const definePrimitive = <Params extends object = {}, const Name extends string = string>(
  definition: PrimitiveDefinition<Params, Name> & DeclaredParams<Name, Params>
): Primitive<ParamsOf<Name, Params>> => {
  const { arity, forward, jvp: jvpRule, vjp: vjpRule } = definition
  const given = definition.name
  if (typeof given !== 'string' || !/^[A-Za-z_$][\w$.-]*$/.test(given)) {
    throw new ArgumentError(`definePrimitive: name must be an identifier (letters, digits, _ $ . -), got ${JSON.stringify(given)}`)
  }
  if (isBuiltin(given)) throw new ArgumentError(`definePrimitive: '${given}' is a built-in primitive; choose another name`)
  // every definition is a new primitive: a name already defined (a module evaluated twice, two libraries) gets a suffix
  const name = uniqueName(given)
  const who = `primitive '${name}'`
  if (!Number.isSafeInteger(arity) || arity < 1) throw new ArgumentError(`definePrimitive: ${who}'s arity must be a positive integer, got ${String(arity)}`)
  if (typeof forward !== 'function') throw new ArgumentError(`definePrimitive: ${who} needs a forward function`)
  if (jvpRule === undefined && vjpRule === undefined) throw new ArgumentError(`definePrimitive: ${who} needs a jvp rule, a vjp rule or both`)
  if (definition.kernel !== undefined && typeof definition.kernel !== 'function') throw new ArgumentError(`definePrimitive: ${who}'s kernel must be a function of the operands' expressions`)
  const defaults = (definition.params ?? {}) as Params
  const ctxOf = (ctx: { readonly args: readonly Tensor[]; readonly out: Tensor; readonly params: unknown }): PrimitiveContext<Params> => ({
    args: ctx.args,
    out: ctx.out,
    params: ctx.params as Params
  })
  const jvpMaps = (ctx: PrimitiveContext<Params>): readonly Linear[] =>
    jvpRule !== undefined
      ? checkedMaps(who, 'jvp', jvpRule(ctx), ctx.args, ctx.out)
      : checkedMaps(who, 'vjp', vjpRule!(ctx), ctx.args, ctx.out).map((m, i) => transposeOf(who, 'vjp', m, ctx.out, ctx.args[i]!))
  const vjpMaps = (ctx: PrimitiveContext<Params>): readonly Linear[] =>
    vjpRule !== undefined
      ? checkedMaps(who, 'vjp', vjpRule(ctx), ctx.args, ctx.out)
      : checkedMaps(who, 'jvp', jvpRule!(ctx), ctx.args, ctx.out).map((m, i) => transposeOf(who, 'jvp', m, ctx.args[i]!, ctx.out))
  const rule: Rule<Prim> = {
    ...(definition.zeroDerivative === true ? { constant: true as const } : {}),
    arity,
    forward: (args, params) => concreteResult(who, forward(args, params as Params), args),
    jvp: (ctx) => jvpMaps(ctxOf(ctx)),
    vjp: (ctx) => vjpMaps(ctxOf(ctx))
  }
  registerRule(name, rule)
  userFacts.set(name, { zeroDerivative: definition.zeroDerivative === true, definition: definition as unknown as PrimitiveDefinition<object> })
  const apply = (args: readonly Tensor[], params: Params): Tensor => bind(name as Prim, checkArgs(who, args, arity), params as never)
  const call = (...args: readonly Tensor[]): Tensor => apply(args, defaults)
  return Object.assign(call, { primitive: name, bind: apply, definition }) as unknown as Primitive<ParamsOf<Name, Params>>
}

/** What the laws need to know of a user primitive beyond its rule. */
export interface UserFacts {
  readonly zeroDerivative: boolean
  /** The definition, for `definePrimitive` primitives (absent for `customVjp`/`customJvp`). */
  readonly definition?: PrimitiveDefinition<object>
}

const userFacts = new Map<string, UserFacts>()

/** @internal the GPU.js kernel expression of a user primitive, for the compiled interpreter (`undefined`: none) */
export const userKernelOf = (name: string): ((operands: readonly string[], params: unknown) => string) | undefined =>
  userFacts.get(name)?.definition?.kernel as ((operands: readonly string[], params: unknown) => string) | undefined

/**
 * What lamina knows of a primitive defined by user code (`undefined` for a built-in one).
 *
 * @example
 * ```ts
 * import { definePrimitive, userPrimitiveFacts, neg } from 'lamina-nn'
 * import assert from 'node:assert'
 * const flip = definePrimitive({ name: 'flipDoc', arity: 1, forward: ([x]) => neg(x!), jvp: () => [neg] })
 * assert.strictEqual(userPrimitiveFacts(flip.primitive)?.zeroDerivative, false)
 * assert.strictEqual(userPrimitiveFacts('tanh'), undefined)
 * ```
 */
export const userPrimitiveFacts = (name: string): UserFacts | undefined => userFacts.get(name)

// ---------------------------------------------------------------- customVjp and customJvp

/** A function of tensors to a tensor: what `customVjp` and `customJvp` decorate. */
export type TensorFunction = (...args: never[]) => Tensor

/** One cotangent per argument, in order (`null` for a zero cotangent); their number and shapes are checked when `bwd` runs. */
export type Cotangents = readonly (Tensor | null)[]

/** The rule `customVjp` takes: the forward pass with residuals, and the backward pass from them. */
export interface VjpRule<F extends TensorFunction, Residuals> {
  /** Computes `f(...args)` and what `bwd` needs (the residuals): `[y, residuals]`. */
  readonly fwd: (...args: Parameters<F>) => readonly [ReturnType<F>, Residuals]
  /** The cotangent of each argument from the residuals and the output's cotangent (linear in it). */
  readonly bwd: (residuals: Residuals, cotangent: ReturnType<F>) => Cotangents
}

/** The rule `customJvp` takes. */
export interface JvpRule<F extends TensorFunction> {
  /** `[f(primals), J·tangents]`: the output and its tangent (linear in the tangents). */
  readonly jvp: (primals: Parameters<F>, tangents: Parameters<F>) => readonly [ReturnType<F>, ReturnType<F>]
}

/** What a function made by `customVjp`/`customJvp` carries besides its signature. */
export interface CustomFacts<F extends TensorFunction> {
  /** The function without the custom rule (its derivative is lamina's own, when it has one). */
  readonly primal: F
  /** The primitive the rule lives in. */
  readonly primitive: string
  /** Which rule was given. */
  readonly custom: 'vjp' | 'jvp'
}

const traced = (args: readonly Tensor[]): boolean => args.some(isTraced)

const functionName = (f: Function, fallback: string, options?: { readonly name?: string }): string => {
  const raw = options?.name ?? (f.name !== '' ? f.name : fallback)
  return raw.replace(/[^\w$.-]/g, '_') || fallback
}

/**
 * `f` with your reverse-mode rule (JAX's `custom_vjp`): `fwd(...args)` returns `[y, residuals]`
 * and `bwd(residuals, ȳ)` one cotangent per argument (`null` for zero). The result has `f`'s
 * signature; called on tensors that nothing differentiates it is `f` itself. Derivatives nest:
 * a second derivative differentiates `fwd` and `bwd`; forward mode (`jvp`, `hessian`) uses
 * the transpose of `bwd`. Use it for a stable or cheaper gradient, a clipped or straight-through
 * gradient, or a gradient of something lamina cannot differentiate (all arguments tensors).
 *
 * @example
 * ```ts
 * import { customVjp, grad, log, add, exp, mul, div, sub, tensor, sum } from 'lamina-nn'
 * import type { Tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * // log(1 + eˣ) whose gradient is written as 1 − 1/(1 + eˣ), which stays finite for large x
 * const softplus = customVjp((x: Tensor) => log(add(tensor(1), exp(x))), {
 *   fwd: (x) => { const e = exp(x); return [log(add(tensor(1), e)), e] as const },
 *   bwd: (e, ct) => [mul(ct, sub(tensor(1), div(tensor(1), add(tensor(1), e))))]
 * })
 * const g = grad((x: Tensor) => sum(softplus(x)))(tensor([0, 1000]))
 * assert.deepStrictEqual([...g.data], [0.5, 1])
 * ```
 */
export const customVjp = <F extends TensorFunction, Residuals>(f: F, rule: VjpRule<F, Residuals>, options?: { readonly name?: string }): F & CustomFacts<F> => {
  if (typeof f !== 'function' || typeof rule?.fwd !== 'function' || typeof rule?.bwd !== 'function') {
    throw new ArgumentError('customVjp: expected a function and a rule { fwd, bwd } of functions')
  }
  const name = uniqueName(functionName(f, 'customVjp', options))
  const who = `customVjp '${name}'`
  const fwd = rule.fwd as unknown as (...args: readonly Tensor[]) => readonly [Tensor, Residuals]
  const bwd = rule.bwd as unknown as (r: Residuals, ct: Tensor) => readonly (Tensor | null)[]
  // residuals of concrete forward passes, by the output's buffer: reverse mode reuses them
  const saved = new WeakMap<Buffer, Residuals>()
  const forwardPass = (args: readonly Tensor[]): readonly [Tensor, Residuals] => {
    const result = fwd(...args)
    if (!Array.isArray(result) || result.length !== 2) throw new DifferentiationError(`${who}: fwd must return [output, residuals], got ${describeValue(result)}`)
    return result as unknown as readonly [Tensor, Residuals]
  }
  const residualsOf = (args: readonly Tensor[], out: Tensor): Residuals => {
    // a traced output (a nested derivative) needs residuals traced at its levels: recompute them
    const cached = isTraced(out) ? undefined : saved.get(concreteBuffer(out))
    return cached ?? forwardPass(args)[1]
  }
  const cotangents = (args: readonly Tensor[], out: Tensor): readonly Linear[] => {
    const r = residualsOf(args, out)
    let computed: readonly (Tensor | null)[] | undefined
    let seen: Tensor | undefined
    // bwd gives every argument's cotangent at once: one call per distinct output cotangent
    const all = (ct: Tensor): readonly (Tensor | null)[] => {
      if (computed === undefined || seen !== ct) {
        const result = bwd(r, ct)
        if (!Array.isArray(result) || result.length !== args.length) {
          throw new DifferentiationError(`${who}: bwd must return one cotangent per argument (${args.length}), got ${Array.isArray(result) ? `${result.length}` : describeValue(result)}`)
        }
        computed = result
        seen = ct
      }
      return computed
    }
    return args.map((a, i) => (ct: Tensor) => {
      const c = all(ct)[i]
      return c === null ? zeros(a.shape, { dtype: a.dtype }) : checkLike(who, `bwd's cotangent ${i}`, c, a)
    })
  }
  const rule_: Rule<Prim> = {
    arity: 'many',
    forward: (args) => {
      const [y, r] = forwardPass(args)
      const result = concreteResult(who, y, args)
      saved.set(result.buffer, r)
      return result
    },
    vjp: ({ args, out }) => cotangents(args, out),
    jvp: ({ args, out }) => cotangents(args, out).map((m, i) => transposeOf(who, 'vjp', m, out, args[i]!))
  }
  registerRule(name, rule_)
  userFacts.set(name, { zeroDerivative: false })
  const wrapped = (...raw: readonly unknown[]): Tensor => {
    const args = checkArgs(who, raw, 'many')
    return traced(args) ? bind(name as Prim, args, {} as never) : (f as unknown as (...a: readonly Tensor[]) => Tensor)(...args)
  }
  return Object.assign(wrapped as unknown as F, { primal: f, primitive: name, custom: 'vjp' as const })
}

/**
 * `f` with your forward-mode rule (JAX's `custom_jvp`): `jvp(primals, tangents)` returns
 * `[f(primals), J·tangents]`, linear in the tangents. The result has `f`'s signature. Reverse
 * mode (`grad`, `vjp`) transposes the rule, so it must be written with lamina's operations and
 * be linear in the tangents (a rule that reads a tangent's values cannot be transposed, and
 * says so). Derivatives nest: a second derivative differentiates the rule.
 *
 * @example
 * ```ts
 * import { customJvp, grad, jvp, mul, sqrt, div, tensor, sum } from 'lamina-nn'
 * import type { Tensor } from 'lamina-nn'
 * import assert from 'node:assert'
 * // √x with the derivative 1/(2√x) written from the output, reused for both modes
 * const root = customJvp((x: Tensor) => sqrt(x), {
 *   jvp: ([x], [t]) => { const y = sqrt(x); return [y, div(t, mul(tensor(2), y))] as const }
 * })
 * assert.strictEqual(jvp(root, [tensor(4)], [tensor(1)])[1].item(), 0.25)
 * assert.strictEqual(grad((x: Tensor) => sum(root(x)))(tensor(4)).item(), 0.25)
 * ```
 */
export const customJvp = <F extends TensorFunction>(f: F, rule: JvpRule<F>, options?: { readonly name?: string }): F & CustomFacts<F> => {
  if (typeof f !== 'function' || typeof rule?.jvp !== 'function') throw new ArgumentError('customJvp: expected a function and a rule { jvp } with a function')
  const name = uniqueName(functionName(f, 'customJvp', options))
  const who = `customJvp '${name}'`
  const userJvp = rule.jvp as unknown as (primals: readonly Tensor[], tangents: readonly Tensor[]) => readonly [Tensor, Tensor]
  const primal = f as unknown as (...a: readonly Tensor[]) => Tensor
  // one map per argument: the tangent of argument i, zeros for the others
  const tangentMaps = (args: readonly Tensor[], out: Tensor): readonly Linear[] =>
    args.map((_, i) => (t: Tensor) => {
      const tangents = args.map((a, j) => (j === i ? t : (zeros(a.shape, { dtype: a.dtype }) as Tensor)))
      const result = userJvp(args, tangents)
      if (!Array.isArray(result) || result.length !== 2) throw new DifferentiationError(`${who}: jvp must return [output, output tangent], got ${describeValue(result)}`)
      return checkLike(who, "jvp's output tangent", result[1], out)
    })
  const rule_: Rule<Prim> = {
    arity: 'many',
    forward: (args) => concreteResult(who, primal(...args), args),
    jvp: ({ args, out }) => tangentMaps(args, out),
    vjp: ({ args, out }) => tangentMaps(args, out).map((m, i) => transposeOf(who, 'jvp', m, args[i]!, out))
  }
  registerRule(name, rule_)
  userFacts.set(name, { zeroDerivative: false })
  const wrapped = (...raw: readonly unknown[]): Tensor => {
    const args = checkArgs(who, raw, 'many')
    return traced(args) ? bind(name as Prim, args, {} as never) : primal(...args)
  }
  return Object.assign(wrapped as unknown as F, { primal: f, primitive: name, custom: 'jvp' as const })
}
