// Gradient clipping by global norm (torch.nn.utils.clip_grad_norm_), computed without reading
// values back, so it stays on the device on any backend.
import { EngineError } from '../errors.js'
import { noGrad } from '../grad-mode.js'
import type { Tensor } from '../tensor.js'
import { add, mul, relu, sqrt, sub, sum, div } from '../ops/index.js'

/** Scale all gradients so their joint L2 norm is at most maxNorm. Returns the norm before clipping. */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number): Tensor | null {
  if (!(Number.isFinite(maxNorm) && maxNorm > 0))
    throw new EngineError('clipGradNorm', 'argument', `maxNorm must be a positive number, got ${maxNorm}`)
  const withGrad = params.filter((p) => p.grad !== null)
  if (withGrad.length === 0) return null
  return noGrad(() => {
    let sq: Tensor | null = null
    for (const p of withGrad) {
      const g = p.grad as Tensor
      const s = sum(mul(g, g))
      sq = sq === null ? s : add(sq, s)
    }
    const total = sqrt(sq as Tensor)
    // coef = min(1, maxNorm / (total + 1e-6)), as 1 - relu(1 - x) to stay on the device
    const coef = sub(1, relu(sub(1, div(maxNorm, add(total, 1e-6)))))
    for (const p of withGrad) p.grad = mul(p.grad as Tensor, coef)
    return total
  })
}
