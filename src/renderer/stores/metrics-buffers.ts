// Where a session's metrics accumulate: bounded, downsampled series for the charts and the
// latest values for the status line. Deliberately plain (the store marks it raw and bumps a
// version counter per batch), so thousands of steps per second never touch Vue's reactivity.
import type { EventPayload } from '../../shared/protocol'
import { DownsampledSeries } from '../charts/downsample'

type MetricsBatch = EventPayload<'train.metrics'>

export interface LatestMetrics {
  step: number
  epoch: number
  stepsPerSecond: number
  /** Last minibatch loss. */
  batchLoss: number | null
  /** From the latest evaluation (whole train and test sets). */
  trainLoss: number | null
  testLoss: number | null
  trainAccuracy: number | null
  testAccuracy: number | null
  evalStep: number | null
}

export const EMPTY_LATEST: LatestMetrics = Object.freeze({
  step: 0,
  epoch: 0,
  stepsPerSecond: 0,
  batchLoss: null,
  trainLoss: null,
  testLoss: null,
  trainAccuracy: null,
  testAccuracy: null,
  evalStep: null,
})

export class MetricsBuffers {
  /** Minibatch loss per step, smoothed and downsampled. */
  readonly trainLoss = new DownsampledSeries({ maxPoints: 1200, smoothing: 0.8 })
  /** Test loss per evaluation. */
  readonly testLoss = new DownsampledSeries({ maxPoints: 600 })
  /** One series per layer: gradient norm of its weights. */
  gradNorms: DownsampledSeries[] = []
  layerNames: string[] = []
  latest: LatestMetrics = EMPTY_LATEST

  /** Forget everything; the layer names label the gradient series from now on. */
  clear(layerNames: string[] = this.layerNames): void {
    this.trainLoss.clear()
    this.testLoss.clear()
    this.layerNames = [...layerNames]
    this.gradNorms = layerNames.map(() => new DownsampledSeries({ maxPoints: 600 }))
    this.latest = EMPTY_LATEST
  }

  ingest(batch: MetricsBatch): void {
    const { steps, trainLoss } = batch
    for (let i = 0; i < steps.length; i++) this.trainLoss.push(steps[i]!, trainLoss[i]!)
    for (const e of batch.evals) this.testLoss.push(e.step, e.testLoss)
    for (const sample of batch.layers) {
      sample.stats.forEach((s, i) => {
        // Log scale: a zero gradient cannot be drawn, so it is left out rather than clamped.
        if (s.gradNorm > 0) this.gradNorms[i]?.push(sample.step, s.gradNorm)
      })
    }
    const lastEval = batch.evals.length ? batch.evals[batch.evals.length - 1]! : null
    const prev = this.latest
    this.latest = {
      step: steps.length ? steps[steps.length - 1]! : prev.step,
      epoch: batch.epoch,
      stepsPerSecond: batch.stepsPerSecond,
      batchLoss: trainLoss.length ? trainLoss[trainLoss.length - 1]! : prev.batchLoss,
      trainLoss: lastEval ? lastEval.trainLoss : prev.trainLoss,
      testLoss: lastEval ? lastEval.testLoss : prev.testLoss,
      trainAccuracy: lastEval ? lastEval.trainAccuracy : prev.trainAccuracy,
      testAccuracy: lastEval ? lastEval.testAccuracy : prev.testAccuracy,
      evalStep: lastEval ? lastEval.step : prev.evalStep,
    }
  }
}
