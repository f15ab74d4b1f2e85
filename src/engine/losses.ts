// Loss functions, composed from primitives. Targets are validated: a bad label is the most common
// way a user's dataset breaks training, and it must be named, not turned into NaN.
import { currentBackend } from './backends/registry.js'
import { EngineError, fmtShape } from './errors.js'
import { sameShape } from './shape.js'
import { Tensor } from './tensor.js'
import './chained-ops.js' // callers call loss.backward() on what these return
import { abs, mean, mul, relu, sub, add, log, exp, logSoftmax, sum, neg } from './ops/index.js'
import { checkTensor } from './ops/op.js'
import { fusedSoftmaxCrossEntropy } from './ops/softmax-cross-entropy.js'

/** Host-side values of a target, for validation; null for a tensor on a device without sync reads. */
function hostValues(t: Tensor | ArrayLike<number>): ArrayLike<number> | null {
  if (!(t instanceof Tensor)) return t
  const read = t.backend.readSync
  return read ? read.call(t.backend, t.storage) : null
}

function checkSameShape(op: string, pred: Tensor, target: Tensor): void {
  if (!sameShape(pred.shape, target.shape)) {
    throw new EngineError(op, 'shape', `target has shape ${fmtShape(target.shape)}, predictions ${fmtShape(pred.shape)}; they must match`)
  }
}

function asTarget(op: string, pred: Tensor, target: Tensor | ArrayLike<number>): Tensor {
  if (target instanceof Tensor) return target
  if (target.length !== pred.size) {
    throw new EngineError(
      op,
      'shape',
      `got ${target.length} targets for predictions of shape ${fmtShape(pred.shape)} (${pred.size} values)`,
    )
  }
  const data = pred.dtype === 'float64' ? Float64Array.from(target) : Float32Array.from(target)
  const t = new Tensor(pred.backend.fromArray(data), pred.shape.length === 1 ? [data.length] : pred.shape, pred.backend)
  t.label = 'targets' // names the leaf in graph snapshots
  return t
}

/** Mean squared error: mean((pred - target)²). */
export function mseLoss(pred: Tensor, target: Tensor | ArrayLike<number>): Tensor {
  checkTensor('mseLoss', 'pred', pred)
  const y = asTarget('mseLoss', pred, target)
  checkSameShape('mseLoss', pred, y)
  // sub(pred, y) spelled out, so the negated targets (a leaf: they need no gradient) keep a name.
  const negY = neg(y)
  if (!negY.requiresGrad && y.label) negY.label = `-${y.label}`
  const d = add(pred, negY)
  return mean(mul(d, d))
}

/**
 * Huber loss (PyTorch's HuberLoss, mean reduction): ½d² where |d| ≤ delta, delta·(|d| − ½delta)
 * beyond, with d = pred − target. Squared error near the target, absolute error far from it, so
 * an outlier pulls with a bounded gradient (±delta) instead of one that grows with its distance.
 * Composed from primitives: with a = |d| and q = min(a, delta) = a − relu(a − delta), the loss is
 * ½q² + delta·relu(a − delta), whose gradient is d inside and delta·sign(d) outside.
 */
export function huberLoss(pred: Tensor, target: Tensor | ArrayLike<number>, delta = 1): Tensor {
  checkTensor('huberLoss', 'pred', pred)
  if (!(Number.isFinite(delta) && delta > 0))
    throw new EngineError('huberLoss', 'argument', `delta must be a positive number, got ${delta}`)
  const y = asTarget('huberLoss', pred, target)
  checkSameShape('huberLoss', pred, y)
  const a = abs(sub(pred, y))
  const beyond = relu(sub(a, delta))
  const q = sub(a, beyond)
  return mean(add(mul(mul(q, q), 0.5), mul(beyond, delta)))
}

/** A one-hot matrix [n, classes] from integer labels, validated. */
export function oneHot(labels: ArrayLike<number>, classes: number, like?: Tensor): Tensor {
  const n = labels.length
  const be = like?.backend ?? currentBackend()
  const data = like?.dtype === 'float64' ? new Float64Array(n * classes) : new Float32Array(n * classes)
  for (let i = 0; i < n; i++) {
    const c = labels[i]
    if (!Number.isInteger(c) || c < 0 || c >= classes) {
      throw new EngineError('oneHot', 'argument', `label ${c} at row ${i} is not a class index in [0, ${classes - 1}]`)
    }
    data[i * classes + c] = 1
  }
  return new Tensor(be.fromArray(data), [n, classes], be)
}

/**
 * Softmax cross-entropy from logits [n, classes] and integer labels (mean over the batch).
 * `fused: false` builds it from primitives (logSoftmax, mul, sum), so a graph shows every piece;
 * by default backends with a fused kernel run it as one op with its own gradient rule.
 */
export function softmaxCrossEntropy(
  logits: Tensor,
  labels: Tensor | ArrayLike<number>,
  { fused = true }: { fused?: boolean } = {},
): Tensor {
  checkTensor('softmaxCrossEntropy', 'logits', logits)
  if (logits.ndim !== 2)
    throw new EngineError('softmaxCrossEntropy', 'shape', `logits must be [batch, classes], got ${fmtShape(logits.shape)}`)
  const [n, classes] = logits.shape
  if (n === 0) throw new EngineError('softmaxCrossEntropy', 'shape', 'empty batch: logits have 0 rows')
  const values = hostValues(labels)
  if (values === null)
    throw new EngineError(
      'softmaxCrossEntropy',
      'argument',
      'pass class labels as an array: they are validated on the host and one-hot encoded',
    )
  if (values.length !== n)
    throw new EngineError('softmaxCrossEntropy', 'shape', `got ${values.length} labels for ${n} rows of logits ${fmtShape(logits.shape)}`)
  let target: Tensor
  try {
    target = oneHot(values, classes, logits)
    target.label = 'labels (one-hot)'
  } catch (e) {
    if (e instanceof EngineError) throw new EngineError('softmaxCrossEntropy', 'argument', e.message.replace(/^oneHot: /, ''))
    throw e
  }
  return (fused ? fusedSoftmaxCrossEntropy(logits, target) : null) ?? neg(mul(sum(mul(logSoftmax(logits, 1), target)), 1 / n))
}

/**
 * Binary cross-entropy on logits, in the stable form max(x,0) - x·y + log(1 + e^{-|x|}),
 * with targets in [0, 1] of the same shape.
 */
export function bceWithLogits(logits: Tensor, target: Tensor | ArrayLike<number>): Tensor {
  checkTensor('bceWithLogits', 'logits', logits)
  const y = asTarget('bceWithLogits', logits, target)
  checkSameShape('bceWithLogits', logits, y)
  const ys = hostValues(target) ?? []
  for (let i = 0; i < ys.length; i++) {
    if (!(ys[i] >= 0 && ys[i] <= 1)) throw new EngineError('bceWithLogits', 'argument', `target ${ys[i]} at index ${i} is outside [0, 1]`)
  }
  return mean(add(sub(relu(logits), mul(logits, y)), log(add(exp(neg(abs(logits))), 1))))
}

/** micrograd's max-margin loss: mean(relu(1 - y·score)) with labels y in {-1, +1}. */
export function hingeLoss(scores: Tensor, target: Tensor | ArrayLike<number>): Tensor {
  checkTensor('hingeLoss', 'scores', scores)
  const y = asTarget('hingeLoss', scores, target)
  checkSameShape('hingeLoss', scores, y)
  const ys = hostValues(target) ?? []
  for (let i = 0; i < ys.length; i++) {
    if (ys[i] !== 1 && ys[i] !== -1) throw new EngineError('hingeLoss', 'argument', `label ${ys[i]} at index ${i} must be -1 or +1`)
  }
  return mean(relu(sub(1, mul(scores, y))))
}
