// Long work on the run store never holds the engine host's thread: a metrics log is compacted, and
// a big one read for runs.metrics, a chunk per turn of the event loop, and startup indexes runs a
// few dozen per turn. The turns are counted (an injected yield), never timed. While a compaction
// runs, training appends go on and none is lost; the old log stays whole until the rename.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { testHost } from '../test-helpers'
import { nodeFs, type FsOps } from './atomic'
import { batchLine, readMetricsLog } from './metrics-log'
import { RunRecorder } from './recorder'
import { nextTurn } from './slices'
import { RUNS_PER_SLICE } from './store-recovery'
import { METRICS_FILE, RunStore } from './store'
import { cleanupAfterEach, countingYield, metricsFlush, runRecord, tempDir } from './test-helpers'

cleanupAfterEach()

const MiB = 1 << 20
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)

/** A log of at least `bytes` written straight to disk: flushes of 500 steps from step 1; the next step. */
function writeLog(path: string, bytes: number): number {
  const lines: string[] = []
  let size = 0
  let next = 1
  while (size < bytes) {
    const line = batchLine(metricsFlush(next, next + 500))
    lines.push(line)
    size += line.length
    next += 500
  }
  writeFileSync(path, lines.join(''))
  return next
}

const tempFiles = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('.tmp-'))

describe('compacting a metrics log in slices', () => {
  it('yields a turn per chunk, keeps every append made meanwhile and swaps by a rename', async () => {
    const dir = tempDir()
    const y = countingYield()
    const store = new RunStore(dir, { maxLogBytes: 4 * MiB, yieldFn: y.yieldFn })
    await store.ready
    const rec = store.create(runRecord())!
    const log = join(dir, rec.runId, METRICS_FILE)
    let next = writeLog(log, 6 * MiB)
    const before = statSync(log)
    const rr = new RunRecorder(store, rec, () => {})
    const turnsBefore = y.turns()
    const firstDuring = next
    rr.appendMetrics(metricsFlush(next, next + 50)) // past the limit: the compaction starts
    next += 50
    // Training goes on: a flush per turn of the event loop until the compaction has ended.
    let done = false
    void rr.idle().then(() => (done = true))
    const sizesBeforeSwap: number[] = []
    for (;;) {
      await nextTurn()
      if (done) break
      if (rr.compactions === 0) sizesBeforeSwap.push(statSync(log).size)
      rr.appendMetrics(metricsFlush(next, next + 50))
      next += 50
    }
    expect(rr.compactions).toBe(1)
    // At least a turn per MiB read (6), more for thinning and writing; flushes landed in between.
    expect(y.turns() - turnsBefore).toBeGreaterThanOrEqual(6)
    expect((next - firstDuring) / 50).toBeGreaterThanOrEqual(4)
    // Until the swap the log was only ever appended to; then a new file (inode) under the limit.
    expect(sizesBeforeSwap.every((s) => s >= before.size)).toBe(true)
    const after = statSync(log)
    expect(after.ino).not.toBe(before.ino)
    expect(after.size).toBeLessThan(4 * MiB)
    // Every step appended during the compaction, in order and whole, after the thinned history.
    const h = readMetricsLog(log, { budget: 1e9 })
    expect(h.skippedLines).toBe(0)
    expect(h.steps.slice(-(next - firstDuring))).toEqual(range(firstDuring, next))
    expect(h.steps[0]).toBe(1)
    expect(h.steps.every((s, i) => i === 0 || s > h.steps[i - 1])).toBe(true)
    // The recorder writes to the new file from now on.
    rr.appendMetrics(metricsFlush(next, next + 50))
    expect(readMetricsLog(log, { budget: 1e9 }).steps.at(-1)).toBe(next + 49)
    expect(tempFiles(join(dir, rec.runId))).toEqual([])
    rr.close('saved')
  })

  it('a run closed mid-compaction keeps its log exactly as written, with no temp file left', async () => {
    const dir = tempDir()
    const store = new RunStore(dir, { maxLogBytes: 2 * MiB })
    const rec = store.create(runRecord())!
    const log = join(dir, rec.runId, METRICS_FILE)
    const next = writeLog(log, 3 * MiB)
    const rr = new RunRecorder(store, rec, () => {})
    rr.appendMetrics(metricsFlush(next, next + 50))
    const written = readFileSync(log, 'utf8')
    await nextTurn() // the compaction is under way
    rr.close('saved')
    await store.logIdle(rec.runId)
    expect(rr.compactions).toBe(0)
    expect(readFileSync(log, 'utf8')).toBe(written)
    expect(tempFiles(join(dir, rec.runId))).toEqual([])
  })
})

describe('a compaction that fails', () => {
  it('on a full disk leaves the log whole and no temp file; the run reports it and stops recording', async () => {
    const dir = tempDir()
    // Writes into the compaction's temp file fail; everything else works.
    const tmpFds = new Set<number>()
    const ops: FsOps = {
      ...nodeFs,
      openSync: (p, flags, mode) => {
        const fd = nodeFs.openSync(p, flags, mode)
        if (p.includes('.tmp-metrics')) tmpFds.add(fd)
        return fd
      },
      writeSync: (fd, data, off, len) => {
        if (tmpFds.has(fd)) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
        return nodeFs.writeSync(fd, data, off, len)
      },
    }
    const store = new RunStore(dir, { maxLogBytes: 2 * MiB, ops })
    const rec = store.create(runRecord())!
    const log = join(dir, rec.runId, METRICS_FILE)
    const next = writeLog(log, 3 * MiB)
    const messages: string[] = []
    const rr = new RunRecorder(store, rec, (m) => messages.push(m))
    rr.appendMetrics(metricsFlush(next, next + 50))
    const written = readFileSync(log, 'utf8')
    await rr.idle()
    expect(tmpFds.size).toBe(1)
    expect(readFileSync(log, 'utf8')).toBe(written)
    expect(tempFiles(join(dir, rec.runId))).toEqual([])
    expect(rr.recording).toBe(false)
    expect(messages).toEqual([expect.stringMatching(/could not compact a long metrics log .*the disk is full \(ENOSPC\)/)])
    expect(store.storage().writable).toBe(false)
  })
})

describe('a big log read for runs.metrics', () => {
  it('is read a chunk per turn, and a cheap request sent after it is answered first', async () => {
    const dir = tempDir()
    const seed = new RunStore(dir)
    const rec = seed.create(runRecord({ status: 'saved' }))!
    const next = writeLog(join(dir, rec.runId, METRICS_FILE), 5 * MiB)
    const y = countingYield()
    const h = testHost({ dataDir: dir, runStore: { yieldFn: y.yieldFn } })
    try {
      await h.ok('runs.list', {}) // startup indexing done
      const turnsBefore = y.turns()
      const order: string[] = []
      const metrics = h.ok('runs.metrics', { runId: rec.runId, maxPoints: 100 }).then((m) => {
        order.push('runs.metrics')
        return m
      })
      const hello = h.ok('host.hello', {}).then(() => order.push('host.hello'))
      const [m] = await Promise.all([metrics, hello])
      expect(order).toEqual(['host.hello', 'runs.metrics'])
      expect(y.turns() - turnsBefore).toBeGreaterThanOrEqual(5)
      expect(m.steps.at(-1)).toBeGreaterThan(next - 600)
    } finally {
      h.host.dispose()
    }
  })
})

describe('startup with many runs', () => {
  it('indexes a few dozen runs per turn; runs.list waits until all are indexed', async () => {
    const dir = tempDir()
    const seed = new RunStore(dir)
    const n = 4 * RUNS_PER_SLICE + 5
    for (let i = 0; i < n; i++)
      seed.create(runRecord({ status: 'saved', createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString() }))
    const y = countingYield()
    const store = new RunStore(dir, { yieldFn: y.yieldFn })
    expect(store.index.entries(false).length).toBeLessThan(n) // not all at once
    await store.ready
    expect(store.index.entries(false)).toHaveLength(n)
    expect(y.turns()).toBeGreaterThanOrEqual(5)
    const h = testHost({ dataDir: dir })
    try {
      const listed = await h.ok('runs.list', { limit: 500 })
      expect(listed.total).toBe(n)
    } finally {
      h.host.dispose()
    }
  })
})
