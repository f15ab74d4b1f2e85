// Matmul on row-major data with optional transposed operands, read in place (never materialised).
// Large float32 products go to the WebAssembly SIMD kernel (wasm/wasm-gemm.ts) where the runtime
// has it, else to the blocked TS kernel (gemm.ts), which float64 always uses; small ones use plain
// loops whose order follows the memory layout of B: i-k-j when B's rows are contiguous, dot
// products otherwise. `setCpuMatmulKernel` (or BPS_CPU_MATMUL=ts|wasm|auto in the environment)
// chooses the float32 kernel, so the test suites run on both; BPS_CPU_MATMUL_THREADS=1 keeps the
// WebAssembly kernel on one thread.
import type { MatmulArgs, TypedArray } from '../backend.js'
import { broadcastStrides, sizeOf } from '../../shape.js'
import { gemm } from './gemm.js'
import { loadWasmGemm, type WasmGemm, type WasmGemmLoad } from './wasm/wasm-gemm.js'

/** Below this many multiply-adds per matrix, packing costs more than it saves (TS kernel). */
const GEMM_MIN_WORK = 4096
/**
 * The WebAssembly kernel pays from far smaller products: on the bench's 2-16-16-2 net its
 * 32×2·2×16 forward takes ~1.5 µs against ~4 µs in the plain loops (bench/matmul-micro.ts --small).
 */
const WASM_MIN_WORK = 256

/** 'auto': the WebAssembly kernel where it loads, else TS; 'wasm': it or an error; 'ts': TS only. */
export type CpuMatmulKernelChoice = 'auto' | 'wasm' | 'ts'

/** What runs float32 products now, and why. */
export interface CpuMatmulKernelInfo {
  choice: CpuMatmulKernelChoice
  kernel: 'wasm-simd' | 'wasm-relaxed-simd' | 'ts'
  /** Threads a large product runs on (2: split with a helper thread; the TS kernel uses 1). */
  threads: number
  reason: string
}

const processEnv = (): Record<string, string | undefined> | undefined =>
  (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env

/** BPS_CPU_MATMUL in the environment (Node only), else 'auto'. */
function choiceFromEnv(): CpuMatmulKernelChoice {
  const env = processEnv()?.BPS_CPU_MATMUL
  if (env === undefined || env === '') return 'auto'
  if (env !== 'auto' && env !== 'wasm' && env !== 'ts') throw new Error(`BPS_CPU_MATMUL=${env}: expected auto, wasm or ts`)
  return env
}

/** The default loader: BPS_CPU_MATMUL_THREADS=1 keeps every product on the calling thread. */
function loadFromEnv(): WasmGemmLoad {
  const threads = processEnv()?.BPS_CPU_MATMUL_THREADS
  if (threads !== undefined && threads !== '' && threads !== '1' && threads !== '2') {
    throw new Error(`BPS_CPU_MATMUL_THREADS=${threads}: expected 1 or 2`)
  }
  return loadWasmGemm({ threads: threads === '1' ? 1 : 2 })
}

let choice: CpuMatmulKernelChoice = choiceFromEnv()
let loader: () => WasmGemmLoad = loadFromEnv
/** undefined until first needed: the module is compiled lazily, on the first large product. */
let loaded: WasmGemmLoad | undefined

/** The WebAssembly kernel when the choice allows it and it loads; throws for 'wasm' if it cannot. */
function activeWasm(): WasmGemm | null {
  if (choice === 'ts') return null
  const l = (loaded ??= loader())
  if (l.ok) return l.gemm
  if (choice === 'wasm') throw new Error(`cpu matmul kernel 'wasm' was chosen but the WebAssembly kernel is unavailable: ${l.reason}`)
  return null
}

/**
 * Chooses the float32 matmul kernel. 'wasm' throws, naming the reason, where the WebAssembly
 * kernel cannot load (and leaves the choice as it was). `load` replaces the loader (tests use it
 * to stand for a runtime without WebAssembly SIMD); the default instantiates the best build the
 * runtime validates, with a helper thread for large products unless BPS_CPU_MATMUL_THREADS=1.
 */
export function setCpuMatmulKernel(next: CpuMatmulKernelChoice, load: () => WasmGemmLoad = loadFromEnv): CpuMatmulKernelInfo {
  if (next !== 'auto' && next !== 'wasm' && next !== 'ts') {
    throw new Error(`setCpuMatmulKernel: unknown kernel ${JSON.stringify(next)} (expected 'auto', 'wasm' or 'ts')`)
  }
  if (load !== loader) {
    loader = load
    loaded = undefined
  }
  if (next === 'wasm') {
    const l = (loaded ??= loader())
    if (!l.ok) throw new Error(`setCpuMatmulKernel('wasm'): the WebAssembly kernel is unavailable: ${l.reason}`)
  }
  choice = next
  return cpuMatmulKernel()
}

/** The float32 kernel in use (loading the WebAssembly one if not yet tried). */
export function cpuMatmulKernel(): CpuMatmulKernelInfo {
  if (choice === 'ts') return { choice, kernel: 'ts', threads: 1, reason: 'TS kernel chosen' }
  const l = (loaded ??= loader())
  return l.ok
    ? {
        choice,
        kernel: l.gemm.variant === 'relaxed-simd' ? 'wasm-relaxed-simd' : 'wasm-simd',
        threads: l.gemm.threads,
        reason: 'WebAssembly SIMD kernel loaded',
      }
    : { choice, kernel: 'ts', threads: 1, reason: l.reason }
}

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
  a: TypedArray,
  offA: number,
  aI: number,
  aK: number,
  b: TypedArray,
  offB: number,
  bK: number,
  bJ: number,
  out: TypedArray,
  offC: number,
  m: number,
  n: number,
  k: number,
): void {
  if (m * n * k >= WASM_MIN_WORK) {
    const wasm = out instanceof Float32Array && a instanceof Float32Array && b instanceof Float32Array ? activeWasm() : null
    if (wasm !== null && wasm.gemm(m, n, k, a as Float32Array, offA, aI, aK, b as Float32Array, offB, bK, bJ, out as Float32Array, offC))
      return
  }
  if (m * n * k >= GEMM_MIN_WORK) {
    out.fill(0, offC, offC + m * n)
    gemm(
      m,
      n,
      k,
      { data: a, offset: offA, rowStride: aI, colStride: aK },
      { data: b, offset: offB, rowStride: bK, colStride: bJ },
      out,
      offC,
    )
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
