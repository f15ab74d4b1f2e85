// A cache-blocked, register-tiled matrix product for one [m,k]·[k,n] pair, in plain TypeScript.
// Operands are read through element strides, so transposed operands cost only their packing:
// A is packed into 4-row panels and B into 4-column panels (k-major, zero-padded), and a 4×4
// micro-kernel keeps its 16 accumulators in locals, where V8 holds them in registers.

const MR = 4
const NR = 4
/** Depth of one block: a 4×KC panel of A and a KC×4 panel of B stay in L1. */
const KC = 256
/** Rows of A per block (MC×KC floats of packed A stay in L2). */
const MC = 64
/** Columns of B per block (KC×NC floats of packed B stay in L2). */
const NC = 512

// Packing buffers live for the module's lifetime: no allocation per call.
const packA = new Float64Array(MC * KC)
const packB = new Float64Array(KC * NC)
const edgeTile = new Float64Array(MR * NR)

export interface GemmOperand {
  data: ArrayLike<number>
  offset: number
  /** Element stride between rows of op(X) (i for A, p for B). */
  rowStride: number
  /** Element stride between columns of op(X) (p for A, j for B). */
  colStride: number
}

/**
 * C[offC + i·n + j] += Σ_p op(A)(i,p)·op(B)(p,j) for a dense row-major C (the caller zeroes C).
 * Accumulates in float64 within each KC block.
 */
export function gemm(m: number, n: number, k: number, A: GemmOperand, B: GemmOperand, c: Float32Array | Float64Array, offC: number): void {
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc)
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc)
      packPanelsB(B, pc, jc, kc, nc)
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic)
        packPanelsA(A, ic, pc, mc, kc)
        macroKernel(mc, nc, kc, c, offC + ic * n + jc, n)
      }
    }
  }
}

/** Packs op(B)[pc:pc+kc, jc:jc+nc] as ⌈nc/4⌉ panels, each kc rows of 4 values (zero-padded). */
function packPanelsB(B: GemmOperand, pc: number, jc: number, kc: number, nc: number): void {
  const { data, offset, rowStride: sp, colStride: sj } = B
  const dst = packB
  let o = 0
  for (let j0 = 0; j0 < nc; j0 += NR) {
    const w = Math.min(NR, nc - j0)
    let src = offset + pc * sp + (jc + j0) * sj
    if (w === NR) {
      for (let p = 0; p < kc; p++, src += sp, o += NR) {
        dst[o] = data[src]
        dst[o + 1] = data[src + sj]
        dst[o + 2] = data[src + 2 * sj]
        dst[o + 3] = data[src + 3 * sj]
      }
    } else {
      for (let p = 0; p < kc; p++, src += sp, o += NR) {
        for (let t = 0; t < NR; t++) dst[o + t] = t < w ? data[src + t * sj] : 0
      }
    }
  }
}

/** Packs op(A)[ic:ic+mc, pc:pc+kc] as ⌈mc/4⌉ panels, each kc columns of 4 values (zero-padded). */
function packPanelsA(A: GemmOperand, ic: number, pc: number, mc: number, kc: number): void {
  const { data, offset, rowStride: si, colStride: sp } = A
  const dst = packA
  let o = 0
  for (let i0 = 0; i0 < mc; i0 += MR) {
    const h = Math.min(MR, mc - i0)
    let src = offset + (ic + i0) * si + pc * sp
    if (h === MR) {
      for (let p = 0; p < kc; p++, src += sp, o += MR) {
        dst[o] = data[src]
        dst[o + 1] = data[src + si]
        dst[o + 2] = data[src + 2 * si]
        dst[o + 3] = data[src + 3 * si]
      }
    } else {
      for (let p = 0; p < kc; p++, src += sp, o += MR) {
        for (let t = 0; t < MR; t++) dst[o + t] = t < h ? data[src + t * si] : 0
      }
    }
  }
}

/** Every 4×4 tile of the current block: C tile += packed A panel · packed B panel. */
function macroKernel(mc: number, nc: number, kc: number, c: Float32Array | Float64Array, offC: number, ldc: number): void {
  const pa = packA
  const pb = packB
  for (let j0 = 0; j0 < nc; j0 += NR) {
    const bBase = (j0 / NR) * kc * NR
    const w = Math.min(NR, nc - j0)
    for (let i0 = 0; i0 < mc; i0 += MR) {
      const aBase = (i0 / MR) * kc * MR
      const h = Math.min(MR, mc - i0)
      let c00 = 0,
        c01 = 0,
        c02 = 0,
        c03 = 0
      let c10 = 0,
        c11 = 0,
        c12 = 0,
        c13 = 0
      let c20 = 0,
        c21 = 0,
        c22 = 0,
        c23 = 0
      let c30 = 0,
        c31 = 0,
        c32 = 0,
        c33 = 0
      let ai = aBase
      let bi = bBase
      for (let p = 0; p < kc; p++, ai += MR, bi += NR) {
        const a0 = pa[ai],
          a1 = pa[ai + 1],
          a2 = pa[ai + 2],
          a3 = pa[ai + 3]
        const b0 = pb[bi],
          b1 = pb[bi + 1],
          b2 = pb[bi + 2],
          b3 = pb[bi + 3]
        c00 += a0 * b0
        c01 += a0 * b1
        c02 += a0 * b2
        c03 += a0 * b3
        c10 += a1 * b0
        c11 += a1 * b1
        c12 += a1 * b2
        c13 += a1 * b3
        c20 += a2 * b0
        c21 += a2 * b1
        c22 += a2 * b2
        c23 += a2 * b3
        c30 += a3 * b0
        c31 += a3 * b1
        c32 += a3 * b2
        c33 += a3 * b3
      }
      const o = offC + i0 * ldc + j0
      if (h === MR && w === NR) {
        let r = o
        c[r] += c00
        c[r + 1] += c01
        c[r + 2] += c02
        c[r + 3] += c03
        r += ldc
        c[r] += c10
        c[r + 1] += c11
        c[r + 2] += c12
        c[r + 3] += c13
        r += ldc
        c[r] += c20
        c[r + 1] += c21
        c[r + 2] += c22
        c[r + 3] += c23
        r += ldc
        c[r] += c30
        c[r + 1] += c31
        c[r + 2] += c32
        c[r + 3] += c33
      } else {
        const tile = edgeTile
        tile[0] = c00
        tile[1] = c01
        tile[2] = c02
        tile[3] = c03
        tile[4] = c10
        tile[5] = c11
        tile[6] = c12
        tile[7] = c13
        tile[8] = c20
        tile[9] = c21
        tile[10] = c22
        tile[11] = c23
        tile[12] = c30
        tile[13] = c31
        tile[14] = c32
        tile[15] = c33
        for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) c[o + i * ldc + j] += tile[i * NR + j]
      }
    }
  }
}
