// Matmul on row-major data with optional transposed operands, read in place (never materialised).
// Large products go to the blocked kernel (gemm.ts); small ones use plain loops whose order follows
// the memory layout of B: i-k-j when B's rows are contiguous, dot products otherwise.
import type { MatmulArgs, TypedArray } from '../backend.js'
import { broadcastStrides, sizeOf } from '../../shape.js'
import { gemm } from './gemm.js'

/** Below this many multiply-adds per matrix, packing costs more than it saves. */
const GEMM_MIN_WORK = 4096

export function matmulInto(a: TypedArray, b: TypedArray, out: TypedArray, args: MatmulArgs): void {
  const { aShape, bShape, transA, transB, outShape } = args
  const ra = aShape.length
  const rb = bShape.length
  const m = outShape[outShape.length - 2]
  const n = outShape[outShape.length - 1]
  const k = transA ? aShape[ra - 2] : aShape[ra - 1]
  const aRows = aShape[ra - 2]
  const aCols = aShape[ra - 1]
  const bRows = bShape[rb - 2]
  const bCols = bShape[rb - 1]
  // Element strides of op(A)(i, p) and op(B)(p, j) inside one matrix.
  const aI = transA ? 1 : aCols
  const aK = transA ? aCols : 1
  const bK = transB ? 1 : bCols
  const bJ = transB ? bCols : 1

  if (outShape.length === 2) {
    matrixInto(a, 0, aI, aK, b, 0, bK, bJ, out, 0, m, n, k)
    return
  }
  const batchShape = outShape.slice(0, -2)
  const nBatch = sizeOf(batchShape)
  const aBatchStrides = broadcastStrides(aShape.slice(0, -2), batchShape).map((s) => s * aRows * aCols)
  const bBatchStrides = broadcastStrides(bShape.slice(0, -2), batchShape).map((s) => s * bRows * bCols)
  const idx = new Array<number>(batchShape.length).fill(0)

  for (let bt = 0; bt < nBatch; bt++) {
    let offA = 0
    let offB = 0
    for (let d = 0; d < idx.length; d++) {
      offA += idx[d] * aBatchStrides[d]
      offB += idx[d] * bBatchStrides[d]
    }
    matrixInto(a, offA, aI, aK, b, offB, bK, bJ, out, bt * m * n, m, n, k)
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d] < batchShape[d]) break
      idx[d] = 0
    }
  }
}

/** One [m,k]·[k,n] product read through element strides, written densely at out[offC]. */
function matrixInto(
  a: TypedArray, offA: number, aI: number, aK: number,
  b: TypedArray, offB: number, bK: number, bJ: number,
  out: TypedArray, offC: number, m: number, n: number, k: number,
): void {
  if (m * n * k >= GEMM_MIN_WORK) {
    out.fill(0, offC, offC + m * n)
    gemm(m, n, k, { data: a, offset: offA, rowStride: aI, colStride: aK }, { data: b, offset: offB, rowStride: bK, colStride: bJ }, out, offC)
  } else if (bJ === 1) {
    for (let i = 0; i < m; i++) {
      const crow = offC + i * n
      for (let j = 0; j < n; j++) out[crow + j] = 0
      for (let p = 0; p < k; p++) {
        const av = a[offA + i * aI + p * aK]
        const brow = offB + p * bK
        for (let j = 0; j < n; j++) out[crow + j] += av * b[brow + j]
      }
    }
  } else {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0
        let pa = offA + i * aI
        let pb = offB + j * bJ
        for (let p = 0; p < k; p++, pa += aK, pb += bK) acc += a[pa] * b[pb]
        out[offC + i * n + j] = acc
      }
    }
  }
}

export function transposeInto(a: TypedArray, shape: readonly number[], out: TypedArray): void {
  const r = shape.length
  const rows = shape[r - 2]
  const cols = shape[r - 1]
  const mat = rows * cols
  const batches = mat === 0 ? 0 : a.length / mat
  for (let bt = 0; bt < batches; bt++) {
    const off = bt * mat
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) out[off + j * rows + i] = a[off + i * cols + j]
    }
  }
}
