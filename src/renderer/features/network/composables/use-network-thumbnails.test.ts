// The thumbnails' decoding and placement: bytes back to values, one atlas of pixels on the
// decision boundary's scale, one square per mapped neuron inside its column, and the lines that
// say when the maps are a sample or why there are none.
import { describe, expect, it } from 'vitest'
import type { RequestResult } from '../../../../shared/protocol'
import { diverging } from '../../../charts/color-scales'
import { layoutNetwork, neuronY } from './use-network-layout'
import { MAX_THUMB, decodeBase64, mapAtlas, mapValues, mapsLabel, noMapsReason, thumbnailRects } from './use-network-thumbnails'

type NeuronMaps = RequestResult<'session.neuronMaps'>

const b64 = (bytes: number[]) => btoa(String.fromCharCode(...bytes))

/** Maps of a 2×2 grid: the given bytes per map, with range [-1, 1] unless given. */
function maps(columns: { width: number; indices: number[]; bytes: number[][]; range?: [number, number] }[], step = 3): NeuronMaps {
  return {
    sessionId: 's1',
    step,
    resolution: 2,
    xRange: [-1, 1],
    yRange: [-1, 1],
    sampled: columns.some((c) => c.indices.length < c.width),
    columns: columns.map((c) => ({
      width: c.width,
      indices: c.indices,
      min: c.bytes.map(() => c.range?.[0] ?? -1),
      max: c.bytes.map(() => c.range?.[1] ?? 1),
      data: b64(c.bytes.flat()),
    })),
  }
}

describe('neuron thumbnails: decoding', () => {
  it('turns base64 bytes back into each map’s values over its own range', () => {
    expect([...decodeBase64(b64([0, 7, 255, 128]))]).toEqual([0, 7, 255, 128])
    const m = maps([
      {
        width: 2,
        indices: [0, 1],
        bytes: [
          [0, 255, 51, 102],
          [255, 255, 0, 0],
        ],
        range: [2, 7],
      },
    ])
    expect(mapValues(m, m.columns[0]!, 0)).toEqual([2, 7, 3, 4])
    expect(mapValues(m, m.columns[0]!, 1)).toEqual([7, 7, 2, 2])
  })

  it('paints every map into one atlas, row-major, on the decision boundary’s colours', () => {
    const m = maps([
      {
        width: 2,
        indices: [0, 1],
        bytes: [
          [0, 255, 0, 255],
          [255, 0, 255, 0],
        ],
      },
      {
        width: 3,
        indices: [0, 1, 2],
        bytes: [
          [0, 0, 0, 0],
          [255, 255, 255, 255],
          [128, 128, 128, 128],
        ],
      },
    ])
    const a = mapAtlas(m)
    expect(a).toMatchObject({ step: 3, resolution: 2, count: 5, across: 3, width: 6, height: 4 })
    expect(a.columns.map((c) => c.firstSlot)).toEqual([0, 2])
    const px = (x: number, y: number) => [...a.pixels.slice((y * a.width + x) * 4, (y * a.width + x) * 4 + 4)]
    // Map 0 (slot 0): −1 then +1 along its top row → orange then blue, opaque.
    expect(px(0, 0)).toEqual([...diverging(0), 255])
    expect(px(1, 0)).toEqual([...diverging(1), 255])
    // Slot 3 (column 1's second map, all +1) sits in the atlas' second row, first place.
    expect(px(0, 2)).toEqual([...diverging(1), 255])
    expect(px(1, 3)).toEqual([...diverging(1), 255])
    // Slot 2 (all −1) at the top right of the first row.
    expect(px(4, 1)).toEqual([...diverging(0), 255])
  })

  it('has a signature that changes when any map changes and not otherwise', () => {
    const one = {
      width: 2,
      indices: [0, 1],
      bytes: [
        [0, 10, 20, 30],
        [40, 50, 60, 70],
      ],
    }
    const a = mapAtlas(maps([one])).signature
    expect(mapAtlas(maps([one], 9)).signature).toBe(a)
    expect(
      mapAtlas(
        maps([
          {
            ...one,
            bytes: [
              [0, 10, 20, 30],
              [40, 50, 61, 70],
            ],
          },
        ]),
      ).signature,
    ).not.toBe(a)
    expect(mapAtlas(maps([{ ...one, range: [-1, 2] }])).signature).not.toBe(a)
  })
})

describe('neuron thumbnails: placement', () => {
  it('one square per neuron of a column of circles, centred on it, inside its row', () => {
    const g = layoutNetwork([2, 8, 8, 2], 1000, 500)
    const full = (w: number) => ({ width: w, indices: Array.from({ length: w }, (_, i) => i) })
    let slot = 0
    const columns = [2, 8, 8, 2].map((w) => ({ ...full(w), firstSlot: (slot += w) - w }))
    const rects = thumbnailRects(g, { columns })
    expect(rects).toHaveLength(20)
    expect(rects.map((r) => r.slot)).toEqual(Array.from({ length: 20 }, (_, i) => i))
    for (const r of rects) {
      const col = g.columns[r.column]!
      expect(r.x + r.size / 2).toBeCloseTo(col.x)
      expect(r.y + r.size / 2).toBeCloseTo(neuronY(col, r.index))
      expect(r.size).toBeLessThanOrEqual(Math.min(MAX_THUMB, col.rowH))
    }
  })

  it('a sample of a column of bars gets bigger squares spread over the column, none outside it', () => {
    const g = layoutNetwork([2, 1024, 2], 900, 400)
    const col = g.columns[1]!
    expect(col.shape).toBe('bar')
    const indices = [64, 192, 320, 448, 576, 704, 832, 960]
    const rects = thumbnailRects(g, {
      columns: [
        { width: 2, indices: [0, 1], firstSlot: 0 },
        { width: 1024, indices, firstSlot: 2 },
      ],
    })
    const mid = rects.filter((r) => r.column === 1)
    expect(mid.map((r) => r.index)).toEqual(indices)
    expect(mid[0]!.size).toBeGreaterThan(col.rowH * 8)
    for (const [i, r] of mid.entries()) {
      expect(r.y).toBeGreaterThanOrEqual(col.top)
      expect(r.y + r.size).toBeLessThanOrEqual(col.top + col.rowH * col.count + 1e-9)
      if (i > 0) expect(r.y).toBeGreaterThanOrEqual(mid[i - 1]!.y + mid[i - 1]!.size)
    }
  })

  it('skips columns whose width is not the drawing’s (maps of another model, between refreshes)', () => {
    const g = layoutNetwork([2, 8, 2], 600, 300)
    const rects = thumbnailRects(g, {
      columns: [
        { width: 2, indices: [0, 1], firstSlot: 0 },
        { width: 6, indices: [0, 1, 2, 3, 4, 5], firstSlot: 2 },
      ],
    })
    expect(rects.map((r) => r.column)).toEqual([0, 0])
  })
})

describe('neuron thumbnails: what the view says', () => {
  it('labels a sampled column, and nothing when every neuron has its map', () => {
    expect(mapsLabel({ width: 1024, indices: [1, 2, 3, 4, 5, 6, 7, 8] }, 1)).toBe('maps for 8 of 1024 units')
    expect(mapsLabel({ width: 12, indices: [1, 5] }, 0)).toBe('maps for 2 of 12 features')
    expect(mapsLabel({ width: 3, indices: [0, 1, 2] }, 2)).toBeNull()
  })

  it('says why in one line for data without an input plane, only for the session shown', () => {
    const info = (planar: boolean, id = 's2') => ({ planar, featureNames: ['a', 'b', 'c', 'd'], state: { sessionId: id } }) as const
    expect(noMapsReason(info(false) as never, 's2')).toBe(
      "No neuron maps: the inputs are 4 columns, not 2-D points, so there is no input plane to draw each neuron's output over.",
    )
    expect(noMapsReason(info(true) as never, 's2')).toBeNull()
    expect(noMapsReason(info(false, 's1') as never, 's2')).toBeNull()
    expect(noMapsReason(null, 's2')).toBeNull()
  })
})
