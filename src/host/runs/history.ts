// A run's metrics history in bounded memory: full resolution for recent steps, decimated older
// history. Decimation keeps, per bucket of old train-loss points, the lowest and the highest
// (actual samples, in step order) so a spike stays visible; evaluations and layer statistics
// keep one of each pair (the worse test loss, the larger gradient norm) for the same reason.
// Applied again as the history grows, older parts are thinned more: resolution halves with age.
import type { MetricsBatch, EvalPoint } from '../metrics'

export type LayerPoint = MetricsBatch['layers'][number]

export interface MetricsHistory {
  steps: number[]
  trainLoss: number[]
  evals: EvalPoint[]
  layers: LayerPoint[]
  skippedLines: number
}

export const emptyHistory = (): MetricsHistory => ({ steps: [], trainLoss: [], evals: [], layers: [], skippedLines: 0 })

/** Points per min–max bucket when old train loss is thinned (two survive of each). */
const BUCKET = 4

/** Thin the older half of the train-loss series: each bucket of 4 keeps its min and its max. */
function thinLoss(h: MetricsHistory, budget: number): void {
  const n = h.steps.length
  if (n <= budget) return
  const old = n - Math.floor(budget / 2)
  // Written in place (the write index never passes the read index): no copy of a series that may hold millions.
  const { steps, trainLoss: loss } = h
  let w = 0
  const keep = (i: number) => {
    steps[w] = steps[i]
    loss[w] = loss[i]
    w++
  }
  for (let a = 0; a < old; a += BUCKET) {
    const b = Math.min(old, a + BUCKET)
    let lo = a
    let hi = a
    for (let i = a + 1; i < b; i++) {
      if (loss[i] < loss[lo]) lo = i
      if (loss[i] > loss[hi]) hi = i
    }
    keep(Math.min(lo, hi))
    if (lo !== hi) keep(Math.max(lo, hi))
  }
  for (let i = old; i < n; i++) keep(i)
  steps.length = w
  loss.length = w
}

/** Thin the older half of a sparse series: of each pair the one `worse` prefers survives. */
function thinPairs<T>(xs: T[], budget: number, worse: (a: T, b: T) => T): T[] {
  if (xs.length <= budget) return xs
  const old = xs.length - Math.floor(budget / 2)
  const out: T[] = []
  for (let i = 0; i < old; i += 2) out.push(i + 1 < old ? worse(xs[i], xs[i + 1]) : xs[i])
  return out.concat(xs.slice(old))
}

const gradSum = (l: LayerPoint): number => l.stats.reduce((s, x) => s + (Number.isFinite(x.gradNorm) ? x.gradNorm : 0), 0)

export type Series = 'loss' | 'evals' | 'layers'

/** Bring one series under `budget` points; its recent points stay as they were. */
export function decimateSeries(h: MetricsHistory, series: Series, budget: number): void {
  const b = Math.max(8, budget)
  if (series === 'loss') while (h.steps.length > b) thinLoss(h, b)
  if (series === 'evals') while (h.evals.length > b) h.evals = thinPairs(h.evals, b, (x, y) => (y.testLoss > x.testLoss ? y : x))
  if (series === 'layers') while (h.layers.length > b) h.layers = thinPairs(h.layers, b, (x, y) => (gradSum(y) > gradSum(x) ? y : x))
}

/** Bring every series under `budget` points (each series separately). */
export function decimate(h: MetricsHistory, budget: number): void {
  for (const s of ['loss', 'evals', 'layers'] as const) decimateSeries(h, s, budget)
}

export const seriesLength = (h: MetricsHistory, s: Series): number =>
  s === 'loss' ? h.steps.length : s === 'evals' ? h.evals.length : h.layers.length

/** Points per line when a history is written out whole (a compacted log), so no line is huge. */
export const POINTS_PER_LINE = 4096

/** One series of the history as log lines, each under POINTS_PER_LINE points (fewer for layer records, which are bigger); lazily, a line at a time. */
export function* seriesLines(h: MetricsHistory, series: Series): Generator<string> {
  const m = (steps: number[], trainLoss: number[], evals: EvalPoint[], layers: LayerPoint[]) =>
    `${JSON.stringify({ k: 'm', steps, trainLoss, epoch: 0, evals, layers })}\n`
  const per = series === 'layers' ? Math.max(1, Math.floor(POINTS_PER_LINE / 16)) : POINTS_PER_LINE
  for (let i = 0; i < seriesLength(h, series); i += per) {
    if (series === 'loss') yield m(h.steps.slice(i, i + per), h.trainLoss.slice(i, i + per), [], [])
    else if (series === 'evals') yield m([], [], h.evals.slice(i, i + per), [])
    else yield m([], [], [], h.layers.slice(i, i + per))
  }
}
