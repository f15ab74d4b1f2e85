// Metric collection for one session: every step's minibatch loss, sampled per-layer gradient
// statistics and evaluations, gathered into one `train.metrics` batch per flush interval so the
// renderer gets a few messages a second however fast training runs.
import { EngineError, type nn, type Tensor, type TypedArray } from '../../engine'
import type { EventPayload } from '../../shared/protocol'

export type MetricsBatch = EventPayload<'train.metrics'>
export type LayerStats = MetricsBatch['layers'][number]['stats'][number]
export type EvalPoint = MetricsBatch['evals'][number]

/** A tensor's values without a copy (CPU); metrics must not allocate per step. */
export function view(t: Tensor): TypedArray {
  const read = t.backend.readSync
  if (!read) throw new EngineError('metrics', 'backend', `the ${t.backend.name} backend cannot be read synchronously`)
  return read.call(t.backend, t.storage)
}

/**
 * Statistics of each layer's weight matrix and its gradient, taken after backward and before the
 * optimiser step. updateRatio is lr·‖g‖/‖W‖ (0 when ‖W‖ is 0, e.g. a zeros init, since the ratio is
 * undefined there and the protocol carries finite numbers only).
 */
export function layerStats(model: nn.MLP, lr: number): LayerStats[] {
  return model.layers.map((layer) => {
    const w = view(layer.weight)
    const g = layer.weight.grad ? view(layer.weight.grad) : null
    let w2 = 0
    for (let i = 0; i < w.length; i++) w2 += w[i] * w[i]
    let g2 = 0
    let sumAbs = 0
    let maxAbs = 0
    if (g) {
      for (let i = 0; i < g.length; i++) {
        const v = g[i]
        const a = Math.abs(v)
        g2 += v * v
        sumAbs += a
        if (a > maxAbs) maxAbs = a
      }
    }
    const gradNorm = Math.sqrt(g2)
    const weightNorm = Math.sqrt(w2)
    return {
      gradNorm,
      meanAbsGrad: g ? sumAbs / g.length : 0,
      maxAbsGrad: maxAbs,
      weightNorm,
      updateRatio: weightNorm > 0 ? (lr * gradNorm) / weightNorm : 0,
    }
  })
}

/** How far back stepsPerSecond looks: long enough to be steady, short enough to follow changes. */
const RATE_WINDOW_MS = 1000

export class MetricsCollector {
  private steps: number[] = []
  private losses: number[] = []
  private evals: EvalPoint[] = []
  private layers: MetricsBatch['layers'] = []
  /** (time, step) at recent flushes, for stepsPerSecond. */
  private marks: { t: number; step: number }[] = []
  lastFlushAt: number

  constructor(
    readonly sessionId: string,
    now: number,
  ) {
    this.lastFlushAt = now
  }

  /** At most one layer sample per batch: the first step after a flush takes it. */
  get layerSampleDue(): boolean {
    return this.layers.length === 0
  }

  get pending(): boolean {
    return this.steps.length > 0 || this.evals.length > 0
  }

  recordStep(step: number, loss: number, stats: LayerStats[] | null): void {
    this.steps.push(step)
    this.losses.push(loss)
    if (stats && this.layerSampleDue) this.layers.push({ step, stats })
  }

  recordEval(point: EvalPoint): void {
    this.evals.push(point)
  }

  /** Training (re)starts at `step`: the rate window begins here, not at the last pause. */
  startWindow(now: number, step: number): void {
    this.marks = [{ t: now, step }]
    this.lastFlushAt = now
  }

  /** Drop whatever is pending (reset: those steps belonged to the run that is gone). */
  clear(now: number): void {
    this.steps = []
    this.losses = []
    this.evals = []
    this.layers = []
    this.marks = []
    this.lastFlushAt = now
  }

  /** Steps per second since the newest mark that is at least RATE_WINDOW_MS old (or the start). */
  stepsPerSecond(now: number, step: number): number {
    while (this.marks.length > 1 && now - this.marks[1].t >= RATE_WINDOW_MS) this.marks.shift()
    const first = this.marks[0]
    if (!first || now <= first.t) return 0
    return ((step - first.step) * 1000) / (now - first.t)
  }

  /** The pending batch (and a fresh one started), or null when nothing happened since the last. */
  flush(now: number, step: number, epoch: number): MetricsBatch | null {
    if (!this.pending) return null
    const batch: MetricsBatch = {
      sessionId: this.sessionId,
      steps: this.steps,
      trainLoss: this.losses,
      epoch,
      evals: this.evals,
      layers: this.layers,
      stepsPerSecond: this.stepsPerSecond(now, step),
    }
    this.steps = []
    this.losses = []
    this.evals = []
    this.layers = []
    this.lastFlushAt = now
    this.marks.push({ t: now, step })
    return batch
  }
}
