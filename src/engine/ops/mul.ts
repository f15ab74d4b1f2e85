// mul: each input's gradient is the upstream gradient times the other input ("mul swaps").
import type { Tensor, TensorLike } from '../tensor.js'
import { binaryOp } from './op.js'

export function mul(a: TensorLike, b: TensorLike): Tensor {
  return binaryOp('mul', a, b, (g, out) => {
    const [x, y] = out._prev
    return [x.requiresGrad ? mul(g, y) : null, y.requiresGrad ? mul(g, x) : null]
  })
}
