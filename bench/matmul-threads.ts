// `npx tsx bench/matmul-threads.ts`: does the second thread pay? Times the WebAssembly matmul
// kernel on [n,n]·[n,n] kept on one thread against the engine's split (rows shared with one helper
// thread on a shared memory), in interleaved rounds so load from other processes falls on both
// alike, after checking the split product equals the one-thread one bit for bit.
import { cpus, loadavg } from 'node:os'
import { loadWasmGemm, SPLIT_MIN_WORK, type WasmGemm } from '../src/engine/backends/cpu/wasm/wasm-gemm.js'
import { makeMatrix, median } from './common.js'

function load(threads: 1 | 2): WasmGemm {
  const l = loadWasmGemm({ threads })
  if (!l.ok) throw new Error(l.reason)
  if (l.gemm.threads !== threads)
    throw new Error(`asked for ${threads} threads, got ${l.gemm.threads} (no worker_threads or SharedArrayBuffer here?)`)
  return l.gemm
}

const one = load(1)
const two = load(2)
// The helper thread starts asynchronously; until it has, products stay on one thread.
while (!two.splitting) await new Promise((resolve) => setTimeout(resolve, 10))
console.log(
  `Machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores, load average ${loadavg()[0].toFixed(2)} · kernel ${one.variant} · split from ${Math.round(SPLIT_MIN_WORK ** (1 / 3))}³ multiply-adds`,
)
for (const n of [256, 512, 1024]) {
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
    while (performance.now() - t0 < 300) {
      g.gemm(n, n, n, a, 0, n, 1, b, 0, n, 1, got, 0)
      it++
    }
    return (2 * n ** 3 * it) / ((performance.now() - t0) / 1000) / 1e9
  }
  const s: number[] = []
  const d: number[] = []
  for (let r = 0; r < 7; r++) {
    s.push(gflops(one))
    d.push(gflops(two))
  }
  console.log(
    `n=${n}: 1 thread ${median(s).toFixed(1)} GFLOP/s, 2 threads ${median(d).toFixed(1)} GFLOP/s, ratio ${(median(d) / median(s)).toFixed(2)}×`,
  )
}
console.log(`load average at end ${loadavg()[0].toFixed(2)}`)
