import { describe, expect, it } from 'vitest'
import { gradColor, gradRms, LOG_RANGE, magnitudeT, rampColor } from './use-graph-colors'
import { fmtBytes, fmtCount, fmtNum } from '../../../composables/use-graph-format'

const stats = (norm: number, nonFinite = 0) => ({ mean: 0, std: 0, min: 0, max: 0, norm, nonFinite })

describe('gradient magnitude colours', () => {
  it('places magnitudes on a log scale, clamped at both ends', () => {
    expect(magnitudeT(10 ** LOG_RANGE.min)).toBe(0)
    expect(magnitudeT(10 ** LOG_RANGE.max)).toBe(1)
    expect(magnitudeT(1e-30)).toBe(0)
    expect(magnitudeT(0)).toBe(0)
    expect(magnitudeT(1e9)).toBe(1)
    const mid = 10 ** ((LOG_RANGE.min + LOG_RANGE.max) / 2)
    expect(magnitudeT(mid)).toBeCloseTo(0.5)
    // One decade is the same step anywhere on the scale.
    expect(magnitudeT(1e-2) - magnitudeT(1e-3)).toBeCloseTo(magnitudeT(1e-5) - magnitudeT(1e-6))
  })

  it('uses the gradient rms, so a big tensor is not brighter only for being big', () => {
    expect(gradRms({ shape: [4, 100], grad: stats(20) })).toBeCloseTo(1)
    expect(gradRms({ shape: [], grad: stats(0.5) })).toBe(0.5)
    expect(gradRms({ shape: [4], grad: null })).toBeNull()
    expect(gradColor({ shape: [4], grad: null })).toBeNull()
    expect(gradColor({ shape: [4], grad: stats(1, 2) })).toBe('rgb(255, 60, 70)')
    expect(gradColor({ shape: [4, 100], grad: stats(20) })).toBe(rampColor(magnitudeT(1)))
    expect(gradColor({ shape: [1], grad: stats(1e-9) })).toBe(rampColor(0))
  })

  it('the ramp runs from dim slate to red', () => {
    expect(rampColor(0)).toBe('rgb(58, 63, 92)')
    expect(rampColor(1)).toBe('rgb(255, 90, 95)')
    expect(rampColor(NaN)).toBe(rampColor(0))
  })
})

describe('number formatting', () => {
  it('keeps three significant digits and uses exponents for tiny and huge values', () => {
    expect(fmtNum(0.012345)).toBe('0.0123')
    expect(fmtNum(-2.5)).toBe('-2.5')
    expect(fmtNum(3.2e-7)).toBe('3.20e-7')
    expect(fmtNum(123456)).toBe('1.23e5')
    expect(fmtNum(0)).toBe('0')
    expect(fmtNum(NaN)).toBe('NaN')
    expect(fmtCount(537_000_000)).toBe('537M')
    expect(fmtCount(320)).toBe('320')
    expect(fmtBytes(537_000_000)).toBe('2.15 GB')
  })
})
