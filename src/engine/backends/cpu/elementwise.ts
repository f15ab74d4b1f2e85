// Elementwise CPU kernels: one table per family, so a missing kernel is a compile error, and one
// broadcasting loop shared by every binary op.
import type { BinaryOp, Shape, TypedArray, UnaryOp } from '../backend.js'
import { broadcastStrides, sameShape, sizeOf } from '../../shape.js'
import { gelu, geluGrad, sigmoid } from './math.js'
import { BINARY_2D, coalesce2d, unaryFast } from './strided.js'

export const UNARY: Record<UnaryOp, (x: number, p: number) => number> = {
  neg: (x) => -x,
  exp: (x) => Math.exp(x),
  log: (x) => Math.log(x),
  relu: (x) => (x > 0 ? x : 0),
  tanh: (x) => Math.tanh(x),
  sigmoid: (x) => sigmoid(x),
  gelu: (x) => gelu(x),
  leakyRelu: (x, a) => (x > 0 ? x : a * x),
  sign: (x) => Math.sign(x), // 0 at 0, as torch.sign
  step: (x) => (x > 0 ? 1 : 0),
  leakyStep: (x, a) => (x > 0 ? 1 : a),
  geluGrad: (x) => geluGrad(x),
}

export const BINARY = {
  add: (a: number, b: number) => a + b,
  sub: (a: number, b: number) => a - b,
  mul: (a: number, b: number) => a * b,
  div: (a: number, b: number) => a / b,
  pow: (a: number, b: number) => Math.pow(a, b),
} satisfies Record<BinaryOp, (a: number, b: number) => number>

export function unaryInto(op: UnaryOp, a: TypedArray, out: TypedArray, param: number): void {
  if (unaryFast(op, a, out, param)) return
  const f = UNARY[op]
  for (let i = 0; i < a.length; i++) out[i] = f(a[i], param)
}

export function binaryInto(
  op: BinaryOp,
  a: TypedArray,
  aShape: Shape,
  b: TypedArray,
  bShape: Shape,
  out: TypedArray,
  outShape: Shape,
): void {
  const n = out.length
  if (sameShape(aShape, bShape)) {
    BINARY_2D[op](a, b, out, 1, n, 0, 1, 0, 1)
    return
  }
  const view = coalesce2d(aShape, bShape, outShape)
  if (view !== null) {
    BINARY_2D[op](a, b, out, ...view)
    return
  }
  const f = BINARY[op]
  // General case: an odometer over the outer dims, a strided inner loop over the last dim.
  const nd = outShape.length
  const sa = broadcastStrides(aShape, outShape)
  const sb = broadcastStrides(bShape, outShape)
  const inner = outShape[nd - 1]
  const ia = sa[nd - 1]
  const ib = sb[nd - 1]
  const outer = sizeOf(outShape) / inner
  const idx = new Array<number>(nd).fill(0)
  let offA = 0
  let offB = 0
  let o = 0
  for (let r = 0; r < outer; r++) {
    let pa = offA
    let pb = offB
    for (let j = 0; j < inner; j++, pa += ia, pb += ib) out[o++] = f(a[pa], b[pb])
    // advance the odometer over dims nd-2 .. 0
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]++
      offA += sa[d]
      offB += sb[d]
      if (idx[d] < outShape[d]) break
      offA -= sa[d] * outShape[d]
      offB -= sb[d] * outShape[d]
      idx[d] = 0
    }
  }
}

/** Broadcast-copy `a` (of `shape`) into `out` (of `outShape`). */
export function expandInto(a: TypedArray, shape: Shape, out: TypedArray, outShape: Shape): void {
  const nd = outShape.length
  if (nd === 0) {
    out[0] = a[0]
    return
  }
  const sa = broadcastStrides(shape, outShape)
  const inner = outShape[nd - 1]
  const ia = sa[nd - 1]
  const outer = out.length / inner
  const idx = new Array<number>(nd).fill(0)
  let offA = 0
  let o = 0
  for (let r = 0; r < outer; r++) {
    let pa = offA
    for (let j = 0; j < inner; j++, pa += ia) out[o++] = a[pa]
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]++
      offA += sa[d]
      if (idx[d] < outShape[d]) break
      offA -= sa[d] * outShape[d]
      idx[d] = 0
    }
  }
}
