// Compare live's line charts: one line per variant in its colour (the legend names them), every
// chart on the same step axis, 0 to the furthest step any variant has reached. Loss: the minibatch
// loss, smoothed as the studio's loss chart smooths it by default; accuracy: test accuracy at each
// evaluation (train accuracy when there is no test split).
import type { Ref } from 'vue'
import { THEME, liveLineOptions } from '../../../charts/setup'
import { smoothEma } from '../../../charts/smoothing'
import type { Point } from '../../../charts/downsample'
import { useLiveChart } from '../../../composables/use-live-chart'
import { useCompareStore, type Lane } from '../stores/compare'

export type CompareChartKind = 'loss' | 'accuracy'

const SMOOTHING = 0.6

function series(l: Lane, kind: CompareChartKind): Point[] {
  if (kind === 'loss') return smoothEma(l.buffers.trainLoss.points(), SMOOTHING)
  const test = l.buffers.testAccuracy.points()
  return test.length ? test : l.buffers.trainAccuracy.points()
}

export function useCompareChart(canvas: Ref<HTMLCanvasElement | null>, kind: CompareChartKind) {
  const compare = useCompareStore()
  const options = liveLineOptions()
  options.scales = {
    x: { type: 'linear', min: 0, title: { display: true, text: 'step' }, ticks: { maxTicksLimit: 8 }, grid: { color: THEME.grid } },
    y:
      kind === 'loss'
        ? { type: 'linear', title: { display: true, text: 'loss (smoothed)' }, grid: { color: THEME.grid } }
        : {
            type: 'linear',
            min: 0,
            max: 1,
            title: { display: true, text: 'accuracy' },
            grid: { color: THEME.grid },
            ticks: { callback: (v) => `${Math.round(Number(v) * 100)}%` },
          },
  }
  return useLiveChart(canvas, {
    version: () => compare.version,
    config: () => ({ type: 'line', data: { datasets: [] }, options }),
    refresh(chart) {
      chart.data.datasets = compare.lanes.map((l) => ({
        label: l.label,
        data: series(l, kind),
        borderColor: l.color,
        backgroundColor: l.color,
        pointRadius: kind === 'accuracy' ? 1.5 : 0,
      }))
      // One step axis for every chart and heatmap: the furthest step reached.
      chart.options.scales!.x!.max = Math.max(1, compare.maxStep)
    },
  })
}
