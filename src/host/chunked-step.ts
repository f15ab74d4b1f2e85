// The forward and backward half of a training step too big for one piece of work: gradient
// accumulation over chunks of the batch's rows, one chunk per resume. Each chunk's loss is its
// rows' mean, so it is weighted by its share of the batch (m/B) both in the reported loss and in
// the gradient: the sum equals the whole batch's mean loss and gradient up to float rounding.
// Between chunks the parameters keep the last completed step's gradients (readers such as the
// histograms see a finished step); the partial sums live here until the last chunk.
import { mul, nn, tensor, type Tensor, type data } from '../engine'
import { OutputTally, view } from './metrics'
import type { Trainer } from './trainer'
import type { Work } from './work-budget'

/** A split step in progress: the batch order from before its batch was drawn (checkpoints, abandon). */
export interface PendingStep {
  samplerBefore: data.SamplerState
}

/** The batch's mean loss and, when sampled, the layers' outputs tallied over every chunk; or the first non-finite chunk loss. */
export type Accumulated = { loss: number; outputs: OutputTally | null } | { refused: number }

type Sum = Float32Array | Float64Array

/**
 * Forward and backward over `b` in chunks of `rows` rows, yielding after each. On the last chunk
 * the summed gradients become the parameters' gradients, unless `current()` says the step was
 * abandoned meanwhile (then nothing is assigned and the result is meaningless). A non-finite chunk
 * loss ends it at once, gradients cleared as trainStep leaves them (the batch's mean would be
 * that value too: every loss here is a mean of non-negative terms).
 */
export function* accumulateStep(t: Trainer, b: data.Batch, rows: number, sampleStats: boolean, current: () => boolean): Work<Accumulated> {
  const params = t.optimizer.params
  const sums: (Sum | null)[] = params.map(() => null)
  const tally = sampleStats ? new OutputTally(t.model) : null
  const f = t.data.train.nFeatures
  let loss = 0
  for (let a = 0; a < b.size; a += rows) {
    const m = Math.min(rows, b.size - a)
    const kept = params.map((p) => p.grad)
    for (const p of params) p.grad = null
    let refused: number | null = null
    try {
      let h = t.inputOf(b.x.subarray(a * f, (a + m) * f), m)
      for (let i = 0; i < t.model.layers.length; i++) {
        h = nn.activate(t.model.layers[i].forward(h), t.model.activations[i])
        tally?.add(i, view(h), m)
      }
      const chunkLoss = t.plan.loss(h, b.y.subarray(a, a + m))
      const v = view(chunkLoss)[0]
      if (!Number.isFinite(v)) refused = v
      else {
        loss += (v * m) / b.size
        mul(chunkLoss, m / b.size).backward()
        params.forEach((p, i) => {
          if (p.grad) sums[i] = addInto(sums[i], view(p.grad) as Sum)
        })
      }
    } finally {
      params.forEach((p, i) => (p.grad = kept[i]))
    }
    if (refused !== null) {
      for (const p of params) p.grad = null
      return { refused }
    }
    yield
    if (!current()) return { loss: NaN, outputs: null }
  }
  params.forEach((p, i) => {
    const s = sums[i]
    p.grad = s ? tensor(s, { shape: p.shape, dtype: p.dtype, backend: p.backend, allowNonFinite: true }) : null
  })
  return { loss, outputs: tally }
}

/** sum += g (a fresh copy of g the first time: the chunk's gradient storage is not ours to keep). */
function addInto(sum: Sum | null, g: Sum): Sum {
  if (sum === null) return g.slice()
  for (let k = 0; k < g.length; k++) sum[k] += g[k]
  return sum
}
