// The accuracy chart (classification): train and test accuracy at each evaluation, 0–100 %, with
// the same step zoom as the loss chart.
import type { Ref } from 'vue'
import { THEME, liveLineOptions } from '../../../charts/setup'
import { stepZoomOptions } from '../../../charts/zoom'
import { useMetricsStore } from '../../../stores/metrics'
import { useLiveChart } from '../../../composables/use-live-chart'

export function useAccuracyChart(canvas: Ref<HTMLCanvasElement | null>) {
  const metrics = useMetricsStore()
  const options = liveLineOptions()
  options.scales = {
    ...options.scales,
    y: {
      type: 'linear',
      min: 0,
      max: 1,
      title: { display: true, text: 'accuracy' },
      grid: { color: THEME.grid },
      ticks: { callback: (v) => `${Math.round(Number(v) * 100)}%` },
    },
  }
  options.plugins = {
    ...options.plugins,
    zoom: stepZoomOptions(),
    tooltip: {
      animation: false,
      callbacks: {
        title: (items) => (items[0] ? `step ${items[0].parsed.x}` : ''),
        label: (item) => `${item.dataset.label}: ${((item.parsed.y ?? 0) * 100).toFixed(2)}%`,
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
      chart.data.datasets[0]!.data = metrics.buffers.trainAccuracy.points()
      chart.data.datasets[1]!.data = metrics.buffers.testAccuracy.points()
    },
  })
  const resetZoom = () => live.reconfigure((chart) => chart.resetZoom('none'))
  return { ...live, resetZoom }
}
