// The per-layer views' rows with norm layers: their order and labels, the health strip's grading of
// a norm row, and a session's real metrics (the host's) laid out into them, with an old sample
// (no norm rows) leaving the norm rows empty rather than reshaping the timeline.
import { describe, expect, it } from 'vitest'
import { testHost } from '../../host/test-helpers'
import { MetricsBuffers } from '../stores/metrics-buffers'
import { layerLabels } from '../stores/metrics'
import { healthRows, runningGapLevel } from './health-rows'
import { normSlots, rowStats, statRows } from './layer-rows'

const BLOCKS = [
  { norm: 'batch' as const, normAt: 'mid' as const, dropout: 0, residual: false },
  { norm: 'layer' as const, normAt: 'pre' as const, dropout: 0.1, residual: true },
]

describe('rows of the per-layer views', () => {
  it('a pre norm sits above its layer, a mid or post norm below it, labelled by kind', () => {
    const rows = statRows(['hidden 1', 'hidden 2', 'output'], normSlots(BLOCKS))
    expect(rows.map((r) => r.name)).toEqual(['hidden 1', 'norm 1 (BN) γ/β', 'norm 2 (LN) γ/β', 'hidden 2', 'output'])
    expect(rows.map((r) => [r.kind, r.layer])).toEqual([
      ['layer', 0],
      ['norm', 0],
      ['norm', 1],
      ['layer', 1],
      ['layer', 2],
    ])
    expect(normSlots(undefined)).toEqual([])
    expect(statRows(['a', 'b'])).toHaveLength(2)
  })

  it('the running-statistics gap is graded: caught up, drifting, far off', () => {
    expect(runningGapLevel(0.1, 1.2)).toBe('ok')
    expect(runningGapLevel(0.8, 1.2)).toBe('warn')
    expect(runningGapLevel(0.1, 3)).toBe('warn')
    expect(runningGapLevel(3, 1)).toBe('bad')
    expect(runningGapLevel(null, null)).toBe('none')
  })

  it('a real session’s samples fill the Linear and norm rows; the health strip grades them, ratios between Linear layers only', async () => {
    const h = testHost()
    try {
      const info = await h.ok('session.create', {
        model: { hidden: [6, 6], activation: 'relu', blocks: BLOCKS },
        data: { generator: 'moons', n: 200, seed: 2 },
        optimizer: { type: 'sgd', lr: 0.1 },
        train: { batchSize: 32, evalEvery: 50, seed: 1 },
        backend: 'cpu',
      })
      const sessionId = info.state.sessionId
      const m = new MetricsBuffers()
      m.clear(layerLabels(info.layers), normSlots(info.spec.model.blocks))
      for (let k = 0; k < 3; k++) await h.ok('session.step', { sessionId, steps: 1 })
      const batches = h.of('train.metrics', sessionId)
      for (const b of batches) m.ingest(b)
      const sample = batches.flatMap((b) => b.layers).at(-1)!
      expect(m.layerNames).toEqual(['hidden 1 (2→6)', 'norm 1 (BN) γ/β', 'norm 2 (LN) γ/β', 'hidden 2 (6→6)', 'output (6→2)'])
      expect(m.layers.layers).toBe(5)
      const col = m.layers.length - 1
      expect(m.layers.value(col, 1, 'gradNorm')).toBeCloseTo(sample.norms![0].gradNorm, 12)
      expect(m.layers.value(col, 2, 'gammaGradNorm')).toBeCloseTo(sample.norms![1].gammaGradNorm, 12)
      expect(m.layers.value(col, 3, 'gradNorm')).toBeCloseTo(sample.stats[1].gradNorm, 12)
      expect(m.layers.value(col, 0, 'meanGap')).toBeNaN() // not a norm's statistic

      const rows = healthRows(m.rows, m.layers, ['relu', 'relu', 'linear'])
      expect(rows.map((r) => [r.kind, r.detail])).toEqual([
        ['layer', 'relu'],
        ['norm', 'BatchNorm'],
        ['norm', 'LayerNorm'],
        ['layer', 'relu'],
        ['layer', 'linear'],
      ])
      // Ratios pair the Linear layers (0 with 1, 1 with 2); norm rows have none, nor dead units.
      expect(rows[0].ratio).toBeCloseTo(sample.stats[0].gradNorm / sample.stats[1].gradNorm, 10)
      expect(rows[3].ratio).toBeCloseTo(sample.stats[1].gradNorm / sample.stats[2].gradNorm, 10)
      expect([rows[1].ratio, rows[2].ratio, rows[4].ratio, rows[1].dead]).toEqual([null, null, null, null])
      // BatchNorm shows its gap, LayerNorm (no running statistics) does not.
      expect(rows[1].meanGap).toBe(sample.norms![0].meanGap)
      expect(rows[1].meanGap).toBeGreaterThan(0)
      expect(rows[1].gapLevel).not.toBe('none')
      expect([rows[2].meanGap, rows[2].gapLevel]).toEqual([null, 'none'])
      expect(rows[2].gammaGrad).toBeCloseTo(sample.norms![1].gammaGradNorm, 12)

      // A sample saved before norm rows existed: the norm rows stay empty, the layout stays.
      const old = { step: 99, stats: sample.stats }
      expect(rowStats(m.rows, old)[1]).toEqual({})
      m.ingest({ ...batches[0]!, steps: [99], trainLoss: [0.5], evals: [], layers: [old] })
      expect(m.layerNames).toHaveLength(5)
      expect(m.layers.latest[1]!.gradNorm).toBeNull()
      expect(m.layers.latest[3]!.gradNorm).toBe(sample.stats[1].gradNorm)
    } finally {
      h.host.dispose()
    }
  })
})
