import { describe, expect, it } from 'vitest'
import { cellAt, cellRect, type HeatmapLayout } from './heatmap'

const layout: HeatmapLayout = { rows: 16, cols: 300, x: 80, y: 4, width: 600, height: 160 }

describe('heatmap geometry', () => {
  it('tiles the plot area exactly: neighbours share edges, the last cell ends at the edge', () => {
    expect(cellRect(layout, 0, 0)).toEqual({ x: 80, y: 4, w: 2, h: 10 })
    const a = cellRect(layout, 3, 10)
    const b = cellRect(layout, 3, 11)
    expect(b.x).toBe(a.x + a.w)
    const last = cellRect(layout, 15, 299)
    expect(last.x + last.w).toBe(680)
    expect(last.y + last.h).toBe(164)
  })

  it('cells never get lost with more columns than pixels', () => {
    const tight = { ...layout, cols: 1000, width: 300 }
    const widths = Array.from({ length: 1000 }, (_, c) => cellRect(tight, 0, c).w)
    expect(widths.reduce((s, w) => s + w, 0)).toBe(300)
  })

  it('finds the cell under the pointer and null outside', () => {
    expect(cellAt(layout, 80, 4)).toEqual({ row: 0, col: 0 })
    expect(cellAt(layout, 679.9, 163.9)).toEqual({ row: 15, col: 299 })
    expect(cellAt(layout, 381, 4 + 10 * 7 + 1)).toEqual({ row: 7, col: 150 })
    expect(cellAt(layout, 79, 50)).toBeNull()
    expect(cellAt(layout, 680, 50)).toBeNull()
    expect(cellAt({ ...layout, cols: 0 }, 100, 50)).toBeNull()
  })

  it('refuses impossible layouts with a message naming them', () => {
    expect(() => cellRect({ ...layout, rows: 1.5 }, 0, 0)).toThrow(/rows and cols must be whole numbers ≥ 0, got 1.5×300/)
    expect(() => cellAt({ ...layout, width: -1 }, 0, 0)).toThrow(/size must be ≥ 0/)
  })
})
