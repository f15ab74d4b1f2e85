// The matmul kernel's helper thread: a worker_threads eval worker that runs the same WebAssembly
// module on the shared memory. A split product is cut into chunks (wasm-gemm.ts plans them) that
// both threads claim one at a time from a shared counter, so the work goes to whichever thread is
// running: a helper that is slow to wake (its core busy elsewhere) finds the chunks already taken
// by the calling thread, which never waits for more than the one chunk the helper is computing.
// Only the shared builds in Node use it.
import type { WasmMemory } from './wasm-gemm.js'

/** Slots of the control block (Int32Array on a SharedArrayBuffer). */
const SEQ = 0 // job number; the helper waits for it to change
const READY = 1 // 1 once the helper has instantiated the kernel
const NEXT = 2 // next chunk to claim (CLOSED between jobs)
const DONE = 3 // chunks finished by either thread
const FAILED = 4 // 1 when the helper's kernel call threw
const COUNT = 5 // chunks in this job
const ARGS = 6 // gemmChunk's 15 arguments but the chunk index, with the helper's scratch addresses
const SLOTS = ARGS + 15
/** Far above any chunk count: claims made while the next job is being posted find nothing. */
const CLOSED = 1 << 30

/**
 * The helper thread's side, as the source of a Node `eval` worker: say it is ready, then on each new
 * job claim chunks until none is left, counting each one done (and a failure, should one throw).
 */
const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads')
const { module, memory, control: c } = workerData
const chunk = new WebAssembly.Instance(module, { env: { memory } }).exports.gemmChunk
Atomics.store(c, ${READY}, 1)
let seen = 0
for (;;) {
  Atomics.wait(c, ${SEQ}, seen)
  seen = Atomics.load(c, ${SEQ})
  for (;;) {
    const i = Atomics.add(c, ${NEXT}, 1)
    if (i >= Atomics.load(c, ${COUNT})) break
    const a = ${ARGS}
    try {
      chunk(c[a], c[a + 1], c[a + 2], c[a + 3], c[a + 4], c[a + 5], c[a + 6], c[a + 7], c[a + 8], c[a + 9], c[a + 10],
        c[a + 11], c[a + 12], c[a + 13], c[a + 14], i)
    } catch {
      Atomics.store(c, ${FAILED}, 1)
    }
    Atomics.add(c, ${DONE}, 1)
    Atomics.notify(c, ${DONE})
  }
}
`

/** The calling thread's handle on the helper: post a chunked job, take part in it, wait for the rest. */
export class GemmHelper {
  private seq = 0

  constructor(private readonly control: Int32Array) {}

  /**
   * Whether the helper has started and instantiated the kernel. Until then products stay on the
   * calling thread, so a helper that never starts costs nothing and cannot be waited on forever.
   */
  get ready(): boolean {
    return Atomics.load(this.control, READY) === 1
  }

  /**
   * Runs chunks 0..count-1 of a product on both threads: `args` are gemmChunk's arguments but the
   * chunk index, with the helper's two scratch addresses as packA and packB (all below 2³¹);
   * `runHere(i)` computes chunk i on the calling thread. Returns how many chunks the helper did.
   */
  run(args: readonly number[], count: number, runHere: (i: number) => void): number {
    const c = this.control
    Atomics.store(c, NEXT, CLOSED)
    for (let i = 0; i < args.length; i++) c[ARGS + i] = args[i]
    c[COUNT] = count
    c[DONE] = 0
    c[FAILED] = 0
    Atomics.store(c, NEXT, 0)
    Atomics.store(c, SEQ, ++this.seq)
    Atomics.notify(c, SEQ)
    let here = 0
    for (;;) {
      const i = Atomics.add(c, NEXT, 1)
      if (i >= count) break
      runHere(i)
      here++
      Atomics.add(c, DONE, 1)
    }
    for (;;) {
      const done = Atomics.load(c, DONE)
      if (done >= count) break
      Atomics.wait(c, DONE, done)
    }
    if (Atomics.load(c, FAILED) !== 0) throw new Error('wasm gemm: the helper thread failed on its chunk of the product')
    return count - here
  }
}

/** A control block whose helper reports ready but never claims anything (tests of the back-off). */
export function idleHelper(): GemmHelper {
  const control = new Int32Array(new SharedArrayBuffer(4 * SLOTS))
  control[READY] = 1
  return new GemmHelper(control)
}

interface NodeBuiltins {
  getBuiltinModule?: (id: string) => unknown
}

/**
 * Starts the helper thread on `module` and `memory` where the runtime can (Node ≥ 20.16 with
 * worker_threads, SharedArrayBuffer and at least two cores); null otherwise. The thread is unref'd:
 * it never keeps a process alive.
 */
export function startHelper(module: object, memory: WasmMemory): GemmHelper | null {
  const proc = (globalThis as { process?: NodeBuiltins }).process
  const wt = proc?.getBuiltinModule?.('node:worker_threads') as { Worker: new (src: string, o: object) => { unref(): void } } | undefined
  const os = proc?.getBuiltinModule?.('node:os') as { availableParallelism?: () => number } | undefined
  if (!wt || typeof SharedArrayBuffer !== 'function' || (os?.availableParallelism?.() ?? 1) < 2) return null
  const control = new Int32Array(new SharedArrayBuffer(4 * SLOTS))
  const worker = new wt.Worker(HELPER_SOURCE, { eval: true, workerData: { module, memory, control } })
  worker.unref()
  return new GemmHelper(control)
}
