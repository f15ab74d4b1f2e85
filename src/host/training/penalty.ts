// The L1/L2 penalty's gradient, in tensor ops so it runs where the model lives (CPU or device).
import { add, mul, noGrad, sign, type nn, type Tensor } from '../../engine'

/**
 * Add the gradient of l1·Σ|w| + l2·Σw² over weight matrices (not biases) to their gradients:
 * l1·sign(w) + 2·l2·w, with sign(0) = 0 as PyTorch's abs has it.
 */
export function addPenaltyGrads(model: nn.MLP, l1: number, l2: number): void {
  if (!(l1 > 0 || l2 > 0)) return
  noGrad(() => {
    for (const layer of model.layers) {
      const w = layer.weight
      const terms: Tensor[] = []
      if (l1 > 0) terms.push(mul(sign(w), l1))
      if (l2 > 0) terms.push(mul(w, 2 * l2))
      const extra = terms.length === 2 ? add(terms[0], terms[1]) : terms[0]
      w.grad = w.grad ? add(w.grad, extra) : extra
    }
  })
}
