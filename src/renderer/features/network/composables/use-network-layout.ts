// Geometry of the network view: one column of neurons per layer (input features first), circles
// while they fit and thin bars when a layer is too wide to draw as dots (512 neurons in 500 px),
// and hit testing of neurons and edges under the pointer.
import type { RequestResult } from '../../../../shared/protocol'

type NetworkSnapshot = RequestResult<'session.network'>

export interface Column {
  x: number
  /** Neurons drawn: all of the layer's, or the sample the snapshot shows (`shown`). */
  count: number
  /** Neurons in the layer. */
  width: number
  /** y of the first row's top edge; neuron i is centred at top + (i + 0.5)·rowH. */
  top: number
  rowH: number
  /** Circles (radius) while rows are tall enough to click; otherwise bars of width barW. */
  shape: 'circle' | 'bar'
  radius: number
  barW: number
}

export interface NetworkLayout {
  width: number
  height: number
  columns: Column[]
}

export const PAD = { x: 44, top: 14, bottom: 14 }
const MIN_CIRCLE_ROW = 11
const MAX_ROW = 46

/** Neurons per column: the features, then every layer's outputs. */
export function columnWidths(s: Pick<NetworkSnapshot, 'layers'>): number[] {
  if (s.layers.length === 0) return []
  return [s.layers[0]!.inFeatures, ...s.layers.map((l) => l.outFeatures)]
}

/** Neurons drawn per column: every one, or the host's sample of a wide column. */
export function columnSizes(s: Pick<NetworkSnapshot, 'layers' | 'shown'>): number[] {
  return s.shown ? s.shown.map((c) => c.length) : columnWidths(s)
}

/** The neuron at drawn position `p` of column `c` (its index in the layer). */
export function neuronIndex(s: Pick<NetworkSnapshot, 'shown'>, c: number, p: number): number {
  return s.shown?.[c]?.[p] ?? p
}

/** The drawn position of neuron `index` of column `c`, or of the shown neuron nearest to it. */
export function shownPosition(s: Pick<NetworkSnapshot, 'shown'>, c: number, index: number): number {
  const shown = s.shown?.[c]
  if (!shown) return index
  let best = 0
  for (let p = 1; p < shown.length; p++) if (Math.abs(shown[p]! - index) < Math.abs(shown[best]! - index)) best = p
  return best
}

/** `widths`: neurons per layer where the drawing shows a sample (default: `sizes`, all of them). */
export function layoutNetwork(sizes: readonly number[], width: number, height: number, widths: readonly number[] = sizes): NetworkLayout {
  const avail = Math.max(10, height - PAD.top - PAD.bottom)
  const span = Math.max(1, width - 2 * PAD.x)
  const columns = sizes.map((count, i): Column => {
    const x = sizes.length === 1 ? width / 2 : PAD.x + (span * i) / (sizes.length - 1)
    const fits = avail / Math.max(1, count) >= MIN_CIRCLE_ROW
    const rowH = fits ? Math.min(MAX_ROW, avail / count) : avail / count
    const top = PAD.top + (avail - rowH * count) / 2
    return { x, count, width: widths[i] ?? count, top, rowH, shape: fits ? 'circle' : 'bar', radius: Math.min(13, rowH * 0.38), barW: 16 }
  })
  return { width, height, columns }
}

export function neuronY(c: Column, i: number): number {
  return c.top + (i + 0.5) * c.rowH
}

/** Where neuron `index` of the layer sits, drawn or not (a sampled column spreads its neurons evenly). */
export function indexY(c: Column, index: number): number {
  return c.top + ((index + 0.5) / c.width) * c.rowH * c.count
}

/** Where an edge from neuron `from` of column l to neuron `to` of column l+1 starts and ends. */
export function edgeEnds(layout: NetworkLayout, layer: number, from: number, to: number): [number, number, number, number] {
  const a = layout.columns[layer]!
  const b = layout.columns[layer + 1]!
  const ax = a.x + (a.shape === 'circle' ? a.radius : a.barW / 2)
  const bx = b.x - (b.shape === 'circle' ? b.radius : b.barW / 2)
  return [ax, neuronY(a, from), bx, neuronY(b, to)]
}

export type Hit = { kind: 'neuron'; column: number; index: number } | { kind: 'edge'; layer: number; edge: number }

function segmentDistance(px: number, py: number, [x0, y0, x1, y1]: [number, number, number, number]): number {
  const dx = x1 - x0
  const dy = y1 - y0
  const len2 = dx * dx + dy * dy
  const u = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - x0) * dx + (py - y0) * dy) / len2))
  return Math.hypot(px - (x0 + u * dx), py - (y0 + u * dy))
}

/**
 * What is under (x, y): a neuron first (they are drawn on top), else the closest edge within
 * `tolerance` px, preferring the edge drawn last (`order[layer]` lists edges in drawing order).
 */
export function hitTest(
  layout: NetworkLayout,
  s: NetworkSnapshot,
  x: number,
  y: number,
  order?: readonly (readonly number[])[],
  tolerance = 4,
): Hit | null {
  for (let c = 0; c < layout.columns.length; c++) {
    const col = layout.columns[c]!
    const half = (col.shape === 'circle' ? col.radius : col.barW / 2) + 3
    if (Math.abs(x - col.x) > half) continue
    const index = Math.floor((y - col.top) / col.rowH)
    if (index >= 0 && index < col.count) return { kind: 'neuron', column: c, index }
  }
  for (let l = 0; l < s.layers.length; l++) {
    const [a, b] = [layout.columns[l], layout.columns[l + 1]]
    if (!a || !b || x < a.x || x > b.x) continue
    const layer = s.layers[l]!
    const indices = order?.[l] ?? layer.from.map((_, k) => k)
    let best: Hit | null = null
    let bestD = tolerance
    // Walk the drawing order backwards: on a tie, the edge drawn on top wins.
    for (let j = indices.length - 1; j >= 0; j--) {
      const k = indices[j]!
      const d = segmentDistance(x, y, edgeEnds(layout, l, layer.from[k]!, layer.to[k]!))
      if (d < bestD) {
        bestD = d
        best = { kind: 'edge', layer: l, edge: k }
      }
    }
    return best
  }
  return null
}

/** Edges of each layer by increasing |value|: weak ones drawn first, strong ones on top. */
export function drawingOrder(s: NetworkSnapshot, values: (layer: NetworkSnapshot['layers'][number]) => readonly number[]): number[][] {
  return s.layers.map((layer) => {
    const v = values(layer)
    return v.map((_, k) => k).sort((p, q) => Math.abs(v[p]!) - Math.abs(v[q]!))
  })
}
