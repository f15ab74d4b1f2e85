// sigmoid: σ(1-σ), from the output. Fused rather than composed from exp/div because the composed
// form overflows exp(-x) for very negative x and then yields NaN gradients.
import type { Tensor } from '../tensor.js'
import { add } from './add.js'
import { mul } from './mul.js'
import { fusedActivationGrad, unaryOp } from './op.js'

export function sigmoid(x: Tensor): Tensor {
  return unaryOp('sigmoid', x, (g, out) => [fusedActivationGrad('sigmoid', g, out) ?? mul(g, mul(out, add(mul(out, -1), 1)))])
}
