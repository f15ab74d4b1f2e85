// Memory flatness: heap used and ArrayBuffer bytes (typed arrays' backing stores, the WebAssembly
// kernel's memory included) after a full collection at two step counts of one training loop. A
// loop that leaks grows between the two readings; a flat one stays within a few per cent.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { nn, optim, softmaxCrossEntropy, tensor } from '../src/engine/index.js'
import { makeBatch, type MlpSpec } from './common.js'

export interface MemoryReading {
  step: number
  heapUsed: number
  arrayBuffers: number
}

export interface MemoryResult {
  net: string
  readings: MemoryReading[]
  /** Last reading over the first, for heap and ArrayBuffer bytes (1.00 = flat). */
  heapRatio: number
  arrayBufferRatio: number
}

/**
 * Full collections, so a reading counts what is live and not what is merely not yet collected;
 * array buffers' backing stores are freed by a concurrent sweeper, hence the pause and second pass.
 */
async function collect(): Promise<void> {
  let g = (globalThis as { gc?: () => void }).gc
  if (!g) {
    setFlagsFromString('--expose-gc')
    g = runInNewContext('gc') as () => void
  }
  g()
  await new Promise((resolve) => setTimeout(resolve, 50))
  g()
}

/** Trains `spec` (SGD, a fixed batch) for max(checkpoints) steps, reading memory at each checkpoint. */
export async function benchMemory(spec: MlpSpec, checkpoints: readonly number[]): Promise<MemoryResult> {
  const { x: xs, labels } = makeBatch(spec)
  const model = new nn.MLP(spec.sizes, { activation: spec.activation, seed: 1 })
  const opt = new optim.SGD(model.namedParameters(), { lr: spec.lr })
  const x = tensor(xs, { shape: [spec.batch, spec.sizes[0]] })
  const readings: MemoryReading[] = []
  const last = Math.max(...checkpoints)
  for (let step = 1; step <= last; step++) {
    opt.zeroGrad()
    softmaxCrossEntropy(model.forward(x), labels).backward()
    opt.step()
    if (checkpoints.includes(step)) {
      await collect()
      const m = process.memoryUsage()
      readings.push({ step, heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers })
    }
  }
  const first = readings[0]
  const end = readings[readings.length - 1]
  return { net: spec.name, readings, heapRatio: end.heapUsed / first.heapUsed, arrayBufferRatio: end.arrayBuffers / first.arrayBuffers }
}
