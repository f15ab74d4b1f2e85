import { afterEach, describe, expect, it } from 'vitest'
import { data, nn } from '../../engine'
import { ACTIVATION_NAMES, INIT_NAMES, LIMITS, parseEvent, parseReply, PROTOCOL_VERSION } from '../../shared/protocol'
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

describe('engine host: hello and preview', () => {
  it('says hello with the protocol version, the engine vocabulary and the limits', async () => {
    const { ok, send } = make()
    const hello = await ok('host.hello', {})
    expect(hello.protocolVersion).toBe(PROTOCOL_VERSION)
    expect(hello.generators.map((g) => g.name)).toEqual(data.listGenerators().map((g) => g.name))
    expect(hello.generators.find((g) => g.name === 'spiral3')).toMatchObject({ task: 'multiclass', label: 'Spiral, k arms' })
    expect(hello.activations).toEqual([...nn.ACTIVATIONS])
    expect(hello.activations).toEqual([...ACTIVATION_NAMES])
    expect(hello.initializers).toEqual([...INIT_NAMES])
    expect(hello.limits).toEqual(LIMITS)
    expect(parseReply('host.hello', await send('host.hello', {})).ok).toBe(true)
  })

  it('previews a dataset as a session would split it, subsampled to ~2,000 points', async () => {
    const { ok } = make()
    const small = await ok('dataset.preview', { generator: 'spiral', n: 300, testRatio: 0.2, seed: 4 })
    expect(small).toMatchObject({ task: 'binary', nClasses: 2, trainCount: 240, testCount: 60 })
    expect(small.points).toHaveLength(600)
    const raw = data.generate('spiral', { n: 300, seed: 4 })
    expect(small.points.slice(0, 4)).toEqual(Array.from(raw.x.slice(0, 4)))
    expect(small.labels).toEqual(Array.from(raw.y))
    const big = await ok('dataset.preview', { generator: 'blobs', n: 50_000, classes: 5 })
    expect(big.nClasses).toBe(5)
    expect(big.labels.length).toBeLessThanOrEqual(2000)
    expect(big.labels.length).toBeGreaterThan(1500)
    expect(big.points).toHaveLength(2 * big.labels.length)
    expect(new Set(big.labels).size).toBe(5)
    expect(big.trainCount + big.testCount).toBe(50_000)
    const reg = await ok('dataset.preview', { generator: 'reg-plane', n: 100 })
    expect(reg).toMatchObject({ task: 'regression', nClasses: 0 })
  })
})

describe('engine host: session lifecycle', () => {
  it('create, start, pause, step, reset, dispose', async () => {
    const { ok, fail, of } = make()
    const info = await ok('session.create', spec({ model: { hidden: [8, 4], activation: 'relu' } }))
    expect(info.state).toMatchObject({ sessionId: 's1', status: 'idle', step: 0, epoch: 0, backend: { name: 'cpu', reason: 'requested' } })
    expect(info).toMatchObject({ loss: 'softmaxCrossEntropy', task: 'binary', inputFeatures: 2, outputSize: 2, paramCount: 2 * 8 + 8 + 8 * 4 + 4 + 4 * 2 + 2 })
    expect(info.layers).toEqual([
      { name: 'layers.0', inFeatures: 2, outFeatures: 8, activation: 'relu' },
      { name: 'layers.1', inFeatures: 8, outFeatures: 4, activation: 'relu' },
      { name: 'layers.2', inFeatures: 4, outFeatures: 2, activation: 'linear' },
    ])
    expect(info.spec.train).toEqual({
      batchSize: 16,
      evalEvery: 50,
      seed: 1,
      schedule: { type: 'constant', warmupSteps: 0 },
      l1: 0,
      l2: 0,
      clipNorm: null,
      stop: { maxEpochs: null, maxSteps: null, targetLoss: null, earlyStopping: null },
      alarms: { explodingGradNorm: 1e3, vanishingGradNorm: 1e-7, pause: true },
      maxStepsPerSecond: null,
    })
    expect(info).toMatchObject({ featureNames: ['x1', 'x2'], classNames: ['class 0', 'class 1'], planar: true })
    expect(parseReply('session.create', { v: 1, id: 0, ok: true, result: info }).ok).toBe(true)

    expect((await ok('session.start', { sessionId: 's1' })).status).toBe('running')
    await sleep(100)
    const paused = await ok('session.pause', { sessionId: 's1' })
    expect(paused.status).toBe('paused')
    expect(paused.step).toBeGreaterThan(0)
    await sleep(50)
    const again = await ok('session.pause', { sessionId: 's1' })
    expect(again.step).toBe(paused.step) // nothing runs while paused

    const stepped = await ok('session.step', { sessionId: 's1', steps: 25 })
    expect(stepped).toMatchObject({ status: 'paused', step: paused.step + 25 })
    const one = await ok('session.step', { sessionId: 's1' })
    expect(one.step).toBe(paused.step + 26)

    const reset = await ok('session.reset', { sessionId: 's1' })
    expect(reset).toMatchObject({ status: 'idle', step: 0, epoch: 0 })
    expect(of('session.state', 's1').map((s) => s.status)).toEqual(['running', 'paused', 'running', 'paused', 'running', 'paused', 'idle'])
    for (const e of current!.events) expect(parseEvent(e.msg).ok).toBe(true)

    expect(await ok('session.dispose', { sessionId: 's1' })).toEqual({ sessionId: 's1' })
    expect((await fail('session.start', { sessionId: 's1' })).code).toBe('not_found')
  })

  it('evaluates at step 0 and every evalEvery steps; evalEvery and batch size change live', async () => {
    const { ok, of } = make()
    await ok('session.create', spec({ data: { generator: 'xor', n: 200, testRatio: 0.5 }, train: { batchSize: 10, evalEvery: 20, seed: 1 } }))
    await ok('session.step', { sessionId: 's1', steps: 60 })
    expect(of('train.metrics').flatMap((b) => b.evals.map((e) => e.step))).toEqual([0, 20, 40, 60])
    const s = await ok('session.update', { sessionId: 's1', evalEvery: 7, batchSize: 100 })
    expect(s).toMatchObject({ step: 60, epoch: 6 }) // 100 train rows / 10 per batch: 6 epochs done
    const after = await ok('session.step', { sessionId: 's1', steps: 10 })
    expect(after).toMatchObject({ step: 70, epoch: 16 }) // now one batch is one epoch
    expect(of('train.metrics').flatMap((b) => b.evals.map((e) => e.step))).toEqual([0, 20, 40, 60, 63, 70])
    const last = of('train.metrics').at(-1)!.evals.at(-1)!
    expect(last.testAccuracy).not.toBeNull()
    expect(last.trainAccuracy).not.toBeNull()
  })

  it('answers session.step when the steps are done, or early when paused or reset', async () => {
    const { ok, send } = make()
    await ok('session.create', spec())
    const long = send('session.step', { sessionId: 's1', steps: 100_000 })
    await sleep(60)
    const paused = await ok('session.pause', { sessionId: 's1' })
    const r = await long
    expect(r.ok && r.result).toMatchObject({ status: 'paused', step: paused.step })
    expect(paused.step).toBeLessThan(100_000)

    const again = send('session.step', { sessionId: 's1', steps: 100_000 })
    await sleep(30)
    await ok('session.reset', { sessionId: 's1' })
    const r2 = await again
    expect(r2.ok && r2.result).toMatchObject({ status: 'idle', step: 0 })

    const third = send('session.step', { sessionId: 's1', steps: 100_000 })
    await sleep(20)
    await ok('session.dispose', { sessionId: 's1' })
    const r3 = await third
    expect(r3.ok).toBe(false)
    expect(!r3.ok && r3.error.code).toBe('not_found')
  })

  it('a pause is handled within a slice or two while training runs', async () => {
    const { ok } = make({ sliceMs: 15 })
    await ok('session.create', spec({ model: { hidden: [64, 64] }, train: { batchSize: 128, evalEvery: 1000, seed: 1 } }))
    await ok('session.start', { sessionId: 's1' })
    await sleep(100)
    const t0 = performance.now()
    await ok('session.pause', { sessionId: 's1' })
    expect(performance.now() - t0).toBeLessThan(100)
  })

  it('runs two sessions side by side, both advancing', async () => {
    const { ok, of } = make()
    await ok('session.create', spec())
    await ok('session.create', spec({ data: { generator: 'spiral', n: 300 }, optimizer: { type: 'adam', lr: 0.01 } }))
    await ok('session.start', { sessionId: 's1' })
    await ok('session.start', { sessionId: 's2' })
    await sleep(400)
    const a = await ok('session.pause', { sessionId: 's1' })
    await sleep(100)
    const b = await ok('session.pause', { sessionId: 's2' })
    expect(a.step).toBeGreaterThan(20)
    expect(b.step).toBeGreaterThan(20)
    expect(a.step / b.step).toBeGreaterThan(0.2)
    expect(a.step / b.step).toBeLessThan(5)
    // s2 kept running alone after s1 paused.
    const s2Steps = of('train.metrics', 's2').flatMap((m) => m.steps)
    expect(s2Steps.at(-1)).toBe(b.step)
    expect(of('train.metrics', 's1').flatMap((m) => m.steps).at(-1)).toBe(a.step)
  })
})

describe('engine host: metrics', () => {
  it('batches every ~flushMs, every step exactly once, never a message per step', async () => {
    const { ok, of } = make({ flushMs: 50 })
    await ok('session.create', spec({ train: { batchSize: 8, evalEvery: 100, seed: 1 } }))
    const t0 = performance.now()
    await ok('session.start', { sessionId: 's1' })
    await sleep(800)
    const end = await ok('session.pause', { sessionId: 's1' })
    const elapsed = performance.now() - t0
    const batches = of('train.metrics', 's1')
    const steps = batches.flatMap((b) => b.steps)
    expect(steps).toEqual(Array.from({ length: end.step }, (_, i) => i + 1))
    expect(batches.flatMap((b) => b.trainLoss)).toHaveLength(end.step)
    expect(batches.length).toBeLessThanOrEqual(Math.ceil(elapsed / 50) + 2)
    expect(batches.length).toBeGreaterThanOrEqual(5)
    expect(end.step).toBeGreaterThan(batches.length * 5)
    const gaps = batches.slice(1, -1).map((b, i) => b.at - batches[i].at)
    const median = gaps.sort((x, y) => x - y)[gaps.length >> 1]
    expect(median).toBeGreaterThanOrEqual(45)
    expect(median).toBeLessThan(150)
    for (const b of batches) {
      expect(b.layers.length).toBeLessThanOrEqual(1)
      if (b.layers.length) expect(b.steps).toContain(b.layers[0].step)
      expect(b.layers[0]?.stats).toHaveLength(2)
      expect(b.stepsPerSecond).toBeGreaterThan(0)
    }
    // The last batch arrives before the state change that says training stopped.
    const pausedAt = of('session.state', 's1').find((s) => s.status === 'paused')!.at
    expect(batches.at(-1)!.at).toBeLessThanOrEqual(pausedAt)
    expect(batches.flatMap((b) => b.evals.map((e) => e.step))).toEqual(Array.from({ length: Math.floor(end.step / 100) + 1 }, (_, i) => i * 100))
  })

  it('the loss falls on spiral and xor over a few hundred steps', async () => {
    const { ok, of } = make()
    for (const generator of ['spiral', 'xor'] as const) {
      const { state } = await ok('session.create', spec({ model: { hidden: [16, 16] }, data: { generator, n: 400, seed: 2 }, optimizer: { type: 'adam', lr: 0.03 }, train: { batchSize: 32, evalEvery: 100, seed: 3 } }))
      await ok('session.step', { sessionId: state.sessionId, steps: 500 })
      const losses = of('train.metrics', state.sessionId).flatMap((b) => b.trainLoss)
      const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
      expect(avg(losses.slice(-50)), generator).toBeLessThan(0.6 * avg(losses.slice(0, 50)))
      const evals = of('train.metrics', state.sessionId).flatMap((b) => b.evals)
      expect(evals.at(-1)!.testLoss, generator).toBeLessThan(evals[0].testLoss)
    }
  })

  it('a live learning-rate change takes effect without a reset', async () => {
    const { ok, of } = make()
    await ok('session.create', spec({ optimizer: { type: 'sgd', lr: 0.01, momentum: 0.9 } }))
    await ok('session.step', { sessionId: 's1', steps: 30 })
    const s = await ok('session.update', { sessionId: 's1', optimizer: { lr: 0.2, momentum: 0.5 } })
    expect(s).toMatchObject({ step: 30, status: 'paused' })
    const after = await ok('session.step', { sessionId: 's1', steps: 1 })
    expect(after.step).toBe(31)
    // The sampled stats of step 31 use the new lr: updateRatio = 0.2·‖g‖/‖W‖.
    const sample = of('train.metrics', 's1').at(-1)!.layers[0]
    expect(sample.step).toBe(31)
    for (const st of sample.stats) expect(st.updateRatio).toBeCloseTo((0.2 * st.gradNorm) / st.weightNorm, 10)
    const session = current!.host['sessions'].get('s1')!
    expect(session.trainer.optimizer.options).toMatchObject({ lr: 0.2, momentum: 0.5 })
  })
})

describe('engine host: NaN and Inf', () => {
  it('a diverging run pauses with the step named, keeps finite weights; other sessions go on', async () => {
    const { ok, of } = make()
    // The exploding alarm is set out of reach, so the NaN/Inf guard is what stops this run.
    const train = { batchSize: 16, seed: 1, alarms: { explodingGradNorm: 1e300 } }
    await ok('session.create', spec({ data: { generator: 'reg-plane', n: 200, features: ['x1', 'x2', 'x1sq', 'x2sq'] }, model: { hidden: [8], activation: 'linear' }, optimizer: { type: 'sgd', lr: 10 }, train }))
    await ok('session.create', spec())
    await ok('session.start', { sessionId: 's2' })
    await ok('session.start', { sessionId: 's1' })
    await sleep(300)
    const [bad] = of('session.state', 's1').filter((s) => s.status === 'paused')
    expect(bad).toBeDefined()
    expect(bad.message).toMatch(new RegExp(`^step ${bad.step + 1}: .*; training paused\\. Lower the learning rate or reset\\.$`))
    const alarms = of('train.alarm', 's1')
    expect(alarms).toHaveLength(1)
    expect(alarms[0]).toMatchObject({ step: bad.step + 1, message: bad.message, paused: true })
    expect(['nan', 'inf']).toContain(alarms[0].kind)
    const session = current!.host['sessions'].get('s1')!
    for (const p of session.trainer.model.parameters()) expect(Array.from(p.dataSync()).every(Number.isFinite)).toBe(true)
    const good = await ok('session.pause', { sessionId: 's2' })
    expect(good.step).toBeGreaterThan(50)
    expect(of('session.state', 's2').map((s) => s.status)).toEqual(['running', 'paused'])
    // Continuing is allowed (it may stop again); the message clears when training restarts.
    expect((await ok('session.start', { sessionId: 's1' })).message).toBeUndefined()
    await ok('session.reset', { sessionId: 's1' })
    const fresh = await ok('session.step', { sessionId: 's1', steps: 1 })
    expect(fresh).toMatchObject({ step: 1, status: 'paused' })
    expect(fresh.message).toBeUndefined()
  })
})
