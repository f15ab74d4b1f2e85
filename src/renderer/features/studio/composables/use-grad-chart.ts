// The per-layer gradient chart as lines (log scale): one line per layer, in model order, so
// vanishing or exploding gradients show up as lines drifting apart by orders of magnitude. The
// statistic (‖g‖, mean |g|, max |g|) is the one the heatmap shows.
import { watch, type Ref } from 'vue'
import { THEME, liveLineOptions, logTick } from '../../../charts/setup'
import { stepZoomOptions } from '../../../charts/zoom'
import type { LayerStatName } from '../../../charts/layer-timeline'
import { useMetricsStore } from '../../../stores/metrics'
import { useLiveChart } from '../../../composables/use-live-chart'

export function useGradChart(canvas: Ref<HTMLCanvasElement | null>, stat: Ref<LayerStatName>) {
  const metrics = useMetricsStore()
  const options = liveLineOptions()
  options.scales = {
    ...options.scales,
    y: {
      type: 'logarithmic',
      title: { display: true, text: 'gradient (log)' },
      grid: { color: THEME.grid },
      ticks: { callback: logTick },
    },
  }
  options.plugins = { ...options.plugins, zoom: stepZoomOptions() }

  const live = useLiveChart(canvas, {
    version: () => metrics.version,
    config: () => ({ type: 'line', data: { datasets: [] }, options }),
    refresh(chart) {
      const { layers, layerNames } = metrics.buffers
      const datasets = chart.data.datasets
      // A new session can have a different number of layers: rebuild the datasets when it does.
      if (datasets.length !== layerNames.length || datasets.some((d, i) => d.label !== layerNames[i])) {
        chart.data.datasets = layerNames.map((name, i) => {
          const color = THEME.palette[i % THEME.palette.length]
          return { label: name, data: [], borderColor: color, backgroundColor: color }
        })
      }
      chart.data.datasets.forEach((d, i) => (d.data = i < layers.layers ? layers.series(i, stat.value, true) : []))
    },
  })
  watch(stat, () => live.reconfigure(() => undefined))
  return live
}
