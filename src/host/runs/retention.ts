// Which checkpoints a run keeps. A big model's checkpoint is large (16×1024 with Adam: ~120 MB), so
// a run keeps step 0 (the untrained weights), its newest `recent` checkpoints (where time travel
// mostly goes), and of the older ones about one per doubling of distance from the newest
// (log-spaced: 1–2, 2–4, 4–8 … checkpoint intervals back), so the whole run stays reachable at a cost that
// grows with the log of its length. `max` caps the total whatever the run's length.

import { checkpointsToThin } from './checkpoint'

export interface Retention {
  /** The newest checkpoints kept as they are. */
  recent: number
  /** At most this many in all (step 0 and the newest always). */
  max: number
}

export const DEFAULT_RETENTION: Retention = { recent: 5, max: 40 }

/** Steps to delete from `steps` under `r`; never step 0 or the newest. */
export function checkpointsToPrune(steps: readonly number[], r: Retention = DEFAULT_RETENTION): number[] {
  const sorted = [...new Set(steps)].sort((a, b) => a - b)
  if (sorted.length <= 2) return []
  const newest = sorted.length - 1
  const keep = new Set<number>([sorted[0]!, sorted[newest]!])
  for (let i = Math.max(1, newest - Math.max(0, r.recent) + 1); i <= newest; i++) keep.add(sorted[i]!)
  // Older ones: the oldest of each band [2^b, 2^(b+1)) checkpoint intervals back from the newest,
  // measured in steps (the interval is the newest gap), so a kept one stays kept as the run grows
  // until a still older one shares its band.
  const unit = Math.max(1, sorted[newest]! - sorted[newest - 1]!)
  const band = new Map<number, number>()
  for (let i = 1; i < newest; i++) {
    const b = Math.floor(Math.log2(Math.max(1, (sorted[newest]! - sorted[i]!) / unit)))
    if (!band.has(b)) band.set(b, sorted[i]!)
  }
  for (const s of band.values()) keep.add(s)
  // Over the cap: the kept ones closest to their predecessor go first (the spread stays even).
  const kept = sorted.filter((s) => keep.has(s))
  const capped = new Set(checkpointsToThin(kept, Math.max(2, r.max)))
  return sorted.filter((s) => !keep.has(s) || capped.has(s))
}
