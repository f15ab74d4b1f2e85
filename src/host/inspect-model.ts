// Looking inside a session's model without touching it: a private copy of the current weights, a
// fixed batch of training rows, the autograd graph of one step on that copy, and gradient checks
// against central differences in float64. Nothing here steps the optimiser, writes the live
// model's weights or its .grad, or draws from a shared random generator, so a running session
// trains exactly as it would have (the requests run between its time slices). The copies are in
// eval mode, as the live model rests between steps: BatchNorm normalises with its running
// statistics (and never moves them), dropout is the identity (and draws no mask). The graph is the
// exception: it draws a training step, in train mode, on a copy that owns its statistics and masks.
import { EngineError, graphSnapshotInPieces, nn, noGrad, tensor, type Tensor, type data } from '../engine'
import type { RequestResult } from '../shared/protocol'
import { HostError } from './errors'
import { graphMode, recordGroups, stopRecording } from './graph-groups'
import { backwardWork, freeze } from './inspect-pieces'
import { view } from './metrics'
import type { TrainingSession } from './session'
import { drain, evalChunkRows, FLOAT64_FLOP_COST, pieceElements, passRows, type Work } from './work-budget'

export type GraphResult = RequestResult<'session.graph'>
export type GradcheckResult = RequestResult<'session.gradcheck'>

/** Rows of the training set a gradient check evaluates the loss on. */
export const GRADCHECK_ROWS = 16
/** Step size of the central differences (float64 leaves ~1e-10 of rounding at this size). */
export const GRADCHECK_EPS = 1e-6
const SAMPLES_SHOWN = 10

// Requests run on the worker's one thread between training slices, so each has a budget of
// multiply-adds (the CPU backend does roughly 0.25–1 G of them a second): a big model gets a
// smaller batch or fewer checked elements instead of stalling every session for seconds.
export const GRAPH_BUDGET = 3e7
export const GRADCHECK_BUDGET = 5e7

/** Multiply-adds of one row's forward pass through layers from..to-1. */
export function forwardCost(model: nn.MLP, from = 0, to = model.layers.length): number {
  return model.layers.slice(from, to).reduce((s, l) => s + l.inFeatures * l.outFeatures, 0)
}

/** How many items (rows, elements, grid points: at least `min`, at most `want`) fit the budget. */
export function withinBudget(budget: number, costEach: number, want: number, min = 1): number {
  return Math.max(min, Math.min(want, Math.floor(budget / costEach)))
}

/** The first `rows` rows of a dataset as an input batch for `model` (its backend and dtype). */
export function firstRows(
  ds: data.Dataset,
  rows: number,
  model: nn.MLP,
  requiresGrad = false,
): { x: Tensor; y: Float32Array; rows: number } {
  const n = Math.min(rows, ds.n)
  const w = model.layers[0].weight
  const x = tensor(ds.x.subarray(0, n * ds.nFeatures), {
    shape: [n, ds.nFeatures],
    dtype: w.dtype,
    backend: w.backend,
    requiresGrad,
    allowNonFinite: true,
  })
  return { x, y: ds.y.slice(0, n), rows: n }
}

/** The output of layers from..to-1 (the last one's: what the next layer reads), starting from `h`, the input of layer `from`. */
export function outputOf(model: nn.MLP, h: Tensor, from = 0, to = model.layers.length): Tensor {
  return to > from ? model.forwardLayers(h, from, to).at(-1)!.output : h
}

/** The Linear layer (hidden layers: the block) a parameter belongs to, from its name: layers.{i}.* or norms.{i}.*. */
export function layerOfParam(name: string): number {
  return Number(/^(?:layers|norms)\.(\d+)\./.exec(name)![1])
}

/**
 * One forward + backward of the current weights (on a copy) over the first rows (fewer when the
 * model is too big for GRAPH_BUDGET or one piece of work: the result says how many), as a graph.
 * Unlike the other inspections it runs in train mode, as a training step does (graph-groups.ts), on
 * a copy with its own running statistics; dropout draws the masks the next training step would,
 * and the live generator is put back as it was, so the live model is left as it was.
 */
export function graphOf(session: TrainingSession, batchSize: number): GraphResult {
  return drain(graphWork(session, batchSize))
}

/** graphOf as resumable work: the copy, the step, then the nodes' statistics in pieces of pieceElements (work-budget.ts). */
export function* graphWork(session: TrainingSession, batchSize: number): Work<GraphResult> {
  const { trainer } = session
  const step = trainer.stepCount
  const frozen = freeze(trainer.model)
  try {
    const model = frozen.model
    yield
    // Forward and backward cost about three forward passes.
    const want = Math.min(withinBudget(GRAPH_BUDGET, 3 * forwardCost(model), batchSize), passRows(model.sizes, trainer.chunkFlops))
    const { x, y, rows } = firstRows(trainer.data.train, want, model)
    const mode = graphMode(model, rows)
    const groups = recordGroups(model)
    // The copy shares the live dropout generator: what the step draws from it is given back.
    const rng = model.dropoutRng
    const drawn = rng?.getState()
    let loss: Tensor
    try {
      model.train(mode === 'train')
      loss = trainer.plan.loss(model.forward(x), y)
    } finally {
      if (rng && drawn) rng.setState(drawn)
      stopRecording(model)
    }
    yield
    yield* backwardWork(loss, trainer.chunkFlops, { retainGrads: true })
    yield
    const labels = new Map<Tensor, string>([...model.namedParameters(), ...model.namedBuffers()].map(([name, p]) => [p, name]))
    labels.set(x, 'input x')
    const snap = yield* graphSnapshotInPieces(loss, pieceElements(trainer.chunkFlops), { labels, rootLabel: 'loss', groups })
    return { sessionId: session.id, step, batchSize: rows, mode, nodes: snap.nodes, edges: snap.edges, rootId: snap.rootId }
  } finally {
    frozen.release()
  }
}

/** `m` element indices spread evenly over `size` (all of them when m >= size). */
export function spreadIndices(size: number, m: number): number[] {
  if (m >= size) return Array.from({ length: size }, (_, i) => i)
  return Array.from({ length: m }, (_, k) => Math.floor((k * size) / m))
}

/**
 * The analytic gradient of one parameter against central differences, on a float64 copy of the
 * model and the first GRADCHECK_ROWS training rows. Only the layers from the parameter's own layer
 * on are re-evaluated for each difference (the earlier ones do not depend on it).
 */
export function gradcheckOf(session: TrainingSession, param: string, maxElements: number): GradcheckResult {
  return drain(gradcheckWork(session, param, maxElements))
}

/**
 * gradcheckOf as resumable work: the float64 copy is a piece, the analytic gradient and every loss
 * evaluation run in chunks of rows sized from the layers they pass (work-budget.ts), one piece each.
 */
export function* gradcheckWork(session: TrainingSession, param: string, maxElements: number): Work<GradcheckResult> {
  const { trainer } = session
  const names = trainer.model.namedParameters().map(([n]) => n)
  const index = names.indexOf(param)
  if (index < 0)
    throw new HostError('not_found', `session.gradcheck: no parameter "${param}"; the model's parameters are ${names.join(', ')}`)
  const step = trainer.stepCount
  const frozen = freeze(trainer.model, 'float64')
  // Only the checked parameter needs a gradient: backward computes no other weight's (a 16×1024
  // model's would be 126 MB of float64 written per check).
  const params = frozen.model.namedParameters().map(([, p]) => p)
  const flags = params.map((p) => p.requiresGrad)
  params.forEach((p, i) => (p.requiresGrad = i === index))
  try {
    yield
    return yield* check(session, frozen.model, param, index, maxElements, step)
  } finally {
    params.forEach((p, i) => (p.requiresGrad = flags[i]))
    frozen.release()
  }
}

function* check(
  session: TrainingSession,
  model: nn.MLP,
  param: string,
  index: number,
  maxElements: number,
  step: number,
): Work<GradcheckResult> {
  const { trainer } = session
  const p = model.namedParameters()[index][1]
  const layer = layerOfParam(param)
  const { x, y, rows } = firstRows(trainer.data.train, GRADCHECK_ROWS, model)
  // Rows per chunk: what fits one piece both through the layers before the parameter's (a forward)
  // and from it on (forward + backward, or the two forwards of a difference).
  // A piece holds fewer float64 FLOPs (work-budget.ts FLOAT64_FLOP_COST).
  const budget = trainer.chunkFlops / FLOAT64_FLOP_COST
  const widths = model.sizes
  const per = Math.min(evalChunkRows(widths.slice(0, layer + 1), budget), passRows(widths.slice(layer), budget))
  const xs = view(x)
  const f = x.shape[1]
  const rowsOf = (a: number, m: number): Tensor =>
    m === rows ? x : tensor(xs.subarray(a * f, (a + m) * f), { shape: [m, f], dtype: x.dtype, backend: x.backend, allowNonFinite: true })
  const starts = Array.from({ length: Math.ceil(rows / per) }, (_, c) => c * per)
  const h = yield* inChunks(starts, (a) => noGrad(() => outputOf(model, rowsOf(a, Math.min(per, rows - a)), 0, layer)))
  // The loss is a mean over rows: chunk c's loss weighs rows_c / rows.
  const lossOf = (c: number): Tensor => {
    const a = starts[c]
    const m = Math.min(per, rows - a)
    const l = trainer.plan.loss(outputOf(model, h[c], layer), y.subarray(a, a + m))
    return m === rows ? l : l.mul(m / rows)
  }
  const sum = (vs: number[]) => vs.reduce((s, v) => s + v, 0)
  const loss = function* (): Work<number> {
    return sum(yield* inChunks(starts, (_, c) => noGrad(() => view(lossOf(c))[0])))
  }

  let base = 0
  for (let c = 0; c < starts.length; c++) {
    const l = lossOf(c)
    base += view(l)[0]
    yield
    yield* backwardWork(l, budget)
  }
  yield
  if (!Number.isFinite(base))
    throw new HostError('engine', `session.gradcheck: the loss at the current weights is ${base}; there is no gradient to check`)
  const analytic = view(p.grad!)

  // Two loss evaluations per element, each from the parameter's layer on.
  const affordable = withinBudget(GRADCHECK_BUDGET, 2 * rows * forwardCost(model, layer), maxElements)
  const indices = spreadIndices(p.size, affordable)
  // The copy's weights are ours: perturb them in place.
  const w = view(p)
  const samples: GradcheckResult['samples'] = []
  let maxRel = 0
  let maxAbs = 0
  for (const i of indices) {
    const orig = w[i]
    w[i] = orig + GRADCHECK_EPS
    const plus = yield* loss()
    w[i] = orig - GRADCHECK_EPS
    const minus = yield* loss()
    w[i] = orig
    const numeric = (plus - minus) / (2 * GRADCHECK_EPS)
    const a = analytic[i]
    if (!Number.isFinite(numeric) || !Number.isFinite(a)) {
      throw new EngineError(
        'gradcheck',
        'nan',
        `${param}[${i}]: analytic ${a}, numeric ${numeric}; the loss is not finite near the current weights`,
      )
    }
    const abs = Math.abs(a - numeric)
    maxAbs = Math.max(maxAbs, abs)
    maxRel = Math.max(maxRel, abs / Math.max(1, Math.abs(a), Math.abs(numeric)))
    if (samples.length < SAMPLES_SHOWN) samples.push({ index: i, analytic: a, numeric })
  }
  const capped =
    indices.length < Math.min(maxElements, p.size) ? ` (capped at ${indices.length} to bound the time a model this size may take)` : ''
  return {
    param,
    maxRelError: maxRel,
    maxAbsError: maxAbs,
    checked: indices.length,
    total: p.size,
    samples,
    method:
      `central differences (L(θ+ε) − L(θ−ε)) / 2ε with ε = ${GRADCHECK_EPS.toExponential()}, against backward(), on a float64 copy of the model ` +
      `at step ${step}${evalNote(model)}, loss over the first ${rows} training rows; ${indices.length} of ${p.size} elements, evenly spread${capped}; ` +
      'error = |analytic − numeric| / max(1, |analytic|, |numeric|)',
  }
}

/** `fn` for each chunk's first row (and the chunk's number), one piece each, then a break; their results in order. */
function* inChunks<T>(starts: readonly number[], fn: (start: number, chunk: number) => T): Work<T[]> {
  const out: T[] = []
  for (let c = 0; c < starts.length; c++) {
    if (c > 0) yield
    out.push(fn(starts[c], c))
  }
  yield
  return out
}

/** How a model with norms or dropout is checked: as it rests, in eval mode, a fixed function of its weights. */
function evalNote(model: nn.MLP): string {
  const bn = model.norms.some((n) => n instanceof nn.BatchNorm1d)
  const drop = model.dropouts.some((d) => d !== null)
  if (!bn && !drop) return ''
  const parts = [bn && 'BatchNorm normalising with its running statistics', drop && 'dropout off'].filter(Boolean)
  return ` in eval mode (${parts.join(', ')})`
}
