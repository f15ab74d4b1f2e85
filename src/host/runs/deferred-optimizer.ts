// A reopened run's optimiser state, read only when it is needed. runs.open restores a checkpoint's
// weights at once and leaves its optimiser buffers in the file (checkpoint-read.ts): they are read
// before the session trains (session.start/step) or writes a checkpoint, and let go unread when
// the session is reset (a new optimiser) or disposed. Kept beside the trainer, not in it: the
// trainer's optimiser is simply the checkpoint's once the state is loaded.
import type { optim } from '../../engine'
import type { Trainer } from '../trainer'

export interface DeferredOptimizer {
  load(): optim.OptimizerStateDict
  release(): void
}

/** The deferred state of each trainer, and the optimiser it belongs to (a reset replaces that). */
const pending = new WeakMap<Trainer, { optimizer: Trainer['optimizer']; later: DeferredOptimizer }>()

/** `later` is the state of the trainer's current optimiser, to be read when needed. */
export function deferOptimizer(trainer: Trainer, later: DeferredOptimizer): void {
  releaseDeferredOptimizer(trainer)
  pending.set(trainer, { optimizer: trainer.optimizer, later })
}

/** Read a deferred state into the optimiser (and onto the device); kept pending when the read fails. */
export function loadDeferredOptimizer(trainer: Trainer): void {
  const p = pending.get(trainer)
  if (!p) return
  // A reset since: the state belongs to an optimiser that is gone.
  if (p.optimizer !== trainer.optimizer) return releaseDeferredOptimizer(trainer)
  trainer.optimizer.loadStateDict(p.later.load())
  pending.delete(trainer)
  trainer.device?.upload(trainer.model, trainer.optimizer)
}

/** Whether the trainer's optimiser state is still unread (for tests and diagnostics). */
export function optimizerDeferred(trainer: Trainer): boolean {
  const p = pending.get(trainer)
  return p !== undefined && p.optimizer === trainer.optimizer
}

/** Let go of a deferred state unread (the file it would be read from is closed). */
export function releaseDeferredOptimizer(trainer: Trainer): void {
  pending.get(trainer)?.later.release()
  pending.delete(trainer)
}
