// A chart of one figure per evaluation, train and test, with the same step zoom as the loss chart:
// accuracy for classification, R² for regression. Each says how its axis reads and where its points
// come from; the chart itself is written once here.
import type { Ref } from 'vue'
import type { ScaleOptions, TooltipItem } from 'chart.js'
import { THEME, liveLineOptions } from '../../../charts/setup'
import { stepZoomOptions } from '../../../charts/zoom'
import { useMetricsStore } from '../../../stores/metrics'
import { useLiveChart } from '../../../composables/use-live-chart'

type Point = { x: number; y: number }

export interface EvalSeries {
  /** The y axis (the x axis is the loss chart's steps). */
  y: ScaleOptions<'linear'>
  /** A point's tooltip line. */
  label(item: TooltipItem<'line'>): string
  /** The train and test points to draw now. */
  points(metrics: ReturnType<typeof useMetricsStore>): { train: Point[]; test: Point[] }
}

export function useEvalChart(canvas: Ref<HTMLCanvasElement | null>, series: EvalSeries) {
  const metrics = useMetricsStore()
  const options = liveLineOptions()
  options.scales = { ...options.scales, y: { grid: { color: THEME.grid }, ...series.y } }
  options.plugins = {
    ...options.plugins,
    zoom: stepZoomOptions(),
    tooltip: {
      animation: false,
      callbacks: {
        title: (items) => (items[0] ? `step ${items[0].parsed.x}` : ''),
        label: (item) => series.label(item),
      },
    },
  }
  const live = useLiveChart(canvas, {
    version: () => metrics.version,
    config: () => ({
      type: 'line',
      data: {
        datasets: [
          { label: 'train', data: [], borderColor: THEME.palette[2], backgroundColor: THEME.palette[2], pointRadius: 1.5 },
          { label: 'test', data: [], borderColor: THEME.palette[1], backgroundColor: THEME.palette[1], pointRadius: 1.5 },
        ],
      },
      options,
    }),
    refresh(chart) {
      const { train, test } = series.points(metrics)
      chart.data.datasets[0]!.data = train
      chart.data.datasets[1]!.data = test
    },
  })
  const resetZoom = () => live.reconfigure((chart) => chart.resetZoom('none'))
  return { ...live, resetZoom }
}
