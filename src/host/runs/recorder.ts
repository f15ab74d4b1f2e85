// What a session writes while it trains: metrics batches appended to the log (one write per flush,
// the file kept open), checkpoints every `every` steps and when it stops, and run.json kept current.
// A log past its limit is compacted in slices beside training (log-compaction.ts): appends go on and
// are carried into the new file, which the recorder reopens after the swap. A filesystem failure stops
// this run's recording and is reported once; training goes on in memory, and each later checkpoint
// tries again (at most once per the store's retry interval; other runs' writes are not held back):
// the log gets a rewind line to the last step it holds, so it stays consistent.
import { fstatSync, readSync } from 'node:fs'
import { join } from 'node:path'
import type { MetricsBatch } from '../metrics'
import type { SessionSpecOut } from '../setup'
import type { Trainer } from '../trainer'
import { appendAll, type FsOps } from './atomic'
import { captureCheckpoint } from './checkpoint'
import { BACKGROUND_BYTES, type CheckpointWrite } from './checkpoint-write'
import { checkpointsToPrune, DEFAULT_RETENTION, type Retention } from './retention'
import { discardRun } from './run-discard'
import { batchLine, rewindLine, statsOf, type MetricsHistory, type RunStats } from './metrics-log'
import { measureRun } from './run-size'
import { METRICS_FILE, type RunRecord, type RunStore } from './store'

export interface RecorderOptions {
  /** A checkpoint every this many steps. Default 250. */
  every?: number
  /** At most this many checkpoints are kept (step 0 and the latest always). Default 40. */
  keep?: number
  /** The newest checkpoints kept as they are; older ones are log-spaced (retention.ts). Default 5. */
  keepRecent?: number
  /** The metrics log is compacted to about half this when it grows past it. Default: the store's (64 MiB). */
  maxLogBytes?: number
  now?: () => Date
}

export class RunRecorder {
  private fd: number | null = null
  private logBytes = 0
  private failed = false
  /** The last step the log holds (for the rewind written when recording resumes). */
  private loggedStep = -1
  readonly every: number
  private readonly retention: Retention
  readonly maxLogBytes: number
  private readonly now: () => Date
  /** Step of the newest checkpoint on disk. */
  lastCheckpoint = -1
  /** A run made for a new session: closed before its first step, it is removed (run-discard.ts). */
  discardIfUntrained = false
  /** Times the log was compacted (for tests and diagnostics). */
  compactions = 0
  /** The compaction in progress (at most one). */
  private compaction: { done: Promise<void>; abort: AbortController } | null = null
  private readonly offSwap: () => void

  constructor(
    private readonly store: RunStore,
    public rec: RunRecord,
    /** Told once, with the store's message, when recording stops. */
    private readonly onFailure: (message: string) => void,
    options: RecorderOptions = {},
    /** Told when recording works again after a failure. */
    private readonly onRecovered: () => void = () => {},
  ) {
    this.every = options.every ?? 250
    this.retention = {
      recent: options.keepRecent ?? DEFAULT_RETENTION.recent,
      max: options.keep ?? DEFAULT_RETENTION.max,
    }
    this.maxLogBytes = options.maxLogBytes ?? store.maxLogBytes
    this.now = options.now ?? (() => new Date())
    this.lastCheckpoint = store.checkpoints.steps(rec.runId).at(-1) ?? -1
    this.loggedStep = rec.stats.steps
    // A compaction replaced the log (ours or a request's): the descriptor points at the old file.
    this.offSwap = store.onLogSwap(rec.runId, () => this.closeLog())
  }

  get runId(): string {
    return this.rec.runId
  }

  get stats(): RunStats {
    return this.rec.stats
  }

  get recording(): boolean {
    return !this.failed
  }

  private get ops(): FsOps {
    return this.store.ops
  }

  private get logPath(): string {
    return join(this.store.runDir(this.runId), METRICS_FILE)
  }

  private attempt(what: string, fn: () => void): boolean {
    if (this.failed) return false
    const ok = this.store.guard(what, fn, this.runId) !== null
    if (!ok) this.fail()
    return ok
  }

  private open(): number {
    if (this.fd === null) {
      const { fd, size } = openLog(this.logPath, this.ops)
      this.fd = fd
      this.logBytes = size
    }
    return this.fd
  }

  private log(text: string, lastStep?: number): void {
    this.attempt('append to the metrics log', () => {
      const fd = this.open()
      // Past the limit: compaction starts from what the log holds now; this line is carried over whole.
      if (this.compaction === null && this.logBytes > this.maxLogBytes) this.compact()
      appendAll(fd, text, this.ops)
      this.logBytes += Buffer.byteLength(text)
      if (lastStep !== undefined) this.loggedStep = lastStep
    })
  }

  /** Start rewriting the log as its decimated history (about half the limit); appends go on meanwhile. */
  private compact(): void {
    const abort = new AbortController()
    const done = this.store
      .compactLog(this.runId, Math.floor(this.maxLogBytes / 2), { signal: abort.signal })
      .then((r) => {
        if (r) {
          this.compactions++
          measureRun(this.store, this.runId)
        }
        // Not aborted and no result: it failed (the store has the message) or its retry was not due.
        else if (!abort.signal.aborted) this.fail()
      })
      .catch((e: unknown) => console.error(`run ${this.runId}: metrics log compaction failed:`, e))
      .finally(() => {
        if (this.compaction?.abort === abort) this.compaction = null
      })
    this.compaction = { done, abort }
  }

  /** Resolves when no compaction started by this recorder is in progress. */
  idle(): Promise<void> {
    return this.compaction?.done ?? Promise.resolve()
  }

  /** Stop a compaction in progress: the log stays as it is (closing, or the disk failed). */
  private stopCompaction(): void {
    this.compaction?.abort.abort()
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
    this.log(batchLine(b), b.steps.at(-1))
    this.store.touched(this.runId)
  }

  /** The run continues from `step`: later lines in the log no longer count. */
  rewind(step: number, stats: RunStats): void {
    this.rec.stats = { ...stats }
    this.log(rewindLine(step), step)
  }

  /** A branch starts with its parent's history up to the step it branched at. */
  seed(h: MetricsHistory): void {
    this.rec.stats = statsOf(h)
    if (h.steps.length === 0 && h.evals.length === 0) return
    this.log(
      batchLine({ sessionId: 's0', steps: h.steps, trainLoss: h.trainLoss, epoch: 0, evals: h.evals, layers: h.layers, stepsPerSecond: 0 }),
      h.steps.at(-1),
    )
  }

  /**
   * After a failure: try the disk again (no more often than the store's backoff). The log first
   * gets a rewind to the last step it holds, so whatever a failed append left is not counted.
   */
  private resume(): boolean {
    const ok = this.store.guard(
      'resume saving the run',
      () => {
        appendAll(this.open(), rewindLine(this.loggedStep), this.ops)
      },
      this.runId,
    )
    if (ok === null) {
      this.closeLog()
      return false
    }
    this.failed = false
    return true
  }

  /**
   * Save a checkpoint of the trainer as it is now (once per step), then thin old ones. A big one is
   * written beside the loop and returned: the weights must not change until it says `written`
   * (or the caller calls its finishNow); null when it was written at once, or not at all.
   */
  checkpoint(trainer: Trainer, spec: SessionSpecOut): CheckpointWrite | null {
    const wasFailed = this.failed
    if (this.failed && !this.resume()) return null
    if (trainer.stepCount === this.lastCheckpoint) return null
    const { parts, byteLength, meta } = captureCheckpoint(trainer, spec, this.now())
    // The log is flushed first, so a checkpoint never runs ahead of the metrics on disk.
    this.attempt('flush the metrics log', () => {
      if (this.fd !== null) this.ops.fsyncSync(this.fd)
    })
    if (this.failed) return this.fail()
    if (byteLength > BACKGROUND_BYTES) {
      const job = this.store.checkpoints.writeInBackground(this.runId, meta.step, parts, meta)
      this.lastCheckpoint = meta.step
      void job.done.then((ok) => (ok ? this.saved(wasFailed) : this.fail()))
      return job
    }
    if (!this.store.checkpoints.write(this.runId, meta.step, Buffer.concat(parts, byteLength), meta)) return this.fail()
    this.lastCheckpoint = meta.step
    this.saved(wasFailed)
    return null
  }

  /** A checkpoint counts: prune the old ones (retention.ts) and update run.json. */
  private saved(wasFailed: boolean): void {
    for (const step of checkpointsToPrune(this.store.checkpoints.steps(this.runId), this.retention))
      this.store.checkpoints.delete(this.runId, step)
    this.save()
    if (wasFailed && !this.failed) this.onRecovered()
  }

  /** A reset: history after step 0 goes; step 0's checkpoint stays until the next replaces it (a crash leaves a run that opens). */
  forgetAfterStart(): void {
    for (const s of this.store.checkpoints.steps(this.runId)) if (s > 0) this.store.checkpoints.delete(this.runId, s)
    this.lastCheckpoint = -1
  }

  save(status = this.rec.status): void {
    if (this.failed) return
    this.rec = { ...this.rec, status, updatedAt: this.now().toISOString() }
    if (!this.store.write(this.rec)) this.fail()
  }

  close(status: RunRecord['status']): void {
    this.stopCompaction()
    this.offSwap()
    this.closeLog()
    if (this.discardIfUntrained && this.rec.stats.steps === 0 && this.lastCheckpoint <= 0 && discardRun(this.store, this.runId)) return
    this.save(status)
  }

  private fail(): null {
    if (this.failed) return null
    this.failed = true
    this.stopCompaction()
    this.closeLog()
    this.onFailure(this.store.storage().message ?? 'runs cannot be saved; training continues in memory')
    return null
  }

  private closeLog(): void {
    if (this.fd === null) return
    try {
      this.ops.closeSync(this.fd)
    } catch {
      // Already unusable; nothing more will be written through it.
    }
    this.fd = null
  }
}

/** Open the log for appending; a torn last line (a crash mid-write) is ended so the next line stands alone. */
function openLog(path: string, ops: FsOps): { fd: number; size: number } {
  const fd = ops.openSync(path, 'a+')
  let size = fstatSync(fd).size
  if (size > 0) {
    const last = Buffer.alloc(1)
    readSync(fd, last, 0, 1, size - 1)
    if (last[0] !== 0x0a) {
      appendAll(fd, '\n', ops)
      size++
    }
  }
  return { fd, size }
}
