// The preview of image-shaped data: a few training images of each class and the training rows'
// mean image, as bytes. Bounded by PREVIEW_IMAGE_BYTES whatever the dataset's size: the renderer
// gets samples, never the dataset.
import type { z } from 'zod'
import { PREVIEW_IMAGE_BYTES, type ImagePreview } from '../shared/protocol-data'
import type { SplitData } from './data-source'

export type ImagePreviewOut = z.output<typeof ImagePreview>

/** Samples of each class at most (fewer when many classes or large images share the byte budget). */
export const PREVIEW_PER_CLASS = 8
/** Rows the mean image is taken over at most (every k-th training row past this). */
export const MEAN_MAX_ROWS = 10_000

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')

/** Non-finite values show as lo (a CSV can hold anything the parser let through). */
function toBytes(values: ArrayLike<number>, lo: number, hi: number, out: Uint8Array, at: number): void {
  const span = hi > lo ? hi - lo : 1
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!
    out[at + i] = Number.isFinite(v) ? Math.round((Math.min(hi, Math.max(lo, v)) - lo) * (255 / span)) : 0
  }
}

function extent(values: ArrayLike<number>): [number, number] {
  let lo = Infinity
  let hi = -Infinity
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!
    if (!Number.isFinite(v)) continue
    if (v < lo) lo = v
    if (v > hi) hi = v
  }
  return lo <= hi ? [lo, hi] : [0, 1]
}

/** The training rows to show: up to perClass of each class (regression: one group, label 0), in training order. */
function pickRows(d: SplitData, groups: number, perClass: number): { rows: number[]; labels: number[] } {
  const regression = d.raw.task === 'regression'
  const byClass = Array.from({ length: groups }, () => [] as number[])
  let left = groups * perClass
  for (const i of d.trainRows) {
    if (left === 0) break
    const c = regression ? 0 : d.raw.y[i]!
    const bucket = byClass[c]
    if (bucket && bucket.length < perClass) {
      bucket.push(i)
      left--
    }
  }
  return { rows: byClass.flat(), labels: byClass.flatMap((b, c) => b.map(() => c)) }
}

/** Null for data that is not image-shaped, or whose single image exceeds the byte budget. */
export function imagePreviewOf(d: SplitData, maxBytes = PREVIEW_IMAGE_BYTES): ImagePreviewOut | null {
  if (!d.imageShape) return null
  const [height, width] = d.imageShape
  const hw = height * width
  const { raw } = d
  const maxImages = Math.floor(maxBytes / hw)
  if (maxImages < 1 || d.trainRows.length === 0) return null
  const groups = Math.min(raw.task === 'regression' ? 1 : raw.nClasses, maxImages)
  const perClass = Math.max(1, Math.min(raw.task === 'regression' ? maxImages : PREVIEW_PER_CLASS, Math.floor(maxImages / groups)))
  const { rows, labels } = pickRows(d, groups, perClass)

  const chosen = new Float32Array(rows.length * hw)
  rows.forEach((r, k) => chosen.set(raw.x.subarray(r * hw, r * hw + hw), k * hw))
  const range = extent(chosen)
  const pixels = new Uint8Array(chosen.length)
  toBytes(chosen, range[0], range[1], pixels, 0)

  const stride = Math.max(1, Math.ceil(d.trainRows.length / MEAN_MAX_ROWS))
  const sum = new Float64Array(hw)
  let counted = 0
  for (let k = 0; k < d.trainRows.length; k += stride) {
    const at = d.trainRows[k]! * hw
    for (let j = 0; j < hw; j++) {
      const v = raw.x[at + j]!
      if (Number.isFinite(v)) sum[j] += v
    }
    counted++
  }
  const meanValues = sum.map((s) => s / counted)
  const meanRange = extent(meanValues)
  const mean = new Uint8Array(hw)
  toBytes(meanValues, meanRange[0], meanRange[1], mean, 0)
  return { height, width, labels, perClass, pixels: b64(pixels), range, mean: b64(mean), meanRange }
}
