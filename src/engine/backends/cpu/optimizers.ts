// Fused optimiser updates: one pass per parameter instead of a dozen elementwise ops, each with
// its own allocation. Each follows the composed formula in optim/ (the reference) term by term;
// intermediate values stay in float64, so float32 results match it to rounding.
import type { AdamStep, SgdStep, TypedArray } from '../backend.js'

const like = (x: TypedArray): TypedArray => (x instanceof Float64Array ? new Float64Array(x.length) : new Float32Array(x.length))

/** SGD with momentum, dampening, Nesterov and L2 weight decay, as torch.optim.SGD. */
export function sgdStep(p: TypedArray, g: TypedArray, buf: TypedArray | null, o: SgdStep): { p: TypedArray; buf: TypedArray | null } {
  const { lr, weightDecay: wd, momentum: mom, nesterov } = o
  const damp1 = 1 - o.dampening
  const np = like(p)
  const n = p.length
  if (mom === 0) {
    for (let i = 0; i < n; i++) np[i] = p[i] - (wd !== 0 ? g[i] + p[i] * wd : g[i]) * lr
    return { p: np, buf: null }
  }
  const nb = like(p)
  for (let i = 0; i < n; i++) {
    const d = wd !== 0 ? g[i] + p[i] * wd : g[i]
    // Round the buffer as the composed update stores it, then step from the stored value.
    nb[i] = buf === null ? d : buf[i] * mom + d * damp1
    const b = nb[i]
    np[i] = p[i] - (nesterov ? d + b * mom : b) * lr
  }
  return { p: np, buf: nb }
}

/** Adam / AdamW (decoupled weight decay), as torch.optim; null state is the first step. */
export function adamStep(
  p: TypedArray,
  g: TypedArray,
  m: TypedArray | null,
  v: TypedArray | null,
  o: AdamStep,
): { p: TypedArray; m: TypedArray; v: TypedArray } {
  const { beta1: b1, beta2: b2, eps } = o
  const decoupled = o.decoupled && o.weightDecay !== 0
  const l2 = decoupled ? 0 : o.weightDecay
  const decay = decoupled ? 1 - o.lr * o.weightDecay : 1
  const c1 = 1 - b1
  const c2 = 1 - b2
  const invSqrtBc2 = 1 / Math.sqrt(1 - Math.pow(b2, o.step))
  const stepSize = o.lr / (1 - Math.pow(b1, o.step))
  const np = like(p)
  const nm = like(p)
  const nv = like(p)
  for (let i = 0, n = p.length; i < n; i++) {
    const gg = l2 !== 0 ? g[i] + p[i] * l2 : g[i]
    nm[i] = m === null ? gg * c1 : m[i] * b1 + gg * c1
    nv[i] = v === null ? gg * gg * c2 : v[i] * b2 + gg * gg * c2
    const denom = Math.sqrt(nv[i]) * invSqrtBc2 + eps
    np[i] = p[i] * decay - (nm[i] / denom) * stepSize
  }
  return { p: np, m: nm, v: nv }
}
