import { describe, expect, it } from 'vitest'
import { formatLogTick, labelledLogTicks, logTick } from './log-ticks'

const ticks = (...values: number[]) => values.map((value) => ({ value }))
const labels = (values: number[]) => values.map((v, i) => logTick(v, i, ticks(...values)))

describe('log axis ticks', () => {
  it('labels only the decades when the axis spans several', () => {
    expect(labels([0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2])).toEqual(['0.01', null, null, '0.1', null, null, '1', null])
    expect(labels([1e-6, 1e-5, 1e-4])).toEqual(['1e-6', '1e-5', '1e-4'])
  })

  it('labels the 1-2-5 ticks inside one decade, where there is no decade to label', () => {
    // Chart.js's ticks for a loss between 0.15 and 0.65.
    expect(labels([0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.65])).toEqual([null, '0.2', null, null, '0.5', null, null])
    expect(labels([0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1])).toEqual(['0.2', null, null, '0.5', null, null, null, null, '1'])
  })

  it('labels every tick when even the 1-2-5 ones are too few', () => {
    expect(labels([0.3, 0.4, 0.45])).toEqual(['0.3', '0.4', '0.45'])
    expect([...labelledLogTicks([0.62, 0.64, 0.66])]).toEqual([0.62, 0.64, 0.66])
  })

  it('formats short and without float noise', () => {
    expect(formatLogTick(0.30000000000000004)).toBe('0.3')
    expect(formatLogTick(2e-5)).toBe('2e-5')
    expect(formatLogTick(1e5)).toBe('1e5')
    expect(formatLogTick(250)).toBe('250')
    expect(logTick(0, 0, ticks(0))).toBeNull()
  })
})
