// Metric collection for one session: every step's minibatch loss, sampled per-layer gradient
// statistics and evaluations, gathered into one `train.metrics` batch per flush interval so the
// renderer gets a few messages a second however fast training runs.
import { EngineError, type nn, type Tensor, type TypedArray } from '../engine'
import type { EventPayload } from '../shared/protocol'
import { absStats, sumOfSquares } from './scan'

export type MetricsBatch = EventPayload<'train.metrics'>
export type LayerStats = MetricsBatch['layers'][number]['stats'][number]
export type EvalPoint = MetricsBatch['evals'][number]
export type NormStats = NonNullable<MetricsBatch['layers'][number]['norms']>[number]

/** A tensor's values without a copy (CPU); metrics must not allocate per step. */
export function view(t: Tensor): TypedArray {
  const read = t.backend.readSync
  if (!read) throw new EngineError('metrics', 'backend', `the ${t.backend.name} backend cannot be read synchronously`)
  return read.call(t.backend, t.storage)
}

/** Each layer's outputs (after its activation) on the sampled batch: `rows` rows, row-major. */
export interface LayerOutputs {
  rows: number
  values: TypedArray[]
}

/** Below this (sigmoid) or past ±this (tanh, sigmoid's upper tail) a unit's gradient is all but gone. */
const TANH_SATURATED = 0.99
const SIGMOID_LOW = 0.01
const SIGMOID_HIGH = 0.99

/** relu/leakyRelu: the fraction of units whose output is ≤ 0 on every row (dead for this batch). */
export function deadFraction(h: TypedArray, rows: number, units: number): number {
  let dead = 0
  for (let j = 0; j < units; j++) {
    let alive = false
    for (let r = 0; r < rows && !alive; r++) alive = h[r * units + j] > 0
    if (!alive) dead++
  }
  return units > 0 ? dead / units : 0
}

/** tanh/sigmoid: the fraction of all unit outputs of the batch that sit in a flat tail. */
export function saturatedFraction(h: TypedArray, activation: 'tanh' | 'sigmoid'): number {
  return h.length > 0 ? saturatedCount(h, activation) / h.length : 0
}

function saturatedCount(h: TypedArray, activation: 'tanh' | 'sigmoid'): number {
  let n = 0
  for (let k = 0; k < h.length; k++) {
    const v = h[k]
    if (activation === 'tanh' ? Math.abs(v) > TANH_SATURATED : v < SIGMOID_LOW || v > SIGMOID_HIGH) n++
  }
  return n
}

/**
 * Dead and saturated fractions of each layer's outputs, gathered over a batch that may come in
 * chunks of rows (a split training step): a unit is dead when it is ≤ 0 on every row of every
 * chunk, and saturation counts over all values, so the fractions equal those of the whole batch.
 */
export class OutputTally {
  private readonly alive: (Uint8Array | null)[]
  private readonly saturated: number[]
  private readonly values: number[]

  constructor(private readonly model: nn.MLP) {
    this.alive = model.layers.map((l, i) => (isReluLike(model.activations[i]) ? new Uint8Array(l.outFeatures) : null))
    this.saturated = model.layers.map(() => 0)
    this.values = model.layers.map(() => 0)
  }

  /** Layer i's outputs on `rows` more rows (row-major). */
  add(i: number, h: TypedArray, rows: number): void {
    const act = this.model.activations[i]
    const alive = this.alive[i]
    if (alive) {
      const units = alive.length
      for (let j = 0; j < units; j++) for (let r = 0; r < rows && !alive[j]; r++) if (h[r * units + j] > 0) alive[j] = 1
    } else if (act === 'tanh' || act === 'sigmoid') {
      this.saturated[i] += saturatedCount(h, act)
      this.values[i] += h.length
    }
  }

  dead(i: number): number | null {
    const alive = this.alive[i]
    if (!alive) return null
    let dead = 0
    for (let j = 0; j < alive.length; j++) if (!alive[j]) dead++
    return alive.length > 0 ? dead / alive.length : 0
  }

  saturatedFraction(i: number): number | null {
    const act = this.model.activations[i]
    if (act !== 'tanh' && act !== 'sigmoid') return null
    return this.values[i] > 0 ? this.saturated[i] / this.values[i] : 0
  }
}

const isReluLike = (a: string): boolean => a === 'relu' || a === 'leakyRelu'

/** A tally of one whole batch's outputs. */
function tallyOf(model: nn.MLP, outputs: LayerOutputs): OutputTally {
  const t = new OutputTally(model)
  outputs.values.forEach((h, i) => t.add(i, h, outputs.rows))
  return t
}

/**
 * Statistics of each layer's weight matrix and its gradient, taken after backward and before the
 * optimiser step. updateRatio is lr·‖g‖/‖W‖ (0 when ‖W‖ is 0, e.g. a zeros init, since the ratio is
 * undefined there and the protocol carries finite numbers only). Dead and saturated fractions come
 * from the layers' outputs on the batch when given, whole or tallied over chunks (null for
 * activations they do not apply to).
 * `read` gives a tensor's values: `view` on the CPU, values read back already on a device.
 */
export function layerStats(
  model: nn.MLP,
  lr: number,
  outputs?: LayerOutputs | OutputTally,
  read: (t: Tensor) => TypedArray = view,
): LayerStats[] {
  const tally = outputs === undefined ? null : outputs instanceof OutputTally ? outputs : tallyOf(model, outputs)
  return model.layers.map((layer, i) => {
    const g = layer.weight.grad ? read(layer.weight.grad) : null
    const { sumSq, sumAbs, maxAbs } = g ? absStats(g) : { sumSq: 0, sumAbs: 0, maxAbs: 0 }
    const gradNorm = Math.sqrt(sumSq)
    const weightNorm = Math.sqrt(sumOfSquares(read(layer.weight)))
    return {
      gradNorm,
      meanAbsGrad: g ? sumAbs / g.length : 0,
      maxAbsGrad: maxAbs,
      weightNorm,
      updateRatio: weightNorm > 0 ? (lr * gradNorm) / weightNorm : 0,
      deadFraction: tally && tally.dead(i),
      saturatedFraction: tally && tally.saturatedFraction(i),
    }
  })
}

/** One layer's gradient: the L2 norm over all its parameters, and of the weight and bias apart. */
export interface LayerGradNorm {
  layer: number
  weight: number
  bias: number
  /** Whose norms these are, when not the Linear layer at this position (layers.{i}): norms.{i}. */
  name?: string
}

function sumSquares(t: Tensor | null | undefined): number {
  return t ? sumOfSquares(view(t)) : 0
}

/**
 * Each layer's gradient norms (0 without a gradient): the alarms check them every step. The bias
 * counts too: a dead relu layer leaves only the next bias learning, and that can blow up alone.
 */
export function gradNorms(model: nn.MLP): LayerGradNorm[] {
  return model.layers.map((l) => {
    const w = sumSquares(l.weight.grad)
    const b = sumSquares(l.bias?.grad)
    return { layer: Math.sqrt(w + b), weight: Math.sqrt(w), bias: Math.sqrt(b) }
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
  /** The learning rate of the latest step (after the schedule); batches report it. */
  lr = 0
  /** No layer statistics before this step (statsTaken). */
  private statsFrom = 0

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

  /**
   * Whether step `step` takes layer statistics: one per batch, and on a model too big to take them
   * every step (work-budget.ts statsEvery) no sooner than the step statsTaken named.
   */
  statsDue(step: number): boolean {
    return this.layerSampleDue && step >= this.statsFrom
  }

  /** Layer statistics were taken at step `step`; the next ones `every` steps later at the soonest. */
  statsTaken(step: number, every: number): void {
    this.statsFrom = step + every
  }

  get pending(): boolean {
    return this.steps.length > 0 || this.evals.length > 0
  }

  /** `norms`: the norm layers' rows taken with `stats` (left out of the batch for a model without norms). */
  recordStep(step: number, loss: number, stats: LayerStats[] | null, lr: number, norms: NormStats[] | null = null): void {
    this.lr = lr
    this.steps.push(step)
    this.losses.push(loss)
    if (stats && this.layerSampleDue) this.layers.push(norms?.length ? { step, stats, norms } : { step, stats })
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
      lr: this.lr,
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
