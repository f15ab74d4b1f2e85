// The second thread of bench/matmul-threads.ts: computes the lower half of C's rows of each
// product the main thread posts through the shared control array, with its own packing scratch.
import { parentPort, workerData } from 'node:worker_threads'

const { module, memory, control, A, B, C, pack } = workerData
const gemm = new WebAssembly.Instance(module, { env: { memory } }).exports.gemm
parentPort.postMessage('ready')
let seen = 0
for (;;) {
  Atomics.wait(control, 0, seen)
  seen = Atomics.load(control, 0)
  const n = Atomics.load(control, 2)
  const half = Math.ceil(n / 8) * 4
  gemm(n, n, n, A, n, 1, B, n, 1, C, n, pack, 2 * pack - 256 * 512 * 4, half, n)
  Atomics.store(control, 1, seen)
  Atomics.notify(control, 1)
}
