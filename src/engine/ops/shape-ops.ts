// Ops that move data without arithmetic: transpose (last two axes) and reshape. Their backward
// rules undo the move. expand (broadcast) is in reduce.ts: its rule is sum's, and sum's is expand.
import { EngineError, fmtShape } from '../errors.js'
import { sizeOf, validateShape } from '../shape.js'
import type { Tensor } from '../tensor.js'
import { checkTensor, record } from './op.js'

export function transpose(x: Tensor): Tensor {
  checkTensor('transpose', 'x', x)
  if (x.ndim < 2) throw new EngineError('transpose', 'shape', `needs at least 2 dims, got shape ${fmtShape(x.shape)}`)
  const shape = [...x.shape]
  ;[shape[x.ndim - 2], shape[x.ndim - 1]] = [shape[x.ndim - 1], shape[x.ndim - 2]]
  return record('transpose', x.backend.transpose(x.storage, x.shape), shape, [x], (g) => [transpose(g)])
}

/** Reshape (one dim may be -1). Shares storage: tensors are immutable, so no copy is needed. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor('reshape', 'x', x)
  const target = resolveShape(x, shape)
  return record('reshape', x.storage, target, [x], (g, out) => [reshape(g, out._prev[0].shape)])
}

function resolveShape(x: Tensor, shape: readonly number[]): number[] {
  if (!Array.isArray(shape)) throw new EngineError('reshape', 'shape', `shape must be an array, got ${String(shape)}`)
  const infer = shape.indexOf(-1)
  if (infer !== shape.lastIndexOf(-1)) throw new EngineError('reshape', 'shape', `only one dim may be -1 in ${fmtShape(shape)}`)
  let target = shape
  if (infer >= 0) {
    const known = sizeOf(shape.filter((_, i) => i !== infer))
    if (known === 0 || x.size % known !== 0) {
      throw new EngineError(
        'reshape',
        'shape',
        `cannot reshape a tensor of shape ${fmtShape(x.shape)} (${x.size} elements) to ${fmtShape(shape)}`,
      )
    }
    target = shape.map((d, i) => (i === infer ? x.size / known : d))
  }
  const out = validateShape('reshape', target)
  if (sizeOf(out) !== x.size) {
    throw new EngineError(
      'reshape',
      'shape',
      `cannot reshape a tensor of shape ${fmtShape(x.shape)} (${x.size} elements) to ${fmtShape(out)} (${sizeOf(out)} elements)`,
    )
  }
  return out
}
