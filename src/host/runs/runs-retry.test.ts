// A write failure belongs to the run whose write failed: that run retries on its own schedule,
// another session's run goes on being saved as usual, and the store's status reports the problem
// until a write succeeds. Real files; only the failure is injected, for one run's folder.
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { spec, testHost } from '../test-helpers'
import { nodeFs, type FsOps } from './atomic'
import { cleanupAfterEach, tempDir } from './test-helpers'

cleanupAfterEach()

/** node:fs whose writes under a path containing `broken.id` fail with EIO; `tries` counts the attempts there. */
function brokenFor(): { ops: FsOps; broken: { id: string | null }; tries: () => number } {
  const broken: { id: string | null } = { id: null }
  const paths = new Map<number, string>()
  let tries = 0
  const hit = (p: string | undefined) => {
    const id = broken.id
    if (id === null || p === undefined || !p.includes(id)) return
    tries++
    throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' })
  }
  const ops: FsOps = {
    ...nodeFs,
    openSync: (p, flags, mode) => {
      if (flags !== 'r') hit(p)
      const fd = nodeFs.openSync(p, flags, mode)
      paths.set(fd, p)
      return fd
    },
    writeSync: (fd, data, off, len) => {
      hit(paths.get(fd))
      return nodeFs.writeSync(fd, data, off, len)
    },
    renameSync: (a, b) => {
      hit(b)
      nodeFs.renameSync(a, b)
    },
  }
  return { ops, broken, tries: () => tries }
}

const steps = (dir: string, runId: string) =>
  readdirSync(join(dir, runId, 'checkpoints'))
    .filter((n) => /^step-\d+\.json$/.test(n))
    .map((n) => Number(/\d+/.exec(n)![0]))
    .sort((x, y) => x - y)

describe('a failed write is retried per run', () => {
  it("one run's failure does not hold back another session's writes; it retries on its own backoff", async () => {
    const dir = tempDir()
    const { ops, broken, tries } = brokenFor()
    let clock = 0
    const h = testHost({ dataDir: dir, checkpoints: { every: 50 }, runStore: { ops, retryMs: 5_000, now: () => clock } })
    try {
      const a = await h.ok('session.create', spec())
      const b = await h.ok('session.create', spec())
      const [sa, sb] = [a.state.sessionId, b.state.sessionId]

      broken.id = a.runId!
      await h.ok('session.step', { sessionId: sa, steps: 60 }) // A's log append and checkpoints fail
      expect(h.of('session.state', sa).some((st) => /i\/o error, write \(EIO\)/.test(st.message ?? ''))).toBe(true)
      expect((await h.ok('runs.list', {})).storage).toMatchObject({ writable: false, message: expect.stringMatching(/EIO/) })

      // B is saved as usual (its checkpoints at 50 and 60), and that success clears the store's status.
      await h.ok('session.step', { sessionId: sb, steps: 60 })
      expect(steps(dir, b.runId!)).toEqual([0, 50, 60])
      expect(h.of('session.state', sb).some((st) => st.message !== undefined)).toBe(false)
      expect((await h.ok('runs.list', {})).storage).toEqual({ dir, writable: true })

      // A does not touch the disk again until its own retry is due, even once the disk works.
      broken.id = null
      const before = tries()
      broken.id = a.runId!
      await h.ok('session.step', { sessionId: sa, steps: 50 }) // a checkpoint at 110: not tried
      expect(tries()).toBe(before)
      broken.id = null
      clock += 5_000
      await h.ok('session.step', { sessionId: sa, steps: 40 }) // the checkpoint at 150: recording resumes
      expect(steps(dir, a.runId!)).toEqual([0, 150])
      expect((await h.ok('session.info', { sessionId: sa })).state.message).toBeUndefined()
      // Its log holds what was recorded since it resumed (the steps while it failed lived in memory only).
      await h.ok('session.step', { sessionId: sa, steps: 30 })
      const m = await h.ok('runs.metrics', { runId: a.runId!, maxPoints: 20_000 })
      expect(m.steps).toEqual(Array.from({ length: 30 }, (_, i) => 151 + i))
    } finally {
      h.host.dispose()
    }
  })

  it("a user's rename is tried at once, even while that run's own retry is not due", async () => {
    const dir = tempDir()
    const { ops, broken } = brokenFor()
    const h = testHost({ dataDir: dir, checkpoints: { every: 50 }, runStore: { ops, retryMs: 60_000, now: () => 0 } })
    try {
      const a = await h.ok('session.create', spec())
      broken.id = a.runId!
      await h.ok('session.step', { sessionId: a.state.sessionId, steps: 50 })
      expect((await h.ok('runs.list', {})).storage.writable).toBe(false)
      broken.id = null
      const renamed = await h.ok('runs.rename', { runId: a.runId!, name: 'kept' })
      expect(renamed.name).toBe('kept')
      expect((await h.ok('runs.list', {})).storage.writable).toBe(true)
    } finally {
      h.host.dispose()
    }
  })
})
