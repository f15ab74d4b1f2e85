// The norm layers' rows of the sampled statistics (protocol-stats.ts NormStats): γ and β and their
// gradients, and for BatchNorm how far the batch's statistics were from the running ones. The
// running statistics before the step come from the step's kept model state (model-state.ts), so
// the batch's own mean and variance need no extra pass: the step moved the running mean by
// momentum·(batch mean − running mean) and the running variance likewise.
import { nn, type Tensor, type TypedArray } from '../engine'
import type { NormStats } from './metrics'
import type { ModelState } from './training/model-state'

/** A BatchNorm's running statistics now and as the step found them (num_batches_tracked: how many batches moved them). */
interface Running {
  mean: Tensor
  variance: Tensor
  tracked: Tensor
  before: { mean: Tensor; variance: Tensor; tracked: Tensor }
}

function runningOf(model: nn.MLP, i: number, before: ModelState | null): Running | null {
  const norm = model.norms[i]
  if (!(norm instanceof nn.BatchNorm1d) || !before || before.model !== model) return null
  const names = model.namedBuffers().map(([k]) => k)
  const kept = (k: string): Tensor | undefined => before.buffers[names.indexOf(`norms.${i}.${k}`)]
  const [mean, variance, tracked] = [kept('running_mean'), kept('running_var'), kept('num_batches_tracked')]
  if (!mean || !variance || !tracked) return null
  return { mean: norm.runningMean, variance: norm.runningVar, tracked: norm.numBatchesTracked, before: { mean, variance, tracked } }
}

/** Every tensor normStats reads, so a device step can fetch them with its other reads. */
export function normStatsReads(model: nn.MLP, before: ModelState | null): Tensor[] {
  const out: Tensor[] = []
  model.norms.forEach((n, i) => {
    if (!n) return
    out.push(n.weight, n.bias)
    if (n.weight.grad) out.push(n.weight.grad)
    if (n.bias.grad) out.push(n.bias.grad)
    const r = runningOf(model, i, before)
    if (r) out.push(r.mean, r.variance, r.tracked, r.before.mean, r.before.variance, r.before.tracked)
  })
  return out
}

interface Sums {
  sq: number
  abs: number
  max: number
}

function sums(v: TypedArray | null): Sums {
  const s = { sq: 0, abs: 0, max: 0 }
  if (v)
    for (let k = 0; k < v.length; k++) {
      const a = Math.abs(v[k])
      s.sq += a * a
      s.abs += a
      if (a > s.max) s.max = a
    }
  return s
}

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null)

/**
 * The batch-vs-running gap of one BatchNorm (see NormStats): null unless the step moved the
 * running statistics by exactly one batch with a non-zero momentum (else the batch's statistics
 * cannot be recovered from the move).
 */
function gaps(norm: nn.BatchNorm1d, r: Running, read: (t: Tensor) => TypedArray): { meanGap: number | null; varFactor: number | null } {
  const m = norm.momentum
  const none = { meanGap: null, varFactor: null }
  if (!(m > 0) || read(r.tracked)[0] - read(r.before.tracked)[0] !== 1) return none
  const [mean, variance, mean0, var0] = [read(r.mean), read(r.variance), read(r.before.mean), read(r.before.variance)]
  let z2 = 0
  let l2 = 0
  for (let j = 0; j < mean.length; j++) {
    const batchMean = mean0[j] + (mean[j] - mean0[j]) / m
    const batchVar = Math.max(0, (variance[j] - (1 - m) * var0[j]) / m)
    z2 += (batchMean - mean0[j]) ** 2 / (var0[j] + norm.eps)
    l2 += Math.log((batchVar + norm.eps) / (var0[j] + norm.eps)) ** 2
  }
  const f = Math.max(1, mean.length)
  return { meanGap: finiteOrNull(Math.sqrt(z2 / f)), varFactor: finiteOrNull(Math.exp(Math.sqrt(l2 / f))) }
}

/**
 * Each norm layer's row, taken after backward and before the optimiser step, as layerStats takes
 * the Linear layers'. `before` is the model state the step kept (its running statistics before
 * the forward pass); `read` gives a tensor's values, as for layerStats.
 */
export function normStats(model: nn.MLP, lr: number, before: ModelState | null, read: (t: Tensor) => TypedArray): NormStats[] {
  const out: NormStats[] = []
  model.norms.forEach((n, i) => {
    if (!n) return
    const gg = sums(n.weight.grad ? read(n.weight.grad) : null)
    const gb = sums(n.bias.grad ? read(n.bias.grad) : null)
    const w2 = sums(read(n.weight)).sq + sums(read(n.bias)).sq
    const gradNorm = Math.sqrt(gg.sq + gb.sq)
    const weightNorm = Math.sqrt(w2)
    const r = n instanceof nn.BatchNorm1d ? runningOf(model, i, before) : null
    out.push({
      layer: i,
      kind: n instanceof nn.BatchNorm1d ? 'batch' : 'layer',
      gradNorm,
      meanAbsGrad: n.weight.grad || n.bias.grad ? (gg.abs + gb.abs) / (2 * n.features) : 0,
      maxAbsGrad: Math.max(gg.max, gb.max),
      weightNorm,
      updateRatio: weightNorm > 0 ? (lr * gradNorm) / weightNorm : 0,
      gammaGradNorm: Math.sqrt(gg.sq),
      betaGradNorm: Math.sqrt(gb.sq),
      ...(r && n instanceof nn.BatchNorm1d ? gaps(n, r, read) : { meanGap: null, varFactor: null }),
    })
  })
  return out
}
