// GPU memory: tensor storages over pooled GPUBuffers. JS cannot tell when a tensor becomes
// unreachable except through a FinalizationRegistry, so that is how buffers return to the pool.
import type { Storage } from '../backend.js'
import { EngineError } from '../../errors.js'

/** GPUBufferUsage / GPUMapMode flags (fixed by the spec), so the engine needs no globals. */
export const USAGE = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, STORAGE: 0x80 } as const
export const MAP_READ = 0x1

/** One GPUBuffer and the id of the last batch of commands (see GpuRuntime.pendingId) that used it. */
export interface BufRec {
  readonly buffer: GPUBuffer
  readonly bytes: number
  lastUse: number
}

/**
 * A float32 tensor's data. `constant` marks a tensor filled with one value (full, folded scalar
 * math): kernels read it from their metadata and it gets a buffer only when one is needed.
 */
export class GpuStorage implements Storage {
  readonly dtype = 'float32' as const
  disposed = false
  constructor(
    readonly size: number,
    public rec: BufRec | null,
    readonly constant: number | null = null,
  ) {}
}

export interface PoolStats {
  /** GPUBuffers created by the pool and still alive (in use + free). */
  buffers: number
  bytes: number
  /** Held by live storages (or by kernels for scratch). */
  buffersInUse: number
  bytesInUse: number
  /** Times the collectGarbage hook was called. */
  gcCalls: number
}

export interface PoolOptions {
  /**
   * A full garbage collection (Node with --expose-gc: `global.gc`). Tensors own GPU memory
   * that V8 cannot see, so without it buffers come back only when V8 happens to collect.
   * Called every `gcBudgetBytes` or `gcBudgetBuffers` of buffers handed out.
   */
  collectGarbage?: () => void
  /** Default 256 MiB. */
  gcBudgetBytes?: number
  /** Default 8192. */
  gcBudgetBuffers?: number
}

/** Size classes: powers of two up to 4 KiB, then quarter steps (at most 25% slack). */
export function bucketBytes(bytes: number): number {
  const b = Math.max(16, bytes)
  if (b <= 4096) return 2 ** Math.ceil(Math.log2(b))
  const step = 2 ** Math.floor(Math.log2(b)) / 4
  return Math.ceil(b / step) * step
}

export class BufferPool {
  private readonly free = new Map<number, BufRec[]>()
  private readonly registry = new FinalizationRegistry<BufRec>((rec) => this.release(rec))
  private readonly stats: PoolStats = { buffers: 0, bytes: 0, buffersInUse: 0, bytesInUse: 0, gcCalls: 0 }
  private bytesSinceGc = 0
  private buffersSinceGc = 0
  private readonly gcBudgetBytes: number
  private readonly gcBudgetBuffers: number
  private readonly maxBinding: number

  /** `pendingId` is the id of the commands being encoded and not yet submitted. */
  constructor(
    private readonly device: GPUDevice,
    private readonly pendingId: () => number,
    private readonly options: PoolOptions = {},
  ) {
    this.maxBinding = device.limits.maxStorageBufferBindingSize
    this.gcBudgetBytes = options.gcBudgetBytes ?? 256 * 1024 * 1024
    this.gcBudgetBuffers = options.gcBudgetBuffers ?? 8192
  }

  /**
   * A buffer of at least `bytes`. A buffer freed while unsubmitted commands still read it is
   * fine as a kernel output (commands run in order) but not as an upload target: writeBuffer
   * runs before the pending commands are submitted. So uploads only take buffers idle since
   * the last submit.
   */
  acquire(bytes: number, forUpload = false): BufRec {
    const max = this.maxBinding
    if (bytes > max)
      throw new EngineError(
        'webgpu',
        'shape',
        `a tensor of ${bytes / 4} floats (${bytes} bytes) exceeds this GPU's largest buffer binding (${max} bytes)`,
      )
    // Kernels bind whole buffers, so a size class may not round past the binding limit.
    const size = Math.min(bucketBytes(bytes), max)
    this.maybeCollect(size)
    const list = this.free.get(size)
    let rec: BufRec | undefined
    if (list && list.length > 0) {
      if (!forUpload) rec = list.pop()
      else {
        const pending = this.pendingId()
        const i = list.findIndex((r) => r.lastUse < pending)
        if (i >= 0) rec = list.splice(i, 1)[0]
      }
    }
    if (!rec) rec = this.create(size)
    this.stats.buffersInUse++
    this.stats.bytesInUse += rec.bytes
    return rec
  }

  /** Tie a buffer to the storage that owns it: collected storage → buffer back to the pool. */
  adopt(storage: GpuStorage, rec: BufRec): void {
    storage.rec = rec
    this.registry.register(storage, rec, storage)
  }

  /** A fresh storage of `size` floats that owns a pooled buffer (none when empty). */
  storage(size: number): GpuStorage {
    const s = new GpuStorage(size, null)
    if (size > 0) this.adopt(s, this.acquire(size * 4))
    return s
  }

  /** Explicit early release (Backend.dispose). */
  disposeStorage(storage: GpuStorage): void {
    storage.disposed = true
    if (!storage.rec) return
    this.registry.unregister(storage)
    this.release(storage.rec)
    storage.rec = null
  }

  release(rec: BufRec): void {
    this.stats.buffersInUse--
    this.stats.bytesInUse -= rec.bytes
    const list = this.free.get(rec.bytes)
    if (list) list.push(rec)
    else this.free.set(rec.bytes, [rec])
  }

  snapshot(): PoolStats {
    return { ...this.stats }
  }

  /**
   * Collect by the rate buffers are handed out, not by how many are created: the pool only
   * creates when it runs dry, so a creation-based trigger would fire ever more rarely while
   * the pool kept growing. Finalizers run after the current task, refilling the pool.
   */
  private maybeCollect(size: number): void {
    if (!this.options.collectGarbage) return
    this.bytesSinceGc += size
    this.buffersSinceGc++
    if (this.bytesSinceGc > this.gcBudgetBytes || this.buffersSinceGc > this.gcBudgetBuffers) {
      this.bytesSinceGc = 0
      this.buffersSinceGc = 0
      this.stats.gcCalls++
      this.options.collectGarbage()
    }
  }

  private create(size: number): BufRec {
    const buffer = this.device.createBuffer({ size, usage: USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST })
    this.stats.buffers++
    this.stats.bytes += size
    return { buffer, bytes: size, lastUse: 0 }
  }
}
