// sign: -1, 0 or 1 (0 at 0, as torch.sign). Flat wherever it is defined, so its gradient is zero:
// the L1 penalty's subgradient (sign(w), 0 at 0 as abs's in PyTorch) uses it without a graph.
import type { Tensor } from '../tensor.js'
import { mul } from './mul.js'
import { unaryOp } from './op.js'

export function sign(x: Tensor): Tensor {
  return unaryOp('sign', x, (g) => [mul(g, 0)])
}
