// A session's checkpoint: written at once when small; a big one (runs/checkpoint-write.ts) is
// written beside the loop from the live weights, and the session's `saving` holds it meanwhile:
// the scheduler and the slice loop train no further until it is written, and whatever changes the
// weights outside training (reset, restore, an import) calls session.weightsChanging first.
import type { CheckpointWrite } from './runs/checkpoint-write'
import type { TrainingSession } from './session'

/** Save where `s` stands (pending metrics first, so the log is never behind a checkpoint). */
export function saveCheckpoint(s: TrainingSession): void {
  if (!s.recorder || s.status === 'error') return
  s.flush()
  if (!s.trainer.device?.stale) {
    void track(s, s.recorder.checkpoint(s.trainer, s.spec))
    return
  }
  // A device session between steps (a pause request): read the weights back after the running
  // slice; the queue waits for the write, so nothing refreshes the mirror under it.
  void s
    .queued(async () => {
      await s.trainer.syncMirror()
      if (s.recorder && s.status !== 'error') await track(s, s.recorder.checkpoint(s.trainer, s.spec))
    })
    .catch((e) =>
      s.storageFailed(`could not read the weights back from the GPU for a checkpoint: ${e instanceof Error ? e.message : String(e)}`),
    )
}

/** Training waits while a big checkpoint is written; resolves when it is. */
async function track(s: TrainingSession, job: CheckpointWrite | null): Promise<void> {
  if (!job) return
  s.saving = job
  await job.done
  if (s.saving === job) s.saving = null
}
