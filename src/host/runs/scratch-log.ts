// The metrics of a session that is not (yet) a run: kept in memory, in the order they were sent,
// so runs.save can write a whole history when the user decides to keep it (compare-live variants
// start this way). Bounded: past its byte limit the oldest batches go, and the save says from which
// step the saved log starts.
import type { MetricsBatch } from '../metrics'

/** What a scratch log may hold by default (about a million steps of loss, or 16 MiB of stats). */
export const SCRATCH_LOG_BYTES = 16 * 1024 * 1024

/** An estimate of what a batch costs in memory: 8 bytes a number, a little for each object. */
export function batchBytes(b: MetricsBatch): number {
  const statsPerSample = b.layers[0]?.stats.length ?? 0
  return 128 + 16 * b.steps.length + 48 * b.evals.length + b.layers.length * (16 + 64 * statsPerSample)
}

export class ScratchLog {
  private kept: MetricsBatch[] = []
  private bytes = 0
  /** The last step of the newest batch that was dropped for room (-1: none was). */
  droppedThrough = -1

  constructor(readonly maxBytes = SCRATCH_LOG_BYTES) {}

  /** Same name as RunRecorder's, so a session hands its batches to whichever it has. */
  appendMetrics(b: MetricsBatch): void {
    this.kept.push(b)
    this.bytes += batchBytes(b)
    while (this.bytes > this.maxBytes && this.kept.length > 1) {
      const old = this.kept.shift()!
      this.bytes -= batchBytes(old)
      this.droppedThrough = Math.max(this.droppedThrough, old.steps.at(-1) ?? -1, ...old.evals.map((e) => e.step))
    }
  }

  /** The session was reset: its history starts again. */
  clear(): void {
    this.kept = []
    this.bytes = 0
    this.droppedThrough = -1
  }

  get batches(): readonly MetricsBatch[] {
    return this.kept
  }

  get size(): number {
    return this.bytes
  }
}
