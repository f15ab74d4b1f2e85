// Fused optimiser updates: one pass per parameter instead of a dozen elementwise ops, each with
// its own allocation. Each follows the composed formula in optim/ (the reference) term by term;
// in the JS loops intermediate values stay in float64, so float32 results match it to rounding.
import type { AdamStep, SgdStep, TypedArray } from '../backend.js'
import { wasmAdam } from './wasm/wasm-optim.js'

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

/**
 * Adam / AdamW (decoupled weight decay), as torch.optim; null state is the first step. The moments
 * are the optimiser's own state, so they are updated in place (allocated on the first step): only
 * the parameters get a new array, as a graph or a detached view may still read the old one.
 * Float32 goes through the WebAssembly SIMD kernel where it loads (the composed update's float32
 * roundings, bit for bit); float64 runs the loop below.
 */
export function adamStep(
  p: TypedArray,
  g: TypedArray,
  m: TypedArray | null,
  v: TypedArray | null,
  o: AdamStep,
): { p: TypedArray; m: TypedArray; v: TypedArray } {
  const np = like(p)
  const nm = m ?? like(p)
  const nv = v ?? like(p)
  const simd = p instanceof Float32Array && g instanceof Float32Array && nm instanceof Float32Array && nv instanceof Float32Array
  const wasm = simd && useWasm ? wasmAdam() : null
  if (wasm !== null) {
    wasm.step(p as Float32Array, g as Float32Array, nm as Float32Array, nv as Float32Array, np as Float32Array, o)
    return { p: np, m: nm, v: nv }
  }
  const { beta1: b1, beta2: b2, eps } = o
  const decoupled = o.decoupled && o.weightDecay !== 0
  const l2 = decoupled ? 0 : o.weightDecay
  const decay = decoupled ? 1 - o.lr * o.weightDecay : 1
  const c1 = 1 - b1
  const c2 = 1 - b2
  const invSqrtBc2 = 1 / Math.sqrt(1 - Math.pow(b2, o.step))
  const stepSize = o.lr / (1 - Math.pow(b1, o.step))
  for (let i = 0, n = p.length; i < n; i++) {
    const gg = l2 !== 0 ? g[i] + p[i] * l2 : g[i]
    nm[i] = nm[i] * b1 + gg * c1
    nv[i] = nv[i] * b2 + gg * gg * c2
    const denom = Math.sqrt(nv[i]) * invSqrtBc2 + eps
    np[i] = p[i] * decay - (nm[i] / denom) * stepSize
  }
  return { p: np, m: nm, v: nv }
}

let useWasm = true

/** Tests compare the WebAssembly Adam kernel with the loop: false keeps every update on the loop. */
export function setWasmAdam(on: boolean): void {
  useWasm = on
}
