/**
 * The inspector's fields on the page: an inspection shown (its label, value, adjoint, loss and
 * trace tables, the same adjoint on the training backend, the field to set a parameter by
 * hand), the focus a keyboard user gets, the gradient check's line, and the hand-typed value
 * read back or refused with a message. main.ts decides when; this module only writes and reads
 * the DOM.
 *
 * @module
 */
import { Backends } from 'lamina-nn'
import type * as B from './backend.js'
import * as F from './form.js'
import * as I from './inspect.js'
import * as P from './panel.js'
import * as T from './trainer.js'

const $ = F.byId
const { exact, showTensor } = P

/** What the inspected value is, in words. */
const described = (target: I.Target, regression: boolean): string => {
  switch (target.kind) {
    case 'weight': return 'a weight'
    case 'bias': return 'a bias'
    case 'input': return 'an input feature, one value per example'
    case 'unit': return 'a hidden unit’s output, one value per example'
    case 'output': return regression ? 'the output, the prediction, one value per example' : 'the output, the logit of blue, one value per example'
  }
}

/** Shows the inspection of `target` in session `s`; `chosen` is the training backend, for the same adjoint computed there. */
export const show = (inspection: I.Inspection, target: I.Target, s: T.Session, chosen: B.Chosen | undefined): void => {
  $('inspector').hidden = false
  $('inspect-label').textContent = `${inspection.label} (${described(target, s.terms.problem === 'regression')}), step ${s.step}`
  $('inspect-value').textContent = showTensor(inspection.value)
  const adjoint = $('adjoint')
  adjoint.textContent = showTensor(inspection.adjoint)
  adjoint.dataset['value'] = inspection.adjoint.size === 1 ? String(inspection.adjoint.data[0]) : ''
  $('inspect-loss').textContent = exact(inspection.loss)
  P.render(inspection.readable, $('trace'), $('trace-legend'))
  const parameter = I.isParameter(target)
  $<HTMLButtonElement>('check-gradient').disabled = !parameter
  const check = $('gradient-check')
  check.textContent = parameter ? '' : 'the check runs on parameters (weights and biases)'
  // a check of other parameters, or of earlier ones, must not be read as this one's
  delete check.dataset['adjoint']
  delete check.dataset['estimate']
  // editing by hand: the field follows training unless it is being typed in
  $('edit').hidden = !parameter
  if (parameter) {
    $('edit-name').textContent = inspection.label
    const field = $<HTMLInputElement>('param-value')
    field.setAttribute('aria-label', `new value of ${inspection.label}`)
    if (document.activeElement !== field) field.value = exact(inspection.value.data[0]!)
  }
  // the same adjoint on the training backend: the gradient a step would apply there
  const backendLabel = $('inspect-backend-label')
  const backendValue = $('adjoint-backend')
  if (parameter && chosen !== undefined && chosen.mode !== 'cpu') {
    const { grads } = Backends.withBackend(chosen.backend, () => T.gradient(s, T.currentBatch(s)))
    backendLabel.textContent = chosen.mode === 'cpu32' ? 'Same, on lamina cpu in float32' : `Same, on GPU.js ${chosen.mode} (float32 kernels)`
    backendValue.textContent = exact(I.parameterValue(T.params64({ params: grads }), target))
  } else {
    backendLabel.textContent = 'Same, on the training backend'
    backendValue.textContent = parameter ? 'training runs on lamina cpu in float64: same as above' : '—'
  }
}

/** From the keyboard, the inspector takes the focus: the value to edit, or its heading. */
export const focus = (target: I.Target): void => {
  if (I.isParameter(target)) {
    const field = $<HTMLInputElement>('param-value')
    field.focus()
    field.select()
  } else $('inspect-title').focus()
}

/** The value typed for `target`, or undefined after saying why it is not a number. */
export const typedValue = (target: I.Parameter): number | undefined => {
  const field = $<HTMLInputElement>('param-value')
  const message = $('edit-message')
  const value = Number(field.value)
  if (field.value.trim() === '' || !Number.isFinite(value)) {
    message.textContent = `${I.label(target)} must be a number, got “${field.value}”`
    message.classList.add('bad')
    return undefined
  }
  return value
}

/** Says that `target` was set to `value`. */
export const showEdited = (target: I.Parameter, value: number): void => {
  const message = $('edit-message')
  message.textContent = `${I.label(target)} set to ${value}`
  message.classList.remove('bad')
}

/** The gradient check's line, with its numbers in data attributes for the tests. */
export const showGradientCheck = (check: I.GradientCheck): void => {
  const out = $('gradient-check')
  out.textContent =
    `adjoint ${exact(check.adjoint)} · finite differences (Ridders) ${exact(check.estimate)} ± ${check.estimateError.toExponential(1)} · ` +
    `relative difference ${check.relativeDifference.toExponential(2)}`
  out.dataset['adjoint'] = String(check.adjoint)
  out.dataset['estimate'] = String(check.estimate)
}
