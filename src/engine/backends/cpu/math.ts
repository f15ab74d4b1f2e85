// Scalar math the CPU kernels need beyond Math: an erf accurate to ~1e-13 (GELU must match
// PyTorch's exact, erf-based GELU in float64 goldens).

const TWO_OVER_SQRT_PI = 1.1283791670955126
const INV_SQRT_PI = 0.5641895835477563

export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN
  const ax = Math.abs(x)
  if (ax < 3) {
    // Maclaurin series; at |x| < 3 cancellation costs at most ~3 of the 16 digits.
    const x2 = x * x
    let term = x
    let sum = x
    for (let n = 1; n < 100; n++) {
      term *= -x2 / n
      const add = term / (2 * n + 1)
      sum += add
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break
    }
    return TWO_OVER_SQRT_PI * sum
  }
  if (ax > 6.5) return x > 0 ? 1 : -1
  // erfc by its continued fraction, evaluated bottom-up; converges fast for |x| >= 3.
  let f = ax
  for (let k = 60; k >= 1; k--) f = ax + k / 2 / f
  const erfc = (Math.exp(-ax * ax) * INV_SQRT_PI) / f
  return x > 0 ? 1 - erfc : erfc - 1
}

const INV_SQRT2 = 0.7071067811865476
const INV_SQRT_2PI = 0.3989422804014327

export function gelu(x: number): number {
  return 0.5 * x * (1 + erf(x * INV_SQRT2))
}

/** d/dx of exact GELU: Φ(x) + x·φ(x). */
export function geluGrad(x: number): number {
  return 0.5 * (1 + erf(x * INV_SQRT2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x)
}

export function sigmoid(x: number): number {
  // Split by sign so exp never overflows.
  if (x >= 0) return 1 / (1 + Math.exp(-x))
  const e = Math.exp(x)
  return e / (1 + e)
}
