// Regression targets as the model trains on them: standardised with the training split's mean and
// standard deviation (on by default for tables), so a target in the hundreds (diabetes: 25–346)
// gives gradients of the same size as one near 1. Everything the user reads stays in the target's
// own units: predictions are mapped back (μ + σ·z), and losses are multiplied by σ², which is
// exact for both regression losses: MSE(σ·e) = σ²·MSE(e), and Huber with δ = 1 on the
// standardised target is σ⁻² times Huber with δ = σ in the target's units.
import type { data } from '../engine'

export interface TargetScaling {
  mean: number
  std: number
}

/** Mean and (population) standard deviation of `y`, in float64; a constant target keeps std 1. */
export function fitTargetScaling(y: Float32Array): TargetScaling {
  let mean = 0
  for (let i = 0; i < y.length; i++) mean += y[i]
  mean /= Math.max(1, y.length)
  let ss = 0
  for (let i = 0; i < y.length; i++) ss += (y[i] - mean) ** 2
  const std = Math.sqrt(ss / Math.max(1, y.length))
  // As for input columns (data.fitStandardization): rounding-level spread is no spread.
  return { mean, std: std > 1e-7 * Math.max(1, Math.abs(mean)) ? std : 1 }
}

/** The dataset with y replaced by (y − mean) / std (x shared, not copied). */
export function scaleTargets(ds: data.Dataset, s: TargetScaling): data.Dataset {
  const y = new Float32Array(ds.y.length)
  for (let i = 0; i < y.length; i++) y[i] = (ds.y[i] - s.mean) / s.std
  return { ...ds, y }
}

/** A model output (or a standardised target) back in the target's units. */
export const unscale = (v: number, s: TargetScaling | null): number => (s ? s.mean + s.std * v : v)

/** The factor from a loss on the standardised target to the loss in the target's units (1 without scaling). */
export const lossUnits = (s: TargetScaling | null): number => (s ? s.std * s.std : 1)
