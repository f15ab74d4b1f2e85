// exp: its own derivative, so the rule reuses the output.
import type { Tensor } from '../tensor.js'
import { mul } from './mul.js'
import { unaryOp } from './op.js'

export function exp(x: Tensor): Tensor {
  return unaryOp('exp', x, (g, out) => [mul(g, out)])
}
