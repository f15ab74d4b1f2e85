// A full disk, once: saving fails with a clear message, training goes on, and once space is
// back (here: the injected failure is lifted and the retry backoff has passed) new sessions are
// saved again, the store's message clears and the session that was training resumes recording
// at its next checkpoint with a consistent log. Real files; only the failure is injected.
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { spec, testHost } from '../test-helpers'
import { nodeFs, type FsOps } from './atomic'
import { importWeights } from './import-weights'
import { cleanupAfterEach, tempDir } from './test-helpers'

cleanupAfterEach()

/** node:fs whose writes fail with `code` while `down.code` is set. */
function faulty(): { ops: FsOps; down: { code: string | null; mkdirWorks?: boolean } } {
  // mkdirWorks: a full disk often still has inodes, so folders appear while files cannot be written.
  const down: { code: string | null; mkdirWorks?: boolean } = { code: null }
  const fail = () => {
    if (down.code) throw Object.assign(new Error(`${down.code}: no space left on device, write`), { code: down.code })
  }
  const ops: FsOps = {
    ...nodeFs,
    openSync: (p, flags, mode) => {
      if (flags !== 'r') fail()
      return nodeFs.openSync(p, flags, mode)
    },
    writeSync: (fd, data, off, len) => {
      fail()
      return nodeFs.writeSync(fd, data, off, len)
    },
    mkdirSync: (p, o) => {
      if (!down.mkdirWorks) fail()
      nodeFs.mkdirSync(p, o)
    },
  }
  return { ops, down }
}

describe('disk full once is not broken forever', () => {
  it('new runs and the running one are saved again once writes work, and the message clears', async () => {
    const dir = tempDir()
    const { ops, down } = faulty()
    let clock = 0
    const h = testHost({ dataDir: dir, checkpoints: { every: 50 }, runStore: { ops, retryMs: 5_000, now: () => clock } })
    try {
      const a = await h.ok('session.create', spec())
      const s1 = a.state.sessionId
      await h.ok('session.step', { sessionId: s1, steps: 60 })

      down.code = 'ENOSPC'
      await h.ok('session.step', { sessionId: s1, steps: 60 }) // the checkpoint at 100 fails
      const failed = (await h.ok('runs.list', {})).storage
      expect(failed.writable).toBe(false)
      expect(failed.message).toMatch(/the disk is full \(ENOSPC\)/)
      expect(failed.message).not.toMatch(/ENOSPC: ENOSPC/)
      const before = readdirSync(dir).sort()
      down.mkdirWorks = true
      const unsaved = await h.ok('session.create', spec())
      down.mkdirWorks = false
      expect(unsaved.runId).toBeNull()
      // No half-made run folder (one without its run.json) is left behind.
      expect(readdirSync(dir).sort()).toEqual(before)
      expect(unsaved.state.message).toMatch(/the disk is full/)

      // Space is back, but the backoff has not passed: the running session does not hammer the disk.
      down.code = null
      await h.ok('session.step', { sessionId: s1, steps: 50 }) // a checkpoint at 150, not tried
      expect((await h.ok('runs.list', {})).storage.writable).toBe(false)
      clock += 5_000
      await h.ok('session.step', { sessionId: s1, steps: 50 }) // the checkpoint at 200: recording resumes
      expect((await h.ok('runs.list', {})).storage).toEqual({ dir, writable: true })
      const state = await h.ok('session.info', { sessionId: s1 })
      expect(state.state.message).toBeUndefined()
      // Each session.step ends with a checkpoint: 60 saved; 100 failed; 120, 150, 170 not tried (backoff); 200, 220 saved.
      const saved = readdirSync(join(dir, a.runId!, 'checkpoints')).filter((n) => n.endsWith('.json'))
      expect(saved.map((n) => Number(/\d+/.exec(n)![0])).sort((x, y) => x - y)).toEqual([0, 50, 60, 200, 220])
      await h.ok('session.step', { sessionId: s1, steps: 30 })
      // The log: steps up to the failure, then from the resumed checkpoint on, in order.
      const m = await h.ok('runs.metrics', { runId: a.runId!, maxPoints: 20_000 })
      expect(m.steps.every((s, i) => i === 0 || s > m.steps[i - 1]!)).toBe(true)
      expect(m.steps.slice(0, 60)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1))
      expect(m.steps.at(-1)).toBe(250)
      const b = await h.ok('session.create', spec())
      expect(b.runId).toMatch(/^r/)
      expect(b.state.message).toBeUndefined()
    } finally {
      h.host.dispose()
    }
  })

  it('a read-only data directory is named as such, not as a missing file', async () => {
    const dir = tempDir()
    const { ops, down } = faulty()
    down.code = 'EROFS'
    const h = testHost({ dataDir: join(dir, 'runs'), runStore: { ops } })
    try {
      const info = await h.ok('session.create', spec())
      expect(info.runId).toBeNull()
      expect(info.state.message).toMatch(/the data directory is read-only \(EROFS\)/)
      expect(info.state.message).not.toMatch(/ENOENT|EROFS: EROFS/)
    } finally {
      h.host.dispose()
    }
  })
})

describe('session.importWeights', () => {
  it('says that input which is not base64 is not base64 (not "the file is 0 bytes")', () => {
    const session = {} as Parameters<typeof importWeights>[0]
    expect(() => importWeights(session, '%%% not base64 %%%')).toThrow(/safetensorsBase64 is not base64: character 1 is "%"/)
    expect(() => importWeights(session, 'AAAA=AAA')).toThrow(/not base64/)
    expect(() => importWeights(session, '')).toThrow(/is empty/)
  })
})
