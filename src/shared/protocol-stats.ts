// The sampled per-layer statistics a `train.metrics` batch carries: one row per Linear layer and,
// for a model with norms, one per norm layer (its γ and β). Old runs' metrics logs have no norm
// rows, so that field is optional.
import { z } from 'zod'

export const LayerStats = z.strictObject({
  gradNorm: z.number(),
  meanAbsGrad: z.number(),
  maxAbsGrad: z.number(),
  weightNorm: z.number(),
  /** lr·‖g‖/‖w‖: how big a step is relative to the weights (healthy near 1e-3). */
  updateRatio: z.number(),
  /** relu/leakyRelu layers: fraction of units that are ≤ 0 for every row of the sampled batch; else null. */
  deadFraction: z.number().nullable(),
  /** tanh/sigmoid layers: fraction of unit activations in the flat tails (|tanh| > 0.99, sigmoid < 0.01 or > 0.99); else null. */
  saturatedFraction: z.number().nullable(),
})

/**
 * A norm layer's scale γ and shift β (norms.{layer}.weight / .bias), taken with the Linear layers'
 * statistics. gradNorm, meanAbsGrad, maxAbsGrad, weightNorm and updateRatio cover γ and β together,
 * so a norm row reads like a layer row in the heatmap; gammaGradNorm and betaGradNorm split them.
 *
 * BatchNorm only (null for LayerNorm, which keeps no running statistics, and when the step's
 * running statistics did not move by exactly one batch): how far the batch's statistics are from
 * the running ones that eval mode normalises with. A training step moves the running mean by
 * momentum·(batch mean − running mean), so these are also the running statistics' drift per step,
 * divided by the momentum. Both are 0/1 when the running statistics have caught up with the data;
 * large values mean evaluation normalises differently from training (early in a run, after a
 * learning-rate change, or with a small batch).
 */
export const NormStats = z.strictObject({
  /** The hidden layer whose block holds the norm: its parameters are norms.{layer}.*. */
  layer: z.number().int().min(0),
  kind: z.enum(['batch', 'layer']),
  gradNorm: z.number(),
  meanAbsGrad: z.number(),
  maxAbsGrad: z.number(),
  weightNorm: z.number(),
  updateRatio: z.number(),
  gammaGradNorm: z.number(),
  betaGradNorm: z.number(),
  /** RMS over features of (batch mean − running mean) / √(running var + eps), before the step's update. */
  meanGap: z.number().nullable(),
  /** exp of the RMS over features of |ln((batch var + eps) / (running var + eps))| (unbiased batch variance): 1 = matched, 2 = typically off by ×2. */
  varFactor: z.number().nullable(),
})

/** One sample: the Linear layers' statistics in model order, then the norm layers' in hidden-layer order. */
export const LayerSample = z.strictObject({
  step: z.number().int(),
  stats: z.array(LayerStats),
  norms: z.array(NormStats).optional(),
})

/**
 * A regression model's fit over one split, in the target's own units (a standardised target is
 * mapped back first): R² about the split's mean (null for a constant target), RMSE and MAE.
 */
export const RegressionFit = z.strictObject({ r2: z.number().nullable(), rmse: z.number(), mae: z.number() })

/**
 * One evaluation: losses (the loss in the target's units for regression) and accuracies
 * (classification; null for regression). `regression`: the fit on both splits (absent for
 * classification and in older runs' logs).
 */
export const EvalPoint = z.strictObject({
  step: z.number().int(),
  trainLoss: z.number(),
  testLoss: z.number(),
  trainAccuracy: z.number().nullable(),
  testAccuracy: z.number().nullable(),
  regression: z.strictObject({ train: RegressionFit, test: RegressionFit }).optional(),
})
