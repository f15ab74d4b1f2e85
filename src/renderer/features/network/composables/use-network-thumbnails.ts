// Every neuron's map as a thumbnail inside its node, as TensorFlow Playground draws them: the
// host's quantised maps decoded once per reply into one atlas of pixels (on the decision
// boundary's colour scale), placed at each neuron's row, and drawn with one drawImage each, so a
// frame costs about the same whatever the grid. Wide columns show an evenly spread sample, labelled.
import type { RequestResult } from '../../../../shared/protocol'
import type { NetworkLayout } from './use-network-layout'
import { indexY } from './use-network-layout'
import { mapRgb, mapScale } from './use-network-neuron-map'

type NeuronMaps = RequestResult<'session.neuronMaps'>
type SessionInfo = RequestResult<'session.info'>

/** The largest thumbnail (px), and the share of a neuron's row (or of its share of a sampled column) it fills. */
export const MAX_THUMB = 30
const FILL = 0.82

export interface AtlasColumn {
  width: number
  indices: readonly number[]
  /** The atlas slot of indices[0]; the column's maps follow it in order. */
  firstSlot: number
}

export interface ThumbnailAtlas {
  step: number
  resolution: number
  /** Slots per atlas row; slot s sits at column s mod across, row ⌊s / across⌋, each resolution px square. */
  across: number
  width: number
  height: number
  pixels: Uint8ClampedArray<ArrayBuffer>
  columns: AtlasColumn[]
  count: number
  /** A short fingerprint of the maps' contents: it changes when any map does. */
  signature: string
}

export function decodeBase64(text: string): Uint8Array {
  const s = atob(text)
  const out = new Uint8Array(s.length)
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i)
  return out
}

/** The maps' values back from bytes: map j of a column (value = min + (max − min)·byte/255). */
export function mapValues(
  m: Pick<NeuronMaps, 'resolution'>,
  column: NeuronMaps['columns'][number],
  j: number,
  bytes?: Uint8Array,
): number[] {
  const cells = m.resolution ** 2
  const b = (bytes ?? decodeBase64(column.data)).subarray(j * cells, (j + 1) * cells)
  const [lo, hi] = [column.min[j]!, column.max[j]!]
  return Array.from(b, (q) => lo + ((hi - lo) * q) / 255)
}

/** All maps as RGBA pixels in one atlas, each on its own scale (mapScale, as the large map in the side panel). */
export function mapAtlas(m: NeuronMaps): ThumbnailAtlas {
  const r = m.resolution
  const count = m.columns.reduce((s, c) => s + c.indices.length, 0)
  const across = Math.max(1, Math.ceil(Math.sqrt(count)))
  const width = across * r
  const height = Math.max(1, Math.ceil(count / across)) * r
  const pixels = new Uint8ClampedArray(width * height * 4)
  let hash = 0x811c9dc5
  let slot = 0
  const columns = m.columns.map((c) => {
    const bytes = decodeBase64(c.data)
    const firstSlot = slot
    c.indices.forEach((_, j) => {
      const values = mapValues(m, c, j, bytes)
      const { center, scale } = mapScale({ min: c.min[j]!, max: c.max[j]! })
      const [ox, oy] = [(slot % across) * r, Math.floor(slot / across) * r]
      values.forEach((v, i) => {
        const rgb = mapRgb(v, center, scale)
        const p = ((oy + Math.floor(i / r)) * width + ox + (i % r)) * 4
        pixels.set(rgb, p)
        pixels[p + 3] = 255
        hash = Math.imul(hash ^ bytes[j * r * r + i]!, 0x01000193)
      })
      hash = Math.imul(hash ^ Math.round(c.max[j]! * 1e4 - c.min[j]! * 1e3), 0x01000193)
      slot++
    })
    return { width: c.width, indices: c.indices, firstSlot }
  })
  return { step: m.step, resolution: r, across, width, height, pixels, columns, count, signature: (hash >>> 0).toString(16) }
}

export interface ThumbRect {
  column: number
  index: number
  slot: number
  /** Top left and side, px. */
  x: number
  y: number
  size: number
}

/**
 * Where each thumbnail goes: centred on its neuron. A column of circles gives each map most of its
 * row; a column of bars (too many neurons for dots) has only a sample, each map getting most of its
 * share of the column, kept inside the column. Columns whose width disagrees with the drawing (a
 * snapshot and maps of different models, between two refreshes) get none.
 */
export function thumbnailRects(layout: NetworkLayout, atlas: Pick<ThumbnailAtlas, 'columns'>): ThumbRect[] {
  const out: ThumbRect[] = []
  atlas.columns.forEach((a, c) => {
    const col = layout.columns[c]
    if (!col || col.width !== a.width || a.indices.length === 0) return
    const share = col.shape === 'circle' ? col.rowH : (col.rowH * col.count) / a.indices.length
    const size = Math.min(MAX_THUMB, FILL * share)
    const [lo, hi] = [col.top, col.top + col.rowH * col.count - size]
    a.indices.forEach((index, j) => {
      const y = Math.max(lo, Math.min(hi, indexY(col, index) - size / 2))
      out.push({ column: c, index, slot: a.firstSlot + j, x: col.x - size / 2, y, size })
    })
  })
  return out
}

/** Under a column's header when it shows a sample: "maps for 8 of 1024 units". */
export function mapsLabel(column: Pick<AtlasColumn, 'width' | 'indices'>, c: number): string | null {
  if (column.indices.length >= column.width) return null
  return `maps for ${column.indices.length} of ${column.width} ${c === 0 ? 'features' : 'units'}`
}

/**
 * Why there are no maps, in one line, when the inspected session's data has no input plane (known
 * from its info); null when maps apply or it is not known yet (the host then says).
 */
export function noMapsReason(info: Pick<SessionInfo, 'planar' | 'featureNames' | 'state'> | null, sessionId: string | null): string | null {
  if (!info || info.state.sessionId !== sessionId || info.planar) return null
  const n = info.featureNames.length
  return `No neuron maps: the inputs are ${n} column${n === 1 ? '' : 's'}, not 2-D points, so there is no input plane to draw each neuron's output over.`
}

/** Draws the thumbnails from the atlas (one drawImage each), framed in their neuron's colour. */
export function drawThumbnails(
  ctx: CanvasRenderingContext2D,
  rects: readonly ThumbRect[],
  atlas: Pick<ThumbnailAtlas, 'across' | 'resolution'>,
  image: CanvasImageSource,
  frame: (column: number, index: number) => string,
): void {
  const r = atlas.resolution
  // Nearest neighbour: no bleeding between neighbouring maps of the atlas, and the coarse grid stays honest.
  ctx.imageSmoothingEnabled = false
  ctx.lineWidth = 1.5
  for (const t of rects) {
    const [sx, sy] = [(t.slot % atlas.across) * r, Math.floor(t.slot / atlas.across) * r]
    ctx.drawImage(image, sx, sy, r, r, t.x, t.y, t.size, t.size)
    ctx.strokeStyle = frame(t.column, t.index)
    ctx.strokeRect(t.x - 0.75, t.y - 0.75, t.size + 1.5, t.size + 1.5)
  }
}
