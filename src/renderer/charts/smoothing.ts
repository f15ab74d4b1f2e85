// Display-time smoothing, as TensorBoard does it: an exponential moving average over the drawn
// points, debiased (divided by 1 − wⁿ) so the curve starts at the first value instead of rising
// from zero. Smoothing at display time lets the slider change the curve instantly.
import type { Point } from './downsample'

/** The largest weight the slider offers: 0.999 already averages over ~1000 points. */
export const MAX_SMOOTHING = 0.999

/**
 * Smooth `points` with EMA weight `weight` in [0, 1): 0 returns the values unchanged. Non-finite
 * values are skipped (they keep the previous smoothed value's place out of the curve).
 */
export function smoothEma(points: readonly Point[], weight: number): Point[] {
  if (!(weight >= 0 && weight < 1)) throw new RangeError(`smoothing weight must be in [0, 1), got ${weight}`)
  if (weight === 0) return points.slice()
  const out: Point[] = []
  let ema = 0
  let debias = 0
  for (const p of points) {
    if (!Number.isFinite(p.y)) continue
    ema = weight * ema + (1 - weight) * p.y
    debias = weight * debias + (1 - weight)
    out.push({ x: p.x, y: ema / debias })
  }
  return out
}
