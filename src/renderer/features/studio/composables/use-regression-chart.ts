// The regression chart (in place of accuracy): R² on the train and test splits at each evaluation.
// R² is at most 1 and unbounded below (a fresh model can be far worse than predicting the mean),
// so the axis shows down to −1 and lower points sit on its edge; the tooltip gives the value.
import type { Ref } from 'vue'
import { useEvalChart } from './use-eval-chart'

/** Where the axis stops below: R² under it is drawn on the edge. */
export const R2_FLOOR = -1

const clamp = (pts: { x: number; y: number }[]) => pts.map((p) => ({ x: p.x, y: Math.max(R2_FLOOR, p.y), r2: p.y }))

export function useRegressionChart(canvas: Ref<HTMLCanvasElement | null>) {
  return useEvalChart(canvas, {
    y: { type: 'linear', suggestedMin: 0, max: 1, title: { display: true, text: 'R²' } },
    label: (item) => `${item.dataset.label} R²: ${(item.raw as { r2: number }).r2.toFixed(4)}`,
    points: (metrics) => ({
      train: clamp(metrics.buffers.regression.trainR2.points()),
      test: clamp(metrics.buffers.regression.testR2.points()),
    }),
  })
}
