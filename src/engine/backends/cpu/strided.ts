// Monomorphic loops for the common elementwise cases. A loop that calls its op through a table is
// megamorphic (V8 cannot inline the call), which cost more than the arithmetic in small nets; so
// the hot ops get one loop each, over a 2-D strided view that covers same-shape, scalar, row- and
// column-broadcast operands after coalescing dims.
import type { ActivationGradOp, BinaryOp, Shape, TypedArray, UnaryOp } from '../backend.js'
import { broadcastStrides } from '../../shape.js'

/** out[i·inner + j] = a[i·aO + j·aI] op b[i·bO + j·bI] */
export type Loop2d = (
  a: TypedArray,
  b: TypedArray,
  out: TypedArray,
  outer: number,
  inner: number,
  aO: number,
  aI: number,
  bO: number,
  bI: number,
) => void

export const BINARY_2D: Record<BinaryOp, Loop2d> = {
  add: (a, b, out, outer, inner, aO, aI, bO, bI) => {
    for (let i = 0, o = 0; i < outer; i++)
      for (let j = 0, pa = i * aO, pb = i * bO; j < inner; j++, pa += aI, pb += bI) out[o++] = a[pa] + b[pb]
  },
  sub: (a, b, out, outer, inner, aO, aI, bO, bI) => {
    for (let i = 0, o = 0; i < outer; i++)
      for (let j = 0, pa = i * aO, pb = i * bO; j < inner; j++, pa += aI, pb += bI) out[o++] = a[pa] - b[pb]
  },
  mul: (a, b, out, outer, inner, aO, aI, bO, bI) => {
    for (let i = 0, o = 0; i < outer; i++)
      for (let j = 0, pa = i * aO, pb = i * bO; j < inner; j++, pa += aI, pb += bI) out[o++] = a[pa] * b[pb]
  },
  div: (a, b, out, outer, inner, aO, aI, bO, bI) => {
    for (let i = 0, o = 0; i < outer; i++)
      for (let j = 0, pa = i * aO, pb = i * bO; j < inner; j++, pa += aI, pb += bI) out[o++] = a[pa] / b[pb]
  },
  pow: (a, b, out, outer, inner, aO, aI, bO, bI) => {
    for (let i = 0, o = 0; i < outer; i++)
      for (let j = 0, pa = i * aO, pb = i * bO; j < inner; j++, pa += aI, pb += bI) out[o++] = Math.pow(a[pa], b[pb])
  },
}

/**
 * Merges adjacent output dims that both operands walk contiguously (or both skip), dropping size-1
 * dims. Returns [outer, inner, aO, aI, bO, bI] when the result has at most 2 dims, else null.
 */
export function coalesce2d(aShape: Shape, bShape: Shape, outShape: Shape): [number, number, number, number, number, number] | null {
  const sa = broadcastStrides(aShape, outShape)
  const sb = broadcastStrides(bShape, outShape)
  const dims: number[] = []
  const as: number[] = []
  const bs: number[] = []
  for (let d = 0; d < outShape.length; d++) {
    const n = outShape[d]
    if (n === 1) continue
    const k = dims.length - 1
    if (k >= 0 && as[k] === sa[d] * n && bs[k] === sb[d] * n) {
      dims[k] *= n
      as[k] = sa[d]
      bs[k] = sb[d]
    } else {
      dims.push(n)
      as.push(sa[d])
      bs.push(sb[d])
    }
  }
  if (dims.length > 2) return null
  if (dims.length === 0) return [1, 1, 0, 0, 0, 0]
  if (dims.length === 1) return [1, dims[0], 0, as[0], 0, bs[0]]
  return [dims[0], dims[1], as[0], as[1], bs[0], bs[1]]
}

/** Unary ops with an inlined loop; the rest go through the scalar table. */
export function unaryFast(op: UnaryOp, a: TypedArray, out: TypedArray, param: number): boolean {
  const n = a.length
  switch (op) {
    case 'neg':
      for (let i = 0; i < n; i++) out[i] = -a[i]
      return true
    case 'exp':
      for (let i = 0; i < n; i++) out[i] = Math.exp(a[i])
      return true
    case 'log':
      for (let i = 0; i < n; i++) out[i] = Math.log(a[i])
      return true
    case 'relu':
      if (a instanceof Float32Array && out instanceof Float32Array) reluBits(a, out)
      else for (let i = 0; i < n; i++) out[i] = a[i] > 0 ? a[i] : 0
      return true
    case 'tanh':
      for (let i = 0; i < n; i++) out[i] = Math.tanh(a[i])
      return true
    case 'step':
      for (let i = 0; i < n; i++) out[i] = +(a[i] > 0) // a number from the comparison: no branch to mispredict
      return true
    case 'leakyRelu':
      for (let i = 0; i < n; i++) out[i] = a[i] > 0 ? a[i] : param * a[i]
      return true
    case 'sign':
      // Branch-free on the sign (≈3× the ternary on random signs); NaN stays NaN, as Math.sign.
      for (let i = 0; i < n; i++) {
        const x = a[i]
        out[i] = x === x ? +(x > 0) - +(x < 0) : x
      }
      return true
    default:
      return false
  }
}

/** g·f'(·) in one pass (see Backend.activationGrad), each the composed rule's arithmetic. */
export function activationGradInto(op: ActivationGradOp, g: TypedArray, v: TypedArray, out: TypedArray): void {
  const n = out.length
  if (op === 'tanh') for (let i = 0; i < n; i++) out[i] = g[i] * (1 - v[i] * v[i])
  else if (op === 'sigmoid') for (let i = 0; i < n; i++) out[i] = g[i] * (v[i] * (1 - v[i]))
  // NaN·0 stays NaN, as composed; +(v > 0) is 1 or 0 without a branch, which random signs would
  // mispredict half the time (~4× slower on the bench's nets).
  else for (let i = 0; i < n; i++) out[i] = g[i] * +(v[i] > 0)
}

/**
 * relu on float32 as `a > 0 ? a : 0` (NaN and −0 give +0) without a branch: the comparison becomes
 * an all-ones or zero mask over the float's bits.
 */
function reluBits(a: Float32Array, out: Float32Array): void {
  const ai = new Int32Array(a.buffer, a.byteOffset, a.length)
  const oi = new Int32Array(out.buffer, out.byteOffset, out.length)
  for (let i = 0, n = a.length; i < n; i++) oi[i] = ai[i] & -+(a[i] > 0)
}

/** Mean softmax cross-entropy of each row and its gradient (see Backend.softmaxCrossEntropy). */
export function softmaxCrossEntropyInto(x: TypedArray, t: TypedArray, rows: number, classes: number, grad: TypedArray): number {
  let total = 0
  for (let r = 0, o = 0; r < rows; r++, o += classes) {
    let m = -Infinity
    for (let c = 0; c < classes; c++) if (x[o + c] > m || Number.isNaN(x[o + c])) m = x[o + c]
    let s = 0
    let tSum = 0
    let tx = 0
    for (let c = 0; c < classes; c++) {
      const z = x[o + c] - m
      s += Math.exp(z)
      tSum += t[o + c]
      tx += t[o + c] * z
    }
    const logS = Math.log(s)
    total += tx - tSum * logS
    for (let c = 0; c < classes; c++) grad[o + c] = ((Math.exp(x[o + c] - m) / s) * tSum - t[o + c]) / rows
  }
  return -total / rows
}
