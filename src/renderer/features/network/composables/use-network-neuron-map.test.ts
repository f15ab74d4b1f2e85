import { describe, expect, it } from 'vitest'
import { heatmapPixels, mapScale } from './use-network-neuron-map'
import { diverging } from '../../../charts/color-scales'

describe('neuron map colours', () => {
  it('centres at 0 for signed outputs, at ½ for probabilities, else mid-range', () => {
    expect(mapScale({ min: -0.9, max: 0.5 })).toEqual({ center: 0, scale: 0.9 })
    expect(mapScale({ min: 0.1, max: 0.7 })).toEqual({ center: 0.5, scale: 0.4 })
    expect(mapScale({ min: 2, max: 6 })).toEqual({ center: 4, scale: 2 })
    expect(mapScale({ min: 3, max: 3 }).scale).toBe(1)
  })

  it('paints the grid row-major: low orange, centre neutral, high blue, opaque', () => {
    const px = heatmapPixels({ resolution: 2, xRange: [0, 1], yRange: [0, 1], values: [-1, 0, 1, 0.5], min: -1, max: 1 })
    // The decision boundary's scale: P(class 0) orange, ½ neutral, P(class 1) blue.
    expect([...px.slice(0, 3)]).toEqual(diverging(0))
    expect([...px.slice(4, 7)]).toEqual(diverging(0.5))
    expect([...px.slice(8, 11)]).toEqual(diverging(1))
    expect(px[15]).toBe(255)
  })
})
