// What a regression loss figure means, in words for the charts and the status line: losses are
// reported in the target's units even when the target trains standardised (the host multiplies by
// σ², which for Huber is the loss with δ = σ, one standard deviation of the target).
import type { RequestResult } from '../../../shared/protocol'

type SessionInfo = RequestResult<'session.create'>

/** The note for a regression session's losses; null for classification (or no session). */
export function lossUnitsNote(info: SessionInfo | null): string | null {
  if (!info || info.task !== 'regression') return null
  const d = info.spec.data
  const scaled = (d.source === 'csv' || d.source === 'bundled') && d.standardizeTarget
  if (info.loss === 'huber')
    return scaled
      ? "Huber loss in the target's units (δ = one standard deviation of the target; it trains standardised)"
      : "Huber loss (δ = 1) in the target's units"
  return scaled ? "MSE in the target's units² (the target trains standardised; reported × σ²)" : "MSE in the target's units²"
}
