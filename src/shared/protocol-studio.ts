// Protocol messages for the training studio's live inspection beyond the metrics stream:
// per-layer weight/gradient histograms, the decision boundary over 2-D inputs, predicted vs actual
// for regression, alarms (exploding/vanishing gradients, the first NaN/Inf), and the model's
// one-line description (session.describe; its text comes from shared/model-rules.ts).
import { z } from 'zod'
import { LOSSES } from './model-rules'
import { TASKS } from './protocol-data'

const sessionId = z.string().regex(/^s[0-9]{1,9}$/, 'is not a session id')
const num = z.number()
const finite = z.number().refine(Number.isFinite, 'must be a finite number')

/**
 * Honest binning: `bins` equal-width bins over [lo, hi]; values outside are counted in
 * underflow/overflow, never folded into the edge bins. A tensor whose values are all equal (a
 * single element, a zeros init) gets a small range around that value.
 */
export const Histogram = z.strictObject({
  lo: num,
  hi: num,
  counts: z.array(z.number().int()),
  underflow: z.number().int(),
  overflow: z.number().int(),
  /** Elements counted (including under/overflow); non-finite ones are counted in nonFinite only. */
  count: z.number().int(),
  nonFinite: z.number().int(),
  min: num,
  max: num,
  mean: num,
  std: num,
  /** Present when the counts and statistics are of an evenly spaced sample: the tensor's size. */
  sampledFrom: z.number().int().optional(),
})

export const HistogramRange = z.union([
  z.literal('auto'),
  z.strictObject({ lo: finite, hi: finite }).refine((r) => r.lo < r.hi, 'lo must be below hi'),
])

export const LayerHistograms = z.strictObject({
  name: z.string(),
  weights: Histogram,
  /** null before the first backward pass. */
  grads: Histogram.nullable(),
  biases: Histogram,
})

export const DecisionBoundary = z.strictObject({
  step: z.number().int(),
  resolution: z.number().int(),
  /** Ranges of the two raw input columns covered (the data's extent plus a margin). */
  xRange: z.tuple([num, num]),
  yRange: z.tuple([num, num]),
  /**
   * resolution² cells, row-major from (xMin, yMax) at the top left. binary: P(class 1);
   * multiclass: the winning class index; regression: the predicted value.
   */
  values: z.array(num),
  /** multiclass: the winning class's softmax probability per cell (for shading); else empty. */
  confidence: z.array(num),
  kind: z.enum(['probability', 'class', 'value']),
  /** Range of `values` (for the colour scale of regression). */
  min: num,
  max: num,
})

export const Predictions = z.strictObject({
  step: z.number().int(),
  split: z.enum(['train', 'test']),
  /** Regression: targets and predictions. Classification: class indices. */
  actual: z.array(num),
  predicted: z.array(num),
  /** Classification: confusion[actual][predicted] counts over the whole split; else null. */
  confusion: z.array(z.array(z.number().int())).nullable(),
})

const size = z.number().int().min(0)

/** What session.describe answers: the model as built, in one line and layer by layer. */
export const ModelDescription = z.strictObject({
  /** "2 → 16 tanh → 16 tanh → 2 (softmax CE) · 354 parameters · Adam" */
  summary: z.string(),
  /** Inputs, each hidden layer's width and activation, the outputs and the loss. */
  architecture: z.string(),
  /** Weights are [in, out], biases [out], as the engine stores them. */
  layers: z.array(
    z.strictObject({ name: z.string(), activation: z.string(), weightShape: z.array(size), biasShape: z.array(size), params: size }),
  ),
  paramCount: size,
  /** The loss trained with, whether 'auto' picked it, and why it fits the task. */
  loss: z.strictObject({ name: z.enum(LOSSES), label: z.string(), auto: z.boolean(), task: z.enum(TASKS), why: z.string() }),
  optimizer: z.string(),
})

export const ALARM_KINDS = ['nan', 'inf', 'exploding', 'vanishing'] as const

export const TrainAlarm = z.strictObject({
  sessionId,
  /** The step at which it was detected (1-based; the step whose update was refused for nan/inf). */
  step: z.number().int(),
  kind: z.enum(ALARM_KINDS),
  /** The layer where it first appeared ('layers.2'), or null when it is not one layer's. */
  layer: z.string().nullable(),
  /** The parameter (e.g. 'layers.2.weight') where that is known. */
  parameter: z.string().nullable(),
  message: z.string(),
  /** Whether training was paused because of it. */
  paused: z.boolean(),
})

export const STUDIO_REQUESTS = {
  'session.histograms': {
    payload: z.strictObject({
      sessionId,
      bins: z.number().int().min(4).max(200).default(30),
      /** One range for every layer's weights and grads, or 'auto' (per tensor, symmetric, rounded). */
      range: HistogramRange.default('auto'),
    }),
    result: z.strictObject({ step: z.number().int(), layers: z.array(LayerHistograms) }),
  },
  /** Only for datasets whose raw inputs are 2-D (DatasetPreview.planar); else invalid_payload. */
  'session.boundary': {
    payload: z.strictObject({ sessionId, resolution: z.number().int().min(8).max(200).default(64) }),
    result: DecisionBoundary,
  },
  'session.predictions': {
    payload: z.strictObject({
      sessionId,
      split: z.enum(['train', 'test']).default('test'),
      max: z.number().int().min(1).max(5_000).default(1_000),
    }),
    result: Predictions,
  },
  'session.describe': { payload: z.strictObject({ sessionId }), result: ModelDescription },
} as const

export const STUDIO_EVENTS = {
  'train.alarm': TrainAlarm,
} as const
