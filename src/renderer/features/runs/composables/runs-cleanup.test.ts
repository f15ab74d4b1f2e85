// The clean-up plan: untrained runs, trained runs past an age or beyond the newest N, never a live,
// damaged or tagged run, and the bytes the chosen runs free.
import { describe, expect, it } from 'vitest'
import { formatBytes } from '../format-bytes'
import { planCleanup, type CleanupRun } from './runs-cleanup'

const NOW = Date.parse('2026-12-02T12:00:00Z')
const daysAgo = (d: number) => new Date(NOW - d * 86_400_000).toISOString()
let n = 0
const run = (over: Partial<CleanupRun>): CleanupRun => ({
  runId: `r-test${String(n++).padStart(3, '0')}`,
  name: 'run',
  status: 'saved',
  steps: 100,
  tags: [],
  createdAt: daysAgo(1),
  sessionId: null,
  bytes: 1_000,
  ...over,
})

describe('planCleanup', () => {
  const untrained = run({ steps: 0, bytes: 10 })
  const untrainedLive = run({ steps: 0, status: 'live', sessionId: 's1' })
  const old = run({ createdAt: daysAgo(40), bytes: 5_000 })
  const oldTagged = run({ createdAt: daysAgo(50), tags: ['baseline'] })
  const oldOpen = run({ createdAt: daysAgo(60), status: 'saved', sessionId: 's2' })
  const damaged = run({ steps: 0, status: 'damaged', createdAt: daysAgo(90) })
  const recent = [run({ createdAt: daysAgo(1) }), run({ createdAt: daysAgo(2) }), run({ createdAt: daysAgo(3) })]
  const all = [untrained, untrainedLive, old, oldTagged, oldOpen, damaged, ...recent]

  it('by default takes the untrained runs only, never a live one', () => {
    const p = planCleanup(all, { untrained: true, olderThanDays: null, keepNewest: null }, NOW)
    expect(p.runs.map((r) => r.runId)).toEqual([untrained.runId])
    expect(p.bytes).toBe(10)
    expect(p.kept).toBe(1)
  })

  it('older than some days: trained runs past the age, except tagged and open ones', () => {
    const p = planCleanup(all, { untrained: false, olderThanDays: 30, keepNewest: null }, NOW)
    expect(p.runs.map((r) => r.runId)).toEqual([old.runId])
    expect(p.kept).toBe(2)
    expect(p.bytes).toBe(5_000)
  })

  it('all but the newest N trained runs (the kept ones still count among the newest)', () => {
    const p = planCleanup(all, { untrained: true, olderThanDays: null, keepNewest: 2 }, NOW)
    expect(p.runs.map((r) => r.runId).sort()).toEqual([recent[2]!.runId, untrained.runId, old.runId].sort())
    expect(planCleanup(all, { untrained: false, olderThanDays: null, keepNewest: 0 }, NOW).runs).toHaveLength(4)
  })

  it('a run not measured yet counts no bytes; sizes read as people read them', () => {
    expect(planCleanup([run({ steps: 0, bytes: undefined })], { untrained: true, olderThanDays: null, keepNewest: null }, NOW).bytes).toBe(
      0,
    )
    expect([0, 999, 1_000, 12_400_000, 999_600, 241_000_000, 3.2e9, undefined].map(formatBytes)).toEqual([
      '0 bytes',
      '999 bytes',
      '1.00 kB',
      '12.4 MB',
      '1.00 MB',
      '241 MB',
      '3.20 GB',
      '—',
    ])
  })
})
