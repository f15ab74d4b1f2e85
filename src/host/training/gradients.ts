// The forward and backward half of a training step, the forward in train mode (BatchNorm on the
// batch's statistics, dropout masks drawn). A batch bigger than the driver's chunk (a big CPU step
// without BatchNorm or dropout: setup.ts stepsWhole) accumulates gradients over chunks of its
// rows, one chunk per piece with a slice point after each: each chunk's loss is its rows' mean,
// weighted by its share of the batch (m/B) in the reported loss and in the gradient, so the sum
// equals the whole batch's up to float rounding.
// Between chunks the parameters keep the last completed step's gradients (readers such as the
// histograms see a finished step); the partial sums live here until the last chunk.
import { mul, type data, type Tensor, type TypedArray } from '../../engine'
import { OutputTally } from '../metrics'
import type { LossPlan } from '../setup'
import { later, SLICE, type Drive, type Read } from './drive'
import type { Driver } from './driver'
import { inTrainMode } from './model-state'

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
 * Forward and backward over batch `b` (`f` features a row) in chunks of `rows` rows. At the end the
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
  sampleStats: boolean,
  current: () => boolean,
): Drive<Pass | null> {
  const params = d.optimizer.params
  const pass: Pass = { loss: 0, refused: null, outputs: sampleStats ? new OutputTally(d.model) : null }
  if (rows >= b.size) {
    d.optimizer.zeroGrad()
    const loss = yield* chunk(d, plan, b, f, 0, b.size, pass)
    loss?.backward()
    return pass
  }
  const sums: (Tensor | null)[] = params.map(() => null)
  for (let a = 0; a < b.size; a += rows) {
    const m = Math.min(rows, b.size - a)
    const kept = params.map((p) => p.grad)
    for (const p of params) p.grad = null
    try {
      const loss = yield* chunk(d, plan, b, f, a, m, pass)
      if (loss === null) return pass // refused: the step clears the gradients
      mul(loss, m / b.size).backward()
      params.forEach((p, i) => {
        if (p.grad) sums[i] = d.accumulate(sums[i], p.grad)
      })
    } finally {
      params.forEach((p, i) => (p.grad = kept[i]))
    }
    yield SLICE
    if (!current()) return null
  }
  params.forEach((p, i) => (p.grad = sums[i]))
  return pass
}

/**
 * The forward pass over rows [a, a+m) in train mode and its loss, which is read with `later` (with the layers'
 * outputs when sampled) into `pass`, weighted by the chunk's share of the batch. Null when the
 * loss is already known to be non-finite (the CPU): no backward then.
 */
function* chunk(d: Driver, plan: LossPlan, b: data.Batch, f: number, a: number, m: number, pass: Pass): Drive<Tensor | null> {
  const { model } = d
  const x = d.input(b.x.subarray(a * f, (a + m) * f), m, f)
  const layers = inTrainMode(model, () => model.forwardLayers(x))
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
