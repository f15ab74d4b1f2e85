// A saved run's metrics (runs.metrics) as one metrics batch, so a session opened from the run starts
// its charts with the history up to the step it was opened at (later steps belong to another time).
import type { EventPayload, RequestResult } from '../../shared/protocol'

type RunMetrics = RequestResult<'runs.metrics'>
type SessionState = RequestResult<'session.start'>

export function adoptedHistory(run: RunMetrics, state: SessionState): EventPayload<'train.metrics'> {
  const upTo = state.step
  const kept = run.steps.flatMap((s, i) => (s <= upTo ? [i] : []))
  // Only gradient norms were saved per layer; the other statistics are unknown for the history
  // (NaN, which the charts and the health strip show as "—", never as a misleading 0).
  const layers = run.gradNorms
    .filter((g) => g.step <= upTo)
    .map((g) => ({
      step: g.step,
      stats: g.norms.map((gradNorm) => ({
        gradNorm,
        meanAbsGrad: NaN,
        maxAbsGrad: NaN,
        weightNorm: NaN,
        updateRatio: NaN,
        deadFraction: null,
        saturatedFraction: null,
      })),
    }))
  return {
    sessionId: state.sessionId,
    steps: kept.map((i) => run.steps[i]!),
    trainLoss: kept.map((i) => run.trainLoss[i]!),
    epoch: state.epoch,
    evals: run.evals.filter((e) => e.step <= upTo),
    layers,
    stepsPerSecond: 0,
    // The saved log has no learning rate per step; the first live batch brings it.
    lr: NaN,
  }
}
