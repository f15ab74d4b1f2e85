// The accuracy chart (classification): train and test accuracy at each evaluation, 0–100 %.
import type { Ref } from 'vue'
import { useEvalChart } from './use-eval-chart'

export function useAccuracyChart(canvas: Ref<HTMLCanvasElement | null>) {
  return useEvalChart(canvas, {
    y: {
      type: 'linear',
      min: 0,
      max: 1,
      title: { display: true, text: 'accuracy' },
      ticks: { callback: (v) => `${Math.round(Number(v) * 100)}%` },
    },
    label: (item) => `${item.dataset.label}: ${((item.parsed.y ?? 0) * 100).toFixed(2)}%`,
    points: (metrics) => ({ train: metrics.buffers.trainAccuracy.points(), test: metrics.buffers.testAccuracy.points() }),
  })
}
