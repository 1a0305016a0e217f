/**
 * One training step as a program: the model's forward pass and the loss, staged; the backward
 * sweep over them, staged; the two stagings resolved into nodes; and the optimizer's update
 * appended. Inputs are the parameter leaves, the optimizer's slots, this step's minibatch and
 * labels, and this step's optimizer scalars; outputs are the new parameters, the new slots and
 * the loss.
 *
 * @module
 */
import type { Layer, OutSpec } from '../nn/layer.js'
import type { Optimizer } from '../nn/optim.js'
import { bindLabelTensor } from '../nn/label-tensor.js'
import type { Loss } from '../nn/train.js'
import * as Random from '../random.js'
import * as Sh from '../shape.js'
import type { Shape } from '../shape.js'
import { Tensor, fromBuffer } from '../tensor.js'
import * as Tr from '../tree.js'
import { gradients } from './backward.js'
import { CompileError, asCompileError } from './error.js'
import { Builder, scalar } from './graph.js'
import type { Node, Ref } from './graph.js'
import { resolve } from './resolve.js'
import type { Staging } from './resolve.js'
import { StagingTrace } from './stage.js'
import { updateRule } from './update.js'
import type { UpdateRule } from './update.js'

/** The shapes a step is compiled for. */
export interface StepShapes {
  readonly batch: number
  /** Per-example input shape. */
  readonly inputShape: Shape
  /** Labels are class indices below this. */
  readonly classes: number
}

/** A compiled training step before lowering. */
export interface StepProgram {
  readonly nodes: readonly Node[]
  readonly loss: Ref
  readonly params: readonly Ref[]
  /** `slots[s][leaf]`: the new value of slot `s` of each leaf. */
  readonly slots: readonly (readonly Ref[])[]
  /** Shape of each parameter leaf, in tree order. */
  readonly leafShapes: readonly Shape[]
  readonly update: UpdateRule
  /** How many operations the staged forward and backward passes recorded. */
  readonly staged: number
}

const stageOnce = <P, S>(model: Layer<Shape, OutSpec, P, S>, loss: Loss, shapes: StepShapes, seed: number): Staging => {
  const [paramsKey, inputKey, dropoutKey] = Random.split(Random.key(seed), 3)
  const params = model.init(paramsKey!, 'f32')
  const flat = Tr.flatten(params, 'compile')
  const trace = new StagingTrace()
  const leaves = flat.leaves.map((p, leaf) => trace.input({ kind: 'param', leaf }, p))
  const x = trace.input({ kind: 'x' }, Random.normal(inputKey!, [shapes.batch, ...shapes.inputShape], { dtype: 'f32' }))
  // the same draws in both stagings, shifted by one class in the second: no label is the same in both,
  // so no constant computed from them can look like a true constant
  const draws = Random.uniform(Random.key(7), [shapes.batch]).data
  const labels = Int32Array.from({ length: shapes.batch }, (_, i) => (Math.floor(draws[i]! * shapes.classes) + seed) % shapes.classes)
  // the labels are an input of the step, like the examples: the loss gets them as numbers bound to
  // that input, and the built-in losses compute their masks and targets from it with primitives
  const labelsInput = trace.input({ kind: 'labels' }, fromBuffer(Float32Array.from(labels), [shapes.batch], { dtype: 'f32' }))
  const out = model.forward(flat.rebuild(leaves), x, { training: true, key: dropoutKey!, state: model.initState() })
  const value = loss(out.y, bindLabelTensor(labels, labelsInput))
  if (!(value instanceof Tensor) || value.rank !== 0) {
    throw new CompileError('unsupported-model', `compile: the loss must be a scalar tensor, got ${value instanceof Tensor ? `shape ${Sh.show(value.shape)}` : typeof value}`)
  }
  const grads = gradients(trace, value, leaves)
  return { nodes: trace.nodes, loss: trace.indexOf(value)!, grads: grads.map((g) => (g === undefined ? undefined : trace.indexOf(g))) }
}

/**
 * Stages the step twice (on different example parameters, inputs, labels and keys), resolves
 * the two into one program and appends the optimizer's update. Throws a {@link CompileError}.
 */
export const stepProgram = <P, S, O>(model: Layer<Shape, OutSpec, P, S>, loss: Loss, optimizer: Optimizer<O>, shapes: StepShapes): StepProgram => {
  const update = updateRule(optimizer as Optimizer<unknown>)
  const state = Tr.flatten(model.initState(), 'compile')
  if (state.leaves.length > 0) {
    throw new CompileError('unsupported-model', `compile: the model (${model.kind}) has layer state (${state.leaves.length} tensors, e.g. batch-norm statistics), which the compiled step does not thread`)
  }
  let a: Staging
  let b: Staging
  try {
    a = stageOnce(model, loss, shapes, 0)
    b = stageOnce(model, loss, shapes, 1)
  } catch (e) {
    throw asCompileError(e, 'unsupported-model', 'compile: staging the training step failed')
  }
  const g = new Builder()
  const { loss: lossRef, grads } = resolve(a, b, g)
  const leafShapes = Tr.flatten(model.init(Random.key(0), 'f32'), 'compile').leaves.map((l) => l.shape)
  const decays = update.kind === 'adam' ? optimizerDecays(optimizer, model) : leafShapes.map(() => false)
  const paramInputs = leafShapes.map((shape, leaf) => {
    const found = g.nodes.findIndex((n) => n.op === 'input' && n.role.kind === 'param' && n.role.leaf === leaf)
    return found >= 0 ? ({ tag: 'node', index: found } as Ref) : g.input({ kind: 'param', leaf }, shape)
  })
  const newParams: Ref[] = []
  const newSlots: Ref[][] = update.slots.map(() => [])
  leafShapes.forEach((shape, leaf) => {
    const slots = update.slots.map((_, slot) => g.input({ kind: 'slot', slot, leaf }, shape))
    const hyper = Array.from({ length: update.hyperCount }, (_, index) => g.input({ kind: 'hyper', index }, shape))
    const grad = grads[leaf] ?? scalar(0)
    const out = update.emit(g, { shape, param: paramInputs[leaf]!, grad, slots, hyper: (i) => hyper[i]!, decays: decays[leaf]! })
    newParams.push(out.param)
    out.slots.forEach((s, j) => newSlots[j]!.push(s))
  })
  return { nodes: g.nodes, loss: lossRef, params: newParams, slots: newSlots, leafShapes, update, staged: a.nodes.filter((n) => n.op !== 'input').length }
}

const optimizerDecays = <O, P, S>(optimizer: Optimizer<O>, model: Layer<Shape, OutSpec, P, S>): readonly boolean[] => {
  const d = optimizer.description
  return d !== undefined && d.kind === 'adam' ? d.decays(model.init(Random.key(0), 'f32')) : []
}
