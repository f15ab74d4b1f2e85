// The residual histogram of a regression model (predicted − actual, in the target's units): equal
// bins over a range symmetric about zero, so a model that is biased shows it as a lopsided shape,
// and the mean and spread of the residuals beside it.

export interface ResidualBins {
  /** Bin centres and counts, `bins` of each; the range is [−edge, edge]. */
  centers: number[]
  counts: number[]
  edge: number
  mean: number
  std: number
  n: number
}

/** Residuals of the rows both arrays have, binned in `bins` equal bins over ±max|residual|. */
export function residualBins(actual: readonly number[], predicted: readonly number[], bins = 21): ResidualBins {
  const n = Math.min(actual.length, predicted.length)
  const r = Array.from({ length: n }, (_, i) => predicted[i]! - actual[i]!).filter(Number.isFinite)
  let edge = 0
  let sum = 0
  for (const v of r) {
    edge = Math.max(edge, Math.abs(v))
    sum += v
  }
  if (edge === 0) edge = 1 // every residual 0 (or none): a unit range around it
  const mean = r.length ? sum / r.length : 0
  const std = r.length ? Math.sqrt(r.reduce((s, v) => s + (v - mean) ** 2, 0) / r.length) : 0
  const width = (2 * edge) / bins
  const counts = new Array<number>(bins).fill(0)
  for (const v of r) counts[Math.min(bins - 1, Math.floor((v + edge) / width))]!++
  const centers = counts.map((_, k) => -edge + (k + 0.5) * width)
  return { centers, counts, edge, mean, std, n: r.length }
}
