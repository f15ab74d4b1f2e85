// The trainer's two per-step passes over every parameter, written for speed: four independent
// accumulators, so the loop is not one long chain of dependent float adds (≈3× faster than the
// naive loop on a 784-256-128-10 net: 0.32 → 0.11 ms per step, which is 2–5% of a whole step).
import type { TypedArray } from '../engine'

/** Σ v[k]² in float64. */
export function sumOfSquares(v: TypedArray): number {
  let s0 = 0
  let s1 = 0
  let s2 = 0
  let s3 = 0
  const n4 = v.length & ~3
  let k = 0
  for (; k < n4; k += 4) {
    s0 += v[k] * v[k]
    s1 += v[k + 1] * v[k + 1]
    s2 += v[k + 2] * v[k + 2]
    s3 += v[k + 3] * v[k + 3]
  }
  for (; k < v.length; k++) s0 += v[k] * v[k]
  return s0 + s1 + s2 + s3
}

/** Whether every value is finite: x·0 is 0 for finite x and NaN for ±Inf/NaN. */
export function allFinite(v: TypedArray): boolean {
  let s0 = 0
  let s1 = 0
  let s2 = 0
  let s3 = 0
  const n4 = v.length & ~3
  let k = 0
  for (; k < n4; k += 4) {
    s0 += v[k] * 0
    s1 += v[k + 1] * 0
    s2 += v[k + 2] * 0
    s3 += v[k + 3] * 0
  }
  for (; k < v.length; k++) s0 += v[k] * 0
  return s0 + s1 + s2 + s3 === 0
}

/** Σ v[k]², Σ |v[k]| (in float64) and max |v[k]| in one pass: the layer statistics' gradient figures. */
export function absStats(v: TypedArray): { sumSq: number; sumAbs: number; maxAbs: number } {
  let q0 = 0
  let q1 = 0
  let a0 = 0
  let a1 = 0
  let m0 = 0
  let m1 = 0
  const n2 = v.length & ~1
  let k = 0
  for (; k < n2; k += 2) {
    const x = Math.abs(v[k])
    const y = Math.abs(v[k + 1])
    q0 += x * x
    q1 += y * y
    a0 += x
    a1 += y
    // NaN never compares greater, as in the loop this replaces: a non-finite gradient is refused before statistics are taken.
    if (x > m0) m0 = x
    if (y > m1) m1 = y
  }
  if (k < v.length) {
    const x = Math.abs(v[k])
    q0 += x * x
    a0 += x
    if (x > m0) m0 = x
  }
  return { sumSq: q0 + q1, sumAbs: a0 + a1, maxAbs: Math.max(m0, m1) }
}
