// What a training step needs from where it runs, beyond how its reads are answered (drive.ts):
// the model and optimiser that train, how rows become the model's input, how many rows one chunk
// of a step may hold, and how the parameters are kept aside before an update and put back. The
// CPU driver is here; a device's is device-driver.ts.
import { Tensor, tensor, type Backend, type nn } from '../../engine'
import { view } from '../metrics'
import { stepsWhole, type AnyOptimizer } from '../setup'
import { stepChunkRows, stepInPieces } from '../work-budget'

export interface Driver {
  /** Reads are awaited (a device), so other requests run between them: a step checks it still counts. */
  readonly async: boolean
  readonly model: nn.MLP
  readonly optimizer: AnyOptimizer
  /** `rows` rows of `features` values, row-major, as the model's input. */
  input(x: Float32Array, rows: number, features: number): Tensor
  /** Rows per chunk of a training step (a step of more rows accumulates gradients over chunks). */
  readonly stepRows: number
  /** Whether a step of `rows` rows runs in pieces, a slice point after each layer and each backward rule (gradients.ts). */
  inPieces(rows: number): boolean
  /** Keep the parameters as they are (before an update); restore() puts them back. */
  snapshot(): void
  restore(): void
  /** An update was applied (a device's CPU mirror is now behind). */
  updated(): void
  /** sum + g for a split step's gradient sums: `sum` is the driver's own (null: the first chunk's `g`). */
  accumulate(sum: Tensor | null, g: Tensor): Tensor
}

/** The model and optimiser a CPU driver trains: the trainer's own, replaced on reset. */
export interface CpuModel {
  readonly model: nn.MLP
  readonly optimizer: AnyOptimizer
}

/**
 * Training on the CPU: inputs are views of the dataset's rows (no copy), and the copies taken
 * before an update are typed arrays reused every step, which also give lastUpdate for free; a
 * split step sums its gradients in place.
 */
export class CpuDriver implements Driver {
  readonly async = false

  constructor(
    private readonly owner: CpuModel,
    private readonly be: Backend,
    /** One array per parameter (optimizer order), shared with the trainer for lastUpdate. */
    private readonly snapshots: (Float32Array | Float64Array)[],
    private readonly chunkFlops: number,
  ) {}

  get model(): nn.MLP {
    return this.owner.model
  }

  get optimizer(): AnyOptimizer {
    return this.owner.optimizer
  }

  /** A step with BatchNorm or dropout is one piece (setup.ts stepsWhole). */
  get stepRows(): number {
    return stepsWhole(this.owner.model) ? Infinity : stepChunkRows(this.owner.model.sizes, this.chunkFlops)
  }

  /** A step bigger than one piece of work, of a model whose step may be split (no BatchNorm or dropout). */
  inPieces(rows: number): boolean {
    return !stepsWhole(this.owner.model) && stepInPieces(this.owner.model.sizes, rows, this.chunkFlops)
  }

  input(x: Float32Array, rows: number, features: number): Tensor {
    // Nothing writes through the model's input, so it wraps the rows (tensor() would copy them).
    return new Tensor(this.be.fromArray(x), [rows, features], this.be)
  }

  snapshot(): void {
    this.owner.optimizer.params.forEach((p, i) => this.snapshots[i].set(view(p)))
  }

  restore(): void {
    this.owner.optimizer.params.forEach((p, i) =>
      p.assign(tensor(this.snapshots[i], { shape: p.shape, dtype: p.dtype, backend: p.backend, allowNonFinite: true })),
    )
  }

  updated(): void {}

  /** In place into a buffer of our own (a copy of the first chunk's gradient), as the memory budget counts it. */
  accumulate(sum: Tensor | null, g: Tensor): Tensor {
    const v = view(g)
    if (sum === null) return new Tensor(this.be.fromArray(v.slice()), g.shape, this.be)
    const s = view(sum)
    for (let k = 0; k < s.length; k++) s[k] += v[k]
    return sum
  }
}
