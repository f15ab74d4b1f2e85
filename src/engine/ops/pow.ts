// pow and log, in one module because each is the other's backward rule:
// d(x^y)/dx = y·x^(y-1); d(x^y)/dy = x^y·log x (only computed when y needs a gradient); d/dx log x = x^-1.
import type { Tensor, TensorLike } from '../tensor.js'
import { add } from './add.js'
import { mul } from './mul.js'
import { binaryOp, unaryOp } from './op.js'

export function pow(a: TensorLike, b: TensorLike): Tensor {
  return binaryOp('pow', a, b, (g, out) => {
    const [x, y] = out._prev
    const dx = x.requiresGrad ? mul(g, mul(y, pow(x, add(y, -1)))) : null
    const dy = y.requiresGrad ? mul(g, mul(out, log(x))) : null
    return [dx, dy]
  })
}

export function log(x: Tensor): Tensor {
  return unaryOp('log', x, (g, out) => [mul(g, pow(out._prev[0], -1))])
}
