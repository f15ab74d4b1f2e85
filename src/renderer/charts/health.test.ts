import { describe, expect, it } from 'vitest'
import { adjacentGradRatios, gradRatioLevel, percentCell, sciCell, updateRatioLevel } from './health'

describe('health rules', () => {
  it('grades the update-to-weight ratio around 1e-3', () => {
    expect(updateRatioLevel(1e-3)).toBe('ok')
    expect(updateRatioLevel(1e-4)).toBe('ok')
    expect(updateRatioLevel(5e-5)).toBe('warn')
    expect(updateRatioLevel(5e-2)).toBe('warn')
    expect(updateRatioLevel(5e-6)).toBe('bad')
    expect(updateRatioLevel(0.5)).toBe('bad')
    expect(updateRatioLevel(null)).toBe('none')
    expect(updateRatioLevel(Number.NaN)).toBe('none')
  })

  it('divides each layer by the next and flags vanishing down the stack', () => {
    const ratios = adjacentGradRatios([1e-6, 1e-3, 0.1, 1])
    expect(ratios[0]).toBeCloseTo(1e-3)
    expect(ratios[1]).toBeCloseTo(1e-2)
    expect(ratios[2]).toBeCloseTo(0.1)
    expect(ratios[3]).toBeNull()
    expect(adjacentGradRatios([1, 0, null])).toEqual([null, null, null])
    expect(ratios.map(gradRatioLevel)).toEqual(['bad', 'warn', 'ok', 'none'])
    expect(gradRatioLevel(500)).toBe('bad')
  })

  it('formats cells, with an em dash for what does not apply', () => {
    expect(percentCell(null)).toBe('—')
    expect(percentCell(0.25)).toBe('25%')
    expect(percentCell(0.034)).toBe('3.4%')
    expect(percentCell(0)).toBe('0%')
    expect(sciCell(3.2e-4)).toBe('3.2e-4')
    expect(sciCell(0.5)).toBe('0.500')
    expect(sciCell(undefined)).toBe('—')
  })
})
