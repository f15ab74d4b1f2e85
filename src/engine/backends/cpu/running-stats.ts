// BatchNorm's running statistics in one pass per step, where the composed update takes six ops and
// four scalar constants; the float32 path rounds each term as those ops would, so results match them.
import type { RunningStatsStep, TypedArray } from '../backend.js'

/** New running mean and variance, each term rounded as the composed update (mul, mul, add) rounds it. */
export function runningStats(
  rm: TypedArray,
  rv: TypedArray,
  m: TypedArray,
  v: TypedArray,
  o: RunningStatsStep,
): { mean: TypedArray; variance: TypedArray } {
  const n = rm.length
  if (rm instanceof Float64Array) {
    const [mean, variance] = [new Float64Array(n), new Float64Array(n)]
    for (let i = 0; i < n; i++) {
      mean[i] = rm[i] * o.keep + m[i] * o.momentum
      variance[i] = rv[i] * o.keep + v[i] * o.varianceMomentum
    }
    return { mean, variance }
  }
  const fr = Math.fround
  const [keep, mom, vmom] = [fr(o.keep), fr(o.momentum), fr(o.varianceMomentum)]
  const [mean, variance] = [new Float32Array(n), new Float32Array(n)]
  for (let i = 0; i < n; i++) {
    mean[i] = fr(rm[i] * keep) + fr(m[i] * mom)
    variance[i] = fr(rv[i] * keep) + fr(v[i] * vmom)
  }
  return { mean, variance }
}
