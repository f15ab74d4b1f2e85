// runs.list over thousands of runs: pages (cursor + limit, with the total) served from the
// store's index, so a page reads no run.json; and runs.changed pushed on every change (a new
// run, a rename, a delete, a restore) so nothing has to poll.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { okReply, parseReply, REQUESTS } from '../../shared/protocol'
import { spec, testHost } from '../test-helpers'
import { cleanupAfterEach, tempDir } from './test-helpers'

cleanupAfterEach()

/** `n` saved runs written straight to disk, as an earlier host would have left them. */
function fill(dir: string, n: number): string[] {
  const s = REQUESTS['session.create'].payload.parse(spec())
  const ids: string[] = []
  for (let i = 0; i < n; i++) {
    const createdAt = new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString()
    const runId = `r${(1_700_000_000_000 + i).toString(36)}-${i.toString(36).padStart(6, '0')}`
    mkdirSync(join(dir, runId, 'checkpoints'), { recursive: true })
    const rec = {
      format: 1,
      runId,
      name: `run ${i}`,
      tags: [],
      createdAt,
      updatedAt: createdAt,
      status: 'saved',
      spec: s,
      backend: { name: 'cpu', reason: 'requested' },
      appVersion: 'test',
      stats: { steps: i, lastTrainLoss: null, lastTestLoss: null, lastTestAccuracy: null },
    }
    writeFileSync(join(dir, runId, 'run.json'), JSON.stringify(rec))
    ids.push(runId)
  }
  return ids.reverse() // newest first
}

describe('runs.list pages from an index', () => {
  it('5,001 runs: pages of at most `limit`, each run once, the total, and no run.json read per page', async () => {
    const dir = tempDir()
    const ids = fill(dir, 5_001)
    const h = testHost({ dataDir: dir })
    try {
      const first = await h.ok('runs.list', { limit: 100 })
      expect(parseReply('runs.list', okReply(1, first)).ok).toBe(true)
      expect(first.runs).toHaveLength(100)
      expect(first.total).toBe(5_001)
      expect(first.runs.map((r) => r.runId)).toEqual(ids.slice(0, 100))
      // The index answers: with every run.json gone from disk, pages are still complete.
      for (const id of ids) rmSync(join(dir, id, 'run.json'))
      const seen = [...first.runs.map((r) => r.runId)]
      let cursor = first.nextCursor
      while (cursor !== null) {
        const page = await h.ok('runs.list', { limit: 1_000, cursor })
        expect(page.runs.length).toBeLessThanOrEqual(1_000)
        expect(page.total).toBe(5_001)
        seen.push(...page.runs.map((r) => r.runId))
        cursor = page.nextCursor
      }
      expect(seen).toEqual(ids)
      // Without a limit, a page of the default size (callers of the old, unpaged list still get runs).
      expect((await h.ok('runs.list', {})).runs).toHaveLength(200)
      expect(await h.fail('runs.list', { limit: 5_000 })).toMatchObject({ code: 'invalid_payload' })
      expect(await h.fail('runs.list', { cursor: 'not a cursor' })).toMatchObject({
        code: 'invalid_payload',
        message: expect.stringContaining('nextCursor'),
      })
    } finally {
      h.host.dispose()
      rmSync(dir, { recursive: true, force: true }) // here, under this test's timeout
    }
  }, 180_000)
})

describe('runs.changed', () => {
  it('is pushed for a new run, a rename, a delete and a restore', async () => {
    const dir = tempDir()
    const h = testHost({ dataDir: dir, runEvents: { minIntervalMs: 0 } })
    type Changed = ReturnType<typeof h.of<'runs.changed'>>[number]
    /** The first event after the `from`-th that satisfies `pred`. */
    const until = async (from: number, pred: (e: Changed) => boolean) => {
      await expect.poll(() => h.of('runs.changed').slice(from).some(pred)).toBe(true)
      return h.of('runs.changed').slice(from).find(pred)!
    }
    try {
      const info = await h.ok('session.create', spec())
      const runId = info.runId!
      const created = await until(0, (e) => e.runs.some((r) => r.runId === runId))
      expect(created.removed).toEqual([])
      let n = h.of('runs.changed').length
      await h.ok('runs.rename', { runId, name: 'renamed' })
      const renamed = await until(n, (e) => e.runs.some((r) => r.runId === runId && r.name === 'renamed'))
      expect(renamed.runs).toHaveLength(1)
      n = h.of('runs.changed').length
      await h.ok('runs.delete', { runId })
      const deleted = await until(n, (e) => e.removed.includes(runId))
      expect(deleted.runs).toEqual([])
      n = h.of('runs.changed').length
      await h.ok('runs.restore', { runId })
      const restored = await until(n, (e) => e.runs.some((r) => r.runId === runId))
      expect(restored.runs.map((r) => [r.runId, r.name, r.status])).toEqual([[runId, 'renamed', 'saved']])
      expect((await h.ok('runs.list', {})).runs.map((r) => r.name)).toEqual(['renamed'])
    } finally {
      h.host.dispose()
    }
  })
})
