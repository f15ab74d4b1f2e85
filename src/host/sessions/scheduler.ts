// The training loop for all sessions in one thread. Running sessions take turns (round robin),
// each training for one time slice before the loop yields (setImmediate), so a pause or any other
// request waits at most one slice. A session paced by maxStepsPerSecond is skipped until it is due;
// when no running session is due the loop sleeps (a timer) instead of spinning. A WebGPU session's
// slice awaits the device: it runs beside the loop, the session is busy (skipped) until it ends,
// and reads of its weights (inspections, exports) wait for it on the session's queue.
import { performance } from 'node:perf_hooks'
import type { TrainingSession } from '../session'
import type { SessionRegistry } from './registry'

/**
 * The longest sleep the loop takes before looking again: setTimeout fires at once past 2^31−1 ms,
 * so a very slow pace (maxStepsPerSecond 1e-7: a step every 116 days) sleeps in hours, re-checking.
 */
export const MAX_WAKE_MS = 3_600_000

export interface SchedulerOptions {
  /** How often metrics batches are sent while training, in ms. */
  flushMs: number
  /** How long one session trains before the loop yields to requests and other sessions. */
  sliceMs: number
}

export class Scheduler {
  private cursor = 0
  private timer: NodeJS.Immediate | null = null
  /** The loop's sleep while every running session waits for its paced next step. */
  private wake: NodeJS.Timeout | null = null
  private readonly flushMs: number
  private readonly sliceMs: number

  /** `sessions`: the host's registry; once it is closed the loop does not start again. */
  constructor(
    private readonly sessions: SessionRegistry,
    options: SchedulerOptions,
  ) {
    this.flushMs = options.flushMs
    this.sliceMs = options.sliceMs
  }

  /** Make sure the loop runs while any session is running: now if one is due, else when one will be. */
  schedule(): void {
    if (this.timer || this.sessions.closed) return
    if (this.wake) clearTimeout(this.wake)
    this.wake = null
    const now = performance.now()
    let next = Infinity
    for (const s of this.sessions.values()) {
      if (s.status !== 'running' || s.busy) continue
      // A session writing a big checkpoint is looked at again after a flush interval.
      next = Math.min(next, s.saving ? now + this.flushMs : s.wakeAt(this.flushMs))
    }
    if (next <= now) this.timer = setImmediate(() => this.tick())
    else if (next < Infinity) {
      this.wake = setTimeout(
        () => {
          this.wake = null
          this.schedule()
        },
        Math.min(Math.ceil(next - now), MAX_WAKE_MS),
      )
    }
  }

  /** Cancel the pending turn or sleep (the host is being disposed). */
  stop(): void {
    if (this.timer) clearImmediate(this.timer)
    if (this.wake) clearTimeout(this.wake)
    this.timer = null
    this.wake = null
  }

  /** One slice for the next running session in turn, then flushes that are due, then yield. */
  private tick(): void {
    this.timer = null
    try {
      const list = [...this.sessions.values()]
      for (let k = 0; k < list.length; k++) {
        const s = list[(this.cursor + k) % list.length]
        const now = performance.now()
        if (s.status !== 'running' || s.busy || s.saving || s.nextStepAt() > now) continue
        this.cursor = (this.cursor + k + 1) % list.length
        if (s.onDevice) this.runBesideLoop(s, now + this.sliceMs)
        else s.runSlice(Math.min(now + this.sliceMs, s.metrics.lastFlushAt + this.flushMs))
        break
      }
      const now = performance.now()
      for (const s of this.sessions.values()) s.maybeFlush(now, this.flushMs)
    } catch (e) {
      // runSlice contains a session's own failures; anything else is logged, and the loop goes on.
      console.error('engine host: training loop failure:', e)
    }
    this.schedule()
  }

  /**
   * Start a device session's slice: it awaits the GPU, so the loop goes on (requests, other
   * sessions) while it runs; the session is busy and skipped until it ends, then it is due again.
   */
  private runBesideLoop(s: TrainingSession, deadline: number): void {
    s.busy = true
    void s
      .queued(() => s.runSlice(deadline))
      .catch((e) => console.error('engine host: device slice failure:', e))
      .finally(() => {
        s.busy = false
        s.maybeFlush(performance.now(), this.flushMs)
        this.schedule()
      })
  }
}
