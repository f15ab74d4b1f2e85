// Long runs on real files: a metrics log is read streaming (a fixed chunk, never the file as one
// string), grows no further than its limit (compacted: recent steps whole, older history thinned
// with its spikes kept, rewinds applied), and a log far past the limit neither stops startup nor
// runs.list, and is read in bounded memory.
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { testHost } from '../test-helpers'
import { forEachLine } from './line-reader'
import { compactLog } from './log-compaction'
import { batchLine, readMetricsLog, readMetricsLogWithStats, rewindLine } from './metrics-log'
import { RunRecorder } from './recorder'
import { runRecord } from './test-helpers'
import { RunStore } from './store'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'bps-log-'))
  dirs.push(d)
  return d
}

const layer = (step: number, g: number) => ({
  step,
  stats: [{ gradNorm: g, meanAbsGrad: 0, maxAbsGrad: 0, weightNorm: 1, updateRatio: 0, deadFraction: null, saturatedFraction: null }],
})
const evalAt = (step: number, testLoss: number) => ({ step, trainLoss: testLoss, testLoss, trainAccuracy: null, testAccuracy: 0.5 })

/** Steps [from, to) as one flush: loss 1/step, with a spike of 50 at `spike`; an eval every 100, layer stats every 10. */
function flush(from: number, to: number, spike = -1) {
  const steps = Array.from({ length: to - from }, (_, i) => from + i)
  return {
    sessionId: 's1',
    steps,
    trainLoss: steps.map((s) => (s === spike ? 50 : 1 / s)),
    epoch: 0,
    evals: steps.filter((s) => s % 100 === 0).map((s) => evalAt(s, s === spike ? 50 : 2 / s)),
    layers: steps.filter((s) => s % 10 === 0).map((s) => layer(s, s === spike ? 999 : 1)),
    stepsPerSecond: 1,
    lr: 0.1,
  }
}

describe('reading a log streaming', () => {
  it('splits lines across chunk boundaries exactly and holds at most a chunk plus one line', () => {
    const f = join(tempDir(), 'metrics.ndjson')
    const lines = Array.from({ length: 500 }, (_, i) => `{"n":${i},"pad":"${'é'.repeat(i % 37)}"}`)
    writeFileSync(f, `${lines.join('\n')}\n{"torn`)
    const got: string[] = []
    const stats = forEachLine(f, (t) => got.push(t), { chunkBytes: 7, maxLineBytes: 200 })
    expect(got).toEqual(lines)
    expect(stats.tail).toBe('{"torn')
    expect(stats.maxBuffered).toBeLessThanOrEqual(7 + 200)
    // A line longer than the cap is skipped, not held, and the next line stands.
    writeFileSync(f, `{"a":1}\n${'x'.repeat(1000)}\n{"b":2}\n`)
    const again: string[] = []
    expect(forEachLine(f, (t) => again.push(t), { chunkBytes: 16, maxLineBytes: 100 }).longLines).toBe(1)
    expect(again).toEqual(['{"a":1}', '{"b":2}'])
  })
})

describe('compaction', () => {
  it('keeps recent steps whole, thins older history but keeps its spike, applies rewinds', async () => {
    const f = join(tempDir(), 'metrics.ndjson')
    for (let s = 1; s <= 60_000; s += 1000) appendFileSync(f, batchLine(flush(s, s + 1000, 12_300)))
    appendFileSync(f, rewindLine(50_000)) // what came after 50,000 no longer counts
    for (let s = 50_001; s <= 55_000; s += 1000) appendFileSync(f, batchLine(flush(s, s + 1000)))
    const full = readMetricsLog(f, { budget: 1e9 })
    expect(full.steps).toHaveLength(55_000)
    const before = statSync(f).size
    const { bytes, carried } = (await compactLog(f, 400_000))!
    expect(carried).toBe(0)
    expect(statSync(f).size).toBe(bytes)
    expect(bytes).toBeLessThanOrEqual(400_000)
    expect(bytes).toBeLessThan(before / 5)
    const h = readMetricsLog(f)
    expect(h.skippedLines).toBe(0)
    // Strictly increasing steps, ending where the history ends; the rewind's steps stayed dropped.
    expect(h.steps.every((s, i) => i === 0 || s > h.steps[i - 1])).toBe(true)
    expect(h.steps.at(-1)).toBe(55_000)
    expect(h.steps.length).toBeLessThan(full.steps.length / 4)
    // The newest steps at full resolution, each with its own loss.
    const recent = h.steps.slice(-1000)
    expect(recent).toEqual(Array.from({ length: 1000 }, (_, i) => 54_001 + i))
    expect(h.trainLoss.at(-1)).toBe(1 / 55_000)
    // The spike at 12,300 is still there, in the loss, the evals' worst and the layer stats.
    expect(h.steps).toContain(12_300)
    expect(Math.max(...h.trainLoss)).toBe(50)
    expect(Math.max(...h.evals.map((e) => e.testLoss))).toBe(50)
    expect(h.evals.at(-1)!.step).toBe(55_000)
    expect(h.layers.length).toBeLessThan(full.layers.length)
    expect(h.layers.at(-1)!.step).toBe(55_000)
    expect(Math.max(...h.layers.map((l) => l.stats[0].gradNorm))).toBe(999)
    // Nothing after the rewind step survived from before it.
    expect(h.evals.every((e) => e.step <= 55_000)).toBe(true)
  })

  it('a recorder with a small limit keeps its log under it while the history grows on', async () => {
    const store = new RunStore(tempDir(), { maxLogBytes: 150_000 })
    const rec = store.create(runRecord())!
    const rr = new RunRecorder(store, rec, () => {})
    const log = join(store.runDir(rec.runId), 'metrics.ndjson')
    let peak = 0
    for (let s = 1; s <= 40_000; s += 500) {
      rr.appendMetrics(flush(s, s + 500))
      await rr.idle() // (a compaction runs in slices beside training; runs-slices.test.ts appends during one)
      peak = Math.max(peak, statSync(log).size)
    }
    expect(rr.compactions).toBeGreaterThan(1)
    // At most the limit plus one flush (the append that crossed it).
    expect(peak).toBeLessThanOrEqual(150_000 + Buffer.byteLength(batchLine(flush(39_501, 40_001))))
    const h = readMetricsLog(log)
    expect(h.steps.at(-1)).toBe(40_000)
    expect(h.steps.slice(-500)).toEqual(Array.from({ length: 500 }, (_, i) => 39_501 + i))
    expect(h.steps[0]).toBe(1)
  })
})

describe('a log far past its limit', () => {
  it('startup, runs.list and runs.metrics work, the read holds a bounded amount, runs.metrics compacts it', async () => {
    const dir = tempDir()
    const rec = runRecord()
    const store = new RunStore(dir)
    store.create(rec)
    // About 12 MB of log: 300,000 steps. The limit below is 1 MiB (standing in for 512 MiB).
    const log = join(dir, rec.runId, 'metrics.ndjson')
    const chunk: string[] = []
    for (let s = 1; s <= 300_000; s += 2000) chunk.push(batchLine(flush(s, s + 2000)))
    writeFileSync(log, chunk.join(''))
    const size = statSync(log).size
    expect(size).toBeGreaterThan(10 << 20)

    const { history, read } = readMetricsLogWithStats(log, { budget: 10_000 })
    expect(read!.bytes).toBe(size)
    expect(read!.maxBuffered).toBeLessThan(2 << 20) // a 1 MiB chunk plus one line, not the 12 MB file
    expect(history.steps.length).toBeLessThanOrEqual(15_000)
    expect(history.steps.at(-1)).toBe(300_000)

    const h = testHost({ dataDir: dir, runStore: { maxLogBytes: 1 << 20 } })
    try {
      const listed = await h.ok('runs.list', {})
      expect(listed.runs.map((r) => [r.runId, r.status, r.steps])).toEqual([[rec.runId, 'interrupted', 300_000]])
      const m = await h.ok('runs.metrics', { runId: rec.runId, maxPoints: 500 })
      expect(m.steps.length).toBeLessThanOrEqual(500)
      expect(m.steps.at(-1)).toBeGreaterThan(299_000)
      expect(statSync(log).size).toBeLessThanOrEqual(1 << 19)
      expect(
        readFileSync(log, 'utf8')
          .split('\n')
          .every((l) => l.length < 200_000),
      ).toBe(true)
    } finally {
      h.host.dispose()
    }
  }, 120_000)
})
