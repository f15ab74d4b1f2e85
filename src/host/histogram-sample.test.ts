import { describe, expect, it } from 'vitest'
import { histogram, histogramSample, HISTOGRAM_SAMPLE, SAMPLE_RUN, sampledHistogram } from './inspect-histograms'

describe('sampledHistogram', () => {
  it('bins a small tensor whole, and an evenly spaced sample of a big one, saying so', () => {
    const small = Float32Array.from({ length: 100 }, (_, i) => i / 100)
    expect(sampledHistogram(small, 10, 'auto', 1000)).toEqual(histogram(small, 10, 'auto'))
    const big = Float32Array.from({ length: 10_000 }, (_, i) => (i + 0.5) / 10_000)
    const h = sampledHistogram(big, 10, { lo: 0, hi: 1 }, 1000)
    expect(h.sampledFrom).toBe(10_000)
    // 62 runs of 16 neighbours, evenly spaced over a ramp: the sample keeps its shape (about a tenth per bin).
    expect(h.count).toBe(992)
    for (const c of h.counts) expect(Math.abs(c - h.count / 10)).toBeLessThanOrEqual(SAMPLE_RUN)
    expect(h.min).toBe(big[0])
  })

  it('reads only the runs it keeps: evenly spaced starts, neighbours within a run', () => {
    const big = Float64Array.from({ length: 1 << 20 }, (_, i) => i)
    const s = histogramSample(big)
    expect(s.from).toBe(1 << 20)
    expect(s.values.length).toBe(HISTOGRAM_SAMPLE)
    const runs = HISTOGRAM_SAMPLE / SAMPLE_RUN
    for (let r = 0; r < runs; r += 97) {
      const start = Math.floor((r * (1 << 20)) / runs)
      expect(Array.from(s.values.subarray(r * SAMPLE_RUN, (r + 1) * SAMPLE_RUN))).toEqual(
        Array.from({ length: SAMPLE_RUN }, (_, j) => start + j),
      )
    }
  })
})
