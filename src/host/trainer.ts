// The numeric side of a session: model, optimiser, batches, the training step (training/step.ts) and
// evaluation (training/evaluation.ts), each written once and run by a driver (training/drive.ts): the
// CPU driver answers their reads at once; a WebGPU session's device copy (training/device-driver.ts)
// awaits them. No status, no events: session.ts (with training/slice-loop.ts) decides when to run what.
//
// A CPU step or evaluation too big for one piece of work (work-budget.ts) is resumable work: the
// step runs a layer of its forward or an op's rule of its backward a piece (training/gradients.ts),
// the evaluation a chunk of rows, and the session's slice loop runs pieces until its deadline.
// Between pieces every reader sees the last completed step: weights and step count change only
// when a step completes, new gradients are kept aside, and a checkpoint gets the batch order from
// before the step's batch was drawn.
import { backends, data, nn, optim, type Backend, type RngState, type Tensor } from '../engine'
import type { EvalPoint } from './metrics'
import { buildModel, buildOptimizer, hasBatchNorm, type AnyOptimizer, type LossPlan, type SessionSpecOut, type SplitData } from './setup'
import { GradHistory } from './grad-history'
import { freshMonitor, type MonitorState } from './train-guards'
import { sliced, type Drive } from './training/drive'
import { CpuDriver, type Driver } from './training/driver'
import { DeviceDriver } from './training/device-driver'
import { evaluationOf, trainLossOf } from './training/evaluation'
import { keepModelState, putBack, type ModelState } from './training/model-state'
import { adopt } from './adopt-tensor'
import { trainStep, type StepOutcome } from './training/step'
import { CHUNK_FLOPS, drain, evalChunkRows, type Work } from './work-budget'

export type { StepOutcome } from './training/step'

export interface TrainerOptions {
  /** Floating-point operations in one chunk of a split step or evaluation (work-budget.ts); tests force splits with a small one. */
  chunkFlops?: number
  /** A checkpoint sets every weight next (runs.open): start from zeros, drawing none (16×1024: ~0.5 s). */
  restoring?: boolean
}

/** Everything besides the weights that decides the next steps; a checkpoint saves it. */
export interface TrainerState {
  step: number
  epochBase: number
  sampler: data.SamplerState
  optimizer: optim.OptimizerStateDict
  /** Early-stopping and vanishing-alarm progress (absent in checkpoints from before they existed). */
  monitor?: MonitorState
  /** The dropout masks' generator (absent for a model without dropout). */
  dropoutRng?: RngState
}

/** A step between drawing its batch and its update, when it can be suspended there. */
interface PendingStep {
  /** The batch order from before its batch was drawn (checkpoints; abandonStep puts the batch back). */
  samplerBefore: data.SamplerState
  /** Running statistics and the dropout generator from before the step (abandonStep puts them back). */
  before: ModelState | null
}

export class Trainer {
  model: nn.MLP
  optimizer: AnyOptimizer
  stepCount = 0
  private sampler: data.BatchSampler
  private epochBase = 0
  /** Each parameter before the latest update (CPU copies): the CPU driver's overflow restore, and the network view's last update. */
  readonly snapshots: (Float32Array | Float64Array)[]
  /** Where `model` lives: the session's backend, or the CPU when that is a device (the mirror). */
  private readonly be: Backend
  /** Early stopping and vanishing-alarm progress (session.ts and train-guards.ts update it). */
  monitor: MonitorState = freshMonitor()
  /** The exploding alarm fires once per episode: re-armed by a calm step or a user's (re)start. */
  explodingArmed = true
  /** Each layer's gradient history for the exploding alarm; rebuilt after a reset or restore, not checkpointed. */
  readonly gradHistory = new GradHistory()
  /** A WebGPU session's device driver (its copy trains; `model` and `optimizer` are the mirror, current after syncMirror); null on the CPU. */
  readonly device: DeviceDriver | null
  private readonly cpu: CpuDriver
  /** Bumped whenever the weights are replaced (reset, restore, import): a device step that straddles it is dropped. */
  private gen = 0
  readonly chunkFlops: number
  /** The step in progress that can be suspended before its update, null between steps. */
  private pending: PendingStep | null = null

  constructor(
    readonly data: SplitData,
    readonly plan: LossPlan,
    /** The session's live spec: updates (lr, batch size) change it, and reset reads it. */
    readonly spec: SessionSpecOut,
    /**
     * The session's backend (default: the CPU). One that reads only asynchronously (WebGPU) trains
     * a device copy of the model; `model` is then its CPU mirror.
     */
    backend: Backend = backends.get('cpu'),
    options: TrainerOptions = {},
  ) {
    this.chunkFlops = options.chunkFlops ?? CHUNK_FLOPS
    this.be = backend.readSync ? backend : backends.get('cpu')
    this.model = buildModel(data.train.nFeatures, spec, plan.outputSize, this.be, data.train.n, options.restoring ? 'zeros' : undefined)
    this.optimizer = buildOptimizer(spec.optimizer, this.model.namedParameters())
    this.sampler = this.newSampler(spec.train.batchSize, spec.train.seed)
    this.snapshots = this.optimizer.params.map((p) => (p.dtype === 'float64' ? new Float64Array(p.size) : new Float32Array(p.size)))
    this.cpu = new CpuDriver(this, this.be, this.snapshots, this.chunkFlops)
    this.device = backend === this.be ? null : new DeviceDriver(backend, this.model, this.optimizer, spec)
  }

  /** What trains: the device driver of a WebGPU session, else the CPU's. */
  get driver(): Driver {
    return this.device ?? this.cpu
  }

  /** Bring the CPU mirror up to date with the device (a no-op on the CPU or when it is current). */
  async syncMirror(): Promise<void> {
    if (this.device) await this.device.download(this.model, this.optimizer, this.snapshots)
  }

  /** Changes whenever the weights are replaced (reset, restore, import): work on the old ones is void. */
  get generation(): number {
    return this.gen
  }

  /** The CPU mirror's weights or optimiser state were replaced: the device takes them over. */
  private replaced(): void {
    this.abandonStep()
    this.gen++
    this.gradHistory.clear()
    this.device?.upload(this.model, this.optimizer)
  }

  /** Set optimiser options (session.update) on the model that trains and on its mirror. */
  setOptimizerOptions(patch: Parameters<AnyOptimizer['setOptions']>[0]): void {
    this.optimizer.setOptions(patch)
    this.device?.optimizer.setOptions(patch)
  }

  /** Completed epochs (a batch-size change starts a fresh epoch but keeps the count). */
  get epoch(): number {
    return this.epochBase + (this.pending ? this.pending.samplerBefore.epoch : this.sampler.epoch)
  }

  /** A step is in progress (its batch drawn, its update not yet applied). */
  get stepPending(): boolean {
    return this.pending !== null
  }

  /**
   * Drop the step in progress and put its batch back, so the next step draws it again (nothing of
   * it was applied). Called before anything replaces the weights, the sampler or the batch size.
   */
  abandonStep(): void {
    const p = this.pending
    if (!p) return
    this.pending = null
    this.sampler.setState(p.samplerBefore)
    putBack(p.before, { rng: true })
  }

  /**
   * Draw the next step's batch (training/step.ts), keeping running statistics and the dropout
   * generator as they are (`before`: a refused step puts them back). A step that can be suspended
   * (`suspends`: split, or on a device) is pending until endStep(); `current()` turns false if it is abandoned.
   */
  beginStep(suspends: boolean): { batch: data.Batch; current: () => boolean; before: ModelState | null } {
    const before = keepModelState(this.driver.model)
    const pending = suspends ? { samplerBefore: this.sampler.getState(), before } : null
    this.pending = pending
    const batch = this.sampler.next()
    return { batch, current: pending ? () => this.pending === pending : () => true, before }
  }

  /** The step in progress has its outcome (applied or refused): no longer pending, its batch drawn. */
  endStep(): void {
    this.pending = null
  }

  private newSampler(batchSize: number, seed: number): data.BatchSampler {
    // BatchNorm cannot train on one row: a last batch of one is dropped, as drop_last does in PyTorch.
    const dropLast = hasBatchNorm(this.model) && this.data.train.n % batchSize === 1
    return new data.BatchSampler(this.data.train, batchSize, { seed, dropLast })
  }

  /** The same model, optimiser and batch order as at creation; live settings are kept. */
  reset(): void {
    this.abandonStep()
    this.model = buildModel(this.data.train.nFeatures, this.spec, this.plan.outputSize, this.be, this.data.train.n)
    this.optimizer = buildOptimizer(this.spec.optimizer, this.model.namedParameters())
    this.sampler = this.newSampler(this.spec.train.batchSize, this.spec.train.seed)
    this.stepCount = 0
    this.epochBase = 0
    this.monitor = freshMonitor()
    this.explodingArmed = true
    this.replaced()
  }

  /** `views`: the optimiser's buffers themselves, for a caller done with them before the next step (a checkpoint). */
  captureState(options: { views?: boolean } = {}): TrainerState {
    // Mid-step, the batch order from before the step's batch: the step is redone after a restore.
    const sampler = this.pending ? structuredClone(this.pending.samplerBefore) : this.sampler.getState()
    const st: TrainerState = {
      step: this.stepCount,
      epochBase: this.epochBase,
      sampler,
      optimizer: this.optimizer.stateDict(options),
      monitor: { ...this.monitor },
    }
    const rng = this.pending?.before ? this.pending.before.rng : this.model.dropoutRng?.getState()
    if (rng) st.dropoutRng = { ...rng, s: [...rng.s] }
    return st
  }

  /**
   * What a checkpoint saves of the model: its parameters, then its buffers (running statistics),
   * by name. Mid-step the buffers are those from before the step, like the batch order: the step is
   * redone after a restore. (A device session's mirror has them so anyway until its next download.)
   */
  namedState(): [string, Tensor][] {
    const before = this.pending?.before
    const kept = before && before.model === this.model ? before.buffers : null
    const buffers = this.model.namedBuffers().map(([k, b], i): [string, Tensor] => [k, kept ? kept[i] : b])
    return [...this.model.namedParameters(), ...buffers]
  }

  /** The learning rate the next update uses: the optimiser spec's lr (the base) under the schedule. */
  get nextLr(): number {
    return optim.scheduledLr(this.spec.train.schedule, this.spec.optimizer.lr, this.stepCount)
  }

  /**
   * Continue from a checkpoint: weights by parameter name (already checked against the model),
   * optimiser buffers, batch order and step. The spec's live settings must be the checkpoint's.
   */
  restoreState(weights: Record<string, Float32Array | Float64Array>, state: TrainerState): void {
    this.abandonStep()
    this.optimizer.loadStateDict(state.optimizer)
    this.sampler.setState(state.sampler)
    this.loadWeights(weights)
    this.stepCount = state.step
    this.epochBase = state.epochBase
    this.monitor = state.monitor ? { ...state.monitor } : freshMonitor()
    if (state.dropoutRng) this.model.dropoutRng?.setState(state.dropoutRng)
  }

  /** Replace weights and buffers by name (a step in progress is dropped first); the caller has matched names and sizes. */
  loadWeights(weights: Record<string, Float32Array | Float64Array>): void {
    this.abandonStep()
    for (const [name, p] of [...this.model.namedParameters(), ...this.model.namedBuffers()]) {
      const w = weights[name]
      if (!w) continue
      p.assign(adopt(w, p))
    }
    this.replaced()
  }

  setBatchSize(batchSize: number): void {
    this.abandonStep()
    this.epochBase = this.epoch
    // A different seed per switch point, so switching back does not replay the first epoch's order.
    this.sampler = this.newSampler(batchSize, (this.spec.train.seed + this.stepCount) % 2 ** 31)
  }

  /** Rows per chunk of a step at the current batch size; the batch size when it is not split. */
  get stepChunkRows(): number {
    return Math.min(this.spec.train.batchSize, this.driver.stepRows)
  }

  /** One training step for either driver (training/step.ts). */
  step(sampleStats: boolean): Drive<StepOutcome | null> {
    return trainStep(this, sampleStats)
  }

  /** step() on the CPU driver as resumable work: one chunk of a split step per resume. */
  stepTask(sampleStats: boolean): Work<StepOutcome | null> {
    return sliced(this.step(sampleStats))
  }

  /** One whole CPU step at once (tests, scripts): nothing can abandon it meanwhile. */
  trainStep(sampleStats: boolean): StepOutcome {
    return drain(this.stepTask(sampleStats))!
  }

  /**
   * Full test-set and (capped) train-set loss and accuracy at the current weights, for either
   * driver (training/evaluation.ts); null without a test set or for a non-finite loss.
   */
  evaluation(): Drive<EvalPoint | null> {
    return evaluationOf(this, evalChunkRows(this.model.sizes, this.chunkFlops))
  }

  /** Mean loss on the (capped) training rows: what stop conditions watch when there is no test split. */
  trainLoss(): Drive<number> {
    return trainLossOf(this, evalChunkRows(this.model.sizes, this.chunkFlops))
  }

  /** evaluation() on the CPU driver as resumable work (one chunk per resume). */
  evaluateTask(): Work<EvalPoint | null> {
    return sliced(this.evaluation())
  }

  /** evaluation() on the CPU at once. */
  evaluate(): EvalPoint | null {
    return drain(this.evaluateTask())
  }
}
