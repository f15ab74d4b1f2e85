import { describe, expect, it } from 'vitest'
import { shownNeurons, spread, strongestOf } from './network-sample'

describe('network sample', () => {
  it('shows every neuron of a narrow column and an even spread of a wide one', () => {
    expect(shownNeurons([3, 8], 4)).toEqual([[0, 1, 2], spread(8, 4)])
    expect(spread(8, 4)).toEqual([1, 3, 5, 7])
  })

  it('picks the strongest candidates by |w|, lower index first on ties, in candidate order', () => {
    const w = [0.5, -3, 2, -2, NaN, 1, 3]
    expect(strongestOf(w, [0, 1, 2, 3, 4, 5, 6], 3)).toEqual([1, 2, 6])
    expect(strongestOf(w, [0, 2, 3, 5], 2)).toEqual([2, 3])
    expect(strongestOf(w, [4, 0], 1)).toEqual([0]) // NaN ranks as 0
    expect(strongestOf(w, [0, 5], 5)).toEqual([0, 5])
  })

  it('agrees with a full sort on random data', () => {
    let seed = 7
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1
    const w = Float32Array.from({ length: 5000 }, () => Math.round(rnd() * 50) / 10) // many ties
    const all = Array.from(w, (_, i) => i)
    const k = 321
    const bySort = [...all].sort((a, b) => Math.abs(w[b]) - Math.abs(w[a]) || a - b).slice(0, k)
    expect(strongestOf(w, all, k)).toEqual(bySort.sort((a, b) => a - b))
  })
})
