// The device driver of a WebGPU session. The trainer keeps its model and optimiser on the CPU as
// a mirror that everything synchronous reads (checkpoints, inspections); the copy here trains.
// After a step the mirror is stale until `download` refreshes it with one batched async read (the
// slice loop's MIRROR), running statistics included; anything that replaces weights on the CPU
// (reset, restore, import) calls `upload`. Both copies draw dropout masks from one generator (the
// masks are drawn on the host), so the mirror's is always the device's. A step runs as one chunk: a device has no thread to hand back between chunks.
import { add, mul, nn, noGrad, tensor, Tensor, type Backend, type TypedArray } from '../../engine'
import { buildOptimizer, type AnyOptimizer, type SessionSpecOut } from '../setup'
import type { Driver } from './driver'

/** Values copied between yields to the event loop while the CPU mirror is refreshed. */
const YIELD_EVERY = 4_000_000

export class DeviceDriver implements Driver {
  readonly async = true
  readonly stepRows = Infinity
  model: nn.MLP
  optimizer: AnyOptimizer
  /** Each parameter before the latest update (device copies): the overflow restore and lastUpdate. */
  before: Tensor[] | null = null
  /** True while the CPU mirror is behind the device (a step ran since the last download). */
  stale = false

  constructor(
    readonly be: Backend,
    cpuModel: nn.MLP,
    cpuOptimizer: AnyOptimizer,
    private readonly spec: SessionSpecOut,
  ) {
    ;({ model: this.model, optimizer: this.optimizer } = this.copy(cpuModel, cpuOptimizer))
  }
  /** The whole pass is queued on the device at once. */
  inPieces(): boolean {
    return false
  }

  private copy(cpuModel: nn.MLP, cpuOptimizer: AnyOptimizer): { model: nn.MLP; optimizer: AnyOptimizer } {
    // WGSL has no float64: the device copy is float32 whatever the mirror's dtype.
    const model = cpuModel.clone({ backend: this.be, dtype: 'float32' })
    const optimizer = buildOptimizer(this.spec.optimizer, model.namedParameters())
    optimizer.loadStateDict(cpuOptimizer.stateDict())
    return { model, optimizer }
  }

  /** Replace the device copy by the CPU mirror's weights and optimiser state. */
  upload(cpuModel: nn.MLP, cpuOptimizer: AnyOptimizer): void {
    ;({ model: this.model, optimizer: this.optimizer } = this.copy(cpuModel, cpuOptimizer))
    this.before = null
    this.stale = false
  }

  /**
   * Refresh the CPU mirror from the device in one batched read: weights, gradients, the
   * pre-update copies (into `snapshots`, for lastUpdate) and the optimiser state.
   */
  async download(cpuModel: nn.MLP, cpuOptimizer: AnyOptimizer, snapshots: (Float32Array | Float64Array)[]): Promise<void> {
    if (!this.stale) return
    const params = this.optimizer.params
    const buffers = this.model.buffers()
    const sd = this.optimizer.stateDict()
    const stateKeys = Object.keys(sd.tensors)
    const reads: Tensor[] = [...params, ...buffers, ...stateKeys.map((k) => sd.tensors[k])]
    const grads = params.map((p) => p.grad)
    for (const g of grads) if (g) reads.push(g)
    if (this.before) reads.push(...this.before)
    const values = await Promise.all(reads.map((t) => t.data()))
    if (!this.stale) return
    // The read-back arrays are fresh and ours: the mirror takes them as they are (no element-wise
    // copy, which for a 16M-parameter model held the thread for seconds). The copies into the
    // snapshots run in pieces, the loop answering requests in between.
    let k = 0
    const cpuParams = cpuOptimizer.params
    const cpu = cpuParams[0].backend
    // Wrapped, not copied by tensor(): the read-back arrays are fresh and ours (see above).
    const cpuTensor = (v: TypedArray, like: Tensor) =>
      new Tensor(cpu.fromArray(v instanceof Float32Array ? v : Float32Array.from(v)), like.shape, cpu)
    for (const p of cpuParams) p.assign(cpuTensor(values[k++], p))
    for (const b of cpuModel.buffers()) b.assign(cpuTensor(values[k++], b))
    const tensors: Record<string, Tensor> = {}
    for (const key of stateKeys) tensors[key] = cpuTensor(values[k++], sd.tensors[key])
    cpuOptimizer.loadStateDict({ step: sd.step, tensors, scalars: { ...sd.scalars } })
    grads.forEach((g, i) => {
      if (g) cpuParams[i].grad = cpuTensor(values[k++], g)
      else cpuParams[i].grad = null
    })
    this.stale = false
    if (!this.before) return
    let copied = 0
    for (const s of snapshots) {
      s.set(values[k++])
      copied += s.length
      if (copied >= YIELD_EVERY) {
        copied = 0
        await new Promise<void>((resolve) => setImmediate(resolve))
      }
    }
  }

  /** The rows as a device tensor (a copy: the upload owns its array). */
  input(x: Float32Array, rows: number, features: number): Tensor {
    return tensor(x, { shape: [rows, features], backend: this.be, allowNonFinite: true })
  }

  updated(): void {
    this.stale = true
  }

  accumulate(sum: Tensor | null, g: Tensor): Tensor {
    return sum === null ? g : noGrad(() => add(sum, g))
  }

  /** Keep device copies of the parameters (before an update). */
  snapshot(): void {
    this.before = noGrad(() => this.optimizer.params.map((p) => mul(p, 1)))
  }

  /** Put the parameters back as they were at the last snapshot. */
  restore(): void {
    const before = this.before
    if (!before) return
    this.optimizer.params.forEach((p, i) => p.assign(before[i]))
  }
}
