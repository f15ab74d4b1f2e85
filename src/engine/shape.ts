// Shape arithmetic shared by the frontend and the backends: sizes, strides, NumPy broadcasting.
import { EngineError, fmtShape } from './errors.js'
import type { Shape } from './backends/backend.js'

export function sizeOf(shape: Shape): number {
  let n = 1
  for (const d of shape) n *= d
  return n
}

export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length)
  let s = 1
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s
    s *= shape[i]
  }
  return strides
}

export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** NumPy broadcasting: align from the right, a dim of 1 stretches. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length)
  const out = new Array<number>(n)
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1
    const db = b[b.length - n + i] ?? 1
    if (da !== db && da !== 1 && db !== 1) {
      throw new EngineError(op, 'shape', `cannot broadcast a ${fmtShape(a)} with b ${fmtShape(b)} (dim ${i - n}: ${da} vs ${db})`)
    }
    out[i] = da === 1 ? db : da
  }
  return out
}

/**
 * Strides for reading a tensor of `shape` as if it had `outShape` (broadcast dims get stride 0).
 * Returned with length outShape.length.
 */
export function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const own = stridesOf(shape)
  const off = outShape.length - shape.length
  const out = new Array<number>(outShape.length).fill(0)
  for (let i = 0; i < shape.length; i++) out[i + off] = shape[i] === 1 ? 0 : own[i]
  return out
}

export function normalizeAxis(op: string, axis: number, ndim: number): number {
  if (!Number.isInteger(axis) || axis < -ndim || axis >= ndim) {
    throw new EngineError(op, 'argument', `axis ${axis} is out of range for a tensor with ${ndim} dims`)
  }
  return axis < 0 ? axis + ndim : axis
}

export function validateShape(op: string, shape: readonly number[]): number[] {
  if (!Array.isArray(shape)) throw new EngineError(op, 'shape', `shape must be an array of integers, got ${String(shape)}`)
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0)
      throw new EngineError(op, 'shape', `invalid shape ${fmtShape(shape)}: dims must be non-negative integers`)
  }
  return [...shape]
}
