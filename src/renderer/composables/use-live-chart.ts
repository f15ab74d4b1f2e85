// One Chart.js line chart bound to a canvas: created on mount, destroyed on unmount, redrawn at
// most once per animation frame after the metrics version changes. The chart lives in a plain
// variable, never in Vue's reactivity (it is large and mutates itself).
import { onBeforeUnmount, onMounted, ref, watch, type Ref, type WatchSource } from 'vue'
import type { ChartConfiguration } from 'chart.js'
import { Chart } from '../charts/setup'
import type { Point } from '../charts/downsample'

export type LineChart = Chart<'line', Point[]>

export interface LiveChartOptions {
  config: () => ChartConfiguration<'line', Point[]>
  /** Put the current data into the chart's datasets (called inside requestAnimationFrame). */
  refresh: (chart: LineChart) => void
  /** Bumped whenever there is something new to draw. */
  version: WatchSource<number>
  /** Called after each redraw (e.g. to read what a plugin drew). */
  afterDraw?: (chart: LineChart) => void
}

export function useLiveChart(canvas: Ref<HTMLCanvasElement | null>, options: LiveChartOptions) {
  /** Points drawn in the last frame (the charts expose it as data-points). */
  const pointCount = ref(0)
  let chart: LineChart | null = null
  let frame = 0

  function draw(): void {
    frame = 0
    if (!chart) return
    options.refresh(chart)
    chart.update('none')
    pointCount.value = chart.data.datasets.reduce((n, d) => n + d.data.length, 0)
    options.afterDraw?.(chart)
  }

  function schedule(): void {
    if (frame === 0) frame = requestAnimationFrame(draw)
  }

  onMounted(() => {
    if (!canvas.value) return
    chart = new Chart(canvas.value, options.config())
    draw()
  })
  watch(options.version, schedule)
  onBeforeUnmount(() => {
    if (frame) cancelAnimationFrame(frame)
    chart?.destroy()
    chart = null
  })

  /** Change the chart itself (an axis type, say) and redraw on the next frame. */
  function reconfigure(change: (chart: LineChart) => void): void {
    if (!chart) return
    change(chart)
    schedule()
  }

  return { pointCount, reconfigure }
}
