import { afterEach, describe, expect, it } from 'vitest'
import { data, nn } from '../engine'
import { ACTIVATION_NAMES, INIT_NAMES, LIMITS, parseEvent, parseReply, PROTOCOL_VERSION } from '../shared/protocol'
import type { TrainingSession } from './session'
import { spec, testHost } from './test-helpers'
import { turns, until } from './test-wait'

let current: ReturnType<typeof testHost> | null = null
function make(options?: Parameters<typeof testHost>[0]) {
  current = testHost(options)
  return current
}
afterEach(() => {
  current?.host.dispose()
  current = null
})

/** The live session behind an id in the current host. */
const sessionOf = (id: string): TrainingSession => current!.host['sessions'].get(id)!

/** Record, in order, which session each training slice of the current host ran for. */
function recordSlices(ids: string[]): string[] {
  const order: string[] = []
  for (const id of ids) {
    const s = sessionOf(id)
    const run = s.runSlice.bind(s)
    s.runSlice = (deadline) => {
      order.push(id)
      return run(deadline)
    }
  }
  return order
}

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
    expect(info).toMatchObject({
      loss: 'softmaxCrossEntropy',
      task: 'binary',
      inputFeatures: 2,
      outputSize: 2,
      paramCount: 2 * 8 + 8 + 8 * 4 + 4 + 4 * 2 + 2,
    })
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
      alarms: { explodingGradNorm: 1e3, explodingFactor: 100, vanishingGradNorm: 1e-7, pause: true },
      maxStepsPerSecond: null,
    })
    expect(info).toMatchObject({ featureNames: ['x1', 'x2'], classNames: ['class 0', 'class 1'], planar: true })
    expect(parseReply('session.create', { v: 1, id: 0, ok: true, result: info }).ok).toBe(true)

    expect((await ok('session.start', { sessionId: 's1' })).status).toBe('running')
    await until(() => of('train.metrics', 's1').some((b) => b.steps.length > 0), 'a train.metrics batch with steps')
    const paused = await ok('session.pause', { sessionId: 's1' })
    expect(paused.status).toBe('paused')
    expect(paused.step).toBeGreaterThan(0)
    await turns(20) // the host's loop had every chance to run a slice
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
    await ok(
      'session.create',
      spec({ data: { generator: 'xor', n: 200, testRatio: 0.5 }, train: { batchSize: 10, evalEvery: 20, seed: 1 } }),
    )
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
    await until(() => sessionOf('s1').step > 0, 'the long run to start')
    const paused = await ok('session.pause', { sessionId: 's1' })
    const r = await long
    expect(r.ok && r.result).toMatchObject({ status: 'paused', step: paused.step })
    expect(paused.step).toBeLessThan(100_000)

    const again = send('session.step', { sessionId: 's1', steps: 100_000 })
    await until(() => sessionOf('s1').step > paused.step, 'the second run to step')
    await ok('session.reset', { sessionId: 's1' })
    const r2 = await again
    expect(r2.ok && r2.result).toMatchObject({ status: 'idle', step: 0 })

    const third = send('session.step', { sessionId: 's1', steps: 100_000 })
    await until(() => sessionOf('s1').step > 0, 'the third run to step')
    await ok('session.dispose', { sessionId: 's1' })
    const r3 = await third
    expect(r3.ok).toBe(false)
    expect(!r3.ok && r3.error.code).toBe('not_found')
  })

  it('a pause is handled within a slice or two while training runs', async () => {
    const { ok } = make({ sliceMs: 15 })
    await ok('session.create', spec({ model: { hidden: [64, 64] }, train: { batchSize: 128, evalEvery: 1000, seed: 1 } }))
    const slices = recordSlices(['s1'])
    await ok('session.start', { sessionId: 's1' })
    await until(() => slices.length >= 3 && sessionOf('s1').step > 0, 'three training slices')
    // Counted in slices, not milliseconds: the reply must not wait for the run to go on.
    const before = slices.length
    const paused = await ok('session.pause', { sessionId: 's1' })
    expect(slices.length - before).toBeLessThanOrEqual(1)
    expect(paused).toMatchObject({ status: 'paused', step: sessionOf('s1').step })
  })

  it('runs two sessions side by side, both advancing', async () => {
    const { ok, of } = make()
    await ok('session.create', spec())
    await ok('session.create', spec({ data: { generator: 'spiral', n: 300 }, optimizer: { type: 'adam', lr: 0.01 } }))
    const slices = recordSlices(['s1', 's2'])
    await ok('session.start', { sessionId: 's1' })
    await ok('session.start', { sessionId: 's2' })
    const sinceBoth = () => (slices.includes('s2') ? slices.length - slices.indexOf('s2') : 0)
    await until(() => sessionOf('s1').step > 20 && sessionOf('s2').step > 20 && sinceBoth() >= 6, 'both past step 20, six slices together')
    const a = await ok('session.pause', { sessionId: 's1' })
    const together = slices.slice(slices.indexOf('s2'))
    const s2At = sessionOf('s2').step
    await until(() => sessionOf('s2').step > s2At + 10, 's2 to go on alone')
    const b = await ok('session.pause', { sessionId: 's2' })
    expect(a.step).toBeGreaterThan(20)
    expect(b.step).toBeGreaterThan(20)
    // Fair shares whatever the machine's speed: while both ran, their slices alternated.
    expect(together.length).toBeGreaterThanOrEqual(6)
    together.forEach((id, i) => i > 0 && expect(id, `slice ${i}`).not.toBe(together[i - 1]))
    expect(slices.slice(slices.indexOf('s2') + together.length)).not.toContain('s1')
    // s2 kept running alone after s1 paused.
    const s2Steps = of('train.metrics', 's2').flatMap((m) => m.steps)
    expect(s2Steps.at(-1)).toBe(b.step)
    expect(
      of('train.metrics', 's1')
        .flatMap((m) => m.steps)
        .at(-1),
    ).toBe(a.step)
  })
})

describe('engine host: metrics', () => {
  it('batches every ~flushMs, every step exactly once, never a message per step', async () => {
    const { ok, of } = make({ flushMs: 50 })
    await ok('session.create', spec({ train: { batchSize: 8, evalEvery: 100, seed: 1 } }))
    // The host's own clock reading at each batch it sends (the recorded arrival times add the test's delays).
    const metrics = sessionOf('s1').metrics
    const flush = metrics.flush.bind(metrics)
    const flushedAt: number[] = []
    metrics.flush = (now, step, epoch) => {
      const batch = flush(now, step, epoch)
      if (batch) flushedAt.push(now)
      return batch
    }
    const t0 = performance.now()
    await ok('session.start', { sessionId: 's1' })
    const batchesSoFar = () => of('train.metrics', 's1')
    await until(
      () => batchesSoFar().length >= 5 && batchesSoFar().some((b) => b.steps.length > 1),
      'five batches, one holding several steps',
    )
    const end = await ok('session.pause', { sessionId: 's1' })
    const elapsed = performance.now() - t0
    const batches = of('train.metrics', 's1')
    const steps = batches.flatMap((b) => b.steps)
    expect(steps).toEqual(Array.from({ length: end.step }, (_, i) => i + 1))
    expect(batches.flatMap((b) => b.trainLoss)).toHaveLength(end.step)
    expect(batches.length).toBeLessThanOrEqual(Math.ceil(elapsed / 50) + 2)
    expect(batches.length).toBeGreaterThanOrEqual(5)
    // While running, one batch per flushMs at most, however many steps it holds; the last is the pause's.
    expect(flushedAt).toHaveLength(batches.length)
    const gaps = flushedAt.slice(1, -1).map((t, i) => t - flushedAt[i])
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(50)
    for (const b of batches) {
      expect(b.layers.length).toBeLessThanOrEqual(1)
      if (b.layers.length) expect(b.steps).toContain(b.layers[0].step)
      expect(b.layers[0]?.stats).toHaveLength(2)
      expect(b.stepsPerSecond).toBeGreaterThan(0)
    }
    // The last batch arrives before the state change that says training stopped.
    const pausedAt = of('session.state', 's1').find((s) => s.status === 'paused')!.at
    expect(batches.at(-1)!.at).toBeLessThanOrEqual(pausedAt)
    expect(batches.flatMap((b) => b.evals.map((e) => e.step))).toEqual(
      Array.from({ length: Math.floor(end.step / 100) + 1 }, (_, i) => i * 100),
    )
  })

  it('the loss falls on spiral and xor over a few hundred steps', async () => {
    const { ok, of } = make()
    for (const generator of ['spiral', 'xor'] as const) {
      const { state } = await ok(
        'session.create',
        spec({
          model: { hidden: [16, 16] },
          data: { generator, n: 400, seed: 2 },
          optimizer: { type: 'adam', lr: 0.03 },
          train: { batchSize: 32, evalEvery: 100, seed: 3 },
        }),
      )
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
    await ok(
      'session.create',
      spec({
        data: { generator: 'reg-plane', n: 200, features: ['x1', 'x2', 'x1sq', 'x2sq'] },
        model: { hidden: [8], activation: 'linear' },
        optimizer: { type: 'sgd', lr: 10 },
        train,
      }),
    )
    await ok('session.create', spec())
    await ok('session.start', { sessionId: 's2' })
    await ok('session.start', { sessionId: 's1' })
    await until(() => of('session.state', 's1').some((s) => s.status === 'paused'), 's1 to pause on a non-finite step')
    await until(() => sessionOf('s2').step > 50, 's2 past step 50')
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
