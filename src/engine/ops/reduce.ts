// sum and max along axes, and expand (broadcast). The primitives reduce one axis keeping it as
// size 1, so their rules are one line: sum broadcasts the gradient back (expand); max routes it to
// the (first) argmax; expand sums it back (sumToShape). sum and expand live together because each
// is the other's rule.
import type { ReduceOp } from '../backends/backend.js'
import { EngineError, fmtShape } from '../errors.js'
import { broadcastShapes, normalizeAxis, sameShape, validateShape } from '../shape.js'
import { Tensor } from '../tensor.js'
import { mul } from './mul.js'
import { checkTensor, record } from './op.js'
import { reshape } from './shape-ops.js'

function reduceAxis(op: ReduceOp, x: Tensor, axis: number): Tensor {
  const shape = x.shape.map((d, i) => (i === axis ? 1 : d))
  const storage = x.backend.reduce(op, x.storage, x.shape, axis)
  if (op === 'sum') return record('sum', storage, shape, [x], (g, out) => [expand(g, out._prev[0].shape)])
  return record('max', storage, shape, [x], (g, out) => {
    const input = out._prev[0]
    const mask = new Tensor(input.backend.argmaxOneHot(input.storage, input.shape, axis), input.shape, input.backend)
    return [mul(expand(g, input.shape), mask)]
  })
}

function reduce(op: ReduceOp, x: Tensor, axis: number | readonly number[] | undefined, keepDims: boolean): Tensor {
  checkTensor(op, 'x', x)
  if (axis === undefined) {
    // Over all elements: one kernel on the flattened tensor.
    if (op === 'max' && x.size === 0)
      throw new EngineError('max', 'shape', `cannot take the max of an empty tensor of shape ${fmtShape(x.shape)}`)
    const r = reduceAxis(op, reshape(x, [x.size]), 0)
    return reshape(r, keepDims ? x.shape.map(() => 1) : [])
  }
  const axes = (typeof axis === 'number' ? [axis] : [...axis]).map((a) => normalizeAxis(op, a, x.ndim))
  if (new Set(axes).size !== axes.length) throw new EngineError(op, 'argument', `repeated axis in [${axes.join(',')}]`)
  let r = x
  for (const a of axes.sort((p, q) => q - p)) {
    if (op === 'max' && x.shape[a] === 0)
      throw new EngineError('max', 'shape', `cannot take the max over empty axis ${a} of shape ${fmtShape(x.shape)}`)
    r = reduceAxis(op, r, a)
  }
  return keepDims
    ? r
    : reshape(
        r,
        x.shape.filter((_, i) => !axes.includes(i)),
      )
}

export function sum(x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor {
  return reduce('sum', x, axis, keepDims)
}

export function max(x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor {
  return reduce('max', x, axis, keepDims)
}

/**
 * Undo broadcasting: sum a gradient of a broadcast shape back to the input's `shape`.
 * Autograd calls this once per edge, so ops never handle broadcasting in their rules.
 */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g
  const lead = g.ndim - shape.length
  const axes: number[] = []
  for (let i = 0; i < g.ndim; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i)
  }
  let r = g
  for (const a of axes.reverse()) r = reduceAxis('sum', r, a)
  return reshape(r, shape)
}

/** Broadcast to `shape` (NumPy rules). Backward sums the gradient back to the input's shape. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor('expand', 'x', x)
  const target = validateShape('expand', shape)
  const b = broadcastShapes('expand', x.shape, target)
  if (!sameShape(b, target)) {
    throw new EngineError('expand', 'shape', `cannot expand a tensor of shape ${fmtShape(x.shape)} to ${fmtShape(target)}`)
  }
  if (sameShape(x.shape, target)) return x
  return record('expand', x.backend.expand(x.storage, x.shape, target), target, [x], (g, out) => [sumToShape(g, out._prev[0].shape)])
}
