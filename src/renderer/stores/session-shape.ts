// What the form describes before the host builds it: the data's task, the losses that fit it
// (with the reason the others do not), the network's shape and parameter count, and the lr curve
// of the schedule. Pure functions of the form, hello and the data preview; the rules themselves
// (loss fit, output width, class counts) are the host's, from shared/model-rules.ts.
import type { RequestResult } from '../../shared/protocol'
import { LOSS_NAMES, LOSS_RULES, generatorClassCount, lossFits, mlpParamCount, outputWidth, resolveLoss } from '../../shared/model-rules'
import { scheduledLr, type Schedule } from '../../engine/optim/schedule'
import type { LossName, SessionForm, Task } from './session-form'

type Hello = RequestResult<'host.hello'>
type Preview = RequestResult<'dataset.preview'>

/** The task of the form's data: the preview's when it is of this data, else what hello says. */
export function formTask(form: SessionForm, hello: Hello | null, preview: Preview | null): Task | null {
  if (preview) return preview.task
  if (form.source === 'generator') return hello?.generators.find((g) => g.name === form.data.generator)?.task ?? null
  if (form.source === 'bundled') return hello?.datasets.find((d) => d.name === form.bundled.name)?.task ?? null
  if (form.source === 'csv') return form.csv.task === 'auto' ? null : form.csv.task
  return 'multiclass'
}

export interface LossChoice {
  name: LossName
  label: string
  /** Why it cannot be chosen for this task; null when it can. */
  disabled: string | null
}

/** Every loss, with the reason it does not fit `task` (regression: MSE; binary: CE, BCE, hinge). */
export function lossChoices(task: Task | null): LossChoice[] {
  return LOSS_NAMES.map((name) => {
    if (name === 'auto') return { name, label: task === null ? 'auto' : `auto (${LOSS_RULES[resolveLoss('auto', task)].label})`, disabled: null }
    const { label, tasks } = LOSS_RULES[name]
    return { name, label, disabled: task === null || lossFits(name, task) ? null : `needs a ${tasks.join(' or ')} dataset; this one is ${task}` }
  })
}

export interface NetworkShape {
  inputs: number
  hidden: number[]
  outputs: number
  paramCount: number
}

/**
 * The network the form builds: inputs follow the features (the preview's when it is of this
 * data), outputs the task and loss (softmax: one per class; otherwise one). Null while unknown.
 */
export function networkShape(form: SessionForm, hello: Hello | null, preview: Preview | null): NetworkShape | null {
  let inputs: number | null = null
  let classes: number | null = null
  if (preview) {
    inputs = preview.featureNames.length
    classes = preview.nClasses
  } else if (form.source === 'generator') {
    inputs = form.data.features.length
    const task = formTask(form, hello, null)
    if (task) classes = generatorClassCount(form.data.generator, task, form.data.classes)
  } else if (form.source === 'bundled') {
    const d = hello?.datasets.find((x) => x.name === form.bundled.name)
    if (d) {
      inputs = d.features
      classes = d.classes
    }
  }
  const task = formTask(form, hello, preview)
  if (inputs === null || classes === null || task === null) return null
  const outputs = outputWidth(resolveLoss(form.loss, task), classes)
  return { inputs, hidden: [...form.hidden], outputs, paramCount: mlpParamCount([inputs, ...form.hidden, outputs]) }
}

/** The learning rate for steps 0…n-1 under the form's schedule, by the engine's own rule. */
export function scheduleCurve(form: SessionForm, n: number): number[] {
  const s = form.schedule
  const schedule: Schedule =
    s.type === 'step'
      ? { type: 'step', stepSize: s.stepSize, gamma: s.gamma, warmupSteps: s.warmupSteps }
      : s.type === 'cosine'
        ? { type: 'cosine', periodSteps: s.periodSteps, minLr: s.minLr, warmupSteps: s.warmupSteps }
        : { type: 'constant', warmupSteps: s.warmupSteps }
  try {
    return Array.from({ length: n }, (_, t) => scheduledLr(schedule, form.optimizer.lr, t))
  } catch {
    return [] // settings the form marks as invalid (e.g. a period of 0): nothing to draw
  }
}
