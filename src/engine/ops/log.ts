// log: d/dx log x = 1/x.
import type { Tensor } from '../tensor.js'
import { mul } from './mul.js'
import { pow } from './pow.js'
import { unaryOp } from './op.js'

export function log(x: Tensor): Tensor {
  return unaryOp('log', x, (g, out) => [mul(g, pow(out._prev[0], -1))])
}
