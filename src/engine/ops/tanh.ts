// tanh: 1 - tanh², from the output (a fused kernel: one pass instead of four exp/add/div ops).
import type { Tensor } from '../tensor.js'
import { add } from './add.js'
import { mul } from './mul.js'
import { fusedActivationGrad, unaryOp } from './op.js'

export function tanh(x: Tensor): Tensor {
  return unaryOp('tanh', x, (g, out) => [fusedActivationGrad('tanh', g, out) ?? mul(g, add(mul(mul(out, out), -1), 1))])
}
