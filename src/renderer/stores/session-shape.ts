// What the form describes before the host builds it: the data's task, the losses that fit it
// (with the reason the others do not), the network's shape, parameter count and one-line
// architecture (blocks included), and the lr curve of the schedule. Pure functions of the form, hello and the data preview; the rules themselves
// (loss fit, output width, class counts) are the host's, from shared/model-rules.ts.
import type { RequestResult } from '../../shared/protocol'
import {
  LOSS_NAMES,
  LOSS_RULES,
  describeModel,
  generatorClassCount,
  lossFits,
  modelParamCount,
  outputWidth,
  resolveLoss,
  type ModelDescription,
} from '../../shared/model-rules'
import { blocksOf } from '../../shared/model-blocks'
import { scheduledLr, type Schedule } from '../../engine/optim/schedule'
import { buildSpec, type LossName, type SessionForm, type Task } from './session-form'

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
    if (name === 'auto')
      return { name, label: task === null ? 'auto' : `auto (${LOSS_RULES[resolveLoss('auto', task)].label})`, disabled: null }
    const { label, tasks } = LOSS_RULES[name]
    return {
      name,
      label,
      disabled: task === null || lossFits(name, task) ? null : `needs a ${tasks.join(' or ')} dataset; this one is ${task}`,
    }
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
  const sizes = [inputs, ...form.hidden, outputs]
  return { inputs, hidden: [...form.hidden], outputs, paramCount: modelParamCount(sizes, blocksOf(form.hidden.length, form.blocks)) }
}

/**
 * The model the form describes, said as the host will say it once built (shared describeModel):
 * "2 → 16 BN tanh → 16 tanh +skip → 2 (softmax CE) · 386 parameters · Adam". Null while the
 * shape or the task is unknown, or a width is not one (its field says why).
 */
export function formDescription(form: SessionForm, hello: Hello | null, preview: Preview | null): ModelDescription | null {
  const shape = networkShape(form, hello, preview)
  const task = formTask(form, hello, preview)
  if (!shape || !task || !shape.hidden.every((w) => Number.isInteger(w) && w > 0)) return null
  return describeModel({
    sizes: [shape.inputs, ...shape.hidden, shape.outputs],
    hiddenActivations: buildSpec(form).model.activations ?? [],
    loss: resolveLoss(form.loss, task),
    auto: form.loss === 'auto',
    task,
    optimizer: form.optimizer.type,
    blocks: blocksOf(form.hidden.length, form.blocks),
  })
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
