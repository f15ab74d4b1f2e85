// The per-layer gradient-norm chart (log scale): one line per layer, in model order, so
// vanishing or exploding gradients show up as lines drifting apart by orders of magnitude.
import type { Ref } from 'vue'
import { THEME, liveLineOptions, powerOfTenTick } from '../charts/setup'
import { useSessionStore } from '../stores/session'
import { useLiveChart } from './use-live-chart'

export function useGradChart(canvas: Ref<HTMLCanvasElement | null>) {
  const session = useSessionStore()
  const options = liveLineOptions()
  options.scales = {
    ...options.scales,
    y: { type: 'logarithmic', title: { display: true, text: 'gradient norm' }, grid: { color: THEME.grid }, ticks: { callback: powerOfTenTick } },
  }

  return useLiveChart(canvas, {
    version: () => session.metricsVersion,
    config: () => ({ type: 'line', data: { datasets: [] }, options }),
    refresh(chart) {
      const { gradNorms, layerNames } = session.metrics
      const datasets = chart.data.datasets
      // A new session can have a different number of layers: rebuild the datasets when it does.
      if (datasets.length !== gradNorms.length || datasets.some((d, i) => d.label !== layerNames[i])) {
        chart.data.datasets = layerNames.map((name, i) => {
          const color = THEME.palette[i % THEME.palette.length]
          return { label: name, data: [], borderColor: color, backgroundColor: color }
        })
      }
      chart.data.datasets.forEach((d, i) => (d.data = gradNorms[i]?.points() ?? []))
    },
  })
}
