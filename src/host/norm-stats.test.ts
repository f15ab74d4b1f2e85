// The norm layers' rows of the sampled statistics, through the real host: γ/β gradient norms equal
// the norms of the engine's own .grad, BatchNorm's batch-vs-running gap equals one computed from
// the training rows by hand (a batch of the whole training set, whose statistics do not depend on
// the order), models without norms send no norm rows, and an old run's metrics line still parses.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { nn, type Tensor } from '../engine'
import { MetricsBatch, parseEvent, type RequestPayload } from '../shared/protocol'
import { batchLine, readMetricsLog, runMetricsOf } from './runs/metrics-log'
import { explodingAlarm } from './train-guards'
import type { TrainingSession } from './session'
import { spec, testHost } from './test-helpers'

let current: ReturnType<typeof testHost> | null = null
afterEach(() => {
  current?.host.dispose()
  current = null
})
const make = () => (current = testHost())
const session = (): TrainingSession => current!.host['sessions'].get('s1')!

const l2 = (t: Tensor | null): number => Math.hypot(...(t ? Array.from(t.dataSync()) : []))
type Blocks = NonNullable<RequestPayload<'session.create'>['model']['blocks']>

/** The norm rows of the layer sample taken at `step`, checked against the protocol's schema. */
function normRowsAt(step: number) {
  const batches = current!.of('train.metrics', 's1')
  for (const b of current!.events) expect(parseEvent(b.msg).ok).toBe(true)
  const sample = batches.flatMap((b) => b.layers).find((l) => l.step === step)
  expect(sample, `a layer sample at step ${step}`).toBeDefined()
  return sample!.norms
}

/** Per feature: mean and unbiased variance of the training rows (the batch when it is all of them). */
function columnStats(s: TrainingSession): { mean: number[]; variance: number[] } {
  const { x, n, nFeatures: f } = s.trainer.data.train
  const mean = Array.from({ length: f }, (_, j) => {
    let sum = 0
    for (let r = 0; r < n; r++) sum += x[r * f + j]
    return sum / n
  })
  const variance = mean.map((m, j) => {
    let ss = 0
    for (let r = 0; r < n; r++) ss += (x[r * f + j] - m) ** 2
    return ss / (n - 1)
  })
  return { mean, variance }
}

/** The gap NormStats defines, from the batch's statistics and the running ones before the step. */
function expectedGap(batch: { mean: number[]; variance: number[] }, run: { mean: number[]; variance: number[] }, eps = 1e-5) {
  const f = batch.mean.length
  let z2 = 0
  let l2sum = 0
  for (let j = 0; j < f; j++) {
    z2 += (batch.mean[j] - run.mean[j]) ** 2 / (run.variance[j] + eps)
    l2sum += Math.log((batch.variance[j] + eps) / (run.variance[j] + eps)) ** 2
  }
  return { meanGap: Math.sqrt(z2 / f), varFactor: Math.exp(Math.sqrt(l2sum / f)) }
}

const normRow = {
  layer: 0,
  kind: 'batch' as const,
  gradNorm: 0.5,
  meanAbsGrad: 0.1,
  maxAbsGrad: 0.3,
  weightNorm: 2,
  updateRatio: 0.01,
  gammaGradNorm: 0.3,
  betaGradNorm: 0.4,
  meanGap: 0.2,
  varFactor: 1.3,
}

describe('norm layers in the sampled statistics', () => {
  it('LayerNorm rows: γ and β gradient norms are those of the engine’s .grad; no running statistics, so no gap', async () => {
    const { ok } = make()
    const blocks: Blocks = [
      { norm: 'layer', normAt: 'pre', dropout: 0, residual: false },
      { norm: 'layer', normAt: 'post', dropout: 0, residual: true },
    ]
    await ok('session.create', spec({ model: { hidden: [6, 6], activation: 'tanh', blocks }, optimizer: { type: 'sgd', lr: 0.1 } }))
    await ok('session.step', { sessionId: 's1', steps: 1 })
    const rows = normRowsAt(1)!
    const model = session().trainer.model
    expect(rows.map((r) => [r.layer, r.kind])).toEqual([
      [0, 'layer'],
      [1, 'layer'],
    ])
    rows.forEach((r) => {
      const norm = model.norms[r.layer]!
      // The gradients are those of the step (the next step zeroes them); the weights have been updated since.
      expect(r.gammaGradNorm).toBeCloseTo(l2(norm.weight.grad), 6)
      expect(r.betaGradNorm).toBeCloseTo(l2(norm.bias.grad), 6)
      expect(r.gammaGradNorm).toBeGreaterThan(0)
      expect(r.gradNorm).toBeCloseTo(Math.hypot(r.gammaGradNorm, r.betaGradNorm), 10)
      expect(r.updateRatio).toBeCloseTo((0.1 * r.gradNorm) / r.weightNorm, 10)
      expect([r.meanGap, r.varFactor]).toEqual([null, null])
    })
    // γ started at 1 and β at 0 (before the update the stats were taken at): ‖(γ, β)‖ = √features,
    // 2 for the pre norm on the input, 6 for the post norm on the hidden layer's output.
    expect(rows.map((r) => r.weightNorm ** 2)).toEqual([expect.closeTo(2, 6), expect.closeTo(6, 6)])
  })

  it('BatchNorm rows: the gap between the batch and the running statistics, computed by hand, shrinking as they catch up', async () => {
    const { ok } = make()
    const blocks: Blocks = [{ norm: 'batch', normAt: 'pre', dropout: 0, residual: false }]
    const data = { generator: 'moons' as const, n: 200, seed: 3 }
    await ok(
      'session.create',
      spec({ model: { hidden: [5], activation: 'relu', blocks }, data, train: { batchSize: 140, evalEvery: 50, seed: 1 } }),
    )
    const s = session()
    expect(s.trainer.data.train.n).toBe(140) // one batch is the whole training set
    const batch = columnStats(s)
    await ok('session.step', { sessionId: 's1', steps: 1 })
    await ok('session.step', { sessionId: 's1', steps: 1 })
    // Before step 1 the running statistics are PyTorch's start (mean 0, var 1); step 1 moves them 10% of the way.
    const first = expectedGap(batch, { mean: batch.mean.map(() => 0), variance: batch.variance.map(() => 1) })
    const run1 = { mean: batch.mean.map((m) => 0.1 * m), variance: batch.variance.map((v) => 0.9 + 0.1 * v) }
    const second = expectedGap(batch, run1)
    const [r1] = normRowsAt(1)!
    const [r2] = normRowsAt(2)!
    expect(r1).toMatchObject({ layer: 0, kind: 'batch' })
    expect(r1.meanGap).toBeCloseTo(first.meanGap, 4)
    expect(r1.varFactor).toBeCloseTo(first.varFactor, 4)
    expect(r2.meanGap).toBeCloseTo(second.meanGap, 4)
    expect(r2.varFactor).toBeCloseTo(second.varFactor, 4)
    expect(r2.meanGap!).toBeLessThan(r1.meanGap!)
    expect(first.meanGap).toBeGreaterThan(0.1) // the check has something to see
    const bn = s.trainer.model.norms[0] as nn.BatchNorm1d
    expect(r2.gammaGradNorm).toBeCloseTo(l2(bn.weight.grad), 6)
    expect(Array.from(bn.runningMean.dataSync())[0]).toBeCloseTo(batch.mean[0] * (1 - 0.9 ** 2), 5)
  })

  it('a model without norms sends no norm rows; a metrics batch from before norm rows existed still parses', async () => {
    const { ok } = make()
    await ok('session.create', spec())
    await ok('session.step', { sessionId: 's1', steps: 1 })
    const sample = current!.of('train.metrics', 's1').flatMap((b) => b.layers)[0]
    expect(sample).toBeDefined()
    expect('norms' in sample).toBe(false)
    // A line of a run's metrics log as it was written before (layers without norms).
    const old = {
      sessionId: 's1',
      steps: [1],
      trainLoss: [0.69],
      epoch: 0,
      evals: [],
      layers: [
        {
          step: 1,
          stats: [
            {
              gradNorm: 0.1,
              meanAbsGrad: 0.01,
              maxAbsGrad: 0.05,
              weightNorm: 1,
              updateRatio: 1e-3,
              deadFraction: 0,
              saturatedFraction: null,
            },
          ],
        },
      ],
      stepsPerSecond: 10,
      lr: 0.05,
    }
    expect(MetricsBatch.safeParse(old).success).toBe(true)
    // The old line and a new one with norm rows in one log: both load, the Linear layers' history as before.
    const newer = { ...old, steps: [2], layers: [{ step: 2, stats: old.layers[0].stats, norms: [normRow] }] }
    expect(MetricsBatch.safeParse(newer).success).toBe(true)
    const dir = mkdtempSync(join(tmpdir(), 'normstats-'))
    try {
      const path = join(dir, 'metrics.ndjson')
      writeFileSync(path, batchLine(old) + batchLine(newer))
      const h = readMetricsLog(path)
      expect(h.skippedLines).toBe(0)
      expect(h.layers.map((l) => l.step)).toEqual([1, 2])
      expect(h.layers[1].norms).toEqual([normRow])
      expect(runMetricsOf('r', h, 100).gradNorms).toEqual([
        { step: 1, norms: [0.1] },
        { step: 2, norms: [0.1] },
      ])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('the exploding alarm names a norm layer whose γ or β gradient is the largest', () => {
    const alarms = { explodingGradNorm: 1e3, explodingFactor: 100, vanishingGradNorm: 1e-7, pause: true }
    const norms = [
      { layer: 10, weight: 10, bias: 1 },
      { layer: 20, weight: 20, bias: 1 },
      { layer: 5e3, weight: 1, bias: 5e3, name: 'norms.0' },
    ]
    expect(explodingAlarm(7, norms, alarms)).toMatchObject({ kind: 'exploding', layer: 'norms.0', parameter: 'norms.0.bias' })
  })
})
