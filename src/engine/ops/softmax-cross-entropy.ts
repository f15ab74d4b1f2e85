// Softmax cross-entropy as one fused op where the backend has the kernel: forward and the logits'
// gradient in one pass over [rows, classes], where the composed form (logSoftmax, mul, sum, mean)
// takes about ten kernels forward and as many backward. Its rule: dlogits = g·(softmax - target)/rows.
import { Tensor } from '../tensor.js'
import { isGradEnabled } from '../grad-mode.js'
import { mul } from './mul.js'
import { record } from './op.js'

/** The fused loss, or null when the backend has no kernel (the caller composes it instead). */
export function fusedSoftmaxCrossEntropy(logits: Tensor, target: Tensor): Tensor | null {
  const be = logits.backend
  if (!be.softmaxCrossEntropy || target.backend !== be || target.dtype !== logits.dtype || logits.ndim !== 2) return null
  const [rows, classes] = logits.shape
  const r = be.softmaxCrossEntropy(logits.storage, target.storage, rows, classes)
  // The gradient is computed with the loss (same pass); it is only kept when a backward can use it.
  const grad = isGradEnabled() && logits.requiresGrad ? new Tensor(r.grad, logits.shape, be) : null
  return record('softmaxCrossEntropy', r.loss, [], [logits, target], (g) => [grad && mul(grad, g), null])
}
