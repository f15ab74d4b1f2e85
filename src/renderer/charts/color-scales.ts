// Colour scales for the heatmaps and the decision boundary, as plain functions returning RGB
// triples (canvas ImageData wants bytes). Sequential (viridis-like) for magnitudes, diverging
// (blue ↔ orange, as TensorFlow Playground) for probabilities, and one hue per class.

export type Rgb = readonly [number, number, number]

/** Viridis control points, dark purple → yellow (perceptually uniform, colour-blind safe). */
const VIRIDIS: Rgb[] = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
]

/** Playground's diverging scale: class 0 orange, undecided near-neutral, class 1 blue. */
const DIVERGING: Rgb[] = [
  [245, 147, 34],
  [232, 234, 235],
  [8, 119, 189],
]

/** Class colours (class 0 and 1 match the diverging scale's ends). */
export const CLASS_COLORS: Rgb[] = [
  [245, 147, 34],
  [8, 119, 189],
  [95, 212, 176],
  [192, 139, 255],
  [255, 122, 133],
  [230, 217, 107],
  [107, 208, 255],
  [176, 184, 204],
]

function clamp01(t: number): number {
  return t < 0 ? 0 : t > 1 ? 1 : t
}

/** Piecewise-linear interpolation along control points at t ∈ [0, 1] (clamped; NaN → first). */
function ramp(stops: readonly Rgb[], t: number): Rgb {
  const u = clamp01(Number.isNaN(t) ? 0 : t) * (stops.length - 1)
  const i = Math.min(stops.length - 2, Math.floor(u))
  const f = u - i
  const a = stops[i]!
  const b = stops[i + 1]!
  return [Math.round(a[0] + (b[0] - a[0]) * f), Math.round(a[1] + (b[1] - a[1]) * f), Math.round(a[2] + (b[2] - a[2]) * f)]
}

/** Sequential colour for t ∈ [0, 1]. */
export function sequential(t: number): Rgb {
  return ramp(VIRIDIS, t)
}

/** Diverging colour for a probability p ∈ [0, 1] (0.5 is neutral). */
export function diverging(p: number): Rgb {
  return ramp(DIVERGING, p)
}

/** Neutral grey for something that is not a class index (NaN, a regression target). */
export const NO_CLASS: Rgb = [138, 145, 166]

/**
 * Colour of class `index` (cycles past the palette), shaded towards the background by
 * 1 − confidence. A value that is not a whole number gets NO_CLASS rather than a wrong class.
 */
export function classColor(index: number, confidence = 1, background: Rgb = [24, 27, 36]): Rgb {
  const c = Number.isInteger(index) ? CLASS_COLORS[((index % CLASS_COLORS.length) + CLASS_COLORS.length) % CLASS_COLORS.length]! : NO_CLASS
  const k = clamp01(confidence)
  return [
    Math.round(background[0] + (c[0] - background[0]) * k),
    Math.round(background[1] + (c[1] - background[1]) * k),
    Math.round(background[2] + (c[2] - background[2]) * k),
  ]
}

/** A CSS colour string for an RGB triple. */
export function css([r, g, b]: Rgb, alpha = 1): string {
  return alpha === 1 ? `rgb(${r} ${g} ${b})` : `rgb(${r} ${g} ${b} / ${alpha})`
}

/**
 * Where `value` falls on a log10 scale from `lo` to `hi` (both > 0), in [0, 1]; null for values
 * that cannot be drawn on a log scale (≤ 0, NaN), so a caller leaves that cell empty.
 */
export function logPosition(value: number, lo: number, hi: number): number | null {
  if (!(value > 0) || !Number.isFinite(value)) return null
  if (!(lo > 0) || !(hi > 0)) throw new RangeError(`log scale needs lo, hi > 0, got ${lo}, ${hi}`)
  if (hi <= lo) return 0.5
  return clamp01((Math.log10(value) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)))
}

/** The positive finite extent of some values (for a log colour scale), or null when there is none. */
export function positiveExtent(values: Iterable<number>): { lo: number; hi: number } | null {
  let lo = Infinity
  let hi = -Infinity
  for (const v of values) {
    if (!(v > 0) || !Number.isFinite(v)) continue
    if (v < lo) lo = v
    if (v > hi) hi = v
  }
  return lo <= hi ? { lo, hi } : null
}
