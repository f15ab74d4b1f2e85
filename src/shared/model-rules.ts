// The model rules both sides of the process boundary apply: which loss fits which task and why,
// what 'auto' picks, how wide the output layer is, how many classes a generator spec makes, and
// an MLP's parameter count. The host enforces them, the renderer previews them; keeping one copy
// here means the form can never promise a network the host then refuses. Pure: no Node, DOM or
// engine imports (engine agreement is checked in model-rules.test.ts).
import { blockLabel, blockParamCount, blocksOf, type BlockOptions } from './model-blocks'
import type { GENERATOR_NAMES, TASKS } from './protocol-data'

export type Task = (typeof TASKS)[number]
export type GeneratorName = (typeof GENERATOR_NAMES)[number]

/** The losses a model can train with (each one an engine loss, see protocol.test.ts). */
export const LOSSES = ['mse', 'huber', 'softmaxCrossEntropy', 'bceWithLogits', 'hinge'] as const
export type LossName = (typeof LOSSES)[number]
/** What a spec may ask for: a loss, or 'auto' (picked by the task, autoLoss). */
export const LOSS_NAMES = ['auto', ...LOSSES] as const
export type LossSetting = (typeof LOSS_NAMES)[number]

export interface LossRule {
  /** For the form's loss menu. */
  label: string
  /** For one-line summaries ("2 → 8 → 2 (softmax CE)"). */
  short: string
  /** The tasks it fits. */
  tasks: readonly Task[]
  /** The data it needs, as errors say it ("needs a binary dataset"). */
  needs: string
  /** Added to the host's refusal: what to use instead. */
  hint?: string
  /** One output per class, or a single output. */
  outputs: 'perClass' | 'one'
  /** Why it fits a task it fits: the model's output and what the loss makes of it. */
  why: string
}

export const LOSS_RULES: Record<LossName, LossRule> = {
  mse: {
    label: 'MSE',
    short: 'MSE',
    tasks: ['regression'],
    needs: 'a regression dataset',
    hint: 'use softmaxCrossEntropy or auto for classes',
    outputs: 'one',
    why: 'a regression target: one output, penalised by its squared distance to the target',
  },
  huber: {
    label: 'Huber (δ = 1)',
    short: 'Huber',
    tasks: ['regression'],
    needs: 'a regression dataset',
    hint: 'use softmaxCrossEntropy or auto for classes',
    outputs: 'one',
    why: 'a regression target: one output, penalised quadratically within 1 of the target and linearly beyond, so outliers pull less than under MSE',
  },
  softmaxCrossEntropy: {
    label: 'softmax cross-entropy',
    short: 'softmax CE',
    tasks: ['binary', 'multiclass'],
    needs: 'a classification dataset',
    outputs: 'perClass',
    why: 'classes: one logit per class, softmax turns them into probabilities and the loss is −log p(true class)',
  },
  bceWithLogits: {
    label: 'binary cross-entropy',
    short: 'BCE',
    tasks: ['binary'],
    needs: 'a binary dataset',
    outputs: 'one',
    why: 'two classes: one logit, sigmoid gives p(class 1) and the loss is its cross-entropy',
  },
  hinge: {
    label: 'hinge',
    short: 'hinge',
    tasks: ['binary'],
    needs: 'a binary dataset',
    outputs: 'one',
    why: 'two classes: one score whose sign is the class, penalised until it is on the right side by a margin of 1',
  },
}

/** What 'auto' picks: MSE for regression, softmax cross-entropy for classes. */
export function autoLoss(task: Task): LossName {
  return task === 'regression' ? 'mse' : 'softmaxCrossEntropy'
}

export function resolveLoss(loss: LossSetting, task: Task): LossName {
  return loss === 'auto' ? autoLoss(task) : loss
}

export function lossFits(loss: LossName, task: Task): boolean {
  return LOSS_RULES[loss].tasks.includes(task)
}

/** Null when `loss` fits `task`; else what it needs, with the hint ("needs a regression dataset (use …)"). */
export function lossMismatch(loss: LossName, task: Task): string | null {
  const rule = LOSS_RULES[loss]
  return lossFits(loss, task) ? null : `needs ${rule.needs}${rule.hint ? ` (${rule.hint})` : ''}`
}

/** The output layer's width: one logit per class for softmax cross-entropy, else one. */
export function outputWidth(loss: LossName, nClasses: number): number {
  return LOSS_RULES[loss].outputs === 'perClass' ? nClasses : 1
}

/** The generators that take a class count, with its default and allowed range (inclusive). */
export const GENERATOR_CLASSES: Partial<Record<GeneratorName, { default: number; min: number; max: number }>> = {
  spiral3: { default: 3, min: 2, max: 10 },
  blobs: { default: 3, min: 2, max: 10 },
}
/** The widest range any generator takes (the protocol's bound on `classes`). */
export const GENERATOR_CLASS_RANGE = { min: 2, max: 10 } as const

export function takesClasses(generator: string): boolean {
  return Object.hasOwn(GENERATOR_CLASSES, generator)
}

/**
 * How many classes a generator spec makes: its `classes` (or the default) for generators that
 * take one, 2 for the other classifiers, and 1 for regression (one target column).
 */
export function generatorClassCount(generator: string, task: Task, classes?: number | null): number {
  if (task === 'regression') return 1
  const rule = GENERATOR_CLASSES[generator as GeneratorName]
  return rule ? (classes ?? rule.default) : 2
}

/** Weights and biases of an MLP with these layer sizes (input, hidden…, output). */
export function mlpParamCount(sizes: readonly number[]): number {
  let n = 0
  for (let i = 1; i < sizes.length; i++) n += sizes[i - 1]! * sizes[i]! + sizes[i]!
  return n
}

/** Trainable parameters of an MLP with these sizes and per-layer blocks (norms add γ and β). */
export function modelParamCount(sizes: readonly number[], blocks?: readonly BlockOptions[] | null): number {
  return mlpParamCount(sizes) + blockParamCount(sizes, blocksOf(sizes.length - 2, blocks))
}

export const OPTIMIZER_LABELS = { sgd: 'SGD', adam: 'Adam', adamw: 'AdamW', rmsprop: 'RMSprop' } as const
export type OptimizerType = keyof typeof OPTIMIZER_LABELS

/** What a model is made of, as the host knows it once built (session.describe). */
export interface ModelFacts {
  /** Layer sizes: inputs, each hidden width, outputs. */
  sizes: readonly number[]
  /** One per hidden layer (the output layer is linear: the loss reads logits). */
  hiddenActivations: readonly string[]
  loss: LossName
  /** The spec said 'auto' and the task picked the loss. */
  auto: boolean
  task: Task
  optimizer: OptimizerType
  /** Per hidden layer (absent: plain layers). */
  blocks?: readonly BlockOptions[] | null
}

export interface ModelDescription {
  summary: string
  architecture: string
  layers: { name: string; activation: string; weightShape: number[]; biasShape: number[]; params: number }[]
  paramCount: number
  loss: { name: LossName; label: string; auto: boolean; task: Task; why: string }
  optimizer: string
}

/**
 * The model summary the studio shows: "2 → 16 tanh → 16 tanh → 2 (softmax CE) · 354 parameters ·
 * Adam", each layer's shapes (weights are [in, out], as the engine stores them) and why the loss
 * fits. Built from facts so the host (from its live model) and test doubles say it the same way.
 */
export function describeModel(f: ModelFacts): ModelDescription {
  const rule = LOSS_RULES[f.loss]
  const out = f.sizes.length - 1
  const layers = f.sizes.slice(1).map((width, i) => {
    const inputs = f.sizes[i]!
    return {
      name: `layers.${i}`,
      activation: i < out - 1 ? (f.hiddenActivations[i] ?? 'linear') : 'linear',
      weightShape: [inputs, width],
      biasShape: [width],
      params: inputs * width + width,
    }
  })
  const blocks = blocksOf(out, f.blocks)
  const hidden = layers.slice(0, -1).map((l, i) => blockLabel(l.weightShape[1]!, l.activation, blocks[i]!))
  const architecture = [String(f.sizes[0]), ...hidden, `${f.sizes[out]} (${rule.short})`].join(' → ')
  const paramCount = modelParamCount(f.sizes, f.blocks)
  const optimizer = OPTIMIZER_LABELS[f.optimizer]
  const why = `${f.auto ? 'auto picked' : 'chosen:'} ${rule.label} for a ${f.task} task — ${rule.why}`
  return {
    summary: `${architecture} · ${paramCount.toLocaleString('en-US')} parameter${paramCount === 1 ? '' : 's'} · ${optimizer}`,
    architecture,
    layers,
    paramCount,
    loss: { name: f.loss, label: rule.label, auto: f.auto, task: f.task, why },
    optimizer,
  }
}
