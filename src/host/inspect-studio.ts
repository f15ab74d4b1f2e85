// The studio's inspection panels: per-layer histograms of weights, gradients and biases; the
// decision boundary over 2-D inputs; predicted against actual on a split. Read-only for the
// session: they read the live tensors or run the model without a graph, between training slices.
import { noGrad, tensor, tensorStats, type nn, type Tensor, type TypedArray } from '../engine'
import type { RequestResult } from '../shared/protocol'
import type { HistogramRange } from '../shared/protocol-studio'
import type { z } from 'zod'
import { dataLabel } from './data-source'
import { HostError } from './errors'
import { forwardCost, withinBudget } from './inspect-model'
import { freeze } from './inspect-pieces'
import { view } from './metrics'
import type { TrainingSession } from './session'
import type { SplitData } from './setup'
import { unscale } from './target-scaling'
import { drain, evalChunkRows, type Work } from './work-budget'

export type HistogramsResult = RequestResult<'session.histograms'>
export type Histogram = HistogramsResult['layers'][number]['weights']
export type BoundaryResult = RequestResult<'session.boundary'>
export type PredictionsResult = RequestResult<'session.predictions'>
type Range = z.output<typeof HistogramRange>

/** The boundary grid extends this fraction of the data's span past its extremes. */
export const BOUNDARY_MARGIN = 0.1
/** Multiply-adds a boundary may spend: a huge model gets a coarser grid (at least 8 × 8). */
export const BOUNDARY_BUDGET = 1e8
/**
 * A histogram bins at most this many elements of a tensor (an evenly spaced sample beyond it): a
 * 1024×1024 layer's weights and gradients binned whole held training ~0.5 s per request.
 */
export const HISTOGRAM_SAMPLE = 65_536
/** Half-width of the range an all-zero tensor gets under 'auto'. */
const ZERO_HALF_WIDTH = 0.01

/** The smallest of 1, 2, 5 × 10^k that is ≥ x (x > 0): ranges that stay put as weights drift (at most the largest float64). */
export function niceCeil(x: number): number {
  const k = Math.floor(Math.log10(x))
  for (const f of [1, 2, 5, 10]) {
    const v = f * 10 ** k
    if (v >= x) return Math.min(v, Number.MAX_VALUE)
  }
  return Math.min(10 ** (k + 1), Number.MAX_VALUE)
}

/**
 * Honest binning of `values`: `bins` equal-width bins over [lo, hi] (hi itself in the last bin),
 * values outside counted as underflow/overflow, non-finite ones counted in nonFinite only and left
 * out of every statistic. 'auto' is symmetric around 0 up to max |x| rounded up by niceCeil; an
 * all-equal tensor (one element, a zeros init) gets a small range around its value instead.
 */
export function histogram(values: ArrayLike<number>, bins: number, range: Range): Histogram {
  // Moments and extremes of the finite values (the same statistics the graph view shows).
  const { mean, std, min, max, nonFinite } = tensorStats(values)
  const count = values.length - nonFinite
  let lo: number
  let hi: number
  if (range !== 'auto') ({ lo, hi } = range)
  else if (count === 0) [lo, hi] = [-1, 1]
  else if (min === max) {
    const half = min === 0 ? ZERO_HALF_WIDTH : niceCeil(Math.abs(min)) / 10
    ;[lo, hi] = [min - half, min + half]
  } else {
    const m = niceCeil(Math.max(Math.abs(min), Math.abs(max)))
    ;[lo, hi] = [-m, m]
  }
  const counts = new Array<number>(bins).fill(0)
  let underflow = 0
  let overflow = 0
  // Halved first: hi − lo of a range near ±1.8e308 overflows to Infinity, (hi/2 − lo/2) does not.
  const half = hi / 2 - lo / 2
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (!Number.isFinite(v)) continue
    if (v < lo) underflow++
    else if (v > hi) overflow++
    else counts[Math.min(bins - 1, Math.floor(((v / 2 - lo / 2) / half) * bins))]++
  }
  return {
    lo,
    hi,
    counts,
    underflow,
    overflow,
    count,
    nonFinite,
    min,
    max,
    mean,
    std,
  }
}

/**
 * Every layer's weights, last gradients (null before the first backward) and biases; then each
 * hidden layer's norm as `norms.{i}`: its scale γ as the weights (γ's gradient as the gradients)
 * and its shift β as the biases.
 */
export function histogramsOf(session: TrainingSession, bins: number, range: Range): HistogramsResult {
  if (range !== 'auto' && !Number.isFinite(range.hi - range.lo)) {
    throw new HostError(
      'invalid_payload',
      `session.histograms: range [${range.lo}, ${range.hi}] is wider than a 64-bit float can hold (hi − lo overflows); use a narrower range`,
    )
  }
  const { model, stepCount } = session.trainer
  const of = (t: Tensor): Histogram => sampledHistogram(view(t), bins, range)
  const out: HistogramsResult = {
    step: stepCount,
    layers: model.layers.map((layer, i) => ({
      name: `layers.${i}`,
      weights: of(layer.weight),
      grads: layer.weight.grad ? of(layer.weight.grad) : null,
      biases: layer.bias ? of(layer.bias) : histogram([], bins, range),
    })),
  }
  model.norms.forEach((n, i) => {
    if (!n) return
    const grads = n.weight.grad ? of(n.weight.grad) : null
    out.layers.push({ name: `norms.${i}`, weights: of(n.weight), grads, biases: of(n.bias) })
  })
  return out
}

/** The histogram of `values`, or of every k-th of them (HISTOGRAM_SAMPLE at most), saying so. */
export function sampledHistogram(values: TypedArray, bins: number, range: Range, max = HISTOGRAM_SAMPLE): Histogram {
  if (values.length <= max) return histogram(values, bins, range)
  const stride = Math.ceil(values.length / max)
  const sample = new Float64Array(Math.ceil(values.length / stride))
  for (let i = 0, k = 0; i < values.length; i += stride, k++) sample[k] = values[i]
  return { ...histogram(sample, bins, range), sampledFrom: values.length }
}

/** One chunk of outputs: rows [start, start + rows), row-major; valid only until the next chunk is asked for. */
interface OutputChunk {
  start: number
  rows: number
  out: TypedArray
}

/**
 * The model's outputs for `rows` rows of model inputs, without a graph, one chunk of `chunkRows`
 * rows at a time (evalChunkRows: bounded in work, and never one giant matrix).
 */
function* outputChunks(model: nn.MLP, x: Float32Array, rows: number, chunkRows: number): Generator<OutputChunk, void, void> {
  const w = model.layers[0].weight
  const f = model.sizes[0]
  for (let a = 0; a < rows; a += chunkRows) {
    const m = Math.min(chunkRows, rows - a)
    const part = x.subarray(a * f, (a + m) * f)
    const t = tensor(part, { shape: [m, f], dtype: w.dtype, backend: w.backend, allowNonFinite: true })
    yield { start: a, rows: m, out: view(noGrad(() => model.forward(t))) }
  }
}

/**
 * The model's outputs for `rows` rows of model inputs, in one buffer (callers bound `rows`), one
 * chunk of `chunkRows` rows per piece. Work of more than one piece reads a frozen copy of the
 * weights (inspect-pieces.ts), so every row sees the same step.
 */
function* predict(live: nn.MLP, x: Float32Array, rows: number, chunkRows: number): Work<Float64Array> {
  const k = live.sizes.at(-1)!
  const out = new Float64Array(rows * k)
  yield* frozenChunks(live, x, rows, chunkRows, (c) => out.set(c.out, c.start * k))
  return out
}

/**
 * Every chunk of the model's outputs for `rows` rows, handed to `take`, one chunk per piece; on a
 * frozen copy of `live` when there is more than one chunk (the copy is a piece of its own).
 */
function* frozenChunks(live: nn.MLP, x: Float32Array, rows: number, chunkRows: number, take: (c: OutputChunk) => void): Work<void> {
  const frozen = rows > chunkRows ? freeze(live) : null
  try {
    if (frozen) yield
    for (const c of outputChunks(frozen?.model ?? live, x, rows, chunkRows)) {
      take(c)
      if (c.start + c.rows < rows) yield
    }
  } finally {
    frozen?.release()
  }
}

/** The span of raw column `c` widened by BOUNDARY_MARGIN on each side (by 1 when it is a point). */
function extent(ds: SplitData['raw'], c: number): [number, number] {
  let lo = Infinity
  let hi = -Infinity
  for (let i = 0; i < ds.n; i++) {
    const v = ds.x[i * ds.nFeatures + c]
    if (v < lo) lo = v
    if (v > hi) hi = v
  }
  const pad = hi > lo ? (hi - lo) * BOUNDARY_MARGIN : 1
  return [lo - pad, hi + pad]
}

const finite = (v: number): number => (Number.isFinite(v) ? v : 0)
const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v))

/**
 * The model over a resolution × resolution grid spanning the raw 2-D data (plus a margin), each
 * point turned into model inputs as the data is. One output (BCE, hinge): P(class 1) = σ(logit);
 * softmax with 2 classes: P(class 1); more classes: the winning class and its probability;
 * regression: the predicted value. The grid is coarser than asked when BOUNDARY_BUDGET needs it.
 */
export function boundaryOf(session: TrainingSession, resolution: number, chunkRows?: number): BoundaryResult {
  return drain(boundaryWork(session, resolution, chunkRows))
}

/** boundaryOf as resumable work: the grid's forward pass in chunks of rows sized from the model's shape (work-budget.ts). */
export function* boundaryWork(session: TrainingSession, resolution: number, chunkRows?: number): Work<BoundaryResult> {
  const { trainer } = session
  const step = trainer.stepCount
  const { data, model, plan } = trainer
  if (!data.planar) {
    throw new HostError(
      'invalid_payload',
      `session.boundary: a decision boundary needs data with 2 raw input columns, but "${dataLabel(session.spec.data)}" has ${data.raw.nFeatures}`,
    )
  }
  const xRange = extent(data.raw, 0)
  const yRange = extent(data.raw, 1)
  const r = Math.floor(Math.sqrt(withinBudget(BOUNDARY_BUDGET, forwardCost(model), resolution * resolution, 64)))
  const cells = r * r
  const xy = new Float32Array(cells * 2)
  for (let row = 0; row < r; row++) {
    for (let col = 0; col < r; col++) {
      const k = (row * r + col) * 2
      xy[k] = xRange[0] + ((xRange[1] - xRange[0]) * col) / (r - 1)
      xy[k + 1] = yRange[1] - ((yRange[1] - yRange[0]) * row) / (r - 1) // top row is yMax
    }
  }
  const rows = chunkRows ?? evalChunkRows(model.sizes, trainer.chunkFlops)
  const out = yield* predict(model, data.toModelInputs(xy, cells), cells, rows)
  const k = plan.outputSize
  const values = new Array<number>(cells)
  const confidence: number[] = []
  let kind: BoundaryResult['kind']
  if (data.train.task === 'regression') {
    kind = 'value'
    for (let i = 0; i < cells; i++) values[i] = finite(unscale(out[i], data.targetScaling))
  } else if (k === 1) {
    kind = 'probability'
    for (let i = 0; i < cells; i++) values[i] = finite(sigmoid(out[i]))
  } else {
    kind = k === 2 ? 'probability' : 'class'
    for (let i = 0; i < cells; i++) {
      let best = 0
      for (let j = 1; j < k; j++) if (out[i * k + j] > out[i * k + best]) best = j
      let z = 0
      for (let j = 0; j < k; j++) z += Math.exp(out[i * k + j] - out[i * k + best])
      if (k === 2) values[i] = finite(Math.exp(out[i * k + 1] - out[i * k + best]) / z)
      else {
        values[i] = best
        confidence.push(finite(1 / z))
      }
    }
  }
  let min = Infinity
  let max = -Infinity
  for (const v of values) {
    if (v < min) min = v
    if (v > max) max = v
  }
  return { step, resolution: r, xRange, yRange, values, confidence, kind, min, max }
}

/** Class of row i of a chunk: one output is a logit (class 1 when positive); else the argmax. */
function classOf(out: TypedArray, i: number, k: number): number {
  if (k === 1) return out[i] > 0 ? 1 : 0
  let best = 0
  for (let j = 1; j < k; j++) if (out[i * k + j] > out[i * k + best]) best = j
  return best
}

/**
 * Regression: targets and predictions of the split's first `max` rows. Classification: the first
 * `max` rows' actual and predicted classes, and confusion[actual][predicted] over the whole split,
 * tallied chunk by chunk: what it holds is bounded by `max`, the classes and one chunk's outputs,
 * never by the split's rows × outputs (100k rows × 256 classes would be 200 MB).
 */
export function predictionsOf(session: TrainingSession, split: 'train' | 'test', max: number, chunkRows?: number): PredictionsResult {
  return drain(predictionsWork(session, split, max, chunkRows))
}

/** predictionsOf as resumable work: the split's forward pass in chunks of rows sized from the model's shape (work-budget.ts). */
export function* predictionsWork(
  session: TrainingSession,
  split: 'train' | 'test',
  max: number,
  chunkRows?: number,
): Work<PredictionsResult> {
  const { trainer } = session
  const step = trainer.stepCount
  const rows = chunkRows ?? evalChunkRows(trainer.model.sizes, trainer.chunkFlops)
  const ds = trainer.data[split]
  if (ds.n === 0)
    throw new HostError(
      'invalid_payload',
      `session.predictions: the session has no ${split} rows (its testRatio leaves none); ask for the other split`,
    )
  const shown = Math.min(max, ds.n)
  const k = trainer.plan.outputSize
  const actual = Array.from(ds.y.subarray(0, shown))
  if (ds.task === 'regression') {
    // In the target's units: the raw rows' targets, and outputs mapped back from a standardised target.
    const { raw, targetScaling, trainRows, testRows } = trainer.data
    const rawRows = (split === 'train' ? trainRows : testRows).slice(0, shown)
    const predicted: number[] = []
    yield* frozenChunks(trainer.model, ds.x, shown, rows, (c) => {
      for (const v of c.out) predicted.push(finite(unscale(v, targetScaling)))
    })
    return { step, split, actual: rawRows.map((i) => raw.y[i]), predicted, confusion: null }
  }
  const n = ds.nClasses
  const confusion = Array.from({ length: n }, () => new Array<number>(n).fill(0))
  const predicted: number[] = []
  yield* frozenChunks(trainer.model, ds.x, ds.n, rows, (c) => {
    for (let i = 0; i < c.rows; i++) {
      const p = classOf(c.out, i, k)
      confusion[ds.y[c.start + i]][p]++
      if (c.start + i < shown) predicted.push(p)
    }
  })
  return { step, split, actual, predicted, confusion }
}
