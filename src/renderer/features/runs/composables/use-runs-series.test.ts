import { describe, expect, it } from 'vitest'
import { SMOOTHING, layerCount, metricPoints, type RunMetricsData } from './use-runs-series'

const m: RunMetricsData = {
  runId: 'r20261126-abc',
  steps: [1, 2, 3],
  trainLoss: [0.9, 0, Number.NaN],
  evals: [
    { step: 0, trainLoss: 0.7, testLoss: 0.72, trainAccuracy: 0.5, testAccuracy: 0.48 },
    { step: 50, trainLoss: 0.2, testLoss: 0.25, trainAccuracy: null, testAccuracy: null },
  ],
  gradNorms: [
    { step: 1, norms: [0.5, 0.1] },
    { step: 2, norms: [0.4] },
  ],
  skippedLines: 0,
}

describe('compare series', () => {
  it('draws smoothed train loss per step, skipping NaN, and drops non-positive values only on a log axis', () => {
    const smoothed = [
      { x: 1, y: 0.9 },
      { x: 2, y: SMOOTHING * 0.9 },
    ]
    expect(metricPoints(m, 'trainLoss')).toEqual(smoothed)
    expect(metricPoints(m, 'trainLoss', 0, true)).toEqual(smoothed)
    expect(metricPoints({ ...m, trainLoss: [-1, 0, 1] }, 'trainLoss', 0, true)).toEqual([])
  })

  it('puts points in step order whatever order they were logged in', () => {
    const shuffled = {
      ...m,
      gradNorms: [
        { step: 9, norms: [1] },
        { step: 3, norms: [2] },
      ],
    }
    expect(metricPoints(shuffled, 'gradNorm').map((p) => p.x)).toEqual([3, 9])
  })

  it('draws test loss and accuracy at the evaluations, leaving out missing accuracies', () => {
    expect(metricPoints(m, 'testLoss')).toEqual([
      { x: 0, y: 0.72 },
      { x: 50, y: 0.25 },
    ])
    expect(metricPoints(m, 'testAccuracy')).toEqual([{ x: 0, y: 0.48 }])
  })

  it('draws one layer of gradient norms and counts the layers', () => {
    expect(metricPoints(m, 'gradNorm', 0)).toEqual([
      { x: 1, y: 0.5 },
      { x: 2, y: 0.4 },
    ])
    expect(metricPoints(m, 'gradNorm', 1)).toEqual([{ x: 1, y: 0.1 }])
    expect(layerCount([m, { ...m, gradNorms: [] }])).toBe(2)
    expect(layerCount([])).toBe(0)
  })
})
