// Central finite differences on any backend and dtype (gradcheck.ts needs float64 CPU tensors
// it can poke in place). Every perturbed forward is encoded first and their weighted sums are
// read together, so on WebGPU a whole check costs one read-back round trip.
import { noGrad } from '../grad-mode.js'
import { tensor } from '../creation.js'
import type { DType } from '../backends/backend.js'
import type { Tensor } from '../tensor.js'

export interface FdResult {
  /** Largest |analytic - numeric| / max(1, |analytic|, |numeric|) over the checked elements. */
  maxRelError: number
  worst: string
}

/**
 * Compare autograd's gradient of sum(fn(xs)·w) with (f(x+ε) - f(x-ε)) / 2ε for up to
 * `perInput` elements of each input, spread over it. In float32 use ε ≈ 1e-2: truncation
 * error stays ~ε², rounding error ~ulp/ε. Each element is also probed at ε/4 and the better
 * estimate counts: a kink (relu, max, abs) within ε of x spoils only the wider step.
 */
export async function finiteDifferences(
  fn: (...xs: Tensor[]) => Tensor,
  inputs: { shape: number[]; data: number[] }[],
  { dtype = 'float32' as DType, eps = 1e-2, perInput = 6 } = {},
): Promise<FdResult> {
  const leaves = inputs.map((e) => tensor(e.data, { shape: e.shape, dtype, requiresGrad: true }))
  const out = fn(...leaves)
  const w = Array.from({ length: out.size }, (_, i) => 0.5 + ((i * 7919) % 13) / 13)
  const weights = tensor(w, { shape: out.shape, dtype })
  out.mul(weights).sum().backward()
  const analytic = await Promise.all(leaves.map((l) => (l.grad ? l.grad.data() : Promise.resolve(new Float64Array(l.size)))))

  const steps = [eps, eps / 4]
  const probes: { input: number; index: number; sums: Tensor[] }[] = []
  noGrad(() => {
    inputs.forEach((e, input) => {
      const n = e.data.length
      const picks = new Set(Array.from({ length: Math.min(n, perInput) }, (_, k) => Math.floor((k * n) / Math.min(n, perInput))))
      for (const index of picks) {
        const at = (delta: number): Tensor => {
          const xs = inputs.map((f, j) => {
            const data = j === input ? f.data.map((v, k) => (k === index ? v + delta : v)) : f.data
            return tensor(data, { shape: f.shape, dtype })
          })
          return fn(...xs)
            .mul(weights)
            .sum()
        }
        probes.push({ input, index, sums: steps.flatMap((h) => [at(h), at(-h)]) })
      }
    })
  })
  const values = await Promise.all(probes.map((p) => Promise.all(p.sums.map((t) => t.item()))))
  let maxRelError = 0
  let worst = 'none'
  probes.forEach((p, k) => {
    const a = analytic[p.input][p.index]
    const errors = steps.map((h, j) => {
      const numeric = (values[k][2 * j] - values[k][2 * j + 1]) / (2 * h)
      return { numeric, rel: Math.abs(a - numeric) / Math.max(1, Math.abs(a), Math.abs(numeric)) }
    })
    const { numeric, rel } = errors[0].rel <= errors[1].rel ? errors[0] : errors[1]
    if (rel > maxRelError) {
      maxRelError = rel
      worst = `input ${p.input}[${p.index}]: analytic ${a}, numeric ${numeric}`
    }
  })
  return { maxRelError, worst }
}
