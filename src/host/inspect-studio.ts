// The studio's inspection panels (histograms: inspect-histograms.ts): the decision boundary over
// 2-D inputs; predicted against actual on a split. Read-only for the session: they run the model
// without a graph, in pieces of work sized from its shape (on a frozen copy when there are several).
import { noGrad, tensor, type nn, type TypedArray } from '../engine'
import type { RequestResult } from '../shared/protocol'
import { dataLabel } from './data-source'
import { HostError } from './errors'
import { forwardCost, withinBudget } from './inspect-model'
import { freeze } from './inspect-pieces'
import { view } from './metrics'
import type { TrainingSession } from './session'
import type { SplitData } from './setup'
import { unscale } from './target-scaling'
import { drain, evalChunkRows, type Work } from './work-budget'

export type BoundaryResult = RequestResult<'session.boundary'>
export type PredictionsResult = RequestResult<'session.predictions'>

/** The boundary grid extends this fraction of the data's span past its extremes. */
export const BOUNDARY_MARGIN = 0.1
/** Multiply-adds a boundary may spend: a huge model gets a coarser grid (at least 8 × 8). */
export const BOUNDARY_BUDGET = 1e8
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
