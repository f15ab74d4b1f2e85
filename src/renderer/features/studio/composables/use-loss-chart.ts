// The loss chart: raw minibatch loss (faint) and its smoothed curve (debiased EMA at display time,
// as TensorBoard), whole-train-set and test loss at each evaluation, the learning rate in effect
// on a second log axis, zoom/pan along steps, and a marker per alarm.
import { ref, watch, type Ref } from 'vue'
import type { ChartConfiguration } from 'chart.js'
import { THEME, liveLineOptions, logTick } from '../../../charts/setup'
import { stepZoomOptions } from '../../../charts/zoom'
import { smoothEma } from '../../../charts/smoothing'
import { alarmMarkers, type AlarmMarkerOptions } from '../../../charts/alarm-markers'
import type { Point } from '../../../charts/downsample'
import { useMetricsStore } from '../../../stores/metrics'
import { useLiveChart } from '../../../composables/use-live-chart'

/** A linear loss axis from zero, or a log axis once the loss spans orders of magnitude. */
function lossAxis(log: boolean) {
  return log
    ? ({
        type: 'logarithmic',
        title: { display: true, text: 'loss (log)' },
        grid: { color: THEME.grid },
        ticks: { callback: logTick },
      } as const)
    : ({ type: 'linear', beginAtZero: true, title: { display: true, text: 'loss' }, grid: { color: THEME.grid } } as const)
}

const faint = (hex: string) => `${hex}55`

export interface LossChartControls {
  logScale: Ref<boolean>
  smoothing: Ref<number>
  showLr: Ref<boolean>
  onAlarmHover: AlarmMarkerOptions['onHover']
}

export function useLossChart(canvas: Ref<HTMLCanvasElement | null>, controls: LossChartControls) {
  const metrics = useMetricsStore()
  /** Alarm markers inside the drawn step range (the chart exposes it as data-alarm-markers). */
  const markerCount = ref(0)
  /** The loss axis's labelled ticks as drawn (data-y-ticks: an axis with no label is a bug). */
  const yTicks = ref('')
  const markers = alarmMarkers({ alarms: () => metrics.buffers.alarms, onHover: controls.onAlarmHover })
  const options = liveLineOptions()
  options.scales = {
    ...options.scales,
    y: lossAxis(controls.logScale.value),
    lr: {
      type: 'logarithmic',
      position: 'right',
      display: controls.showLr.value,
      title: { display: true, text: 'lr' },
      grid: { display: false },
      ticks: { callback: logTick },
    },
  }
  options.plugins = {
    ...options.plugins,
    decimation: { enabled: true, algorithm: 'lttb', samples: 600, threshold: 800 },
    zoom: stepZoomOptions(),
    tooltip: {
      animation: false,
      callbacks: {
        title: (items) => (items[0] ? `step ${items[0].parsed.x}` : ''),
        label: (item) => `${item.dataset.label}: ${item.parsed.y === null ? '—' : Number(item.parsed.y).toPrecision(5)}`,
        footer: (items) => {
          const lr = items[0] ? lrAt(items[0].parsed.x ?? 0) : null
          return lr === null ? '' : `lr ${lr.toPrecision(3)}`
        },
      },
    },
  }
  /** The learning rate in effect at `step` (the last recorded at or before it). */
  function lrAt(step: number): number | null {
    let found: number | null = null
    for (const p of metrics.buffers.lr.points()) {
      if (p.x > step) break
      found = p.y
    }
    return found
  }
  const dataset = (label: string, color: string, extra: object = {}) => ({
    label,
    data: [] as Point[],
    borderColor: color,
    backgroundColor: color,
    ...extra,
  })
  const config = (): ChartConfiguration<'line', Point[]> => ({
    type: 'line',
    data: {
      datasets: [
        dataset('train (minibatch, raw)', faint(THEME.palette[0]), { borderWidth: 1 }),
        dataset('train (smoothed)', THEME.palette[0]),
        dataset('train (eval)', THEME.palette[2], { pointRadius: 1.5 }),
        dataset('test (eval)', THEME.palette[1], { pointRadius: 1.5 }),
        dataset('lr', THEME.palette[7], { yAxisID: 'lr', borderWidth: 1, borderDash: [2, 3], hidden: !controls.showLr.value }),
      ],
    },
    options,
    plugins: [markers],
  })

  const live = useLiveChart(canvas, {
    version: () => metrics.version,
    config,
    refresh(chart) {
      const m = metrics.buffers
      const raw = m.trainLoss.points()
      const positive = (ps: Point[]) => (controls.logScale.value ? ps.filter((p) => p.y > 0) : ps)
      const ds = chart.data.datasets
      ds[0]!.data = positive(raw)
      ds[1]!.data = positive(smoothEma(raw, controls.smoothing.value))
      ds[2]!.data = positive(m.trainEvalLoss.points())
      ds[3]!.data = positive(m.testLoss.points())
      ds[4]!.data = m.lr.points().filter((p) => p.y > 0)
      // An alarm can name the step after the last one recorded (the one that was refused): keep it in view.
      const x = chart.options.scales?.['x']
      if (x) x.suggestedMax = m.alarms.at(-1)?.step
    },
    afterDraw: (chart) => {
      markerCount.value = markers.drawn()
      yTicks.value = (chart.scales['y']?.ticks ?? [])
        .map((t) => t.label)
        .filter((l) => l !== null && l !== undefined && l !== '')
        .join(' ')
    },
  })
  watch(controls.logScale, (log) =>
    live.reconfigure((chart) => {
      // Assign the one axis: spreading chart.options.scales would copy Chart.js's resolver proxies.
      if (chart.options.scales) chart.options.scales['y'] = lossAxis(log)
    }),
  )
  watch(controls.smoothing, () => live.reconfigure(() => undefined))
  watch(controls.showLr, (show) =>
    live.reconfigure((chart) => {
      chart.data.datasets[4]!.hidden = !show
      const axis = chart.options.scales?.['lr']
      if (axis) axis.display = show
    }),
  )
  const resetZoom = () => live.reconfigure((chart) => chart.resetZoom('none'))
  return { ...live, markerCount, yTicks, resetZoom }
}
