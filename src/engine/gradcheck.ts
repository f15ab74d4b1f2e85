// Gradient checking against central finite differences. Used by the tests for every op and by
// the studio's "check this gradient" button, so it reports numbers rather than asserting.
import { EngineError } from './errors.js'
import { noGrad } from './grad-mode.js'
import { Tensor } from './tensor.js'
import './chained-ops.js' // out.backward() below
import type { TypedArray } from './backends/backend.js'

export interface GradcheckResult {
  /** Largest |analytic - numeric| / max(1, |analytic|, |numeric|) over every checked element. */
  maxRelError: number
  maxAbsError: number
  /** Per input, the analytic and numeric gradients compared. */
  inputs: { analytic: Float64Array; numeric: Float64Array }[]
}

/**
 * Compare autograd's gradient of sum(fn(inputs)·w) with central differences, for float64 CPU
 * inputs. `w` is a fixed pseudo-random weighting so every output element matters.
 */
export function gradcheck(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], { eps = 1e-6, maxElements = 200 } = {}): GradcheckResult {
  for (const x of inputs) {
    if (x.dtype !== 'float64' || !x.backend.readSync)
      throw new EngineError('gradcheck', 'dtype', 'inputs must be float64 tensors on the CPU backend')
  }
  const leaves = inputs.map((x) => new Tensor(x.backend.cast(x.storage, 'float64'), x.shape, x.backend, true))
  const weightsFor = (out: Tensor): Float64Array => {
    const w = new Float64Array(out.size)
    for (let i = 0; i < w.length; i++) w[i] = 0.5 + ((i * 7919) % 13) / 13
    return w
  }
  const scalar = (out: Tensor, w: Float64Array): number => {
    const d = out.dataSync()
    let s = 0
    for (let i = 0; i < d.length; i++) s += d[i] * w[i]
    return s
  }
  const out = fn(...leaves)
  const w = weightsFor(out)
  out.backward(new Tensor(out.backend.fromArray(out.dtype === 'float64' ? w : Float32Array.from(w)), out.shape, out.backend))
  let maxRel = 0
  let maxAbs = 0
  const results = leaves.map((leaf) => {
    const analytic = leaf.grad ? Float64Array.from(leaf.grad.dataSync()) : new Float64Array(leaf.size)
    const numeric = new Float64Array(leaf.size)
    const data = leaf.backend.readSync!(leaf.storage) as TypedArray
    const n = Math.min(leaf.size, maxElements)
    for (let i = 0; i < n; i++) {
      const orig = data[i]
      data[i] = orig + eps
      const fp = noGrad(() => scalar(fn(...leaves), w))
      data[i] = orig - eps
      const fm = noGrad(() => scalar(fn(...leaves), w))
      data[i] = orig
      numeric[i] = (fp - fm) / (2 * eps)
      const abs = Math.abs(analytic[i] - numeric[i])
      maxAbs = Math.max(maxAbs, abs)
      maxRel = Math.max(maxRel, abs / Math.max(1, Math.abs(analytic[i]), Math.abs(numeric[i])))
    }
    return { analytic, numeric }
  })
  return { maxRelError: maxRel, maxAbsError: maxAbs, inputs: results }
}
