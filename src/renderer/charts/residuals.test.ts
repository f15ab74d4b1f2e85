import { describe, expect, it } from 'vitest'
import { residualBins } from './residuals'

describe('residualBins', () => {
  it('bins predicted − actual symmetrically about zero, with their mean and spread', () => {
    const b = residualBins([10, 20, 30, 40], [12, 18, 30, 44], 4)
    // Residuals 2, −2, 0, 4: the range is ±4, bins of width 2.
    expect(b.edge).toBe(4)
    expect(b.centers).toEqual([-3, -1, 1, 3])
    expect(b.counts).toEqual([0, 1, 1, 2]) // a bin holds its lower edge; the top edge falls in the last bin
    expect(b.mean).toBe(1)
    expect(b.std).toBeCloseTo(Math.sqrt((1 + 9 + 1 + 9) / 4), 12)
    expect(b.n).toBe(4)
  })

  it('copes with no rows, perfect predictions and non-finite values', () => {
    expect(residualBins([], [], 3)).toMatchObject({ counts: [0, 0, 0], edge: 1, n: 0, mean: 0, std: 0 })
    expect(residualBins([5, 6], [5, 6], 3).counts).toEqual([0, 2, 0])
    expect(residualBins([1, 2], [NaN, 3], 2)).toMatchObject({ n: 1, counts: [0, 1] })
  })
})
