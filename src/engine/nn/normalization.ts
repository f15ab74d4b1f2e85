// LayerNorm and BatchNorm1d with PyTorch's semantics. Training-mode normalisation is one fused op
// each (ops/normalize.ts: one kernel forward, the closed-form VJP backward); BatchNorm's eval mode is
// a per-feature affine composed from primitives. The running statistics are updated with tensor ops
// under noGrad, on the device where they live, so a training step on WebGPU never waits for a read.
import type { Backend, DType } from '../backends/backend.js'
import { full } from '../creation.js'
import { EngineError, fmtShape } from '../errors.js'
import { noGrad } from '../grad-mode.js'
import { add, mul, neg, normalize, pow, sub } from '../ops/index.js'
import { sameShape } from '../shape.js'
import { Tensor } from '../tensor.js'
import { copyParam, Module, placementOf, type CloneOptions } from './module.js'

/** A per-feature tensor must be [features] in the input's dtype (PyTorch refuses mixed dtypes too). */
function checkPerFeature(op: string, arg: string, t: Tensor | null, x: Tensor, features: number): void {
  if (t === null) return
  if (t.ndim !== 1 || t.shape[0] !== features) {
    throw new EngineError(
      op,
      'shape',
      `${arg} has shape ${fmtShape(t.shape)}, expected [${features}] for an input of shape ${fmtShape(x.shape)}`,
    )
  }
  if (t.dtype !== x.dtype) throw new EngineError(op, 'dtype', `${arg} is ${t.dtype}, the input ${x.dtype}`)
}

/** F.layer_norm over the last dimension: (x − mean) / √(var + eps) · weight + bias. */
export function layerNorm(x: Tensor, weight: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor {
  if (x.ndim < 1)
    throw new EngineError('layerNorm', 'shape', `input has shape ${fmtShape(x.shape)}; it needs a last dimension to normalise`)
  const features = x.shape[x.ndim - 1]
  checkPerFeature('layerNorm', 'weight', weight, x, features)
  checkPerFeature('layerNorm', 'bias', bias, x, features)
  return normalize('layerNorm', x, weight, bias, eps).out
}

export interface BatchNormOptions {
  /** Normalise with the batch's statistics (and update the running ones), else with the running ones. */
  training?: boolean
  momentum?: number
  eps?: number
}

/**
 * F.batch_norm on [batch, features]. Training: normalise with the batch mean and biased variance,
 * and when running statistics are given move them towards the batch's (the variance unbiased, as
 * PyTorch keeps it). Eval: normalise with the running statistics.
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight: Tensor | null,
  bias: Tensor | null,
  { training = false, momentum = 0.1, eps = 1e-5 }: BatchNormOptions = {},
): Tensor {
  if (x.ndim !== 2) throw new EngineError('batchNorm', 'shape', `input has shape ${fmtShape(x.shape)}, expected [batch, features]`)
  const [n, features] = x.shape
  for (const [arg, t] of [
    ['runningMean', runningMean],
    ['runningVar', runningVar],
    ['weight', weight],
    ['bias', bias],
  ] as const) {
    checkPerFeature('batchNorm', arg, t, x, features)
  }
  if (!training) {
    if (!runningMean || !runningVar) throw new EngineError('batchNorm', 'argument', 'eval mode needs runningMean and runningVar')
    // Folded into one scale and shift per feature, as PyTorch's kernel does: two passes over the
    // batch instead of four.
    const invStd = pow(add(runningVar, eps), -0.5)
    const scale = weight ? mul(invStd, weight) : invStd
    const meanScaled = mul(runningMean, scale)
    return add(mul(x, scale), bias ? sub(bias, meanScaled) : neg(meanScaled))
  }
  if (n < 2) {
    throw new EngineError(
      'batchNorm',
      'shape',
      `input has shape ${fmtShape(x.shape)}; training needs more than one sample per feature to estimate a variance`,
    )
  }
  const { out, mean, variance } = normalize('batchNorm', x, weight, bias, eps)
  if (runningMean && runningVar) updateRunningStats(runningMean, runningVar, mean, variance, momentum, n)
  return out
}

/** running = (1 − momentum)·running + momentum·batch, the batch variance unbiased (·n/(n − 1)) as PyTorch keeps it. */
export function updateRunningStats(
  runningMean: Tensor,
  runningVar: Tensor,
  mean: Tensor,
  variance: Tensor,
  momentum: number,
  n: number,
): void {
  const o = { keep: 1 - momentum, momentum, varianceMomentum: (momentum * n) / (n - 1) }
  const be = mean.backend
  const fused = be.runningStats
  noGrad(() => {
    if (fused && [runningMean, runningVar, variance].every((t) => t.backend === be && t.dtype === mean.dtype)) {
      // One kernel where the composed update below takes six ops and four scalar constants a step.
      const r = fused.call(be, runningMean.storage, runningVar.storage, mean.storage, variance.storage, o)
      runningMean.assign(new Tensor(r.mean, runningMean.shape, be))
      runningVar.assign(new Tensor(r.variance, runningVar.shape, be))
      return
    }
    runningMean.assign(add(mul(runningMean, o.keep), mul(mean, o.momentum)))
    runningVar.assign(add(mul(runningVar, o.keep), mul(variance, o.varianceMomentum)))
  })
}

function checkFeatures(layer: string, features: number): void {
  if (!Number.isInteger(features) || features < 1)
    throw new EngineError(layer, 'argument', `features must be a positive integer, got ${features}`)
}

function checkDtype(layer: string, x: Tensor, weight: Tensor): void {
  if (x.dtype !== weight.dtype)
    throw new EngineError(layer, 'dtype', `input ${fmtShape(x.shape)} is ${x.dtype}, the layer's parameters ${weight.dtype}`)
}

function checkRange(layer: string, arg: string, v: number, ok: boolean, want: string): void {
  if (typeof v !== 'number' || !ok) throw new EngineError(layer, 'argument', `${arg} must be ${want}, got ${v}`)
}

/** A per-feature tensor on `backend` in `dtype`, filled with `value` (or a copy of `from`), checked against `shape`. */
function stateTensor(
  layer: string,
  arg: string,
  shape: number[],
  value: number,
  from: Tensor | undefined,
  options: NormOptions,
  requiresGrad: boolean,
): Tensor {
  const dtype = options.dtype ?? 'float32'
  let t: Tensor
  if (from) {
    if (!sameShape(from.shape, shape))
      throw new EngineError(layer, 'shape', `from.${arg} has shape ${fmtShape(from.shape)}, expected ${fmtShape(shape)}`)
    t = requiresGrad ? copyParam(from, options.backend, dtype) : from.copyTo(options.backend ?? from.backend, dtype)
  } else {
    t = full(shape, value, { dtype, backend: options.backend, requiresGrad })
  }
  t.label = arg
  return t
}

export interface NormOptions {
  eps?: number
  dtype?: DType
  /** Where the parameters and buffers live (default: the default backend). */
  backend?: Backend
}

export interface LayerNormOptions extends NormOptions {
  /** Start from copies of these values instead of γ = 1, β = 0 (clone). */
  from?: { weight: Tensor; bias: Tensor }
}

/** nn.LayerNorm(features): normalises each sample over its last dimension, then scales by γ and shifts by β. */
export class LayerNorm extends Module {
  readonly weight: Tensor
  readonly bias: Tensor
  readonly eps: number

  constructor(
    readonly features: number,
    options: LayerNormOptions = {},
  ) {
    super()
    checkFeatures('LayerNorm', features)
    this.eps = options.eps ?? 1e-5
    checkRange('LayerNorm', 'eps', this.eps, this.eps > 0, 'a positive number')
    this.weight = stateTensor('LayerNorm', 'weight', [features], 1, options.from?.weight, options, true)
    this.bias = stateTensor('LayerNorm', 'bias', [features], 0, options.from?.bias, options, true)
  }

  forward(x: Tensor): Tensor {
    if (x.ndim < 1 || x.shape[x.ndim - 1] !== this.features) {
      throw new EngineError(
        'LayerNorm',
        'shape',
        `input has shape ${fmtShape(x.shape)}, expected [..., ${this.features}] (the last dimension is normalised)`,
      )
    }
    checkDtype('LayerNorm', x, this.weight)
    return layerNorm(x, this.weight, this.bias, this.eps)
  }

  namedParameters(): [string, Tensor][] {
    return [
      ['weight', this.weight],
      ['bias', this.bias],
    ]
  }

  clone(options: CloneOptions = {}): LayerNorm {
    const { backend, dtype } = placementOf(this, options)
    return new LayerNorm(this.features, { eps: this.eps, backend, dtype, from: this }).train(this.training)
  }
}

export interface BatchNorm1dOptions extends NormOptions {
  /** Weight of the new batch in the running statistics: running = (1 − momentum)·running + momentum·batch. */
  momentum?: number
  /** Start from copies of these parameters and buffers (clone, or a checkpoint's values). */
  from?: { weight: Tensor; bias: Tensor; runningMean: Tensor; runningVar: Tensor; numBatchesTracked: Tensor }
}

/**
 * nn.BatchNorm1d(features) on [batch, features]. Train mode normalises with the batch's statistics
 * and updates running_mean / running_var; eval mode normalises with those. num_batches_tracked
 * counts the training batches, as PyTorch's state_dict does (here in the module's float dtype:
 * exact up to 2^24 batches in float32).
 */
export class BatchNorm1d extends Module {
  readonly weight: Tensor
  readonly bias: Tensor
  readonly runningMean: Tensor
  readonly runningVar: Tensor
  readonly numBatchesTracked: Tensor
  readonly eps: number
  readonly momentum: number

  constructor(
    readonly features: number,
    options: BatchNorm1dOptions = {},
  ) {
    super()
    checkFeatures('BatchNorm1d', features)
    this.eps = options.eps ?? 1e-5
    this.momentum = options.momentum ?? 0.1
    checkRange('BatchNorm1d', 'eps', this.eps, this.eps > 0, 'a positive number')
    checkRange('BatchNorm1d', 'momentum', this.momentum, this.momentum >= 0 && this.momentum <= 1, 'in [0, 1]')
    const from = options.from
    this.weight = stateTensor('BatchNorm1d', 'weight', [features], 1, from?.weight, options, true)
    this.bias = stateTensor('BatchNorm1d', 'bias', [features], 0, from?.bias, options, true)
    this.runningMean = stateTensor('BatchNorm1d', 'running_mean', [features], 0, from?.runningMean, options, false)
    this.runningVar = stateTensor('BatchNorm1d', 'running_var', [features], 1, from?.runningVar, options, false)
    this.numBatchesTracked = stateTensor('BatchNorm1d', 'num_batches_tracked', [], 0, from?.numBatchesTracked, options, false)
  }

  forward(x: Tensor): Tensor {
    if (x.ndim !== 2 || x.shape[1] !== this.features) {
      throw new EngineError('BatchNorm1d', 'shape', `input has shape ${fmtShape(x.shape)}, expected [batch, ${this.features}]`)
    }
    if (this.training && x.shape[0] < 2) {
      throw new EngineError(
        'BatchNorm1d',
        'shape',
        `input has shape ${fmtShape(x.shape)}; train mode needs more than one sample per feature (use eval() to run single samples)`,
      )
    }
    checkDtype('BatchNorm1d', x, this.weight)
    const y = batchNorm(x, this.runningMean, this.runningVar, this.weight, this.bias, {
      training: this.training,
      momentum: this.momentum,
      eps: this.eps,
    })
    if (this.training) noGrad(() => this.numBatchesTracked.assign(add(this.numBatchesTracked, 1)))
    return y
  }

  namedParameters(): [string, Tensor][] {
    return [
      ['weight', this.weight],
      ['bias', this.bias],
    ]
  }

  override namedBuffers(): [string, Tensor][] {
    return [
      ['running_mean', this.runningMean],
      ['running_var', this.runningVar],
      ['num_batches_tracked', this.numBatchesTracked],
    ]
  }

  clone(options: CloneOptions = {}): BatchNorm1d {
    const { backend, dtype } = placementOf(this, options)
    return new BatchNorm1d(this.features, { eps: this.eps, momentum: this.momentum, backend, dtype, from: this }).train(this.training)
  }
}
