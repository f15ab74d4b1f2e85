// A training session: its status (idle → running ⇄ paused, error), the requests that move it,
// and the slice of training the host's scheduler asks it to run (training/slice-loop.ts, for
// both drivers). Emits `session.state` on every status change and `train.metrics` batches;
// flushes pending metrics before any state change so a client sees a run's last steps before it
// hears that the run stopped. A WebGPU session's slices and every read of its weights run one
// after another on the session's queue (`queued`); the CPU mirror that checkpoints and
// inspections read is refreshed from the device before they do.
import type { Backend, BackendInfo } from '../engine'
import type { EventPayload, ParsedPayload, RequestResult } from '../shared/protocol'
import { HostError } from './errors'
import { sessionInfo } from './session-info'
import { MetricsCollector, type MetricsBatch } from './metrics'
import { applyCheckpoint, loadDeferredOptimizer, type Checkpoint } from './runs/checkpoint'
import type { CheckpointWrite } from './runs/checkpoint-write'
import type { RunRecorder } from './runs/recorder'
import { saveCheckpoint } from './session-checkpoint'
import type { ScratchLog } from './runs/scratch-log'
import type { FileStore } from './datasets/store'
import { dataLabel, prepareData } from './data-source'
import { planLoss, type LossPlan, type SessionSpecOut, type SplitData } from './setup'
import type { TrainAlarm } from './train-guards'
import { Trainer, type TrainerOptions } from './trainer'
import { applyUpdate } from './training/live-update'
import { SliceLoop } from './training/slice-loop'

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
  private waiters: Waiter[] = []
  /** The run this session records into; null when nothing is saved (no or unwritable data directory). */
  recorder: RunRecorder | null = null
  /** An unrecorded session's metrics so far (session.create with record: false), until runs.save. */
  scratch: ScratchLog | null = null
  /** The tail of this session's queue of device work (WebGPU sessions only). */
  private queue: Promise<unknown> = Promise.resolve()
  /** A device slice is queued or running: the host's scheduler skips the session meanwhile. */
  busy = false
  /** A big checkpoint being written from the live weights (session-checkpoint.ts): training waits for it. */
  saving: CheckpointWrite | null = null
  /** What the host's scheduler runs (units of work, resumed across slices). */
  private readonly loop = new SliceLoop(this)

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

  now(): number {
    return this.hooks.now()
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
    const s: SessionState = {
      sessionId: this.id,
      status: this.status,
      step: this.step,
      epoch: this.trainer.epoch,
      backend: { ...this.backend },
    }
    if (this.message !== undefined) s.message = this.message
    return s
  }

  info(): SessionInfo {
    return sessionInfo(this)
  }

  private assertCanTrain(what: string): void {
    loadDeferredOptimizer(this.trainer) // a reopened run's optimiser state is read as training continues
    if (this.status === 'error')
      throw new HostError(
        'engine',
        `${what}: session ${this.id} stopped with an error (${this.message ?? 'unknown'}); reset it to continue`,
      )
  }

  start(): SessionState {
    this.assertCanTrain('session.start')
    this.trainer.explodingArmed = true
    this.loop.begin(null)
    this.setStatus('running', undefined)
    // A pending session.step run became a free run: its request is answered now.
    this.settle()
    return this.state()
  }

  pause(): SessionState {
    this.loop.stepsLeft = null
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
    this.loop.begin(n)
    const done = new Promise<SessionState>((resolve, reject) => this.waiters.push({ resolve, reject }))
    this.setStatus('running', undefined)
    return done
  }

  /** The weights are about to change outside training: a checkpoint being written from them is finished first. */
  weightsChanging(): void {
    this.saving?.finishNow()
  }

  reset(): SessionState {
    this.weightsChanging()
    this.flush()
    this.loop.drop()
    this.trainer.reset()
    this.loop.stepsLeft = null
    this.loop.evaluatedAt = -1
    this.metrics.clear(this.hooks.now())
    this.metrics.lr = this.trainer.nextLr
    if (this.recorder) {
      // Step 0 is evaluated again, so its old evaluation goes too.
      this.recorder.rewind(-1, { steps: 0, lastTrainLoss: null, lastTestLoss: null, lastTestAccuracy: null })
      this.recorder.forgetAfterStart()
      this.checkpoint()
    }
    this.scratch?.clear()
    this.setStatus('idle', undefined, true)
    this.settle()
    return this.state()
  }

  /** Live changes; everything is checked before anything changes. */
  update(p: UpdatePayload): SessionState {
    if (applyUpdate(this.spec, this.trainer, p).paced) this.loop.pace()
    // The schedule, the base lr or both may have changed: eval-only batches report the new rate.
    this.metrics.lr = this.trainer.nextLr
    return this.state()
  }

  dispose(): void {
    this.flush()
    this.checkpoint()
    this.saving?.finishNow() // the bytes reach the kernel now; the flush and rename follow

    const recorder = this.recorder
    if (this.onDevice) void this.queued(() => recorder?.close('saved'))
    else recorder?.close('saved')
    this.loop.drop()
    this.loop.stepsLeft = null
    this.status = 'idle'
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w.reject(new HostError('not_found', `session ${this.id} was disposed before its steps finished`))
  }

  /** When the next step may run (ms on the `now` clock; see SliceLoop.nextStepAt). */
  nextStepAt(): number {
    return this.loop.nextStepAt()
  }

  /** When the host should come back to this running session: its next step or a metrics flush. */
  wakeAt(flushMs: number): number {
    return this.metrics.pending ? Math.min(this.nextStepAt(), this.metrics.lastFlushAt + flushMs) : this.nextStepAt()
  }

  /** Train until `deadline` (training/slice-loop.ts): a CPU slice runs now, a device slice's promise says when it ended. */
  runSlice(deadline: number): void | Promise<void> {
    return this.loop.runSlice(deadline)
  }

  /** Send an alarm after the steps before it, so a chart has the step it names. */
  raise(alarm: TrainAlarm, paused: boolean): void {
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
    ;(this.recorder ?? this.scratch)?.appendMetrics(batch)
    this.hooks.emitMetrics(batch)
  }

  /** Save where training stands (pending metrics first, so the log is never behind a checkpoint). */
  checkpoint(): void {
    saveCheckpoint(this)
  }

  /** Continue from a saved checkpoint (runs.open); the session waits, paused, at its step. */
  restore(ck: Checkpoint, where: string): void {
    this.weightsChanging()
    this.loop.drop()
    applyCheckpoint(this.trainer, ck, where)
    this.loop.evaluatedAt = this.step
    this.setStatus('paused', undefined)
  }

  /** Saving failed: say so once, in the state, while training goes on in memory. */
  storageFailed(message: string): void {
    this.message = message
    this.hooks.emitState(this.state())
  }

  /** Stop training with this status and message: saved, and pending session.step requests answered. */
  halt(status: 'paused' | 'error', message: string | undefined): void {
    this.loop.stepsLeft = null
    this.setStatus(status, message)
    this.checkpoint()
    this.settle()
  }

  private setStatus(status: SessionStatus, message: string | undefined, force = false): void {
    if (status === this.status && message === this.message && !force) return
    this.flush()
    if (status === 'running' && this.status !== 'running') {
      this.metrics.startWindow(this.hooks.now(), this.step)
      this.loop.pace()
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
