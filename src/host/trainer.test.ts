import { describe, expect, it } from 'vitest'
import { add, mean, mul, nn, noGrad, softmaxCrossEntropy, sqrt, sum, tanh, tensor, Tensor } from '../engine'
import { SessionSpec } from '../shared/protocol'
import { prepareData } from './data-source'
import { planLoss, type LossPlan, type SessionSpecOut } from './setup'
import { Trainer } from './trainer'
import { addPenaltyGrads } from './training/penalty'
import { spec as specInput } from './test-helpers'

function makeSpec(over: Parameters<typeof specInput>[0] = {}): SessionSpecOut {
  return SessionSpec.parse(specInput(over))
}

function trainer(s: SessionSpecOut, plan?: LossPlan): Trainer {
  const d = prepareData(s.data, null)
  return new Trainer(d, plan ?? planLoss(s.model.loss, d.train.task, d.train.nClasses, 'test data'), s)
}

/** The test spec's train settings with some changed (a `train` override replaces the whole object). */
const trainWith = (over: object) => ({ batchSize: 16, evalEvery: 50, seed: 1, ...over })

const weights = (t: Trainer) => t.model.parameters().map((p) => Array.from(p.dataSync()))
const allFinite = (t: Trainer) => weights(t).every((w) => w.every(Number.isFinite))

describe('Trainer', () => {
  it('takes a live learning rate on the next step: Δw = -lr·g exactly, step count and state kept', () => {
    const s = makeSpec({ optimizer: { type: 'sgd', lr: 0.1 } })
    const t = trainer(s)
    for (let i = 0; i < 5; i++) expect(t.trainStep(false).ok).toBe(true)
    s.optimizer.lr = 0.5 // what session.update does: the spec's lr is the schedule's base
    const w = t.model.layers[0].weight
    const before = Array.from(w.dataSync())
    expect(t.trainStep(false).ok).toBe(true)
    const g = Array.from(w.grad!.dataSync())
    const after = Array.from(w.dataSync())
    after.forEach((a, i) => expect(a).toBeCloseTo(before[i] - 0.5 * g[i], 6))
    expect(t.stepCount).toBe(6)
  })

  it("restoring (a run opened from its checkpoint) draws no weights; reset still draws the seed's", () => {
    const s = makeSpec()
    const d = prepareData(s.data, null)
    const plan = planLoss(s.model.loss, d.train.task, d.train.nClasses, 'test data')
    const t = new Trainer(d, plan, s, undefined, { restoring: true })
    expect(weights(t).every((w) => w.every((v) => v === 0))).toBe(true)
    t.reset()
    expect(weights(t)).toEqual(weights(trainer(s)))
    expect(weights(t).some((w) => w.some((v) => v !== 0))).toBe(true)
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
    const poisoned: LossPlan = {
      ...planLoss('auto', 'binary', 2, 'xor'),
      loss: (out, y) => add(softmaxCrossEntropy(out, y), mul(sqrt(mul(sum(out), 0)), 0)),
    }
    const t = trainer(s, poisoned)
    const before = weights(t)
    const r = t.trainStep(true)
    expect(r).toEqual({
      ok: false,
      alarm: {
        step: 1,
        kind: 'nan',
        layer: 'layers.0',
        parameter: 'layers.0.weight',
        message: 'step 1: gradient of layers.0.weight is NaN; training paused. Lower the learning rate or reset.',
      },
    })
    expect(weights(t)).toEqual(before)
    expect(t.stepCount).toBe(0)
  })

  it('an update that overflows a weight is undone and reported', () => {
    // Alarms that do not pause let the update through, so the overflow guard is what catches it.
    const s = makeSpec({ optimizer: { type: 'sgd', lr: 10 }, train: trainWith({ alarms: { pause: false } }) })
    // A finite loss near float32's limit: its gradient is finite, but lr times it is not.
    const huge: LossPlan = { ...planLoss('auto', 'binary', 2, 'xor'), loss: (out) => mul(mean(tanh(out)), 3e38) }
    const t = trainer(s, huge)
    const before = weights(t)
    const r = t.trainStep(false)
    expect(r.ok).toBe(false)
    expect(!r.ok && r.alarm.kind).toBe('inf')
    expect(!r.ok && r.alarm.message).toMatch(/^step 1: the update made layers\.\d\.(weight|bias) -?Infinity; training paused/)
    expect(weights(t)).toEqual(before)
    expect(allFinite(t)).toBe(true)
  })

  it('a diverging SGD run stops at a named step with finite weights', () => {
    const s = makeSpec({
      data: { generator: 'reg-plane', n: 200, features: ['x1', 'x2', 'x1sq', 'x2sq'] },
      model: { hidden: [8, 8], activation: 'linear' },
      optimizer: { type: 'sgd', lr: 10 },
    })
    const t = trainer(s)
    let r = t.trainStep(false)
    while (r.ok && t.stepCount < 1000) r = t.trainStep(false)
    expect(r.ok).toBe(false)
    expect(!r.ok && r.alarm.message).toContain(`step ${t.stepCount + 1}: `)
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
      const t = trainer(
        makeSpec({ model: { hidden: [8], loss }, data: { generator: 'gauss', n: 200 }, optimizer: { type: 'adam', lr: 0.05 } }),
      )
      expect(t.plan.outputSize).toBe(1)
      for (let i = 0; i < 100; i++) t.trainStep(false)
      expect(t.evaluate()!.testAccuracy).toBeGreaterThan(0.9)
    }
  })

  it('builds per-layer activations, the output layer linear', () => {
    const t = trainer(makeSpec({ model: { hidden: [4, 3, 2], activation: 'tanh', activations: ['relu', 'sigmoid', 'gelu'] } }))
    expect(t.model.activations).toEqual(['relu', 'sigmoid', 'gelu', 'linear'])
    expect(trainer(makeSpec({ model: { hidden: [4, 3], activation: 'leakyRelu' } })).model.activations).toEqual([
      'leakyRelu',
      'leakyRelu',
      'linear',
    ])
  })

  it('applies the schedule to each update: Δw = -lr(t)·g with the step schedule and warmup', () => {
    const s = makeSpec({
      optimizer: { type: 'sgd', lr: 0.4 },
      train: trainWith({ schedule: { type: 'step', stepSize: 2, gamma: 0.5, warmupSteps: 2 } }),
    })
    const t = trainer(s)
    const want = [0.2, 0.4, 0.4, 0.4, 0.2, 0.2, 0.1]
    const w = t.model.layers[1].weight
    for (const lr of want) {
      expect(t.nextLr).toBeCloseTo(lr, 12)
      const before = Array.from(w.dataSync())
      const r = t.trainStep(false)
      expect(r.ok && r.lr).toBeCloseTo(lr, 12)
      const g = Array.from(w.grad!.dataSync())
      Array.from(w.dataSync()).forEach((a, i) => expect(a).toBeCloseTo(before[i] - lr * g[i], 6))
    }
    // A schedule changed mid-run applies from the current step (7 done: cosine's 8th update).
    s.train.schedule = { type: 'cosine', periodSteps: 10, minLr: 0, warmupSteps: 0 }
    expect(t.nextLr).toBeCloseTo((0.4 * (1 + Math.cos((Math.PI * 7) / 10))) / 2, 12)
  })

  it('adds the L1/L2 penalty gradient to the weights only: matches central differences in float64', () => {
    const live = new nn.MLP([2, 3, 2], { activation: 'tanh', seed: 3 })
    const model = live.clone({ dtype: 'float64' })
    // One weight exactly 0: L1's subgradient there is 0 (as PyTorch's abs), and the check skips it.
    const w0 = model.layers[0].weight
    const first = Float64Array.from(w0.dataSync())
    first[0] = 0
    w0.assign(new Tensor(w0.backend.fromArray(first), w0.shape, w0.backend))
    const x = tensor(
      [
        [0.5, -1],
        [1.5, 0.25],
        [-0.3, 0.8],
      ],
      { dtype: 'float64' },
    )
    const y = new Float32Array([0, 1, 1])
    const [l1, l2] = [0.03, 0.2]
    const objective = (): number =>
      noGrad(() => {
        let pen = 0
        for (const l of model.layers) for (const v of l.weight.dataSync()) pen += l1 * Math.abs(v) + l2 * v * v
        return softmaxCrossEntropy(model.forward(x), y).dataSync()[0] + pen
      })
    softmaxCrossEntropy(model.forward(x), y).backward()
    const biasGrads = model.layers.map((l) => Array.from(l.bias!.grad!.dataSync()))
    const atZero = w0.grad!.dataSync()[0]
    addPenaltyGrads(model, l1, l2)
    expect(model.layers.map((l) => Array.from(l.bias!.grad!.dataSync()))).toEqual(biasGrads)
    expect(w0.grad!.dataSync()[0]).toBe(atZero)
    const eps = 1e-6
    let checked = 0
    for (const p of model.parameters()) {
      const data = p.backend.readSync!(p.storage)
      const g = p.grad!.dataSync()
      for (let k = 0; k < p.size; k++) {
        if (p === w0 && k === 0) continue
        const orig = data[k]
        data[k] = orig + eps
        const fp = objective()
        data[k] = orig - eps
        const fm = objective()
        data[k] = orig
        expect(g[k]).toBeCloseTo((fp - fm) / (2 * eps), 7)
        checked++
      }
    }
    expect(checked).toBe(2 * 3 + 3 + 3 * 2 + 2 - 1)
  })

  it('reports the data loss, not the penalised objective, and the penalty shrinks weights', () => {
    const plain = trainer(makeSpec({ optimizer: { type: 'sgd', lr: 0.1 } }))
    const reg = trainer(makeSpec({ optimizer: { type: 'sgd', lr: 0.1 }, train: trainWith({ l2: 1 }) }))
    const a = plain.trainStep(false)
    const b = reg.trainStep(false)
    expect(a.ok && b.ok && a.loss).toBe(b.ok && b.loss) // same weights, same batch, same data loss
    const norm = (t: Trainer) => Math.hypot(...t.model.layers.flatMap((l) => Array.from(l.weight.dataSync())))
    expect(norm(reg)).toBeLessThan(norm(plain))
  })

  it('clips the global gradient norm over all parameters before the update (clip_grad_norm_ semantics)', () => {
    const s = makeSpec({ optimizer: { type: 'sgd', lr: 0.1 }, train: trainWith({ clipNorm: 0.05 }) })
    const t = trainer(s)
    const ref = trainer(makeSpec({ optimizer: { type: 'sgd', lr: 0.1 } }))
    ref.trainStep(false)
    const raw = ref.optimizer.params.map((p) => Array.from(p.grad!.dataSync()))
    const total = Math.hypot(...raw.flat())
    expect(total).toBeGreaterThan(0.05)
    const before = t.optimizer.params.map((p) => Array.from(p.dataSync()))
    t.trainStep(false)
    const coef = 0.05 / (total + 1e-6)
    t.optimizer.params.forEach((p, i) => {
      const g = Array.from(p.grad!.dataSync())
      g.forEach((v, k) => expect(v).toBeCloseTo(raw[i][k] * coef, 6))
      Array.from(p.dataSync()).forEach((v, k) => expect(v).toBeCloseTo(before[i][k] - 0.1 * g[k], 6))
    })
    // A threshold above the norm leaves the gradients alone.
    const loose = trainer(makeSpec({ optimizer: { type: 'sgd', lr: 0.1 }, train: trainWith({ clipNorm: 1e6 }) }))
    loose.trainStep(false)
    loose.optimizer.params.forEach((p, i) => expect(Array.from(p.grad!.dataSync())).toEqual(raw[i]))
  })

  it('samples dead and saturated fractions from the batch it trains on', () => {
    const t = trainer(makeSpec({ model: { hidden: [6, 5, 4], activations: ['relu', 'tanh', 'sigmoid'] } }))
    // Kill relu units 0 and 3: zero weights in and a negative bias keep them below 0 on every row.
    const l0 = t.model.layers[0]
    const w = Float32Array.from(l0.weight.dataSync())
    const b = Float32Array.from(l0.bias!.dataSync())
    for (const j of [0, 3]) {
      for (let i = 0; i < 2; i++) w[i * 6 + j] = 0
      b[j] = -1
    }
    l0.weight.assign(tensor(Array.from(w), { shape: l0.weight.shape }))
    l0.bias!.assign(tensor(Array.from(b), { shape: l0.bias!.shape }))
    // Saturate the tanh layer completely: zero weights in and biases of ±50.
    const l1 = t.model.layers[1]
    l1.weight.assign(
      tensor(
        Array.from(l1.weight.dataSync(), () => 0),
        { shape: l1.weight.shape },
      ),
    )
    l1.bias!.assign(tensor([50, -50, 50, -50, 50], { shape: l1.bias!.shape }))
    const r = t.trainStep(true)
    expect(r.ok).toBe(true)
    const stats = r.ok ? r.stats! : []
    expect(stats[0].deadFraction).toBeGreaterThanOrEqual(2 / 6)
    expect(stats[0].saturatedFraction).toBeNull()
    expect(stats[1].saturatedFraction).toBe(1)
    expect(stats[1].deadFraction).toBeNull()
    expect(stats[2].saturatedFraction).toEqual(expect.any(Number))
    expect(stats[3]).toMatchObject({ deadFraction: null, saturatedFraction: null }) // linear output
    expect(t.trainStep(false)).toMatchObject({ ok: true, stats: null })
  })

  it('exploding gradients: SGD lr 10 on spiral with a 4-layer relu net pauses on exploding before any NaN', () => {
    for (let seed = 0; seed < 4; seed++) {
      const t = trainer(
        makeSpec({
          model: { hidden: [16, 16, 16], activation: 'relu' },
          data: { generator: 'spiral', n: 500, noise: 0.1, seed },
          optimizer: { type: 'sgd', lr: 10 },
          train: { batchSize: 32, seed },
        }),
      )
      let r = t.trainStep(false)
      while (r.ok && t.stepCount < 100) r = t.trainStep(false)
      expect(r.ok, `seed ${seed}`).toBe(false)
      if (r.ok) continue
      expect(r.alarm).toMatchObject({ kind: 'exploding', step: t.stepCount + 1 })
      expect(r.alarm.message).toMatch(
        /^step \d+: exploding gradients — layers\.\d gradient norm \S+ exceeds 1e\+03; training paused\. Lower the learning rate or enable gradient clipping\.$/,
      )
      expect(allFinite(t)).toBe(true)
    }
  })

  it('exploding gradients: SGD lr 5 on reg-plane with a relu/tanh/relu net pauses on exploding before any NaN', () => {
    // What the studio's e2e does. Regression gradients grow with the error; a dead relu layer
    // leaves the output bias alone to oscillate ×9 per step, which the bias-inclusive norm sees.
    for (let seed = 0; seed < 6; seed++) {
      const t = trainer(
        makeSpec({
          model: { hidden: [16, 16, 8], activations: ['relu', 'tanh', 'relu'] },
          data: { generator: 'reg-plane', n: 500, noise: 0.1, seed: 1 + (seed % 3), features: ['x1', 'x2', 'sinx1', 'sinx2'] },
          optimizer: { type: 'sgd', lr: 5 },
          train: { batchSize: 32, seed },
        }),
      )
      let r = t.trainStep(false)
      while (r.ok && t.stepCount < 100) r = t.trainStep(false)
      expect(!r.ok && r.alarm.kind, `seed ${seed}`).toBe('exploding')
      expect(allFinite(t)).toBe(true)
    }
  })

  it('an exploding alarm that does not pause fires once per episode and lets the update through', () => {
    const s = makeSpec({ optimizer: { type: 'sgd', lr: 0.05 }, train: trainWith({ alarms: { explodingGradNorm: 1e-6, pause: false } }) })
    const t = trainer(s)
    const first = t.trainStep(false)
    expect(first).toMatchObject({ ok: true, alarm: { kind: 'exploding', step: 1 } })
    expect(first.ok && first.alarm!.message).toMatch(/exceeds 1e-06; training continues\.$/)
    expect(t.trainStep(false)).toMatchObject({ ok: true, alarm: null })
    expect(t.stepCount).toBe(2)
    t.explodingArmed = true // what a user's start does
    expect(t.trainStep(false)).toMatchObject({ ok: true, alarm: { kind: 'exploding', step: 3 } })
  })
})
