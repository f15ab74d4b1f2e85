// Draws a neuron's output over the 2-D input plane (the host evaluates it on a grid) as a
// heatmap, with the dataset's points on top, as TensorFlow Playground does for each neuron. The
// colours are the decision boundary's (orange ↔ light ↔ blue), shared with the thumbnails.
import { onMounted, watch, type Ref } from 'vue'
import type { RequestResult } from '../../../../shared/protocol'
import { css, diverging, type Rgb } from '../../../charts/color-scales'

type NeuronMap = RequestResult<'session.neuronMap'>
type Preview = RequestResult<'dataset.preview'>

const CLASS_COLORS = ['#f59342', '#5c9cff', '#5fd4b0', '#c08bff', '#e6d96b', '#ff7a85', '#6bd0ff', '#b0b8cc', '#ffb86b', '#9aa1b5']

/**
 * Where the map's colour scale is centred, and its half-width: at 0 for values of both signs (tanh,
 * logits), at ½ for probabilities (softmax, sigmoid outputs), else at the middle of the range.
 */
export function mapScale(map: Pick<NeuronMap, 'min' | 'max'>): { center: number; scale: number } {
  const { min, max } = map
  const center = min < 0 && max > 0 ? 0 : min >= 0 && max <= 1 ? 0.5 : (min + max) / 2
  return { center, scale: Math.max(Math.abs(max - center), Math.abs(center - min)) || 1 }
}

/** A map value's colour: the decision boundary's scale, with the centre where P = ½ sits and ±scale at its ends. */
export function mapRgb(v: number, center: number, scale: number): Rgb {
  const t = Math.max(-1, Math.min(1, (v - center) / scale))
  return diverging(Number.isFinite(t) ? (1 + t) / 2 : 0.5)
}

/** The legend's CSS gradient for mapRgb. */
export function mapGradientCss(): string {
  return `linear-gradient(90deg, ${css(diverging(0))}, ${css(diverging(0.5))} 50%, ${css(diverging(1))})`
}

/** RGBA pixels of the map on the diverging scale (orange below the centre, blue above). */
export function heatmapPixels(map: NeuronMap): Uint8ClampedArray<ArrayBuffer> {
  const n = map.resolution * map.resolution
  const out = new Uint8ClampedArray(n * 4)
  const { center, scale } = mapScale(map)
  for (let i = 0; i < n; i++) {
    out.set(mapRgb(map.values[i] ?? center, center, scale), i * 4)
    out[i * 4 + 3] = 255
  }
  return out
}

export function drawNeuronMap(canvas: HTMLCanvasElement, map: NeuronMap | null, preview: Preview | null): void {
  const ratio = window.devicePixelRatio || 1
  const size = canvas.clientWidth || 200
  canvas.width = canvas.height = Math.round(size * ratio)
  const ctx = canvas.getContext('2d')
  if (!ctx) return
  ctx.setTransform(1, 0, 0, 1, 0, 0)
  ctx.clearRect(0, 0, canvas.width, canvas.height)
  if (!map) return
  const off = document.createElement('canvas')
  off.width = off.height = map.resolution
  off.getContext('2d')?.putImageData(new ImageData(heatmapPixels(map), map.resolution, map.resolution), 0, 0)
  ctx.imageSmoothingEnabled = true
  ctx.drawImage(off, 0, 0, canvas.width, canvas.height)
  if (!preview) return
  const [x0, x1] = map.xRange
  const [y0, y1] = map.yRange
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0)
  ctx.lineWidth = 0.8
  ctx.strokeStyle = 'rgba(15, 17, 23, 0.85)'
  for (let i = 0; i < preview.labels.length; i++) {
    const px = ((preview.points[2 * i]! - x0) / (x1 - x0)) * size
    const py = ((y1 - preview.points[2 * i + 1]!) / (y1 - y0)) * size
    if (px < 0 || px > size || py < 0 || py > size) continue
    const label = preview.labels[i]!
    ctx.fillStyle =
      preview.task === 'regression'
        ? '#e6e8ef'
        : preview.task === 'binary'
          ? label > 0
            ? '#5c9cff'
            : '#f59342'
          : CLASS_COLORS[label % CLASS_COLORS.length]!
    ctx.beginPath()
    ctx.arc(px, py, 2.3, 0, 2 * Math.PI)
    ctx.fill()
    ctx.stroke()
  }
}

export function useNeuronMapCanvas(canvas: Ref<HTMLCanvasElement | null>, map: () => NeuronMap | null, preview: () => Preview | null) {
  const redraw = () => canvas.value && drawNeuronMap(canvas.value, map(), preview())
  onMounted(redraw)
  watch([map, preview], redraw)
}
