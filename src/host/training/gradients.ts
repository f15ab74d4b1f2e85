// The forward and backward half of a training step, the forward in train mode (BatchNorm on the
// batch's statistics, dropout masks drawn). On the CPU (a model without BatchNorm or dropout:
// setup.ts stepsWhole) the pass runs in pieces with a slice point after each: one layer of the
// forward, one op's rule of the backward (autograd's backwardInPieces), so a wide model's step
// never holds the thread for a whole pass, yet runs over the whole batch at once (full-size
// products, no gradient sums). Only a batch too big for one piece per layer (work-budget.ts
// stepChunkRows) accumulates gradients over chunks of its rows: each chunk's loss is its rows'
// mean, weighted by its share of the batch (m/B) in the reported loss and in the gradient, so the
// sum equals the whole batch's up to float rounding.
// At every slice point the parameters hold the last completed step's gradients (readers such as
// the histograms see a finished step); the new ones are kept aside until the pass ends.
import { backwardInPieces, mul, type data, type nn, type Tensor, type TypedArray } from '../../engine'
import { OutputTally } from '../metrics'
import type { LossPlan } from '../setup'
import { later, SLICE, type Drive, type Read } from './drive'
import type { Driver } from './driver'
import { inTrainMode } from './model-state'
import { backwardFlops } from '../work-budget'

/**
 * What the pass found: the batch's mean loss, or the first non-finite chunk loss (`refused`), and
 * the sampled layer outputs. The losses and outputs are read with `later`: on the CPU they are in
 * when the pass returns, on a device after the step's next read.
 */
export interface Pass {
  loss: number
  refused: number | null
  outputs: OutputTally | null
}

/**
 * Forward and backward over batch `b` (`f` features a row), in `pieces` (Driver.inPieces) and then
 * in chunks of `rows` rows (fewer rows than the batch only in pieces). At the end the
 * batch's gradients replace the parameters' ones; null when `current()` says the step was abandoned
 * at a slice point (then nothing was assigned). A non-finite loss known at once (the CPU) ends the
 * pass before its backward.
 */
export function* gradients(
  d: Driver,
  plan: LossPlan,
  b: data.Batch,
  f: number,
  rows: number,
  /** FLOPs a piece may hold (the trainer's chunkFlops), or null for one piece. */
  pieces: number | null,
  sampleStats: boolean,
  current: () => boolean,
): Drive<Pass | null> {
  const params = d.optimizer.params
  const pass: Pass = { loss: 0, refused: null, outputs: sampleStats ? new OutputTally(d.model) : null }
  // A device queues the whole pass at once; a small step, or a BatchNorm or dropout model's, is one piece.
  if (pieces === null) {
    d.optimizer.zeroGrad()
    const loss = yield* chunk(d, plan, b, f, 0, b.size, pass, false)
    loss?.backward()
    return pass
  }
  const split = rows < b.size
  const sums: (Tensor | null)[] = params.map(() => null)
  for (let a = 0; a < b.size; a += rows) {
    const m = Math.min(rows, b.size - a)
    const r = yield* withOwnGrads(params, current, chunkPass(d, plan, b, f, a, m, pass, split, pieces))
    if (r === null) return null
    if (!r.value) return pass // refused: the step clears the gradients
    if (!split) {
      params.forEach((p, i) => (p.grad = r.grads[i]))
      return pass
    }
    r.grads.forEach((g, i) => {
      if (g) sums[i] = d.accumulate(sums[i], g)
    })
    yield SLICE
    if (!current()) return null
  }
  params.forEach((p, i) => (p.grad = sums[i]))
  return pass
}

/** One chunk's forward and backward, in pieces; false: its loss was not finite (no backward). */
function* chunkPass(
  d: Driver,
  plan: LossPlan,
  b: data.Batch,
  f: number,
  a: number,
  m: number,
  pass: Pass,
  split: boolean,
  budget: number,
): Drive<boolean> {
  const loss = yield* chunk(d, plan, b, f, a, m, pass, true)
  if (loss === null) return false
  for (const _ of backwardInPieces(split ? mul(loss, m / b.size) : loss, undefined, {}, { budget, cost: backwardFlops })) yield SLICE
  return true
}

/**
 * Run `work` with gradients of its own: the parameters hold them while it runs, and the last
 * step's again at every slice point and when it ends, so whatever runs between the pieces reads a
 * finished step's gradients. Its result with the gradients it made; null when `current()` says
 * the step was abandoned at a slice point.
 */
function* withOwnGrads<T>(
  params: readonly Tensor[],
  current: () => boolean,
  work: Drive<T>,
): Drive<{ value: T; grads: (Tensor | null)[] } | null> {
  const held = () => params.map((p) => p.grad)
  const hold = (g: readonly (Tensor | null)[]) => params.forEach((p, i) => (p.grad = g[i]))
  let kept = held()
  hold(params.map(() => null))
  try {
    let input: unknown
    for (;;) {
      const r = work.next(input)
      input = undefined
      if (r.done) return { value: r.value, grads: held() }
      if (r.value !== SLICE) {
        input = yield r.value
        continue
      }
      const mine = held()
      hold(kept)
      yield SLICE
      if (!current()) return null
      kept = held()
      hold(mine)
    }
  } finally {
    hold(kept)
  }
}

/**
 * The forward pass over rows [a, a+m) in train mode and its loss, which is read with `later` (with the layers'
 * outputs when sampled) into `pass`, weighted by the chunk's share of the batch. With `pieces`, a
 * slice point after each layer. Null when the loss is already known to be non-finite (the CPU):
 * no backward then.
 */
function* chunk(
  d: Driver,
  plan: LossPlan,
  b: data.Batch,
  f: number,
  a: number,
  m: number,
  pass: Pass,
  pieces: boolean,
): Drive<Tensor | null> {
  const { model } = d
  const x = d.input(b.x.subarray(a * f, (a + m) * f), m, f)
  const layers: nn.LayerOutput[] = []
  for (let i = 0; i < model.layers.length; i++) {
    const input = i === 0 ? x : layers[i - 1].output
    layers.push(inTrainMode(model, () => model.forwardLayer(i, input)))
    if (pieces && i < model.layers.length - 1) yield SLICE
  }
  const loss = plan.loss(layers.at(-1)!.output, b.y.subarray(a, a + m))
  const reads: Read[] = [{ value: loss }]
  // The statistics read each layer's activation output (dead and saturated units), before dropout and a residual sum.
  if (pass.outputs) for (const o of layers) reads.push({ value: o.activation })
  yield* later(reads, (values) => {
    const v = (values[0] as TypedArray)[0]
    if (!Number.isFinite(v)) pass.refused ??= v
    else pass.loss += (v * m) / b.size // exactly v for a whole batch
    for (let i = 1; i < values.length; i++) pass.outputs!.add(i - 1, values[i] as TypedArray, m)
  })
  return pass.refused === null ? loss : null
}
