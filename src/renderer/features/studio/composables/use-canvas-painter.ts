// A hand-drawn canvas (heatmaps, the decision boundary) repainted at most once per animation frame
// when its data version changes or the canvas is resized, at the device pixel ratio.
import { onBeforeUnmount, onMounted, watch, type Ref, type WatchSource } from 'vue'
import { fitCanvas } from '../../../charts/heatmap'

export function useCanvasPainter(
  canvas: Ref<HTMLCanvasElement | null>,
  version: WatchSource<unknown>,
  paint: (ctx: CanvasRenderingContext2D, width: number, height: number) => void,
) {
  let frame = 0
  let observer: ResizeObserver | null = null

  function draw(): void {
    frame = 0
    if (!canvas.value) return
    const { ctx, width, height } = fitCanvas(canvas.value)
    if (!ctx) return
    ctx.clearRect(0, 0, width, height)
    paint(ctx, width, height)
  }

  function schedule(): void {
    if (frame === 0) frame = requestAnimationFrame(draw)
  }

  onMounted(() => {
    if (!canvas.value) return
    observer = new ResizeObserver(schedule)
    observer.observe(canvas.value)
    schedule()
  })
  watch(version, schedule)
  onBeforeUnmount(() => {
    if (frame) cancelAnimationFrame(frame)
    observer?.disconnect()
  })
  return { schedule }
}
