// Geometry of a row × column heatmap drawn on a canvas: where each cell goes, which cell is under
// the pointer, and painting from a value-to-colour function. Rows are layers or steps; columns are
// time or value bins. Cells fill the plot area exactly, so many columns shrink to a pixel each.
import { css, type Rgb } from './color-scales'

export interface HeatmapLayout {
  rows: number
  cols: number
  /** Plot area in CSS pixels (inside any labels). */
  x: number
  y: number
  width: number
  height: number
}

export interface CellRect {
  x: number
  y: number
  w: number
  h: number
}

function check(layout: HeatmapLayout): void {
  const { rows, cols, width, height } = layout
  if (!(Number.isInteger(rows) && rows >= 0 && Number.isInteger(cols) && cols >= 0))
    throw new RangeError(`heatmap: rows and cols must be whole numbers ≥ 0, got ${rows}×${cols}`)
  if (!(width >= 0 && height >= 0)) throw new RangeError(`heatmap: size must be ≥ 0, got ${width}×${height}`)
}

/** The rectangle of cell (row, col): edges at rounded fractions, so neighbours share edges. */
export function cellRect(layout: HeatmapLayout, row: number, col: number): CellRect {
  check(layout)
  const x0 = layout.x + Math.round((col * layout.width) / layout.cols)
  const x1 = layout.x + Math.round(((col + 1) * layout.width) / layout.cols)
  const y0 = layout.y + Math.round((row * layout.height) / layout.rows)
  const y1 = layout.y + Math.round(((row + 1) * layout.height) / layout.rows)
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 }
}

/** The cell under a point, or null outside the plot area (or when there are no cells). */
export function cellAt(layout: HeatmapLayout, px: number, py: number): { row: number; col: number } | null {
  check(layout)
  const { rows, cols, x, y, width, height } = layout
  if (rows === 0 || cols === 0 || px < x || py < y || px >= x + width || py >= y + height) return null
  return { row: Math.min(rows - 1, Math.floor(((py - y) / height) * rows)), col: Math.min(cols - 1, Math.floor(((px - x) / width) * cols)) }
}

/** Paint every cell whose colour is not null; returns how many were painted. */
export function paintHeatmap(
  ctx: CanvasRenderingContext2D,
  layout: HeatmapLayout,
  color: (row: number, col: number) => Rgb | null,
): number {
  let painted = 0
  for (let r = 0; r < layout.rows; r++) {
    for (let c = 0; c < layout.cols; c++) {
      const rgb = color(r, c)
      if (!rgb) continue
      const rect = cellRect(layout, r, c)
      ctx.fillStyle = css(rgb)
      ctx.fillRect(rect.x, rect.y, Math.max(1, rect.w), Math.max(1, rect.h))
      painted++
    }
  }
  return painted
}

/** Size a canvas's backing store to its CSS box times the device pixel ratio; returns its CSS size. */
export function fitCanvas(canvas: HTMLCanvasElement): { width: number; height: number; ctx: CanvasRenderingContext2D | null } {
  const ratio = window.devicePixelRatio || 1
  const width = canvas.clientWidth
  const height = canvas.clientHeight
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio)
    canvas.height = Math.round(height * ratio)
  }
  const ctx = canvas.getContext('2d')
  ctx?.setTransform(ratio, 0, 0, ratio, 0, 0)
  return { width, height, ctx }
}
