import { afterEach, describe, expect, it } from 'vitest'
import { LIMITS } from '../shared/protocol'
import { setDeviceSource } from './gpu'
import { sleep, spec, testHost } from './test-helpers'

let current: ReturnType<typeof testHost> | null = null
function make(options?: Parameters<typeof testHost>[0]) {
  current = testHost(options)
  return current
}
afterEach(() => {
  current?.host.dispose()
  current = null
})

describe('engine host: bad messages get typed errors and change nothing', () => {
  it('garbage, wrong version and unknown kinds', async () => {
    const { host, events } = make()
    const cases: [unknown, string, number][] = [
      [null, 'invalid_message', -1],
      [undefined, 'invalid_message', -1],
      [42, 'invalid_message', -1],
      ['session.start', 'invalid_message', -1],
      [[1, 2], 'invalid_message', -1],
      [{}, 'invalid_message', -1],
      [{ v: 1, id: 7, kind: 'host.hello' }, 'invalid_message', 7],
      [{ v: 1, id: 'x', kind: 'host.hello', payload: {} }, 'invalid_message', -1],
      [{ v: 1, id: 8, kind: 'host.hello', payload: {}, extra: 1 }, 'invalid_message', 8],
      [{ v: 2, id: 9, kind: 'host.hello', payload: {} }, 'version_mismatch', 9],
      [{ v: 1, id: 10, kind: 'session.explode', payload: {} }, 'unknown_kind', 10],
      [{ v: 1, id: 11, kind: '__proto__', payload: {} }, 'unknown_kind', 11],
      [{ v: 1, id: 12, kind: 'toString', payload: {} }, 'unknown_kind', 12],
    ]
    for (const [raw, code, id] of cases) {
      const r = await host.handle(raw)
      expect(r, JSON.stringify(raw)).toMatchObject({ v: 1, ok: false, id, error: { code } })
      expect(!r.ok && r.error.message.length).toBeGreaterThan(10)
    }
    expect(events).toHaveLength(0)
  })

  it('bad payloads name the field', async () => {
    const { fail } = make()
    const bad: [string, unknown, RegExp][] = [
      ['host.hello', { x: 1 }, /host\.hello: .*x/],
      ['session.create', { ...spec(), model: { hidden: [0] } }, /model\.hidden\[0\]/],
      ['session.create', { ...spec(), model: { hidden: [LIMITS.maxWidth + 1] } }, /model\.hidden\[0\]/],
      ['session.create', { ...spec(), optimizer: { type: 'sgd', lr: -1 } }, /optimizer\.lr/],
      ['session.create', { ...spec(), optimizer: { type: 'adam', lr: 0.1, momentum: 0.9 } }, /optimizer.*momentum/],
      ['session.create', { ...spec(), data: { generator: 'nope' } }, /data\.generator/],
      ['session.create', { ...spec(), data: { generator: 'xor', n: 1e9 } }, /data\.n/],
      ['session.step', { sessionId: 's1', steps: 0 }, /steps/],
      ['session.step', { sessionId: 's1', steps: 1.5 }, /steps/],
      ['session.start', { sessionId: 'abc' }, /sessionId: is not a session id/],
      ['session.update', { sessionId: 's1', optimizer: { lr: 'fast' } }, /optimizer\.lr/],
      ['dataset.preview', { generator: 'xor', noise: NaN }, /noise/],
    ]
    for (const [kind, payload, msg] of bad) {
      const e = await fail(kind, payload)
      expect(e.code, kind).toBe('invalid_payload')
      expect(e.message, kind).toMatch(msg)
    }
  })

  it('unknown sessions, too many sessions, an unavailable backend', async () => {
    const { ok, fail, host } = make()
    for (const kind of ['session.start', 'session.pause', 'session.reset', 'session.dispose', 'session.update']) {
      expect(await fail(kind, { sessionId: 's404' }), kind).toMatchObject({ code: 'not_found', message: expect.stringContaining('s404') })
    }
    expect((await fail('session.step', { sessionId: 's404', steps: 3 })).code).toBe('not_found')
    // A machine where Dawn finds no adapter (webgpu-session.test.ts covers the ones that have one).
    setDeviceSource(async () => ({ problem: 'no adapter here' }))
    const gpu = await fail('session.create', spec({ backend: 'webgpu' }))
    setDeviceSource(null)
    expect(gpu.code).toBe('backend_unavailable')
    expect(gpu.message).toMatch(/WebGPU is unavailable: no adapter here/)
    const auto = await ok('session.create', spec({ backend: 'auto' }))
    expect(auto.state.backend).toMatchObject({ name: 'cpu', reason: expect.stringMatching(/^auto: /) })
    await ok('session.dispose', { sessionId: auto.state.sessionId })
    // Concurrent creates count too: the limit holds even while some are in flight.
    const created = await Promise.all(
      Array.from({ length: LIMITS.maxSessions + 2 }, () => host.handle({ v: 1, id: 1, kind: 'session.create', payload: spec() })),
    )
    expect(created.filter((r) => r.ok)).toHaveLength(LIMITS.maxSessions)
    const refused = created.filter((r) => !r.ok)
    expect(refused).toHaveLength(2)
    for (const r of refused)
      expect(!r.ok && r.error).toMatchObject({ code: 'limit', message: expect.stringContaining(`at most ${LIMITS.maxSessions}`) })
    const ids = created.flatMap((r) => (r.ok ? [(r.result as { state: { sessionId: string } }).state.sessionId] : []))
    expect(ids).toEqual(Array.from({ length: LIMITS.maxSessions }, (_, i) => `s${i + 2}`))
    await ok('session.dispose', { sessionId: 's3' })
    expect((await ok('session.create', spec())).state.sessionId).toBe(`s${LIMITS.maxSessions + 2}`)
  })

  it('losses that do not fit the dataset, and data options the generator does not take', async () => {
    const { fail, ok, of } = make()
    const cases: [Parameters<typeof spec>[0], RegExp][] = [
      [
        { model: { hidden: [4], loss: 'mse' }, data: { generator: 'spiral' } },
        /model\.loss: mse needs a regression dataset.*"spiral" is a binary dataset/,
      ],
      [
        { model: { hidden: [4], loss: 'softmaxCrossEntropy' }, data: { generator: 'reg-plane' } },
        /softmaxCrossEntropy needs a classification dataset, but "reg-plane" is a regression dataset/,
      ],
      [
        { model: { hidden: [4], loss: 'bceWithLogits' }, data: { generator: 'blobs' } },
        /bceWithLogits needs a binary dataset, but "blobs" is a multiclass dataset/,
      ],
      [{ model: { hidden: [4], loss: 'hinge' }, data: { generator: 'reg-gauss' } }, /hinge needs a binary dataset/],
      [{ data: { generator: 'xor', classes: 3 } }, /^data: .*classes = 3 is not supported by "xor"/],
      [{ data: { generator: 'xor', features: ['x1', 'x1'] } }, /data\.features: "x1" is listed twice/],
    ]
    for (const [over, msg] of cases) {
      const e = await fail('session.create', spec(over))
      expect(e.code).toBe('invalid_payload')
      expect(e.message).toMatch(msg)
    }
    // Nothing was created, no id was used up.
    expect((await ok('session.create', spec())).state.sessionId).toBe('s1')
    expect(of('session.state')).toHaveLength(0)
  })

  it('optimizer settings that do not apply are refused, and nothing changes', async () => {
    const { ok, fail } = make()
    await ok('session.create', spec({ optimizer: { type: 'adam', lr: 0.01 } }))
    await ok('session.create', spec({ optimizer: { type: 'sgd', lr: 0.01 } }))
    await ok('session.create', spec({ optimizer: { type: 'rmsprop', lr: 0.01 } }))
    const e = await fail('session.update', { sessionId: 's1', optimizer: { lr: 0.5, momentum: 0.9 }, batchSize: 64 })
    expect(e).toEqual({
      code: 'invalid_payload',
      message: 'session.update: momentum does not apply to adam (its live settings: lr, beta1, beta2, eps, weightDecay)',
    })
    expect((await fail('session.update', { sessionId: 's2', optimizer: { beta1: 0.8, alpha: 0.9 } })).message).toMatch(
      /beta1, alpha do not apply to sgd/,
    )
    expect((await fail('session.update', { sessionId: 's3', optimizer: { beta2: 0.9 } })).message).toMatch(
      /beta2 does not apply to rmsprop/,
    )
    const s1 = current!.host['sessions'].get('s1')!
    expect(s1.trainer.optimizer.options.lr).toBe(0.01)
    expect(s1.spec.train.batchSize).toBe(16)
    await ok('session.update', { sessionId: 's1', optimizer: { lr: 0.5, beta1: 0.8 } })
    expect(s1.trainer.optimizer.options).toMatchObject({ lr: 0.5, beta1: 0.8 })
    expect(s1.spec.optimizer).toMatchObject({ type: 'adam', lr: 0.5, beta1: 0.8 })
    // Reset keeps the live settings (the user changed them on purpose).
    await ok('session.reset', { sessionId: 's1' })
    expect(current!.host['sessions'].get('s1')!.trainer.optimizer.options).toMatchObject({ lr: 0.5, beta1: 0.8 })
  })

  it('a host that was disposed answers and does nothing', async () => {
    const { host, ok } = make()
    await ok('session.create', spec())
    host.dispose()
    const r = await host.handle({ v: 1, id: 3, kind: 'session.start', payload: { sessionId: 's1' } })
    expect(r).toMatchObject({ ok: false, id: 3, error: { code: 'host_crashed' } })
  })

  it('an unexpected failure is an internal error reply; the host keeps working', async () => {
    const { host, ok, fail } = make()
    host['handlers']['host.hello'] = () => {
      throw new TypeError('x is not a function')
    }
    expect(await fail('host.hello', {})).toEqual({ code: 'internal', message: 'engine host: unexpected failure: x is not a function' })
    expect((await ok('dataset.preview', { generator: 'xor', n: 20 })).trainCount).toBe(14)
  })
})

describe('engine host: a session that fails unexpectedly', () => {
  it('goes to status error with a message, refuses to train until reset, and others go on', async () => {
    const { ok, fail, of } = make()
    await ok('session.create', spec())
    await ok('session.create', spec())
    const broken = current!.host['sessions'].get('s1')!
    const realStep = broken.trainer.step
    broken.trainer.step = () => {
      throw new RangeError('kernel exploded')
    }
    await ok('session.start', { sessionId: 's2' })
    const r = await ok('session.step', { sessionId: 's1', steps: 10 })
    expect(r).toMatchObject({ status: 'error', step: 0, message: 'step 1 failed: kernel exploded; reset the session to continue' })
    expect(of('session.state', 's1').map((s) => s.status)).toEqual(['running', 'error'])
    for (const kind of ['session.start', 'session.step']) {
      const e = await fail(kind, { sessionId: 's1' })
      expect(e.code).toBe('engine')
      expect(e.message).toMatch(/stopped with an error \(step 1 failed: kernel exploded.*\); reset it to continue/)
    }
    await sleep(50)
    expect((await ok('session.pause', { sessionId: 's2' })).step).toBeGreaterThan(0)
    broken.trainer.step = realStep
    expect(await ok('session.reset', { sessionId: 's1' })).toMatchObject({ status: 'idle', step: 0 })
    expect(await ok('session.step', { sessionId: 's1', steps: 5 })).toMatchObject({ status: 'paused', step: 5 })
  })
})
