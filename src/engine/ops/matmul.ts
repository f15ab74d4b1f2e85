// matmul: C = op(A)·op(B), batch dims broadcast. Backward is two vector-Jacobian products,
// dA = dC·Bᵀ and dB = Aᵀ·dC, expressed with transpose flags so no transpose is materialised
// and no Jacobian (of size mk×mn) is ever formed.
import { EngineError, fmtShape } from '../errors.js'
import { broadcastShapes } from '../shape.js'
import { Tensor } from '../tensor.js'
import { checkTensor, exclusiveGrad, operands, record } from './op.js'

export function matmul(a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
  checkTensor('matmul', 'a', a)
  checkTensor('matmul', 'b', b)
  const [x, y] = operands('matmul', a, b)
  if (x.ndim < 2 || y.ndim < 2) {
    throw new EngineError(
      'matmul',
      'shape',
      `both operands need at least 2 dims; a has shape ${fmtShape(x.shape)}, b ${fmtShape(y.shape)} (reshape a vector to [1,n] or [n,1])`,
    )
  }
  const m = transA ? x.shape[x.ndim - 1] : x.shape[x.ndim - 2]
  const ka = transA ? x.shape[x.ndim - 2] : x.shape[x.ndim - 1]
  const kb = transB ? y.shape[y.ndim - 1] : y.shape[y.ndim - 2]
  const n = transB ? y.shape[y.ndim - 2] : y.shape[y.ndim - 1]
  if (ka !== kb) {
    throw new EngineError(
      'matmul',
      'shape',
      `b has shape ${fmtShape(y.shape)}${transB ? ' (transposed)' : ''}, incompatible with a ${fmtShape(x.shape)}${transA ? ' (transposed)' : ''}: inner dims ${ka} and ${kb} differ`,
    )
  }
  const batch = broadcastShapes('matmul', x.shape.slice(0, -2), y.shape.slice(0, -2))
  const outShape = [...batch, m, n]
  const storage = x.backend.matmul(x.storage, y.storage, { aShape: x.shape, bShape: y.shape, transA, transB, outShape })
  const result = record('matmul', storage, outShape, [x, y], (g, out) => {
    const [p, q] = out._prev
    let dA: Tensor | null = null
    let dB: Tensor | null = null
    if (p.requiresGrad) dA = transA ? matmul(q, g, transB, true) : matmul(g, q, false, !transB)
    if (q.requiresGrad) dB = transB ? matmul(g, p, true, transA) : matmul(p, g, !transA, false)
    // Both are new products nothing else holds (backward runs without a graph).
    return [exclusiveGrad(dA), exclusiveGrad(dB)]
  })
  // Kept so a graph view can state the exact rule (dA = dC·Bᵀ for a plain product, other forms
  // when an operand was read transposed).
  result._meta = { transA, transB }
  return result
}
