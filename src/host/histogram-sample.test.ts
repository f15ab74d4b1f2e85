import { describe, expect, it } from 'vitest'
import { histogram, sampledHistogram } from './inspect-histograms'

describe('sampledHistogram', () => {
  it('bins a small tensor whole, and an evenly spaced sample of a big one, saying so', () => {
    const small = Float32Array.from({ length: 100 }, (_, i) => i / 100)
    expect(sampledHistogram(small, 10, 'auto', 1000)).toEqual(histogram(small, 10, 'auto'))
    const big = Float32Array.from({ length: 10_000 }, (_, i) => ((i % 100) + 0.5) / 100)
    const h = sampledHistogram(big, 10, { lo: 0, hi: 1 }, 1000)
    expect(h.sampledFrom).toBe(10_000)
    expect(h.count).toBe(1000)
    // Every 10th of a sawtooth: the sample keeps its shape (10 values per bin of 0.1).
    expect(h.counts).toEqual(new Array(10).fill(100))
  })
})
