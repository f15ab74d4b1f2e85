// AssemblyScript source of the CPU backend's float32 matmul kernel (WebAssembly SIMD128), built
// by scripts/build-wasm.mjs into a generated TS module. No allocator: the host (wasm-gemm.ts)
// owns the imported memory's layout and passes byte addresses. Operands are read through element
// strides, so transposed operands cost only their packing: op(A) is packed into MR-row panels and
// op(B) into NR-column panels (k-major, zero-padded), and an MR×NR micro-kernel keeps its
// accumulators in v128 locals. Measured at 1024 on the development machine (one core): 4×8 with
// A broadcast by v128.load32_splat (a broadcast load on x64) ~42 GFLOP/s, against ~37 broadcasting
// lanes of one v128 load by shuffles, ~32 for a scalar load + splat, and 6×8 spilling its 12
// accumulators (x64 has 16 vector registers) at 5-24; the block sizes (KC, MC, NC) mattered within
// noise. Built twice: with relaxed SIMD the kernel uses fused multiply-add (the host picks that
// build only where the runtime validates it).

/** Rows of one micro-tile (each k step broadcasts one f32 of packed A per row). */
const MR: i32 = 4
/** Columns of one micro-tile (two v128 of B). */
const NR: i32 = 8
/** Depth of one block: a MR×KC panel of A and a KC×NR panel of B stay in L1. */
const KC: i32 = 256
/** Rows of A per block (MC×KC floats of packed A stay in L2). */
const MC: i32 = 128
/** Columns of B per block (KC×NC floats of packed B stay in L2). */
const NC: i32 = 512

/** Bytes of scratch the host must reserve at `packA` and `packB`. */
export const PACK_A_BYTES: i32 = MC * KC * 4
export const PACK_B_BYTES: i32 = KC * NC * 4
export const TILE_ROWS: i32 = MR
export const TILE_COLS: i32 = NR

@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c)
  return f32x4.add(c, f32x4.mul(a, b))
}

/**
 * C = op(A)·op(B) for op(A) [m,k] at `a` (element strides aRow, aCol) and op(B) [k,n] at `b`
 * (bRow, bCol). C is written at `c` with row stride `ldc` elements, padded by the host to whole
 * tiles: rows up to ⌈m/MR⌉·MR and columns up to ⌈n/NR⌉·NR are written (padding holds zeros).
 * `rowStart`/`rowEnd` (multiples of MR, or m) select the rows of C this call computes, so
 * workers can split one product by rows.
 */
export function gemm(
  m: i32, n: i32, k: i32,
  a: usize, aRow: i32, aCol: i32,
  b: usize, bRow: i32, bCol: i32,
  c: usize, ldc: i32,
  packA: usize, packB: usize,
  rowStart: i32, rowEnd: i32,
): void {
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc)
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc)
      packPanelsB(b, bRow, bCol, pc, jc, kc, nc, packB)
      for (let ic = rowStart; ic < rowEnd; ic += MC) {
        const mc = min(MC, rowEnd - ic)
        packPanelsA(a, aRow, aCol, ic, pc, mc, kc, packA)
        const cBlock = c + ((<usize>ic * ldc + jc) << 2)
        for (let j0 = 0; j0 < nc; j0 += NR) {
          const pb = packB + (<usize>j0 * kc << 2)
          for (let i0 = 0; i0 < mc; i0 += MR) {
            microKernel(kc, packA + (<usize>i0 * kc << 2), pb, cBlock + ((<usize>i0 * ldc + j0) << 2), ldc, pc == 0)
          }
        }
      }
    }
  }
}

/** Packs op(B)[pc:pc+kc, jc:jc+nc] as ⌈nc/NR⌉ panels, each kc rows of NR values (zero-padded). */
function packPanelsB(b: usize, sp: i32, sj: i32, pc: i32, jc: i32, kc: i32, nc: i32, dst: usize): void {
  const spB = <usize>sp << 2
  const sjB = <usize>sj << 2
  for (let j0 = 0; j0 < nc; j0 += NR) {
    const w = min(NR, nc - j0)
    let src = b + ((<usize>pc * sp + <usize>(jc + j0) * sj) << 2)
    if (w == NR && sj == 1) {
      for (let p = 0; p < kc; p++) {
        v128.store(dst, v128.load(src))
        v128.store(dst, v128.load(src, 16), 16)
        src += spB
        dst += NR << 2
      }
    } else if (w == NR) {
      for (let p = 0; p < kc; p++) {
        let s = src
        for (let t = 0; t < NR; t++) {
          store<f32>(dst + (<usize>t << 2), load<f32>(s))
          s += sjB
        }
        src += spB
        dst += NR << 2
      }
    } else {
      for (let p = 0; p < kc; p++) {
        let s = src
        for (let t = 0; t < NR; t++) {
          store<f32>(dst + (<usize>t << 2), t < w ? load<f32>(s) : 0)
          s += sjB
        }
        src += spB
        dst += NR << 2
      }
    }
  }
}

/** Packs op(A)[ic:ic+mc, pc:pc+kc] as ⌈mc/MR⌉ panels, each kc columns of MR values (zero-padded). */
function packPanelsA(a: usize, si: i32, sp: i32, ic: i32, pc: i32, mc: i32, kc: i32, dst: usize): void {
  const siB = <usize>si << 2
  const spB = <usize>sp << 2
  for (let i0 = 0; i0 < mc; i0 += MR) {
    const h = min(MR, mc - i0)
    let src = a + ((<usize>(ic + i0) * si + <usize>pc * sp) << 2)
    if (h == MR && si == 1) {
      for (let p = 0; p < kc; p++) {
        v128.store(dst, v128.load(src))
        src += spB
        dst += MR << 2
      }
    } else if (h == MR) {
      for (let p = 0; p < kc; p++) {
        store<f32>(dst, load<f32>(src))
        store<f32>(dst, load<f32>(src + siB), 4)
        store<f32>(dst, load<f32>(src + 2 * siB), 8)
        store<f32>(dst, load<f32>(src + 3 * siB), 12)
        src += spB
        dst += MR << 2
      }
    } else {
      for (let p = 0; p < kc; p++) {
        for (let t = 0; t < MR; t++) store<f32>(dst + (<usize>t << 2), t < h ? load<f32>(src + <usize>t * siB) : 0)
        src += spB
        dst += MR << 2
      }
    }
  }
}

/** One MR×NR tile: C tile (=, or += when not `first`) packed A panel · packed B panel. */
@inline function microKernel(kc: i32, pa: usize, pb: usize, c: usize, ldc: i32, first: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0)
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0)
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0)
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0)
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb)
    const b1 = v128.load(pb, 16)
    let av = v128.load32_splat(pa)
    c00 = madd(av, b0, c00); c01 = madd(av, b1, c01)
    av = v128.load32_splat(pa, 4)
    c10 = madd(av, b0, c10); c11 = madd(av, b1, c11)
    av = v128.load32_splat(pa, 8)
    c20 = madd(av, b0, c20); c21 = madd(av, b1, c21)
    av = v128.load32_splat(pa, 12)
    c30 = madd(av, b0, c30); c31 = madd(av, b1, c31)
    pa += MR << 2
    pb += NR << 2
  }
  const row = <usize>ldc << 2
  if (!first) {
    c00 = f32x4.add(c00, v128.load(c)); c01 = f32x4.add(c01, v128.load(c, 16))
    c10 = f32x4.add(c10, v128.load(c + row)); c11 = f32x4.add(c11, v128.load(c + row, 16))
    c20 = f32x4.add(c20, v128.load(c + 2 * row)); c21 = f32x4.add(c21, v128.load(c + 2 * row, 16))
    c30 = f32x4.add(c30, v128.load(c + 3 * row)); c31 = f32x4.add(c31, v128.load(c + 3 * row, 16))
  }
  v128.store(c, c00); v128.store(c, c01, 16)
  v128.store(c + row, c10); v128.store(c + row, c11, 16)
  v128.store(c + 2 * row, c20); v128.store(c + 2 * row, c21, 16)
  v128.store(c + 3 * row, c30); v128.store(c + 3 * row, c31, 16)
}

/**
 * Chunk `index` of a product cut into chunks of `size` rows (axis 0: a multiple of MR) or columns
 * (axis 1: a multiple of NR), the unit the two threads claim one at a time (wasm-gemm-helper.ts).
 * A column chunk is the product with B and C shifted by its first column: each thread packs only
 * its own columns of B, which is what pays when A has few rows (a batch of 32 against a wide W).
 */
export function gemmChunk(
  m: i32, n: i32, k: i32,
  a: usize, aRow: i32, aCol: i32,
  b: usize, bRow: i32, bCol: i32,
  c: usize, ldc: i32,
  packA: usize, packB: usize,
  axis: i32, size: i32, index: i32,
): void {
  const start = index * size
  if (axis == 0) {
    gemm(m, n, k, a, aRow, aCol, b, bRow, bCol, c, ldc, packA, packB, start, min(m, start + size))
  } else {
    const bAt = b + (<usize>start * <usize>bCol << 2)
    gemm(m, min(size, n - start), k, a, aRow, aCol, bAt, bRow, bCol, c + (<usize>start << 2), ldc, packA, packB, 0, m)
  }
}
