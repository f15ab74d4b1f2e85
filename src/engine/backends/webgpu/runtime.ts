// The device side of the WebGPU backend: pipelines cached by key, one pending compute pass that
// collects every kernel until something must be read, the per-submit metadata arena, read-back,
// and device loss turned into errors instead of hangs.
import { EngineError } from '../../errors.js'
import { isSoftwareAdapter } from './adapter.js'
import { BufferPool, USAGE, type BufRec, type PoolOptions } from './pool.js'
import { ReadBatcher } from './readback.js'

/** Where one kernel variant hands over to another; tests move them to reach every variant. */
export interface KernelTuning {
  /** Matmuls with at most this many multiply-adds use the direct (untiled) kernel. */
  matmulDirectMaxMacs: number
  /** The tiled matmul takes the biggest tile that still yields this many workgroups... */
  matmulMinWorkgroups: number
  /** ...unless a tile is forced: T×T outputs per thread, T in 1, 2, 4 (0: choose). */
  matmulTile: 0 | 1 | 2 | 4
  /** Row reductions (contiguous axis) at least this long use the workgroup tree kernel. */
  reduceTreeMinLength: number
}

export const HARDWARE_TUNING: KernelTuning = {
  matmulDirectMaxMacs: 1 << 16,
  matmulMinWorkgroups: 64,
  matmulTile: 0,
  reduceTreeMinLength: 1024,
}
/**
 * SwiftShader runs a workgroup's invocations as coroutines on a CPU core: every barrier is costly
 * and there are only a few cores to fill. Measured there: big matmul tiles are 4-8× faster, and
 * one thread per output beats the tree reduction 10× (figures in README.md, Benchmarks).
 */
export const SOFTWARE_TUNING: KernelTuning = {
  matmulDirectMaxMacs: 1 << 16,
  matmulMinWorkgroups: 1,
  matmulTile: 0,
  reduceTreeMinLength: Infinity,
}

export interface RuntimeOptions extends PoolOptions {
  /** Submit after this many dispatches even if nothing is read (keeps the GPU busy). */
  maxDispatchesPerSubmit?: number
  tuning?: Partial<KernelTuning>
}

/** Metadata of one submit (shapes, strides, scalars of every kernel in it). */
const META_CAPACITY_WORDS = 64 * 1024 // 256 KiB per submit
const MAX_GROUPS = 65535

const f32 = new Float32Array(1)
const u32 = new Uint32Array(f32.buffer)
/** A float parameter as the u32 word a kernel bitcasts back. */
export function f32bits(v: number): number {
  f32[0] = v
  return u32[0]
}

/** Pipelines and layouts per device, shared by every backend made on it (compiling is slow). */
interface DeviceCache {
  pipelines: Map<string, GPUComputePipeline>
  layouts: Map<number, GPUBindGroupLayout>
  pipelineLayouts: Map<number, GPUPipelineLayout>
}
const caches = new WeakMap<GPUDevice, DeviceCache>()

function cacheFor(device: GPUDevice): DeviceCache {
  let c = caches.get(device)
  if (!c) {
    c = { pipelines: new Map(), layouts: new Map(), pipelineLayouts: new Map() }
    caches.set(device, c)
  }
  return c
}

export class GpuRuntime {
  readonly pool: BufferPool
  readonly tuning: KernelTuning
  /** Kernels encoded, queue submits and read-backs so far (batching shows in their ratio). */
  readonly counters = { dispatches: 0, submits: 0, reads: 0 }
  /** Id of the commands being encoded; bumps at every submit. */
  pendingId = 1
  private lostMessage: string | null = null
  private readonly lostSignal: Promise<never>
  private firstError: string | null = null
  private readonly cache: DeviceCache
  private encoder: GPUCommandEncoder | null = null
  private pass: GPUComputePassEncoder | null = null
  private dispatches = 0
  private readonly metaCpu = new Uint32Array(META_CAPACITY_WORDS)
  private metaUsed = 0
  private readonly metaBuffer: GPUBuffer
  private readonly alignWords: number
  private readonly maxDispatches: number
  private readonly reads: ReadBatcher

  constructor(
    readonly device: GPUDevice,
    options: RuntimeOptions = {},
  ) {
    this.pool = new BufferPool(device, () => this.pendingId, options)
    this.cache = cacheFor(device)
    this.alignWords = Math.max(1, device.limits.minStorageBufferOffsetAlignment / 4)
    this.maxDispatches = options.maxDispatchesPerSubmit ?? 512
    const software = isSoftwareAdapter(device.adapterInfo as Partial<GPUAdapterInfo> | undefined)
    this.reads = new ReadBatcher(this)
    this.tuning = { ...(software ? SOFTWARE_TUNING : HARDWARE_TUNING), ...options.tuning }
    this.metaBuffer = device.createBuffer({ size: META_CAPACITY_WORDS * 4, usage: USAGE.STORAGE | USAGE.COPY_DST })
    this.lostSignal = device.lost.then((info) => {
      this.lostMessage = `${info.reason}${info.message ? `: ${info.message}` : ''}`
      this.encoder = null
      this.pass = null
      throw this.lostError('read')
    })
    this.lostSignal.catch(() => {})
    device.addEventListener('uncapturederror', (e) => {
      this.firstError ??= (e as GPUUncapturedErrorEvent).error.message
    })
  }

  get isLost(): boolean {
    return this.lostMessage !== null
  }

  lostError(op: string): EngineError {
    return new EngineError(
      op,
      'backend',
      `the GPU device was lost (${this.lostMessage ?? 'unknown reason'}); switch to the cpu backend with setBackend('cpu') and resume from the last checkpoint`,
    )
  }

  /** Every backend entry point starts here: a lost device fails fast and says what to do. */
  check(op: string): void {
    if (this.lostMessage !== null) throw this.lostError(op)
  }

  /** The compute pipeline for `key`, compiled once. Bindings: inputs, outputs, metadata. */
  pipeline(key: string, inputs: number, source: () => string, outputs = 1): GPUComputePipeline {
    let p = this.cache.pipelines.get(key)
    if (!p) {
      const module = this.device.createShaderModule({ label: key, code: source() })
      p = this.device.createComputePipeline({
        label: key,
        layout: this.pipelineLayout(inputs, outputs),
        compute: { module, entryPoint: 'main' },
      })
      this.cache.pipelines.set(key, p)
    }
    return p
  }

  /**
   * Encode one kernel: `inputs` bound read-only, outputs read-write, `meta` (u32 words) as the
   * kernel's slice of this submit's metadata arena. `groups` workgroups are laid out on a 2-D
   * grid when they exceed the 65,535 limit of one dimension; kernels rebuild the linear id.
   */
  dispatch(
    pipeline: GPUComputePipeline,
    inputs: readonly BufRec[],
    output: BufRec | readonly BufRec[],
    meta: ArrayLike<number>,
    groups: number,
  ): void {
    const outputs = Array.isArray(output) ? (output as readonly BufRec[]) : [output as BufRec]
    if (groups === 0) return
    const x = Math.min(groups, MAX_GROUPS)
    const y = Math.ceil(groups / x)
    if (y > MAX_GROUPS)
      throw new EngineError(pipeline.label, 'shape', `needs ${groups} workgroups, more than one dispatch can hold (65535²)`)
    const words = Math.max(1, meta.length)
    const slot = Math.ceil(words / this.alignWords) * this.alignWords
    if (slot > META_CAPACITY_WORDS) throw new EngineError(pipeline.label, 'shape', 'kernel metadata too large (too many dims)')
    if (this.metaUsed + slot > META_CAPACITY_WORDS || this.dispatches >= this.maxDispatches) this.flush()
    const offset = this.metaUsed
    for (let i = 0; i < meta.length; i++) this.metaCpu[offset + i] = meta[i]
    this.metaUsed += slot
    const bound = [...inputs, ...outputs]
    const entries: GPUBindGroupEntry[] = bound.map((r, i) => ({ binding: i, resource: { buffer: r.buffer } }))
    entries.push({ binding: bound.length, resource: { buffer: this.metaBuffer, offset: offset * 4, size: words * 4 } })
    const group = this.device.createBindGroup({ layout: this.layout(inputs.length, outputs.length), entries })
    if (!this.pass) {
      this.encoder = this.device.createCommandEncoder()
      this.pass = this.encoder.beginComputePass()
    }
    this.pass.setPipeline(pipeline)
    this.pass.setBindGroup(0, group)
    this.pass.dispatchWorkgroups(x, y)
    for (const r of bound) r.lastUse = this.pendingId
    this.dispatches++
    this.counters.dispatches++
  }

  /** Submit the pending pass (its metadata is written first: queue writes precede the submit). */
  flush(): void {
    if (!this.pass || !this.encoder) return
    this.pass.end()
    const commands = this.encoder.finish()
    this.device.queue.writeBuffer(this.metaBuffer, 0, this.metaCpu.buffer, 0, this.metaUsed * 4)
    this.device.queue.submit([commands])
    this.counters.submits++
    this.pass = null
    this.encoder = null
    this.metaUsed = 0
    this.dispatches = 0
    this.pendingId++
  }

  /**
   * Copy `count` floats of `rec` back to the host. Reads requested in the same tick share one
   * submit and one map (a loss and per-layer statistics cost one round trip). `owner` (the
   * storage) is held until the copy is encoded so its buffer cannot be recycled before.
   */
  read(owner: object, rec: BufRec, count: number): Promise<Float32Array> {
    this.check('read')
    return this.reads.request(owner, rec, count)
  }

  /** Why a map failed: the device was lost (possibly a moment after the map failed), or not. */
  async mapFailure(e: unknown): Promise<EngineError> {
    await Promise.race([this.lostSignal.catch(() => {}), new Promise((r) => setTimeout(r, 100))])
    if (this.isLost) return this.lostError('read')
    return new EngineError('read', 'backend', `mapping a GPU buffer failed: ${e instanceof Error ? e.message : String(e)}`)
  }

  /** Rejects once the device is lost (reads race their maps against it). */
  get lost(): Promise<never> {
    return this.lostSignal
  }

  /** A validation error reported since the last call, if any (surfaced by the next read). */
  takeError(): string | null {
    const e = this.firstError
    this.firstError = null
    return e
  }

  /** Resolves when everything submitted so far has run (benchmarks, tests). */
  async sync(): Promise<void> {
    this.check('sync')
    this.flush()
    await Promise.race([this.device.queue.onSubmittedWorkDone(), this.lostSignal])
  }

  private layout(inputs: number, outputs: number): GPUBindGroupLayout {
    const key = inputs * 16 + outputs
    let l = this.cache.layouts.get(key)
    if (!l) {
      const COMPUTE = 0x4
      const entries: GPUBindGroupLayoutEntry[] = []
      for (let i = 0; i < inputs + outputs + 1; i++) {
        const type = i >= inputs && i < inputs + outputs ? 'storage' : 'read-only-storage'
        entries.push({ binding: i, visibility: COMPUTE, buffer: { type } })
      }
      l = this.device.createBindGroupLayout({ entries })
      this.cache.layouts.set(key, l)
    }
    return l
  }

  private pipelineLayout(inputs: number, outputs: number): GPUPipelineLayout {
    const key = inputs * 16 + outputs
    let l = this.cache.pipelineLayouts.get(key)
    if (!l) {
      l = this.device.createPipelineLayout({ bindGroupLayouts: [this.layout(inputs, outputs)] })
      this.cache.pipelineLayouts.set(key, l)
    }
    return l
  }
}
