// The forward and backward half of a training step. A batch bigger than the driver's chunk (a big
// CPU step) accumulates gradients over chunks of its rows, one chunk per piece with a slice point
// after each: each chunk's loss is its rows' mean, weighted by its share of the batch (m/B) in the
// reported loss and in the gradient, so the sum equals the whole batch's up to float rounding.
// Between chunks the parameters keep the last completed step's gradients (readers such as the
// histograms see a finished step); the partial sums live here until the last chunk.
import { mul, nn, type data, type Tensor } from '../../engine'
import { OutputTally } from '../metrics'
import type { LossPlan } from '../setup'
import { later, SLICE, type Drive } from './drive'
import type { Driver } from './driver'

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
 * Forward and backward over batch `b` (`f` features a row) in chunks of `rows` rows. At the end the batch's gradients
 * replace the parameters' ones; null when `current()` says the step was abandoned at a slice
 * point (then nothing was assigned). A non-finite chunk loss known at once (the CPU) ends the pass
 * before its backward.
 */
export function* gradients(d: Driver, plan: LossPlan, b: data.Batch, f: number, rows: number, sampleStats: boolean, current: () => boolean): Drive<Pass | null> {
  const { model } = d
  const params = d.optimizer.params
  const split = rows < b.size
  const pass: Pass = { loss: 0, refused: null, outputs: sampleStats ? new OutputTally(model) : null }
  const sums: (Tensor | null)[] = params.map(() => null)
  for (let a = 0; a < b.size; a += rows) {
    const m = Math.min(rows, b.size - a)
    const kept = params.map((p) => p.grad)
    for (const p of params) p.grad = null
    try {
      const outs: Tensor[] = []
      let h = d.input(b.x.subarray(a * f, (a + m) * f), m, f)
      for (let i = 0; i < model.layers.length; i++) outs.push((h = nn.activate(model.layers[i].forward(h), model.activations[i])))
      const loss = plan.loss(h, b.y.subarray(a, a + m))
      const sampled = pass.outputs ? outs.map((o) => ({ value: o })) : []
      yield* later([{ value: loss }, ...sampled], ([v, ...hs]) => {
        if (!Number.isFinite(v[0])) pass.refused ??= v[0]
        else pass.loss += split ? (v[0] * m) / b.size : v[0]
        hs.forEach((x, i) => pass.outputs!.add(i, x, m))
      })
      if (pass.refused !== null) return pass
      ;(split ? mul(loss, m / b.size) : loss).backward()
      params.forEach((p, i) => {
        if (p.grad) sums[i] = split ? d.accumulate(sums[i], p.grad) : p.grad
      })
    } finally {
      params.forEach((p, i) => (p.grad = kept[i]))
    }
    if (split) {
      yield SLICE
      if (!current()) return null
    }
  }
  params.forEach((p, i) => (p.grad = sums[i]))
  return pass
}
