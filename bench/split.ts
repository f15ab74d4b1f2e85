// Does the second thread pay? The WebAssembly matmul kernel on [n,n]·[n,n] kept on one thread
// against the shipped setup (a helper thread, split or not per shape as measured), in interleaved
// rounds so load from other processes falls on both alike, after checking the two products agree
// bit for bit. Used by `npm run bench` and bench/matmul-threads.ts.
import type { WasmGemm } from '../src/engine/backends/cpu/wasm/wasm-gemm.js'
import { makeMatrix, median } from './common.js'

export interface SplitRow {
  n: number
  /** GFLOP/s (2·n³ flops per product), medians over the rounds. */
  one: number
  two: number
  ratio: number
  /** What the split policy measured for this shape at the end (ms per multiply-add). */
  costs?: { inline: number; split: number }
}

export const SPLIT_SIZES = [128, 256, 512, 1024]

export async function benchSplit(one: WasmGemm, two: WasmGemm, sizes = SPLIT_SIZES, rounds = 7, roundMs = 250): Promise<SplitRow[]> {
  // The helper thread starts asynchronously; until it has, products stay on one thread.
  for (let t = 0; !two.splitting && two.threads > 1 && t < 500; t++) await new Promise((resolve) => setTimeout(resolve, 10))
  const rows: SplitRow[] = []
  for (const n of sizes) {
    const a = makeMatrix(n, 1)
    const b = makeMatrix(n, 2)
    const want = new Float32Array(n * n)
    const got = new Float32Array(n * n)
    one.gemm(n, n, n, a, 0, n, 1, b, 0, n, 1, want, 0)
    two.gemm(n, n, n, a, 0, n, 1, b, 0, n, 1, got, 0)
    if (!want.every((v, i) => Object.is(v, got[i]))) throw new Error(`n=${n}: the two-thread product differs from the one-thread one`)
    const gflops = (g: WasmGemm): number => {
      let it = 0
      const t0 = performance.now()
      while (performance.now() - t0 < roundMs || it === 0) {
        g.gemm(n, n, n, a, 0, n, 1, b, 0, n, 1, got, 0)
        it++
      }
      return (2 * n ** 3 * it) / ((performance.now() - t0) / 1000) / 1e9
    }
    const s: number[] = []
    const d: number[] = []
    for (let r = 0; r < rounds; r++) {
      s.push(gflops(one))
      d.push(gflops(two))
    }
    rows.push({ n, one: median(s), two: median(d), ratio: median(d) / median(s), costs: two.policy.costs(`${n},${n},${n},a,b`) })
  }
  return rows
}

export function printSplit(rows: SplitRow[]): void {
  console.log('\nMatmul, the shipped two-thread setup (split per shape as measured) vs one thread: GFLOP/s, float32, [n,n]·[n,n]')
  for (const r of rows) {
    const c = r.costs
      ? `  (split chosen: ${r.costs.split < r.costs.inline ? 'yes' : 'no'}; ${(r.costs.split / r.costs.inline).toFixed(2)}× the one-thread time when split)`
      : ''
    console.log(
      `  n=${String(r.n).padEnd(5)} one thread ${r.one.toFixed(1).padStart(5)}  shipped ${r.two.toFixed(1).padStart(5)}  shipped/one ${r.ratio.toFixed(2)}×${c}`,
    )
  }
}
