// session.update's live changes to the training settings: the optimiser's options on the model
// that trains and its mirror, the batch size (a fresh sampler), and the step's settings in the
// live spec, which the step reads anew every step. The payload is checked before anything changes.
import type { ParsedPayload } from '../../shared/protocol'
import { checkBlocks, patchOptimizerSpec, type SessionSpecOut } from '../setup'
import type { Trainer } from '../trainer'

/** A batch size the model's blocks can train with (BatchNorm needs two rows), or an invalid_payload error saying why. */
export function checkBatchSize(spec: SessionSpecOut, trainer: Trainer, batchSize: number): void {
  checkBlocks(trainer.model.sizes, spec.model, Math.min(batchSize, trainer.data.train.n))
}

/** Apply `p` to the live spec and trainer; `paced`: maxStepsPerSecond changed (pacing restarts). */
export function applyUpdate(spec: SessionSpecOut, trainer: Trainer, p: ParsedPayload<'session.update'>): { paced: boolean } {
  if (p.batchSize !== undefined) checkBatchSize(spec, trainer, p.batchSize)
  const optimizer = p.optimizer ? patchOptimizerSpec(spec.optimizer, p.optimizer) : spec.optimizer
  if (p.optimizer) {
    const patch = Object.fromEntries(Object.entries(p.optimizer).filter(([, v]) => v !== undefined))
    trainer.setOptimizerOptions(patch)
    spec.optimizer = optimizer
  }
  if (p.batchSize !== undefined && p.batchSize !== spec.train.batchSize) {
    spec.train.batchSize = p.batchSize
    trainer.setBatchSize(p.batchSize)
  }
  const t = spec.train
  if (p.evalEvery !== undefined) t.evalEvery = p.evalEvery
  if (p.schedule !== undefined) t.schedule = p.schedule
  if (p.l1 !== undefined) t.l1 = p.l1
  if (p.l2 !== undefined) t.l2 = p.l2
  if (p.clipNorm !== undefined) t.clipNorm = p.clipNorm
  if (p.stop !== undefined) t.stop = p.stop
  if (p.alarms !== undefined) t.alarms = p.alarms
  if (p.maxStepsPerSecond === undefined) return { paced: false }
  t.maxStepsPerSecond = p.maxStepsPerSecond
  return { paced: true }
}
