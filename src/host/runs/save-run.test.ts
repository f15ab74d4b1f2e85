// Unrecorded sessions (compare-live variants) on the host: nothing reaches the data directory until
// runs.save, which writes the whole history since step 0 under the given name and tags; a session
// disposed unsaved leaves nothing behind; a reset starts the kept history again.
import { readdirSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { MetricsBatch } from '../metrics'
import { spec, testHost } from '../test-helpers'
import { cleanupAfterEach, make, metricsFlush, tempDir } from './test-helpers'
import { ScratchLog, batchBytes } from './scratch-log'

cleanupAfterEach()

/** The run folders in a data directory (the trash and the index files are not runs). */
const runDirs = (dir: string) => readdirSync(dir).filter((f) => /^r[0-9a-z-]+$/.test(f))

describe('runs.save: a session kept in memory becomes a run on request', () => {
  it('record: false writes nothing; runs.save then keeps every step since 0, named and tagged, and recording goes on', async () => {
    const dir = tempDir()
    const { ok } = make(dir)
    const info = await ok('session.create', { ...spec(), record: false })
    const sessionId = info.state.sessionId
    expect(info.runId).toBeNull()
    await ok('session.step', { sessionId, steps: 120 })
    expect((await ok('runs.list', {})).runs).toEqual([])
    expect(runDirs(dir)).toEqual([])

    const saved = await ok('runs.save', { sessionId, name: 'xor · BatchNorm', tags: ['compare 1', 'compare 1'] })
    expect(saved.notice).toBeUndefined()
    expect(saved.run).toMatchObject({
      name: 'xor · BatchNorm',
      tags: ['compare 1'],
      status: 'live',
      sessionId,
      steps: 120,
      checkpoints: [120],
    })
    const m = await ok('runs.metrics', { runId: saved.run.runId, maxPoints: 20_000 })
    expect(m.steps).toEqual(Array.from({ length: 120 }, (_, i) => i + 1))
    expect(m.evals.map((e) => e.step)).toEqual([0, 50, 100])

    // From now on it records like any session.
    await ok('session.step', { sessionId, steps: 30 })
    const later = await ok('runs.metrics', { runId: saved.run.runId, maxPoints: 20_000 })
    expect(later.steps.at(-1)).toBe(150)
    expect((await ok('session.info', { sessionId })).runId).toBe(saved.run.runId)
  })

  it('an unsaved session disposed leaves no run; saving twice or without a data directory is refused with the reason', async () => {
    const dir = tempDir()
    const { ok, fail } = make(dir)
    const a = await ok('session.create', { ...spec(), record: false })
    await ok('session.step', { sessionId: a.state.sessionId, steps: 10 })
    await ok('session.dispose', { sessionId: a.state.sessionId })
    expect(runDirs(dir)).toEqual([])
    expect((await ok('runs.list', { includeDeleted: true })).runs).toEqual([])

    const recorded = await ok('session.create', spec())
    const twice = await fail('runs.save', { sessionId: recorded.state.sessionId, name: 'again' })
    expect(twice.code).toBe('invalid_payload')
    expect(twice.message).toContain(`already recorded as run ${recorded.runId}`)

    const noDir = testHost()
    const s = await noDir.ok('session.create', { ...spec(), record: false })
    const refused = await noDir.fail('runs.save', { sessionId: s.state.sessionId, name: 'x' })
    noDir.host.dispose()
    expect(refused).toMatchObject({ code: 'not_found', message: expect.stringContaining('no data directory') })
  })

  it('a reset forgets the kept history: the saved run starts at the reset', async () => {
    const dir = tempDir()
    const { ok } = make(dir)
    const { state } = await ok('session.create', { ...spec(), record: false })
    await ok('session.step', { sessionId: state.sessionId, steps: 40 })
    await ok('session.reset', { sessionId: state.sessionId })
    await ok('session.step', { sessionId: state.sessionId, steps: 7 })
    const { run } = await ok('runs.save', { sessionId: state.sessionId, name: 'after reset' })
    const m = await ok('runs.metrics', { runId: run.runId, maxPoints: 20_000 })
    expect(m.steps).toEqual([1, 2, 3, 4, 5, 6, 7])
  })
})

describe('ScratchLog', () => {
  it('keeps batches in order and, past its limit, drops the oldest and says through which step', () => {
    const batches: MetricsBatch[] = [metricsFlush(1, 11), metricsFlush(11, 21), metricsFlush(21, 31)]
    const log = new ScratchLog(batchBytes(batches[0]!) * 2 + 1)
    for (const b of batches) log.appendMetrics(b)
    expect(log.batches.map((b) => b.steps[0])).toEqual([11, 21])
    expect(log.droppedThrough).toBe(10)
    expect(log.size).toBe(batchBytes(batches[1]!) + batchBytes(batches[2]!))
    log.clear()
    expect([log.batches.length, log.size, log.droppedThrough]).toEqual([0, 0, -1])
  })
})
