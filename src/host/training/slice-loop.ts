// The slice of training the host's scheduler asks a session to run, written once for both drivers
// (drive.ts): units of work, each a step and what follows it (the step-0 evaluation when due, the
// step, its metrics, the evaluation when due, then checkpoint, alarms, stops and session.step
// counting), with a slice point between units and inside big ones (between chunks of rows).
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
// On the CPU the slice runs now, up to its deadline: a big step or evaluation stops between chunks
// and the next slice resumes it where it stopped, so no piece of it holds the thread for long. A
// pause between chunks takes effect at once and keeps the unit: the next start or session.step
// resumes the same step (a run paused mid-step ends up exactly where an unpaused one would). A
// reset, restore, weight import or batch-size change drops it (the step's batch is put back;
// nothing of it was applied); so does dispose.
//
// A WebGPU session's slice awaits the device (the host runs it on the session's queue, so reads of
// its weights wait for it); where something may read the weights' CPU mirror next (a checkpoint
// or halt that is due) the loop asks for the mirror (MIRROR), so it holds the step it names.
import type { EvalPoint, MetricsCollector } from '../metrics'
import type { RunRecorder } from '../runs/recorder'
import type { SessionStatus } from '../session'
import type { SessionSpecOut } from '../setup'
import { countStop, evalStop, type TrainAlarm } from '../train-guards'
import type { StepOutcome, Trainer } from '../trainer'
import { MIRROR, runAsync, runSync, SLICE, type Drive } from './drive'
import { statsEvery } from '../work-budget'

/** What the loop needs from its session (session.ts). */
export interface LoopSession {
  readonly status: SessionStatus
  readonly trainer: Trainer
  readonly metrics: MetricsCollector
  readonly spec: SessionSpecOut
  readonly recorder: RunRecorder | null
  readonly onDevice: boolean
  /** A big checkpoint is being written from the weights: no step may run until it is. */
  readonly saving: unknown
  now(): number
  /** Stop training with this status and message (it saves a checkpoint and answers session.step). */
  halt(status: 'paused' | 'error', message: string | undefined): void
  /** Send an alarm (after the metrics before it). */
  raise(alarm: TrainAlarm, paused: boolean): void
  checkpoint(): void
}

export class SliceLoop {
  /** The unit of work in progress (a step and what follows it), resumed by the next slice. */
  work: Drive<boolean> | null = null
  /** Step of the last evaluation, so step 0 is evaluated once before the first update. */
  evaluatedAt = -1
  /** Steps left in a `session.step` run; null while running freely or stopped. */
  stepsLeft: number | null = null
  /** Bumped when a new run of steps begins (start, session.step): a unit of an earlier run does not count towards it. */
  private run = 0
  /** Pacing under maxStepsPerSecond: the time and step from which steps are spaced evenly. */
  private paceAt = 0
  private paceStep = 0

  constructor(private readonly s: LoopSession) {}

  /** A new run of steps: `steps` of them (session.step), or null for a free run (start). */
  begin(steps: number | null): void {
    this.stepsLeft = steps
    this.run++
  }

  /** Space steps from now (training (re)starts, or the rate changed). */
  pace(): void {
    this.paceAt = this.s.now()
    this.paceStep = this.s.trainer.stepCount
  }

  /**
   * When the next step may run (ms on the `now` clock): now for a session at full speed, later
   * when maxStepsPerSecond spaces steps evenly from the moment training (re)started at that rate.
   */
  nextStepAt(): number {
    if (this.work) return -Infinity // a unit in progress continues at once
    const rate = this.s.spec.train.maxStepsPerSecond
    return rate === null ? -Infinity : this.paceAt + ((this.s.trainer.stepCount - this.paceStep) * 1000) / rate
  }

  /** Drop the unit in progress (reset, restore, dispose, a failure); its step's batch goes back. */
  drop(): void {
    this.work = null
    this.s.trainer.abandonStep()
  }

  /**
   * Train until `deadline`, a stop condition, a session.step target, a halt or a paced step not yet
   * due; at least one piece (a whole small step, or one chunk of a big one) per call. A CPU
   * session's slice runs now; a device session's returns the promise of its end.
   */
  runSlice(deadline: number): void | Promise<void> {
    const until = { deadline, now: () => this.s.now() }
    if (this.s.onDevice)
      return runAsync(this.loop(), { until, mirror: () => this.s.trainer.syncMirror() }).then(
        () => undefined,
        (e) => this.failed(e),
      )
    try {
      runSync(this.loop(), until)
    } catch (e) {
      this.failed(e)
    }
  }

  /**
   * Not a NaN (the step reports those) but something the engine did not expect: the session
   * cannot be trusted to continue, but the host and the other sessions carry on.
   */
  private failed(e: unknown): void {
    this.drop()
    const detail = e instanceof Error ? e.message : String(e)
    this.s.halt('error', `step ${this.s.trainer.stepCount + 1} failed: ${detail}; reset the session to continue`)
  }

  /** Units until a halt or a unit not due; a unit stopped at a slice point is resumed by the next slice's loop. */
  private *loop(): Drive<void> {
    const s = this.s
    while (s.status === 'running' && s.saving === null) {
      if (this.work === null) {
        if (countStop(s.spec.train.stop, s.trainer.stepCount, s.trainer.epoch) !== null) {
          yield MIRROR // the halt's checkpoint reads the weights
          if (s.status !== 'running') return
        }
        if (this.stopIfDue(countStop(s.spec.train.stop, s.trainer.stepCount, s.trainer.epoch))) return
        if (s.now() < this.nextStepAt()) return
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
   * One step and what follows it; true: the slice ends (a halt). The step count advances only when
   * the step completes, and the next step waits for its evaluation. Work on weights replaced
   * meanwhile (reset, restore, import), or of a session disposed while a device read was awaited,
   * ends without a trace.
   */
  private *unit(): Drive<boolean> {
    const { trainer, metrics, spec } = this.s
    const gen = trainer.generation
    const voided = () => gen !== trainer.generation || this.s.status !== 'running'
    if (trainer.stepCount === 0 && this.evaluatedAt !== 0) {
      const stop = yield* this.evaluation()
      if (voided()) return false
      if (this.stopIfDue(stop)) return true
    }
    const r = yield* trainer.step(metrics.statsDue(trainer.stepCount + 1))
    if (r === null || voided()) return false // abandoned (reset, restore, import, batch-size change): the next unit redoes it
    // The step counts from here on: its metrics are recorded now, so a pause during its evaluation
    // (which yields between chunks) never shows a step, or saves a checkpoint, ahead of the log.
    if (r.ok) metrics.recordStep(trainer.stepCount, r.loss, r.stats, r.lr, r.norms)
    if (r.ok && r.stats) {
      const params = trainer.snapshots.reduce((n, a) => n + a.length, 0)
      metrics.statsTaken(trainer.stepCount, statsEvery(trainer.model.sizes, params, spec.train.batchSize))
    }
    const run = this.run
    const stop = r.ok && trainer.stepCount % spec.train.evalEvery === 0 ? yield* this.evaluation() : null
    if (voided()) return false
    if (this.mayHalt(r, stop)) {
      yield MIRROR // what may save a checkpoint next (one that is due, an alarm, a halt) reads this step's weights
      if (voided()) return false
    }
    return this.afterStep(r, stop, run === this.run)
  }

  /** Whether afterStep may save a checkpoint or halt. */
  private mayHalt(r: StepOutcome, stop: string | null): boolean {
    const { trainer, recorder, spec } = this.s
    if (!r.ok || r.alarm !== null || stop !== null || this.stepsLeft === 1) return true
    if (recorder !== null && trainer.stepCount % recorder.every === 0) return true
    return countStop(spec.train.stop, trainer.stepCount, trainer.epoch) !== null
  }

  /**
   * What follows a step and its evaluation (`stop`: what the evaluation said, if one ran):
   * checkpoint, alarms, stops. True: the slice ends. `counts`: the step belongs to the current run
   * of steps (not to one paused during its evaluation), so session.step counts it.
   */
  private afterStep(r: StepOutcome, stop: string | null, counts: boolean): boolean {
    const s = this.s
    if (!r.ok) {
      s.raise(r.alarm, true)
      s.halt('paused', r.alarm.message)
      return true
    }
    if (s.recorder && s.trainer.stepCount % s.recorder.every === 0) s.checkpoint()
    if (r.alarm) {
      const pause = s.spec.train.alarms.pause
      s.raise(r.alarm, pause)
      if (pause) {
        s.halt('paused', r.alarm.message)
        return true
      }
    }
    if (this.stopIfDue(stop ?? countStop(s.spec.train.stop, s.trainer.stepCount, s.trainer.epoch))) return true
    if (counts && this.stepsLeft !== null && --this.stepsLeft === 0) {
      s.halt('paused', undefined)
      return true
    }
    return false
  }

  private stopIfDue(message: string | null): boolean {
    if (message === null) return false
    this.s.halt('paused', message)
    return true
  }

  /**
   * Evaluate now; returns a stop message when targetLoss or early stopping says so. They watch the
   * test loss, or without a test split the train loss (measured only when one of them is set).
   */
  private *evaluation(): Drive<string | null> {
    const { trainer, spec } = this.s
    const { stop } = spec.train
    const watched = trainer.data.test.n === 0 && (stop.targetLoss !== null || stop.earlyStopping !== null)
    const point = yield* trainer.evaluation()
    return this.evaluated(point, watched ? yield* trainer.trainLoss() : null)
  }

  private evaluated(point: EvalPoint | null, trainLoss: number | null): string | null {
    const { trainer, metrics, spec } = this.s
    this.evaluatedAt = trainer.stepCount
    if (point) metrics.recordEval(point)
    const which = trainer.data.test.n > 0 ? 'test' : 'train'
    const loss = point ? point.testLoss : trainLoss
    if (loss === null || !Number.isFinite(loss)) return null
    return evalStop(spec.train.stop, trainer.monitor, loss, trainer.stepCount, which)
  }
}
