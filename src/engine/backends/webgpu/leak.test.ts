// GPU memory stays flat over a long run: every intermediate of 2,000 training steps goes back to
// the pool once collected, so the pool stops creating buffers after warm-up.
import { expect, it } from 'vitest'
import { describeWebGpu } from '../../testing/backends.js'
import { requireNodeWebGpu } from '../../testing/webgpu-host.js'
import { currentBackend, setBackend } from '../registry.js'
import { data, nn, optim, registerWebGpu, softmaxCrossEntropy, tensor } from '../../index.js'
import type { WebGpuBackend } from './backend.js'
import type { PoolStats } from './pool.js'

const gc = (globalThis as { gc?: () => void }).gc

/** Collect, let the finalizers run, then read the pool: buffersInUse is then exactly the live set. */
async function settledMemory(be: WebGpuBackend): Promise<PoolStats> {
  gc!()
  for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 10))
  return be.memory()
}

describeWebGpu('memory over a long training run', () => {
  it('buffer count and bytes stay flat from step 500 to step 2,000 (Adam, loss read every 10 steps)', async () => {
    // vitest.config.ts passes --expose-gc to the workers; the pool's GC hook depends on it.
    expect(typeof gc).toBe('function')
    // The pool peaks at live + garbage awaiting collection: at most the GC budget plus what is
    // allocated between reads. A small budget reaches that plateau within the first steps.
    const { device } = await requireNodeWebGpu()
    registerWebGpu(device, { collectGarbage: gc, gcBudgetBuffers: 4096 })
    await setBackend('webgpu')
    const be = currentBackend() as WebGpuBackend
    const ds = data.generate('xor', { n: 256, noise: 0, seed: 3 })
    const model = new nn.MLP([2, 16, 16, 2], { activation: 'tanh', seed: 5 })
    const opt = new optim.Adam(model.namedParameters(), { lr: 0.01 })
    const sampler = new data.BatchSampler(ds, 32, { seed: 6 })
    const snapshots = new Map<number, PoolStats>()
    const losses: number[] = []
    for (let step = 1; step <= 2000; step++) {
      // At the top of a step nothing from the previous one is referenced any more.
      if (step === 501) snapshots.set(500, await settledMemory(be))
      const b = sampler.next()
      opt.zeroGrad()
      const loss = softmaxCrossEntropy(model.forward(tensor(b.x, { shape: [b.size, 2] })), b.y)
      loss.backward()
      opt.step()
      // A host reads metrics now and then; each await also lets finalizers return buffers.
      if (step % 10 === 0) losses.push(await loss.item())
    }
    snapshots.set(2000, await settledMemory(be))
    const mid = snapshots.get(500)!
    const end = snapshots.get(2000)!
    const counters = be.counters()
    console.log(
      `pool at step 500: ${JSON.stringify(mid)}; at 2000: ${JSON.stringify(end)}; ${counters.dispatches} dispatches in ${counters.submits} submits`,
    )
    // Exactly the same live set (weights, Adam's moments): nothing accumulates across steps.
    expect(end.buffersInUse).toBe(mid.buffersInUse)
    expect(end.bytesInUse).toBe(mid.bytesInUse)
    // The pool itself stops growing: within 10% after 1,500 more steps (when the GC happens to
    // run shifts the peak a little), and bounded by budget + reads window, not by step count.
    expect(end.buffers).toBeLessThanOrEqual(mid.buffers * 1.1)
    expect(end.bytes).toBeLessThanOrEqual(mid.bytes * 1.1)
    expect(end.buffers).toBeLessThan(8000)
    expect(end.gcCalls).toBeGreaterThan(mid.gcCalls) // the hook is wired and used
    // And the run really trained.
    expect(losses.slice(-10).reduce((a, b) => a + b) / 10).toBeLessThan(losses[0] * 0.5)
  }, 180_000)
})
