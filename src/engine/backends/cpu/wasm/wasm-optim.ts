// Host side of the fused float32 Adam update (assembly/optim.ts, built by scripts/build-wasm.mjs):
// instantiates it on first use on a small private memory and streams p, g, m, v through it one
// chunk at a time, so each chunk is staged, updated and copied back while it is in cache. Where
// WebAssembly SIMD128 is missing (or a content security policy forbids compiling) it is null and
// optimizers.ts keeps its JS loop.
import { OPTIM_SIMD_WASM } from './gemm-wasm.generated.js'
import { decodeBase64, wasmApi } from './wasm-gemm.js'
import type { AdamStep } from '../../backend.js'

type AdamExport = (
  n: number,
  p: number,
  g: number,
  m: number,
  v: number,
  b1: number,
  c1: number,
  b2: number,
  c2: number,
  l2: number,
  decay: number,
  invSqrtBc2: number,
  eps: number,
  stepSize: number,
) => void

/** Floats per staged chunk: four 64 KiB arrays stay in a 512 KiB L2 with room to spare. */
const CHUNK = 16384
const BYTES = CHUNK * 4

export class WasmAdam {
  private readonly heap: Float32Array

  constructor(
    memory: { buffer: ArrayBufferLike },
    private readonly kernel: AdamExport,
  ) {
    this.heap = new Float32Array(memory.buffer, 0, 4 * CHUNK)
  }

  /**
   * One Adam step on float32 arrays: `m` and `v` are updated in place (they are the optimiser's own
   * state), the new parameters go to `out`. Constants are rounded to float32 as the composed
   * update's scalar tensors are, so both give the same bits.
   */
  step(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, out: Float32Array, o: AdamStep): void {
    const decoupled = o.decoupled && o.weightDecay !== 0
    const f = Math.fround
    const b1 = f(o.beta1)
    const c1 = f(1 - o.beta1)
    const b2 = f(o.beta2)
    const c2 = f(1 - o.beta2)
    const l2 = decoupled ? 0 : f(o.weightDecay)
    const decay = decoupled ? f(1 - o.lr * o.weightDecay) : 1
    const inv = f(1 / Math.sqrt(1 - Math.pow(o.beta2, o.step)))
    const eps = f(o.eps)
    const stepSize = f(o.lr / (1 - Math.pow(o.beta1, o.step)))
    const heap = this.heap
    for (let i = 0, n = p.length; i < n; i += CHUNK) {
      const len = Math.min(CHUNK, n - i)
      heap.set(p.subarray(i, i + len), 0)
      heap.set(g.subarray(i, i + len), CHUNK)
      heap.set(m.subarray(i, i + len), 2 * CHUNK)
      heap.set(v.subarray(i, i + len), 3 * CHUNK)
      // Lanes past `len` in the last chunk hold stale values; they are computed and never copied out.
      this.kernel((len + 3) & ~3, 0, BYTES, 2 * BYTES, 3 * BYTES, b1, c1, b2, c2, l2, decay, inv, eps, stepSize)
      out.set(heap.subarray(0, len), i)
      m.set(heap.subarray(2 * CHUNK, 2 * CHUNK + len), i)
      v.set(heap.subarray(3 * CHUNK, 3 * CHUNK + len), i)
    }
  }
}

let loaded: WasmAdam | null | undefined

/** The kernel, instantiated on first use; null where this runtime cannot run it. */
export function wasmAdam(): WasmAdam | null {
  if (loaded !== undefined) return loaded
  loaded = null
  const wa = wasmApi()
  if (typeof wa !== 'object' || typeof wa.validate !== 'function') return null
  const bytes = decodeBase64(OPTIM_SIMD_WASM)
  if (!wa.validate(bytes)) return null
  try {
    const memory = new wa.Memory({ initial: (4 * BYTES) / 65536 })
    const ex = new wa.Instance(new wa.Module(bytes), { env: { memory } }).exports
    loaded = new WasmAdam(memory, ex.adam as AdamExport)
  } catch {
    // A renderer whose CSP lacks 'wasm-unsafe-eval' refuses to compile: the JS loop runs instead.
  }
  return loaded
}
