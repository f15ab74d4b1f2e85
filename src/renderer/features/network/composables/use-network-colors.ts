// The network view's diverging colour scale (orange for negative, blue for positive, as in
// TensorFlow Playground) and a robust symmetric range, so one outlier does not wash out the rest.

export const NEGATIVE: [number, number, number] = [245, 147, 66]
export const POSITIVE: [number, number, number] = [92, 156, 255]
export const NEUTRAL: [number, number, number] = [52, 57, 72]

/** Position of v on the symmetric scale [−scale, scale], clamped to [−1, 1]. */
export function divergingT(v: number, scale: number): number {
  if (!Number.isFinite(v)) return 0
  if (!(scale > 0)) return 0
  return Math.max(-1, Math.min(1, v / scale))
}

/** Fill colour: neutral at 0, fully orange/blue at ±scale. */
export function divergingColor(v: number, scale: number): string {
  const t = divergingT(v, scale)
  const end = t < 0 ? NEGATIVE : POSITIVE
  const u = Math.abs(t)
  const c = NEUTRAL.map((n, i) => Math.round(n + (end[i]! - n) * u))
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`
}

/**
 * How much to thin out a layer's edges when it has many: 1 up to ~120 edges, then falling as
 * 1/√k, so 1,000 overlapping edges read as a texture instead of a solid block.
 */
export function edgeDensity(edgesInLayer: number): number {
  return Math.min(1, Math.sqrt(120 / Math.max(1, edgesInLayer)))
}

/** Stroke for an edge: the pure end colour, its opacity and width growing with |t|. */
export function edgeStyle(v: number, scale: number, density = 1): { color: string; width: number } {
  const t = divergingT(v, scale)
  const [r, g, b] = t < 0 ? NEGATIVE : POSITIVE
  const u = Math.abs(t)
  const alpha = (0.06 + 0.89 * u) * Math.max(0.25, density)
  return { color: `rgba(${r}, ${g}, ${b}, ${alpha.toFixed(3)})`, width: (0.4 + 3.6 * u) * Math.max(0.3, density) }
}

/**
 * A symmetric range covering the bulk of the values: the 98th percentile of |v| (the maximum when
 * there are few), never 0, ignoring non-finite values.
 */
export function robustScale(...arrays: readonly (readonly number[])[]): number {
  const abs: number[] = []
  for (const a of arrays) for (const v of a) if (Number.isFinite(v)) abs.push(Math.abs(v))
  if (abs.length === 0) return 1
  abs.sort((p, q) => p - q)
  const index = abs.length < 50 ? abs.length - 1 : Math.floor(0.98 * (abs.length - 1))
  const s = abs[index]!
  return s > 0 ? s : abs[abs.length - 1]! > 0 ? abs[abs.length - 1]! : 1
}

export function divergingGradientCss(): string {
  const rgb = (c: number[]) => `rgb(${c[0]}, ${c[1]}, ${c[2]})`
  return `linear-gradient(90deg, ${rgb(NEGATIVE)}, ${rgb(NEUTRAL)} 50%, ${rgb(POSITIVE)})`
}
