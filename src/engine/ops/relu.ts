// relu and leaky relu: the gradient is routed through where the input was positive (mask).
import type { Tensor } from '../tensor.js'
import { EngineError } from '../errors.js'
import { mul } from './mul.js'
import { fusedActivationGrad, rawUnary, unaryOp } from './op.js'

export function relu(x: Tensor): Tensor {
  return unaryOp('relu', x, (g, out) => [fusedActivationGrad('relu', g, out._prev[0]) ?? mul(g, rawUnary('step', out._prev[0]))])
}

export function leakyRelu(x: Tensor, alpha = 0.01): Tensor {
  if (typeof alpha !== 'number' || !Number.isFinite(alpha)) {
    throw new EngineError('leakyRelu', 'argument', `alpha must be a finite number, got ${String(alpha)}`)
  }
  return unaryOp('leakyRelu', x, (g, out) => [mul(g, rawUnary('leakyStep', out._prev[0], alpha))], alpha)
}
