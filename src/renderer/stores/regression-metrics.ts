// A regression run's fit over time, from its evaluations: R² on the train and test splits for
// the chart, and the latest and best figures (R², RMSE, MAE, in the target's units) for the status
// line. The best test R² keeps its step, so a model that has begun to overfit says when it was better.
import type { EventPayload } from '../../shared/protocol'
import { DownsampledSeries } from '../charts/downsample'

type EvalPoint = EventPayload<'train.metrics'>['evals'][number]
export type RegressionFits = NonNullable<EvalPoint['regression']>

export interface RegressionLatest {
  /** The latest evaluation's fits and its step; null before the first (or for classification). */
  fit: RegressionFits | null
  step: number | null
  /** The highest test R² so far and the evaluation it came from. */
  best: { r2: number; step: number } | null
}

export class RegressionSeries {
  readonly trainR2 = new DownsampledSeries({ maxPoints: 600 })
  readonly testR2 = new DownsampledSeries({ maxPoints: 600 })
  latest: RegressionLatest = { fit: null, step: null, best: null }

  clear(): void {
    this.trainR2.clear()
    this.testR2.clear()
    this.latest = { fit: null, step: null, best: null }
  }

  ingest(evals: readonly EvalPoint[]): void {
    let { fit, step, best } = this.latest
    for (const e of evals) {
      if (!e.regression) continue
      const { train, test } = e.regression
      if (train.r2 !== null) this.trainR2.push(e.step, train.r2)
      if (test.r2 !== null) {
        this.testR2.push(e.step, test.r2)
        if (best === null || test.r2 > best.r2) best = { r2: test.r2, step: e.step }
      }
      fit = e.regression
      step = e.step
    }
    this.latest = { fit, step, best }
  }
}
