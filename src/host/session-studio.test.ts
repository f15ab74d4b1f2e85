// Training controls through the engine host and the session: stop conditions, alarms, pacing,
// live updates of every setting, and exact resume with a schedule and early stopping active.
import { afterEach, describe, expect, it } from 'vitest'
import { parseEvent, SessionSpec, type RequestPayload } from '../shared/protocol'
import { prepareData } from './data-source'
import { gradNorms } from './metrics'
import { adamSpec, checkpointTensors, cleanupAfterEach, make as makeRuns, tempDir } from './runs/test-helpers'
import { TrainingSession, type SessionState } from './session'
import { planLoss } from './setup'
import { spec, testHost } from './test-helpers'
import { turns, until } from './test-wait'
import { Trainer } from './trainer'
import { VANISHING_STREAK } from './train-guards'

let current: ReturnType<typeof testHost> | null = null
function make() {
  current = testHost()
  return current
}
afterEach(() => {
  current?.host.dispose()
  current = null
})
cleanupAfterEach()

type Train = NonNullable<RequestPayload<'session.create'>['train']>
const train = (over: Partial<Train>): Train => ({ batchSize: 16, evalEvery: 50, seed: 1, ...over })
const stop = (over: object) => ({ maxEpochs: null, maxSteps: null, targetLoss: null, earlyStopping: null, ...over })

describe('stop conditions', () => {
  it('maxSteps pauses a free run at exactly that step, ends a session.step early, and holds until raised', async () => {
    const { ok, of } = make()
    await ok('session.create', spec({ train: train({ stop: stop({ maxSteps: 120 }) }) }))
    const done = await ok('session.step', { sessionId: 's1', steps: 500 })
    expect(done).toMatchObject({ status: 'paused', step: 120, message: 'stopped: reached 120 steps (maxSteps)' })
    await ok('session.start', { sessionId: 's1' })
    await until(() => of('session.state', 's1').at(-1)!.status !== 'running', 'the start to settle')
    await turns(20) // and nothing more happens
    expect(of('session.state', 's1').at(-1)).toMatchObject({
      status: 'paused',
      step: 120,
      message: 'stopped: reached 120 steps (maxSteps)',
    })
    await ok('session.update', { sessionId: 's1', stop: stop({ maxSteps: 130 }) })
    expect(await ok('session.step', { sessionId: 's1', steps: 500 })).toMatchObject({
      step: 130,
      message: 'stopped: reached 130 steps (maxSteps)',
    })
    expect(of('train.metrics', 's1').flatMap((b) => b.steps)).toEqual(Array.from({ length: 130 }, (_, i) => i + 1))
  })

  it('maxEpochs stops when that many epochs are complete', async () => {
    const { ok } = make()
    // xor n 200, testRatio 0.3: 140 training rows in batches of 16 → 9 batches an epoch.
    await ok('session.create', spec({ train: train({ stop: stop({ maxEpochs: 3 }) }) }))
    expect(await ok('session.step', { sessionId: 's1', steps: 1000 })).toMatchObject({
      step: 27,
      epoch: 3,
      message: 'stopped: reached 3 epochs (maxEpochs) at step 27',
    })
  })

  it('targetLoss stops at the first evaluation at or under it (test loss)', async () => {
    const { ok, of } = make()
    await ok(
      'session.create',
      spec({
        optimizer: { type: 'adam', lr: 0.05 },
        data: { generator: 'gauss', n: 300, seed: 2 },
        train: train({ evalEvery: 10, stop: stop({ targetLoss: 0.2 }) }),
      }),
    )
    const s = await ok('session.step', { sessionId: 's1', steps: 5000 })
    const evals = of('train.metrics', 's1').flatMap((b) => b.evals)
    const last = evals.at(-1)!
    expect(last.step).toBe(s.step)
    expect(last.testLoss).toBeLessThanOrEqual(0.2)
    expect(evals.slice(0, -1).every((e) => e.testLoss > 0.2)).toBe(true)
    expect(s.message).toBe(`stopped: test loss ${last.testLoss.toFixed(4)} reached the target 0.2 at step ${s.step}`)
  })

  it('without a test split, targetLoss watches the train loss', async () => {
    const { ok } = make()
    await ok(
      'session.create',
      spec({ data: { generator: 'xor', n: 100, testRatio: 0 }, train: train({ evalEvery: 5, stop: stop({ targetLoss: 100 }) }) }),
    )
    const s = await ok('session.step', { sessionId: 's1', steps: 100 })
    // Met at the step-0 evaluation already: no update is taken.
    expect(s).toMatchObject({ step: 0, status: 'paused' })
    expect(s.message).toMatch(/^stopped: train loss \d\.\d{4} reached the target 100 at step 0$/)
  })

  it('early stopping: no improvement beyond minDelta for `patience` evaluations', async () => {
    const { ok } = make()
    await ok('session.create', spec({ train: train({ evalEvery: 10, stop: stop({ earlyStopping: { patience: 3, minDelta: 10 } }) }) }))
    const s = await ok('session.step', { sessionId: 's1', steps: 1000 })
    expect(s.step).toBe(30)
    expect(s.message).toMatch(/^stopped: early stopping — test loss has not improved for 3 evaluations \(best \d\.\d{4} at step 0\)$/)
  })
})

describe('alarms', () => {
  it('exploding gradients (SGD lr 10, relu, spiral) send train.alarm and pause with the message', async () => {
    const { ok, of, events } = make()
    await ok(
      'session.create',
      spec({
        model: { hidden: [16, 16, 16], activation: 'relu' },
        data: { generator: 'spiral', n: 500, noise: 0.1 },
        optimizer: { type: 'sgd', lr: 10 },
        train: train({ batchSize: 32 }),
      }),
    )
    const s = await ok('session.step', { sessionId: 's1', steps: 1000 })
    const alarms = of('train.alarm', 's1')
    expect(alarms).toHaveLength(1)
    const a = alarms[0]
    expect(a).toMatchObject({ kind: 'exploding', step: s.step + 1, paused: true })
    expect(a.parameter).toMatch(new RegExp(`^${a.layer}\\.(weight|bias)$`))
    expect(s).toMatchObject({ status: 'paused', message: a.message })
    expect(a.message).toMatch(
      new RegExp(`^step ${s.step + 1}: exploding gradients — layers\\.\\d gradient norm \\S+ exceeds 1e\\+03; training paused\\.`),
    )
    for (const e of events) expect(parseEvent(e.msg).ok).toBe(true)
    // The alarm goes out after the metrics of the steps before it.
    const order = events.map((e) => e.msg.event)
    expect(order.lastIndexOf('train.metrics')).toBeLessThan(order.indexOf('train.alarm'))
  })

  it('vanishing gradients fire once after a sustained run of them, and pause', async () => {
    const base = spec({ model: { hidden: [8, 8, 8, 8, 8, 8], activation: 'sigmoid' }, optimizer: { type: 'sgd', lr: 0.01 } })
    // A threshold between the first layer's and the output layer's gradient norms of this run.
    const parsed = SessionSpec.parse(base)
    const d = prepareData(parsed.data, null)
    const twin = new Trainer(d, planLoss('auto', d.train.task, d.train.nClasses, 'xor'), parsed)
    let firstMax = 0
    let lastMin = Infinity
    for (let i = 0; i < 3 * VANISHING_STREAK; i++) {
      twin.trainStep(false)
      const n = gradNorms(twin.model)
      firstMax = Math.max(firstMax, n[0].layer)
      lastMin = Math.min(lastMin, n.at(-1)!.layer)
    }
    expect(firstMax * 10).toBeLessThan(lastMin)
    const threshold = Math.sqrt(firstMax * lastMin)
    const { ok, of } = make()
    await ok('session.create', { ...base, train: train({ alarms: { explodingGradNorm: 1e3, vanishingGradNorm: threshold, pause: true } }) })
    const s = await ok('session.step', { sessionId: 's1', steps: 100 })
    expect(s.step).toBe(VANISHING_STREAK)
    const [a] = of('train.alarm', 's1')
    expect(a).toMatchObject({ kind: 'vanishing', step: VANISHING_STREAK, layer: 'layers.0', paused: true })
    expect(s.message).toBe(a.message)
    // Once per run: continuing does not raise it again; a reset re-arms it.
    expect(await ok('session.step', { sessionId: 's1', steps: 20 })).toMatchObject({ step: VANISHING_STREAK + 20 })
    expect(of('train.alarm', 's1')).toHaveLength(1)
    await ok('session.reset', { sessionId: 's1' })
    await ok('session.step', { sessionId: 's1', steps: 100 })
    expect(of('train.alarm', 's1')).toHaveLength(2)
  })

  it('with alarms.pause false the alarm is sent and training goes on', async () => {
    const { ok, of } = make()
    await ok('session.create', spec({ train: train({ alarms: { explodingGradNorm: 1e-9, vanishingGradNorm: 1e-7, pause: false } }) }))
    expect(await ok('session.step', { sessionId: 's1', steps: 40 })).toMatchObject({ step: 40, status: 'paused' })
    expect(of('train.alarm', 's1')).toEqual([expect.objectContaining({ kind: 'exploding', step: 1, paused: false })])
  })
})

/** A session on a clock the test moves by hand. */
function pacedSession(rate: number | null) {
  let clock = 0
  const states: SessionState[] = []
  const s = new TrainingSession(
    's1',
    SessionSpec.parse(spec({ train: train({ maxStepsPerSecond: rate }) })),
    { name: 'cpu', reason: 'test' },
    {
      emitState: (st) => states.push(st),
      emitMetrics: () => {},
      emitAlarm: () => {},
      now: () => clock,
      files: null,
    },
  )
  return { s, states, tick: (t: number) => ((clock = t), s.runSlice(t + 15)) }
}

describe('speed limit', () => {
  it('maxStepsPerSecond spaces steps evenly on the session clock', () => {
    const { s, tick } = pacedSession(10)
    s.start()
    for (let t = 0; t <= 2000; t += 5) tick(t)
    expect(s.step).toBe(21) // at 0, 100, …, 2000 ms
    expect(s.nextStepAt()).toBe(2100)
    expect(s.wakeAt(50)).toBeLessThanOrEqual(2100)
    // A new rate applies from now: a step at once (2000 ms), then every 10 ms up to 3000.
    s.update({ sessionId: 's1', maxStepsPerSecond: 100 })
    for (let t = 2005; t <= 3000; t += 5) tick(t)
    expect(s.step).toBe(21 + 101)
    // No limit: every step is due at once (a session.step run of 5, as the clock stands still).
    s.update({ sessionId: 's1', maxStepsPerSecond: null })
    expect(s.nextStepAt()).toBe(-Infinity)
    void s.runSteps(5)
    tick(3000)
    expect(s.step).toBe(122 + 5)
  })

  it('the host sleeps until a paced session is due; other sessions run at full speed meanwhile', async () => {
    const { ok, of } = make()
    await ok('session.create', spec({ train: train({ maxStepsPerSecond: 20 }) }))
    await ok('session.create', spec())
    const live = (id: string) => current!.host['sessions'].get(id)!.step
    const t0 = performance.now()
    await ok('session.start', { sessionId: 's1' })
    await ok('session.start', { sessionId: 's2' })
    await until(() => live('s1') >= 2 && live('s2') > 4 * live('s1'), "the paced session's second step, the other well ahead")
    const slow = await ok('session.pause', { sessionId: 's1' })
    const fast = await ok('session.pause', { sessionId: 's2' })
    const elapsed = (performance.now() - t0) / 1000
    expect(slow.step).toBeGreaterThanOrEqual(2)
    // The pace is a ceiling however long the wait took: one step at start, then one per 1/20 s.
    expect(slow.step).toBeLessThanOrEqual(Math.floor(elapsed * 20) + 1)
    expect(fast.step).toBeGreaterThan(4 * slow.step)
    // Metrics still flow for the paced session.
    expect(of('train.metrics', 's1').flatMap((b) => b.steps)).toEqual(Array.from({ length: slow.step }, (_, i) => i + 1))
  })
})

describe('live updates', () => {
  it('every training setting changes through session.update and takes effect', async () => {
    const { ok, fail, of } = make()
    await ok('session.create', spec({ optimizer: { type: 'sgd', lr: 0.1, momentum: 0.5 } }))
    await ok('session.create', spec({ optimizer: { type: 'adam', lr: 0.01 } }))
    await ok('session.step', { sessionId: 's1', steps: 5 })
    const sched = { type: 'step' as const, stepSize: 2, gamma: 0.5, warmupSteps: 0 }
    await ok('session.update', {
      sessionId: 's1',
      schedule: sched,
      l1: 0.001,
      l2: 0.01,
      clipNorm: 1,
      alarms: { explodingGradNorm: 50, vanishingGradNorm: 1e-9, pause: false },
      stop: stop({ maxSteps: 9 }),
      optimizer: { nesterov: true },
    })
    await ok('session.update', { sessionId: 's2', optimizer: { eps: 1e-4 } })
    const session = current!.host['sessions'].get('s1')!
    expect(session.spec.train).toMatchObject({
      schedule: sched,
      l1: 0.001,
      l2: 0.01,
      clipNorm: 1,
      alarms: { explodingGradNorm: 50, pause: false },
      stop: { maxSteps: 9 },
    })
    expect(session.trainer.optimizer.options).toMatchObject({ nesterov: true })
    expect(current!.host['sessions'].get('s2')!.trainer.optimizer.options).toMatchObject({ eps: 1e-4 })
    const s = await ok('session.step', { sessionId: 's1', steps: 100 })
    expect(s).toMatchObject({ step: 9, message: 'stopped: reached 9 steps (maxSteps)' })
    // The schedule counts from step 0: updates 6..9 ran at 0.1·0.5^⌊t/2⌋ for t = 5..8.
    expect(of('train.metrics', 's1').at(-1)!.lr).toBeCloseTo(0.1 * 0.5 ** 4, 12)
    await ok('session.update', { sessionId: 's1', clipNorm: null, maxStepsPerSecond: 5, stop: stop({}) })
    expect(session.spec.train).toMatchObject({ clipNorm: null, maxStepsPerSecond: 5 })
    expect((await fail('session.update', { sessionId: 's2', optimizer: { nesterov: true } })).message).toMatch(
      /nesterov does not apply to adam/,
    )
    expect((await fail('session.update', { sessionId: 's1', schedule: { type: 'cosine', periodSteps: 0 } })).code).toBe('invalid_payload')
  })
})

describe('resume', () => {
  it('is exact with a warmup + cosine schedule, L2, clipping and early stopping, set at creation and changed mid-run', async () => {
    const base = () => {
      const s = adamSpec()
      return {
        ...s,
        train: {
          ...s.train!,
          schedule: { type: 'cosine' as const, periodSteps: 300, minLr: 0.001, warmupSteps: 20 },
          l2: 0.01,
          clipNorm: 0.5,
          stop: stop({ earlyStopping: { patience: 50, minDelta: 0 } }),
        },
      }
    }
    const change = { schedule: { type: 'step' as const, stepSize: 40, gamma: 0.7, warmupSteps: 0 }, l1: 0.001 }
    const dirA = tempDir()
    const a = makeRuns(dirA)
    const ra = await a.ok('session.create', base())
    await a.ok('session.step', { sessionId: 's1', steps: 150 })
    await a.ok('session.update', { sessionId: 's1', ...change })
    await a.ok('session.step', { sessionId: 's1', steps: 150 })
    await a.ok('session.pause', { sessionId: 's1' })

    const dirB = tempDir()
    const b = makeRuns(dirB)
    const rb = await b.ok('session.create', base())
    await b.ok('session.step', { sessionId: 's1', steps: 150 })
    await b.ok('session.update', { sessionId: 's1', ...change })
    await b.ok('session.step', { sessionId: 's1', steps: 50 })
    b.host.dispose()
    const b2 = makeRuns(dirB)
    const opened = await b2.ok('runs.open', { runId: rb.runId! })
    expect(opened.step).toBe(200)
    expect((await b2.ok('session.info', { sessionId: opened.sessionId })).spec.train).toMatchObject(change)
    await b2.ok('session.step', { sessionId: opened.sessionId, steps: 100 })
    await b2.ok('session.pause', { sessionId: opened.sessionId })

    const ta = checkpointTensors(dirA, ra.runId!, 300)
    const tb = checkpointTensors(dirB, rb.runId!, 300)
    expect(Object.keys(tb).sort()).toEqual(Object.keys(ta).sort())
    for (const k of Object.keys(ta)) expect(tb[k].data, k).toEqual(ta[k].data)
    const ma = await a.ok('runs.metrics', { runId: ra.runId!, maxPoints: 20_000 })
    const mb = await b2.ok('runs.metrics', { runId: rb.runId!, maxPoints: 20_000 })
    expect(mb.trainLoss).toEqual(ma.trainLoss)
    expect(mb.evals).toEqual(ma.evals)
  })
})
