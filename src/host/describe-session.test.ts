// session.describe on the real host: the one-line summary, layer shapes that are the live model's,
// why the loss fits, and protocol validation of the request (that the renderer's test double says
// the same is checked in renderer/features/studio/stores/model-summary.test.ts).
import { describe, expect, it } from 'vitest'
import { SessionSpec, type RequestPayload } from '../shared/protocol'
import { describeSession } from './describe-session'
import { TrainingSession } from './session'
import { spec, testHost } from './test-helpers'

const spiral = (over: Partial<RequestPayload<'session.create'>> = {}) =>
  spec({
    model: { hidden: [16, 16], activation: 'tanh' },
    data: { generator: 'spiral', n: 100, seed: 1 },
    optimizer: { type: 'adam', lr: 0.01 },
    ...over,
  })

describe('session.describe', () => {
  it('answers the model in one line, layer by layer, and why the loss fits', async () => {
    const h = testHost()
    const { state } = await h.ok('session.create', spiral())
    const d = await h.ok('session.describe', { sessionId: state.sessionId })
    expect(d.summary).toBe('2 → 16 tanh → 16 tanh → 2 (softmax CE) · 354 parameters · Adam')
    expect(d.architecture).toBe('2 → 16 tanh → 16 tanh → 2 (softmax CE)')
    expect(d.layers).toEqual([
      { name: 'layers.0', activation: 'tanh', weightShape: [2, 16], biasShape: [16], params: 48 },
      { name: 'layers.1', activation: 'tanh', weightShape: [16, 16], biasShape: [16], params: 272 },
      { name: 'layers.2', activation: 'linear', weightShape: [16, 2], biasShape: [2], params: 34 },
    ])
    expect(d.loss).toMatchObject({
      name: 'softmaxCrossEntropy',
      auto: true,
      task: 'binary',
      why: expect.stringMatching(/^auto picked softmax cross-entropy for a binary task — .*one logit per class/),
    })
    const info = await h.ok('session.info', { sessionId: state.sessionId })
    expect(d.paramCount).toBe(info.paramCount)
    h.host.dispose()
  })

  it('names a chosen loss, per-layer activations, regression and other optimisers', async () => {
    const h = testHost()
    const bce = await h.ok(
      'session.create',
      spiral({ model: { hidden: [4, 3], activations: ['relu', 'gelu'], loss: 'bceWithLogits' }, optimizer: { type: 'rmsprop', lr: 0.01 } }),
    )
    const a = await h.ok('session.describe', { sessionId: bce.state.sessionId })
    expect(a.summary).toBe('2 → 4 relu → 3 gelu → 1 (BCE) · 31 parameters · RMSprop')
    expect(a.loss).toMatchObject({
      name: 'bceWithLogits',
      auto: false,
      why: expect.stringMatching(/^chosen: binary cross-entropy for a binary task/),
    })
    const reg = await h.ok(
      'session.create',
      spiral({ model: { hidden: [] }, data: { generator: 'reg-plane', n: 100, seed: 1 }, optimizer: { type: 'sgd', lr: 0.1 } }),
    )
    expect((await h.ok('session.describe', { sessionId: reg.state.sessionId })).summary).toBe('2 → 1 (MSE) · 3 parameters · SGD')
    h.host.dispose()
  })

  it('is validated like every request: a bad id is invalid_payload, an unknown one not_found', async () => {
    const h = testHost()
    expect(await h.fail('session.describe', { sessionId: 'nope' })).toMatchObject({
      code: 'invalid_payload',
      message: expect.stringContaining('session.describe: sessionId'),
    })
    expect(await h.fail('session.describe', { sessionId: 's1', extra: 1 })).toMatchObject({ code: 'invalid_payload' })
    expect(await h.fail('session.describe', { sessionId: 's99' })).toMatchObject({
      code: 'not_found',
      message: expect.stringContaining('s99'),
    })
    h.host.dispose()
  })

  it("its shapes and counts are the live model's parameters", () => {
    const s = new TrainingSession(
      's1',
      SessionSpec.parse(spiral({ model: { hidden: [5, 7], activation: 'relu' } })),
      { name: 'cpu', reason: 'test' },
      {
        emitState: () => {},
        emitMetrics: () => {},
        emitAlarm: () => {},
        now: () => 0,
        files: null,
      },
    )
    const d = describeSession(s)
    const params = new Map(s.trainer.model.namedParameters())
    for (const l of d.layers) {
      expect(params.get(`${l.name}.weight`)?.shape, l.name).toEqual(l.weightShape)
      expect(params.get(`${l.name}.bias`)?.shape, l.name).toEqual(l.biasShape)
    }
    expect(d.paramCount).toBe(s.trainer.model.parameterCount())
    s.dispose()
  })
})
