// Learning-rate schedules as pure functions of the step, so a schedule changed mid-run applies from
// the current step and a resumed run needs no scheduler state. Formulas follow PyTorch's StepLR and
// CosineAnnealingLR (closed forms), preceded by an optional linear warmup.
import { EngineError } from '../errors.js'

export type Schedule =
  | { type: 'constant'; warmupSteps?: number }
  | { type: 'step'; stepSize: number; gamma: number; warmupSteps?: number }
  | { type: 'cosine'; periodSteps: number; minLr: number; warmupSteps?: number }

/**
 * The learning rate for the update that follows `t` completed steps (t = 0 for the first update).
 * Warmup: for t < W the rate is base·(t+1)/W, reaching base at the W-th update. After it, with
 * u = t − W: step → base·gamma^⌊u/stepSize⌋; cosine → minLr + (base − minLr)·(1 + cos(π·u/T))/2 for
 * u ≤ T = periodSteps, then minLr; constant → base. This is StepLR / CosineAnnealingLR with their
 * scheduler stepped once per update and started when warmup ends.
 */
export function scheduledLr(schedule: Schedule, base: number, t: number): number {
  if (!(Number.isInteger(t) && t >= 0)) throw new EngineError('scheduledLr', 'argument', `t must be a whole number of steps >= 0, got ${t}`)
  const w = schedule.warmupSteps ?? 0
  if (t < w) return (base * (t + 1)) / w
  const u = t - w
  switch (schedule.type) {
    case 'constant':
      return base
    case 'step':
      if (!(Number.isInteger(schedule.stepSize) && schedule.stepSize >= 1))
        throw new EngineError('scheduledLr', 'argument', `stepSize must be a whole number >= 1, got ${schedule.stepSize}`)
      return base * schedule.gamma ** Math.floor(u / schedule.stepSize)
    case 'cosine': {
      const T = schedule.periodSteps
      if (!(T >= 1)) throw new EngineError('scheduledLr', 'argument', `periodSteps must be >= 1, got ${T}`)
      if (u >= T) return schedule.minLr
      return schedule.minLr + ((base - schedule.minLr) * (1 + Math.cos((Math.PI * u) / T))) / 2
    }
  }
}
