// `npx tsx bench/matmul-threads.ts`: does the second thread pay? The WebAssembly matmul kernel on
// one thread against the shipped two-thread setup (split per shape as measured), bench/split.ts.
import { cpus, loadavg } from 'node:os'
import { loadWasmGemm, SPLIT_MIN_WORK, type WasmGemm } from '../src/engine/backends/cpu/wasm/wasm-gemm.js'
import { benchSplit } from './split.js'

function load(threads: 1 | 2): WasmGemm {
  const l = loadWasmGemm({ threads })
  if (!l.ok) throw new Error(l.reason)
  if (l.gemm.threads !== threads)
    throw new Error(`asked for ${threads} threads, got ${l.gemm.threads} (no worker_threads or SharedArrayBuffer here?)`)
  return l.gemm
}

const one = load(1)
const two = load(2)
console.log(
  `Machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores, load average ${loadavg()[0].toFixed(2)} · kernel ${one.variant} · split considered from ${Math.round(SPLIT_MIN_WORK ** (1 / 3))}³ multiply-adds`,
)
for (const r of await benchSplit(one, two)) {
  const c = r.costs ? ` (policy: ${(r.costs.inline * 1e6).toFixed(3)} ns/madd inline, ${(r.costs.split * 1e6).toFixed(3)} split)` : ''
  console.log(`n=${r.n}: 1 thread ${r.one.toFixed(1)} GFLOP/s, shipped ${r.two.toFixed(1)} GFLOP/s, ratio ${r.ratio.toFixed(2)}×${c}`)
}
console.log(`load average at end ${loadavg()[0].toFixed(2)}`)
