import { describe, expect, it } from 'vitest'
import { LayerTimeline, type LayerStatInput } from './layer-timeline'

const sample = (gradNorm: number, dead: number | null = null): LayerStatInput => ({
  gradNorm,
  meanAbsGrad: gradNorm / 10,
  maxAbsGrad: gradNorm * 2,
  weightNorm: 1,
  updateRatio: 1e-3,
  deadFraction: dead,
  saturatedFraction: null,
})

describe('LayerTimeline', () => {
  it('keeps one column per sample until full, then merges pairs (mean, later step)', () => {
    const t = new LayerTimeline(4)
    t.push(1, [sample(1), sample(10)])
    t.push(2, [sample(3), sample(30)])
    t.push(3, [sample(5), sample(50)])
    expect(t.length).toBe(3)
    expect(t.series(1, 'gradNorm')).toEqual([
      { x: 1, y: 10 },
      { x: 2, y: 30 },
      { x: 3, y: 50 },
    ])
    t.push(4, [sample(7), sample(70)]) // the fourth column fills it: pairs merge
    expect(t.columnSpan).toBe(2)
    expect(t.length).toBe(2)
    expect(t.series(0, 'gradNorm')).toEqual([
      { x: 2, y: 2 },
      { x: 4, y: 6 },
    ])
    t.push(5, [sample(9), sample(90)]) // a partial column (one of two samples) is drawn too
    expect(t.series(0, 'gradNorm').at(-1)).toEqual({ x: 5, y: 9 })
  })

  it('keeps NaN where a statistic does not apply and leaves it out of series', () => {
    const t = new LayerTimeline(8)
    t.push(1, [sample(1, 0.5), sample(0)])
    expect(t.value(0, 0, 'deadFraction')).toBe(0.5)
    expect(t.value(0, 1, 'deadFraction')).toBeNaN()
    expect(t.series(1, 'gradNorm', true)).toEqual([]) // a zero gradient cannot go on a log axis
    expect(t.series(1, 'gradNorm')).toEqual([{ x: 1, y: 0 }])
  })

  it('starts over when the number of layers changes', () => {
    const t = new LayerTimeline(8)
    t.push(1, [sample(1)])
    t.push(2, [sample(1), sample(2), sample(3)])
    expect(t.layers).toBe(3)
    expect(t.length).toBe(1)
    expect(t.latest).toHaveLength(3)
  })
})
