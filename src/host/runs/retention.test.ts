import { describe, expect, it } from 'vitest'
import { checkpointsToPrune, DEFAULT_RETENTION } from './retention'

/** What survives a run that checkpoints every `every` steps for `n` checkpoints, pruning after each one. */
function simulate(n: number, every: number, r = DEFAULT_RETENTION): number[] {
  let kept: number[] = []
  for (let i = 0; i <= n; i++) {
    kept.push(i * every)
    const drop = new Set(checkpointsToPrune(kept, r))
    kept = kept.filter((s) => !drop.has(s))
  }
  return kept
}

describe('checkpoint retention', () => {
  it('keeps everything while a run is short', () => {
    expect(checkpointsToPrune([0, 250, 500])).toEqual([])
    expect(simulate(6, 250)).toEqual([0, 250, 500, 750, 1000, 1250, 1500])
  })

  it('keeps step 0, the recent K and log-spaced older ones: a long run costs about K + log2(n) checkpoints', () => {
    const kept = simulate(1000, 250) // 250,000 steps
    expect(kept[0]).toBe(0)
    expect(kept.slice(-5)).toEqual([249_000, 249_250, 249_500, 249_750, 250_000])
    expect(kept.length).toBeLessThanOrEqual(5 + Math.ceil(Math.log2(1000)) + 2)
    expect(kept.length).toBeGreaterThanOrEqual(5 + 5)
    // Log-spaced: older than the recent ones, each kept checkpoint is farther back than the next
    // newer one by a factor (the spacing grows geometrically back to step 0).
    const back = kept.map((s) => 250_000 - s)
    for (let i = 1; i < back.length - 6; i++) expect(back[i]! / back[i + 1]!).toBeGreaterThan(1.25)
    expect(kept[1]!).toBeLessThan(125_000) // the first half of the run is still reachable
  })

  it('is configurable: recent K, and a cap on the total', () => {
    expect(simulate(100, 10, { recent: 2, max: 40 }).slice(-2)).toEqual([990, 1000])
    expect(simulate(100, 10, { recent: 20, max: 40 }).slice(-20)).toEqual(Array.from({ length: 20 }, (_, i) => 810 + i * 10))
    const capped = simulate(100, 10, { recent: 20, max: 8 })
    expect(capped).toHaveLength(8)
    expect(capped[0]).toBe(0)
    expect(capped.at(-1)).toBe(1000)
  })

  it('never drops step 0 or the newest, and ignores duplicates', () => {
    expect(checkpointsToPrune([0, 1, 1, 2], { recent: 0, max: 2 })).toEqual([1])
  })
})
