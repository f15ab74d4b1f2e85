// Draws a dataset preview (2-D points coloured by label; test points as rings) on a canvas, crisp
// on HiDPI screens.
// Plain 2D canvas: a few hundred dots need no chart library.
import { onMounted, watch, type Ref } from 'vue'
import type { RequestResult } from '../../../../shared/protocol'
import { THEME } from '../../../charts/setup'

type Preview = RequestResult<'dataset.preview'>

/** Blue-to-orange ramp for regression targets, t in [0, 1]. */
function ramp(t: number): string {
  const c = Math.max(0, Math.min(1, t))
  const mix = (a: number, b: number) => Math.round(a + (b - a) * c)
  return `rgb(${mix(122, 255)}, ${mix(162, 184)}, ${mix(255, 107)})`
}

function colorFor(preview: Preview, label: number, lo: number, hi: number): string {
  if (preview.task === 'regression') return ramp(hi > lo ? (label - lo) / (hi - lo) : 0.5)
  if (preview.task === 'binary') return label > 0 ? THEME.palette[0] : THEME.palette[3]
  return THEME.palette[label % THEME.palette.length]!
}

export function draw(canvas: HTMLCanvasElement, preview: Preview | null): void {
  const ratio = window.devicePixelRatio || 1
  const size = canvas.clientWidth || 180
  canvas.width = Math.round(size * ratio)
  canvas.height = Math.round(size * ratio)
  const ctx = canvas.getContext('2d')
  if (!ctx) return
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0)
  ctx.clearRect(0, 0, size, size)
  ctx.strokeStyle = THEME.grid
  ctx.beginPath()
  ctx.moveTo(size / 2, 0)
  ctx.lineTo(size / 2, size)
  ctx.moveTo(0, size / 2)
  ctx.lineTo(size, size / 2)
  ctx.stroke()
  if (!preview) return
  const { points, labels } = preview
  let extent = 1e-9
  for (const v of points) extent = Math.max(extent, Math.abs(v))
  const scale = (size / 2 - 8) / extent
  let lo = Infinity
  let hi = -Infinity
  for (const l of labels) {
    lo = Math.min(lo, l)
    hi = Math.max(hi, l)
  }
  // Train points filled, test points as rings (drawn last, so they stay visible).
  ctx.lineWidth = 1.2
  for (const test of [false, true]) {
    for (let i = 0; i < labels.length; i++) {
      if ((preview.isTest[i] ?? false) !== test) continue
      const color = colorFor(preview, labels[i]!, lo, hi)
      ctx.beginPath()
      ctx.arc(size / 2 + points[2 * i]! * scale, size / 2 - points[2 * i + 1]! * scale, test ? 2.6 : 2.2, 0, 2 * Math.PI)
      if (test) {
        ctx.strokeStyle = color
        ctx.stroke()
      } else {
        ctx.fillStyle = color
        ctx.fill()
      }
    }
  }
}

export function useScatterPreview(canvas: Ref<HTMLCanvasElement | null>, preview: () => Preview | null) {
  const redraw = () => canvas.value && draw(canvas.value, preview())
  onMounted(redraw)
  watch(preview, redraw)
}
