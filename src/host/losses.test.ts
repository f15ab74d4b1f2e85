// A loss as a user meets it through the host: chosen by name in a spec, refused with the rule's
// words on data it does not fit, trained with, and measured the same way the engine computes it.
// Huber is the loss added last; mse is beside it so the two regression losses can be compared.
import { describe, expect, it } from 'vitest'
import { huberLoss, mseLoss, tensor } from '../engine'
import { planLoss } from './setup'
import { spec, testHost } from './test-helpers'

const regression = { generator: 'reg-plane' as const, n: 200, seed: 1 }

describe('huber loss through the host', () => {
  it('trains a regression session: the test loss falls and the session reports its loss by name', async () => {
    const h = testHost()
    const info = await h.ok(
      'session.create',
      spec({ data: regression, model: { hidden: [8], loss: 'huber' }, train: { batchSize: 16, evalEvery: 20, seed: 1 } }),
    )
    expect(info.loss).toBe('huber')
    expect(info.outputSize).toBe(1)
    const sessionId = info.state.sessionId
    await h.ok('session.step', { sessionId, steps: 200 })
    const evals = h.of('train.metrics', sessionId).flatMap((b) => b.evals)
    expect(evals.length).toBeGreaterThan(2)
    expect(evals.at(-1)!.testLoss).toBeLessThan(evals[0].testLoss * 0.5)
    expect(evals.every((e) => e.testAccuracy === null)).toBe(true)
    h.host.dispose()
  })

  it('is refused on a classification dataset with what it needs', async () => {
    const h = testHost()
    const err = await h.fail('session.create', spec({ model: { hidden: [4], loss: 'huber' } }))
    expect(err.code).toBe('invalid_payload')
    expect(err.message).toMatch(
      /huber needs a regression dataset \(use softmaxCrossEntropy or auto for classes\), but "xor" is a binary dataset/,
    )
    h.host.dispose()
  })

  it("the host's plan computes the engine's Huber loss, which is MSE/2 within delta and linear beyond", () => {
    const plan = planLoss('huber', 'regression', 0, 'test')
    const out = tensor([[0.2], [-0.4], [3], [-5]])
    const y = Float32Array.from([0, 0, 0, 0])
    const got = plan.loss(out, y).dataSync()[0]
    expect(got).toBeCloseTo(huberLoss(out, y).dataSync()[0], 6)
    // ½·0.04, ½·0.16, 3 − ½, 5 − ½, averaged.
    expect(got).toBeCloseTo((0.02 + 0.08 + 2.5 + 4.5) / 4, 6)
    const near = tensor([[0.2], [-0.4]])
    expect(huberLoss(near, [0, 0]).dataSync()[0]).toBeCloseTo(mseLoss(near, [0, 0]).dataSync()[0] / 2, 6)
  })
})
