// The numeric side of a session: model, optimiser, batches, one training step (scheduled lr,
// L1/L2 penalties, gradient clipping, the NaN/Inf guard and gradient alarms), and evaluation (evaluation.ts). No
// status, no events: session.ts decides when to call what. A WebGPU session trains its device copy
// (device-trainer.ts) with the asynchronous trainStepOnDevice and evaluateOnDevice.
//
// A CPU step or evaluation too big for one piece of work (work-budget.ts) is resumable work: the
// step accumulates gradients over chunks of its batch (stepTask), the evaluation measures chunk
// by chunk, and the session's slice loop runs chunks until its deadline. Between chunks every
// reader sees the state of the last completed step: the weights and the step count change only
// when the step completes, the gradients are summed aside, and a checkpoint gets the batch order
// from before the step's batch was drawn.
import { backends, data, EngineError, nn, optim, Tensor, tensor, type Backend, type TypedArray } from '../engine'
import { accumulateStep, type PendingStep } from './chunked-step'
import { DeviceModel } from './device-trainer'
import { evalPoint, measure, measureOnDevice, trainRows, type ChunkInput, type MeasureSetup, type Measurement } from './evaluation'
import { allFinite } from './scan'
import { gradNorms, layerStats, view, type EvalPoint, type LayerGradNorm, type LayerOutputs, type LayerStats, type OutputTally } from './metrics'
import { buildModel, buildOptimizer, type AnyOptimizer, type LossPlan, type SessionSpecOut, type SplitData } from './setup'
import { explodingAlarm, freshMonitor, layerOf, vanishingAlarm, type MonitorState, type TrainAlarm } from './train-guards'
import { CHUNK_FLOPS, drain, evalChunkRows, stepChunkRows, type Work } from './work-budget'

export interface TrainerOptions {
  /** Floating-point operations in one chunk of a split step or evaluation (work-budget.ts); tests force splits with a small one. */
  chunkFlops?: number
}

/** Everything besides the weights that decides the next steps; a checkpoint saves it. */
export interface TrainerState {
  step: number
  epochBase: number
  sampler: data.SamplerState
  optimizer: optim.OptimizerStateDict
  /** Early-stopping and vanishing-alarm progress (absent in checkpoints from before they existed). */
  monitor?: MonitorState
}

/**
 * ok: the update was applied (`alarm` set when it raised one that does not refuse the step);
 * not ok: the update was refused (NaN/Inf, or exploding gradients with alarms.pause), the weights
 * are as before the step, and training must pause.
 */
export type StepOutcome = { ok: true; loss: number; stats: LayerStats[] | null; lr: number; alarm: TrainAlarm | null } | { ok: false; alarm: TrainAlarm }

/**
 * Add the gradient of l1·Σ|w| + l2·Σw² over weight matrices (not biases) to their gradients:
 * l1·sign(w) + 2·l2·w, with sign(0) = 0 as PyTorch's abs has it.
 */
export function addPenaltyGrads(model: nn.MLP, l1: number, l2: number): void {
  for (const layer of model.layers) {
    const p = layer.weight
    const w = view(p)
    const g = p.grad ? view(p.grad) : null
    const out = p.dtype === 'float64' ? new Float64Array(w.length) : new Float32Array(w.length)
    for (let k = 0; k < w.length; k++) out[k] = (g ? g[k] : 0) + l1 * Math.sign(w[k]) + 2 * l2 * w[k]
    // `out` is fresh and ours: wrapped without the copy tensor() would make (this runs every step).
    p.grad = new Tensor(p.backend.fromArray(out), p.shape, p.backend)
  }
}

export class Trainer {
  model: nn.MLP
  optimizer: AnyOptimizer
  stepCount = 0
  private sampler: data.BatchSampler
  private epochBase = 0
  private snapshots: (Float32Array | Float64Array)[] = []
  /** Where `model` lives: the session's backend, or the CPU when that is a device (the mirror). */
  private readonly be: Backend
  /** Early stopping and vanishing-alarm progress (session.ts and train-guards.ts update it). */
  monitor: MonitorState = freshMonitor()
  /** The exploding alarm fires once per episode: re-armed by a calm step or a user's (re)start. */
  explodingArmed = true
  /**
   * A WebGPU session's device copy, which trains (trainStepOnDevice); `model` and `optimizer` are
   * then its CPU mirror, current after syncMirror. Null for a CPU session.
   */
  readonly device: DeviceModel | null
  /** Bumped whenever the weights are replaced (reset, restore, import): a device step that straddles it is dropped. */
  private gen = 0
  private readonly chunkFlops: number
  /** The split CPU step in progress (stepTask), null between steps. */
  private pending: PendingStep | null = null

  constructor(
    readonly data: SplitData,
    readonly plan: LossPlan,
    /** The session's live spec: updates (lr, batch size) change it, and reset reads it. */
    private readonly spec: SessionSpecOut,
    /**
     * The session's backend (default: the CPU). One that reads only asynchronously (WebGPU) trains
     * a device copy of the model; `model` is then its CPU mirror.
     */
    backend: Backend = backends.get('cpu'),
    options: TrainerOptions = {},
  ) {
    this.chunkFlops = options.chunkFlops ?? CHUNK_FLOPS
    this.be = backend.readSync ? backend : backends.get('cpu')
    this.model = buildModel(data.train.nFeatures, spec, plan.outputSize, this.be)
    this.optimizer = buildOptimizer(spec.optimizer, this.model.namedParameters())
    this.sampler = this.newSampler(spec.train.batchSize, spec.train.seed)
    this.snapshots = this.optimizer.params.map((p) => (p.dtype === 'float64' ? new Float64Array(p.size) : new Float32Array(p.size)))
    this.device = backend === this.be ? null : new DeviceModel(backend, this.model, this.optimizer, spec)
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

  /** A split step is in progress (its batch drawn, its update not yet applied). */
  get stepPending(): boolean {
    return this.pending !== null
  }

  /**
   * Drop the split step in progress and put its batch back (the sampler as before it was drawn),
   * so the next step draws the same batch: nothing of it was applied. Called before anything that
   * replaces the weights, the sampler or the batch size.
   */
  abandonStep(): void {
    const p = this.pending
    if (!p) return
    this.pending = null
    this.sampler.setState(p.samplerBefore)
  }

  private newSampler(batchSize: number, seed: number): data.BatchSampler {
    return new data.BatchSampler(this.data.train, batchSize, { seed })
  }

  private input(x: Float32Array, rows: number): Tensor {
    // A view of the dataset's rows, not a copy (tensor() would copy): nothing writes through it.
    return new Tensor(this.be.fromArray(x), [rows, this.data.train.nFeatures], this.be)
  }

  /** The same model, optimiser and batch order as at creation; live settings are kept. */
  reset(): void {
    this.abandonStep()
    this.model = buildModel(this.data.train.nFeatures, this.spec, this.plan.outputSize, this.be)
    this.optimizer = buildOptimizer(this.spec.optimizer, this.model.namedParameters())
    this.sampler = this.newSampler(this.spec.train.batchSize, this.spec.train.seed)
    this.stepCount = 0
    this.epochBase = 0
    this.monitor = freshMonitor()
    this.explodingArmed = true
    this.replaced()
  }

  captureState(): TrainerState {
    // Mid-step, the batch order from before the step's batch: the step is redone after a restore.
    const sampler = this.pending ? structuredClone(this.pending.samplerBefore) : this.sampler.getState()
    return { step: this.stepCount, epochBase: this.epochBase, sampler, optimizer: this.optimizer.stateDict(), monitor: { ...this.monitor } }
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
  }

  /** Replace weights by parameter name; the caller has matched names and sizes. */
  loadWeights(weights: Record<string, Float32Array | Float64Array>): void {
    for (const [name, p] of this.model.namedParameters()) {
      const w = weights[name]
      if (!w) continue
      p.assign(tensor(w, { shape: p.shape, dtype: p.dtype, backend: p.backend, allowNonFinite: true }))
    }
    this.replaced()
  }

  setBatchSize(batchSize: number): void {
    this.abandonStep()
    this.epochBase = this.epoch
    // A different seed per switch point, so switching back does not replay the first epoch's order.
    this.sampler = this.newSampler(batchSize, (this.spec.train.seed + this.stepCount) % 2 ** 31)
  }

  /**
   * One step: the scheduled lr, forward, backward of the data loss, penalty gradients, clipping,
   * then the update. A non-finite loss, a gradient the optimiser refuses, or an update that
   * overflows a weight leaves the weights as they were before this step and reports which step
   * and what; so does an exploding gradient when alarms pause (checked every step, before the
   * update, so it is seen before the weights overflow). `sampleStats` also measures each layer's
   * outputs on this batch for the dead/saturated fractions (the forward keeps them anyway).
   */
  trainStep(sampleStats: boolean): StepOutcome {
    const n = this.stepCount + 1
    const b = this.sampler.next()
    this.optimizer.zeroGrad()
    const outs: Tensor[] = []
    let h = this.input(b.x, b.size)
    for (let i = 0; i < this.model.layers.length; i++) outs.push((h = nn.activate(this.model.layers[i].forward(h), this.model.activations[i])))
    const loss = this.plan.loss(h, b.y)
    const value = view(loss)[0]
    if (!Number.isFinite(value)) return refusal(n, `the minibatch loss is ${value}`, value, null)
    loss.backward()
    return this.completeStep(n, value, sampleStats ? { rows: b.size, values: outs.map(view) } : null)
  }

  /** Rows per chunk of a split step at the current batch size; the batch size when it is not split. */
  get stepChunkRows(): number {
    return Math.min(this.spec.train.batchSize, stepChunkRows(this.model.sizes, this.chunkFlops))
  }

  /**
   * trainStep as resumable work. A batch that fits one chunk (the common case) runs as trainStep,
   * without a yield. A bigger one sums its gradients over chunks of rows (chunked-step.ts), one
   * chunk per resume, then completes like trainStep with the mean loss weighted by rows. Null when
   * the step was abandoned meanwhile (abandonStep: reset, restore, import, batch-size change).
   */
  *stepTask(sampleStats: boolean): Work<StepOutcome | null> {
    const rows = this.stepChunkRows
    if (rows >= this.spec.train.batchSize) return this.trainStep(sampleStats)
    const n = this.stepCount + 1
    const pending: PendingStep = { samplerBefore: this.sampler.getState() }
    this.pending = pending
    const r = yield* accumulateStep(this, this.sampler.next(), rows, sampleStats, () => this.pending === pending)
    if (this.pending !== pending) return null
    this.pending = null
    if ('refused' in r) return refusal(n, `the minibatch loss is ${r.refused}`, r.refused, null)
    return this.completeStep(n, r.loss, r.outputs)
  }

  /** The model's input for rows already laid out row-major (a view, no copy). */
  inputOf(x: Float32Array, rows: number): Tensor {
    return this.input(x, rows)
  }

  /**
   * What follows the gradients of step n: penalty gradients, clipping, the guards, statistics and
   * the update (see trainStep). The lr is read here, so a live change made during a split step
   * applies to it and the statistics report the rate that was used.
   */
  private completeStep(n: number, value: number, outputs: LayerOutputs | OutputTally | null): StepOutcome {
    const { l1, l2, clipNorm, alarms } = this.spec.train
    const lr = this.nextLr
    this.optimizer.lr = lr
    const refuse = (what: string, v: number, parameter: string | null): StepOutcome => refusal(n, what, v, parameter)
    if (l1 > 0 || l2 > 0) addPenaltyGrads(this.model, l1, l2)
    if (clipNorm !== null) optim.clipGradNorm(this.optimizer.params, clipNorm)
    const norms = gradNorms(this.model)
    // Every gradient's squares were just summed: a non-finite sum means a non-finite gradient
    // (or, for float64 weights only, squares beyond 1.8e308), so the exact scan runs only then.
    if (!norms.every((x) => Number.isFinite(x.layer))) {
      const bad = this.firstNonFinite('grad')
      if (bad) return refuse(`gradient of ${bad.name} is ${bad.value}`, bad.value, bad.name)
    }
    const alarm = this.explodingCheck(n, norms)
    if (alarm && alarms.pause) return { ok: false, alarm }
    const stats = outputs ? layerStats(this.model, lr, outputs) : null
    this.takeSnapshot()
    this.optimizer.step()
    const overflow = this.firstNonFinite('value')
    if (overflow) {
      this.restoreSnapshot()
      return refuse(`the update made ${overflow.name} ${overflow.value}`, overflow.value, overflow.name)
    }
    this.stepCount = n
    return { ok: true, loss: value, stats, lr, alarm: alarm ?? vanishingAlarm(n, norms, alarms, this.monitor) }
  }

  /**
   * trainStep for a WebGPU session, on the device copy: the same checks and outcomes, with what
   * they need (the loss, each parameter's gradient sum of squares, and the sampled layer values)
   * read in one batched await before the update and the updated weights' sums of squares in one
   * after it (a non-finite one restores the device copies taken before). Null when the weights
   * were replaced (reset, restore, import) while it waited: that step no longer counts.
   */
  async trainStepOnDevice(sampleStats: boolean): Promise<StepOutcome | null> {
    const d = this.onDevice('trainStepOnDevice')
    const gen = this.gen
    const n = this.stepCount + 1
    const { l1, l2, clipNorm, alarms } = this.spec.train
    const lr = this.nextLr
    d.optimizer.lr = lr
    this.optimizer.lr = lr
    const names = d.optimizer.names
    const refuse = (what: string, value: number, parameter: string | null): StepOutcome => refusal(n, what, value, parameter)
    const b = this.sampler.next()
    d.optimizer.zeroGrad()
    const outs: Tensor[] = []
    let h = tensor(b.x, { shape: [b.size, this.data.train.nFeatures], backend: d.be, allowNonFinite: true })
    for (let i = 0; i < d.model.layers.length; i++) outs.push((h = nn.activate(d.model.layers[i].forward(h), d.model.activations[i])))
    const loss = this.plan.loss(h, b.y)
    loss.backward()
    if (l1 > 0 || l2 > 0) d.addPenaltyGrads(l1, l2)
    if (clipNorm !== null) optim.clipGradNorm(d.optimizer.params, clipNorm)
    const gradSq = d.sumsOfSquares('grad')
    const sampled: Tensor[] = sampleStats ? [...outs, ...d.model.layers.flatMap((l) => (l.weight.grad ? [l.weight, l.weight.grad] : [l.weight]))] : []
    const reads = [loss, ...gradSq.filter((t): t is Tensor => t !== null), ...sampled]
    const values = await Promise.all(reads.map((t) => t.data()))
    if (gen !== this.gen) return null
    const value = values[0][0]
    if (!Number.isFinite(value)) return refuse(`the minibatch loss is ${value}`, value, null)
    let k = 1
    const sq = gradSq.map((t) => (t ? values[k++][0] : 0))
    const bad = sq.findIndex((x) => !Number.isFinite(x))
    if (bad >= 0) return refuse(`gradient of ${names[bad]} is ${sq[bad]}`, sq[bad], names[bad])
    const norms = layerNorms(d.optimizer.params, sq, d.model)
    const alarm = this.explodingCheck(n, norms)
    if (alarm && alarms.pause) return { ok: false, alarm }
    let stats: LayerStats[] | null = null
    if (sampleStats) {
      const read = new Map<Tensor, TypedArray>()
      sampled.forEach((t, i) => read.set(t, values[k + i]))
      stats = layerStats(d.model, lr, { rows: b.size, values: outs.map((o) => read.get(o)!) }, (t) => read.get(t)!)
    }
    d.snapshot()
    d.optimizer.step()
    d.stale = true
    const after = await Promise.all(d.sumsOfSquares('value').map((t) => t!.data()))
    if (gen !== this.gen) return null
    const overflow = after.findIndex((v) => !Number.isFinite(v[0]))
    if (overflow >= 0) {
      d.restore()
      return refuse(`the update made ${names[overflow]} ${after[overflow][0]}`, after[overflow][0], names[overflow])
    }
    this.stepCount = n
    return { ok: true, loss: value, stats, lr, alarm: alarm ?? vanishingAlarm(n, norms, alarms, this.monitor) }
  }

  /**
   * The exploding-gradient alarm for this step, once per episode: it fires on the first step over
   * the threshold, stays quiet while the gradients stay over it, and re-arms on a calm step.
   */
  private explodingCheck(n: number, norms: readonly LayerGradNorm[]): TrainAlarm | null {
    const alarm = explodingAlarm(n, norms, this.spec.train.alarms)
    if (alarm === null) this.explodingArmed = true
    else if (!this.explodingArmed) return null
    else this.explodingArmed = false
    return alarm
  }

  /**
   * The last optimiser update of parameter `index` (of optimizer.params): its values now minus the
   * copy taken before the step, which the NaN guard keeps anyway, so this costs nothing per step.
   * Zeros before the first step. A step the NaN guard refused changed no weight: depending on where
   * it stopped, the update reads as zero or is still the last accepted step's.
   */
  lastUpdate(index: number): Float64Array {
    const p = this.optimizer.params[index]
    const out = new Float64Array(p.size)
    if (this.stepCount === 0) return out // snapshots may still hold the run before a reset
    const now = view(p)
    const before = this.snapshots[index]
    for (let k = 0; k < out.length; k++) out[k] = now[k] - before[k]
    return out
  }

  private takeSnapshot(): void {
    this.optimizer.params.forEach((p, i) => this.snapshots[i].set(view(p)))
  }

  private restoreSnapshot(): void {
    this.optimizer.params.forEach((p, i) => p.assign(tensor(this.snapshots[i], { shape: p.shape, dtype: p.dtype, backend: p.backend, allowNonFinite: true })))
  }

  /** The first parameter (in order) whose gradient or value holds a non-finite number. */
  private firstNonFinite(what: 'grad' | 'value'): { name: string; value: number } | null {
    const { params, names } = this.optimizer
    for (let i = 0; i < params.length; i++) {
      const t = what === 'grad' ? params[i].grad : params[i]
      if (!t) continue
      const v = view(t)
      if (allFinite(v)) continue
      for (let k = 0; k < v.length; k++) if (!Number.isFinite(v[k])) return { name: names[i], value: v[k] }
    }
    return null
  }

  /** Rows [a, a+m) of a dataset as the CPU model's input (a view, no copy). */
  private readonly chunkInput: ChunkInput = (ds, a, m) => this.input(ds.x.subarray(a * ds.nFeatures, (a + m) * ds.nFeatures), m)

  /** The same rows as the device model's input (a copy: the device upload owns its array). */
  private readonly deviceChunkInput: ChunkInput = (ds, a, m) =>
    tensor(ds.x.subarray(a * ds.nFeatures, (a + m) * ds.nFeatures), { shape: [m, ds.nFeatures], backend: this.onDevice('evaluate').be, allowNonFinite: true })

  private onDevice(what: string): DeviceModel {
    if (!this.device) throw new EngineError(what, 'backend', 'this session trains on the CPU')
    return this.device
  }

  /** How evaluation chunks are cut: the same on the CPU and the device, so both measure alike. */
  private measureSetup(model: nn.MLP, input: ChunkInput): MeasureSetup {
    return { model, plan: this.plan, chunkRows: evalChunkRows(this.model.sizes, this.chunkFlops), input }
  }

  private measure(ds: data.Dataset, rows: number): Work<Measurement> {
    return measure(this.measureSetup(this.model, this.chunkInput), ds, rows, view)
  }

  private measureOnDevice(ds: data.Dataset, rows: number): Promise<Measurement> {
    return measureOnDevice(this.measureSetup(this.onDevice('measureOnDevice').model, this.deviceChunkInput), ds, rows)
  }

  /** Mean loss on the (capped) training rows: what stop conditions watch when there is no test split. */
  trainLoss(): number {
    return drain(this.trainLossTask())
  }

  /** trainLoss as resumable work (one chunk per resume). */
  *trainLossTask(): Work<number> {
    return (yield* this.measure(this.data.train, trainRows(this.data.train))).loss
  }

  /** trainLoss() on the device copy. */
  async trainLossOnDevice(): Promise<number> {
    return (await this.measureOnDevice(this.data.train, trainRows(this.data.train))).loss
  }

  /**
   * Full test-set and (capped) train-set loss and accuracy at the current weights; null when there
   * is no test set (testRatio rounds to zero rows) or a loss is not finite (see evalPoint).
   */
  evaluate(): EvalPoint | null {
    return drain(this.evaluateTask())
  }

  /** evaluate() as resumable work (one chunk per resume); the weights must not change meanwhile. */
  *evaluateTask(): Work<EvalPoint | null> {
    const { train, test } = this.data
    if (test.n === 0) return null
    const te = yield* this.measure(test, test.n)
    const tr = yield* this.measure(train, trainRows(train))
    return evalPoint(this.stepCount, te, tr)
  }

  /** evaluate() on the device copy (the test and train measurements read back together). */
  async evaluateOnDevice(): Promise<EvalPoint | null> {
    const { train, test } = this.data
    if (test.n === 0) return null
    const [te, tr] = await Promise.all([this.measureOnDevice(test, test.n), this.measureOnDevice(train, trainRows(train))])
    return evalPoint(this.stepCount, te, tr)
  }
}

/** Each layer's gradient norms from its parameters' sums of squares (gradNorms for read-back values). */
function layerNorms(params: readonly Tensor[], sq: number[], model: nn.MLP): LayerGradNorm[] {
  const of = (t: Tensor | null) => (t ? sq[params.indexOf(t)] : 0)
  return model.layers.map((l) => {
    const w = of(l.weight)
    const b = of(l.bias)
    return { layer: Math.sqrt(w + b), weight: Math.sqrt(w), bias: Math.sqrt(b) }
  })
}

/** A refused step: the update was not applied, training pauses, and the alarm says why. */
function refusal(step: number, what: string, value: number, parameter: string | null): StepOutcome {
  const message = `step ${step}: ${what}; training paused. Lower the learning rate or reset.`
  return { ok: false, alarm: { step, kind: Number.isNaN(value) ? 'nan' : 'inf', layer: parameter && layerOf(parameter), parameter, message } }
}
