// add: the gradient passes through unchanged to both inputs ("add distributes").
import type { Tensor, TensorLike } from '../tensor.js'
import { binaryOp } from './op.js'

export function add(a: TensorLike, b: TensorLike): Tensor {
  return binaryOp('add', a, b, (g) => [g, g])
}
