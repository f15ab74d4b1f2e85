// What each compare chart draws: one line per selected run, from its stored metrics. Pure, so the
// choice of points (evals for test curves, a chosen layer for gradient norms) is testable alone.
import type { z } from 'zod'
import type { RunMetrics } from '../../../../shared/protocol-runs'
import type { Point } from '../../../charts/downsample'

export type RunMetricsData = z.infer<typeof RunMetrics>

export const COMPARE_METRICS = ['trainLoss', 'testLoss', 'testAccuracy', 'gradNorm'] as const
export type CompareMetric = (typeof COMPARE_METRICS)[number]

export const METRIC_INFO: Record<CompareMetric, { title: string; axis: string; logToggle: boolean }> = {
  trainLoss: { title: 'Train loss (minibatch, smoothed)', axis: 'loss', logToggle: true },
  testLoss: { title: 'Test loss', axis: 'loss', logToggle: true },
  testAccuracy: { title: 'Test accuracy', axis: 'accuracy', logToggle: false },
  gradNorm: { title: 'Gradient norm', axis: 'gradient norm', logToggle: true },
}

/** Exponential moving average, as the studio's live loss chart draws minibatch losses. */
export const SMOOTHING = 0.8

function smooth(points: Point[]): Point[] {
  let ema: number | null = null
  return points.map((p) => ({ x: p.x, y: (ema = ema === null ? p.y : SMOOTHING * ema + (1 - SMOOTHING) * p.y) }))
}

const byStep = (a: Point, b: Point) => a.x - b.x

/** The points of one run for one metric, in step order; `layer` picks the gradient-norm layer. */
export function metricPoints(m: RunMetricsData, metric: CompareMetric, layer = 0, log = false): Point[] {
  let points: Point[]
  switch (metric) {
    case 'trainLoss':
      points = smooth(m.steps.map((x, i) => ({ x, y: m.trainLoss[i]! })).filter((p) => Number.isFinite(p.y)))
      break
    case 'testLoss':
      points = m.evals.map((e) => ({ x: e.step, y: e.testLoss }))
      break
    case 'testAccuracy':
      points = m.evals.flatMap((e) => (e.testAccuracy === null ? [] : [{ x: e.step, y: e.testAccuracy }]))
      break
    case 'gradNorm':
      points = m.gradNorms.flatMap((g) => (layer < g.norms.length ? [{ x: g.step, y: g.norms[layer]! }] : []))
      break
  }
  // A log axis cannot draw zero or negatives; a NaN from a diverged run is a gap either way.
  // Chart.js (parsing: false) expects x in order, whatever order the log was written in.
  return points.filter((p) => Number.isFinite(p.y) && (!log || p.y > 0)).sort(byStep)
}

/** How many layers have gradient norms in any of the runs. */
export function layerCount(all: readonly RunMetricsData[]): number {
  return all.reduce((n, m) => Math.max(n, ...m.gradNorms.map((g) => g.norms.length)), 0)
}
