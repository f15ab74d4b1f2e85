import { describe, expect, it } from 'vitest'
import { EMPTY_LATEST, MetricsBuffers } from '../../stores/metrics-buffers'
import { metricsBatch } from '../../engine/fake-host'
import { evalTitle, STALE_AFTER_STEPS, statusFigures } from './status-figures'

/** A metrics batch of steps first…last with losses `loss`, and evaluations at `evals`. */
function batch(
  first: number,
  last: number,
  loss: (s: number) => number,
  evals: { step: number; trainLoss: number; testLoss: number }[] = [],
) {
  const steps = Array.from({ length: last - first + 1 }, (_, i) => first + i)
  const b = metricsBatch('s1', first, last)
  return {
    ...b,
    steps,
    trainLoss: steps.map(loss),
    evals: evals.map((e) => ({ ...e, trainAccuracy: 0.146, testAccuracy: 0.148 })),
    layers: [],
  }
}

describe('status figures', () => {
  it('show nothing before the first step', () => {
    expect(statusFigures(EMPTY_LATEST, 0)).toEqual({ batch: { loss: null, step: null }, evaluation: null })
  })

  it('keep the minibatch figure at its own step, apart from the evaluation and its step', () => {
    const m = new MetricsBuffers()
    m.ingest(batch(1, 1000, () => 2.3, [{ step: 1000, trainLoss: 2.25, testLoss: 2.26 }]))
    m.ingest(batch(1001, 1040, (s) => 1 / s))
    const f = statusFigures(m.latest, 1040)
    expect(f.batch).toEqual({ loss: 1 / 1040, step: 1040 })
    expect(f.evaluation).toMatchObject({ step: 1000, age: 40, stale: false, trainLoss: 2.25, testLoss: 2.26, trainAccuracy: 0.146 })
  })

  it("mark an evaluation the run has moved past as stale (the issue's case: eval every 1000 steps)", () => {
    const m = new MetricsBuffers()
    m.ingest(batch(1, 1000, () => 2.3, [{ step: 1000, trainLoss: 2.25, testLoss: 2.26 }]))
    m.ingest(batch(1001, 1800, () => 2.1))
    const f = statusFigures(m.latest, 1800)
    expect(f.evaluation).toMatchObject({ step: 1000, age: 800, stale: true })
    expect(evalTitle(f.evaluation!)).toMatch(/at step 1000, 800 steps ago/)
    // Exactly at the margin it is still current; one step more and it is stale.
    expect(statusFigures(m.latest, 1000 + STALE_AFTER_STEPS).evaluation!.stale).toBe(false)
    expect(statusFigures(m.latest, 1001 + STALE_AFTER_STEPS).evaluation!.stale).toBe(true)
  })

  it('show a diverging minibatch loss as it is, not the last evaluation (2.95e+4 while the chart showed 1e35)', () => {
    const m = new MetricsBuffers()
    m.ingest(batch(1, 50, () => 2.95e4, [{ step: 50, trainLoss: 2.95e4, testLoss: 3e4 }]))
    m.ingest(batch(51, 400, (s) => 10 ** (s / 11.4)))
    const f = statusFigures(m.latest, 400)
    expect(f.batch.step).toBe(400)
    expect(f.batch.loss).toBeGreaterThan(1e34)
    expect(f.evaluation).toMatchObject({ step: 50, trainLoss: 2.95e4, stale: true })
  })
})
