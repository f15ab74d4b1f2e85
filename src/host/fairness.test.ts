// Fairness of the training loop: a big step or evaluation is split into chunks of rows that run
// one per resume, so a cheap request is answered between them, and the split changes nothing but
// float rounding. Splits are forced on small models with a tiny chunkFlops, and the host runs one
// piece per tick with sliceMs 0, so every test counts ticks and never measures time.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { SessionSpec, type RequestPayload } from '../shared/protocol'
import { prepareData } from './data-source'
import { MAX_WAKE_MS } from './host'
import type { TrainingSession } from './session'
import { planLoss, type SessionSpecOut } from './setup'
import { spec as specInput, testHost } from './test-helpers'
import { Trainer } from './trainer'
import { drain, chunkFlopsForRows } from './work-budget'

/** 2-8-8-2: the biggest piece of a step is 4·64 FLOPs a row, so chunkFlops 4·256 makes 4-row step chunks (5-row evaluation chunks: 192 forward FLOPs a row). */
const SIZES = [2, 8, 8, 2]
const CHUNK_FLOPS = chunkFlopsForRows(SIZES, 4)

function makeSpec(over: Partial<RequestPayload<'session.create'>> = {}): SessionSpecOut {
  return SessionSpec.parse(specInput({ model: { hidden: [8, 8], activation: 'relu' }, optimizer: { type: 'adam', lr: 0.01 }, ...over }))
}

function trainer(chunkFlops?: number, s: SessionSpecOut = makeSpec()): Trainer {
  const d = prepareData(s.data, null)
  return new Trainer(d, planLoss(s.model.loss, d.train.task, d.train.nClasses, 'test data'), s, undefined, { chunkFlops })
}

const weights = (t: Trainer) => t.model.parameters().flatMap((p) => Array.from(p.dataSync()))
const grads = (t: Trainer) => t.model.parameters().flatMap((p) => Array.from(p.grad?.dataSync() ?? []))

function expectClose(a: number[], b: number[], tol = 1e-5): void {
  expect(a.length).toBe(b.length)
  const worst = a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0)
  expect(worst).toBeLessThan(tol)
}

describe('a split training step', () => {
  it('equals the unsplit step: losses, weights, gradients and layer statistics, over several steps', () => {
    const whole = trainer()
    const split = trainer(CHUNK_FLOPS)
    expect(whole.stepChunkRows).toBe(16)
    expect(split.stepChunkRows).toBe(4)
    for (let i = 0; i < 6; i++) {
      const a = whole.trainStep(true)
      let pieces = 0
      const task = split.stepTask(true)
      let r = task.next()
      for (; !r.done; r = task.next()) pieces++
      // A batch of 16 in chunks of 4, each in pieces: a layer of its forward (3 layers: 2 slice points),
      // an op's rule of its backward, and a slice point after the chunk.
      expect(pieces).toBeGreaterThan(4 * 3)
      const b = r.value!
      if (!a.ok || !b.ok) throw new Error('a step was refused')
      expect(Math.abs(a.loss - b.loss)).toBeLessThan(1e-5)
      expect(b.stats!.map((s) => [s.deadFraction, s.saturatedFraction])).toEqual(a.stats!.map((s) => [s.deadFraction, s.saturatedFraction]))
      b.stats!.forEach((s, k) => expect(Math.abs(s.gradNorm - a.stats![k].gradNorm)).toBeLessThan(1e-5))
      expectClose(weights(split), weights(whole))
      expectClose(grads(split), grads(whole))
    }
    expect(split.stepCount).toBe(6)
  })

  it('shows the last completed step between chunks, and an abandoned step puts its batch back', () => {
    const ref = trainer()
    const split = trainer(CHUNK_FLOPS)
    ref.trainStep(false)
    drain(split.stepTask(false))
    const before = { w: weights(split), g: grads(split), state: split.captureState() }
    // At every slice point of a whole step: the last completed step's weights and gradients.
    const pieces = split.stepTask(false)
    let n = 0
    for (let r = pieces.next(); !r.done; r = pieces.next(), n++) {
      expect(split.stepPending).toBe(true)
      expect(split.stepCount).toBe(1)
      expect(weights(split)).toEqual(before.w)
      expect(grads(split)).toEqual(before.g)
    }
    expect(split.stepCount).toBe(2)
    // Half-way through the next step, a live batch-size change drops it.
    const mid = { w: weights(split), state: split.captureState() }
    const task = split.stepTask(false)
    for (let i = 0; i < n / 2; i++) task.next()
    expect(split.stepPending).toBe(true)
    // A checkpoint now saves the batch order from before this step's batch.
    expect(split.captureState().sampler).toEqual(mid.state.sampler)
    split.setBatchSize(16) // what a live batch-size change does mid-step: the partial step is dropped
    let r = task.next()
    while (!r.done) r = task.next()
    expect(r.value).toBeNull()
    expect(split.stepPending).toBe(false)
    expect(split.stepCount).toBe(2)
    expect(weights(split)).toEqual(mid.w)
  })

  it('evaluates in chunks to the same point as in one piece, one chunk per resume', () => {
    const whole = trainer()
    const split = trainer(CHUNK_FLOPS)
    for (let i = 0; i < 3; i++) {
      whole.trainStep(false)
      drain(split.stepTask(false))
    }
    const a = whole.evaluate()!
    const task = split.evaluateTask()
    let pieces = 0
    let r = task.next()
    for (; !r.done; r = task.next()) pieces++
    expect(pieces).toBe(Math.ceil(60 / 5) + Math.ceil(140 / 5)) // 60 test rows, 140 train rows, 5 a chunk
    const b = r.value!
    expect(b.step).toBe(3)
    expect(b.testAccuracy).toBe(a.testAccuracy)
    expect(b.trainAccuracy).toBe(a.trainAccuracy)
    expect(Math.abs(b.testLoss - a.testLoss)).toBeLessThan(1e-5)
    expect(Math.abs(b.trainLoss - a.trainLoss)).toBeLessThan(1e-5)
  })
})

type Host = ReturnType<typeof testHost>
let current: Host | null = null
afterEach(() => {
  current?.host.dispose()
  current = null
  vi.restoreAllMocks()
  vi.useRealTimers()
})

/** A host that runs one piece of work per tick (sliceMs 0) and splits this file's model into small chunks. */
function splitHost(): Host & { session(id: string): TrainingSession } {
  current = testHost({ sliceMs: 0, chunkFlops: CHUNK_FLOPS, flushMs: 0 })
  const sessions = (current.host as unknown as { sessions: Map<string, TrainingSession> }).sessions
  return { ...current, session: (id: string) => sessions.get(id)! }
}

/** Let the host's loop take one turn (its tick is queued before this immediate). */
const turn = (): Promise<void> => new Promise((r) => setImmediate(r))

/** Turns of the loop until `cond` holds; a loop that never gets there fails with what it waited for. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let k = 0; k < 20_000; k++) {
    if (cond()) return
    await turn()
  }
  throw new Error(`still waiting after 20,000 turns of the loop for ${what}`)
}

const trainSpec = (over: object = {}) => ({
  model: { hidden: [8, 8], activation: 'relu' as const },
  optimizer: { type: 'adam' as const, lr: 0.01 },
  train: { batchSize: 16, evalEvery: 1, seed: 1, ...over },
})

describe('the host between chunks', () => {
  it('answers cheap requests while a step is in progress, before that step completes', async () => {
    const h = splitHost()
    const { sessionId } = (await h.ok('session.create', specInput(trainSpec()))).state
    const s = h.session(sessionId)
    await h.ok('session.start', { sessionId })
    const seen: { step: number; pending: boolean }[] = []
    while (h.of('train.metrics', sessionId).every((b) => !b.steps.includes(1))) {
      await turn()
      const pending = s.trainer.stepPending
      await h.ok('host.hello', {})
      const info = await h.ok('session.info', { sessionId })
      seen.push({ step: info.state.step, pending: pending && s.trainer.stepPending })
    }
    // The first step is 4 chunks: the replies came between them, with the step count not yet advanced.
    expect(seen.filter((x) => x.pending && x.step === 0).length).toBeGreaterThanOrEqual(3)
    // The step-0 evaluation was split too (5 test + 12 train chunks) before the first step began.
    expect(seen.findIndex((x) => x.pending)).toBeGreaterThanOrEqual(16)
  })

  it('a pause mid-step takes effect at once and the run resumes the same step: losses as an unsplit run', async () => {
    const h = splitHost()
    const { sessionId } = (await h.ok('session.create', specInput(trainSpec({ evalEvery: 1000 })))).state
    const s = h.session(sessionId)
    const done = h.ok('session.step', { sessionId, steps: 3 })
    await until(() => s.step === 1 && s.trainer.stepPending, 'step 2 to be in progress')
    const paused = await h.ok('session.pause', { sessionId })
    expect(paused).toMatchObject({ status: 'paused', step: 1 })
    expect((await done).step).toBe(1)
    for (let i = 0; i < 5; i++) await turn()
    expect(s.step).toBe(1) // paused: the step in progress waits
    const end = await h.ok('session.step', { sessionId, steps: 2 })
    expect(end).toMatchObject({ status: 'paused', step: 3 })
    const losses = h.of('train.metrics', sessionId).flatMap((b) => b.trainLoss)
    const ref = trainer(undefined, makeSpec(trainSpec({ evalEvery: 1000 })))
    const expected = [0, 1, 2].map(() => (ref.trainStep(false) as { loss: number }).loss)
    expectClose(losses, expected)
    expectClose(weights(s.trainer), weights(ref))
  })

  it('a pause during the evaluation after step k reports step k with its metrics already sent', async () => {
    const h = splitHost()
    const { sessionId } = (await h.ok('session.create', specInput(trainSpec({ evalEvery: 2 })))).state
    const s = h.session(sessionId)
    const inUnit = () => (s as unknown as { loop: { work: unknown } }).loop.work !== null
    await h.ok('session.start', { sessionId })
    // Step 2 is done (no step pending) but its unit goes on: its evaluation runs in chunks.
    await until(() => s.step === 2 && !s.trainer.stepPending && inUnit(), 'the evaluation after step 2 to be in progress')
    const paused = await h.ok('session.pause', { sessionId })
    expect(paused).toMatchObject({ status: 'paused', step: 2 })
    // The client heard about step 2 before it heard that the run paused there.
    expect(
      h
        .of('train.metrics', sessionId)
        .flatMap((b) => b.steps)
        .at(-1),
    ).toBe(2)
  })

  it('a reset mid-step drops it: the run starts over with the same first batch', async () => {
    const h = splitHost()
    const { sessionId } = (await h.ok('session.create', specInput(trainSpec({ evalEvery: 1000 })))).state
    const s = h.session(sessionId)
    void h.ok('session.step', { sessionId, steps: 5 })
    await until(() => s.step === 1 && s.trainer.stepPending, 'step 2 to be in progress')
    await h.ok('session.reset', { sessionId })
    expect(s.trainer.stepPending).toBe(false)
    const end = await h.ok('session.step', { sessionId, steps: 1 })
    expect(end.step).toBe(1)
    const ref = trainer(undefined, makeSpec(trainSpec({ evalEvery: 1000 })))
    ref.trainStep(false)
    expectClose(weights(s.trainer), weights(ref))
  })
})

describe('pacing', () => {
  it('a tiny maxStepsPerSecond sleeps in bounded timers: no timer past setTimeout’s limit, no busy wake-ups', async () => {
    const h = splitHost()
    const { sessionId } = (await h.ok('session.create', specInput(trainSpec({ evalEvery: 1000, maxStepsPerSecond: 1e-7 })))).state
    await h.ok('session.start', { sessionId })
    await until(() => h.session(sessionId).step >= 1, 'the first step')
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const spy = vi.spyOn(globalThis, 'setTimeout')
    await h.ok('host.hello', {}) // every request re-plans the loop's sleep
    const delays = () => spy.mock.calls.map((c) => c[1] as number)
    expect(delays()).toEqual([MAX_WAKE_MS])
    // Each wake-up looks again and sleeps another bounded stretch: one timer per wake, no step.
    for (let k = 0; k < 3; k++) vi.advanceTimersByTime(MAX_WAKE_MS)
    expect(delays()).toEqual([MAX_WAKE_MS, MAX_WAKE_MS, MAX_WAKE_MS, MAX_WAKE_MS])
    expect(vi.getTimerCount()).toBe(1)
    expect(h.session(sessionId).step).toBe(1)
  })
})
