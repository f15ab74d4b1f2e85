// The loss chart: smoothed minibatch train loss per step and test loss at each evaluation.
import { watch, type Ref } from 'vue'
import { THEME, liveLineOptions, powerOfTenTick } from '../charts/setup'
import { useSessionStore } from '../stores/session'
import { useLiveChart } from './use-live-chart'

/** A linear loss axis from zero, or a log axis once the loss spans orders of magnitude. */
function lossAxis(log: boolean) {
  return log
    ? ({ type: 'logarithmic', title: { display: true, text: 'loss (log)' }, grid: { color: THEME.grid }, ticks: { callback: powerOfTenTick } } as const)
    : ({ type: 'linear', beginAtZero: true, title: { display: true, text: 'loss' }, grid: { color: THEME.grid } } as const)
}

export function useLossChart(canvas: Ref<HTMLCanvasElement | null>, logScale: Ref<boolean>) {
  const session = useSessionStore()
  const options = liveLineOptions()
  options.scales = { ...options.scales, y: lossAxis(logScale.value) }

  const live = useLiveChart(canvas, {
    version: () => session.metricsVersion,
    config: () => ({
      type: 'line',
      data: {
        datasets: [
          { label: 'train (minibatch, smoothed)', data: [], borderColor: THEME.palette[0], backgroundColor: THEME.palette[0] },
          { label: 'test', data: [], borderColor: THEME.palette[1], backgroundColor: THEME.palette[1], pointRadius: 1.5 },
        ],
      },
      options,
    }),
    refresh(chart) {
      chart.data.datasets[0]!.data = session.metrics.trainLoss.points()
      chart.data.datasets[1]!.data = session.metrics.testLoss.points()
    },
  })
  watch(logScale, (log) =>
    live.reconfigure((chart) => {
      // Assign the one axis: spreading chart.options.scales would copy Chart.js's resolver proxies.
      if (chart.options.scales) chart.options.scales['y'] = lossAxis(log)
    }),
  )
  return live
}
