// Read-back: the one place the CPU waits for the GPU. Reads requested in the same tick are
// copied into one staging buffer by one submit and mapped once.
import { EngineError } from '../../errors.js'
import { MAP_READ, USAGE, bucketBytes, type BufRec } from './pool.js'
import type { GpuRuntime } from './runtime.js'

interface Request {
  owner: object
  rec: BufRec
  count: number
  resolve: (v: Float32Array) => void
  reject: (e: unknown) => void
}

export class ReadBatcher {
  private pending: Request[] | null = null
  private readonly staging = new Map<number, GPUBuffer[]>()

  constructor(private readonly rt: GpuRuntime) {}

  request(owner: object, rec: BufRec, count: number): Promise<Float32Array> {
    if (!this.pending) {
      this.pending = []
      queueMicrotask(() => void this.submit())
    }
    const list = this.pending
    return new Promise((resolve, reject) => list.push({ owner, rec, count, resolve, reject }))
  }

  private async submit(): Promise<void> {
    const batch = this.pending!
    this.pending = null
    try {
      const values = await this.copyAndMap(batch)
      batch.forEach((r, i) => r.resolve(values[i]))
    } catch (e) {
      for (const r of batch) r.reject(e)
    }
  }

  private async copyAndMap(batch: Request[]): Promise<Float32Array[]> {
    const { rt } = this
    rt.check('read')
    rt.flush() // the kernels that compute the values go first
    const offsets: number[] = []
    let total = 0
    for (const r of batch) {
      offsets.push(total)
      total += r.count * 4
    }
    const size = bucketBytes(total)
    const staging = this.staging.get(size)?.pop() ?? rt.device.createBuffer({ size, usage: USAGE.MAP_READ | USAGE.COPY_DST })
    const encoder = rt.device.createCommandEncoder()
    batch.forEach((r, i) => encoder.copyBufferToBuffer(r.rec.buffer, 0, staging, offsets[i], r.count * 4))
    rt.device.queue.submit([encoder.finish()])
    rt.counters.submits++
    rt.counters.reads++
    try {
      // A lost device rejects the map; the race also covers drivers that would leave it pending.
      await Promise.race([staging.mapAsync(MAP_READ, 0, total), rt.lost])
    } catch (e) {
      throw await rt.mapFailure(e)
    }
    const bytes = staging.getMappedRange(0, total)
    const values = batch.map((r, i) => new Float32Array(bytes.slice(offsets[i], offsets[i] + r.count * 4)))
    staging.unmap()
    const free = this.staging.get(size)
    if (free) free.push(staging)
    else this.staging.set(size, [staging])
    const error = rt.takeError()
    if (error !== null) throw new EngineError('read', 'backend', `a WebGPU kernel failed validation, so values may be wrong: ${error}`)
    return values
  }
}
