// The health strip's judgements, as rules a tooltip can state: the update-to-weight ratio (how far
// one step moves the weights, healthy near 1e-3, per Karpathy's rule of thumb), and the ratio of a
// layer's gradient norm to the next layer's (≪ 1 down the stack is a vanishing gradient).

export type HealthLevel = 'ok' | 'warn' | 'bad' | 'none'

export const UPDATE_RATIO_RULE =
  'update/weight = lr·‖g‖/‖w‖, healthy near 1e-3. Amber below 1e-4 or above 1e-2; red below 1e-5 or above 1e-1.'

export const GRAD_RATIO_RULE =
  '‖g‖ of this layer ÷ ‖g‖ of the next layer (towards the output). Near 1 is healthy; amber below 0.1 or above 10, red below 0.01 or above 100 (vanishing or exploding down the stack).'

/** How healthy an update-to-weight ratio is (see UPDATE_RATIO_RULE). */
export function updateRatioLevel(ratio: number | null): HealthLevel {
  if (ratio === null || !Number.isFinite(ratio)) return 'none'
  if (ratio < 1e-5 || ratio > 1e-1) return 'bad'
  if (ratio < 1e-4 || ratio > 1e-2) return 'warn'
  return 'ok'
}

/** Each layer's gradient norm divided by the next layer's; null for the last layer or a zero norm. */
export function adjacentGradRatios(norms: readonly (number | null)[]): (number | null)[] {
  return norms.map((n, i) => {
    const next = norms[i + 1]
    if (n === null || next === null || next === undefined || !(next > 0) || !Number.isFinite(n)) return null
    return n / next
  })
}

/** How healthy an adjacent-layer gradient ratio is (see GRAD_RATIO_RULE). */
export function gradRatioLevel(ratio: number | null): HealthLevel {
  if (ratio === null || !Number.isFinite(ratio)) return 'none'
  if (ratio < 0.01 || ratio > 100) return 'bad'
  if (ratio < 0.1 || ratio > 10) return 'warn'
  return 'ok'
}

/** A fraction as a percentage for a table cell; null (not applicable) as an em dash. */
export function percentCell(fraction: number | null | undefined): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return '—'
  return `${(fraction * 100).toFixed(fraction < 0.1 && fraction > 0 ? 1 : 0)}%`
}

/** A magnitude in compact scientific form (3.2e-4), or — when there is none. */
export function sciCell(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—'
  if (value === 0) return '0'
  const abs = Math.abs(value)
  return abs >= 0.01 && abs < 1000 ? value.toPrecision(3) : value.toExponential(1)
}
