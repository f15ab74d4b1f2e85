// The training form as the user edits it, and how it becomes a protocol SessionSpec. Pure
// functions, so the rules (what needs a new session, what changes live, what is wrong and where)
// are testable alone. What the form's network will be is in session-shape.ts.
import type { RequestPayload } from '../../shared/protocol'
import type {
  ACTIVATION_NAMES,
  BACKEND_CHOICES,
  BUNDLED_DATASETS,
  FEATURE_NAMES,
  GENERATOR_NAMES,
  INIT_NAMES,
  LOSS_NAMES,
} from '../../shared/protocol'
import { takesClasses, type Task } from '../../shared/model-rules'
import { blocksOf, type BlockOptions } from '../../shared/model-blocks'
import { specBlocks } from './session-blocks'

export type OptimizerType = 'sgd' | 'adam' | 'adamw' | 'rmsprop'
export const OPTIMIZER_TYPES: readonly OptimizerType[] = ['sgd', 'adam', 'adamw', 'rmsprop']
export type DataSource = 'generator' | 'bundled' | 'csv' | 'idx'
export const DATA_SOURCES: readonly DataSource[] = ['generator', 'bundled', 'csv', 'idx']
export type Activation = (typeof ACTIVATION_NAMES)[number]
export type FeatureName = (typeof FEATURE_NAMES)[number]
export type LossName = (typeof LOSS_NAMES)[number]
export type { Task } from '../../shared/model-rules'
export type ScheduleType = 'constant' | 'step' | 'cosine'
export const SCHEDULE_TYPES: readonly ScheduleType[] = ['constant', 'step', 'cosine']

export interface SessionForm {
  /** Which of the data variants below the session trains on (the others keep their settings). */
  source: DataSource
  /** The built-in generators (Playground's sets and more), with Playground's input features. */
  data: {
    generator: (typeof GENERATOR_NAMES)[number]
    n: number
    noise: number
    seed: number
    testRatio: number
    /** Class count for blobs/spiral3; null: the generator's default. */
    classes: number | null
    features: FeatureName[]
  }
  bundled: { name: (typeof BUNDLED_DATASETS)[number]; testRatio: number; seed: number; standardize: boolean }
  /** fileId null: nothing uploaded yet. features null: every numeric column but the target. */
  csv: {
    fileId: string | null
    target: string
    features: string[] | null
    task: 'auto' | Task
    standardize: boolean
    /** Regression: train on the target standardised with the training rows' statistics. */
    standardizeTarget: boolean
    testRatio: number
    seed: number
    /** [height, width] when the feature columns are an image's pixels; null: a plain table. */
    imageShape: [number, number] | null
  }
  idx: {
    imagesFileId: string | null
    labelsFileId: string | null
    limit: number
    scale: boolean
    testRatio: number
    seed: number
    /** A second pair (t10k) as the test split; null: testRatio of the training files. */
    testImagesFileId: string | null
    testLabelsFileId: string | null
    /** The user's class names; null: the host's (known names when the files look like Fashion-MNIST, else the labels). */
    classNames: string[] | null
  }
  hidden: number[]
  /** One per hidden layer (kept the same length as `hidden`). */
  activations: Activation[]
  /** Norm, dropout and residual per hidden layer (kept aligned with `hidden`; sent only when not all plain). */
  blocks: BlockOptions[]
  init: (typeof INIT_NAMES)[number]
  loss: LossName
  optimizer: {
    type: OptimizerType
    lr: number
    momentum: number
    nesterov: boolean
    beta1: number
    beta2: number
    eps: number
    alpha: number
    weightDecay: number
  }
  batchSize: number
  evalEvery: number
  /** The initialisation/shuffling seed; null: the data's seed. */
  trainSeed: number | null
  schedule: { type: ScheduleType; warmupSteps: number; stepSize: number; gamma: number; periodSteps: number; minLr: number }
  l1: number
  l2: number
  l2Auto: boolean // L2 follows the data (l2-default.ts: 0.01 for regression, else 0) until the user sets it
  /** null: no clipping. */
  clipNorm: number | null
  stop: {
    maxEpochs: number | null
    maxSteps: number | null
    targetLoss: number | null
    earlyStopping: { patience: number; minDelta: number } | null
  }
  /** explodingFactor: a layer's gradient norm this many times its usual one (its own history) is exploding. */
  alarms: { explodingGradNorm: number; explodingFactor: number; vanishingGradNorm: number; pause: boolean }
  /** null: full speed. */
  maxStepsPerSecond: number | null
  backend: (typeof BACKEND_CHOICES)[number]
}

export type CreatePayload = RequestPayload<'session.create'>
export type UpdatePatch = Omit<RequestPayload<'session.update'>, 'sessionId'>

/** Adam's, AdamW's and RMSprop's defaults, as the protocol fills them in. */
const OPTIMIZER_DEFAULTS = { momentum: 0, nesterov: false, beta1: 0.9, beta2: 0.999, eps: 1e-8, alpha: 0.99, weightDecay: 0 }

export function defaultForm(): SessionForm {
  return {
    source: 'generator',
    data: { generator: 'spiral', n: 500, noise: 0.1, seed: 1, testRatio: 0.3, classes: null, features: ['x1', 'x2'] },
    bundled: { name: 'iris', testRatio: 0.3, seed: 1, standardize: true },
    csv: {
      fileId: null,
      target: '',
      features: null,
      task: 'auto',
      standardize: true,
      standardizeTarget: true,
      testRatio: 0.3,
      seed: 1,
      imageShape: null,
    },
    idx: {
      imagesFileId: null,
      labelsFileId: null,
      limit: 10_000,
      scale: true,
      testRatio: 0.2,
      seed: 1,
      testImagesFileId: null,
      testLabelsFileId: null,
      classNames: null,
    },
    hidden: [8, 8],
    activations: ['tanh', 'tanh'],
    blocks: blocksOf(2),
    init: 'xavier-uniform',
    loss: 'auto',
    optimizer: { type: 'adam', lr: 0.01, ...OPTIMIZER_DEFAULTS },
    batchSize: 32,
    evalEvery: 50,
    trainSeed: null,
    schedule: { type: 'constant', warmupSteps: 0, stepSize: 1000, gamma: 0.5, periodSteps: 5000, minLr: 0 },
    l1: 0,
    l2: 0,
    l2Auto: true,
    clipNorm: null,
    stop: { maxEpochs: null, maxSteps: null, targetLoss: null, earlyStopping: null },
    alarms: { explodingGradNorm: 1e3, explodingFactor: 100, vanishingGradNorm: 1e-7, pause: true },
    maxStepsPerSecond: null,
    backend: 'auto',
  }
}

/** The data spec of the form's current source (a missing upload gives an empty file id). */
export function buildData(form: SessionForm): CreatePayload['data'] {
  switch (form.source) {
    case 'generator': {
      const { classes, features, ...rest } = form.data
      return { ...rest, ...(takesClasses(rest.generator) && classes !== null ? { classes } : {}), features: [...features] }
    }
    case 'bundled':
      return { source: 'bundled', ...form.bundled }
    case 'csv': {
      const { fileId, features, imageShape, ...rest } = form.csv
      return {
        source: 'csv',
        fileId: fileId ?? '',
        ...rest,
        ...(features ? { features: [...features] } : {}),
        ...(imageShape ? { imageShape: [imageShape[0], imageShape[1]] as [number, number] } : {}),
      }
    }
    case 'idx': {
      const { imagesFileId, labelsFileId, testImagesFileId, testLabelsFileId, classNames, ...rest } = form.idx
      return {
        source: 'idx',
        imagesFileId: imagesFileId ?? '',
        labelsFileId: labelsFileId ?? '',
        ...rest,
        ...(testImagesFileId && testLabelsFileId ? { testImagesFileId, testLabelsFileId } : {}),
        ...(classNames ? { classNames: [...classNames] } : {}),
      }
    }
  }
}

/** The seed of the form's current data source (the training seed defaults to it). */
export function dataSeed(form: SessionForm): number {
  return form.source === 'generator' ? form.data.seed : form[form.source].seed
}

function buildOptimizer(o: SessionForm['optimizer']): CreatePayload['optimizer'] {
  switch (o.type) {
    case 'sgd':
      return { type: 'sgd', lr: o.lr, momentum: o.momentum, nesterov: o.nesterov, weightDecay: o.weightDecay }
    case 'adam':
    case 'adamw':
      return { type: o.type, lr: o.lr, beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: o.weightDecay }
    case 'rmsprop':
      return { type: 'rmsprop', lr: o.lr, alpha: o.alpha, eps: o.eps, momentum: o.momentum, weightDecay: o.weightDecay }
  }
}

function buildSchedule(s: SessionForm['schedule']): NonNullable<UpdatePatch['schedule']> {
  switch (s.type) {
    case 'constant':
      return { type: 'constant', warmupSteps: s.warmupSteps }
    case 'step':
      return { type: 'step', stepSize: s.stepSize, gamma: s.gamma, warmupSteps: s.warmupSteps }
    case 'cosine':
      return { type: 'cosine', periodSteps: s.periodSteps, minLr: s.minLr, warmupSteps: s.warmupSteps }
  }
}

/** What `session.update` may change without a reset, as the form has it now. */
export function liveSettings(form: SessionForm): Required<UpdatePatch> {
  const { type: _type, ...optimizer } = buildOptimizer(form.optimizer)
  return {
    optimizer,
    batchSize: form.batchSize,
    evalEvery: form.evalEvery,
    schedule: buildSchedule(form.schedule),
    l1: form.l1,
    l2: form.l2,
    clipNorm: form.clipNorm,
    stop: { ...form.stop, earlyStopping: form.stop.earlyStopping && { ...form.stop.earlyStopping } },
    alarms: { ...form.alarms },
    maxStepsPerSecond: form.maxStepsPerSecond,
  }
}

/**
 * The part of `next` that differs from `applied` (both from liveSettings), for session.update;
 * null when nothing changed. The optimiser's hyperparameters are compared one by one.
 */
export function livePatch(applied: Required<UpdatePatch>, next: Required<UpdatePatch>): UpdatePatch | null {
  const patch: Record<string, unknown> = {}
  const opt: Record<string, unknown> = {}
  const a = applied.optimizer as Record<string, unknown>
  for (const [k, v] of Object.entries(next.optimizer)) if (a[k] !== v) opt[k] = v
  if (Object.keys(opt).length) patch['optimizer'] = opt
  for (const key of Object.keys(next) as (keyof UpdatePatch)[]) {
    if (key !== 'optimizer' && JSON.stringify(applied[key]) !== JSON.stringify(next[key])) patch[key] = next[key]
  }
  return Object.keys(patch).length ? (patch as UpdatePatch) : null
}

export function buildSpec(form: SessionForm): CreatePayload {
  const live = liveSettings(form)
  const activations = form.hidden.map((_, i) => form.activations[i] ?? form.activations.at(-1) ?? 'tanh')
  return {
    model: {
      hidden: [...form.hidden],
      activation: activations[0] ?? 'tanh',
      activations,
      init: form.init,
      loss: form.loss,
      ...specBlocks(form.hidden.length, form.blocks),
    },
    data: buildData(form),
    optimizer: buildOptimizer(form.optimizer),
    train: {
      batchSize: live.batchSize,
      evalEvery: live.evalEvery,
      seed: form.trainSeed ?? dataSeed(form),
      schedule: live.schedule,
      l1: live.l1,
      l2: live.l2,
      clipNorm: live.clipNorm,
      stop: live.stop,
      alarms: live.alarms,
      maxStepsPerSecond: live.maxStepsPerSecond,
    },
    backend: form.backend,
  }
}

/** Everything that needs a new session when it changes (what liveSettings has changes live). */
export function structuralKey(form: SessionForm): string {
  const spec = buildSpec(form)
  return JSON.stringify({
    model: spec.model,
    data: spec.data,
    optimizer: spec.optimizer.type,
    seed: spec.train?.seed,
    backend: spec.backend,
  })
}
