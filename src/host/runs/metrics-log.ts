// The metrics log of a run (metrics.ndjson): one JSON line per train.metrics batch, appended as
// batches are flushed, plus "rewind" lines when a run continues from an earlier point (resume
// after a crash, reset). Reading never fails on content: a torn last line (the process died
// mid-write) or any unreadable line is skipped and counted. Logs are read streaming, in bounded
// memory, and a log past its size limit is compacted (log-compaction.ts: recent steps kept, older thinned).
import { existsSync } from 'node:fs'
import type { MetricsBatch, EvalPoint } from '../metrics'
import type { RequestResult } from '../../shared/protocol'
import { decimate, emptyHistory, type MetricsHistory } from './history'
import { forEachLine, forEachLineAsync, type AsyncLineReadOptions, type LineReadOptions, type LineReadStats } from './line-reader'

export type RunMetricsOut = RequestResult<'runs.metrics'>

export type LogLine =
  | { k: 'm'; steps: number[]; trainLoss: number[]; epoch: number; evals: EvalPoint[]; layers: MetricsBatch['layers'] }
  | { k: 'rewind'; step: number }

export function batchLine(b: Omit<MetricsBatch, 'lr'>): string {
  const line: LogLine = { k: 'm', steps: b.steps, trainLoss: b.trainLoss, epoch: b.epoch, evals: b.evals, layers: b.layers }
  return `${JSON.stringify(line)}\n`
}

export function rewindLine(step: number): string {
  return `${JSON.stringify({ k: 'rewind', step } satisfies LogLine)}\n`
}

export type { MetricsHistory } from './history'

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)
const nums = (v: unknown): v is number[] => Array.isArray(v) && v.every(finite)

function parseLine(text: string): LogLine | null {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return null
  }
  if (typeof v !== 'object' || v === null) return null
  const o = v as Record<string, unknown>
  if (o.k === 'rewind') return finite(o.step) ? { k: 'rewind', step: o.step } : null
  if (o.k !== 'm' || !nums(o.steps) || !nums(o.trainLoss) || o.steps.length !== o.trainLoss.length) return null
  if (!Array.isArray(o.evals) || !Array.isArray(o.layers)) return null
  return o as LogLine
}

export interface ReadLogOptions extends LineReadOptions {
  /** At most this many points per series are held; older history is decimated beyond it. Default 100,000. */
  budget?: number
}

export const DEFAULT_READ_BUDGET = 100_000

/** Builds a history line by line, thinning as it grows (so memory stays bounded whatever the log's size). */
class HistoryBuilder {
  readonly h = emptyHistory()
  private readonly over: number

  constructor(private readonly budget: number) {
    // Thinning runs when a series passes 1.5× the budget, so it costs O(1) per point on average.
    this.over = Math.ceil(budget * 1.5)
  }

  readonly line = (text: string): void => {
    const h = this.h
    if (text.trim() === '') return
    const line = parseLine(text)
    if (!line) {
      h.skippedLines++
      return
    }
    if (line.k === 'rewind') return rewind(h, line.step)
    for (let i = 0; i < line.steps.length; i++) {
      h.steps.push(line.steps[i])
      h.trainLoss.push(line.trainLoss[i])
    }
    for (const e of line.evals) h.evals.push(e)
    for (const l of line.layers) h.layers.push(l)
    if (h.steps.length > this.over || h.evals.length > this.over || h.layers.length > this.over) decimate(h, this.budget)
  }

  finish(read: LineReadStats): MetricsHistory {
    // Whatever follows the last newline was never completed: a torn tail (or nothing).
    if (read.tail.trim() !== '') this.h.skippedLines++
    this.h.skippedLines += read.longLines
    decimate(this.h, this.budget)
    return this.h
  }
}

/** The history as it stands: rewinds drop what came after their step. Streams the file; memory stays bounded. */
export function readMetricsLog(path: string, options: ReadLogOptions = {}): MetricsHistory {
  return readMetricsLogWithStats(path, options).history
}

export function readMetricsLogWithStats(
  path: string,
  options: ReadLogOptions = {},
): { history: MetricsHistory; read: LineReadStats | null } {
  if (!existsSync(path)) return { history: emptyHistory(), read: null }
  const b = new HistoryBuilder(options.budget ?? DEFAULT_READ_BUDGET)
  const read = forEachLine(path, b.line, options)
  return { history: b.finish(read), read }
}

/** readMetricsLog in slices (a chunk, then a turn of the event loop): what requests and compaction use. */
export async function readMetricsLogAsync(
  path: string,
  options: ReadLogOptions & AsyncLineReadOptions = {},
): Promise<{ history: MetricsHistory; read: LineReadStats | null }> {
  if (!existsSync(path)) return { history: emptyHistory(), read: null }
  const b = new HistoryBuilder(options.budget ?? DEFAULT_READ_BUDGET)
  const read = await forEachLineAsync(path, b.line, options)
  return { history: b.finish(read), read }
}

function rewind(h: MetricsHistory, step: number): void {
  let n = h.steps.length
  while (n > 0 && h.steps[n - 1] > step) n--
  h.steps.length = n
  h.trainLoss.length = n
  h.evals = h.evals.filter((e) => e.step <= step)
  h.layers = h.layers.filter((l) => l.step <= step)
}

export interface RunStats {
  steps: number
  lastTrainLoss: number | null
  lastTestLoss: number | null
  lastTestAccuracy: number | null
}

export function statsOf(h: Pick<MetricsHistory, 'steps' | 'trainLoss' | 'evals'>): RunStats {
  const lastEval = h.evals.at(-1)
  return {
    steps: h.steps.at(-1) ?? lastEval?.step ?? 0,
    lastTrainLoss: h.trainLoss.at(-1) ?? null,
    lastTestLoss: lastEval?.testLoss ?? null,
    lastTestAccuracy: lastEval?.testAccuracy ?? null,
  }
}

/** Means over consecutive buckets so at most maxPoints remain (steps rounded to integers). */
function bucketMeans(xs: number[], ys: number[][], maxPoints: number): { xs: number[]; ys: number[][] } {
  if (xs.length <= maxPoints) return { xs, ys }
  const size = Math.ceil(xs.length / maxPoints)
  const outX: number[] = []
  const outY: number[][] = []
  for (let a = 0; a < xs.length; a += size) {
    const b = Math.min(xs.length, a + size)
    let sx = 0
    const sy = new Array<number>(ys[a].length).fill(0)
    for (let i = a; i < b; i++) {
      sx += xs[i]
      for (let j = 0; j < sy.length; j++) sy[j] += ys[i][j] ?? 0
    }
    outX.push(Math.round(sx / (b - a)))
    outY.push(sy.map((v) => v / (b - a)))
  }
  return { xs: outX, ys: outY }
}

export function runMetricsOf(runId: string, h: MetricsHistory, maxPoints: number): RunMetricsOut {
  const loss = bucketMeans(
    h.steps,
    h.trainLoss.map((v) => [v]),
    maxPoints,
  )
  const grads = bucketMeans(
    h.layers.map((l) => l.step),
    h.layers.map((l) => l.stats.map((s) => s.gradNorm)),
    maxPoints,
  )
  return {
    runId,
    steps: loss.xs,
    trainLoss: loss.ys.map((y) => y[0]),
    evals: h.evals,
    gradNorms: grads.xs.map((step, i) => ({ step, norms: grads.ys[i] })),
    skippedLines: h.skippedLines,
  }
}
