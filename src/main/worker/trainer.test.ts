import { describe, expect, it } from 'vitest'
import { add, mean, mul, softmaxCrossEntropy, sqrt, sum, tanh } from '../../engine'
import { SessionSpec } from '../../shared/protocol'
import { prepareData } from './data-source'
import { planLoss, type LossPlan, type SessionSpecOut } from './setup'
import { Trainer } from './trainer'
import { spec as specInput } from './test-helpers'

function makeSpec(over: Parameters<typeof specInput>[0] = {}): SessionSpecOut {
  return SessionSpec.parse(specInput(over))
}

function trainer(s: SessionSpecOut, plan?: LossPlan): Trainer {
  const d = prepareData(s.data)
  return new Trainer(d, plan ?? planLoss(s.model.loss, d.train.task, d.train.nClasses, s.data.generator), s)
}

const weights = (t: Trainer) => t.model.parameters().map((p) => Array.from(p.dataSync()))
const allFinite = (t: Trainer) => weights(t).every((w) => w.every(Number.isFinite))

describe('Trainer', () => {
  it('takes a live learning rate on the next step: Δw = -lr·g exactly, step count and state kept', () => {
    const s = makeSpec({ optimizer: { type: 'sgd', lr: 0.1 } })
    const t = trainer(s)
    for (let i = 0; i < 5; i++) expect(t.trainStep(false).ok).toBe(true)
    t.optimizer.setOptions({ lr: 0.5 })
    const w = t.model.layers[0].weight
    const before = Array.from(w.dataSync())
    expect(t.trainStep(false).ok).toBe(true)
    const g = Array.from(w.grad!.dataSync())
    const after = Array.from(w.dataSync())
    after.forEach((a, i) => expect(a).toBeCloseTo(before[i] - 0.5 * g[i], 6))
    expect(t.stepCount).toBe(6)
  })

  it('reset replays the same run from the same seed', () => {
    const s = makeSpec({ optimizer: { type: 'adam', lr: 0.01 } })
    const t = trainer(s)
    const w0 = weights(t)
    const losses = () => Array.from({ length: 20 }, () => (t.trainStep(false) as { loss: number }).loss)
    const first = losses()
    t.reset()
    expect(t.stepCount).toBe(0)
    expect(weights(t)).toEqual(w0)
    expect(losses()).toEqual(first)
  })

  it('a NaN gradient (finite loss) pauses with the step and parameter named, weights untouched', () => {
    const s = makeSpec()
    // loss + 0·√(0·Σout): finite value, but d√u/du at 0 is Infinity and 0·Infinity is NaN.
    const poisoned: LossPlan = { ...planLoss('auto', 'binary', 2, 'xor'), loss: (out, y) => add(softmaxCrossEntropy(out, y), mul(sqrt(mul(sum(out), 0)), 0)) }
    const t = trainer(s, poisoned)
    const before = weights(t)
    const r = t.trainStep(true)
    expect(r).toEqual({ ok: false, message: 'step 1: gradient of layers.0.weight is NaN; training paused. Lower the learning rate or reset.' })
    expect(weights(t)).toEqual(before)
    expect(t.stepCount).toBe(0)
  })

  it('an update that overflows a weight is undone and reported', () => {
    const s = makeSpec({ optimizer: { type: 'sgd', lr: 10 } })
    // A finite loss near float32's limit: its gradient is finite, but lr times it is not.
    const huge: LossPlan = { ...planLoss('auto', 'binary', 2, 'xor'), loss: (out) => mul(mean(tanh(out)), 3e38) }
    const t = trainer(s, huge)
    const before = weights(t)
    const r = t.trainStep(false)
    expect(r.ok).toBe(false)
    expect(!r.ok && r.message).toMatch(/^step 1: the update made layers\.\d\.(weight|bias) -?Infinity; training paused/)
    expect(weights(t)).toEqual(before)
    expect(allFinite(t)).toBe(true)
  })

  it('a diverging SGD run stops at a named step with finite weights', () => {
    const s = makeSpec({ data: { generator: 'reg-plane', n: 200, features: ['x1', 'x2', 'x1sq', 'x2sq'] }, model: { hidden: [8, 8], activation: 'linear' }, optimizer: { type: 'sgd', lr: 10 } })
    const t = trainer(s)
    let r = t.trainStep(false)
    while (r.ok && t.stepCount < 1000) r = t.trainStep(false)
    expect(r.ok).toBe(false)
    expect(!r.ok && r.message).toContain(`step ${t.stepCount + 1}: `)
    expect(allFinite(t)).toBe(true)
  })

  it('evaluates the full test set in chunks and caps the train rows', () => {
    const s = makeSpec({ data: { generator: 'blobs', n: 12000, classes: 4, testRatio: 0.5 } })
    const t = trainer(s)
    const e = t.evaluate()!
    expect(e.step).toBe(0)
    expect(e.testAccuracy).toBeGreaterThanOrEqual(0)
    // Untrained 4-class softmax on small init: loss near ln 4.
    expect(e.testLoss).toBeGreaterThan(0.5)
    expect(e.testLoss).toBeLessThan(5)
    expect(Number.isFinite(e.trainLoss)).toBe(true)
  })

  it('has no evaluation without a test set', () => {
    const t = trainer(makeSpec({ data: { generator: 'xor', n: 20, testRatio: 0 } }))
    expect(t.evaluate()).toBeNull()
  })

  it('regression accuracy is null; binary losses with one output count correct signs', () => {
    const reg = trainer(makeSpec({ data: { generator: 'reg-gauss', n: 100 } })).evaluate()!
    expect(reg.testAccuracy).toBeNull()
    expect(reg.trainAccuracy).toBeNull()
    for (const loss of ['bceWithLogits', 'hinge'] as const) {
      const t = trainer(makeSpec({ model: { hidden: [8], loss }, data: { generator: 'gauss', n: 200 }, optimizer: { type: 'adam', lr: 0.05 } }))
      expect(t.plan.outputSize).toBe(1)
      for (let i = 0; i < 100; i++) t.trainStep(false)
      expect(t.evaluate()!.testAccuracy).toBeGreaterThan(0.9)
    }
  })
})
