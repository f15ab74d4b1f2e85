// The network view's data: every layer's weights, gradients and last updates as edges, and each
// neuron's mean activation and gradient; and a neuron's output over the 2-D input plane. Read-only
// for the session: gradients come from a copy of the model (in eval mode, as it rests), the neuron
// map runs without a graph. A hidden neuron is a unit of its layer's activation output: before
// dropout, a residual sum and a post norm (what the skip arcs add is drawn by the view).
import { data, noGrad, tensor, type Tensor, type TypedArray } from '../engine'
import type { RequestResult } from '../shared/protocol'
import { HostError } from './errors'
import { firstRows, forwardCost, withinBudget } from './inspect-model'
import { backwardWork, freeze } from './inspect-pieces'
import { view } from './metrics'
import type { TrainingSession } from './session'
import type { Trainer } from './trainer'
import { NETWORK_MAX_NEURONS, shownNeurons, strongestOf } from './network-sample'
import { drain, passRows, type Work } from './work-budget'

export type NetworkResult = RequestResult<'session.network'>
export type NeuronMapResult = RequestResult<'session.neuronMap'>

/** The fixed evaluation batch for neuron statistics and edge gradients: the first training rows
 *  (fewer for a model so big that NETWORK_BUDGET multiply-adds would not cover 256). */
export const NETWORK_EVAL_ROWS = 256
export const NETWORK_BUDGET = 3e7
/** Multiply-adds a neuron map may spend: a huge model gets a coarser grid (at least 4 × 4). */
export const MAP_BUDGET = 1e8
/** The neuron map's grid extends this fraction of the data's span past its extremes. */
export const MAP_MARGIN = 0.05

/** NaN/Inf cannot cross JSON; a diverged model's numbers show as 0 (the loss chart says why). */
const finite = (v: number): number => (Number.isFinite(v) ? v : 0)

/** Per-column mean of a row-major [rows, cols] matrix (scale 1/rows), or the column sum (scale 1). */
function columns(values: ArrayLike<number>, rows: number, cols: number, scale: number): number[] {
  const out = new Array<number>(cols).fill(0)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c] += values[r * cols + c]
  return out.map((v) => finite(v * scale))
}

/**
 * Weights, their gradients and last updates, biases, and per-neuron statistics over the first
 * NETWORK_EVAL_ROWS training rows (fewer for a huge model). `grad` and `gradActivation` come from one forward + backward of
 * that batch on a copy of the model (not the last minibatch), so edges and neurons agree; the
 * update is the live optimiser's last step (Δw = w − w before it, from the trainer's pre-step copy).
 * gradActivation is the batch sum of ∂L/∂activation for the batch-mean loss L, i.e. the mean over
 * the batch of each example's ∂loss/∂activation.
 */
export function networkOf(session: TrainingSession, maxEdgesPerLayer: number, maxNeurons = NETWORK_MAX_NEURONS): NetworkResult {
  return drain(networkWork(session, maxEdgesPerLayer, maxNeurons))
}

/**
 * networkOf as resumable work, in three pieces: freeze the weights (a copy) and pick the edges and
 * their last updates; one forward + backward on the copy (rows capped so it stays within one piece
 * of work, passRows); then the picked edges' gradients and the neurons' statistics.
 */
export function* networkWork(session: TrainingSession, maxEdgesPerLayer: number, maxNeurons = NETWORK_MAX_NEURONS): Work<NetworkResult> {
  const { trainer } = session
  const live = trainer.model
  const step = trainer.stepCount
  const frozen = freeze(live)
  try {
    const model = frozen.model
    const sizes = [model.layers[0].inFeatures, ...model.layers.map((l) => l.outFeatures)]
    const shown = shownNeurons(sizes, maxNeurons)
    // Weights are stored [in, out]: element k joins input neuron ⌊k/out⌋ to output neuron k mod out.
    const edges = model.layers.map((layer, i) => {
      const candidates = shown[i].flatMap((a) => shown[i + 1].map((b) => a * layer.outFeatures + b))
      const picked = strongestOf(view(layer.weight), candidates, maxEdgesPerLayer)
      return { picked, update: lastUpdate(trainer, trainer.optimizer.params.indexOf(live.layers[i].weight), picked) }
    })
    yield

    const want = Math.min(
      withinBudget(NETWORK_BUDGET, 3 * forwardCost(model), NETWORK_EVAL_ROWS, 8),
      passRows(model.sizes, trainer.chunkFlops),
    )
    const { x, y, rows } = firstRows(trainer.data.train, want, model, true)
    const outs = model.forwardLayers(x)
    const acts = outs.map((o) => o.activation.retainGrad())
    const loss = trainer.plan.loss(outs.at(-1)!.output, y)
    yield
    yield* backwardWork(loss, trainer.chunkFlops)
    yield

    const pick = (values: ArrayLike<number>, c: number): number[] => shown[c].map((i) => finite(values[i]))
    const neurons = [x, ...acts].map((h, c) => {
      const cols = h.shape[1]
      return {
        activation: pick(columns(view(h), rows, cols, 1 / rows), c),
        gradActivation: h.grad ? pick(columns(view(h.grad), rows, cols, 1), c) : new Array<number>(shown[c].length).fill(0),
      }
    })
    const layers = model.layers.map((layer, i) => {
      const w = view(layer.weight)
      const g = layer.weight.grad ? view(layer.weight.grad) : null
      const out = layer.outFeatures
      // from/to are positions among the shown neurons (shown[c][position] is the neuron's index).
      const { picked, update } = edges[i]
      const row = new Map(shown[i].map((n, p) => [n, p]))
      const col = new Map(shown[i + 1].map((n, p) => [n, p]))
      const bias = layer.bias ? view(layer.bias) : new Float32Array(out)
      const biasGrad = layer.bias?.grad ? view(layer.bias.grad) : new Float32Array(out)
      return {
        name: `layers.${i}`,
        inFeatures: layer.inFeatures,
        outFeatures: out,
        activation: model.activations[i],
        from: picked.map((k) => row.get(Math.floor(k / out))!),
        to: picked.map((k) => col.get(k % out)!),
        weight: picked.map((k) => finite(w[k])),
        grad: picked.map((k) => (g ? finite(g[k]) : 0)),
        update: Array.from(update, finite),
        sampled: picked.length < w.length,
        bias: pick(bias, i + 1),
        biasGrad: pick(biasGrad, i + 1),
      }
    })
    const result: NetworkResult = { sessionId: session.id, step, featureNames: [...trainer.data.train.featureNames], layers, neurons }
    if (shown.some((s, c) => s.length < sizes[c])) result.shown = shown
    return result
  } finally {
    frozen.release()
  }
}

/**
 * One neuron's output over a resolution × resolution grid spanning the raw 2-D data (plus a
 * margin), each grid point featurized as the session's inputs are. The resolution is the one asked
 * for unless the model is so big that MAP_BUDGET needs a coarser grid; the result says which. The output layer shows what the
 * loss reads: P(class) for softmax cross-entropy, P(class 1) for BCE, the raw output otherwise.
 */
export function neuronMapOf(session: TrainingSession, layer: number, neuron: number, resolution: number): NeuronMapResult {
  const { trainer } = session
  const model = trainer.model
  const n = model.layers.length
  if (layer >= n)
    throw new HostError(
      'invalid_payload',
      `session.neuronMap: layer ${layer} does not exist; the model has ${n} layers (0..${n - 1}, the last is the output)`,
    )
  const width = model.layers[layer].outFeatures
  if (neuron >= width)
    throw new HostError(
      'invalid_payload',
      `session.neuronMap: neuron ${neuron} does not exist; layer ${layer} has ${width} neurons (0..${width - 1})`,
    )
  const raw = trainer.data.raw
  if (raw.nFeatures !== 2) {
    throw new HostError(
      'invalid_payload',
      `session.neuronMap: needs a dataset of 2-D points to draw over the plane, but "${raw.name}" has ${raw.nFeatures} raw features`,
    )
  }
  const r = Math.floor(Math.sqrt(withinBudget(MAP_BUDGET, forwardCost(model, 0, layer + 1), resolution * resolution, 16)))
  const { xRange, yRange, xy } = planeGrid(raw, r)
  const features = trainer.data.toModelInputs(xy, r * r)
  const nFeatures = trainer.data.featureNames.length
  const w = model.layers[0].weight
  const values = noGrad(() => {
    const x = tensor(features, { shape: [r * r, nFeatures], dtype: w.dtype, backend: w.backend, allowNonFinite: true })
    let h = model.forwardLayers(x, 0, layer + 1).at(-1)!.activation
    if (layer === n - 1) h = asLossReads(h, trainer.plan.name)
    const out = view(h)
    return Array.from({ length: r * r }, (_, i) => finite(out[i * width + neuron]))
  })
  let min = Infinity
  let max = -Infinity
  for (const v of values) {
    if (v < min) min = v
    if (v > max) max = v
  }
  return { resolution: r, xRange, yRange, values, min, max }
}

/**
 * The last optimiser update of parameter `index` (of optimizer.params), of every element or of
 * `elements` only: its values now minus the
 * copy taken before the step, which the NaN guard keeps anyway, so this costs nothing per step.
 * Zeros before the first step. A step the NaN guard refused changed no weight: depending on where
 * it stopped, the update reads as zero or is still the last accepted step's.
 */
export function lastUpdate(trainer: Trainer, index: number, elements?: readonly number[]): Float64Array {
  const p = trainer.optimizer.params[index]
  const out = new Float64Array(elements ? elements.length : p.size)
  if (trainer.stepCount === 0) return out // snapshots may still hold the run before a reset
  const now: TypedArray = view(p)
  const before = trainer.snapshots[index]
  for (let j = 0; j < out.length; j++) {
    const k = elements ? elements[j] : j
    out[j] = now[k] - before[k]
  }
  return out
}

/** The output layer as the loss reads it: P(class) for softmax cross-entropy, P(class 1) for BCE, else the raw output. */
export function asLossReads(out: Tensor, loss: string): Tensor {
  if (loss === 'softmaxCrossEntropy') return out.softmax(1)
  if (loss === 'bceWithLogits') return out.sigmoid()
  return out
}

/**
 * A resolution × resolution grid over the raw 2-D data's span (plus MAP_MARGIN): the points as
 * raw (x1, x2) pairs, row-major from (xMin, yMax) at the top left, and the ranges it spans.
 */
export function planeGrid(raw: data.Dataset, r: number): { xRange: [number, number]; yRange: [number, number]; xy: Float32Array } {
  const xRange = range(raw, 0)
  const yRange = range(raw, 1)
  const xy = new Float32Array(r * r * 2)
  for (let row = 0; row < r; row++) {
    for (let col = 0; col < r; col++) {
      const k = (row * r + col) * 2
      xy[k] = xRange[0] + ((xRange[1] - xRange[0]) * col) / (r - 1)
      xy[k + 1] = yRange[1] - ((yRange[1] - yRange[0]) * row) / (r - 1) // top row is yMax
    }
  }
  return { xRange, yRange, xy }
}

/** The span of raw column `c`, widened by MAP_MARGIN on each side (by 1 when the span is 0). */
function range(ds: data.Dataset, c: number): [number, number] {
  let lo = Infinity
  let hi = -Infinity
  for (let i = 0; i < ds.n; i++) {
    const v = ds.x[i * ds.nFeatures + c]
    if (v < lo) lo = v
    if (v > hi) hi = v
  }
  const pad = hi > lo ? (hi - lo) * MAP_MARGIN : 1
  return [lo - pad, hi + pad]
}
