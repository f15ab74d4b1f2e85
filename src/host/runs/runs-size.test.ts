// Each run's size on disk, kept in the run index: listed with every run and in total, measured
// again when checkpoints are written or pruned, kept across a move to the trash and back, and for
// runs indexed at startup measured once, in slices, after the index is ready.
import { lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { spec, testHost } from '../test-helpers'
import { RunStore } from './store'
import { cleanupAfterEach, countingYield, make, runRecord, tempDir } from './test-helpers'

cleanupAfterEach()

/** The bytes of every file under `dir`, counted independently of run-size.ts. */
function du(dir: string): number {
  let n = 0
  for (const name of readdirSync(dir)) {
    const st = lstatSync(join(dir, name))
    n += st.isDirectory() ? du(join(dir, name)) : st.size
  }
  return n
}

const until = async (cond: () => boolean): Promise<void> => {
  for (let i = 0; !cond(); i++) {
    if (i > 2_000) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('run sizes', () => {
  it('lists each run with its size and the total, and follows checkpoints written and pruned', async () => {
    const dir = tempDir()
    const h = testHost({ dataDir: dir, checkpoints: { every: 10, keepRecent: 2, keep: 4 } })
    try {
      const a = await h.ok('session.create', spec({ model: { hidden: [16] } }))
      await h.ok('session.step', { sessionId: a.state.sessionId, steps: 20 })
      const b = await h.ok('session.create', spec())
      await h.ok('session.step', { sessionId: b.state.sessionId, steps: 10 })
      const list1 = await h.ok('runs.list', {})
      const row = (id: string) => list1.runs.find((r) => r.runId === id)!
      // Checkpoints measured as they were written (the log grows between checkpoints; run.json is rewritten after).
      const ckA = du(join(dir, a.runId!, 'checkpoints'))
      expect(row(a.runId!).bytes).toBeGreaterThanOrEqual(ckA)
      expect(row(a.runId!).bytes).toBeLessThanOrEqual(du(join(dir, a.runId!)))
      expect(list1.totalBytes).toBe(row(a.runId!).bytes! + row(b.runId!).bytes!)

      // Many more checkpoints, pruned down to 4: the size follows what is left, not what was written.
      await h.ok('session.step', { sessionId: a.state.sessionId, steps: 100 })
      await h.ok('session.dispose', { sessionId: a.state.sessionId })
      await h.ok('session.dispose', { sessionId: b.state.sessionId })
      const list2 = await h.ok('runs.list', {})
      const after = list2.runs.find((r) => r.runId === a.runId)!
      expect(after.checkpoints).toHaveLength(4)
      // Measured after the last prune (the log's last lines and run.json were written after that).
      expect(after.bytes).toBeGreaterThanOrEqual(du(join(dir, a.runId!, 'checkpoints')))
      expect(after.bytes).toBeLessThanOrEqual(du(join(dir, a.runId!)))
      // The trash is not counted; a restore brings the run back with its size.
      await h.ok('runs.delete', { runId: a.runId! })
      expect((await h.ok('runs.list', {})).totalBytes).toBe(list2.runs.find((r) => r.runId === b.runId)!.bytes)
      expect((await h.ok('runs.restore', { runId: a.runId! })).bytes).toBe(after.bytes)
      expect((await h.ok('runs.list', {})).totalBytes).toBe(list2.totalBytes)
    } finally {
      h.host.dispose()
    }
  }, 60_000)

  it('reports the size of each run in runs.changed as checkpoints are written', async () => {
    const dir = tempDir()
    const h = make(dir, 10)
    await h.ok('runs.list', {})
    const a = await h.ok('session.create', spec())
    await h.ok('session.step', { sessionId: a.state.sessionId, steps: 30 })
    await h.ok('session.dispose', { sessionId: a.state.sessionId })
    await until(() => h.of('runs.changed').some((e) => e.runs.some((r) => r.runId === a.runId && r.status === 'saved')))
    const last = h
      .of('runs.changed')
      .filter((e) => e.runs.some((r) => r.runId === a.runId))
      .at(-1)!
    expect(last.runs.find((r) => r.runId === a.runId)!.bytes).toBeGreaterThan(0)
    expect(last.totalBytes).toBe(last.runs.find((r) => r.runId === a.runId)!.bytes)
  }, 60_000)

  it('measures runs found at startup once, in slices after the index is ready, without blocking it', async () => {
    const dir = tempDir()
    const first = new RunStore(dir)
    await first.ready
    const ids: string[] = []
    for (let i = 0; i < 40; i++) {
      const rec = runRecord({ status: 'saved' })
      first.create(rec)
      mkdirSync(join(dir, rec.runId, 'checkpoints'), { recursive: true })
      writeFileSync(join(dir, rec.runId, 'metrics.ndjson'), 'x'.repeat(100 * (i + 1)))
      ids.push(rec.runId)
    }
    const { yieldFn, turns } = countingYield()
    const store = new RunStore(dir, { yieldFn })
    await store.ready
    const atReady = turns()
    // Ready before every size is known: the sizes come in later turns.
    expect(store.index.sizes.size).toBeLessThan(40)
    await until(() => store.index.sizes.size === 40)
    expect(turns()).toBeGreaterThan(atReady)
    for (const id of ids) expect(store.index.sizes.get(id)).toBe(du(join(dir, id)))
  }, 60_000)
})
