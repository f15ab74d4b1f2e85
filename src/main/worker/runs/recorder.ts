// What a session writes while it trains: its metrics batches appended to the log (one write per
// flush, the file kept open), checkpoints every `every` steps and whenever it stops, and run.json
// kept up to date. The first filesystem failure stops recording for this session and is reported
// once; training goes on in memory.
import { closeSync, fsyncSync, openSync, readSync, fstatSync } from 'node:fs'
import { join } from 'node:path'
import type { MetricsBatch } from '../metrics'
import type { SessionSpecOut } from '../setup'
import type { Trainer } from '../trainer'
import { appendAll } from './atomic'
import { captureCheckpoint, checkpointsToThin } from './checkpoint'
import { batchLine, rewindLine, statsOf, type MetricsHistory, type RunStats } from './metrics-log'
import { METRICS_FILE, type RunRecord, type RunStore } from './store'

export interface RecorderOptions {
  /** A checkpoint every this many steps. Default 250. */
  every?: number
  /** At most this many checkpoints are kept (step 0 and the latest always). Default 40. */
  keep?: number
  now?: () => Date
}

export class RunRecorder {
  private fd: number | null = null
  private failed = false
  readonly every: number
  private readonly keep: number
  private readonly now: () => Date
  /** Step of the newest checkpoint on disk. */
  lastCheckpoint = -1

  constructor(
    private readonly store: RunStore,
    public rec: RunRecord,
    /** Told once, with the store's message, when recording stops. */
    private readonly onFailure: (message: string) => void,
    options: RecorderOptions = {},
  ) {
    this.every = options.every ?? 250
    this.keep = options.keep ?? 40
    this.now = options.now ?? (() => new Date())
    this.lastCheckpoint = store.checkpointSteps(rec.runId).at(-1) ?? -1
  }

  get runId(): string {
    return this.rec.runId
  }

  get stats(): RunStats {
    return this.rec.stats
  }

  private attempt(what: string, fn: () => void): boolean {
    if (this.failed) return false
    const ok = this.store.guard(what, fn) !== null
    if (!ok) {
      this.failed = true
      this.closeLog()
      this.onFailure(this.store.storage().message ?? 'runs cannot be saved; training continues in memory')
    }
    return ok
  }

  private log(text: string): void {
    this.attempt('append to the metrics log', () => {
      if (this.fd === null) this.fd = openLog(join(this.store.runDir(this.runId), METRICS_FILE))
      appendAll(this.fd, text)
    })
  }

  appendMetrics(b: MetricsBatch): void {
    const s = this.rec.stats
    if (b.steps.length > 0) {
      s.steps = b.steps[b.steps.length - 1]
      s.lastTrainLoss = b.trainLoss[b.trainLoss.length - 1]
    }
    const e = b.evals.at(-1)
    if (e) {
      s.lastTestLoss = e.testLoss
      s.lastTestAccuracy = e.testAccuracy
    }
    this.log(batchLine(b))
  }

  /** The run continues from `step`: later lines in the log no longer count. */
  rewind(step: number, stats: RunStats): void {
    this.rec.stats = { ...stats }
    this.log(rewindLine(step))
  }

  /** A branch starts with its parent's history up to the step it branched at. */
  seed(h: MetricsHistory): void {
    this.rec.stats = statsOf(h)
    if (h.steps.length === 0 && h.evals.length === 0) return
    this.log(batchLine({ sessionId: 's0', steps: h.steps, trainLoss: h.trainLoss, epoch: 0, evals: h.evals, layers: h.layers, stepsPerSecond: 0 }))
  }

  /** Save a checkpoint of the trainer as it is now (once per step), then thin old ones. */
  checkpoint(trainer: Trainer, spec: SessionSpecOut): void {
    if (this.failed || trainer.stepCount === this.lastCheckpoint) return
    const { bytes, meta } = captureCheckpoint(trainer, spec, this.now())
    // The log is flushed first, so a checkpoint never runs ahead of the metrics on disk.
    this.attempt('flush the metrics log', () => {
      if (this.fd !== null) fsyncSync(this.fd)
    })
    if (this.failed || !this.store.writeCheckpoint(this.runId, meta.step, bytes, meta)) return this.fail()
    this.lastCheckpoint = meta.step
    for (const step of checkpointsToThin(this.store.checkpointSteps(this.runId), this.keep)) this.store.deleteCheckpoint(this.runId, step)
    this.save()
  }

  /**
   * A reset: the history after step 0 is gone. Step 0's checkpoint stays until the next one
   * replaces it (atomically), so a crash in between still leaves a run that opens.
   */
  forgetAfterStart(): void {
    for (const s of this.store.checkpointSteps(this.runId)) if (s > 0) this.store.deleteCheckpoint(this.runId, s)
    this.lastCheckpoint = -1
  }

  save(status = this.rec.status): void {
    if (this.failed) return
    this.rec = { ...this.rec, status, updatedAt: this.now().toISOString() }
    if (!this.store.write(this.rec)) this.fail()
  }

  close(status: RunRecord['status']): void {
    this.closeLog()
    this.save(status)
  }

  private fail(): void {
    if (this.failed) return
    this.failed = true
    this.closeLog()
    this.onFailure(this.store.storage().message ?? 'runs cannot be saved; training continues in memory')
  }

  private closeLog(): void {
    if (this.fd === null) return
    try {
      closeSync(this.fd)
    } catch {
      // Already unusable; nothing more will be written through it.
    }
    this.fd = null
  }
}

/** Open the log for appending; a torn last line (a crash mid-write) is ended so the next line stands alone. */
function openLog(path: string): number {
  const fd = openSync(path, 'a+')
  const size = fstatSync(fd).size
  if (size > 0) {
    const last = Buffer.alloc(1)
    readSync(fd, last, 0, 1, size - 1)
    if (last[0] !== 0x0a) appendAll(fd, '\n')
  }
  return fd
}
