// `npx tsx bench/matmul-threads.ts`: does a second thread pay for the WebAssembly matmul kernel
// here? Builds assembly/gemm.ts with shared memory (threads feature) and times [n,n]·[n,n] on one
// thread against the same product split by rows between this thread and one worker_thread
// (SharedArrayBuffer memory, Atomics wait/notify), in interleaved rounds so load from other
// processes falls on both alike. The engine ships the single-thread kernel; this measures the pool.
import { Worker } from 'node:worker_threads'
import { cpus, loadavg } from 'node:os'
import asc from 'assemblyscript/asc'
import { median } from './common.js'

/** The WebAssembly JS API as used here (tsconfig.node.json carries no WebAssembly typings). */
const WA = (globalThis as unknown as {
  WebAssembly: {
    Module: new (bytes: Uint8Array) => object
    Memory: new (d: { initial: number; maximum: number; shared: boolean }) => { buffer: SharedArrayBuffer }
    Instance: new (m: object, imports: object) => { exports: Record<string, unknown> }
  }
}).WebAssembly

async function sharedBuild(): Promise<Uint8Array> {
  const out: { wasm?: Uint8Array } = {}
  const { error, stderr } = await asc.main(
    ['assembly/gemm.ts', '-O3', '--runtime', 'stub', '--importMemory', '--sharedMemory', '--maximumMemory', '2048', '--noAssert', '--enable', 'simd,threads', '--outFile', 'gemm.wasm'],
    {
      writeFile: (name, contents) => {
        if (name.endsWith('.wasm') && contents instanceof Uint8Array) out.wasm = contents
      },
    },
  )
  if (error || !out.wasm) throw new Error(`asc failed: ${error?.message}\n${stderr.toString()}`)
  return out.wasm
}

const PACK = 128 * 256 * 4 + 256 * 512 * 4 // one thread's packing scratch (PACK_A_BYTES + PACK_B_BYTES)

async function main(): Promise<void> {
  const bytes = await sharedBuild()
  const module = new WA.Module(bytes)
  const sizes = [256, 512, 1024]
  const nMax = Math.max(...sizes)
  const A = 2 * PACK
  const B = A + nMax * nMax * 4
  const C = B + nMax * nMax * 4
  const memory = new WA.Memory({ initial: Math.ceil((C + nMax * nMax * 4) / 65536), maximum: 2048, shared: true })
  const gemm = new WA.Instance(module, { env: { memory } }).exports.gemm as (...a: number[]) => void
  const heap = new Float32Array(memory.buffer)
  for (let i = A / 4; i < C / 4; i++) heap[i] = Math.random() - 0.5
  // control: [0] request sequence, [1] done sequence, [2] n
  const control = new Int32Array(new SharedArrayBuffer(12))
  const worker = new Worker(new URL('./matmul-threads-worker.mjs', import.meta.url), { workerData: { module, memory, control, A, B, C, pack: PACK } })
  await new Promise((resolve) => worker.once('message', resolve))
  let seq = 0
  const single = (n: number): void => gemm(n, n, n, A, n, 1, B, n, 1, C, n, 0, PACK - 256 * 512 * 4, 0, n)
  const dual = (n: number): void => {
    const half = Math.ceil(n / 8) * 4 // rows split on a tile boundary
    Atomics.store(control, 2, n)
    Atomics.store(control, 0, ++seq)
    Atomics.notify(control, 0)
    gemm(n, n, n, A, n, 1, B, n, 1, C, n, 0, PACK - 256 * 512 * 4, 0, half)
    while (Atomics.load(control, 1) !== seq) Atomics.wait(control, 1, seq - 1, 50)
  }
  console.log(`Machine: ${cpus()[0]?.model}, ${cpus().length} cores, load average ${loadavg()[0].toFixed(2)}`)
  for (const n of sizes) {
    const gflops = (run: (n: number) => void): number => {
      let it = 0
      const t0 = performance.now()
      while (performance.now() - t0 < 300) {
        run(n)
        it++
      }
      return (2 * n ** 3 * it) / ((performance.now() - t0) / 1000) / 1e9
    }
    gflops(single)
    gflops(dual)
    const s: number[] = []
    const d: number[] = []
    for (let r = 0; r < 7; r++) {
      s.push(gflops(single))
      d.push(gflops(dual))
    }
    console.log(`n=${n}: 1 thread ${median(s).toFixed(1)} GFLOP/s, 2 threads ${median(d).toFixed(1)} GFLOP/s, ratio ${(median(d) / median(s)).toFixed(2)}×`)
  }
  console.log(`load average at end ${loadavg()[0].toFixed(2)}`)
  await worker.terminate()
  process.exit(0)
}

main().catch((e: unknown) => {
  console.error(e)
  process.exit(1)
})
