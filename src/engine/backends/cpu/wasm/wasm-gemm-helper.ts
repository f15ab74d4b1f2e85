// The matmul kernel's helper thread: a worker_threads eval worker that runs the same WebAssembly
// module on the shared memory and computes the row range it is handed, while the main thread does
// the rest (Atomics to hand over and wait). Only the shared builds in Node use it (wasm-gemm.ts).
import type { WasmMemory } from './wasm-gemm.js'

/**
 * The helper thread's side, as the source of a Node `eval` worker: say it is ready in control[17],
 * then wait for a new sequence number in control[0], run the posted rows (arguments in
 * control[2..16]) and publish the number (negated on failure) in control[1].
 */
const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads')
const { module, memory, control: c } = workerData
const gemm = new WebAssembly.Instance(module, { env: { memory } }).exports.gemm
Atomics.store(c, 17, 1)
let seen = 0
for (;;) {
  Atomics.wait(c, 0, seen)
  seen = Atomics.load(c, 0)
  try {
    gemm(c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13], c[14], c[15], c[16])
    Atomics.store(c, 1, seen)
  } catch {
    Atomics.store(c, 1, -seen)
  }
  Atomics.notify(c, 1)
}
`

/** The main thread's handle on the helper: post a row range, then block until it is done. */
export class GemmHelper {
  private seq = 0

  constructor(private readonly control: Int32Array) {}

  /**
   * Whether the helper has started and instantiated the kernel. Until then products stay on the
   * calling thread, so a helper that never starts costs nothing and cannot be waited on forever.
   */
  get ready(): boolean {
    return Atomics.load(this.control, 17) === 1
  }

  /** Posts the 15 kernel arguments (byte addresses and element counts, all below 2³¹). */
  start(args: readonly number[]): void {
    for (let i = 0; i < args.length; i++) this.control[2 + i] = args[i]
    Atomics.store(this.control, 0, ++this.seq)
    Atomics.notify(this.control, 0)
  }

  /** Waits for the posted rows; throws if the helper's kernel call failed. */
  finish(): void {
    for (;;) {
      const done = Atomics.load(this.control, 1)
      if (done === this.seq) return
      if (done === -this.seq) throw new Error('wasm gemm: the helper thread failed on its rows')
      Atomics.wait(this.control, 1, done)
    }
  }
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
  const control = new Int32Array(new SharedArrayBuffer(4 * 18))
  const worker = new wt.Worker(HELPER_SOURCE, { eval: true, workerData: { module, memory, control } })
  worker.unref()
  return new GemmHelper(control)
}
