/**
 * Lowering a program to GPU.js kernels. Each node either gets a kernel of its own (its value
 * is a buffer that stays on the device), or is inlined into the kernel of its one consumer as
 * an expression at the index that consumer reads:
 * - elementwise ops, broadcast, transpose, slice, pad and concat are index maps over their
 *   arguments, so a chain of them ends up as one kernel (bias + activation, the whole update
 *   of a parameter);
 * - a product or a reduction is inlined only where its value is read once per element at its
 *   own index (an elementwise consumer), so `x·W + b` is one kernel, and is never recomputed;
 * - a reshape is free: the consumer reads the same flat buffer;
 * - a node read by several consumers, read by a product, or returned, gets a buffer.
 *
 * Kernels use only what every GPU.js backend runs: fixed output sizes, loops with literal
 * bounds, float arithmetic, `Math` functions (`log1p` and `erf` written out); an elementwise
 * primitive's expression comes from the kernel-expression table (`backend/kernel-expressions.ts`),
 * which the eager GPU.js backend shares. A kernel of a
 * rank ≥ 2 value runs over a 2-D grid `[last, rest]`, so a product's inner loop vectorises
 * across output columns on webasm. Each kernel counts its loop trips, and `unroll` (for the GL
 * modes, whose llvmpipe stops a shader's loops after 65,535 trips) makes a reduction's innermost
 * loop take several elements per trip, in the same order, so the sum is the same.
 *
 * Index arithmetic. GPU.js types the kernel language itself, the same way on webasm and webgpu
 * (`web-assembly/function-node.js`, `web-gpu/function-node.js`): `this.thread.*` and bitwise
 * results are integers (i32), and `+ − *` of integers and integer literals stay i32; but every
 * `const`/`let` initialised with an integer decays to a float32 variable, `/` is always float32,
 * a `for` counter is a float on webasm, and a float scalar argument is float32. So with
 * `exact` (webasm, webgpu) an index is written as an expression GPU.js types as an integer:
 * thread ids, literals, `(v | 0)` of a variable, and sums and literal multiples of these. A
 * variable only ever holds an integer below 2²⁴ (which float32 holds exactly); a larger index
 * stays an inline expression. Quotients are taken in float32 and corrected in integers where
 * the division may be off (WGSL allows 2.5 ulp), and digits are taken from the 2-D grid's row
 * and column where an axis lies within one of them. Exact up to 2³¹ elements. Without `exact`
 * (the GL modes, where GPU.js writes these variables and quotients as GLSL floats) indices are
 * float32 expressions, exact below 2²⁴, and `compile` keeps every buffer below that.
 *
 * @module
 */
import { userKernelOf } from '../ad/custom.js'
import { float32Literal, hasKernelExpression, isAtom, kernelExpression } from '../backend/kernel-expressions.js'
import type { ExpressionEmitter, KernelExpression, ParamsOf } from '../backend/kernel-expressions.js'
import type { MatMulParams, ReduceParams } from '../prim.js'
import * as Sh from '../shape.js'
import type { Shape } from '../shape.js'
import { CompileError } from './error.js'
import { isElementwise } from './graph.js'
import type { Node, Ref, Role } from './graph.js'

/** Inputs read per step from a stack `[steps, ...]` at an offset that differs per step. */
export type StackedRole = 'x' | 'labels' | 'hyper'

/**
 * A kernel argument: a node's buffer, a constant array, or where this step's slice of a stacked
 * input starts, counted in elements (`step · perStep`, a float32 index) or in steps (the
 * kernel multiplies it by the per-step size in integer arithmetic: `exact`).
 */
export type KernelArg =
  | { readonly tag: 'buffer'; readonly node: number }
  | { readonly tag: 'array'; readonly data: Float32Array }
  | { readonly tag: 'base'; readonly role: StackedRole; readonly unit: 'element' | 'step' }

/** How {@link lower} writes kernels. */
export interface LowerOptions {
  /** Elements per trip of a reduction's innermost loop (8 on the GL modes; default 1). */
  readonly unroll?: number
  /** Integer index arithmetic, exact up to 2³¹ elements (webasm, webgpu); otherwise float32, exact below 2²⁴ (GL). */
  readonly exact?: boolean
  /**
   * With `exact`: float32 division is correctly rounded (webasm), so a quotient of integers
   * below 2²⁴ needs no correction; otherwise (webgpu: WGSL allows 2.5 ulp) every quotient is
   * corrected in integer arithmetic.
   */
  readonly exactDivision?: boolean
  /** With `exact`: the optimizer's per-step scalars, the length of each step's slice of the `hyper` stack. */
  readonly hyperCount?: number
}

/** Integers float32 holds exactly: an index variable stays below this. */
const F32_EXACT = 2 ** 24

/** One kernel: it computes node `node` into a buffer of `size` elements laid out as GPU.js `output` dims. */
export interface KernelSpec {
  readonly node: number
  readonly source: string
  readonly output: readonly number[]
  readonly size: number
  readonly args: readonly KernelArg[]
  /** Loop trips one invocation makes, nested and sequential loops counted together (llvmpipe stops a shader's loops after 65,535). */
  readonly trips: number
}

/** The kernels of a program, in an order that respects dependencies, and where each buffer lives. */
export interface KernelPlan {
  readonly kernels: readonly KernelSpec[]
  /** The node whose buffer holds node `k`'s value (itself, or the buffer a reshape views). */
  readonly bufferOf: (k: number) => number
}

type Decision = 'input' | 'kernel' | 'alias' | 'inline'

const heavyOps: ReadonlySet<string> = new Set(['matmul', 'batchMatmul', 'sum', 'mean', 'max', 'min', 'logsumexp'])
const productOps: ReadonlySet<string> = new Set(['matmul', 'batchMatmul'])
/** Primitives without a kernel here yet (the eager interpreter runs them): a step that applies one does not compile. */
const unlowered: ReadonlySet<string> = new Set(['conv2d', 'conv2dInputGrad', 'conv2dFilterGrad', 'maxPool2d', 'avgPool2d', 'avgPool2dTranspose', 'maxPool2dGather', 'maxPool2dSpread'])
const noKernel = (op: string, k: number): CompileError =>
  new CompileError('unsupported-primitive', `compile: the primitive '${op}' (node ${k}) has no compiled kernel yet; train convolution and pooling layers with the eager interpreter (Train.fit)`)

const stackedRoles: ReadonlySet<Role['kind']> = new Set(['x', 'labels', 'hyper'])

/** The largest float32 (a value above it is ±Infinity). */
const MAX_F32 = '3.4028234663852886e38'

/** A float literal that parses back to the same float32 (non-finite values have no literal on every backend). */
const literal = (v: number): string => {
  const text = float32Literal(v)
  if (text === undefined) throw new CompileError('unsupported-model', `compile: the step needs the constant ${v}, which is not a finite float32`)
  return text
}

/**
 * An index into a value: its flat position, and its row and column when the kernel runs on a
 * 2-D grid of `width` columns (flat = row · width + col, whatever the shape of the value read).
 * With `exact` every one of them is an expression GPU.js types as an integer.
 */
interface Ix {
  readonly flat: string
  readonly row?: string
  readonly col?: string
  readonly width?: number
}

/**
 * Decides, from the consumers of each node, which nodes get kernels. Returns one decision per
 * node; nodes no root depends on are `undefined` (dead code).
 */
const decide = (nodes: readonly Node[], roots: readonly Ref[]): (Decision | undefined)[] => {
  const n = nodes.length
  const live = new Array<boolean>(n).fill(false)
  const stack = roots.flatMap((r) => (r.tag === 'node' ? [r.index] : []))
  while (stack.length > 0) {
    const k = stack.pop()!
    if (live[k]) continue
    live[k] = true
    for (const a of nodes[k]!.args) if (a.tag === 'node') stack.push(a.index)
  }
  const consumers: number[][] = nodes.map(() => [])
  nodes.forEach((node, k) => {
    if (!live[k]) return
    node.args.forEach((a) => {
      if (a.tag === 'node') consumers[a.index]!.push(k)
    })
  })
  const rooted = new Set(roots.flatMap((r) => (r.tag === 'node' ? [r.index] : [])))
  const decisions = new Array<Decision | undefined>(n).fill(undefined)
  // needsBuffer: the node's value must sit in a buffer (a root, a product's operand, a viewed reshape's source)
  const needsBuffer = new Array<boolean>(n).fill(false)
  // atIdentity: the node is evaluated once per element of its own index (its own kernel, or inlined into such a chain)
  const atIdentity = new Array<boolean>(n).fill(false)
  for (let k = n - 1; k >= 0; k--) {
    if (!live[k]) continue
    const node = nodes[k]!
    const users = consumers[k]!
    const single = users.length === 1 && !rooted.has(k) && !needsBuffer[k]
    const user = single ? nodes[users[0]!]! : undefined
    const readByProduct = users.some((u) => productOps.has(nodes[u]!.op))
    let decision: Decision
    if (node.op === 'input') decision = 'input'
    else if (node.op === 'reshape') decision = single && !readByProduct ? 'inline' : node.args[0]!.tag === 'node' ? 'alias' : 'kernel'
    else if (!single || readByProduct) decision = 'kernel'
    else if (heavyOps.has(node.op)) decision = (isElementwise(user!.op) || user!.op === 'reshape') && atIdentity[users[0]!] ? 'inline' : 'kernel'
    else decision = 'inline'
    decisions[k] = decision
    atIdentity[k] = decision === 'kernel' || (decision === 'inline' && (isElementwise(user!.op) || user!.op === 'reshape') && atIdentity[users[0]!]!)
    if (decision === 'alias') {
      const source = node.args[0]!
      if (source.tag === 'node') needsBuffer[source.index] = true
    }
    if (productOps.has(node.op)) for (const a of node.args) if (a.tag === 'node') needsBuffer[a.index] = true
  }
  return decisions
}

/** How a kernel writes its indices (see {@link LowerOptions}). */
interface IndexStyle {
  readonly exact: boolean
  readonly exactDivision: boolean
  readonly hyperCount: number
}

/** Writes the JavaScript source of one GPU.js kernel, line by line (not fp-ts's Writer, which the tape is built on). */
class KernelSource {
  private readonly lines: string[] = []
  private counter = 0
  readonly args: KernelArg[] = []
  private readonly names = new Map<unknown, string>()
  /** Loop trips so far (see {@link KernelSpec.trips}). */
  trips = 0
  /** What the kernel-expression table writes through: named subexpressions become `const` lines of this kernel. */
  private readonly emitter: ExpressionEmitter = { let: (e) => (isAtom(e) ? e : this.let(e)), constant: literal }

  constructor(
    private readonly nodes: readonly Node[],
    private readonly decisions: readonly (Decision | undefined)[],
    private readonly bufferOf: (k: number) => number,
    /** Elements per trip of a reduction's innermost loop. */
    private readonly unroll: number,
    private readonly style: IndexStyle
  ) {}

  source(result: string): string {
    const params = this.args.map((a, i) => (a.tag === 'base' ? `b${i}` : `a${i}`))
    return `function (${params.join(', ')}) {\n${this.lines.map((l) => `  ${l}`).join('\n')}\n  return ${result};\n}`
  }

  line(text: string): void {
    this.lines.push(text)
  }

  /** A fresh variable holding `expression`. */
  let(expression: string, prefix = 'v'): string {
    const name = `${prefix}${this.counter++}`
    this.lines.push(`const ${name} = ${expression};`)
    return name
  }

  mutable(expression: string, prefix: string): string {
    const name = `${prefix}${this.counter++}`
    this.lines.push(`let ${name} = ${expression};`)
    return name
  }

  /**
   * An index expression whose values v satisfy |v| < `bound`, bound to a variable. With `exact`
   * the variable (a float32 in GPU.js) is read back as `(name | 0)`, and a value that may reach
   * 2²⁴ stays an inline integer expression instead.
   */
  index(expression: string, bound: number): string {
    if (!this.style.exact) return this.let(expression, 'i')
    if (bound > F32_EXACT) return `(${expression})`
    return `(${this.let(expression, 'i')} | 0)`
  }

  /**
   * ⌊x / d⌋ of an integer index expression 0 ≤ x < `bound` (`exact` only). A float32 quotient of
   * integers below 2²⁴ is exact where division is correctly rounded (webasm) and the quotient's
   * neighbours stay apart: x + d ≤ 2²⁴. Otherwise the float32 quotient is only close, and the
   * remainder, in integer arithmetic, corrects it.
   */
  private quotient(x: string, d: number, bound: number): string {
    if (d === 1) return x
    if (bound <= d) return '0'
    const below = Math.ceil(bound / d)
    if (this.style.exactDivision && bound + d <= F32_EXACT) return this.index(`Math.floor(${x} / ${d})`, below)
    if (bound <= d * 2 ** 20 && bound + 2 * d <= 2 ** 31) {
      // |fl(fl(x) / d) − x/d| ≤ (x/d)·(2⁻²⁴ + 2.5·2⁻²³) < 0.4 for x/d ≤ 2²⁰ (WGSL's 2.5 ulp): off by one at most,
      // and q·d ≤ x + d stays an i32
      const q = this.let(`Math.floor(${x} / ${d})`, 'i')
      const r = this.index(`${x} - (${q} | 0) * ${d}`, 2 * d)
      return this.index(`${r} < 0 ? ${q} - 1.0 : (${r} >= ${d} ? ${q} + 1.0 : ${q})`, below)
    }
    // divided by d·(1 + 2⁻²⁰), which outweighs every rounding, q₁ ≤ ⌊x/d⌋ and is within x/d·1.5·2⁻²⁰ + 1 of it;
    // the remainder's quotient q₂, the same way, leaves 0 ≤ x − (q₁ + q₂)·d < 2d, and no product exceeds x < 2³¹
    const wide = literal(d * (1 + 2 ** -20))
    const q1 = this.let(`Math.floor(${x} / ${wide})`, 'i')
    const q2 = this.let(`Math.floor((${x} - (${q1} | 0) * ${d}) / ${wide})`, 'i')
    const last = this.let(`${x} - ((${q1} | 0) + (${q2} | 0)) * ${d} >= ${d} ? 1.0 : 0.0`, 'i')
    return this.index(`(${q1} | 0) + (${q2} | 0) + (${last} | 0)`, below)
  }

  /**
   * The digit of `ix.flat` along an axis of stride `stride` and size `size` of a value of
   * `total` elements (`exact` only): from the grid's column or row where the axis lies within
   * one of them, else from the flat index.
   */
  private digit(ix: Ix, stride: number, size: number, total: number): string {
    if (size === 1) return '0'
    let x = ix.flat
    let s = stride
    let bound = total
    const w = ix.width
    if (w !== undefined && ix.row !== undefined && ix.col !== undefined && total % w === 0) {
      if (w % (stride * size) === 0) {
        x = ix.col
        bound = w
      } else if (stride % w === 0) {
        x = ix.row
        s = stride / w
        bound = total / w
      }
    }
    const q = this.quotient(x, s, bound)
    if (s * size >= bound) return q
    return this.index(`${q} - ${this.quotient(q, size, Math.ceil(bound / s))} * ${size}`, size)
  }

  private argument(key: unknown, arg: KernelArg): string {
    const known = this.names.get(key)
    if (known !== undefined) return known
    const name = arg.tag === 'base' ? `b${this.args.length}` : `a${this.args.length}`
    this.args.push(arg)
    this.names.set(key, name)
    return name
  }

  /** The expression reading element `flat` of a buffer-backed node (with its per-step offset if it is stacked). */
  private readNode(k: number, flat: string): string {
    const source = this.bufferOf(k)
    const node = this.nodes[source]!
    const name = this.argument(source, { tag: 'buffer', node: source })
    if (node.op === 'input' && stackedRoles.has(node.role.kind)) {
      const role = node.role.kind as StackedRole
      const exact = this.style.exact
      const base = this.argument(`base:${role}`, { tag: 'base', role, unit: exact ? 'step' : 'element' })
      // an optimizer scalar is the same at every element; with exact indices the base is the step, times the slice's length in i32
      if (node.role.kind === 'hyper') return exact ? `${name}[(${base} | 0) * ${this.style.hyperCount} + ${node.role.index}]` : `${name}[${base} + ${node.role.index}]`
      return exact ? `${name}[(${base} | 0) * ${Sh.size(node.shape)} + ${flat}]` : `${name}[${base} + ${flat}]`
    }
    return `${name}[${flat}]`
  }

  /** The value of `ref` at index `ix`, as a literal, a variable or a buffer read. */
  value(ref: Ref, ix: Ix): string {
    switch (ref.tag) {
      case 'scalar':
        return literal(ref.value)
      case 'array':
        return `${this.argument(ref.data, { tag: 'array', data: ref.data })}[${ix.flat}]`
      case 'node':
        return this.decisions[ref.index] === 'inline' ? this.op(ref.index, ix) : this.readNode(ref.index, ix.flat)
    }
  }

  /** A buffer read of `ref` at a flat index (for product operands, which are never inlined). */
  private element(ref: Ref, flat: string): string {
    return ref.tag === 'node' && this.decisions[ref.index] === 'inline' ? this.op(ref.index, { flat }) : this.value(ref, { flat })
  }

  /** An expression as a variable, unless it is one already (or a literal). */
  private named(expression: string): string {
    return isAtom(expression) ? expression : this.let(expression)
  }

  /** Σ digitₐ·coefₐ + offset over the axes of `shape`, digits of the flat index `ix` (adjacent axes merged where contiguous). */
  linear(ix: Ix, shape: Shape, coefs: readonly number[], offset: number): string {
    const strides = Sh.strides(shape)
    const runs: { size: number; coef: number; stride: number }[] = []
    shape.forEach((d, a) => {
      if (d === 1) return
      const last = runs[runs.length - 1]
      if (last !== undefined && last.coef === coefs[a]! * d) {
        last.size *= d
        last.coef = coefs[a]!
        last.stride = strides[a]!
      } else runs.push({ size: d, coef: coefs[a]!, stride: strides[a]! })
    })
    if (this.style.exact) {
      const total = Sh.size(shape)
      const used = runs.filter((run) => run.coef !== 0)
      const digits = used.map((run) => this.digit(ix, run.stride, run.size, total))
      if (used.length === 1 && used[0]!.coef === 1 && offset === 0) return digits[0]!
      const sum = [...digits.map((digit, r) => (used[r]!.coef === 1 ? digit : `${digit} * ${used[r]!.coef}`)), ...(offset === 0 ? [] : [`${offset}`])]
      const top = used.reduce((acc, run) => acc + (run.size - 1) * run.coef, offset)
      return sum.length === 0 ? '0' : this.index(sum.join(' + '), top + 1)
    }
    const flat = ix.flat
    const terms: string[] = []
    runs.forEach((run, r) => {
      if (run.coef === 0) return
      const quotient = run.stride === 1 ? flat : this.let(`Math.floor(${flat} / ${run.stride})`, 'i')
      const digit = r === 0 ? quotient : this.let(`${quotient} - Math.floor(${quotient} / ${run.size}) * ${run.size}`, 'i')
      terms.push(run.coef === 1 ? digit : `${digit} * ${run.coef}`)
    })
    if (offset !== 0) terms.push(`${offset}`)
    if (terms.length === 0) return '0'
    if (terms.length === 1 && /^\w+$/.test(terms[0]!)) return terms[0]!
    return this.let(terms.join(' + '), 'i')
  }

  /** The digits of `ix` along every axis of `shape`. */
  private digits(ix: Ix, shape: Shape): string[] {
    const strides = Sh.strides(shape)
    if (this.style.exact) return shape.map((d, a) => this.digit(ix, strides[a]!, d, Sh.size(shape)))
    const flat = ix.flat
    return shape.map((d, a) => {
      if (d === 1) return '0'
      const quotient = strides[a] === 1 ? flat : this.let(`Math.floor(${flat} / ${strides[a]})`, 'i')
      return a === 0 || shape.slice(0, a).every((x) => x === 1) ? quotient : this.let(`${quotient} - Math.floor(${quotient} / ${d}) * ${d}`, 'i')
    })
  }

  /** Node `k`'s value at `ix`, computed in this kernel. */
  op(k: number, ix: Ix): string {
    const node = this.nodes[k]!
    const op = node.op
    // every elementwise primitive: its expression from the shared table, over its operands at `ix`
    if (hasKernelExpression(op)) return this.named(kernelExpression(op, node.args.map((a) => this.value(a, ix)), node.params as ParamsOf<typeof op>, this.emitter))
    const [x] = node.args
    const shape = node.shape
    switch (op) {
      case 'input':
        return this.readNode(k, ix.flat)
      case 'reshape':
        // the same flat number, so the grid's row and column still describe it
        return this.value(x!, this.style.exact ? ix : { flat: ix.flat })
      case 'broadcast': {
        // a shaped fill of a uniform value
        if (x!.tag === 'scalar') return this.value(x!, ix)
        const from = this.shapeOf(x!)
        const pad = shape.length - from.length
        const inStrides = Sh.strides(from)
        const coefs = shape.map((_, a) => (a < pad || from[a - pad] === 1 ? 0 : inStrides[a - pad]!))
        return this.value(x!, { flat: this.linear(ix, shape, coefs, 0) })
      }
      case 'transpose': {
        const inStrides = Sh.strides(this.shapeOf(x!))
        const { perm } = node.params as { perm: readonly number[] }
        return this.value(x!, { flat: this.linear(ix, shape, perm.map((p) => inStrides[p]!), 0) })
      }
      case 'slice': {
        const inStrides = Sh.strides(this.shapeOf(x!))
        const { starts } = node.params as { starts: readonly number[] }
        const offset = starts.reduce((acc, s, a) => acc + s * inStrides[a]!, 0)
        return this.value(x!, { flat: this.linear(ix, shape, inStrides, offset) })
      }
      case 'pad':
        return this.pad(k, ix)
      case 'concat':
        return this.concat(k, ix)
      case 'matmul':
      case 'batchMatmul':
        return this.product(k, ix)
      case 'sum':
      case 'mean':
      case 'max':
      case 'min':
      case 'logsumexp':
        return this.reduction(k, ix)
      case 'conv2d':
      case 'conv2dInputGrad':
      case 'conv2dFilterGrad':
      case 'maxPool2d':
      case 'avgPool2d':
      case 'avgPool2dTranspose':
      case 'maxPool2dGather':
      case 'maxPool2dSpread':
        throw noKernel(node.op, k)
      default: {
        // every built-in op has an entry in the kernel-expression table or a case above (a missing
        // one makes `op` not `never` here: a compile error); at run time only a user primitive
        // with a kernel expression gets here, written through the same interface as the table's
        op satisfies never
        const kernel: KernelExpression<unknown> | undefined = userKernelOf(node.op)
        if (kernel === undefined) throw new CompileError('unsupported-primitive', `compile: the primitive '${node.op}' (node ${k}) has no kernel expression`)
        return this.let(`(${kernel(node.args.map((a) => this.value(a, ix)), node.params, this.emitter)})`)
      }
    }
  }

  private shapeOf(ref: Ref): Shape {
    if (ref.tag !== 'node') throw new Error('codegen: a structural op on a constant should have folded')
    return this.nodes[ref.index]!.shape
  }

  private pad(k: number, ix: Ix): string {
    const node = this.nodes[k]!
    const x = node.args[0]!
    const inner = this.shapeOf(x)
    const inStrides = Sh.strides(inner)
    const { starts, value } = node.params as { starts: readonly number[]; value?: number }
    const digits = this.digits(ix, node.shape)
    const inside: string[] = []
    const parts: string[] = []
    digits.forEach((d, a) => {
      if (inner[a] === node.shape[a] && starts[a] === 0) {
        if (inner[a]! > 1) parts.push(`${d} * ${inStrides[a]}`)
        return
      }
      this.clampable(k, node.shape[a]!)
      const c = this.index(`${d} - ${starts[a]}`, Math.max(node.shape[a]!, starts[a]!))
      inside.push(`${c} >= 0 && ${c} < ${inner[a]}`)
      const clamped = `Math.min(Math.max(${c}, 0), ${inner[a]! - 1})`
      parts.push(`${this.style.exact ? `(${clamped} | 0)` : clamped} * ${inStrides[a]}`)
    })
    const flat = parts.length === 0 ? '0' : this.index(parts.join(' + '), Sh.size(inner))
    const v = this.value(x, { flat })
    return inside.length === 0 ? v : this.let(`${inside.join(' && ')} ? ${v} : ${literal(value ?? 0)}`)
  }

  /** Clamps (`Math.min`/`Math.max`) compute in float32: with `exact`, an axis they clamp must stay below 2²⁴. */
  private clampable(k: number, length: number): void {
    if (this.style.exact && length > F32_EXACT) {
      throw new CompileError('unsupported-model', `compile: ${this.nodes[k]!.op} (node ${k}) clamps an index along an axis of ${length} elements, over 2^24`)
    }
  }

  private concat(k: number, ix: Ix): string {
    const node = this.nodes[k]!
    const { axis } = node.params as { axis: number }
    const digits = this.digits(ix, node.shape)
    this.clampable(k, node.shape[axis]!)
    let offset = 0
    const pieces = node.args.map((arg) => {
      const shape = arg.tag === 'node' ? this.nodes[arg.index]!.shape : node.shape.map((d, a) => (a === axis ? 1 : d))
      const strides = Sh.strides(shape)
      const start = offset
      offset += shape[axis]!
      const along = this.index(`Math.min(Math.max(${digits[axis]} - ${start}, 0), ${shape[axis]! - 1})`, shape[axis]!)
      const terms = digits.map((d, a) => (shape[a] === 1 ? '' : `${a === axis ? along : d} * ${strides[a]}`)).filter((t) => t !== '')
      const flat = terms.length === 0 ? '0' : this.index(terms.join(' + '), Sh.size(shape))
      return { end: offset, value: this.value(arg, { flat }) }
    })
    let result = pieces[pieces.length - 1]!.value
    for (let p = pieces.length - 2; p >= 0; p--) result = `${digits[axis]} < ${pieces[p]!.end} ? ${pieces[p]!.value} : (${result})`
    return this.let(result)
  }

  private product(k: number, ix: Ix): string {
    const node = this.nodes[k]!
    const [a, b] = node.args as [Ref, Ref]
    const { transposeA, transposeB } = node.params as MatMulParams
    const batched = node.op === 'batchMatmul'
    const aShape = this.shapeOf(a)
    const [m, n] = batched ? [node.shape[1]!, node.shape[2]!] : [node.shape[0]!, node.shape[1]!]
    const kk = batched ? (transposeA ? aShape[1]! : aShape[2]!) : transposeA ? aShape[0]! : aShape[1]!
    const exact = this.style.exact
    const rows = Sh.size(node.shape) / n
    let row: string
    let col: string
    if (ix.row !== undefined && ix.col !== undefined && ix.width === n) {
      row = ix.row
      col = ix.col
    } else {
      row = exact ? this.quotient(ix.flat, n, Sh.size(node.shape)) : this.let(`Math.floor(${ix.flat} / ${n})`, 'i')
      col = this.index(`${ix.flat} - ${row} * ${n}`, n)
    }
    // a batched product's rows run over (batch, row): split them
    let i = row
    let aBase = ''
    let bBase = ''
    if (batched) {
      const z = exact ? this.quotient(row, m, rows) : this.let(`Math.floor(${row} / ${m})`, 'i')
      i = this.index(`${row} - ${z} * ${m}`, m)
      aBase = `${z} * ${m * kk} + `
      bBase = `${z} * ${kk * n} + `
    }
    // running positions in A and B, advanced by their strides along the inner dimension (fewer
    // index products per element on webasm); four independent accumulators, then the remainder:
    // faster, and the float32 bound k·u·(|A|·|B|) holds in any summation order
    const aStride = transposeA ? m : 1
    const bStride = transposeB ? 1 : n
    const aStart = transposeA ? `${aBase}${i}` : `${aBase}${i} * ${kk}`
    const bStart = transposeB ? `${bBase}${col} * ${kk}` : `${bBase}${col}`
    const sizeOf = (ref: Ref): number => (ref.tag === 'node' ? Sh.size(this.nodes[ref.index]!.shape) : ref.tag === 'array' ? ref.data.length : 1)
    const quads = Math.floor(kk / 4)
    this.trips += quads + (kk % 4)
    // running positions are float32 variables: exact while they stay below 2²⁴; past that (exact
    // indices only) each read is start + counter · stride, in i32
    if (exact && Math.max(sizeOf(a) + 4 * aStride, sizeOf(b) + 4 * bStride) > F32_EXACT) {
      const s = [0, 1, 2, 3].map(() => this.mutable('0.0', 's'))
      const aAt = this.index(aStart, sizeOf(a))
      const bAt = this.index(bStart, sizeOf(b))
      const at = (start: string, counter: string, step: number, q: number): string => `${start} + (${counter} | 0) * ${step}${q === 0 ? '' : ` + ${q}`}`
      if (quads > 0) {
        const p = `p${this.counter++}`
        this.line(`for (let ${p} = 0; ${p} < ${quads}; ${p}++) {`)
        for (let q = 0; q < 4; q++) this.line(`  ${s[q]} += ${this.element(a, at(aAt, p, 4 * aStride, q * aStride))} * ${this.element(b, at(bAt, p, 4 * bStride, q * bStride))};`)
        this.line('}')
      }
      if (kk % 4 > 0) {
        const p = `p${this.counter++}`
        const done = (start: string, stride: number): string => (quads === 0 ? start : `${start} + ${quads * 4 * stride}`)
        this.line(`for (let ${p} = 0; ${p} < ${kk % 4}; ${p}++) {`)
        this.line(`  ${s[0]} += ${this.element(a, at(done(aAt, aStride), p, aStride, 0))} * ${this.element(b, at(done(bAt, bStride), p, bStride, 0))};`)
        this.line('}')
      }
      return this.let(`(${s[0]} + ${s[1]}) + (${s[2]} + ${s[3]})`)
    }
    const ia = this.mutable(aStart, 'ia')
    const ib = this.mutable(bStart, 'ib')
    const s = [0, 1, 2, 3].map(() => this.mutable('0.0', 's'))
    const pointer = (v: string): string => (exact ? `(${v} | 0)` : v)
    const at = (v: string, q: number, stride: number): string => (q === 0 ? pointer(v) : `${pointer(v)} + ${q * stride}`)
    if (quads > 0) {
      const p = `p${this.counter++}`
      this.line(`for (let ${p} = 0; ${p} < ${quads}; ${p}++) {`)
      for (let q = 0; q < 4; q++) this.line(`  ${s[q]} += ${this.element(a, at(ia, q, aStride))} * ${this.element(b, at(ib, q, bStride))};`)
      this.line(`  ${ia} += ${4 * aStride};`)
      this.line(`  ${ib} += ${4 * bStride};`)
      this.line('}')
    }
    if (kk % 4 > 0) {
      const p = `p${this.counter++}`
      this.line(`for (let ${p} = 0; ${p} < ${kk % 4}; ${p}++) {`)
      this.line(`  ${s[0]} += ${this.element(a, pointer(ia))} * ${this.element(b, pointer(ib))};`)
      this.line(`  ${ia} += ${aStride};`)
      this.line(`  ${ib} += ${bStride};`)
      this.line('}')
    }
    return this.let(`(${s[0]} + ${s[1]}) + (${s[2]} + ${s[3]})`)
  }

  private reduction(k: number, ix: Ix): string {
    const node = this.nodes[k]!
    const x = node.args[0]!
    const inner = this.shapeOf(x)
    const { axes } = node.params as ReduceParams
    const inStrides = Sh.strides(inner)
    const kept = inner.map((d, a) => (axes.includes(a) ? 1 : d))
    const base = this.linear(ix, kept, kept.map((_, a) => inStrides[a]!), 0)
    const total = Sh.size(inner)
    // a loop counter is a float on webasm: with exact indices it enters an index as (r | 0)
    const times = (counter: string, stride: number): string => (this.style.exact ? `(${counter} | 0) * ${stride}` : `${counter} * ${stride}`)
    // each maximal run of adjacent reduced axes is one loop with one stride
    const loops: { size: number; stride: number }[] = []
    inner.forEach((d, a) => {
      if (!axes.includes(a) || d === 1) return
      const last = loops[loops.length - 1]
      if (last !== undefined && axes.includes(a - 1) && inner[a - 1] !== 1) {
        last.size *= d
        last.stride = inStrides[a]!
      } else loops.push({ size: d, stride: inStrides[a]! })
    })
    const count = loops.reduce((acc, l) => acc * l.size, 1)
    const overElements = (body: (v: string) => void): void => {
      const outer = loops.slice(0, -1)
      const inner = loops[loops.length - 1]
      const vars = outer.map((l) => {
        const r = `r${this.counter++}`
        this.line(`for (let ${r} = 0; ${r} < ${l.size}; ${r}++) {`)
        return times(r, l.stride)
      })
      // every trip of every loop counts: s₁ + s₁·s₂ + … for the outer loops, then the inner one's within them
      let reached = 1
      for (const l of outer) {
        reached *= l.size
        this.trips += reached
      }
      if (inner === undefined) body(this.value(x, { flat: vars.length === 0 ? base : this.index([base, ...vars].join(' + '), total) }))
      else {
        // the innermost loop takes `by` elements per trip, in the same order (the same sum)
        const by = Math.min(this.unroll, inner.size)
        const whole = Math.floor(inner.size / by)
        const rest = inner.size % by
        this.trips += reached * (whole + rest)
        const element = (offset: string): void => body(this.value(x, { flat: this.index([base, ...vars, offset].join(' + '), total) }))
        const r = `r${this.counter++}`
        this.line(`for (let ${r} = 0; ${r} < ${whole}; ${r}++) {`)
        for (let q = 0; q < by; q++) element(q === 0 ? times(r, by * inner.stride) : `${times(r, by * inner.stride)} + ${q * inner.stride}`)
        this.line('}')
        if (rest > 0) {
          const t = `r${this.counter++}`
          this.line(`for (let ${t} = 0; ${t} < ${rest}; ${t}++) {`)
          element(`${times(t, inner.stride)} + ${whole * by * inner.stride}`)
          this.line('}')
        }
      }
      outer.forEach(() => this.line('}'))
    }
    const maximum = (better = '>'): string => {
      const m = this.mutable('0.0', 'm')
      const first = this.mutable('1', 'f')
      overElements((v) => {
        const held = this.let(v)
        // NaN propagates, as in the cpu reference
        this.line(`if (${first} == 1 || ${held} ${better} ${m} || ${held} != ${held}) { ${m} = ${held}; }`)
        this.line(`${first} = 0;`)
      })
      return m
    }
    switch (node.op) {
      case 'sum':
      case 'mean': {
        const s = this.mutable('0.0', 's')
        overElements((v) => this.line(`${s} += ${v};`))
        return node.op === 'mean' ? this.let(`${s} / ${literal(count)}`) : s
      }
      case 'max':
        return maximum()
      case 'min':
        return maximum('<')
      default: {
        // logsumexp: shift by the (finite) maximum, then log Σ e^(x − m) + m
        const m = maximum()
        const shift = this.let(`Math.abs(${m}) <= ${MAX_F32} ? ${m} : 0.0`)
        const s = this.mutable('0.0', 's')
        overElements((v) => this.line(`${s} += Math.exp(${v} - ${shift});`))
        return this.let(`Math.log(${s}) + ${shift}`)
      }
    }
  }
}

/** GPU.js output dims of a value of `shape`: a 2-D grid `[last, rest]` from rank 2 on. */
const outputOf = (shape: Shape): number[] => {
  const size = Math.max(1, Sh.size(shape))
  if (shape.length < 2) return [size]
  const last = shape[shape.length - 1]!
  return [last, size / last]
}

/**
 * The kernels computing `roots` from a program's inputs: dead nodes are dropped, and nodes
 * are inlined into their consumers where the module's rules allow.
 */
export const lower = (nodes: readonly Node[], roots: readonly Ref[], options: LowerOptions = {}): KernelPlan => {
  const first = nodes.findIndex((n) => unlowered.has(n.op))
  if (first >= 0) throw noKernel(nodes[first]!.op, first)
  const decisions = decide(nodes, roots)
  const bufferOf = (k: number): number => {
    let cur = k
    while (decisions[cur] === 'alias') {
      const source = nodes[cur]!.args[0]!
      if (source.tag !== 'node') break
      cur = source.index
    }
    return cur
  }
  const exact = options.exact === true
  const style: IndexStyle = {
    exact,
    exactDivision: exact && options.exactDivision === true,
    // the hyper stack holds every index 0 … hyperCount − 1 of every leaf's update
    hyperCount: options.hyperCount ?? 1 + nodes.reduce((m, n) => (n.op === 'input' && n.role.kind === 'hyper' ? Math.max(m, n.role.index) : m), -1)
  }
  const kernels: KernelSpec[] = []
  nodes.forEach((node, k) => {
    if (decisions[k] !== 'kernel') return
    const w = new KernelSource(nodes, decisions, bufferOf, Math.max(1, options.unroll ?? 1), style)
    const output = outputOf(node.shape)
    let ix: Ix
    if (exact) {
      // the thread ids are integers in GPU.js; a variable would be a float32
      ix = output.length === 2 ? { flat: `(this.thread.y * ${output[0]} + this.thread.x)`, row: 'this.thread.y', col: 'this.thread.x', width: output[0]! } : { flat: 'this.thread.x' }
    } else if (output.length === 2) {
      w.line('const col = this.thread.x;')
      w.line('const row = this.thread.y;')
      w.line(`const t = row * ${output[0]} + col;`)
      ix = { flat: 't', row: 'row', col: 'col', width: output[0]! }
    } else {
      w.line('const t = this.thread.x;')
      ix = { flat: 't' }
    }
    const result = w.op(k, ix)
    kernels.push({ node: k, source: w.source(result), output, size: Math.max(1, Sh.size(node.shape)), args: w.args, trips: w.trips })
  })
  return { kernels, bufferOf }
}
