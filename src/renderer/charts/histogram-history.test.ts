import { describe, expect, it } from 'vitest'
import { fakeHistograms } from '../engine/fake-host'
import { HistogramHistory, histogramExtent } from './histogram-history'

describe('HistogramHistory', () => {
  it('holds the last `capacity` samples per layer, oldest first', () => {
    const h = new HistogramHistory(3)
    for (let step = 0; step < 5; step++) h.add(fakeHistograms(step, 2))
    expect(h.layerCount).toBe(2)
    expect(h.names).toEqual(['layers.0', 'layers.1'])
    expect(h.samples(1).map((s) => s.step)).toEqual([2, 3, 4])
    expect(h.samples(0)[0]!.grads).not.toBeNull()
    expect(h.samples(7)).toEqual([])
  })

  it('starts over when the layers change (a different model)', () => {
    const h = new HistogramHistory()
    h.add(fakeHistograms(1, 2))
    h.add(fakeHistograms(2, 3))
    expect(h.layerCount).toBe(3)
    expect(h.samples(0).map((s) => s.step)).toEqual([2])
  })

  it('spans every histogram it is given, skipping missing gradients', () => {
    const [a] = fakeHistograms(1, 1).layers
    const wide = { ...a!.weights, lo: -3, hi: 0.5 }
    expect(histogramExtent([a!.weights, null, wide])).toEqual({ lo: -3, hi: 1 })
    expect(histogramExtent([null])).toBeNull()
  })
})
