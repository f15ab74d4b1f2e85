// What the status line may claim about the figures it shows: each one carries the step it belongs
// to and whether it is a minibatch figure (the last step's batch, as the loss chart draws it) or an
// evaluation (whole train/test sets, only every evalEvery steps). An evaluation that the run has
// moved well past is stale: the line dims it and says how old it is, rather than let a figure from
// step 1000 sit beside a counter at 1800 as if it were current.
import type { LatestMetrics } from '../../stores/metrics-buffers'

/** An evaluation more than this many steps behind the current step reads as stale. */
export const STALE_AFTER_STEPS = 100

export interface BatchFigure {
  loss: number | null
  /** The step whose minibatch gave `loss` (null before the first step). */
  step: number | null
}

export interface EvalFigures {
  step: number
  /** Steps the run has taken since this evaluation. */
  age: number
  stale: boolean
  trainLoss: number | null
  testLoss: number | null
  trainAccuracy: number | null
  testAccuracy: number | null
}

export interface StatusFigures {
  batch: BatchFigure
  /** The latest evaluation, or null when there has been none. */
  evaluation: EvalFigures | null
}

export function statusFigures(latest: LatestMetrics, currentStep: number, staleAfter = STALE_AFTER_STEPS): StatusFigures {
  const batch: BatchFigure = { loss: latest.batchLoss, step: latest.batchLoss === null ? null : latest.step }
  if (latest.evalStep === null) return { batch, evaluation: null }
  const age = Math.max(0, currentStep - latest.evalStep)
  return {
    batch,
    evaluation: {
      step: latest.evalStep,
      age,
      stale: age > staleAfter,
      trainLoss: latest.trainLoss,
      testLoss: latest.testLoss,
      trainAccuracy: latest.trainAccuracy,
      testAccuracy: latest.testAccuracy,
    },
  }
}

/** The evaluation's tooltip: what it is and, when stale, how far behind. */
export function evalTitle(e: EvalFigures): string {
  const what = `Evaluated on the whole train and test sets at step ${e.step}`
  return e.stale ? `${what}, ${e.age} steps ago: the next evaluation will replace these figures` : what
}
