// pow: d(x^y)/dx = y·x^(y-1); d(x^y)/dy = x^y·log x (only computed when y needs a gradient).
import type { Tensor, TensorLike } from '../tensor.js'
import { add } from './add.js'
import { log } from './log.js'
import { mul } from './mul.js'
import { binaryOp } from './op.js'

export function pow(a: TensorLike, b: TensorLike): Tensor {
  return binaryOp('pow', a, b, (g, out) => {
    const [x, y] = out._prev
    const dx = x.requiresGrad ? mul(g, mul(y, pow(x, add(y, -1)))) : null
    const dy = y.requiresGrad ? mul(g, mul(out, log(x))) : null
    return [dx, dy]
  })
}
