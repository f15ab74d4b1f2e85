import { describe, expect, it } from 'vitest'
import { MAX_ALARMS, MetricsBuffers, type TrainAlarm } from './metrics-buffers'

const LAYERS = 16

function stats(scale: number) {
  return Array.from({ length: LAYERS }, (_, i) => ({
    gradNorm: scale * 10 ** -i,
    meanAbsGrad: scale * 1e-3,
    maxAbsGrad: scale * 1e-2,
    weightNorm: 1,
    updateRatio: 1e-3,
    deadFraction: i % 2 ? 0.25 : null,
    saturatedFraction: i % 2 ? null : 0.5,
  }))
}

function batch(from: number, n: number, withEval: boolean) {
  const steps = Array.from({ length: n }, (_, i) => from + i)
  return {
    sessionId: 's1',
    steps,
    trainLoss: steps.map((s) => 1 / s),
    epoch: 0,
    evals: withEval ? [{ step: from + n - 1, trainLoss: 0.5, testLoss: 0.6, trainAccuracy: 0.9, testAccuracy: 0.8 }] : [],
    layers: [{ step: from + n - 1, stats: stats(1) }],
    stepsPerSecond: 1000,
    lr: 0.01,
  }
}

function alarm(step: number): TrainAlarm {
  return {
    sessionId: 's1',
    step,
    kind: 'exploding',
    layer: 'layers.1',
    parameter: 'layers.1.weight',
    message: `gradient norm exploded at step ${step}`,
    paused: true,
  }
}

describe('MetricsBuffers', () => {
  it('stays bounded over 100k steps of 16 layers, with the newest step still drawn', () => {
    const m = new MetricsBuffers()
    m.clear(Array.from({ length: LAYERS }, (_, i) => `layer ${i}`))
    // 100,000 steps in batches of 20, a layer sample per batch and an evaluation every 5 batches.
    for (let b = 0; b < 5_000; b++) m.ingest(batch(b * 20 + 1, 20, b % 5 === 4))
    expect(m.trainLoss.sampleCount).toBe(100_000)
    expect(m.trainLoss.points().length).toBeLessThanOrEqual(2000)
    for (const s of [m.trainEvalLoss, m.testLoss, m.trainAccuracy, m.testAccuracy, m.lr]) expect(s.points().length).toBeLessThanOrEqual(600)
    expect(m.layers.length).toBeLessThanOrEqual(256)
    expect(m.layers.length).toBeGreaterThan(64)
    expect(m.layers.step(m.layers.length - 1)).toBe(100_000)
    expect(m.trainLoss.points().at(-1)!.x).toBe(100_000)
    expect(m.latest.step).toBe(100_000)
  })

  it('keeps the evaluation, accuracy and lr series and the latest per-layer sample', () => {
    const m = new MetricsBuffers()
    m.clear(['a', 'b'])
    m.ingest({ ...batch(1, 10, true), layers: [{ step: 10, stats: stats(2).slice(0, 2) }], lr: 0.05 })
    expect(m.trainEvalLoss.points()).toEqual([{ x: 10, y: 0.5 }])
    expect(m.testAccuracy.points()).toEqual([{ x: 10, y: 0.8 }])
    expect(m.lr.points()).toEqual([{ x: 10, y: 0.05 }])
    expect(m.latest.lr).toBe(0.05)
    expect(m.layers.latest.map((s) => s.gradNorm)).toEqual([2, 0.2])
    expect(m.layers.latest.map((s) => s.deadFraction)).toEqual([null, 0.25])
  })

  it('leaves accuracy empty for regression (null accuracies)', () => {
    const m = new MetricsBuffers()
    m.ingest({ ...batch(1, 5, false), evals: [{ step: 5, trainLoss: 1, testLoss: 2, trainAccuracy: null, testAccuracy: null }] })
    expect(m.trainAccuracy.points()).toEqual([])
    expect(m.testLoss.points()).toEqual([{ x: 5, y: 2 }])
  })

  it('sums the batches serve mode skipped for a slow reader, until the next clear', () => {
    const m = new MetricsBuffers()
    m.ingest(batch(1, 5, false))
    expect(m.latest.skippedBatches).toBe(0)
    m.ingest({ ...batch(40, 5, false), droppedBatches: 6 })
    m.ingest(batch(45, 5, false))
    m.ingest({ ...batch(90, 5, false), droppedBatches: 2 })
    expect(m.latest.skippedBatches).toBe(8)
    m.clear()
    expect(m.latest.skippedBatches).toBe(0)
  })

  it('collects alarms in step order, bounded, and forgets them (and bumps its generation) on clear', () => {
    const m = new MetricsBuffers()
    m.addAlarm(alarm(30))
    m.addAlarm(alarm(10))
    expect(m.alarms.map((a) => a.step)).toEqual([10, 30])
    for (let i = 0; i < MAX_ALARMS + 20; i++) m.addAlarm(alarm(100 + i))
    expect(m.alarms).toHaveLength(MAX_ALARMS)
    expect(m.alarms.at(-1)!.step).toBe(100 + MAX_ALARMS + 19)
    const gen = m.generation
    m.clear()
    expect(m.alarms).toEqual([])
    expect(m.generation).toBe(gen + 1)
  })
})
