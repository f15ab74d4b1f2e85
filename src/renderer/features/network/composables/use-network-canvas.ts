// Draws a network snapshot on a canvas (edges by weight or gradient, neurons by activation or
// ∂L/∂activation, each neuron's map over the input plane inside it) and tracks what the pointer is
// over. Plain 2D canvas: thousands of edges are one path each, no DOM nodes; the snapshot, the
// maps' atlas and the geometry stay out of Vue's reactivity.
import { onBeforeUnmount, onMounted, shallowRef, watch, type Ref } from 'vue'
import type { RequestResult } from '../../../../shared/protocol'
import { divergingColor, edgeDensity, edgeStyle, robustScale } from './use-network-colors'
import {
  columnSizes,
  columnWidths,
  drawingOrder,
  shownPosition,
  edgeEnds,
  hitTest,
  layoutNetwork,
  neuronY,
  type Hit,
  type NetworkLayout,
} from './use-network-layout'
import { drawThumbnails, mapAtlas, thumbnailRects, type ThumbnailAtlas } from './use-network-thumbnails'

type NetworkSnapshot = RequestResult<'session.network'>
type NeuronMaps = RequestResult<'session.neuronMaps'>
type Layer = NetworkSnapshot['layers'][number]

export type EdgeMode = 'weight' | 'gradient'
export type NodeMode = 'activation' | 'gradient'

export const edgeValues =
  (mode: EdgeMode) =>
  (l: Layer): readonly number[] =>
    mode === 'weight' ? l.weight : l.grad
export const nodeValues =
  (mode: NodeMode) =>
  (n: NetworkSnapshot['neurons'][number]): readonly number[] =>
    mode === 'activation' ? n.activation : n.gradActivation

export interface Scales {
  edge: number
  node: number
}

export function scalesFor(s: NetworkSnapshot, edgeMode: EdgeMode, nodeMode: NodeMode): Scales {
  return { edge: robustScale(...s.layers.map(edgeValues(edgeMode))), node: robustScale(...s.neurons.map(nodeValues(nodeMode))) }
}

export function drawNetwork(
  ctx: CanvasRenderingContext2D,
  layout: NetworkLayout,
  s: NetworkSnapshot,
  edgeMode: EdgeMode,
  nodeMode: NodeMode,
  scales: Scales,
  order: number[][],
): void {
  ctx.clearRect(0, 0, layout.width, layout.height)
  ctx.lineCap = 'round'
  s.layers.forEach((layer, l) => {
    const values = edgeValues(edgeMode)(layer)
    const density = edgeDensity(layer.from.length)
    for (const k of order[l] ?? []) {
      const [x0, y0, x1, y1] = edgeEnds(layout, l, layer.from[k]!, layer.to[k]!)
      const style = edgeStyle(values[k]!, scales.edge, density)
      ctx.strokeStyle = style.color
      ctx.lineWidth = style.width
      ctx.beginPath()
      ctx.moveTo(x0, y0)
      // A gentle S-curve, as in Playground: edges into one neuron fan in instead of crossing in a knot.
      const mx = (x0 + x1) / 2
      ctx.bezierCurveTo(mx, y0, mx, y1, x1, y1)
      ctx.stroke()
    }
  })
  layout.columns.forEach((col, c) => {
    const values = s.neurons[c] ? nodeValues(nodeMode)(s.neurons[c]!) : []
    for (let i = 0; i < col.count; i++) {
      ctx.fillStyle = divergingColor(values[i] ?? 0, scales.node)
      const y = neuronY(col, i)
      if (col.shape === 'circle') {
        ctx.beginPath()
        ctx.arc(col.x, y, col.radius, 0, 2 * Math.PI)
        ctx.fill()
        ctx.strokeStyle = 'rgba(230, 232, 239, 0.35)'
        ctx.lineWidth = 1
        ctx.stroke()
      } else {
        ctx.fillRect(col.x - col.barW / 2, col.top + i * col.rowH, col.barW, Math.max(col.rowH, 0.75))
      }
    }
    if (col.shape === 'bar') {
      ctx.strokeStyle = 'rgba(230, 232, 239, 0.35)'
      ctx.lineWidth = 1
      ctx.strokeRect(col.x - col.barW / 2 - 0.5, col.top - 0.5, col.barW + 1, col.rowH * col.count + 1)
    }
  })
}

export interface Anchor {
  kind: 'neuron' | 'edge'
  x: number
  y: number
}

/** Points a test (or a curious user) can hover: the first neuron of each column, each layer's strongest edge. */
export function anchorsFor(layout: NetworkLayout, s: NetworkSnapshot, order: number[][]): Anchor[] {
  const out: Anchor[] = layout.columns.map((c) => ({ kind: 'neuron', x: Math.round(c.x), y: Math.round(neuronY(c, 0)) }))
  s.layers.forEach((layer, l) => {
    const k = order[l]?.at(-1)
    if (k === undefined) return
    const [x0, y0, x1, y1] = edgeEnds(layout, l, layer.from[k]!, layer.to[k]!)
    out.push({ kind: 'edge', x: Math.round((x0 + x1) / 2), y: Math.round((y0 + y1) / 2) })
  })
  return out
}

export interface NetworkCanvasOptions {
  snapshot: () => NetworkSnapshot | null
  edgeMode: () => EdgeMode
  nodeMode: () => NodeMode
  maps: () => NeuronMaps | null
}

/** What the last frame drew, for tests and the frame-time note: thumbnails, whose maps, and how long it took (ms). */
export interface FrameInfo {
  thumbnails: number
  mapsStep: number | null
  mapsSignature: string
  ms: number
}

export function useNetworkCanvas(canvas: Ref<HTMLCanvasElement | null>, box: Ref<HTMLElement | null>, options: NetworkCanvasOptions) {
  const layout = shallowRef<NetworkLayout | null>(null)
  const hover = shallowRef<{ hit: Hit; x: number; y: number } | null>(null)
  const anchors = shallowRef<Anchor[]>([])
  const drawCount = shallowRef(0)
  const frame = shallowRef<FrameInfo>({ thumbnails: 0, mapsStep: null, mapsSignature: '', ms: 0 })
  let order: number[][] = []
  let size = { width: 0, height: 0 }
  let atlas: { info: ThumbnailAtlas; image: HTMLCanvasElement } | null = null
  let atlasOf: NeuronMaps | null = null

  /** The maps' atlas, decoded and painted once per reply (not per frame). */
  function currentAtlas(): typeof atlas {
    const m = options.maps()
    if (m === atlasOf) return atlas
    atlasOf = m
    atlas = null
    if (!m) return null
    const info = mapAtlas(m)
    const image = document.createElement('canvas')
    image.width = info.width
    image.height = info.height
    image.getContext('2d')?.putImageData(new ImageData(info.pixels, info.width, info.height), 0, 0)
    atlas = { info, image }
    return atlas
  }

  function redraw(): void {
    const el = canvas.value
    const s = options.snapshot()
    if (!el || size.width === 0) return
    const ratio = window.devicePixelRatio || 1
    el.width = Math.round(size.width * ratio)
    el.height = Math.round(size.height * ratio)
    const ctx = el.getContext('2d')
    if (!ctx) return
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0)
    if (!s) {
      ctx.clearRect(0, 0, size.width, size.height)
      layout.value = null
      return
    }
    const started = performance.now()
    const geometry = layoutNetwork(columnSizes(s), size.width, size.height, columnWidths(s))
    order = drawingOrder(s, edgeValues(options.edgeMode()))
    const scales = scalesFor(s, options.edgeMode(), options.nodeMode())
    drawNetwork(ctx, geometry, s, options.edgeMode(), options.nodeMode(), scales, order)
    const a = currentAtlas()
    const rects = a ? thumbnailRects(geometry, a.info) : []
    if (a) {
      const values = s.neurons.map(nodeValues(options.nodeMode()))
      drawThumbnails(ctx, rects, a.info, a.image, (c, i) => divergingColor(values[c]?.[shownPosition(s, c, i)] ?? 0, scales.node))
    }
    frame.value = {
      thumbnails: rects.length,
      mapsStep: a?.info.step ?? null,
      mapsSignature: a?.info.signature ?? '',
      ms: performance.now() - started,
    }
    layout.value = geometry
    anchors.value = anchorsFor(geometry, s, order)
    drawCount.value++
    // New numbers (or a new edge sample) under a resting pointer: look again at the same spot.
    const h = hover.value
    if (h) {
      const hit = hitTest(geometry, s, h.x, h.y, order)
      hover.value = hit ? { hit, x: h.x, y: h.y } : null
    }
  }

  function pointer(e: MouseEvent): { x: number; y: number } | null {
    const el = canvas.value
    if (!el) return null
    const r = el.getBoundingClientRect()
    return { x: e.clientX - r.left, y: e.clientY - r.top }
  }

  function hitAt(e: MouseEvent): { hit: Hit; x: number; y: number } | null {
    const p = pointer(e)
    const s = options.snapshot()
    if (!p || !s || !layout.value) return null
    const hit = hitTest(layout.value, s, p.x, p.y, order)
    return hit ? { hit, ...p } : null
  }

  const onMove = (e: MouseEvent) => (hover.value = hitAt(e))
  const onLeave = () => (hover.value = null)

  let observer: ResizeObserver | null = null
  onMounted(() => {
    observer = new ResizeObserver(([entry]) => {
      const r = entry!.contentRect
      size = { width: Math.floor(r.width), height: Math.floor(r.height) }
      redraw()
    })
    if (box.value) observer.observe(box.value)
  })
  onBeforeUnmount(() => observer?.disconnect())
  watch([options.snapshot, options.edgeMode, options.nodeMode, options.maps], redraw)
  return { layout, hover, anchors, drawCount, frame, onMove, onLeave, hitAt }
}
