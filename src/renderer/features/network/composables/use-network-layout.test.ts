import { describe, expect, it } from 'vitest'
import { networkFixture } from '../../../stores/inspect-fixtures'
import { divergingColor, divergingT, edgeDensity, edgeStyle, NEGATIVE, NEUTRAL, POSITIVE, robustScale } from './use-network-colors'
import { columnSizes, drawingOrder, edgeEnds, hitTest, layoutNetwork, neuronY } from './use-network-layout'
import { describeHit, edgeCounts } from './use-network-tooltip'

describe('network layout', () => {
  it('puts one column per layer of neurons, circles while they fit', () => {
    const s = networkFixture([2, 10, 10, 2])
    expect(columnSizes(s)).toEqual([2, 10, 10, 2])
    const g = layoutNetwork(columnSizes(s), 1000, 500)
    expect(g.columns.map((c) => c.shape)).toEqual(['circle', 'circle', 'circle', 'circle'])
    expect(g.columns[0]!.x).toBeLessThan(g.columns[1]!.x)
    for (const c of g.columns) {
      expect(neuronY(c, 0) - c.radius).toBeGreaterThanOrEqual(0)
      expect(neuronY(c, c.count - 1) + c.radius).toBeLessThanOrEqual(500)
    }
  })

  it('8 layers of 512: wide columns become bars that still fit, one row per neuron', () => {
    const g = layoutNetwork([2, 512, 512, 512, 512, 512, 512, 512, 2], 1100, 560)
    expect(g.columns[1]!.shape).toBe('bar')
    expect(g.columns[0]!.shape).toBe('circle')
    const c = g.columns[4]!
    expect(c.top).toBeGreaterThanOrEqual(0)
    expect(c.top + c.rowH * c.count).toBeLessThanOrEqual(560 + 1e-9)
  })

  it('hit tests neurons first, then the nearest edge, preferring the one drawn on top', () => {
    const s = networkFixture([2, 10, 10, 2])
    const g = layoutNetwork(columnSizes(s), 1000, 500)
    const c = g.columns[1]!
    expect(hitTest(g, s, c.x + 1, neuronY(c, 3) - 1)).toEqual({ kind: 'neuron', column: 1, index: 3 })
    const k = 7
    const l = s.layers[1]!
    const [x0, y0, x1, y1] = edgeEnds(g, 1, l.from[k]!, l.to[k]!)
    // The drawn edge is an S-curve; its middle is the midpoint of the chord.
    const hit = hitTest(g, s, (x0 + x1) / 2, (y0 + y1) / 2)
    expect(hit?.kind).toBe('edge')
    expect(hitTest(g, s, 2, 2)).toBeNull()
    const order = drawingOrder(s, (layer) => layer.weight)
    const w = s.layers[0]!.weight
    expect(order[0]!.map((i) => Math.abs(w[i]!))).toEqual([...w].map(Math.abs).sort((a, b) => a - b))
  })

  it('tooltips carry the exact numbers; sampled layers report k of n', () => {
    const s = networkFixture([2, 10, 10, 2])
    const edge = describeHit(s, { kind: 'edge', layer: 0, edge: 3 })!
    expect(edge.title).toBe(`w x${s.layers[0]!.from[3] === 0 ? '1' : '2'} → hidden 1 #${s.layers[0]!.to[3]}`)
    expect(edge.rows.map((r) => r[0])).toEqual(['weight', '∂L/∂w', 'last update Δw'])
    const neuron = describeHit(s, { kind: 'neuron', column: 1, index: 2 })!
    expect(neuron.title).toBe('hidden 1 #2 · tanh')
    expect(neuron.rows.map((r) => r[0])).toEqual(['mean activation', 'mean ∂L/∂activation', 'bias', '∂L/∂bias'])
    expect(describeHit(s, { kind: 'neuron', column: 3, index: 0 })!.title).toBe('output #0 · linear')
    expect(edgeCounts(s)).toEqual({ shown: 140, total: 140, sampled: false })
    expect(edgeCounts(networkFixture([2, 64, 64, 2], 500))).toEqual({ shown: 128 + 500 + 128, total: 128 + 4096 + 128, sampled: true })
  })
})

describe('diverging colours', () => {
  it('is neutral at 0 and saturates at ±scale', () => {
    const rgb = (c: number[]) => `rgb(${c.join(', ')})`
    expect(divergingColor(0, 1)).toBe(rgb(NEUTRAL))
    expect(divergingColor(5, 1)).toBe(rgb(POSITIVE))
    expect(divergingColor(-5, 1)).toBe(rgb(NEGATIVE))
    expect(divergingT(0.5, 2)).toBe(0.25)
    expect(divergingT(NaN, 2)).toBe(0)
    expect(edgeStyle(1, 1).width).toBeGreaterThan(edgeStyle(0.1, 1).width)
  })

  it('the scale covers the bulk, not one outlier, and is never 0', () => {
    const values = Array.from({ length: 1000 }, (_, i) => (i % 2 ? 1 : -1) * (i / 1000))
    expect(robustScale([...values, 1e6])).toBeLessThan(1.01)
    expect(robustScale([0, 0])).toBe(1)
    expect(robustScale([], [NaN, 3])).toBe(3)
  })
})

describe('dense layers', () => {
  it('thin out: a layer of 1,000 edges draws each fainter and thinner than one of 100', () => {
    const sparse = edgeStyle(1, 1, edgeDensity(100))
    const dense = edgeStyle(1, 1, edgeDensity(1000))
    expect(edgeDensity(100)).toBe(1)
    expect(dense.width).toBeLessThan(sparse.width / 2)
    const alpha = (c: string) => Number(c.match(/([\d.]+)\)$/)![1])
    expect(alpha(dense.color)).toBeLessThan(alpha(sparse.color) / 2)
  })
})
