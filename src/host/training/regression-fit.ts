// R², RMSE and MAE of a regression model over a split, tallied chunk by chunk in float64 (an
// evaluation reads its outputs a chunk at a time). Sums are taken in the units the model trains
// in and reported in the target's own: RMSE and MAE scale by σ, R² is unchanged by the affine map.
import type { TargetScaling } from '../target-scaling'

export interface RegressionFit {
  /** 1 − SS_res / SS_tot about the split's own mean (sklearn's r2_score); null when the target is constant. */
  r2: number | null
  rmse: number
  mae: number
}

export class FitTally {
  private n = 0
  private sumY = 0
  private sumY2 = 0
  private sse = 0
  private sae = 0

  /** m rows: one output per row against its target. */
  add(out: ArrayLike<number>, y: ArrayLike<number>, m: number): void {
    for (let i = 0; i < m; i++) {
      const e = out[i] - y[i]
      this.sse += e * e
      this.sae += Math.abs(e)
      this.sumY += y[i]
      this.sumY2 += y[i] * y[i]
    }
    this.n += m
  }

  /** The figures in the target's units (`s`: the scaling the model trained under, or null). */
  result(s: TargetScaling | null): RegressionFit {
    const n = Math.max(1, this.n)
    const ssTot = this.sumY2 - (this.sumY * this.sumY) / n
    const k = s ? s.std : 1
    // ssTot is a difference of sums: a relative floor keeps rounding from posing as spread.
    const spread = ssTot > 1e-12 * Math.max(1, this.sumY2)
    return { r2: spread ? 1 - this.sse / ssTot : null, rmse: k * Math.sqrt(this.sse / n), mae: (k * this.sae) / n }
  }
}

/** The figures for whole arrays of predictions and targets (same units): tests and one-off checks. */
export function regressionFit(predicted: ArrayLike<number>, actual: ArrayLike<number>): RegressionFit {
  const t = new FitTally()
  t.add(predicted, actual, actual.length)
  return t.result(null)
}
