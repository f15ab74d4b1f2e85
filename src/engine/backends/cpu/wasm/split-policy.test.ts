// The per-shape split decision: both ways measured first, then the cheaper one, with the other
// retried now and then so a change of load (the second core freed or taken) is noticed; and the
// chunk plans the two threads share.
import { describe, expect, it } from 'vitest'
import { planChunks, SplitPolicy } from './split-policy.js'

/** Runs `calls` products of one shape costing `cost(split)` ms; returns how many were split. */
function drive(p: SplitPolicy, key: string, calls: number, cost: (split: boolean) => number): number {
  let split = 0
  for (let i = 0; i < calls; i++) {
    const s = p.choose(key)
    if (s) split++
    p.record(key, s, cost(s), 1e6)
  }
  return split
}

describe('SplitPolicy', { timeout: 30_000 }, () => {
  it('measures both ways, then keeps to the cheaper one, retrying the other less often while it keeps losing', () => {
    const p = new SplitPolicy()
    expect(drive(p, 'busy', 2, (s) => (s ? 3 : 1))).toBe(1) // one each
    // Retries after 16, 32, 64, 128, then every 256 products.
    expect(drive(p, 'busy', 16 + 32 + 64 + 128, (s) => (s ? 3 : 1))).toBe(4)
    expect(drive(p, 'busy', 1024, (s) => (s ? 3 : 1))).toBe(4)
    expect(drive(p, 'idle', 2 + 16 + 32, (s) => (s ? 0.6 : 1))).toBe(2 + 16 + 32 - 3)
  })

  it('follows a change of load: a split that turns slow is dropped, and taken up again when it pays', () => {
    const p = new SplitPolicy()
    drive(p, 's', 50, (s) => (s ? 0.6 : 1))
    expect(drive(p, 's', 64, (s) => (s ? 3 : 1))).toBeLessThan(12)
    // The retry that notices comes within 64 products (two retries lost, so the wait is 64).
    expect(drive(p, 's', 512, (s) => (s ? 0.6 : 1))).toBeGreaterThan(512 - 64 - 1)
  })

  it('keeps shapes apart, and `always` splits everything', () => {
    const p = new SplitPolicy()
    drive(p, 'a', 20, (s) => (s ? 3 : 1))
    drive(p, 'b', 20, (s) => (s ? 0.5 : 1))
    expect(p.costs('a')!.split).toBeGreaterThan(p.costs('a')!.inline)
    expect(p.costs('b')!.split).toBeLessThan(p.costs('b')!.inline)
    expect(drive(new SplitPolicy(true), 'a', 20, (s) => (s ? 3 : 1))).toBe(20)
  })
})

describe('planChunks', () => {
  it('cuts the longer side of C into whole tiles, 2 to 8 chunks by work', () => {
    expect(planChunks(32, 1024, 1024, 4, 8)).toEqual({ axis: 1, size: 128, count: 8 })
    expect(planChunks(1024, 1024, 32, 4, 8)).toEqual({ axis: 0, size: 128, count: 8 })
    expect(planChunks(128, 128, 128, 4, 8)).toEqual({ axis: 0, size: 128 / 2, count: 2 })
    expect(planChunks(260, 257, 256, 4, 8)).toEqual({ axis: 0, size: 36, count: 8 })
    expect(planChunks(4, 4, 4096, 4, 8)).toBeNull()
  })
})
