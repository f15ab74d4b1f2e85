// Ops built from primitives, as micrograd builds them: no backward rules of their own.
import { normalizeAxis } from '../shape.js'
import type { Tensor, TensorLike } from '../tensor.js'
import { add } from './add.js'
import { exp } from './exp.js'
import { mul } from './mul.js'
import { checkTensor, operands } from './op.js'
import { log, pow } from './pow.js'
import { max, sum } from './reduce.js'
import { relu } from './relu.js'

export function neg(x: Tensor): Tensor {
  return mul(x, -1)
}

export function sub(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands('sub', a, b)
  return add(x, neg(y))
}

export function div(a: TensorLike, b: TensorLike): Tensor {
  if (typeof b === 'number') return mul(a, 1 / b)
  const [x, y] = operands('div', a, b)
  return mul(x, pow(y, -1))
}

export function sqrt(x: Tensor): Tensor {
  return pow(x, 0.5)
}

export function abs(x: Tensor): Tensor {
  return add(relu(x), relu(neg(x)))
}

export function mean(x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor {
  checkTensor('mean', 'x', x)
  const s = sum(x, axis, keepDims)
  const count = s.size === 0 ? 0 : x.size / s.size
  return mul(s, 1 / count)
}

/** log-softmax, stabilised by the row max (detached: the result does not depend on it). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  checkTensor('logSoftmax', 'x', x)
  const ax = normalizeAxis('logSoftmax', axis, x.ndim)
  const m = max(x, ax, true).detach()
  const z = sub(x, m)
  return sub(z, log(sum(exp(z), ax, true)))
}

export function softmax(x: Tensor, axis = -1): Tensor {
  checkTensor('softmax', 'x', x)
  return exp(logSoftmax(x, axis))
}
