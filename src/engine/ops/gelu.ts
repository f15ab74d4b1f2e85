// gelu: exact (erf) GELU as PyTorch's default; derivative Φ(x) + x·φ(x).
import type { Tensor } from '../tensor.js'
import { mul } from './mul.js'
import { rawUnary, unaryOp } from './op.js'

export function gelu(x: Tensor): Tensor {
  return unaryOp('gelu', x, (g, out) => [mul(g, rawUnary('geluGrad', out._prev[0]))])
}
