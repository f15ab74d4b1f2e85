// Host side of the WebAssembly SIMD matmul kernel (assembly/gemm.ts, built by
// scripts/build-wasm.mjs): instantiates it on first use, owns its linear memory and copies
// operands in and the product out. The memory is laid out as [packed A | packed B | A | B | C] and
// grows only for a product larger than any before, so steady training allocates nothing per call.
// Instantiation is synchronous (the module is ~2 KB); where WebAssembly or SIMD128 is missing, or
// a content security policy forbids compiling, `loadWasmGemm()` says why (the caller keeps the TS
// kernel). In Node with two or more cores, large products may be split with one helper thread on
// a shared memory (the shared builds; chunks claimed through Atomics) where the measured cost of
// each shape says it pays (split-policy.ts); the rest run on an unshared memory, as on one thread.
import { GemmHelper, startHelper } from './wasm-gemm-helper.js'
import { planChunks, SplitPolicy } from './split-policy.js'
import { GEMM_RELAXED_WASM, GEMM_SHARED_RELAXED_WASM, GEMM_SHARED_SIMD_WASM, GEMM_SIMD_WASM } from './gemm-wasm.generated.js'

/** Which build runs: relaxed SIMD adds fused multiply-add where the runtime validates it. */
export type WasmGemmVariant = 'simd' | 'relaxed-simd'

type ChunkExport = (...args: number[]) => void

type GemmExport = (
  m: number,
  n: number,
  k: number,
  a: number,
  aRow: number,
  aCol: number,
  b: number,
  bRow: number,
  bCol: number,
  c: number,
  ldc: number,
  packA: number,
  packB: number,
  rowStart: number,
  rowEnd: number,
) => void

const align64 = (x: number): number => Math.ceil(x / 64) * 64

/**
 * Multiply-adds from which a product may be split between two threads: 128³. Below it the hand-over
 * (a futex wake, ~10-50 µs to get the helper running) costs more than half the product; above it the
 * measured cost of each shape decides (split-policy.ts).
 */
export const SPLIT_MIN_WORK = 128 ** 3

/** Largest shared memory: 1 GiB (16384 pages), the shared builds' declared maximum. */
const SHARED_MAX_PAGES = 16384

/** The part of the WebAssembly JS API used here (the engine compiles without DOM typings). */
export interface WasmApi {
  validate(bytes: Uint8Array): boolean
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> }
}

export interface WasmMemory {
  readonly buffer: ArrayBufferLike
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
  /** The helper thread's packing scratch (after ours), when there is a helper. */
  private readonly helperPackA: number
  private readonly helperPackB: number

  constructor(
    readonly variant: WasmGemmVariant,
    private readonly memory: WasmMemory,
    private readonly kernel: GemmExport,
    private readonly chunk: ChunkExport,
    packABytes: number,
    packBBytes: number,
    private readonly tileRows: number,
    private readonly tileCols: number,
    /** The second thread, or null: products of at least `splitMinWork` multiply-adds are split. */
    private readonly helper: GemmHelper | null = null,
    private readonly splitMinWork = SPLIT_MIN_WORK,
    /** Decides per shape whether splitting pays; exported for the bench's report. */
    readonly policy = new SplitPolicy(),
    /** With a helper: a one-thread kernel on an unshared memory for every product not split (copies into a
     *  shared memory are slower: unsplit products on it ran at 0.93-0.97× the one-thread kernel). */
    private readonly inline: WasmGemm | null = null,
  ) {
    this.packB = align64(packABytes)
    this.helperPackA = this.packB + align64(packBBytes)
    this.helperPackB = this.helperPackA + align64(packABytes)
    this.dataStart = helper ? this.helperPackB + align64(packBBytes) : this.helperPackA
    this.heap = new Float32Array(memory.buffer)
  }

  /** Threads a large product runs on: 2 with a helper thread (once it has started), else 1. */
  get threads(): number {
    return this.helper ? 2 : 1
  }

  /** Whether the helper thread has started, so large products are split now. */
  get splitting(): boolean {
    return this.helper?.ready ?? false
  }

  /** Bytes of linear memory held now (the high-water mark of every product so far, both memories with a helper). */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength + (this.inline?.memoryBytes ?? 0)
  }

  /**
   * out[offC + i·n + j] = Σ_p op(A)(i,p)·op(B)(p,j), with op(A)(i,p) = a[offA + i·aI + p·aK] and
   * op(B)(p,j) = b[offB + p·bK + j·bJ], every index inside its array (m, n, k ≥ 1). Accumulates
   * in float32 (fused where the relaxed build runs), as float32 BLAS does. Returns false, having
   * written nothing, when the operands do not fit the 32-bit linear memory (the caller then uses
   * the TS kernel).
   */
  gemm(
    m: number,
    n: number,
    k: number,
    a: Float32Array,
    offA: number,
    aI: number,
    aK: number,
    b: Float32Array,
    offB: number,
    bK: number,
    bJ: number,
    out: Float32Array,
    offC: number,
  ): boolean {
    const work = m * n * k
    const plan =
      this.helper !== null && work >= this.splitMinWork && this.helper.ready ? planChunks(m, n, k, this.tileRows, this.tileCols) : null
    const key = plan && `${m},${n},${k},${aK === 1 ? 'a' : 'aT'},${bJ === 1 ? 'b' : 'bT'}`
    const split = key !== null && this.policy.choose(key)
    // Both ways are timed whole, copies included (a shared memory's are part of what a split costs).
    const t0 = key !== null ? performance.now() : 0
    if (!split && this.inline !== null) {
      const done = this.inline.gemm(m, n, k, a, offA, aI, aK, b, offB, bK, bJ, out, offC)
      if (done && key !== null) this.policy.record(key, false, performance.now() - t0, work)
      return done
    }
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
    if (split && plan) {
      const { axis, size, count } = plan
      const args = [m, n, k, aAt, aI, aK, bAt, bK, bJ, cAt, ldc, this.helperPackA, this.helperPackB, axis, size]
      this.helper!.run(args, count, (i) => this.chunk(m, n, k, aAt, aI, aK, bAt, bK, bJ, cAt, ldc, 0, this.packB, axis, size, i))
    } else {
      this.kernel(m, n, k, aAt, aI, aK, bAt, bK, bJ, cAt, ldc, 0, this.packB, 0, m)
    }
    const c0 = cAt >> 2
    if (ldc === n) {
      out.set(heap.subarray(c0, c0 + m * n), offC)
    } else {
      for (let i = 0, r = c0; i < m; i++, r += ldc) out.set(heap.subarray(r, r + n), offC + i * n)
    }
    if (key !== null) this.policy.record(key, split, performance.now() - t0, work)
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

export function decodeBase64(s: string): Uint8Array {
  const bin = atob(s)
  const bytes = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i)
  return bytes
}

/**
 * Instantiates the best build the runtime validates: relaxed SIMD (FMA), else SIMD128.
 * `allowRelaxed: false` skips the relaxed build; `threads: 1` keeps every product on the calling
 * thread (default 2 where a helper thread can run); `splitMinWork` lowers the split threshold and
 * `alwaysSplit` splits whatever can be instead of measuring (tests split small products with them).
 */
export function loadWasmGemm(
  o: { allowRelaxed?: boolean; threads?: 1 | 2; splitMinWork?: number; alwaysSplit?: boolean } = {},
): WasmGemmLoad {
  const wa = wasmApi()
  if (typeof wa !== 'object' || typeof wa.validate !== 'function') {
    return { ok: false, reason: 'WebAssembly is not available' }
  }
  const relaxed = o.allowRelaxed !== false && wa.validate(decodeBase64(GEMM_RELAXED_WASM))
  const variant: WasmGemmVariant = relaxed ? 'relaxed-simd' : 'simd'
  if (!relaxed && !wa.validate(decodeBase64(GEMM_SIMD_WASM))) {
    return { ok: false, reason: 'this runtime does not support WebAssembly SIMD128' }
  }
  try {
    const single = (): WasmGemm => {
      const memory = new wa.Memory({ initial: 1 })
      const ex = new wa.Instance(new wa.Module(decodeBase64(relaxed ? GEMM_RELAXED_WASM : GEMM_SIMD_WASM)), { env: { memory } }).exports
      return fromExports(variant, memory, ex, null)
    }
    if (o.threads !== 1) {
      const pooled = loadShared(wa, variant, single, o.splitMinWork, o.alwaysSplit)
      if (pooled) return { ok: true, gemm: pooled }
    }
    return { ok: true, gemm: single() }
  } catch (e) {
    // A renderer whose CSP lacks 'wasm-unsafe-eval' refuses to compile: keep the TS kernel.
    return { ok: false, reason: `WebAssembly instantiation failed: ${e instanceof Error ? e.message : String(e)}` }
  }
}

function fromExports(
  variant: WasmGemmVariant,
  memory: WasmMemory,
  ex: Record<string, unknown>,
  helper: GemmHelper | null,
  splitMinWork?: number,
  alwaysSplit = false,
  inline: WasmGemm | null = null,
): WasmGemm {
  const num = (name: string): number => (ex[name] as { value: number }).value
  return new WasmGemm(
    variant,
    memory,
    ex.gemm as GemmExport,
    ex.gemmChunk as ChunkExport,
    num('PACK_A_BYTES'),
    num('PACK_B_BYTES'),
    num('TILE_ROWS'),
    num('TILE_COLS'),
    helper,
    splitMinWork,
    new SplitPolicy(alwaysSplit),
    inline,
  )
}

/** The shared-memory build with a helper thread, or null where either cannot run here. */
function loadShared(
  wa: WasmApi,
  variant: WasmGemmVariant,
  single: () => WasmGemm,
  splitMinWork?: number,
  alwaysSplit?: boolean,
): WasmGemm | null {
  const bytes = decodeBase64(variant === 'relaxed-simd' ? GEMM_SHARED_RELAXED_WASM : GEMM_SHARED_SIMD_WASM)
  if (typeof SharedArrayBuffer !== 'function' || !wa.validate(bytes)) return null
  const memory = new wa.Memory({ initial: 1, maximum: SHARED_MAX_PAGES, shared: true })
  const module = new wa.Module(bytes)
  const ex = new wa.Instance(module, { env: { memory } }).exports
  const helper = startHelper(module, memory)
  return helper && fromExports(variant, memory, ex, helper, splitMinWork, alwaysSplit, single())
}
