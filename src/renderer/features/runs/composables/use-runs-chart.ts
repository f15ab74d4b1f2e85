// One compare chart: a Chart.js line per selected run for one metric, on a linear or log axis.
// It paints its own dark background so "Export as PNG" gives the picture seen on screen.
import { ref, watch, type Ref } from 'vue'
import type { Plugin } from 'chart.js'
import { THEME, liveLineOptions, logTick } from '../../../charts/setup'
import { useRunsStore } from '../stores/runs'
import { useLiveChart } from '../../../composables/use-live-chart'
import { METRIC_INFO, metricPoints, type CompareMetric } from './use-runs-series'

const BACKGROUND = '#171a23'

const paintBackground: Plugin<'line'> = {
  id: 'runs-background',
  beforeDraw(chart) {
    const { ctx, width, height } = chart
    ctx.save()
    ctx.fillStyle = BACKGROUND
    ctx.fillRect(0, 0, width, height)
    ctx.restore()
  },
}

function yAxis(metric: CompareMetric, log: boolean) {
  const text = METRIC_INFO[metric].axis
  if (log)
    return {
      type: 'logarithmic',
      title: { display: true, text: `${text} (log)` },
      grid: { color: THEME.grid },
      ticks: { callback: logTick },
    } as const
  return metric === 'testAccuracy'
    ? ({ type: 'linear', min: 0, max: 1, title: { display: true, text }, grid: { color: THEME.grid } } as const)
    : ({ type: 'linear', beginAtZero: true, title: { display: true, text }, grid: { color: THEME.grid } } as const)
}

/** The colour of the i-th compared run, the same in every chart. */
export const runColor = (i: number): string => THEME.palette[i % THEME.palette.length]!

export function useRunsChart(canvas: Ref<HTMLCanvasElement | null>, metric: CompareMetric, log: Ref<boolean>, layer: Ref<number>) {
  const runs = useRunsStore()
  const version = ref(0)
  /** Runs drawn with at least one point (tests read it as data-lines). */
  const lineCount = ref(0)
  const options = liveLineOptions()
  options.scales = { ...options.scales, y: yAxis(metric, log.value) }

  const live = useLiveChart(canvas, {
    version: () => version.value,
    config: () => ({ type: 'line', data: { datasets: [] }, options, plugins: [paintBackground] }),
    refresh(chart) {
      chart.data.datasets = runs.compared.map(({ run, metrics }, i) => {
        const color = runColor(i)
        const data = metricPoints(metrics, metric, layer.value, log.value)
        return { label: run.name, data, borderColor: color, backgroundColor: color, pointRadius: metric === 'trainLoss' ? 0 : 1.5 }
      })
      lineCount.value = chart.data.datasets.filter((d) => d.data.length > 0).length
    },
  })

  watch([() => runs.compared, layer], () => version.value++)
  watch(log, (on) =>
    live.reconfigure((chart) => {
      // Assign the one axis: spreading chart.options.scales would copy Chart.js's resolver proxies.
      if (chart.options.scales) chart.options.scales['y'] = yAxis(metric, on)
    }),
  )
  return { ...live, lineCount }
}
