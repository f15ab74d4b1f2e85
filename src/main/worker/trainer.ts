// The numeric side of a session: model, optimiser, batches, one training step with its NaN/Inf
// guard, and evaluation. No status, no events: session.ts decides when to call what.
import { data, EngineError, noGrad, Tensor, type Backend, type nn, type optim } from '../../engine'
import { layerStats, view, type EvalPoint, type LayerStats } from './metrics'
import { buildModel, buildOptimizer, type AnyOptimizer, type LossPlan, type SessionSpecOut, type SplitData } from './setup'

/** Train metrics are taken on at most this many training rows, so evaluation stays cheap. */
export const TRAIN_EVAL_ROWS = 5000
/** Evaluation runs in chunks so a 100k-row test set never needs one giant activation matrix. */
const EVAL_CHUNK_ROWS = 4096

/** Everything besides the weights that decides the next steps; a checkpoint saves it. */
export interface TrainerState {
  step: number
  epochBase: number
  sampler: data.SamplerState
  optimizer: optim.OptimizerStateDict
}

export type StepOutcome = { ok: true; loss: number; stats: LayerStats[] | null } | { ok: false; message: string }

export class Trainer {
  model: nn.MLP
  optimizer: AnyOptimizer
  stepCount = 0
  private sampler: data.BatchSampler
  private epochBase = 0
  private snapshots: (Float32Array | Float64Array)[] = []
  private readonly be: Backend

  constructor(
    readonly data: SplitData,
    readonly plan: LossPlan,
    /** The session's live spec: updates (lr, batch size) change it, and reset reads it. */
    private readonly spec: SessionSpecOut,
  ) {
    this.model = buildModel(data.train.nFeatures, spec, plan.outputSize)
    this.optimizer = buildOptimizer(spec.optimizer, this.model.namedParameters())
    this.sampler = this.newSampler(spec.train.batchSize, spec.train.seed)
    // Inputs go to the backend the weights live on, whatever the global backend is meanwhile.
    this.be = this.model.layers[0].weight.backend
    this.snapshots = this.optimizer.params.map((p) => (p.dtype === 'float64' ? new Float64Array(p.size) : new Float32Array(p.size)))
  }

  /** Completed epochs (a batch-size change starts a fresh epoch but keeps the count). */
  get epoch(): number {
    return this.epochBase + this.sampler.epoch
  }

  private newSampler(batchSize: number, seed: number): data.BatchSampler {
    return new data.BatchSampler(this.data.train, batchSize, { seed })
  }

  private input(x: Float32Array, rows: number): Tensor {
    return new Tensor(this.be.fromArray(x), [rows, this.data.train.nFeatures], this.be)
  }

  /** The same model, optimiser and batch order as at creation; live settings are kept. */
  reset(): void {
    this.model = buildModel(this.data.train.nFeatures, this.spec, this.plan.outputSize)
    this.optimizer = buildOptimizer(this.spec.optimizer, this.model.namedParameters())
    this.sampler = this.newSampler(this.spec.train.batchSize, this.spec.train.seed)
    this.stepCount = 0
    this.epochBase = 0
  }

  captureState(): TrainerState {
    return { step: this.stepCount, epochBase: this.epochBase, sampler: this.sampler.getState(), optimizer: this.optimizer.stateDict() }
  }

  /**
   * Continue from a checkpoint: weights by parameter name (already checked against the model),
   * optimiser buffers, batch order and step. The spec's live settings must be the checkpoint's.
   */
  restoreState(weights: Record<string, Float32Array | Float64Array>, state: TrainerState): void {
    this.optimizer.loadStateDict(state.optimizer)
    this.sampler.setState(state.sampler)
    this.loadWeights(weights)
    this.stepCount = state.step
    this.epochBase = state.epochBase
  }

  /** Replace weights by parameter name; the caller has matched names and sizes. */
  loadWeights(weights: Record<string, Float32Array | Float64Array>): void {
    for (const [name, p] of this.model.namedParameters()) {
      const w = weights[name]
      if (!w) continue
      const arr = p.dtype === 'float64' ? Float64Array.from(w) : Float32Array.from(w)
      p.assign(new Tensor(p.backend.fromArray(arr), p.shape, p.backend))
    }
  }

  setBatchSize(batchSize: number): void {
    this.epochBase = this.epoch
    // A different seed per switch point, so switching back does not replay the first epoch's order.
    this.sampler = this.newSampler(batchSize, (this.spec.train.seed + this.stepCount) % 2 ** 31)
  }

  /**
   * One step. A non-finite loss, a gradient the optimiser refuses, or an update that overflows a
   * weight leaves the weights as they were before this step and reports which step and what.
   */
  trainStep(sampleStats: boolean): StepOutcome {
    const n = this.stepCount + 1
    const fail = (what: string): StepOutcome => ({ ok: false, message: `step ${n}: ${what}; training paused. Lower the learning rate or reset.` })
    const b = this.sampler.next()
    this.optimizer.zeroGrad()
    const loss = this.plan.loss(this.model.forward(this.input(b.x, b.size)), b.y)
    const value = view(loss)[0]
    if (!Number.isFinite(value)) return fail(`the minibatch loss is ${value}`)
    loss.backward()
    const stats = sampleStats ? layerStats(this.model, this.optimizer.lr) : null
    this.takeSnapshot()
    try {
      this.optimizer.step()
    } catch (e) {
      if (e instanceof EngineError && e.code === 'nan') return fail(this.badGradient() ?? e.message)
      throw e
    }
    const overflow = this.firstNonFiniteWeight()
    if (overflow) {
      this.restoreSnapshot()
      return fail(`the update made ${overflow}`)
    }
    this.stepCount = n
    return { ok: true, loss: value, stats }
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
    this.optimizer.params.forEach((p, i) => p.assign(new Tensor(p.backend.fromArray(this.snapshots[i].slice()), p.shape, p.backend)))
  }

  private badGradient(): string | null {
    const { params, names } = this.optimizer
    for (let i = 0; i < params.length; i++) {
      const g = params[i].grad
      if (!g) continue
      const v = view(g).find((x) => !Number.isFinite(x))
      if (v !== undefined) return `gradient of ${names[i]} is ${v}`
    }
    return null
  }

  private firstNonFiniteWeight(): string | null {
    const { params, names } = this.optimizer
    for (let i = 0; i < params.length; i++) {
      const v = view(params[i]).find((x) => !Number.isFinite(x))
      if (v !== undefined) return `${names[i]} ${v}`
    }
    return null
  }

  /** Mean loss and accuracy over the first `rows` rows of a dataset, in chunks, without a graph. */
  private measure(ds: data.Dataset, rows: number): { loss: number; accuracy: number | null } {
    const f = ds.nFeatures
    return noGrad(() => {
      let lossSum = 0
      let correct = 0
      let classified = true
      for (let a = 0; a < rows; a += EVAL_CHUNK_ROWS) {
        const m = Math.min(EVAL_CHUNK_ROWS, rows - a)
        const y = ds.y.subarray(a, a + m)
        const out = this.model.forward(this.input(ds.x.subarray(a * f, (a + m) * f), m))
        lossSum += view(this.plan.loss(out, y))[0] * m
        const c = this.plan.correct(view(out), y, m)
        if (c === null) classified = false
        else correct += c
      }
      return { loss: lossSum / rows, accuracy: classified ? correct / rows : null }
    })
  }

  /**
   * Full test-set and (capped) train-set loss and accuracy at the current weights. Null when there
   * is no test set (testRatio rounds to zero rows) or the loss is not finite: the protocol carries
   * finite numbers only, and the step-loss guard reports the problem.
   */
  evaluate(): EvalPoint | null {
    const { train, test } = this.data
    if (test.n === 0) return null
    const te = this.measure(test, test.n)
    const tr = this.measure(train, Math.min(train.n, TRAIN_EVAL_ROWS))
    if (!Number.isFinite(te.loss) || !Number.isFinite(tr.loss)) return null
    return { step: this.stepCount, trainLoss: tr.loss, testLoss: te.loss, trainAccuracy: tr.accuracy, testAccuracy: te.accuracy }
  }
}
