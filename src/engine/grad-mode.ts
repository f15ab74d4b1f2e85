// Whether ops record the autograd graph. Off inside noGrad() and while backward rules run.
let enabled = true

export function isGradEnabled(): boolean {
  return enabled
}

/** Run fn without recording a graph (evaluation, optimiser updates), like torch.no_grad(). */
export function noGrad<T>(fn: () => T): T {
  const prev = enabled
  enabled = false
  try {
    return fn()
  } finally {
    enabled = prev
  }
}
