// The regression chart (in place of accuracy): R² on the train and test splits at each
// evaluation, with the same step zoom as the loss chart. R² is at most 1 and unbounded below (a
// fresh model can be far worse than predicting the mean), so the axis shows down to −1 and lower
// points sit on its edge; the tooltip gives the value.
import type { Ref } from 'vue'
import { THEME, liveLineOptions } from '../../../charts/setup'
import { stepZoomOptions } from '../../../charts/zoom'
import { useMetricsStore } from '../../../stores/metrics'
import { useLiveChart } from '../../../composables/use-live-chart'

/** Where the axis stops below: R² under it is drawn on the edge. */
export const R2_FLOOR = -1

export function useRegressionChart(canvas: Ref<HTMLCanvasElement | null>) {
  const metrics = useMetricsStore()
  const options = liveLineOptions()
  options.scales = {
    ...options.scales,
    y: { type: 'linear', suggestedMin: 0, max: 1, title: { display: true, text: 'R²' }, grid: { color: THEME.grid } },
  }
  options.plugins = {
    ...options.plugins,
    zoom: stepZoomOptions(),
    tooltip: {
      animation: false,
      callbacks: {
        title: (items) => (items[0] ? `step ${items[0].parsed.x}` : ''),
        label: (item) => `${item.dataset.label} R²: ${(item.raw as { r2: number }).r2.toFixed(4)}`,
      },
    },
  }
  const clamp = (pts: { x: number; y: number }[]) => pts.map((p) => ({ x: p.x, y: Math.max(R2_FLOOR, p.y), r2: p.y }))
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
      chart.data.datasets[0]!.data = clamp(metrics.buffers.regression.trainR2.points())
      chart.data.datasets[1]!.data = clamp(metrics.buffers.regression.testR2.points())
    },
  })
  const resetZoom = () => live.reconfigure((chart) => chart.resetZoom('none'))
  return { ...live, resetZoom }
}
