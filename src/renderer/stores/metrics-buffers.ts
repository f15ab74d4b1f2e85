// Where a session's metrics accumulate: bounded, downsampled series for the charts, per-layer
// statistics over time, the run's alarms and the latest values for the status line. Deliberately
// plain (the store marks it raw and bumps a version counter per batch), so thousands of steps per
// second never touch Vue's reactivity; every buffer has a fixed capacity, whatever the run length.
import type { EventPayload } from '../../shared/protocol'
import { DownsampledSeries } from '../charts/downsample'
import { LayerTimeline } from '../charts/layer-timeline'
import { fits, rowsOfSample, rowStats, statRows, type NormSlot, type StatRow } from '../charts/layer-rows'
import { RegressionSeries } from './regression-metrics'

type MetricsBatch = EventPayload<'train.metrics'>
export type TrainAlarm = EventPayload<'train.alarm'>

/** Alarms kept per run (the oldest go first; a run that keeps alarming is paused long before). */
export const MAX_ALARMS = 100

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
  /** The learning rate in effect at the last step (after the schedule). */
  lr: number | null
  /** Serve mode: batches the server skipped for this reader because it read too slowly (a gap in
   *  the charts; the run's metrics log has every step). Summed since the last clear. */
  skippedBatches: number
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
  lr: null,
  skippedBatches: 0,
})

export class MetricsBuffers {
  /** Minibatch loss per step, raw and downsampled (the chart smooths at display time). */
  readonly trainLoss = new DownsampledSeries({ maxPoints: 2000 })
  /** Whole-train-set and test loss per evaluation. */
  readonly trainEvalLoss = new DownsampledSeries({ maxPoints: 600 })
  readonly testLoss = new DownsampledSeries({ maxPoints: 600 })
  /** Accuracy per evaluation (classification only). */
  readonly trainAccuracy = new DownsampledSeries({ maxPoints: 600 })
  readonly testAccuracy = new DownsampledSeries({ maxPoints: 600 })
  /** R², RMSE and MAE per evaluation (regression only). */
  readonly regression = new RegressionSeries()
  /** The learning rate in effect, one point per batch. */
  readonly lr = new DownsampledSeries({ maxPoints: 600 })
  /** Every per-layer statistic over time (heatmap, health strip), one row per entry of `rows`. */
  readonly layers = new LayerTimeline(256)
  /** This run's alarms, oldest first. */
  alarms: TrainAlarm[] = []
  /** The timeline's rows: the Linear layers and the norms' γ/β (layer-rows.ts). */
  rows: StatRow[] = []
  /** The rows' names, in row order. */
  layerNames: string[] = []
  private linearNames: string[] = []
  private norms: NormSlot[] = []
  latest: LatestMetrics = EMPTY_LATEST
  /** Bumped by every clear, so readers that keep their own history know to drop it. */
  generation = 0

  /** Forget everything; the Linear layers' names and the model's norms make the rows from now on. */
  clear(layerNames: readonly string[] = this.linearNames, norms: readonly NormSlot[] = this.norms): void {
    for (const s of [this.trainLoss, this.trainEvalLoss, this.testLoss, this.trainAccuracy, this.testAccuracy, this.lr]) s.clear()
    this.regression.clear()
    this.linearNames = [...layerNames]
    this.norms = [...norms]
    this.setRows(statRows(layerNames, norms))
    this.alarms = []
    this.latest = EMPTY_LATEST
    this.generation++
  }

  /** Record an alarm (kept in step order; the oldest are dropped past MAX_ALARMS). */
  addAlarm(alarm: TrainAlarm): void {
    this.alarms.push(alarm)
    this.alarms.sort((a, b) => a.step - b.step)
    if (this.alarms.length > MAX_ALARMS) this.alarms.splice(0, this.alarms.length - MAX_ALARMS)
  }

  ingest(batch: MetricsBatch): void {
    const { steps, trainLoss } = batch
    for (let i = 0; i < steps.length; i++) this.trainLoss.push(steps[i]!, trainLoss[i]!)
    for (const e of batch.evals) {
      this.trainEvalLoss.push(e.step, e.trainLoss)
      this.testLoss.push(e.step, e.testLoss)
      if (e.trainAccuracy !== null) this.trainAccuracy.push(e.step, e.trainAccuracy)
      if (e.testAccuracy !== null) this.testAccuracy.push(e.step, e.testAccuracy)
    }
    this.regression.ingest(batch.evals)
    if (steps.length && Number.isFinite(batch.lr)) this.lr.push(steps[steps.length - 1]!, batch.lr)
    for (const sample of batch.layers) {
      // A sample from another model than the rows were made for (none given): rows of its own.
      if (!fits(this.rows, sample)) this.setRows(rowsOfSample(sample))
      this.layers.push(sample.step, rowStats(this.rows, sample))
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
      lr: steps.length && Number.isFinite(batch.lr) ? batch.lr : prev.lr,
      skippedBatches: prev.skippedBatches + (batch.droppedBatches ?? 0),
    }
  }

  private setRows(rows: StatRow[]): void {
    this.rows = rows
    this.layerNames = rows.map((r) => r.name)
    this.layers.clear(rows.length)
  }
}
