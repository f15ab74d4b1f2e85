// The contract every backend fulfils. Tensors hold an opaque Storage; the frontend (ops/) does shape
// logic and autograd, backends only run kernels on flat, contiguous, row-major data.

export type DType = 'float32' | 'float64'
export type TypedArray = Float32Array | Float64Array
export type Shape = readonly number[]

/** A backend's handle to a tensor's data. Backends subclass it; the frontend never looks inside. */
export interface Storage {
  readonly size: number
  readonly dtype: DType
}

export const UNARY_OPS = [
  'neg',
  'exp',
  'log',
  'relu',
  'tanh',
  'sigmoid',
  'gelu',
  'leakyRelu',
  'sign',
  // non-differentiable helpers used by backward rules
  'step',
  'leakyStep',
  'geluGrad',
] as const
export type UnaryOp = (typeof UNARY_OPS)[number]

export const BINARY_OPS = ['add', 'sub', 'mul', 'div', 'pow'] as const
export type BinaryOp = (typeof BINARY_OPS)[number]

export type ReduceOp = 'sum' | 'max'

/**
 * Normalisations fused into one kernel each way, on x viewed as [rows, features] (features the
 * last dim): batchNorm takes its statistics per feature over the rows (the batch), layerNorm per
 * row over the features. Both apply a per-feature weight and bias.
 */
export const NORM_OPS = ['batchNorm', 'layerNorm'] as const
export type NormOp = (typeof NORM_OPS)[number]

export interface NormArgs {
  rows: number
  features: number
  eps: number
}

export interface MatmulArgs {
  /** Shapes as stored (before the transposes are applied); at least 2-D, batch dims broadcast. */
  aShape: Shape
  bShape: Shape
  transA: boolean
  transB: boolean
  /** Output shape, [...batch, m, n]. */
  outShape: Shape
}

/** One Adam / AdamW step with PyTorch's rule (see optim/optimizers.ts, the reference). */
export interface AdamStep {
  lr: number
  beta1: number
  beta2: number
  eps: number
  weightDecay: number
  /** AdamW: decay the parameter itself instead of adding weightDecay·p to the gradient. */
  decoupled: boolean
  /** 1-based step count, for the bias corrections. */
  step: number
}

/** One SGD step with PyTorch's rule (momentum, dampening, Nesterov, L2 weight decay). */
export interface SgdStep {
  lr: number
  momentum: number
  dampening: number
  nesterov: boolean
  weightDecay: number
}

/**
 * BatchNorm's running statistics moved towards one batch's, as PyTorch does:
 * running = keep·running + momentum·batch, with keep = 1 − momentum and, for the variance, the
 * batch's biased variance made unbiased by varianceMomentum = momentum·n/(n − 1).
 */
export interface RunningStatsStep {
  keep: number
  momentum: number
  varianceMomentum: number
}

export interface Backend {
  readonly name: string
  fromArray(data: TypedArray): Storage
  full(size: number, value: number, dtype: DType): Storage
  /** Explicit, async read-back: the only way values leave a backend. */
  read(s: Storage): Promise<TypedArray>
  /** Synchronous read where the backend can offer it (CPU); undefined elsewhere. */
  readSync?(s: Storage): TypedArray
  cast(s: Storage, dtype: DType): Storage
  unary(op: UnaryOp, a: Storage, param?: number): Storage
  /** Elementwise with NumPy broadcasting of aShape and bShape to outShape. */
  binary(op: BinaryOp, a: Storage, aShape: Shape, b: Storage, bShape: Shape, outShape: Shape): Storage
  /** Reduce one axis of `shape`; the output is the shape with that axis removed. */
  reduce(op: ReduceOp, a: Storage, shape: Shape, axis: number): Storage
  /** 1 at the first maximum along `axis`, 0 elsewhere (same shape as a): how max routes gradient. */
  argmaxOneHot(a: Storage, shape: Shape, axis: number): Storage
  matmul(a: Storage, b: Storage, args: MatmulArgs): Storage
  /** Swap the last two axes. */
  transpose(a: Storage, shape: Shape): Storage
  /** Broadcast-copy a tensor of `shape` to `outShape`. */
  expand(a: Storage, shape: Shape, outShape: Shape): Storage
  /**
   * (x − mean)·(var + eps)^-½·weight + bias, with the mean and the biased variance it used (one
   * value per feature for batchNorm, per row for layerNorm). A null weight is 1, a null bias 0.
   */
  norm(
    op: NormOp,
    x: Storage,
    weight: Storage | null,
    bias: Storage | null,
    a: NormArgs,
  ): { out: Storage; mean: Storage; variance: Storage }
  /**
   * The VJP of norm in closed form, from the forward's input and statistics: with x̂ the normalised
   * input and dx̂ = dy·weight summed over each statistic's group of n values,
   * dx = (var + eps)^-½/n · (n·dx̂ − Σdx̂ − x̂·Σ(dx̂·x̂)); per feature dweight = Σ dy·x̂, dbias = Σ dy.
   */
  normGrad(
    op: NormOp,
    dy: Storage,
    x: Storage,
    mean: Storage,
    variance: Storage,
    weight: Storage | null,
    a: NormArgs,
  ): { dx: Storage; dweight: Storage; dbias: Storage }
  /** Release the storage early (GPU buffers); a no-op where the GC owns memory. */
  dispose(s: Storage): void
  /**
   * Optional fused optimiser updates: one kernel per parameter instead of a dozen. They compute
   * the composed update of optim/ (the reference) for same-shaped p and g; null state means
   * the first step.
   */
  adamStep?(p: Storage, g: Storage, m: Storage | null, v: Storage | null, o: AdamStep): { p: Storage; m: Storage; v: Storage }
  /** adamStep writes the new moments into m and v (returning them) instead of new storages. */
  readonly adamStepInPlace?: boolean
  sgdStep?(p: Storage, g: Storage, buf: Storage | null, o: SgdStep): { p: Storage; buf: Storage | null }
  /**
   * Optional dst += src elementwise (same size and dtype), in place: autograd accumulates a second
   * gradient contribution into a buffer that it alone holds instead of allocating the sum.
   */
  addInto?(dst: Storage, src: Storage): void
  /** Optional fused running-statistics update: both new buffers in one kernel instead of six ops. */
  runningStats?(
    runningMean: Storage,
    runningVar: Storage,
    mean: Storage,
    variance: Storage,
    o: RunningStatsStep,
  ): { mean: Storage; variance: Storage }
  /**
   * Optional fused activation backward, g·f'(·) in one pass where the composed rule in ops/ takes
   * two to four: tanh and sigmoid from their output y, relu from its input x (g where x > 0).
   */
  activationGrad?(op: ActivationGradOp, g: Storage, yOrX: Storage): Storage
  /**
   * Optional fused softmax cross-entropy over [rows, classes] logits and targets: the mean loss
   * (size 1) and its gradient with respect to the logits, (softmax·Σtarget - target) / rows.
   */
  softmaxCrossEntropy?(logits: Storage, target: Storage, rows: number, classes: number): { loss: Storage; grad: Storage }
}

export type ActivationGradOp = 'tanh' | 'sigmoid' | 'relu'
