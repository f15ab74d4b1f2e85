// Each layer's own gradient history, for the exploding alarm (train-guards.ts): what is "too
// big" for a layer is judged against what is usual for that layer, not against one number for
// every model, so a regression target in the hundreds or a wide layer whose gradients are
// naturally large trains without alarms, while a run that diverges (norms growing step after step)
// still trips them. The reference is the larger of the layer's median over its first steps and its
// median over the recent ones: a trained network's tiny gradients make the recent median small,
// and a minibatch that brings one back to early-training size is not an explosion.

/** Steps of history a layer needs before it is judged against itself (before that: the absolute bar). */
export const HISTORY_WARMUP = 10
/** How many recent norms the recent median is taken over. */
export const HISTORY_WINDOW = 50
/**
 * Steps in a row a layer must stay over its relative bar before it counts as exploding: a run
 * that diverges keeps growing, while one unlucky minibatch late in training (a classifier's
 * gradients are tiny until a batch brings a misclassified point) is over it for a step. A norm
 * over the bar by the factor again (factor² times its usual) counts at once: divergence that
 * fast overflows before a streak could show.
 */
export const EXPLODING_STREAK = 3

class LayerHistory {
  private readonly early: number[] = []
  private earlyMedian = 0
  private readonly recent = new Float64Array(HISTORY_WINDOW)
  private count = 0
  private readonly scratch = new Float64Array(HISTORY_WINDOW)

  push(norm: number): void {
    if (!Number.isFinite(norm)) return
    if (this.early.length < HISTORY_WARMUP) {
      this.early.push(norm)
      if (this.early.length === HISTORY_WARMUP) this.earlyMedian = median(Float64Array.from(this.early))
    }
    this.recent[this.count % HISTORY_WINDOW] = norm
    this.count++
  }

  /** The norm this layer's gradients usually have; null while it has fewer than HISTORY_WARMUP steps. */
  reference(): number | null {
    if (this.count < HISTORY_WARMUP) return null
    const n = Math.min(this.count, HISTORY_WINDOW)
    this.scratch.set(this.recent.subarray(0, n))
    return Math.max(this.earlyMedian, median(this.scratch.subarray(0, n)))
  }
}

/** Median of `v` (sorted in place; `v` is a scratch copy). */
function median(v: Float64Array): number {
  v.sort()
  const h = v.length >> 1
  return v.length % 2 ? v[h] : (v[h - 1] + v[h]) / 2
}

/** The history of every layer by name ('layers.2', 'norms.0'); reset with the run. */
export class GradHistory {
  private readonly layers = new Map<string, LayerHistory>()
  /** Steps in a row with some layer over its relative bar (the exploding alarm's persistence). */
  overStreak = 0

  /** Record one applied step's norms. */
  push(norms: readonly { name: string; norm: number }[]): void {
    for (const { name, norm } of norms) {
      let h = this.layers.get(name)
      if (!h) this.layers.set(name, (h = new LayerHistory()))
      h.push(norm)
    }
  }

  /** The layer's usual gradient norm, or null while its history is too short to judge by. */
  reference(name: string): number | null {
    return this.layers.get(name)?.reference() ?? null
  }

  clear(): void {
    this.layers.clear()
    this.overStreak = 0
  }
}
