// The saliency gallery: each map is the gradient of one example's own loss (or of its predicted
// class's logit) with respect to its input, checked against central differences in float64 and
// against PyTorch; through the host, the gallery picks confident mistakes and unsure right answers
// of image data, leaves the live model's weights, gradients and flags as they were (training goes
// on), and refuses data that is not images.
import { afterEach, describe, expect, it } from 'vitest'
import { nn, noGrad, tensor, type Tensor } from '../engine'
import { parseReply } from '../shared/protocol'
import { chooseExamples, inputGradients, SALIENCY_BUDGET } from './inspect-saliency'
import { view } from './metrics'
import type { TrainingSession } from './session'
import { planLoss, type LossPlan } from './setup'
import { spec, testHost } from './test-helpers'
import golden from './testdata/saliency-golden.json'

/** The golden generator's network: 6-5-3 tanh, weights from formulas, in the engine's [in, out] layout. */
function goldenModel(): nn.MLP {
  const model = new nn.MLP([6, 5, 3], { activation: 'tanh', dtype: 'float64', seed: 1 })
  const fill = (t: Tensor, f: (i: number, j: number) => number, cols: number) => {
    const v = view(t)
    for (let k = 0; k < v.length; k++) v[k] = f(Math.floor(k / cols), k % cols)
  }
  fill(model.layers[0].weight, (i, j) => Math.sin(0.7 * (i * 5 + j) + 0.3) * 0.6, 5)
  fill(model.layers[0].bias!, (_, j) => 0.1 * Math.cos(j), 5)
  fill(model.layers[1].weight, (i, j) => Math.cos(0.45 * (i * 3 + j)) * 0.8, 3)
  fill(model.layers[1].bias!, (_, j) => 0.05 * j, 3)
  return model
}

/** Row r's own loss and its logits, in float64, for an input row given as values. */
function rowOutputs(model: nn.MLP, plan: LossPlan, row: Float64Array, label: number): { loss: number; out: Float64Array } {
  return noGrad(() => {
    const out = model.forward(tensor(row, { shape: [1, row.length], dtype: 'float64' }))
    return { loss: view(plan.loss(out, Float32Array.of(label)))[0]!, out: Float64Array.from(view(out)) }
  })
}

/** Central differences of each row's own loss and of its predicted logit (k = 1: ±z) with respect to its input. */
function numeric(model: nn.MLP, plan: LossPlan, x: Float64Array, labels: number[], predicted: number[], eps = 1e-6) {
  const f = x.length / labels.length
  const lossGrad = new Float64Array(x.length)
  const logitGrad = new Float64Array(x.length)
  const logit = (out: Float64Array, c: number) => (out.length === 1 ? (c === 1 ? out[0]! : -out[0]!) : out[c]!)
  labels.forEach((label, r) => {
    for (let j = 0; j < f; j++) {
      const row = x.slice(r * f, r * f + f)
      row[j] += eps
      const up = rowOutputs(model, plan, row, label)
      row[j] -= 2 * eps
      const down = rowOutputs(model, plan, row, label)
      lossGrad[r * f + j] = (up.loss - down.loss) / (2 * eps)
      logitGrad[r * f + j] = (logit(up.out, predicted[r]!) - logit(down.out, predicted[r]!)) / (2 * eps)
    }
  })
  return { lossGrad, logitGrad }
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number): void {
  expect(got.length).toBe(want.length)
  let worst = 0
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / Math.max(1, Math.abs(want[i]!)))
  expect(worst).toBeLessThan(tol)
}

describe('input gradients (VJPs into the pixels)', () => {
  it('softmax cross-entropy: each row’s maps equal central differences of its own loss and predicted logit', () => {
    const model = goldenModel()
    const plan = planLoss('softmaxCrossEntropy', 'multiclass', 3, 'test')
    const x = Float64Array.from(golden.x.flat())
    const labels = golden.labels
    const g = inputGradients(model, plan, x, Float32Array.from(labels), golden.predicted)
    const fd = numeric(model, plan, x, labels, golden.predicted)
    expectClose(g.lossGrad, fd.lossGrad, 1e-7)
    expectClose(g.logitGrad, fd.logitGrad, 1e-7)
  })

  it('matches PyTorch (golden values from scripts/gen_saliency_golden.py)', () => {
    const model = goldenModel()
    const plan = planLoss('softmaxCrossEntropy', 'multiclass', 3, 'test')
    const x = Float64Array.from(golden.x.flat())
    const g = inputGradients(model, plan, x, Float32Array.from(golden.labels), golden.predicted)
    expectClose(g.lossGrad, golden.lossGrad.flat(), 1e-10)
    expectClose(g.logitGrad, golden.logitGrad.flat(), 1e-10)
  })

  it('one logit (BCE): class 0’s logit is −z, and both maps match central differences', () => {
    const model = new nn.MLP([5, 4, 1], { activation: 'relu', dtype: 'float64', seed: 7 })
    const plan = planLoss('bceWithLogits', 'binary', 2, 'test')
    const x = Float64Array.from({ length: 15 }, (_, i) => Math.sin(i * 1.7) + 0.2)
    const labels = [1, 0, 1]
    const out = noGrad(() => view(model.forward(tensor(x, { shape: [3, 5], dtype: 'float64' }))))
    const predicted = Array.from(out, (z) => (z > 0 ? 1 : 0))
    const g = inputGradients(model, plan, x, Float32Array.from(labels), predicted)
    const fd = numeric(model, plan, x, labels, predicted)
    expectClose(g.lossGrad, fd.lossGrad, 1e-6)
    expectClose(g.logitGrad, fd.logitGrad, 1e-6)
  })

  it('chooses the most confident mistakes and the least confident right answers', () => {
    const r = (row: number, label: number, predicted: number, confidence: number) => ({ row, label, predicted, confidence })
    const ranked = [r(0, 1, 2, 0.6), r(1, 1, 1, 0.9), r(2, 0, 3, 0.95), r(3, 2, 2, 0.4), r(4, 0, 0, 0.55), r(5, 1, 0, 0.3)]
    expect(chooseExamples(ranked, 2).map((e) => [e.kind, e.row])).toEqual([
      ['wrong', 2],
      ['wrong', 0],
      ['right', 3],
      ['right', 4],
    ])
  })
})

let current: ReturnType<typeof testHost> | null = null
afterEach(() => {
  current?.host.dispose()
  current = null
})

describe('session.saliency', () => {
  it('Digits: examples with 8×8 images and maps, the live model untouched, the loss map equal to a fresh computation', async () => {
    current = testHost()
    const created = await current.ok(
      'session.create',
      spec({ model: { hidden: [16] }, data: { source: 'bundled', name: 'digits' }, optimizer: { type: 'adam', lr: 0.01 } }),
    )
    const id = created.state.sessionId
    expect(created.imageShape).toEqual([8, 8])
    for (let i = 0; i < 5; i++) await current.ok('session.step', { sessionId: id })
    const s: TrainingSession = current.host['sessions'].get(id)!
    const before = s.trainer.model.namedParameters().map(([n, p]) => [n, Array.from(view(p)), p.grad === null, p.requiresGrad] as const)
    expect(s.trainer.model.training).toBe(false) // used as it is, no copy: it rests in eval mode
    const reply = parseReply('session.saliency', await current.send('session.saliency', { sessionId: id, perKind: 3 }))
    if (!reply.ok) throw new Error(reply.error.message)
    const g = reply.result
    expect([g.height, g.width, g.pixelRange]).toEqual([8, 8, [0, 16]])
    expect(g.examined).toBeGreaterThan(6)
    expect(g.examples.length).toBe(6)
    const wrong = g.examples.filter((e) => e.kind === 'wrong')
    const right = g.examples.filter((e) => e.kind === 'right')
    expect(wrong.length).toBe(Math.min(3, g.wrong))
    for (const e of wrong) expect(e.predicted).not.toBe(e.label)
    for (const e of right) expect(e.predicted).toBe(e.label)
    expect(wrong.map((e) => e.confidence)).toEqual([...wrong.map((e) => e.confidence)].sort((a, b) => b - a))
    expect(right.map((e) => e.confidence)).toEqual([...right.map((e) => e.confidence)].sort((a, b) => a - b))
    for (const e of g.examples) {
      expect(Buffer.from(e.pixels, 'base64').length).toBe(64)
      expect(e.lossGrad.length).toBe(64)
      expect(e.logitGrad.some((v) => v !== 0)).toBe(true)
    }
    // The live model: same weights, no gradient left behind.
    const after = s.trainer.model.namedParameters().map(([n, p]) => [n, Array.from(view(p)), p.grad === null, p.requiresGrad] as const)
    expect(after).toEqual(before)
    expect(before.every(([, , , needsGrad]) => needsGrad)).toBe(true)
    // Example 0's loss map, recomputed on its own (standardised test row) with a float64 copy.
    const e = g.examples[0]!
    const copy = s.trainer.model.clone({ dtype: 'float64' })
    const f = s.trainer.data.test.nFeatures
    const x = Float64Array.from(s.trainer.data.test.x.subarray(e.row * f, e.row * f + f))
    const fresh = inputGradients(copy, s.trainer.plan, x, Float32Array.of(e.label), [e.predicted])
    expectClose(e.lossGrad, fresh.lossGrad, 1e-4)
    // Training goes on as before: its weights still get gradients.
    await current.ok('session.step', { sessionId: id })
    expect(s.trainer.model.namedParameters().some(([, p], i) => Array.from(view(p)).some((v, j) => v !== before[i]![1][j]))).toBe(true)
  })

  it('a big model looks at fewer rows and examples: the work stays within SALIENCY_BUDGET', async () => {
    current = testHost()
    const created = await current.ok('session.create', spec({ model: { hidden: [512, 512] }, data: { source: 'bundled', name: 'digits' } }))
    const cost = 64 * 512 + 512 * 512 + 512 * 10
    const g = await current.ok('session.saliency', { sessionId: created.state.sessionId, perKind: 8 })
    expect(g.examined).toBe(Math.floor((0.6 * SALIENCY_BUDGET) / cost))
    expect(g.examples.length).toBeLessThanOrEqual(Math.floor((0.4 * SALIENCY_BUDGET) / (6 * cost)))
  })

  it('refuses data that is not images', async () => {
    current = testHost()
    const { state } = await current.ok('session.create', spec())
    const err = await current.fail('session.saliency', { sessionId: state.sessionId })
    expect(err.message).toMatch(/session\.saliency: "xor" is not image data/)
  })
})
