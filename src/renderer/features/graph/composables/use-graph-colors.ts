// Colour for gradient magnitude on a log scale, shared by the graph nodes, edges and legend: dim
// slate where the gradient has vanished, teal/yellow where it is healthy, red where it explodes.
import type { RequestResult } from '../../../../shared/protocol'
import { numel } from '../../../composables/use-graph-format'

type GraphNode = RequestResult<'session.graph'>['nodes'][number]

/** The decades the ramp spans: below is "vanished", above is "exploding". */
export const LOG_RANGE = { min: -7, max: 2 } as const

/** Stops of the ramp, t in [0, 1]. Also drawn by the legend (as a CSS gradient of these). */
export const MAGNITUDE_STOPS: readonly [number, [number, number, number]][] = [
  [0, [58, 63, 92]],
  [0.25, [78, 121, 216]],
  [0.5, [52, 194, 154]],
  [0.75, [242, 193, 78]],
  [1, [255, 90, 95]],
]

function lerp(a: number, b: number, t: number): number {
  return Math.round(a + (b - a) * t)
}

/** The ramp at t in [0, 1] as rgb(). */
export function rampColor(t: number): string {
  const c = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0))
  for (let i = 1; i < MAGNITUDE_STOPS.length; i++) {
    const [t1, hi] = MAGNITUDE_STOPS[i]!
    const [t0, lo] = MAGNITUDE_STOPS[i - 1]!
    if (c <= t1) {
      const u = (c - t0) / (t1 - t0)
      return `rgb(${lerp(lo[0], hi[0], u)}, ${lerp(lo[1], hi[1], u)}, ${lerp(lo[2], hi[2], u)})`
    }
  }
  return 'rgb(255, 90, 95)'
}

/** Where a magnitude sits on the log ramp: 0 at 10^min (or 0), 1 at 10^max. */
export function magnitudeT(magnitude: number): number {
  if (!(magnitude > 0)) return 0
  return Math.min(1, Math.max(0, (Math.log10(magnitude) - LOG_RANGE.min) / (LOG_RANGE.max - LOG_RANGE.min)))
}

/**
 * The gradient's root mean square ‖g‖/√n: comparable between a [4,512] activation and a bias of
 * [512], unlike the norm, which grows with the size. null where no gradient flows.
 */
export function gradRms(node: Pick<GraphNode, 'grad' | 'shape'>): number | null {
  if (!node.grad) return null
  if (node.grad.nonFinite > 0) return Infinity
  return node.grad.norm / Math.sqrt(Math.max(1, numel(node.shape)))
}

/** Fill colour of a node by its gradient; null for nodes with no gradient (drawn neutral). */
export function gradColor(node: Pick<GraphNode, 'grad' | 'shape'>): string | null {
  const rms = gradRms(node)
  if (rms === null) return null
  if (!Number.isFinite(rms)) return 'rgb(255, 60, 70)'
  return rampColor(magnitudeT(rms))
}

/** CSS linear-gradient of the ramp, for the legend bar (a :style binding, never a <style>). */
export function rampGradientCss(stops = MAGNITUDE_STOPS): string {
  return `linear-gradient(90deg, ${stops.map(([t, [r, g, b]]) => `rgb(${r}, ${g}, ${b}) ${t * 100}%`).join(', ')})`
}
