// BatchNorm (training: the batch's statistics) and LayerNorm as one op each. Composed from mean,
// sub, mul and pow they take a dozen kernels forward and twice that backward, each with a temporary
// and a graph node; fused, the forward is one kernel and the rule is the closed-form VJP
//   dx = (var + eps)^-½/n · (n·dx̂ − Σdx̂ − x̂·Σ(dx̂·x̂)),  dx̂ = dy·weight,  dweight = Σ dy·x̂,  dbias = Σ dy
// (sums over each statistic's n values: the batch for BatchNorm, the features for LayerNorm).
import type { NormOp } from '../backends/backend.js'
import { EngineError, fmtShape } from '../errors.js'
import { Tensor } from '../tensor.js'
import { checkTensor, exclusiveGrad, record } from './op.js'

export interface NormResult {
  /** (x − mean)·(var + eps)^-½·weight + bias, recorded as one op named `batchNorm` or `layerNorm`. */
  out: Tensor
  /** The statistics it normalised with (no gradient): per feature for batchNorm, per row for layerNorm. */
  mean: Tensor
  /** Biased (divided by n), as PyTorch normalises. */
  variance: Tensor
}

function checkOperand(op: NormOp, arg: string, t: Tensor | null, x: Tensor): void {
  if (t === null) return
  checkTensor(op, arg, t)
  if (t.backend !== x.backend)
    throw new EngineError(op, 'backend', `${arg} lives on the ${t.backend.name} backend, the input on ${x.backend.name}`)
  if (t.dtype !== x.dtype) throw new EngineError(op, 'dtype', `${arg} is ${t.dtype}, the input ${x.dtype}`)
  const features = x.shape[x.ndim - 1]
  if (t.ndim !== 1 || t.shape[0] !== features)
    throw new EngineError(
      op,
      'shape',
      `${arg} has shape ${fmtShape(t.shape)}, expected [${features}] for an input of shape ${fmtShape(x.shape)}`,
    )
}

/**
 * Normalise x over the batch (batchNorm: x is [batch, features], statistics per feature) or over
 * its last dimension (layerNorm: statistics per row), then scale by weight and shift by bias per
 * feature; a null weight or bias is left out.
 */
export function normalize(op: NormOp, x: Tensor, weight: Tensor | null, bias: Tensor | null, eps: number): NormResult {
  checkTensor(op, 'x', x)
  if (op === 'batchNorm' ? x.ndim !== 2 : x.ndim < 1)
    throw new EngineError(
      op,
      'shape',
      `input has shape ${fmtShape(x.shape)}, expected ${op === 'batchNorm' ? '[batch, features]' : '[..., features]'}`,
    )
  checkOperand(op, 'weight', weight, x)
  checkOperand(op, 'bias', bias, x)
  const be = x.backend
  const features = x.shape[x.ndim - 1]
  const args = { rows: features === 0 ? 0 : x.size / features, features, eps }
  const ws = weight?.storage ?? null
  const r = be.norm(op, x.storage, ws, bias?.storage ?? null, args)
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])]
  // The rule reads the forward's storages, not the tensors': an optimiser may assign new values
  // to weight before this graph's backward runs.
  const xs = x.storage
  const out = record(op, r.out, x.shape, inputs, (g) => {
    const d = be.normGrad(op, g.storage, xs, r.mean, r.variance, ws, args)
    // normGrad allocates all three for this call alone.
    const grads = [exclusiveGrad(new Tensor(d.dx, x.shape, be))]
    if (weight) grads.push(exclusiveGrad(new Tensor(d.dweight, [features], be)))
    if (bias) grads.push(exclusiveGrad(new Tensor(d.dbias, [features], be)))
    return grads
  })
  const statShape = op === 'batchNorm' ? [features] : x.shape.slice(0, -1)
  return { out, mean: new Tensor(r.mean, statShape, be), variance: new Tensor(r.variance, statShape, be) }
}
