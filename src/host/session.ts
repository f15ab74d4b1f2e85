// A training session: its status (idle → running ⇄ paused, error), the requests that move it,
// and the slice of training the host's scheduler asks it to run. Emits `session.state` on every
// status change and `train.metrics` batches; flushes pending metrics before any state change so
// a client sees a run's last steps before it hears that the run stopped.
//
// Step numbers count updates: `step` in a state is how many steps are done; the minibatch loss
// of step k (1-based) is the loss that step k computed before its update; an evaluation at step k
// measures the weights after k updates. Step 0 is evaluated once, when training first starts (and
// again after a reset), then every evalEvery steps, so the test curve starts where training does.
//
// Stop conditions pause the session with a message saying why (step and epoch limits are checked
// around every step, targetLoss and early stopping at evaluations); alarms go out as `train.alarm`
// and pause it when alarms.pause is set (NaN/Inf always). maxStepsPerSecond paces the steps: the
// host asks `nextStepAt` when the session is due instead of spinning.
//
// A WebGPU session steps asynchronously (runSliceOnDevice): its slices and every read of its
// weights run one after another on the session's queue (`queued`). Evaluation runs on the device;
// the CPU mirror that checkpoints and inspections read is refreshed from the device before they do.
//
// A CPU session's step and what follows it (evaluation, checkpoint, alarms, stops) is one unit of
// resumable work (`unit`): a big step or evaluation yields between chunks of rows (trainer.ts), and
// the slice resumes it where it stopped, so no piece of it holds the thread for long. A pause
// between chunks takes effect at once and keeps the unit: the next start or session.step resumes
// the same step (a run paused mid-step ends up exactly where an unpaused one would). A reset,
// restore, weight import or batch-size change drops it (the step's batch is put back; nothing of
// it was applied); so does dispose.
import type { Backend, BackendInfo } from '../engine'
import type { EventPayload, ParsedPayload, RequestResult } from '../shared/protocol'
import { HostError } from './errors'
import { MetricsCollector, type EvalPoint, type MetricsBatch } from './metrics'
import { applyCheckpoint, type Checkpoint } from './runs/checkpoint'
import type { RunRecorder } from './runs/recorder'
import type { FileStore } from './datasets/store'
import { dataLabel, prepareData } from './data-source'
import { patchOptimizerSpec, planLoss, type LossPlan, type SessionSpecOut, type SplitData } from './setup'
import { countStop, evalStop, type TrainAlarm } from './train-guards'
import { Trainer, type StepOutcome, type TrainerOptions } from './trainer'
import { MIRROR, runAsync, runSync, SLICE, type Drive } from './training/drive'

export type SessionState = EventPayload<'session.state'>
export type SessionStatus = SessionState['status']
export type SessionInfo = RequestResult<'session.create'>
export type UpdatePayload = ParsedPayload<'session.update'>

export interface SessionHooks {
  emitState(state: SessionState): void
  emitMetrics(batch: MetricsBatch): void
  emitAlarm(alarm: EventPayload<'train.alarm'>): void
  now(): number
  /** The host's uploaded files, which CSV and IDX specs name (null: the session's data needs none). */
  files: FileStore | null
  /** Called with the data and loss before the model is built: the host's memory budget may refuse (budget.ts). */
  admit?(data: SplitData, plan: LossPlan): void
}

interface Waiter {
  resolve(state: SessionState): void
  reject(error: HostError): void
}

export class TrainingSession {
  status: SessionStatus = 'idle'
  message: string | undefined
  readonly trainer: Trainer
  readonly metrics: MetricsCollector
  /** Steps left in a `session.step` run; null while running freely or stopped. */
  private stepsLeft: number | null = null
  private waiters: Waiter[] = []
  /** Step of the last evaluation, so step 0 is evaluated once before the first update. */
  private evaluatedAt = -1
  /** The run this session records into; null when nothing is saved (no or unwritable data directory). */
  recorder: RunRecorder | null = null
  /** Pacing under maxStepsPerSecond: the time and step from which steps are spaced evenly. */
  private paceAt = 0
  private paceStep = 0
  /** The tail of this session's queue of device work (WebGPU sessions only). */
  private queue: Promise<unknown> = Promise.resolve()
  /** A device slice is queued or running: the host's scheduler skips the session meanwhile. */
  busy = false
  /** The unit of work in progress (a step and what follows it), resumed by the next slice. */
  private work: Drive<boolean> | null = null
  /** Bumped when a new run of steps begins (start, session.step): a unit of an earlier run does not count towards it. */
  private run = 0

  constructor(
    readonly id: string,
    readonly spec: SessionSpecOut,
    readonly backend: BackendInfo,
    private readonly hooks: SessionHooks,
    /** The backend object `backend` names, where the model is placed (default: the CPU). */
    placement?: Backend,
    options: TrainerOptions = {},
  ) {
    const prepared = prepareData(spec.data, hooks.files)
    const plan = planLoss(spec.model.loss, prepared.train.task, prepared.train.nClasses, dataLabel(spec.data))
    hooks.admit?.(prepared, plan)
    this.trainer = new Trainer(prepared, plan, spec, placement, options)
    this.metrics = new MetricsCollector(id, hooks.now())
    this.metrics.lr = this.trainer.nextLr
  }

  get step(): number {
    return this.trainer.stepCount
  }

  /** Whether this session trains on a device (asynchronous steps, a CPU mirror for reads). */
  get onDevice(): boolean {
    return this.trainer.device !== null
  }

  /** Run `fn` after everything queued before it (device slices, mirror reads) has finished. */
  queued<T>(fn: () => T | Promise<T>): Promise<T> {
    const run = this.queue.then(fn)
    this.queue = run.catch(() => undefined)
    return run
  }

  /**
   * `fn` over the session with its CPU mirror current: at once on the CPU; for a device session
   * after its queued work, with the weights read back first (inspections and exports use this).
   */
  reading<T>(fn: () => T | Promise<T>): T | Promise<T> {
    if (!this.onDevice) return fn()
    return this.queued(async () => {
      await this.trainer.syncMirror()
      return fn()
    })
  }

  state(): SessionState {
    const s: SessionState = { sessionId: this.id, status: this.status, step: this.step, epoch: this.trainer.epoch, backend: { ...this.backend } }
    if (this.message !== undefined) s.message = this.message
    return s
  }

  info(): SessionInfo {
    const { model, plan, data } = this.trainer
    return {
      runId: this.recorder?.runId ?? null,
      state: this.state(),
      spec: structuredClone(this.spec),
      paramCount: model.parameterCount(),
      layers: model.layers.map((l, i) => ({ name: `layers.${i}`, inFeatures: l.inFeatures, outFeatures: l.outFeatures, activation: model.activations[i] })),
      loss: plan.name,
      task: data.train.task,
      inputFeatures: data.train.nFeatures,
      outputSize: plan.outputSize,
      featureNames: [...data.featureNames],
      classNames: data.classNames && [...data.classNames],
      planar: data.planar,
    }
  }

  private assertCanTrain(what: string): void {
    if (this.status === 'error') throw new HostError('engine', `${what}: session ${this.id} stopped with an error (${this.message ?? 'unknown'}); reset it to continue`)
  }

  start(): SessionState {
    this.assertCanTrain('session.start')
    this.trainer.explodingArmed = true
    this.stepsLeft = null
    this.run++
    this.setStatus('running', undefined)
    // A pending session.step run became a free run: its request is answered now.
    this.settle()
    return this.state()
  }

  pause(): SessionState {
    this.stepsLeft = null
    if (this.status === 'running') this.setStatus('paused', this.message)
    this.checkpoint()
    this.settle()
    return this.state()
  }

  /** Run n steps then pause; resolves when they are done, or earlier if paused, halted or reset. */
  runSteps(n: number): Promise<SessionState> {
    this.assertCanTrain('session.step')
    this.settle() // a newer step request supersedes an older one
    this.trainer.explodingArmed = true
    this.stepsLeft = n
    this.run++
    const done = new Promise<SessionState>((resolve, reject) => this.waiters.push({ resolve, reject }))
    this.setStatus('running', undefined)
    return done
  }

  reset(): SessionState {
    this.flush()
    this.work = null
    this.trainer.reset()
    this.stepsLeft = null
    this.evaluatedAt = -1
    this.metrics.clear(this.hooks.now())
    this.metrics.lr = this.trainer.nextLr
    if (this.recorder) {
      // Step 0 is evaluated again, so its old evaluation goes too.
      this.recorder.rewind(-1, { steps: 0, lastTrainLoss: null, lastTestLoss: null, lastTestAccuracy: null })
      this.recorder.forgetAfterStart()
      this.checkpoint()
    }
    this.setStatus('idle', undefined, true)
    this.settle()
    return this.state()
  }

  /** Live changes; everything is checked before anything changes. */
  update(p: UpdatePayload): SessionState {
    const optimizer = p.optimizer ? patchOptimizerSpec(this.spec.optimizer, p.optimizer) : this.spec.optimizer
    if (p.optimizer) {
      const patch = Object.fromEntries(Object.entries(p.optimizer).filter(([, v]) => v !== undefined))
      this.trainer.setOptimizerOptions(patch)
      this.spec.optimizer = optimizer
    }
    if (p.batchSize !== undefined && p.batchSize !== this.spec.train.batchSize) {
      this.spec.train.batchSize = p.batchSize
      this.trainer.setBatchSize(p.batchSize)
    }
    const t = this.spec.train
    if (p.evalEvery !== undefined) t.evalEvery = p.evalEvery
    if (p.schedule !== undefined) t.schedule = p.schedule
    if (p.l1 !== undefined) t.l1 = p.l1
    if (p.l2 !== undefined) t.l2 = p.l2
    if (p.clipNorm !== undefined) t.clipNorm = p.clipNorm
    if (p.stop !== undefined) t.stop = p.stop
    if (p.alarms !== undefined) t.alarms = p.alarms
    if (p.maxStepsPerSecond !== undefined) {
      t.maxStepsPerSecond = p.maxStepsPerSecond
      this.pace()
    }
    // The schedule, the base lr or both may have changed: eval-only batches report the new rate.
    this.metrics.lr = this.trainer.nextLr
    return this.state()
  }

  dispose(): void {
    this.flush()
    this.checkpoint()
    const recorder = this.recorder
    if (this.onDevice) void this.queued(() => recorder?.close('saved'))
    else recorder?.close('saved')
    this.work = null
    this.trainer.abandonStep()
    this.stepsLeft = null
    this.status = 'idle'
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w.reject(new HostError('not_found', `session ${this.id} was disposed before its steps finished`))
  }

  /**
   * When the next step may run (ms on the `now` clock): now for a session at full speed, later
   * when maxStepsPerSecond spaces steps evenly from the moment training (re)started at that rate.
   */
  nextStepAt(): number {
    if (this.work) return -Infinity // a unit in progress continues at once
    const rate = this.spec.train.maxStepsPerSecond
    return rate === null ? -Infinity : this.paceAt + ((this.step - this.paceStep) * 1000) / rate
  }

  /** When the host should come back to this running session: its next step or a metrics flush. */
  wakeAt(flushMs: number): number {
    return this.metrics.pending ? Math.min(this.nextStepAt(), this.metrics.lastFlushAt + flushMs) : this.nextStepAt()
  }

  private pace(): void {
    this.paceAt = this.hooks.now()
    this.paceStep = this.step
  }

  /**
   * Train until `deadline`, a stop condition, a session.step target, a halt or a paced step not yet
   * due; at least one piece (a whole small step, or one chunk of a big one) per call. The one entry
   * point for both drivers: a CPU session runs its slice now; a device session's slice awaits the
   * device, and the promise says when it ended (the host runs it on the session's queue).
   */
  runSlice(deadline: number): void | Promise<void> {
    const until = { deadline, now: () => this.hooks.now() }
    if (this.onDevice) return runAsync(this.loop(), { until, mirror: () => this.trainer.syncMirror() }).then(() => undefined, (e) => this.failed(e))
    try {
      runSync(this.loop(), until)
    } catch (e) {
      this.failed(e)
    }
  }

  /**
   * The slice loop, for either driver: units of work until a halt or a unit not due, with a slice
   * point between units. A unit stopped at a slice point stays in `work`, and the next slice's
   * loop resumes it where it stopped.
   */
  private *loop(): Drive<void> {
    while (this.status === 'running') {
      if (this.work === null) {
        if (countStop(this.spec.train.stop, this.step, this.trainer.epoch) !== null) {
          yield MIRROR // the halt's checkpoint reads the weights
          if (this.status !== 'running') return
        }
        if (this.stopIfDue(countStop(this.spec.train.stop, this.step, this.trainer.epoch))) return
        if (this.hooks.now() < this.nextStepAt()) return
        this.work = this.unit()
      }
      const work = this.work
      const halted = yield* work
      if (this.work === work) this.work = null
      if (halted) return
      yield SLICE
    }
  }

  /**
   * One step and what follows it (evaluation, checkpoint, alarms, stops); true: the slice ends (a
   * halt). The step count advances only when the step completes, and the next step waits for its
   * evaluation. Work on weights replaced meanwhile (reset, restore, import), or of a session
   * disposed while a device read was awaited, ends without a trace.
   */
  private *unit(): Drive<boolean> {
    const gen = this.trainer.generation
    const voided = () => gen !== this.trainer.generation || this.status !== 'running'
    if (this.step === 0 && this.evaluatedAt !== 0) {
      const stop = yield* this.evaluation()
      if (voided()) return false
      if (this.stopIfDue(stop)) return true
    }
    const r = yield* this.trainer.step(this.metrics.layerSampleDue)
    if (r === null || voided()) return false // abandoned (reset, restore, import, batch-size change): the next unit redoes it
    // The step counts from here on: its metrics are recorded now, so a pause during its evaluation
    // (which yields between chunks) never shows a step, or saves a checkpoint, ahead of the log.
    if (r.ok) this.metrics.recordStep(this.step, r.loss, r.stats, r.lr)
    const run = this.run
    const stop = r.ok && this.step % this.spec.train.evalEvery === 0 ? yield* this.evaluation() : null
    if (voided()) return false
    if (this.mayHalt(r, stop)) {
      yield MIRROR // what may checkpoint next (a due checkpoint, an alarm, a halt) reads the weights of this step
      if (voided()) return false
    }
    return this.afterStep(r, stop, run === this.run)
  }

  /** Whether afterStep may save a checkpoint or halt. */
  private mayHalt(r: StepOutcome, stop: string | null): boolean {
    if (!r.ok || r.alarm !== null || stop !== null || this.stepsLeft === 1) return true
    if (this.recorder !== null && this.step % this.recorder.every === 0) return true
    return countStop(this.spec.train.stop, this.step, this.trainer.epoch) !== null
  }

  /**
   * What follows a step and its evaluation (`stop`: what the evaluation said, if one ran):
   * checkpoint, alarms, stops. True: the slice ends. `counts`: the step belongs to the current run
   * of steps (not to one paused during its evaluation), so session.step counts it.
   */
  private afterStep(r: StepOutcome, stop: string | null, counts: boolean): boolean {
    if (!r.ok) {
      this.raise(r.alarm, true)
      this.halt('paused', r.alarm.message)
      return true
    }
    if (this.recorder && this.step % this.recorder.every === 0) this.checkpoint()
    if (r.alarm) {
      const pause = this.spec.train.alarms.pause
      this.raise(r.alarm, pause)
      if (pause) {
        this.halt('paused', r.alarm.message)
        return true
      }
    }
    if (this.stopIfDue(stop ?? countStop(this.spec.train.stop, this.step, this.trainer.epoch))) return true
    if (counts && this.stepsLeft !== null && --this.stepsLeft === 0) {
      this.halt('paused', undefined)
      return true
    }
    return false
  }

  /**
   * Not a NaN (the step reports those) but something the engine did not expect: the session
   * cannot be trusted to continue, but the host and the other sessions carry on.
   */
  private failed(e: unknown): void {
    this.work = null
    this.trainer.abandonStep()
    const detail = e instanceof Error ? e.message : String(e)
    this.halt('error', `step ${this.step + 1} failed: ${detail}; reset the session to continue`)
  }

  private stopIfDue(message: string | null): boolean {
    if (message === null) return false
    this.halt('paused', message)
    return true
  }

  /** Send an alarm after the steps before it, so a chart has the step it names. */
  private raise(alarm: TrainAlarm, paused: boolean): void {
    this.flush()
    this.hooks.emitAlarm({ sessionId: this.id, ...alarm, paused })
  }

  /** Emit the pending metrics if a flush interval has passed since the last batch. */
  maybeFlush(now: number, flushMs: number): void {
    if (now - this.metrics.lastFlushAt >= flushMs) this.flush()
  }

  flush(): void {
    const batch = this.metrics.flush(this.hooks.now(), this.step, this.trainer.epoch)
    if (!batch) return
    this.recorder?.appendMetrics(batch)
    this.hooks.emitMetrics(batch)
  }

  /** Save where training stands (pending metrics first, so the log is never behind a checkpoint). */
  checkpoint(): void {
    if (!this.recorder || this.status === 'error') return
    this.flush()
    if (!this.trainer.device?.stale) {
      this.recorder.checkpoint(this.trainer, this.spec)
      return
    }
    // A device session between steps (a pause request): read the weights back after the running slice.
    void this.queued(async () => {
      await this.trainer.syncMirror()
      if (this.recorder && this.status !== 'error') this.recorder.checkpoint(this.trainer, this.spec)
    }).catch((e) => this.storageFailed(`could not read the weights back from the GPU for a checkpoint: ${e instanceof Error ? e.message : String(e)}`))
  }

  /** Continue from a saved checkpoint (runs.open); the session waits, paused, at its step. */
  restore(ck: Checkpoint, where: string): void {
    this.work = null
    applyCheckpoint(this.trainer, ck, where)
    this.evaluatedAt = this.step
    this.setStatus('paused', undefined)
  }

  /** Saving failed: say so once, in the state, while training goes on in memory. */
  storageFailed(message: string): void {
    this.message = message
    this.hooks.emitState(this.state())
  }

  /**
   * Evaluate now (for either driver); returns a stop message when targetLoss or early stopping
   * says so. They watch the test loss, or without a test split the train loss (measured only when
   * one of them is set).
   */
  private *evaluation(): Drive<string | null> {
    const watched = this.watchesTrainLoss()
    const point = yield* this.trainer.evaluation()
    return this.evaluated(point, watched ? yield* this.trainer.trainLoss() : null)
  }

  /** Without a test split, targetLoss and early stopping watch the train loss: measured only then. */
  private watchesTrainLoss(): boolean {
    const { stop } = this.spec.train
    return this.trainer.data.test.n === 0 && (stop.targetLoss !== null || stop.earlyStopping !== null)
  }

  private evaluated(point: EvalPoint | null, trainLoss: number | null): string | null {
    this.evaluatedAt = this.step
    if (point) this.metrics.recordEval(point)
    const which = this.trainer.data.test.n > 0 ? 'test' : 'train'
    const loss = point ? point.testLoss : trainLoss
    if (loss === null || !Number.isFinite(loss)) return null
    return evalStop(this.spec.train.stop, this.trainer.monitor, loss, this.step, which)
  }

  private halt(status: 'paused' | 'error', message: string | undefined): void {
    this.stepsLeft = null
    this.setStatus(status, message)
    this.checkpoint()
    this.settle()
  }

  private setStatus(status: SessionStatus, message: string | undefined, force = false): void {
    if (status === this.status && message === this.message && !force) return
    this.flush()
    if (status === 'running' && this.status !== 'running') {
      this.metrics.startWindow(this.hooks.now(), this.step)
      this.pace()
    }
    this.status = status
    this.message = message
    this.hooks.emitState(this.state())
  }

  /** Answer pending session.step requests with the state as it is now. */
  private settle(): void {
    const waiters = this.waiters
    this.waiters = []
    const s = this.state()
    for (const w of waiters) w.resolve(s)
  }
}
