// Reductions along one axis, viewing the tensor as [outer, n, inner] so every axis is one loop nest.
import type { ReduceOp, Shape, TypedArray } from '../backend.js'

function split(shape: Shape, axis: number): [number, number, number] {
  let outer = 1
  let inner = 1
  for (let i = 0; i < axis; i++) outer *= shape[i]
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i]
  return [outer, shape[axis], inner]
}

export function reduceInto(op: ReduceOp, a: TypedArray, shape: Shape, axis: number, out: TypedArray): void {
  const [outer, n, inner] = split(shape, axis)
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner
    for (let i = 0; i < inner; i++) {
      let p = base + i
      if (op === 'sum') {
        let acc = 0 // a JS number: the sum accumulates in float64 even for float32 tensors
        for (let k = 0; k < n; k++, p += inner) acc += a[p]
        out[o * inner + i] = acc
      } else {
        let m = -Infinity
        for (let k = 0; k < n; k++, p += inner) {
          const v = a[p]
          if (v > m || Number.isNaN(v)) m = v
          if (Number.isNaN(m)) break
        }
        out[o * inner + i] = m
      }
    }
  }
}

export function argmaxOneHotInto(a: TypedArray, shape: Shape, axis: number, out: TypedArray): void {
  const [outer, n, inner] = split(shape, axis)
  out.fill(0)
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner
    for (let i = 0; i < inner; i++) {
      let best = base + i
      let m = a[best]
      for (let k = 1, p = best + inner; k < n; k++, p += inner) {
        if (a[p] > m) {
          m = a[p]
          best = p
        }
      }
      if (n > 0) out[best] = 1
    }
  }
}
