// BatchNorm and LayerNorm forward and backward, each in two or three passes over [rows, features]
// where the composed form takes a dozen kernels with a temporary each. Statistics and sums stay in
// float64 (JS numbers and Float64Array accumulators), so float32 results round once, at the store.
import type { NormArgs, NormOp, TypedArray } from '../backend.js'

export interface NormOut {
  out: TypedArray
  mean: TypedArray
  variance: TypedArray
}

export interface NormGradOut {
  dx: TypedArray
  dweight: TypedArray
  dbias: TypedArray
}

interface NormKernels {
  forward(x: TypedArray, w: TypedArray | null, b: TypedArray | null, a: NormArgs, r: NormOut): void
  backward(dy: TypedArray, x: TypedArray, mean: TypedArray, variance: TypedArray, w: TypedArray | null, a: NormArgs, r: NormGradOut): void
}

/**
 * Statistics per feature: the sums walk one column at a time with scalar accumulators (the
 * [batch, features] block stays in cache; measured twice as fast as updating an array of sums
 * row by row), and the outputs are written row by row from per-feature coefficients.
 */
const batchNorm: NormKernels = {
  forward(x, w, b, { rows: n, features: f, eps }, r) {
    const k = new Float64Array(f)
    const shift = new Float64Array(f)
    const size = n * f
    for (let j = 0; j < f; j++) {
      let s = 0
      for (let p = j; p < size; p += f) s += x[p]
      const m = s / n
      // Two passes, as the composed form: Σ(x − mean)² does not cancel the way Σx² − n·mean² does.
      let q = 0
      for (let p = j; p < size; p += f) {
        const d = x[p] - m
        q += d * d
      }
      const v = q / n
      r.mean[j] = m
      r.variance[j] = v
      k[j] = (w ? w[j] : 1) / Math.sqrt(v + eps)
      // (x − mean)·k + bias as x·k + shift: in float64 the product's rounding (1e-16 relative) stays
      // far below float32's, and far below the float64 goldens' tolerance for |mean| up to ~1e4·std.
      shift[j] = (b ? b[j] : 0) - m * k[j]
    }
    const out = r.out
    for (let i = 0, p = 0; i < n; i++) for (let j = 0; j < f; j++, p++) out[p] = x[p] * k[j] + shift[j]
  },

  backward(dy, x, mean, variance, w, { rows: n, features: f, eps }, r) {
    // dx̂ = dy·γ, so Σdx̂ = γ·Σdy and Σdx̂·x̂ = γ·Σdy·x̂: per feature,
    // dx = γ·invstd/n·(n·dy − Σdy − x̂·Σdy·x̂) = a·dy + c·x + e (float64 coefficients, as forward).
    const a = new Float64Array(f)
    const c = new Float64Array(f)
    const e = new Float64Array(f)
    const size = n * f
    for (let j = 0; j < f; j++) {
      const m = mean[j]
      const is = 1 / Math.sqrt(variance[j] + eps)
      let sdy = 0
      let sdyxc = 0
      for (let p = j; p < size; p += f) {
        const g = dy[p]
        sdy += g
        sdyxc += g * (x[p] - m)
      }
      const sdyx = sdyxc * is
      const k = ((w ? w[j] : 1) * is) / n
      a[j] = k * n
      c[j] = -k * is * sdyx
      e[j] = -k * sdy - c[j] * m
      r.dbias[j] = sdy
      r.dweight[j] = sdyx
    }
    const dx = r.dx
    for (let i = 0, p = 0; i < n; i++) for (let j = 0; j < f; j++, p++) dx[p] = a[j] * dy[p] + c[j] * x[p] + e[j]
  },
}

/** Statistics per row: each row is normalised on its own; the weight's and bias's sums run down the columns. */
const layerNorm: NormKernels = {
  forward(x, w, b, { rows: n, features: f, eps }, r) {
    const out = r.out
    for (let i = 0, base = 0; i < n; i++, base += f) {
      let s = 0
      for (let j = 0; j < f; j++) s += x[base + j]
      const mu = s / f
      let q = 0
      for (let j = 0; j < f; j++) {
        const d = x[base + j] - mu
        q += d * d
      }
      const v = q / f
      const is = 1 / Math.sqrt(v + eps)
      r.mean[i] = mu
      r.variance[i] = v
      for (let j = 0; j < f; j++) out[base + j] = (x[base + j] - mu) * is * (w ? w[j] : 1) + (b ? b[j] : 0)
    }
  },

  backward(dy, x, mean, variance, w, { rows: n, features: f, eps }, r) {
    const xh = new Float64Array(f)
    const dw = new Float64Array(f)
    const db = new Float64Array(f)
    const dx = r.dx
    for (let i = 0, base = 0; i < n; i++, base += f) {
      const mu = mean[i]
      const is = 1 / Math.sqrt(variance[i] + eps)
      let s1 = 0
      let s2 = 0
      for (let j = 0; j < f; j++) {
        const g = dy[base + j]
        const h = (x[base + j] - mu) * is
        const d = g * (w ? w[j] : 1)
        xh[j] = h
        s1 += d
        s2 += d * h
        dw[j] += g * h
        db[j] += g
      }
      const k = is / f
      for (let j = 0; j < f; j++) dx[base + j] = k * (f * dy[base + j] * (w ? w[j] : 1) - s1 - xh[j] * s2)
    }
    r.dweight.set(dw)
    r.dbias.set(db)
  },
}

export const NORM = { batchNorm, layerNorm } satisfies Record<NormOp, NormKernels>
