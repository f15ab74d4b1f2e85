import { describe, expect, it } from 'vitest'
import { DownsampledSeries } from './downsample'

describe('DownsampledSeries', () => {
  it('keeps every sample until it is full', () => {
    const s = new DownsampledSeries({ maxPoints: 8 })
    for (let i = 1; i <= 5; i++) s.push(i, i * 10)
    expect(s.points()).toEqual([1, 2, 3, 4, 5].map((i) => ({ x: i, y: i * 10 })))
    expect(s.sampleCount).toBe(5)
  })

  it('never draws more than maxPoints, merging neighbours and doubling the bucket', () => {
    const s = new DownsampledSeries({ maxPoints: 100 })
    for (let i = 1; i <= 100_000; i++) s.push(i, 1)
    expect(s.points().length).toBeLessThanOrEqual(100)
    expect(s.points().length).toBeGreaterThanOrEqual(50)
    expect(s.bucketSize).toBeGreaterThan(1000)
    const xs = s.points().map((p) => p.x)
    expect(xs).toEqual([...xs].sort((a, b) => a - b))
    expect(xs.at(-1)).toBe(100_000)
  })

  it('averages buckets, so a merged point is the mean of its samples', () => {
    const s = new DownsampledSeries({ maxPoints: 4 })
    for (let i = 1; i <= 8; i++) s.push(i, i)
    // Reaching 4 points merges pairs (bucket 2), reaching 4 again merges to buckets of 4.
    expect(s.points()).toEqual([
      { x: 4, y: 2.5 },
      { x: 8, y: 6.5 },
    ])
    expect(s.bucketSize).toBe(4)
    s.push(9, 9)
    expect(s.points().at(-1)).toEqual({ x: 9, y: 9 }) // the partial bucket is drawn too
  })

  it('skips non-finite samples instead of poisoning a bucket', () => {
    const s = new DownsampledSeries()
    s.push(1, 0.5)
    s.push(2, Number.NaN)
    s.push(3, Number.POSITIVE_INFINITY)
    s.push(4, 0.25)
    expect(s.points()).toEqual([
      { x: 1, y: 0.5 },
      { x: 4, y: 0.25 },
    ])
  })

  it('smooths with a debiased EMA (the first value is not pulled towards zero)', () => {
    const s = new DownsampledSeries({ smoothing: 0.9 })
    s.push(1, 2)
    s.push(2, 2)
    s.push(3, 0)
    const ys = s.points().map((p) => p.y)
    expect(ys[0]).toBeCloseTo(2)
    expect(ys[1]).toBeCloseTo(2)
    expect(ys[2]).toBeGreaterThan(1) // one low sample moves a smoothed curve only a little
    expect(ys[2]).toBeLessThan(2)
  })

  it('clears back to empty', () => {
    const s = new DownsampledSeries({ maxPoints: 4 })
    for (let i = 0; i < 50; i++) s.push(i, i)
    s.clear()
    expect(s.points()).toEqual([])
    expect(s.bucketSize).toBe(1)
    expect(s.last()).toBeNull()
  })
})
