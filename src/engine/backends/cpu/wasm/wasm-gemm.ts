// Host side of the WebAssembly SIMD matmul kernel (assembly/gemm.ts, built by
// scripts/build-wasm.mjs): instantiates it on first use, owns its one linear memory and copies
// operands in and the product out. The memory is laid out as [packed A | packed B | A | B | C];
// it grows only when a product larger than any before needs more room, so steady training
// allocates nothing per call. Instantiation is synchronous (the module is ~2 KB, under every
// runtime's limit for synchronous compiles); where WebAssembly or SIMD128 is missing, or a content
// security policy forbids compiling, `loadWasmGemm()` says why and the caller keeps the TS kernel.
import { GEMM_RELAXED_WASM, GEMM_SIMD_WASM } from './gemm-wasm.generated.js'

/** Which build runs: relaxed SIMD adds fused multiply-add where the runtime validates it. */
export type WasmGemmVariant = 'simd' | 'relaxed-simd'

type GemmExport = (
  m: number, n: number, k: number,
  a: number, aRow: number, aCol: number,
  b: number, bRow: number, bCol: number,
  c: number, ldc: number, packA: number, packB: number,
  rowStart: number, rowEnd: number,
) => void

const align64 = (x: number): number => Math.ceil(x / 64) * 64

/** The part of the WebAssembly JS API used here (the engine compiles without DOM typings). */
export interface WasmApi {
  validate(bytes: Uint8Array): boolean
  Memory: new (descriptor: { initial: number }) => WasmMemory
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> }
}

interface WasmMemory {
  readonly buffer: ArrayBuffer
  grow(pages: number): number
}

/** The runtime's WebAssembly object, read when needed (absent in some sandboxes). */
export const wasmApi = (): WasmApi | undefined => (globalThis as { WebAssembly?: WasmApi }).WebAssembly

/** One instantiated kernel and its memory. */
export class WasmGemm {
  private heap: Float32Array
  private readonly packB: number
  /** First byte after the packing scratch: where operands and the product go. */
  private readonly dataStart: number

  constructor(
    readonly variant: WasmGemmVariant,
    private readonly memory: WasmMemory,
    private readonly kernel: GemmExport,
    packABytes: number,
    packBBytes: number,
    private readonly tileRows: number,
    private readonly tileCols: number,
  ) {
    this.packB = align64(packABytes)
    this.dataStart = this.packB + align64(packBBytes)
    this.heap = new Float32Array(memory.buffer)
  }

  /** Bytes of linear memory held now (the high-water mark of every product so far). */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength
  }

  /**
   * out[offC + i·n + j] = Σ_p op(A)(i,p)·op(B)(p,j), with op(A)(i,p) = a[offA + i·aI + p·aK] and
   * op(B)(p,j) = b[offB + p·bK + j·bJ], every index inside its array (m, n, k ≥ 1). Accumulates
   * in float32 (fused where the relaxed build runs), as float32 BLAS does. Returns false, having
   * written nothing, when the operands do not fit the 32-bit linear memory (the caller then uses
   * the TS kernel).
   */
  gemm(
    m: number, n: number, k: number,
    a: Float32Array, offA: number, aI: number, aK: number,
    b: Float32Array, offB: number, bK: number, bJ: number,
    out: Float32Array, offC: number,
  ): boolean {
    const spanA = (m - 1) * aI + (k - 1) * aK + 1
    const spanB = (k - 1) * bK + (n - 1) * bJ + 1
    const mPad = Math.ceil(m / this.tileRows) * this.tileRows
    const ldc = Math.ceil(n / this.tileCols) * this.tileCols
    const aAt = this.dataStart
    const bAt = aAt + align64(spanA * 4)
    const cAt = bAt + align64(spanB * 4)
    if (!this.reserve(cAt + mPad * ldc * 4)) return false
    const heap = this.heap
    heap.set(a.subarray(offA, offA + spanA), aAt >> 2)
    heap.set(b.subarray(offB, offB + spanB), bAt >> 2)
    this.kernel(m, n, k, aAt, aI, aK, bAt, bK, bJ, cAt, ldc, 0, this.packB, 0, m)
    const c0 = cAt >> 2
    if (ldc === n) {
      out.set(heap.subarray(c0, c0 + m * n), offC)
    } else {
      for (let i = 0, r = c0; i < m; i++, r += ldc) out.set(heap.subarray(r, r + n), offC + i * n)
    }
    return true
  }

  /**
   * Grows the memory (never shrinks it) so `bytes` fit, and refreshes the view after growth;
   * false when the runtime refuses to grow it that far (past 4 GiB, or out of memory).
   */
  private reserve(bytes: number): boolean {
    const have = this.memory.buffer.byteLength
    if (bytes > have) {
      try {
        this.memory.grow(Math.ceil((bytes - have) / 65536))
      } catch {
        return false
      }
    }
    if (this.heap.buffer !== this.memory.buffer) this.heap = new Float32Array(this.memory.buffer)
    return true
  }
}

/** The kernel, or why it cannot run here. */
export type WasmGemmLoad = { ok: true; gemm: WasmGemm } | { ok: false; reason: string }

function decodeBase64(s: string): Uint8Array {
  const bin = atob(s)
  const bytes = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i)
  return bytes
}

/**
 * Instantiates the best build the runtime validates: relaxed SIMD (FMA), else SIMD128.
 * `allowRelaxed: false` skips the relaxed build (tests use it to cover both).
 */
export function loadWasmGemm(o: { allowRelaxed?: boolean } = {}): WasmGemmLoad {
  const wa = wasmApi()
  if (typeof wa !== 'object' || typeof wa.validate !== 'function') {
    return { ok: false, reason: 'WebAssembly is not available' }
  }
  const relaxed = decodeBase64(GEMM_RELAXED_WASM)
  const simd = decodeBase64(GEMM_SIMD_WASM)
  let variant: WasmGemmVariant
  let bytes: Uint8Array
  if (o.allowRelaxed !== false && wa.validate(relaxed)) {
    variant = 'relaxed-simd'
    bytes = relaxed
  } else if (wa.validate(simd)) {
    variant = 'simd'
    bytes = simd
  } else {
    return { ok: false, reason: 'this runtime does not support WebAssembly SIMD128' }
  }
  try {
    const memory = new wa.Memory({ initial: 1 })
    const ex = new wa.Instance(new wa.Module(bytes), { env: { memory } }).exports
    const num = (name: string): number => (ex[name] as { value: number }).value
    return {
      ok: true,
      gemm: new WasmGemm(variant, memory, ex.gemm as GemmExport, num('PACK_A_BYTES'), num('PACK_B_BYTES'), num('TILE_ROWS'), num('TILE_COLS')),
    }
  } catch (e) {
    // A renderer whose CSP lacks 'wasm-unsafe-eval' refuses to compile: keep the TS kernel.
    return { ok: false, reason: `WebAssembly instantiation failed: ${e instanceof Error ? e.message : String(e)}` }
  }
}
