// Regression done right, end to end on the trainer: the diabetes CSV (target 25–346), its target
// standardised as the studio does, with a 2×32 relu net under Adam 0.003 trains without alarms to a
// useful R², its losses read in the target's units, and the exploding alarm, judged against each
// layer's own history, still catches a run that truly diverges; the vanishing alarm still sees a
// deep sigmoid net.
import { readFileSync } from 'node:fs'
import { beforeAll, describe, expect, it } from 'vitest'
import { SessionSpec } from '../shared/protocol'
import { prepareData } from './data-source'
import { FileStore } from './datasets/store'
import { ingest } from './datasets/uploads'
import { planLoss, type SessionSpecOut } from './setup'
import { Trainer, type StepOutcome } from './trainer'
import { spec as specInput } from './test-helpers'

let store: FileStore
let fileId: string

beforeAll(async () => {
  store = new FileStore(null)
  fileId = (await ingest(store, 'diabetes.csv', readFileSync(new URL('../../e2e/fixtures/diabetes.csv', import.meta.url)))).fileId
})

function trainer(over: Parameters<typeof specInput>[0]): { t: Trainer; s: SessionSpecOut } {
  const s = SessionSpec.parse(specInput(over))
  const d = prepareData(s.data, store)
  return { t: new Trainer(d, planLoss(s.model.loss, d.train.task, d.train.nClasses, 'test data'), s), s }
}

const diabetes = (data: object = {}, train: object = {}) =>
  trainer({
    model: { hidden: [32, 32], activation: 'relu' },
    data: { source: 'csv', fileId, target: 'progression', ...data },
    optimizer: { type: 'adam', lr: 0.003 },
    train: { batchSize: 32, seed: 0, ...train },
  })

/** Steps until `n` are done or one raises an alarm; the alarms raised. */
function run(t: Trainer, n: number): { alarms: string[]; last: StepOutcome } {
  const alarms: string[] = []
  let last = t.trainStep(false)
  while (true) {
    if (last.alarm) alarms.push(last.alarm.message)
    if (!last.ok || t.stepCount >= n) return { alarms, last }
    last = t.trainStep(false)
  }
}

describe('regression on the diabetes CSV', () => {
  it('standardises the target with the training rows only, by default; off on request', () => {
    const { t } = diabetes()
    const d = t.data
    const trainY = d.trainRows.map((r) => d.raw.y[r])
    const allY = Array.from(d.raw.y)
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length
    expect(d.targetScaling!.mean).toBeCloseTo(mean(trainY), 6)
    expect(Math.abs(d.targetScaling!.mean - mean(allY))).toBeGreaterThan(1e-3) // not the whole file's
    expect(Math.abs(mean(Array.from(d.train.y)))).toBeLessThan(1e-5)
    const r = d.testRows[0]
    expect(d.test.y[0]).toBe(Math.fround((d.raw.y[r] - d.targetScaling!.mean) / d.targetScaling!.std))
    const off = diabetes({ standardizeTarget: false }).t.data
    expect(off.targetScaling).toBeNull()
    expect(off.train.y[0]).toBe(off.raw.y[off.trainRows[0]])
  })

  it('2×32 relu, Adam 0.003: 2,000 steps without an alarm, test R² ≥ 0.3 at its best, losses in the target’s units', () => {
    const { t } = diabetes()
    // Evaluated every 50 steps, as the studio does by default.
    let best = -Infinity
    for (let n = 50; n <= 2000; n += 50) {
      expect(run(t, n).alarms).toEqual([])
      best = Math.max(best, t.evaluate()!.regression!.test.r2!)
    }
    expect(t.stepCount).toBe(2000)
    const p = t.evaluate()!
    const fit = p.regression!
    // 1,441 parameters on 309 training rows for 207 epochs overfit without L2: the test R² peaks
    // early and falls while the train R² climbs towards 1 (what the status line's "best test R²" is
    // for). The studio's form gives regression L2 0.01, which holds it (renderer/stores/l2-default.ts).
    console.log(
      `regression-train.test.ts: diabetes after 2000 steps: test R² ${fit.test.r2!.toFixed(3)} (best ${best.toFixed(3)}), RMSE ${fit.test.rmse.toFixed(1)}, MAE ${fit.test.mae.toFixed(1)}; train R² ${fit.train.r2!.toFixed(3)}`,
    )
    expect(best).toBeGreaterThanOrEqual(0.3)
    // The reported MSE is in the target's units: it is the RMSE squared (both from the same outputs).
    expect(p.testLoss / fit.test.rmse ** 2).toBeCloseTo(1, 5)
    expect(fit.test.rmse).toBeGreaterThan(20) // the target's units (σ ≈ 77), not standard deviations
    expect(p.trainAccuracy).toBeNull()
  }, 120_000)

  it('a run that truly diverges still raises "exploding", judged against the layer’s own history', () => {
    const calm = trainer({
      model: { hidden: [32, 32], activation: 'relu' },
      data: { source: 'csv', fileId, target: 'progression' },
      optimizer: { type: 'sgd', lr: 0.01 },
      train: { batchSize: 32, seed: 0 },
    })
    expect(run(calm.t, 100).alarms).toEqual([])
    calm.s.optimizer.lr = 5 // a live change to a learning rate far too big: the run diverges
    const { last } = run(calm.t, 200)
    expect(last.ok).toBe(false)
    expect(!last.ok && last.alarm.kind).toBe('exploding')
    expect(!last.ok && last.alarm.message).toMatch(
      /^step \d+: exploding gradients — layers\.\d gradient norm \S+ is \S+ times its usual \S+; training paused\./,
    )
    expect(calm.t.stepCount).toBeGreaterThanOrEqual(100)
  })

  it('a classifier’s late minibatch spikes are not an explosion: the studio’s default spiral trains 10,000 steps without one', () => {
    const { t } = trainer({
      model: { hidden: [8, 8], activation: 'tanh', init: 'xavier-uniform' },
      data: { generator: 'spiral', n: 500, noise: 0.1, seed: 1 },
      optimizer: { type: 'adam', lr: 0.01 },
      train: { batchSize: 32, seed: 1 },
    })
    expect(run(t, 10_000).alarms).toEqual([])
  }, 120_000)

  it('vanishing detection still works: a 12-layer sigmoid net raises "vanishing", never "exploding"', () => {
    const { t } = trainer({
      model: { hidden: Array(12).fill(16), activation: 'sigmoid' },
      data: { generator: 'spiral', n: 400, seed: 1 },
      optimizer: { type: 'sgd', lr: 0.1 },
      train: { batchSize: 32, seed: 0 },
    })
    const kinds: string[] = []
    for (let i = 0; i < 60; i++) {
      const r = t.trainStep(false)
      if (r.alarm) kinds.push(r.alarm.kind)
      if (!r.ok) break
    }
    expect(kinds).toContain('vanishing')
    expect(kinds).not.toContain('exploding')
  })
})
